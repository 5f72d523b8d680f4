//! Every one-layer, one-direction PyTorch case in `tests/fixtures/torch/` through `Recurrent`, its
//! cell built by the registry from the case's mode (`zoo::for_torch_mode`, or with a `proj_size`
//! the LSTM kind with a projection, through `rnnzoo::torch::factory`): outputs, final states
//! and every gradient to 1e-10 in float64, and to 1e-4 when the same case runs in float32.
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

use crate::common;

use std::path::Path;

use crate::common::assert_close;
use rnnzoo::cell::{Cell, Real};
use rnnzoo::layers::file::Tensors;
use rnnzoo::layers::{Inputs, Layer, Recurrent};
use rnnzoo::zoo;

const TOL_F64: f64 = 1e-10;
const TOL_F32: f64 = 1e-4;

/// One PyTorch case: its tensors (as f64) and metadata.
struct Fixture {
    name: String,
    case: Tensors,
}

impl Fixture {
    fn read(path: &Path) -> Self {
        Self {
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
            case: Tensors::read(path, true).unwrap(),
        }
    }

    fn meta(&self, key: &str) -> &str {
        self.case.metadata.get(key).map_or("", String::as_str)
    }

    fn meta_usize(&self, key: &str) -> usize {
        self.meta(key)
            .parse()
            .unwrap_or_else(|_| panic!("{}: metadata {key} = {:?}", self.name, self.meta(key)))
    }

    fn has(&self, name: &str) -> bool {
        self.case.tensors.contains_key(name)
    }

    fn get(&self, name: &str) -> Vec<f64> {
        self.case
            .tensors
            .get(name)
            .unwrap_or_else(|| panic!("{}: no tensor {name}", self.name))
            .to_vec()
    }

    /// Row `k` of a `(layers*dirs, B, H)` tensor: the `H x B` state block of layer/direction `k`.
    fn state_block(&self, name: &str, k: usize) -> Vec<f64> {
        let s = &self.case.tensors[name].shape;
        let n = s[1] * s[2];
        self.get(name)[k * n..(k + 1) * n].to_vec()
    }

    /// The registry's kind for the case: PyTorch's mode name, from the module's class and, for
    /// `nn.RNN`, its nonlinearity; for `nn.LSTM(..., proj_size=P)`, the LSTM kind whose cells
    /// have a projection (`weight_hr`).
    fn entry(&self) -> &'static zoo::Entry {
        let mode = match self.meta("mode") {
            "RNN" => format!("RNN_{}", self.meta("nonlinearity").to_uppercase()),
            m => m.to_string(),
        };
        let plain = zoo::for_torch_mode(&mode).unwrap_or_else(|e| panic!("{}: {e}", self.name));
        if self.proj() == 0 {
            return plain;
        }
        zoo::entries()
            .iter()
            .find(|e| {
                e.torch_mode == Some(mode.as_str())
                    && e.zeros::<f64>(2, 3, true)
                        .is_ok_and(|c| c.params().get("weight_hr").is_some())
            })
            .unwrap_or_else(|| panic!("{}: no kind with a projection", self.name))
    }

    /// The case's `proj_size` (0 without one).
    fn proj(&self) -> usize {
        self.meta("proj_size").parse().unwrap_or(0)
    }

    /// The rows of each state part, `[h]` or `[h, c]` (`h` is `proj_size` wide with a
    /// projection).
    fn widths(&self) -> Vec<usize> {
        let mut w = vec![self.case.tensors["h0"].shape[2]];
        if self.has("c0") {
            w.push(self.case.tensors["c0"].shape[2]);
        }
        w
    }
}

/// Every one-layer, one-direction case of the fixture folder (at least one per PyTorch mode the
/// registry loads).
fn one_layer_cases() -> Vec<Fixture> {
    let cases: Vec<Fixture> = common::fixtures()
        .iter()
        .map(|p| Fixture::read(p))
        .filter(|f| f.meta("num_layers") == "1" && f.meta("bidirectional") == "false")
        .collect();
    for mode in zoo::torch_modes() {
        assert!(
            cases.iter().any(|f| f.entry().torch_mode == Some(mode)),
            "no one-layer case of {mode}"
        );
    }
    cases
}

/// Interleaves `w_k x B` blocks (h, then c, ...) into a `(sum w_k) x B` state, column `b` being
/// `[h_b; c_b; ...]`.
fn pack_state(parts: &[Vec<f64>], widths: &[usize], batch: usize) -> Vec<f64> {
    let s: usize = widths.iter().sum();
    let mut out = vec![0.0; s * batch];
    for b in 0..batch {
        let mut at = b * s;
        for (part, &w) in parts.iter().zip(widths) {
            out[at..at + w].copy_from_slice(&part[b * w..][..w]);
            at += w;
        }
    }
    out
}

/// Block `k` (`w_k x B`) of a `(sum w_k) x B` state.
fn unpack_state(state: &[f64], k: usize, widths: &[usize], batch: usize) -> Vec<f64> {
    let (s, skip, w) = (
        widths.iter().sum::<usize>(),
        widths[..k].iter().sum::<usize>(),
        widths[k],
    );
    (0..batch)
        .flat_map(|b| state[b * s + skip..][..w].to_vec())
        .collect()
}

