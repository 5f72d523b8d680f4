//! rnnzoo-dynamical's cells (coRNN and AntisymmetricRNN (plain and gated)) against PyTorch references of their papers'
//! equations: every case in `tests/fixtures/dynamical/` (written by `generate.py` there; 1 layer,
//! and 2 layers bidirectional with variable lengths, all with initial states) rebuilt from the
//! registry and compared to 1e-9 in float64: outputs, final states, and the gradients of every
//! parameter, the input and the initial state.

use crate::family_parity::{a_wrong_weight_is_caught, cases, check};

const CELLS: &[&str] = &["cornn", "antisymmetric", "antisymmetric-gated"];

#[test]
fn every_case_matches_the_pytorch_reference() {
    let cases = cases("dynamical");
    for cell in CELLS {
        for kind in ["1l", "2l_bidir_lengths"] {
            assert!(
                cases
                    .iter()
                    .any(|c| c.name == format!("{cell}_{kind}.safetensors")),
                "no {kind} case of {cell}"
            );
        }
    }
    for case in &cases {
        assert!(CELLS.contains(&case.meta("cell")), "{}", case.name);
        check(case);
    }
}

#[test]
fn a_wrong_weight_is_caught_by_every_case() {
    for case in &cases("dynamical") {
        a_wrong_weight_is_caught(case);
    }
}
