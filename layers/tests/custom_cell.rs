//! The plugin promise: a cell defined outside rnnzoo's cell crates, depending only on
//! `rnnzoo-cell`, runs through the unroller (gated fast path and general path) and passes the
//! gradient check; and the checker catches a backward that drops a term.
//!
//! The cell: `h_t = (1 - a) h_{t-1} + a tanh(W_ih x + b_ih + W_hh h_{t-1} + b_hh)`, a leaky tanh
//! unit with a second state row block `m_t = h_t - h_{t-1}` (so the state is larger than the
//! output, like an LSTM's, and the general path has to handle it).

use proptest::prelude::*;
use rnnzoo_cell::gemm::{MatMut, MatRef, gemm};
use rnnzoo_cell::gradcheck::{self, Options};
use rnnzoo_cell::strategies::{SizeRanges, UnrollCase, unroll_case};
use rnnzoo_cell::{
    Cell, GateWeights, GatedCell, GeneralStep, Init, Params, PointwiseBackward, PointwiseForward,
    StepBackward, StepForm, StepForward, add_row_sums, broadcast_bias, seeded,
};
use rnnzoo_layers::gradcheck::check_unrolled;
use rnnzoo_layers::{Direction, Inputs, Layer, Recurrent};

/// The cell in the gated form: it writes its elementwise step and gets the rest from
/// [`GatedCell`].
#[derive(Clone)]
struct Leaky {
    weights: GateWeights<f64>,
    a: f64,
    /// Forget the `(1 - a) d h_t` path to `h_{t-1}` in backward.
    broken: bool,
    /// Declare `d_gh == d_gi` (else write `d_gh` as a copy of `d_gi`).
    shared: bool,
}

impl Leaky {
    fn new(input: usize, hidden: usize, seed: u64) -> Self {
        let mut weights = GateWeights::zeros(input, hidden, 1, true).unwrap();
        let mut rng = seeded(seed);
        for p in weights.params_mut().iter_mut() {
            Init::Uniform {
                low: -0.8,
                high: 0.8,
            }
            .apply(p, &mut rng);
        }
        Self {
            weights,
            a: 0.35,
            broken: false,
            shared: true,
        }
    }

    fn broken(self) -> Self {
        Self {
            broken: true,
            ..self
        }
    }

    fn hidden(&self) -> usize {
        self.weights.hidden()
    }

    /// The elementwise step for one sample column: from `u = tanh(pre)` and `prev` to `next`.
    fn combine(&self, u: &[f64], prev: &[f64], next: &mut [f64]) {
        let h = self.hidden();
        for j in 0..h {
            next[j] = (1.0 - self.a) * prev[j] + self.a * u[j];
            next[h + j] = next[j] - prev[j];
        }
    }

    /// `d pre` and the elementwise part of `d prev` for one sample column.
    fn uncombine(&self, u: &[f64], d_next: &[f64], d_pre: &mut [f64], d_prev: &mut [f64]) {
        let h = self.hidden();
        for j in 0..h {
            let dh = d_next[j] + d_next[h + j];
            d_pre[j] = dh * self.a * (1.0 - u[j] * u[j]);
            let carried = if self.broken {
                0.0
            } else {
                (1.0 - self.a) * dh
            };
            d_prev[j] = carried - d_next[h + j];
            d_prev[h + j] = 0.0;
        }
    }
}

impl GatedCell for Leaky {
    type Real = f64;
    fn weights(&self) -> &GateWeights<f64> {
        &self.weights
    }
    fn weights_mut(&mut self) -> &mut GateWeights<f64> {
        &mut self.weights
    }
    fn mode(&self) -> &str {
        "LEAKY"
    }
    fn state_size(&self) -> usize {
        2 * self.hidden()
    }
    fn cache_size(&self) -> usize {
        self.hidden()
    }
    fn d_gh_is_d_gi(&self) -> bool {
        self.shared
    }
    fn forward_pointwise(&self, mut f: PointwiseForward<'_, f64>) {
        for c in f.columns() {
            for (u, (&a, &b)) in c.cache.iter_mut().zip(c.gi.iter().zip(c.gh)) {
                *u = (a + b).tanh();
            }
            self.combine(c.cache, c.prev, c.next);
        }
    }
    fn backward_pointwise(&self, mut b: PointwiseBackward<'_, f64>) {
        for c in b.columns() {
            self.uncombine(c.cache, c.d_next, c.d_gi, c.d_prev);
            if !self.shared {
                c.d_gh.copy_from_slice(c.d_gi);
            }
        }
    }
}

