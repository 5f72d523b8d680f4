//! One step of any cell, forward and backward, with its buffers checked: [`CellExt`].

use crate::gemm::{MatMut, MatRef, gemm};
use crate::scan::{ScanBackward, ScanForward};
use crate::{
    Cell, CellError, GatedCell, Param, Params, PointwiseBackward, PointwiseForward, Real,
    StepBackward, StepForm, StepForward, add_row_sums, broadcast_bias, h_view,
};

/// One step of any cell, whatever its form: for single-step inference, the gradient checker and
/// benchmarks. The unroller in `rnnzoo-layers` runs its own loops (the hoisted fast path for gated
/// cells) and never goes through these.
///
/// Implemented for every [`Cell`], `Box<dyn Cell<T>>` included, and for nothing else: a cell
/// cannot override these (a cell's step is its [`StepForm`]), so a cell behind a box steps exactly
/// as the same cell unboxed.
///
/// ```
/// use rnnzoo_cell::{seeded, CellError, CellExt, GateWeights, StepForward};
/// # use rnnzoo_cell::{GatedCell, PointwiseBackward, PointwiseForward};
/// # struct Relu(GateWeights<f64>);
/// # impl GatedCell for Relu {
/// #     type Real = f64;
/// #     fn weights(&self) -> &GateWeights<f64> { &self.0 }
/// #     fn weights_mut(&mut self) -> &mut GateWeights<f64> { &mut self.0 }
/// #     fn mode(&self) -> &str { "RNN_RELU" }
/// #     fn cache_size(&self) -> usize { self.0.hidden() }
/// #     fn d_gh_is_d_gi(&self) -> bool { true }
/// #     fn forward_pointwise(&self, f: PointwiseForward<'_, f64>) {
/// #         for i in 0..f.next.len() { f.next[i] = (f.gi[i] + f.gh[i]).max(0.0); f.cache[i] = f.next[i]; }
/// #     }
/// #     fn backward_pointwise(&self, b: PointwiseBackward<'_, f64>) {
/// #         for i in 0..b.d_gi.len() { b.d_gi[i] = if b.cache[i] > 0.0 { b.d_next[i] } else { 0.0 }; }
/// #         b.d_prev.fill(0.0);
/// #     }
/// # }
/// let mut w = GateWeights::zeros(2, 3, 1, true)?;
/// w.init_pytorch(&mut seeded(0));
/// let cell = Relu(w); // any cell: a gated relu RNN here, H = 3
/// let (x, prev) = ([1.0, -1.0], [0.0; 3]);
/// let (mut next, mut cache) = ([0.0; 3], [0.0; 3]);
/// let mut scratch = vec![0.0; cell.step_scratch_size(1)];
/// let mut step = |next: &mut [f64]| {
///     let scratch = &mut scratch[..];
///     cell.step_forward(StepForward { x: &x, prev: &prev, next, cache: &mut cache, batch: 1, scratch })
/// };
/// step(&mut next)?;
/// assert!(next.iter().all(|&v| v >= 0.0));
/// // A buffer of the wrong size is an error, not a panic.
/// assert_eq!(
///     step(&mut next[..2]),
///     Err(CellError::BufferSize { buffer: "next", expected: 3, got: 2, batch: 1 })
/// );
/// # Ok::<(), CellError>(())
/// ```
///
/// A cell that tries to replace its one-step path does not compile (`CellExt` is implemented for
/// it already):
///
/// ```compile_fail,E0119
/// use rnnzoo_cell::{CellError, CellExt, GateWeights, GatedCell, Params, PointwiseBackward,
///     PointwiseForward, StepBackward, StepForward};
///
/// struct Mine(GateWeights<f64>);
/// impl GatedCell for Mine {
///     type Real = f64;
///     fn weights(&self) -> &GateWeights<f64> { &self.0 }
///     fn weights_mut(&mut self) -> &mut GateWeights<f64> { &mut self.0 }
///     fn mode(&self) -> &str { "MINE" }
///     fn cache_size(&self) -> usize { 0 }
///     fn forward_pointwise(&self, f: PointwiseForward<'_, f64>) { f.next.fill(0.0) }
///     fn backward_pointwise(&self, b: PointwiseBackward<'_, f64>) { b.d_gi.fill(0.0) }
/// }
/// impl CellExt<f64> for Mine {
///     fn step_scratch_size(&self, _: usize) -> usize { 0 }
///     fn step_forward(&self, _: StepForward<'_, f64>) -> Result<(), CellError> { Ok(()) }
///     fn step_backward(&self, _: StepBackward<'_, f64>, _: &mut Params<f64>) -> Result<(), CellError> {
///         Ok(())
///     }
/// }
/// ```
pub trait CellExt<T: Real>: Cell<T> {
    /// Scratch values [`step_forward`](CellExt::step_forward) and
    /// [`step_backward`](CellExt::step_backward) need for a batch.
    fn step_scratch_size(&self, batch: usize) -> usize;

