//! The run configuration of `rnnzoo train`: a TOML file, every field with a default, every field
//! documented in [`FIELDS`] (what `rnnzoo train --print-config` prints beside the defaults), an
//! unknown key an error that names it, and a value out of range an error that names the field.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::sequences::{Layout, TaskKind};
use crate::speed::Dtype;
use rnnzoo::layers::loss::Reduction;
use rnnzoo::layers::optim::ParamGroupRule;

/// A run: the data, the model, the training, where it goes. Each section is a TOML table.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// `[data]`.
    pub data: DataConfig,
    /// `[model]`.
    pub model: ModelConfig,
    /// `[train]`.
    pub train: TrainSettings,
}

/// `[data]`: what to learn from: a text (a language model) or a file of sequences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// A UTF-8 text file: train a character-level language model on it. Empty (and no
    /// `sequences`): the embedded Shakespeare corpus.
    pub text: PathBuf,
    /// A file of sequences with targets (`.csv`, `.npy`, `.safetensors`; see
    /// [`super::sequences`]): classification or regression.
    pub sequences: PathBuf,
    /// `auto`, `classify`, `regress` or `regress-steps`.
    pub task: TaskKind,
    /// CSV and npy: leading cells of a row that hold the target.
    pub target_columns: usize,
    /// CSV and npy: values per step.
    pub features: usize,
    /// Held out for validation and early stopping: the last fraction of the text, or a seeded
    /// random fraction of the sequences.
    pub valid_fraction: f64,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            text: PathBuf::new(),
            sequences: PathBuf::new(),
            task: TaskKind::Auto,
            target_columns: 1,
            features: 1,
            valid_fraction: 0.1,
        }
    }
}

impl DataConfig {
    /// The CSV/npy layout and task of the sequences.
    pub fn layout(&self) -> Layout {
        Layout {
            task: self.task,
            target_columns: self.target_columns,
            features: self.features,
        }
    }
}

/// `[model]`: the network, from the registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// A cell of `rnnzoo cells`, options after a colon (`lstm:forget_bias=1`).
    pub cell: String,
    /// Hidden units per layer.
    pub hidden: usize,
    /// Stacked layers.
    pub layers: usize,
    /// Both directions in every layer (outputs concatenated, as PyTorch's); sequences only.
    pub bidirectional: bool,
    /// Whether the head has a bias (`nn.Linear(..., bias=...)`).
    pub head_bias: bool,
    /// Dropout between layers (on each layer's output but the last), as char-rnn's.
    pub dropout: f64,
    /// `f32` or `f64`.
    pub dtype: Dtype,
}

impl Default for ModelConfig {
    fn default() -> Self {
        // char-rnn's default model (Karpathy 2015, train.lua: rnn_size 128, num_layers 2, lstm).
        Self {
            cell: "lstm".into(),
            hidden: 128,
            layers: 2,
            bidirectional: false,
            head_bias: true,
            dropout: 0.0,
            dtype: Dtype::F32,
        }
    }
}

/// The learning-rate schedule over updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// `lr` throughout.
    Constant,
    /// `lr * decay^floor(step / decay_every)`.
    Step,
    /// Half a cosine from `lr` at the first update to 0 after `steps`.
    Cosine,
}

/// The optimizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam (PyTorch's defaults besides `lr`).
    Adam,
    /// AdamW (PyTorch's default weight decay 0.01).
    Adamw,
    /// Plain SGD.
    Sgd,
    /// RMSprop (PyTorch's defaults besides `lr`).
    Rmsprop,
}

