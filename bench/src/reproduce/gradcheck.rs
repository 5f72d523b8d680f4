//! `gradcheck`: the worst relative error of every cell against finite differences, one step alone,
//! unrolled through time with lengths in both directions, inside a bidirectional layer and inside
//! a two-layer stack (with lengths).

use rnnzoo::cell::gradcheck::{check_cell, Options, Report};
use rnnzoo::cell::seeded;
use rnnzoo::cell::strategies::UnrollCase;
use rnnzoo::layers::gradcheck::{check_layer, check_unrolled, SequenceCase};
use rnnzoo::layers::{Bidirectional, Layer, Merge, Recurrent, Stack};
use serde::Serialize;

use super::plot::{Chart, Series};
use super::{Context, Outcome};
use rnnzoo::zoo::CellChoice;

/// One row of the table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The cell.
    pub cell: String,
    /// What was checked.
    pub setting: String,
    /// Values checked (elements or random directions).
    pub checked: usize,
    /// The worst relative error over all groups.
    pub worst_rel: f64,
    /// Whether every group passed.
    pub passed: bool,
}

fn row(cell: CellChoice, setting: &str, r: &Report) -> Row {
    Row {
        cell: cell.label(),
        setting: setting.into(),
        checked: r.groups.iter().map(|g| g.checked).sum(),
        worst_rel: r.worst_rel(),
        passed: r.passed(),
    }
}

