//! Every cell unrolled through time, checked against finite differences over random sizes,
//! lengths, directions and initial states: every parameter element, the input and the initial
//! state (`h`, and `c` for the LSTM).

use proptest::prelude::*;
use rnnzoo_cell::gradcheck::{Options, Sampling};
use rnnzoo_cell::strategies::{SizeRanges, UnrollCase, unroll_case};
use rnnzoo_cell::{Cell, seeded};
use rnnzoo_gru::{GruCell, GruResetBeforeCell};
use rnnzoo_layers::gradcheck::check_unrolled;
use rnnzoo_lstm::{LstmCell, LstmOptions};
use rnnzoo_vanilla::{Nonlinearity, VanillaCell};

fn check<C: Cell<f64>>(case: &UnrollCase, cell: C) -> Result<(), TestCaseError> {
    let (i, h, s) = (cell.input_size(), cell.hidden_size(), cell.state_size());
    let params = cell.params().num_values();
    let mode = cell.mode().to_string();
    let report = check_unrolled(cell, case, &Options::default()).unwrap();
    prop_assert!(report.passed(), "{mode} {case:?}\n{report}");
    // Every element was checked, not sampled.
    let want = params
        + i * case.steps * case.batch
        + if case.initial_state {
            s * case.batch
        } else {
            0
        };
    prop_assert_eq!(report.groups.iter().map(|g| g.checked).sum::<usize>(), want);
    let _ = h;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn vanilla_tanh(case in unroll_case(SizeRanges::default()), bias in any::<bool>()) {
        check(&case, VanillaCell::with_bias(case.input, case.hidden, Nonlinearity::Tanh, bias, &mut seeded(case.seed)).unwrap())?;
    }

    #[test]
    fn vanilla_relu(case in unroll_case(SizeRanges::default()), bias in any::<bool>()) {
        check(&case, VanillaCell::with_bias(case.input, case.hidden, Nonlinearity::Relu, bias, &mut seeded(case.seed)).unwrap())?;
    }

    #[test]
    fn lstm(case in unroll_case(SizeRanges::default()), bias in any::<bool>()) {
        let opts = LstmOptions::default().with_bias(bias).with_unit_forget_bias(bias);
        check(&case, LstmCell::with_options(case.input, case.hidden, opts, &mut seeded(case.seed)).unwrap())?;
    }

    #[test]
    fn gru(case in unroll_case(SizeRanges::default()), bias in any::<bool>()) {
        check(&case, GruCell::with_bias(case.input, case.hidden, bias, &mut seeded(case.seed)).unwrap())?;
    }

    #[test]
    fn gru_reset_before(case in unroll_case(SizeRanges::default()), bias in any::<bool>()) {
        check(&case, GruResetBeforeCell::with_bias(case.input, case.hidden, bias, &mut seeded(case.seed)).unwrap())?;
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
    let opts = Options {
        max_elements: 200,
        ..Options::default()
    };
    let cell = LstmCell::<f64>::new(6, 8, &mut seeded(3)).unwrap();
    let report = check_unrolled(cell, &case, &opts).unwrap();
    assert!(report.passed(), "{report}");
    assert_eq!(
        report.group("input").unwrap().sampling,
        Sampling::Directions
    );
}
