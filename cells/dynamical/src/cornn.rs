//! The coupled oscillatory RNN (coRNN): a network of damped, forced, coupled oscillators, stepped
//! in time.
//!
//! Rusch & Mishra, "Coupled oscillatory recurrent neural network (coRNN): an accurate and
//! (gradient) stable architecture for learning long time dependencies", ICLR 2021
//! (arXiv:2010.00951). The second-order system `y'' = σ(W y + 𝒲 y' + V u + b) - γ y - ε y'`,
//! written as `y' = z`, is discretised in the paper's equation (3) as
//!
//! ```text
//! y_n = y_{n-1} + Δt z_n
//! z_n = z_{n-1} + Δt σ(W y_{n-1} + 𝒲 z_{n-1} + V u_n + b) - Δt γ y_{n-1} - Δt ε z_n
//! ```
//!
//! an implicit-explicit scheme: `z` is updated first, `y` then uses the new `z_n`, and the damping
//! `ε z_n` is implicit.
//!
//! # What this cell computes: the authors' code
//!
//! The authors' implementation (github.com/tk-rusch/coRNN, commit `afd8174`, `coRNNCell` in
//! `sMNIST/network.py`; the same cell in `adding/model.py`) takes the damping term explicitly:
//!
//! ```python
//! hz = hz + self.dt * (torch.tanh(self.i2h(torch.cat((x, hz, hy), 1))) - self.gamma * hy - self.epsilon * hz)
//! hy = hy + self.dt * hz
//! ```
//!
//! that is, with `σ = tanh`,
//!
//! ```text
//! z_n = z_{n-1} + Δt (tanh(W y_{n-1} + 𝒲 z_{n-1} + V u_n + b) - γ y_{n-1} - ε z_{n-1})
//! y_n = y_{n-1} + Δt z_n
//! ```
//!
//! This cell computes exactly that (`z` first, then `y` from the new `z`, `ε z_{n-1}` explicit),
//! so weights trained with the authors' code behave identically here. The paper's implicit
//! `ε z_n` would divide the update by `1 + Δt ε` instead; the two differ at order `Δt²`.
//!
//! # Parameters, state, constants
//!
//! - `weight_ih (H, I)` is `V`, `weight_hh (H, H)` is `W` (it reads `y`, the cell's output `h`),
//!   `weight_zh (H, H)` is `𝒲` (it reads `z`); `bias_ih (H)` and `bias_hh (H)` sum to `b` (one
//!   redundant degree of freedom per unit, kept for PyTorch's names). The authors' single
//!   `i2h = nn.Linear(I + 2H, H)` on `cat(x, z, y)` maps here column block by column block:
//!   `i2h.weight[:, :I]` is `weight_ih`, `[:, I:I+H]` is `weight_zh`, `[:, I+H:]` is `weight_hh`,
//!   and `i2h.bias` is `bias_ih` (with `bias_hh` zero).
//! - State: `[y; z]` per sample (`state_size = 2H`); the step's output is `y`.
//! - Constants ([`CoRnnConstants`]): `Δt`, `γ`, `ε`, fixed (not trained), as in the paper.
//!   The default is the authors' sequential-MNIST setting, `Δt = 0.042`, `γ = 2.7`, `ε = 4.7`
//!   (the defaults of `sMNIST/sMNIST_task.py` at the commit above, the script of the paper's
//!   sMNIST result). They are taken from the authors' script, not from the paper's
//!   hyperparameter table, which could not be read while this was written.
//!
//! # Step form
//!
//! `W` and `𝒲` read the two halves of the state, so the recurrent side is not `W_hh h`: the cell
//! is a [`GeneralStep`] of three GEMMs (`V u`, `W y`, `𝒲 z`; the last two are one product with
//! `[W 𝒲]` in flops) into one scratch block. Nothing is allocated in a step.

use rnnzoo_cell::gemm::{MatMut, MatRef, gemm};
use rnnzoo_cell::rand::Rng;
use rnnzoo_cell::{
    Cell, CellError, GeneralStep, Init, Param, Params, Real, StepBackward, StepForm, StepForward,
    add_row_sums,
};

