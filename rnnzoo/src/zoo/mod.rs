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
use rnnzoo_cell::{Cell, CellError, ChronoGates, Params, Real, chrono, irnn, orthogonal_recurrent};
use rnnzoo_dynamical::{AntisymmetricCell, AntisymmetricConstants, CoRnnCell, CoRnnConstants};
use rnnzoo_gru::{GruCell, GruResetBeforeCell};
use rnnzoo_indrnn::{IndRnnCell, IndRnnOptions, RecurrentInit};
use rnnzoo_lru::{LruCell, LruOptions};
use rnnzoo_lstm::{LstmCell, LstmOptions, LstmProjCell};
use rnnzoo_lstm_variants::{
    ForgetGate, LayerNormLstmCell, PeepholeLstmCell, SlstmCell, SlstmOptions,
};
use rnnzoo_mingru::{Candidate, MinGruCell};
use rnnzoo_minimal::{MguCell, UgrnnCell};
use rnnzoo_minlstm::MinLstmCell;
use rnnzoo_orthogonal::{ExpRnnCell, SkewInit};
use rnnzoo_qrnn::QrnnCell;
use rnnzoo_sru::SruCell;
use rnnzoo_vanilla::{Nonlinearity, VanillaCell};

pub use choice::CellChoice;
pub use error::ZooError;
pub use option::{MAX_OPTIONS, OptionSpec, OptionValues, Options};

/// How a cell's step is computed, as the unroller sees it ([`rnnzoo_cell::StepForm`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Form {
    /// Two GEMMs per step (`W_ih x` over all steps, `W_hh h` per step) and a pointwise part:
    /// [`rnnzoo_cell::GatedCell`].
    Gated,
    /// The cell writes the whole step: [`rnnzoo_cell::GeneralStep`].
    General,
    /// The cell computes a whole pass at once, an elementwise recurrence after one input GEMM
    /// over all steps: [`rnnzoo_cell::scan::ScanPass`].
    Scan,
}

impl Form {
    /// `"gated"`, `"general"` or `"scan"`, as in `rnnzoo cells --json`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Gated => "gated",
            Self::General => "general",
            Self::Scan => "scan",
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
    LstmProj,
    LstmPeephole,
    LstmLayerNorm,
    Slstm,
    Mgu,
    Ugrnn,
    CoRnn,
    Antisymmetric,
    AntisymmetricGated,
    Qrnn,
    Sru,
    IndRnn,
    Lru,
    MinGru,
    MinLstm,
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
    /// Gate blocks `G`: `weight_hh` is `(G*H, H)` (`(4H, P)` for `lstm-proj`, whose `h` is `P`
    /// wide).
    pub gates: usize,
    /// The names of the row blocks of the cell's block-structured tensors, in row order
    /// (`["i", "f", "g", "o"]`), for reports that name a row's gate
    /// ([`Report::name_gates`](crate::cell::gradcheck::Report::name_gates)); empty for a cell
    /// whose tensors have one block each. This may differ from [`gates`](Entry::gates), which
    /// counts `weight_hh`'s blocks: `antisymmetric-gated` has one recurrent matrix and a
    /// `weight_ih` of blocks `z, h`. SRU names a fourth block (`highway`, its `W_x`) that it has
    /// when the input and hidden sizes differ.
    pub gate_names: &'static [&'static str],
    /// The `H x B` blocks of a cell's state, in order (`["h", "c"]`; for `lstm-proj`, `h` is the
    /// cell's output width and `c` its `cell_size`).
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

const CELL_SIZE: OptionSpec = OptionSpec::integer(
    "cell_size",
    0,
    0,
    1 << 20,
    "rows of c and of each gate block (PyTorch's hidden_size H; the kind's hidden size is the \
     projection, PyTorch's proj_size P, the width of h and of the output): 0 for twice the \
     hidden size, else more than the hidden size (nn.LSTM needs proj_size < hidden_size)",
);

const LSTMP_REF: &str = "Sak, Senior & Beaufays, \"Long short-term memory recurrent neural network \
                         architectures for large scale acoustic modeling\", Interspeech 2014 \
                         (LSTMP, without peepholes); PyTorch's proj_size";

