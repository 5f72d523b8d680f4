//! `rnnzoo`: reproduce the classic results, measure speed, inspect checkpoints.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rnnzoo_bench::reproduce::{self, Context, Scale};

#[derive(Parser)]
#[command(
    name = "rnnzoo",
    version,
    about = "Recurrent networks on the CPU: reproduce, measure, inspect"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run an experiment (or `all`) and write NAME.json, plots and REPORT.md into --out.
    Reproduce {
        /// The experiment, or `all`.
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
}

fn main() -> ExitCode {
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
                    println!("{n}: {}", outcome.summary);
                    println!("{}", outcome.markdown);
                    Ok::<(), anyhow::Error>(())
                })
                .map(|()| println!("report: {}", ctx.out.join("REPORT.md").display()))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
