//! Next-value forecasting: noisy sines, and windowing any series (for example
//! [`crate::MackeyGlass`]) into `(input sequence, next value)` batches with the persistence
//! baseline.

use std::f64::consts::TAU;

use rand::Rng;
use rand::seq::SliceRandom;
use rand_distr::{Distribution, StandardNormal};

use crate::batch::{SeqBatch, Targets};
use crate::error::{DatasetError, Result, check_at_least, check_batch};
use crate::split::split_at_fraction;
use crate::task::rng as seeded_rng;

/// A mean of sines plus Gaussian noise:
/// `x_t = (1/K) * sum_k sin(2 pi t / periods[k] + phase_k) + noise_std * N(0, 1)`,
/// with each phase drawn from `U[0, 2 pi)`.
///
/// ```
/// use rnnzoo_datasets::NoisySines;
/// let x = NoisySines::default().series_seeded(1000, 3)?;
/// assert_eq!(x.len(), 1000);
/// assert!(x.iter().all(|v| v.abs() < 2.0));
/// # Ok::<(), rnnzoo_datasets::DatasetError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NoisySines {
    /// Periods in steps (default `[25, 60]`).
    pub periods: Vec<f64>,
    /// Standard deviation of the additive noise (default 0.1).
    pub noise_std: f64,
}

impl Default for NoisySines {
    fn default() -> Self {
        NoisySines {
            periods: vec![25.0, 60.0],
            noise_std: 0.1,
        }
    }
}

impl NoisySines {
    /// `len` values drawn with `rng` (phases first, then the noise, step by step).
    ///
    /// # Errors
    ///
    /// [`DatasetError::TooShort`] for `len == 0`; [`DatasetError::InvalidParameter`] for no
    /// periods, a period that is not finite and positive, or a noise level that is not finite
    /// and non-negative.
    ///
    /// ```
    /// use rnnzoo_datasets::{rng, NoisySines};
    /// let clean = NoisySines { periods: vec![4.0], noise_std: 0.0 };
    /// let x = clean.series(8, &mut rng(0))?;
    /// // Period 4: the series repeats every 4 steps.
    /// assert!((x[0] - x[4]).abs() < 1e-12);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn series<R: Rng + ?Sized>(&self, len: usize, rng: &mut R) -> Result<Vec<f64>> {
        check_at_least("noisy sines series length", 1, len)?;
        if self.periods.is_empty() {
            return Err(DatasetError::InvalidParameter {
                name: "periods",
                value: "[]".into(),
                expected: "at least one period".into(),
            });
        }
        if let Some(p) = self.periods.iter().find(|p| !(p.is_finite() && **p > 0.0)) {
            return Err(DatasetError::InvalidParameter {
                name: "period",
                value: p.to_string(),
                expected: "a finite positive number of steps".into(),
            });
        }
        if !(self.noise_std.is_finite() && self.noise_std >= 0.0) {
            return Err(DatasetError::InvalidParameter {
                name: "noise_std",
                value: self.noise_std.to_string(),
                expected: "a finite non-negative number".into(),
            });
        }
        let phases: Vec<f64> = self
            .periods
            .iter()
            .map(|_| rng.random_range(0.0..TAU))
            .collect();
        let k = self.periods.len() as f64;
        Ok((0..len)
            .map(|t| {
                let clean: f64 = self
                    .periods
                    .iter()
                    .zip(&phases)
                    .map(|(p, phase)| (TAU * t as f64 / p + phase).sin())
                    .sum();
                let noise: f64 = StandardNormal.sample(rng);
                clean / k + self.noise_std * noise
            })
            .collect())
    }

    /// [`series`](Self::series) with a generator seeded with `seed`.
    ///
    /// ```
    /// use rnnzoo_datasets::NoisySines;
    /// let s = NoisySines::default();
    /// assert_eq!(s.series_seeded(50, 9)?, s.series_seeded(50, 9)?);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn series_seeded(&self, len: usize, seed: u64) -> Result<Vec<f64>> {
        self.series(len, &mut seeded_rng(seed))
    }
}

