//! The checker's sensitivity, on every cell of the registry (`zoo::variants`, so a new cell is
//! covered with no edit): a relative error of 1e-6 planted in any one block of the analytic
//! gradient through time (each gate's rows of `d weight_ih` and `d weight_hh`, each other
//! parameter, `d input`, `d initial state`) fails the default check, and the failure is located
//! in the block. `torch.autograd.gradcheck`'s tolerances, for comparison, miss a 1e-4 error.

use rnnzoo::cell::gradcheck::{Location, Options, Planted, Report, Verdict, blocks, check};
use rnnzoo::cell::seeded;
use rnnzoo::layers::gradcheck::{LayerLoss, SequenceCase};
use rnnzoo::layers::{Direction, Recurrent};
use rnnzoo::zoo::{self, CellChoice};

fn case(seed: u64) -> SequenceCase {
    SequenceCase {
        steps: 4,
        batch: 2,
        lengths: Some(vec![4, 3]),
        initial_state: true,
        seed,
    }
}

#[test]
fn a_one_in_a_million_error_in_any_block_of_any_cell_is_caught_and_located() {
    for choice in zoo::variants() {
        for (k, direction) in [Direction::Forward, Direction::Reverse]
            .into_iter()
            .enumerate()
        {
            let seed = 7 + k as u64;
            let loss = || {
                let cell = choice.build::<f64, _>(3, 4, &mut seeded(seed)).unwrap();
                LayerLoss::new(Recurrent::with_direction(cell, direction), &case(seed))
                    .unwrap()
                    .in_columns()
            };
            let mut clean = loss();
            let report = check(&mut clean, &Options::default());
            assert!(
                report.passed(),
                "{choice} {direction:?}: a false alarm\n{report}"
            );
            let all = blocks(&clean);
            assert!(all.iter().any(|b| b.name == "initial_state"), "{choice}");
            assert!(all.iter().any(|b| b.name == "input"), "{choice}");
            for block in all {
                let opts = Options::default().only(&[&block.group_name]);
                let mut planted = Planted::new(loss(), block.clone(), 1e-6);
                let mut report = check(&mut planted, &opts);
                report.name_gates(choice.entry().gate_names);
                assert!(
                    !report.passed(),
                    "{choice} {direction:?}: 1e-6 in {} not caught\n{report}",
                    block.name
                );
                // The failure lies in the block: its first failing element is in the planted gate.
                let g = &report.groups[0];
                let first = g.first_failure.expect("a failure");
                assert_eq!(first.verdict, Verdict::Fail);
                assert!(
                    block.range.contains(&first.index),
                    "{}: {first}",
                    block.name
                );
                if let (Some(gate), Location::Param { gate: at, name, .. }) =
                    (block.gate, first.location)
                {
                    assert_eq!(at, gate, "{choice}: {}", block.name);
                    // Named from the registry, and shown in the report.
                    let want = choice.entry().gate_names[gate];
                    assert_eq!(name, Some(want), "{choice}: {}", block.name);
                    let shown = format!("(gate {want}: {gate} of");
                    assert!(report.to_string().contains(&shown), "{choice}: {report}");
                }
            }
        }
    }
}

#[test]
fn torch_gradcheck_tolerances_let_a_planted_1e4_error_through() {
    // One cell is enough to show the contrast the default exists for.
    let choice = &zoo::variants()[0];
    let cell = choice.build::<f64, _>(3, 4, &mut seeded(1)).unwrap();
    let loss = LayerLoss::new(Recurrent::new(cell), &case(1)).unwrap();
    let block = blocks(&loss)
        .into_iter()
        .find(|b| b.name.starts_with("weight_hh"))
        .unwrap();
    let mut planted = Planted::new(loss, block, 1e-4);
    assert!(check(&mut planted, &Options::torch_gradcheck()).passed());
    assert!(!check(&mut planted, &Options::default()).passed());
}

