//! The complex diagonal linear recurrence `x_t = λ x_{t-1} + b_t` (one constant `λ` per unit)
//! and its adjoint, as parallel scans over chunks of time; the complex counterpart of
//! [`rnnzoo_cell::scan::linear`], which is real only.
//!
//! # Layout
//!
//! A complex sequence is two real buffers of the same layout, `re` and `im`: `steps` steps of
//! `width` lanes each, step `t` being `[t*width, (t+1)*width)`. A lane is one unit of one sample
//! (`width = units * batch`, the unroller's column-major `units x (steps * batch)` read as flat
//! steps), and lane `l` uses unit `l % units`'s `λ`.
//!
//! # Parallel over time
//!
//! As in `rnnzoo_cell::scan::linear`: with `n` threads the steps are cut into `n` chunks;
//! every chunk scans from zero (the first from the initial state) in parallel, one sequential pass
//! over the chunk ends gives each chunk its true initial state (`E_k = local_k + λ^len_k E_{k-1}`:
//! `λ` is constant in time, so the carry of a chunk of `len` steps is `λ^len`), and every later
//! chunk adds `λ^(s+1) E_{k-1}` to its step `s`, in parallel. Nothing is divided, so a `λ^len`
//! that underflows is exact (the state forgot). With one thread, or little work, it is the
//! sequential loop.
//!
//! The adjoint of multiplying by `λ` on the pairs `(re, im)` is multiplying by `conj(λ)`: the
//! Jacobian of `(re, im) -> (λr re - λi im, λi re + λr im)` is `[[λr, -λi], [λi, λr]]`, whose
//! transpose is `[[λr, λi], [-λi, λr]]`, multiplication by `λr - i λi`.

use rayon::prelude::*;
use rnnzoo_cell::Real;

/// Values (`steps * width`) below which the scan stays sequential (as `rnnzoo_cell::scan`).
const PARALLEL_MIN_VALUES: usize = 1 << 15;

/// Steps per chunk below which cutting time into more chunks does not pay.
const MIN_CHUNK_STEPS: usize = 8;

/// The per-unit coefficients of a scan: `λ_j = re[j] + i im[j]`.
#[derive(Debug, Clone, Copy)]
pub struct Lambda<'a, T> {
    /// Real parts, one per unit.
    pub re: &'a [T],
    /// Imaginary parts, one per unit.
    pub im: &'a [T],
}

impl<T: Real> Lambda<'_, T> {
    fn units(&self) -> usize {
        self.re.len()
    }

    /// `λ^n` per unit, by repeated multiplication (`n >= 1`).
    fn powers(&self, n: usize) -> (Vec<T>, Vec<T>) {
        let (mut pr, mut pi) = (self.re.to_vec(), self.im.to_vec());
        for _ in 1..n {
            for j in 0..self.units() {
                let (a, b) = (self.re[j], self.im[j]);
                let (r, i) = (pr[j], pi[j]);
                pr[j] = a * r - b * i;
                pi[j] = a * i + b * r;
            }
        }
        (pr, pi)
    }
}

/// `(lane, unit)` over one step's `width` lanes, sample by sample (no division per lane).
fn lanes(width: usize, units: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..width / units).flat_map(move |s| (0..units).map(move |j| (s * units + j, j)))
}

/// Lanes per thread from which the time split is not used: it reads and writes every value
/// twice, which only pays when few lanes leave the threads nothing else to share (measured here:
/// T1000 B16 N64 took 104 ms on two threads against 48 ms on one). `rnnzoo_cell::scan::linear`
/// splits such lanes across threads instead; this scan runs them on one.
const TIME_SPLIT_MAX_LANES_PER_THREAD: usize = 64;

fn chunks_for(steps: usize, width: usize) -> usize {
    let threads = rayon::current_num_threads();
    if threads < 2
        || steps.saturating_mul(width) < PARALLEL_MIN_VALUES
        || width >= threads * TIME_SPLIT_MAX_LANES_PER_THREAD
    {
        return 1;
    }
    threads.min(steps / MIN_CHUNK_STEPS).max(1)
}

fn check<T: Real>(lam: Lambda<'_, T>, re: &[T], im: &[T], width: usize) -> usize {
    let units = lam.units();
    assert!(units > 0 && width > 0, "complex scan: no units or width");
    assert_eq!(
        lam.im.len(),
        units,
        "complex scan: λ's parts differ in length"
    );
    assert_eq!(width % units, 0, "complex scan: width is not whole samples");
    assert_eq!(re.len(), im.len(), "complex scan: parts differ in length");
    assert_eq!(
        re.len() % width,
        0,
        "complex scan: values are not whole steps"
    );
    re.len() / width
}

