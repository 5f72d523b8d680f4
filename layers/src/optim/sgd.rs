//! [`Sgd`]: `torch.optim.SGD`.

use std::collections::BTreeMap;

use rnnzoo_cell::{Params, Real};
use serde::{Deserialize, Serialize};

use super::groups::{self, ParamGroupRule};
use super::layout::{Layout, bind, check_step, for_each_tensor};
use super::state::{check_state, import_named, put};
use super::{HyperParams, OptimError, Optimizer, OptimizerState, require};

const KIND: &str = "SGD";
const MOMENTUM_BUFFER: &str = "momentum_buffer";

/// The hyper-parameters of [`Sgd`], with PyTorch's names and defaults.
///
/// ```
/// use rnnzoo_layers::optim::SgdHyper;
/// let h = SgdHyper::default();
/// assert_eq!((h.lr, h.momentum, h.dampening, h.nesterov, h.weight_decay), (1e-3, 0.0, 0.0, false, 0.0));
/// assert!(SgdHyper { nesterov: true, ..h }.validate().is_err()); // Nesterov needs momentum
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SgdHyper {
    /// Learning rate (PyTorch's default `1e-3`).
    pub lr: f64,
    /// Momentum factor (default 0: no momentum buffer).
    pub momentum: f64,
    /// Dampening of the gradient added to the momentum buffer (default 0).
    pub dampening: f64,
    /// Nesterov momentum (default `false`).
    pub nesterov: bool,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
}

impl Default for SgdHyper {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
        }
    }
}

impl SgdHyper {
    /// Checks PyTorch's constraints, and that every value is finite: `lr >= 0`, `momentum >= 0`,
    /// `weight_decay >= 0`, and Nesterov only with `momentum > 0` and `dampening == 0`.
    ///
    /// ```
    /// use rnnzoo_layers::optim::SgdHyper;
    /// assert!(SgdHyper { lr: -0.1, ..Default::default() }.validate().is_err());
    /// assert!(SgdHyper { lr: 0.1, momentum: 0.9, nesterov: true, ..Default::default() }.validate().is_ok());
    /// ```
    ///
    /// # Errors
    ///
    /// [`OptimError::HyperParameter`] naming the first invalid value.
    pub fn validate(&self) -> Result<(), OptimError> {
        let h = self;
        let ok = |v: f64| v.is_finite() && v >= 0.0;
        require(ok(h.lr), KIND, "lr", h.lr, "a finite lr >= 0")?;
        require(
            ok(h.momentum),
            KIND,
            "momentum",
            h.momentum,
            "a finite momentum >= 0",
        )?;
        require(
            h.dampening.is_finite(),
            KIND,
            "dampening",
            h.dampening,
            "a finite dampening",
        )?;
        require(
            ok(h.weight_decay),
            KIND,
            "weight_decay",
            h.weight_decay,
            "a finite weight_decay >= 0",
        )?;
        if h.nesterov {
            require(
                h.momentum > 0.0,
                KIND,
                "momentum",
                h.momentum,
                "momentum > 0 with nesterov",
            )?;
            require(
                h.dampening == 0.0,
                KIND,
                "dampening",
                h.dampening,
                "dampening = 0 with nesterov",
            )?;
        }
        Ok(())
    }
}

/// Stochastic gradient descent with momentum: `torch.optim.SGD`.
///
/// PyTorch's `_single_tensor_sgd`, per parameter `p` with gradient `g`:
///
/// ```text
/// if weight_decay != 0: g = g + weight_decay * p
/// if momentum != 0:
///     if first step: buf = g                                 # a copy, no dampening
///     else:          buf = buf * momentum + (1 - dampening) * g
///     g = g + momentum * buf if nesterov else buf
/// p = p + (-lr) * g
/// ```
///
/// ```
/// use rnnzoo_cell::{Param, Params};
/// use rnnzoo_layers::optim::{Optimizer, Sgd};
///
/// let mut w = Params::<f64>::new();
/// w.push(Param::from_vec("weight", &[1], 1, vec![1.0]).unwrap()).unwrap();
/// let mut g = w.zeros_like();
/// g.set("weight", &[1.0]).unwrap();
///
/// let mut opt = Sgd::new(0.1).momentum(0.9);
/// opt.validate()?;
/// opt.step(&mut [&mut w], &[&g])?; // buf = 1,   w = 1 - 0.1
/// opt.step(&mut [&mut w], &[&g])?; // buf = 1.9, w = 0.9 - 0.19
/// assert!((w.at(0).data()[0] - 0.71).abs() < 1e-15);
/// # Ok::<(), rnnzoo_layers::optim::OptimError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Sgd<T> {
    hyper: SgdHyper,
    steps: u64,
    layout: Option<Layout>,
    momentum_buffer: Option<Vec<Vec<T>>>,
    groups: Vec<ParamGroupRule>,
    /// Each tensor's `(lr scale, weight decay)` from `groups`, resolved at the first step.
    per_tensor: Option<Vec<(f64, Option<f64>)>>,
}

impl<T: Real> Default for Sgd<T> {
    /// PyTorch's defaults: `lr = 1e-3`, no momentum.
    fn default() -> Self {
        Self::new(SgdHyper::default().lr)
    }
}

