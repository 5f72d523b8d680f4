//! The PyTorch loader on the PyTorch fixtures: every case in `tests/fixtures/torch/` (drop a new
//! `.safetensors` case there and it is tested, no code change) loads through the registry, bare
//! and prefixed, and matches PyTorch's outputs, `h_n`, `c_n` and every gradient to 1e-9, and
//! saves back exactly. Also: a `Linear` head, extra tensors ignored or refused, the `nn.RNN`
//! nonlinearity from an argument, the metadata or the stated assumption, and every refusal as its
//! typed error.

use crate::common;

use crate::common::assert_close;

use rnnzoo::cell::seeded;
use rnnzoo::layers::file::{FileError, Tensor, TensorData, Tensors};
use rnnzoo::layers::{Inputs, Layer, LayerError, Readout, Recurrent, Stack};
use rnnzoo::torch::{self, Settled, TorchError, TorchOptions};
use rnnzoo::vanilla::Nonlinearity;
use rnnzoo::zoo;

fn fixture(name: &str) -> Tensors {
    Tensors::read(&common::fixture_dir().join(name), true).unwrap()
}

/// The case's parameters alone, under `prefix`: what `state_dict()` holds. No metadata unless
/// `with_metadata`.
fn state_dict(case: &Tensors, prefix: &str, with_metadata: bool) -> Tensors {
    let mut sd = Tensors::default();
    for (name, t) in &case.tensors {
        if name.starts_with("weight_") || name.starts_with("bias_") {
            sd.tensors.insert(format!("{prefix}{name}"), t.clone());
        }
    }
    if with_metadata {
        sd.metadata = case.metadata.clone();
    }
    sd
}

fn tensor(shape: &[usize], seed: u64) -> Tensor {
    let n = shape.iter().product::<usize>();
    let values = (0..n)
        .map(|k| ((k as u64 * 7919 + seed * 104_729) % 1000) as f64 / 500.0 - 1.0)
        .collect();
    Tensor::f64(shape.to_vec(), values)
}

fn close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= 1e-9, "{what}[{k}]: {g} vs {w}");
    }
}

/// The stack's output and `h_n` against PyTorch's, the initial state from the case.
fn matches_pytorch(case: &Tensors, stack: &Stack<f64>, module: &torch::TorchModule) {
    let meta = |k: &str| case.metadata[k].parse::<usize>().unwrap();
    let (t, b) = (meta("seq_len"), meta("batch"));
    let get = |n: &str| case.tensors[n].to_vec::<f64>();
    let c0 = case.tensors.get("c0").map(|c| c.to_vec::<f64>());
    let init = module
        .spec
        .state_from_torch::<f64>(&get("h0"), c0.as_deref(), b)
        .unwrap();
    let lengths: Option<Vec<usize>> = case
        .tensors
        .get("lengths")
        .map(|l| l.to_vec::<f64>().iter().map(|&v| v as usize).collect());
    let x = get("input");
    let mut inputs = Inputs::new(&x, t, b).initial(&init);
    if let Some(l) = &lengths {
        inputs = inputs.lengths(l);
    }
    let out = stack.infer(inputs).unwrap();
    close("output", &out.output, &get("output"));
    let (h_n, c_n) = module.spec.state_to_torch(&out.final_state, b).unwrap();
    close("h_n", &h_n, &get("h_n"));
    if let Some(c_n) = c_n {
        close("c_n", &c_n, &get("c_n"));
    }
}

/// The registry's kind for a case: PyTorch's own mode name (`RNN_TANH`, `LSTM`), from the
/// module's class and, for `nn.RNN`, its nonlinearity.
fn torch_mode(case: &Tensors) -> String {
    match case.metadata["mode"].as_str() {
        "RNN" => format!("RNN_{}", case.metadata["nonlinearity"].to_uppercase()),
        m => m.to_string(),
    }
}

/// The case's `proj_size` (0 when the metadata has none: PyTorch's default).
fn proj_size(case: &Tensors) -> usize {
    case.metadata
        .get("proj_size")
        .map_or(0, |p| p.parse().unwrap())
}

