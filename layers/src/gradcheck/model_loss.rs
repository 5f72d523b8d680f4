//! [`ModelLoss`]: a whole model through its head and a real loss, as a [`Differentiable`].

use rnnzoo_cell::gradcheck::{Differentiable, Options, Report, StepFinding, check, normal_vec};
use rnnzoo_cell::seeded;

use super::prefix::earliest_failing_prefix;
use super::{Sequence, SequenceCase, param_names};
use crate::loss::{cross_entropy, mse};
use crate::readout::step_mask;
use crate::{Layer, LayerError, Model, Readout};

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

    /// The model.
    pub fn model(&self) -> &Model<f64> {
        &self.model
    }

    /// The earliest step whose contribution disagrees, for a check of this loss that failed with
    /// `report`, as [`LayerLoss::earliest_failing_step`](super::LayerLoss::earliest_failing_step)
    /// finds it: the shortest failing prefix of the sequence, each prefix read by the model's
    /// readout as a whole sequence would be (its last step, or its steps' targets). The values
    /// are the same after the call as before it.
    pub fn earliest_failing_step(
        &mut self,
        report: &Report,
        opts: &Options,
    ) -> Option<StepFinding> {
        self.earliest_failing_step_with(report, opts, check)
    }

    /// As [`ModelLoss::earliest_failing_step`], with `run` doing each prefix's check (for a check
    /// of something that wraps this loss, a [`Planted`](rnnzoo_cell::gradcheck::Planted) error
    /// say).
    pub fn earliest_failing_step_with(
        &mut self,
        report: &Report,
        opts: &Options,
        mut run: impl FnMut(&mut Self, &Options) -> Report,
    ) -> Option<StepFinding> {
        let steps = self.seq.steps;
        let features = self.model.body().input_size();
        let rows = self.model.head().output_size();
        let every_step = self.model.readout() == Readout::EveryStep;
        let full = (self.seq.clone(), self.targets.clone(), self.classes.clone());
        let found = earliest_failing_prefix(report, opts, steps, |t, narrowed| {
            self.seq = full.0.prefix(t, features);
            if every_step {
                let columns = t * full.0.batch;
                self.targets = full.1[..rows * columns].to_vec();
                self.classes = full.2[..columns].to_vec();
            }
            run(self, narrowed)
        });
        self.seq = full.0;
        self.targets = full.1;
        self.classes = full.2;
        found
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

/// Checks `model` through its head and `kind` of loss on `case`'s sequence: every parameter
/// element (the head's too) and the initial state, against finite differences; a failed report
/// names the earliest failing step ([`ModelLoss::earliest_failing_step`]).
///
/// ```
/// use rnnzoo_cell::{gradcheck::Options, seeded};
/// use rnnzoo_layers::gradcheck::{check_model, LossKind, SequenceCase};
/// use rnnzoo_layers::head::{Activation, Dense};
/// use rnnzoo_layers::{Layer, Model, Readout, Recurrent, Stack};
/// use rnnzoo_gru::GruCell;
///
/// let body = Stack::new(vec![Box::new(Recurrent::new(GruCell::<f64>::new(2, 3, &mut seeded(0))?)) as Box<dyn Layer<f64>>])?;
/// let model = Model::new(body, Dense::new(3, 4, Activation::Identity, &mut seeded(1))?, Readout::EveryStep)?;
/// let seq = SequenceCase { steps: 5, batch: 2, lengths: Some(vec![5, 3]), initial_state: true, seed: 2 };
/// let report = check_model(model, &seq, LossKind::CrossEntropy, &Options::default())?;
/// assert!(report.passed(), "{report}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`LayerError`] if the case does not fit the model.
pub fn check_model(
    model: Model<f64>,
    case: &SequenceCase,
    kind: LossKind,
    opts: &Options,
) -> Result<Report, LayerError> {
    let mut f = ModelLoss::new(model, case, kind)?;
    let mut report = check(&mut f, opts);
    report.earliest_step = f.earliest_failing_step(&report, opts);
    Ok(report)
}
