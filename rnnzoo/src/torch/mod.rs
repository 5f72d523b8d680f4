//! Load a PyTorch model's `state_dict` (saved as safetensors) as a rnnzoo [`Stack`](rnnzoo_layers::Stack), or as a
//! whole [`Model`](rnnzoo_layers::Model) when it also holds a `Linear` head; save a stack back under PyTorch's names.
//!
//! ```python
//! # PyTorch side
//! from safetensors.torch import save_file
//! save_file(net.state_dict(), "net.safetensors")   # lstm.weight_ih_l0, ..., fc.weight, fc.bias
//! ```
//!
//! A module saved alone (`save_file(lstm.state_dict(), ...)`) has bare names (`weight_ih_l0`);
//! inside a user's `nn.Module` every name carries the attribute's prefix (`lstm.`, `fc.`), so
//! the caller names them in [`TorchOptions`]. The gate count, sizes, depth, directions and bias
//! come from names and shapes; the zoo's registry ([`crate::zoo::for_torch_mode`]) says which
//! cell computes that module.
//!
//! # The nonlinearity of an `nn.RNN`
//!
//! A `state_dict` does not record `nn.RNN(nonlinearity='relu')`: a relu RNN's file is a tanh
//! RNN's file. The loader takes it, in this order, from [`TorchOptions::nonlinearity`], from the
//! file's metadata (`mode` = `RNN_RELU`/`RNN_TANH`, as rnnzoo writes it, or `nonlinearity` =
//! `relu`/`tanh`), and where neither says, **assumes tanh**, PyTorch's default, and says so in
//! [`TorchModule::nonlinearity`] ([`Settled::Assumed`]; `rnnzoo inspect` prints it). An
//! argument that contradicts the metadata is an error, not a silent choice.
//!
//! ```
//! use rnnzoo::layers::{Inputs, Layer, Readout};
//! use rnnzoo::torch::{self, TorchOptions};
//! # use rnnzoo::layers::{Recurrent, Stack, file::Tensors};
//! # let lstm = Stack::new(vec![Box::new(Recurrent::new(rnnzoo::lstm::LstmCell::<f32>::new(3, 4, &mut rnnzoo::cell::seeded(0))?))])?;
//! # let mut file = Tensors::parse(&torch::to_bytes(&lstm)?, false)?;
//! # file.tensors = file.tensors.into_iter().map(|(k, v)| (format!("lstm.{k}"), v)).collect();
//! # let head = Tensors::parse(&rnnzoo::layers::file::serialize::<f32>(&[("fc.weight".into(), vec![2, 4], &[0.5; 8]), ("fc.bias".into(), vec![2], &[0.1, 0.2])], Default::default())?, false)?;
//! # file.tensors.extend(head.tensors);
//! // `file` is `net.state_dict()` of an `nn.Module` with `self.lstm = nn.LSTM(3, 4)` and
//! // `self.fc = nn.Linear(4, 2)`, read with `Tensors::read(path, false)?`.
//! let opts = TorchOptions::new().rnn_prefix("lstm.").head("fc.").readout(Readout::LastStep);
//! let (module, model) = torch::load_model::<f32>(&file, &opts)?;
//! assert_eq!((module.entry.name, module.spec.hidden_size), ("lstm", 4));
//! let x = vec![0.5f32; 3 * 10 * 2]; // (T=10, B=2, 3)
//! let p = model.predict(Inputs::new(&x, 10, 2))?;
//! assert_eq!(p.predictions.len(), 2 * 2); // fc(h at each sample's last step)
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod load;

use std::collections::BTreeMap;

use rnnzoo_layers::file::Tensors;
use rnnzoo_layers::head::Activation;
use rnnzoo_layers::torch::{parse_name, LAYER0_NAMES};
use rnnzoo_layers::Readout;
use rnnzoo_vanilla::Nonlinearity;

use crate::zoo::{self, Entry};

pub use error::TorchError;
pub use load::{
    factory, load_model, load_stack, load_torch, read_model, read_stack, save, to_bytes,
};
pub use rnnzoo_layers::torch::{CellSpec, TorchSpec};

