//! [`Batch`] and [`Targets`]: the one batch type that datasets produce and training consumes.
//!
//! It lives here, in the crate every other rnnzoo crate already depends on, so that
//! `rnnzoo-datasets` (which knows nothing about networks) and `rnnzoo-layers` (which knows nothing
//! about datasets) share it without depending on each other: a dataset's batch goes to
//! `Trainer::step` as it is, with no conversion.
//!
//! # Layout
//!
//! Time-major, as everywhere in rnnzoo: step `t`, sample `b`, feature `f` of a batch of `batch`
//! samples sits at [`time_major_index`]`(t, b, f, batch, features)` = `(t * batch + b) * features
//! + f`. That is PyTorch's contiguous `(T, B, F)` tensor, and the column-major
//! `features x (T * batch)` matrix the layers compute on. Targets use the same convention.

use crate::Real;

/// The flat index of step `t`, sample `b`, feature `f` in a time-major sequence batch of `batch`
/// samples and `features` features: `(t * batch + b) * features + f`.
///
/// ```
/// use rnnzoo_cell::batch::time_major_index;
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

/// A batch that does not hold what its shape says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// The batch has no sample.
    #[error("a batch needs at least 1 sample, got 0")]
    EmptyBatch,
    /// A stored vector has the wrong number of values.
    #[error("{what} has {got} values; {expected} expected for {steps} steps and {batch} samples")]
    Size {
        /// Which vector (`"inputs"`, `"targets"`).
        what: &'static str,
        /// Values expected.
        expected: usize,
        /// Values given.
        got: usize,
        /// Steps of the batch.
        steps: usize,
        /// Samples of the batch.
        batch: usize,
    },
    /// There is not one length per sample.
    #[error("got {got} lengths for a batch of {expected}")]
    LengthsCount {
        /// The batch size.
        expected: usize,
        /// Lengths given.
        got: usize,
    },
    /// A length is not in `1..=steps`.
    #[error("sample {sample} has length {length}; every length must be in 1..={steps}")]
    Length {
        /// The sample.
        sample: usize,
        /// Its length.
        length: usize,
        /// Steps of the batch.
        steps: usize,
    },
    /// A class index is not below the number of classes.
    #[error("target {index} is class {class}, but there are {classes} classes")]
    Class {
        /// Position in the class list.
        index: usize,
        /// The class given.
        class: usize,
        /// The number of classes.
        classes: usize,
    },
}

/// What a batch asks the network to predict.
///
/// Every variant stores its data flat, in the same time-major convention as the inputs; the
/// variant says which steps carry targets (every step, or once per sample, read at its last valid
/// step) and which loss fits (mean squared error for values, cross-entropy for classes, binary
/// cross-entropy for multi-hot sets).
///
/// ```
/// use rnnzoo_cell::batch::Targets;
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
    /// `values[(t * batch + b) * num_classes + c]` is 1 when class `c` is in the set (the allowed
    /// next symbols of the embedded Reber grammar).
    StepMultiHot {
        /// The 0/1 values, `num_classes * steps * batch` of them.
        values: Vec<T>,
        /// The number of classes.
        num_classes: usize,
    },
}

impl<T> Targets<T> {
    /// Output width a network head needs: `outputs` for regression, `num_classes` otherwise.
    ///
    /// ```
    /// use rnnzoo_cell::batch::Targets;
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
    /// use rnnzoo_cell::batch::Targets;
    /// let t: Targets = Targets::StepClasses { classes: vec![1, 0], num_classes: 2 };
    /// assert!(t.is_per_step());
    /// ```
    pub fn is_per_step(&self) -> bool {
        matches!(
            self,
            Targets::StepValues { .. } | Targets::StepClasses { .. } | Targets::StepMultiHot { .. }
        )
    }

    /// Values (or class indices) stored, and how many the variant needs for `steps` and `batch`.
    fn counts(&self, steps: usize, batch: usize) -> (usize, usize) {
        match self {
            Targets::FinalValues { values, outputs } => (values.len(), outputs * batch),
            Targets::StepValues { values, outputs } => (values.len(), outputs * steps * batch),
            Targets::StepClasses { classes, .. } => (classes.len(), steps * batch),
            Targets::FinalClasses { classes, .. } => (classes.len(), batch),
            Targets::StepMultiHot {
                values,
                num_classes,
            } => (values.len(), num_classes * steps * batch),
        }
    }

