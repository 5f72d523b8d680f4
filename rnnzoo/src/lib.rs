//! # rnnzoo: recurrent neural networks on the CPU, exact to PyTorch
//!
//! The one dependency a user adds. It re-exports every crate of the workspace under a short
//! module name, and holds what needs to know all the cells at once:
//!
//! - [`zoo`]: the registry, every cell kind by name with its metadata (crate, step form,
//!   PyTorch mode, paper, state layout, options) and a factory.
//! - [`torch`]: PyTorch `state_dict`s (safetensors) to a [`layers::Stack`], or to a whole
//!   [`layers::Model`] with its `Linear` head; and back.
//!
//! | module | crate | what it is |
//! | --- | --- | --- |
//! | [`cell`] | `rnnzoo-cell` | the `Cell` trait, `Real`, GEMM, `Params`, initialisers, gradient checks |
//! | [`vanilla`] | `rnnzoo-vanilla` | the Elman cell, tanh or relu |
//! | [`lstm`] | `rnnzoo-lstm` | the LSTM cell |
//! | [`gru`] | `rnnzoo-gru` | the GRU cells (PyTorch's, and the original reset-before) |
//! | [`orthogonal`] | `rnnzoo-orthogonal` | expRNN: an orthogonal recurrent matrix `exp(S)`, `S` skew-symmetric, and modReLU |
//! | [`lstm_variants`] | `rnnzoo-lstm-variants` | the peephole and layer-norm LSTMs, xLSTM's sLSTM |
//! | [`minimal`] | `rnnzoo-minimal` | minimal gated cells: MGU, UGRNN |
//! | [`dynamical`] | `rnnzoo-dynamical` | cells from discretised ODEs: coRNN, AntisymmetricRNN (plain, gated) |
//! | [`qrnn`] | `rnnzoo-qrnn` | the quasi-recurrent network (fo-pooling, window 1 or 2), a linear scan |
//! | [`sru`] | `rnnzoo-sru` | the simple recurrent unit, an elementwise loop after one GEMM |
//! | [`indrnn`] | `rnnzoo-indrnn` | IndRNN: a diagonal (elementwise) recurrence, relu, the bound `\|u\| <= 2^(1/T)` |
//! | [`lru`] | `rnnzoo-lru` | the Linear Recurrent Unit: a complex diagonal linear recurrence, computed as a parallel scan |
//! | [`mingru`] | `rnnzoo-mingru` | minGRU (Feng et al. 2024), a scan-form cell |
//! | [`minlstm`] | `rnnzoo-minlstm` | minLSTM (Feng et al. 2024), a scan-form cell |
//! | [`layers`] | `rnnzoo-layers` | the unroller, bidirectional and deep stacks, heads, losses, optimizers, training, checkpoints |
//! | [`datasets`] | `rnnzoo-datasets` | seeded synthetic tasks, time series, text |
//!
//! Paths are the crates' own below the module: `rnnzoo_layers::Stack` is
//! `rnnzoo::layers::Stack`. There is no flat prelude: names such as `Activation` exist in more
//! than one crate, and the module says which.
//!
//! ```
//! use rnnzoo::layers::{Inputs, Layer, Recurrent};
//! use rnnzoo::zoo::CellChoice;
//!
//! let cell = CellChoice::named("gru")?.build::<f32, _>(3, 8, &mut rnnzoo::cell::seeded(0))?;
//! let layer = Recurrent::new(cell);
//! let out = layer.infer(Inputs::new(&[0.5; 3 * 4], 4, 1))?;
//! assert_eq!(out.output.len(), 8 * 4);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use rnnzoo_cell as cell;
pub use rnnzoo_datasets as datasets;
pub use rnnzoo_dynamical as dynamical;
pub use rnnzoo_gru as gru;
pub use rnnzoo_indrnn as indrnn;
pub use rnnzoo_layers as layers;
pub use rnnzoo_lru as lru;
pub use rnnzoo_lstm as lstm;
pub use rnnzoo_lstm_variants as lstm_variants;
pub use rnnzoo_mingru as mingru;
pub use rnnzoo_minimal as minimal;
pub use rnnzoo_minlstm as minlstm;
pub use rnnzoo_orthogonal as orthogonal;
pub use rnnzoo_qrnn as qrnn;
pub use rnnzoo_sru as sru;
pub use rnnzoo_vanilla as vanilla;

pub mod torch;
pub mod zoo;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
