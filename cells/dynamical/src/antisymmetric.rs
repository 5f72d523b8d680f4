//! The AntisymmetricRNN: forward Euler on an ODE whose Jacobian is antisymmetric, plus diffusion.
//!
//! Chang, Chen, Haber & Chi, "AntisymmetricRNN: a dynamical system view on recurrent neural
//! networks", ICLR 2019 (arXiv:1902.09689). The ODE `h' = tanh(W_h h + V_h x + b_h)` with
//! `W_h` replaced by the antisymmetric `W_h - W_h^T` (eigenvalues on the imaginary axis), minus a
//! diffusion `γ I` (so that forward Euler with step `ε` is stable), gives the plain cell
//!
//! ```text
//! h_t = h_{t-1} + ε tanh((W_h - W_h^T - γI) h_{t-1} + V_h x_t + b_h)
//! ```
//!
//! and the gated one, whose input gate shares the same antisymmetric matrix:
//!
//! ```text
//! z_t = σ((W_h - W_h^T - γI) h_{t-1} + V_z x_t + b_z)
//! h_t = h_{t-1} + ε z_t ⊙ tanh((W_h - W_h^T - γI) h_{t-1} + V_h x_t + b_h)
//! ```
//!
//! # Parameters and constants
//!
//! - `weight_hh (H, H)` is the free matrix `W_h`; the step uses `M = W_h - W_h^T - γI`, so the
//!   gradient reaching `W_h` is `dM - dM^T` (`γ` is a constant).
//! - `weight_ih (G*H, I)` is `V_h` (plain, `G = 1`) or `[V_z; V_h]` (gated, `G = 2`, blocks
//!   `z` then `h`); `bias_ih (G*H)` and `bias_hh (G*H)` sum to `b_h` (and `b_z`), one redundant
//!   degree of freedom per unit kept for PyTorch's names and default initialisation.
//! - `ε` (step size) and `γ` (diffusion) are fixed constants ([`AntisymmetricConstants`]). The
//!   default `ε = 0.01` is the smallest step size of the paper's grid (appendix C: `ε ∈ {0.01,
//!   0.1, 1}`); `γ = 0.01` is rnnzoo's choice of a small diffusion (the paper tunes it per task).
//!
//! The paper initialises `V` from `N(0, 1/I)`, `W_h` from `N(0, σ_w²/H)` and the biases to zero
//! (appendix C); the constructors here use PyTorch's `U(-1/sqrt(H), 1/sqrt(H))` like every zoo
//! cell, and [`Init`] gives the paper's.
//!
//! # Step form
//!
//! The recurrent matrix is a function of the parameter, not the parameter, so the cell is a
//! [`GeneralStep`]: each step writes `M` into its scratch (`H²` values, cheap beside the
//! `H² B` product) and makes one recurrent GEMM, `M h`, shared by both blocks of the gated
//! variant, plus the input GEMM. Nothing is allocated in a step.

use rnnzoo_cell::activation::tanh_in_place;
use rnnzoo_cell::gemm::{MatMut, MatRef, gemm};
use rnnzoo_cell::rand::Rng;
use rnnzoo_cell::{
    Cell, CellError, GeneralStep, Init, Param, Params, Real, StepBackward, StepForm, StepForward,
    add_row_sums,
};

use crate::{block, block_mut, check_constant};

/// The fixed constants of an [`AntisymmetricCell`]: step size `ε` and diffusion `γ`.
///
/// ```
/// use rnnzoo_dynamical::AntisymmetricConstants;
/// let c = AntisymmetricConstants::default();
/// assert_eq!((c.epsilon, c.gamma), (0.01, 0.01));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AntisymmetricConstants {
    /// `ε`, the Euler step, `> 0`.
    pub epsilon: f64,
    /// `γ`, the diffusion subtracted from the diagonal, `>= 0`.
    pub gamma: f64,
}

impl Default for AntisymmetricConstants {
    /// `ε = 0.01` (the paper's smallest grid step), `γ = 0.01`; see the [module docs](self).
    fn default() -> Self {
        Self {
            epsilon: 0.01,
            gamma: 0.01,
        }
    }
}