/// `x_t = λ x_{t-1} + b_t` for `t` in `0..steps`, in place on the pair `(re, im)`: `b` on entry,
/// `x` on return. `x_{-1}` is `init` (`(re, im)`, `width` values each) or zero. See the
/// [module docs](self) for the layout.
///
/// ```
/// use rnnzoo_lru::scan::{complex_linear, Lambda};
///
/// // One unit, λ = i (a quarter turn), two samples, two steps, b = 1 at every step.
/// let lam = Lambda { re: &[0.0], im: &[1.0] };
/// let (mut re, mut im) = ([1.0; 4], [0.0; 4]);
/// complex_linear(lam, &mut re, &mut im, Some((&[0.0, 2.0], &[0.0, 0.0])), 2);
/// // Sample 0 from 0: x0 = 1, x1 = i + 1. Sample 1 from 2: x0 = 2i + 1, x1 = i(2i + 1) + 1 = -1 + i.
/// assert_eq!(re, [1.0, 1.0, 1.0, -1.0]);
/// assert_eq!(im, [0.0, 2.0, 1.0, 1.0]);
/// ```
///
/// # Panics
///
/// If the buffers are not whole steps of `width` lanes, `width` is not a multiple of the units,
/// or `init` is not one step: sizes a cell fixes, not a caller's input.
pub fn complex_linear<T: Real>(
    lam: Lambda<'_, T>,
    re: &mut [T],
    im: &mut [T],
    init: Option<(&[T], &[T])>,
    width: usize,
) {
    let steps = check(lam, re, im, width);
    if let Some((ir, ii)) = init {
        assert!(
            ir.len() == width && ii.len() == width,
            "complex scan: init is one step"
        );
    }
    complex_linear_in_chunks(lam, re, im, init, width, chunks_for(steps, width));
}

/// The adjoint of [`complex_linear`]: from `d_t = d loss / d x_t` (as `(re, im)` pairs) from
/// outside the recurrence, the total `g_t = d_t + conj(λ) g_{t+1}` (`g_steps = 0`), in place.
/// Then `d b_t = g_t`, `d λ = Σ_t g_t conj(x_{t-1})` and `d x_{-1} = conj(λ) g_0`, which the
/// cell forms itself.
///
/// ```
/// use rnnzoo_lru::scan::{complex_linear_adjoint, Lambda};
///
/// let lam = Lambda { re: &[0.0], im: &[1.0] }; // conj(λ) = -i
/// let (mut re, mut im) = ([1.0, 1.0], [0.0, 0.0]); // a loss that sums Re x over two steps
/// complex_linear_adjoint(lam, &mut re, &mut im, 1);
/// assert_eq!((re, im), ([1.0, 1.0], [-1.0, 0.0])); // g_0 = 1 + (-i)(1)
/// ```
///
/// # Panics
///
/// As [`complex_linear`].
pub fn complex_linear_adjoint<T: Real>(
    lam: Lambda<'_, T>,
    re: &mut [T],
    im: &mut [T],
    width: usize,
) {
    let steps = check(lam, re, im, width);
    complex_adjoint_in_chunks(lam, re, im, width, chunks_for(steps, width));
}

fn chunk_range(steps: usize, chunks: usize, k: usize) -> (usize, usize) {
    let base = steps / chunks;
    let extra = steps % chunks;
    (k * base + k.min(extra), base + usize::from(k < extra))
}

/// The chunks of a sequence as `(first step, re, im)`, in order.
fn split<'a, T>(
    re: &'a mut [T],
    im: &'a mut [T],
    steps: usize,
    chunks: usize,
    width: usize,
) -> Vec<(usize, &'a mut [T], &'a mut [T])> {
    let mut parts = Vec::with_capacity(chunks);
    let (mut rr, mut ri) = (re, im);
    for k in 0..chunks {
        let (t0, len) = chunk_range(steps, chunks, k);
        let (hr, tr) = rr.split_at_mut(len * width);
        let (hi, ti) = ri.split_at_mut(len * width);
        parts.push((t0, hr, hi));
        rr = tr;
        ri = ti;
    }
    parts
}

