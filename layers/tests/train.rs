//! Training: a model learns, resumes bit for bit from a checkpoint, stops on NaN with the step
//! named, and runs truncated BPTT over a stream.

mod common;

use common::any_cell;
use rnnzoo_cell::{seeded, Cell};
use rnnzoo_layers::checkpoint::{load_training, load_weights, training_bytes, weights_bytes};
use rnnzoo_layers::file::{FileError, Tensors};
use rnnzoo_layers::head::{Activation, Dense};
use rnnzoo_layers::optim::{Adam, Sgd};
use rnnzoo_layers::train::{Batch, Targets, TrainConfig, TrainError, Trainer};
use rnnzoo_layers::{Layer, Model, Readout, Recurrent, Stack};
use rnnzoo_lstm::LstmCell;

/// Recall: the target at the last step is the first input of the sequence (a memory task a
/// memoryless model cannot solve: its MSE stays near the variance, 1/12 for U[-0.5, 0.5]).
fn recall_batch(seed: u64, t: usize, b: usize) -> Batch<f32> {
    use rand::Rng;
    let mut rng = seeded(seed);
    let x: Vec<f32> = (0..t * b).map(|_| rng.random::<f32>() - 0.5).collect();
    Batch {
        x: x.clone(),
        steps: t,
        batch: b,
        lengths: None,
        targets: Targets::Values(x[..b].to_vec()),
    }
}

fn lstm_model(seed: u64) -> Model<f32> {
    let body = Stack::new(vec![Box::new(Recurrent::new(
        LstmCell::new(1, 16, &mut seeded(seed)).unwrap(),
    )) as Box<dyn Layer<f32>>])
    .unwrap();
    Model::new(
        body,
        Dense::new(16, 1, Activation::Identity, &mut seeded(seed + 1)).unwrap(),
        Readout::LastStep,
    )
    .unwrap()
}

#[test]
fn an_lstm_learns_to_recall_the_first_input() {
    let mut trainer = Trainer::new(
        lstm_model(0),
        Box::new(Adam::new(0.01)),
        TrainConfig::default(),
    );
    let test = recall_batch(999, 8, 256);
    let before = trainer.evaluate(&test).unwrap();
    for step in 0..300 {
        trainer.step(&recall_batch(step, 8, 32)).unwrap();
    }
    let after = trainer.evaluate(&test).unwrap();
    // Variance of the target is 1/12 = 0.083; the bound is a tenth of it.
    assert!(before > 0.05, "before training: {before}");
    assert!(
        after < 0.0083,
        "after 300 steps the test MSE is {after} (before: {before})"
    );
}

/// Two layers with dropout between them, so resuming must restore the random source too.
fn deep_model(seed: u64) -> Model<f32> {
    let layers: Vec<Box<dyn Layer<f32>>> = vec![
        Box::new(Recurrent::new(any_cell::<f32>(2, 1, 8, seed))),
        Box::new(Recurrent::new(any_cell::<f32>(3, 8, 8, seed + 1))),
    ];
    let body = Stack::new(layers).unwrap().with_dropout(0.3).unwrap();
    Model::new(
        body,
        Dense::new(8, 1, Activation::Identity, &mut seeded(seed + 2)).unwrap(),
        Readout::LastStep,
    )
    .unwrap()
}

fn weights(m: &Model<f32>) -> Vec<u32> {
    m.param_groups()
        .iter()
        .flat_map(|g| {
            g.params
                .iter()
                .flat_map(|p| p.data().iter().map(|v| v.to_bits()))
        })
        .collect()
}

