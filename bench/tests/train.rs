//! `rnnzoo train`, `sample` and `eval` as a new user runs them: the README's three commands on a
//! text file; a config file under flags; resume and SIGINT bit for bit; every refusal an error
//! that names what was wrong, with a non-zero exit and earlier checkpoints intact. Sequences and
//! the trainer's options are in `train_sequences.rs`, which shares the helpers here.

use crate::common::{ok, refused, rnnzoo};
use std::path::{Path, PathBuf};
use std::process::Output;

use rnnzoo::layers::file::Tensors;

pub(crate) fn fresh(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rnnzoo-train-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The first 6000 characters of the embedded Shakespeare, as a user's file.
pub(crate) fn text_file(dir: &Path) -> PathBuf {
    let text: String = rnnzoo::datasets::shakespeare().chars().take(6000).collect();
    let path = dir.join("input.txt");
    std::fs::write(&path, text).unwrap();
    path
}

/// A small, fast model: the flags a test adds to every run.
pub(crate) const SMALL: &[&str] = &[
    "--hidden",
    "16",
    "--layers",
    "2",
    "--batch",
    "4",
    "--bptt",
    "20",
    "--eval-every",
    "10",
];

pub(crate) fn train(text: &Path, out: &Path, extra: &[&str]) -> Output {
    rnnzoo()
        .arg("train")
        .arg("--text")
        .arg(text)
        .arg("--out")
        .arg(out)
        .args(SMALL)
        .args(extra)
        .output()
        .unwrap()
}

/// The metrics lines without their timings (which no two runs share).
pub(crate) fn metrics(out: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let o = v.as_object_mut().unwrap();
            o.remove("seconds");
            o.remove("per_second");
            v
        })
        .collect()
}

/// Every tensor of a checkpoint, and its training record without timings.
pub(crate) fn state(path: &Path) -> (Tensors, serde_json::Value) {
    let t = Tensors::read(path, false).unwrap();
    let mut meta: serde_json::Value = serde_json::from_str(&t.metadata["rnnzoo.training"]).unwrap();
    meta["extra"].as_object_mut().unwrap().remove("seconds");
    (t, meta)
}

