//! [`Model`]: a recurrent body, a dense head, and where the head reads.

use rand::RngCore;
use rnnzoo_cell::{Params, Real};

use crate::head::Dense;
use crate::loss::{last_steps, scatter_last_steps};
use crate::{Inputs, Layer, LayerError, LayerTape, ParamGroup, Stack};

/// Which outputs of the body the head reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Readout {
    /// Every step: predictions are `output x (T*B)` (sequence tagging, language models).
    EveryStep,
    /// Each sample's last valid step: predictions are `output x B` (sequence classification or
    /// regression).
    LastStep,
}

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
}

/// A model's predictions and its body's final state.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction<T> {
    /// The head's outputs, `output x (T*B)` or `output x B` (see [`Readout`]).
    pub predictions: Vec<T>,
    /// The body's final state (to carry into the next chunk in truncated BPTT).
    pub final_state: Vec<T>,
}

/// What [`Model::backward`] needs from [`Model::forward`].
pub struct ModelTape<T> {
    body: LayerTape,
    head_input: Vec<T>,
    predictions: Vec<T>,
    lengths: Option<Vec<usize>>,
    steps: usize,
    batch: usize,
}

impl<T: Real> Model<T> {
    /// Puts the parts together.
    ///
    /// # Errors
    ///
    /// [`LayerError::Compose`] if the head's input size is not the body's output size.
    pub fn new(body: Stack<T>, head: Dense<T>, readout: Readout) -> Result<Self, LayerError> {
        if body.output_size() != head.input_size() {
            return Err(LayerError::Compose(format!(
                "the body outputs {} rows but the head takes {}",
                body.output_size(),
                head.input_size()
            )));
        }
        Ok(Self {
            body,
            head,
            readout,
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
            Readout::LastStep => batch,
        }
    }

    fn head_input(&self, output: Vec<T>, inputs: &Inputs<'_, T>) -> Vec<T> {
        match self.readout {
            Readout::EveryStep => output,
            Readout::LastStep => last_steps(
                &output,
                self.body.output_size(),
                inputs.steps,
                inputs.batch,
                inputs.lengths,
            ),
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
        let head_input = self.head_input(out.output, &inputs);
        let columns = self.columns(inputs.steps, inputs.batch);
        let predictions = self.head.forward(&head_input, columns)?;
        let tape = ModelTape {
            body,
            head_input,
            predictions: predictions.clone(),
            lengths: inputs.lengths.map(<[usize]>::to_vec),
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
        let head_input = self.head_input(out.output, &inputs);
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
            return Err(LayerError::GradsLayout {
                expected: vec!["weight".into(), "bias".into()],
            });
        }
        let (body_grads, head_grads) = grads.split_at_mut(n - 1);
        let d_h = self.head.backward(
            &tape.head_input,
            &tape.predictions,
            d_predictions,
            columns,
            &mut head_grads[0],
        )?;
        let h = self.body.output_size();
        let d_out = match self.readout {
            Readout::EveryStep => d_h,
            Readout::LastStep => {
                scatter_last_steps(&d_h, h, tape.steps, tape.batch, tape.lengths.as_deref())
            }
        };
        Ok(self
            .body
            .backward(&tape.body, &d_out, d_final, body_grads)?
            .d_initial)
    }

    /// Every parameter group: the body's, then the head's (suffix `"head"`).
    pub fn param_groups(&self) -> Vec<ParamGroup<'_, T>> {
        let mut g = self.body.param_groups();
        g.push(ParamGroup {
            suffix: "head".into(),
            mode: "DENSE",
            hidden_size: self.head.output_size(),
            state_size: 0,
            params: self.head.params(),
        });
        g
    }

    /// Every parameter group, for writing, in [`param_groups`](Model::param_groups) order.
    pub fn params_mut(&mut self) -> Vec<&mut Params<T>> {
        let mut g = self.body.params_mut();
        g.push(self.head.params_mut());
        g
    }

    /// Zero gradients in [`param_groups`](Model::param_groups) order.
    pub fn zero_grads(&self) -> Vec<Params<T>> {
        self.param_groups()
            .iter()
            .map(|g| g.params.zeros_like())
            .collect()
    }
}
