//! Caller mistakes give typed errors that say what was expected; none panics.

use rnnzoo_cell::{seeded, Cell};
use rnnzoo_layers::{Inputs, LayerError, Recurrent};
use rnnzoo_vanilla::{Nonlinearity, VanillaCell};

fn layer() -> Recurrent<VanillaCell<f32>> {
    Recurrent::new(VanillaCell::new(3, 4, Nonlinearity::Tanh, &mut seeded(0)).unwrap())
}

#[test]
fn wrong_input_width() {
    let x = vec![0.0f32; 2 * 5 * 2]; // features 2, the layer takes 3
    let err = layer().forward(Inputs::new(&x, 5, 2)).unwrap_err();
    assert_eq!(
        err,
        LayerError::InputShape {
            expected: 30,
            got: 20,
            steps: 5,
            batch: 2,
            features: 3
        }
    );
    assert!(err.to_string().contains("features=3"), "{err}");
}

#[test]
fn lengths_longer_than_the_sequence() {
    let x = vec![0.0f32; 3 * 5 * 2];
    let err = layer()
        .forward(Inputs::new(&x, 5, 2).lengths(&[5, 6]))
        .unwrap_err();
    assert_eq!(
        err,
        LayerError::LengthTooLong {
            sample: 1,
            length: 6,
            steps: 5
        }
    );
    assert_eq!(
        err.to_string(),
        "sample 1 has length 6, longer than the sequence's 5 steps"
    );
}

#[test]
fn a_zero_length_and_a_wrong_count() {
    let x = vec![0.0f32; 3 * 5 * 2];
    assert_eq!(
        layer()
            .forward(Inputs::new(&x, 5, 2).lengths(&[0, 5]))
            .unwrap_err(),
        LayerError::ZeroLength {
            sample: 0,
            steps: 5
        }
    );
    assert_eq!(
        layer()
            .infer(Inputs::new(&x, 5, 2).lengths(&[5]))
            .unwrap_err(),
        LayerError::LengthsCount {
            expected: 2,
            got: 1
        }
    );
}

#[test]
fn an_empty_batch_or_sequence() {
    assert_eq!(
        layer().forward(Inputs::new(&[], 5, 0)).unwrap_err(),
        LayerError::EmptyBatch
    );
    assert_eq!(
        layer().forward(Inputs::new(&[], 0, 2)).unwrap_err(),
        LayerError::NoSteps
    );
}

#[test]
fn an_initial_state_of_the_wrong_shape() {
    let x = vec![0.0f32; 3 * 5 * 2];
    let h0 = vec![0.0f32; 4 * 3];
    let err = layer()
        .forward(Inputs::new(&x, 5, 2).initial(&h0))
        .unwrap_err();
    assert_eq!(
        err,
        LayerError::InitialState {
            expected: 8,
            got: 12,
            state_size: 4,
            batch: 2
        }
    );
}

#[test]
fn backward_checks_its_gradients_and_the_tape() {
    let l = layer();
    let x = vec![0.1f32; 3 * 5 * 2];
    let (out, tape) = l.forward(Inputs::new(&x, 5, 2)).unwrap();
    let mut grads = l.cell().params().zeros_like();
    let short = vec![0.0f32; out.output.len() - 1];
    assert_eq!(
        l.backward(&tape, &short, None, &mut grads).unwrap_err(),
        LayerError::GradShape {
            what: "d_output",
            expected: 40,
            got: 39
        }
    );
    assert_eq!(
        l.backward(&tape, &out.output, Some(&[0.0; 3]), &mut grads)
            .unwrap_err(),
        LayerError::GradShape {
            what: "d_final",
            expected: 8, // state 4 x batch 2
            got: 3
        }
    );
    assert!(l
        .backward(&tape, &out.output, Some(&[0.0; 8]), &mut grads)
        .is_ok());
    let mut wrong = VanillaCell::<f32>::new(3, 5, Nonlinearity::Tanh, &mut seeded(0))
        .unwrap()
        .params()
        .zeros_like();
    assert!(matches!(
        l.backward(&tape, &out.output, None, &mut wrong),
        Err(LayerError::GradsLayout { .. })
    ));
    let other =
        Recurrent::new(VanillaCell::<f32>::new(2, 4, Nonlinearity::Tanh, &mut seeded(0)).unwrap());
    assert!(matches!(
        other.backward(&tape, &out.output, None, &mut grads),
        Err(LayerError::TapeMismatch { .. })
    ));
}

#[test]
fn nan_and_infinite_inputs_are_named() {
    let mut x = vec![0.0f32; 3 * 5 * 2];
    x[(2 * 2 + 1) * 3 + 1] = f32::NAN; // step 2, sample 1, feature 1
    let err = layer().forward(Inputs::new(&x, 5, 2)).unwrap_err();
    assert_eq!(
        err,
        LayerError::NonFinite {
            what: "input",
            at: "step 2, sample 1, feature 1".into()
        }
    );
    // At a padded step the value is never read: no error.
    assert!(layer()
        .forward(Inputs::new(&x, 5, 2).lengths(&[5, 2]))
        .is_ok());
    // Flat index 6 of a 4-row state: sample 6 / 4 = 1, row 6 % 4 = 2 (an index where the two
    // differ, so a swapped division and remainder would name the wrong place).
    let h0 = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, f32::INFINITY, 0.0];
    let err = layer()
        .infer(Inputs::new(&[0.0; 30], 5, 2).initial(&h0))
        .unwrap_err();
    assert_eq!(
        err,
        LayerError::NonFinite {
            what: "initial state",
            at: "sample 1, row 2".into()
        }
    );
}
