//! Character-level language modelling, in any dtype: one-hot inputs, scoring a text in bits per
//! character with the state carried across chunks, and sampling one character at a time. What
//! `rnnzoo train --text`, `eval` and `sample` and the `charlm`/`depth` experiments share.

use rand::Rng;
use rnnzoo::cell::{Real, seeded};
use rnnzoo::datasets::{TokenChunk, Vocabulary, batchify};
use rnnzoo::layers::loss::cross_entropy;
use rnnzoo::layers::train::{Batch, Targets};
use rnnzoo::layers::{Inputs, Model};
use serde::Serialize;

/// One-hot columns of `ids` over a vocabulary of `v` symbols, `v x ids.len()`.
///
/// ```
/// let x = rnnzoo_bench::train::text::one_hot::<f32>(&[2, 0], 3);
/// assert_eq!(x, [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
/// ```
pub fn one_hot<T: Real>(ids: &[usize], v: usize) -> Vec<T> {
    let mut x = vec![T::zero(); ids.len() * v];
    for (k, &id) in ids.iter().enumerate() {
        x[k * v + id] = T::one();
    }
    x
}

/// A truncated-BPTT chunk as a training batch: one-hot inputs over `v` symbols, the next
/// character's class at every step.
///
/// ```
/// let data = rnnzoo::datasets::batchify(&[0, 1, 2, 0, 1, 2], 2)?;
/// let chunk = data.chunks(2)?.next().unwrap();
/// let b = rnnzoo_bench::train::text::chunk_batch::<f32>(&chunk, 3);
/// assert_eq!((b.features, b.steps, b.batch, b.inputs.len()), (3, 2, 2, 12));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn chunk_batch<T: Real>(chunk: &TokenChunk, v: usize) -> Batch<T> {
    Batch {
        inputs: one_hot::<T>(&chunk.inputs, v),
        features: v,
        steps: chunk.steps,
        batch: chunk.batch,
        lengths: None,
        targets: Targets::StepClasses {
            classes: chunk.targets.clone(),
            num_classes: v,
        },
    }
}

/// How well a model predicts a text.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Score {
    /// Mean negative log-likelihood of the predicted characters, in bits.
    pub bits_per_char: f64,
    /// The same in nats (what PyTorch's `cross_entropy` reports).
    pub nats_per_char: f64,
    /// Characters predicted: each one after the first of its stream, so `len - batch` of a text
    /// cut into `batch` streams (a trailing `len % batch` are dropped; see [`batchify`]).
    pub predicted: usize,
}

/// Scores `ids` as `batch` contiguous streams walked in chunks of `bptt` steps, the state carried
/// from chunk to chunk. With `batch` 1, every character but the first is predicted, each from all
/// of the text before it.
///
/// ```
/// use rnnzoo::datasets::Vocabulary;
/// use rnnzoo_bench::train::{model::{build, Learned}, text::bits_per_char, ModelConfig};
/// let text = Learned::Text { vocab: Vocabulary::from_text("abcde")? };
/// let m = build::<f32>(&ModelConfig::default(), &text, 0)?;
/// let s = bits_per_char(&m, &[0, 1, 2, 3, 4, 0, 1], 1, 3)?;
/// assert_eq!(s.predicted, 6);
/// assert!((s.bits_per_char - 5f64.log2()).abs() < 0.2); // untrained: about uniform
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// A text too short for the batch (fewer than 2 characters per stream), an id outside the model's
/// output size.
pub fn bits_per_char<T: Real>(
    m: &Model<T>,
    ids: &[usize],
    batch: usize,
    bptt: usize,
) -> anyhow::Result<Score> {
    let v = m.head().output_size();
    let data = batchify(ids, batch)?;
    let (mut state, mut nats, mut count) = (None::<Vec<T>>, 0.0, 0usize);
    for chunk in data.chunks(bptt)? {
        let x = one_hot::<T>(&chunk.inputs, v);
        let mut inputs = Inputs::new(&x, chunk.steps, chunk.batch);
        inputs.initial = state.as_deref();
        let p = m.predict(inputs)?;
        let l = cross_entropy(&p.predictions, &chunk.targets, v, None)?;
        nats += l.value * l.count as f64;
        count += l.count;
        state = Some(p.final_state);
    }
    let nats_per_char = nats / count as f64;
    Ok(Score {
        bits_per_char: nats_per_char / std::f64::consts::LN_2,
        nats_per_char,
        predicted: count,
    })
}

/// `len` characters sampled one at a time after priming with `prime`: each from the softmax of
/// the logits over `temperature`, fed back as the next input with the state carried.
///
/// ```
/// use rnnzoo::datasets::Vocabulary;
/// use rnnzoo_bench::train::{model::{build, Learned}, text::sample, ModelConfig};
/// let vocab = Vocabulary::from_text("abc\n")?;
/// let m = build::<f32>(&ModelConfig::default(), &Learned::Text { vocab: vocab.clone() }, 0)?;
/// let s = sample(&m, &vocab, "ab", 10, 0.8, 1)?;
/// assert!(s.starts_with("ab") && s.chars().count() == 12);
/// assert_eq!(s, sample(&m, &vocab, "ab", 10, 0.8, 1)?); // the seed decides
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// A prime with characters outside the vocabulary.
pub fn sample<T: Real>(
    m: &Model<T>,
    vocab: &Vocabulary,
    prime: &str,
    len: usize,
    temperature: f64,
    seed: u64,
) -> anyhow::Result<String> {
    let v = vocab.len();
    let mut rng = seeded(seed);
    let mut state: Option<Vec<T>> = None;
    let mut logits = vec![T::zero(); v];
    let feed = |id: usize, state: &mut Option<Vec<T>>| -> anyhow::Result<Vec<T>> {
        let x = one_hot::<T>(&[id], v);
        let mut inputs = Inputs::new(&x, 1, 1);
        inputs.initial = state.as_deref();
        let p = m.predict(inputs)?;
        *state = Some(p.final_state);
        Ok(p.predictions)
    };
    for id in vocab.encode(prime)? {
        logits = feed(id, &mut state)?;
    }
    let mut out = Vec::with_capacity(len);
    for _ in 0..len {
        let z: Vec<f64> = logits
            .iter()
            .map(|&l| l.to_f64_lossless() / temperature)
            .collect();
        let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = z.iter().map(|&a| (a - max).exp()).collect();
        let mut u = rng.random::<f64>() * w.iter().sum::<f64>();
        let mut id = v - 1;
        for (k, &p) in w.iter().enumerate() {
            if u < p {
                id = k;
                break;
            }
            u -= p;
        }
        out.push(id);
        logits = feed(id, &mut state)?;
    }
    Ok(format!("{prime}{}", vocab.decode(&out)?))
}
