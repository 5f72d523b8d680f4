//! The expRNN cell (`rnnzoo::orthogonal`, registry name `exprnn`) against a PyTorch reference
//! written from the authors' equations (`tests/fixtures/orthogonal/generate.py`: `ExpRNN`, with
//! `torch.linalg.matrix_exp` and autograd): one to three layers, one and both directions,
//! variable lengths and an initial state; outputs, final states and every gradient (parameters,
//! input, initial state) to 1e-9 in float64. Every `exprnn_*` case in the folder is run; the
//! matrix exponential and its Frechet adjoint are also checked alone against
//! `torch.linalg.matrix_exp` and its autograd, on a general matrix.

use std::path::{Path, PathBuf};

use crate::common::assert_close;
use rnnzoo::cell::{Cell, Params};
use rnnzoo::layers::file::Tensors;
use rnnzoo::layers::{Bidirectional, Inputs, Layer, Merge, Recurrent, Stack};
use rnnzoo::zoo;

const TOL: f64 = 1e-9;

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/orthogonal");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("exprnn_"))
        })
        .collect();
    files.sort();
    assert!(files.len() >= 4, "the fixture folder lost cases: {files:?}");
    files
}

struct Case {
    name: String,
    t: Tensors,
}

impl Case {
    fn read(path: &Path) -> Self {
        Self {
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
            t: Tensors::read(path, true).unwrap(),
        }
    }
    fn meta(&self, key: &str) -> usize {
        self.t.metadata[key].parse().unwrap()
    }
    fn bidirectional(&self) -> bool {
        self.t.metadata["bidirectional"] == "true"
    }
    fn get(&self, name: &str) -> Vec<f64> {
        self.t
            .tensors
            .get(name)
            .unwrap_or_else(|| panic!("{}: no tensor {name}", self.name))
            .to_vec()
    }
    fn lengths(&self) -> Option<Vec<usize>> {
        self.t
            .tensors
            .get("lengths")
            .map(|l| l.to_vec::<f64>().iter().map(|&v| v as usize).collect())
    }

    /// The case's network, every cell built by the registry, with the case's parameters.
    fn stack(&self) -> Stack<f64> {
        let entry = zoo::get("exprnn").unwrap();
        let (i, h) = (self.meta("input_size"), self.meta("hidden_size"));
        let dirs = if self.bidirectional() { 2 } else { 1 };
        let cell = |k: usize| -> Recurrent<Box<dyn Cell<f64>>> {
            let input = if k == 0 { i } else { dirs * h };
            Recurrent::new(entry.zeros::<f64>(input, h, true).unwrap())
        };
        let layers: Vec<Box<dyn Layer<f64>>> = (0..self.meta("num_layers"))
            .map(|k| -> Box<dyn Layer<f64>> {
                if dirs == 2 {
                    Box::new(Bidirectional::new(cell(k), cell(k), Merge::Concat).unwrap())
                } else {
                    Box::new(cell(k))
                }
            })
            .collect();
        let mut stack = Stack::new(layers).unwrap();
        let suffixes: Vec<String> = stack.param_groups().into_iter().map(|g| g.suffix).collect();
        for (params, suffix) in stack.params_mut().into_iter().zip(&suffixes) {
            let names: Vec<String> = params.names().map(String::from).collect();
            for n in names {
                params.set(&n, &self.get(&format!("{n}{suffix}"))).unwrap();
            }
        }
        stack
    }
}

/// Runs a case through `stack` and compares everything; returns the worst difference of the
/// output (for the test that shows the comparison can fail).
fn check(case: &Case, stack: &Stack<f64>, tol: f64) {
    let name = &case.name;
    let (t, b) = (case.meta("seq_len"), case.meta("batch"));
    let (x, h0) = (case.get("input"), case.get("h0"));
    let lengths = case.lengths();
    // A (layers*dirs, B, H) state is the stack's state as it lies: leaf-major, sample columns.
    let mut inputs = Inputs::new(&x, t, b).initial(&h0);
    if let Some(l) = &lengths {
        inputs = inputs.lengths(l);
    }
    let (out, tape) = stack.forward(inputs, None).unwrap();
    assert_eq!(stack.infer(inputs).unwrap(), out, "{name}: inference");
    assert_close(
        &format!("{name} output"),
        &out.output,
        &case.get("output"),
        tol,
    );
    assert_close(
        &format!("{name} h_n"),
        &out.final_state,
        &case.get("h_n"),
        tol,
    );
    let mut grads = stack.zero_grads();
    let g = stack
        .backward(
            &tape,
            &case.get("dout"),
            Some(&case.get("dh_n")),
            &mut grads,
        )
        .unwrap();
    assert_close(
        &format!("{name} grad.input"),
        &g.d_input,
        &case.get("grad.input"),
        tol,
    );
    assert_close(
        &format!("{name} grad.h0"),
        &g.d_initial,
        &case.get("grad.h0"),
        tol,
    );
    let mut checked = 0;
    for (group, pg) in grads.iter().zip(stack.param_groups()) {
        for p in Params::iter(group) {
            let key = format!("grad.{}{}", p.name(), pg.suffix);
            assert_close(&format!("{name} {key}"), p.data(), &case.get(&key), tol);
            checked += 1;
        }
    }
    let params = case
        .t
        .tensors
        .keys()
        .filter(|k| k.starts_with("grad.") && !k.ends_with("input") && !k.ends_with("h0"));
    assert_eq!(
        checked,
        params.count(),
        "{name}: every parameter's gradient compared"
    );
}

#[test]
fn every_case_matches_pytorch() {
    for path in cases() {
        let case = Case::read(&path);
        check(&case, &case.stack(), TOL);
    }
}

#[test]
fn the_lower_triangle_of_skew_hh_is_unused_and_a_wrong_upper_entry_is_caught() {
    let case = Case::read(&cases()[0]);
    let h = case.meta("hidden_size");
    let perturbed = |i: usize, j: usize| {
        let mut stack = case.stack();
        let p = stack.params_mut().remove(0);
        let k = p.index_of("skew_hh").unwrap();
        p.at_mut(k).data_mut()[i * h + j] += 0.5;
        stack
    };
    // Below the diagonal: the same network (the authors' triu(A, 1) - triu(A, 1)^T).
    check(&case, &perturbed(h - 1, 0), TOL);
    let wrong = std::panic::catch_unwind(|| check(&case, &perturbed(0, h - 1), TOL));
    assert!(
        wrong.is_err(),
        "a changed upper entry must fail the comparison"
    );
}

#[test]
fn the_exponential_and_its_adjoint_match_torch_matrix_exp_and_autograd() {
    use rnnzoo::orthogonal::expm::{expm, expm_frechet_adjoint};
    use rnnzoo::orthogonal::nalgebra::DMatrix;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/orthogonal");
    let t = Tensors::read(&dir.join("expm_adjoint_6.safetensors"), true).unwrap();
    let n: usize = t.metadata["n"].parse().unwrap();
    let mat = |name: &str| DMatrix::from_row_slice(n, n, &t.tensors[name].to_vec::<f64>());
    let row_major = |m: DMatrix<f64>| m.transpose().as_slice().to_vec();
    let (x, g) = (mat("x"), mat("g"));
    // A general matrix (not skew-symmetric), so the adjoint's transpose is tested too.
    assert!((&x + x.transpose()).amax() > 0.1);
    assert_close("expm", &row_major(expm(&x)), &row_major(mat("expm")), 1e-12);
    let d = expm_frechet_adjoint(&x, &g);
    assert_close("grad.x", &row_major(d), &row_major(mat("grad.x")), 1e-11);
}
