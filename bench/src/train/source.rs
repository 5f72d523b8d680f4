//! Where a run's batches come from, and how its validation is scored: a text (truncated-BPTT
//! chunks of a language model) or a file of sequences (shuffled minibatches).

use std::sync::Mutex;

use rand::seq::SliceRandom;
use rnnzoo::cell::{Real, seeded};
use rnnzoo::datasets::{TokenChunk, batchify};
use rnnzoo::layers::loss::{cross_entropy, mse};
use rnnzoo::layers::readout::step_mask;
use rnnzoo::layers::train::{Batch, Targets};
use rnnzoo::layers::{Inputs, Model};
use serde::Serialize;

use super::config::RunConfig;
use super::corpus::Corpus;
use super::model::Learned;
use super::record::RunError;
use super::sequences::{Sequences, Task};
use super::text::{bits_per_char, chunk_batch};

/// A validation's figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Validation {
    /// Mean loss per item (nats per character, cross-entropy or mean squared error).
    pub loss: f64,
    /// A text: the loss in bits per character.
    pub bpc: Option<f64>,
    /// Classification: the fraction of sequences whose largest logit is their class.
    pub accuracy: Option<f64>,
    /// Items averaged over: characters predicted, or sequences.
    pub count: usize,
}

/// A text cut into the chunks of an epoch.
pub struct TextSource {
    corpus: Corpus,
    chunks: Vec<TokenChunk>,
    valid_batch: usize,
    bptt: usize,
}

/// Sequences split into training and validation, batched in a seeded order per epoch.
pub struct SequenceSource {
    data: Sequences,
    train: Vec<usize>,
    valid: Vec<usize>,
    batch: usize,
    seed: u64,
    /// The order of the epoch last asked for: batches of one epoch reuse it.
    order: Mutex<(u64, Vec<usize>)>,
}

/// A run's data.
pub enum Source {
    /// A character-level language model's text.
    Text(TextSource),
    /// Sequences with targets.
    Sequences(SequenceSource),
}

impl Source {
    /// The data `cfg.data` names, split and cut as `cfg.train` says.
    ///
    /// # Errors
    ///
    /// The corpus's or the sequence file's errors; [`RunError::TooShort`] for data too small for
    /// the batch and the validation split.
    pub fn open(cfg: &RunConfig) -> anyhow::Result<Self> {
        let t = &cfg.train;
        if !cfg.data.sequences.as_os_str().is_empty() {
            let data = Sequences::read(&cfg.data.sequences, &cfg.data.layout())?;
            let n = data.len();
            let valid_n = ((n as f64) * cfg.data.valid_fraction).round().max(1.0) as usize;
            if n < 2 || valid_n >= n {
                return Err(RunError::TooShort {
                    part: "file of sequences",
                    chars: n,
                    unit: "sequences",
                    batch: 1,
                    need: 2,
                }
                .into());
            }
            let mut all: Vec<usize> = (0..n).collect();
            all.shuffle(&mut seeded(t.seed ^ 0x5711_7000));
            let valid = all.split_off(n - valid_n);
            return Ok(Source::Sequences(SequenceSource {
                data,
                train: all,
                valid,
                batch: t.batch,
                seed: t.seed,
                order: Mutex::new((u64::MAX, Vec::new())),
            }));
        }
        let corpus = Corpus::load(&cfg.data)?;
        let need = 2 * t.batch;
        if corpus.train.len() < need {
            return Err(RunError::TooShort {
                part: "training text",
                chars: corpus.train.len(),
                unit: "characters",
                batch: t.batch,
                need,
            }
            .into());
        }
        // Validation uses the training batch when the held-out text allows it, else fewer streams.
        let valid_batch = t.batch.min(corpus.valid.len() / 2);
        if valid_batch == 0 {
            return Err(RunError::TooShort {
                part: "validation text",
                chars: corpus.valid.len(),
                unit: "characters",
                batch: 1,
                need: 2,
            }
            .into());
        }
        let chunks = batchify(&corpus.train, t.batch)?.chunks(t.bptt)?.collect();
        Ok(Source::Text(TextSource {
            corpus,
            chunks,
            valid_batch,
            bptt: t.bptt,
        }))
    }

