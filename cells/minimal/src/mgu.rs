//! The minimal gated unit (MGU): one gate, applied to `h` before the candidate's recurrent product.
//!
//! Zhou, Wu, Zhang & Zhou, "Minimal gated unit for recurrent neural networks", International
//! Journal of Automation and Computing 13(3), 2016 (arXiv:1603.09420), the MGU's defining
//! equations:
//!
//! ```text
//! f_t = σ(W_f [h_{t-1}, x_t] + b_f)
//! h̃_t = tanh(W_h [f_t ⊙ h_{t-1}, x_t] + b_h)
//! h_t = (1 - f_t) ⊙ h_{t-1} + f_t ⊙ h̃_t
//! ```
//!
//! # Parameters and bias placement
//!
//! The weights are PyTorch's GRU-style set with `G = 2` gate blocks, `f` then `n` (the candidate
//! `h̃`): `weight_ih (2H, I)`, `weight_hh (2H, H)`, `bias_ih (2H)`, `bias_hh (2H)`, so that
//! `W_f [h, x] = W_hf h + W_if x` and `W_h [f ⊙ h, x] = W_hn (f ⊙ h) + W_in x`:
//!
//! ```text
//! f   = σ(W_if x + b_if + W_hf h + b_hf)
//! n   = tanh(W_in x + b_in + W_hn (f ⊙ h) + b_hn)
//! h_t = (1 - f) ⊙ h + f ⊙ n
//! ```
//!
//! The paper has one bias per gate (`b_f`, `b_h`); here, as in every PyTorch recurrent cell, each
//! gate has an input and a recurrent bias, whose sum is the paper's (`b_f = b_if + b_hf`,
//! `b_h = b_in + b_hn`): the same functions, with two redundant degrees of freedom per unit, kept
//! so the parameters have PyTorch's names, shapes and default initialisation. `b_hn` is added
//! *after* the product `W_hn (f ⊙ h)`, as in the general-form example of
//! [`rnnzoo_cell::GeneralStep`] (which differs from the paper only in having the two biases, as
//! this cell does) and in Keras' `reset_after=False` GRU; this is where it differs
//! from PyTorch's `nn.GRU`, whose reset gate scales `W_hn h + b_hn` bias included. Putting `b_hn`
//! inside the gate (`W_hn (f ⊙ h) + f ⊙ b_hn`) would not be the paper's cell: with `f ⊙ b_hn` a
//! closed gate would remove part of the candidate's bias, which the paper's `b_h` never is.
//!
//! # Step form
//!
//! The candidate's product needs `f` first, so the step is not two GEMMs and a pointwise part:
//! it is a [`GeneralStep`] of three GEMMs (`W_ih x` for both blocks, `W_hf h`, then
//! `W_hn (f ⊙ h)`), all into the scratch buffer. Nothing is allocated in a step.

use rnnzoo_cell::activation::{sigmoid_of_sum, tanh_of_sum};
use rnnzoo_cell::gemm::{MatMut, MatRef, gemm};
use rnnzoo_cell::rand::Rng;
use rnnzoo_cell::{
    Cell, CellError, GateWeights, GeneralStep, Param, Params, Real, StepBackward, StepForm,
    StepForward, add_row_sums, broadcast_bias,
};

/// Gate blocks, in order `f, n`.
const GATES: usize = 2;

/// The minimal gated unit of Zhou et al. 2016 (see the [module docs](self) for the equations and
/// the bias placement).
///
/// - Parameters: `weight_ih (2H, input)`, `weight_hh (2H, H)`, and with biases `bias_ih (2H)`,
///   `bias_hh (2H)`, row-major, gate blocks `f, n` (block `k` is rows `k*H..(k+1)*H`).
/// - Form: a general step ([`StepForm::General`]), three GEMMs forward; mode `"MGU"`.
/// - State: `h` (`state_size = H`).
/// - Cache: `2H` per sample, column `b` is `[f; n]`.
/// - Scratch: `5H` per sample.
///
/// ```
/// use rnnzoo_cell::{gradcheck, seeded, Cell, CellExt, StepForward};
/// use rnnzoo_minimal::MguCell;
///
/// let mut cell = MguCell::<f64>::new(3, 4, &mut seeded(0))?;
/// assert_eq!(cell.mode(), "MGU");
/// assert_eq!(cell.params().get("weight_hh").unwrap().shape(), &[8, 4]); // f and n blocks
///
/// // One step of a batch of 2 samples.
/// let (x, prev) = (vec![0.5; 3 * 2], vec![0.1; 4 * 2]);
/// let (mut next, mut cache) = (vec![0.0; 4 * 2], vec![0.0; cell.cache_size() * 2]);
/// let mut scratch = vec![0.0; cell.step_scratch_size(2)];
/// cell.step_forward(StepForward { x: &x, prev: &prev, next: &mut next, cache: &mut cache, batch: 2, scratch: &mut scratch })?;
/// assert!(next.iter().all(|h| h.abs() < 1.0));
///
/// // Its backward agrees with finite differences.
/// assert!(gradcheck::check_cell(&mut cell, 2, 7, &Default::default()).passed());
/// # Ok::<(), rnnzoo_cell::CellError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MguCell<T> {
    weights: GateWeights<T>,
}