    /// One forward step: writes `next` and `cache` from `x` and `prev`.
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `batch` is zero, [`CellError::BufferSize`] if a buffer is not its
    /// layout's size (see [`Cell`]), [`CellError::ScratchSize`] if `scratch` is shorter than
    /// [`step_scratch_size`](CellExt::step_scratch_size). Nothing is written then.
    fn step_forward(&self, step: StepForward<'_, T>) -> Result<(), CellError>;

    /// One backward step: writes `d_x` and `d_prev`, adds to `grads` (laid out as
    /// [`params`](Cell::params)).
    ///
    /// # Errors
    ///
    /// As [`step_forward`](CellExt::step_forward), and [`CellError::GradsLayout`] if `grads` does
    /// not have the parameters' names and shapes. Nothing is written then.
    fn step_backward(
        &self,
        step: StepBackward<'_, T>,
        grads: &mut Params<T>,
    ) -> Result<(), CellError>;
}

impl<T: Real, C: Cell<T> + ?Sized> CellExt<T> for C {
    fn step_scratch_size(&self, batch: usize) -> usize {
        match self.form() {
            StepForm::Gated(g) => 2 * g.weights().gates() * self.hidden_size() * batch,
            StepForm::General(s) => s.scratch_size(batch),
            // `d_next` (which a scan pass may overwrite), and the step's state and cache again
            // (a scan's backward reads the state after the step, which a step is not given).
            StepForm::Scan(_) => (2 * self.state_size() + self.cache_size()) * batch,
        }
    }

    fn step_forward(&self, s: StepForward<'_, T>) -> Result<(), CellError> {
        let sizes = Sizes::of(self, s.batch)?;
        sizes.check("x", s.x, sizes.input)?;
        sizes.check("prev", s.prev, sizes.state)?;
        sizes.check("next", s.next, sizes.state)?;
        sizes.check("cache", s.cache, sizes.cache)?;
        sizes.check_scratch(s.scratch, self.step_scratch_size(s.batch))?;
        match self.form() {
            StepForm::Gated(g) => gated_forward(g, s),
            StepForm::General(g) => {
                // One step is a whole pass: the per-pass work runs around it.
                let StepForward {
                    x,
                    prev,
                    next,
                    cache,
                    batch,
                    scratch,
                } = s;
                g.begin_pass(scratch, batch);
                g.forward(StepForward {
                    x,
                    prev,
                    next,
                    cache,
                    batch,
                    scratch,
                });
            }
            // One step is a pass of one step.
            StepForm::Scan(p) => p.forward(ScanForward {
                x: s.x,
                initial: s.prev,
                states: s.next,
                cache: s.cache,
                steps: 1,
                batch: s.batch,
            }),
        }
        Ok(())
    }

