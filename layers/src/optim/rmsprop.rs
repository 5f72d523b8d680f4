//! [`RmsProp`]: `torch.optim.RMSprop`.

use std::collections::BTreeMap;

use rnnzoo_cell::{Params, Real};
use serde::{Deserialize, Serialize};

use super::groups::{self, ParamGroupRule};
use super::layout::{Layout, bind, check_step, for_each_tensor};
use super::state::{check_state, import_named, put};
use super::{HyperParams, OptimError, Optimizer, OptimizerState, lerp, require};

const KIND: &str = "RMSprop";
const SQUARE_AVG: &str = "square_avg";
const MOMENTUM_BUFFER: &str = "momentum_buffer";
const GRAD_AVG: &str = "grad_avg";

/// The hyper-parameters of [`RmsProp`], with PyTorch's names and defaults.
///
/// ```
/// use rnnzoo_layers::optim::RmsPropHyper;
/// let h = RmsPropHyper::default();
/// assert_eq!((h.lr, h.alpha, h.eps, h.weight_decay, h.momentum, h.centered), (1e-2, 0.99, 1e-8, 0.0, 0.0, false));
/// assert!(RmsPropHyper { alpha: -0.5, ..h }.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RmsPropHyper {
    /// Learning rate (PyTorch's default `1e-2`).
    pub lr: f64,
    /// Smoothing constant of the averages (default 0.99).
    pub alpha: f64,
    /// Added to the denominator (default `1e-8`).
    pub eps: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// Momentum factor (default 0: no momentum buffer).
    pub momentum: f64,
    /// Normalise by the estimated variance of the gradient instead of its second moment (default
    /// `false`).
    pub centered: bool,
}

impl Default for RmsPropHyper {
    fn default() -> Self {
        Self {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        }
    }
}

impl RmsPropHyper {
    /// Checks PyTorch's constraints, and that every value is finite: `lr >= 0`, `eps >= 0`,
    /// `momentum >= 0`, `weight_decay >= 0`, and `0 <= alpha <= 1` (PyTorch only asks
    /// `alpha >= 0`; above 1 the average is not an average).
    ///
    /// ```
    /// use rnnzoo_layers::optim::RmsPropHyper;
    /// assert!(RmsPropHyper { momentum: -0.1, ..Default::default() }.validate().is_err());
    /// assert!(RmsPropHyper { centered: true, ..Default::default() }.validate().is_ok());
    /// ```
    ///
    /// # Errors
    ///
    /// [`OptimError::HyperParameter`] naming the first invalid value.
    pub fn validate(&self) -> Result<(), OptimError> {
        let h = self;
        let ok = |v: f64| v.is_finite() && v >= 0.0;
        require(ok(h.lr), KIND, "lr", h.lr, "a finite lr >= 0")?;
        require(ok(h.eps), KIND, "eps", h.eps, "a finite eps >= 0")?;
        require(
            ok(h.momentum),
            KIND,
            "momentum",
            h.momentum,
            "a finite momentum >= 0",
        )?;
        require(
            ok(h.weight_decay),
            KIND,
            "weight_decay",
            h.weight_decay,
            "a finite weight_decay >= 0",
        )?;
        require(
            (0.0..=1.0).contains(&h.alpha),
            KIND,
            "alpha",
            h.alpha,
            "0 <= alpha <= 1",
        )
    }
}

