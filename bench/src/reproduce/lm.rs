//! Character-level language modelling shared by `depth` and `charlm`: char-rnn's recipe (Karpathy
//! 2015) on the embedded Shakespeare corpus. Truncated BPTT with the state carried across chunks
//! for the whole epoch, validation bits per character, and text sampled from the trained model.

use std::time::Instant;

use anyhow::Context as _;
use rnnzoo::datasets::{CharCorpus, Vocabulary, batchify};
use rnnzoo::layers::optim::Adam;
use rnnzoo::layers::train::{TrainConfig, Trainer, progress_bar};
use rnnzoo::layers::{Model, Readout};
use serde::Serialize;

use super::kit::{model, num, param_count};
use super::plot::{Chart, Series};
use super::{Context, Scale};
use crate::train::text::{bits_per_char, chunk_batch, sample};
use rnnzoo::zoo::CellChoice;

/// How a language model is trained and evaluated.
#[derive(Debug, Clone, Serialize)]
pub struct LmConfig {
    /// Training characters (from the start of the corpus' training part).
    pub train_chars: usize,
    /// Validation characters (from the start of its validation part, the last 10% of the text).
    pub valid_chars: usize,
    /// Parallel streams.
    pub batch: usize,
    /// Truncated-BPTT chunk length.
    pub bptt: usize,
    /// Passes over the training characters.
    pub epochs: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Global gradient-norm clip.
    pub clip: f64,
    /// Parameter budget every model is sized to (body and head).
    pub param_budget: usize,
    /// Characters to sample.
    pub sample_len: usize,
    /// Sampling temperature.
    pub temperature: f64,
}

impl LmConfig {
    /// The settings of a scale.
    pub fn for_scale(scale: Scale) -> Self {
        let (train_chars, valid_chars, epochs, param_budget, sample_len) = match scale {
            Scale::Tiny => (6_000, 2_000, 1, 6_000, 40),
            Scale::Quick => (500_000, 50_000, 3, 120_000, 300),
            // The whole corpus (about 1.14 MB of training text), char-rnn's default-sized model.
            Scale::Full => (usize::MAX, usize::MAX, 20, 1_200_000, 1000),
        };
        Self {
            train_chars,
            valid_chars,
            batch: if scale == Scale::Tiny { 8 } else { 32 },
            bptt: if scale == Scale::Tiny { 20 } else { 50 },
            epochs,
            lr: 2e-3,
            clip: 5.0,
            param_budget,
            sample_len,
            temperature: 0.8,
        }
    }
}

/// The corpus slice a config asks for.
pub struct Text {
    /// The whole text's vocabulary.
    pub vocab: Vocabulary,
    /// Training ids.
    pub train: Vec<usize>,
    /// Validation ids.
    pub valid: Vec<usize>,
}

/// The embedded Shakespeare corpus split 90/10 in order, cut to the config's sizes. The
/// vocabulary is the whole text's, so every model sees the same 80 symbols.
///
/// # Errors
///
/// None in practice (the corpus is embedded); kept for the dataset API's errors.
pub fn text(cfg: &LmConfig) -> anyhow::Result<Text> {
    let c = CharCorpus::shakespeare(0.9)?;
    Ok(Text {
        train: c.train[..cfg.train_chars.min(c.train.len())].to_vec(),
        valid: c.valid[..cfg.valid_chars.min(c.valid.len())].to_vec(),
        vocab: c.vocab,
    })
}

/// A model to train.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The cell.
    pub kind: CellChoice,
    /// Layers.
    pub layers: usize,
}

/// One epoch of a language model.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LmEpoch {
    /// The epoch (1 for the first).
    pub epoch: usize,
    /// Mean training bits per character of the epoch's updates.
    pub train_bpc: f64,
    /// Validation bits per character after the epoch.
    pub valid_bpc: f64,
    /// Seconds since the start of training.
    pub seconds: f64,
}

