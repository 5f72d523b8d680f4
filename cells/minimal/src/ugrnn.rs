//! The update-gate RNN (UGRNN): one gate deciding between keeping `h` and a vanilla RNN's update.
//!
//! Collins, Sohl-Dickstein & Sussillo, "Capacity and trainability in recurrent neural networks",
//! ICLR 2017 (arXiv:1611.09913), the UGRNN among the architectures the paper compares:
//!
//! ```text
//! c_t = tanh(W^{ch} h_{t-1} + W^{cx} x_t + b^c)
//! g_t = σ(W^{gh} h_{t-1} + W^{gx} x_t + b^g)
//! h_t = g_t ⊙ h_{t-1} + (1 - g_t) ⊙ c_t
//! ```
//!
//! # Parameters
//!
//! PyTorch's weight set with `G = 2` gate blocks in the order `g, c`, the order of TensorFlow's
//! `tf.contrib.rnn.UGRNNCell` (which cites the paper and splits its one product into
//! `g_act, c_act`): `weight_ih (2H, I)` holds `[W^{gx}; W^{cx}]`, `weight_hh (2H, H)` holds
//! `[W^{gh}; W^{ch}]`, and the paper's biases are the sums `b^g = b_ig + b_hg`,
//! `b^c = b_ic + b_hc` of `bias_ih (2H)` and `bias_hh (2H)` (two redundant degrees of freedom per
//! unit, kept for PyTorch's names, shapes and default initialisation). TensorFlow's cell adds a
//! constant `forget_bias` (1 by default) to `g`'s pre-activation; here that is an initial value of
//! the `g` block of `bias_ih` ([`UgrnnCell::with_gate_bias`]), not a constant, so the function is
//! the paper's.
//!
//! # Step form
//!
//! Both blocks read `gi + gh` only, so the cell is in the gated two-GEMM form
//! ([`GatedCell`], `G = 2`, with `d_gh = d_gi`): the unroller's fast path, the input product
//! hoisted over all steps and one GEMM per step.

use rnnzoo_cell::activation::{sigmoid_of_sum, tanh_of_sum};
use rnnzoo_cell::rand::Rng;
use rnnzoo_cell::{CellError, GateWeights, GatedCell, PointwiseBackward, PointwiseForward, Real};

/// Gate blocks, in order `g, c`.
const GATES: usize = 2;

/// The update-gate RNN of Collins et al. 2017 (see the [module docs](self) for the equations).
///
/// - Parameters: `weight_ih (2H, input)`, `weight_hh (2H, H)`, and with biases `bias_ih (2H)`,
///   `bias_hh (2H)`, row-major, gate blocks `g, c`.
/// - Form: gated two-GEMM, `G = 2`, `d_gh = d_gi`; mode `"UGRNN"`.
/// - State: `h` (`state_size = H`).
/// - Cache: `2H` per sample, column `b` is `[g; c]`.
///
/// ```
/// use rnnzoo_cell::{gradcheck, seeded, Cell, StepForm};
/// use rnnzoo_minimal::UgrnnCell;
///
/// let mut cell = UgrnnCell::<f64>::new(3, 4, &mut seeded(0))?;
/// assert_eq!(Cell::mode(&cell), "UGRNN");
/// assert!(matches!(cell.form(), StepForm::Gated(_))); // the fast path
/// assert!(gradcheck::check_cell(&mut cell, 2, 7, &Default::default()).passed());
/// # Ok::<(), rnnzoo_cell::CellError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct UgrnnCell<T> {
    weights: GateWeights<T>,
}

