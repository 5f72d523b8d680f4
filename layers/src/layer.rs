//! The `Layer` trait, what [`crate::Bidirectional`] and [`crate::Stack`] compose, with what goes
//! in and out of a layer ([`Inputs`], [`Output`], [`InputGrads`]) and the one check of a caller's
//! inputs ([`Layer::forward`] and [`Layer::infer`] run it, composites call their parts' unchecked
//! forms).

use std::any::Any;

use rand::RngCore;
use rnnzoo_cell::{Params, Real};

use crate::unroll::lengths::check_lengths;
use crate::{Direction, GradMismatch, LayerError};

/// Checks a layer's inputs once, at the API boundary: non-empty, `input_size x (steps * batch)`
/// values, an initial state of `state_size x batch`, one length in `1..=steps` per sample, and no
/// NaN or infinity where the layer reads.
pub(crate) fn validate<T: Real>(
    inp: &Inputs<'_, T>,
    input_size: usize,
    state_size: usize,
) -> Result<(), LayerError> {
    if inp.batch == 0 {
        return Err(LayerError::EmptyBatch);
    }
    if inp.steps == 0 {
        return Err(LayerError::NoSteps);
    }
    let expected = inp
        .steps
        .checked_mul(inp.batch)
        .and_then(|n| n.checked_mul(input_size))
        .unwrap_or(usize::MAX);
    if inp.x.len() != expected {
        return Err(LayerError::InputShape {
            expected,
            got: inp.x.len(),
            steps: inp.steps,
            batch: inp.batch,
            features: input_size,
        });
    }
    if let Some(init) = inp.initial
        && init.len() != state_size * inp.batch
    {
        return Err(LayerError::InitialState {
            expected: state_size * inp.batch,
            got: init.len(),
            state_size,
            batch: inp.batch,
        });
    }
    if let Some(l) = inp.lengths {
        check_lengths(l, inp.batch, inp.steps)?;
    }
    // A NaN or infinity would spread through every later step and every gradient; refuse it here,
    // where it can still be named. Padded steps are never read, so their values do not matter.
    let columns = inp.x.chunks_exact(input_size.max(1)).enumerate();
    for (c, col) in columns {
        let (t, b) = (c / inp.batch, c % inp.batch);
        if inp.lengths.is_some_and(|l| t >= l[b]) {
            continue;
        }
        if let Some(f) = col.iter().position(|v| !v.is_finite()) {
            return Err(LayerError::NonFinite {
                what: "input",
                at: format!("step {t}, sample {b}, feature {f}"),
            });
        }
    }
    if let Some(k) = inp
        .initial
        .and_then(|s| s.iter().position(|v| !v.is_finite()))
    {
        let (b, row) = (k / state_size, k % state_size);
        return Err(LayerError::NonFinite {
            what: "initial state",
            at: format!("sample {b}, row {row}"),
        });
    }
    Ok(())
}

/// A sequence and what comes with it: initial state and lengths (both optional).
///
/// ```
/// use rnnzoo_layers::Inputs;
/// let x = vec![0.0f32; 3 * 2 * 5]; // T = 3, B = 2, features = 5
/// let inputs = Inputs::new(&x, 3, 2).lengths(&[3, 1]);
/// assert_eq!(inputs.steps, 3);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a, T> {
    /// The sequence, `features x (steps * batch)` column-major (PyTorch's `(T, B, F)`).
    pub x: &'a [T],
    /// `T`.
    pub steps: usize,
    /// `B`.
    pub batch: usize,
    /// The initial state, `state_size x batch`; zeros if `None`.
    pub initial: Option<&'a [T]>,
    /// Valid steps per sample; all `T` if `None`.
    pub lengths: Option<&'a [usize]>,
}

impl<'a, T> Inputs<'a, T> {
    /// A sequence of `steps` steps of `batch` samples, zero initial state, full lengths.
    pub fn new(x: &'a [T], steps: usize, batch: usize) -> Self {
        Self {
            x,
            steps,
            batch,
            initial: None,
            lengths: None,
        }
    }

