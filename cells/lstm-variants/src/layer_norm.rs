//! The layer-normalised LSTM (Ba, Kiros & Hinton 2016).
//!
//! # The paper
//!
//! J. L. Ba, J. R. Kiros and G. E. Hinton, "Layer normalization", arXiv:1607.06450, 2016. Section
//! 3.1 normalises the summed inputs of a recurrent layer over its units, separately at every step
//! and for every sample: for a vector `z` of `D` values,
//!
//! ```text
//! LN(z; α, β) = α ⊙ (z - μ) / σ + β,    μ = (1/D) Σ_k z_k,    σ = sqrt((1/D) Σ_k (z_k - μ)²)
//! ```
//!
//! and the supplementary material gives the layer-normalised LSTM of its experiments (its gate
//! blocks in the order `f, i, o, g`):
//!
//! ```text
//! (f; i; o; g) = LN(W_h h_{t-1}; α_1, β_1) + LN(W_x x_t; α_2, β_2) + b
//! c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g)
//! h_t = σ(o) ⊙ tanh(LN(c_t; α_3, β_3))
//! ```
//!
//! # The variant here
//!
//! Exactly that one: the input product and the recurrent product are normalised **separately**,
//! each over all `4H` gate rows of one sample; `c_t` is normalised over its `H` units before the
//! output `tanh` only, and the **unnormalised** `c_t` is carried to the next step. In PyTorch's
//! names and gate order `i, f, g, o`:
//!
//! ```text
//! a   = LN(W_ih x_t; γ_ih, b_ih) + LN(W_hh h_{t-1}; γ_hh, b_hh)   (4H rows: blocks i, f, g, o)
//! i = σ(a_i)   f = σ(a_f)   g = tanh(a_g)   o = σ(a_o)
//! c_t = f ⊙ c_{t-1} + i ⊙ g
//! h_t = o ⊙ tanh(LN(c_t; γ_c, β_c))
//! ```
//!
//! with `LN(z; γ, β) = γ ⊙ (z - μ) / sqrt(var + eps) + β` (`var` the biased variance, as
//! `torch.nn.functional.layer_norm`; `eps` = 1e-5 by default, PyTorch's, where the paper writes
//! no `eps`). The paper's `β_1`, `β_2` and `b` enter only as their sum; here `bias_ih` is `β_2`
//! and `bias_hh` is `β_1 + b`, PyTorch's two-bias convention.
//!
//! The statistics of each normalisation are those of one sample (one column of the batch), never
//! of the batch, so samples stay independent, as the cell contract requires.
//!
//! # Libraries
//!
//! The closest library form is haste's `LayerNormLSTM` (lmnt-com/haste,
//! `frameworks/pytorch/layer_norm_lstm.py`): gains on both gate normalisations (`gamma[0]`,
//! `gamma[1]`), one bias, a gain and a bias on the cell normalisation (`gamma_h`, `beta_h`); its
//! gate order is `i, g, f, o`. PyTorch's own `benchmarks/fastrnns/custom_lstms.py`
//! (`LayerNormLSTMCell`, the form most PyTorch ports copy) differs in one respect: it carries the
//! normalised cell state, `c_t := LN(c_t)`, to the next step. Here the paper wins.
//!
//! # Why the general form
//!
//! The normalisations need whole columns of `W_ih x` and `W_hh h` apart (before the biases) and
//! their gains need gradients: neither fits the gated form's pointwise step. The cell computes
//! its step itself: one GEMM for `W_ih x`, **one** GEMM for `W_hh h` over all four gates, then
//! the normalisations and the LSTM arithmetic per column, into scratch allocated once.

use rnnzoo_cell::activation::{sigmoid_in_place, tanh_in_place};
use rnnzoo_cell::gemm::{MatMut, MatRef, gemm};
use rnnzoo_cell::rand::Rng;
use rnnzoo_cell::{
    Cell, CellError, GateWeights, GeneralStep, Init, Param, Params, Real, StepBackward, StepForm,
    StepForward, add_row_sums, h_view,
};

use crate::GATES;

/// PyTorch's `nn.LayerNorm` default `eps`, the default here.
pub const DEFAULT_EPS: f64 = 1e-5;

