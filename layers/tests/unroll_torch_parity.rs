//! One-layer, one-direction PyTorch cases through `Recurrent`: outputs, final state and every
//! gradient to 1e-10 (float64).
//!
//! The cases were made with PyTorch 2.15 (CPU, float64), in essence:
//!
//! ```python
//! rnn = torch.nn.RNN(3, 4, nonlinearity="tanh", dtype=torch.float64)   # or "relu"
//! x = torch.randn(5, 2, 3, requires_grad=True); h0 = torch.randn(1, 2, 4, requires_grad=True)
//! out, h_n = rnn(x, h0)
//! dout, dh_n = torch.randn_like(out), torch.randn_like(h_n)
//! (out * dout).sum().add((h_n * dh_n).sum()).backward()
//! # saved: parameters, input, h0, output, h_n, dout, dh_n, grad.<name> for x, h0, every parameter
//! ```

mod common;

use common::{assert_close, pack_state, unpack_state, Fixture};
use rnnzoo_cell::{Cell, Real};
use rnnzoo_layers::{Inputs, Recurrent};
use rnnzoo_vanilla::{Nonlinearity, VanillaCell};

const TOL: f64 = 1e-10;

/// Builds the cell of layer 0 from the fixture, in `T` precision.
fn vanilla<T: Real>(fx: &Fixture) -> VanillaCell<T> {
    let nl = match fx.meta("nonlinearity") {
        "tanh" => Nonlinearity::Tanh,
        "relu" => Nonlinearity::Relu,
        other => panic!("nonlinearity {other}"),
    };
    let mut cell = VanillaCell::zeros(
        fx.meta_usize("input_size"),
        fx.meta_usize("hidden_size"),
        nl,
        true,
    )
    .unwrap();
    let names: Vec<String> = cell.params().names().map(String::from).collect();
    for name in names {
        let v: Vec<T> = fx
            .get(&format!("{name}_l0"))
            .iter()
            .map(|&x| T::from_f64_lossy(x))
            .collect();
        cell.params_mut().set(&name, &v).unwrap();
    }
    cell
}

fn check_case(file: &str) {
    let fx = Fixture::load(file);
    let (t, b, h) = (
        fx.meta_usize("seq_len"),
        fx.meta_usize("batch"),
        fx.meta_usize("hidden_size"),
    );
    let layer = Recurrent::new(vanilla::<f64>(&fx));
    let h0 = pack_state(&[fx.state_block("h0", 0)], h, b);
    let (out, tape) = layer
        .forward(Inputs::new(fx.get("input"), t, b).initial(&h0))
        .unwrap();
    assert_close("output", &out.output, fx.get("output"), TOL);
    assert_close(
        "h_n",
        &unpack_state(&out.final_state, 0, 1, h, b),
        fx.get("h_n"),
        TOL,
    );

    let mut grads = layer.cell().params().zeros_like();
    let d_final = pack_state(&[fx.state_block("dh_n", 0)], h, b);
    let g = layer
        .backward(&tape, fx.get("dout"), Some(&d_final), &mut grads)
        .unwrap();
    assert_close("grad.input", &g.d_input, fx.get("grad.input"), TOL);
    assert_close("grad.h0", &g.d_initial, fx.get("grad.h0"), TOL);
    for p in grads.iter() {
        assert_close(
            p.name(),
            p.data(),
            fx.get(&format!("grad.{}_l0", p.name())),
            TOL,
        );
    }
}

#[test]
fn rnn_tanh_matches_pytorch() {
    check_case("rnn_tanh_1l.safetensors");
}

#[test]
fn rnn_relu_matches_pytorch() {
    check_case("rnn_relu_1l.safetensors");
}

#[test]
fn inference_equals_the_taped_forward() {
    let fx = Fixture::load("rnn_tanh_1l.safetensors");
    let (t, b) = (fx.meta_usize("seq_len"), fx.meta_usize("batch"));
    let layer = Recurrent::new(vanilla::<f64>(&fx));
    let inputs = Inputs::new(fx.get("input"), t, b).lengths(&[3, 5]);
    assert_eq!(
        layer.infer(inputs).unwrap(),
        layer.forward(inputs).unwrap().0
    );
}

#[test]
fn a_wrong_gate_parameter_is_caught() {
    // The parity test can fail: perturb one weight and the output no longer matches.
    let fx = Fixture::load("rnn_tanh_1l.safetensors");
    let (t, b, h) = (
        fx.meta_usize("seq_len"),
        fx.meta_usize("batch"),
        fx.meta_usize("hidden_size"),
    );
    let h0 = pack_state(&[fx.state_block("h0", 0)], h, b);
    let worst = |cell: VanillaCell<f64>| {
        let out = Recurrent::new(cell)
            .forward(Inputs::new(fx.get("input"), t, b).initial(&h0))
            .unwrap()
            .0;
        out.output
            .iter()
            .zip(fx.get("output"))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    };
    let mut cell = vanilla::<f64>(&fx);
    assert!(worst(cell.clone()) <= TOL);
    cell.params_mut().at_mut(1).data_mut()[0] += 1e-6; // one element of weight_hh
    assert!(worst(cell) > TOL);
}
