//! What can go wrong picking a cell from the registry.

use rnnzoo_cell::CellError;

/// A name, an option or a size the registry cannot make a cell of.
#[derive(Debug, thiserror::Error)]
pub enum ZooError {
    /// No kind has this name.
    #[error("no cell kind `{name}`; the zoo has: {}", known.join(", "))]
    UnknownCell {
        /// The name asked for.
        name: String,
        /// Every name.
        known: Vec<&'static str>,
    },
    /// No kind loads this PyTorch mode.
    #[error("no cell kind loads PyTorch mode `{mode}`; the zoo loads: {}", known.join(", "))]
    UnknownTorchMode {
        /// The mode asked for.
        mode: String,
        /// The modes the zoo loads.
        known: Vec<&'static str>,
    },
    /// The kind takes no option of this name.
    #[error("cell `{cell}` takes no option `{option}`; its options: {}", if known.is_empty() { "none".to_string() } else { known.join(", ") })]
    UnknownOption {
        /// The kind.
        cell: &'static str,
        /// The option asked for.
        option: String,
        /// The kind's options.
        known: Vec<&'static str>,
    },
    /// The option does not take this value.
    #[error("option `{option}` of cell `{cell}` takes {}, not `{value}`", known.join(" or "))]
    BadOptionValue {
        /// The kind.
        cell: &'static str,
        /// The option.
        option: &'static str,
        /// The value given.
        value: String,
        /// The values it takes.
        known: Vec<&'static str>,
    },
    /// The option takes a number, and this is not one in its range (or not whole where it must
    /// be).
    #[error("option `{option}` of cell `{cell}` takes {expected}, not `{value}`")]
    OptionOutOfRange {
        /// The kind.
        cell: &'static str,
        /// The option.
        option: &'static str,
        /// The value given.
        value: String,
        /// What it takes (`a whole number in 1..=4096 (default 1)`).
        expected: String,
    },
    /// An option was read as the other kind: a number as a word, or a word as a number (a
    /// factory's mistake, not a user's).
    #[error("option `{option}` of cell `{cell}` is read as {expected}, which it is not")]
    OptionKind {
        /// The kind.
        cell: &'static str,
        /// The option.
        option: &'static str,
        /// What the reader expected.
        expected: &'static str,
    },
    /// Options are `name=value` items separated by commas, each at most once.
    #[error("options are `name=value[,name=value...]`, each name once; got `{text}`")]
    OptionSyntax {
        /// The text that did not parse.
        text: String,
    },
    /// The cell's constructor refused (a zero size).
    #[error(transparent)]
    Cell(#[from] CellError),
}
