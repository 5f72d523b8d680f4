//! Strided matrix views and the one GEMM call every kernel goes through.
//!
//! # The stride convention
//!
//! A matrix view is a slice plus `rows`, `cols`, a row stride `rs` and a column stride `cs`:
//! element `(i, j)` is `data[i * rs + j * cs]`. rnnzoo's own matrices are column-major (`rs = 1`,
//! `cs = rows`), so a batch at one step, `features x batch`, has sample `b` as column `b`, and a
//! sequence `features x (T * batch)` has step `t` as the contiguous columns `[t*B, (t+1)*B)`.
//!
//! PyTorch stores a weight `(G*H, in)` row-major. Read as a view it is simply `rs = in, cs = 1`; its
//! transpose is the same slice with the strides swapped ([`MatRef::t`]). No matrix is ever copied
//! to be transposed.
//!
//! # Two kernels, chosen per shape
//!
//! [`gemm()`] runs each product on one of two [`Backend`]s, chosen by [`Backend::choose`] from the
//! shape, the layout of `A` and the size of the current rayon pool, by rules measured on the
//! unroller's own products (2-core AVX-512 machine, GFLOP/s, one thread):
//!
//! | product (m x k x n) | A | matrixmultiply f32 / f64 | gemm crate f32 / f64 |
//! | --- | --- | --- | --- |
//! | input, 1024 x 256 x 3200 | row-major | 45 / 29 | 51 / 25 |
//! | recurrent, 1024 x 256 x 64 | row-major | 77 / 47 | 67 / 16 |
//! | recurrent, 2048 x 512 x 16 | row-major | 16 / 15 | 7 / 7 |
//! | recurrent, 2048 x 512 x 16 | column-major | 16 / 12 | 104 / 15 |
//! | `W^T dG`, 512 x 2048 x 16 | column-major | 61 / 14 | 112 / 16 |
//! | `dX`, 256 x 1024 x 3200 | column-major | 45 / 31 | 70 / 35 |
//! | batch 1, 512 x 128 x 1 | either | 1.5 / 2.0 | 13-29 / 8-12 |
//! | small, 32 x 128 x 8 | column-major | 14 / 13 | 104 / 51 |
//!
//! So: the `gemm` crate, except a row-major `A` times a few columns (`2 <= n <= 64`) on one
//! thread, where matrixmultiply's packing wins. The unroller avoids that case altogether by
//! giving its per-step product a column-major copy of `W_hh`. Either kernel can be forced for
//! measurements with `RNNZOO_GEMM=matrixmultiply` or `RNNZOO_GEMM=gemm`.
//!
//! # Threads
//!
//! One owner: the current rayon pool (the global one, or the one a caller `install`s). The `gemm`
//! crate splits a product of at least [`PARALLEL_MIN_MACS`] multiply-adds over all its threads;
//! matrixmultiply runs single-threaded (its own `threading` pool is not enabled, so nothing
//! over-subscribes the cores).
//!
//! # Why not nalgebra's products
//!
//! nalgebra reaches matrixmultiply only for untransposed products with every dimension above 5;
//! `tr_mul`/`gemm_tr` never do (nalgebra issue #717). Batch 1 to 5 and every transposed product in
//! backpropagation would fall into slow loops, so the hot code calls [`gemm()`] on views instead.
//!
//! ```
//! use rnnzoo_cell::gemm::{gemm, MatMut, MatRef};
//! // A is 2x3 row-major, like a PyTorch weight; x is a 3x1 column.
//! let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
//! let x = [1.0, 0.0, -1.0];
//! let mut y = [10.0, 10.0];
//! gemm(
//!     1.0,
//!     MatRef::row_major(&a, 2, 3).unwrap(),
//!     MatRef::col_major(&x, 3, 1).unwrap(),
//!     1.0, // accumulate into y
//!     MatMut::col_major(&mut y, 2, 1).unwrap(),
//! );
//! assert_eq!(y, [8.0, 8.0]);
//! ```

use std::sync::OnceLock;

use crate::Real;

