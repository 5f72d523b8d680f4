use super::*;
use proptest::prelude::*;
use rnnzoo_cell::gradcheck::{self, Options, normal_vec};
use rnnzoo_cell::strategies::{SizeRanges, UnrollCase, unroll_case};
use rnnzoo_cell::testing::{backward_step, forward_step};
use rnnzoo_cell::{Cell, CellError, StepForm, seeded};
use rnnzoo_layers::gradcheck::{check_unrolled, unrolled_against_steps};
use rnnzoo_layers::{Inputs, Layer, Recurrent};

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Through time at the default options (N = H): every parameter element, the input and the
    /// initial state against central differences, with lengths, both directions and initial
    /// states.
    #[test]
    fn gradients_through_time_match_finite_differences(case in unroll_case(SizeRanges::default())) {
        let cell = LruCell::<f64>::new(case.input, case.hidden, &mut seeded(case.seed)).unwrap();
        let report = check_unrolled(cell, &case, &Options::default()).unwrap();
        prop_assert!(report.passed(), "{case:?}\n{report}");
        prop_assert_eq!(report.groups.len(), 8 + 1 + usize::from(case.initial_state));
    }

    /// The same with a state width other than H and a ring near the unit circle (long memory).
    #[test]
    fn gradients_through_time_with_other_state_widths(
        case in unroll_case(SizeRanges::default()),
        state in 1usize..=6,
    ) {
        let o = LruOptions::default().with_state(state).with_ring(0.9, 0.999);
        let cell = LruCell::<f64>::with_options(case.input, case.hidden, o, &mut seeded(case.seed)).unwrap();
        prop_assert_eq!(cell.state_size(), case.hidden + 2 * state);
        let report = check_unrolled(cell, &case, &Options::default()).unwrap();
        prop_assert!(report.passed(), "{case:?} N={state}\n{report}");
    }

    /// One step (a pass of one step) against central differences, and the samples of a batch
    /// kept apart.
    #[test]
    fn one_step_passes_the_cell_checks(
        input in 1usize..=5,
        hidden in 1usize..=5,
        state in 0usize..=4,
        batch in 1usize..=3,
        seed in 0u64..1000,
    ) {
        let o = LruOptions::default().with_state(state);
        let mut cell = LruCell::<f64>::with_options(input, hidden, o, &mut seeded(seed)).unwrap();
        let opts = Options::default();
        let report = gradcheck::check_cell(&mut cell, batch, seed + 1, &opts);
        prop_assert!(report.passed(), "{report}");
        let columns = gradcheck::check_columns(&cell, batch.max(2), seed, &opts);
        prop_assert!(columns.passed(), "{columns}");
    }
}

