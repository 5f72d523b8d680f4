//! [`Recurrent`]: a cell unrolled over a sequence, with backpropagation through time.
//!
//! # Layout
//!
//! A sequence is a column-major `features x (T * batch)` matrix in a flat slice: step `t` is the
//! contiguous columns `[t*B, (t+1)*B)`, sample `b` of a step is column `b`. Byte for byte this is
//! PyTorch's time-major `(T, B, F)` tensor, so PyTorch inputs and outputs map with no copy. A state
//! is `state_size x batch`, column `b` being sample `b`'s `[h; rest]` (see [`rnnzoo_cell::Cell`]).
//!
//! # Variable lengths
//!
//! `lengths[b]` in `1..=T`, in any order (no sorting, unlike PyTorch's packed sequences). Padded
//! steps (`t >= lengths[b]`) output zeros and carry the state unchanged, so the final state of
//! sample `b` is its state after step `lengths[b] - 1`; the gradient of a padded output is ignored.
//! A reversed layer reverses each sample's valid prefix only: it reads step `lengths[b] - 1` first,
//! and its output at step `t` is aligned with the input at step `t`, as in PyTorch.

mod backward;
mod forward;
pub(crate) mod lengths;
#[cfg(test)]
mod tests;
mod work;

use rnnzoo_cell::{Cell, Params, Real};

use crate::LayerError;
use forward::Shape;
use lengths::check_lengths;
pub(crate) use lengths::reorder;
use lengths::reorder_owned;