    /// With an initial state (`state_size x batch`).
    pub fn initial(self, state: &'a [T]) -> Self {
        Self {
            initial: Some(state),
            ..self
        }
    }

    /// With per-sample lengths.
    pub fn lengths(self, lengths: &'a [usize]) -> Self {
        Self {
            lengths: Some(lengths),
            ..self
        }
    }
}

impl<'a, T> From<&'a rnnzoo_cell::Batch<T>> for Inputs<'a, T> {
    /// A batch's sequence and lengths, zero initial state.
    fn from(b: &'a rnnzoo_cell::Batch<T>) -> Self {
        Self {
            x: &b.inputs,
            steps: b.steps,
            batch: b.batch,
            initial: None,
            lengths: b.lengths.as_deref(),
        }
    }
}

/// What a forward pass returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Output<T> {
    /// `h_t` for every step, `hidden x (steps * batch)` (PyTorch's `output`, `(T, B, H)`); zero at
    /// padded steps.
    pub output: Vec<T>,
    /// The state after each sample's last valid step, `state_size x batch`.
    pub final_state: Vec<T>,
}

/// Gradients with respect to the inputs of a forward pass.
#[derive(Debug, Clone, PartialEq)]
pub struct InputGrads<T> {
    /// `d loss / d x`, laid out as the input; zero at padded steps.
    pub d_input: Vec<T>,
    /// `d loss / d initial state`, `state_size x batch`.
    pub d_initial: Vec<T>,
}

/// What a layer's backward needs from its forward, type-erased so that layers of any kind (and a
/// user's own) compose; each layer downcasts its own tape.
pub struct LayerTape(Box<dyn Any + Send + Sync>);