/// `[train]`: how to train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainSettings {
    /// Parallel streams of text, or sequences, per update.
    pub batch: usize,
    /// Text: the truncated-BPTT length (steps per update, the state carried across updates).
    /// Sequences are unrolled whole.
    pub bptt: usize,
    /// Updates to make; 0: as many as `epochs` passes take.
    pub steps: u64,
    /// Passes over the training data (when `steps` is 0).
    pub epochs: usize,
    /// The optimizer: `adam`, `adamw`, `sgd` or `rmsprop`.
    pub optimizer: OptimizerKind,
    /// The learning rate.
    pub lr: f64,
    /// The optimizer's weight decay; unset: its PyTorch default (0.01 for AdamW, 0 otherwise).
    pub weight_decay: Option<f64>,
    /// Parameter groups: a learning rate (a multiple of `lr`) and a weight decay for the tensors
    /// whose names start with a prefix, as PyTorch's `param_groups`.
    pub groups: Vec<ParamGroupRule>,
    /// `constant`, `step` or `cosine`.
    pub schedule: Schedule,
    /// For `step`: updates between decays.
    pub decay_every: u64,
    /// For `step`: the factor at each decay.
    pub decay: f64,
    /// Clip the global gradient norm to this; 0: no clipping.
    pub clip: f64,
    /// The loss's reduction: `mean` or `sum` (PyTorch's `reduction`).
    pub reduction: Reduction,
    /// Cross-entropy's label smoothing, in `[0, 1]` (classes only).
    pub label_smoothing: f64,
    /// Cross-entropy's weight per class (classes only); empty: all 1.
    pub class_weights: Vec<f64>,
    /// Updates between validations (and checkpoints).
    pub eval_every: u64,
    /// Stop after this many validations without a new best; 0: never.
    pub patience: usize,
    /// Seed of the weights, the dropout masks and the sampling.
    pub seed: u64,
    /// Threads of the pool; 0: all cores.
    pub threads: usize,
}

impl Default for TrainSettings {
    fn default() -> Self {
        // char-rnn's defaults (train.lua): batch 50, seq_length 50, learning_rate 2e-3, grad_clip 5,
        // max_epochs 50, eval_val_every 1000. Our epochs default is smaller so that a first run
        // on a book-sized file ends in minutes; `--steps`/`epochs` raise it.
        Self {
            batch: 50,
            bptt: 50,
            steps: 0,
            epochs: 5,
            optimizer: OptimizerKind::Adam,
            lr: 2e-3,
            weight_decay: None,
            groups: Vec::new(),
            schedule: Schedule::Constant,
            decay_every: 1000,
            decay: 0.97,
            clip: 5.0,
            reduction: Reduction::Mean,
            label_smoothing: 0.0,
            class_weights: Vec::new(),
            eval_every: 1000,
            patience: 0,
            seed: 0,
            threads: 1,
        }
    }
}

/// A configuration the run cannot use: the file, the key, or the value, and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// Not valid TOML, an unknown key or a value of the wrong type (the parser's message names
    /// the key and its line).
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A value out of range.
    #[error("`{field}` = {got}: expected {expected}")]
    Value {
        /// The field, as `section.key`.
        field: &'static str,
        /// What came.
        got: String,
        /// What it must be.
        expected: &'static str,
    },
}

