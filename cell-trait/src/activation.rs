//! Gate activations over slices: the logistic sigmoid and tanh, vectorised for `f32`.
//!
//! The pointwise part of a recurrent step is dominated by its activations: a scalar `tanhf` costs
//! about 23 ns per element and an `expf`-based sigmoid about 4.8 ns on the reference machine (see
//! the design notes), some 15% of PyTorch's whole LSTM forward+backward. Cells therefore write
//! their pre-activations into a contiguous block and call one of these slice functions over it.
//!
//! | function | effect |
//! | --- | --- |
//! | [`sigmoid_in_place`], [`tanh_in_place`] | `x[i] = f(x[i])` |
//! | [`sigmoid_of_sum`], [`tanh_of_sum`] | `out[i] = f(a[i] + b[i])` (the `gi + gh` of a gate) |
//! | [`sigmoid_f32`], [`tanh_f32`] | the `f32` element kernels, for single values |
//!
//! # Per dtype
//!
//! - `f64` (and any other [`Real`]) uses the exact scalar functions: [`Real::sigmoid`] and
//!   [`num_traits::Float::tanh`], so `f64` results are bit for bit those of a plain loop (PyTorch
//!   parity at `1e-10` and the gradient checks are unaffected).
//! - `f32` uses branch-free approximations that LLVM vectorises: `exp` by Cody–Waite range
//!   reduction to `[-ln2/2, ln2/2]`, Cephes' `expf` polynomial and an exponent built from
//!   the bits of a rounded float; `sigmoid(x)` as `1/(1+e)` or `e/(1+e)` with `e = exp(-|x|)`
//!   (never overflows); `tanh(x)` as Cephes' odd polynomial for `|x| < 0.625` and
//!   `1 - 2e/(1+e)` with `e = exp(-2|x|)` beyond, the sign copied from `x` (this form rounds to
//!   exactly 1 from `|x| = 9.01`, where a correctly rounded `tanhf` does; `(1-e)/(1+e)` did so
//!   from 8.665, passing a zero gradient where PyTorch passes a small one). No lookup tables, no
//!   `mul_add` (which would be a libm call without FMA), no intrinsics.
//!
//! On x86-64 the `f32` loops are compiled three times, for the baseline (SSE2), AVX2 and
//! AVX-512F, and the widest copy the processor has is chosen at run time (AVX-512 against AVX2,
//! one core: sigmoid of a sum 0.68 -> 0.41 ns per element, tanh of a sum 1.06 -> 0.59). Every copy
//! performs the same IEEE operations in the same order (Rust never contracts `a * b + c` into an
//! FMA), so the results are bit-identical whichever runs; a unit test checks this.
//!
//! # Accuracy (`f32`)
//!
//! Measured against the `f64` functions over **every** finite `f32` (the ignored test
//! `exhaustive_error_bound`; five minutes with
//! `cargo test -p rnnzoo-cell --release --lib -- --ignored exhaustive --nocapture`):
//!
//! | function | max abs error | where | max error in ulps of the exact result |
//! | --- | --- | --- | --- |
//! | sigmoid | `8.93e-8` | `x = 7.86` | 2.40 (at `x = -4.16`; counted for `x >= -87`) |
//! | tanh | `8.99e-8` | `x = 1.248` | 1.51 |
//!
//! For scale, rounding the exact result to `f32` alone costs up to `3e-8` (0.5 ulp) near 1. The
//! unit tests check a dense sweep of `[-20, 20]` plus every 1021st bit pattern against tighter
//! limits than the `2e-7` design target (`1e-7`; 3 and 2 ulps).
//!
//! Special values: `sigmoid(+inf) = 1`, `sigmoid(x) = 1.6e-38` for `x <= -87` (the true value is
//! smaller still; the absolute error is below `2e-38`), `tanh(±inf) = ±1`, `tanh(±0) = ±0` (tanh
//! is exactly odd), and NaN in gives NaN out.
//!
//! ```
//! use rnnzoo_cell::activation::{sigmoid_in_place, tanh_of_sum};
//! let mut x = [0.0f32, 2.0, -2.0];
//! sigmoid_in_place(&mut x);
//! assert!((x[1] - 0.880_797_1).abs() < 2e-7 && (x[0] - 0.5).abs() < 2e-7);
//! let mut out = [0.0f64; 2];
//! tanh_of_sum(&[0.25, 1.0], &[0.25, -1.0], &mut out);
//! assert_eq!(out, [0.5f64.tanh(), 0.0]); // f64: exact std functions
//! ```

