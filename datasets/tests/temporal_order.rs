//! Temporal order (Hochreiter & Schmidhuber 1997, task 6a/6b).

use rnnzoo_datasets::{DatasetError, SeqBatch, Targets, Task, TemporalOrder as T, rng};

fn final_classes(batch: &SeqBatch) -> &[usize] {
    match &batch.targets {
        Targets::FinalClasses { classes, .. } => classes,
        other => panic!("expected one class per sample, got {other:?}"),
    }
}

/// Symbol ids of sample `b` over its valid steps; padding must be all zeros.
fn ids(batch: &SeqBatch, b: usize) -> Vec<usize> {
    let len = batch.length(b).unwrap();
    for t in len..batch.steps {
        assert!(batch.input(t, b).unwrap().iter().all(|&v| v == 0.0));
    }
    (0..len)
        .map(|t| {
            let x = batch.input(t, b).unwrap();
            assert_eq!(x.iter().sum::<f64>(), 1.0);
            x.iter().position(|&v| v == 1.0).unwrap()
        })
        .collect()
}

fn check_task(task: &T, seed: u64) {
    let batch = task.sample_seeded(300, seed).unwrap();
    batch.validate().unwrap();
    let lengths = batch.lengths.clone().unwrap();
    assert_eq!(batch.steps, *lengths.iter().max().unwrap());
    let classes = final_classes(&batch);
    for (b, &expected_class) in classes.iter().enumerate() {
        let s = ids(&batch, b);
        assert!(task.lengths().contains(&s.len()));
        assert_eq!(s[0], T::START);
        assert_eq!(*s.last().unwrap(), T::TRIGGER);
        let relevant: Vec<usize> = (0..s.len())
            .filter(|&i| s[i] == T::X || s[i] == T::Y)
            .collect();
        assert_eq!(relevant.len(), task.windows().len());
        let mut class = 0;
        for (i, w) in relevant.iter().zip(task.windows()) {
            assert!(
                w.contains(&(i + 1)),
                "1-based position {} outside {w:?}",
                i + 1
            );
            class = 2 * class + usize::from(s[*i] == T::Y);
        }
        for (i, &id) in s.iter().enumerate().take(s.len() - 1).skip(1) {
            if !relevant.contains(&i) {
                assert!(T::DISTRACTORS.contains(&id));
            }
        }
        assert_eq!(expected_class, class);
    }
}

#[test]
fn task_6a_follows_the_paper() {
    let task = T::task_6a();
    assert_eq!(task.windows(), &[10..=20, 50..=60]);
    check_task(&task, 1);
}

#[test]
fn task_6b_has_three_symbols_and_eight_classes() {
    let task = T::task_6b();
    assert_eq!(task.num_classes(), 8);
    check_task(&task, 2);
}

#[test]
fn classes_follow_the_order_rule() {
    // XX -> Q (0), XY -> R (1), YX -> S (2), YY -> U (3).
    let task = T::task_6a();
    let seq = |a, b| vec![T::START, 2, a, 3, b, T::TRIGGER];
    assert_eq!(task.class_of(&seq(T::X, T::X)), Some(0));
    assert_eq!(task.class_of(&seq(T::X, T::Y)), Some(1));
    assert_eq!(task.class_of(&seq(T::Y, T::X)), Some(2));
    assert_eq!(task.class_of(&seq(T::Y, T::Y)), Some(3));
}

#[test]
fn classes_lengths_and_positions_are_balanced() {
    let task = T::task_6a();
    let mut r = rng(7);
    let mut class_counts = [0usize; 4];
    let mut length_counts = [0usize; 11];
    for _ in 0..4400 {
        let (s, class) = task.sample_ids(&mut r);
        class_counts[class] += 1;
        length_counts[s.len() - 100] += 1;
    }
    for c in class_counts {
        assert!((1000..1200).contains(&c), "{class_counts:?}");
    }
    for c in length_counts {
        assert!((320..480).contains(&c), "{length_counts:?}");
    }
    assert_eq!(task.baseline_loss(), Some(4f64.ln()));
}

#[test]
fn custom_windows_are_validated() {
    let bad = |lengths, windows: &[std::ops::RangeInclusive<usize>]| {
        assert!(
            matches!(
                T::new(lengths, windows),
                Err(DatasetError::InvalidParameter { .. })
            ),
            "{windows:?}"
        );
    };
    bad(100..=110, &[]);
    bad(100..=110, &[1..=5]); // position 1 is E
    bad(100..=110, &[10..=20, 20..=30]); // overlap
    bad(100..=110, &[50..=60, 10..=20]); // out of order
    bad(100..=110, &[90..=100]); // reaches the trigger of the shortest sequence
    let (long, short) = (110, 100);
    bad(long..=short, &[10..=20]); // empty range of lengths
    let ok = T::new(30..=30, &[2..=2, 29..=29]).unwrap();
    check_task(&ok, 3);
    assert_eq!(
        T::task_6a().sample_seeded(0, 0),
        Err(DatasetError::ZeroBatch)
    );
}

#[test]
fn deterministic_under_a_seed() {
    let task = T::task_6a();
    assert_eq!(task.sample_seeded(5, 1), task.sample_seeded(5, 1));
    assert_ne!(task.sample_seeded(5, 1), task.sample_seeded(5, 2));
}
