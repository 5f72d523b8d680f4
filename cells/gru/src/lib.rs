//! # rnnzoo-gru: the GRU cells
//!
//! Two gated recurrent units (Cho et al. 2014) with PyTorch's parameter names, shapes, gate order
//! (`r, z, n`), two biases and default initialisation, so a PyTorch `state_dict` loads into either
//! unchanged. They differ only in where the reset gate `r` acts:
//!
//! ```text
//! r = σ(W_ir x + b_ir + W_hr h + b_hr)          z = σ(W_iz x + b_iz + W_hz h + b_hz)
//! GruCell            n = tanh(W_in x + b_in + r * (W_hn h + b_hn))     after the product (PyTorch, cuDNN)
//! GruResetBeforeCell n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)     before it (Cho et al.; Keras reset_after=False)
//! h_t = (1 - z) * n + z * h_{t-1}
//! ```
//!
//! - [`GruCell`] is PyTorch's `nn.GRU` cell (mode `"GRU"`). It fits the two-GEMM form
//!   ([`GatedCell`](rnnzoo_cell::GatedCell), `G = 3`): `gh = W_hh h + b_hh` is
//!   computed once per step and the reset gate scales its `n` block.
//! - [`GruResetBeforeCell`] is the original formulation (mode `"GRU_RESET_BEFORE"`; Keras' GRU
//!   with `reset_after=False`, Theano's and early TensorFlow's GRU). The product `W_hn (r * h)`
//!   needs `r` first, so the recurrent side cannot be one GEMM: it is a
//!   [`GeneralStep`](rnnzoo_cell::GeneralStep) that makes two GEMMs on the row blocks of
//!   `weight_hh` (rows `0..2H` for `r, z`, then rows `2H..3H` for `n`). Its parameters have the
//!   same names and shapes as [`GruCell`]'s, so weights map between the two one to one, but the
//!   two compute different functions unless `r = 1` or `h_{t-1} = 0` with `b_hn = 0`.
//!
//! The state is `h` alone (`state_size = H`).
//!
//! ```
//! use rnnzoo_cell::{gradcheck, seeded, Cell, CellExt, StepForward};
//! use rnnzoo_gru::{GruCell, GruResetBeforeCell};
//!
//! let mut gru = GruCell::<f64>::new(3, 5, &mut seeded(0))?;
//! assert_eq!(gru.params().names().collect::<Vec<_>>(), ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]);
//! assert!(gradcheck::check_cell(&mut gru, 2, 0, &Default::default()).passed());
//!
//! // The same weights in the reset-before cell.
//! let mut cho = GruResetBeforeCell::<f64>::zeros(3, 5, true)?;
//! for p in gru.params().iter() {
//!     cho.params_mut().set(p.name(), p.data())?;
//! }
//! let batch = 2;
//! let x = vec![0.5; 3 * batch];
//! let prev = vec![0.1; 5 * batch];
//! let step = |cell: &dyn Cell<f64>| {
//!     let mut next = vec![0.0; 5 * batch];
//!     let mut cache = vec![0.0; cell.cache_size() * batch];
//!     let mut scratch = vec![0.0; cell.step_scratch_size(batch)];
//!     let step = StepForward { x: &x, prev: &prev, next: &mut next, cache: &mut cache, batch, scratch: &mut scratch };
//!     cell.step_forward(step).map(|()| next)
//! };
//! assert_ne!(step(&gru)?, step(&cho)?); // different functions of the same weights
//! assert!(gradcheck::check_cell(&mut cho, batch, 0, &Default::default()).passed());
//! # Ok::<(), rnnzoo_cell::CellError>(())
//! ```

mod gru;
mod reset_before;
#[cfg(test)]
mod tests;

pub use gru::GruCell;
pub use reset_before::GruResetBeforeCell;

/// Gate blocks, in PyTorch's order `r, z, n`.
const GATES: usize = 3;

/// Splits `s` into three consecutive blocks of `h`.
#[inline(always)]
fn blocks3<T>(s: &[T], h: usize) -> [&[T]; 3] {
    [&s[..h], &s[h..2 * h], &s[2 * h..3 * h]]
}

/// Splits `s` into three consecutive mutable blocks of `h`.
#[inline(always)]
fn blocks3_mut<T>(s: &mut [T], h: usize) -> [&mut [T]; 3] {
    let (a, rest) = s[..3 * h].split_at_mut(h);
    let (b, c) = rest.split_at_mut(h);
    [a, b, c]
}
