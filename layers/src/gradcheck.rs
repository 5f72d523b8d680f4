//! Gradient checks through time: any cell, layer or model against finite differences.
//!
//! - [`LayerLoss`] makes any [`Layer`] on a fixed sequence (a [`SequenceCase`]) a
//!   [`Differentiable`]: the loss is `<d_out, output> + <d_final, final_state>` with random
//!   cotangents; the groups are every parameter (PyTorch names with their `_l{k}`/`_reverse`
//!   suffixes), the input and the initial state. [`check_layer`] checks one.
//! - [`check_unrolled`] does it for one cell in a [`Recurrent`] layer, drawing everything from an
//!   [`UnrollCase`] (which `rnnzoo_cell::strategies` generates), so a cell in any crate is checked
//!   through time in a few lines.
//! - [`ModelLoss`] checks a whole [`Model`] through its head and a real loss.
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

use std::sync::Arc;

use rnnzoo_cell::gradcheck::{
    check, normal_vec, param_layout, Differentiable, Layout, Options, Report, StepFinding,
};
use rnnzoo_cell::strategies::UnrollCase;
use rnnzoo_cell::{seeded, Cell};

use crate::loss::{cross_entropy, mse};
use crate::readout::step_mask;
use crate::{Direction, Inputs, Layer, LayerError, Model, Readout, Recurrent};

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

