//! `leaderboard`: every cell of the registry ([`rnnzoo::zoo::entries`], at its default options)
//! on the adding problem (T = 100), the copy memory task (T = 100) and MNIST-1D, each in the
//! setting of its own experiment (the same sizes, optimizer, batches, test sets and solved
//! criteria: [`super::adding::settings`], [`super::copy::settings`], [`super::mnist1d::settings`])
//! at one update budget for every cell. A cell registered in the zoo joins the table with no
//! change here.

use rnnzoo::datasets::Mnist1d;
use rnnzoo::zoo::{CellChoice, Entry};
use serde::Serialize;

use super::kit::{in_parallel, num, pick};
use super::plot::{Chart, Series};
use super::{Context, Outcome, adding, copy, mnist1d};

/// The three tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Task {
    Adding,
    Copy,
    Mnist1d,
}

const TASKS: [Task; 3] = [Task::Adding, Task::Copy, Task::Mnist1d];

/// Updates per task and cell, and evaluations between them.
#[derive(Debug, Clone, Copy, Serialize)]
struct Budget {
    updates: usize,
    eval_every: usize,
}

fn budget(scale: super::Scale) -> Budget {
    pick(
        scale,
        Budget {
            updates: 20,
            eval_every: 10,
        },
        // What 21 cells x 3 tasks fit into the suite's 15 minutes on two cores (about 400 ms of
        // one core per update of every cell on every task). At this budget the GRU is close to
        // solving the adding problem and expRNN solves the copy task; the LSTM needs its own
        // experiment's 5,000 updates for the adding problem. The experiments' own sections train
        // their cells for longer.
        Budget {
            updates: 1000,
            eval_every: 100,
        },
        Budget {
            updates: 10_000,
            eval_every: 500,
        },
    )
}

/// One cell on one task.
#[derive(Debug, Clone, Serialize)]
struct Score {
    cell: &'static str,
    task: Task,
    params: usize,
    /// The update at which it was solved (adding: test MSE below 0.01; copy: cross-entropy below
    /// a tenth of the baseline; MNIST-1D: test accuracy at least 88 %), if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    solved_at: Option<usize>,
    /// The task's metric at the end: test MSE, test cross-entropy over the baseline's, or test
    /// accuracy.
    metric: f64,
    seconds: f64,
    /// `(update, metric)` at every evaluation, for the plot.
    curve: Vec<(usize, f64)>,
}

/// Trains every cell on every task, one run per core, and renders the table and the plots.
pub fn run(ctx: &Context) -> anyhow::Result<Outcome> {
    let b = budget(ctx.scale);
    let cells: Vec<&'static Entry> = rnnzoo::zoo::entries()
        .iter()
        .filter(|e| ctx.wants(e.name))
        .collect();
    let data = Mnist1d::embedded()?;
    let jobs: Vec<(&'static Entry, Task)> = TASKS
        .iter()
        .flat_map(|&t| cells.iter().map(move |&e| (e, t)))
        .collect();
    let scores = in_parallel(jobs, |(e, task)| {
        let s = score(e, task, b, &data, ctx)?;
        if ctx.progress {
            eprintln!(
                "leaderboard {} {:?}: {} {}, {:.1} s",
                e.name,
                task,
                s.solved_at
                    .map_or("not solved".into(), |u| format!("solved at {u},")),
                num(s.metric),
                s.seconds
            );
        }
        Ok(s)
    })?;
    let plots = write_plots(&scores, b, ctx)?;
    Ok(Outcome {
        summary: summary(&scores),
        markdown: markdown(&cells, &scores, b, ctx),
        json: serde_json::json!({"config": {"budget": b}, "scores": scores}),
        plots,
    })
}

fn score(
    e: &'static Entry,
    task: Task,
    b: Budget,
    data: &Mnist1d,
    ctx: &Context,
) -> anyhow::Result<Score> {
    let kind = CellChoice::named(e.name)?;
    let seed = ctx.seed;
    Ok(match task {
        Task::Adding => {
            let mut s = adding::settings(ctx.scale);
            (s.updates, s.eval_every) = (b.updates, b.eval_every);
            let t = s.lengths[0];
            let c = adding::train_case(&s, t, e.name, kind, adding::LR, adding::CLIP, seed, false)?;
            Score {
                cell: e.name,
                task,
                params: c.params,
                solved_at: c.solved_at,
                metric: c.final_test_mse,
                seconds: c.seconds,
                curve: c
                    .run
                    .records
                    .iter()
                    .map(|r| (r.step, r.test_loss))
                    .collect(),
            }
        }
        Task::Copy => {
            let mut s = copy::settings(ctx.scale);
            (s.updates, s.eval_every) = (b.updates, b.eval_every);
            let t = s.delays[0];
            let c = copy::train_case(&s, t, e.name, kind, copy::LR, copy::CLIP, seed)?;
            Score {
                cell: e.name,
                task,
                params: c.params,
                solved_at: c.solved_at,
                metric: c.final_test_ce / c.baseline,
                seconds: c.seconds,
                curve: c
                    .run
                    .records
                    .iter()
                    .map(|r| (r.step, r.test_loss / c.baseline))
                    .collect(),
            }
        }
        Task::Mnist1d => {
            let mut s = mnist1d::settings(ctx.scale);
            (s.updates, s.eval_every) = (b.updates, b.eval_every);
            let spec = mnist1d::Spec {
                label: e.name,
                cell: e.name,
                bidirectional: false,
                shuffled: false,
            };
            let c = mnist1d::train_case(data, &spec, &s, seed)?;
            Score {
                cell: e.name,
                task,
                params: c.params,
                solved_at: c
                    .accuracy
                    .iter()
                    .find(|a| a.1 >= mnist1d::GRU_GOAL)
                    .map(|a| a.0),
                metric: c.final_accuracy,
                seconds: c.seconds,
                curve: c.accuracy,
            }
        }
    })
}

fn find<'a>(scores: &'a [Score], cell: &str, task: Task) -> Option<&'a Score> {
    scores.iter().find(|s| s.cell == cell && s.task == task)
}

