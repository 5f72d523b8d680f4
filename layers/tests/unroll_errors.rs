//! Caller mistakes give typed errors that say what was expected; none panics.

use rnnzoo_cell::{Cell, seeded};
use rnnzoo_layers::{
    Bidirectional, Direction, GradMismatch, Inputs, Layer, LayerError, Merge, Recurrent, Stack,
};
use rnnzoo_vanilla::{Nonlinearity, VanillaCell};

fn layer() -> Recurrent<VanillaCell<f32>> {
    Recurrent::new(VanillaCell::new(3, 4, Nonlinearity::Tanh, &mut seeded(0)).unwrap())
}

#[test]
fn wrong_input_width() {
    let x = vec![0.0f32; 2 * 5 * 2]; // features 2, the layer takes 3
    let err = layer().forward(Inputs::new(&x, 5, 2), None).unwrap_err();
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
        .forward(Inputs::new(&x, 5, 2).lengths(&[5, 6]), None)
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
            .forward(Inputs::new(&x, 5, 2).lengths(&[0, 5]), None)
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
        layer().forward(Inputs::new(&[], 5, 0), None).unwrap_err(),
        LayerError::EmptyBatch
    );
    assert_eq!(
        layer().forward(Inputs::new(&[], 0, 2), None).unwrap_err(),
        LayerError::NoSteps
    );
}

#[test]
fn an_initial_state_of_the_wrong_shape() {
    let x = vec![0.0f32; 3 * 5 * 2];
    let h0 = vec![0.0f32; 4 * 3];
    let err = layer()
        .forward(Inputs::new(&x, 5, 2).initial(&h0), None)
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
    let (out, tape) = l.forward(Inputs::new(&x, 5, 2), None).unwrap();
    let mut grads = l.zero_grads();
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
    assert!(
        l.backward(&tape, &out.output, Some(&[0.0; 8]), &mut grads)
            .is_ok()
    );
    let mut wrong = vec![
        VanillaCell::<f32>::new(3, 5, Nonlinearity::Tanh, &mut seeded(0))
            .unwrap()
            .params()
            .zeros_like(),
    ];
    // The error names the first tensor that does not fit, its shape, and what came.
    let err = l
        .backward(&tape, &out.output, None, &mut wrong)
        .unwrap_err();
    assert_eq!(
        err,
        LayerError::GradsLayout {
            expected_stores: 1,
            got_stores: 1,
            mismatch: Some(Box::new(GradMismatch {
                store: 0,
                tensor: "weight_ih".into(),
                shape: vec![4, 3],
                got: Some(("weight_ih".into(), vec![5, 3])),
            })),
        }
    );
    let text = err.to_string();
    assert!(
        text.contains("`weight_ih` [4, 3]") && text.contains("[5, 3]"),
        "{text}"
    );
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
    let err = layer().forward(Inputs::new(&x, 5, 2), None).unwrap_err();
    assert_eq!(
        err,
        LayerError::NonFinite {
            what: "input",
            at: "step 2, sample 1, feature 1".into()
        }
    );
    // At a padded step the value is never read: no error.
    assert!(
        layer()
            .forward(Inputs::new(&x, 5, 2).lengths(&[5, 2]), None)
            .is_ok()
    );
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

#[test]
fn a_composite_gradient_store_of_the_wrong_count_or_layout_is_named() {
    let stack = Stack::<f32>::new(vec![
        Box::new(layer()) as Box<dyn Layer<f32>>,
        Box::new(Recurrent::new(
            VanillaCell::new(4, 2, Nonlinearity::Tanh, &mut seeded(1)).unwrap(),
        )),
    ])
    .unwrap();
    let x = vec![0.1f32; 3 * 2];
    let (out, tape) = stack.forward(Inputs::new(&x, 2, 1), None).unwrap();
    let d = vec![1.0f32; out.output.len()];
    // One store for a two-group stack: the counts say it.
    let mut one = vec![stack.zero_grads().remove(0)];
    assert_eq!(
        stack.backward(&tape, &d, None, &mut one).unwrap_err(),
        LayerError::GradsLayout {
            expected_stores: 2,
            got_stores: 1,
            mismatch: None
        }
    );
    // The stores swapped: the first misfit is layer 0's weight_ih, with its PyTorch suffix.
    let mut swapped = stack.zero_grads();
    swapped.swap(0, 1);
    match stack.backward(&tape, &d, None, &mut swapped).unwrap_err() {
        LayerError::GradsLayout {
            expected_stores: 2,
            got_stores: 2,
            mismatch: Some(m),
        } => assert_eq!(
            *m,
            GradMismatch {
                store: 0,
                tensor: "weight_ih_l0".into(),
                shape: vec![4, 3],
                got: Some(("weight_ih".into(), vec![2, 4])),
            }
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_reversed_half_is_refused_by_bidirectional() {
    let rev = || {
        Recurrent::with_direction(
            VanillaCell::<f32>::new(3, 4, Nonlinearity::Tanh, &mut seeded(2)).unwrap(),
            Direction::Reverse,
        )
    };
    assert_eq!(
        Bidirectional::new(layer(), rev(), Merge::Concat).unwrap_err(),
        LayerError::ReversedHalf { half: "backward" }
    );
    assert_eq!(
        Bidirectional::new(rev(), layer(), Merge::Sum).unwrap_err(),
        LayerError::ReversedHalf { half: "forward" }
    );
    // A stack holding a reversed layer reads reversed too.
    let stack = Stack::new(vec![Box::new(rev()) as Box<dyn Layer<f32>>]).unwrap();
    assert_eq!(stack.direction(), Direction::Reverse);
    assert!(matches!(
        Bidirectional::new(layer(), stack, Merge::Concat),
        Err(LayerError::ReversedHalf { half: "backward" })
    ));
    assert!(Bidirectional::new(layer(), layer(), Merge::Concat).is_ok());
}