/// The GEMM kernels [`gemm()`] chooses between (see the module docs for the measurements).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// `matrixmultiply::{sgemm, dgemm}`, single-threaded ([`Real::gemm_kernel`]).
    MatrixMultiply,
    /// The `gemm` crate, AVX-512 kernels where the processor has them, split over the current
    /// rayon pool for large products ([`Real::gemm_crate_kernel`]).
    GemmCrate,
    /// rnnzoo's matrix-vector kernel, for one column (`n = 1`, a batch of one) with a
    /// column-major `A` and a contiguous `C`: `W_hh h` on the unroller's column-major copy and
    /// `W_hh^T d_gh`. Other layouts fall back to [`Backend::GemmCrate`].
    Gemv,
}

/// Products with fewer multiply-adds than this run on one thread: below it, handing half of the
/// work to a second thread costs more than it saves (measured: a 128 x 128 x 32 product takes
/// about 10 µs on one core).
pub const PARALLEL_MIN_MACS: usize = 1 << 20;

impl Backend {
    /// The backend for an `m x k x n` product whose `A` has strides `a = (rs, cs)`, whose `B` and
    /// `C` have row strides `x_rs` and `c_rs`, in a pool of `threads` threads; `RNNZOO_GEMM`
    /// overrides (see the module docs).
    pub fn choose(
        m: usize,
        k: usize,
        n: usize,
        a: (usize, usize),
        x_rs: usize,
        c_rs: usize,
        threads: usize,
    ) -> Backend {
        if let Some(forced) = forced() {
            return forced;
        }
        if n == 1 && gemv::fits(a, x_rs, c_rs) {
            return Backend::Gemv;
        }
        let a_row_major = a.1 == 1 && a.0 != 1;
        let parallel = threads > 1 && m * k * n >= PARALLEL_MIN_MACS;
        if a_row_major && (2..=64).contains(&n) && !parallel {
            Backend::MatrixMultiply
        } else {
            Backend::GemmCrate
        }
    }
}

/// The backend `RNNZOO_GEMM` asks for, read once.
fn forced() -> Option<Backend> {
    static FORCED: OnceLock<Option<Backend>> = OnceLock::new();
    *FORCED.get_or_init(|| match std::env::var("RNNZOO_GEMM").as_deref() {
        Ok("matrixmultiply") => Some(Backend::MatrixMultiply),
        Ok("gemm") => Some(Backend::GemmCrate),
        Ok("gemv") => Some(Backend::Gemv),
        _ => None,
    })
}

/// A view does not fit the slice it was made from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a {rows}x{cols} view with strides ({rs}, {cs}) needs {needed} elements, the slice has {len}"
)]
pub struct ViewError {
    /// Rows asked for.
    pub rows: usize,
    /// Columns asked for.
    pub cols: usize,
    /// Row stride asked for.
    pub rs: usize,
    /// Column stride asked for.
    pub cs: usize,
    /// Elements the view addresses (one past its last element).
    pub needed: usize,
    /// Elements in the slice.
    pub len: usize,
}

fn extent(rows: usize, cols: usize, rs: usize, cs: usize, len: usize) -> Result<(), ViewError> {
    let needed = if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1)
            .checked_mul(rs)
            .and_then(|r| (cols - 1).checked_mul(cs).and_then(|c| r.checked_add(c)))
            .and_then(|last| last.checked_add(1))
            .unwrap_or(usize::MAX)
    };
    // Strides must also fit an isize for the kernel.
    if needed <= len && rs <= isize::MAX as usize && cs <= isize::MAX as usize {
        Ok(())
    } else {
        Err(ViewError {
            rows,
            cols,
            rs,
            cs,
            needed,
            len,
        })
    }
}