    /// What the model learns.
    pub fn learned(&self) -> Learned {
        match self {
            Source::Text(s) => Learned::Text {
                vocab: s.corpus.vocab.clone(),
            },
            Source::Sequences(s) => Learned::Sequences {
                task: s.data.task,
                features: s.data.features,
            },
        }
    }

    /// Updates in one pass over the training data.
    pub fn per_epoch(&self) -> u64 {
        match self {
            Source::Text(s) => s.chunks.len() as u64,
            Source::Sequences(s) => s.train.len().div_ceil(s.batch) as u64,
        }
    }

    /// Whether the state is carried from one update to the next (within an epoch).
    pub fn carries_state(&self) -> bool {
        matches!(self, Source::Text(_))
    }

    /// The batch of update `u` (0-based, across epochs), and the items its loss averages over.
    pub fn batch<T: Real>(&self, u: u64) -> (Batch<T>, usize) {
        let per_epoch = self.per_epoch();
        let k = (u % per_epoch) as usize;
        match self {
            Source::Text(s) => {
                let chunk = &s.chunks[k];
                let batch = chunk_batch::<T>(chunk, s.corpus.vocab.len());
                (batch, chunk.steps * chunk.batch)
            }
            Source::Sequences(s) => {
                let epoch = u / per_epoch;
                let mut order = s.order.lock().unwrap_or_else(|e| e.into_inner());
                if order.0 != epoch {
                    let mut idx = s.train.clone();
                    idx.shuffle(&mut seeded(
                        s.seed ^ 0xe90c_0000 ^ epoch.wrapping_mul(0x9e37_79b9_7f4a_7c15),
                    ));
                    *order = (epoch, idx);
                }
                let end = ((k + 1) * s.batch).min(s.train.len());
                let batch = s.data.batch::<T>(&order.1[k * s.batch..end]);
                let items = items(&batch);
                (batch, items)
            }
        }
    }

    /// Scores the held-out data.
    ///
    /// # Errors
    ///
    /// A model that does not fit the data (it does, when built from [`Self::learned`]).
    pub fn validate<T: Real>(&self, model: &Model<T>) -> anyhow::Result<Validation> {
        match self {
            Source::Text(s) => {
                let score = bits_per_char(model, &s.corpus.valid, s.valid_batch, s.bptt)?;
                Ok(Validation {
                    loss: score.nats_per_char,
                    bpc: Some(score.bits_per_char),
                    accuracy: None,
                    count: score.predicted,
                })
            }
            Source::Sequences(s) => score(model, &s.data, &s.valid, s.batch),
        }
    }
}

/// The items a batch's loss averages over: its samples for per-sample targets, its valid steps
/// for per-step ones (every step of every stream of a text).
pub fn items<T>(batch: &Batch<T>) -> usize {
    if batch.targets.is_per_step() {
        batch
            .lengths
            .as_ref()
            .map_or(batch.steps * batch.batch, |l| l.iter().sum())
    } else {
        batch.batch
    }
}

