//! A matrix packed once for many products: contiguous column-major panels of rows.

use rayon::prelude::*;

use super::{Backend, MatMut, MatRef, PARALLEL_MIN_MACS, RawMut, assert_chain, gemm, kernel};
use crate::Real;

/// Rows per panel: the height of the `gemm` crate's widest AVX-512 f32 microkernel (4 vectors
/// of 16), so each panel is whole microkernel strips.
pub const PANEL_ROWS: usize = 64;

/// Matrices with at most this many elements (256 KiB of f32) are packed as one panel.
pub const PANEL_MIN_ELEMENTS: usize = 1 << 16;

/// Columns per kernel call. The `gemm` crate (0.19) repacks `A` itself when a call has more than
/// 48 columns (8 times its 6-column microkernel), which a panel, already contiguous in the layout
/// its microkernel reads, does not need: 1024 x 256 x 64 in panels went from 104 to 112 GFLOP/s
/// with the columns in two calls.
const PANEL_COLUMNS: usize = 48;

/// A `rows x cols` matrix stored as column-major panels of [`PANEL_ROWS`] rows (the last one
/// shorter), each contiguous, or as one column-major panel when it is small. Built by copying a
/// view of any layout; multiplied with [`gemm_packed`].
///
/// The unroller multiplies the same weight by a new block of columns at every step. Read where it
/// lies, a large column-major `A` is walked by the kernel one strip of rows at a time, and two
/// consecutive elements of a strip are a whole column apart: past about a megabyte every
/// multiply-add of the strip touches a new 4 KiB page, and the product is bound by address
/// translation, not arithmetic. Stored as panels of [`PANEL_ROWS`] rows, each a contiguous
/// column-major block, the same product streams through memory. Measured (f32, one core, AVX-512,
/// the `gemm` crate on each panel, GFLOP/s):
///
/// | product (m x k x n) | where | in place | panels of 64 rows |
/// | --- | --- | ---: | ---: |
/// | 4096 x 1024 x 32 | `W_hh h`, H 1024 | 74 | 106 |
/// | 1024 x 4096 x 32 | `W_hh^T dG`, H 1024 | 65 | 112 |
/// | 2048 x 512 x 16 | `W_hh h`, H 512 | 100 | 109 |
/// | 1024 x 256 x 64 | `W_hh h`, H 256 | 104 | 106 |
/// | 4096 x 1024 x 256 | `W_ih X`, H 1024 | 101 | 104 |
///
/// Smaller matrices gain less, since they stay within the reach of the translation cache, but
/// panels still save the kernel's own repacking of `A` (1024 x 256 x 64: 85-104 in place, 112 in
/// panels, each call at most 48 columns). Matrices of at most [`PANEL_MIN_ELEMENTS`] elements are
/// packed as a single column-major panel, so small products stay one kernel call (and the
/// matrix-vector kernel of batch 1 keeps its long columns).
///
/// ```
/// use rnnzoo_cell::gemm::{gemm_packed, MatMut, MatRef, PackedA};
/// // A is 2x3 row-major, like a PyTorch weight; pack it once, multiply it many times.
/// let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let packed = PackedA::new(MatRef::row_major(&a, 2, 3).unwrap());
/// for (x, want) in [([1.0, 0.0, -1.0], [-2.0, -2.0]), ([0.0, 1.0, 0.0], [2.0, 5.0])] {
///     let mut y = [0.0; 2];
///     gemm_packed(
///         1.0,
///         &packed,
///         MatRef::col_major(&x, 3, 1).unwrap(),
///         0.0,
///         MatMut::col_major(&mut y, 2, 1).unwrap(),
///     );
///     assert_eq!(y, want);
/// }
/// ```
#[derive(Debug, Clone)]
pub struct PackedA<T> {
    data: Vec<T>,
    rows: usize,
    cols: usize,
    panel_rows: usize,
}

impl<T: Real> PackedA<T> {
    /// Packs a copy of `a`.
    pub fn new(a: MatRef<'_, T>) -> Self {
        let (rows, cols) = (a.rows, a.cols);
        let panel_rows = if rows * cols > PANEL_MIN_ELEMENTS {
            PANEL_ROWS
        } else {
            rows.max(1)
        };
        let mut data = vec![T::zero(); rows * cols];
        if cols > 0 {
            for (p, panel) in data.chunks_mut(panel_rows * cols).enumerate() {
                pack_panel(a, p * panel_rows, panel);
            }
        }
        Self {
            data,
            rows,
            cols,
            panel_rows,
        }
    }

    /// Rows of the matrix.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns of the matrix.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Number of panels (0 for a matrix without rows).
    pub fn panels(&self) -> usize {
        self.rows.div_ceil(self.panel_rows)
    }

