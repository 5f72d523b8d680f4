//! Losses over the columns a head produced, masked by lengths.
//!
//! A loss returns its value and its gradient with respect to the prediction, laid out as the
//! prediction. Both average over the positions the mask keeps (every valid step, or one column per
//! sample), like PyTorch's `reduction="mean"` over the non-ignored positions. The masks and the
//! columns a head reads come from [`crate::readout`].

use rnnzoo_cell::Real;
use serde::{Deserialize, Serialize};

use crate::LayerError;
use crate::head::softmax_in_place;

/// A loss's value and its gradient with respect to the prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct Loss<T> {
    /// The mean loss (in `f64`).
    pub value: f64,
    /// `d value / d prediction`, laid out as the prediction; zero at masked columns.
    pub grad: Vec<T>,
    /// Positions averaged over.
    pub count: usize,
    /// What the mean divided the sum by: the kept elements (`count * rows` for an element-wise
    /// loss, `count` for cross-entropy), or with class weights the targets' summed weight, as
    /// PyTorch's `reduction="mean"` does. [`Loss::reduced`] multiplies it back for `"sum"`.
    pub denominator: f64,
}

/// How a loss's terms are combined: PyTorch's `reduction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reduction {
    /// The mean over the kept positions (weighted by the class weights, when given).
    #[default]
    Mean,
    /// The sum.
    Sum,
}

impl<T: Real> Loss<T> {
    /// The loss under `reduction`: the mean as it is, or the sum (value and gradient times
    /// [`Loss::denominator`]).
    ///
    /// ```
    /// use rnnzoo_layers::loss::{mse, Reduction};
    /// let l = mse(&[1.0f64, 3.0], &[0.0, 1.0], 1, None)?.reduced(Reduction::Sum);
    /// assert_eq!((l.value, l.grad), (5.0, vec![2.0, 4.0]));
    /// # Ok::<(), rnnzoo_layers::LayerError>(())
    /// ```
    pub fn reduced(mut self, reduction: Reduction) -> Self {
        if reduction == Reduction::Sum {
            let n = T::from_f64_lossy(self.denominator);
            self.value *= self.denominator;
            self.grad.iter_mut().for_each(|g| *g *= n);
        }
        self
    }
}

/// Cross-entropy's options beyond PyTorch's defaults: `nn.CrossEntropyLoss(weight=...,
/// label_smoothing=...)`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CrossEntropyOptions {
    /// A weight per class (`weight`), or `None` for all 1.
    #[serde(default)]
    pub weight: Option<Vec<f64>>,
    /// `label_smoothing`, in `[0, 1]`: the target becomes `(1 - e) onehot + e / classes`.
    #[serde(default)]
    pub label_smoothing: f64,
}

fn check_mask(mask: Option<&[bool]>, columns: usize) -> Result<usize, LayerError> {
    match mask {
        Some(m) if m.len() != columns => Err(LayerError::GradShape {
            what: "mask",
            expected: columns,
            got: m.len(),
        }),
        Some(m) => Ok(m.iter().filter(|&&k| k).count()),
        None => Ok(columns),
    }
}

/// Mean squared error `mean((pred - target)^2)` over the kept columns' elements.
///
/// ```
/// let l = rnnzoo_layers::loss::mse(&[1.0f64, 3.0], &[0.0, 1.0], 1, None)?;
/// assert_eq!((l.value, l.grad), (2.5, vec![1.0, 2.0]));
/// # Ok::<(), rnnzoo_layers::LayerError>(())
/// ```
///
/// # Errors
///
/// [`LayerError::GradShape`] if `target` or `mask` does not match `pred`'s columns of `rows`
/// values, [`LayerError::NothingToAverage`] if the mask keeps nothing.
pub fn mse<T: Real>(
    pred: &[T],
    target: &[T],
    rows: usize,
    mask: Option<&[bool]>,
) -> Result<Loss<T>, LayerError> {
    masked_mean(pred, target, rows, mask, 2.0, |p, t| {
        let d = p - t;
        (d.to_f64_lossless().powi(2), d)
    })
}

