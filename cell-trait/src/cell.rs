//! The `Cell` trait: one step of a recurrent network, forward and backward.

use crate::gemm::MatRef;
use crate::scan::ScanPass;
use crate::{GatedCell, GeneralStep, Params, Real};

/// One step of a recurrent network: `(x_t, state_{t-1}) -> state_t`, whose first
/// [`hidden_size`](Cell::hidden_size) rows are the step's output `h_t`, with its own backward.
///
/// The unroller in `rnnzoo-layers` owns time; a cell never loops over steps. A cell says how its
/// step is computed through [`Cell::form`]:
///
/// - [`StepForm::Gated`], the two-GEMM form every cell of PyTorch, cuDNN and oneDNN has:
///   `gi = W_ih x + b_ih`, `gh = W_hh h + b_hh`, then an elementwise `state_t = f(gi, gh,
///   state_{t-1})`. The cell implements [`GatedCell`] (its weights, its gate count through
///   [`GateWeights`](crate::GateWeights), the elementwise part) and gets `Cell` from it; the
///   unroller does the products, hoisting the input product over all steps into one GEMM and
///   batching the weight gradients after the loop. This is the fast path.
/// - [`StepForm::General`]: the cell implements `Cell` and writes a whole step
///   ([`GeneralStep`]). For cells that do not fit the shape above: a GRU with the reset gate
///   before the recurrent product, a minimal gated unit (the example on [`GeneralStep`]), an LSTM
///   with a projection, layer norm inside the cell.
///   A general step may also do work once per pass rather than per step (an orthogonal RNN's
///   `W_hh = expm(A)` and its gradient): [`GeneralStep::begin_pass`] and
///   [`GeneralStep::end_backward`], which the unroller calls around a pass's steps.
/// - [`StepForm::Scan`]: the cell computes a whole pass over time at once
///   ([`ScanPass`](crate::scan::ScanPass)), for recurrences that are elementwise, with every
///   product by a weight matrix depending on the input only (minGRU, minLSTM, QRNN, SRU, IndRNN,
///   LRU): one GEMM over all steps and a parallel scan over time ([`crate::scan`]).
///
/// Either way the cell gets one-step forward and backward ([`CellExt`](crate::CellExt)), and with
/// them the unroller, bidirectional and deep stacks and the gradient checker.
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
/// Samples never interact: column `b` of every output depends on column `b` of the inputs only,
/// and the unroller relies on it (see [`GatedCell`]).
///
/// # Write your own cell
///
/// A leaky tanh cell, `h_t = (1 - a) h_{t-1} + a tanh(W_ih x + b_ih + W_hh h_{t-1} + b_hh)`, in
/// the gated form, checked against finite differences. In your own crate it depends on
/// `rnnzoo-cell` only, and `rnnzoo-layers` unrolls it, stacks it and checks it through time with no
/// change to rnnzoo.
///
/// ```
/// use rnnzoo_cell::{gradcheck, seeded, GateWeights, GatedCell, PointwiseBackward, PointwiseForward, Real};
///
/// struct Leaky<T> { weights: GateWeights<T>, a: T }
///
/// impl<T: Real> GatedCell for Leaky<T> {
///     type Real = T;
///     fn weights(&self) -> &GateWeights<T> { &self.weights }
///     fn weights_mut(&mut self) -> &mut GateWeights<T> { &mut self.weights }
///     fn mode(&self) -> &str { "LEAKY_TANH" }
///     fn cache_size(&self) -> usize { self.weights.hidden() } // u = tanh(gi + gh)
///     fn d_gh_is_d_gi(&self) -> bool { true } // gi and gh enter only as gi + gh
///     fn forward_pointwise(&self, f: PointwiseForward<'_, T>) {
///         for i in 0..f.next.len() {
///             f.cache[i] = (f.gi[i] + f.gh[i]).tanh();
///             f.next[i] = (T::one() - self.a) * f.prev[i] + self.a * f.cache[i];
///         }
///     }
///     fn backward_pointwise(&self, b: PointwiseBackward<'_, T>) {
///         for i in 0..b.d_next.len() {
///             b.d_gi[i] = b.d_next[i] * self.a * (T::one() - b.cache[i] * b.cache[i]);
///             b.d_prev[i] = (T::one() - self.a) * b.d_next[i]; // the unroller adds W_hh^T d_gh
///         }
///     }
/// }
///
/// let mut weights = GateWeights::zeros(3, 4, 1, true)?; // PyTorch's weights, G = 1 gate block
/// weights.init_pytorch(&mut seeded(0));
/// let mut cell = Leaky::<f64> { weights, a: 0.3 };
/// let report = gradcheck::check_cell(&mut cell, 2, 1, &gradcheck::Options::default());
/// assert!(report.passed(), "{report}");
/// assert!(gradcheck::check_columns(&cell, 3, 1, &gradcheck::Options::default()).passed());
/// # Ok::<(), rnnzoo_cell::CellError>(())
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

    /// How the step is computed: the gated two-GEMM form, a general step, or a whole-pass scan.
    fn form(&self) -> StepForm<'_, T>;

    /// Puts the parameters back into the set the cell is defined on, after an optimizer update
    /// (the trainer calls it after every step): IndRNN clips its recurrent weights to
    /// `|u| <= 2^(1/T)`, as its paper does after each update. Does nothing unless the cell says
    /// otherwise.
    ///
    /// ```
    /// use rnnzoo_cell::{seeded, Cell};
    /// # use rnnzoo_cell::{GateWeights, GatedCell, PointwiseBackward, PointwiseForward};
    /// # struct Relu(GateWeights<f64>);
    /// # impl GatedCell for Relu {
    /// #     type Real = f64;
    /// #     fn weights(&self) -> &GateWeights<f64> { &self.0 }
    /// #     fn weights_mut(&mut self) -> &mut GateWeights<f64> { &mut self.0 }
    /// #     fn mode(&self) -> &str { "RNN_RELU" }
    /// #     fn cache_size(&self) -> usize { 0 }
    /// #     fn forward_pointwise(&self, f: PointwiseForward<'_, f64>) { f.next.fill(0.0) }
    /// #     fn backward_pointwise(&self, b: PointwiseBackward<'_, f64>) { b.d_gi.fill(0.0) }
    /// # }
    /// let mut w = GateWeights::zeros(2, 3, 1, true)?;
    /// w.init_pytorch(&mut seeded(0));
    /// let mut cell = Relu(w);
    /// let before = cell.params().clone();
    /// cell.constrain(); // an unconstrained cell: nothing changes
    /// assert_eq!(cell.params(), &before);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    fn constrain(&mut self) {}

    /// The cell's settings that are not parameters but change what it computes, as
    /// `name=value` pairs joined by commas in a fixed order (coRNN's `"dt=0.042,gamma=2.7,
    /// epsilon=4.7"`, a layer norm's `eps`); empty (the default) for a cell whose mode and
    /// parameters say everything. rnnzoo's weights files record it and refuse to load into a
    /// cell whose settings differ, which its parameters' names and shapes would not reveal.
    fn settings(&self) -> String {
        String::new()
    }
}

