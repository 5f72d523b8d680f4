//! `rnnzoo reproduce NAME`: the experiments, each writing `NAME.json`, its plots and a section of
//! `REPORT.md` into the output folder.

pub mod adding;
pub mod bidirectional;
pub mod charlm;
pub mod claims;
pub mod clipping;
pub mod copy;
pub mod depth;
pub mod gradcheck;
pub mod gradflow;
pub mod kit;
pub mod leaderboard;
pub mod lm;
pub mod lm_refs;
pub mod mnist1d;
pub mod plot;
pub mod timeseries;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use serde_json::json;

/// How big an experiment runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
pub enum Scale {
    /// Minutes for the whole suite on two cores.
    Quick,
    /// Paper-scale settings.
    Full,
    /// Seconds: what the test suite runs.
    Tiny,
}

impl Scale {
    /// The command-line flag that selects this scale.
    pub fn flag(self) -> &'static str {
        match self {
            Self::Quick => "--quick",
            Self::Full => "--full",
            Self::Tiny => "--tiny",
        }
    }
}

/// What every experiment is given.
#[derive(Debug, Clone)]
pub struct Context {
    /// The seed of everything random.
    pub seed: u64,
    /// The scale.
    pub scale: Scale,
    /// The output folder.
    pub out: PathBuf,
    /// Whether to draw progress bars.
    pub progress: bool,
    /// Only the models with these labels, in the experiments that train several (adding, copy,
    /// mnist1d, leaderboard); empty: all.
    pub only: Vec<String>,
    /// The lengths (adding) or delays (copy) to run instead of the scale's; empty: the scale's.
    pub lengths: Vec<usize>,
}

impl Context {
    /// A context of `scale` and `seed` writing into `out`, without progress bars, every model
    /// and the scale's lengths.
    ///
    /// ```
    /// use rnnzoo_bench::reproduce::{Context, Scale};
    /// let ctx = Context::new(Scale::Tiny, 0, "out".into());
    /// assert!(ctx.wants("lstm") && !ctx.progress);
    /// ```
    pub fn new(scale: Scale, seed: u64, out: PathBuf) -> Self {
        Self {
            seed,
            scale,
            out,
            progress: false,
            only: Vec::new(),
            lengths: Vec::new(),
        }
    }

    /// Whether the model labelled `label` is to be trained (`--cells`).
    ///
    /// ```
    /// use rnnzoo_bench::reproduce::{Context, Scale};
    /// let mut ctx = Context::new(Scale::Tiny, 0, "out".into());
    /// ctx.only = vec!["lstm".into()];
    /// assert!(ctx.wants("lstm") && !ctx.wants("lstm chrono"));
    /// ```
    pub fn wants(&self, label: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == label)
    }

    /// `--lengths` when given, else the scale's `default`.
    ///
    /// ```
    /// use rnnzoo_bench::reproduce::{Context, Scale};
    /// let mut ctx = Context::new(Scale::Quick, 0, "out".into());
    /// assert_eq!(ctx.lengths_or(vec![100, 200]), [100, 200]);
    /// ctx.lengths = vec![300];
    /// assert_eq!(ctx.lengths_or(vec![100, 200]), [300]);
    /// ```
    pub fn lengths_or(&self, default: Vec<usize>) -> Vec<usize> {
        if self.lengths.is_empty() {
            default
        } else {
            self.lengths.clone()
        }
    }
}

/// What an experiment found.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// One line for the terminal.
    pub summary: String,
    /// Its section of `REPORT.md` (without the heading).
    pub markdown: String,
    /// Its results, for `NAME.json`.
    pub json: serde_json::Value,
    /// Plot files it wrote, relative to the output folder.
    pub plots: Vec<String>,
}

/// An experiment: a name, a title and a function.
pub struct Experiment {
    /// The name on the command line.
    pub name: &'static str,
    /// The heading of its report section.
    pub title: &'static str,
    /// Runs it.
    pub run: fn(&Context) -> anyhow::Result<Outcome>,
}