/// Softmax cross-entropy from logits (`classes x n`) and a class index per column, like
/// PyTorch's `nn.CrossEntropyLoss`: `mean(-log softmax(z)[target])` over the kept columns.
/// The gradient is `(softmax(z) - onehot) / count`. [`cross_entropy_with`] takes class weights
/// and label smoothing.
///
/// ```
/// let l = rnnzoo_layers::loss::cross_entropy(&[0.0f64, 0.0], &[1], 2, None)?;
/// assert!((l.value - 2f64.ln()).abs() < 1e-15);
/// assert_eq!(l.grad, vec![0.5, -0.5]);
/// # Ok::<(), rnnzoo_layers::LayerError>(())
/// ```
///
/// # Errors
///
/// [`LayerError::GradShape`] if `targets` or `mask` does not have one entry per column,
/// [`LayerError::ClassOutOfRange`] for a kept target `>= classes`,
/// [`LayerError::NothingToAverage`] if the mask keeps nothing.
pub fn cross_entropy<T: Real>(
    logits: &[T],
    targets: &[usize],
    classes: usize,
    mask: Option<&[bool]>,
) -> Result<Loss<T>, LayerError> {
    cross_entropy_with(
        logits,
        targets,
        classes,
        mask,
        &CrossEntropyOptions::default(),
    )
}

/// Softmax cross-entropy with PyTorch's class weights `w` and label smoothing `e`, as
/// `aten/src/ATen/native/LossNLL.cpp` (`cross_entropy_loss_label_smoothing`) computes it over the
/// kept columns `i`, with `K` classes and `nll_ik = -log softmax(z_i)_k`:
///
/// ```text
/// loss = [(1 - e) sum_i w_{y_i} nll_{i,y_i} + (e / K) sum_i sum_k w_k nll_ik] / sum_i w_{y_i}
/// d loss / d z_i = [(1 - e) w_{y_i} (p_i - onehot_{y_i}) + (e / K) (sum_k w_k p_i - w)] / sum_i w_{y_i}
/// ```
///
/// (the mean: [`Loss::reduced`] gives the sum). Without weights `w = 1` and the denominator is the
/// column count.
///
/// ```
/// use rnnzoo_layers::loss::{cross_entropy_with, CrossEntropyOptions};
/// let opts = CrossEntropyOptions { weight: Some(vec![1.0, 3.0]), label_smoothing: 0.2 };
/// // torch.nn.functional.cross_entropy(torch.tensor([[0., 0.]]), torch.tensor([1]),
/// //     weight=torch.tensor([1., 3.]), label_smoothing=0.2) == log(2) * (0.8 * 3 + 0.1 * 4) / 3
/// let l = cross_entropy_with(&[0.0f64, 0.0], &[1], 2, None, &opts)?;
/// assert!((l.value - 2f64.ln() * (0.8 * 3.0 + 0.1 * 4.0) / 3.0).abs() < 1e-15);
/// # Ok::<(), rnnzoo_layers::LayerError>(())
/// ```
///
/// # Errors
///
/// As [`cross_entropy`], and [`LayerError::LossOption`] for a smoothing outside `[0, 1]`, weights
/// that are not one finite non-negative number per class, or weights summing to zero over the
/// kept targets; [`LayerError::GradShape`] for a weight list of another length.
pub fn cross_entropy_with<T: Real>(
    logits: &[T],
    targets: &[usize],
    classes: usize,
    mask: Option<&[bool]>,
    opts: &CrossEntropyOptions,
) -> Result<Loss<T>, LayerError> {
    if classes == 0
        || !logits.len().is_multiple_of(classes)
        || targets.len() * classes != logits.len()
    {
        return Err(LayerError::GradShape {
            what: "targets",
            expected: logits.len() / classes.max(1),
            got: targets.len(),
        });
    }
    let e = opts.label_smoothing;
    if !(0.0..=1.0).contains(&e) {
        return Err(LayerError::LossOption {
            what: "label_smoothing",
            got: e.to_string(),
            expected: "a number in [0, 1]",
        });
    }
    if let Some(w) = &opts.weight {
        if w.len() != classes {
            return Err(LayerError::GradShape {
                what: "class weights",
                expected: classes,
                got: w.len(),
            });
        }
        if let Some(bad) = w.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
            return Err(LayerError::LossOption {
                what: "class weight",
                got: bad.to_string(),
                expected: "finite and >= 0",
            });
        }
    }
    let weight = |k: usize| opts.weight.as_ref().map_or(1.0, |w| w[k]);
    let total_weight: f64 = (0..classes).map(weight).sum();
    let columns = targets.len();
    let count = check_mask(mask, columns)?;
    if count == 0 {
        return Err(LayerError::NothingToAverage);
    }
    let mut denominator = 0.0;
    let mut value = 0.0;
    let mut grad = vec![T::zero(); logits.len()];
    for (c, &target) in targets.iter().enumerate() {
        if mask.is_some_and(|m| !m[c]) {
            continue;
        }
        if target >= classes {
            return Err(LayerError::ClassOutOfRange {
                column: c,
                class: target,
                classes,
            });
        }
        let z = &logits[c * classes..][..classes];
        let g = &mut grad[c * classes..][..classes];
        g.copy_from_slice(z);
        softmax_in_place(g);
        // -log p_k = logsumexp(z) - z_k, computed stably from the shifted maximum.
        let max = z.iter().copied().fold(T::neg_infinity(), T::max);
        let lse = max.to_f64_lossless()
            + z.iter()
                .map(|&v| (v - max).to_f64_lossless().exp())
                .sum::<f64>()
                .ln();
        let wy = weight(target);
        denominator += wy;
        value += (1.0 - e) * wy * (lse - z[target].to_f64_lossless());
        if e > 0.0 {
            let smooth: f64 = (0..classes)
                .map(|k| weight(k) * (lse - z[k].to_f64_lossless()))
                .sum();
            value += e / classes as f64 * smooth;
        }
        // Unscaled: (1 - e) w_y (p - onehot) + (e / K) (W p - w); divided by the denominator
        // once every column is in.
        let (a, b) = ((1.0 - e) * wy, e / classes as f64);
        for (k, v) in g.iter_mut().enumerate() {
            let p = v.to_f64_lossless();
            let onehot = if k == target { 1.0 } else { 0.0 };
            *v = T::from_f64_lossy(a * (p - onehot) + b * (total_weight * p - weight(k)));
        }
    }
    if denominator <= 0.0 {
        return Err(LayerError::LossOption {
            what: "class weights of the targets",
            got: "a sum of 0".into(),
            expected: "a positive sum over the kept targets",
        });
    }
    let inv = T::from_f64_lossy(1.0 / denominator);
    grad.iter_mut().for_each(|v| *v *= inv);
    Ok(Loss {
        value: value / denominator,
        grad,
        count,
        denominator,
    })
}

