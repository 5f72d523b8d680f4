//! # rnnzoo-minimal: minimal gated cells
//!
//! Two cells with a single gate, in PyTorch's parameter style (`weight_ih`, `weight_hh`,
//! `bias_ih`, `bias_hh`, gate blocks stacked along the rows, `U(-1/sqrt(H), 1/sqrt(H))` by
//! default), each with its paper's equations in its docs:
//!
//! | cell | paper | gate blocks | step form |
//! | --- | --- | --- | --- |
//! | [`MguCell`] | Zhou, Wu, Zhang & Zhou 2016, minimal gated unit | `f, n` | general (the gate scales `h` before the candidate's product) |
//! | [`UgrnnCell`] | Collins, Sohl-Dickstein & Sussillo 2017, update-gate RNN | `g, c` | gated two-GEMM, `d_gh = d_gi` (the fast path) |
//!
//! Both carry `h` alone (`state_size = H`), and both get the unroller, bidirectional and deep
//! stacks and the gradient checker of `rnnzoo-layers` through the [`Cell`](rnnzoo_cell::Cell)
//! trait. One family, one crate: the two differ only in where their one gate acts.
//!
//! ```
//! use rnnzoo_cell::{gradcheck, seeded, Cell};
//! use rnnzoo_minimal::{MguCell, UgrnnCell};
//!
//! let opts = gradcheck::Options::default();
//! let mut mgu = MguCell::<f64>::new(3, 5, &mut seeded(0))?;
//! let mut ugrnn = UgrnnCell::<f64>::new(3, 5, &mut seeded(0))?;
//! // The same names and shapes: G = 2 blocks each.
//! assert!(mgu.params().same_layout(Cell::params(&ugrnn)));
//! assert!(gradcheck::check_cell(&mut mgu, 2, 1, &opts).passed());
//! assert!(gradcheck::check_cell(&mut ugrnn, 2, 1, &opts).passed());
//! # Ok::<(), rnnzoo_cell::CellError>(())
//! ```

pub mod mgu;
#[cfg(test)]
mod tests;
pub mod ugrnn;

pub use mgu::MguCell;
pub use ugrnn::UgrnnCell;
