//! The plugin promise: a cell defined outside rnnzoo's cell crates, depending only on
//! `rnnzoo-cell`, runs through the unroller (gated fast path and general path) and passes the
//! gradient check; and the checker catches a backward that drops a term.
//!
//! The cell: `h_t = (1 - a) h_{t-1} + a tanh(W_ih x + b_ih + W_hh h_{t-1} + b_hh)`, a leaky tanh
//! unit with a second state row block `m_t = h_t - h_{t-1}` (so the state is larger than the
//! output, like an LSTM's, and the general path has to handle it).

use proptest::prelude::*;
use rnnzoo_cell::gemm::{gemm, MatMut, MatRef};
use rnnzoo_cell::gradcheck::{self, Options};
use rnnzoo_cell::strategies::{unroll_case, SizeRanges, UnrollCase};
use rnnzoo_cell::{
    add_row_sums, broadcast_bias, seeded, Cell, GateParams, GatedStep, GeneralStep, Init, Param,
    Params, StepForm,
};
use rnnzoo_layers::gradcheck::check_unrolled;
use rnnzoo_layers::{Direction, Inputs, Layer, Recurrent};

#[derive(Clone, Copy, PartialEq)]
enum Form {
    Gated,
    General,
    /// Gated, with the `(1 - a) d h_t` path to `h_{t-1}` forgotten in backward.
    Broken,
}

#[derive(Clone)]
struct Leaky {
    params: Params<f64>,
    input: usize,
    hidden: usize,
    a: f64,
    form: Form,
}

impl Leaky {
    fn new(input: usize, hidden: usize, seed: u64, form: Form) -> Self {
        let mut params = Params::new();
        params
            .push(Param::zeros("weight_ih", &[hidden, input], 1).unwrap())
            .unwrap();
        params
            .push(Param::zeros("weight_hh", &[hidden, hidden], 1).unwrap())
            .unwrap();
        params
            .push(Param::zeros("bias_ih", &[hidden], 1).unwrap())
            .unwrap();
        params
            .push(Param::zeros("bias_hh", &[hidden], 1).unwrap())
            .unwrap();
        let mut rng = seeded(seed);
        for p in params.iter_mut() {
            Init::Uniform {
                low: -0.8,
                high: 0.8,
            }
            .apply(p, &mut rng);
        }
        Self {
            params,
            input,
            hidden,
            a: 0.35,
            form,
        }
    }

    /// The elementwise step for one sample column: from `u = tanh(pre)` and `prev` to `next`.
    fn combine(&self, u: &[f64], prev: &[f64], next: &mut [f64]) {
        let h = self.hidden;
        for j in 0..h {
            next[j] = (1.0 - self.a) * prev[j] + self.a * u[j];
            next[h + j] = next[j] - prev[j];
        }
    }

    /// `d pre` and the elementwise part of `d prev` for one sample column.
    fn uncombine(&self, u: &[f64], d_next: &[f64], d_pre: &mut [f64], d_prev: &mut [f64]) {
        let h = self.hidden;
        for j in 0..h {
            let dh = d_next[j] + d_next[h + j];
            d_pre[j] = dh * self.a * (1.0 - u[j] * u[j]);
            let carried = if self.form == Form::Broken {
                0.0
            } else {
                (1.0 - self.a) * dh
            };
            d_prev[j] = carried - d_next[h + j];
            d_prev[h + j] = 0.0;
        }
    }
}

impl Cell<f64> for Leaky {
    fn input_size(&self) -> usize {
        self.input
    }
    fn hidden_size(&self) -> usize {
        self.hidden
    }
    fn state_size(&self) -> usize {
        2 * self.hidden
    }
    fn cache_size(&self) -> usize {
        self.hidden
    }
    fn mode(&self) -> &str {
        "LEAKY"
    }
    fn params(&self) -> &Params<f64> {
        &self.params
    }
    fn params_mut(&mut self) -> &mut Params<f64> {
        &mut self.params
    }
    fn form(&self) -> StepForm<'_, f64> {
        match self.form {
            Form::General => StepForm::General(self),
            Form::Gated | Form::Broken => StepForm::Gated(self),
        }
    }
}

impl GatedStep<f64> for Leaky {
    fn gates(&self) -> usize {
        1
    }
    fn gate_params(&self) -> GateParams {
        GateParams {
            weight_ih: 0,
            weight_hh: 1,
            bias_ih: Some(2),
            bias_hh: Some(3),
        }
    }
    fn forward_pointwise(
        &self,
        gi: &[f64],
        gh: &[f64],
        prev: &[f64],
        next: &mut [f64],
        cache: &mut [f64],
        batch: usize,
    ) {
        let (h, s) = (self.hidden, 2 * self.hidden);
        for b in 0..batch {
            let u = &mut cache[b * h..][..h];
            for j in 0..h {
                u[j] = (gi[b * h + j] + gh[b * h + j]).tanh();
            }
            self.combine(u, &prev[b * s..][..s], &mut next[b * s..][..s]);
        }
    }
    fn backward_pointwise(
        &self,
        cache: &[f64],
        _prev: &[f64],
        d_next: &[f64],
        d_gi: &mut [f64],
        d_gh: &mut [f64],
        d_prev: &mut [f64],
        batch: usize,
    ) {
        let (h, s) = (self.hidden, 2 * self.hidden);
        for b in 0..batch {
            self.uncombine(
                &cache[b * h..][..h],
                &d_next[b * s..][..s],
                &mut d_gi[b * h..][..h],
                &mut d_prev[b * s..][..s],
            );
        }
        d_gh[..h * batch].copy_from_slice(&d_gi[..h * batch]);
    }
}