impl<T: Real> UgrnnCell<T> {
    /// A cell with biases and PyTorch's default initialisation, every parameter
    /// `U(-1/sqrt(H), 1/sqrt(H))`.
    ///
    /// ```
    /// let cell = rnnzoo_minimal::UgrnnCell::<f32>::new(2, 3, &mut rnnzoo_cell::seeded(1))?;
    /// assert!(cell.has_bias());
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero.
    pub fn new<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        Self::with_bias(input, hidden, true, rng)
    }

    /// A cell with or without biases, PyTorch's default initialisation.
    ///
    /// ```
    /// use rnnzoo_cell::Cell;
    /// let cell = rnnzoo_minimal::UgrnnCell::<f32>::with_bias(2, 3, false, &mut rnnzoo_cell::seeded(1))?;
    /// assert_eq!(cell.params().len(), 2);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero.
    pub fn with_bias<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        bias: bool,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        let mut cell = Self::zeros(input, hidden, bias)?;
        cell.weights.init_pytorch(rng);
        Ok(cell)
    }

    /// PyTorch's default initialisation, then the update gate's effective initial bias set to
    /// exactly `value`: the `g` block of `bias_ih` is `value`, of `bias_hh` zero. TensorFlow's
    /// `UGRNNCell` starts (and stays) at `forget_bias = 1`, which makes the cell keep `h` more at
    /// first; `value = 0` is a zero-mean start.
    ///
    /// ```
    /// use rnnzoo_cell::Cell;
    /// let cell = rnnzoo_minimal::UgrnnCell::<f64>::with_gate_bias(2, 3, 1.0, &mut rnnzoo_cell::seeded(1))?;
    /// let b = cell.params().get("bias_ih").unwrap();
    /// assert_eq!(b.gate(0), &[1.0; 3]);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero; [`CellError::BadParam`] (naming
    /// `gate_bias`) if `value` is not finite.
    pub fn with_gate_bias<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        value: f64,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        if !value.is_finite() {
            return Err(CellError::BadParam {
                name: "gate_bias".into(),
                reason: format!("the initial gate bias must be a finite number, got {value}"),
            });
        }
        let mut cell = Self::new(input, hidden, rng)?;
        let gp = cell.weights.gate_params();
        let p = cell.weights.params_mut();
        for (k, v) in [(gp.bias_ih, value), (gp.bias_hh, 0.0)] {
            if let Some(k) = k {
                p.at_mut(k).gate_mut(0).fill(T::from_f64_lossy(v));
            }
        }
        Ok(cell)
    }

    /// A cell whose parameters are all zero, to be filled by
    /// [`Params::set`](rnnzoo_cell::Params::set) or an [`Init`](rnnzoo_cell::Init).
    ///
    /// ```
    /// use rnnzoo_cell::Cell;
    /// let cell = rnnzoo_minimal::UgrnnCell::<f64>::zeros(2, 3, true)?;
    /// assert_eq!(cell.params().get("weight_hh").unwrap().shape(), &[6, 3]);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero.
    pub fn zeros(input: usize, hidden: usize, bias: bool) -> Result<Self, CellError> {
        Ok(Self {
            weights: GateWeights::zeros(input, hidden, GATES, bias)?,
        })
    }

    /// Whether the cell has biases.
    pub fn has_bias(&self) -> bool {
        self.weights.has_bias()
    }
}

impl<T: Real> GatedCell for UgrnnCell<T> {
    type Real = T;

    fn weights(&self) -> &GateWeights<T> {
        &self.weights
    }

    fn weights_mut(&mut self) -> &mut GateWeights<T> {
        &mut self.weights
    }

    fn mode(&self) -> &str {
        "UGRNN"
    }

    fn cache_size(&self) -> usize {
        GATES * self.weights.hidden()
    }

    /// `g` and `c` read `gi + gh` only.
    fn d_gh_is_d_gi(&self) -> bool {
        true
    }

    fn forward_pointwise(&self, mut f: PointwiseForward<'_, T>) {
        let h = self.weights.hidden();
        for c in f.columns() {
            let (cg, cc) = c.cache[..2 * h].split_at_mut(h);
            sigmoid_of_sum(&c.gi[..h], &c.gh[..h], cg);
            tanh_of_sum(&c.gi[h..2 * h], &c.gh[h..2 * h], cc);
            for j in 0..h {
                // g h + (1 - g) c
                c.next[j] = cc[j] + cg[j] * (c.prev[j] - cc[j]);
            }
        }
    }

    fn backward_pointwise(&self, mut b: PointwiseBackward<'_, T>) {
        let h = self.weights.hidden();
        let one = T::one();
        for c in b.columns() {
            let (cg, cc) = c.cache[..2 * h].split_at(h);
            let (da_g, da_c) = c.d_gi[..2 * h].split_at_mut(h);
            for j in 0..h {
                let (g, cand, dh) = (cg[j], cc[j], c.d_next[j]);
                da_g[j] = dh * (c.prev[j] - cand) * g * (one - g);
                da_c[j] = dh * (one - g) * (one - cand * cand);
                c.d_prev[j] = dh * g;
            }
        }
    }
}