/// Where the loader finds the module and the head in a `state_dict`, and what it does with the
/// rest. [`TorchOptions::default`] reads a module saved alone: bare names, no head, nothing else
/// in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct TorchOptions {
    /// The prefix of the recurrent module's names (`"lstm."` for `self.lstm`; `""` for a
    /// module saved alone).
    pub rnn_prefix: String,
    /// The prefix of a `Linear` head's `weight` and `bias` (`Some("fc.")`), for
    /// [`load_model`]; `None` for a stack alone.
    pub head_prefix: Option<String>,
    /// What the head reads ([`load_model`]). PyTorch classifiers mostly read
    /// `cat(h_n[-2], h_n[-1])`, the final states of the last layer's directions; for a
    /// unidirectional module that is [`Readout::LastStep`].
    pub readout: Readout,
    /// The head's output function (PyTorch applies any after `fc`, outside the `state_dict`).
    pub activation: Activation,
    /// Skip tensors that are neither the module's nor the head's (an embedding, a second
    /// module) instead of refusing the file. Skipped names are listed in
    /// [`TorchModule::ignored`].
    pub ignore_extra: bool,
    /// An `nn.RNN`'s nonlinearity, which its `state_dict` does not record (see the module
    /// docs). `None`: the file's metadata, else tanh (assumed, and reported as such).
    pub nonlinearity: Option<Nonlinearity>,
}

impl Default for TorchOptions {
    fn default() -> Self {
        Self {
            rnn_prefix: String::new(),
            head_prefix: None,
            readout: Readout::LastStep,
            activation: Activation::Identity,
            ignore_extra: false,
            nonlinearity: None,
        }
    }
}

impl TorchOptions {
    /// The defaults: a module saved alone.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`TorchOptions::rnn_prefix`].
    pub fn rnn_prefix(mut self, prefix: &str) -> Self {
        self.rnn_prefix = prefix.to_string();
        self
    }

    /// Sets [`TorchOptions::head_prefix`].
    pub fn head(mut self, prefix: &str) -> Self {
        self.head_prefix = Some(prefix.to_string());
        self
    }

    /// Sets [`TorchOptions::readout`].
    pub fn readout(mut self, readout: Readout) -> Self {
        self.readout = readout;
        self
    }

    /// Sets [`TorchOptions::activation`].
    pub fn activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Sets [`TorchOptions::ignore_extra`].
    pub fn ignore_extra(mut self, ignore: bool) -> Self {
        self.ignore_extra = ignore;
        self
    }

    /// Sets [`TorchOptions::nonlinearity`].
    pub fn nonlinearity(mut self, nonlinearity: Nonlinearity) -> Self {
        self.nonlinearity = Some(nonlinearity);
        self
    }
}

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

/// What a `state_dict` holds, as the loader reads it (before any cell is built).
#[derive(Debug, Clone, PartialEq)]
pub struct TorchModule {
    /// The module's gate count, sizes, depth, directions and bias.
    pub spec: TorchSpec,
    /// The zoo's cell for it.
    pub entry: &'static Entry,
    /// For an `nn.RNN`: its nonlinearity and how it was settled. `None` for other modules.
    pub nonlinearity: Option<(Nonlinearity, Settled)>,
    /// The head's `(out, in)` and whether it has a bias, if a head prefix was given.
    pub head: Option<(usize, usize, bool)>,
    /// Tensors skipped under [`TorchOptions::ignore_extra`].
    pub ignored: Vec<String>,
}

/// The file's tensors, sorted into the module's (names without the prefix), the head's (names
/// without the prefix) and the rest.
struct Parts {
    rnn: Tensors,
    head: BTreeMap<String, rnnzoo_layers::file::Tensor>,
    extra: Vec<String>,
}

fn split(tensors: &Tensors, opts: &TorchOptions) -> Parts {
    let mut parts = Parts {
        rnn: Tensors {
            tensors: BTreeMap::new(),
            metadata: tensors.metadata.clone(),
        },
        head: BTreeMap::new(),
        extra: Vec::new(),
    };
    for (name, t) in &tensors.tensors {
        // The head first: with an empty module prefix every name would match the module's.
        if let Some(rest) = opts
            .head_prefix
            .as_deref()
            .and_then(|p| name.strip_prefix(p))
        {
            if rest == "weight" || rest == "bias" {
                parts.head.insert(rest.to_string(), t.clone());
                continue;
            }
        }
        match name.strip_prefix(opts.rnn_prefix.as_str()) {
            Some(rest) if parse_name(rest).is_some() => {
                parts.rnn.tensors.insert(rest.to_string(), t.clone());
            }
            _ => parts.extra.push(name.clone()),
        }
    }
    parts
}