/// The layer-normalised LSTM (see the [module docs](self)).
///
/// - Parameters, in order: `weight_ih (4H, input)`, `weight_hh (4H, H)`, with biases `bias_ih
///   (4H)`, `bias_hh (4H)` (the gate normalisations' shifts), then `ln_weight_ih (4H)`,
///   `ln_weight_hh (4H)` (their gains), `ln_weight_c (H)` and, with biases, `ln_bias_c (H)` (the
///   cell normalisation's gain and shift). Gate blocks `i, f, g, o`.
/// - Form: a general step ([`StepForm::General`]); mode `"LSTM_LAYERNORM"`.
/// - State: `state_size = 2H`, column `b` is `[h_b; c_b]` (`c` unnormalised).
/// - Cache: `14H + 3` per sample: the two normalised products (`4H` each), `i, f, g, o` (`4H`),
///   the normalised `c_t` and `tanh(LN(c_t))` (`H` each), and the three reciprocal standard
///   deviations.
/// - Scratch: `9H` per sample.
///
/// ```
/// use rnnzoo_cell::{gradcheck, seeded, Cell};
/// use rnnzoo_lstm_variants::LayerNormLstmCell;
///
/// let mut cell = LayerNormLstmCell::<f64>::new(3, 4, &mut seeded(0))?;
/// assert_eq!(cell.params().get("ln_weight_c").unwrap().data(), &[1.0; 4]); // nn.LayerNorm's init
/// assert_eq!((cell.state_size(), cell.mode(), cell.eps()), (8, "LSTM_LAYERNORM", 1e-5));
/// assert!(gradcheck::check_cell(&mut cell, 2, 0, &Default::default()).passed());
/// # Ok::<(), rnnzoo_cell::CellError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LayerNormLstmCell<T> {
    weights: GateWeights<T>,
    eps: T,
    /// Indices of `ln_weight_ih`, `ln_weight_hh`, `ln_weight_c`, `ln_bias_c` (if biases).
    ln: [usize; 3],
    ln_bias_c: Option<usize>,
}

impl<T: Real> LayerNormLstmCell<T> {
    /// A cell with biases, `eps` = 1e-5, and the initialisation of [`with_options`](Self::with_options).
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero.
    pub fn new<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        Self::with_options(input, hidden, true, DEFAULT_EPS, rng)
    }

    /// A cell with or without biases and with `eps` in the normalisations. `weight_ih`,
    /// `weight_hh`, `bias_ih` and `bias_hh` get PyTorch's LSTM initialisation
    /// `U(-1/sqrt(H), 1/sqrt(H))` (drawn in that order), the gains 1 and `ln_bias_c` 0
    /// (`nn.LayerNorm`'s).
    ///
    /// ```
    /// use rnnzoo_cell::{seeded, Cell, CellError};
    /// use rnnzoo_lstm_variants::LayerNormLstmCell;
    /// let cell = LayerNormLstmCell::<f32>::with_options(2, 3, false, 1e-3, &mut seeded(0))?;
    /// let names: Vec<_> = cell.params().names().collect();
    /// assert_eq!(names, ["weight_ih", "weight_hh", "ln_weight_ih", "ln_weight_hh", "ln_weight_c"]);
    /// assert!(matches!(
    ///     LayerNormLstmCell::<f32>::with_options(2, 3, true, 0.0, &mut seeded(0)),
    ///     Err(CellError::Mismatch(_))
    /// ));
    /// # Ok::<(), CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero; [`CellError::Mismatch`] if `eps`
    /// is not a positive finite number (a zero `eps` divides by zero on a constant column, which
    /// every `H = 1` cell state is).
    pub fn with_options<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        bias: bool,
        eps: f64,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        let mut cell = Self::zeros(input, hidden, bias, eps)?;
        let init = Init::pytorch(hidden);
        let gp = cell.weights.gate_params();
        let params = cell.weights.params_mut();
        for k in [gp.weight_ih, gp.weight_hh]
            .into_iter()
            .chain(gp.bias_ih)
            .chain(gp.bias_hh)
        {
            init.apply(params.at_mut(k), rng);
        }
        for k in cell.ln {
            params.at_mut(k).data_mut().fill(T::one());
        }
        Ok(cell)
    }

    /// A cell whose parameters are all zero (gains included), to be filled by [`Params::set`].
    ///
    /// # Errors
    ///
    /// As [`with_options`](Self::with_options).
    pub fn zeros(input: usize, hidden: usize, bias: bool, eps: f64) -> Result<Self, CellError> {
        if !(eps.is_finite() && eps > 0.0) {
            return Err(CellError::Mismatch(format!(
                "layer norm eps must be a positive finite number, got {eps}"
            )));
        }
        let mut weights = GateWeights::zeros(input, hidden, GATES, bias)?;
        let p = weights.params_mut();
        let g = GATES * hidden;
        let ln = [
            p.push(Param::zeros("ln_weight_ih", &[g], GATES)?)?,
            p.push(Param::zeros("ln_weight_hh", &[g], GATES)?)?,
            p.push(Param::zeros("ln_weight_c", &[hidden], 1)?)?,
        ];
        let ln_bias_c = if bias {
            Some(p.push(Param::zeros("ln_bias_c", &[hidden], 1)?)?)
        } else {
            None
        };
        Ok(Self {
            weights,
            eps: T::from_f64_lossy(eps),
            ln,
            ln_bias_c,
        })
    }

    /// The `eps` of the normalisations.
    pub fn eps(&self) -> f64 {
        self.eps.to_f64_lossless()
    }

    /// Whether the cell has `bias_ih`, `bias_hh` and `ln_bias_c`.
    pub fn has_bias(&self) -> bool {
        self.weights.has_bias()
    }
}

