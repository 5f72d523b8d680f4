use super::*;
use proptest::prelude::*;
use rnnzoo_cell::gradcheck::{self, Options, normal_vec};
use rnnzoo_cell::scan::{ScanBackward, ScanForward, ScanPass};
use rnnzoo_cell::strategies::{SizeRanges, UnrollCase, unroll_case};
use rnnzoo_cell::{Cell, CellError, Params, StepForm, seeded};
use rnnzoo_layers::gradcheck::{check_unrolled, unrolled_against_steps};
use rnnzoo_layers::{Inputs, Layer, Recurrent};

fn options(nonlinearity: Nonlinearity, bias: bool) -> IndRnnOptions {
    IndRnnOptions {
        nonlinearity,
        bias,
        ..IndRnnOptions::default()
    }
}

fn cell(case: &UnrollCase, o: IndRnnOptions) -> IndRnnCell<f64> {
    IndRnnCell::with_options(case.input, case.hidden, o, &mut seeded(case.seed)).unwrap()
}

fn nonlinearity(tanh: bool) -> Nonlinearity {
    if tanh {
        Nonlinearity::Tanh
    } else {
        Nonlinearity::Relu
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Through time at the default options: sizes, lengths, both directions, an initial state,
    /// with and without a bias, both nonlinearities. The checker counts an element whose
    /// differences straddle relu's kink as not assessable, not as failed.
    #[test]
    fn gradients_through_time_match_finite_differences(
        case in unroll_case(SizeRanges::default()),
        tanh in any::<bool>(),
        bias in any::<bool>(),
    ) {
        let o = options(nonlinearity(tanh), bias);
        let report = check_unrolled(cell(&case, o), &case, &Options::default()).unwrap();
        prop_assert!(report.passed(), "{case:?} {o:?}\n{report}");
        prop_assert!(report.group("weight_hh").is_some());
    }

    /// Under the bound, with each initialisation: `u` near 1, the long memories.
    #[test]
    fn gradients_through_time_under_the_bound(
        case in unroll_case(SizeRanges::default()),
        tanh in any::<bool>(),
        long in any::<bool>(),
    ) {
        let o = IndRnnOptions {
            nonlinearity: nonlinearity(tanh),
            t_max: case.steps,
            recurrent_init: if long { RecurrentInit::Long } else { RecurrentInit::Uniform },
            bias: true,
        };
        let report = check_unrolled(cell(&case, o), &case, &Options::default()).unwrap();
        prop_assert!(report.passed(), "{case:?} {o:?}\n{report}");
    }

    /// One step (a pass of one step) against central differences, and the samples of a batch
    /// kept apart.
    #[test]
    fn one_step_passes_the_cell_checks(
        input in 1usize..=5,
        hidden in 1usize..=5,
        batch in 1usize..=3,
        tanh in any::<bool>(),
        bias in any::<bool>(),
        seed in 0u64..1000,
    ) {
        let o = options(nonlinearity(tanh), bias);
        let mut cell = IndRnnCell::<f64>::with_options(input, hidden, o, &mut seeded(seed)).unwrap();
        let opts = Options::default();
        let report = gradcheck::check_cell(&mut cell, batch, seed + 1, &opts);
        prop_assert!(report.passed(), "{o:?} {report}");
        prop_assert_eq!(report.groups.len(), if bias { 5 } else { 4 });
        let columns = gradcheck::check_columns(&cell, batch.max(2), seed, &opts);
        prop_assert!(columns.passed(), "{o:?} {columns}");
    }
}

fn a_case() -> UnrollCase {
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

/// The paper's eq. 3 unit by unit, as scalar loops, against a pass of the unroller.
#[test]
fn a_pass_is_the_papers_equation_unit_by_unit() {
    for act in [Nonlinearity::Relu, Nonlinearity::Tanh] {
        let (ni, nh, nb, nt) = (3, 4, 2, 5);
        let cell =
            IndRnnCell::<f64>::with_options(ni, nh, options(act, true), &mut seeded(3)).unwrap();
        let (w, u, b) = (
            cell.params().get("weight_ih").unwrap().data().to_vec(),
            cell.params().get("weight_hh").unwrap().data().to_vec(),
            cell.params().get("bias_ih").unwrap().data().to_vec(),
        );
        let mut rng = seeded(4);
        let x = normal_vec(ni * nt * nb, &mut rng);
        let h0 = normal_vec(nh * nb, &mut rng);
        let out = Recurrent::new(cell)
            .infer(Inputs::new(&x, nt, nb).initial(&h0))
            .unwrap();
        for s in 0..nb {
            let mut h: Vec<f64> = h0[s * nh..(s + 1) * nh].to_vec();
            for t in 0..nt {
                let xt = &x[(t * nb + s) * ni..][..ni];
                for n in 0..nh {
                    let z =
                        (0..ni).map(|k| w[n * ni + k] * xt[k]).sum::<f64>() + u[n] * h[n] + b[n];
                    h[n] = match act {
                        Nonlinearity::Relu => z.max(0.0),
                        Nonlinearity::Tanh => z.tanh(),
                    };
                    let got = out.output[(t * nb + s) * nh + n];
                    assert!(
                        (got - h[n]).abs() < 1e-12,
                        "{act:?} sample {s} step {t} unit {n}"
                    );
                }
            }
        }
    }
}

/// A pass of the whole sequence gives what stepping the cell one step at a time does
/// ([`CellExt`]), with padded steps carrying the state and reversed prefixes, to 1e-12.
#[test]
fn a_pass_is_its_steps() {
    let c = a_case();
    for act in [Nonlinearity::Relu, Nonlinearity::Tanh] {
        let cell =
            IndRnnCell::<f64>::with_options(c.input, c.hidden, options(act, true), &mut seeded(2))
                .unwrap();
        let s = unrolled_against_steps(&cell, &c).unwrap();
        assert!(s.worst < 1e-12 && s.padded_nonzero == 0, "{act:?}: {s:?}");
    }
}

/// A pass large enough to split its lanes over the pool (64 units x 8 samples x 300 steps):
/// two threads agree with one to 1e-12 (the GEMMs and the sum of `u`'s partial gradients may
/// round differently), outputs, input gradients and every parameter gradient.
#[test]
fn a_long_pass_on_two_threads_agrees_with_one() {
    for act in [Nonlinearity::Relu, Nonlinearity::Tanh] {
        let (ni, nh, nb, nt) = (4, 64, 8, 300);
        let lengths: Vec<usize> = (0..nb).map(|b| nt - 37 * b).collect();
        let o = IndRnnOptions {
            nonlinearity: act,
            t_max: nt,
            ..IndRnnOptions::default()
        };
        let run = || {
            let layer =
                Recurrent::new(IndRnnCell::<f64>::with_options(ni, nh, o, &mut seeded(7)).unwrap());
            let mut rng = seeded(9);
            let x = normal_vec(ni * nt * nb, &mut rng);
            let h0: Vec<f64> = normal_vec(nh * nb, &mut rng)
                .iter()
                .map(|v| v.abs())
                .collect();
            let inputs = Inputs::new(&x, nt, nb).initial(&h0).lengths(&lengths);
            let (out, tape) = layer.forward(inputs, None).unwrap();
            let d_out = normal_vec(out.output.len(), &mut rng);
            let mut grads = vec![layer.cell().params().zeros_like()];
            let g = layer.backward(&tape, &d_out, None, &mut grads).unwrap();
            let p: Vec<Vec<f64>> = grads[0].iter().map(|p| p.data().to_vec()).collect();
            (out.output, g.d_input, g.d_initial, p)
        };
        let pool = |n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
        };
        let one = pool(1).install(run);
        let two = pool(2).install(run);
        let close = |what: &str, a: &[f64], b: &[f64]| {
            assert_eq!(a.len(), b.len());
            for (p, q) in a.iter().zip(b) {
                assert!(
                    (p - q).abs() <= 1e-12 * (1.0 + p.abs()),
                    "{act:?} {what}: {p} vs {q}"
                );
            }
        };
        assert!(one.0.iter().any(|&v| v != 0.0));
        close("output", &one.0, &two.0);
        close("d_input", &one.1, &two.1);
        close("d_initial", &one.2, &two.2);
        for (a, b) in one.3.iter().zip(&two.3) {
            close("parameter gradient", a, b);
        }
    }
}

#[test]
fn the_lanes_split_only_for_large_passes_and_cover_every_lane() {
    let pool = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
    };
    assert_eq!(
        pool(2).install(|| crate::indrnn::lane_ranges(10, 3)),
        [(0, 10)]
    );
    assert_eq!(
        pool(1).install(|| crate::indrnn::lane_ranges(4096, 300)),
        [(0, 4096)]
    );
    let r = pool(2).install(|| crate::indrnn::lane_ranges(513, 300));
    assert_eq!(r, [(0, 257), (257, 513)]);
}