impl AntisymmetricConstants {
    /// Checks the constants: both finite, `epsilon > 0`, `gamma >= 0`.
    ///
    /// ```
    /// use rnnzoo_dynamical::AntisymmetricConstants;
    /// assert!(AntisymmetricConstants { epsilon: 0.1, gamma: -1.0 }.check().is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// [`rnnzoo_cell::CellError::BadParam`] naming the first constant out of range, with its
    /// value.
    pub fn check(&self) -> Result<(), CellError> {
        check_constant("epsilon", self.epsilon, true)?;
        check_constant("gamma", self.gamma, false)
    }
}

const WEIGHT_IH: usize = 0;
const WEIGHT_HH: usize = 1;

/// The AntisymmetricRNN of Chang et al. 2019, plain or gated (see the [module docs](self)).
///
/// - Parameters: `weight_ih (G*H, input)`, `weight_hh (H, H)`, with biases `bias_ih (G*H)`,
///   `bias_hh (G*H)`; `G = 1` plain, `2` gated (blocks `z`, `h`).
/// - Form: a general step ([`StepForm::General`]); mode `"ANTISYMMETRIC_RNN"` or
///   `"GATED_ANTISYMMETRIC_RNN"`.
/// - State: `h` (`state_size = H`).
/// - Cache: `G*H` per sample: `[tanh]`, or `[z; tanh]` gated.
/// - Scratch: `H*H + (G+1)*H*batch` values (`M`, then the pre-activations and `M h`).
///
/// ```
/// use rnnzoo_cell::{gradcheck, seeded, Cell};
/// use rnnzoo_dynamical::{AntisymmetricCell, AntisymmetricConstants};
///
/// let c = AntisymmetricConstants { epsilon: 0.5, gamma: 0.1 };
/// let mut plain = AntisymmetricCell::<f64>::new(3, 4, false, c, &mut seeded(0))?;
/// let mut gated = AntisymmetricCell::<f64>::new(3, 4, true, c, &mut seeded(0))?;
/// assert_eq!((plain.mode(), gated.mode()), ("ANTISYMMETRIC_RNN", "GATED_ANTISYMMETRIC_RNN"));
/// assert_eq!(gated.params().get("weight_ih").unwrap().shape(), &[8, 3]);
/// let opts = gradcheck::Options::default();
/// assert!(gradcheck::check_cell(&mut plain, 2, 7, &opts).passed());
/// assert!(gradcheck::check_cell(&mut gated, 2, 7, &opts).passed());
/// # Ok::<(), rnnzoo_cell::CellError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AntisymmetricCell<T> {
    params: Params<T>,
    input: usize,
    hidden: usize,
    gated: bool,
    bias: bool,
    constants: AntisymmetricConstants,
}

