//! Parity against a PyTorch reference of a cell family's equations: every case of a fixture folder
//! (`tests/fixtures/<family>/*.safetensors`, written by that folder's `generate.py`) is rebuilt as
//! a [`Stack`] of the registry's cells and compared, in float64, to PyTorch's outputs, final
//! states and every gradient (parameters, input, initial state).
//!
//! A case names its registry cell and options in its metadata (`cell`, `options`), with
//! `input_size`, `hidden_size`, `state_size`, `num_layers`, `bidirectional`, `seq_len` and
//! `batch`; its tensors are the parameters under PyTorch's names (`weight_ih_l0`,
//! `..._l1_reverse`), `input (T, B, I)`, `h0 (layers*dirs, B, S)`, `lengths (B)`, `output`,
//! `h_n`, the cotangents `dout`, `dh_n` and `grad.<name>` for each of those. Those layouts are
//! rnnzoo's own, byte for byte: a stack's state is its layers' `S x B` blocks in `h_n` order, and
//! the output is `dirs*H x (T*B)`. A case dropped into the folder is tested with no code change.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rnnzoo::cell::{Cell, seeded};
use rnnzoo::layers::file::Tensors;
use rnnzoo::layers::{Bidirectional, Inputs, Layer, Merge, Recurrent, Stack};
use rnnzoo::zoo::CellChoice;

/// The tolerance of every comparison, float64.
pub const TOL: f64 = 1e-9;

/// One case of a fixture folder.
pub struct Case {
    /// The file name.
    pub name: String,
    tensors: Tensors,
    x: Vec<f64>,
    h0: Vec<f64>,
    lengths: Vec<usize>,
}

impl Case {
    fn read(path: &Path) -> Self {
        let mut case = Self {
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
            tensors: Tensors::read(path, true).unwrap(),
            x: Vec::new(),
            h0: Vec::new(),
            lengths: Vec::new(),
        };
        case.x = case.get("input");
        case.h0 = case.get("h0");
        case.lengths = case.get("lengths").iter().map(|&v| v as usize).collect();
        case
    }

    /// A metadata value ("" if absent).
    pub fn meta(&self, key: &str) -> &str {
        self.tensors.metadata.get(key).map_or("", String::as_str)
    }

    fn size(&self, key: &str) -> usize {
        self.meta(key)
            .parse()
            .unwrap_or_else(|_| panic!("{}: metadata {key} = {:?}", self.name, self.meta(key)))
    }

    /// A tensor's values as f64.
    pub fn get(&self, name: &str) -> Vec<f64> {
        self.tensors
            .tensors
            .get(name)
            .unwrap_or_else(|| panic!("{}: no tensor {name}", self.name))
            .to_vec()
    }

    /// The registry cell and options the case was made for.
    pub fn choice(&self) -> CellChoice {
        CellChoice::parse(self.meta("cell"), self.meta("options"))
            .unwrap_or_else(|e| panic!("{}: {e}", self.name))
    }

    fn dirs(&self) -> usize {
        if self.meta("bidirectional") == "true" {
            2
        } else {
            1
        }
    }

    /// The case's stack, each cell built by the registry and given the case's parameters.
    pub fn stack(&self) -> Stack<f64> {
        let choice = self.choice();
        let (i, h, dirs) = (
            self.size("input_size"),
            self.size("hidden_size"),
            self.dirs(),
        );
        let cell = |layer: usize, suffix: &str| -> Box<dyn Cell<f64>> {
            let input = if layer == 0 { i } else { dirs * h };
            let mut cell = choice.build::<f64, _>(input, h, &mut seeded(0)).unwrap();
            assert_eq!(cell.state_size(), self.size("state_size"), "{}", self.name);
            let names: Vec<String> = cell.params().names().map(String::from).collect();
            for n in names {
                let v = self.get(&format!("{n}_l{layer}{suffix}"));
                cell.params_mut().set(&n, &v).unwrap();
            }
            cell
        };
        let layers: Vec<Box<dyn Layer<f64>>> = (0..self.size("num_layers"))
            .map(|l| -> Box<dyn Layer<f64>> {
                let fwd = Recurrent::new(cell(l, ""));
                if dirs == 2 {
                    let bwd = Recurrent::new(cell(l, "_reverse"));
                    Box::new(Bidirectional::new(fwd, bwd, Merge::Concat).unwrap())
                } else {
                    Box::new(fwd)
                }
            })
            .collect();
        Stack::new(layers).unwrap()
    }

