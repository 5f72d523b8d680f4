//! [`Trainer`]: epochs over batches, truncated BPTT, clipping, progress, metrics, and a hard stop
//! on a NaN or infinite loss.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use rnnzoo_cell::{Params, Real, seeded};
use serde::{Deserialize, Serialize};

use crate::file::FileError;
use crate::loss::{
    CrossEntropyOptions, Loss, Reduction, binary_cross_entropy, cross_entropy_with, mse,
};
use crate::optim::{
    OptimError, Optimizer, check_bound, clip_grad_norm, clip_grad_value, grad_norm,
};
use crate::readout::step_mask_unchecked;
use crate::{Inputs, LayerError, Model, Readout};

mod shard;

pub use shard::GradientReducer;

/// The batch a trainer takes: the one type of `rnnzoo-cell`, which the datasets of
/// `rnnzoo-datasets` produce, so a dataset's batch trains as it is.
///
/// The targets pick the loss: values train with mean squared error, classes with softmax
/// cross-entropy on the head's logits, multi-hot sets with binary cross-entropy on them; per-step
/// targets need a model that reads every step ([`Readout::EveryStep`]), per-sample ones a model
/// that reads once per sample ([`Readout::LastStep`], [`Readout::FinalStates`]).
pub use rnnzoo_cell::batch::{Batch, Targets};

/// Steps `[t0, t1)` of a batch without lengths, with per-step targets: a chunk of a long stream
/// for truncated BPTT. Time-major storage makes each part one contiguous copy.
fn chunk<T: Real>(stream: &Batch<T>, t0: usize, t1: usize) -> Batch<T> {
    let b = stream.batch;
    let per_step = |v: &[T], rows: usize| v[t0 * b * rows..t1 * b * rows].to_vec();
    let targets = match &stream.targets {
        Targets::StepValues { values, outputs } => Targets::StepValues {
            values: per_step(values, *outputs),
            outputs: *outputs,
        },
        Targets::StepMultiHot {
            values,
            num_classes,
        } => Targets::StepMultiHot {
            values: per_step(values, *num_classes),
            num_classes: *num_classes,
        },
        Targets::StepClasses {
            classes,
            num_classes,
        } => Targets::StepClasses {
            classes: classes[t0 * b..t1 * b].to_vec(),
            num_classes: *num_classes,
        },
        // train_stream refuses per-sample targets before it cuts chunks.
        other => other.clone(),
    };
    Batch {
        inputs: per_step(&stream.inputs, stream.features),
        features: stream.features,
        steps: t1 - t0,
        batch: b,
        lengths: None,
        targets,
    }
}

/// How to train.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Clip the global gradient norm to this (`clip_grad_norm_`), if set.
    pub clip_norm: Option<f64>,
    /// Clip every gradient value to `[-v, v]`, if set.
    pub clip_value: Option<f64>,
    /// Skip a batch whose loss or gradient is NaN or infinite instead of stopping with an error.
    pub skip_nonfinite: bool,
    /// Seed of the trainer's random source (dropout masks, shuffling through [`Trainer::rng`]).
    pub seed: u64,
    /// How the loss's terms are combined (PyTorch's `reduction`): the mean, or the sum.
    #[serde(default)]
    pub reduction: Reduction,
    /// Class weights and label smoothing of the cross-entropy (class targets only).
    #[serde(default)]
    pub cross_entropy: CrossEntropyOptions,
}

impl TrainConfig {
    /// Checks the clipping bounds: each, if set, a number `>= 0`.
    ///
    /// ```
    /// use rnnzoo_layers::optim::OptimError;
    /// use rnnzoo_layers::train::TrainConfig;
    /// let bad = TrainConfig { clip_norm: Some(f64::NAN), ..TrainConfig::default() };
    /// assert!(matches!(bad.validate(), Err(OptimError::Clip { what: "clip_norm", .. })));
    /// ```
    ///
    /// # Errors
    ///
    /// [`OptimError::Clip`] for a negative or NaN `clip_norm` or `clip_value`.
    pub fn validate(&self) -> Result<(), OptimError> {
        if let Some(v) = self.clip_norm {
            check_bound("clip_norm", v)?;
        }
        if let Some(v) = self.clip_value {
            check_bound("clip_value", v)?;
        }
        Ok(())
    }
}