impl<T: Real> MguCell<T> {
    /// A cell with biases and PyTorch's default initialisation, every parameter
    /// `U(-1/sqrt(H), 1/sqrt(H))`.
    ///
    /// ```
    /// let cell = rnnzoo_minimal::MguCell::<f32>::new(2, 3, &mut rnnzoo_cell::seeded(1))?;
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
    /// let cell = rnnzoo_minimal::MguCell::<f32>::with_bias(2, 3, false, &mut rnnzoo_cell::seeded(1))?;
    /// assert_eq!(cell.params().names().collect::<Vec<_>>(), ["weight_ih", "weight_hh"]);
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

    /// A cell whose parameters are all zero, to be filled by [`Params::set`] or an
    /// [`Init`](rnnzoo_cell::Init).
    ///
    /// ```
    /// use rnnzoo_cell::Cell;
    /// let cell = rnnzoo_minimal::MguCell::<f64>::zeros(2, 3, true)?;
    /// assert!(cell.params().iter().all(|p| p.data().iter().all(|&v| v == 0.0)));
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

impl<T: Real> Cell<T> for MguCell<T> {
    fn input_size(&self) -> usize {
        self.weights.input()
    }

    fn hidden_size(&self) -> usize {
        self.weights.hidden()
    }

    fn cache_size(&self) -> usize {
        GATES * self.weights.hidden()
    }

    fn mode(&self) -> &str {
        "MGU"
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

/// A `rows x cols` block of a column-major matrix whose columns are `stride` apart.
fn block<T>(s: &[T], rows: usize, cols: usize, stride: usize) -> MatRef<'_, T> {
    MatRef::new(s, rows, cols, 1, stride).expect("sized by the step")
}

fn block_mut<T>(s: &mut [T], rows: usize, cols: usize, stride: usize) -> MatMut<'_, T> {
    MatMut::new(s, rows, cols, 1, stride).expect("sized by the step")
}

impl<T: Real> GeneralStep<T> for MguCell<T> {
    /// Forward: `gi` and `gh` (`2H` each) and `f ⊙ h` (`H`). Backward: the pre-activation
    /// gradients (`2H`), `f ⊙ h` and its gradient (`H` each).
    fn scratch_size(&self, batch: usize) -> usize {
        5 * self.weights.hidden() * batch
    }

    fn forward(&self, step: StepForward<'_, T>) {
        let StepForward {
            x,
            prev,
            next,
            cache,
            batch,
            scratch,
        } = step;
        let w = &self.weights;
        let (h, ni) = (w.hidden(), w.input());
        let g = GATES * h;
        let (gi, rest) = scratch[..5 * h * batch].split_at_mut(g * batch);
        let (gh, fh) = rest.split_at_mut(g * batch);
        let (w_f, w_n) = w.weight_hh().data().split_at(h * h);
        let (w_f, w_n) = (
            MatRef::row_major(w_f, h, h).expect("weight_hh is 2H x H"),
            MatRef::row_major(w_n, h, h).expect("weight_hh is 2H x H"),
        );

        // gi = W_ih x + b_ih (both blocks); the f rows of gh = W_hf h + b_hf, b_hn in its n rows.
        broadcast_bias(gi, w.bias_ih().map(Param::data), g);
        broadcast_bias(gh, w.bias_hh().map(Param::data), g);
        gemm(
            T::one(),
            w.weight_ih().view(),
            block(x, ni, batch, ni),
            T::one(),
            block_mut(gi, g, batch, g),
        );
        gemm(
            T::one(),
            w_f,
            block(prev, h, batch, h),
            T::one(),
            block_mut(gh, h, batch, g),
        );
        for b in 0..batch {
            let col = b * g;
            let f = &mut cache[col..col + h];
            sigmoid_of_sum(&gi[col..col + h], &gh[col..col + h], f);
            let (hp, fh) = (&prev[b * h..(b + 1) * h], &mut fh[b * h..(b + 1) * h]);
            for j in 0..h {
                fh[j] = f[j] * hp[j];
            }
        }
        // The n rows of gh += W_hn (f ⊙ h).
        gemm(
            T::one(),
            w_n,
            block(fh, h, batch, h),
            T::one(),
            block_mut(&mut gh[h..], h, batch, g),
        );
        for b in 0..batch {
            let col = b * g;
            let (f, n) = cache[col..col + g].split_at_mut(h);
            tanh_of_sum(&gi[col + h..col + g], &gh[col + h..col + g], n);
            let (hp, next) = (&prev[b * h..(b + 1) * h], &mut next[b * h..(b + 1) * h]);
            for j in 0..h {
                next[j] = hp[j] + f[j] * (n[j] - hp[j]);
            }
        }
    }

