//! Seeded, deterministic datasets for recurrent networks: the classic long-memory tasks, time
//! series for forecasting, and character-level text. The crate knows nothing about neural
//! networks; it produces plain numbers in the layout the rest of rnnzoo computes in.
//!
//! # Layout
//!
//! A batch of `batch` sequences of `steps` steps with `features` features per step is one flat
//! vector of `features * steps * batch` values, where
//!
//! ```text
//! step t, sample b, feature f   is at   (t * batch + b) * features + f
//! ```
//!
//! ([`time_major_index`]). Read as a matrix, it is the column-major `features x (steps * batch)`
//! matrix whose column `t * batch + b` is sample `b` at step `t`: all samples of step `t` form
//! the contiguous block of columns `[t * batch, (t + 1) * batch)`. Byte for byte it is
//! PyTorch's contiguous time-major `(T, B, F)` tensor (`batch_first=False`). Targets use the
//! same convention (see [`Targets`]); class indices per step sit at `t * batch + b`.
//!
//! Variable-length batches are padded with zeros to the longest sample and carry
//! `lengths: Vec<usize>` (sample `b` is valid for steps `0..lengths[b]`); no sorting by length
//! ([`pad_sequences`]).
//!
//! # Contents
//!
//! | task | module | inputs | targets |
//! |------|--------|--------|---------|
//! | adding problem | [`AddingProblem`] | value, marker | sum, at the last step |
//! | copy memory | [`CopyMemory`] | one-hot symbols | class per step |
//! | temporal order (6a, 6b) | [`TemporalOrder`] | one-hot symbols, variable length | class per sample |
//! | embedded Reber grammar | [`Reber`] | one-hot symbols, variable length | allowed next symbols, multi-hot |
//! | Mackey-Glass, noisy sines | [`MackeyGlass`], [`NoisySines`], [`Windows`] | window of values | next value |
//! | MNIST-1D (Greydanus & Kobak 2020), embedded | [`Mnist1d`] | one value per step, length 40 | digit class per sample |
//! | characters | [`Vocabulary`], [`batchify`], [`shakespeare`] | ids or one-hot | next character per step |
//!
//! The synthetic tasks implement [`Task`]: `sample(batch, rng)` draws a fresh [`SeqBatch`] and
//! `baseline_loss()` gives the loss a memoryless model reaches, the line a model must beat.
//!
//! # Determinism and precision
//!
//! All randomness comes from a generator the caller passes, or from [`rng`]`(seed)`
//! (ChaCha8, whose output is the same on every platform): the same seed gives the same data.
//! Everything is computed in `f64`; [`SeqBatch::cast`] / [`SeqBatch::to_f32`] convert to any
//! [`Real`] (`f32`, `f64`). [`SeqBatch`] is `rnnzoo_cell::Batch`, the type rnnzoo's trainer
//! takes: this crate depends on `rnnzoo-cell` for that type alone.
//!
//! # Errors
//!
//! Parameters from the caller are checked and rejected with a [`DatasetError`]; nothing here
//! panics on caller input.
//!
//! ```
//! use rnnzoo_datasets::{rng, AddingProblem, Targets, Task, time_major_index};
//! let task = AddingProblem::new(50)?;
//! let batch = task.sample(4, &mut rng(0))?;
//! // Marker channel (feature 1) of sample 3 over time:
//! let markers: Vec<f64> = (0..50)
//!     .map(|t| batch.inputs[time_major_index(t, 3, 1, batch.batch, batch.features)])
//!     .collect();
//! assert_eq!(markers.iter().sum::<f64>(), 2.0);
//! # Ok::<(), rnnzoo_datasets::DatasetError>(())
//! ```

#![deny(missing_docs)]

mod adding;
mod batch;
mod copy_memory;
mod error;
mod mackey_glass;
mod mnist1d;
mod reber;
mod split;
mod task;
mod temporal_order;
mod text;
mod timeseries;

pub use adding::{ADDING_BASELINE_MSE, AddingProblem};
pub use batch::{Padded, SeqBatch, Targets, pad_sequences, time_major_index};
pub use copy_memory::CopyMemory;
pub use error::{DatasetError, Result};
pub use mackey_glass::MackeyGlass;
pub use mnist1d::Mnist1d;
pub use reber::{
    REBER_SYMBOLS, Reber, generate_embedded_reber, generate_reber, is_valid_embedded_reber,
    is_valid_reber, reber_allowed_next, reber_symbol_id,
};
pub use rnnzoo_cell::{BatchError, Real};
pub use split::split_at_fraction;
pub use task::{Task, rng};
pub use temporal_order::TemporalOrder;
pub use text::{Batchified, CharCorpus, Chunks, TokenChunk, Vocabulary, batchify, shakespeare};
pub use timeseries::{NoisySines, WindowBatches, Windows, forecast_split};

/// The `rand` crate this crate's generic functions take generators from, re-exported so that
/// callers name the same version.
///
/// ```
/// use rnnzoo_datasets::rand::Rng;
/// let x: f64 = rnnzoo_datasets::rng(0).random();
/// assert!((0.0..1.0).contains(&x));
/// ```
pub use rand;

/// The generator [`rng`] returns.
///
/// ```
/// use rnnzoo_datasets::rand::SeedableRng;
/// let r = rnnzoo_datasets::ChaCha8Rng::seed_from_u64(1);
/// assert_eq!(r, rnnzoo_datasets::rng(1));
/// ```
pub use rand_chacha::ChaCha8Rng;
