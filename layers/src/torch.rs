//! PyTorch interop: build a stack from an `nn.RNN`/`nn.LSTM`/`nn.GRU` `state_dict` saved as
//! safetensors, and save any compatible stack back under the same names.
//!
//! PyTorch's names are `{weight,bias}_{ih,hh}_l{k}` (and `weight_hr_l{k}` for an LSTM with a
//! projection) and `..._l{k}_reverse`; rnnzoo's parameters have the same names without the suffix
//! and the same shapes and storage, so the mapping copies values and nothing else. The gate count,
//! sizes, depth, direction, bias and projection are inferred from names and shapes (`weight_hh_l0`
//! is `(G*H, H)`, or `(4H, P)` beside a `weight_hr_l0` of `(P, H)`).
//!
//! # The projection LSTM (`proj_size`)
//!
//! `nn.LSTM(..., proj_size=P)` keeps `h` `P` wide and `c` `H` wide: its `h_n` is
//! `(layers*dirs, B, P)`, its `c_n` `(layers*dirs, B, H)`, its output `(T, B, dirs*P)`, and layer
//! `k > 0` reads `dirs*P` values. [`TorchSpec::hidden_size`] stays PyTorch's `H` and
//! [`TorchSpec::proj_size`] is `P` (0 without a projection, PyTorch's default); the cell's
//! [`Cell::hidden_size`] is its output width, `P`, and its state `[h (P rows); c (H rows)]`.
//! [`TorchSpec::state_from_torch`] and [`TorchSpec::state_to_torch`] split and join states that way.
//!
//! `rnnzoo-layers` knows no concrete cell, so the caller passes a factory that makes a cell of a
//! [`CellSpec`]. Most users want `rnnzoo::torch` instead: it strips a model's prefixes
//! (`lstm.weight_ih_l0`), maps the gate count to a cell through the zoo's registry, settles an
//! `nn.RNN`'s nonlinearity (which a `state_dict` does not record) and loads a `Linear` head.
//!
//! ```python
//! # PyTorch side: save a model for rnnzoo, and load one rnnzoo saved.
//! from safetensors.torch import save_file, load_file
//! save_file(lstm.state_dict(), "lstm.safetensors")
//! lstm.load_state_dict(load_file("from_rnnzoo.safetensors"))
//! ```

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use rnnzoo_cell::{Cell, CellError, Real};

use crate::file::{FileError, Tensors, serialize, write_atomic};
use crate::{Bidirectional, Layer, Merge, Recurrent, Stack};

/// What a `state_dict` describes, from its names and shapes alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TorchSpec {
    /// Gate blocks `G` (`weight_hh_l0` is `(G*H, H)`): 1 for `nn.RNN`, 3 for `nn.GRU`, 4 for
    /// `nn.LSTM`. Which cell that is, and an `nn.RNN`'s nonlinearity (which the names do not
    /// record), is the factory's to decide (`rnnzoo::torch` asks the zoo's registry).
    pub gates: usize,
    /// `H x B` blocks in each cell's state: 2 (`h`, `c`) for PyTorch's one module with a cell
    /// state, `nn.LSTM` (4 gate blocks), else 1. [`load_stack`] checks it against the cells.
    pub state_parts: usize,
    /// `input_size`.
    pub input_size: usize,
    /// `hidden_size`: the rows of each gate block, and of `c` (PyTorch's meaning also with a
    /// projection).
    pub hidden_size: usize,
    /// `proj_size`: the rows of `h` and of each direction's output when the LSTM has a projection
    /// (`weight_hr_l0` is `(P, H)`), 0 without one (PyTorch's default).
    pub proj_size: usize,
    /// `num_layers`.
    pub num_layers: usize,
    /// `bidirectional`.
    pub bidirectional: bool,
    /// `bias`.
    pub bias: bool,
}

/// The cell a factory is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellSpec {
    /// Gate blocks `G` of the module ([`TorchSpec::gates`]).
    pub gates: usize,
    /// Input size of this layer (`input_size` for layer 0, `dirs * output` above, the output
    /// being `proj_size` with a projection and `hidden_size` without).
    pub input: usize,
    /// Hidden size, PyTorch's `hidden_size` (the rows of each gate block).
    pub hidden: usize,
    /// PyTorch's `proj_size`: 0 for no projection, else `P`, and the cell must have a `weight_hr`
    /// of `(P, H)`, an output of `P` rows and a state of `P + H` rows.
    pub proj: usize,
    /// Whether the cell has biases.
    pub bias: bool,
}

