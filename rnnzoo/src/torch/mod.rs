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
//! # The projection LSTM
//!
//! `nn.LSTM(..., proj_size=P)` is PyTorch's mode `LSTM` too; a file with `weight_hr_l0` loads as
//! the registry's `lstm-proj` (the LSTM kind whose cells have a `weight_hr`), built with a hidden
//! (output) size of `P` and `cell_size` PyTorch's `hidden_size` `H` ([`factory`]).
//! [`TorchSpec::proj_size`] is `P`; `h_n` is `(layers*dirs, B, P)` and `c_n` `(layers*dirs, B, H)`
//! ([`TorchSpec::state_to_torch`]).
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
mod options;
mod resolve;

use std::collections::BTreeMap;

use rnnzoo_layers::file::Tensors;
use rnnzoo_layers::torch::{LAYER0_NAMES, parse_name};
use rnnzoo_vanilla::Nonlinearity;

use crate::zoo::Entry;
use resolve::resolve;

pub use error::TorchError;
pub use load::{
    factory, load_model, load_stack, load_torch, read_model, read_stack, save, to_bytes,
};
pub use options::TorchOptions;
pub use resolve::Settled;
pub use rnnzoo_layers::torch::{CellSpec, TorchSpec};

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
            && (rest == "weight" || rest == "bias")
        {
            parts.head.insert(rest.to_string(), t.clone());
            continue;
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
    if let Some(b) = head.get("bias")
        && b.shape != [out]
    {
        return Err(TorchError::HeadShape {
            name: format!("{prefix}bias"),
            shape: b.shape.clone(),
            expected: format!("({out},), the weight's rows"),
        });
    }
    Ok((out, input, head.contains_key("bias")))
}
