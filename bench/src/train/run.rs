//! The training loop of `rnnzoo train`: validation every `eval_every` updates, checkpoints,
//! metrics, early stopping, resume, and a checkpoint on SIGINT, over one of two sources:
//!
//! - **a text**: a character-level language model, truncated BPTT over `batch` contiguous streams
//!   (char-rnn's and PyTorch's `word_language_model`'s recipe), the state carried across updates
//!   within an epoch and reset at each epoch's start;
//! - **sequences** ([`super::sequences`]): minibatches of `batch` sequences, each unrolled whole
//!   (padded to the longest, with lengths), in an order shuffled per epoch from the seed; a seeded
//!   random `valid_fraction` of them held out.
//!
//! # What is written into `--out`
//!
//! - `latest.safetensors`: the whole training state after the last validation (or the
//!   interrupt), written atomically: weights, optimizer moments, the random source, the update
//!   count, and in its `extra` record the run's configuration, the vocabulary, the position in the
//!   data and the carried state, so `--resume` continues bit for bit.
//! - `best.safetensors`: the same at the best validation loss so far.
//! - `metrics.jsonl`: one JSON object per validation ([`Metrics`]: `step`, `epoch`, `lr`,
//!   `train_loss`, `valid_loss`, and `train_bpc`/`valid_bpc` for a text, `valid_accuracy` for
//!   classification, `valid_count`, `seconds`, `per_second`).
//! - `loss.svg`: training and validation loss (bits per character for a text) against updates.
//! - `run.toml`: the configuration the run used, flags applied.
//!
//! # Resume
//!
//! Every quantity the next update depends on is in the checkpoint (for a text, the carried state
//! too; a sequence epoch's order is a function of the seed and the epoch), so training `N`
//! updates, stopping, and resuming to `M` gives the weights an uninterrupted run to `M` gives, bit
//! for bit (tests check both sources), and the same `metrics.jsonl`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rnnzoo::cell::Real;
use rnnzoo::layers::checkpoint::{load_training, save_training};
use rnnzoo::layers::loss::{CrossEntropyOptions, Reduction};
use rnnzoo::layers::optim::{Adam, AdamW, Optimizer, RmsProp, Sgd};
use rnnzoo::layers::train::{TrainConfig, Trainer, progress_bar};
use serde::Serialize;

use super::comm::{BucketReducer, Communicator, Single, broadcast_params, share};
use super::config::{OptimizerKind, RunConfig, Schedule};
use super::metrics::{Metrics, append_metrics, truncate_metrics, write_plot};
use super::model::{self, Learned};
use super::record::io_error;
pub use super::record::{RunError, RunRecord, read_record};
use super::sequences::Task;
use super::source::{Source, Validation, items as items_of, shard};
use super::{BEST, LATEST};
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
    /// The last validation of this invocation (none if it validated nothing).
    pub valid: Option<Validation>,
    /// The best validation loss of the run.
    pub best_valid_loss: Option<f64>,
    /// Why it stopped.
    pub stopped: Stopped,
    /// Seconds of this invocation.
    pub seconds: f64,
    /// What was learned.
    pub learned: String,
    /// Trainable values.
    pub params: usize,
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

/// The run's optimizer: its kind at `t.lr`, `t.weight_decay` when set (else the kind's PyTorch
/// default: 0.01 for AdamW, 0 for the others), and `t.groups`.
fn optimizer<T: Real>(t: &super::TrainSettings) -> Result<Box<dyn Optimizer<T>>, RunError> {
    let mut opt: Box<dyn Optimizer<T>> = match (t.optimizer, t.weight_decay) {
        (OptimizerKind::Adam, None) => Box::new(Adam::new(t.lr)),
        (OptimizerKind::Adam, Some(wd)) => Box::new(Adam::new(t.lr).weight_decay(wd)),
        (OptimizerKind::Adamw, None) => Box::new(AdamW::new(t.lr)),
        (OptimizerKind::Adamw, Some(wd)) => Box::new(AdamW::new(t.lr).weight_decay(wd)),
        (OptimizerKind::Sgd, None) => Box::new(Sgd::new(t.lr)),
        (OptimizerKind::Sgd, Some(wd)) => Box::new(Sgd::new(t.lr).weight_decay(wd)),
        (OptimizerKind::Rmsprop, None) => Box::new(RmsProp::new(t.lr)),
        (OptimizerKind::Rmsprop, Some(wd)) => Box::new(RmsProp::new(t.lr).weight_decay(wd)),
    };
    opt.set_groups(t.groups.clone())
        .map_err(|e| RunError::Optimizer(e.to_string()))?;
    Ok(opt)
}