impl<T: Real> Cell<T> for LayerNormLstmCell<T> {
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
        14 * self.weights.hidden() + 3
    }

    fn mode(&self) -> &str {
        "LSTM_LAYERNORM"
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

    fn settings(&self) -> String {
        format!("eps={}", self.eps.to_f64_lossless())
    }
}

/// Normalises `z` in place to `(z - μ) / sqrt(var + eps)` and returns `1 / sqrt(var + eps)`.
fn normalise<T: Real>(z: &mut [T], eps: T) -> T {
    let n = T::from_f64_lossy(z.len() as f64);
    let mean = z.iter().copied().sum::<T>() / n;
    let var = z.iter().map(|&v| (v - mean) * (v - mean)).sum::<T>() / n;
    let rstd = T::one() / (var + eps).sqrt();
    for v in z.iter_mut() {
        *v = (*v - mean) * rstd;
    }
    rstd
}

/// The gradient of `LN`'s input from that of its normalised output `d_hat` (in place):
/// `rstd * (d_hat - mean(d_hat) - hat * mean(d_hat * hat))`.
fn normalise_backward<T: Real>(d_hat: &mut [T], hat: &[T], rstd: T) {
    let n = T::from_f64_lossy(d_hat.len() as f64);
    let mean_d = d_hat.iter().copied().sum::<T>() / n;
    let mean_dh = d_hat.iter().zip(hat).map(|(&d, &x)| d * x).sum::<T>() / n;
    for (d, &x) in d_hat.iter_mut().zip(hat) {
        *d = rstd * (*d - mean_d - x * mean_dh);
    }
}

/// Where each part of a sample's cache sits (offsets in a `14H + 3` column).
struct Layout {
    h: usize,
}

impl Layout {
    fn u_hat(&self) -> std::ops::Range<usize> {
        0..4 * self.h
    }
    fn v_hat(&self) -> std::ops::Range<usize> {
        4 * self.h..8 * self.h
    }
    fn gates(&self) -> std::ops::Range<usize> {
        8 * self.h..12 * self.h
    }
    fn c_hat(&self) -> std::ops::Range<usize> {
        12 * self.h..13 * self.h
    }
    fn tanh_y(&self) -> std::ops::Range<usize> {
        13 * self.h..14 * self.h
    }
    /// The reciprocal standard deviations of `W_ih x`, `W_hh h` and `c_t`.
    fn rstd(&self) -> std::ops::Range<usize> {
        14 * self.h..14 * self.h + 3
    }
}

impl<T: Real> GeneralStep<T> for LayerNormLstmCell<T> {
    /// Forward: `W_ih x` and `W_hh h` (`4H` each). Backward: their gradients (`4H` each) and that
    /// of `LN(c_t)` (`H`).
    fn scratch_size(&self, batch: usize) -> usize {
        9 * self.weights.hidden() * batch
    }

