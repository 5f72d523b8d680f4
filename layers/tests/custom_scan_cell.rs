//! The plugin promise for the scan form: a cell defined outside rnnzoo's cell crates, depending
//! only on `rnnzoo-cell`, computes whole passes with `rnnzoo_cell::scan` and gets variable
//! lengths, both directions, initial and final states and the gradient check from the unroller;
//! and the checker catches an adjoint that drops the carried gradient.
//!
//! The cell: `u_t = W x_t + b`, `c_t = a * c_{t-1} + (1 - a) * u_t` with `a = sigmoid(decay)` per
//! unit, `h_t = tanh(c_t)`. Its state is `[h; c]`, larger than its output, and its output is not
//! the scanned value, as in QRNN and SRU.

use proptest::prelude::*;
use rnnzoo_cell::gemm::{MatMut, MatRef, gemm};
use rnnzoo_cell::gradcheck::{self, Options};
use rnnzoo_cell::scan::{self, ScanBackward, ScanForward, ScanPass};
use rnnzoo_cell::strategies::{SizeRanges, UnrollCase, unroll_case};
use rnnzoo_cell::{Cell, Init, Param, Params, StepForm, add_row_sums, broadcast_bias, seeded};
use rnnzoo_layers::gradcheck::{check_unrolled, unrolled_against_steps};
use rnnzoo_layers::{Inputs, Layer, Recurrent};

#[derive(Clone)]
struct SmoothTanh {
    params: Params<f64>,
    input: usize,
    hidden: usize,
    /// Drop the `a * g_{t+1}` carry in the adjoint.
    broken: bool,
}

impl SmoothTanh {
    fn new(input: usize, hidden: usize, seed: u64) -> Self {
        let mut params = Params::new();
        params
            .push(Param::zeros("weight_ih", &[hidden, input], 1).unwrap())
            .unwrap();
        params
            .push(Param::zeros("bias_ih", &[hidden], 1).unwrap())
            .unwrap();
        params
            .push(Param::zeros("decay", &[hidden], 1).unwrap())
            .unwrap();
        let mut rng = seeded(seed);
        for p in params.iter_mut() {
            Init::Uniform {
                low: -1.0,
                high: 1.0,
            }
            .apply(p, &mut rng);
        }
        Self {
            params,
            input,
            hidden,
            broken: false,
        }
    }

    /// `a` at every lane of the scan over `c` (`hidden x (steps * batch)`).
    fn coefficients(&self, columns: usize) -> Vec<f64> {
        let a: Vec<f64> = self.params[2]
            .data()
            .iter()
            .map(|d| 1.0 / (1.0 + (-d).exp()))
            .collect();
        (0..columns).flat_map(|_| a.iter().copied()).collect()
    }
}

impl Cell<f64> for SmoothTanh {
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
        self.hidden // u_t
    }
    fn mode(&self) -> &str {
        "SMOOTH_TANH"
    }
    fn params(&self) -> &Params<f64> {
        &self.params
    }
    fn params_mut(&mut self) -> &mut Params<f64> {
        &mut self.params
    }
    fn form(&self) -> StepForm<'_, f64> {
        StepForm::Scan(self)
    }
}

impl ScanPass<f64> for SmoothTanh {
    fn forward(&self, p: ScanForward<'_, f64>) {
        let (h, n) = (self.hidden, p.steps * p.batch);
        broadcast_bias(p.cache, Some(self.params[1].data()), h);
        let x = MatRef::col_major(p.x, self.input, n).unwrap();
        gemm(
            1.0,
            self.params[0].view(),
            x,
            1.0,
            MatMut::col_major(p.cache, h, n).unwrap(),
        );
        let a = self.coefficients(n);
        // The scan runs on c alone, compact; then each state column is [tanh(c); c].
        let mut c: Vec<f64> = p.cache.iter().zip(&a).map(|(u, a)| (1.0 - a) * u).collect();
        let c0: Vec<f64> = p
            .initial
            .chunks_exact(2 * h)
            .flat_map(|s| s[h..].to_vec())
            .collect();
        scan::linear(&a, &mut c, Some(&c0), h * p.batch);
        for (state, c) in p.states.chunks_exact_mut(2 * h).zip(c.chunks_exact(h)) {
            for j in 0..h {
                state[j] = c[j].tanh();
                state[h + j] = c[j];
            }
        }
    }

