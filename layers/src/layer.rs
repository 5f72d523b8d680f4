//! The `Layer` trait: what [`crate::Bidirectional`] and [`crate::Stack`] compose.

use std::any::Any;

use rand::RngCore;
use rnnzoo_cell::{Params, Real};

use crate::{InputGrads, Inputs, LayerError, Output};

/// What a layer's backward needs from its forward, type-erased so that layers of any kind (and a
/// user's own) compose; each layer downcasts its own tape.
pub struct LayerTape(Box<dyn Any + Send + Sync>);

impl LayerTape {
    /// Wraps a layer's own tape.
    pub fn new<X: Any + Send + Sync>(tape: X) -> Self {
        Self(Box::new(tape))
    }

    /// The layer's own tape, if it is of type `X`.
    pub fn get<X: Any>(&self) -> Option<&X> {
        self.0.downcast_ref()
    }

    /// The layer's own tape, or [`LayerError::WrongTape`].
    ///
    /// # Errors
    ///
    /// [`LayerError::WrongTape`] if the tape was recorded by a layer of another type.
    pub fn expect<X: Any>(&self, layer: &'static str) -> Result<&X, LayerError> {
        self.get().ok_or(LayerError::WrongTape { layer })
    }
}

/// One cell's parameters inside a layer, with where they sit in PyTorch's naming.
#[derive(Debug, Clone)]
pub struct ParamGroup<'a, T> {
    /// The PyTorch suffix of this cell's names: `""` for a lone layer, `"_reverse"` for the
    /// backward half of a bidirectional layer; a stack prepends `"_l{k}"`.
    pub suffix: String,
    /// The cell's mode (`"LSTM"`, `"GRU"`, `"RNN_TANH"`, ...).
    pub mode: &'a str,
    /// The cell's hidden size (rows of its output).
    pub hidden_size: usize,
    /// The cell's state size (rows of its state block).
    pub state_size: usize,
    /// The parameters.
    pub params: &'a Params<T>,
}

/// A sequence-to-sequence layer: a [`crate::Recurrent`] cell, a [`crate::Bidirectional`] pair, a
/// [`crate::Stack`], or your own.
///
/// Sequences are `features x (T * batch)` column-major (PyTorch's `(T, B, F)`). A layer's state
/// is `state_size x batch` values; a composite's state is its parts' states one block after the
/// other (for a stack, PyTorch's `h_n` order: layer by layer, forward then reverse).
///
/// Gradients are one [`Params`] per parameter group, in [`param_groups`](Layer::param_groups)
/// order ([`zero_grads`](Layer::zero_grads) makes them).
pub trait Layer<T: Real>: Send + Sync {
    /// Rows of an input column.
    fn input_size(&self) -> usize;

    /// Rows of an output column.
    fn output_size(&self) -> usize;

    /// Rows of the state per sample (all parts).
    fn state_size(&self) -> usize;

    /// Runs the sequence and records what backward needs. `train` is the random source of
    /// dropout; `None` runs without it (evaluation).
    ///
    /// # Errors
    ///
    /// [`LayerError`] for a shape, length or state that does not fit.
    fn forward(
        &self,
        inputs: Inputs<'_, T>,
        train: Option<&mut dyn RngCore>,
    ) -> Result<(Output<T>, LayerTape), LayerError>;

    /// Runs the sequence for inference (no tape, no dropout).
    ///
    /// # Errors
    ///
    /// As [`forward`](Layer::forward).
    fn infer(&self, inputs: Inputs<'_, T>) -> Result<Output<T>, LayerError>;

    /// Backpropagates: adds to `grads` and returns the input and initial-state gradients.
    ///
    /// # Errors
    ///
    /// [`LayerError`] if a gradient has the wrong size, `grads` does not match
    /// [`param_groups`](Layer::param_groups), or the tape is not this layer's.
    fn backward(
        &self,
        tape: &LayerTape,
        d_output: &[T],
        d_final: Option<&[T]>,
        grads: &mut [Params<T>],
    ) -> Result<InputGrads<T>, LayerError>;

    /// Every cell's parameters, in a fixed order.
    fn param_groups(&self) -> Vec<ParamGroup<'_, T>>;

    /// Every cell's parameters, for writing, in [`param_groups`](Layer::param_groups) order.
    fn params_mut(&mut self) -> Vec<&mut Params<T>>;

    /// Zero gradients for every group.
    fn zero_grads(&self) -> Vec<Params<T>> {
        self.param_groups()
            .iter()
            .map(|g| g.params.zeros_like())
            .collect()
    }
}

impl<T: Real, L: Layer<T> + ?Sized> Layer<T> for Box<L> {
    fn input_size(&self) -> usize {
        (**self).input_size()
    }
    fn output_size(&self) -> usize {
        (**self).output_size()
    }
    fn state_size(&self) -> usize {
        (**self).state_size()
    }
    fn forward(
        &self,
        inputs: Inputs<'_, T>,
        train: Option<&mut dyn RngCore>,
    ) -> Result<(Output<T>, LayerTape), LayerError> {
        (**self).forward(inputs, train)
    }
    fn infer(&self, inputs: Inputs<'_, T>) -> Result<Output<T>, LayerError> {
        (**self).infer(inputs)
    }
    fn backward(
        &self,
        tape: &LayerTape,
        d_output: &[T],
        d_final: Option<&[T]>,
        grads: &mut [Params<T>],
    ) -> Result<InputGrads<T>, LayerError> {
        (**self).backward(tape, d_output, d_final, grads)
    }
    fn param_groups(&self) -> Vec<ParamGroup<'_, T>> {
        (**self).param_groups()
    }
    fn params_mut(&mut self) -> Vec<&mut Params<T>> {
        (**self).params_mut()
    }
}

/// Checks that `grads` has one store per group, each laid out as the group's parameters.
pub(crate) fn check_grads<T: Real>(
    groups: &[ParamGroup<'_, T>],
    grads: &[Params<T>],
) -> Result<(), LayerError> {
    if grads.len() != groups.len()
        || groups
            .iter()
            .zip(grads)
            .any(|(g, d)| !g.params.same_layout(d))
    {
        return Err(LayerError::GradsLayout {
            expected: groups
                .iter()
                .flat_map(|g| g.params.names().map(move |n| format!("{n}{}", g.suffix)))
                .collect(),
        });
    }
    Ok(())
}

/// Checks what a composite's backward is given: `d_output` of `output_size x (steps * batch)`,
/// `d_final` of `state_size x batch`, and gradient stores laid out as the layer's groups.
pub(crate) fn check_backward<T: Real, L: Layer<T> + ?Sized>(
    layer: &L,
    steps: usize,
    batch: usize,
    d_output: &[T],
    d_final: Option<&[T]>,
    grads: &[Params<T>],
) -> Result<(), LayerError> {
    let expected = layer.output_size() * steps * batch;
    if d_output.len() != expected {
        return Err(LayerError::GradShape {
            what: "d_output",
            expected,
            got: d_output.len(),
        });
    }
    if let Some(d) = d_final {
        if d.len() != layer.state_size() * batch {
            return Err(LayerError::GradShape {
                what: "d_final",
                expected: layer.state_size() * batch,
                got: d.len(),
            });
        }
    }
    check_grads(&layer.param_groups(), grads)
}
