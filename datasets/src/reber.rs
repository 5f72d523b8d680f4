//! The Reber grammar and the embedded Reber grammar (Reber 1967; Cleeremans, Servan-Schreiber &
//! McClelland 1989; Hochreiter & Schmidhuber 1997, experiment 1).
//!
//! The Reber grammar is a finite automaton over `B T P S X V E`. Every string starts with `B`,
//! ends with `E`, and in between follows this graph, taking each of a node's two edges with
//! probability 1/2:
//!
//! ```text
//!  node 0: T -> 1, P -> 5        node 3: E -> end
//!  node 1: S -> 1, X -> 2        node 4: V -> 3, P -> 2
//!  node 2: S -> 3, X -> 5        node 5: T -> 5, V -> 4
//! ```
//!
//! (`BTXSE`, `BPVVE`, `BTSSXXTVVE` and `BPTVPSE` are in the language.) The embedded grammar wraps
//! a Reber string: `B`, then `T` or `P`, then a Reber string, then the same `T` or `P` again,
//! then `E`. Predicting that second-to-last symbol needs the second symbol remembered across the
//! whole embedded string: that is the long-range part.
//!
//! As a dataset, step `t` inputs the one-hot symbol `t` of a string of length `n` (steps
//! `0..n-1`, the final `E` is never an input) and its target is the set of symbols the grammar
//! allows next, multi-hot over the seven symbols. Symbol ids are positions in [`REBER_SYMBOLS`]:
//! `B = 0, T = 1, P = 2, S = 3, X = 4, V = 5, E = 6`.

use rand::Rng;

use crate::batch::{SeqBatch, Targets, one_hot, pad_sequences};
use crate::error::{DatasetError, Result, check_batch};
use crate::task::Task;

/// The grammars' symbols; a symbol's id is its index here.
///
/// ```
/// assert_eq!(rnnzoo_datasets::REBER_SYMBOLS.iter().collect::<String>(), "BTPSXVE");
/// ```
pub const REBER_SYMBOLS: [char; 7] = ['B', 'T', 'P', 'S', 'X', 'V', 'E'];

/// The id of a grammar symbol, or `None` for any other character.
///
/// ```
/// use rnnzoo_datasets::reber_symbol_id;
/// assert_eq!(reber_symbol_id('X'), Some(4));
/// assert_eq!(reber_symbol_id('x'), None);
/// ```
pub fn reber_symbol_id(c: char) -> Option<usize> {
    REBER_SYMBOLS.iter().position(|&s| s == c)
}

/// Where the plain Reber automaton is: before `B`, at a graph node, or past the final `E`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plain {
    Begin,
    Node(u8),
    Done,
}

impl Plain {
    /// The symbols allowed next, in the order the generator chooses among them.
    fn allowed(self) -> &'static [char] {
        match self {
            Plain::Begin => &['B'],
            Plain::Node(0) => &['T', 'P'],
            Plain::Node(1) => &['S', 'X'],
            Plain::Node(2) => &['S', 'X'],
            Plain::Node(3) => &['E'],
            Plain::Node(4) => &['V', 'P'],
            Plain::Node(5) => &['T', 'V'],
            Plain::Node(_) | Plain::Done => &[],
        }
    }

    fn step(self, c: char) -> Option<Plain> {
        Some(match (self, c) {
            (Plain::Begin, 'B') => Plain::Node(0),
            (Plain::Node(0), 'T') => Plain::Node(1),
            (Plain::Node(0), 'P') => Plain::Node(5),
            (Plain::Node(1), 'S') => Plain::Node(1),
            (Plain::Node(1), 'X') => Plain::Node(2),
            (Plain::Node(2), 'S') => Plain::Node(3),
            (Plain::Node(2), 'X') => Plain::Node(5),
            (Plain::Node(3), 'E') => Plain::Done,
            (Plain::Node(4), 'V') => Plain::Node(3),
            (Plain::Node(4), 'P') => Plain::Node(2),
            (Plain::Node(5), 'T') => Plain::Node(5),
            (Plain::Node(5), 'V') => Plain::Node(4),
            _ => return None,
        })
    }
}

/// The automaton of either grammar. The embedded one remembers its branch symbol (`T` or `P`)
/// while it runs the inner plain automaton.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Plain(Plain),
    EmbeddedBegin,
    EmbeddedBranch,
    Inner { branch: char, inner: Plain },
    Echo { branch: char },
    Final,
    EmbeddedDone,
}

impl State {
    fn start(embedded: bool) -> State {
        if embedded {
            State::EmbeddedBegin
        } else {
            State::Plain(Plain::Begin)
        }
    }