/// RMSprop: `torch.optim.RMSprop`.
///
/// PyTorch's `_single_tensor_rmsprop`, per parameter `p` with gradient `g`:
///
/// ```text
/// if weight_decay != 0: g = g + weight_decay * p
/// square_avg = square_avg * alpha + (1 - alpha) * g * g
/// if centered:
///     grad_avg = grad_avg.lerp(g, 1 - alpha)
///     avg = sqrt(square_avg + (-1) * grad_avg * grad_avg) + eps
/// else:
///     avg = sqrt(square_avg) + eps
/// if momentum > 0:
///     buf = buf * momentum + g / avg                 # buf starts at zero
///     p = p + (-lr) * buf
/// else:
///     p = p + (-lr) * g / avg                        # addcdiv: (value * t1) / t2
/// ```
///
/// ```
/// use rnnzoo_cell::{Param, Params};
/// use rnnzoo_layers::optim::{Optimizer, RmsProp};
///
/// let mut w = Params::<f64>::new();
/// w.push(Param::from_vec("weight", &[1], 1, vec![1.0]).unwrap()).unwrap();
/// let mut g = w.zeros_like();
/// g.set("weight", &[2.0]).unwrap();
///
/// let mut opt = RmsProp::new(0.01).alpha(0.99).momentum(0.0).centered(false);
/// opt.validate()?;
/// opt.step(&mut [&mut w], &[&g])?;
/// // square_avg = 0.01 * 4, so the step is lr * 2 / (0.2 + eps): ten learning rates.
/// assert!((w.at(0).data()[0] - 0.9).abs() < 1e-7);
/// # Ok::<(), rnnzoo_layers::optim::OptimError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RmsProp<T> {
    hyper: RmsPropHyper,
    steps: u64,
    layout: Option<Layout>,
    square_avg: Vec<Vec<T>>,
    momentum_buffer: Option<Vec<Vec<T>>>,
    grad_avg: Option<Vec<Vec<T>>>,
    groups: Vec<ParamGroupRule>,
    /// Each tensor's `(lr scale, weight decay)` from `groups`, resolved at the first step.
    per_tensor: Option<Vec<(f64, Option<f64>)>>,
}

impl<T: Real> Default for RmsProp<T> {
    /// PyTorch's defaults, the learning rate `1e-2` included.
    fn default() -> Self {
        Self::new(RmsPropHyper::default().lr)
    }
}

impl<T: Real> RmsProp<T> {
    /// RMSprop with learning rate `lr` and PyTorch's defaults otherwise: alpha 0.99, eps `1e-8`,
    /// no weight decay, no momentum, not centered.
    ///
    /// ```
    /// use rnnzoo_layers::optim::{Optimizer, RmsProp};
    /// let opt = RmsProp::<f32>::new(1e-3).momentum(0.9).centered(true).weight_decay(1e-4).eps(1e-6);
    /// assert!(opt.hyper().centered);
    /// assert_eq!(opt.lr(), 1e-3);
    /// ```
    pub fn new(lr: f64) -> Self {
        Self {
            hyper: RmsPropHyper {
                lr,
                ..RmsPropHyper::default()
            },
            steps: 0,
            layout: None,
            square_avg: Vec::new(),
            momentum_buffer: None,
            grad_avg: None,
            groups: Vec::new(),
            per_tensor: None,
        }
    }

    /// Sets the smoothing constant (default 0.99).
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.hyper.alpha = alpha;
        self
    }

    /// Sets the term added to the denominator (default `1e-8`).
    pub fn eps(mut self, eps: f64) -> Self {
        self.hyper.eps = eps;
        self
    }

    /// Sets the L2 penalty added to the gradient (default 0).
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.hyper.weight_decay = weight_decay;
        self
    }

    /// Sets the momentum factor (default 0).
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.hyper.momentum = momentum;
        self
    }

    /// Turns centering on or off (default off).
    pub fn centered(mut self, centered: bool) -> Self {
        self.hyper.centered = centered;
        self
    }

    /// The hyper-parameters.
    pub fn hyper(&self) -> &RmsPropHyper {
        &self.hyper
    }

    /// Checks the hyper-parameters ([`RmsPropHyper::validate`]); `step` does too.
    ///
    /// ```
    /// use rnnzoo_layers::optim::RmsProp;
    /// assert!(RmsProp::<f32>::new(0.01).alpha(1.5).validate().is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// [`OptimError::HyperParameter`] naming the first invalid value.
    pub fn validate(&self) -> Result<(), OptimError> {
        self.hyper.validate()
    }
}

