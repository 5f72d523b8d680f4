//! A dense head on top of a recurrent layer: `y = g(W h + b)` over every column at once.

use rand::Rng;
use rnnzoo_cell::gemm::{MatMut, MatRef, gemm};
use rnnzoo_cell::{Init, Param, Params, Real, add_row_sums, broadcast_bias};

use crate::LayerError;

/// The head's output function `g`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Activation {
    /// `y = W h + b`: regression outputs, or logits for [`crate::loss::cross_entropy`].
    Identity,
    /// `y = sigmoid(W h + b)`, elementwise.
    Sigmoid,
    /// `y = softmax(W h + b)` over each column: class probabilities for inference.
    Softmax,
}

/// `y = g(W h + b)` applied to a `input x n` matrix of columns (every step of every sample, or one
/// column per sample) with one GEMM. Parameters `weight (output, input)` and `bias (output)`,
/// as PyTorch's `nn.Linear`, initialised as it does: `U(-1/sqrt(input), 1/sqrt(input))`
/// ([`Dense::new`]); [`Dense::zeros`] builds one without a random source, with or without bias.
///
/// ```
/// use rnnzoo_cell::seeded;
/// use rnnzoo_layers::head::{Activation, Dense};
/// let head = Dense::<f64>::new(4, 3, Activation::Softmax, &mut seeded(0))?;
/// let h = vec![0.5; 4 * 2]; // two columns
/// let y = head.forward(&h, 2)?;
/// assert!((y[..3].iter().sum::<f64>() - 1.0).abs() < 1e-12);
/// # Ok::<(), rnnzoo_layers::LayerError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dense<T> {
    params: Params<T>,
    input: usize,
    output: usize,
    activation: Activation,
}

impl<T: Real> Dense<T> {
    /// A head with PyTorch's `nn.Linear` initialisation (weight and bias).
    ///
    /// # Errors
    ///
    /// [`LayerError::Cell`] with a zero-size error if `input` or `output` is zero.
    pub fn new<R: Rng + ?Sized>(
        input: usize,
        output: usize,
        activation: Activation,
        rng: &mut R,
    ) -> Result<Self, LayerError> {
        Self::new_with_bias(input, output, activation, true, rng)
    }

    /// [`Dense::new`], with or without the bias: `nn.Linear(input, output, bias=bias)`, whose
    /// weight has the same initialisation either way.
    ///
    /// ```
    /// use rnnzoo_layers::head::{Activation, Dense};
    /// let head = Dense::<f32>::new_with_bias(4, 2, Activation::Identity, false, &mut rnnzoo_cell::seeded(0))?;
    /// assert!(!head.has_bias());
    /// assert_eq!(head.params().names().collect::<Vec<_>>(), ["weight"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`LayerError::Cell`] with a zero-size error if `input` or `output` is zero.
    pub fn new_with_bias<R: Rng + ?Sized>(
        input: usize,
        output: usize,
        activation: Activation,
        bias: bool,
        rng: &mut R,
    ) -> Result<Self, LayerError> {
        let mut head = Self::zeros(input, output, activation, bias)?;
        let init = Init::pytorch(input);
        for p in head.params.iter_mut() {
            init.apply(p, rng);
        }
        Ok(head)
    }

    /// A head of zeros, built without a random source: for loading weights into (a PyTorch
    /// `nn.Linear`, a checkpoint). With `bias = false` it has no `bias` parameter and computes
    /// `y = g(W h)`, as `nn.Linear(bias=False)`.
    ///
    /// ```
    /// use rnnzoo_layers::head::{Activation, Dense};
    /// let mut head = Dense::<f32>::zeros(2, 1, Activation::Identity, false)?;
    /// assert_eq!(head.params().names().collect::<Vec<_>>(), ["weight"]);
    /// head.params_mut().set("weight", &[1.0, -1.0])?;
    /// assert_eq!(head.forward(&[3.0, 2.0], 1)?, [1.0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`LayerError::Cell`] with a zero-size error if `input` or `output` is zero.
    pub fn zeros(
        input: usize,
        output: usize,
        activation: Activation,
        bias: bool,
    ) -> Result<Self, LayerError> {
        if input == 0 || output == 0 {
            let what = if input == 0 {
                "head input"
            } else {
                "head output"
            };
            return Err(rnnzoo_cell::CellError::ZeroSize { what }.into());
        }
        let mut params = Params::new();
        params.push(Param::zeros("weight", &[output, input], 1)?)?;
        if bias {
            params.push(Param::zeros("bias", &[output], 1)?)?;
        }
        Ok(Self {
            params,
            input,
            output,
            activation,
        })
    }

    /// Whether the head has a `bias` parameter.
    pub fn has_bias(&self) -> bool {
        self.params.len() > 1
    }

    /// Input rows.
    pub fn input_size(&self) -> usize {
        self.input
    }

