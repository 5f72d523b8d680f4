//! How the time loop spends memory and threads: chunks of steps, weights packed once per call,
//! and the split of a step's elementwise work over the rayon pool.
//!
//! - **Chunks.** The input product `W_ih X` (forward) and the weight and input gradients
//!   (backward) are computed for [`CHUNK_COLUMNS`] columns (`steps x batch`) at a time instead of
//!   the whole sequence: still one large GEMM per chunk, but the `G*H x columns` buffers they need
//!   stay the size of one chunk, so training memory is the tape plus a constant, and time per step
//!   does not grow with `T` (the chunk stays in cache).
//! - **Weights packed.** PyTorch's weights are row-major. The `gemm` crate runs a row-major `A`
//!   times a few columns at about a third of its speed (f32, one core: `W_hh h`, 2048 x 512 x 16,
//!   36 against 100 GFLOP/s), a large row-major `A` times many columns at half (`W_ih X`,
//!   2048 x 512 x 256: 56 against 105), and a large matrix in place is bound by address
//!   translation (see [`rnnzoo_cell::gemm::PackedA`]). So the forward loop packs `W_hh` once per
//!   call (0.5 ms for 2048 x 512 f32, next to a 33 ms forward pass) and `W_ih` when the sequence
//!   has enough columns to repay the copy; backward packs `W_hh^T` (column-major already) only
//!   when it is large.
//! - **Columns over threads.** Sample `b` of a step is column `b` of every buffer, and a cell's
//!   elementwise step treats columns independently (the contract of
//!   [`GatedCell`](rnnzoo_cell::GatedCell), which `gradcheck::check_columns` tests), so a pool of
//!   `n` threads runs the cell's pointwise forward or backward on `n` column ranges at once (when
//!   the step is big enough to pay for the hand-off); the per-step GEMM is split by panels of the
//!   packed weight (one hand-off per step, [`rnnzoo_cell::gemm::gemm_packed`]) or by the GEMM
//!   backend itself.

use rayon::prelude::*;
use rnnzoo_cell::gemm::{MatMut, MatRef, PackedA, gemm, gemm_packed};
use rnnzoo_cell::{GatedCell, PointwiseBackward, PointwiseForward, Real};

/// Columns per chunk of the hoisted products: 256 keeps a chunk of `G*H x columns` gate values
/// within the L2 cache for `G*H <= 1024` (f32) while the GEMMs over it still run at full speed.
pub(crate) const CHUNK_COLUMNS: usize = 256;

/// Columns per pass of a scan cell (see `forward::run`): its input GEMM over 2048 columns still
/// runs at full speed, and its temporaries (a few `H x 2048` blocks) stay in the L2/L3 cache.
/// Measured, minGRU T4096 B32 I=H=256 f32, one pass of the whole sequence: 964 us per step
/// against 303 at T64.
pub(crate) const SCAN_CHUNK_COLUMNS: usize = 2048;

/// Steps per pass of a scan cell for a batch: at least one, at most the whole sequence.
pub(crate) fn scan_chunk_steps(batch: usize, steps: usize) -> usize {
    SCAN_CHUNK_COLUMNS
        .div_ceil(batch.max(1))
        .clamp(1, steps.max(1))
}

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

/// Elements above which backward packs `W_hh^T` (column-major already, so packing only helps
/// where reading it in place becomes bound by address translation). Measured, LSTM f32, one
/// core, fwd+bwd: H 1024 (4M elements) 546-554 -> 491-498 ms packed; H 512 (1M) 121 -> 120 ms,
/// not worth a weight's worth of memory; H 256 f64 ~5% slower packed.
pub(crate) const PACK_TRANSPOSED_MIN: usize = 1 << 20;

/// Whether the forward pass packs `W_ih` for a sequence of `steps x batch` columns: from a
/// chunk's worth (LSTM I 128 H 128, B 1, T 100: packing made the forward pass 5% slower; B 64
/// H 256, T 50: 4% faster; a large `W_ih` in place runs at half speed).
pub(crate) fn packs_w_ih(steps: usize, batch: usize) -> bool {
    steps * batch >= CHUNK_COLUMNS
}

/// Whether backward packs a `W_hh^T` of `elements` values (see [`PACK_TRANSPOSED_MIN`]).
pub(crate) fn packs_w_hh_t(elements: usize) -> bool {
    elements > PACK_TRANSPOSED_MIN
}

