//! The initialisation options of the registry, each held to its property through the factory:
//! `init=identity` (the IRNN), `init=orthogonal`, `forget_bias=chrono` and `update_bias=chrono`
//! with `t_max`; they are listed in the registry's metadata (what `rnnzoo cells --json` prints)
//! and in `zoo::variants()`.

use rnnzoo::cell::{Cell, IRNN_INPUT_STD, seeded};
use rnnzoo::zoo::{self, CellChoice, ZooError};

fn build(name: &str, options: &str, input: usize, hidden: usize) -> Box<dyn Cell<f64>> {
    CellChoice::parse(name, options)
        .unwrap()
        .build::<f64, _>(input, hidden, &mut seeded(7))
        .unwrap()
}

fn data<'a>(cell: &'a dyn Cell<f64>, name: &str) -> &'a [f64] {
    cell.params().get(name).unwrap().data()
}

#[test]
fn identity_is_the_irnn_exactly() {
    let h = 6;
    let cell = build("rnn-relu", "init=identity", 200, h);
    let w = data(&*cell, "weight_hh");
    for i in 0..h {
        for j in 0..h {
            assert_eq!(w[i * h + j], f64::from(u8::from(i == j)));
        }
    }
    assert!(
        data(&*cell, "bias_ih")
            .iter()
            .chain(data(&*cell, "bias_hh"))
            .all(|&b| b == 0.0)
    );
    let ih = data(&*cell, "weight_ih");
    let std = (ih.iter().map(|v| v * v).sum::<f64>() / ih.len() as f64).sqrt();
    assert!((std - IRNN_INPUT_STD).abs() < 1e-4, "{std}");
    // Only the relu RNN takes it.
    assert!(matches!(
        CellChoice::parse("rnn-tanh", "init=identity"),
        Err(ZooError::BadOptionValue { .. })
    ));
}

#[test]
fn orthogonal_makes_every_gate_block_of_weight_hh_orthogonal() {
    for (name, gates) in [
        ("rnn-tanh", 1),
        ("rnn-relu", 1),
        ("lstm", 4),
        ("gru", 3),
        ("gru-reset-before", 3),
    ] {
        for h in [1, 5] {
            let plain = build(name, "", 3, h);
            let cell = build(name, "init=orthogonal", 3, h);
            let w = data(&*cell, "weight_hh");
            for g in 0..gates {
                // W^T W = I for the block (row-major, rows g*H..(g+1)*H).
                let b = &w[g * h * h..][..h * h];
                for (i, j) in (0..h).flat_map(|i| (0..h).map(move |j| (i, j))) {
                    let dot: f64 = (0..h).map(|k| b[k * h + i] * b[k * h + j]).sum();
                    let err = (dot - f64::from(u8::from(i == j))).abs();
                    assert!(err < 1e-12, "{name} H={h} gate {g} ({i},{j}): {err}");
                }
            }
            // The rest is the kind's own initialisation, drawn first from the same seed.
            assert_eq!(
                data(&*cell, "weight_ih"),
                data(&*plain, "weight_ih"),
                "{name}"
            );
            assert_eq!(data(&*cell, "bias_hh"), data(&*plain, "bias_hh"), "{name}");
        }
    }
}

#[test]
fn chrono_sets_the_lstm_forget_and_input_biases() {
    let (h, t_max) = (300, 40.0);
    let cell = build("lstm", "forget_bias=chrono, t_max=40", 3, h);
    let (b_ih, b_hh) = (data(&*cell, "bias_ih"), data(&*cell, "bias_hh"));
    let plain = build("lstm", "", 3, h);
    for j in 0..h {
        // Gates i, f, g, o; the effective bias is b_ih + b_hh, all in b_ih.
        let (b_i, b_f) = (b_ih[j] + b_hh[j], b_ih[h + j] + b_hh[h + j]);
        assert!((0.0..(t_max - 1.0f64).ln()).contains(&b_f), "{b_f}");
        assert_eq!(b_i, -b_f);
        assert_eq!((b_hh[j], b_hh[h + j]), (0.0, 0.0));
    }
    let f: Vec<f64> = b_ih[h..2 * h].iter().map(|b| b.exp()).collect();
    assert!(f.iter().any(|&v| v > t_max - 3.0) && f.iter().any(|&v| v < 2.0));
    // The g and o gates keep PyTorch's initialisation.
    assert_eq!(b_ih[2 * h..], data(&*plain, "bias_ih")[2 * h..]);
    assert_eq!(b_hh[2 * h..], data(&*plain, "bias_hh")[2 * h..]);
    // t_max is read only with chrono, and its default is 100.
    let d = build("lstm", "forget_bias=chrono", 3, h);
    assert!(
        data(&*d, "bias_ih")[h..2 * h]
            .iter()
            .all(|&b| (0.0..99f64.ln()).contains(&b))
    );
    assert_eq!(
        data(&*build("lstm", "t_max=5", 3, h), "bias_ih"),
        data(&*plain, "bias_ih")
    );
}