#[test]
fn resume_equals_an_uninterrupted_run_bit_for_bit() {
    let config = TrainConfig {
        clip_norm: Some(1.0),
        seed: 42,
        ..TrainConfig::default()
    };
    let (n, m) = (7, 5);
    let mut straight = Trainer::new(
        deep_model(3),
        Box::new(Adam::new(0.01).weight_decay(1e-4)),
        config.clone(),
    );
    let mut losses = Vec::new();
    for s in 0..n + m {
        losses.push(
            straight
                .step(&recall_batch(s as u64, 6, 8))
                .unwrap()
                .loss
                .to_bits(),
        );
    }

    let mut first = Trainer::new(
        deep_model(3),
        Box::new(Adam::new(0.01).weight_decay(1e-4)),
        config,
    );
    for s in 0..n {
        first.step(&recall_batch(s as u64, 6, 8)).unwrap();
    }
    let bytes = training_bytes(&first, serde_json::json!({"next_batch": n})).unwrap();
    drop(first);
    // A fresh model of the same architecture, different initial weights: all must come from the file.
    let (mut resumed, extra) = load_training(deep_model(1000), &bytes).unwrap();
    assert_eq!(extra["next_batch"], n);
    assert_eq!(resumed.steps(), n as u64);
    let mut resumed_losses = Vec::new();
    for s in n..n + m {
        resumed_losses.push(
            resumed
                .step(&recall_batch(s as u64, 6, 8))
                .unwrap()
                .loss
                .to_bits(),
        );
    }
    assert_eq!(resumed_losses, losses[n..]);
    assert_eq!(weights(resumed.model()), weights(straight.model()));
}

#[test]
fn weights_round_trip_exactly_and_damage_is_refused() {
    let model = deep_model(5);
    let bytes = weights_bytes(&model).unwrap();
    let mut other = deep_model(6);
    assert_ne!(weights(&other), weights(&model));
    load_weights(&mut other, &Tensors::parse(&bytes, false).unwrap()).unwrap();
    assert_eq!(weights(&other), weights(&model));
    let names: Vec<String> = Tensors::parse(&bytes, false)
        .unwrap()
        .tensors
        .keys()
        .cloned()
        .collect();
    assert!(
        names.contains(&"weight_hh_l1".to_string()) && names.contains(&"head.weight".to_string()),
        "{names:?}"
    );

    let mut t = Tensors::parse(&bytes, false).unwrap();
    t.tensors.remove("bias_ih_l1");
    assert!(
        matches!(load_weights(&mut other, &t), Err(FileError::Missing { name }) if name == "bias_ih_l1")
    );
    let mut t = Tensors::parse(&bytes, false).unwrap();
    t.tensors.get_mut("head.weight").unwrap().shape = vec![8, 1];
    assert!(matches!(
        load_weights(&mut other, &t),
        Err(FileError::Shape { .. })
    ));

    let trainer = Trainer::new(
        deep_model(5),
        Box::new(Sgd::new(0.1).momentum(0.9)),
        TrainConfig::default(),
    );
    let state = training_bytes(&trainer, serde_json::Value::Null).unwrap();
    for cut in [0, 7, 100, state.len() - 1] {
        assert!(
            load_training(deep_model(5), &state[..cut]).is_err(),
            "cut at {cut}"
        );
    }
    // A weights file is not a training checkpoint.
    assert!(matches!(
        load_training(deep_model(5), &bytes),
        Err(FileError::Metadata(_))
    ));
    // Another architecture does not load.
    assert!(load_training(lstm_model(0), &state).is_err());
}

#[test]
fn a_nan_loss_stops_training_with_the_step_named() {
    let mut trainer = Trainer::new(
        lstm_model(0),
        Box::new(Sgd::new(0.1)),
        TrainConfig::default(),
    );
    trainer.step(&recall_batch(0, 5, 4)).unwrap();
    // A NaN target makes the loss NaN (a NaN input is refused before it runs, see unroll_errors).
    let mut bad = recall_batch(1, 5, 4);
    bad.targets = Targets::Values(vec![0.0, f32::NAN, 0.0, 0.0]);
    match trainer.step(&bad) {
        Err(TrainError::NonFinite { step, what, .. }) => assert_eq!((step, what), (2, "loss")),
        other => panic!("{other:?}"),
    }
    let before = weights(trainer.model());
    let mut skipping = Trainer::new(
        lstm_model(0),
        Box::new(Sgd::new(0.1)),
        TrainConfig {
            skip_nonfinite: true,
            ..TrainConfig::default()
        },
    );
    let w0 = weights(skipping.model());
    let s = skipping.step(&bad).unwrap();
    assert!(s.skipped && s.step == 1);
    assert_eq!(
        weights(skipping.model()),
        w0,
        "a skipped batch changes nothing"
    );
    assert_eq!(weights(trainer.model()), before);
}