/// Trains (or resumes) the run `cfg` describes, into `opts.out`.
///
/// ```no_run
/// use rnnzoo_bench::train::{run::{train, RunOptions}, RunConfig};
/// let mut cfg = RunConfig::default();
/// cfg.data.text = "input.txt".into();
/// let s = train(&cfg, &RunOptions { out: "run".into(), ..Default::default() })?;
/// println!("{} updates, valid {:?}", s.steps, s.valid.and_then(|v| v.bpc));
/// # Ok::<(), anyhow::Error>(())
/// ```
///
/// # Errors
///
/// [`RunError`] for a text too short, nothing to resume or a checkpoint of something else, a
/// file that cannot be written; the corpus's errors ([`super::corpus::CorpusError`]); the
/// trainer's for a non-finite loss (naming the update).
pub fn train(cfg: &RunConfig, opts: &RunOptions) -> anyhow::Result<RunSummary> {
    train_with(cfg, opts, &Single)
}

/// [`train`] as one process of a data-parallel run over `comm` (`mpirun -np N rnnzoo train`):
/// each global batch is split across the processes ([`share`]: contiguous streams of a text,
/// sequences of a sequence batch), the initial (or loaded) weights are rank 0's, the gradients are
/// averaged by a bucketed allreduce ([`BucketReducer`]), and every process makes the same update,
/// so the run equals one process on the same global batch (to rounding). Rank 0 writes the
/// checkpoints, metrics and plot; a checkpoint holds the whole batch's carried state, so a run
/// resumes on any number of processes. Dropout masks are drawn per process, so a run with
/// dropout is not the one-process run's.
///
/// # Errors
///
/// As [`train`], and a batch of fewer text streams than processes.
pub fn train_with(
    cfg: &RunConfig,
    opts: &RunOptions,
    comm: &dyn Communicator,
) -> anyhow::Result<RunSummary> {
    cfg.validate()?;
    match cfg.model.dtype {
        Dtype::F32 => train_in::<f32>(cfg, opts, comm),
        Dtype::F64 => train_in::<f64>(cfg, opts, comm),
    }
}

