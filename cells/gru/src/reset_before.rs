//! The original GRU: the reset gate before the recurrent product.

use rnnzoo_cell::activation::{sigmoid_of_sum, tanh_of_sum};
use rnnzoo_cell::gemm::{MatMut, MatRef, gemm};
use rnnzoo_cell::rand::Rng;
use rnnzoo_cell::{
    Cell, CellError, GateWeights, GeneralStep, Param, Params, Real, StepBackward, StepForm,
    StepForward, add_row_sums, broadcast_bias,
};

use crate::{GATES, blocks3, blocks3_mut};

/// The GRU of Cho et al. 2014 with the reset gate before the recurrent product,
/// `n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)`: Keras' GRU with `reset_after=False` (see the
/// crate docs).
///
/// - Parameters: the same names, shapes and gate order (`r, z, n`) as [`GruCell`](crate::GruCell),
///   so weights map one to one; `b_hn` is simply added after the product.
/// - Form: a general step ([`StepForm::General`]); mode `"GRU_RESET_BEFORE"`. A step is three
///   GEMMs forward (`W_ih x`, the `r, z` rows `0..2H` of `weight_hh` times `h`, then the `n` rows
///   `2H..3H` times `r * h`), all into the scratch buffer; nothing is allocated.
/// - State: `h` (`state_size = H`).
/// - Cache: `3H` per sample, column `b` is `[r; z; n]` (backward recomputes `r * h` in scratch).
/// - Scratch: `7H` per sample ([`GeneralStep::scratch_size`]).
#[derive(Debug, Clone, PartialEq)]
pub struct GruResetBeforeCell<T> {
    weights: GateWeights<T>,
}

impl<T: Real> GruResetBeforeCell<T> {
    /// A cell with biases and PyTorch's default GRU initialisation, every parameter
    /// `U(-1/sqrt(H), 1/sqrt(H))`.
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

    /// A cell with or without biases, PyTorch's default GRU initialisation.
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

