//! Every PyTorch case in `tests/fixtures/torch/` through the interop path: a stack built from the
//! case's `state_dict` (mode, sizes, depth and directions inferred from names and shapes) matches
//! PyTorch's outputs, `h_n`, `c_n` and every gradient to 1e-9. Drop a new `.safetensors` case into
//! the folder and it is tested; `fixtures/README.md` there says what a case holds.

mod common;

use common::{assert_close, fixture_dir};
use rnnzoo_cell::{Cell, CellError};
use rnnzoo_layers::file::{FileError, Tensors};
use rnnzoo_layers::torch::{load_stack, to_torch_bytes, CellSpec};
use rnnzoo_layers::{Inputs, Layer};
use rnnzoo_vanilla::Nonlinearity;

const TOL: f64 = 1e-9;

fn factory(spec: &CellSpec) -> Result<Box<dyn Cell<f64>>, CellError> {
    common::torch_factory(spec)
}

/// The modes rnnzoo's cells share with PyTorch (the zoo's registry lists them for users;
/// `rnnzoo-layers` cannot depend on it).
const TORCH_MODES: [&str; 4] = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"];

/// The case's cells: its `nonlinearity` metadata says relu or tanh for an `nn.RNN`.
fn case_factory(case: &Tensors) -> impl Fn(&CellSpec) -> Result<Box<dyn Cell<f64>>, CellError> {
    let nl = match case.metadata.get("nonlinearity").map(String::as_str) {
        Some("relu") => Nonlinearity::Relu,
        _ => Nonlinearity::Tanh,
    };
    move |spec| common::torch_cell(spec, nl)
}

/// The case's parameters alone: what `state_dict()` holds. The fixture's `nonlinearity`
/// metadata rides along, as rnnzoo's own files carry `mode`.
fn state_dict(case: &Tensors) -> Tensors {
    let mut sd = Tensors::default();
    for (name, t) in &case.tensors {
        if name.starts_with("weight_") || name.starts_with("bias_") {
            sd.tensors.insert(name.clone(), t.clone());
        }
    }
    if let Some(n) = case.metadata.get("nonlinearity") {
        sd.metadata.insert("nonlinearity".into(), n.clone());
    }
    sd
}

fn check_case(path: &std::path::Path) {
    let case = Tensors::read(path, true).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let get = |n: &str| case.tensors[n].to_vec::<f64>();
    let (spec, stack) = load_stack(&state_dict(&case), case_factory(&case)).unwrap();
    let meta = |k: &str| case.metadata[k].parse::<usize>().unwrap();
    assert_eq!(spec.num_layers, meta("num_layers"), "{name}");
    assert_eq!(spec.hidden_size, meta("hidden_size"), "{name}");
    assert_eq!(spec.input_size, meta("input_size"), "{name}");
    assert_eq!(
        spec.bidirectional,
        case.metadata["bidirectional"] == "true",
        "{name}"
    );
    let (t, b) = (meta("seq_len"), meta("batch"));
    let lengths: Option<Vec<usize>> = case
        .tensors
        .get("lengths")
        .map(|l| l.to_vec::<f64>().iter().map(|&v| v as usize).collect());
    let c0 = case.tensors.get("c0").map(|c| c.to_vec::<f64>());
    let init = spec
        .state_from_torch::<f64>(&get("h0"), c0.as_deref(), b)
        .unwrap();
    let x = get("input");
    let mut inputs = Inputs::new(&x, t, b).initial(&init);
    if let Some(l) = &lengths {
        inputs = inputs.lengths(l);
    }
    let (out, tape) = stack.forward(inputs, None).unwrap();
    assert_close(&format!("{name} output"), &out.output, &get("output"), TOL);
    let (h_n, c_n) = spec.state_to_torch(&out.final_state, b).unwrap();
    assert_close(&format!("{name} h_n"), &h_n, &get("h_n"), TOL);
    if let Some(c_n) = c_n {
        assert_close(&format!("{name} c_n"), &c_n, &get("c_n"), TOL);
    }
    // Inference gives the same numbers without a tape.
    assert_eq!(stack.infer(inputs).unwrap(), out);

    let dc = case.tensors.get("dc_n").map(|c| c.to_vec::<f64>());
    let d_final = spec
        .state_from_torch::<f64>(&get("dh_n"), dc.as_deref(), b)
        .unwrap();
    let mut grads = stack.zero_grads();
    let g = stack
        .backward(&tape, &get("dout"), Some(&d_final), &mut grads)
        .unwrap();
    assert_close(
        &format!("{name} grad.input"),
        &g.d_input,
        &get("grad.input"),
        TOL,
    );
    let (dh0, dc0) = spec.state_to_torch(&g.d_initial, b).unwrap();
    assert_close(&format!("{name} grad.h0"), &dh0, &get("grad.h0"), TOL);
    if let Some(dc0) = dc0 {
        assert_close(&format!("{name} grad.c0"), &dc0, &get("grad.c0"), TOL);
    }
    let mut checked = 0;
    for (group, pg) in grads.iter().zip(stack.param_groups()) {
        for p in group.iter() {
            let torch_name = format!("grad.{}{}", p.name(), pg.suffix);
            assert_close(
                &format!("{name} {torch_name}"),
                p.data(),
                &get(&torch_name),
                TOL,
            );
            checked += 1;
        }
    }
    assert_eq!(
        checked,
        state_dict(&case).tensors.len(),
        "{name}: every parameter's gradient compared"
    );
}

