//! The unroller's speed paths change no result: chunked hoisted products and column splits over
//! threads against the plain order, for every gated cell, with lengths and an initial state.

use rand::Rng;
use rnnzoo_cell::{
    Cell, CellExt, GeneralStep, Params, StepBackward, StepForm, StepForward, seeded,
};
use rnnzoo_gru::GruCell;
use rnnzoo_lstm::LstmCell;
use rnnzoo_vanilla::{Nonlinearity, VanillaCell};

use super::forward::Shape;
use super::{Direction, Inputs, Recurrent, backward, forward, reorder};

pub(super) type Cells = Vec<(&'static str, Box<dyn Cell<f64>>)>;

pub(super) fn cells(i: usize, h: usize) -> Cells {
    let mut r = seeded(11);
    vec![
        (
            "rnn",
            Box::new(VanillaCell::new(i, h, Nonlinearity::Tanh, &mut r).unwrap()),
        ),
        ("lstm", Box::new(LstmCell::new(i, h, &mut r).unwrap())),
        ("gru", Box::new(GruCell::new(i, h, &mut r).unwrap())),
    ]
}

pub(super) fn random(n: usize, seed: u64) -> Vec<f64> {
    let mut r = seeded(seed);
    (0..n).map(|_| r.random_range(-1.0..1.0)).collect()
}

/// Everything a forward+backward produces, flattened.
fn unroll(cell: &dyn Cell<f64>, shape: &Shape, lengths: &[usize]) -> Vec<f64> {
    let (i, s) = (cell.input_size(), cell.state_size());
    let (t, b) = (shape.steps, shape.batch);
    let x = reorder(&random(i * t * b, 1), i, t, b, Some(lengths), false);
    let init = random(s * b, 2);
    let f = forward::run(cell, &x, shape, Some(&init), Some(lengths), true);
    let d_out = random(f.output.len(), 3);
    let d_final = random(s * b, 4);
    let rec = backward::Recorded {
        x: &x,
        states: &f.states,
        cache: &f.cache,
        lengths: Some(lengths),
    };
    let mut grads = cell.params().zeros_like();
    let (d_x, d_init) = backward::run(cell, &rec, shape, &d_out, Some(&d_final), &mut grads);
    let mut all = [f.output, f.states, f.cache, d_x, d_init].concat();
    for p in grads.iter() {
        all.extend_from_slice(p.data());
    }
    all
}

fn assert_close(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-12 * (1.0 + y.abs()),
            "{what}: value {k}: {x} vs {y}"
        );
    }
}

#[test]
fn chunks_of_any_size_give_the_whole_sequence_result() {
    let (steps, batch) = (7, 3);
    let lengths = [7, 4, 1];
    for (name, cell) in cells(3, 5) {
        let whole = Shape {
            steps,
            batch,
            chunk: steps,
        };
        let want = unroll(&*cell, &whole, &lengths);
        for chunk in [1, 2, 3, 6] {
            let got = unroll(&*cell, &Shape { chunk, ..whole }, &lengths);
            assert_close(&got, &want, &format!("{name}, chunk {chunk}"));
        }
    }
}

#[test]
fn two_threads_split_columns_without_changing_results() {
    // Large enough that each step's pointwise work is split over the pool.
    let (steps, batch, input, hidden) = (6, 32, 16, 128);
    let lengths: Vec<usize> = (0..batch).map(|b| 1 + b % steps).collect();
    let pool = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
    };
    let (one, two) = (pool(1), pool(2));
    for (name, cell) in cells(input, hidden) {
        let mut layer = Recurrent::new(cell);
        for dir in [Direction::Forward, Direction::Reverse] {
            layer = Recurrent::with_direction(layer.into_cell(), dir);
            let cell = layer.cell();
            let x = random(input * steps * batch, 5);
            let run = || {
                let inp = Inputs::new(&x, steps, batch).lengths(&lengths);
                let (out, tape) = layer.forward_valid(inp);
                let d_out = random(out.output.len(), 6);
                let mut grads = cell.params().zeros_like();
                let g = layer
                    .backward_tape(&tape, &d_out, None, &mut grads)
                    .unwrap();
                let mut all = [out.output, out.final_state, g.d_input, g.d_initial].concat();
                for p in grads.iter() {
                    all.extend_from_slice(p.data());
                }
                all
            };
            let want = one.install(run);
            let got = two.install(run);
            assert_close(&got, &want, &format!("{name} {dir:?}"));
        }
    }
}

