//! `rnnzoo`: reproduce the classic results, measure speed, inspect checkpoints.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use rnnzoo::vanilla::Nonlinearity;
use rnnzoo::zoo::CellChoice;
use rnnzoo_bench::reproduce::{self, Context, Scale};
use rnnzoo_bench::speed::{self, Case, Dtype};

/// Counts live and peak heap bytes, for `rnnzoo speed`'s training-memory figure.
#[global_allocator]
static ALLOC: speed::memory::Counting = speed::memory::Counting;

/// `println!` that returns the write error instead of panicking, so `rnnzoo ... | head` ends
/// quietly when the reader goes away (see `main`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

#[derive(Parser)]
#[command(
    name = "rnnzoo",
    version,
    about = "Recurrent networks on the CPU: list the cells, reproduce, measure, inspect"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every cell kind of the zoo: name, step form, PyTorch mode, crate, state, options, paper.
    Cells {
        /// A JSON array on stdout instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Run an experiment (or `all`) and write NAME.json, plots and REPORT.md into --out.
    Reproduce {
        /// The experiment, or `all` for every one in this order.
        #[arg(value_parser = experiment_names())]
        name: String,
        /// Minutes for the whole suite (the default).
        #[arg(long, conflicts_with_all = ["full", "tiny"])]
        quick: bool,
        /// Paper-scale settings.
        #[arg(long, conflicts_with = "tiny")]
        full: bool,
        /// Seconds: the size the test suite runs.
        #[arg(long, hide = true)]
        tiny: bool,
        /// Seed of everything random.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Output folder.
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// Only the models with these labels (comma-separated, as the report's tables name them:
        /// `lstm,gru`), in the experiments that train several: adding, copy, mnist1d,
        /// leaderboard. The claims about the others are then not checked.
        #[arg(long, value_delimiter = ',')]
        cells: Vec<String>,
        /// The lengths (adding) or delays (copy) to run, instead of the scale's.
        #[arg(long, value_delimiter = ',')]
        lengths: Vec<usize>,
        /// Threads: independent trainings run one per thread (0: all cores).
        #[arg(long, default_value_t = 0)]
        threads: usize,
    },
    /// What a checkpoint, weights file or PyTorch state_dict holds: mode, sizes, layers,
    /// directions, parameter count. A damaged file is an error and a non-zero exit.
    Inspect {
        /// The file (safetensors).
        file: PathBuf,
        /// One JSON object on stdout instead of the table.
        #[arg(long)]
        json: bool,
        /// An nn.RNN's nonlinearity, which a state_dict does not record. Without it: the file's
        /// metadata, else tanh (PyTorch's default), and the output says it was assumed.
        #[arg(long, value_parser = parse_nonlinearity)]
        nonlinearity: Option<Nonlinearity>,
        /// The prefix of the recurrent module's names in a model's state_dict (`lstm.` for
        /// `lstm.weight_ih_l0`).
        #[arg(long, default_value = "")]
        prefix: String,
    },
    /// Train a character-level language model on a text file (`--text input.txt --out run/`) or
    /// a classifier or regressor on a file of sequences (`--data seqs.csv`), from flags, a TOML
    /// config (`--config run.toml`), or both (flags win).
    Train(Box<TrainArgs>),
    /// Bits per character of a language model on a text (`--text`), or accuracy / mean squared
    /// error of a model of sequences on a data file (`--data`).
    Eval {
        /// A checkpoint of `rnnzoo train` (`run/best.safetensors`).
        #[arg(long)]
        checkpoint: PathBuf,
        /// A UTF-8 text to score with a language model.
        #[arg(long, required_unless_present = "data", conflicts_with = "data")]
        text: Option<PathBuf>,
        /// A file of sequences (.csv, .npy, .safetensors, as `train --data` reads) to score.
        #[arg(long)]
        data: Option<PathBuf>,
        /// One JSON object on stdout instead of the summary line.
        #[arg(long)]
        json: bool,
    },
    /// Generate text from a trained language model.
    Sample {
        /// A checkpoint of `rnnzoo train` (`run/best.safetensors`).
        #[arg(long)]
        checkpoint: PathBuf,
        /// Text fed first; the output starts with it (`\n` is a newline).
        #[arg(long, default_value = "\\n")]
        prime: String,
        /// Characters to generate after the prime.
        #[arg(long, default_value_t = 500)]
        length: usize,
        /// Softmax temperature (below 1: likelier characters; above: more varied).
        #[arg(long, default_value_t = 0.8)]
        temperature: f64,
        /// Seed of the draws.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Run a PyTorch state_dict (nn.RNN, nn.LSTM, nn.GRU; any depth and direction) on an input
    /// file and write `output`, `h_n` (and `c_n`) as PyTorch's module returns them; or a
    /// checkpoint of `rnnzoo train`, writing its `predictions`.
    Predict(PredictArgs),
    /// Median times of forward (inference) and forward+backward of a layer or stack, and GFLOP/s.
    Speed(SpeedArgs),
    /// GFLOP/s of one large square GEMM through rnnzoo's backend (the ceiling of `speed`).
    GemmCeiling(CeilingArgs),
}

/// `all` and every experiment's name, from the one list `reproduce::EXPERIMENTS`, so that
/// `rnnzoo reproduce --help` lists them with their titles and a wrong name is refused with them.
fn experiment_names() -> clap::builder::PossibleValuesParser {
    let all = clap::builder::PossibleValue::new("all").help("every experiment below, in order");
    clap::builder::PossibleValuesParser::new(
        std::iter::once(all).chain(
            reproduce::EXPERIMENTS
                .iter()
                .map(|e| clap::builder::PossibleValue::new(e.name).help(e.title)),
        ),
    )
}

#[derive(Args)]
struct TrainArgs {
    /// A TOML run configuration (`rnnzoo train --print-config` prints every field).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Print the default configuration, every field documented, and exit.
    #[arg(long)]
    print_config: bool,
    /// The output folder: checkpoints, metrics.jsonl, loss.svg, run.toml.
    #[arg(long, default_value = "run")]
    out: PathBuf,
    /// Continue the run in --out from its latest checkpoint (bit for bit); --steps or --epochs
    /// may extend it.
    #[arg(long)]
    resume: bool,
    /// One JSON object on stdout at the end instead of the summary line.
    #[arg(long)]
    json: bool,
    /// `data.text`: a UTF-8 text file (a character-level language model).
    #[arg(long)]
    text: Option<PathBuf>,
    /// `data.sequences`: a file of sequences with targets (.csv, .npy, .safetensors).
    #[arg(long)]
    data: Option<PathBuf>,
    /// `data.task` (for --data).
    #[arg(long, value_enum)]
    task: Option<rnnzoo_bench::train::sequences::TaskKind>,
    /// `data.target_columns` (CSV and npy).
    #[arg(long)]
    target_columns: Option<usize>,
    /// `data.features` (CSV and npy).
    #[arg(long)]
    features: Option<usize>,
    /// `data.valid_fraction`.
    #[arg(long)]
    valid_fraction: Option<f64>,
    /// `model.cell`: a name of `rnnzoo cells`, options after a colon.
    #[arg(long)]
    cell: Option<String>,
    /// `model.hidden`.
    #[arg(long)]
    hidden: Option<usize>,
    /// `model.layers`.
    #[arg(long)]
    layers: Option<usize>,
    /// `model.bidirectional` (for --data).
    #[arg(long)]
    bidirectional: bool,
    /// `model.dropout`.
    #[arg(long)]
    dropout: Option<f64>,
    /// `model.dtype`.
    #[arg(long, value_enum)]
    dtype: Option<Dtype>,
    /// `train.batch`.
    #[arg(long)]
    batch: Option<usize>,
    /// `train.bptt`.
    #[arg(long)]
    bptt: Option<usize>,
    /// `train.steps` (updates; 0: by epochs).
    #[arg(long)]
    steps: Option<u64>,
    /// `train.epochs`.
    #[arg(long)]
    epochs: Option<usize>,
    /// `train.optimizer`.
    #[arg(long, value_enum)]
    optimizer: Option<rnnzoo_bench::train::OptimizerKind>,
    /// `train.lr`.
    #[arg(long)]
    lr: Option<f64>,
    /// `train.schedule`.
    #[arg(long, value_enum)]
    schedule: Option<rnnzoo_bench::train::Schedule>,
    /// `train.clip` (0: none).
    #[arg(long)]
    clip: Option<f64>,
    /// `train.label_smoothing` (class targets).
    #[arg(long)]
    label_smoothing: Option<f64>,
    /// `train.eval_every`.
    #[arg(long)]
    eval_every: Option<u64>,
    /// `train.patience` (0: no early stopping).
    #[arg(long)]
    patience: Option<usize>,
    /// `train.seed`.
    #[arg(long)]
    seed: Option<u64>,
    /// `train.threads` (0: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

impl TrainArgs {
    /// The flags over `cfg`.
    fn apply(&self, cfg: &mut rnnzoo_bench::train::RunConfig) {
        fn set<T: Clone>(slot: &mut T, flag: &Option<T>) {
            if let Some(v) = flag {
                *slot = v.clone();
            }
        }
        set(&mut cfg.data.text, &self.text);
        set(&mut cfg.data.sequences, &self.data);
        set(&mut cfg.data.task, &self.task);
        set(&mut cfg.data.target_columns, &self.target_columns);
        set(&mut cfg.data.features, &self.features);
        set(&mut cfg.data.valid_fraction, &self.valid_fraction);
        if self.bidirectional {
            cfg.model.bidirectional = true;
        }
        set(&mut cfg.model.cell, &self.cell);
        set(&mut cfg.model.hidden, &self.hidden);
        set(&mut cfg.model.layers, &self.layers);
        set(&mut cfg.model.dropout, &self.dropout);
        set(&mut cfg.model.dtype, &self.dtype);
        let t = &mut cfg.train;
        set(&mut t.batch, &self.batch);
        set(&mut t.bptt, &self.bptt);
        set(&mut t.steps, &self.steps);
        set(&mut t.epochs, &self.epochs);
        set(&mut t.optimizer, &self.optimizer);
        set(&mut t.lr, &self.lr);
        set(&mut t.schedule, &self.schedule);
        set(&mut t.clip, &self.clip);
        set(&mut t.label_smoothing, &self.label_smoothing);
        set(&mut t.eval_every, &self.eval_every);
        set(&mut t.patience, &self.patience);
        set(&mut t.seed, &self.seed);
        set(&mut t.threads, &self.threads);
    }
}

/// Exit status of a run stopped by SIGINT (128 + the signal's number, as a shell reports it).
const INTERRUPTED: u8 = 130;

fn run_train(a: &TrainArgs) -> anyhow::Result<ExitCode> {
    use rnnzoo_bench::train::{self, RunConfig, run};
    if a.print_config {
        print!("{}", RunConfig::default_toml());
        return Ok(ExitCode::SUCCESS);
    }
    // The base is the file, or on --resume the run's own configuration; the flags go on top.
    let mut cfg = match (&a.config, a.resume) {
        (Some(path), _) => RunConfig::read(path)?,
        (None, true) => {
            train::record::read_record(&a.out.join(train::LATEST))
                .map_err(|e| match e {
                    train::RunError::File { .. } if !a.out.join(train::LATEST).exists() => {
                        train::RunError::NothingToResume {
                            path: a.out.join(train::LATEST),
                        }
                    }
                    e => e,
                })?
                .config
        }
        (None, false) => RunConfig::default(),
    };
    a.apply(&mut cfg);
    cfg.validate()?;
    let interrupt = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let flag = interrupt.clone();
        // A second handler cannot be installed in one process; the program trains once.
        ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::SeqCst))
            .context("installing the SIGINT handler")?;
    }
    let opts = run::RunOptions {
        out: a.out.clone(),
        resume: a.resume,
        progress: !a.json,
        interrupt: Some(interrupt),
    };
    // The pool is the global one, so that training (and its MPI calls) stays on this thread.
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads(cfg.train.threads))
        .build_global()
        .context("building the thread pool")?;
    let comm = train::comm::from_env()?;
    let s = run::train_with(&cfg, &opts, comm.as_ref())?;
    // Only rank 0 reports: the others' summaries are the same run's.
    if comm.rank() != 0 {
        return Ok(ExitCode::SUCCESS);
    }
    if a.json {
        out!("{}", serde_json::to_string(&s)?);
    } else {
        out!(
            "{}: {} updates ({:?}), valid {}, {} parameters, {:.1} s; checkpoints in {}",
            s.learned,
            s.steps,
            s.stopped,
            s.valid
                .as_ref()
                .map_or("not validated".into(), run::headline),
            s.params,
            s.seconds,
            a.out.display()
        );
    }
    Ok(if s.stopped == run::Stopped::Interrupted {
        eprintln!(
            "interrupted: the state at update {} is in {}; continue with --resume",
            s.steps,
            a.out.join(train::LATEST).display()
        );
        ExitCode::from(INTERRUPTED)
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Args)]
struct PredictArgs {
    /// The weights: a safetensors `state_dict` (`save_file(lstm.state_dict(), W)`), or a
    /// checkpoint of `rnnzoo train` (which writes its head's `predictions`).
    #[arg(long)]
    weights: PathBuf,
    /// The input: safetensors with `input` (T, B, F) and optionally `lengths` (B,) int64, `h0`,
    /// `c0` in PyTorch's shapes; or a `.npy` file with the input alone.
    #[arg(long)]
    input: PathBuf,
    /// Where to write `output`, `h_n` and (LSTM) `c_n` (safetensors, PyTorch's shapes).
    #[arg(long)]
    output: PathBuf,
    /// Valid steps per sample, comma-separated (`5,3,2`); overrides the file's `lengths`.
    #[arg(long)]
    lengths: Option<String>,
    /// The dtype to compute and write in; default: the input's (F32 or F64).
    #[arg(long, value_enum)]
    dtype: Option<Dtype>,
    /// The recurrent module's prefix in a model's state_dict (`lstm.` for `lstm.weight_ih_l0`).
    #[arg(long, default_value = "")]
    prefix: String,
    /// Skip tensors of the weights file that are not the module's (other modules of a model).
    #[arg(long)]
    ignore_extra: bool,
    /// An nn.RNN's nonlinearity, which a state_dict does not record. Without it: the file's
    /// metadata, else tanh (PyTorch's default).
    #[arg(long, value_parser = parse_nonlinearity)]
    nonlinearity: Option<Nonlinearity>,
    /// One JSON object on stdout instead of the summary line.
    #[arg(long)]
    json: bool,
}