/// The prefix most of the file's recurrent-looking names share (`lstm.` of
/// `lstm.weight_ih_l0`), other than `asked`.
fn suggest_prefix(tensors: &Tensors, asked: &str) -> Option<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for name in tensors.tensors.keys() {
        for (k, _) in name.match_indices('.') {
            let (prefix, rest) = name.split_at(k + 1);
            if prefix != asked && parse_name(rest).is_some() {
                *counts.entry(prefix).or_default() += 1;
            }
        }
        if !asked.is_empty() && parse_name(name).is_some() {
            *counts.entry("").or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(p, _)| p.to_string())
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

/// The zoo's cell for a module of `spec.gates` gate blocks, and how an `nn.RNN`'s nonlinearity
/// was settled.
fn resolve(spec: &TorchSpec, file: &Tensors, opts: &TorchOptions) -> Result<Resolved, TorchError> {
    let loadable = || zoo::entries().iter().filter(|e| e.torch_mode.is_some());
    let candidates: Vec<&'static Entry> = loadable().filter(|e| e.gates == spec.gates).collect();
    let Some(&first) = candidates.first() else {
        let mut by_gates: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
        for e in loadable() {
            by_gates.entry(e.gates).or_default().extend(e.torch_mode);
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
            })
        }
        (Some(a), _) => (a, Settled::Argument),
        (None, Some(r)) => (r, Settled::Metadata),
        (None, None) => (Nonlinearity::Tanh, Settled::Assumed),
    };
    let entry = zoo::for_torch_mode(nl.mode())?;
    Ok((entry, Some((nl, settled))))
}

/// Reads what `tensors` holds under `opts` without building anything: the module, the zoo's cell
/// for it, the head's shape, what would be ignored. What `rnnzoo inspect` prints.
///
/// # Errors
///
/// [`TorchError::NoRecurrentWeights`] (naming the expected names and a prefix the file does
/// use), [`TorchError::Extra`] unless extras are ignored, [`TorchError::HeadMissing`] /
/// [`TorchError::HeadShape`] for a head prefix without a `Linear` under it, the nonlinearity and
/// metadata errors of [`TorchError`], and [`TorchSpec::infer`]'s as [`TorchError::File`].
pub fn describe(tensors: &Tensors, opts: &TorchOptions) -> Result<TorchModule, TorchError> {
    let parts = split(tensors, opts);
    describe_parts(tensors, &parts, opts)
}

fn describe_parts(
    tensors: &Tensors,
    parts: &Parts,
    opts: &TorchOptions,
) -> Result<TorchModule, TorchError> {
    if parts.rnn.tensors.is_empty() {
        return Err(TorchError::NoRecurrentWeights {
            prefix: opts.rnn_prefix.clone(),
            expected: LAYER0_NAMES
                .iter()
                .map(|n| format!("{}{n}", opts.rnn_prefix))
                .collect(),
            suggestion: suggest_prefix(tensors, &opts.rnn_prefix),
            found: tensors.tensors.keys().take(8).cloned().collect(),
        });
    }
    if !parts.extra.is_empty() && !opts.ignore_extra {
        return Err(TorchError::Extra {
            names: parts.extra.clone(),
        });
    }
    let spec = TorchSpec::infer(&parts.rnn)?;
    let (entry, nonlinearity) = resolve(&spec, tensors, opts)?;
    let head = match &opts.head_prefix {
        None => None,
        Some(prefix) => Some(head_shape(prefix, &parts.head, tensors)?),
    };
    Ok(TorchModule {
        spec,
        entry,
        nonlinearity,
        head,
        ignored: if opts.ignore_extra {
            parts.extra.clone()
        } else {
            Vec::new()
        },
    })
}

/// `(out, in, has bias)` of the head's tensors.
fn head_shape(
    prefix: &str,
    head: &BTreeMap<String, rnnzoo_layers::file::Tensor>,
    file: &Tensors,
) -> Result<(usize, usize, bool), TorchError> {
    let w = head.get("weight").ok_or_else(|| TorchError::HeadMissing {
        prefix: prefix.to_string(),
        found: file
            .tensors
            .keys()
            .filter(|n| n.starts_with(prefix))
            .cloned()
            .collect(),
    })?;
    let [out, input] = w.shape[..] else {
        return Err(TorchError::HeadShape {
            name: format!("{prefix}weight"),
            shape: w.shape.clone(),
            expected: "(out, in)".into(),
        });
    };
    if let Some(b) = head.get("bias") {
        if b.shape != [out] {
            return Err(TorchError::HeadShape {
                name: format!("{prefix}bias"),
                shape: b.shape.clone(),
                expected: format!("({out},), the weight's rows"),
            });
        }
    }
    Ok((out, input, head.contains_key("bias")))
}
