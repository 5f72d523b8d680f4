//! The temporal order problem (Hochreiter & Schmidhuber 1997, "Long Short-Term Memory",
//! experiment 6).
//!
//! Task 6a as the paper describes it: a sequence starts with the start symbol `E`, ends with the
//! trigger symbol `B`, and otherwise consists of symbols drawn uniformly from the distractors
//! `{a, b, c, d}`, except at two positions `t1` and `t2` that hold `X` or `Y` (each with
//! probability 1/2). The length is uniform in `100..=110`, `t1` uniform in `10..=20` and `t2`
//! uniform in `50..=60`. The class depends on the temporal order of the two relevant symbols:
//! `XX -> Q`, `XY -> R`, `YX -> S`, `YY -> U`, here class indices `0, 1, 2, 3`. The target is
//! given once, at the last step (the trigger), and every input is one-hot.
//!
//! Task 6b has three relevant symbols at `t1 in 10..=20`, `t2 in 33..=43`, `t3 in 66..=76` and
//! eight classes ([`TemporalOrder::task_6b`]).
//!
//! Interpretation choices, where the paper is silent: positions are 1-based and count the start
//! symbol `E` as position 1 (so `t1 = 10` is 0-based step 9), and the length counts `E` and `B`.
//! The class index reads the relevant symbols as binary digits, first symbol most significant,
//! `X = 0`, `Y = 1`.
//!
//! Input ids (one-hot features): `E = 0`, `B = 1`, `a..d = 2..=5`, `X = 6`, `Y = 7`. Lengths
//! vary, so batches are padded (zeros) to the longest sample and carry `lengths`.

use std::ops::RangeInclusive;

use rand::Rng;

use crate::batch::{SeqBatch, Targets, one_hot, pad_sequences};
use crate::error::{DatasetError, Result, check_batch};
use crate::task::Task;

/// The temporal order problem: classify a sequence by the order of widely separated symbols.
///
/// ```
/// use rnnzoo_datasets::{Targets, TemporalOrder, Task};
/// let task = TemporalOrder::task_6a();
/// assert_eq!(task.num_classes(), 4);
/// let batch = task.sample_seeded(8, 1)?;
/// assert_eq!(batch.features, 8);
/// let lengths = batch.lengths.clone().unwrap();
/// assert!(lengths.iter().all(|l| (100..=110).contains(l)));
/// assert!(matches!(batch.targets, Targets::FinalClasses { num_classes: 4, .. }));
/// # Ok::<(), rnnzoo_datasets::DatasetError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemporalOrder {
    lengths: RangeInclusive<usize>,
    windows: Vec<RangeInclusive<usize>>,
}

impl TemporalOrder {
    /// Id of the start symbol `E`.
    pub const START: usize = 0;
    /// Id of the trigger symbol `B` that ends every sequence.
    pub const TRIGGER: usize = 1;
    /// Ids of the distractor symbols `a, b, c, d`.
    pub const DISTRACTORS: [usize; 4] = [2, 3, 4, 5];
    /// Id of the relevant symbol `X`.
    pub const X: usize = 6;
    /// Id of the relevant symbol `Y`.
    pub const Y: usize = 7;
    /// The symbol of each id, for printing: `E B a b c d X Y`.
    pub const SYMBOLS: [char; 8] = ['E', 'B', 'a', 'b', 'c', 'd', 'X', 'Y'];
    /// Input features (one-hot over the eight symbols).
    pub const FEATURES: usize = 8;

    /// Task 6a: lengths `100..=110`, `X`/`Y` at positions `10..=20` and `50..=60`, 4 classes.
    ///
    /// ```
    /// let t = rnnzoo_datasets::TemporalOrder::task_6a();
    /// assert_eq!(t.windows(), &[10..=20, 50..=60]);
    /// ```
    pub fn task_6a() -> Self {
        TemporalOrder {
            lengths: 100..=110,
            windows: vec![10..=20, 50..=60],
        }
    }

    /// Task 6b: lengths `100..=110`, three relevant symbols at `10..=20`, `33..=43`, `66..=76`,
    /// 8 classes.
    ///
    /// ```
    /// assert_eq!(rnnzoo_datasets::TemporalOrder::task_6b().num_classes(), 8);
    /// ```
    pub fn task_6b() -> Self {
        TemporalOrder {
            lengths: 100..=110,
            windows: vec![10..=20, 33..=43, 66..=76],
        }
    }

