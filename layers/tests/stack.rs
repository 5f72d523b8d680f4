//! `Stack`'s own settings: the dropout probability between layers is what was set, and a
//! probability outside `[0, 1)` is refused.

use rnnzoo_cell::seeded;
use rnnzoo_layers::{Layer, LayerError, Recurrent, Stack};
use rnnzoo_lstm::LstmCell;

fn two_layers() -> Stack<f32> {
    let layer = |i, s| -> Box<dyn Layer<f32>> {
        Box::new(Recurrent::new(LstmCell::new(i, 4, &mut seeded(s)).unwrap()))
    };
    Stack::new(vec![layer(3, 0), layer(4, 1)]).unwrap()
}

#[test]
fn dropout_is_what_was_set() {
    assert_eq!(two_layers().dropout(), 0.0);
    for p in [0.0, 0.25, 0.999] {
        assert_eq!(two_layers().with_dropout(p).unwrap().dropout(), p);
    }
}

#[test]
fn dropout_outside_zero_to_one_is_refused() {
    for p in [-0.1, 1.0, 1.5, f64::NAN, f64::INFINITY] {
        match two_layers().with_dropout(p) {
            Err(LayerError::Compose(msg)) => assert!(msg.contains("[0, 1)"), "{msg}"),
            other => panic!("p = {p}: {:?}", other.map(|s| s.dropout())),
        }
    }
}
