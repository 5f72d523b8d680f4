use super::*;
use proptest::prelude::*;
use rnnzoo_cell::gradcheck::{self, normal_vec};
use rnnzoo_cell::testing::{backward_step as backward, forward_step as forward};
use rnnzoo_cell::{Cell, CellError, CellExt, GeneralStep, StepForm, StepForward, seeded};

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

/// Distinct, deterministic values.
fn fill(n: usize, k: f64) -> Vec<f64> {
    (0..n).map(|m| (m as f64 * 0.37 + k).sin() * 0.8).collect()
}

fn both(input: usize, hidden: usize, bias: bool, seed: u64) -> [Box<dyn Cell<f64>>; 2] {
    [
        Box::new(MguCell::<f64>::with_bias(input, hidden, bias, &mut seeded(seed)).unwrap()),
        Box::new(UgrnnCell::<f64>::with_bias(input, hidden, bias, &mut seeded(seed)).unwrap()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// One step of either cell against central differences: every parameter element, the input
    /// and the previous state, at random sizes, batches, seeds and with or without biases; and the
    /// samples of a batch kept apart.
    #[test]
    fn one_step_gradients_match_finite_differences(
        input in 1usize..=5,
        hidden in 1usize..=5,
        batch in 1usize..=3,
        bias in any::<bool>(),
        seed in 0u64..1000,
    ) {
        let opts = gradcheck::Options::default();
        for mut cell in both(input, hidden, bias, seed) {
            let report = gradcheck::check_cell(&mut cell, batch, seed + 1, &opts);
            prop_assert!(report.passed(), "{} {report}", cell.mode());
            prop_assert_eq!(report.groups.len(), if bias { 6 } else { 4 });
            prop_assert_eq!(report.group("state").unwrap().checked, hidden * batch);
            let columns = gradcheck::check_columns(&cell, batch.max(2), seed, &opts);
            prop_assert!(columns.passed(), "{} {columns}", cell.mode());
        }
    }
}

#[test]
fn forwards_match_the_papers_equations_written_as_scalar_loops() {
    let (ni, nh, nb) = (3, 2, 2);
    let (w_ih, w_hh, b_ih, b_hh) = (
        fill(2 * nh * ni, 0.1),
        fill(2 * nh * nh, 1.3),
        fill(2 * nh, 2.9),
        fill(2 * nh, 4.2),
    );
    let set = |cell: &mut dyn Cell<f64>| {
        let p = cell.params_mut();
        p.set("weight_ih", &w_ih).unwrap();
        p.set("weight_hh", &w_hh).unwrap();
        p.set("bias_ih", &b_ih).unwrap();
        p.set("bias_hh", &b_hh).unwrap();
    };
    let mut mgu = MguCell::<f64>::zeros(ni, nh, true).unwrap();
    let mut ugrnn = UgrnnCell::<f64>::zeros(ni, nh, true).unwrap();
    set(&mut mgu);
    set(&mut ugrnn);
    let x = fill(ni * nb, 5.5);
    let prev = fill(nh * nb, 7.1);
    let (next_mgu, cache_mgu) = forward(&mgu, &x, &prev, nb);
    let (next_ug, cache_ug) = forward(&ugrnn, &x, &prev, nb);
    for b in 0..nb {
        let hp = &prev[b * nh..(b + 1) * nh];
        let input = |row: usize| {
            b_ih[row]
                + (0..ni)
                    .map(|k| w_ih[row * ni + k] * x[b * ni + k])
                    .sum::<f64>()
        };
        let recur = |row: usize, v: &[f64]| {
            b_hh[row] + (0..nh).map(|k| w_hh[row * nh + k] * v[k]).sum::<f64>()
        };
        // MGU: f = σ(W_f [h, x] + b_f), n = tanh(W_h [f h, x] + b_h), h' = (1 - f) h + f n.
        let f: Vec<f64> = (0..nh).map(|j| sig(input(j) + recur(j, hp))).collect();
        let fh: Vec<f64> = (0..nh).map(|j| f[j] * hp[j]).collect();
        for j in 0..nh {
            let n = (input(nh + j) + recur(nh + j, &fh)).tanh();
            let want = (1.0 - f[j]) * hp[j] + f[j] * n;
            assert!(
                (next_mgu[b * nh + j] - want).abs() < 1e-12,
                "MGU h[{j}] of sample {b}"
            );
            let col = &cache_mgu[b * 2 * nh..(b + 1) * 2 * nh];
            assert!((col[j] - f[j]).abs() < 1e-12 && (col[nh + j] - n).abs() < 1e-12);
        }
        // UGRNN: g = σ(..), c = tanh(..), h' = g h + (1 - g) c; blocks g then c.
        for j in 0..nh {
            let g = sig(input(j) + recur(j, hp));
            let c = (input(nh + j) + recur(nh + j, hp)).tanh();
            let want = g * hp[j] + (1.0 - g) * c;
            assert!(
                (next_ug[b * nh + j] - want).abs() < 1e-12,
                "UGRNN h[{j}] of sample {b}"
            );
            let col = &cache_ug[b * 2 * nh..(b + 1) * 2 * nh];
            assert!((col[j] - g).abs() < 1e-12 && (col[nh + j] - c).abs() < 1e-12);
        }
    }
}

#[test]
fn gate_blocks_are_in_the_documented_order() {
    let (ni, nh, nb) = (3, 4, 2);
    let mut rng = seeded(4);
    let x = normal_vec(ni * nb, &mut rng);
    let prev = normal_vec(nh * nb, &mut rng);
    let with = |mut cell: Box<dyn Cell<f64>>, block: usize, v: f64| {
        cell.params_mut()
            .get_mut("bias_ih")
            .unwrap()
            .gate_mut(block)
            .fill(v);
        cell
    };
    let [mgu, ugrnn] = both(ni, nh, true, 3);
    // MGU, block 0 is f: shut, h' = h; open with the candidate saturated (block 1), h' = 1.
    let shut = with(mgu, 0, -50.0);
    assert!(max_diff(&forward(shut.as_ref(), &x, &prev, nb).0, &prev) < 1e-12);
    let open = with(
        with(Vec::from(both(ni, nh, true, 3)).swap_remove(0), 0, 50.0),
        1,
        50.0,
    );
    assert!(
        forward(open.as_ref(), &x, &prev, nb)
            .0
            .iter()
            .all(|h| (h - 1.0).abs() < 1e-12)
    );
    // UGRNN, block 0 is g: open (g = 1) keeps h; shut with c saturated (block 1) gives -1.
    let keep = with(ugrnn, 0, 50.0);
    assert!(max_diff(&forward(keep.as_ref(), &x, &prev, nb).0, &prev) < 1e-12);
    let replace = with(
        with(Vec::from(both(ni, nh, true, 3)).swap_remove(1), 0, -50.0),
        1,
        -50.0,
    );
    assert!(
        forward(replace.as_ref(), &x, &prev, nb)
            .0
            .iter()
            .all(|h| (h + 1.0).abs() < 1e-12)
    );
}

#[test]
fn mgu_adds_b_hn_after_the_gated_product_not_inside_it() {
    // With the gate shut on h (f ≈ 0 through b_if, h = 0), n = tanh(W_in x + b_in + b_hn): b_hn is
    // not scaled by f, as the paper's single bias b_h is not. Here f is forced to exactly 1/2
    // instead (all weights and f's biases zero), so a b_hn scaled by f would show as a factor 1/2.
    let (ni, nh) = (1, 1);
    let mut cell = MguCell::<f64>::zeros(ni, nh, true).unwrap();
    cell.params_mut().set("bias_hh", &[0.0, 0.8]).unwrap();
    let (next, cache) = forward(&cell, &[0.3], &[0.0], 1);
    assert!((cache[0] - 0.5).abs() < 1e-15);
    assert!((cache[1] - 0.8f64.tanh()).abs() < 1e-15);
    assert!((next[0] - 0.5 * 0.8f64.tanh()).abs() < 1e-15);
}

#[test]
fn backward_overwrites_its_outputs_and_accumulates_grads() {
    let (ni, nh, nb) = (3, 4, 2);
    for cell in both(ni, nh, true, 1) {
        let mut rng = seeded(2);
        let x = normal_vec(ni * nb, &mut rng);
        let prev = normal_vec(nh * nb, &mut rng);
        let d_next = normal_vec(nh * nb, &mut rng);
        let mut once = cell.params().zeros_like();
        let (dx, dp) = backward(cell.as_ref(), &x, &prev, &d_next, nb, &mut once, f64::NAN);
        assert!(
            dx.iter().chain(&dp).all(|v| v.is_finite()),
            "{}",
            cell.mode()
        );
        let mut twice = once.clone();
        let again = backward(cell.as_ref(), &x, &prev, &d_next, nb, &mut twice, 7.0);
        assert_eq!(again, (dx, dp), "{}", cell.mode());
        for (t, o) in twice.iter().zip(once.iter()) {
            let doubled: Vec<f64> = o.data().iter().map(|v| 2.0 * v).collect();
            assert!(
                max_diff(t.data(), &doubled) < 1e-12,
                "{} {}",
                cell.mode(),
                o.name()
            );
        }
    }
}

#[test]
fn shapes_names_modes_forms_and_default_init() {
    let mgu = MguCell::<f64>::new(10, 16, &mut seeded(9)).unwrap();
    let ugrnn = UgrnnCell::<f64>::new(10, 16, &mut seeded(9)).unwrap();
    assert_eq!(
        mgu.params(),
        Cell::params(&ugrnn),
        "same names, shapes and draws"
    );
    assert_eq!((mgu.mode(), Cell::mode(&ugrnn)), ("MGU", "UGRNN"));
    assert!(matches!(mgu.form(), StepForm::General(_)));
    let StepForm::Gated(g) = ugrnn.form() else {
        panic!("UGRNN is gated")
    };
    assert_eq!(g.weights().gates(), 2);
    assert!(g.d_gh_is_d_gi());
    assert_eq!((mgu.state_size(), mgu.cache_size()), (16, 32));
    assert_eq!(
        (Cell::state_size(&ugrnn), Cell::cache_size(&ugrnn)),
        (16, 32)
    );
    assert_eq!(
        (mgu.scratch_size(3), mgu.step_scratch_size(3)),
        (5 * 16 * 3, 5 * 16 * 3)
    );
    let shapes: Vec<(&str, &[usize])> =
        mgu.params().iter().map(|p| (p.name(), p.shape())).collect();
    assert_eq!(
        shapes,
        [
            ("weight_ih", &[32, 10][..]),
            ("weight_hh", &[32, 16][..]),
            ("bias_ih", &[32][..]),
            ("bias_hh", &[32][..])
        ]
    );
    for p in mgu.params().iter() {
        assert_eq!(p.gates(), 2);
        assert!(p.data().iter().all(|x| x.abs() <= 0.25), "{}", p.name());
        assert!(p.data().iter().any(|x| x.abs() > 0.2), "{}", p.name());
    }
    for bias in [true, false] {
        assert_eq!(MguCell::<f32>::zeros(2, 3, bias).unwrap().has_bias(), bias);
        assert_eq!(
            UgrnnCell::<f32>::zeros(2, 3, bias).unwrap().has_bias(),
            bias
        );
    }
}

#[test]
fn ugrnn_gate_bias_sets_the_effective_initial_bias_and_refuses_non_finite_values() {
    let cell = UgrnnCell::<f64>::with_gate_bias(2, 3, 1.0, &mut seeded(5)).unwrap();
    let plain = UgrnnCell::<f64>::new(2, 3, &mut seeded(5)).unwrap();
    let p = Cell::params(&cell);
    assert_eq!(p.get("bias_ih").unwrap().gate(0), &[1.0; 3]);
    assert_eq!(p.get("bias_hh").unwrap().gate(0), &[0.0; 3]);
    // Everything else is the plain draw.
    let q = Cell::params(&plain);
    assert_eq!(
        p.get("bias_ih").unwrap().gate(1),
        q.get("bias_ih").unwrap().gate(1)
    );
    assert_eq!(p.get("weight_hh"), q.get("weight_hh"));
    for bad in [f64::NAN, f64::INFINITY] {
        assert!(matches!(
            UgrnnCell::<f64>::with_gate_bias(2, 3, bad, &mut seeded(5)),
            Err(CellError::BadParam { name, .. }) if name == "gate_bias"
        ));
    }
}

#[test]
fn zero_sizes_are_refused() {
    let zs = |what| CellError::ZeroSize { what };
    assert_eq!(
        MguCell::<f32>::new(0, 3, &mut seeded(0)),
        Err(zs("input_size"))
    );
    assert_eq!(MguCell::<f64>::zeros(2, 0, true), Err(zs("hidden_size")));
    assert_eq!(
        UgrnnCell::<f32>::new(0, 3, &mut seeded(0)),
        Err(zs("input_size"))
    );
    assert_eq!(
        UgrnnCell::<f64>::with_bias(2, 0, false, &mut seeded(0)),
        Err(zs("hidden_size"))
    );
    assert_eq!(
        UgrnnCell::<f64>::with_gate_bias(2, 0, 1.0, &mut seeded(0)),
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
    let step32 = |cell: &dyn Cell<f32>| {
        let mut next = vec![0f32; nh * nb];
        let mut cache = vec![0f32; cell.cache_size() * nb];
        let mut scratch = vec![0f32; cell.step_scratch_size(nb)];
        let (x, prev) = (to32(&x), to32(&prev));
        cell.step_forward(StepForward {
            x: &x,
            prev: &prev,
            next: &mut next,
            cache: &mut cache,
            batch: nb,
            scratch: &mut scratch,
        })
        .unwrap();
        next
    };
    let [m64, u64_] = both(ni, nh, true, 3);
    let mut m32 = MguCell::<f32>::zeros(ni, nh, true).unwrap();
    let mut u32_ = UgrnnCell::<f32>::zeros(ni, nh, true).unwrap();
    for (from, to) in [
        (&m64, m32.params_mut()),
        (
            &u64_,
            rnnzoo_cell::GatedCell::weights_mut(&mut u32_).params_mut(),
        ),
    ] {
        for p in from.params().iter() {
            to.set(p.name(), &to32(p.data())).unwrap();
        }
    }
    for (c64, out32) in [(&m64, step32(&m32)), (&u64_, step32(&u32_))] {
        let out64 = forward(c64.as_ref(), &x, &prev, nb).0;
        for (a, b) in out32.iter().zip(&out64) {
            assert!((*a as f64 - b).abs() < 1e-5, "{}", c64.mode());
        }
    }
}
