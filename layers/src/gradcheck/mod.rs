//! Gradient checks through time: any cell, layer or model against finite differences.
//!
//! - [`LayerLoss`] makes any [`Layer`] on a fixed sequence (a [`SequenceCase`]) a
//!   [`Differentiable`](rnnzoo_cell::gradcheck::Differentiable): the loss is `<d_out, output> + <d_final, final_state>` with random
//!   cotangents; the groups are every parameter (PyTorch names with their `_l{k}`/`_reverse`
//!   suffixes), the input and the initial state. [`check_layer`] checks one.
//! - [`check_unrolled`] does it for one cell in a [`Recurrent`] layer, drawing everything from an
//!   [`UnrollCase`] (which `rnnzoo_cell::strategies` generates), so a cell in any crate is checked
//!   through time in a few lines.
//! - [`ModelLoss`] checks a whole [`Model`](crate::Model) through its head and a real loss.
//! - [`unrolled_against_steps`] holds a cell's unrolled pass to its steps taken one at a time.
//!
//! ```
//! use rnnzoo_cell::{gradcheck::Options, seeded, strategies::UnrollCase};
//! use rnnzoo_layers::gradcheck::check_unrolled;
//! use rnnzoo_vanilla::{Nonlinearity, VanillaCell};
//!
//! let case = UnrollCase {
//!     input: 3, hidden: 4, batch: 2, steps: 5,
//!     lengths: Some(vec![5, 2]), reverse: true, initial_state: true, seed: 1,
//! };
//! let cell = VanillaCell::<f64>::new(case.input, case.hidden, Nonlinearity::Tanh, &mut seeded(case.seed))?;
//! let report = check_unrolled(cell, &case, &Options::default())?;
//! assert!(report.passed(), "{report}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod layer_loss;
mod model_loss;
mod prefix;
mod stepped;

use rnnzoo_cell::Cell;
use rnnzoo_cell::gradcheck::{Options, Report, check, normal_vec};
use rnnzoo_cell::strategies::UnrollCase;

use crate::{Direction, Inputs, Layer, LayerError, Recurrent};
pub use layer_loss::LayerLoss;
pub use model_loss::{LossKind, ModelLoss, check_model};
pub use stepped::{Stepped, unrolled_against_steps};

/// The sequence a layer or a model is checked on: its shape and lengths, whether it starts from a
/// given state, and the seed its values are drawn from. The layer has its own sizes and
/// directions, so this is all a check of a layer needs; an [`UnrollCase`] (which
/// `rnnzoo_cell::strategies` generates) converts into one.
///
/// ```
/// use rnnzoo_cell::{gradcheck::Options, seeded};
/// use rnnzoo_layers::gradcheck::{check_layer, SequenceCase};
/// use rnnzoo_layers::{Bidirectional, Merge, Recurrent};
/// use rnnzoo_vanilla::{Nonlinearity, VanillaCell};
///
/// let mut rng = seeded(0);
/// let mut half = || VanillaCell::<f64>::new(3, 4, Nonlinearity::Tanh, &mut rng).map(Recurrent::new);
/// let layer = Bidirectional::new(half()?, half()?, Merge::Concat)?;
/// let seq = SequenceCase { steps: 4, batch: 2, lengths: Some(vec![4, 1]), initial_state: true, seed: 1 };
/// let report = check_layer(layer, &seq, &Options::default())?;
/// assert!(report.passed(), "{report}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceCase {
    /// Sequence length `T`.
    pub steps: usize,
    /// Batch.
    pub batch: usize,
    /// Per-sample valid lengths (each in `1..=T`), or `None` for all `T`.
    pub lengths: Option<Vec<usize>>,
    /// Start from a random initial state (checked too) instead of zeros.
    pub initial_state: bool,
    /// Seed of the inputs, the initial state and the cotangents.
    pub seed: u64,
}

impl From<&UnrollCase> for SequenceCase {
    /// The case's sequence; its `input`, `hidden` and `reverse` describe a cell and a direction,
    /// which a layer has already.
    fn from(case: &UnrollCase) -> Self {
        Self {
            steps: case.steps,
            batch: case.batch,
            lengths: case.lengths.clone(),
            initial_state: case.initial_state,
            seed: case.seed,
        }
    }
}

/// A sequence, optional initial state and lengths, drawn from a case's seed.
#[derive(Clone)]
struct Sequence {
    x: Vec<f64>,
    initial: Option<Vec<f64>>,
    lengths: Option<Vec<usize>>,
    steps: usize,
    batch: usize,
}

impl Sequence {
    fn draw(case: &SequenceCase, input: usize, state: usize, rng: &mut impl rand::Rng) -> Self {
        let (steps, batch) = (case.steps, case.batch);
        let x = normal_vec(input * steps * batch, rng);
        let initial = case.initial_state.then(|| normal_vec(state * batch, rng));
        Self {
            x,
            initial,
            lengths: case.lengths.clone(),
            steps,
            batch,
        }
    }

