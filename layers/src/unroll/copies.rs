//! Many copies of one gated pass, each with one value changed, run as the columns of one unroll:
//! the gradient checker's losses at many points at once.
//!
//! A finite-difference check evaluates the loss with one value moved, eight times per value. Run
//! one at a time, a pass of batch 1 is a matrix-vector product per step (LSTM I=H=64, T=50: 0.5 ms
//! a pass, 40,320 values, minutes). Here `K` changed copies are the `K*B` columns of one pass, so
//! each step is one wide GEMM. The copies share everything a change leaves alone:
//!
//! - the input product `W_ih X + b_ih` is computed once for `B` columns and broadcast to every
//!   copy;
//! - a changed weight or bias element is a rank-one term, not a changed weight matrix: moving
//!   `W_ih[r, c]` by `d` adds `d * x_t[c]` to row `r` of that copy's `gi`, moving `W_hh[r, c]`
//!   adds `d * h_{t-1}[c]` to its `gh`, a bias adds `d`; a changed input `x_t[c]` adds
//!   `d * W_ih[:, c]` to `gi` at the step that reads it; a changed initial state is the copy's own
//!   start.
//!
//! Only the gated form can do this: its columns are independent (the rule on
//! [`GatedCell`](rnnzoo_cell::GatedCell)), and its products are the unroller's, not the cell's. The
//! loss is the checker's linear one, `<d_out, output> + <d_final, final_state>`, accumulated step by
//! step, so no copy's output is stored.

use rnnzoo_cell::gemm::{MatMut, MatRef, PackedA, gemm, gemm_packed};
use rnnzoo_cell::{Cell, StepForm, broadcast_bias, h_view};

use super::Recurrent;
use super::work::{StepSizes, forward_pointwise};
use crate::gradcheck::dot;
use crate::{Direction, Inputs};

/// Which value of a gated pass a copy changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// Element `index` of the cell's parameter `param` (its index in [`Cell::params`]).
    Param { param: usize },
    /// Element `index` of the input, laid out as [`Inputs::x`].
    Input,
    /// Element `index` of the initial state, laid out as [`Inputs::initial`].
    Initial,
}

/// The role of a gated cell's parameter in the step.
#[derive(Clone, Copy)]
enum Role {
    WeightIh,
    WeightHh,
    BiasIh,
    BiasHh,
}

/// One copy's change, in the cell's step order.
#[derive(Clone, Copy)]
enum Change {
    /// `d` added to `W_ih[row, col]`, `W_hh[row, col]` or a bias row (`col` unused).
    Param { role: Role, row: usize, col: usize },
    /// `d` added to input feature `feature` of sample `sample` at the step `step` the cell reads it
    /// (after reordering); a padded input reaches nothing.
    Input {
        step: usize,
        sample: usize,
        feature: usize,
    },
    /// Nothing the pass reads (a padded input).
    None,
    /// Element `index` of the initial state set to `value` in the copy's start.
    Initial { index: usize, value: f64 },
}

