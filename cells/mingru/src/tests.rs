use super::*;
use proptest::prelude::*;
use rnnzoo_cell::gradcheck::{self, Options, normal_vec};
use rnnzoo_cell::scan::{ScanBackward, ScanForward, ScanPass};
use rnnzoo_cell::strategies::{SizeRanges, UnrollCase, unroll_case};
use rnnzoo_cell::testing::{backward_step, forward_step};
use rnnzoo_cell::{Cell, CellError, Params, StepForm, seeded};
use rnnzoo_layers::gradcheck::{check_unrolled, unrolled_against_steps};
use rnnzoo_layers::{Inputs, Layer, Recurrent};

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, |m, d| if d.is_nan() || d > m { d } else { m })
}

fn sig(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The paper's g, written from its definition.
fn g(x: f64) -> f64 {
    if x >= 0.0 { x + 0.5 } else { sig(x) }
}

/// The paper's equations as a plain sequential loop, sample by sample: the states
/// (`H x (T*B)`), from the cell's parameters.
fn sequential(
    cell: &MinGruCell<f64>,
    x: &[f64],
    h0: &[f64],
    steps: usize,
    batch: usize,
) -> Vec<f64> {
    let (ni, nh) = (cell.input_size(), cell.hidden_size());
    let w = cell.params().get("weight_ih").unwrap().data();
    let zero = vec![0.0; 2 * nh];
    let bias = cell.params().get("bias_ih").map_or(&zero[..], |b| b.data());
    let mut out = vec![0.0; nh * steps * batch];
    for b in 0..batch {
        let mut h = h0[b * nh..][..nh].to_vec();
        for t in 0..steps {
            let xt = &x[(t * batch + b) * ni..][..ni];
            let k = |row: usize| bias[row] + (0..ni).map(|c| w[row * ni + c] * xt[c]).sum::<f64>();
            for (j, hj) in h.iter_mut().enumerate() {
                let z = sig(k(j));
                let cand = match cell.candidate() {
                    Candidate::G => g(k(nh + j)),
                    Candidate::Linear => k(nh + j),
                };
                *hj = (1.0 - z) * *hj + z * cand;
            }
            out[(t * batch + b) * nh..][..nh].copy_from_slice(&h);
        }
    }
    out
}

/// A whole pass through the scan form, `(states, cache)`.
fn pass(
    cell: &MinGruCell<f64>,
    x: &[f64],
    h0: &[f64],
    steps: usize,
    batch: usize,
) -> (Vec<f64>, Vec<f64>) {
    let mut states = vec![f64::NAN; cell.state_size() * steps * batch];
    let mut cache = vec![f64::NAN; cell.cache_size() * steps * batch];
    ScanPass::forward(
        cell,
        ScanForward {
            x,
            initial: h0,
            states: &mut states,
            cache: &mut cache,
            steps,
            batch,
        },
    );
    (states, cache)
}

fn both(input: usize, hidden: usize, seed: u64) -> [MinGruCell<f64>; 2] {
    [Candidate::G, Candidate::Linear]
        .map(|c| MinGruCell::with_candidate(input, hidden, c, &mut seeded(seed)).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Through time at the default options (candidate g): every parameter, the input and the
    /// initial state against finite differences, at random sizes, lengths, directions and seeds.
    #[test]
    fn gradients_through_time_match_finite_differences(case in unroll_case(SizeRanges::default())) {
        let cell = MinGruCell::<f64>::new(case.input, case.hidden, &mut seeded(case.seed)).unwrap();
        let report = check_unrolled(cell, &case, &Options::default()).unwrap();
        prop_assert!(report.passed(), "{case:?}\n{report}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// The plain minGRU (no candidate activation) through time.
    #[test]
    fn plain_candidate_gradients_through_time(case in unroll_case(SizeRanges::default())) {
        let cell = MinGruCell::<f64>::with_candidate(
            case.input, case.hidden, Candidate::Linear, &mut seeded(case.seed)).unwrap();
        let report = check_unrolled(cell, &case, &Options::default()).unwrap();
        prop_assert!(report.passed(), "{case:?}\n{report}");
    }

    /// One step (a pass of one step through `CellExt`), with and without a bias, both candidates;
    /// and the samples of a batch kept apart.
    #[test]
    fn one_step_gradients_match_finite_differences(
        input in 1usize..=5,
        hidden in 1usize..=5,
        batch in 1usize..=3,
        bias in any::<bool>(),
        linear in any::<bool>(),
        seed in 0u64..1000,
    ) {
        let c = if linear { Candidate::Linear } else { Candidate::G };
        let mut cell = MinGruCell::<f64>::with_candidate(input, hidden, c, &mut seeded(seed)).unwrap();
        if !bias {
            let w = cell.params().get("weight_ih").unwrap().data().to_vec();
            cell = MinGruCell::zeros(input, hidden, false, c).unwrap();
            cell.params_mut().set("weight_ih", &w).unwrap();
        }
        let opts = Options::default();
        let report = gradcheck::check_cell(&mut cell, batch, seed + 1, &opts);
        prop_assert!(report.passed(), "{report}");
        prop_assert_eq!(report.groups.len(), if bias { 4 } else { 3 });
        let columns = gradcheck::check_columns(&cell, batch.max(2), seed, &opts);
        prop_assert!(columns.passed(), "{columns}");
    }
}

#[test]
fn a_pass_is_the_papers_equations_as_a_sequential_loop() {
    let (ni, nh, nb, steps) = (3, 4, 3, 7);
    let mut rng = seeded(3);
    let x = normal_vec(ni * steps * nb, &mut rng);
    let h0 = normal_vec(nh * nb, &mut rng);
    for cell in both(ni, nh, 5) {
        let (states, cache) = pass(&cell, &x, &h0, steps, nb);
        let want = sequential(&cell, &x, &h0, steps, nb);
        assert!(max_diff(&states, &want) < 1e-14, "{:?}", cell.candidate());
        assert!(cache.iter().all(|v| v.is_finite()));
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

/// A pass of the whole sequence through the unroller gives what stepping the cell one step at a
/// time does ([`CellExt`]), with padded steps, reversed prefixes and an initial state, to 1e-12.
#[test]
fn a_pass_is_its_steps() {
    let c = case();
    for cell in both(c.input, c.hidden, 2) {
        let s = unrolled_against_steps(&cell, &c).unwrap();
        assert!(s.worst < 1e-12 && s.padded_nonzero == 0, "{s:?}");
    }
}

/// T = 2000 with half the units' update gates near 1 (`a = 1 - z ≈ 1e-13`, the state forgets at
/// every step) and half near 0 (`a ≈ 1 - 1e-13`, it keeps nearly everything), on a pool of two
/// threads (two blocks of two samples, 2000 steps each), against the plain sequential loop: the
/// states, and the gradient of the initial state and of the biases against the adjoint written
/// as a sequential reverse loop, to 1e-12.
#[test]
fn a_long_pass_with_gates_near_0_and_1_matches_a_sequential_loop() {
    let (ni, nh, nb, steps) = (2, 8, 4, 2000);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    for mut cell in both(ni, nh, 9) {
        let mut bias = cell.params().get("bias_ih").unwrap().data().to_vec();
        for (j, b) in bias[..nh].iter_mut().enumerate() {
            *b = if j % 2 == 0 { 30.0 } else { -30.0 };
        }
        cell.params_mut().set("bias_ih", &bias).unwrap();
        let mut rng = seeded(4);
        let x = normal_vec(ni * steps * nb, &mut rng);
        let h0 = normal_vec(nh * nb, &mut rng);
        let d = normal_vec(nh * steps * nb, &mut rng);
        let (states, cache, d_h0, grads) = pool.install(|| {
            let (states, cache) = pass(&cell, &x, &h0, steps, nb);
            let mut d_states = d.clone();
            let mut d_x = vec![f64::NAN; ni * steps * nb];
            let mut d_h0 = vec![f64::NAN; nh * nb];
            let mut grads = cell.params().zeros_like();
            ScanPass::backward(
                &cell,
                ScanBackward {
                    x: &x,
                    initial: &h0,
                    states: &states,
                    cache: &cache,
                    d_states: &mut d_states,
                    d_x: &mut d_x,
                    d_initial: &mut d_h0,
                    steps,
                    batch: nb,
                },
                &mut grads,
            );
            (states, cache, d_h0, grads)
        });
        let want = sequential(&cell, &x, &h0, steps, nb);
        let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        assert!(
            max_diff(&states, &want) < 1e-12 * scale,
            "{:?}",
            cell.candidate()
        );
        // The adjoint, sequentially: G_t = d_t + a_{t+1} G_{t+1}; d h0 = a_0 G_0; d b_z and d b_h.
        let w = nh * nb;
        let a = |t: usize, l: usize| sig(-cache[(t * nb + l / nh) * 2 * nh + l % nh]);
        let mut big_g = vec![0.0; w];
        let mut want_db = vec![0.0; 2 * nh];
        for t in (0..steps).rev() {
            for l in 0..w {
                let carry = if t + 1 < steps {
                    a(t + 1, l) * big_g[l]
                } else {
                    0.0
                };
                big_g[l] = d[t * w + l] + carry;
                let (col, j) = (t * nb + l / nh, l % nh);
                let prev = if t == 0 { h0[l] } else { want[(t - 1) * w + l] };
                let (kz, kh) = (cache[col * 2 * nh + j], cache[col * 2 * nh + nh + j]);
                let (cand, slope) = match cell.candidate() {
                    Candidate::G if kh >= 0.0 => (kh + 0.5, 1.0),
                    Candidate::G => (sig(kh), sig(kh) * (1.0 - sig(kh))),
                    Candidate::Linear => (kh, 1.0),
                };
                want_db[j] += big_g[l] * (cand - prev) * sig(kz) * sig(-kz);
                want_db[nh + j] += big_g[l] * sig(kz) * slope;
            }
        }
        let want_dh0: Vec<f64> = (0..w).map(|l| a(0, l) * big_g[l]).collect();
        assert!(max_diff(&d_h0, &want_dh0) < 1e-12 * (1.0 + scale));
        let db = grads.get("bias_ih").unwrap().data();
        let db_scale = want_db.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        assert!(
            max_diff(db, &want_db) < 1e-12 * db_scale,
            "{:?}",
            cell.candidate()
        );
    }
}

/// The unroller's scan path under a pool of two (the samples split over the threads, the GEMMs
/// parallel) agrees with one thread to 1e-12 on a long batch with lengths, forward and backward.
#[test]
fn a_long_pass_on_two_threads_agrees_with_one() {
    let (ni, nh, nb, steps) = (4, 64, 8, 300);
    let lengths: Vec<usize> = (0..nb).map(|b| steps - 37 * b).collect();
    let run = || {
        let layer = Recurrent::new(MinGruCell::<f64>::new(ni, nh, &mut seeded(7)).unwrap());
        let mut rng = seeded(9);
        let x = normal_vec(ni * steps * nb, &mut rng);
        let h0 = normal_vec(nh * nb, &mut rng);
        let inputs = Inputs::new(&x, steps, nb).initial(&h0).lengths(&lengths);
        let (out, tape) = layer.forward(inputs, None).unwrap();
        let d_out = vec![1.0; out.output.len()];
        let mut grads = vec![layer.cell().params().zeros_like()];
        let g = layer.backward(&tape, &d_out, None, &mut grads).unwrap();
        (
            out.output,
            g.d_input,
            grads[0].at(0).data().to_vec(),
            g.d_initial,
        )
    };
    let pool = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
    };
    let one = pool(1).install(run);
    let two = pool(2).install(run);
    for (a, b) in [
        (&one.0, &two.0),
        (&one.1, &two.1),
        (&one.2, &two.2),
        (&one.3, &two.3),
    ] {
        assert!(
            a.iter()
                .zip(b)
                .all(|(p, q)| (p - q).abs() < 1e-12 * (1.0 + p.abs()))
        );
    }
}

/// A minGRU whose backward drops the adjoint's carry `a_{t+1} G_{t+1}`: it feeds the cell the
/// `d'` whose adjoint is `d` itself, so the cell's own code runs with `G_t = d_t`.
#[derive(Clone)]
struct DropCarry(MinGruCell<f64>);

impl Cell<f64> for DropCarry {
    fn input_size(&self) -> usize {
        self.0.input_size()
    }
    fn hidden_size(&self) -> usize {
        self.0.hidden_size()
    }
    fn cache_size(&self) -> usize {
        self.0.cache_size()
    }
    fn mode(&self) -> &str {
        "DROP_CARRY"
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

impl ScanPass<f64> for DropCarry {
    fn forward(&self, p: ScanForward<'_, f64>) {
        ScanPass::forward(&self.0, p)
    }
    fn backward(&self, p: ScanBackward<'_, f64>, grads: &mut Params<f64>) {
        let h = self.0.hidden_size();
        let w = h * p.batch;
        let d = p.d_states.to_vec();
        for t in 0..p.steps.saturating_sub(1) {
            for l in 0..w {
                let a = sig(-p.cache[((t + 1) * p.batch + l / h) * 2 * h + l % h]);
                p.d_states[t * w + l] = d[t * w + l] - a * d[(t + 1) * w + l];
            }
        }
        ScanPass::backward(&self.0, p, grads)
    }
}

/// The checks can fail: the dropped carry is caught in `weight_ih` (and the dropped carry would
/// pass a one-step check, which has no carry).
#[test]
fn the_checker_reports_a_backward_that_drops_the_carry() {
    let c = case();
    let good = check_unrolled(
        MinGruCell::<f64>::new(3, 4, &mut seeded(1)).unwrap(),
        &c,
        &Options::default(),
    )
    .unwrap();
    assert!(good.passed(), "{good}");
    let broken = DropCarry(MinGruCell::<f64>::new(3, 4, &mut seeded(1)).unwrap());
    let bad = check_unrolled(broken.clone(), &c, &Options::default()).unwrap();
    assert!(!bad.passed(), "the dropped carry went unnoticed:\n{bad}");
    assert!(!bad.group("weight_ih").unwrap().passed());
    let mut one = broken;
    assert!(gradcheck::check_cell(&mut one, 2, 0, &Options::default()).passed());
}

#[test]
fn blocks_are_z_then_h() {
    let (ni, nh, nb) = (3, 4, 2);
    let mut rng = seeded(4);
    let x = normal_vec(ni * nb, &mut rng);
    let prev = normal_vec(nh * nb, &mut rng);
    let with = |z: f64, hb: f64| {
        let mut cell = MinGruCell::<f64>::zeros(ni, nh, true, Candidate::G).unwrap();
        let b: Vec<f64> = (0..2 * nh).map(|r| if r < nh { z } else { hb }).collect();
        cell.params_mut().set("bias_ih", &b).unwrap();
        forward_step(&cell, &x, &prev, nb).0
    };
    // z shut (block 0 very negative): h' = h.
    assert!(max_diff(&with(-50.0, 3.0), &prev) < 1e-12);
    // z open: h' = h~ = g(b_h) = 3.5 (block 1), and g(-1) = σ(-1) below zero.
    assert!(with(50.0, 3.0).iter().all(|&v| (v - 3.5).abs() < 1e-12));
    assert!(
        with(50.0, -1.0)
            .iter()
            .all(|&v| (v - sig(-1.0)).abs() < 1e-12)
    );
}

#[test]
fn extreme_pre_activations_stay_finite_and_exact() {
    // 1 - z formed as σ(-k): at k = ±800 the state is kept exactly or replaced exactly.
    let (ni, nh) = (1, 2);
    let mut cell = MinGruCell::<f64>::zeros(ni, nh, true, Candidate::Linear).unwrap();
    cell.params_mut()
        .set("bias_ih", &[-800.0, 800.0, 7.0, -7.0])
        .unwrap();
    let (next, _) = forward_step(&cell, &[0.0], &[0.25, 0.25], 1);
    assert_eq!(next, [0.25, -7.0]);
    let mut grads = cell.params().zeros_like();
    let (d_x, d_prev) = backward_step(
        &cell,
        &[0.0],
        &[0.25, 0.25],
        &[1.0, 1.0],
        1,
        &mut grads,
        f64::NAN,
    );
    assert_eq!(d_prev, [1.0, 0.0]);
    assert!(d_x.iter().chain(grads.at(1).data()).all(|v| v.is_finite()));
}

#[test]
fn backward_overwrites_its_outputs_and_accumulates_grads() {
    let (ni, nh, nb) = (3, 4, 2);
    for cell in both(ni, nh, 1) {
        let mut rng = seeded(2);
        let x = normal_vec(ni * nb, &mut rng);
        let prev = normal_vec(nh * nb, &mut rng);
        let d_next = normal_vec(nh * nb, &mut rng);
        let mut once = cell.params().zeros_like();
        let (dx, dp) = backward_step(&cell, &x, &prev, &d_next, nb, &mut once, f64::NAN);
        assert!(dx.iter().chain(&dp).all(|v| v.is_finite()));
        let mut twice = once.clone();
        let again = backward_step(&cell, &x, &prev, &d_next, nb, &mut twice, 7.0);
        assert_eq!(again, (dx, dp));
        for (t, o) in twice.iter().zip(once.iter()) {
            let doubled: Vec<f64> = o.data().iter().map(|v| 2.0 * v).collect();
            assert!(max_diff(t.data(), &doubled) < 1e-12, "{}", o.name());
        }
    }
}

#[test]
fn shapes_names_mode_form_and_default_init() {
    let cell = MinGruCell::<f64>::new(16, 10, &mut seeded(9)).unwrap();
    assert_eq!(cell.mode(), "MINGRU");
    assert!(matches!(cell.form(), StepForm::Scan(_)));
    assert_eq!((cell.state_size(), cell.cache_size()), (10, 20));
    let shapes: Vec<(&str, &[usize], usize)> = cell
        .params()
        .iter()
        .map(|p| (p.name(), p.shape(), p.gates()))
        .collect();
    assert_eq!(
        shapes,
        [("weight_ih", &[20, 16][..], 2), ("bias_ih", &[20][..], 2)]
    );
    // nn.Linear's U(-1/sqrt(I), 1/sqrt(I)), I = 16: bound 0.25, for weight and bias.
    for p in cell.params().iter() {
        assert!(p.data().iter().all(|x| x.abs() <= 0.25), "{}", p.name());
        assert!(p.data().iter().any(|x| x.abs() > 0.2), "{}", p.name());
    }
    let plain =
        MinGruCell::<f64>::with_candidate(16, 10, Candidate::Linear, &mut seeded(9)).unwrap();
    assert_eq!(plain.params(), cell.params(), "the same draws");
}

#[test]
fn zero_sizes_are_refused() {
    let zs = |what| CellError::ZeroSize { what };
    assert_eq!(
        MinGruCell::<f32>::new(0, 3, &mut seeded(0)),
        Err(zs("input_size"))
    );
    assert_eq!(
        MinGruCell::<f64>::zeros(2, 0, true, Candidate::G),
        Err(zs("hidden_size"))
    );
    assert_eq!(
        MinGruCell::<f64>::with_candidate(2, 0, Candidate::Linear, &mut seeded(0)),
        Err(zs("hidden_size"))
    );
}

#[test]
fn f32_and_f64_agree_to_f32_precision() {
    let (ni, nh, nb) = (5, 7, 3);
    let mut rng = seeded(100);
    let x = normal_vec(ni * nb, &mut rng);
    let prev = normal_vec(nh * nb, &mut rng);
    let to32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
    for c64 in both(ni, nh, 3) {
        let mut c32 = MinGruCell::<f32>::zeros(ni, nh, true, c64.candidate()).unwrap();
        for p in c64.params().iter() {
            c32.params_mut().set(p.name(), &to32(p.data())).unwrap();
        }
        let out64 = forward_step(&c64, &x, &prev, nb).0;
        let out32 = forward_step(&c32, &to32(&x), &to32(&prev), nb).0;
        for (a, b) in out32.iter().zip(&out64) {
            assert!((*a as f64 - b).abs() < 1e-5);
        }
    }
}