    /// A cell whose parameters are all zero, to be filled by [`Params::set`] (for example from a
    /// [`GruCell`](crate::GruCell)'s parameters) or an [`Init`](rnnzoo_cell::Init).
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

impl<T: Real> Cell<T> for GruResetBeforeCell<T> {
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
        "GRU_RESET_BEFORE"
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

impl<T: Real> GeneralStep<T> for GruResetBeforeCell<T> {
    /// Forward: `gi` and `gh` (`3H` each, gate layout) and `r * h` (`H`). Backward: the
    /// pre-activation gradients (`3H`), `r * h` and its gradient (`H` each).
    fn scratch_size(&self, batch: usize) -> usize {
        7 * self.weights.hidden() * batch
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
        let (x, prev) = (&x[..ni * batch], &prev[..h * batch]);
        let (next, cache) = (&mut next[..h * batch], &mut cache[..g * batch]);
        let (gi, rest) = scratch[..7 * h * batch].split_at_mut(g * batch);
        let (gh, rest) = rest.split_at_mut(g * batch);
        let rh = &mut rest[..h * batch];
        let (w_rz, w_n) = w.weight_hh().data().split_at(2 * h * h);
        let w_rz = MatRef::row_major(w_rz, 2 * h, h).unwrap();
        let w_n = MatRef::row_major(w_n, h, h).unwrap();
        let h_prev = MatRef::col_major(prev, h, batch).unwrap();

        // gi = W_ih x + b_ih; the r, z rows of gh = W_hr,hz h + b_hr,hz, and b_hn in its n rows.
        broadcast_bias(gi, w.bias_ih().map(Param::data), g);
        broadcast_bias(gh, w.bias_hh().map(Param::data), g);
        gemm(
            T::one(),
            w.weight_ih().view(),
            MatRef::col_major(x, ni, batch).unwrap(),
            T::one(),
            MatMut::col_major(gi, g, batch).unwrap(),
        );
        gemm(
            T::one(),
            w_rz,
            h_prev,
            T::one(),
            MatMut::new(gh, 2 * h, batch, 1, g).unwrap(),
        );

        // r, z (one vectorised activation over the contiguous r|z block), and r * h.
        for b in 0..batch {
            let (gi, gh) = (&gi[b * g..b * g + 2 * h], &gh[b * g..b * g + 2 * h]);
            let rz = &mut cache[b * g..b * g + 2 * h];
            sigmoid_of_sum(gi, gh, rz);
            let cr = &rz[..h];
            let h_prev = &prev[b * h..(b + 1) * h];
            let rh = &mut rh[b * h..(b + 1) * h];
            for j in 0..h {
                rh[j] = cr[j] * h_prev[j];
            }
        }

        // The n rows of gh += W_hn (r * h).
        let rh_v = MatRef::col_major(&*rh, h, batch).unwrap();
        gemm(
            T::one(),
            w_n,
            rh_v,
            T::one(),
            MatMut::new(&mut gh[2 * h..], h, batch, 1, g).unwrap(),
        );

        // n (one vectorised activation, straight into the cache) and h_t.
        for b in 0..batch {
            let an = &gi[b * g + 2 * h..(b + 1) * g];
            let bn = &gh[b * g + 2 * h..(b + 1) * g];
            let [_, cz, cn] = blocks3_mut(&mut cache[b * g..(b + 1) * g], h);
            tanh_of_sum(an, bn, cn);
            let h_prev = &prev[b * h..(b + 1) * h];
            let next = &mut next[b * h..(b + 1) * h];
            for j in 0..h {
                let n = cn[j];
                next[j] = n + cz[j] * (h_prev[j] - n);
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
        let one = T::one();
        let w = &self.weights;
        let (h, ni) = (w.hidden(), w.input());
        let g = GATES * h;
        let (x, prev, cache, d_next) = (
            &x[..ni * batch],
            &prev[..h * batch],
            &cache[..g * batch],
            &d_next[..h * batch],
        );
        let (d_x, d_prev) = (&mut d_x[..ni * batch], &mut d_prev[..h * batch]);
        // `da` holds the gradients of the three pre-activations. Each of them is gi + gh (the n one
        // is W_in x + b_in + W_hn (r h) + b_hn), so it is both d gi and d gh.
        let (da, rest) = scratch[..5 * h * batch].split_at_mut(g * batch);
        let (rh, d_rh) = rest.split_at_mut(h * batch);
        let (w_rz, w_n) = w.weight_hh().data().split_at(2 * h * h);
        let w_rz = MatRef::row_major(w_rz, 2 * h, h).unwrap();
        let w_n = MatRef::row_major(w_n, h, h).unwrap();

        // The paths through z and n, and the direct path z * dh into h_{t-1}.
        for b in 0..batch {
            let [cr, cz, cn] = blocks3(&cache[b * g..(b + 1) * g], h);
            let [_, da_z, da_n] = blocks3_mut(&mut da[b * g..(b + 1) * g], h);
            let h_prev = &prev[b * h..(b + 1) * h];
            let dh = &d_next[b * h..(b + 1) * h];
            let d_prev = &mut d_prev[b * h..(b + 1) * h];
            let rh = &mut rh[b * h..(b + 1) * h];
            for j in 0..h {
                let (r, z, n) = (cr[j], cz[j], cn[j]);
                da_n[j] = dh[j] * (one - z) * (one - n * n);
                da_z[j] = dh[j] * (h_prev[j] - n) * z * (one - z);
                d_prev[j] = dh[j] * z;
                rh[j] = r * h_prev[j];
            }
        }

        // d(r h) = W_hn^T da_n, then the path through r and the one through r * h into h_{t-1}.
        let da_n_v = MatRef::new(&da[2 * h..], h, batch, 1, g).unwrap();
        gemm(
            one,
            w_n.t(),
            da_n_v,
            T::zero(),
            MatMut::col_major(&mut *d_rh, h, batch).unwrap(),
        );
        for b in 0..batch {
            let cr = &cache[b * g..b * g + h];
            let da_r = &mut da[b * g..b * g + h];
            let h_prev = &prev[b * h..(b + 1) * h];
            let d_rh = &d_rh[b * h..(b + 1) * h];
            let d_prev = &mut d_prev[b * h..(b + 1) * h];
            for j in 0..h {
                let r = cr[j];
                da_r[j] = d_rh[j] * h_prev[j] * r * (one - r);
                d_prev[j] += d_rh[j] * r;
            }
        }

        // d h_{t-1} += W_hr,hz^T da_r,z;  d x = W_ih^T da.
        let da_v = MatRef::col_major(&*da, g, batch).unwrap();
        let da_rz_v = MatRef::new(&*da, 2 * h, batch, 1, g).unwrap();
        let da_n_v = MatRef::new(&da[2 * h..], h, batch, 1, g).unwrap();
        gemm(
            one,
            w_rz.t(),
            da_rz_v,
            one,
            MatMut::col_major(d_prev, h, batch).unwrap(),
        );
        gemm(
            one,
            w.weight_ih().view().t(),
            da_v,
            T::zero(),
            MatMut::col_major(d_x, ni, batch).unwrap(),
        );

        // Parameter gradients, in the same layout as the parameters.
        let gp = w.gate_params();
        let x_v = MatRef::col_major(x, ni, batch).unwrap();
        let h_v = MatRef::col_major(prev, h, batch).unwrap();
        let rh_v = MatRef::col_major(&*rh, h, batch).unwrap();
        gemm(
            one,
            da_v,
            x_v.t(),
            one,
            MatMut::row_major(grads.at_mut(gp.weight_ih).data_mut(), g, ni).unwrap(),
        );
        let (gw_rz, gw_n) = grads
            .at_mut(gp.weight_hh)
            .data_mut()
            .split_at_mut(2 * h * h);
        gemm(
            one,
            da_rz_v,
            h_v.t(),
            one,
            MatMut::row_major(gw_rz, 2 * h, h).unwrap(),
        );
        gemm(
            one,
            da_n_v,
            rh_v.t(),
            one,
            MatMut::row_major(gw_n, h, h).unwrap(),
        );
        for k in [gp.bias_ih, gp.bias_hh].into_iter().flatten() {
            add_row_sums(grads.at_mut(k).data_mut(), da, g);
        }
    }
}