/// Checks a layer's inputs once, at the API boundary: non-empty, `input_size x (steps * batch)`
/// values, an initial state of `state_size x batch`, one length in `1..=steps` per sample.
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
    if let Some(init) = inp.initial {
        if init.len() != state_size * inp.batch {
            return Err(LayerError::InitialState {
                expected: state_size * inp.batch,
                got: init.len(),
                state_size,
                batch: inp.batch,
            });
        }
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

/// Which way a layer reads its sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Step 0 first.
    #[default]
    Forward,
    /// Each sample's last valid step first.
    Reverse,
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

/// What backward needs from a forward pass: the input as the cell saw it, every state and every
/// step's cache.
#[derive(Debug, Clone)]
pub struct Tape<T> {
    x: Vec<T>,
    states: Vec<T>,
    cache: Vec<T>,
    lengths: Option<Vec<usize>>,
    steps: usize,
    batch: usize,
    sizes: (usize, usize, usize, usize),
}

impl<T> Tape<T> {
    /// Values held, a measure of the memory training needs.
    pub fn len(&self) -> usize {
        self.x.len() + self.states.len() + self.cache.len()
    }

    /// Whether the tape holds nothing (never, after a successful forward).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A cell unrolled over a sequence in one direction: Keras' `RNN(cell)`, Flax's `nn.RNN`.
///
/// ```
/// use rnnzoo_cell::{seeded, Cell};
/// use rnnzoo_layers::{Inputs, Recurrent};
/// use rnnzoo_vanilla::{Nonlinearity, VanillaCell};
///
/// let cell = VanillaCell::<f32>::new(5, 8, Nonlinearity::Tanh, &mut seeded(0))?;
/// let layer = Recurrent::new(cell);
/// let x = vec![0.5f32; 5 * 4 * 2]; // T = 4, B = 2
/// let (out, tape) = layer.forward(Inputs::new(&x, 4, 2).lengths(&[4, 2]))?;
/// assert_eq!(out.output.len(), 8 * 4 * 2);
/// assert!(out.output[8 * (2 * 2 + 1)..][..8].iter().all(|&v| v == 0.0)); // sample 1, step 2: padded
///
/// let mut grads = layer.cell().params().zeros_like();
/// let d_out = vec![1.0f32; out.output.len()];
/// let g = layer.backward(&tape, &d_out, None, &mut grads)?;
/// assert_eq!(g.d_input.len(), x.len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Recurrent<C> {
    cell: C,
    direction: Direction,
}

impl<C> Recurrent<C> {
    /// Unrolls `cell` forward in time.
    pub fn new(cell: C) -> Self {
        Self {
            cell,
            direction: Direction::Forward,
        }
    }

    /// Unrolls `cell` in the given direction.
    pub fn with_direction(cell: C, direction: Direction) -> Self {
        Self { cell, direction }
    }

    /// The cell.
    pub fn cell(&self) -> &C {
        &self.cell
    }

    /// The cell, for writing (optimizers update its parameters).
    pub fn cell_mut(&mut self) -> &mut C {
        &mut self.cell
    }

    /// The direction.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// The cell, giving up the layer.
    pub fn into_cell(self) -> C {
        self.cell
    }

    fn sizes<T: Real>(&self) -> (usize, usize, usize, usize)
    where
        C: Cell<T>,
    {
        (
            self.cell.input_size(),
            self.cell.hidden_size(),
            self.cell.state_size(),
            self.cell.cache_size(),
        )
    }

    /// Checks the inputs and returns the sequence as the cell reads it: padded columns zeroed and,
    /// for a reversed layer, each valid prefix reversed.
    fn prepare<T: Real>(&self, inp: &Inputs<'_, T>) -> Result<Vec<T>, LayerError>
    where
        C: Cell<T>,
    {
        validate(inp, self.cell.input_size(), self.cell.state_size())?;
        let i = self.cell.input_size();
        Ok(self.reorder(inp.x, i, inp.steps, inp.batch, inp.lengths))
    }

    /// Maps a sequence between the caller's step order and the cell's (the identity for a forward
    /// layer without lengths; the map is its own inverse).
    fn reorder<T: Real>(
        &self,
        src: &[T],
        rows: usize,
        steps: usize,
        batch: usize,
        lengths: Option<&[usize]>,
    ) -> Vec<T> {
        reorder(
            src,
            rows,
            steps,
            batch,
            lengths,
            self.direction == Direction::Reverse,
        )
    }

    /// [`reorder`](Recurrent::reorder) of a sequence given up by its owner: no copy when the map
    /// is the identity.
    fn reorder_owned<T: Real>(
        &self,
        src: Vec<T>,
        rows: usize,
        steps: usize,
        batch: usize,
        lengths: Option<&[usize]>,
    ) -> Vec<T> {
        reorder_owned(
            src,
            rows,
            steps,
            batch,
            lengths,
            self.direction == Direction::Reverse,
        )
    }

    /// Runs the sequence and records what backward needs.
    ///
    /// # Errors
    ///
    /// [`LayerError`] if the batch or the sequence is empty, the input is not `input_size x
    /// (steps * batch)`, the initial state is not `state_size x batch`, or a length is not in
    /// `1..=steps` (or there is not one per sample).
    pub fn forward<T: Real>(
        &self,
        inputs: Inputs<'_, T>,
    ) -> Result<(Output<T>, Tape<T>), LayerError>
    where
        C: Cell<T>,
    {
        let x = self.prepare(&inputs)?;
        let shape = Shape::new(inputs.steps, inputs.batch);
        let f = forward::run(&self.cell, &x, &shape, inputs.initial, inputs.lengths, true);
        let sb = self.cell.state_size() * inputs.batch;
        let output = Output {
            final_state: f.states[inputs.steps * sb..].to_vec(),
            output: self.reorder_owned(
                f.output,
                self.cell.hidden_size(),
                inputs.steps,
                inputs.batch,
                inputs.lengths,
            ),
        };
        let tape = Tape {
            x,
            states: f.states,
            cache: f.cache,
            lengths: inputs.lengths.map(<[usize]>::to_vec),
            steps: inputs.steps,
            batch: inputs.batch,
            sizes: self.sizes(),
        };
        Ok((output, tape))
    }

    /// Runs the sequence for inference: no tape, two state buffers and one step's cache.
    ///
    /// # Errors
    ///
    /// As [`forward`](Recurrent::forward).
    pub fn infer<T: Real>(&self, inputs: Inputs<'_, T>) -> Result<Output<T>, LayerError>
    where
        C: Cell<T>,
    {
        let x = self.prepare(&inputs)?;
        let shape = Shape::new(inputs.steps, inputs.batch);
        let f = forward::run(
            &self.cell,
            &x,
            &shape,
            inputs.initial,
            inputs.lengths,
            false,
        );
        let sb = self.cell.state_size() * inputs.batch;
        let last = inputs.steps % 2;
        Ok(Output {
            final_state: f.states[last * sb..][..sb].to_vec(),
            output: self.reorder_owned(
                f.output,
                self.cell.hidden_size(),
                inputs.steps,
                inputs.batch,
                inputs.lengths,
            ),
        })
    }

    /// Backpropagates through the recorded pass: adds the parameter gradients to `grads` and
    /// returns the gradients with respect to the input and the initial state.
    ///
    /// `d_output` is laid out as [`Output::output`]; its values at padded steps are ignored.
    /// `d_final` is laid out as [`Output::final_state`]; `None` means zero.
    ///
    /// # Errors
    ///
    /// [`LayerError`] if `d_output` or `d_final` has the wrong size, `grads` does not have the
    /// cell's parameter layout, or the tape was recorded by a layer of other sizes.
    pub fn backward<T: Real>(
        &self,
        tape: &Tape<T>,
        d_output: &[T],
        d_final: Option<&[T]>,
        grads: &mut Params<T>,
    ) -> Result<InputGrads<T>, LayerError>
    where
        C: Cell<T>,
    {
        if tape.sizes != self.sizes() {
            return Err(LayerError::TapeMismatch {
                expected: self.sizes(),
                got: tape.sizes,
            });
        }
        let (h, s) = (self.cell.hidden_size(), self.cell.state_size());
        let (steps, batch) = (tape.steps, tape.batch);
        if d_output.len() != h * steps * batch {
            return Err(LayerError::GradShape {
                what: "d_output",
                expected: h * steps * batch,
                got: d_output.len(),
            });
        }
        if let Some(d) = d_final {
            if d.len() != s * batch {
                return Err(LayerError::GradShape {
                    what: "d_final",
                    expected: s * batch,
                    got: d.len(),
                });
            }
        }
        if !grads.same_layout(self.cell.params()) {
            return Err(LayerError::GradsLayout {
                expected: self.cell.params().names().map(String::from).collect(),
            });
        }
        let lengths = tape.lengths.as_deref();
        // A forward layer reads d_output where it is: the cell's step order is the caller's, and
        // padded columns are skipped by the loop.
        let d_out_reordered;
        let d_out = if self.direction == Direction::Forward {
            d_output
        } else {
            d_out_reordered = self.reorder(d_output, h, steps, batch, lengths);
            &d_out_reordered
        };
        let rec = backward::Recorded {
            x: &tape.x,
            states: &tape.states,
            cache: &tape.cache,
            lengths,
        };
        let shape = Shape::new(steps, batch);
        let (d_x, d_initial) = backward::run(&self.cell, &rec, &shape, d_out, d_final, grads);
        let d_input = self.reorder_owned(d_x, self.cell.input_size(), steps, batch, lengths);
        Ok(InputGrads { d_input, d_initial })
    }
}

impl<T: Real, C: Cell<T>> crate::Layer<T> for Recurrent<C> {
    fn input_size(&self) -> usize {
        self.cell.input_size()
    }

    fn output_size(&self) -> usize {
        self.cell.hidden_size()
    }

    fn state_size(&self) -> usize {
        self.cell.state_size()
    }

    fn forward(
        &self,
        inputs: Inputs<'_, T>,
        _train: Option<&mut dyn rand::RngCore>,
    ) -> Result<(Output<T>, crate::LayerTape), LayerError> {
        let (out, tape) = Recurrent::forward(self, inputs)?;
        Ok((out, crate::LayerTape::new(tape)))
    }

    fn infer(&self, inputs: Inputs<'_, T>) -> Result<Output<T>, LayerError> {
        Recurrent::infer(self, inputs)
    }

    fn backward(
        &self,
        tape: &crate::LayerTape,
        d_output: &[T],
        d_final: Option<&[T]>,
        grads: &mut [Params<T>],
    ) -> Result<InputGrads<T>, LayerError> {
        let tape = tape.expect::<Tape<T>>("Recurrent")?;
        crate::layer::check_grads(&crate::Layer::param_groups(self), grads)?;
        Recurrent::backward(self, tape, d_output, d_final, &mut grads[0])
    }

    fn param_groups(&self) -> Vec<crate::ParamGroup<'_, T>> {
        vec![crate::ParamGroup {
            suffix: String::new(),
            mode: self.cell.mode(),
            hidden_size: self.cell.hidden_size(),
            state_size: self.cell.state_size(),
            params: self.cell.params(),
        }]
    }

    fn params_mut(&mut self) -> Vec<&mut Params<T>> {
        vec![self.cell.params_mut()]
    }
}
