//! Copy memory: layout of inputs and targets, the memoryless baseline, determinism.

use rnnzoo_datasets::{CopyMemory, DatasetError, SeqBatch, Targets, Task};

fn classes(batch: &SeqBatch) -> &[usize] {
    match &batch.targets {
        Targets::StepClasses { classes, .. } => classes,
        other => panic!("expected per-step classes, got {other:?}"),
    }
}

/// The input id of each step of sample `b`, checking each step is exactly one-hot.
fn input_ids(batch: &SeqBatch, b: usize) -> Vec<usize> {
    (0..batch.steps)
        .map(|t| {
            let x = batch.input(t, b).unwrap();
            assert_eq!(x.iter().sum::<f64>(), 1.0);
            x.iter().position(|&v| v == 1.0).unwrap()
        })
        .collect()
}

#[test]
fn layout_matches_arjovsky() {
    for delay in [1, 2, 10, 100] {
        let task = CopyMemory::new(delay).unwrap();
        let batch = task.sample_seeded(16, delay as u64).unwrap();
        batch.validate().unwrap();
        assert_eq!(batch.steps, delay + 20);
        assert_eq!(batch.features, 10);
        assert!(matches!(
            batch.targets,
            Targets::StepClasses { num_classes: 9, .. }
        ));
        let y = classes(&batch);
        for b in 0..batch.batch {
            let ids = input_ids(&batch, b);
            let symbols = &ids[..10];
            assert!(symbols.iter().all(|s| (1..=8).contains(s)), "{symbols:?}");
            // T - 1 blanks, the delimiter in the T-th slot of the delay, then 10 blanks.
            assert!(ids[10..delay + 9].iter().all(|&s| s == CopyMemory::BLANK));
            assert_eq!(ids[delay + 9], 9, "delimiter");
            assert!(ids[delay + 10..].iter().all(|&s| s == CopyMemory::BLANK));
            let target: Vec<usize> = (0..batch.steps).map(|t| y[t * batch.batch + b]).collect();
            assert!(target[..delay + 10].iter().all(|&c| c == CopyMemory::BLANK));
            assert_eq!(&target[delay + 10..], symbols);
        }
    }
}

#[test]
fn symbols_are_uniform_over_the_alphabet() {
    let batch = CopyMemory::new(5).unwrap().sample_seeded(800, 1).unwrap();
    let mut counts = [0usize; 10];
    for b in 0..batch.batch {
        for &id in &input_ids(&batch, b)[..10] {
            counts[id] += 1;
        }
    }
    // 8000 symbols over 8 ids: 1000 each, give or take.
    for (id, &count) in counts.iter().enumerate().skip(1).take(8) {
        assert!((880..1120).contains(&count), "symbol {id}: {count}");
    }
}

#[test]
fn baseline_is_10_ln8_over_t_plus_20() {
    let task = CopyMemory::new(100).unwrap();
    assert!((task.baseline_cross_entropy() - 0.173_286_795_139_986_3).abs() < 1e-12);
    assert_eq!(task.baseline_loss(), Some(task.baseline_cross_entropy()));
    // The memoryless strategy on a real batch: blank with certainty for T + 10 steps, then a
    // uniform guess over the 8 symbols.
    let batch = task.sample_seeded(32, 2).unwrap();
    let y = classes(&batch);
    let mut loss = 0.0;
    for t in 0..batch.steps {
        for b in 0..batch.batch {
            let p = if t < 110 {
                if y[t * 32 + b] == 0 { 1.0 } else { 0.0 }
            } else if y[t * 32 + b] == 0 {
                0.0
            } else {
                1.0 / 8.0
            };
            loss -= f64::ln(p);
        }
    }
    let mean = loss / (batch.steps * batch.batch) as f64;
    assert!(
        (mean - task.baseline_cross_entropy()).abs() < 1e-12,
        "{mean}"
    );
    let custom = CopyMemory::with_sizes(30, 5, 4).unwrap();
    assert!((custom.baseline_cross_entropy() - 5.0 * 4f64.ln() / 40.0).abs() < 1e-15);
}

#[test]
fn bad_parameters_are_errors() {
    assert!(matches!(
        CopyMemory::new(0),
        Err(DatasetError::TooShort { .. })
    ));
    assert!(CopyMemory::with_sizes(5, 0, 8).is_err());
    assert!(CopyMemory::with_sizes(5, 10, 0).is_err());
    assert_eq!(
        CopyMemory::new(5).unwrap().sample_seeded(0, 1),
        Err(DatasetError::ZeroBatch)
    );
}

#[test]
fn deterministic_under_a_seed() {
    let task = CopyMemory::new(20).unwrap();
    assert_eq!(task.sample_seeded(4, 9), task.sample_seeded(4, 9));
    assert_ne!(task.sample_seeded(4, 9), task.sample_seeded(4, 10));
}
