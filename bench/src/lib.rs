//! # rnnzoo-bench: the `rnnzoo` program and the experiments
//!
//! - [`zoo`]: every cell of the zoo by name.
//! - [`inspect`]: what a checkpoint or `state_dict` holds (`rnnzoo inspect`).
//! - [`reproduce`]: the experiments behind `rnnzoo reproduce` (and `make reproduce`).

pub mod inspect;
pub mod reproduce;
pub mod speed;
pub mod zoo;
