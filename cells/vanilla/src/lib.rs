//! # rnnzoo-vanilla: the Elman cell
//!
//! `h_t = f(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)` with `f` = tanh or relu: PyTorch's
//! `nn.RNN` cell, with its parameter names (`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`), shapes
//! and default initialisation, so a PyTorch `state_dict` loads into it unchanged.
//!
//! ```
//! use rnnzoo_cell::{gradcheck, seeded, Cell};
//! use rnnzoo_vanilla::{Nonlinearity, VanillaCell};
//!
//! let mut cell = VanillaCell::<f64>::new(3, 5, Nonlinearity::Tanh, &mut seeded(0))?;
//! assert_eq!(cell.params().names().collect::<Vec<_>>(), ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]);
//! assert!(gradcheck::check_cell(&mut cell, 2, 0, &Default::default()).passed());
//! # Ok::<(), rnnzoo_cell::CellError>(())
//! ```

use rnnzoo_cell::activation::tanh_of_sum;
use rnnzoo_cell::rand::Rng;
use rnnzoo_cell::{CellError, GateWeights, GatedCell, PointwiseBackward, PointwiseForward, Real};

/// The activation of a vanilla cell, as PyTorch's `nonlinearity` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Nonlinearity {
    /// `tanh` (PyTorch's default; mode `RNN_TANH`).
    Tanh,
    /// `relu` (mode `RNN_RELU`).
    Relu,
}

impl Nonlinearity {
    /// PyTorch's mode string: `"RNN_TANH"` or `"RNN_RELU"`.
    pub fn mode(self) -> &'static str {
        match self {
            Nonlinearity::Tanh => "RNN_TANH",
            Nonlinearity::Relu => "RNN_RELU",
        }
    }
}

/// The Elman cell (see the crate docs).
///
/// State: `h` (`state_size == hidden_size`). Cache: `h_t`, from which both activations' derivatives
/// follow (`1 - h^2` for tanh, `h > 0` for relu).
#[derive(Debug, Clone, PartialEq)]
pub struct VanillaCell<T> {
    weights: GateWeights<T>,
    nonlinearity: Nonlinearity,
}

impl<T: Real> VanillaCell<T> {
    /// A cell with biases and PyTorch's default initialisation, `U(-1/sqrt(H), 1/sqrt(H))`.
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero.
    pub fn new<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        nonlinearity: Nonlinearity,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        Self::with_bias(input, hidden, nonlinearity, true, rng)
    }

    /// A cell with or without biases (PyTorch's `bias=False`), PyTorch's default initialisation.
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero.
    pub fn with_bias<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        nonlinearity: Nonlinearity,
        bias: bool,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        let mut cell = Self::zeros(input, hidden, nonlinearity, bias)?;
        cell.weights.init_pytorch(rng);
        Ok(cell)
    }

    /// A cell whose parameters are all zero, to be filled by
    /// [`Params::set`](rnnzoo_cell::Params::set) or an
    /// [`Init`](rnnzoo_cell::Init).
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero.
    pub fn zeros(
        input: usize,
        hidden: usize,
        nonlinearity: Nonlinearity,
        bias: bool,
    ) -> Result<Self, CellError> {
        Ok(Self {
            weights: GateWeights::zeros(input, hidden, 1, bias)?,
            nonlinearity,
        })
    }

    /// The activation.
    pub fn nonlinearity(&self) -> Nonlinearity {
        self.nonlinearity
    }

    /// Whether the cell has biases.
    pub fn has_bias(&self) -> bool {
        self.weights.has_bias()
    }
}

impl<T: Real> GatedCell for VanillaCell<T> {
    type Real = T;

    fn weights(&self) -> &GateWeights<T> {
        &self.weights
    }

    fn weights_mut(&mut self) -> &mut GateWeights<T> {
        &mut self.weights
    }

    fn mode(&self) -> &str {
        self.nonlinearity.mode()
    }

    fn cache_size(&self) -> usize {
        self.weights.hidden()
    }

    /// Both pre-activations enter as `gi + gh`, so they get the same gradient.
    fn d_gh_is_d_gi(&self) -> bool {
        true
    }

    fn forward_pointwise(&self, f: PointwiseForward<'_, T>) {
        // The whole `H x batch` block is contiguous: one vectorised activation call.
        match self.nonlinearity {
            Nonlinearity::Tanh => tanh_of_sum(f.gi, f.gh, f.next),
            Nonlinearity::Relu => {
                for ((o, &a), &b) in f.next.iter_mut().zip(f.gi).zip(f.gh) {
                    *o = (a + b).max(T::zero());
                }
            }
        }
        f.cache.copy_from_slice(f.next);
    }

    fn backward_pointwise(&self, b: PointwiseBackward<'_, T>) {
        let (h, d_next) = (b.cache, b.d_next);
        match self.nonlinearity {
            Nonlinearity::Tanh => {
                for ((d, &h), &dn) in b.d_gi.iter_mut().zip(h).zip(d_next) {
                    *d = dn * (T::one() - h * h);
                }
            }
            Nonlinearity::Relu => {
                // relu'(0) = 0, as in PyTorch; a select, not a branch.
                for ((d, &h), &dn) in b.d_gi.iter_mut().zip(h).zip(d_next) {
                    *d = if h > T::zero() { dn } else { T::zero() };
                }
            }
        }
        // The only path from h_{t-1} to h_t is through W_hh, which the caller adds.
        b.d_prev.fill(T::zero());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rnnzoo_cell::{Cell, gradcheck, seeded};

    #[test]
    fn both_nonlinearities_pass_a_one_step_check_with_and_without_bias() {
        for nl in [Nonlinearity::Tanh, Nonlinearity::Relu] {
            for bias in [true, false] {
                let mut cell =
                    VanillaCell::<f64>::with_bias(4, 3, nl, bias, &mut seeded(1)).unwrap();
                let columns = gradcheck::check_columns(&cell, 4, 2, &Default::default());
                assert!(columns.passed(), "{nl:?} bias={bias}\n{columns}");
                let report = gradcheck::check_cell(&mut cell, 3, 2, &Default::default());
                assert!(report.passed(), "{nl:?} bias={bias}\n{report}");
                assert_eq!(report.groups.len(), if bias { 6 } else { 4 });
            }
        }
    }

    #[test]
    fn has_bias_reports_the_option() {
        for bias in [true, false] {
            let cell = VanillaCell::<f32>::zeros(2, 3, Nonlinearity::Relu, bias).unwrap();
            assert_eq!(cell.has_bias(), bias);
            assert_eq!(cell.nonlinearity(), Nonlinearity::Relu);
        }
    }

    #[test]
    fn zero_sizes_are_refused() {
        assert_eq!(
            VanillaCell::<f32>::new(0, 3, Nonlinearity::Tanh, &mut seeded(0)),
            Err(CellError::ZeroSize { what: "input_size" })
        );
        assert!(VanillaCell::<f32>::new(3, 0, Nonlinearity::Tanh, &mut seeded(0)).is_err());
    }

    #[test]
    fn default_init_is_pytorchs_bound() {
        let cell = VanillaCell::<f64>::new(10, 16, Nonlinearity::Tanh, &mut seeded(9)).unwrap();
        for p in cell.params().iter() {
            assert!(p.data().iter().all(|x| x.abs() <= 0.25), "{}", p.name());
            assert!(p.data().iter().any(|x| x.abs() > 0.2), "{}", p.name());
        }
    }
}
