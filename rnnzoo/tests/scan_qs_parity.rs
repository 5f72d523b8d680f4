//! rnnzoo-qrnn's and rnnzoo-sru's cells (scan form) against PyTorch references of their papers'
//! equations written sequentially: every case in `tests/fixtures/scan_qs/` (written by
//! `generate.py` there; 1 layer, and 2 layers bidirectional with variable lengths, all with
//! initial states; QRNN at window 1 and 2, SRU with the identity highway at scale 1 and sqrt(3)
//! and with the projected one) rebuilt from the registry and compared to 1e-9 in float64:
//! outputs, final states, and the gradients of every parameter, the input and the initial state.

use crate::family_parity::{a_wrong_weight_is_caught, cases, check};

const PREFIXES: &[(&str, &str)] = &[
    ("qrnn", "qrnn"),
    ("qrnn_w2", "qrnn"),
    ("sru", "sru"),
    ("sru_same", "sru"),
    ("sru_same_scaled", "sru"),
];

#[test]
fn every_case_matches_the_pytorch_reference() {
    let cases = cases("scan_qs");
    for (prefix, cell) in PREFIXES {
        for kind in ["1l", "2l_bidir_lengths"] {
            let file = format!("{prefix}_{kind}.safetensors");
            let case = cases.iter().find(|c| c.name == file);
            assert!(case.is_some_and(|c| c.meta("cell") == *cell), "no {file}");
        }
    }
    // Window 2 is really tested: its cases say so.
    assert!(
        cases
            .iter()
            .any(|c| c.name.starts_with("qrnn_w2") && c.meta("options") == "window=2")
    );
    for case in &cases {
        assert!(
            ["qrnn", "sru"].contains(&case.meta("cell")),
            "{}",
            case.name
        );
        check(case);
    }
}

#[test]
fn a_wrong_weight_is_caught_by_every_case() {
    for case in &cases("scan_qs") {
        a_wrong_weight_is_caught(case);
    }
}
