//! The options a cell kind takes (`forget_bias=1`, `proj_size=64`, `dt=0.042`): their
//! declarations, and the values a user set, checked against them.

use std::fmt;

use super::{Entry, ZooError};

/// The most options one kind may declare (the registry's tests check every entry).
pub const MAX_OPTIONS: usize = 4;

/// An option a cell kind takes (an initialisation, a variant, a hyperparameter), given as
/// `name=value`.
///
/// ```
/// use rnnzoo::zoo::{OptionSpec, OptionValues};
/// const DT: OptionSpec = OptionSpec::real("dt", 0.042, 0.0, 1.0, "the time step");
/// assert_eq!(DT.default_text(), "0.042");
/// assert!(matches!(DT.values, OptionValues::Number { integer: false, .. }));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct OptionSpec {
    /// The option's name (`forget_bias`).
    pub name: &'static str,
    /// The values it takes.
    pub values: OptionValues,
    /// What it does.
    pub doc: &'static str,
}

/// The values an option takes.
#[derive(Debug, Clone, Copy, serde::Serialize)]
// In JSON a list stays the list of words, and a number is its range: `{"default": .., "min": ..}`.
#[serde(untagged)]
pub enum OptionValues {
    /// One of these words; the first is the default.
    Listed(&'static [&'static str]),
    /// A number in `min..=max` (a whole number if `integer`).
    Number {
        /// The value when none is given.
        default: f64,
        /// The smallest value taken.
        min: f64,
        /// The largest value taken.
        max: f64,
        /// Whether only whole numbers are taken.
        integer: bool,
    },
}

// Declared numbers are finite, so comparing and hashing their bits is an equivalence.
impl PartialEq for OptionValues {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Listed(a), Self::Listed(b)) => a == b,
            (
                Self::Number {
                    default,
                    min,
                    max,
                    integer,
                },
                Self::Number {
                    default: d,
                    min: lo,
                    max: hi,
                    integer: i,
                },
            ) => {
                [default.to_bits(), min.to_bits(), max.to_bits()]
                    == [d.to_bits(), lo.to_bits(), hi.to_bits()]
                    && integer == i
            }
            _ => false,
        }
    }
}

impl Eq for OptionValues {}

impl std::hash::Hash for OptionValues {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            Self::Listed(v) => v.hash(state),
            Self::Number {
                default,
                min,
                max,
                integer,
            } => (default.to_bits(), min.to_bits(), max.to_bits(), integer).hash(state),
        }
    }
}

impl OptionSpec {
    /// An option that takes one of `values`; the first is the default.
    pub const fn listed(
        name: &'static str,
        values: &'static [&'static str],
        doc: &'static str,
    ) -> Self {
        Self {
            name,
            values: OptionValues::Listed(values),
            doc,
        }
    }

    /// An option that takes a number in `min..=max`.
    pub const fn real(
        name: &'static str,
        default: f64,
        min: f64,
        max: f64,
        doc: &'static str,
    ) -> Self {
        Self {
            name,
            values: OptionValues::Number {
                default,
                min,
                max,
                integer: false,
            },
            doc,
        }
    }

    /// An option that takes a whole number in `min..=max`.
    pub const fn integer(
        name: &'static str,
        default: u64,
        min: u64,
        max: u64,
        doc: &'static str,
    ) -> Self {
        Self {
            name,
            values: OptionValues::Number {
                default: default as f64,
                min: min as f64,
                max: max as f64,
                integer: true,
            },
            doc,
        }
    }

    /// The default, as a user would write it (`0`, `0.042`).
    pub fn default_text(&self) -> String {
        self.default_value().to_string()
    }

    /// What the option takes, for help texts and errors: `0|1`, `a whole number in 1..=4096
    /// (default 1)`.
    pub fn describe(&self) -> String {
        match self.values {
            OptionValues::Listed(v) => v.join("|"),
            OptionValues::Number {
                default,
                min,
                max,
                integer,
            } => format!(
                "{} in {min}..={max} (default {default})",
                if integer {
                    "a whole number"
                } else {
                    "a number"
                }
            ),
        }
    }

    fn default_value(&self) -> Value {
        match self.values {
            OptionValues::Listed(v) => Value::Listed(v[0]),
            OptionValues::Number { default, .. } => Value::Number(default.to_bits()),
        }
    }

    /// `text` as a value of this option.
    fn read(&self, cell: &'static str, text: &str) -> Result<Value, ZooError> {
        match self.values {
            OptionValues::Listed(values) => values
                .iter()
                .find(|v| **v == text)
                .map(|v| Value::Listed(v))
                .ok_or_else(|| ZooError::BadOptionValue {
                    cell,
                    option: self.name,
                    value: text.to_string(),
                    known: values.to_vec(),
                }),
            OptionValues::Number {
                min, max, integer, ..
            } => match text.parse::<f64>() {
                Ok(x)
                    if x.is_finite()
                        && (min..=max).contains(&x)
                        && (!integer || x.fract() == 0.0) =>
                {
                    // `-0` reads as 0, so that one number has one spelling.
                    Ok(Value::Number((x + 0.0).to_bits()))
                }
                _ => Err(ZooError::OptionOutOfRange {
                    cell,
                    option: self.name,
                    value: text.to_string(),
                    expected: self.describe(),
                }),
            },
        }
    }
}

