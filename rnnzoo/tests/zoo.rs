//! The registry: every entry builds in both dtypes, from a random source and as zeros, and is
//! what its metadata says (form, mode, gates, state layout); names, options and modes that do not
//! exist are typed errors that list what does.

use rnnzoo::cell::{Cell, CellError, StepForm, seeded};
use rnnzoo::zoo::{self, CellChoice, Form, MAX_OPTIONS, ZooError};

fn check_cell<T: rnnzoo::cell::Real>(e: &zoo::Entry, cell: &dyn Cell<T>, bias: bool) {
    let (i, h) = (3, 5);
    assert_eq!(
        (cell.input_size(), cell.hidden_size()),
        (i, h),
        "{}",
        e.name
    );
    assert_eq!(cell.mode(), e.cell_mode, "{}", e.name);
    // A projection (PyTorch's proj_size, `weight_hr (P, H)`): `h` is the hidden size `P` wide,
    // `c` and the gates `H` wide. Such a kind reports its own mode (PyTorch's is still `LSTM`).
    let cell_rows = cell.params().get("weight_hr").map(|w| w.shape()[1]);
    if let Some(m) = e.torch_mode.filter(|_| cell_rows.is_none()) {
        assert_eq!(
            m, e.cell_mode,
            "{}: a torch kind reports PyTorch's mode",
            e.name
        );
    }
    let form = match cell.form() {
        StepForm::Gated(_) => Form::Gated,
        StepForm::General(_) => Form::General,
        StepForm::Scan(_) => Form::Scan,
    };
    assert_eq!(form, e.form, "{}", e.name);
    let rows = cell_rows.unwrap_or(h);
    // One name per row block of the tensors that have blocks (built with input 3 and hidden 5,
    // SRU has its fourth, the highway projection), none where every tensor is one block.
    let blocks = cell.params().iter().map(|p| p.gates()).max().unwrap_or(1);
    if blocks > 1 {
        assert_eq!(e.gate_names.len(), blocks, "{}", e.name);
    } else {
        assert!(e.gate_names.is_empty(), "{}", e.name);
    }
    assert_eq!(
        cell.state_size(),
        h + (e.state.len() - 1) * rows,
        "{}",
        e.name
    );
    // A cell with PyTorch's weight set has `weight_hh` `(G*H, H)` (`(4H, P)` with a projection),
    // and `bias_ih` exactly when built with biases. A cell without `weight_hh` derives its
    // recurrent matrix from other parameters (exprnn: `exp(S)` from `skew_hh`, once per pass):
    // that takes a general step, and its one recurrent matrix is `G = 1`. A scan cell has no
    // recurrent matrix at all (lru: a diagonal `lambda` from `nu_log`, `theta_log`), `G = 1`.
    match cell.params().get("weight_hh") {
        Some(w_hh) => {
            // A scan cell's diagonal recurrence (IndRNN's `u`) keeps one weight per unit.
            if !(e.form == Form::Scan && w_hh.shape() == [e.gates * rows]) {
                assert_eq!(w_hh.shape(), [e.gates * rows, h], "{}", e.name);
            }
            assert_eq!(cell.params().get("bias_ih").is_some(), bias, "{}", e.name);
        }
        // A scan cell has no recurrent matrix: its weight_ih has whole H-row blocks (`gates`
        // of them, or more where the blocks depend on the sizes: SRU's highway projection).
        None if e.form == Form::Scan && cell.params().get("weight_ih").is_some() => {
            let w_ih = cell.params().get("weight_ih").expect("weight_ih");
            assert!(
                w_ih.shape()[0] % h == 0 && w_ih.shape()[0] >= e.gates * h,
                "{}",
                e.name
            );
            assert_eq!(cell.params().get("bias_ih").is_some(), bias, "{}", e.name);
        }
        None => assert!(
            matches!((e.form, e.gates), (Form::General | Form::Scan, 1)),
            "{}",
            e.name
        ),
    }
}

#[test]
fn every_entry_builds_and_is_what_it_says() {
    assert!(zoo::entries().len() >= 5);
    for e in zoo::entries() {
        let opts = zoo::Options::default();
        let c32 = e.build::<f32, _>(3, 5, &opts, &mut seeded(0)).unwrap();
        check_cell(e, c32.as_ref(), true);
        let c64 = e.build::<f64, _>(3, 5, &opts, &mut seeded(0)).unwrap();
        check_cell(e, c64.as_ref(), true);
        // A random build is not all zero; a zero build is, with or without biases.
        assert!(
            c64.params()
                .iter()
                .any(|p| p.data().iter().any(|&v| v != 0.0))
        );
        for bias in [true, false] {
            let z = e.zeros::<f64>(3, 5, bias).unwrap();
            check_cell(e, z.as_ref(), bias);
            assert!(
                z.params()
                    .iter()
                    .all(|p| p.data().iter().all(|&v| v == 0.0))
            );
        }
        assert!(e.options.len() <= MAX_OPTIONS, "{}", e.name);
        assert_eq!(zoo::get(e.name).unwrap(), e);
    }
}

#[test]
fn names_are_unique_and_torch_modes_map_back() {
    let names = zoo::names();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len(), "{names:?}");
    assert_eq!(zoo::torch_modes(), ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]);
    for m in zoo::torch_modes() {
        assert_eq!(zoo::for_torch_mode(m).unwrap().torch_mode, Some(m));
    }
    assert_eq!(zoo::get("gru-reset-before").unwrap().torch_mode, None);
    assert_eq!(zoo::get("gru-reset-before").unwrap().form, Form::General);
}

