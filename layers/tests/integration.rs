//! The integration tests of this crate, one module per file, in one test binary: the crate and
//! its generic code are compiled and linked once rather than once per file, which is most of
//! `make test`'s build time. Files that need a process of their own (a global allocator, a
//! child process re-running the binary) stay separate binaries, listed in Cargo.toml.

mod common;
mod custom_cell;
mod custom_scan_cell;
mod fuzz_regressions;
mod head_loss;
mod loss_options;
mod malformed_calls;
mod readout;
mod regularize;
mod stack;
mod torch_interop;
mod train;
mod unroll_errors;
mod unroll_gradcheck;
mod validate_once;
