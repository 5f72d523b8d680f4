//! `rnnzoo inspect`'s summaries (rnnzoo_bench::inspect).

use std::path::Path;

use rnnzoo::layers::file::Tensors;
use rnnzoo::torch::{self, TorchOptions};
use rnnzoo_bench::inspect::*;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../layers/tests/fixtures")
        .join(name)
}

#[test]
fn a_state_dict_is_summarised() {
    // The fixture holds parameters and the case's tensors; inspect sees a state_dict whose
    // extra tensors keep it from being one module, so build a clean one first.
    let t = Tensors::read(&fixture("torch/lstm_2l_bidir.safetensors"), true).unwrap();
    let mut sd = Tensors::default();
    for (k, v) in t
        .tensors
        .iter()
        .filter(|(k, _)| k.starts_with("weight_") || k.starts_with("bias_"))
    {
        sd.tensors.insert(k.clone(), v.clone());
    }
    let refs: Vec<(String, Vec<usize>, Vec<f64>)> = sd
        .tensors
        .iter()
        .map(|(k, v)| (k.clone(), v.shape.clone(), v.to_vec::<f64>()))
        .collect();
    let views: Vec<(String, Vec<usize>, &[f64])> = refs
        .iter()
        .map(|(k, s, v)| (k.clone(), s.clone(), v.as_slice()))
        .collect();
    let bytes = rnnzoo::layers::file::serialize(&views, Default::default()).unwrap();
    let path =
        std::env::temp_dir().join(format!("rnnzoo-inspect-{}.safetensors", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    let s = inspect(&path, &InspectOptions::default()).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(s.mode.as_deref(), Some("LSTM"));
    assert_eq!(
        (s.layers, s.directions, s.hidden_size, s.input_size),
        (Some(2), Some(2), Some(4), Some(3))
    );
    assert_eq!(s.kind, "state_dict");
    assert_eq!(
        s.parameters,
        sd.tensors.values().map(|t| t.len()).sum::<usize>()
    );
}

#[test]
fn a_projection_is_summarised_with_pytorchs_sizes() {
    let t = Tensors::read(
        &fixture("torch/lstm_proj_3l_bidir_lengths.safetensors"),
        true,
    )
    .unwrap();
    let mut sd = Tensors::default();
    for (k, v) in t
        .tensors
        .iter()
        .filter(|(k, _)| k.starts_with("weight_") || k.starts_with("bias_"))
    {
        sd.tensors.insert(k.clone(), v.clone());
    }
    let (_, stack) = torch::load_stack::<f64>(&sd, &TorchOptions::default()).unwrap();
    let path = std::env::temp_dir().join(format!(
        "rnnzoo-inspect-proj-{}.safetensors",
        std::process::id()
    ));
    torch::save(&stack, &path).unwrap();
    let s = inspect(&path, &InspectOptions::default()).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        (s.mode.as_deref(), s.cell.as_deref()),
        (Some("LSTM"), Some("lstm-proj"))
    );
    assert_eq!(
        (
            s.layers,
            s.directions,
            s.hidden_size,
            s.proj_size,
            s.input_size
        ),
        (Some(3), Some(2), Some(5), Some(2), Some(2))
    );
    assert!(s.to_string().contains("projection  2"), "{s}");
    // A plain LSTM has no projection line.
    let plain = Tensors::read(&fixture("torch/lstm_1l.safetensors"), true).unwrap();
    let mut sd = Tensors::default();
    for (k, v) in plain
        .tensors
        .iter()
        .filter(|(k, _)| k.starts_with("weight_") || k.starts_with("bias_"))
    {
        sd.tensors.insert(k.clone(), v.clone());
    }
    let (_, stack) = torch::load_stack::<f64>(&sd, &TorchOptions::default()).unwrap();
    let path = std::env::temp_dir().join(format!(
        "rnnzoo-inspect-plain-{}.safetensors",
        std::process::id()
    ));
    torch::save(&stack, &path).unwrap();
    let s = inspect(&path, &InspectOptions::default()).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!((s.cell.as_deref(), s.proj_size), (Some("lstm"), None));
    assert!(!s.to_string().contains("projection"), "{s}");
}

#[test]
fn damaged_files_are_errors() {
    for f in std::fs::read_dir(fixture("fuzz")).unwrap() {
        let path = f.unwrap().path();
        if let Ok(s) = inspect(&path, &InspectOptions::default()) {
            assert!(s.mode.is_none(), "{}: {s:?}", path.display());
        }
    }
    assert!(
        inspect(
            Path::new("/nonexistent/file.safetensors"),
            &InspectOptions::default()
        )
        .is_err()
    );
}