use crate::{block, block_mut, check_constant};

/// A row-major `rows x cols` gradient of a parameter.
fn row_major<T>(g: &mut [T], rows: usize, cols: usize) -> MatMut<'_, T> {
    MatMut::row_major(g, rows, cols).expect("layout checked")
}

/// The fixed constants of a [`CoRnnCell`]: step size `Δt`, the `y` control `γ` and the `z`
/// damping `ε` (the paper's names; the authors' code calls them `dt`, `gamma`, `epsilon`).
///
/// ```
/// use rnnzoo_dynamical::CoRnnConstants;
/// let c = CoRnnConstants::default(); // the authors' sequential-MNIST setting
/// assert_eq!((c.dt, c.gamma, c.epsilon), (0.042, 2.7, 4.7));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoRnnConstants {
    /// The time step `Δt`, `> 0`.
    pub dt: f64,
    /// `γ`, the restoring force on `y`, `>= 0`.
    pub gamma: f64,
    /// `ε`, the damping of `z`, `>= 0`.
    pub epsilon: f64,
}

impl Default for CoRnnConstants {
    /// `Δt = 0.042`, `γ = 2.7`, `ε = 4.7`: the authors' sequential-MNIST run (the defaults of
    /// `sMNIST/sMNIST_task.py` in github.com/tk-rusch/coRNN at commit `afd8174`).
    fn default() -> Self {
        Self {
            dt: 0.042,
            gamma: 2.7,
            epsilon: 4.7,
        }
    }
}

impl CoRnnConstants {
    /// Checks the constants: every one finite, `dt > 0`, `gamma, epsilon >= 0`.
    ///
    /// ```
    /// use rnnzoo_cell::CellError;
    /// use rnnzoo_dynamical::CoRnnConstants;
    /// let bad = CoRnnConstants { dt: 0.0, ..Default::default() };
    /// assert!(matches!(bad.check(), Err(CellError::BadParam { name, .. }) if name == "dt"));
    /// assert!(CoRnnConstants::default().check().is_ok());
    /// ```
    ///
    /// # Errors
    ///
    /// [`CellError::BadParam`] naming the first constant that is out of range, with its value.
    pub fn check(&self) -> Result<(), CellError> {
        check_constant("dt", self.dt, true)?;
        check_constant("gamma", self.gamma, false)?;
        check_constant("epsilon", self.epsilon, false)
    }
}

const WEIGHT_IH: usize = 0;
const WEIGHT_HH: usize = 1;

/// The coupled oscillatory RNN of Rusch & Mishra 2021, as the authors' code computes it (see the
/// [module docs](self) for the equations and where they differ from the paper's).
///
/// - Parameters: `weight_ih (H, input)`, `weight_hh (H, H)`, with biases `bias_ih (H)`,
///   `bias_hh (H)`, then `weight_zh (H, H)`; row-major.
/// - Form: a general step ([`StepForm::General`]); mode `"CORNN"`.
/// - State: `[y; z]` (`state_size = 2H`); the output `h` is `y`.
/// - Cache: `H` per sample, `tanh` of the pre-activation.
/// - Scratch: `H` per sample.
///
/// ```
/// use rnnzoo_cell::{gradcheck, seeded, Cell};
/// use rnnzoo_dynamical::{CoRnnCell, CoRnnConstants};
///
/// let mut cell = CoRnnCell::<f64>::new(3, 4, CoRnnConstants::default(), &mut seeded(0))?;
/// assert_eq!((cell.hidden_size(), cell.state_size()), (4, 8)); // state [y; z]
/// assert_eq!(cell.params().names().collect::<Vec<_>>(),
///            ["weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_zh"]);
/// assert!(gradcheck::check_cell(&mut cell, 2, 7, &Default::default()).passed());
/// # Ok::<(), rnnzoo_cell::CellError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CoRnnCell<T> {
    params: Params<T>,
    input: usize,
    hidden: usize,
    bias: bool,
    constants: CoRnnConstants,
}

