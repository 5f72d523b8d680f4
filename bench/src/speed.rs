//! `rnnzoo speed`: how fast a layer or stack runs, forward and forward+backward.
//!
//! - [`case`]: what is measured ([`Case`]: cell, sizes, depth, directions), the flop count and
//!   the standard cases of `make bench-compare` ([`Case::standard`]).
//! - [`run`]: the measurement ([`measure`]): median times of inference and of training, in a
//!   rayon pool of the requested size ([`with_threads`]), and peak heap ([`memory`]).
//! - [`mod@ceiling`]: the GEMM ceiling, a large product through the same backend.
//! - [`streaming`]: one step at a time with the state carried ([`measure_streaming`]).
//! - [`trainer`]: a whole training step ([`measure_trainer`]).
//!
//! GFLOP/s count the forward pass's matrix products, `2 T B G H (I + H)` per layer and
//! direction, and three times that for forward+backward (as the design notes do), so numbers are
//! comparable with PyTorch's over the same work.

pub mod case;
pub mod ceiling;
pub mod memory;
pub mod run;
pub mod streaming;
pub mod trainer;

pub use case::{Case, Dtype};
pub use ceiling::{Ceiling, ceiling};
pub use run::{Measurement, Memory, Options, measure, with_threads};
pub use streaming::{Streaming, measure_streaming};
pub use trainer::{TrainStep, measure_trainer};
