//! The integration tests of this crate, one module per file, in one test binary: the crate and
//! its generic code are compiled and linked once rather than once per file, which is most of
//! `make test`'s build time. Files that need a process of their own (a global allocator, a
//! child process re-running the binary) stay separate binaries, listed in Cargo.toml.

mod adding;
mod batch;
mod copy_memory;
mod mackey_glass;
mod reber;
mod temporal_order;
mod text;
mod timeseries;
