//! The peephole LSTM: the gates also see the cell state (Gers, Schraudolph & Schmidhuber 2002).
//!
//! # The paper
//!
//! F. A. Gers, N. N. Schraudolph and J. Schmidhuber, "Learning precise timing with LSTM recurrent
//! networks", *Journal of Machine Learning Research* 3, 115-143, 2002, adds "peephole
//! connections" from the cell's internal state (the constant error carousel, CEC) to
//! the gates of the same memory block: the input and forget gates see the state of the previous
//! step, `s_c(t-1)`, and the output gate sees the state just computed, `s_c(t)`, so the output
//! gate can open at the moment the state crosses a value. Each connection is one weight per cell
//! (a diagonal matrix), not a full matrix.
//!
//! # The cell
//!
//! In the notation of PyTorch's `nn.LSTM` (gate blocks `i, f, g, o`, two biases), with
//! `p_i, p_f, p_o` the diagonal peephole weights (`⊙` is the elementwise product):
//!
//! ```text
//! a   = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh          (4H rows: blocks i, f, g, o)
//! i   = σ(a_i + p_i ⊙ c_{t-1})
//! f   = σ(a_f + p_f ⊙ c_{t-1})
//! g   = tanh(a_g)
//! c_t = f ⊙ c_{t-1} + i ⊙ g
//! o   = σ(a_o + p_o ⊙ c_t)
//! h_t = o ⊙ tanh(c_t)
//! ```
//!
//! This is the peephole LSTM as Graves ("Generating sequences with recurrent neural networks",
//! arXiv:1308.0850, 2013) writes it and as TensorFlow's `LSTMCell(use_peepholes=True)`
//! and Keras' `PeepholeLSTMCell` compute it: the paper's connections (`c_{t-1}` into `i` and `f`,
//! `c_t` into `o`) with the later LSTM's `tanh` on both the cell input and the cell output (the
//! paper's `g` and `h` squashing functions). The extra parameters are named after Graves' `W_ci`,
//! `W_cf`, `W_co` in PyTorch's spelling, `weight_ci`, `weight_cf`, `weight_co`; PyTorch has no
//! peephole LSTM whose names could be followed (TensorFlow calls them `w_i_diag`, `w_f_diag`,
//! `w_o_diag`, Keras `input_gate_peephole_weights` and so on).
//!
//! # Why the general form
//!
//! Without peepholes this is [`LstmCell`](https://docs.rs/rnnzoo-lstm), whose step is two
//! GEMMs and a pointwise function. The peephole terms are elementwise too, so the forward pass
//! would fit the gated form, but the gated form's pointwise backward cannot add to a parameter's
//! gradient (only `W_ih`, `W_hh` and the biases get gradients there, from the unroller's GEMMs).
//! So the cell writes its whole step ([`GeneralStep`]): one GEMM for `W_ih x`, **one** GEMM for
//! `W_hh h` over all four gates, the pointwise part, and the peephole gradients as sums over the
//! batch. Nothing is allocated in a step.

use rnnzoo_cell::activation::{sigmoid_in_place, tanh_in_place};
use rnnzoo_cell::gemm::{MatMut, MatRef, gemm};
use rnnzoo_cell::rand::Rng;
use rnnzoo_cell::{
    Cell, CellError, GateWeights, GeneralStep, Init, Param, Params, Real, StepBackward, StepForm,
    StepForward, add_row_sums, broadcast_bias, h_view,
};

use crate::{GATES, add_bias};

/// The peephole weights' names, in the order `i`, `f`, `o`.
pub const PEEPHOLE_NAMES: [&str; 3] = ["weight_ci", "weight_cf", "weight_co"];

