//! Criterion benchmarks of one cell step, forward and backward, and of the vectorised gate
//! activations.
//!
//! `cargo bench -p rnnzoo-criterion --bench cells` (a couple of minutes). Filter with criterion's
//! usual argument, e.g. `cargo bench -p rnnzoo-criterion --bench cells -- lstm/forward`.
//!
//! - One group per kind of the registry (`rnnzoo::zoo::entries`, default options; the name with
//!   `_` for `-`: `rnn_tanh`, `lstm`, `gru_reset_before`, ...): `CellExt::step_forward` and
//!   `CellExt::step_backward` in `f32`, at `(input, hidden, batch)` in [`SIZES`], every buffer
//!   allocated before timing (the step itself allocates nothing; it checks the buffers' sizes,
//!   a few comparisons). A gated cell's step includes its
//!   two GEMMs; the unroller hoists the input GEMM over all steps, so a step here costs more than
//!   a step inside a sequence.
//! - Groups `pointwise` (`f32`) and `pointwise_f64`: `out = f(a + b)` over 64k values, rnnzoo's
//!   slice activations ([`rnnzoo::cell::activation`]) against a plain loop over the scalar std
//!   functions (`tanh`, the `exp`-based [`Real::sigmoid`]).

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use rand::Rng;
use rnnzoo::cell::activation::{sigmoid_of_sum, tanh_of_sum};
use rnnzoo::cell::{CellExt, Real, StepBackward, StepForward, seeded};
use rnnzoo::zoo::{self, Options};

/// `(input, hidden, batch)`: small, batch-1 (a matrix-vector step) and large.
const SIZES: [(usize, usize, usize); 3] = [(32, 32, 8), (128, 128, 1), (256, 256, 64)];

/// Elements of the pointwise benchmarks.
const POINTWISE_LEN: usize = 1 << 16;

fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(20);
}

fn uniform(n: usize, scale: f32, rng: &mut impl Rng) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-scale..scale)).collect()
}

fn bench_cells(c: &mut Criterion) {
    for (k, entry) in zoo::entries().iter().enumerate() {
        let mut group = c.benchmark_group(entry.name.replace('-', "_"));
        configure(&mut group);
        for (ni, nh, nb) in SIZES {
            let cell = entry
                .build::<f32, _>(ni, nh, &Options::default(), &mut seeded(1 + k as u64))
                .expect("the registry builds every kind at these sizes");
            let cell = cell.as_ref();
            let (s, k) = (cell.state_size(), cell.cache_size());
            let mut rng = seeded(10);
            let x = uniform(ni * nb, 1.0, &mut rng);
            let prev = uniform(s * nb, 0.5, &mut rng);
            let d_next = uniform(s * nb, 1.0, &mut rng);
            let mut next = vec![0.0; s * nb];
            let mut cache = vec![0.0; k * nb];
            let mut scratch = vec![0.0; cell.step_scratch_size(nb)];
            let mut d_x = vec![0.0; ni * nb];
            let mut d_prev = vec![0.0; s * nb];
            let mut grads = cell.params().zeros_like();
            let id = format!("I{ni}_H{nh}_B{nb}");

            let mut forward = |x: &[f32], prev: &[f32]| {
                cell.step_forward(StepForward {
                    x,
                    prev,
                    next: &mut next,
                    cache: &mut cache,
                    batch: nb,
                    scratch: &mut scratch,
                })
                .expect("buffers sized for the cell");
            };
            group.bench_function(BenchmarkId::new("forward", &id), |bench| {
                bench.iter(|| forward(black_box(&x), black_box(&prev)))
            });

            // Backward from the cache of a real forward step.
            forward(&x, &prev);
            group.bench_function(BenchmarkId::new("backward", &id), |bench| {
                bench.iter(|| {
                    let step = StepBackward {
                        x: black_box(&x),
                        prev: black_box(&prev),
                        cache: black_box(&cache),
                        d_next: black_box(&d_next),
                        d_x: &mut d_x,
                        d_prev: &mut d_prev,
                        batch: nb,
                        scratch: &mut scratch,
                    };
                    cell.step_backward(step, &mut grads)
                        .expect("buffers sized for the cell");
                    black_box(&d_prev);
                })
            });
        }
        group.finish();
    }
}

fn bench_pointwise(c: &mut Criterion) {
    pointwise::<f32>(c, "pointwise");
    pointwise::<f64>(c, "pointwise_f64");
}

/// `out = f(a + b)` in `T`, rnnzoo's slice functions against the scalar std loop.
fn pointwise<T: Real>(c: &mut Criterion, name: &str) {
    let mut group = c.benchmark_group(name);
    configure(&mut group);
    group.throughput(Throughput::Elements(POINTWISE_LEN as u64));
    let mut rng = seeded(20);
    // Gate pre-activations of a typical spread, both signs, both branches of every kernel.
    let widen = |v: Vec<f32>| -> Vec<T> {
        v.into_iter()
            .map(|x| T::from_f64_lossy(f64::from(x)))
            .collect()
    };
    let a = widen(uniform(POINTWISE_LEN, 6.0, &mut rng));
    let b = widen(uniform(POINTWISE_LEN, 2.0, &mut rng));
    let mut out = vec![T::zero(); POINTWISE_LEN];

    group.bench_function("sigmoid/rnnzoo", |bench| {
        bench.iter(|| sigmoid_of_sum(black_box(&a), black_box(&b), &mut out))
    });
    group.bench_function("sigmoid/scalar_std", |bench| {
        bench.iter(|| {
            for ((o, &a), &b) in out.iter_mut().zip(black_box(&a)).zip(black_box(&b)) {
                *o = (a + b).sigmoid();
            }
        })
    });
    group.bench_function("tanh/rnnzoo", |bench| {
        bench.iter(|| tanh_of_sum(black_box(&a), black_box(&b), &mut out))
    });
    group.bench_function("tanh/scalar_std", |bench| {
        bench.iter(|| {
            for ((o, &a), &b) in out.iter_mut().zip(black_box(&a)).zip(black_box(&b)) {
                *o = (a + b).tanh();
            }
        })
    });
    group.finish();
    black_box(&out);
}

criterion_group!(benches, bench_pointwise, bench_cells);
criterion_main!(benches);
