//! Training: a model learns, resumes bit for bit from a checkpoint, stops on NaN with the step
//! named, and runs truncated BPTT over a stream.

use rnnzoo_cell::{Cell, seeded};
use rnnzoo_gru::{GruCell, GruResetBeforeCell};
use rnnzoo_layers::checkpoint::{load_training, load_weights, training_bytes, weights_bytes};
use rnnzoo_layers::file::{FileError, Tensors};
use rnnzoo_layers::head::{Activation, Dense};
use rnnzoo_layers::loss::mse;
use rnnzoo_layers::optim::{Adam, OptimError, Sgd};
use rnnzoo_layers::train::{Batch, Targets, TrainConfig, TrainError, Trainer};
use rnnzoo_layers::{Inputs, Layer, LayerError, Model, Readout, Recurrent, Stack};
use rnnzoo_lstm::LstmCell;
use rnnzoo_vanilla::{Nonlinearity, VanillaCell};

/// Recall: the target at the last step is the first input of the sequence (a memory task a
/// memoryless model cannot solve: its MSE stays near the variance, 1/12 for U[-0.5, 0.5]).
fn recall_batch(seed: u64, t: usize, b: usize) -> Batch<f32> {
    use rand::Rng;
    let mut rng = seeded(seed);
    let x: Vec<f32> = (0..t * b).map(|_| rng.random::<f32>() - 0.5).collect();
    Batch {
        inputs: x.clone(),
        features: 1,
        steps: t,
        batch: b,
        lengths: None,
        targets: Targets::FinalValues {
            values: x[..b].to_vec(),
            outputs: 1,
        },
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
        Box::new(Recurrent::new(
            LstmCell::new(1, 8, &mut seeded(seed)).unwrap(),
        )),
        Box::new(Recurrent::new(
            GruCell::new(8, 8, &mut seeded(seed + 1)).unwrap(),
        )),
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
    // `save_weights` writes those bytes to a file, which reads back as the same model.
    let path = std::env::temp_dir().join(format!(
        "rnnzoo-save-weights-{}.safetensors",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    rnnzoo_layers::checkpoint::save_weights(&model, &path).unwrap();
    let mut from_file = deep_model(8);
    load_weights(&mut from_file, &Tensors::read(&path, false).unwrap()).unwrap();
    assert_eq!(weights(&from_file), weights(&model));
    let _ = std::fs::remove_file(&path);
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
    // All or nothing: the head comes last, and the body before it is left as it was.
    let mut fresh = deep_model(7);
    let before = weights(&fresh);
    assert!(matches!(
        load_weights(&mut fresh, &t),
        Err(FileError::Shape { name, .. }) if name == "head.weight"
    ));
    assert_eq!(weights(&fresh), before, "a failed load wrote values");
    let mut t = Tensors::parse(&bytes, false).unwrap();
    let extra = t.tensors["bias_hh_l0"].clone();
    t.tensors.insert("zzz_extra".into(), extra);
    assert!(matches!(
        load_weights(&mut fresh, &t),
        Err(FileError::Unexpected { name }) if name == "zzz_extra"
    ));
    assert_eq!(weights(&fresh), before, "a failed load wrote values");

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
    bad.targets = Targets::FinalValues {
        values: vec![0.0, f32::NAN, 0.0, 0.0],
        outputs: 1,
    };
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
    let mut cell = VanillaCell::<f32>::new(1, 16, Nonlinearity::Relu, &mut seeded(0)).unwrap();
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
        assert!(
            weights(trainer.model())
                .iter()
                .all(|&b| f32::from_bits(b).is_finite())
        );
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
        inputs: x,
        features: 1,
        steps: t,
        batch: b,
        lengths: None,
        targets: Targets::StepValues {
            values: y,
            outputs: 1,
        },
    };
    let every_step = |seed| {
        let body = Stack::new(vec![Box::new(Recurrent::new(
            GruCell::new(1, 8, &mut seeded(seed)).unwrap(),
        )) as Box<dyn Layer<f32>>])
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

    // Frozen weights (learning rate 0): each chunk's loss must be the loss of those steps in one
    // forward pass over the whole stream, which carries the state through by itself. Dropping the
    // carry restarts chunks 2 and 3 from a zero state and changes their losses.
    let mut frozen = Trainer::new(
        every_step(5),
        Box::new(Sgd::new(0.0)),
        TrainConfig::default(),
    );
    let stats = frozen.train_stream(&stream, 15).unwrap();
    let whole = frozen.model().predict(Inputs::from(&stream)).unwrap();
    let Targets::StepValues { values: y, .. } = &stream.targets else {
        unreachable!()
    };
    for (i, t0) in [0, 15, 30].into_iter().enumerate() {
        let t1 = (t0 + 15).min(t);
        let want = mse(
            &whole.predictions[t0 * b..t1 * b],
            &y[t0 * b..t1 * b],
            1,
            None,
        )
        .unwrap()
        .value;
        assert!(
            (stats[i].loss - want).abs() <= 1e-6 * want,
            "chunk {i}: loss {} but the carried stream gives {want}",
            stats[i].loss
        );
    }
    // The gradient is cut at the boundary: chunk 2's gradient is that of its own steps from the
    // carried state taken as a constant.
    let first = Batch {
        inputs: stream.inputs[..15 * b].to_vec(),
        features: 1,
        steps: 15,
        batch: b,
        lengths: None,
        targets: Targets::StepValues {
            values: y[..15 * b].to_vec(),
            outputs: 1,
        },
    };
    let head = frozen.model().predict(Inputs::from(&first)).unwrap();
    let chunk = Batch {
        inputs: stream.inputs[15 * b..30 * b].to_vec(),
        features: 1,
        steps: 15,
        batch: b,
        lengths: None,
        targets: Targets::StepValues {
            values: y[15 * b..30 * b].to_vec(),
            outputs: 1,
        },
    };
    let mut alone = Trainer::new(
        every_step(5),
        Box::new(Sgd::new(0.0)),
        TrainConfig::default(),
    );
    let (s, _) = alone
        .step_with_state(&chunk, Some(&head.final_state))
        .unwrap();
    assert!(
        (s.grad_norm - stats[1].grad_norm).abs() <= 1e-5 * s.grad_norm,
        "{} vs {}",
        s.grad_norm,
        stats[1].grad_norm
    );
    assert!((s.loss - stats[1].loss).abs() <= 1e-6 * s.loss);
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

/// A one-layer GRU-family model: PyTorch's GRU, or (`reset_before`) the reset-before GRU, with the
/// same parameter names and shapes.
fn gru_model(reset_before: bool, seed: u64) -> Model<f32> {
    let rng = &mut seeded(seed);
    let cell: Box<dyn Cell<f32>> = if reset_before {
        Box::new(GruResetBeforeCell::new(2, 5, rng).unwrap())
    } else {
        Box::new(GruCell::new(2, 5, rng).unwrap())
    };
    let layers: Vec<Box<dyn Layer<f32>>> = vec![Box::new(Recurrent::new(cell))];
    Model::new(
        Stack::new(layers).unwrap(),
        Dense::new(5, 1, Activation::Identity, &mut seeded(seed + 1)).unwrap(),
        Readout::LastStep,
    )
    .unwrap()
}

#[test]
fn weights_of_another_cell_kind_are_refused_and_nothing_is_written() {
    let gru = gru_model(false, 0);
    let mut reset_before = gru_model(true, 1);
    let shapes = |m: &Model<f32>| -> Vec<(String, Vec<usize>)> {
        m.param_groups()
            .iter()
            .flat_map(|g| {
                g.params
                    .iter()
                    .map(|p| (p.name().to_string(), p.shape().to_vec()))
            })
            .collect()
    };
    assert_eq!(
        shapes(&gru),
        shapes(&reset_before),
        "the test needs equal layouts"
    );
    let before = weights(&reset_before);
    let file = Tensors::parse(&weights_bytes(&gru).unwrap(), false).unwrap();
    match load_weights(&mut reset_before, &file) {
        Err(FileError::Modes { expected, got }) => assert_ne!(expected, got),
        other => panic!("a GRU file loaded into a reset-before GRU model: {other:?}"),
    }
    assert_eq!(weights(&reset_before), before);
    // The same kind loads; a file without the record (a PyTorch state_dict) is checked by names
    // and shapes only.
    let mut same = gru_model(false, 2);
    load_weights(&mut same, &file).unwrap();
    assert_eq!(weights(&same), weights(&gru));
    let mut bare = file.clone();
    bare.metadata.clear();
    load_weights(&mut reset_before, &bare).unwrap();
    assert_eq!(weights(&reset_before), weights(&gru));
    // A training checkpoint records the cells too.
    let trainer = Trainer::new(
        gru_model(false, 0),
        Box::new(Sgd::new(0.1)),
        TrainConfig::default(),
    );
    let state = training_bytes(&trainer, serde_json::Value::Null).unwrap();
    assert!(matches!(
        load_training(gru_model(true, 0), &state),
        Err(FileError::Modes { .. })
    ));
    assert!(load_training(gru_model(false, 5), &state).is_ok());
}

#[test]
fn a_negative_or_nan_clip_is_an_error_in_training_and_in_a_checkpoint() {
    for (norm, value) in [
        (Some(-1.0), None),
        (Some(f64::NAN), None),
        (None, Some(-0.5)),
    ] {
        let config = TrainConfig {
            clip_norm: norm,
            clip_value: value,
            ..TrainConfig::default()
        };
        let mut trainer = Trainer::new(lstm_model(0), Box::new(Sgd::new(0.1)), config.clone());
        let before = weights(trainer.model());
        let what = if norm.is_some() {
            "clip_norm"
        } else {
            "clip_value"
        };
        match trainer.step(&recall_batch(0, 4, 2)) {
            Err(TrainError::Optim(OptimError::Clip { what: w, .. })) => assert_eq!(w, what),
            other => panic!("{config:?}: {other:?}"),
        }
        assert_eq!(trainer.steps(), 0);
        assert_eq!(weights(trainer.model()), before);
        // Written into a checkpoint's JSON (NaN is written as null, which is no clipping), the
        // bound is refused when read back.
        let state = training_bytes(&trainer, serde_json::Value::Null).unwrap();
        let loaded = load_training(lstm_model(0), &state);
        if norm.is_some_and(f64::is_nan) {
            assert!(loaded.is_ok());
        } else {
            assert!(
                matches!(loaded, Err(FileError::Optim(OptimError::Clip { what: w, .. })) if w == what),
                "{config:?}"
            );
        }
    }
}

#[test]
fn train_stream_refuses_targets_shorter_than_the_stream_before_any_update() {
    let (t, b) = (12, 2);
    let every_step = Model::new(
        Stack::new(vec![Box::new(Recurrent::new(
            VanillaCell::new(1, 4, Nonlinearity::Tanh, &mut seeded(0)).unwrap(),
        )) as Box<dyn Layer<f32>>])
        .unwrap(),
        Dense::new(4, 1, Activation::Identity, &mut seeded(1)).unwrap(),
        Readout::EveryStep,
    )
    .unwrap();
    let mut trainer = Trainer::new(every_step, Box::new(Sgd::new(0.1)), TrainConfig::default());
    let before = weights(trainer.model());
    let short = Batch {
        inputs: vec![0.1; t * b],
        features: 1,
        steps: t,
        batch: b,
        lengths: None,
        targets: Targets::StepValues {
            values: vec![0.0; (t - 5) * b],
            outputs: 1,
        },
    };
    match trainer.train_stream(&short, 4) {
        Err(TrainError::Layer(LayerError::Size { expected, got, .. })) => {
            assert_eq!((expected, got), (t * b, (t - 5) * b))
        }
        other => panic!("{other:?}"),
    }
    let classes = Batch {
        targets: Targets::StepClasses {
            classes: vec![0; t * b + 1],
            num_classes: 1,
        },
        ..short
    };
    assert!(matches!(
        trainer.train_stream(&classes, 4),
        Err(TrainError::Layer(LayerError::Size { .. }))
    ));
    assert_eq!(trainer.steps(), 0);
    assert_eq!(weights(trainer.model()), before);
}

#[test]
fn targets_pick_the_loss_and_must_fit_the_readout() {
    // Per-step targets for a model that reads the last step are refused, before any update.
    let mut last = Trainer::new(
        lstm_model(0),
        Box::new(Sgd::new(0.1)),
        TrainConfig::default(),
    );
    let mut per_step = recall_batch(0, 4, 2);
    per_step.targets = Targets::StepValues {
        values: vec![0.0; 4 * 2],
        outputs: 1,
    };
    assert!(matches!(
        last.step(&per_step),
        Err(TrainError::Layer(LayerError::TargetsKind {
            targets: "per-step",
            ..
        }))
    ));
    assert_eq!(last.steps(), 0);
    // Multi-hot targets (a set of allowed next symbols per step) train with binary cross-entropy
    // on the head's logits, masked by the lengths.
    let (t, b, c) = (5, 3, 4);
    let model = Model::new(
        Stack::new(vec![
            Box::new(Recurrent::new(GruCell::new(c, 8, &mut seeded(1)).unwrap()))
                as Box<dyn Layer<f32>>,
        ])
        .unwrap(),
        Dense::new(8, c, Activation::Identity, &mut seeded(2)).unwrap(),
        Readout::EveryStep,
    )
    .unwrap();
    let values: Vec<f32> = (0..c * t * b)
        .map(|k| ((k * 7) % 3 == 0) as u8 as f32)
        .collect();
    let batch = Batch {
        inputs: (0..c * t * b).map(|k| ((k % 5) as f32) / 5.0).collect(),
        features: c,
        steps: t,
        batch: b,
        lengths: Some(vec![5, 2, 4]),
        targets: Targets::StepMultiHot {
            values: values.clone(),
            num_classes: c,
        },
    };
    let mut trainer = Trainer::new(model, Box::new(Adam::new(0.05)), TrainConfig::default());
    let p = trainer.model().predict(Inputs::from(&batch)).unwrap();
    let mask = rnnzoo_layers::readout::step_mask(t, b, batch.lengths.as_deref()).unwrap();
    let want = rnnzoo_layers::loss::binary_cross_entropy(&p.predictions, &values, c, Some(&mask))
        .unwrap()
        .value;
    let first = trainer.step(&batch).unwrap().loss;
    assert_eq!(first, want);
    for _ in 0..60 {
        trainer.step(&batch).unwrap();
    }
    assert!(trainer.evaluate(&batch).unwrap() < first / 2.0);
}

/// A tanh cell that keeps its recurrent weights in `[-0.01, 0.01]` (as IndRNN bounds its own).
struct Bounded(VanillaCell<f32>);

impl Cell<f32> for Bounded {
    fn input_size(&self) -> usize {
        self.0.input_size()
    }
    fn hidden_size(&self) -> usize {
        self.0.hidden_size()
    }
    fn cache_size(&self) -> usize {
        self.0.cache_size()
    }
    fn mode(&self) -> &str {
        "BOUNDED"
    }
    fn params(&self) -> &rnnzoo_cell::Params<f32> {
        self.0.params()
    }
    fn params_mut(&mut self) -> &mut rnnzoo_cell::Params<f32> {
        self.0.params_mut()
    }
    fn form(&self) -> rnnzoo_cell::StepForm<'_, f32> {
        self.0.form()
    }
    fn constrain(&mut self) {
        let w = self.0.params_mut().get_mut("weight_hh").unwrap();
        w.data_mut()
            .iter_mut()
            .for_each(|v| *v = v.clamp(-0.01, 0.01));
    }
}

/// The trainer puts every cell of a deep bidirectional body back into its constraint set after
/// each update, and only after the update (the initial weights are left as they are).
#[test]
fn the_trainer_constrains_every_cell_after_each_update() {
    use rnnzoo_layers::Bidirectional;
    let cell =
        |i, seed| Bounded(VanillaCell::new(i, 6, Nonlinearity::Tanh, &mut seeded(seed)).unwrap());
    let layers: Vec<Box<dyn Layer<f32>>> = vec![
        Box::new(
            Bidirectional::new(
                Recurrent::new(cell(1, 1)),
                Recurrent::new(cell(1, 2)),
                rnnzoo_layers::Merge::Concat,
            )
            .unwrap(),
        ),
        Box::new(Recurrent::new(cell(12, 3))),
    ];
    let body = Stack::new(layers).unwrap();
    let model = Model::new(
        body,
        Dense::new(6, 1, Activation::Identity, &mut seeded(4)).unwrap(),
        Readout::LastStep,
    )
    .unwrap();
    let outside = |m: &Model<f32>| {
        m.param_groups()
            .iter()
            .filter(|g| g.mode == "BOUNDED")
            .flat_map(|g| g.params.get("weight_hh").unwrap().data().to_vec())
            .filter(|v| v.abs() > 0.01)
            .count()
    };
    assert!(
        outside(&model) > 0,
        "the initial weights already lie inside the bound"
    );
    let mut trainer = Trainer::new(model, Box::new(Sgd::new(10.0)), TrainConfig::default());
    trainer.step(&recall_batch(0, 5, 4)).unwrap();
    assert_eq!(outside(trainer.model()), 0);
    assert_eq!(
        trainer
            .model()
            .param_groups()
            .iter()
            .filter(|g| g.mode == "BOUNDED")
            .count(),
        3
    );
}
