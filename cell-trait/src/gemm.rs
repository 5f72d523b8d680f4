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
//! # Why not nalgebra's products
//!
//! nalgebra reaches matrixmultiply only for untransposed products with every dimension above 5;
//! `tr_mul`/`gemm_tr` never do (nalgebra issue #717). Batch 1 to 5 and every transposed product in
//! backpropagation would fall into slow loops, so the hot code calls [`gemm`] on views instead.
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

use crate::Real;

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
    /// The strides must not make two elements share storage (for example `rs = 0`); [`gemm`] would
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

/// `C = alpha * A * B + beta * C`, through the dtype's GEMM kernel (matrixmultiply).
///
/// When `beta` is zero, `C` is overwritten without being read.
///
/// # Panics
///
/// If the dimensions do not chain (`A` is `m x k`, `B` is `k x n`, `C` is `m x n`). Shapes that
/// come from a user are checked before this point with a typed error; a mismatch here is a bug in
/// the caller.
pub fn gemm<T: Real>(alpha: T, a: MatRef<'_, T>, b: MatRef<'_, T>, beta: T, c: MatMut<'_, T>) {
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
    // SAFETY: the three views were bounds-checked at construction, `c` is a unique borrow so it
    // cannot overlap `a` or `b`, and the strides fit in isize (checked by `extent`).
    unsafe {
        T::gemm_kernel(
            m,
            k,
            n,
            alpha,
            a.data.as_ptr(),
            a.rs as isize,
            a.cs as isize,
            b.data.as_ptr(),
            b.rs as isize,
            b.cs as isize,
            beta,
            c.data.as_mut_ptr(),
            c.rs as isize,
            c.cs as isize,
        )
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
                    let mut c = vec![f64::NAN; m * n];
                    gemm(1.0, a, b, 0.0, MatMut::col_major(&mut c, m, n).unwrap());
                    for (x, y) in c.iter().zip(&want) {
                        assert!((x - y).abs() < 1e-9, "{m}x{k}x{n}: {x} vs {y}");
                    }
                    // beta = 1 accumulates, alpha scales
                    gemm(2.0, a, b, 1.0, MatMut::col_major(&mut c, m, n).unwrap());
                    for (x, y) in c.iter().zip(&want) {
                        assert!((x - 3.0 * y).abs() < 1e-9);
                    }
                }
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
