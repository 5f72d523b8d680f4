//! # rnnzoo-bench: the `rnnzoo` program and the experiments
//!
//! Everything a library user needs is in the `rnnzoo` crate (the registry, the layers, the
//! PyTorch loader); this crate is the command line, the experiments and the benches on top.
//!
//! - [`cells`]: the registry as `rnnzoo cells` prints it.
//! - [`inspect`]: what a checkpoint or `state_dict` holds (`rnnzoo inspect`).
//! - [`npy`]: `.npy` files as tensors.
//! - [`predict`]: a `state_dict` run on an input file, written as PyTorch returns it
//!   (`rnnzoo predict`).
//! - [`train`], [`eval`], [`sample`]: a character-level language model on a user's text
//!   (`rnnzoo train`, `rnnzoo eval`, `rnnzoo sample`).
//! - [`reproduce`]: the experiments behind `rnnzoo reproduce` (and `make reproduce`).
//! - [`speed`]: `rnnzoo speed` and the benches' cases.

pub mod cells;
pub mod eval;
pub mod inspect;
pub mod npy;
pub mod predict;
pub mod reproduce;
pub mod sample;
pub mod speed;
pub mod train;
