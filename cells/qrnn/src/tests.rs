use super::*;
use proptest::prelude::*;
use rnnzoo_cell::gradcheck::{self, Options, normal_vec};
use rnnzoo_cell::strategies::{SizeRanges, UnrollCase, unroll_case};
use rnnzoo_cell::testing::{backward_step, forward_step};
use rnnzoo_cell::{Cell, CellError, StepForm, seeded};
use rnnzoo_layers::gradcheck::check_unrolled;
use rnnzoo_layers::{Direction, Inputs, Layer, Recurrent};

fn sig(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The paper's equations, sequentially, for one sample in its reading order: `xs` are the
/// inputs (I each), `c0` the initial c; returns every step's `[h; c]`.
fn sequential(cell: &QrnnCell<f64>, xs: &[&[f64]], c0: &[f64]) -> Vec<Vec<f64>> {
    let (h, i, k) = (cell.hidden_size(), cell.input_size(), cell.window());
    let w = cell.params().get("weight_ih").unwrap().data();
    let bias = cell.params().get("bias_ih").map(|p| p.data().to_vec());
    let zero = vec![0.0; i];
    let mut c = c0.to_vec();
    let mut out = Vec::new();
    for t in 0..xs.len() {
        let prev: &[f64] = if t == 0 { &zero } else { xs[t - 1] };
        let pre = |row: usize| {
            let mut v = bias.as_ref().map_or(0.0, |b| b[row]);
            for m in 0..i {
                v += w[row * k * i + m] * xs[t][m];
                if k == 2 {
                    v += w[row * k * i + i + m] * prev[m];
                }
            }
            v
        };
        let mut state = vec![0.0; 2 * h];
        for j in 0..h {
            let (z, f, o) = (pre(j).tanh(), sig(pre(h + j)), sig(pre(2 * h + j)));
            c[j] = f * c[j] + (1.0 - f) * z;
            state[j] = o * c[j];
            state[h + j] = c[j];
        }
        out.push(state);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Through time at the default options, both windows: every parameter, the input and the
    /// initial state against central differences, with lengths, both directions.
    #[test]
    fn gradients_through_time_match_finite_differences(
        case in unroll_case(SizeRanges::default()),
        window in 1usize..=2,
    ) {
        let cell = QrnnCell::<f64>::with_window(case.input, case.hidden, window, &mut seeded(case.seed)).unwrap();
        let report = check_unrolled(cell, &case, &Options::default()).unwrap();
        prop_assert!(report.passed(), "window {window} {case:?}\n{report}");
    }

    /// One step (a pass of one step) and the columns kept apart.
    #[test]
    fn one_step_checks(input in 1usize..=4, hidden in 1usize..=4, batch in 1usize..=3,
                       window in 1usize..=2, bias in any::<bool>(), seed in 0u64..1000) {
        let mut cell = QrnnCell::<f64>::with_options(input, hidden, window, bias, &mut seeded(seed)).unwrap();
        let opts = Options::default();
        let report = gradcheck::check_cell(&mut cell, batch, seed + 1, &opts);
        prop_assert!(report.passed(), "{report}");
        prop_assert!(gradcheck::check_columns(&cell, batch.max(2), seed, &opts).passed());
    }
}

fn case(reverse: bool) -> UnrollCase {
    UnrollCase {
        input: 3,
        hidden: 4,
        batch: 3,
        steps: 6,
        lengths: Some(vec![6, 2, 4]),
        reverse,
        initial_state: true,
        seed: 11,
    }
}

/// The unrolled pass against the paper's equations run sequentially per sample, in the layer's
/// reading order (a reversed layer's window reads the previous step of the reversed prefix),
/// with padded steps, to 1e-12; for window 1 the sequential run is one step at a time through
/// `CellExt` as well.
#[test]
fn a_pass_is_the_sequential_equations() {
    for window in [1, 2] {
        for reverse in [false, true] {
            let c = case(reverse);
            let cell =
                QrnnCell::<f64>::with_window(c.input, c.hidden, window, &mut seeded(2)).unwrap();
            let (i, h, s, b) = (c.input, c.hidden, 2 * c.hidden, c.batch);
            let lengths = c.lengths.clone().unwrap();
            let mut rng = seeded(5);
            let x = normal_vec(i * c.steps * b, &mut rng);
            let h0 = normal_vec(s * b, &mut rng);
            let dir = if reverse {
                Direction::Reverse
            } else {
                Direction::Forward
            };
            let layer = Recurrent::with_direction(cell.clone(), dir);
            let out = layer
                .infer(Inputs::new(&x, c.steps, b).initial(&h0).lengths(&lengths))
                .unwrap();
            for col in 0..b {
                let len = lengths[col];
                let order: Vec<usize> = if reverse {
                    (0..len).rev().collect()
                } else {
                    (0..len).collect()
                };
                let xs: Vec<&[f64]> = order
                    .iter()
                    .map(|&t| &x[(t * b + col) * i..][..i])
                    .collect();
                let want = sequential(&cell, &xs, &h0[col * s + h..][..h]);
                // Window 1: one step at a time through CellExt is the same.
                let mut state = h0[col * s..][..s].to_vec();
                for (k, &t) in order.iter().enumerate() {
                    let got = &out.output[(t * b + col) * h..][..h];
                    for (g, w) in got.iter().zip(&want[k][..h]) {
                        assert!(
                            (g - w).abs() < 1e-12,
                            "window {window} sample {col} step {t}"
                        );
                    }
                    if window == 1 {
                        let (next, _) = forward_step(&cell, xs[k], &state, 1);
                        assert!(
                            next.iter()
                                .zip(&want[k])
                                .all(|(a, w)| (a - w).abs() < 1e-12)
                        );
                        state = next;
                    }
                }
                for t in len..c.steps {
                    assert!(
                        out.output[(t * b + col) * h..][..h]
                            .iter()
                            .all(|&v| v == 0.0)
                    );
                }
                let fin = &out.final_state[col * s..][..s];
                assert!(
                    fin.iter()
                        .zip(&want[len - 1])
                        .all(|(g, w)| (g - w).abs() < 1e-12)
                );
            }
        }
    }
}

/// With window 2, one step through `CellExt` takes the previous input as zero: it equals the
/// window-1 cell made of `weight_ih`'s `x_t` columns, and the `x_{t-1}` columns get no gradient.
#[test]
fn one_window_2_step_reads_a_zero_previous_input() {
    let (i, h, b) = (3, 4, 2);
    let two = QrnnCell::<f64>::with_window(i, h, 2, &mut seeded(3)).unwrap();
    let mut one = QrnnCell::<f64>::zeros(i, h, 1, true).unwrap();
    let w2 = two.params().get("weight_ih").unwrap().data();
    let w1: Vec<f64> = (0..3 * h)
        .flat_map(|r| w2[r * 2 * i..][..i].to_vec())
        .collect();
    one.params_mut().set("weight_ih", &w1).unwrap();
    one.params_mut()
        .set("bias_ih", two.params().get("bias_ih").unwrap().data())
        .unwrap();
    let mut rng = seeded(4);
    let x = normal_vec(i * b, &mut rng);
    let prev = normal_vec(2 * h * b, &mut rng);
    let d_next = normal_vec(2 * h * b, &mut rng);
    assert_eq!(
        forward_step(&two, &x, &prev, b).0,
        forward_step(&one, &x, &prev, b).0
    );
    let mut g2 = two.params().zeros_like();
    let mut g1 = one.params().zeros_like();
    let r2 = backward_step(&two, &x, &prev, &d_next, b, &mut g2, f64::NAN);
    let r1 = backward_step(&one, &x, &prev, &d_next, b, &mut g1, f64::NAN);
    assert_eq!(r2, r1);
    let gw2 = g2.get("weight_ih").unwrap().data();
    for r in 0..3 * h {
        assert_eq!(
            &gw2[r * 2 * i..][..i],
            &g1.get("weight_ih").unwrap().data()[r * i..][..i]
        );
        assert!(gw2[r * 2 * i + i..][..i].iter().all(|&v| v == 0.0));
    }
    // The initial h is not read.
    assert!(
        r2.1.chunks_exact(2 * h)
            .all(|d| d[..h].iter().all(|&v| v == 0.0))
    );
}

/// The row blocks are z, f, o: a shut forget gate (f = 0) gives c = z, an open one keeps c;
/// the output gate scales h.
#[test]
fn gate_blocks_are_in_the_documented_order() {
    let (i, h) = (2, 3);
    let mut cell = QrnnCell::<f64>::zeros(i, h, 1, true).unwrap();
    let mut bias = vec![0.0; 3 * h];
    bias[..h].fill(50.0); // z = 1
    bias[h..2 * h].fill(-50.0); // f = 0: c = z
    bias[2 * h..].fill(50.0); // o = 1
    cell.params_mut().set("bias_ih", &bias).unwrap();
    let prev = vec![0.3; 2 * h];
    let (next, _) = forward_step(&cell, &[0.1, 0.2], &prev, 1);
    assert!(next.iter().all(|v| (v - 1.0).abs() < 1e-12));
    bias[h..2 * h].fill(50.0); // f = 1: c kept
    bias[2 * h..].fill(-50.0); // o = 0
    cell.params_mut().set("bias_ih", &bias).unwrap();
    let (next, _) = forward_step(&cell, &[0.1, 0.2], &prev, 1);
    assert!(next[..h].iter().all(|v| v.abs() < 1e-12));
    assert!(next[h..].iter().all(|v| (v - 0.3).abs() < 1e-12));
}

/// The x_t and x_{t-1} column blocks are not interchangeable, and the unrolled gradient check
/// (which sees the x_{t-1} path through every block) passes for the reversed case with lengths.
#[test]
fn the_two_column_blocks_are_distinct() {
    let c = case(true);
    let good = QrnnCell::<f64>::with_window(3, 4, 2, &mut seeded(1)).unwrap();
    assert!(
        check_unrolled(good.clone(), &c, &Options::default())
            .unwrap()
            .passed()
    );
    let mut swapped = good.clone();
    let w = good.params().get("weight_ih").unwrap().data().to_vec();
    let sw: Vec<f64> = w
        .chunks_exact(6)
        .flat_map(|r| r[3..].iter().chain(&r[..3]).copied().collect::<Vec<_>>())
        .collect();
    swapped.params_mut().set("weight_ih", &sw).unwrap();
    let x = normal_vec(3 * 4, &mut seeded(2));
    let xs: Vec<&[f64]> = x.chunks_exact(3).collect();
    let (a, b) = (
        sequential(&good, &xs, &[0.0; 4]),
        sequential(&swapped, &xs, &[0.0; 4]),
    );
    assert!(
        a.iter()
            .zip(&b)
            .any(|(p, q)| p.iter().zip(q).any(|(u, v)| (u - v).abs() > 1e-3))
    );
}

#[test]
fn shapes_names_form_and_default_init() {
    for window in [1, 2] {
        let cell = QrnnCell::<f64>::with_window(10, 16, window, &mut seeded(9)).unwrap();
        assert!(matches!(cell.form(), StepForm::Scan(_)));
        assert_eq!((cell.state_size(), cell.cache_size()), (32, 48));
        let shapes: Vec<(&str, &[usize])> = cell
            .params()
            .iter()
            .map(|p| (p.name(), p.shape()))
            .collect();
        assert_eq!(
            shapes,
            [
                ("weight_ih", &[48, 10 * window][..]),
                ("bias_ih", &[48][..])
            ]
        );
        let k = 1.0 / ((10 * window) as f64).sqrt();
        for p in cell.params().iter() {
            assert!(p.data().iter().all(|x| x.abs() <= k), "{}", p.name());
            assert!(p.data().iter().any(|x| x.abs() > 0.8 * k), "{}", p.name());
        }
    }
}

#[test]
fn bad_sizes_and_windows_are_refused() {
    let zs = |what| CellError::ZeroSize { what };
    assert_eq!(
        QrnnCell::<f32>::new(0, 3, &mut seeded(0)),
        Err(zs("input_size"))
    );
    assert_eq!(
        QrnnCell::<f64>::zeros(2, 0, 1, true),
        Err(zs("hidden_size"))
    );
    for w in [0, 3] {
        assert!(matches!(
            QrnnCell::<f64>::zeros(2, 3, w, true),
            Err(CellError::BadParam { name, .. }) if name == "window"
        ));
    }
}

/// A long pass under a pool of two threads (the scan then runs in chunks of time) agrees with
/// one thread to 1e-12, forward and backward.
#[test]
fn two_threads_agree_with_one() {
    for window in [1, 2] {
        let (i, h, b, t) = (4, 64, 8, 300);
        let lengths: Vec<usize> = (0..b).map(|k| t - 37 * k).collect();
        let run = || {
            let layer =
                Recurrent::new(QrnnCell::<f64>::with_window(i, h, window, &mut seeded(7)).unwrap());
            let mut rng = seeded(9);
            let x = normal_vec(i * t * b, &mut rng);
            let h0 = normal_vec(2 * h * b, &mut rng);
            let (out, tape) = layer
                .forward(Inputs::new(&x, t, b).initial(&h0).lengths(&lengths), None)
                .unwrap();
            let d_out = normal_vec(out.output.len(), &mut rng);
            let mut grads = vec![layer.cell().params().zeros_like()];
            let g = layer.backward(&tape, &d_out, None, &mut grads).unwrap();
            (out.output, g.d_input, grads[0].at(0).data().to_vec())
        };
        let pool = |n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
        };
        let one = pool(1).install(run);
        let two = pool(2).install(run);
        for (a, b) in [(&one.0, &two.0), (&one.1, &two.1), (&one.2, &two.2)] {
            assert!(
                a.iter()
                    .zip(b)
                    .all(|(p, q)| (p - q).abs() < 1e-12 * (1.0 + p.abs()))
            );
        }
    }
}