fn dot(a: &[f64], b: &[f64]) -> f64 {
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
                .map(|n| format!("{n}{}", g.suffix))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A layer on a fixed sequence with a random linear loss (see the module docs).
pub struct LayerLoss<L> {
    layer: L,
    seq: Sequence,
    d_out: Vec<f64>,
    d_final: Vec<f64>,
    /// (group, index within the group) of every parameter tensor, in `groups()` order.
    slots: Vec<(usize, usize)>,
    /// Builds another layer of the same layout, for [`Differentiable::fork`].
    make: Option<Factory<L>>,
}

/// A function that builds a layer, shared by the threads of a parallel check.
type Factory<L> = Arc<dyn Fn() -> L + Send + Sync>;

impl<L: Layer<f64>> LayerLoss<L> {
    /// The layer on the sequence, initial state and lengths of `case`; inputs, state and
    /// cotangents are standard normal from `case.seed`.
    ///
    /// # Errors
    ///
    /// [`LayerError`] if the case does not fit the layer.
    pub fn new(layer: L, case: &SequenceCase) -> Result<Self, LayerError> {
        let mut rng = seeded(case.seed ^ 0x9e37_79b9_7f4a_7c15);
        let seq = Sequence::draw(case, layer.input_size(), layer.state_size(), &mut rng);
        let d_out = normal_vec(layer.output_size() * case.steps * case.batch, &mut rng);
        let d_final = normal_vec(layer.state_size() * case.batch, &mut rng);
        let slots = layer
            .param_groups()
            .iter()
            .enumerate()
            .flat_map(|(g, p)| (0..p.params.len()).map(move |k| (g, k)))
            .collect();
        layer.infer(seq.inputs())?;
        Ok(Self {
            layer,
            seq,
            d_out,
            d_final,
            slots,
            make: None,
        })
    }

    /// As [`LayerLoss::new`] on the layer `make()` builds, and able to
    /// [`fork`](Differentiable::fork): the checker then spreads the elements over the current
    /// rayon pool, each thread on its own layer from `make` with this one's values copied in.
    /// `make` must build layers of one layout (the values may differ: they are overwritten).
    ///
    /// ```
    /// use rnnzoo_cell::{gradcheck::{check, Options}, seeded};
    /// use rnnzoo_layers::gradcheck::{LayerLoss, SequenceCase};
    /// use rnnzoo_layers::Recurrent;
    /// use rnnzoo_lstm::LstmCell;
    ///
    /// let seq = SequenceCase { steps: 4, batch: 2, lengths: None, initial_state: true, seed: 3 };
    /// let make = || Recurrent::new(LstmCell::<f64>::new(3, 4, &mut seeded(1)).unwrap());
    /// let mut f = LayerLoss::with_factory(make, &seq)?;
    /// assert!(check(&mut f, &Options::default()).passed());
    /// # Ok::<(), rnnzoo_layers::LayerError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`LayerError`] if the case does not fit the layer.
    pub fn with_factory(
        make: impl Fn() -> L + Send + Sync + 'static,
        case: &SequenceCase,
    ) -> Result<Self, LayerError> {
        let mut f = Self::new(make(), case)?;
        f.make = Some(Arc::new(make));
        Ok(f)
    }

    /// The layer.
    pub fn layer(&self) -> &L {
        &self.layer
    }

    /// The earliest step whose contribution disagrees, for a check of this loss that failed with
    /// `report`: the shortest prefix of the sequence (the first `t` steps, lengths cut to `t`,
    /// the same values and cotangents) whose check of the failing groups fails, found by
    /// bisection over `t` in `1..=T` (a mistake in one step's backward fails every prefix that
    /// reaches it). `None` if `report` passed or no prefix fails. The values are the same after
    /// the call as before it.
    pub fn earliest_failing_step(
        &mut self,
        report: &Report,
        opts: &Options,
    ) -> Option<StepFinding> {
        self.earliest_failing_step_with(report, opts, check)
    }

    /// As [`LayerLoss::earliest_failing_step`], with `run` doing each prefix's check: for a
    /// check of something that wraps this loss (a [`Planted`](rnnzoo_cell::gradcheck::Planted)
    /// error, say), `run` wraps it the same way.
    pub fn earliest_failing_step_with(
        &mut self,
        report: &Report,
        opts: &Options,
        mut run: impl FnMut(&mut Self, &Options) -> Report,
    ) -> Option<StepFinding> {
        if report.passed() {
            return None;
        }
        let failing: Vec<&str> = report.failed_groups();
        let narrowed = opts.clone().only(&failing);
        let steps = self.seq.steps;
        let features = self.layer.input_size();
        let outputs = self.layer.output_size();
        let full = (self.seq.clone(), self.d_out.clone());
        let mut at = |this: &mut Self, t: usize| -> Report {
            this.seq = full.0.prefix(t, features);
            this.d_out = full.1[..outputs * t * full.0.batch].to_vec();
            run(this, &narrowed)
        };
        let (mut lo, mut hi) = (1, steps);
        let mut failed_at = None;
        while lo < hi {
            let mid = (lo + hi) / 2;
            let r = at(self, mid);
            if r.passed() {
                lo = mid + 1;
            } else {
                hi = mid;
                failed_at = Some((mid, r));
            }
        }
        let r = match failed_at {
            Some((t, r)) if t == lo => r,
            _ => at(self, lo),
        };
        self.seq = full.0;
        self.d_out = full.1;
        if r.passed() {
            return None;
        }
        let g = r.groups.iter().find(|g| !g.passed())?;
        Some(StepFinding {
            step: lo - 1,
            steps,
            group: g.name.clone(),
            finding: g.first_failure.or(g.worst),
        })
    }
}

impl<L: Layer<f64>> Differentiable for LayerLoss<L> {
    fn layout(&self, group: usize) -> Layout {
        let n = self.slots.len();
        match group {
            g if g < n => {
                let (pg, k) = self.slots[g];
                param_layout(self.layer.param_groups()[pg].params.at(k))
            }
            g if g == n => Layout::Sequence {
                steps: self.seq.steps,
                batch: self.seq.batch,
                features: self.layer.input_size(),
            },
            _ => Layout::State {
                batch: self.seq.batch,
                rows: self.layer.state_size(),
            },
        }
    }

    fn loss_scale(&mut self) -> f64 {
        let out = self
            .layer
            .infer(self.seq.inputs())
            .expect("inputs checked in new");
        abs_dot(&out.output, &self.d_out) + abs_dot(&out.final_state, &self.d_final)
    }

    fn fork(&self) -> Option<Box<dyn Differentiable + Send + '_>> {
        let make = self.make.as_ref()?;
        let mut layer = make();
        let from = self.layer.param_groups();
        let to = layer.params_mut();
        if to.len() != from.len() || to.iter().zip(&from).any(|(t, f)| !t.same_layout(f.params)) {
            return None;
        }
        for (t, f) in to.into_iter().zip(&from) {
            for (a, b) in t.iter_mut().zip(f.params.iter()) {
                a.data_mut().copy_from_slice(b.data());
            }
        }
        Some(Box::new(LayerLoss {
            layer,
            seq: self.seq.clone(),
            d_out: self.d_out.clone(),
            d_final: self.d_final.clone(),
            slots: self.slots.clone(),
            make: None,
        }))
    }

    fn groups(&self) -> Vec<String> {
        let mut g = param_names(self.layer.param_groups().into_iter());
        g.push("input".into());
        if self.seq.initial.is_some() {
            g.push("initial_state".into());
        }
        g
    }

    fn values_mut(&mut self, group: usize) -> &mut [f64] {
        let n = self.slots.len();
        match group {
            g if g < n => {
                let (pg, k) = self.slots[g];
                self.layer.params_mut().swap_remove(pg).at_mut(k).data_mut()
            }
            g if g == n => &mut self.seq.x,
            _ => self
                .seq
                .initial
                .as_deref_mut()
                .expect("initial_state group exists only with an initial state"),
        }
    }

    fn loss(&mut self) -> f64 {
        let out = self
            .layer
            .infer(self.seq.inputs())
            .expect("inputs checked in new");
        dot(&out.output, &self.d_out) + dot(&out.final_state, &self.d_final)
    }

    fn gradients(&mut self) -> Vec<Vec<f64>> {
        let (_, tape) = self
            .layer
            .forward(self.seq.inputs(), None)
            .expect("inputs checked in new");
        let mut grads = self.layer.zero_grads();
        let g = self
            .layer
            .backward(&tape, &self.d_out, Some(&self.d_final), &mut grads)
            .expect("shapes are the layer's own");
        let mut out: Vec<Vec<f64>> = grads
            .iter()
            .flat_map(|p| p.iter().map(|t| t.data().to_vec()))
            .collect();
        out.push(g.d_input);
        if self.seq.initial.is_some() {
            out.push(g.d_initial);
        }
        out
    }
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
    check_layer(
        Recurrent::with_direction(cell, direction(case)),
        &case.into(),
        opts,
    )
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
    check_layer_with(
        move || Recurrent::with_direction(make(), d),
        &case.into(),
        opts,
    )
}