/// Every window of `steps` consecutive values of a series, each with the value that follows it
/// as the target: window `i` is inputs `x[i..i + steps]`, target `x[i + steps]`.
///
/// Batches have one feature, `steps` steps and [`Targets::FinalValues`] with one output.
///
/// ```
/// use rnnzoo_datasets::{Targets, Windows};
/// let w = Windows::new(&[1.0, 2.0, 3.0, 4.0, 5.0], 3)?;
/// assert_eq!(w.len(), 2);
/// let b = w.batch(&[0, 1])?;
/// // Time-major: step 0 holds window 0's and window 1's first values.
/// assert_eq!(b.inputs, vec![1.0, 2.0, 2.0, 3.0, 3.0, 4.0]);
/// assert_eq!(b.targets, Targets::FinalValues { values: vec![4.0, 5.0], outputs: 1 });
/// # Ok::<(), rnnzoo_datasets::DatasetError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Windows {
    series: Vec<f64>,
    steps: usize,
}

impl Windows {
    /// Windows of `steps` values over `series`.
    ///
    /// # Errors
    ///
    /// [`DatasetError::TooShort`] when `steps == 0` or the series has fewer than `steps + 1`
    /// values (no window with a target).
    ///
    /// ```
    /// use rnnzoo_datasets::Windows;
    /// assert!(Windows::new(&[1.0, 2.0], 2).is_err());
    /// assert_eq!(Windows::new(&[1.0, 2.0, 3.0], 2)?.len(), 1);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn new(series: &[f64], steps: usize) -> Result<Self> {
        check_at_least("forecast window length", 1, steps)?;
        check_at_least("series length (window + 1)", steps + 1, series.len())?;
        Ok(Windows {
            series: series.to_vec(),
            steps,
        })
    }

    /// Number of windows: `series.len() - steps`.
    ///
    /// ```
    /// assert_eq!(rnnzoo_datasets::Windows::new(&[0.0; 10], 4)?.len(), 6);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.series.len() - self.steps
    }

    /// Always `false`: construction guarantees at least one window.
    ///
    /// ```
    /// assert!(!rnnzoo_datasets::Windows::new(&[0.0; 2], 1)?.is_empty());
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The window length.
    ///
    /// ```
    /// assert_eq!(rnnzoo_datasets::Windows::new(&[0.0; 10], 4)?.steps(), 4);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The underlying series.
    ///
    /// ```
    /// assert_eq!(rnnzoo_datasets::Windows::new(&[1.0, 2.0], 1)?.series(), &[1.0, 2.0]);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn series(&self) -> &[f64] {
        &self.series
    }

    /// A batch of the windows at `indices`, in that order.
    ///
    /// # Errors
    ///
    /// [`DatasetError::ZeroBatch`] for no indices, [`DatasetError::InvalidParameter`] for an
    /// index `>= len()`.
    ///
    /// ```
    /// let w = rnnzoo_datasets::Windows::new(&[0.0, 1.0, 2.0], 1)?;
    /// assert_eq!(w.batch(&[1])?.inputs, vec![1.0]);
    /// assert!(w.batch(&[2]).is_err());
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn batch(&self, indices: &[usize]) -> Result<SeqBatch> {
        check_batch(indices.len())?;
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(DatasetError::InvalidParameter {
                name: "window index",
                value: bad.to_string(),
                expected: format!("an index below {}", self.len()),
            });
        }
        let batch = indices.len();
        let mut inputs = Vec::with_capacity(self.steps * batch);
        for t in 0..self.steps {
            inputs.extend(indices.iter().map(|&i| self.series[i + t]));
        }
        let values = indices
            .iter()
            .map(|&i| self.series[i + self.steps])
            .collect();
        Ok(SeqBatch {
            inputs,
            features: 1,
            steps: self.steps,
            batch,
            targets: Targets::FinalValues { values, outputs: 1 },
            lengths: None,
        })
    }

    /// All windows in order, `batch` at a time (the last batch may be smaller).
    ///
    /// # Errors
    ///
    /// [`DatasetError::ZeroBatch`] when `batch` is 0.
    ///
    /// ```
    /// let w = rnnzoo_datasets::Windows::new(&[0.0; 12], 2)?; // 10 windows
    /// let sizes: Vec<usize> = w.batches(4)?.map(|b| b.batch).collect();
    /// assert_eq!(sizes, vec![4, 4, 2]);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn batches(&self, batch: usize) -> Result<WindowBatches<'_>> {
        check_batch(batch)?;
        Ok(WindowBatches {
            windows: self,
            order: (0..self.len()).collect(),
            batch,
            next: 0,
        })
    }

    /// All windows in an order shuffled by `rng`, `batch` at a time (an epoch of training).
    ///
    /// # Errors
    ///
    /// [`DatasetError::ZeroBatch`] when `batch` is 0.
    ///
    /// ```
    /// use rnnzoo_datasets::{rng, Windows};
    /// let w = Windows::new(&(0..20).map(f64::from).collect::<Vec<_>>(), 3)?;
    /// let total: usize = w.shuffled_batches(5, &mut rng(1))?.map(|b| b.batch).sum();
    /// assert_eq!(total, w.len());
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn shuffled_batches<R: Rng + ?Sized>(
        &self,
        batch: usize,
        rng: &mut R,
    ) -> Result<WindowBatches<'_>> {
        let mut batches = self.batches(batch)?;
        batches.order.shuffle(rng);
        Ok(batches)
    }

    /// Mean squared error of the persistence forecast (predict the last value of each window)
    /// over all windows: `mean_i (x[i + steps] - x[i + steps - 1])^2`. A forecaster is useful
    /// only below this.
    ///
    /// ```
    /// let w = rnnzoo_datasets::Windows::new(&[0.0, 1.0, 3.0], 1)?;
    /// assert_eq!(w.persistence_mse(), (1.0 + 4.0) / 2.0);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn persistence_mse(&self) -> f64 {
        let sum: f64 = self.series[self.steps - 1..]
            .windows(2)
            .map(|p| (p[1] - p[0]).powi(2))
            .sum();
        sum / self.len() as f64
    }
}