const PEEPHOLE_REF: &str = "Gers, Schraudolph & Schmidhuber, \"Learning precise timing with LSTM \
                            recurrent networks\", JMLR 3, 2002";
const LAYER_NORM_REF: &str = "Ba, Kiros & Hinton, \"Layer normalization\", arXiv:1607.06450, 2016";
const SLSTM_REF: &str = "Beck et al., \"xLSTM: Extended Long Short-Term Memory\", NeurIPS 2024, \
                         section 2.2";

const LN_EPS: OptionSpec = OptionSpec::real(
    "eps",
    rnnzoo_lstm_variants::layer_norm::DEFAULT_EPS,
    1e-12,
    1.0,
    "added to each layer norm's variance before the square root (PyTorch's nn.LayerNorm default \
     1e-5; the paper has none)",
);
const SLSTM_HEADS: OptionSpec = OptionSpec::integer(
    "heads",
    1,
    1,
    4096,
    "blocks of the block-diagonal recurrent weights; must divide the hidden size (1: dense, the \
     gated fast path)",
);
const SLSTM_FORGET: OptionSpec = OptionSpec::listed(
    "forget",
    &["sigmoid", "exp"],
    "the forget gate: sigmoid (the official implementation's default) or exponential, both \
     stabilised by m_t",
);

const MGU_REF: &str = "Zhou, Wu, Zhang & Zhou, \"Minimal gated unit for recurrent neural networks\", \
                       International Journal of Automation and Computing 13(3), 2016";
const UGRNN_REF: &str = "Collins, Sohl-Dickstein & Sussillo, \"Capacity and trainability in recurrent \
                         neural networks\", ICLR 2017";
const CORNN_REF: &str = "Rusch & Mishra, \"Coupled oscillatory recurrent neural network (coRNN): an \
                         accurate and (gradient) stable architecture for learning long time \
                         dependencies\", ICLR 2021";
const ANTISYMMETRIC_REF: &str = "Chang, Chen, Haber & Chi, \"AntisymmetricRNN: a dynamical system \
                                 view on recurrent neural networks\", ICLR 2019";

const INDRNN_REF: &str = "Li, Li, Cook, Zhu & Gao, \"Independently recurrent neural network \
                          (IndRNN): building a longer and deeper RNN\", CVPR 2018";

const INDRNN_OPTIONS: [OptionSpec; 3] = [
    OptionSpec::listed(
        "nonlinearity",
        &["relu", "tanh"],
        "the activation: relu (the paper's experiments) or tanh",
    ),
    OptionSpec::integer(
        "t_max",
        0,
        0,
        1 << 30,
        "T of the paper's bound |u| <= 2^(1/T) (its adding problem, section 5.1), the steps a \
         gradient must cross: u starts inside it and is clipped to it after every optimizer \
         update; 0 (the default) for no bound",
    ),
    OptionSpec::listed(
        "init",
        &["uniform", "long"],
        "u (weight_hh): uniform, U(0, 2^(1/T)) or U(0, 1) without a bound (the authors' code); \
         long, U(2^(-1/T), 2^(1/T)) or all ones without a bound (the authors' last layer, for an \
         output read at the last step)",
    ),
];

const GATE_BIAS: OptionSpec = OptionSpec::real(
    "gate_bias",
    0.0,
    -10.0,
    10.0,
    "initial effective bias of the update gate g: 0 (PyTorch's init) or a value such as 1, \
     TensorFlow's UGRNNCell forget_bias (the g block of bias_ih is the value, of bias_hh 0)",
);

const CORNN_OPTIONS: [OptionSpec; 3] = [
    OptionSpec::real(
        "dt",
        0.042,
        1e-6,
        10.0,
        "the time step; default the authors' sequential-MNIST run (tk-rusch/coRNN, \
         sMNIST/sMNIST_task.py)",
    ),
    OptionSpec::real(
        "gamma",
        2.7,
        0.0,
        1000.0,
        "the restoring force on y; default the authors' sequential-MNIST run",
    ),
    OptionSpec::real(
        "epsilon",
        4.7,
        0.0,
        1000.0,
        "the damping of z; default the authors' sequential-MNIST run",
    ),
];