    /// A custom variant: sequence lengths uniform in `lengths`, one relevant symbol uniform in
    /// each window (1-based positions, `E` at position 1).
    ///
    /// # Errors
    ///
    /// [`DatasetError::InvalidParameter`] unless: `lengths` is non-empty with a start of at least
    /// 3; there are 1 to 16 windows; each window is non-empty, starts at position 2 or later
    /// (position 1 is `E`), ends before the shortest sequence's last position (the trigger); and
    /// windows are in increasing order without overlap (so the order of the symbols is the
    /// order of the windows).
    ///
    /// ```
    /// use rnnzoo_datasets::TemporalOrder;
    /// // A longer-range variant: 500 to 510 steps.
    /// let t = TemporalOrder::new(500..=510, &[10..=20, 250..=260])?;
    /// assert_eq!(t.lengths(), &(500..=510));
    /// assert!(TemporalOrder::new(100..=110, &[50..=60, 10..=20]).is_err());
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn new(lengths: RangeInclusive<usize>, windows: &[RangeInclusive<usize>]) -> Result<Self> {
        let invalid = |name, value: String, expected: &str| DatasetError::InvalidParameter {
            name,
            value,
            expected: expected.to_string(),
        };
        if lengths.is_empty() || *lengths.start() < 3 {
            return Err(invalid(
                "temporal order lengths",
                format!("{lengths:?}"),
                "a non-empty range of lengths of at least 3",
            ));
        }
        if windows.is_empty() || windows.len() > 16 {
            return Err(invalid(
                "temporal order window count",
                windows.len().to_string(),
                "1 to 16 windows",
            ));
        }
        let mut previous_end = 1; // position 1 holds E
        for w in windows {
            if w.is_empty() || *w.start() <= previous_end || *w.end() >= *lengths.start() {
                return Err(invalid(
                    "temporal order window",
                    format!("{w:?}"),
                    "non-empty, increasing, non-overlapping windows inside 2..=(shortest length - 1)",
                ));
            }
            previous_end = *w.end();
        }
        Ok(TemporalOrder {
            lengths,
            windows: windows.to_vec(),
        })
    }

    /// The range of sequence lengths.
    ///
    /// ```
    /// assert_eq!(rnnzoo_datasets::TemporalOrder::task_6a().lengths(), &(100..=110));
    /// ```
    pub fn lengths(&self) -> &RangeInclusive<usize> {
        &self.lengths
    }

    /// The windows of the relevant symbols' 1-based positions.
    ///
    /// ```
    /// assert_eq!(rnnzoo_datasets::TemporalOrder::task_6b().windows().len(), 3);
    /// ```
    pub fn windows(&self) -> &[RangeInclusive<usize>] {
        &self.windows
    }

    /// Number of classes: `2^(number of windows)`.
    ///
    /// ```
    /// assert_eq!(rnnzoo_datasets::TemporalOrder::task_6a().num_classes(), 4);
    /// ```
    pub fn num_classes(&self) -> usize {
        1 << self.windows.len()
    }

    /// The class of a sequence of ids: its `X`/`Y` symbols read as binary digits in order
    /// (`X = 0`, `Y = 1`, first most significant). `None` if the number of relevant symbols is
    /// not the number of windows.
    ///
    /// ```
    /// use rnnzoo_datasets::TemporalOrder as T;
    /// let ids = [T::START, 2, T::Y, 3, T::X, T::TRIGGER];
    /// assert_eq!(T::task_6a().class_of(&ids), Some(2)); // YX -> S
    /// assert_eq!(T::task_6a().class_of(&ids[..3]), None);
    /// ```
    pub fn class_of(&self, ids: &[usize]) -> Option<usize> {
        let relevant: Vec<usize> = ids
            .iter()
            .filter(|&&id| id == Self::X || id == Self::Y)
            .map(|&id| usize::from(id == Self::Y))
            .collect();
        (relevant.len() == self.windows.len())
            .then(|| relevant.iter().fold(0, |acc, &bit| acc * 2 + bit))
    }

    /// Draws one sequence of symbol ids and its class.
    ///
    /// ```
    /// use rnnzoo_datasets::{rng, TemporalOrder as T};
    /// let (ids, class) = T::task_6a().sample_ids(&mut rng(5));
    /// assert_eq!(ids[0], T::START);
    /// assert_eq!(*ids.last().unwrap(), T::TRIGGER);
    /// assert_eq!(T::task_6a().class_of(&ids), Some(class));
    /// ```
    pub fn sample_ids<R: Rng + ?Sized>(&self, rng: &mut R) -> (Vec<usize>, usize) {
        let len = rng.random_range(self.lengths.clone());
        let mut ids: Vec<usize> = (0..len)
            .map(|_| Self::DISTRACTORS[rng.random_range(0..Self::DISTRACTORS.len())])
            .collect();
        ids[0] = Self::START;
        ids[len - 1] = Self::TRIGGER;
        let mut class = 0;
        for w in &self.windows {
            let position = rng.random_range(w.clone());
            let is_y = rng.random_bool(0.5);
            ids[position - 1] = if is_y { Self::Y } else { Self::X };
            class = class * 2 + usize::from(is_y);
        }
        (ids, class)
    }
}

impl Task for TemporalOrder {
    fn features(&self) -> usize {
        Self::FEATURES
    }

    fn sample<R: Rng + ?Sized>(&self, batch: usize, rng: &mut R) -> Result<SeqBatch> {
        check_batch(batch)?;
        let mut seqs = Vec::with_capacity(batch);
        let mut classes = Vec::with_capacity(batch);
        for _ in 0..batch {
            let (ids, class) = self.sample_ids(rng);
            seqs.push(one_hot(&ids, Self::FEATURES));
            classes.push(class);
        }
        let padded = pad_sequences(&seqs, Self::FEATURES)?;
        Ok(SeqBatch {
            inputs: padded.values,
            features: Self::FEATURES,
            steps: padded.steps,
            batch,
            targets: Targets::FinalClasses {
                classes,
                num_classes: self.num_classes(),
            },
            lengths: Some(padded.lengths),
        })
    }

    /// Chance: cross-entropy `ln(num_classes)`, since the classes are equally likely.
    fn baseline_loss(&self) -> Option<f64> {
        Some((self.num_classes() as f64).ln())
    }
}
