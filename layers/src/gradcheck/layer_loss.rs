//! [`LayerLoss`]: any layer on a fixed sequence as a [`Differentiable`], with the earliest
//! failing step of a failed check.

use std::sync::Arc;

use rnnzoo_cell::gradcheck::{
    Differentiable, Layout, Options, Report, StepFinding, check, losses_one_at_a_time, normal_vec,
    param_layout,
};
use rnnzoo_cell::{Cell, seeded};

use super::prefix::earliest_failing_prefix;
use super::{Sequence, SequenceCase, abs_dot, dot, param_names};
use crate::unroll::Target;
use crate::{Inputs, Layer, LayerError, Recurrent};

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
    /// Many losses in one pass, where the layer can (see [`LayerLoss::in_columns`]).
    batched: Option<BatchedLosses<L>>,
}

/// A function that builds a layer, shared by the threads of a parallel check.
type Factory<L> = Arc<dyn Fn() -> L + Send + Sync>;

/// The losses of many changed copies of a layer's pass at once: (layer, inputs, `d_out`,
/// `d_final`, what is changed, the changes), or `None` where the layer cannot.
type BatchedLosses<L> =
    fn(&L, &Inputs<'_, f64>, &[f64], &[f64], Target, &[(usize, f64)]) -> Option<Vec<f64>>;

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
            batched: None,
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
        let steps = self.seq.steps;
        let features = self.layer.input_size();
        let outputs = self.layer.output_size();
        let full = (self.seq.clone(), self.d_out.clone());
        let found = earliest_failing_prefix(report, opts, steps, |t, narrowed| {
            self.seq = full.0.prefix(t, features);
            self.d_out = full.1[..outputs * t * full.0.batch].to_vec();
            run(self, narrowed)
        });
        self.seq = full.0;
        self.d_out = full.1;
        found
    }
}

impl<C: Cell<f64>> LayerLoss<Recurrent<C>> {
    /// The same loss, its finite differences run as columns: where the cell is in the gated form,
    /// the checker's points (eight per element, 32 elements at a time) are the changed copies of
    /// one unroll of `8 * 32 * B` columns, each step one wide GEMM, where one point at a time is a
    /// matrix-vector product per step (see `rnnzoo_layers::unroll`'s `copies` module). The loss
    /// is the same function; only the order of its sums differs, so a check's verdicts do not
    /// change, and its speed does (LSTM I=H=64, T=50, B=1, every element: see TESTING.md). Cells
    /// of other forms, whose columns need not be independent, go one point at a time.
    /// [`check_unrolled`](super::check_unrolled) and [`check_unrolled_with`](super::check_unrolled_with)
    /// use it.
    ///
    /// ```
    /// use rnnzoo_cell::{gradcheck::{check, Options}, seeded};
    /// use rnnzoo_layers::gradcheck::{LayerLoss, SequenceCase};
    /// use rnnzoo_layers::Recurrent;
    /// use rnnzoo_gru::GruCell;
    ///
    /// let seq = SequenceCase { steps: 6, batch: 2, lengths: Some(vec![6, 3]), initial_state: true, seed: 3 };
    /// let layer = Recurrent::new(GruCell::<f64>::new(3, 4, &mut seeded(1))?);
    /// let mut f = LayerLoss::new(layer, &seq)?.in_columns();
    /// assert!(check(&mut f, &Options::default()).passed());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn in_columns(mut self) -> Self {
        self.batched = Some(|layer, inputs, d_out, d_final, target, at| {
            layer.perturbed_losses(inputs, d_out, d_final, target, at)
        });
        self
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
            batched: self.batched,
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

    fn losses_at(&mut self, group: usize, at: &[(usize, f64)]) -> Vec<f64> {
        let n = self.slots.len();
        let target = match group {
            g if g < n => Target::Param {
                param: self.slots[g].1,
            },
            g if g == n => Target::Input,
            _ => Target::Initial,
        };
        // Set only for a `Recurrent` (`in_columns`): one parameter group, the cell's, whose
        // indices `Target::Param` names.
        let batched = self.batched.and_then(|run| {
            run(
                &self.layer,
                &self.seq.inputs(),
                &self.d_out,
                &self.d_final,
                target,
                at,
            )
        });
        batched.unwrap_or_else(|| losses_one_at_a_time(self, group, at))
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
