//! `rnnzoo_layers::torch` with a factory of concrete cells: every PyTorch case in
//! `tests/fixtures/torch/` (drop a new `.safetensors` case there and it is tested, no code change)
//! matches PyTorch's outputs, `h_n`, `c_n` and every gradient to 1e-9 and saves back exactly,
//! projections (`proj_size`) included; and the path's refusals: missing tensors, wrong shapes,
//! projections PyTorch would not build, damaged files, wrong-sized states, prefixed names, a cell
//! whose state is not the module's. The same cases through the registry's loader are
//! `rnnzoo/tests/torch.rs`, over `rnnzoo/tests/fixtures/torch/` (a copy of this folder).

use crate::common::fixture_dir;
use rnnzoo_cell::{Cell, CellError};
use rnnzoo_gru::GruCell;
use rnnzoo_layers::file::{FileError, Tensor, Tensors};
use rnnzoo_layers::torch::{CellSpec, TorchSpec, load_stack, to_torch_bytes};
use rnnzoo_layers::{Inputs, Layer, Recurrent, Stack};
use rnnzoo_lstm::{LstmCell, LstmProjCell};
use rnnzoo_vanilla::{Nonlinearity, VanillaCell};

/// The LSTM cells of the case `lstm_dict` reads, parameters zero.
fn factory(spec: &CellSpec) -> Result<Box<dyn Cell<f64>>, CellError> {
    Ok(Box::new(LstmCell::zeros(
        spec.input,
        spec.hidden,
        spec.bias,
    )?))
}

fn gru_factory(spec: &CellSpec) -> Result<Box<dyn Cell<f64>>, CellError> {
    Ok(Box::new(GruCell::zeros(
        spec.input,
        spec.hidden,
        spec.bias,
    )?))
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

fn lstm_dict() -> Tensors {
    state_dict(&Tensors::read(&fixture_dir().join("lstm_2l_bidir.safetensors"), true).unwrap())
}

fn proj_dict() -> Tensors {
    state_dict(&Tensors::read(&fixture_dir().join("lstm_proj_2l_bidir.safetensors"), true).unwrap())
}

/// Every `.safetensors` case of the folder, sorted: the loop that tests a dropped-in case.
fn cases() -> Vec<(String, Tensors)> {
    let mut paths: Vec<_> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 13,
        "the fixture folder lost cases: {paths:?}"
    );
    paths
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, Tensors::read(p, true).unwrap())
        })
        .collect()
}

/// The concrete cell PyTorch's module of a case is: its class from the gate count and the
/// projection, an `nn.RNN`'s nonlinearity from the case's metadata.
fn any_factory(
    case: &Tensors,
) -> impl Fn(&CellSpec) -> Result<Box<dyn Cell<f64>>, CellError> + use<> {
    let relu = case.metadata.get("nonlinearity").map(String::as_str) == Some("relu");
    move |s: &CellSpec| -> Result<Box<dyn Cell<f64>>, CellError> {
        let n = if relu {
            Nonlinearity::Relu
        } else {
            Nonlinearity::Tanh
        };
        Ok(match (s.gates, s.proj) {
            (1, 0) => Box::new(VanillaCell::zeros(s.input, s.hidden, n, s.bias)?),
            (3, 0) => Box::new(GruCell::zeros(s.input, s.hidden, s.bias)?),
            (4, 0) => Box::new(LstmCell::zeros(s.input, s.hidden, s.bias)?),
            (4, p) => Box::new(LstmProjCell::zeros(s.input, s.hidden, p, s.bias)?),
            _ => return Err(CellError::Mismatch(format!("no module {s:?}"))),
        })
    }
}

fn close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-9, "{what}[{k}]: {g} vs {w}");
    }
}

