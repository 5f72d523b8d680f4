//! The minimal LSTM (minLSTM), Feng et al. 2024.
//!
//! "Were RNNs All We Needed?", arXiv:2410.01201, section 3.2.4 (the plain cell, with length
//! independence scaling) and appendix B (the log-space version and its `g`):
//!
//! ```text
//! f_t  = σ(W_f x_t + b_f)
//! i_t  = σ(W_i x_t + b_i)
//! f'_t = f_t / (f_t + i_t),   i'_t = i_t / (f_t + i_t)
//! h~_t = g(W_h x_t + b_h)          (plain minLSTM: h~_t = W_h x_t + b_h)
//! h_t  = f'_t ⊙ h_{t-1} + i'_t ⊙ h~_t
//! g(x) = x + 0.5 if x >= 0, σ(x) otherwise
//! ```
//!
//! # Parameters
//!
//! `weight_ih (3H, I)` holds the row blocks `[W_f; W_i; W_h]` and `bias_ih (3H)` holds
//! `[b_f; b_i; b_h]` (the paper's three `nn.Linear(I, H)`, stacked in its order); there is no
//! recurrent weight. Default initialisation `U(-1/sqrt(I), 1/sqrt(I))` for both, `nn.Linear`'s.
//!
//! # Scan form
//!
//! A pass computes `k = W_ih X + b_ih` for all `T * B` columns in one GEMM (the cache, `3H` per
//! column: `[k_f; k_i; k_h]`), then `h_t = a_t h_{t-1} + b_t` with `a = f'`, `b = i' ⊙ h~`, the
//! gates of each column computed where the recurrence uses them ([`normalised_gates`], as one
//! vectorised loop per column), in one loop per sample block ([`scan::by_samples`]: the
//! pre-activations read once, the states written once), as minGRU does. With
//! `d = softplus(-k_i) - softplus(-k_f)`, `f' = σ(d)` and `i' = σ(-d)`, backward runs the adjoint
//! `G_t = d_t + f'_{t+1} G_{t+1}` for the total gradient at every state in one reverse loop of
//! the same kind, the gates recomputed from the cache, forms
//!
//! ```text
//! d d   = G_t ⊙ (h_{t-1} - h~_t) ⊙ f'_t i'_t
//! d k_f = d d ⊙ (1 - f_t),   d k_i = -d d ⊙ (1 - i_t)
//! d k_h = G_t ⊙ i'_t ⊙ g'(k_h)
//! d h_{-1} = f'_0 ⊙ G_0
//! ```
//!
//! and three GEMMs over the sequence: `d X = W_ih^T dK`, `d W_ih += dK X^T`, `d b_ih` the row sums.

use rnnzoo_cell::activation::sigmoid_pair;
use rnnzoo_cell::gemm::{MatMut, MatRef, PackedA, gemm, gemm_packed};
use rnnzoo_cell::rand::Rng;
use rnnzoo_cell::rayon::prelude::*;
use rnnzoo_cell::scan::{self, ScanBackward, ScanForward, ScanPass};
use rnnzoo_cell::{
    Cell, CellError, Init, Param, Params, Real, StepForm, add_row_sums, broadcast_bias,
};

use crate::Candidate;

/// Row blocks of `weight_ih`, in order `f, i, h`.
const BLOCKS: usize = 3;

