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
mod copies;
#[cfg(test)]
mod copies_tests;
mod forward;
pub(crate) mod lengths;
#[cfg(test)]
mod tests;
mod work;

use rnnzoo_cell::{Cell, Params, Real};

use crate::{InputGrads, Inputs, LayerError, Output};
pub(crate) use copies::Target;
use forward::Shape;
pub(crate) use lengths::reorder;
use lengths::reorder_owned;

/// Which way a layer reads its sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Step 0 first.
    #[default]
    Forward,
    /// Each sample's last valid step first.
    Reverse,
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
/// It is used through the [`Layer`](crate::Layer) trait, the one spelling of every layer:
/// `forward(inputs, train)` returns the output and a [`LayerTape`](crate::LayerTape) (holding this
/// layer's [`Tape`]), `infer(inputs)` runs without one, and `backward(&tape, d_output, d_final,
/// &mut grads)` takes the gradient stores [`zero_grads`](crate::Layer::zero_grads) makes (one, the
/// cell's). Bring the trait into scope with `use rnnzoo_layers::Layer`.
///
/// ```
/// use rnnzoo_cell::seeded;
/// use rnnzoo_layers::{Inputs, Layer, Recurrent, Tape};
/// use rnnzoo_vanilla::{Nonlinearity, VanillaCell};
///
/// let cell = VanillaCell::<f32>::new(5, 8, Nonlinearity::Tanh, &mut seeded(0))?;
/// let layer = Recurrent::new(cell);
/// let x = vec![0.5f32; 5 * 4 * 2]; // T = 4, B = 2
/// let (out, tape) = layer.forward(Inputs::new(&x, 4, 2).lengths(&[4, 2]), None)?;
/// assert_eq!(out.output.len(), 8 * 4 * 2);
/// assert!(out.output[8 * (2 * 2 + 1)..][..8].iter().all(|&v| v == 0.0)); // sample 1, step 2: padded
/// assert!(tape.get::<Tape<f32>>().is_some_and(|t| !t.is_empty()));
///
/// let mut grads = layer.zero_grads();
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

    /// The sequence as the cell reads it (inputs already checked): padded columns zeroed and, for
    /// a reversed layer, each valid prefix reversed.
    fn prepare<T: Real>(&self, inp: &Inputs<'_, T>) -> Vec<T>
    where
        C: Cell<T>,
    {
        let i = self.cell.input_size();
        self.reorder(inp.x, i, inp.steps, inp.batch, inp.lengths)
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

    /// [`Layer::forward`](crate::Layer::forward) of checked inputs, with its typed tape.
    fn forward_valid<T: Real>(&self, inputs: Inputs<'_, T>) -> (Output<T>, Tape<T>)
    where
        C: Cell<T>,
    {
        let x = self.prepare(&inputs);
        let shape = Shape::new(inputs.steps, inputs.batch);
        let f = forward::run(&self.cell, &x, &shape, inputs.initial, inputs.lengths, true);
        let output = Output {
            final_state: f.final_state,
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
        (output, tape)
    }

    /// [`Layer::infer`](crate::Layer::infer) of checked inputs: no tape, two state buffers and
    /// one step's cache.
    fn infer_valid<T: Real>(&self, inputs: Inputs<'_, T>) -> Output<T>
    where
        C: Cell<T>,
    {
        let x = self.prepare(&inputs);
        let shape = Shape::new(inputs.steps, inputs.batch);
        let f = forward::run(
            &self.cell,
            &x,
            &shape,
            inputs.initial,
            inputs.lengths,
            false,
        );
        Output {
            final_state: f.final_state,
            output: self.reorder_owned(
                f.output,
                self.cell.hidden_size(),
                inputs.steps,
                inputs.batch,
                inputs.lengths,
            ),
        }
    }

    /// [`Layer::backward`](crate::Layer::backward) on the typed tape and the cell's one gradient
    /// store. `d_output` is laid out as [`Output::output`] (its values at padded steps are
    /// ignored), `d_final` as [`Output::final_state`] (`None` means zero).
    fn backward_tape<T: Real>(
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
        if let Some(d) = d_final
            && d.len() != s * batch
        {
            return Err(LayerError::GradShape {
                what: "d_final",
                expected: s * batch,
                got: d.len(),
            });
        }
        if !grads.same_layout(self.cell.params()) {
            return Err(crate::layer::grads_layout_error(
                &crate::Layer::param_groups(self),
                std::slice::from_ref(grads),
            ));
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

    fn forward_unchecked(
        &self,
        inputs: Inputs<'_, T>,
        _train: Option<&mut dyn rand::RngCore>,
    ) -> Result<(Output<T>, crate::LayerTape), LayerError> {
        let (out, tape) = self.forward_valid(inputs);
        Ok((out, crate::LayerTape::new(tape)))
    }

    fn infer_unchecked(&self, inputs: Inputs<'_, T>) -> Result<Output<T>, LayerError> {
        Ok(self.infer_valid(inputs))
    }

    fn direction(&self) -> Direction {
        self.direction
    }

    fn backward(
        &self,
        tape: &crate::LayerTape,
        d_output: &[T],
        d_final: Option<&[T]>,
        grads: &mut [Params<T>],
    ) -> Result<InputGrads<T>, LayerError> {
        let tape = tape.expect::<Tape<T>>("Recurrent")?;
        // The tape, the gradients' sizes and the store's layout are checked in that order.
        match grads {
            [one] => self.backward_tape(tape, d_output, d_final, one),
            _ => Err(crate::layer::grads_layout_error(
                &crate::Layer::param_groups(self),
                grads,
            )),
        }
    }

    fn param_groups(&self) -> Vec<crate::ParamGroup<'_, T>> {
        vec![crate::ParamGroup {
            suffix: String::new(),
            mode: self.cell.mode(),
            hidden_size: self.cell.hidden_size(),
            state_size: self.cell.state_size(),
            params: self.cell.params(),
            settings: self.cell.settings(),
        }]
    }

    fn params_mut(&mut self) -> Vec<&mut Params<T>> {
        vec![self.cell.params_mut()]
    }

    fn constrain(&mut self) {
        self.cell.constrain()
    }

    fn forward_cell(&self) -> Option<&dyn Cell<T>> {
        (self.direction == Direction::Forward).then_some(&self.cell as &dyn Cell<T>)
    }
}
