use proptest::prelude::*;
use rnnzoo_cell::gradcheck::normal_vec;
use rnnzoo_cell::{Cell, CellError, CellExt, GeneralStep, StepForm, seeded};

use super::*;
use crate::{ForgetGate, SlstmCell, SlstmOptions};

fn options(heads: usize, exp: bool, bias: bool) -> SlstmOptions {
    let forget = if exp {
        ForgetGate::Exp
    } else {
        ForgetGate::Sigmoid
    };
    SlstmOptions::default()
        .with_heads(heads)
        .with_forget(forget)
        .with_bias(bias)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn step_gradients_match_finite_differences(
        input in 1usize..=5, d in 1usize..=3, heads in 1usize..=3, batch in 1usize..=3,
        exp in any::<bool>(), bias in any::<bool>(), seed in any::<u64>(),
    ) {
        let hidden = d * heads;
        let mut cell = SlstmCell::<f64>::with_options(input, hidden, options(heads, exp, bias), &mut seeded(seed)).unwrap();
        let what = format!("I={input} H={hidden} heads={heads} B={batch} exp={exp} bias={bias} seed={seed}");
        let report = check_step(&mut cell, batch, seed ^ 5, &what);
        prop_assert_eq!(report.group("weight_hh").unwrap().checked, 4 * hidden * d);
        prop_assert_eq!(report.group("state").unwrap().checked, 4 * hidden * batch);
    }
}

/// The paper's equations, unstabilised and with a dense recurrent matrix built from the blocks:
/// one sample, returns `[h; c·e^m; n·e^m]`-free values `(h, c, n, m)`.
#[test]
fn forward_matches_the_equations_and_h_does_not_depend_on_the_stabiliser() {
    let (ni, heads, d, nb) = (3, 2, 2, 2);
    let nh = heads * d;
    for exp in [false, true] {
        let mut cell = SlstmCell::<f64>::zeros(ni, nh, options(heads, exp, true)).unwrap();
        let p = fill_params(&mut cell);
        let get = |n: &str| p.iter().find(|(k, _)| k == n).unwrap().1.clone();
        let (w_ih, r, b_ih, b_hh) = (
            get("weight_ih"),
            get("weight_hh"),
            get("bias_ih"),
            get("bias_hh"),
        );
        let x = fill(ni * nb, 5.5);
        let mut prev = fill(4 * nh * nb, 7.1);
        for b in 0..nb {
            for j in 0..nh {
                prev[b * 4 * nh + 2 * nh + j] = 0.5 + prev[b * 4 * nh + 2 * nh + j].abs();
                // n > 0
            }
        }
        let (next, _) = forward(&cell, &x, &prev, nb);
        for b in 0..nb {
            let col = &prev[b * 4 * nh..(b + 1) * 4 * nh];
            let (hb, cb, nbv, mb) = (
                &col[..nh],
                &col[nh..2 * nh],
                &col[2 * nh..3 * nh],
                &col[3 * nh..],
            );
            let xb = &x[b * ni..(b + 1) * ni];
            // Gate g, unit u = k*d + j: dense input row g*H + u; recurrent row (k*4 + g)*d + j of
            // head k's block, over head k's units.
            let pre = |g: usize, u: usize| {
                let (k, j) = (u / d, u % d);
                let row = (k * 4 + g) * d + j;
                let rec: f64 = (0..d).map(|l| r[row * d + l] * hb[k * d + l]).sum();
                dot_row(&w_ih, ni, g * nh + u, xb) + b_ih[g * nh + u] + b_hh[g * nh + u] + rec
            };
            for u in 0..nh {
                let (it, ft, zt, ot) = (pre(0, u), pre(1, u), pre(2, u), pre(3, u));
                // Unstabilised, with the previous state's true values c e^m, n e^m.
                let i = it.exp();
                let f = if exp { ft.exp() } else { sig(ft) };
                let (c_true, n_true) = (cb[u] * mb[u].exp(), nbv[u] * mb[u].exp());
                let c = f * c_true + i * zt.tanh();
                let n = f * n_true + i;
                let h = sig(ot) * c / n;
                let at = |k: usize| next[b * 4 * nh + k * nh + u];
                assert!((at(0) - h).abs() < 1e-12, "h: {} vs {h}", at(0));
                let m = (f.ln() + mb[u]).max(it);
                assert_near(at(3), m, "m");
                assert!((at(1) * m.exp() - c).abs() < 1e-10, "c");
                assert!((at(2) * m.exp() - n).abs() < 1e-10, "n");
            }
        }
    }
}

