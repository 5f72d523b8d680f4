//! The interop path's refusals (`rnnzoo_layers::torch` on a PyTorch LSTM case, with a factory of
//! concrete cells): missing tensors, wrong shapes, damaged files, wrong-sized states, prefixed
//! names, a cell whose state is not the module's. Every PyTorch case through the registry's loader
//! (outputs, `h_n`, `c_n` and every gradient to 1e-9, saving back exactly) is
//! `rnnzoo/tests/torch.rs`, over `rnnzoo/tests/fixtures/torch/`.

mod common;

use common::fixture_dir;
use rnnzoo_cell::{Cell, CellError};
use rnnzoo_gru::GruCell;
use rnnzoo_layers::file::{FileError, Tensors};
use rnnzoo_layers::torch::{load_stack, to_torch_bytes, CellSpec};
use rnnzoo_lstm::LstmCell;

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