/// The peephole LSTM (see the [module docs](self)).
///
/// - Parameters: `weight_ih (4H, input)`, `weight_hh (4H, H)`, with biases `bias_ih (4H)` and
///   `bias_hh (4H)` (PyTorch's `nn.LSTM` names, shapes and gate order `i, f, g, o`), then the
///   diagonal peepholes `weight_ci (H)`, `weight_cf (H)`, `weight_co (H)`.
/// - Form: a general step ([`StepForm::General`]); mode `"LSTM_PEEPHOLE"`.
/// - State: `state_size = 2H`, column `b` is `[h_b; c_b]`, as [`LstmCell`](https://docs.rs/rnnzoo-lstm).
/// - Cache: `6H` per sample, `[i; f; g; o; c_t; tanh(c_t)]`.
/// - Scratch: `4H` per sample (the pre-activations forward, their gradients backward).
///
/// ```
/// use rnnzoo_cell::{gradcheck, seeded, Cell};
/// use rnnzoo_lstm_variants::PeepholeLstmCell;
///
/// let mut cell = PeepholeLstmCell::<f64>::new(3, 4, &mut seeded(0))?;
/// let names: Vec<_> = cell.params().names().collect();
/// assert_eq!(names, ["weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_ci", "weight_cf", "weight_co"]);
/// assert_eq!((cell.state_size(), cell.mode()), (8, "LSTM_PEEPHOLE"));
/// assert!(gradcheck::check_cell(&mut cell, 2, 0, &Default::default()).passed());
/// # Ok::<(), rnnzoo_cell::CellError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PeepholeLstmCell<T> {
    weights: GateWeights<T>,
    /// Indices of `weight_ci`, `weight_cf`, `weight_co` in the parameters.
    peep: [usize; 3],
}

impl<T: Real> PeepholeLstmCell<T> {
    /// A cell with biases and PyTorch's default LSTM initialisation, every parameter (the
    /// peepholes too) `U(-1/sqrt(H), 1/sqrt(H))`.
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

    /// A cell with or without `bias_ih` and `bias_hh`, PyTorch's default initialisation (drawn in
    /// parameter order).
    ///
    /// ```
    /// use rnnzoo_cell::{seeded, Cell};
    /// use rnnzoo_lstm_variants::PeepholeLstmCell;
    /// let cell = PeepholeLstmCell::<f32>::with_bias(2, 3, false, &mut seeded(1))?;
    /// assert_eq!(cell.params().len(), 5);
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
        let init = Init::pytorch(hidden);
        for p in cell.weights.params_mut().iter_mut() {
            init.apply(p, rng);
        }
        Ok(cell)
    }

    /// A cell whose parameters are all zero, to be filled by [`Params::set`] (a loader) or an
    /// [`Init`].
    ///
    /// ```
    /// use rnnzoo_cell::{Cell, CellError};
    /// use rnnzoo_lstm_variants::PeepholeLstmCell;
    /// let mut cell = PeepholeLstmCell::<f64>::zeros(2, 3, true)?;
    /// cell.params_mut().set("weight_co", &[0.5; 3])?;
    /// assert_eq!(PeepholeLstmCell::<f64>::zeros(2, 0, true), Err(CellError::ZeroSize { what: "hidden_size" }));
    /// # Ok::<(), CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero.
    pub fn zeros(input: usize, hidden: usize, bias: bool) -> Result<Self, CellError> {
        let mut weights = GateWeights::zeros(input, hidden, GATES, bias)?;
        let mut peep = [0; 3];
        for (k, name) in PEEPHOLE_NAMES.iter().enumerate() {
            peep[k] = weights
                .params_mut()
                .push(Param::zeros(name, &[hidden], 1)?)?;
        }
        Ok(Self { weights, peep })
    }

    /// Whether the cell has `bias_ih` and `bias_hh`.
    pub fn has_bias(&self) -> bool {
        self.weights.has_bias()
    }
}

impl<T: Real> Cell<T> for PeepholeLstmCell<T> {
    fn input_size(&self) -> usize {
        self.weights.input()
    }

    fn hidden_size(&self) -> usize {
        self.weights.hidden()
    }

    fn state_size(&self) -> usize {
        2 * self.weights.hidden()
    }

    fn cache_size(&self) -> usize {
        6 * self.weights.hidden()
    }

