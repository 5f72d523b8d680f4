//! The LSTM variants (`rnnzoo::lstm_variants`) against PyTorch implementations of their papers'
//! equations: every case in `tests/fixtures/lstm_variants/` (written by `generate.py` there from
//! `reference.py`; a new case dropped in is tested with no code change) is built through the
//! registry with the case's options, loaded with its parameters, and must match PyTorch's output,
//! every final state part and every gradient (input, initial state, each parameter) to 1e-9 in
//! float64: one and two layers, one and two directions, per-sample lengths, initial states.
//!
//! Also here: the registry entries' options (`heads`, `forget`, `eps`) and their typed errors.

use std::path::{Path, PathBuf};

use crate::common::assert_close;
use rnnzoo::cell::{CellError, StepForm, seeded};
use rnnzoo::layers::file::Tensors;
use rnnzoo::layers::{Bidirectional, Inputs, Layer, Merge, Recurrent, Stack};
use rnnzoo::zoo::{self, CellChoice, ZooError};

const TOL: f64 = 1e-9;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lstm_variants");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
        .collect();
    files.sort();
    assert!(files.len() >= 7, "the fixture folder lost cases: {files:?}");
    files
}

struct Case {
    name: String,
    t: Tensors,
}

impl Case {
    fn meta(&self, k: &str) -> &str {
        self.t.metadata.get(k).map_or("", String::as_str)
    }
    fn usize(&self, k: &str) -> usize {
        self.meta(k)
            .parse()
            .unwrap_or_else(|_| panic!("{}: {k}", self.name))
    }
    fn get(&self, k: &str) -> Vec<f64> {
        self.t
            .tensors
            .get(k)
            .unwrap_or_else(|| panic!("{}: no tensor {k}", self.name))
            .to_vec()
    }
    fn parts(&self) -> Vec<&str> {
        self.meta("parts").split(',').collect()
    }
}

/// The case's network: its cells from the registry with the case's options, every parameter
/// from the file (`<name>_l<k>[_reverse]`).
fn network(case: &Case) -> Stack<f64> {
    let choice = CellChoice::parse(case.meta("cell"), case.meta("options")).unwrap();
    let (layers, h) = (case.usize("num_layers"), case.usize("hidden_size"));
    let bidir = case.meta("bidirectional") == "true";
    let mut width = case.usize("input_size");
    let mut out: Vec<Box<dyn Layer<f64>>> = Vec::new();
    for l in 0..layers {
        let cell = |suffix: &str| {
            let mut c = choice.build::<f64, _>(width, h, &mut seeded(0)).unwrap();
            let names: Vec<String> = c.params().names().map(String::from).collect();
            for n in names {
                c.params_mut()
                    .set(&n, &case.get(&format!("{n}_l{l}{suffix}")))
                    .unwrap();
            }
            Recurrent::new(c)
        };
        if bidir {
            out.push(Box::new(
                Bidirectional::new(cell(""), cell("_reverse"), Merge::Concat).unwrap(),
            ));
            width = 2 * h;
        } else {
            out.push(Box::new(cell("")));
            width = h;
        }
    }
    Stack::new(out).unwrap()
}

/// `(L*D, B, H)` tensors, one per state part, to a stack state: leaf `k`'s `S x B` block, each
/// column `[h; c; ...]`.
fn pack(parts: &[Vec<f64>], leaves: usize, batch: usize, h: usize) -> Vec<f64> {
    let s = parts.len() * h;
    let mut out = vec![0.0; leaves * s * batch];
    for k in 0..leaves {
        for b in 0..batch {
            for (q, p) in parts.iter().enumerate() {
                out[k * s * batch + b * s + q * h..][..h]
                    .copy_from_slice(&p[(k * batch + b) * h..][..h]);
            }
        }
    }
    out
}

/// Part `q` of a stack state as PyTorch's `(L*D, B, H)`.
fn unpack(
    state: &[f64],
    q: usize,
    parts: usize,
    leaves: usize,
    batch: usize,
    h: usize,
) -> Vec<f64> {
    let s = parts * h;
    let mut out = Vec::with_capacity(leaves * batch * h);
    for k in 0..leaves {
        for b in 0..batch {
            out.extend_from_slice(&state[k * s * batch + b * s + q * h..][..h]);
        }
    }
    out
}

