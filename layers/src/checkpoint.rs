//! Checkpoints: weights under PyTorch's names, and the full training state.
//!
//! Both are safetensors files written atomically ([`crate::file::write_atomic`]: temporary file,
//! fsync, rename), so a crash mid-save leaves the previous checkpoint intact, and both are read
//! through the checked parser of [`crate::file`], so a damaged file is an error, never a panic.
//!
//! - Weights: every parameter as a tensor named as PyTorch names it (`weight_ih_l0`,
//!   `bias_hh_l1_reverse`; the head's as `head.weight`, `head.bias`), in the model's dtype.
//! - Training state: the weights, the optimizer's buffers as F64 tensors (`optim.{buffer}.{k}`,
//!   exact for f32 and f64), and a JSON document in the metadata (`rnnzoo.training`) with the step,
//!   the random source's position, the optimizer's kind, hyper-parameters and layout, and the
//!   training configuration. Resuming from it continues bit for bit. rnnzoo does not use bincode
//!   (unmaintained; 3.0 does not compile): safetensors plus JSON is maintained and readable from
//!   Python.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rand_chacha::ChaCha8Rng;
use rnnzoo_cell::{Params, Real};
use serde::{Deserialize, Serialize};

use crate::file::{FileError, Tensors, serialize, serialize_with, write_atomic};
use crate::optim::{
    Adam, AdamW, HyperParams, Optimizer, OptimizerState, ParamGroupRule, RmsProp, Sgd, TensorLayout,
};
use crate::train::{TrainConfig, Trainer};
use crate::{Model, ParamGroup};

/// The file name of a group's parameter: PyTorch's for recurrent groups (`weight_ih_l0`), dotted
/// for others (`head.weight`).
fn tensor_name(param: &str, suffix: &str) -> String {
    if suffix.is_empty() {
        format!("{param}_l0")
    } else if suffix.starts_with('_') {
        format!("{param}{suffix}")
    } else {
        format!("{suffix}.{param}")
    }
}

fn named<'a, T: Real>(groups: &'a [ParamGroup<'a, T>]) -> Vec<(String, Vec<usize>, &'a [T])> {
    groups
        .iter()
        .flat_map(|g| {
            g.params.iter().map(move |p| {
                (
                    tensor_name(p.name(), &g.suffix),
                    p.shape().to_vec(),
                    p.data(),
                )
            })
        })
        .collect()
}

/// Fills every parameter of `groups` from `tensors`, checking every name and shape first so that
/// a failure writes nothing; returns the names used.
fn fill<T: Real>(
    suffixes: &[String],
    mut groups: Vec<&mut Params<T>>,
    tensors: &Tensors,
) -> Result<Vec<String>, FileError> {
    let mut used = Vec::new();
    for (g, suffix) in groups.iter().zip(suffixes) {
        for p in g.iter() {
            let name = tensor_name(p.name(), suffix);
            tensors.get_checked(&name, p.shape())?;
            used.push(name);
        }
    }
    let names = groups.iter_mut().flat_map(|g| g.iter_mut()).zip(&used);
    for (p, name) in names {
        let shape = p.shape().to_vec();
        tensors.take_into(name, &shape, p.data_mut())?;
    }
    Ok(used)
}