impl<T: Real> Optimizer<T> for RmsProp<T> {
    fn step(
        &mut self,
        params: &mut [&mut Params<T>],
        grads: &[&Params<T>],
    ) -> Result<(), OptimError> {
        self.hyper.validate()?;
        check_step(self.layout.as_ref(), params, grads)?;
        let layout = bind(&mut self.layout, params);
        let h = self.hyper;
        if self.square_avg.is_empty() {
            self.square_avg = layout.zeros();
        }
        let use_momentum = h.momentum > 0.0;
        if use_momentum && self.momentum_buffer.is_none() {
            self.momentum_buffer = Some(layout.zeros());
        }
        if h.centered && self.grad_avg.is_none() {
            self.grad_avg = Some(layout.zeros());
        }

        let groups = &self.groups;
        let per_tensor = self
            .per_tensor
            .get_or_insert_with(|| groups::per_tensor(layout, groups));
        // A tensor's learning rate and weight decay: its group's, or the optimizer's.
        let settings =
            |t: usize| groups::neg_lr_and_decay::<T>(per_tensor, t, h.lr, h.weight_decay);
        let alpha = T::from_f64_lossy(h.alpha);
        let one_minus_alpha = T::from_f64_lossy(1.0 - h.alpha);
        let eps = T::from_f64_lossy(h.eps);
        let momentum = T::from_f64_lossy(h.momentum);

        let square_avg = &mut self.square_avg;
        let mut grad_avg = if h.centered {
            self.grad_avg.as_mut()
        } else {
            None
        };
        let mut momentum_buffer = if use_momentum {
            self.momentum_buffer.as_mut()
        } else {
            None
        };
        for_each_tensor(params, grads, |k, p, g| {
            let (neg_lr, weight_decay) = settings(k);
            let sq = &mut square_avg[k];
            let mut ga = grad_avg.as_mut().map(|b| &mut b[k][..]);
            let mut buf = momentum_buffer.as_mut().map(|b| &mut b[k][..]);
            for i in 0..p.len() {
                let mut gi = g[i];
                if let Some(wd) = weight_decay {
                    gi += wd * p[i]; // grad.add(param, alpha=weight_decay)
                }
                sq[i] = sq[i] * alpha + one_minus_alpha * gi * gi; // mul_(alpha).addcmul_(g, g, value=1 - alpha)
                let avg = match ga.as_deref_mut() {
                    Some(ga) => {
                        ga[i] = lerp(ga[i], gi, one_minus_alpha); // grad_avg.lerp_(grad, 1 - alpha)
                        // square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_(); (-1 * a) * a is -(a * a)
                        (sq[i] - ga[i] * ga[i]).sqrt()
                    }
                    None => sq[i].sqrt(),
                } + eps;
                match buf.as_deref_mut() {
                    Some(b) => {
                        b[i] = b[i] * momentum + gi / avg; // buf.mul_(momentum).addcdiv_(grad, avg)
                        p[i] += neg_lr * b[i]; // param.add_(buf, alpha=-lr)
                    }
                    None => p[i] += neg_lr * gi / avg, // param.addcdiv_(grad, avg, value=-lr)
                }
            }
        });
        self.steps += 1;
        Ok(())
    }

    fn lr(&self) -> f64 {
        self.hyper.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.hyper.lr = lr;
    }

    fn state(&self) -> OptimizerState {
        let mut buffers = BTreeMap::new();
        if self.layout.is_some() {
            put(&mut buffers, SQUARE_AVG, Some(&self.square_avg));
        }
        put(&mut buffers, MOMENTUM_BUFFER, self.momentum_buffer.as_ref());
        put(&mut buffers, GRAD_AVG, self.grad_avg.as_ref());
        OptimizerState {
            hyper: HyperParams::RmsProp(self.hyper),
            steps: self.steps,
            layout: self.layout.as_ref().map(|l| l.groups().to_vec()),
            buffers,
            groups: self.groups.clone(),
        }
    }

    fn load_state(&mut self, state: &OptimizerState) -> Result<(), OptimError> {
        let HyperParams::RmsProp(hyper) = state.hyper else {
            return Err(OptimError::StateKind {
                expected: KIND,
                got: state.kind(),
            });
        };
        hyper.validate()?;
        groups::validate(KIND, &state.groups)?;
        let layout = check_state(
            state,
            self.layout.as_ref(),
            &[SQUARE_AVG],
            &[MOMENTUM_BUFFER, GRAD_AVG],
        )?;
        self.groups = state.groups.clone();
        self.per_tensor = None;
        self.hyper = hyper;
        self.steps = state.steps;
        self.layout = layout;
        self.square_avg = import_named(state, SQUARE_AVG).unwrap_or_default();
        self.momentum_buffer = import_named(state, MOMENTUM_BUFFER);
        self.grad_avg = import_named(state, GRAD_AVG);
        Ok(())
    }

    fn steps(&self) -> u64 {
        self.steps
    }

    fn set_groups(&mut self, groups: Vec<ParamGroupRule>) -> Result<(), OptimError> {
        groups::validate(KIND, &groups)?;
        self.groups = groups;
        self.per_tensor = None;
        Ok(())
    }

    fn groups(&self) -> &[ParamGroupRule] {
        &self.groups
    }
}
