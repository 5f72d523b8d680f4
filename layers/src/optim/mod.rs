//! Optimizers and gradient clipping, exactly as `torch.optim` computes them.
//!
//! A model is a list of [`Params`] groups (one per cell, layer or head) and its gradients are a
//! list of gradient stores in the same order, each laid out as its group
//! ([`Params::zeros_like`]). An [`Optimizer`] updates every value of every group from its gradient:
//!
//! - [`Sgd`]: `torch.optim.SGD`, with momentum, dampening, Nesterov and L2 weight decay.
//! - [`Adam`]: `torch.optim.Adam`, with L2 weight decay and AMSGrad.
//! - [`AdamW`]: `torch.optim.AdamW`, Adam with decoupled weight decay.
//! - [`RmsProp`]: `torch.optim.RMSprop`, with momentum, centering and L2 weight decay.
//!
//! [`clip_grad_norm`] and [`clip_grad_value`] are `torch.nn.utils.clip_grad_norm_` and
//! `clip_grad_value_`; [`grad_norm`] only measures.
//!
//! ```
//! use rnnzoo_cell::{Param, Params};
//! use rnnzoo_layers::optim::{clip_grad_norm, Adam, Optimizer};
//!
//! // Two groups, as a layer and a head would have.
//! let mut layer = Params::<f64>::new();
//! layer.push(Param::from_vec("weight", &[2, 2], 1, vec![3.0, -2.0, 0.5, 1.0]).unwrap()).unwrap();
//! let mut head = Params::<f64>::new();
//! head.push(Param::from_vec("bias", &[1], 1, vec![-4.0]).unwrap()).unwrap();
//! let (mut d_layer, mut d_head) = (layer.zeros_like(), head.zeros_like());
//!
//! let mut opt = Adam::new(0.05);
//! for _ in 0..1000 {
//!     // loss = |w - 1|^2 / 2 over every value, so the gradient is w - 1.
//!     for (g, w) in d_layer.at_mut(0).data_mut().iter_mut().zip(layer.at(0).data()) {
//!         *g = w - 1.0;
//!     }
//!     d_head.at_mut(0).data_mut()[0] = head.at(0).data()[0] - 1.0;
//!     clip_grad_norm(&mut [&mut d_layer, &mut d_head], 1.0)?;
//!     opt.step(&mut [&mut layer, &mut head], &[&d_layer, &d_head])?;
//! }
//! assert!(layer.at(0).data().iter().all(|w| (w - 1.0).abs() < 1e-3));
//! assert!((head.at(0).data()[0] - 1.0).abs() < 1e-3);
//! assert_eq!(opt.steps(), 1000);
//! # Ok::<(), rnnzoo_layers::optim::OptimError>(())
//! ```
//!
//! # Exactly PyTorch's arithmetic
//!
//! Each update is PyTorch's single-tensor reference implementation (`foreach=False`,
//! `fused=False`, `maximize=False`, not `capturable` nor `differentiable`), whose formula is quoted
//! next to the code, computed in the same order of operations and in the parameters' own precision
//! `T`: an `f32` model updates in `f32` as PyTorch does, with every hyper-parameter rounded to `T`
//! where PyTorch rounds the Python float to the tensor's dtype, and the scalar bias corrections of
//! Adam computed in `f64` as Python computes them. Moving averages use `lerp` where PyTorch does,
//! with its two-branch formula. The one systematic difference is fused multiply-add: PyTorch's
//! vectorised CPU `lerp` fuses, so `exp_avg` (Adam) and `grad_avg` (centered RMSprop) can differ
//! from PyTorch's by an ulp per step; everything else is rounded as PyTorch rounds it.
//!
//! PyTorch keeps a step count per parameter; here there is one per optimizer ([`Optimizer::steps`]),
//! the same thing when every parameter gets a gradient at every step, which is what [`Optimizer::step`]
//! requires.
//!
//! # Buffers and layout
//!
//! An optimizer is created without knowing the model. At its first [`Optimizer::step`] it records
//! the names and shapes of every group and allocates its buffers (moments) to match; every later
//! step checks that the parameters and the gradients still have that layout and fails with a typed
//! [`OptimError`] (saying what was expected and what came) if not. After the first step, `step`
//! allocates nothing. A buffer that only some settings use (SGD's momentum, AMSGrad's maximum,
//! centered RMSprop's gradient average) is allocated at the first step that needs it, so turning
//! such a setting on mid-training costs one allocation then.
//!
//! Every check happens before anything is written: a failed step changes neither the parameters nor
//! the optimizer.
//!
//! # Hyper-parameters
//!
//! Constructors take the learning rate and set PyTorch's defaults for everything else
//! (`Default` also sets PyTorch's default learning rate); builder-style setters change them:
//! `Adam::new(1e-3).betas(0.9, 0.999).weight_decay(0.0)`. Setters do not fail: every optimizer has a
//! `validate` method that checks the hyper-parameters against PyTorch's constructor checks
//! (plus finiteness) and returns [`OptimError::HyperParameter`], and [`Optimizer::step`] and
//! [`Optimizer::load_state`] call it, so an invalid setting can never be used. Call `validate`
//! yourself to fail at construction time.
//!
//! # Saving and resuming
//!
//! [`Optimizer::state`] exports an [`OptimizerState`] (serde-serialisable): kind, hyper-parameters,
//! step count, layout and buffers in `f64`. [`Optimizer::load_state`] on a new optimizer of the same
//! kind restores all of it, hyper-parameters included, as PyTorch's `load_state_dict` does, and the
//! run continues bit for bit as if it had not stopped.

