//! A caller's input is checked once, at the boundary: composites run their parts' unchecked paths.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rand::RngCore;
use rnnzoo_cell::{Params, seeded};
use rnnzoo_layers::{
    Bidirectional, InputGrads, Inputs, Layer, LayerError, LayerTape, Merge, Output, ParamGroup,
    Recurrent, Stack,
};
use rnnzoo_vanilla::{Nonlinearity, VanillaCell};

/// A layer that counts how often its checked and unchecked paths run.
struct Counting {
    inner: Recurrent<VanillaCell<f64>>,
    checked: Arc<AtomicUsize>,
    unchecked: Arc<AtomicUsize>,
}

impl Layer<f64> for Counting {
    fn input_size(&self) -> usize {
        self.inner.input_size()
    }
    fn output_size(&self) -> usize {
        self.inner.output_size()
    }
    fn state_size(&self) -> usize {
        self.inner.state_size()
    }
    fn forward(
        &self,
        inputs: Inputs<'_, f64>,
        train: Option<&mut dyn RngCore>,
    ) -> Result<(Output<f64>, LayerTape), LayerError> {
        self.checked.fetch_add(1, Ordering::SeqCst);
        self.inner.forward(inputs, train)
    }
    fn infer(&self, inputs: Inputs<'_, f64>) -> Result<Output<f64>, LayerError> {
        self.checked.fetch_add(1, Ordering::SeqCst);
        self.inner.infer(inputs)
    }
    fn forward_unchecked(
        &self,
        inputs: Inputs<'_, f64>,
        train: Option<&mut dyn RngCore>,
    ) -> Result<(Output<f64>, LayerTape), LayerError> {
        self.unchecked.fetch_add(1, Ordering::SeqCst);
        self.inner.forward_unchecked(inputs, train)
    }
    fn infer_unchecked(&self, inputs: Inputs<'_, f64>) -> Result<Output<f64>, LayerError> {
        self.unchecked.fetch_add(1, Ordering::SeqCst);
        self.inner.infer_unchecked(inputs)
    }
    fn backward(
        &self,
        tape: &LayerTape,
        d_output: &[f64],
        d_final: Option<&[f64]>,
        grads: &mut [Params<f64>],
    ) -> Result<InputGrads<f64>, LayerError> {
        self.inner.backward(tape, d_output, d_final, grads)
    }
    fn param_groups(&self) -> Vec<ParamGroup<'_, f64>> {
        self.inner.param_groups()
    }
    fn params_mut(&mut self) -> Vec<&mut Params<f64>> {
        self.inner.params_mut()
    }
}

#[test]
fn a_bidirectional_first_layer_in_a_stack_is_not_checked_again() {
    let (checked, unchecked) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let half = |seed| Counting {
        inner: Recurrent::new(
            VanillaCell::new(3, 4, Nonlinearity::Tanh, &mut seeded(seed)).unwrap(),
        ),
        checked: checked.clone(),
        unchecked: unchecked.clone(),
    };
    let pair = Bidirectional::new(half(0), half(1), Merge::Concat).unwrap();
    let stack = Stack::new(vec![
        Box::new(pair) as Box<dyn Layer<f64>>,
        Box::new(Recurrent::new(
            VanillaCell::new(8, 2, Nonlinearity::Tanh, &mut seeded(2)).unwrap(),
        )),
    ])
    .unwrap();
    let x = vec![0.1; 3 * 4 * 2];
    let inputs = Inputs::new(&x, 4, 2).lengths(&[4, 3]);
    stack.forward(inputs, None).unwrap();
    stack.infer(inputs).unwrap();
    assert_eq!(
        checked.load(Ordering::SeqCst),
        0,
        "a half was checked again"
    );
    assert_eq!(
        unchecked.load(Ordering::SeqCst),
        4,
        "each half runs once per call"
    );
    // The stack's one check still refuses what the halves would: nothing runs.
    let bad = [0.1, f64::NAN].repeat(3 * 4);
    assert!(matches!(
        stack.forward(Inputs::new(&bad, 4, 2), None),
        Err(LayerError::NonFinite { what: "input", .. })
    ));
    assert_eq!(unchecked.load(Ordering::SeqCst), 4);
}