fn run_eval(
    checkpoint: &std::path::Path,
    text: Option<&std::path::Path>,
    data: Option<&std::path::Path>,
    json: bool,
) -> anyhow::Result<()> {
    if let Some(data) = data {
        let e = rnnzoo_bench::eval::eval_data(checkpoint, data)?;
        if json {
            out!("{}", serde_json::to_string(&e)?);
        } else if let Some(acc) = e.accuracy {
            out!(
                "accuracy {:.2} % ({:.4} cross-entropy) over {} sequences",
                100.0 * acc,
                e.loss,
                e.sequences
            );
        } else {
            out!(
                "mean squared error {:.6} over {} sequences",
                e.loss,
                e.sequences
            );
        }
        return Ok(());
    }
    let text = text.context("--text or --data")?;
    let e = rnnzoo_bench::eval::eval_text(checkpoint, text)?;
    if json {
        out!("{}", serde_json::to_string(&e)?);
    } else {
        out!(
            "{:.4} bits per character ({:.4} nats) over {} predicted characters; {} of {} characters not in the model's vocabulary skipped{}",
            e.bits_per_char,
            e.nats_per_char,
            e.predicted,
            e.unknown,
            e.chars,
            if e.unknown_chars.is_empty() {
                String::new()
            } else {
                format!(" ({:?})", e.unknown_chars)
            }
        );
    }
    Ok(())
}