/// Iterator over batches of [`Windows`]; see [`Windows::batches`].
///
/// ```
/// let w = rnnzoo_datasets::Windows::new(&[0.0; 5], 1)?;
/// assert_eq!(w.batches(2)?.len(), 2);
/// # Ok::<(), rnnzoo_datasets::DatasetError>(())
/// ```
#[derive(Debug, Clone)]
pub struct WindowBatches<'a> {
    windows: &'a Windows,
    order: Vec<usize>,
    batch: usize,
    next: usize,
}

impl Iterator for WindowBatches<'_> {
    type Item = SeqBatch;

    fn next(&mut self) -> Option<SeqBatch> {
        if self.next >= self.order.len() {
            return None;
        }
        let end = (self.next + self.batch).min(self.order.len());
        let indices = &self.order[self.next..end];
        self.next = end;
        // Indices come from 0..len() and the slice is non-empty, so this cannot fail.
        self.windows.batch(indices).ok()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.order.len() - self.next).div_ceil(self.batch);
        (left, Some(left))
    }
}

impl ExactSizeIterator for WindowBatches<'_> {}

/// Splits `series` in time (first `train_fraction` for training, the rest for validation; see
/// [`split_at_fraction`]) and windows each part separately, so no validation target is ever seen
/// during training. Each part's [`Windows::persistence_mse`] is that split's baseline.
///
/// # Errors
///
/// [`DatasetError::FractionOutOfRange`] for a bad fraction, and [`Windows::new`]'s errors when a
/// part is shorter than `steps + 1`.
///
/// ```
/// use rnnzoo_datasets::{forecast_split, MackeyGlass};
/// let series = MackeyGlass::default().series(1000)?;
/// let (train, valid) = forecast_split(&series, 20, 0.8)?;
/// assert_eq!((train.len(), valid.len()), (800 - 20, 200 - 20));
/// assert!(valid.persistence_mse() > 0.0);
/// # Ok::<(), rnnzoo_datasets::DatasetError>(())
/// ```
pub fn forecast_split(
    series: &[f64],
    steps: usize,
    train_fraction: f64,
) -> Result<(Windows, Windows)> {
    let (train, valid) = split_at_fraction(series, train_fraction)?;
    Ok((Windows::new(train, steps)?, Windows::new(valid, steps)?))
}