/// Every field as `section.key` and what it means: the text `--print-config` prints above it.
pub const FIELDS: &[(&str, &str)] = &[
    (
        "data.text",
        "A UTF-8 text file: a character-level language model is trained on it. Empty: the embedded Shakespeare corpus.",
    ),
    (
        "data.sequences",
        "A file of sequences with targets instead: .csv or .npy (one sequence per row, the target first) or .safetensors (x (T, N, F), y, lengths).",
    ),
    (
        "data.task",
        "For sequences: auto (from the file), classify, regress (values per sequence) or regress-steps (values at every step).",
    ),
    (
        "data.target_columns",
        "CSV and npy: leading cells of a row that hold the target.",
    ),
    ("data.features", "CSV and npy: values per step."),
    (
        "data.valid_fraction",
        "Held out for validation and early stopping: the last fraction of the text, or a seeded random fraction of the sequences (0 < f < 1).",
    ),
    (
        "model.cell",
        "A cell of `rnnzoo cells`, options after a colon (lstm:forget_bias=1).",
    ),
    ("model.hidden", "Hidden units per layer."),
    ("model.layers", "Stacked layers."),
    (
        "model.head_bias",
        "Whether the linear head has a bias (nn.Linear(..., bias=...)).",
    ),
    (
        "model.bidirectional",
        "Both directions in every layer (sequences only: a language model reads forward).",
    ),
    (
        "model.dropout",
        "Dropout on each layer's output but the last's, as char-rnn's (0 <= p < 1).",
    ),
    ("model.dtype", "f32 or f64."),
    (
        "train.batch",
        "Parallel streams of text, or sequences, per update.",
    ),
    (
        "train.bptt",
        "Text: truncated-BPTT length, steps per update; the state is carried across updates within an epoch. Sequences are unrolled whole.",
    ),
    (
        "train.steps",
        "Updates to make; 0: as many as `epochs` passes over the training data take.",
    ),
    (
        "train.epochs",
        "Passes over the training data, when `steps` is 0.",
    ),
    ("train.optimizer", "adam, adamw, sgd or rmsprop."),
    ("train.lr", "The learning rate (> 0)."),
    (
        "train.weight_decay",
        "The optimizer's weight decay; unset: its PyTorch default (AdamW 0.01, the others 0).",
    ),
    (
        "train.groups",
        "Parameter groups, as PyTorch's param_groups: [{ name_prefix = \"bias\", weight_decay = 0.0, lr_scale = 1.0 }] gives the tensors whose names start with the prefix their own weight decay and a learning rate of lr_scale * lr.",
    ),
    (
        "train.schedule",
        "constant; step (lr * decay^floor(update / decay_every)); cosine (half a cosine to 0 at the last update).",
    ),
    ("train.decay_every", "For `step`: updates between decays."),
    (
        "train.decay",
        "For `step`: the factor at each decay (0 < d <= 1).",
    ),
    (
        "train.clip",
        "Clip the global gradient norm to this (PyTorch's clip_grad_norm_); 0: no clipping.",
    ),
    (
        "train.reduction",
        "How the loss's terms are combined: mean or sum (PyTorch's reduction).",
    ),
    (
        "train.label_smoothing",
        "Cross-entropy's label smoothing in [0, 1] (class targets only), as PyTorch's.",
    ),
    (
        "train.class_weights",
        "Cross-entropy's weight per class (class targets only), as PyTorch's weight; [] for none.",
    ),
    (
        "train.eval_every",
        "Updates between validations; each writes latest.safetensors, and best.safetensors on a new best.",
    ),
    (
        "train.patience",
        "Stop after this many validations without a new best validation loss; 0: never stop early.",
    ),
    (
        "train.seed",
        "Seed of the weights, the dropout masks and everything else random.",
    ),
    ("train.threads", "Threads of the pool; 0: all cores."),
];

