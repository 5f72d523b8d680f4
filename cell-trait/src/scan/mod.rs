//! The scan form: cells whose recurrence is elementwise (diagonal), computed a whole pass at a
//! time with the input side hoisted over every step.
//!
//! The cells that made recurrent networks fast again since 2017 (QRNN, SRU, IndRNN, LRU,
//! minGRU, minLSTM) share one shape: everything that touches a weight matrix depends on the
//! input only, so it is one GEMM over all `T * B` columns (or a short causal convolution), and
//! what connects the steps is elementwise, `h_t = a_t * h_{t-1} + b_t` for the linear ones. Such
//! a cell implements [`ScanPass`] and returns [`StepForm::Scan`](crate::StepForm::Scan): the
//! unroller hands it a whole pass (the sequence, the initial state) instead of calling it per
//! step, and it uses the parallel [`linear`] scan and its [`linear_adjoint`], or its own
//! elementwise loop for a recurrence that is not linear (IndRNN, SRU). A cell whose gates are
//! elementwise too can instead fuse gates and recurrence into one loop per sample and step, each
//! thread over its own [`by_samples`] block of every step (minGRU does).
//!
//! Everything else is the unroller's, as for the other forms: variable lengths, directions,
//! final states, bidirectional and deep stacks, the gradient checker, the trainer. One step of a
//! scan cell (through [`CellExt`](crate::CellExt)) is a pass of one step.
//!
//! # Example: an exponential moving average of a projection
//!
//! `u_t = W x_t + b`, `h_t = a * h_{t-1} + (1 - a) * u_t` with a learned decay
//! `a = sigmoid(decay)` per unit: one GEMM for the whole sequence, one scan, and for backward
//! one adjoint scan and three GEMMs.
//!
//! ```
//! use rnnzoo_cell::gemm::{gemm, MatMut, MatRef};
//! use rnnzoo_cell::scan::{self, ScanBackward, ScanForward, ScanPass};
//! use rnnzoo_cell::{add_row_sums, broadcast_bias, gradcheck, seeded, Cell, Init, Param, Params, Real, StepForm};
//!
//! struct Ema<T> { params: Params<T>, input: usize, hidden: usize }
//!
//! impl<T: Real> Ema<T> {
//!     fn new(input: usize, hidden: usize, seed: u64) -> Result<Self, rnnzoo_cell::CellError> {
//!         let mut params = Params::new();
//!         params.push(Param::zeros("weight_ih", &[hidden, input], 1)?)?;
//!         params.push(Param::zeros("bias_ih", &[hidden], 1)?)?;
//!         params.push(Param::zeros("decay", &[hidden], 1)?)?;
//!         let mut rng = seeded(seed);
//!         for p in params.iter_mut() { Init::Uniform { low: -1.0, high: 1.0 }.apply(p, &mut rng); }
//!         Ok(Self { params, input, hidden })
//!     }
//! }
//!
//! impl<T: Real> Cell<T> for Ema<T> {
//!     fn input_size(&self) -> usize { self.input }
//!     fn hidden_size(&self) -> usize { self.hidden }
//!     fn cache_size(&self) -> usize { self.hidden } // u_t
//!     fn mode(&self) -> &str { "EMA" }
//!     fn params(&self) -> &Params<T> { &self.params }
//!     fn params_mut(&mut self) -> &mut Params<T> { &mut self.params }
//!     fn form(&self) -> StepForm<'_, T> { StepForm::Scan(self) }
//! }
//!
//! impl<T: Real> ScanPass<T> for Ema<T> {
//!     fn forward(&self, p: ScanForward<'_, T>) {
//!         let (h, n, one) = (self.hidden, p.steps * p.batch, T::one());
//!         let w = &self.params[0];
//!         // u = W X + b over all T * B columns, into the cache.
//!         broadcast_bias(p.cache, Some(self.params[1].data()), h);
//!         let x = MatRef::col_major(p.x, self.input, n).unwrap();
//!         gemm(one, w.view(), x, one, MatMut::col_major(p.cache, h, n).unwrap());
//!         // h_t = a h_{t-1} + (1 - a) u_t: the scan's b is (1 - a) u, its a is a at every step.
//!         let decay: Vec<T> = self.params[2].data().iter().map(|d| d.sigmoid()).collect();
//!         let a: Vec<T> = (0..n).flat_map(|_| decay.iter().copied()).collect();
//!         for (s, (&u, &a)) in p.states.iter_mut().zip(p.cache.iter().zip(&a)) { *s = (one - a) * u; }
//!         scan::linear(&a, p.states, Some(p.initial), h * p.batch);
//!     }
//!
//!     fn backward(&self, p: ScanBackward<'_, T>, grads: &mut Params<T>) {
//!         let (h, b, n, one) = (self.hidden, p.batch, p.steps * p.batch, T::one());
//!         let decay: Vec<T> = self.params[2].data().iter().map(|d| d.sigmoid()).collect();
//!         let a: Vec<T> = (0..n).flat_map(|_| decay.iter().copied()).collect();
//!         // g_t = d_t + a g_{t+1}, in place of d_states.
//!         scan::linear_adjoint(&a, p.d_states, h * b);
//!         let g = &*p.d_states;
//!         let mut d_u = vec![T::zero(); h * n];
//!         let d_decay = grads.at_mut(2).data_mut();
//!         for k in 0..h * n {
//!             let prev = if k < h * b { p.initial[k] } else { p.states[k - h * b] };
//!             let j = k % h;
//!             d_u[k] = (one - a[k]) * g[k];
//!             // d a = g (h_{t-1} - u_t); d decay = d a * a (1 - a).
//!             d_decay[j] += g[k] * (prev - p.cache[k]) * a[k] * (one - a[k]);
//!         }
//!         for (d, (&a, &g)) in p.d_initial.iter_mut().zip(a.iter().zip(g)) { *d = a * g; }
//!         let d_u_v = MatRef::col_major(&d_u, h, n).unwrap();
//!         let x = MatRef::col_major(p.x, self.input, n).unwrap();
//!         gemm(one, self.params[0].view().t(), d_u_v, T::zero(), MatMut::col_major(p.d_x, self.input, n).unwrap());
//!         gemm(one, d_u_v, x.t(), one, MatMut::row_major(grads.at_mut(0).data_mut(), h, self.input).unwrap());
//!         add_row_sums(grads.at_mut(1).data_mut(), &d_u, h);
//!     }
//! }
//!
//! let mut cell = Ema::<f64>::new(3, 4, 0)?;
//! let opts = gradcheck::Options::default();
//! assert!(gradcheck::check_cell(&mut cell, 2, 1, &opts).passed());
//! assert!(gradcheck::check_columns(&cell, 3, 1, &opts).passed());
//! # Ok::<(), rnnzoo_cell::CellError>(())
//! ```
//!
//! `rnnzoo-layers` unrolls it like any cell, through time with variable lengths and in both
//! directions (`layers/tests/custom_cell.rs` checks exactly this cell through time).

