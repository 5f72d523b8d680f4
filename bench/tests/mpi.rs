//! Data-parallel `rnnzoo train` under `mpirun` (built with `--features mpi`; `make test` turns
//! the feature on when OpenMPI is installed, and `.ci/run` installs it): N = 2 and 3 processes
//! (oversubscribed on two cores) equal one process with the same global batch, 1e-10 relative
//! in f64 and 1e-5 in f32 after 20 updates, for a text and for sequences (with a last batch
//! smaller than the number of processes); a killed process ends the job within 60 seconds, the
//! last checkpoint loads, and the run resumes on another number of processes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use rnnzoo::layers::file::Tensors;

use crate::common::{ok, rnnzoo};

fn fresh(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rnnzoo-mpi-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `mpirun -np n rnnzoo ARGS`, as root in a container (OpenMPI refuses root without asking).
fn mpirun(n: usize) -> Command {
    let mut c = Command::new("mpirun");
    c.args(["--oversubscribe", "-np", &n.to_string()])
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .arg(env!("CARGO_BIN_EXE_rnnzoo"));
    c
}

fn text_file(dir: &Path) -> PathBuf {
    let text: String = rnnzoo::datasets::shakespeare().chars().take(8000).collect();
    let path = dir.join("input.txt");
    std::fs::write(&path, text).unwrap();
    path
}

/// The largest relative difference between two checkpoints' weights and optimizer moments.
fn max_relative(a: &Path, b: &Path) -> f64 {
    let (a, b) = (
        Tensors::read(a, false).unwrap(),
        Tensors::read(b, false).unwrap(),
    );
    assert_eq!(
        a.tensors.keys().collect::<Vec<_>>(),
        b.tensors.keys().collect::<Vec<_>>()
    );
    let mut worst = 0.0f64;
    for (name, ta) in &a.tensors {
        let (x, y) = (ta.to_vec::<f64>(), b.tensors[name].to_vec::<f64>());
        let scale = x.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-30);
        for (p, q) in x.iter().zip(&y) {
            worst = worst.max((p - q).abs() / scale);
        }
    }
    worst
}

fn text_args<'a>(text: &'a Path, out: &'a Path, dtype: &'a str) -> Vec<&'a std::ffi::OsStr> {
    let mut v: Vec<&std::ffi::OsStr> = vec!["train".as_ref(), "--text".as_ref(), text.as_os_str()];
    v.extend(["--out".as_ref(), out.as_os_str()]);
    let small = [
        "--hidden",
        "16",
        "--layers",
        "2",
        "--batch",
        "6",
        "--bptt",
        "20",
        "--steps",
        "20",
        "--eval-every",
        "10",
        "--dtype",
    ];
    v.extend(small.into_iter().map(std::ffi::OsStr::new));
    v.push(std::ffi::OsStr::new(dtype));
    v
}

