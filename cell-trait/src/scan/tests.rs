//! The chunked scans against the plain recurrence, written out the obvious way.

use proptest::prelude::*;
use rand::Rng;

use super::linear::{
    linear_adjoint_in_chunks, linear_adjoint_in_lanes, linear_in_chunks, linear_in_lanes,
};
use crate::seeded;

/// `h_t = a_t h_{t-1} + b_t`, one lane at a time.
fn reference(a: &[f64], b: &[f64], init: Option<&[f64]>, width: usize) -> Vec<f64> {
    let mut h = vec![0.0; b.len()];
    for k in 0..width {
        let mut prev = init.map_or(0.0, |i| i[k]);
        for t in 0..b.len() / width {
            let j = t * width + k;
            prev = a[j] * prev + b[j];
            h[j] = prev;
        }
    }
    h
}

/// `g_t = d_t + a_{t+1} g_{t+1}`, one lane at a time.
fn reference_adjoint(a: &[f64], d: &[f64], width: usize) -> Vec<f64> {
    let steps = d.len() / width;
    let mut g = vec![0.0; d.len()];
    for k in 0..width {
        let mut next = 0.0;
        for t in (0..steps).rev() {
            let j = t * width + k;
            let carry = if t + 1 < steps {
                a[j + width] * next
            } else {
                0.0
            };
            next = d[j] + carry;
            g[j] = next;
        }
    }
    g
}

/// Coefficients in `[0, 1)`, with some lanes near zero (`1e-300`: a product that underflows).
fn coefficients(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = seeded(seed);
    let a = (0..n)
        .map(|k| {
            if k % 7 == 3 {
                1e-300
            } else {
                rng.random_range(0.0..1.0)
            }
        })
        .collect();
    let b = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    (a, b)
}

fn assert_close(got: &[f64], want: &[f64]) {
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-12 * (1.0 + w.abs()),
            "value {k}: {g} against {w}"
        );
    }
}

proptest! {
    #[test]
    fn chunked_scan_is_the_recurrence(
        steps in 1usize..60, width in 1usize..9, chunks in 1usize..8, seed in 0u64..1000,
        with_init: bool,
    ) {
        let (a, b) = coefficients(steps * width, seed);
        let init: Vec<f64> = (0..width).map(|k| 0.5 - k as f64 * 0.1).collect();
        let init = with_init.then_some(&init[..]);
        let mut x = b.clone();
        linear_in_chunks(&a, &mut x, init, width, chunks);
        assert_close(&x, &reference(&a, &b, init, width));
    }

    #[test]
    fn a_lane_split_scan_is_the_recurrence(
        steps in 1usize..40, width in 1usize..40, parts in 1usize..6, seed in 0u64..1000,
        with_init: bool,
    ) {
        let (a, b) = coefficients(steps * width, seed);
        let init: Vec<f64> = (0..width).map(|k| 0.5 - k as f64 * 0.01).collect();
        let init = with_init.then_some(&init[..]);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let mut x = b.clone();
        pool.install(|| linear_in_lanes(&a, &mut x, init, width, parts));
        assert_close(&x, &reference(&a, &b, init, width));
        let mut g = b.clone();
        pool.install(|| linear_adjoint_in_lanes(&a, &mut g, width, parts));
        assert_close(&g, &reference_adjoint(&a, &b, width));
    }

    #[test]
    fn chunked_adjoint_is_the_reverse_recurrence(
        steps in 1usize..60, width in 1usize..9, chunks in 1usize..8, seed in 0u64..1000,
    ) {
        let (a, d) = coefficients(steps * width, seed);
        let mut g = d.clone();
        linear_adjoint_in_chunks(&a, &mut g, width, chunks);
        assert_close(&g, &reference_adjoint(&a, &d, width));
    }
}

/// The adjoint is the transpose of the scan from a zero state: `<scan(b), d> = <b, adjoint(d)>`.
#[test]
fn adjoint_is_the_transpose() {
    let (steps, width) = (40, 5);
    let (a, b) = coefficients(steps * width, 1);
    let (_, d) = coefficients(steps * width, 2);
    let mut h = b.clone();
    super::linear(&a, &mut h, None, width);
    let mut g = d.clone();
    super::linear_adjoint(&a, &mut g, width);
    let lhs: f64 = h.iter().zip(&d).map(|(x, y)| x * y).sum();
    let rhs: f64 = b.iter().zip(&g).map(|(x, y)| x * y).sum();
    assert!(
        (lhs - rhs).abs() < 1e-12 * lhs.abs().max(1.0),
        "{lhs} vs {rhs}"
    );
}

/// A long sequence whose products underflow: the chunked scan stays finite and exact, where the
/// prefix-sum form `A_t * cumsum(b / A)` divides by zero.
#[test]
fn underflowing_products_stay_exact() {
    let (steps, width) = (4096, 3);
    let a = vec![0.5; steps * width]; // 0.5^4096 underflows to zero
    let b = vec![1.0; steps * width];
    let mut x = b.clone();
    linear_in_chunks(&a, &mut x, Some(&[1.0, 2.0, 3.0]), width, 4);
    assert!(x.iter().all(|v: &f64| v.is_finite()));
    assert_close(&x, &reference(&a, &b, Some(&[1.0, 2.0, 3.0]), width));
    assert!((x[x.len() - 1] - 2.0).abs() < 1e-15);
}
