//! The `Cell` trait: one step of a recurrent network, forward and backward.

use crate::gemm::{gemm, MatMut, MatRef};
use crate::{Params, Real};

/// One step of a recurrent network: `(x_t, state_{t-1}) -> state_t`, whose first
/// [`hidden_size`](Cell::hidden_size) rows are the step's output `h_t`, with its own backward.
///
/// The unroller in `rnnzoo-layers` owns time; a cell never loops over steps. A cell says how its
/// step is computed through [`Cell::form`]:
///
/// - [`StepForm::Gated`], the two-GEMM form every cell of PyTorch, cuDNN and oneDNN has:
///   `gi = W_ih x + b_ih`, `gh = W_hh h + b_hh`, then an elementwise `state_t = f(gi, gh,
///   state_{t-1})`. The cell writes only the elementwise part ([`GatedStep`]); the unroller does
///   the products, hoisting the input product over all steps into one GEMM and batching the weight
///   gradients after the loop. This is the fast path.
/// - [`StepForm::General`]: the cell writes a whole step ([`GeneralStep`]). For cells that do not
///   fit the shape above: a GRU with the reset gate before the recurrent product, an LSTM with a
///   projection, layer norm inside the cell.
///
/// Either way the cell gets [`Cell::step_forward`] and [`Cell::step_backward`] for free, and
/// with them the unroller, bidirectional and deep stacks and the gradient checker.
///
/// # Layouts
///
/// Matrices are column-major with sample `b` as column `b` (see [`crate::gemm`]):
///
/// | buffer | shape | note |
/// | --- | --- | --- |
/// | `x` | `input_size x batch` | |
/// | `prev`, `next` | `state_size x batch` | rows `0..hidden_size` of a column are `h` |
/// | `cache` | `cache_size x batch` | what backward needs from forward, the cell's own layout |
/// | `gi`, `gh` | `G*H x batch` | gate `g` is rows `g*H..(g+1)*H` of a column |
///
/// Backward writes (overwrites) `d_gi`, `d_gh`, `d_x` and `d_prev`, and adds (`+=`) to the
/// parameter gradients. In the gated form the unroller adds `W_hh^T d_gh` to the `h` rows of
/// `d_prev` afterwards, so `backward_pointwise` writes only the elementwise paths from `state_t` to
/// `state_{t-1}` (zero for a vanilla RNN, `f * dc` into `c` for an LSTM).
///
/// # Write your own cell
///
/// A leaky tanh cell, `h_t = (1 - a) h_{t-1} + a tanh(W_ih x + b_ih + W_hh h_{t-1} + b_hh)`, in
/// the gated form, checked against finite differences. In your own crate it depends on
/// `rnnzoo-cell` only, and `rnnzoo-layers` unrolls it, stacks it and checks it through time with no
/// change to rnnzoo.
///
/// ```
/// use rnnzoo_cell::{gradcheck, seeded, Cell, CellError, GateParams, GateWeights, GatedStep, Params, Real, StepForm};
///
/// // PyTorch's weight set for one gate block: weight_ih, weight_hh, bias_ih, bias_hh.
/// struct Leaky<T> { weights: GateWeights<T>, a: T }
///
/// impl<T: Real> Leaky<T> {
///     fn new(input: usize, hidden: usize, a: f64, seed: u64) -> Result<Self, CellError> {
///         let mut weights = GateWeights::zeros(input, hidden, 1, true)?;
///         weights.init_pytorch(&mut seeded(seed));
///         Ok(Self { weights, a: T::from_f64_lossy(a) })
///     }
/// }
///
/// impl<T: Real> Cell<T> for Leaky<T> {
///     fn input_size(&self) -> usize { self.weights.input() }
///     fn hidden_size(&self) -> usize { self.weights.hidden() }
///     fn cache_size(&self) -> usize { self.weights.hidden() } // tanh(...) of the step
///     fn mode(&self) -> &str { "LEAKY_TANH" }
///     fn params(&self) -> &Params<T> { self.weights.params() }
///     fn params_mut(&mut self) -> &mut Params<T> { self.weights.params_mut() }
///     fn form(&self) -> StepForm<'_, T> { StepForm::Gated(self) }
/// }
///
/// impl<T: Real> GatedStep<T> for Leaky<T> {
///     fn gates(&self) -> usize { 1 }
///     fn gate_params(&self) -> GateParams { self.weights.gate_params() }
///     fn forward_pointwise(&self, gi: &[T], gh: &[T], prev: &[T], next: &mut [T], cache: &mut [T], _batch: usize) {
///         for i in 0..next.len() {
///             let u = (gi[i] + gh[i]).tanh();
///             cache[i] = u;
///             next[i] = (T::one() - self.a) * prev[i] + self.a * u;
///         }
///     }
///     fn backward_pointwise(&self, cache: &[T], _prev: &[T], d_next: &[T], d_gi: &mut [T], d_gh: &mut [T], d_prev: &mut [T], _batch: usize) {
///         for i in 0..d_next.len() {
///             let u = cache[i];
///             d_gi[i] = d_next[i] * self.a * (T::one() - u * u);
///             d_gh[i] = d_gi[i];
///             d_prev[i] = (T::one() - self.a) * d_next[i]; // W_hh^T d_gh is added by the caller
///         }
///     }
/// }
///
/// let mut cell = Leaky::<f64>::new(3, 4, 0.3, 0)?;
/// let report = gradcheck::check_cell(&mut cell, 2, 1, &gradcheck::Options::default());
/// assert!(report.passed(), "{report}");
/// # Ok::<(), CellError>(())
/// ```
pub trait Cell<T: Real>: Send + Sync {
    /// Rows of `x_t`.
    fn input_size(&self) -> usize;