#[test]
fn the_tape_holds_the_input_every_state_and_every_cache() {
    let (i, h, t, b) = (3, 4, 5, 2);
    let layer = Recurrent::new(LstmCell::<f64>::new(i, h, &mut seeded(0)).unwrap());
    let x = random(i * t * b, 1);
    let (_, tape) = layer.forward_valid(Inputs::new(&x, t, b));
    let (s, c) = (layer.cell().state_size(), layer.cell().cache_size());
    assert_eq!(tape.len(), i * t * b + (t + 1) * s * b + t * c * b);
    assert!(!tape.is_empty());
}

#[test]
fn a_layer_reports_its_direction() {
    let cell = || VanillaCell::<f64>::new(2, 3, Nonlinearity::Tanh, &mut seeded(0)).unwrap();
    assert_eq!(Recurrent::new(cell()).direction(), Direction::Forward);
    assert_eq!(
        Recurrent::with_direction(cell(), Direction::Reverse).direction(),
        Direction::Reverse
    );
}

/// A cell run one whole step at a time through the trait's own `step_forward`/`step_backward`
/// (plain GEMMs on the weights as they lie), so the unroller's general path becomes a reference
/// for its gated fast path.
pub(super) struct StepByStep(pub(super) Box<dyn Cell<f64>>);

impl Cell<f64> for StepByStep {
    fn input_size(&self) -> usize {
        self.0.input_size()
    }
    fn hidden_size(&self) -> usize {
        self.0.hidden_size()
    }
    fn state_size(&self) -> usize {
        self.0.state_size()
    }
    fn cache_size(&self) -> usize {
        self.0.cache_size()
    }
    fn mode(&self) -> &str {
        self.0.mode()
    }
    fn params(&self) -> &Params<f64> {
        self.0.params()
    }
    fn params_mut(&mut self) -> &mut Params<f64> {
        self.0.params_mut()
    }
    fn form(&self) -> StepForm<'_, f64> {
        StepForm::General(self)
    }
}

impl GeneralStep<f64> for StepByStep {
    fn scratch_size(&self, batch: usize) -> usize {
        self.0.step_scratch_size(batch)
    }
    fn forward(&self, step: StepForward<'_, f64>) {
        self.0.step_forward(step).expect("the unroller's own sizes")
    }
    fn backward(&self, step: StepBackward<'_, f64>, grads: &mut Params<f64>) {
        self.0
            .step_backward(step, grads)
            .expect("the unroller's own sizes")
    }
}

#[test]
fn packed_weights_give_the_step_by_step_result() {
    // The LSTM's W_ih, W_hh and W_hh^T are all packed, in several panels (the GRU's and RNN's
    // W_hh too); the second shape has enough columns for W_ih to be packed.
    let (input, hidden) = (270, 520);
    assert!(4 * hidden * hidden > super::work::PACK_TRANSPOSED_MIN);
    let long_lengths: Vec<usize> = (0..128).map(|b| 1 + b % 2).collect();
    for (shape, lengths) in [
        (Shape::new(3, 2), vec![3, 2]),
        (Shape::new(2, 128), long_lengths),
    ] {
        for (name, cell) in cells(input, hidden) {
            let want = unroll(&StepByStep(cell), &shape, &lengths);
            let cell = cells(input, hidden)
                .into_iter()
                .find(|(n, _)| *n == name)
                .unwrap()
                .1;
            let got = unroll(&*cell, &shape, &lengths);
            assert_close(&got, &want, name);
        }
    }
}

