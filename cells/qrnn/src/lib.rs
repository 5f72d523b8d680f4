//! # rnnzoo-qrnn: the quasi-recurrent neural network
//!
//! [`QrnnCell`]: Bradbury, Merity, Xiong & Socher 2017, "Quasi-Recurrent Neural Networks"
//! (arXiv:1611.01576), with fo-pooling and a causal convolution of width 1 or 2 over time, in the
//! scan form ([`StepForm::Scan`](rnnzoo_cell::StepForm::Scan)): everything that touches a
//! weight is one causal-convolution GEMM over the whole sequence, and the recurrence
//! `c_t = f_t c_{t-1} + (1 - f_t) z_t` is the parallel linear scan
//! [`rnnzoo_cell::scan::linear`]. See the [`QrnnCell`] module docs for the equations, the
//! parameter layout (PyTorch style, `weight_ih` row blocks `z, f, o`) and where each choice was
//! checked.
//!
//! ```
//! use rnnzoo_cell::{gradcheck, seeded, Cell};
//! use rnnzoo_qrnn::QrnnCell;
//!
//! let mut cell = QrnnCell::<f64>::new(3, 5, &mut seeded(0))?;
//! assert_eq!(cell.params().get("weight_ih").unwrap().shape(), &[15, 3]);
//! assert!(gradcheck::check_cell(&mut cell, 2, 1, &Default::default()).passed());
//! # Ok::<(), rnnzoo_cell::CellError>(())
//! ```

pub mod qrnn;
#[cfg(test)]
mod tests;

pub use qrnn::QrnnCell;
