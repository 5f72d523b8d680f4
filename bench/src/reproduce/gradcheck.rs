//! `gradcheck`: every cell against finite differences (the default, estimate-driven check), one
//! step alone, unrolled through time with lengths in both directions, inside a bidirectional
//! layer and inside a two-layer stack (with lengths); then the checker's own sensitivity (the
//! smallest planted relative error it catches in each gradient block of each cell, beside
//! `torch.autograd.gradcheck`'s tolerances) and its false alarms over a fixed set of random cases.
//! Every failed check is printed in full at the end, its gates named from the registry.

use rand::Rng;
use rnnzoo::cell::gradcheck::{Options, Planted, Report, blocks, check, check_cell};
use rnnzoo::cell::seeded;
use rnnzoo::cell::strategies::UnrollCase;
use rnnzoo::layers::gradcheck::{
    LayerLoss, SequenceCase, check_layer, check_unrolled, check_unrolled_with,
};
use rnnzoo::layers::{Bidirectional, Layer, Merge, Recurrent, Stack};
use serde::Serialize;

use super::plot::{Chart, Series};
use super::{Context, Outcome, Scale};
use rnnzoo::zoo::CellChoice;

/// The planted relative errors of the sensitivity table, largest first.
pub const LEVELS: [f64; 6] = [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8];

/// The sensitivity of the checker in one gradient block of one cell.
#[derive(Debug, Clone, Serialize)]
pub struct BlockRow {
    /// The block (`weight_hh gate 2`, `bias_ih`, `input`, `initial_state`).
    pub block: String,
    /// The smallest of [`LEVELS`] that the default check catches, with every larger one (absent
    /// if it misses 1e-3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smallest_detected: Option<f64>,
    /// The same with `torch.autograd.gradcheck`'s method and tolerances.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smallest_detected_torch: Option<f64>,
}

/// One cell's sensitivity table and false alarms: a `summary.json` row.
#[derive(Debug, Clone, Serialize)]
pub struct SensitivityRow {
    /// `gradcheck-sensitivity-CELL`.
    pub id: String,
    /// The cell.
    pub cell: String,
    /// Every block.
    pub blocks: Vec<BlockRow>,
    /// The largest over the blocks of the smallest error caught: the cell's guarantee (absent if a
    /// block missed 1e-3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detected_in_every_block: Option<f64>,
    /// Random cases checked with no error planted.
    pub cases: usize,
    /// How many of them failed (false alarms).
    pub false_alarms: usize,
    /// Elements of those cases that were not assessable (kinks), of all elements checked.
    pub unassessable: usize,
    /// Elements checked in those cases.
    pub checked: usize,
}

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
    /// Elements that were not assessable (a kink within the stencil).
    pub unassessable: usize,
    /// Whether every group passed.
    pub passed: bool,
}

/// A failed check's full report, its gates named from the registry: where it failed.
#[derive(Debug, Clone)]
struct Failure {
    /// The cell.
    cell: String,
    /// What was checked.
    setting: String,
    /// The report's text (tensor, gate, row, column, step; analytic, numeric, estimated error).
    report: String,
}

impl Failure {
    /// `Some` when `r` failed.
    fn of(cell: CellChoice, setting: &str, r: &Report) -> Option<Self> {
        (!r.passed()).then(|| {
            let mut r = r.clone();
            r.name_gates(cell.entry().gate_names);
            Self {
                cell: cell.label(),
                setting: setting.into(),
                report: r.to_string(),
            }
        })
    }
}

/// Where the failed checks failed, as markdown: each report in full, or a line saying none failed.
fn failures_markdown(failures: &[Failure]) -> String {
    let mut md = String::from("\n### Where the checks failed\n\n");
    if failures.is_empty() {
        md += "No check failed, and no random case raised a false alarm.\n";
        return md;
    }
    for f in failures {
        md += &format!(
            "{} ({}):\n\n```text\n{}\n```\n\n",
            f.cell,
            f.setting,
            f.report.trim_end()
        );
    }
    md
}

