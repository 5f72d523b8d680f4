//! `metrics.jsonl` (one line per validation) and `loss.svg` of a run.

use std::path::Path;

use rnnzoo::layers::file::write_atomic;
use rnnzoo::layers::train::append_json;
use serde::{Deserialize, Serialize};

use super::record::RunError;
use crate::reproduce::plot::{Chart, Series};

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Updates so far.
    pub step: u64,
    /// The epoch the update belongs to (1 for the first pass).
    pub epoch: u64,
    /// The learning rate of the last update.
    pub lr: f64,
    /// Mean training loss over the updates since the previous line, per predicted item (nats per
    /// character for a text; cross-entropy or mean squared error for sequences).
    pub train_loss: f64,
    /// The validation loss, the same way.
    pub valid_loss: f64,
    /// A text: `train_loss` in bits per character.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_bpc: Option<f64>,
    /// A text: `valid_loss` in bits per character.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_bpc: Option<f64>,
    /// Classification: the fraction of validation sequences whose largest logit is their class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_accuracy: Option<f64>,
    /// What the validation averaged over: characters predicted, or sequences.
    pub valid_count: usize,
    /// Seconds of training so far (across resumes).
    pub seconds: f64,
    /// Training characters (text) or sequences per second since the previous line.
    pub per_second: f64,
}

pub(super) fn append_metrics(path: &Path, m: &Metrics) -> anyhow::Result<()> {
    let line = serde_json::to_value(m).expect("metrics serialise");
    Ok(append_json(path, &line)?)
}

/// The metrics lines up to update `step` (a resumed run rewrites what came after its checkpoint).
pub(super) fn read_metrics(path: &Path) -> Vec<Metrics> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

pub(super) fn truncate_metrics(path: &Path, step: u64) -> Result<(), RunError> {
    let kept: String = read_metrics(path)
        .iter()
        .filter(|m| m.step <= step)
        .map(|m| serde_json::to_string(m).expect("metrics serialise") + "\n")
        .collect();
    write_atomic(path, kept.as_bytes()).map_err(|source| RunError::File {
        path: path.to_path_buf(),
        source,
    })
}

pub(super) fn write_plot(metrics: &Path, svg: &Path, bits: bool) -> anyhow::Result<()> {
    let lines = read_metrics(metrics);
    let scale = if bits {
        1.0 / std::f64::consts::LN_2
    } else {
        1.0
    };
    let pts = |f: fn(&Metrics) -> f64| {
        lines
            .iter()
            .map(|m| (m.step as f64, f(m) * scale))
            .collect()
    };
    let (title, y) = if bits {
        ("Bits per character", "bits per character")
    } else {
        ("Loss", "loss (cross-entropy or mean squared error)")
    };
    Chart::new(title, "update", y, false)
        .with(Series::line("train", pts(|m| m.train_loss)))
        .with(Series::line("validation", pts(|m| m.valid_loss)))
        .write_svg(svg)
}
