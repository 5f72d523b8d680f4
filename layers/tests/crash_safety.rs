//! Crash-safe saving: a process killed with SIGKILL at random points while it writes checkpoints
//! over and over never leaves a checkpoint that fails to load, and training resumes from it.
//!
//! The test runs this same test binary as a child (filtered to `child_writes_checkpoints_forever`
//! and told so by an environment variable); the child trains and saves the full training state to
//! one path in a loop, and the parent kills it at random moments, then loads what is on disk.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::Rng;
use rnnzoo_cell::seeded;
use rnnzoo_layers::checkpoint::{load_training, save_training};
use rnnzoo_layers::head::{Activation, Dense};
use rnnzoo_layers::optim::Adam;
use rnnzoo_layers::train::{Batch, Targets, TrainConfig, Trainer};
use rnnzoo_layers::{Layer, Model, Readout, Recurrent, Stack};
use rnnzoo_lstm::LstmCell;

const CHILD: &str = "RNNZOO_CRASH_CHILD_PATH";

fn model() -> Model<f32> {
    // Large enough that a save takes a while (about 1 MB), so kills land mid-write.
    let layers: Vec<Box<dyn Layer<f32>>> = vec![Box::new(Recurrent::new(
        LstmCell::new(4, 128, &mut seeded(1)).unwrap(),
    ))];
    let body = Stack::new(layers).unwrap();
    Model::new(
        body,
        Dense::new(128, 1, Activation::Identity, &mut seeded(2)).unwrap(),
        Readout::LastStep,
    )
    .unwrap()
}

fn batch(seed: u64) -> Batch<f32> {
    let mut rng = seeded(seed);
    let x: Vec<f32> = (0..4 * 3 * 2).map(|_| rng.random::<f32>()).collect();
    Batch {
        inputs: x,
        features: 4,
        steps: 3,
        batch: 2,
        lengths: None,
        targets: Targets::FinalValues {
            values: vec![0.5, -0.5],
            outputs: 1,
        },
    }
}

/// In the child: train and save forever (until killed). In a normal test run: nothing.
#[test]
fn child_writes_checkpoints_forever() {
    let Ok(path) = std::env::var(CHILD) else {
        return;
    };
    let path = PathBuf::from(path);
    let mut trainer = trainer();
    loop {
        let before = trainer.steps();
        let s = trainer.step(&batch(before)).unwrap();
        assert_eq!(s.step, before + 1);
        assert!(s.loss.is_finite() && !s.skipped, "{s:?}");
        save_training(
            &trainer,
            serde_json::json!({"steps": trainer.steps()}),
            &path,
        )
        .unwrap();
    }
}

/// The child's trainer: the same in the child and in the parent's replay.
fn trainer() -> Trainer<f32> {
    Trainer::new(model(), Box::new(Adam::new(1e-3)), TrainConfig::default())
}

fn weights(m: &Model<f32>) -> Vec<u32> {
    m.param_groups()
        .iter()
        .flat_map(|g| {
            g.params
                .iter()
                .flat_map(|p| p.data().iter().map(|v| v.to_bits()))
        })
        .collect()
}

fn spawn_child(path: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_writes_checkpoints_forever",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD, path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn a_kill_mid_save_leaves_a_loadable_checkpoint() {
    let dir = std::env::temp_dir().join(format!("rnnzoo-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("train.safetensors");
    let mut rng = seeded(7);
    let mut last_steps = 0;
    for round in 0..16 {
        let mut child = spawn_child(&path);
        // Wait until the first checkpoint exists, then a random moment more.
        let start = Instant::now();
        while !path.exists() && start.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(1..40)));
        // The child must still be training when it is killed: one that failed an assertion and
        // exited would leave a checkpoint that proves nothing.
        assert!(
            child.try_wait().unwrap().is_none(),
            "round {round}: the child stopped by itself"
        );
        child.kill().unwrap(); // SIGKILL on Unix: no destructor, no flush
        let status = child.wait().unwrap();
        #[cfg(unix)]
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9),
            "round {round}: {status:?}"
        );
        let bytes = std::fs::read(&path).unwrap();
        let (mut trainer, extra) = load_training(model(), &bytes)
            .unwrap_or_else(|e| panic!("round {round}: the checkpoint on disk does not load: {e}"));
        assert_eq!(extra["steps"].as_u64().unwrap(), trainer.steps());
        assert!(trainer.steps() >= 1);
        last_steps = trainer.steps();
        // The file is exactly the state after that many steps, not a mix of two saves: a replay
        // of the child's deterministic run reaches the same weights bit for bit.
        let mut replay = self::trainer();
        while replay.steps() < last_steps {
            replay.step(&batch(replay.steps())).unwrap();
        }
        assert_eq!(
            weights(trainer.model()),
            weights(replay.model()),
            "round {round}: the checkpoint of step {last_steps} is not that step's state"
        );
        // And training resumes from it.
        let s = trainer.step(&batch(trainer.steps())).unwrap();
        assert_eq!(s.step, last_steps + 1);
        std::fs::remove_file(&path).unwrap();
    }
    assert!(last_steps >= 1);
    // No temporary files are left behind by completed saves... killed ones may leave theirs, which
    // never replace the checkpoint.
    std::fs::remove_dir_all(&dir).unwrap();
}
