//! The batch type every task produces, its targets, and padding of variable-length sequences.
//!
//! All sequence data uses the crate's time-major layout (see the crate documentation): a sequence
//! batch of `steps` steps, `batch` samples and `features` features is a flat vector where step
//! `t`, sample `b`, feature `f` sits at [`time_major_index`]`(t, b, f, batch, features)` =
//! `(t * batch + b) * features + f`.

use crate::error::{check_batch, DatasetError, Result};

/// A real scalar the batches can be stored in: `f32` or `f64`.
///
/// Generators compute in `f64` (so that one seed gives the same data in both precisions up to
/// rounding) and [`SeqBatch::cast`] converts. The trait is deliberately tiny so this crate needs
/// no numeric dependency.
///
/// ```
/// use rnnzoo_datasets::Scalar;
/// fn half<T: Scalar>() -> T { T::from_f64(0.5) }
/// assert_eq!(half::<f32>(), 0.5f32);
/// assert_eq!(0.25f32.to_f64(), 0.25);
/// ```
pub trait Scalar: Copy + Default + PartialEq + std::fmt::Debug + Send + Sync + 'static {
    /// Converts from `f64`, rounding to the nearest representable value.
    fn from_f64(v: f64) -> Self;
    /// Converts to `f64` (exact for `f32` and `f64`).
    fn to_f64(self) -> f64;
}

impl Scalar for f32 {
    #[inline]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Scalar for f64 {
    #[inline]
    fn from_f64(v: f64) -> Self {
        v
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
}

/// The flat index of step `t`, sample `b`, feature `f` in a time-major sequence batch of `batch`
/// samples and `features` features: `(t * batch + b) * features + f`.
///
/// This is PyTorch's `(T, B, F)` contiguous tensor, and equally a column-major
/// `features x (T * batch)` matrix whose column `t * batch + b` is sample `b` at step `t`.
///
/// ```
/// use rnnzoo_datasets::time_major_index;
/// // 3 samples of 2 features: step 1, sample 2, feature 1.
/// assert_eq!(time_major_index(1, 2, 1, 3, 2), (1 * 3 + 2) * 2 + 1);
/// ```
#[inline]
pub const fn time_major_index(
    t: usize,
    b: usize,
    f: usize,
    batch: usize,
    features: usize,
) -> usize {
    (t * batch + b) * features + f
}

/// What a batch asks the network to predict.
///
/// Every variant stores its data flat, in the same time-major convention as the inputs; the
/// variant says which steps carry targets.
///
/// ```
/// use rnnzoo_datasets::Targets;
/// let t: Targets = Targets::FinalClasses { classes: vec![0, 3], num_classes: 4 };
/// assert_eq!(t.width(), 4);
/// assert!(!t.is_per_step());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Targets<T = f64> {
    /// One regression vector per sample, to be read at the sample's last valid step:
    /// `values[b * outputs + o]` (column-major `outputs x batch`).
    FinalValues {
        /// The values, `outputs * batch` of them.
        values: Vec<T>,
        /// Values per sample.
        outputs: usize,
    },
    /// A regression vector at every step: `values[(t * batch + b) * outputs + o]`.
    StepValues {
        /// The values, `outputs * steps * batch` of them.
        values: Vec<T>,
        /// Values per step and sample.
        outputs: usize,
    },
    /// One class index per step and sample: `classes[t * batch + b]`, each `< num_classes`.
    StepClasses {
        /// The class indices, `steps * batch` of them.
        classes: Vec<usize>,
        /// The number of classes.
        num_classes: usize,
    },
    /// One class index per sample, to be read at its last valid step: `classes[b]`.
    FinalClasses {
        /// The class indices, `batch` of them.
        classes: Vec<usize>,
        /// The number of classes.
        num_classes: usize,
    },
    /// A set of classes per step and sample, as 0/1 values:
    /// `values[(t * batch + b) * num_classes + c]` is 1 when class `c` is in the set.
    StepMultiHot {
        /// The 0/1 values, `num_classes * steps * batch` of them.
        values: Vec<T>,
        /// The number of classes.
        num_classes: usize,
    },
}

impl<T: Scalar> Targets<T> {
    /// Output width a network head needs: `outputs` for regression, `num_classes` otherwise.
    ///
    /// ```
    /// use rnnzoo_datasets::Targets;
    /// let t: Targets = Targets::StepValues { values: vec![0.0; 6], outputs: 2 };
    /// assert_eq!(t.width(), 2);
    /// ```
    pub fn width(&self) -> usize {
        match self {
            Targets::FinalValues { outputs, .. } | Targets::StepValues { outputs, .. } => *outputs,
            Targets::StepClasses { num_classes, .. }
            | Targets::FinalClasses { num_classes, .. }
            | Targets::StepMultiHot { num_classes, .. } => *num_classes,
        }
    }

