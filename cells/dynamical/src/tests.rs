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

fn set_all(cell: &mut dyn Cell<f64>, seed: f64) {
    let names: Vec<String> = cell.params().names().map(String::from).collect();
    for (k, name) in names.iter().enumerate() {
        let n = cell.params().get(name).unwrap().len();
        cell.params_mut()
            .set(name, &fill(n, seed + 1.7 * k as f64))
            .unwrap();
    }
}

/// Row `row` of the row-major `rows x cols` matrix `w` times `v`.
fn dot(w: &[f64], cols: usize, row: usize, v: &[f64]) -> f64 {
    (0..cols).map(|k| w[row * cols + k] * v[k]).sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// One coRNN step against central differences (every parameter element, the input, both
    /// halves of the state), at random sizes, batches, seeds, biases and constants; and the
    /// samples of a batch kept apart.
    #[test]
    fn cornn_step_gradients_match_finite_differences(
        input in 1usize..=5,
        hidden in 1usize..=5,
        batch in 1usize..=3,
        bias in any::<bool>(),
        dt in 0.01f64..1.0,
        gamma in 0.0f64..3.0,
        epsilon in 0.0f64..3.0,
        seed in 0u64..1000,
    ) {
        let c = CoRnnConstants { dt, gamma, epsilon };
        let mut cell = CoRnnCell::<f64>::zeros(input, hidden, bias, c).unwrap();
        let init = rnnzoo_cell::Init::Uniform { low: -0.8, high: 0.8 };
        let mut rng = seeded(seed);
        for p in cell.params_mut().iter_mut() {
            init.apply(p, &mut rng);
        }
        let opts = gradcheck::Options::default();
        let report = gradcheck::check_cell(&mut cell, batch, seed + 1, &opts);
        prop_assert!(report.passed(), "{report}");
        prop_assert_eq!(report.groups.len(), if bias { 7 } else { 5 });
        prop_assert_eq!(report.group("state").unwrap().checked, 2 * hidden * batch);
        let columns = gradcheck::check_columns(&cell, batch.max(2), seed, &opts);
        prop_assert!(columns.passed(), "{columns}");
    }

    /// The same for the AntisymmetricRNN, plain and gated.
    #[test]
    fn antisymmetric_step_gradients_match_finite_differences(
        input in 1usize..=5,
        hidden in 1usize..=5,
        batch in 1usize..=3,
        bias in any::<bool>(),
        gated in any::<bool>(),
        epsilon in 0.01f64..1.5,
        gamma in 0.0f64..1.0,
        seed in 0u64..1000,
    ) {
        let c = AntisymmetricConstants { epsilon, gamma };
        let mut cell = AntisymmetricCell::<f64>::zeros(input, hidden, gated, bias, c).unwrap();
        let init = rnnzoo_cell::Init::Uniform { low: -0.8, high: 0.8 };
        let mut rng = seeded(seed);
        for p in cell.params_mut().iter_mut() {
            init.apply(p, &mut rng);
        }
        let opts = gradcheck::Options::default();
        let report = gradcheck::check_cell(&mut cell, batch, seed + 1, &opts);
        prop_assert!(report.passed(), "gated={gated} {report}");
        prop_assert_eq!(report.groups.len(), if bias { 6 } else { 4 });
        let columns = gradcheck::check_columns(&cell, batch.max(2), seed, &opts);
        prop_assert!(columns.passed(), "{columns}");
    }
}