    /// Rows of `h_t`, the step's output; the first rows of the state.
    fn hidden_size(&self) -> usize;

    /// Rows of the carried state per sample (`H` for RNN and GRU, `2H` for LSTM's `h` and `c`).
    fn state_size(&self) -> usize {
        self.hidden_size()
    }

    /// Values per sample that backward needs from forward, at one step.
    fn cache_size(&self) -> usize;

    /// The cell's kind, in PyTorch's mode spelling where one exists (`"RNN_TANH"`, `"LSTM"`,
    /// `"GRU"`); used in reports and checkpoints.
    fn mode(&self) -> &str;

    /// The parameters, in PyTorch's names (`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`, ...).
    fn params(&self) -> &Params<T>;

    /// The parameters, for writing (optimizers, loading, initialisers).
    fn params_mut(&mut self) -> &mut Params<T>;

    /// How the step is computed: the gated two-GEMM form or a general step.
    fn form(&self) -> StepForm<'_, T>;

    /// Scratch values [`step_forward`](Cell::step_forward) and
    /// [`step_backward`](Cell::step_backward) need for a batch.
    fn step_scratch_size(&self, batch: usize) -> usize {
        match self.form() {
            StepForm::Gated(g) => 2 * g.gates() * self.hidden_size() * batch,
            StepForm::General(s) => s.scratch_size(batch),
        }
    }

    /// One forward step of any form: `next` and `cache` from `x` and `prev`.
    ///
    /// The unroller uses the hoisted fast path for gated cells; this is the one-step version, for
    /// the general path, single-step inference and the gradient checker.
    ///
    /// # Panics
    ///
    /// If a buffer is shorter than its layout (see the trait docs) or `scratch` is shorter than
    /// [`step_scratch_size`](Cell::step_scratch_size). The unroller checks shapes that come from a
    /// user before it calls this.
    fn step_forward(
        &self,
        x: &[T],
        prev: &[T],
        next: &mut [T],
        cache: &mut [T],
        batch: usize,
        scratch: &mut [T],
    ) {
        match self.form() {
            StepForm::Gated(g) => gated_step_forward(self, g, x, prev, next, cache, batch, scratch),
            StepForm::General(s) => s.forward(x, prev, next, cache, batch, scratch),
        }
    }

    /// One backward step of any form: writes `d_x` and `d_prev`, adds to `grads` (laid out as
    /// [`params`](Cell::params)).
    ///
    /// # Panics
    ///
    /// As [`step_forward`](Cell::step_forward), and if `grads` does not have the parameters'
    /// layout.
    #[allow(clippy::too_many_arguments)]
    fn step_backward(
        &self,
        x: &[T],
        prev: &[T],
        cache: &[T],
        d_next: &[T],
        d_x: &mut [T],
        d_prev: &mut [T],
        grads: &mut Params<T>,
        batch: usize,
        scratch: &mut [T],
    ) {
        match self.form() {
            StepForm::Gated(g) => gated_step_backward(
                self, g, x, prev, cache, d_next, d_x, d_prev, grads, batch, scratch,
            ),
            StepForm::General(s) => {
                s.backward(x, prev, cache, d_next, d_x, d_prev, grads, batch, scratch)
            }
        }
    }
}