/// A weight the loop multiplies many times, packed when that pays for the copy (see the call
/// sites), else read in place.
pub(crate) enum Weight<'a, T> {
    InPlace(MatRef<'a, T>),
    Packed(PackedA<T>),
}

impl<'a, T: Real> Weight<'a, T> {
    pub fn packed_if(a: MatRef<'a, T>, pack: bool) -> Self {
        if pack {
            Self::Packed(PackedA::new(a))
        } else {
            Self::InPlace(a)
        }
    }

    /// `C = alpha W B + beta C`.
    pub fn gemm(&self, alpha: T, b: MatRef<'_, T>, beta: T, c: MatMut<'_, T>) {
        match self {
            Self::InPlace(w) => gemm(alpha, *w, b, beta, c),
            Self::Packed(w) => gemm_packed(alpha, w, b, beta, c),
        }
    }
}

/// Sizes of a gated step's buffers per sample: `rows = G*H` gate values, `s` state values, `c`
/// cache values.
#[derive(Clone, Copy)]
pub(crate) struct StepSizes {
    pub rows: usize,
    pub s: usize,
    pub c: usize,
}

/// The cell's pointwise forward of one step, over column ranges in parallel when worth it (each
/// range a call of its own: see the column rule on [`GatedCell`]).
pub(crate) fn forward_pointwise<T: Real>(
    g: &dyn GatedCell<Real = T>,
    z: StepSizes,
    f: PointwiseForward<'_, T>,
) {
    let batch = f.batch;
    let bp = part_columns(batch, 2 * z.rows + 2 * z.s + z.c);
    if bp >= batch || z.c == 0 || z.s == 0 {
        return g.forward_pointwise(f);
    }
    let PointwiseForward {
        gi,
        gh,
        prev,
        next,
        cache,
        ..
    } = f;
    next.par_chunks_mut(z.s * bp)
        .zip(cache.par_chunks_mut(z.c * bp))
        .enumerate()
        .for_each(|(k, (next, cache))| {
            let (b0, nb) = (k * bp, next.len() / z.s);
            g.forward_pointwise(PointwiseForward {
                gi: &gi[z.rows * b0..][..z.rows * nb],
                gh: &gh[z.rows * b0..][..z.rows * nb],
                prev: &prev[z.s * b0..][..z.s * nb],
                next,
                cache,
                batch: nb,
            });
        });
}

/// The cell's pointwise backward of one step, over column ranges in parallel when worth it. An
/// empty `d_gh` (a cell whose `d_gh` is `d_gi`) stays empty in every range.
pub(crate) fn backward_pointwise<T: Real>(
    g: &dyn GatedCell<Real = T>,
    z: StepSizes,
    b: PointwiseBackward<'_, T>,
) {
    let batch = b.batch;
    let bp = part_columns(batch, 2 * z.rows + 3 * z.s + z.c);
    if bp >= batch || z.rows == 0 || z.s == 0 {
        return g.backward_pointwise(b);
    }
    let PointwiseBackward {
        cache,
        prev,
        d_next,
        d_gi,
        d_gh,
        d_prev,
        ..
    } = b;
    let part = |k: usize, d_gi: &mut [T], d_gh: &mut [T], d_prev: &mut [T]| {
        let (b0, nb) = (k * bp, d_prev.len() / z.s);
        g.backward_pointwise(PointwiseBackward {
            cache: &cache[z.c * b0..][..z.c * nb],
            prev: &prev[z.s * b0..][..z.s * nb],
            d_next: &d_next[z.s * b0..][..z.s * nb],
            d_gi,
            d_gh,
            d_prev,
            batch: nb,
        });
    };
    let parts = d_gi
        .par_chunks_mut(z.rows * bp)
        .zip(d_prev.par_chunks_mut(z.s * bp))
        .enumerate();
    if d_gh.is_empty() {
        parts.for_each(|(k, (d_gi, d_prev))| part(k, d_gi, &mut [], d_prev));
    } else {
        parts
            .zip(d_gh.par_chunks_mut(z.rows * bp))
            .for_each(|((k, (d_gi, d_prev)), d_gh)| part(k, d_gi, d_gh, d_prev));
    }
}