impl<T: Real> CoRnnCell<T> {
    /// A cell with biases and PyTorch's default initialisation (every parameter
    /// `U(-1/sqrt(H), 1/sqrt(H))`, drawn in parameter order).
    ///
    /// ```
    /// use rnnzoo_dynamical::{CoRnnCell, CoRnnConstants};
    /// // The defaults of the authors' adding-problem script (adding/adding_task.py).
    /// let c = CoRnnConstants { dt: 0.06, gamma: 66.0, epsilon: 15.0 };
    /// let cell = CoRnnCell::<f32>::new(2, 3, c, &mut rnnzoo_cell::seeded(1))?;
    /// assert_eq!(cell.constants(), c);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero, [`CellError::BadParam`] if a
    /// constant is out of range ([`CoRnnConstants::check`]).
    pub fn new<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        constants: CoRnnConstants,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        let mut cell = Self::zeros(input, hidden, true, constants)?;
        let init = Init::pytorch(hidden);
        for p in cell.params.iter_mut() {
            init.apply(p, rng);
        }
        Ok(cell)
    }

    /// A cell whose parameters are all zero, with or without biases, to be filled by
    /// [`Params::set`] or an [`Init`].
    ///
    /// ```
    /// use rnnzoo_cell::Cell;
    /// use rnnzoo_dynamical::{CoRnnCell, CoRnnConstants};
    /// let cell = CoRnnCell::<f64>::zeros(2, 3, false, CoRnnConstants::default())?;
    /// assert_eq!(cell.params().names().collect::<Vec<_>>(), ["weight_ih", "weight_hh", "weight_zh"]);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`CoRnnCell::new`].
    pub fn zeros(
        input: usize,
        hidden: usize,
        bias: bool,
        constants: CoRnnConstants,
    ) -> Result<Self, CellError> {
        for (n, what) in [(input, "input_size"), (hidden, "hidden_size")] {
            if n == 0 {
                return Err(CellError::ZeroSize { what });
            }
        }
        constants.check()?;
        let mut params = Params::new();
        params.push(Param::zeros("weight_ih", &[hidden, input], 1)?)?;
        params.push(Param::zeros("weight_hh", &[hidden, hidden], 1)?)?;
        if bias {
            params.push(Param::zeros("bias_ih", &[hidden], 1)?)?;
            params.push(Param::zeros("bias_hh", &[hidden], 1)?)?;
        }
        params.push(Param::zeros("weight_zh", &[hidden, hidden], 1)?)?;
        Ok(Self {
            params,
            input,
            hidden,
            bias,
            constants,
        })
    }

    /// `Δt`, `γ` and `ε`.
    pub fn constants(&self) -> CoRnnConstants {
        self.constants
    }

    /// Whether the cell has biases.
    pub fn has_bias(&self) -> bool {
        self.bias
    }

    /// The indices of `bias_ih`, `bias_hh` (if any) and `weight_zh` in the parameters.
    fn layout(&self) -> (Option<[usize; 2]>, usize) {
        if self.bias {
            (Some([2, 3]), 4)
        } else {
            (None, 2)
        }
    }

    /// `(Δt, γ, ε)` in the cell's number type.
    fn constants_t(&self) -> (T, T, T) {
        let c = self.constants;
        (
            T::from_f64_lossy(c.dt),
            T::from_f64_lossy(c.gamma),
            T::from_f64_lossy(c.epsilon),
        )
    }
}

impl<T: Real> Cell<T> for CoRnnCell<T> {
    fn input_size(&self) -> usize {
        self.input
    }

    fn hidden_size(&self) -> usize {
        self.hidden
    }

    fn state_size(&self) -> usize {
        2 * self.hidden
    }

    fn cache_size(&self) -> usize {
        self.hidden
    }

    fn mode(&self) -> &str {
        "CORNN"
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
        format!("dt={},gamma={},epsilon={}", c.dt, c.gamma, c.epsilon)
    }
}

