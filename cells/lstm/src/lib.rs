//! # rnnzoo-lstm: the LSTM cells
//!
//! Two cells of PyTorch's `nn.LSTM`: [`LstmCell`], and [`LstmProjCell`], the LSTM with a
//! projection (`nn.LSTM(..., proj_size=P)`; its equations and sizes are in [`proj`]).
//!
//! PyTorch's `nn.LSTM` cell (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al.
//! 2000), with PyTorch's parameter names, shapes, gate order, two biases and default
//! initialisation, so a PyTorch `state_dict` loads into it unchanged:
//!
//! ```text
//! a = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh         (4H rows: gate blocks i, f, g, o)
//! i = σ(a_i)   f = σ(a_f)   g = tanh(a_g)   o = σ(a_o)
//! c_t = f * c_{t-1} + i * g
//! h_t = o * tanh(c_t)
//! ```
//!
//! The cell is in the gated two-GEMM form ([`GatedCell`], `G = 4`), so the unroller of
//! `rnnzoo-layers` hoists the input product over all steps. The carried state is `(h, c)`:
//! `state_size = 2H`, and column `b` of a `2H x batch` state is `[h_b; c_b]`; the step's output is
//! the `h` rows.
//!
//! ```
//! use rnnzoo_cell::{gradcheck, seeded, Cell, CellExt, StepForward};
//! use rnnzoo_lstm::{LstmCell, LstmOptions};
//!
//! let opts = LstmOptions::default().with_unit_forget_bias(true);
//! let mut cell = LstmCell::<f64>::with_options(3, 5, opts, &mut seeded(0))?;
//! assert_eq!(cell.params().names().collect::<Vec<_>>(), ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]);
//! assert_eq!((cell.hidden_size(), cell.state_size()), (5, 10));
//!
//! // One step on a batch of 2 from a zero state; each column of `next` is [h; c].
//! let batch = 2;
//! let x = vec![0.5; 3 * batch];
//! let prev = vec![0.0; cell.state_size() * batch];
//! let mut next = vec![0.0; cell.state_size() * batch];
//! let mut cache = vec![0.0; cell.cache_size() * batch];
//! let mut scratch = vec![0.0; cell.step_scratch_size(batch)];
//! cell.step_forward(StepForward { x: &x, prev: &prev, next: &mut next, cache: &mut cache, batch, scratch: &mut scratch })?;
//! assert!(next.iter().all(|v| v.abs() < 1.0));
//!
//! // The analytic gradients of a step agree with finite differences.
//! assert!(gradcheck::check_cell(&mut cell, batch, 0, &Default::default()).passed());
//! # Ok::<(), rnnzoo_cell::CellError>(())
//! ```
//!
//! ## Forget-gate bias 1
//!
//! Initialising the forget gate's bias to 1 (Jozefowicz et al. 2015; Keras' `unit_forget_bias`;
//! PyTorch issue #20102) keeps the cell remembering early in training. PyTorch has two biases
//! whose sum is the effective bias, so [`LstmOptions::with_unit_forget_bias`] sets the `f` block
//! (rows `H..2H`) of `bias_ih` to 1 **and** that of `bias_hh` to 0: the effective forget bias is
//! exactly 1, as in Keras, and a model saved for PyTorch behaves the same there. The other blocks
//! keep PyTorch's default initialisation, and the random draws are the same with or without the
//! option, so one seed gives the same weights either way.

use rnnzoo_cell::activation::{sigmoid_of_sum, tanh_in_place, tanh_of_sum};
use rnnzoo_cell::rand::Rng;
use rnnzoo_cell::{CellError, GateWeights, GatedCell, PointwiseBackward, PointwiseForward, Real};

pub mod proj;
#[cfg(test)]
mod tests;

pub use proj::LstmProjCell;

/// How to build an [`LstmCell`]: the default is PyTorch's (`bias=True`, no forget-bias
/// initialisation).
///
/// ```
/// use rnnzoo_lstm::LstmOptions;
/// let opts = LstmOptions::default().with_bias(true).with_unit_forget_bias(true);
/// assert!(opts.bias && opts.unit_forget_bias);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct LstmOptions {
    /// Whether the cell has `bias_ih` and `bias_hh` (PyTorch's `bias`; default `true`).
    pub bias: bool,
    /// Whether the forget gate's effective bias starts at exactly 1: the `f` block of `bias_ih` is
    /// set to 1 and that of `bias_hh` to 0 (default `false`; needs `bias`). See the crate docs.
    pub unit_forget_bias: bool,
}