/// Samples `range` of a batch (a process's share of it), trimmed to their longest length.
///
/// ```
/// use rnnzoo::layers::train::{Batch, Targets};
/// use rnnzoo_bench::train::source::shard;
/// let b = Batch { inputs: vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], features: 1, steps: 2, batch: 3,
///                 lengths: Some(vec![2, 1, 1]),
///                 targets: Targets::FinalClasses { classes: vec![0, 1, 2], num_classes: 3 } };
/// let s = shard(&b, 1..3);
/// assert_eq!((s.steps, s.batch, s.inputs.clone(), s.lengths.clone()), (1, 2, vec![2.0, 3.0], None));
/// assert_eq!(s.targets, Targets::FinalClasses { classes: vec![1, 2], num_classes: 3 });
/// ```
pub fn shard<T: Real>(batch: &Batch<T>, range: std::ops::Range<usize>) -> Batch<T> {
    let (b, n) = (batch.batch, range.len());
    let lengths: Vec<usize> = range
        .clone()
        .map(|k| batch.length(k).unwrap_or(0))
        .collect();
    let steps = if batch.targets.is_per_step() && batch.lengths.is_none() {
        batch.steps
    } else {
        lengths.iter().copied().max().unwrap_or(0)
    };
    let columns = |v: &[T], rows: usize| -> Vec<T> {
        let mut out = Vec::with_capacity(steps * n * rows);
        for t in 0..steps {
            out.extend_from_slice(&v[(t * b + range.start) * rows..(t * b + range.end) * rows]);
        }
        out
    };
    let targets = match &batch.targets {
        Targets::FinalClasses {
            classes,
            num_classes,
        } => Targets::FinalClasses {
            classes: classes[range.clone()].to_vec(),
            num_classes: *num_classes,
        },
        Targets::FinalValues { values, outputs } => Targets::FinalValues {
            values: values[range.start * outputs..range.end * outputs].to_vec(),
            outputs: *outputs,
        },
        Targets::StepValues { values, outputs } => Targets::StepValues {
            values: columns(values, *outputs),
            outputs: *outputs,
        },
        Targets::StepMultiHot {
            values,
            num_classes,
        } => Targets::StepMultiHot {
            values: columns(values, *num_classes),
            num_classes: *num_classes,
        },
        Targets::StepClasses {
            classes,
            num_classes,
        } => Targets::StepClasses {
            classes: {
                let mut out = Vec::with_capacity(steps * n);
                for t in 0..steps {
                    out.extend_from_slice(&classes[t * b + range.start..t * b + range.end]);
                }
                out
            },
            num_classes: *num_classes,
        },
    };
    Batch {
        inputs: columns(&batch.inputs, batch.features),
        features: batch.features,
        steps,
        batch: n,
        lengths: (batch.lengths.is_some() && lengths.iter().any(|&l| l < steps)).then_some(lengths),
        targets,
    }
}

/// The mean loss (and accuracy, for classification) of `model` on the sequences `idx` of `data`,
/// in batches of `batch`.
///
/// # Errors
///
/// A model that does not fit the data.
pub fn score<T: Real>(
    model: &Model<T>,
    data: &Sequences,
    idx: &[usize],
    batch: usize,
) -> anyhow::Result<Validation> {
    let (mut loss, mut count, mut correct, mut sequences) = (0.0, 0usize, 0usize, 0usize);
    for part in idx.chunks(batch.max(1)) {
        let b = data.batch::<T>(part);
        let mut inputs = Inputs::new(&b.inputs, b.steps, b.batch);
        if let Some(l) = &b.lengths {
            inputs = inputs.lengths(l);
        }
        let p = model.predict(inputs)?.predictions;
        let l = match &b.targets {
            Targets::FinalClasses {
                classes,
                num_classes,
            } => {
                for (col, &c) in classes.iter().enumerate() {
                    let logits = &p[col * num_classes..(col + 1) * num_classes];
                    let best = (0..*num_classes)
                        .max_by(|&i, &j| logits[i].partial_cmp(&logits[j]).expect("finite logits"))
                        .expect("at least one class");
                    correct += usize::from(best == c);
                }
                cross_entropy(&p, classes, *num_classes, None)?
            }
            Targets::FinalValues { values, outputs } => mse(&p, values, *outputs, None)?,
            Targets::StepValues { values, outputs } => {
                let mask = step_mask(b.steps, b.batch, b.lengths.as_deref())?;
                mse(&p, values, *outputs, Some(&mask))?
            }
            _ => anyhow::bail!("sequences make final classes, final or step values"),
        };
        let n = items(&b);
        loss += l.value * n as f64;
        count += n;
        sequences += b.batch;
    }
    Ok(Validation {
        loss: loss / count.max(1) as f64,
        bpc: None,
        accuracy: matches!(data.task, Task::Classify { .. })
            .then(|| correct as f64 / sequences.max(1) as f64),
        count: sequences,
    })
}
