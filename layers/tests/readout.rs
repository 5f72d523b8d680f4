//! `Readout::FinalStates` (the final `h` of the top layer's directions, PyTorch's
//! `cat(h_n[-2], h_n[-1])`) and a head built without a random source, with or without bias:
//! values, gradients against finite differences, and the sizes `Model::new` refuses.

mod common;

use common::{any_cell, KINDS};
use proptest::prelude::*;
use rnnzoo_cell::gradcheck::{check, Options};
use rnnzoo_cell::seeded;
use rnnzoo_cell::strategies::{unroll_case, SizeRanges};
use rnnzoo_layers::gradcheck::{LossKind, ModelLoss, SequenceCase};
use rnnzoo_layers::head::{Activation, Dense};
use rnnzoo_layers::{
    Bidirectional, Inputs, Layer, LayerError, Merge, Model, Readout, Recurrent, Stack,
};

/// `depth` layers of `kind`, the top one bidirectional or not.
fn body(kind: usize, input: usize, hidden: usize, depth: usize, bi: bool, seed: u64) -> Stack<f64> {
    let mut layers: Vec<Box<dyn Layer<f64>>> = Vec::new();
    let mut width = input;
    for k in 0..depth {
        let s = seed.wrapping_add(10 * k as u64);
        let fwd = Recurrent::new(any_cell(kind, width, hidden, s));
        if bi {
            let bwd = Recurrent::new(any_cell(kind, width, hidden, s + 1));
            let pair = Bidirectional::new(fwd, bwd, Merge::Concat).unwrap();
            width = pair.output_size();
            layers.push(Box::new(pair));
        } else {
            width = hidden;
            layers.push(Box::new(fwd));
        }
    }
    Stack::new(layers).unwrap()
}

/// An identity head reading `rows` rows: its predictions are what the readout gives.
fn identity(rows: usize) -> Dense<f64> {
    let mut head = Dense::zeros(rows, rows, Activation::Identity, false).unwrap();
    let eye: Vec<f64> = (0..rows * rows)
        .map(|k| if k % (rows + 1) == 0 { 1.0 } else { 0.0 })
        .collect();
    head.params_mut().set("weight", &eye).unwrap();
    head
}

#[test]
fn final_states_are_the_top_layers_h_rows_forward_then_reverse() {
    // LSTM (state [h; c]) in both layers, so reading c or the lower layer would show.
    let (input, hidden, steps, batch) = (3, 4, 5, 3);
    let stack = body(2, input, hidden, 2, true, 7);
    assert_eq!(stack.state_size(), 2 * 2 * 2 * hidden);
    let x: Vec<f64> = (0..input * steps * batch)
        .map(|k| ((k * 37) % 11) as f64 / 11.0 - 0.5)
        .collect();
    let lengths = [5, 2, 4];
    let inputs = Inputs::new(&x, steps, batch).lengths(&lengths);
    let reference = stack.infer(inputs).unwrap();
    let model = Model::new(stack, identity(2 * hidden), Readout::FinalStates).unwrap();
    let p = model.predict(inputs).unwrap();
    assert_eq!(p.final_state, reference.final_state);
    // h_n order: layer 0 fwd, layer 0 rev, layer 1 fwd, layer 1 rev; each 2H x B ([h; c]).
    let block = 2 * hidden * batch;
    let (top_f, top_b) = (
        &p.final_state[2 * block..3 * block],
        &p.final_state[3 * block..],
    );
    let mut want = Vec::new();
    for b in 0..batch {
        want.extend_from_slice(&top_f[b * 2 * hidden..][..hidden]);
        want.extend_from_slice(&top_b[b * 2 * hidden..][..hidden]);
    }
    assert_eq!(p.predictions, want);
    // The forward half's h_n is its output at the last valid step; the reverse half's is its
    // output at step 0.
    let h2 = 2 * hidden;
    for (b, &len) in lengths.iter().enumerate() {
        let at = |t: usize| &reference.output[(t * batch + b) * h2..][..h2];
        assert_eq!(&p.predictions[b * h2..][..hidden], &at(len - 1)[..hidden]);
        assert_eq!(
            &p.predictions[b * h2 + hidden..][..hidden],
            &at(0)[hidden..]
        );
    }
}