/// The minLSTM of Feng et al. 2024 (see the [module docs](self) for the equations).
///
/// - Parameters: `weight_ih (3H, input)` and with a bias `bias_ih (3H)`, row-major, blocks
///   `f, i, h`.
/// - Form: [`StepForm::Scan`]; mode `"MINLSTM"`.
/// - State: `h` (`state_size = H`).
/// - Cache: `3H` per sample and step, the pre-activations `[k_f; k_i; k_h]`.
///
/// ```
/// use rnnzoo_cell::{seeded, Cell, CellExt, StepForward};
/// use rnnzoo_minlstm::MinLstmCell;
///
/// let cell = MinLstmCell::<f64>::new(2, 3, &mut seeded(0))?;
/// assert_eq!((cell.mode(), cell.state_size(), cell.cache_size()), ("MINLSTM", 3, 9));
/// // One step through CellExt (a pass of one step).
/// let (x, prev) = ([0.5, -1.0], [0.1, 0.2, 0.3]);
/// let (mut next, mut cache) = ([0.0; 3], [0.0; 9]);
/// let mut scratch = vec![0.0; cell.step_scratch_size(1)];
/// cell.step_forward(StepForward { x: &x, prev: &prev, next: &mut next, cache: &mut cache, batch: 1, scratch: &mut scratch })?;
/// assert!(next.iter().all(|v| v.is_finite()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MinLstmCell<T> {
    params: Params<T>,
    input: usize,
    hidden: usize,
    candidate: Candidate,
}

impl<T: Real> MinLstmCell<T> {
    /// A cell with a bias, the candidate `g` (the log-space version's) and `nn.Linear`'s default
    /// initialisation, every parameter `U(-1/sqrt(I), 1/sqrt(I))`.
    ///
    /// ```
    /// let cell = rnnzoo_minlstm::MinLstmCell::<f32>::new(4, 3, &mut rnnzoo_cell::seeded(1))?;
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
        Self::with_candidate(input, hidden, Candidate::G, rng)
    }

    /// A cell with a bias, the given candidate activation and `nn.Linear`'s default
    /// initialisation.
    ///
    /// ```
    /// use rnnzoo_minlstm::{Candidate, MinLstmCell};
    /// let plain = MinLstmCell::<f64>::with_candidate(4, 3, Candidate::Linear, &mut rnnzoo_cell::seeded(1))?;
    /// assert_eq!(plain.candidate(), Candidate::Linear);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero.
    pub fn with_candidate<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        candidate: Candidate,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        let mut cell = Self::zeros(input, hidden, true, candidate)?;
        let k = 1.0 / (input as f64).sqrt();
        for p in cell.params.iter_mut() {
            Init::Uniform { low: -k, high: k }.apply(p, rng);
        }
        Ok(cell)
    }

    /// A cell whose parameters are all zero, with or without a bias, to be filled by
    /// [`Params::set`] or an [`Init`].
    ///
    /// ```
    /// use rnnzoo_cell::Cell;
    /// use rnnzoo_minlstm::{Candidate, MinLstmCell};
    /// let cell = MinLstmCell::<f64>::zeros(2, 3, false, Candidate::G)?;
    /// let names: Vec<&str> = cell.params().names().collect();
    /// assert_eq!(names, ["weight_ih"]);
    /// assert_eq!(cell.params().get("weight_ih").unwrap().shape(), &[9, 2]);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero.
    pub fn zeros(
        input: usize,
        hidden: usize,
        bias: bool,
        candidate: Candidate,
    ) -> Result<Self, CellError> {
        if input == 0 {
            return Err(CellError::ZeroSize { what: "input_size" });
        }
        if hidden == 0 {
            return Err(CellError::ZeroSize {
                what: "hidden_size",
            });
        }
        let mut params = Params::new();
        params.push(Param::zeros(
            "weight_ih",
            &[BLOCKS * hidden, input],
            BLOCKS,
        )?)?;
        if bias {
            params.push(Param::zeros("bias_ih", &[BLOCKS * hidden], BLOCKS)?)?;
        }
        Ok(Self {
            params,
            input,
            hidden,
            candidate,
        })
    }

    /// Whether the cell has a bias.
    ///
    /// ```
    /// use rnnzoo_minlstm::{Candidate, MinLstmCell};
    /// assert!(!MinLstmCell::<f32>::zeros(2, 3, false, Candidate::G)?.has_bias());
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    pub fn has_bias(&self) -> bool {
        self.params.len() == 2
    }

    /// The candidate activation.
    ///
    /// ```
    /// use rnnzoo_minlstm::{Candidate, MinLstmCell};
    /// assert_eq!(MinLstmCell::<f32>::zeros(2, 3, true, Candidate::Linear)?.candidate(), Candidate::Linear);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    pub fn candidate(&self) -> Candidate {
        self.candidate
    }

    /// `k = W_ih X + b_ih` over `n` columns into `pre` (`3H x n`).
    fn pre_activations(&self, x: &[T], pre: &mut [T], n: usize) {
        let rows = BLOCKS * self.hidden;
        broadcast_bias(pre, self.params.get("bias_ih").map(Param::data), rows);
        let x = MatRef::col_major(x, self.input, n).expect("x sized by the unroller");
        let out = MatMut::col_major(pre, rows, n).expect("cache sized by the unroller");
        // PyTorch's row-major weight, packed once per pass, as minGRU does (see
        // rnnzoo_cell::gemm: the backend multiplies a row-major matrix by many columns at about
        // half speed).
        let w = PackedA::new(self.params.at(0).view());
        gemm_packed(T::one(), &w, x, T::one(), out);
    }
}

