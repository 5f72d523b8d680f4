//! # rnnzoo-lru: the Linear Recurrent Unit
//!
//! The LRU of Orvieto, Smith, Gu, Fernando, Gulcehre, Pascanu & De, "Resurrecting Recurrent
//! Neural Networks for Long Sequences", ICML 2023 (arXiv:2303.06349): a linear recurrence with a
//! complex diagonal transition, exponentially parametrised and normalised, read out by a complex
//! projection and a skip connection. [`LruCell`] is the recurrent block alone (the paper's
//! Figure 1 wraps it with normalisation, a GLU and a skip; those are other layers' business).
//!
//! ```text
//! λ_j  = exp(-exp(ν_j) + i exp(θ_j))          ν = nu_log, θ = theta_log   (N units)
//! γ_j  = exp(γlog_j)                          γlog = gamma_log
//! x_k  = λ ⊙ x_{k-1} + γ ⊙ (B u_k)            B = B_re + i B_im   (N x I), x_k ∈ C^N
//! y_k  = Re(C x_k) + D u_k                    C = C_re + i C_im   (H x N), D (H x I)
//! ```
//!
//! | item | what |
//! | --- | --- |
//! | [`LruCell`] (module [`lru`]) | the cell: [`StepForm::Scan`](rnnzoo_cell::StepForm::Scan), mode `"LRU"`; the module [`lru`] has the sources, the layouts, the choice of `D` and the initialisation |
//! | [`LruOptions`] | the state width `N` and the initialisation's ring and phase |
//! | [`scan`] | the complex diagonal linear scan and its adjoint, chunked over time on the rayon pool |
//!
//! ```
//! use rnnzoo_cell::{gradcheck, seeded, Cell};
//! use rnnzoo_lru::{LruCell, LruOptions};
//!
//! let mut cell = LruCell::<f64>::with_options(3, 4, LruOptions::default().with_state(6), &mut seeded(0))?;
//! assert_eq!((cell.hidden_size(), cell.state_size()), (4, 4 + 2 * 6)); // [y; Re x; Im x]
//! assert!(cell.eigenvalues().iter().all(|&(re, im)| re * re + im * im < 1.0));
//! assert!(gradcheck::check_cell(&mut cell, 2, 1, &Default::default()).passed());
//! # Ok::<(), rnnzoo_cell::CellError>(())
//! ```

pub mod lru;
pub mod scan;
#[cfg(test)]
mod tests;

pub use lru::{DEFAULT_MAX_PHASE, DEFAULT_R_MAX, DEFAULT_R_MIN, LruCell, LruOptions};
