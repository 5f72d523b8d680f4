//! Every experiment of `rnnzoo reproduce` runs at the tiny scale into a fresh folder and writes its
//! JSON (with the expected keys and only finite numbers), its report section, its plots and
//! `REPORT.md`.

use std::path::PathBuf;

use rnnzoo_bench::reproduce::{Context, Scale, names, run_named};
use serde_json::Value;

/// A fresh, empty folder for one experiment.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "rnnzoo-reproduce-test-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every number in the document, with its path; fails on a null (what serde_json writes for a NaN
/// or an infinity).
fn numbers(v: &Value, path: &str, out: &mut Vec<(String, f64)>) {
    match v {
        Value::Null => panic!("{path} is null (a non-finite number?)"),
        Value::Number(n) => out.push((path.into(), n.as_f64().unwrap())),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(k, x)| numbers(x, &format!("{path}[{k}]"), out)),
        Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| numbers(x, &format!("{path}.{k}"), out)),
        Value::Bool(_) | Value::String(_) => {}
    }
}

/// Runs one experiment at the tiny scale, checks what every experiment must write, and returns the
/// folder (the caller removes it) for the experiment's own checks.
fn run_tiny(name: &str) -> PathBuf {
    let out = fresh_dir(name);
    let ctx = Context::new(Scale::Tiny, 0, out.clone());
    let outcome = run_named(name, &ctx).unwrap_or_else(|e| panic!("{name}: {e:#}"));

    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join(format!("{name}.json"))).unwrap())
            .unwrap();
    for key in [
        "experiment",
        "seed",
        "scale",
        "seconds",
        "summary",
        "plots",
        "results",
    ] {
        assert!(doc.get(key).is_some(), "{name}.json has no `{key}`");
    }
    assert_eq!(doc["experiment"], name);
    assert!(
        doc["results"].get("config").is_some(),
        "{name}.json: results have no config"
    );
    let mut nums = Vec::new();
    numbers(&doc, "", &mut nums);
    assert!(
        nums.iter().all(|(_, x)| x.is_finite()),
        "{name}: non-finite number"
    );
    assert!(nums.len() > 5, "{name}.json holds almost no numbers");

    let section = std::fs::read_to_string(out.join(format!("{name}.md"))).unwrap();
    assert!(section.starts_with("## "), "{name}.md has no heading");
    assert!(section.contains("| --- |"), "{name}.md has no table");
    assert!(
        section.contains("Reference"),
        "{name}.md names no reference"
    );
    let report = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(report.contains(section.lines().next().unwrap()));

    assert!(!outcome.plots.is_empty(), "{name} made no plot");
    for p in &outcome.plots {
        let svg = std::fs::read_to_string(out.join(p)).unwrap();
        assert!(
            svg.contains("<svg") && svg.contains("</svg>"),
            "{p} is not an SVG"
        );
        assert!(svg.contains("<polyline") || svg.contains("<path") || svg.contains("<line"));
        assert!(section.contains(p.as_str()), "{name}.md does not show {p}");
    }
    // No duration is asserted: benchmarks are never timed tests (TESTING.md gives the tiny
    // scale's times).
    out
}

/// Each experiment's tiny test, with the claim ids it must write into `summary.json` and the
/// verdicts table at the top of `REPORT.md`.
macro_rules! tiny {
    ($($test:ident => $name:literal [$($claim:literal),*]),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                let out = run_tiny($name);
                assert_claims(&out, &[$($claim),*]);
                let _ = std::fs::remove_dir_all(out);
            }
        )*

        #[test]
        fn every_experiment_has_a_tiny_test() {
            // gradcheck and leaderboard have their own tests below, which read more of their
            // output.
            let tested = [$($name,)* "gradcheck", "leaderboard"];
            for n in names() {
                assert!(tested.contains(&n), "experiment `{n}` has no tiny test");
            }
        }
    };
}

/// Every id of `ids` is a claim row of `summary.json` (with every field of a claim, and a
/// boolean verdict) and a row of `REPORT.md`'s verdicts table.
fn assert_claims(out: &std::path::Path, ids: &[&str]) {
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let rows = summary["rows"].as_array().unwrap();
    let report = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    for id in ids {
        let row = rows
            .iter()
            .find(|r| r["id"] == *id)
            .unwrap_or_else(|| panic!("summary.json has no row `{id}`"));
        for key in ["claim", "reference", "published", "measured"] {
            assert!(
                row[key].as_str().is_some_and(|v| !v.is_empty()),
                "`{id}` has no {key}"
            );
        }
        assert!(row["holds"].is_boolean(), "`{id}` has no verdict");
        let line = report
            .lines()
            .find(|l| l.starts_with(&format!("| `{id}` |")))
            .unwrap_or_else(|| panic!("REPORT.md's verdicts table has no row `{id}`"));
        let verdict = if row["holds"] == true {
            "| holds |"
        } else {
            "| does not hold |"
        };
        assert!(line.ends_with(verdict), "{line}");
    }
    if !ids.is_empty() {
        let table = report
            .find("## The claims, checked")
            .expect("a verdicts table");
        let first_section = report[table + 3..]
            .find("\n## ")
            .map_or(usize::MAX, |k| k + table + 3);
        assert!(table < first_section, "the verdicts table opens the report");
    }
}