use std::any::TypeId;

use crate::Real;

/// `x[i] = sigmoid(x[i])`, the logistic function `1 / (1 + exp(-x))`.
///
/// Exact ([`Real::sigmoid`]) for `f64`; vectorised with an absolute error below `9e-8` for `f32`
/// (see the [module docs](self)).
pub fn sigmoid_in_place<T: Real>(x: &mut [T]) {
    match as_f32_mut(x) {
        Some(x) => f32_slices::sigmoid_in_place(x),
        None => x.iter_mut().for_each(|v| *v = v.sigmoid()),
    }
}

/// `x[i] = tanh(x[i])`.
///
/// Exact (`Float::tanh`) for `f64`; vectorised with an absolute error below `9e-8` for `f32` (see
/// the [module docs](self)).
pub fn tanh_in_place<T: Real>(x: &mut [T]) {
    match as_f32_mut(x) {
        Some(x) => f32_slices::tanh_in_place(x),
        None => x.iter_mut().for_each(|v| *v = v.tanh()),
    }
}

/// `out[i] = sigmoid(a[i] + b[i])`: a gate from its input and recurrent pre-activations.
///
/// # Panics
///
/// If the three slices do not have the same length.
pub fn sigmoid_of_sum<T: Real>(a: &[T], b: &[T], out: &mut [T]) {
    assert_same_len(a.len(), b.len(), out.len());
    if let (Some(a), Some(b), Some(out)) = (as_f32(a), as_f32(b), as_f32_mut(out)) {
        return f32_slices::sigmoid_of_sum(a, b, out);
    }
    for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
        *o = (a + b).sigmoid();
    }
}

/// `out[i] = tanh(a[i] + b[i])`.
///
/// # Panics
///
/// If the three slices do not have the same length.
pub fn tanh_of_sum<T: Real>(a: &[T], b: &[T], out: &mut [T]) {
    assert_same_len(a.len(), b.len(), out.len());
    if let (Some(a), Some(b), Some(out)) = (as_f32(a), as_f32(b), as_f32_mut(out)) {
        return f32_slices::tanh_of_sum(a, b, out);
    }
    for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
        *o = (a + b).tanh();
    }
}

/// The `f32` sigmoid kernel the slice functions apply, for a single value.
///
/// Absolute error below `9e-8` against the exact function (see the [module docs](self)).
#[inline]
pub fn sigmoid_f32(x: f32) -> f32 {
    kernel::sigmoid(x)
}

/// The `f32` tanh kernel the slice functions apply, for a single value.
///
/// Absolute error below `9e-8` against the exact function (see the [module docs](self)).
#[inline]
pub fn tanh_f32(x: f32) -> f32 {
    kernel::tanh(x)
}

#[inline(always)]
fn assert_same_len(a: usize, b: usize, out: usize) {
    assert!(
        a == out && b == out,
        "activation over slices of different lengths: a {a}, b {b}, out {out}"
    );
}

/// `x` as `&mut [f32]` when `T` is `f32`.
#[inline(always)]
fn as_f32_mut<T: 'static>(x: &mut [T]) -> Option<&mut [f32]> {
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        // SAFETY: `T` is `f32` (same type id), so the slice is a slice of `f32`.
        Some(unsafe { std::slice::from_raw_parts_mut(x.as_mut_ptr().cast::<f32>(), x.len()) })
    } else {
        None
    }
}

