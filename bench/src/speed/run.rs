//! Timing one case: the median of forward (inference, no tape) and of forward+backward.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rand::Rng;
use rnnzoo::cell::{Cell, Real, seeded};
use rnnzoo::layers::{Bidirectional, Inputs, Layer, Merge, Recurrent, Stack};

use super::case::{Case, Dtype};
use super::memory;

/// How long and how often to measure.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// At least this many timed repetitions of each pass.
    pub min_reps: usize,
    /// At most this many.
    pub max_reps: usize,
    /// Keep repeating (up to `max_reps`) until this much time has been spent timing.
    pub target: Duration,
    /// Also measure the peak heap of one forward+backward (needs the counting allocator).
    pub memory: bool,
    /// Seed of the weights and data.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            min_reps: 5,
            max_reps: 200,
            target: Duration::from_secs(2),
            memory: true,
            seed: 0,
        }
    }
}

/// Heap use of one forward+backward, in bytes.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Memory {
    /// The parameters.
    pub params: usize,
    /// The input sequence.
    pub input: usize,
    /// What a forward pass for training leaves alive until backward: the tape (saved
    /// activations, including the layer's copy of its input) and the output.
    pub saved: usize,
    /// The most bytes live at once during forward+backward: the parameters, their gradients, the
    /// input and the output gradient, plus the most that forward+backward allocated on top of
    /// them at any moment (tape, output, input gradient, every temporary).
    pub peak: usize,
    /// `peak / (params + input + saved)`.
    pub ratio: f64,
}

/// What `rnnzoo speed` reports for one case.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Measurement {
    /// The case's label.
    pub label: String,
    /// The case.
    #[serde(flatten)]
    pub case: Case,
    /// The dtype.
    pub dtype: Dtype,
    /// Threads of the pool the case ran in.
    pub threads: usize,
    /// Median milliseconds of a forward pass for inference (no tape).
    pub forward_ms: f64,
    /// Median milliseconds of a forward pass with tape plus the backward pass.
    pub forward_backward_ms: f64,
    /// Forward GEMM flops over the forward median.
    pub forward_gflops: f64,
    /// Three times the forward GEMM flops over the forward+backward median.
    pub forward_backward_gflops: f64,
    /// Milliseconds per step of forward+backward.
    pub step_ms: f64,
    /// Timed repetitions of each pass.
    pub reps: usize,
    /// Peak memory, if measured.
    pub memory: Option<Memory>,
}

/// Runs `f` with a rayon pool of `threads` threads as the current pool, so that every parallel
/// part of rnnzoo (GEMM, the two directions of a bidirectional layer) uses at most that many.
///
/// # Errors
///
/// If the pool cannot be built.
pub fn with_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> anyhow::Result<R> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .context("building the thread pool")?;
    Ok(pool.install(f))
}

/// Measures `case` in `dtype` in the current thread pool.
///
/// # Errors
///
/// A layer that cannot be built or run (zero sizes).
pub fn measure(case: &Case, dtype: Dtype, opts: &Options) -> anyhow::Result<Measurement> {
    match dtype {
        Dtype::F32 => measure_typed::<f32>(case, dtype, opts),
        Dtype::F64 => measure_typed::<f64>(case, dtype, opts),
    }
}

/// The network of a case, PyTorch's default initialisation.
///
/// # Errors
///
/// Zero sizes.
pub fn build<T: Real>(case: &Case, seed: u64) -> anyhow::Result<Box<dyn Layer<T>>> {
    let kind = case.cell;
    let mut rng = seeded(seed);
    let mut layers: Vec<Box<dyn Layer<T>>> = Vec::with_capacity(case.layers);
    for l in 0..case.layers.max(1) {
        let input = if l == 0 {
            case.input
        } else {
            case.hidden * case.dirs()
        };
        let mut cell = || -> anyhow::Result<Recurrent<Box<dyn Cell<T>>>> {
            Ok(Recurrent::new(kind.build::<T, _>(
                input,
                case.hidden,
                &mut seeded(rng.random()),
            )?))
        };
        if case.bidirectional {
            layers.push(Box::new(Bidirectional::new(
                cell()?,
                cell()?,
                Merge::Concat,
            )?));
        } else {
            layers.push(Box::new(cell()?));
        }
    }
    Ok(if layers.len() == 1 {
        layers.pop().expect("one layer")
    } else {
        Box::new(Stack::new(layers)?)
    })
}

