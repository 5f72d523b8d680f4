//! Padding of variable-length sequences, and the encodings the tasks share.
//!
//! The batch type itself, [`SeqBatch`] (= [`rnnzoo_cell::Batch`]) with its [`Targets`], lives in
//! `rnnzoo-cell`, so that the trainer of `rnnzoo-layers` takes a dataset's batch as it is and
//! neither crate depends on the other. All sequence data uses the crate's time-major layout (see
//! the crate documentation): step `t`, sample `b`, feature `f` sits at
//! [`time_major_index`]`(t, b, f, batch, features)` = `(t * batch + b) * features + f`.

pub use rnnzoo_cell::batch::{Targets, time_major_index};

use crate::error::{DatasetError, Result, check_batch};

/// A batch of sequences with their targets: what every task of this crate produces. It is
/// [`rnnzoo_cell::Batch`] under the name this crate has always used; `Trainer::step` of
/// `rnnzoo-layers` takes it as it is.
///
/// ```
/// use rnnzoo_datasets::{AddingProblem, Task};
/// let batch = AddingProblem::new(50)?.sample_seeded(8, 1)?;
/// assert_eq!((batch.features, batch.steps, batch.batch), (2, 50, 8));
/// assert_eq!(batch.inputs.len(), 2 * 50 * 8);
/// batch.validate()?;
/// let as_f32 = batch.to_f32();
/// assert_eq!(as_f32.inputs.len(), batch.inputs.len());
/// # Ok::<(), rnnzoo_datasets::DatasetError>(())
/// ```
pub type SeqBatch<T = f64> = rnnzoo_cell::Batch<T>;

/// Variable-length sequences padded into one time-major block.
///
/// ```
/// use rnnzoo_datasets::pad_sequences;
/// let p = pad_sequences(&[vec![1.0, 2.0], vec![3.0]], 1)?;
/// assert_eq!((p.steps, p.batch, p.features), (2, 2, 1));
/// # Ok::<(), rnnzoo_datasets::DatasetError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Padded<T> {
    /// `features * steps * batch` values, time-major; padded positions hold `T::default()` (zero).
    pub values: Vec<T>,
    /// Features per step.
    pub features: usize,
    /// The longest sequence's length.
    pub steps: usize,
    /// The number of sequences.
    pub batch: usize,
    /// Each sequence's length in steps.
    pub lengths: Vec<usize>,
}

/// Pads variable-length sequences into the time-major layout and returns their lengths.
///
/// Sequence `b` is given flat and step-major: its step `t`, feature `f` is at
/// `seqs[b][t * features + f]`, so it has `seqs[b].len() / features` steps. The result has
/// `steps = max length`, and step `t`, sample `b`, feature `f` at
/// `values[(t * batch + b) * features + f]`; positions at or after a sample's length are zero
/// (`T::default()`). No sorting by length is needed or done.
///
/// Works for any `Copy + Default` element, so class-index sequences pad with `features = 1`.
///
/// # Errors
///
/// [`DatasetError::ZeroBatch`] for no sequences, [`DatasetError::InvalidParameter`] for zero
/// features, [`DatasetError::FeatureMismatch`] when a length is not a multiple of `features`,
/// [`DatasetError::EmptySequence`] for a sequence with no steps.
///
/// ```
/// use rnnzoo_datasets::pad_sequences;
/// // Two features; sample 0 has 2 steps, sample 1 has 1 step.
/// let p = pad_sequences(&[vec![1.0, 2.0, 3.0, 4.0], vec![5.0, 6.0]], 2)?;
/// assert_eq!(p.lengths, vec![2, 1]);
/// //                      t=0: b0      b1       t=1: b0      b1 (padding)
/// assert_eq!(p.values, vec![1.0, 2.0, 5.0, 6.0, 3.0, 4.0, 0.0, 0.0]);
/// let classes = pad_sequences(&[vec![3usize], vec![1, 2]], 1)?;
/// assert_eq!(classes.values, vec![3, 1, 0, 2]);
/// # Ok::<(), rnnzoo_datasets::DatasetError>(())
/// ```
pub fn pad_sequences<T, S>(seqs: &[S], features: usize) -> Result<Padded<T>>
where
    T: Copy + Default,
    S: AsRef<[T]>,
{
    check_batch(seqs.len())?;
    if features == 0 {
        return Err(DatasetError::InvalidParameter {
            name: "features",
            value: "0".into(),
            expected: "at least 1".into(),
        });
    }
    let mut lengths = Vec::with_capacity(seqs.len());
    for (index, s) in seqs.iter().enumerate() {
        let len = s.as_ref().len();
        if len % features != 0 {
            return Err(DatasetError::FeatureMismatch {
                index,
                len,
                features,
            });
        }
        if len == 0 {
            return Err(DatasetError::EmptySequence { index });
        }
        lengths.push(len / features);
    }
    let batch = seqs.len();
    let steps = lengths.iter().copied().max().unwrap_or(0);
    let mut values = vec![T::default(); features * steps * batch];
    for (b, s) in seqs.iter().enumerate() {
        // Each step of a sample is one contiguous run of `features` values in both layouts, so
        // copy step by step.
        for (t, step) in s.as_ref().chunks_exact(features).enumerate() {
            let start = time_major_index(t, b, 0, batch, features);
            values[start..start + features].copy_from_slice(step);
        }
    }
    Ok(Padded {
        values,
        features,
        steps,
        batch,
        lengths,
    })
}

/// Checks every id is below `vocab_size`, naming the first that is not.
pub(crate) fn check_ids(ids: &[usize], vocab_size: usize) -> Result<()> {
    match ids.iter().position(|&id| id >= vocab_size) {
        Some(position) => Err(DatasetError::UnknownId {
            id: ids[position],
            position,
            vocab_size,
        }),
        None => Ok(()),
    }
}

/// One-hot encodes class indices into `num_classes` features each. Indices must be in range
/// (callers inside the crate guarantee it).
pub(crate) fn one_hot(ids: &[usize], num_classes: usize) -> Vec<f64> {
    let mut out = vec![0.0; ids.len() * num_classes];
    for (i, &id) in ids.iter().enumerate() {
        out[i * num_classes + id] = 1.0;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pad_errors() {
        let none: [Vec<f64>; 0] = [];
        assert_eq!(pad_sequences(&none, 1), Err(DatasetError::ZeroBatch));
        assert!(matches!(
            pad_sequences(&[vec![1.0]], 0),
            Err(DatasetError::InvalidParameter { .. })
        ));
        assert_eq!(
            pad_sequences(&[vec![1.0, 2.0], vec![1.0, 2.0, 3.0]], 2),
            Err(DatasetError::FeatureMismatch {
                index: 1,
                len: 3,
                features: 2
            })
        );
        assert_eq!(
            pad_sequences(&[vec![1.0], vec![]], 1),
            Err(DatasetError::EmptySequence { index: 1 })
        );
    }

    #[test]
    fn one_hot_places_ones() {
        assert_eq!(one_hot(&[2, 0], 3), vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn mask_follows_lengths() {
        let b: SeqBatch = SeqBatch {
            inputs: vec![0.0; 6],
            features: 1,
            steps: 3,
            batch: 2,
            targets: Targets::FinalClasses {
                classes: vec![0, 0],
                num_classes: 1,
            },
            lengths: Some(vec![3, 1]),
        };
        b.validate().unwrap();
        assert_eq!(b.mask(), vec![1.0, 1.0, 1.0, 0.0, 1.0, 0.0]);
    }
}