impl Default for LstmOptions {
    fn default() -> Self {
        Self {
            bias: true,
            unit_forget_bias: false,
        }
    }
}

impl LstmOptions {
    /// With or without biases (PyTorch's `bias`).
    pub fn with_bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }

    /// With or without the forget-gate bias initialised to 1 (Keras' `unit_forget_bias`).
    pub fn with_unit_forget_bias(mut self, on: bool) -> Self {
        self.unit_forget_bias = on;
        self
    }
}

/// The LSTM cell (see the crate docs).
///
/// - Parameters: `weight_ih (4H, input)`, `weight_hh (4H, H)`, and with biases `bias_ih (4H)`,
///   `bias_hh (4H)`, row-major, gate blocks in PyTorch's order `i, f, g, o` (block `k` is rows
///   `k*H..(k+1)*H`), each with `gates() == 4`.
/// - State: `state_size = 2H`, column `b` is `[h_b; c_b]`.
/// - Cache: `5H` per sample, column `b` is `[i; f; g; o; tanh(c_t)]` (the gate activations and
///   the squashed new cell state); backward reads `c_{t-1}` from the previous state.
#[derive(Debug, Clone, PartialEq)]
pub struct LstmCell<T> {
    weights: GateWeights<T>,
}

/// Gate blocks, in PyTorch's order.
const GATES: usize = 4;
/// The forget gate's block.
const FORGET: usize = 1;

impl<T: Real> LstmCell<T> {
    /// A cell with biases and PyTorch's default initialisation, every parameter
    /// `U(-1/sqrt(H), 1/sqrt(H))`.
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero.
    pub fn new<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        Self::with_options(input, hidden, LstmOptions::default(), rng)
    }

    /// A cell built with `options` and PyTorch's default initialisation (then the forget-gate
    /// bias, if asked for).
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero; [`CellError::Mismatch`] if
    /// `unit_forget_bias` is asked for without biases.
    pub fn with_options<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        options: LstmOptions,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        let mut cell = Self::zeros(input, hidden, options.bias)?;
        if options.unit_forget_bias && !options.bias {
            return Err(no_bias_for_forget());
        }
        cell.weights.init_pytorch(rng);
        if options.unit_forget_bias {
            cell.set_unit_forget_bias()?;
        }
        Ok(cell)
    }

    /// A cell whose parameters are all zero, to be filled by
    /// [`Params::set`](rnnzoo_cell::Params::set) or an
    /// [`Init`](rnnzoo_cell::Init).
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero.
    pub fn zeros(input: usize, hidden: usize, bias: bool) -> Result<Self, CellError> {
        Ok(Self {
            weights: GateWeights::zeros(input, hidden, GATES, bias)?,
        })
    }

    /// Sets the forget gate's effective bias to exactly 1: the `f` block (rows `H..2H`) of
    /// `bias_ih` to 1 and that of `bias_hh` to 0, leaving every other value as it is.
    ///
    /// # Errors
    ///
    /// [`CellError::Mismatch`] if the cell has no biases.
    pub fn set_unit_forget_bias(&mut self) -> Result<(), CellError> {
        let gp = self.weights.gate_params();
        let (Some(b_ih), Some(b_hh)) = (gp.bias_ih, gp.bias_hh) else {
            return Err(no_bias_for_forget());
        };
        let params = self.weights.params_mut();
        params.at_mut(b_ih).gate_mut(FORGET).fill(T::one());
        params.at_mut(b_hh).gate_mut(FORGET).fill(T::zero());
        Ok(())
    }

    /// Whether the cell has biases.
    pub fn has_bias(&self) -> bool {
        self.weights.has_bias()
    }
}

fn no_bias_for_forget() -> CellError {
    CellError::Mismatch(
        "unit_forget_bias sets the forget gate's bias, but the cell has no biases (bias = false)"
            .into(),
    )
}

impl<T: Real> GatedCell for LstmCell<T> {
    type Real = T;

    fn weights(&self) -> &GateWeights<T> {
        &self.weights
    }

    fn weights_mut(&mut self) -> &mut GateWeights<T> {
        &mut self.weights
    }

    fn mode(&self) -> &str {
        "LSTM"
    }

