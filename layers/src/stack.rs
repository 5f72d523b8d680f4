//! [`Stack`]: layers in sequence, a deep recurrent network.

use rand::{Rng, RngCore};
use rnnzoo_cell::{Params, Real};

use crate::{InputGrads, Inputs, Layer, LayerError, LayerTape, Output, ParamGroup};

/// Layers of any kind in sequence (an LSTM layer under a GRU layer is fine), each reading the
/// previous one's output, with dropout between layers but never after the last, as PyTorch's
/// `num_layers > 1` with `dropout`.
///
/// The state is every layer's state, one block after the other, in PyTorch's `h_n` order
/// (`layer * dirs + direction`). Dropout is inverted (kept values scaled by `1 / (1 - p)`) and
/// applied only in training, when [`Layer::forward`] is given a random source; the masks come
/// from that source alone, so a seed fixes them.
///
/// ```
/// use rnnzoo_cell::seeded;
/// use rnnzoo_layers::{Inputs, Layer, Recurrent, Stack};
/// use rnnzoo_gru::GruCell;
/// use rnnzoo_lstm::LstmCell;
///
/// let stack = Stack::new(vec![
///     Box::new(Recurrent::new(LstmCell::<f32>::new(3, 8, &mut seeded(0))?)),
///     Box::new(Recurrent::new(GruCell::<f32>::new(8, 4, &mut seeded(1))?)),
/// ])?
/// .with_dropout(0.2)?;
/// assert_eq!((stack.output_size(), stack.state_size()), (4, 2 * 8 + 4));
/// let x = vec![0.1f32; 3 * 6 * 2];
/// let (out, tape) = stack.forward(Inputs::new(&x, 6, 2), Some(&mut seeded(7)))?;
/// let mut grads = stack.zero_grads();
/// let g = stack.backward(&tape, &vec![1.0; out.output.len()], None, &mut grads)?;
/// assert_eq!(g.d_input.len(), x.len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Stack<T> {
    layers: Vec<Box<dyn Layer<T>>>,
    dropout: f64,
}

/// What [`Stack::run`] returns: the top output and final states, what each layer returned
/// besides its output, and the dropout mask after each layer.
type Run<T, X> = (Output<T>, Vec<X>, Vec<Option<Vec<T>>>);

struct StackTape<T> {
    tapes: Vec<LayerTape>,
    /// The dropout mask applied to each layer's output (none after the last, none in evaluation).
    masks: Vec<Option<Vec<T>>>,
    steps: usize,
    batch: usize,
}

impl<T: Real> Stack<T> {
    /// The layers, bottom first, without dropout.
    ///
    /// # Errors
    ///
    /// [`LayerError::Compose`] if there are no layers or a layer's input size is not the output
    /// size of the one below.
    pub fn new(layers: Vec<Box<dyn Layer<T>>>) -> Result<Self, LayerError> {
        if layers.is_empty() {
            return Err(LayerError::Compose(
                "a stack needs at least one layer".into(),
            ));
        }
        for (k, pair) in layers.windows(2).enumerate() {
            if pair[0].output_size() != pair[1].input_size() {
                return Err(LayerError::Compose(format!(
                    "layer {} outputs {} rows but layer {} takes {}",
                    k,
                    pair[0].output_size(),
                    k + 1,
                    pair[1].input_size()
                )));
            }
        }
        Ok(Self {
            layers,
            dropout: 0.0,
        })
    }

    /// With dropout probability `p` between layers.
    ///
    /// # Errors
    ///
    /// [`LayerError::Compose`] unless `0 <= p < 1`.
    pub fn with_dropout(mut self, p: f64) -> Result<Self, LayerError> {
        if !(0.0..1.0).contains(&p) {
            return Err(LayerError::Compose(format!(
                "dropout must be in [0, 1), got {p}"
            )));
        }
        self.dropout = p;
        Ok(self)
    }

    /// The dropout probability between layers.
    pub fn dropout(&self) -> f64 {
        self.dropout
    }

