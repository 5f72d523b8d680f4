//! How long the default gradient check takes: `cargo run --release -p rnnzoo-layers --example
//! gradcheck_timing`. An example, not a test, because a benchmark is never a timed test; TESTING.md
//! records a run.

use std::time::Instant;

use rnnzoo_cell::gradcheck::Options;
use rnnzoo_cell::seeded;
use rnnzoo_cell::strategies::UnrollCase;
use rnnzoo_layers::gradcheck::{check_unrolled, check_unrolled_with};
use rnnzoo_lstm::LstmCell;

fn case(input: usize, hidden: usize, steps: usize, batch: usize) -> UnrollCase {
    UnrollCase {
        input,
        hidden,
        batch,
        steps,
        lengths: None,
        reverse: false,
        initial_state: true,
        seed: 5,
    }
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

fn main() {
    let (i, h) = (8, 16);
    let c = case(i, h, 50, 2);
    let start = Instant::now();
    let r = pool(1).install(|| {
        check_unrolled(
            LstmCell::<f64>::new(i, h, &mut seeded(5)).unwrap(),
            &c,
            &Options::default(),
        )
    });
    let r = r.unwrap();
    assert!(r.passed(), "{r}");
    println!(
        "LSTM I={i} H={h} T=50 B=2, every element ({}), 1 thread: {:.1} s",
        r.checked(),
        start.elapsed().as_secs_f64()
    );
    let start = Instant::now();
    let r = pool(2)
        .install(|| {
            check_unrolled_with(
                move || LstmCell::<f64>::new(i, h, &mut seeded(5)).unwrap(),
                &c,
                &Options::default(),
            )
        })
        .unwrap();
    assert!(r.passed(), "{r}");
    println!(
        "  the same on 2 threads (forks): {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let (i, h) = (64, 64);
    let c = case(i, h, 50, 1);
    let every = Options {
        max_elements: usize::MAX,
        ..Options::default()
    };
    for threads in [1, 2] {
        let start = Instant::now();
        let r = pool(threads)
            .install(|| {
                check_unrolled_with(
                    move || LstmCell::<f64>::new(i, h, &mut seeded(5)).unwrap(),
                    &c,
                    &every,
                )
            })
            .unwrap();
        assert!(r.passed(), "{r}");
        println!(
            "LSTM I={i} H={h} T=50 B=1, every element ({} values), {threads} thread(s): {:.1} s",
            r.checked(),
            start.elapsed().as_secs_f64()
        );
    }
    let start = Instant::now();
    let r = pool(2)
        .install(|| {
            check_unrolled_with(
                move || LstmCell::<f64>::new(i, h, &mut seeded(5)).unwrap(),
                &c,
                &Options::default(),
            )
        })
        .unwrap();
    assert!(r.passed(), "{r}");
    println!(
        "LSTM I={i} H={h} T=50 B=1, default (weights along 32 directions each, the rest every element: {} values), 2 threads: {:.1} s\n{r}",
        r.checked(),
        start.elapsed().as_secs_f64()
    );
}