fn check(case: &Case) {
    let name = &case.name;
    let (t, b, h) = (
        case.usize("seq_len"),
        case.usize("batch"),
        case.usize("hidden_size"),
    );
    let leaves = case.usize("num_layers")
        * if case.meta("bidirectional") == "true" {
            2
        } else {
            1
        };
    let parts = case.parts();
    let stack = network(case);
    let state_of = |fmt: &dyn Fn(&str) -> String| {
        let p: Vec<Vec<f64>> = parts.iter().map(|q| case.get(&fmt(q))).collect();
        pack(&p, leaves, b, h)
    };
    let init = state_of(&|q| format!("{q}0"));
    let lengths: Option<Vec<usize>> = case
        .t
        .tensors
        .get("lengths")
        .map(|l| l.to_vec::<f64>().iter().map(|&v| v as usize).collect());
    let x = case.get("input");
    let mut inputs = Inputs::new(&x, t, b).initial(&init);
    if let Some(l) = &lengths {
        inputs = inputs.lengths(l);
    }
    let (out, tape) = stack.forward(inputs, None).unwrap();
    assert_eq!(
        stack.infer(inputs).unwrap(),
        out,
        "{name}: taped forward is inference"
    );
    assert_close(
        &format!("{name} output"),
        &out.output,
        &case.get("output"),
        TOL,
    );
    for (q, part) in parts.iter().enumerate() {
        let got = unpack(&out.final_state, q, parts.len(), leaves, b, h);
        assert_close(
            &format!("{name} {part}_n"),
            &got,
            &case.get(&format!("{part}_n")),
            TOL,
        );
    }

    let d_final = state_of(&|q| format!("d{q}_n"));
    let mut grads = stack.zero_grads();
    let g = stack
        .backward(&tape, &case.get("dout"), Some(&d_final), &mut grads)
        .unwrap();
    assert_close(
        &format!("{name} grad.input"),
        &g.d_input,
        &case.get("grad.input"),
        TOL,
    );
    for (q, part) in parts.iter().enumerate() {
        let got = unpack(&g.d_initial, q, parts.len(), leaves, b, h);
        let want = case.get(&format!("grad.{part}0"));
        assert_close(&format!("{name} grad.{part}0"), &got, &want, TOL);
    }
    let mut checked = 0;
    for (group, pg) in grads.iter().zip(stack.param_groups()) {
        for p in group.iter() {
            let key = format!("grad.{}{}", p.name(), pg.suffix);
            assert_close(&format!("{name} {key}"), p.data(), &case.get(&key), TOL);
            checked += 1;
        }
    }
    let not_params: Vec<String> = ["input"]
        .iter()
        .chain(&parts)
        .map(|q| {
            if *q == "input" {
                "grad.input".to_string()
            } else {
                format!("grad.{q}0")
            }
        })
        .collect();
    let in_file = case
        .t
        .tensors
        .keys()
        .filter(|k| k.starts_with("grad.") && !not_params.contains(k))
        .count();
    assert_eq!(
        checked, in_file,
        "{name}: every parameter's gradient compared"
    );
}

#[test]
fn every_case_matches_pytorch_outputs_final_states_and_gradients() {
    let mut cells = Vec::new();
    for path in fixtures() {
        let case = Case {
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
            t: Tensors::read(&path, true).unwrap(),
        };
        check(&case);
        cells.push(case.meta("cell").to_string());
    }
    for cell in ["lstm-peephole", "lstm-layernorm", "slstm"] {
        assert!(cells.iter().any(|c| c == cell), "no case of {cell}");
    }
}

#[test]
fn the_entries_options_build_what_they_say() {
    let slstm = CellChoice::parse("slstm", "heads=2,forget=exp").unwrap();
    let cell = slstm.build::<f64, _>(3, 4, &mut seeded(0)).unwrap();
    assert!(matches!(cell.form(), StepForm::General(_)));
    assert_eq!(cell.params().get("weight_hh").unwrap().shape(), &[16, 2]);
    assert_eq!(slstm.label(), "slstm (heads 2, forget exp)");
    let dense = CellChoice::named("slstm")
        .unwrap()
        .build::<f64, _>(3, 4, &mut seeded(0))
        .unwrap();
    assert!(matches!(dense.form(), StepForm::Gated(_)));
    // The forget option changes the function: same weights, different outputs.
    let exp = CellChoice::parse("slstm", "forget=exp")
        .unwrap()
        .build::<f64, _>(3, 4, &mut seeded(0))
        .unwrap();
    let run = |c: Box<dyn rnnzoo::cell::Cell<f64>>| {
        Recurrent::new(c)
            .infer(Inputs::new(&[0.3; 3 * 2], 2, 1))
            .unwrap()
            .output
    };
    assert_ne!(run(dense), run(exp));
    // eps reaches the layer norm: a large eps shrinks the normalised values.
    let ln = |eps: &str| {
        CellChoice::parse("lstm-layernorm", eps)
            .unwrap()
            .build::<f64, _>(3, 4, &mut seeded(1))
            .unwrap()
    };
    assert_ne!(run(ln("")), run(ln("eps=0.5")));
    assert_eq!(run(ln("")), run(ln("eps=0.00001")));
    let peep = CellChoice::named("lstm-peephole")
        .unwrap()
        .build::<f32, _>(2, 3, &mut seeded(0))
        .unwrap();
    assert_eq!(peep.params().names().last(), Some("weight_co"));
}

#[test]
fn heads_that_do_not_divide_the_hidden_size_are_typed_errors() {
    let c = CellChoice::parse("slstm", "heads=3").unwrap();
    match c.build::<f64, _>(2, 4, &mut seeded(0)) {
        Err(ZooError::Cell(CellError::Mismatch(m))) => {
            assert!(m.contains("3 heads do not divide the hidden size 4"), "{m}")
        }
        other => panic!("{:?}", other.map(|c| c.mode().to_string())),
    }
    assert!(c.build::<f64, _>(2, 6, &mut seeded(0)).is_ok());
    for bad in ["heads=0", "heads=1.5", "heads=5000"] {
        assert!(CellChoice::parse("slstm", bad).is_err(), "{bad}");
    }
    for bad in ["eps=0", "eps=-1", "eps=2"] {
        assert!(CellChoice::parse("lstm-layernorm", bad).is_err(), "{bad}");
    }
    assert!(matches!(
        CellChoice::parse("slstm", "forget=tanh"),
        Err(ZooError::BadOptionValue { .. })
    ));
    // Every new entry builds at the registry tests' sizes with its defaults.
    for name in ["lstm-peephole", "lstm-layernorm", "slstm"] {
        let e = zoo::get(name).unwrap();
        for h in 1..=4 {
            assert!(
                CellChoice::named(name)
                    .unwrap()
                    .build::<f32, _>(1, h, &mut seeded(0))
                    .is_ok(),
                "{name} H={h}"
            );
            assert!(e.zeros::<f32>(1, h, false).is_ok(), "{name} H={h}");
        }
    }
}
