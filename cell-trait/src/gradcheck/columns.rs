//! Whether a cell keeps the samples of a batch apart, as the unroller's column split needs.

use super::{Finding, GroupReport, Layout, Options, Report, Sampling, Verdict, normal_vec};
use crate::{Cell, CellExt, Params, StepBackward, StepForward, seeded};

/// Checks that `cell` treats the samples (columns) of a batch independently: one step forward and
/// backward on a random batch of `batch` samples drawn from `seed`, against the same step run on
/// each column alone. The unroller splits a gated cell's pointwise calls into column ranges on
/// several threads (see [`GatedCell`](crate::GatedCell)), so a cell that reduces across the batch
/// breaks there, and only at large sizes; this check finds it at any size.
///
/// Groups: `next`, `cache`, `d_x`, `d_prev`, then each parameter's gradient (the sum over the
/// columns run alone); every value is compared, the whole batch's value as
/// the report's "analytic" one and the columns' as its "numeric" one, to `1e-10` absolute plus
/// `1e-10` relative (or `opts`' `atol` and `rtol`, where larger). A `batch` below 2 has
/// nothing to compare: the report is empty and does not pass.
///
/// ```
/// # use rnnzoo_cell::{gradcheck, Cell};
/// # fn demo<C: Cell<f64>>(my_cell: &C) {
/// let report = gradcheck::check_columns(my_cell, 4, 0, &gradcheck::Options::default());
/// assert!(report.passed(), "{report}");
/// # }
/// ```
///
/// # Panics
///
/// If the cell refuses buffers of its own sizes: a bug in the cell, not in the call.
pub fn check_columns<C: Cell<f64> + ?Sized>(
    cell: &C,
    batch: usize,
    seed: u64,
    opts: &Options,
) -> Report {
    if batch < 2 {
        return Report::new(Vec::new());
    }
    let (i, s) = (cell.input_size(), cell.state_size());
    let mut rng = seeded(seed);
    let x = normal_vec(i * batch, &mut rng);
    let prev = normal_vec(s * batch, &mut rng);
    let d_next = normal_vec(s * batch, &mut rng);
    let whole = Step::run(cell, &x, &prev, &d_next, batch);
    let mut parts = Step::run(cell, &x[..i], &prev[..s], &d_next[..s], 1);
    for b in 1..batch {
        let col = |v: &[f64], rows: usize| v[b * rows..][..rows].to_vec();
        parts.add_column(Step::run(
            cell,
            &col(&x, i),
            &col(&prev, s),
            &col(&d_next, s),
            1,
        ));
    }
    let mut groups = Vec::new();
    // Both sides compute the same values, in a different order of summation at most: the
    // tolerance is rounding's, unless the options ask for a looser one.
    let (atol, rtol) = (opts.atol.max(ROUNDING), opts.rtol.max(ROUNDING));
    let mut compare = |name: &str, a: &[f64], b: &[f64]| {
        let mut g = GroupReport::new(name.to_string(), Sampling::Every, Layout::Flat, atol);
        for (k, (&a, &b)) in a.iter().zip(b).enumerate() {
            let tolerance = atol + rtol * b.abs();
            let verdict = if (a - b).abs() <= tolerance {
                Verdict::Pass
            } else {
                Verdict::Fail
            };
            g.record(Finding {
                index: k,
                location: super::Location::Flat { index: k },
                analytic: a,
                numeric: b,
                fd_error: 0.0,
                tolerance,
                verdict,
            });
        }
        groups.push(g);
    };
    compare("next", &whole.next, &parts.next);
    compare("cache", &whole.cache, &parts.cache);
    compare("d_x", &whole.d_x, &parts.d_x);
    compare("d_prev", &whole.d_prev, &parts.d_prev);
    for (p, q) in whole.grads.iter().zip(parts.grads.iter()) {
        compare(p.name(), p.data(), q.data());
    }
    Report::new(groups)
}

/// The tolerance of [`check_columns`]' comparisons, absolute and relative: the two sides differ by
/// the order of a few sums, some `1e-16` of the values; a cell that couples samples differs by
/// far more.
const ROUNDING: f64 = 1e-10;

/// Everything one step forward and backward writes.
struct Step {
    next: Vec<f64>,
    cache: Vec<f64>,
    d_x: Vec<f64>,
    d_prev: Vec<f64>,
    grads: Params<f64>,
}

impl Step {
    fn run<C: Cell<f64> + ?Sized>(
        cell: &C,
        x: &[f64],
        prev: &[f64],
        d_next: &[f64],
        batch: usize,
    ) -> Self {
        let mut next = vec![f64::NAN; prev.len()];
        let mut cache = vec![f64::NAN; cell.cache_size() * batch];
        let mut scratch = vec![f64::NAN; cell.step_scratch_size(batch)];
        cell.step_forward(StepForward {
            x,
            prev,
            next: &mut next,
            cache: &mut cache,
            batch,
            scratch: &mut scratch,
        })
        .expect("buffers of the cell's own sizes");
        let mut d_x = vec![f64::NAN; x.len()];
        let mut d_prev = vec![f64::NAN; prev.len()];
        let mut grads = cell.params().zeros_like();
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
        cell.step_backward(step, &mut grads)
            .expect("buffers of the cell's own sizes");
        Self {
            next,
            cache,
            d_x,
            d_prev,
            grads,
        }
    }

    /// Appends a one-column step's outputs and adds its parameter gradients.
    fn add_column(&mut self, col: Step) {
        self.next.extend(col.next);
        self.cache.extend(col.cache);
        self.d_x.extend(col.d_x);
        self.d_prev.extend(col.d_prev);
        for (a, b) in self.grads.iter_mut().zip(col.grads.iter()) {
            a.data_mut()
                .iter_mut()
                .zip(b.data())
                .for_each(|(a, b)| *a += b);
        }
    }
}
