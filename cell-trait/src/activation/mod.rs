//! Gate activations over slices: the logistic sigmoid and tanh, vectorised for `f32` and `f64`.
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
//! | [`sigmoid_pair`] | `sigmoid(x[i])` and `sigmoid(-x[i])` from one `exp` (a gate and its complement) |
//! | [`sigmoid_f32`], [`tanh_f32`], [`sigmoid_f64`], [`tanh_f64`] | the element kernels, one value |
//!
//! # The kernels
//!
//! Both precisions use the same branch-free construction, which LLVM vectorises (no lookup
//! tables, no `mul_add`, which would be a libm call without FMA, no intrinsics):
//!
//! - `exp(a)` for `a <= 0` by Cody–Waite range reduction to `[-ln2/2, ln2/2]`, a polynomial,
//!   and `2^n` built from the bits of a rounded float. `f32` uses Cephes' `expf` polynomial;
//!   `f64` the Taylor series to `r^13` (its truncation error is below `5e-18`).
//! - `sigmoid(x)` as `1/(1+e)` or `e/(1+e)` with `e = exp(-|x|)` (never overflows).
//! - `tanh(x)` as Cephes' odd approximation for `|x| < 0.625` (a polynomial in `f32`, the
//!   Cody–Waite rational `x + x^3 P(x^2)/Q(x^2)` of Cephes `tanh.c` in `f64`) and `1 - 2e/(1+e)`
//!   with `e = exp(-2|x|)` beyond, the sign copied from `x`. This form rounds to exactly 1 where a
//!   correctly rounded tanh does (`|x| = 9.01` in `f32`); `(1-e)/(1+e)` did so from 8.665 in
//!   `f32`, passing a zero gradient where PyTorch passes a small one.
//!
//! Any other [`Real`] gets the scalar functions, [`Real::sigmoid`] and
//! [`num_traits::Float::tanh`].
//!
//! `f64` was the exact libm functions until the gradient checker ran thousands of unrolls in
//! `f64`, where scalar `exp` and `tanh` were half its time (and 17% of an `f64` LSTM's training
//! step). PyTorch's own CPU kernels use vectorised approximations too (Sleef, about 1 ulp). Two
//! ulps leave every `f64` use intact: PyTorch parity holds at `1e-10`, and the gradient checker's
//! finite differences see the kernel as a smooth function (its rounding noise, `1e-16`, is what
//! libm's was).
//!
//! On x86-64 the loops are compiled three times, for the baseline (SSE2), AVX2 and AVX-512F, and
//! the widest copy the processor has is chosen at run time (AVX-512 against AVX2, one core, `f32`:
//! sigmoid of a sum 0.68 -> 0.41 ns per element, tanh of a sum 1.06 -> 0.59). Every copy performs
//! the same IEEE operations in the same order (Rust never contracts `a * b + c` into an FMA), so
//! the results are bit-identical whichever runs; a unit test checks this.
//!
//! # Accuracy
//!
//! `f32`, measured against the `f64` functions over **every** finite `f32` (the ignored test
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
//! `f64`, measured against glibc's `tanh` and the libm-based [`Real::sigmoid`] over a dense sweep
//! of `[-40, 40]`, finer ones around 0 and 0.625 and 2^20 bit patterns of every magnitude (the
//! unit tests `f64_*_within_3_ulps_everywhere`): at most **2 ulps** for both (sigmoid counted for
//! `x >= -708`), the largest absolute error `2.2e-16`.
//!
//! Special values: `sigmoid(+inf) = 1`; `sigmoid(x)` for `x <= -87` is `1.6e-38` in `f32` (the
//! true value is smaller still; the absolute error is below that), and 0 for `x < -708` in `f64`
//! (where libm's is below `3.3e-308`: subnormal from -708.4, 0 from -745.1); `tanh(±inf) = ±1`,
//! `tanh(±0) = ±0` (tanh is exactly odd), and NaN in gives NaN out.
//!
//! ```
//! use rnnzoo_cell::activation::{sigmoid_in_place, tanh_of_sum, tanh_f64};
//! let mut x = [0.0f32, 2.0, -2.0];
//! sigmoid_in_place(&mut x);
//! assert!((x[1] - 0.880_797_1).abs() < 2e-7 && (x[0] - 0.5).abs() < 2e-7);
//! let mut out = [0.0f64; 2];
//! tanh_of_sum(&[0.25, 1.0], &[0.25, -1.0], &mut out);
//! assert_eq!(out, [tanh_f64(0.5), 0.0]); // the kernel, element by element
//! assert!((out[0] - 0.5f64.tanh()).abs() <= 2.0 * f64::EPSILON * out[0]);
//! ```

