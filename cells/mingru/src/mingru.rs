//! The minimal GRU (minGRU), Feng et al. 2024.
//!
//! "Were RNNs All We Needed?", arXiv:2410.01201, section 3.1.3 (the plain cell) and appendix B
//! (the log-space version and its `g`):
//!
//! ```text
//! z_t  = σ(W_z x_t + b_z)
//! h~_t = g(W_h x_t + b_h)          (plain minGRU: h~_t = W_h x_t + b_h)
//! h_t  = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h~_t
//! g(x) = x + 0.5 if x >= 0, σ(x) otherwise
//! ```
//!
//! # Parameters
//!
//! `weight_ih (2H, I)` holds the row blocks `[W_z; W_h]` and `bias_ih (2H)` holds `[b_z; b_h]`
//! (the paper's two `nn.Linear(I, H)`, stacked in its order of the equations); there is no
//! recurrent weight. Default initialisation `U(-1/sqrt(I), 1/sqrt(I))` for both, `nn.Linear`'s.
//!
//! # Scan form
//!
//! A pass computes `k = W_ih X + b_ih` for all `T * B` columns in one GEMM (the cache, `2H` per
//! column: the pre-activations `[k_z; k_h]`), then `h_t = a_t h_{t-1} + b_t` with `a = 1 - z =
//! σ(-k_z)` and `b = z ⊙ h~`, the gates of each column computed where the recurrence uses them,
//! in one loop per sample block ([`scan::by_samples`]: the pre-activations read once, the states
//! written once). Backward runs the adjoint `G_t = d_t + a_{t+1} G_{t+1}` for the total gradient
//! at every state in one reverse loop of the same kind, the gates recomputed from the cache, forms
//!
//! ```text
//! d k_z = G_t ⊙ (h~_t - h_{t-1}) ⊙ z_t (1 - z_t)
//! d k_h = G_t ⊙ z_t ⊙ g'(k_h)
//! d h_{-1} = (1 - z_0) ⊙ G_0
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

/// Row blocks of `weight_ih`, in order `z, h`.
const BLOCKS: usize = 2;

/// The minGRU of Feng et al. 2024 (see the [module docs](self) for the equations).
///
/// - Parameters: `weight_ih (2H, input)` and with a bias `bias_ih (2H)`, row-major, blocks
///   `z, h`.
/// - Form: [`StepForm::Scan`]; mode `"MINGRU"`.
/// - State: `h` (`state_size = H`).
/// - Cache: `2H` per sample and step, the pre-activations `[k_z; k_h]`.
///
/// ```
/// use rnnzoo_cell::{seeded, Cell, CellExt, StepForward};
/// use rnnzoo_mingru::MinGruCell;
///
/// let cell = MinGruCell::<f64>::new(2, 3, &mut seeded(0))?;
/// assert_eq!((cell.mode(), cell.state_size(), cell.cache_size()), ("MINGRU", 3, 6));
/// // One step through CellExt (a pass of one step).
/// let (x, prev) = ([0.5, -1.0], [0.1, 0.2, 0.3]);
/// let (mut next, mut cache) = ([0.0; 3], [0.0; 6]);
/// let mut scratch = vec![0.0; cell.step_scratch_size(1)];
/// cell.step_forward(StepForward { x: &x, prev: &prev, next: &mut next, cache: &mut cache, batch: 1, scratch: &mut scratch })?;
/// assert!(next.iter().all(|v| v.is_finite()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MinGruCell<T> {
    params: Params<T>,
    input: usize,
    hidden: usize,
    candidate: Candidate,
}

impl<T: Real> MinGruCell<T> {
    /// A cell with a bias, the candidate `g` (the log-space version's) and `nn.Linear`'s default
    /// initialisation, every parameter `U(-1/sqrt(I), 1/sqrt(I))`.
    ///
    /// ```
    /// let cell = rnnzoo_mingru::MinGruCell::<f32>::new(4, 3, &mut rnnzoo_cell::seeded(1))?;
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
    /// use rnnzoo_mingru::{Candidate, MinGruCell};
    /// let plain = MinGruCell::<f64>::with_candidate(4, 3, Candidate::Linear, &mut rnnzoo_cell::seeded(1))?;
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
    /// use rnnzoo_mingru::{Candidate, MinGruCell};
    /// let cell = MinGruCell::<f64>::zeros(2, 3, false, Candidate::G)?;
    /// let names: Vec<&str> = cell.params().names().collect();
    /// assert_eq!(names, ["weight_ih"]);
    /// assert_eq!(cell.params().get("weight_ih").unwrap().shape(), &[6, 2]);
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
    /// use rnnzoo_mingru::{Candidate, MinGruCell};
    /// assert!(!MinGruCell::<f32>::zeros(2, 3, false, Candidate::G)?.has_bias());
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    pub fn has_bias(&self) -> bool {
        self.params.len() == 2
    }

