//! The zoo registry: every cell kind of rnnzoo by name, with what a user, the command line, the
//! benches, the experiments and the PyTorch loader need to know about it, and one factory.
//!
//! ```
//! use rnnzoo::zoo;
//!
//! // Every kind, as `rnnzoo cells` prints them.
//! for e in zoo::entries() {
//!     println!("{:<18} {:<8} {:<9} {}", e.name, e.form.name(), e.torch_mode.unwrap_or("-"), e.reference);
//! }
//! // A cell by name and options, PyTorch's initialisation from a seeded source.
//! let lstm = zoo::CellChoice::parse("lstm", "forget_bias=1")?;
//! let cell = lstm.build::<f32, _>(8, 16, &mut rnnzoo::cell::seeded(0))?;
//! assert_eq!(cell.mode(), "LSTM");
//! assert_eq!(lstm.label(), "lstm (forget bias 1)");
//! // Names and options that do not exist are errors that list what does.
//! assert!(matches!(zoo::get("lstn"), Err(zoo::ZooError::UnknownCell { .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Adding a cell
//!
//! A new kind is one [`Entry`] in the table of this module and one arm in its private factory
//! (the compiler asks for the arm: the match is exhaustive). It then appears in `rnnzoo cells`,
//! `rnnzoo speed --cell`, the benches, the registry's tests, and (with a `torch_mode`) the
//! PyTorch loader.

mod choice;
mod error;
mod option;

use rand::RngCore;
use rnnzoo_cell::{Cell, CellError, Real};
use rnnzoo_gru::{GruCell, GruResetBeforeCell};
use rnnzoo_lstm::{LstmCell, LstmOptions};
use rnnzoo_vanilla::{Nonlinearity, VanillaCell};

pub use choice::CellChoice;
pub use error::ZooError;
pub use option::{OptionSpec, OptionValues, Options, MAX_OPTIONS};

/// How a cell's step is computed, as the unroller sees it ([`rnnzoo_cell::StepForm`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Form {
    /// Two GEMMs per step (`W_ih x` over all steps, `W_hh h` per step) and a pointwise part:
    /// [`rnnzoo_cell::GatedCell`].
    Gated,
    /// The cell writes the whole step: [`rnnzoo_cell::GeneralStep`].
    General,
}

impl Form {
    /// `"gated"` or `"general"`, as in `rnnzoo cells --json`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Gated => "gated",
            Self::General => "general",
        }
    }
}

/// Which constructor an entry's factory calls. Private: the registry's table is the public list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Id {
    RnnTanh,
    RnnRelu,
    Lstm,
    Gru,
    GruResetBefore,
}

/// One cell kind of the zoo.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Entry {
    /// The name on the command line and in `rnnzoo cells` (`lstm`).
    pub name: &'static str,
    /// A label for tables and plots (`gru (reset before)`).
    pub label: &'static str,
    /// The crate that defines the cell.
    #[serde(rename = "crate")]
    pub crate_name: &'static str,
    /// The Rust type.
    pub rust_type: &'static str,
    /// The step form.
    pub form: Form,
    /// The PyTorch mode whose `state_dict` this cell loads and saves exactly (`LSTM`), or `None`
    /// for a cell PyTorch does not have.
    pub torch_mode: Option<&'static str>,
    /// What [`Cell::mode`] reports for this kind.
    pub cell_mode: &'static str,
    /// Gate blocks `G`: `weight_hh` is `(G*H, H)`.
    pub gates: usize,
    /// The `H x B` blocks of a cell's state, in order (`["h", "c"]`).
    pub state: &'static [&'static str],
    /// The paper.
    pub reference: &'static str,
    /// One line on what the cell is.
    pub summary: &'static str,
    /// The options it takes.
    pub options: &'static [OptionSpec],
    #[serde(skip)]
    id: Id,
}

const FORGET_BIAS: OptionSpec = OptionSpec::listed(
    "forget_bias",
    &["0", "1"],
    "initial effective bias of the forget gate: 0 (PyTorch's init) or exactly 1 \
          (Jozefowicz et al. 2015; the f block of bias_ih is 1, of bias_hh 0)",
);

const ELMAN: &str = "Elman, \"Finding structure in time\", Cognitive Science 14(2), 1990";
const LSTM_REF: &str = "Hochreiter & Schmidhuber, \"Long short-term memory\", Neural Computation \
                        9(8), 1997; forget gate: Gers, Schmidhuber & Cummins, 2000";
const GRU_REF: &str = "Cho et al., \"Learning phrase representations using RNN encoder-decoder \
                       for statistical machine translation\", EMNLP 2014";