/// `x` as `&[f32]` when `T` is `f32`.
#[inline(always)]
fn as_f32<T: 'static>(x: &[T]) -> Option<&[f32]> {
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        // SAFETY: `T` is `f32` (same type id), so the slice is a slice of `f32`.
        Some(unsafe { std::slice::from_raw_parts(x.as_ptr().cast::<f32>(), x.len()) })
    } else {
        None
    }
}

/// The branch-free `f32` element kernels. Everything is `#[inline(always)]` so that the slice loops
/// (and their AVX2 copies) see straight-line code to vectorise.
mod kernel {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    /// `ln 2` split for Cody–Waite reduction: `LN2_HI` has 9 significant bits, so `n * LN2_HI` is
    /// exact for the `|n| <= 126` that occur.
    const LN2_HI: f32 = 355.0 / 512.0;
    const LN2_LO: f32 = -2.121_944_4e-4;
    /// `1.5 * 2^23 + 127`: adding it rounds to an integer and leaves `n + 127` (the biased
    /// exponent of `2^n`) in the low mantissa bits.
    const ROUND: f32 = 12_583_039.0;
    /// Below this `exp` is clamped, so `2^n` stays a normal number (`exp(-87) = 1.6e-38`).
    const EXP_MIN: f32 = -87.0;
    const SIGN: u32 = 0x8000_0000;

    /// `e^a` for `a <= 0` (or NaN, which propagates), relative error about 1 ulp; `a < -87` gives
    /// `e^-87`.
    #[inline(always)]
    pub(super) fn exp_nonpos(a: f32) -> f32 {
        // A comparison, not `max`, so that NaN passes through.
        let a = if a < EXP_MIN { EXP_MIN } else { a };
        let t = a * LOG2E + ROUND;
        let n = t - ROUND; // round(a / ln 2), exactly
        let r = a - n * LN2_HI - n * LN2_LO; // |r| <= ln2 / 2
        // The low 9 bits of t's representation are n + 127, in 1..=127 here: shift them into the
        // exponent field to make 2^n.
        let pow2n = f32::from_bits(t.to_bits() << 23);
        // Cephes expf: e^r = 1 + r + r^2 P(r).
        let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2)
            * r
            + 1.666_666_6e-1)
            * r
            + 0.5;
        let er = p * (r * r) + r + 1.0;
        er * pow2n
    }

    #[inline(always)]
    pub(super) fn sigmoid(x: f32) -> f32 {
        let e = exp_nonpos(-x.abs());
        let d = 1.0 + e;
        // sigmoid(|x|) = 1 / (1 + e); for x < 0, sigmoid(x) = e / (1 + e), both without overflow
        // and with full relative precision. NaN fails `x >= 0` and gives e / d = NaN.
        let num = if x >= 0.0 { 1.0 } else { e };
        num / d
    }

    #[inline(always)]
    pub(super) fn tanh(x: f32) -> f32 {
        // tanh(|x|), then x's sign: exactly odd, and tanh(-0) = -0.
        let ax = x.abs();
        // |x| >= 0.625: 1 - 2e / (1 + e) with e = exp(-2|x|) in (0, 0.29]. Not (1 - e) / (1 + e):
        // that rounds 1 - e to 1 once e < 2^-25 (|x| >= 8.665), where the true tanh is still
        // 1 - 2^-24 until 2e < 2^-25 (|x| >= 9.01), so units in between would pass a zero
        // gradient where PyTorch passes a small one. This form saturates where a correctly
        // rounded tanhf does, at one multiply more.
        let e = exp_nonpos(-2.0 * ax);
        let big = 1.0 - (e + e) / (1.0 + e);
        // |x| < 0.625: Cephes tanhf, |x| + |x|^3 P(x^2).
        let z = ax * ax;
        let p = (((-5.704_988_7e-3 * z + 2.063_908_8e-2) * z - 5.373_971_5e-2) * z
            + 1.333_144_2e-1)
            * z
            - 3.333_328e-1;
        let small = p * z * ax + ax;
        // NaN fails the comparison and takes `big`, which is NaN.
        let t = if ax < 0.625 { small } else { big };
        f32::from_bits(t.to_bits() | (x.to_bits() & SIGN))
    }
}