    fn mode(&self) -> &str {
        "LSTM_PEEPHOLE"
    }

    fn params(&self) -> &Params<T> {
        self.weights.params()
    }

    fn params_mut(&mut self) -> &mut Params<T> {
        self.weights.params_mut()
    }

    fn form(&self) -> StepForm<'_, T> {
        StepForm::General(self)
    }
}

impl<T: Real> GeneralStep<T> for PeepholeLstmCell<T> {
    /// `4H` per sample: the pre-activations `a` forward, their gradients backward.
    fn scratch_size(&self, batch: usize) -> usize {
        GATES * self.weights.hidden() * batch
    }

    fn forward(&self, s: StepForward<'_, T>) {
        let w = &self.weights;
        let (h, ni, b) = (w.hidden(), w.input(), s.batch);
        let g = GATES * h;
        let one = T::one();
        let a = &mut s.scratch[..g * b];
        broadcast_bias(a, w.bias_ih().map(Param::data), g);
        add_bias(a, w.bias_hh().map(Param::data), g);
        gemm(
            one,
            w.weight_ih().view(),
            MatRef::col_major(s.x, ni, b).expect("x checked"),
            one,
            MatMut::col_major(&mut *a, g, b).expect("sized above"),
        );
        gemm(
            one,
            w.weight_hh().view(),
            h_view(s.prev, h, 2 * h, b),
            one,
            MatMut::col_major(&mut *a, g, b).expect("sized above"),
        );
        let p = self.params();
        let [pi, pf, po] = self.peep.map(|k| p[k].data());
        for (((a, prev), next), cache) in a
            .chunks_exact(g)
            .zip(s.prev.chunks_exact(2 * h))
            .zip(s.next.chunks_exact_mut(2 * h))
            .zip(s.cache.chunks_exact_mut(6 * h))
        {
            forward_column(h, a, [pi, pf, po], prev, next, cache);
        }
    }

    fn backward(&self, s: StepBackward<'_, T>, grads: &mut Params<T>) {
        let w = &self.weights;
        let (h, ni, b) = (w.hidden(), w.input(), s.batch);
        let g = GATES * h;
        let (one, zero) = (T::one(), T::zero());
        let da = &mut s.scratch[..g * b];
        let p = self.params();
        let [pi, pf, po] = self.peep.map(|k| p[k].data());
        for ((((da, cache), prev), d_next), d_prev) in da
            .chunks_exact_mut(g)
            .zip(s.cache.chunks_exact(6 * h))
            .zip(s.prev.chunks_exact(2 * h))
            .zip(s.d_next.chunks_exact(2 * h))
            .zip(s.d_prev.chunks_exact_mut(2 * h))
        {
            backward_column(h, [pi, pf, po], cache, prev, d_next, da, d_prev);
        }
        let da = &*da;

        // The peepholes' gradients: d p_i = Σ_b da_i c_{t-1}, d p_f = Σ_b da_f c_{t-1},
        // d p_o = Σ_b da_o c_t.
        for (k, (block, cache_block)) in
            [(0, None), (1, None), (3, Some(4))].into_iter().enumerate()
        {
            let acc = grads.at_mut(self.peep[k]).data_mut();
            for col in 0..b {
                let dag = &da[col * g + block * h..][..h];
                let c = match cache_block {
                    Some(cb) => &s.cache[col * 6 * h + cb * h..][..h],
                    None => &s.prev[col * 2 * h + h..][..h],
                };
                for j in 0..h {
                    acc[j] += dag[j] * c[j];
                }
            }
        }

        // d h_{t-1} = W_hh^T da, d x = W_ih^T da, and the weight and bias gradients.
        let da_v = MatRef::col_major(da, g, b).expect("sized above");
        gemm(
            one,
            w.weight_hh().view().t(),
            da_v,
            zero,
            MatMut::new(s.d_prev, h, b, 1, 2 * h).expect("d_prev checked"),
        );
        gemm(
            one,
            w.weight_ih().view().t(),
            da_v,
            zero,
            MatMut::col_major(s.d_x, ni, b).expect("d_x checked"),
        );
        let gp = w.gate_params();
        gemm(
            one,
            da_v,
            MatRef::col_major(s.x, ni, b).expect("x checked").t(),
            one,
            MatMut::row_major(grads.at_mut(gp.weight_ih).data_mut(), g, ni).expect("layout"),
        );
        gemm(
            one,
            da_v,
            h_view(s.prev, h, 2 * h, b).t(),
            one,
            MatMut::row_major(grads.at_mut(gp.weight_hh).data_mut(), g, h).expect("layout"),
        );
        for k in [gp.bias_ih, gp.bias_hh].into_iter().flatten() {
            add_row_sums(grads.at_mut(k).data_mut(), da, g);
        }
    }
}