static ENTRIES: [Entry; 5] = [
    Entry {
        name: "rnn-tanh",
        label: "rnn-tanh",
        crate_name: "rnnzoo-vanilla",
        rust_type: "VanillaCell (Nonlinearity::Tanh)",
        form: Form::Gated,
        torch_mode: Some("RNN_TANH"),
        cell_mode: "RNN_TANH",
        gates: 1,
        state: &["h"],
        reference: ELMAN,
        summary: "h' = tanh(W_ih x + b_ih + W_hh h + b_hh), PyTorch's nn.RNN",
        options: &[],
        id: Id::RnnTanh,
    },
    Entry {
        name: "rnn-relu",
        label: "rnn-relu",
        crate_name: "rnnzoo-vanilla",
        rust_type: "VanillaCell (Nonlinearity::Relu)",
        form: Form::Gated,
        torch_mode: Some("RNN_RELU"),
        cell_mode: "RNN_RELU",
        gates: 1,
        state: &["h"],
        reference: ELMAN,
        summary: "h' = relu(W_ih x + b_ih + W_hh h + b_hh), nn.RNN(nonlinearity='relu')",
        options: &[],
        id: Id::RnnRelu,
    },
    Entry {
        name: "lstm",
        label: "lstm",
        crate_name: "rnnzoo-lstm",
        rust_type: "LstmCell",
        form: Form::Gated,
        torch_mode: Some("LSTM"),
        cell_mode: "LSTM",
        gates: 4,
        state: &["h", "c"],
        reference: LSTM_REF,
        summary: "gates i, f, g, o in PyTorch's order and bias placement, nn.LSTM",
        options: &[FORGET_BIAS],
        id: Id::Lstm,
    },
    Entry {
        name: "gru",
        label: "gru",
        crate_name: "rnnzoo-gru",
        rust_type: "GruCell",
        form: Form::Gated,
        torch_mode: Some("GRU"),
        cell_mode: "GRU",
        gates: 3,
        state: &["h"],
        reference: GRU_REF,
        summary: "gates r, z, n, reset applied after the recurrent product, nn.GRU",
        options: &[],
        id: Id::Gru,
    },
    Entry {
        name: "gru-reset-before",
        label: "gru (reset before)",
        crate_name: "rnnzoo-gru",
        rust_type: "GruResetBeforeCell",
        form: Form::General,
        torch_mode: None,
        cell_mode: "GRU_RESET_BEFORE",
        gates: 3,
        state: &["h"],
        reference: GRU_REF,
        summary: "the original GRU: reset applied to h before the recurrent product \
                  (PyTorch's names and shapes, not its function)",
        options: &[],
        id: Id::GruResetBefore,
    },
];

/// Every cell kind, in table order.
pub fn entries() -> &'static [Entry] {
    &ENTRIES
}

/// The kind called `name`.
///
/// # Errors
///
/// [`ZooError::UnknownCell`], listing every name.
pub fn get(name: &str) -> Result<&'static Entry, ZooError> {
    ENTRIES
        .iter()
        .find(|e| e.name == name)
        .ok_or_else(|| ZooError::UnknownCell {
            name: name.to_string(),
            known: names(),
        })
}

/// Every name, in table order.
pub fn names() -> Vec<&'static str> {
    ENTRIES.iter().map(|e| e.name).collect()
}

/// The kind that loads PyTorch's mode `mode` (`"LSTM"`).
///
/// # Errors
///
/// [`ZooError::UnknownTorchMode`], listing the modes the zoo loads.
pub fn for_torch_mode(mode: &str) -> Result<&'static Entry, ZooError> {
    ENTRIES
        .iter()
        .find(|e| e.torch_mode == Some(mode))
        .ok_or_else(|| ZooError::UnknownTorchMode {
            mode: mode.to_string(),
            known: torch_modes(),
        })
}

/// The kind whose cells report `mode` as their [`Cell::mode`] (`"GRU_RESET_BEFORE"`): what a
/// file's recorded cell modes (rnnzoo's weights files, `rnnzoo.modes`) are looked up by.
pub fn for_cell_mode(mode: &str) -> Option<&'static Entry> {
    ENTRIES.iter().find(|e| e.cell_mode == mode)
}

/// The PyTorch modes the zoo loads and saves, in table order.
pub fn torch_modes() -> Vec<&'static str> {
    ENTRIES.iter().filter_map(|e| e.torch_mode).collect()
}

/// Where a new cell's parameters come from.
enum Source<'a> {
    /// PyTorch's default initialisation (and the kind's options) from this random source.
    Random(&'a mut dyn RngCore),
    /// All zero, with or without biases: a cell a loader fills.
    Zeros { bias: bool },
}