/// `log σ(k) = -softplus(-k)`, with `softplus(x) = max(x, 0) + log1p(exp(-|x|))`.
#[inline]
fn log_sigmoid<T: Real>(k: T) -> T {
    let x = -k;
    -(x.max(T::zero()) + (-x.abs()).exp().ln_1p())
}

/// The normalised gates `(f', i') = (f / (f + i), i / (f + i))` of the pre-activations
/// `k_f`, `k_i` (`f = σ(k_f)`, `i = σ(k_i)`): finite and accurate for every finite
/// pre-activation, where the quotient is `0 / 0` once both gates underflow.
///
/// Where the larger gate is at least `σ(-30) ≈ 1e-13` (a normal number in f32 and f64, so the
/// sum is exact to rounding) the quotient is formed directly, to a few ulp; below, as
/// `f' = σ(d)`, `i' = σ(-d)` with `d = log f - log i` and `log σ(k) = -softplus(-k)`, the paper's
/// log-space form (its Algorithm 8), which never underflows.
///
/// ```
/// use rnnzoo_minlstm::normalised_gates;
///
/// let (f, i) = normalised_gates(0.3f64, -1.2);
/// let (sf, si) = (1.0 / (1.0 + (-0.3f64).exp()), 1.0 / (1.0 + 1.2f64.exp()));
/// assert!((f - sf / (sf + si)).abs() < 1e-15 && (i - si / (sf + si)).abs() < 1e-15);
/// // Both gates underflow (σ(-800) is 0 in f64): the quotient is 0/0, the ratio is not.
/// let (f, i) = normalised_gates(-800.0f64, -790.0);
/// assert!((f - 1.0 / (1.0 + 10f64.exp())).abs() < 1e-15 && (f + i - 1.0).abs() < 1e-15);
/// ```
#[inline]
pub fn normalised_gates<T: Real>(k_f: T, k_i: T) -> (T, T) {
    if k_f.max(k_i) > T::from_f64_lossy(-30.0) {
        let (f, i) = (k_f.sigmoid(), k_i.sigmoid());
        let sum = f + i;
        return (f / sum, i / sum);
    }
    let d = log_sigmoid(k_f) - log_sigmoid(k_i);
    (d.sigmoid(), (-d).sigmoid())
}

/// The gates of one column (one sample at one step), from its pre-activations
/// `[k_f; k_i; k_h]`: `H` values each, small enough to stay in L1 between the activations and
/// their use.
struct ColumnGates<T> {
    /// `1 - f = σ(-k_f)`, for the gradient of `log f`.
    not_f: Vec<T>,
    /// `1 - i = σ(-k_i)`.
    not_i: Vec<T>,
    /// `f'`, the recurrence's coefficient (holds `f = σ(k_f)` while it is computed).
    f_n: Vec<T>,
    /// `i'` (holds `i = σ(k_i)` while it is computed).
    i_n: Vec<T>,
    /// `h~ = c(k_h)`.
    cand: Vec<T>,
}

