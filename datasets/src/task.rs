//! The [`Task`] trait shared by the synthetic generators, and the seeded generator they use.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::batch::SeqBatch;
use crate::error::Result;

/// The crate's random generator, seeded: ChaCha8, whose stream is fixed across platforms, so one
/// seed gives the same data everywhere.
///
/// ```
/// use rand::Rng;
/// let a: u64 = rnnzoo_datasets::rng(42).random();
/// let b: u64 = rnnzoo_datasets::rng(42).random();
/// assert_eq!(a, b);
/// ```
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// A synthetic sequence task that draws fresh batches from a random generator.
///
/// Draw training batches from one long-lived generator (each call continues its stream) and a
/// fixed test set from a separate seed, so that training and test data never coincide.
///
/// ```
/// use rnnzoo_datasets::{rng, AddingProblem, Task};
/// let task = AddingProblem::new(20)?;
/// let mut train = rng(1);
/// let first = task.sample(16, &mut train)?;
/// let second = task.sample(16, &mut train)?;
/// assert_ne!(first, second);
/// let test = task.sample_seeded(16, 999)?;
/// assert_eq!(test, task.sample_seeded(16, 999)?);
/// assert_eq!(task.features(), 2);
/// # Ok::<(), rnnzoo_datasets::DatasetError>(())
/// ```
pub trait Task {
    /// Input features per step.
    fn features(&self) -> usize;

    /// Draws `batch` fresh samples.
    ///
    /// # Errors
    ///
    /// [`crate::DatasetError::ZeroBatch`] when `batch` is zero.
    fn sample<R: Rng + ?Sized>(&self, batch: usize, rng: &mut R) -> Result<SeqBatch>;

    /// Draws `batch` samples from a generator seeded with `seed`: the same seed always gives
    /// the same batch.
    fn sample_seeded(&self, batch: usize, seed: u64) -> Result<SeqBatch> {
        self.sample(batch, &mut rng(seed))
    }

    /// The loss of the best predictor that ignores the inputs' memory, in the task's own loss
    /// (mean squared error or mean cross-entropy per target), when it has a closed form. A model
    /// has learnt the task only once it is clearly below this.
    fn baseline_loss(&self) -> Option<f64>;
}