#[test]
fn final_states_of_a_one_direction_top_layer_are_h_n_last() {
    let (input, hidden, steps, batch) = (2, 3, 4, 2);
    let stack = body(0, input, hidden, 2, false, 3);
    let x = vec![0.25; input * steps * batch];
    let inputs = Inputs::new(&x, steps, batch).lengths(&[4, 1]);
    let reference = stack.infer(inputs).unwrap();
    let model = Model::new(stack, identity(hidden), Readout::FinalStates).unwrap();
    let p = model.predict(inputs).unwrap();
    assert_eq!(p.predictions, reference.final_state[hidden * batch..]);
}

#[test]
fn a_head_of_the_wrong_width_is_refused_for_each_readout() {
    let make = || body(2, 3, 4, 1, true, 0);
    // FinalStates reads 2H = 8 rows of a bidirectional LSTM (not 2 * state = 16).
    assert!(Model::new(make(), identity(8), Readout::FinalStates).is_ok());
    for (rows, readout) in [
        (16, Readout::FinalStates),
        (4, Readout::FinalStates),
        (9, Readout::LastStep),
    ] {
        match Model::new(make(), identity(rows), readout) {
            Err(LayerError::Compose(m)) => assert!(m.contains("head takes"), "{m}"),
            Err(e) => panic!("{rows} {readout:?}: {e}"),
            Ok(_) => panic!("{rows} {readout:?} was accepted"),
        }
    }
}

#[test]
fn a_head_without_bias_has_no_bias_and_new_has_one() {
    let head = Dense::<f32>::zeros(3, 2, Activation::Sigmoid, false).unwrap();
    assert!(!head.has_bias());
    assert_eq!(head.params().names().collect::<Vec<_>>(), ["weight"]);
    assert!(head
        .params()
        .iter()
        .all(|p| p.data().iter().all(|&v| v == 0.0)));
    let with = Dense::<f32>::zeros(3, 2, Activation::Sigmoid, true).unwrap();
    assert_eq!(
        with.params().names().collect::<Vec<_>>(),
        ["weight", "bias"]
    );
    assert!(Dense::<f32>::new(3, 2, Activation::Sigmoid, &mut seeded(0))
        .unwrap()
        .has_bias());
    assert!(matches!(
        Dense::<f32>::zeros(0, 2, Activation::Identity, false),
        Err(LayerError::Cell(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn final_states_and_bias_free_heads_pass_the_gradient_check(
        case in unroll_case(SizeRanges { input: 1..=3, hidden: 1..=3, batch: 1..=3, steps: 1..=4 }),
        kind in 0..KINDS,
        depth in 1usize..=2,
        bi in any::<bool>(),
        bias in any::<bool>(),
        cross_entropy in any::<bool>(),
        outputs in 1usize..4,
    ) {
        let stack = body(kind, case.input, case.hidden, depth, bi, case.seed);
        let rows = if bi { 2 * case.hidden } else { case.hidden };
        let act = if cross_entropy { Activation::Identity } else { Activation::Sigmoid };
        let mut head = Dense::zeros(rows, outputs, act, bias).unwrap();
        let fresh = Dense::<f64>::new(rows, outputs, act, &mut seeded(case.seed ^ 3)).unwrap();
        for name in head.params().names().map(String::from).collect::<Vec<_>>() {
            let v = fresh.params().get(&name).unwrap().data().to_vec();
            head.params_mut().set(&name, &v).unwrap();
        }
        let model = Model::new(stack, head, Readout::FinalStates).unwrap();
        let kind_of = if cross_entropy { LossKind::CrossEntropy } else { LossKind::MeanSquared };
        let report = check(&mut ModelLoss::new(model, &SequenceCase::from(&case), kind_of).unwrap(), &Options::default());
        prop_assert!(report.passed(), "kind {kind} depth {depth} bi={bi} bias={bias} {case:?}\n{report}");
    }
}
