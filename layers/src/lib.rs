//! # rnnzoo-layers: sequence layers for any cell
//!
//! [`Recurrent`] unrolls any [`rnnzoo_cell::Cell`], rnnzoo's or one from another crate, over a
//! sequence with backpropagation through time: per-sample lengths with no sorting, both
//! directions, an optional initial state, and the gradients of the input, the initial state and
//! every parameter. [`gradcheck`] checks the whole unroll against finite differences.
//!
//! The layout is PyTorch's time-major `(T, B, F)`, read as a column-major `F x (T*B)` matrix; see
//! [`unroll`].
//!
//! Every layer is used through the [`Layer`] trait: [`Layer::forward`] and [`Layer::infer`] check
//! a caller's inputs once, then run the layer's unchecked path, which is also what a composite
//! ([`Bidirectional`], [`Stack`]) calls on its parts. A [`Model`] puts a [`head`] on a stack and
//! reads it as its [`Readout`] says ([`readout`]); the [`train`] module's trainer takes the batches
//! of `rnnzoo-datasets` as they are (the shared [`rnnzoo_cell::Batch`]).
//!
//! [`regularize`] adds recurrent (variational) dropout and zoneout to a layer of any cell.
//! [`session`] runs a stack one step at a time with its state carried (streaming inference).

mod bidirectional;
pub mod checkpoint;
mod error;
pub mod file;
pub mod gradcheck;
pub mod head;
mod layer;
pub mod loss;
mod model;
pub mod optim;
pub mod readout;
pub mod regularize;
pub mod session;
mod stack;
pub mod torch;
pub mod train;
pub mod unroll;

pub use bidirectional::{Bidirectional, Merge};
pub use error::{GradMismatch, LayerError};
pub use layer::{InputGrads, Inputs, Layer, LayerTape, Output, ParamGroup};
pub use model::{Model, ModelTape, Prediction};
pub use readout::Readout;
pub use regularize::{RegularizeError, Regularized, Regularizer};
pub use stack::Stack;
pub use unroll::{Direction, Recurrent, Tape};