mod adam;
mod clip;
mod groups;
mod layout;
mod rmsprop;
mod sgd;
mod state;

use rnnzoo_cell::{Params, Real};

pub use adam::{Adam, AdamHyper, AdamW};
pub(crate) use clip::check_bound;
pub use clip::{clip_grad_norm, clip_grad_value, grad_norm};
pub use groups::ParamGroupRule;
pub use layout::TensorLayout;
pub use rmsprop::{RmsProp, RmsPropHyper};
pub use sgd::{Sgd, SgdHyper};
pub use state::{HyperParams, OptimizerState};

/// An optimizer: updates a model's parameter groups from their gradients.
///
/// `params[k]` and `grads[k]` are group `k` of the model and its gradient, with the same names and
/// shapes. The trait is object safe, so a trainer can hold a `Box<dyn Optimizer<T>>`.
///
/// ```
/// use rnnzoo_cell::{Param, Params};
/// use rnnzoo_layers::optim::{Optimizer, RmsProp, Sgd};
///
/// let mut w = Params::<f32>::new();
/// w.push(Param::from_vec("weight", &[3], 1, vec![1.0, 2.0, 3.0]).unwrap()).unwrap();
/// let mut g = w.zeros_like();
/// g.set("weight", &[1.0, 1.0, 1.0]).unwrap();
///
/// let mut opt: Box<dyn Optimizer<f32>> = Box::new(Sgd::new(0.5));
/// opt.step(&mut [&mut w], &[&g])?;
/// assert_eq!(w.at(0).data(), &[0.5, 1.5, 2.5]);
/// assert_eq!(opt.steps(), 1);
///
/// opt.set_lr(0.25); // what a scheduler does
/// assert_eq!(opt.lr(), 0.25);
///
/// // Another kind's state is refused.
/// let other = RmsProp::<f32>::new(0.01);
/// assert!(opt.load_state(&other.state()).is_err());
/// # Ok::<(), rnnzoo_layers::optim::OptimError>(())
/// ```
pub trait Optimizer<T: Real>: Send {
    /// Updates every value of every group from its gradient, and counts one step.
    ///
    /// At the first step the optimizer records the layout of `params` and allocates its buffers;
    /// later steps allocate nothing.
    ///
    /// # Errors
    ///
    /// Before anything is changed:
    /// - [`OptimError::HyperParameter`] if a hyper-parameter is invalid (see the optimizer's
    ///   `validate`);
    /// - [`OptimError::GroupCount`] if `grads` does not have one group per `params` group, or
    ///   `params` does not have as many groups as at the first step;
    /// - [`OptimError::Layout`] if a gradient group is not laid out as its parameter group, or a
    ///   group is not laid out as at the first step (names and shapes, in order).
    fn step(
        &mut self,
        params: &mut [&mut Params<T>],
        grads: &[&Params<T>],
    ) -> Result<(), OptimError>;

