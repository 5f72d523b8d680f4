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
//! thread, where matrixmultiply's packing wins. Either kernel can be forced for measurements with
//! `RNNZOO_GEMM=matrixmultiply` or `RNNZOO_GEMM=gemm`.
//!
//! A matrix multiplied many times, like the unroller's weights, can be packed once into
//! contiguous column-major panels ([`PackedA`], multiplied with [`gemm_packed`]): that avoids the
//! row-major case above, and for matrices over a megabyte the address-translation misses of
//! reading them in place (4096 x 1024 x 32: 74 -> 106 GFLOP/s).
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

mod backend;
mod gemv;
mod packed;
#[cfg(test)]
mod tests;
mod view;

pub use backend::{Backend, PARALLEL_MIN_MACS};
pub use packed::{PANEL_MIN_ELEMENTS, PANEL_ROWS, PackedA, gemm_packed};
pub use view::{MatMut, MatRef, ViewError};

use std::marker::PhantomData;

use crate::Real;

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
    assert_chain((a.rows, a.cols), (b.rows, b.cols), (c.rows, c.cols));
    let threads = if c.rows * a.cols * c.cols >= PARALLEL_MIN_MACS {
        rayon::current_num_threads()
    } else {
        1
    };
    // SAFETY: `c` is a unique borrow of a bounds-checked view, so its elements are valid for
    // writes and overlap neither `a` nor `b` nor anything another thread writes.
    unsafe { kernel(backend, alpha, a, b, beta, RawMut::from(c), threads) }
}

/// Panics unless `A * B` fits a `rows x cols` `C`: a bug in the caller (user shapes are checked
/// with typed errors before any product).
fn assert_chain(a: (usize, usize), b: (usize, usize), c: (usize, usize)) {
    assert!(
        a.1 == b.0 && a.0 == c.0 && b.1 == c.1,
        "gemm: ({}x{}) * ({}x{}) into ({}x{})",
        a.0,
        a.1,
        b.0,
        b.1,
        c.0,
        c.1
    );
}

/// A `C` view as a raw pointer, so that disjoint blocks of one matrix can be written by
/// different threads (row blocks of a column-major matrix interleave in memory, so they cannot be
/// split into separate `&mut` slices). It keeps the borrow of the `MatMut` it came from.
#[derive(Clone, Copy)]
struct RawMut<'a, T> {
    ptr: *mut T,
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
    _borrow: PhantomData<&'a mut [T]>,
}

// SAFETY: a `RawMut` stands for a unique borrow of `T`s; it is only handed to threads that write
// disjoint blocks of it (see `kernel`), which is what sending `&mut [T]` pieces would allow.
unsafe impl<T: Send> Send for RawMut<'_, T> {}
// SAFETY: as above: sharing one lets each thread write its own block, which needs `T: Send`.
unsafe impl<T: Send> Sync for RawMut<'_, T> {}

impl<'a, T> From<MatMut<'a, T>> for RawMut<'a, T> {
    fn from(c: MatMut<'a, T>) -> Self {
        Self {
            ptr: c.data.as_mut_ptr(),
            rows: c.rows,
            cols: c.cols,
            rs: c.rs,
            cs: c.cs,
            _borrow: PhantomData,
        }
    }
}

impl<T> RawMut<'_, T> {
    /// The `rows x cols` block at `(row, col)` (in bounds).
    fn block(self, row: usize, rows: usize, col: usize, cols: usize) -> Self {
        debug_assert!(row + rows <= self.rows && col + cols <= self.cols);
        Self {
            // An element of an in-bounds view is in its allocation.
            ptr: self.ptr.wrapping_add(row * self.rs + col * self.cs),
            rows,
            cols,
            ..self
        }
    }
}

/// `C = alpha A B + beta C` on `backend` with at most `threads` threads.
///
/// # Safety
///
/// The dimensions chain, and every element `(i, j)` of `c`, at `c.ptr + i * rs + j * cs`, is
/// valid for reads and writes, has storage of its own (no two elements of `c` alias, which
/// [`MatMut::new`] guarantees), overlaps neither `a` nor `b`, and is not accessed by any other
/// thread during the call.
unsafe fn kernel<T: Real>(
    backend: Backend,
    alpha: T,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    beta: T,
    c: RawMut<'_, T>,
    threads: usize,
) {
    let (m, k, n) = (c.rows, a.cols, c.cols);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        // The kernel would be asked for an empty sum; do the scaling it implies ourselves.
        for j in 0..n {
            for i in 0..m {
                // SAFETY: `(i, j)` is in the view (the caller's contract).
                let x = unsafe { &mut *c.ptr.add(i * c.rs + j * c.cs) };
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
        // SAFETY: one column with unit row stride is `m` contiguous elements of the view.
        let y = unsafe { std::slice::from_raw_parts_mut(c.ptr, m) };
        return gemv::gemv(m, k, alpha, a.data, (a.rs, a.cs), b.data, b.rs, beta, y);
    }
    // SAFETY: `a` and `b` were bounds-checked at construction, `c` is valid and unaliased (the
    // caller's contract), and the strides fit in isize (checked by `extent`).
    let (ap, bp, cp) = (a.data.as_ptr(), b.data.as_ptr(), c.ptr);
    let (rsa, csa, rsb, csb) = (a.rs as isize, a.cs as isize, b.rs as isize, b.cs as isize);
    let (rsc, csc) = (c.rs as isize, c.cs as isize);
    unsafe {
        match backend {
            Backend::MatrixMultiply => T::gemm_kernel(
                m, k, n, alpha, ap, rsa, csa, bp, rsb, csb, beta, cp, rsc, csc,
            ),
            Backend::GemmCrate | Backend::Gemv => T::gemm_crate_kernel(
                m, k, n, alpha, ap, rsa, csa, bp, rsb, csb, beta, cp, rsc, csc, threads,
            ),
        }
    }
}
