//! The training loop of `rnnzoo train` for a character-level language model: truncated BPTT
//! over `batch` contiguous streams (char-rnn's and PyTorch's `word_language_model`'s recipe),
//! validation every `eval_every` updates, checkpoints, metrics, early stopping, resume, and a
//! checkpoint on SIGINT.
//!
//! # What is written into `--out`
//!
//! - `latest.safetensors`: the whole training state after the last validation (or the
//!   interrupt), written atomically: weights, optimizer moments, the random source, the update
//!   count, and in its `extra` record the run's configuration, the vocabulary, the position in the
//!   data and the carried state, so `--resume` continues bit for bit.
//! - `best.safetensors`: the same at the best validation loss so far.
//! - `metrics.jsonl`: one JSON object per validation (`step`, `epoch`, `lr`, `train_bpc`,
//!   `valid_bpc`, `valid_predicted`, `seconds`, `chars_per_second`).
//! - `loss.svg`: training and validation bits per character against updates.
//! - `run.toml`: the configuration the run used, flags applied.
//!
//! # Resume
//!
//! The state is carried across updates within an epoch and reset at each epoch's start. Every
//! quantity the next update depends on is in the checkpoint, so training `N` updates, stopping,
//! and resuming to `M` gives the weights an uninterrupted run to `M` gives, bit for bit (a test
//! checks it), and the same `metrics.jsonl`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rnnzoo::cell::Real;
use rnnzoo::datasets::{TokenChunk, Vocabulary, batchify};
use rnnzoo::layers::checkpoint::{load_training, save_training};
use rnnzoo::layers::file::{FileError, write_atomic};
use rnnzoo::layers::optim::{Adam, AdamW, Optimizer, RmsProp, Sgd};
use rnnzoo::layers::train::{Batch, Targets, TrainConfig, Trainer, append_json, progress_bar};
use serde::{Deserialize, Serialize};

use super::config::{OptimizerKind, RunConfig, Schedule};
use super::corpus::Corpus;
use super::text::{bits_per_char, one_hot};
use super::{BEST, LATEST, model};
use crate::reproduce::plot::{Chart, Series};
use crate::speed::Dtype;

/// How a run is driven (not part of its configuration).
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The output folder.
    pub out: PathBuf,
    /// Continue from `out/latest.safetensors`.
    pub resume: bool,
    /// Draw a progress bar (on a terminal).
    pub progress: bool,
    /// Set by the SIGINT handler: the loop writes a checkpoint and stops.
    pub interrupt: Option<Arc<AtomicBool>>,
}

/// Why the run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stopped {
    /// Every update was made.
    Finished,
    /// `patience` validations passed without a new best.
    EarlyStopped,
    /// SIGINT: the state at the interrupt is in `latest.safetensors`.
    Interrupted,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    /// Updates made in all (across resumes).
    pub steps: u64,
    /// Validation bits per character at the last validation.
    pub valid_bpc: f64,
    /// The best of them.
    pub best_valid_bpc: f64,
    /// Why it stopped.
    pub stopped: Stopped,
    /// Seconds of this invocation.
    pub seconds: f64,
    /// Characters in the vocabulary.
    pub vocab: usize,
    /// Trainable values.
    pub params: usize,
}

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Updates so far.
    pub step: u64,
    /// The epoch the update belongs to (1 for the first pass).
    pub epoch: u64,
    /// The learning rate of the last update.
    pub lr: f64,
    /// Mean training bits per character over the updates since the previous line.
    pub train_bpc: f64,
    /// Validation bits per character.
    pub valid_bpc: f64,
    /// Characters predicted in the validation text.
    pub valid_predicted: usize,
    /// Seconds of training so far (across resumes).
    pub seconds: f64,
    /// Training characters per second since the previous line.
    pub chars_per_second: f64,
}

/// The caller's record in a checkpoint: everything beyond the trainer's own state that the next
/// update depends on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The configuration.
    pub config: RunConfig,
    /// The vocabulary (the model's input and output symbols, in id order).
    pub vocab: Vocabulary,
    /// The carried state after the last update (empty at an epoch's start), in f64 (exact for
    /// an f32 model too).
    pub state: Vec<f64>,
    /// Training nats and predicted characters since the last metrics line.
    pub pending: (f64, u64),
    /// The best validation bits per character so far (none before the first validation).
    pub best: Option<f64>,
    /// Validations since the best.
    pub since_best: usize,
    /// Seconds of training before this point.
    pub seconds: f64,
}

