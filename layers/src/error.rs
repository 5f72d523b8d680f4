//! The errors a layer returns for a caller's mistake.

use rnnzoo_cell::CellError;

/// A caller mistake: a shape, a length or a state that does not fit the layer.
///
/// Every variant says what was expected and what came.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayerError {
    /// The batch is empty.
    #[error("batch must be at least 1, got 0")]
    EmptyBatch,
    /// The sequence has no steps.
    #[error("a sequence must have at least 1 step, got 0")]
    NoSteps,
    /// The input does not hold `steps * batch * input_size` values.
    #[error(
        "input has {got} values; a (steps={steps}, batch={batch}, features={features}) sequence has {expected} \
         (is the feature width {features}?)"
    )]
    InputShape {
        /// Values expected.
        expected: usize,
        /// Values given.
        got: usize,
        /// Steps `T`.
        steps: usize,
        /// Batch `B`.
        batch: usize,
        /// The layer's input size.
        features: usize,
    },
    /// The initial state does not hold `state_size * batch` values.
    #[error(
        "initial state has {got} values; expected state_size {state_size} x batch {batch} = {expected}"
    )]
    InitialState {
        /// Values expected.
        expected: usize,
        /// Values given.
        got: usize,
        /// The cell's state size.
        state_size: usize,
        /// Batch `B`.
        batch: usize,
    },
    /// There is not one length per sample.
    #[error("got {got} lengths for a batch of {expected}")]
    LengthsCount {
        /// The batch size.
        expected: usize,
        /// Lengths given.
        got: usize,
    },
    /// An input or initial state holds a NaN or an infinity.
    #[error("the {what} is NaN or infinite at {at}")]
    NonFinite {
        /// `"input"` or `"initial state"`.
        what: &'static str,
        /// Where (step, sample, feature; or sample and row).
        at: String,
    },
    /// A sample's length is zero.
    #[error("sample {sample} has length 0; every length must be in 1..={steps}")]
    ZeroLength {
        /// The sample.
        sample: usize,
        /// Steps `T`.
        steps: usize,
    },
    /// A sample's length exceeds the sequence.
    #[error("sample {sample} has length {length}, longer than the sequence's {steps} steps")]
    LengthTooLong {
        /// The sample.
        sample: usize,
        /// Its length.
        length: usize,
        /// Steps `T`.
        steps: usize,
    },
    /// A gradient passed to backward has the wrong number of values.
    #[error("{what} has {got} values, expected {expected}")]
    GradShape {
        /// Which gradient (`"d_output"`, `"d_final"`).
        what: &'static str,
        /// Values expected.
        expected: usize,
        /// Values given.
        got: usize,
    },
    /// The gradient stores do not have the layer's parameter names and shapes.
    #[error(
        "gradient stores do not fit the layer: it has {expected_stores} parameter group(s), \
         {got_stores} store(s) came{}; make them with the layer's zero_grads()",
        .mismatch.as_ref().map(|m| format!("; {m}")).unwrap_or_default()
    )]
    GradsLayout {
        /// Stores the layer needs (one per parameter group).
        expected_stores: usize,
        /// Stores given.
        got_stores: usize,
        /// The first tensor that does not fit, when the counts agree.
        mismatch: Option<Box<GradMismatch>>,
    },
    /// A buffer other than a gradient has the wrong number of values.
    #[error("{what} has {got} values, expected {expected}")]
    Size {
        /// Which buffer.
        what: &'static str,
        /// Values expected.
        expected: usize,
        /// Values given.
        got: usize,
    },
    /// The tape was recorded by a layer of other sizes.
    #[error(
        "tape was recorded by a layer with (input, hidden, state, cache) = {got:?}; this layer has {expected:?}"
    )]
    TapeMismatch {
        /// This layer's sizes.
        expected: (usize, usize, usize, usize),
        /// The tape's sizes.
        got: (usize, usize, usize, usize),
    },
    /// A class index is not below the number of classes.
    #[error("target at column {column} is class {class}, but there are {classes} classes")]
    ClassOutOfRange {
        /// The column.
        column: usize,
        /// The class given.
        class: usize,
        /// Number of classes.
        classes: usize,
    },
    /// A loss's mask keeps no position.
    #[error("the mask keeps no position: nothing to average")]
    NothingToAverage,
    /// A loss option out of range (label smoothing outside `[0, 1]`, a negative or non-finite
    /// class weight, weights that sum to zero over the targets).
    #[error("{what} = {got}: expected {expected}")]
    LossOption {
        /// The option.
        what: &'static str,
        /// What came.
        got: String,
        /// What it must be.
        expected: &'static str,
    },
    /// A tape from another kind of layer was passed to backward.
    #[error("the tape given to {layer}::backward was recorded by another kind of layer")]
    WrongTape {
        /// The layer whose backward was called.
        layer: &'static str,
    },
    /// A half given to [`crate::Bidirectional`] reads its sequence reversed itself.
    #[error(
        "the {half} half of a Bidirectional reads its sequence reversed (Direction::Reverse); the \
         pair reverses the backward half's sequence itself, so give it two Direction::Forward layers"
    )]
    ReversedHalf {
        /// `"forward"` or `"backward"`.
        half: &'static str,
    },
    /// Layers that do not fit together (sizes of a stack, merge of a bidirectional pair).
    #[error("{0}")]
    Compose(String),

    /// A streaming session was asked of a layer that is not one cell read forward in time.
    #[error(
        "layer {layer} cannot be stepped one step at a time: a session needs layers that each run one cell forward in time (not bidirectional, reversed or regularised)"
    )]
    NotStreamable {
        /// The layer's index in the stack.
        layer: usize,
    },
    /// The batch's targets are not of the kind the model's readout reads.
    #[error("{targets} targets do not fit a model that reads {readout}")]
    TargetsKind {
        /// The targets' kind (`"per-step"`, `"per-sample"`).
        targets: &'static str,
        /// The readout.
        readout: &'static str,
    },
    /// A cell or parameter error.
    #[error(transparent)]
    Cell(#[from] CellError),
}

/// The first tensor of a gradient store that does not fit the layer's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GradMismatch {
    /// The store's index in the list.
    pub store: usize,
    /// The parameter, with its PyTorch suffix (`weight_hh_l1_reverse`).
    pub tensor: String,
    /// Its shape in the layer.
    pub shape: Vec<usize>,
    /// What came in its place: a tensor's name and shape, or `None` for nothing.
    pub got: Option<(String, Vec<usize>)>,
}

impl std::fmt::Display for GradMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "store {} needs `{}` {:?}, ",
            self.store, self.tensor, self.shape
        )?;
        match &self.got {
            Some((name, shape)) => write!(f, "got `{name}` {shape:?}"),
            None => write!(f, "got nothing there"),
        }
    }
}
