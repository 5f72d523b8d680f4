//! `rnnzoo speed --trainer`: a whole training step, as every experiment and every user's loop
//! pays it: a fresh batch, forward, a dense head to one output, MSE at the last step, backward,
//! global-norm clipping at 1.0, Adam at 1e-3 ([`rnnzoo::layers::train::Trainer::step`]).
//! `bench/compare/torch_trainer.py` is the same loop in PyTorch.

use std::hint::black_box;
use std::time::Instant;

use rand::Rng;
use rnnzoo::cell::{Batch, Real, Targets, seeded};
use rnnzoo::layers::head::{Activation, Dense};
use rnnzoo::layers::optim::Adam;
use rnnzoo::layers::train::{TrainConfig, Trainer};
use rnnzoo::layers::{Layer, Model, Readout, Stack};
use serde::Serialize;

use super::{Case, Dtype, Options, run::build, run::uniform};

/// The median time of one training step.
#[derive(Debug, Clone, Serialize)]
pub struct TrainStep {
    /// The case's label.
    pub label: String,
    /// Measured in.
    pub dtype: Dtype,
    /// Threads of the pool.
    pub threads: usize,
    /// Median milliseconds of one step, the batch's generation included.
    pub train_step_ms: f64,
    /// Steps timed.
    pub steps_timed: usize,
}

/// Times [`Trainer::step`] on fresh uniform batches of `case`'s shape.
///
/// # Errors
///
/// A model that cannot be built, or a step that fails (a non-finite loss).
pub fn measure_trainer(case: &Case, dtype: Dtype, opts: &Options) -> anyhow::Result<TrainStep> {
    match dtype {
        Dtype::F32 => typed::<f32>(case, dtype, opts),
        Dtype::F64 => typed::<f64>(case, dtype, opts),
    }
}

fn typed<T: Real>(case: &Case, dtype: Dtype, opts: &Options) -> anyhow::Result<TrainStep> {
    let body = build::<T>(case, opts.seed)?;
    let width = body.output_size();
    let body = Stack::new(vec![body])?;
    let head = Dense::new(width, 1, Activation::Identity, &mut seeded(opts.seed + 1))?;
    let model = Model::new(body, head, Readout::LastStep)?;
    let config = TrainConfig {
        clip_norm: Some(1.0),
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(model, Box::new(Adam::new(1e-3)), config);
    let mut rng = seeded(opts.seed ^ 0x7a11);
    let (t, b) = (case.steps, case.batch);
    let mut step = |rng: &mut rand_chacha::ChaCha8Rng| -> anyhow::Result<()> {
        let batch = Batch {
            inputs: uniform::<T>(case.input * t * b, rng),
            features: case.input,
            steps: t,
            batch: b,
            lengths: None,
            targets: Targets::FinalValues {
                values: (0..b).map(|_| T::from_f64_lossy(rng.random())).collect(),
                outputs: 1,
            },
        };
        black_box(trainer.step(&batch)?);
        Ok(())
    };
    step(&mut rng)?; // warm-up
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < opts.max_reps
        && (times.len() < opts.min_reps || start.elapsed() < opts.target)
    {
        let t0 = Instant::now();
        step(&mut rng)?;
        times.push(t0.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(TrainStep {
        label: case.label(),
        dtype,
        threads: rayon::current_num_threads(),
        train_step_ms: times[times.len() / 2] * 1e3,
        steps_timed: times.len(),
    })
}