/// What one update did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepStats {
    /// The update's number (1 for the first).
    pub step: u64,
    /// The batch's loss before the update.
    pub loss: f64,
    /// The global gradient norm before clipping.
    pub grad_norm: f64,
    /// Whether the update was skipped (non-finite loss or gradient, with `skip_nonfinite`).
    pub skipped: bool,
}

/// Why training stopped.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The loss or the gradient became NaN or infinite.
    #[error(
        "step {step}: the {what} is {value} (not finite); lower the learning rate, clip gradients, or set skip_nonfinite"
    )]
    NonFinite {
        /// The update's number.
        step: u64,
        /// `"loss"` or `"gradient norm"`.
        what: &'static str,
        /// The value.
        value: f64,
    },
    /// A batch does not fit the model.
    #[error(transparent)]
    Layer(#[from] LayerError),
    /// The optimizer refused.
    #[error(transparent)]
    Optim(#[from] OptimError),
    /// A file could not be written or read.
    #[error(transparent)]
    File(#[from] FileError),
    /// A request that cannot be met (for example truncated BPTT over a batch with lengths).
    #[error("{0}")]
    Invalid(String),
    /// A [`GradientReducer`] failed: the processes of a data-parallel run could not combine
    /// their gradients.
    #[error("combining the gradients of the processes: {0}")]
    Reduce(String),
}

/// Trains a [`Model`] with an [`Optimizer`].
///
/// ```
/// use rnnzoo_cell::seeded;
/// use rnnzoo_layers::head::{Activation, Dense};
/// use rnnzoo_layers::optim::Adam;
/// use rnnzoo_layers::train::{Batch, Targets, TrainConfig, Trainer};
/// use rnnzoo_layers::{Model, Readout, Recurrent, Stack};
/// use rnnzoo_gru::GruCell;
///
/// // Learn to output the first input of a sequence at its end.
/// let body = Stack::new(vec![Box::new(Recurrent::new(GruCell::<f32>::new(1, 8, &mut seeded(0))?))])?;
/// let head = Dense::new(8, 1, Activation::Identity, &mut seeded(1))?;
/// let model = Model::new(body, head, Readout::LastStep)?;
/// let mut trainer = Trainer::new(model, Box::new(Adam::new(0.02)), TrainConfig::default());
/// let (t, b) = (5, 16);
/// let x: Vec<f32> = (0..t * b).map(|k| ((k * 7919) % 13) as f32 / 13.0 - 0.5).collect();
/// let targets = Targets::FinalValues { values: x[..b].to_vec(), outputs: 1 };
/// let batch = Batch { inputs: x, features: 1, steps: t, batch: b, lengths: None, targets };
/// let first = trainer.step(&batch)?.loss;
/// for _ in 0..150 { trainer.step(&batch)?; }
/// assert!(trainer.evaluate(&batch)? < first / 10.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Trainer<T> {
    model: Model<T>,
    optimizer: Box<dyn Optimizer<T>>,
    config: TrainConfig,
    steps: u64,
    rng: ChaCha8Rng,
    grads: Vec<Params<T>>,
    metrics: Option<PathBuf>,
}

impl<T: Real> Trainer<T> {
    /// A trainer at step 0 with its random source seeded from `config.seed`.
    pub fn new(model: Model<T>, optimizer: Box<dyn Optimizer<T>>, config: TrainConfig) -> Self {
        let grads = model.zero_grads();
        let rng = seeded(config.seed);
        Self {
            model,
            optimizer,
            config,
            steps: 0,
            rng,
            grads,
            metrics: None,
        }
    }

    /// Puts a trainer back together from saved parts (see `checkpoint::load_training`).
    pub fn resume(
        model: Model<T>,
        optimizer: Box<dyn Optimizer<T>>,
        config: TrainConfig,
        steps: u64,
        rng: ChaCha8Rng,
    ) -> Self {
        Self {
            rng,
            steps,
            ..Self::new(model, optimizer, config)
        }
    }

    /// Appends one JSON object per update (and per epoch, from [`Trainer::fit`]) to `path`.
    pub fn log_metrics_to(&mut self, path: &Path) {
        self.metrics = Some(path.to_path_buf());
    }

    /// The model.
    pub fn model(&self) -> &Model<T> {
        &self.model
    }

    /// The model, for writing.
    pub fn model_mut(&mut self) -> &mut Model<T> {
        &mut self.model
    }

    /// The optimizer.
    pub fn optimizer(&self) -> &dyn Optimizer<T> {
        self.optimizer.as_ref()
    }

    /// The optimizer, for writing (a learning-rate schedule).
    pub fn optimizer_mut(&mut self) -> &mut dyn Optimizer<T> {
        self.optimizer.as_mut()
    }

    /// The configuration.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Updates taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The trainer's random source (dropout masks; use it to shuffle so a seed fixes everything).
    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }

    /// The random source as it stands (what a checkpoint saves).
    pub fn rng_state(&self) -> &ChaCha8Rng {
        &self.rng
    }

    fn loss(&self, predictions: &[T], batch: &Batch<T>) -> Result<Loss<T>, LayerError> {
        let rows = self.model.head().output_size();
        let readout = self.model.readout();
        if batch.targets.is_per_step() != (readout == Readout::EveryStep) {
            return Err(LayerError::TargetsKind {
                targets: if batch.targets.is_per_step() {
                    "per-step"
                } else {
                    "per-sample"
                },
                readout: match readout {
                    Readout::EveryStep => "every step",
                    Readout::LastStep => "each sample's last step",
                    Readout::FinalStates => "the final states",
                },
            });
        }
        let mask = match readout {
            // The forward pass has checked the lengths.
            Readout::EveryStep if batch.lengths.is_some() => Some(step_mask_unchecked(
                batch.steps,
                batch.batch,
                batch.lengths.as_deref(),
            )),
            _ => None,
        };
        let mask = mask.as_deref();
        let loss = match &batch.targets {
            Targets::FinalValues { values, .. } | Targets::StepValues { values, .. } => {
                mse(predictions, values, rows, mask)
            }
            Targets::FinalClasses { classes, .. } | Targets::StepClasses { classes, .. } => {
                cross_entropy_with(predictions, classes, rows, mask, &self.config.cross_entropy)
            }
            Targets::StepMultiHot { values, .. } => {
                binary_cross_entropy(predictions, values, rows, mask)
            }
        }?;
        Ok(loss.reduced(self.config.reduction))
    }

    /// The loss of `batch` without updating (no dropout).
    ///
    /// # Errors
    ///
    /// [`LayerError`] if the batch does not fit the model.
    pub fn evaluate(&self, batch: &Batch<T>) -> Result<f64, LayerError> {
        let p = self.model.predict(Inputs::from(batch))?;
        Ok(self.loss(&p.predictions, batch)?.value)
    }

    /// One update on `batch`.
    ///
    /// # Errors
    ///
    /// [`TrainError::NonFinite`] naming the step if the loss or gradient is not finite (unless
    /// `skip_nonfinite`); [`TrainError::Layer`]/[`TrainError::Optim`] for a batch or state that
    /// does not fit, or a negative or NaN clipping bound ([`OptimError::Clip`]).
    pub fn step(&mut self, batch: &Batch<T>) -> Result<StepStats, TrainError> {
        Ok(self.step_with_state(batch, None)?.0)
    }

    /// One update on `batch` starting from `initial` state; returns the final state too: the carry
    /// of truncated BPTT, for a loop that makes its chunks as it goes (the next chunk starts from
    /// it, and no gradient flows back into this chunk through it). [`Trainer::train_stream`] is
    /// the same loop over one batch already in memory.
    ///
    /// # Errors
    ///
    /// As [`Trainer::step`], and [`LayerError::InitialState`] for an initial state of the wrong
    /// size.
    pub fn step_with_state(
        &mut self,
        batch: &Batch<T>,
        initial: Option<&[T]>,
    ) -> Result<(StepStats, Vec<T>), TrainError> {
        self.config.validate()?;
        let step = self.steps + 1;
        let inputs = Inputs {
            initial,
            ..Inputs::from(batch)
        };
        let (pred, tape) = self
            .model
            .forward(inputs, Some(&mut self.rng as &mut dyn RngCore))?;
        let loss = self.loss(&pred.predictions, batch)?;
        let nonfinite = |what, value| TrainError::NonFinite { step, what, value };
        if !loss.value.is_finite() {
            return self.skip_or_fail(
                nonfinite("loss", loss.value),
                step,
                loss.value,
                f64::NAN,
                pred.final_state,
            );
        }
        self.grads.iter_mut().for_each(Params::zero);
        self.model
            .backward(&tape, &loss.grad, None, &mut self.grads)?;
        self.apply(step, loss.value, pred.final_state)
    }

    /// The update from the gradients in `self.grads` (this process's, or after a data-parallel
    /// reduction the global batch's): the finite checks, clipping, the optimizer's step and the
    /// cells' constraints.
    fn apply(
        &mut self,
        step: u64,
        loss: f64,
        state: Vec<T>,
    ) -> Result<(StepStats, Vec<T>), TrainError> {
        let nonfinite = |what, value| TrainError::NonFinite { step, what, value };
        if !loss.is_finite() {
            return self.skip_or_fail(nonfinite("loss", loss), step, loss, f64::NAN, state);
        }
        let grad_norm = match self.config.clip_norm {
            Some(max) => clip_grad_norm(&mut self.grads.iter_mut().collect::<Vec<_>>(), max)?,
            None => grad_norm(&self.grads.iter().collect::<Vec<_>>()),
        };
        if !grad_norm.is_finite() {
            return self.skip_or_fail(
                nonfinite("gradient norm", grad_norm),
                step,
                loss,
                grad_norm,
                state,
            );
        }
        if let Some(v) = self.config.clip_value {
            clip_grad_value(&mut self.grads.iter_mut().collect::<Vec<_>>(), v)?;
        }
        let grads: Vec<&Params<T>> = self.grads.iter().collect();
        self.optimizer.step(&mut self.model.params_mut(), &grads)?;
        self.model.constrain();
        self.steps = step;
        let stats = StepStats {
            step,
            loss,
            grad_norm,
            skipped: false,
        };
        self.log(&stats)?;
        Ok((stats, state))
    }

    fn skip_or_fail(
        &mut self,
        err: TrainError,
        step: u64,
        loss: f64,
        grad_norm: f64,
        state: Vec<T>,
    ) -> Result<(StepStats, Vec<T>), TrainError> {
        if !self.config.skip_nonfinite {
            return Err(err);
        }
        // A skipped batch still counts as a step, so step numbers match the batches seen.
        self.steps = step;
        let stats = StepStats {
            step,
            loss,
            grad_norm,
            skipped: true,
        };
        self.log(&stats)?;
        Ok((stats, state))
    }

    /// Truncated BPTT over one long batch (a stream, no lengths, per-step targets): updates on
    /// chunks of `k` steps in order, each starting from the previous chunk's final state, with the
    /// gradient cut at the chunk boundary.
    ///
    /// # Errors
    ///
    /// [`TrainError::Invalid`] for `k == 0`, a batch with lengths or a model that does not read
    /// every step; [`LayerError::InputShape`] for inputs that are not the stream's size and
    /// [`LayerError::Size`] for targets that are not (checked before any update, so a short
    /// target list never trains the first chunks and fails on a later one); otherwise as
    /// [`Trainer::step`].
    pub fn train_stream(
        &mut self,
        stream: &Batch<T>,
        k: usize,
    ) -> Result<Vec<StepStats>, TrainError> {
        if k == 0 || stream.lengths.is_some() || self.model.readout() != Readout::EveryStep {
            return Err(TrainError::Invalid(
                "truncated BPTT needs k >= 1, a stream without lengths and a model that reads every step".into(),
            ));
        }
        let (features, outputs) = (
            self.model.body_input_size(),
            self.model.head().output_size(),
        );
        if stream.features != features
            || stream.inputs.len() != features * stream.steps * stream.batch
        {
            return Err(LayerError::InputShape {
                expected: features * stream.steps * stream.batch,
                got: stream.inputs.len(),
                steps: stream.steps,
                batch: stream.batch,
                features,
            }
            .into());
        }
        let (steps, batch) = (stream.steps, stream.batch);
        let (what, expected, got) = match &stream.targets {
            Targets::StepValues { values, .. } | Targets::StepMultiHot { values, .. } => {
                ("targets", outputs * steps * batch, values.len())
            }
            Targets::StepClasses { classes, .. } => {
                ("target classes", steps * batch, classes.len())
            }
            Targets::FinalValues { .. } | Targets::FinalClasses { .. } => {
                return Err(LayerError::TargetsKind {
                    targets: "per-sample",
                    readout: "every step",
                }
                .into());
            }
        };
        if got != expected {
            return Err(LayerError::Size {
                what,
                expected,
                got,
            }
            .into());
        }
        let mut carry: Option<Vec<T>> = None;
        let mut stats = Vec::new();
        for t0 in (0..stream.steps).step_by(k) {
            let chunk = chunk(stream, t0, (t0 + k).min(stream.steps));
            let (s, state) = self.step_with_state(&chunk, carry.as_deref())?;
            carry = Some(state);
            stats.push(s);
        }
        Ok(stats)
    }

    fn log(&self, stats: &StepStats) -> Result<(), TrainError> {
        match &self.metrics {
            Some(path) => append_json(
                path,
                &serde_json::json!({"kind": "step", "step": stats.step, "loss": stats.loss, "grad_norm": stats.grad_norm, "skipped": stats.skipped}),
            ),
            None => Ok(()),
        }
    }

    /// Runs `epochs` epochs: each takes the batches `batches(epoch, rng)` returns (shuffle with the
    /// trainer's `rng` so a seed fixes the order), updates on each, and evaluates `eval` if given.
    /// Shows a progress bar with loss and speed on a terminal (when `progress`), and logs one JSON
    /// line per epoch to the metrics file.
    ///
    /// # Errors
    ///
    /// As [`Trainer::step`].
    pub fn fit(
        &mut self,
        epochs: usize,
        mut batches: impl FnMut(usize, &mut ChaCha8Rng) -> Vec<Batch<T>>,
        eval: Option<&Batch<T>>,
        progress: bool,
    ) -> Result<Vec<EpochStats>, TrainError> {
        let mut history = Vec::with_capacity(epochs);
        for epoch in 0..epochs {
            let list = batches(epoch, &mut self.rng);
            let bar = progress_bar(
                progress,
                list.len() as u64,
                &format!("epoch {}/{epochs}", epoch + 1),
            );
            let started = Instant::now();
            let (mut sum, mut n) = (0.0, 0usize);
            for b in &list {
                let s = self.step(b)?;
                if !s.skipped {
                    sum += s.loss;
                    n += 1;
                }
                bar.set_message(format!("loss {:.4}", sum / n.max(1) as f64));
                bar.inc(1);
            }
            bar.finish_and_clear();
            let seconds = started.elapsed().as_secs_f64();
            let eval_loss = eval.map(|e| self.evaluate(e)).transpose()?;
            let stats = EpochStats {
                epoch: epoch + 1,
                train_loss: if n > 0 { sum / n as f64 } else { f64::NAN },
                eval_loss,
                batches_per_second: list.len() as f64 / seconds.max(1e-9),
            };
            if let Some(path) = &self.metrics {
                append_json(
                    path,
                    &serde_json::json!({"kind": "epoch", "epoch": stats.epoch, "train_loss": stats.train_loss, "eval_loss": stats.eval_loss, "batches_per_second": stats.batches_per_second}),
                )?;
            }
            history.push(stats);
        }
        Ok(history)
    }
}

