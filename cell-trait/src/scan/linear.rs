//! The diagonal linear recurrence `h_t = a_t * h_{t-1} + b_t` and its adjoint, as parallel scans
//! over chunks of time.
//!
//! # Layout
//!
//! A sequence of `steps` steps of `width` lanes each (a lane is one row of one sample: `width =
//! rows * batch`), step `t` being the contiguous values `[t*width, (t+1)*width)`. This is the
//! unroller's column-major `rows x (steps * batch)` layout (see [`Cell`](crate::Cell)) read as
//! flat steps, so a cell passes its `(steps * batch)`-column buffers as they are.
//!
//! # Parallel over time, with no division
//!
//! The recurrence is associative: `(a1, b1) then (a2, b2)` is `(a2 a1, a2 b1 + b2)`. With `n`
//! threads the steps are cut into `n` chunks of time, and:
//!
//! 1. every chunk runs its own scan in parallel, the first from the initial state and the others
//!    from zero, and keeps the product of its `a` over the chunk;
//! 2. one sequential pass over the chunk ends gives each chunk its true initial state
//!    (`E_k = local_end_k + prod_k * E_{k-1}`, `width` values per chunk);
//! 3. every chunk but the first adds `(a_{s..=t} product) * E_{k-1}` to its steps, in parallel.
//!
//! The scan reads and writes each value twice instead of once, so it is the split of last resort:
//! with many lanes (`width` at least 64 per thread: a batch of samples times their units) each
//! thread instead runs the plain loop over all steps of its own range of lanes, with no extra
//! work; time is cut into chunks only for few lanes over many steps (one stream of a small layer);
//! with one thread it is the plain sequential loop. Unlike the prefix-sum form
//! `h_t = A_t (h_0 + sum_s b_s / A_s)` (PyTorch's `cumsum`, or `logcumsumexp` in log space, which
//! Feng et al. 2024 use for minGRU), nothing is ever divided by a product of `a`: products that
//! underflow to zero are exact here (the state then forgot its past), so the scan needs no log
//! space to be stable. The chunked and sequential results agree to rounding (tested to `1e-12`
//! in f64, with `a` from `1e-300` to 1).

use rayon::prelude::*;

use crate::Real;

/// Values (`steps * width`) below which the scan stays sequential: a rayon hand-off costs
/// microseconds, a sequential pass over 32k values about as much.
const PARALLEL_MIN_VALUES: usize = 1 << 15;

/// Steps per chunk below which cutting time into more chunks does not pay.
const MIN_CHUNK_STEPS: usize = 8;

/// Lanes per thread from which the lanes, not time, are split: each thread then runs the plain
/// recurrence over all steps of its own lanes (no second pass), with vectors full enough.
const MIN_LANES_PER_THREAD: usize = 64;

/// How a scan of `steps x width` runs on the current pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    /// One thread, the plain loop.
    Sequential,
    /// `n` ranges of lanes, each over every step: no extra work, the choice when there are
    /// enough lanes (a batch of samples times their units).
    Lanes(usize),
    /// `n` chunks of time (module docs): twice the memory traffic, for few lanes and many steps
    /// (one stream of a small layer over a long sequence).
    Time(usize),
}

fn split_for(steps: usize, width: usize) -> Split {
    let threads = rayon::current_num_threads();
    if threads < 2 || steps.saturating_mul(width) < PARALLEL_MIN_VALUES {
        Split::Sequential
    } else if width >= threads * MIN_LANES_PER_THREAD {
        Split::Lanes(threads)
    } else if steps >= 2 * MIN_CHUNK_STEPS {
        Split::Time(threads.min(steps / MIN_CHUNK_STEPS))
    } else {
        Split::Sequential
    }
}

/// A pointer that may cross threads: each task of a lane split writes its own lanes only.
#[derive(Clone, Copy)]
struct Lanes<T>(*mut T);
// SAFETY: the tasks that share it write disjoint lane ranges (see `linear_in_lanes`).
unsafe impl<T: Send> Send for Lanes<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Lanes<T> {}

impl<T> Lanes<T> {
    /// Lanes `k0..k0 + len` of step `t`.
    ///
    /// # Safety
    ///
    /// In bounds of the buffer, and no other live reference to those values.
    unsafe fn at<'a>(self, t: usize, width: usize, k0: usize, len: usize) -> &'a mut [T] {
        // SAFETY: the caller's contract.
        unsafe { std::slice::from_raw_parts_mut(self.0.add(t * width + k0), len) }
    }
}