/// The same cell written as a whole step, with its own GEMMs: exercises the unroller's general
/// path, which a cell that does not fit the two-GEMM shape uses.
impl GeneralStep<f64> for Leaky {
    fn scratch_size(&self, batch: usize) -> usize {
        self.hidden * batch
    }
    fn forward(
        &self,
        x: &[f64],
        prev: &[f64],
        next: &mut [f64],
        cache: &mut [f64],
        batch: usize,
        _scratch: &mut [f64],
    ) {
        let (h, s) = (self.hidden, 2 * self.hidden);
        let p = &self.params;
        let pre = &mut cache[..h * batch];
        broadcast_bias(pre, Some(p[2].data()), h);
        for (j, &bh) in p[3].data().iter().enumerate() {
            pre.chunks_exact_mut(h).for_each(|col| col[j] += bh);
        }
        gemm(
            1.0,
            p[0].view(),
            MatRef::col_major(x, self.input, batch).unwrap(),
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
            self.combine(
                &cache[b * h..][..h],
                &prev[b * s..][..s],
                &mut next[b * s..][..s],
            );
        }
    }
    fn backward(
        &self,
        x: &[f64],
        prev: &[f64],
        cache: &[f64],
        d_next: &[f64],
        d_x: &mut [f64],
        d_prev: &mut [f64],
        grads: &mut Params<f64>,
        batch: usize,
        scratch: &mut [f64],
    ) {
        let (h, s, i) = (self.hidden, 2 * self.hidden, self.input);
        let d_pre = &mut scratch[..h * batch];
        for b in 0..batch {
            self.uncombine(
                &cache[b * h..][..h],
                &d_next[b * s..][..s],
                &mut d_pre[b * h..][..h],
                &mut d_prev[b * s..][..s],
            );
        }
        let dp = MatRef::col_major(&*d_pre, h, batch).unwrap();
        let p = &self.params;
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
        let form = if general { Form::General } else { Form::Gated };
        let report = check_unrolled(Leaky::new(case.input, case.hidden, case.seed, form), &case, &Options::default()).unwrap();
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

#[test]
fn the_gated_and_general_paths_agree() {
    let c = case();
    let mut rng = seeded(5);
    let x = gradcheck::normal_vec(c.input * c.steps * c.batch, &mut rng);
    let h0 = gradcheck::normal_vec(2 * c.hidden * c.batch, &mut rng);
    let d_out = gradcheck::normal_vec(c.hidden * c.steps * c.batch, &mut rng);
    let run = |form| {
        let layer =
            Recurrent::with_direction(Leaky::new(c.input, c.hidden, 9, form), Direction::Reverse);
        let inputs = Inputs::new(&x, c.steps, c.batch)
            .initial(&h0)
            .lengths(c.lengths.as_deref().unwrap());
        let (out, tape) = layer.forward(inputs, None).unwrap();
        let mut grads = layer.cell().params().zeros_like();
        let g = layer
            .backward(&tape, &d_out, None, std::slice::from_mut(&mut grads))
            .unwrap();
        (out, g, grads)
    };
    let (a, b) = (run(Form::Gated), run(Form::General));
    let close = |x: &[f64], y: &[f64]| x.iter().zip(y).all(|(p, q)| (p - q).abs() < 1e-12);
    assert!(close(&a.0.output, &b.0.output) && close(&a.0.final_state, &b.0.final_state));
    assert!(close(&a.1.d_input, &b.1.d_input) && close(&a.1.d_initial, &b.1.d_initial));
    for (p, q) in a.2.iter().zip(b.2.iter()) {
        assert!(close(p.data(), q.data()), "{}", p.name());
    }
}

#[test]
fn the_checker_reports_a_backward_that_drops_a_term() {
    let c = case();
    let good = check_unrolled(Leaky::new(3, 4, 1, Form::Gated), &c, &Options::default()).unwrap();
    assert!(good.passed(), "{good}");
    let bad = check_unrolled(Leaky::new(3, 4, 1, Form::Broken), &c, &Options::default()).unwrap();
    assert!(
        !bad.passed(),
        "the dropped (1 - a) dh path went unnoticed:\n{bad}"
    );
    assert!(!bad.group("initial_state").unwrap().passed());
    assert!(bad.group("initial_state").unwrap().worst_rel > 1e-2);
    // One step alone shows it too: the state's gradient is wrong.
    let mut cell = Leaky::new(3, 4, 1, Form::Broken);
    let one = gradcheck::check_cell(&mut cell, 2, 0, &Options::default());
    assert!(!one.group("state").unwrap().passed());
    assert!(one.group("weight_ih").unwrap().passed());
}
