//! The copy memory task (Hochreiter & Schmidhuber 1997; in this form Arjovsky, Shah & Bengio
//! 2016).
//!
//! With the defaults (`copy_len = 10` symbols, `alphabet = 8`) and a delay `T`, a sequence has
//! `T + 20` steps:
//!
//! | steps                 | input                         | target            |
//! |-----------------------|-------------------------------|-------------------|
//! | `0..10`               | 10 symbols drawn from `1..=8` | blank             |
//! | `10..T+9`             | blank (`T - 1` steps)         | blank             |
//! | `T+9`                 | delimiter                     | blank             |
//! | `T+10..T+20`          | blank                         | the 10 symbols    |
//!
//! so the recall starts exactly `T` steps after the last symbol was shown, and the target is
//! blank for the first `T + 10` steps. This is the layout of Arjovsky et al.'s code (`T - 1`
//! blanks, then the delimiter in the `T`-th slot of the delay).
//!
//! Symbol ids: `0` blank, `1..=alphabet` the symbols, `alphabet + 1` the delimiter. Inputs are
//! one-hot over all `alphabet + 2` ids; targets are class indices over `alphabet + 1` classes
//! (the delimiter is never a target).
//!
//! A memoryless model can do no better than predicting blank for the first `T + 10` steps (loss
//! 0) and a uniform guess over the alphabet for the last `copy_len` steps, a mean cross-entropy
//! of `copy_len * ln(alphabet) / (T + 2 * copy_len)` = `10 ln 8 / (T + 20)`.

use rand::Rng;

use crate::batch::{SeqBatch, Targets, one_hot};
use crate::error::{Result, check_at_least, check_batch};
use crate::task::Task;

/// The copy memory task.
///
/// ```
/// use rnnzoo_datasets::{CopyMemory, Targets, Task};
/// let task = CopyMemory::new(100)?;
/// assert_eq!(task.steps(), 120);
/// let batch = task.sample_seeded(4, 3)?;
/// assert_eq!(batch.features, 10);
/// let Targets::StepClasses { classes, num_classes: 9 } = &batch.targets else { unreachable!() };
/// // Blank targets for the first T + 10 = 110 steps.
/// assert!(classes[..110 * 4].iter().all(|&c| c == CopyMemory::BLANK));
/// # Ok::<(), rnnzoo_datasets::DatasetError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyMemory {
    delay: usize,
    copy_len: usize,
    alphabet: usize,
}

impl CopyMemory {
    /// The blank symbol's id, in inputs and targets.
    pub const BLANK: usize = 0;

    /// Arjovsky et al.'s task: 10 symbols from an alphabet of 8, recalled after `delay` steps.
    ///
    /// # Errors
    ///
    /// [`crate::DatasetError::TooShort`] when `delay` is 0 (the delimiter needs a slot).
    ///
    /// ```
    /// let task = rnnzoo_datasets::CopyMemory::new(50)?;
    /// assert_eq!((task.delay(), task.copy_len(), task.alphabet()), (50, 10, 8));
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn new(delay: usize) -> Result<Self> {
        Self::with_sizes(delay, 10, 8)
    }

    /// A copy task with `copy_len` symbols from an alphabet of `alphabet`, recalled after
    /// `delay` steps.
    ///
    /// # Errors
    ///
    /// [`crate::DatasetError::TooShort`] when any of the three is 0.
    ///
    /// ```
    /// let task = rnnzoo_datasets::CopyMemory::with_sizes(20, 5, 4)?;
    /// assert_eq!(task.steps(), 30);
    /// assert_eq!(task.delimiter(), 5);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn with_sizes(delay: usize, copy_len: usize, alphabet: usize) -> Result<Self> {
        check_at_least("copy memory delay", 1, delay)?;
        check_at_least("copy memory copy length", 1, copy_len)?;
        check_at_least("copy memory alphabet size", 1, alphabet)?;
        Ok(CopyMemory {
            delay,
            copy_len,
            alphabet,
        })
    }

    /// The delay `T`: steps between the last symbol shown and the first one recalled.
    ///
    /// ```
    /// assert_eq!(rnnzoo_datasets::CopyMemory::new(7)?.delay(), 7);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn delay(&self) -> usize {
        self.delay
    }

    /// Symbols to copy.
    ///
    /// ```
    /// assert_eq!(rnnzoo_datasets::CopyMemory::new(7)?.copy_len(), 10);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn copy_len(&self) -> usize {
        self.copy_len
    }

    /// Alphabet size (symbol ids `1..=alphabet`).
    ///
    /// ```
    /// assert_eq!(rnnzoo_datasets::CopyMemory::new(7)?.alphabet(), 8);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn alphabet(&self) -> usize {
        self.alphabet
    }

    /// The delimiter's id: `alphabet + 1`.
    ///
    /// ```
    /// assert_eq!(rnnzoo_datasets::CopyMemory::new(7)?.delimiter(), 9);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn delimiter(&self) -> usize {
        self.alphabet + 1
    }

    /// Sequence length: `delay + 2 * copy_len`.
    ///
    /// ```
    /// assert_eq!(rnnzoo_datasets::CopyMemory::new(100)?.steps(), 120);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn steps(&self) -> usize {
        self.delay + 2 * self.copy_len
    }

    /// Target classes: blank plus the alphabet, `alphabet + 1`.
    ///
    /// ```
    /// assert_eq!(rnnzoo_datasets::CopyMemory::new(100)?.num_classes(), 9);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn num_classes(&self) -> usize {
        self.alphabet + 1
    }

    /// The memoryless baseline's mean cross-entropy per step (natural log):
    /// `copy_len * ln(alphabet) / (delay + 2 * copy_len)`.
    ///
    /// ```
    /// let task = rnnzoo_datasets::CopyMemory::new(100)?;
    /// assert!((task.baseline_cross_entropy() - 10.0 * 8f64.ln() / 120.0).abs() < 1e-15);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn baseline_cross_entropy(&self) -> f64 {
        self.copy_len as f64 * (self.alphabet as f64).ln() / self.steps() as f64
    }
}

impl Task for CopyMemory {
    /// One-hot over blank, the alphabet and the delimiter: `alphabet + 2`.
    fn features(&self) -> usize {
        self.alphabet + 2
    }

    fn sample<R: Rng + ?Sized>(&self, batch: usize, rng: &mut R) -> Result<SeqBatch> {
        check_batch(batch)?;
        let steps = self.steps();
        let recall = self.delay + self.copy_len;
        // Build id grids (time-major, one id per step and sample), then one-hot the inputs.
        let mut input_ids = vec![Self::BLANK; steps * batch];
        let mut classes = vec![Self::BLANK; steps * batch];
        for b in 0..batch {
            for i in 0..self.copy_len {
                let symbol = rng.random_range(1..=self.alphabet);
                input_ids[i * batch + b] = symbol;
                classes[(recall + i) * batch + b] = symbol;
            }
            input_ids[(recall - 1) * batch + b] = self.delimiter();
        }
        Ok(SeqBatch {
            inputs: one_hot(&input_ids, self.features()),
            features: self.features(),
            steps,
            batch,
            targets: Targets::StepClasses {
                classes,
                num_classes: self.num_classes(),
            },
            lengths: None,
        })
    }

    fn baseline_loss(&self) -> Option<f64> {
        Some(self.baseline_cross_entropy())
    }
}
