use super::*;
use rnnzoo_cell::gradcheck::{self, normal_vec};
use rnnzoo_cell::testing::forward_step as forward;
use rnnzoo_cell::{
    Cell, CellError, CellExt, GeneralStep, Params, Real, StepBackward, StepForm, seeded,
};

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

/// Copies every parameter of `from` into `to` (same names and shapes), converting the dtype.
fn copy_params<A: Real, B: Real>(from: &Params<A>, to: &mut Params<B>) {
    for p in from.iter() {
        let v: Vec<B> = p
            .data()
            .iter()
            .map(|x| B::from_f64_lossy(x.to_f64_lossless()))
            .collect();
        to.set(p.name(), &v).unwrap();
    }
}

fn reset_before_like(cell: &GruCell<f64>) -> GruResetBeforeCell<f64> {
    let mut other =
        GruResetBeforeCell::zeros(cell.input_size(), cell.hidden_size(), cell.has_bias()).unwrap();
    copy_params(cell.params(), other.params_mut());
    other
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn sig(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[test]
fn one_step_gradcheck_passes_for_both_variants_every_option_batch_and_seed() {
    let opts = gradcheck::Options::default();
    for &(input, hidden) in &[(3, 4), (1, 1), (5, 2)] {
        for bias in [true, false] {
            for batch in 1..=3 {
                for seed in 0..3 {
                    let what = format!("I={input} H={hidden} bias={bias} B={batch} seed={seed}");
                    let mut gru =
                        GruCell::<f64>::with_bias(input, hidden, bias, &mut seeded(seed)).unwrap();
                    let mut cho = GruResetBeforeCell::<f64>::with_bias(
                        input,
                        hidden,
                        bias,
                        &mut seeded(seed),
                    )
                    .unwrap();
                    for columns in [
                        gradcheck::check_columns(&gru, 3, seed, &opts),
                        gradcheck::check_columns(&cho, 3, seed, &opts),
                    ] {
                        assert!(columns.passed(), "{what}\n{columns}");
                    }
                    for (name, report) in [
                        (
                            "GRU",
                            gradcheck::check_cell(&mut gru, batch, seed + 10, &opts),
                        ),
                        (
                            "GRU_RESET_BEFORE",
                            gradcheck::check_cell(&mut cho, batch, seed + 10, &opts),
                        ),
                    ] {
                        assert!(report.passed(), "{name} {what}\n{report}");
                        assert_eq!(
                            report.groups.len(),
                            if bias { 6 } else { 4 },
                            "{name} {what}"
                        );
                        assert_eq!(
                            report.group("state").unwrap().checked,
                            hidden * batch,
                            "{name} {what}"
                        );
                    }
                }
            }
        }
    }
}

/// Distinct, deterministic values.
fn fill(n: usize, k: f64) -> Vec<f64> {
    (0..n).map(|m| (m as f64 * 0.37 + k).sin() * 0.8).collect()
}

#[test]
fn both_forwards_match_their_equations_written_as_scalar_loops() {
    let (ni, nh, nb) = (3, 2, 2);
    let (w_ih, w_hh, b_ih, b_hh) = (
        fill(3 * nh * ni, 0.1),
        fill(3 * nh * nh, 1.3),
        fill(3 * nh, 2.9),
        fill(3 * nh, 4.2),
    );
    let mut gru = GruCell::<f64>::zeros(ni, nh, true).unwrap();
    let p = gru.params_mut();
    p.set("weight_ih", &w_ih).unwrap();
    p.set("weight_hh", &w_hh).unwrap();
    p.set("bias_ih", &b_ih).unwrap();
    p.set("bias_hh", &b_hh).unwrap();
    let cho = reset_before_like(&gru);
    let x = fill(ni * nb, 5.5);
    let prev = fill(nh * nb, 7.1);
    let (next, cache) = forward(&gru, &x, &prev, nb);
    let (next_cho, cache_cho) = forward(&cho, &x, &prev, nb);
    for b in 0..nb {
        let h_prev = &prev[b * nh..(b + 1) * nh];
        // Row `row` of W_ih x + b_ih, and of W_hh v + b_hh for any v.
        let input = |row: usize| {
            b_ih[row]
                + (0..ni)
                    .map(|k| w_ih[row * ni + k] * x[b * ni + k])
                    .sum::<f64>()
        };
        let recur = |row: usize, v: &[f64]| {
            b_hh[row] + (0..nh).map(|k| w_hh[row * nh + k] * v[k]).sum::<f64>()
        };
        let r: Vec<f64> = (0..nh).map(|j| sig(input(j) + recur(j, h_prev))).collect();
        let z: Vec<f64> = (0..nh)
            .map(|j| sig(input(nh + j) + recur(nh + j, h_prev)))
            .collect();
        let rh: Vec<f64> = (0..nh).map(|j| r[j] * h_prev[j]).collect();
        for j in 0..nh {
            let (row_n, n_row) = (2 * nh + j, 2 * nh + j);
            // PyTorch: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).
            let ghn = recur(n_row, h_prev);
            let n = (input(row_n) + r[j] * ghn).tanh();
            let h = (1.0 - z[j]) * n + z[j] * h_prev[j];
            assert!(
                (next[b * nh + j] - h).abs() < 1e-12,
                "GRU h[{j}] of sample {b}"
            );
            let col = &cache[b * 4 * nh..(b + 1) * 4 * nh];
            for (k, want) in [r[j], z[j], n, ghn].into_iter().enumerate() {
                assert!(
                    (col[k * nh + j] - want).abs() < 1e-12,
                    "GRU cache block {k}, row {j}, sample {b}"
                );
            }
            // Reset before: n = tanh(W_in x + b_in + W_hn (r * h) + b_hn).
            let n = (input(row_n) + recur(n_row, &rh)).tanh();
            let h = (1.0 - z[j]) * n + z[j] * h_prev[j];
            assert!(
                (next_cho[b * nh + j] - h).abs() < 1e-12,
                "reset-before h[{j}] of sample {b}"
            );
            let col = &cache_cho[b * 3 * nh..(b + 1) * 3 * nh];
            for (k, want) in [r[j], z[j], n].into_iter().enumerate() {
                assert!(
                    (col[k * nh + j] - want).abs() < 1e-12,
                    "reset-before cache block {k}, row {j}, sample {b}"
                );
            }
        }
    }
}

#[test]
fn gate_blocks_are_in_pytorch_order_r_z_n() {
    let (ni, nh, nb) = (3, 2, 2);
    let base = GruCell::<f64>::new(ni, nh, &mut seeded(3)).unwrap();
    let mut rng = seeded(4);
    let x = normal_vec(ni * nb, &mut rng);
    let prev = normal_vec(nh * nb, &mut rng);
    let with_bias = |blocks: &[(usize, f64)]| {
        let mut gru = base.clone();
        for &(g, v) in blocks {
            gru.params_mut()
                .get_mut("bias_ih")
                .unwrap()
                .gate_mut(g)
                .fill(v);
        }
        let cho = reset_before_like(&gru);
        (gru, cho)
    };
    // Update gate (block 1) shut: h_t = h_{t-1}, in both variants.
    let (gru, cho) = with_bias(&[(1, 50.0)]);
    assert!(max_diff(&forward(&gru, &x, &prev, nb).0, &prev) < 1e-12);
    assert!(max_diff(&forward(&cho, &x, &prev, nb).0, &prev) < 1e-12);
    // Update gate open, candidate (block 2) saturated: h_t = 1.
    let (gru, cho) = with_bias(&[(1, -50.0), (2, 50.0)]);
    assert!(
        forward(&gru, &x, &prev, nb)
            .0
            .iter()
            .all(|h| (h - 1.0).abs() < 1e-12)
    );
    assert!(
        forward(&cho, &x, &prev, nb)
            .0
            .iter()
            .all(|h| (h - 1.0).abs() < 1e-12)
    );
    // Reset gate (block 0) shut: the n rows of weight_hh no longer matter to either variant, and
    // b_hn matters only to the reset-before one (r * b_hn = 0 against W_hn 0 + b_hn).
    let (gru, cho) = with_bias(&[(0, -50.0)]);
    let (before_gru, before_cho) = (
        forward(&gru, &x, &prev, nb).0,
        forward(&cho, &x, &prev, nb).0,
    );
    let perturb = |cell: &mut dyn Cell<f64>, name: &str| {
        cell.params_mut()
            .get_mut(name)
            .unwrap()
            .gate_mut(2)
            .fill(3.0)
    };
    let (mut gru2, mut cho2) = (gru.clone(), cho.clone());
    perturb(&mut gru2, "weight_hh");
    perturb(&mut cho2, "weight_hh");
    assert!(max_diff(&forward(&gru2, &x, &prev, nb).0, &before_gru) < 1e-12);
    assert!(max_diff(&forward(&cho2, &x, &prev, nb).0, &before_cho) < 1e-12);
    perturb(&mut gru2, "bias_hh");
    perturb(&mut cho2, "bias_hh");
    assert!(max_diff(&forward(&gru2, &x, &prev, nb).0, &before_gru) < 1e-12);
    assert!(max_diff(&forward(&cho2, &x, &prev, nb).0, &before_cho) > 1e-3);
    // ... while with the reset gate open, W_hn changes both.
    let (mut gru3, mut cho3) = (base.clone(), reset_before_like(&base));
    perturb(&mut gru3, "weight_hh");
    perturb(&mut cho3, "weight_hh");
    assert!(
        max_diff(
            &forward(&gru3, &x, &prev, nb).0,
            &forward(&base, &x, &prev, nb).0
        ) > 1e-3
    );
    assert!(
        max_diff(
            &forward(&cho3, &x, &prev, nb).0,
            &forward(&reset_before_like(&base), &x, &prev, nb).0
        ) > 1e-3
    );
}

#[test]
fn the_two_variants_differ_exactly_where_the_reset_gate_placement_matters() {
    let (ni, nh, nb) = (4, 5, 3);
    for seed in 0..3 {
        let gru = GruCell::<f64>::new(ni, nh, &mut seeded(seed)).unwrap();
        let mut rng = seeded(seed + 50);
        let x = normal_vec(ni * nb, &mut rng);
        let prev = normal_vec(nh * nb, &mut rng);
        let d_next = normal_vec(nh * nb, &mut rng);
        let zero = vec![0.0; nh * nb];
        let out = |gru: &GruCell<f64>, prev: &[f64]| {
            (
                forward(gru, &x, prev, nb).0,
                forward(&reset_before_like(gru), &x, prev, nb).0,
            )
        };

        // In general (0 < r < 1, h != 0) they differ.
        let (a, b) = out(&gru, &prev);
        assert!(max_diff(&a, &b) > 1e-3, "seed {seed}");
        // h_{t-1} = 0 alone is not enough: PyTorch's n sees r * b_hn, the other b_hn.
        let (a, b) = out(&gru, &zero);
        assert!(max_diff(&a, &b) > 1e-3, "seed {seed}");
        // h_{t-1} = 0 and b_hn = 0: both n are tanh(W_in x + b_in).
        let mut no_bhn = gru.clone();
        no_bhn
            .params_mut()
            .get_mut("bias_hh")
            .unwrap()
            .gate_mut(2)
            .fill(0.0);
        let (a, b) = out(&no_bhn, &zero);
        assert!(max_diff(&a, &b) < 1e-12, "seed {seed}");
        // Likewise without biases at all.
        let mut nobias = GruCell::<f64>::zeros(ni, nh, false).unwrap();
        nobias
            .params_mut()
            .set("weight_ih", gru.params().get("weight_ih").unwrap().data())
            .unwrap();
        nobias
            .params_mut()
            .set("weight_hh", gru.params().get("weight_hh").unwrap().data())
            .unwrap();
        let (a, b) = out(&nobias, &zero);
        assert!(max_diff(&a, &b) < 1e-12, "seed {seed}");

        // r = 1 exactly (the r block of b_ih saturated): r * (W_hn h + b_hn) = W_hn (r * h) + b_hn,
        // so outputs and every gradient agree, on any h_{t-1}. This ties the general step's backward
        // to the gated one.
        let mut open = gru.clone();
        open.params_mut()
            .get_mut("bias_ih")
            .unwrap()
            .gate_mut(0)
            .fill(50.0);
        let cho = reset_before_like(&open);
        let (a, b) = (
            forward(&open, &x, &prev, nb).0,
            forward(&cho, &x, &prev, nb).0,
        );
        assert!(max_diff(&a, &b) < 1e-12, "seed {seed}");
        let (dx_a, dp_a, g_a) = backward(&open, &x, &prev, &d_next, nb);
        let (dx_b, dp_b, g_b) = backward(&cho, &x, &prev, &d_next, nb);
        assert!(max_diff(&dx_a, &dx_b) < 1e-12, "seed {seed}");
        assert!(max_diff(&dp_a, &dp_b) < 1e-12, "seed {seed}");
        for (p, q) in g_a.iter().zip(g_b.iter()) {
            assert!(
                max_diff(p.data(), q.data()) < 1e-12,
                "{} seed {seed}",
                p.name()
            );
        }
        // ... and with r < 1 the gradients differ too.
        let (dx_a, _, _) = backward(&gru, &x, &prev, &d_next, nb);
        let (dx_b, _, _) = backward(&reset_before_like(&gru), &x, &prev, &d_next, nb);
        assert!(max_diff(&dx_a, &dx_b) > 1e-4, "seed {seed}");
    }
}

#[test]
fn f32_and_f64_agree_to_f32_precision() {
    fn close(a: &[f32], b: &[f64], what: &str) {
        assert_eq!(a.len(), b.len(), "{what}");
        for (k, (&a, &b)) in a.iter().zip(b).enumerate() {
            assert!(
                (a as f64 - b).abs() <= 1e-4 * b.abs().max(1.0),
                "{what}[{k}]: f32 {a} vs f64 {b}"
            );
        }
    }
    fn agree(c64: &dyn Cell<f64>, c32: &dyn Cell<f32>, seed: u64) {
        let (ni, nh, nb) = (c64.input_size(), c64.hidden_size(), 3);
        let to32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
        let mut rng = seeded(seed + 100);
        let x = normal_vec(ni * nb, &mut rng);
        let prev = normal_vec(nh * nb, &mut rng);
        let d_next = normal_vec(nh * nb, &mut rng);
        let (x32, prev32, d32) = (to32(&x), to32(&prev), to32(&d_next));
        let mode = c64.mode();
        close(
            &forward(c32, &x32, &prev32, nb).0,
            &forward(c64, &x, &prev, nb).0,
            &format!("{mode} next"),
        );
        let (dx32, dp32, g32) = backward(c32, &x32, &prev32, &d32, nb);
        let (dx64, dp64, g64) = backward(c64, &x, &prev, &d_next, nb);
        close(&dx32, &dx64, &format!("{mode} d_x"));
        close(&dp32, &dp64, &format!("{mode} d_prev"));
        for (a, b) in g32.iter().zip(g64.iter()) {
            close(a.data(), b.data(), &format!("{mode} {}", b.name()));
        }
    }
    let (ni, nh) = (5, 7);
    for seed in 0..4 {
        for bias in [true, false] {
            let g64 = GruCell::<f64>::with_bias(ni, nh, bias, &mut seeded(seed)).unwrap();
            let mut g32 = GruCell::<f32>::zeros(ni, nh, bias).unwrap();
            copy_params(g64.params(), g32.params_mut());
            agree(&g64, &g32, seed);
            let c64 =
                GruResetBeforeCell::<f64>::with_bias(ni, nh, bias, &mut seeded(seed)).unwrap();
            let mut c32 = GruResetBeforeCell::<f32>::zeros(ni, nh, bias).unwrap();
            copy_params(c64.params(), c32.params_mut());
            agree(&c64, &c32, seed);
        }
    }
}

#[test]
fn zero_sizes_are_refused() {
    let zs = |what| CellError::ZeroSize { what };
    assert_eq!(
        GruCell::<f32>::new(0, 3, &mut seeded(0)),
        Err(zs("input_size"))
    );
    assert_eq!(
        GruCell::<f32>::new(3, 0, &mut seeded(0)),
        Err(zs("hidden_size"))
    );
    assert_eq!(GruCell::<f64>::zeros(0, 0, false), Err(zs("input_size")));
    assert_eq!(
        GruResetBeforeCell::<f32>::new(0, 3, &mut seeded(0)),
        Err(zs("input_size"))
    );
    assert_eq!(
        GruResetBeforeCell::<f32>::with_bias(3, 0, false, &mut seeded(0)),
        Err(zs("hidden_size"))
    );
    assert_eq!(
        GruResetBeforeCell::<f64>::zeros(2, 0, true),
        Err(zs("hidden_size"))
    );
}

#[test]
fn shapes_names_modes_forms_and_default_init() {
    let gru = GruCell::<f64>::new(10, 16, &mut seeded(9)).unwrap();
    let cho = GruResetBeforeCell::<f64>::new(10, 16, &mut seeded(9)).unwrap();
    assert_eq!(gru.params(), cho.params(), "same names, shapes and draws");
    assert_eq!((Cell::mode(&gru), cho.mode()), ("GRU", "GRU_RESET_BEFORE"));
    assert!(matches!(cho.form(), StepForm::General(_)));
    let StepForm::Gated(g) = gru.form() else {
        panic!("GRU is gated")
    };
    assert_eq!(g.weights().gates(), 3);
    assert!(!g.d_gh_is_d_gi(), "the reset gate scales gh's n block");
    assert_eq!(
        (
            Cell::state_size(&gru),
            Cell::cache_size(&gru),
            cho.state_size(),
            cho.cache_size()
        ),
        (16, 64, 16, 48)
    );
    assert_eq!(
        (cho.scratch_size(3), cho.step_scratch_size(3)),
        (7 * 16 * 3, 7 * 16 * 3)
    );
    let shapes: Vec<(&str, &[usize])> =
        gru.params().iter().map(|p| (p.name(), p.shape())).collect();
    assert_eq!(
        shapes,
        [
            ("weight_ih", &[48, 10][..]),
            ("weight_hh", &[48, 16][..]),
            ("bias_ih", &[48][..]),
            ("bias_hh", &[48][..])
        ]
    );
    for p in gru.params().iter() {
        assert_eq!(p.gates(), 3);
        assert!(p.data().iter().all(|x| x.abs() <= 0.25), "{}", p.name());
        assert!(p.data().iter().any(|x| x.abs() > 0.2), "{}", p.name());
    }
    for nobias in [
        GruCell::<f32>::with_bias(2, 3, false, &mut seeded(0))
            .unwrap()
            .params()
            .clone(),
        GruResetBeforeCell::<f32>::with_bias(2, 3, false, &mut seeded(0))
            .unwrap()
            .params()
            .clone(),
    ] {
        assert_eq!(
            nobias.names().collect::<Vec<_>>(),
            ["weight_ih", "weight_hh"]
        );
    }
}

#[test]
fn backward_overwrites_its_outputs_and_accumulates_grads() {
    // d_x and d_prev are written whatever they held (NaN in `backward`); param grads add up.
    let (ni, nh, nb) = (3, 4, 2);
    let cells: [Box<dyn Cell<f64>>; 2] = [
        Box::new(GruCell::<f64>::new(ni, nh, &mut seeded(1)).unwrap()),
        Box::new(GruResetBeforeCell::<f64>::new(ni, nh, &mut seeded(1)).unwrap()),
    ];
    for cell in &cells {
        let mut rng = seeded(2);
        let x = normal_vec(ni * nb, &mut rng);
        let prev = normal_vec(nh * nb, &mut rng);
        let d_next = normal_vec(nh * nb, &mut rng);
        let (d_x, d_prev, once) = backward(cell.as_ref(), &x, &prev, &d_next, nb);
        assert!(
            d_x.iter().chain(&d_prev).all(|v| v.is_finite()),
            "{}",
            cell.mode()
        );
        let (_, cache) = forward(cell.as_ref(), &x, &prev, nb);
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
        assert_eq!((dx, dp), (d_x, d_prev), "{}", cell.mode());
        for (twice, once) in grads.iter().zip(once.iter()) {
            let doubled: Vec<f64> = once.data().iter().map(|v| 2.0 * v).collect();
            assert!(
                max_diff(twice.data(), &doubled) < 1e-12,
                "{} {}",
                cell.mode(),
                once.name()
            );
        }
    }
}

#[test]
fn has_bias_reports_the_option() {
    for bias in [true, false] {
        assert_eq!(GruCell::<f32>::zeros(2, 3, bias).unwrap().has_bias(), bias);
        assert_eq!(
            GruResetBeforeCell::<f32>::zeros(2, 3, bias)
                .unwrap()
                .has_bias(),
            bias
        );
        let n = if bias { 4 } else { 2 };
        assert_eq!(GruCell::<f32>::zeros(2, 3, bias).unwrap().params().len(), n);
    }
}
