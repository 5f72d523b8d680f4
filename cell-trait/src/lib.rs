//! # rnnzoo-cell: what every recurrent cell is
//!
//! This crate defines the contract between a recurrent cell and everything that uses one, so that
//! a cell written anywhere (rnnzoo's vanilla, LSTM and GRU cells, or yours, in your crate) gets the
//! unroller, bidirectional and deep stacks and the gradient checker of `rnnzoo-layers` unchanged.
//!
//! - [`Real`]: `f32` for speed, `f64` for gradient checks; everything is generic over it.
//! - [`gemm`]: strided matrix views and the one GEMM call the kernels make. Matrices are
//!   column-major, sample `b` of a batch is column `b`; PyTorch's row-major weights are read through
//!   swapped strides, never copied.
//! - [`Param`]/[`Params`]: named parameters in PyTorch's names and layout, and their gradients.
//! - [`Init`]: PyTorch's default uniform, orthogonal, identity, normal and constant initialisers,
//!   driven by a seeded RNG ([`seeded`]); and over a cell's parameters, orthogonal recurrent
//!   weights ([`orthogonal_recurrent`]), the IRNN's identity ([`irnn`]) and chrono gate biases
//!   ([`chrono`]).
//! - [`Cell`]: one step, forward and backward, in the gated two-GEMM form ([`GatedCell`], the fast
//!   path: a cell writes its elementwise step only) or as a general step ([`GeneralStep`]), and
//!   one step of either through [`CellExt`]. The traits' docs show how to write your own.
//! - [`scan`]: the third form, a whole pass at a time for elementwise recurrences
//!   ([`scan::ScanPass`]), and the parallel linear scan over time and its adjoint.
//! - [`simd`]: which vector instructions rnnzoo's own kernels use (`RNNZOO_SIMD` caps them).
//! - [`gradcheck`]: finite-difference checks (Richardson extrapolation held to its own error
//!   estimate: a 1e-6 relative error in any gradient block fails), and the check that a cell keeps
//!   the samples of a batch apart.
//! - [`batch`]: the [`Batch`]/[`Targets`] type datasets produce and training takes, here so that
//!   neither of those crates depends on the other.
//! - [`strategies`] (feature `strategies`, on by default): proptest strategies for check suites.

pub mod activation;
pub mod batch;
mod cell;
mod error;
mod gated;
pub mod gemm;
mod general;
pub mod gradcheck;
mod init;
mod params;
mod real;
pub mod scan;
pub mod simd;
mod step;
#[cfg(feature = "strategies")]
pub mod strategies;
pub mod testing;
mod tiny;
mod weights;

/// The random-number crate rnnzoo's initialisers take, so that a cell crate writes `R: Rng`
/// without depending on `rand` itself (`use rnnzoo_cell::rand::Rng;`).
pub use rand;

/// The thread-pool crate rnnzoo runs on, so that a cell crate that splits its own work (a scan
/// pass over [`scan::by_samples`] blocks) uses the same pool without depending on `rayon`
/// itself (`use rnnzoo_cell::rayon::prelude::*;`).
pub use rayon;

pub use batch::{Batch, BatchError, Targets};
pub use cell::{Cell, GateParams, StepForm, add_row_sums, broadcast_bias, h_view};
pub use error::CellError;
pub use gated::{BackwardColumn, ForwardColumn, GatedCell, PointwiseBackward, PointwiseForward};
pub use general::{GeneralStep, StepBackward, StepForward};
pub use init::{ChronoGates, IRNN_INPUT_STD, Init, chrono, irnn, orthogonal_recurrent, seeded};
pub use params::{Param, Params};
pub use real::Real;
pub use step::CellExt;
pub use tiny::{flush_tiny, tiny};
pub use weights::{GateView, GateWeights};