#[test]
fn weights_are_packed_where_packing_was_measured_to_pay() {
    use super::work::{PACK_TRANSPOSED_MIN, packs_w_hh_t, packs_w_ih};
    // W_ih: in place for short, narrow sequences (B 1 T 100, B 8 T 20), packed from 256 columns.
    assert!(!packs_w_ih(100, 1) && !packs_w_ih(20, 8) && !packs_w_ih(255, 1));
    assert!(packs_w_ih(256, 1) && packs_w_ih(4, 64) && packs_w_ih(50, 64));
    // W_hh^T: packed at H 1024 (4M values, 10% faster backward), not at H 512 (1M, no gain).
    assert!(!packs_w_hh_t(4 * 512 * 512) && packs_w_hh_t(4 * 1024 * 1024));
    assert!(!packs_w_hh_t(PACK_TRANSPOSED_MIN) && packs_w_hh_t(PACK_TRANSPOSED_MIN + 1));
}

/// A general cell with per-pass work, `h_t = v h_{t-1} + x_t` with `v = 2 w` derived once per
/// pass: `begin_pass` writes `v` and zeroes an accumulator of `dL/dv`, which `end_backward` turns
/// into `dL/dw`. It counts its hook calls.
struct PerPass {
    params: Params<f64>,
    begins: std::sync::atomic::AtomicUsize,
    ends: std::sync::atomic::AtomicUsize,
}

impl PerPass {
    fn new(w: f64) -> Self {
        let mut params = Params::new();
        let p = rnnzoo_cell::Param::from_vec("w", &[1], 1, vec![w]).unwrap();
        params.push(p).unwrap();
        Self {
            params,
            begins: 0.into(),
            ends: 0.into(),
        }
    }
    fn counts(&self) -> (usize, usize) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.begins.load(Relaxed), self.ends.load(Relaxed))
    }
}

impl Cell<f64> for PerPass {
    fn input_size(&self) -> usize {
        1
    }
    fn hidden_size(&self) -> usize {
        1
    }
    fn cache_size(&self) -> usize {
        0
    }
    fn mode(&self) -> &str {
        "PER_PASS"
    }
    fn params(&self) -> &Params<f64> {
        &self.params
    }
    fn params_mut(&mut self) -> &mut Params<f64> {
        &mut self.params
    }
    fn form(&self) -> StepForm<'_, f64> {
        StepForm::General(self)
    }
}

impl GeneralStep<f64> for PerPass {
    fn scratch_size(&self, _: usize) -> usize {
        2 // [v, dL/dv]
    }
    fn begin_pass(&self, scratch: &mut [f64], _: usize) {
        self.begins
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        scratch[0] = 2.0 * self.params.at(0).data()[0];
        scratch[1] = 0.0;
    }
    fn end_backward(&self, scratch: &mut [f64], grads: &mut Params<f64>) {
        self.ends.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        grads.at_mut(0).data_mut()[0] += 2.0 * scratch[1];
    }
    fn forward(&self, s: StepForward<'_, f64>) {
        for b in 0..s.batch {
            s.next[b] = s.scratch[0] * s.prev[b] + s.x[b];
        }
    }
    fn backward(&self, s: StepBackward<'_, f64>, _: &mut Params<f64>) {
        for b in 0..s.batch {
            s.scratch[1] += s.d_next[b] * s.prev[b];
            s.d_prev[b] = s.scratch[0] * s.d_next[b];
            s.d_x[b] = s.d_next[b];
        }
    }
}