/// The parameter names of layer 0 of a bare `nn.RNN`/`nn.LSTM`/`nn.GRU` `state_dict`.
pub const LAYER0_NAMES: [&str; 4] = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"];

/// Splits a bare recurrent parameter name of PyTorch's into (base, layer, reverse):
/// `weight_hh_l1_reverse` is `("weight_hh", 1, true)`; `None` for any other name (`fc.weight`,
/// `lstm.weight_ih_l0`).
pub fn parse_name(name: &str) -> Option<(&str, usize, bool)> {
    let (rest, reverse) = match name.strip_suffix("_reverse") {
        Some(r) => (r, true),
        None => (name, false),
    };
    let (base, layer) = rest.rsplit_once("_l")?;
    let layer = layer.parse().ok()?;
    ["weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"]
        .contains(&base)
        .then_some((base, layer, reverse))
}

impl TorchSpec {
    /// Infers the module from the names and shapes of `tensors` (every tensor must be a
    /// recurrent parameter under PyTorch's bare names, `weight_ih_l0`, ...).
    ///
    /// # Errors
    ///
    /// [`FileError::Unexpected`] for a name that is not a recurrent parameter,
    /// [`FileError::Unsupported`] for a name that is a recurrent parameter under a prefix
    /// (`lstm.weight_ih_l0`: the message names the prefix to strip), a shape of no module, or a
    /// projection PyTorch would not build (`weight_hr_l0` not `(P, H)` with `0 < P < H` and
    /// `weight_hh_l0` `(4H, P)`), [`FileError::Missing`] for a set without `weight_ih_l0` or
    /// `weight_hh_l0`.
    pub fn infer(tensors: &Tensors) -> Result<Self, FileError> {
        let mut layers = 0;
        let mut bidirectional = false;
        for name in tensors.tensors.keys() {
            let Some((_, layer, reverse)) = parse_name(name) else {
                return Err(match prefix_of(name) {
                    Some(prefix) => FileError::Unsupported(format!(
                        "`{name}` is a recurrent parameter under the prefix `{prefix}`: a \
                         module's state_dict has bare names ({}); strip the prefix first \
                         (rnnzoo's loader takes it as `rnn_prefix`)",
                        LAYER0_NAMES.join(", ")
                    )),
                    None => FileError::Unexpected { name: name.clone() },
                });
            };
            layers = layers.max(layer + 1);
            bidirectional |= reverse;
        }
        let w_hh = tensors
            .tensors
            .get("weight_hh_l0")
            .ok_or_else(|| FileError::Missing {
                name: "weight_hh_l0".into(),
            })?;
        let w_ih = tensors
            .tensors
            .get("weight_ih_l0")
            .ok_or_else(|| FileError::Missing {
                name: "weight_ih_l0".into(),
            })?;
        let bad = |what: &str, shape: &[usize]| {
            FileError::Unsupported(format!("{what} has shape {shape:?}"))
        };
        let [gh, h_cols] = w_hh.shape[..] else {
            return Err(bad("weight_hh_l0", &w_hh.shape));
        };
        let [_, input_size] = w_ih.shape[..] else {
            return Err(bad("weight_ih_l0", &w_ih.shape));
        };
        // W_hh reads h: H columns, or P beside a projection W_hr (P, H), whose H the gates have.
        let (hidden, proj_size) = match tensors.tensors.get("weight_hr_l0") {
            None => (h_cols, 0),
            Some(w_hr) => projection(&w_hr.shape, &w_hh.shape)?,
        };
        if hidden == 0 || gh % hidden != 0 || gh == 0 || input_size == 0 {
            return Err(bad("weight_hh_l0", &w_hh.shape));
        }
        let gates = gh / hidden;
        if proj_size > 0 && gates != 4 {
            return Err(FileError::Unsupported(format!(
                "weight_hr_l0 is a projection, which only nn.LSTM has (4 gate blocks);                  weight_hh_l0 {:?} has {gates} blocks of H={hidden}",
                w_hh.shape
            )));
        }
        let bias = tensors.tensors.contains_key("bias_ih_l0");
        Ok(Self {
            gates,
            state_parts: if gates == 4 { 2 } else { 1 },
            input_size,
            hidden_size: hidden,
            proj_size,
            num_layers: layers,
            bidirectional,
            bias,
        })
    }