    /// The layers, bottom first.
    pub fn layers(&self) -> &[Box<dyn Layer<T>>] {
        &self.layers
    }

    /// The layers, for writing.
    pub fn layers_mut(&mut self) -> &mut [Box<dyn Layer<T>>] {
        &mut self.layers
    }

    /// Each layer's block of a stack state, `(offset, len)` in values for a batch.
    fn state_blocks(&self, batch: usize) -> Vec<(usize, usize)> {
        let mut off = 0;
        self.layers
            .iter()
            .map(|l| {
                let n = l.state_size() * batch;
                off += n;
                (off - n, n)
            })
            .collect()
    }

    /// Runs every layer on inputs already checked; `layer_run(layer, inputs, rng)` does one (by
    /// its unchecked path: the stack's input was checked once, and each later layer reads what the
    /// one below produced). Returns the top output, the final states concatenated, and what each
    /// layer returned besides its output.
    fn run<X>(
        &self,
        inputs: Inputs<'_, T>,
        mut train: Option<&mut dyn RngCore>,
        mut layer_run: impl FnMut(
            &dyn Layer<T>,
            Inputs<'_, T>,
            Option<&mut dyn RngCore>,
        ) -> Result<(Output<T>, X), LayerError>,
    ) -> Result<Run<T, X>, LayerError> {
        let blocks = self.state_blocks(inputs.batch);
        // The first layer reads the caller's sequence in place; each later one the output below.
        let mut below: Option<Vec<T>> = None;
        let mut final_state = Vec::with_capacity(self.state_size() * inputs.batch);
        let (mut extras, mut masks) = (Vec::new(), Vec::new());
        let last = self.layers.len() - 1;
        for (k, layer) in self.layers.iter().enumerate() {
            let initial = inputs.initial.map(|s| &s[blocks[k].0..][..blocks[k].1]);
            let inp = Inputs {
                x: below.as_deref().unwrap_or(inputs.x),
                initial,
                ..inputs
            };
            let (out, extra) = layer_run(
                layer.as_ref(),
                inp,
                train.as_mut().map(|r| &mut **r as &mut dyn RngCore),
            )?;
            final_state.extend_from_slice(&out.final_state);
            extras.push(extra);
            let mut x = out.output;
            let mask = match train.as_mut() {
                Some(rng) if k < last && self.dropout > 0.0 => {
                    Some(dropout_mask(x.len(), self.dropout, &mut **rng))
                }
                _ => None,
            };
            if let Some(m) = &mask {
                x.iter_mut().zip(m).for_each(|(v, &m)| *v *= m);
            }
            masks.push(mask);
            below = Some(x);
        }
        Ok((
            Output {
                output: below.unwrap_or_default(),
                final_state,
            },
            extras,
            masks,
        ))
    }
}

/// Inverted dropout: each value kept with probability `1 - p` and scaled by `1 / (1 - p)`.
fn dropout_mask<T: Real>(n: usize, p: f64, rng: &mut dyn RngCore) -> Vec<T> {
    let keep = T::from_f64_lossy(1.0 / (1.0 - p));
    (0..n)
        .map(|_| {
            if rng.random::<f64>() < p {
                T::zero()
            } else {
                keep
            }
        })
        .collect()
}

impl<T: Real> Layer<T> for Stack<T> {
    fn input_size(&self) -> usize {
        self.layers[0].input_size()
    }

    fn output_size(&self) -> usize {
        self.layers[self.layers.len() - 1].output_size()
    }

    fn state_size(&self) -> usize {
        self.layers.iter().map(|l| l.state_size()).sum()
    }

    fn forward_unchecked(
        &self,
        inputs: Inputs<'_, T>,
        train: Option<&mut dyn RngCore>,
    ) -> Result<(Output<T>, LayerTape), LayerError> {
        let (out, tapes, masks) = self.run(inputs, train, |layer, inp, rng| {
            layer.forward_unchecked(inp, rng)
        })?;
        Ok((
            out,
            LayerTape::new(StackTape {
                tapes,
                masks,
                steps: inputs.steps,
                batch: inputs.batch,
            }),
        ))
    }