#[test]
fn train_sample_and_eval_a_text_file_with_three_commands() {
    let dir = fresh("readme");
    let text = text_file(&dir);
    let out = dir.join("run");
    let summary = ok(&train(&text, &out, &["--steps", "60", "--json"]));
    let s: serde_json::Value = serde_json::from_str(summary.trim()).unwrap();
    assert_eq!(
        (s["steps"].as_u64(), s["stopped"].as_str()),
        (Some(60), Some("finished"))
    );
    for f in [
        "latest.safetensors",
        "best.safetensors",
        "metrics.jsonl",
        "loss.svg",
        "run.toml",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let m = metrics(&out);
    assert_eq!(m.len(), 6, "one line per 10 updates");
    // Learning: validation below a uniform guess over the vocabulary, and falling.
    let text_chars = std::fs::read_to_string(&text).unwrap();
    let mut distinct: Vec<char> = text_chars.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    let vocab = distinct.len() as f64;
    assert_eq!(
        s["learned"].as_str().unwrap(),
        format!("a text of {} distinct characters", distinct.len())
    );
    let (first, last) = (
        m[0]["valid_bpc"].as_f64().unwrap(),
        m[5]["valid_bpc"].as_f64().unwrap(),
    );
    assert!(
        last < first && last < vocab.log2() - 1.0,
        "{first} -> {last}"
    );
    let svg = std::fs::read_to_string(out.join("loss.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("validation"));
    let run: toml::Value =
        toml::from_str(&std::fs::read_to_string(out.join("run.toml")).unwrap()).unwrap();
    assert_eq!(run["model"]["hidden"].as_integer(), Some(16));

    let best = out.join("best.safetensors");
    let sample = |seed: &str| {
        ok(&rnnzoo()
            .args([
                "sample", "--prime", "ROMEO:", "--length", "80", "--seed", seed,
            ])
            .arg("--checkpoint")
            .arg(&best)
            .output()
            .unwrap())
    };
    let a = sample("1");
    assert!(
        a.starts_with("ROMEO:") && a.trim_end().chars().count() >= 80,
        "{a}"
    );
    assert_eq!(a, sample("1"), "the seed decides the sample");
    assert_ne!(a, sample("2"));

    // eval scores every character but the first, and counts those the model never saw.
    let probe = dir.join("probe.txt");
    std::fs::write(
        &probe,
        "First Citizen:\nBefore we proceed \u{2603} any further\n",
    )
    .unwrap();
    let e: serde_json::Value = serde_json::from_str(
        ok(&rnnzoo()
            .args(["eval", "--json", "--checkpoint"])
            .arg(&best)
            .arg("--text")
            .arg(&probe)
            .output()
            .unwrap())
        .trim(),
    )
    .unwrap();
    let chars = "First Citizen:\nBefore we proceed \u{2603} any further\n"
        .chars()
        .count();
    assert_eq!(e["chars"].as_u64(), Some(chars as u64));
    assert_eq!(e["unknown"].as_u64(), Some(1));
    assert_eq!(e["unknown_chars"][0].as_str(), Some("\u{2603}"));
    assert_eq!(e["predicted"].as_u64(), Some(chars as u64 - 2));
    let bpc = e["bits_per_char"].as_f64().unwrap();
    assert!((bpc - e["nats_per_char"].as_f64().unwrap() / std::f64::consts::LN_2).abs() < 1e-12);
    // The figure is the model's: the library's own scoring of the same ids agrees.
    let (record, model) = rnnzoo_bench::train::load::<f32>(&best).unwrap();
    let ids: Vec<usize> = "First Citizen:\nBefore we proceed  any further\n"
        .chars()
        .filter_map(|c| record.vocab().unwrap().id(c))
        .collect();
    let direct = rnnzoo_bench::train::text::bits_per_char(&model, &ids, 1, 7).unwrap();
    assert!(
        (direct.bits_per_char - bpc).abs() < 1e-9,
        "{direct:?} vs {bpc}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_flag_wins_over_the_config_file() {
    let dir = fresh("flags");
    let text = text_file(&dir);
    let config = dir.join("run.toml");
    std::fs::write(
        &config,
        "[model]\nhidden = 8\ncell = \"gru\"\n[train]\nlr = 0.01\nsteps = 10\n",
    )
    .unwrap();
    let out = dir.join("run");
    ok(&rnnzoo()
        .args(["train", "--config"])
        .arg(&config)
        .arg("--text")
        .arg(&text)
        .arg("--out")
        .arg(&out)
        .args(["--hidden", "12", "--batch", "4", "--bptt", "10"])
        .output()
        .unwrap());
    let run: toml::Value =
        toml::from_str(&std::fs::read_to_string(out.join("run.toml")).unwrap()).unwrap();
    assert_eq!(run["model"]["hidden"].as_integer(), Some(12), "the flag");
    assert_eq!(run["model"]["cell"].as_str(), Some("gru"), "the file");
    assert_eq!(run["train"]["lr"].as_float(), Some(0.01), "the file");
    assert_eq!(run["model"]["layers"].as_integer(), Some(2), "the default");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn resume_continues_bit_for_bit() {
    let dir = fresh("resume");
    let text = text_file(&dir);
    let whole = dir.join("whole");
    let halves = dir.join("halves");
    // Dropout draws from the trainer's random source, which the checkpoint must carry too. The
    // training text is 5400 characters: 4 streams of 1350, 68 chunks of 20, so 80 updates cross
    // an epoch's end (where the carried state is reset) after the resume at 30.
    let extra = ["--dropout", "0.2", "--lr", "0.005"];
    ok(&train(
        &text,
        &whole,
        &[&["--steps", "80"][..], &extra].concat(),
    ));
    ok(&train(
        &text,
        &halves,
        &[&["--steps", "30"][..], &extra].concat(),
    ));
    ok(&rnnzoo()
        .args(["train", "--resume", "--steps", "80", "--out"])
        .arg(&halves)
        .output()
        .unwrap());
    let (a, b) = (
        state(&whole.join("latest.safetensors")),
        state(&halves.join("latest.safetensors")),
    );
    assert_eq!(a.0.tensors, b.0.tensors, "weights and optimizer moments");
    assert_eq!(a.1, b.1, "steps, random source, carried state, record");
    assert_eq!(metrics(&whole), metrics(&halves));
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn sigint_writes_a_checkpoint_that_resumes_bit_for_bit() {
    let dir = fresh("sigint");
    let text = text_file(&dir);
    let out = dir.join("run");
    // No validation before the signal: the checkpoint is the interrupt's own.
    let child = rnnzoo()
        .arg("train")
        .arg("--text")
        .arg(&text)
        .arg("--out")
        .arg(&out)
        .args(["--hidden", "16", "--batch", "4", "--bptt", "20"])
        .args(["--steps", "100000000", "--eval-every", "100000000"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // run.toml is written just before the first update.
    let start = std::time::Instant::now();
    while !out.join("run.toml").exists() {
        assert!(start.elapsed().as_secs() < 60, "training never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: kill(2) with a pid we spawned and a valid signal number.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let done = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("--resume"), "{stderr}");

    let latest = out.join("latest.safetensors");
    let (_, model) = rnnzoo_bench::train::load::<f32>(&latest).unwrap();
    assert_eq!(
        model.head().output_size(),
        rnnzoo_bench::train::record::read_record(&latest)
            .unwrap()
            .vocab()
            .unwrap()
            .len()
    );
    let steps = state(&latest).1["steps"].as_u64().unwrap();
    assert!(steps > 0);

    // Resumed to steps + 7 it equals a run that was never interrupted.
    let target = (steps + 7).to_string();
    ok(&rnnzoo()
        .args([
            "train",
            "--resume",
            "--steps",
            &target,
            "--eval-every",
            "100000000",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap());
    let whole = dir.join("whole");
    ok(&rnnzoo()
        .arg("train")
        .arg("--text")
        .arg(&text)
        .arg("--out")
        .arg(&whole)
        .args(["--hidden", "16", "--batch", "4", "--bptt", "20"])
        .args(["--steps", &target, "--eval-every", "100000000"])
        .output()
        .unwrap());
    let (a, b) = (state(&latest), state(&whole.join("latest.safetensors")));
    assert_eq!(a.0.tensors, b.0.tensors);
    assert_eq!(a.1, b.1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_is_an_error_that_names_it_and_loses_nothing() {
    let dir = fresh("bad");
    let text = text_file(&dir);
    let config = dir.join("bad.toml");
    let with_config = |body: &str| {
        std::fs::write(&config, body).unwrap();
        refused(
            &rnnzoo()
                .args(["train", "--config"])
                .arg(&config)
                .arg("--out")
                .arg(dir.join("never"))
                .output()
                .unwrap(),
        )
    };
    let e = with_config("[train]\nlearning_rate = 0.1\n");
    assert!(e.contains("learning_rate") && e.contains("line 2"), "{e}");
    let e = with_config("[train]\nbatch = \"many\"\n");
    assert!(e.contains("batch") && e.contains("expected"), "{e}");
    let e = with_config("[train]\nlr = -0.1\n");
    assert!(
        e.contains("`train.lr` = -0.1") && e.contains("positive"),
        "{e}"
    );
    let e = with_config("[train]\nclip = -1.0\n");
    assert!(e.contains("`train.clip`"), "{e}");
    let e = with_config("[train]\nbatch = 0\n");
    assert!(e.contains("`train.batch` = 0"), "{e}");
    let e = with_config("[optim]\nlr = 1\n");
    assert!(e.contains("optim"), "{e}");
    assert!(!dir.join("never").join("latest.safetensors").exists());

    // A missing file, and text that is not UTF-8 (the byte and the line).
    let e = refused(&train(&dir.join("nope.txt"), &dir.join("never"), &[]));
    assert!(e.contains("nope.txt"), "{e}");
    let latin1 = dir.join("latin1.txt");
    std::fs::write(&latin1, b"line one\nna\xefve\n").unwrap();
    let e = refused(&train(&latin1, &dir.join("never"), &[]));
    assert!(
        e.contains("not UTF-8") && e.contains("byte 11") && e.contains("line 2"),
        "{e}"
    );
    // Too short for the streams.
    let tiny = dir.join("tiny.txt");
    std::fs::write(&tiny, "abcdefghij").unwrap();
    let e = refused(&train(&tiny, &dir.join("never"), &[]));
    assert!(
        e.contains("validation text has 1 characters") && e.contains("need at least 2"),
        "{e}"
    );

    // A run, then a resume that would change the model: refused, the checkpoints untouched.
    let out = dir.join("run");
    ok(&train(&text, &out, &["--steps", "10"]));
    let before = std::fs::read(out.join("latest.safetensors")).unwrap();
    let e = refused(
        &rnnzoo()
            .args([
                "train", "--resume", "--hidden", "32", "--steps", "20", "--out",
            ])
            .arg(&out)
            .output()
            .unwrap(),
    );
    assert!(e.contains("[model]"), "{e}");
    assert_eq!(
        std::fs::read(out.join("latest.safetensors")).unwrap(),
        before
    );
    let e = refused(
        &rnnzoo()
            .args(["train", "--resume", "--out"])
            .arg(dir.join("empty"))
            .output()
            .unwrap(),
    );
    assert!(e.contains("nothing to resume"), "{e}");

    // Another kind of file given to sample and eval; a prime the model cannot read; a
    // temperature of 0.
    let state_dict = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../layers/tests/fixtures/torch/lstm_1l.safetensors");
    for cmd in [
        &["sample"][..],
        &["eval", "--text", text.to_str().unwrap()][..],
    ] {
        let e = refused(
            &rnnzoo()
                .args(cmd)
                .arg("--checkpoint")
                .arg(&state_dict)
                .output()
                .unwrap(),
        );
        assert!(e.contains("not a checkpoint of `rnnzoo train`"), "{e}");
    }
    let best = out.join("best.safetensors");
    let e = refused(
        &rnnzoo()
            .args(["sample", "--prime", "\u{2603}", "--checkpoint"])
            .arg(&best)
            .output()
            .unwrap(),
    );
    assert!(e.contains("'\u{2603}'") && e.contains("vocabulary"), "{e}");
    let e = refused(
        &rnnzoo()
            .args(["sample", "--temperature", "0", "--checkpoint"])
            .arg(&best)
            .output()
            .unwrap(),
    );
    assert!(e.contains("--temperature"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
