//! [`Adam`] and [`AdamW`]: `torch.optim.Adam` and `torch.optim.AdamW`.

use std::collections::BTreeMap;

use rnnzoo_cell::{Params, Real};
use serde::{Deserialize, Serialize};

use super::groups::{self, ParamGroupRule};
use super::layout::{Layout, bind, check_step, for_each_tensor};
use super::state::{check_state, import_named, put};
use super::{HyperParams, OptimError, Optimizer, OptimizerState, lerp, require};

const EXP_AVG: &str = "exp_avg";
const EXP_AVG_SQ: &str = "exp_avg_sq";
const MAX_EXP_AVG_SQ: &str = "max_exp_avg_sq";

/// The hyper-parameters of [`Adam`] and [`AdamW`], with PyTorch's names.
///
/// `Default` is `torch.optim.Adam`'s defaults; [`AdamW`] differs only in `weight_decay = 0.01`
/// (and in how it applies it).
///
/// ```
/// use rnnzoo_layers::optim::AdamHyper;
/// let h = AdamHyper::default();
/// assert_eq!((h.lr, h.beta1, h.beta2, h.eps), (1e-3, 0.9, 0.999, 1e-8));
/// assert_eq!((h.weight_decay, h.amsgrad), (0.0, false));
/// assert!(AdamHyper { beta2: 1.0, ..h }.validate("Adam").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamHyper {
    /// Learning rate (default `1e-3`).
    pub lr: f64,
    /// Decay of the first-moment average (default 0.9).
    pub beta1: f64,
    /// Decay of the second-moment average (default 0.999).
    pub beta2: f64,
    /// Added to the denominator (default `1e-8`).
    pub eps: f64,
    /// Weight decay: an L2 penalty added to the gradient for [`Adam`] (default 0), a decoupled
    /// decay of the parameters for [`AdamW`] (default 0.01).
    pub weight_decay: f64,
    /// Use the maximum of the second moments so far (AMSGrad; default `false`).
    pub amsgrad: bool,
}

impl Default for AdamHyper {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
        }
    }
}

impl AdamHyper {
    /// Checks PyTorch's constraints, and that every value is finite: `lr >= 0`, `eps >= 0`,
    /// `0 <= beta1 < 1`, `0 <= beta2 < 1`, `weight_decay >= 0`. `optimizer` names the optimizer in
    /// the error (`"Adam"` or `"AdamW"`).
    ///
    /// ```
    /// use rnnzoo_layers::optim::AdamHyper;
    /// assert!(AdamHyper { eps: -1.0, ..Default::default() }.validate("AdamW").is_err());
    /// assert!(AdamHyper::default().validate("Adam").is_ok());
    /// ```
    ///
    /// # Errors
    ///
    /// [`OptimError::HyperParameter`] naming the first invalid value.
    pub fn validate(&self, optimizer: &'static str) -> Result<(), OptimError> {
        let h = self;
        let non_negative = |v: f64| v.is_finite() && v >= 0.0;
        let beta = |v: f64| (0.0..1.0).contains(&v);
        require(
            non_negative(h.lr),
            optimizer,
            "lr",
            h.lr,
            "a finite lr >= 0",
        )?;
        require(
            non_negative(h.eps),
            optimizer,
            "eps",
            h.eps,
            "a finite eps >= 0",
        )?;
        require(beta(h.beta1), optimizer, "beta1", h.beta1, "0 <= beta1 < 1")?;
        require(beta(h.beta2), optimizer, "beta2", h.beta2, "0 <= beta2 < 1")?;
        require(
            non_negative(h.weight_decay),
            optimizer,
            "weight_decay",
            h.weight_decay,
            "a finite weight_decay >= 0",
        )
    }
}

/// What Adam and AdamW share: everything but how weight decay applies.
#[derive(Debug, Clone)]
struct AdamCore<T> {
    hyper: AdamHyper,
    decoupled: bool,
    steps: u64,
    layout: Option<Layout>,
    exp_avg: Vec<Vec<T>>,
    exp_avg_sq: Vec<Vec<T>>,
    max_exp_avg_sq: Option<Vec<Vec<T>>>,
    groups: Vec<ParamGroupRule>,
    /// Each tensor's `(lr scale, weight decay)` from `groups`, resolved at the first step.
    per_tensor: Option<Vec<(f64, Option<f64>)>>,
}

impl<T: Real> AdamCore<T> {
    fn new(hyper: AdamHyper, decoupled: bool) -> Self {
        Self {
            hyper,
            decoupled,
            steps: 0,
            layout: None,
            exp_avg: Vec::new(),
            exp_avg_sq: Vec::new(),
            max_exp_avg_sq: None,
            groups: Vec::new(),
            per_tensor: None,
        }
    }