/// The registry's kind of the case's PyTorch mode whose cells have a projection (`weight_hr`)
/// exactly when the case has one: `lstm-proj` for `nn.LSTM(..., proj_size=P)`.
fn want_entry(case: &Tensors) -> &'static zoo::Entry {
    let mode = torch_mode(case);
    let kinds: Vec<_> = zoo::entries()
        .iter()
        .filter(|e| e.torch_mode == Some(mode.as_str()))
        .filter(|e| {
            let cell = e.zeros::<f64>(2, 3, true).unwrap();
            cell.params().get("weight_hr").is_some() == (proj_size(case) > 0)
        })
        .collect();
    assert_eq!(kinds.len(), 1, "{mode}, proj_size {}", proj_size(case));
    kinds[0]
}

/// The stack's gradients against PyTorch's, through a taped forward and backward from the case's
/// `dout`, `dh_n` (and `dc_n`): the input's, the initial state's and every parameter's, to 1e-9.
fn gradients_match_pytorch(
    name: &str,
    case: &Tensors,
    stack: &Stack<f64>,
    module: &torch::TorchModule,
) {
    let meta = |k: &str| case.metadata[k].parse::<usize>().unwrap();
    let (t, b) = (meta("seq_len"), meta("batch"));
    let spec = &module.spec;
    assert_eq!(spec.num_layers, meta("num_layers"), "{name}");
    assert_eq!(spec.hidden_size, meta("hidden_size"), "{name}");
    assert_eq!(spec.proj_size, proj_size(case), "{name}");
    assert_eq!(spec.input_size, meta("input_size"), "{name}");
    assert_eq!(
        spec.bidirectional,
        case.metadata["bidirectional"] == "true",
        "{name}"
    );
    let get = |n: &str| case.tensors[n].to_vec::<f64>();
    let c0 = case.tensors.get("c0").map(|c| c.to_vec::<f64>());
    let init = spec
        .state_from_torch::<f64>(&get("h0"), c0.as_deref(), b)
        .unwrap();
    let lengths: Option<Vec<usize>> = case
        .tensors
        .get("lengths")
        .map(|l| l.to_vec::<f64>().iter().map(|&v| v as usize).collect());
    let x = get("input");
    let mut inputs = Inputs::new(&x, t, b).initial(&init);
    if let Some(l) = &lengths {
        inputs = inputs.lengths(l);
    }
    let (out, tape) = stack.forward(inputs, None).unwrap();
    // The taped forward gives inference's numbers (which `matches_pytorch` compares).
    assert_eq!(stack.infer(inputs).unwrap(), out, "{name}");
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
        1e-9,
    );
    let (dh0, dc0) = spec.state_to_torch(&g.d_initial, b).unwrap();
    assert_close(&format!("{name} grad.h0"), &dh0, &get("grad.h0"), 1e-9);
    if let Some(dc0) = dc0 {
        assert_close(&format!("{name} grad.c0"), &dc0, &get("grad.c0"), 1e-9);
    }
    let mut checked = 0;
    for (group, pg) in grads.iter().zip(stack.param_groups()) {
        for p in group.iter() {
            let torch_name = format!("grad.{}{}", p.name(), pg.suffix);
            assert_close(
                &format!("{name} {torch_name}"),
                p.data(),
                &get(&torch_name),
                1e-9,
            );
            checked += 1;
        }
    }
    assert_eq!(
        checked,
        state_dict(case, "", false).tensors.len(),
        "{name}: every parameter's gradient compared"
    );
}

#[test]
fn every_fixture_loads_through_the_registry_and_matches_pytorch() {
    for path in common::fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let case = Tensors::read(&path, true).unwrap();
        let want = want_entry(&case);
        for prefix in ["", "rnn."] {
            let opts = TorchOptions::new().rnn_prefix(prefix);
            let (module, stack) =
                torch::load_stack::<f64>(&state_dict(&case, prefix, true), &opts).unwrap();
            assert_eq!(module.entry.name, want.name, "{name}");
            assert_eq!(
                module.nonlinearity.map(|(_, s)| s),
                (case.metadata["mode"] == "RNN").then_some(Settled::Metadata),
                "{name}"
            );
            matches_pytorch(&case, &stack, &module);
            gradients_match_pytorch(&name, &case, &stack, &module);
        }
    }
}