impl<T: Real> AntisymmetricCell<T> {
    /// A cell with biases and PyTorch's default initialisation (every parameter
    /// `U(-1/sqrt(H), 1/sqrt(H))`, drawn in parameter order), plain or `gated`.
    ///
    /// ```
    /// use rnnzoo_dynamical::{AntisymmetricCell, AntisymmetricConstants};
    /// let cell = AntisymmetricCell::<f32>::new(2, 3, true, Default::default(), &mut rnnzoo_cell::seeded(1))?;
    /// assert!(cell.is_gated());
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero, [`CellError::BadParam`] if a
    /// constant is out of range ([`AntisymmetricConstants::check`]).
    pub fn new<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        gated: bool,
        constants: AntisymmetricConstants,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        let mut cell = Self::zeros(input, hidden, gated, true, constants)?;
        let init = Init::pytorch(hidden);
        for p in cell.params.iter_mut() {
            init.apply(p, rng);
        }
        Ok(cell)
    }

    /// A cell whose parameters are all zero, with or without biases.
    ///
    /// ```
    /// use rnnzoo_cell::Cell;
    /// use rnnzoo_dynamical::AntisymmetricCell;
    /// let cell = AntisymmetricCell::<f64>::zeros(2, 3, false, false, Default::default())?;
    /// assert_eq!(cell.params().names().collect::<Vec<_>>(), ["weight_ih", "weight_hh"]);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`AntisymmetricCell::new`].
    pub fn zeros(
        input: usize,
        hidden: usize,
        gated: bool,
        bias: bool,
        constants: AntisymmetricConstants,
    ) -> Result<Self, CellError> {
        for (n, what) in [(input, "input_size"), (hidden, "hidden_size")] {
            if n == 0 {
                return Err(CellError::ZeroSize { what });
            }
        }
        constants.check()?;
        let g = if gated { 2 } else { 1 };
        let mut params = Params::new();
        params.push(Param::zeros("weight_ih", &[g * hidden, input], g)?)?;
        params.push(Param::zeros("weight_hh", &[hidden, hidden], 1)?)?;
        if bias {
            params.push(Param::zeros("bias_ih", &[g * hidden], g)?)?;
            params.push(Param::zeros("bias_hh", &[g * hidden], g)?)?;
        }
        Ok(Self {
            params,
            input,
            hidden,
            gated,
            bias,
            constants,
        })
    }

    /// Whether this is the gated variant.
    pub fn is_gated(&self) -> bool {
        self.gated
    }

    /// Whether the cell has biases.
    pub fn has_bias(&self) -> bool {
        self.bias
    }

    /// `ε` and `γ`.
    pub fn constants(&self) -> AntisymmetricConstants {
        self.constants
    }

    fn blocks(&self) -> usize {
        if self.gated { 2 } else { 1 }
    }

    /// Writes `M = W - W^T - γI` (row-major `H x H`) into `m`.
    fn write_m(&self, m: &mut [T]) {
        let (h, w) = (self.hidden, self.params[WEIGHT_HH].data());
        let gamma = T::from_f64_lossy(self.constants.gamma);
        for i in 0..h {
            for j in 0..h {
                m[i * h + j] = w[i * h + j] - w[j * h + i];
            }
            m[i * h + i] -= gamma;
        }
    }
}

impl<T: Real> Cell<T> for AntisymmetricCell<T> {
    fn input_size(&self) -> usize {
        self.input
    }

    fn hidden_size(&self) -> usize {
        self.hidden
    }

    fn cache_size(&self) -> usize {
        self.blocks() * self.hidden
    }

    fn mode(&self) -> &str {
        if self.gated {
            "GATED_ANTISYMMETRIC_RNN"
        } else {
            "ANTISYMMETRIC_RNN"
        }
    }

    fn params(&self) -> &Params<T> {
        &self.params
    }

    fn params_mut(&mut self) -> &mut Params<T> {
        &mut self.params
    }

    fn form(&self) -> StepForm<'_, T> {
        StepForm::General(self)
    }

    fn settings(&self) -> String {
        let c = self.constants;
        format!("epsilon={},gamma={}", c.epsilon, c.gamma)
    }
}

