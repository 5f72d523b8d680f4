//! # rnnzoo-lstm-variants: three descendants of the LSTM
//!
//! One crate for the LSTM family beyond PyTorch's `nn.LSTM` (which is `rnnzoo-lstm`), one module
//! per cell, each with its paper's equations and the choices made where papers and libraries
//! differ:
//!
//! | cell | module | paper | form | state |
//! | --- | --- | --- | --- | --- |
//! | [`PeepholeLstmCell`] | [`peephole`] | Gers, Schraudolph & Schmidhuber, JMLR 2002 | general | `[h; c]` |
//! | [`LayerNormLstmCell`] | [`layer_norm`] | Ba, Kiros & Hinton, arXiv:1607.06450, 2016 | general | `[h; c]` |
//! | [`SlstmCell`] | [`slstm`] | Beck et al., "xLSTM", NeurIPS 2024 | gated (1 head), general (more) | `[h; c; n; m]` |
//!
//! All three keep PyTorch's conventions where they apply: `weight_ih (4H, input)` and
//! `weight_hh (4H, ·)` row-major with four gate blocks, two biases `bias_ih`, `bias_hh`, named
//! extra parameters, and PyTorch's default initialisation `U(-1/sqrt(H), 1/sqrt(H))` for every
//! weight of a PyTorch shape. Each is checked against finite differences in this crate and
//! against a PyTorch implementation of its equations in `rnnzoo/tests/lstm_variants_parity.rs`.
//!
//! ```
//! use rnnzoo_cell::{gradcheck, seeded, Cell};
//! use rnnzoo_lstm_variants::{LayerNormLstmCell, PeepholeLstmCell, SlstmCell};
//!
//! let cells: Vec<Box<dyn Cell<f64>>> = vec![
//!     Box::new(PeepholeLstmCell::new(3, 4, &mut seeded(0))?),
//!     Box::new(LayerNormLstmCell::new(3, 4, &mut seeded(0))?),
//!     Box::new(SlstmCell::new(3, 4, &mut seeded(0))?),
//! ];
//! for mut cell in cells {
//!     let report = gradcheck::check_cell(&mut cell, 2, 3, &Default::default());
//!     assert!(report.passed(), "{}: {report}", cell.mode());
//! }
//! # Ok::<(), rnnzoo_cell::CellError>(())
//! ```

pub mod layer_norm;
pub mod peephole;
pub mod slstm;
#[cfg(test)]
mod tests;

pub use layer_norm::LayerNormLstmCell;
pub use peephole::PeepholeLstmCell;
pub use slstm::{ForgetGate, SlstmCell, SlstmOptions};

use rnnzoo_cell::Real;

/// Gate blocks of every cell here.
const GATES: usize = 4;

/// Adds `bias` to every column of the `rows x batch` matrix `out` (nothing without one).
fn add_bias<T: Real>(out: &mut [T], bias: Option<&[T]>, rows: usize) {
    if let Some(b) = bias {
        for col in out.chunks_exact_mut(rows) {
            col.iter_mut().zip(b).for_each(|(o, &v)| *o += v);
        }
    }
}
