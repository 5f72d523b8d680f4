//! Random malformed calls on layers of every cell kind of the registry (`zoo::variants`, so a new
//! cell is covered with no edit): each returns the typed error of its mistake, none panics. The
//! calls that do not depend on the kind stay in `rnnzoo-layers`' own `malformed_calls` test.

use crate::common;

use proptest::prelude::*;
use rnnzoo::cell::{CellError, seeded};
use rnnzoo::layers::{Bidirectional, Inputs, Layer, LayerError, Merge, Recurrent, Stack};

/// One way to get a call wrong.
#[derive(Debug, Clone)]
enum Mistake {
    /// Input values off by `delta` from `I * T * B`.
    Width(isize),
    /// Sample `b`'s length set to `T + extra` (extra >= 1).
    TooLong(usize, usize),
    /// Sample `b`'s length set to 0.
    ZeroLength(usize),
    /// One length too many or too few.
    LengthCount(bool),
    /// A batch of zero.
    EmptyBatch,
    /// Zero steps.
    NoSteps,
    /// Initial state off by `delta` values.
    State(isize),
    /// `d_output` off by `delta` values in backward.
    DOutput(isize),
    /// A NaN or infinity at input value `k` (modulo the input's size) or in the initial state.
    NonFinite(usize, bool),
}

fn mistake() -> impl Strategy<Value = Mistake> {
    prop_oneof![
        (-5isize..=5)
            .prop_filter("nonzero", |d| *d != 0)
            .prop_map(Mistake::Width),
        (0usize..4, 1usize..4).prop_map(|(b, e)| Mistake::TooLong(b, e)),
        (0usize..4).prop_map(Mistake::ZeroLength),
        any::<bool>().prop_map(Mistake::LengthCount),
        Just(Mistake::EmptyBatch),
        Just(Mistake::NoSteps),
        (-3isize..=3)
            .prop_filter("nonzero", |d| *d != 0)
            .prop_map(Mistake::State),
        (-3isize..=3)
            .prop_filter("nonzero", |d| *d != 0)
            .prop_map(Mistake::DOutput),
        (any::<usize>(), any::<bool>()).prop_map(|(k, state)| Mistake::NonFinite(k, state)),
    ]
}

fn resize(n: usize, delta: isize) -> usize {
    (n as isize + delta).max(0) as usize
}

/// Whether `err` is the error the mistake `m` must give.
fn is_the_error_of(m: &Mistake, err: &LayerError) -> bool {
    match (m, err) {
        (Mistake::Width(_), LayerError::InputShape { .. })
        | (Mistake::TooLong(..), LayerError::LengthTooLong { .. })
        | (Mistake::ZeroLength(_), LayerError::ZeroLength { .. })
        | (Mistake::LengthCount(_), LayerError::LengthsCount { .. })
        | (Mistake::EmptyBatch, LayerError::EmptyBatch)
        | (Mistake::NoSteps, LayerError::NoSteps)
        | (Mistake::State(_), LayerError::InitialState { .. })
        | (
            Mistake::DOutput(_),
            LayerError::GradShape {
                what: "d_output", ..
            },
        ) => true,
        (Mistake::NonFinite(_, state), LayerError::NonFinite { what, .. }) => {
            *what == if *state { "initial state" } else { "input" }
        }
        _ => false,
    }
}

/// Calls `layer` with the mistake applied; returns the error, or `None` if the call succeeded.
fn call(layer: &dyn Layer<f64>, steps: usize, batch: usize, m: &Mistake) -> Option<LayerError> {
    let (i, s) = (layer.input_size(), layer.state_size());
    let mut x = vec![0.1; i * steps * batch];
    let mut lengths = vec![steps; batch];
    let mut init = vec![0.0; s * batch];
    let (mut t, mut b) = (steps, batch);
    match *m {
        Mistake::Width(d) => x.resize(resize(x.len(), d), 0.0),
        Mistake::TooLong(k, e) => lengths[k % batch] = steps + e,
        Mistake::ZeroLength(k) => lengths[k % batch] = 0,
        Mistake::LengthCount(more) => {
            if more {
                lengths.push(1)
            } else {
                lengths.pop();
            }
        }
        Mistake::EmptyBatch => {
            b = 0;
            x.clear();
            lengths.clear();
            init.clear();
        }
        Mistake::NoSteps => {
            t = 0;
            x.clear();
        }
        Mistake::State(d) => init.resize(resize(init.len(), d), 0.0),
        Mistake::NonFinite(k, false) => x[k % (i * steps * batch)] = f64::NAN,
        Mistake::NonFinite(k, true) => init[k % (s * batch)] = f64::INFINITY,
        Mistake::DOutput(d) => {
            let (out, tape) = layer
                .forward(Inputs::new(&x, t, b).lengths(&lengths).initial(&init), None)
                .unwrap();
            let d_out = vec![1.0; resize(out.output.len(), d)];
            let mut grads = layer.zero_grads();
            return layer.backward(&tape, &d_out, None, &mut grads).err();
        }
    }
    let inputs = Inputs::new(&x, t, b).lengths(&lengths).initial(&init);
    let forward = layer.forward(inputs, Some(&mut seeded(0))).err();
    let infer = layer.infer(inputs).err();
    assert_eq!(forward, infer, "forward and infer disagree on {m:?}");
    forward
}

