//! `rnnzoo train --data` as a user runs it on their own sequences (a CSV, an npy, safetensors):
//! a classifier and regressors that learn, `eval --data` and `predict` on their checkpoints,
//! resume across an epoch, every bad file named by line and column; and the options PyTorch users
//! set (loss reduction, class weights, label smoothing, a head without bias, weight decay and
//! parameter groups) from the config into the checkpoint.

use std::path::{Path, PathBuf};
use std::process::Output;

use rnnzoo::layers::file::Tensors;

use crate::common::{npy_f64, ok, refused, rnnzoo};
use crate::train::{SMALL, fresh, metrics, state, text_file, train};

/// A CSV of `n` sequences of 5 to 20 values whose class is the sign of the first value (so the
/// model must carry it to the end), trailing cells empty, with a header.
fn sign_csv(dir: &Path, n: usize) -> PathBuf {
    let mut rng = rnnzoo::cell::seeded(11);
    let mut text = String::from("label");
    for k in 0..20 {
        text += &format!(",x{k}");
    }
    text.push('\n');
    for _ in 0..n {
        use rand::Rng;
        let len = rng.random_range(5..=20);
        let xs: Vec<f64> = (0..len).map(|_| rng.random_range(-1.0..1.0)).collect();
        text += if xs[0] > 0.0 { "1" } else { "0" };
        for x in &xs {
            text += &format!(",{x:.4}");
        }
        text += &",".repeat(20 - len);
        text.push('\n');
    }
    let path = dir.join("sign.csv");
    std::fs::write(&path, text).unwrap();
    path
}

