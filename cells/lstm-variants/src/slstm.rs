//! xLSTM's sLSTM: exponential gating with a normaliser and a stabiliser state, and block-diagonal
//! (multi-head) recurrent weights (Beck et al. 2024).
//!
//! # The paper
//!
//! M. Beck, K. Pöppel, M. Spanring, A. Auer, O. Prudnikova, M. Kopp, G. Klambauer, J. Brandstetter
//! and S. Hochreiter, "xLSTM: Extended Long Short-Term Memory", NeurIPS 2024 (arXiv:2405.04517),
//! section 2.2. The sLSTM forward pass (per unit; `r` are the recurrent weights):
//!
//! ```text
//! c_t = f_t c_{t-1} + i_t z_t                    cell state
//! n_t = f_t n_{t-1} + i_t                        normaliser state
//! h_t = o_t h̃_t,        h̃_t = c_t / n_t          hidden state
//! z_t = φ(z̃_t),         z̃_t = w_z^T x_t + r_z h_{t-1} + b_z      cell input (φ = tanh)
//! i_t = exp(ĩ_t),       ĩ_t = w_i^T x_t + r_i h_{t-1} + b_i      input gate
//! f_t = σ(f̃_t) or exp(f̃_t),  f̃_t = w_f^T x_t + r_f h_{t-1} + b_f  forget gate
//! o_t = σ(õ_t),         õ_t = w_o^T x_t + r_o h_{t-1} + b_o      output gate
//! ```
//!
//! and, because `exp` overflows, the stabilised gates of the same section that replace `i_t` and `f_t`
//! in `c_t` and `n_t`, with the stabiliser state `m_t`:
//!
//! ```text
//! m_t  = max(log f_t + m_{t-1}, log i_t)
//! i'_t = exp(log i_t - m_t) = exp(ĩ_t - m_t)
//! f'_t = exp(log f_t + m_{t-1} - m_t)
//! ```
//!
//! `h_t` is the same with or without stabilisation (`c_t` and `n_t` are both scaled by
//! `exp(-m_t)`), and both stabilised gates are at most 1. The recurrent weights are block-diagonal
//! with `heads` blocks ("memory mixing" within a head only, section 2.2): unit `j` of head `k`
//! reads only head `k`'s `H / heads` units of `h_{t-1}`.
//!
//! # The cell
//!
//! The gate blocks are in the paper's order `i, f, z, o` (the official implementation's,
//! NX-AI/xlstm `xlstm/blocks/slstm/src/vanilla/slstm.py`), with PyTorch's names and two biases,
//! `W_ih` dense:
//!
//! ```text
//! a   = W_ih x_t + b_ih + R h_{t-1} + b_hh      (4H rows: ĩ, f̃, z̃, õ; R block-diagonal)
//! log f = log σ(f̃) (forget = "sigmoid", the default)  or  f̃ (forget = "exp")
//! m_t = max(log f + m_{t-1}, ĩ)
//! i'  = exp(ĩ - m_t)     f' = exp(log f + m_{t-1} - m_t)
//! c_t = f' c_{t-1} + i' tanh(z̃)
//! n_t = f' n_{t-1} + i'
//! h_t = σ(õ) c_t / n_t
//! ```
//!
//! The state is `[h; c; n; m]` (`4H` per sample), the official implementation's order. The
//! forget gate's default is the sigmoid: the paper allows both, and the official
//! implementation's `slstm` pointwise function uses `logsigmoid`. Two differences from that
//! function, both deliberate: it sets `m_1 = ĩ` when **every** `n` of the batch is zero (a rule
//! over the whole batch, which would let samples interact and is not differentiable); here
//! `m_t = max(...)` at every step, which changes `c`, `n` and `m` by a common factor but not `h`.
//! And `max` sends its gradient to the larger argument (at an exact tie, to `log f + m_{t-1}`),
//! where PyTorch's `torch.maximum` splits a tie evenly; ties have probability zero on real data.
//!
//! `n_t > 0` for every state reachable from `n_0 >= 0` (`i' > 0`); an initial state with negative
//! `n` is outside the cell's domain (`h_t` has a pole where `n_t = 0`).
//!
//! # Heads and the weight layout
//!
//! `weight_hh` is `(4H, H / heads)`: head `k`'s recurrent block for all four gates is rows
//! `k*4*D..(k+1)*4*D` (`D = H / heads`), row `(k*4 + g)*D + j` holding the weights of gate `g`,
//! unit `j` of head `k` onto head `k`'s `D` units. That is the official implementation's
//! recurrent kernel `(heads, 4*D, D)` read as one matrix, and with `heads = 1` it is exactly
//! PyTorch's `(4H, H)` gate-major `weight_hh`. `heads` must divide `H`; the default, 1, divides
//! every size, and the zoo's entry builds at every `H` with it.
//!
//! # Forms
//!
//! With one head the recurrent product is dense and the step fits the gated two-GEMM form: the
//! unroller hoists `W_ih x` over all steps and does one `R h` GEMM per step, the cell writes only
//! the pointwise part ([`StepForm::Gated`]). With more heads it is a general step
//! ([`StepForm::General`]) with one GEMM per head over all four gates, into scratch allocated
//! once; the same pointwise code runs in both.