    /// Directions (1 or 2).
    pub fn dirs(&self) -> usize {
        if self.bidirectional { 2 } else { 1 }
    }

    /// Rows of `h`, of each direction's output and of each `h0`/`h_n` row: `proj_size` with a
    /// projection, else `hidden_size`.
    pub fn output_size(&self) -> usize {
        if self.proj_size > 0 {
            self.proj_size
        } else {
            self.hidden_size
        }
    }

    /// Rows of each cell's state: `h` ([`output_size`](Self::output_size)), then `c`
    /// (`hidden_size`) for an LSTM.
    pub fn cell_state_size(&self) -> usize {
        self.part_rows().iter().sum()
    }

    /// The rows of each part of a cell's state, `[h]` or `[h, c]`.
    fn part_rows(&self) -> Vec<usize> {
        let mut rows = vec![self.output_size()];
        rows.extend(std::iter::repeat_n(self.hidden_size, self.state_parts - 1));
        rows
    }

    /// Converts PyTorch's `h0` (and `c0` for LSTM) into a stack state (each cell's
    /// `state_size x B` block, column `b` = `[h_b; c_b]`). `h0` is `(layers*dirs, B, out)` with
    /// `out` the [`output_size`](Self::output_size) (`P` with a projection), `c0` is
    /// `(layers*dirs, B, H)`.
    ///
    /// # Errors
    ///
    /// [`FileError::Shape`] if a tensor does not hold `layers*dirs*B*rows` values, or `c0` is
    /// missing (or present) against the mode.
    pub fn state_from_torch<T: Real>(
        &self,
        h0: &[f64],
        c0: Option<&[f64]>,
        batch: usize,
    ) -> Result<Vec<T>, FileError> {
        let parts: Vec<&[f64]> = match (self.state_parts, c0) {
            (2, Some(c)) => vec![h0, c],
            (2, _) => return Err(FileError::Missing { name: "c0".into() }),
            (_, None) => vec![h0],
            (_, Some(_)) => return Err(FileError::Unexpected { name: "c0".into() }),
        };
        let (k, rows) = (self.num_layers * self.dirs(), self.part_rows());
        for ((p, name), &h) in parts.iter().zip(["h0", "c0"]).zip(&rows) {
            if p.len() != k * batch * h {
                return Err(FileError::Shape {
                    name: name.into(),
                    expected: vec![k, batch, h],
                    got: vec![p.len()],
                });
            }
        }
        let s = self.cell_state_size();
        let mut state = vec![T::zero(); k * s * batch];
        for leaf in 0..k {
            for b in 0..batch {
                let mut at = leaf * s * batch + b * s;
                for (part, &h) in parts.iter().zip(&rows) {
                    let src = &part[(leaf * batch + b) * h..][..h];
                    state[at..at + h]
                        .iter_mut()
                        .zip(src)
                        .for_each(|(d, &v)| *d = T::from_f64_lossy(v));
                    at += h;
                }
            }
        }
        Ok(state)
    }

    /// Converts a stack state into PyTorch's `(h_n, c_n)` (`c_n` for LSTM only): `h_n` is
    /// `(layers*dirs, B, out)` with `out` the [`output_size`](Self::output_size), `c_n` is
    /// `(layers*dirs, B, H)`.
    ///
    /// # Errors
    ///
    /// [`FileError::Shape`] (named `state`) if `state` does not hold
    /// `layers*dirs * cell_state_size * batch` values.
    pub fn state_to_torch<T: Real>(
        &self,
        state: &[T],
        batch: usize,
    ) -> Result<(Vec<T>, Option<Vec<T>>), FileError> {
        let (k, rows) = (self.num_layers * self.dirs(), self.part_rows());
        let s = self.cell_state_size();
        if state.len() != k * s * batch {
            return Err(FileError::Shape {
                name: "state".into(),
                expected: vec![k, s, batch],
                got: vec![state.len()],
            });
        }
        let part = |q: usize| {
            let (skip, h) = (rows[..q].iter().sum::<usize>(), rows[q]);
            let mut out = Vec::with_capacity(k * batch * h);
            for leaf in 0..k {
                for b in 0..batch {
                    out.extend_from_slice(&state[leaf * s * batch + b * s + skip..][..h]);
                }
            }
            out
        };
        Ok((part(0), (rows.len() == 2).then(|| part(1))))
    }
}

