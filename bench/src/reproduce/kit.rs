//! Shared pieces of the experiments: model builders by cell kind (with hidden
//! sizes chosen for a parameter budget), a training loop with a progress bar and per-evaluation
//! records, and small formatting helpers.

use std::time::Instant;

use anyhow::Context as _;
use rand_chacha::ChaCha8Rng;
use rnnzoo::cell::seeded;
use rnnzoo::layers::optim::Adam;
use rnnzoo::layers::train::{Batch, TrainConfig, Trainer, progress_bar};
use rnnzoo::layers::{Model, Readout, Stack};
use serde::Serialize;

use super::Scale;
use rnnzoo::zoo::CellChoice;

/// Picks the value for the scale: `tiny` for tests, `quick` for `make reproduce`, `full` for
/// paper-scale runs.
pub fn pick<V>(scale: Scale, tiny: V, quick: V, full: V) -> V {
    match scale {
        Scale::Tiny => tiny,
        Scale::Quick => quick,
        Scale::Full => full,
    }
}

/// A stack of `layers` recurrent layers of `kind`, `hidden` units each, in f32 (the
/// experiments' dtype): [`crate::train::model::body`] without dropout.
///
/// # Errors
///
/// A zero size.
pub fn body(
    kind: CellChoice,
    input: usize,
    hidden: usize,
    layers: usize,
    seed: u64,
) -> anyhow::Result<Stack<f32>> {
    crate::train::model::body(kind, input, hidden, layers, 0.0, seed)
}

/// A model: `layers` layers of `kind` and a linear head with `outputs` outputs (regression values
/// or logits), reading every step or the last one: [`crate::train::model::stacked`] in f32
/// without dropout.
///
/// # Errors
///
/// A zero size.
pub fn model(
    kind: CellChoice,
    input: usize,
    hidden: usize,
    layers: usize,
    outputs: usize,
    readout: Readout,
    seed: u64,
) -> anyhow::Result<Model<f32>> {
    crate::train::model::stacked(kind, input, hidden, layers, outputs, readout, 0.0, seed)
}

pub use crate::train::model::param_count;

/// Values of a `kind` model of this shape (body and head).
fn count_for(
    kind: CellChoice,
    input: usize,
    hidden: usize,
    layers: usize,
    outputs: usize,
) -> usize {
    let mut n = 0;
    for k in 0..layers {
        let i = if k == 0 { input } else { hidden };
        // Sizes are valid (non-zero), so building cannot fail; zeros are cheap to make.
        n += kind
            .build::<f32, _>(i, hidden, &mut seeded(0))
            .map(|c| c.params().num_values())
            .unwrap_or(usize::MAX / 4);
    }
    n + hidden * outputs + outputs
}