/// The case's forward and backward through `stack`: output, `h_n`, `c_n`, and the gradients of
/// the input, `h0`, `c0` and every parameter, against PyTorch's, to 1e-9.
fn matches_pytorch(name: &str, case: &Tensors, spec: &TorchSpec, stack: &Stack<f64>) {
    let meta = |k: &str| case.metadata[k].parse::<usize>().unwrap();
    let (t, b) = (meta("seq_len"), meta("batch"));
    assert_eq!(
        (spec.input_size, spec.hidden_size, spec.num_layers),
        (meta("input_size"), meta("hidden_size"), meta("num_layers")),
        "{name}"
    );
    let proj = case
        .metadata
        .get("proj_size")
        .map_or(0, |p| p.parse().unwrap());
    assert_eq!(spec.proj_size, proj, "{name}");
    let get = |n: &str| case.tensors[n].to_vec::<f64>();
    let opt = |n: &str| case.tensors.get(n).map(Tensor::to_vec::<f64>);
    let init = spec
        .state_from_torch::<f64>(&get("h0"), opt("c0").as_deref(), b)
        .unwrap();
    let lengths: Option<Vec<usize>> =
        opt("lengths").map(|l| l.iter().map(|&v| v as usize).collect());
    let x = get("input");
    let mut inputs = Inputs::new(&x, t, b).initial(&init);
    if let Some(l) = &lengths {
        inputs = inputs.lengths(l);
    }
    let (out, tape) = stack.forward(inputs, None).unwrap();
    close(&format!("{name} output"), &out.output, &get("output"));
    let (h_n, c_n) = spec.state_to_torch(&out.final_state, b).unwrap();
    close(&format!("{name} h_n"), &h_n, &get("h_n"));
    assert_eq!(c_n.is_some(), case.tensors.contains_key("c_n"), "{name}");
    if let Some(c_n) = c_n {
        close(&format!("{name} c_n"), &c_n, &get("c_n"));
    }
    let d_final = spec
        .state_from_torch::<f64>(&get("dh_n"), opt("dc_n").as_deref(), b)
        .unwrap();
    let mut grads = stack.zero_grads();
    let g = stack
        .backward(&tape, &get("dout"), Some(&d_final), &mut grads)
        .unwrap();
    close(
        &format!("{name} grad.input"),
        &g.d_input,
        &get("grad.input"),
    );
    let (dh0, dc0) = spec.state_to_torch(&g.d_initial, b).unwrap();
    close(&format!("{name} grad.h0"), &dh0, &get("grad.h0"));
    if let Some(dc0) = dc0 {
        close(&format!("{name} grad.c0"), &dc0, &get("grad.c0"));
    }
    let mut checked = 0;
    for (group, pg) in grads.iter().zip(stack.param_groups()) {
        for p in group.iter() {
            let torch_name = format!("grad.{}{}", p.name(), pg.suffix);
            close(&format!("{name} {torch_name}"), p.data(), &get(&torch_name));
            checked += 1;
        }
    }
    assert_eq!(
        checked,
        state_dict(case).tensors.len(),
        "{name}: every parameter's gradient compared"
    );
}

#[test]
fn every_case_in_the_folder_matches_pytorch_and_saves_back() {
    let mut projections = 0;
    for (name, case) in cases() {
        let sd = state_dict(&case);
        let (spec, stack) = load_stack(&sd, any_factory(&case)).unwrap();
        matches_pytorch(&name, &case, &spec, &stack);
        // Saved back: the same tensors, and PyTorch's sizes in the metadata.
        let modes: Vec<&str> = stack.param_groups().iter().map(|g| g.mode).collect();
        let back = Tensors::parse(&to_torch_bytes(&stack, &modes).unwrap(), false).unwrap();
        assert_eq!(back.tensors, sd.tensors, "{name}");
        assert_eq!(
            back.metadata["hidden_size"], case.metadata["hidden_size"],
            "{name}"
        );
        assert_eq!(
            back.metadata.get("proj_size"),
            case.metadata.get("proj_size"),
            "{name}"
        );
        assert_eq!(TorchSpec::infer(&back).unwrap(), spec, "{name}");
        projections += usize::from(spec.proj_size > 0);
    }
    assert!(projections >= 4, "the proj_size cases are gone");
}

#[test]
fn a_projection_pytorch_would_not_build_is_refused_and_named() {
    let refused = |sd: &Tensors, what: &str| match TorchSpec::infer(sd) {
        Err(FileError::Unsupported(m)) => assert!(m.contains(what), "{m}"),
        other => panic!("{what}: {other:?}"),
    };
    let (spec, _) = load_stack(&proj_dict(), any_factory(&Tensors::default())).unwrap();
    assert_eq!(
        (spec.hidden_size, spec.proj_size, spec.output_size()),
        (4, 3, 3)
    );
    assert_eq!(spec.cell_state_size(), 3 + 4);
    // proj_size must be below hidden_size: a square W_hr (and W_hh to match) is not nn.LSTM's.
    let mut sd = proj_dict();
    let w = Tensor::f64(vec![4, 4], vec![0.0; 16]);
    sd.tensors.insert("weight_hr_l0".into(), w);
    sd.tensors.insert(
        "weight_hh_l0".into(),
        Tensor::f64(vec![16, 4], vec![0.0; 64]),
    );
    refused(&sd, "0 < proj_size < hidden_size");
    // W_hh must read the projection.
    let mut sd = proj_dict();
    sd.tensors.insert(
        "weight_hh_l0".into(),
        Tensor::f64(vec![16, 4], vec![0.0; 64]),
    );
    refused(&sd, "reads the projection");
    // W_hr is a matrix.
    let mut sd = proj_dict();
    sd.tensors
        .insert("weight_hr_l0".into(), Tensor::f64(vec![12], vec![0.0; 12]));
    refused(&sd, "(proj_size, hidden_size)");
    // Only nn.LSTM projects: a GRU's weights beside a weight_hr.
    let mut gru =
        state_dict(&Tensors::read(&fixture_dir().join("gru_1l.safetensors"), true).unwrap());
    gru.tensors.insert(
        "weight_hh_l0".into(),
        Tensor::f64(vec![12, 2], vec![0.0; 24]),
    );
    gru.tensors
        .insert("weight_hr_l0".into(), Tensor::f64(vec![2, 4], vec![0.0; 8]));
    refused(&gru, "only nn.LSTM");
    // A projection on layer 0 only: layer 1's is missing, by name.
    let mut sd = proj_dict();
    sd.tensors.remove("weight_hr_l1_reverse");
    assert!(matches!(
        load_stack(&sd, any_factory(&Tensors::default())),
        Err(FileError::Missing { name }) if name == "weight_hr_l1_reverse"
    ));
    // A projection's file with a factory of plain LSTM cells: the state is not the module's.
    assert!(matches!(
        load_stack(&proj_dict(), factory),
        Err(FileError::Unsupported(m)) if m.contains("proj_size=3")
    ));
}