fn run_predict(a: PredictArgs) -> anyhow::Result<()> {
    let opts = rnnzoo_bench::predict::PredictOptions {
        prefix: a.prefix,
        nonlinearity: a.nonlinearity,
        ignore_extra: a.ignore_extra,
        lengths: a
            .lengths
            .as_deref()
            .map(rnnzoo_bench::predict::parse_lengths)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--lengths {e}"))?,
        dtype: a.dtype,
    };
    let s = rnnzoo_bench::predict::predict(&a.weights, &a.input, &a.output, &opts)?;
    if a.json {
        out!("{}", serde_json::to_string(&s)?);
    } else {
        let written: Vec<String> = s
            .written
            .iter()
            .map(|(n, shape)| format!("{n} {shape:?}"))
            .collect();
        out!(
            "{} ({} layer(s), {} direction(s), {}) on T={} B={} F={}{}{}: wrote {} to {}",
            s.cell,
            s.layers,
            s.directions,
            s.dtype,
            s.steps,
            s.batch,
            s.features,
            s.lengths
                .as_deref()
                .map_or(String::new(), |w| format!(", lengths from the {w}")),
            if s.initial_state {
                ", initial state from the file"
            } else {
                ""
            },
            written.join(", "),
            a.output.display()
        );
    }
    Ok(())
}

