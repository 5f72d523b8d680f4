//! The LSTM with a recurrent projection layer: PyTorch's `nn.LSTM(..., proj_size=P)`.
//!
//! Sak, Senior & Beaufays, "Long short-term memory recurrent neural network architectures for
//! large scale acoustic modeling", Interspeech 2014 (the LSTMP, their Figure 1 and equations
//! (7)-(12) without the peepholes), in PyTorch's form (`proj_size`, PR #47725): the output is
//! projected to `P < H` values, and that projection, not the `H` values of `o * tanh(c)`, is what
//! the next step's recurrent product reads.
//!
//! ```text
//! a = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh         (4H rows: gate blocks i, f, g, o; W_hh is 4H x P)
//! i = σ(a_i)   f = σ(a_f)   g = tanh(a_g)   o = σ(a_o)
//! c_t = f * c_{t-1} + i * g                          (H values)
//! h_t = W_hr (o * tanh(c_t))                         (P values; W_hr is P x H, no bias)
//! ```
//!
//! # Sizes: what `hidden_size` means here
//!
//! PyTorch's `hidden_size` is `H`, the width of `c` and of the gates; its `proj_size` is `P`, the
//! width of `h` and of the output. The [`Cell`] contract defines
//! [`hidden_size`](Cell::hidden_size) as the rows of the step's output `h_t`, the first rows of the
//! state, so for this cell **`Cell::hidden_size()` is `P`**, the projection. [`LstmProjCell::cell_size`]
//! is `H` and [`LstmProjCell::proj_size`] is `P` again; the constructors take PyTorch's arguments
//! in PyTorch's order, `(input_size, hidden_size = H, proj_size = P)`, as `nn.LSTM` does.
//!
//! - State: `state_size = P + H`; column `b` is `[h_b (P rows); c_b (H rows)]`, so PyTorch's
//!   `h_n` is the first `P` rows and `c_n` the last `H`.
//! - Parameters, in PyTorch's order and names: `weight_ih (4H, input)`, `weight_hh (4H, P)`,
//!   `bias_ih (4H)`, `bias_hh (4H)` (without `bias`, none), `weight_hr (P, H)`.
//! - Form: a general step ([`StepForm::General`]): `h_t` is a matrix product of the pointwise
//!   result, which the gated two-GEMM form cannot express. A step is three GEMMs forward
//!   (`W_ih x`, `W_hh h`, `W_hr m`), all into the scratch and the state; nothing is allocated.
//! - Initialisation: PyTorch's, every parameter (`weight_hr` too) `U(-1/sqrt(H), 1/sqrt(H))`,
//!   drawn in parameter order.
//!
//! ```
//! use rnnzoo_cell::{gradcheck, seeded, Cell};
//! use rnnzoo_lstm::LstmProjCell;
//!
//! // nn.LSTM(3, 5, proj_size=2): h is 2 wide, c is 5 wide.
//! let mut cell = LstmProjCell::<f64>::new(3, 5, 2, &mut seeded(0))?;
//! assert_eq!((cell.hidden_size(), cell.cell_size(), cell.state_size()), (2, 5, 7));
//! assert_eq!(
//!     cell.params().names().collect::<Vec<_>>(),
//!     ["weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"]
//! );
//! assert_eq!(cell.params().get("weight_hh").unwrap().shape(), [20, 2]);
//! assert!(gradcheck::check_cell(&mut cell, 2, 0, &Default::default()).passed());
//! # Ok::<(), rnnzoo_cell::CellError>(())
//! ```

use rnnzoo_cell::activation::{sigmoid_in_place, tanh_in_place};
use rnnzoo_cell::gemm::{MatMut, MatRef, gemm};
use rnnzoo_cell::rand::Rng;
use rnnzoo_cell::{
    Cell, CellError, GeneralStep, Init, Param, Params, Real, StepBackward, StepForm, StepForward,
    add_row_sums,
};

use crate::{FORGET, GATES, LstmOptions, no_bias_for_forget};

/// The LSTM with a projection, PyTorch's `nn.LSTM(..., proj_size=P)` (see the
/// [module docs](self) for the equations and what `hidden_size` means).
///
/// - Cache: `5H` per sample, column `b` is `[i; f; g; o; tanh(c_t)]`; backward reads `c_{t-1}`
///   and `h_{t-1}` from the previous state and recomputes `o * tanh(c_t)` in scratch.
/// - Scratch: `6H` per sample ([`GeneralStep::scratch_size`]).
#[derive(Debug, Clone, PartialEq)]
pub struct LstmProjCell<T> {
    params: Params<T>,
    input: usize,
    hidden: usize,
    proj: usize,
    bias: bool,
    /// Index of `weight_hr` in `params` (2 without biases, 4 with).
    hr: usize,
}