    /// The worst difference of the stack's inferred output from PyTorch's.
    pub fn worst_output(&self, stack: &Stack<f64>) -> f64 {
        let out = stack.infer(self.inputs()).unwrap();
        worst(&out.output, &self.get("output"))
    }

    /// The case's sequence, initial state and lengths.
    fn inputs(&self) -> Inputs<'_, f64> {
        Inputs::new(&self.x, self.size("seq_len"), self.size("batch"))
            .initial(&self.h0)
            .lengths(&self.lengths)
    }
}

/// The largest `|a - b|`.
pub fn worst(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, |m, d| if d.is_nan() || d > m { d } else { m })
}

fn close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let w = worst(got, want);
    assert!(w <= TOL, "{what}: worst |difference| {w:e} exceeds {TOL:e}");
}

/// Every case of `tests/fixtures/<family>`, sorted.
pub fn cases(family: &str) -> Vec<Case> {
    let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(family);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
        .collect();
    files.sort();
    files.iter().map(|p| Case::read(p)).collect()
}

/// Outputs, final states and every gradient of `case` against PyTorch's, to [`TOL`]; the taped
/// forward is also inference's.
pub fn check(case: &Case) {
    let name = &case.name;
    let stack = case.stack();
    let inferred = stack.infer(case.inputs()).unwrap();
    let (out, tape) = stack.forward(case.inputs(), None).unwrap();
    assert_eq!(out, inferred, "{name}: taped forward and inference differ");
    close(&format!("{name} output"), &out.output, &case.get("output"));
    close(&format!("{name} h_n"), &out.final_state, &case.get("h_n"));
    let mut grads = stack.zero_grads();
    let g = stack
        .backward(
            &tape,
            &case.get("dout"),
            Some(&case.get("dh_n")),
            &mut grads,
        )
        .unwrap();
    close(
        &format!("{name} grad.input"),
        &g.d_input,
        &case.get("grad.input"),
    );
    close(
        &format!("{name} grad.h0"),
        &g.d_initial,
        &case.get("grad.h0"),
    );
    let mut checked = 0;
    for (group, grad) in stack.param_groups().iter().zip(&grads) {
        for p in grad.iter() {
            let torch_name = format!("{}{}", p.name(), group.suffix);
            close(
                &format!("{name} grad.{torch_name}"),
                p.data(),
                &case.get(&format!("grad.{torch_name}")),
            );
            checked += 1;
        }
    }
    let in_file = case
        .tensors
        .tensors
        .keys()
        .filter(|k| k.starts_with("grad.") && k.as_str() != "grad.input" && k.as_str() != "grad.h0")
        .count();
    assert_eq!(
        checked, in_file,
        "{name}: every parameter gradient compared"
    );
}

/// The parity check can fail: one element of `weight_ih_l0` moved by `1e-6` moves the output by
/// more than [`TOL`]. (Not `weight_hh`: the AntisymmetricRNN reads `W - W^T`, in which a diagonal
/// element cancels.)
pub fn a_wrong_weight_is_caught(case: &Case) {
    let mut stack = case.stack();
    assert!(case.worst_output(&stack) <= TOL, "{}", case.name);
    let params = stack.params_mut().remove(0);
    let k = params.index_of("weight_ih").unwrap();
    params.at_mut(k).data_mut()[0] += 1e-6;
    assert!(case.worst_output(&stack) > TOL, "{}", case.name);
}
