//! The shared batch type, the layout convention and padding.

use rnnzoo_datasets::rand::Rng;
use rnnzoo_datasets::{
    AddingProblem, CopyMemory, DatasetError, Reber, SeqBatch, Targets, Task, TemporalOrder,
    pad_sequences, rng, time_major_index,
};

#[test]
fn index_is_pytorch_time_major() {
    // A contiguous (T, B, F) tensor has strides (B * F, F, 1).
    let (batch, features) = (5, 3);
    for t in 0..4 {
        for b in 0..batch {
            for f in 0..features {
                assert_eq!(
                    time_major_index(t, b, f, batch, features),
                    t * batch * features + b * features + f
                );
            }
        }
    }
}

#[test]
fn padding_matches_a_direct_construction() {
    let mut r = rng(0);
    let features = 3;
    let seqs: Vec<Vec<f64>> = (0..7)
        .map(|_| {
            let len = r.random_range(1..10);
            (0..len * features)
                .map(|_| r.random_range(1.0..2.0))
                .collect()
        })
        .collect();
    let p = pad_sequences(&seqs, features).unwrap();
    let lengths: Vec<usize> = seqs.iter().map(|s| s.len() / features).collect();
    assert_eq!(p.lengths, lengths);
    assert_eq!(p.steps, *lengths.iter().max().unwrap());
    assert_eq!((p.batch, p.features), (7, 3));
    assert_eq!(p.values.len(), p.steps * 7 * 3);
    for (b, s) in seqs.iter().enumerate() {
        for t in 0..p.steps {
            for f in 0..features {
                let v = p.values[time_major_index(t, b, f, 7, features)];
                if t < lengths[b] {
                    assert_eq!(v, s[t * features + f]);
                } else {
                    assert_eq!(v, 0.0, "padding at t={t}, b={b}");
                }
            }
        }
    }
    // Slices work as well as vectors, and lengths need no sorting.
    let p = pad_sequences(&[&[1.0f32][..], &[2.0, 3.0, 4.0][..], &[5.0, 6.0][..]], 1).unwrap();
    assert_eq!(p.lengths, vec![1, 3, 2]);
    assert_eq!(p.values, vec![1.0, 2.0, 5.0, 0.0, 3.0, 6.0, 0.0, 4.0, 0.0]);
}

#[test]
fn padding_errors() {
    let empty: Vec<Vec<f64>> = vec![];
    assert_eq!(pad_sequences(&empty, 2), Err(DatasetError::ZeroBatch));
    assert!(matches!(
        pad_sequences(&[vec![1.0; 4], vec![1.0; 5]], 2),
        Err(DatasetError::FeatureMismatch {
            index: 1,
            len: 5,
            features: 2
        })
    ));
    assert_eq!(
        pad_sequences(&[vec![1.0; 4], vec![]], 2),
        Err(DatasetError::EmptySequence { index: 1 })
    );
}

#[test]
fn every_task_produces_valid_batches() {
    let batches = [
        AddingProblem::new(7).unwrap().sample_seeded(3, 0).unwrap(),
        CopyMemory::new(4).unwrap().sample_seeded(3, 0).unwrap(),
        TemporalOrder::task_6a().sample_seeded(3, 0).unwrap(),
        Reber::embedded().sample_seeded(3, 0).unwrap(),
    ];
    for b in &batches {
        b.validate().unwrap();
        let f32s: SeqBatch<f32> = b.cast();
        f32s.validate().unwrap();
        assert_eq!(f32s.lengths, b.lengths);
        assert_eq!(f32s.cast::<f64>().targets.width(), b.targets.width());
        let mask = b.mask();
        assert_eq!(mask.len(), b.steps * b.batch);
        let valid = mask.iter().filter(|&&m| m == 1.0).count();
        assert_eq!(valid, b.lengths_or_full().iter().sum::<usize>());
    }
}

#[test]
fn validate_rejects_inconsistent_batches() {
    let good = AddingProblem::new(4).unwrap().sample_seeded(2, 0).unwrap();
    let mut b = good.clone();
    b.lengths = Some(vec![4]);
    assert!(b.validate().is_err());
    let mut b = good.clone();
    b.lengths = Some(vec![4, 5]);
    assert!(b.validate().is_err());
    let mut b = good.clone();
    b.lengths = Some(vec![4, 0]);
    assert!(b.validate().is_err());
    let mut b = good.clone();
    b.targets = Targets::FinalValues {
        values: vec![1.0],
        outputs: 1,
    };
    assert!(b.validate().is_err());
    let mut b = good.clone();
    b.targets = Targets::StepClasses {
        classes: vec![0; 8],
        num_classes: 1,
    };
    assert!(b.validate().is_ok());
    b.targets = Targets::StepClasses {
        classes: vec![1; 8],
        num_classes: 1,
    };
    assert!(b.validate().is_err());
    let mut b = good;
    b.batch = 0;
    assert_eq!(b.validate(), Err(rnnzoo_datasets::BatchError::EmptyBatch));
    assert_eq!(b.input(0, 0), None);
}
