//! The errors a cell, its parameters or the gradient checker return.

/// A caller mistake when building a cell or touching its parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CellError {
    /// A size that must be positive was zero.
    #[error("{what} must be at least 1, got 0")]
    ZeroSize {
        /// Which size (`"input_size"`, `"hidden_size"`, ...).
        what: &'static str,
    },
    /// No parameter has this name.
    #[error("no parameter named `{name}`; this cell has {known:?}")]
    UnknownParam {
        /// The name asked for.
        name: String,
        /// The names the cell has.
        known: Vec<String>,
    },
    /// Two parameters would share a name.
    #[error("a parameter named `{name}` exists already")]
    DuplicateParam {
        /// The repeated name.
        name: String,
    },
    /// A parameter's new value has the wrong shape.
    #[error("parameter `{name}` has shape {expected:?}, got {got:?}")]
    ParamShape {
        /// The parameter's name.
        name: String,
        /// Its shape.
        expected: Vec<usize>,
        /// The shape that came.
        got: Vec<usize>,
    },
    /// A parameter's shape does not describe its data, or `gates` does not divide its rows.
    #[error("parameter `{name}`: {reason}")]
    BadParam {
        /// The parameter's name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A buffer handed to a step is not its layout's size (see [`Cell`](crate::Cell)).
    #[error("`{buffer}` holds {got} values; a step of batch {batch} needs {expected}")]
    BufferSize {
        /// Which buffer (`"x"`, `"prev"`, `"next"`, `"cache"`, `"d_next"`, `"d_x"`, `"d_prev"`).
        buffer: &'static str,
        /// Its size for this cell and batch.
        expected: usize,
        /// The size that came.
        got: usize,
        /// The batch of the call.
        batch: usize,
    },
    /// A step's scratch buffer is shorter than the step needs.
    #[error("the scratch holds {got} values; a step of batch {batch} needs at least {needed}")]
    ScratchSize {
        /// [`CellExt::step_scratch_size`](crate::CellExt::step_scratch_size) for the batch.
        needed: usize,
        /// The size that came.
        got: usize,
        /// The batch of the call.
        batch: usize,
    },
    /// A gradient store does not have the cell's parameter names and shapes.
    #[error("the gradients are laid out as {got:?}; the cell's parameters are {expected:?}")]
    GradsLayout {
        /// The cell's parameters, each as `name [shape]`.
        expected: Vec<String>,
        /// The store's, the same way.
        got: Vec<String>,
    },
    /// An initialiser's argument is outside what it takes.
    #[error("{init} initialisation: {reason}")]
    BadInit {
        /// The initialiser (`"chrono"`).
        init: &'static str,
        /// What is wrong, with the value that came.
        reason: String,
    },
    /// A set of parameters does not match what a cell needs.
    #[error("{0}")]
    Mismatch(String),
}
