//! MNIST-1D (Greydanus & Kobak, "Scaling down deep learning with MNIST-1D", arXiv:2011.14439;
//! <https://github.com/greydanus/mnist1d>, Apache-2.0): ten digit-like templates of length 12,
//! padded, scaled, translated, sheared and noised into sequences of 40 values, 4,000 for training
//! and 1,000 for testing. The authors' GRU reaches 91 % test accuracy, and 57 % when the 40
//! positions are shuffled by one fixed permutation (the table of their README).
//!
//! The data are embedded: `data/mnist1d/mnist1d.bin`, made by the `mnist1d` package's own
//! generator (version 0.0.2.post1) with its default arguments, offline, by
//! `data/mnist1d/make.py`, which also documents the file's layout. Compared with the frozen
//! `mnist1d_data.pkl` of the authors' repository, the one their paper used: the labels are
//! identical and the values agree to 8.9e-16 before the conversion to f32.

use rand::Rng;

use crate::{DatasetError, Result, SeqBatch, Targets};

const NAME: &str = "MNIST-1D";
const MAGIC: &[u8; 8] = b"MNIST1D\0";
static EMBEDDED: &[u8] = include_bytes!("../data/mnist1d/mnist1d.bin");

/// The MNIST-1D data set: its training and test splits, and the permutation of the shuffled
/// variant.
///
/// ```
/// use rnnzoo_datasets::{Mnist1d, Targets};
/// let data = Mnist1d::embedded()?;
/// assert_eq!((data.train_len(), data.test_len(), Mnist1d::LENGTH), (4000, 1000, 40));
/// let test = data.test(false);
/// assert_eq!((test.steps, test.batch, test.features), (40, 1000, 1));
/// let Targets::FinalClasses { classes, num_classes } = &test.targets else { unreachable!() };
/// assert_eq!((classes.len(), *num_classes), (1000, 10));
/// # Ok::<(), rnnzoo_datasets::DatasetError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Mnist1d {
    train_x: Vec<f32>,
    train_y: Vec<u8>,
    test_x: Vec<f32>,
    test_y: Vec<u8>,
    shuffle: Vec<usize>,
}

impl Mnist1d {
    /// Values per sequence.
    pub const LENGTH: usize = 40;
    /// Classes (the digits 0 to 9).
    pub const CLASSES: usize = 10;

    /// The embedded data set.
    ///
    /// # Errors
    ///
    /// [`DatasetError::Damaged`] if the embedded file were damaged (a build from a broken
    /// checkout).
    pub fn embedded() -> Result<Self> {
        Self::parse(EMBEDDED)
    }

