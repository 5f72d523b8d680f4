//! Composites against finite differences: stacks of depth 1..3 of mixed cell kinds of the
//! registry (every entry and option value, `zoo::variants`), bidirectional or not, with lengths,
//! alone and through the dense head and both losses (dropout off). A new cell is covered with no
//! edit: the proptests draw from the registry, and `every_variant_passes` runs each once.

use crate::common;

use proptest::prelude::*;
use rnnzoo::cell::gradcheck::{Options, check};
use rnnzoo::cell::seeded;
use rnnzoo::cell::strategies::{SizeRanges, unroll_case};
use rnnzoo::layers::gradcheck::{LossKind, ModelLoss, SequenceCase, check_layer};
use rnnzoo::layers::head::{Activation, Dense};
use rnnzoo::layers::{Bidirectional, Layer, Merge, Model, Readout, Recurrent, Stack};

/// A stack of `kinds.len()` layers of `hidden` units each, bidirectional or not.
fn stack(
    kinds: &[usize],
    input: usize,
    hidden: usize,
    bidirectional: bool,
    merge: Merge,
    seed: u64,
) -> Stack<f64> {
    let mut layers: Vec<Box<dyn Layer<f64>>> = Vec::new();
    let mut width = input;
    for (k, &kind) in kinds.iter().enumerate() {
        let s = seed.wrapping_add(10 * k as u64);
        let fwd = Recurrent::new(common::cell(kind, width, hidden, s));
        if bidirectional {
            let bwd = Recurrent::new(common::cell(kind, width, hidden, s + 1));
            let bi = Bidirectional::new(fwd, bwd, merge).unwrap();
            width = bi.output_size();
            layers.push(Box::new(bi));
        } else {
            width = hidden;
            layers.push(Box::new(fwd));
        }
    }
    Stack::new(layers).unwrap()
}

fn small() -> SizeRanges {
    SizeRanges {
        input: 1..=4,
        hidden: 1..=4,
        batch: 1..=3,
        steps: 1..=5,
    }
}

fn merge_of(k: usize) -> Merge {
    [Merge::Concat, Merge::Sum, Merge::Mean, Merge::Product][k % 4]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn stacks_pass(
        case in unroll_case(small()),
        kinds in proptest::collection::vec(0..common::count(), 1..=3),
        bidirectional in any::<bool>(),
        merge in 0usize..4,
    ) {
        let s = stack(&kinds, case.input, case.hidden, bidirectional, merge_of(merge), case.seed);
        let report = check_layer(s, &(&case).into(), &Options::default()).unwrap();
        prop_assert!(report.passed(), "{kinds:?} bi={bidirectional} {case:?}\n{report}");
    }

    #[test]
    fn models_pass_through_head_and_loss(
        case in unroll_case(small()),
        kinds in proptest::collection::vec(0..common::count(), 1..=3),
        bidirectional in any::<bool>(),
        every_step in any::<bool>(),
        cross_entropy in any::<bool>(),
        outputs in 1usize..4,
    ) {
        let body = stack(&kinds, case.input, case.hidden, bidirectional, Merge::Concat, case.seed);
        let act = if cross_entropy { Activation::Identity } else { [Activation::Identity, Activation::Sigmoid][case.seed as usize % 2] };
        let head = Dense::new(body.output_size(), outputs, act, &mut seeded(case.seed ^ 1)).unwrap();
        let readout = if every_step { Readout::EveryStep } else { Readout::LastStep };
        let model = Model::new(body, head, readout).unwrap();
        let kind = if cross_entropy { LossKind::CrossEntropy } else { LossKind::MeanSquared };
        let report = check(&mut ModelLoss::new(model, &(&case).into(), kind).unwrap(), &Options::default());
        prop_assert!(report.passed(), "{kinds:?} bi={bidirectional} {readout:?} {kind:?} {case:?}\n{report}");
    }
}

#[test]
fn every_variant_passes_with_pytorchs_names() {
    let case = SequenceCase {
        batch: 2,
        steps: 3,
        lengths: Some(vec![3, 1]),
        initial_state: true,
        seed: 0,
    };
    for (kind, choice) in common::variants().iter().enumerate() {
        let s = stack(&[kind, kind], 3, 4, true, Merge::Concat, 0);
        let own: Vec<String> = common::cell::<f64>(kind, 3, 4, 0)
            .params()
            .names()
            .map(String::from)
            .collect();
        if choice.entry().torch_mode.is_some() {
            // nn.LSTM(..., proj_size=P) adds its projection, `weight_hr`, after the four.
            let projection: &[&str] = if own.iter().any(|n| n == "weight_hr") {
                &["weight_hr"]
            } else {
                &[]
            };
            let pytorch = [
                &["weight_ih", "weight_hh", "bias_ih", "bias_hh"][..],
                projection,
            ];
            assert_eq!(own, pytorch.concat(), "{choice}");
        }
        let report = check_layer(s, &case, &Options::default()).unwrap();
        let names: Vec<&str> = report.groups.iter().map(|g| g.name.as_str()).collect();
        let mut want = Vec::new();
        for layer in 0..2 {
            for suffix in ["", "_reverse"] {
                want.extend(own.iter().map(|p| format!("{p}_l{layer}{suffix}")));
            }
        }
        want.extend(["input".to_string(), "initial_state".to_string()]);
        assert_eq!(names, want, "{choice}");
        assert!(report.passed(), "{choice}\n{report}");
    }
}
