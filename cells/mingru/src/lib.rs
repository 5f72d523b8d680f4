//! # rnnzoo-mingru: the minimal GRU of "Were RNNs All We Needed?"
//!
//! Feng, Tung, Ahmed, Bengio & Hajimirsadeghi, "Were RNNs All We Needed?", arXiv:2410.01201
//! (2024). The minGRU drops the GRU's reset gate and every dependence of the gates on `h`, so
//! that all that touches a weight matrix depends on the input only:
//!
//! ```text
//! z_t  = σ(W_z x_t + b_z)
//! h~_t = g(W_h x_t + b_h)
//! h_t  = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h~_t
//! ```
//!
//! [`MinGruCell`] is in rnnzoo's scan form ([`rnnzoo_cell::scan`]): one GEMM over all `T * B`
//! columns for `W x + b`, then the diagonal linear recurrence `h_t = a_t h_{t-1} + b_t` with
//! `a = 1 - z`, `b = z ⊙ h~`, fused with the gates into one loop per sample and step (each thread
//! of the rayon pool over its own [`rnnzoo_cell::scan::by_samples`] block), and for backward its
//! adjoint fused the same way and three GEMMs over the whole sequence. `rnnzoo-minlstm` is its
//! sibling, the minLSTM.
//!
//! # The candidate activation
//!
//! The paper has two versions of the cell, and [`Candidate`] picks between them:
//!
//! - [`Candidate::G`] (the default): the **log-space version** (the paper's appendix B,
//!   "log-space version ... for additional numerical stability"), whose candidate is
//!   `h~ = g(W_h x + b_h)` with the continuous `g(x) = x + 0.5` for `x >= 0` and `σ(x)` for
//!   `x < 0`, there to keep `h~` positive so that its logarithm exists.
//! - [`Candidate::Linear`]: the paper's **plain ("vanilla") minGRU** (its section 3.1.3 and
//!   appendix A), `h~ = W_h x + b_h` with no activation.
//!
//! Sources checked (the arXiv HTML page of the paper itself could only be read to its
//! introduction here): a transcription of the paper's appendices in a blog post reproducing the
//! paper (its Algorithms 1 and 5, Listings 1, 6 and 7: the vanilla candidate is `Linear(x)`, the
//! log-space one `g(Linear(x))`, and Listing 6 defines `g` and `log_g` "to ensure h~ is
//! positive"); and `lucidrains/minGRU-pytorch` (`minGRU_pytorch/minGRU.py`, which cites
//! "appendix B.3" for `g`/`log_g` and "B.3.1" for the log-space minGRU).
//!
//! # No log space needed here
//!
//! The paper computes the recurrence in log space (`log h_t` through `cumsum` and
//! `logcumsumexp`, Heinsen's prefix-sum form `h_t = A_t (h_0 + Σ b_s / A_s)` with `A_t` the
//! product of the `a`s) because that form divides by products of `a` that underflow. rnnzoo's scan
//! never divides by a product of `a` (see `cell-trait/src/scan/linear.rs`): a product that
//! underflows to zero is exact there (the state forgot its past). So this crate computes in the
//! plain domain, stable for any `z`, and neither `h_0` nor `h~` has to be positive: with
//! [`Candidate::Linear`] (which log space cannot represent) the cell is as stable as with
//! [`Candidate::G`]. `1 - z` is formed as `σ(-k)`, exact where `z` rounds to 1.
//!
//! # Initialisation
//!
//! The paper's code builds each block with `nn.Linear(input_size, hidden_size)` (its pseudocode
//! writes `Linear_{d_h}`; the listings call `self.linear_z(x)`, `self.linear_h(x)`); the paper
//! states no other initialisation, so the cell takes `nn.Linear`'s default: weight and bias
//! `U(-1/sqrt(I), 1/sqrt(I))` with `I` the input size (PyTorch's `nn.Linear` documentation:
//! "initialized from U(-sqrt(k), sqrt(k)), where k = 1/in_features", for both). Stacking the two
//! blocks' `nn.Linear`s in one `weight_ih` draws from the same distribution.
//!
//! ```
//! use rnnzoo_cell::{gradcheck, seeded, Cell, StepForm};
//! use rnnzoo_mingru::{Candidate, MinGruCell};
//!
//! let mut cell = MinGruCell::<f64>::new(3, 5, &mut seeded(0))?;
//! assert_eq!(cell.candidate(), Candidate::G);
//! assert!(matches!(cell.form(), StepForm::Scan(_)));
//! let opts = gradcheck::Options::default();
//! assert!(gradcheck::check_cell(&mut cell, 2, 1, &opts).passed());
//! assert!(gradcheck::check_columns(&cell, 3, 1, &opts).passed());
//! # Ok::<(), rnnzoo_cell::CellError>(())
//! ```

pub mod mingru;
#[cfg(test)]
mod tests;

pub use mingru::MinGruCell;

