//! [`Session`]: a stack run one step, or a chunk of steps, at a time, with its state carried
//! between calls — streaming inference, as a service that reads a sequence as it arrives runs it.
//!
//! A session borrows a [`Stack`] whose layers each run one cell forward in time (what a
//! unidirectional PyTorch `nn.LSTM`/`nn.GRU`/`nn.RNN` of any depth loads as) and allocates every
//! buffer when it starts: each step is the cell's own step on the session's buffers, with the
//! gated cells' weights packed once for the whole session. With one stream (batch 1) a step of a
//! gated or general cell then allocates nothing (every product is a matrix-vector product;
//! tested with a counting allocator in `layers/tests/session.rs`). With more streams the
//! products go to the `gemm` crate, which allocates its packing buffers on every call
//! (gemm-common 0.19); a scan cell's step is a pass of one step, which allocates its own working
//! buffers.
//!
//! A session computes exactly what [`Layer::infer`] computes for the same sequence: the same
//! products in the same order on the same values (tested to 1e-12 in f64).

mod step;

use rnnzoo_cell::Real;

use crate::{Layer, LayerError, Stack};
use step::StreamLayer;

/// A [`Stack`] stepped through time with its state carried between calls.
///
/// ```
/// use rnnzoo_cell::seeded;
/// use rnnzoo_layers::session::Session;
/// use rnnzoo_layers::{Inputs, Layer, Recurrent, Stack};
/// use rnnzoo_lstm::LstmCell;
///
/// let lstm = |i| -> Box<dyn Layer<f64>> { Box::new(Recurrent::new(LstmCell::new(i, 8, &mut seeded(i as u64)).unwrap())) };
/// let stack = Stack::new(vec![lstm(3), lstm(8)])?; // two layers, input 3, hidden 8
/// let x: Vec<f64> = (0..3 * 5).map(|k| (k as f64 * 0.37).sin()).collect(); // T = 5, B = 1
///
/// let mut session = Session::new(&stack, 1)?;
/// let mut streamed = Vec::new();
/// for t in 0..5 {
///     streamed.extend_from_slice(session.step(&x[3 * t..][..3])?); // one step as it arrives
/// }
/// // The same as running the whole sequence at once.
/// let whole = stack.infer(Inputs::new(&x, 5, 1))?;
/// assert!(streamed.iter().zip(&whole.output).all(|(a, b)| (a - b).abs() < 1e-12));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Session<'m, T> {
    layers: Vec<StreamLayer<'m, T>>,
    batch: usize,
    input: usize,
}

impl<'m, T: Real> Session<'m, T> {
    /// A session of `batch` streams over `stack`, every state zero.
    ///
    /// # Errors
    ///
    /// [`LayerError::EmptyBatch`] for a batch of zero; [`LayerError::NotStreamable`] naming the
    /// first layer that is not one cell read forward in time (a bidirectional or reversed layer
    /// needs the sequence's future; a regularised layer is for training).
    pub fn new(stack: &'m Stack<T>, batch: usize) -> Result<Self, LayerError> {
        if batch == 0 {
            return Err(LayerError::EmptyBatch);
        }
        let mut layers = Vec::with_capacity(stack.layers().len());
        for (k, layer) in stack.layers().iter().enumerate() {
            let cell = layer
                .forward_cell()
                .ok_or(LayerError::NotStreamable { layer: k })?;
            layers.push(StreamLayer::new(cell, batch));
        }
        Ok(Self {
            input: stack.input_size(),
            layers,
            batch,
        })
    }

    /// Streams (columns of every buffer).
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Rows of one step's input.
    pub fn input_size(&self) -> usize {
        self.input
    }

    /// Rows of one step's output (the last layer's hidden size).
    pub fn output_size(&self) -> usize {
        self.layers
            .last()
            .map_or(0, |l| l.output.len() / self.batch)
    }

