//! Backpropagation through time.
//!
//! Gated cells: per step, only the cell's elementwise backward and `d h_{t-1} += W_hh^T d gh_t`
//! are serial. `dW_ih = dGI X^T`, `dW_hh = dGH H_prev^T`, the bias sums and `dX = W_ih^T dGI` are
//! each one GEMM (or one pass) per chunk of steps (see [`super::work`]), after that chunk's steps,
//! so the gate gradients are never held for the whole sequence. A cell whose `d_gh` is `d_gi`
//! (vanilla, LSTM) writes `d_gi` only: no `d_gh` buffer, and one bias sum serves both biases.
//! General cells: the cell's step backward per step, between the cell's per-pass hooks
//! (`GeneralStep::begin_pass` before the first, `end_backward` after the last). Scan cells: one
//! call for the whole pass (`ScanPass::backward`), given the gradient at every step's state.

use rnnzoo_cell::gemm::{MatMut, MatRef, gemm};
use rnnzoo_cell::scan::ScanBackward;
use rnnzoo_cell::{
    Cell, Params, PointwiseBackward, Real, StepBackward, StepForm, add_row_sums, flush_tiny,
};

use super::forward::Shape;
use super::work::{StepSizes, Weight, backward_pointwise, packs_w_hh_t, scan_chunk_steps};

/// What backward needs from the tape, borrowed.
pub(crate) struct Recorded<'a, T> {
    pub x: &'a [T],
    pub states: &'a [T],
    pub cache: &'a [T],
    pub lengths: Option<&'a [usize]>,
}

