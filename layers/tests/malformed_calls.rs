//! Random malformed calls through the public API that do not depend on the cell kind (heads,
//! losses, batches, files): each returns the typed error of its mistake, none panics. The calls on
//! layers of every cell kind are `rnnzoo/tests/malformed_calls.rs`, over the registry.

use proptest::prelude::*;
use rnnzoo_cell::seeded;
use rnnzoo_layers::file::{FileError, Tensors};
use rnnzoo_layers::head::{Activation, Dense};
use rnnzoo_layers::loss::{cross_entropy, mse};
use rnnzoo_layers::optim::Adam;
use rnnzoo_layers::train::{Batch, Targets, TrainConfig, TrainError, Trainer};
use rnnzoo_layers::{Layer, LayerError, Model, Readout, Recurrent, Stack};
use rnnzoo_lstm::LstmCell;
use rnnzoo_vanilla::{Nonlinearity, VanillaCell};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

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

        let body = Stack::new(vec![Box::new(Recurrent::new(LstmCell::new(3, 4, &mut seeded(0)).unwrap())) as Box<dyn Layer<f64>>]).unwrap();
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
        let body = Stack::new(vec![Box::new(Recurrent::new(LstmCell::new(3, 4, &mut seeded(0)).unwrap())) as Box<dyn Layer<f32>>]).unwrap();
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
    let body = Stack::new(vec![Box::new(Recurrent::new(
        VanillaCell::new(2, 3, Nonlinearity::Tanh, &mut seeded(0)).unwrap(),
    )) as Box<dyn Layer<f64>>])
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
