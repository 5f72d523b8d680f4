//! The program's integration tests, one module per file, in one test binary: the program's crate
//! graph is linked once rather than once per file (see TESTING.md, "How the tests are built").

mod cells;
mod cli;
mod common;
mod inspect;
mod plot;
mod predict;
mod reproduce;
mod speed_case;
mod train;
mod train_sequences;
// Built with `--features mpi` (`make test` does when OpenMPI is installed): runs under mpirun.
#[cfg(feature = "mpi")]
mod mpi;
