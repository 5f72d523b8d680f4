//! One step of a cell as a [`Differentiable`], so a cell is checked before anything unrolls it.

use super::{Differentiable, Layout, Options, Report, check, normal_vec};
use crate::{Cell, CellExt, StepBackward, StepForward, seeded};

/// One step of `cell` on a fixed input and previous state, with loss `<cotangent, state_t>`.
///
/// Groups: every parameter by its name, then `input` and `state` (the previous state, `h` and
/// any extra rows such as LSTM's `c`).
///
/// Every buffer a step writes (`next`, `cache`, `d_x`, `d_prev`) and the scratch are NaN before
/// each call, so a step that reads one before writing it, or adds into an output instead of
/// overwriting it, fails the check (see the rules on [`GeneralStep`](crate::GeneralStep)).
pub struct CellStep<'a, C> {
    cell: &'a mut C,
    batch: usize,
    x: Vec<f64>,
    prev: Vec<f64>,
    cotangent: Vec<f64>,
}

impl<'a, C: Cell<f64>> CellStep<'a, C> {
    /// A step on standard-normal input, previous state and cotangent drawn from `seed`. With
    /// `batch` 0 the step has no values and the loss is zero.
    pub fn random(cell: &'a mut C, batch: usize, seed: u64) -> Self {
        let mut rng = seeded(seed);
        let x = normal_vec(cell.input_size() * batch, &mut rng);
        let prev = normal_vec(cell.state_size() * batch, &mut rng);
        let cotangent = normal_vec(cell.state_size() * batch, &mut rng);
        Self {
            cell,
            batch,
            x,
            prev,
            cotangent,
        }
    }

    /// The next state and the cache.
    /// A cell that refuses buffers of its own sizes is a bug in the cell, so that panics.
    fn run(&self) -> (Vec<f64>, Vec<f64>) {
        let (s, b) = (self.cell.state_size(), self.batch);
        if b == 0 {
            return (Vec::new(), Vec::new());
        }
        let mut next = vec![f64::NAN; s * b];
        let mut cache = vec![f64::NAN; self.cell.cache_size() * b];
        let mut scratch = vec![f64::NAN; self.cell.step_scratch_size(b)];
        self.cell
            .step_forward(StepForward {
                x: &self.x,
                prev: &self.prev,
                next: &mut next,
                cache: &mut cache,
                batch: b,
                scratch: &mut scratch,
            })
            .expect("buffers of the cell's own sizes");
        (next, cache)
    }
}

impl<C: Cell<f64>> Differentiable for CellStep<'_, C> {
    fn groups(&self) -> Vec<String> {
        let mut g: Vec<String> = self.cell.params().names().map(String::from).collect();
        g.push("input".into());
        g.push("state".into());
        g
    }

    fn values_mut(&mut self, group: usize) -> &mut [f64] {
        let n = self.cell.params().len();
        match group {
            g if g < n => self.cell.params_mut().at_mut(g).data_mut(),
            g if g == n => &mut self.x,
            _ => &mut self.prev,
        }
    }

    fn loss(&mut self) -> f64 {
        let (next, _) = self.run();
        next.iter().zip(&self.cotangent).map(|(a, b)| a * b).sum()
    }

    fn loss_scale(&mut self) -> f64 {
        let (next, _) = self.run();
        next.iter()
            .zip(&self.cotangent)
            .map(|(a, b)| (a * b).abs())
            .sum()
    }

    fn layout(&self, group: usize) -> Layout {
        let params = self.cell.params();
        match group {
            g if g < params.len() => super::param_layout(params.at(g)),
            g if g == params.len() => Layout::State {
                batch: self.batch,
                rows: self.cell.input_size(),
            },
            _ => Layout::State {
                batch: self.batch,
                rows: self.cell.state_size(),
            },
        }
    }

    fn gradients(&mut self) -> Vec<Vec<f64>> {
        let b = self.batch;
        let (_, cache) = self.run();
        let mut grads = self.cell.params().zeros_like();
        if b == 0 {
            let mut g: Vec<Vec<f64>> = grads.iter().map(|p| p.data().to_vec()).collect();
            g.extend([Vec::new(), Vec::new()]);
            return g;
        }
        let mut d_x = vec![f64::NAN; self.x.len()];
        let mut d_prev = vec![f64::NAN; self.prev.len()];
        let mut scratch = vec![f64::NAN; self.cell.step_scratch_size(b)];
        self.cell
            .step_backward(
                StepBackward {
                    x: &self.x,
                    prev: &self.prev,
                    cache: &cache,
                    d_next: &self.cotangent,
                    d_x: &mut d_x,
                    d_prev: &mut d_prev,
                    batch: b,
                    scratch: &mut scratch,
                },
                &mut grads,
            )
            .expect("buffers of the cell's own sizes");
        let mut g: Vec<Vec<f64>> = grads.iter().map(|p| p.data().to_vec()).collect();
        g.push(d_x);
        g.push(d_prev);
        g
    }
}

/// Checks one step of `cell` on a random batch (see [`CellStep::random`]): every parameter
/// element, the input and the previous state. A batch of 0 checks nothing, and the report says so
/// (it does not pass).
///
/// ```
/// # use rnnzoo_cell::{gradcheck, Cell};
/// # fn demo<C: Cell<f64>>(my_cell: &mut C) {
/// let report = gradcheck::check_cell(my_cell, 3, 42, &gradcheck::Options::default());
/// println!("{report}");
/// assert!(report.passed());
/// # }
/// ```
pub fn check_cell<C: Cell<f64>>(cell: &mut C, batch: usize, seed: u64, opts: &Options) -> Report {
    if batch == 0 {
        return Report::new(Vec::new());
    }
    check(&mut CellStep::random(cell, batch, seed), opts)
}