impl<T: Real> LstmProjCell<T> {
    /// `nn.LSTM(input, hidden, proj_size=proj)`'s cell: biases and PyTorch's default
    /// initialisation.
    ///
    /// ```
    /// use rnnzoo_lstm::LstmProjCell;
    /// let cell = LstmProjCell::<f32>::new(4, 8, 3, &mut rnnzoo_cell::seeded(1))?;
    /// assert_eq!((cell.cell_size(), cell.proj_size()), (8, 3));
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`LstmProjCell::zeros`].
    pub fn new<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        proj: usize,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        Self::with_options(input, hidden, proj, LstmOptions::default(), rng)
    }

    /// A cell built with `options` (biases, forget-gate bias 1, as for
    /// [`LstmCell`](crate::LstmCell)) and PyTorch's default initialisation.
    ///
    /// ```
    /// use rnnzoo_cell::Cell;
    /// use rnnzoo_lstm::{LstmOptions, LstmProjCell};
    /// let opts = LstmOptions::default().with_unit_forget_bias(true);
    /// let cell = LstmProjCell::<f64>::with_options(2, 4, 1, opts, &mut rnnzoo_cell::seeded(0))?;
    /// assert_eq!(cell.params().get("bias_ih").unwrap().gate(1), [1.0; 4]);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`LstmProjCell::zeros`]; [`CellError::Mismatch`] if `unit_forget_bias` is asked for
    /// without biases.
    pub fn with_options<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        proj: usize,
        options: LstmOptions,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        let mut cell = Self::zeros(input, hidden, proj, options.bias)?;
        if options.unit_forget_bias && !options.bias {
            return Err(no_bias_for_forget());
        }
        let init = Init::pytorch(hidden);
        for p in cell.params.iter_mut() {
            init.apply(p, rng);
        }
        if options.unit_forget_bias {
            cell.set_unit_forget_bias()?;
        }
        Ok(cell)
    }

    /// A cell whose parameters are all zero, to be filled by [`Params::set`] (a loader) or an
    /// [`Init`].
    ///
    /// ```
    /// use rnnzoo_cell::CellError;
    /// use rnnzoo_lstm::LstmProjCell;
    /// assert!(LstmProjCell::<f64>::zeros(3, 4, 2, false).is_ok());
    /// assert!(matches!(LstmProjCell::<f64>::zeros(3, 4, 4, true), Err(CellError::Mismatch(_))));
    /// assert_eq!(
    ///     LstmProjCell::<f64>::zeros(3, 4, 0, true),
    ///     Err(CellError::ZeroSize { what: "proj_size" })
    /// );
    /// ```
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input`, `hidden` or `proj` is zero (checked in that order);
    /// [`CellError::Mismatch`] unless `proj < hidden`, which PyTorch requires too.
    pub fn zeros(input: usize, hidden: usize, proj: usize, bias: bool) -> Result<Self, CellError> {
        for (n, what) in [
            (input, "input_size"),
            (hidden, "hidden_size"),
            (proj, "proj_size"),
        ] {
            if n == 0 {
                return Err(CellError::ZeroSize { what });
            }
        }
        if proj >= hidden {
            return Err(CellError::Mismatch(format!(
                "proj_size must be smaller than hidden_size (as PyTorch's nn.LSTM requires); \
                 got proj_size {proj}, hidden_size {hidden}"
            )));
        }
        let rows = GATES * hidden;
        let mut params = Params::new();
        params.push(Param::zeros("weight_ih", &[rows, input], GATES)?)?;
        params.push(Param::zeros("weight_hh", &[rows, proj], GATES)?)?;
        if bias {
            params.push(Param::zeros("bias_ih", &[rows], GATES)?)?;
            params.push(Param::zeros("bias_hh", &[rows], GATES)?)?;
        }
        let hr = params.push(Param::zeros("weight_hr", &[proj, hidden], 1)?)?;
        Ok(Self {
            params,
            input,
            hidden,
            proj,
            bias,
            hr,
        })
    }

    /// Sets the forget gate's effective bias to exactly 1, as
    /// [`LstmCell::set_unit_forget_bias`](crate::LstmCell::set_unit_forget_bias) does: the `f`
    /// block (rows `H..2H`) of `bias_ih` to 1 and that of `bias_hh` to 0.
    ///
    /// ```
    /// use rnnzoo_cell::Cell;
    /// let mut cell = rnnzoo_lstm::LstmProjCell::<f32>::zeros(2, 3, 1, true)?;
    /// cell.set_unit_forget_bias()?;
    /// assert_eq!(cell.params().get("bias_ih").unwrap().data()[3..6], [1.0; 3]);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CellError::Mismatch`] if the cell has no biases.
    pub fn set_unit_forget_bias(&mut self) -> Result<(), CellError> {
        if !self.bias {
            return Err(no_bias_for_forget());
        }
        self.params.at_mut(2).gate_mut(FORGET).fill(T::one());
        self.params.at_mut(3).gate_mut(FORGET).fill(T::zero());
        Ok(())
    }

    /// `H`: the rows of `c` and of each gate block (PyTorch's `hidden_size`).
    ///
    /// ```
    /// let cell = rnnzoo_lstm::LstmProjCell::<f32>::zeros(2, 6, 4, true)?;
    /// assert_eq!(cell.cell_size(), 6);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    pub fn cell_size(&self) -> usize {
        self.hidden
    }

    /// `P`: the rows of `h` and of the output (PyTorch's `proj_size`), which is also
    /// [`Cell::hidden_size`].
    ///
    /// ```
    /// use rnnzoo_cell::Cell;
    /// let cell = rnnzoo_lstm::LstmProjCell::<f32>::zeros(2, 6, 4, true)?;
    /// assert_eq!((cell.proj_size(), cell.hidden_size()), (4, 4));
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    pub fn proj_size(&self) -> usize {
        self.proj
    }

    /// Whether the cell has biases.
    ///
    /// ```
    /// let cell = rnnzoo_lstm::LstmProjCell::<f32>::zeros(2, 6, 4, false)?;
    /// assert!(!cell.has_bias());
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    pub fn has_bias(&self) -> bool {
        self.bias
    }

    fn weight(&self, k: usize) -> MatRef<'_, T> {
        self.params.at(k).view()
    }
}