#[test]
fn every_pytorch_case_matches() {
    let mut files: Vec<_> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
        .collect();
    files.sort();
    assert!(files.len() >= 9, "the fixture folder lost cases: {files:?}");
    for f in &files {
        check_case(f);
    }
}

#[test]
fn saving_round_trips_every_parameter_exactly() {
    for file in [
        "lstm_2l_bidir.safetensors",
        "rnn_tanh_3l.safetensors",
        "gru_lengths.safetensors",
    ] {
        let case = Tensors::read(&fixture_dir().join(file), true).unwrap();
        let sd = state_dict(&case);
        let (spec, stack) = load_stack(&sd, factory).unwrap();
        let bytes = to_torch_bytes(&stack, &TORCH_MODES).unwrap();
        let back = Tensors::parse(&bytes, false).unwrap();
        assert_eq!(back.tensors, sd.tensors, "{file}");
        assert_eq!(back.metadata["mode"], stack.param_groups()[0].mode);
        assert_eq!(back.metadata["num_layers"], spec.num_layers.to_string());
        let (spec2, _) = load_stack(&back, factory).unwrap();
        assert_eq!(spec, spec2);
    }
}

fn lstm_dict() -> Tensors {
    state_dict(&Tensors::read(&fixture_dir().join("lstm_2l_bidir.safetensors"), true).unwrap())
}

#[test]
fn a_missing_tensor_or_a_wrong_shape_is_named() {
    let mut sd = lstm_dict();
    sd.tensors.remove("bias_hh_l1_reverse");
    match load_stack(&sd, factory) {
        Err(FileError::Missing { name }) => assert_eq!(name, "bias_hh_l1_reverse"),
        other => panic!("{:?}", other.err()),
    }
    let mut sd = lstm_dict();
    sd.tensors.get_mut("weight_ih_l1").unwrap().shape = vec![16, 7];
    assert!(
        matches!(load_stack(&sd, factory), Err(FileError::Shape { name, .. }) if name == "weight_ih_l1")
    );
    let mut sd = lstm_dict();
    let w = sd.tensors["weight_ih_l0"].clone();
    sd.tensors.insert("weight_hr_l0".into(), w.clone());
    assert!(matches!(
        load_stack(&sd, factory),
        Err(FileError::Unsupported(_))
    ));
    let mut sd = lstm_dict();
    sd.tensors.insert("running_mean".into(), w);
    assert!(
        matches!(load_stack(&sd, factory), Err(FileError::Unexpected { name }) if name == "running_mean")
    );
}

#[test]
fn damaged_files_are_refused() {
    let (_, stack) = load_stack(&lstm_dict(), factory).unwrap();
    let bytes = to_torch_bytes(&stack, &TORCH_MODES).unwrap();
    for cut in [0, 4, 8, 20, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            matches!(
                Tensors::parse(&bytes[..cut], false),
                Err(FileError::Truncated { expected, got }) if got == cut && expected > cut
            ),
            "cut at {cut}"
        );
    }
    // An enormous header length must not allocate: it is refused against the file's size.
    let mut huge = bytes.clone();
    huge[..8].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    assert!(matches!(
        Tensors::parse(&huge, false),
        Err(FileError::Format(_))
    ));
    // Flipped bytes in the header break its JSON or its offsets.
    let mut flipped = bytes.clone();
    for i in (9..40).step_by(3) {
        flipped[i] ^= 0x5a;
    }
    assert!(Tensors::parse(&flipped, false).is_err());
}

#[test]
fn a_state_of_the_wrong_size_is_an_error() {
    let (spec, _) = load_stack(&lstm_dict(), factory).unwrap();
    let b = 3;
    let right = vec![0.0f64; spec.num_layers * spec.dirs() * 2 * spec.hidden_size * b];
    let (h, c) = spec.state_to_torch(&right, b).unwrap();
    assert_eq!(
        (h.len(), c.map(|c| c.len())),
        (right.len() / 2, Some(right.len() / 2))
    );
    for len in [0, right.len() - 1, right.len() + 1, right.len() / 2] {
        assert!(
            matches!(
                spec.state_to_torch(&vec![0.0f64; len], b),
                Err(FileError::Shape { name, .. }) if name == "state"
            ),
            "{len} values"
        );
    }
}

#[test]
fn prefixed_names_name_the_prefix_to_strip() {
    let mut sd = Tensors::default();
    for (k, v) in lstm_dict().tensors {
        sd.tensors.insert(format!("lstm.{k}"), v);
    }
    match load_stack(&sd, factory) {
        Err(FileError::Unsupported(m)) => {
            assert!(
                m.contains("prefix `lstm.`") && m.contains("weight_ih_l0"),
                "{m}"
            )
        }
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn a_cell_whose_state_is_not_the_modules_is_refused() {
    // A GRU state_dict handed to a factory that makes LSTM cells of the same names: the shapes
    // would not fit anyway, but the state size is checked first and named.
    let gru = state_dict(&Tensors::read(&fixture_dir().join("gru_1l.safetensors"), true).unwrap());
    let lstm_factory = |s: &CellSpec| common::torch_factory::<f64>(&CellSpec { gates: 4, ..*s });
    assert!(matches!(
        load_stack(&gru, lstm_factory),
        Err(FileError::Unsupported(m)) if m.contains("state rows")
    ));
}