    fn forward(&self, s: StepForward<'_, T>) {
        let w = &self.weights;
        let (h, ni, b) = (w.hidden(), w.input(), s.batch);
        let g = GATES * h;
        let (one, zero) = (T::one(), T::zero());
        let cs = 14 * h + 3;
        let (u, rest) = s.scratch[..8 * h * b].split_at_mut(g * b);
        let v = &mut rest[..g * b];
        gemm(
            one,
            w.weight_ih().view(),
            MatRef::col_major(s.x, ni, b).expect("x checked"),
            zero,
            MatMut::col_major(&mut *u, g, b).expect("sized above"),
        );
        gemm(
            one,
            w.weight_hh().view(),
            h_view(s.prev, h, 2 * h, b),
            zero,
            MatMut::col_major(&mut *v, g, b).expect("sized above"),
        );
        let p = self.params();
        let [g_ih, g_hh, g_c] = self.ln.map(|k| p[k].data());
        let b_ih = w.bias_ih().map(Param::data);
        let b_hh = w.bias_hh().map(Param::data);
        let b_c = self.ln_bias_c.map(|k| p[k].data());
        for (col, (((u, v), prev), next)) in u
            .chunks_exact(g)
            .zip(v.chunks_exact(g))
            .zip(s.prev.chunks_exact(2 * h))
            .zip(s.next.chunks_exact_mut(2 * h))
            .enumerate()
        {
            let cache = &mut s.cache[col * cs..(col + 1) * cs];
            let (norms, rest) = cache.split_at_mut(8 * h);
            let (gates, rest) = rest.split_at_mut(4 * h);
            let (c_hat, rest) = rest.split_at_mut(h);
            let (tanh_y, rstd) = rest.split_at_mut(h);
            let (u_hat, v_hat) = norms.split_at_mut(4 * h);
            u_hat.copy_from_slice(u);
            v_hat.copy_from_slice(v);
            rstd[0] = normalise(u_hat, self.eps);
            rstd[1] = normalise(v_hat, self.eps);
            for k in 0..g {
                let mut a = g_ih[k] * u_hat[k] + g_hh[k] * v_hat[k];
                if let (Some(bi), Some(bh)) = (b_ih, b_hh) {
                    a += bi[k] + bh[k];
                }
                gates[k] = a;
            }
            sigmoid_in_place(&mut gates[..2 * h]);
            tanh_in_place(&mut gates[2 * h..3 * h]);
            sigmoid_in_place(&mut gates[3 * h..]);
            let c_prev = &prev[h..2 * h];
            let (h_next, c_next) = next.split_at_mut(h);
            for j in 0..h {
                let c = gates[h + j] * c_prev[j] + gates[j] * gates[2 * h + j];
                c_next[j] = c;
                c_hat[j] = c;
            }
            rstd[2] = normalise(c_hat, self.eps);
            for j in 0..h {
                tanh_y[j] = g_c[j] * c_hat[j] + b_c.map_or(zero, |bc| bc[j]);
            }
            tanh_in_place(tanh_y);
            for j in 0..h {
                h_next[j] = gates[3 * h + j] * tanh_y[j];
            }
        }
    }

