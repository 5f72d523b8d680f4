//! The `rnnzoo` program as a user runs it: `inspect` on good and hostile files (an error and a
//! non-zero exit, never a panic), and output into a closed pipe.

use std::path::PathBuf;
use std::process::{Command, Stdio};

fn rnnzoo() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rnnzoo"))
}

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