    /// Reads the data set from bytes in the layout `data/mnist1d/make.py` writes.
    ///
    /// # Errors
    ///
    /// [`DatasetError::Damaged`], saying what was expected and what came: a wrong magic, a
    /// length other than 40, a size that does not match the header, a label of 10 or more, a
    /// permutation that is not one, or a non-finite value.
    ///
    /// ```
    /// use rnnzoo_datasets::{DatasetError, Mnist1d};
    /// let err = Mnist1d::parse(b"MNIST1D\0\x01").unwrap_err();
    /// assert!(matches!(err, DatasetError::Damaged { .. }));
    /// assert!(err.to_string().contains("expected a 20-byte header"));
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let damaged = |expected: String, got: String| DatasetError::Damaged {
            name: NAME,
            expected,
            got,
        };
        if bytes.len() < 20 {
            return Err(damaged(
                "a 20-byte header".into(),
                format!("{} bytes", bytes.len()),
            ));
        }
        if &bytes[..8] != MAGIC {
            return Err(damaged(
                format!("the magic {MAGIC:?}"),
                format!("{:?}", &bytes[..8]),
            ));
        }
        let word = |k: usize| {
            let mut w = [0u8; 4];
            w.copy_from_slice(&bytes[8 + 4 * k..][..4]);
            u32::from_le_bytes(w) as usize
        };
        let (train, test, length) = (word(0), word(1), word(2));
        if length != Self::LENGTH {
            return Err(damaged(
                format!("sequences of length {}", Self::LENGTH),
                format!("length {length}"),
            ));
        }
        let size = 20 + length + (train + test) * (4 * length + 1);
        if bytes.len() != size {
            return Err(damaged(
                format!("{size} bytes for {train} + {test} sequences of {length}"),
                format!("{} bytes", bytes.len()),
            ));
        }
        let mut at = 20;
        let mut take = |n: usize| {
            let s = &bytes[at..at + n];
            at += n;
            s
        };
        let shuffle: Vec<usize> = take(length).iter().map(|&b| usize::from(b)).collect();
        let mut seen = vec![false; length];
        for &p in &shuffle {
            if p >= length || std::mem::replace(&mut seen[p], true) {
                return Err(damaged(
                    format!("a permutation of 0..{length}"),
                    format!("{shuffle:?}"),
                ));
            }
        }
        let floats = |s: &[u8], what: &str| -> Result<Vec<f32>> {
            let v: Vec<f32> = s
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            match v.iter().position(|x| !x.is_finite()) {
                Some(k) => Err(damaged(
                    format!("finite values in {what}"),
                    format!("{} at value {k}", v[k]),
                )),
                None => Ok(v),
            }
        };
        let labels = |s: &[u8], what: &str| -> Result<Vec<u8>> {
            match s.iter().position(|&y| usize::from(y) >= Self::CLASSES) {
                Some(k) => Err(damaged(
                    format!("labels below {} in {what}", Self::CLASSES),
                    format!("{} at sample {k}", s[k]),
                )),
                None => Ok(s.to_vec()),
            }
        };
        let train_x = floats(take(4 * train * length), "the training inputs")?;
        let train_y = labels(take(train), "the training labels")?;
        let test_x = floats(take(4 * test * length), "the test inputs")?;
        let test_y = labels(take(test), "the test labels")?;
        Ok(Self {
            train_x,
            train_y,
            test_x,
            test_y,
            shuffle,
        })
    }

    /// Training sequences.
    pub fn train_len(&self) -> usize {
        self.train_y.len()
    }

    /// Test sequences.
    pub fn test_len(&self) -> usize {
        self.test_y.len()
    }

    /// The permutation of the shuffled variant: position `t` of a shuffled sequence holds
    /// position `shuffle()[t]` of the original (`x[:, perm]` in the authors' notebook).
    pub fn shuffle(&self) -> &[usize] {
        &self.shuffle
    }

    /// The whole test split as one batch (40 steps of 1 feature, a class per sample), the
    /// positions permuted by [`shuffle`](Self::shuffle) when `shuffled`.
    pub fn test(&self, shuffled: bool) -> SeqBatch<f32> {
        let all: Vec<usize> = (0..self.test_len()).collect();
        self.batch(&self.test_x, &self.test_y, &all, shuffled)
    }

    /// The training sequences `samples` (indices below [`train_len`](Self::train_len)) as one
    /// batch.
    ///
    /// # Errors
    ///
    /// [`DatasetError::ZeroBatch`] for no index, [`DatasetError::InvalidParameter`] for an
    /// index out of range.
    pub fn train_batch(&self, samples: &[usize], shuffled: bool) -> Result<SeqBatch<f32>> {
        if samples.is_empty() {
            return Err(DatasetError::ZeroBatch);
        }
        if let Some(&k) = samples.iter().find(|&&k| k >= self.train_len()) {
            return Err(DatasetError::InvalidParameter {
                name: "sample index",
                value: k.to_string(),
                expected: format!("below {}", self.train_len()),
            });
        }
        Ok(self.batch(&self.train_x, &self.train_y, samples, shuffled))
    }

    /// `batch` training sequences drawn uniformly with replacement.
    ///
    /// # Errors
    ///
    /// [`DatasetError::ZeroBatch`] when `batch` is 0.
    pub fn sample_train<R: Rng + ?Sized>(
        &self,
        batch: usize,
        rng: &mut R,
        shuffled: bool,
    ) -> Result<SeqBatch<f32>> {
        let idx: Vec<usize> = (0..batch)
            .map(|_| rng.random_range(0..self.train_len()))
            .collect();
        self.train_batch(&idx, shuffled)
    }

    fn batch(&self, x: &[f32], y: &[u8], samples: &[usize], shuffled: bool) -> SeqBatch<f32> {
        let (n, len) = (samples.len(), Self::LENGTH);
        let mut inputs = vec![0.0; len * n];
        for (b, &k) in samples.iter().enumerate() {
            let row = &x[k * len..][..len];
            for t in 0..len {
                let from = if shuffled { self.shuffle[t] } else { t };
                inputs[t * n + b] = row[from];
            }
        }
        SeqBatch {
            inputs,
            features: 1,
            steps: len,
            batch: n,
            targets: Targets::FinalClasses {
                classes: samples.iter().map(|&k| usize::from(y[k])).collect(),
                num_classes: Self::CLASSES,
            },
            lengths: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_file_holds_the_generators_output() {
        let d = Mnist1d::embedded().unwrap();
        // From datasets/data/mnist1d/make.py's own print-out: x[0][:3], y[:5], shuffle[:5].
        let printed: [f64; 3] = [-0.332_005_67, -0.471_910_37, -0.778_697_08];
        for (got, want) in d.train_x.iter().zip(printed) {
            // 8 printed digits (5e-9) and the f32 rounding (under 3e-8 here) apart at most.
            assert!(
                (f64::from(*got) - want).abs() < 3.5e-8,
                "{got} against {want}"
            );
        }
        assert_eq!(&d.train_y[..5], &[2, 6, 4, 5, 6]);
        assert_eq!(&d.shuffle[..5], &[19, 16, 15, 26, 4]);
        // Every class is present in both splits, about a tenth each.
        for y in [&d.train_y, &d.test_y] {
            for c in 0..10u8 {
                let n = y.iter().filter(|&&v| v == c).count();
                assert!(n * 20 > y.len() && n * 5 < y.len(), "class {c}: {n}");
            }
        }
    }

    #[test]
    fn a_shuffled_batch_permutes_positions_and_keeps_labels() {
        let d = Mnist1d::embedded().unwrap();
        let plain = d.train_batch(&[3, 0], false).unwrap();
        let shuffled = d.train_batch(&[3, 0], true).unwrap();
        assert_eq!(plain.targets, shuffled.targets);
        for t in 0..Mnist1d::LENGTH {
            for b in 0..2 {
                assert_eq!(
                    shuffled.inputs[t * 2 + b],
                    plain.inputs[d.shuffle[t] * 2 + b]
                );
            }
        }
        assert_eq!(plain.inputs[1], d.train_x[0]); // step 0 of sample 0, second column
    }

    #[test]
    fn damaged_bytes_say_what_was_expected() {
        let mut b = EMBEDDED.to_vec();
        let truncated = Mnist1d::parse(&b[..b.len() - 1]).unwrap_err().to_string();
        assert!(
            truncated.contains("805060 bytes") && truncated.contains("805059"),
            "{truncated}"
        );
        b[20] = 99; // the permutation's first entry
        let perm = Mnist1d::parse(&b).unwrap_err().to_string();
        assert!(perm.contains("a permutation of 0..40"), "{perm}");
        let mut b = EMBEDDED.to_vec();
        let first_label = 20 + 40 + 4000 * 40 * 4;
        b[first_label] = 10;
        let label = Mnist1d::parse(&b).unwrap_err().to_string();
        assert!(
            label.contains("labels below 10") && label.contains("10 at sample 0"),
            "{label}"
        );
        let mut b = EMBEDDED.to_vec();
        b[60..64].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(
            Mnist1d::parse(&b)
                .unwrap_err()
                .to_string()
                .contains("finite")
        );
        assert!(matches!(
            Mnist1d::embedded().unwrap().train_batch(&[4000], false),
            Err(DatasetError::InvalidParameter { .. })
        ));
    }
}