    fn backward(&self, s: StepBackward<'_, T>, grads: &mut Params<T>) {
        let w = &self.weights;
        let (h, ni, b) = (w.hidden(), w.input(), s.batch);
        let g = GATES * h;
        let (one, zero) = (T::one(), T::zero());
        let cs = 14 * h + 3;
        let l = Layout { h };
        let (da, rest) = s.scratch[..9 * h * b].split_at_mut(g * b);
        let (dv, rest) = rest.split_at_mut(g * b);
        let dy = &mut rest[..h * b];
        let p = self.params();
        let [g_ih, g_hh, g_c] = self.ln.map(|k| p[k].data());

        // Through h_t = o tanh(y), y = γ_c LN(c_t) + β_c, c_t = f c_{t-1} + i g: the gate
        // pre-activations' gradients (into `da`), d y (into `dy`) and d c_{t-1}.
        for col in 0..b {
            let cache = &s.cache[col * cs..(col + 1) * cs];
            let gates = &cache[l.gates()];
            let c_hat = &cache[l.c_hat()];
            let tanh_y = &cache[l.tanh_y()];
            let rstd_c = cache[l.rstd()][2];
            let d_next = &s.d_next[col * 2 * h..(col + 1) * 2 * h];
            let (dh, dc_next) = d_next.split_at(h);
            let dy = &mut dy[col * h..(col + 1) * h];
            let da = &mut da[col * g..(col + 1) * g];
            // d LN(c_t) = γ_c dy, staged in the `o` block of `da` (written last).
            for j in 0..h {
                let (o, ty) = (gates[3 * h + j], tanh_y[j]);
                dy[j] = dh[j] * o * (one - ty * ty);
                da[3 * h + j] = g_c[j] * dy[j];
            }
            normalise_backward(&mut da[3 * h..], c_hat, rstd_c);
            let c_prev = &s.prev[col * 2 * h + h..(col + 1) * 2 * h];
            let dc_prev = &mut s.d_prev[col * 2 * h + h..(col + 1) * 2 * h];
            for j in 0..h {
                let (i, f, gg, o) = (gates[j], gates[h + j], gates[2 * h + j], gates[3 * h + j]);
                let dc = dc_next[j] + da[3 * h + j];
                da[j] = dc * gg * i * (one - i);
                da[h + j] = dc * c_prev[j] * f * (one - f);
                da[2 * h + j] = dc * i * (one - gg * gg);
                da[3 * h + j] = dh[j] * tanh_y[j] * o * (one - o);
                dc_prev[j] = dc * f;
            }
        }

        // The normalisations' parameters: sums over the batch.
        let cache_cols = || s.cache.chunks_exact(cs);
        let acc = |acc: &mut [T], f: &dyn Fn(usize, usize) -> T| {
            for col in 0..b {
                for (k, a) in acc.iter_mut().enumerate() {
                    *a += f(col, k);
                }
            }
        };
        let (u_hat_at, v_hat_at) = (l.u_hat().start, l.v_hat().start);
        let c_hat_at = l.c_hat().start;
        let cache = s.cache;
        acc(grads.at_mut(self.ln[0]).data_mut(), &|col, k| {
            da[col * g + k] * cache[col * cs + u_hat_at + k]
        });
        acc(grads.at_mut(self.ln[1]).data_mut(), &|col, k| {
            da[col * g + k] * cache[col * cs + v_hat_at + k]
        });
        acc(grads.at_mut(self.ln[2]).data_mut(), &|col, k| {
            dy[col * h + k] * cache[col * cs + c_hat_at + k]
        });
        if let Some(k) = self.ln_bias_c {
            add_row_sums(grads.at_mut(k).data_mut(), dy, h);
        }
        let gp = w.gate_params();
        for k in [gp.bias_ih, gp.bias_hh].into_iter().flatten() {
            add_row_sums(grads.at_mut(k).data_mut(), da, g);
        }

        // Back through the two normalisations: d(W_hh h) into `dv`, d(W_ih x) in place of `da`.
        for (((da, dv), cache), _) in da
            .chunks_exact_mut(g)
            .zip(dv.chunks_exact_mut(g))
            .zip(cache_cols())
            .zip(0..b)
        {
            let rstd = &cache[l.rstd()];
            for k in 0..g {
                dv[k] = da[k] * g_hh[k];
                da[k] *= g_ih[k];
            }
            normalise_backward(dv, &cache[l.v_hat()], rstd[1]);
            normalise_backward(da, &cache[l.u_hat()], rstd[0]);
        }

        // The products: d h_{t-1} = W_hh^T dv, d x = W_ih^T du, and the weights' gradients.
        let du_v = MatRef::col_major(&*da, g, b).expect("sized above");
        let dv_v = MatRef::col_major(&*dv, g, b).expect("sized above");
        gemm(
            one,
            w.weight_hh().view().t(),
            dv_v,
            zero,
            MatMut::new(s.d_prev, h, b, 1, 2 * h).expect("d_prev checked"),
        );
        gemm(
            one,
            w.weight_ih().view().t(),
            du_v,
            zero,
            MatMut::col_major(s.d_x, ni, b).expect("d_x checked"),
        );
        gemm(
            one,
            du_v,
            MatRef::col_major(s.x, ni, b).expect("x checked").t(),
            one,
            MatMut::row_major(grads.at_mut(gp.weight_ih).data_mut(), g, ni).expect("layout"),
        );
        gemm(
            one,
            dv_v,
            h_view(s.prev, h, 2 * h, b).t(),
            one,
            MatMut::row_major(grads.at_mut(gp.weight_hh).data_mut(), g, h).expect("layout"),
        );
    }
}