/// Uniform values in `[-1, 1)`.
pub fn uniform<T: Real>(n: usize, rng: &mut impl Rng) -> Vec<T> {
    (0..n)
        .map(|_| T::from_f64_lossy(rng.random_range(-1.0..1.0)))
        .collect()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn measure_typed<T: Real>(
    case: &Case,
    dtype: Dtype,
    opts: &Options,
) -> anyhow::Result<Measurement> {
    let layer = build::<T>(case, opts.seed)?;
    let (t, b) = (case.steps, case.batch);
    let mut rng = seeded(opts.seed ^ 0x5eed);
    let x = uniform::<T>(case.input * t * b, &mut rng);
    let d_out = uniform::<T>(layer.output_size() * t * b, &mut rng);
    let mut grads = layer.zero_grads();
    let inputs = Inputs::new(&x, t, b);

    let forward = |layer: &dyn Layer<T>| -> anyhow::Result<()> {
        black_box(layer.infer(inputs)?);
        Ok(())
    };
    let train = |layer: &dyn Layer<T>, grads: &mut Vec<_>| -> anyhow::Result<()> {
        let (out, tape) = layer.forward(inputs, None)?;
        black_box(layer.backward(&tape, &d_out, None, grads)?);
        black_box(out);
        Ok(())
    };

    // Warm-up: page in every buffer size once, let a lazily chosen kernel settle.
    forward(&*layer)?;
    train(&*layer, &mut grads)?;

    // Interleave the two passes so that a noisy neighbour slows both alike.
    let (mut fwd, mut both) = (Vec::new(), Vec::new());
    let start = Instant::now();
    while fwd.len() < opts.max_reps && (fwd.len() < opts.min_reps || start.elapsed() < opts.target)
    {
        let t0 = Instant::now();
        forward(&*layer)?;
        fwd.push(t0.elapsed().as_secs_f64());
        let t0 = Instant::now();
        train(&*layer, &mut grads)?;
        both.push(t0.elapsed().as_secs_f64());
    }
    let reps = fwd.len();
    let (f, fb) = (median(&mut fwd), median(&mut both));

    let memory = (opts.memory && memory::installed()).then(|| {
        let bytes = |n: usize| n * dtype.bytes();
        let params = bytes(
            grads
                .iter()
                .map(|p| p.iter().map(|q| q.data().len()).sum::<usize>())
                .sum::<usize>(),
        );
        // Measured from here: what forward+backward allocates on top of what the training step
        // already holds (parameters, their gradients, input, output gradient). Caches a library
        // keeps for the life of a thread (the gemm crate's packing slab, rayon's stacks) were
        // allocated by the warm-up and are not part of a step's cost.
        let before = memory::reset_peak();
        let (out, tape) = layer.forward(inputs, None).expect("ran above");
        let saved = memory::live() - before;
        black_box(
            layer
                .backward(&tape, &d_out, None, &mut grads)
                .expect("ran above"),
        );
        drop((out, tape));
        let input = bytes(x.len());
        let peak = 2 * params + input + bytes(d_out.len()) + (memory::peak() - before);
        Memory {
            params,
            input,
            saved,
            peak,
            ratio: peak as f64 / (params + input + saved) as f64,
        }
    });

    Ok(Measurement {
        label: case.label(),
        case: *case,
        dtype,
        threads: rayon::current_num_threads(),
        forward_ms: f * 1e3,
        forward_backward_ms: fb * 1e3,
        forward_gflops: case.forward_flops() / f / 1e9,
        forward_backward_gflops: case.forward_backward_flops() / fb / 1e9,
        step_ms: fb * 1e3 / t as f64,
        reps,
        memory,
    })
}