/// The model's cell modes as `weights_bytes` records them (`LSTM_l0,LSTM_l0_reverse,DENSEhead`).
fn modes<T: Real>(groups: &[ParamGroup<'_, T>]) -> String {
    groups
        .iter()
        .map(|g| format!("{}{}", g.mode, g.suffix))
        .collect::<Vec<_>>()
        .join(",")
}

/// The metadata key of the cell modes a weights file was written from.
const MODES_KEY: &str = "rnnzoo.modes";

/// The metadata key of the cells' settings (`Cell::settings`): `suffix=settings` for each group
/// that has any, joined by `;` (`_l0=dt=0.042,gamma=2.7,epsilon=4.7`); empty when none has.
const SETTINGS_KEY: &str = "rnnzoo.settings";

/// The model's cell settings as `weights_bytes` records them.
fn settings<T: Real>(groups: &[ParamGroup<'_, T>]) -> String {
    groups
        .iter()
        .filter(|g| !g.settings.is_empty())
        .map(|g| format!("{}={}", g.suffix, g.settings))
        .collect::<Vec<_>>()
        .join(";")
}

/// The weights of `model` as safetensors bytes (see the module docs).
///
/// # Errors
///
/// [`FileError::Format`] if serialisation fails.
pub fn weights_bytes<T: Real>(model: &Model<T>) -> Result<Vec<u8>, FileError> {
    let groups = model.param_groups();
    let meta = HashMap::from([
        (MODES_KEY.to_string(), modes(&groups)),
        (SETTINGS_KEY.to_string(), settings(&groups)),
    ]);
    serialize(&named(&groups), meta)
}

/// Saves `model`'s weights atomically.
///
/// # Errors
///
/// [`FileError`] if it cannot be written.
pub fn save_weights<T: Real>(model: &Model<T>, path: &Path) -> Result<(), FileError> {
    write_atomic(path, &weights_bytes(model)?)
}

/// Loads weights into `model` (built with the same architecture), checking every name and shape;
/// a tensor in the file that the model does not have is an error too, and so is a file written
/// from other cells (its `rnnzoo.modes` record, when it has one, must be the model's: a GRU file
/// does not load into a reset-before GRU model of the same shapes). A file without the record (a
/// PyTorch `state_dict`) is checked by names and shapes only.
///
/// Loading is all or nothing: every check runs before the first value is written, so on error the
/// model is unchanged.
///
/// # Errors
///
/// [`FileError::Modes`] for a file of other cells; [`FileError::Settings`] for a file of cells
/// with other settings (`Cell::settings`); [`FileError::Missing`],
/// [`FileError::Unexpected`] or [`FileError::Shape`] for a tensor that does not fit.
pub fn load_weights<T: Real>(model: &mut Model<T>, tensors: &Tensors) -> Result<(), FileError> {
    let (suffixes, expected, expected_settings): (Vec<String>, String, String) = {
        let groups = model.param_groups();
        (
            groups.iter().map(|g| g.suffix.clone()).collect(),
            modes(&groups),
            settings(&groups),
        )
    };
    if let Some(got) = tensors.metadata.get(MODES_KEY)
        && *got != expected
    {
        return Err(FileError::Modes {
            expected,
            got: got.clone(),
        });
    }
    // A file that records its cells' settings must have the model's: a coRNN with another step
    // size has the same parameters and would load silently. (Files written before settings were
    // recorded, and PyTorch files, do not say.)
    if let Some(got) = tensors.metadata.get(SETTINGS_KEY)
        && *got != expected_settings
    {
        return Err(FileError::Settings {
            expected: expected_settings,
            got: got.clone(),
        });
    }
    // Names first: an unexpected tensor must stop the load before anything is written.
    let mut wanted = Vec::new();
    for g in model.param_groups() {
        wanted.extend(g.params.names().map(|n| tensor_name(n, &g.suffix)));
    }
    if let Some(extra) = tensors
        .tensors
        .keys()
        .find(|n| !n.starts_with("optim.") && !wanted.contains(n))
    {
        return Err(FileError::Unexpected {
            name: extra.clone(),
        });
    }
    fill(&suffixes, model.params_mut(), tensors)?;
    Ok(())
}

/// The JSON part of a training checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TrainingMeta {
    format: u32,
    steps: u64,
    rng_seed: Vec<u8>,
    rng_stream: u64,
    rng_word_pos: String,
    optimizer_hyper: HyperParams,
    optimizer_steps: u64,
    optimizer_layout: Option<Vec<Vec<TensorLayout>>>,
    /// Buffer name and its number of tensors, in file order.
    optimizer_buffers: Vec<(String, usize)>,
    /// The optimizer's parameter groups (none in files written before they existed).
    #[serde(default)]
    optimizer_groups: Vec<ParamGroupRule>,
    config: TrainConfig,
    /// The caller's own record (experiment settings, data position, ...).
    extra: serde_json::Value,
}

const META_KEY: &str = "rnnzoo.training";

/// The full training state of `trainer` as safetensors bytes; `extra` is stored alongside for the
/// caller (for example which epoch and batch come next).
///
/// # Errors
///
/// [`FileError::Format`] if serialisation fails.
pub fn training_bytes<T: Real>(
    trainer: &Trainer<T>,
    extra: serde_json::Value,
) -> Result<Vec<u8>, FileError> {
    let groups = trainer.model().param_groups();
    let tensors = named(&groups);
    let opt: OptimizerState = trainer.optimizer().state();
    // Optimizer buffers are stored in f64 so an f32 model's moments round trip exactly; they go in
    // a second pass because serialize() takes one dtype.
    let mut buffers: Vec<(String, Vec<usize>, Vec<f64>)> = Vec::new();
    let mut listing = Vec::new();
    for (name, tensors_of) in &opt.buffers {
        listing.push((name.clone(), tensors_of.len()));
        for (k, v) in tensors_of.iter().enumerate() {
            buffers.push((format!("optim.{name}.{k}"), vec![v.len()], v.clone()));
        }
    }
    let rng = trainer.rng_state();
    let meta = TrainingMeta {
        format: 1,
        steps: trainer.steps(),
        rng_seed: rng.get_seed().to_vec(),
        rng_stream: rng.get_stream(),
        rng_word_pos: rng.get_word_pos().to_string(),
        optimizer_hyper: opt.hyper,
        optimizer_steps: opt.steps,
        optimizer_layout: opt.layout.clone(),
        optimizer_buffers: listing,
        optimizer_groups: opt.groups.clone(),
        config: trainer.config().clone(),
        extra,
    };
    let json = serde_json::to_string(&meta).map_err(|e| FileError::Metadata(e.to_string()))?;
    let metadata = HashMap::from([
        (META_KEY.to_string(), json),
        (MODES_KEY.to_string(), modes(&groups)),
        (SETTINGS_KEY.to_string(), settings(&groups)),
    ]);
    let buffers: Vec<(String, Vec<usize>, &[f64])> = buffers
        .iter()
        .map(|(n, sh, d)| (n.clone(), sh.clone(), d.as_slice()))
        .collect();
    // Weights in the model's dtype (PyTorch reads them as trained), moments in f64 (exact).
    serialize_with(&tensors, &buffers, metadata)
}

/// Saves the full training state atomically (see [`training_bytes`]).
///
/// # Errors
///
/// [`FileError`] if it cannot be written.
pub fn save_training<T: Real>(
    trainer: &Trainer<T>,
    extra: serde_json::Value,
    path: &Path,
) -> Result<(), FileError> {
    write_atomic(path, &training_bytes(trainer, extra)?)
}

/// An optimizer of the kind and hyper-parameters `hyper` says, fresh.
pub fn optimizer_for<T: Real>(hyper: &HyperParams) -> Box<dyn Optimizer<T>> {
    match hyper {
        HyperParams::Sgd(h) => Box::new(Sgd::new(h.lr)),
        HyperParams::Adam(h) => Box::new(Adam::new(h.lr)),
        HyperParams::AdamW(h) => Box::new(AdamW::new(h.lr)),
        HyperParams::RmsProp(h) => Box::new(RmsProp::new(h.lr)),
    }
}

/// Resumes training: fills `model` (built with the same architecture as the saved one) from the
/// file, rebuilds the optimizer with its moments, the step count, the random source and the
/// configuration, and returns the trainer and the caller's `extra` record.
///
/// # Errors
///
/// [`FileError`] for a damaged file, missing or misshapen tensors, damaged metadata, a training
/// configuration the trainer refuses ([`FileError::Optim`] for a negative or NaN clipping bound),
/// or an optimizer state that does not fit the model.
pub fn load_training<T: Real>(
    mut model: Model<T>,
    bytes: &[u8],
) -> Result<(Trainer<T>, serde_json::Value), FileError> {
    let tensors = Tensors::parse(bytes, false)?;
    let json = tensors.metadata.get(META_KEY).ok_or_else(|| {
        FileError::Metadata(format!("no `{META_KEY}` entry: not a training checkpoint"))
    })?;
    let meta: TrainingMeta =
        serde_json::from_str(json).map_err(|e| FileError::Metadata(e.to_string()))?;
    if meta.format != 1 {
        return Err(FileError::Metadata(format!(
            "format {} is not 1",
            meta.format
        )));
    }
    meta.config.validate()?;
    load_weights(&mut model, &tensors)?;
    let mut buffers = BTreeMap::new();
    for (name, count) in &meta.optimizer_buffers {
        // `count` comes from the file: the loop stops at the first missing tensor, so a forged
        // count cannot make it allocate more than the file holds.
        let mut list = Vec::new();
        for k in 0..*count {
            let key = format!("optim.{name}.{k}");
            let t = tensors
                .tensors
                .get(&key)
                .ok_or(FileError::Missing { name: key })?;
            list.push(t.to_vec::<f64>());
        }
        buffers.insert(name.clone(), list);
    }
    let state = OptimizerState {
        hyper: meta.optimizer_hyper,
        steps: meta.optimizer_steps,
        layout: meta.optimizer_layout,
        buffers,
        groups: meta.optimizer_groups,
    };
    let mut optimizer = optimizer_for::<T>(&state.hyper);
    optimizer
        .load_state(&state)
        .map_err(|e| FileError::Metadata(format!("optimizer state: {e}")))?;
    let seed: [u8; 32] = meta
        .rng_seed
        .as_slice()
        .try_into()
        .map_err(|_| FileError::Metadata("rng_seed is not 32 bytes".into()))?;
    let word_pos: u128 = meta
        .rng_word_pos
        .parse()
        .map_err(|_| FileError::Metadata("rng_word_pos is not a number".into()))?;
    let mut rng = <ChaCha8Rng as rand::SeedableRng>::from_seed(seed);
    rng.set_stream(meta.rng_stream);
    rng.set_word_pos(word_pos);
    Ok((
        Trainer::resume(model, optimizer, meta.config, meta.steps, rng),
        meta.extra,
    ))
}
