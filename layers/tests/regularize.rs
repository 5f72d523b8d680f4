//! Recurrent (variational) dropout and zoneout (`rnnzoo_layers::regularize`) on any cell: gradient
//! checks through time with the masks held fixed (vanilla, LSTM, GRU in both forms and a user's
//! cell; lengths, both directions, an initial state, inside `Bidirectional` and `Stack`), what the
//! masks do (held over a sequence, fresh per step), evaluation (no dropout, zoneout's expectation),
//! determinism across thread counts, and the typed errors.

use proptest::prelude::*;
use rand::RngCore;
use rnnzoo_cell::gradcheck::{Options, normal_vec};
use rnnzoo_cell::strategies::{SizeRanges, UnrollCase, unroll_case};
use rnnzoo_cell::{
    Cell, CellExt, GateWeights, GatedCell, Init, Params, PointwiseBackward, PointwiseForward,
    StepForward, seeded,
};
use rnnzoo_gru::{GruCell, GruResetBeforeCell};
use rnnzoo_layers::gradcheck::{SequenceCase, check_layer};
use rnnzoo_layers::regularize::{RegularizeError, Regularized, Regularizer};
use rnnzoo_layers::{
    Bidirectional, Direction, InputGrads, Inputs, Layer, LayerError, LayerTape, Merge, Output,
    ParamGroup, Recurrent, Stack,
};
use rnnzoo_lstm::LstmCell;
use rnnzoo_vanilla::{Nonlinearity, VanillaCell};

/// A user's cell, in its own crate's style: a leaky tanh unit carrying a second row block
/// `m_t = h_t - h_{t-1}`, so its state is larger than its output (zoneout's `c` rate applies).
struct Leaky {
    weights: GateWeights<f64>,
}

impl Leaky {
    fn new(input: usize, hidden: usize, seed: u64) -> Self {
        let mut weights = GateWeights::zeros(input, hidden, 1, true).unwrap();
        let mut rng = seeded(seed);
        for p in weights.params_mut().iter_mut() {
            Init::Uniform {
                low: -0.8,
                high: 0.8,
            }
            .apply(p, &mut rng);
        }
        Self { weights }
    }
}

const A: f64 = 0.35;

impl GatedCell for Leaky {
    type Real = f64;
    fn weights(&self) -> &GateWeights<f64> {
        &self.weights
    }
    fn weights_mut(&mut self) -> &mut GateWeights<f64> {
        &mut self.weights
    }
    fn mode(&self) -> &str {
        "LEAKY"
    }
    fn state_size(&self) -> usize {
        2 * self.weights.hidden()
    }
    fn cache_size(&self) -> usize {
        self.weights.hidden()
    }
    fn d_gh_is_d_gi(&self) -> bool {
        true
    }
    fn forward_pointwise(&self, mut f: PointwiseForward<'_, f64>) {
        let h = self.weights.hidden();
        for c in f.columns() {
            for j in 0..h {
                c.cache[j] = (c.gi[j] + c.gh[j]).tanh();
                c.next[j] = (1.0 - A) * c.prev[j] + A * c.cache[j];
                c.next[h + j] = c.next[j] - c.prev[j];
            }
        }
    }
    fn backward_pointwise(&self, mut b: PointwiseBackward<'_, f64>) {
        let h = self.weights.hidden();
        for c in b.columns() {
            for j in 0..h {
                let dh = c.d_next[j] + c.d_next[h + j];
                c.d_gi[j] = dh * A * (1.0 - c.cache[j] * c.cache[j]);
                c.d_prev[j] = (1.0 - A) * dh - c.d_next[h + j];
                c.d_prev[h + j] = 0.0;
            }
        }
    }
}

/// A layer whose masks are fixed: every pass (the checker's `infer` for the loss, its `forward`
/// for the gradients) draws them from the same seed, so the finite differences and the analytic
/// gradient see one function.
struct Fixed<L> {
    layer: L,
    seed: u64,
}

