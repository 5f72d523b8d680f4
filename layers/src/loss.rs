//! Losses over the columns a head produced, masked by lengths.
//!
//! A loss returns its value and its gradient with respect to the prediction, laid out as the
//! prediction. Both average over the positions the mask keeps (every valid step, or one column per
//! sample), like PyTorch's `reduction="mean"` over the non-ignored positions. The masks and the
//! columns a head reads come from [`crate::readout`].

use rnnzoo_cell::Real;

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
/// The gradient is `(softmax(z) - onehot) / count`.
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
    let columns = targets.len();
    let count = check_mask(mask, columns)?;
    if count == 0 {
        return Err(LayerError::NothingToAverage);
    }
    let inv = T::from_f64_lossy(1.0 / count as f64);
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
        // -log p_target = logsumexp(z) - z_target, computed stably from the shifted maximum.
        let max = z.iter().copied().fold(T::neg_infinity(), T::max);
        let lse = max.to_f64_lossless()
            + z.iter()
                .map(|&v| (v - max).to_f64_lossless().exp())
                .sum::<f64>()
                .ln();
        value += lse - z[target].to_f64_lossless();
        g[target] -= T::one();
        g.iter_mut().for_each(|v| *v *= inv);
    }
    Ok(Loss {
        value: value / count as f64,
        grad,
        count,
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
    })
}