    fn infer_unchecked(&self, inputs: Inputs<'_, T>) -> Result<Output<T>, LayerError> {
        Ok(self
            .run(inputs, None, |layer, inp, _| {
                Ok((layer.infer_unchecked(inp)?, ()))
            })?
            .0)
    }

    fn direction(&self) -> crate::Direction {
        if self
            .layers
            .iter()
            .any(|l| l.direction() == crate::Direction::Reverse)
        {
            crate::Direction::Reverse
        } else {
            crate::Direction::Forward
        }
    }

    fn backward(
        &self,
        tape: &LayerTape,
        d_output: &[T],
        d_final: Option<&[T]>,
        grads: &mut [Params<T>],
    ) -> Result<InputGrads<T>, LayerError> {
        let tape = tape.expect::<StackTape<T>>("Stack")?;
        let (steps, batch) = (tape.steps, tape.batch);
        crate::layer::check_backward(self, steps, batch, d_output, d_final, grads)?;
        let blocks = self.state_blocks(batch);
        // Where each layer's gradient stores start in `grads`.
        let mut starts = Vec::with_capacity(self.layers.len());
        let mut n = 0;
        for l in &self.layers {
            starts.push(n);
            n += l.param_groups().len();
        }
        // The top layer reads the caller's gradient in place (no dropout after the last layer);
        // each lower one the input gradient of the layer above, masked where dropout was.
        let mut above: Option<Vec<T>> = None;
        let mut d_initials = vec![Vec::new(); self.layers.len()];
        for k in (0..self.layers.len()).rev() {
            if let Some(m) = &tape.masks[k] {
                let d = above.get_or_insert_with(|| d_output.to_vec());
                d.iter_mut().zip(m).for_each(|(v, &m)| *v *= m);
            }
            let d_fin = d_final.map(|s| &s[blocks[k].0..][..blocks[k].1]);
            let end = starts.get(k + 1).copied().unwrap_or(grads.len());
            let g = self.layers[k].backward(
                &tape.tapes[k],
                above.as_deref().unwrap_or(d_output),
                d_fin,
                &mut grads[starts[k]..end],
            )?;
            above = Some(g.d_input);
            d_initials[k] = g.d_initial;
        }
        Ok(InputGrads {
            d_input: above.unwrap_or_default(),
            d_initial: d_initials.concat(),
        })
    }

    fn param_groups(&self) -> Vec<ParamGroup<'_, T>> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(k, l)| {
                l.param_groups().into_iter().map(move |g| ParamGroup {
                    suffix: format!("_l{k}{}", g.suffix),
                    ..g
                })
            })
            .collect()
    }

    fn params_mut(&mut self) -> Vec<&mut Params<T>> {
        self.layers
            .iter_mut()
            .flat_map(|l| l.params_mut())
            .collect()
    }

    fn constrain(&mut self) {
        self.layers.iter_mut().for_each(|l| l.constrain());
    }
}

#[cfg(test)]
mod tests {
    use super::dropout_mask;
    use rnnzoo_cell::seeded;

    /// Inverted dropout keeps each value's expectation: a kept value is scaled by exactly
    /// `1 / (1 - p)`, and about a fraction `p` is dropped.
    #[test]
    fn a_dropout_mask_keeps_the_expectation() {
        let p = 0.3;
        let mask: Vec<f64> = dropout_mask(100_000, p, &mut seeded(0));
        let keep = 1.0 / (1.0 - p);
        assert!(mask.iter().all(|&v| v == 0.0 || v == keep));
        let n = mask.len() as f64;
        let dropped = mask.iter().filter(|&&v| v == 0.0).count() as f64 / n;
        // Five standard deviations of a binomial fraction over 100k draws is about 0.007.
        assert!((dropped - p).abs() < 0.01, "dropped {dropped}");
        let mean = mask.iter().sum::<f64>() / n;
        assert!((mean - 1.0).abs() < 0.015, "mean {mean}");
    }
}