    /// The candidate activation.
    ///
    /// ```
    /// use rnnzoo_mingru::{Candidate, MinGruCell};
    /// assert_eq!(MinGruCell::<f32>::zeros(2, 3, true, Candidate::Linear)?.candidate(), Candidate::Linear);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    pub fn candidate(&self) -> Candidate {
        self.candidate
    }

    /// `k = W_ih X + b_ih` over `n` columns into `pre` (`2H x n`).
    fn pre_activations(&self, x: &[T], pre: &mut [T], n: usize) {
        let rows = BLOCKS * self.hidden;
        broadcast_bias(pre, self.params.get("bias_ih").map(Param::data), rows);
        let x = MatRef::col_major(x, self.input, n).expect("x sized by the unroller");
        let out = MatMut::col_major(pre, rows, n).expect("cache sized by the unroller");
        // PyTorch's row-major weight, packed once per pass: the backend multiplies a row-major
        // matrix by many columns at about half speed (see rnnzoo_cell::gemm).
        let w = PackedA::new(self.params.at(0).view());
        gemm_packed(T::one(), &w, x, T::one(), out);
    }
}

/// The gates of one column (one sample at one step), from its pre-activations `[k_z; k_h]`:
/// `H` values each, small enough to stay in L1 between the activations and their use.
struct ColumnGates<T> {
    /// `z = σ(k_z)`.
    z: Vec<T>,
    /// `1 - z = σ(-k_z)`, the recurrence's coefficient, from the same `exp` as `z` and exact where
    /// `z` rounds to 1.
    a: Vec<T>,
    /// `h~ = c(k_h)`.
    cand: Vec<T>,
}

impl<T: Real> ColumnGates<T> {
    fn new(h: usize) -> Self {
        Self {
            z: vec![T::zero(); h],
            a: vec![T::zero(); h],
            cand: vec![T::zero(); h],
        }
    }

    fn compute(&mut self, candidate: Candidate, pre: &[T]) {
        let (k_z, k_h) = pre.split_at(self.z.len());
        sigmoid_pair(k_z, &mut self.z, &mut self.a);
        candidate.apply_column(k_h, &mut self.cand);
    }
}

impl<T: Real> Cell<T> for MinGruCell<T> {
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
        "MINGRU"
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

impl<T: Real> ScanPass<T> for MinGruCell<T> {
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
                    for (((h, &p), &a), (&z, &c)) in cur
                        .iter_mut()
                        .zip(prev)
                        .zip(&g.a)
                        .zip(g.z.iter().zip(&g.cand))
                    {
                        *h = a * p + z * c;
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
        // The adjoint recurrence G_t = d_t + a_{t+1} G_{t+1} (in place of d_states) and the
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
                    let (dz, dc) = d.split_at_mut(h);
                    let gt = &gates;
                    // d k_z = G (h~ - h_{t-1}) z (1 - z).
                    for ((dz, (&g, &p)), ((&z, &a), &c)) in dz
                        .iter_mut()
                        .zip(g.iter().zip(prev))
                        .zip(gt.z.iter().zip(&gt.a).zip(&gt.cand))
                    {
                        *dz = g * (c - p) * z * a;
                    }
                    // d k_h = G z c'(k_h).
                    let zs = g.iter().zip(&gt.z);
                    let kc = k[h..].iter().zip(&gt.cand);
                    for ((dc, (&g, &z)), (&k, &c)) in dc.iter_mut().zip(zs).zip(kc) {
                        *dc = g * z * self.candidate.slope(k, c);
                    }
                    a_keep.copy_from_slice(&gt.a);
                }
                if t == 0 {
                    // d h_{-1} = (1 - z_0) G_0.
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