    /// Whether targets exist at every step (`true`) or once per sample (`false`).
    ///
    /// ```
    /// use rnnzoo_datasets::Targets;
    /// let t: Targets = Targets::StepClasses { classes: vec![1, 0], num_classes: 2 };
    /// assert!(t.is_per_step());
    /// ```
    pub fn is_per_step(&self) -> bool {
        matches!(
            self,
            Targets::StepValues { .. } | Targets::StepClasses { .. } | Targets::StepMultiHot { .. }
        )
    }

    /// Converts the stored values to another scalar type (class indices are copied).
    ///
    /// ```
    /// use rnnzoo_datasets::Targets;
    /// let t: Targets = Targets::FinalValues { values: vec![0.5], outputs: 1 };
    /// assert_eq!(t.cast::<f32>(), Targets::FinalValues { values: vec![0.5f32], outputs: 1 });
    /// ```
    pub fn cast<U: Scalar>(&self) -> Targets<U> {
        let conv = |v: &[T]| v.iter().map(|x| U::from_f64(x.to_f64())).collect();
        match self {
            Targets::FinalValues { values, outputs } => Targets::FinalValues {
                values: conv(values),
                outputs: *outputs,
            },
            Targets::StepValues { values, outputs } => Targets::StepValues {
                values: conv(values),
                outputs: *outputs,
            },
            Targets::StepClasses {
                classes,
                num_classes,
            } => Targets::StepClasses {
                classes: classes.clone(),
                num_classes: *num_classes,
            },
            Targets::FinalClasses {
                classes,
                num_classes,
            } => Targets::FinalClasses {
                classes: classes.clone(),
                num_classes: *num_classes,
            },
            Targets::StepMultiHot {
                values,
                num_classes,
            } => Targets::StepMultiHot {
                values: conv(values),
                num_classes: *num_classes,
            },
        }
    }

    /// Checks that the stored lengths match `steps` and `batch` and that class indices are in
    /// range.
    ///
    /// ```
    /// use rnnzoo_datasets::Targets;
    /// let t: Targets = Targets::FinalClasses { classes: vec![0, 5], num_classes: 4 };
    /// assert!(t.validate(10, 2).is_err());
    /// ```
    pub fn validate(&self, steps: usize, batch: usize) -> Result<()> {
        let (len, expected) = match self {
            Targets::FinalValues { values, outputs } => (values.len(), outputs * batch),
            Targets::StepValues { values, outputs } => (values.len(), outputs * steps * batch),
            Targets::StepClasses { classes, .. } => (classes.len(), steps * batch),
            Targets::FinalClasses { classes, .. } => (classes.len(), batch),
            Targets::StepMultiHot {
                values,
                num_classes,
            } => (values.len(), num_classes * steps * batch),
        };
        if len != expected {
            return Err(DatasetError::InvalidParameter {
                name: "targets length",
                value: len.to_string(),
                expected: format!("{expected} values for {steps} steps and {batch} samples"),
            });
        }
        if let Targets::StepClasses {
            classes,
            num_classes,
        }
        | Targets::FinalClasses {
            classes,
            num_classes,
        } = self
        {
            if let Some(bad) = classes.iter().find(|&&c| c >= *num_classes) {
                return Err(DatasetError::InvalidParameter {
                    name: "class index",
                    value: bad.to_string(),
                    expected: format!("an index below {num_classes}"),
                });
            }
        }
        Ok(())
    }
}

/// A batch of sequences with their targets: what every task of this crate produces.
///
/// `inputs` is time-major: step `t`, sample `b`, feature `f` is at
/// `inputs[(t * batch + b) * features + f]`. When `lengths` is `Some`, sample `b` is valid for
/// steps `0..lengths[b]` and every padded input (and per-step target) is zero; when it is `None`,
/// all samples have `steps` steps.
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
#[derive(Debug, Clone, PartialEq)]
pub struct SeqBatch<T = f64> {
    /// Inputs, `features * steps * batch` values, time-major.
    pub inputs: Vec<T>,
    /// Features per step.
    pub features: usize,
    /// Steps (the longest sample's length when lengths vary).
    pub steps: usize,
    /// Samples.
    pub batch: usize,
    /// What to predict.
    pub targets: Targets<T>,
    /// Per-sample valid lengths, or `None` when every sample has `steps` steps.
    pub lengths: Option<Vec<usize>>,
}

impl<T: Scalar> SeqBatch<T> {
    /// The input features of sample `b` at step `t`, or `None` if out of range.
    ///
    /// ```
    /// use rnnzoo_datasets::{AddingProblem, Task};
    /// let batch = AddingProblem::new(10)?.sample_seeded(3, 7)?;
    /// let x = batch.input(4, 2).unwrap();
    /// assert_eq!(x, &batch.inputs[(4 * 3 + 2) * 2..(4 * 3 + 2) * 2 + 2]);
    /// assert!(batch.input(10, 0).is_none());
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn input(&self, t: usize, b: usize) -> Option<&[T]> {
        if t >= self.steps || b >= self.batch {
            return None;
        }
        let start = time_major_index(t, b, 0, self.batch, self.features);
        self.inputs.get(start..start + self.features)
    }

