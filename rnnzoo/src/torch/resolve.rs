//! Which cell of the zoo a module's weights are, and an `nn.RNN`'s nonlinearity, which its
//! `state_dict` does not record (see the [module docs](super)).

use std::collections::BTreeMap;

use rnnzoo_layers::file::Tensors;
use rnnzoo_vanilla::Nonlinearity;

use super::{TorchError, TorchOptions, TorchSpec};
use crate::zoo::{self, Entry};

/// How an `nn.RNN`'s nonlinearity was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Settled {
    /// [`TorchOptions::nonlinearity`] said.
    Argument,
    /// The file's metadata said (`mode` or `nonlinearity`).
    Metadata,
    /// Nothing said; tanh, PyTorch's default, was assumed.
    Assumed,
}

impl Settled {
    /// `"argument"`, `"metadata"` or `"assumed"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Argument => "argument",
            Self::Metadata => "metadata",
            Self::Assumed => "assumed",
        }
    }
}

/// The `nn.RNN` nonlinearity the file's metadata records, if any.
fn recorded_nonlinearity(t: &Tensors) -> Result<Option<Nonlinearity>, TorchError> {
    let bad = |key, value: &str, why: &str| TorchError::Metadata {
        key,
        value: value.to_string(),
        why: why.to_string(),
    };
    let from_mode = match t.metadata.get("mode").map(String::as_str) {
        Some(m) if m == Nonlinearity::Relu.mode() => Some(Nonlinearity::Relu),
        Some(m) if m == Nonlinearity::Tanh.mode() => Some(Nonlinearity::Tanh),
        _ => None,
    };
    let from_name = match t.metadata.get("nonlinearity").map(String::as_str) {
        // PyTorch's fixture script writes an empty value for modules without one.
        None | Some("") => None,
        Some("relu") => Some(Nonlinearity::Relu),
        Some("tanh") => Some(Nonlinearity::Tanh),
        Some(v) => return Err(bad("nonlinearity", v, "nn.RNN's are tanh and relu")),
    };
    match (from_mode, from_name) {
        (Some(a), Some(b)) if a != b => Err(bad(
            "nonlinearity",
            &t.metadata["nonlinearity"],
            "the `mode` metadata says otherwise",
        )),
        (a, b) => Ok(a.or(b)),
    }
}

fn nonlinearity_name(n: Nonlinearity) -> &'static str {
    match n {
        Nonlinearity::Tanh => "tanh",
        Nonlinearity::Relu => "relu",
    }
}

/// The zoo's cell for a module, and an `nn.RNN`'s nonlinearity with how it was settled.
type Resolved = (&'static Entry, Option<(Nonlinearity, Settled)>);

/// Whether the kind's cells have a projection (`weight_hr`, PyTorch's `proj_size`): what tells
/// `lstm-proj` from `lstm`, both PyTorch's `LSTM`. Asked of a small zero cell, so that the
/// registry's table needs no field for it.
fn projects(e: &'static Entry) -> bool {
    e.zeros::<f32>(1, 1, false)
        .is_ok_and(|c| c.params().get("weight_hr").is_some())
}

/// The zoo's cell for a module of `spec.gates` gate blocks, with a projection or not, and how an
/// `nn.RNN`'s nonlinearity was settled.
pub(super) fn resolve(
    spec: &TorchSpec,
    file: &Tensors,
    opts: &TorchOptions,
) -> Result<Resolved, TorchError> {
    let loadable = || zoo::entries().iter().filter(|e| e.torch_mode.is_some());
    let candidates: Vec<&'static Entry> = loadable()
        .filter(|e| e.gates == spec.gates && projects(e) == (spec.proj_size > 0))
        .collect();
    let Some(&first) = candidates.first() else {
        let mut by_gates: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
        for e in loadable() {
            let modes = by_gates.entry(e.gates).or_default();
            // `lstm` and `lstm-proj` are both PyTorch's LSTM.
            modes.extend(e.torch_mode.filter(|m| !modes.contains(m)));
        }
        return Err(TorchError::NoCellForGates {
            gates: spec.gates,
            known: by_gates
                .into_iter()
                .map(|(g, m)| format!("{g} ({})", m.join(", ")))
                .collect(),
        });
    };
    // A mode the zoo knows (rnnzoo writes it) must be one of this gate count; other values
    // (PyTorch's fixtures write `RNN`) say nothing the shapes do not.
    if let Some(m) = file.metadata.get("mode") {
        let known = zoo::torch_modes().contains(&m.as_str());
        if known && !candidates.iter().any(|e| e.torch_mode == Some(m.as_str())) {
            return Err(TorchError::Metadata {
                key: "mode",
                value: m.clone(),
                why: format!(
                    "its weights have {} gate blocks: {}",
                    spec.gates,
                    candidates
                        .iter()
                        .filter_map(|e| e.torch_mode)
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            });
        }
    }
    let recorded = recorded_nonlinearity(file)?;
    if candidates.len() == 1 {
        if opts.nonlinearity.is_some() {
            return Err(TorchError::NonlinearityNotApplicable {
                mode: first.torch_mode.unwrap_or(first.cell_mode),
            });
        }
        return Ok((first, None));
    }
    // Several modules share the gate count only where nn.RNN's nonlinearity tells them apart.
    let (nl, settled) = match (opts.nonlinearity, recorded) {
        (Some(a), Some(r)) if a != r => {
            return Err(TorchError::NonlinearityConflict {
                given: nonlinearity_name(a),
                recorded: nonlinearity_name(r).to_string(),
            });
        }
        (Some(a), _) => (a, Settled::Argument),
        (None, Some(r)) => (r, Settled::Metadata),
        (None, None) => (Nonlinearity::Tanh, Settled::Assumed),
    };
    let entry = zoo::for_torch_mode(nl.mode())?;
    Ok((entry, Some((nl, settled))))
}