impl<L: Layer<f64>> Layer<f64> for Fixed<L> {
    fn input_size(&self) -> usize {
        self.layer.input_size()
    }
    fn output_size(&self) -> usize {
        self.layer.output_size()
    }
    fn state_size(&self) -> usize {
        self.layer.state_size()
    }
    fn forward_unchecked(
        &self,
        inputs: Inputs<'_, f64>,
        _train: Option<&mut dyn RngCore>,
    ) -> Result<(Output<f64>, LayerTape), LayerError> {
        self.layer
            .forward_unchecked(inputs, Some(&mut seeded(self.seed)))
    }
    fn infer_unchecked(&self, inputs: Inputs<'_, f64>) -> Result<Output<f64>, LayerError> {
        Ok(self.forward_unchecked(inputs, None)?.0)
    }
    fn direction(&self) -> Direction {
        self.layer.direction()
    }
    fn backward(
        &self,
        tape: &LayerTape,
        d_output: &[f64],
        d_final: Option<&[f64]>,
        grads: &mut [Params<f64>],
    ) -> Result<InputGrads<f64>, LayerError> {
        self.layer.backward(tape, d_output, d_final, grads)
    }
    fn param_groups(&self) -> Vec<ParamGroup<'_, f64>> {
        self.layer.param_groups()
    }
    fn params_mut(&mut self) -> Vec<&mut Params<f64>> {
        self.layer.params_mut()
    }
}

/// Cell kinds under test: vanilla tanh, LSTM, GRU, GRU with the reset gate first (a general
/// step), the user's cell.
const KINDS: usize = 5;

fn cell(kind: usize, input: usize, hidden: usize, seed: u64) -> Box<dyn Cell<f64>> {
    let mut rng = seeded(seed);
    match kind {
        0 => Box::new(VanillaCell::new(input, hidden, Nonlinearity::Tanh, &mut rng).unwrap()),
        1 => Box::new(LstmCell::new(input, hidden, &mut rng).unwrap()),
        2 => Box::new(GruCell::new(input, hidden, &mut rng).unwrap()),
        3 => Box::new(GruResetBeforeCell::new(input, hidden, &mut rng).unwrap()),
        _ => Box::new(Leaky::new(input, hidden, seed)),
    }
}

fn direction(reverse: bool) -> Direction {
    if reverse {
        Direction::Reverse
    } else {
        Direction::Forward
    }
}

/// The rates of a case: dropout, zoneout of `h`, zoneout of the rest (only where there is a rest).
fn regularizer(rates: (f64, f64, f64), has_rest: bool) -> Regularizer {
    let c = if has_rest { rates.2 } else { 0.0 };
    Regularizer::new()
        .with_recurrent_dropout(rates.0)
        .unwrap()
        .with_zoneout(rates.1, c)
        .unwrap()
}

fn regularized(
    kind: usize,
    case: &UnrollCase,
    rates: (f64, f64, f64),
) -> Regularized<Box<dyn Cell<f64>>> {
    let c = cell(kind, case.input, case.hidden, case.seed);
    let has_rest = c.state_size() > c.hidden_size();
    let layer = Recurrent::with_direction(c, direction(case.reverse));
    Regularized::new(layer, regularizer(rates, has_rest)).unwrap()
}

fn rates() -> impl Strategy<Value = (f64, f64, f64)> {
    let rate = prop_oneof![Just(0.0), Just(0.3), Just(0.6)];
    (rate.clone(), rate.clone(), rate)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Training masks held fixed: every parameter, the input and the initial state, through time,
    /// with lengths and both directions.
    #[test]
    fn every_cell_passes_with_fixed_masks(
        kind in 0..KINDS,
        case in unroll_case(SizeRanges::default()),
        rates in rates(),
        mask_seed in any::<u64>(),
    ) {
        let layer = Fixed { layer: regularized(kind, &case, rates), seed: mask_seed };
        let report = check_layer(layer, &(&case).into(), &Options::default()).unwrap();
        prop_assert!(report.passed(), "kind {kind}, rates {rates:?}, {case:?}\n{report}");
    }

    /// Evaluation (no random source): zoneout's expectation mix, which is not a 0/1 mask.
    #[test]
    fn every_cell_passes_in_evaluation(
        kind in 0..KINDS,
        case in unroll_case(SizeRanges::default()),
        rates in rates(),
    ) {
        let report = check_layer(regularized(kind, &case, rates), &(&case).into(), &Options::default()).unwrap();
        prop_assert!(report.passed(), "kind {kind}, rates {rates:?}, {case:?}\n{report}");
    }
}

