//! `rnnzoo speed --streaming`: one step at a time with the state carried, as a service that
//! reads a stream runs a model ([`rnnzoo::layers::session::Session`]).

use std::hint::black_box;
use std::time::Instant;

use rand::Rng;
use rnnzoo::cell::{Cell, Real, seeded};
use rnnzoo::layers::session::Session;
use rnnzoo::layers::{Layer, Recurrent, Stack};
use serde::Serialize;

use super::{Case, Dtype, Options, run::uniform};

/// The median time of one streaming step.
#[derive(Debug, Clone, Serialize)]
pub struct Streaming {
    /// The case's label.
    pub label: String,
    /// Measured in.
    pub dtype: Dtype,
    /// Threads of the pool.
    pub threads: usize,
    /// Streams stepped together (the session's batch).
    pub batch: usize,
    /// Median milliseconds of one step of every layer at `batch`.
    pub streaming_step_ms: f64,
    /// Steps timed.
    pub steps_timed: usize,
}

/// Times single steps of a unidirectional stack of `case` (its `steps` is how many steps one
/// repetition runs; repetitions continue while under the options' time target).
///
/// # Errors
///
/// A bidirectional case (a stream has no future), or a stack that cannot be built.
pub fn measure_streaming(case: &Case, dtype: Dtype, opts: &Options) -> anyhow::Result<Streaming> {
    match dtype {
        Dtype::F32 => typed::<f32>(case, dtype, opts),
        Dtype::F64 => typed::<f64>(case, dtype, opts),
    }
}

fn typed<T: Real>(case: &Case, dtype: Dtype, opts: &Options) -> anyhow::Result<Streaming> {
    anyhow::ensure!(
        !case.bidirectional,
        "--streaming runs one direction: a bidirectional layer needs the whole sequence"
    );
    let mut rng = seeded(opts.seed);
    let mut layers: Vec<Box<dyn Layer<T>>> = Vec::with_capacity(case.layers);
    for l in 0..case.layers.max(1) {
        let input = if l == 0 { case.input } else { case.hidden };
        let cell: Box<dyn Cell<T>> =
            case.cell
                .build::<T, _>(input, case.hidden, &mut seeded(rng.random()))?;
        layers.push(Box::new(Recurrent::new(cell)));
    }
    let stack = Stack::new(layers)?;
    let mut session = Session::new(&stack, case.batch)?;
    let x = uniform::<T>(case.input * case.batch * case.steps, &mut rng);
    let per_step = case.input * case.batch;
    // Warm-up: one repetition.
    for xt in x.chunks_exact(per_step) {
        black_box(session.step(xt)?);
    }
    let mut times = Vec::new();
    let start = Instant::now();
    let mut reps = 0;
    while reps < opts.max_reps && (reps < opts.min_reps || start.elapsed() < opts.target) {
        for xt in x.chunks_exact(per_step) {
            let t0 = Instant::now();
            black_box(session.step(xt)?);
            times.push(t0.elapsed().as_secs_f64());
        }
        reps += 1;
    }
    times.sort_by(f64::total_cmp);
    Ok(Streaming {
        label: case.label(),
        dtype,
        threads: rayon::current_num_threads(),
        batch: case.batch,
        streaming_step_ms: times[times.len() / 2] * 1e3,
        steps_timed: times.len(),
    })
}
