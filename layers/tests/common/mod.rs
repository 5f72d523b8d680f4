//! Shared by the integration tests: reading the PyTorch reference cases and comparing numbers.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};

/// The folder of PyTorch reference cases: drop a `.safetensors` file here to add a case.
pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torch")
}

/// One PyTorch case: every tensor as f64 (lengths as usize) and the metadata.
pub struct Fixture {
    pub name: String,
    tensors: HashMap<String, (Vec<usize>, Vec<f64>)>,
    lengths: Option<Vec<usize>>,
    meta: HashMap<String, String>,
}

impl Fixture {
    pub fn load(file: &str) -> Self {
        Self::from_path(&fixture_dir().join(file))
    }

    pub fn from_path(path: &Path) -> Self {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (_, header) = SafeTensors::read_metadata(&bytes).expect("safetensors header");
        let meta = header.metadata().clone().unwrap_or_default();
        let st = SafeTensors::deserialize(&bytes).expect("safetensors body");
        let mut tensors = HashMap::new();
        let mut lengths = None;
        for (name, view) in st.tensors() {
            match view.dtype() {
                Dtype::F64 => {
                    let v = view
                        .data()
                        .chunks_exact(8)
                        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                        .collect();
                    tensors.insert(name, (view.shape().to_vec(), v));
                }
                Dtype::I64 if name == "lengths" => {
                    lengths = Some(
                        view.data()
                            .chunks_exact(8)
                            .map(|c| i64::from_le_bytes(c.try_into().unwrap()) as usize)
                            .collect(),
                    );
                }
                d => panic!("{name}: unexpected dtype {d:?}"),
            }
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        Self {
            name,
            tensors,
            lengths,
            meta,
        }
    }

    pub fn get(&self, name: &str) -> &[f64] {
        &self
            .tensors
            .get(name)
            .unwrap_or_else(|| panic!("{}: no tensor {name}", self.name))
            .1
    }

    pub fn has(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    pub fn shape(&self, name: &str) -> &[usize] {
        &self.tensors[name].0
    }

    pub fn meta(&self, key: &str) -> &str {
        self.meta.get(key).map(String::as_str).unwrap_or("")
    }

    pub fn meta_usize(&self, key: &str) -> usize {
        self.meta(key)
            .parse()
            .unwrap_or_else(|_| panic!("{}: metadata {key} = {:?}", self.name, self.meta(key)))
    }

    pub fn lengths(&self) -> Option<&[usize]> {
        self.lengths.as_deref()
    }

    /// Row `k` of a `(layers*dirs, B, H)` tensor: the `H x B` state block of layer/direction `k`.
    pub fn state_block(&self, name: &str, k: usize) -> &[f64] {
        let s = self.shape(name);
        let n = s[1] * s[2];
        &self.get(name)[k * n..(k + 1) * n]
    }
}

/// Interleaves `H x B` blocks (h, then c, ...) into a `(parts*H) x B` state, column `b` being
/// `[h_b; c_b; ...]`.
pub fn pack_state(parts: &[&[f64]], hidden: usize, batch: usize) -> Vec<f64> {
    let s = parts.len() * hidden;
    let mut out = vec![0.0; s * batch];
    for b in 0..batch {
        for (k, part) in parts.iter().enumerate() {
            out[b * s + k * hidden..][..hidden].copy_from_slice(&part[b * hidden..][..hidden]);
        }
    }
    out
}

/// Block `k` (`H x B`) of a `(parts*H) x B` state.
pub fn unpack_state(
    state: &[f64],
    k: usize,
    parts: usize,
    hidden: usize,
    batch: usize,
) -> Vec<f64> {
    let s = parts * hidden;
    (0..batch)
        .flat_map(|b| state[b * s + k * hidden..][..hidden].to_vec())
        .collect()
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

use rnnzoo_cell::{seeded, Cell, CellError, Real};
use rnnzoo_gru::{GruCell, GruResetBeforeCell};
use rnnzoo_layers::torch::CellSpec;
use rnnzoo_lstm::LstmCell;
use rnnzoo_vanilla::{Nonlinearity, VanillaCell};

/// Every cell kind of the zoo, by number (for proptest): rnn-tanh, rnn-relu, lstm, gru,
/// gru-reset-before.
pub const KINDS: usize = 5;

/// A cell of kind `kind` (see [`KINDS`]) with PyTorch's default initialisation.
pub fn any_cell<T: Real>(kind: usize, input: usize, hidden: usize, seed: u64) -> Box<dyn Cell<T>> {
    let rng = &mut seeded(seed);
    match kind % KINDS {
        0 => Box::new(VanillaCell::new(input, hidden, Nonlinearity::Tanh, rng).unwrap()),
        1 => Box::new(VanillaCell::new(input, hidden, Nonlinearity::Relu, rng).unwrap()),
        2 => Box::new(LstmCell::new(input, hidden, rng).unwrap()),
        3 => Box::new(GruCell::new(input, hidden, rng).unwrap()),
        _ => Box::new(GruResetBeforeCell::new(input, hidden, rng).unwrap()),
    }
}

/// The cell of PyTorch's module with `spec.gates` gate blocks, parameters zero: the factory
/// `torch::load_stack` takes. One gate block is `nn.RNN`, tanh (PyTorch's default).
pub fn torch_factory<T: Real>(spec: &CellSpec) -> Result<Box<dyn Cell<T>>, CellError> {
    torch_cell(spec, Nonlinearity::Tanh)
}

/// [`torch_factory`] with an `nn.RNN`'s nonlinearity given (a `state_dict` does not record it).
pub fn torch_cell<T: Real>(
    spec: &CellSpec,
    nonlinearity: Nonlinearity,
) -> Result<Box<dyn Cell<T>>, CellError> {
    let (i, h, bias) = (spec.input, spec.hidden, spec.bias);
    Ok(match spec.gates {
        1 => Box::new(VanillaCell::zeros(i, h, nonlinearity, bias)?),
        4 => Box::new(LstmCell::zeros(i, h, bias)?),
        _ => Box::new(GruCell::zeros(i, h, bias)?),
    })
}
