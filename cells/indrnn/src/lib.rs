//! # rnnzoo-indrnn: the independently recurrent neural network
//!
//! [`IndRnnCell`], the IndRNN of Li, Li, Cook, Zhu & Gao, "Independently Recurrent Neural
//! Network (IndRNN): Building A Longer and Deeper RNN", CVPR 2018 (arXiv:1803.04831): every unit
//! sees its own previous value only, through one scalar recurrent weight,
//!
//! ```text
//! h_t = σ(W x_t + u ⊙ h_{t-1} + b)            (the paper's eq. 2; σ = relu by default, or tanh)
//! ```
//!
//! so the recurrence is diagonal: no hidden-to-hidden product at all. The cell is in the scan
//! form ([`StepForm::Scan`](rnnzoo_cell::StepForm::Scan)): one GEMM computes `W x_t + b` for
//! every step of a pass, then an elementwise loop runs over time (split over lanes on the rayon
//! pool when the pass is large), and backward is the reverse loop and three GEMMs over the whole
//! sequence. The paper's bound on `u` (`|u| <= 2^(1/T)`) is an option, enforced after every
//! optimizer update through [`Cell::constrain`](rnnzoo_cell::Cell::constrain); see
//! [`IndRnnOptions`] and the [`indrnn`] module for the equations, the bound, the initialisation
//! and where each was read.
//!
//! ```
//! use rnnzoo_cell::{gradcheck, seeded, Cell, StepForm};
//! use rnnzoo_indrnn::{IndRnnCell, IndRnnOptions};
//!
//! let opts = IndRnnOptions { t_max: 100, ..IndRnnOptions::default() };
//! let mut cell = IndRnnCell::<f64>::with_options(3, 5, opts, &mut seeded(0))?;
//! assert!(matches!(cell.form(), StepForm::Scan(_)));
//! assert_eq!(cell.mode(), "INDRNN");
//! // u starts inside the bound 2^(1/100).
//! let bound = 2f64.powf(1.0 / 100.0);
//! assert!(cell.params().get("weight_hh").unwrap().data().iter().all(|u| u.abs() <= bound));
//! assert!(gradcheck::check_cell(&mut cell, 2, 1, &gradcheck::Options::default()).passed());
//! # Ok::<(), rnnzoo_cell::CellError>(())
//! ```

pub mod indrnn;
#[cfg(test)]
mod tests;

pub use indrnn::{IndRnnCell, IndRnnOptions, Nonlinearity, RecurrentInit, bound};
