//! `Readout::FinalStates` (the final `h` of the top layer's directions, PyTorch's
//! `cat(h_n[-2], h_n[-1])`) and a head built without a random source, with or without bias:
//! values and the sizes `Model::new` refuses, on concrete cells. The gradient check of every cell
//! kind through this readout is `rnnzoo/tests/readout.rs`, over the registry.

use rnnzoo_cell::{Cell, seeded};
use rnnzoo_layers::head::{Activation, Dense};
use rnnzoo_layers::{
    Bidirectional, Inputs, Layer, LayerError, Merge, Model, Readout, Recurrent, Stack,
};
use rnnzoo_lstm::LstmCell;
use rnnzoo_vanilla::{Nonlinearity, VanillaCell};

/// `depth` layers of the cell `make` builds, the top one bidirectional or not.
fn body(
    make: fn(usize, usize, u64) -> Box<dyn Cell<f64>>,
    input: usize,
    hidden: usize,
    depth: usize,
    bi: bool,
    seed: u64,
) -> Stack<f64> {
    let mut layers: Vec<Box<dyn Layer<f64>>> = Vec::new();
    let mut width = input;
    for k in 0..depth {
        let s = seed.wrapping_add(10 * k as u64);
        let fwd = Recurrent::new(make(width, hidden, s));
        if bi {
            let bwd = Recurrent::new(make(width, hidden, s + 1));
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

fn lstm(input: usize, hidden: usize, seed: u64) -> Box<dyn Cell<f64>> {
    Box::new(LstmCell::new(input, hidden, &mut seeded(seed)).unwrap())
}

fn rnn_tanh(input: usize, hidden: usize, seed: u64) -> Box<dyn Cell<f64>> {
    Box::new(VanillaCell::new(input, hidden, Nonlinearity::Tanh, &mut seeded(seed)).unwrap())
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
    let stack = body(lstm, input, hidden, 2, true, 7);
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
    let stack = body(rnn_tanh, input, hidden, 2, false, 3);
    let x = vec![0.25; input * steps * batch];
    let inputs = Inputs::new(&x, steps, batch).lengths(&[4, 1]);
    let reference = stack.infer(inputs).unwrap();
    let model = Model::new(stack, identity(hidden), Readout::FinalStates).unwrap();
    let p = model.predict(inputs).unwrap();
    assert_eq!(p.predictions, reference.final_state[hidden * batch..]);
}

#[test]
fn a_head_of_the_wrong_width_is_refused_for_each_readout() {
    let make = || body(lstm, 3, 4, 1, true, 0);
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
    assert!(
        head.params()
            .iter()
            .all(|p| p.data().iter().all(|&v| v == 0.0))
    );
    let with = Dense::<f32>::zeros(3, 2, Activation::Sigmoid, true).unwrap();
    assert_eq!(
        with.params().names().collect::<Vec<_>>(),
        ["weight", "bias"]
    );
    assert!(
        Dense::<f32>::new(3, 2, Activation::Sigmoid, &mut seeded(0))
            .unwrap()
            .has_bias()
    );
    assert!(matches!(
        Dense::<f32>::zeros(0, 2, Activation::Identity, false),
        Err(LayerError::Cell(_))
    ));
}