/// A read-only strided matrix view (see the module docs for the convention).
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a, T> MatRef<'a, T> {
    /// A view with explicit strides.
    ///
    /// # Errors
    ///
    /// [`ViewError`] if an addressed element would fall outside `data`.
    pub fn new(
        data: &'a [T],
        rows: usize,
        cols: usize,
        rs: usize,
        cs: usize,
    ) -> Result<Self, ViewError> {
        extent(rows, cols, rs, cs, data.len())?;
        Ok(Self {
            data,
            rows,
            cols,
            rs,
            cs,
        })
    }

    /// A column-major `rows x cols` view (`rs = 1`, `cs = rows`).
    ///
    /// # Errors
    ///
    /// [`ViewError`] if `data` is shorter than `rows * cols`.
    pub fn col_major(data: &'a [T], rows: usize, cols: usize) -> Result<Self, ViewError> {
        Self::new(data, rows, cols, 1, rows)
    }

    /// A row-major `rows x cols` view (`rs = cols`, `cs = 1`): a PyTorch weight as stored.
    ///
    /// # Errors
    ///
    /// [`ViewError`] if `data` is shorter than `rows * cols`.
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Result<Self, ViewError> {
        Self::new(data, rows, cols, cols, 1)
    }

    /// The transpose: the same elements with rows and columns (and their strides) swapped.
    pub fn t(self) -> Self {
        Self {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Element `(i, j)`.
    ///
    /// # Panics
    ///
    /// If `i >= rows` or `j >= cols`.
    pub fn at(&self, i: usize, j: usize) -> &T {
        assert!(
            i < self.rows && j < self.cols,
            "({i}, {j}) outside a {}x{} view",
            self.rows,
            self.cols
        );
        &self.data[i * self.rs + j * self.cs]
    }
}

/// A mutable strided matrix view (see the module docs for the convention).
#[derive(Debug)]
pub struct MatMut<'a, T> {
    data: &'a mut [T],
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
}

impl<'a, T> MatMut<'a, T> {
    /// A mutable view with explicit strides.
    ///
    /// The strides must not make two elements share storage (for example `rs = 0`); [`gemm()`] would
    /// then write one element twice. Views made by [`MatMut::col_major`] and
    /// [`MatMut::row_major`] never do.
    ///
    /// # Errors
    ///
    /// [`ViewError`] if an addressed element would fall outside `data`.
    pub fn new(
        data: &'a mut [T],
        rows: usize,
        cols: usize,
        rs: usize,
        cs: usize,
    ) -> Result<Self, ViewError> {
        extent(rows, cols, rs, cs, data.len())?;
        Ok(Self {
            data,
            rows,
            cols,
            rs,
            cs,
        })
    }

    /// A column-major `rows x cols` view.
    ///
    /// # Errors
    ///
    /// [`ViewError`] if `data` is shorter than `rows * cols`.
    pub fn col_major(data: &'a mut [T], rows: usize, cols: usize) -> Result<Self, ViewError> {
        Self::new(data, rows, cols, 1, rows)
    }

    /// A row-major `rows x cols` view (a PyTorch weight's gradient as stored).
    ///
    /// # Errors
    ///
    /// [`ViewError`] if `data` is shorter than `rows * cols`.
    pub fn row_major(data: &'a mut [T], rows: usize, cols: usize) -> Result<Self, ViewError> {
        Self::new(data, rows, cols, cols, 1)
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
}

/// `C = alpha * A * B + beta * C`, on the [`Backend`] chosen for the shape and the current rayon
/// pool (see the module docs).
///
/// When `beta` is zero, `C` is overwritten without being read.
///
/// # Panics
///
/// If the dimensions do not chain (`A` is `m x k`, `B` is `k x n`, `C` is `m x n`). Shapes that
/// come from a user are checked before this point with a typed error; a mismatch here is a bug in
/// the caller.
pub fn gemm<T: Real>(alpha: T, a: MatRef<'_, T>, b: MatRef<'_, T>, beta: T, c: MatMut<'_, T>) {
    let threads = rayon::current_num_threads();
    let backend = Backend::choose(c.rows, a.cols, c.cols, (a.rs, a.cs), b.rs, c.rs, threads);
    gemm_with(backend, alpha, a, b, beta, c);
}

/// [`gemm()`] on a given backend.
///
/// # Panics
///
/// As [`gemm()`].
pub fn gemm_with<T: Real>(
    backend: Backend,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: MatMut<'_, T>,
) {
    assert!(
        a.cols == b.rows && a.rows == c.rows && b.cols == c.cols,
        "gemm: ({}x{}) * ({}x{}) into ({}x{})",
        a.rows,
        a.cols,
        b.rows,
        b.cols,
        c.rows,
        c.cols
    );
    let (m, k, n) = (c.rows, a.cols, c.cols);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        // The kernel would be asked for an empty sum; do the scaling it implies ourselves.
        for j in 0..n {
            for i in 0..m {
                let x = &mut c.data[i * c.rs + j * c.cs];
                *x = if beta == T::zero() {
                    T::zero()
                } else {
                    beta * *x
                };
            }
        }
        return;
    }
    if backend == Backend::Gemv && n == 1 && gemv::fits((a.rs, a.cs), b.rs, c.rs) {
        return gemv::gemv(
            m,
            k,
            alpha,
            a.data,
            (a.rs, a.cs),
            b.data,
            b.rs,
            beta,
            c.data,
        );
    }
    // SAFETY: the three views were bounds-checked at construction, `c` is a unique borrow so it
    // cannot overlap `a` or `b`, and the strides fit in isize (checked by `extent`).
    let (ap, bp, cp) = (a.data.as_ptr(), b.data.as_ptr(), c.data.as_mut_ptr());
    let (rsa, csa, rsb, csb) = (a.rs as isize, a.cs as isize, b.rs as isize, b.cs as isize);
    let (rsc, csc) = (c.rs as isize, c.cs as isize);
    unsafe {
        match backend {
            Backend::MatrixMultiply => T::gemm_kernel(
                m, k, n, alpha, ap, rsa, csa, bp, rsb, csb, beta, cp, rsc, csc,
            ),
            Backend::GemmCrate | Backend::Gemv => {
                let threads = if m * k * n >= PARALLEL_MIN_MACS {
                    rayon::current_num_threads()
                } else {
                    1
                };
                T::gemm_crate_kernel(
                    m, k, n, alpha, ap, rsa, csa, bp, rsb, csb, beta, cp, rsc, csc, threads,
                )
            }
        }
    }
}

