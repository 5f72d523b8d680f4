//! The cell contract from a user's crate: a gated cell written against `rnnzoo-cell` alone gets
//! `Cell` from `GatedCell`, steps through `CellExt` (boxed or not), may share `d_gh` with `d_gi`
//! without changing a bit, and the checks catch a cell that couples samples or adds into its
//! outputs.

use rnnzoo_cell::gradcheck::{self, Options, normal_vec};
use rnnzoo_cell::rand::Rng;
use rnnzoo_cell::{
    Cell, CellError, CellExt, GateWeights, GatedCell, GeneralStep, Params, PointwiseBackward,
    PointwiseForward, Real, StepBackward, StepForm, StepForward, seeded,
};

/// `h_t = (1 - a) h_{t-1} + a tanh(gi + gh) + c * mean_b(h_{t-1})`: with `c = 0` a leaky tanh
/// cell; with `c != 0` every sample also reads the batch mean of the previous state (a correct
/// function with a correct backward, but one that couples samples).
struct Leaky<T> {
    weights: GateWeights<T>,
    a: T,
    coupling: T,
    /// Declare `d_gh == d_gi` (else write `d_gh` as a copy).
    shared: bool,
}

impl<T: Real> Leaky<T> {
    fn new<R: Rng>(input: usize, hidden: usize, rng: &mut R) -> Self {
        let mut weights = GateWeights::zeros(input, hidden, 1, true).unwrap();
        weights.init_pytorch(rng);
        Self {
            weights,
            a: T::from_f64_lossy(0.3),
            coupling: T::zero(),
            shared: true,
        }
    }
}

impl<T: Real> GatedCell for Leaky<T> {
    type Real = T;
    fn weights(&self) -> &GateWeights<T> {
        &self.weights
    }
    fn weights_mut(&mut self) -> &mut GateWeights<T> {
        &mut self.weights
    }
    fn mode(&self) -> &str {
        "LEAKY"
    }
    fn cache_size(&self) -> usize {
        self.weights.hidden()
    }
    fn d_gh_is_d_gi(&self) -> bool {
        self.shared
    }
    fn forward_pointwise(&self, f: PointwiseForward<'_, T>) {
        let h = self.weights.hidden();
        let scale = self.coupling / T::from_usize(f.batch).unwrap();
        for j in 0..h {
            let mean: T = (0..f.batch).map(|b| f.prev[b * h + j]).sum();
            for b in 0..f.batch {
                let k = b * h + j;
                f.cache[k] = (f.gi[k] + f.gh[k]).tanh();
                f.next[k] = (T::one() - self.a) * f.prev[k] + self.a * f.cache[k] + scale * mean;
            }
        }
    }
    fn backward_pointwise(&self, b: PointwiseBackward<'_, T>) {
        let h = self.weights.hidden();
        let scale = self.coupling / T::from_usize(b.batch).unwrap();
        for j in 0..h {
            let sum: T = (0..b.batch).map(|c| b.d_next[c * h + j]).sum();
            for c in 0..b.batch {
                let k = c * h + j;
                let u = b.cache[k];
                b.d_gi[k] = b.d_next[k] * self.a * (T::one() - u * u);
                b.d_prev[k] = (T::one() - self.a) * b.d_next[k] + scale * sum;
            }
        }
        if !self.shared {
            b.d_gh.copy_from_slice(b.d_gi);
        }
    }
}

/// A cell in the general form that steps an inner cell and adds its `d_prev` into the buffer it
/// is given, against the rule that `d_prev` is overwritten.
struct AddsIntoDPrev(Leaky<f64>);