#[test]
fn exploding_gradients_stay_finite_under_clipping() {
    // A relu RNN with a large recurrent scale explodes; clipping keeps every update finite.
    let mut cell = any_cell::<f32>(1, 1, 16, 0);
    for p in cell.params_mut().iter_mut() {
        if p.name() == "weight_hh" {
            p.data_mut().iter_mut().for_each(|v| *v *= 12.0);
        }
    }
    let body = Stack::new(vec![Box::new(Recurrent::new(cell)) as Box<dyn Layer<f32>>]).unwrap();
    let model = Model::new(
        body,
        Dense::new(16, 1, Activation::Identity, &mut seeded(1)).unwrap(),
        Readout::LastStep,
    )
    .unwrap();
    let config = TrainConfig {
        clip_norm: Some(1.0),
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(model, Box::new(Sgd::new(0.01)), config);
    let mut saw_large = false;
    for s in 0..20 {
        let stats = trainer.step(&recall_batch(s, 12, 8)).unwrap();
        saw_large |= stats.grad_norm > 10.0;
        assert!(weights(trainer.model())
            .iter()
            .all(|&b| f32::from_bits(b).is_finite()));
    }
    assert!(
        saw_large,
        "the setting did not explode; the test proves nothing"
    );
}

#[test]
fn truncated_bptt_carries_state_and_cuts_the_gradient() {
    // A character-level style stream: predict the next value of a sine at every step.
    let (t, b) = (40, 3);
    let x: Vec<f32> = (0..t * b)
        .map(|k| ((k / b) as f32 * 0.3 + (k % b) as f32).sin())
        .collect();
    let mut y = x[b..].to_vec();
    y.extend_from_slice(&x[..b]);
    let stream = Batch {
        x,
        steps: t,
        batch: b,
        lengths: None,
        targets: Targets::Values(y),
    };
    let every_step = |seed| {
        let body = Stack::new(vec![
            Box::new(Recurrent::new(any_cell::<f32>(3, 1, 8, seed))) as Box<dyn Layer<f32>>,
        ])
        .unwrap();
        Model::new(
            body,
            Dense::new(8, 1, Activation::Identity, &mut seeded(seed + 1)).unwrap(),
            Readout::EveryStep,
        )
        .unwrap()
    };
    let mut trainer = Trainer::new(
        every_step(0),
        Box::new(Adam::new(0.01)),
        TrainConfig::default(),
    );
    let stats = trainer.train_stream(&stream, 15).unwrap();
    assert_eq!(stats.len(), 3); // 15 + 15 + 10 steps
    assert_eq!(trainer.steps(), 3);
    let first: f64 = stats[0].loss;
    for _ in 0..30 {
        trainer.train_stream(&stream, 15).unwrap();
    }
    assert!(trainer.evaluate(&stream).unwrap() < first / 4.0);
    // k = T is one ordinary update.
    let mut whole = Trainer::new(
        every_step(0),
        Box::new(Adam::new(0.01)),
        TrainConfig::default(),
    );
    let mut single = Trainer::new(
        every_step(0),
        Box::new(Adam::new(0.01)),
        TrainConfig::default(),
    );
    assert_eq!(
        whole.train_stream(&stream, t).unwrap()[0],
        single.step(&stream).unwrap()
    );
    assert!(matches!(
        single.train_stream(&stream, 0),
        Err(TrainError::Invalid(_))
    ));
}

#[test]
fn metrics_are_written_as_json_lines() {
    let dir = std::env::temp_dir().join(format!("rnnzoo-metrics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("metrics.jsonl");
    let _ = std::fs::remove_file(&path);
    let mut trainer = Trainer::new(
        lstm_model(0),
        Box::new(Adam::new(0.01)),
        TrainConfig::default(),
    );
    trainer.log_metrics_to(&path);
    let eval = recall_batch(77, 5, 8);
    let history = trainer
        .fit(
            2,
            |e, _| {
                vec![
                    recall_batch(e as u64, 5, 8),
                    recall_batch(10 + e as u64, 5, 8),
                ]
            },
            Some(&eval),
            false,
        )
        .unwrap();
    assert_eq!(history.len(), 2);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2 * 2 + 2);
    assert_eq!(lines[0]["kind"], "step");
    assert_eq!(lines[2]["kind"], "epoch");
    assert!(lines[5]["eval_loss"].as_f64().unwrap().is_finite());
    std::fs::remove_dir_all(&dir).unwrap();
}