impl RunRecord {
    /// Records the position's carried state and pending training loss.
    fn keep<T: Real>(&mut self, state: Option<&[T]>, pending: (f64, u64)) {
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
    /// The text is too short for the batch and the validation split.
    #[error(
        "the {part} text has {chars} characters; {batch} streams need at least {need} (lower train.batch or raise data.valid_fraction)"
    )]
    TooShort {
        /// `training` or `validation`.
        part: &'static str,
        /// Its characters.
        chars: usize,
        /// Streams.
        batch: usize,
        /// Characters needed.
        need: usize,
    },
    /// A checkpoint could not be written or read.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: FileError,
    },
}

/// The learning rate of update `u` (0-based) of `total`.
///
/// ```
/// use rnnzoo_bench::train::{run::lr_at, TrainSettings, Schedule};
/// let t = TrainSettings { lr: 1.0, schedule: Schedule::Step, decay: 0.5, decay_every: 10, ..Default::default() };
/// assert_eq!((lr_at(&t, 9, 100), lr_at(&t, 10, 100), lr_at(&t, 25, 100)), (1.0, 0.5, 0.25));
/// let c = TrainSettings { lr: 1.0, schedule: Schedule::Cosine, ..Default::default() };
/// assert_eq!((lr_at(&c, 0, 100), lr_at(&c, 50, 100)), (1.0, 0.5));
/// ```
pub fn lr_at(t: &super::TrainSettings, u: u64, total: u64) -> f64 {
    match t.schedule {
        Schedule::Constant => t.lr,
        Schedule::Step => t.lr * t.decay.powi((u / t.decay_every) as i32),
        Schedule::Cosine => {
            let frac = u as f64 / total.max(1) as f64;
            t.lr * 0.5 * (1.0 + (std::f64::consts::PI * frac).cos())
        }
    }
}

fn optimizer<T: Real>(kind: OptimizerKind, lr: f64) -> Box<dyn Optimizer<T>> {
    match kind {
        OptimizerKind::Adam => Box::new(Adam::new(lr)),
        OptimizerKind::Adamw => Box::new(AdamW::new(lr)),
        OptimizerKind::Sgd => Box::new(Sgd::new(lr)),
        OptimizerKind::Rmsprop => Box::new(RmsProp::new(lr)),
    }
}

/// Trains (or resumes) the run `cfg` describes, into `opts.out`.
///
/// ```no_run
/// use rnnzoo_bench::train::{run::{train, RunOptions}, RunConfig};
/// let mut cfg = RunConfig::default();
/// cfg.data.text = "input.txt".into();
/// let s = train(&cfg, &RunOptions { out: "run".into(), ..Default::default() })?;
/// println!("{} updates, valid {:.3} bits/char", s.steps, s.valid_bpc);
/// # Ok::<(), anyhow::Error>(())
/// ```
///
/// # Errors
///
/// [`RunError`] for a text too short, nothing to resume or a checkpoint of something else, a
/// file that cannot be written; the corpus's errors ([`super::corpus::CorpusError`]); the
/// trainer's for a non-finite loss (naming the update).
pub fn train(cfg: &RunConfig, opts: &RunOptions) -> anyhow::Result<RunSummary> {
    cfg.validate()?;
    match cfg.model.dtype {
        Dtype::F32 => train_in::<f32>(cfg, opts),
        Dtype::F64 => train_in::<f64>(cfg, opts),
    }
}