/// One epoch's figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// The epoch (1 for the first).
    pub epoch: usize,
    /// Mean loss of the epoch's updates.
    pub train_loss: f64,
    /// The evaluation batch's loss after the epoch, if one was given.
    pub eval_loss: Option<f64>,
    /// Updates per second.
    pub batches_per_second: f64,
}

/// A progress bar on standard error, drawn only when asked and on a terminal.
pub fn progress_bar(show: bool, len: u64, prefix: &str) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} {msg} {per_sec} eta {eta}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(prefix.to_string());
    bar
}

/// Appends `value` as one line of a JSON-lines file (created if missing): how the trainer writes
/// its metrics, and a caller's own loop can write its records the same way.
///
/// ```
/// let p = std::env::temp_dir().join("rnnzoo-doc-append.jsonl");
/// # let _ = std::fs::remove_file(&p);
/// rnnzoo_layers::train::append_json(&p, &serde_json::json!({"step": 1}))?;
/// rnnzoo_layers::train::append_json(&p, &serde_json::json!({"step": 2}))?;
/// assert_eq!(std::fs::read_to_string(&p)?, "{\"step\":1}\n{\"step\":2}\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`TrainError::File`] ([`FileError::Io`] naming the file) if it cannot be opened or written.
pub fn append_json(path: &Path, value: &serde_json::Value) -> Result<(), TrainError> {
    let io = |source| FileError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    writeln!(f, "{value}").map_err(io)?;
    Ok(())
}
