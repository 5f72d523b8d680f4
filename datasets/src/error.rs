//! The crate's error type.
//!
//! Every parameter that comes from a caller (sizes, fractions, characters, strings) is checked at
//! the API boundary and reported with a [`DatasetError`] that says what was expected and what
//! came; no function of this crate panics on caller input.

use thiserror::Error;

/// What went wrong when building a dataset or a batch.
///
/// ```
/// use rnnzoo_datasets::{AddingProblem, DatasetError};
/// let err = AddingProblem::new(1).unwrap_err();
/// assert!(matches!(err, DatasetError::TooShort { needed: 2, got: 1, .. }));
/// assert!(err.to_string().contains("at least 2"));
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// A batch does not hold what its shape says (see [`crate::SeqBatch::validate`]).
    #[error(transparent)]
    Batch(#[from] rnnzoo_cell::BatchError),

    /// A batch of zero samples was requested.
    #[error("batch size must be at least 1, got 0")]
    ZeroBatch,

    /// A length (sequence length, delay, window, chunk size, ...) is below the task's minimum.
    #[error("{what} must be at least {needed}, got {got}")]
    TooShort {
        /// The quantity that is too small.
        what: &'static str,
        /// The smallest accepted value.
        needed: usize,
        /// The value given.
        got: usize,
    },

    /// A parameter has a value outside its documented domain.
    #[error("invalid {name} = {value}: expected {expected}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// The value given, formatted.
        value: String,
        /// What the parameter must satisfy.
        expected: String,
    },

    /// A split fraction is not a finite number in `[0, 1]`.
    #[error("split fraction {fraction} is out of range: expected a finite number in [0, 1]")]
    FractionOutOfRange {
        /// The fraction given.
        fraction: f64,
    },

    /// A character is not in the vocabulary.
    #[error("unknown character {ch:?} at character position {position}")]
    UnknownChar {
        /// The character.
        ch: char,
        /// Its position in the input, counted in `char`s (not bytes).
        position: usize,
    },

    /// A token id is not below the vocabulary size.
    #[error(
        "token id {id} at position {position} is out of range for a vocabulary of {vocab_size}"
    )]
    UnknownId {
        /// The id.
        id: usize,
        /// Its position in the input.
        position: usize,
        /// The vocabulary size.
        vocab_size: usize,
    },

    /// A text with no characters cannot define a vocabulary.
    #[error("the text is empty")]
    EmptyText,

    /// A sequence of length zero was given to padding; every sample needs at least one step.
    #[error("sequence {index} is empty: every sequence needs at least one step")]
    EmptySequence {
        /// The sample index.
        index: usize,
    },

    /// A flat sequence's length is not a multiple of the feature count.
    #[error("sequence {index} has {len} values, which is not a multiple of {features} features")]
    FeatureMismatch {
        /// The sample index.
        index: usize,
        /// Its number of values.
        len: usize,
        /// The feature count.
        features: usize,
    },

    /// Data bytes that are not in the format they were read as: what was expected, and what came.
    #[error("{name} is damaged: expected {expected}, got {got}")]
    Damaged {
        /// The data set or file.
        name: &'static str,
        /// What the format requires at the point reading failed.
        expected: String,
        /// What the bytes held there.
        got: String,
    },

    /// A string is not in the grammar it was given as a member of.
    #[error("string {string:?} is not valid: {reason}")]
    InvalidString {
        /// The string.
        string: String,
        /// Why it was rejected.
        reason: String,
    },
}

/// `Result` with [`DatasetError`].
///
/// ```
/// fn half(n: usize) -> rnnzoo_datasets::Result<usize> {
///     if n == 0 { Err(rnnzoo_datasets::DatasetError::ZeroBatch) } else { Ok(n / 2) }
/// }
/// assert_eq!(half(4), Ok(2));
/// ```
pub type Result<T> = std::result::Result<T, DatasetError>;

/// Checks a batch size: zero is the one invalid value.
pub(crate) fn check_batch(batch: usize) -> Result<()> {
    if batch == 0 {
        Err(DatasetError::ZeroBatch)
    } else {
        Ok(())
    }
}

/// Checks that `got >= needed`, naming the quantity in the error.
pub(crate) fn check_at_least(what: &'static str, needed: usize, got: usize) -> Result<()> {
    if got < needed {
        Err(DatasetError::TooShort { what, needed, got })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_accept_and_reject() {
        assert_eq!(check_batch(0), Err(DatasetError::ZeroBatch));
        assert_eq!(check_batch(1), Ok(()));
        assert_eq!(check_at_least("x", 3, 3), Ok(()));
        assert_eq!(
            check_at_least("x", 3, 2),
            Err(DatasetError::TooShort {
                what: "x",
                needed: 3,
                got: 2
            })
        );
    }

    #[test]
    fn messages_name_the_values() {
        let e = DatasetError::UnknownChar {
            ch: 'é',
            position: 4,
        };
        assert_eq!(
            e.to_string(),
            "unknown character 'é' at character position 4"
        );
        let e = DatasetError::FractionOutOfRange { fraction: 1.5 };
        assert!(e.to_string().contains("1.5"));
    }
}