/// The cell of layer 0 of a one-layer fixture, in `T` precision, with PyTorch's weights.
fn cell_of<T: Real>(fx: &Fixture) -> Box<dyn Cell<T>> {
    let (i, h) = (fx.meta_usize("input_size"), fx.meta_usize("hidden_size"));
    let e = fx.entry();
    let spec = rnnzoo::torch::CellSpec {
        gates: e.gates,
        input: i,
        hidden: h,
        proj: fx.proj(),
        bias: true,
    };
    let mut cell = rnnzoo::torch::factory::<T>(e)(&spec).unwrap();
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
fn check_case<T: Real>(fx: &Fixture, tol: f64) {
    let file = &fx.name;
    let (t, b, widths) = (
        fx.meta_usize("seq_len"),
        fx.meta_usize("batch"),
        fx.widths(),
    );
    let lstm = fx.has("c0");
    let state_of = |h_name: &str, c_name: &str| {
        let mut blocks = vec![fx.state_block(h_name, 0)];
        if lstm {
            blocks.push(fx.state_block(c_name, 0));
        }
        cast::<T>(&pack_state(&blocks, &widths, b))
    };
    let layer = Recurrent::new(cell_of::<T>(fx));
    let x = cast::<T>(&fx.get("input"));
    let init = state_of("h0", "c0");
    let (out, tape) = layer
        .forward(Inputs::new(&x, t, b).initial(&init), None)
        .unwrap();
    assert_close(
        &format!("{file} output"),
        &widen(&out.output),
        &fx.get("output"),
        tol,
    );
    let fin = widen(&out.final_state);
    assert_close(
        &format!("{file} h_n"),
        &unpack_state(&fin, 0, &widths, b),
        &fx.get("h_n"),
        tol,
    );
    if lstm {
        assert_close(
            &format!("{file} c_n"),
            &unpack_state(&fin, 1, &widths, b),
            &fx.get("c_n"),
            tol,
        );
    }

    let mut grads = layer.cell().params().zeros_like();
    let d_final = state_of("dh_n", "dc_n");
    let g = layer
        .backward(
            &tape,
            &cast::<T>(&fx.get("dout")),
            Some(&d_final),
            std::slice::from_mut(&mut grads),
        )
        .unwrap();
    assert_close(
        &format!("{file} grad.input"),
        &widen(&g.d_input),
        &fx.get("grad.input"),
        tol,
    );
    let d_init = widen(&g.d_initial);
    assert_close(
        &format!("{file} grad.h0"),
        &unpack_state(&d_init, 0, &widths, b),
        &fx.get("grad.h0"),
        tol,
    );
    if lstm {
        assert_close(
            &format!("{file} grad.c0"),
            &unpack_state(&d_init, 1, &widths, b),
            &fx.get("grad.c0"),
            tol,
        );
    }
    for p in grads.iter() {
        assert_close(
            &format!("{file} {}", p.name()),
            &widen(p.data()),
            &fx.get(&format!("grad.{}_l0", p.name())),
            tol,
        );
    }
}

#[test]
fn every_one_layer_case_matches_pytorch_in_f64_and_f32() {
    for fx in one_layer_cases() {
        check_case::<f64>(&fx, TOL_F64);
        check_case::<f32>(&fx, TOL_F32);
    }
}

#[test]
fn inference_equals_the_taped_forward() {
    for fx in one_layer_cases() {
        let (t, b) = (fx.meta_usize("seq_len"), fx.meta_usize("batch"));
        let layer = Recurrent::new(cell_of::<f64>(&fx));
        let x = fx.get("input");
        let lengths: Vec<usize> = (0..b).map(|k| 1 + (k * 2 + 2) % t).collect();
        let inputs = Inputs::new(&x, t, b).lengths(&lengths);
        assert_eq!(
            layer.infer(inputs).unwrap(),
            layer.forward(inputs, None).unwrap().0,
            "{}",
            fx.name
        );
    }
}

#[test]
fn a_wrong_weight_is_caught() {
    // The parity check can fail: perturb one element of weight_hh and the output no longer matches.
    for fx in one_layer_cases() {
        let (t, b) = (fx.meta_usize("seq_len"), fx.meta_usize("batch"));
        let mut blocks = vec![fx.state_block("h0", 0)];
        if fx.has("c0") {
            blocks.push(fx.state_block("c0", 0));
        }
        let init = pack_state(&blocks, &fx.widths(), b);
        let x = fx.get("input");
        let want = fx.get("output");
        let worst = |cell: Box<dyn Cell<f64>>| {
            let out = Recurrent::new(cell)
                .forward(Inputs::new(&x, t, b).initial(&init), None)
                .unwrap()
                .0;
            out.output
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max)
        };
        assert!(worst(cell_of(&fx)) <= TOL_F64, "{}", fx.name);
        let mut cell = cell_of::<f64>(&fx);
        let k = cell
            .params()
            .names()
            .position(|n| n == "weight_hh")
            .unwrap();
        cell.params_mut().at_mut(k).data_mut()[0] += 1e-6;
        assert!(worst(cell) > TOL_F64, "{}", fx.name);
    }
}