/// `solved at U` or `no`, the metric, and the seconds, for one cell of the table.
fn cells_of(s: Option<&Score>, metric: impl Fn(f64) -> String) -> String {
    match s {
        Some(s) => format!(
            "{} | {} | {:.1}",
            s.solved_at.map_or("no".into(), |u| u.to_string()),
            metric(s.metric),
            s.seconds
        ),
        None => "- | - | -".into(),
    }
}

fn markdown(cells: &[&'static Entry], scores: &[Score], b: Budget, ctx: &Context) -> String {
    let add = adding::settings(ctx.scale);
    let cp = copy::settings(ctx.scale);
    let mn = mnist1d::settings(ctx.scale);
    let mut md = format!(
        "Every cell of `rnnzoo cells` at its default options, {u} updates on each task (evaluated \
         every {e}), seed {seed}; otherwise each task's own experiment's setting: the adding \
         problem at T = {ta} (H = {ha}, batch {ba}; solved: test MSE below {sa}), the copy task at \
         T = {tc} (H = {hc}, batch {bc}; solved: cross-entropy below {sc} of the baseline, shown \
         as a fraction of it), MNIST-1D (H = {hm}, batch {bm}, final-states readout; solved: test \
         accuracy at least {gm:.0}%). \"solved\" is the first evaluation that met the criterion \
         (adding and copy stop there). One run per core; seconds are each run's own.\n\n\
         | cell | form | parameters (adding) | adding: solved at | test MSE | s | copy: solved at | CE / baseline | s | MNIST-1D: 88% at | accuracy | s |\n\
         | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
        u = b.updates,
        e = b.eval_every,
        seed = ctx.seed,
        ta = add.lengths[0],
        ha = add.hidden,
        ba = add.batch,
        sa = adding::SOLVED,
        tc = cp.delays[0],
        hc = cp.hidden,
        bc = cp.batch,
        sc = copy::SOLVED_FRACTION,
        hm = mn.hidden,
        bm = mn.batch,
        gm = 100.0 * mnist1d::GRU_GOAL,
    );
    md_rows(&mut md, cells, scores);
    md += "\nReference: each cell's paper is in `rnnzoo cells`; each task's references, and the \
           published figures its claims compare with, are in the task's own section.\n";
    md
}

fn md_rows(md: &mut String, cells: &[&'static Entry], scores: &[Score]) {
    for e in cells {
        let params = find(scores, e.name, Task::Adding).map_or(0, |s| s.params);
        *md += &format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            e.name,
            e.form.name(),
            params,
            cells_of(find(scores, e.name, Task::Adding), num),
            cells_of(find(scores, e.name, Task::Copy), num),
            cells_of(find(scores, e.name, Task::Mnist1d), |a| format!(
                "{:.1}%",
                100.0 * a
            )),
        );
    }
}

fn summary(scores: &[Score]) -> String {
    TASKS
        .iter()
        .map(|&t| {
            let solved: Vec<&str> = scores
                .iter()
                .filter(|s| s.task == t && s.solved_at.is_some())
                .map(|s| s.cell)
                .collect();
            format!(
                "{t:?} solved by {}",
                if solved.is_empty() {
                    "none".into()
                } else {
                    solved.join(", ")
                }
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// One plot per task: every cell's test curve.
fn write_plots(scores: &[Score], b: Budget, ctx: &Context) -> anyhow::Result<Vec<String>> {
    let mut files = Vec::new();
    for task in TASKS {
        let (title, y, log, file) = match task {
            Task::Adding => (
                "Leaderboard: adding problem, test MSE",
                "test MSE",
                true,
                "leaderboard-adding.svg",
            ),
            Task::Copy => (
                "Leaderboard: copy task, test cross-entropy / baseline",
                "cross-entropy / baseline",
                true,
                "leaderboard-copy.svg",
            ),
            Task::Mnist1d => (
                "Leaderboard: MNIST-1D, test accuracy",
                "test accuracy (%)",
                false,
                "leaderboard-mnist1d.svg",
            ),
        };
        let mut chart = Chart::new(title, "update", y, log);
        let scale = if task == Task::Mnist1d { 100.0 } else { 1.0 };
        for s in scores.iter().filter(|s| s.task == task) {
            chart = chart.with(Series::line(
                s.cell,
                s.curve
                    .iter()
                    .map(|&(u, v)| (u as f64, scale * v))
                    .collect(),
            ));
        }
        let x1 = b.updates as f64;
        chart = match task {
            Task::Adding => chart.with(Series::hline("solved 0.01", adding::SOLVED, 0.0, x1)),
            Task::Copy => chart.with(Series::hline(
                "solved: a tenth of the baseline",
                copy::SOLVED_FRACTION,
                0.0,
                x1,
            )),
            Task::Mnist1d => chart.with(Series::hline("88%", 100.0 * mnist1d::GRU_GOAL, 0.0, x1)),
        };
        chart.write_svg(&ctx.out.join(file))?;
        files.push(file.to_string());
    }
    Ok(files)
}
