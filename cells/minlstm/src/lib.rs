//! # rnnzoo-minlstm: the minimal LSTM of "Were RNNs All We Needed?"
//!
//! Feng, Tung, Ahmed, Bengio & Hajimirsadeghi, "Were RNNs All We Needed?", arXiv:2410.01201
//! (2024). The minLSTM drops the LSTM's output gate, its cell state's `tanh` and every
//! dependence of the gates on `h`, and normalises the forget and input gates so that the state's
//! scale does not grow with time ("length independence scaling"):
//!
//! ```text
//! f_t  = σ(W_f x_t + b_f)
//! i_t  = σ(W_i x_t + b_i)
//! f'_t = f_t / (f_t + i_t),   i'_t = i_t / (f_t + i_t)
//! h~_t = g(W_h x_t + b_h)
//! h_t  = f'_t ⊙ h_{t-1} + i'_t ⊙ h~_t
//! ```
//!
//! [`MinLstmCell`] is in rnnzoo's scan form ([`rnnzoo_cell::scan`]): one GEMM over all `T * B`
//! columns, then the diagonal linear recurrence with `a = f'`, `b = i' ⊙ h~`, gates and
//! recurrence fused in one loop per block of samples ([`rnnzoo_cell::scan::by_samples`]), and for
//! backward the reverse (adjoint) recurrence fused the same way and three GEMMs over the whole
//! sequence.
//!
//! # The candidate activation
//!
//! As for minGRU ([`Candidate`], shared with `rnnzoo-mingru`): [`Candidate::G`] (the default)
//! is the paper's log-space version, `h~ = g(W_h x + b_h)` with `g(x) = x + 0.5` for `x >= 0`
//! and `σ(x)` below (its appendix B: Algorithm 7, Listings 6 and 9); [`Candidate::Linear`] is
//! the plain minLSTM, `h~ = W_h x + b_h` (section 3.2.4, appendix A: Algorithm 3, Listing 3).
//! Checked against a transcription of the paper's appendices in a blog post reproducing the
//! paper; the arXiv HTML page itself could only be read to its introduction here.
//!
//! # The normalised gates, computed safely
//!
//! `f / (f + i)` is `0 / 0` in floating point once both gates underflow (pre-activations below
//! about -745 in f64, -104 in f32), and loses precision before. Where either gate is above
//! `σ(-30)` the cell forms the quotient directly (exact to a few ulp); below, as the paper's
//! log-space version does (its Algorithm 8: `diff = softplus(-k_f) - softplus(-k_i)`,
//! `log f' = -softplus(diff)`, `log i' = -softplus(-diff)`), but without leaving the plain
//! domain ([`normalised_gates`]):
//!
//! ```text
//! d  = log f - log i = softplus(-k_i) - softplus(-k_f)      (log σ(k) = -softplus(-k))
//! f' = σ(d),   i' = σ(-d) = 1 - f'
//! ```
//!
//! with `softplus(x) = max(x, 0) + log1p(exp(-|x|))`, finite for every finite pre-activation.
//!
//! # No log space needed here
//!
//! The paper's log-space recurrence (`cumsum` and `logcumsumexp`) exists because the prefix-sum
//! form of the scan divides by products of `f'` that underflow. rnnzoo's scan never divides by a
//! product of `a` (see `cell-trait/src/scan/linear.rs`), so the cell computes in the plain domain,
//! stable for any gates, and `h_0` and `h~` need not be positive.
//!
//! # Initialisation
//!
//! `nn.Linear`'s default, as the paper's code builds each block with `nn.Linear(input_size,
//! hidden_size)` and states no other: weight and bias `U(-1/sqrt(I), 1/sqrt(I))`, `I` the input
//! size (PyTorch's `nn.Linear` documentation, `k = 1/in_features`).
//!
//! ```
//! use rnnzoo_cell::{gradcheck, seeded, Cell, StepForm};
//! use rnnzoo_minlstm::{Candidate, MinLstmCell};
//!
//! let mut cell = MinLstmCell::<f64>::new(3, 5, &mut seeded(0))?;
//! assert_eq!(cell.candidate(), Candidate::G);
//! assert!(matches!(cell.form(), StepForm::Scan(_)));
//! let opts = gradcheck::Options::default();
//! assert!(gradcheck::check_cell(&mut cell, 2, 1, &opts).passed());
//! assert!(gradcheck::check_columns(&cell, 3, 1, &opts).passed());
//! # Ok::<(), rnnzoo_cell::CellError>(())
//! ```

pub mod minlstm;
#[cfg(test)]
mod tests;

pub use minlstm::{MinLstmCell, normalised_gates};
/// The candidate activation, shared with minGRU (`rnnzoo_mingru::Candidate`).
pub use rnnzoo_mingru::Candidate;