/// The `f32` slice loops, with run-time selection of an AVX2 or AVX-512 copy on x86-64.
mod f32_slices {
    use super::kernel;

    /// Defines `$name` (dispatching) over a loop body `$body` written once.
    macro_rules! dispatched {
        ($name:ident, $portable:ident, $avx2:ident, $avx512:ident,
         ($($arg:ident: $ty:ty),*), $body:block) => {
            #[inline(always)]
            fn $portable($($arg: $ty),*) $body

            /// # Safety
            ///
            /// The processor must support AVX2.
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            unsafe fn $avx2($($arg: $ty),*) $body

            /// # Safety
            ///
            /// The processor must support AVX-512F.
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f")]
            unsafe fn $avx512($($arg: $ty),*) $body

            pub(super) fn $name($($arg: $ty),*) {
                #[cfg(target_arch = "x86_64")]
                {
                    use crate::simd::{level, Level};
                    match level() {
                        // SAFETY: `level` never exceeds what the processor has.
                        Level::Avx512 => return unsafe { $avx512($($arg),*) },
                        // SAFETY: as above.
                        Level::Avx2 => return unsafe { $avx2($($arg),*) },
                        Level::Baseline => {}
                    }
                }
                $portable($($arg),*)
            }
        };
    }

    dispatched!(
        sigmoid_in_place, sigmoid_in_place_portable, sigmoid_in_place_avx2, sigmoid_in_place_avx512,
        (x: &mut [f32]), {
        for v in x.iter_mut() {
            *v = kernel::sigmoid(*v);
        }
    });

    dispatched!(
        tanh_in_place, tanh_in_place_portable, tanh_in_place_avx2, tanh_in_place_avx512,
        (x: &mut [f32]), {
        for v in x.iter_mut() {
            *v = kernel::tanh(*v);
        }
    });