/// A backward that is wrong by one part in a million in `u`'s gradient fails the check through
/// time: the check can fail.
#[test]
fn the_checker_reports_a_wrong_recurrent_gradient() {
    #[derive(Clone)]
    struct Off(IndRnnCell<f64>);
    impl Cell<f64> for Off {
        fn input_size(&self) -> usize {
            self.0.input_size()
        }
        fn hidden_size(&self) -> usize {
            self.0.hidden_size()
        }
        fn cache_size(&self) -> usize {
            0
        }
        fn mode(&self) -> &str {
            "OFF"
        }
        fn params(&self) -> &Params<f64> {
            self.0.params()
        }
        fn params_mut(&mut self) -> &mut Params<f64> {
            self.0.params_mut()
        }
        fn form(&self) -> StepForm<'_, f64> {
            StepForm::Scan(self)
        }
    }
    impl ScanPass<f64> for Off {
        fn forward(&self, p: ScanForward<'_, f64>) {
            ScanPass::forward(&self.0, p)
        }
        fn backward(&self, p: ScanBackward<'_, f64>, grads: &mut Params<f64>) {
            let mut own = grads.zeros_like();
            ScanPass::backward(&self.0, p, &mut own);
            for v in own.get_mut("weight_hh").unwrap().data_mut() {
                *v *= 1.0 + 1e-6;
            }
            for (g, o) in grads.iter_mut().zip(own.iter()) {
                for (a, b) in g.data_mut().iter_mut().zip(o.data()) {
                    *a += b;
                }
            }
        }
    }
    let c = a_case();
    for act in [Nonlinearity::Relu, Nonlinearity::Tanh] {
        let good = cell(&c, options(act, true));
        let report = check_unrolled(good.clone(), &c, &Options::default()).unwrap();
        assert!(report.passed(), "{report}");
        let bad = check_unrolled(Off(good), &c, &Options::default()).unwrap();
        assert!(
            !bad.passed(),
            "{act:?}: the wrong gradient went unnoticed\n{bad}"
        );
        assert!(!bad.group("weight_hh").unwrap().passed());
        assert!(bad.group("weight_ih").unwrap().passed());
    }
}