impl RunConfig {
    /// Reads a TOML file; missing fields take their defaults.
    ///
    /// ```
    /// use rnnzoo_bench::train::RunConfig;
    /// let p = std::env::temp_dir().join("rnnzoo-doc-run.toml");
    /// std::fs::write(&p, "[model]\ncell = \"gru\"\n[train]\nlr = 0.01\n")?;
    /// let c = RunConfig::read(&p)?;
    /// assert_eq!((c.model.cell.as_str(), c.train.lr, c.model.hidden), ("gru", 0.01, 128));
    /// std::fs::write(&p, "[train]\nlearning_rate = 0.01\n")?;
    /// assert!(RunConfig::read(&p).unwrap_err().to_string().contains("learning_rate"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ConfigError::Io`] for a file that cannot be read, [`ConfigError::Parse`] for invalid
    /// TOML, an unknown key (named) or a value of the wrong type, and [`Self::validate`]'s.
    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let c: Self = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        c.validate()?;
        Ok(c)
    }

    /// Checks every value's range.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Value`] naming the first field out of range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |field, got: String, expected| {
            Err(ConfigError::Value {
                field,
                got,
                expected,
            })
        };
        let (d, m, t) = (&self.data, &self.model, &self.train);
        if !d.text.as_os_str().is_empty() && !d.sequences.as_os_str().is_empty() {
            return bad(
                "data.sequences",
                d.sequences.display().to_string(),
                "one source: data.text or data.sequences, not both",
            );
        }
        if d.target_columns == 0 {
            return bad("data.target_columns", "0".into(), "at least 1");
        }
        if d.features == 0 {
            return bad("data.features", "0".into(), "at least 1");
        }
        if m.bidirectional && d.sequences.as_os_str().is_empty() {
            return bad(
                "model.bidirectional",
                "true".into(),
                "false for a language model, which predicts each character from the ones before it",
            );
        }
        if !(d.valid_fraction > 0.0 && d.valid_fraction < 1.0) {
            return bad(
                "data.valid_fraction",
                d.valid_fraction.to_string(),
                "a number in (0, 1)",
            );
        }
        if m.hidden == 0 {
            return bad("model.hidden", "0".into(), "at least 1");
        }
        if m.layers == 0 {
            return bad("model.layers", "0".into(), "at least 1");
        }
        if !(0.0..1.0).contains(&m.dropout) {
            return bad(
                "model.dropout",
                m.dropout.to_string(),
                "a probability in [0, 1)",
            );
        }
        if t.batch == 0 {
            return bad("train.batch", "0".into(), "at least 1");
        }
        if t.bptt == 0 {
            return bad("train.bptt", "0".into(), "at least 1");
        }
        if t.steps == 0 && t.epochs == 0 {
            return bad(
                "train.epochs",
                "0".into(),
                "at least 1 when train.steps is 0",
            );
        }
        if !(t.lr.is_finite() && t.lr > 0.0) {
            return bad("train.lr", t.lr.to_string(), "a positive number");
        }
        if !(t.clip.is_finite() && t.clip >= 0.0) {
            return bad(
                "train.clip",
                t.clip.to_string(),
                "a number >= 0 (0: no clipping)",
            );
        }
        if !(t.decay > 0.0 && t.decay <= 1.0) {
            return bad("train.decay", t.decay.to_string(), "a factor in (0, 1]");
        }
        if t.decay_every == 0 {
            return bad("train.decay_every", "0".into(), "at least 1");
        }
        if !(0.0..=1.0).contains(&t.label_smoothing) {
            return bad(
                "train.label_smoothing",
                t.label_smoothing.to_string(),
                "a number in [0, 1]",
            );
        }
        if let Some(w) = t
            .class_weights
            .iter()
            .find(|w| !(w.is_finite() && **w >= 0.0))
        {
            return bad("train.class_weights", w.to_string(), "finite weights >= 0");
        }
        if let Some(wd) = t.weight_decay
            && !(wd.is_finite() && wd >= 0.0)
        {
            return bad("train.weight_decay", wd.to_string(), "a finite number >= 0");
        }
        if t.eval_every == 0 {
            return bad("train.eval_every", "0".into(), "at least 1");
        }
        Ok(())
    }

    /// The defaults as a commented TOML file: what `rnnzoo train --print-config` prints, and a
    /// valid configuration as it stands.
    ///
    /// ```
    /// use rnnzoo_bench::train::RunConfig;
    /// let text = RunConfig::default_toml();
    /// assert!(text.contains("[train]\n") && text.contains("lr = 0.002"));
    /// let back: RunConfig = toml::from_str(&text)?;
    /// assert_eq!(back, RunConfig::default());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn default_toml() -> String {
        let value = toml::Value::try_from(Self::default()).expect("the defaults serialise");
        let mut out = String::from(
            "# rnnzoo train --config run.toml: every field, at its default.\n\
             # Flags (--hidden, --lr, ...) override the file.\n",
        );
        let tables = value.as_table().expect("a table");
        for section in ["data", "model", "train"] {
            out += &format!("\n[{section}]\n");
            let Some(fields) = tables.get(section).and_then(|v| v.as_table()) else {
                continue;
            };
            for (key, v) in fields {
                let name = format!("{section}.{key}");
                if let Some((_, doc)) = FIELDS.iter().find(|(f, _)| *f == name) {
                    out += &format!("# {doc}\n");
                }
                out += &format!("{key} = {v}\n");
            }
            // Options unset by default have no value to print: their documentation and the key.
            for (name, doc) in FIELDS {
                if let Some(key) = name.strip_prefix(&format!("{section}."))
                    && !fields.contains_key(key)
                {
                    out += &format!("# {doc}\n# {key} =\n");
                }
            }
        }
        out
    }
}
