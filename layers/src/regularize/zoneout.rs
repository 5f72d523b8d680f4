//! Zoneout's masks and mix: per step, per unit, keep the previous value with probability `p`
//! (see the [module docs](super)).

use rand::{Rng, RngCore};
use rnnzoo_cell::Real;

/// Step `t`, sample `b`'s mask is the `state` values from `(t * batch + b) * state`: row `r` is 1
/// (keep `state_{t-1}`) with probability `p_h` for `r < hidden`, `p_c` after, else 0; drawn step by
/// step, sample by sample, from `rng`. Without a random source (evaluation) every value is its
/// expectation, `p_h` or `p_c`. A rate of zero draws nothing for its rows.
pub(crate) fn masks<T: Real>(
    (hidden, state): (usize, usize),
    columns: usize,
    (p_h, p_c): (f64, f64),
    mut rng: Option<&mut dyn RngCore>,
) -> Vec<T> {
    let mut out = Vec::with_capacity(state * columns);
    for _ in 0..columns {
        for r in 0..state {
            let p = if r < hidden { p_h } else { p_c };
            let d = match rng.as_mut() {
                None => T::from_f64_lossy(p),
                Some(_) if p == 0.0 => T::zero(),
                Some(rng) => {
                    if rng.random::<f64>() < p {
                        T::one()
                    } else {
                        T::zero()
                    }
                }
            };
            out.push(d);
        }
    }
    out
}

/// `next = d * prev + (1 - d) * next`, column by column; `d` is `state` rows of every `stride`-th
/// value of `x` from `at`.
pub(crate) fn mix<T: Real>(
    next: &mut [T],
    prev: &[T],
    state: usize,
    x: &[T],
    stride: usize,
    at: usize,
) {
    let one = T::one();
    let columns = next.chunks_exact_mut(state).zip(prev.chunks_exact(state));
    for ((n, p), xc) in columns.zip(x.chunks_exact(stride)) {
        for ((n, &p), &d) in n.iter_mut().zip(p).zip(&xc[at..at + state]) {
            *n = d * p + (one - d) * *n;
        }
    }
}

/// The gradient through [`mix`]: `d_new = (1 - d) * d_next` (what the cell's step gets).
pub(crate) fn unmix_new<T: Real>(
    d_new: &mut [T],
    d_next: &[T],
    state: usize,
    x: &[T],
    stride: usize,
    at: usize,
) {
    let one = T::one();
    let columns = d_new
        .chunks_exact_mut(state)
        .zip(d_next.chunks_exact(state));
    for ((dn, g), xc) in columns.zip(x.chunks_exact(stride)) {
        for ((dn, &g), &d) in dn.iter_mut().zip(g).zip(&xc[at..at + state]) {
            *dn = (one - d) * g;
        }
    }
}

/// The gradient through [`mix`]'s kept path: `d_prev += d * d_next`.
pub(crate) fn unmix_prev<T: Real>(
    d_prev: &mut [T],
    d_next: &[T],
    state: usize,
    x: &[T],
    stride: usize,
    at: usize,
) {
    let columns = d_prev
        .chunks_exact_mut(state)
        .zip(d_next.chunks_exact(state));
    for ((dp, g), xc) in columns.zip(x.chunks_exact(stride)) {
        for ((dp, &g), &d) in dp.iter_mut().zip(g).zip(&xc[at..at + state]) {
            *dp += d * g;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rnnzoo_cell::seeded;

    /// A zoneout mask keeps with probability `p` per row block: its mean is `p`, its values 0 or
    /// 1, and a zero rate keeps nothing.
    #[test]
    fn a_zoneout_mask_keeps_the_expectation() {
        let (p_h, p_c) = (0.3, 0.15);
        let d: Vec<f64> = masks((2, 5), 40_000, (p_h, p_c), Some(&mut seeded(1)));
        assert!(d.iter().all(|&v| v == 0.0 || v == 1.0));
        let mean = |rows: std::ops::Range<usize>| {
            let v: Vec<f64> = d
                .chunks_exact(5)
                .flat_map(|c| c[rows.clone()].to_vec())
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        // Five standard deviations of a binomial fraction: 0.011 over 80k, 0.005 over 120k.
        assert!((mean(0..2) - p_h).abs() < 0.011, "h {}", mean(0..2));
        assert!((mean(2..5) - p_c).abs() < 0.005, "c {}", mean(2..5));
        let none: Vec<f64> = masks((2, 3), 100, (0.0, 0.4), Some(&mut seeded(2)));
        assert!(none.chunks_exact(3).all(|c| c[..2] == [0.0, 0.0]));
    }

    #[test]
    fn evaluation_uses_the_expectation() {
        let d: Vec<f64> = masks((1, 2), 2, (0.25, 0.5), None);
        assert_eq!(d, [0.25, 0.5, 0.25, 0.5]);
        let (mut next, prev) = ([4.0, 8.0], [0.0, 0.0]);
        mix(&mut next, &prev, 2, &[9.0, 0.25, 0.5], 3, 1);
        assert_eq!(next, [3.0, 4.0]);
    }

    #[test]
    fn the_mix_and_its_gradients() {
        // state 2, one column; input column [x; d0; d1].
        let x = [7.0, 1.0, 0.0];
        let (mut next, prev) = ([5.0, 6.0], [1.0, 2.0]);
        mix(&mut next, &prev, 2, &x, 3, 1);
        assert_eq!(next, [1.0, 6.0]);
        let mut d_new = [9.0; 2];
        unmix_new(&mut d_new, &[3.0, 4.0], 2, &x, 3, 1);
        assert_eq!(d_new, [0.0, 4.0]);
        let mut d_prev = [1.0, 1.0];
        unmix_prev(&mut d_prev, &[3.0, 4.0], 2, &x, 3, 1);
        assert_eq!(d_prev, [4.0, 1.0]);
    }
}