/// Binary cross-entropy from logits (`rows x n`) and 0/1 targets laid out alike, like PyTorch's
/// `nn.BCEWithLogitsLoss`: `mean(max(z, 0) - z y + log(1 + exp(-|z|)))` over the kept columns'
/// elements, for multi-hot targets (a set of classes per position). The gradient is
/// `(sigmoid(z) - y) / count`.
///
/// ```
/// let l = rnnzoo_layers::loss::binary_cross_entropy(&[0.0f64, 0.0], &[1.0, 0.0], 2, None)?;
/// assert!((l.value - 2f64.ln()).abs() < 1e-15);
/// assert_eq!(l.grad, vec![-0.25, 0.25]);
/// # Ok::<(), rnnzoo_layers::LayerError>(())
/// ```
///
/// # Errors
///
/// [`LayerError::GradShape`] if `targets` or `mask` does not match `logits`' columns of `rows`
/// values, [`LayerError::NothingToAverage`] if the mask keeps nothing.
pub fn binary_cross_entropy<T: Real>(
    logits: &[T],
    targets: &[T],
    rows: usize,
    mask: Option<&[bool]>,
) -> Result<Loss<T>, LayerError> {
    masked_mean(logits, targets, rows, mask, 1.0, |z, y| {
        let (zf, yf) = (z.to_f64_lossless(), y.to_f64_lossless());
        // The stable form: no exp of a large positive number.
        let value = zf.max(0.0) - zf * yf + (-zf.abs()).exp().ln_1p();
        (value, z.sigmoid() - y)
    })
}

/// The mean of an element-wise loss over the columns `mask` keeps: `term(prediction, target)`
/// gives an element's loss and its gradient up to the factor `grad_scale / n`, `n` the number of
/// kept elements. Shared by [`mse`] and [`binary_cross_entropy`], whose checks are the same.
fn masked_mean<T: Real>(
    pred: &[T],
    target: &[T],
    rows: usize,
    mask: Option<&[bool]>,
    grad_scale: f64,
    term: impl Fn(T, T) -> (f64, T),
) -> Result<Loss<T>, LayerError> {
    if rows == 0 || !pred.len().is_multiple_of(rows) || target.len() != pred.len() {
        return Err(LayerError::GradShape {
            what: "target",
            expected: pred.len(),
            got: target.len(),
        });
    }
    let columns = pred.len() / rows;
    let count = check_mask(mask, columns)?;
    if count == 0 {
        return Err(LayerError::NothingToAverage);
    }
    let n = (count * rows) as f64;
    let scale = T::from_f64_lossy(grad_scale / n);
    let mut value = 0.0;
    let mut grad = vec![T::zero(); pred.len()];
    for c in 0..columns {
        if mask.is_some_and(|m| !m[c]) {
            continue;
        }
        for k in c * rows..(c + 1) * rows {
            let (v, g) = term(pred[k], target[k]);
            value += v;
            grad[k] = scale * g;
        }
    }
    Ok(Loss {
        value: value / n,
        grad,
        count,
        denominator: n,
    })
}