/// [`complex_linear`] with an explicit number of time chunks (1 is the sequential loop).
pub(crate) fn complex_linear_in_chunks<T: Real>(
    lam: Lambda<'_, T>,
    re: &mut [T],
    im: &mut [T],
    init: Option<(&[T], &[T])>,
    width: usize,
    chunks: usize,
) {
    let steps = re.len() / width;
    let chunks = chunks.clamp(1, steps.max(1));
    if chunks == 1 {
        return sweep_forward(lam, re, im, init, width);
    }
    // Phase 1: every chunk from its own start (the first from `init`), in parallel.
    split(re, im, steps, chunks, width)
        .into_par_iter()
        .enumerate()
        .for_each(|(k, (_, r, i))| {
            sweep_forward(lam, r, i, if k == 0 { init } else { None }, width)
        });
    // Phase 2: the true state at each chunk's end, in order.
    let units = lam.units();
    let mut ends_re = vec![T::zero(); chunks * width];
    let mut ends_im = vec![T::zero(); chunks * width];
    for k in 0..chunks {
        let (t0, len) = chunk_range(steps, chunks, k);
        let last = (t0 + len - 1) * width;
        let (pr, pi) = lam.powers(len);
        for l in 0..width {
            let (mut er, mut ei) = (re[last + l], im[last + l]);
            if k > 0 {
                let (qr, qi) = (ends_re[(k - 1) * width + l], ends_im[(k - 1) * width + l]);
                let (a, b) = (pr[l % units], pi[l % units]);
                er += a * qr - b * qi;
                ei += a * qi + b * qr;
            }
            ends_re[k * width + l] = er;
            ends_im[k * width + l] = ei;
        }
    }
    // Phase 3: every later chunk adds its carried-in state, times λ^(s+1) at its step s.
    split(re, im, steps, chunks, width)
        .into_par_iter()
        .enumerate()
        .skip(1)
        .for_each(|(k, (_, r, i))| {
            let mut cr = ends_re[(k - 1) * width..][..width].to_vec();
            let mut ci = ends_im[(k - 1) * width..][..width].to_vec();
            for (xr, xi) in r.chunks_exact_mut(width).zip(i.chunks_exact_mut(width)) {
                for (l, j) in lanes(width, units) {
                    let (a, b) = (lam.re[j], lam.im[j]);
                    let (p, q) = (cr[l], ci[l]);
                    cr[l] = a * p - b * q;
                    ci[l] = a * q + b * p;
                    xr[l] += cr[l];
                    xi[l] += ci[l];
                }
            }
        });
}

/// [`complex_linear_adjoint`] with an explicit number of time chunks (1 is the sequential loop).
pub(crate) fn complex_adjoint_in_chunks<T: Real>(
    lam: Lambda<'_, T>,
    re: &mut [T],
    im: &mut [T],
    width: usize,
    chunks: usize,
) {
    let steps = re.len() / width;
    let chunks = chunks.clamp(1, steps.max(1));
    if chunks == 1 {
        return sweep_adjoint(lam, re, im, width);
    }
    // Phase 1: every chunk backwards from zero past its end, in parallel.
    split(re, im, steps, chunks, width)
        .into_par_iter()
        .for_each(|(_, r, i)| sweep_adjoint(lam, r, i, width));
    // Phase 2: the true gradient at each chunk's first step, from the last chunk back: a gradient
    // at the next chunk's first step reaches this chunk's first through conj(λ)^len.
    let units = lam.units();
    let mut starts_re = vec![T::zero(); chunks * width];
    let mut starts_im = vec![T::zero(); chunks * width];
    for k in (0..chunks).rev() {
        let (t0, len) = chunk_range(steps, chunks, k);
        let (pr, pi) = lam.powers(len);
        for l in 0..width {
            let (mut sr, mut si) = (re[t0 * width + l], im[t0 * width + l]);
            if k + 1 < chunks {
                let (qr, qi) = (
                    starts_re[(k + 1) * width + l],
                    starts_im[(k + 1) * width + l],
                );
                // conj(λ^len) (qr + i qi)
                let (a, b) = (pr[l % units], pi[l % units]);
                sr += a * qr + b * qi;
                si += a * qi - b * qr;
            }
            starts_re[k * width + l] = sr;
            starts_im[k * width + l] = si;
        }
    }
    // Phase 3: every chunk but the last adds the next chunk's first gradient, carried back.
    split(re, im, steps, chunks, width)
        .into_par_iter()
        .enumerate()
        .filter(|&(k, _)| k + 1 < chunks)
        .for_each(|(k, (_, r, i))| {
            let mut cr = starts_re[(k + 1) * width..][..width].to_vec();
            let mut ci = starts_im[(k + 1) * width..][..width].to_vec();
            let len = r.len() / width;
            for t in (0..len).rev() {
                let (gr, gi) = (&mut r[t * width..][..width], &mut i[t * width..][..width]);
                for (l, j) in lanes(width, units) {
                    let (a, b) = (lam.re[j], lam.im[j]);
                    let (p, q) = (cr[l], ci[l]);
                    cr[l] = a * p + b * q;
                    ci[l] = a * q - b * p;
                    gr[l] += cr[l];
                    gi[l] += ci[l];
                }
            }
        });
}

