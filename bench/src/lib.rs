//! # rnnzoo-bench: the `rnnzoo` program and the experiments
//!
//! - [`zoo`]: every cell of the zoo by name.
//! - [`reproduce`]: the experiments behind `rnnzoo reproduce` (and `make reproduce`).

pub mod reproduce;
pub mod zoo;