/// Bidirectional halves and a two-layer stack, masks fixed through the composites' own streams.
#[test]
fn composites_pass_with_fixed_masks() {
    for (kind, seed) in [(1, 3), (2, 4), (4, 5)] {
        let reg = |k: usize, input, s| {
            let c = cell(k, input, 3, s);
            let rest = c.state_size() > c.hidden_size();
            Regularized::new(Recurrent::new(c), regularizer((0.4, 0.3, 0.5), rest)).unwrap()
        };
        let bi =
            Bidirectional::new(reg(kind, 2, seed), reg(kind, 2, seed + 1), Merge::Concat).unwrap();
        let top = Regularized::new(
            Recurrent::with_direction(cell(kind, 6, 2, seed + 2), Direction::Reverse),
            regularizer((0.5, 0.2, 0.2), kind != 2),
        )
        .unwrap();
        let stack = Stack::new(vec![Box::new(bi), Box::new(top)]).unwrap();
        let case = SequenceCase {
            steps: 5,
            batch: 3,
            lengths: Some(vec![5, 2, 4]),
            initial_state: true,
            seed,
        };
        let layer = Fixed {
            layer: stack,
            seed: 99,
        };
        let report = check_layer(layer, &case, &Options::default()).unwrap();
        assert!(report.passed(), "kind {kind}\n{report}");
    }
}

/// The unroll of `layer` on a seeded sequence: output, final state, then (with a tape) the input,
/// initial-state and parameter gradients.
fn run<L: Layer<f64>>(layer: &L, steps: usize, batch: usize, train: Option<u64>) -> Vec<Vec<f64>> {
    let mut rng = seeded(42);
    let x = normal_vec(layer.input_size() * steps * batch, &mut rng);
    let h0 = normal_vec(layer.state_size() * batch, &mut rng);
    let d_out = normal_vec(layer.output_size() * steps * batch, &mut rng);
    let lengths: Vec<usize> = (0..batch).map(|b| steps - b % steps).collect();
    let inputs = Inputs::new(&x, steps, batch).initial(&h0).lengths(&lengths);
    let mut source = train.map(seeded);
    let (out, tape) = layer
        .forward(inputs, source.as_mut().map(|r| r as &mut dyn RngCore))
        .unwrap();
    let mut grads = layer.zero_grads();
    let g = layer.backward(&tape, &d_out, None, &mut grads).unwrap();
    let mut all = vec![out.output, out.final_state, g.d_input, g.d_initial];
    all.extend(
        grads
            .iter()
            .flat_map(|p| p.iter().map(|t| t.data().to_vec())),
    );
    all
}

#[test]
fn the_same_seed_gives_the_same_bits_on_one_and_two_threads() {
    // Large enough that the GEMMs split over a pool of two.
    let pools: Vec<_> = [1, 2]
        .iter()
        .map(|&n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
        })
        .collect();
    for kind in 0..KINDS {
        let make = || {
            let c = cell(kind, 24, 96, 7);
            let rest = c.state_size() > c.hidden_size();
            let half = |s| {
                Regularized::new(
                    Recurrent::new(cell(kind, 24, 96, s)),
                    regularizer((0.3, 0.1, 0.2), rest),
                )
                .unwrap()
            };
            Bidirectional::new(half(7), half(8), Merge::Concat).unwrap()
        };
        let [one, two] = [0, 1].map(|k| pools[k].install(|| run(&make(), 9, 20, Some(5))));
        assert!(one == two, "kind {kind}: 1 and 2 threads differ");
        let other = pools[1].install(|| run(&make(), 9, 20, Some(6)));
        assert!(one != other, "kind {kind}: the seed changes nothing");
    }
}