    fn state_size(&self) -> usize {
        2 * self.weights.hidden()
    }

    fn cache_size(&self) -> usize {
        5 * self.weights.hidden()
    }

    /// Every gate's pre-activation is `gi + gh`, so both get the same gradient.
    fn d_gh_is_d_gi(&self) -> bool {
        true
    }

    fn forward_pointwise(&self, mut f: PointwiseForward<'_, T>) {
        let h = self.weights.hidden();
        for c in f.columns() {
            forward_column(h, c.gi, c.gh, c.prev, c.next, c.cache);
        }
    }

    fn backward_pointwise(&self, mut b: PointwiseBackward<'_, T>) {
        let h = self.weights.hidden();
        for c in b.columns() {
            backward_column(h, c.cache, c.prev, c.d_next, c.d_gi, c.d_prev);
        }
    }
}

/// Splits `s` into four consecutive blocks of `h`.
#[inline(always)]
fn blocks4<T>(s: &[T], h: usize) -> [&[T]; 4] {
    [&s[..h], &s[h..2 * h], &s[2 * h..3 * h], &s[3 * h..4 * h]]
}

/// One sample's forward: `gi`, `gh` are `4H`, `prev`, `next` are `2H`, `cache` is `5H`.
///
/// The gate activations are written straight into the cache, a contiguous block at a time (`i|f`
/// together), by the vectorised slice activations of [`rnnzoo_cell::activation`]; `c_t` goes into
/// the `tanh(c_t)` block first and is squashed there in one call.
#[inline(always)]
fn forward_column<T: Real>(
    h: usize,
    gi: &[T],
    gh: &[T],
    prev: &[T],
    next: &mut [T],
    cache: &mut [T],
) {
    let (gi, gh) = (&gi[..4 * h], &gh[..4 * h]);
    let c_prev = &prev[h..2 * h];
    let (h_next, c_next) = next[..2 * h].split_at_mut(h);
    let (gates, ctc) = cache[..5 * h].split_at_mut(4 * h);
    {
        let (ifg, o) = gates.split_at_mut(3 * h);
        let (i_f, g) = ifg.split_at_mut(2 * h);
        sigmoid_of_sum(&gi[..2 * h], &gh[..2 * h], i_f);
        tanh_of_sum(&gi[2 * h..3 * h], &gh[2 * h..3 * h], g);
        sigmoid_of_sum(&gi[3 * h..], &gh[3 * h..], o);
    }
    let [ci, cf, cg, co] = blocks4(gates, h);
    for j in 0..h {
        let c = cf[j] * c_prev[j] + ci[j] * cg[j];
        c_next[j] = c;
        ctc[j] = c;
    }
    tanh_in_place(ctc);
    for j in 0..h {
        h_next[j] = co[j] * ctc[j];
    }
}

/// One sample's backward: writes `d_gi` (`4H`, pre-activation gradients) and `d_prev` (`2H`: zero
/// into `h`, `f * dc` into `c`).
#[inline(always)]
fn backward_column<T: Real>(
    h: usize,
    cache: &[T],
    prev: &[T],
    d_next: &[T],
    d_gi: &mut [T],
    d_prev: &mut [T],
) {
    let one = T::one();
    let [ci, cf, cg, co] = blocks4(cache, h);
    let ctc = &cache[4 * h..5 * h];
    let c_prev = &prev[h..2 * h];
    let (dh, dc_next) = (&d_next[..h], &d_next[h..2 * h]);
    let (da_i, rest) = d_gi[..4 * h].split_at_mut(h);
    let (da_f, rest) = rest.split_at_mut(h);
    let (da_g, da_o) = rest.split_at_mut(h);
    let (dh_prev, dc_prev) = d_prev[..2 * h].split_at_mut(h);
    for j in 0..h {
        let (i, f, g, o, tc) = (ci[j], cf[j], cg[j], co[j], ctc[j]);
        let dc = dc_next[j] + dh[j] * o * (one - tc * tc);
        da_i[j] = dc * g * i * (one - i);
        da_f[j] = dc * c_prev[j] * f * (one - f);
        da_g[j] = dc * i * (one - g * g);
        da_o[j] = dh[j] * tc * o * (one - o);
        dc_prev[j] = dc * f;
    }
    // h_{t-1} reaches the step only through W_hh, whose product the caller adds.
    dh_prev.fill(T::zero());
}
