//! The expRNN cell.

use nalgebra::DMatrix;
use rnnzoo_cell::gemm::{MatMut, MatRef, gemm};
use rnnzoo_cell::rand::Rng;
use rnnzoo_cell::{
    Cell, CellError, GeneralStep, Init, Param, Params, Real, StepBackward, StepForm, StepForward,
};

use crate::SkewInit;
use crate::expm::{expm, expm_frechet_adjoint, free_gradient, skew_from_free};
use crate::modrelu::{modrelu, modrelu_grad};

const WEIGHT_IH: usize = 0;
const SKEW_HH: usize = 1;
const BIAS_MODRELU: usize = 2;

/// The expRNN cell of Lezcano-Casado & Martinez-Rubio 2019 (see the crate docs for the
/// equations): an orthogonal recurrent matrix `W_hh = exp(S)^T`, `S` skew-symmetric, and modReLU.
///
/// - Parameters, in order: `weight_ih` `(H, input)` (the authors' `input_kernel.weight`, no
///   input bias), `skew_hh` `(H, H)` (their `recurrent_kernel.A`: its strict upper triangle is
///   `S`'s, its diagonal and lower triangle are unused and get zero gradient), `bias_modrelu`
///   `(H)` (their `nonlinearity.b`).
/// - Form: a general step ([`StepForm::General`]); mode `"EXPRNN"`. A step is two GEMMs
///   (`W_ih x` and `W_hh h`) and modReLU; `W_hh` is computed once per pass in
///   [`GeneralStep::begin_pass`], and `dL/dskew_hh` once per backward pass in
///   [`GeneralStep::end_backward`], from `sum_t dL/dW_hh(t)` accumulated by the steps.
/// - State: `h` (`state_size = H`). Cache: the pre-activation `z` (`H` per sample).
/// - Scratch ([`GeneralStep::scratch_size`]): `W_hh` and the accumulated `dL/dW_hh`
///   (`H x H` each, column-major), then `dz` (`H` per sample).
///
/// ```
/// use rnnzoo_cell::{gradcheck, seeded, Cell};
/// use rnnzoo_orthogonal::{ExpRnnCell, SkewInit};
///
/// let mut cell = ExpRnnCell::<f64>::new(3, 4, SkewInit::Henaff, &mut seeded(0))?;
/// assert_eq!(cell.params().names().collect::<Vec<_>>(), ["weight_ih", "skew_hh", "bias_modrelu"]);
/// let w = cell.recurrent_weight(); // H x H, column-major: orthogonal
/// let wtw: f64 = (0..4).map(|k| w[k] * w[4 + k]).sum(); // columns 0 and 1
/// assert!(wtw.abs() < 1e-12);
/// assert!(gradcheck::check_cell(&mut cell, 2, 1, &gradcheck::Options::default()).passed());
/// # Ok::<(), rnnzoo_cell::CellError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ExpRnnCell<T> {
    params: Params<T>,
    input: usize,
    hidden: usize,
}

impl<T: Real> ExpRnnCell<T> {
    /// A cell with the authors' initialisation (`OrthogonalRNN.reset_parameters` and
    /// `modrelu.reset_parameters` in Lezcano/expRNN, `orthogonal.py`): `weight_ih` Kaiming-normal
    /// for relu (`N(0, 2 / input)`), `skew_hh` by `init`, `bias_modrelu` `U(-0.01, 0.01)`, drawn
    /// from `rng` in that order.
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero.
    pub fn new<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        init: SkewInit,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        let mut cell = Self::zeros(input, hidden)?;
        let std = (2.0 / input as f64).sqrt();
        Init::Normal { mean: 0.0, std }.apply(cell.params.at_mut(WEIGHT_IH), rng);
        init.fill(cell.params.at_mut(SKEW_HH).data_mut(), hidden, rng);
        let b = Init::Uniform {
            low: -0.01,
            high: 0.01,
        };
        b.apply(cell.params.at_mut(BIAS_MODRELU), rng);
        Ok(cell)
    }

    /// A cell whose parameters are all zero (`W_hh = I`), to be filled by [`Params::set`].
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero (`what` is `"input_size"` or
    /// `"hidden_size"`).
    ///
    /// ```
    /// use rnnzoo_cell::CellError;
    /// use rnnzoo_orthogonal::ExpRnnCell;
    /// assert_eq!(ExpRnnCell::<f32>::zeros(2, 0), Err(CellError::ZeroSize { what: "hidden_size" }));
    /// ```
    pub fn zeros(input: usize, hidden: usize) -> Result<Self, CellError> {
        for (n, what) in [(input, "input_size"), (hidden, "hidden_size")] {
            if n == 0 {
                return Err(CellError::ZeroSize { what });
            }
        }
        let mut params = Params::new();
        params.push(Param::zeros("weight_ih", &[hidden, input], 1)?)?;
        params.push(Param::zeros("skew_hh", &[hidden, hidden], 1)?)?;
        params.push(Param::zeros("bias_modrelu", &[hidden], 1)?)?;
        Ok(Self {
            params,
            input,
            hidden,
        })
    }

    /// The skew-symmetric `S` of the current parameters, in `f64`.
    fn skew(&self) -> DMatrix<f64> {
        let a: Vec<f64> = self.params[SKEW_HH]
            .data()
            .iter()
            .map(|v| v.to_f64_lossless())
            .collect();
        skew_from_free(&a, self.hidden)
    }

    /// `W_hh = exp(S)^T`, `H x H` column-major (so `exp(S)` row-major): what the steps multiply
    /// `h` by. Orthogonal up to rounding.
    pub fn recurrent_weight(&self) -> Vec<T> {
        let mut w = vec![T::zero(); self.hidden * self.hidden];
        self.write_recurrent_weight(&mut w);
        w
    }

    fn write_recurrent_weight(&self, out: &mut [T]) {
        // exp(S) column-major is exp(S)^T row-major; its transpose's column-major values are
        // exp(S)^T column-major.
        let w = expm(&self.skew()).transpose();
        for (o, &v) in out.iter_mut().zip(w.as_slice()) {
            *o = T::from_f64_lossy(v);
        }
    }
}

