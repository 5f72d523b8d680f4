//! Shared by the registry-driven integration tests: every cell kind comes from `rnnzoo::zoo`, so a
//! newly registered cell (or option value) is tested with no edit here.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rnnzoo::cell::{Cell, Real, seeded};
use rnnzoo::zoo::{self, CellChoice};

/// Every kind of the registry, each followed by its non-default option values
/// ([`zoo::variants`]): what the kind-iterating tests run over.
pub fn variants() -> Vec<CellChoice> {
    zoo::variants()
}

/// How many [`variants`] there are: the range of a proptest's kind index.
pub fn count() -> usize {
    zoo::variants().len()
}

/// Variant `k` (modulo [`count`]) with its initialisation from `seed`, every parameter then
/// nudged by `0.01 * N(0, 1)` (from `seed` too).
///
/// The rule for the registry-driven tests: they check gradients by central differences, which
/// need a point where the cell is differentiable. An exact initialisation can sit on a kink:
/// the IRNN (`rnn-relu:init=identity`: `W_hh = I`, zero biases, `W_ih ~ N(0, 0.001^2)`) puts
/// every relu pre-activation within about `1e-4` of zero, where a difference of step `1e-6`
/// straddles the kink often enough to fail a proptest. The nudge moves every variant to a
/// generic point near its initialisation; the initialisations themselves are tested exactly in
/// `init_options.rs` and the cells' own crates.
pub fn cell<T: Real>(k: usize, input: usize, hidden: usize, seed: u64) -> Box<dyn Cell<T>> {
    let all = variants();
    let choice = &all[k % all.len()];
    let mut cell: Box<dyn Cell<T>> = choice
        .build(input, hidden, &mut seeded(seed))
        .unwrap_or_else(|e| panic!("{choice}: {e}"));
    let mut rng = seeded(seed ^ 0x006e_7564_6765);
    for p in cell.params_mut().iter_mut() {
        for v in p.data_mut() {
            let z: f64 = rnnzoo::cell::gradcheck::normal_vec(1, &mut rng)[0];
            *v += T::from_f64_lossy(0.01 * z);
        }
    }
    cell
}

/// The folder of PyTorch reference cases: every loop over cases reads it, so a `.safetensors`
/// file dropped here is tested with no code change.
pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torch")
}

/// Every `.safetensors` case in [`fixture_dir`], sorted; at least the nine shipped.
pub fn fixtures() -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
        .collect();
    files.sort();
    assert!(files.len() >= 9, "the fixture folder lost cases: {files:?}");
    files
}

/// Asserts `|got - want| <= tol` element by element, naming the worst element.
pub fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: {} values, expected {}",
        got.len(),
        want.len()
    );
    let (worst, i) = got
        .iter()
        .zip(want)
        .enumerate()
        .map(|(i, (g, w))| ((g - w).abs(), i))
        .fold(
            (0.0, 0),
            |a, b| if b.0 > a.0 || b.0.is_nan() { b } else { a },
        );
    assert!(
        worst <= tol,
        "{what}: |{} - {}| = {worst:e} at {i} exceeds {tol:e}",
        got[i],
        want[i]
    );
}