/// `(H, P)` of a projection LSTM from the shapes of `weight_hr_l0` (`(P, H)`) and `weight_hh_l0`
/// (`(4H, P)`), refusing what PyTorch would not build (`0 < P < H`).
fn projection(w_hr: &[usize], w_hh: &[usize]) -> Result<(usize, usize), FileError> {
    let [proj, hidden] = w_hr[..] else {
        return Err(FileError::Unsupported(format!(
            "weight_hr_l0 has shape {w_hr:?}; a projection is (proj_size, hidden_size)"
        )));
    };
    if proj == 0 || proj >= hidden {
        return Err(FileError::Unsupported(format!(
            "weight_hr_l0 has shape {w_hr:?}: proj_size {proj} and hidden_size {hidden}, but \
             nn.LSTM needs 0 < proj_size < hidden_size"
        )));
    }
    if w_hh.get(1) != Some(&proj) {
        return Err(FileError::Unsupported(format!(
            "weight_hh_l0 has shape {w_hh:?}; beside weight_hr_l0 {w_hr:?} it reads the \
             projection, (4*{hidden}, {proj})"
        )));
    }
    Ok((hidden, proj))
}

/// `lstm.` of `lstm.weight_ih_l0`: the prefix before a recurrent parameter's name, if any.
fn prefix_of(name: &str) -> Option<&str> {
    let (prefix, tail) = name.rsplit_once('.')?;
    parse_name(tail).map(|_| &name[..=prefix.len()])
}

/// Builds a stack from a `state_dict`: the module `TorchSpec::infer` finds, with every cell made
/// by `factory` and filled with the file's values. The result computes what the PyTorch module
/// computes (a bidirectional layer concatenates `[forward; reverse]`, as PyTorch does).
///
/// # Errors
///
/// As [`TorchSpec::infer`]; [`FileError::Missing`]/[`FileError::Shape`] if a cell's parameter is
/// not in the file as that cell needs it, [`FileError::Unexpected`] for a tensor no cell took,
/// [`FileError::Unsupported`] for a cell whose output or state is not the module's (its
/// [`TorchSpec::output_size`] and [`TorchSpec::cell_state_size`] rows), and the factory's errors.
pub fn load_stack<T: Real>(
    tensors: &Tensors,
    factory: impl Fn(&CellSpec) -> Result<Box<dyn Cell<T>>, CellError>,
) -> Result<(TorchSpec, Stack<T>), FileError> {
    let spec = TorchSpec::infer(tensors)?;
    let mut used = BTreeSet::new();
    let mut layers: Vec<Box<dyn Layer<T>>> = Vec::with_capacity(spec.num_layers);
    for l in 0..spec.num_layers {
        let input = if l == 0 {
            spec.input_size
        } else {
            spec.output_size() * spec.dirs()
        };
        let cell_spec = CellSpec {
            gates: spec.gates,
            input,
            hidden: spec.hidden_size,
            proj: spec.proj_size,
            bias: spec.bias,
        };
        let mut make = |suffix: &str| -> Result<Recurrent<Box<dyn Cell<T>>>, FileError> {
            let mut cell = factory(&cell_spec)?;
            let (out, rows) = (spec.output_size(), spec.cell_state_size());
            if cell.state_size() != rows || cell.hidden_size() != out {
                return Err(FileError::Unsupported(format!(
                    "the factory's {} cell keeps {} state rows and outputs {}; a {}-gate \
                     PyTorch module with H={} and proj_size={} keeps {rows} state rows and \
                     outputs {out}",
                    cell.mode(),
                    cell.state_size(),
                    cell.hidden_size(),
                    spec.gates,
                    spec.hidden_size,
                    spec.proj_size,
                )));
            }
            let names: Vec<(String, Vec<usize>)> = cell
                .params()
                .iter()
                .map(|p| (p.name().to_string(), p.shape().to_vec()))
                .collect();
            for (name, shape) in names {
                let full = format!("{name}_l{l}{suffix}");
                let values: Vec<T> = tensors
                    .take(&full, &shape)?
                    .iter()
                    .map(|&v| T::from_f64_lossy(v))
                    .collect();
                cell.params_mut().set(&name, &values)?;
                used.insert(full);
            }
            Ok(Recurrent::new(cell))
        };
        let fwd = make("")?;
        if spec.bidirectional {
            let bwd = make("_reverse")?;
            layers.push(Box::new(Bidirectional::new(fwd, bwd, Merge::Concat)?));
        } else {
            layers.push(Box::new(fwd));
        }
    }
    if let Some(name) = tensors.tensors.keys().find(|n| !used.contains(*n)) {
        return Err(FileError::Unexpected { name: name.clone() });
    }
    Ok((spec, Stack::new(layers)?))
}

