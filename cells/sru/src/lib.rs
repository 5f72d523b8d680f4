//! # rnnzoo-sru: the simple recurrent unit
//!
//! [`SruCell`]: Lei, Zhang, Wang, Dai & Artzi 2018, "Simple Recurrent Units for Highly
//! Parallelizable Recurrence" (EMNLP 2018, arXiv:1709.02755), in the scan form
//! ([`StepForm::Scan`](rnnzoo_cell::StepForm::Scan)): one input GEMM over the whole sequence
//! for the candidate, both gates' input parts and (when the sizes differ) the highway
//! projection, then an elementwise loop over time. The gates read `c_{t-1}` through the vectors
//! `v_f`, `v_r`, so the recurrence is not linear in `c` and is not
//! [`scan::linear`](rnnzoo_cell::scan::linear). See the [`SruCell`] module docs for the
//! equations, the parameter layout and the initialisation with their sources.
//!
//! ```
//! use rnnzoo_cell::{gradcheck, seeded, Cell};
//! use rnnzoo_sru::SruCell;
//!
//! let mut cell = SruCell::<f64>::new(5, 5, &mut seeded(0))?;
//! let names: Vec<&str> = cell.params().names().collect();
//! assert_eq!(names, ["weight_ih", "weight_c", "bias_ih"]);
//! assert!(gradcheck::check_cell(&mut cell, 2, 1, &Default::default()).passed());
//! # Ok::<(), rnnzoo_cell::CellError>(())
//! ```

pub mod sru;
#[cfg(test)]
mod tests;

pub use sru::SruCell;
