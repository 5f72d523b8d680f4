//! The gated two-GEMM form: a cell that holds PyTorch's weight set and writes only its elementwise
//! step.

use crate::{Cell, GateWeights, Params, Real, StepForm};

/// A cell in the gated two-GEMM form (see [`Cell`]): it holds its weights in a [`GateWeights`]
/// (PyTorch's `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`, with `G` gate blocks) and writes only
/// what is its own: the weights' place, its mode, its cache and state sizes and the elementwise
/// step, forward and backward. Every `GatedCell` is a [`Cell`] (a blanket impl reads the sizes and
/// parameters from [`weights`](GatedCell::weights)), so the example on [`Cell`] is a whole cell.
///
/// # What the pointwise functions see
///
/// The unroller computes `gi = W_ih x + b_ih` and `gh = W_hh h_{t-1} + b_hh` (biases included) and
/// calls [`forward_pointwise`](GatedCell::forward_pointwise) for `next` and `cache`. Backward, it
/// calls [`backward_pointwise`](GatedCell::backward_pointwise) for `d_gi`, `d_gh` and the
/// elementwise part of `d_prev`, then adds `W_hh^T d_gh` to the `h` rows of `d_prev` itself. So
/// `backward_pointwise` writes only the elementwise paths from `state_t` to `state_{t-1}` (zero for
/// a vanilla RNN, `f * dc` into `c` for an LSTM). It overwrites `next`, `cache`, `d_gi`, `d_gh` and
/// `d_prev`: they hold values of other steps when it is called.
///
/// # Columns are independent, and called in parts
///
/// For a large batch, the unroller splits a step's columns (samples) into contiguous ranges and
/// calls the pointwise functions on each range **from several threads at once**: each call gets
/// the buffers of its columns only, with `batch` the number of columns in the range. So column `b`
/// of every output must depend on column `b` of the inputs alone. A cell that reduces across the
/// batch (a batch mean, a batch norm, a shared counter) computes something else on every range and
/// breaks silently, and only at sizes large enough to be split; such a cell must be a
/// [`GeneralStep`](crate::GeneralStep). [`gradcheck::check_columns`](crate::gradcheck::check_columns)
/// compares a whole batch against its columns one at a time, and catches it at any size.
///
/// # When `d_gh` is `d_gi`
///
/// If `gi` and `gh` enter the step only through their sum `gi + gh` (vanilla RNN, LSTM), both get
/// the same gradient. Such a cell returns `true` from [`d_gh_is_d_gi`](GatedCell::d_gh_is_d_gi)
/// and writes `d_gi` only: it is then handed an empty `d_gh`, and the unroller reads `d_gi` for
/// the `W_hh` product and gradient and sums the bias gradient once for both biases. A GRU, whose
/// reset gate multiplies `gh`'s `n` block, writes both.
///
/// # Calling a method by name
///
/// [`mode`](GatedCell::mode), [`state_size`](GatedCell::state_size) and
/// [`cache_size`](GatedCell::cache_size) are what [`Cell`] reports; with both traits in scope,
/// name the one you mean, as `Cell::mode(&cell)`.
pub trait GatedCell: Send + Sync {
    /// The number type the cell computes in.
    type Real: Real;

    /// The weights: `G` gate blocks, `H` units, the input size and whether there are biases.
    fn weights(&self) -> &GateWeights<Self::Real>;

    /// The weights, for writing (optimizers, loading, initialisers).
    fn weights_mut(&mut self) -> &mut GateWeights<Self::Real>;

    /// The cell's kind, as [`Cell::mode`].
    fn mode(&self) -> &str;

    /// Values per sample that backward needs from forward, as [`Cell::cache_size`].
    fn cache_size(&self) -> usize;

    /// Rows of the carried state per sample, as [`Cell::state_size`]; `H` unless the cell carries
    /// more than `h` (LSTM: `2H`).
    fn state_size(&self) -> usize {
        self.weights().hidden()
    }

    /// Whether `d_gh` always equals `d_gi`, so that the cell writes `d_gi` only (see the trait
    /// docs). `false` unless the cell says so.
    fn d_gh_is_d_gi(&self) -> bool {
        false
    }