impl<T: Real> ColumnGates<T> {
    fn new(h: usize) -> Self {
        let zeros = || vec![T::zero(); h];
        Self {
            not_f: zeros(),
            not_i: zeros(),
            f_n: zeros(),
            i_n: zeros(),
            cand: zeros(),
        }
    }

    /// [`normalised_gates`] of the whole column: the quotient as one vectorised loop, then the
    /// rare lanes where both gates are below `σ(-30)` redone in the log-space form.
    fn compute(&mut self, candidate: Candidate, pre: &[T]) {
        let h = self.f_n.len();
        let (k_f, rest) = pre.split_at(h);
        let (k_i, k_h) = rest.split_at(h);
        sigmoid_pair(k_f, &mut self.f_n, &mut self.not_f);
        sigmoid_pair(k_i, &mut self.i_n, &mut self.not_i);
        for (f, i) in self.f_n.iter_mut().zip(self.i_n.iter_mut()) {
            let sum = *f + *i;
            (*f, *i) = (*f / sum, *i / sum);
        }
        let floor = T::from_f64_lossy(-30.0);
        let lanes = self.f_n.iter_mut().zip(self.i_n.iter_mut());
        for ((f, i), (&k_f, &k_i)) in lanes.zip(k_f.iter().zip(k_i)) {
            if k_f.max(k_i) <= floor {
                (*f, *i) = normalised_gates(k_f, k_i);
            }
        }
        candidate.apply_column(k_h, &mut self.cand);
    }
}

impl<T: Real> Cell<T> for MinLstmCell<T> {
    fn input_size(&self) -> usize {
        self.input
    }

    fn hidden_size(&self) -> usize {
        self.hidden
    }

    fn cache_size(&self) -> usize {
        BLOCKS * self.hidden
    }

    fn mode(&self) -> &str {
        "MINLSTM"
    }

    fn params(&self) -> &Params<T> {
        &self.params
    }

    fn params_mut(&mut self) -> &mut Params<T> {
        &mut self.params
    }

    fn form(&self) -> StepForm<'_, T> {
        StepForm::Scan(self)
    }

    fn settings(&self) -> String {
        format!("candidate={}", self.candidate.name())
    }
}

impl<T: Real> ScanPass<T> for MinLstmCell<T> {
    fn forward(&self, p: ScanForward<'_, T>) {
        let (h, b, steps) = (self.hidden, p.batch, p.steps);
        let rows = BLOCKS * h;
        self.pre_activations(p.x, p.cache, steps * b);
        let (pre, initial) = (&*p.cache, p.initial);
        // Gates and recurrence in one loop per sample and step: the pre-activations are read
        // once and the states written once (see rnnzoo_cell::scan::by_samples).
        let parts = scan::sample_parts(steps, b, h);
        let blocks = scan::by_samples(p.states, h, b, parts);
        blocks.into_par_iter().for_each(|mut states| {
            let samples = states.samples();
            let init = &initial[samples.start * h..samples.end * h];
            let mut gates = ColumnGates::new(h);
            for t in 0..steps {
                let (prev, cur) = if t == 0 {
                    (init, states.step(0))
                } else {
                    states.steps(t - 1, t)
                };
                let cols = cur.chunks_exact_mut(h).zip(prev.chunks_exact(h));
                for (s, (cur, prev)) in samples.clone().zip(cols) {
                    gates.compute(self.candidate, &pre[(t * b + s) * rows..][..rows]);
                    let g = &gates;
                    for (((h, &p), &f), (&i, &c)) in cur
                        .iter_mut()
                        .zip(prev)
                        .zip(&g.f_n)
                        .zip(g.i_n.iter().zip(&g.cand))
                    {
                        *h = f * p + i * c;
                    }
                }
            }
        });
    }

