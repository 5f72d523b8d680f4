//! `rnnzoo train`, and the checkpoints `rnnzoo eval` and `rnnzoo sample` read: a character-level
//! language model on any UTF-8 text file, or a classifier or regressor on a file of sequences.
//!
//! - [`comm`]: the processes of a data-parallel run (one alone, or an MPI job).
//! - [`config`]: the run configuration (TOML, every field documented, flags on top).
//! - [`corpus`]: the text, its vocabulary and its split.
//! - [`model`]: the stack and head a run trains (the experiments' builders too).
//! - [`sequences`]: a dataset of sequences with targets from a CSV, npy or safetensors file.
//! - [`source`]: a run's batches and validation, from a text or sequences.
//! - [`text`]: one-hot inputs, bits per character, sampling, in any dtype.
//! - [`run`]: the loop, its checkpoints, resume and interrupt, alone or over MPI.
//! - [`record`]: what a checkpoint records of its run, and the run's errors.
//! - [`metrics`]: `metrics.jsonl` and `loss.svg`.
//!
//! ```no_run
//! // rnnzoo train --text input.txt --out run/
//! let mut cfg = rnnzoo_bench::train::RunConfig::default();
//! cfg.data.text = "input.txt".into();
//! let opts = rnnzoo_bench::train::run::RunOptions { out: "run".into(), ..Default::default() };
//! rnnzoo_bench::train::run::train(&cfg, &opts)?;
//! let (record, model) = rnnzoo_bench::train::load::<f32>("run/best.safetensors".as_ref())?;
//! if let rnnzoo_bench::train::model::Learned::Text { vocab } = &record.learned {
//!     let text = rnnzoo_bench::train::text::sample(&model, vocab, "ROMEO:", 200, 0.8, 1)?;
//! }
//! # Ok::<(), anyhow::Error>(())
//! ```

pub mod comm;
pub mod config;
pub mod corpus;
pub mod metrics;
pub mod model;
pub mod record;
pub mod run;
pub mod sequences;
pub mod source;
pub mod text;

use std::path::{Path, PathBuf};

use rnnzoo::cell::Real;
use rnnzoo::layers::Model;
use rnnzoo::layers::checkpoint::load_weights;
use rnnzoo::layers::file::Tensors;

pub use config::{
    ConfigError, DataConfig, ModelConfig, OptimizerKind, RunConfig, Schedule, TrainSettings,
};
pub use run::{RunError, RunRecord};

/// The checkpoint after the last validation (or interrupt).
pub const LATEST: &str = "latest.safetensors";
/// The checkpoint at the best validation loss.
pub const BEST: &str = "best.safetensors";

/// A checkpoint of `rnnzoo train`, read once: its run record, and the model built from it in
/// whatever dtype the caller asks ([`Checkpoint::model`]).
pub struct Checkpoint {
    /// The run record (configuration, what was learned).
    pub record: RunRecord,
    tensors: Tensors,
    path: PathBuf,
}

impl Checkpoint {
    /// Reads the checkpoint at `path`.
    ///
    /// # Errors
    ///
    /// [`RunError::File`] for a file that cannot be read, [`RunError::NotARun`] for a file that
    /// is not a checkpoint of `rnnzoo train` (a weights file, a PyTorch `state_dict`).
    pub fn read(path: &Path) -> Result<Self, RunError> {
        let tensors = Tensors::read(path, false).map_err(|source| RunError::File {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_tensors(tensors, path)
    }

    /// The checkpoint in `tensors`, already read from `path` (named in errors).
    ///
    /// # Errors
    ///
    /// [`RunError::NotARun`] as [`Checkpoint::read`].
    pub fn from_tensors(tensors: Tensors, path: &Path) -> Result<Self, RunError> {
        let record = record::record_of(&tensors, path)?;
        Ok(Self::from_parts(record, tensors, path))
    }

    /// A checkpoint from tensors and the record [`record::record_of`] read from them.
    pub(crate) fn from_parts(record: RunRecord, tensors: Tensors, path: &Path) -> Self {
        Self {
            record,
            tensors,
            path: path.to_path_buf(),
        }
    }

    /// The model, in `T` (whatever dtype it was trained in).
    ///
    /// # Errors
    ///
    /// [`RunError::NotARun`] for a configuration that does not build, [`RunError::File`] for
    /// weights that do not fit it.
    pub fn model<T: Real>(&self) -> Result<Model<T>, RunError> {
        let r = &self.record;
        let mut m =
            model::build::<T>(&r.config.model, &r.learned, r.config.train.seed).map_err(|e| {
                RunError::NotARun {
                    path: self.path.clone(),
                    why: format!("its configuration does not build: {e:#}"),
                }
            })?;
        load_weights(&mut m, &self.tensors).map_err(|source| RunError::File {
            path: self.path.clone(),
            source,
        })?;
        Ok(m)
    }
}

/// A checkpoint of `rnnzoo train` as a model in `T` (whatever dtype it was trained in), with its
/// run record (configuration, vocabulary).
///
/// # Errors
///
/// As [`Checkpoint::read`] and [`Checkpoint::model`].
pub fn load<T: Real>(path: &Path) -> Result<(RunRecord, Model<T>), RunError> {
    let c = Checkpoint::read(path)?;
    let m = c.model::<T>()?;
    Ok((c.record, m))
}
