//! The numeric derivative of one element (or along one direction) and its own error estimate.
//!
//! Richardson's method on central differences. With `D(h) = (L(x + h) - L(x - h)) / 2h` and a
//! smooth `L`, `D(h) = L' + c2 h^2 + c4 h^4 + O(h^6)`. From `D(h)`, `D(2h)`, `D(4h)`, `D(8h)`
//! (eight losses):
//!
//! - `R1 = (4 D(h) - D(2h)) / 3` and `R2 = (4 D(2h) - D(4h)) / 3` cancel the `h^2` term, so
//!   `R1 = L' - 4 c4 h^4 + ...` and `R2 = L' - 64 c4 h^4 + ...`;
//! - the value reported is the next Romberg level, `R1 + (R1 - R2) / 15` (error `O(h^6)`);
//! - its truncation error is bounded by `|R1 - R2|`, which is 15 times `R1`'s own error and far
//!   above the value's: the estimate errs on the safe side;
//! - rounding: each loss is computed with an error of about `noise_loss` (the caller's model of
//!   `f64` rounding in the loss, see [`Options::noise`](super::Options::noise)); it reaches the
//!   value as at most `1.65 noise_loss / h`, counted here as `2 noise_loss / h`.
//!
//! Smoothness is tested, not assumed: for a smooth `L` the successive differences
//! `a = D(h) - D(2h)`, `b = D(2h) - D(4h)` and `c = D(4h) - D(8h)` are in the ratios `b = 4a`,
//! `c = 4b` (all three are the `h^2` term, up to `O(h^4)`). A difference that straddles a kink (a
//! ReLU changing sides, a `max`) breaks them: a kink at distance `s < h` from `x` gives
//! `b = a / 2`. Each ratio is allowed 10 % (and rounding's share); one kink matches one of them
//! only at isolated distances (`b = 4a` at `s = 16h/9`) and both at none, which is why there are
//! four levels, not three. An element that fails the test is reported as not assessable rather
//! than failed: there the derivative the stencil sees is not the one the analytic gradient
//! computes.

/// A numeric derivative and what it is worth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The numeric derivative.
    pub value: f64,
    /// Its estimated error (truncation and rounding): the tolerance's main part.
    pub error: f64,
    /// Whether the differences behave as a smooth function's do (see the module docs); always
    /// true for plain central differences, which cannot tell.
    pub smooth: bool,
}

/// A power of two near `eps * max(|v|, 1)`: a step scaled to the value it perturbs, and one that
/// `v + k h` and `v - k h` represent exactly (for `k` a power of two), so the step taken is the step
/// meant.
pub(super) fn relative_step(v: f64, eps: f64) -> f64 {
    let h = eps * v.abs().max(1.0);
    if !h.is_finite() || h <= 0.0 {
        return eps;
    }
    2f64.powi(h.log2().round() as i32)
}

/// Richardson's estimate from `loss_at(s)`, the loss at the value plus `s` (`s` in
/// `{±h, ±2h, ±4h, ±8h}`), and `noise_loss`, the rounding error of one loss.
pub(super) fn richardson(mut loss_at: impl FnMut(f64) -> f64, h: f64, noise_loss: f64) -> Estimate {
    let mut d = |k: f64| (loss_at(k * h) - loss_at(-k * h)) / (2.0 * k * h);
    let (d1, d2, d4, d8) = (d(1.0), d(2.0), d(4.0), d(8.0));
    let r1 = (4.0 * d1 - d2) / 3.0;
    let r2 = (4.0 * d2 - d4) / 3.0;
    let noise = 2.0 * noise_loss / h;
    let (a, b, c) = (d1 - d2, d2 - d4, d4 - d8);
    // `b - 4a = 5 D(2h) - D(4h) - 4 D(h)` carries at most 6.75 noise_loss / h of rounding and
    // `c - 4b` half that; the allowance is 16 noise_loss / h.
    let smooth = (b - 4.0 * a).abs() <= 0.1 * b.abs() + 8.0 * noise
        && (c - 4.0 * b).abs() <= 0.1 * c.abs() + 8.0 * noise;
    Estimate {
        value: r1 + (r1 - r2) / 15.0,
        error: (r1 - r2).abs() + noise,
        smooth,
    }
}

/// `torch.autograd.gradcheck`'s central difference with step `eps`: no error estimate.
pub(super) fn central(mut loss_at: impl FnMut(f64) -> f64, eps: f64) -> Estimate {
    Estimate {
        value: (loss_at(eps) - loss_at(-eps)) / (2.0 * eps),
        error: 0.0,
        smooth: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_powers_of_two_scaled_to_the_value() {
        assert_eq!(relative_step(0.3, 1.0 / 1024.0), 1.0 / 1024.0);
        assert_eq!(relative_step(-8.0, 1.0 / 1024.0), 1.0 / 128.0);
        assert_eq!(relative_step(3.0, 1e-3), 2f64.powi(-8));
        // A NaN value is checked at the unit scale (and fails on its NaN), an infinite one at eps.
        assert_eq!(relative_step(f64::NAN, 1e-3), 2f64.powi(-10));
        assert_eq!(relative_step(f64::INFINITY, 1e-3), 1e-3);
    }

    #[test]
    fn a_smooth_function_is_accurate_and_its_error_bound_holds() {
        let x = 0.7f64;
        let exact = x.exp() * (x.sin() + x.cos());
        for h in [1.0 / 64.0, 1.0 / 1024.0] {
            let est = richardson(|s| (x + s).sin() * (x + s).exp(), h, 1e-16);
            assert!(est.smooth);
            assert!((est.value - exact).abs() <= est.error, "{est:?} vs {exact}");
            // The truncation bound shrinks as h^4 down to rounding's 2e-16 / h.
            assert!(est.error < 1e3 * h.powi(4) + 1e-12, "{h}: {est:?}");
        }
    }

    #[test]
    fn a_kink_inside_the_stencil_is_not_assessable() {
        // relu(x) with h = 1/1024 and the kink at every distance from x up to 8h, the distance
        // 16h/9 (where b = 4a) included.
        let h = 1.0 / 1024.0;
        for s in (1..800)
            .map(|k| k as f64 * h / 100.0)
            .chain([16.0 * h / 9.0])
        {
            let est = richardson(|t| (s + t).max(0.0), h, 1e-16);
            assert!(!est.smooth, "kink at {s}: {est:?}");
        }
        // Far from the kink it is exact.
        let far = richardson(|s| (0.5 + s).max(0.0), 1.0 / 1024.0, 1e-16);
        assert!(far.smooth && (far.value - 1.0).abs() < 1e-12, "{far:?}");
    }
}
