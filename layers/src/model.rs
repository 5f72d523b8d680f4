//! [`Model`]: a recurrent body, a dense head, and where the head reads.

use rand::RngCore;
use rnnzoo_cell::{Params, Real};

use crate::head::{Activation, Dense};
use crate::readout::{FinalRows, last_steps_unchecked, scatter_last_steps_unchecked};
use crate::{Inputs, Layer, LayerError, LayerTape, ParamGroup, Readout, Stack};

/// A body (a [`Stack`] of recurrent layers), a [`Dense`] head and a [`Readout`]: a trainable
/// sequence model. Its parameter groups are the body's then the head's.
///
/// ```
/// use rnnzoo_cell::seeded;
/// use rnnzoo_layers::head::{Activation, Dense};
/// use rnnzoo_layers::{Inputs, Model, Readout, Recurrent, Stack};
/// use rnnzoo_lstm::LstmCell;
///
/// let body = Stack::new(vec![Box::new(Recurrent::new(LstmCell::<f32>::new(2, 8, &mut seeded(0))?))])?;
/// let model = Model::new(body, Dense::new(8, 1, Activation::Identity, &mut seeded(1))?, Readout::LastStep)?;
/// let x = vec![0.5f32; 2 * 10 * 4];
/// let p = model.predict(Inputs::new(&x, 10, 4))?;
/// assert_eq!(p.predictions.len(), 4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Model<T> {
    body: Stack<T>,
    head: Dense<T>,
    readout: Readout,
    /// Where [`Readout::FinalStates`] reads in the body's final state.
    final_rows: FinalRows,
}

/// A model's predictions and its body's final state.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction<T> {
    /// The head's outputs, `output x (T*B)` or `output x B` (see [`Readout`]).
    pub predictions: Vec<T>,
    /// The body's final state (to carry into the next chunk in truncated BPTT).
    pub final_state: Vec<T>,
}

/// What [`Model::backward`] needs from [`Model::forward`], and nothing more: the body's tape, the
/// head's input, the predictions only where the head's activation needs them for its gradient,
/// and the lengths only where the readout scatters to each sample's last step.
pub struct ModelTape<T> {
    body: LayerTape,
    head_input: Vec<T>,
    predictions: Option<Vec<T>>,
    lengths: Option<Vec<usize>>,
    steps: usize,
    batch: usize,
}

impl<T: Real> Model<T> {
    /// Puts the parts together.
    ///
    /// # Errors
    ///
    /// [`LayerError::Compose`] if the head's input size is not what the readout gives: the body's
    /// output size, or for [`Readout::FinalStates`] the top layer's hidden sizes summed over its
    /// directions (and the top layer's state must be its cells' states, as for every layer made of
    /// [`crate::Recurrent`] and [`crate::Bidirectional`]).
    pub fn new(body: Stack<T>, head: Dense<T>, readout: Readout) -> Result<Self, LayerError> {
        let top = &body.layers()[body.layers().len() - 1];
        let final_rows = FinalRows {
            offset: body.state_size() - top.state_size(),
            blocks: top
                .param_groups()
                .iter()
                .map(|g| (g.state_size, g.hidden_size))
                .collect(),
        };
        let reads = match readout {
            Readout::EveryStep | Readout::LastStep => body.output_size(),
            Readout::FinalStates => {
                let cells: usize = final_rows.blocks.iter().map(|&(s, _)| s).sum();
                if cells != top.state_size() || final_rows.blocks.iter().any(|&(s, h)| h > s) {
                    return Err(LayerError::Compose(format!(
                        "Readout::FinalStates needs a top layer whose state is its cells' states; \
                         its state has {} rows, its cells' {cells}",
                        top.state_size()
                    )));
                }
                final_rows.rows()
            }
        };
        if reads != head.input_size() {
            return Err(LayerError::Compose(format!(
                "the readout {readout:?} gives {reads} rows but the head takes {}",
                head.input_size()
            )));
        }
        Ok(Self {
            body,
            head,
            readout,
            final_rows,
        })
    }

    /// The body.
    pub fn body(&self) -> &Stack<T> {
        &self.body
    }

    /// Rows of an input column.
    pub fn body_input_size(&self) -> usize {
        self.body.input_size()
    }

    /// The head.
    pub fn head(&self) -> &Dense<T> {
        &self.head
    }

    /// The readout.
    pub fn readout(&self) -> Readout {
        self.readout
    }

    /// Columns of predictions for a batch: `T*B` or `B`.
    pub fn columns(&self, steps: usize, batch: usize) -> usize {
        match self.readout {
            Readout::EveryStep => steps * batch,
            Readout::LastStep | Readout::FinalStates => batch,
        }
    }

    /// What the head reads from the body's output and final state (sizes already checked).
    fn head_input(&self, output: Vec<T>, final_state: &[T], inputs: &Inputs<'_, T>) -> Vec<T> {
        match self.readout {
            Readout::EveryStep => output,
            Readout::LastStep => last_steps_unchecked(
                &output,
                self.body.output_size(),
                inputs.steps,
                inputs.batch,
                inputs.lengths,
            ),
            Readout::FinalStates => self.final_rows.gather(final_state, inputs.batch),
        }
    }

