//! [`Regularized`]: a recurrent layer with recurrent dropout and zoneout (see the
//! [module docs](super)).

use rand::RngCore;
use rnnzoo_cell::{Cell, Params, Real};

use super::cell::{Masked, Rows};
use super::{RegularizeError, Regularizer, variational, zoneout};
use crate::{
    Direction, InputGrads, Inputs, Layer, LayerError, LayerTape, Output, ParamGroup, Recurrent,
};

/// A [`Recurrent`] layer of any cell with recurrent (variational) dropout and zoneout, drawn from
/// the random source [`Layer::forward`] is given (off without one, and in [`Layer::infer`]).
///
/// Its sizes, direction, parameter groups and names are the wrapped layer's, so it composes as
/// that layer does ([`Bidirectional`](crate::Bidirectional) halves, [`Stack`](crate::Stack)
/// layers) and its checkpoints are the plain layer's.
///
/// ```
/// use rnnzoo_cell::seeded;
/// use rnnzoo_gru::GruCell;
/// use rnnzoo_layers::regularize::{Regularized, Regularizer};
/// use rnnzoo_layers::{Bidirectional, Layer, Merge, Recurrent, Stack};
///
/// let reg = Regularizer::new().with_recurrent_dropout(0.3)?.with_zoneout(0.1, 0.0)?;
/// let half = |seed| -> Result<Regularized<GruCell<f32>>, Box<dyn std::error::Error>> {
///     Ok(Regularized::new(Recurrent::new(GruCell::new(3, 4, &mut seeded(seed))?), reg)?)
/// };
/// let bi = Bidirectional::new(half(0)?, half(1)?, Merge::Concat)?;
/// let stack = Stack::new(vec![Box::new(bi)])?;
/// let names: Vec<String> = stack.param_groups().iter()
///     .flat_map(|g| g.params.names().map(|n| format!("{n}{}", g.suffix)).collect::<Vec<_>>())
///     .collect();
/// assert!(names.contains(&"weight_hh_l0_reverse".to_string())); // PyTorch's names, unchanged
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Regularized<C> {
    layer: Recurrent<Masked<C>>,
    reg: Regularizer,
}

/// What backward needs: the wrapped unroll's tape.
struct RegularizedTape {
    inner: LayerTape,
}

impl<C> Regularized<C> {
    /// `layer` with the regularisers of `reg`.
    ///
    /// # Errors
    ///
    /// [`RegularizeError::NoCellState`] for a zoneout `c` rate on a cell whose state is `h`
    /// alone (a vanilla RNN, a GRU): there are no rows for it.
    pub fn new<T: Real>(layer: Recurrent<C>, reg: Regularizer) -> Result<Self, RegularizeError>
    where
        C: Cell<T>,
    {
        let direction = layer.direction();
        let cell = layer.into_cell();
        let (hidden, state) = (cell.hidden_size(), cell.state_size());
        if reg.zoneout_c() > 0.0 && state == hidden {
            return Err(RegularizeError::NoCellState {
                rate: reg.zoneout_c(),
                hidden,
            });
        }
        let rows = Rows {
            input: cell.input_size(),
            hidden,
            state,
            dropout: if reg.recurrent_dropout() > 0.0 {
                hidden
            } else {
                0
            },
            zoneout: if reg.has_zoneout() { state } else { 0 },
        };
        Ok(Self {
            layer: Recurrent::with_direction(Masked { cell, rows }, direction),
            reg,
        })
    }

    /// The rates.
    pub fn regularizer(&self) -> Regularizer {
        self.reg
    }

    /// The wrapped cell.
    pub fn cell(&self) -> &C {
        &self.layer.cell().cell
    }

    /// The wrapped cell, for writing.
    pub fn cell_mut(&mut self) -> &mut C {
        &mut self.layer.cell_mut().cell
    }

    /// The plain layer, without the regularisers: what a model trained with recurrent dropout
    /// alone evaluates with at full speed (it computes what [`Layer::infer`] does here). With
    /// zoneout the plain layer computes something else (zoneout's evaluation is the expectation
    /// mix).
    pub fn into_inner(self) -> Recurrent<C> {
        let direction = self.layer.direction();
        Recurrent::with_direction(self.layer.into_cell().cell, direction)
    }

    /// The caller's sequence with the mask rows appended to every column: training masks from
    /// `rng`, or their expectation without one.
    fn augment<T: Real>(
        &self,
        inputs: &Inputs<'_, T>,
        mut rng: Option<&mut dyn RngCore>,
    ) -> Vec<T> {
        let r = self.layer.cell().rows;
        let (steps, batch) = (inputs.steps, inputs.batch);
        let drop: Vec<T> = if r.dropout > 0 {
            let rng = rng.as_mut().map(|g| &mut **g as &mut dyn RngCore);
            variational::masks(r.hidden, batch, self.reg.recurrent_dropout(), rng)
        } else {
            Vec::new()
        };
        let zone: Vec<T> = if r.zoneout > 0 {
            let rates = (self.reg.zoneout_h(), self.reg.zoneout_c());
            zoneout::masks((r.hidden, r.state), steps * batch, rates, rng)
        } else {
            Vec::new()
        };
        let mut x = Vec::with_capacity(r.total() * steps * batch);
        for (c, xc) in inputs.x.chunks_exact(r.input).enumerate() {
            x.extend_from_slice(xc);
            let b = c % batch;
            x.extend_from_slice(&drop[b * r.dropout..][..r.dropout]);
            x.extend_from_slice(&zone[c * r.zoneout..][..r.zoneout]);
        }
        x
    }
}

impl<T: Real, C: Cell<T>> Layer<T> for Regularized<C> {
    fn input_size(&self) -> usize {
        self.layer.cell().rows.input
    }

    fn output_size(&self) -> usize {
        self.layer.cell().rows.hidden
    }

    fn state_size(&self) -> usize {
        self.layer.cell().rows.state
    }

    fn forward_unchecked(
        &self,
        inputs: Inputs<'_, T>,
        train: Option<&mut dyn RngCore>,
    ) -> Result<(Output<T>, LayerTape), LayerError> {
        let x = self.augment(&inputs, train);
        let (out, inner) = self
            .layer
            .forward_unchecked(Inputs { x: &x, ..inputs }, None)?;
        Ok((out, LayerTape::new(RegularizedTape { inner })))
    }

    fn infer_unchecked(&self, inputs: Inputs<'_, T>) -> Result<Output<T>, LayerError> {
        let x = self.augment(&inputs, None);
        self.layer.infer_unchecked(Inputs { x: &x, ..inputs })
    }

    fn direction(&self) -> Direction {
        self.layer.direction()
    }

    fn backward(
        &self,
        tape: &LayerTape,
        d_output: &[T],
        d_final: Option<&[T]>,
        grads: &mut [Params<T>],
    ) -> Result<InputGrads<T>, LayerError> {
        let tape = tape.expect::<RegularizedTape>("Regularized")?;
        let g = self.layer.backward(&tape.inner, d_output, d_final, grads)?;
        let r = self.layer.cell().rows;
        let d_input = g
            .d_input
            .chunks_exact(r.total())
            .flat_map(|c| &c[..r.input])
            .copied()
            .collect();
        Ok(InputGrads {
            d_input,
            d_initial: g.d_initial,
        })
    }

    fn param_groups(&self) -> Vec<ParamGroup<'_, T>> {
        self.layer.param_groups()
    }

    fn params_mut(&mut self) -> Vec<&mut Params<T>> {
        self.layer.params_mut()
    }

    fn constrain(&mut self) {
        self.layer.constrain()
    }
}
