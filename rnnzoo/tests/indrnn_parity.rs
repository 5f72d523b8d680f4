//! rnnzoo-indrnn's cell (IndRNN, relu and tanh) against a PyTorch reference of the paper's
//! equation (`h_t = σ(W x_t + u ⊙ h_{t-1} + b)`, written as a sequential loop; autograd gives the
//! gradients): every case in `tests/fixtures/indrnn/` (written by `generate.py` there; 1 layer,
//! and 2 layers bidirectional with variable lengths, all with initial states, `u` of both signs,
//! relu cases kept more than 1e-6 off the kink) rebuilt from the registry and compared to 1e-9
//! in float64: outputs, final states, and the gradients of every parameter, the input and the
//! initial state.

use crate::family_parity::{a_wrong_weight_is_caught, cases, check};

#[test]
fn every_case_matches_the_pytorch_reference() {
    let cases = cases("indrnn");
    for prefix in ["indrnn", "indrnn_tanh"] {
        for kind in ["1l", "2l_bidir_lengths"] {
            assert!(
                cases
                    .iter()
                    .any(|c| c.name == format!("{prefix}_{kind}.safetensors")),
                "no {kind} case of {prefix}"
            );
        }
    }
    for case in &cases {
        assert_eq!(case.meta("cell"), "indrnn", "{}", case.name);
        let tanh = case.name.starts_with("indrnn_tanh");
        assert_eq!(
            case.meta("options"),
            if tanh { "nonlinearity=tanh" } else { "" },
            "{}",
            case.name
        );
        check(case);
    }
}

#[test]
fn a_wrong_weight_is_caught_by_every_case() {
    for case in &cases("indrnn") {
        a_wrong_weight_is_caught(case);
    }
}
