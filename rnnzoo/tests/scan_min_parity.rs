//! rnnzoo-mingru's and rnnzoo-minlstm's cells (minGRU, minLSTM: the scan form) against PyTorch
//! references of the paper's equations written sequentially: every case in
//! `tests/fixtures/scan_min/` (written by `generate.py` there; 1 layer, and 2 layers bidirectional
//! with variable lengths, with the candidate g and the plain linear candidate, all with initial
//! states) rebuilt from the registry and compared to 1e-9 in float64: outputs, final states, and
//! the gradients of every parameter, the input and the initial state. (`generate.py` also checks
//! the paper's parallel log-space form, `reference.PARALLEL`, against the sequential one.)

use crate::family_parity::{a_wrong_weight_is_caught, cases, check};

const CELLS: &[&str] = &["mingru", "minlstm"];

#[test]
fn every_case_matches_the_pytorch_reference() {
    let cases = cases("scan_min");
    for cell in CELLS {
        for kind in ["1l", "2l_bidir_lengths", "linear_2l_bidir_lengths"] {
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
    for case in &cases("scan_min") {
        a_wrong_weight_is_caught(case);
    }
}