    /// The learning rate.
    fn lr(&self) -> f64;

    /// Sets the learning rate for the next steps (a scheduler's job). It is checked at the next
    /// step.
    fn set_lr(&mut self, lr: f64);

    /// A snapshot to save: kind, hyper-parameters, step count, layout and buffers.
    fn state(&self) -> OptimizerState;

    /// Restores a snapshot taken by [`Optimizer::state`]: hyper-parameters (the learning rate
    /// included, as PyTorch's `load_state_dict`), step count, layout and buffers. The next step
    /// continues bit for bit where the saved optimizer would have.
    ///
    /// # Errors
    ///
    /// Before anything is changed:
    /// - [`OptimError::StateKind`] if the state is another optimizer's;
    /// - [`OptimError::HyperParameter`] if its hyper-parameters are invalid;
    /// - [`OptimError::StateLayout`] if this optimizer has already stepped on a model of another
    ///   layout, or the state has steps but no layout;
    /// - [`OptimError::StateBuffer`] if a buffer is unknown to this kind, missing, or does not have
    ///   one tensor of the right size per tensor of the layout.
    fn load_state(&mut self, state: &OptimizerState) -> Result<(), OptimError>;

    /// Steps taken (PyTorch's `state["step"]`).
    fn steps(&self) -> u64;

    /// Sets the parameter groups: a learning rate (a multiple of this optimizer's) and a weight
    /// decay for the tensors each selects (see [`ParamGroupRule`]); tensors no rule selects keep
    /// the optimizer's. Without groups (the default) every tensor has the optimizer's settings.
    ///
    /// ```
    /// use rnnzoo_cell::{Param, Params};
    /// use rnnzoo_layers::optim::{Optimizer, ParamGroupRule, Sgd};
    /// let mut p = Params::<f64>::new();
    /// p.push(Param::from_vec("weight", &[1], 1, vec![1.0]).unwrap()).unwrap();
    /// p.push(Param::from_vec("bias", &[1], 1, vec![1.0]).unwrap()).unwrap();
    /// let mut g = p.zeros_like();
    /// g.set("weight", &[1.0])?; g.set("bias", &[1.0])?;
    /// let mut sgd = Sgd::new(0.5);
    /// sgd.set_groups(vec![ParamGroupRule::new("bias").lr_scale(2.0)])?;
    /// sgd.step(&mut [&mut p], &[&g])?;
    /// assert_eq!((p.at(0).data()[0], p.at(1).data()[0]), (0.5, 0.0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`OptimError::HyperParameter`] for a scale that is not positive and finite, or a weight
    /// decay that is negative or not finite; nothing is changed.
    fn set_groups(&mut self, groups: Vec<ParamGroupRule>) -> Result<(), OptimError>;

    /// The parameter groups.
    fn groups(&self) -> &[ParamGroupRule];
}