fn direction(case: &UnrollCase) -> Direction {
    if case.reverse {
        Direction::Reverse
    } else {
        Direction::Forward
    }
}

/// The loss a [`ModelLoss`] applies to the model's predictions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossKind {
    /// Mean squared error against standard-normal targets.
    MeanSquared,
    /// Softmax cross-entropy against random classes (the head's outputs are the logits).
    CrossEntropy,
}

/// A [`Model`] on a fixed sequence through its head and a real loss (masked by the lengths when
/// the model reads every step). Groups: every parameter (the head's as `weight_head`,
/// `bias_head`) and the initial state.
pub struct ModelLoss {
    model: Model<f64>,
    seq: Sequence,
    kind: LossKind,
    targets: Vec<f64>,
    classes: Vec<usize>,
    slots: Vec<(usize, usize)>,
}

impl ModelLoss {
    /// The model on `case`'s sequence with random targets.
    ///
    /// # Errors
    ///
    /// [`LayerError`] if the case does not fit the model.
    pub fn new(model: Model<f64>, case: &SequenceCase, kind: LossKind) -> Result<Self, LayerError> {
        let mut rng = seeded(case.seed ^ 0x5851_f42d_4c95_7f2d);
        let seq = Sequence::draw(
            case,
            model.body().input_size(),
            model.body().state_size(),
            &mut rng,
        );
        let out = model.head().output_size();
        let columns = model.columns(case.steps, case.batch);
        let targets = normal_vec(out * columns, &mut rng);
        let classes = (0..columns)
            .map(|_| rand::Rng::random_range(&mut rng, 0..out))
            .collect();
        let slots = model
            .param_groups()
            .iter()
            .enumerate()
            .flat_map(|(g, p)| (0..p.params.len()).map(move |k| (g, k)))
            .collect();
        model.predict(seq.inputs())?;
        Ok(Self {
            model,
            seq,
            kind,
            targets,
            classes,
            slots,
        })
    }

    /// The loss and its gradient with respect to the predictions.
    fn evaluate(&self, predictions: &[f64]) -> (f64, Vec<f64>) {
        let mask = match self.model.readout() {
            Readout::EveryStep => Some(
                step_mask(self.seq.steps, self.seq.batch, self.seq.lengths.as_deref())
                    .expect("lengths checked in new"),
            ),
            Readout::LastStep | Readout::FinalStates => None,
        };
        let rows = self.model.head().output_size();
        let l = match self.kind {
            LossKind::MeanSquared => mse(predictions, &self.targets, rows, mask.as_deref()),
            LossKind::CrossEntropy => {
                cross_entropy(predictions, &self.classes, rows, mask.as_deref())
            }
        }
        .expect("targets are sized for the model");
        (l.value, l.grad)
    }
}

impl Differentiable for ModelLoss {
    fn groups(&self) -> Vec<String> {
        let mut g = param_names(self.model.param_groups().into_iter());
        if self.seq.initial.is_some() {
            g.push("initial_state".into());
        }
        g
    }

    fn values_mut(&mut self, group: usize) -> &mut [f64] {
        match self.slots.get(group) {
            Some(&(pg, k)) => self.model.params_mut().swap_remove(pg).at_mut(k).data_mut(),
            None => self
                .seq
                .initial
                .as_deref_mut()
                .expect("initial_state group exists only with an initial state"),
        }
    }

    fn loss(&mut self) -> f64 {
        let p = self
            .model
            .predict(self.seq.inputs())
            .expect("inputs checked in new");
        self.evaluate(&p.predictions).0
    }

    fn gradients(&mut self) -> Vec<Vec<f64>> {
        let (p, tape) = self
            .model
            .forward(self.seq.inputs(), None)
            .expect("inputs checked in new");
        let (_, d_pred) = self.evaluate(&p.predictions);
        let mut grads = self.model.zero_grads();
        let d_initial = self
            .model
            .backward(&tape, &d_pred, None, &mut grads)
            .expect("shapes are the model's own");
        let mut out: Vec<Vec<f64>> = grads
            .iter()
            .flat_map(|p| p.iter().map(|t| t.data().to_vec()))
            .collect();
        if self.seq.initial.is_some() {
            out.push(d_initial);
        }
        out
    }
}