#[derive(Args)]
struct SpeedArgs {
    /// The cell: a name of `rnnzoo cells`, options after a colon (`lstm:forget_bias=1`).
    #[arg(long)]
    cell: CellChoice,
    /// Sequence length T.
    #[arg(long)]
    steps: usize,
    /// Batch size B.
    #[arg(long)]
    batch: usize,
    /// Input size I.
    #[arg(long)]
    input: usize,
    /// Hidden size H (per direction).
    #[arg(long)]
    hidden: usize,
    /// Stacked layers.
    #[arg(long, default_value_t = 1)]
    layers: usize,
    /// Both directions in every layer (outputs concatenated, as PyTorch).
    #[arg(long)]
    bidirectional: bool,
    /// The dtype.
    #[arg(long, value_enum, default_value = "f32")]
    dtype: Dtype,
    /// Threads of the pool everything runs in (GEMM, directions); 0 = all cores.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Seconds of timing per pass (more repetitions past --min-reps while under it).
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Fewest timed repetitions.
    #[arg(long, default_value_t = 5)]
    min_reps: usize,
    /// Time single steps of a streaming session (state carried, `--batch` streams) instead of
    /// whole sequences: `--steps` steps per repetition; JSON field `streaming_step_ms`.
    #[arg(long, conflicts_with = "trainer")]
    streaming: bool,
    /// Time whole training steps instead (fresh uniform batch, dense head to 1 output, MSE at
    /// the last step, clipping at norm 1, Adam 1e-3); JSON field `train_step_ms`.
    #[arg(long)]
    trainer: bool,
    /// One JSON object on stdout instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct CeilingArgs {
    /// n of the n x n x n product.
    #[arg(long, default_value_t = 2048)]
    size: usize,
    /// The dtype.
    #[arg(long, value_enum, default_value = "f32")]
    dtype: Dtype,
    /// Threads; 0 = all cores.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Seconds of timing.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// One JSON object on stdout instead of text.
    #[arg(long)]
    json: bool,
}

