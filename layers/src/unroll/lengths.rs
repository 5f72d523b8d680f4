//! Per-sample lengths: validation, masks and the reversal of each sample's valid prefix.

use rnnzoo_cell::Real;

use crate::LayerError;

/// Checks one length per sample, each in `1..=steps`.
pub(crate) fn check_lengths(
    lengths: &[usize],
    batch: usize,
    steps: usize,
) -> Result<(), LayerError> {
    if lengths.len() != batch {
        return Err(LayerError::LengthsCount {
            expected: batch,
            got: lengths.len(),
        });
    }
    for (sample, &length) in lengths.iter().enumerate() {
        if length == 0 {
            return Err(LayerError::ZeroLength { sample, steps });
        }
        if length > steps {
            return Err(LayerError::LengthTooLong {
                sample,
                length,
                steps,
            });
        }
    }
    Ok(())
}

/// Copies a `rows x (steps * batch)` sequence, zeroing every padded column (`t >= lengths[b]`),
/// and, when `reverse`, mapping column `(t, b)` to `(lengths[b] - 1 - t, b)`: the reversal of each
/// sample's valid prefix. The map is its own inverse, so the same call gathers inputs into the
/// reversed order and scatters outputs back.
pub(crate) fn permute_valid<T: Real>(
    src: &[T],
    dst: &mut [T],
    rows: usize,
    steps: usize,
    batch: usize,
    lengths: &[usize],
    reverse: bool,
) {
    for t in 0..steps {
        for (b, &len) in lengths.iter().enumerate() {
            let out = &mut dst[(t * batch + b) * rows..][..rows];
            if t < len {
                let s = if reverse { len - 1 - t } else { t };
                out.copy_from_slice(&src[(s * batch + b) * rows..][..rows]);
            } else {
                out.fill(T::zero());
            }
        }
    }
}

/// Maps a `rows x (steps * batch)` sequence between step orders: with `reverse`, each sample's
/// valid prefix reversed (all `steps` without lengths); padded columns zeroed either way. Returns
/// the input unchanged (as a copy) when there is nothing to do.
pub(crate) fn reorder<T: Real>(
    src: &[T],
    rows: usize,
    steps: usize,
    batch: usize,
    lengths: Option<&[usize]>,
    reverse: bool,
) -> Vec<T> {
    match (lengths, reverse) {
        (None, false) => src.to_vec(),
        (Some(l), _) => {
            let mut dst = vec![T::zero(); src.len()];
            permute_valid(src, &mut dst, rows, steps, batch, l, reverse);
            dst
        }
        (None, true) => {
            let full = vec![steps; batch];
            let mut dst = vec![T::zero(); src.len()];
            permute_valid(src, &mut dst, rows, steps, batch, &full, true);
            dst
        }
    }
}

/// [`reorder`] of a sequence the caller gives up: the same result, without a copy when there is
/// nothing to do (a forward layer without lengths), so outputs and gradients are not duplicated.
pub(crate) fn reorder_owned<T: Real>(
    src: Vec<T>,
    rows: usize,
    steps: usize,
    batch: usize,
    lengths: Option<&[usize]>,
    reverse: bool,
) -> Vec<T> {
    if lengths.is_none() && !reverse {
        src
    } else {
        reorder(&src, rows, steps, batch, lengths, reverse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reversal_is_per_sample_and_an_involution() {
        // rows = 1, steps = 3, batch = 2; value = 10 * t + b.
        let src = [0.0, 1.0, 10.0, 11.0, 20.0, 21.0];
        let mut dst = [9.0; 6];
        permute_valid(&src, &mut dst, 1, 3, 2, &[3, 2], true);
        assert_eq!(dst, [20.0, 11.0, 10.0, 1.0, 0.0, 0.0]);
        let mut back = [9.0; 6];
        permute_valid(&dst, &mut back, 1, 3, 2, &[3, 2], true);
        assert_eq!(back, [0.0, 1.0, 10.0, 11.0, 20.0, 0.0]);
        permute_valid(&src, &mut back, 1, 3, 2, &[1, 3], false);
        assert_eq!(back, [0.0, 1.0, 0.0, 11.0, 0.0, 21.0]);
    }

    #[test]
    fn lengths_are_checked() {
        assert_eq!(
            check_lengths(&[1, 2], 3, 2),
            Err(LayerError::LengthsCount {
                expected: 3,
                got: 2
            })
        );
        assert_eq!(
            check_lengths(&[1, 0], 2, 2),
            Err(LayerError::ZeroLength {
                sample: 1,
                steps: 2
            })
        );
        assert_eq!(
            check_lengths(&[3, 1], 2, 2),
            Err(LayerError::LengthTooLong {
                sample: 0,
                length: 3,
                steps: 2
            })
        );
        assert!(check_lengths(&[2, 1], 2, 2).is_ok());
    }
}
