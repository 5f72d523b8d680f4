//! Finite-difference gradient checks for any differentiable computation, cells first.
//!
//! # What the default check does
//!
//! For every element `x` of every group (a parameter, the input, the initial state) the checker
//! forms Richardson's extrapolation of central differences at the steps `h`, `2h`, `4h` (and `8h`
//! to test smoothness: eight losses per element), with `h` the power of two nearest
//! `eps * max(|x|, 1)` (`eps` is `2^-10` by default), and with it an estimate of that numeric
//! value's own error: truncation from the disagreement of the two `h^4`-accurate levels, rounding from a model of `f64` rounding in the loss (see
//! [`Options::noise`]). An element passes when
//!
//! `|analytic - numeric| <= safety * estimated_error + atol + rtol * |numeric|`
//!
//! with `safety` 2 and `atol = rtol = 0`: the tolerance is the estimate, not a constant. On
//! rnnzoo's cells that is about `1e-10` of a gradient's size, so a block of the gradient that is
//! wrong by a relative `1e-6` fails, where `torch.autograd.gradcheck`'s tolerances
//! (`atol 1e-5, rtol 1e-3`, kept as [`Options::torch_gradcheck`]) let `1e-3` through. The
//! stencil tests its own premise: where the four differences do not scale as a smooth
//! function's (a ReLU changing sides within `8h`), the element is counted as not assessable, not
//! failed (see [`Verdict::NotAssessable`]), after two retries at steps 32 and 1024 times
//! smaller (a kink at distance `s` leaves the stencil once `4h < s`). Not assessable elements
//! are counted in the report ([`GroupReport::unassessable`]) and do not fail it. An element that
//! fails is tried again at steps 8 and 64 times smaller: where the finer estimate contradicts the
//! coarser one beyond both their claimed errors, the coarser was wrong about itself (a curvature
//! its estimate did not see) and the finer one judges; a wrong gradient gives estimates that
//! agree with each other, and stays failed.
//!
//! The loss is a random linear functional of everything the computation outputs (a non-uniform
//! cotangent), so every path through it is exercised. A failure names the tensor, its row,
//! column and gate (from the group's [`Layout`]; through time, `rnnzoo-layers` also names the
//! earliest failing step), and shows analytic, numeric, their difference, the estimated error
//! and the tolerance (see [`Finding`]).
//!
//! What is checked is anything that implements [`Differentiable`]: one step of a cell
//! ([`CellStep`], through [`check_cell`]), or in `rnnzoo-layers` a cell unrolled through time, a
//! bidirectional layer or a stack. Small groups are checked element by element; a group larger
//! than [`Options::max_elements`] is checked along random unit directions instead: a direction's
//! derivative is held to the same estimated tolerance, so a planted error is seen when it moves
//! the directional derivative by more than about `1e-10` of its size (a block error of relative
//! size `e` moves it by about `e * |g_block| / |g|`). A computation that can copy itself
//! ([`Differentiable::fork`]) is checked on every thread of the current rayon pool.
//!
//! [`Planted`] wraps a computation with a known error in one [`Block`] of its gradient: how the
//! checker's sensitivity is measured (`rnnzoo reproduce gradcheck`).
//!
//! [`check_columns`] is the other check a cell needs: that the samples of a batch do not interact,
//! which the unroller's split of a step over threads relies on.
//!
//! ```
//! use rnnzoo_cell::gradcheck::{check, Differentiable, Options};
//!
//! // L(w) = sum_i c_i * w_i^2, with a planted mistake of one part in a million in the gradient
//! // of w_1.
//! struct Square { w: Vec<f64>, c: Vec<f64>, wrong: bool }
//! impl Differentiable for Square {
//!     fn groups(&self) -> Vec<String> { vec!["w".into()] }
//!     fn values_mut(&mut self, _: usize) -> &mut [f64] { &mut self.w }
//!     fn loss(&mut self) -> f64 { self.w.iter().zip(&self.c).map(|(w, c)| c * w * w).sum() }
//!     fn gradients(&mut self) -> Vec<Vec<f64>> {
//!         let mut g: Vec<f64> = self.w.iter().zip(&self.c).map(|(w, c)| 2.0 * c * w).collect();
//!         if self.wrong { g[1] *= 1.0 + 1e-6; }
//!         vec![g]
//!     }
//! }
//! let mut good = Square { w: vec![0.5, -1.0, 2.0], c: vec![1.0, 3.0, -2.0], wrong: false };
//! assert!(check(&mut good, &Options::default()).passed());
//! let mut bad = Square { wrong: true, ..good };
//! let report = check(&mut bad, &Options::default());
//! assert!(!report.passed());
//! assert_eq!(report.groups[0].worst_index, Some(1));
//! // torch.autograd.gradcheck's tolerances do not see it.
//! assert!(check(&mut bad, &Options::torch_gradcheck()).passed());
//! ```