impl<C: Cell<f64>> Recurrent<C> {
    /// The loss `<d_out, output> + <d_final, final_state>` of every copy of this pass on
    /// `inputs` (checked by the caller) with element `at[k].0` of `target` set to `at[k].1`, or
    /// `None` if the cell is not gated (or `target` names a parameter the gated step does not
    /// have). `d_out` is laid out as the output, `d_final` as the final state.
    pub(crate) fn perturbed_losses(
        &self,
        inputs: &Inputs<'_, f64>,
        d_out: &[f64],
        d_final: &[f64],
        target: Target,
        at: &[(usize, f64)],
    ) -> Option<Vec<f64>> {
        let StepForm::Gated(g) = self.cell.form() else {
            return None;
        };
        let w = g.weights();
        let (p, gp) = (w.params(), w.gate_params());
        let (i, h, s, c) = self.sizes::<f64>();
        let (steps, batch) = (inputs.steps, inputs.batch);
        let rows = w.gates() * h;
        let role = match target {
            Target::Param { param } if param == gp.weight_ih => Some(Role::WeightIh),
            Target::Param { param } if param == gp.weight_hh => Some(Role::WeightHh),
            Target::Param { param } if Some(param) == gp.bias_ih => Some(Role::BiasIh),
            Target::Param { param } if Some(param) == gp.bias_hh => Some(Role::BiasHh),
            Target::Param { .. } => return None,
            Target::Input | Target::Initial => None,
        };
        let reverse = self.direction == Direction::Reverse;
        let valid = |t: usize, b: usize| inputs.lengths.map_or(steps, |l| l[b]) > t;
        // Each copy's change and its size `d` (the value set minus the value there: exact, as
        // the checker's steps are powers of two scaled to the value; a changed initial state is
        // set, not added to).
        let (changes, deltas): (Vec<Change>, Vec<f64>) = at
            .iter()
            .map(|&(index, value)| match (target, role) {
                (Target::Param { param }, Some(role)) => {
                    let cols = p[param].cols();
                    let change = Change::Param {
                        role,
                        row: index / cols,
                        col: index % cols,
                    };
                    (change, value - p[param].data()[index])
                }
                (Target::Input, _) => {
                    let (feature, column) = (index % i, index / i);
                    let (t, sample) = (column / batch, column % batch);
                    let len = inputs.lengths.map_or(steps, |l| l[sample]);
                    let change = if !valid(t, sample) {
                        Change::None
                    } else {
                        Change::Input {
                            step: if reverse { len - 1 - t } else { t },
                            sample,
                            feature,
                        }
                    };
                    (change, value - inputs.x[index])
                }
                _ => (Change::Initial { index, value }, 0.0),
            })
            .unzip();
        let copies = at.len();
        let n = copies * batch;
        let x = self.prepare(inputs);
        let d_out = self.reorder(d_out, h, steps, batch, inputs.lengths);

        // Every copy starts from the initial state (its own, for a changed initial state).
        let mut prev = vec![0.0; s * n];
        for (k, start) in prev.chunks_exact_mut(s * batch).enumerate() {
            if let Some(init) = inputs.initial {
                start.copy_from_slice(init);
            }
            if let Change::Initial { index, value } = changes[k] {
                start[index] = value;
            }
        }
        let mut next = vec![0.0; s * n];
        let mut cache = vec![0.0; c * n];
        let mut losses = vec![0.0; copies];

        // The input product once, for `B` columns of every step.
        let mut gi_all = vec![0.0; rows * steps * batch];
        broadcast_bias(&mut gi_all, gp.bias_ih.map(|k| p[k].data()), rows);
        gemm(
            1.0,
            p[gp.weight_ih].view(),
            MatRef::col_major(&x, i, steps * batch).expect("input checked by the caller"),
            1.0,
            MatMut::col_major(&mut gi_all, rows, steps * batch).expect("sized above"),
        );
        let w_ih = p[gp.weight_ih].data();
        let w_hh = PackedA::new(p[gp.weight_hh].view());
        let b_hh = gp.bias_hh.map(|k| p[k].data());
        let mut gi = vec![0.0; rows * n];
        let mut gh = vec![0.0; rows * n];
        let z = StepSizes { rows, s, c };
        for t in 0..steps {
            let gi_t = &gi_all[t * rows * batch..][..rows * batch];
            gi.chunks_exact_mut(rows * batch)
                .for_each(|copy| copy.copy_from_slice(gi_t));
            broadcast_bias(&mut gh, b_hh, rows);
            gemm_packed(
                1.0,
                &w_hh,
                h_view(&prev, h, s, n),
                1.0,
                MatMut::col_major(&mut gh, rows, n).expect("sized above"),
            );
            for (k, (&change, &d)) in changes.iter().zip(&deltas).enumerate() {
                let columns = k * batch..(k + 1) * batch;
                match change {
                    Change::Param { role, row, col } => {
                        for (b, column) in columns.enumerate() {
                            let (buf, by) = match role {
                                Role::WeightIh => (&mut gi, x[(t * batch + b) * i + col]),
                                Role::WeightHh => (&mut gh, prev[column * s + col]),
                                Role::BiasIh => (&mut gi, 1.0),
                                Role::BiasHh => (&mut gh, 1.0),
                            };
                            buf[column * rows + row] += d * by;
                        }
                    }
                    Change::Input {
                        step,
                        sample,
                        feature,
                    } if step == t => {
                        let column = &mut gi[(k * batch + sample) * rows..][..rows];
                        for (g, w) in column.iter_mut().zip(w_ih.iter().skip(feature).step_by(i)) {
                            *g += d * w;
                        }
                    }
                    _ => {}
                }
            }
            forward_pointwise(
                g,
                z,
                rnnzoo_cell::PointwiseForward {
                    gi: &gi,
                    gh: &gh,
                    prev: &prev,
                    next: &mut next,
                    cache: &mut cache,
                    batch: n,
                },
            );
            // Padded samples carry their state and output zero; the rest add `<d_out_t, h_t>`.
            for (column, state) in next.chunks_exact_mut(s).enumerate() {
                let b = column % batch;
                if valid(t, b) {
                    let d = &d_out[(t * batch + b) * h..][..h];
                    losses[column / batch] += dot(&state[..h], d);
                } else {
                    state.copy_from_slice(&prev[column * s..][..s]);
                }
            }
            std::mem::swap(&mut prev, &mut next);
        }
        for (column, state) in prev.chunks_exact(s).enumerate() {
            let b = column % batch;
            losses[column / batch] += dot(state, &d_final[b * s..][..s]);
        }
        Some(losses)
    }
}