    fn step_backward(
        &self,
        s: StepBackward<'_, T>,
        grads: &mut Params<T>,
    ) -> Result<(), CellError> {
        let sizes = Sizes::of(self, s.batch)?;
        sizes.check("x", s.x, sizes.input)?;
        sizes.check("prev", s.prev, sizes.state)?;
        sizes.check("cache", s.cache, sizes.cache)?;
        sizes.check("d_next", s.d_next, sizes.state)?;
        sizes.check("d_x", s.d_x, sizes.input)?;
        sizes.check("d_prev", s.d_prev, sizes.state)?;
        sizes.check_scratch(s.scratch, self.step_scratch_size(s.batch))?;
        if !grads.same_layout(self.params()) {
            return Err(CellError::GradsLayout {
                expected: layout(self.params()),
                got: layout(grads),
            });
        }
        match self.form() {
            StepForm::Gated(g) => gated_backward(g, s, grads),
            StepForm::General(g) => {
                let StepBackward {
                    x,
                    prev,
                    cache,
                    d_next,
                    d_x,
                    d_prev,
                    batch,
                    scratch,
                } = s;
                g.begin_pass(scratch, batch);
                let step = StepBackward {
                    x,
                    prev,
                    cache,
                    d_next,
                    d_x,
                    d_prev,
                    batch,
                    scratch: &mut *scratch,
                };
                g.backward(step, grads);
                g.end_backward(scratch, grads);
            }
            StepForm::Scan(p) => {
                let (d_states, rest) = s.scratch.split_at_mut(s.d_next.len());
                let (next, rest) = rest.split_at_mut(s.d_next.len());
                let cache = &mut rest[..s.cache.len()];
                p.forward(ScanForward {
                    x: s.x,
                    initial: s.prev,
                    states: &mut *next,
                    cache,
                    steps: 1,
                    batch: s.batch,
                });
                d_states.copy_from_slice(s.d_next);
                let pass = ScanBackward {
                    x: s.x,
                    initial: s.prev,
                    states: next,
                    cache: s.cache,
                    d_states,
                    d_x: s.d_x,
                    d_initial: s.d_prev,
                    steps: 1,
                    batch: s.batch,
                };
                p.backward(pass, grads);
            }
        }
        Ok(())
    }
}

/// Each parameter as `name [shape]`.
fn layout<T: Real>(p: &Params<T>) -> Vec<String> {
    p.iter()
        .map(|q| format!("{} {:?}", q.name(), q.shape()))
        .collect()
}

/// A step's buffer sizes for one batch; `usize::MAX` where the product overflows (no buffer has
/// that many values, so the check fails as it should).
struct Sizes {
    batch: usize,
    input: usize,
    state: usize,
    cache: usize,
}

impl Sizes {
    fn of<T: Real, C: Cell<T> + ?Sized>(cell: &C, batch: usize) -> Result<Self, CellError> {
        if batch == 0 {
            return Err(CellError::ZeroSize { what: "batch" });
        }
        let times = |rows: usize| rows.saturating_mul(batch);
        Ok(Self {
            batch,
            input: times(cell.input_size()),
            state: times(cell.state_size()),
            cache: times(cell.cache_size()),
        })
    }

    fn check<T>(&self, buffer: &'static str, got: &[T], expected: usize) -> Result<(), CellError> {
        if got.len() == expected {
            Ok(())
        } else {
            Err(CellError::BufferSize {
                buffer,
                expected,
                got: got.len(),
                batch: self.batch,
            })
        }
    }

