use super::*;
use proptest::prelude::*;
use rnnzoo_cell::gradcheck::{self, normal_vec};
use rnnzoo_cell::testing::forward_step as forward;
use rnnzoo_cell::{CellExt, seeded};

/// One backward step from `d_next`, its outputs NaN on entry; returns `(d_x, d_prev, grads)`.
fn backward(
    cell: &dyn Cell<f64>,
    x: &[f64],
    prev: &[f64],
    d_next: &[f64],
    batch: usize,
) -> (Vec<f64>, Vec<f64>, Params<f64>) {
    let (_, cache) = forward(cell, x, prev, batch);
    let mut d_x = vec![f64::NAN; x.len()];
    let mut d_prev = vec![f64::NAN; prev.len()];
    let mut grads = cell.params().zeros_like();
    let mut scratch = vec![f64::NAN; cell.step_scratch_size(batch)];
    let step = StepBackward {
        x,
        prev,
        cache: &cache,
        d_next,
        d_x: &mut d_x,
        d_prev: &mut d_prev,
        batch,
        scratch: &mut scratch,
    };
    cell.step_backward(step, &mut grads).unwrap();
    (d_x, d_prev, grads)
}

fn sig(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn fill(n: usize, k: f64) -> Vec<f64> {
    (0..n).map(|m| (m as f64 * 0.37 + k).sin() * 0.8).collect()
}

/// `(input, H, P, batch)` with `0 < P < H`.
fn sizes() -> impl Strategy<Value = (usize, usize, usize, usize)> {
    (1usize..=5, 2usize..=6, 1usize..=4)
        .prop_flat_map(|(i, h, b)| (Just(i), Just(h), 1..h, Just(b)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// One step's analytic gradients (every parameter, the input, both state parts) agree with
    /// finite differences, and the samples of a batch stay apart, for any sizes and options.
    #[test]
    fn one_step_gradcheck_passes(
        (input, hidden, proj, batch) in sizes(),
        bias in any::<bool>(),
        forget in any::<bool>(),
        seed in 0u64..1000,
    ) {
        let forget = forget && bias;
        let o = LstmOptions::default().with_bias(bias).with_unit_forget_bias(forget);
        let mut cell =
            LstmProjCell::<f64>::with_options(input, hidden, proj, o, &mut seeded(seed)).unwrap();
        let opts = gradcheck::Options::default();
        let columns = gradcheck::check_columns(&cell, 3, seed, &opts);
        prop_assert!(columns.passed(), "{columns}");
        let report = gradcheck::check_cell(&mut cell, batch, seed + 1, &opts);
        prop_assert!(report.passed(), "{report}");
        // Every parameter (weight_hr included), the input and the state [h; c].
        prop_assert_eq!(report.groups.len(), if bias { 7 } else { 5 });
        prop_assert_eq!(report.group("state").unwrap().checked, (proj + hidden) * batch);
        prop_assert_eq!(
            report.group("weight_hr").unwrap().checked,
            proj * hidden
        );
    }
}

#[test]
fn forward_matches_the_pytorch_equations_written_as_scalar_loops() {
    let (ni, nh, np, nb) = (3, 4, 2, 2);
    let mut cell = LstmProjCell::<f64>::zeros(ni, nh, np, true).unwrap();
    let (w_ih, w_hh, b_ih, b_hh, w_hr) = (
        fill(4 * nh * ni, 0.1),
        fill(4 * nh * np, 1.3),
        fill(4 * nh, 2.9),
        fill(4 * nh, 4.2),
        fill(np * nh, 6.6),
    );
    let p = cell.params_mut();
    p.set("weight_ih", &w_ih).unwrap();
    p.set("weight_hh", &w_hh).unwrap();
    p.set("bias_ih", &b_ih).unwrap();
    p.set("bias_hh", &b_hh).unwrap();
    p.set("weight_hr", &w_hr).unwrap();
    let s = np + nh;
    let x = fill(ni * nb, 5.5);
    let prev = fill(s * nb, 7.1);
    let (next, _) = forward(&cell, &x, &prev, nb);
    for b in 0..nb {
        let h_prev = &prev[b * s..b * s + np];
        let c_prev = &prev[b * s + np..(b + 1) * s];
        let mut m = vec![0.0; nh];
        for j in 0..nh {
            // Row `g*H + j` of PyTorch's stacked (4H, .) weights.
            let pre = |g: usize| {
                let row = g * nh + j;
                let mut v = b_ih[row] + b_hh[row];
                for k in 0..ni {
                    v += w_ih[row * ni + k] * x[b * ni + k];
                }
                for k in 0..np {
                    v += w_hh[row * np + k] * h_prev[k];
                }
                v
            };
            let (i, f, g, o) = (sig(pre(0)), sig(pre(1)), pre(2).tanh(), sig(pre(3)));
            let c = f * c_prev[j] + i * g;
            assert!(
                (next[b * s + np + j] - c).abs() < 1e-14,
                "c[{j}] of sample {b}"
            );
            m[j] = o * c.tanh();
        }
        for r in 0..np {
            let h: f64 = (0..nh).map(|k| w_hr[r * nh + k] * m[k]).sum();
            assert!((next[b * s + r] - h).abs() < 1e-14, "h[{r}] of sample {b}");
        }
    }
}

#[test]
fn f32_and_f64_agree_to_f32_precision() {
    let c64 = LstmProjCell::<f64>::new(3, 5, 2, &mut seeded(4)).unwrap();
    let c32 = LstmProjCell::<f32>::new(3, 5, 2, &mut seeded(4)).unwrap();
    for (a, b) in c64.params().iter().zip(c32.params().iter()) {
        assert!(
            a.data()
                .iter()
                .zip(b.data())
                .all(|(&x, &y)| (x - f64::from(y)).abs() < 1e-7)
        );
    }
    let nb = 3;
    let mut rng = seeded(5);
    let x = normal_vec(3 * nb, &mut rng);
    let prev = normal_vec(7 * nb, &mut rng);
    let to32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<_>>();
    let (n64, _) = forward(&c64, &x, &prev, nb);
    let (n32, _) = forward(&c32, &to32(&x), &to32(&prev), nb);
    for (a, b) in n64.iter().zip(&n32) {
        assert!((a - f64::from(*b)).abs() < 1e-5, "{a} vs {b}");
    }
}

#[test]
fn sizes_that_pytorch_refuses_are_typed_errors() {
    let zs = |what| CellError::ZeroSize { what };
    assert_eq!(
        LstmProjCell::<f64>::zeros(0, 4, 2, true),
        Err(zs("input_size"))
    );
    assert_eq!(
        LstmProjCell::<f64>::zeros(3, 0, 2, true),
        Err(zs("hidden_size"))
    );
    assert_eq!(
        LstmProjCell::<f64>::zeros(3, 4, 0, true),
        Err(zs("proj_size"))
    );
    for proj in [4, 5] {
        match LstmProjCell::<f64>::new(3, 4, proj, &mut seeded(0)) {
            Err(CellError::Mismatch(m)) => {
                assert!(m.contains(&format!("proj_size {proj}")), "{m}")
            }
            other => panic!("{other:?}"),
        }
    }
    let o = LstmOptions::default()
        .with_bias(false)
        .with_unit_forget_bias(true);
    assert!(matches!(
        LstmProjCell::<f64>::with_options(3, 4, 2, o, &mut seeded(0)),
        Err(CellError::Mismatch(m)) if m.contains("no biases")
    ));
    let mut nobias = LstmProjCell::<f64>::zeros(3, 4, 2, false).unwrap();
    assert!(matches!(
        nobias.set_unit_forget_bias(),
        Err(CellError::Mismatch(_))
    ));
}

#[test]
fn shapes_names_mode_form_and_default_init_are_pytorchs() {
    let cell = LstmProjCell::<f64>::new(10, 16, 6, &mut seeded(9)).unwrap();
    assert_eq!((cell.cell_size(), cell.proj_size()), (16, 6));
    let cell: &dyn Cell<f64> = &cell;
    assert_eq!(cell.mode(), "LSTM_PROJ");
    assert!(matches!(cell.form(), StepForm::General(_)));
    assert_eq!(
        (
            cell.input_size(),
            cell.hidden_size(),
            cell.state_size(),
            cell.cache_size()
        ),
        (10, 6, 22, 80)
    );
    let shapes: Vec<(&str, &[usize], usize)> = cell
        .params()
        .iter()
        .map(|p| (p.name(), p.shape(), p.gates()))
        .collect();
    assert_eq!(
        shapes,
        [
            ("weight_ih", &[64, 10][..], 4),
            ("weight_hh", &[64, 6][..], 4),
            ("bias_ih", &[64][..], 4),
            ("bias_hh", &[64][..], 4),
            ("weight_hr", &[6, 16][..], 1),
        ]
    );
    // U(-1/sqrt(H), 1/sqrt(H)) with H = 16, weight_hr included (PyTorch's reset_parameters).
    for p in cell.params().iter() {
        assert!(p.data().iter().all(|x| x.abs() <= 0.25), "{}", p.name());
        assert!(p.data().iter().any(|x| x.abs() > 0.2), "{}", p.name());
    }
    for bias in [true, false] {
        let o = LstmOptions::default().with_bias(bias);
        let c = LstmProjCell::<f32>::with_options(2, 3, 1, o, &mut seeded(0)).unwrap();
        assert_eq!(c.has_bias(), bias);
        let names: Vec<&str> = c.params().names().collect();
        if bias {
            assert_eq!(
                names,
                ["weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"]
            );
        } else {
            assert_eq!(names, ["weight_ih", "weight_hh", "weight_hr"]);
        }
    }
}

#[test]
fn unit_forget_bias_sets_exactly_the_f_blocks_and_keeps_the_draws() {
    let plain = LstmProjCell::<f64>::new(3, 4, 2, &mut seeded(3)).unwrap();
    let o = LstmOptions::default().with_unit_forget_bias(true);
    let one = LstmProjCell::<f64>::with_options(3, 4, 2, o, &mut seeded(3)).unwrap();
    for (a, b) in plain.params().iter().zip(one.params().iter()) {
        match a.name() {
            "bias_ih" | "bias_hh" => {
                let want = if a.name() == "bias_ih" { 1.0 } else { 0.0 };
                assert_eq!(b.gate(1), [want; 4]);
                for g in [0, 2, 3] {
                    assert_eq!(a.gate(g), b.gate(g), "{} block {g}", a.name());
                }
            }
            _ => assert_eq!(a, b),
        }
    }
}

#[test]
fn backward_overwrites_its_outputs_and_accumulates_grads() {
    let (ni, nh, np, nb) = (3, 5, 2, 2);
    for bias in [true, false] {
        let o = LstmOptions::default().with_bias(bias);
        let cell = LstmProjCell::<f64>::with_options(ni, nh, np, o, &mut seeded(1)).unwrap();
        let mut rng = seeded(2);
        let x = normal_vec(ni * nb, &mut rng);
        let prev = normal_vec((np + nh) * nb, &mut rng);
        let d_next = normal_vec((np + nh) * nb, &mut rng);
        let (d_x, d_prev, once) = backward(&cell, &x, &prev, &d_next, nb);
        assert!(d_x.iter().chain(&d_prev).all(|v| v.is_finite()));
        let (_, cache) = forward(&cell, &x, &prev, nb);
        let mut grads = once.clone();
        let (mut dx, mut dp) = (vec![7.0; d_x.len()], vec![7.0; d_prev.len()]);
        let mut scratch = vec![f64::NAN; cell.step_scratch_size(nb)];
        let step = StepBackward {
            x: &x,
            prev: &prev,
            cache: &cache,
            d_next: &d_next,
            d_x: &mut dx,
            d_prev: &mut dp,
            batch: nb,
            scratch: &mut scratch,
        };
        cell.step_backward(step, &mut grads).unwrap();
        assert_eq!((dx, dp), (d_x, d_prev));
        for (twice, once) in grads.iter().zip(once.iter()) {
            for (t, o) in twice.data().iter().zip(once.data()) {
                assert!((t - 2.0 * o).abs() < 1e-12, "{}", once.name());
            }
        }
    }
}