impl Cell<f64> for AddsIntoDPrev {
    fn input_size(&self) -> usize {
        self.0.input_size()
    }
    fn hidden_size(&self) -> usize {
        self.0.hidden_size()
    }
    fn cache_size(&self) -> usize {
        Cell::cache_size(&self.0)
    }
    fn mode(&self) -> &str {
        "ADDS"
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

impl GeneralStep<f64> for AddsIntoDPrev {
    fn scratch_size(&self, batch: usize) -> usize {
        self.0.step_scratch_size(batch)
    }
    fn forward(&self, s: StepForward<'_, f64>) {
        self.0.step_forward(s).unwrap()
    }
    fn backward(&self, s: StepBackward<'_, f64>, grads: &mut Params<f64>) {
        let mut mine = vec![0.0; s.d_prev.len()];
        let inner = StepBackward {
            d_prev: &mut mine,
            ..s
        };
        self.0.step_backward(inner, grads).unwrap();
        for (d, m) in s.d_prev.iter_mut().zip(&mine) {
            *d += m;
        }
    }
}

/// Everything a step forward and backward writes, flattened.
fn step_all(cell: &dyn Cell<f64>, batch: usize, seed: u64) -> Vec<f64> {
    let (i, s) = (cell.input_size(), cell.state_size());
    let mut rng = seeded(seed);
    let x = normal_vec(i * batch, &mut rng);
    let prev = normal_vec(s * batch, &mut rng);
    let d_next = normal_vec(s * batch, &mut rng);
    let mut next = vec![f64::NAN; s * batch];
    let mut cache = vec![f64::NAN; cell.cache_size() * batch];
    let mut scratch = vec![f64::NAN; cell.step_scratch_size(batch)];
    cell.step_forward(StepForward {
        x: &x,
        prev: &prev,
        next: &mut next,
        cache: &mut cache,
        batch,
        scratch: &mut scratch,
    })
    .unwrap();
    let (mut d_x, mut d_prev) = (vec![f64::NAN; x.len()], vec![f64::NAN; prev.len()]);
    let mut grads = cell.params().zeros_like();
    let step = StepBackward {
        x: &x,
        prev: &prev,
        cache: &cache,
        d_next: &d_next,
        d_x: &mut d_x,
        d_prev: &mut d_prev,
        batch,
        scratch: &mut scratch,
    };
    cell.step_backward(step, &mut grads).unwrap();
    let mut all = [next, cache, d_x, d_prev].concat();
    grads.iter().for_each(|p| all.extend_from_slice(p.data()));
    all
}

#[test]
fn a_gated_cell_from_another_crate_is_a_cell_and_passes_its_checks() {
    let mut cell = Leaky::<f64>::new(3, 4, &mut seeded(0));
    assert_eq!(
        (
            cell.input_size(),
            cell.hidden_size(),
            Cell::state_size(&cell)
        ),
        (3, 4, 4)
    );
    assert_eq!((Cell::mode(&cell), Cell::cache_size(&cell)), ("LEAKY", 4));
    assert!(matches!(cell.form(), StepForm::Gated(_)));
    assert_eq!(cell.params().names().count(), 4);
    cell.params_mut().at_mut(0).data_mut()[0] = 0.5;
    assert_eq!(cell.weights().weight_ih().data()[0], 0.5);
    let opts = Options::default();
    for batch in 1..=3 {
        let report = gradcheck::check_cell(&mut cell, batch, 7, &opts);
        assert!(report.passed(), "{report}");
    }
    assert!(gradcheck::check_columns(&cell, 5, 1, &opts).passed());
}

#[test]
fn sharing_d_gh_with_d_gi_changes_no_bit() {
    let shared = Leaky::<f64>::new(3, 5, &mut seeded(2));
    let copied = Leaky {
        shared: false,
        weights: shared.weights.clone(),
        ..shared
    };
    assert!(shared.d_gh_is_d_gi() && !copied.d_gh_is_d_gi());
    for batch in [1, 4] {
        assert_eq!(step_all(&shared, batch, 3), step_all(&copied, batch, 3));
    }
    // A shared d_gh needs no more scratch than the two gate blocks the forward step has anyway.
    assert_eq!(shared.step_scratch_size(4), 2 * 5 * 4);
}

#[test]
fn a_boxed_cell_steps_as_the_cell_itself() {
    let cell = Leaky::<f64>::new(2, 3, &mut seeded(4));
    let want = step_all(&cell, 3, 5);
    let boxed: Box<dyn Cell<f64>> = Box::new(cell);
    assert_eq!(step_all(&boxed, 3, 5), want);
    assert_eq!(boxed.step_scratch_size(3), 2 * 3 * 3);
}

#[test]
fn check_columns_catches_a_cell_that_couples_samples() {
    let opts = Options::default();
    let mut coupled = Leaky::<f64>::new(3, 4, &mut seeded(6));
    coupled.coupling = 0.5;
    // Its gradients are right, so a gradient check alone cannot tell...
    let report = gradcheck::check_cell(&mut coupled, 3, 0, &opts);
    assert!(report.passed(), "{report}");
    // ...but the unroller's column split would change what it computes.
    let columns = gradcheck::check_columns(&coupled, 3, 0, &opts);
    assert!(!columns.passed(), "{columns}");
    assert!(!columns.group("next").unwrap().passed());
    assert!(!columns.group("d_prev").unwrap().passed());
    assert!(columns.group("cache").unwrap().passed());
    // Nothing to compare in a batch of one.
    assert_eq!(gradcheck::check_columns(&coupled, 1, 0, &opts).checked(), 0);
}

#[test]
fn check_cell_catches_a_step_that_adds_into_d_prev() {
    let opts = Options::default();
    let mut good = Leaky::<f64>::new(3, 4, &mut seeded(8));
    assert!(gradcheck::check_cell(&mut good, 2, 0, &opts).passed());
    let mut adds = AddsIntoDPrev(good);
    let report = gradcheck::check_cell(&mut adds, 2, 0, &opts);
    assert!(!report.passed(), "{report}");
    assert!(!report.group("state").unwrap().passed());
    assert!(report.group("input").unwrap().passed());
}

#[test]
fn a_batch_of_zero_checks_nothing() {
    let mut cell = Leaky::<f64>::new(3, 4, &mut seeded(0));
    let report = gradcheck::check_cell(&mut cell, 0, 0, &Options::default());
    assert!(!report.passed());
    assert!(report.to_string().contains("nothing was checked"));
}

#[test]
fn wrong_buffers_are_typed_errors_and_nothing_is_written() {
    let cell = Leaky::<f32>::new(2, 3, &mut seeded(0));
    let (x, prev) = ([1.0f32; 4], [0.5f32; 6]);
    let (mut next, mut cache) = ([9.0f32; 6], [9.0f32; 6]);
    let mut scratch = vec![0.0f32; cell.step_scratch_size(2)];
    let mut fwd = |x: &[f32], batch: usize, scratch: &mut [f32]| {
        cell.step_forward(StepForward {
            x,
            prev: &prev,
            next: &mut next,
            cache: &mut cache,
            batch,
            scratch,
        })
    };
    assert_eq!(
        fwd(&x[..3], 2, &mut scratch),
        Err(CellError::BufferSize {
            buffer: "x",
            expected: 4,
            got: 3,
            batch: 2
        })
    );
    assert_eq!(
        fwd(&x, 2, &mut scratch[..5]),
        Err(CellError::ScratchSize {
            needed: 12,
            got: 5,
            batch: 2
        })
    );
    assert_eq!(
        fwd(&x, 0, &mut scratch),
        Err(CellError::ZeroSize { what: "batch" })
    );
    assert_eq!(next, [9.0; 6], "a refused call writes nothing");
    let mut fwd = |x: &[f32], batch: usize, scratch: &mut [f32]| {
        cell.step_forward(StepForward {
            x,
            prev: &prev,
            next: &mut next,
            cache: &mut cache,
            batch,
            scratch,
        })
    };
    fwd(&x, 2, &mut scratch).unwrap();

    let (d_next, mut d_x, mut d_prev) = ([1.0f32; 6], [0.0f32; 4], [0.0f32; 6]);
    let mut grads = cell.params().zeros_like();
    let mut bwd = |d_prev: &mut [f32], grads: &mut Params<f32>| {
        let step = StepBackward {
            x: &x,
            prev: &prev,
            cache: &cache,
            d_next: &d_next,
            d_x: &mut d_x,
            d_prev,
            batch: 2,
            scratch: &mut scratch,
        };
        cell.step_backward(step, grads)
    };
    assert_eq!(
        bwd(&mut d_prev[..4], &mut grads),
        Err(CellError::BufferSize {
            buffer: "d_prev",
            expected: 6,
            got: 4,
            batch: 2
        })
    );
    let mut other = Leaky::<f32>::new(2, 2, &mut seeded(0))
        .params()
        .zeros_like();
    let err = bwd(&mut d_prev, &mut other).unwrap_err();
    let CellError::GradsLayout { expected, got } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (expected[1].as_str(), got[1].as_str()),
        ("weight_hh [3, 3]", "weight_hh [2, 2]")
    );
    assert!(err.to_string().contains("weight_hh [2, 2]"), "{err}");
    assert!(grads.iter().all(|p| p.data().iter().all(|&v| v == 0.0)));
    bwd(&mut d_prev, &mut grads).unwrap();
    assert!(grads.iter().any(|p| p.data().iter().any(|&v| v != 0.0)));
}