/// How a cell's step is computed; see [`Cell`].
pub enum StepForm<'a, T> {
    /// `pointwise(W_ih x + b_ih, W_hh h + b_hh, state)`: the unroller's fast path.
    Gated(&'a dyn GatedStep<T>),
    /// Any step the cell computes itself.
    General(&'a dyn GeneralStep<T>),
}

/// Where a gated cell keeps its two weights and two optional biases, as indices into
/// [`Cell::params`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateParams {
    /// `W_ih`, `(G*H, input)`.
    pub weight_ih: usize,
    /// `W_hh`, `(G*H, H)`.
    pub weight_hh: usize,
    /// `b_ih`, `(G*H)`, if the cell has biases.
    pub bias_ih: Option<usize>,
    /// `b_hh`, `(G*H)`, if the cell has biases.
    pub bias_hh: Option<usize>,
}

/// The elementwise part of a gated cell (see [`Cell`] for the layouts).
pub trait GatedStep<T: Real>: Send + Sync {
    /// `G`, the number of gate blocks in `gi` and `gh` (1 for RNN, 4 for LSTM, 3 for GRU).
    fn gates(&self) -> usize;

    /// Which parameters are `W_ih`, `W_hh`, `b_ih` and `b_hh`.
    fn gate_params(&self) -> GateParams;

    /// `next` and `cache` from the pre-activations `gi`, `gh` (biases included) and `prev`.
    fn forward_pointwise(
        &self,
        gi: &[T],
        gh: &[T],
        prev: &[T],
        next: &mut [T],
        cache: &mut [T],
        batch: usize,
    );

    /// `d_gi`, `d_gh` and the elementwise part of `d_prev`, from `d_next`.
    #[allow(clippy::too_many_arguments)]
    fn backward_pointwise(
        &self,
        cache: &[T],
        prev: &[T],
        d_next: &[T],
        d_gi: &mut [T],
        d_gh: &mut [T],
        d_prev: &mut [T],
        batch: usize,
    );
}

/// A whole step computed by the cell (see [`Cell`] for the layouts).
pub trait GeneralStep<T: Real>: Send + Sync {
    /// Scratch values `forward` and `backward` need for a batch (allocated once per unroll, never
    /// in the time loop).
    fn scratch_size(&self, batch: usize) -> usize {
        let _ = batch;
        0
    }

    /// `next` and `cache` from `x` and `prev`.
    fn forward(
        &self,
        x: &[T],
        prev: &[T],
        next: &mut [T],
        cache: &mut [T],
        batch: usize,
        scratch: &mut [T],
    );

    /// Writes `d_x` and `d_prev` and adds to `grads`, from `d_next`.
    #[allow(clippy::too_many_arguments)]
    fn backward(
        &self,
        x: &[T],
        prev: &[T],
        cache: &[T],
        d_next: &[T],
        d_x: &mut [T],
        d_prev: &mut [T],
        grads: &mut Params<T>,
        batch: usize,
        scratch: &mut [T],
    );
}

/// Sets every column of the `rows x batch` matrix `out` to `bias`, or to zero without one.
pub fn broadcast_bias<T: Real>(out: &mut [T], bias: Option<&[T]>, rows: usize) {
    match bias {
        Some(b) => out
            .chunks_exact_mut(rows)
            .for_each(|col| col.copy_from_slice(b)),
        None => out.fill(T::zero()),
    }
}

/// Adds the row sums of the `rows x cols` matrix `m` to `acc` (a bias gradient).
pub fn add_row_sums<T: Real>(acc: &mut [T], m: &[T], rows: usize) {
    for col in m.chunks_exact(rows) {
        for (a, &v) in acc.iter_mut().zip(col) {
            *a += v;
        }
    }
}

/// The `h` rows of a `state_size x batch` state, as a `hidden x batch` view.
pub fn h_view<T>(state: &[T], hidden: usize, state_size: usize, batch: usize) -> MatRef<'_, T> {
    MatRef::new(state, hidden, batch, 1, state_size).expect("state buffer sized by the caller")
}