    fn backward(&self, p: ScanBackward<'_, T>, grads: &mut Params<T>) {
        let (h, b, steps) = (self.hidden, p.batch, p.steps);
        let (rows, n) = (BLOCKS * h, steps * b);
        let (pre, states, initial) = (p.cache, p.states, p.initial);
        let mut d_pre = vec![T::zero(); rows * n];
        // The adjoint recurrence G_t = d_t + f'_{t+1} G_{t+1} (in place of d_states) and the
        // gradients of the pre-activations, in one reverse loop per sample, the gates recomputed
        // from the cache.
        let parts = scan::sample_parts(steps, b, h);
        let g_blocks = scan::by_samples(p.d_states, h, b, parts);
        let d_blocks = scan::by_samples(&mut d_pre, rows, b, parts);
        let d0_blocks = scan::by_samples(p.d_initial, h, b, parts);
        let blocks = g_blocks.into_par_iter().zip(d_blocks).zip(d0_blocks);
        blocks.for_each(|((mut g_block, mut d_block), mut d0_block)| {
            let samples = g_block.samples();
            let mut gates = ColumnGates::new(h);
            let mut a_next = vec![T::zero(); samples.len() * h];
            for t in (0..steps).rev() {
                let g_t = if t + 1 < steps {
                    let (next, cur) = g_block.steps(t + 1, t);
                    for ((g, &a), &n) in cur.iter_mut().zip(&a_next).zip(next) {
                        *g += a * n;
                    }
                    cur
                } else {
                    g_block.step(t)
                };
                let d_t = d_block.step(t);
                let cols = g_t.chunks_exact(h).zip(d_t.chunks_exact_mut(rows));
                let cols = cols.zip(a_next.chunks_exact_mut(h));
                for (s, ((g, d), a_keep)) in samples.clone().zip(cols) {
                    let k = &pre[(t * b + s) * rows..][..rows];
                    gates.compute(self.candidate, k);
                    let prev = if t == 0 {
                        &initial[s * h..][..h]
                    } else {
                        &states[((t - 1) * b + s) * h..][..h]
                    };
                    let (d_f, rest) = d.split_at_mut(h);
                    let (d_i, d_c) = rest.split_at_mut(h);
                    let gt = &gates;
                    // d d = G (h_{t-1} - h~) f' i'; d k_f = d d (1 - f), d k_i = -d d (1 - i),
                    // as d/dk log σ(k) = 1 - σ(k).
                    let lanes = d_f.iter_mut().zip(d_i.iter_mut());
                    let values = g.iter().zip(prev).zip(gt.f_n.iter().zip(&gt.i_n));
                    let values = values.zip(gt.cand.iter().zip(gt.not_f.iter().zip(&gt.not_i)));
                    for ((d_f, d_i), (((&g, &p), (&f, &i)), (&c, (&nf, &ni)))) in lanes.zip(values)
                    {
                        let dd = g * (p - c) * f * i;
                        *d_f = dd * nf;
                        *d_i = -dd * ni;
                    }
                    // d k_h = G i' c'(k_h).
                    let gi = g.iter().zip(&gt.i_n);
                    let kc = k[2 * h..].iter().zip(&gt.cand);
                    for ((dc, (&g, &i)), (&k, &c)) in d_c.iter_mut().zip(gi).zip(kc) {
                        *dc = g * i * self.candidate.slope(k, c);
                    }
                    a_keep.copy_from_slice(&gt.f_n);
                }
                if t == 0 {
                    // d h_{-1} = f'_0 G_0.
                    for ((d0, &a), &g) in d0_block.step(0).iter_mut().zip(&a_next).zip(&*g_t) {
                        *d0 = a * g;
                    }
                }
            }
        });
        let dk = MatRef::col_major(&d_pre, rows, n).expect("sized above");
        let x = MatRef::col_major(p.x, self.input, n).expect("x sized by the unroller");
        let d_x = MatMut::col_major(p.d_x, self.input, n).expect("d_x sized by the unroller");
        gemm(T::one(), self.params.at(0).view().t(), dk, T::zero(), d_x);
        let d_w = MatMut::row_major(grads.at_mut(0).data_mut(), rows, self.input)
            .expect("grads laid out as the parameters");
        gemm(T::one(), dk, x.t(), T::one(), d_w);
        if self.has_bias() {
            add_row_sums(grads.at_mut(1).data_mut(), &d_pre, rows);
        }
    }
}
