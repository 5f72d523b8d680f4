//! Gradient clipping: `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`.

use rnnzoo_cell::{Params, Real};

use super::OptimError;

/// Checks a clipping bound: a number `>= 0` (infinity allowed: it clips nothing).
///
/// # Errors
///
/// [`OptimError::Clip`] for a negative or NaN bound.
pub(crate) fn check_bound(what: &'static str, value: f64) -> Result<(), OptimError> {
    if value >= 0.0 {
        Ok(())
    } else {
        Err(OptimError::Clip { what, value })
    }
}

/// The L2 norm of every value of every group, accumulated in `f64`.
///
/// ```
/// use rnnzoo_cell::{Param, Params};
/// use rnnzoo_layers::optim::grad_norm;
/// let mut a = Params::<f32>::new();
/// a.push(Param::from_vec("w", &[2], 1, vec![3.0, 4.0]).unwrap()).unwrap();
/// let mut b = Params::<f32>::new();
/// b.push(Param::from_vec("b", &[1], 1, vec![12.0]).unwrap()).unwrap();
/// assert_eq!(grad_norm(&[&a, &b]), 13.0);
/// ```
pub fn grad_norm<T: Real>(grads: &[&Params<T>]) -> f64 {
    norm(grads.iter().map(|g| &**g))
}

fn norm<'a, T: Real>(groups: impl Iterator<Item = &'a Params<T>>) -> f64 {
    groups
        .flat_map(Params::iter)
        .flat_map(|p| p.data())
        .map(|v| {
            let v = v.to_f64_lossless();
            v * v
        })
        .sum::<f64>()
        .sqrt()
}

/// Rescales the gradients so that their total L2 norm is at most `max_norm`, as PyTorch's
/// `clip_grad_norm_(parameters, max_norm)` (L2, `error_if_nonfinite=False`), and returns the norm
/// **before** clipping.
///
/// The norm is taken over every value of every group together, accumulated in `f64`. When
/// `max_norm / (norm + 1e-6)` is below 1, every gradient is multiplied by it (rounded to `T`);
/// otherwise the gradients are left alone, bit for bit.
///
/// A non-finite norm (a NaN or infinite gradient, or an `f64` sum of squares that overflows) is
/// returned as is and the gradients are left untouched; PyTorch would multiply them by NaN. The
/// caller decides: skip the step, lower the learning rate, stop.
///
/// ```
/// use rnnzoo_cell::{Param, Params};
/// use rnnzoo_layers::optim::{clip_grad_norm, grad_norm};
/// let mut a = Params::<f64>::new();
/// a.push(Param::from_vec("w", &[2], 1, vec![3.0, 4.0]).unwrap()).unwrap();
/// let mut b = Params::<f64>::new();
/// b.push(Param::from_vec("b", &[1], 1, vec![12.0]).unwrap()).unwrap();
///
/// assert_eq!(clip_grad_norm(&mut [&mut a, &mut b], 26.0)?, 13.0); // under: untouched
/// assert_eq!(a.at(0).data(), &[3.0, 4.0]);
///
/// assert_eq!(clip_grad_norm(&mut [&mut a, &mut b], 1.3)?, 13.0); // the norm before clipping
/// assert!((grad_norm(&[&a, &b]) - 1.3).abs() < 1e-6);
///
/// a.at_mut(0).data_mut()[0] = f64::NAN;
/// assert!(clip_grad_norm(&mut [&mut a, &mut b], 1.0)?.is_nan()); // nothing touched
/// assert!((b.at(0).data()[0] - 1.2).abs() < 1e-6);
/// # Ok::<(), rnnzoo_layers::optim::OptimError>(())
/// ```
///
/// # Errors
///
/// [`OptimError::Clip`] if `max_norm` is negative or NaN (nothing is touched).
pub fn clip_grad_norm<T: Real>(
    grads: &mut [&mut Params<T>],
    max_norm: f64,
) -> Result<f64, OptimError> {
    check_bound("clip_norm", max_norm)?;
    let total = norm(grads.iter().map(|g| &**g));
    if !total.is_finite() {
        return Ok(total);
    }
    // clip_coef = max_norm / (total_norm + 1e-6); grads *= clamp(clip_coef, max=1.0)
    let coef = max_norm / (total + 1e-6);
    if coef < 1.0 {
        let c = T::from_f64_lossy(coef);
        for v in grads
            .iter_mut()
            .flat_map(|g| g.iter_mut())
            .flat_map(|p| p.data_mut())
        {
            *v *= c;
        }
    }
    Ok(total)
}

/// Clamps every gradient value to `[-clip, clip]`, as PyTorch's `clip_grad_value_` (the bound is
/// rounded to `T`). NaN stays NaN.
///
/// ```
/// use rnnzoo_cell::{Param, Params};
/// use rnnzoo_layers::optim::clip_grad_value;
/// let mut g = Params::<f32>::new();
/// g.push(Param::from_vec("w", &[4], 1, vec![-3.0, 0.5, 2.0, -1.0]).unwrap()).unwrap();
/// clip_grad_value(&mut [&mut g], 1.0)?;
/// assert_eq!(g.at(0).data(), &[-1.0, 0.5, 1.0, -1.0]);
/// # Ok::<(), rnnzoo_layers::optim::OptimError>(())
/// ```
///
/// # Errors
///
/// [`OptimError::Clip`] if `clip` is negative or NaN (nothing is touched).
pub fn clip_grad_value<T: Real>(grads: &mut [&mut Params<T>], clip: f64) -> Result<(), OptimError> {
    check_bound("clip_value", clip)?;
    let hi = T::from_f64_lossy(clip);
    let lo = -hi;
    for v in grads
        .iter_mut()
        .flat_map(|g| g.iter_mut())
        .flat_map(|p| p.data_mut())
    {
        if *v > hi {
            *v = hi;
        } else if *v < lo {
            *v = lo;
        }
    }
    Ok(())
}