#[test]
fn evaluation_is_a_forward_without_a_random_source() {
    for kind in 0..KINDS {
        let case = UnrollCase {
            input: 3,
            hidden: 4,
            batch: 3,
            steps: 6,
            lengths: Some(vec![6, 2, 5]),
            reverse: kind % 2 == 0,
            initial_state: true,
            seed: 1,
        };
        let layer = regularized(kind, &case, (0.5, 0.3, 0.4));
        let mut rng = seeded(0);
        let x = normal_vec(3 * 6 * 3, &mut rng);
        let h0 = normal_vec(layer.state_size() * 3, &mut rng);
        let inputs = Inputs::new(&x, 6, 3).initial(&h0).lengths(&[6, 2, 5]);
        let infer = layer.infer(inputs).unwrap();
        assert_eq!(infer, layer.forward(inputs, None).unwrap().0, "kind {kind}");
        let trained = layer.forward(inputs, Some(&mut seeded(3))).unwrap().0;
        assert_ne!(
            infer, trained,
            "kind {kind}: training masks changed nothing"
        );
    }
}

/// `|a - b| <= 1e-12` everywhere, same length.
fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-12)
}

#[test]
fn evaluation_with_dropout_alone_is_the_plain_layer() {
    for kind in 0..KINDS {
        for reverse in [false, true] {
            let layer = || Recurrent::with_direction(cell(kind, 3, 5, 2), direction(reverse));
            let reg = Regularizer::new().with_recurrent_dropout(0.5).unwrap();
            let wrapped = Regularized::new(layer(), reg).unwrap();
            let (a, b) = (run(&wrapped, 7, 4, None), run(&layer(), 7, 4, None));
            assert_eq!(a.len(), b.len());
            for (k, (p, q)) in a.iter().zip(&b).enumerate() {
                assert!(close(p, q), "kind {kind}, reverse {reverse}, part {k}");
            }
            let back = wrapped.into_inner();
            assert_eq!(back.direction(), direction(reverse));
            assert_eq!(run(&back, 7, 4, None), b);
        }
    }
}

/// The zoneout recurrence written out, one step at a time through the plain cell: `state_t =
/// p state_{t-1} + (1 - p) cell(x_t, state_{t-1})`, `p` per row block (forward, full lengths).
fn expected_zoneout(
    c: &dyn Cell<f64>,
    x: &[f64],
    steps: usize,
    batch: usize,
    p: (f64, f64),
) -> Vec<f64> {
    let (i, h, s) = (c.input_size(), c.hidden_size(), c.state_size());
    let mut state = vec![0.0; s * batch];
    let mut next = vec![0.0; s * batch];
    let mut cache = vec![0.0; c.cache_size() * batch];
    let mut scratch = vec![0.0; c.step_scratch_size(batch)];
    let mut out = Vec::new();
    for t in 0..steps {
        c.step_forward(StepForward {
            x: &x[t * i * batch..][..i * batch],
            prev: &state,
            next: &mut next,
            cache: &mut cache,
            batch,
            scratch: &mut scratch,
        })
        .unwrap();
        for (k, v) in state.iter_mut().enumerate() {
            let d = if k % s < h { p.0 } else { p.1 };
            *v = d * *v + (1.0 - d) * next[k];
        }
        for col in state.chunks_exact(s) {
            out.extend_from_slice(&col[..h]);
        }
    }
    out
}

