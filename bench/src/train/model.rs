//! The model a run trains: a stack of the registry's cells (dropout between layers, if asked) and
//! a linear head, in any dtype. The experiments' builders are these too.

use rnnzoo::cell::{Real, seeded};
use rnnzoo::layers::head::{Activation, Dense};
use rnnzoo::layers::{Layer, Model, Readout, Recurrent, Stack};
use rnnzoo::zoo::CellChoice;

use super::config::ModelConfig;

/// A stack of `layers` layers of `kind`, `hidden` units each, with `dropout` on every layer's
/// output but the last. The cells' weights come from one random source seeded by `seed`, drawn
/// layer by layer.
///
/// ```
/// use rnnzoo::layers::Layer;
/// let s = rnnzoo_bench::train::model::body::<f64>("gru".parse()?, 3, 8, 2, 0.0, 0)?;
/// assert_eq!((s.input_size(), s.output_size()), (3, 8));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// A zero size, or a dropout outside `[0, 1)`.
pub fn body<T: Real>(
    kind: CellChoice,
    input: usize,
    hidden: usize,
    layers: usize,
    dropout: f64,
    seed: u64,
) -> anyhow::Result<Stack<T>> {
    let mut rng = seeded(seed);
    let mut v: Vec<Box<dyn Layer<T>>> = Vec::with_capacity(layers);
    for k in 0..layers {
        let i = if k == 0 { input } else { hidden };
        v.push(Box::new(Recurrent::new(
            kind.build::<T, _>(i, hidden, &mut rng)?,
        )));
    }
    let stack = Stack::new(v)?;
    Ok(if dropout > 0.0 {
        stack.with_dropout(dropout)?
    } else {
        stack
    })
}

/// A model: [`body`] and a linear head with `outputs` outputs (regression values or logits),
/// reading every step or the last one. The head's weights are seeded by `seed ^ 0x4ead`.
///
/// ```
/// use rnnzoo::layers::Readout;
/// let m = rnnzoo_bench::train::model::stacked::<f32>("lstm".parse()?, 3, 8, 1, 2, Readout::LastStep, 0.0, 0)?;
/// assert_eq!(m.head().output_size(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// As [`body`].
#[allow(clippy::too_many_arguments)]
pub fn stacked<T: Real>(
    kind: CellChoice,
    input: usize,
    hidden: usize,
    layers: usize,
    outputs: usize,
    readout: Readout,
    dropout: f64,
    seed: u64,
) -> anyhow::Result<Model<T>> {
    let body = body::<T>(kind, input, hidden, layers, dropout, seed)?;
    let head = Dense::new(
        hidden,
        outputs,
        Activation::Identity,
        &mut seeded(seed ^ 0x4ead),
    )?;
    Ok(Model::new(body, head, readout)?)
}

/// The language model of a run: one-hot inputs over a vocabulary of `vocab` characters, logits
/// over it at every step.
///
/// ```
/// use rnnzoo_bench::train::{model::build, ModelConfig};
/// let m = build::<f32>(&ModelConfig::default(), 65, 0)?; // char-rnn's 2 x 128 LSTM
/// assert_eq!((m.body_input_size(), m.head().output_size()), (65, 65));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// An unknown cell or option (the registry's error lists what exists), and [`body`]'s.
pub fn build<T: Real>(cfg: &ModelConfig, vocab: usize, seed: u64) -> anyhow::Result<Model<T>> {
    let kind: CellChoice = cfg
        .cell
        .parse()
        .map_err(|e| anyhow::anyhow!("`model.cell` = {:?}: {e}", cfg.cell))?;
    stacked::<T>(
        kind,
        vocab,
        cfg.hidden,
        cfg.layers,
        vocab,
        Readout::EveryStep,
        cfg.dropout,
        seed,
    )
}

/// Trainable values of a model (body and head).
///
/// ```
/// use rnnzoo_bench::train::{model::{build, param_count}, ModelConfig};
/// let cfg = ModelConfig { cell: "rnn-tanh".into(), hidden: 4, layers: 1, ..ModelConfig::default() };
/// // weight_ih 4x3, weight_hh 4x4, two biases of 4; head 3x4 + 3.
/// assert_eq!(param_count(&build::<f32>(&cfg, 3, 0)?), 12 + 16 + 8 + 12 + 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn param_count<T: Real>(m: &Model<T>) -> usize {
    m.param_groups().iter().map(|g| g.params.num_values()).sum()
}