    /// Output rows.
    pub fn output_size(&self) -> usize {
        self.output
    }

    /// The output function.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// `weight` and `bias`.
    pub fn params(&self) -> &Params<T> {
        &self.params
    }

    /// `weight` and `bias`, for writing.
    pub fn params_mut(&mut self) -> &mut Params<T> {
        &mut self.params
    }

    /// The head's parameters as a model's group (suffix `"head"`, mode `"DENSE"`).
    pub(crate) fn param_group(&self) -> crate::ParamGroup<'_, T> {
        crate::ParamGroup {
            suffix: "head".into(),
            mode: "DENSE",
            hidden_size: self.output,
            state_size: 0,
            params: &self.params,
            settings: String::new(),
        }
    }

    fn check(
        &self,
        what: &'static str,
        rows: usize,
        data: &[T],
        n: usize,
    ) -> Result<(), LayerError> {
        if data.len() != rows * n {
            return Err(LayerError::GradShape {
                what,
                expected: rows * n,
                got: data.len(),
            });
        }
        Ok(())
    }

    /// `y` (`output x n`) for the columns `h` (`input x n`).
    ///
    /// # Errors
    ///
    /// [`LayerError::GradShape`] if `h` is not `input x n`.
    pub fn forward(&self, h: &[T], n: usize) -> Result<Vec<T>, LayerError> {
        self.check("head input", self.input, h, n)?;
        let mut y = vec![T::zero(); self.output * n];
        if self.has_bias() {
            broadcast_bias(&mut y, Some(self.params[1].data()), self.output);
        }
        gemm(
            T::one(),
            self.params[0].view(),
            MatRef::col_major(h, self.input, n).unwrap(),
            T::one(),
            MatMut::col_major(&mut y, self.output, n).unwrap(),
        );
        match self.activation {
            Activation::Identity => {}
            Activation::Sigmoid => y.iter_mut().for_each(|v| *v = v.sigmoid()),
            Activation::Softmax => y.chunks_exact_mut(self.output).for_each(softmax_in_place),
        }
        Ok(y)
    }

    /// From `d_y`, the gradient of the loss with respect to the head's output `y` (as returned by
    /// [`forward`](Dense::forward)): adds the parameter gradients to `grads` and returns `d h`.
    ///
    /// `y` is read only by the sigmoid and softmax heads; an identity head ignores it (pass `&[]`).
    ///
    /// # Errors
    ///
    /// [`LayerError`] if a buffer is not the size `n` columns imply or `grads` is not laid out as
    /// the head's parameters.
    pub fn backward(
        &self,
        h: &[T],
        y: &[T],
        d_y: &[T],
        n: usize,
        grads: &mut Params<T>,
    ) -> Result<Vec<T>, LayerError> {
        self.check("head input", self.input, h, n)?;
        if self.activation != Activation::Identity {
            self.check("head output", self.output, y, n)?;
        }
        self.check("d_y", self.output, d_y, n)?;
        if !grads.same_layout(&self.params) {
            return Err(crate::layer::grads_layout_error(
                &[self.param_group()],
                std::slice::from_ref(grads),
            ));
        }
        // d of the pre-activation.
        let mut d_z = d_y.to_vec();
        match self.activation {
            Activation::Identity => {}
            Activation::Sigmoid => d_z
                .iter_mut()
                .zip(y)
                .for_each(|(d, &s)| *d *= s * (T::one() - s)),
            Activation::Softmax => {
                for (dz, p) in d_z
                    .chunks_exact_mut(self.output)
                    .zip(y.chunks_exact(self.output))
                {
                    let dot: T = dz.iter().zip(p).map(|(&a, &b)| a * b).sum();
                    dz.iter_mut()
                        .zip(p)
                        .for_each(|(d, &pk)| *d = pk * (*d - dot));
                }
            }
        }
        let dz = MatRef::col_major(&d_z, self.output, n).unwrap();
        let hv = MatRef::col_major(h, self.input, n).unwrap();
        gemm(
            T::one(),
            dz,
            hv.t(),
            T::one(),
            MatMut::row_major(grads.at_mut(0).data_mut(), self.output, self.input).unwrap(),
        );
        if self.has_bias() {
            add_row_sums(grads.at_mut(1).data_mut(), &d_z, self.output);
        }
        let mut d_h = vec![T::zero(); self.input * n];
        gemm(
            T::one(),
            self.params[0].view().t(),
            dz,
            T::zero(),
            MatMut::col_major(&mut d_h, self.input, n).unwrap(),
        );
        Ok(d_h)
    }
}

/// Softmax of one column, shifted by its maximum so that `exp` cannot overflow.
pub(crate) fn softmax_in_place<T: Real>(z: &mut [T]) {
    let max = z.iter().copied().fold(T::neg_infinity(), T::max);
    let mut sum = T::zero();
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    z.iter_mut().for_each(|v| *v /= sum);
}