#[test]
fn zoneout_evaluates_as_the_expectation() {
    for kind in [0, 1, 4] {
        let p = (0.3, if kind == 0 { 0.0 } else { 0.6 });
        let reg = Regularizer::new().with_zoneout(p.0, p.1).unwrap();
        let layer = Regularized::new(Recurrent::new(cell(kind, 3, 4, 8)), reg).unwrap();
        let x = normal_vec(3 * 5 * 2, &mut seeded(1));
        let got = layer.infer(Inputs::new(&x, 5, 2)).unwrap().output;
        let want = expected_zoneout(&*cell(kind, 3, 4, 8), &x, 5, 2, p);
        assert!(close(&got, &want), "kind {kind}");
    }
}

/// A relu RNN with identity recurrent weights, no input weights and no bias, from a state of ones:
/// `h_t = relu(m ∘ h_{t-1})`, so a unit is `(1 / (1 - p))^t` while its mask keeps it and zero from
/// the first step it drops.
fn identity_relu(hidden: usize) -> VanillaCell<f64> {
    let mut c = VanillaCell::zeros(1, hidden, Nonlinearity::Relu, false).unwrap();
    let w = c.params_mut().get_mut("weight_hh").unwrap().data_mut();
    (0..hidden).for_each(|j| w[j * hidden + j] = 1.0);
    c
}

#[test]
fn a_recurrent_dropout_mask_is_one_per_sequence_and_keeps_the_expectation() {
    let (hidden, batch, steps, p) = (200, 50, 4, 0.3);
    let reg = Regularizer::new().with_recurrent_dropout(p).unwrap();
    let layer = Regularized::new(Recurrent::new(identity_relu(hidden)), reg).unwrap();
    let (x, h0) = (vec![0.0; steps * batch], vec![1.0; hidden * batch]);
    let inputs = Inputs::new(&x, steps, batch).initial(&h0);
    let y = layer
        .forward(inputs, Some(&mut seeded(4)))
        .unwrap()
        .0
        .output;
    let keep = 1.0 / (1.0 - p);
    let step = |t: usize| &y[t * hidden * batch..][..hidden * batch];
    // The units alive at the first step are the ones alive at the last: one mask per sequence.
    for t in 0..steps {
        let scale = keep.powi(t as i32 + 1);
        for (a, b) in step(0).iter().zip(step(t)) {
            assert!(
                if *a == 0.0 {
                    *b == 0.0
                } else {
                    (b - scale).abs() < 1e-9
                },
                "step {t}"
            );
        }
    }
    let kept = step(0).iter().filter(|&&v| v > 0.0).count() as f64 / (hidden * batch) as f64;
    // Five standard deviations of a binomial fraction over 10k draws is about 0.023.
    assert!((kept - (1.0 - p)).abs() < 0.023, "kept {kept}");
    // Samples get masks of their own.
    assert_ne!(step(0)[..hidden], step(0)[hidden..2 * hidden]);
}

#[test]
fn a_zoneout_mask_is_fresh_at_every_step_and_keeps_with_probability_p() {
    let (hidden, batch, steps, p) = (100, 20, 6, 0.4);
    let reg = Regularizer::new().with_zoneout(p, 0.0).unwrap();
    let c = VanillaCell::<f64>::new(2, hidden, Nonlinearity::Tanh, &mut seeded(2)).unwrap();
    let layer = Regularized::new(Recurrent::new(c.clone()), reg).unwrap();
    let x = normal_vec(2 * steps * batch, &mut seeded(3));
    let y = layer
        .forward(Inputs::new(&x, steps, batch), Some(&mut seeded(5)))
        .unwrap()
        .0
        .output;
    let hb = hidden * batch;
    let (mut kept, mut fresh) = (vec![0usize; steps], 0);
    let mut scratch = vec![0.0; c.step_scratch_size(batch)];
    let (mut next, mut cache) = (vec![0.0; hb], vec![0.0; Cell::cache_size(&c) * batch]);
    for t in 0..steps {
        let prev = if t == 0 {
            vec![0.0; hb]
        } else {
            y[(t - 1) * hb..][..hb].to_vec()
        };
        c.step_forward(StepForward {
            x: &x[t * 2 * batch..][..2 * batch],
            prev: &prev,
            next: &mut next,
            cache: &mut cache,
            batch,
            scratch: &mut scratch,
        })
        .unwrap();
        // Each unit is its previous value (kept) or the cell's new one, bit for bit.
        for k in 0..hb {
            let v = y[t * hb + k];
            if v == prev[k] && v != next[k] {
                kept[t] += 1;
            } else {
                assert_eq!(v, next[k], "step {t}, value {k}");
                fresh += 1;
            }
        }
    }
    assert!(fresh > 0);
    for (t, &k) in kept.iter().enumerate().skip(1) {
        let f = k as f64 / hb as f64;
        // Five standard deviations of a binomial fraction over 2000 draws is about 0.055.
        assert!((f - p).abs() < 0.055, "step {t}: kept {f}");
    }
}