    fn allowed(self) -> &'static [char] {
        match self {
            State::Plain(p) | State::Inner { inner: p, .. } => p.allowed(),
            State::EmbeddedBegin => &['B'],
            State::EmbeddedBranch => &['T', 'P'],
            State::Echo { branch: 'T' } => &['T'],
            State::Echo { .. } => &['P'],
            State::Final => &['E'],
            State::EmbeddedDone => &[],
        }
    }

    fn step(self, c: char) -> Option<State> {
        Some(match self {
            State::Plain(p) => State::Plain(p.step(c)?),
            State::EmbeddedBegin if c == 'B' => State::EmbeddedBranch,
            State::EmbeddedBranch if c == 'T' || c == 'P' => State::Inner {
                branch: c,
                inner: Plain::Begin,
            },
            State::Inner { branch, inner } => match inner.step(c)? {
                Plain::Done => State::Echo { branch },
                inner => State::Inner { branch, inner },
            },
            State::Echo { branch } if c == branch => State::Final,
            State::Final if c == 'E' => State::EmbeddedDone,
            _ => return None,
        })
    }

    fn is_done(self) -> bool {
        matches!(self, State::Plain(Plain::Done) | State::EmbeddedDone)
    }

    /// Runs the automaton over `s`; `None` as soon as a symbol is not allowed.
    fn run(s: &str, embedded: bool) -> Option<State> {
        s.chars().try_fold(State::start(embedded), State::step)
    }
}

fn generate<R: Rng + ?Sized>(rng: &mut R, embedded: bool) -> String {
    let mut state = State::start(embedded);
    let mut s = String::new();
    while !state.is_done() {
        let allowed = state.allowed();
        let c = allowed[rng.random_range(0..allowed.len())];
        s.push(c);
        // `c` came from `allowed`, so the step always succeeds; fall back defensively anyway.
        state = match state.step(c) {
            Some(next) => next,
            None => break,
        };
    }
    s
}

/// Draws a Reber string (each branch with probability 1/2).
///
/// ```
/// use rnnzoo_datasets::{generate_reber, is_valid_reber, rng};
/// let s = generate_reber(&mut rng(0));
/// assert!(s.starts_with('B') && s.ends_with('E'));
/// assert!(is_valid_reber(&s));
/// ```
pub fn generate_reber<R: Rng + ?Sized>(rng: &mut R) -> String {
    generate(rng, false)
}

/// Draws an embedded Reber string: `B`, `T` or `P`, a Reber string, the same `T` or `P`, `E`.
///
/// ```
/// use rnnzoo_datasets::{generate_embedded_reber, is_valid_embedded_reber, rng};
/// let s = generate_embedded_reber(&mut rng(0));
/// let chars: Vec<char> = s.chars().collect();
/// assert_eq!(chars[1], chars[chars.len() - 2]);
/// assert!(is_valid_embedded_reber(&s));
/// ```
pub fn generate_embedded_reber<R: Rng + ?Sized>(rng: &mut R) -> String {
    generate(rng, true)
}

/// Whether `s` is a complete string of the Reber grammar.
///
/// ```
/// use rnnzoo_datasets::is_valid_reber;
/// assert!(is_valid_reber("BTSSXXTVVE"));
/// assert!(is_valid_reber("BPTVPSE"));
/// assert!(!is_valid_reber("BTSSXXTVV")); // unfinished
/// assert!(!is_valid_reber("BTXXE"));
/// ```
pub fn is_valid_reber(s: &str) -> bool {
    State::run(s, false).is_some_and(State::is_done)
}

/// Whether `s` is a complete string of the embedded Reber grammar.
///
/// ```
/// use rnnzoo_datasets::is_valid_embedded_reber;
/// assert!(is_valid_embedded_reber("BTBTXSETE"));
/// assert!(is_valid_embedded_reber("BPBPVVEPE"));
/// assert!(!is_valid_embedded_reber("BTBTXSEPE")); // wrong echo of the branch
/// ```
pub fn is_valid_embedded_reber(s: &str) -> bool {
    State::run(s, true).is_some_and(State::is_done)
}

/// The symbols the grammar allows after `prefix`, in [`REBER_SYMBOLS`] order; `None` if the
/// prefix is not a prefix of any string of the grammar. A complete string allows nothing next.
///
/// ```
/// use rnnzoo_datasets::reber_allowed_next;
/// assert_eq!(reber_allowed_next("BT", false), Some(vec!['S', 'X']));
/// assert_eq!(reber_allowed_next("BPBTXSE", true), Some(vec!['P']));
/// assert_eq!(reber_allowed_next("BX", false), None);
/// ```
pub fn reber_allowed_next(prefix: &str, embedded: bool) -> Option<Vec<char>> {
    let allowed = State::run(prefix, embedded)?.allowed();
    Some(
        REBER_SYMBOLS
            .iter()
            .copied()
            .filter(|c| allowed.contains(c))
            .collect(),
    )
}

/// Next-symbol prediction on the Reber grammar or its embedded form.
///
/// ```
/// use rnnzoo_datasets::{Reber, Targets, Task};
/// let batch = Reber::embedded().sample_seeded(16, 0)?;
/// assert_eq!(batch.features, 7);
/// assert!(matches!(batch.targets, Targets::StepMultiHot { num_classes: 7, .. }));
/// assert!(batch.lengths.is_some());
/// # Ok::<(), rnnzoo_datasets::DatasetError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reber {
    embedded: bool,
}

impl Reber {
    /// Input features and target classes: the seven symbols.
    pub const FEATURES: usize = 7;

