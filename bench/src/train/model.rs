//! The model a run trains: a stack of the registry's cells (both directions if asked, dropout
//! between layers if asked) and a linear head, in any dtype. The experiments' builders are these
//! too.

use rnnzoo::cell::{Real, seeded};
use rnnzoo::datasets::Vocabulary;
use rnnzoo::layers::head::{Activation, Dense};
use rnnzoo::layers::{Bidirectional, Layer, Merge, Model, Readout, Recurrent, Stack};
use rnnzoo::zoo::CellChoice;
use serde::{Deserialize, Serialize};

use super::config::ModelConfig;
use super::sequences::Task;

/// What a run learns, with the sizes its model needs: recorded in every checkpoint, so that
/// `eval`, `sample` and `predict` rebuild the model from the file alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Learned {
    /// A character-level language model over `vocab`: one-hot inputs, logits at every step.
    Text {
        /// The characters, in id order.
        vocab: Vocabulary,
    },
    /// A task on sequences of `features` values per step.
    Sequences {
        /// The task and its outputs.
        task: Task,
        /// Values per step.
        features: usize,
    },
}

impl Learned {
    /// The model's input width.
    pub fn input(&self) -> usize {
        match self {
            Learned::Text { vocab } => vocab.len(),
            Learned::Sequences { features, .. } => *features,
        }
    }

    /// The head's outputs.
    pub fn outputs(&self) -> usize {
        match self {
            Learned::Text { vocab } => vocab.len(),
            Learned::Sequences { task, .. } => task.outputs(),
        }
    }

    /// Where the head reads: every step for a language model and per-step regression, else the
    /// final states of the top layer's directions (`cat(h_n[-2], h_n[-1])`).
    pub fn readout(&self) -> Readout {
        match self {
            Learned::Text { .. }
            | Learned::Sequences {
                task: Task::RegressSteps { .. },
                ..
            } => Readout::EveryStep,
            Learned::Sequences { .. } => Readout::FinalStates,
        }
    }
}

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
    with_dropout(Stack::new(v)?, dropout)
}

fn with_dropout<T: Real>(stack: Stack<T>, dropout: f64) -> anyhow::Result<Stack<T>> {
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
    let head = head::<T>(hidden, outputs, true, seed)?;
    Ok(Model::new(body, head, readout)?)
}

/// The linear head, `nn.Linear(input, outputs, bias=bias)`, seeded by `seed ^ 0x4ead`.
fn head<T: Real>(input: usize, outputs: usize, bias: bool, seed: u64) -> anyhow::Result<Dense<T>> {
    Ok(Dense::new_with_bias(
        input,
        outputs,
        Activation::Identity,
        bias,
        &mut seeded(seed ^ 0x4ead),
    )?)
}

/// The model of a run: a stack of `cfg.layers` layers of `cfg.cell` (both directions when
/// `cfg.bidirectional`, outputs concatenated), dropout between layers, and a linear head sized and
/// read as `learned` says.
///
/// ```
/// use rnnzoo::datasets::Vocabulary;
/// use rnnzoo_bench::train::{model::{build, Learned}, sequences::Task, ModelConfig};
/// let text = Learned::Text { vocab: Vocabulary::from_text("abcde")? };
/// let m = build::<f32>(&ModelConfig::default(), &text, 0)?; // char-rnn's 2 x 128 LSTM
/// assert_eq!((m.body_input_size(), m.head().output_size()), (5, 5));
/// let cfg = ModelConfig { cell: "gru".into(), hidden: 8, bidirectional: true, ..ModelConfig::default() };
/// let seqs = Learned::Sequences { task: Task::Classify { classes: 3 }, features: 2 };
/// let m = build::<f64>(&cfg, &seqs, 0)?;
/// assert_eq!((m.body_input_size(), m.head().input_size(), m.head().output_size()), (2, 16, 3));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// An unknown cell or option (the registry's error lists what exists), and [`body`]'s.
pub fn build<T: Real>(cfg: &ModelConfig, learned: &Learned, seed: u64) -> anyhow::Result<Model<T>> {
    let kind: CellChoice = cfg
        .cell
        .parse()
        .map_err(|e| anyhow::anyhow!("`model.cell` = {:?}: {e}", cfg.cell))?;
    let (input, outputs) = (learned.input(), learned.outputs());
    let dirs = if cfg.bidirectional { 2 } else { 1 };
    let body = if cfg.bidirectional {
        let mut rng = seeded(seed);
        let mut layers: Vec<Box<dyn Layer<T>>> = Vec::with_capacity(cfg.layers);
        for k in 0..cfg.layers {
            let i = if k == 0 { input } else { 2 * cfg.hidden };
            let forward = Recurrent::new(kind.build::<T, _>(i, cfg.hidden, &mut rng)?);
            let backward = Recurrent::new(kind.build::<T, _>(i, cfg.hidden, &mut rng)?);
            layers.push(Box::new(Bidirectional::new(
                forward,
                backward,
                Merge::Concat,
            )?));
        }
        with_dropout(Stack::new(layers)?, cfg.dropout)?
    } else {
        body::<T>(kind, input, cfg.hidden, cfg.layers, cfg.dropout, seed)?
    };
    let head = head::<T>(dirs * cfg.hidden, outputs, cfg.head_bias, seed)?;
    Ok(Model::new(body, head, learned.readout())?)
}

/// Trainable values of a model (body and head).
///
/// ```
/// use rnnzoo::datasets::Vocabulary;
/// use rnnzoo_bench::train::{model::{build, param_count, Learned}, ModelConfig};
/// let cfg = ModelConfig { cell: "rnn-tanh".into(), hidden: 4, layers: 1, ..ModelConfig::default() };
/// let text = Learned::Text { vocab: Vocabulary::from_text("abc")? };
/// // weight_ih 4x3, weight_hh 4x4, two biases of 4; head 3x4 + 3.
/// assert_eq!(param_count(&build::<f32>(&cfg, &text, 0)?), 12 + 16 + 8 + 12 + 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn param_count<T: Real>(m: &Model<T>) -> usize {
    m.param_groups().iter().map(|g| g.params.num_values()).sum()
}