fn row(cell: CellChoice, setting: &str, r: &Report, failures: &mut Vec<Failure>) -> Row {
    failures.extend(Failure::of(cell, setting, r));
    Row {
        cell: cell.label(),
        setting: setting.into(),
        checked: r.groups.iter().map(|g| g.checked).sum(),
        worst_rel: r.worst_rel(),
        unassessable: r.unassessable(),
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
    let (mut rows, mut failures) = (Vec::new(), Vec::new());
    for kind in rnnzoo::zoo::variants() {
        let mut cell = kind.build::<f64, _>(input, hidden, &mut seeded(ctx.seed))?;
        rows.push(row(
            kind,
            "one step, B=3",
            &check_cell(&mut cell, 3, ctx.seed, &opts),
            &mut failures,
        ));
        for (name, c) in &settings {
            let cell = kind.build::<f64, _>(input, hidden, &mut seeded(ctx.seed))?;
            rows.push(row(
                kind,
                name,
                &check_unrolled(cell, c, &opts)?,
                &mut failures,
            ));
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
            &mut failures,
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
            &mut failures,
        ));
    }
    let sensitivity = sensitivity_rows(ctx, input, hidden, &mut failures)?;
    let mut md = String::from(
        "Richardson extrapolation of central differences in f64 (steps h, 2h, 4h, 8h, h = 2^-10 max(|x|, 1) a \
         power of two) against each cell's analytic gradient; an element passes when |a - n| is within twice the \
         difference's own estimated error (truncation from the two h^4 levels, rounding from 64 ulps of the loss's \
         scale), and is not assessable when the differences do not scale as a smooth function's (a ReLU kink within \
         8h, after retries at h/32 and h/1024). Every parameter element, the input and the initial state are checked; for the \
         bidirectional layer and the stack the loss is a random linear function of every output and of the whole \
         final state (both directions, both layers). Relative error is |a - n| / max(|a|, |n|, 1e-8).\n\n\
         | cell | setting | values checked | not assessable | worst relative error | result |\n| --- | --- | ---: | ---: | ---: | --- |\n",
    );
    for r in &rows {
        md += &format!(
            "| {} | {} | {} | {} | {:.2e} | {} |\n",
            r.cell,
            r.setting,
            r.checked,
            r.unassessable,
            r.worst_rel,
            if r.passed { "pass" } else { "FAIL" }
        );
    }
    md += &sensitivity_markdown(&sensitivity, input, hidden);
    md += &failures_markdown(&failures);
    md += "\nReference: torch.autograd.gradcheck (PyTorch 2.x) defaults: eps 1e-6, atol 1e-5, rtol 1e-3, \
        kept here as Options::torch_gradcheck. Richardson extrapolation: L. F. Richardson and J. A. Gaunt, \"The deferred \
        approach to the limit\", Phil. Trans. R. Soc. A 226, 1927. For a correct gradient the estimated error \
        is about 1e-10 of the gradient; a planted error is caught once it exceeds it.\n";
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
        "torch rtol 1e-3",
        1e-3,
        1.0,
        rnnzoo::zoo::variants().len() as f64,
    ));
    chart.write_svg(&ctx.out.join("gradcheck.svg"))?;
    let passed = rows.iter().all(|r| r.passed);
    let alarms: usize = sensitivity.iter().map(|r| r.false_alarms).sum();
    let guarantee = sensitivity
        .iter()
        .map(|r| r.detected_in_every_block.unwrap_or(f64::INFINITY))
        .fold(0.0, f64::max);
    Ok(Outcome {
        summary: format!(
            "{}; every block of every cell caught at {guarantee:.0e}; {alarms} false alarms in {} random cases",
            if passed {
                "every check passed"
            } else {
                "SOME CHECKS FAILED"
            },
            sensitivity.iter().map(|r| r.cases).sum::<usize>()
        ),
        markdown: md,
        json: serde_json::json!({
            "config": {"input": input, "hidden": hidden, "batch": 3, "steps": 6, "eps": opts.eps,
                       "method": "richardson", "safety": opts.safety, "noise": opts.noise,
                       "atol": opts.atol, "rtol": opts.rtol, "precision": "f64",
                       "levels": LEVELS},
            "rows": rows,
            "summary_rows": sensitivity,
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

/// The sensitivity table's rows, one per cell: planted errors at every level in every block on
/// the lengths case (forward, initial state), and the false alarms over random cases (each one's
/// report goes to `failures`).
fn sensitivity_rows(
    ctx: &Context,
    input: usize,
    hidden: usize,
    failures: &mut Vec<Failure>,
) -> anyhow::Result<Vec<SensitivityRow>> {
    let seq = SequenceCase::from(&case(input, hidden, Some(vec![6, 2, 4]), false, ctx.seed));
    let cases = match ctx.scale {
        Scale::Tiny => 2,
        Scale::Quick => 12,
        Scale::Full => 100,
    };
    let mut out = Vec::new();
    for kind in rnnzoo::zoo::variants() {
        let loss = || -> anyhow::Result<_> {
            let cell = kind.build::<f64, _>(input, hidden, &mut seeded(ctx.seed))?;
            Ok(LayerLoss::new(Recurrent::new(cell), &seq)?)
        };
        let mut rows = Vec::new();
        for block in blocks(&loss()?) {
            let smallest = |opts: &Options| -> anyhow::Result<Option<f64>> {
                let opts = opts.clone().only(&[&block.group_name]);
                let mut smallest = None;
                for level in LEVELS {
                    let mut planted = Planted::new(loss()?, block.clone(), level);
                    if check(&mut planted, &opts).passed() {
                        break;
                    }
                    smallest = Some(level);
                }
                Ok(smallest)
            };
            rows.push(BlockRow {
                block: block.name.clone(),
                smallest_detected: smallest(&Options::default())?,
                smallest_detected_torch: smallest(&Options::torch_gradcheck())?,
            });
        }
        let detected = rows
            .iter()
            .map(|r| r.smallest_detected)
            .try_fold(0.0f64, |a, b| b.map(|b| a.max(b)));
        let (mut alarms, mut unassessable, mut checked) = (0, 0, 0);
        let mut rng = seeded(ctx.seed ^ 0xfa15e);
        let small = ctx.scale == Scale::Tiny;
        for _ in 0..cases {
            let c = random_case(&mut rng, small);
            let k = kind;
            let (i, h, s) = (c.input, c.hidden, c.seed);
            let report = check_unrolled_with(
                move || {
                    k.build::<f64, _>(i, h, &mut seeded(s))
                        .expect("sizes of at least 1")
                },
                &c,
                &Options::default(),
            )?;
            alarms += usize::from(!report.passed());
            failures.extend(Failure::of(
                kind,
                &format!("false alarm on `{c:?}`"),
                &report,
            ));
            unassessable += report.unassessable();
            checked += report.checked();
        }
        out.push(SensitivityRow {
            id: format!("gradcheck-sensitivity-{}", slug(&kind.to_string())),
            cell: kind.label(),
            blocks: rows,
            detected_in_every_block: detected,
            cases,
            false_alarms: alarms,
            unassessable,
            checked,
        });
    }
    Ok(out)
}

/// A random unroll at the sizes the issue names (input and hidden 1..16, batch 1..4, steps 1..30,
/// lengths, both directions, with or without an initial state); `small` keeps them at 1..4.
fn random_case(rng: &mut impl Rng, small: bool) -> UnrollCase {
    let (wide, long) = if small { (4, 4) } else { (16, 30) };
    let batch = rng.random_range(1..=4);
    let steps = rng.random_range(1..=long);
    UnrollCase {
        input: rng.random_range(1..=wide),
        hidden: rng.random_range(1..=wide),
        batch,
        steps,
        lengths: rng
            .random_bool(0.5)
            .then(|| (0..batch).map(|_| rng.random_range(1..=steps)).collect()),
        reverse: rng.random_bool(0.5),
        initial_state: rng.random_bool(0.5),
        seed: rng.random(),
    }
}

/// `lstm:forget_bias=1` as `lstm-forget_bias-1`: a cell in an id.
fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn level(l: Option<f64>) -> String {
    l.map_or("missed 1e-3".into(), |l| format!("{l:.0e}"))
}

fn sensitivity_markdown(rows: &[SensitivityRow], input: usize, hidden: usize) -> String {
    let mut md = format!(
        "\n### Sensitivity\n\nThe analytic gradient of one block scaled by 1 + e, e in 1e-3, 1e-4, ... 1e-8, \
         through time (T=6, B=3, lengths [6,2,4], forward, initial state, input {input}, hidden {hidden}); the table \
         gives the smallest e caught (with every larger one) by the default check and by torch.autograd.gradcheck's \
         method and tolerances (Options::torch_gradcheck). False alarms: the default check with no error planted, \
         on random cases (input and hidden 1..16, batch 1..4, steps 1..30, random lengths, directions and initial \
         states; fixed seed). The same rows are in summary.json (ids gradcheck-sensitivity-CELL).\n\n\
         | cell | block | smallest caught | smallest caught, torch tolerances |\n| --- | --- | ---: | ---: |\n"
    );
    for r in rows {
        for b in &r.blocks {
            md += &format!(
                "| {} | {} | {} | {} |\n",
                r.cell,
                b.block,
                level(b.smallest_detected),
                level(b.smallest_detected_torch)
            );
        }
    }
    md += "\n| cell | every block caught at | random cases | false alarms | not assessable / checked |\n| --- | ---: | ---: | ---: | ---: |\n";
    for r in rows {
        md += &format!(
            "| {} | {} | {} | {} | {} / {} |\n",
            r.cell,
            level(r.detected_in_every_block),
            r.cases,
            r.false_alarms,
            r.unassessable,
            r.checked
        );
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A failed check is printed in full, with the registry's gate name; no failure says so.
    #[test]
    fn a_failure_is_shown_with_its_gate_and_none_is_said() {
        let kind = CellChoice::named("lstm").unwrap();
        let seq = SequenceCase::from(&case(2, 3, None, false, 1));
        let cell = kind.build::<f64, _>(2, 3, &mut seeded(1)).unwrap();
        let loss = LayerLoss::new(Recurrent::new(cell), &seq).unwrap();
        let block = blocks(&loss)
            .into_iter()
            .find(|b| b.group_name == "weight_hh" && b.gate == Some(1))
            .unwrap();
        let opts = Options::default().only(&["weight_hh"]);
        let report = check(&mut Planted::new(loss, block, 1e-4), &opts);
        let failure = Failure::of(kind, "planted 1e-4", &report).expect("caught");
        let md = failures_markdown(&[failure]);
        assert!(md.contains("lstm (planted 1e-4)"), "{md}");
        assert!(md.contains("(gate f: 1 of 4"), "{md}");
        assert!(failures_markdown(&[]).contains("No check failed"));
        let clean = check(
            &mut LayerLoss::new(
                Recurrent::new(kind.build::<f64, _>(2, 3, &mut seeded(1)).unwrap()),
                &seq,
            )
            .unwrap(),
            &opts,
        );
        assert!(Failure::of(kind, "clean", &clean).is_none());
    }
}