mod cell_step;
mod columns;
mod layout;
mod planted;
mod report;
mod stencil;

pub use cell_step::{CellStep, check_cell};
pub use columns::check_columns;
pub use layout::{Layout, Location};
pub use planted::{Block, Planted, blocks};
pub use report::{Finding, GroupReport, Report, Sampling, StepFinding, Verdict};
pub use stencil::Estimate;

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

use crate::seeded;

/// A scalar function of named groups of `f64` values, with its analytic gradient.
pub trait Differentiable {
    /// The names of the variable groups (parameters, inputs, initial state), in a fixed order.
    fn groups(&self) -> Vec<String>;

    /// The current values of group `group`; the checker perturbs them in place and restores them.
    fn values_mut(&mut self, group: usize) -> &mut [f64];

    /// The loss at the current values.
    fn loss(&mut self) -> f64;

    /// The analytic gradient of the loss at the current values, one vector per group, in the order
    /// of [`groups`](Differentiable::groups), each as long as the group.
    fn gradients(&mut self) -> Vec<Vec<f64>>;

    /// How group `group`'s values are laid out, so that a failure names a row, a column and a
    /// gate. The default, [`Layout::Flat`], names the index only.
    fn layout(&self, group: usize) -> Layout {
        let _ = group;
        Layout::Flat
    }

    /// The size of the terms the loss sums, at the current values: the scale of its rounding
    /// error (see [`Options::noise`]). For `L = sum_i c_i y_i` it is `sum_i |c_i y_i|`, which a
    /// loss near zero by cancellation needs; the default is `|L|`.
    fn loss_scale(&mut self) -> f64 {
        self.loss().abs()
    }

    /// An independent copy at the current values, to evaluate losses on another thread, or `None`
    /// (the default) if the computation cannot copy itself: then it is checked on one thread.
    fn fork(&self) -> Option<Box<dyn Differentiable + Send + '_>> {
        None
    }

    /// The losses with one value of group `group` changed at a time: `out[k]` is the loss with
    /// element `at[k].0` set to `at[k].1` and every other value as it is. The checker asks for
    /// the eight points of a stencil of many elements at once. The default,
    /// [`losses_one_at_a_time`], sets each value, calls [`loss`](Differentiable::loss) and
    /// restores it; a computation that evaluates many points in one pass overrides it
    /// (`rnnzoo-layers` runs a gated cell's changed copies as the columns of one unroll). The
    /// values must be as they were after the call.
    fn losses_at(&mut self, group: usize, at: &[(usize, f64)]) -> Vec<f64> {
        losses_one_at_a_time(self, group, at)
    }
}

/// [`Differentiable::losses_at`] the plain way: each value set, the loss evaluated, the value
/// restored.
///
/// ```
/// use rnnzoo_cell::gradcheck::{losses_one_at_a_time, Differentiable};
///
/// struct Sum(Vec<f64>);
/// impl Differentiable for Sum {
///     fn groups(&self) -> Vec<String> { vec!["w".into()] }
///     fn values_mut(&mut self, _: usize) -> &mut [f64] { &mut self.0 }
///     fn loss(&mut self) -> f64 { self.0.iter().sum() }
///     fn gradients(&mut self) -> Vec<Vec<f64>> { vec![vec![1.0; self.0.len()]] }
/// }
/// let mut f = Sum(vec![1.0, 2.0]);
/// assert_eq!(losses_one_at_a_time(&mut f, 0, &[(0, 5.0), (1, 0.0)]), [7.0, 1.0]);
/// assert_eq!(f.0, [1.0, 2.0]);
/// ```
pub fn losses_one_at_a_time<F: Differentiable + ?Sized>(
    f: &mut F,
    group: usize,
    at: &[(usize, f64)],
) -> Vec<f64> {
    at.iter()
        .map(|&(i, value)| {
            let old = std::mem::replace(&mut f.values_mut(group)[i], value);
            let loss = f.loss();
            f.values_mut(group)[i] = old;
            loss
        })
        .collect()
}