/// Why an optimizer refused a step or a state. Every variant says what was expected and what came.
///
/// ```
/// use rnnzoo_layers::optim::{Adam, OptimError};
/// let err = Adam::<f32>::new(1e-3).betas(1.0, 0.999).validate().unwrap_err();
/// assert!(matches!(err, OptimError::HyperParameter { name: "beta1", .. }));
/// assert_eq!(err.to_string(), "Adam beta1 = 1 is invalid: expected 0 <= beta1 < 1");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptimError {
    /// Not as many groups as expected: gradient groups against parameter groups, or parameter
    /// groups against the first step's.
    #[error("{what} has {got} groups, expected {expected}")]
    GroupCount {
        /// `"params"` or `"grads"`.
        what: &'static str,
        /// Groups expected.
        expected: usize,
        /// Groups given.
        got: usize,
    },
    /// A group's names or shapes are not the expected ones: a gradient group against its
    /// parameter group, or any group against the first step's.
    #[error("{what}[{group}] is laid out as {got}, expected {expected}")]
    Layout {
        /// `"params"` or `"grads"`.
        what: &'static str,
        /// The group.
        group: usize,
        /// The expected names and shapes.
        expected: String,
        /// The given names and shapes.
        got: String,
    },
    /// A hyper-parameter is out of range.
    #[error("{optimizer} {name} = {value} is invalid: expected {expected}")]
    HyperParameter {
        /// The optimizer's kind (`"Adam"`, ...).
        optimizer: &'static str,
        /// The hyper-parameter.
        name: &'static str,
        /// Its value.
        value: f64,
        /// The valid range.
        expected: &'static str,
    },
    /// A clipping bound is negative or NaN (`clip_grad_norm`'s `max_norm`, `clip_grad_value`'s
    /// `clip`, or a [`crate::train::TrainConfig`]'s, also when read from a checkpoint).
    #[error("{what} = {value} is invalid: expected a number >= 0")]
    Clip {
        /// `"clip_norm"` or `"clip_value"`.
        what: &'static str,
        /// The bound given.
        value: f64,
    },
    /// The state was saved by another kind of optimizer.
    #[error("the state is a {got} optimizer's, expected a {expected} optimizer's")]
    StateKind {
        /// This optimizer's kind.
        expected: &'static str,
        /// The state's kind.
        got: &'static str,
    },
    /// The state's layout does not fit.
    #[error("the state's layout is {got}, expected {expected}")]
    StateLayout {
        /// The layout this optimizer is bound to (or what the state should have).
        expected: String,
        /// The state's layout.
        got: String,
    },
    /// A buffer of the state does not fit.
    #[error("state buffer `{buffer}`: expected {expected}, got {got}")]
    StateBuffer {
        /// The buffer's name.
        buffer: String,
        /// What was expected.
        expected: String,
        /// What came.
        got: String,
    },
}

/// `Err(HyperParameter)` unless `ok`.
pub(crate) fn require(
    ok: bool,
    optimizer: &'static str,
    name: &'static str,
    value: f64,
    expected: &'static str,
) -> Result<(), OptimError> {
    if ok {
        Ok(())
    } else {
        Err(OptimError::HyperParameter {
            optimizer,
            name,
            value,
            expected,
        })
    }
}

/// PyTorch's `torch.lerp(start, end, weight)` with a scalar weight (`ATen/native/Lerp.h`):
///
/// ```text
/// |weight| < 0.5 ? start + weight * (end - start) : end - (end - start) * (1 - weight)
/// ```
#[inline(always)]
pub(crate) fn lerp<T: Real>(start: T, end: T, weight: T) -> T {
    if weight.abs() < T::from_f64_lossy(0.5) {
        start + weight * (end - start)
    } else {
        end - (end - start) * (T::one() - weight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lerp_is_torchs_two_branch_formula() {
        // Small weight: start + w * (end - start).
        assert_eq!(lerp(1.0f64, 3.0, 0.25), 1.5);
        // Large weight: end - (end - start) * (1 - w), exact at w = 1.
        assert_eq!(lerp(0.1f32, 0.7, 1.0), 0.7);
        assert_eq!(lerp(0.1f32, 0.7, 0.75), 0.7 - (0.7 - 0.1f32) * 0.25);
        // Weight 0.5 takes the large branch.
        let (a, b) = (1.0e-3f32, 1.0f32);
        assert_eq!(lerp(a, b, 0.5), b - (b - a) * 0.5);
    }

    #[test]
    fn require_reports_what_was_expected() {
        assert!(require(true, "SGD", "lr", 0.1, "a finite lr >= 0").is_ok());
        let err = require(false, "SGD", "lr", -0.1, "a finite lr >= 0").unwrap_err();
        assert_eq!(
            err.to_string(),
            "SGD lr = -0.1 is invalid: expected a finite lr >= 0"
        );
    }
}
