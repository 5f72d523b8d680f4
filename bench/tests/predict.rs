//! `rnnzoo predict` as a service engineer scripts it: every PyTorch fixture (RNN tanh and relu,
//! LSTM with and without a projection, GRU; 1 to 3 layers, both directions, lengths, initial
//! states) split into the `state_dict` PyTorch saves and an input file, run through the program,
//! and its `output`, `h_n`, `c_n` compared with PyTorch's to 1e-9 in f64. And the refusals: a
//! wrong width, a misshapen tensor, lengths that do not fit, no `input`, a `c0` for a GRU.
//!
//! Each fixture holds the module's parameters, its inputs and what PyTorch 2.15 returned (its
//! metadata records the version). A case with lengths holds PyTorch's packed-sequence results
//! (padded outputs zero, its metadata says); `layers/tests/fixtures/torch/generate.py`'s `run`
//! shows how, for the projection LSTMs:
//!
//! ```python
//! packed = pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False)
//! out, (h_n, c_n) = lstm(packed, (h0, c0))
//! out, _ = pad_packed_sequence(out, total_length=x.shape[0])
//! ```

use crate::common::{npy_f64, ok, refused, rnnzoo};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use rnnzoo::layers::file::{Tensor, TensorData, Tensors};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../layers/tests/fixtures/torch")
}

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("rnnzoo-predict-{}-{name}", std::process::id()))
}

/// Writes `tensors` (any of F32, F64, I64) with the safetensors crate's own writer, as PyTorch's
/// `save_file` would.
fn write(path: &Path, tensors: &[(&str, &Tensor)], metadata: HashMap<String, String>) {
    let bytes: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(n, t)| {
            let (dtype, b) = match &t.data {
                TensorData::F64(v) => (
                    safetensors::Dtype::F64,
                    v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                ),
                TensorData::F32(v) => (
                    safetensors::Dtype::F32,
                    v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                ),
                TensorData::I64(v) => (
                    safetensors::Dtype::I64,
                    v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                ),
            };
            (n.to_string(), dtype, t.shape.clone(), b)
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = bytes
        .iter()
        .map(|(n, d, s, b)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap(),
            )
        })
        .collect();
    std::fs::write(path, safetensors::serialize(views, Some(metadata)).unwrap()).unwrap();
}

/// The fixture's `state_dict` (bare names, an `nn.RNN`'s nonlinearity in the metadata as rnnzoo
/// documents it) and its input file (`input`, `lengths`, `h0`, `c0` where the case has them).
fn split(case: &Tensors, name: &str) -> (PathBuf, PathBuf) {
    let weights = tmp(&format!("{name}-weights.safetensors"));
    let params: Vec<(&str, &Tensor)> = case
        .tensors
        .iter()
        .filter(|(k, _)| k.starts_with("weight_") || k.starts_with("bias_"))
        .map(|(k, t)| (k.as_str(), t))
        .collect();
    let mut meta = HashMap::new();
    if let Some(n) = case.metadata.get("nonlinearity").filter(|n| !n.is_empty()) {
        meta.insert("nonlinearity".to_string(), n.clone());
    }
    write(&weights, &params, meta);
    let input = tmp(&format!("{name}-input.safetensors"));
    let inputs: Vec<(&str, &Tensor)> = ["input", "lengths", "h0", "c0"]
        .into_iter()
        .filter_map(|k| case.tensors.get(k).map(|t| (k, t)))
        .collect();
    write(&input, &inputs, HashMap::new());
    (weights, input)
}

fn run(args: &[&std::ffi::OsStr]) -> Output {
    rnnzoo().arg("predict").args(args).output().unwrap()
}

fn close(what: &str, got: &Tensor, want: &Tensor) {
    assert_eq!(got.shape, want.shape, "{what}: shape");
    let (g, w) = (got.to_vec::<f64>(), want.to_vec::<f64>());
    for (k, (a, b)) in g.iter().zip(&w).enumerate() {
        assert!((a - b).abs() <= 1e-9, "{what}[{k}]: {a} vs PyTorch {b}");
    }
}