#[test]
fn chrono_sets_the_gru_update_gate() {
    let h = 50;
    for name in ["gru", "gru-reset-before"] {
        let cell = build(name, "update_bias=chrono,t_max=10", 2, h);
        let plain = build(name, "", 2, h);
        let (b_ih, b_hh) = (data(&*cell, "bias_ih"), data(&*cell, "bias_hh"));
        // Gates r, z, n: z is rows H..2H, h' = (1 - z) n + z h.
        assert!(
            b_ih[h..2 * h]
                .iter()
                .all(|&b| (0.0..9f64.ln()).contains(&b))
        );
        assert!(b_hh[h..2 * h].iter().all(|&b| b == 0.0));
        for k in [0..h, 2 * h..3 * h] {
            assert_eq!(
                b_ih[k.clone()],
                data(&*plain, "bias_ih")[k.clone()],
                "{name}"
            );
            assert_eq!(b_hh[k.clone()], data(&*plain, "bias_hh")[k], "{name}");
        }
    }
}

#[test]
fn a_t_max_below_two_is_a_typed_error() {
    for text in ["forget_bias=chrono,t_max=1.5", "t_max=0"] {
        match CellChoice::parse("lstm", text) {
            Err(ZooError::OptionOutOfRange { option, .. }) => assert_eq!(option, "t_max"),
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn the_options_are_in_the_metadata_and_the_variants() {
    let json = serde_json::to_value(zoo::entries()).unwrap();
    let options = |name: &str| -> Vec<String> {
        json.as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap()["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(options("rnn-relu"), ["init"]);
    assert_eq!(options("lstm"), ["forget_bias", "init", "t_max"]);
    assert_eq!(options("gru"), ["init", "update_bias", "t_max"]);
    assert_eq!(options("exprnn"), ["skew_init"]);
    let lstm = &json.as_array().unwrap()[2]["options"];
    assert_eq!(lstm[0]["values"], serde_json::json!(["0", "1", "chrono"]));
    assert_eq!(lstm[2]["values"]["default"], 100.0);
    let labels: Vec<String> = zoo::variants().iter().map(CellChoice::label).collect();
    for l in [
        "rnn-relu (init identity)",
        "lstm (forget bias chrono)",
        "gru (update bias chrono)",
        "lstm (init orthogonal)",
    ] {
        assert!(labels.iter().any(|x| x == l), "{l} in {labels:?}");
    }
}

/// A weights file records the cells' settings (options that change what a cell computes without
/// changing its parameters): a coRNN saved with the default step size does not load into a coRNN
/// of another step size, nor a layer-norm LSTM into one of another eps; the same settings load.
#[test]
fn weights_files_refuse_cells_of_other_settings() {
    use rnnzoo::layers::checkpoint::{load_weights, weights_bytes};
    use rnnzoo::layers::file::{FileError, Tensors};
    use rnnzoo::layers::head::{Activation, Dense};
    use rnnzoo::layers::{Layer, Model, Readout, Recurrent, Stack};
    let model = |cell: &str, options: &str| {
        let c = rnnzoo::zoo::CellChoice::parse(cell, options)
            .unwrap()
            .build::<f64, _>(2, 3, &mut rnnzoo::cell::seeded(1))
            .unwrap();
        let body = Stack::new(vec![Box::new(Recurrent::new(c)) as Box<dyn Layer<f64>>]).unwrap();
        let head = Dense::new(3, 1, Activation::Identity, &mut rnnzoo::cell::seeded(2)).unwrap();
        Model::new(body, head, Readout::LastStep).unwrap()
    };
    for (cell, saved, other) in [
        ("cornn", "", "dt=0.1"),
        ("lstm-layernorm", "", "eps=0.001"),
        ("indrnn", "", "nonlinearity=tanh"),
        ("mingru", "", "candidate=linear"),
        ("sru", "", "highway_scale=1.5"),
    ] {
        let file = Tensors::parse(&weights_bytes(&model(cell, saved)).unwrap(), false).unwrap();
        let mut same = model(cell, saved);
        load_weights(&mut same, &file).unwrap();
        let mut different = model(cell, other);
        let err = load_weights(&mut different, &file).unwrap_err();
        assert!(matches!(err, FileError::Settings { .. }), "{cell}: {err}");
        assert!(err.to_string().contains("rnnzoo.settings"), "{err}");
    }
    // A cell without settings records none.
    let file = Tensors::parse(&weights_bytes(&model("gru", "")).unwrap(), false).unwrap();
    assert_eq!(
        file.metadata.get("rnnzoo.settings").map(String::as_str),
        Some("")
    );
}
