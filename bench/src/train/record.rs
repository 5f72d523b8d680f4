//! What a checkpoint of `rnnzoo train` records besides the trainer's own state (the run's
//! configuration, what it learns, its position in the data), reading it back, and the run's
//! errors.

use std::path::{Path, PathBuf};

use rnnzoo::cell::Real;
use rnnzoo::layers::file::{FileError, Tensors};
use serde::{Deserialize, Serialize};

use super::config::RunConfig;
use super::model::Learned;

/// The caller's record in a checkpoint: everything beyond the trainer's own state that the next
/// update depends on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The configuration.
    pub config: RunConfig,
    /// What is learned, with the model's sizes (a text's vocabulary, a task's outputs).
    pub learned: Learned,
    /// The carried state after the last update (empty at an epoch's start), in f64 (exact for
    /// an f32 model too).
    pub state: Vec<f64>,
    /// The training loss summed over the items predicted since the last metrics line, and their
    /// count.
    pub pending: (f64, u64),
    /// The best validation bits per character so far (none before the first validation).
    pub best: Option<f64>,
    /// Validations since the best.
    pub since_best: usize,
    /// Seconds of training before this point.
    pub seconds: f64,
}

impl RunRecord {
    /// A language model's vocabulary (`None` for a model of sequences).
    pub fn vocab(&self) -> Option<&rnnzoo::datasets::Vocabulary> {
        match &self.learned {
            Learned::Text { vocab } => Some(vocab),
            Learned::Sequences { .. } => None,
        }
    }

    /// Records the position's carried state and pending training loss.
    pub(super) fn keep<T: Real>(&mut self, state: Option<&[T]>, pending: (f64, u64)) {
        self.state = state
            .map(|s| s.iter().map(|x| x.to_f64_lossless()).collect())
            .unwrap_or_default();
        self.pending = pending;
    }
}

/// A run that went wrong in a way the user can fix.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// `--resume` with no checkpoint in the folder.
    #[error("--resume: {path} does not exist; nothing to resume")]
    NothingToResume {
        /// The missing checkpoint.
        path: PathBuf,
    },
    /// A checkpoint that is not a training state of `rnnzoo train`.
    #[error("{path}: not a checkpoint of `rnnzoo train` ({why})")]
    NotARun {
        /// The file.
        path: PathBuf,
        /// What is missing or wrong.
        why: String,
    },
    /// The data is too short for the batch and the validation split.
    #[error(
        "the {part} has {chars} {unit}; {batch} streams need at least {need} (lower train.batch, raise data.valid_fraction, or give more data)"
    )]
    TooShort {
        /// `training text`, `validation text` or `file of sequences`.
        part: &'static str,
        /// Its characters or sequences.
        chars: usize,
        /// `characters` or `sequences`.
        unit: &'static str,
        /// Streams.
        batch: usize,
        /// Characters needed.
        need: usize,
    },
    /// The optimizer refused its settings (a group's scale or weight decay).
    #[error("train.groups: {0}")]
    Optimizer(String),
    /// A checkpoint could not be written or read.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: FileError,
    },
}

/// Reads the run record of a checkpoint of `rnnzoo train`.
///
/// # Errors
///
/// [`RunError::File`] for a file that cannot be read, [`RunError::NotARun`] for another kind of
/// file.
pub fn read_record(path: &Path) -> Result<RunRecord, RunError> {
    let t = Tensors::read(path, false).map_err(|source| RunError::File {
        path: path.to_path_buf(),
        source,
    })?;
    record_of(&t, path)
}

/// The run record in the tensors of a checkpoint already read from `path` (named in errors).
///
/// # Errors
///
/// [`RunError::NotARun`] for a file that is not a checkpoint of `rnnzoo train`.
pub fn record_of(t: &Tensors, path: &Path) -> Result<RunRecord, RunError> {
    let not = |why: String| RunError::NotARun {
        path: path.to_path_buf(),
        why,
    };
    let json = t.metadata.get("rnnzoo.training").ok_or_else(|| {
        not("no `rnnzoo.training` record: a weights file or a PyTorch state_dict".into())
    })?;
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| not(format!("damaged training record: {e}")))?;
    serde_json::from_value(v["extra"].clone())
        .map_err(|e| not(format!("no run record of `rnnzoo train`: {e}")))
}

pub(super) fn io_error(path: &Path, source: std::io::Error) -> RunError {
    RunError::File {
        path: path.to_path_buf(),
        source: FileError::Io {
            path: path.display().to_string(),
            source,
        },
    }
}