/// A borrowed computation is one too, so that a wrapper ([`Planted`]) can borrow what it wraps.
impl<F: Differentiable + ?Sized> Differentiable for &mut F {
    fn groups(&self) -> Vec<String> {
        (**self).groups()
    }
    fn values_mut(&mut self, group: usize) -> &mut [f64] {
        (**self).values_mut(group)
    }
    fn loss(&mut self) -> f64 {
        (**self).loss()
    }
    fn gradients(&mut self) -> Vec<Vec<f64>> {
        (**self).gradients()
    }
    fn layout(&self, group: usize) -> Layout {
        (**self).layout(group)
    }
    fn loss_scale(&mut self) -> f64 {
        (**self).loss_scale()
    }
    fn fork(&self) -> Option<Box<dyn Differentiable + Send + '_>> {
        (**self).fork()
    }
    fn losses_at(&mut self, group: usize, at: &[(usize, f64)]) -> Vec<f64> {
        (**self).losses_at(group, at)
    }
}

/// How the numeric derivative is formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Richardson's extrapolation of central differences at `h`, `2h`, `4h`, `8h` with an estimate of
    /// its own error and a smoothness test (see the [module docs](self)); `h` is scaled to each
    /// value.
    Richardson,
    /// One central difference with the fixed step [`Options::eps`] and no error estimate:
    /// `torch.autograd.gradcheck`'s method.
    Central,
}

/// How to check. The defaults are the estimate-driven check of the [module docs](self);
/// [`Options::torch_gradcheck`] is `torch.autograd.gradcheck`'s.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// How the numeric derivative is formed.
    pub method: Method,
    /// The step: relative (`h ~ eps * max(|x|, 1)`, a power of two) with
    /// [`Method::Richardson`], absolute with [`Method::Central`].
    pub eps: f64,
    /// Absolute tolerance added to the estimate (0 by default).
    pub atol: f64,
    /// Relative tolerance (of the numeric value) added to the estimate (0 by default).
    pub rtol: f64,
    /// The multiple of the estimated finite-difference error an element may be off by.
    pub safety: f64,
    /// The relative rounding error of one loss evaluation, as a multiple of
    /// [`Differentiable::loss_scale`]: `64 * 2^-52` by default, a margin for the rounding of a
    /// few dozen chained steps (a model, not a measurement: the suite's gradient checks pass
    /// with it, and a planted `1e-8` is still caught).
    pub noise: f64,
    /// A group with more values than this is checked along random directions.
    pub max_elements: usize,
    /// How many random directions for such a group.
    pub directions: usize,
    /// Seed of the random directions.
    pub seed: u64,
    /// Check only the groups of these names (all when `None`); the report lists only those.
    pub only: Option<Vec<String>>,
    /// Spread the elements over the current rayon pool when the computation can
    /// [`fork`](Differentiable::fork). The result is the same either way.
    pub parallel: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            method: Method::Richardson,
            eps: 1.0 / 1024.0,
            atol: 0.0,
            rtol: 0.0,
            safety: 2.0,
            noise: 64.0 * f64::EPSILON,
            max_elements: 4096,
            directions: 32,
            seed: 0,
            only: None,
            parallel: true,
        }
    }
}

impl Options {
    /// `torch.autograd.gradcheck`'s method and tolerances: one central difference with
    /// `eps = 1e-6`, `|a - n| <= 1e-5 + 1e-3 |n|`. For comparison: it lets a relative error of
    /// `1e-3` in a gradient through.
    pub fn torch_gradcheck() -> Self {
        Self {
            method: Method::Central,
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
            safety: 0.0,
            ..Self::default()
        }
    }

    /// These options, checking only the group `name` (see [`Options::only`]).
    pub fn only(mut self, names: &[&str]) -> Self {
        self.only = Some(names.iter().map(|s| s.to_string()).collect());
        self
    }

    /// The floor of a relative error's denominator, so that gradients that are zero up to
    /// rounding do not report meaningless ratios.
    fn rel_floor(&self) -> f64 {
        self.atol.max(1e-8)
    }

