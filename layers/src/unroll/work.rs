//! How the time loop spends memory and threads: chunks of steps, a column-major copy of `W_hh`,
//! and the split of a step's elementwise work over the rayon pool.
//!
//! - **Chunks.** The input product `W_ih X` (forward) and the weight and input gradients
//!   (backward) are computed for [`CHUNK_COLUMNS`] columns (`steps x batch`) at a time instead of
//!   the whole sequence: still one large GEMM per chunk, but the `G*H x columns` buffers they need
//!   stay the size of one chunk, so training memory is the tape plus a constant, and time per step
//!   does not grow with `T` (the chunk stays in cache).
//! - **`W_hh` column-major.** The per-step product `W_hh h` has few columns (the batch). PyTorch's
//!   weight is row-major, and a GEMM kernel then repacks all of `W_hh` every step; with a
//!   column-major copy, made once per call, the `gemm` crate streams it directly: 2048 x 512 x 16
//!   went from 7-16 to 104 GFLOP/s (f32, one core).
//! - **Columns over threads.** Sample `b` of a step is column `b` of every buffer, and a cell's
//!   elementwise step treats columns independently, so a pool of `n` threads runs the cell's
//!   pointwise forward or backward on `n` column ranges at once (when the step is big enough to
//!   pay for the hand-off); the per-step GEMM is split by the GEMM backend itself.

use rayon::prelude::*;
use rnnzoo_cell::{GatedStep, Real};

/// Columns per chunk of the hoisted products: 256 keeps a chunk of `G*H x columns` gate values
/// within the L2 cache for `G*H <= 1024` (f32) while the GEMMs over it still run at full speed.
pub(crate) const CHUNK_COLUMNS: usize = 256;

/// Steps per chunk for a batch: at least one, at most the whole sequence.
pub(crate) fn chunk_steps(batch: usize, steps: usize) -> usize {
    CHUNK_COLUMNS.div_ceil(batch.max(1)).clamp(1, steps.max(1))
}

/// Values a step's pointwise work touches below which it stays on one thread (a rayon hand-off
/// costs a few microseconds, the pointwise step of 16k values about as much).
const PARALLEL_MIN_VALUES: usize = 1 << 14;

/// Columns per part when a step's pointwise work, `values_per_column` per sample, is split over
/// the current pool; `batch` means no split.
fn part_columns(batch: usize, values_per_column: usize) -> usize {
    let threads = rayon::current_num_threads();
    if threads < 2 || batch < 2 || values_per_column * batch < PARALLEL_MIN_VALUES {
        return batch;
    }
    batch.div_ceil(threads.min(batch))
}

/// `rows x cols` row-major `w` as a column-major copy (the same matrix, other storage order).
pub(crate) fn col_major_copy<T: Real>(w: &[T], rows: usize, cols: usize) -> Vec<T> {
    let mut out = vec![T::zero(); rows * cols];
    // Sixteen output columns at a time: one sequential read stream (a row's 16 values) and
    // sixteen sequential write streams, all within a few cache lines per row.
    const BLOCK: usize = 16;
    for (b, outs) in out.chunks_mut(BLOCK * rows).enumerate() {
        let j0 = b * BLOCK;
        let mut cols_out: Vec<&mut [T]> = outs.chunks_exact_mut(rows).collect();
        for (i, row) in w.chunks_exact(cols).enumerate() {
            for (col, &v) in cols_out.iter_mut().zip(&row[j0..]) {
                col[i] = v;
            }
        }
    }
    out
}

/// Sizes of a gated step's buffers per sample: `rows = G*H` gate values, `s` state values, `c`
/// cache values.
#[derive(Clone, Copy)]
pub(crate) struct StepSizes {
    pub rows: usize,
    pub s: usize,
    pub c: usize,
}

/// The cell's pointwise forward of one step, over column ranges in parallel when worth it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn forward_pointwise<T: Real>(
    g: &dyn GatedStep<T>,
    z: StepSizes,
    gi: &[T],
    gh: &[T],
    prev: &[T],
    next: &mut [T],
    cache: &mut [T],
    batch: usize,
) {
    let bp = part_columns(batch, 2 * z.rows + 2 * z.s + z.c);
    if bp >= batch || z.c == 0 || z.s == 0 {
        return g.forward_pointwise(gi, gh, prev, next, cache, batch);
    }
    next.par_chunks_mut(z.s * bp)
        .zip(cache.par_chunks_mut(z.c * bp))
        .enumerate()
        .for_each(|(k, (next, cache))| {
            let (b0, nb) = (k * bp, next.len() / z.s);
            g.forward_pointwise(
                &gi[z.rows * b0..][..z.rows * nb],
                &gh[z.rows * b0..][..z.rows * nb],
                &prev[z.s * b0..][..z.s * nb],
                next,
                cache,
                nb,
            );
        });
}

/// The cell's pointwise backward of one step, over column ranges in parallel when worth it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward_pointwise<T: Real>(
    g: &dyn GatedStep<T>,
    z: StepSizes,
    cache: &[T],
    prev: &[T],
    d_next: &[T],
    d_gi: &mut [T],
    d_gh: &mut [T],
    d_prev: &mut [T],
    batch: usize,
) {
    let bp = part_columns(batch, 2 * z.rows + 3 * z.s + z.c);
    if bp >= batch || z.rows == 0 || z.s == 0 {
        return g.backward_pointwise(cache, prev, d_next, d_gi, d_gh, d_prev, batch);
    }
    d_gi.par_chunks_mut(z.rows * bp)
        .zip(d_gh.par_chunks_mut(z.rows * bp))
        .zip(d_prev.par_chunks_mut(z.s * bp))
        .enumerate()
        .for_each(|(k, ((d_gi, d_gh), d_prev))| {
            let (b0, nb) = (k * bp, d_prev.len() / z.s);
            g.backward_pointwise(
                &cache[z.c * b0..][..z.c * nb],
                &prev[z.s * b0..][..z.s * nb],
                &d_next[z.s * b0..][..z.s * nb],
                d_gi,
                d_gh,
                d_prev,
                nb,
            );
        });
}