impl<T: Real> Cell<T> for LstmProjCell<T> {
    fn input_size(&self) -> usize {
        self.input
    }

    /// `P`, the projection: the rows of `h_t` (see the [module docs](self)).
    fn hidden_size(&self) -> usize {
        self.proj
    }

    /// `P + H`: `[h; c]`.
    fn state_size(&self) -> usize {
        self.proj + self.hidden
    }

    fn cache_size(&self) -> usize {
        5 * self.hidden
    }

    fn mode(&self) -> &str {
        "LSTM_PROJ"
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

/// Splits `s` into four consecutive blocks of `h`.
#[inline(always)]
fn blocks4<T>(s: &[T], h: usize) -> [&[T]; 4] {
    [&s[..h], &s[h..2 * h], &s[2 * h..3 * h], &s[3 * h..4 * h]]
}

impl<T: Real> GeneralStep<T> for LstmProjCell<T> {
    /// Forward: the pre-activations (`4H`) and `m = o * tanh(c_t)` (`H`). Backward: the
    /// pre-activation gradients (`4H`), `m` and its gradient (`H` each).
    fn scratch_size(&self, batch: usize) -> usize {
        6 * self.hidden * batch
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
        let (h, p, ni) = (self.hidden, self.proj, self.input);
        let (g, s) = (GATES * h, p + h);
        let (a, rest) = scratch[..5 * h * batch].split_at_mut(g * batch);
        let m = &mut rest[..h * batch];

        // a = b_ih + b_hh + W_ih x + W_hh h_{t-1}.
        if self.bias {
            let (b_ih, b_hh) = (self.params.at(2).data(), self.params.at(3).data());
            for col in a.chunks_exact_mut(g) {
                for ((v, &u), &w) in col.iter_mut().zip(b_ih).zip(b_hh) {
                    *v = u + w;
                }
            }
        } else {
            a.fill(T::zero());
        }
        gemm(
            T::one(),
            self.weight(0),
            MatRef::col_major(&x[..ni * batch], ni, batch).unwrap(),
            T::one(),
            MatMut::col_major(&mut *a, g, batch).unwrap(),
        );
        gemm(
            T::one(),
            self.weight(1),
            MatRef::new(prev, p, batch, 1, s).unwrap(),
            T::one(),
            MatMut::col_major(&mut *a, g, batch).unwrap(),
        );

        // The gates (straight into the cache, one vectorised activation per contiguous block), c_t
        // into the state, m = o * tanh(c_t).
        for b in 0..batch {
            let col = &mut cache[b * 5 * h..(b + 1) * 5 * h];
            let (gates, ctc) = col.split_at_mut(g);
            gates.copy_from_slice(&a[b * g..(b + 1) * g]);
            sigmoid_in_place(&mut gates[..2 * h]);
            tanh_in_place(&mut gates[2 * h..3 * h]);
            sigmoid_in_place(&mut gates[3 * h..]);
            let [ci, cf, cg, co] = blocks4(gates, h);
            let c_prev = &prev[b * s + p..(b + 1) * s];
            let c_next = &mut next[b * s + p..(b + 1) * s];
            for j in 0..h {
                let c = cf[j] * c_prev[j] + ci[j] * cg[j];
                c_next[j] = c;
                ctc[j] = c;
            }
            tanh_in_place(ctc);
            let m = &mut m[b * h..(b + 1) * h];
            for j in 0..h {
                m[j] = co[j] * ctc[j];
            }
        }

        // h_t = W_hr m, into the h rows of the state.
        gemm(
            T::one(),
            self.weight(self.hr),
            MatRef::col_major(&*m, h, batch).unwrap(),
            T::zero(),
            MatMut::new(next, p, batch, 1, s).unwrap(),
        );
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
        let one = T::one();
        let (h, p, ni) = (self.hidden, self.proj, self.input);
        let (g, s) = (GATES * h, p + h);
        let (da, rest) = scratch[..6 * h * batch].split_at_mut(g * batch);
        let (m, dm) = rest.split_at_mut(h * batch);
        let dh = MatRef::new(d_next, p, batch, 1, s).unwrap();

        // m = o * tanh(c_t) again, and dm = W_hr^T dh.
        for b in 0..batch {
            let col = &cache[b * 5 * h..(b + 1) * 5 * h];
            let (co, ctc) = (&col[3 * h..4 * h], &col[4 * h..]);
            for (j, v) in m[b * h..(b + 1) * h].iter_mut().enumerate() {
                *v = co[j] * ctc[j];
            }
        }
        gemm(
            one,
            self.weight(self.hr).t(),
            dh,
            T::zero(),
            MatMut::col_major(&mut *dm, h, batch).unwrap(),
        );

        // The LSTM's pointwise backward, with dm in place of dh; c_{t-1}'s gradient is written.
        for b in 0..batch {
            let col = &cache[b * 5 * h..(b + 1) * 5 * h];
            let [ci, cf, cg, co] = blocks4(col, h);
            let ctc = &col[4 * h..];
            let c_prev = &prev[b * s + p..(b + 1) * s];
            let dc_next = &d_next[b * s + p..(b + 1) * s];
            let dm = &dm[b * h..(b + 1) * h];
            let (da_i, rest) = da[b * g..(b + 1) * g].split_at_mut(h);
            let (da_f, rest) = rest.split_at_mut(h);
            let (da_g, da_o) = rest.split_at_mut(h);
            let dc_prev = &mut d_prev[b * s + p..(b + 1) * s];
            for j in 0..h {
                let (i, f, gg, o, tc) = (ci[j], cf[j], cg[j], co[j], ctc[j]);
                let dc = dc_next[j] + dm[j] * o * (one - tc * tc);
                da_i[j] = dc * gg * i * (one - i);
                da_f[j] = dc * c_prev[j] * f * (one - f);
                da_g[j] = dc * i * (one - gg * gg);
                da_o[j] = dm[j] * tc * o * (one - o);
                dc_prev[j] = dc * f;
            }
        }

        // d h_{t-1} = W_hh^T da (written: h_{t-1} reaches the step only through W_hh);
        // d x = W_ih^T da.
        let da_v = MatRef::col_major(&*da, g, batch).unwrap();
        gemm(
            one,
            self.weight(1).t(),
            da_v,
            T::zero(),
            MatMut::new(d_prev, p, batch, 1, s).unwrap(),
        );
        gemm(
            one,
            self.weight(0).t(),
            da_v,
            T::zero(),
            MatMut::col_major(&mut d_x[..ni * batch], ni, batch).unwrap(),
        );

        // Parameter gradients, added to, in the parameters' layout.
        let x_v = MatRef::col_major(&x[..ni * batch], ni, batch).unwrap();
        let h_v = MatRef::new(prev, p, batch, 1, s).unwrap();
        let m_v = MatRef::col_major(&*m, h, batch).unwrap();
        gemm(
            one,
            da_v,
            x_v.t(),
            one,
            MatMut::row_major(grads.at_mut(0).data_mut(), g, ni).unwrap(),
        );
        gemm(
            one,
            da_v,
            h_v.t(),
            one,
            MatMut::row_major(grads.at_mut(1).data_mut(), g, p).unwrap(),
        );
        gemm(
            one,
            dh,
            m_v.t(),
            one,
            MatMut::row_major(grads.at_mut(self.hr).data_mut(), p, h).unwrap(),
        );
        if self.bias {
            for k in [2, 3] {
                add_row_sums(grads.at_mut(k).data_mut(), da, g);
            }
        }
    }
}

#[cfg(test)]
mod tests;
