//! Random malformed calls through the public API: each returns the typed error of its mistake,
//! none panics.

mod common;

use common::any_cell;
use proptest::prelude::*;
use rnnzoo_cell::{seeded, Cell, CellError};
use rnnzoo_layers::file::{FileError, Tensors};
use rnnzoo_layers::head::{Activation, Dense};
use rnnzoo_layers::loss::{cross_entropy, mse};
use rnnzoo_layers::optim::Adam;
use rnnzoo_layers::train::{Batch, Targets, TrainConfig, TrainError, Trainer};
use rnnzoo_layers::{
    Bidirectional, Inputs, Layer, LayerError, Merge, Model, Readout, Recurrent, Stack,
};

/// One way to get a call wrong.
#[derive(Debug, Clone)]
enum Mistake {
    /// Input values off by `delta` from `I * T * B`.
    Width(isize),
    /// Sample `b`'s length set to `T + extra` (extra >= 1).
    TooLong(usize, usize),
    /// Sample `b`'s length set to 0.
    ZeroLength(usize),
    /// One length too many or too few.
    LengthCount(bool),
    /// A batch of zero.
    EmptyBatch,
    /// Zero steps.
    NoSteps,
    /// Initial state off by `delta` values.
    State(isize),
    /// `d_output` off by `delta` values in backward.
    DOutput(isize),
    /// A NaN or infinity at input value `k` (modulo the input's size) or in the initial state.
    NonFinite(usize, bool),
}

fn mistake() -> impl Strategy<Value = Mistake> {
    prop_oneof![
        (-5isize..=5)
            .prop_filter("nonzero", |d| *d != 0)
            .prop_map(Mistake::Width),
        (0usize..4, 1usize..4).prop_map(|(b, e)| Mistake::TooLong(b, e)),
        (0usize..4).prop_map(Mistake::ZeroLength),
        any::<bool>().prop_map(Mistake::LengthCount),
        Just(Mistake::EmptyBatch),
        Just(Mistake::NoSteps),
        (-3isize..=3)
            .prop_filter("nonzero", |d| *d != 0)
            .prop_map(Mistake::State),
        (-3isize..=3)
            .prop_filter("nonzero", |d| *d != 0)
            .prop_map(Mistake::DOutput),
        (any::<usize>(), any::<bool>()).prop_map(|(k, state)| Mistake::NonFinite(k, state)),
    ]
}

fn resize(n: usize, delta: isize) -> usize {
    (n as isize + delta).max(0) as usize
}

/// Whether `err` is the error the mistake `m` must give.
fn is_the_error_of(m: &Mistake, err: &LayerError) -> bool {
    match (m, err) {
        (Mistake::Width(_), LayerError::InputShape { .. })
        | (Mistake::TooLong(..), LayerError::LengthTooLong { .. })
        | (Mistake::ZeroLength(_), LayerError::ZeroLength { .. })
        | (Mistake::LengthCount(_), LayerError::LengthsCount { .. })
        | (Mistake::EmptyBatch, LayerError::EmptyBatch)
        | (Mistake::NoSteps, LayerError::NoSteps)
        | (Mistake::State(_), LayerError::InitialState { .. })
        | (
            Mistake::DOutput(_),
            LayerError::GradShape {
                what: "d_output", ..
            },
        ) => true,
        (Mistake::NonFinite(_, state), LayerError::NonFinite { what, .. }) => {
            *what == if *state { "initial state" } else { "input" }
        }
        _ => false,
    }
}

/// Calls `layer` with the mistake applied; returns the error, or `None` if the call succeeded.
fn call(layer: &dyn Layer<f64>, steps: usize, batch: usize, m: &Mistake) -> Option<LayerError> {
    let (i, s) = (layer.input_size(), layer.state_size());
    let mut x = vec![0.1; i * steps * batch];
    let mut lengths = vec![steps; batch];
    let mut init = vec![0.0; s * batch];
    let (mut t, mut b) = (steps, batch);
    match *m {
        Mistake::Width(d) => x.resize(resize(x.len(), d), 0.0),
        Mistake::TooLong(k, e) => lengths[k % batch] = steps + e,
        Mistake::ZeroLength(k) => lengths[k % batch] = 0,
        Mistake::LengthCount(more) => {
            if more {
                lengths.push(1)
            } else {
                lengths.pop();
            }
        }
        Mistake::EmptyBatch => {
            b = 0;
            x.clear();
            lengths.clear();
            init.clear();
        }
        Mistake::NoSteps => {
            t = 0;
            x.clear();
        }
        Mistake::State(d) => init.resize(resize(init.len(), d), 0.0),
        Mistake::NonFinite(k, false) => x[k % (i * steps * batch)] = f64::NAN,
        Mistake::NonFinite(k, true) => init[k % (s * batch)] = f64::INFINITY,
        Mistake::DOutput(d) => {
            let (out, tape) = layer
                .forward(Inputs::new(&x, t, b).lengths(&lengths).initial(&init), None)
                .unwrap();
            let d_out = vec![1.0; resize(out.output.len(), d)];
            let mut grads = layer.zero_grads();
            return layer.backward(&tape, &d_out, None, &mut grads).err();
        }
    }
    let inputs = Inputs::new(&x, t, b).lengths(&lengths).initial(&init);
    let forward = layer.forward(inputs, Some(&mut seeded(0))).err();
    let infer = layer.infer(inputs).err();
    assert_eq!(forward, infer, "forward and infer disagree on {m:?}");
    forward
}

