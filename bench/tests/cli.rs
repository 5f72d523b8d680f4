//! The `rnnzoo` program as a user runs it: `inspect` on good and hostile files (an error and a
//! non-zero exit, never a panic), and output into a closed pipe.

use crate::common::rnnzoo;
use std::path::PathBuf;
use std::process::Stdio;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../layers/tests/fixtures")
}

#[test]
fn inspect_summarises_a_pytorch_case() {
    let out = rnnzoo()
        .args(["inspect", "--json"])
        .arg(fixtures().join("torch/gru_2l_bidir.safetensors"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["mode"], "GRU");
    assert_eq!(
        (v["layers"].as_u64(), v["directions"].as_u64()),
        (Some(2), Some(2))
    );
}

#[test]
fn inspect_refuses_hostile_files_without_panicking() {
    let dir = fixtures().join("fuzz");
    let mut refused = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let out = rnnzoo().arg("inspect").arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{}: {stderr}", path.display());
        if !out.status.success() {
            assert!(stderr.starts_with("error: "), "{stderr}");
            refused += 1;
        }
    }
    assert!(refused >= 4, "only {refused} hostile files were refused");
    let missing = rnnzoo()
        .args(["inspect", "/nonexistent.safetensors"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn a_closed_pipe_is_not_a_crash() {
    let mut child = rnnzoo()
        .args(["inspect"])
        .arg(fixtures().join("torch/lstm_1l.safetensors"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before the program writes
    let out = child.wait_with_output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn cells_json_lists_every_kind_of_the_registry() {
    let out = rnnzoo().args(["cells", "--json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cells = v.as_array().unwrap();
    let names: Vec<&str> = cells.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, rnnzoo::zoo::names());
    for (c, e) in cells.iter().zip(rnnzoo::zoo::entries()) {
        assert_eq!(c["form"], e.form.name());
        assert_eq!(c["crate"], e.crate_name);
        assert_eq!(c["reference"], e.reference);
        match e.torch_mode {
            Some(m) => assert_eq!(c["torch_mode"], m),
            None => assert!(c["torch_mode"].is_null()),
        }
    }
    let lstm = cells.iter().find(|c| c["name"] == "lstm").unwrap();
    assert_eq!(lstm["torch_mode"], "LSTM");
    assert_eq!(lstm["state"], serde_json::json!(["h", "c"]));
    assert_eq!(lstm["options"][0]["name"], "forget_bias");
    let text = rnnzoo().arg("cells").output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("gru-reset-before") && l.contains("general"))
    );
}

#[test]
fn inspect_states_the_nonlinearity_and_where_it_came_from() {
    // The relu fixture records `nonlinearity` = relu in its metadata.
    let relu = fixtures().join("torch/rnn_relu_1l.safetensors");
    let json = |args: &[&str]| {
        let out = rnnzoo()
            .arg("inspect")
            .args(args)
            .arg(&relu)
            .output()
            .unwrap();
        (
            out.status.code(),
            serde_json::from_slice::<serde_json::Value>(&out.stdout).ok(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, v, _) = json(&["--json"]);
    let v = v.unwrap();
    assert_eq!(code, Some(0));
    assert_eq!(
        (v["cell"].as_str(), v["nonlinearity"].as_str()),
        (Some("rnn-relu"), Some("relu"))
    );
    assert_eq!(v["nonlinearity_source"], "metadata");
    assert_eq!(v["mode"], "RNN_RELU");
    let (_, v, _) = json(&["--json", "--nonlinearity", "relu"]);
    assert_eq!(v.unwrap()["nonlinearity_source"], "argument");
    // Against the metadata: an error, and it says why.
    let (code, _, err) = json(&["--nonlinearity", "tanh"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("metadata says relu"), "{err}");
    // Saved as PyTorch saves it (the fixture's parameters alone), a tanh file records nothing:
    // the assumption is printed, in text and JSON.
    let bare = bare_copy(&fixtures().join("torch/rnn_tanh_3l.safetensors"), "");
    let out = rnnzoo().args(["inspect"]).arg(&bare).output().unwrap();
    let json = rnnzoo()
        .args(["inspect", "--json"])
        .arg(&bare)
        .output()
        .unwrap();
    std::fs::remove_file(&bare).unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("nonlinearity tanh (assumed"), "{text}");
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["nonlinearity_source"], "assumed");
    // An LSTM has no nonlinearity to give.
    let lstm = fixtures().join("torch/lstm_1l.safetensors");
    let out = rnnzoo()
        .args(["inspect", "--nonlinearity", "relu"])
        .arg(&lstm)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn inspect_of_a_prefixed_file_suggests_the_prefix() {
    let path = bare_copy(&fixtures().join("torch/gru_1l.safetensors"), "gru.");
    let plain = rnnzoo()
        .args(["inspect", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    let with = rnnzoo()
        .args(["inspect", "--json", "--prefix", "gru."])
        .arg(&path)
        .output()
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert!(v["mode"].is_null());
    let note = v["note"].as_str().unwrap();
    assert!(
        note.contains("weight_ih_l0") && note.contains("rnn_prefix = \"gru.\""),
        "{note}"
    );
    let v: serde_json::Value = serde_json::from_slice(&with.stdout).unwrap();
    assert_eq!(
        (v["mode"].as_str(), v["cell"].as_str()),
        (Some("GRU"), Some("gru"))
    );
}

/// A temporary file with a fixture's parameters alone (no metadata), each name after `prefix`.
fn bare_copy(fixture: &std::path::Path, prefix: &str) -> PathBuf {
    let t = rnnzoo::layers::file::Tensors::read(fixture, false).unwrap();
    let named: Vec<(String, Vec<usize>, Vec<f64>)> = t
        .tensors
        .iter()
        .filter(|(k, _)| k.starts_with("weight_") || k.starts_with("bias_"))
        .map(|(k, v)| (format!("{prefix}{k}"), v.shape.clone(), v.to_vec::<f64>()))
        .collect();
    let views: Vec<(String, Vec<usize>, &[f64])> = named
        .iter()
        .map(|(k, s, v)| (k.clone(), s.clone(), v.as_slice()))
        .collect();
    let name = fixture.file_stem().unwrap().to_string_lossy();
    let path = std::env::temp_dir().join(format!(
        "rnnzoo-cli-{name}-{}-{}.safetensors",
        prefix.trim_end_matches('.'),
        std::process::id()
    ));
    let bytes = rnnzoo::layers::file::serialize(&views, Default::default()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A weights file `checkpoint::save_weights` writes from a one-layer bidirectional model of the
/// registry's kind `name`.
fn weights_of(name: &str) -> PathBuf {
    use rnnzoo::layers::head::{Activation, Dense};
    use rnnzoo::layers::{Bidirectional, Layer, Merge, Model, Readout, Recurrent, Stack};
    let entry = rnnzoo::zoo::get(name).unwrap();
    let cell = |seed| {
        let rng = &mut rnnzoo::cell::seeded(seed);
        Recurrent::new(
            entry
                .build::<f32, _>(3, 4, &Default::default(), rng)
                .unwrap(),
        )
    };
    let bi = Bidirectional::new(cell(0), cell(1), Merge::Concat).unwrap();
    let body = Stack::new(vec![Box::new(bi) as Box<dyn Layer<f32>>]).unwrap();
    let head = Dense::new(8, 2, Activation::Identity, &mut rnnzoo::cell::seeded(2)).unwrap();
    let model = Model::new(body, head, Readout::LastStep).unwrap();
    let path = std::env::temp_dir().join(format!(
        "rnnzoo-cli-weights-{name}-{}.safetensors",
        std::process::id()
    ));
    rnnzoo::layers::checkpoint::save_weights(&model, &path).unwrap();
    path
}

#[test]
fn inspect_of_a_weights_file_names_the_recorded_cell() {
    // A reset-before GRU has PyTorch's GRU names and shapes: only the file's record tells them
    // apart. Every kind of the registry shows as itself.
    for entry in rnnzoo::zoo::entries() {
        let path = weights_of(entry.name);
        let out = rnnzoo()
            .args(["inspect", "--json"])
            .arg(&path)
            .output()
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            entry.name,
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["kind"], "weights", "{}", entry.name);
        assert_eq!(v["cell"], entry.name, "{}", entry.name);
        assert_eq!(
            v["mode"],
            entry.torch_mode.unwrap_or(entry.cell_mode),
            "{}",
            entry.name
        );
        assert_eq!(
            (v["layers"].as_u64(), v["directions"].as_u64()),
            (Some(1), Some(2)),
            "{}",
            entry.name
        );
    }
}

/// `rnnzoo speed --streaming --json` times single steps and says so in `streaming_step_ms`; a
/// bidirectional stream is refused with a message, not a panic.
#[test]
fn speed_streaming_reports_the_step_time() {
    let args = [
        "speed",
        "--cell",
        "lstm",
        "--steps",
        "4",
        "--batch",
        "1",
        "--input",
        "3",
        "--hidden",
        "5",
        "--layers",
        "2",
        "--seconds",
        "0",
        "--min-reps",
        "1",
        "--streaming",
        "--json",
    ];
    let out = rnnzoo().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ms = v["streaming_step_ms"].as_f64().unwrap();
    assert!(ms > 0.0 && ms < 1000.0, "{v}");
    assert_eq!(v["batch"], 1);
    assert!(v["steps_timed"].as_u64().unwrap() >= 4);
    let out = rnnzoo().args(args).arg("--bidirectional").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bidirectional"));
}

/// `rnnzoo speed --trainer --json` times whole training steps (`train_step_ms`).
#[test]
fn speed_trainer_reports_the_step_time() {
    let out = rnnzoo()
        .args([
            "speed",
            "--cell",
            "gru",
            "--steps",
            "6",
            "--batch",
            "4",
            "--input",
            "2",
            "--hidden",
            "8",
            "--seconds",
            "0",
            "--min-reps",
            "2",
            "--trainer",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ms = v["train_step_ms"].as_f64().unwrap();
    assert!(ms > 0.0 && ms < 1000.0, "{v}");
    assert!(v["steps_timed"].as_u64().unwrap() >= 2);
}

/// Every experiment's name, from the list `reproduce all` runs.
fn experiments() -> Vec<&'static str> {
    rnnzoo_bench::reproduce::names()
}

#[test]
fn reproduce_help_lists_every_experiment() {
    let out = rnnzoo().args(["reproduce", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for name in experiments() {
        assert!(help.contains(name), "`{name}` missing from:\n{help}");
    }
}

#[test]
fn reproduce_refuses_an_unknown_experiment_and_names_the_known_ones() {
    let out = rnnzoo()
        .args(["reproduce", "addding", "--tiny"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("addding"), "{err}");
    assert!(err.contains("adding") && err.contains("all"), "{err}");
}