use rnnzoo_cell::gemm::{MatMut, MatRef, gemm};
use rnnzoo_cell::rand::Rng;
use rnnzoo_cell::{
    Cell, CellError, GateWeights, GatedCell, GeneralStep, Init, Param, Params, PointwiseBackward,
    PointwiseForward, Real, StepBackward, StepForm, StepForward, add_row_sums,
};

use crate::{GATES, add_bias};

/// The sLSTM's forget gate (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ForgetGate {
    /// `f = σ(f̃)`, `log f = log σ(f̃)`: the official implementation's default.
    #[default]
    Sigmoid,
    /// `f = exp(f̃)`, `log f = f̃`.
    Exp,
}

impl ForgetGate {
    /// `"sigmoid"` or `"exp"`.
    ///
    /// ```
    /// use rnnzoo_lstm_variants::ForgetGate;
    /// assert_eq!(ForgetGate::default().name(), "sigmoid");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Self::Sigmoid => "sigmoid",
            Self::Exp => "exp",
        }
    }
}

/// How to build an [`SlstmCell`]: one head, a sigmoid forget gate and biases by default.
///
/// ```
/// use rnnzoo_lstm_variants::{ForgetGate, SlstmOptions};
/// let o = SlstmOptions::default().with_heads(4).with_forget(ForgetGate::Exp).with_bias(false);
/// assert_eq!((o.heads, o.forget, o.bias), (4, ForgetGate::Exp, false));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SlstmOptions {
    /// Blocks of the block-diagonal recurrent weights; must divide the hidden size (default 1).
    pub heads: usize,
    /// The forget gate's activation (default [`ForgetGate::Sigmoid`]).
    pub forget: ForgetGate,
    /// Whether there are `bias_ih` and `bias_hh` (default `true`).
    pub bias: bool,
}

impl Default for SlstmOptions {
    fn default() -> Self {
        Self {
            heads: 1,
            forget: ForgetGate::Sigmoid,
            bias: true,
        }
    }
}

impl SlstmOptions {
    /// With `heads` recurrent blocks.
    pub fn with_heads(mut self, heads: usize) -> Self {
        self.heads = heads;
        self
    }

    /// With this forget gate.
    pub fn with_forget(mut self, forget: ForgetGate) -> Self {
        self.forget = forget;
        self
    }

    /// With or without biases.
    pub fn with_bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }
}