    /// The valid length of sample `b` (`steps` when lengths are not set), or `None` if `b` is out
    /// of range.
    ///
    /// ```
    /// use rnnzoo_datasets::{AddingProblem, Task};
    /// let batch = AddingProblem::new(10)?.sample_seeded(2, 0)?;
    /// assert_eq!(batch.length(1), Some(10));
    /// assert_eq!(batch.length(2), None);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn length(&self, b: usize) -> Option<usize> {
        if b >= self.batch {
            return None;
        }
        match &self.lengths {
            Some(l) => l.get(b).copied(),
            None => Some(self.steps),
        }
    }

    /// Every sample's valid length: `lengths` if set, otherwise `steps` repeated.
    ///
    /// ```
    /// use rnnzoo_datasets::pad_sequences;
    /// let p = pad_sequences(&[vec![1.0], vec![1.0, 2.0]], 1)?;
    /// assert_eq!(p.lengths, vec![1, 2]);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn lengths_or_full(&self) -> Vec<usize> {
        self.lengths
            .clone()
            .unwrap_or_else(|| vec![self.steps; self.batch])
    }

    /// A time-major `steps * batch` mask: 1 where `t < length(b)`, 0 on padding.
    ///
    /// ```
    /// use rnnzoo_datasets::{TemporalOrder, Task};
    /// let batch = TemporalOrder::task_6a().sample_seeded(4, 3)?;
    /// let mask = batch.mask();
    /// let valid: f64 = mask.iter().sum();
    /// assert_eq!(valid as usize, batch.lengths_or_full().iter().sum::<usize>());
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn mask(&self) -> Vec<T> {
        let lengths = self.lengths_or_full();
        let mut mask = vec![T::from_f64(0.0); self.steps * self.batch];
        for (b, &len) in lengths.iter().enumerate() {
            for t in 0..len.min(self.steps) {
                mask[t * self.batch + b] = T::from_f64(1.0);
            }
        }
        mask
    }

    /// Checks that every stored vector has the length its shape implies, that lengths are in
    /// `1..=steps`, and that class indices are in range.
    ///
    /// ```
    /// use rnnzoo_datasets::{CopyMemory, Task};
    /// let mut batch = CopyMemory::new(5)?.sample_seeded(2, 0)?;
    /// assert!(batch.validate().is_ok());
    /// batch.inputs.pop();
    /// assert!(batch.validate().is_err());
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn validate(&self) -> Result<()> {
        check_batch(self.batch)?;
        let expected = self.features * self.steps * self.batch;
        if self.inputs.len() != expected {
            return Err(DatasetError::InvalidParameter {
                name: "inputs length",
                value: self.inputs.len().to_string(),
                expected: format!(
                    "features * steps * batch = {} * {} * {} = {expected}",
                    self.features, self.steps, self.batch
                ),
            });
        }
        if let Some(lengths) = &self.lengths {
            if lengths.len() != self.batch {
                return Err(DatasetError::InvalidParameter {
                    name: "lengths count",
                    value: lengths.len().to_string(),
                    expected: format!("one length per sample ({})", self.batch),
                });
            }
            if let Some(bad) = lengths.iter().find(|&&l| l == 0 || l > self.steps) {
                return Err(DatasetError::InvalidParameter {
                    name: "length",
                    value: bad.to_string(),
                    expected: format!("a length in 1..={}", self.steps),
                });
            }
        }
        self.targets.validate(self.steps, self.batch)
    }

    /// Converts inputs and targets to another scalar type.
    ///
    /// ```
    /// use rnnzoo_datasets::{AddingProblem, SeqBatch, Task};
    /// let b64 = AddingProblem::new(10)?.sample_seeded(2, 0)?;
    /// let b32: SeqBatch<f32> = b64.cast();
    /// assert_eq!(b32.inputs[0], b64.inputs[0] as f32);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn cast<U: Scalar>(&self) -> SeqBatch<U> {
        SeqBatch {
            inputs: self
                .inputs
                .iter()
                .map(|x| U::from_f64(x.to_f64()))
                .collect(),
            features: self.features,
            steps: self.steps,
            batch: self.batch,
            targets: self.targets.cast(),
            lengths: self.lengths.clone(),
        }
    }

    /// Shorthand for [`cast::<f32>`](Self::cast).
    ///
    /// ```
    /// use rnnzoo_datasets::{AddingProblem, Task};
    /// let b = AddingProblem::new(10)?.sample_seeded(2, 0)?.to_f32();
    /// assert_eq!(b.inputs.len(), 40);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn to_f32(&self) -> SeqBatch<f32> {
        self.cast()
    }
}

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
