//! The adding problem (Hochreiter & Schmidhuber 1997; in this form Le, Jaitly & Hinton 2015 and
//! Arjovsky, Shah & Bengio 2016).
//!
//! Each step carries two input features: feature 0 is a value drawn from `U[0, 1)`, feature 1 a
//! marker that is 1 at exactly two steps and 0 elsewhere. The first marked step is uniform in the
//! first half `0..steps/2`, the second uniform in the second half `steps/2..steps` (integer
//! division, so for odd `steps` the second half is one step longer). The target, read once at
//! the last step, is the sum of the two marked values.
//!
//! The sum of two independent `U[0, 1]` values has mean 1 and variance `2 * 1/12 = 1/6`, so
//! always predicting 1 scores a mean squared error of 1/6 ≈ 0.167 without any memory: that is
//! the baseline, [`ADDING_BASELINE_MSE`].

use rand::Rng;

use crate::batch::{SeqBatch, Targets, time_major_index};
use crate::error::{Result, check_at_least, check_batch};
use crate::task::Task;

/// Mean squared error of always predicting 1 on the adding problem: `1/6`.
///
/// ```
/// assert!((rnnzoo_datasets::ADDING_BASELINE_MSE - 0.1667).abs() < 1e-4);
/// ```
pub const ADDING_BASELINE_MSE: f64 = 1.0 / 6.0;

/// The adding problem with sequences of a fixed length.
///
/// ```
/// use rnnzoo_datasets::{AddingProblem, Targets, Task};
/// let task = AddingProblem::new(100)?;
/// let batch = task.sample_seeded(32, 7)?;
/// assert_eq!((batch.features, batch.steps, batch.batch), (2, 100, 32));
/// let Targets::FinalValues { values, outputs: 1 } = &batch.targets else { unreachable!() };
/// assert!(values.iter().all(|&y| (0.0..2.0).contains(&y)));
/// assert_eq!(task.baseline_loss(), Some(1.0 / 6.0));
/// # Ok::<(), rnnzoo_datasets::DatasetError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddingProblem {
    steps: usize,
}

impl AddingProblem {
    /// Input feature index of the value channel.
    pub const VALUE: usize = 0;
    /// Input feature index of the marker channel.
    pub const MARKER: usize = 1;
    /// Input features per step.
    pub const FEATURES: usize = 2;

    /// An adding problem over `steps` steps.
    ///
    /// # Errors
    ///
    /// [`crate::DatasetError::TooShort`] when `steps < 2`: each half must hold one marker.
    ///
    /// ```
    /// use rnnzoo_datasets::AddingProblem;
    /// assert_eq!(AddingProblem::new(200)?.steps(), 200);
    /// assert!(AddingProblem::new(1).is_err());
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn new(steps: usize) -> Result<Self> {
        check_at_least("adding problem sequence length", 2, steps)?;
        Ok(AddingProblem { steps })
    }

    /// The sequence length.
    ///
    /// ```
    /// assert_eq!(rnnzoo_datasets::AddingProblem::new(10)?.steps(), 10);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The baseline mean squared error of predicting 1 for every sample: `1/6`, independent of
    /// the length.
    ///
    /// ```
    /// assert_eq!(rnnzoo_datasets::AddingProblem::baseline_mse(), 1.0 / 6.0);
    /// ```
    pub const fn baseline_mse() -> f64 {
        ADDING_BASELINE_MSE
    }
}

impl Task for AddingProblem {
    fn features(&self) -> usize {
        Self::FEATURES
    }

    fn sample<R: Rng + ?Sized>(&self, batch: usize, rng: &mut R) -> Result<SeqBatch> {
        check_batch(batch)?;
        let steps = self.steps;
        let half = steps / 2;
        let mut inputs = vec![0.0; Self::FEATURES * steps * batch];
        let mut targets = Vec::with_capacity(batch);
        for b in 0..batch {
            for t in 0..steps {
                inputs[time_major_index(t, b, Self::VALUE, batch, Self::FEATURES)] =
                    rng.random::<f64>();
            }
            let first = rng.random_range(0..half);
            let second = rng.random_range(half..steps);
            let mut sum = 0.0;
            for t in [first, second] {
                inputs[time_major_index(t, b, Self::MARKER, batch, Self::FEATURES)] = 1.0;
                sum += inputs[time_major_index(t, b, Self::VALUE, batch, Self::FEATURES)];
            }
            targets.push(sum);
        }
        Ok(SeqBatch {
            inputs,
            features: Self::FEATURES,
            steps,
            batch,
            targets: Targets::FinalValues {
                values: targets,
                outputs: 1,
            },
            lengths: None,
        })
    }

    fn baseline_loss(&self) -> Option<f64> {
        Some(ADDING_BASELINE_MSE)
    }
}