#[test]
fn predict_matches_pytorch_on_every_fixture() {
    let mut cases = 0;
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "safetensors") {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let case = Tensors::read(&path, true).unwrap();
        let (weights, input) = split(&case, &name);
        let output = tmp(&format!("{name}-output.safetensors"));
        let out = run(&[
            "--weights".as_ref(),
            weights.as_os_str(),
            "--input".as_ref(),
            input.as_os_str(),
            "--output".as_ref(),
            output.as_os_str(),
            "--json".as_ref(),
        ]);
        ok(&out);
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(summary["dtype"], "f64", "{name}: the input's dtype");
        assert_eq!(
            summary["lengths"].as_str(),
            case.tensors.contains_key("lengths").then_some("file"),
            "{name}"
        );
        let got = Tensors::read(&output, false).unwrap();
        for t in ["output", "h_n", "c_n"] {
            match case.tensors.get(t) {
                Some(want) => close(&format!("{name} {t}"), &got.tensors[t], want),
                None => assert!(!got.tensors.contains_key(t), "{name}: {t} written"),
            }
        }
        for p in [weights, input, output] {
            let _ = std::fs::remove_file(p);
        }
        cases += 1;
    }
    assert!(cases >= 13, "only {cases} fixtures");
}

/// The `lengths` of a fixture given as a flag instead of in the file give the same result; a
/// flag overrides the file's, and `--dtype f32` computes and writes in f32.
#[test]
fn the_lengths_flag_overrides_the_file_and_the_dtype_flag_is_obeyed() {
    let case = Tensors::read(&fixtures().join("gru_lengths.safetensors"), true).unwrap();
    let lengths: Vec<String> = case.tensors["lengths"]
        .to_vec::<f64>()
        .iter()
        .map(|l| (*l as usize).to_string())
        .collect();
    let mut no_lengths = case.clone();
    no_lengths.tensors.remove("lengths");
    let (weights, input) = split(&no_lengths, "flag");
    let output = tmp("flag-output.safetensors");
    let args = |extra: &[&str]| {
        let mut a: Vec<std::ffi::OsString> = vec![
            "--weights".into(),
            weights.clone().into(),
            "--input".into(),
            input.clone().into(),
            "--output".into(),
            output.clone().into(),
        ];
        a.extend(extra.iter().map(Into::into));
        a
    };
    let joined = lengths.join(",");
    let out = rnnzoo()
        .arg("predict")
        .args(args(&["--lengths", &joined]))
        .output()
        .unwrap();
    ok(&out);
    let got = Tensors::read(&output, false).unwrap();
    close("output", &got.tensors["output"], &case.tensors["output"]);
    close("h_n", &got.tensors["h_n"], &case.tensors["h_n"]);

    // Without the lengths the padded steps are read as data: the result differs.
    ok(&rnnzoo().arg("predict").args(args(&[])).output().unwrap());
    let full = Tensors::read(&output, false).unwrap();
    let (a, b) = (
        full.tensors["h_n"].to_vec::<f64>(),
        case.tensors["h_n"].to_vec::<f64>(),
    );
    assert!(a.iter().zip(&b).any(|(x, y)| (x - y).abs() > 1e-6));

    ok(&rnnzoo()
        .arg("predict")
        .args(args(&["--lengths", &joined, "--dtype", "f32"]))
        .output()
        .unwrap());
    let f32_out = Tensors::read(&output, false).unwrap();
    assert_eq!(f32_out.tensors["h_n"].dtype(), "F32");
    let (g, w) = (
        f32_out.tensors["h_n"].to_vec::<f64>(),
        case.tensors["h_n"].to_vec::<f64>(),
    );
    assert!(g.iter().zip(&w).all(|(a, b)| (a - b).abs() < 1e-5));
    for p in [weights, input, output] {
        let _ = std::fs::remove_file(p);
    }
}

/// An `.npy` input (here a hand-written version 1.0 file, as `np.save` writes it) runs like the
/// same values in a safetensors file.
#[test]
fn an_npy_input_runs_like_the_same_safetensors_input() {
    let case = Tensors::read(&fixtures().join("lstm_1l.safetensors"), true).unwrap();
    let mut zero_state = case.clone();
    for k in ["h0", "c0"] {
        zero_state.tensors.remove(k);
    }
    let (weights, input) = split(&zero_state, "npy");
    let x = &case.tensors["input"];
    let npy = tmp("npy-input.npy");
    std::fs::write(&npy, npy_f64(&x.shape, &x.to_vec::<f64>())).unwrap();

    let from_npy = tmp("npy-out-a.safetensors");
    let from_st = tmp("npy-out-b.safetensors");
    for (inp, outp) in [(&npy, &from_npy), (&input, &from_st)] {
        ok(&run(&[
            "--weights".as_ref(),
            weights.as_os_str(),
            "--input".as_ref(),
            inp.as_os_str(),
            "--output".as_ref(),
            outp.as_os_str(),
        ]));
    }
    let (a, b) = (
        Tensors::read(&from_npy, false).unwrap(),
        Tensors::read(&from_st, false).unwrap(),
    );
    assert_eq!(a.tensors, b.tensors);
    // A damaged .npy is an error naming the file.
    std::fs::write(&npy, b"\x93NUMPY\x01\x00garbage").unwrap();
    let err = refused(&run(&[
        "--weights".as_ref(),
        weights.as_os_str(),
        "--input".as_ref(),
        npy.as_os_str(),
        "--output".as_ref(),
        from_npy.as_os_str(),
    ]));
    assert!(err.contains("npy-input.npy"), "{err}");
    for p in [weights, input, npy, from_npy, from_st] {
        let _ = std::fs::remove_file(p);
    }
}