/// Returns `(d_x, d_initial)` and adds the parameter gradients to `grads`. `d_output` is in the
/// cell's step order (already reversed for a reversed layer).
pub(crate) fn run<T: Real, C: Cell<T> + ?Sized>(
    cell: &C,
    rec: &Recorded<'_, T>,
    shape: &Shape,
    d_output: &[T],
    d_final: Option<&[T]>,
    grads: &mut Params<T>,
) -> (Vec<T>, Vec<T>) {
    let (steps, batch) = (shape.steps, shape.batch);
    let (i, h, s, c) = (
        cell.input_size(),
        cell.hidden_size(),
        cell.state_size(),
        cell.cache_size(),
    );
    let (sb, cb, n) = (s * batch, c * batch, steps * batch);
    let mut d_state = match d_final {
        Some(d) => d.to_vec(),
        None => vec![T::zero(); sb],
    };
    let mut d_prev = vec![T::zero(); sb];
    let mut d_x = vec![T::zero(); i * n];
    let padded = |t: usize, b: usize| rec.lengths.is_some_and(|l| t >= l[b]);

    match cell.form() {
        StepForm::Gated(g) => {
            let w = g.weights();
            let (p, gp) = (w.params(), w.gate_params());
            let rows = w.gates() * h;
            let z = StepSizes { rows, s, c };
            // A cell whose d_gh is d_gi writes d_gi only: no d_gh buffer, and the products and the
            // bias sums read d_gi in its place.
            let shared = g.d_gh_is_d_gi();
            // The gate gradients of one chunk of steps; the products over them run once per
            // chunk, after its steps (see `work`).
            let chunk = shape.chunk.clamp(1, steps.max(1));
            let mut d_gi = vec![T::zero(); rows * chunk * batch];
            let mut d_gh = vec![T::zero(); if shared { 0 } else { rows * chunk * batch }];
            // With a shared d_gh the bias gradient is summed once, over the whole sequence, and
            // added to both biases at the end (the same sums, in the same order, as adding the
            // columns to each bias in turn).
            let mut bias_sum = vec![T::zero(); if shared { rows } else { 0 }];
            // Column-major as it lies; packed only when large (see `work`).
            let w_hh_t = Weight::packed_if(p[gp.weight_hh].view().t(), packs_w_hh_t(rows * h));
            let w_ih_t = p[gp.weight_ih].view().t();
            let starts: Vec<usize> = (0..steps).step_by(chunk).collect();
            for &t0 in starts.iter().rev() {
                let len = chunk.min(steps - t0);
                let cols = len * batch;
                for t in (t0..t0 + len).rev() {
                    add_output_grad(
                        &mut d_state,
                        &d_output[t * h * batch..][..h * batch],
                        h,
                        s,
                        |b| padded(t, b),
                    );
                    let off = (t - t0) * rows * batch;
                    let d_gi_t = &mut d_gi[off..][..rows * batch];
                    let d_gh_t: &mut [T] = if shared {
                        &mut []
                    } else {
                        &mut d_gh[off..][..rows * batch]
                    };
                    let prev = &rec.states[t * sb..][..sb];
                    let step = PointwiseBackward {
                        cache: &rec.cache[t * cb..][..cb],
                        prev,
                        d_next: &d_state,
                        d_gi: &mut *d_gi_t,
                        d_gh: &mut *d_gh_t,
                        d_prev: &mut d_prev,
                        batch,
                    };
                    backward_pointwise(g, z, step);
                    for b in (0..batch).filter(|&b| padded(t, b)) {
                        // A padded step is the identity on the state: its gradient passes unchanged.
                        d_gi_t[b * rows..][..rows].fill(T::zero());
                        if !shared {
                            d_gh_t[b * rows..][..rows].fill(T::zero());
                        }
                        d_prev[b * s..][..s].copy_from_slice(&d_state[b * s..][..s]);
                    }
                    // A vanished gradient must not reach the GEMMs subnormal (see `flush_tiny`):
                    // zero it in what they read, and in what the next step reads.
                    flush_tiny(d_gi_t);
                    flush_tiny(d_gh_t);
                    let d_h = MatMut::new(&mut d_prev, h, batch, 1, s).expect("sized above");
                    let d_gh_t = if shared { &*d_gi_t } else { &*d_gh_t };
                    let d_gh_t = MatRef::col_major(d_gh_t, rows, batch).expect("sized above");
                    w_hh_t.gemm(T::one(), d_gh_t, T::one(), d_h);
                    flush_tiny(&mut d_prev);
                    std::mem::swap(&mut d_state, &mut d_prev);
                }
                let d_gi_c = &d_gi[..rows * cols];
                let d_gh_c = if shared { d_gi_c } else { &d_gh[..rows * cols] };
                let d_gi_v = MatRef::col_major(d_gi_c, rows, cols).unwrap();
                let d_gh_v = MatRef::col_major(d_gh_c, rows, cols).unwrap();
                let xv = MatRef::col_major(&rec.x[t0 * batch * i..][..cols * i], i, cols).unwrap();
                // h_{t-1} for every step of the chunk: the h rows of state slots t0..t0+len.
                let h_prev =
                    MatRef::new(&rec.states[t0 * sb..][..len * sb], h, cols, 1, s).unwrap();
                gemm(
                    T::one(),
                    w_ih_t,
                    d_gi_v,
                    T::zero(),
                    MatMut::col_major(&mut d_x[t0 * batch * i..][..cols * i], i, cols).unwrap(),
                );
                gemm(
                    T::one(),
                    d_gi_v,
                    xv.t(),
                    T::one(),
                    MatMut::row_major(grads.at_mut(gp.weight_ih).data_mut(), rows, i).unwrap(),
                );
                gemm(
                    T::one(),
                    d_gh_v,
                    h_prev.t(),
                    T::one(),
                    MatMut::row_major(grads.at_mut(gp.weight_hh).data_mut(), rows, h).unwrap(),
                );
                if shared {
                    if gp.bias_ih.is_some() {
                        add_row_sums(&mut bias_sum, d_gi_c, rows);
                    }
                } else {
                    if let Some(k) = gp.bias_ih {
                        add_row_sums(grads.at_mut(k).data_mut(), d_gi_c, rows);
                    }
                    if let Some(k) = gp.bias_hh {
                        add_row_sums(grads.at_mut(k).data_mut(), d_gh_c, rows);
                    }
                }
            }
            if shared {
                for k in [gp.bias_ih, gp.bias_hh].into_iter().flatten() {
                    for (a, &v) in grads.at_mut(k).data_mut().iter_mut().zip(&bias_sum) {
                        *a += v;
                    }
                }
            }
        }
        StepForm::General(g) => {
            // One scratch for the whole pass, never zeroed between steps, and `d_prev` holds the
            // gradient of another step when the cell overwrites it (the rules on `GeneralStep`).
            let mut scratch = vec![T::zero(); g.scratch_size(batch)];
            let mut carried = vec![T::zero(); sb];
            // The cell's work once per pass: before the first step, and after the last (a
            // gradient the steps accumulated in the scratch); no-ops for most cells.
            g.begin_pass(&mut scratch, batch);
            for t in (0..steps).rev() {
                add_output_grad(
                    &mut d_state,
                    &d_output[t * h * batch..][..h * batch],
                    h,
                    s,
                    |b| padded(t, b),
                );
                // Backward is linear in d_state: zeroing a padded sample's column makes the cell
                // add nothing for it, and its gradient is carried past the step instead.
                for b in (0..batch).filter(|&b| padded(t, b)) {
                    carried[b * s..][..s].copy_from_slice(&d_state[b * s..][..s]);
                    d_state[b * s..][..s].fill(T::zero());
                }
                let d_x_t = &mut d_x[t * i * batch..][..i * batch];
                let step = StepBackward {
                    x: &rec.x[t * i * batch..][..i * batch],
                    prev: &rec.states[t * sb..][..sb],
                    cache: &rec.cache[t * cb..][..cb],
                    d_next: &d_state,
                    d_x: &mut *d_x_t,
                    d_prev: &mut d_prev,
                    batch,
                    scratch: &mut scratch,
                };
                g.backward(step, grads);
                for b in (0..batch).filter(|&b| padded(t, b)) {
                    d_prev[b * s..][..s].copy_from_slice(&carried[b * s..][..s]);
                    d_x_t[b * i..][..i].fill(T::zero());
                }
                flush_tiny(&mut d_prev);
                std::mem::swap(&mut d_state, &mut d_prev);
            }
            g.end_backward(&mut scratch, grads);
        }
        StepForm::Scan(p) => {
            // The gradient from outside the recurrence at each step's state: the output's at a
            // valid step, and the final state's at each sample's last valid step. Every later step
            // gets zero, so its state (run on padded input) contributes nothing.
            let mut d_states = vec![T::zero(); s * n];
            for t in 0..steps {
                let d_out = &d_output[t * h * batch..][..h * batch];
                let d_st = &mut d_states[t * sb..][..sb];
                for (b, (ds, dy)) in d_st
                    .chunks_exact_mut(s)
                    .zip(d_out.chunks_exact(h))
                    .enumerate()
                {
                    if !padded(t, b) {
                        ds[..h].copy_from_slice(dy);
                    }
                }
            }
            if let Some(d_final) = d_final {
                for (b, df) in d_final.chunks_exact(s).enumerate() {
                    let last = rec.lengths.map_or(steps, |l| l[b]) - 1;
                    let ds = &mut d_states[last * sb + b * s..][..s];
                    for (a, &v) in ds.iter_mut().zip(df) {
                        *a += v;
                    }
                }
            }
            // The forward pass's chunks, last first: each chunk's gradient at its initial state
            // joins the gradient from outside at the previous chunk's last step.
            let chunk = scan_chunk_steps(batch, steps);
            let starts: Vec<usize> = (0..steps).step_by(chunk).collect();
            for &t0 in starts.iter().rev() {
                let len = chunk.min(steps - t0);
                let (earlier, this) = d_states.split_at_mut(t0 * sb);
                p.backward(
                    ScanBackward {
                        x: &rec.x[t0 * i * batch..][..len * i * batch],
                        initial: &rec.states[t0 * sb..][..sb],
                        states: &rec.states[(t0 + 1) * sb..][..len * sb],
                        cache: &rec.cache[t0 * cb..][..len * cb],
                        d_states: &mut this[..len * sb],
                        d_x: &mut d_x[t0 * i * batch..][..len * i * batch],
                        d_initial: &mut d_state,
                        steps: len,
                        batch,
                    },
                    grads,
                );
                if t0 > 0 {
                    for (d, &g) in earlier[(t0 - 1) * sb..].iter_mut().zip(&d_state) {
                        *d += g;
                    }
                }
            }
            // A padded step's input is a constant zero: no gradient, whatever the pass wrote.
            for t in 0..steps {
                for b in (0..batch).filter(|&b| padded(t, b)) {
                    d_x[(t * batch + b) * i..][..i].fill(T::zero());
                }
            }
        }
    }
    (d_x, d_state)
}

/// `d_state[h rows] += d_output_t` for the valid samples (a padded output is a constant zero).
fn add_output_grad<T: Real>(
    d_state: &mut [T],
    d_out: &[T],
    h: usize,
    s: usize,
    padded: impl Fn(usize) -> bool,
) {
    for (b, (ds, dy)) in d_state
        .chunks_exact_mut(s)
        .zip(d_out.chunks_exact(h))
        .enumerate()
    {
        if !padded(b) {
            for (a, &v) in ds[..h].iter_mut().zip(dy) {
                *a += v;
            }
        }
    }
}