/// The parameters of `layer` under PyTorch's names (`weight_ih_l0`, `..._l1_reverse`), in
/// order. A layer outside a [`Stack`] counts as layer 0.
pub fn torch_names<T: Real>(layer: &dyn Layer<T>) -> Vec<(String, Vec<usize>, &[T])> {
    let mut out = Vec::new();
    for g in layer.param_groups() {
        let suffix = if g.suffix.starts_with("_l") {
            g.suffix.clone()
        } else {
            format!("_l0{}", g.suffix)
        };
        for p in g.params.iter() {
            out.push((
                format!("{}{suffix}", p.name()),
                p.shape().to_vec(),
                p.data(),
            ));
        }
    }
    out
}

/// Serialises `layer`'s parameters as a `state_dict` PyTorch's `load_state_dict` takes unchanged,
/// with metadata `mode` (the cells' [`Cell::mode`]), `input_size`, `hidden_size` (PyTorch's: the
/// rows of a gate block), `num_layers`, `bidirectional`, and `proj_size` for cells with a
/// projection (a `weight_hr` of `(P, H)`). `torch_modes` are the cell modes that compute what a
/// PyTorch module computes (`rnnzoo::torch::to_bytes` passes the registry's); a cell of any other
/// mode is refused, because a file of PyTorch's names and shapes would load into PyTorch and
/// compute something else.
///
/// # Errors
///
/// [`FileError::Unsupported`] if a cell is not of a PyTorch mode (such a stack still saves with
/// `checkpoint::save_weights`), or the cells disagree on mode, hidden size or projection.
pub fn to_torch_bytes<T: Real>(
    layer: &dyn Layer<T>,
    torch_modes: &[&str],
) -> Result<Vec<u8>, FileError> {
    let groups = layer.param_groups();
    let first = groups
        .first()
        .ok_or_else(|| FileError::Unsupported("a layer without parameters".into()))?;
    if !torch_modes.contains(&first.mode) {
        return Err(FileError::Unsupported(format!(
            "cell mode {} is not one of PyTorch's ({})",
            first.mode,
            torch_modes.join(", ")
        )));
    }
    // PyTorch's (hidden_size, proj_size) of a group: a projection's W_hr is (P, H).
    let sizes = |g: &crate::ParamGroup<'_, T>| match g.params.get("weight_hr").map(|p| p.shape()) {
        Some(&[p, h]) => (h, p),
        _ => (g.hidden_size, 0),
    };
    let (hidden, proj) = sizes(first);
    if let Some(g) = groups
        .iter()
        .find(|g| g.mode != first.mode || sizes(g) != (hidden, proj))
    {
        let (h, p) = sizes(g);
        return Err(FileError::Unsupported(format!(
            "PyTorch modules have one mode, hidden size and proj_size; this stack mixes {} \
             (H={hidden}, P={proj}) and {} (H={h}, P={p})",
            first.mode, g.mode
        )));
    }
    let bidirectional = groups.iter().any(|g| g.suffix.ends_with("_reverse"));
    let layers = groups.len() / if bidirectional { 2 } else { 1 };
    let mut metadata = HashMap::from([
        ("mode".to_string(), first.mode.to_string()),
        ("input_size".to_string(), layer.input_size().to_string()),
        ("hidden_size".to_string(), hidden.to_string()),
        ("num_layers".to_string(), layers.to_string()),
        ("bidirectional".to_string(), bidirectional.to_string()),
        ("format".to_string(), "pt".to_string()),
    ]);
    if proj > 0 {
        metadata.insert("proj_size".to_string(), proj.to_string());
    }
    serialize(&torch_names(layer), metadata)
}

/// [`to_torch_bytes`], written atomically to `path`.
///
/// # Errors
///
/// As [`to_torch_bytes`], and [`FileError::Io`].
pub fn save_torch<T: Real>(
    layer: &dyn Layer<T>,
    torch_modes: &[&str],
    path: &Path,
) -> Result<(), FileError> {
    write_atomic(path, &to_torch_bytes(layer, torch_modes)?)
}