    fn kind(&self) -> &'static str {
        if self.decoupled { "AdamW" } else { "Adam" }
    }

    fn validate(&self) -> Result<(), OptimError> {
        self.hyper.validate(self.kind())
    }

    /// PyTorch's `_single_tensor_adam` (which `AdamW` runs with `decoupled_weight_decay=True`),
    /// per parameter `p` with gradient `g`, at step `t` (counting from 1):
    ///
    /// ```text
    /// if weight_decay != 0:
    ///     if decoupled: p = p * (1 - lr * weight_decay)          # factor computed in f64
    ///     else:         g = g + weight_decay * p
    /// exp_avg = exp_avg.lerp(g, 1 - beta1)
    /// exp_avg_sq = exp_avg_sq * beta2 + (1 - beta2) * g * g
    /// step_size = lr / (1 - beta1 ** t)                          # f64
    /// bias_correction2_sqrt = sqrt(1 - beta2 ** t)               # f64
    /// if amsgrad: max_exp_avg_sq = maximum(max_exp_avg_sq, exp_avg_sq); v = max_exp_avg_sq
    /// else:       v = exp_avg_sq
    /// denom = sqrt(v) / bias_correction2_sqrt + eps
    /// p = p + (-step_size) * exp_avg / denom                     # addcdiv: (value * t1) / t2
    /// ```
    fn step(
        &mut self,
        params: &mut [&mut Params<T>],
        grads: &[&Params<T>],
    ) -> Result<(), OptimError> {
        self.validate()?;
        check_step(self.layout.as_ref(), params, grads)?;
        let layout = bind(&mut self.layout, params);
        if self.exp_avg.is_empty() {
            self.exp_avg = layout.zeros();
            self.exp_avg_sq = layout.zeros();
        }
        let h = self.hyper;
        if h.amsgrad && self.max_exp_avg_sq.is_none() {
            self.max_exp_avg_sq = Some(layout.zeros());
        }

        let t = (self.steps + 1) as f64;
        let bias_correction1 = 1.0 - h.beta1.powf(t);
        let bias_correction2 = 1.0 - h.beta2.powf(t);
        let bias_correction2_sqrt = T::from_f64_lossy(bias_correction2.sqrt());
        let eps = T::from_f64_lossy(h.eps);
        let one_minus_beta1 = T::from_f64_lossy(1.0 - h.beta1);
        let beta2 = T::from_f64_lossy(h.beta2);
        let one_minus_beta2 = T::from_f64_lossy(1.0 - h.beta2);
        let amsgrad = h.amsgrad;
        let decoupled = self.decoupled;
        let groups = &self.groups;
        let per_tensor = self
            .per_tensor
            .get_or_insert_with(|| groups::per_tensor(layout, groups));
        // A tensor's step size, L2 penalty and decoupled shrink: from its group's learning rate
        // and weight decay, or the optimizer's.
        let settings = |k: usize| {
            let (lr, wd) = groups::settings(per_tensor, k, h.lr, h.weight_decay);
            let decay = wd != 0.0;
            (
                T::from_f64_lossy(-(lr / bias_correction1)),
                (decay && !decoupled).then(|| T::from_f64_lossy(wd)),
                (decay && decoupled).then(|| T::from_f64_lossy(1.0 - lr * wd)),
            )
        };

        let (exp_avg, exp_avg_sq) = (&mut self.exp_avg, &mut self.exp_avg_sq);
        let mut max_sq = self.max_exp_avg_sq.as_mut();
        for_each_tensor(params, grads, |k, p, g| {
            let (neg_step_size, l2, shrink) = settings(k);
            let m = &mut exp_avg[k];
            let v = &mut exp_avg_sq[k];
            let mut vmax = match (&mut max_sq, amsgrad) {
                (Some(b), true) => Some(&mut b[k][..]),
                _ => None,
            };
            for i in 0..p.len() {
                if let Some(s) = shrink {
                    p[i] *= s; // param.mul_(1 - lr * weight_decay)
                }
                let mut gi = g[i];
                if let Some(wd) = l2 {
                    gi += wd * p[i]; // grad.add(param, alpha=weight_decay)
                }
                m[i] = lerp(m[i], gi, one_minus_beta1); // exp_avg.lerp_(grad, 1 - beta1)
                v[i] = v[i] * beta2 + one_minus_beta2 * gi * gi; // mul_(beta2).addcmul_(g, g, value=1 - beta2)
                let second = match vmax.as_deref_mut() {
                    Some(mx) => {
                        // torch.maximum, which propagates NaN
                        if v[i] > mx[i] || v[i].is_nan() {
                            mx[i] = v[i];
                        }
                        mx[i]
                    }
                    None => v[i],
                };
                let denom = second.sqrt() / bias_correction2_sqrt + eps;
                p[i] += neg_step_size * m[i] / denom; // addcdiv_(exp_avg, denom, value=-step_size)
            }
        });
        self.steps += 1;
        Ok(())
    }

    fn state(&self) -> OptimizerState {
        let mut buffers = BTreeMap::new();
        if self.layout.is_some() {
            put(&mut buffers, EXP_AVG, Some(&self.exp_avg));
            put(&mut buffers, EXP_AVG_SQ, Some(&self.exp_avg_sq));
        }
        put(&mut buffers, MAX_EXP_AVG_SQ, self.max_exp_avg_sq.as_ref());
        OptimizerState {
            hyper: if self.decoupled {
                HyperParams::AdamW(self.hyper)
            } else {
                HyperParams::Adam(self.hyper)
            },
            steps: self.steps,
            layout: self.layout.as_ref().map(|l| l.groups().to_vec()),
            buffers,
            groups: self.groups.clone(),
        }
    }

    fn load_state(&mut self, state: &OptimizerState) -> Result<(), OptimError> {
        let hyper = match (state.hyper, self.decoupled) {
            (HyperParams::Adam(h), false) | (HyperParams::AdamW(h), true) => h,
            _ => {
                return Err(OptimError::StateKind {
                    expected: self.kind(),
                    got: state.kind(),
                });
            }
        };
        hyper.validate(self.kind())?;
        groups::validate(self.kind(), &state.groups)?;
        let layout = check_state(
            state,
            self.layout.as_ref(),
            &[EXP_AVG, EXP_AVG_SQ],
            &[MAX_EXP_AVG_SQ],
        )?;
        self.groups = state.groups.clone();
        self.per_tensor = None;
        self.hyper = hyper;
        self.steps = state.steps;
        self.layout = layout;
        self.exp_avg = import_named(state, EXP_AVG).unwrap_or_default();
        self.exp_avg_sq = import_named(state, EXP_AVG_SQ).unwrap_or_default();
        self.max_exp_avg_sq = import_named(state, MAX_EXP_AVG_SQ);
        Ok(())
    }
}

