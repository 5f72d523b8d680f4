//! One layer of a session: its cell's step on buffers owned for the session's lifetime.

use rnnzoo_cell::gemm::{MatMut, MatRef, PackedA, gemm_packed};
use rnnzoo_cell::scan::ScanForward;
use rnnzoo_cell::{Cell, PointwiseForward, Real, StepForm, StepForward, broadcast_bias, h_view};

/// A layer's cell and everything its step writes, allocated once.
pub(super) struct StreamLayer<'m, T> {
    cell: &'m dyn Cell<T>,
    /// Gated cells: `W_ih` and `W_hh` packed once (the unroller's per-call packing, paid once per
    /// session instead of once per step).
    packed: Option<(PackedA<T>, PackedA<T>)>,
    /// `[gi; gh]` (gated) or the general step's scratch (with what `begin_pass` wrote).
    scratch: Vec<T>,
    /// The carried state, `state_size x batch`.
    pub state: Vec<T>,
    next: Vec<T>,
    cache: Vec<T>,
    /// The output `h` of the last step, `hidden x batch` (the next layer's input).
    pub output: Vec<T>,
}

impl<'m, T: Real> StreamLayer<'m, T> {
    pub fn new(cell: &'m dyn Cell<T>, batch: usize) -> Self {
        let (s, h, c) = (cell.state_size(), cell.hidden_size(), cell.cache_size());
        let (packed, scratch) = match cell.form() {
            StepForm::Gated(g) => {
                let w = g.weights();
                let (p, gp) = (w.params(), w.gate_params());
                let rows = w.gates() * h;
                let packed = (
                    PackedA::new(p[gp.weight_ih].view()),
                    PackedA::new(p[gp.weight_hh].view()),
                );
                (Some(packed), vec![T::zero(); 2 * rows * batch])
            }
            StepForm::General(g) => {
                // A session is one pass: the cell's once-per-pass work (expRNN's expm) runs here,
                // and every step reads what it wrote.
                let mut scratch = vec![T::zero(); g.scratch_size(batch)];
                g.begin_pass(&mut scratch, batch);
                (None, scratch)
            }
            StepForm::Scan(_) => (None, Vec::new()),
        };
        Self {
            cell,
            packed,
            scratch,
            state: vec![T::zero(); s * batch],
            next: vec![T::zero(); s * batch],
            cache: vec![T::zero(); c * batch],
            output: vec![T::zero(); h * batch],
        }
    }

    /// One step from `x` (`input_size x batch`, checked by the caller): the state moves on and
    /// `output` holds the step's `h`.
    pub fn step(&mut self, x: &[T], batch: usize) {
        let (h, s) = (self.cell.hidden_size(), self.cell.state_size());
        match self.cell.form() {
            StepForm::Gated(g) => {
                let w = g.weights();
                let (p, gp) = (w.params(), w.gate_params());
                let rows = w.gates() * h;
                let (w_ih, w_hh) = self.packed.as_ref().expect("packed for a gated cell");
                let (gi, gh) = self.scratch.split_at_mut(rows * batch);
                broadcast_bias(gi, gp.bias_ih.map(|k| p[k].data()), rows);
                broadcast_bias(gh, gp.bias_hh.map(|k| p[k].data()), rows);
                let xv = MatRef::col_major(x, self.cell.input_size(), batch).expect("x checked");
                let one = T::one();
                gemm_packed(
                    one,
                    w_ih,
                    xv,
                    one,
                    MatMut::col_major(gi, rows, batch).unwrap(),
                );
                let hv = h_view(&self.state, h, s, batch);
                gemm_packed(
                    one,
                    w_hh,
                    hv,
                    one,
                    MatMut::col_major(gh, rows, batch).unwrap(),
                );
                g.forward_pointwise(PointwiseForward {
                    gi,
                    gh,
                    prev: &self.state,
                    next: &mut self.next,
                    cache: &mut self.cache,
                    batch,
                });
            }
            StepForm::General(g) => g.forward(StepForward {
                x,
                prev: &self.state,
                next: &mut self.next,
                cache: &mut self.cache,
                batch,
                scratch: &mut self.scratch,
            }),
            StepForm::Scan(p) => p.forward(ScanForward {
                x,
                initial: &self.state,
                states: &mut self.next,
                cache: &mut self.cache,
                steps: 1,
                batch,
            }),
        }
        std::mem::swap(&mut self.state, &mut self.next);
        for (out, st) in self
            .output
            .chunks_exact_mut(h)
            .zip(self.state.chunks_exact(s))
        {
            out.copy_from_slice(&st[..h]);
        }
    }
}