/// [`linear`] over `parts` ranges of lanes in parallel, each the plain loop over every step.
pub(crate) fn linear_in_lanes<T: Real>(
    a: &[T],
    x: &mut [T],
    init: Option<&[T]>,
    width: usize,
    parts: usize,
) {
    let steps = x.len() / width;
    let parts = parts.clamp(1, width);
    let ptr = Lanes(x.as_mut_ptr());
    (0..parts).into_par_iter().for_each(|p| {
        let (k0, len) = chunk_range(width, parts, p);
        for t in 0..steps {
            // SAFETY: lanes k0..k0+len of steps t and t-1 lie in `x` (steps * width values) and
            // belong to this task alone; the two slices are different steps, so they do not
            // overlap.
            let cur = unsafe { ptr.at(t, width, k0, len) };
            let at = &a[t * width + k0..][..len];
            if t == 0 {
                if let Some(init) = init {
                    for ((h, &a), &p) in cur.iter_mut().zip(at).zip(&init[k0..k0 + len]) {
                        *h += a * p;
                    }
                }
            } else {
                // SAFETY: as above.
                let prev = unsafe { ptr.at(t - 1, width, k0, len) };
                for ((h, &a), &p) in cur.iter_mut().zip(at).zip(prev.iter()) {
                    *h += a * p;
                }
            }
        }
    });
}

/// [`linear_adjoint`] over `parts` ranges of lanes in parallel.
pub(crate) fn linear_adjoint_in_lanes<T: Real>(a: &[T], g: &mut [T], width: usize, parts: usize) {
    let steps = g.len() / width;
    let parts = parts.clamp(1, width);
    let ptr = Lanes(g.as_mut_ptr());
    (0..parts).into_par_iter().for_each(|p| {
        let (k0, len) = chunk_range(width, parts, p);
        for t in (0..steps.saturating_sub(1)).rev() {
            // SAFETY: lanes k0..k0+len of steps t and t+1 lie in `g` and belong to this task
            // alone; different steps do not overlap.
            let cur = unsafe { ptr.at(t, width, k0, len) };
            // SAFETY: as above.
            let next = unsafe { ptr.at(t + 1, width, k0, len) };
            let at = &a[(t + 1) * width + k0..][..len];
            for ((g, &a), &n) in cur.iter_mut().zip(at).zip(next.iter()) {
                *g += a * n;
            }
        }
    });
}

/// `h_t = a_t * h_{t-1} + b_t` for `t` in `0..steps`, in place: `x` holds `b` on entry and `h`
/// on return. `h_{-1}` is `init` (`width` values), or zero. `a` and `x` are `steps * width`
/// values (see the module docs for the layout).
///
/// ```
/// use rnnzoo_cell::scan;
///
/// // Two lanes, three steps: lane 0 decays by half, lane 1 accumulates.
/// let a = [0.5, 1.0, 0.5, 1.0, 0.5, 1.0];
/// let mut x = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]; // b
/// scan::linear(&a, &mut x, Some(&[2.0, 0.0]), 2);
/// assert_eq!(x, [2.0, 1.0, 2.0, 2.0, 2.0, 3.0]);
/// ```
///
/// # Panics
///
/// If `width` is zero, `a` and `x` differ in length or are not whole steps, or `init` is not
/// `width` long: sizes a cell fixes, not a caller's input.
pub fn linear<T: Real>(a: &[T], x: &mut [T], init: Option<&[T]>, width: usize) {
    let steps = check(a, x, width);
    if let Some(init) = init {
        assert_eq!(init.len(), width, "scan::linear: init is one step");
    }
    match split_for(steps, width) {
        Split::Sequential => linear_in_chunks(a, x, init, width, 1),
        Split::Lanes(n) => linear_in_lanes(a, x, init, width, n),
        Split::Time(n) => linear_in_chunks(a, x, init, width, n),
    }
}