impl<T: Real> GeneralStep<T> for CoRnnCell<T> {
    /// The pre-activation forward, its gradient backward: `H` per sample.
    fn scratch_size(&self, batch: usize) -> usize {
        self.hidden * batch
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
        let (h, ni, s) = (self.hidden, self.input, 2 * self.hidden);
        let (dt, gamma, eps) = self.constants_t();
        let (biases, zh) = self.layout();
        let p = &self.params;
        let a = &mut scratch[..h * batch];
        // a = b_ih + b_hh + V x + W y + 𝒲 z.
        match biases {
            Some([bi, bh]) => {
                let (bi, bh) = (p[bi].data(), p[bh].data());
                for col in a.chunks_exact_mut(h) {
                    for j in 0..h {
                        col[j] = bi[j] + bh[j];
                    }
                }
            }
            None => a.fill(T::zero()),
        }
        let one = T::one();
        gemm(
            one,
            p[WEIGHT_IH].view(),
            block(x, ni, batch, ni),
            one,
            block_mut(a, h, batch, h),
        );
        gemm(
            one,
            p[WEIGHT_HH].view(),
            block(prev, h, batch, s),
            one,
            block_mut(a, h, batch, h),
        );
        gemm(
            one,
            p[zh].view(),
            block(&prev[h..], h, batch, s),
            one,
            block_mut(a, h, batch, h),
        );
        for b in 0..batch {
            let (y, z) = prev[b * s..(b + 1) * s].split_at(h);
            let (ny, nz) = next[b * s..(b + 1) * s].split_at_mut(h);
            let (a, c) = (&a[b * h..(b + 1) * h], &mut cache[b * h..(b + 1) * h]);
            for j in 0..h {
                let t = a[j].tanh();
                c[j] = t;
                // z first (the damping explicit, as the authors' code), then y from the new z.
                nz[j] = z[j] + dt * (t - gamma * y[j] - eps * z[j]);
                ny[j] = y[j] + dt * nz[j];
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
        let (h, ni, s) = (self.hidden, self.input, 2 * self.hidden);
        let (one, zero) = (T::one(), T::zero());
        let (dt, gamma, eps) = self.constants_t();
        let (biases, zh) = self.layout();
        let p = &self.params;
        let da = &mut scratch[..h * batch];
        // y_n = y + dt z_n feeds z_n too: the total gradient of z_n is d z_n + dt d y_n.
        for b in 0..batch {
            let (dy, dz) = d_next[b * s..(b + 1) * s].split_at(h);
            let (dpy, dpz) = d_prev[b * s..(b + 1) * s].split_at_mut(h);
            let (c, da) = (&cache[b * h..(b + 1) * h], &mut da[b * h..(b + 1) * h]);
            for j in 0..h {
                let dzn = dz[j] + dt * dy[j];
                da[j] = dzn * dt * (one - c[j] * c[j]);
                dpy[j] = dy[j] - dt * gamma * dzn;
                dpz[j] = dzn * (one - dt * eps);
            }
        }
        let da_v = block(da, h, batch, h);
        // d y += W^T da, d z += 𝒲^T da, d x = V^T da.
        gemm(
            one,
            p[WEIGHT_HH].view().t(),
            da_v,
            one,
            block_mut(d_prev, h, batch, s),
        );
        gemm(
            one,
            p[zh].view().t(),
            da_v,
            one,
            block_mut(&mut d_prev[h..], h, batch, s),
        );
        gemm(
            one,
            p[WEIGHT_IH].view().t(),
            da_v,
            zero,
            block_mut(d_x, ni, batch, ni),
        );
        // Parameter gradients are added to.
        gemm(
            one,
            da_v,
            block(x, ni, batch, ni).t(),
            one,
            row_major(grads.at_mut(WEIGHT_IH).data_mut(), h, ni),
        );
        gemm(
            one,
            da_v,
            block(prev, h, batch, s).t(),
            one,
            row_major(grads.at_mut(WEIGHT_HH).data_mut(), h, h),
        );
        gemm(
            one,
            da_v,
            MatRef::new(&prev[h..], h, batch, 1, s)
                .expect("prev checked")
                .t(),
            one,
            row_major(grads.at_mut(zh).data_mut(), h, h),
        );
        for k in biases.into_iter().flatten() {
            add_row_sums(grads.at_mut(k).data_mut(), da, h);
        }
    }
}
