use proptest::prelude::*;
use rnnzoo_cell::gradcheck::normal_vec;
use rnnzoo_cell::{Cell, CellError, CellExt, GeneralStep, StepForm, seeded};

use super::*;
use crate::PeepholeLstmCell;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn step_gradients_match_finite_differences(
        input in 1usize..=5, hidden in 1usize..=5, batch in 1usize..=3,
        bias in any::<bool>(), seed in any::<u64>(),
    ) {
        let mut cell = PeepholeLstmCell::<f64>::with_bias(input, hidden, bias, &mut seeded(seed)).unwrap();
        let what = format!("I={input} H={hidden} B={batch} bias={bias} seed={seed}");
        let report = check_step(&mut cell, batch, seed ^ 7, &what);
        prop_assert_eq!(report.groups.len(), if bias { 9 } else { 7 });
        prop_assert_eq!(report.group("weight_co").unwrap().checked, hidden);
        prop_assert_eq!(report.group("state").unwrap().checked, 2 * hidden * batch);
    }
}

#[test]
fn forward_matches_the_equations_as_scalar_loops() {
    let (ni, nh, nb) = (3, 2, 2);
    let mut cell = PeepholeLstmCell::<f64>::zeros(ni, nh, true).unwrap();
    let p = fill_params(&mut cell);
    let get = |n: &str| p.iter().find(|(k, _)| k == n).unwrap().1.clone();
    let (w_ih, w_hh, b_ih, b_hh) = (
        get("weight_ih"),
        get("weight_hh"),
        get("bias_ih"),
        get("bias_hh"),
    );
    let (pi, pf, po) = (get("weight_ci"), get("weight_cf"), get("weight_co"));
    let x = fill(ni * nb, 5.5);
    let prev = fill(2 * nh * nb, 7.1);
    let (next, _) = forward(&cell, &x, &prev, nb);
    for b in 0..nb {
        let (xb, hb) = (&x[b * ni..(b + 1) * ni], &prev[b * 2 * nh..b * 2 * nh + nh]);
        let cb = &prev[b * 2 * nh + nh..(b + 1) * 2 * nh];
        let a =
            |r: usize| dot_row(&w_ih, ni, r, xb) + b_ih[r] + dot_row(&w_hh, nh, r, hb) + b_hh[r];
        for j in 0..nh {
            let i = sig(a(j) + pi[j] * cb[j]);
            let f = sig(a(nh + j) + pf[j] * cb[j]);
            let g = a(2 * nh + j).tanh();
            let c = f * cb[j] + i * g;
            let o = sig(a(3 * nh + j) + po[j] * c);
            assert_near(next[b * 2 * nh + j], o * c.tanh(), "h");
            assert_near(next[b * 2 * nh + nh + j], c, "c");
        }
    }
}