#[test]
fn cornn_forward_is_the_authors_explicit_damping_with_z_first() {
    let (ni, nh, nb) = (3, 2, 2);
    let c = CoRnnConstants {
        dt: 0.3,
        gamma: 1.7,
        epsilon: 2.3,
    };
    let mut cell = CoRnnCell::<f64>::zeros(ni, nh, true, c).unwrap();
    set_all(&mut cell, 0.4);
    let p = cell.params().clone();
    let (v, w, wz) = (
        p.get("weight_ih").unwrap().data(),
        p.get("weight_hh").unwrap().data(),
        p.get("weight_zh").unwrap().data(),
    );
    let (bi, bh) = (
        p.get("bias_ih").unwrap().data(),
        p.get("bias_hh").unwrap().data(),
    );
    let x = fill(ni * nb, 5.5);
    let prev = fill(2 * nh * nb, 7.1);
    let (next, cache) = forward(&cell, &x, &prev, nb);
    for b in 0..nb {
        let (y, z) = prev[b * 2 * nh..(b + 1) * 2 * nh].split_at(nh);
        let u = &x[b * ni..(b + 1) * ni];
        for j in 0..nh {
            let a = dot(v, ni, j, u) + dot(w, nh, j, y) + dot(wz, nh, j, z) + bi[j] + bh[j];
            let t = a.tanh();
            assert!((cache[b * nh + j] - t).abs() < 1e-14);
            // The authors' coRNNCell: hz += dt (tanh(..) - γ hy - ε hz); hy += dt hz.
            let zn = z[j] + c.dt * (t - c.gamma * y[j] - c.epsilon * z[j]);
            let yn = y[j] + c.dt * zn;
            assert!((next[b * 2 * nh + j] - yn).abs() < 1e-14, "y[{j}] of {b}");
            assert!(
                (next[b * 2 * nh + nh + j] - zn).abs() < 1e-14,
                "z[{j}] of {b}"
            );
            // ... which is not the paper's implicit damping.
            let zn_implicit = (z[j] + c.dt * (t - c.gamma * y[j])) / (1.0 + c.dt * c.epsilon);
            assert!((next[b * 2 * nh + nh + j] - zn_implicit).abs() > 1e-3);
        }
    }
}

#[test]
fn antisymmetric_forward_matches_the_papers_equations() {
    let (ni, nh, nb) = (3, 3, 2);
    let c = AntisymmetricConstants {
        epsilon: 0.4,
        gamma: 0.3,
    };
    for gated in [false, true] {
        let mut cell = AntisymmetricCell::<f64>::zeros(ni, nh, gated, true, c).unwrap();
        set_all(&mut cell, 1.1);
        let p = cell.params().clone();
        let (v, w) = (
            p.get("weight_ih").unwrap().data(),
            p.get("weight_hh").unwrap().data(),
        );
        let (bi, bh) = (
            p.get("bias_ih").unwrap().data(),
            p.get("bias_hh").unwrap().data(),
        );
        let x = fill(ni * nb, 5.5);
        let prev = fill(nh * nb, 7.1);
        let next = forward(&cell, &x, &prev, nb).0;
        for b in 0..nb {
            let (hp, u) = (&prev[b * nh..(b + 1) * nh], &x[b * ni..(b + 1) * ni]);
            // (W - W^T - γI) h
            let mh = |j: usize| {
                (0..nh)
                    .map(|k| (w[j * nh + k] - w[k * nh + j]) * hp[k])
                    .sum::<f64>()
                    - c.gamma * hp[j]
            };
            for j in 0..nh {
                let want = if gated {
                    let z = sig(mh(j) + dot(v, ni, j, u) + bi[j] + bh[j]);
                    let n = (mh(j) + dot(v, ni, nh + j, u) + bi[nh + j] + bh[nh + j]).tanh();
                    hp[j] + c.epsilon * z * n
                } else {
                    hp[j] + c.epsilon * (mh(j) + dot(v, ni, j, u) + bi[j] + bh[j]).tanh()
                };
                assert!(
                    (next[b * nh + j] - want).abs() < 1e-14,
                    "gated={gated} h[{j}] of {b}"
                );
            }
        }
    }
}

#[test]
fn antisymmetric_recurrent_gradient_is_antisymmetric_and_ignores_the_symmetric_part() {
    // Only W - W^T enters the step: adding a symmetric matrix to W changes nothing, and the
    // gradient of W (dM - dM^T) is itself antisymmetric.
    let (ni, nh, nb) = (2, 4, 3);
    for gated in [false, true] {
        let mut cell =
            AntisymmetricCell::<f64>::new(ni, nh, gated, Default::default(), &mut seeded(3))
                .unwrap();
        let mut rng = seeded(4);
        let x = normal_vec(ni * nb, &mut rng);
        let prev = normal_vec(nh * nb, &mut rng);
        let d_next = normal_vec(nh * nb, &mut rng);
        let before = forward(&cell, &x, &prev, nb).0;
        let mut grads = cell.params().zeros_like();
        backward(&cell, &x, &prev, &d_next, nb, &mut grads, f64::NAN);
        let gw = grads.get("weight_hh").unwrap().data();
        for i in 0..nh {
            for j in 0..nh {
                assert!((gw[i * nh + j] + gw[j * nh + i]).abs() < 1e-15);
            }
        }
        assert!(gw.iter().any(|v| v.abs() > 1e-6));
        let w = cell.params_mut().get_mut("weight_hh").unwrap().data_mut();
        for i in 0..nh {
            for j in 0..nh {
                w[i * nh + j] += 0.3 * (i + j) as f64;
            }
        }
        assert!(max_diff(&forward(&cell, &x, &prev, nb).0, &before) < 1e-14);
    }
}