/// The sequential forward recurrence over whole steps, from `init` or zero.
fn sweep_forward<T: Real>(
    lam: Lambda<'_, T>,
    re: &mut [T],
    im: &mut [T],
    init: Option<(&[T], &[T])>,
    width: usize,
) {
    let units = lam.units();
    let steps = re.len() / width;
    let step = |xr: &mut [T], xi: &mut [T], pr: &[T], pi: &[T]| {
        for (l, j) in lanes(width, units) {
            let (a, b) = (lam.re[j], lam.im[j]);
            xr[l] += a * pr[l] - b * pi[l];
            xi[l] += a * pi[l] + b * pr[l];
        }
    };
    if let Some((ir, ii)) = init {
        step(&mut re[..width], &mut im[..width], ir, ii);
    }
    for t in 1..steps {
        let (done_r, rest_r) = re.split_at_mut(t * width);
        let (done_i, rest_i) = im.split_at_mut(t * width);
        step(
            &mut rest_r[..width],
            &mut rest_i[..width],
            &done_r[(t - 1) * width..],
            &done_i[(t - 1) * width..],
        );
    }
}

/// The sequential adjoint over whole steps: `g_t += conj(λ) g_{t+1}` from the last step down,
/// with nothing carried in past the end.
fn sweep_adjoint<T: Real>(lam: Lambda<'_, T>, re: &mut [T], im: &mut [T], width: usize) {
    let units = lam.units();
    let steps = re.len() / width;
    for t in (0..steps.saturating_sub(1)).rev() {
        let (cur_r, later_r) = re[t * width..].split_at_mut(width);
        let (cur_i, later_i) = im[t * width..].split_at_mut(width);
        for (l, j) in lanes(width, units) {
            let (a, b) = (lam.re[j], lam.im[j]);
            let (nr, ni) = (later_r[l], later_i[l]);
            cur_r[l] += a * nr + b * ni;
            cur_i[l] += a * ni - b * nr;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rnnzoo_cell::gradcheck::normal_vec;
    use rnnzoo_cell::seeded;

    /// `λ` per unit with moduli from `1e-300` to exactly 1 and phases all round.
    fn lambdas(units: usize) -> (Vec<f64>, Vec<f64>) {
        (0..units)
            .map(|j| {
                let r = match j % 5 {
                    0 => 1.0,
                    1 => 0.999,
                    2 => 0.5,
                    3 => 1e-300,
                    _ => 0.9,
                };
                let phase = 0.7 + 2.3 * j as f64;
                (r * phase.cos(), r * phase.sin())
            })
            .unzip()
    }

    /// The plain sequential loop on complex numbers written as pairs, independent of the code
    /// above: x_t = λ x_{t-1} + b_t, lane by lane.
    fn naive_forward(
        lr: &[f64],
        li: &[f64],
        br: &[f64],
        bi: &[f64],
        init: (&[f64], &[f64]),
        width: usize,
    ) -> (Vec<f64>, Vec<f64>) {
        let units = lr.len();
        let (mut xr, mut xi) = (br.to_vec(), bi.to_vec());
        for l in 0..width {
            let (mut pr, mut pi) = (init.0[l], init.1[l]);
            for t in 0..br.len() / width {
                let k = t * width + l;
                let (a, b) = (lr[l % units], li[l % units]);
                let (nr, ni) = (a * pr - b * pi + br[k], a * pi + b * pr + bi[k]);
                xr[k] = nr;
                xi[k] = ni;
                (pr, pi) = (nr, ni);
            }
        }
        (xr, xi)
    }

    /// g_t = d_t + conj(λ) g_{t+1}, lane by lane.
    fn naive_adjoint(
        lr: &[f64],
        li: &[f64],
        dr: &[f64],
        di: &[f64],
        width: usize,
    ) -> (Vec<f64>, Vec<f64>) {
        let units = lr.len();
        let (mut gr, mut gi) = (dr.to_vec(), di.to_vec());
        let steps = dr.len() / width;
        for l in 0..width {
            let (mut nr, mut ni) = (0.0, 0.0);
            for t in (0..steps).rev() {
                let k = t * width + l;
                let (a, b) = (lr[l % units], -li[l % units]);
                gr[k] = dr[k] + a * nr - b * ni;
                gi[k] = di[k] + a * ni + b * nr;
                (nr, ni) = (gr[k], gi[k]);
            }
        }
        (gr, gi)
    }

    fn close(got: &[f64], want: &[f64], what: &str) {
        for (k, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-12 * (1.0 + w.abs()),
                "{what}[{k}]: {g} vs {w}"
            );
        }
    }

    #[test]
    fn chunked_scans_agree_with_the_plain_complex_loop() {
        let (units, batch) = (5, 3);
        let width = units * batch;
        let (lr, li) = lambdas(units);
        let lam = Lambda { re: &lr, im: &li };
        for steps in [1, 2, 7, 64, 4096] {
            let mut rng = seeded(steps as u64);
            let br = normal_vec(steps * width, &mut rng);
            let bi = normal_vec(steps * width, &mut rng);
            let ir = normal_vec(width, &mut rng);
            let ii = normal_vec(width, &mut rng);
            let (want_r, want_i) = naive_forward(&lr, &li, &br, &bi, (&ir, &ii), width);
            let (gwant_r, gwant_i) = naive_adjoint(&lr, &li, &br, &bi, width);
            for chunks in [1, 2, 3, 4, 7] {
                let (mut r, mut i) = (br.clone(), bi.clone());
                complex_linear_in_chunks(lam, &mut r, &mut i, Some((&ir, &ii)), width, chunks);
                close(&r, &want_r, &format!("T={steps} chunks={chunks} re"));
                close(&i, &want_i, &format!("T={steps} chunks={chunks} im"));
                let (mut r, mut i) = (br.clone(), bi.clone());
                complex_adjoint_in_chunks(lam, &mut r, &mut i, width, chunks);
                close(
                    &r,
                    &gwant_r,
                    &format!("T={steps} chunks={chunks} adjoint re"),
                );
                close(
                    &i,
                    &gwant_i,
                    &format!("T={steps} chunks={chunks} adjoint im"),
                );
            }
        }
    }

    #[test]
    fn the_public_scans_on_a_pool_of_two_agree_with_the_loop() {
        let (units, batch, steps) = (8, 8, 4096); // 64 lanes, 256k values: chunked on two threads
        let width = units * batch;
        let (lr, li) = lambdas(units);
        let lam = Lambda { re: &lr, im: &li };
        let mut rng = seeded(3);
        let br = normal_vec(steps * width, &mut rng);
        let bi = normal_vec(steps * width, &mut rng);
        let zero = vec![0.0; width];
        let (want_r, want_i) = naive_forward(&lr, &li, &br, &bi, (&zero, &zero), width);
        let (gwant_r, gwant_i) = naive_adjoint(&lr, &li, &br, &bi, width);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        pool.install(|| {
            assert_eq!(chunks_for(steps, width), 2);
            let (mut r, mut i) = (br.clone(), bi.clone());
            complex_linear(lam, &mut r, &mut i, None, width);
            close(&r, &want_r, "re");
            close(&i, &want_i, "im");
            let (mut r, mut i) = (br.clone(), bi.clone());
            complex_linear_adjoint(lam, &mut r, &mut i, width);
            close(&r, &gwant_r, "adjoint re");
            close(&i, &gwant_i, "adjoint im");
        });
    }

    /// The adjoint is the transpose: <scan(b), d> = <b, adjoint(d)> for a zero initial state.
    #[test]
    fn the_adjoint_is_the_transpose_of_the_scan() {
        let (units, batch, steps) = (3, 2, 50);
        let width = units * batch;
        let (lr, li) = lambdas(units);
        let lam = Lambda { re: &lr, im: &li };
        let mut rng = seeded(8);
        let (br, bi) = (
            normal_vec(steps * width, &mut rng),
            normal_vec(steps * width, &mut rng),
        );
        let (dr, di) = (
            normal_vec(steps * width, &mut rng),
            normal_vec(steps * width, &mut rng),
        );
        let (mut xr, mut xi) = (br.clone(), bi.clone());
        complex_linear(lam, &mut xr, &mut xi, None, width);
        let (mut gr, mut gi) = (dr.clone(), di.clone());
        complex_linear_adjoint(lam, &mut gr, &mut gi, width);
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        let lhs = dot(&xr, &dr) + dot(&xi, &di);
        let rhs = dot(&br, &gr) + dot(&bi, &gi);
        assert!(
            (lhs - rhs).abs() < 1e-10 * lhs.abs().max(1.0),
            "{lhs} vs {rhs}"
        );
    }
}