#[test]
fn constrain_clips_u_to_the_bound_and_nothing_else() {
    let mut cell = IndRnnCell::<f64>::with_options(
        2,
        5,
        IndRnnOptions {
            t_max: 10,
            ..IndRnnOptions::default()
        },
        &mut seeded(1),
    )
    .unwrap();
    let b = 2f64.powf(0.1);
    cell.params_mut()
        .set("weight_hh", &[3.0, -3.0, 0.5, -1.0, b])
        .unwrap();
    cell.params_mut()
        .set("bias_ih", &[9.0, -9.0, 0.0, 0.0, 0.0])
        .unwrap();
    let before = cell.params().clone();
    cell.constrain();
    assert_eq!(
        cell.params().get("weight_hh").unwrap().data(),
        &[b, -b, 0.5, -1.0, b]
    );
    for name in ["weight_ih", "bias_ih"] {
        assert_eq!(cell.params().get(name), before.get(name), "{name}");
    }
    // Without a bound (t_max = 0) nothing moves.
    cell.set_t_max(0);
    cell.params_mut()
        .set("weight_hh", &[30.0, -30.0, 0.5, -1.0, 1e9])
        .unwrap();
    let before = cell.params().clone();
    cell.constrain();
    assert_eq!(cell.params(), &before);
    // Through a boxed cell, as layers hold them.
    let mut boxed: Box<dyn Cell<f64>> = Box::new(cell);
    boxed.params_mut().set("weight_hh", &[5.0; 5]).unwrap();
    boxed.constrain();
    assert_eq!(boxed.params().get("weight_hh").unwrap().data(), &[5.0; 5]);
}