/// The matrix-vector kernel: `y = alpha A x + beta y`, `A` column-major.
///
/// A column-major `A` (`W_hh` copied, `W_hh^T`): `y` is updated with eight columns of `A` per pass (`y += A[:, j..j+8] x[j..j+8]`): eight
/// contiguous streams through `A`, which the prefetcher follows, no packing and no horizontal
/// sums, and one load and store of `y` per eight multiply-adds. Compiled three times (baseline,
/// AVX2+FMA, AVX-512) and picked at run time; the baseline copy uses separate multiply and add,
/// since `mul_add` without FMA hardware is a slow library call. Measured (f32, one core, from L2):
/// 512 x 128 at 41 GFLOP/s against the `gemm` crate's 27-36 and matrixmultiply's 1.5.
mod gemv {
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
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the processor has AVX-512F (and so AVX2 and FMA).
                return unsafe { avx512(m, k, alpha, a, a_strides, x, incx, beta, y) };
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                // SAFETY: the processor has AVX2 and FMA.
                return unsafe { avx2(m, k, alpha, a, a_strides, x, incx, beta, y) };
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
        if FMA {
            a.mul_add(b, c)
        } else {
            a * b + c
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &MatRef<f64>, b: &MatRef<f64>) -> Vec<f64> {
        let mut c = vec![0.0; a.rows() * b.cols()];
        for i in 0..a.rows() {
            for j in 0..b.cols() {
                c[i + j * a.rows()] = (0..a.cols()).map(|p| a.at(i, p) * b.at(p, j)).sum();
            }
        }
        c
    }

    fn filled(n: usize, seed: u64) -> Vec<f64> {
        (0..n)
            .map(|i| (((i as u64 + 1) * (seed * 2654435761 + 7)) % 1009) as f64 / 97.0 - 5.0)
            .collect()
    }

