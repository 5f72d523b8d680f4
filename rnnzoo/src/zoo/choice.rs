//! A kind and its options: what a user, an experiment or a speed case picks from the registry.

use std::fmt;
use std::str::FromStr;

use rand::RngCore;
use rnnzoo_cell::{Cell, Real};

use super::{Entry, Options, ZooError, get};

/// A cell kind of the registry and its options: `lstm`, `lstm:forget_bias=1`.
///
/// ```
/// use rnnzoo::zoo::CellChoice;
/// let c: CellChoice = "lstm:forget_bias=1".parse()?;
/// assert_eq!((c.entry().name, c.to_string()), ("lstm", "lstm:forget_bias=1".to_string()));
/// let plain = CellChoice::named("gru")?;
/// assert_eq!(plain.to_string(), "gru");
/// # Ok::<(), rnnzoo::zoo::ZooError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CellChoice {
    entry: &'static Entry,
    options: Options,
}

impl CellChoice {
    /// The kind `name` with default options.
    ///
    /// # Errors
    ///
    /// [`ZooError::UnknownCell`], listing every name.
    pub fn named(name: &str) -> Result<Self, ZooError> {
        Ok(Self {
            entry: get(name)?,
            options: Options::default(),
        })
    }

    /// `entry` with `options` (parsed for it with [`Options::parse`]).
    pub fn from_entry(entry: &'static Entry, options: Options) -> Self {
        Self { entry, options }
    }

    /// The kind `name` with `options` (`name=value[,...]`).
    ///
    /// # Errors
    ///
    /// As [`CellChoice::named`] and [`Options::parse`].
    pub fn parse(name: &str, options: &str) -> Result<Self, ZooError> {
        let entry = get(name)?;
        Ok(Self {
            entry,
            options: Options::parse(entry, options)?,
        })
    }

    /// The registry entry.
    pub fn entry(&self) -> &'static Entry {
        self.entry
    }

    /// The options.
    pub fn options(&self) -> Options {
        self.options
    }

    /// A label for tables and plots: the entry's label, then the options that are not their
    /// default (`lstm (forget bias 1)`).
    pub fn label(&self) -> String {
        let extra: Vec<String> = self
            .options
            .non_default(self.entry)
            .iter()
            .map(|(n, v)| format!("{} {v}", n.replace('_', " ")))
            .collect();
        if extra.is_empty() {
            self.entry.label.to_string()
        } else {
            format!("{} ({})", self.entry.label, extra.join(", "))
        }
    }

    /// A cell of this kind and options with PyTorch's default initialisation.
    ///
    /// # Errors
    ///
    /// [`ZooError::Cell`] for a zero size.
    pub fn build<T: Real, R: RngCore>(
        &self,
        input: usize,
        hidden: usize,
        rng: &mut R,
    ) -> Result<Box<dyn Cell<T>>, ZooError> {
        self.entry.build(input, hidden, &self.options, rng)
    }
}

impl fmt::Display for CellChoice {
    /// `name`, then `:name=value,...` for the options set to something other than the default:
    /// what [`FromStr`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.entry.name)?;
        let set = self.options.non_default(self.entry);
        for (k, (n, v)) in set.iter().enumerate() {
            write!(f, "{}{n}={v}", if k == 0 { ':' } else { ',' })?;
        }
        Ok(())
    }
}

impl FromStr for CellChoice {
    type Err = ZooError;

    /// `name` or `name:option=value[,option=value...]`.
    fn from_str(s: &str) -> Result<Self, ZooError> {
        let (name, options) = s.split_once(':').unwrap_or((s, ""));
        Self::parse(name, options)
    }
}

impl serde::Serialize for CellChoice {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