    /// Runs the model and records what backward needs; `train` is the dropout's random source.
    ///
    /// # Errors
    ///
    /// [`LayerError`] for inputs that do not fit the body.
    pub fn forward(
        &self,
        inputs: Inputs<'_, T>,
        train: Option<&mut dyn RngCore>,
    ) -> Result<(Prediction<T>, ModelTape<T>), LayerError> {
        let (out, body) = self.body.forward(inputs, train)?;
        let head_input = self.head_input(out.output, &out.final_state, &inputs);
        let columns = self.columns(inputs.steps, inputs.batch);
        let predictions = self.head.forward(&head_input, columns)?;
        let tape = ModelTape {
            body,
            head_input,
            predictions: (self.head.activation() != Activation::Identity)
                .then(|| predictions.clone()),
            lengths: match self.readout {
                Readout::LastStep => inputs.lengths.map(<[usize]>::to_vec),
                Readout::EveryStep | Readout::FinalStates => None,
            },
            steps: inputs.steps,
            batch: inputs.batch,
        };
        Ok((
            Prediction {
                predictions,
                final_state: out.final_state,
            },
            tape,
        ))
    }

    /// Runs the model for inference: no tape, no dropout.
    ///
    /// # Errors
    ///
    /// [`LayerError`] for inputs that do not fit the body.
    pub fn predict(&self, inputs: Inputs<'_, T>) -> Result<Prediction<T>, LayerError> {
        let out = self.body.infer(inputs)?;
        let head_input = self.head_input(out.output, &out.final_state, &inputs);
        let predictions = self
            .head
            .forward(&head_input, self.columns(inputs.steps, inputs.batch))?;
        Ok(Prediction {
            predictions,
            final_state: out.final_state,
        })
    }

    /// From `d_predictions` (a loss's gradient) and optionally the gradient of the final state,
    /// adds every parameter's gradient to `grads` ([`zero_grads`](Model::zero_grads) layout) and
    /// returns the gradient with respect to the initial state.
    ///
    /// # Errors
    ///
    /// [`LayerError`] if a gradient has the wrong size or `grads` the wrong layout.
    pub fn backward(
        &self,
        tape: &ModelTape<T>,
        d_predictions: &[T],
        d_final: Option<&[T]>,
        grads: &mut [Params<T>],
    ) -> Result<Vec<T>, LayerError> {
        let columns = self.columns(tape.steps, tape.batch);
        let n = grads.len();
        if n == 0 {
            return Err(crate::layer::grads_layout_error(
                &self.param_groups(),
                grads,
            ));
        }
        let (body_grads, head_grads) = grads.split_at_mut(n - 1);
        let d_h = self.head.backward(
            &tape.head_input,
            tape.predictions.as_deref().unwrap_or(&[]),
            d_predictions,
            columns,
            &mut head_grads[0],
        )?;
        let h = self.body.output_size();
        let (steps, batch) = (tape.steps, tape.batch);
        let g = match self.readout {
            Readout::EveryStep => self.body.backward(&tape.body, &d_h, d_final, body_grads)?,
            Readout::LastStep => {
                let d_out =
                    scatter_last_steps_unchecked(&d_h, h, steps, batch, tape.lengths.as_deref());
                self.body
                    .backward(&tape.body, &d_out, d_final, body_grads)?
            }
            Readout::FinalStates => {
                let s = self.body.state_size() * batch;
                let mut d_state = match d_final {
                    Some(d) if d.len() == s => d.to_vec(),
                    Some(d) => {
                        return Err(LayerError::GradShape {
                            what: "d_final",
                            expected: s,
                            got: d.len(),
                        });
                    }
                    None => vec![T::zero(); s],
                };
                self.final_rows.scatter_add(&d_h, &mut d_state, batch);
                let d_out = vec![T::zero(); h * steps * batch];
                self.body
                    .backward(&tape.body, &d_out, Some(&d_state), body_grads)?
            }
        };
        Ok(g.d_initial)
    }

    /// Every parameter group: the body's, then the head's (suffix `"head"`).
    pub fn param_groups(&self) -> Vec<ParamGroup<'_, T>> {
        let mut g = self.body.param_groups();
        g.push(self.head.param_group());
        g
    }

    /// Every parameter group, for writing, in [`param_groups`](Model::param_groups) order.
    pub fn params_mut(&mut self) -> Vec<&mut Params<T>> {
        let mut g = self.body.params_mut();
        g.push(self.head.params_mut());
        g
    }

    /// After an optimizer update: every cell back into its constraint set
    /// ([`Layer::constrain`]).
    pub fn constrain(&mut self) {
        self.body.constrain();
    }

    /// Zero gradients in [`param_groups`](Model::param_groups) order.
    pub fn zero_grads(&self) -> Vec<Params<T>> {
        self.param_groups()
            .iter()
            .map(|g| g.params.zeros_like())
            .collect()
    }
}
