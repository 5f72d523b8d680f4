//! The integration tests of this crate, one module per file, in one test binary: the crate and
//! its generic code are compiled and linked once rather than once per file, which is most of
//! `make test`'s build time. Files that need a process of their own (a global allocator, a
//! child process re-running the binary) stay separate binaries, listed in Cargo.toml.

mod common;
mod composite_gradcheck;
mod determinism;
mod dynamical_parity;
mod family_parity;
mod gradcheck_sensitivity;
mod indrnn_parity;
mod init_options;
mod lru_parity;
mod lstm_proj;
mod lstm_variants_parity;
mod malformed_calls;
mod minimal_parity;
mod orthogonal_parity;
mod readout;
mod regularize;
mod scan_min_parity;
mod scan_qs_parity;
mod torch;
mod unroll_torch_parity;
mod zoo;
