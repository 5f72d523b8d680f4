//! # rnnzoo-bench: the `rnnzoo` program and the experiments
//!
//! Everything a library user needs is in the `rnnzoo` crate (the registry, the layers, the
//! PyTorch loader); this crate is the command line, the experiments and the benches on top.
//!
//! - [`cells`]: the registry as `rnnzoo cells` prints it.
//! - [`inspect`]: what a checkpoint or `state_dict` holds (`rnnzoo inspect`).
//! - [`reproduce`]: the experiments behind `rnnzoo reproduce` (and `make reproduce`).
//! - [`speed`]: `rnnzoo speed` and the benches' cases.

pub mod cells;
pub mod inspect;
pub mod reproduce;
pub mod speed;
