//! `rnnzoo eval --checkpoint C --text F`: bits per character of a trained language model on a
//! text.
//!
//! The text is scored as one stream, the state carried from its first character to its last, so
//! every character but the first is predicted from all of the text before it; the figure is the
//! mean negative log2-likelihood of exactly those characters ([`Evaluation::predicted`] of them).
//!
//! Characters the model never saw (not in its vocabulary) are **skipped**: they are removed from
//! the stream before scoring, counted in [`Evaluation::unknown`] and listed. The model has no
//! symbol for them, so no probability could be given to them; scoring them against a reserved
//! symbol would need one at training time. The figure is then the bits per character of the
//! known characters of the text, and says so.

use std::path::Path;

use serde::Serialize;

use crate::speed::Dtype;
use crate::train::{self, corpus::read_text, text::bits_per_char};

/// Steps per forward call: the state is carried between calls, so this changes only speed.
const CHUNK: usize = 256;

/// What `rnnzoo eval` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
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

/// Scores the text at `text` with the checkpoint at `checkpoint`.
///
/// # Errors
///
/// [`train::RunError`] for a file that is not a checkpoint of `rnnzoo train`; the text's
/// ([`train::corpus::CorpusError`]); a text with fewer than 2 known characters.
pub fn eval(checkpoint: &Path, text: &Path) -> anyhow::Result<Evaluation> {
    let record = train::run::read_record(checkpoint)?;
    let text = read_text(text)?;
    let (mut ids, mut unknown, mut unknown_chars) = (Vec::new(), 0, Vec::new());
    for c in text.chars() {
        match record.vocab.id(c) {
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
        Dtype::F32 => bits_per_char(&train::load::<f32>(checkpoint)?.1, &ids, 1, CHUNK)?,
        Dtype::F64 => bits_per_char(&train::load::<f64>(checkpoint)?.1, &ids, 1, CHUNK)?,
    };
    Ok(Evaluation {
        bits_per_char: score.bits_per_char,
        nats_per_char: score.nats_per_char,
        predicted: score.predicted,
        unknown,
        unknown_chars,
        chars: text.chars().count(),
    })
}
