//! What can go wrong loading a PyTorch `state_dict`.

use rnnzoo_layers::LayerError;
use rnnzoo_layers::file::FileError;

use crate::zoo::ZooError;

/// A `state_dict` the loader cannot map onto rnnzoo, or options that do not fit it.
#[derive(Debug, thiserror::Error)]
pub enum TorchError {
    /// No tensor is a recurrent parameter under the prefix asked for.
    #[error(
        "no recurrent weights under the prefix `{prefix}`: expected names like {}{}; the file holds {}",
        expected.join(", "),
        suggestion.as_ref().map_or(String::new(), |p| format!(
            " (the file has recurrent weights under `{p}`: pass rnn_prefix = \"{p}\", or `--prefix {p}`)"
        )),
        if found.is_empty() { "no tensors".to_string() } else { found.join(", ") }
    )]
    NoRecurrentWeights {
        /// The prefix looked under (`""` for a bare module's `state_dict`).
        prefix: String,
        /// The names layer 0 of a module under that prefix has.
        expected: Vec<String>,
        /// A prefix under which the file does hold recurrent weights (`lstm.`), if any.
        suggestion: Option<String>,
        /// Some of the file's names (at most eight).
        found: Vec<String>,
    },
    /// Tensors that are neither the recurrent module's nor the head's, and extras were not to
    /// be ignored.
    #[error(
        "tensors that are neither the recurrent module's nor the head's: {} (name a head prefix, \
         or ignore extra tensors)",
        names.join(", ")
    )]
    Extra {
        /// Their names.
        names: Vec<String>,
    },
    /// The head prefix was given but the file has no `Linear` weight under it.
    #[error("no head under `{prefix}`: expected `{prefix}weight` (out, in) and optionally `{prefix}bias` (out); found {}", if found.is_empty() { "nothing under it".to_string() } else { found.join(", ") })]
    HeadMissing {
        /// The head prefix.
        prefix: String,
        /// The names under it.
        found: Vec<String>,
    },
    /// A head tensor has the wrong number of dimensions or disagreeing sizes.
    #[error("head tensor `{name}` has shape {shape:?}; expected {expected}")]
    HeadShape {
        /// The tensor.
        name: String,
        /// Its shape.
        shape: Vec<usize>,
        /// What it should be.
        expected: String,
    },
    /// No cell of the zoo is PyTorch's module of this gate count.
    #[error("weight_hh_l0 has {gates} gate blocks; the zoo loads {}", known.join(", "))]
    NoCellForGates {
        /// Gate blocks in the file.
        gates: usize,
        /// What the zoo loads: `1 (RNN_TANH, RNN_RELU)`, ...
        known: Vec<String>,
    },
    /// A nonlinearity was given for a module that has none (`nn.LSTM`, `nn.GRU`).
    #[error(
        "a nonlinearity was given, but the file holds {mode}, which has none (only nn.RNN does)"
    )]
    NonlinearityNotApplicable {
        /// The module's mode.
        mode: &'static str,
    },
    /// The nonlinearity given and the one the file's metadata records differ.
    #[error("the nonlinearity given is {given}, but the file's metadata says {recorded}")]
    NonlinearityConflict {
        /// The one given.
        given: &'static str,
        /// The one recorded.
        recorded: String,
    },
    /// The file's metadata names a mode that its shapes contradict, or a nonlinearity of no
    /// module.
    #[error("metadata `{key}` = `{value}` does not fit the file: {why}")]
    Metadata {
        /// The key.
        key: &'static str,
        /// Its value.
        value: String,
        /// Why it does not fit.
        why: String,
    },
    /// The file, or the module's tensors in it.
    #[error(transparent)]
    File(#[from] FileError),
    /// Putting the model together (the head does not fit the body).
    #[error(transparent)]
    Layer(#[from] LayerError),
    /// The registry.
    #[error(transparent)]
    Zoo(#[from] ZooError),
}
