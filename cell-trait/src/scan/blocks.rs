//! A pass's buffers split by samples, so that each thread runs one fused loop over every step of
//! its own samples.
//!
//! A cell whose gates and recurrence are both elementwise (minGRU) does not need the gates of the
//! whole sequence in memory: for one sample and one step it can compute the gates from the
//! pre-activations and the new state from the previous one at once, while all of them sit in L1.
//! That reads the pre-activations once and writes the states once, where separate passes (the
//! gates into buffers, then [`linear`](super::linear)) stream the sequence's values through memory
//! several times. Samples never interact, so threads take disjoint ranges of samples, each over
//! all steps; the split does not change any value.
//!
//! # Layout
//!
//! A buffer of `steps * batch` columns of `rows` values, column-major, step `t` being columns
//! `[t*batch, (t+1)*batch)` (the unroller's layout, see [`Cell`](crate::Cell)). A block holds the
//! samples `b0..b1`; its values at step `t` are the contiguous columns `t*batch + b0 ..
//! t*batch + b1`, `rows * (b1 - b0)` values.
//!
//! ```
//! use rnnzoo_cell::rayon::prelude::*;
//! use rnnzoo_cell::scan::{by_samples, sample_parts};
//!
//! // h_t = h_{t-1} / 2 + x_t over 3 steps of 4 samples of 2 rows, the state carried in place.
//! let (rows, batch, steps) = (2, 4, 3);
//! let mut h = vec![1.0f64; rows * batch * steps]; // x, then h
//! let parts = sample_parts(steps, batch, rows);
//! by_samples(&mut h, rows, batch, parts).into_par_iter().for_each(|mut block| {
//!     for t in 1..steps {
//!         let (prev, cur) = block.steps(t - 1, t);
//!         for (h, &p) in cur.iter_mut().zip(prev) {
//!             *h += 0.5 * p;
//!         }
//!     }
//! });
//! assert_eq!(&h[16..], &[1.75; 8]);
//! ```

use std::marker::PhantomData;
use std::ops::Range;

/// Values of a pass (`steps * batch * rows`) below which one thread does it all: a rayon
/// hand-off costs microseconds, a fused pass over 32k values about as much.
const PARALLEL_MIN_VALUES: usize = 1 << 15;

/// The samples `b0..b1` of a buffer laid out as in the [module docs](self), for every step:
/// disjoint from every other block of the same split, so it may go to its own thread.
#[derive(Debug)]
pub struct SampleBlock<'a, T> {
    ptr: *mut T,
    rows: usize,
    batch: usize,
    steps: usize,
    samples: Range<usize>,
    _buf: PhantomData<&'a mut [T]>,
}

// SAFETY: a block is a set of `&mut` sub-slices of one buffer that no other block of the same
// split touches (`by_samples`), so sending it is sending `&mut [T]`s.
unsafe impl<T: Send> Send for SampleBlock<'_, T> {}
// SAFETY: every access that yields a reference goes through `&mut self` or `&self` as a slice
// borrow would.
unsafe impl<T: Sync> Sync for SampleBlock<'_, T> {}

