//! The matrix-vector kernel: `y = alpha A x + beta y`, `A` column-major.
//!
//! A column-major `A` (`W_hh` copied, `W_hh^T`): `y` is updated with eight columns of `A` per pass (`y += A[:, j..j+8] x[j..j+8]`): eight
//! contiguous streams through `A`, which the prefetcher follows, no packing and no horizontal
//! sums, and one load and store of `y` per eight multiply-adds. Compiled three times (baseline,
//! AVX2+FMA, AVX-512) and picked at run time; the baseline copy uses separate multiply and add,
//! since `mul_add` without FMA hardware is a slow library call. Measured (f32, one core, from L2):
//! 512 x 128 at 41 GFLOP/s against the `gemm` crate's 27-36 and matrixmultiply's 1.5.

use crate::Real;

/// Whether the kernel takes this layout: a column-major `A` (unit row stride), `y`
/// contiguous. (A row-major `A` goes to the `gemm` crate: a dot-product form measured 11-25
/// GFLOP/s here against its 27-41.)
pub(super) fn fits(a: (usize, usize), _x_rs: usize, c_rs: usize) -> bool {
    a.0 == 1 && c_rs == 1
}

/// `y = alpha A x + beta y` for `A` `m x k` with strides `a_strides` (one of them 1), `x`
/// with stride `incx` (`y` is not read when `beta` is zero).
#[allow(clippy::too_many_arguments)]
pub(super) fn gemv<T: Real>(
    m: usize,
    k: usize,
    alpha: T,
    a: &[T],
    a_strides: (usize, usize),
    x: &[T],
    incx: usize,
    beta: T,
    y: &mut [T],
) {
    let y = &mut y[..m];
    #[cfg(target_arch = "x86_64")]
    {
        use crate::simd::{Level, level};
        match level() {
            // SAFETY: `level` never exceeds what the processor has (AVX-512F, and so AVX2 and
            // FMA).
            Level::Avx512 => return unsafe { avx512(m, k, alpha, a, a_strides, x, incx, beta, y) },
            // SAFETY: as above (AVX2 and FMA).
            Level::Avx2 => return unsafe { avx2(m, k, alpha, a, a_strides, x, incx, beta, y) },
            Level::Baseline => {}
        }
    }
    body::<T, false>(m, k, alpha, a, a_strides, x, incx, beta, y)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn avx512<T: Real>(
    m: usize,
    k: usize,
    alpha: T,
    a: &[T],
    a_strides: (usize, usize),
    x: &[T],
    incx: usize,
    beta: T,
    y: &mut [T],
) {
    body::<T, true>(m, k, alpha, a, a_strides, x, incx, beta, y)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn avx2<T: Real>(
    m: usize,
    k: usize,
    alpha: T,
    a: &[T],
    a_strides: (usize, usize),
    x: &[T],
    incx: usize,
    beta: T,
    y: &mut [T],
) {
    body::<T, true>(m, k, alpha, a, a_strides, x, incx, beta, y)
}

/// Columns of `A` per pass over `y`.
const COLS: usize = 8;

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn body<T: Real, const FMA: bool>(
    m: usize,
    k: usize,
    alpha: T,
    a: &[T],
    a_strides: (usize, usize),
    x: &[T],
    incx: usize,
    beta: T,
    y: &mut [T],
) {
    debug_assert_eq!(a_strides.0, 1, "gemv::fits admits column-major A only");
    columns::<T, FMA>(m, k, alpha, a, a_strides.1, x, incx, beta, y)
}

/// Column-major `A`: `y += A[:, j..j+8] x[j..j+8]`, pass after pass.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn columns<T: Real, const FMA: bool>(
    m: usize,
    k: usize,
    alpha: T,
    a: &[T],
    lda: usize,
    x: &[T],
    incx: usize,
    beta: T,
    y: &mut [T],
) {
    if beta == T::zero() {
        y.fill(T::zero());
    } else if beta != T::one() {
        y.iter_mut().for_each(|v| *v *= beta);
    }
    // Rows per block: 256 bytes, four (AVX-512) or eight (AVX2) independent accumulator
    // chains, so the multiply-add latency is hidden.
    if std::mem::size_of::<T>() == 4 {
        passes::<T, 64, FMA>(m, k, alpha, a, lda, x, incx, y)
    } else {
        passes::<T, 32, FMA>(m, k, alpha, a, lda, x, incx, y)
    }
}

/// `y += alpha A x`, eight columns per pass, `R` rows per block.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn passes<T: Real, const R: usize, const FMA: bool>(
    m: usize,
    k: usize,
    alpha: T,
    a: &[T],
    lda: usize,
    x: &[T],
    incx: usize,
    y: &mut [T],
) {
    let full = m / R * R;
    let mut j = 0;
    while j + COLS <= k {
        let xs: [T; COLS] = std::array::from_fn(|q| alpha * x[(j + q) * incx]);
        let cols: [&[T]; COLS] = std::array::from_fn(|q| &a[(j + q) * lda..][..m]);
        for (b, yb) in y[..full].chunks_exact_mut(R).enumerate() {
            let yb: &mut [T; R] = yb.try_into().expect("R values");
            let mut acc = *yb;
            for q in 0..COLS {
                let c: &[T; R] = cols[q][b * R..][..R].try_into().expect("R values");
                for r in 0..R {
                    acc[r] = madd::<T, FMA>(c[r], xs[q], acc[r]);
                }
            }
            *yb = acc;
        }
        for (i, v) in y.iter_mut().enumerate().skip(full) {
            let mut acc = *v;
            for q in 0..COLS {
                acc = madd::<T, FMA>(cols[q][i], xs[q], acc);
            }
            *v = acc;
        }
        j += COLS;
    }
    for j in j..k {
        let xj = alpha * x[j * incx];
        for (v, &aij) in y.iter_mut().zip(&a[j * lda..][..m]) {
            *v = madd::<T, FMA>(aij, xj, *v);
        }
    }
}

#[inline(always)]
fn madd<T: Real, const FMA: bool>(a: T, b: T, c: T) -> T {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}