use std::any::TypeId;

use crate::Real;

mod kernel_f32;
mod kernel_f64;
mod slices;
#[cfg(test)]
mod tests;

use slices::{f32_loops, f64_loops};

/// `x[i] = sigmoid(x[i])`, the logistic function `1 / (1 + exp(-x))`.
///
/// Vectorised for `f32` (absolute error below `9e-8`) and `f64` (a few ulps); exact
/// ([`Real::sigmoid`]) for any other [`Real`]. See the [module docs](self).
pub fn sigmoid_in_place<T: Real>(x: &mut [T]) {
    if let Some(x) = cast_mut::<f32, T>(x) {
        return f32_loops::sigmoid_in_place(x);
    }
    if let Some(x) = cast_mut::<f64, T>(x) {
        return f64_loops::sigmoid_in_place(x);
    }
    x.iter_mut().for_each(|v| *v = v.sigmoid());
}

/// `x[i] = tanh(x[i])`.
///
/// Vectorised for `f32` (absolute error below `9e-8`) and `f64` (a few ulps); exact
/// (`Float::tanh`) for any other [`Real`]. See the [module docs](self).
pub fn tanh_in_place<T: Real>(x: &mut [T]) {
    if let Some(x) = cast_mut::<f32, T>(x) {
        return f32_loops::tanh_in_place(x);
    }
    if let Some(x) = cast_mut::<f64, T>(x) {
        return f64_loops::tanh_in_place(x);
    }
    x.iter_mut().for_each(|v| *v = v.tanh());
}

/// `pos[i] = sigmoid(x[i])` and `neg[i] = sigmoid(-x[i]) = 1 - pos[i]`, from one `exp` per
/// value: a gate and its complement (minGRU's `z` and `1 - z`), each bit for bit what
/// [`sigmoid_in_place`] gives for `x` and `-x`, so neither loses precision where the other
/// rounds to 1.
///
/// ```
/// use rnnzoo_cell::activation::{sigmoid_pair, sigmoid_in_place};
/// let x = [-30.0f32, 0.0, 2.0];
/// let (mut pos, mut neg) = ([0.0; 3], [0.0; 3]);
/// sigmoid_pair(&x, &mut pos, &mut neg);
/// let mut minus = x.map(|v| -v);
/// sigmoid_in_place(&mut minus);
/// assert_eq!(neg, minus);
/// assert!(pos[0] > 0.0 && pos[0] < 1e-12 && neg[0] == 1.0);
/// ```
///
/// # Panics
///
/// If the three slices do not have the same length.
pub fn sigmoid_pair<T: Real>(x: &[T], pos: &mut [T], neg: &mut [T]) {
    assert_same_len(x.len(), pos.len(), neg.len());
    if let (Some(x), Some(pos), Some(neg)) = (cast::<f32, T>(x), cast_mut(pos), cast_mut(neg)) {
        return f32_loops::sigmoid_pair(x, pos, neg);
    }
    if let (Some(x), Some(pos), Some(neg)) = (cast::<f64, T>(x), cast_mut(pos), cast_mut(neg)) {
        return f64_loops::sigmoid_pair(x, pos, neg);
    }
    for ((&x, p), n) in x.iter().zip(pos.iter_mut()).zip(neg.iter_mut()) {
        *p = x.sigmoid();
        *n = (-x).sigmoid();
    }
}