const ANTISYMMETRIC_OPTIONS: [OptionSpec; 2] = [
    OptionSpec::real(
        "epsilon",
        0.01,
        1e-6,
        10.0,
        "the Euler step size; default 0.01, the smallest of the paper's grid (appendix C)",
    ),
    OptionSpec::real(
        "gamma",
        0.01,
        0.0,
        100.0,
        "the diffusion subtracted from the diagonal of W - W^T",
    ),
];

const LRU_REF: &str = "Orvieto, Smith, Gu, Fernando, Gulcehre, Pascanu & De, \"Resurrecting \
                       recurrent neural networks for long sequences\", ICML 2023 \
                       (arXiv:2303.06349)";

/// The LRU's state width and the initialisation of `λ`; defaults from the paper's appendix A
/// (`init_lru_parameters(N, H, r_min=0, r_max=1, max_phase=6.28)`), `N = H` rnnzoo's.
const LRU_OPTIONS: [OptionSpec; 4] = [
    OptionSpec::integer(
        "state",
        0,
        0,
        1 << 20,
        "complex state units N (the state is [y; Re x; Im x], H + 2N rows): 0 for N = the hidden \
         size (the paper takes N as an argument with no default)",
    ),
    OptionSpec::real(
        "r_min",
        rnnzoo_lru::DEFAULT_R_MIN,
        0.0,
        0.999_999,
        "smallest |lambda| at initialisation (lambda uniform in area on the ring r_min..r_max); \
         at most r_max; default the paper's appendix A",
    ),
    OptionSpec::real(
        "r_max",
        rnnzoo_lru::DEFAULT_R_MAX,
        0.001,
        1.0,
        "largest |lambda| at initialisation; default the paper's appendix A",
    ),
    OptionSpec::real(
        "max_phase",
        rnnzoo_lru::DEFAULT_MAX_PHASE,
        1e-6,
        std::f64::consts::TAU,
        "phases of lambda uniform on [0, max_phase] at initialisation; default 6.28, the \
         paper's appendix A",
    ),
];