/// The sLSTM cell (see the [module docs](self)).
///
/// - Parameters: `weight_ih (4H, input)` gate-major (`i, f, z, o`), `weight_hh (4H, H/heads)`
///   head-major (see the module docs; `4*heads` blocks of `D x D`), with biases `bias_ih (4H)`
///   and `bias_hh (4H)` gate-major.
/// - Form: gated with one head, general with more; mode `"SLSTM"`.
/// - State: `state_size = 4H`, column `b` is `[h; c; n; m]`.
/// - Cache: `8H` per sample: `i'`, `f'`, `tanh(z̃)`, `σ(õ)`, `c_t`, `n_t`, which argument of the
///   `max` won (1 or 0), and `d log f / d f̃`.
///
/// ```
/// use rnnzoo_cell::{gradcheck, seeded, Cell, StepForm};
/// use rnnzoo_lstm_variants::{SlstmCell, SlstmOptions};
///
/// let mut one = SlstmCell::<f64>::new(3, 4, &mut seeded(0))?;
/// assert!(matches!(one.form(), StepForm::Gated(_)));
/// assert_eq!((one.state_size(), one.mode()), (16, "SLSTM"));
/// let opts = SlstmOptions::default().with_heads(2);
/// let mut two = SlstmCell::<f64>::with_options(3, 4, opts, &mut seeded(0))?;
/// assert!(matches!(two.form(), StepForm::General(_)));
/// assert_eq!(two.params().get("weight_hh").unwrap().shape(), &[16, 2]);
/// // Both forms against finite differences (one step, a standard-normal previous state).
/// for cell in [&mut one, &mut two] {
///     assert!(gradcheck::check_cell(cell, 2, 3, &Default::default()).passed());
/// }
/// # Ok::<(), rnnzoo_cell::CellError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SlstmCell<T> {
    core: Core<T>,
}

/// What an [`SlstmCell`] is; the gated form with one head. (A separate type because a
/// [`GatedCell`] gets its [`Cell`] impl, with the gated form always, from `rnnzoo-cell`.)
#[derive(Debug, Clone, PartialEq)]
struct Core<T> {
    /// `weight_ih`, `weight_hh`, biases: a PyTorch weight set of `G = 4` with one head, the
    /// `weight_hh` of `4*heads` blocks otherwise.
    weights: GateWeights<T>,
    heads: usize,
    forget: ForgetGate,
}

impl<T: Real> SlstmCell<T> {
    /// One head, a sigmoid forget gate, biases, every parameter `U(-1/sqrt(H), 1/sqrt(H))`.
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero.
    pub fn new<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        Self::with_options(input, hidden, SlstmOptions::default(), rng)
    }

    /// A cell built with `options`, every parameter `U(-1/sqrt(H), 1/sqrt(H))` drawn in parameter
    /// order.
    ///
    /// ```
    /// use rnnzoo_cell::{seeded, CellError};
    /// use rnnzoo_lstm_variants::{SlstmCell, SlstmOptions};
    /// let bad = SlstmCell::<f32>::with_options(2, 6, SlstmOptions::default().with_heads(4), &mut seeded(0));
    /// assert!(matches!(bad, Err(CellError::Mismatch(m)) if m.contains("4 heads do not divide")));
    /// # Ok::<(), CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input`, `hidden` or `heads` is zero; [`CellError::Mismatch`] if
    /// `heads` does not divide `hidden`.
    pub fn with_options<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        options: SlstmOptions,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        let mut cell = Self::zeros(input, hidden, options)?;
        let init = Init::pytorch(hidden);
        for p in cell.core.weights.params_mut().iter_mut() {
            init.apply(p, rng);
        }
        Ok(cell)
    }

    /// A cell whose parameters are all zero, to be filled by [`Params::set`].
    ///
    /// # Errors
    ///
    /// As [`with_options`](Self::with_options).
    pub fn zeros(input: usize, hidden: usize, options: SlstmOptions) -> Result<Self, CellError> {
        let heads = options.heads;
        if heads == 0 {
            return Err(CellError::ZeroSize { what: "heads" });
        }
        let mut weights = GateWeights::zeros(input, hidden, GATES, options.bias)?;
        if !hidden.is_multiple_of(heads) {
            return Err(CellError::Mismatch(format!(
                "{heads} heads do not divide the hidden size {hidden}; the sLSTM's recurrent \
                 blocks are H / heads units wide"
            )));
        }
        if heads > 1 {
            // The block-diagonal weight_hh replaces the dense one, at the same index.
            let d = hidden / heads;
            let w_hh = weights.gate_params().weight_hh;
            let block = Param::zeros("weight_hh", &[GATES * hidden, d], GATES * heads)?;
            *weights.params_mut().at_mut(w_hh) = block;
        }
        Ok(Self {
            core: Core {
                weights,
                heads,
                forget: options.forget,
            },
        })
    }

    /// The number of heads (recurrent blocks).
    pub fn heads(&self) -> usize {
        self.core.heads
    }

    /// The forget gate's activation.
    pub fn forget(&self) -> ForgetGate {
        self.core.forget
    }

    /// Whether the cell has `bias_ih` and `bias_hh`.
    pub fn has_bias(&self) -> bool {
        self.core.weights.has_bias()
    }
}

