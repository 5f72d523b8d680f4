//! The AVX2 path on an AVX-512 machine: this test binary runs itself as a child with
//! `RNNZOO_SIMD=avx2` (and `baseline`), which caps rnnzoo's own kernels (activations, the
//! batch-1 matrix-vector product) at that level, and compares an LSTM and a GRU layer's forward
//! and backward, f32, at batch 1 and 4, with the parent's run at the detected level.
//!
//! AVX2 and AVX-512 run the same IEEE operations in the same order, so their results agree bit
//! for bit; the baseline multiplies and adds separately where the others fuse, so it agrees to
//! rounding (1e-5 relative).

use std::process::Command;

use rnnzoo_cell::simd::{Level, level};
use rnnzoo_cell::{Cell, gradcheck::normal_vec, seeded};
use rnnzoo_gru::GruCell;
use rnnzoo_layers::{Inputs, Layer, Recurrent};
use rnnzoo_lstm::LstmCell;

const CHILD: &str = "RNNZOO_SIMD_CHILD_OUT";

/// Every value a forward and backward pass produce, for two cells at two batch sizes.
fn run_all() -> Vec<f32> {
    let mut all = Vec::new();
    for batch in [1, 4] {
        let cells: Vec<Box<dyn Cell<f32>>> = vec![
            Box::new(LstmCell::new(24, 40, &mut seeded(1)).unwrap()),
            Box::new(GruCell::new(24, 40, &mut seeded(2)).unwrap()),
        ];
        for cell in cells {
            let layer = Recurrent::new(cell);
            let steps = 7;
            let mut rng = seeded(3);
            let x: Vec<f32> = normal_vec(24 * steps * batch, &mut rng)
                .into_iter()
                .map(|v| 3.0 * v as f32) // well into the activations' saturating ranges
                .collect();
            let (out, tape) = layer.forward(Inputs::new(&x, steps, batch), None).unwrap();
            let d_out = vec![0.5f32; out.output.len()];
            let mut grads = layer.zero_grads();
            let g = layer.backward(&tape, &d_out, None, &mut grads).unwrap();
            all.extend(out.output);
            all.extend(out.final_state);
            all.extend(g.d_input);
            all.extend(
                grads
                    .iter()
                    .flat_map(|p| p.iter().flat_map(|q| q.data().to_vec())),
            );
        }
    }
    all
}

/// In the child: write the level and every value to the file named by the environment.
#[test]
fn child_writes_its_results() {
    let Ok(path) = std::env::var(CHILD) else {
        return;
    };
    let mut bytes = level().name().as_bytes().to_vec();
    bytes.push(b'\n');
    for v in run_all() {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

fn child(cap: &str) -> (String, Vec<f32>) {
    let path = std::env::temp_dir().join(format!("rnnzoo-simd-{cap}-{}", std::process::id()));
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_writes_its_results", "--test-threads", "1"])
        .env(CHILD, &path)
        .env("RNNZOO_SIMD", cap)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).ok();
    let nl = bytes.iter().position(|&b| b == b'\n').unwrap();
    let name = String::from_utf8(bytes[..nl].to_vec()).unwrap();
    let values = bytes[nl + 1..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    (name, values)
}

#[test]
fn capped_levels_compute_what_the_detected_one_does() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let here = run_all();
    let (name, avx2) = child("avx2");
    assert_eq!(
        name,
        Level::Avx2.min(Level::detected()).name(),
        "the cap did not apply"
    );
    assert_eq!(avx2.len(), here.len());
    if level() >= Level::Avx2 {
        // Bit for bit: compare the representations (NaN-safe).
        let same = avx2
            .iter()
            .zip(&here)
            .filter(|(a, b)| a.to_bits() == b.to_bits())
            .count();
        assert_eq!(
            same,
            here.len(),
            "avx2 differs from {} in {} values",
            level().name(),
            here.len() - same
        );
    }
    let (name, base) = child("baseline");
    assert_eq!(name, "baseline");
    for (k, (a, b)) in base.iter().zip(&here).enumerate() {
        assert!(
            (a - b).abs() <= 1e-5 * (1.0 + b.abs()),
            "value {k}: baseline {a}, detected {b}"
        );
    }
}
