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
                seed,
                scale,
                out,
                progress: true,
            };
            let names: Vec<String> = if name == "all" {
                reproduce::names().into_iter().map(String::from).collect()
            } else {
                vec![name]
            };
            names
                .iter()
                .try_for_each(|n| {
                    let outcome = reproduce::run_named(n, &ctx)?;
                    out!("{n}: {}", outcome.summary);
                    out!("{}", outcome.markdown);
                    Ok::<(), anyhow::Error>(())
                })
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
