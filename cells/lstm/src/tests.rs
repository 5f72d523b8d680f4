use super::*;
use rnnzoo_cell::gradcheck::{self, normal_vec};
use rnnzoo_cell::testing::forward_step as forward;
use rnnzoo_cell::{Cell, CellExt, Params, StepBackward, StepForm, seeded};

/// One backward step from `d_next`; returns `(d_x, d_prev, grads)`.
fn backward<T: Real>(
    cell: &dyn Cell<T>,
    x: &[T],
    prev: &[T],
    d_next: &[T],
    batch: usize,
) -> (Vec<T>, Vec<T>, Params<T>) {
    let (_, cache) = forward(cell, x, prev, batch);
    let mut d_x = vec![T::nan(); x.len()];
    let mut d_prev = vec![T::nan(); prev.len()];
    let mut grads = cell.params().zeros_like();
    let mut scratch = vec![T::nan(); cell.step_scratch_size(batch)];
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

#[test]
fn one_step_gradcheck_passes_for_every_option_batch_and_seed() {
    let opts = gradcheck::Options::default();
    for &(input, hidden) in &[(3, 4), (1, 1), (5, 2)] {
        for (bias, forget) in [(true, false), (true, true), (false, false)] {
            for batch in 1..=3 {
                for seed in 0..3 {
                    let o = LstmOptions::default()
                        .with_bias(bias)
                        .with_unit_forget_bias(forget);
                    let mut cell =
                        LstmCell::<f64>::with_options(input, hidden, o, &mut seeded(seed)).unwrap();
                    let columns = gradcheck::check_columns(&cell, 3, seed, &opts);
                    assert!(columns.passed(), "{columns}");
                    let report = gradcheck::check_cell(&mut cell, batch, seed + 10, &opts);
                    let what = format!(
                        "I={input} H={hidden} bias={bias} forget={forget} B={batch} seed={seed}"
                    );
                    assert!(report.passed(), "{what}\n{report}");
                    assert_eq!(report.groups.len(), if bias { 6 } else { 4 }, "{what}");
                    // The state group is [h; c]: both the h and the c rows are checked.
                    assert_eq!(
                        report.group("state").unwrap().checked,
                        2 * hidden * batch,
                        "{what}"
                    );
                    assert_eq!(
                        report.group("input").unwrap().checked,
                        input * batch,
                        "{what}"
                    );
                }
            }
        }
    }
}

#[test]
fn forward_matches_the_pytorch_equations_written_as_scalar_loops() {
    let (ni, nh, nb) = (3, 2, 2);
    let mut cell = LstmCell::<f64>::zeros(ni, nh, true).unwrap();
    // Distinct, deterministic values for every parameter.
    let fill = |n: usize, k: f64| {
        (0..n)
            .map(|m| (m as f64 * 0.37 + k).sin() * 0.8)
            .collect::<Vec<_>>()
    };
    let (w_ih, w_hh, b_ih, b_hh) = (
        fill(4 * nh * ni, 0.1),
        fill(4 * nh * nh, 1.3),
        fill(4 * nh, 2.9),
        fill(4 * nh, 4.2),
    );
    let p = cell.params_mut();
    p.set("weight_ih", &w_ih).unwrap();
    p.set("weight_hh", &w_hh).unwrap();
    p.set("bias_ih", &b_ih).unwrap();
    p.set("bias_hh", &b_hh).unwrap();
    let x = fill(ni * nb, 5.5);
    let prev = fill(2 * nh * nb, 7.1);
    let (next, cache) = forward(&cell, &x, &prev, nb);
    for b in 0..nb {
        let h_prev = &prev[b * 2 * nh..b * 2 * nh + nh];
        let c_prev = &prev[b * 2 * nh + nh..(b + 1) * 2 * nh];
        for j in 0..nh {
            // Pre-activation of row `g*H + j` of PyTorch's stacked (4H, .) weights.
            let pre = |g: usize| {
                let row = g * nh + j;
                let mut a = b_ih[row] + b_hh[row];
                for k in 0..ni {
                    a += w_ih[row * ni + k] * x[b * ni + k];
                }
                for k in 0..nh {
                    a += w_hh[row * nh + k] * h_prev[k];
                }
                a
            };
            let (i, f, g, o) = (sig(pre(0)), sig(pre(1)), pre(2).tanh(), sig(pre(3)));
            let c = f * c_prev[j] + i * g;
            let h = o * c.tanh();
            assert!(
                (next[b * 2 * nh + j] - h).abs() < 1e-12,
                "h[{j}] of sample {b}"
            );
            assert!(
                (next[b * 2 * nh + nh + j] - c).abs() < 1e-12,
                "c[{j}] of sample {b}"
            );
            // The documented cache layout: [i; f; g; o; tanh(c)].
            let col = &cache[b * 5 * nh..(b + 1) * 5 * nh];
            for (k, want) in [i, f, g, o, c.tanh()].into_iter().enumerate() {
                assert!(
                    (col[k * nh + j] - want).abs() < 1e-12,
                    "cache block {k}, row {j}, sample {b}"
                );
            }
        }
    }
}

#[test]
fn gate_blocks_are_in_pytorch_order_i_f_g_o() {
    let (ni, nh, nb) = (3, 2, 2);
    let base = LstmCell::<f64>::new(ni, nh, &mut seeded(3)).unwrap();
    let mut rng = seeded(4);
    let x = normal_vec(ni * nb, &mut rng);
    let prev = normal_vec(2 * nh * nb, &mut rng);
    let with_bias = |blocks: &[(usize, f64)]| {
        let mut cell = base.clone();
        for &(g, v) in blocks {
            cell.params_mut()
                .get_mut("bias_ih")
                .unwrap()
                .gate_mut(g)
                .fill(v);
        }
        forward(&cell, &x, &prev, nb).0
    };
    let rows = |s: &[f64], b: usize, r: std::ops::Range<usize>| {
        s[b * 2 * nh..(b + 1) * 2 * nh][r].to_vec()
    };
    // Input gate (block 0) shut, forget gate (block 1) open: c_t = c_{t-1}.
    let next = with_bias(&[(0, -50.0), (1, 50.0)]);
    for b in 0..nb {
        for (c, c_prev) in rows(&next, b, nh..2 * nh)
            .iter()
            .zip(rows(&prev, b, nh..2 * nh))
        {
            assert!((c - c_prev).abs() < 1e-12);
        }
    }
    // Input open, forget shut, cell candidate (block 2) saturated: c_t = 1.
    let next = with_bias(&[(0, 50.0), (1, -50.0), (2, 50.0)]);
    for b in 0..nb {
        assert!(
            rows(&next, b, nh..2 * nh)
                .iter()
                .all(|c| (c - 1.0).abs() < 1e-12)
        );
    }
    // Output gate (block 3) shut: h_t = 0 whatever c_t is.
    let next = with_bias(&[(3, -50.0)]);
    for b in 0..nb {
        assert!(rows(&next, b, 0..nh).iter().all(|h| h.abs() < 1e-12));
        assert!(rows(&next, b, nh..2 * nh).iter().any(|c| c.abs() > 1e-3));
    }
}

#[test]
fn f32_and_f64_agree_to_f32_precision() {
    let close = |a: &[f32], b: &[f64], what: &str| {
        assert_eq!(a.len(), b.len(), "{what}");
        for (k, (&a, &b)) in a.iter().zip(b).enumerate() {
            assert!(
                (a as f64 - b).abs() <= 1e-4 * b.abs().max(1.0),
                "{what}[{k}]: f32 {a} vs f64 {b}"
            );
        }
    };
    let to32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
    for seed in 0..4 {
        for bias in [true, false] {
            let (ni, nh, nb) = (5, 7, 3);
            let c64 = LstmCell::<f64>::with_options(
                ni,
                nh,
                LstmOptions::default().with_bias(bias),
                &mut seeded(seed),
            )
            .unwrap();
            let mut c32 = LstmCell::<f32>::zeros(ni, nh, bias).unwrap();
            for p in c64.params().iter() {
                c32.params_mut().set(p.name(), &to32(p.data())).unwrap();
            }
            let mut rng = seeded(seed + 100);
            let x = normal_vec(ni * nb, &mut rng);
            let prev = normal_vec(2 * nh * nb, &mut rng);
            let d_next = normal_vec(2 * nh * nb, &mut rng);
            let (x32, prev32, d32) = (to32(&x), to32(&prev), to32(&d_next));
            close(
                &forward(&c32, &x32, &prev32, nb).0,
                &forward(&c64, &x, &prev, nb).0,
                "next",
            );
            let (dx32, dp32, g32) = backward(&c32, &x32, &prev32, &d32, nb);
            let (dx64, dp64, g64) = backward(&c64, &x, &prev, &d_next, nb);
            close(&dx32, &dx64, "d_x");
            close(&dp32, &dp64, "d_prev");
            for (a, b) in g32.iter().zip(g64.iter()) {
                close(a.data(), b.data(), b.name());
            }
        }
    }
}

#[test]
fn unit_forget_bias_sets_exactly_the_f_blocks() {
    let (ni, nh) = (3, 4);
    let plain = LstmCell::<f64>::new(ni, nh, &mut seeded(8)).unwrap();
    let opts = LstmOptions::default().with_unit_forget_bias(true);
    let forget = LstmCell::<f64>::with_options(ni, nh, opts, &mut seeded(8)).unwrap();
    // The same random draws: the weights are equal.
    for name in ["weight_ih", "weight_hh"] {
        assert_eq!(plain.params().get(name), forget.params().get(name));
    }
    for (name, f_value) in [("bias_ih", 1.0), ("bias_hh", 0.0)] {
        let (p, q) = (
            plain.params().get(name).unwrap().data(),
            forget.params().get(name).unwrap().data(),
        );
        for r in 0..4 * nh {
            if (nh..2 * nh).contains(&r) {
                assert_eq!(q[r], f_value, "{name}[{r}]");
            } else {
                assert_eq!(q[r], p[r], "{name}[{r}] must keep its draw");
                assert_ne!(q[r], 0.0);
            }
        }
    }
    // The method does the same on an existing cell, and refuses a cell without biases.
    let mut c = plain.clone();
    c.set_unit_forget_bias().unwrap();
    assert_eq!(c, forget);
    let mut nobias = LstmCell::<f64>::zeros(ni, nh, false).unwrap();
    assert!(matches!(
        nobias.set_unit_forget_bias(),
        Err(CellError::Mismatch(_))
    ));
    let bad = LstmOptions::default()
        .with_bias(false)
        .with_unit_forget_bias(true);
    assert!(matches!(
        LstmCell::<f64>::with_options(ni, nh, bad, &mut seeded(0)),
        Err(CellError::Mismatch(_))
    ));
}

#[test]
fn zero_sizes_are_refused() {
    let zs = |what| CellError::ZeroSize { what };
    assert_eq!(
        LstmCell::<f32>::new(0, 3, &mut seeded(0)),
        Err(zs("input_size"))
    );
    assert_eq!(
        LstmCell::<f32>::new(3, 0, &mut seeded(0)),
        Err(zs("hidden_size"))
    );
    assert_eq!(LstmCell::<f64>::zeros(0, 3, false), Err(zs("input_size")));
    assert_eq!(LstmCell::<f64>::zeros(2, 0, true), Err(zs("hidden_size")));
    let o = LstmOptions::default().with_unit_forget_bias(true);
    assert_eq!(
        LstmCell::<f64>::with_options(0, 0, o, &mut seeded(0)),
        Err(zs("input_size"))
    );
}

#[test]
fn shapes_names_mode_and_default_init_are_pytorchs() {
    let cell = LstmCell::<f64>::new(10, 16, &mut seeded(9)).unwrap();
    let cell: &dyn Cell<f64> = &cell;
    assert_eq!(cell.mode(), "LSTM");
    assert_eq!(
        (
            cell.input_size(),
            cell.hidden_size(),
            cell.state_size(),
            cell.cache_size()
        ),
        (10, 16, 32, 80)
    );
    let StepForm::Gated(g) = cell.form() else {
        panic!("LSTM is gated")
    };
    assert_eq!(g.weights().gates(), 4);
    assert!(g.d_gh_is_d_gi());
    let shapes: Vec<(&str, &[usize])> = cell
        .params()
        .iter()
        .map(|p| (p.name(), p.shape()))
        .collect();
    assert_eq!(
        shapes,
        [
            ("weight_ih", &[64, 10][..]),
            ("weight_hh", &[64, 16][..]),
            ("bias_ih", &[64][..]),
            ("bias_hh", &[64][..])
        ]
    );
    for p in cell.params().iter() {
        assert_eq!(p.gates(), 4);
        assert!(p.data().iter().all(|x| x.abs() <= 0.25), "{}", p.name());
        assert!(p.data().iter().any(|x| x.abs() > 0.2), "{}", p.name());
    }
    let nobias = LstmCell::<f32>::with_options(
        2,
        3,
        LstmOptions::default().with_bias(false),
        &mut seeded(0),
    )
    .unwrap();
    assert_eq!(
        nobias.params().names().collect::<Vec<_>>(),
        ["weight_ih", "weight_hh"]
    );
    assert!(!nobias.has_bias());
    assert_eq!(nobias.weights().gate_params().bias_ih, None);
}

#[test]
fn has_bias_reports_the_option() {
    for bias in [true, false] {
        let options = LstmOptions {
            bias,
            unit_forget_bias: false,
        };
        let cell = LstmCell::<f32>::with_options(2, 3, options, &mut seeded(0)).unwrap();
        assert_eq!(cell.has_bias(), bias);
        assert_eq!(cell.params().len(), if bias { 4 } else { 2 });
    }
}