fn train_in<T: Real>(
    cfg: &RunConfig,
    opts: &RunOptions,
    comm: &dyn Communicator,
) -> anyhow::Result<RunSummary> {
    let started = Instant::now();
    let (rank, size) = (comm.rank(), comm.size());
    // Rank 0 writes every file; the others only read the checkpoint they resume from.
    let lead = rank == 0;
    if lead {
        std::fs::create_dir_all(&opts.out).map_err(|e| io_error(&opts.out, e))?;
    }
    let latest = opts.out.join(LATEST);
    let best_path = opts.out.join(BEST);
    let metrics_path = opts.out.join("metrics.jsonl");

    let source = Source::open(cfg)?;
    let learned = source.learned();
    // The reducer averages the processes' means weighted by their items, which is the global
    // batch's loss only for an unweighted mean.
    if size > 1 && (cfg.train.reduction != Reduction::Mean || !cfg.train.class_weights.is_empty()) {
        anyhow::bail!(
            "train.reduction = sum and train.class_weights are not supported on several processes (the reduction averages unweighted means); train on one"
        );
    }
    if let Learned::Sequences {
        task: Task::Classify { classes },
        ..
    } = &learned
        && !cfg.train.class_weights.is_empty()
        && cfg.train.class_weights.len() != *classes
    {
        anyhow::bail!(
            "train.class_weights has {} weights; the data has {classes} classes",
            cfg.train.class_weights.len()
        );
    }
    if source.carries_state() && cfg.train.batch < size {
        anyhow::bail!(
            "train.batch = {} text streams cannot be split over {size} processes; give at least one each",
            cfg.train.batch
        );
    }
    let t = &cfg.train;
    let per_epoch = source.per_epoch();
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
            saved.learned == learned,
            "--resume: the data ({}) is not the checkpoint's ({}); resume on the data the run was started with",
            describe(&learned),
            describe(&saved.learned)
        );
        let m = model::build::<T>(&saved.config.model, &learned, saved.config.train.seed)?;
        let bytes = std::fs::read(&latest).map_err(|e| io_error(&latest, e))?;
        let (trainer, _) = load_training(m, &bytes).map_err(|source| RunError::File {
            path: latest.clone(),
            source,
        })?;
        if lead {
            truncate_metrics(&metrics_path, trainer.steps())?;
        }
        (trainer, saved)
    } else {
        let m = model::build::<T>(&cfg.model, &learned, t.seed)?;
        let config = TrainConfig {
            clip_norm: (t.clip > 0.0).then_some(t.clip),
            seed: t.seed,
            reduction: t.reduction,
            cross_entropy: CrossEntropyOptions {
                weight: (!t.class_weights.is_empty()).then(|| t.class_weights.clone()),
                label_smoothing: t.label_smoothing,
            },
            ..TrainConfig::default()
        };
        if lead {
            let _ = std::fs::remove_file(&metrics_path);
        }
        let trainer = Trainer::new(m, optimizer::<T>(t)?, config);
        let record = RunRecord {
            config: cfg.clone(),
            learned: learned.clone(),
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
    let run_toml = opts.out.join("run.toml");
    let toml_text = toml::to_string(cfg).map_err(|e| anyhow::anyhow!("run.toml: {e}"))?;
    if lead {
        std::fs::write(&run_toml, toml_text).map_err(|e| io_error(&run_toml, e))?;
    }
    broadcast_params(comm, &mut trainer.model_mut().params_mut());
    let params = model::param_count(trainer.model());
    let state_rows: Vec<usize> = trainer
        .model()
        .body()
        .layers()
        .iter()
        .map(|l| l.state_size())
        .collect();
    let is_text = matches!(learned, Learned::Text { .. });

    let save = |trainer: &Trainer<T>, record: &RunRecord, path: &Path| -> Result<(), RunError> {
        if !lead {
            return Ok(());
        }
        let extra = serde_json::to_value(record).expect("a run record serialises");
        save_training(trainer, extra, path).map_err(|source| RunError::File {
            path: path.to_path_buf(),
            source,
        })
    };

    let first = trainer.steps();
    let bar = progress_bar(opts.progress && lead, total, "train");
    bar.set_position(first.min(total));
    // This process's streams of the text (all of them alone).
    let mine = share(cfg.train.batch, rank, size);
    let mut state: Option<Vec<T>> = (!record.state.is_empty()).then(|| {
        let local = columns_of(&record.state, &state_rows, cfg.train.batch, mine.clone());
        local.iter().map(|&x| T::from_f64_lossy(x)).collect()
    });
    let mut reducer = BucketReducer::new(comm);
    let (mut loss_sum, mut items) = record.pending;
    let mut interval_started = Instant::now();
    let mut interval_items = 0usize;
    let mut stopped = Stopped::Finished;
    let mut last_valid = None;
    let unit = if is_text { "chars" } else { "sequences" };

    let mut u = first;
    while u < total {
        if !source.carries_state() || u % per_epoch == 0 {
            state = None;
        }
        trainer.optimizer_mut().set_lr(lr_at(t, u, total));
        let (batch, n) = source.batch::<T>(u);
        let local_interrupt = opts
            .interrupt
            .as_ref()
            .is_some_and(|f| f.load(Ordering::SeqCst));
        let (stats, carry) = if size == 1 {
            trainer.step_with_state(&batch, state.as_deref())?
        } else {
            let part = shard(&batch, share(batch.batch, rank, size));
            let local = (part.batch > 0).then_some(&part);
            reducer.interrupt = local_interrupt;
            trainer.step_shard(
                local,
                state.as_deref(),
                local.map_or(0, items_of),
                &mut reducer,
            )?
        };
        loss_sum += stats.loss * n as f64;
        items += n as u64;
        // A text's throughput is its characters; a sequence batch's, its sequences.
        interval_items += if is_text { n } else { batch.batch };
        if source.carries_state() {
            state = Some(carry);
        }
        u += 1;
        bar.inc(1);
        // Every process learns of an interrupt in the same reduction, so all stop together.
        let interrupted = if size == 1 {
            local_interrupt
        } else {
            reducer.any_interrupt
        };
        let evaluate = u % t.eval_every == 0 || u == total;
        if evaluate {
            let v = source.validate(trainer.model())?;
            last_valid = Some(v);
            let interval = interval_started.elapsed().as_secs_f64();
            let train_loss = loss_sum / items.max(1) as f64;
            let line = Metrics {
                step: u,
                epoch: (u - 1) / per_epoch + 1,
                lr: trainer.optimizer().lr(),
                train_loss,
                valid_loss: v.loss,
                train_bpc: is_text.then(|| train_loss / std::f64::consts::LN_2),
                valid_bpc: v.bpc,
                valid_accuracy: v.accuracy,
                valid_count: v.count,
                seconds: record.seconds + interval,
                per_second: interval_items as f64 / interval.max(1e-9),
            };
            if lead {
                append_metrics(&metrics_path, &line)?;
            }
            (loss_sum, items) = (0.0, 0);
            record.seconds += interval;
            interval_started = Instant::now();
            interval_items = 0;
            let new_best = record.best.is_none_or(|b| v.loss < b);
            if new_best {
                (record.best, record.since_best) = (Some(v.loss), 0);
            } else {
                record.since_best += 1;
            }
            let whole = gather(comm, state.as_deref(), &state_rows, cfg.train.batch, &mine);
            record.keep(whole.as_deref(), (loss_sum, items));
            save(&trainer, &record, &latest)?;
            if new_best {
                save(&trainer, &record, &best_path)?;
            }
            if lead {
                write_plot(&metrics_path, &opts.out.join("loss.svg"), is_text)?;
            }
            bar.set_message(format!(
                "valid {}, {:.0} {unit}/s",
                headline(&v),
                line.per_second
            ));
            if t.patience > 0 && record.since_best >= t.patience {
                stopped = Stopped::EarlyStopped;
                break;
            }
        }
        if interrupted {
            if !evaluate {
                record.seconds += interval_started.elapsed().as_secs_f64();
                let whole = gather(comm, state.as_deref(), &state_rows, cfg.train.batch, &mine);
                record.keep(whole.as_deref(), (loss_sum, items));
                save(&trainer, &record, &latest)?;
            }
            stopped = Stopped::Interrupted;
            break;
        }
        if u % 10 == 0 && !evaluate {
            bar.set_message(format!(
                "train loss {:.4}, {:.0} {unit}/s",
                loss_sum / items.max(1) as f64,
                interval_items as f64 / interval_started.elapsed().as_secs_f64().max(1e-9)
            ));
        }
    }
    bar.finish_and_clear();
    // The files are whole before any process reports the run done.
    comm.barrier();
    Ok(RunSummary {
        steps: trainer.steps(),
        valid: last_valid,
        best_valid_loss: record.best,
        stopped,
        seconds: started.elapsed().as_secs_f64(),
        learned: describe(&learned),
        params,
    })
}

/// The carried state of the whole batch (every process's streams) from this process's share:
/// each layer's block is `rows x batch`, column `b` the state of stream `b`.
fn gather<T: Real>(
    comm: &dyn Communicator,
    local: Option<&[T]>,
    rows: &[usize],
    batch: usize,
    mine: &std::ops::Range<usize>,
) -> Option<Vec<T>> {
    let local = local?;
    if comm.size() == 1 {
        return Some(local.to_vec());
    }
    let total: usize = rows.iter().sum();
    let mut whole = vec![0.0; total * batch];
    let (mut at_whole, mut at_local) = (0, 0);
    for &r in rows {
        for (k, b) in mine.clone().enumerate() {
            for i in 0..r {
                whole[at_whole + b * r + i] = local[at_local + k * r + i].to_f64_lossless();
            }
        }
        at_whole += r * batch;
        at_local += r * mine.len();
    }
    comm.all_reduce_sum(&mut whole);
    Some(whole.iter().map(|&x| T::from_f64_lossy(x)).collect())
}

/// This process's columns of a whole batch's state (the inverse of [`gather`]).
fn columns_of(
    whole: &[f64],
    rows: &[usize],
    batch: usize,
    mine: std::ops::Range<usize>,
) -> Vec<f64> {
    let mut out = Vec::with_capacity(whole.len() / batch.max(1) * mine.len());
    let mut at = 0;
    for &r in rows {
        for b in mine.clone() {
            out.extend_from_slice(&whole[at + b * r..at + (b + 1) * r]);
        }
        at += r * batch;
    }
    out
}

/// `80 characters` or `classification, 3 classes, 2 features`.
fn describe(learned: &Learned) -> String {
    match learned {
        Learned::Text { vocab } => format!("a text of {} distinct characters", vocab.len()),
        Learned::Sequences { task, features } => match task {
            Task::Classify { classes } => {
                format!("classification into {classes} classes, {features} feature(s) per step")
            }
            Task::Regress { outputs } => {
                format!("regression of {outputs} value(s), {features} feature(s) per step")
            }
            Task::RegressSteps { outputs } => {
                format!("per-step regression of {outputs} value(s), {features} feature(s) per step")
            }
        },
    }
}

/// The validation figure a person reads first.
pub fn headline(v: &Validation) -> String {
    match (v.bpc, v.accuracy) {
        (Some(bpc), _) => format!("{bpc:.4} bits/char"),
        (_, Some(acc)) => format!("accuracy {:.2} %, loss {:.4}", 100.0 * acc, v.loss),
        _ => format!("mse {:.5}", v.loss),
    }
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
    let fields: [(&'static str, bool); 14] = [
        ("train.weight_decay", a.weight_decay == b.weight_decay),
        ("train.groups", a.groups == b.groups),
        ("train.reduction", a.reduction == b.reduction),
        (
            "train.label_smoothing",
            a.label_smoothing == b.label_smoothing,
        ),
        ("train.class_weights", a.class_weights == b.class_weights),
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