    /// Panel `p`: rows `p * panel_rows ..` of the matrix, as a column-major view.
    ///
    /// # Panics
    ///
    /// If `p >= self.panels()`.
    pub fn panel(&self, p: usize) -> MatRef<'_, T> {
        assert!(p < self.panels(), "panel {p} of {}", self.panels());
        let r0 = p * self.panel_rows;
        let rows = self.panel_rows.min(self.rows - r0);
        MatRef::col_major(
            &self.data[r0 * self.cols..][..rows * self.cols],
            rows,
            self.cols,
        )
        .expect("panels tile the buffer")
    }
}

/// Copies rows `r0 .. r0 + out.len() / cols` of `a` into `out`, column-major.
fn pack_panel<T: Real>(a: MatRef<'_, T>, r0: usize, out: &mut [T]) {
    let cols = a.cols;
    let rows = out.len() / cols;
    if a.rs == 1 {
        // Column-major (a transposed PyTorch weight): each column of the panel is contiguous.
        for (j, col) in out.chunks_exact_mut(rows).enumerate() {
            col.copy_from_slice(&a.data[r0 + j * a.cs..][..rows]);
        }
        return;
    }
    // Any other layout, PyTorch's row-major above all, in 16 x 16 tiles: the tile's source rows
    // and destination columns each stay within a cache line or two while it is copied
    // (element by element over whole rows ran at 2-3 GB/s against 15 here, 2048 x 512 f32).
    const TILE: usize = 16;
    for i0 in (0..rows).step_by(TILE) {
        let i1 = (i0 + TILE).min(rows);
        for j0 in (0..cols).step_by(TILE) {
            let j1 = (j0 + TILE).min(cols);
            for j in j0..j1 {
                let col = &mut out[j * rows..][i0..i1];
                for (o, i) in col.iter_mut().zip(i0..) {
                    *o = a.data[(r0 + i) * a.rs + j * a.cs];
                }
            }
        }
    }
}

/// `C = alpha * A * B + beta * C` for a packed `A`. A matrix packed in several panels is
/// multiplied one panel and at most 48 columns at a time, each piece on the [`Backend`] [`gemm()`]
/// would choose for it; in a pool of several threads, a product of at least [`PARALLEL_MIN_MACS`]
/// multiply-adds gives each thread a contiguous range of panels (one hand-off per call). A matrix
/// packed as one panel is a single [`gemm()`] call on all columns (threaded inside when large).
///
/// When `beta` is zero, `C` is overwritten without being read.
///
/// # Panics
///
/// If the dimensions do not chain (`A` is `m x k`, `B` is `k x n`, `C` is `m x n`).
pub fn gemm_packed<T: Real>(alpha: T, a: &PackedA<T>, b: MatRef<'_, T>, beta: T, c: MatMut<'_, T>) {
    assert_chain((a.rows, a.cols), (b.rows, b.cols), (c.rows, c.cols));
    if a.rows == 0 || c.cols == 0 {
        return; // `C` has no elements
    }
    let panels = a.panels();
    if panels == 1 {
        // The whole matrix, column-major (also when it has no columns: `gemm` scales `C`).
        return gemm(alpha, a.panel(0), b, beta, c);
    }
    let (m, k, n) = (a.rows, a.cols, c.cols);
    let threads = rayon::current_num_threads();
    let c = RawMut::from(c);
    // Equal pieces of at most PANEL_COLUMNS columns.
    let width = n.div_ceil(n.div_ceil(PANEL_COLUMNS));
    // Each (panel, piece) product runs on one thread; threads come from splitting the panels.
    let product = |p: usize| {
        let ap = a.panel(p);
        for j0 in (0..n).step_by(width) {
            let cols = width.min(n - j0);
            let bj = b.cols_range(j0, cols);
            let backend = Backend::choose(ap.rows, k, cols, (ap.rs, ap.cs), b.rs, c.rs, 1);
            // SAFETY: panel `p` covers rows `p * panel_rows ..` of `C` and the piece columns
            // `j0 .. j0 + cols`, in bounds and disjoint from every other (panel, piece); `C` came
            // from a unique borrow, so nothing else aliases it.
            unsafe {
                kernel(
                    backend,
                    alpha,
                    ap,
                    bj,
                    beta,
                    c.block(p * a.panel_rows, ap.rows, j0, cols),
                    1,
                )
            }
        }
    };
    if threads > 1 && m * k * n >= PARALLEL_MIN_MACS {
        // Explicit ranges: rayon's adaptive splitting with a minimum length would leave an odd
        // panel count on one thread.
        let per_thread = panels.div_ceil(threads);
        (0..panels.div_ceil(per_thread))
            .into_par_iter()
            .for_each(|t| (t * per_thread..panels.min((t + 1) * per_thread)).for_each(product));
    } else {
        (0..panels).for_each(product);
    }
}
