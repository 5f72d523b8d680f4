//! One update of data-parallel training: this process's share of the global batch, its gradient
//! combined with the other processes' (by a [`GradientReducer`], an allreduce over MPI for
//! example) before the clipping and the update, which then run identically everywhere.

use rnnzoo_cell::{Params, Real};

use super::{Batch, StepStats, TrainError, Trainer};
use crate::Inputs;

/// Makes every process's gradient the global batch's: what data-parallel training does between
/// the backward pass and the update.
///
/// A single process's trainer needs none ([`Trainer::step_with_state`]). A reducer that sums
/// `items * grads` and `items * loss` over the processes and divides by the summed `items`
/// gives every process the gradient and loss one process would compute on the whole batch,
/// because the losses are means over their items.
///
/// ```
/// use rnnzoo_cell::Params;
/// use rnnzoo_layers::train::{GradientReducer, TrainError};
/// /// One process: the local mean is the global one.
/// struct Alone;
/// impl GradientReducer<f32> for Alone {
///     fn reduce(&mut self, _: &mut [Params<f32>], loss: f64, _: usize) -> Result<f64, TrainError> {
///         Ok(loss)
///     }
/// }
/// ```
pub trait GradientReducer<T> {
    /// On entry `grads` hold the mean gradient over this process's `items` items (zeros when it
    /// has none) and `loss` their mean loss (0 when none); on return `grads` must hold the mean
    /// over every process's items. Returns the mean loss over them.
    ///
    /// # Errors
    ///
    /// The reducer's own failure (a lost peer, say), which ends the update.
    fn reduce(
        &mut self,
        grads: &mut [Params<T>],
        loss: f64,
        items: usize,
    ) -> Result<f64, TrainError>;
}

impl<T: Real> Trainer<T> {
    /// One data-parallel update: forward and backward on this process's `shard` of the global
    /// batch (`None` when it has no share of it, as when a last small batch has fewer samples
    /// than there are processes), whose loss averages `items` items; then `reducer` makes the
    /// gradient the global batch's, and the clipping, the finite checks and the optimizer's step
    /// run on it exactly as [`Trainer::step_with_state`] runs them. Returns the step's stats (the
    /// global loss) and this shard's final state (empty without a shard).
    ///
    /// A non-finite loss on any process makes the reduced loss or gradient non-finite on every
    /// process, so they all stop (or skip, with `skip_nonfinite`) at the same step.
    ///
    /// # Errors
    ///
    /// As [`Trainer::step_with_state`], and the reducer's.
    pub fn step_shard(
        &mut self,
        shard: Option<&Batch<T>>,
        initial: Option<&[T]>,
        items: usize,
        reducer: &mut dyn GradientReducer<T>,
    ) -> Result<(StepStats, Vec<T>), TrainError> {
        self.config.validate()?;
        let step = self.steps + 1;
        self.grads.iter_mut().for_each(Params::zero);
        let (local, state) = match shard {
            Some(batch) => {
                let inputs = Inputs {
                    initial,
                    ..Inputs::from(batch)
                };
                let (pred, tape) = self
                    .model
                    .forward(inputs, Some(&mut self.rng as &mut dyn rand::RngCore))?;
                let loss = self.loss(&pred.predictions, batch)?;
                // Backward even on a non-finite loss: the reduction must run on every process.
                self.model
                    .backward(&tape, &loss.grad, None, &mut self.grads)?;
                (loss.value, pred.final_state)
            }
            None => (0.0, Vec::new()),
        };
        let loss = reducer.reduce(&mut self.grads, local, items)?;
        self.apply(step, loss, state)
    }
}