#[allow(clippy::too_many_arguments)]
fn gated_step_forward<T: Real, C: Cell<T> + ?Sized>(
    cell: &C,
    g: &dyn GatedStep<T>,
    x: &[T],
    prev: &[T],
    next: &mut [T],
    cache: &mut [T],
    batch: usize,
    scratch: &mut [T],
) {
    let (h, s, i) = (cell.hidden_size(), cell.state_size(), cell.input_size());
    let gh_rows = g.gates() * h;
    let p = cell.params();
    let gp = g.gate_params();
    let (gi, rest) = scratch.split_at_mut(gh_rows * batch);
    let gh = &mut rest[..gh_rows * batch];
    broadcast_bias(gi, gp.bias_ih.map(|k| p[k].data()), gh_rows);
    broadcast_bias(gh, gp.bias_hh.map(|k| p[k].data()), gh_rows);
    let xv = MatRef::col_major(x, i, batch).expect("x sized by the caller");
    gemm(
        T::one(),
        p[gp.weight_ih].view(),
        xv,
        T::one(),
        MatMut::col_major(gi, gh_rows, batch).unwrap(),
    );
    gemm(
        T::one(),
        p[gp.weight_hh].view(),
        h_view(prev, h, s, batch),
        T::one(),
        MatMut::col_major(gh, gh_rows, batch).unwrap(),
    );
    g.forward_pointwise(gi, gh, prev, next, cache, batch);
}

#[allow(clippy::too_many_arguments)]
fn gated_step_backward<T: Real, C: Cell<T> + ?Sized>(
    cell: &C,
    g: &dyn GatedStep<T>,
    x: &[T],
    prev: &[T],
    cache: &[T],
    d_next: &[T],
    d_x: &mut [T],
    d_prev: &mut [T],
    grads: &mut Params<T>,
    batch: usize,
    scratch: &mut [T],
) {
    let (h, s, i) = (cell.hidden_size(), cell.state_size(), cell.input_size());
    let gh_rows = g.gates() * h;
    let p = cell.params();
    let gp = g.gate_params();
    let (d_gi, rest) = scratch.split_at_mut(gh_rows * batch);
    let d_gh = &mut rest[..gh_rows * batch];
    g.backward_pointwise(cache, prev, d_next, d_gi, d_gh, d_prev, batch);
    let d_gi_v = MatRef::col_major(&*d_gi, gh_rows, batch).unwrap();
    let d_gh_v = MatRef::col_major(&*d_gh, gh_rows, batch).unwrap();
    let xv = MatRef::col_major(x, i, batch).expect("x sized by the caller");
    // d h_{t-1} += W_hh^T d_gh, into the h rows of d_prev.
    let d_h = MatMut::new(d_prev, h, batch, 1, s).expect("d_prev sized by the caller");
    gemm(T::one(), p[gp.weight_hh].view().t(), d_gh_v, T::one(), d_h);
    gemm(
        T::one(),
        p[gp.weight_ih].view().t(),
        d_gi_v,
        T::zero(),
        MatMut::col_major(d_x, i, batch).unwrap(),
    );
    let w_ih = grads.at_mut(gp.weight_ih);
    gemm(
        T::one(),
        d_gi_v,
        xv.t(),
        T::one(),
        MatMut::row_major(w_ih.data_mut(), gh_rows, i).unwrap(),
    );
    let w_hh = grads.at_mut(gp.weight_hh);
    gemm(
        T::one(),
        d_gh_v,
        h_view(prev, h, s, batch).t(),
        T::one(),
        MatMut::row_major(w_hh.data_mut(), gh_rows, h).unwrap(),
    );
    if let Some(k) = gp.bias_ih {
        add_row_sums(grads.at_mut(k).data_mut(), d_gi, gh_rows);
    }
    if let Some(k) = gp.bias_hh {
        add_row_sums(grads.at_mut(k).data_mut(), d_gh, gh_rows);
    }
}

/// A boxed cell is a cell, so layers can hold cells of kinds chosen at run time
/// (`Box<dyn Cell<T>>`), as a stack loaded from a PyTorch file does.
impl<T: Real, C: Cell<T> + ?Sized> Cell<T> for Box<C> {
    fn input_size(&self) -> usize {
        (**self).input_size()
    }
    fn hidden_size(&self) -> usize {
        (**self).hidden_size()
    }
    fn state_size(&self) -> usize {
        (**self).state_size()
    }
    fn cache_size(&self) -> usize {
        (**self).cache_size()
    }
    fn mode(&self) -> &str {
        (**self).mode()
    }
    fn params(&self) -> &Params<T> {
        (**self).params()
    }
    fn params_mut(&mut self) -> &mut Params<T> {
        (**self).params_mut()
    }
    fn form(&self) -> StepForm<'_, T> {
        (**self).form()
    }
    fn step_scratch_size(&self, batch: usize) -> usize {
        (**self).step_scratch_size(batch)
    }
}
