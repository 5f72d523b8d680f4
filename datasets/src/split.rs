//! Splitting a stream (text ids, a time series) into a training part and a validation part.

use crate::error::{DatasetError, Result};

/// Splits `data` in order: the first `round(len * train_fraction)` items train, the rest
/// validate. Nothing is shuffled, because both text and time series are sequences whose order
/// is the data; the validation part is the future the model has not seen.
///
/// # Errors
///
/// [`DatasetError::FractionOutOfRange`] unless `train_fraction` is finite and in `[0, 1]`.
///
/// ```
/// use rnnzoo_datasets::split_at_fraction;
/// let data: Vec<u32> = (0..10).collect();
/// let (train, valid) = split_at_fraction(&data, 0.9)?;
/// assert_eq!((train.len(), valid.len()), (9, 1));
/// assert!(split_at_fraction(&data, 1.5).is_err());
/// # Ok::<(), rnnzoo_datasets::DatasetError>(())
/// ```
pub fn split_at_fraction<T>(data: &[T], train_fraction: f64) -> Result<(&[T], &[T])> {
    if !train_fraction.is_finite() || !(0.0..=1.0).contains(&train_fraction) {
        return Err(DatasetError::FractionOutOfRange {
            fraction: train_fraction,
        });
    }
    // Rounding (not truncation) so that e.g. 0.7 of 10 is 7 even though 0.7 * 10.0 is not exact.
    let cut = ((data.len() as f64 * train_fraction).round() as usize).min(data.len());
    Ok(data.split_at(cut))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges() {
        let d = [1, 2, 3];
        assert_eq!(split_at_fraction(&d, 0.0).unwrap(), (&[][..], &d[..]));
        assert_eq!(split_at_fraction(&d, 1.0).unwrap(), (&d[..], &[][..]));
        assert!(split_at_fraction(&d, -0.1).is_err());
        assert!(split_at_fraction(&d, f64::NAN).is_err());
        for n in 0..50 {
            let v: Vec<usize> = (0..n).collect();
            let (a, b) = split_at_fraction(&v, 0.7).unwrap();
            assert_eq!(a.len() + b.len(), n);
            assert_eq!(a.len(), (n as f64 * 0.7).round() as usize);
        }
    }
}
