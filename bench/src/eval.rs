//! `rnnzoo eval --checkpoint C --text F` (bits per character of a language model) or
//! `--data F` (accuracy or mean squared error of a model of sequences).
//!
//! # A text
//!
//! The text is scored as one stream, the state carried from its first character to its last, so
//! every character but the first is predicted from all of the text before it; the figure is the
//! mean negative log2-likelihood of exactly those characters ([`TextEvaluation::predicted`] of
//! them).
//!
//! Characters the model never saw (not in its vocabulary) are **skipped**: they are removed from
//! the stream before scoring, counted in [`TextEvaluation::unknown`] and listed. The model has no
//! symbol for them, so no probability could be given to them; scoring them against a reserved
//! symbol would need one at training time. The figure is then the bits per character of the
//! known characters of the text, and says so.
//!
//! # Sequences
//!
//! The file is read with the run's own layout (`data.target_columns`, `data.features`) and task,
//! and every sequence in it is scored: the mean loss, and the accuracy for a classifier.

use std::path::Path;

use serde::Serialize;

use crate::speed::Dtype;
use crate::train::model::Learned;
use crate::train::sequences::{Layout, Sequences, Task, TaskKind};
use crate::train::source::score;
use crate::train::{Checkpoint, corpus::read_text, text::bits_per_char};

/// Steps per forward call: the state is carried between calls, so this changes only speed.
const CHUNK: usize = 256;

/// Sequences per forward call when scoring sequences.
const BATCH: usize = 64;

/// What `rnnzoo eval --text` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextEvaluation {
    /// Mean negative log2-likelihood of the predicted characters.
    pub bits_per_char: f64,
    /// The same in nats.
    pub nats_per_char: f64,
    /// Characters predicted: the known characters of the text but the first.
    pub predicted: usize,
    /// Characters of the text not in the model's vocabulary, skipped.
    pub unknown: usize,
    /// The distinct unknown characters, in order of first appearance (at most 20).
    pub unknown_chars: Vec<char>,
    /// Characters in the text.
    pub chars: usize,
}

/// What `rnnzoo eval --data` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataEvaluation {
    /// Mean loss: cross-entropy per sequence, or mean squared error.
    pub loss: f64,
    /// Classification: the fraction of sequences whose largest logit is their class.
    pub accuracy: Option<f64>,
    /// Regression: the mean squared error (the loss).
    pub mse: Option<f64>,
    /// Sequences scored.
    pub sequences: usize,
}

/// Scores the text at `text` with the language model at `checkpoint`.
///
/// # Errors
///
/// [`crate::train::RunError`] for a file that is not a checkpoint of `rnnzoo train`; a checkpoint of a
/// model of sequences; the text's ([`crate::train::corpus::CorpusError`]); a text with fewer than 2
/// known characters.
pub fn eval_text(checkpoint: &Path, text: &Path) -> anyhow::Result<TextEvaluation> {
    let ckpt = Checkpoint::read(checkpoint)?;
    let record = &ckpt.record;
    let Some(vocab) = record.vocab() else {
        anyhow::bail!(
            "{}: a model of sequences; score it with --data, not --text",
            checkpoint.display()
        );
    };
    let text = read_text(text)?;
    let (mut ids, mut unknown, mut unknown_chars) = (Vec::new(), 0, Vec::new());
    for c in text.chars() {
        match vocab.id(c) {
            Some(id) => ids.push(id),
            None => {
                unknown += 1;
                if unknown_chars.len() < 20 && !unknown_chars.contains(&c) {
                    unknown_chars.push(c);
                }
            }
        }
    }
    anyhow::ensure!(
        ids.len() >= 2,
        "the text has {} characters of the model's vocabulary; at least 2 are needed to predict one",
        ids.len()
    );
    let score = match record.config.model.dtype {
        Dtype::F32 => bits_per_char(&ckpt.model::<f32>()?, &ids, 1, CHUNK)?,
        Dtype::F64 => bits_per_char(&ckpt.model::<f64>()?, &ids, 1, CHUNK)?,
    };
    Ok(TextEvaluation {
        bits_per_char: score.bits_per_char,
        nats_per_char: score.nats_per_char,
        predicted: score.predicted,
        unknown,
        unknown_chars,
        chars: text.chars().count(),
    })
}

/// Scores every sequence of the file at `data` with the model at `checkpoint`.
///
/// # Errors
///
/// [`crate::train::RunError`] for a file that is not a checkpoint of `rnnzoo train`; a language model's
/// checkpoint; the file's ([`crate::train::sequences::DataError`]); a file whose features or task do
/// not fit the model (a class the model does not have, other outputs).
pub fn eval_data(checkpoint: &Path, data: &Path) -> anyhow::Result<DataEvaluation> {
    let ckpt = Checkpoint::read(checkpoint)?;
    let record = &ckpt.record;
    let Learned::Sequences { task, features } = record.learned else {
        anyhow::bail!(
            "{}: a language model; score it with --text, not --data",
            checkpoint.display()
        );
    };
    let layout = Layout {
        task: match task {
            Task::Classify { .. } => TaskKind::Classify,
            Task::Regress { .. } => TaskKind::Regress,
            Task::RegressSteps { .. } => TaskKind::RegressSteps,
        },
        ..record.config.data.layout()
    };
    let mut seqs = Sequences::read(data, &layout)?;
    anyhow::ensure!(
        seqs.features == features,
        "{}: {} features per step; the model reads {features}",
        data.display(),
        seqs.features
    );
    match (task, seqs.task) {
        (Task::Classify { classes }, Task::Classify { classes: got }) => {
            anyhow::ensure!(
                got <= classes,
                "{}: class {} appears; the model has classes 0..{}",
                data.display(),
                got - 1,
                classes - 1
            );
            seqs.task = task;
        }
        (want, got) => anyhow::ensure!(
            want == got,
            "{}: targets of {got:?}; the model predicts {want:?}",
            data.display()
        ),
    }
    let idx: Vec<usize> = (0..seqs.len()).collect();
    let v = match record.config.model.dtype {
        Dtype::F32 => score(&ckpt.model::<f32>()?, &seqs, &idx, BATCH)?,
        Dtype::F64 => score(&ckpt.model::<f64>()?, &seqs, &idx, BATCH)?,
    };
    Ok(DataEvaluation {
        loss: v.loss,
        accuracy: v.accuracy,
        mse: v.accuracy.is_none().then_some(v.loss),
        sequences: v.count,
    })
}