/// The hidden size whose model (body and head) comes closest to `target` values: how cells of
/// different kinds are compared "at a similar parameter count".
pub fn hidden_for_params(
    kind: CellChoice,
    input: usize,
    layers: usize,
    outputs: usize,
    target: usize,
) -> usize {
    // The count grows with the hidden size: binary search, then take the closer neighbour.
    let (mut lo, mut hi) = (1usize, 4096usize);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if count_for(kind, input, mid, layers, outputs) < target {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let below = lo.saturating_sub(1).max(1);
    let dist = |h| count_for(kind, input, h, layers, outputs).abs_diff(target);
    if dist(below) <= dist(lo) { below } else { lo }
}

/// Adam with PyTorch's defaults and this learning rate, gradients clipped to a global norm.
pub fn adam_trainer(model: Model<f32>, lr: f64, clip: Option<f64>, seed: u64) -> Trainer<f32> {
    Trainer::new(
        model,
        Box::new(Adam::new(lr)),
        TrainConfig {
            clip_norm: clip,
            seed,
            ..TrainConfig::default()
        },
    )
}

/// Test sequences per piece of a test set: long sequences at full scale would otherwise need
/// hundreds of MB for one evaluation.
const TEST_PIECE: usize = 250;

/// A fixed test set of `n` sequences in pieces of at most 250, piece `i` made by
/// `make(size, seed + i)`.
///
/// # Errors
///
/// Whatever `make` returns.
pub fn test_set(
    n: usize,
    seed: u64,
    mut make: impl FnMut(usize, u64) -> anyhow::Result<Batch<f32>>,
) -> anyhow::Result<Vec<Batch<f32>>> {
    (0..n.div_ceil(TEST_PIECE))
        .map(|i| {
            make(
                TEST_PIECE.min(n - i * TEST_PIECE),
                seed.wrapping_add(i as u64),
            )
        })
        .collect()
}

/// Sequences in a test set.
pub fn test_len(test: &[Batch<f32>]) -> usize {
    test.iter().map(|b| b.batch).sum()
}

/// The loss over a whole test set: each piece's mean loss weighted by the positions it averages
/// (samples for a last-step readout, valid steps for an every-step one), so the result is the mean
/// over every position of the set.
///
/// # Errors
///
/// A piece that does not fit the model.
pub fn evaluate(trainer: &Trainer<f32>, test: &[Batch<f32>]) -> anyhow::Result<f64> {
    let every = trainer.model().readout() == Readout::EveryStep;
    let (mut sum, mut n) = (0.0, 0usize);
    for b in test {
        let w = match (&b.lengths, every) {
            (_, false) => b.batch,
            (Some(l), true) => l.iter().sum(),
            (None, true) => b.steps * b.batch,
        };
        sum += trainer.evaluate(b)? * w as f64;
        n += w;
    }
    Ok(sum / n.max(1) as f64)
}

/// One evaluation point of a training run ("epoch" = `eval_every` updates).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Record {
    /// Updates taken so far.
    pub step: usize,
    /// Mean training loss of the updates since the previous record.
    pub train_loss: f64,
    /// Loss on the fixed test set.
    pub test_loss: f64,
    /// Mean gradient norm (before clipping) since the previous record.
    pub grad_norm: f64,
    /// Seconds since the start of training.
    pub seconds: f64,
}

/// What a training run saw.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Run {
    /// One record per evaluation.
    pub records: Vec<Record>,
    /// `(step, loss)` of every update whose loss was finite.
    pub step_loss: Vec<(usize, f64)>,
    /// `(step, gradient norm before clipping)` of every update whose norm was finite.
    pub step_grad_norm: Vec<(usize, f64)>,
    /// Updates skipped for a non-finite loss or gradient (only with `skip_nonfinite`).
    pub skipped: Vec<usize>,
}

/// Trains for `steps` updates on fresh batches from `draw`, evaluating on `test` every
/// `eval_every` updates (and at step 0). A progress bar shows the latest losses when `progress`.
///
/// # Errors
///
/// A batch that does not fit, or a non-finite loss (the trainer's error names the step).
pub fn train_steps(
    trainer: &mut Trainer<f32>,
    steps: usize,
    eval_every: usize,
    draw: impl FnMut(&mut ChaCha8Rng) -> anyhow::Result<Batch<f32>>,
    test: &[Batch<f32>],
    progress: bool,
    label: &str,
) -> anyhow::Result<Run> {
    train_until(
        trainer,
        steps,
        eval_every,
        draw,
        test,
        |_, _| Ok(false),
        progress,
        label,
    )
}