impl<T: Real> GeneralStep<T> for AntisymmetricCell<T> {
    /// `M` (`H²`), then forward the input pre-activations (`G*H`) and `M h` (`H`) per sample,
    /// backward their gradients.
    fn scratch_size(&self, batch: usize) -> usize {
        let h = self.hidden;
        h * h + (self.blocks() + 1) * h * batch
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
        let (h, ni) = (self.hidden, self.input);
        let g = self.blocks() * h;
        let one = T::one();
        let eps = T::from_f64_lossy(self.constants.epsilon);
        let p = &self.params;
        let (m, rest) = scratch.split_at_mut(h * h);
        let (gi, rest) = rest.split_at_mut(g * batch);
        let r = &mut rest[..h * batch];
        self.write_m(m);
        // gi = V x + b_ih + b_hh; r = M h.
        if self.bias {
            let (bi, bh) = (p[2].data(), p[3].data());
            for col in gi.chunks_exact_mut(g) {
                for k in 0..g {
                    col[k] = bi[k] + bh[k];
                }
            }
        } else {
            gi.fill(T::zero());
        }
        gemm(
            one,
            p[WEIGHT_IH].view(),
            block(x, ni, batch, ni),
            one,
            block_mut(gi, g, batch, g),
        );
        gemm(
            one,
            MatRef::row_major(m, h, h).expect("H x H"),
            block(prev, h, batch, h),
            T::zero(),
            block_mut(r, h, batch, h),
        );
        for b in 0..batch {
            let (gi, r) = (&gi[b * g..(b + 1) * g], &r[b * h..(b + 1) * h]);
            let c = &mut cache[b * g..(b + 1) * g];
            for k in 0..g {
                c[k] = gi[k] + r[k % h];
            }
            let (hp, next) = (&prev[b * h..(b + 1) * h], &mut next[b * h..(b + 1) * h]);
            if self.gated {
                let (z, u) = c.split_at_mut(h);
                for v in z.iter_mut() {
                    *v = v.sigmoid();
                }
                tanh_in_place(u);
                for j in 0..h {
                    next[j] = hp[j] + eps * z[j] * u[j];
                }
            } else {
                tanh_in_place(c);
                for j in 0..h {
                    next[j] = hp[j] + eps * c[j];
                }
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
        let (h, ni) = (self.hidden, self.input);
        let g = self.blocks() * h;
        let (one, zero) = (T::one(), T::zero());
        let eps = T::from_f64_lossy(self.constants.epsilon);
        let (m, rest) = scratch.split_at_mut(h * h);
        let (da, rest) = rest.split_at_mut(g * batch);
        let dr = &mut rest[..h * batch];
        self.write_m(m);
        // The pre-activations' gradients; both blocks read the same M h, so dr sums them.
        for b in 0..batch {
            let c = &cache[b * g..(b + 1) * g];
            let (dh, da, dr) = (
                &d_next[b * h..(b + 1) * h],
                &mut da[b * g..(b + 1) * g],
                &mut dr[b * h..(b + 1) * h],
            );
            if self.gated {
                let (z, u) = c.split_at(h);
                for j in 0..h {
                    let (dz, du) = (
                        dh[j] * eps * u[j] * z[j] * (one - z[j]),
                        dh[j] * eps * z[j] * (one - u[j] * u[j]),
                    );
                    da[j] = dz;
                    da[h + j] = du;
                    dr[j] = dz + du;
                }
            } else {
                for j in 0..h {
                    da[j] = dh[j] * eps * (one - c[j] * c[j]);
                    dr[j] = da[j];
                }
            }
        }
        // d h_{t-1} = d h_t + M^T dr;  d x = V^T da.
        d_prev.copy_from_slice(d_next);
        let p = &self.params;
        let dr_v = block(dr, h, batch, h);
        gemm(
            one,
            MatRef::row_major(m, h, h).expect("H x H").t(),
            dr_v,
            one,
            block_mut(d_prev, h, batch, h),
        );
        gemm(
            one,
            p[WEIGHT_IH].view().t(),
            block(da, g, batch, g),
            zero,
            block_mut(d_x, ni, batch, ni),
        );
        // Parameter gradients are added to: dW = dM - dM^T with dM = dr h^T.
        gemm(
            one,
            block(da, g, batch, g),
            block(x, ni, batch, ni).t(),
            one,
            MatMut::row_major(grads.at_mut(WEIGHT_IH).data_mut(), g, ni).expect("layout checked"),
        );
        let h_v = block(prev, h, batch, h);
        let g_w = grads.at_mut(WEIGHT_HH).data_mut();
        gemm(
            one,
            dr_v,
            h_v.t(),
            one,
            MatMut::row_major(&mut *g_w, h, h).expect("layout checked"),
        );
        gemm(
            -one,
            h_v,
            dr_v.t(),
            one,
            MatMut::row_major(g_w, h, h).expect("layout checked"),
        );
        if self.bias {
            for k in [2, 3] {
                add_row_sums(grads.at_mut(k).data_mut(), da, g);
            }
        }
    }
}