static ENTRIES: &[Entry] = &[
    Entry {
        name: "rnn-tanh",
        label: "rnn-tanh",
        crate_name: "rnnzoo-vanilla",
        rust_type: "VanillaCell (Nonlinearity::Tanh)",
        form: Form::Gated,
        torch_mode: Some("RNN_TANH"),
        cell_mode: "RNN_TANH",
        gates: 1,
        gate_names: &[],
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
        gate_names: &[],
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
        gate_names: &["i", "f", "g", "o"],
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
        gate_names: &["r", "z", "n"],
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
        gate_names: &["r", "z", "n"],
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
        gate_names: &[],
        state: &["h"],
        reference: EXPRNN_REF,
        summary: "h' = modrelu(W_ih x + exp(S)^T h), S skew-symmetric from skew_hh: an orthogonal \
                  recurrent matrix, exp(S) once per pass (the authors' OrthogonalRNN)",
        options: &[SKEW_INIT],
        id: Id::ExpRnn,
    },
    Entry {
        name: "lstm-proj",
        label: "lstm-proj",
        crate_name: "rnnzoo-lstm",
        rust_type: "LstmProjCell",
        form: Form::General,
        // PyTorch's module is still nn.LSTM; the loader picks this kind when the file has
        // `weight_hr_l0` (rnnzoo::torch), and the cell reports its own mode, so that files
        // rnnzoo writes record which cell they came from.
        torch_mode: Some("LSTM"),
        cell_mode: "LSTM_PROJ",
        gates: 4,
        gate_names: &["i", "f", "g", "o"],
        state: &["h", "c"],
        reference: LSTMP_REF,
        summary: "h = W_hr (o * tanh(c)): the output, h, is the hidden size wide, c and the gates \
                  cell_size wide; nn.LSTM(proj_size=P)",
        options: &[CELL_SIZE, FORGET_BIAS, T_MAX],
        id: Id::LstmProj,
    },
    Entry {
        name: "lstm-peephole",
        label: "lstm (peephole)",
        crate_name: "rnnzoo-lstm-variants",
        rust_type: "PeepholeLstmCell",
        form: Form::General,
        torch_mode: None,
        cell_mode: "LSTM_PEEPHOLE",
        gates: 4,
        gate_names: &["i", "f", "g", "o"],
        state: &["h", "c"],
        reference: PEEPHOLE_REF,
        summary: "nn.LSTM plus diagonal peepholes weight_ci, weight_cf onto c_{t-1} and \
                  weight_co onto c_t",
        options: &[],
        id: Id::LstmPeephole,
    },
    Entry {
        name: "lstm-layernorm",
        label: "lstm (layer norm)",
        crate_name: "rnnzoo-lstm-variants",
        rust_type: "LayerNormLstmCell",
        form: Form::General,
        torch_mode: None,
        cell_mode: "LSTM_LAYERNORM",
        gates: 4,
        gate_names: &["i", "f", "g", "o"],
        state: &["h", "c"],
        reference: LAYER_NORM_REF,
        summary: "the paper's form: W_ih x and W_hh h layer-normalised apart, c_t normalised \
                  before the output tanh only (the unnormalised c_t is carried)",
        options: &[LN_EPS],
        id: Id::LstmLayerNorm,
    },
    Entry {
        name: "slstm",
        label: "slstm",
        crate_name: "rnnzoo-lstm-variants",
        rust_type: "SlstmCell",
        form: Form::Gated,
        torch_mode: None,
        cell_mode: "SLSTM",
        gates: 4,
        gate_names: &["i", "f", "z", "o"],
        state: &["h", "c", "n", "m"],
        reference: SLSTM_REF,
        summary: "xLSTM's scalar LSTM: exponential input gate, normaliser n and stabiliser m, \
                  gates i, f, z, o; a general step when heads > 1",
        options: &[SLSTM_HEADS, SLSTM_FORGET],
        id: Id::Slstm,
    },
    Entry {
        name: "mgu",
        label: "mgu",
        crate_name: "rnnzoo-minimal",
        rust_type: "MguCell",
        form: Form::General,
        torch_mode: None,
        cell_mode: "MGU",
        gates: 2,
        gate_names: &["f", "n"],
        state: &["h"],
        reference: MGU_REF,
        summary: "one gate f, applied to h before the candidate's recurrent product; \
                  h' = (1 - f) h + f n",
        options: &[],
        id: Id::Mgu,
    },
    Entry {
        name: "ugrnn",
        label: "ugrnn",
        crate_name: "rnnzoo-minimal",
        rust_type: "UgrnnCell",
        form: Form::Gated,
        torch_mode: None,
        cell_mode: "UGRNN",
        gates: 2,
        gate_names: &["g", "c"],
        state: &["h"],
        reference: UGRNN_REF,
        summary: "update gate g and candidate c (blocks g, c); h' = g h + (1 - g) c",
        options: &[GATE_BIAS],
        id: Id::Ugrnn,
    },
    Entry {
        name: "cornn",
        label: "cornn",
        crate_name: "rnnzoo-dynamical",
        rust_type: "CoRnnCell",
        form: Form::General,
        torch_mode: None,
        cell_mode: "CORNN",
        gates: 1,
        gate_names: &[],
        state: &["y", "z"],
        reference: CORNN_REF,
        summary: "coupled damped oscillators stepped as the authors' code: z first (explicit \
                  damping), then y; weight_zh reads z",
        options: &CORNN_OPTIONS,
        id: Id::CoRnn,
    },
    Entry {
        name: "antisymmetric",
        label: "antisymmetric",
        crate_name: "rnnzoo-dynamical",
        rust_type: "AntisymmetricCell (plain)",
        form: Form::General,
        torch_mode: None,
        cell_mode: "ANTISYMMETRIC_RNN",
        gates: 1,
        gate_names: &[],
        state: &["h"],
        reference: ANTISYMMETRIC_REF,
        summary: "h' = h + epsilon tanh((W - W^T - gamma I) h + V x + b)",
        options: &ANTISYMMETRIC_OPTIONS,
        id: Id::Antisymmetric,
    },
    Entry {
        name: "antisymmetric-gated",
        label: "antisymmetric (gated)",
        crate_name: "rnnzoo-dynamical",
        rust_type: "AntisymmetricCell (gated)",
        form: Form::General,
        torch_mode: None,
        cell_mode: "GATED_ANTISYMMETRIC_RNN",
        gates: 1,
        gate_names: &["z", "h"],
        state: &["h"],
        reference: ANTISYMMETRIC_REF,
        summary: "the gated variant: an input gate z sharing W - W^T - gamma I; \
                  h' = h + epsilon z tanh(..); weight_ih holds the z and h blocks",
        options: &ANTISYMMETRIC_OPTIONS,
        id: Id::AntisymmetricGated,
    },
    Entry {
        name: "qrnn",
        label: "qrnn",
        crate_name: "rnnzoo-qrnn",
        rust_type: "QrnnCell",
        form: Form::Scan,
        torch_mode: None,
        cell_mode: "QRNN",
        gates: 3,
        gate_names: &["z", "f", "o"],
        state: &["h", "c"],
        reference: QRNN_REF,
        summary: "fo-pooling over a causal convolution of width 1 or 2 (blocks z, f, o of \
                  weight_ih; columns x_t then x_{t-1}); c' = f c + (1 - f) z, h' = o c, \
                  a linear scan",
        options: &[QRNN_WINDOW],
        id: Id::Qrnn,
    },
    Entry {
        name: "sru",
        label: "sru",
        crate_name: "rnnzoo-sru",
        rust_type: "SruCell",
        form: Form::Scan,
        torch_mode: None,
        cell_mode: "SRU",
        gates: 3,
        gate_names: &["candidate", "f", "r", "highway"],
        state: &["h", "c"],
        reference: SRU_REF,
        summary: "gates read c through vectors v (weight_c), a highway to x (blocks W, W_f, \
                  W_r of weight_ih, and W_x when input != hidden); an elementwise loop",
        options: &[SRU_HIGHWAY_SCALE],
        id: Id::Sru,
    },
    Entry {
        name: "indrnn",
        label: "indrnn",
        crate_name: "rnnzoo-indrnn",
        rust_type: "IndRnnCell",
        form: Form::Scan,
        torch_mode: None,
        cell_mode: "INDRNN",
        gates: 1,
        gate_names: &[],
        state: &["h"],
        reference: INDRNN_REF,
        summary: "h' = relu(W_ih x + b_ih + u * h), u = weight_hh a vector (each unit sees only \
                  itself); one input GEMM, then an elementwise loop over time",
        options: &INDRNN_OPTIONS,
        id: Id::IndRnn,
    },
    Entry {
        name: "lru",
        label: "lru",
        crate_name: "rnnzoo-lru",
        rust_type: "LruCell",
        form: Form::Scan,
        torch_mode: None,
        cell_mode: "LRU",
        gates: 1,
        gate_names: &[],
        state: &["y", "x_re", "x_im"],
        reference: LRU_REF,
        summary: "x' = lambda x + gamma (B u), lambda = exp(-exp(nu_log) + i exp(theta_log)) \
                  complex diagonal, y = Re(C x) + D u (D dense H x I); one input GEMM, a \
                  parallel complex scan, one output GEMM",
        options: &LRU_OPTIONS,
        id: Id::Lru,
    },
    Entry {
        name: "mingru",
        label: "mingru",
        crate_name: "rnnzoo-mingru",
        rust_type: "MinGruCell",
        form: Form::Scan,
        torch_mode: None,
        cell_mode: "MINGRU",
        gates: 2,
        gate_names: &["z", "h"],
        state: &["h"],
        reference: MIN_RNN_REF,
        summary: "gates from x only (blocks z, h of weight_ih, no weight_hh): \
                  h' = (1 - z) h + z g(W_h x + b_h), a linear scan over time",
        options: &[CANDIDATE],
        id: Id::MinGru,
    },
    Entry {
        name: "minlstm",
        label: "minlstm",
        crate_name: "rnnzoo-minlstm",
        rust_type: "MinLstmCell",
        form: Form::Scan,
        torch_mode: None,
        cell_mode: "MINLSTM",
        gates: 3,
        gate_names: &["f", "i", "h"],
        state: &["h"],
        reference: MIN_RNN_REF,
        summary: "forget and input gates from x only, normalised f' = f / (f + i), \
                  i' = i / (f + i) (blocks f, i, h of weight_ih): h' = f' h + i' g(W_h x + b_h)",
        options: &[CANDIDATE],
        id: Id::MinLstm,
    },
];

