//! # rnnzoo-orthogonal: orthogonal recurrent networks
//!
//! The expRNN of Lezcano-Casado & Martinez-Rubio, "Cheap orthogonal constraints in neural
//! networks: a simple parametrization of the orthogonal and unitary group", ICML 2019: a relu-like
//! RNN whose recurrent matrix is orthogonal by construction, the exponential of a skew-symmetric
//! matrix, trained by plain gradient descent on the skew-symmetric parameter (Section 3 and 4;
//! the exponential map `exp: Skew(n) -> SO(n)` is onto, Section 3.2). With the authors' code
//! (github.com/Lezcano/expRNN, `orthogonal.py`, class `OrthogonalRNN` with `mode="static"` and
//! `param=expm`, as `1_copying.py --mode exprnn` builds it) the step on a batch of row vectors is
//! `modrelu(x W_ih^T + h exp(S), b)`; in rnnzoo's column form:
//!
//! ```text
//! S    = triu(A, 1) - triu(A, 1)^T              (skew-symmetric; A = skew_hh)
//! W_hh = exp(S)^T = exp(-S)                     (orthogonal)
//! z    = W_ih x_t + W_hh h_{t-1}
//! h_t  = modrelu(z, b) = sign(z) * relu(|z| + b)    (b = bias_modrelu; Arjovsky et al. 2016, eq. 8)
//! ```
//!
//! The paper writes the recurrence as `h_{t+1} = sigma(B h_t + T x_{t+1})` with `B = exp(A)`;
//! the code's row-vector product makes the matrix applied to a column `h` `exp(S)^T`. rnnzoo
//! follows the code, so the authors' parameters and initialisations mean the same thing here.
//!
//! The gradient with respect to `A` goes through the matrix exponential: by the adjoint of its
//! Frechet derivative, `dL/dS = L_exp(S^T, dL/dexp(S))`, computed from a block-triangular
//! exponential as the authors do ([`expm`]). `exp(S)` costs `O(H^3)`, so the cell computes it
//! once per pass and the adjoint once per backward pass, on the sum over steps of `dL/dW_hh`
//! (the per-pass hooks of [`GeneralStep`](rnnzoo_cell::GeneralStep)): a step costs what an Elman
//! RNN's costs. The `dynamic` mode of the authors' code (dtriv, a change of base every K
//! optimiser steps; Lezcano-Casado, NeurIPS 2019) is an optimiser's schedule, not a cell, and is
//! not provided.
//!
//! ```
//! use rnnzoo_cell::{seeded, Cell};
//! use rnnzoo_orthogonal::{ExpRnnCell, SkewInit};
//! let cell = ExpRnnCell::<f32>::new(4, 6, SkewInit::Cayley, &mut seeded(1))?;
//! assert_eq!((cell.mode(), cell.state_size(), cell.cache_size()), ("EXPRNN", 6, 6));
//! # Ok::<(), rnnzoo_cell::CellError>(())
//! ```

/// The linear-algebra crate of [`expm`]'s matrices (`nalgebra::DMatrix`), re-exported so that
/// callers use the same version.
pub use nalgebra;

pub mod expm;
mod exprnn;
mod init;
pub mod modrelu;
#[cfg(test)]
mod tests;

pub use exprnn::ExpRnnCell;
pub use init::SkewInit;