#[test]
fn n_processes_equal_one_on_the_same_global_batch() {
    let dir = fresh("equal");
    let text = text_file(&dir);
    for (dtype, tolerance) in [("f64", 1e-10), ("f32", 1e-5)] {
        let one = dir.join(format!("one-{dtype}"));
        ok(&rnnzoo()
            .args(text_args(&text, &one, dtype))
            .output()
            .unwrap());
        for n in [2, 3] {
            let many = dir.join(format!("np{n}-{dtype}"));
            ok(&mpirun(n)
                .args(text_args(&text, &many, dtype))
                .output()
                .unwrap());
            let d = max_relative(
                &one.join("latest.safetensors"),
                &many.join("latest.safetensors"),
            );
            assert!(
                d <= tolerance,
                "{dtype}, {n} processes: relative difference {d}"
            );
        }
    }

    // Sequences, 180 for training in batches of 179: the epoch's second batch has one sequence,
    // so one of two processes has none of it.
    let csv = dir.join("seqs.csv");
    let mut rng = rnnzoo::cell::seeded(3);
    let mut body = String::new();
    for _ in 0..200 {
        use rand::Rng;
        let xs: Vec<f64> = (0..8).map(|_| rng.random_range(-1.0..1.0)).collect();
        body += if xs[0] > 0.0 { "1" } else { "0" };
        for x in &xs {
            body += &format!(",{x:.4}");
        }
        body.push('\n');
    }
    std::fs::write(&csv, body).unwrap();
    let seq_args = |out: &Path| -> Vec<std::ffi::OsString> {
        let mut v: Vec<std::ffi::OsString> =
            vec!["train".into(), "--data".into(), csv.clone().into()];
        v.extend(["--out".into(), out.into()]);
        v.extend(
            [
                "--cell",
                "gru",
                "--hidden",
                "8",
                "--layers",
                "1",
                "--batch",
                "179",
                "--steps",
                "20",
                "--eval-every",
                "10",
                "--dtype",
                "f64",
            ]
            .iter()
            .map(Into::into),
        );
        v
    };
    let one = dir.join("seq-one");
    ok(&rnnzoo().args(seq_args(&one)).output().unwrap());
    for n in [2, 3] {
        let many = dir.join(format!("seq-np{n}"));
        ok(&mpirun(n).args(seq_args(&many)).output().unwrap());
        let d = max_relative(
            &one.join("latest.safetensors"),
            &many.join("latest.safetensors"),
        );
        assert!(
            d <= 1e-10,
            "sequences, {n} processes: relative difference {d}"
        );
    }

    // Fewer text streams than processes is refused, by every process, before any update.
    let out = dir.join("too-few");
    let mut args = text_args(&text, &out, "f64");
    let at = args.iter().position(|a| *a == "--batch").unwrap();
    args[at + 1] = "2".as_ref();
    let refused = mpirun(3).args(args).output().unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("cannot be split over 3 processes"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The process ids of `pid`'s children (mpirun's ranks, on one machine).
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn wait_for(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn a_killed_process_ends_the_job_and_the_run_resumes_on_another_count() {
    let dir = fresh("kill");
    let text = text_file(&dir);
    let out = dir.join("run");
    let mut args = text_args(&text, &out, "f64");
    let at = args.iter().position(|a| *a == "--steps").unwrap();
    args[at + 1] = "100000000".as_ref();
    let at = args.iter().position(|a| *a == "--eval-every").unwrap();
    args[at + 1] = "5".as_ref();
    let mut job = mpirun(2)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let latest = out.join("latest.safetensors");
    let start = Instant::now();
    while !latest.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no checkpoint written"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let ranks = children(job.id());
    assert_eq!(ranks.len(), 2, "mpirun's children: {ranks:?}");
    // SAFETY: kill(2) on a process this test started (through mpirun), with a valid signal.
    assert_eq!(unsafe { libc::kill(ranks[1] as i32, libc::SIGKILL) }, 0);
    let killed_at = Instant::now();
    let Some(status) = wait_for(&mut job, Duration::from_secs(60)) else {
        let _ = job.kill();
        panic!("the job outlived a killed process by 60 seconds");
    };
    let Output { stderr, .. } = job.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&stderr);
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains("signal 9") || stderr.contains("Killed") || stderr.contains("killed"),
        "the error does not say a process was killed: {stderr}"
    );
    eprintln!("the job ended {:?} after the kill", killed_at.elapsed());

    // The last checkpoint loads; resumed on 3 processes and on 1 it gives the same run.
    let (_, model) = rnnzoo_bench::train::load::<f64>(&latest).unwrap();
    assert!(model.head().output_size() > 0);
    let t = Tensors::read(&latest, false).unwrap();
    let meta: serde_json::Value = serde_json::from_str(&t.metadata["rnnzoo.training"]).unwrap();
    let steps = meta["steps"].as_u64().unwrap();
    assert!(steps >= 5 && steps.is_multiple_of(5), "{steps}");
    let alone = dir.join("alone");
    std::fs::create_dir_all(&alone).unwrap();
    std::fs::copy(&latest, alone.join("latest.safetensors")).unwrap();
    std::fs::copy(out.join("metrics.jsonl"), alone.join("metrics.jsonl")).unwrap();
    let target = (steps + 10).to_string();
    let resume = |cmd: &mut Command, out: &Path| {
        ok(&cmd
            .args([
                "train",
                "--resume",
                "--steps",
                &target,
                "--eval-every",
                "5",
                "--out",
            ])
            .arg(out)
            .output()
            .unwrap())
    };
    resume(&mut mpirun(3), &out);
    resume(&mut rnnzoo(), &alone);
    let d = max_relative(&latest, &alone.join("latest.safetensors"));
    assert!(
        d <= 1e-10,
        "resumed on 3 and on 1 process: relative difference {d}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