/// `out[i] = sigmoid(a[i] + b[i])`: a gate from its input and recurrent pre-activations.
///
/// # Panics
///
/// If the three slices do not have the same length.
pub fn sigmoid_of_sum<T: Real>(a: &[T], b: &[T], out: &mut [T]) {
    assert_same_len(a.len(), b.len(), out.len());
    if let (Some(a), Some(b), Some(out)) = (cast::<f32, T>(a), cast(b), cast_mut(out)) {
        return f32_loops::sigmoid_of_sum(a, b, out);
    }
    if let (Some(a), Some(b), Some(out)) = (cast::<f64, T>(a), cast(b), cast_mut(out)) {
        return f64_loops::sigmoid_of_sum(a, b, out);
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
    if let (Some(a), Some(b), Some(out)) = (cast::<f32, T>(a), cast(b), cast_mut(out)) {
        return f32_loops::tanh_of_sum(a, b, out);
    }
    if let (Some(a), Some(b), Some(out)) = (cast::<f64, T>(a), cast(b), cast_mut(out)) {
        return f64_loops::tanh_of_sum(a, b, out);
    }
    for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
        *o = (a + b).tanh();
    }
}

/// The `f32` sigmoid kernel the slice functions apply, for a single value.
///
/// Absolute error below `9e-8` against the exact function (see the [module docs](self)).
///
/// ```
/// use rnnzoo_cell::activation::sigmoid_f32;
/// assert!((sigmoid_f32(2.0) - 0.880_797_1).abs() < 1e-7);
/// ```
#[inline]
pub fn sigmoid_f32(x: f32) -> f32 {
    kernel_f32::sigmoid(x)
}

/// The `f32` tanh kernel the slice functions apply, for a single value.
///
/// Absolute error below `9e-8` against the exact function (see the [module docs](self)).
///
/// ```
/// use rnnzoo_cell::activation::tanh_f32;
/// assert!((tanh_f32(0.5) - 0.462_117_16).abs() < 1e-7);
/// ```
#[inline]
pub fn tanh_f32(x: f32) -> f32 {
    kernel_f32::tanh(x)
}

/// The `f64` sigmoid kernel the slice functions apply, for a single value.
///
/// Within a few ulps of the exact function (see the [module docs](self)).
///
/// ```
/// use rnnzoo_cell::activation::sigmoid_f64;
/// let exact = 1.0 / (1.0 + (-2.0f64).exp());
/// assert!((sigmoid_f64(2.0) - exact).abs() <= 4.0 * f64::EPSILON * exact);
/// ```
#[inline]
pub fn sigmoid_f64(x: f64) -> f64 {
    kernel_f64::sigmoid(x)
}

/// The `f64` tanh kernel the slice functions apply, for a single value.
///
/// Within a few ulps of the exact function (see the [module docs](self)).
///
/// ```
/// use rnnzoo_cell::activation::tanh_f64;
/// assert!((tanh_f64(0.5) - 0.5f64.tanh()).abs() <= 4.0 * f64::EPSILON * 0.5f64.tanh());
/// ```
#[inline]
pub fn tanh_f64(x: f64) -> f64 {
    kernel_f64::tanh(x)
}

#[inline(always)]
fn assert_same_len(a: usize, b: usize, out: usize) {
    assert!(
        a == out && b == out,
        "activation over slices of different lengths: a {a}, b {b}, out {out}"
    );
}

/// `x` as `&mut [U]` when `T` is `U`.
#[inline(always)]
fn cast_mut<U: 'static, T: 'static>(x: &mut [T]) -> Option<&mut [U]> {
    if TypeId::of::<T>() == TypeId::of::<U>() {
        // SAFETY: `T` is `U` (same type id), so the slice is a slice of `U`.
        Some(unsafe { std::slice::from_raw_parts_mut(x.as_mut_ptr().cast::<U>(), x.len()) })
    } else {
        None
    }
}

/// `x` as `&[U]` when `T` is `U`.
#[inline(always)]
fn cast<U: 'static, T: 'static>(x: &[T]) -> Option<&[U]> {
    if TypeId::of::<T>() == TypeId::of::<U>() {
        // SAFETY: `T` is `U` (same type id), so the slice is a slice of `U`.
        Some(unsafe { std::slice::from_raw_parts(x.as_ptr().cast::<U>(), x.len()) })
    } else {
        None
    }
}
