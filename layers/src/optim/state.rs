//! [`OptimizerState`]: everything an optimizer needs to resume bit for bit.

use std::collections::BTreeMap;

use rnnzoo_cell::Real;
use serde::{Deserialize, Serialize};

use super::layout::Layout;
use super::{AdamHyper, OptimError, RmsPropHyper, SgdHyper, TensorLayout};

/// The hyper-parameters of one optimizer, tagged with its kind.
///
/// ```
/// use rnnzoo_layers::optim::{Adam, AdamW, HyperParams, Optimizer};
/// let opt = AdamW::<f32>::new(1e-3);
/// let state = opt.state();
/// assert_eq!(state.hyper.kind(), "AdamW");
/// assert!(matches!(state.hyper, HyperParams::AdamW(h) if h.weight_decay == 0.01));
/// assert_eq!(Adam::<f32>::new(0.5).state().hyper.lr(), 0.5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum HyperParams {
    /// [`super::Sgd`].
    Sgd(SgdHyper),
    /// [`super::Adam`] (L2 weight decay added to the gradient).
    Adam(AdamHyper),
    /// [`super::AdamW`] (decoupled weight decay).
    AdamW(AdamHyper),
    /// [`super::RmsProp`].
    RmsProp(RmsPropHyper),
}

impl HyperParams {
    /// The optimizer's name as PyTorch spells its class: `"SGD"`, `"Adam"`, `"AdamW"` or
    /// `"RMSprop"`.
    ///
    /// ```
    /// use rnnzoo_layers::optim::{HyperParams, SgdHyper};
    /// assert_eq!(HyperParams::Sgd(SgdHyper::default()).kind(), "SGD");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Sgd(_) => "SGD",
            Self::Adam(_) => "Adam",
            Self::AdamW(_) => "AdamW",
            Self::RmsProp(_) => "RMSprop",
        }
    }

    /// The learning rate.
    ///
    /// ```
    /// use rnnzoo_layers::optim::{HyperParams, RmsPropHyper};
    /// assert_eq!(HyperParams::RmsProp(RmsPropHyper::default()).lr(), 1e-2);
    /// ```
    pub fn lr(&self) -> f64 {
        match self {
            Self::Sgd(h) => h.lr,
            Self::Adam(h) | Self::AdamW(h) => h.lr,
            Self::RmsProp(h) => h.lr,
        }
    }
}

/// A snapshot of an optimizer: kind and hyper-parameters, step count, the layout it is bound to
/// and its buffers. [`super::Optimizer::load_state`] on a fresh optimizer of the same kind resumes
/// bit for bit where [`super::Optimizer::state`] left off.
///
/// Buffers are named as in PyTorch's `optimizer.state_dict()["state"]` (`"momentum_buffer"`,
/// `"exp_avg"`, `"exp_avg_sq"`, `"max_exp_avg_sq"`, `"square_avg"`, `"grad_avg"`) and hold one
/// `Vec<f64>` per tensor, in layout order: group 0's tensors, then group 1's, and so on. Values are
/// widened to `f64`, so an `f32` optimizer's state round trips exactly. A buffer is present once
/// allocated: from the first step for the moments every step uses, from the first step that needs
/// it for the optional ones (`momentum_buffer`, `max_exp_avg_sq`, `grad_avg`).
///
/// It derives `serde`'s `Serialize` and `Deserialize`; store it with any serde format.
///
/// ```
/// use rnnzoo_cell::{Param, Params};
/// use rnnzoo_layers::optim::{Adam, Optimizer};
///
/// let mut w = Params::<f32>::new();
/// w.push(Param::from_vec("weight", &[2], 1, vec![1.0, -1.0]).unwrap()).unwrap();
/// let mut g = w.zeros_like();
/// g.set("weight", &[0.5, 0.25]).unwrap();
///
/// let mut opt = Adam::new(0.1);
/// opt.step(&mut [&mut w], &[&g])?;
/// let saved = opt.state();
/// assert_eq!((saved.kind(), saved.steps), ("Adam", 1));
/// assert_eq!(saved.buffers["exp_avg"][0].len(), 2);
///
/// let mut resumed = Adam::<f32>::default();
/// resumed.load_state(&saved)?;
/// assert_eq!(resumed.state(), saved);
/// # Ok::<(), rnnzoo_layers::optim::OptimError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerState {
    /// The kind and hyper-parameters (the learning rate included).
    pub hyper: HyperParams,
    /// Steps taken.
    pub steps: u64,
    /// The names and shapes of every group, recorded at the first step; `None` before it.
    pub layout: Option<Vec<Vec<TensorLayout>>>,
    /// The buffers by PyTorch's names, one `Vec` per tensor in layout order.
    pub buffers: BTreeMap<String, Vec<Vec<f64>>>,
    /// The parameter groups ([`super::ParamGroupRule`]); none by default.
    #[serde(default)]
    pub groups: Vec<super::ParamGroupRule>,
}

impl OptimizerState {
    /// The optimizer's kind, as [`HyperParams::kind`].
    ///
    /// ```
    /// use rnnzoo_layers::optim::{Optimizer, RmsProp};
    /// assert_eq!(RmsProp::<f64>::new(0.01).state().kind(), "RMSprop");
    /// ```
    pub fn kind(&self) -> &'static str {
        self.hyper.kind()
    }
}