impl Entry {
    /// The option `name`'s declaration.
    ///
    /// # Errors
    ///
    /// [`ZooError::UnknownOption`], listing this kind's options.
    pub fn option(&'static self, name: &str) -> Result<&'static OptionSpec, ZooError> {
        self.options
            .iter()
            .find(|o| o.name == name)
            .ok_or_else(|| ZooError::UnknownOption {
                cell: self.name,
                option: name.to_string(),
                known: self.options.iter().map(|o| o.name).collect(),
            })
    }

    fn make<T: Real>(
        &'static self,
        input: usize,
        hidden: usize,
        options: &Options,
        source: Source<'_>,
    ) -> Result<Box<dyn Cell<T>>, ZooError> {
        let elman = |n, source| -> Result<Box<dyn Cell<T>>, ZooError> {
            Ok(match source {
                Source::Random(rng) => Box::new(VanillaCell::new(input, hidden, n, rng)?),
                Source::Zeros { bias } => Box::new(VanillaCell::zeros(input, hidden, n, bias)?),
            })
        };
        match self.id {
            Id::RnnTanh => elman(Nonlinearity::Tanh, source),
            Id::RnnRelu => elman(Nonlinearity::Relu, source),
            Id::Lstm => Ok(match source {
                Source::Random(rng) => {
                    let o = LstmOptions::default()
                        .with_unit_forget_bias(options.value(self, "forget_bias")? == "1");
                    Box::new(LstmCell::with_options(input, hidden, o, rng)?)
                }
                Source::Zeros { bias } => Box::new(LstmCell::zeros(input, hidden, bias)?),
            }),
            Id::Gru => Ok(match source {
                Source::Random(rng) => Box::new(GruCell::new(input, hidden, rng)?),
                Source::Zeros { bias } => Box::new(GruCell::zeros(input, hidden, bias)?),
            }),
            Id::GruResetBefore => Ok(match source {
                Source::Random(rng) => Box::new(GruResetBeforeCell::new(input, hidden, rng)?),
                Source::Zeros { bias } => Box::new(GruResetBeforeCell::zeros(input, hidden, bias)?),
            }),
        }
    }

    /// A cell of this kind with PyTorch's default initialisation and `options` (see
    /// [`CellChoice::build`] for a kind and its options together).
    ///
    /// # Errors
    ///
    /// [`ZooError::Cell`] for a zero size, [`ZooError::UnknownOption`] for an option parsed for
    /// another kind.
    pub fn build<T: Real, R: RngCore>(
        &'static self,
        input: usize,
        hidden: usize,
        options: &Options,
        rng: &mut R,
    ) -> Result<Box<dyn Cell<T>>, ZooError> {
        self.make(input, hidden, options, Source::Random(rng))
    }

    /// A cell of this kind with every parameter zero, with or without biases: what a loader
    /// builds before it copies a file's values in. Initialisation options do not apply.
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] for a zero size.
    pub fn zeros<T: Real>(
        &'static self,
        input: usize,
        hidden: usize,
        bias: bool,
    ) -> Result<Box<dyn Cell<T>>, CellError> {
        self.make(input, hidden, &Options::default(), Source::Zeros { bias })
            .map_err(|e| match e {
                ZooError::Cell(c) => c,
                // Zero cells read no option; kept total rather than trusted.
                other => CellError::Mismatch(other.to_string()),
            })
    }
}

/// The kinds `names`, default options, in the order given.
///
/// # Errors
///
/// [`ZooError::UnknownCell`] for the first name that is not in the registry.
pub fn choices(names: &[&str]) -> Result<Vec<CellChoice>, ZooError> {
    names.iter().map(|n| CellChoice::named(n)).collect()
}

/// Every kind with its default options, each followed by the kind once with each non-default
/// value of each of its options (`lstm`, `lstm (forget bias 1)`, ...): what a table of every
/// cell shows.
pub fn variants() -> Vec<CellChoice> {
    let mut out = Vec::new();
    for e in entries() {
        out.push(CellChoice::from_entry(e, Options::default()));
        for o in e.options {
            // A numeric option has no finite list of values: its default stands for it.
            let OptionValues::Listed(values) = o.values else {
                continue;
            };
            for v in &values[1..] {
                // Declared values of declared options always parse.
                if let Ok(opts) = Options::parse(e, &format!("{}={v}", o.name)) {
                    out.push(CellChoice::from_entry(e, opts));
                }
            }
        }
    }
    out
}