    /// The plain Reber grammar.
    ///
    /// ```
    /// assert!(!rnnzoo_datasets::Reber::plain().is_embedded());
    /// ```
    pub fn plain() -> Self {
        Reber { embedded: false }
    }

    /// The embedded Reber grammar (the long-range task).
    ///
    /// ```
    /// assert!(rnnzoo_datasets::Reber::embedded().is_embedded());
    /// ```
    pub fn embedded() -> Self {
        Reber { embedded: true }
    }

    /// Whether this is the embedded grammar.
    ///
    /// ```
    /// assert!(!rnnzoo_datasets::Reber::plain().is_embedded());
    /// ```
    pub fn is_embedded(&self) -> bool {
        self.embedded
    }

    /// Whether `s` is a complete string of this grammar.
    ///
    /// ```
    /// use rnnzoo_datasets::Reber;
    /// assert!(Reber::plain().is_valid("BTXSE"));
    /// assert!(!Reber::embedded().is_valid("BTXSE"));
    /// ```
    pub fn is_valid(&self, s: &str) -> bool {
        State::run(s, self.embedded).is_some_and(State::is_done)
    }

    /// Draws one string of this grammar.
    ///
    /// ```
    /// use rnnzoo_datasets::{rng, Reber};
    /// let r = Reber::embedded();
    /// assert!(r.is_valid(&r.generate(&mut rng(3))));
    /// ```
    pub fn generate<R: Rng + ?Sized>(&self, rng: &mut R) -> String {
        generate(rng, self.embedded)
    }

    /// Encodes given strings as a batch: one-hot inputs for every symbol but the last,
    /// multi-hot allowed-next targets, padded to the longest string, with lengths.
    ///
    /// # Errors
    ///
    /// [`DatasetError::ZeroBatch`] for no strings, [`DatasetError::InvalidString`] for a string
    /// that is not a complete string of this grammar.
    ///
    /// ```
    /// use rnnzoo_datasets::{Reber, Targets};
    /// let batch = Reber::plain().encode(&["BTXSE", "BPVVE"])?;
    /// assert_eq!((batch.steps, batch.batch), (4, 2));
    /// let Targets::StepMultiHot { values, .. } = &batch.targets else { unreachable!() };
    /// // After "B" (step 0, sample 0) the allowed symbols are T and P (ids 1 and 2).
    /// assert_eq!(&values[..7], &[0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
    /// assert!(Reber::plain().encode(&["BTE"]).is_err());
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn encode<S: AsRef<str>>(&self, strings: &[S]) -> Result<SeqBatch> {
        check_batch(strings.len())?;
        let mut inputs = Vec::with_capacity(strings.len());
        let mut targets = Vec::with_capacity(strings.len());
        for s in strings {
            let s = s.as_ref();
            let (x, y) = self
                .encode_one(s)
                .ok_or_else(|| DatasetError::InvalidString {
                    string: s.to_string(),
                    reason: format!(
                        "not a complete string of the {} grammar",
                        if self.embedded {
                            "embedded Reber"
                        } else {
                            "Reber"
                        }
                    ),
                })?;
            inputs.push(x);
            targets.push(y);
        }
        let inputs = pad_sequences(&inputs, Self::FEATURES)?;
        let targets = pad_sequences(&targets, Self::FEATURES)?;
        Ok(SeqBatch {
            inputs: inputs.values,
            features: Self::FEATURES,
            steps: inputs.steps,
            batch: inputs.batch,
            targets: Targets::StepMultiHot {
                values: targets.values,
                num_classes: Self::FEATURES,
            },
            lengths: Some(inputs.lengths),
        })
    }

    /// One string's step-major one-hot inputs and multi-hot targets, or `None` if invalid.
    fn encode_one(&self, s: &str) -> Option<(Vec<f64>, Vec<f64>)> {
        if !self.is_valid(s) {
            return None;
        }
        let chars: Vec<char> = s.chars().collect();
        let ids: Vec<usize> = chars
            .iter()
            .map(|&c| reber_symbol_id(c))
            .collect::<Option<_>>()?;
        let steps = ids.len() - 1;
        let inputs = one_hot(&ids[..steps], Self::FEATURES);
        let mut targets = vec![0.0; steps * Self::FEATURES];
        let mut state = State::start(self.embedded);
        for (t, &c) in chars[..steps].iter().enumerate() {
            state = state.step(c)?;
            for &next in state.allowed() {
                targets[t * Self::FEATURES + reber_symbol_id(next)?] = 1.0;
            }
        }
        Some((inputs, targets))
    }
}

impl Task for Reber {
    fn features(&self) -> usize {
        Self::FEATURES
    }

    fn sample<R: Rng + ?Sized>(&self, batch: usize, rng: &mut R) -> Result<SeqBatch> {
        check_batch(batch)?;
        let strings: Vec<String> = (0..batch).map(|_| self.generate(rng)).collect();
        self.encode(&strings)
    }

    /// No closed form: the grammar's next-symbol sets are learnt, not guessed.
    fn baseline_loss(&self) -> Option<f64> {
        None
    }
}
