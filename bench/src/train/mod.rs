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

use std::path::Path;

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

/// A checkpoint of `rnnzoo train` as a model in `T` (whatever dtype it was trained in), with its
/// run record (configuration, vocabulary).
///
/// # Errors
///
/// [`RunError::NotARun`] for a file that is not such a checkpoint (a weights file, a PyTorch
/// `state_dict`), [`RunError::File`] for one that cannot be read or does not fit its own
/// configuration.
pub fn load<T: Real>(path: &Path) -> Result<(RunRecord, Model<T>), RunError> {
    let record = run::read_record(path)?;
    let mut m = model::build::<T>(
        &record.config.model,
        &record.learned,
        record.config.train.seed,
    )
    .map_err(|e| RunError::NotARun {
        path: path.to_path_buf(),
        why: format!("its configuration does not build: {e:#}"),
    })?;
    let file = |source| RunError::File {
        path: path.to_path_buf(),
        source,
    };
    let t = Tensors::read(path, false).map_err(file)?;
    load_weights(&mut m, &t).map_err(file)?;
    Ok((record, m))
}