/// The trainer calls `constrain` after every update: a large SGD step that pushes `u` out of
/// `2^{1/T}` leaves it on the bound; with `t_max = 0` the same step leaves `u` outside.
#[test]
fn a_trainer_step_keeps_u_within_the_bound() {
    use rnnzoo_layers::head::{Activation, Dense};
    use rnnzoo_layers::optim::Sgd;
    use rnnzoo_layers::train::{Batch, Targets, TrainConfig, Trainer};
    use rnnzoo_layers::{Model, Readout, Stack};

    let (t, b, hidden) = (6, 4, 5);
    let bound = 2f32.powf(1.0 / t as f32);
    let batch = {
        let x: Vec<f32> = (0..t * b).map(|k| ((k as f32) * 0.71).sin()).collect();
        Batch {
            inputs: x.clone(),
            features: 1,
            steps: t,
            batch: b,
            lengths: None,
            targets: Targets::FinalValues {
                values: vec![5.0; b],
                outputs: 1,
            },
        }
    };
    let train = |t_max: usize| {
        let o = IndRnnOptions {
            t_max,
            recurrent_init: RecurrentInit::Long,
            ..IndRnnOptions::default()
        };
        let mut cell = IndRnnCell::<f32>::with_options(1, hidden, o, &mut seeded(3)).unwrap();
        // Every unit alive and on the bound, so the gradient moves every u.
        cell.params_mut().set("weight_hh", &[bound; 5]).unwrap();
        cell.params_mut().set("bias_ih", &[1.0; 5]).unwrap();
        let body = Stack::new(vec![Box::new(Recurrent::new(cell)) as Box<dyn Layer<f32>>]).unwrap();
        let mut head = Dense::new(hidden, 1, Activation::Identity, &mut seeded(4)).unwrap();
        head.params_mut().set("weight", &[1.0; 5]).unwrap();
        let model = Model::new(body, head, Readout::LastStep).unwrap();
        let mut trainer = Trainer::new(model, Box::new(Sgd::new(1.0)), TrainConfig::default());
        trainer.step(&batch).unwrap();
        trainer
            .model()
            .param_groups()
            .iter()
            .find(|g| g.mode == "INDRNN")
            .unwrap()
            .params
            .get("weight_hh")
            .unwrap()
            .data()
            .to_vec()
    };
    let bounded = train(t);
    assert!(bounded.iter().all(|u| u.abs() <= bound), "{bounded:?}");
    assert!(
        bounded.iter().any(|u| u.abs() == bound),
        "{bounded:?}: nothing was clipped to the bound"
    );
    let free = train(0);
    assert!(
        free.iter().any(|u| u.abs() > bound),
        "{free:?}: the step did not leave the bound"
    );
}

