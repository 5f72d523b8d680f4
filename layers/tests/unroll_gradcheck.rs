//! The vanilla cell unrolled through time, checked against finite differences over random sizes,
//! lengths, directions and initial states: every parameter element, the input and the initial
//! state.

use proptest::prelude::*;
use rnnzoo_cell::gradcheck::Options;
use rnnzoo_cell::seeded;
use rnnzoo_cell::strategies::{unroll_case, SizeRanges, UnrollCase};
use rnnzoo_layers::gradcheck::check_unrolled;
use rnnzoo_vanilla::{Nonlinearity, VanillaCell};

fn check(case: &UnrollCase, nl: Nonlinearity, bias: bool) -> Result<(), TestCaseError> {
    let cell =
        VanillaCell::<f64>::with_bias(case.input, case.hidden, nl, bias, &mut seeded(case.seed))
            .unwrap();
    let report = check_unrolled(cell, case, &Options::default()).unwrap();
    prop_assert!(report.passed(), "{case:?} {nl:?} bias={bias}\n{report}");
    // Every element was checked, not sampled.
    let want = (case.input + case.hidden + if bias { 2 } else { 0 }) * case.hidden
        + case.input * case.steps * case.batch
        + if case.initial_state {
            case.hidden * case.batch
        } else {
            0
        };
    prop_assert_eq!(report.groups.iter().map(|g| g.checked).sum::<usize>(), want);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn tanh_unrolled(case in unroll_case(SizeRanges::default()), bias in any::<bool>()) {
        check(&case, Nonlinearity::Tanh, bias)?;
    }

    #[test]
    fn relu_unrolled(case in unroll_case(SizeRanges::default()), bias in any::<bool>()) {
        check(&case, Nonlinearity::Relu, bias)?;
    }
}

#[test]
fn a_long_sequence_checks_along_random_directions() {
    let case = UnrollCase {
        input: 6,
        hidden: 8,
        batch: 3,
        steps: 60,
        lengths: Some(vec![60, 17, 41]),
        reverse: true,
        initial_state: true,
        seed: 3,
    };
    let cell = VanillaCell::<f64>::new(6, 8, Nonlinearity::Tanh, &mut seeded(3)).unwrap();
    let opts = Options {
        max_elements: 200,
        ..Options::default()
    };
    let report = check_unrolled(cell, &case, &opts).unwrap();
    assert!(report.passed(), "{report}");
    assert!(
        report.group("input").unwrap().sampling == rnnzoo_cell::gradcheck::Sampling::Directions
    );
}