/// The adjoint of [`linear`]: given `d_t = d loss / d h_t` from outside the recurrence, the total
/// gradient `g_t = d_t + a_{t+1} * g_{t+1}` (with `g_steps = 0`), in place: `g` holds `d` on
/// entry and the total on return. Then `d b_t = g_t`, `d a_t = g_t * h_{t-1}` and
/// `d h_{-1} = a_0 * g_0`, which the cell forms itself.
///
/// ```
/// use rnnzoo_cell::scan;
///
/// let a = [0.5, 0.5, 0.5];
/// let mut g = [1.0, 1.0, 1.0]; // one lane, a loss that sums h
/// scan::linear_adjoint(&a, &mut g, 1);
/// assert_eq!(g, [1.75, 1.5, 1.0]);
/// ```
///
/// # Panics
///
/// As [`linear`].
pub fn linear_adjoint<T: Real>(a: &[T], g: &mut [T], width: usize) {
    let steps = check(a, g, width);
    match split_for(steps, width) {
        Split::Sequential => linear_adjoint_in_chunks(a, g, width, 1),
        Split::Lanes(n) => linear_adjoint_in_lanes(a, g, width, n),
        Split::Time(n) => linear_adjoint_in_chunks(a, g, width, n),
    }
}

fn check<T>(a: &[T], x: &[T], width: usize) -> usize {
    assert!(width > 0, "scan: width is zero");
    assert_eq!(a.len(), x.len(), "scan: a and the values differ in length");
    assert_eq!(x.len() % width, 0, "scan: values are not whole steps");
    x.len() / width
}

/// `(start, len)` of chunk `k` of `chunks` over `steps` steps (or of lane range `k` of `chunks`
/// over `steps` lanes).
pub(super) fn chunk_range(steps: usize, chunks: usize, k: usize) -> (usize, usize) {
    let base = steps / chunks;
    let extra = steps % chunks;
    let start = k * base + k.min(extra);
    (start, base + usize::from(k < extra))
}

/// [`linear`] with an explicit number of time chunks (1 is the sequential loop).
pub(crate) fn linear_in_chunks<T: Real>(
    a: &[T],
    x: &mut [T],
    init: Option<&[T]>,
    width: usize,
    chunks: usize,
) {
    let steps = x.len() / width;
    let chunks = chunks.clamp(1, steps.max(1));
    if chunks == 1 {
        return sweep_forward(a, x, init, width, None);
    }
    // Phase 1: each chunk from its own start (the first from `init`), keeping its product of `a`.
    let mut prods = vec![T::zero(); chunks * width];
    let parts = split(x, steps, chunks, width);
    parts
        .into_par_iter()
        .zip(prods.par_chunks_mut(width))
        .enumerate()
        .for_each(|(k, ((t0, xs), prod))| {
            let a = &a[t0 * width..][..xs.len()];
            sweep_forward(a, xs, if k == 0 { init } else { None }, width, Some(prod));
        });
    // Phase 2: the true state at each chunk's end, in order (E_0 is chunk 0's end already).
    let mut ends = vec![T::zero(); chunks * width];
    for k in 0..chunks {
        let (t0, len) = chunk_range(steps, chunks, k);
        let last = &x[(t0 + len - 1) * width..][..width];
        let (done, rest) = ends.split_at_mut(k * width);
        let end = &mut rest[..width];
        end.copy_from_slice(last);
        if k > 0 {
            let prev = &done[(k - 1) * width..];
            for ((e, &p), &q) in end.iter_mut().zip(&prods[k * width..][..width]).zip(prev) {
                *e += p * q;
            }
        }
    }
    // Phase 3: every later chunk adds its carried-in state, scaled by the running product.
    let parts = split(x, steps, chunks, width);
    parts
        .into_par_iter()
        .enumerate()
        .skip(1)
        .for_each(|(k, (t0, xs))| {
            let carry = &ends[(k - 1) * width..][..width];
            let mut running = carry.to_vec();
            for (t, xt) in xs.chunks_exact_mut(width).enumerate() {
                let at = &a[(t0 + t) * width..][..width];
                for ((h, r), &a) in xt.iter_mut().zip(running.iter_mut()).zip(at) {
                    *r *= a;
                    *h += *r;
                }
            }
        });
}

