//! The adding problem: marker placement, the target formula, the 1/6 baseline, determinism.

use rnnzoo_datasets::{
    ADDING_BASELINE_MSE, AddingProblem, DatasetError, Targets, Task, rng, time_major_index,
};

fn values(targets: &Targets) -> &[f64] {
    match targets {
        Targets::FinalValues { values, outputs: 1 } => values,
        other => panic!("expected one final value per sample, got {other:?}"),
    }
}

#[test]
fn markers_are_two_one_per_half_and_target_is_their_sum() {
    for steps in [2, 3, 10, 51] {
        let task = AddingProblem::new(steps).unwrap();
        let batch = task.sample_seeded(200, steps as u64).unwrap();
        batch.validate().unwrap();
        assert_eq!((batch.features, batch.steps, batch.batch), (2, steps, 200));
        assert_eq!(batch.lengths, None);
        let targets = values(&batch.targets);
        let half = steps / 2;
        assert_eq!(targets.len(), batch.batch);
        for (b, &target) in targets.iter().enumerate() {
            let at = |t, f| batch.inputs[time_major_index(t, b, f, batch.batch, 2)];
            let marked: Vec<usize> = (0..steps).filter(|&t| at(t, 1) != 0.0).collect();
            assert_eq!(marked.len(), 2, "sample {b}: markers at {marked:?}");
            assert!(
                marked[0] < half && marked[1] >= half,
                "{marked:?}, half {half}"
            );
            assert!((0..steps).all(|t| at(t, 1) == 0.0 || at(t, 1) == 1.0));
            assert!((0..steps).all(|t| (0.0..1.0).contains(&at(t, 0))));
            let sum = at(marked[0], 0) + at(marked[1], 0);
            assert_eq!(target, sum);
        }
    }
}

#[test]
fn marker_positions_cover_each_half() {
    let steps = 20;
    let batch = AddingProblem::new(steps)
        .unwrap()
        .sample_seeded(2000, 5)
        .unwrap();
    let mut seen = vec![0usize; steps];
    for b in 0..batch.batch {
        for (t, count) in seen.iter_mut().enumerate() {
            if batch.inputs[time_major_index(t, b, 1, batch.batch, 2)] == 1.0 {
                *count += 1;
            }
        }
    }
    // Uniform within each half: every position of a half gets about 2000 / 10 = 200 markers.
    for (t, &count) in seen.iter().enumerate() {
        assert!((130..270).contains(&count), "position {t}: {count} markers");
    }
    assert_eq!(seen[..10].iter().sum::<usize>(), 2000);
    assert_eq!(seen[10..].iter().sum::<usize>(), 2000);
}

#[test]
fn predicting_one_scores_one_sixth() {
    let task = AddingProblem::new(10).unwrap();
    let batch = task.sample_seeded(40_000, 11).unwrap();
    let targets = values(&batch.targets);
    let n = targets.len() as f64;
    let mse = targets.iter().map(|y| (y - 1.0).powi(2)).sum::<f64>() / n;
    let mean = targets.iter().sum::<f64>() / n;
    // Standard error of the MSE estimate is about 0.197 / sqrt(40000) = 0.001.
    assert!((mse - 1.0 / 6.0).abs() < 0.005, "mse {mse}");
    assert!((mean - 1.0).abs() < 0.01, "mean {mean}");
    assert_eq!(ADDING_BASELINE_MSE, 1.0 / 6.0);
    assert_eq!(AddingProblem::baseline_mse(), ADDING_BASELINE_MSE);
    assert_eq!(task.baseline_loss(), Some(ADDING_BASELINE_MSE));
}

#[test]
fn bad_parameters_are_errors() {
    for steps in [0, 1] {
        assert!(matches!(
            AddingProblem::new(steps),
            Err(DatasetError::TooShort { needed: 2, .. })
        ));
    }
    let task = AddingProblem::new(5).unwrap();
    assert_eq!(task.sample_seeded(0, 0), Err(DatasetError::ZeroBatch));
}

#[test]
fn deterministic_under_a_seed() {
    let task = AddingProblem::new(30).unwrap();
    assert_eq!(task.sample_seeded(8, 3), task.sample_seeded(8, 3));
    assert_ne!(task.sample_seeded(8, 3), task.sample_seeded(8, 4));
    // A long-lived generator continues its stream.
    let mut r = rng(3);
    let first = task.sample(8, &mut r).unwrap();
    assert_eq!(first, task.sample_seeded(8, 3).unwrap());
    assert_ne!(task.sample(8, &mut r).unwrap(), first);
}

#[test]
fn f32_copy_matches() {
    let b = AddingProblem::new(12).unwrap().sample_seeded(4, 0).unwrap();
    let f = b.to_f32();
    assert_eq!(f.inputs.len(), b.inputs.len());
    for (x32, x64) in f.inputs.iter().zip(&b.inputs) {
        assert_eq!(*x32, *x64 as f32);
    }
    let (Targets::FinalValues { values: v32, .. }, Targets::FinalValues { values: v64, .. }) =
        (&f.targets, &b.targets)
    else {
        panic!("target kind changed")
    };
    assert_eq!(v32[3], v64[3] as f32);
}
