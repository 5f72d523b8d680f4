use proptest::prelude::*;
use rnnzoo_cell::gradcheck::normal_vec;
use rnnzoo_cell::{Cell, CellError, CellExt, GeneralStep, StepForm, seeded};

use super::*;
use crate::LayerNormLstmCell;

/// A cell with every parameter drawn (the gains too, so that their gradients are exercised away
/// from 1).
fn random_cell(
    input: usize,
    hidden: usize,
    bias: bool,
    eps: f64,
    seed: u64,
) -> LayerNormLstmCell<f64> {
    let mut cell = LayerNormLstmCell::<f64>::zeros(input, hidden, bias, eps).unwrap();
    let mut rng = seeded(seed);
    for p in cell.params_mut().iter_mut() {
        let v = normal_vec(p.len(), &mut rng);
        p.data_mut().copy_from_slice(&v);
    }
    cell
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn step_gradients_match_finite_differences(
        input in 1usize..=5, hidden in 1usize..=5, batch in 1usize..=3,
        bias in any::<bool>(), eps in prop::sample::select(vec![1e-5, 1e-3, 0.1]), seed in any::<u64>(),
    ) {
        let mut cell = random_cell(input, hidden, bias, eps, seed);
        let what = format!("I={input} H={hidden} B={batch} bias={bias} eps={eps} seed={seed}");
        let report = check_step(&mut cell, batch, seed ^ 11, &what);
        prop_assert_eq!(report.groups.len(), if bias { 10 } else { 7 });
        prop_assert_eq!(report.group("ln_weight_c").unwrap().checked, hidden);
        // And with the default initialisation (gains 1, ln_bias_c 0).
        let mut fresh = LayerNormLstmCell::<f64>::with_options(input, hidden, bias, eps, &mut seeded(seed)).unwrap();
        check_step(&mut fresh, batch, seed ^ 13, &what);
    }
}

fn ln(z: &[f64], gain: &[f64], shift: Option<&[f64]>, eps: f64) -> Vec<f64> {
    let n = z.len() as f64;
    let mean = z.iter().sum::<f64>() / n;
    let var = z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (0..z.len())
        .map(|k| gain[k] * (z[k] - mean) / (var + eps).sqrt() + shift.map_or(0.0, |s| s[k]))
        .collect()
}

#[test]
fn forward_matches_the_equations_as_scalar_loops() {
    let (ni, nh, nb, eps) = (3, 2, 2, 1e-3);
    for bias in [true, false] {
        let mut cell = LayerNormLstmCell::<f64>::zeros(ni, nh, bias, eps).unwrap();
        let p = fill_params(&mut cell);
        let get = |n: &str| p.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        let (w_ih, w_hh) = (get("weight_ih").unwrap(), get("weight_hh").unwrap());
        let (g_ih, g_hh, g_c) = (
            get("ln_weight_ih").unwrap(),
            get("ln_weight_hh").unwrap(),
            get("ln_weight_c").unwrap(),
        );
        let (b_ih, b_hh, b_c) = (get("bias_ih"), get("bias_hh"), get("ln_bias_c"));
        let x = fill(ni * nb, 5.5);
        let prev = fill(2 * nh * nb, 7.1);
        let (next, _) = forward(&cell, &x, &prev, nb);
        for b in 0..nb {
            let (xb, hb) = (&x[b * ni..(b + 1) * ni], &prev[b * 2 * nh..b * 2 * nh + nh]);
            let cb = &prev[b * 2 * nh + nh..(b + 1) * 2 * nh];
            let u: Vec<f64> = (0..4 * nh).map(|r| dot_row(&w_ih, ni, r, xb)).collect();
            let v: Vec<f64> = (0..4 * nh).map(|r| dot_row(&w_hh, nh, r, hb)).collect();
            let lu = ln(&u, &g_ih, b_ih.as_deref(), eps);
            let lv = ln(&v, &g_hh, b_hh.as_deref(), eps);
            let a: Vec<f64> = (0..4 * nh).map(|r| lu[r] + lv[r]).collect();
            let c: Vec<f64> = (0..nh)
                .map(|j| sig(a[nh + j]) * cb[j] + sig(a[j]) * a[2 * nh + j].tanh())
                .collect();
            let lc = ln(&c, &g_c, b_c.as_deref(), eps);
            for j in 0..nh {
                assert_near(next[b * 2 * nh + j], sig(a[3 * nh + j]) * lc[j].tanh(), "h");
                // The unnormalised c_t is carried.
                assert_near(next[b * 2 * nh + nh + j], c[j], "c");
            }
        }
    }
}

#[test]
fn samples_are_normalised_apart_and_the_input_scale_drops_out() {
    // LN(W_ih x) is invariant to the scale of x (eps aside), per sample: scaling one sample's
    // input changes nothing, in that sample or the other.
    let (ni, nh) = (4, 3);
    let cell = LayerNormLstmCell::<f64>::with_options(ni, nh, true, 1e-12, &mut seeded(1)).unwrap();
    let mut rng = seeded(2);
    let x = normal_vec(ni * 2, &mut rng);
    let prev = normal_vec(2 * nh * 2, &mut rng);
    let mut scaled = x.clone();
    scaled[..ni].iter_mut().for_each(|v| *v *= 50.0);
    let (a, _) = forward(&cell, &x, &prev, 2);
    let (b, _) = forward(&cell, &scaled, &prev, 2);
    for (u, v) in a.iter().zip(&b) {
        assert!((u - v).abs() < 1e-9, "{u} vs {v}");
    }
}

#[test]
fn backward_overwrites_outputs_and_accumulates() {
    let cell = random_cell(3, 4, true, 1e-5, 3);
    let prev = normal_vec(2 * 4 * 3, &mut seeded(4));
    backward_overwrites_outputs_and_adds_grads(&cell, &prev, 5);
}

#[test]
fn shapes_names_init_form_and_errors() {
    let cell = LayerNormLstmCell::<f64>::new(10, 16, &mut seeded(9)).unwrap();
    assert!(matches!(cell.form(), StepForm::General(_)));
    assert_eq!(
        (
            cell.cache_size(),
            cell.scratch_size(2),
            cell.step_scratch_size(2)
        ),
        (227, 288, 288)
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
            ("ln_weight_ih", &[64][..]),
            ("ln_weight_hh", &[64][..]),
            ("ln_weight_c", &[16][..]),
            ("ln_bias_c", &[16][..]),
        ]
    );
    let p = cell.params();
    for name in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] {
        let d = p.get(name).unwrap().data();
        assert!(
            d.iter().all(|v| v.abs() <= 0.25) && d.iter().any(|v| v.abs() > 0.2),
            "{name}"
        );
    }
    for name in ["ln_weight_ih", "ln_weight_hh", "ln_weight_c"] {
        assert!(
            p.get(name).unwrap().data().iter().all(|&v| v == 1.0),
            "{name}"
        );
    }
    assert!(p.get("ln_bias_c").unwrap().data().iter().all(|&v| v == 0.0));
    assert!(cell.has_bias() && (cell.eps() - 1e-5).abs() < 1e-20);
    for eps in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(LayerNormLstmCell::<f64>::zeros(2, 2, true, eps), Err(CellError::Mismatch(m)) if m.contains("eps")),
            "{eps}"
        );
    }
    assert_eq!(
        LayerNormLstmCell::<f32>::new(3, 0, &mut seeded(0)),
        Err(CellError::ZeroSize {
            what: "hidden_size"
        })
    );
}