    /// `next` and `cache` from the pre-activations `gi`, `gh` (biases included) and `prev`.
    fn forward_pointwise(&self, f: PointwiseForward<'_, Self::Real>);

    /// `d_gi`, `d_gh` (unless [`d_gh_is_d_gi`](GatedCell::d_gh_is_d_gi)) and the elementwise part
    /// of `d_prev`, from `d_next`.
    fn backward_pointwise(&self, b: PointwiseBackward<'_, Self::Real>);
}

impl<C: GatedCell> Cell<C::Real> for C {
    fn input_size(&self) -> usize {
        self.weights().input()
    }
    fn hidden_size(&self) -> usize {
        self.weights().hidden()
    }
    fn state_size(&self) -> usize {
        GatedCell::state_size(self)
    }
    fn cache_size(&self) -> usize {
        GatedCell::cache_size(self)
    }
    fn mode(&self) -> &str {
        GatedCell::mode(self)
    }
    fn params(&self) -> &Params<C::Real> {
        self.weights().params()
    }
    fn params_mut(&mut self) -> &mut Params<C::Real> {
        self.weights_mut().params_mut()
    }
    fn form(&self) -> StepForm<'_, C::Real> {
        StepForm::Gated(self)
    }
}

/// The buffers of one [`GatedCell::forward_pointwise`] call, each exactly `rows x batch` (see the
/// layouts on [`Cell`]): `G*H` rows for `gi` and `gh`, `state_size` for `prev` and `next`,
/// `cache_size` for `cache`.
#[derive(Debug)]
pub struct PointwiseForward<'a, T> {
    /// `W_ih x + b_ih`, `G*H x batch`.
    pub gi: &'a [T],
    /// `W_hh h_{t-1} + b_hh`, `G*H x batch`.
    pub gh: &'a [T],
    /// `state_{t-1}`.
    pub prev: &'a [T],
    /// `state_t`, to be written.
    pub next: &'a mut [T],
    /// What backward will need, to be written.
    pub cache: &'a mut [T],
    /// Columns (samples) in this call: the whole batch or a part of it.
    pub batch: usize,
}

impl<'a, T> PointwiseForward<'a, T> {
    /// One sample's buffers at a time, for a cell that computes a column at once.
    ///
    /// ```
    /// use rnnzoo_cell::PointwiseForward;
    /// let (gi, gh, prev) = ([1.0, 2.0, 3.0, 4.0], [0.5; 4], [0.0; 2]);
    /// let (mut next, mut cache) = ([0.0; 2], [0.0; 0]);
    /// let mut f = PointwiseForward { gi: &gi, gh: &gh, prev: &prev, next: &mut next, cache: &mut cache, batch: 2 };
    /// for c in f.columns() {
    ///     c.next[0] = c.gi[0] + c.gi[1] + c.gh[0]; // G*H = 2 rows, state 1 row, no cache
    /// }
    /// assert_eq!(next, [3.5, 7.5]);
    /// ```
    pub fn columns(&mut self) -> impl Iterator<Item = ForwardColumn<'_, T>> + use<'_, T> {
        let n = self.batch;
        let (mut gi, mut gh, mut prev) = (cols(self.gi, n), cols(self.gh, n), cols(self.prev, n));
        let (mut next, mut cache) = (cols_mut(self.next, n), cols_mut(self.cache, n));
        (0..n).map(move |_| ForwardColumn {
            gi: gi.take(),
            gh: gh.take(),
            prev: prev.take(),
            next: next.take(),
            cache: cache.take(),
        })
    }
}

/// One sample's part of a [`PointwiseForward`].
#[derive(Debug)]
pub struct ForwardColumn<'a, T> {
    /// `G*H` values.
    pub gi: &'a [T],
    /// `G*H` values.
    pub gh: &'a [T],
    /// `state_size` values.
    pub prev: &'a [T],
    /// `state_size` values.
    pub next: &'a mut [T],
    /// `cache_size` values.
    pub cache: &'a mut [T],
}

/// The buffers of one [`GatedCell::backward_pointwise`] call, each exactly `rows x batch` (rows as
/// [`PointwiseForward`]'s; `d_next` and `d_prev` have the state's).
#[derive(Debug)]
pub struct PointwiseBackward<'a, T> {
    /// What forward cached at this step.
    pub cache: &'a [T],
    /// `state_{t-1}`.
    pub prev: &'a [T],
    /// `d loss / d state_t`.
    pub d_next: &'a [T],
    /// `d loss / d gi`, to be written.
    pub d_gi: &'a mut [T],
    /// `d loss / d gh`, to be written; empty when the cell's
    /// [`d_gh_is_d_gi`](GatedCell::d_gh_is_d_gi) is `true`.
    pub d_gh: &'a mut [T],
    /// The elementwise part of `d loss / d state_{t-1}`, to be written (the unroller adds
    /// `W_hh^T d_gh` to its `h` rows afterwards).
    pub d_prev: &'a mut [T],
    /// Columns (samples) in this call: the whole batch or a part of it.
    pub batch: usize,
}

