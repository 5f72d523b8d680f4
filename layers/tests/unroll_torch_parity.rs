//! One-layer, one-direction PyTorch cases through `Recurrent`: outputs, final states and every
//! gradient to 1e-10 in float64, and to 1e-4 when the same case runs in float32.
//!
//! The cases were made with PyTorch 2.15 (CPU, float64), in essence:
//!
//! ```python
//! rnn = torch.nn.LSTM(3, 4, dtype=torch.float64)   # or nn.RNN(..., nonlinearity=...), nn.GRU
//! x = torch.randn(5, 2, 3, requires_grad=True)
//! h0 = torch.randn(1, 2, 4, requires_grad=True); c0 = torch.randn(1, 2, 4, requires_grad=True)
//! out, (h_n, c_n) = rnn(x, (h0, c0))
//! dout, dh_n, dc_n = torch.randn_like(out), torch.randn_like(h_n), torch.randn_like(c_n)
//! ((out * dout).sum() + (h_n * dh_n).sum() + (c_n * dc_n).sum()).backward()
//! # saved: parameters, input, h0, c0, output, h_n, c_n, dout, dh_n, dc_n, grad.<name>
//! ```

mod common;

use common::{assert_close, pack_state, unpack_state, Fixture};
use rnnzoo_cell::{Cell, Real};
use rnnzoo_gru::GruCell;
use rnnzoo_layers::{Inputs, Layer, Recurrent};
use rnnzoo_lstm::LstmCell;
use rnnzoo_vanilla::{Nonlinearity, VanillaCell};

const TOL_F64: f64 = 1e-10;
const TOL_F32: f64 = 1e-4;

/// The cell of layer 0 of a one-layer fixture, in `T` precision, with PyTorch's weights.
fn cell_of<T: Real>(fx: &Fixture) -> Box<dyn Cell<T>> {
    let (i, h) = (fx.meta_usize("input_size"), fx.meta_usize("hidden_size"));
    let mut cell: Box<dyn Cell<T>> = match (fx.meta("mode"), fx.meta("nonlinearity")) {
        ("RNN", "tanh") => Box::new(VanillaCell::zeros(i, h, Nonlinearity::Tanh, true).unwrap()),
        ("RNN", "relu") => Box::new(VanillaCell::zeros(i, h, Nonlinearity::Relu, true).unwrap()),
        ("LSTM", _) => Box::new(LstmCell::zeros(i, h, true).unwrap()),
        ("GRU", _) => Box::new(GruCell::zeros(i, h, true).unwrap()),
        (m, n) => panic!("mode {m} {n}"),
    };
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

fn cast<T: Real>(v: &[f64]) -> Vec<T> {
    v.iter().map(|&x| T::from_f64_lossy(x)).collect()
}

fn widen<T: Real>(v: &[T]) -> Vec<f64> {
    v.iter().map(|x| x.to_f64_lossless()).collect()
}

/// Runs a one-layer fixture in `T` precision and compares everything to `tol`.
fn check_case<T: Real>(file: &str, tol: f64) {
    let fx = Fixture::load(file);
    let (t, b, h) = (
        fx.meta_usize("seq_len"),
        fx.meta_usize("batch"),
        fx.meta_usize("hidden_size"),
    );
    let lstm = fx.has("c0");
    let parts = if lstm { 2 } else { 1 };
    let state_of = |h_name: &str, c_name: &str| {
        let mut blocks = vec![fx.state_block(h_name, 0)];
        if lstm {
            blocks.push(fx.state_block(c_name, 0));
        }
        cast::<T>(&pack_state(&blocks, h, b))
    };
    let layer = Recurrent::new(cell_of::<T>(&fx));
    let x = cast::<T>(fx.get("input"));
    let init = state_of("h0", "c0");
    let (out, tape) = layer
        .forward(Inputs::new(&x, t, b).initial(&init), None)
        .unwrap();
    assert_close(
        &format!("{file} output"),
        &widen(&out.output),
        fx.get("output"),
        tol,
    );
    let fin = widen(&out.final_state);
    assert_close(
        "h_n",
        &unpack_state(&fin, 0, parts, h, b),
        fx.get("h_n"),
        tol,
    );
    if lstm {
        assert_close(
            "c_n",
            &unpack_state(&fin, 1, parts, h, b),
            fx.get("c_n"),
            tol,
        );
    }

    let mut grads = layer.cell().params().zeros_like();
    let d_final = state_of("dh_n", "dc_n");
    let g = layer
        .backward(
            &tape,
            &cast::<T>(fx.get("dout")),
            Some(&d_final),
            std::slice::from_mut(&mut grads),
        )
        .unwrap();
    assert_close("grad.input", &widen(&g.d_input), fx.get("grad.input"), tol);
    let d_init = widen(&g.d_initial);
    assert_close(
        "grad.h0",
        &unpack_state(&d_init, 0, parts, h, b),
        fx.get("grad.h0"),
        tol,
    );
    if lstm {
        assert_close(
            "grad.c0",
            &unpack_state(&d_init, 1, parts, h, b),
            fx.get("grad.c0"),
            tol,
        );
    }
    for p in grads.iter() {
        assert_close(
            p.name(),
            &widen(p.data()),
            fx.get(&format!("grad.{}_l0", p.name())),
            tol,
        );
    }
}

macro_rules! parity {
    ($($name:ident: $file:literal,)*) => {$(
        #[test]
        fn $name() {
            check_case::<f64>($file, TOL_F64);
            check_case::<f32>($file, TOL_F32);
        }
    )*};
}

parity! {
    rnn_tanh_matches_pytorch: "rnn_tanh_1l.safetensors",
    rnn_relu_matches_pytorch: "rnn_relu_1l.safetensors",
    lstm_matches_pytorch: "lstm_1l.safetensors",
    gru_matches_pytorch: "gru_1l.safetensors",
}

#[test]
fn inference_equals_the_taped_forward() {
    for file in [
        "rnn_tanh_1l.safetensors",
        "lstm_1l.safetensors",
        "gru_1l.safetensors",
    ] {
        let fx = Fixture::load(file);
        let (t, b) = (fx.meta_usize("seq_len"), fx.meta_usize("batch"));
        let layer = Recurrent::new(cell_of::<f64>(&fx));
        let inputs = Inputs::new(fx.get("input"), t, b).lengths(&[3, 5]);
        assert_eq!(
            layer.infer(inputs).unwrap(),
            layer.forward(inputs, None).unwrap().0
        );
    }
}

#[test]
fn a_wrong_weight_is_caught() {
    // The parity check can fail: perturb one element of weight_hh and the output no longer matches.
    let fx = Fixture::load("lstm_1l.safetensors");
    let (t, b, h) = (
        fx.meta_usize("seq_len"),
        fx.meta_usize("batch"),
        fx.meta_usize("hidden_size"),
    );
    let init = pack_state(&[fx.state_block("h0", 0), fx.state_block("c0", 0)], h, b);
    let worst = |cell: Box<dyn Cell<f64>>| {
        let out = Recurrent::new(cell)
            .forward(Inputs::new(fx.get("input"), t, b).initial(&init), None)
            .unwrap()
            .0;
        out.output
            .iter()
            .zip(fx.get("output"))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    };
    assert!(worst(cell_of(&fx)) <= TOL_F64);
    let mut cell = cell_of::<f64>(&fx);
    cell.params_mut().at_mut(1).data_mut()[0] += 1e-6;
    assert!(worst(cell) > TOL_F64);
}