tiny! {
    gradflow => "gradflow" [],
    clipping => "clipping" [],
    adding => "adding" [
        "adding-lstm-t10", "adding-gru-t10", "adding-rnn-fails-t10",
        "gradflow-trained-lstm-keeps", "gradflow-trained-gru-keeps", "gradflow-trained-rnn-vanishes"
    ],
    copy => "copy" ["copy-lstm-default", "copy-orthogonal-solves", "copy-lstm-chrono", "copy-gru"],
    mnist1d => "mnist1d" ["mnist1d-gru", "mnist1d-gru-shuffled"],
    bidirectional => "bidirectional" [],
    depth => "depth" [],
    charlm => "charlm" ["charlm-lstm"],
    timeseries => "timeseries" [],
}

/// The leaderboard has a row for every cell of the registry and a score for each on each task,
/// with no list of cells of its own.
#[test]
fn leaderboard_scores_every_registered_cell_on_every_task() {
    let out = run_tiny("leaderboard");
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("leaderboard.json")).unwrap())
            .unwrap();
    let scores = doc["results"]["scores"].as_array().unwrap();
    let md = std::fs::read_to_string(out.join("leaderboard.md")).unwrap();
    for e in rnnzoo::zoo::entries() {
        for task in ["adding", "copy", "mnist1d"] {
            assert!(
                scores
                    .iter()
                    .any(|s| s["cell"] == e.name && s["task"] == task),
                "no {task} score for {}",
                e.name
            );
        }
        assert!(
            md.contains(&format!("\n| {} |", e.name)),
            "no row for {}",
            e.name
        );
    }
    assert_eq!(scores.len(), 3 * rnnzoo::zoo::entries().len());
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn an_unknown_experiment_is_an_error_that_lists_the_known_ones() {
    let ctx = Context::new(Scale::Tiny, 0, fresh_dir("unknown"));
    let err = run_named("nope", &ctx).unwrap_err().to_string();
    assert!(err.contains("adding") && err.contains("gradflow"), "{err}");
}

/// The gradient check is the costliest tiny experiment (every cell, every block, every planted
/// level), so one run serves both the common checks and its `summary.json` rows.
#[test]
fn gradcheck_writes_its_sensitivity_rows_into_summary_json() {
    let out = run_tiny("gradcheck");
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let rows = doc["rows"].as_array().unwrap();
    let cells = rnnzoo::zoo::variants();
    assert_eq!(rows.len(), cells.len());
    for (row, cell) in rows.iter().zip(&cells) {
        let id = row["id"].as_str().unwrap();
        assert!(id.starts_with("gradcheck-sensitivity-"), "{id}");
        assert!(id.contains(cell.entry().name), "{id} for {cell}");
        assert_eq!(row["experiment"], "gradcheck");
        assert_eq!(row["false_alarms"], 0, "{id}");
        // Every block of every cell is caught at 1e-6 or below.
        assert!(
            row["detected_in_every_block"].as_f64().unwrap() <= 1e-6,
            "{row}"
        );
        let blocks = row["blocks"].as_array().unwrap();
        assert!(blocks.iter().any(|b| b["block"] == "initial_state"), "{id}");
        // torch.autograd.gradcheck's tolerances miss 1e-4 somewhere.
        assert!(
            blocks.iter().any(|b| b["smallest_detected_torch"]
                .as_f64()
                .is_none_or(|l| l > 1e-4)),
            "{id}"
        );
    }
    // The report says where checks failed, here that none did.
    let md = std::fs::read_to_string(out.join("gradcheck.md")).unwrap();
    assert!(
        md.contains("### Where the checks failed\n\nNo check failed"),
        "{md}"
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// The language models `charlm` trains are checkpoints of `rnnzoo train`: `rnnzoo sample` and
/// the loader read them back as the model that was trained.
#[test]
fn charlm_writes_checkpoints_that_sample_and_eval_read() {
    let out = fresh_dir("charlm-checkpoints");
    let ctx = Context::new(Scale::Tiny, 0, out.clone());
    run_named("charlm", &ctx).unwrap();
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("charlm.json")).unwrap()).unwrap();
    let models = doc["results"]["models"].as_array().unwrap();
    assert_eq!(models.len(), 2);
    for m in models {
        let file = out.join(m["checkpoint"].as_str().unwrap());
        let (record, model) = rnnzoo_bench::train::load::<f32>(&file)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(record.config.model.cell, m["cell"].as_str().unwrap());
        assert_eq!(record.config.model.layers, 2);
        assert_eq!(
            rnnzoo_bench::train::model::param_count(&model),
            m["params"].as_u64().unwrap() as usize
        );
        let opts = rnnzoo_bench::sample::SampleOptions {
            prime: "\n".into(),
            length: 20,
            temperature: 0.8,
            seed: 0,
        };
        let text = rnnzoo_bench::sample::sample(&file, &opts).unwrap();
        assert_eq!(text.chars().count(), 21, "{text:?}");
        let scored = out.join("scored.txt");
        std::fs::write(
            &scored,
            "ROMEO:\nBut soft, what light through yonder window breaks?\n",
        )
        .unwrap();
        let e = rnnzoo_bench::eval::eval_text(&file, &scored).unwrap();
        // A tiny model, barely trained: finite, and near the uniform guess over the vocabulary.
        assert!(e.bits_per_char.is_finite() && e.bits_per_char > 1.0 && e.bits_per_char < 10.0);
        assert_eq!(e.unknown, 0);
    }
    let _ = std::fs::remove_dir_all(out);
}