/// The same cell written as a whole step, with its own GEMMs: exercises the unroller's general
/// path, which a cell that does not fit the two-GEMM shape uses.
#[derive(Clone)]
struct LeakyGeneral(Leaky);

impl Cell<f64> for LeakyGeneral {
    fn input_size(&self) -> usize {
        self.0.input_size()
    }
    fn hidden_size(&self) -> usize {
        self.0.hidden_size()
    }
    fn state_size(&self) -> usize {
        Cell::state_size(&self.0)
    }
    fn cache_size(&self) -> usize {
        Cell::cache_size(&self.0)
    }
    fn mode(&self) -> &str {
        "LEAKY"
    }
    fn params(&self) -> &Params<f64> {
        self.0.params()
    }
    fn params_mut(&mut self) -> &mut Params<f64> {
        self.0.params_mut()
    }
    fn form(&self) -> StepForm<'_, f64> {
        StepForm::General(self)
    }
}

impl GeneralStep<f64> for LeakyGeneral {
    fn scratch_size(&self, batch: usize) -> usize {
        self.0.hidden() * batch
    }
    fn forward(&self, step: StepForward<'_, f64>) {
        let StepForward {
            x,
            prev,
            next,
            cache,
            batch,
            ..
        } = step;
        let (h, s) = (self.0.hidden(), 2 * self.0.hidden());
        let p = self.params();
        let pre = &mut cache[..h * batch];
        broadcast_bias(pre, Some(p[2].data()), h);
        for (j, &bh) in p[3].data().iter().enumerate() {
            pre.chunks_exact_mut(h).for_each(|col| col[j] += bh);
        }
        gemm(
            1.0,
            p[0].view(),
            MatRef::col_major(x, self.input_size(), batch).unwrap(),
            1.0,
            MatMut::col_major(&mut *pre, h, batch).unwrap(),
        );
        gemm(
            1.0,
            p[1].view(),
            MatRef::new(prev, h, batch, 1, s).unwrap(),
            1.0,
            MatMut::col_major(&mut *pre, h, batch).unwrap(),
        );
        pre.iter_mut().for_each(|v| *v = v.tanh());
        for b in 0..batch {
            self.0.combine(
                &cache[b * h..][..h],
                &prev[b * s..][..s],
                &mut next[b * s..][..s],
            );
        }
    }
    fn backward(&self, step: StepBackward<'_, f64>, grads: &mut Params<f64>) {
        let StepBackward {
            x,
            prev,
            cache,
            d_next,
            d_x,
            d_prev,
            batch,
            scratch,
        } = step;
        let (h, s, i) = (self.0.hidden(), 2 * self.0.hidden(), self.input_size());
        let d_pre = &mut scratch[..h * batch];
        for b in 0..batch {
            self.0.uncombine(
                &cache[b * h..][..h],
                &d_next[b * s..][..s],
                &mut d_pre[b * h..][..h],
                &mut d_prev[b * s..][..s],
            );
        }
        let dp = MatRef::col_major(&*d_pre, h, batch).unwrap();
        let p = self.params();
        gemm(
            1.0,
            p[1].view().t(),
            dp,
            1.0,
            MatMut::new(d_prev, h, batch, 1, s).unwrap(),
        );
        gemm(
            1.0,
            p[0].view().t(),
            dp,
            0.0,
            MatMut::col_major(d_x, i, batch).unwrap(),
        );
        let xv = MatRef::col_major(x, i, batch).unwrap();
        gemm(
            1.0,
            dp,
            xv.t(),
            1.0,
            MatMut::row_major(grads.at_mut(0).data_mut(), h, i).unwrap(),
        );
        let hv = MatRef::new(prev, h, batch, 1, s).unwrap();
        gemm(
            1.0,
            dp,
            hv.t(),
            1.0,
            MatMut::row_major(grads.at_mut(1).data_mut(), h, h).unwrap(),
        );
        add_row_sums(grads.at_mut(2).data_mut(), d_pre, h);
        add_row_sums(grads.at_mut(3).data_mut(), d_pre, h);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn a_plugin_cell_passes_through_time_in_both_forms(case in unroll_case(SizeRanges::default()), general in any::<bool>()) {
        let cell = Leaky::new(case.input, case.hidden, case.seed);
        let report = if general {
            check_unrolled(LeakyGeneral(cell), &case, &Options::default())
        } else {
            check_unrolled(cell, &case, &Options::default())
        }.unwrap();
        prop_assert!(report.passed(), "{case:?}\n{report}");
    }
}

fn case() -> UnrollCase {
    UnrollCase {
        input: 3,
        hidden: 4,
        batch: 3,
        steps: 6,
        lengths: Some(vec![6, 2, 4]),
        reverse: true,
        initial_state: true,
        seed: 11,
    }
}

/// Everything a forward and backward pass of `cell` on `case` produces: output, final state, input
/// and initial-state gradients, then each parameter's gradient.
fn unroll<C: Cell<f64>>(cell: C, c: &UnrollCase, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = seeded(seed);
    let x = gradcheck::normal_vec(c.input * c.steps * c.batch, &mut rng);
    let h0 = gradcheck::normal_vec(2 * c.hidden * c.batch, &mut rng);
    let d_out = gradcheck::normal_vec(c.hidden * c.steps * c.batch, &mut rng);
    let direction = if c.reverse {
        Direction::Reverse
    } else {
        Direction::Forward
    };
    let layer = Recurrent::with_direction(cell, direction);
    let mut inputs = Inputs::new(&x, c.steps, c.batch).initial(&h0);
    if let Some(l) = c.lengths.as_deref() {
        inputs = inputs.lengths(l);
    }
    let (out, tape) = layer.forward(inputs, None).unwrap();
    let mut grads = layer.cell().params().zeros_like();
    let g = layer
        .backward(&tape, &d_out, None, std::slice::from_mut(&mut grads))
        .unwrap();
    let mut all = vec![out.output, out.final_state, g.d_input, g.d_initial];
    all.extend(grads.iter().map(|p| p.data().to_vec()));
    all
}

/// Same length and every value within `1e-12`.
fn close(x: &[f64], y: &[f64]) -> bool {
    x.len() == y.len() && x.iter().zip(y).all(|(p, q)| (p - q).abs() < 1e-12)
}

#[test]
fn close_compares_lengths_too() {
    assert!(close(&[1.0, 2.0], &[1.0, 2.0 + 1e-13]));
    assert!(!close(&[1.0, 2.0], &[1.0]));
    assert!(!close(&[], &[1.0]));
    assert!(!close(&[1.0], &[1.1]));
}

#[test]
fn the_gated_and_general_paths_agree() {
    let c = case();
    let gated = unroll(Leaky::new(c.input, c.hidden, 9), &c, 5);
    let general = unroll(LeakyGeneral(Leaky::new(c.input, c.hidden, 9)), &c, 5);
    assert_eq!(gated.len(), general.len());
    for (k, (a, b)) in gated.iter().zip(&general).enumerate() {
        assert!(close(a, b), "part {k}");
    }
}

#[test]
fn declaring_d_gh_is_d_gi_changes_no_bit_through_the_unroller() {
    // Several chunks of hoisted products (T * B above 256 columns) and, in a pool of two, the
    // pointwise calls split over column ranges (H * B large enough).
    let long = UnrollCase {
        input: 5,
        hidden: 160,
        batch: 24,
        steps: 13,
        lengths: Some((0..24).map(|b| 1 + b % 13).collect()),
        reverse: true,
        initial_state: true,
        seed: 3,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    for c in [case(), long] {
        let shared = Leaky::new(c.input, c.hidden, 4);
        let copied = Leaky {
            shared: false,
            ..shared.clone()
        };
        let (a, b) = pool.install(|| (unroll(shared, &c, 6), unroll(copied, &c, 6)));
        assert_eq!(a, b, "{c:?}");
    }
}

#[test]
fn the_checker_reports_a_backward_that_drops_a_term() {
    let c = case();
    let good = check_unrolled(Leaky::new(3, 4, 1), &c, &Options::default()).unwrap();
    assert!(good.passed(), "{good}");
    let bad = check_unrolled(Leaky::new(3, 4, 1).broken(), &c, &Options::default()).unwrap();
    assert!(
        !bad.passed(),
        "the dropped (1 - a) dh path went unnoticed:\n{bad}"
    );
    assert!(!bad.group("initial_state").unwrap().passed());
    assert!(bad.group("initial_state").unwrap().worst_rel > 1e-2);
    // One step alone shows it too: the state's gradient is wrong.
    let mut cell = Leaky::new(3, 4, 1).broken();
    let one = gradcheck::check_cell(&mut cell, 2, 0, &Options::default());
    assert!(!one.group("state").unwrap().passed());
    assert!(one.group("weight_ih").unwrap().passed());
}