#[test]
fn initialisations_draw_inside_their_ranges() {
    let draw = |o: IndRnnOptions| {
        let c = IndRnnCell::<f64>::with_options(7, 400, o, &mut seeded(8)).unwrap();
        let p = c.params().clone();
        (
            p.get("weight_ih").unwrap().data().to_vec(),
            p.get("weight_hh").unwrap().data().to_vec(),
            p.get("bias_ih").unwrap().data().to_vec(),
        )
    };
    let k = 1.0 / 20.0; // 1 / sqrt(400)
    let span = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lo, hi)
    };
    // Default: u ~ U(0, 1); W, b ~ U(-1/sqrt(H), 1/sqrt(H)).
    let (w, u, b) = draw(IndRnnOptions::default());
    for v in [&w, &b] {
        let (lo, hi) = span(v);
        assert!(-k <= lo && lo < -0.9 * k && 0.9 * k < hi && hi <= k);
    }
    let (lo, hi) = span(&u);
    assert!(
        (0.0..0.01).contains(&lo) && (0.99..=1.0).contains(&hi),
        "{lo} {hi}"
    );
    // Under a bound of T = 20: U(0, 2^(1/20)).
    let bound = 2f64.powf(1.0 / 20.0);
    let (_, u, _) = draw(IndRnnOptions {
        t_max: 20,
        ..IndRnnOptions::default()
    });
    let (lo, hi) = span(&u);
    assert!(
        (0.0..0.01).contains(&lo) && hi > 1.0 && hi <= bound,
        "{lo} {hi}"
    );
    // Long: U(2^(-1/20), 2^(1/20)), or all ones without a bound.
    let (_, u, _) = draw(IndRnnOptions {
        t_max: 20,
        recurrent_init: RecurrentInit::Long,
        ..IndRnnOptions::default()
    });
    let (lo, hi) = span(&u);
    assert!(lo >= 1.0 / bound && lo < 1.0 / bound + 0.01 && hi > bound - 0.01 && hi <= bound);
    let (_, u, _) = draw(IndRnnOptions {
        recurrent_init: RecurrentInit::Long,
        ..IndRnnOptions::default()
    });
    assert!(u.iter().all(|&v| v == 1.0));
}

#[test]
fn shapes_names_mode_and_form() {
    let cell = IndRnnCell::<f64>::new(10, 16, &mut seeded(9)).unwrap();
    assert_eq!(cell.mode(), "INDRNN");
    assert!(matches!(cell.form(), StepForm::Scan(_)));
    assert_eq!((cell.state_size(), cell.cache_size()), (16, 0));
    let shapes: Vec<(&str, &[usize])> = cell
        .params()
        .iter()
        .map(|p| (p.name(), p.shape()))
        .collect();
    assert_eq!(
        shapes,
        [
            ("weight_ih", &[16, 10][..]),
            ("weight_hh", &[16][..]),
            ("bias_ih", &[16][..])
        ]
    );
    let no_bias = IndRnnCell::<f32>::zeros(2, 3, options(Nonlinearity::Tanh, false)).unwrap();
    assert!(!no_bias.has_bias());
    assert_eq!(no_bias.params().len(), 2);
}

#[test]
fn zero_sizes_are_refused() {
    let zs = |what| CellError::ZeroSize { what };
    assert_eq!(
        IndRnnCell::<f32>::new(0, 3, &mut seeded(0)),
        Err(zs("input_size"))
    );
    assert_eq!(
        IndRnnCell::<f64>::zeros(2, 0, IndRnnOptions::default()),
        Err(zs("hidden_size"))
    );
}

#[test]
fn f32_and_f64_agree_to_f32_precision() {
    let (ni, nh, nb, nt) = (5, 7, 3, 9);
    let o = options(Nonlinearity::Tanh, true);
    let c64 = IndRnnCell::<f64>::with_options(ni, nh, o, &mut seeded(3)).unwrap();
    let mut c32 = IndRnnCell::<f32>::zeros(ni, nh, o).unwrap();
    for p in c64.params().iter() {
        let v: Vec<f32> = p.data().iter().map(|&x| x as f32).collect();
        c32.params_mut().set(p.name(), &v).unwrap();
    }
    let x = normal_vec(ni * nt * nb, &mut seeded(4));
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let out64 = Recurrent::new(c64).infer(Inputs::new(&x, nt, nb)).unwrap();
    let out32 = Recurrent::new(c32)
        .infer(Inputs::new(&x32, nt, nb))
        .unwrap();
    for (a, b) in out32.output.iter().zip(&out64.output) {
        assert!((*a as f64 - b).abs() < 1e-5);
    }
}