impl<T: Real> Sgd<T> {
    /// SGD with learning rate `lr` and PyTorch's defaults otherwise (no momentum, dampening,
    /// Nesterov or weight decay).
    ///
    /// ```
    /// use rnnzoo_layers::optim::{Optimizer, Sgd};
    /// let opt = Sgd::<f32>::new(0.1).momentum(0.9).nesterov(true).weight_decay(1e-4);
    /// assert_eq!(opt.hyper().momentum, 0.9);
    /// assert_eq!(opt.lr(), 0.1);
    /// ```
    pub fn new(lr: f64) -> Self {
        Self {
            hyper: SgdHyper {
                lr,
                ..SgdHyper::default()
            },
            steps: 0,
            layout: None,
            momentum_buffer: None,
            groups: Vec::new(),
            per_tensor: None,
        }
    }

    /// Sets the momentum factor (PyTorch's default 0).
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.hyper.momentum = momentum;
        self
    }

    /// Sets the dampening (default 0).
    pub fn dampening(mut self, dampening: f64) -> Self {
        self.hyper.dampening = dampening;
        self
    }

    /// Turns Nesterov momentum on or off (default off).
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.hyper.nesterov = nesterov;
        self
    }

    /// Sets the L2 penalty added to the gradient (default 0).
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.hyper.weight_decay = weight_decay;
        self
    }

    /// The hyper-parameters.
    pub fn hyper(&self) -> &SgdHyper {
        &self.hyper
    }

    /// Checks the hyper-parameters ([`SgdHyper::validate`]); `step` does too.
    ///
    /// ```
    /// use rnnzoo_layers::optim::Sgd;
    /// assert!(Sgd::<f32>::new(0.1).nesterov(true).validate().is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// [`OptimError::HyperParameter`] naming the first invalid value.
    pub fn validate(&self) -> Result<(), OptimError> {
        self.hyper.validate()
    }
}

impl<T: Real> Optimizer<T> for Sgd<T> {
    fn step(
        &mut self,
        params: &mut [&mut Params<T>],
        grads: &[&Params<T>],
    ) -> Result<(), OptimError> {
        self.hyper.validate()?;
        check_step(self.layout.as_ref(), params, grads)?;
        let layout = bind(&mut self.layout, params);
        let h = self.hyper;
        let groups = &self.groups;
        let per_tensor = self
            .per_tensor
            .get_or_insert_with(|| groups::per_tensor(layout, groups));
        // A tensor's learning rate and weight decay: its group's, or the optimizer's.
        let settings =
            |t: usize| groups::neg_lr_and_decay::<T>(per_tensor, t, h.lr, h.weight_decay);

        if h.momentum == 0.0 {
            for_each_tensor(params, grads, |t, p, g| {
                let (neg_lr, weight_decay) = settings(t);
                for (p, &g) in p.iter_mut().zip(g) {
                    let mut d = g;
                    if let Some(wd) = weight_decay {
                        d += wd * *p; // grad.add(param, alpha=weight_decay)
                    }
                    *p += neg_lr * d; // param.add_(grad, alpha=-lr)
                }
            });
        } else {
            // PyTorch's buffer is `None` until the first step with momentum, which copies the
            // gradient into it instead of the dampened update.
            let first = self.momentum_buffer.is_none();
            let bufs = self.momentum_buffer.get_or_insert_with(|| layout.zeros());
            let momentum = T::from_f64_lossy(h.momentum);
            let one_minus_dampening = T::from_f64_lossy(1.0 - h.dampening);
            let nesterov = h.nesterov;
            for_each_tensor(params, grads, |t, p, g| {
                let (neg_lr, weight_decay) = settings(t);
                for ((p, &g), b) in p.iter_mut().zip(g).zip(bufs[t].iter_mut()) {
                    let mut d = g;
                    if let Some(wd) = weight_decay {
                        d += wd * *p;
                    }
                    *b = if first {
                        d // torch.clone(grad)
                    } else {
                        *b * momentum + one_minus_dampening * d // buf.mul_(momentum).add_(grad, alpha=1 - dampening)
                    };
                    d = if nesterov { d + momentum * *b } else { *b }; // grad.add(buf, alpha=momentum)
                    *p += neg_lr * d;
                }
            });
        }
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
        put(&mut buffers, MOMENTUM_BUFFER, self.momentum_buffer.as_ref());
        OptimizerState {
            hyper: HyperParams::Sgd(self.hyper),
            steps: self.steps,
            layout: self.layout.as_ref().map(|l| l.groups().to_vec()),
            buffers,
            groups: self.groups.clone(),
        }
    }

    fn load_state(&mut self, state: &OptimizerState) -> Result<(), OptimError> {
        let HyperParams::Sgd(hyper) = state.hyper else {
            return Err(OptimError::StateKind {
                expected: KIND,
                got: state.kind(),
            });
        };
        hyper.validate()?;
        groups::validate(KIND, &state.groups)?;
        let layout = check_state(state, self.layout.as_ref(), &[], &[MOMENTUM_BUFFER])?;
        self.groups = state.groups.clone();
        self.per_tensor = None;
        self.hyper = hyper;
        self.steps = state.steps;
        self.layout = layout;
        self.momentum_buffer = import_named(state, MOMENTUM_BUFFER);
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