    /// Checks that the stored lengths match `steps` and `batch` and that class indices are in
    /// range.
    ///
    /// ```
    /// use rnnzoo_cell::batch::{BatchError, Targets};
    /// let t: Targets = Targets::FinalClasses { classes: vec![0, 5], num_classes: 4 };
    /// assert!(matches!(t.validate(10, 2), Err(BatchError::Class { index: 1, class: 5, classes: 4 })));
    /// ```
    ///
    /// # Errors
    ///
    /// [`BatchError::Size`] for a wrong count, [`BatchError::Class`] for a class index out of
    /// range.
    pub fn validate(&self, steps: usize, batch: usize) -> Result<(), BatchError> {
        let (got, expected) = self.counts(steps, batch);
        if got != expected {
            return Err(BatchError::Size {
                what: "targets",
                expected,
                got,
                steps,
                batch,
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
            && let Some(index) = classes.iter().position(|&c| c >= *num_classes)
        {
            return Err(BatchError::Class {
                index,
                class: classes[index],
                classes: *num_classes,
            });
        }
        Ok(())
    }
}

impl<T: Real> Targets<T> {
    /// Converts the stored values to another real type (class indices are copied).
    ///
    /// ```
    /// use rnnzoo_cell::batch::Targets;
    /// let t: Targets = Targets::FinalValues { values: vec![0.5], outputs: 1 };
    /// assert_eq!(t.cast::<f32>(), Targets::FinalValues { values: vec![0.5f32], outputs: 1 });
    /// ```
    pub fn cast<U: Real>(&self) -> Targets<U> {
        let conv = |v: &[T]| cast_values(v);
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
}

fn cast_values<T: Real, U: Real>(v: &[T]) -> Vec<U> {
    v.iter()
        .map(|x| U::from_f64_lossy(x.to_f64_lossless()))
        .collect()
}

/// A batch of sequences with their targets: what every dataset task produces and what a trainer
/// takes.
///
/// `inputs` is time-major: step `t`, sample `b`, feature `f` is at
/// `inputs[(t * batch + b) * features + f]`. When `lengths` is `Some`, sample `b` is valid for
/// steps `0..lengths[b]` (and a dataset zeroes every padded input and per-step target); when it is
/// `None`, all samples have `steps` steps.
///
/// ```
/// use rnnzoo_cell::batch::{Batch, Targets};
/// // Two samples of one feature over three steps; sample 1 is two steps long.
/// let batch = Batch {
///     inputs: vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.0],
///     features: 1,
///     steps: 3,
///     batch: 2,
///     targets: Targets::FinalValues { values: vec![1.0, -1.0], outputs: 1 },
///     lengths: Some(vec![3, 2]),
/// };
/// batch.validate()?;
/// assert_eq!(batch.input(1, 1), Some(&[0.4][..]));
/// assert_eq!(batch.to_f32().inputs[0], 0.1f32);
/// # Ok::<(), rnnzoo_cell::batch::BatchError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Batch<T = f64> {
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

impl<T> Batch<T> {
    /// The input features of sample `b` at step `t`, or `None` if out of range.
    pub fn input(&self, t: usize, b: usize) -> Option<&[T]> {
        if t >= self.steps || b >= self.batch {
            return None;
        }
        let start = time_major_index(t, b, 0, self.batch, self.features);
        self.inputs.get(start..start + self.features)
    }

    /// The valid length of sample `b` (`steps` when lengths are not set), or `None` if `b` is out
    /// of range.
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
    pub fn lengths_or_full(&self) -> Vec<usize> {
        self.lengths
            .clone()
            .unwrap_or_else(|| vec![self.steps; self.batch])
    }

    /// Checks that every stored vector has the length its shape implies, that there is one length
    /// in `1..=steps` per sample, and that class indices are in range.
    ///
    /// # Errors
    ///
    /// The [`BatchError`] of the first thing that does not fit.
    pub fn validate(&self) -> Result<(), BatchError> {
        if self.batch == 0 {
            return Err(BatchError::EmptyBatch);
        }
        let expected = self.features * self.steps * self.batch;
        if self.inputs.len() != expected {
            return Err(BatchError::Size {
                what: "inputs",
                expected,
                got: self.inputs.len(),
                steps: self.steps,
                batch: self.batch,
            });
        }
        if let Some(lengths) = &self.lengths {
            if lengths.len() != self.batch {
                return Err(BatchError::LengthsCount {
                    expected: self.batch,
                    got: lengths.len(),
                });
            }
            if let Some(sample) = lengths.iter().position(|&l| l == 0 || l > self.steps) {
                return Err(BatchError::Length {
                    sample,
                    length: lengths[sample],
                    steps: self.steps,
                });
            }
        }
        self.targets.validate(self.steps, self.batch)
    }
}

impl<T: Real> Batch<T> {
    /// A time-major `steps * batch` mask: 1 where `t < length(b)`, 0 on padding.
    pub fn mask(&self) -> Vec<T> {
        let lengths = self.lengths_or_full();
        let mut mask = vec![T::zero(); self.steps * self.batch];
        for (b, &len) in lengths.iter().enumerate() {
            for t in 0..len.min(self.steps) {
                mask[t * self.batch + b] = T::one();
            }
        }
        mask
    }

    /// Converts inputs and targets to another real type.
    pub fn cast<U: Real>(&self) -> Batch<U> {
        Batch {
            inputs: cast_values(&self.inputs),
            features: self.features,
            steps: self.steps,
            batch: self.batch,
            targets: self.targets.cast(),
            lengths: self.lengths.clone(),
        }
    }

    /// Shorthand for [`cast::<f32>`](Self::cast): the speed type a trainer usually runs in.
    pub fn to_f32(&self) -> Batch<f32> {
        self.cast()
    }
}
