//! PyTorch's GRU: the reset gate after the recurrent product.

use rnnzoo_cell::activation::{sigmoid_of_sum, tanh_in_place};
use rnnzoo_cell::rand::Rng;
use rnnzoo_cell::{CellError, GateWeights, GatedCell, PointwiseBackward, PointwiseForward, Real};

use crate::{GATES, blocks3, blocks3_mut};

/// PyTorch's GRU cell, `n = tanh(W_in x + b_in + r * (W_hn h + b_hn))` (see the crate docs).
///
/// - Parameters: `weight_ih (3H, input)`, `weight_hh (3H, H)`, and with biases `bias_ih (3H)`,
///   `bias_hh (3H)`, row-major, gate blocks in PyTorch's order `r, z, n` (block `k` is rows
///   `k*H..(k+1)*H`), each with `gates() == 3`.
/// - Form: gated two-GEMM, `G = 3`; mode `"GRU"`.
/// - State: `h` (`state_size = H`).
/// - Cache: `4H` per sample, column `b` is `[r; z; n; gh_n]`, where `gh_n = W_hn h + b_hn` is the
///   recurrent pre-activation the reset gate multiplies (needed for `r`'s gradient).
#[derive(Debug, Clone, PartialEq)]
pub struct GruCell<T> {
    weights: GateWeights<T>,
}

impl<T: Real> GruCell<T> {
    /// A cell with biases and PyTorch's default initialisation, every parameter
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

    /// A cell with or without biases (PyTorch's `bias=False`), PyTorch's default initialisation.
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

    /// A cell whose parameters are all zero, to be filled by
    /// [`Params::set`](rnnzoo_cell::Params::set) or an
    /// [`Init`](rnnzoo_cell::Init).
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

impl<T: Real> GatedCell for GruCell<T> {
    type Real = T;

    fn weights(&self) -> &GateWeights<T> {
        &self.weights
    }

    fn weights_mut(&mut self) -> &mut GateWeights<T> {
        &mut self.weights
    }

    fn mode(&self) -> &str {
        "GRU"
    }

    fn cache_size(&self) -> usize {
        4 * self.weights.hidden()
    }

    fn forward_pointwise(&self, mut f: PointwiseForward<'_, T>) {
        let h = self.weights.hidden();
        for c in f.columns() {
            forward_column(h, c.gi, c.gh, c.prev, c.next, c.cache);
        }
    }

    /// `d_gh` differs from `d_gi` in the `n` block (`r * da_n`), so both are written.
    fn backward_pointwise(&self, mut b: PointwiseBackward<'_, T>) {
        let h = self.weights.hidden();
        for c in b.columns() {
            backward_column(h, c.cache, c.prev, c.d_next, c.d_gi, c.d_gh, c.d_prev);
        }
    }
}

/// One sample's forward: `gi`, `gh` are `3H`, `prev`, `next` are `H`, `cache` is `4H`.
///
/// `r|z` are activated together, straight into the cache, by one vectorised slice activation
/// ([`rnnzoo_cell::activation`]); `n`'s pre-activation is built in its cache block and squashed
/// there in one call.
#[inline(always)]
fn forward_column<T: Real>(
    h: usize,
    gi: &[T],
    gh: &[T],
    prev: &[T],
    next: &mut [T],
    cache: &mut [T],
) {
    let (gi, gh) = (&gi[..3 * h], &gh[..3 * h]);
    let (an, bn) = (&gi[2 * h..], &gh[2 * h..]);
    let (h_prev, next) = (&prev[..h], &mut next[..h]);
    let (rz, rest) = cache[..4 * h].split_at_mut(2 * h);
    let (cn, cghn) = rest.split_at_mut(h);
    sigmoid_of_sum(&gi[..2 * h], &gh[..2 * h], rz);
    let (cr, cz) = (&rz[..h], &rz[h..]);
    for j in 0..h {
        cn[j] = an[j] + cr[j] * bn[j];
    }
    tanh_in_place(cn);
    for j in 0..h {
        let n = cn[j];
        // (1 - z) n + z h, written as PyTorch writes it.
        next[j] = n + cz[j] * (h_prev[j] - n);
    }
    cghn.copy_from_slice(bn);
}

/// One sample's backward: writes `d_gi`, `d_gh` (`3H`) and `d_prev` (`H`, the path through `z`).
#[inline(always)]
fn backward_column<T: Real>(
    h: usize,
    cache: &[T],
    prev: &[T],
    d_next: &[T],
    d_gi: &mut [T],
    d_gh: &mut [T],
    d_prev: &mut [T],
) {
    let one = T::one();
    let [cr, cz, cn] = blocks3(cache, h);
    let ghn = &cache[3 * h..4 * h];
    let (h_prev, dh, d_prev) = (&prev[..h], &d_next[..h], &mut d_prev[..h]);
    let [di_r, di_z, di_n] = blocks3_mut(d_gi, h);
    let [dh_r, dh_z, dh_n] = blocks3_mut(d_gh, h);
    for j in 0..h {
        let (r, z, n) = (cr[j], cz[j], cn[j]);
        let da_n = dh[j] * (one - z) * (one - n * n);
        let da_z = dh[j] * (h_prev[j] - n) * z * (one - z);
        let da_r = da_n * ghn[j] * r * (one - r);
        di_r[j] = da_r;
        dh_r[j] = da_r;
        di_z[j] = da_z;
        dh_z[j] = da_z;
        di_n[j] = da_n;
        dh_n[j] = da_n * r;
        d_prev[j] = dh[j] * z;
    }
}
