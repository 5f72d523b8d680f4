//! Where a head reads a sequence layer's result: every step, each sample's last valid step, or the
//! final states; and the helpers that gather those columns and scatter their gradients back.
//!
//! The public helpers check their arguments and return a [`LayerError`] for sizes that do not fit;
//! [`crate::Model`] calls the unchecked forms, its inputs having been checked once at its boundary.

use rnnzoo_cell::Real;

use crate::LayerError;
use crate::unroll::lengths::check_lengths;

/// Which outputs of the body the head reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Readout {
    /// Every step: predictions are `output x (T*B)` (sequence tagging, language models).
    EveryStep,
    /// Each sample's last valid step: predictions are `output x B` (sequence classification or
    /// regression).
    LastStep,
    /// The final states of the top layer's directions, the readout PyTorch classifiers use most:
    /// `h_n[-1]` for a one-direction top layer, `cat(h_n[-2], h_n[-1])` for a bidirectional one.
    /// Only the `h` rows are read (not an LSTM's `c`). Predictions are `output x B`.
    ///
    /// For a forward direction this is the output at the last valid step; for a reverse
    /// direction it is the output at step 0 (the state after reading the whole prefix backwards),
    /// which is what `LastStep` does not give a bidirectional layer.
    FinalStates,
}

/// Checks a `rows x (steps * batch)` sequence and its lengths.
fn check_sequence<T>(
    what: &'static str,
    seq: &[T],
    rows: usize,
    steps: usize,
    batch: usize,
    lengths: Option<&[usize]>,
) -> Result<(), LayerError> {
    if batch == 0 {
        return Err(LayerError::EmptyBatch);
    }
    if steps == 0 {
        return Err(LayerError::NoSteps);
    }
    let expected = rows
        .checked_mul(steps)
        .and_then(|n| n.checked_mul(batch))
        .unwrap_or(usize::MAX);
    if seq.len() != expected {
        return Err(LayerError::Size {
            what,
            expected,
            got: seq.len(),
        });
    }
    if let Some(l) = lengths {
        check_lengths(l, batch, steps)?;
    }
    Ok(())
}

/// Which columns of a `features x (T*B)` sequence count: `t < lengths[b]`, or all of them.
///
/// ```
/// use rnnzoo_layers::readout::step_mask;
/// assert_eq!(step_mask(2, 2, Some(&[2, 1]))?, [true, true, true, false]);
/// # Ok::<(), rnnzoo_layers::LayerError>(())
/// ```
///
/// # Errors
///
/// [`LayerError::LengthsCount`], [`LayerError::ZeroLength`] or [`LayerError::LengthTooLong`] if
/// `lengths` is not one length in `1..=steps` per sample.
pub fn step_mask(
    steps: usize,
    batch: usize,
    lengths: Option<&[usize]>,
) -> Result<Vec<bool>, LayerError> {
    if let Some(l) = lengths {
        check_lengths(l, batch, steps)?;
    }
    Ok(step_mask_unchecked(steps, batch, lengths))
}

/// [`step_mask`] of lengths already checked.
pub(crate) fn step_mask_unchecked(
    steps: usize,
    batch: usize,
    lengths: Option<&[usize]>,
) -> Vec<bool> {
    (0..steps)
        .flat_map(|t| (0..batch).map(move |b| lengths.is_none_or(|l| t < l[b])))
        .collect()
}

/// The output at each sample's last valid step: a `hidden x batch` matrix from a
/// `hidden x (T*B)` sequence (what a per-sequence head reads).
///
/// ```
/// use rnnzoo_layers::readout::last_steps;
/// // hidden 1, T = 3, B = 2: value = 10 t + b
/// let out = [0.0, 1.0, 10.0, 11.0, 20.0, 21.0];
/// assert_eq!(last_steps(&out, 1, 3, 2, Some(&[2, 3]))?, [10.0, 21.0]);
/// # Ok::<(), rnnzoo_layers::LayerError>(())
/// ```
///
/// # Errors
///
/// [`LayerError::Size`] if `output` is not `hidden x (steps * batch)`,
/// [`LayerError::EmptyBatch`]/[`LayerError::NoSteps`] for an empty sequence, and the length
/// errors of [`step_mask`].
pub fn last_steps<T: Real>(
    output: &[T],
    hidden: usize,
    steps: usize,
    batch: usize,
    lengths: Option<&[usize]>,
) -> Result<Vec<T>, LayerError> {
    check_sequence("output", output, hidden, steps, batch, lengths)?;
    Ok(last_steps_unchecked(output, hidden, steps, batch, lengths))
}

