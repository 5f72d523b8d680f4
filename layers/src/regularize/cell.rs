//! The wrapper cell: a cell whose input is `[x_t; masks]`, stepping the wrapped cell on `x_t`
//! with the masks applied (see the [module docs](super)).

use rnnzoo_cell::{Cell, CellExt, GeneralStep, Params, Real, StepBackward, StepForm, StepForward};

use super::{variational, zoneout};

/// Where a column's mask rows are: after the wrapped cell's `input` rows, `dropout` rows of the
/// recurrent dropout mask (`hidden` or none), then `zoneout` rows of the zoneout mask (`state` or
/// none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rows {
    pub input: usize,
    pub hidden: usize,
    pub state: usize,
    pub dropout: usize,
    pub zoneout: usize,
}

impl Rows {
    /// Rows of a column of the wrapper's input.
    pub fn total(&self) -> usize {
        self.input + self.dropout + self.zoneout
    }
}

/// `cell` reading `[x_t; masks]`: its step reads `[m ∘ h_{t-1}; rest_{t-1}]` (with dropout rows)
/// and its new state is mixed with the previous one by the zoneout mask (with zoneout rows).
/// Mode, parameters, hidden and state sizes and cache are the wrapped cell's.
///
/// The mask rows are constants: backward writes zero for them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Masked<C> {
    pub cell: C,
    pub rows: Rows,
}

impl<T: Real, C: Cell<T>> Cell<T> for Masked<C> {
    fn input_size(&self) -> usize {
        self.rows.total()
    }
    fn hidden_size(&self) -> usize {
        self.cell.hidden_size()
    }
    fn state_size(&self) -> usize {
        self.cell.state_size()
    }
    fn cache_size(&self) -> usize {
        self.cell.cache_size()
    }
    fn mode(&self) -> &str {
        self.cell.mode()
    }
    fn params(&self) -> &Params<T> {
        self.cell.params()
    }
    fn params_mut(&mut self) -> &mut Params<T> {
        self.cell.params_mut()
    }
    fn form(&self) -> StepForm<'_, T> {
        StepForm::General(self)
    }
    fn constrain(&mut self) {
        self.cell.constrain()
    }
    fn settings(&self) -> String {
        self.cell.settings()
    }
}

impl<C> Masked<C> {
    /// The scratch split: the step's `x_t` (`input x batch`), its `d x_t`, the masked previous
    /// state (`state x batch`, with dropout), the gradient given to the cell's step (`state x
    /// batch`, with zoneout), then the wrapped cell's own scratch.
    fn split<'a, T>(&self, s: &'a mut [T], batch: usize) -> Scratch<'a, T> {
        let r = self.rows;
        let (x, s) = s.split_at_mut(r.input * batch);
        let (d_x, s) = s.split_at_mut(r.input * batch);
        let (prev, s) = s.split_at_mut(if r.dropout > 0 { r.state * batch } else { 0 });
        let (d_new, inner) = s.split_at_mut(if r.zoneout > 0 { r.state * batch } else { 0 });
        Scratch {
            x,
            d_x,
            prev,
            d_new,
            inner,
        }
    }

    /// The step's `x_t`, the first `input` rows of every column of `x`, into `out`.
    fn gather_x<T: Copy>(&self, x: &[T], out: &mut [T], batch: usize) {
        let (i, n) = (self.rows.input, self.rows.total());
        for b in 0..batch {
            out[b * i..][..i].copy_from_slice(&x[b * n..][..i]);
        }
    }

    /// The state the wrapped cell's step reads: `prev` itself, or its copy in `buf` with the `h`
    /// rows masked.
    fn cell_prev<'a, T: Real>(&self, x: &[T], prev: &'a [T], buf: &'a mut [T]) -> &'a [T] {
        let r = self.rows;
        if r.dropout == 0 {
            return prev;
        }
        buf.copy_from_slice(prev);
        variational::apply(buf, r.state, r.hidden, x, r.total(), r.input);
        buf
    }
}

struct Scratch<'a, T> {
    x: &'a mut [T],
    d_x: &'a mut [T],
    prev: &'a mut [T],
    d_new: &'a mut [T],
    inner: &'a mut [T],
}

const SIZED: &str = "the wrapper sizes every buffer of the wrapped cell's step from its sizes";

impl<T: Real, C: Cell<T>> GeneralStep<T> for Masked<C> {
    fn scratch_size(&self, batch: usize) -> usize {
        let r = self.rows;
        let prev = if r.dropout > 0 { r.state } else { 0 };
        let d_new = if r.zoneout > 0 { r.state } else { 0 };
        (2 * r.input + prev + d_new) * batch + self.cell.step_scratch_size(batch)
    }

    fn forward(&self, s: StepForward<'_, T>) {
        let (r, batch) = (self.rows, s.batch);
        let sc = self.split(s.scratch, batch);
        self.gather_x(s.x, sc.x, batch);
        let prev = self.cell_prev(s.x, s.prev, sc.prev);
        self.cell
            .step_forward(StepForward {
                x: sc.x,
                prev,
                next: &mut *s.next,
                cache: s.cache,
                batch,
                scratch: sc.inner,
            })
            .expect(SIZED);
        if r.zoneout > 0 {
            zoneout::mix(s.next, s.prev, r.state, s.x, r.total(), r.input + r.dropout);
        }
    }

    fn backward(&self, s: StepBackward<'_, T>, grads: &mut Params<T>) {
        let (r, batch, n) = (self.rows, s.batch, self.rows.total());
        let sc = self.split(s.scratch, batch);
        self.gather_x(s.x, sc.x, batch);
        let prev = self.cell_prev(s.x, s.prev, sc.prev);
        let zone_at = r.input + r.dropout;
        let d_new: &[T] = if r.zoneout > 0 {
            zoneout::unmix_new(sc.d_new, s.d_next, r.state, s.x, n, zone_at);
            sc.d_new
        } else {
            s.d_next
        };
        self.cell
            .step_backward(
                StepBackward {
                    x: sc.x,
                    prev,
                    cache: s.cache,
                    d_next: d_new,
                    d_x: &mut *sc.d_x,
                    d_prev: &mut *s.d_prev,
                    batch,
                    scratch: sc.inner,
                },
                grads,
            )
            .expect(SIZED);
        // d prev = m ∘ (the step's d prev, h rows) + d ∘ d_next: the mask scales the path through
        // the step, zoneout's kept path reads the unmasked state.
        if r.dropout > 0 {
            variational::apply(s.d_prev, r.state, r.hidden, s.x, n, r.input);
        }
        if r.zoneout > 0 {
            zoneout::unmix_prev(s.d_prev, s.d_next, r.state, s.x, n, zone_at);
        }
        for b in 0..batch {
            let dc = &mut s.d_x[b * n..][..n];
            dc[..r.input].copy_from_slice(&sc.d_x[b * r.input..][..r.input]);
            dc[r.input..].fill(T::zero());
        }
    }
}
