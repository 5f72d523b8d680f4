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
    /// A set of parameters does not match what a cell needs.
    #[error("{0}")]
    Mismatch(String),
}
