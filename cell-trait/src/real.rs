//! The scalar types rnnzoo computes in.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

use num_traits::{Float, FromPrimitive};

/// A real number rnnzoo can compute in: `f32` for speed, `f64` for gradient checks.
///
/// Everything in rnnzoo is generic over `Real`. The trait adds what the recurrent kernels need on
/// top of [`num_traits::Float`]: conversion from and to `f64` (for initialisers, tolerances and
/// reports), the logistic sigmoid, and the dtype's GEMM kernels (see [`crate::gemm`]).
///
/// It is implemented for `f32` and `f64` only; the GEMM kernels are why it is sealed in practice
/// (`gemm_kernel` is `unsafe` and must be a correct strided GEMM).
///
/// ```
/// use rnnzoo_cell::Real;
/// fn logistic<T: Real>(x: T) -> T { x.sigmoid() }
/// assert_eq!(logistic(0.0f32), 0.5);
/// assert_eq!(f64::from_f64_lossy(0.25), 0.25);
/// assert_eq!(f32::NAME, "f32");
/// ```
pub trait Real:
    Float
    + FromPrimitive
    + Default
    + Debug
    + Display
    + Sum
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Send
    + Sync
    + 'static
{
    /// The dtype's name as safetensors and PyTorch spell it in lower case: `"f32"` or `"f64"`.
    const NAME: &'static str;

    /// Converts from `f64`, rounding to the nearest representable value.
    fn from_f64_lossy(v: f64) -> Self;

    /// Converts to `f64` (exact for both implementations).
    fn to_f64_lossless(self) -> f64;

    /// The logistic function `1 / (1 + exp(-x))`, computed so that it neither overflows nor loses
    /// precision for large `|x|`.
    #[inline]
    fn sigmoid(self) -> Self {
        // For negative x, exp(-x) overflows; the algebraically equal exp(x)/(1+exp(x)) does not.
        if self >= Self::zero() {
            Self::one() / (Self::one() + (-self).exp())
        } else {
            let e = self.exp();
            e / (Self::one() + e)
        }
    }

    /// `C = alpha * A * B + beta * C` on raw strided storage, through matrixmultiply
    /// (single-threaded).
    ///
    /// `A` is `m x k`, `B` is `k x n`, `C` is `m x n`; element `(i, j)` of a matrix `X` lives at
    /// `x.offset(i * rs + j * cs)`. When `beta` is zero, `C` is not read (so it may hold anything,
    /// NaN included).
    ///
    /// # Safety
    ///
    /// Every element addressed by the dimensions and strides must be inside its allocation, and `C`
    /// must not overlap `A` or `B`. [`crate::gemm::gemm`] is the safe, checked entry point.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm_kernel(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    );

    /// The same product through the `gemm` crate, split over `threads` threads of the current
    /// rayon pool when `threads > 1`. Same contract as [`gemm_kernel`](Real::gemm_kernel).
    ///
    /// The default falls back to [`gemm_kernel`](Real::gemm_kernel), single-threaded; `f32` and
    /// `f64` override it. [`crate::gemm::Backend`] says when each kernel runs.
    ///
    /// # Safety
    ///
    /// As [`gemm_kernel`](Real::gemm_kernel).
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm_crate_kernel(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
        threads: usize,
    ) {
        let _ = threads;
        // SAFETY: the caller upholds the shared contract.
        unsafe { Self::gemm_kernel(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc) }
    }
}

/// `C = alpha A B + beta C` through the `gemm` crate, whose own argument order is
/// `dst = alpha' dst + beta' lhs rhs` with strides given column first.
///
/// # Safety
///
/// As [`Real::gemm_kernel`]; `T` must be a type the `gemm` crate implements (f32, f64).
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_crate<T: 'static + Copy + PartialEq + Default>(
    m: usize,
    k: usize,
    n: usize,
    alpha: T,
    a: *const T,
    rsa: isize,
    csa: isize,
    b: *const T,
    rsb: isize,
    csb: isize,
    beta: T,
    c: *mut T,
    rsc: isize,
    csc: isize,
    threads: usize,
) {
    let par = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // With beta = 0, C is not read (it may hold NaN), as matrixmultiply's contract says.
    let read_dst = beta != T::default();
    // SAFETY: the caller guarantees the extents and that C does not overlap A or B.
    unsafe {
        gemm::gemm(
            m, n, k, c, csc, rsc, read_dst, a, csa, rsa, b, csb, rsb, beta, alpha, false, false,
            false, par,
        )
    }
}

impl Real for f32 {
    const NAME: &'static str = "f32";

    #[inline]
    fn from_f64_lossy(v: f64) -> Self {
        v as f32
    }

    #[inline]
    fn to_f64_lossless(self) -> f64 {
        self as f64
    }

    unsafe fn gemm_kernel(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    ) {
        // SAFETY: the caller upholds matrixmultiply's contract, which is ours word for word.
        unsafe {
            matrixmultiply::sgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
        }
    }

    unsafe fn gemm_crate_kernel(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
        threads: usize,
    ) {
        // SAFETY: the caller upholds the shared contract; the gemm crate implements this type.
        unsafe {
            gemm_crate(
                m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc, threads,
            )
        }
    }
}

impl Real for f64 {
    const NAME: &'static str = "f64";

    #[inline]
    fn from_f64_lossy(v: f64) -> Self {
        v
    }

    #[inline]
    fn to_f64_lossless(self) -> f64 {
        self
    }

    unsafe fn gemm_kernel(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    ) {
        // SAFETY: the caller upholds matrixmultiply's contract, which is ours word for word.
        unsafe {
            matrixmultiply::dgemm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc)
        }
    }

    unsafe fn gemm_crate_kernel(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
        threads: usize,
    ) {
        // SAFETY: the caller upholds the shared contract; the gemm crate implements this type.
        unsafe {
            gemm_crate(
                m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc, threads,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_is_stable_at_the_extremes() {
        assert_eq!(1000.0f64.sigmoid(), 1.0);
        assert_eq!((-1000.0f64).sigmoid(), 0.0);
        assert!(((-745.0f64).sigmoid()) >= 0.0);
        assert!((0.3f64.sigmoid() - 1.0 / (1.0 + (-0.3f64).exp())).abs() < 1e-16);
        assert!(((-0.3f32).sigmoid() - 1.0 / (1.0 + 0.3f32.exp())).abs() < 1e-7);
    }
}