/// Every experiment, in the order `reproduce all` runs them.
pub const EXPERIMENTS: &[Experiment] = &[
    Experiment {
        name: "gradflow",
        title: "Vanishing and exploding gradients at initialisation",
        run: gradflow::run,
    },
    Experiment {
        name: "clipping",
        title: "Gradient-norm clipping on an RNN with a large spectral radius",
        run: clipping::run,
    },
    Experiment {
        name: "adding",
        title: "The adding problem",
        run: adding::run,
    },
    Experiment {
        name: "copy",
        title: "The copy memory task",
        run: copy::run,
    },
    Experiment {
        name: "mnist1d",
        title: "MNIST-1D sequence classification",
        run: mnist1d::run,
    },
    Experiment {
        name: "bidirectional",
        title: "Bidirectional against one-directional on a look-ahead tagging task",
        run: bidirectional::run,
    },
    Experiment {
        name: "depth",
        title: "Character-level language model: one layer against two",
        run: depth::run,
    },
    Experiment {
        name: "charlm",
        title: "Character-level language model: LSTM, GRU and vanilla RNN at a similar parameter count",
        run: charlm::run,
    },
    Experiment {
        name: "timeseries",
        title: "Mackey-Glass forecasting",
        run: timeseries::run,
    },
    Experiment {
        name: "leaderboard",
        title: "Leaderboard: every cell of the zoo on the adding problem, the copy task and MNIST-1D",
        run: leaderboard::run,
    },
    Experiment {
        name: "gradcheck",
        title: "Gradient checks of every cell",
        run: gradcheck::run,
    },
];

/// Runs one experiment by name and writes its files; returns its outcome.
///
/// # Errors
///
/// An unknown name, a failed experiment or a file that could not be written.
pub fn run_named(name: &str, ctx: &Context) -> anyhow::Result<Outcome> {
    let exp = EXPERIMENTS
        .iter()
        .find(|e| e.name == name)
        .with_context(|| {
            format!(
                "no experiment `{name}`; there are: all, {}",
                names().join(", ")
            )
        })?;
    std::fs::create_dir_all(&ctx.out).with_context(|| format!("creating {}", ctx.out.display()))?;
    let started = Instant::now();
    let outcome = (exp.run)(ctx).with_context(|| format!("experiment {name}"))?;
    let seconds = started.elapsed().as_secs_f64();
    let doc = json!({
        "experiment": name,
        "seed": ctx.seed,
        "scale": ctx.scale,
        "seconds": seconds,
        "summary": outcome.summary,
        "plots": outcome.plots,
        "results": outcome.json,
    });
    write_atomic(
        &ctx.out.join(format!("{name}.json")),
        serde_json::to_string_pretty(&doc)?.as_bytes(),
    )?;
    let mut section = format!(
        "## {}\n\n`rnnzoo reproduce {name} {} --seed {}`, {seconds:.1} s.\n\n",
        exp.title,
        ctx.scale.flag(),
        ctx.seed,
    );
    section += &outcome.markdown;
    for p in &outcome.plots {
        section += &format!("\n![{name}]({p})\n");
    }
    write_atomic(&ctx.out.join(format!("{name}.md")), section.as_bytes())?;
    let rows = write_summary(&ctx.out)?;
    write_report(&ctx.out, &rows)?;
    Ok(outcome)
}

/// The experiments' names.
pub fn names() -> Vec<&'static str> {
    EXPERIMENTS.iter().map(|e| e.name).collect()
}

/// `REPORT.md`: the verdicts table of `rows` (the claims of `summary.json`), then every section
/// present in the folder, in suite order.
fn write_report(out: &Path, rows: &[serde_json::Value]) -> anyhow::Result<()> {
    let mut report = String::from(
        "# rnnzoo: reproduced results\n\nMade by `rnnzoo reproduce`; each section says the command and seed.\n\n",
    );
    report += &claims::verdicts_markdown(rows);
    for e in EXPERIMENTS {
        if let Ok(s) = std::fs::read_to_string(out.join(format!("{}.md", e.name))) {
            report += &s;
            report += "\n";
        }
    }
    write_atomic(&out.join("REPORT.md"), report.as_bytes())
}

/// `summary.json`: `{"rows": [...]}`, the rows every experiment present in the folder lists under
/// `results.summary_rows` in its `NAME.json` (each an object with an `id`, such as
/// `gradcheck-sensitivity-lstm`), in suite order, each with its `experiment` added. Returns the
/// rows.
fn write_summary(out: &Path) -> anyhow::Result<Vec<serde_json::Value>> {
    let mut rows = Vec::new();
    for e in EXPERIMENTS {
        let Ok(text) = std::fs::read_to_string(out.join(format!("{}.json", e.name))) else {
            continue;
        };
        let doc: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("reading {}.json", e.name))?;
        if let Some(list) = doc["results"]["summary_rows"].as_array() {
            for row in list {
                let mut row = row.clone();
                if let Some(o) = row.as_object_mut() {
                    o.insert("experiment".into(), json!(e.name));
                }
                rows.push(row);
            }
        }
    }
    write_atomic(
        &out.join("summary.json"),
        serde_json::to_string_pretty(&json!({ "rows": rows }))?.as_bytes(),
    )?;
    Ok(rows)
}

/// Writes a file so that a crash leaves either the old or the new contents: a temporary file in
/// the same folder, flushed to disk, then renamed over the target.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    // `NAME.json.tmp`, not `NAME.tmp`: files that differ only in extension must not share one.
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    let tmp = path.with_file_name(name);
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}
