//! The registry's `lstm-proj`: its hidden size is the output (PyTorch's `proj_size`), its
//! `cell_size` option PyTorch's `hidden_size` (0 for twice the hidden size, so that every hidden
//! size from 1 builds), and what does not fit PyTorch's `0 < proj_size < hidden_size` is a typed
//! error. Its gradient checks through time are the registry-driven tests (`composite_gradcheck`,
//! `readout`, ...), which build every kind.

use rnnzoo::cell::{CellError, seeded};
use rnnzoo::zoo::{CellChoice, ZooError};

#[test]
fn the_hidden_size_is_the_output_and_cell_size_defaults_to_twice_it() {
    for hidden in 1..=5 {
        let cell = CellChoice::named("lstm-proj")
            .unwrap()
            .build::<f64, _>(3, hidden, &mut seeded(0))
            .unwrap();
        assert_eq!(cell.hidden_size(), hidden);
        assert_eq!(cell.state_size(), hidden + 2 * hidden);
        assert_eq!(
            cell.params().get("weight_hr").unwrap().shape(),
            [hidden, 2 * hidden]
        );
    }
    let c: CellChoice = "lstm-proj:cell_size=8".parse().unwrap();
    assert_eq!(
        (c.to_string(), c.label()),
        (
            "lstm-proj:cell_size=8".to_string(),
            "lstm-proj (cell size 8)".to_string()
        )
    );
    let cell = c.build::<f32, _>(3, 2, &mut seeded(0)).unwrap();
    assert_eq!(cell.params().get("weight_hh").unwrap().shape(), [32, 2]);
    assert_eq!(cell.params().get("weight_hr").unwrap().shape(), [2, 8]);
    // The default written out is the default.
    assert_eq!(
        CellChoice::parse("lstm-proj", "cell_size=0")
            .unwrap()
            .to_string(),
        "lstm-proj"
    );
}

#[test]
fn a_cell_size_that_is_not_above_the_hidden_size_is_a_typed_error() {
    for cell_size in [1, 3] {
        let c = CellChoice::parse("lstm-proj", &format!("cell_size={cell_size}")).unwrap();
        match c.build::<f64, _>(2, 3, &mut seeded(0)) {
            Err(ZooError::OptionOutOfRange {
                option,
                value,
                expected,
                ..
            }) => {
                assert_eq!((option, value), ("cell_size", cell_size.to_string()));
                assert!(expected.contains("above the hidden size 3"), "{expected}");
            }
            other => panic!("{:?}", other.err()),
        }
    }
    for text in ["cell_size=-1", "cell_size=2.5", "cell_size=x"] {
        assert!(
            matches!(
                CellChoice::parse("lstm-proj", text),
                Err(ZooError::OptionOutOfRange { .. })
            ),
            "{text}"
        );
    }
    // A zero hidden size is the hidden size's fault, whatever cell_size says.
    for opts in ["", "cell_size=5"] {
        let c = CellChoice::parse("lstm-proj", opts).unwrap();
        assert!(matches!(
            c.build::<f64, _>(2, 0, &mut seeded(0)),
            Err(ZooError::Cell(CellError::ZeroSize {
                what: "hidden_size"
            }))
        ));
    }
}

#[test]
fn the_forget_bias_option_sets_the_forget_gate_of_the_cell_size_rows() {
    let (p, h) = (2, 5);
    let c = CellChoice::parse("lstm-proj", "forget_bias=1,cell_size=5").unwrap();
    let cell = c.build::<f64, _>(3, p, &mut seeded(0)).unwrap();
    let b_ih = cell.params().get("bias_ih").unwrap().data();
    let b_hh = cell.params().get("bias_hh").unwrap().data();
    assert!(b_ih[h..2 * h].iter().all(|&v| v == 1.0));
    assert!(b_hh[h..2 * h].iter().all(|&v| v == 0.0));
    assert!(b_ih[..h].iter().all(|&v| v != 1.0));
}