/// Runs the checks and renders the table.
pub fn run(ctx: &Context) -> anyhow::Result<Outcome> {
    let opts = Options {
        seed: ctx.seed,
        ..Options::default()
    };
    let (input, hidden) = (4, 5);
    let settings: [(&str, UnrollCase); 3] = [
        (
            "T=6, B=3, forward",
            case(input, hidden, None, false, ctx.seed),
        ),
        (
            "T=6, B=3, lengths [6,2,4], forward",
            case(input, hidden, Some(vec![6, 2, 4]), false, ctx.seed),
        ),
        (
            "T=6, B=3, lengths [6,2,4], reversed",
            case(input, hidden, Some(vec![6, 2, 4]), true, ctx.seed),
        ),
    ];
    let mut rows = Vec::new();
    for kind in rnnzoo::zoo::variants() {
        let mut cell = kind.build::<f64, _>(input, hidden, &mut seeded(ctx.seed))?;
        rows.push(row(
            kind,
            "one step, B=3",
            &check_cell(&mut cell, 3, ctx.seed, &opts),
        ));
        for (name, c) in &settings {
            let cell = kind.build::<f64, _>(input, hidden, &mut seeded(ctx.seed))?;
            rows.push(row(kind, name, &check_unrolled(cell, c, &opts)?));
        }
        // Composites: the same cell kind in both halves of a bidirectional layer, and in both layers
        // of a stack (the second reading the first's output), with lengths.
        let lengths =
            SequenceCase::from(&case(input, hidden, Some(vec![6, 2, 4]), false, ctx.seed));
        let mut rng = seeded(ctx.seed ^ 0xb1);
        let bi = Bidirectional::new(
            Recurrent::new(kind.build::<f64, _>(input, hidden, &mut rng)?),
            Recurrent::new(kind.build::<f64, _>(input, hidden, &mut rng)?),
            Merge::Concat,
        )?;
        rows.push(row(
            kind,
            "bidirectional (concat), T=6, B=3, lengths [6,2,4]",
            &check_layer(bi, &lengths, &opts)?,
        ));
        let layers: Vec<Box<dyn Layer<f64>>> = vec![
            Box::new(Recurrent::new(
                kind.build::<f64, _>(input, hidden, &mut rng)?,
            )),
            Box::new(Recurrent::new(
                kind.build::<f64, _>(hidden, hidden, &mut rng)?,
            )),
        ];
        rows.push(row(
            kind,
            "2-layer stack, T=6, B=3, lengths [6,2,4]",
            &check_layer(Stack::new(layers)?, &lengths, &opts)?,
        ));
    }
    let mut md = String::from(
        "Central differences in f64 (eps 1e-6) against each cell's analytic gradient; an element passes when \
         |a - n| <= 1e-5 + 1e-3 |n| (torch.autograd.gradcheck's tolerances). Every parameter element, the input \
         and the initial state are checked; for the bidirectional layer and the stack the loss is a random \
         linear function of every output and of the whole final state (both directions, both layers). Relative error is |a - n| / max(|a|, |n|, 1e-5).\n\n\
         | cell | setting | values checked | worst relative error | result |\n| --- | --- | ---: | ---: | --- |\n",
    );
    for r in &rows {
        md += &format!(
            "| {} | {} | {} | {:.2e} | {} |\n",
            r.cell,
            r.setting,
            r.checked,
            r.worst_rel,
            if r.passed { "pass" } else { "FAIL" }
        );
    }
    md += "\nReference: the tolerances are torch.autograd.gradcheck's defaults (atol 1e-5, rtol 1e-3). \
        For a correct gradient the \
        absolute error of central differences is of order eps^2 (truncation) plus 1e-16 / eps = 1e-10 \
        (rounding); relative to an element near the 1e-5 floor that can reach about 1e-5. \
        So worst relative errors orders of magnitude below the 1e-3 tolerance are what a correct gradient \
        gives, while a wrong one gives errors near 1.\n";
    // The plot: worst relative error per cell (x = the cell's row in the table), one line per setting.
    let mut chart = Chart::new(
        "Gradient checks: worst relative error (x: cell, in table order)",
        "cell (1 = rnn-tanh ... 6 = gru (reset before))",
        "worst relative error",
        true,
    );
    let mut settings_seen: Vec<&str> = Vec::new();
    for r in &rows {
        if !settings_seen.contains(&r.setting.as_str()) {
            settings_seen.push(&r.setting);
        }
    }
    for s in settings_seen {
        let pts = rnnzoo::zoo::variants()
            .iter()
            .enumerate()
            .filter_map(|(k, kind)| {
                rows.iter()
                    .find(|r| r.cell == kind.label() && r.setting == s)
                    // A zero error cannot sit on a log axis: show it at the floor.
                    .map(|r| ((k + 1) as f64, r.worst_rel.max(1e-16)))
            })
            .collect();
        chart = chart.with(Series::line(short_setting(s), pts));
    }
    chart = chart.with(Series::hline(
        "rtol 1e-3",
        1e-3,
        1.0,
        rnnzoo::zoo::variants().len() as f64,
    ));
    chart.write_svg(&ctx.out.join("gradcheck.svg"))?;
    let passed = rows.iter().all(|r| r.passed);
    Ok(Outcome {
        summary: if passed {
            "every check passed".into()
        } else {
            "SOME CHECKS FAILED".into()
        },
        markdown: md,
        json: serde_json::json!({
            "config": {"input": input, "hidden": hidden, "batch": 3, "steps": 6, "eps": opts.eps,
                       "atol": opts.atol, "rtol": opts.rtol, "precision": "f64"},
            "rows": rows,
        }),
        plots: vec!["gradcheck.svg".into()],
    })
}

fn case(
    input: usize,
    hidden: usize,
    lengths: Option<Vec<usize>>,
    reverse: bool,
    seed: u64,
) -> UnrollCase {
    UnrollCase {
        input,
        hidden,
        batch: 3,
        steps: 6,
        lengths,
        reverse,
        initial_state: true,
        seed,
    }
}

/// A setting's name short enough for the plot's legend.
fn short_setting(s: &str) -> String {
    let mut out = Vec::new();
    for (needle, word) in [
        ("one step", "one step"),
        ("bidirectional", "bidirectional"),
        ("stack", "2-layer stack"),
        ("reversed", "reversed"),
        ("lengths", "lengths"),
    ] {
        if s.contains(needle) && !(word == "lengths" && s.contains("one step")) {
            out.push(word);
        }
    }
    if out.is_empty() || out == ["lengths"] {
        out.insert(0, "unrolled");
    }
    out.join(", ")
}
