//! rnnzoo-lru's cell against a PyTorch reference of the paper's equations (Orvieto et al. 2023,
//! appendix A, stepped sequentially with torch complex tensors): every case in
//! `tests/fixtures/lru/` (written by `generate.py` there; 1 layer at the defaults, 1 layer with a
//! wider state on a ring near the unit circle over 12 steps, and 2 layers bidirectional with
//! variable lengths and `N != H`, all with initial states) rebuilt from the registry and compared
//! to 1e-9 in float64: outputs, final states, and the gradients of every parameter, the input and
//! the initial state. Also: the registry's LRU options build what they say and refuse what they
//! cannot build, with typed errors.

use crate::family_parity::{TOL, cases, check};
use rnnzoo::cell::{Cell, seeded};
use rnnzoo::layers::Layer;
use rnnzoo::zoo::{self, CellChoice, ZooError};

#[test]
fn every_case_matches_the_pytorch_reference() {
    let cases = cases("lru");
    for kind in ["lru_1l", "lru_1l_ring", "lru_2l_bidir_lengths"] {
        assert!(
            cases
                .iter()
                .any(|c| c.name == format!("{kind}.safetensors")),
            "no case {kind}"
        );
    }
    for case in &cases {
        assert_eq!(case.meta("cell"), "lru", "{}", case.name);
        check(case);
    }
}

/// The parity check can fail: one element of `B_re_l0` (an input weight) or of `theta_log_l0`
/// (a phase of λ) moved by `1e-6` moves the output by more than [`TOL`].
#[test]
fn a_wrong_weight_is_caught_by_every_case() {
    for case in &cases("lru") {
        for name in ["B_re", "theta_log"] {
            let mut stack = case.stack();
            assert!(case.worst_output(&stack) <= TOL, "{}", case.name);
            let params = stack.params_mut().remove(0);
            let k = params.index_of(name).unwrap();
            params.at_mut(k).data_mut()[0] += 1e-6;
            assert!(case.worst_output(&stack) > TOL, "{} {name}", case.name);
        }
    }
}

#[test]
fn the_registry_options_shape_and_initialise_the_cell() {
    let e = zoo::get("lru").unwrap();
    let cell = CellChoice::parse("lru", "state=6,r_min=0.5,r_max=0.8,max_phase=1")
        .unwrap()
        .build::<f64, _>(3, 4, &mut seeded(0))
        .unwrap();
    assert_eq!((cell.mode(), cell.state_size()), ("LRU", 4 + 2 * 6));
    let nu = cell.params().get("nu_log").unwrap().data();
    let theta = cell.params().get("theta_log").unwrap().data();
    for (v, t) in nu.iter().zip(theta) {
        let r = (-v.exp()).exp();
        assert!((0.5..=0.8).contains(&r), "|λ| = {r}");
        assert!((0.0..=1.0).contains(&t.exp()));
    }
    // The default is N = H, and a loader's zero cell takes `state` from the options.
    let d = e
        .build::<f32, _>(3, 5, &Default::default(), &mut seeded(0))
        .unwrap();
    assert_eq!(d.state_size(), 15);
    let z = e
        .zeros_with::<f64>(3, 5, &zoo::Options::parse(e, "state=2").unwrap(), false)
        .unwrap();
    assert_eq!(z.state_size(), 5 + 4);
}

#[test]
fn registry_options_out_of_range_are_typed_errors() {
    for text in [
        "r_min=-0.1",
        "r_min=1",
        "r_max=0",
        "r_max=1.5",
        "max_phase=0",
        "max_phase=7",
        "state=1.5",
        "state=-1",
    ] {
        assert!(
            matches!(
                CellChoice::parse("lru", text),
                Err(ZooError::OptionOutOfRange { .. })
            ),
            "{text}"
        );
    }
    // In range each, but r_min above r_max: refused when the cell is built, naming r_min.
    let choice = CellChoice::parse("lru", "r_min=0.9,r_max=0.5").unwrap();
    match choice.build::<f64, _>(3, 4, &mut seeded(0)) {
        Err(ZooError::OptionOutOfRange { option, .. }) => assert_eq!(option, "r_min"),
        other => panic!("{:?}", other.map(|c| c.mode().to_string())),
    }
    assert!(matches!(
        CellChoice::parse("lru", "forget_bias=1"),
        Err(ZooError::UnknownOption { .. })
    ));
}