/// [`train_steps`], calling `after_eval` with each evaluation's record and the trainer (step 0
/// included), to measure more than the test loss there; training stops after the first
/// evaluation for which it returns `true` (a task solved: the updates after it would only spend
/// the budget).
///
/// # Errors
///
/// As [`train_steps`], and whatever `after_eval` returns.
#[allow(clippy::too_many_arguments)]
pub fn train_until(
    trainer: &mut Trainer<f32>,
    steps: usize,
    eval_every: usize,
    mut draw: impl FnMut(&mut ChaCha8Rng) -> anyhow::Result<Batch<f32>>,
    test: &[Batch<f32>],
    mut after_eval: impl FnMut(&Record, &Trainer<f32>) -> anyhow::Result<bool>,
    progress: bool,
    label: &str,
) -> anyhow::Result<Run> {
    let started = Instant::now();
    let mut data_rng = seeded(trainer.config().seed ^ 0xda7a);
    let first = evaluate(trainer, test)?;
    let mut run = Run::default();
    run.records.push(Record {
        step: 0,
        train_loss: first,
        test_loss: first,
        grad_norm: 0.0,
        seconds: 0.0,
    });
    if after_eval(&run.records[0], trainer)? {
        return Ok(run);
    }
    let bar = progress_bar(progress, steps as u64, label);
    let (mut loss_sum, mut norm_sum, mut n) = (0.0, 0.0, 0usize);
    for step in 1..=steps {
        let batch = draw(&mut data_rng)?;
        let s = trainer
            .step(&batch)
            .with_context(|| format!("{label}: training"))?;
        if s.skipped {
            run.skipped.push(step);
        } else {
            loss_sum += s.loss;
            norm_sum += s.grad_norm;
            n += 1;
        }
        if s.loss.is_finite() {
            run.step_loss.push((step, s.loss));
        }
        if s.grad_norm.is_finite() {
            run.step_grad_norm.push((step, s.grad_norm));
        }
        bar.inc(1);
        if step % eval_every == 0 || step == steps {
            let test_loss = evaluate(trainer, test)?;
            let mean = |sum: f64| if n > 0 { sum / n as f64 } else { f64::NAN };
            run.records.push(Record {
                step,
                train_loss: mean(loss_sum),
                test_loss,
                grad_norm: mean(norm_sum),
                seconds: started.elapsed().as_secs_f64(),
            });
            bar.set_message(format!("train {:.4} test {test_loss:.4}", mean(loss_sum)));
            (loss_sum, norm_sum, n) = (0.0, 0.0, 0);
            if after_eval(&run.records[run.records.len() - 1], trainer)? {
                break;
            }
        }
    }
    bar.finish_and_clear();
    Ok(run)
}

/// A number for a table: 3 significant digits, scientific when small or large.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e4).contains(&a) {
        format!("{x:.2e}")
    } else if a >= 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.4}")
    }
}

/// `(step, test loss)` points of a run, for a chart.
pub fn test_curve(records: &[Record]) -> Vec<(f64, f64)> {
    records
        .iter()
        .map(|r| (r.step as f64, r.test_loss))
        .collect()
}

/// Runs `jobs` on as many worker threads as the current rayon pool has, each job alone on its
/// worker with a one-thread pool of its own, and returns the results in job order.
///
/// Why not `par_iter`: a rayon worker waiting inside one job's parallel section may steal a whole
/// other job and finish it first, which would add that job's time to the wall time this job
/// reports. Here each job's time is its own, on one core, and independent jobs (each seeded for
/// itself, so their results do not depend on which worker runs them) fill the machine.
///
/// ```
/// let squares = rnnzoo_bench::reproduce::kit::in_parallel(vec![1, 2, 3], |x| Ok(x * x))?;
/// assert_eq!(squares, vec![1, 4, 9]);
/// # Ok::<(), anyhow::Error>(())
/// ```
///
/// # Errors
///
/// The first failed job's error, in job order, or a pool that could not be built.
pub fn in_parallel<J: Send, O: Send>(
    jobs: Vec<J>,
    run: impl Fn(J) -> anyhow::Result<O> + Sync,
) -> anyhow::Result<Vec<O>> {
    use std::sync::Mutex;
    let workers = rayon::current_num_threads().clamp(1, jobs.len().max(1));
    let queue = Mutex::new(jobs.into_iter().enumerate().collect::<Vec<_>>().into_iter());
    let done = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build();
                loop {
                    let Some((k, job)) = queue.lock().unwrap_or_else(|e| e.into_inner()).next()
                    else {
                        break;
                    };
                    let out = match &pool {
                        Ok(pool) => pool.install(|| run(job)),
                        Err(e) => Err(anyhow::anyhow!("building a worker's thread pool: {e}")),
                    };
                    done.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((k, out));
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    done.sort_by_key(|(k, _)| *k);
    done.into_iter().map(|(_, out)| out).collect()
}
