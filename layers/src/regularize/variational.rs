//! Recurrent (variational) dropout's masks: one per sample, held over all steps (see the
//! [module docs](super)).

use rand::{Rng, RngCore};
use rnnzoo_cell::Real;

/// Sample `b`'s mask is values `b * hidden..(b + 1) * hidden`: each unit kept with probability
/// `1 - p` and scaled by `1 / (1 - p)`, drawn sample by sample from `rng`; all ones without a
/// random source (evaluation).
pub(crate) fn masks<T: Real>(
    hidden: usize,
    batch: usize,
    p: f64,
    rng: Option<&mut dyn RngCore>,
) -> Vec<T> {
    let n = hidden * batch;
    match rng {
        None => vec![T::one(); n],
        Some(rng) => {
            let keep = T::from_f64_lossy(1.0 / (1.0 - p));
            (0..n)
                .map(|_| {
                    if rng.random::<f64>() < p {
                        T::zero()
                    } else {
                        keep
                    }
                })
                .collect()
        }
    }
}

/// `h rows of prev *= m`, column by column: `prev` is `state x batch`, `m` is `hidden` rows of
/// every `stride`-th value from `at` (the mask rows of the step's input columns).
pub(crate) fn apply<T: Real>(
    prev: &mut [T],
    state: usize,
    hidden: usize,
    x: &[T],
    stride: usize,
    at: usize,
) {
    for (col, xc) in prev.chunks_exact_mut(state).zip(x.chunks_exact(stride)) {
        for (v, &m) in col[..hidden].iter_mut().zip(&xc[at..at + hidden]) {
            *v *= m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rnnzoo_cell::seeded;

    /// Inverted dropout keeps each value's expectation: a kept unit is exactly `1 / (1 - p)`, and
    /// about a fraction `p` is dropped.
    #[test]
    fn a_recurrent_dropout_mask_keeps_the_expectation() {
        let p = 0.3;
        let m: Vec<f64> = masks(1000, 100, p, Some(&mut seeded(0)));
        let keep = 1.0 / (1.0 - p);
        assert!(m.iter().all(|&v| v == 0.0 || v == keep));
        let n = m.len() as f64;
        let dropped = m.iter().filter(|&&v| v == 0.0).count() as f64 / n;
        // Five standard deviations of a binomial fraction over 100k draws is about 0.007.
        assert!((dropped - p).abs() < 0.01, "dropped {dropped}");
        let mean = m.iter().sum::<f64>() / n;
        assert!((mean - 1.0).abs() < 0.015, "mean {mean}");
    }

    #[test]
    fn evaluation_drops_nothing() {
        let m: Vec<f32> = masks(4, 3, 0.5, None);
        assert_eq!(m, vec![1.0; 12]);
    }

    #[test]
    fn apply_masks_the_h_rows_only() {
        // state 3 (h 2, one more row), 2 columns; input columns of 4: [x; m0; m1; pad].
        let mut prev = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let x = [9.0, 0.0, 2.0, 9.0, 9.0, 2.0, 0.0, 9.0];
        apply(&mut prev, 3, 2, &x, 4, 1);
        assert_eq!(prev, [0.0, 4.0, 3.0, 8.0, 0.0, 6.0]);
    }
}