/// Adam: `torch.optim.Adam`, with weight decay as an L2 penalty added to the gradient.
///
/// The update is PyTorch's `_single_tensor_adam` (quoted in the source): moments
/// `exp_avg = lerp(exp_avg, g, 1 - beta1)`, `exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) g²`,
/// then `p -= lr / (1 - beta1^t) * exp_avg / (sqrt(v) / sqrt(1 - beta2^t) + eps)` where `v` is
/// `exp_avg_sq`, or its running maximum with AMSGrad.
///
/// ```
/// use rnnzoo_cell::{Param, Params};
/// use rnnzoo_layers::optim::{Adam, Optimizer};
///
/// let mut w = Params::<f32>::new();
/// w.push(Param::from_vec("weight", &[2], 1, vec![1.0, 1.0]).unwrap()).unwrap();
/// let mut g = w.zeros_like();
/// g.set("weight", &[0.5, -2.0]).unwrap();
///
/// let mut opt = Adam::new(0.1).betas(0.9, 0.999).weight_decay(0.0).amsgrad(true);
/// opt.validate()?;
/// opt.step(&mut [&mut w], &[&g])?;
/// // The first step moves every value by about lr against its gradient's sign.
/// assert!((w.at(0).data()[0] - 0.9).abs() < 1e-6);
/// assert!((w.at(0).data()[1] - 1.1).abs() < 1e-6);
/// # Ok::<(), rnnzoo_layers::optim::OptimError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Adam<T>(AdamCore<T>);

/// AdamW: `torch.optim.AdamW`, Adam with decoupled weight decay.
///
/// Each step first shrinks the parameters, `p *= 1 - lr * weight_decay`, then makes Adam's update
/// with the undecayed gradient. PyTorch's default `weight_decay` is 0.01.
///
/// ```
/// use rnnzoo_cell::{Param, Params};
/// use rnnzoo_layers::optim::{AdamW, Optimizer};
///
/// let mut w = Params::<f64>::new();
/// w.push(Param::from_vec("weight", &[1], 1, vec![2.0]).unwrap()).unwrap();
/// let g = w.zeros_like(); // no gradient: only the decay acts (Adam's update is 0 / eps)
///
/// let mut opt = AdamW::new(0.1).weight_decay(0.5);
/// opt.step(&mut [&mut w], &[&g])?;
/// assert_eq!(w.at(0).data()[0], 2.0 * (1.0 - 0.1 * 0.5));
/// # Ok::<(), rnnzoo_layers::optim::OptimError>(())
/// ```
#[derive(Debug, Clone)]
pub struct AdamW<T>(AdamCore<T>);