#[test]
fn per_pass_hooks_run_once_per_pass_and_their_gradient_is_exact() {
    // T = 4, B = 2, h_0 = 0, loss = sum of the final states: dL/dw = 2 * sum_t v^(T-1-t) h_t.
    let cell = PerPass::new(0.75);
    let shape = Shape::new(4, 2);
    let x = [1.0, -1.0, 0.5, 2.0, -0.25, 0.0, 1.5, 1.0];
    let f = forward::run(&cell, &x, &shape, None, None, true);
    assert_eq!(cell.counts(), (1, 0));
    let rec = backward::Recorded {
        x: &x,
        states: &f.states,
        cache: &f.cache,
        lengths: None,
    };
    let mut grads = cell.params().zeros_like();
    let d_out = vec![0.0; 8];
    backward::run(&cell, &rec, &shape, &d_out, Some(&[1.0, 1.0]), &mut grads);
    assert_eq!(cell.counts(), (2, 1));
    let v: f64 = 1.5;
    let want: f64 = (0..2)
        .map(|b| {
            (0..4)
                .map(|t| v.powi(3 - t as i32) * f.states[t * 2 + b])
                .sum::<f64>()
        })
        .sum::<f64>()
        * 2.0;
    assert!(
        (grads.at(0).data()[0] - want).abs() < 1e-12,
        "{grads:?} {want}"
    );
    // One step through CellExt is a pass of its own: both hooks run around it.
    let mut scratch = [f64::NAN; 2];
    let (mut next, mut cache) = ([0.0; 2], [0.0; 0]);
    cell.step_forward(StepForward {
        x: &x[..2],
        prev: &[1.0, 2.0],
        next: &mut next,
        cache: &mut cache,
        batch: 2,
        scratch: &mut scratch,
    })
    .unwrap();
    assert_eq!((next, cell.counts()), ([2.5, 2.0], (3, 1)));
    let (mut d_x, mut d_prev) = ([0.0; 2], [0.0; 2]);
    let mut g = cell.params().zeros_like();
    let step = StepBackward {
        x: &x[..2],
        prev: &[1.0, 2.0],
        cache: &[],
        d_next: &[1.0, 1.0],
        d_x: &mut d_x,
        d_prev: &mut d_prev,
        batch: 2,
        scratch: &mut scratch,
    };
    cell.step_backward(step, &mut g).unwrap();
    assert_eq!((g.at(0).data()[0], cell.counts()), (6.0, (4, 2)));
}

/// Cells whose state gradient halves exactly at every step: every parameter zero (so the state
/// stays 0 and every gate is sigmoid(0) = 1/2), except the tanh RNN's `W_hh = 1/2`.
fn halving_cells() -> Vec<(&'static str, Box<dyn Cell<f32>>)> {
    let mut r = seeded(5);
    let mut cells: Vec<(&'static str, Box<dyn Cell<f32>>)> = vec![
        (
            "rnn",
            Box::new(VanillaCell::new(1, 1, Nonlinearity::Tanh, &mut r).unwrap()),
        ),
        ("lstm", Box::new(LstmCell::new(1, 1, &mut r).unwrap())),
        ("gru", Box::new(GruCell::new(1, 1, &mut r).unwrap())),
        (
            "gru-reset-before (general form)",
            Box::new(rnnzoo_gru::GruResetBeforeCell::new(1, 1, &mut r).unwrap()),
        ),
    ];
    for (name, cell) in &mut cells {
        for p in cell.params_mut().iter_mut() {
            let v = if *name == "rnn" && p.name() == "weight_hh" {
                0.5
            } else {
                0.0
            };
            p.data_mut().fill(v);
        }
    }
    cells
}

/// The gradient at the initial state after `steps` halvings of a unit gradient on the final
/// state's last entry (c for the LSTM, h for the others).
fn halved(cell: &dyn Cell<f32>, steps: usize) -> Vec<f32> {
    let s = cell.state_size();
    let shape = Shape::new(steps, 1);
    let x = vec![0.0; steps];
    let f = forward::run(cell, &x, &shape, None, None, true);
    let rec = backward::Recorded {
        x: &x,
        states: &f.states,
        cache: &f.cache,
        lengths: None,
    };
    let mut grads = cell.params().zeros_like();
    let d_out = vec![0.0; f.output.len()];
    let mut d_final = vec![0.0; s];
    d_final[s - 1] = 1.0;
    backward::run(cell, &rec, &shape, &d_out, Some(&d_final), &mut grads).1
}

#[test]
fn a_vanished_gradient_is_flushed_to_zero_before_it_turns_subnormal() {
    let tiny = rnnzoo_cell::tiny::<f32>(); // 2^-103
    for (name, cell) in halving_cells() {
        // 2^-100 is above the threshold: carried exactly.
        let kept = halved(&*cell, 100);
        assert!(
            kept.contains(&2f32.powi(-100)),
            "{name}: {kept:?} should hold 2^-100"
        );
        // 2^-110 is a normal f32, but below the threshold: zero, not 2^-110.
        let flushed = halved(&*cell, 110);
        assert!(
            flushed.iter().all(|&v| v == 0.0),
            "{name}: {flushed:?} should be flushed below {tiny:e}"
        );
    }
}