/// One set value: a listed word, or a number's bits (so that `Options` stays `Copy + Eq + Hash`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Value {
    Listed(&'static str),
    Number(u64),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Listed(s) => f.write_str(s),
            Self::Number(bits) => write!(f, "{}", f64::from_bits(*bits)),
        }
    }
}

/// Option values set for one kind, checked against its [`Entry::options`]. Values not set are
/// the option's default. Small and `Copy`.
///
/// ```
/// use rnnzoo::zoo::{self, Options};
/// let lstm = zoo::get("lstm")?;
/// let o = Options::parse(lstm, "forget_bias=1")?;
/// assert_eq!(o.value(lstm, "forget_bias")?, "1");
/// assert_eq!(Options::default().value(lstm, "forget_bias")?, "0");
/// # Ok::<(), rnnzoo::zoo::ZooError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Options {
    set: [Option<(&'static str, Value)>; MAX_OPTIONS],
}

impl Options {
    /// Parses `name=value[,name=value...]` (an empty string is no option) for `entry`.
    ///
    /// # Errors
    ///
    /// [`ZooError::UnknownOption`] for an option the kind does not take,
    /// [`ZooError::BadOptionValue`] for a word it does not take, [`ZooError::OptionOutOfRange`]
    /// for a number outside its range (or not whole where it must be), [`ZooError::OptionSyntax`]
    /// for an item without `=` or an option given twice.
    pub fn parse(entry: &'static Entry, text: &str) -> Result<Self, ZooError> {
        let mut out = Self::default();
        for item in text.split(',').filter(|s| !s.trim().is_empty()) {
            let (name, value) = item.split_once('=').ok_or_else(|| ZooError::OptionSyntax {
                text: item.to_string(),
            })?;
            let spec = entry.option(name.trim())?;
            let value = spec.read(entry.name, value.trim())?;
            // Each option has the slot of its declaration, so that equal options compare equal
            // whatever order they were written in.
            let slot = entry
                .options
                .iter()
                .position(|o| o.name == spec.name)
                .filter(|&k| k < MAX_OPTIONS)
                .and_then(|k| out.set.get_mut(k))
                .filter(|s| s.is_none())
                .ok_or_else(|| ZooError::OptionSyntax {
                    text: text.to_string(),
                })?;
            *slot = Some((spec.name, value));
        }
        Ok(out)
    }

    fn get(&self, spec: &OptionSpec) -> Value {
        self.set
            .iter()
            .flatten()
            .find(|(n, _)| *n == spec.name)
            .map_or(spec.default_value(), |(_, v)| *v)
    }

    /// The value of the listed option `name` of `entry`: the one set, or the default.
    ///
    /// # Errors
    ///
    /// [`ZooError::UnknownOption`] if `entry` has no such option, [`ZooError::OptionKind`] if it
    /// takes a number.
    pub fn value(&self, entry: &'static Entry, name: &str) -> Result<&'static str, ZooError> {
        let spec = entry.option(name)?;
        match self.get(spec) {
            Value::Listed(v) => Ok(v),
            Value::Number(_) => Err(ZooError::OptionKind {
                cell: entry.name,
                option: spec.name,
                expected: "a number",
            }),
        }
    }

    /// The value of the numeric option `name` of `entry`: the one set, or the default.
    ///
    /// ```
    /// use rnnzoo::zoo::{self, Options, OptionSpec};
    /// let lstm = zoo::get("lstm")?;
    /// // `lstm` has no numeric option: asking for one is an error, not a guess.
    /// assert!(Options::default().number(lstm, "forget_bias").is_err());
    /// # Ok::<(), rnnzoo::zoo::ZooError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ZooError::UnknownOption`] if `entry` has no such option, [`ZooError::OptionKind`] if it
    /// takes listed words.
    pub fn number(&self, entry: &'static Entry, name: &str) -> Result<f64, ZooError> {
        let spec = entry.option(name)?;
        match self.get(spec) {
            Value::Number(bits) => Ok(f64::from_bits(bits)),
            Value::Listed(_) => Err(ZooError::OptionKind {
                cell: entry.name,
                option: spec.name,
                expected: "one of its listed words",
            }),
        }
    }

    /// The options set to something other than their default, `(name, value as written)`, in
    /// the order the kind declares them.
    pub fn non_default(&self, entry: &'static Entry) -> Vec<(&'static str, String)> {
        self.set
            .iter()
            .flatten()
            .filter(|(n, v)| entry.option(n).is_ok_and(|s| s.default_value() != *v))
            .map(|(n, v)| (*n, v.to_string()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Form, Id};
    use super::*;

    const SIZE: OptionSpec = OptionSpec::integer("size", 2, 1, 8, "a whole number");
    const RATE: OptionSpec = OptionSpec::real("rate", 0.5, 0.0, 1.0, "a real number");
    const WORD: OptionSpec = OptionSpec::listed("word", &["a", "b"], "a word");

    // A kind that exists only here, so that numbers are tested whatever the table holds.
    static TOY: Entry = Entry {
        name: "toy",
        label: "toy",
        crate_name: "-",
        rust_type: "-",
        form: Form::Gated,
        torch_mode: None,
        cell_mode: "TOY",
        gates: 1,
        gate_names: &[],
        state: &["h"],
        reference: "-",
        summary: "-",
        options: &[SIZE, RATE, WORD],
        id: Id::RnnTanh,
    };

    #[test]
    fn numbers_read_back_and_defaults_stand_in() {
        let o = Options::parse(&TOY, "size=5, rate=0.25").unwrap();
        assert_eq!(o.number(&TOY, "size").unwrap(), 5.0);
        assert_eq!(o.number(&TOY, "rate").unwrap(), 0.25);
        assert_eq!(o.value(&TOY, "word").unwrap(), "a");
        assert_eq!(Options::default().number(&TOY, "size").unwrap(), 2.0);
        let set = o.non_default(&TOY);
        assert_eq!(
            set,
            vec![("size", "5".to_string()), ("rate", "0.25".to_string())]
        );
        // The default given explicitly is not a non-default value.
        let d = Options::parse(&TOY, "size=2,rate=0.5,word=a").unwrap();
        assert!(d.non_default(&TOY).is_empty());
        let a = Options::parse(&TOY, "word=b,size=3").unwrap();
        assert_eq!(a, Options::parse(&TOY, "size=3.0, word=b").unwrap());
        assert_eq!(a.non_default(&TOY)[0], ("size", "3".to_string()));
    }

    #[test]
    fn numbers_out_of_range_or_not_whole_are_typed_errors() {
        for text in [
            "size=0",
            "size=9",
            "size=2.5",
            "size=x",
            "rate=-0.1",
            "rate=NaN",
            "rate=inf",
        ] {
            match Options::parse(&TOY, text) {
                Err(ZooError::OptionOutOfRange {
                    option,
                    value,
                    expected,
                    ..
                }) => {
                    assert_eq!(Some(value.as_str()), text.split('=').nth(1), "{text}");
                    assert!(expected.contains("in"), "{expected}");
                    assert!(["size", "rate"].contains(&option));
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        assert_eq!(SIZE.describe(), "a whole number in 1..=8 (default 2)",);
        assert_eq!(
            Options::parse(&TOY, "rate=-0")
                .unwrap()
                .number(&TOY, "rate")
                .unwrap()
                .to_bits(),
            0.0f64.to_bits()
        );
    }

    #[test]
    fn reading_an_option_as_the_other_kind_is_an_error() {
        let o = Options::default();
        assert!(matches!(
            o.value(&TOY, "size"),
            Err(ZooError::OptionKind { option: "size", .. })
        ));
        assert!(matches!(
            o.number(&TOY, "word"),
            Err(ZooError::OptionKind { option: "word", .. })
        ));
    }
}