    fn backward(&self, step: StepBackward<'_, T>, grads: &mut Params<T>) {
        let StepBackward {
            x,
            prev,
            cache,
            d_next,
            d_x,
            d_prev,
            batch,
            scratch,
        } = step;
        let (one, zero) = (T::one(), T::zero());
        let w = &self.weights;
        let (h, ni) = (w.hidden(), w.input());
        let g = GATES * h;
        // `da` holds the gradients of both pre-activations. Each is a sum of its input and
        // recurrent parts (the n one is W_in x + b_in + W_hn (f h) + b_hn), so it is d gi and d gh.
        let (da, rest) = scratch[..4 * h * batch].split_at_mut(g * batch);
        let (fh, d_fh) = rest.split_at_mut(h * batch);
        let (w_f, w_n) = w.weight_hh().data().split_at(h * h);
        let (w_f, w_n) = (
            MatRef::row_major(w_f, h, h).expect("weight_hh is 2H x H"),
            MatRef::row_major(w_n, h, h).expect("weight_hh is 2H x H"),
        );

        // The path through the candidate, and f ⊙ h again (nothing is kept from forward).
        for b in 0..batch {
            let col = b * g;
            for j in 0..h {
                let (f, n) = (cache[col + j], cache[col + h + j]);
                let p = b * h + j;
                da[col + h + j] = d_next[p] * f * (one - n * n);
                fh[p] = f * prev[p];
            }
        }
        // d(f ⊙ h) = W_hn^T da_n; then the paths through f, and the direct ones into h_{t-1}.
        gemm(
            one,
            w_n.t(),
            block(&da[h..], h, batch, g),
            zero,
            block_mut(d_fh, h, batch, h),
        );
        for b in 0..batch {
            let col = b * g;
            for j in 0..h {
                let (f, n) = (cache[col + j], cache[col + h + j]);
                let p = b * h + j;
                let (dh, hp, dfh) = (d_next[p], prev[p], d_fh[p]);
                da[col + j] = (dh * (n - hp) + dfh * hp) * f * (one - f);
                d_prev[p] = dh * (one - f) + dfh * f;
            }
        }
        // d h_{t-1} += W_hf^T da_f;  d x = W_ih^T da.
        gemm(
            one,
            w_f.t(),
            block(da, h, batch, g),
            one,
            block_mut(d_prev, h, batch, h),
        );
        gemm(
            one,
            w.weight_ih().view().t(),
            block(da, g, batch, g),
            zero,
            block_mut(d_x, ni, batch, ni),
        );

        // Parameter gradients are added to.
        let gp = w.gate_params();
        gemm(
            one,
            block(da, g, batch, g),
            block(x, ni, batch, ni).t(),
            one,
            MatMut::row_major(grads.at_mut(gp.weight_ih).data_mut(), g, ni)
                .expect("layout checked"),
        );
        let (g_f, g_n) = grads.at_mut(gp.weight_hh).data_mut().split_at_mut(h * h);
        gemm(
            one,
            block(da, h, batch, g),
            block(prev, h, batch, h).t(),
            one,
            MatMut::row_major(g_f, h, h).expect("layout checked"),
        );
        gemm(
            one,
            block(&da[h..], h, batch, g),
            block(fh, h, batch, h).t(),
            one,
            MatMut::row_major(g_n, h, h).expect("layout checked"),
        );
        for k in [gp.bias_ih, gp.bias_hh].into_iter().flatten() {
            add_row_sums(grads.at_mut(k).data_mut(), da, g);
        }
    }
}