use rnnzoo_cell::Real;
use rnnzoo_cell::activation::sigmoid_in_place;

/// The candidate's activation `h~ = c(W_h x + b_h)` of minGRU and minLSTM (see the
/// [crate docs](crate)).
///
/// ```
/// use rnnzoo_mingru::Candidate;
///
/// assert_eq!(Candidate::default(), Candidate::G);
/// assert_eq!(Candidate::G.apply(1.0), (1.5, 1.0));
/// assert_eq!(Candidate::G.apply(0.0), (0.5, 1.0)); // continuous; the slope jumps from 1/4
/// assert_eq!(Candidate::Linear.apply(-3.0), (-3.0, 1.0));
/// assert_eq!(Candidate::parse("linear"), Some(Candidate::Linear));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Candidate {
    /// The log-space version's `g(x) = x + 0.5` for `x >= 0`, `σ(x)` for `x < 0`: positive and
    /// continuous (the paper's appendix B.3).
    #[default]
    G,
    /// No activation, `h~ = W_h x + b_h`: the paper's plain minGRU / minLSTM (appendix A).
    Linear,
}

impl Candidate {
    /// `(c(x), c'(x))`. For [`Candidate::G`] the slope at `0` is the right-hand one, 1 (the
    /// branch `x >= 0` that PyTorch's `torch.where(x >= 0, ...)` takes).
    ///
    /// ```
    /// use rnnzoo_mingru::Candidate;
    /// let (v, s) = Candidate::G.apply(-2.0f64);
    /// let sig = 1.0 / (1.0 + 2.0f64.exp());
    /// assert!((v - sig).abs() < 1e-15 && (s - sig * (1.0 - sig)).abs() < 1e-15);
    /// ```
    #[inline]
    pub fn apply<T: Real>(self, x: T) -> (T, T) {
        match self {
            Candidate::Linear => (x, T::one()),
            Candidate::G if x >= T::zero() => (x + T::from_f64_lossy(0.5), T::one()),
            Candidate::G => {
                let s = x.sigmoid();
                (s, s * (T::one() - s))
            }
        }
    }

    /// `out[j] = c(k[j])` over a whole column, vectorised: for [`Candidate::G`] the sigmoid of
    /// the column and then a select, so that the activation stays one loop the compiler can
    /// vectorise (the scalar [`apply`](Self::apply) branches per value). With
    /// [`slope`](Self::slope), what a fused gate loop uses in place of `apply`.
    ///
    /// ```
    /// use rnnzoo_mingru::Candidate;
    /// let k = [-2.0f64, 0.0, 1.5];
    /// let mut out = [0.0; 3];
    /// Candidate::G.apply_column(&k, &mut out);
    /// for (&k, &c) in k.iter().zip(&out) {
    ///     assert!((c - Candidate::G.apply(k).0).abs() < 1e-15);
    /// }
    /// Candidate::Linear.apply_column(&k, &mut out);
    /// assert_eq!(out, k);
    /// ```
    ///
    /// # Panics
    ///
    /// If `k` and `out` do not have the same length.
    pub fn apply_column<T: Real>(self, k: &[T], out: &mut [T]) {
        out.copy_from_slice(k);
        if self == Candidate::G {
            sigmoid_in_place(out);
            let half = T::from_f64_lossy(0.5);
            for (c, &k) in out.iter_mut().zip(k) {
                if k >= T::zero() {
                    *c = k + half;
                }
            }
        }
    }

    /// `c'(k)`, given `value = c(k)` as [`apply_column`](Self::apply_column) made it, so that
    /// the backward pass does not evaluate the activation twice. The slope at `0` is the
    /// right-hand one, as for [`apply`](Self::apply).
    ///
    /// ```
    /// use rnnzoo_mingru::Candidate;
    /// for k in [-2.0f64, 0.0, 1.5] {
    ///     let (value, slope) = Candidate::G.apply(k);
    ///     assert_eq!(Candidate::G.slope(k, value), slope);
    /// }
    /// assert_eq!(Candidate::Linear.slope(-3.0f64, -3.0), 1.0);
    /// ```
    #[inline]
    pub fn slope<T: Real>(self, k: T, value: T) -> T {
        match self {
            Candidate::G if k < T::zero() => value * (T::one() - value),
            _ => T::one(),
        }
    }

    /// The option value naming it: `"g"` or `"linear"`.
    ///
    /// ```
    /// assert_eq!(rnnzoo_mingru::Candidate::G.name(), "g");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Candidate::G => "g",
            Candidate::Linear => "linear",
        }
    }

    /// The candidate named `name` (`"g"`, `"linear"`), or `None`.
    ///
    /// ```
    /// use rnnzoo_mingru::Candidate;
    /// assert_eq!(Candidate::parse("g"), Some(Candidate::G));
    /// assert_eq!(Candidate::parse("tanh"), None);
    /// ```
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "g" => Some(Candidate::G),
            "linear" => Some(Candidate::Linear),
            _ => None,
        }
    }
}