/// [`linear_adjoint`] with an explicit number of time chunks (1 is the sequential loop).
pub(crate) fn linear_adjoint_in_chunks<T: Real>(a: &[T], g: &mut [T], width: usize, chunks: usize) {
    let steps = g.len() / width;
    let chunks = chunks.clamp(1, steps.max(1));
    if chunks == 1 {
        return sweep_adjoint(a, g, 0, width, None);
    }
    // Phase 1: each chunk backwards from zero past its end, keeping the product of the `a` that
    // carry its first step's gradient from the next chunk's first (a_{s+1} .. a_{e}).
    let mut prods = vec![T::zero(); chunks * width];
    let parts = split(g, steps, chunks, width);
    parts
        .into_par_iter()
        .zip(prods.par_chunks_mut(width))
        .for_each(|((t0, gs), prod)| sweep_adjoint(a, gs, t0, width, Some(prod)));
    // Phase 2: the true gradient at each chunk's first step, from the last chunk back.
    let mut starts = vec![T::zero(); chunks * width];
    for k in (0..chunks).rev() {
        let (t0, _) = chunk_range(steps, chunks, k);
        let (head, later) = starts.split_at_mut((k + 1) * width);
        let start = &mut head[k * width..];
        start.copy_from_slice(&g[t0 * width..][..width]);
        if k + 1 < chunks {
            let next = &later[..width];
            for ((s, &p), &q) in start.iter_mut().zip(&prods[k * width..][..width]).zip(next) {
                *s += p * q;
            }
        }
    }
    // Phase 3: every chunk but the last adds the next chunk's first gradient, carried back.
    let parts = split(g, steps, chunks, width);
    parts
        .into_par_iter()
        .enumerate()
        .filter(|&(k, _)| k + 1 < chunks)
        .for_each(|(k, (t0, gs))| {
            let len = gs.len() / width;
            let mut running = starts[(k + 1) * width..][..width].to_vec();
            for t in (0..len).rev() {
                let at = &a[(t0 + t + 1) * width..][..width];
                let gt = &mut gs[t * width..][..width];
                for ((g, r), &a) in gt.iter_mut().zip(running.iter_mut()).zip(at) {
                    *r *= a;
                    *g += *r;
                }
            }
        });
}

/// The chunks of a sequence as `(first step, values)`, in order.
fn split<T>(x: &mut [T], steps: usize, chunks: usize, width: usize) -> Vec<(usize, &mut [T])> {
    let mut parts = Vec::with_capacity(chunks);
    let mut rest = x;
    for k in 0..chunks {
        let (t0, len) = chunk_range(steps, chunks, k);
        let (head, tail) = rest.split_at_mut(len * width);
        parts.push((t0, head));
        rest = tail;
    }
    parts
}

/// The sequential forward recurrence over `x` (whole steps, `a` aligned with it), from `init` or
/// zero; with `prod`, also the product of `a` over the steps.
fn sweep_forward<T: Real>(
    a: &[T],
    x: &mut [T],
    init: Option<&[T]>,
    width: usize,
    prod: Option<&mut [T]>,
) {
    let steps = x.len() / width;
    if let Some(init) = init {
        for ((h, &a), &p) in x[..width].iter_mut().zip(&a[..width]).zip(init) {
            *h += a * p;
        }
    }
    for t in 1..steps {
        let (done, rest) = x.split_at_mut(t * width);
        let prev = &done[(t - 1) * width..];
        let at = &a[t * width..][..width];
        for ((h, &a), &p) in rest[..width].iter_mut().zip(at).zip(prev) {
            *h += a * p;
        }
    }
    if let Some(prod) = prod {
        prod.copy_from_slice(&a[..width]);
        for at in a[..steps * width].chunks_exact(width).skip(1) {
            for (p, &a) in prod.iter_mut().zip(at) {
                *p *= a;
            }
        }
    }
}

/// The sequential adjoint over the steps of `g` starting at step `t0` of the sequence whose
/// coefficients are `a` (the whole sequence's): `g_t += a_{t+1} g_{t+1}` from the chunk's last
/// step down, with nothing carried in past its end. With `prod`, also the product of
/// `a_{t0+1} ..= a_{t0+len}` (the factors that carry a gradient at the next chunk's first step back
/// to this chunk's first; zero-length products of a last chunk are never read).
fn sweep_adjoint<T: Real>(a: &[T], g: &mut [T], t0: usize, width: usize, prod: Option<&mut [T]>) {
    let len = g.len() / width;
    for t in (0..len.saturating_sub(1)).rev() {
        let (cur, later) = g[t * width..].split_at_mut(width);
        let next = &later[..width];
        let at = &a[(t0 + t + 1) * width..][..width];
        for ((g, &a), &n) in cur.iter_mut().zip(at).zip(next) {
            *g += a * n;
        }
    }
    if let Some(prod) = prod {
        let total = a.len() / width;
        if t0 + len < total {
            prod.copy_from_slice(&a[(t0 + 1) * width..][..width]);
            for s in t0 + 2..=t0 + len {
                for (p, &a) in prod.iter_mut().zip(&a[s * width..][..width]) {
                    *p *= a;
                }
            }
        }
    }
}