impl<'a, T> PointwiseBackward<'a, T> {
    /// One sample's buffers at a time (`d_gh` is empty in every column when it is empty here).
    pub fn columns(&mut self) -> impl Iterator<Item = BackwardColumn<'_, T>> + use<'_, T> {
        let n = self.batch;
        let (mut cache, mut prev) = (cols(self.cache, n), cols(self.prev, n));
        let mut d_next = cols(self.d_next, n);
        let (mut d_gi, mut d_gh) = (cols_mut(self.d_gi, n), cols_mut(self.d_gh, n));
        let mut d_prev = cols_mut(self.d_prev, n);
        (0..n).map(move |_| BackwardColumn {
            cache: cache.take(),
            prev: prev.take(),
            d_next: d_next.take(),
            d_gi: d_gi.take(),
            d_gh: d_gh.take(),
            d_prev: d_prev.take(),
        })
    }
}

/// One sample's part of a [`PointwiseBackward`].
#[derive(Debug)]
pub struct BackwardColumn<'a, T> {
    /// `cache_size` values.
    pub cache: &'a [T],
    /// `state_size` values.
    pub prev: &'a [T],
    /// `state_size` values.
    pub d_next: &'a [T],
    /// `G*H` values.
    pub d_gi: &'a mut [T],
    /// `G*H` values, or none.
    pub d_gh: &'a mut [T],
    /// `state_size` values.
    pub d_prev: &'a mut [T],
}

/// Consecutive columns of `len / batch` values (zero-sized ones included, which `chunks_exact`
/// refuses).
struct Cols<'a, T> {
    rest: &'a [T],
    size: usize,
}

impl<'a, T> Cols<'a, T> {
    fn take(&mut self) -> &'a [T] {
        let (col, rest) = self.rest.split_at(self.size);
        self.rest = rest;
        col
    }
}

fn cols<T>(s: &[T], batch: usize) -> Cols<'_, T> {
    Cols {
        rest: s,
        size: s.len().checked_div(batch).unwrap_or(0),
    }
}

struct ColsMut<'a, T> {
    rest: &'a mut [T],
    size: usize,
}

impl<'a, T> ColsMut<'a, T> {
    fn take(&mut self) -> &'a mut [T] {
        let (col, rest) = std::mem::take(&mut self.rest).split_at_mut(self.size);
        self.rest = rest;
        col
    }
}

fn cols_mut<T>(s: &mut [T], batch: usize) -> ColsMut<'_, T> {
    ColsMut {
        size: s.len().checked_div(batch).unwrap_or(0),
        rest: s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_split_every_buffer_by_its_own_rows_including_empty_ones() {
        let (gi, gh, prev) = ([0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11], [20, 21, 22]);
        let (mut next, mut cache) = ([0; 3], [0; 0]);
        let mut f = PointwiseForward {
            gi: &gi,
            gh: &gh,
            prev: &prev,
            next: &mut next,
            cache: &mut cache,
            batch: 3,
        };
        let mut seen = Vec::new();
        for c in f.columns() {
            assert!(c.cache.is_empty());
            c.next[0] = c.prev[0] + c.gi[1] + c.gh[0];
            seen.push((c.gi.to_vec(), c.gh.to_vec()));
        }
        assert_eq!(next, [20 + 1 + 6, 21 + 3 + 8, 22 + 5 + 10]);
        assert_eq!(seen[2], (vec![4, 5], vec![10, 11]));

        let (cache, prev, d_next) = ([1; 4], [2; 2], [3; 2]);
        let (mut d_gi, mut d_prev) = ([0; 4], [0; 2]);
        let mut b = PointwiseBackward {
            cache: &cache,
            prev: &prev,
            d_next: &d_next,
            d_gi: &mut d_gi,
            d_gh: &mut [],
            d_prev: &mut d_prev,
            batch: 2,
        };
        let mut n = 0;
        for (k, c) in b.columns().enumerate() {
            assert!(c.d_gh.is_empty());
            assert_eq!((c.cache.len(), c.prev.len(), c.d_next.len()), (2, 1, 1));
            c.d_gi.fill(k as i32 + 1);
            c.d_prev[0] = c.d_next[0] * c.prev[0];
            n += 1;
        }
        assert_eq!((n, d_gi, d_prev), (2, [1, 1, 2, 2], [6, 6]));
        let mut none = PointwiseForward::<f32> {
            gi: &[],
            gh: &[],
            prev: &[],
            next: &mut [],
            cache: &mut [],
            batch: 0,
        };
        assert_eq!(none.columns().count(), 0);
    }
}