impl<T: Real> Cell<T> for ExpRnnCell<T> {
    fn input_size(&self) -> usize {
        self.input
    }
    fn hidden_size(&self) -> usize {
        self.hidden
    }
    fn cache_size(&self) -> usize {
        self.hidden
    }
    fn mode(&self) -> &str {
        "EXPRNN"
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
}

/// `H x B` column-major view.
fn cm<T>(s: &[T], rows: usize, cols: usize) -> MatRef<'_, T> {
    MatRef::col_major(&s[..rows * cols], rows, cols).expect("sized by the caller")
}

fn cm_mut<T>(s: &mut [T], rows: usize, cols: usize) -> MatMut<'_, T> {
    MatMut::col_major(&mut s[..rows * cols], rows, cols).expect("sized by the caller")
}

impl<T: Real> GeneralStep<T> for ExpRnnCell<T> {
    /// `W_hh` and `sum_t dL/dW_hh` (`H x H` each) for the pass, then `dz` (`H` per sample).
    fn scratch_size(&self, batch: usize) -> usize {
        let h = self.hidden;
        2 * h * h + h * batch
    }

    /// `W_hh = exp(S)^T` once, `O(H^3)`; the gradient accumulator set to zero.
    fn begin_pass(&self, scratch: &mut [T], _batch: usize) {
        let hh = self.hidden * self.hidden;
        let (w, rest) = scratch.split_at_mut(hh);
        self.write_recurrent_weight(w);
        rest[..hh].fill(T::zero());
    }

    /// `dL/dskew_hh += triu(dS - dS^T, 1)` with `dS = L_exp(S^T, dL/dexp(S))` and
    /// `dL/dexp(S) = (sum_t dL/dW_hh(t))^T`: one `2H x 2H` exponential.
    fn end_backward(&self, scratch: &mut [T], grads: &mut Params<T>) {
        let (h, hh) = (self.hidden, self.hidden * self.hidden);
        let g_w = &scratch[hh..2 * hh];
        if g_w.iter().all(|v| *v == T::zero()) {
            return;
        }
        // dL/dexp(S) = G_W^T: the column-major G_W read row-major.
        let g = DMatrix::from_row_slice(
            h,
            h,
            &g_w.iter().map(|v| v.to_f64_lossless()).collect::<Vec<_>>(),
        );
        let ds = expm_frechet_adjoint(&self.skew(), &g);
        for (a, d) in grads
            .at_mut(SKEW_HH)
            .data_mut()
            .iter_mut()
            .zip(free_gradient(&ds))
        {
            *a += T::from_f64_lossy(d);
        }
    }

    fn forward(&self, s: StepForward<'_, T>) {
        let (h, i, b) = (self.hidden, self.input, s.batch);
        let w = cm(s.scratch, h, h);
        let z = &mut s.cache[..h * b];
        gemm(
            T::one(),
            self.params[WEIGHT_IH].view(),
            cm(s.x, i, b),
            T::zero(),
            cm_mut(z, h, b),
        );
        gemm(T::one(), w, cm(s.prev, h, b), T::one(), cm_mut(z, h, b));
        let bias = self.params[BIAS_MODRELU].data();
        for (next, z) in s.next.chunks_exact_mut(h).zip(z.chunks_exact(h)) {
            for ((n, &z), &bj) in next.iter_mut().zip(z).zip(bias) {
                *n = modrelu(z, bj);
            }
        }
    }

    fn backward(&self, s: StepBackward<'_, T>, grads: &mut Params<T>) {
        let (h, i, b, hh) = (self.hidden, self.input, s.batch, self.hidden * self.hidden);
        let (w, rest) = s.scratch.split_at_mut(hh);
        let (g_w, rest) = rest.split_at_mut(hh);
        let dz = &mut rest[..h * b];
        let bias = self.params[BIAS_MODRELU].data();
        let d_bias = grads.at_mut(BIAS_MODRELU).data_mut();
        for ((dz, z), dn) in dz
            .chunks_exact_mut(h)
            .zip(s.cache.chunks_exact(h))
            .zip(s.d_next.chunks_exact(h))
        {
            for j in 0..h {
                let (gz, gb) = modrelu_grad(z[j], bias[j]);
                dz[j] = dn[j] * gz;
                d_bias[j] += dn[j] * gb;
            }
        }
        let dz = cm(dz, h, b);
        let w_ih = self.params[WEIGHT_IH].view();
        gemm(T::one(), w_ih.t(), dz, T::zero(), cm_mut(s.d_x, i, b));
        gemm(
            T::one(),
            cm(w, h, h).t(),
            dz,
            T::zero(),
            cm_mut(s.d_prev, h, b),
        );
        let g_ih = grads.at_mut(WEIGHT_IH).data_mut();
        let g_ih = MatMut::row_major(g_ih, h, i).expect("layout checked");
        gemm(T::one(), dz, cm(s.x, i, b).t(), T::one(), g_ih);
        gemm(
            T::one(),
            dz,
            cm(s.prev, h, b).t(),
            T::one(),
            cm_mut(g_w, h, h),
        );
    }
}