    dispatched!(
        sigmoid_of_sum, sigmoid_of_sum_portable, sigmoid_of_sum_avx2, sigmoid_of_sum_avx512,
        (a: &[f32], b: &[f32], out: &mut [f32]), {
        for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
            *o = kernel::sigmoid(a + b);
        }
    });

    dispatched!(
        tanh_of_sum, tanh_of_sum_portable, tanh_of_sum_avx2, tanh_of_sum_avx512,
        (a: &[f32], b: &[f32], out: &mut [f32]), {
        for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
            *o = kernel::tanh(a + b);
        }
    });

    /// A slice function: one of the copies below.
    #[cfg(test)]
    pub(super) type SliceFn = fn(&mut [f32]);

    /// The copies of `sigmoid_in_place` and `tanh_in_place` this processor can run, by name, for
    /// the bit-identity test.
    #[cfg(test)]
    pub(super) fn copies() -> Vec<(&'static str, SliceFn, SliceFn)> {
        let mut all: Vec<(&'static str, SliceFn, SliceFn)> = vec![(
            "baseline",
            sigmoid_in_place_portable,
            tanh_in_place_portable,
        )];
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY (both): AVX2 was just detected.
                all.push((
                    "avx2",
                    |x| unsafe { sigmoid_in_place_avx2(x) },
                    |x| unsafe { tanh_in_place_avx2(x) },
                ));
            }
            if std::is_x86_feature_detected!("avx512f") {
                // SAFETY (both): AVX-512F was just detected.
                all.push((
                    "avx512",
                    |x| unsafe { sigmoid_in_place_avx512(x) },
                    |x| unsafe { tanh_in_place_avx512(x) },
                ));
            }
        }
        all
    }

    /// A sum slice function: one of the copies below.
    #[cfg(test)]
    pub(super) type SumFn = fn(&[f32], &[f32], &mut [f32]);

    /// The copies of `sigmoid_of_sum` and `tanh_of_sum` this processor can run, by name.
    #[cfg(test)]
    pub(super) fn sum_copies() -> Vec<(&'static str, SumFn, SumFn)> {
        let mut all: Vec<(&'static str, SumFn, SumFn)> =
            vec![("baseline", sigmoid_of_sum_portable, tanh_of_sum_portable)];
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY (both): AVX2 was just detected.
                all.push((
                    "avx2",
                    |a, b, o| unsafe { sigmoid_of_sum_avx2(a, b, o) },
                    |a, b, o| unsafe { tanh_of_sum_avx2(a, b, o) },
                ));
            }
            if std::is_x86_feature_detected!("avx512f") {
                // SAFETY (both): AVX-512F was just detected.
                all.push((
                    "avx512",
                    |a, b, o| unsafe { sigmoid_of_sum_avx512(a, b, o) },
                    |a, b, o| unsafe { tanh_of_sum_avx512(a, b, o) },
                ));
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact_sigmoid(x: f32) -> f64 {
        (x as f64).sigmoid()
    }

    fn exact_tanh(x: f32) -> f64 {
        (x as f64).tanh()
    }

    /// The spacing of `f32`s at `v`'s magnitude (the ulp of the correctly rounded result).
    fn ulp(v: f64) -> f64 {
        let f = (v as f32).abs().max(f32::MIN_POSITIVE);
        (f32::from_bits(f.to_bits() + 1) - f) as f64
    }

    /// Worst absolute and ulp errors of `approx` against `exact` over `xs`, and where.
    #[derive(Debug, Default)]
    struct Worst {
        abs: f64,
        abs_at: f32,
        ulps: f64,
        ulps_at: f32,
    }

    fn worst(
        xs: impl Iterator<Item = f32>,
        approx: fn(f32) -> f32,
        exact: fn(f32) -> f64,
        ulp_from: f32,
    ) -> Worst {
        let mut w = Worst::default();
        for x in xs {
            let (a, e) = (approx(x) as f64, exact(x));
            let err = (a - e).abs();
            if err > w.abs {
                (w.abs, w.abs_at) = (err, x);
            }
            let u = err / ulp(e);
            if x >= ulp_from && u > w.ulps {
                (w.ulps, w.ulps_at) = (u, x);
            }
        }
        w
    }

    /// A dense linear sweep of [-20, 20] and every 1021st bit pattern (all magnitudes, both signs).
    fn sweep() -> impl Iterator<Item = f32> {
        let dense = (-200_000..=200_000).map(|k| k as f32 * 1e-4);
        let patterns = (0..=u32::MAX / 1021)
            .map(|k| f32::from_bits(k * 1021))
            .filter(|x| x.is_finite());
        dense.chain(patterns)
    }

    #[test]
    fn f32_sigmoid_is_within_1e_7_everywhere() {
        let w = worst(sweep(), sigmoid_f32, exact_sigmoid, -87.0);
        assert!(w.abs <= 1e-7, "{w:?}");
        assert!(w.ulps <= 3.0, "{w:?}");
    }

    #[test]
    fn f32_tanh_is_within_1e_7_everywhere() {
        let w = worst(sweep(), tanh_f32, exact_tanh, f32::NEG_INFINITY);
        assert!(w.abs <= 1e-7, "{w:?}");
        assert!(w.ulps <= 2.0, "{w:?}");
    }

    /// tanh saturates to exactly 1 where a correctly rounded `tanhf` (and PyTorch) does, from
    /// `|x| >= 9.01`, not earlier: every `f32` of `[8, 10]` rounds to 1 here exactly when the
    /// exact tanh rounded to `f32` does, and the gradient `1 - tanh^2` is not zero below it.
    #[test]
    fn f32_tanh_saturates_where_a_correctly_rounded_tanh_does() {
        let (lo, hi) = (8.0f32.to_bits(), 10.0f32.to_bits());
        let mut first_one = None;
        for bits in lo..=hi {
            let x = f32::from_bits(bits);
            let rounded = exact_tanh(x) as f32;
            assert_eq!(tanh_f32(x) == 1.0, rounded == 1.0, "x = {x}");
            assert_eq!(tanh_f32(-x) == -1.0, rounded == 1.0, "x = -{x}");
            if rounded == 1.0 && first_one.is_none() {
                first_one = Some(x);
            }
        }
        let x1 = first_one.unwrap();
        assert!((9.0..9.02).contains(&x1), "saturation at {x1}");
        let below = f32::from_bits(x1.to_bits() - 1);
        let t = tanh_f32(below);
        assert!(1.0 - t * t > 0.0, "zero gradient at {below}");
        let mut v = [below; 17];
        tanh_in_place(&mut v); // the vectorised loop, as the cells call it
        assert!(v.iter().all(|&t| t < 1.0));
    }

    /// Every finite `f32`; prints the bounds quoted in the module docs. About five minutes optimised:
    /// `cargo test -p rnnzoo-cell --release --lib -- --ignored exhaustive --nocapture`.
    #[test]
    #[ignore = "exhaustive over 2^32 inputs; run by hand to re-measure the documented bounds"]
    fn exhaustive_error_bound() {
        let all = || (0..=u32::MAX).map(f32::from_bits).filter(|x| x.is_finite());
        let s = worst(all(), sigmoid_f32, exact_sigmoid, -87.0);
        let t = worst(all(), tanh_f32, exact_tanh, f32::NEG_INFINITY);
        println!("sigmoid {s:?}\ntanh {t:?}");
        assert!(s.abs <= 1e-7 && t.abs <= 1e-7, "{s:?} {t:?}");
    }

    #[test]
    fn special_values() {
        assert_eq!(sigmoid_f32(f32::INFINITY), 1.0);
        assert!(sigmoid_f32(f32::NEG_INFINITY) < 2e-38);
        assert!(sigmoid_f32(f32::NEG_INFINITY) >= 0.0);
        assert_eq!(sigmoid_f32(f32::MAX), 1.0);
        assert!(sigmoid_f32(f32::MIN) < 2e-38);
        assert_eq!(sigmoid_f32(0.0), 0.5);
        assert_eq!(sigmoid_f32(-0.0), 0.5);
        assert_eq!(sigmoid_f32(100.0), 1.0);
        assert_eq!(tanh_f32(f32::INFINITY), 1.0);
        assert_eq!(tanh_f32(f32::NEG_INFINITY), -1.0);
        assert_eq!(tanh_f32(f32::MAX), 1.0);
        assert_eq!(tanh_f32(f32::MIN), -1.0);
        assert_eq!(tanh_f32(0.0).to_bits(), 0.0f32.to_bits());
        assert_eq!(tanh_f32(-0.0).to_bits(), (-0.0f32).to_bits());
        let tiny = f32::from_bits(1); // the smallest subnormal
        assert_eq!(tanh_f32(tiny), tiny);
        assert_eq!(tanh_f32(1e-20), 1e-20);
        assert_eq!(sigmoid_f32(tiny), 0.5);
        for nan in [f32::NAN, -f32::NAN, f32::from_bits(0x7fc0_1234)] {
            assert!(sigmoid_f32(nan).is_nan());
            assert!(tanh_f32(nan).is_nan());
        }
        // Odd and symmetric, as the exact functions are.
        for k in 0..10_000 {
            let x = k as f32 * 1.3e-3;
            assert_eq!(tanh_f32(-x), -tanh_f32(x), "{x}");
            let s = sigmoid_f32(x) as f64 + sigmoid_f32(-x) as f64;
            assert!((s - 1.0).abs() <= 1.2e-7, "{x}: {s}");
        }
    }

    #[test]
    fn slices_apply_the_kernels_to_f32_and_the_exact_functions_to_f64() {
        // Odd lengths exercise the vector loops' remainders.
        for n in [0, 1, 7, 8, 9, 33, 1000] {
            let a: Vec<f32> = (0..n).map(|k| (k as f32 * 0.37).sin() * 9.0).collect();
            let b: Vec<f32> = (0..n).map(|k| (k as f32 * 0.11).cos() * 3.0).collect();
            let mut s = a.clone();
            sigmoid_in_place(&mut s);
            let mut t = a.clone();
            tanh_in_place(&mut t);
            let (mut ss, mut ts) = (vec![0.0; n], vec![0.0; n]);
            sigmoid_of_sum(&a, &b, &mut ss);
            tanh_of_sum(&a, &b, &mut ts);
            for k in 0..n {
                assert_eq!(s[k].to_bits(), sigmoid_f32(a[k]).to_bits());
                assert_eq!(t[k].to_bits(), tanh_f32(a[k]).to_bits());
                assert_eq!(ss[k].to_bits(), sigmoid_f32(a[k] + b[k]).to_bits());
                assert_eq!(ts[k].to_bits(), tanh_f32(a[k] + b[k]).to_bits());
            }

            let a: Vec<f64> = a.iter().map(|&v| v as f64 + 1e-9).collect();
            let b: Vec<f64> = b.iter().map(|&v| v as f64).collect();
            let mut s = a.clone();
            sigmoid_in_place(&mut s);
            let mut t = a.clone();
            tanh_in_place(&mut t);
            let (mut ss, mut ts) = (vec![0.0; n], vec![0.0; n]);
            sigmoid_of_sum(&a, &b, &mut ss);
            tanh_of_sum(&a, &b, &mut ts);
            for k in 0..n {
                assert_eq!(s[k], a[k].sigmoid());
                assert_eq!(t[k], a[k].tanh());
                assert_eq!(ss[k], (a[k] + b[k]).sigmoid());
                assert_eq!(ts[k], (a[k] + b[k]).tanh());
            }
        }
    }

    #[test]
    fn every_copy_agrees_with_the_baseline_bit_for_bit() {
        let xs: Vec<f32> = sweep().step_by(7).collect();
        let copies = f32_slices::copies();
        let (_, sigmoid0, tanh0) = copies[0];
        let (mut s0, mut t0) = (xs.clone(), xs.clone());
        sigmoid0(&mut s0);
        tanh0(&mut t0);
        for (name, sigmoid, tanh) in copies {
            let (mut s, mut t) = (xs.clone(), xs.clone());
            sigmoid(&mut s);
            tanh(&mut t);
            for k in 0..xs.len() {
                assert_eq!(
                    s[k].to_bits(),
                    s0[k].to_bits(),
                    "{name}: sigmoid({})",
                    xs[k]
                );
                assert_eq!(t[k].to_bits(), t0[k].to_bits(), "{name}: tanh({})", xs[k]);
            }
        }
        // The sums of two slices, likewise.
        // x + (-0.0) is x exactly, even for x = -0.0.
        let zeros = vec![-0.0f32; xs.len()];
        let sums = f32_slices::sum_copies();
        for (name, sigmoid, tanh) in sums {
            let (mut s, mut t) = (zeros.clone(), zeros.clone());
            sigmoid(&xs, &zeros, &mut s);
            tanh(&zeros, &xs, &mut t);
            for k in 0..xs.len() {
                assert_eq!(
                    s[k].to_bits(),
                    s0[k].to_bits(),
                    "{name}: sigmoid_of_sum({})",
                    xs[k]
                );
                assert_eq!(
                    t[k].to_bits(),
                    t0[k].to_bits(),
                    "{name}: tanh_of_sum({})",
                    xs[k]
                );
            }
        }
        // And the dispatching entry points run one of them.
        let (mut s, mut t) = (xs.clone(), xs.clone());
        sigmoid_in_place(&mut s);
        tanh_in_place(&mut t);
        assert!(s.iter().zip(&s0).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(t.iter().zip(&t0).all(|(a, b)| a.to_bits() == b.to_bits()));
    }

    #[test]
    #[should_panic(expected = "different lengths")]
    fn mismatched_lengths_panic() {
        sigmoid_of_sum(&[0.0f32; 3], &[0.0; 3], &mut [0.0; 2]);
    }
}