#[test]
fn backward_overwrites_its_outputs_and_accumulates_grads() {
    let (ni, nh, nb) = (3, 4, 2);
    let cells: [Box<dyn Cell<f64>>; 3] = [
        Box::new(CoRnnCell::<f64>::new(ni, nh, Default::default(), &mut seeded(1)).unwrap()),
        Box::new(
            AntisymmetricCell::<f64>::new(ni, nh, false, Default::default(), &mut seeded(1))
                .unwrap(),
        ),
        Box::new(
            AntisymmetricCell::<f64>::new(ni, nh, true, Default::default(), &mut seeded(1))
                .unwrap(),
        ),
    ];
    for cell in &cells {
        let mut rng = seeded(2);
        let x = normal_vec(ni * nb, &mut rng);
        let prev = normal_vec(cell.state_size() * nb, &mut rng);
        let d_next = normal_vec(cell.state_size() * nb, &mut rng);
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
    let cornn = CoRnnCell::<f64>::new(10, 16, Default::default(), &mut seeded(9)).unwrap();
    let shapes: Vec<(&str, &[usize])> = cornn
        .params()
        .iter()
        .map(|p| (p.name(), p.shape()))
        .collect();
    assert_eq!(
        shapes,
        [
            ("weight_ih", &[16, 10][..]),
            ("weight_hh", &[16, 16][..]),
            ("bias_ih", &[16][..]),
            ("bias_hh", &[16][..]),
            ("weight_zh", &[16, 16][..]),
        ]
    );
    assert_eq!(
        (cornn.mode(), cornn.state_size(), cornn.cache_size()),
        ("CORNN", 32, 16)
    );
    assert_eq!(cornn.scratch_size(3), 48);
    assert!(matches!(cornn.form(), StepForm::General(_)));
    assert_eq!(cornn.constants(), CoRnnConstants::default());
    for p in cornn.params().iter() {
        assert!(p.data().iter().all(|x| x.abs() <= 0.25), "{}", p.name());
        assert!(p.data().iter().any(|x| x.abs() > 0.2), "{}", p.name());
    }
    for gated in [false, true] {
        let g = if gated { 2 } else { 1 };
        let a = AntisymmetricCell::<f64>::new(10, 16, gated, Default::default(), &mut seeded(9))
            .unwrap();
        let shapes: Vec<(&str, &[usize])> =
            a.params().iter().map(|p| (p.name(), p.shape())).collect();
        assert_eq!(
            shapes,
            [
                ("weight_ih", &[g * 16, 10][..]),
                ("weight_hh", &[16, 16][..]),
                ("bias_ih", &[g * 16][..]),
                ("bias_hh", &[g * 16][..]),
            ]
        );
        assert_eq!(
            (a.state_size(), a.cache_size(), a.is_gated()),
            (16, g * 16, gated)
        );
        assert_eq!(a.scratch_size(3), 16 * 16 + (g + 1) * 16 * 3);
        assert!(matches!(a.form(), StepForm::General(_)));
        assert!(a.has_bias());
        assert_eq!(a.constants(), AntisymmetricConstants::default());
    }
    assert!(
        !CoRnnCell::<f32>::zeros(2, 3, false, Default::default())
            .unwrap()
            .has_bias()
    );
}

#[test]
fn constants_out_of_range_are_refused_naming_the_constant() {
    let bad = |r: Result<(), CellError>, want: &str| match r {
        Err(CellError::BadParam { name, reason }) => {
            assert_eq!(name, want);
            assert!(reason.contains("got"), "{reason}");
        }
        other => panic!("{want}: {other:?}"),
    };
    let d = CoRnnConstants::default();
    for dt in [0.0, -0.1, f64::NAN, f64::INFINITY] {
        bad(CoRnnConstants { dt, ..d }.check(), "dt");
    }
    for gamma in [-1.0, f64::NAN] {
        bad(CoRnnConstants { gamma, ..d }.check(), "gamma");
    }
    for epsilon in [-1e-9, f64::NEG_INFINITY] {
        bad(CoRnnConstants { epsilon, ..d }.check(), "epsilon");
    }
    // Zero damping and restoring force are allowed.
    assert!(
        CoRnnConstants {
            gamma: 0.0,
            epsilon: 0.0,
            ..d
        }
        .check()
        .is_ok()
    );
    let a = AntisymmetricConstants::default();
    bad(
        AntisymmetricConstants { epsilon: 0.0, ..a }.check(),
        "epsilon",
    );
    bad(AntisymmetricConstants { gamma: -0.5, ..a }.check(), "gamma");
    // The constructors check them, before anything else is made.
    bad(
        CoRnnCell::<f64>::new(2, 3, CoRnnConstants { dt: -1.0, ..d }, &mut seeded(0)).map(drop),
        "dt",
    );
    bad(
        AntisymmetricCell::<f64>::zeros(
            2,
            3,
            true,
            true,
            AntisymmetricConstants {
                epsilon: f64::NAN,
                ..a
            },
        )
        .map(drop),
        "epsilon",
    );
}

#[test]
fn zero_sizes_are_refused() {
    fn zs<C>(what: &'static str) -> Result<C, CellError> {
        Err(CellError::ZeroSize { what })
    }
    assert_eq!(
        CoRnnCell::<f32>::new(0, 3, Default::default(), &mut seeded(0)),
        zs("input_size")
    );
    assert_eq!(
        CoRnnCell::<f32>::zeros(2, 0, true, Default::default()),
        zs("hidden_size")
    );
    assert_eq!(
        AntisymmetricCell::<f32>::new(0, 3, false, Default::default(), &mut seeded(0)),
        zs("input_size")
    );
    assert_eq!(
        AntisymmetricCell::<f64>::zeros(2, 0, true, false, Default::default()),
        zs("hidden_size")
    );
}

#[test]
fn f32_and_f64_agree_to_f32_precision() {
    let (ni, nh, nb) = (5, 7, 3);
    let to32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
    type Pair = (Box<dyn Cell<f64>>, Box<dyn Cell<f32>>);
    let pairs: [Pair; 3] = [
        (
            Box::new(CoRnnCell::new(ni, nh, Default::default(), &mut seeded(3)).unwrap()),
            Box::new(CoRnnCell::zeros(ni, nh, true, Default::default()).unwrap()),
        ),
        (
            Box::new(
                AntisymmetricCell::new(ni, nh, false, Default::default(), &mut seeded(3)).unwrap(),
            ),
            Box::new(AntisymmetricCell::zeros(ni, nh, false, true, Default::default()).unwrap()),
        ),
        (
            Box::new(
                AntisymmetricCell::new(ni, nh, true, Default::default(), &mut seeded(3)).unwrap(),
            ),
            Box::new(AntisymmetricCell::zeros(ni, nh, true, true, Default::default()).unwrap()),
        ),
    ];
    for (c64, mut c32) in pairs {
        for p in c64.params().iter() {
            c32.params_mut().set(p.name(), &to32(p.data())).unwrap();
        }
        let s = c64.state_size();
        let mut rng = seeded(100);
        let x = normal_vec(ni * nb, &mut rng);
        let prev = normal_vec(s * nb, &mut rng);
        let want = forward(c64.as_ref(), &x, &prev, nb).0;
        let mut next = vec![0f32; s * nb];
        let mut cache = vec![0f32; c32.cache_size() * nb];
        let mut scratch = vec![0f32; c32.step_scratch_size(nb)];
        let (x, prev) = (to32(&x), to32(&prev));
        c32.step_forward(StepForward {
            x: &x,
            prev: &prev,
            next: &mut next,
            cache: &mut cache,
            batch: nb,
            scratch: &mut scratch,
        })
        .unwrap();
        for (a, b) in next.iter().zip(&want) {
            assert!((*a as f64 - b).abs() < 1e-5, "{}", c64.mode());
        }
    }
}