/// One sample's forward from its pre-activations `a` (`4H`): writes `next` (`[h_t; c_t]`) and
/// `cache` (`[i; f; g; o; c_t; tanh(c_t)]`). The gate pre-activations go into the cache first and
/// are squashed there by the slice activations (vectorised for `f32`).
fn forward_column<T: Real>(
    h: usize,
    a: &[T],
    [pi, pf, po]: [&[T]; 3],
    prev: &[T],
    next: &mut [T],
    cache: &mut [T],
) {
    let c_prev = &prev[h..2 * h];
    let (ifgo, rest) = cache[..6 * h].split_at_mut(4 * h);
    let (cc, tc) = rest.split_at_mut(h);
    for j in 0..h {
        ifgo[j] = a[j] + pi[j] * c_prev[j];
        ifgo[h + j] = a[h + j] + pf[j] * c_prev[j];
    }
    ifgo[2 * h..4 * h].copy_from_slice(&a[2 * h..4 * h]);
    sigmoid_in_place(&mut ifgo[..2 * h]);
    tanh_in_place(&mut ifgo[2 * h..3 * h]);
    for j in 0..h {
        let c = ifgo[h + j] * c_prev[j] + ifgo[j] * ifgo[2 * h + j];
        cc[j] = c;
        tc[j] = c;
        ifgo[3 * h + j] = a[3 * h + j] + po[j] * c;
    }
    tanh_in_place(tc);
    sigmoid_in_place(&mut ifgo[3 * h..4 * h]);
    let (h_next, c_next) = next[..2 * h].split_at_mut(h);
    c_next.copy_from_slice(cc);
    for j in 0..h {
        h_next[j] = ifgo[3 * h + j] * tc[j];
    }
}

/// One sample's backward: writes `da` (`4H`, the gradients of the pre-activations `a`) and the
/// `c` rows of `d_prev` (the `h` rows are the caller's `W_hh^T da`).
fn backward_column<T: Real>(
    h: usize,
    [pi, pf, po]: [&[T]; 3],
    cache: &[T],
    prev: &[T],
    d_next: &[T],
    da: &mut [T],
    d_prev: &mut [T],
) {
    let one = T::one();
    let c_prev = &prev[h..2 * h];
    let (dh, dc_next) = (&d_next[..h], &d_next[h..2 * h]);
    let dc_prev = &mut d_prev[h..2 * h];
    for j in 0..h {
        let (i, f, g, o) = (cache[j], cache[h + j], cache[2 * h + j], cache[3 * h + j]);
        let tc = cache[5 * h + j];
        let da_o = dh[j] * tc * o * (one - o);
        // c_t reaches the loss through c_t itself, through tanh(c_t) in h_t, and through o's
        // peephole.
        let dc = dc_next[j] + dh[j] * o * (one - tc * tc) + da_o * po[j];
        let da_i = dc * g * i * (one - i);
        let da_f = dc * c_prev[j] * f * (one - f);
        da[j] = da_i;
        da[h + j] = da_f;
        da[2 * h + j] = dc * i * (one - g * g);
        da[3 * h + j] = da_o;
        dc_prev[j] = dc * f + da_i * pi[j] + da_f * pf[j];
    }
}