mod blocks;
mod linear;
#[cfg(test)]
mod tests;

pub use blocks::{SampleBlock, by_samples, sample_parts};
pub use linear::{linear, linear_adjoint};

use crate::{Params, Real};

/// A cell that computes a whole pass over time at once; see the [module docs](self).
///
/// # The rules of a pass
///
/// - **Causal.** The state after step `t` depends on the initial state and on `x_0 ..= x_t`
///   only. The unroller relies on it for variable lengths: it runs every sample through all `T`
///   steps (its padded steps' inputs set to zero, so the cell must stay finite on zero inputs),
///   then reads each sample's outputs and final state where its sequence ends, and gives the
///   steps after that a zero gradient.
/// - **Samples do not interact.** Column `b` of a step depends on column `b` of the inputs only,
///   and backward is linear in the state gradients. The parameter gradients are sums over the
///   columns and steps.
/// - **Outputs are overwritten; gradients are added.** Forward writes every value of `states` and
///   `cache`; backward every value of `d_x` and `d_initial`. Only `grads` is added to (`+=`).
/// - **Memory.** A pass may allocate its working buffers once (the unroller does the same), never
///   once per step, and may split its work over the current rayon pool (the [`linear`] scan
///   does).
pub trait ScanPass<T: Real>: Send + Sync {
    /// Writes every step's state and cache from the sequence and the initial state.
    fn forward(&self, pass: ScanForward<'_, T>);

    /// Writes `d_x` and `d_initial` and adds to `grads` (laid out as
    /// [`Cell::params`](crate::Cell::params)), from the gradient at every step's state.
    fn backward(&self, pass: ScanBackward<'_, T>, grads: &mut Params<T>);
}

/// The buffers of a forward pass, each exactly its size: a sequence of `steps * batch` columns,
/// step `t` being columns `[t*batch, (t+1)*batch)` (see [`Cell`](crate::Cell) for the rows).
#[derive(Debug)]
pub struct ScanForward<'a, T> {
    /// `x_0 .. x_{T-1}`, `input_size x (steps * batch)`.
    pub x: &'a [T],
    /// The state before step 0, `state_size x batch`.
    pub initial: &'a [T],
    /// The state after each step, `state_size x (steps * batch)`, to be written.
    pub states: &'a mut [T],
    /// What backward will need, `cache_size x (steps * batch)` (the cell's own layout), to be
    /// written.
    pub cache: &'a mut [T],
    /// Steps `T` (at least one).
    pub steps: usize,
    /// Samples `B` (at least one).
    pub batch: usize,
}

/// The buffers of a backward pass (see [`ScanForward`] for the layout).
#[derive(Debug)]
pub struct ScanBackward<'a, T> {
    /// The sequence forward read.
    pub x: &'a [T],
    /// The initial state forward read.
    pub initial: &'a [T],
    /// The states forward wrote.
    pub states: &'a [T],
    /// The cache forward wrote.
    pub cache: &'a [T],
    /// On entry, `d loss / d state_t` from outside the recurrence at every step (the output's
    /// gradient in the `h` rows, and the final state's at a sample's last step),
    /// `state_size x (steps * batch)`. The pass may overwrite it (an adjoint scan in place).
    pub d_states: &'a mut [T],
    /// `d loss / d x`, `input_size x (steps * batch)`, to be written.
    pub d_x: &'a mut [T],
    /// `d loss / d initial`, `state_size x batch`, to be written.
    pub d_initial: &'a mut [T],
    /// Steps `T`.
    pub steps: usize,
    /// Samples `B`.
    pub batch: usize,
}