fn layers(kind: usize, input: usize, hidden: usize) -> Vec<Box<dyn Layer<f64>>> {
    let rec = || Recurrent::new(common::cell::<f64>(kind, input, hidden, 1));
    let bi = Bidirectional::new(rec(), rec(), Merge::Concat).unwrap();
    let deep = Stack::new(vec![
        Box::new(rec()) as Box<dyn Layer<f64>>,
        Box::new(Recurrent::new(common::cell::<f64>(
            kind + 1,
            hidden,
            hidden,
            2,
        ))),
    ])
    .unwrap();
    vec![Box::new(rec()), Box::new(bi), Box::new(deep)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_malformed_layer_call_is_an_error(
        kind in 0..common::count(), input in 1usize..5, hidden in 1usize..5,
        steps in 1usize..5, batch in 1usize..4, m in mistake(),
    ) {
        for layer in layers(kind, input, hidden) {
            match call(layer.as_ref(), steps, batch, &m) {
                Some(err) => prop_assert!(is_the_error_of(&m, &err), "{m:?} gave {err:?}"),
                None => prop_assert!(false, "{m:?} was accepted"),
            }
        }
    }

    #[test]
    fn wrong_parameter_shapes_are_errors(kind in 0..common::count(), extra in 1usize..4) {
        let mut cell = common::cell::<f64>(kind, 3, 4, 0);
        let names: Vec<String> = cell.params().names().map(String::from).collect();
        for name in names {
            let n = cell.params().get(&name).unwrap().len();
            prop_assert!(matches!(
                cell.params_mut().set(&name, &vec![0.0; n + extra]),
                Err(CellError::ParamShape { .. })
            ), "the wrong error kind");
        }
        prop_assert!(matches!(
            cell.params_mut().set("weight_xx", &[0.0]),
            Err(CellError::UnknownParam { .. })
        ), "the wrong error kind");
        // Layers that do not fit together.
        let a = Recurrent::new(common::cell::<f64>(kind, 3, 4, 0));
        let b = Recurrent::new(common::cell::<f64>(kind, 3 + extra, 4, 0));
        prop_assert!(matches!(
            Bidirectional::new(Recurrent::new(common::cell::<f64>(kind, 3, 4, 0)), b, Merge::Concat),
            Err(LayerError::Compose(_))
        ), "the wrong error kind");
        let c = Recurrent::new(common::cell::<f64>(kind, 4 + extra, 4, 0));
        prop_assert!(matches!(
            Stack::new(vec![Box::new(a) as Box<dyn Layer<f64>>, Box::new(c)]),
            Err(LayerError::Compose(_))
        ), "the wrong error kind");
    }
}

/// The proptests draw kinds at random; this runs every variant once, so none is left out.
#[test]
fn every_variant_refuses_every_mistake() {
    let mistakes = [
        Mistake::Width(1),
        Mistake::TooLong(0, 1),
        Mistake::ZeroLength(1),
        Mistake::LengthCount(true),
        Mistake::EmptyBatch,
        Mistake::NoSteps,
        Mistake::State(-1),
        Mistake::DOutput(2),
        Mistake::NonFinite(3, false),
        Mistake::NonFinite(0, true),
    ];
    for kind in 0..common::count() {
        for layer in layers(kind, 3, 4) {
            for m in &mistakes {
                match call(layer.as_ref(), 3, 2, m) {
                    Some(err) => assert!(is_the_error_of(m, &err), "{kind}: {m:?} gave {err:?}"),
                    None => panic!("{kind}: {m:?} was accepted"),
                }
            }
        }
    }
}