    fn check_scratch<T>(&self, got: &[T], needed: usize) -> Result<(), CellError> {
        if got.len() >= needed {
            Ok(())
        } else {
            Err(CellError::ScratchSize {
                needed,
                got: got.len(),
                batch: self.batch,
            })
        }
    }
}

/// The gated one-step forward: both products into the scratch, then the cell's pointwise step.
fn gated_forward<T: Real>(g: &dyn GatedCell<Real = T>, s: StepForward<'_, T>) {
    let w = g.weights();
    let (h, i, batch) = (w.hidden(), w.input(), s.batch);
    let rows = w.gates() * h;
    let (gi, rest) = s.scratch.split_at_mut(rows * batch);
    let gh = &mut rest[..rows * batch];
    broadcast_bias(gi, w.bias_ih().map(Param::data), rows);
    broadcast_bias(gh, w.bias_hh().map(Param::data), rows);
    let xv = MatRef::col_major(s.x, i, batch).expect("x checked");
    gemm(
        T::one(),
        w.weight_ih().view(),
        xv,
        T::one(),
        MatMut::col_major(gi, rows, batch).expect("sized above"),
    );
    gemm(
        T::one(),
        w.weight_hh().view(),
        h_view(s.prev, h, g.state_size(), batch),
        T::one(),
        MatMut::col_major(gh, rows, batch).expect("sized above"),
    );
    g.forward_pointwise(PointwiseForward {
        gi,
        gh,
        prev: s.prev,
        next: s.next,
        cache: s.cache,
        batch,
    });
}

/// The gated one-step backward: the cell's pointwise step into the scratch, then the products and
/// the bias sums (once for both biases when `d_gh` is `d_gi`).
fn gated_backward<T: Real>(
    g: &dyn GatedCell<Real = T>,
    s: StepBackward<'_, T>,
    grads: &mut Params<T>,
) {
    let w = g.weights();
    let (h, i, batch) = (w.hidden(), w.input(), s.batch);
    let st = g.state_size();
    let rows = w.gates() * h;
    let shared = g.d_gh_is_d_gi();
    let (d_gi, rest) = s.scratch.split_at_mut(rows * batch);
    // With a shared d_gh the second half of the scratch holds the bias sums instead (`rows` values,
    // no more than `rows * batch`).
    let (d_gh, bias_sum): (&mut [T], &mut [T]) = if shared {
        (&mut [], &mut rest[..rows])
    } else {
        (&mut rest[..rows * batch], &mut [])
    };
    g.backward_pointwise(PointwiseBackward {
        cache: s.cache,
        prev: s.prev,
        d_next: s.d_next,
        d_gi: &mut *d_gi,
        d_gh: &mut *d_gh,
        d_prev: &mut *s.d_prev,
        batch,
    });
    let d_gi = &*d_gi;
    let d_gh = if shared { d_gi } else { &*d_gh };
    let d_gi_v = MatRef::col_major(d_gi, rows, batch).expect("sized above");
    let d_gh_v = MatRef::col_major(d_gh, rows, batch).expect("sized above");
    let xv = MatRef::col_major(s.x, i, batch).expect("x checked");
    let gp = w.gate_params();
    // d h_{t-1} += W_hh^T d_gh, into the h rows of d_prev.
    let d_h = MatMut::new(s.d_prev, h, batch, 1, st).expect("d_prev checked");
    gemm(T::one(), w.weight_hh().view().t(), d_gh_v, T::one(), d_h);
    gemm(
        T::one(),
        w.weight_ih().view().t(),
        d_gi_v,
        T::zero(),
        MatMut::col_major(s.d_x, i, batch).expect("d_x checked"),
    );
    gemm(
        T::one(),
        d_gi_v,
        xv.t(),
        T::one(),
        MatMut::row_major(grads.at_mut(gp.weight_ih).data_mut(), rows, i).expect("layout checked"),
    );
    gemm(
        T::one(),
        d_gh_v,
        h_view(s.prev, h, st, batch).t(),
        T::one(),
        MatMut::row_major(grads.at_mut(gp.weight_hh).data_mut(), rows, h).expect("layout checked"),
    );
    if shared {
        if let (Some(b_ih), Some(b_hh)) = (gp.bias_ih, gp.bias_hh) {
            bias_sum.fill(T::zero());
            add_row_sums(bias_sum, d_gi, rows);
            add_to(grads.at_mut(b_ih).data_mut(), bias_sum);
            add_to(grads.at_mut(b_hh).data_mut(), bias_sum);
        }
    } else {
        if let Some(k) = gp.bias_ih {
            add_row_sums(grads.at_mut(k).data_mut(), d_gi, rows);
        }
        if let Some(k) = gp.bias_hh {
            add_row_sums(grads.at_mut(k).data_mut(), d_gh, rows);
        }
    }
}

/// `acc += v`, elementwise.
pub(crate) fn add_to<T: Real>(acc: &mut [T], v: &[T]) {
    for (a, &b) in acc.iter_mut().zip(v) {
        *a += b;
    }
}