#[test]
fn a_projections_states_are_split_at_p_and_h() {
    let (spec, _) = load_stack(&proj_dict(), any_factory(&Tensors::default())).unwrap();
    let (k, b, p, h) = (4, 2, 3, 4);
    // Distinct values: h0[leaf, s, j] = 100 leaf + 10 s + j, c0 the same plus 1000.
    let h0: Vec<f64> = (0..k * b * p)
        .map(|n| (100 * (n / (b * p)) + 10 * (n / p % b) + n % p) as f64)
        .collect();
    let c0: Vec<f64> = (0..k * b * h)
        .map(|n| (1000 + 100 * (n / (b * h)) + 10 * (n / h % b) + n % h) as f64)
        .collect();
    let state = spec.state_from_torch::<f64>(&h0, Some(&c0), b).unwrap();
    // Leaf 1, sample 1: [h (P); c (H)].
    let col = &state[(b + 1) * (p + h)..][..p + h];
    assert_eq!(col, [110.0, 111.0, 112.0, 1110.0, 1111.0, 1112.0, 1113.0]);
    let (h_n, c_n) = spec.state_to_torch(&state, b).unwrap();
    assert_eq!((h_n, c_n), (h0.clone(), Some(c0.clone())));
    // c0 of h's width, or h0 of c's, is refused by name.
    assert!(matches!(
        spec.state_from_torch::<f64>(&h0, Some(&h0), b),
        Err(FileError::Shape { name, expected, .. }) if name == "c0" && expected == [k, b, h]
    ));
    assert!(matches!(
        spec.state_from_torch::<f64>(&c0, Some(&c0), b),
        Err(FileError::Shape { name, expected, .. }) if name == "h0" && expected == [k, b, p]
    ));
    assert!(matches!(
        spec.state_to_torch(&state[1..], b),
        Err(FileError::Shape { name, .. }) if name == "state"
    ));
}

#[test]
fn projections_of_different_sizes_do_not_save_as_one_module() {
    let layer = |input, h, p| -> Box<dyn Layer<f64>> {
        Box::new(Recurrent::new(
            LstmProjCell::<f64>::zeros(input, h, p, true).unwrap(),
        ))
    };
    let same = Stack::new(vec![layer(3, 5, 2), layer(2, 5, 2)]).unwrap();
    let bytes = to_torch_bytes(&same, &["LSTM_PROJ"]).unwrap();
    let t = Tensors::parse(&bytes, false).unwrap();
    assert_eq!(
        (
            t.metadata["hidden_size"].as_str(),
            t.metadata["proj_size"].as_str()
        ),
        ("5", "2")
    );
    for other in [layer(2, 6, 2), layer(2, 5, 1)] {
        let mixed = Stack::new(vec![layer(3, 5, 2), other]).unwrap();
        assert!(matches!(
            to_torch_bytes(&mixed, &["LSTM_PROJ"]),
            Err(FileError::Unsupported(m)) if m.contains("proj_size")
        ));
    }
    // Not in the list of PyTorch's modes: refused.
    assert!(matches!(
        to_torch_bytes(&same, &["LSTM"]),
        Err(FileError::Unsupported(_))
    ));
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
    // A weight_hr_l0 (16, 3) beside W_hh (16, 4): no projection nn.LSTM builds.
    sd.tensors.insert("weight_hr_l0".into(), w.clone());
    assert!(matches!(
        load_stack(&sd, factory),
        Err(FileError::Unsupported(m)) if m.contains("weight_hr_l0")
    ));
    // A projection on a layer above 0 only: no cell takes it.
    let mut sd = lstm_dict();
    sd.tensors.insert("weight_hr_l1".into(), w.clone());
    assert!(matches!(
        load_stack(&sd, factory),
        Err(FileError::Unexpected { name }) if name == "weight_hr_l1"
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
    let bytes = to_torch_bytes(&stack, &["LSTM"]).unwrap();
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
    assert!(load_stack(&gru, gru_factory).is_ok());
    assert!(matches!(
        load_stack(&gru, factory),
        Err(FileError::Unsupported(m)) if m.contains("state rows")
    ));
}