#[test]
fn one_head_is_gated_and_agrees_with_the_general_step_on_a_block_diagonal_matrix() {
    // Two heads of 2 against one head whose dense R holds the two blocks and zeros elsewhere.
    let (ni, nh, nb) = (3, 4, 3);
    let two =
        SlstmCell::<f64>::with_options(ni, nh, options(2, false, true), &mut seeded(1)).unwrap();
    let mut one = SlstmCell::<f64>::zeros(ni, nh, options(1, false, true)).unwrap();
    assert!(matches!(one.form(), StepForm::Gated(_)) && matches!(two.form(), StepForm::General(_)));
    for name in ["weight_ih", "bias_ih", "bias_hh"] {
        one.params_mut()
            .set(name, two.params().get(name).unwrap().data())
            .unwrap();
    }
    let rb = two.params().get("weight_hh").unwrap().data().to_vec();
    let mut dense = vec![0.0; 4 * nh * nh];
    for k in 0..2 {
        for g in 0..4 {
            for j in 0..2 {
                for l in 0..2 {
                    dense[(g * nh + k * 2 + j) * nh + k * 2 + l] =
                        rb[((k * 4 + g) * 2 + j) * 2 + l];
                }
            }
        }
    }
    one.params_mut().set("weight_hh", &dense).unwrap();
    let mut rng = seeded(2);
    let x = normal_vec(ni * nb, &mut rng);
    let mut prev = normal_vec(4 * nh * nb, &mut rng);
    for b in 0..nb {
        prev[b * 4 * nh + 2 * nh..b * 4 * nh + 3 * nh]
            .iter_mut()
            .for_each(|v| *v = v.abs() + 0.2);
    }
    let d_next = normal_vec(prev.len(), &mut rng);
    let (n1, _) = forward(&one, &x, &prev, nb);
    let (n2, _) = forward(&two, &x, &prev, nb);
    for (a, b) in n1.iter().zip(&n2) {
        assert!((a - b).abs() < 1e-12);
    }
    let (mut g1, mut g2) = (one.params().zeros_like(), two.params().zeros_like());
    let (dx1, dp1) = backward(&one, &x, &prev, &d_next, nb, &mut g1, f64::NAN);
    let (dx2, dp2) = backward(&two, &x, &prev, &d_next, nb, &mut g2, f64::NAN);
    for (a, b) in dx1.iter().zip(&dx2).chain(dp1.iter().zip(&dp2)) {
        assert!((a - b).abs() < 1e-12);
    }
    for name in ["weight_ih", "bias_ih", "bias_hh"] {
        let (a, b) = (g1.get(name).unwrap().data(), g2.get(name).unwrap().data());
        assert!(
            a.iter().zip(b).all(|(u, v)| (u - v).abs() < 1e-12),
            "{name}"
        );
    }
    let gd = g1.get("weight_hh").unwrap().data();
    let gb = g2.get("weight_hh").unwrap().data();
    for k in 0..2 {
        for g in 0..4 {
            for j in 0..2 {
                for l in 0..2 {
                    let (a, b) = (
                        gd[(g * nh + k * 2 + j) * nh + k * 2 + l],
                        gb[((k * 4 + g) * 2 + j) * 2 + l],
                    );
                    assert!((a - b).abs() < 1e-12);
                }
            }
        }
    }
}

#[test]
fn the_stabilised_gates_never_overflow() {
    // Pre-activations of hundreds: exp would overflow unstabilised; every state stays finite.
    let mut cell = SlstmCell::<f32>::new(2, 3, &mut seeded(3)).unwrap();
    cell.params_mut().set("bias_ih", &[300.0; 12]).unwrap();
    let x = [1.0f32, -1.0];
    let mut prev = vec![0.0f32; 12];
    for _ in 0..5 {
        let (next, _) = forward(&cell, &x, &prev, 1);
        assert!(next.iter().all(|v| v.is_finite()), "{next:?}");
        prev = next;
    }
}

#[test]
fn backward_overwrites_outputs_and_accumulates() {
    for heads in [1, 2] {
        let cell =
            SlstmCell::<f64>::with_options(3, 4, options(heads, false, true), &mut seeded(3))
                .unwrap();
        let mut prev = normal_vec(4 * 4 * 3, &mut seeded(4));
        prev.iter_mut().for_each(|v| *v = v.abs() + 0.1);
        backward_overwrites_outputs_and_adds_grads(&cell, &prev, 5);
    }
}

#[test]
fn shapes_names_form_options_and_errors() {
    let cell =
        SlstmCell::<f64>::with_options(10, 16, options(4, true, true), &mut seeded(9)).unwrap();
    assert_eq!(
        (cell.heads(), cell.forget(), cell.has_bias()),
        (4, ForgetGate::Exp, true)
    );
    assert_eq!(
        (
            cell.state_size(),
            cell.cache_size(),
            cell.scratch_size(2),
            cell.step_scratch_size(2)
        ),
        (64, 128, 256, 256)
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
            ("weight_hh", &[64, 4][..], 16),
            ("bias_ih", &[64][..], 4),
            ("bias_hh", &[64][..], 4),
        ]
    );
    for p in cell.params().iter() {
        assert!(
            p.data().iter().all(|v| v.abs() <= 0.25) && p.data().iter().any(|v| v.abs() > 0.2),
            "{}",
            p.name()
        );
    }
    let one = SlstmCell::<f64>::new(10, 16, &mut seeded(9)).unwrap();
    assert_eq!(one.params().get("weight_hh").unwrap().shape(), &[64, 16]);
    assert_eq!(
        (one.heads(), one.forget(), ForgetGate::Exp.name()),
        (1, ForgetGate::Sigmoid, "exp")
    );
    assert!(
        !SlstmCell::<f32>::zeros(2, 2, options(1, false, false))
            .unwrap()
            .has_bias()
    );
    assert_eq!(
        SlstmCell::<f32>::zeros(2, 4, options(0, false, true)),
        Err(CellError::ZeroSize { what: "heads" })
    );
    for (hidden, heads) in [(3, 2), (4, 3), (1, 2)] {
        let e = SlstmCell::<f32>::zeros(2, hidden, options(heads, false, true)).unwrap_err();
        assert!(
            matches!(&e, CellError::Mismatch(m) if m.contains(&format!("{heads} heads do not divide the hidden size {hidden}"))),
            "{e}"
        );
    }
    assert_eq!(
        SlstmCell::<f32>::new(0, 4, &mut seeded(0)),
        Err(CellError::ZeroSize { what: "input_size" })
    );
}
