//! The general form: a cell that computes a whole step, products included.

use crate::{Params, Real};

/// A whole step computed by the cell, for cells that do not fit the gated two-GEMM form (see
/// [`Cell`](crate::Cell) for the layouts). The cell implements [`Cell`](crate::Cell) with
/// [`StepForm::General`](crate::StepForm::General) and this trait.
///
/// # The rules of a step
///
/// - **Scratch is reused, never zeroed.** The unroller allocates one scratch buffer of
///   [`scratch_size`](GeneralStep::scratch_size) values per pass (zeros at first) and hands the
///   same buffer to every forward and backward step. On entry it holds whatever the last call
///   left, so a step writes a value before it reads it, and keeps nothing there from forward to
///   backward: what backward needs goes into the cache. The one exception is what
///   [`begin_pass`](GeneralStep::begin_pass) writes (below).
/// - **Outputs are overwritten.** Forward writes every value of `next` and `cache`; backward writes
///   every value of `d_x` and `d_prev`. On entry they hold values of other steps (the unroller
///   reuses them across steps), so a step never adds into them. Only the parameter gradients are
///   added to (`+=`), so that the steps of a sequence, and sequences, add up.
/// - **Samples do not interact.** Column `b` of every output depends on column `b` of the inputs
///   only, and backward is linear in `d_next`: the unroller passes a padded sample's gradient
///   around the step by zeroing its column of `d_next`. The parameter gradients are sums over the
///   columns.
/// - Every buffer is exactly its layout's size for the whole batch; the unroller calls a general
///   step with the whole batch, on one thread (the step may split its own GEMMs).
///
/// [`gradcheck::check_cell`](crate::gradcheck::check_cell) holds the step to the first two rules:
/// it fills the scratch and every output with NaN before each call.
///
/// # Work once per pass
///
/// Some cells derive a matrix from their parameters that every step reads, at a cost no step
/// should pay: an orthogonal RNN's `W_hh = expm(A)` costs `O(H^3)`, against `O(H^2 B)` for the
/// product it feeds. Such a cell overrides two hooks, which default to doing nothing (one call per
/// pass, so every other cell runs as fast as before):
///
/// - [`begin_pass`](GeneralStep::begin_pass) is called on a pass's scratch before its first step,
///   forward and backward alike (the unroller's passes, and each one-step
///   [`CellExt`](crate::CellExt) call). What it writes there, in a region of the cell's own
///   layout, stays for every step of that pass: the steps read it and leave it unchanged, or use it
///   as an accumulator (a gradient summed over the steps).
/// - [`end_backward`](GeneralStep::end_backward) is called on the same scratch after the last
///   backward step of the pass, and turns what the steps accumulated into parameter gradients
///   (added to `grads`, like a step's): for `expm(A)`, the one Frechet adjoint of
///   `sum_t dL/dW_hh(t)`.
///
/// The scratch is the pass's own (never shared between passes or threads), so two passes of one
/// cell may run at once. A wrapper that runs an inner general cell's steps must forward both
/// hooks, or go through [`CellExt`](crate::CellExt), which calls them.
///
/// # Example: a minimal gated unit
///
/// The MGU (Zhou et al. 2016) has one gate, `f`, which scales `h` before the recurrent product of
/// the candidate `n`: that product needs `f` first, so the step is not two GEMMs and a pointwise
/// function, and the cell writes it whole. PyTorch's weight set with `G = 2` blocks (`f`, then
/// `n`) holds its weights.
///
/// ```text
/// f = σ(W_if x + b_if + W_hf h + b_hf)    n = tanh(W_in x + b_in + W_hn (f * h) + b_hn)
/// h_t = (1 - f) * h + f * n
/// ```
///
/// ```
/// use rnnzoo_cell::gemm::{gemm, MatMut, MatRef};
/// use rnnzoo_cell::{add_row_sums, broadcast_bias, gradcheck, seeded, Cell, GateWeights, GeneralStep,
///     Param, Params, Real, StepBackward, StepForm, StepForward};
///
/// struct Mgu<T> { w: GateWeights<T> }
///
/// impl<T: Real> Cell<T> for Mgu<T> {
///     fn input_size(&self) -> usize { self.w.input() }
///     fn hidden_size(&self) -> usize { self.w.hidden() }
///     fn cache_size(&self) -> usize { 2 * self.w.hidden() } // [f; n]
///     fn mode(&self) -> &str { "MGU" }
///     fn params(&self) -> &Params<T> { self.w.params() }
///     fn params_mut(&mut self) -> &mut Params<T> { self.w.params_mut() }
///     fn form(&self) -> StepForm<'_, T> { StepForm::General(self) }
/// }
///
/// // Column-major views; `rows` of every `stride`-th value for a gate block of a 2H x B matrix.
/// fn cm<T>(s: &[T], rows: usize, stride: usize, b: usize) -> MatRef<'_, T> { MatRef::new(s, rows, b, 1, stride).unwrap() }
/// fn cm_mut<T>(s: &mut [T], rows: usize, stride: usize, b: usize) -> MatMut<'_, T> { MatMut::new(s, rows, b, 1, stride).unwrap() }
/// fn rm<T>(s: &[T], rows: usize, cols: usize) -> MatRef<'_, T> { MatRef::row_major(s, rows, cols).unwrap() }
///
/// impl<T: Real> GeneralStep<T> for Mgu<T> {
///     // Forward: gi, gh (2H each) and f * h (H). Backward: the pre-activation gradients (2H),
///     // f * h and its gradient (H each).
///     fn scratch_size(&self, batch: usize) -> usize { 5 * self.w.hidden() * batch }
///
///     fn forward(&self, s: StepForward<'_, T>) {
///         let (w, one, b) = (&self.w, T::one(), s.batch);
///         let (h, i) = (w.hidden(), w.input());
///         let (gi, rest) = s.scratch.split_at_mut(2 * h * b);
///         let (gh, rest) = rest.split_at_mut(2 * h * b);
///         let fh = &mut rest[..h * b];
///         let (w_hf, w_hn) = w.weight_hh().data().split_at(h * h);
///         broadcast_bias(gi, w.bias_ih().map(Param::data), 2 * h);
///         broadcast_bias(gh, w.bias_hh().map(Param::data), 2 * h); // b_hn is added after W_hn (f h)
///         gemm(one, w.weight_ih().view(), cm(s.x, i, i, b), one, cm_mut(gi, 2 * h, 2 * h, b));
///         gemm(one, rm(w_hf, h, h), cm(s.prev, h, h, b), one, cm_mut(gh, h, 2 * h, b));
///         for (c, j) in (0..b).flat_map(|c| (0..h).map(move |j| (c, j))) {
///             let (k, p) = (2 * h * c + j, h * c + j);
///             s.cache[k] = (gi[k] + gh[k]).sigmoid();
///             fh[p] = s.cache[k] * s.prev[p];
///         }
///         gemm(one, rm(w_hn, h, h), cm(fh, h, h, b), one, cm_mut(&mut gh[h..], h, 2 * h, b));
///         for (c, j) in (0..b).flat_map(|c| (0..h).map(move |j| (c, j))) {
///             let (k, p) = (2 * h * c + j, h * c + j);
///             let (f, n) = (s.cache[k], (gi[k + h] + gh[k + h]).tanh());
///             s.cache[k + h] = n;
///             s.next[p] = s.prev[p] + f * (n - s.prev[p]);
///         }
///     }
///
///     fn backward(&self, s: StepBackward<'_, T>, grads: &mut Params<T>) {
///         let (w, one, b) = (&self.w, T::one(), s.batch);
///         let (h, i) = (w.hidden(), w.input());
///         let (da, rest) = s.scratch.split_at_mut(2 * h * b); // [da_f; da_n] per column
///         let (fh, rest) = rest.split_at_mut(h * b);
///         let d_fh = &mut rest[..h * b];
///         let (w_hf, w_hn) = w.weight_hh().data().split_at(h * h);
///         for (c, j) in (0..b).flat_map(|c| (0..h).map(move |j| (c, j))) {
///             let (k, p) = (2 * h * c + j, h * c + j);
///             let (f, n) = (s.cache[k], s.cache[k + h]);
///             da[k + h] = s.d_next[p] * f * (one - n * n);
///             fh[p] = f * s.prev[p];
///         }
///         // d(f h) = W_hn^T da_n, then the paths through f and the direct ones into h_{t-1}.
///         gemm(one, rm(w_hn, h, h).t(), cm(&da[h..], h, 2 * h, b), T::zero(), cm_mut(d_fh, h, h, b));
///         for (c, j) in (0..b).flat_map(|c| (0..h).map(move |j| (c, j))) {
///             let (k, p) = (2 * h * c + j, h * c + j);
///             let (f, n, dh, hp) = (s.cache[k], s.cache[k + h], s.d_next[p], s.prev[p]);
///             da[k] = (dh * (n - hp) + d_fh[p] * hp) * f * (one - f);
///             s.d_prev[p] = dh * (one - f) + d_fh[p] * f; // written, never added to
///         }
///         gemm(one, rm(w_hf, h, h).t(), cm(da, h, 2 * h, b), one, cm_mut(s.d_prev, h, h, b));
///         gemm(one, w.weight_ih().view().t(), cm(da, 2 * h, 2 * h, b), T::zero(), cm_mut(s.d_x, i, i, b));
///         // The parameter gradients are added to.
///         let gp = w.gate_params();
///         let g_ih = grads.at_mut(gp.weight_ih).data_mut();
///         gemm(one, cm(da, 2 * h, 2 * h, b), cm(s.x, i, i, b).t(), one, MatMut::row_major(g_ih, 2 * h, i).unwrap());
///         let (g_hf, g_hn) = grads.at_mut(gp.weight_hh).data_mut().split_at_mut(h * h);
///         gemm(one, cm(da, h, 2 * h, b), cm(s.prev, h, h, b).t(), one, MatMut::row_major(g_hf, h, h).unwrap());
///         gemm(one, cm(&da[h..], h, 2 * h, b), cm(fh, h, h, b).t(), one, MatMut::row_major(g_hn, h, h).unwrap());
///         for k in [gp.bias_ih, gp.bias_hh].into_iter().flatten() {
///             add_row_sums(grads.at_mut(k).data_mut(), da, 2 * h);
///         }
///     }
/// }
///
/// let mut w = GateWeights::zeros(3, 4, 2, true)?;
/// w.init_pytorch(&mut seeded(0));
/// let mut cell = Mgu::<f64> { w };
/// let opts = gradcheck::Options::default();
/// let report = gradcheck::check_cell(&mut cell, 3, 1, &opts);
/// assert!(report.passed(), "{report}");
/// assert!(gradcheck::check_columns(&cell, 3, 1, &opts).passed());
/// # Ok::<(), rnnzoo_cell::CellError>(())
/// ```
pub trait GeneralStep<T: Real>: Send + Sync {
    /// Scratch values `forward` and `backward` need for a batch (allocated once per pass, never in
    /// the time loop, and reused: see the trait docs).
    fn scratch_size(&self, batch: usize) -> usize {
        let _ = batch;
        0
    }

