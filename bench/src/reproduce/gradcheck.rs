//! `gradcheck`: the worst relative error of every cell against finite differences, one step alone
//! and unrolled through time with lengths in both directions.

use rnnzoo_cell::gradcheck::{check_cell, Options, Report};
use rnnzoo_cell::seeded;
use rnnzoo_cell::strategies::UnrollCase;
use rnnzoo_layers::gradcheck::check_unrolled;
use serde::Serialize;

use super::{Context, Outcome};
use crate::zoo::CellKind;

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

fn row(cell: CellKind, setting: &str, r: &Report) -> Row {
    Row {
        cell: cell.label().into(),
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
    for kind in CellKind::ALL {
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
    }
    let mut md = String::from(
        "Central differences in f64 (eps 1e-6) against each cell's analytic gradient; an element passes when \
         |a - n| <= 1e-5 + 1e-3 |n| (torch.autograd.gradcheck's tolerances). Every parameter element, the input \
         and the initial state are checked. Relative error is |a - n| / max(|a|, |n|, 1e-5).\n\n\
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
    let passed = rows.iter().all(|r| r.passed);
    Ok(Outcome {
        summary: if passed {
            "every check passed".into()
        } else {
            "SOME CHECKS FAILED".into()
        },
        markdown: md,
        json: serde_json::to_value(&rows)?,
        plots: vec![],
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