#[test]
fn cell_modes_are_unique_and_map_back() {
    for e in zoo::entries() {
        let cell = e
            .build::<f32, _>(2, 3, &Default::default(), &mut seeded(0))
            .unwrap();
        assert_eq!(cell.mode(), e.cell_mode, "{}", e.name);
        assert_eq!(zoo::for_cell_mode(cell.mode()), Some(e), "{}", e.name);
    }
    assert_eq!(zoo::for_cell_mode("LSTMP"), None);
}

#[test]
fn unknown_names_and_modes_list_what_exists() {
    match zoo::get("lstn") {
        Err(ZooError::UnknownCell { name, known }) => {
            assert_eq!(name, "lstn");
            assert_eq!(known, zoo::names());
        }
        other => panic!("{other:?}"),
    }
    let e = zoo::for_torch_mode("GRU_RESET_BEFORE").unwrap_err();
    assert!(matches!(&e, ZooError::UnknownTorchMode { known, .. } if known.contains(&"LSTM")));
    assert!(
        e.to_string().contains("RNN_TANH, RNN_RELU, LSTM, GRU"),
        "{e}"
    );
    assert!(matches!(
        "nope:forget_bias=1".parse::<CellChoice>(),
        Err(ZooError::UnknownCell { .. })
    ));
}

#[test]
fn bad_options_are_typed_errors() {
    match CellChoice::parse("gru", "forget_bias=1") {
        Err(ZooError::UnknownOption {
            cell,
            option,
            known,
        }) => {
            assert_eq!(
                (cell, option.as_str(), known.len()),
                ("gru", "forget_bias", 3)
            );
        }
        other => panic!("{other:?}"),
    }
    match CellChoice::parse("lstm", "forget_bias=2") {
        Err(ZooError::BadOptionValue { value, known, .. }) => {
            assert_eq!((value.as_str(), known), ("2", vec!["0", "1", "chrono"]));
        }
        other => panic!("{other:?}"),
    }
    for text in ["forget_bias", "forget_bias=1,forget_bias=0"] {
        assert!(
            matches!(
                CellChoice::parse("lstm", text),
                Err(ZooError::OptionSyntax { .. })
            ),
            "{text}"
        );
    }
    assert!(matches!(
        CellChoice::named("lstm")
            .unwrap()
            .build::<f32, _>(0, 4, &mut seeded(0)),
        Err(ZooError::Cell(CellError::ZeroSize { .. }))
    ));
}

#[test]
fn the_forget_bias_option_sets_the_forget_gate() {
    let h = 4;
    let c = CellChoice::parse("lstm", " forget_bias = 1 ").unwrap();
    assert_eq!(c.label(), "lstm (forget bias 1)");
    let cell = c.build::<f64, _>(3, h, &mut seeded(0)).unwrap();
    let b_ih = cell.params().get("bias_ih").unwrap().data();
    let b_hh = cell.params().get("bias_hh").unwrap().data();
    // Gate order i, f, g, o: the f block is rows H..2H.
    assert!(b_ih[h..2 * h].iter().all(|&v| v == 1.0));
    assert!(b_hh[h..2 * h].iter().all(|&v| v == 0.0));
    let plain = CellChoice::named("lstm")
        .unwrap()
        .build::<f64, _>(3, h, &mut seeded(0))
        .unwrap();
    assert!(
        plain.params().get("bias_ih").unwrap().data()[h..2 * h]
            .iter()
            .all(|&v| v != 1.0)
    );
    // The default value given explicitly is the default.
    assert_eq!(
        CellChoice::parse("lstm", "forget_bias=0")
            .unwrap()
            .to_string(),
        "lstm"
    );
}

#[test]
fn variants_round_trip_through_their_names() {
    let v = zoo::variants();
    let labels: Vec<String> = v.iter().map(CellChoice::label).collect();
    assert_eq!(
        labels,
        [
            "rnn-tanh",
            "rnn-tanh (init orthogonal)",
            "rnn-relu",
            "rnn-relu (init identity)",
            "rnn-relu (init orthogonal)",
            "lstm",
            "lstm (forget bias 1)",
            "lstm (forget bias chrono)",
            "lstm (init orthogonal)",
            "gru",
            "gru (init orthogonal)",
            "gru (update bias chrono)",
            "gru (reset before)",
            "gru (reset before) (init orthogonal)",
            "gru (reset before) (update bias chrono)",
            "exprnn",
            "exprnn (skew init cayley)",
            "lstm-proj",
            "lstm-proj (forget bias 1)",
            "lstm-proj (forget bias chrono)",
            "lstm (peephole)",
            "lstm (layer norm)",
            "slstm",
            "slstm (forget exp)",
            "mgu",
            "ugrnn",
            "cornn",
            "antisymmetric",
            "antisymmetric (gated)",
            "qrnn",
            "qrnn (window 2)",
            "sru",
            "indrnn",
            "indrnn (nonlinearity tanh)",
            "indrnn (init long)",
            "lru",
            "mingru",
            "mingru (candidate linear)",
            "minlstm",
            "minlstm (candidate linear)",
        ]
    );
    for c in v {
        assert_eq!(c.to_string().parse::<CellChoice>().unwrap(), c);
        assert_eq!(serde_json::to_value(c).unwrap(), c.to_string());
    }
}
