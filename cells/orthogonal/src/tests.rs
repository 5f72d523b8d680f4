use nalgebra::DMatrix;
use proptest::prelude::*;
use rnnzoo_cell::gradcheck::{self, normal_vec};
use rnnzoo_cell::testing::forward_step as forward;
use rnnzoo_cell::{Cell, CellError, CellExt, Params, StepBackward, seeded};

use crate::expm::{expm, expm_frechet_adjoint, free_gradient, skew_from_free};
use crate::modrelu::modrelu;
use crate::{ExpRnnCell, SkewInit};

fn backward(
    cell: &dyn Cell<f64>,
    x: &[f64],
    prev: &[f64],
    d_next: &[f64],
    batch: usize,
) -> Params<f64> {
    let (_, cache) = forward(cell, x, prev, batch);
    let (mut d_x, mut d_prev) = (vec![f64::NAN; x.len()], vec![f64::NAN; prev.len()]);
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
    grads
}

fn random_matrix(n: usize, seed: u64) -> DMatrix<f64> {
    DMatrix::from_vec(n, n, normal_vec(n * n, &mut seeded(seed)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn one_step_gradients_match_finite_differences(
        input in 1usize..=5, hidden in 1usize..=6, batch in 1usize..=3, seed in any::<u64>(),
        cayley in any::<bool>(), perturb in any::<bool>(),
    ) {
        let init = if cayley { SkewInit::Cayley } else { SkewInit::Henaff };
        let mut cell = ExpRnnCell::<f64>::new(input, hidden, init, &mut seeded(seed)).unwrap();
        if perturb {
            // A general skew parameter (both triangles), and a modReLU bias that cuts some units.
            let a = normal_vec(hidden * hidden, &mut seeded(seed ^ 1));
            cell.params_mut().set("skew_hh", &a).unwrap();
            let b: Vec<f64> = normal_vec(hidden, &mut seeded(seed ^ 2)).iter().map(|v| 0.5 * v).collect();
            cell.params_mut().set("bias_modrelu", &b).unwrap();
        }
        let opts = gradcheck::Options::default();
        let report = gradcheck::check_cell(&mut cell, batch, seed, &opts);
        prop_assert!(report.passed(), "{report}");
        prop_assert_eq!(report.group("skew_hh").unwrap().checked, hidden * hidden);
        let columns = gradcheck::check_columns(&cell, 3, seed, &opts);
        prop_assert!(columns.passed(), "{columns}");
    }

    #[test]
    fn the_frechet_adjoint_matches_central_differences(n in 1usize..=7, seed in any::<u64>(), skew in any::<bool>()) {
        let x = if skew {
            skew_from_free(random_matrix(n, seed).transpose().as_slice(), n)
        } else {
            random_matrix(n, seed) * 0.5
        };
        let g = random_matrix(n, seed ^ 3);
        let e = random_matrix(n, seed ^ 4);
        let adj = expm_frechet_adjoint(&x, &g);
        let f = |t: f64| g.dot(&expm(&(&x + &e * t)));
        let h = 1e-5;
        let fd = (f(h) - f(-h)) / (2.0 * h);
        prop_assert!((adj.dot(&e) - fd).abs() <= 1e-7 * (1.0 + fd.abs()), "{} vs {fd}", adj.dot(&e));
    }
}

#[test]
fn the_step_is_the_equations_written_as_scalar_loops() {
    let (input, hidden, batch) = (3, 5, 2);
    let mut cell = ExpRnnCell::<f64>::new(input, hidden, SkewInit::Henaff, &mut seeded(4)).unwrap();
    let a = normal_vec(hidden * hidden, &mut seeded(5));
    cell.params_mut().set("skew_hh", &a).unwrap();
    cell.params_mut()
        .set("bias_modrelu", &[0.1, -0.2, 0.3, -0.05, 0.0])
        .unwrap();
    let x = normal_vec(input * batch, &mut seeded(6));
    let prev = normal_vec(hidden * batch, &mut seeded(7));
    let (next, cache) = forward(&cell, &x, &prev, batch);
    // exp(S) by its power series, no nalgebra: S = triu(A,1) - triu(A,1)^T.
    let s = |i: usize, j: usize| match i.cmp(&j) {
        std::cmp::Ordering::Less => a[i * hidden + j],
        std::cmp::Ordering::Greater => -a[j * hidden + i],
        std::cmp::Ordering::Equal => 0.0,
    };
    let mut term: Vec<f64> = (0..hidden * hidden)
        .map(|k| f64::from(u8::from(k / hidden == k % hidden)))
        .collect();
    let mut e = term.clone();
    for k in 1..60 {
        let mut t2 = vec![0.0; hidden * hidden];
        for i in 0..hidden {
            for j in 0..hidden {
                t2[i * hidden + j] = (0..hidden)
                    .map(|m| term[i * hidden + m] * s(m, j))
                    .sum::<f64>()
                    / k as f64;
            }
        }
        term = t2;
        e.iter_mut().zip(&term).for_each(|(a, b)| *a += b);
    }
    let w_ih = cell.params().get("weight_ih").unwrap().data().to_vec();
    let bias = cell.params().get("bias_modrelu").unwrap().data().to_vec();
    for b in 0..batch {
        for j in 0..hidden {
            // z_j = sum_k W_ih[j][k] x_k + sum_m exp(S)[m][j] h_m  (h exp(S) on a row vector)
            let z = (0..input)
                .map(|k| w_ih[j * input + k] * x[b * input + k])
                .sum::<f64>()
                + (0..hidden)
                    .map(|m| e[m * hidden + j] * prev[b * hidden + m])
                    .sum::<f64>();
            assert!((cache[b * hidden + j] - z).abs() < 1e-12);
            let want = z.signum() * (z.abs() + bias[j]).max(0.0);
            assert!((next[b * hidden + j] - want).abs() < 1e-12, "{b} {j}");
            assert_eq!(
                next[b * hidden + j],
                modrelu(cache[b * hidden + j], bias[j])
            );
        }
    }
}

#[test]
fn the_recurrent_weight_is_orthogonal_for_any_parameter() {
    for (h, seed) in [(1, 0), (2, 1), (7, 2), (16, 3)] {
        let mut cell = ExpRnnCell::<f64>::new(2, h, SkewInit::Henaff, &mut seeded(seed)).unwrap();
        let a: Vec<f64> = normal_vec(h * h, &mut seeded(seed + 9))
            .iter()
            .map(|v| 3.0 * v)
            .collect();
        cell.params_mut().set("skew_hh", &a).unwrap();
        let w = DMatrix::from_column_slice(h, h, &cell.recurrent_weight());
        assert!(
            (w.transpose() * &w - DMatrix::identity(h, h)).amax() < 1e-12,
            "H={h}"
        );
        assert!((w.determinant() - 1.0).abs() < 1e-10, "in SO(H): H={h}");
    }
}

#[test]
fn initialisations_are_the_authors() {
    use std::f64::consts::PI;
    for h in [1, 2, 5, 8] {
        for init in [SkewInit::Henaff, SkewInit::Cayley] {
            let cell = ExpRnnCell::<f64>::new(4, h, init, &mut seeded(h as u64)).unwrap();
            let a = cell.params().get("skew_hh").unwrap().data();
            for i in 0..h {
                for j in 0..h {
                    let v = a[i * h + j];
                    let block = i / 2 == j / 2 && i != j && i / 2 < h / 2;
                    if !block {
                        assert_eq!(v, 0.0, "{init:?} H={h} ({i},{j})");
                    } else if i < j {
                        assert_eq!(a[j * h + i], -v);
                        match init {
                            SkewInit::Henaff => assert!(v.abs() <= PI),
                            SkewInit::Cayley => assert!((-1.0..=0.0).contains(&v)),
                        }
                    }
                }
            }
            let b = cell.params().get("bias_modrelu").unwrap().data();
            assert!(b.iter().all(|v| v.abs() <= 0.01));
        }
    }
    // Kaiming normal for relu: std sqrt(2 / input).
    let cell = ExpRnnCell::<f64>::new(50, 200, SkewInit::Henaff, &mut seeded(1)).unwrap();
    let w = cell.params().get("weight_ih").unwrap().data();
    let var = w.iter().map(|v| v * v).sum::<f64>() / w.len() as f64;
    assert!((var - 2.0 / 50.0).abs() < 0.002, "{var}");
    // Henaff's angles spread over [-pi, pi]; Cayley's d = -tan(u/2) for u in [0, pi/2].
    let d = SkewInit::Henaff.blocks(2000, &mut seeded(2));
    assert!(d.iter().any(|v| *v < -3.0) && d.iter().any(|v| *v > 3.0));
    let d = SkewInit::Cayley.blocks(2000, &mut seeded(2));
    assert!(d.iter().any(|v| *v < -0.99) && d.iter().any(|v| *v > -0.01));
}

#[test]
fn the_skew_gradient_is_zero_on_and_below_the_diagonal() {
    let cell = ExpRnnCell::<f64>::new(2, 4, SkewInit::Henaff, &mut seeded(3)).unwrap();
    let g = backward(
        &cell,
        &[0.5, -1.0],
        &[1.0, 0.2, -0.3, 0.7],
        &[1.0, -1.0, 0.5, 2.0],
        1,
    );
    let ga = g.get("skew_hh").unwrap().data();
    for i in 0..4 {
        for j in 0..=i {
            assert_eq!(ga[i * 4 + j], 0.0);
        }
    }
    assert!(ga.iter().any(|v| *v != 0.0));
    assert_eq!(free_gradient(&DMatrix::from_element(1, 1, 3.0)), vec![0.0]);
}

#[test]
fn f32_and_f64_agree_to_f32_precision() {
    let c64 = ExpRnnCell::<f64>::new(3, 6, SkewInit::Henaff, &mut seeded(8)).unwrap();
    let mut c32 = ExpRnnCell::<f32>::zeros(3, 6).unwrap();
    for p in c64.params().iter() {
        let v: Vec<f32> = p.data().iter().map(|&x| x as f32).collect();
        c32.params_mut().set(p.name(), &v).unwrap();
    }
    let x = normal_vec(6, &mut seeded(9));
    let prev = normal_vec(12, &mut seeded(10));
    let (n64, _) = forward(&c64, &x, &prev, 2);
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let p32: Vec<f32> = prev.iter().map(|&v| v as f32).collect();
    let (n32, _) = forward(&c32, &x32, &p32, 2);
    for (a, b) in n32.iter().zip(&n64) {
        assert!((f64::from(*a) - b).abs() < 1e-5);
    }
}

#[test]
fn zero_sizes_are_refused_in_order() {
    let zs = |what| Err(CellError::ZeroSize { what });
    assert_eq!(ExpRnnCell::<f64>::zeros(0, 0), zs("input_size"));
    assert_eq!(ExpRnnCell::<f64>::zeros(1, 0), zs("hidden_size"));
    assert_eq!(
        ExpRnnCell::<f64>::new(0, 3, SkewInit::Cayley, &mut seeded(0)),
        zs("input_size")
    );
}