fn layers(kind: usize, input: usize, hidden: usize) -> Vec<Box<dyn Layer<f64>>> {
    let rec = || Recurrent::new(any_cell::<f64>(kind, input, hidden, 1));
    let bi = Bidirectional::new(rec(), rec(), Merge::Concat).unwrap();
    let deep = Stack::new(vec![
        Box::new(rec()) as Box<dyn Layer<f64>>,
        Box::new(Recurrent::new(any_cell::<f64>(kind + 1, hidden, hidden, 2))),
    ])
    .unwrap();
    vec![Box::new(rec()), Box::new(bi), Box::new(deep)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_malformed_layer_call_is_an_error(
        kind in 0usize..5, input in 1usize..5, hidden in 1usize..5,
        steps in 1usize..5, batch in 1usize..4, m in mistake(),
    ) {
        for layer in layers(kind, input, hidden) {
            match call(layer.as_ref(), steps, batch, &m) {
                Some(err) => prop_assert!(is_the_error_of(&m, &err), "{m:?} gave {err:?}"),
                None => prop_assert!(false, "{m:?} was accepted"),
            }
        }
    }

    #[test]
    fn malformed_heads_losses_and_batches_are_errors(rows in 1usize..4, n in 1usize..5, d in 1usize..3) {
        let head = Dense::<f64>::new(3, rows, Activation::Softmax, &mut seeded(0)).unwrap();
        let shape = |what: &str, r: Result<Vec<f64>, LayerError>| {
            matches!(r, Err(LayerError::GradShape { what: w, .. }) if w == what)
        };
        prop_assert!(shape("head input", head.forward(&vec![0.0; 3 * n + d], n)));
        let y = head.forward(&vec![0.0; 3 * n], n).unwrap();
        let mut g = head.params().zeros_like();
        prop_assert!(shape("d_y", head.backward(&vec![0.0; 3 * n], &y, &vec![0.0; y.len() + d], n, &mut g)));
        prop_assert!(shape("head output", head.backward(&vec![0.0; 3 * n], &vec![0.0; y.len() + d], &y, n, &mut g)));
        let mut wrong = Dense::<f64>::new(3, rows + d, Activation::Softmax, &mut seeded(0)).unwrap().params().zeros_like();
        prop_assert!(
            matches!(head.backward(&vec![0.0; 3 * n], &y, &y, n, &mut wrong), Err(LayerError::GradsLayout { .. })),
            "a head gradient store of another shape was accepted"
        );
        let loss_shape = |what: &str, r: Result<_, LayerError>| {
            matches!(r, Err(LayerError::GradShape { what: w, .. }) if w == what)
        };
        prop_assert!(loss_shape("target", mse(&y, &vec![0.0; y.len() + d], rows, None)));
        prop_assert!(loss_shape("targets", cross_entropy(&y, &vec![0; n + d], rows, None)));
        prop_assert!(matches!(
            cross_entropy(&y, &vec![rows + d - 1; n], rows, None),
            Err(LayerError::ClassOutOfRange { column: 0, .. })
        ), "the wrong error kind");
        prop_assert!(loss_shape("mask", mse(&y, &y, rows, Some(&vec![true; n + d]))));

        let body = Stack::new(vec![Box::new(Recurrent::new(any_cell::<f64>(2, 3, 4, 0))) as Box<dyn Layer<f64>>]).unwrap();
        let model = Model::new(body, Dense::new(4, rows, Activation::Identity, &mut seeded(1)).unwrap(), Readout::LastStep).unwrap();
        let mut trainer = Trainer::new(model, Box::new(Adam::new(0.01)), TrainConfig::default());
        let wrong_targets = Batch { inputs: vec![0.0; 3 * 2 * n], features: 3, steps: 2, batch: n, lengths: None, targets: Targets::FinalValues { values: vec![0.0; rows * n + d], outputs: rows } };
        prop_assert!(matches!(
            trainer.step(&wrong_targets),
            Err(TrainError::Layer(LayerError::GradShape { what: "target", .. }))
        ), "the wrong error kind");
        let wrong_x = Batch { inputs: vec![0.0; 3 * 2 * n + d], features: 3, steps: 2, batch: n, lengths: None, targets: Targets::FinalValues { values: vec![0.0; rows * n], outputs: rows } };
        prop_assert!(matches!(
            trainer.step(&wrong_x),
            Err(TrainError::Layer(LayerError::InputShape { .. }))
        ), "the wrong error kind");
        prop_assert_eq!(trainer.steps(), 0);
    }

    #[test]
    fn wrong_parameter_shapes_are_errors(kind in 0usize..5, extra in 1usize..4) {
        let mut cell = any_cell::<f64>(kind, 3, 4, 0);
        let names: Vec<String> = cell.params().names().map(String::from).collect();
        for name in names {
            let n = cell.params().get(&name).unwrap().len();
            prop_assert!(matches!(
                cell.params_mut().set(&name, &vec![0.0; n + extra]),
                Err(CellError::ParamShape { .. })
            ), "the wrong error kind");
        }
        prop_assert!(matches!(
            cell.params_mut().set("weight_xx", &[0.0]),
            Err(CellError::UnknownParam { .. })
        ), "the wrong error kind");
        // Layers that do not fit together.
        let a = Recurrent::new(any_cell::<f64>(kind, 3, 4, 0));
        let b = Recurrent::new(any_cell::<f64>(kind, 3 + extra, 4, 0));
        prop_assert!(matches!(
            Bidirectional::new(Recurrent::new(any_cell::<f64>(kind, 3, 4, 0)), b, Merge::Concat),
            Err(LayerError::Compose(_))
        ), "the wrong error kind");
        let c = Recurrent::new(any_cell::<f64>(kind, 4 + extra, 4, 0));
        prop_assert!(matches!(
            Stack::new(vec![Box::new(a) as Box<dyn Layer<f64>>, Box::new(c)]),
            Err(LayerError::Compose(_))
        ), "the wrong error kind");
    }

    #[test]
    fn random_bytes_are_not_a_tensor_file(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        // Whatever the bytes, the parser returns a file error of the format's kinds, never panics,
        // and never holds more values than the bytes could carry.
        match Tensors::parse(&bytes, true) {
            Err(FileError::Format(_) | FileError::Truncated { .. } | FileError::Dtype { .. }) => {}
            Err(other) => prop_assert!(false, "{other:?}"),
            Ok(t) => prop_assert!(t.tensors.values().map(|t| t.len()).sum::<usize>() <= bytes.len()),
        }
    }

    #[test]
    fn a_cut_tensor_file_gives_both_byte_counts(cut_at in 0.0f64..1.0) {
        let body = Stack::new(vec![Box::new(Recurrent::new(any_cell::<f32>(2, 3, 4, 0))) as Box<dyn Layer<f32>>]).unwrap();
        let model = Model::new(body, Dense::new(4, 2, Activation::Identity, &mut seeded(1)).unwrap(), Readout::LastStep).unwrap();
        let bytes = rnnzoo_layers::checkpoint::weights_bytes(&model).unwrap();
        let cut = ((bytes.len() as f64) * cut_at) as usize;
        let header = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let expected = if cut < 8 { 8 } else if cut < header { header } else { bytes.len() };
        let err = Tensors::parse(&bytes[..cut], false).unwrap_err();
        prop_assert!(
            matches!(err, FileError::Truncated { expected: e, got } if e == expected && got == cut),
            "cut at {} of {}: {:?}", cut, bytes.len(), err
        );
        let text = err.to_string();
        prop_assert!(text.contains(&cut.to_string()) && text.contains(&expected.to_string()), "{}", text);
    }
}

#[test]
fn a_tensor_file_with_trailing_bytes_is_refused() {
    let body = Stack::new(vec![
        Box::new(Recurrent::new(any_cell::<f64>(0, 2, 3, 0))) as Box<dyn Layer<f64>>
    ])
    .unwrap();
    let model = Model::new(
        body,
        Dense::new(3, 1, Activation::Identity, &mut seeded(1)).unwrap(),
        Readout::LastStep,
    )
    .unwrap();
    let mut bytes = rnnzoo_layers::checkpoint::weights_bytes(&model).unwrap();
    assert!(Tensors::parse(&bytes, false).is_ok());
    bytes.push(0);
    assert!(matches!(
        Tensors::parse(&bytes, false),
        Err(FileError::Format(m)) if m.contains("1 bytes after")
    ));
}