/// How a cell's step is computed; see [`Cell`].
pub enum StepForm<'a, T> {
    /// `pointwise(W_ih x + b_ih, W_hh h + b_hh, state)` on the cell's
    /// [`GateWeights`](crate::GateWeights): the unroller's fast path.
    Gated(&'a dyn GatedCell<Real = T>),
    /// Any step the cell computes itself.
    General(&'a dyn GeneralStep<T>),
    /// A whole pass at a time, for an elementwise (diagonal) recurrence whose input side is
    /// hoisted over every step: [`ScanPass`](crate::scan::ScanPass).
    Scan(&'a dyn ScanPass<T>),
}

/// Where a gated cell keeps its two weights and two optional biases, as indices into
/// [`Cell::params`] (see [`GateWeights::gate_params`](crate::GateWeights::gate_params)).
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

/// A boxed cell is a cell, so layers can hold cells of kinds chosen at run time
/// (`Box<dyn Cell<T>>`), as a stack loaded from a PyTorch file does.
///
/// Only the trait object is covered, not `Box<C>` for every cell `C`: that wider impl would
/// overlap the [`GatedCell`] blanket impl (a crate may implement `GatedCell` for a `Box` of its
/// own type). Box a concrete cell as `Box<dyn Cell<T>>`.
impl<'a, T: Real> Cell<T> for Box<dyn Cell<T> + 'a> {
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
    fn constrain(&mut self) {
        (**self).constrain()
    }
    fn settings(&self) -> String {
        (**self).settings()
    }
}
