//! Finite-difference gradient checks for any differentiable computation, cells first.
//!
//! The checker compares an analytic gradient with central differences in `f64`,
//! `(L(x + eps) - L(x - eps)) / 2 eps` with `eps = 1e-6`, and an element passes when
//! `|analytic - numeric| <= atol + rtol * |numeric|` with `atol = 1e-5`, `rtol = 1e-3`:
//! `torch.autograd.gradcheck`'s defaults. The loss is a random linear functional of everything the
//! computation outputs (a non-uniform cotangent), so every path through it is exercised.
//!
//! What is checked is anything that implements [`Differentiable`]: one step of a cell
//! ([`CellStep`], through [`check_cell`]), or in `rnnzoo-layers` a cell unrolled through time, a
//! bidirectional layer or a stack. Small groups are checked element by element; a group larger
//! than [`Options::max_elements`] is checked along random directions instead.
//!
//! [`check_columns`] is the other check a cell needs: that the samples of a batch do not interact,
//! which the unroller's split of a step over threads relies on.
//!
//! ```
//! use rnnzoo_cell::gradcheck::{check, Differentiable, Options};
//!
//! // L(w) = sum_i c_i * w_i^2, with a planted mistake in the gradient of w_1.
//! struct Square { w: Vec<f64>, c: Vec<f64>, wrong: bool }
//! impl Differentiable for Square {
//!     fn groups(&self) -> Vec<String> { vec!["w".into()] }
//!     fn values_mut(&mut self, _: usize) -> &mut [f64] { &mut self.w }
//!     fn loss(&mut self) -> f64 { self.w.iter().zip(&self.c).map(|(w, c)| c * w * w).sum() }
//!     fn gradients(&mut self) -> Vec<Vec<f64>> {
//!         let mut g: Vec<f64> = self.w.iter().zip(&self.c).map(|(w, c)| 2.0 * c * w).collect();
//!         if self.wrong { g[1] *= 1.01; }
//!         vec![g]
//!     }
//! }
//! let mut good = Square { w: vec![0.5, -1.0, 2.0], c: vec![1.0, 3.0, -2.0], wrong: false };
//! assert!(check(&mut good, &Options::default()).passed());
//! let mut bad = Square { wrong: true, ..good };
//! let report = check(&mut bad, &Options::default());
//! assert!(!report.passed());
//! assert_eq!(report.groups[0].worst_index, Some(1));
//! ```

mod cell_step;
mod columns;
mod report;

pub use cell_step::{check_cell, CellStep};
pub use columns::check_columns;
pub use report::{GroupReport, Report, Sampling};

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::seeded;

/// A scalar function of named groups of `f64` values, with its analytic gradient.
pub trait Differentiable {
    /// The names of the variable groups (parameters, inputs, initial state), in a fixed order.
    fn groups(&self) -> Vec<String>;

    /// The current values of group `group`; the checker perturbs them in place and restores them.
    fn values_mut(&mut self, group: usize) -> &mut [f64];

    /// The loss at the current values.
    fn loss(&mut self) -> f64;

    /// The analytic gradient of the loss at the current values, one vector per group, in the order
    /// of [`groups`](Differentiable::groups), each as long as the group.
    fn gradients(&mut self) -> Vec<Vec<f64>>;
}

/// How to check. The defaults are `torch.autograd.gradcheck`'s.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Step of the central difference.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance (of the numeric value).
    pub rtol: f64,
    /// A group with more values than this is checked along random directions.
    pub max_elements: usize,
    /// How many random directions for such a group.
    pub directions: usize,
    /// Seed of the random directions.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
            max_elements: 4096,
            directions: 32,
            seed: 0,
        }
    }
}