    /// The first `t` steps (each sample's length cut to `t`).
    fn prefix(&self, t: usize, features: usize) -> Self {
        Self {
            x: self.x[..features * t * self.batch].to_vec(),
            initial: self.initial.clone(),
            lengths: self
                .lengths
                .as_ref()
                .map(|l| l.iter().map(|&n| n.min(t)).collect()),
            steps: t,
            batch: self.batch,
        }
    }

    fn inputs(&self) -> Inputs<'_, f64> {
        Inputs {
            x: &self.x,
            steps: self.steps,
            batch: self.batch,
            initial: self.initial.as_deref(),
            lengths: self.lengths.as_deref(),
        }
    }
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn abs_dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x * y).abs()).sum()
}

fn param_names<'a>(groups: impl Iterator<Item = crate::ParamGroup<'a, f64>>) -> Vec<String> {
    groups
        .flat_map(|g| {
            g.params
                .names()
                // The body's suffixes start with `_` (`_l0_reverse`); the head's is `head`.
                .map(|n| match g.suffix.as_str() {
                    "" => n.to_string(),
                    s if s.starts_with('_') => format!("{n}{s}"),
                    s => format!("{n}_{s}"),
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Checks any layer on `case`'s sequence (see [`LayerLoss::new`] and the example on
/// [`SequenceCase`]): every parameter element, the input and the initial state (when the case has
/// one), against finite differences. A failed report also names the earliest failing step
/// ([`Report::earliest_step`], see [`LayerLoss::earliest_failing_step`]).
///
/// # Errors
///
/// [`LayerError`] if the case does not fit the layer.
pub fn check_layer<L: Layer<f64>>(
    layer: L,
    case: &SequenceCase,
    opts: &Options,
) -> Result<Report, LayerError> {
    Ok(check_located(&mut LayerLoss::new(layer, case)?, opts))
}

/// As [`check_layer`], on the layers `make` builds, every thread of the current rayon pool
/// checking its share of the elements (see [`LayerLoss::with_factory`]).
///
/// # Errors
///
/// [`LayerError`] if the case does not fit the layer.
pub fn check_layer_with<L: Layer<f64>>(
    make: impl Fn() -> L + Send + Sync + 'static,
    case: &SequenceCase,
    opts: &Options,
) -> Result<Report, LayerError> {
    Ok(check_located(
        &mut LayerLoss::with_factory(make, case)?,
        opts,
    ))
}

fn check_located<L: Layer<f64>>(f: &mut LayerLoss<L>, opts: &Options) -> Report {
    let mut report = check(f, opts);
    report.earliest_step = f.earliest_failing_step(&report, opts);
    report
}

/// Checks `cell` unrolled as `case` says (direction included): every parameter element, the input
/// and the initial state (when the case has one), against finite differences; a failed report
/// names the earliest failing step too (see [`check_layer`]).
///
/// # Errors
///
/// [`LayerError`] if the case does not fit the cell.
pub fn check_unrolled<C: Cell<f64>>(
    cell: C,
    case: &UnrollCase,
    opts: &Options,
) -> Result<Report, LayerError> {
    let layer = Recurrent::with_direction(cell, direction(case));
    Ok(check_located(
        &mut LayerLoss::new(layer, &case.into())?.in_columns(),
        opts,
    ))
}

/// As [`check_unrolled`], on the cells `make` builds (all of one layout), every thread of the
/// current rayon pool checking its share of the elements: the check of a large cell through many
/// steps.
///
/// ```
/// use rnnzoo_cell::{gradcheck::Options, seeded, strategies::UnrollCase};
/// use rnnzoo_layers::gradcheck::check_unrolled_with;
/// use rnnzoo_gru::GruCell;
///
/// let case = UnrollCase {
///     input: 3, hidden: 4, batch: 2, steps: 5,
///     lengths: None, reverse: false, initial_state: true, seed: 1,
/// };
/// let report = check_unrolled_with(|| GruCell::<f64>::new(3, 4, &mut seeded(1)).unwrap(), &case, &Options::default())?;
/// assert!(report.passed(), "{report}");
/// # Ok::<(), rnnzoo_layers::LayerError>(())
/// ```
///
/// # Errors
///
/// [`LayerError`] if the case does not fit the cell.
pub fn check_unrolled_with<C: Cell<f64> + 'static>(
    make: impl Fn() -> C + Send + Sync + 'static,
    case: &UnrollCase,
    opts: &Options,
) -> Result<Report, LayerError> {
    let d = direction(case);
    let f = LayerLoss::with_factory(move || Recurrent::with_direction(make(), d), &case.into())?;
    Ok(check_located(&mut f.in_columns(), opts))
}

fn direction(case: &UnrollCase) -> Direction {
    if case.reverse {
        Direction::Reverse
    } else {
        Direction::Forward
    }
}