#[test]
fn zero_peepholes_are_pytorchs_lstm_and_each_peephole_acts_where_the_paper_puts_it() {
    let (ni, nh, nb) = (3, 4, 2);
    let cell = PeepholeLstmCell::<f64>::new(ni, nh, &mut seeded(1)).unwrap();
    let mut rng = seeded(2);
    let x = normal_vec(ni * nb, &mut rng);
    let prev = normal_vec(2 * nh * nb, &mut rng);
    let mut plain = cell.clone();
    for name in crate::peephole::PEEPHOLE_NAMES {
        plain.params_mut().set(name, &[0.0; 4]).unwrap();
    }
    // Zero peepholes: the LSTM equations with PyTorch's gate order i, f, g, o.
    let (next, cache) = forward(&plain, &x, &prev, nb);
    let p = plain.params();
    let (w_ih, w_hh) = (
        p.get("weight_ih").unwrap().data(),
        p.get("weight_hh").unwrap().data(),
    );
    let (b_ih, b_hh) = (
        p.get("bias_ih").unwrap().data(),
        p.get("bias_hh").unwrap().data(),
    );
    for b in 0..nb {
        let (xb, hb) = (&x[b * ni..(b + 1) * ni], &prev[b * 2 * nh..b * 2 * nh + nh]);
        let a = |r: usize| dot_row(w_ih, ni, r, xb) + b_ih[r] + dot_row(w_hh, nh, r, hb) + b_hh[r];
        for j in 0..nh {
            let (i, f, g, o) = (
                sig(a(j)),
                sig(a(nh + j)),
                a(2 * nh + j).tanh(),
                sig(a(3 * nh + j)),
            );
            let c = f * prev[b * 2 * nh + nh + j] + i * g;
            assert_near(next[b * 2 * nh + j], o * c.tanh(), "h");
            assert_near(cache[b * 6 * nh + 4 * nh + j], c, "cached c_t");
        }
    }
    // weight_ci moves i only, weight_cf f only, weight_co o only (cache blocks 0, 1, 3); g is
    // never touched.
    for (k, name) in crate::peephole::PEEPHOLE_NAMES.iter().enumerate() {
        let mut one = plain.clone();
        one.params_mut().set(name, &[2.0; 4]).unwrap();
        let (_, c1) = forward(&one, &x, &prev, nb);
        let block = [0, 1, 3][k];
        for blk in 0..4 {
            let moved = (0..nb).any(|b| {
                (0..nh).any(|j| {
                    (c1[b * 6 * nh + blk * nh + j] - cache[b * 6 * nh + blk * nh + j]).abs() > 1e-9
                })
            });
            assert_eq!(moved, blk == block, "{name} block {blk}");
        }
    }
}

#[test]
fn backward_overwrites_outputs_and_accumulates() {
    let cell = PeepholeLstmCell::<f64>::new(3, 4, &mut seeded(3)).unwrap();
    let prev = normal_vec(2 * 4 * 3, &mut seeded(4));
    backward_overwrites_outputs_and_adds_grads(&cell, &prev, 5);
}

#[test]
fn f32_agrees_with_f64() {
    let c64 = PeepholeLstmCell::<f64>::new(5, 7, &mut seeded(6)).unwrap();
    let mut c32 = PeepholeLstmCell::<f32>::zeros(5, 7, true).unwrap();
    for p in c64.params().iter() {
        let v: Vec<f32> = p.data().iter().map(|&x| x as f32).collect();
        c32.params_mut().set(p.name(), &v).unwrap();
    }
    let mut rng = seeded(7);
    let x = normal_vec(15, &mut rng);
    let prev = normal_vec(42, &mut rng);
    let to32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<_>>();
    let (a, _) = forward(&c64, &x, &prev, 3);
    let (b, _) = forward(&c32, &to32(&x), &to32(&prev), 3);
    for (u, v) in a.iter().zip(&b) {
        assert!((u - *v as f64).abs() < 1e-5, "{u} vs {v}");
    }
}

#[test]
fn shapes_names_form_and_errors() {
    let cell = PeepholeLstmCell::<f64>::new(10, 16, &mut seeded(9)).unwrap();
    assert!(matches!(cell.form(), StepForm::General(_)));
    assert_eq!(
        (
            cell.cache_size(),
            cell.scratch_size(3),
            cell.step_scratch_size(3)
        ),
        (96, 192, 192)
    );
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
            ("bias_hh", &[64][..]),
            ("weight_ci", &[16][..]),
            ("weight_cf", &[16][..]),
            ("weight_co", &[16][..]),
        ]
    );
    for p in cell.params().iter() {
        assert!(p.data().iter().all(|v| v.abs() <= 0.25), "{}", p.name());
        assert!(p.data().iter().any(|v| v.abs() > 0.2), "{}", p.name());
    }
    assert!(cell.has_bias());
    assert!(
        !PeepholeLstmCell::<f32>::zeros(1, 1, false)
            .unwrap()
            .has_bias()
    );
    let zs = |what| Err(CellError::ZeroSize { what });
    assert_eq!(
        PeepholeLstmCell::<f32>::new(0, 3, &mut seeded(0)),
        zs("input_size")
    );
    assert_eq!(
        PeepholeLstmCell::<f32>::zeros(3, 0, true),
        zs("hidden_size")
    );
}
