//! Step checks of the three cells: finite differences (proptest over sizes, batches, seeds and
//! options), the equations written as scalar loops, the step rules, and the typed errors.

mod layer_norm;
mod peephole;
mod slstm;

use rnnzoo_cell::Cell;
use rnnzoo_cell::gradcheck::{self, Report};
use rnnzoo_cell::testing::{backward_step as backward, forward_step as forward};

/// The step's finite-difference check and the column-independence check; panics with both
/// reports on failure.
fn check_step<C: Cell<f64>>(cell: &mut C, batch: usize, seed: u64, what: &str) -> Report {
    let opts = gradcheck::Options::default();
    let columns = gradcheck::check_columns(&*cell, 3, seed, &opts);
    assert!(columns.passed(), "{what}\n{columns}");
    let report = gradcheck::check_cell(cell, batch, seed, &opts);
    assert!(report.passed(), "{what}\n{report}");
    report
}

/// Distinct, deterministic values in (-0.8, 0.8).
fn fill(n: usize, k: f64) -> Vec<f64> {
    (0..n).map(|m| (m as f64 * 0.37 + k).sin() * 0.8).collect()
}

/// Sets every parameter of `cell` to distinct deterministic values; returns them by name.
fn fill_params(cell: &mut dyn Cell<f64>) -> Vec<(String, Vec<f64>)> {
    let mut out = Vec::new();
    let names: Vec<String> = cell.params().names().map(String::from).collect();
    for (k, name) in names.into_iter().enumerate() {
        let n = cell.params().get(&name).unwrap().len();
        let v = fill(n, 1.3 * k as f64 + 0.2);
        cell.params_mut().set(&name, &v).unwrap();
        out.push((name, v));
    }
    out
}

/// Row `r` of the row-major `rows x cols` matrix `w` times `v`.
fn dot_row(w: &[f64], cols: usize, r: usize, v: &[f64]) -> f64 {
    (0..cols).map(|k| w[r * cols + k] * v[k]).sum()
}

fn sig(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn assert_near(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() < 1e-12, "{what}: {got} vs {want}");
}

/// Backward twice into one store doubles the parameter gradients and gives the same `d_x` and
/// `d_prev` (outputs overwritten, gradients added).
fn backward_overwrites_outputs_and_adds_grads(cell: &dyn Cell<f64>, prev: &[f64], seed: u64) {
    let nb = prev.len() / cell.state_size();
    let mut rng = rnnzoo_cell::seeded(seed);
    let x = gradcheck::normal_vec(cell.input_size() * nb, &mut rng);
    let d_next = gradcheck::normal_vec(prev.len(), &mut rng);
    let mut once = cell.params().zeros_like();
    let (dx1, dp1) = backward(cell, &x, prev, &d_next, nb, &mut once, f64::NAN);
    let mut twice = once.clone();
    let (dx2, dp2) = backward(cell, &x, prev, &d_next, nb, &mut twice, f64::NAN);
    assert_eq!((dx1, dp1), (dx2, dp2), "{}", cell.mode());
    for (a, b) in once.iter().zip(twice.iter()) {
        for (u, v) in a.data().iter().zip(b.data()) {
            assert!((2.0 * u - v).abs() < 1e-12, "{} {}", cell.mode(), a.name());
        }
    }
}