impl<T: Real> Cell<T> for SlstmCell<T> {
    fn input_size(&self) -> usize {
        self.core.weights.input()
    }

    fn hidden_size(&self) -> usize {
        self.core.weights.hidden()
    }

    fn state_size(&self) -> usize {
        4 * self.core.weights.hidden()
    }

    fn cache_size(&self) -> usize {
        8 * self.core.weights.hidden()
    }

    fn mode(&self) -> &str {
        "SLSTM"
    }

    fn params(&self) -> &Params<T> {
        self.core.weights.params()
    }

    fn params_mut(&mut self) -> &mut Params<T> {
        self.core.weights.params_mut()
    }

    fn form(&self) -> StepForm<'_, T> {
        if self.core.heads == 1 {
            StepForm::Gated(&self.core)
        } else {
            StepForm::General(self)
        }
    }
}

/// Used through [`Cell::form`] with one head only: the unroller's dense `weight_hh` product is
/// then the whole recurrent side.
impl<T: Real> GatedCell for Core<T> {
    type Real = T;

    fn weights(&self) -> &GateWeights<T> {
        &self.weights
    }

    fn weights_mut(&mut self) -> &mut GateWeights<T> {
        &mut self.weights
    }

    fn mode(&self) -> &str {
        "SLSTM"
    }

    fn state_size(&self) -> usize {
        4 * self.weights.hidden()
    }

    fn cache_size(&self) -> usize {
        8 * self.weights.hidden()
    }

    /// Every pre-activation is `gi + gh`.
    fn d_gh_is_d_gi(&self) -> bool {
        true
    }

    fn forward_pointwise(&self, mut f: PointwiseForward<'_, T>) {
        let h = self.weights.hidden();
        for c in f.columns() {
            forward_column(h, self.forget, c.gi, Some(c.gh), c.prev, c.next, c.cache);
        }
    }

    fn backward_pointwise(&self, mut b: PointwiseBackward<'_, T>) {
        let h = self.weights.hidden();
        for c in b.columns() {
            backward_column(h, c.cache, c.prev, c.d_next, c.d_gi, c.d_prev);
            // h_{t-1} reaches the step only through R, whose product the unroller adds.
            c.d_prev[..h].fill(T::zero());
        }
    }
}

impl<T: Real> GeneralStep<T> for SlstmCell<T> {
    /// Forward: the gate-major pre-activations and the head-major `R h` (`4H` each). Backward:
    /// their gradients, gate-major and head-major (`4H` each).
    fn scratch_size(&self, batch: usize) -> usize {
        2 * GATES * self.core.weights.hidden() * batch
    }

    fn forward(&self, s: StepForward<'_, T>) {
        let w = &self.core.weights;
        let (h, ni, b) = (w.hidden(), w.input(), s.batch);
        let (g, d) = (GATES * h, h / self.core.heads);
        let one = T::one();
        let (a, rest) = s.scratch[..2 * g * b].split_at_mut(g * b);
        let ry = &mut rest[..g * b];
        // a = W_ih x + b_ih + b_hh (both biases here: a gate's pre-activation is their sum).
        rnnzoo_cell::broadcast_bias(a, w.bias_ih().map(Param::data), g);
        add_bias(a, w.bias_hh().map(Param::data), g);
        gemm(
            one,
            w.weight_ih().view(),
            MatRef::col_major(s.x, ni, b).expect("x checked"),
            one,
            MatMut::col_major(&mut *a, g, b).expect("sized above"),
        );
        // Head k: its 4D x D block of R times its D units of h, into rows k*4D.. of `ry`.
        let r = w.weight_hh().data();
        for k in 0..self.core.heads {
            gemm(
                one,
                MatRef::row_major(&r[k * 4 * d * d..(k + 1) * 4 * d * d], 4 * d, d).expect("block"),
                MatRef::new(&s.prev[k * d..], d, b, 1, 4 * h).expect("prev checked"),
                T::zero(),
                MatMut::new(&mut ry[k * 4 * d..], 4 * d, b, 1, g).expect("sized above"),
            );
        }
        // Gate-major a += head-major R h.
        for (a, ry) in a.chunks_exact_mut(g).zip(ry.chunks_exact(g)) {
            for k in 0..self.core.heads {
                for gate in 0..GATES {
                    let src = &ry[(k * GATES + gate) * d..][..d];
                    let dst = &mut a[gate * h + k * d..][..d];
                    dst.iter_mut().zip(src).for_each(|(x, &y)| *x += y);
                }
            }
        }
        for (((a, prev), next), cache) in a
            .chunks_exact(g)
            .zip(s.prev.chunks_exact(4 * h))
            .zip(s.next.chunks_exact_mut(4 * h))
            .zip(s.cache.chunks_exact_mut(8 * h))
        {
            forward_column(h, self.core.forget, a, None, prev, next, cache);
        }
    }