fn train_data(data: &Path, out: &Path, extra: &[&str]) -> Output {
    rnnzoo()
        .arg("train")
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(out)
        .args([
            "--cell", "gru", "--hidden", "16", "--layers", "1", "--batch", "16",
        ])
        .args(["--lr", "0.01"])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn a_csv_of_sequences_trains_a_classifier_that_eval_and_predict_read() {
    let dir = fresh("csv");
    let csv = sign_csv(&dir, 600);
    let out = dir.join("run");
    let s: serde_json::Value = serde_json::from_str(
        ok(&train_data(
            &csv,
            &out,
            &["--epochs", "10", "--eval-every", "30", "--json"],
        ))
        .trim(),
    )
    .unwrap();
    assert_eq!(
        s["learned"].as_str(),
        Some("classification into 2 classes, 1 feature(s) per step")
    );
    // 540 training sequences in batches of 16: 34 updates an epoch.
    assert_eq!(s["steps"].as_u64(), Some(340));
    let acc = s["valid"]["accuracy"].as_f64().unwrap();
    assert!(
        acc > 0.85,
        "validation accuracy {acc}: the sign of the first value was not kept"
    );
    assert_eq!(s["valid"]["count"].as_u64(), Some(60), "10 % held out");

    let best = out.join("best.safetensors");
    let e: serde_json::Value = serde_json::from_str(
        ok(&rnnzoo()
            .args(["eval", "--json", "--checkpoint"])
            .arg(&best)
            .arg("--data")
            .arg(&csv)
            .output()
            .unwrap())
        .trim(),
    )
    .unwrap();
    assert_eq!(e["sequences"].as_u64(), Some(600));
    assert!(e["accuracy"].as_f64().unwrap() > 0.85, "{e}");
    assert!(e["mse"].is_null());

    // predict on the first rows, padded to (T, B, F) with their lengths, gives the model's logits.
    let layout = rnnzoo_bench::train::sequences::Layout {
        task: rnnzoo_bench::train::sequences::TaskKind::Auto,
        target_columns: 1,
        features: 1,
    };
    let seqs = rnnzoo_bench::train::sequences::Sequences::read(&csv, &layout).unwrap();
    let batch = seqs.batch::<f32>(&[0, 1, 2, 3]);
    let input = dir.join("x.safetensors");
    let lengths = batch.lengths_or_full();
    let named = [(
        "input".to_string(),
        vec![batch.steps, 4, 1],
        &batch.inputs[..],
    )];
    std::fs::write(
        &input,
        rnnzoo::layers::file::serialize::<f32>(&named, Default::default()).unwrap(),
    )
    .unwrap();
    let joined: Vec<String> = lengths.iter().map(ToString::to_string).collect();
    let predictions = dir.join("y.safetensors");
    ok(&rnnzoo()
        .args(["predict", "--lengths", &joined.join(","), "--weights"])
        .arg(&best)
        .arg("--input")
        .arg(&input)
        .arg("--output")
        .arg(&predictions)
        .output()
        .unwrap());
    let got = Tensors::read(&predictions, false).unwrap();
    let p = &got.tensors["predictions"];
    assert_eq!(p.shape, [4, 2]);
    let (_, model) = rnnzoo_bench::train::load::<f32>(&best).unwrap();
    let want = model
        .predict(rnnzoo::layers::Inputs::new(&batch.inputs, batch.steps, 4).lengths(&lengths))
        .unwrap()
        .predictions;
    assert_eq!(p.to_vec::<f32>(), want);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sequences_resume_bit_for_bit_across_an_epoch() {
    let dir = fresh("seq-resume");
    let csv = sign_csv(&dir, 200);
    // 180 training sequences in batches of 16: 12 updates an epoch; stop at 10 (mid-epoch, at a
    // validation, so the metrics lines are the same too), go on to 30.
    let (whole, halves) = (dir.join("whole"), dir.join("halves"));
    ok(&train_data(
        &csv,
        &whole,
        &["--steps", "30", "--eval-every", "5"],
    ));
    ok(&train_data(
        &csv,
        &halves,
        &["--steps", "10", "--eval-every", "5"],
    ));
    ok(&rnnzoo()
        .args(["train", "--resume", "--steps", "30", "--out"])
        .arg(&halves)
        .output()
        .unwrap());
    let (a, b) = (
        state(&whole.join("latest.safetensors")),
        state(&halves.join("latest.safetensors")),
    );
    assert_eq!(a.0.tensors, b.0.tensors);
    assert_eq!(a.1, b.1);
    assert_eq!(metrics(&whole), metrics(&halves));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Regression from safetensors in PyTorch's layout, per sequence and per step, and from npy:
/// the validation error falls.
#[test]
fn regression_from_safetensors_and_npy_learns() {
    let dir = fresh("regress");
    let (t, n) = (12usize, 256usize);
    let mut rng = rnnzoo::cell::seeded(5);
    use rand::Rng;
    let x: Vec<f64> = (0..t * n).map(|_| rng.random_range(-1.0..1.0)).collect();
    let at = |s: usize, b: usize| x[s * n + b];
    // Per sequence: the mean of its values. Per step: the running mean.
    let y: Vec<f64> = (0..n)
        .map(|b| (0..t).map(|s| at(s, b)).sum::<f64>() / t as f64)
        .collect();
    let mut y_steps = vec![0.0; t * n];
    for b in 0..n {
        let mut sum = 0.0;
        for s in 0..t {
            sum += at(s, b);
            y_steps[s * n + b] = sum / (s + 1) as f64;
        }
    }
    let file = |name: &str, y: &[f64], y_shape: Vec<usize>| {
        let path = dir.join(name);
        let named = [
            ("x".to_string(), vec![t, n, 1], &x[..]),
            ("y".to_string(), y_shape, y),
        ];
        std::fs::write(
            &path,
            rnnzoo::layers::file::serialize::<f64>(&named, Default::default()).unwrap(),
        )
        .unwrap();
        path
    };
    let whole = file("mean.safetensors", &y, vec![n, 1]);
    let steps = file("running.safetensors", &y_steps, vec![t, n, 1]);
    // npy: one row per sequence, the target first.
    let npy = dir.join("mean.npy");
    let mut rows = Vec::with_capacity(n * (t + 1));
    for (b, target) in y.iter().enumerate() {
        rows.push(*target);
        rows.extend((0..t).map(|s| at(s, b)));
    }
    std::fs::write(&npy, npy_f64(&[n, t + 1], &rows)).unwrap();

    let variance = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64
    };
    let regress: &[&str] = &["--task", "regress"];
    for (data, learned, extra, var) in [
        (&whole, "regression of 1 value(s)", regress, variance(&y)),
        (
            &steps,
            "per-step regression of 1 value(s)",
            &[][..],
            variance(&y_steps),
        ),
        (&npy, "regression of 1 value(s)", regress, variance(&y)),
    ] {
        let out = dir.join(format!(
            "run-{}",
            data.file_name().unwrap().to_string_lossy()
        ));
        let s: serde_json::Value = serde_json::from_str(
            ok(&train_data(
                data,
                &out,
                &[
                    &["--epochs", "8", "--eval-every", "15", "--json"][..],
                    extra,
                ]
                .concat(),
            ))
            .trim(),
        )
        .unwrap();
        assert!(s["learned"].as_str().unwrap().starts_with(learned), "{s}");
        let m = metrics(&out);
        let (first, last) = (
            m[0]["valid_loss"].as_f64().unwrap(),
            m.last().unwrap()["valid_loss"].as_f64().unwrap(),
        );
        // Far below predicting the targets' mean, and falling.
        assert!(
            last < 0.1 * var && last < first,
            "{}: valid mse {first} -> {last}, targets' variance {var}",
            data.display()
        );
        let e: serde_json::Value = serde_json::from_str(
            ok(&rnnzoo()
                .args(["eval", "--json", "--checkpoint"])
                .arg(out.join("best.safetensors"))
                .arg("--data")
                .arg(data)
                .output()
                .unwrap())
            .trim(),
        )
        .unwrap();
        assert_eq!(e["sequences"].as_u64(), Some(n as u64));
        assert!(e["mse"].as_f64().unwrap() < first, "{e}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_sequence_files_are_errors_that_name_the_line_and_column() {
    let dir = fresh("bad-seq");
    let bad = |name: &str, body: &str, extra: &[&str]| {
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        refused(&train_data(&path, &dir.join("never"), extra))
    };
    let e = bad("ragged.csv", "1,0.5,0.2\n0,0.1,0.3\n1,0.4\n", &[]);
    assert!(
        e.contains("line 3 has 2 cells") && e.contains("every row has 3"),
        "{e}"
    );
    let e = bad("words.csv", "1,0.5,0.2\n0,abc,0.3\n", &[]);
    assert!(
        e.contains("line 2, column 2") && e.contains("\"abc\""),
        "{e}"
    );
    let e = bad("nan.csv", "1,0.5,0.2\n0,NaN,0.3\n", &[]);
    assert!(
        e.contains("line 2, column 2") && e.contains("finite"),
        "{e}"
    );
    let e = bad("gap.csv", "1,0.5,,0.2\n0,0.1,0.2,0.3\n", &[]);
    assert!(
        e.contains("line 1, column 3") && e.contains("empty cell inside"),
        "{e}"
    );
    let e = bad(
        "class.csv",
        "1.5,0.5,0.2\n0,0.1,0.3\n",
        &["--task", "classify"],
    );
    assert!(
        e.contains("line 1") && e.contains("non-negative integer"),
        "{e}"
    );
    let e = bad(
        "odd.csv",
        "1,0.5,0.2,0.1\n0,0.1,0.3,0.3\n",
        &["--features", "2"],
    );
    assert!(e.contains("multiple of data.features = 2"), "{e}");
    let e = bad("x.parquet", "", &[]);
    assert!(e.contains(".csv, .npy or .safetensors"), "{e}");
    assert!(!dir.join("never").join("latest.safetensors").exists());

    // Text flags on sequences and the other way round.
    let text = text_file(&dir);
    let e = refused(&train(&text, &dir.join("never"), &["--bidirectional"]));
    assert!(e.contains("model.bidirectional"), "{e}");
    let csv = sign_csv(&dir, 100);
    let out = dir.join("run");
    ok(&train_data(&csv, &out, &["--steps", "5"]));
    let best = out.join("best.safetensors");
    let e = refused(
        &rnnzoo()
            .args(["eval", "--checkpoint"])
            .arg(&best)
            .arg("--text")
            .arg(&text)
            .output()
            .unwrap(),
    );
    assert!(e.contains("--data, not --text"), "{e}");
    let e = refused(
        &rnnzoo()
            .args(["sample", "--checkpoint"])
            .arg(&best)
            .output()
            .unwrap(),
    );
    assert!(e.contains("not a language model"), "{e}");
    // A class the model does not have.
    let more = dir.join("more.csv");
    std::fs::write(&more, "1,0.5,0.2\n5,0.1,0.3\n").unwrap();
    let e = refused(
        &rnnzoo()
            .args(["eval", "--checkpoint"])
            .arg(&best)
            .args(["--data"])
            .arg(&more)
            .output()
            .unwrap(),
    );
    assert!(
        e.contains("class 5 appears") && e.contains("classes 0..1"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The loss options PyTorch users expect, from the config file: class weights, label smoothing,
/// the sum reduction and a head without bias reach the trainer and the checkpoint.
#[test]
fn loss_options_and_a_head_without_bias_come_from_the_config() {
    let dir = fresh("loss-options");
    let csv = sign_csv(&dir, 200);
    let config = dir.join("run.toml");
    std::fs::write(
        &config,
        "[model]\nhead_bias = false\n[train]\nlabel_smoothing = 0.1\nclass_weights = [1.0, 2.0]\nreduction = \"sum\"\n",
    )
    .unwrap();
    let out = dir.join("run");
    let run = |extra: &[&str]| {
        let mut c = rnnzoo();
        c.args(["train", "--config"])
            .arg(&config)
            .arg("--data")
            .arg(&csv)
            .arg("--out")
            .arg(&out)
            .args([
                "--cell", "gru", "--hidden", "8", "--layers", "1", "--batch", "16",
            ])
            .args(["--steps", "12", "--eval-every", "6"])
            .args(extra);
        c.output().unwrap()
    };
    ok(&run(&[]));
    let t = Tensors::read(&out.join("latest.safetensors"), false).unwrap();
    assert!(t.tensors.contains_key("head.weight"));
    assert!(!t.tensors.contains_key("head.bias"), "the head has a bias");
    let meta: serde_json::Value = serde_json::from_str(&t.metadata["rnnzoo.training"]).unwrap();
    assert_eq!(meta["config"]["reduction"], "sum");
    assert_eq!(meta["config"]["cross_entropy"]["label_smoothing"], 0.1);
    assert_eq!(meta["config"]["cross_entropy"]["weight"][1], 2.0);
    // The summed, weighted, smoothed training loss is larger than a mean could be for 2 classes.
    let m = metrics(&out);
    assert!(m[0]["train_loss"].as_f64().unwrap() > 2.0, "{:?}", m[0]);
    let e = refused(&run(&["--label-smoothing", "1.5"]));
    assert!(e.contains("`train.label_smoothing` = 1.5"), "{e}");
    std::fs::write(&config, "[train]\nclass_weights = [1.0, 2.0, 3.0]\n").unwrap();
    let e = refused(&run(&[]));
    assert!(e.contains("3 weights") && e.contains("2 classes"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Weight decay and parameter groups from the config reach the optimizer and its checkpoint: no
/// decay on the biases, the recurrent matrices at half the learning rate.
#[test]
fn parameter_groups_come_from_the_config() {
    let dir = fresh("groups");
    let text = text_file(&dir);
    let config = dir.join("run.toml");
    std::fs::write(
        &config,
        "[train]\noptimizer = \"adamw\"\nweight_decay = 0.05\ngroups = [{ name_prefix = \"bias\", weight_decay = 0.0 }, { name_prefix = \"weight_hh\", lr_scale = 0.5 }]\n",
    )
    .unwrap();
    let out = dir.join("run");
    let run = |body: Option<&str>| {
        if let Some(b) = body {
            std::fs::write(&config, b).unwrap();
        }
        rnnzoo()
            .args(["train", "--config"])
            .arg(&config)
            .arg("--text")
            .arg(&text)
            .arg("--out")
            .arg(&out)
            .args(SMALL)
            .args(["--steps", "10"])
            .output()
            .unwrap()
    };
    ok(&run(None));
    let t = Tensors::read(&out.join("latest.safetensors"), false).unwrap();
    let meta: serde_json::Value = serde_json::from_str(&t.metadata["rnnzoo.training"]).unwrap();
    assert_eq!(
        meta["optimizer_hyper"]["AdamW"]["weight_decay"], 0.05,
        "{meta}"
    );
    let groups = &meta["optimizer_groups"];
    assert_eq!(groups[0]["name_prefix"], "bias");
    assert_eq!(groups[0]["weight_decay"], 0.0);
    assert_eq!(groups[1]["lr_scale"], 0.5);
    let e = refused(&run(Some(
        "[train]\ngroups = [{ name_prefix = \"bias\", lr_scale = -1.0 }]\n",
    )));
    assert!(e.contains("lr_scale"), "{e}");
    let e = refused(&run(Some("[train]\ngroups = [{ prefix = \"bias\" }]\n")));
    assert!(e.contains("prefix") && e.contains("name_prefix"), "{e}");
    let e = refused(&run(Some("[train]\nweight_decay = -0.1\n")));
    assert!(e.contains("`train.weight_decay` = -0.1"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