const MIN_RNN_REF: &str = "Feng, Tung, Ahmed, Bengio & Hajimirsadeghi, \"Were RNNs all we \
                           needed?\", arXiv:2410.01201, 2024";

/// `candidate=` of minGRU and minLSTM.
const CANDIDATE: OptionSpec = OptionSpec::listed(
    "candidate",
    &["g", "linear"],
    "the candidate's activation: g (x + 0.5 for x >= 0, sigmoid(x) below; the paper's log-space \
     version, appendix B) or linear (none; the paper's plain minGRU / minLSTM, section 3)",
);

/// Every cell kind, in table order.
pub fn entries() -> &'static [Entry] {
    ENTRIES
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

/// The PyTorch modes the zoo loads and saves, in table order, each once (`lstm` and `lstm-proj`
/// are both PyTorch's `LSTM`).
pub fn torch_modes() -> Vec<&'static str> {
    let mut modes: Vec<&'static str> = Vec::new();
    for m in ENTRIES.iter().filter_map(|e| e.torch_mode) {
        if !modes.contains(&m) {
            modes.push(m);
        }
    }
    modes
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
            Id::LstmProj => {
                // `hidden` is the cell's output, PyTorch's proj_size; `cell_size` its H.
                if hidden == 0 {
                    return Err(CellError::ZeroSize {
                        what: "hidden_size",
                    }
                    .into());
                }
                let h = match options.number(self, "cell_size")? as usize {
                    0 => 2 * hidden,
                    n if n > hidden => n,
                    n => {
                        return Err(ZooError::OptionOutOfRange {
                            cell: self.name,
                            option: "cell_size",
                            value: n.to_string(),
                            expected: format!(
                                "0 (twice the hidden size) or a whole number above the hidden \
                                 size {hidden} (nn.LSTM needs proj_size < hidden_size)"
                            ),
                        });
                    }
                };
                Ok(match source {
                    Source::Random(rng) => {
                        let o = LstmOptions::default()
                            .with_unit_forget_bias(options.value(self, "forget_bias")? == "1");
                        Box::new(LstmProjCell::with_options(input, h, hidden, o, rng)?)
                    }
                    Source::Zeros { bias } => {
                        Box::new(LstmProjCell::zeros(input, h, hidden, bias)?)
                    }
                })
            }
            Id::LstmPeephole => Ok(match source {
                Source::Random(rng) => Box::new(PeepholeLstmCell::new(input, hidden, rng)?),
                Source::Zeros { bias } => Box::new(PeepholeLstmCell::zeros(input, hidden, bias)?),
            }),
            Id::LstmLayerNorm => {
                let eps = options.number(self, "eps")?;
                Ok(match source {
                    Source::Random(rng) => Box::new(LayerNormLstmCell::with_options(
                        input, hidden, true, eps, rng,
                    )?),
                    Source::Zeros { bias } => {
                        Box::new(LayerNormLstmCell::zeros(input, hidden, bias, eps)?)
                    }
                })
            }
            Id::Slstm => {
                // A whole number in 1..=4096 by its declaration.
                let heads = options.number(self, "heads")? as usize;
                let forget = match options.value(self, "forget")? {
                    "exp" => ForgetGate::Exp,
                    _ => ForgetGate::Sigmoid,
                };
                let o = SlstmOptions::default()
                    .with_heads(heads)
                    .with_forget(forget);
                Ok(match source {
                    Source::Random(rng) => {
                        Box::new(SlstmCell::with_options(input, hidden, o, rng)?)
                    }
                    Source::Zeros { bias } => {
                        Box::new(SlstmCell::zeros(input, hidden, o.with_bias(bias))?)
                    }
                })
            }
            Id::Mgu => Ok(match source {
                Source::Random(rng) => Box::new(MguCell::new(input, hidden, rng)?),
                Source::Zeros { bias } => Box::new(MguCell::zeros(input, hidden, bias)?),
            }),
            Id::Ugrnn => Ok(match source {
                Source::Random(rng) => {
                    let b = options.number(self, "gate_bias")?;
                    Box::new(UgrnnCell::with_gate_bias(input, hidden, b, rng)?)
                }
                Source::Zeros { bias } => Box::new(UgrnnCell::zeros(input, hidden, bias)?),
            }),
            Id::CoRnn => {
                let c = CoRnnConstants {
                    dt: options.number(self, "dt")?,
                    gamma: options.number(self, "gamma")?,
                    epsilon: options.number(self, "epsilon")?,
                };
                Ok(match source {
                    Source::Random(rng) => Box::new(CoRnnCell::new(input, hidden, c, rng)?),
                    Source::Zeros { bias } => Box::new(CoRnnCell::zeros(input, hidden, bias, c)?),
                })
            }
            Id::Antisymmetric | Id::AntisymmetricGated => {
                let gated = self.id == Id::AntisymmetricGated;
                let c = AntisymmetricConstants {
                    epsilon: options.number(self, "epsilon")?,
                    gamma: options.number(self, "gamma")?,
                };
                Ok(match source {
                    Source::Random(rng) => {
                        Box::new(AntisymmetricCell::new(input, hidden, gated, c, rng)?)
                    }
                    Source::Zeros { bias } => {
                        Box::new(AntisymmetricCell::zeros(input, hidden, gated, bias, c)?)
                    }
                })
            }
            Id::Qrnn => {
                let window = if options.value(self, "window")? == "2" {
                    2
                } else {
                    1
                };
                Ok(match source {
                    Source::Random(rng) => {
                        Box::new(QrnnCell::with_window(input, hidden, window, rng)?)
                    }
                    Source::Zeros { bias } => {
                        Box::new(QrnnCell::zeros(input, hidden, window, bias)?)
                    }
                })
            }
            Id::Sru => {
                let alpha = options.number(self, "highway_scale")?;
                Ok(match source {
                    Source::Random(rng) => {
                        Box::new(SruCell::with_highway_scale(input, hidden, alpha, rng)?)
                    }
                    Source::Zeros { bias } => Box::new(SruCell::zeros(input, hidden, alpha, bias)?),
                })
            }
            Id::IndRnn => {
                // Both shape the function (and the clip), so a zero cell reads them too.
                let mut o = IndRnnOptions {
                    nonlinearity: match options.value(self, "nonlinearity")? {
                        "tanh" => rnnzoo_indrnn::Nonlinearity::Tanh,
                        _ => rnnzoo_indrnn::Nonlinearity::Relu,
                    },
                    // A whole number in 0..=2^30 by its declaration.
                    t_max: options.number(self, "t_max")? as usize,
                    recurrent_init: match options.value(self, "init")? {
                        "long" => RecurrentInit::Long,
                        _ => RecurrentInit::Uniform,
                    },
                    bias: true,
                };
                Ok(match source {
                    Source::Random(rng) => {
                        Box::new(IndRnnCell::with_options(input, hidden, o, rng)?)
                    }
                    Source::Zeros { bias } => {
                        o.bias = bias;
                        Box::new(IndRnnCell::zeros(input, hidden, o)?)
                    }
                })
            }
            // No biases: a loader's `bias` does not apply.
            Id::Lru => {
                // A whole number in 0..=2^20 by its declaration.
                let state = options.number(self, "state")? as usize;
                let o = LruOptions {
                    state,
                    r_min: options.number(self, "r_min")?,
                    r_max: options.number(self, "r_max")?,
                    max_phase: options.number(self, "max_phase")?,
                };
                if o.r_min > o.r_max {
                    return Err(ZooError::OptionOutOfRange {
                        cell: self.name,
                        option: "r_min",
                        value: o.r_min.to_string(),
                        expected: format!("a number at most r_max = {}", o.r_max),
                    });
                }
                Ok(match source {
                    Source::Random(rng) => Box::new(LruCell::with_options(input, hidden, o, rng)?),
                    Source::Zeros { .. } => Box::new(LruCell::zeros(input, hidden, state)?),
                })
            }
            Id::MinGru | Id::MinLstm => {
                let candidate = match options.value(self, "candidate")? {
                    "linear" => Candidate::Linear,
                    _ => Candidate::G,
                };
                let lstm = self.id == Id::MinLstm;
                Ok(match source {
                    Source::Random(rng) if lstm => {
                        Box::new(MinLstmCell::with_candidate(input, hidden, candidate, rng)?)
                    }
                    Source::Random(rng) => {
                        Box::new(MinGruCell::with_candidate(input, hidden, candidate, rng)?)
                    }
                    Source::Zeros { bias } if lstm => {
                        Box::new(MinLstmCell::zeros(input, hidden, bias, candidate)?)
                    }
                    Source::Zeros { bias } => {
                        Box::new(MinGruCell::zeros(input, hidden, bias, candidate)?)
                    }
                })
            }
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
    /// builds before it copies a file's values in. Initialisation options do not apply; the
    /// options that shape a cell take their defaults ([`Entry::zeros_with`] sets them).
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

    /// [`Entry::zeros`] with the options that shape a cell (`lstm-proj`'s `cell_size`) set;
    /// initialisation options do not apply. What the PyTorch loader builds for a projection.
    ///
    /// ```
    /// use rnnzoo::zoo::{self, Options};
    /// let e = zoo::get("lstm-proj")?;
    /// // nn.LSTM(3, 8, proj_size=2): a hidden (output) size of 2, cell_size 8.
    /// let cell = e.zeros_with::<f32>(3, 2, &Options::parse(e, "cell_size=8")?, true)?;
    /// assert_eq!((cell.hidden_size(), cell.state_size()), (2, 2 + 8));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ZooError::Cell`] for a zero size, [`ZooError::OptionOutOfRange`] for an option that does
    /// not fit the sizes, [`ZooError::UnknownOption`] for options parsed for another kind.
    pub fn zeros_with<T: Real>(
        &'static self,
        input: usize,
        hidden: usize,
        options: &Options,
        bias: bool,
    ) -> Result<Box<dyn Cell<T>>, ZooError> {
        self.make(input, hidden, options, Source::Zeros { bias })
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

const QRNN_REF: &str = "Bradbury, Merity, Xiong & Socher, \"Quasi-recurrent neural networks\", \
                        ICLR 2017 (arXiv:1611.01576); fo-pooling";
const QRNN_WINDOW: OptionSpec = OptionSpec::listed(
    "window",
    &["1", "2"],
    "width of the causal convolution over time: 1 (x_t) or 2 (x_t and x_{t-1}, x_{-1} = 0), \
     the widths of the authors' salesforce/pytorch-qrnn",
);
const SRU_REF: &str = "Lei, Zhang, Wang, Dai & Artzi, \"Simple recurrent units for highly \
                       parallelizable recurrence\", EMNLP 2018 (arXiv:1709.02755)";
const SRU_HIGHWAY_SCALE: OptionSpec = OptionSpec::real(
    "highway_scale",
    1.0,
    0.0,
    16.0,
    "constant factor of the highway term, h = r c + (1 - r) scale x': 1 is the equation as \
     written; the authors' code (asappresearch/sru, rescale=True) uses sqrt(1 + 2 exp(b_r)), \
     1.7320508075688772 at its highway bias 0",
);