impl<T> SampleBlock<'_, T> {
    /// The samples this block holds.
    ///
    /// ```
    /// let mut buf = [0.0f32; 2 * 5 * 3];
    /// let blocks = rnnzoo_cell::scan::by_samples(&mut buf, 2, 5, 2);
    /// assert_eq!((blocks[0].samples(), blocks[1].samples()), (0..3, 3..5));
    /// ```
    pub fn samples(&self) -> Range<usize> {
        self.samples.clone()
    }

    /// The block's values at step `t`: `rows * samples().len()` values, sample by sample.
    ///
    /// ```
    /// let mut buf: Vec<f32> = (0..12).map(|v| v as f32).collect(); // 2 rows, 3 samples, 2 steps
    /// let mut blocks = rnnzoo_cell::scan::by_samples(&mut buf, 2, 3, 2);
    /// assert_eq!(blocks[1].step(1), &[10.0, 11.0]); // sample 2 of step 1
    /// ```
    ///
    /// # Panics
    ///
    /// If `t` is not a step of the buffer.
    pub fn step(&mut self, t: usize) -> &mut [T] {
        let (at, len) = self.span(t);
        // SAFETY: `span` is in bounds of the buffer, these values belong to this block alone
        // (`by_samples`), and `&mut self` keeps them from being handed out twice.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(at), len) }
    }

    /// Step `read`'s values to read and step `write`'s to write (the previous state and the new
    /// one, or the next gradient and this one).
    ///
    /// ```
    /// let mut buf = [1.0f64, 2.0, 3.0, 4.0]; // 1 row, 2 samples, 2 steps
    /// let mut blocks = rnnzoo_cell::scan::by_samples(&mut buf, 1, 2, 1);
    /// let (prev, cur) = blocks[0].steps(0, 1);
    /// cur[0] += prev[1];
    /// assert_eq!(buf, [1.0, 2.0, 5.0, 4.0]);
    /// ```
    ///
    /// # Panics
    ///
    /// If `read` equals `write`, or either is not a step of the buffer.
    pub fn steps(&mut self, read: usize, write: usize) -> (&[T], &mut [T]) {
        assert_ne!(read, write, "SampleBlock::steps: one step read and written");
        let (r, len) = self.span(read);
        let (w, _) = self.span(write);
        // SAFETY: both spans are in bounds and this block's alone; they are different steps of
        // the same samples, so they do not overlap; `&mut self` keeps them unique.
        unsafe {
            (
                std::slice::from_raw_parts(self.ptr.add(r), len),
                std::slice::from_raw_parts_mut(self.ptr.add(w), len),
            )
        }
    }

    fn span(&self, t: usize) -> (usize, usize) {
        assert!(t < self.steps, "SampleBlock: step {t} of {}", self.steps);
        let at = (t * self.batch + self.samples.start) * self.rows;
        (at, self.samples.len() * self.rows)
    }
}

/// `buf` (`rows x (steps * batch)`, see the [module docs](self)) split into `parts` blocks of
/// consecutive samples, as even as they go (`parts` is clamped to `1..=batch`).
///
/// ```
/// let mut buf = [0.0f32; 4 * 3];
/// let blocks = rnnzoo_cell::scan::by_samples(&mut buf, 1, 4, 3); // 3 steps of 4 samples
/// let sizes: Vec<usize> = blocks.iter().map(|b| b.samples().len()).collect();
/// assert_eq!(sizes, [2, 1, 1]);
/// ```
///
/// # Panics
///
/// If `rows` or `batch` is zero, or `buf` is not whole steps of `batch` columns of `rows`: sizes a
/// cell fixes, not a caller's input.
pub fn by_samples<T>(
    buf: &mut [T],
    rows: usize,
    batch: usize,
    parts: usize,
) -> Vec<SampleBlock<'_, T>> {
    assert!(rows > 0 && batch > 0, "by_samples: zero rows or samples");
    let step = rows * batch;
    assert_eq!(buf.len() % step, 0, "by_samples: not whole steps");
    let steps = buf.len() / step;
    let parts = parts.clamp(1, batch);
    let ptr = buf.as_mut_ptr();
    (0..parts)
        .map(|k| {
            let (b0, len) = super::linear::chunk_range(batch, parts, k);
            SampleBlock {
                ptr,
                rows,
                batch,
                steps,
                samples: b0..b0 + len,
                _buf: PhantomData,
            }
        })
        .collect()
}

/// How many sample blocks a fused pass of `steps` steps of `batch` samples of `rows` values
/// should use on the current rayon pool: one per thread, at most one per sample, and one for a
/// pass too small to pay for a hand-off.
///
/// ```
/// use rnnzoo_cell::scan::sample_parts;
/// assert_eq!(sample_parts(4, 2, 3), 1); // 24 values
/// let pool = rnnzoo_cell::rayon::ThreadPoolBuilder::new().num_threads(2).build()?;
/// assert_eq!(pool.install(|| sample_parts(512, 32, 256)), 2);
/// assert_eq!(pool.install(|| sample_parts(4096, 1, 256)), 1); // one sample: one block
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sample_parts(steps: usize, batch: usize, rows: usize) -> usize {
    let values = steps.saturating_mul(batch).saturating_mul(rows);
    if values < PARALLEL_MIN_VALUES {
        1
    } else {
        rayon::current_num_threads().clamp(1, batch.max(1))
    }
}