#[test]
fn saving_round_trips_every_fixture_exactly() {
    for path in common::fixtures() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let sd = state_dict(&Tensors::read(&path, true).unwrap(), "", true);
        let (module, stack) = torch::load_stack::<f64>(&sd, &TorchOptions::default()).unwrap();
        let back = Tensors::parse(&torch::to_bytes(&stack).unwrap(), false).unwrap();
        assert_eq!(back.tensors, sd.tensors, "{name}");
        assert_eq!(
            back.metadata["mode"],
            stack.param_groups()[0].mode,
            "{name}"
        );
        assert_eq!(
            back.metadata["num_layers"],
            module.spec.num_layers.to_string()
        );
        // PyTorch's sizes: hidden_size is H also with a projection, whose P is proj_size.
        assert_eq!(
            back.metadata["hidden_size"], sd.metadata["hidden_size"],
            "{name}"
        );
        assert_eq!(
            back.metadata.get("proj_size"),
            sd.metadata.get("proj_size"),
            "{name}"
        );
        let again = torch::describe(&back, &TorchOptions::default()).unwrap();
        assert_eq!(
            (again.spec, again.entry),
            (module.spec, module.entry),
            "{name}"
        );
    }
}

#[test]
fn the_nonlinearity_is_the_argument_the_metadata_or_a_stated_assumption() {
    let case = fixture("rnn_relu_1l.safetensors");
    // Saved the way PyTorch saves it: nothing says relu. Tanh is assumed, and says so.
    let bare = state_dict(&case, "", false);
    let module = torch::describe(&bare, &TorchOptions::default()).unwrap();
    assert_eq!(module.entry.name, "rnn-tanh");
    assert_eq!(
        module.nonlinearity,
        Some((Nonlinearity::Tanh, Settled::Assumed))
    );
    // The argument says relu: the numbers are PyTorch's.
    let opts = TorchOptions::new().nonlinearity(Nonlinearity::Relu);
    let (module, stack) = torch::load_stack::<f64>(&bare, &opts).unwrap();
    assert_eq!(
        module.nonlinearity,
        Some((Nonlinearity::Relu, Settled::Argument))
    );
    matches_pytorch(&case, &stack, &module);
    // rnnzoo's own files record the mode.
    let saved = Tensors::parse(&torch::to_bytes(&stack).unwrap(), false).unwrap();
    assert_eq!(saved.metadata["mode"], "RNN_RELU");
    let module = torch::describe(&saved, &TorchOptions::default()).unwrap();
    assert_eq!(
        module.nonlinearity,
        Some((Nonlinearity::Relu, Settled::Metadata))
    );
}

#[test]
fn a_nonlinearity_that_does_not_fit_the_file_is_an_error() {
    let relu = state_dict(&fixture("rnn_relu_1l.safetensors"), "", true);
    let tanh = TorchOptions::new().nonlinearity(Nonlinearity::Tanh);
    match torch::describe(&relu, &tanh) {
        Err(TorchError::NonlinearityConflict { given, recorded }) => {
            assert_eq!((given, recorded.as_str()), ("tanh", "relu"))
        }
        other => panic!("{other:?}"),
    }
    let lstm = state_dict(&fixture("lstm_1l.safetensors"), "", false);
    assert!(matches!(
        torch::describe(&lstm, &TorchOptions::new().nonlinearity(Nonlinearity::Relu)),
        Err(TorchError::NonlinearityNotApplicable { mode: "LSTM" })
    ));
    let mut odd = relu.clone();
    odd.metadata.insert("nonlinearity".into(), "sigmoid".into());
    assert!(matches!(
        torch::describe(&odd, &TorchOptions::default()),
        Err(TorchError::Metadata {
            key: "nonlinearity",
            ..
        })
    ));
    let mut wrong_mode = lstm;
    wrong_mode.metadata.insert("mode".into(), "GRU".into());
    assert!(matches!(
        torch::describe(&wrong_mode, &TorchOptions::default()),
        Err(TorchError::Metadata { key: "mode", .. })
    ));
}

/// `net.state_dict()` of `lstm = nn.LSTM(...)`, `fc = nn.Linear(dirs*H, out)`.
fn with_head(case: &str, out: usize, bias: bool) -> (Tensors, Tensors) {
    let case = fixture(case);
    let mut sd = state_dict(&case, "lstm.", false);
    // The head reads h: proj_size wide with a projection.
    let h = case
        .metadata
        .get("proj_size")
        .unwrap_or(&case.metadata["hidden_size"])
        .parse::<usize>()
        .unwrap();
    let dirs = if case.metadata["bidirectional"] == "true" {
        2
    } else {
        1
    };
    sd.tensors
        .insert("fc.weight".into(), tensor(&[out, dirs * h], 1));
    if bias {
        sd.tensors.insert("fc.bias".into(), tensor(&[out], 2));
    }
    (case, sd)
}