/// [`last_steps`] of a sequence already checked.
pub(crate) fn last_steps_unchecked<T: Real>(
    output: &[T],
    hidden: usize,
    steps: usize,
    batch: usize,
    lengths: Option<&[usize]>,
) -> Vec<T> {
    let mut out = Vec::with_capacity(hidden * batch);
    for b in 0..batch {
        let t = lengths.map_or(steps, |l| l[b]) - 1;
        out.extend_from_slice(&output[(t * batch + b) * hidden..][..hidden]);
    }
    out
}

/// The adjoint of [`last_steps`]: a `hidden x (T*B)` gradient that is `d` at each sample's last
/// valid step and zero elsewhere.
///
/// ```
/// use rnnzoo_layers::readout::scatter_last_steps;
/// let d = scatter_last_steps(&[1.0, 2.0], 1, 2, 2, Some(&[1, 2]))?;
/// assert_eq!(d, [1.0, 0.0, 0.0, 2.0]);
/// # Ok::<(), rnnzoo_layers::LayerError>(())
/// ```
///
/// # Errors
///
/// [`LayerError::Size`] if `d` is not `hidden x batch`, and the errors of [`step_mask`] and
/// [`last_steps`] for an empty sequence or lengths that do not fit.
pub fn scatter_last_steps<T: Real>(
    d: &[T],
    hidden: usize,
    steps: usize,
    batch: usize,
    lengths: Option<&[usize]>,
) -> Result<Vec<T>, LayerError> {
    check_sequence("d", d, hidden, 1, batch, None)?;
    if steps == 0 {
        return Err(LayerError::NoSteps);
    }
    if let Some(l) = lengths {
        check_lengths(l, batch, steps)?;
    }
    Ok(scatter_last_steps_unchecked(
        d, hidden, steps, batch, lengths,
    ))
}

/// [`scatter_last_steps`] of sizes already checked.
pub(crate) fn scatter_last_steps_unchecked<T: Real>(
    d: &[T],
    hidden: usize,
    steps: usize,
    batch: usize,
    lengths: Option<&[usize]>,
) -> Vec<T> {
    let mut out = vec![T::zero(); hidden * steps * batch];
    for b in 0..batch {
        let t = lengths.map_or(steps, |l| l[b]) - 1;
        out[(t * batch + b) * hidden..][..hidden].copy_from_slice(&d[b * hidden..][..hidden]);
    }
    out
}

/// Where the `h` rows of each direction of the top layer sit in a body's final state.
///
/// The top layer's state is its cells' states one block after the other (`state x batch` each,
/// column `b` being sample `b`'s `[h; rest]`); the readout takes the first `hidden` rows of each
/// column of each block and stacks them, `[h_forward; h_reverse]` per sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FinalRows {
    /// Rows per sample of the body's state before the top layer's.
    pub(crate) offset: usize,
    /// `(state_size, hidden_size)` of each of the top layer's cells, in state order.
    pub(crate) blocks: Vec<(usize, usize)>,
}

impl FinalRows {
    /// Rows of the gathered matrix per sample.
    pub(crate) fn rows(&self) -> usize {
        self.blocks.iter().map(|&(_, h)| h).sum()
    }

    /// The `rows() x batch` matrix of the top layer's `h` rows from a body's final state.
    pub(crate) fn gather<T: Real>(&self, state: &[T], batch: usize) -> Vec<T> {
        let mut out = Vec::with_capacity(self.rows() * batch);
        for b in 0..batch {
            let mut at = self.offset * batch;
            for &(s, h) in &self.blocks {
                out.extend_from_slice(&state[at + b * s..][..h]);
                at += s * batch;
            }
        }
        out
    }

    /// Adds the gradient `d` of [`gather`](FinalRows::gather)'s result into `d_state`, a gradient
    /// laid out as the body's final state.
    pub(crate) fn scatter_add<T: Real>(&self, d: &[T], d_state: &mut [T], batch: usize) {
        let rows = self.rows();
        for b in 0..batch {
            let mut at = self.offset * batch;
            let mut from = b * rows;
            for &(s, h) in &self.blocks {
                let dst = &mut d_state[at + b * s..][..h];
                dst.iter_mut()
                    .zip(&d[from..from + h])
                    .for_each(|(a, &g)| *a += g);
                at += s * batch;
                from += h;
            }
        }
    }
}