    fn backward(&self, s: StepBackward<'_, T>, grads: &mut Params<T>) {
        let w = &self.core.weights;
        let (h, ni, b) = (w.hidden(), w.input(), s.batch);
        let (g, d) = (GATES * h, h / self.core.heads);
        let (one, zero) = (T::one(), T::zero());
        let (da, rest) = s.scratch[..2 * g * b].split_at_mut(g * b);
        let d_ry = &mut rest[..g * b];
        for ((((da, cache), prev), d_next), d_prev) in da
            .chunks_exact_mut(g)
            .zip(s.cache.chunks_exact(8 * h))
            .zip(s.prev.chunks_exact(4 * h))
            .zip(s.d_next.chunks_exact(4 * h))
            .zip(s.d_prev.chunks_exact_mut(4 * h))
        {
            backward_column(h, cache, prev, d_next, da, d_prev);
        }
        // The head-major copy of da for the per-head products.
        for (da, d_ry) in da.chunks_exact(g).zip(d_ry.chunks_exact_mut(g)) {
            for k in 0..self.core.heads {
                for gate in 0..GATES {
                    d_ry[(k * GATES + gate) * d..][..d]
                        .copy_from_slice(&da[gate * h + k * d..][..d]);
                }
            }
        }
        let da = &*da;
        let d_ry = &*d_ry;
        let gp = w.gate_params();
        let r = w.weight_hh().data();
        let dr = grads.at_mut(gp.weight_hh).data_mut();
        for k in 0..self.core.heads {
            let d_ry_k = MatRef::new(&d_ry[k * 4 * d..], 4 * d, b, 1, g).expect("sized above");
            let h_k = MatRef::new(&s.prev[k * d..], d, b, 1, 4 * h).expect("prev checked");
            let r_k =
                MatRef::row_major(&r[k * 4 * d * d..(k + 1) * 4 * d * d], 4 * d, d).expect("block");
            // d h_k = R_k^T d ry_k, into head k's h rows of d_prev.
            gemm(
                one,
                r_k.t(),
                d_ry_k,
                zero,
                MatMut::new(&mut s.d_prev[k * d..], d, b, 1, 4 * h).expect("d_prev checked"),
            );
            gemm(
                one,
                d_ry_k,
                h_k.t(),
                one,
                MatMut::row_major(&mut dr[k * 4 * d * d..(k + 1) * 4 * d * d], 4 * d, d)
                    .expect("block"),
            );
        }
        let da_v = MatRef::col_major(da, g, b).expect("sized above");
        gemm(
            one,
            w.weight_ih().view().t(),
            da_v,
            zero,
            MatMut::col_major(s.d_x, ni, b).expect("d_x checked"),
        );
        gemm(
            one,
            da_v,
            MatRef::col_major(s.x, ni, b).expect("x checked").t(),
            one,
            MatMut::row_major(grads.at_mut(gp.weight_ih).data_mut(), g, ni).expect("layout"),
        );
        for k in [gp.bias_ih, gp.bias_hh].into_iter().flatten() {
            add_row_sums(grads.at_mut(k).data_mut(), da, g);
        }
    }
}

