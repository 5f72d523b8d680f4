//! `Readout::FinalStates` and a head built without a random source, with or without bias, against
//! finite differences on stacks of every cell kind of the registry (`zoo::variants`). The values
//! and the sizes `Model::new` refuses are `rnnzoo-layers`' own `readout` test.

use crate::common;

use proptest::prelude::*;
use rnnzoo::cell::gradcheck::{Options, check};
use rnnzoo::cell::seeded;
use rnnzoo::cell::strategies::{SizeRanges, UnrollCase, unroll_case};
use rnnzoo::layers::gradcheck::{LossKind, ModelLoss, SequenceCase};
use rnnzoo::layers::head::{Activation, Dense};
use rnnzoo::layers::{Bidirectional, Layer, Merge, Model, Readout, Recurrent, Stack};

/// `depth` layers of `kind`, the top one bidirectional or not.
fn body(kind: usize, input: usize, hidden: usize, depth: usize, bi: bool, seed: u64) -> Stack<f64> {
    let mut layers: Vec<Box<dyn Layer<f64>>> = Vec::new();
    let mut width = input;
    for k in 0..depth {
        let s = seed.wrapping_add(10 * k as u64);
        let fwd = Recurrent::new(common::cell(kind, width, hidden, s));
        if bi {
            let bwd = Recurrent::new(common::cell(kind, width, hidden, s + 1));
            let pair = Bidirectional::new(fwd, bwd, Merge::Concat).unwrap();
            width = pair.output_size();
            layers.push(Box::new(pair));
        } else {
            width = hidden;
            layers.push(Box::new(fwd));
        }
    }
    Stack::new(layers).unwrap()
}

/// Whether a model of `kind` reading the final states through a head built by `Dense::zeros`
/// (then given `Dense::new`'s values) passes the gradient check.
#[allow(clippy::too_many_arguments)]
fn passes(
    case: &UnrollCase,
    kind: usize,
    depth: usize,
    bi: bool,
    bias: bool,
    cross_entropy: bool,
    outputs: usize,
) -> Result<(), String> {
    let stack = body(kind, case.input, case.hidden, depth, bi, case.seed);
    let rows = if bi { 2 * case.hidden } else { case.hidden };
    let act = if cross_entropy {
        Activation::Identity
    } else {
        Activation::Sigmoid
    };
    let mut head = Dense::zeros(rows, outputs, act, bias).unwrap();
    let fresh = Dense::<f64>::new(rows, outputs, act, &mut seeded(case.seed ^ 3)).unwrap();
    for name in head.params().names().map(String::from).collect::<Vec<_>>() {
        let v = fresh.params().get(&name).unwrap().data().to_vec();
        head.params_mut().set(&name, &v).unwrap();
    }
    let model = Model::new(stack, head, Readout::FinalStates).unwrap();
    let kind_of = if cross_entropy {
        LossKind::CrossEntropy
    } else {
        LossKind::MeanSquared
    };
    let report = check(
        &mut ModelLoss::new(model, &SequenceCase::from(case), kind_of).unwrap(),
        &Options::default(),
    );
    if report.passed() {
        Ok(())
    } else {
        Err(format!(
            "kind {kind} depth {depth} bi={bi} bias={bias} {case:?}\n{report}"
        ))
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn final_states_and_bias_free_heads_pass_the_gradient_check(
        case in unroll_case(SizeRanges { input: 1..=3, hidden: 1..=3, batch: 1..=3, steps: 1..=4 }),
        kind in 0..common::count(),
        depth in 1usize..=2,
        bi in any::<bool>(),
        bias in any::<bool>(),
        cross_entropy in any::<bool>(),
        outputs in 1usize..4,
    ) {
        let r = passes(&case, kind, depth, bi, bias, cross_entropy, outputs);
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }
}

/// The proptest draws kinds at random; this runs every variant once, so none is left out.
#[test]
fn every_variant_passes_through_the_final_states() {
    let case = UnrollCase {
        input: 2,
        hidden: 3,
        batch: 2,
        steps: 3,
        lengths: Some(vec![3, 2]),
        reverse: false,
        initial_state: true,
        seed: 4,
    };
    for kind in 0..common::count() {
        passes(&case, kind, 2, true, false, kind % 2 == 0, 2).unwrap();
    }
}