#[test]
fn a_prefixed_state_dict_with_a_linear_head_loads_as_a_model() {
    for (file, bias) in [
        ("lstm_1l.safetensors", true),
        ("lstm_2l_bidir.safetensors", false),
        ("lstm_proj_2l_bidir.safetensors", true),
    ] {
        let out = 3;
        let (case, sd) = with_head(file, out, bias);
        let opts = TorchOptions::new().rnn_prefix("lstm.").head("fc.");
        let (module, model) = torch::load_model::<f64>(&sd, &opts).unwrap();
        assert_eq!(module.head, Some((out, model.body().output_size(), bias)));
        // The head computes fc(h) on cat(h_n[-2], h_n[-1]) (the default readout,
        // `Readout::FinalStates`): W h + b.
        let meta = |k: &str| case.metadata[k].parse::<usize>().unwrap();
        let (t, b) = (meta("seq_len"), meta("batch"));
        let x = case.tensors["input"].to_vec::<f64>();
        let body = model.body().infer(Inputs::new(&x, t, b)).unwrap();
        let p = model.predict(Inputs::new(&x, t, b)).unwrap();
        let rows = model.body().output_size();
        let w = &sd.tensors["fc.weight"].to_vec::<f64>();
        let fc_b = sd.tensors.get("fc.bias").map(|t| t.to_vec::<f64>());
        let (h_n, _) = module.spec.state_to_torch(&body.final_state, b).unwrap();
        let dirs = module.spec.dirs();
        let (hid, leaves) = (module.spec.output_size(), module.spec.num_layers * dirs);
        for s in 0..b {
            let h_last: Vec<f64> = (leaves - dirs..leaves)
                .flat_map(|leaf| h_n[(leaf * b + s) * hid..][..hid].to_vec())
                .collect();
            for o in 0..out {
                let want: f64 = (0..rows).map(|k| w[o * rows + k] * h_last[k]).sum::<f64>()
                    + fc_b.as_ref().map_or(0.0, |bb| bb[o]);
                let got = p.predictions[s * out + o];
                assert!(
                    (got - want).abs() < 1e-12,
                    "{file} sample {s} out {o}: {got} vs {want}"
                );
            }
        }
        // The body is PyTorch's module.
        matches_pytorch(&case, model.body(), &module);
    }
}

#[test]
fn extra_tensors_are_refused_or_ignored_on_request() {
    let (_, mut sd) = with_head("lstm_1l.safetensors", 2, true);
    sd.tensors
        .insert("embedding.weight".into(), tensor(&[10, 3], 3));
    let opts = TorchOptions::new().rnn_prefix("lstm.").head("fc.");
    match torch::load_model::<f32>(&sd, &opts) {
        Err(TorchError::Extra { names }) => assert_eq!(names, ["embedding.weight"]),
        other => panic!("{:?}", other.err()),
    }
    let (module, _) = torch::load_model::<f32>(&sd, &opts.clone().ignore_extra(true)).unwrap();
    assert_eq!(module.ignored, ["embedding.weight"]);
    // Without a head prefix the head's tensors are extra too.
    let stack_only = TorchOptions::new().rnn_prefix("lstm.");
    match torch::load_stack::<f32>(&sd, &stack_only) {
        Err(TorchError::Extra { names }) => {
            assert_eq!(names, ["embedding.weight", "fc.bias", "fc.weight"])
        }
        other => panic!("{:?}", other.err()),
    }
    let (module, _) = torch::load_stack::<f32>(&sd, &stack_only.ignore_extra(true)).unwrap();
    assert_eq!(module.ignored.len(), 3);
}