    /// Writes `next` and `cache` from `x` and `prev`.
    fn forward(&self, step: StepForward<'_, T>);

    /// Writes `d_x` and `d_prev` and adds to `grads` (laid out as [`Cell::params`](crate::Cell::params)),
    /// from `d_next`.
    fn backward(&self, step: StepBackward<'_, T>, grads: &mut Params<T>);

    /// Before the first step of a pass (forward or backward), on that pass's `scratch` (at least
    /// [`scratch_size`](GeneralStep::scratch_size)`(batch)` values, holding anything): writes what
    /// every step of the pass reads (see "Work once per pass" in the trait docs). Does nothing
    /// unless the cell says otherwise.
    fn begin_pass(&self, scratch: &mut [T], batch: usize) {
        let _ = (scratch, batch);
    }

    /// After the last backward step of a pass, on the same `scratch`: adds to `grads` what the
    /// steps accumulated there. Does nothing unless the cell says otherwise.
    fn end_backward(&self, scratch: &mut [T], grads: &mut Params<T>) {
        let _ = (scratch, grads);
    }
}

/// The buffers of one forward step, each exactly its layout's size (see [`Cell`](crate::Cell)):
/// [`GeneralStep::forward`], [`CellExt::step_forward`](crate::CellExt::step_forward).
#[derive(Debug)]
pub struct StepForward<'a, T> {
    /// `x_t`, `input_size x batch`.
    pub x: &'a [T],
    /// `state_{t-1}`, `state_size x batch`.
    pub prev: &'a [T],
    /// `state_t`, `state_size x batch`, to be written.
    pub next: &'a mut [T],
    /// What backward will need, `cache_size x batch`, to be written.
    pub cache: &'a mut [T],
    /// Samples (columns).
    pub batch: usize,
    /// At least the step's scratch size; holds anything on entry.
    pub scratch: &'a mut [T],
}

/// The buffers of one backward step, each exactly its layout's size (see [`Cell`](crate::Cell)):
/// [`GeneralStep::backward`], [`CellExt::step_backward`](crate::CellExt::step_backward).
#[derive(Debug)]
pub struct StepBackward<'a, T> {
    /// `x_t`, `input_size x batch`.
    pub x: &'a [T],
    /// `state_{t-1}`, `state_size x batch`.
    pub prev: &'a [T],
    /// What forward cached at this step, `cache_size x batch`.
    pub cache: &'a [T],
    /// `d loss / d state_t`, `state_size x batch`.
    pub d_next: &'a [T],
    /// `d loss / d x_t`, `input_size x batch`, to be written.
    pub d_x: &'a mut [T],
    /// `d loss / d state_{t-1}`, `state_size x batch`, to be written.
    pub d_prev: &'a mut [T],
    /// Samples (columns).
    pub batch: usize,
    /// At least the step's scratch size; holds anything on entry.
    pub scratch: &'a mut [T],
}