/// What one language model did.
#[derive(Debug, Clone, Serialize)]
pub struct LmResult {
    /// A label: cell and layers.
    pub name: String,
    /// Layers.
    pub layers: usize,
    /// Hidden units per layer.
    pub hidden: usize,
    /// Trainable values.
    pub params: usize,
    /// Per-epoch metrics.
    pub epochs: Vec<LmEpoch>,
    /// Validation bits per character at the end.
    pub valid_bpc: f64,
    /// Validation bpc of the untrained model (about log2(80) = 6.3).
    pub initial_valid_bpc: f64,
    /// Text sampled from the trained model.
    pub sample: String,
    /// Its checkpoint in the output folder, which `rnnzoo eval` and `rnnzoo sample` read.
    pub checkpoint: String,
}

/// Validation bits per character over the config's streams and chunks.
fn valid_bpc(m: &Model<f32>, ids: &[usize], cfg: &LmConfig) -> anyhow::Result<f64> {
    Ok(bits_per_char(m, ids, cfg.batch, cfg.bptt)?.bits_per_char)
}

/// Trains one model with truncated BPTT (the state carried across chunks for a whole epoch, the
/// gradient cut at chunk boundaries) and Adam, and evaluates after every epoch.
///
/// # Errors
///
/// A non-finite loss (naming the update), or a text too short for the batch.
pub fn train(
    spec: Spec,
    text: &Text,
    cfg: &LmConfig,
    ctx: &Context,
    seed: u64,
) -> anyhow::Result<LmResult> {
    let v = text.vocab.len();
    let hidden = super::kit::hidden_for_params(spec.kind, v, spec.layers, v, cfg.param_budget);
    let m = model(
        spec.kind,
        v,
        hidden,
        spec.layers,
        v,
        Readout::EveryStep,
        seed,
    )?;
    let name = format!("{} x{}", spec.kind.label(), spec.layers);
    let initial_valid_bpc = valid_bpc(&m, &text.valid, cfg)?;
    let data = batchify(&text.train, cfg.batch)?;
    let config = TrainConfig {
        clip_norm: Some(cfg.clip),
        seed,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(m, Box::new(Adam::<f32>::new(cfg.lr)), config);
    let started = Instant::now();
    let mut epochs = Vec::new();
    for epoch in 1..=cfg.epochs {
        let chunks = data.chunks(cfg.bptt)?;
        let bar = progress_bar(
            ctx.progress,
            chunks.len() as u64,
            &format!("{name} epoch {epoch}/{}", cfg.epochs),
        );
        // The state is carried across the epoch's chunks (truncated BPTT) and reset per epoch.
        let (mut state, mut nats, mut count) = (None::<Vec<f32>>, 0.0, 0usize);
        for chunk in chunks {
            let batch = chunk_batch::<f32>(&chunk, v);
            let (stats, carry) = trainer
                .step_with_state(&batch, state.as_deref())
                .with_context(|| name.clone())?;
            nats += stats.loss * (batch.steps * batch.batch) as f64;
            count += batch.steps * batch.batch;
            state = Some(carry);
            bar.inc(1);
            if stats.step % 20 == 0 {
                bar.set_message(format!(
                    "train bpc {:.3}",
                    nats / count as f64 / std::f64::consts::LN_2
                ));
            }
        }
        bar.finish_and_clear();
        epochs.push(LmEpoch {
            epoch,
            train_bpc: nats / count.max(1) as f64 / std::f64::consts::LN_2,
            valid_bpc: valid_bpc(trainer.model(), &text.valid, cfg)?,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    save_checkpoint(&trainer, spec, hidden, text, cfg, ctx, seed, &epochs)?;
    let m = trainer.model();
    let sample = sample(
        m,
        &text.vocab,
        "\n",
        cfg.sample_len,
        cfg.temperature,
        seed ^ 0x5a,
    )?;
    Ok(LmResult {
        name,
        layers: spec.layers,
        hidden,
        params: param_count(m),
        valid_bpc: epochs.last().map_or(initial_valid_bpc, |e| e.valid_bpc),
        initial_valid_bpc,
        epochs,
        sample,
        checkpoint: checkpoint_name(spec),
    })
}

/// The file name of a trained model's checkpoint in the output folder.
pub fn checkpoint_name(spec: Spec) -> String {
    format!("lm-{}-x{}.safetensors", spec.kind, spec.layers).replace([':', ',', '='], "_")
}

/// Writes the trained model as a checkpoint of `rnnzoo train` (its run record describing the
/// same model, data and optimizer), so that `rnnzoo eval` and `rnnzoo sample` read it.
#[allow(clippy::too_many_arguments)]
fn save_checkpoint(
    trainer: &Trainer<f32>,
    spec: Spec,
    hidden: usize,
    text: &Text,
    cfg: &LmConfig,
    ctx: &Context,
    seed: u64,
    epochs: &[LmEpoch],
) -> anyhow::Result<()> {
    use crate::train::{ModelConfig, RunConfig, RunRecord, TrainSettings, model::Learned};
    let record = RunRecord {
        // The embedded corpus, split 90/10 as here (`data.valid_fraction` 0.1, the default).
        config: RunConfig {
            model: ModelConfig {
                cell: spec.kind.to_string(),
                hidden,
                layers: spec.layers,
                ..ModelConfig::default()
            },
            train: TrainSettings {
                batch: cfg.batch,
                bptt: cfg.bptt,
                epochs: cfg.epochs,
                lr: cfg.lr,
                clip: cfg.clip,
                seed,
                ..TrainSettings::default()
            },
            ..RunConfig::default()
        },
        learned: Learned::Text {
            vocab: text.vocab.clone(),
        },
        state: Vec::new(),
        pending: (0.0, 0),
        best: epochs.last().map(|e| e.valid_bpc),
        since_best: 0,
        seconds: epochs.last().map_or(0.0, |e| e.seconds),
    };
    let path = ctx.out.join(checkpoint_name(spec));
    rnnzoo::layers::checkpoint::save_training(trainer, serde_json::to_value(&record)?, &path)
        .with_context(|| format!("writing {}", path.display()))
}

/// The settings paragraph, the results table, the samples and a validation-bpc chart.
pub fn render(
    results: &[LmResult],
    cfg: &LmConfig,
    text: &Text,
    ctx: &Context,
    plot: &str,
) -> anyhow::Result<String> {
    let mut md = format!(
        "Setting: the embedded Shakespeare corpus (ten plays, {vocab} distinct characters), split 90/10 in \
         order; training on its first {train} training characters, validation on the first {valid} \
         characters of the held-out part. One-hot inputs, a linear softmax head at every step; every \
         model sized to about {budget} parameters (body and head). Truncated BPTT over {bptt}-step \
         chunks of {batch} parallel streams, the state carried across chunks; Adam lr {lr}, gradient \
         norm clipped at {clip}, {epochs} epoch(s), no dropout, seed {seed}. Samples: temperature \
         {temp}, primed with a newline.\n\n\
         | model | hidden | parameters | valid bpc (untrained) | train bpc (last epoch) | valid bpc |\n\
         | --- | ---: | ---: | ---: | ---: | ---: |\n",
        vocab = text.vocab.len(),
        train = text.train.len(),
        valid = text.valid.len(),
        budget = cfg.param_budget,
        bptt = cfg.bptt,
        batch = cfg.batch,
        lr = cfg.lr,
        clip = cfg.clip,
        epochs = cfg.epochs,
        seed = ctx.seed,
        temp = cfg.temperature,
    );
    for r in results {
        md += &format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            r.name,
            r.hidden,
            r.params,
            num(r.initial_valid_bpc),
            num(r.epochs.last().map_or(f64::NAN, |e| e.train_bpc)),
            num(r.valid_bpc)
        );
    }
    md += "\nCheckpoints in the output folder, for `rnnzoo eval --checkpoint FILE --text TEXT` (bits per \
           character on any text) and `rnnzoo sample --checkpoint FILE`: ";
    md += &results
        .iter()
        .map(|r| format!("`{}` ({})", r.checkpoint, r.name))
        .collect::<Vec<_>>()
        .join(", ");
    md += ".\n\nSamples:\n\n";
    for r in results {
        md += &format!("{}:\n\n```text\n{}\n```\n\n", r.name, r.sample.trim_end());
    }
    let mut chart = Chart::new(
        "Validation bits per character",
        "epoch",
        "bits per character",
        false,
    );
    for r in results {
        let mut pts = vec![(0.0, r.initial_valid_bpc)];
        pts.extend(r.epochs.iter().map(|e| (e.epoch as f64, e.valid_bpc)));
        chart = chart.with(Series::line(&r.name, pts));
    }
    chart.write_svg(&ctx.out.join(plot))?;
    Ok(md)
}
