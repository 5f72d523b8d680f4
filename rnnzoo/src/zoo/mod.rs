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
use rnnzoo_cell::{chrono, irnn, orthogonal_recurrent, Cell, CellError, ChronoGates, Params, Real};
use rnnzoo_gru::{GruCell, GruResetBeforeCell};
use rnnzoo_lstm::{LstmCell, LstmOptions};
use rnnzoo_orthogonal::{ExpRnnCell, SkewInit};
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
    ExpRnn,
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
    &["0", "1", "chrono"],
    "initial effective bias of the forget gate: 0 (PyTorch's init), exactly 1 \
          (Jozefowicz et al. 2015; the f block of bias_ih is 1, of bias_hh 0), or chrono \
          (Tallec & Ollivier 2018: b_f ~ log(U[1, t_max - 1]) and b_i = -b_f in bias_ih, \
          the f and i blocks of bias_hh 0)",
);

/// `init=` of the tanh RNN and the gated cells: how `weight_hh` starts.
const INIT_ORTHOGONAL: OptionSpec = OptionSpec::listed(
    "init",
    &["pytorch", "orthogonal"],
    "recurrent weights: PyTorch's uniform, or each H x H gate block of weight_hh a random \
     orthogonal matrix (Saxe et al. 2014; QR of a Gaussian with Mezzadri 2007's sign fix)",
);

/// `init=` of the relu RNN: also the IRNN.
const INIT_RELU: OptionSpec = OptionSpec::listed(
    "init",
    &["pytorch", "identity", "orthogonal"],
    "recurrent weights: PyTorch's uniform; identity, the IRNN (Le, Jaitly & Hinton 2015: \
     weight_hh = I, biases 0, weight_ih ~ N(0, 0.001^2)); or weight_hh a random orthogonal \
     matrix (Saxe et al. 2014)",
);

const UPDATE_BIAS: OptionSpec = OptionSpec::listed(
    "update_bias",
    &["pytorch", "chrono"],
    "initial effective bias of the update gate z (h' = (1 - z) n + z h): PyTorch's init, or \
     chrono (Tallec & Ollivier 2018: b_z ~ log(U[1, t_max - 1]) in bias_ih, the z block of \
     bias_hh 0)",
);

/// Chrono initialisation's `T_max`. The paper sets it per task to the longest range of the
/// dependencies; 100 is rnnzoo's default, not the paper's.
const T_MAX: OptionSpec = OptionSpec::real(
    "t_max",
    100.0,
    2.0,
    1e9,
    "T_max of chrono initialisation, the longest dependency (in steps) to capture; read only \
     with chrono (rnnzoo's default 100)",
);

const SKEW_INIT: OptionSpec = OptionSpec::listed(
    "skew_init",
    &["henaff", "cayley"],
    "the skew-symmetric parameter's initialisation in the authors' code: henaff (2x2 rotation \
     blocks, angles U[-pi, pi]; Henaff et al. 2016) or cayley (Helfrich et al. 2018)",
);

const ELMAN: &str = "Elman, \"Finding structure in time\", Cognitive Science 14(2), 1990";
const LSTM_REF: &str = "Hochreiter & Schmidhuber, \"Long short-term memory\", Neural Computation \
                        9(8), 1997; forget gate: Gers, Schmidhuber & Cummins, 2000";
const EXPRNN_REF: &str = "Lezcano-Casado & Martinez-Rubio, \"Cheap orthogonal constraints in \
                          neural networks: a simple parametrization of the orthogonal and \
                          unitary group\", ICML 2019";
const GRU_REF: &str = "Cho et al., \"Learning phrase representations using RNN encoder-decoder \
                       for statistical machine translation\", EMNLP 2014";

static ENTRIES: [Entry; 6] = [
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
        options: &[INIT_ORTHOGONAL],
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
        options: &[INIT_RELU],
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
        options: &[FORGET_BIAS, INIT_ORTHOGONAL, T_MAX],
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
        options: &[INIT_ORTHOGONAL, UPDATE_BIAS, T_MAX],
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
        options: &[INIT_ORTHOGONAL, UPDATE_BIAS, T_MAX],
        id: Id::GruResetBefore,
    },
    Entry {
        name: "exprnn",
        label: "exprnn",
        crate_name: "rnnzoo-orthogonal",
        rust_type: "ExpRnnCell",
        form: Form::General,
        torch_mode: None,
        cell_mode: "EXPRNN",
        gates: 1,
        state: &["h"],
        reference: EXPRNN_REF,
        summary: "h' = modrelu(W_ih x + exp(S)^T h), S skew-symmetric from skew_hh: an orthogonal \
                  recurrent matrix, exp(S) once per pass (the authors' OrthogonalRNN)",
        options: &[SKEW_INIT],
        id: Id::ExpRnn,
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
            // The modReLU bias is part of the cell: a loader's `bias` does not remove it.
            Id::ExpRnn => Ok(match source {
                Source::Random(rng) => {
                    let init = match options.value(self, "skew_init")? {
                        "cayley" => SkewInit::Cayley,
                        _ => SkewInit::Henaff,
                    };
                    Box::new(ExpRnnCell::new(input, hidden, init, rng)?)
                }
                Source::Zeros { .. } => Box::new(ExpRnnCell::zeros(input, hidden)?),
            }),
        }
    }

    /// The initialisation options that rewrite a built cell's parameters (`init=orthogonal`,
    /// `init=identity`, `forget_bias=chrono`, `update_bias=chrono`), drawing from `rng` after
    /// the cell's own initialisation; options the kind does not declare are not read.
    fn apply_init_options<T: Real>(
        &'static self,
        params: &mut Params<T>,
        options: &Options,
        rng: &mut dyn RngCore,
    ) -> Result<(), ZooError> {
        let declares = |name: &str| self.options.iter().any(|o| o.name == name);
        if declares("init") {
            match options.value(self, "init")? {
                "orthogonal" => orthogonal_recurrent(params, rng)?,
                "identity" => irnn(params, rng)?,
                _ => {}
            }
        }
        for (option, gates) in [
            ("forget_bias", ChronoGates::LSTM),
            ("update_bias", ChronoGates::GRU),
        ] {
            if declares(option) && options.value(self, option)? == "chrono" {
                chrono(params, gates, options.number(self, "t_max")?, rng)?;
            }
        }
        Ok(())
    }

    /// A cell of this kind with PyTorch's default initialisation and `options` (see
    /// [`CellChoice::build`] for a kind and its options together). The initialisation options
    /// (`init=orthogonal|identity`, `forget_bias=chrono`, `update_bias=chrono`) rewrite the
    /// parameters after the kind's own initialisation, drawing from the same `rng`.
    ///
    /// ```
    /// use rnnzoo::zoo::{self, Options};
    /// let relu = zoo::get("rnn-relu")?;
    /// let irnn = relu.build::<f64, _>(2, 3, &Options::parse(relu, "init=identity")?, &mut rnnzoo::cell::seeded(0))?;
    /// assert_eq!(irnn.params().get("weight_hh").unwrap().data(), &[1., 0., 0., 0., 1., 0., 0., 0., 1.]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
        let mut cell = self.make(input, hidden, options, Source::Random(&mut *rng))?;
        self.apply_init_options(cell.params_mut(), options, rng)?;
        Ok(cell)
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
