//! The forward loop over time.
//!
//! Gated cells: the input product `W_ih X + b_ih` is hoisted out of the step loop, one GEMM per
//! chunk of steps (see [`super::work`]); each step is one GEMM (`W_hh h_{t-1} + b_hh`, on `W_hh`
//! packed once per call) and the cell's elementwise part, split over the pool's threads when the
//! batch is large. General cells: one call to the cell's step per step. after one call to the
//! cell's `GeneralStep::begin_pass` for the pass. Either way every
//! buffer is allocated before the loop.

use rnnzoo_cell::gemm::{MatMut, MatRef, PackedA, gemm_packed};
use rnnzoo_cell::scan::ScanForward;
use rnnzoo_cell::{Cell, PointwiseForward, Real, StepForm, StepForward, broadcast_bias, h_view};

use super::work::{
    StepSizes, Weight, chunk_steps, forward_pointwise, packs_w_ih, scan_chunk_steps,
};

/// What the loop produced. With `keep`, `states` holds all `T + 1` states (slot `t` is the state
/// before step `t`) and `cache` every step's cache; without, what the loop needed. The final state
/// is each sample's state after its last valid step.
pub(crate) struct Forward<T> {
    pub output: Vec<T>,
    pub states: Vec<T>,
    pub cache: Vec<T>,
    pub final_state: Vec<T>,
}

pub(crate) struct Shape {
    pub steps: usize,
    pub batch: usize,
    /// Steps per chunk of the hoisted products (see [`super::work`]).
    pub chunk: usize,
}

impl Shape {
    /// `steps x batch` with the default chunk.
    pub fn new(steps: usize, batch: usize) -> Self {
        Self {
            steps,
            batch,
            chunk: chunk_steps(batch, steps),
        }
    }
}

/// Runs `cell` over `x` (`I x T*B`, padded columns already zero) from `init` (`S x B`).
pub(crate) fn run<T: Real, C: Cell<T> + ?Sized>(
    cell: &C,
    x: &[T],
    shape: &Shape,
    init: Option<&[T]>,
    lengths: Option<&[usize]>,
    keep: bool,
) -> Forward<T> {
    let (steps, batch) = (shape.steps, shape.batch);
    let (i, h, s, c) = (
        cell.input_size(),
        cell.hidden_size(),
        cell.state_size(),
        cell.cache_size(),
    );
    let (sb, cb) = (s * batch, c * batch);
    let state_slots = if keep { steps + 1 } else { 2 };
    let mut states = vec![T::zero(); state_slots * sb];
    if let Some(init) = init {
        states[..sb].copy_from_slice(init);
    }
    let mut cache = vec![T::zero(); if keep { steps * cb } else { cb }];
    let mut output = vec![T::zero(); h * steps * batch];

    match cell.form() {
        StepForm::Gated(g) => {
            let w = g.weights();
            let (p, gp) = (w.params(), w.gate_params());
            let rows = w.gates() * h;
            let z = StepSizes { rows, s, c };
            // One workspace per call: a chunk of input products, one step's recurrent product
            // and the weights packed for the kernel (see `work`); nothing is allocated in the
            // loop.
            let chunk = shape.chunk.clamp(1, steps.max(1));
            let mut gi = vec![T::zero(); rows * chunk * batch];
            let mut gh = vec![T::zero(); rows * batch];
            let w_hh = PackedA::new(p[gp.weight_hh].view());
            let w_ih = Weight::packed_if(p[gp.weight_ih].view(), packs_w_ih(steps, batch));
            let (b_ih, b_hh) = (
                gp.bias_ih.map(|k| p[k].data()),
                gp.bias_hh.map(|k| p[k].data()),
            );
            for t0 in (0..steps).step_by(chunk) {
                let cols = chunk.min(steps - t0) * batch;
                let gi = &mut gi[..rows * cols];
                broadcast_bias(gi, b_ih, rows);
                let xv = MatRef::col_major(&x[t0 * batch * i..][..cols * i], i, cols)
                    .expect("input checked by the caller");
                w_ih.gemm(
                    T::one(),
                    xv,
                    T::one(),
                    MatMut::col_major(gi, rows, cols).expect("sized above"),
                );
                for (k, gi_t) in gi.chunks_exact(rows * batch).enumerate() {
                    let t = t0 + k;
                    let (prev, next) = slots(&mut states, sb, t, keep);
                    broadcast_bias(&mut gh, b_hh, rows);
                    gemm_packed(
                        T::one(),
                        &w_hh,
                        h_view(prev, h, s, batch),
                        T::one(),
                        MatMut::col_major(&mut gh, rows, batch).expect("sized above"),
                    );
                    let cache_t = &mut cache[if keep { t * cb } else { 0 }..][..cb];
                    let f = PointwiseForward {
                        gi: gi_t,
                        gh: &gh,
                        prev,
                        next: &mut *next,
                        cache: cache_t,
                        batch,
                    };
                    forward_pointwise(g, z, f);
                    finish_step(
                        prev,
                        next,
                        &mut output[t * h * batch..][..h * batch],
                        h,
                        s,
                        t,
                        lengths,
                    );
                }
            }
        }
        StepForm::General(g) => {
            // One scratch for the whole pass, never zeroed between steps (the rule on
            // `GeneralStep`).
            let mut scratch = vec![T::zero(); g.scratch_size(batch)];
            // The cell's work once per pass (a no-op for most cells; see `GeneralStep`).
            g.begin_pass(&mut scratch, batch);
            for t in 0..steps {
                let (prev, next) = slots(&mut states, sb, t, keep);
                g.forward(StepForward {
                    x: &x[t * i * batch..][..i * batch],
                    prev,
                    next: &mut *next,
                    cache: &mut cache[if keep { t * cb } else { 0 }..][..cb],
                    batch,
                    scratch: &mut scratch,
                });
                finish_step(
                    prev,
                    next,
                    &mut output[t * h * batch..][..h * batch],
                    h,
                    s,
                    t,
                    lengths,
                );
            }
        }
        StepForm::Scan(p) => {
            // The whole pass at once, over every step of every sample: a scan is causal, so a
            // padded step's (zero) input reaches no valid step, and its state is never read.
            let mut all = if keep {
                std::mem::take(&mut states)
            } else {
                let mut all = vec![T::zero(); (steps + 1) * sb];
                all[..sb].copy_from_slice(&states[..sb]);
                all
            };
            if !keep {
                cache = vec![T::zero(); steps * cb];
            }
            // In chunks of steps, each a pass from the state the last one ended in (a pass is
            // causal, so this is the same function): the cell's temporaries stay the size of a
            // chunk and in cache, and time per step does not grow with T.
            let chunk = scan_chunk_steps(batch, steps);
            for t0 in (0..steps).step_by(chunk) {
                let len = chunk.min(steps - t0);
                let (before, after) = all.split_at_mut((t0 + 1) * sb);
                p.forward(ScanForward {
                    x: &x[t0 * i * batch..][..len * i * batch],
                    initial: &before[t0 * sb..],
                    states: &mut after[..len * sb],
                    cache: &mut cache[t0 * cb..][..len * cb],
                    steps: len,
                    batch,
                });
            }
            let final_state = scan_outputs(&all, &mut output, h, s, steps, batch, lengths);
            if !keep {
                cache = Vec::new();
            }
            return Forward {
                output,
                states: if keep { all } else { Vec::new() },
                cache,
                final_state,
            };
        }
    }
    let final_state = if keep {
        states[steps * sb..].to_vec()
    } else {
        states[(steps % 2) * sb..][..sb].to_vec()
    };
    Forward {
        output,
        states,
        cache,
        final_state,
    }
}

