//! Composites against finite differences: stacks of depth 1..3 of mixed cell kinds, bidirectional
//! or not, with lengths, alone and through the dense head and both losses (dropout off).

mod common;

use common::{any_cell, KINDS};
use proptest::prelude::*;
use rnnzoo_cell::gradcheck::{check, Options};
use rnnzoo_cell::seeded;
use rnnzoo_cell::strategies::{unroll_case, SizeRanges};
use rnnzoo_layers::gradcheck::{check_layer, LossKind, ModelLoss, SequenceCase};
use rnnzoo_layers::head::{Activation, Dense};
use rnnzoo_layers::{Bidirectional, Layer, Merge, Model, Readout, Recurrent, Stack};

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
        let fwd = Recurrent::new(any_cell(kind, width, hidden, s));
        if bidirectional {
            let bwd = Recurrent::new(any_cell(kind, width, hidden, s + 1));
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
        kinds in proptest::collection::vec(0..KINDS, 1..=3),
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
        kinds in proptest::collection::vec(0..KINDS, 1..=3),
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
fn names_follow_pytorch() {
    let s = stack(&[2, 2], 3, 4, true, Merge::Concat, 0);
    let case = SequenceCase {
        batch: 2,
        steps: 3,
        lengths: Some(vec![3, 1]),
        initial_state: true,
        seed: 0,
    };
    let report = check_layer(s, &case, &Options::default()).unwrap();
    let names: Vec<&str> = report.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(
        names[..4],
        ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    );
    assert_eq!(names[4], "weight_ih_l0_reverse");
    assert_eq!(names[15], "bias_hh_l1_reverse");
    assert_eq!(names[16..], ["input", "initial_state"]);
    assert!(report.passed(), "{report}");
}