macro_rules! adam_api {
    ($ty:ident, $decoupled:expr, $default_wd:expr, $kind:literal) => {
        impl<T: Real> Default for $ty<T> {
            /// PyTorch's defaults, the learning rate `1e-3` included.
            fn default() -> Self {
                Self::new(AdamHyper::default().lr)
            }
        }

        impl<T: Real> $ty<T> {
            #[doc = concat!("`torch.optim.", $kind, "` with learning rate `lr` and PyTorch's defaults otherwise: ")]
            #[doc = concat!("betas `(0.9, 0.999)`, eps `1e-8`, weight decay `", stringify!($default_wd), "`, no AMSGrad.")]
            ///
            /// ```
            #[doc = concat!("use rnnzoo_layers::optim::{", stringify!($ty), ", Optimizer};")]
            #[doc = concat!("let opt = ", stringify!($ty), "::<f32>::new(3e-4).betas(0.8, 0.99).eps(1e-6);")]
            /// assert_eq!((opt.hyper().beta1, opt.hyper().beta2, opt.hyper().eps), (0.8, 0.99, 1e-6));
            /// assert_eq!(opt.lr(), 3e-4);
            #[doc = concat!("assert_eq!(opt.hyper().weight_decay, ", stringify!($default_wd), ");")]
            /// ```
            pub fn new(lr: f64) -> Self {
                let hyper = AdamHyper {
                    lr,
                    weight_decay: $default_wd,
                    ..AdamHyper::default()
                };
                Self(AdamCore::new(hyper, $decoupled))
            }

            /// Sets the decays of the first- and second-moment averages (default `(0.9, 0.999)`).
            pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
                self.0.hyper.beta1 = beta1;
                self.0.hyper.beta2 = beta2;
                self
            }

            /// Sets the term added to the denominator (default `1e-8`).
            pub fn eps(mut self, eps: f64) -> Self {
                self.0.hyper.eps = eps;
                self
            }

            #[doc = concat!("Sets the weight decay (default `", stringify!($default_wd), "`).")]
            pub fn weight_decay(mut self, weight_decay: f64) -> Self {
                self.0.hyper.weight_decay = weight_decay;
                self
            }

            /// Turns AMSGrad on or off (default off).
            pub fn amsgrad(mut self, amsgrad: bool) -> Self {
                self.0.hyper.amsgrad = amsgrad;
                self
            }

            /// The hyper-parameters.
            pub fn hyper(&self) -> &AdamHyper {
                &self.0.hyper
            }

            /// Checks the hyper-parameters ([`AdamHyper::validate`]); `step` does too.
            ///
            /// ```
            #[doc = concat!("use rnnzoo_layers::optim::", stringify!($ty), ";")]
            #[doc = concat!("assert!(", stringify!($ty), "::<f64>::new(-1.0).validate().is_err());")]
            #[doc = concat!("assert!(", stringify!($ty), "::<f64>::new(1e-3).validate().is_ok());")]
            /// ```
            ///
            /// # Errors
            ///
            /// [`OptimError::HyperParameter`] naming the first invalid value.
            pub fn validate(&self) -> Result<(), OptimError> {
                self.0.validate()
            }
        }

        impl<T: Real> Optimizer<T> for $ty<T> {
            fn step(
                &mut self,
                params: &mut [&mut Params<T>],
                grads: &[&Params<T>],
            ) -> Result<(), OptimError> {
                self.0.step(params, grads)
            }

            fn lr(&self) -> f64 {
                self.0.hyper.lr
            }

            fn set_lr(&mut self, lr: f64) {
                self.0.hyper.lr = lr;
            }

            fn state(&self) -> OptimizerState {
                self.0.state()
            }

            fn load_state(&mut self, state: &OptimizerState) -> Result<(), OptimError> {
                self.0.load_state(state)
            }

            fn steps(&self) -> u64 {
                self.0.steps
            }

            fn set_groups(&mut self, groups: Vec<ParamGroupRule>) -> Result<(), OptimError> {
                groups::validate(self.0.kind(), &groups)?;
                self.0.groups = groups;
                self.0.per_tensor = None;
                Ok(())
            }

            fn groups(&self) -> &[ParamGroupRule] {
                &self.0.groups
            }
        }
    };
}

adam_api!(Adam, false, 0.0, "Adam");
adam_api!(AdamW, true, 0.01, "AdamW");
