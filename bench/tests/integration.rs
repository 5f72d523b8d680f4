//! The program's integration tests, one module per file, in one test binary: the program's crate
//! graph is linked once rather than once per file (see TESTING.md, "How the tests are built").

mod cli;
mod common;
mod predict;
mod reproduce;
mod train;