/// The outputs of a scan pass (`all` holds its `T + 1` states) with padded steps zero, and each
/// sample's state after its last valid step.
fn scan_outputs<T: Real>(
    all: &[T],
    output: &mut [T],
    h: usize,
    s: usize,
    steps: usize,
    batch: usize,
    lengths: Option<&[usize]>,
) -> Vec<T> {
    let sb = s * batch;
    for t in 0..steps {
        let after = &all[(t + 1) * sb..][..sb];
        let out = &mut output[t * h * batch..][..h * batch];
        for (b, (out, state)) in out
            .chunks_exact_mut(h)
            .zip(after.chunks_exact(s))
            .enumerate()
        {
            if lengths.is_some_and(|l| t >= l[b]) {
                out.fill(T::zero());
            } else {
                out.copy_from_slice(&state[..h]);
            }
        }
    }
    let mut final_state = vec![T::zero(); sb];
    for (b, col) in final_state.chunks_exact_mut(s).enumerate() {
        let last = lengths.map_or(steps, |l| l[b]);
        col.copy_from_slice(&all[last * sb + b * s..][..s]);
    }
    final_state
}

/// The state before step `t` and the slot for the state after it.
pub(crate) fn slots<T>(states: &mut [T], sb: usize, t: usize, keep: bool) -> (&[T], &mut [T]) {
    let (a, b) = if keep {
        (t, t + 1)
    } else {
        (t % 2, (t + 1) % 2)
    };
    if a < b {
        let (lo, hi) = states.split_at_mut(b * sb);
        (&lo[a * sb..], &mut hi[..sb])
    } else {
        let (lo, hi) = states.split_at_mut(a * sb);
        (&hi[..sb], &mut lo[b * sb..][..sb])
    }
}

/// Padded samples carry their state and output zero; valid samples output `h`.
fn finish_step<T: Real>(
    prev: &[T],
    next: &mut [T],
    out: &mut [T],
    h: usize,
    s: usize,
    t: usize,
    lengths: Option<&[usize]>,
) {
    for (b, (out, next)) in out
        .chunks_exact_mut(h)
        .zip(next.chunks_exact_mut(s))
        .enumerate()
    {
        if lengths.is_some_and(|l| t >= l[b]) {
            next.copy_from_slice(&prev[b * s..][..s]);
            out.fill(T::zero());
        } else {
            out.copy_from_slice(&next[..h]);
        }
    }
}