#[test]
fn prefixed_names_without_the_prefix_say_what_was_expected_and_suggest_it() {
    let (_, sd) = with_head("gru_1l.safetensors", 2, true);
    let e = torch::describe(&sd, &TorchOptions::default()).unwrap_err();
    match &e {
        TorchError::NoRecurrentWeights {
            prefix,
            expected,
            suggestion,
            found,
        } => {
            assert_eq!(prefix, "");
            assert_eq!(expected[0], "weight_ih_l0");
            assert_eq!(suggestion.as_deref(), Some("lstm."));
            assert!(found.contains(&"fc.weight".to_string()));
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("rnn_prefix = \"lstm.\""), "{e}");
    // The wrong prefix: the bare names are suggested (an empty prefix).
    let bare = state_dict(&fixture("gru_1l.safetensors"), "", false);
    match torch::load_stack::<f32>(&bare, &TorchOptions::new().rnn_prefix("gru.")) {
        Err(TorchError::NoRecurrentWeights {
            expected,
            suggestion,
            ..
        }) => {
            assert_eq!(expected[1], "gru.weight_hh_l0");
            assert_eq!(suggestion.as_deref(), Some(""));
        }
        other => panic!("{:?}", other.err()),
    }
    // Nothing recurrent at all: nothing to suggest.
    let mut head_only = Tensors::default();
    head_only
        .tensors
        .insert("fc.weight".into(), tensor(&[2, 4], 0));
    assert!(matches!(
        torch::describe(&head_only, &TorchOptions::default()),
        Err(TorchError::NoRecurrentWeights {
            suggestion: None,
            ..
        })
    ));
}

#[test]
fn a_head_that_is_missing_or_does_not_fit_is_an_error() {
    let (_, sd) = with_head("lstm_1l.safetensors", 2, true);
    let base = TorchOptions::new().rnn_prefix("lstm.");
    assert!(matches!(
        torch::load_model::<f32>(&sd, &base.clone().ignore_extra(true)),
        Err(TorchError::HeadMissing { .. })
    ));
    match torch::load_model::<f32>(&sd, &base.clone().head("out.").ignore_extra(true)) {
        Err(TorchError::HeadMissing { prefix, .. }) => assert_eq!(prefix, "out."),
        other => panic!("{:?}", other.err()),
    }
    let mut bad_bias = sd.clone();
    bad_bias.tensors.insert("fc.bias".into(), tensor(&[3], 0));
    assert!(matches!(
        torch::load_model::<f32>(&bad_bias, &base.clone().head("fc.")),
        Err(TorchError::HeadShape { name, .. }) if name == "fc.bias"
    ));
    let mut flat = sd.clone();
    flat.tensors.insert("fc.weight".into(), tensor(&[8], 0));
    assert!(matches!(
        torch::load_model::<f32>(&flat, &base.clone().head("fc.")),
        Err(TorchError::HeadShape { name, .. }) if name == "fc.weight"
    ));
    let mut wide = sd;
    wide.tensors.insert("fc.weight".into(), tensor(&[2, 5], 0));
    assert!(matches!(
        torch::load_model::<f32>(&wide, &base.head("fc.")),
        Err(TorchError::Layer(LayerError::Compose(_)))
    ));
}

#[test]
fn a_gate_count_of_no_module_lists_what_loads() {
    let mut sd = state_dict(&fixture("rnn_tanh_1l.safetensors"), "", false);
    // Two gate blocks: no PyTorch module.
    for (name, t) in sd.tensors.iter_mut() {
        if name.starts_with("weight_") || name.starts_with("bias_") {
            t.shape[0] *= 2;
            let v = t.to_vec::<f64>();
            t.data = TensorData::F64([v.clone(), v].concat());
        }
    }
    match torch::describe(&sd, &TorchOptions::default()) {
        Err(TorchError::NoCellForGates { gates, known }) => {
            assert_eq!(gates, 2);
            assert_eq!(known, ["1 (RNN_TANH, RNN_RELU)", "3 (GRU)", "4 (LSTM)"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn only_pytorchs_modules_save_as_a_state_dict() {
    let cell = rnnzoo::zoo::CellChoice::named("gru-reset-before")
        .unwrap()
        .build::<f32, _>(3, 4, &mut seeded(0))
        .unwrap();
    let stack = Stack::new(vec![Box::new(Recurrent::new(cell)) as Box<dyn Layer<f32>>]).unwrap();
    assert!(matches!(
        torch::to_bytes(&stack),
        Err(FileError::Unsupported(_))
    ));
    // And a module that saves loads back to the same values.
    let (_, lstm) = torch::load_stack::<f64>(
        &state_dict(&fixture("lstm_2l_bidir.safetensors"), "", false),
        &TorchOptions::default(),
    )
    .unwrap();
    let path =
        std::env::temp_dir().join(format!("rnnzoo-torch-{}.safetensors", std::process::id()));
    torch::save(&lstm, &path).unwrap();
    let (module, back) = torch::load_torch::<f64>(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!((module.entry.name, module.spec.num_layers), ("lstm", 2));
    for (a, b) in lstm.param_groups().iter().zip(back.param_groups()) {
        assert_eq!(a.params, b.params);
    }
}

#[test]
fn a_model_needs_a_head_prefix() {
    let sd = state_dict(&fixture("lstm_1l.safetensors"), "", false);
    let opts = TorchOptions::new().readout(Readout::EveryStep);
    assert!(matches!(
        torch::load_model::<f64>(&sd, &opts),
        Err(TorchError::HeadMissing { prefix, .. }) if prefix.is_empty()
    ));
}

/// The layers crate keeps a copy of the fixtures for the tests that name one cell; in the
/// workspace the two folders must hold the same cases byte for byte, so that neither falls behind.
/// (A packaged `rnnzoo` has no `../layers`; then there is nothing to compare.)
#[test]
fn the_layers_copy_of_the_fixtures_is_the_same() {
    let ours = common::fixture_dir();
    let theirs = ours.join("../../../../layers/tests/fixtures/torch");
    if !theirs.is_dir() {
        eprintln!("no {}: not in the workspace", theirs.display());
        return;
    }
    let cases = |dir: &std::path::Path| {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".safetensors"))
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        cases(&ours),
        cases(&theirs),
        "the two fixture folders list different cases"
    );
    for name in cases(&ours) {
        let a = std::fs::read(ours.join(&name)).unwrap();
        let b = std::fs::read(theirs.join(&name)).unwrap();
        assert!(
            a == b,
            "{name} differs between {} and {}",
            ours.display(),
            theirs.display()
        );
    }
}

#[test]
fn a_projection_loads_as_lstm_proj_and_only_as_it() {
    let case = fixture("lstm_proj_3l_bidir_lengths.safetensors");
    let sd = state_dict(&case, "", false);
    let module = torch::describe(&sd, &TorchOptions::default()).unwrap();
    assert_eq!(module.entry.name, "lstm-proj");
    assert_eq!(
        (
            module.spec.hidden_size,
            module.spec.proj_size,
            module.spec.num_layers
        ),
        (5, 2, 3)
    );
    // The same shapes without weight_hr are no module: W_hh reads 2 of 5 rows.
    let mut plain = sd.clone();
    plain.tensors.retain(|n, _| !n.starts_with("weight_hr"));
    assert!(torch::describe(&plain, &TorchOptions::default()).is_err());
    // The plain LSTM kind cannot make a projection's cells, and says why.
    let spec = rnnzoo::torch::CellSpec {
        gates: 4,
        input: 2,
        hidden: 5,
        proj: 2,
        bias: true,
    };
    match torch::factory::<f64>(zoo::get("lstm").unwrap())(&spec) {
        Err(rnnzoo::cell::CellError::Mismatch(m)) => {
            assert!(m.contains("proj_size 2") && m.contains("cell_size"), "{m}")
        }
        other => panic!("{:?}", other.err()),
    }
    let cell = torch::factory::<f64>(zoo::get("lstm-proj").unwrap())(&spec).unwrap();
    assert_eq!((cell.hidden_size(), cell.state_size()), (2, 7));
}

#[test]
fn a_projection_and_a_plain_lstm_do_not_save_as_one_module() {
    let build = |name: &str, input| -> Box<dyn Layer<f32>> {
        let cell = zoo::CellChoice::named(name)
            .unwrap()
            .build::<f32, _>(input, 4, &mut seeded(0))
            .unwrap();
        Box::new(Recurrent::new(cell))
    };
    let mixed = Stack::new(vec![build("lstm-proj", 3), build("lstm", 4)]).unwrap();
    match torch::to_bytes(&mixed) {
        Err(FileError::Unsupported(m)) => assert!(m.contains("LSTM_PROJ"), "{m}"),
        other => panic!("{:?}", other.err()),
    }
    // A registry lstm-proj stack saves as nn.LSTM(3, 8, num_layers=2, proj_size=4) and loads back.
    let two = Stack::new(vec![build("lstm-proj", 3), build("lstm-proj", 4)]).unwrap();
    let file = Tensors::parse(&torch::to_bytes(&two).unwrap(), false).unwrap();
    assert_eq!(file.tensors["weight_hr_l1"].shape, [4, 8]);
    assert_eq!(file.tensors["weight_hh_l1"].shape, [32, 4]);
    let (module, back) = torch::load_stack::<f32>(&file, &TorchOptions::default()).unwrap();
    assert_eq!(module.entry.name, "lstm-proj");
    for (a, b) in two.param_groups().iter().zip(back.param_groups()) {
        assert_eq!(a.params, b.params);
    }
}