/// A buffer's values widened to `f64`.
pub(crate) fn export<T: Real>(b: &[Vec<T>]) -> Vec<Vec<f64>> {
    b.iter()
        .map(|t| t.iter().map(|v| v.to_f64_lossless()).collect())
        .collect()
}

/// A saved buffer in `T` (exact for values that came from `T`).
pub(crate) fn import<T: Real>(b: &[Vec<f64>]) -> Vec<Vec<T>> {
    b.iter()
        .map(|t| t.iter().map(|&v| T::from_f64_lossy(v)).collect())
        .collect()
}

/// A saved buffer by name, in `T`.
pub(crate) fn import_named<T: Real>(state: &OptimizerState, name: &str) -> Option<Vec<Vec<T>>> {
    state.buffers.get(name).map(|b| import(b))
}

/// Puts a buffer into a state's map under `name`.
pub(crate) fn put<T: Real>(
    buffers: &mut BTreeMap<String, Vec<Vec<f64>>>,
    name: &str,
    b: Option<&Vec<Vec<T>>>,
) {
    if let Some(b) = b {
        buffers.insert(name.to_string(), export(b));
    }
}

/// Checks a state's layout and buffers before anything is loaded; returns the layout to bind.
///
/// `bound` is the layout the loading optimizer already has, if it has stepped: the state must have
/// the same. A state with no layout must have no steps and no buffers. With a layout, every
/// `required` buffer must be present, no buffer may be outside `required` and `optional`, and each
/// must have one `Vec` per tensor with that tensor's number of values.
pub(crate) fn check_state(
    state: &OptimizerState,
    bound: Option<&Layout>,
    required: &[&str],
    optional: &[&str],
) -> Result<Option<Layout>, OptimError> {
    let layout = state.layout.clone().map(Layout::from_groups);
    if let Some(b) = bound
        && layout.as_ref() != Some(b)
    {
        return Err(OptimError::StateLayout {
            expected: b.describe(),
            got: layout.as_ref().map_or_else(
                || "none (a state saved before the first step)".to_string(),
                Layout::describe,
            ),
        });
    }
    for name in state.buffers.keys() {
        if !required.contains(&name.as_str()) && !optional.contains(&name.as_str()) {
            let known: Vec<&str> = required.iter().chain(optional).copied().collect();
            return Err(OptimError::StateBuffer {
                buffer: name.clone(),
                expected: format!("a {} buffer (one of {known:?})", state.kind()),
                got: "a buffer of another optimizer".to_string(),
            });
        }
    }
    let Some(l) = &layout else {
        if state.steps > 0 {
            return Err(OptimError::StateLayout {
                expected: format!(
                    "the layout stepped on (the state has {} steps)",
                    state.steps
                ),
                got: "none".to_string(),
            });
        }
        if let Some(name) = state.buffers.keys().next() {
            return Err(OptimError::StateBuffer {
                buffer: name.clone(),
                expected: "no buffers in a state with no layout".to_string(),
                got: format!("{} tensors", state.buffers[name].len()),
            });
        }
        return Ok(None);
    };
    for name in required {
        if !state.buffers.contains_key(*name) {
            return Err(OptimError::StateBuffer {
                buffer: name.to_string(),
                expected: "present once the optimizer has stepped".to_string(),
                got: "missing".to_string(),
            });
        }
    }
    for (name, b) in &state.buffers {
        if b.len() != l.num_tensors() {
            return Err(OptimError::StateBuffer {
                buffer: name.clone(),
                expected: format!("{} tensors (the layout's)", l.num_tensors()),
                got: format!("{} tensors", b.len()),
            });
        }
        for (i, (t, values)) in l.tensors().zip(b).enumerate() {
            if values.len() != t.num_values() {
                return Err(OptimError::StateBuffer {
                    buffer: name.clone(),
                    expected: format!("{} values for tensor {i} ({t})", t.num_values()),
                    got: format!("{} values", values.len()),
                });
            }
        }
    }
    Ok(layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_buffers_round_trip_through_f64_exactly() {
        let b: Vec<Vec<f32>> = vec![
            vec![0.1, -3.5e-39, f32::MAX, f32::MIN_POSITIVE, 1.0 / 3.0],
            vec![],
            vec![f32::INFINITY, -0.0],
        ];
        let back: Vec<Vec<f32>> = import(&export(&b));
        for (x, y) in b.iter().flatten().zip(back.iter().flatten()) {
            assert_eq!(x.to_bits(), y.to_bits());
        }
        assert_eq!(back.len(), 3);
    }

    #[test]
    fn a_state_without_layout_must_be_empty() {
        let mut s = OptimizerState {
            hyper: HyperParams::Sgd(SgdHyper::default()),
            steps: 0,
            layout: None,
            buffers: BTreeMap::new(),
            groups: Vec::new(),
        };
        assert_eq!(check_state(&s, None, &[], &["momentum_buffer"]), Ok(None));
        s.buffers.insert("momentum_buffer".into(), vec![vec![0.0]]);
        assert!(matches!(
            check_state(&s, None, &[], &["momentum_buffer"]),
            Err(OptimError::StateBuffer { .. })
        ));
        s.buffers.clear();
        s.steps = 2;
        assert!(matches!(
            check_state(&s, None, &[], &["momentum_buffer"]),
            Err(OptimError::StateLayout { .. })
        ));
    }
}