    #[test]
    fn sweeps_sizes_and_layouts_against_a_naive_product() {
        for &(m, k, n) in &[
            (1, 1, 1),
            (3, 1, 5),
            (1, 7, 1),
            (6, 5, 4),
            (17, 9, 13),
            (33, 64, 2),
            (70, 9, 1),
            (130, 33, 1),
        ] {
            for a_rm in [false, true] {
                for b_rm in [false, true] {
                    let ad = filled(m * k, 1);
                    let bd = filled(k * n, 2);
                    let a = if a_rm {
                        MatRef::row_major(&ad, m, k)
                    } else {
                        MatRef::col_major(&ad, m, k)
                    }
                    .unwrap();
                    let b = if b_rm {
                        MatRef::row_major(&bd, k, n)
                    } else {
                        MatRef::col_major(&bd, k, n)
                    }
                    .unwrap();
                    let want = naive(&a, &b);
                    for backend in [Backend::MatrixMultiply, Backend::GemmCrate, Backend::Gemv] {
                        let mut c = vec![f64::NAN; m * n];
                        let cv = MatMut::col_major(&mut c, m, n).unwrap();
                        gemm_with(backend, 1.0, a, b, 0.0, cv);
                        for (x, y) in c.iter().zip(&want) {
                            assert!((x - y).abs() < 1e-9, "{backend:?} {m}x{k}x{n}: {x} vs {y}");
                        }
                        // beta = 1 accumulates, alpha scales
                        let cv = MatMut::col_major(&mut c, m, n).unwrap();
                        gemm_with(backend, 2.0, a, b, 1.0, cv);
                        for (x, y) in c.iter().zip(&want) {
                            assert!((x - 3.0 * y).abs() < 1e-9, "{backend:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn gemv_takes_strided_x_and_beta() {
        // A 70x5 block of a 72-row column-major matrix, x every third value, y = 2 A x - y.
        let (m, k, lda) = (70, 5, 72);
        let ad = filled(lda * k, 5);
        let xd = filled(3 * k, 6);
        let a = MatRef::new(&ad, m, k, 1, lda).unwrap();
        let x = MatRef::new(&xd, k, 1, 3, 1).unwrap();
        let want = naive(&a, &x);
        let y0 = filled(m, 7);
        let mut y = y0.clone();
        assert_eq!(Backend::choose(m, k, 1, (1, lda), 3, 1, 1), Backend::Gemv);
        gemm(2.0, a, x, -1.0, MatMut::col_major(&mut y, m, 1).unwrap());
        for i in 0..m {
            assert!((y[i] - (2.0 * want[i] - y0[i])).abs() < 1e-9);
        }
    }

    #[test]
    fn a_parallel_product_in_a_two_thread_pool_is_right() {
        // Big enough to be split over the pool; a row-major C (a weight gradient) and a strided B.
        let (m, k, n) = (96, 130, 100);
        assert!(m * k * n >= PARALLEL_MIN_MACS);
        let ad = filled(m * k, 3);
        let bd = filled(2 * k * n, 4);
        let a = MatRef::col_major(&ad, m, k).unwrap();
        let b = MatRef::new(&bd, k, n, 1, 2 * k).unwrap();
        let want = naive(&a, &b);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let mut c = vec![f64::NAN; m * n];
        pool.install(|| gemm(1.0, a, b, 0.0, MatMut::row_major(&mut c, m, n).unwrap()));
        for i in 0..m {
            for j in 0..n {
                assert!((c[i * n + j] - want[i + j * m]).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn transpose_swaps_strides_and_padded_columns_work() {
        // A 2x3 block inside a column stride of 4 (every column has one unused row).
        let a = [1.0, 2.0, 99.0, 99.0, 3.0, 4.0, 99.0, 99.0, 5.0, 6.0];
        let av = MatRef::new(&a, 2, 3, 1, 4).unwrap();
        assert_eq!(*av.t().at(2, 1), 6.0);
        let x = [1.0, 1.0];
        let mut y = [0.0; 3];
        gemm(
            1.0,
            av.t(),
            MatRef::col_major(&x, 2, 1).unwrap(),
            0.0,
            MatMut::col_major(&mut y, 3, 1).unwrap(),
        );
        assert_eq!(y, [3.0, 7.0, 11.0]);
    }

    #[test]
    fn empty_inner_dimension_scales_c() {
        let a: [f32; 0] = [];
        let mut c = [1.0f32, 2.0];
        gemm(
            1.0,
            MatRef::col_major(&a, 2, 0).unwrap(),
            MatRef::col_major(&a, 0, 1).unwrap(),
            0.5,
            MatMut::col_major(&mut c, 2, 1).unwrap(),
        );
        assert_eq!(c, [0.5, 1.0]);
    }

    #[test]
    fn views_that_do_not_fit_are_refused() {
        let d = [0.0f32; 5];
        assert!(MatRef::col_major(&d, 2, 3).is_err());
        assert!(MatRef::new(&d, 2, 2, 1, 3).is_ok());
        assert!(MatRef::new(&d, 2, 2, 1, 4).is_err());
        assert!(MatRef::new(&d, 0, 9, 1, 1).is_ok());
        assert!(MatRef::new(&d, 2, 2, usize::MAX, 1).is_err());
    }
}
