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

/// The paper's equations for one step of one sample, as scalar loops: returns `[h; c]`.
fn step(cell: &SruCell<f64>, x: &[f64], prev: &[f64]) -> Vec<f64> {
    let (h, i) = (cell.hidden_size(), cell.input_size());
    let p = cell.params();
    let w = p.get("weight_ih").unwrap().data();
    let v = p.get("weight_c").unwrap().data();
    let b = p
        .get("bias_ih")
        .map_or(vec![0.0; 2 * h], |b| b.data().to_vec());
    let row = |r: usize| (0..i).map(|m| w[r * i + m] * x[m]).sum::<f64>();
    let mut out = vec![0.0; 2 * h];
    for j in 0..h {
        let c_prev = prev[h + j];
        let f = sig(row(h + j) + v[j] * c_prev + b[j]);
        let c = f * c_prev + (1.0 - f) * row(j);
        let r = sig(row(2 * h + j) + v[h + j] * c_prev + b[h + j]);
        let hw = if i == h { x[j] } else { row(3 * h + j) };
        out[j] = r * c + (1.0 - r) * cell.highway_scale() * hw;
        out[h + j] = c;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Through time at the default options (equal and different sizes both come up): every
    /// parameter, the input and the initial state against central differences.
    #[test]
    fn gradients_through_time_match_finite_differences(case in unroll_case(SizeRanges::default())) {
        let cell = SruCell::<f64>::new(case.input, case.hidden, &mut seeded(case.seed)).unwrap();
        let report = check_unrolled(cell, &case, &Options::default()).unwrap();
        prop_assert!(report.passed(), "{case:?}\n{report}");
    }

    /// The highway's identity path (equal sizes) and the projected one, through time, with a
    /// highway scale other than 1.
    #[test]
    fn gradients_through_time_with_equal_sizes_and_a_scale(
        case in unroll_case(SizeRanges::default()), alpha in 0.5f64..2.0,
    ) {
        let mut case = case;
        case.input = case.hidden;
        let cell = SruCell::<f64>::with_highway_scale(case.input, case.hidden, alpha, &mut seeded(case.seed)).unwrap();
        let report = check_unrolled(cell, &case, &Options::default()).unwrap();
        prop_assert!(report.passed(), "{case:?}\n{report}");
    }

    #[test]
    fn one_step_checks(input in 1usize..=4, hidden in 1usize..=4, batch in 1usize..=3,
                       bias in any::<bool>(), seed in 0u64..1000) {
        let mut cell = SruCell::<f64>::new(input, hidden, &mut seeded(seed)).unwrap();
        if !bias {
            let mut z = SruCell::<f64>::zeros(input, hidden, 1.0, false).unwrap();
            for name in ["weight_ih", "weight_c"] {
                z.params_mut().set(name, cell.params().get(name).unwrap().data()).unwrap();
            }
            cell = z;
        }
        let opts = Options::default();
        let report = gradcheck::check_cell(&mut cell, batch, seed + 1, &opts);
        prop_assert!(report.passed(), "{report}");
        prop_assert!(gradcheck::check_columns(&cell, batch.max(2), seed, &opts).passed());
    }
}

/// A pass over the sequence equals stepping one step at a time through `CellExt` and the
/// scalar equations, with lengths, both directions, both highway kinds, to 1e-12.
#[test]
fn a_pass_is_its_steps() {
    for (input, reverse) in [(3, false), (3, true), (4, false), (4, true)] {
        let c = UnrollCase {
            input,
            hidden: 4,
            batch: 3,
            steps: 6,
            lengths: Some(vec![6, 2, 4]),
            reverse,
            initial_state: true,
            seed: 11,
        };
        let cell = SruCell::<f64>::new(c.input, c.hidden, &mut seeded(2)).unwrap();
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
        let out = Recurrent::with_direction(cell.clone(), dir)
            .infer(Inputs::new(&x, c.steps, b).initial(&h0).lengths(&lengths))
            .unwrap();
        for col in 0..b {
            let len = lengths[col];
            let mut state = h0[col * s..][..s].to_vec();
            let mut scalar = state.clone();
            for k in 0..len {
                let t = if reverse { len - 1 - k } else { k };
                let xt = &x[(t * b + col) * i..][..i];
                let (next, _) = forward_step(&cell, xt, &state, 1);
                scalar = step(&cell, xt, &scalar);
                let got = &out.output[(t * b + col) * h..][..h];
                for ((g, w), q) in got.iter().zip(&next[..h]).zip(&scalar) {
                    assert!(
                        (g - w).abs() < 1e-12 && (g - q).abs() < 1e-12,
                        "sample {col} step {t}"
                    );
                }
                state = next;
            }
            let fin = &out.final_state[col * s..][..s];
            assert!(fin.iter().zip(&state).all(|(g, w)| (g - w).abs() < 1e-12));
        }
    }
}

/// Row blocks W, W_f, W_r (and W_x): a shut forget gate gives c = W x, an open highway gate
/// (r = 0) gives h = x (or W_x x), and the initial h is never read.
#[test]
fn blocks_are_in_the_documented_order() {
    for input in [3, 2] {
        let h = 3;
        let mut cell = SruCell::<f64>::zeros(input, h, 1.0, true).unwrap();
        let w = normal_vec(cell.blocks() * h * input, &mut seeded(1));
        cell.params_mut().set("weight_ih", &w).unwrap();
        let mut bias = vec![0.0; 2 * h];
        bias[..h].fill(-60.0); // f = 0
        bias[h..].fill(-60.0); // r = 0
        cell.params_mut().set("bias_ih", &bias).unwrap();
        let x = normal_vec(input, &mut seeded(2));
        let row = |r: usize| (0..input).map(|m| w[r * input + m] * x[m]).sum::<f64>();
        let (a, _) = forward_step(&cell, &x, &[7.0; 6], 1);
        let (b, _) = forward_step(&cell, &x, &[-3.0, 1.0, 2.0, 7.0, 7.0, 7.0], 1);
        assert_eq!(a, b, "the initial h is read");
        for j in 0..h {
            assert!((a[h + j] - row(j)).abs() < 1e-12, "c = W x");
            let hw = if input == h { x[j] } else { row(3 * h + j) };
            assert!((a[j] - hw).abs() < 1e-12, "h = x'");
        }
        let mut g = cell.params().zeros_like();
        let d = normal_vec(2 * h, &mut seeded(3));
        let (_, d_prev) = backward_step(&cell, &x, &[7.0; 6], &d, 1, &mut g, f64::NAN);
        assert!(d_prev[..h].iter().all(|&v| v == 0.0));
    }
}

#[test]
fn shapes_names_form_and_the_authors_initialisation() {
    for (input, k) in [(64, 3), (32, 4)] {
        let h = 64;
        let cell = SruCell::<f64>::new(input, h, &mut seeded(9)).unwrap();
        assert!(matches!(cell.form(), StepForm::Scan(_)));
        assert_eq!(
            (cell.state_size(), cell.cache_size(), cell.blocks()),
            (2 * h, k * h, k)
        );
        let shapes: Vec<(&str, &[usize])> = cell
            .params()
            .iter()
            .map(|p| (p.name(), p.shape()))
            .collect();
        assert_eq!(
            shapes,
            [
                ("weight_ih", &[k * h, input][..]),
                ("weight_c", &[2 * h][..]),
                ("bias_ih", &[2 * h][..])
            ]
        );
        let w = cell.params().get("weight_ih").unwrap();
        let bound = (3.0 / input as f64).sqrt();
        for g in 0..k {
            let scale = if g == 1 || g == 2 { 0.5f64.sqrt() } else { 1.0 };
            let block = w.gate(g);
            assert!(
                block.iter().all(|v| v.abs() <= bound * scale + 1e-15),
                "block {g}"
            );
            assert!(
                block.iter().any(|v| v.abs() > 0.9 * bound * scale),
                "block {g}"
            );
        }
        let v = cell.params().get("weight_c").unwrap().data();
        let vb = 1.5f64.sqrt(); // sqrt(3) * sqrt(0.5)
        assert!(v.iter().all(|x| x.abs() <= vb) && v.iter().any(|x| x.abs() > 0.9 * vb));
        assert!(
            cell.params()
                .get("bias_ih")
                .unwrap()
                .data()
                .iter()
                .all(|&b| b == 0.0)
        );
    }
}

#[test]
fn bad_sizes_and_scales_are_refused() {
    let zs = |what| CellError::ZeroSize { what };
    assert_eq!(
        SruCell::<f32>::new(0, 3, &mut seeded(0)),
        Err(zs("input_size"))
    );
    assert_eq!(
        SruCell::<f64>::zeros(2, 0, 1.0, true),
        Err(zs("hidden_size"))
    );
    assert!(matches!(
        SruCell::<f64>::with_highway_scale(2, 3, f64::INFINITY, &mut seeded(0)),
        Err(CellError::BadParam { name, .. }) if name == "highway_scale"
    ));
}

/// A pass large enough that each step is split over the samples, under a pool of two, agrees
/// with one thread (bit for bit: the split does not change any sum).
#[test]
fn two_threads_agree_with_one() {
    for input in [128, 96] {
        let (h, b, t) = (128, 64, 20);
        let lengths: Vec<usize> = (0..b).map(|k| t - k % 7).collect();
        let run = || {
            let layer = Recurrent::new(SruCell::<f64>::new(input, h, &mut seeded(7)).unwrap());
            let mut rng = seeded(9);
            let x = normal_vec(input * t * b, &mut rng);
            let h0 = normal_vec(2 * h * b, &mut rng);
            let (out, tape) = layer
                .forward(Inputs::new(&x, t, b).initial(&h0).lengths(&lengths), None)
                .unwrap();
            let d_out = normal_vec(out.output.len(), &mut rng);
            let mut grads = vec![layer.cell().params().zeros_like()];
            let g = layer.backward(&tape, &d_out, None, &mut grads).unwrap();
            let grads: Vec<Vec<f64>> = grads[0].iter().map(|p| p.data().to_vec()).collect();
            (out.output, g.d_input, grads)
        };
        let pool = |n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
        };
        let one = pool(1).install(run);
        let two = pool(2).install(run);
        assert_eq!(one.0, two.0);
        assert_eq!(one.2[1..], two.2[1..]);
        for (a, b) in [(&one.1, &two.1), (&one.2[0], &two.2[0])] {
            assert!(
                a.iter()
                    .zip(b)
                    .all(|(p, q)| (p - q).abs() < 1e-12 * (1.0 + p.abs()))
            );
        }
    }
}