/// The equations written as a scalar loop over complex numbers, one sample, from `x0`:
/// `x_k = λ x_{k-1} + γ (B u_k)`, `y_k = Re(C x_k) + D u_k`. Returns every step's state column.
fn reference(cell: &LruCell<f64>, u: &[Vec<f64>], x0: (&[f64], &[f64])) -> Vec<Vec<f64>> {
    let p = cell.params();
    let get = |n: &str| p.get(n).unwrap().data();
    let (ni, h, n) = (cell.input_size(), cell.hidden_size(), cell.units());
    let (mut xr, mut xi) = (x0.0.to_vec(), x0.1.to_vec());
    let mut out = Vec::new();
    for uk in u {
        for j in 0..n {
            let m = (-get("nu_log")[j].exp()).exp();
            let ph = get("theta_log")[j].exp();
            let (lr, li) = (m * ph.cos(), m * ph.sin());
            let g = get("gamma_log")[j].exp();
            let bur: f64 = (0..ni).map(|k| get("B_re")[j * ni + k] * uk[k]).sum();
            let bui: f64 = (0..ni).map(|k| get("B_im")[j * ni + k] * uk[k]).sum();
            let (r, i) = (xr[j], xi[j]);
            xr[j] = lr * r - li * i + g * bur;
            xi[j] = lr * i + li * r + g * bui;
        }
        let mut col = vec![0.0; h + 2 * n];
        for (o, y) in col[..h].iter_mut().enumerate() {
            // Re((C_re + i C_im)(xr + i xi)) = C_re xr - C_im xi
            let cx: f64 = (0..n)
                .map(|j| get("C_re")[o * n + j] * xr[j] - get("C_im")[o * n + j] * xi[j])
                .sum();
            let du: f64 = (0..ni).map(|k| get("D")[o * ni + k] * uk[k]).sum();
            *y = cx + du;
        }
        col[h..h + n].copy_from_slice(&xr);
        col[h + n..].copy_from_slice(&xi);
        out.push(col);
    }
    out
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
fn a_pass_matches_the_equations_as_a_complex_scalar_loop() {
    let o = LruOptions::default().with_state(5);
    let cell = LruCell::<f64>::with_options(3, 4, o, &mut seeded(7)).unwrap();
    let (i, s, b, t) = (3, cell.state_size(), 2, 7);
    let mut rng = seeded(1);
    let x = normal_vec(i * t * b, &mut rng);
    let h0 = normal_vec(s * b, &mut rng);
    let layer = Recurrent::new(cell.clone());
    let out = layer.infer(Inputs::new(&x, t, b).initial(&h0)).unwrap();
    for col in 0..b {
        let u: Vec<Vec<f64>> = (0..t)
            .map(|k| x[(k * b + col) * i..][..i].to_vec())
            .collect();
        let st = &h0[col * s..][..s];
        let want = reference(&cell, &u, (&st[4..9], &st[9..]));
        for (k, w) in want.iter().enumerate() {
            let got = &out.output[(k * b + col) * 4..][..4];
            assert!(max_diff(got, &w[..4]) < 1e-12, "sample {col} step {k}");
        }
        let fin = &out.final_state[col * s..][..s];
        assert!(max_diff(fin, &want[t - 1]) < 1e-12);
    }
}

/// A pass of the whole sequence gives what stepping the cell one step at a time does
/// ([`CellExt`]), with padded steps carrying the state and reversed prefixes, to 1e-12.
#[test]
fn a_pass_is_its_steps() {
    let c = case();
    let cell = LruCell::<f64>::new(c.input, c.hidden, &mut seeded(2)).unwrap();
    let s = unrolled_against_steps(&cell, &c).unwrap();
    assert!(s.worst < 1e-12 && s.padded_nonzero == 0, "{s:?}");
}

/// The initial state's `y` rows are not read: changing them changes nothing, and their gradient
/// is zero.
#[test]
fn the_initial_outputs_are_not_read() {
    let cell = LruCell::<f64>::new(2, 3, &mut seeded(4)).unwrap();
    let (s, b) = (cell.state_size(), 2);
    let mut rng = seeded(6);
    let x = normal_vec(2 * b, &mut rng);
    let prev = normal_vec(s * b, &mut rng);
    let mut other = prev.clone();
    for col in 0..b {
        other[col * s..][..3].fill(100.0);
    }
    let (a, _) = forward_step(&cell, &x, &prev, b);
    let (c, _) = forward_step(&cell, &x, &other, b);
    assert_eq!(a, c);
    let mut grads = cell.params().zeros_like();
    let (_, d_prev) = backward_step(&cell, &x, &prev, &a, b, &mut grads, f64::NAN);
    for col in 0..b {
        assert!(d_prev[col * s..][..3].iter().all(|&v| v == 0.0));
        assert!(d_prev[col * s + 3..][..s - 3].iter().any(|&v| v != 0.0));
    }
}

#[test]
fn backward_overwrites_its_outputs_and_accumulates_grads() {
    let cell =
        LruCell::<f64>::with_options(3, 4, LruOptions::default().with_state(2), &mut seeded(1))
            .unwrap();
    let nb = 2;
    let mut rng = seeded(2);
    let x = normal_vec(3 * nb, &mut rng);
    let prev = normal_vec(cell.state_size() * nb, &mut rng);
    let d_next = normal_vec(cell.state_size() * nb, &mut rng);
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

/// The unroller's scan path under a pool of two (the complex scan chunked over time) agrees with
/// one thread to 1e-12: outputs, input gradients and every parameter's gradient.
#[test]
fn a_long_pass_on_two_threads_agrees_with_one() {
    let (input, hidden, batch, steps) = (4, 32, 8, 400);
    let lengths: Vec<usize> = (0..batch).map(|b| steps - 37 * b).collect();
    let run = || {
        let o = LruOptions::default().with_ring(0.9, 0.999);
        let cell = LruCell::<f64>::with_options(input, hidden, o, &mut seeded(7)).unwrap();
        let layer = Recurrent::new(cell);
        let mut rng = seeded(9);
        let x = normal_vec(input * steps * batch, &mut rng);
        let h0 = normal_vec(3 * hidden * batch, &mut rng);
        let inputs = Inputs::new(&x, steps, batch).initial(&h0).lengths(&lengths);
        let (out, tape) = layer.forward(inputs, None).unwrap();
        let d_out = normal_vec(out.output.len(), &mut rng);
        let mut grads = vec![layer.cell().params().zeros_like()];
        let g = layer.backward(&tape, &d_out, None, &mut grads).unwrap();
        let params: Vec<f64> = grads[0].iter().flat_map(|p| p.data().to_vec()).collect();
        (out.output, g.d_input, g.d_initial, params)
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

/// Every option value in range gives |λ| < 1, finite parameters, |λ| on the ring and phases in
/// `(0, max_phase]`: at the ranges' ends, and in f64.
#[test]
fn initial_eigenvalues_are_inside_the_unit_circle_for_every_option_in_range() {
    let r_mins = [0.0, 1e-3, 0.5, 0.9, 0.999, 0.999_999];
    let r_maxs = [1e-3, 0.01, 0.5, 0.9, 0.999, 0.999_999, 1.0];
    let phases = [1e-6, 0.3, 3.0, DEFAULT_MAX_PHASE, std::f64::consts::TAU];
    let mut built = 0;
    for &r_min in &r_mins {
        for &r_max in r_maxs.iter().filter(|&&r| r >= r_min) {
            for &max_phase in &phases {
                let o = LruOptions {
                    state: 64,
                    r_min,
                    r_max,
                    max_phase,
                };
                let cell = LruCell::<f64>::with_options(2, 3, o, &mut seeded(built)).unwrap();
                built += 1;
                assert!(
                    cell.params()
                        .iter()
                        .all(|p| p.data().iter().all(|v| v.is_finite())),
                    "{o:?}: {:?}",
                    cell.params()
                        .iter()
                        .map(|p| (p.name(), p.data().iter().filter(|v| !v.is_finite()).count()))
                        .collect::<Vec<_>>()
                );
                let gamma = cell.params().get("gamma_log").unwrap().data();
                let theta = cell.params().get("theta_log").unwrap().data();
                for (j, (re, im)) in cell.eigenvalues().into_iter().enumerate() {
                    let m2 = re * re + im * im;
                    assert!(m2 < 1.0, "{o:?}: |λ|² = {m2}");
                    let m = m2.sqrt();
                    assert!(
                        m >= r_min * (1.0 - 1e-12) && m <= r_max * (1.0 + 1e-12),
                        "{o:?}: |λ| = {m}"
                    );
                    assert!(gamma[j] < 0.0 || m2 == 0.0, "{o:?}: γ = {}", gamma[j].exp());
                    let ph = theta[j].exp();
                    assert!(ph > 0.0 && ph <= max_phase, "{o:?}: phase {ph}");
                    // γ² = 1 - |λ|², to the rounding of |λ|² near 1.
                    let g2 = (2.0 * gamma[j]).exp();
                    assert!(
                        (g2 - (1.0 - m2)).abs() <= 1e-14,
                        "{o:?}: γ² = {g2}, |λ|² = {m2}"
                    );
                }
            }
        }
    }
    assert!(built > 100);
}

#[test]
fn the_draws_have_the_papers_distributions() {
    let (i, h, n) = (40, 30, 4000);
    let o = LruOptions::default()
        .with_state(n)
        .with_ring(0.4, 0.9)
        .with_max_phase(3.0);
    let cell = LruCell::<f64>::with_options(i, h, o, &mut seeded(3)).unwrap();
    let p = cell.params();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let var = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>() / v.len() as f64;
    // |λ|² uniform on [r_min², r_max²]: mean (0.16 + 0.81) / 2; phase uniform on [0, 3].
    let m2: Vec<f64> = cell
        .eigenvalues()
        .iter()
        .map(|(a, b)| a * a + b * b)
        .collect();
    assert!((mean(&m2) - 0.485).abs() < 0.01, "{}", mean(&m2));
    let ph: Vec<f64> = p
        .get("theta_log")
        .unwrap()
        .data()
        .iter()
        .map(|t| t.exp())
        .collect();
    assert!((mean(&ph) - 1.5).abs() < 0.05);
    // B ~ N(0, 1/(2I)), C ~ N(0, 1/N).
    for name in ["B_re", "B_im"] {
        let v = var(p.get(name).unwrap().data());
        assert!((v * 2.0 * i as f64 - 1.0).abs() < 0.02, "{name}: {v}");
    }
    for name in ["C_re", "C_im"] {
        let v = var(p.get(name).unwrap().data());
        assert!((v * n as f64 - 1.0).abs() < 0.02, "{name}: {v}");
    }
    // D: the paper's diagonal N(0, 1), zero elsewhere.
    let d = p.get("D").unwrap();
    assert_eq!(d.shape(), &[h, i]);
    let diag: Vec<f64> = (0..h).map(|j| d.data()[j * i + j]).collect();
    assert!(diag.iter().all(|&v| v != 0.0));
    assert!((var(&diag) - 1.0).abs() < 0.6);
    let off = d
        .data()
        .iter()
        .enumerate()
        .filter(|(k, _)| k / i != k % i)
        .all(|(_, &v)| v == 0.0);
    assert!(off);
}

#[test]
fn options_out_of_range_are_typed_errors() {
    let bad =
        |o: LruOptions, field: &str| match LruCell::<f64>::with_options(2, 3, o, &mut seeded(0)) {
            Err(CellError::BadParam { name, reason }) => {
                assert_eq!(name, field, "{o:?}: {reason}");
            }
            other => panic!("{o:?}: {other:?}"),
        };
    let d = LruOptions::default();
    for r in [-0.1, 1.0, 2.0, f64::NAN] {
        bad(d.with_ring(r, 1.0), "r_min");
    }
    for r in [0.0, 1e-4, 1.0 + 1e-9, f64::INFINITY] {
        bad(d.with_ring(0.0, r), "r_max");
    }
    bad(d.with_ring(0.6, 0.5), "r_min");
    for m in [0.0, -1.0, 7.0, f64::NAN] {
        bad(d.with_max_phase(m), "max_phase");
    }
    assert!(LruCell::<f64>::with_options(2, 3, d.with_ring(0.5, 0.5), &mut seeded(0)).is_ok());
}

#[test]
fn zero_sizes_are_refused() {
    let zs = |what| CellError::ZeroSize { what };
    assert_eq!(
        LruCell::<f32>::new(0, 3, &mut seeded(0)),
        Err(zs("input_size"))
    );
    assert_eq!(LruCell::<f64>::zeros(2, 0, 0), Err(zs("hidden_size")));
}

#[test]
fn shapes_names_form_and_sizes() {
    let cell =
        LruCell::<f64>::with_options(3, 5, LruOptions::default().with_state(7), &mut seeded(0))
            .unwrap();
    assert!(matches!(cell.form(), StepForm::Scan(_)));
    assert_eq!(
        (cell.state_size(), cell.cache_size(), cell.units()),
        (5 + 14, 14, 7)
    );
    let shapes: Vec<(&str, &[usize])> = cell
        .params()
        .iter()
        .map(|p| (p.name(), p.shape()))
        .collect();
    assert_eq!(
        shapes,
        [
            ("nu_log", &[7][..]),
            ("theta_log", &[7][..]),
            ("gamma_log", &[7][..]),
            ("B_re", &[7, 3][..]),
            ("B_im", &[7, 3][..]),
            ("C_re", &[5, 7][..]),
            ("C_im", &[5, 7][..]),
            ("D", &[5, 3][..]),
        ]
    );
    assert_eq!(
        LruCell::<f64>::new(3, 5, &mut seeded(0)).unwrap().units(),
        5
    );
}

#[test]
fn f32_and_f64_agree_to_f32_precision() {
    let (ni, nh, nb) = (5, 7, 3);
    let c64 = LruCell::<f64>::new(ni, nh, &mut seeded(3)).unwrap();
    let mut c32 = LruCell::<f32>::zeros(ni, nh, 0).unwrap();
    let to32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
    for p in c64.params().iter() {
        c32.params_mut().set(p.name(), &to32(p.data())).unwrap();
    }
    let mut rng = seeded(100);
    let x = normal_vec(ni * nb, &mut rng);
    let prev = normal_vec(c64.state_size() * nb, &mut rng);
    let (out64, _) = forward_step(&c64, &x, &prev, nb);
    let (out32, _) = forward_step(&c32, &to32(&x), &to32(&prev), nb);
    for (a, b) in out32.iter().zip(&out64) {
        assert!((*a as f64 - b).abs() < 1e-4 * (1.0 + b.abs()));
    }
}