#[test]
fn the_earliest_failing_step_is_named() {
    // d weight_hh sums d_gh_t h_{t-1}^T: from a zero initial state, step 0 adds nothing to it, so
    // an error in that block first shows on the prefix of two steps (step 1); from a random
    // initial state, at step 0. The input's error shows at step 0 either way.
    //
    // Every kind at its default options: a chrono-initialised update gate (`update_bias=chrono`)
    // holds h near its zero start for all four steps, so weight_hh's whole gradient is then near
    // zero and a 1e-6 relative error in it is far below what any difference of the loss can see.
    // `a_one_in_a_million_error_in_any_block_of_any_cell_is_caught_and_located` covers every variant.
    for choice in zoo::entries()
        .iter()
        .map(|e| CellChoice::from_entry(e, zoo::Options::default()))
    {
        for (initial_state, block_name, want) in [
            (false, "weight_hh", 1),
            (true, "weight_hh", 0),
            (false, "input", 0),
        ] {
            let seq = SequenceCase {
                initial_state,
                ..case(3)
            };
            let cell = choice.build::<f64, _>(3, 4, &mut seeded(3)).unwrap();
            let mut loss = LayerLoss::new(Recurrent::new(cell), &seq).unwrap();
            // The recurrent matrix's parameter: `weight_hh`, or exprnn's `skew_hh` (W_hh =
            // exp(S) is a function of it, and reaches h_{t-1} the same way), or LRU's `nu_log`
            // (the magnitude of its diagonal lambda).
            let found = blocks(&loss).into_iter().find(|b| {
                b.name.starts_with(block_name)
                    || (block_name == "weight_hh"
                        && (b.name.starts_with("skew_hh") || b.name.starts_with("nu_log")))
            });
            let block = match found {
                Some(b) => b,
                // A scan cell's recurrence is elementwise: most have no recurrent matrix (IndRNN's
                // diagonal weight_hh is found, and located like one).
                None if block_name == "weight_hh" && choice.entry().form == zoo::Form::Scan => {
                    continue;
                }
                None => panic!("{choice} has no {block_name} block"),
            };
            let opts = Options::default();
            let report = check(&mut Planted::new(&mut loss, block.clone(), 1e-6), &opts);
            assert!(!report.passed(), "{choice}: {}", block.name);
            let step = loss
                .earliest_failing_step_with(&report, &opts, |f, o| {
                    check(&mut Planted::new(f, block.clone(), 1e-6), o)
                })
                .expect("a failing step");
            assert_eq!(
                step.step, want,
                "{choice} {block_name} h0={initial_state}: {step:?}"
            );
            assert_eq!(
                (step.steps, step.group.as_str()),
                (4, block.group_name.as_str())
            );
            let text = Report {
                earliest_step: Some(step),
                ..report
            }
            .to_string();
            assert!(
                text.contains(&format!("earliest failing step: {want} of 4")),
                "{text}"
            );
        }
    }
}

/// A whole model (an LSTM body, a dense head on every step, cross-entropy with lengths) names its
/// earliest failing step too: an error in d weight_hh from a zero state first shows at step 1,
/// one in d input at step 0; and a clean model passes.
#[test]
fn a_models_earliest_failing_step_is_named() {
    use rnnzoo::layers::gradcheck::{LossKind, ModelLoss, check_model};
    use rnnzoo::layers::head::{Activation, Dense};
    use rnnzoo::layers::{Layer, Model, Readout, Stack};
    let model = || {
        let cell = CellChoice::parse("lstm", "")
            .unwrap()
            .build::<f64, _>(3, 4, &mut seeded(5))
            .unwrap();
        let body = Stack::new(vec![Box::new(Recurrent::new(cell)) as Box<dyn Layer<f64>>]).unwrap();
        let head = Dense::new(4, 3, Activation::Identity, &mut seeded(6)).unwrap();
        Model::new(body, head, Readout::EveryStep).unwrap()
    };
    let seq = SequenceCase {
        initial_state: false,
        ..case(3)
    };
    let opts = Options::default();
    assert!(
        check_model(model(), &seq, LossKind::CrossEntropy, &opts)
            .unwrap()
            .passed()
    );
    for (block_name, want) in [("weight_hh", 1), ("bias_head", 0)] {
        let mut loss = ModelLoss::new(model(), &seq, LossKind::CrossEntropy).unwrap();
        let block = blocks(&loss)
            .into_iter()
            .find(|b| b.name.starts_with(block_name))
            .unwrap_or_else(|| {
                panic!(
                    "no {block_name} in {:?}",
                    blocks(&loss)
                        .iter()
                        .map(|b| b.name.clone())
                        .collect::<Vec<_>>()
                )
            });
        let report = check(&mut Planted::new(&mut loss, block.clone(), 1e-6), &opts);
        assert!(!report.passed(), "{}", block.name);
        let step = loss
            .earliest_failing_step_with(&report, &opts, |f, o| {
                check(&mut Planted::new(f, block.clone(), 1e-6), o)
            })
            .expect("a failing step");
        assert_eq!(
            (step.step, step.steps),
            (want, seq.steps),
            "{block_name}: {step:?}"
        );
    }
}