fn parse_nonlinearity(s: &str) -> Result<Nonlinearity, String> {
    match s {
        "tanh" => Ok(Nonlinearity::Tanh),
        "relu" => Ok(Nonlinearity::Relu),
        other => Err(format!("`{other}`: nn.RNN's nonlinearity is tanh or relu")),
    }
}

fn threads(n: usize) -> usize {
    if n == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        n
    }
}

fn run_speed(a: SpeedArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        a.steps > 0 && a.batch > 0 && a.input > 0 && a.hidden > 0 && a.layers > 0,
        "--steps, --batch, --input, --hidden and --layers must be positive"
    );
    let case = Case {
        cell: a.cell,
        steps: a.steps,
        batch: a.batch,
        input: a.input,
        hidden: a.hidden,
        layers: a.layers,
        bidirectional: a.bidirectional,
    };
    let opts = speed::Options {
        min_reps: a.min_reps.max(1),
        target: std::time::Duration::from_secs_f64(a.seconds.max(0.0)),
        ..Default::default()
    };
    if a.trainer {
        let s = speed::with_threads(threads(a.threads), || {
            speed::measure_trainer(&case, a.dtype, &opts)
        })??;
        if a.json {
            out!("{}", serde_json::to_string(&s)?);
        } else {
            out!(
                "{} {} threads={} trainer: {:.3} ms per training step (median of {})",
                s.label,
                s.dtype.name(),
                s.threads,
                s.train_step_ms,
                s.steps_timed
            );
        }
        return Ok(());
    }
    if a.streaming {
        let s = speed::with_threads(threads(a.threads), || {
            speed::measure_streaming(&case, a.dtype, &opts)
        })??;
        if a.json {
            out!("{}", serde_json::to_string(&s)?);
        } else {
            out!(
                "{} {} threads={} streaming: {:.4} ms per step of {} stream(s) (median of {} steps)",
                s.label,
                s.dtype.name(),
                s.threads,
                s.streaming_step_ms,
                s.batch,
                s.steps_timed
            );
        }
        return Ok(());
    }
    let m = speed::with_threads(threads(a.threads), || speed::measure(&case, a.dtype, &opts))??;
    if a.json {
        out!("{}", serde_json::to_string(&m)?);
    } else {
        out!(
            "{} {} threads={}: forward {:.3} ms ({:.1} GFLOP/s), forward+backward {:.3} ms ({:.1} GFLOP/s), {:.4} ms/step, {} reps",
            m.label,
            m.dtype.name(),
            m.threads,
            m.forward_ms,
            m.forward_gflops,
            m.forward_backward_ms,
            m.forward_backward_gflops,
            m.step_ms,
            m.reps
        );
        if let Some(mem) = m.memory {
            out!(
                "training memory: peak {:.1} MB = {:.2} x (params {:.1} + input {:.1} + saved {:.1} MB)",
                mem.peak as f64 / 1e6,
                mem.ratio,
                mem.params as f64 / 1e6,
                mem.input as f64 / 1e6,
                mem.saved as f64 / 1e6
            );
        }
    }
    Ok(())
}