    fn backward(&self, p: ScanBackward<'_, f64>, grads: &mut Params<f64>) {
        let (h, b, n) = (self.hidden, p.batch, p.steps * p.batch);
        let a = self.coefficients(n);
        // d c_t from outside the scan: its own row block, and through h = tanh(c).
        let mut g: Vec<f64> = p
            .d_states
            .chunks_exact(2 * h)
            .zip(p.states.chunks_exact(2 * h))
            .flat_map(|(d, s)| (0..h).map(move |j| d[h + j] + d[j] * (1.0 - s[j] * s[j])))
            .collect();
        if !self.broken {
            scan::linear_adjoint(&a, &mut g, h * b);
        }
        let mut d_u = vec![0.0; h * n];
        let d_decay = grads.at_mut(2).data_mut();
        for k in 0..h * n {
            let (col, j) = (k / h, k % h);
            let prev = if col < b {
                p.initial[col * 2 * h + h + j]
            } else {
                p.states[(col - b) * 2 * h + h + j]
            };
            d_u[k] = (1.0 - a[k]) * g[k];
            d_decay[j] += g[k] * (prev - p.cache[k]) * a[k] * (1.0 - a[k]);
        }
        for (col, d0) in p.d_initial.chunks_exact_mut(2 * h).enumerate() {
            for j in 0..h {
                d0[j] = 0.0; // h_{-1} is not read
                d0[h + j] = a[col * h + j] * g[col * h + j];
            }
        }
        let d_u_v = MatRef::col_major(&d_u, h, n).unwrap();
        let x = MatRef::col_major(p.x, self.input, n).unwrap();
        gemm(
            1.0,
            self.params[0].view().t(),
            d_u_v,
            0.0,
            MatMut::col_major(p.d_x, self.input, n).unwrap(),
        );
        gemm(
            1.0,
            d_u_v,
            x.t(),
            1.0,
            MatMut::row_major(grads.at_mut(0).data_mut(), h, self.input).unwrap(),
        );
        add_row_sums(grads.at_mut(1).data_mut(), &d_u, h);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn a_plugin_scan_cell_passes_through_time(case in unroll_case(SizeRanges::default())) {
        let cell = SmoothTanh::new(case.input, case.hidden, case.seed);
        let report = check_unrolled(cell, &case, &Options::default()).unwrap();
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

/// A pass of the whole sequence gives what stepping the cell one step at a time does
/// ([`CellExt`]), with padded steps carrying the state and reversed prefixes, to 1e-12.
#[test]
fn a_pass_is_its_steps() {
    let c = case();
    let s = unrolled_against_steps(&SmoothTanh::new(c.input, c.hidden, 2), &c).unwrap();
    assert!(s.worst < 1e-12 && s.padded_nonzero == 0, "{s:?}");
}

#[test]
fn the_checker_reports_an_adjoint_that_drops_the_carry() {
    let c = case();
    let good = check_unrolled(SmoothTanh::new(3, 4, 1), &c, &Options::default()).unwrap();
    assert!(good.passed(), "{good}");
    let broken = SmoothTanh {
        broken: true,
        ..SmoothTanh::new(3, 4, 1)
    };
    let bad = check_unrolled(broken, &c, &Options::default()).unwrap();
    assert!(!bad.passed(), "the dropped carry went unnoticed:\n{bad}");
    assert!(!bad.group("weight_ih").unwrap().passed());
}

/// One step of a scan cell through `CellExt` passes the one-step checker, and its columns stay
/// apart.
#[test]
fn one_step_passes_the_cell_checks() {
    let mut cell = SmoothTanh::new(3, 4, 3);
    let opts = Options::default();
    let report = gradcheck::check_cell(&mut cell, 2, 0, &opts);
    assert!(report.passed(), "{report}");
    assert!(gradcheck::check_columns(&cell, 3, 0, &opts).passed());
}

/// The unroller's scan path under a pool of two: the same bits as one thread would be too strong
/// (the chunked scan rounds differently), so it agrees to 1e-12 and passes the check.
#[test]
fn a_long_pass_on_two_threads_agrees_with_one() {
    let c = UnrollCase {
        input: 4,
        hidden: 64,
        batch: 8,
        steps: 300,
        lengths: Some((0..8).map(|b| 300 - 37 * b).collect()),
        reverse: false,
        initial_state: true,
        seed: 1,
    };
    let run = || {
        let layer = Recurrent::new(SmoothTanh::new(c.input, c.hidden, 7));
        let mut rng = seeded(9);
        let x = gradcheck::normal_vec(c.input * c.steps * c.batch, &mut rng);
        let h0 = gradcheck::normal_vec(2 * c.hidden * c.batch, &mut rng);
        let lengths = c.lengths.clone().unwrap();
        let inputs = Inputs::new(&x, c.steps, c.batch)
            .initial(&h0)
            .lengths(&lengths);
        let (out, tape) = layer.forward(inputs, None).unwrap();
        let d_out = vec![1.0; out.output.len()];
        let mut grads = vec![layer.cell().params().zeros_like()];
        let g = layer.backward(&tape, &d_out, None, &mut grads).unwrap();
        (out.output, g.d_input, grads[0].at(0).data().to_vec())
    };
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(run);
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap()
        .install(run);
    for (a, b) in [(&one.0, &two.0), (&one.1, &two.1), (&one.2, &two.2)] {
        assert!(
            a.iter()
                .zip(b)
                .all(|(p, q)| (p - q).abs() < 1e-12 * (1.0 + p.abs()))
        );
    }
}

/// A sequence longer than one of the unroller's scan passes (2048 columns: here three passes of
/// 512 steps at batch 4): the gradients that cross from one pass into the one before (the
/// parameters' and the initial state's) still pass the check, with lengths ending in different
/// passes.
#[test]
fn gradients_cross_the_unrollers_passes() {
    let c = UnrollCase {
        input: 2,
        hidden: 2,
        batch: 4,
        steps: 1100,
        lengths: Some(vec![1100, 700, 513, 3]),
        reverse: false,
        initial_state: true,
        seed: 5,
    };
    let opts = Options::default().only(&["weight_ih", "bias_ih", "decay", "initial_state"]);
    let report = check_unrolled(SmoothTanh::new(2, 2, 3), &c, &opts).unwrap();
    assert!(report.passed(), "{report}");
    let reversed = UnrollCase { reverse: true, ..c };
    let report = check_unrolled(SmoothTanh::new(2, 2, 4), &reversed, &opts).unwrap();
    assert!(report.passed(), "{report}");
}