    /// The verdict on one element.
    fn judge(&self, index: usize, location: Location, analytic: f64, est: Estimate) -> Finding {
        let tolerance = self.safety * est.error + self.atol + self.rtol * est.value.abs();
        let verdict = if !analytic.is_finite() || !est.value.is_finite() || !tolerance.is_finite() {
            Verdict::Fail
        } else if !est.smooth {
            Verdict::NotAssessable
        } else if (analytic - est.value).abs() <= tolerance {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
        Finding {
            index,
            location,
            analytic,
            numeric: est.value,
            fd_error: est.error,
            tolerance,
            verdict,
        }
    }
}

/// What one numeric derivative perturbs: one element, or all along a unit direction.
enum Task {
    Element(usize),
    Direction(Vec<f64>),
}

/// Checks `f`'s analytic gradient against finite differences, every group (or those
/// [`Options::only`] names).
///
/// The values of `f` are the same after the call as before it, bit for bit.
///
/// # Panics
///
/// If `f.gradients()` does not return one vector per group, each as long as its group: that is a
/// bug in the `Differentiable` implementation, not a failed check.
pub fn check<F: Differentiable + ?Sized>(f: &mut F, opts: &Options) -> Report {
    let names = f.groups();
    let analytic = f.gradients();
    assert_eq!(
        analytic.len(),
        names.len(),
        "gradients() returned {} groups for {} names",
        analytic.len(),
        names.len()
    );
    let noise_loss = opts.noise * f.loss_scale();
    let mut rng = seeded(opts.seed);
    let mut groups = Vec::with_capacity(names.len());
    for (g, name) in names.into_iter().enumerate() {
        let base = f.values_mut(g).to_vec();
        let n = base.len();
        assert_eq!(
            analytic[g].len(),
            n,
            "gradient of `{name}` has {} values, the group {n}",
            analytic[g].len()
        );
        // Directions are drawn for every large group, checked or not, so that the directions of
        // a group do not depend on which others `only` selects.
        let sampling = if n <= opts.max_elements {
            Sampling::Every
        } else {
            Sampling::Directions
        };
        let tasks: Vec<Task> = match sampling {
            Sampling::Every => (0..n).map(Task::Element).collect(),
            Sampling::Directions => (0..opts.directions)
                .map(|_| Task::Direction(unit_direction(n, &mut rng)))
                .collect(),
        };
        if opts.only.as_ref().is_some_and(|o| !o.contains(&name)) {
            continue;
        }
        let layout = f.layout(g);
        let estimates = estimate_all(f, g, &base, &tasks, opts, noise_loss);
        let mut rep = GroupReport::new(name, sampling, layout.clone(), opts.rel_floor());
        for (k, (task, est)) in tasks.iter().zip(estimates).enumerate() {
            let (location, a) = match task {
                Task::Element(i) => (layout.locate(*i), analytic[g][*i]),
                Task::Direction(d) => (Location::Flat { index: k }, dot(&analytic[g], d)),
            };
            let mut finding = opts.judge(k, location, a, est);
            // A failing element is tried again at finer steps. The finer estimate replaces the
            // coarser only when the two disagree by more than both claimed errors: then the
            // coarser estimate was wrong about itself (a curvature it did not see), and the
            // finer, whose truncation error is 8^6 times smaller, judges. A wrong gradient gives
            // estimates that agree with each other, and stays failed.
            if finding.verdict == Verdict::Fail
                && opts.method == Method::Richardson
                && est.value.is_finite()
            {
                let mut current = est;
                for shrink in REFINE {
                    let finer = Options {
                        eps: opts.eps * shrink,
                        ..opts.clone()
                    };
                    let next = estimate(f, g, &base, task, &finer, noise_loss);
                    let contradicted = next.value.is_finite()
                        && (next.value - current.value).abs()
                            > opts.safety * (current.error + next.error);
                    if !contradicted {
                        break;
                    }
                    current = next;
                    finding = opts.judge(k, location, a, next);
                    if finding.verdict != Verdict::Fail {
                        break;
                    }
                }
            }
            rep.record(finding);
        }
        groups.push(rep);
    }
    Report::new(groups)
}

/// Every task's estimate, on the rayon pool when `f` forks.
fn estimate_all<F: Differentiable + ?Sized>(
    f: &mut F,
    g: usize,
    base: &[f64],
    tasks: &[Task],
    opts: &Options,
    noise_loss: f64,
) -> Vec<Estimate> {
    let threads = rayon::current_num_threads().min(tasks.len());
    if opts.parallel && threads > 1 {
        let forks: Option<Vec<_>> = (0..threads).map(|_| f.fork()).collect();
        if let Some(forks) = forks {
            let per = tasks.len().div_ceil(threads);
            return forks
                .into_par_iter()
                .zip(tasks.par_chunks(per))
                .flat_map_iter(|(mut fork, chunk)| {
                    estimate_run(&mut *fork, g, base, chunk, opts, noise_loss)
                })
                .collect();
        }
    }
    estimate_run(f, g, base, tasks, opts, noise_loss)
}

/// Elements whose stencils one [`Differentiable::losses_at`] call evaluates: 32 elements are 256
/// points, the columns of a GEMM that runs at full speed where the points are a batched pass's
/// copies (and few enough that one call's buffers stay small).
const ELEMENTS_PER_CALL: usize = 32;

/// The stencil's points, as multiples of the step, in the order [`stencil::richardson`] asks
/// for them.
const STENCIL: [f64; 8] = [1.0, -1.0, 2.0, -2.0, 4.0, -4.0, 8.0, -8.0];

/// The estimates of a run of tasks on one thread. With Richardson's method, the elements' first
/// stencils are asked for [`ELEMENTS_PER_CALL`] at a time through [`Differentiable::losses_at`];
/// retries, directions and central differences go one loss at a time.
fn estimate_run<F: Differentiable + ?Sized>(
    f: &mut F,
    g: usize,
    base: &[f64],
    tasks: &[Task],
    opts: &Options,
    noise_loss: f64,
) -> Vec<Estimate> {
    let mut out = Vec::with_capacity(tasks.len());
    for block in tasks.chunks(ELEMENTS_PER_CALL) {
        let elements: Option<Vec<usize>> = block
            .iter()
            .map(|t| match t {
                Task::Element(i) => Some(*i),
                Task::Direction(_) => None,
            })
            .collect();
        let (Method::Richardson, Some(elements)) = (opts.method, elements) else {
            out.extend(
                block
                    .iter()
                    .map(|t| estimate(f, g, base, t, opts, noise_loss)),
            );
            continue;
        };
        let steps: Vec<f64> = elements
            .iter()
            .map(|&i| stencil::relative_step(base[i], opts.eps))
            .collect();
        let at: Vec<(usize, f64)> = elements
            .iter()
            .zip(&steps)
            .flat_map(|(&i, &h)| STENCIL.map(|k| (i, base[i] + k * h)))
            .collect();
        let losses = f.losses_at(g, &at);
        let points = losses.chunks_exact(STENCIL.len());
        for ((&i, &h), points) in elements.iter().zip(&steps).zip(points) {
            let first = stencil::richardson(
                |s| {
                    let k = STENCIL
                        .iter()
                        .position(|&k| k * h == s)
                        .expect("richardson asks for the stencil's points");
                    points[k]
                },
                h,
                noise_loss,
            );
            out.push(retry_kinks(
                f,
                g,
                base,
                &Task::Element(i),
                noise_loss,
                h,
                first,
            ));
        }
    }
    out
}

/// One task's estimate; leaves group `g` at `base`, bit for bit.
fn estimate<F: Differentiable + ?Sized>(
    f: &mut F,
    g: usize,
    base: &[f64],
    task: &Task,
    opts: &Options,
    noise_loss: f64,
) -> Estimate {
    let h = match (opts.method, task) {
        (Method::Central, _) => opts.eps,
        (Method::Richardson, Task::Element(i)) => stencil::relative_step(base[*i], opts.eps),
        (Method::Richardson, Task::Direction(_)) => {
            let rms = (dot(base, base) / base.len().max(1) as f64).sqrt();
            stencil::relative_step(rms, opts.eps)
        }
    };
    match opts.method {
        Method::Richardson => {
            let first = stencil::richardson(|s| loss_at(f, g, base, task, s), h, noise_loss);
            retry_kinks(f, g, base, task, noise_loss, h, first)
        }
        Method::Central => stencil::central(|s| loss_at(f, g, base, task, s), h),
    }
}

/// `first`, the estimate at step `h`, or where its differences were not smooth (a kink within
/// `8h` of the value), the estimate nearer: the kink may lie outside the finer stencil
/// (rounding grows as the step shrinks, and is counted in the estimate).
fn retry_kinks<F: Differentiable + ?Sized>(
    f: &mut F,
    g: usize,
    base: &[f64],
    task: &Task,
    noise_loss: f64,
    h: f64,
    first: Estimate,
) -> Estimate {
    let mut est = first;
    for shrink in RETRIES {
        if est.smooth || !est.value.is_finite() {
            break;
        }
        est = stencil::richardson(|s| loss_at(f, g, base, task, s), h * shrink, noise_loss);
    }
    est
}

/// The loss with the task's element (or direction) moved by `s` from `base`; group `g` is at
/// `base` again afterwards, bit for bit.
fn loss_at<F: Differentiable + ?Sized>(
    f: &mut F,
    g: usize,
    base: &[f64],
    task: &Task,
    s: f64,
) -> f64 {
    let v = f.values_mut(g);
    match task {
        Task::Element(i) => v[*i] = base[*i] + s,
        Task::Direction(d) => v
            .iter_mut()
            .zip(base.iter().zip(d))
            .for_each(|(x, (b, d))| *x = b + s * d),
    }
    let l = f.loss();
    let v = f.values_mut(g);
    match task {
        Task::Element(i) => v[*i] = base[*i],
        Task::Direction(_) => v.copy_from_slice(base),
    }
    l
}

/// The steps, as fractions of the first, at which an element whose differences were not smooth
/// is tried again before it is called not assessable.
const RETRIES: [f64; 2] = [1.0 / 32.0, 1.0 / 1024.0];

/// The steps, as fractions of the first, at which an element that failed is tried again before
/// it fails: found on an sLSTM whose `weight_hh` element had a derivative of -63.2245 where the
/// default step's stencil gave -63.2186 with an estimated error of 2.4e-3 (its curvature
/// outran the estimate); at 1/8 of the step the two agreed to 1e-9.
const REFINE: [f64; 2] = [1.0 / 8.0, 1.0 / 64.0];

/// The layout of a parameter: its rows, columns and gate blocks.
pub fn param_layout<T: crate::Real>(p: &crate::Param<T>) -> Layout {
    Layout::Param {
        rows: p.rows(),
        cols: p.cols(),
        gates: p.gates(),
    }
}

fn unit_direction<R: Rng + ?Sized>(n: usize, rng: &mut R) -> Vec<f64> {
    let dir: Vec<f64> = (0..n).map(|_| StandardNormal.sample(rng)).collect();
    let norm = dir.iter().map(|d| d * d).sum::<f64>().sqrt();
    dir.iter().map(|d| d / norm).collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Standard-normal values: random inputs, states and cotangents for checks.
pub fn normal_vec<R: Rng + ?Sized>(n: usize, rng: &mut R) -> Vec<f64> {
    (0..n).map(|_| StandardNormal.sample(rng)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Cubic {
        w: Vec<f64>,
        bias: f64,
    }
    impl Differentiable for Cubic {
        fn groups(&self) -> Vec<String> {
            vec!["w".into()]
        }
        fn values_mut(&mut self, _: usize) -> &mut [f64] {
            &mut self.w
        }
        fn loss(&mut self) -> f64 {
            self.w.iter().map(|w| w * w * w).sum()
        }
        fn gradients(&mut self) -> Vec<Vec<f64>> {
            vec![self.w.iter().map(|w| 3.0 * w * w + self.bias).collect()]
        }
    }

    #[test]
    fn directions_mode_catches_a_wrong_gradient_too() {
        let opts = Options {
            max_elements: 4,
            ..Options::default()
        };
        let w: Vec<f64> = (0..50).map(|i| (i as f64 / 10.0).sin()).collect();
        let good = check(
            &mut Cubic {
                w: w.clone(),
                bias: 0.0,
            },
            &opts,
        );
        assert!(good.passed(), "{good}");
        assert_eq!(good.groups[0].sampling, Sampling::Directions);
        assert_eq!(good.groups[0].checked, opts.directions);
        let bad = check(&mut Cubic { w, bias: 1e-2 }, &opts);
        assert!(!bad.passed());
    }

    #[test]
    fn values_are_restored_exactly() {
        let w = vec![0.1, 0.7, -0.3];
        let mut f = Cubic {
            w: w.clone(),
            bias: 0.0,
        };
        check(&mut f, &Options::default());
        assert_eq!(f.w, w);
    }
}