impl std::fmt::Debug for LayerTape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LayerTape(..)")
    }
}

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
    /// The cell's settings ([`Cell::settings`](rnnzoo_cell::Cell::settings)); empty for most.
    pub settings: String,
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
    /// This is the checked entry point: it validates `inputs` against the layer's sizes, then
    /// calls [`forward_unchecked`](Layer::forward_unchecked). Implement that one, not this.
    ///
    /// # Errors
    ///
    /// [`LayerError`] for an empty batch or sequence, an input that is not
    /// `input_size x (steps * batch)`, an initial state that is not `state_size x batch`, lengths
    /// that are not one in `1..=steps` per sample, or a NaN or infinity the layer would read.
    fn forward(
        &self,
        inputs: Inputs<'_, T>,
        train: Option<&mut dyn RngCore>,
    ) -> Result<(Output<T>, LayerTape), LayerError> {
        validate(&inputs, self.input_size(), self.state_size())?;
        self.forward_unchecked(inputs, train)
    }

    /// Runs the sequence for inference (no tape, no dropout); the checked entry point, as
    /// [`forward`](Layer::forward).
    ///
    /// # Errors
    ///
    /// As [`forward`](Layer::forward).
    fn infer(&self, inputs: Inputs<'_, T>) -> Result<Output<T>, LayerError> {
        validate(&inputs, self.input_size(), self.state_size())?;
        self.infer_unchecked(inputs)
    }

    /// [`forward`](Layer::forward) of inputs already validated against this layer's sizes, by
    /// `forward` or by the composite that holds this layer (a stack checks its input once, not
    /// once per layer). It may panic on inputs that `forward` would refuse.
    ///
    /// # Errors
    ///
    /// [`LayerError`] for what only the layer itself can see (a part that refuses).
    fn forward_unchecked(
        &self,
        inputs: Inputs<'_, T>,
        train: Option<&mut dyn RngCore>,
    ) -> Result<(Output<T>, LayerTape), LayerError>;

    /// [`infer`](Layer::infer) of inputs already validated, as
    /// [`forward_unchecked`](Layer::forward_unchecked).
    ///
    /// # Errors
    ///
    /// As [`forward_unchecked`](Layer::forward_unchecked).
    fn infer_unchecked(&self, inputs: Inputs<'_, T>) -> Result<Output<T>, LayerError>;

    /// The direction this layer reads its sequence in: [`Direction::Reverse`] for a reversed
    /// [`crate::Recurrent`] (or a stack holding one). [`crate::Bidirectional`] reverses its
    /// backward half's sequence itself and refuses halves that would reverse it again.
    fn direction(&self) -> Direction {
        Direction::Forward
    }

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

    /// The cell, for a layer that is one cell read forward in time (what a streaming
    /// [`Session`](crate::session::Session) steps); `None` for every other layer.
    fn forward_cell(&self) -> Option<&dyn rnnzoo_cell::Cell<T>> {
        None
    }

    /// After an optimizer update: each cell puts its parameters back into its constraint set
    /// ([`Cell::constrain`](rnnzoo_cell::Cell::constrain)). The trainer calls it after every
    /// step; a layer that holds cells forwards it to each.
    fn constrain(&mut self) {}

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
    fn forward_unchecked(
        &self,
        inputs: Inputs<'_, T>,
        train: Option<&mut dyn RngCore>,
    ) -> Result<(Output<T>, LayerTape), LayerError> {
        (**self).forward_unchecked(inputs, train)
    }
    fn infer_unchecked(&self, inputs: Inputs<'_, T>) -> Result<Output<T>, LayerError> {
        (**self).infer_unchecked(inputs)
    }
    fn direction(&self) -> Direction {
        (**self).direction()
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
    fn constrain(&mut self) {
        (**self).constrain()
    }
    fn forward_cell(&self) -> Option<&dyn rnnzoo_cell::Cell<T>> {
        (**self).forward_cell()
    }
}

/// Checks that `grads` has one store per group, each laid out as the group's parameters; the
/// error names the first tensor that does not fit.
pub(crate) fn check_grads<T: Real>(
    groups: &[ParamGroup<'_, T>],
    grads: &[Params<T>],
) -> Result<(), LayerError> {
    if grads.len() == groups.len()
        && groups
            .iter()
            .zip(grads)
            .all(|(g, d)| g.params.same_layout(d))
    {
        return Ok(());
    }
    Err(grads_layout_error(groups, grads))
}

/// The [`LayerError::GradsLayout`] for stores that do not fit `groups`.
pub(crate) fn grads_layout_error<T: Real>(
    groups: &[ParamGroup<'_, T>],
    grads: &[Params<T>],
) -> LayerError {
    let mismatch = (grads.len() == groups.len())
        .then(|| {
            groups
                .iter()
                .zip(grads)
                .enumerate()
                .find_map(|(store, (g, d))| {
                    let n = g.params.len().max(d.len());
                    (0..n).find_map(|k| {
                        let want = g.params.iter().nth(k);
                        let got = d.iter().nth(k);
                        let fits = match (want, got) {
                            (Some(w), Some(d)) => w.name() == d.name() && w.shape() == d.shape(),
                            _ => false,
                        };
                        (!fits).then(|| {
                            Box::new(GradMismatch {
                                store,
                                tensor: want.map_or_else(
                                    || "(nothing: the store has an extra tensor)".to_string(),
                                    |w| format!("{}{}", w.name(), g.suffix),
                                ),
                                shape: want.map_or_else(Vec::new, |w| w.shape().to_vec()),
                                got: got.map(|d| (d.name().to_string(), d.shape().to_vec())),
                            })
                        })
                    })
                })
        })
        .flatten();
    LayerError::GradsLayout {
        expected_stores: groups.len(),
        got_stores: grads.len(),
        mismatch,
    }
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
    if let Some(d) = d_final
        && d.len() != layer.state_size() * batch
    {
        return Err(LayerError::GradShape {
            what: "d_final",
            expected: layer.state_size() * batch,
            got: d.len(),
        });
    }
    check_grads(&layer.param_groups(), grads)
}