/// Checks `f`'s analytic gradient against central differences, every group.
///
/// The values of `f` are the same after the call as before it.
///
/// # Panics
///
/// If `f.gradients()` does not return one vector per group, each as long as its group: that is a
/// bug in the `Differentiable` implementation, not a failed check.
pub fn check<F: Differentiable + ?Sized>(f: &mut F, opts: &Options) -> Report {
    let names = f.groups();
    let analytic = f.gradients();
    assert_eq!(
        analytic.len(),
        names.len(),
        "gradients() returned {} groups for {} names",
        analytic.len(),
        names.len()
    );
    let mut rng = seeded(opts.seed);
    let mut groups = Vec::with_capacity(names.len());
    for (g, name) in names.into_iter().enumerate() {
        let n = f.values_mut(g).len();
        assert_eq!(
            analytic[g].len(),
            n,
            "gradient of `{name}` has {} values, the group {n}",
            analytic[g].len()
        );
        let mut rep = GroupReport::new(
            name,
            if n <= opts.max_elements {
                Sampling::Every
            } else {
                Sampling::Directions
            },
        );
        if n <= opts.max_elements {
            for k in 0..n {
                let numeric = central_difference(f, g, opts.eps, |v, s| v[k] += s);
                rep.record(k, analytic[g][k], numeric, opts);
            }
        } else {
            for k in 0..opts.directions {
                let dir: Vec<f64> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
                let norm = dir.iter().map(|d| d * d).sum::<f64>().sqrt();
                let dir: Vec<f64> = dir.iter().map(|d| d / norm).collect();
                let a: f64 = analytic[g].iter().zip(&dir).map(|(a, d)| a * d).sum();
                let numeric = central_difference(f, g, opts.eps, |v, s| {
                    v.iter_mut().zip(&dir).for_each(|(x, d)| *x += s * d)
                });
                rep.record(k, a, numeric, opts);
            }
        }
        groups.push(rep);
    }
    Report { groups }
}

/// `(L(x + eps d) - L(x - eps d)) / 2 eps`, with `shift(values, s)` adding `s * d`; restores the
/// values exactly afterwards (a copy, because `x + e - e` need not be `x` in floating point).
fn central_difference<F: Differentiable + ?Sized>(
    f: &mut F,
    g: usize,
    eps: f64,
    shift: impl Fn(&mut [f64], f64),
) -> f64 {
    let saved = f.values_mut(g).to_vec();
    shift(f.values_mut(g), eps);
    let plus = f.loss();
    f.values_mut(g).copy_from_slice(&saved);
    shift(f.values_mut(g), -eps);
    let minus = f.loss();
    f.values_mut(g).copy_from_slice(&saved);
    (plus - minus) / (2.0 * eps)
}

/// Standard-normal values: random inputs, states and cotangents for checks.
pub fn normal_vec<R: Rng + ?Sized>(n: usize, rng: &mut R) -> Vec<f64> {
    (0..n).map(|_| StandardNormal.sample(rng)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Cubic {
        w: Vec<f64>,
        bias: f64,
    }
    impl Differentiable for Cubic {
        fn groups(&self) -> Vec<String> {
            vec!["w".into()]
        }
        fn values_mut(&mut self, _: usize) -> &mut [f64] {
            &mut self.w
        }
        fn loss(&mut self) -> f64 {
            self.w.iter().map(|w| w * w * w).sum()
        }
        fn gradients(&mut self) -> Vec<Vec<f64>> {
            vec![self.w.iter().map(|w| 3.0 * w * w + self.bias).collect()]
        }
    }

    #[test]
    fn directions_mode_catches_a_wrong_gradient_too() {
        let opts = Options {
            max_elements: 4,
            ..Options::default()
        };
        let w: Vec<f64> = (0..50).map(|i| (i as f64 / 10.0).sin()).collect();
        let good = check(
            &mut Cubic {
                w: w.clone(),
                bias: 0.0,
            },
            &opts,
        );
        assert!(good.passed(), "{good}");
        assert_eq!(good.groups[0].sampling, Sampling::Directions);
        assert_eq!(good.groups[0].checked, opts.directions);
        let bad = check(&mut Cubic { w, bias: 1e-2 }, &opts);
        assert!(!bad.passed());
    }

    #[test]
    fn values_are_restored_exactly() {
        let w = vec![0.1, 0.7, -0.3];
        let mut f = Cubic {
            w: w.clone(),
            bias: 0.0,
        };
        check(&mut f, &Options::default());
        assert_eq!(f.w, w);
    }
}
