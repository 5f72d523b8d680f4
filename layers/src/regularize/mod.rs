//! Regularisers for any cell: recurrent (variational) dropout and zoneout, as a layer a user's
//! own cell gets with no change to the cell.
//!
//! [`Regularized`] wraps a [`Recurrent`](crate::Recurrent) layer of any [`Cell`]
//! and is a [`Layer`](crate::Layer) itself, so it goes wherever a layer goes: alone, as a half of a
//! [`Bidirectional`](crate::Bidirectional), in a [`Stack`](crate::Stack), under a head in a
//! [`Model`](crate::Model), through the trainer and the checkpoints. [`Regularizer`] holds the
//! rates.
//!
//! # Recurrent (variational) dropout
//!
//! Gal & Ghahramani, "A Theoretically Grounded Application of Dropout in Recurrent Neural
//! Networks", NeurIPS 2016. Their variational RNN drops the inputs `x_t`, the recurrent `h_{t-1}`
//! and the outputs with masks drawn once per sequence and repeated at every time step (their LSTM
//! computes its gates from `(x_t ∘ z_x, h_{t-1} ∘ z_h)`). The new part, the one earlier work
//! (Zaremba, Sutskever & Vinyals, "Recurrent Neural Network Regularization", arXiv:1409.2329,
//! 2014) left out, is the recurrent mask `z_h`; that is what this module adds. Dropout between layers is [`Stack::with_dropout`](crate::Stack::with_dropout)'s.
//! The choice here:
//!
//! - only the `h` rows of the state fed back into the cell are dropped: the cell computes its step
//!   from `[m ∘ h_{t-1}; rest_{t-1}]` (an LSTM's `c` is never masked, as in the paper, where only
//!   `h_{t-1}` enters the gates);
//! - one mask `m` per sample, drawn once per forward pass and held over all its steps;
//! - one mask for all of a cell's gates (the paper's "tied weights" variant; it also reports an
//!   "untied" one with a mask per gate, which a wrapper cannot give: a cell sees one `h_{t-1}`);
//! - inverted scaling: a kept unit is `1 / (1 - p)`, so that evaluation, which drops nothing, needs
//!   no rescaling;
//! - the layer's output and final state are the cell's `h_t`, unmasked: the mask is on the
//!   recurrent path only.
//!
//! Evaluation (no random source) uses no mask. Gal & Ghahramani also evaluate by Monte Carlo
//! averaging over masks; that is a loop over [`Layer::forward`](crate::Layer::forward) calls with a
//! random source, left to the caller.
//!
//! # Zoneout
//!
//! Krueger et al., "Zoneout: Regularizing RNNs by Randomly Preserving Hidden Activations", ICLR
//! 2017. At every step each unit keeps its previous value with probability `p`:
//!
//! ```text
//! h_t = d_t ∘ h_{t-1} + (1 - d_t) ∘ h~_t,    d_t ~ Bernoulli(p), drawn per step, per unit, per sample
//! ```
//!
//! where `h~_t` is the cell's own step from `(x_t, state_{t-1})`. As in dropout, evaluation uses the
//! expectation of the noise: `h_t = p h_{t-1} + (1 - p) h~_t`. For an LSTM the paper zones out `c`
//! and `h` with separate rates, both mixing the cell's step computed from the un-zoned values:
//! `c_t = d^c ∘ c_{t-1} + (1 - d^c) ∘ (f ∘ c_{t-1} + i ∘ g)` and
//! `h_t = d^h ∘ h_{t-1} + (1 - d^h) ∘ (o ∘ tanh(f ∘ c_{t-1} + i ∘ g))`, which is what mixing the
//! wrapped cell's whole new state gives. Here the rates are [`Regularizer::with_zoneout`]'s
//! `h` rate, for the state's first `hidden_size` rows (`h`), and `c` rate, for the rows after them
//! (an LSTM's `c`, or whatever a cell carries besides `h`; see [`Cell::state_size`]). The masks
//! are not scaled.
//!
//! With both on, the cell's step reads `m ∘ h_{t-1}` and zoneout keeps the unmasked `h_{t-1}`.
//!
//! # Why a cell wrapper fed by mask rows
//!
//! The masks must follow every rule the unroller already keeps: per-sample lengths (a padded step
//! carries the state untouched), reversed directions (each sample's valid prefix reversed), and
//! the split of samples over threads. Rather than a second unroller, [`Regularized`] draws the
//! masks on the caller's thread, appends them to the input sequence as extra rows of every column
//! (column `(t, b)` gets sample `b`'s dropout mask and step `t`'s zoneout mask), and runs the
//! plain [`Recurrent`](crate::Recurrent) unroller over a private wrapper cell whose input is
//! `[x_t; masks]`. The unroller moves the mask rows with their column, so lengths and directions
//! hold for them with no code of their own, and backward drops the mask rows' gradient (the masks
//! are constants). The wrapper cell reports the wrapped cell's mode and parameters unchanged, so a
//! checkpoint of a regularised model loads into an unregularised one and back.
//!
//! Masks are drawn from the random source [`Layer::forward`](crate::Layer::forward) is given, in a
//! fixed order (dropout: sample by sample, `hidden_size` draws each; zoneout: step by step, sample
//! by sample, one draw per row of the state, padded steps included), before any thread starts, so a
//! seed fixes them and the thread count does not change a bit. A rate of zero draws nothing for
//! its rows.
//!
//! # Cost
//!
//! The wrapper cell is a general step ([`rnnzoo_cell::GeneralStep`]): the unroller cannot hoist a
//! gated cell's input product out of the time loop through it, so a step costs the input product
//! too (two GEMMs instead of one forward, four instead of one backward), plus copies of the step's
//! columns. Evaluation pays it as well (with the expectation masks). A model trained with dropout
//! alone can drop the wrapper for evaluation: [`Regularized::into_inner`] gives back the plain
//! layer, which computes the same thing at full speed; a zoneout model cannot (its evaluation is
//! the expectation mix).
//!
//! # Example
//!
//! ```
//! use rnnzoo_cell::seeded;
//! use rnnzoo_layers::regularize::{Regularized, Regularizer};
//! use rnnzoo_layers::{Inputs, Layer, Recurrent};
//! use rnnzoo_lstm::LstmCell;
//!
//! let cell = LstmCell::<f32>::new(3, 8, &mut seeded(0))?;
//! let reg = Regularizer::new().with_recurrent_dropout(0.25)?.with_zoneout(0.1, 0.05)?;
//! let layer = Regularized::new(Recurrent::new(cell), reg)?;
//! let x = vec![0.5f32; 3 * 6 * 2]; // T = 6, B = 2
//! let inputs = Inputs::new(&x, 6, 2).lengths(&[6, 3]);
//! // Training: masks from the seeded source, the same for the same seed.
//! let (a, tape) = layer.forward(inputs, Some(&mut seeded(7)))?;
//! let (b, _) = layer.forward(inputs, Some(&mut seeded(7)))?;
//! assert_eq!(a, b);
//! let mut grads = layer.zero_grads();
//! let g = layer.backward(&tape, &vec![1.0; a.output.len()], None, &mut grads)?;
//! assert_eq!(g.d_input.len(), x.len());
//! // Evaluation: no dropout, zoneout's expectation.
//! assert_eq!(layer.infer(inputs)?, layer.forward(inputs, None)?.0);
//! // A rate outside [0, 1) is refused.
//! assert!(Regularizer::new().with_recurrent_dropout(1.0).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cell;
mod layer;
mod variational;
mod zoneout;

