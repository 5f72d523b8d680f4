//! The Mackey-Glass chaotic time series (Mackey & Glass 1977), the classic forecasting benchmark.
//!
//! The delay differential equation
//!
//! ```text
//! dx/dt = beta * x(t - tau) / (1 + x(t - tau)^n) - gamma * x(t)
//! ```
//!
//! with the standard parameters `tau = 17`, `beta = 0.2`, `gamma = 0.1`, `n = 10` is chaotic
//! and stays roughly within `[0.2, 1.4]`. We integrate it with the classical fourth-order
//! Runge-Kutta method and step `dt = 0.1`, holding the history constant at `x = 1.2` for
//! `t <= 0` (as the widely used `mgdata` series does), and sample every `1.0` time units, so
//! sample `j` is `x(j)` (sample 0 is the initial value). The delayed term at the Runge-Kutta
//! half steps is the mean of its two neighbouring grid values, which is why `tau` must be a
//! whole multiple of `dt`.

use rand::Rng;

use crate::error::{DatasetError, Result, check_at_least};
use crate::task::rng as seeded_rng;

/// Parameters of a Mackey-Glass series; [`Default`] gives the standard chaotic regime.
///
/// ```
/// use rnnzoo_datasets::MackeyGlass;
/// let x = MackeyGlass::default().series(500)?;
/// assert_eq!(x.len(), 500);
/// assert_eq!(x[0], 1.2);
/// assert!(x.iter().all(|v| (0.2..1.4).contains(v)));
/// # Ok::<(), rnnzoo_datasets::DatasetError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MackeyGlass {
    /// The delay `tau` (17; above about 16.8 the series is chaotic).
    pub tau: f64,
    /// The production rate `beta` (0.2).
    pub beta: f64,
    /// The decay rate `gamma` (0.1).
    pub gamma: f64,
    /// The exponent `n` (10).
    pub n: f64,
    /// The integration step (0.1); `tau` and `sample_every` must be whole multiples of it.
    pub dt: f64,
    /// Time between two samples (1.0).
    pub sample_every: f64,
    /// The constant history `x(t)` for `t <= 0` (1.2).
    pub initial: f64,
    /// Samples to drop from the start, to skip the transient before the attractor (0).
    pub washout: usize,
}

impl Default for MackeyGlass {
    fn default() -> Self {
        MackeyGlass {
            tau: 17.0,
            beta: 0.2,
            gamma: 0.1,
            n: 10.0,
            dt: 0.1,
            sample_every: 1.0,
            initial: 1.2,
            washout: 0,
        }
    }
}

/// `value / dt` as a whole number, if it is one (to within rounding of the division).
fn whole_multiple(value: f64, dt: f64) -> Option<usize> {
    let k = (value / dt).round();
    (k >= 1.0 && ((k * dt) - value).abs() <= 1e-9 * value.abs().max(1.0)).then_some(k as usize)
}

impl MackeyGlass {
    /// `len` samples of the series, after dropping `washout` samples.
    ///
    /// # Errors
    ///
    /// [`DatasetError::TooShort`] for `len == 0`; [`DatasetError::InvalidParameter`] when a
    /// parameter is not finite, `dt`, `tau`, `sample_every` or `initial` is not positive, or
    /// `tau` or `sample_every` is not a whole multiple of `dt`.
    ///
    /// ```
    /// use rnnzoo_datasets::MackeyGlass;
    /// let mg = MackeyGlass { washout: 100, ..MackeyGlass::default() };
    /// let x = mg.series(200)?;
    /// assert_eq!(x.len(), 200);
    /// let bad = MackeyGlass { tau: 17.05, ..MackeyGlass::default() };
    /// assert!(bad.series(10).is_err());
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn series(&self, len: usize) -> Result<Vec<f64>> {
        check_at_least("Mackey-Glass series length", 1, len)?;
        let invalid = |name, value: f64, expected: &str| DatasetError::InvalidParameter {
            name,
            value: value.to_string(),
            expected: expected.to_string(),
        };
        for (name, v) in [("beta", self.beta), ("gamma", self.gamma), ("n", self.n)] {
            if !v.is_finite() {
                return Err(invalid(name, v, "a finite number"));
            }
        }
        for (name, v) in [
            ("dt", self.dt),
            ("tau", self.tau),
            ("sample_every", self.sample_every),
            ("initial", self.initial),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(invalid(name, v, "a finite positive number"));
            }
        }
        let delay = whole_multiple(self.tau, self.dt)
            .ok_or_else(|| invalid("tau", self.tau, "a whole multiple of dt"))?;
        let every = whole_multiple(self.sample_every, self.dt)
            .ok_or_else(|| invalid("sample_every", self.sample_every, "a whole multiple of dt"))?;

        let total = self.washout + len;
        let grid_steps = (total - 1) * every;
        // xs[i] is x((i - delay) * dt): the first `delay + 1` entries are the history on
        // [-tau, 0]. The whole grid is kept because the delayed term reads `delay` steps back;
        // at 10 grid points per sample this is small.
        let mut xs = Vec::with_capacity(delay + 1 + grid_steps);
        xs.resize(delay + 1, self.initial);
        let f =
            |x: f64, lagged: f64| self.beta * lagged / (1.0 + lagged.powf(self.n)) - self.gamma * x;
        let h = self.dt;
        for i in delay..delay + grid_steps {
            let x = xs[i];
            let lag0 = xs[i - delay];
            let lag1 = xs[i - delay + 1];
            let lag_half = 0.5 * (lag0 + lag1);
            let k1 = f(x, lag0);
            let k2 = f(x + 0.5 * h * k1, lag_half);
            let k3 = f(x + 0.5 * h * k2, lag_half);
            let k4 = f(x + h * k3, lag1);
            xs.push(x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4));
        }
        Ok((self.washout..total)
            .map(|j| xs[delay + j * every])
            .collect())
    }

    /// Like [`series`](Self::series), but with the constant history value drawn from
    /// `U[0.5, 1.5)` by a generator seeded with `seed`, so different seeds give different
    /// trajectories of the same attractor.
    ///
    /// ```
    /// use rnnzoo_datasets::MackeyGlass;
    /// let mg = MackeyGlass::default();
    /// assert_eq!(mg.series_seeded(100, 1)?, mg.series_seeded(100, 1)?);
    /// assert_ne!(mg.series_seeded(100, 1)?, mg.series_seeded(100, 2)?);
    /// # Ok::<(), rnnzoo_datasets::DatasetError>(())
    /// ```
    pub fn series_seeded(&self, len: usize, seed: u64) -> Result<Vec<f64>> {
        let initial = seeded_rng(seed).random_range(0.5..1.5);
        MackeyGlass { initial, ..*self }.series(len)
    }
}