#[test]
fn a_rate_outside_zero_to_one_is_a_typed_error() {
    let r = Regularizer::new();
    for bad in [1.0, 1.5, -0.1, f64::NAN, f64::INFINITY] {
        let e = r.with_recurrent_dropout(bad).unwrap_err();
        assert!(
            matches!(e, RegularizeError::Rate { rate: "recurrent dropout", got } if got.to_bits() == bad.to_bits())
        );
        let e = r.with_zoneout(bad, 0.0).unwrap_err();
        assert!(
            matches!(
                e,
                RegularizeError::Rate {
                    rate: "zoneout h",
                    ..
                }
            ),
            "{e}"
        );
        let e = r.with_zoneout(0.0, bad).unwrap_err();
        assert!(
            matches!(
                e,
                RegularizeError::Rate {
                    rate: "zoneout c",
                    ..
                }
            ),
            "{e}"
        );
    }
    assert_eq!(
        r.with_recurrent_dropout(1.0).unwrap_err().to_string(),
        "recurrent dropout must be in [0, 1), got 1"
    );
    for ok in [0.0, 0.5, 0.999] {
        assert_eq!(
            r.with_recurrent_dropout(ok).unwrap().recurrent_dropout(),
            ok
        );
        assert_eq!(r.with_zoneout(ok, ok).unwrap().zoneout_c(), ok);
    }
}

#[test]
fn a_c_rate_for_a_cell_without_c_is_a_typed_error() {
    let reg = Regularizer::new().with_zoneout(0.1, 0.2).unwrap();
    let gru = GruCell::<f64>::new(2, 3, &mut seeded(0)).unwrap();
    assert_eq!(
        Regularized::new(Recurrent::new(gru), reg).unwrap_err(),
        RegularizeError::NoCellState {
            rate: 0.2,
            hidden: 3
        }
    );
    let lstm = LstmCell::<f64>::new(2, 3, &mut seeded(0)).unwrap();
    assert!(Regularized::new(Recurrent::new(lstm), reg).is_ok());
}

#[test]
fn a_tape_of_another_layer_is_refused() {
    let c = || VanillaCell::<f64>::new(2, 3, Nonlinearity::Tanh, &mut seeded(0)).unwrap();
    let reg = Regularizer::new().with_recurrent_dropout(0.2).unwrap();
    let wrapped = Regularized::new(Recurrent::new(c()), reg).unwrap();
    let plain = Recurrent::new(c());
    let x = vec![0.1; 2 * 3];
    let (_, tape) = plain.forward(Inputs::new(&x, 3, 1), None).unwrap();
    let mut grads = wrapped.zero_grads();
    let e = wrapped
        .backward(&tape, &[0.0; 9], None, &mut grads)
        .unwrap_err();
    assert_eq!(
        e,
        LayerError::WrongTape {
            layer: "Regularized"
        }
    );
    // And a wrong input is the plain layer's typed error, checked at the wrapper's sizes.
    let e = wrapped
        .forward(Inputs::new(&x[..5], 3, 1), None)
        .unwrap_err();
    assert!(
        matches!(e, LayerError::InputShape { features: 2, .. }),
        "{e}"
    );
}