#[test]
fn bad_inputs_are_errors_that_say_what_was_expected_and_what_came() {
    let case = Tensors::read(&fixtures().join("gru_lengths.safetensors"), true).unwrap();
    let (weights, _) = split(&case, "bad");
    let output = tmp("bad-output.safetensors");
    let x = case.tensors["input"].clone();
    let (t, b, f) = (x.shape[0], x.shape[1], x.shape[2]);
    let try_input = |tensors: &[(&str, &Tensor)], extra: &[&str]| -> String {
        let input = tmp("bad-input.safetensors");
        write(&input, tensors, HashMap::new());
        let mut cmd = rnnzoo();
        cmd.arg("predict")
            .arg("--weights")
            .arg(&weights)
            .arg("--input")
            .arg(&input)
            .arg("--output")
            .arg(&output)
            .args(extra);
        refused(&cmd.output().unwrap())
    };
    // The wrong width: the message gives both.
    let wide = Tensor::f64(vec![t, b, f + 1], vec![0.1; t * b * (f + 1)]);
    let err = try_input(&[("input", &wide)], &[]);
    assert!(
        err.contains(&format!("{} features", f + 1)) && err.contains(&format!("input_size is {f}")),
        "{err}"
    );
    // Two dimensions.
    let flat = Tensor::f64(vec![t, b * f], x.to_vec::<f64>());
    let err = try_input(&[("input", &flat)], &[]);
    assert!(err.contains("(T, B, F)"), "{err}");
    // No `input` tensor: the names found are listed.
    let err = try_input(&[("x", &x)], &[]);
    assert!(err.contains("`input`") && err.contains("\"x\""), "{err}");
    // Lengths past T, or of another batch, from the file or the flag.
    let long = Tensor {
        shape: vec![b],
        data: TensorData::I64(vec![t as i64 + 1; b]),
    };
    let err = try_input(&[("input", &x), ("lengths", &long)], &[]);
    assert!(err.contains(&format!("1..={t}")), "{err}");
    let err = try_input(&[("input", &x)], &["--lengths", "1"]);
    assert!(err.contains(&format!("{b} values")), "{err}");
    // lengths as floats: the type PyTorch uses is I64.
    let float_lengths = Tensor::f64(vec![b], vec![1.0; b]);
    let err = try_input(&[("input", &x), ("lengths", &float_lengths)], &[]);
    assert!(err.contains("`lengths`") && err.contains("I64"), "{err}");
    // A c0 for a GRU, an h0 of the wrong shape.
    let c0 = case.tensors["h0"].clone();
    let err = try_input(&[("input", &x), ("c0", &c0)], &[]);
    assert!(
        err.contains("`c0`") && err.contains("no cell state"),
        "{err}"
    );
    // (The case is a 2-layer GRU of hidden size 4.)
    let h0 = Tensor::f64(vec![2, b + 1, 4], vec![0.0; 2 * (b + 1) * 4]);
    let err = try_input(&[("input", &x), ("h0", &h0)], &[]);
    assert!(
        err.contains("`h0`") && err.contains(&format!("[2, {b}, 4]")),
        "{err}"
    );
    // A weights file that is not a recurrent module: the loader's message.
    let mut cmd = rnnzoo();
    let not_weights = tmp("bad-not-weights.safetensors");
    write(&not_weights, &[("input", &x)], HashMap::new());
    let err = refused(
        &cmd.arg("predict")
            .arg("--weights")
            .arg(&not_weights)
            .arg("--input")
            .arg(&not_weights)
            .arg("--output")
            .arg(&output)
            .output()
            .unwrap(),
    );
    assert!(err.contains("weight_ih_l0"), "{err}");
    assert!(!output.exists(), "a refused run wrote its output");
    for p in [weights, not_weights, tmp("bad-input.safetensors")] {
        let _ = std::fs::remove_file(p);
    }
}
