//! Parameter groups: PyTorch's `optimizer.param_groups`, a learning rate and a weight decay for
//! some of the model's tensors (for example no weight decay on the biases).
//!
//! A rule selects the tensors whose name starts with its prefix (`bias` selects `bias_ih`,
//! `bias_hh` and a head's `bias`; `weight_hh` the recurrent matrices); each tensor takes the
//! first rule that selects it, and the optimizer's own settings when none does. A rule's learning
//! rate is a multiple of the optimizer's, so a schedule that sets the optimizer's rate
//! ([`Optimizer::set_lr`](super::Optimizer::set_lr)) scales every group alike, as PyTorch's
//! schedulers scale every group's rate.

use serde::{Deserialize, Serialize};

use super::OptimError;
use super::layout::Layout;

/// One parameter group.
///
/// ```
/// use rnnzoo_layers::optim::ParamGroupRule;
/// // torch.optim.AdamW([{"params": weights}, {"params": biases, "weight_decay": 0.0}])
/// let no_decay_on_biases = ParamGroupRule::new("bias").weight_decay(0.0);
/// assert_eq!((no_decay_on_biases.lr_scale, no_decay_on_biases.weight_decay), (1.0, Some(0.0)));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamGroupRule {
    /// The tensors whose name starts with this.
    pub name_prefix: String,
    /// The group's learning rate as a multiple of the optimizer's (1: the same).
    #[serde(default = "one")]
    pub lr_scale: f64,
    /// The group's weight decay; the optimizer's when `None`.
    #[serde(default)]
    pub weight_decay: Option<f64>,
}

fn one() -> f64 {
    1.0
}

impl ParamGroupRule {
    /// The group of the tensors whose name starts with `prefix`, with the optimizer's settings.
    pub fn new(prefix: &str) -> Self {
        Self {
            name_prefix: prefix.to_string(),
            lr_scale: 1.0,
            weight_decay: None,
        }
    }

    /// With a learning rate of `scale` times the optimizer's.
    pub fn lr_scale(mut self, scale: f64) -> Self {
        self.lr_scale = scale;
        self
    }

    /// With its own weight decay.
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = Some(weight_decay);
        self
    }
}

/// Checks every rule: a positive finite scale, a finite non-negative weight decay.
pub(crate) fn validate(kind: &'static str, rules: &[ParamGroupRule]) -> Result<(), OptimError> {
    for r in rules {
        if !(r.lr_scale.is_finite() && r.lr_scale > 0.0) {
            return Err(OptimError::HyperParameter {
                optimizer: kind,
                name: "lr_scale",
                value: r.lr_scale,
                expected: "a finite lr_scale > 0 for every parameter group",
            });
        }
        if let Some(wd) = r.weight_decay
            && !(wd.is_finite() && wd >= 0.0)
        {
            return Err(OptimError::HyperParameter {
                optimizer: kind,
                name: "weight_decay",
                value: wd,
                expected: "a finite weight_decay >= 0 for every parameter group",
            });
        }
    }
    Ok(())
}

/// Each tensor's `(lr scale, weight decay or None for the optimizer's)`, in buffer order.
pub(crate) fn per_tensor(layout: &Layout, rules: &[ParamGroupRule]) -> Vec<(f64, Option<f64>)> {
    layout
        .tensors()
        .map(|t| {
            rules
                .iter()
                .find(|r| t.name.starts_with(&r.name_prefix))
                .map_or((1.0, None), |r| (r.lr_scale, r.weight_decay))
        })
        .collect()
}

/// Tensor `k`'s `(learning rate, weight decay)`: its group's, from the optimizer's `lr` and `wd`
/// (a scale of 1 and no override give `lr` and `wd` exactly).
pub(crate) fn settings(
    per_tensor: &[(f64, Option<f64>)],
    k: usize,
    lr: f64,
    wd: f64,
) -> (f64, f64) {
    let (scale, own) = per_tensor[k];
    (lr * scale, own.unwrap_or(wd))
}

/// Tensor `k`'s `-lr` and weight decay (`None` for 0) in `T`: the form SGD's and RMSprop's
/// updates use them in.
pub(crate) fn neg_lr_and_decay<T: rnnzoo_cell::Real>(
    per_tensor: &[(f64, Option<f64>)],
    k: usize,
    lr: f64,
    wd: f64,
) -> (T, Option<T>) {
    let (lr, wd) = settings(per_tensor, k, lr, wd);
    (
        T::from_f64_lossy(-lr),
        (wd != 0.0).then(|| T::from_f64_lossy(wd)),
    )
}