/// `log σ(x)`, computed without overflow: `-log(1 + exp(-x))` for `x >= 0`, `x - log(1 +
/// exp(x))` below.
fn log_sigmoid<T: Real>(x: T) -> T {
    if x >= T::zero() {
        -(-x).exp().ln_1p()
    } else {
        x - x.exp().ln_1p()
    }
}

/// One sample's forward. The pre-activations are `gi + gh` (gated form) or `gi` alone (general
/// form, which has added everything into it); both gate-major, `4H`. Writes `next` (`[h; c; n;
/// m]`) and `cache` (`[i'; f'; z; o; c; n; won; dlogf]`).
fn forward_column<T: Real>(
    h: usize,
    forget: ForgetGate,
    gi: &[T],
    gh: Option<&[T]>,
    prev: &[T],
    next: &mut [T],
    cache: &mut [T],
) {
    let one = T::one();
    let pre = |k: usize| gi[k] + gh.map_or(T::zero(), |gh| gh[k]);
    let (c_prev, n_prev, m_prev) = (&prev[h..2 * h], &prev[2 * h..3 * h], &prev[3 * h..4 * h]);
    for j in 0..h {
        let (ir, fr, zr, or) = (pre(j), pre(h + j), pre(2 * h + j), pre(3 * h + j));
        let (log_f, dlogf) = match forget {
            ForgetGate::Sigmoid => (log_sigmoid(fr), (-fr).sigmoid()),
            ForgetGate::Exp => (fr, one),
        };
        let lf_m = log_f + m_prev[j];
        let won = lf_m >= ir;
        let m = if won { lf_m } else { ir };
        let ip = (ir - m).exp();
        let fp = (lf_m - m).exp();
        let z = zr.tanh();
        let o = or.sigmoid();
        let c = fp * c_prev[j] + ip * z;
        let n = fp * n_prev[j] + ip;
        next[j] = o * c / n;
        next[h + j] = c;
        next[2 * h + j] = n;
        next[3 * h + j] = m;
        for (k, v) in [ip, fp, z, o, c, n, if won { one } else { T::zero() }, dlogf]
            .into_iter()
            .enumerate()
        {
            cache[k * h + j] = v;
        }
    }
}

/// One sample's backward: writes `da` (`4H`, gate-major) and the `c, n, m` rows of `d_prev` (the
/// caller writes the `h` rows).
fn backward_column<T: Real>(
    h: usize,
    cache: &[T],
    prev: &[T],
    d_next: &[T],
    da: &mut [T],
    d_prev: &mut [T],
) {
    let one = T::one();
    let at = |k: usize, j: usize| cache[k * h + j];
    for j in 0..h {
        let (ip, fp, z, o, c, n) = (at(0, j), at(1, j), at(2, j), at(3, j), at(4, j), at(5, j));
        let (won, dlogf) = (at(6, j) == one, at(7, j));
        let (c_prev, n_prev) = (prev[h + j], prev[2 * h + j]);
        let (dh, dc, dn, dm) = (
            d_next[j],
            d_next[h + j],
            d_next[2 * h + j],
            d_next[3 * h + j],
        );
        let ht = c / n;
        let d_ht = dh * o;
        let dc = dc + d_ht / n;
        let dn = dn - d_ht * ht / n;
        // Through log f' = log f + m_{t-1} - m_t and log i' = ĩ - m_t.
        let d_logfp = (dc * c_prev + dn * n_prev) * fp;
        let d_logip = (dc * z + dn) * ip;
        let dm = dm - d_logfp - d_logip;
        let (d_lf_m, d_ir) = if won {
            (d_logfp + dm, d_logip)
        } else {
            (d_logfp, d_logip + dm)
        };
        da[j] = d_ir;
        da[h + j] = d_lf_m * dlogf;
        da[2 * h + j] = dc * ip * (one - z * z);
        da[3 * h + j] = dh * ht * o * (one - o);
        d_prev[h + j] = dc * fp;
        d_prev[2 * h + j] = dn * fp;
        d_prev[3 * h + j] = d_lf_m;
    }
}