/// Reads the run record of a checkpoint of `rnnzoo train`.
///
/// # Errors
///
/// [`RunError::File`] for a file that cannot be read, [`RunError::NotARun`] for another kind of
/// file.
pub fn read_record(path: &Path) -> Result<RunRecord, RunError> {
    let file = |source| RunError::File {
        path: path.to_path_buf(),
        source,
    };
    let t = rnnzoo::layers::file::Tensors::read(path, false).map_err(file)?;
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

fn train_in<T: Real>(cfg: &RunConfig, opts: &RunOptions) -> anyhow::Result<RunSummary> {
    let started = Instant::now();
    std::fs::create_dir_all(&opts.out).map_err(|source| RunError::File {
        path: opts.out.clone(),
        source: FileError::Io {
            path: opts.out.display().to_string(),
            source,
        },
    })?;
    let latest = opts.out.join(LATEST);
    let best_path = opts.out.join(BEST);
    let metrics_path = opts.out.join("metrics.jsonl");

    let corpus = Corpus::load(&cfg.data)?;
    let t = &cfg.train;
    let need = 2 * t.batch;
    if corpus.train.len() < need {
        return Err(RunError::TooShort {
            part: "training",
            chars: corpus.train.len(),
            batch: t.batch,
            need,
        }
        .into());
    }
    // Validation uses the training batch when the held-out text allows it, else fewer streams.
    let valid_batch = t.batch.min(corpus.valid.len() / 2);
    if valid_batch == 0 {
        return Err(RunError::TooShort {
            part: "validation",
            chars: corpus.valid.len(),
            batch: 1,
            need: 2,
        }
        .into());
    }
    let v = corpus.vocab.len();
    let data = batchify(&corpus.train, t.batch)?;
    let chunks: Vec<TokenChunk> = data.chunks(t.bptt)?.collect();
    let per_epoch = chunks.len() as u64;
    let total = if t.steps > 0 {
        t.steps
    } else {
        per_epoch * t.epochs as u64
    };

    let (mut trainer, mut record) = if opts.resume {
        if !latest.exists() {
            return Err(RunError::NothingToResume { path: latest }.into());
        }
        let saved = read_record(&latest)?;
        anyhow::ensure!(
            saved.vocab == corpus.vocab,
            "--resume: the text's vocabulary ({} characters) is not the checkpoint's ({}); resume on the text the run was started with",
            v,
            saved.vocab.len()
        );
        let m = model::build::<T>(&saved.config.model, v, saved.config.train.seed)?;
        let bytes = std::fs::read(&latest).map_err(|source| RunError::File {
            path: latest.clone(),
            source: FileError::Io {
                path: latest.display().to_string(),
                source,
            },
        })?;
        let (trainer, _) = load_training(m, &bytes).map_err(|source| RunError::File {
            path: latest.clone(),
            source,
        })?;
        truncate_metrics(&metrics_path, trainer.steps())?;
        (trainer, saved)
    } else {
        let m = model::build::<T>(&cfg.model, v, t.seed)?;
        let config = TrainConfig {
            clip_norm: (t.clip > 0.0).then_some(t.clip),
            seed: t.seed,
            ..TrainConfig::default()
        };
        let _ = std::fs::remove_file(&metrics_path);
        let trainer = Trainer::new(m, optimizer::<T>(t.optimizer, t.lr), config);
        let record = RunRecord {
            config: cfg.clone(),
            vocab: corpus.vocab.clone(),
            state: Vec::new(),
            pending: (0.0, 0),
            best: None,
            since_best: 0,
            seconds: 0.0,
        };
        (trainer, record)
    };
    // A resumed run may train for longer, validate at another interval, stop on another patience
    // or use other threads; anything else would not continue the same run.
    let conflicts = resume_conflicts(&record.config, cfg);
    anyhow::ensure!(
        conflicts.is_empty(),
        "--resume: {} differ from the checkpoint's run; a resumed run keeps its data, model and optimizer (start a new --out to change them)",
        conflicts.join(", ")
    );
    record.config = cfg.clone();
    let run_cfg = record.config.clone();
    std::fs::write(
        opts.out.join("run.toml"),
        toml::to_string(&run_cfg).map_err(|e| anyhow::anyhow!("run.toml: {e}"))?,
    )
    .map_err(|source| RunError::File {
        path: opts.out.join("run.toml"),
        source: FileError::Io {
            path: "run.toml".into(),
            source,
        },
    })?;
    let t = &run_cfg.train;
    let params = model::param_count(trainer.model());

    let save = |trainer: &Trainer<T>, record: &RunRecord, path: &Path| -> Result<(), RunError> {
        let extra = serde_json::to_value(record).expect("a run record serialises");
        save_training(trainer, extra, path).map_err(|source| RunError::File {
            path: path.to_path_buf(),
            source,
        })
    };

    let first = trainer.steps();
    let bar = progress_bar(opts.progress, total, "train");
    bar.set_position(first.min(total));
    let mut state: Option<Vec<T>> = (!record.state.is_empty())
        .then(|| record.state.iter().map(|&x| T::from_f64_lossy(x)).collect());
    let (mut nats, mut predicted) = record.pending;
    let mut interval_started = Instant::now();
    let mut interval_chars = 0usize;
    let mut stopped = Stopped::Finished;
    let mut last_valid = f64::NAN;

    let mut u = first;
    while u < total {
        let k = (u % per_epoch) as usize;
        if k == 0 {
            state = None;
        }
        trainer.optimizer_mut().set_lr(lr_at(t, u, total));
        let chunk = &chunks[k];
        let batch = Batch {
            inputs: one_hot::<T>(&chunk.inputs, v),
            features: v,
            steps: chunk.steps,
            batch: chunk.batch,
            lengths: None,
            targets: Targets::StepClasses {
                classes: chunk.targets.clone(),
                num_classes: v,
            },
        };
        let (stats, carry) = trainer.step_with_state(&batch, state.as_deref())?;
        let n = chunk.steps * chunk.batch;
        nats += stats.loss * n as f64;
        predicted += n as u64;
        interval_chars += n;
        state = Some(carry);
        u += 1;
        bar.inc(1);
        let interrupted = opts
            .interrupt
            .as_ref()
            .is_some_and(|f| f.load(Ordering::SeqCst));
        let evaluate = u % t.eval_every == 0 || u == total;
        if evaluate {
            let score = bits_per_char(trainer.model(), &corpus.valid, valid_batch, t.bptt)?;
            last_valid = score.bits_per_char;
            let interval = interval_started.elapsed().as_secs_f64();
            let line = Metrics {
                step: u,
                epoch: (u - 1) / per_epoch + 1,
                lr: trainer.optimizer().lr(),
                train_bpc: nats / predicted.max(1) as f64 / std::f64::consts::LN_2,
                valid_bpc: score.bits_per_char,
                valid_predicted: score.predicted,
                seconds: record.seconds + interval,
                chars_per_second: interval_chars as f64 / interval.max(1e-9),
            };
            append_metrics(&metrics_path, &line)?;
            (nats, predicted) = (0.0, 0);
            record.seconds += interval;
            interval_started = Instant::now();
            interval_chars = 0;
            let new_best = record.best.is_none_or(|b| score.bits_per_char < b);
            if new_best {
                (record.best, record.since_best) = (Some(score.bits_per_char), 0);
            } else {
                record.since_best += 1;
            }
            record.keep(state.as_deref(), (nats, predicted));
            save(&trainer, &record, &latest)?;
            if new_best {
                save(&trainer, &record, &best_path)?;
            }
            write_plot(&metrics_path, &opts.out.join("loss.svg"))?;
            bar.set_message(format!(
                "valid {:.3} bits/char, {:.0} chars/s",
                score.bits_per_char, line.chars_per_second
            ));
            if t.patience > 0 && record.since_best >= t.patience {
                stopped = Stopped::EarlyStopped;
                break;
            }
        }
        if interrupted {
            if !evaluate {
                record.seconds += interval_started.elapsed().as_secs_f64();
                record.keep(state.as_deref(), (nats, predicted));
                save(&trainer, &record, &latest)?;
            }
            stopped = Stopped::Interrupted;
            break;
        }
        if u % 10 == 0 && !evaluate {
            bar.set_message(format!(
                "train {:.3} bits/char, {:.0} chars/s",
                nats / predicted.max(1) as f64 / std::f64::consts::LN_2,
                interval_chars as f64 / interval_started.elapsed().as_secs_f64().max(1e-9)
            ));
        }
    }
    bar.finish_and_clear();
    Ok(RunSummary {
        steps: trainer.steps(),
        valid_bpc: last_valid,
        best_valid_bpc: record.best.unwrap_or(f64::NAN),
        stopped,
        seconds: started.elapsed().as_secs_f64(),
        vocab: v,
        params,
    })
}

/// The fields of `new` that a resume of `saved` may not change.
fn resume_conflicts(saved: &RunConfig, new: &RunConfig) -> Vec<&'static str> {
    let (a, b) = (&saved.train, &new.train);
    let mut out = Vec::new();
    if saved.data != new.data {
        out.push("[data]");
    }
    if saved.model != new.model {
        out.push("[model]");
    }
    let fields: [(&'static str, bool); 9] = [
        ("train.batch", a.batch == b.batch),
        ("train.bptt", a.bptt == b.bptt),
        ("train.optimizer", a.optimizer == b.optimizer),
        ("train.lr", a.lr == b.lr),
        ("train.schedule", a.schedule == b.schedule),
        ("train.decay_every", a.decay_every == b.decay_every),
        ("train.decay", a.decay == b.decay),
        ("train.clip", a.clip == b.clip),
        ("train.seed", a.seed == b.seed),
    ];
    out.extend(fields.iter().filter(|(_, same)| !same).map(|(f, _)| *f));
    out
}

fn append_metrics(path: &Path, m: &Metrics) -> anyhow::Result<()> {
    let line = serde_json::to_value(m).expect("metrics serialise");
    Ok(append_json(path, &line)?)
}

/// The metrics lines up to update `step` (a resumed run rewrites what came after its checkpoint).
fn read_metrics(path: &Path) -> Vec<Metrics> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn truncate_metrics(path: &Path, step: u64) -> Result<(), RunError> {
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

fn write_plot(metrics: &Path, svg: &Path) -> anyhow::Result<()> {
    let lines = read_metrics(metrics);
    let pts = |f: fn(&Metrics) -> f64| lines.iter().map(|m| (m.step as f64, f(m))).collect();
    Chart::new("Bits per character", "update", "bits per character", false)
        .with(Series::line("train", pts(|m| m.train_bpc)))
        .with(Series::line("validation", pts(|m| m.valid_bpc)))
        .write_svg(svg)
}