fn run_ceiling(a: CeilingArgs) -> anyhow::Result<()> {
    anyhow::ensure!(a.size > 0, "--size must be positive");
    let target = std::time::Duration::from_secs_f64(a.seconds.max(0.0));
    let c = speed::with_threads(threads(a.threads), || {
        speed::ceiling(a.size, a.dtype, 3, target)
    })?;
    if a.json {
        out!("{}", serde_json::to_string(&c)?);
    } else {
        out!(
            "gemm {n}x{n}x{n} {} threads={}: {:.2} ms, {:.1} GFLOP/s",
            c.dtype.name(),
            c.threads,
            c.ms,
            c.gflops,
            n = c.size
        );
    }
    Ok(())
}

fn run_cells(json: bool) -> anyhow::Result<()> {
    if json {
        out!("{}", rnnzoo_bench::cells::json()?);
    } else {
        use std::io::Write as _;
        write!(std::io::stdout().lock(), "{}", rnnzoo_bench::cells::table())?;
    }
    Ok(())
}

fn run_inspect(
    file: &std::path::Path,
    json: bool,
    opts: &rnnzoo_bench::inspect::InspectOptions,
) -> anyhow::Result<()> {
    let summary =
        rnnzoo_bench::inspect::inspect(file, opts).with_context(|| file.display().to_string())?;
    if json {
        out!("{}", serde_json::to_string(&summary)?);
    } else {
        out!("{summary}");
    }
    Ok(())
}

fn main() -> ExitCode {
    // Training and timing loops reuse their peak memory every step (see the function's docs).
    speed::memory::keep_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Reproduce {
            name,
            full,
            tiny,
            seed,
            out,
            cells,
            lengths,
            threads: n,
            ..
        } => {
            let scale = if full {
                Scale::Full
            } else if tiny {
                Scale::Tiny
            } else {
                Scale::Quick
            };
            let ctx = Context {
                progress: true,
                only: cells,
                lengths,
                ..Context::new(scale, seed, out)
            };
            let names: Vec<String> = if name == "all" {
                reproduce::names().into_iter().map(String::from).collect()
            } else {
                vec![name]
            };
            speed::with_threads(threads(n), || {
                names.iter().try_for_each(|n| {
                    let outcome = reproduce::run_named(n, &ctx)?;
                    out!("{n}: {}", outcome.summary);
                    out!("{}", outcome.markdown);
                    Ok::<(), anyhow::Error>(())
                })
            })
            .and_then(|r| r)
            .and_then(|()| {
                out!("report: {}", ctx.out.join("REPORT.md").display());
                Ok(())
            })
        }
        Command::Cells { json } => run_cells(json),
        Command::Inspect {
            file,
            json,
            nonlinearity,
            prefix,
        } => run_inspect(
            &file,
            json,
            &rnnzoo_bench::inspect::InspectOptions {
                nonlinearity,
                prefix,
            },
        ),
        Command::Train(a) => match run_train(&a) {
            Ok(code) => return code,
            Err(e) => Err(e),
        },
        Command::Eval {
            checkpoint,
            text,
            data,
            json,
        } => run_eval(&checkpoint, text.as_deref(), data.as_deref(), json),
        Command::Sample {
            checkpoint,
            prime,
            length,
            temperature,
            seed,
        } => rnnzoo_bench::sample::sample(
            &checkpoint,
            &rnnzoo_bench::sample::SampleOptions {
                prime: prime.replace("\\n", "\n"),
                length,
                temperature,
                seed,
            },
        )
        .and_then(|text| {
            out!("{text}");
            Ok(())
        }),
        Command::Predict(a) => run_predict(a),
        Command::Speed(a) => run_speed(a),
        Command::GemmCeiling(a) => run_ceiling(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away (`| head`): nothing is lost, nothing to report.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
