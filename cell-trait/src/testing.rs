//! One step of a cell with every output poisoned first: what a cell's own tests call to hold a
//! step to the contract's rules (outputs are written, never read; scratch holds anything).
//!
//! ```
//! use rnnzoo_cell::testing::{backward_step, forward_step};
//! use rnnzoo_cell::{seeded, Cell, GateWeights, GatedCell, PointwiseBackward, PointwiseForward, Real};
//!
//! # struct Tanh<T> { w: GateWeights<T> }
//! # impl<T: Real> GatedCell for Tanh<T> {
//! #     type Real = T;
//! #     fn weights(&self) -> &GateWeights<T> { &self.w }
//! #     fn weights_mut(&mut self) -> &mut GateWeights<T> { &mut self.w }
//! #     fn mode(&self) -> &str { "TANH" }
//! #     fn cache_size(&self) -> usize { self.w.hidden() }
//! #     fn d_gh_is_d_gi(&self) -> bool { true }
//! #     fn forward_pointwise(&self, f: PointwiseForward<'_, T>) {
//! #         for i in 0..f.next.len() { f.cache[i] = (f.gi[i] + f.gh[i]).tanh(); f.next[i] = f.cache[i]; }
//! #     }
//! #     fn backward_pointwise(&self, b: PointwiseBackward<'_, T>) {
//! #         for i in 0..b.d_next.len() { b.d_gi[i] = b.d_next[i] * (T::one() - b.cache[i] * b.cache[i]); b.d_prev[i] = T::zero(); }
//! #     }
//! # }
//! let mut w = GateWeights::<f64>::zeros(2, 3, 1, true)?;
//! w.init_pytorch(&mut seeded(0));
//! let cell = Tanh { w };
//! let (x, prev) = (vec![0.5; 2 * 4], vec![0.1; 3 * 4]);
//! let (next, _cache) = forward_step(&cell, &x, &prev, 4);
//! assert!(next.iter().all(|v| v.is_finite())); // every output written
//! let mut grads = cell.params().zeros_like();
//! let (d_x, d_prev) = backward_step(&cell, &x, &prev, &next, 4, &mut grads, f64::NAN);
//! assert!(d_x.iter().chain(&d_prev).all(|v| v.is_finite()));
//! # Ok::<(), rnnzoo_cell::CellError>(())
//! ```

use crate::{Cell, CellExt, Params, Real, StepBackward, StepForward};

/// One forward step with `next`, `cache` and the scratch filled with NaN first, so that a value
/// the step forgets to write shows; returns `(next, cache)`.
///
/// # Panics
///
/// If `x` or `prev` is not the cell's size for `batch`: this is a test helper.
pub fn forward_step<T: Real>(
    cell: &dyn Cell<T>,
    x: &[T],
    prev: &[T],
    batch: usize,
) -> (Vec<T>, Vec<T>) {
    let mut next = vec![T::nan(); cell.state_size() * batch];
    let mut cache = vec![T::nan(); cell.cache_size() * batch];
    let mut scratch = vec![T::nan(); cell.step_scratch_size(batch)];
    cell.step_forward(StepForward {
        x,
        prev,
        next: &mut next,
        cache: &mut cache,
        batch,
        scratch: &mut scratch,
    })
    .expect("forward_step: buffers of the cell's sizes");
    (next, cache)
}

/// The forward step, then one backward step from `d_next` adding into `grads`, with `d_x` and
/// `d_prev` prefilled with `fill` (NaN to catch a step that reads them, a number to catch one
/// that adds into them) and the scratch with NaN; returns `(d_x, d_prev)`.
///
/// # Panics
///
/// If a buffer is not the cell's size for `batch`: this is a test helper.
pub fn backward_step<T: Real>(
    cell: &dyn Cell<T>,
    x: &[T],
    prev: &[T],
    d_next: &[T],
    batch: usize,
    grads: &mut Params<T>,
    fill: T,
) -> (Vec<T>, Vec<T>) {
    let (_, cache) = forward_step(cell, x, prev, batch);
    let mut d_x = vec![fill; x.len()];
    let mut d_prev = vec![fill; prev.len()];
    let mut scratch = vec![T::nan(); cell.step_scratch_size(batch)];
    let step = StepBackward {
        x,
        prev,
        cache: &cache,
        d_next,
        d_x: &mut d_x,
        d_prev: &mut d_prev,
        batch,
        scratch: &mut scratch,
    };
    cell.step_backward(step, grads)
        .expect("backward_step: buffers of the cell's sizes");
    (d_x, d_prev)
}