    /// One step: `x` is `input_size x batch` (column `b` is stream `b`); returns the last layer's
    /// output, `output_size x batch`, valid until the next call.
    ///
    /// # Errors
    ///
    /// [`LayerError::Size`] if `x` is not `input_size x batch` values. Nothing moves then.
    pub fn step(&mut self, x: &[T]) -> Result<&[T], LayerError> {
        let expected = self.input * self.batch;
        if x.len() != expected {
            return Err(LayerError::Size {
                what: "a step's input",
                expected,
                got: x.len(),
            });
        }
        self.step_unchecked(x);
        Ok(&self.layers.last().expect("a stack has a layer").output)
    }

    /// A chunk of steps: `x` is `input_size x (steps * batch)` in the sequence layout (step `t`
    /// is columns `[t*batch, (t+1)*batch)`), `out` receives `output_size x (steps * batch)`.
    /// Returns the number of steps. The state carries on from the last call, and into the next.
    ///
    /// ```
    /// # use rnnzoo_cell::seeded;
    /// # use rnnzoo_layers::session::Session;
    /// # use rnnzoo_layers::{Layer, Recurrent, Stack};
    /// # use rnnzoo_gru::GruCell;
    /// let stack = Stack::new(vec![Box::new(Recurrent::new(GruCell::<f32>::new(2, 4, &mut seeded(0))?)) as Box<dyn Layer<f32>>])?;
    /// let mut session = Session::new(&stack, 3)?; // three streams
    /// let x = vec![0.5f32; 2 * 10 * 3]; // ten steps of each
    /// let mut out = vec![0.0f32; 4 * 10 * 3];
    /// assert_eq!(session.run(&x, &mut out)?, 10);
    /// assert!(session.run(&x[..5], &mut out).is_err()); // not whole steps
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`LayerError::Size`] if `x` is not whole steps or `out` does not fit them. Nothing moves
    /// then.
    pub fn run(&mut self, x: &[T], out: &mut [T]) -> Result<usize, LayerError> {
        let per_step = self.input * self.batch;
        if per_step == 0 || !x.len().is_multiple_of(per_step) {
            return Err(LayerError::Size {
                what: "a chunk's input (whole steps of input_size x batch)",
                expected: x.len().div_ceil(per_step.max(1)) * per_step,
                got: x.len(),
            });
        }
        let steps = x.len() / per_step;
        let width = self.output_size() * self.batch;
        if out.len() != steps * width {
            return Err(LayerError::Size {
                what: "a chunk's output",
                expected: steps * width,
                got: out.len(),
            });
        }
        for (xt, yt) in x.chunks_exact(per_step).zip(out.chunks_exact_mut(width)) {
            self.step_unchecked(xt);
            yt.copy_from_slice(&self.layers.last().expect("a stack has a layer").output);
        }
        Ok(steps)
    }

    fn step_unchecked(&mut self, x: &[T]) {
        let batch = self.batch;
        let (first, rest) = self.layers.split_first_mut().expect("a stack has a layer");
        first.step(x, batch);
        let mut below = &first.output;
        for layer in rest {
            layer.step(below, batch);
            below = &layer.output;
        }
    }

    /// Layer `layer`'s carried state, `state_size x batch` (the layout of
    /// [`Output::final_state`](crate::Output::final_state) for that layer), or `None` past the
    /// last layer.
    pub fn state(&self, layer: usize) -> Option<&[T]> {
        self.layers.get(layer).map(|l| &l.state[..])
    }

    /// Sets layer `layer`'s state (a PyTorch `h_0`, or a state saved from [`Session::state`]).
    ///
    /// # Errors
    ///
    /// [`LayerError::Size`] if there is no such layer or `state` is not its `state_size x batch`.
    pub fn set_state(&mut self, layer: usize, state: &[T]) -> Result<(), LayerError> {
        let Some(l) = self.layers.get_mut(layer) else {
            return Err(LayerError::Size {
                what: "the session's layers (a layer index past the last)",
                expected: self.layers.len(),
                got: layer + 1,
            });
        };
        if state.len() != l.state.len() {
            return Err(LayerError::Size {
                what: "a layer's state (state_size x batch)",
                expected: l.state.len(),
                got: state.len(),
            });
        }
        l.state.copy_from_slice(state);
        Ok(())
    }

    /// Every state back to zero: the next step starts a new sequence.
    pub fn reset(&mut self) {
        for l in &mut self.layers {
            l.state.fill(T::zero());
        }
    }
}