pub use layer::Regularized;

#[cfg(doc)]
use rnnzoo_cell::Cell;

/// A regulariser's mistake: a rate outside `[0, 1)`, or a rate for state rows the cell does not
/// have.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum RegularizeError {
    /// A rate is not in `[0, 1)` (a rate of 1 would drop, or freeze, everything).
    #[error("{rate} must be in [0, 1), got {got}")]
    Rate {
        /// Which rate (`"recurrent dropout"`, `"zoneout h"`, `"zoneout c"`).
        rate: &'static str,
        /// The rate given.
        got: f64,
    },
    /// A zoneout rate for the state rows after `h` was given for a cell whose state is `h` alone.
    #[error(
        "zoneout c rate {rate} was given, but the cell's state is h alone (state_size = hidden_size \
         = {hidden}): there is no c to zone out"
    )]
    NoCellState {
        /// The rate given.
        rate: f64,
        /// The cell's hidden (and state) size.
        hidden: usize,
    },
}

/// The rates of the regularisers, all off by default (see the [module docs](self)).
///
/// ```
/// use rnnzoo_layers::regularize::{RegularizeError, Regularizer};
/// let reg = Regularizer::new().with_recurrent_dropout(0.3)?;
/// assert_eq!((reg.recurrent_dropout(), reg.zoneout_h(), reg.zoneout_c()), (0.3, 0.0, 0.0));
/// assert_eq!(
///     Regularizer::new().with_zoneout(0.1, -0.5),
///     Err(RegularizeError::Rate { rate: "zoneout c", got: -0.5 })
/// );
/// # Ok::<(), RegularizeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Regularizer {
    recurrent_dropout: f64,
    zoneout_h: f64,
    zoneout_c: f64,
}

/// `Ok(p)` if `p` is in `[0, 1)` (NaN is not).
fn rate(what: &'static str, p: f64) -> Result<f64, RegularizeError> {
    if (0.0..1.0).contains(&p) {
        Ok(p)
    } else {
        Err(RegularizeError::Rate { rate: what, got: p })
    }
}

impl Regularizer {
    /// No regulariser.
    pub fn new() -> Self {
        Self::default()
    }

    /// With recurrent (variational) dropout of probability `p` on the `h` fed back into the cell.
    ///
    /// # Errors
    ///
    /// [`RegularizeError::Rate`] unless `0 <= p < 1`.
    pub fn with_recurrent_dropout(self, p: f64) -> Result<Self, RegularizeError> {
        Ok(Self {
            recurrent_dropout: rate("recurrent dropout", p)?,
            ..self
        })
    }

    /// With zoneout: each unit of `h` keeps its previous value with probability `h`, each of the
    /// state rows after `h` (an LSTM's `c`) with probability `c`, at every step.
    ///
    /// # Errors
    ///
    /// [`RegularizeError::Rate`] unless both are in `[0, 1)`.
    pub fn with_zoneout(self, h: f64, c: f64) -> Result<Self, RegularizeError> {
        Ok(Self {
            zoneout_h: rate("zoneout h", h)?,
            zoneout_c: rate("zoneout c", c)?,
            ..self
        })
    }

    /// The recurrent dropout probability.
    pub fn recurrent_dropout(&self) -> f64 {
        self.recurrent_dropout
    }

    /// The zoneout probability of `h`.
    pub fn zoneout_h(&self) -> f64 {
        self.zoneout_h
    }

    /// The zoneout probability of the state rows after `h`.
    pub fn zoneout_c(&self) -> f64 {
        self.zoneout_c
    }

    /// Whether zoneout is on (either rate above zero).
    pub fn has_zoneout(&self) -> bool {
        self.zoneout_h > 0.0 || self.zoneout_c > 0.0
    }
}
