//! The quasi-recurrent neural network with fo-pooling.
//!
//! Bradbury, Merity, Xiong & Socher, "Quasi-Recurrent Neural Networks", ICLR 2017
//! (arXiv:1611.01576), section 2: a masked (causal) convolution of width `k` over time gives the
//! candidate and the gates, and fo-pooling mixes them elementwise over time:
//!
//! ```text
//! Z = tanh(W_z * X)        F = σ(W_f * X)        O = σ(W_o * X)
//! c_t = f_t ⊙ c_{t-1} + (1 - f_t) ⊙ z_t
//! h_t = o_t ⊙ c_t
//! ```
//!
//! (Checked against the paper's equations as quoted by paperswithcode.com/method/qrnn, with
//! `W_z, W_f, W_o ∈ R^{k×n×m}` and "masked convolutions ... so filters can not access
//! information from future timesteps", and against the authors' code below; the arXiv text
//! itself was not among the sources searched.)
//!
//! `*` is the convolution over time of width `k` (`window`, 1 or 2 here, the widths the
//! authors' `salesforce/pytorch-qrnn` supports): with `k = 2`, step `t` reads `x_t` and
//! `x_{t-1}`, and `x_{-1} = 0` (the authors' `QRNNLayer.forward` builds `X[:1] * 0` for it).
//!
//! # Parameters
//!
//! As the authors' code (one `nn.Linear(k*I, 3H)` over the stacked input), in PyTorch's style:
//!
//! - `weight_ih (3H, k*I)`, row blocks `z, f, o` (the authors' `Y.chunk(3)` order); column
//!   blocks: columns `0..I` multiply `x_t`, and for `k = 2` columns `I..2I` multiply `x_{t-1}`
//!   (the authors' stacked input is `torch.cat([X, Xm1], 2)`: `x_t` first).
//! - `bias_ih (3H)`, the same row blocks (optional).
//!
//! So `W_z * X` at step `t` is `W_ih[z rows, 0..I] x_t + W_ih[z rows, I..2I] x_{t-1} + b_z`.
//!
//! **The forget gate's convention.** The paper's `f` keeps the past (`c_t = f c_{t-1} + (1 - f)
//! z_t`); the authors' code (`ForgetMult`, "h_t = f_t * x_t + (1 - f_t) * h_{t-1}") uses the
//! complement, its `F` weighting the candidate. This crate follows the paper; a checkpoint of the
//! authors' code maps to it by negating the `f` block of `weight_ih` and `bias_ih`
//! (`σ(-a) = 1 - σ(a)`).
//!
//! # Initialisation
//!
//! The paper does not state one (not found in the text checked). The authors' code leaves
//! `nn.Linear`'s default, which is `U(-1/sqrt(fan_in), 1/sqrt(fan_in))` for the weight and the
//! bias with `fan_in = k*I`; this crate does the same ([`QrnnCell::new`]).
//!
//! # State and the scan form
//!
//! The state is `[h; c]` (`state_size = 2H`), as in the authors' code `c` is what is carried; the
//! initial `h` is never read (its gradient is zero). A pass is
//! [`StepForm::Scan`]: the convolution is one GEMM over all `T*B` columns for `k = 1`, and for
//! `k = 2` two GEMMs into the same pre-activations, the second with the sequence shifted by one
//! step (the view of columns `0..(T-1)B` of the input, into columns `B..TB` of the output): the
//! same arithmetic as one GEMM over the stacked `[x_t; x_{t-1}]`, without copying the input to
//! twice its size. Then `c` is [`scan::linear`] with `a_t = f_t`, `b_t = (1 - f_t) z_t`, and
//! backward is [`scan::linear_adjoint`] and the same GEMMs transposed.
//!
//! A reversed layer reads its sequence in its own order (the unroller hands the pass the valid
//! prefix reversed), so `x_{t-1}` is the previous step *in that order*; with variable lengths,
//! padded steps come after a sample's valid steps, so they never reach a valid one.
//!
//! **One step through [`CellExt`](rnnzoo_cell::CellExt)** is a pass of one step, so with `k = 2`
//! its previous input is zero: stepping a window-2 cell one step at a time is *not* the pass over
//! the sequence (a cell has no memory of inputs; the unroller hands it whole passes).

use rnnzoo_cell::activation::{sigmoid_in_place, tanh_in_place};
use rnnzoo_cell::gemm::{MatMut, MatRef, gemm};
use rnnzoo_cell::rand::Rng;
use rnnzoo_cell::scan::{self, ScanBackward, ScanForward, ScanPass};
use rnnzoo_cell::{
    Cell, CellError, Init, Param, Params, Real, StepForm, add_row_sums, broadcast_bias,
};

/// Row blocks of `weight_ih`: `z, f, o`.
const GATES: usize = 3;

/// The QRNN with fo-pooling of Bradbury et al. 2017 (see the [module docs](self) for the
/// equations, the column blocks of a window of 2 and the forget-gate convention).
///
/// - Parameters: `weight_ih (3H, window*input)` row blocks `z, f, o`, column block 0 reads
///   `x_t`, block 1 (window 2) `x_{t-1}`; `bias_ih (3H)` (optional).
/// - Form: [`StepForm::Scan`]; mode `"QRNN"`.
/// - State: `[h; c]` (`state_size = 2H`); the initial `h` is not read.
/// - Cache: `3H` per sample and step, `[z; f; o]` after their nonlinearities.
///
/// ```
/// use rnnzoo_cell::{gradcheck, seeded, Cell};
/// use rnnzoo_qrnn::QrnnCell;
///
/// let mut cell = QrnnCell::<f64>::with_window(3, 4, 2, &mut seeded(0))?;
/// assert_eq!((cell.mode(), cell.state_size()), ("QRNN", 8));
/// assert_eq!(cell.params().get("weight_ih").unwrap().shape(), &[12, 6]); // z, f, o; x_t, x_{t-1}
/// assert!(gradcheck::check_cell(&mut cell, 2, 1, &Default::default()).passed());
/// # Ok::<(), rnnzoo_cell::CellError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct QrnnCell<T> {
    params: Params<T>,
    input: usize,
    hidden: usize,
    window: usize,
}

impl<T: Real> QrnnCell<T> {
    /// A cell of window 1 with biases and the authors' initialisation (`nn.Linear`'s default,
    /// `U(-1/sqrt(I), 1/sqrt(I))`).
    ///
    /// ```
    /// let cell = rnnzoo_qrnn::QrnnCell::<f32>::new(2, 3, &mut rnnzoo_cell::seeded(1))?;
    /// assert_eq!((cell.window(), cell.has_bias()), (1, true));
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero.
    pub fn new<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        Self::with_options(input, hidden, 1, true, rng)
    }

    /// A cell of convolution width `window` (1 or 2) with biases, the authors' initialisation
    /// (`U(-1/sqrt(window*I), 1/sqrt(window*I))`).
    ///
    /// ```
    /// let cell = rnnzoo_qrnn::QrnnCell::<f32>::with_window(2, 3, 2, &mut rnnzoo_cell::seeded(1))?;
    /// assert_eq!(cell.window(), 2);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`QrnnCell::zeros`].
    pub fn with_window<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        window: usize,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        Self::with_options(input, hidden, window, true, rng)
    }

    /// A cell of convolution width `window`, with or without biases, the authors'
    /// initialisation.
    ///
    /// ```
    /// use rnnzoo_cell::Cell;
    /// let cell = rnnzoo_qrnn::QrnnCell::<f32>::with_options(2, 3, 1, false, &mut rnnzoo_cell::seeded(1))?;
    /// assert_eq!(cell.params().names().collect::<Vec<_>>(), ["weight_ih"]);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`QrnnCell::zeros`].
    pub fn with_options<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        window: usize,
        bias: bool,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        let mut cell = Self::zeros(input, hidden, window, bias)?;
        let k = 1.0 / ((window * input) as f64).sqrt();
        for p in cell.params.iter_mut() {
            Init::Uniform { low: -k, high: k }.apply(p, rng);
        }
        Ok(cell)
    }

    /// A cell whose parameters are all zero.
    ///
    /// ```
    /// use rnnzoo_cell::Cell;
    /// let cell = rnnzoo_qrnn::QrnnCell::<f64>::zeros(2, 3, 2, true)?;
    /// assert!(cell.params().iter().all(|p| p.data().iter().all(|&v| v == 0.0)));
    /// assert!(rnnzoo_qrnn::QrnnCell::<f64>::zeros(2, 3, 3, true).is_err());
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero; [`CellError::BadParam`] (name
    /// `window`) unless `window` is 1 or 2.
    pub fn zeros(
        input: usize,
        hidden: usize,
        window: usize,
        bias: bool,
    ) -> Result<Self, CellError> {
        if input == 0 {
            return Err(CellError::ZeroSize { what: "input_size" });
        }
        if hidden == 0 {
            return Err(CellError::ZeroSize {
                what: "hidden_size",
            });
        }
        if !(1..=2).contains(&window) {
            return Err(CellError::BadParam {
                name: "window".into(),
                reason: format!("the convolution's width must be 1 or 2, got {window}"),
            });
        }
        let mut params = Params::new();
        params.push(Param::zeros(
            "weight_ih",
            &[GATES * hidden, window * input],
            GATES,
        )?)?;
        if bias {
            params.push(Param::zeros("bias_ih", &[GATES * hidden], GATES)?)?;
        }
        Ok(Self {
            params,
            input,
            hidden,
            window,
        })
    }

    /// The convolution's width over time, 1 or 2.
    ///
    /// ```
    /// let cell = rnnzoo_qrnn::QrnnCell::<f64>::zeros(2, 3, 2, true)?;
    /// assert_eq!(cell.window(), 2);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    pub fn window(&self) -> usize {
        self.window
    }

    /// Whether the cell has `bias_ih`.
    ///
    /// ```
    /// let cell = rnnzoo_qrnn::QrnnCell::<f64>::zeros(2, 3, 1, false)?;
    /// assert!(!cell.has_bias());
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    pub fn has_bias(&self) -> bool {
        self.params.len() == 2
    }

    /// `weight_ih`'s columns that multiply `x_{t-lag}` (`lag < window`), a `3H x I` view.
    fn w_block(&self, lag: usize) -> MatRef<'_, T> {
        let (g, i) = (GATES * self.hidden, self.input);
        MatRef::new(&self.params[0].data()[lag * i..], g, i, self.window * i, 1)
            .expect("weight_ih is 3H x window*I")
    }
}

impl<T: Real> Cell<T> for QrnnCell<T> {
    fn input_size(&self) -> usize {
        self.input
    }

    fn hidden_size(&self) -> usize {
        self.hidden
    }

    fn state_size(&self) -> usize {
        2 * self.hidden
    }

    fn cache_size(&self) -> usize {
        GATES * self.hidden
    }

    fn mode(&self) -> &str {
        "QRNN"
    }

    fn params(&self) -> &Params<T> {
        &self.params
    }

    fn params_mut(&mut self) -> &mut Params<T> {
        &mut self.params
    }

    fn form(&self) -> StepForm<'_, T> {
        StepForm::Scan(self)
    }
}

impl<T: Real> ScanPass<T> for QrnnCell<T> {
    fn forward(&self, p: ScanForward<'_, T>) {
        let (h, i, b) = (self.hidden, self.input, p.batch);
        let (n, g, one) = (p.steps * b, GATES * h, T::one());
        // Pre-activations: b + W_0 x_t over all columns, + W_1 x_{t-1} over all but the first step.
        broadcast_bias(p.cache, self.params.get("bias_ih").map(Param::data), g);
        let x = MatRef::col_major(p.x, i, n).expect("x is I x TB");
        gemm(
            one,
            self.w_block(0),
            x,
            one,
            MatMut::col_major(p.cache, g, n).expect("cache is 3H x TB"),
        );
        if self.window == 2 && p.steps > 1 {
            let prev = MatRef::col_major(p.x, i, n - b).expect("x is I x TB");
            gemm(
                one,
                self.w_block(1),
                prev,
                one,
                MatMut::col_major(&mut p.cache[g * b..], g, n - b).expect("cache is 3H x TB"),
            );
        }
        for col in p.cache.chunks_exact_mut(g) {
            let (z, fo) = col.split_at_mut(h);
            tanh_in_place(z);
            sigmoid_in_place(fo);
        }
        // c_t = f_t c_{t-1} + (1 - f_t) z_t: the scan's a is f, its b is (1 - f) z.
        let mut a = Vec::with_capacity(h * n);
        let mut c = Vec::with_capacity(h * n);
        for col in p.cache.chunks_exact(g) {
            for j in 0..h {
                let (z, f) = (col[j], col[h + j]);
                a.push(f);
                c.push((one - f) * z);
            }
        }
        let c0: Vec<T> = p
            .initial
            .chunks_exact(2 * h)
            .flat_map(|s| s[h..].iter().copied())
            .collect();
        scan::linear(&a, &mut c, Some(&c0), h * b);
        for ((state, c), col) in p
            .states
            .chunks_exact_mut(2 * h)
            .zip(c.chunks_exact(h))
            .zip(p.cache.chunks_exact(g))
        {
            for j in 0..h {
                state[j] = col[2 * h + j] * c[j];
                state[h + j] = c[j];
            }
        }
    }

    fn backward(&self, p: ScanBackward<'_, T>, grads: &mut Params<T>) {
        let (h, i, b) = (self.hidden, self.input, p.batch);
        let (n, g, s) = (p.steps * b, GATES * h, 2 * h);
        let (one, zero) = (T::one(), T::zero());
        // The gradient at c_t from outside the scan: its own rows, and through h_t = o_t c_t.
        let mut a = Vec::with_capacity(h * n);
        let mut gc = Vec::with_capacity(h * n);
        for (d, col) in p.d_states.chunks_exact(s).zip(p.cache.chunks_exact(g)) {
            for j in 0..h {
                a.push(col[h + j]);
                gc.push(d[h + j] + d[j] * col[2 * h + j]);
            }
        }
        scan::linear_adjoint(&a, &mut gc, h * b);
        // The pre-activations' gradients, [z; f; o] per column.
        let mut dg = vec![zero; g * n];
        for (k, (dcol, col)) in dg
            .chunks_exact_mut(g)
            .zip(p.cache.chunks_exact(g))
            .enumerate()
        {
            let d_h = &p.d_states[k * s..][..h];
            let c = &p.states[k * s + h..][..h];
            let c_prev = if k < b {
                &p.initial[k * s + h..][..h]
            } else {
                &p.states[(k - b) * s + h..][..h]
            };
            let gk = &gc[k * h..][..h];
            for j in 0..h {
                let (z, f, o) = (col[j], col[h + j], col[2 * h + j]);
                dcol[j] = gk[j] * (one - f) * (one - z * z);
                dcol[h + j] = gk[j] * (c_prev[j] - z) * f * (one - f);
                dcol[2 * h + j] = d_h[j] * c[j] * o * (one - o);
            }
        }
        for (k, d0) in p.d_initial.chunks_exact_mut(s).enumerate() {
            d0[..h].fill(zero); // the initial h is not read
            for j in 0..h {
                d0[h + j] = a[k * h + j] * gc[k * h + j];
            }
        }
        let dgv = MatRef::col_major(&dg, g, n).expect("3H x TB");
        let x = MatRef::col_major(p.x, i, n).expect("x is I x TB");
        gemm(
            one,
            self.w_block(0).t(),
            dgv,
            zero,
            MatMut::col_major(p.d_x, i, n).expect("d_x is I x TB"),
        );
        let kw = self.window * i;
        gemm(
            one,
            dgv,
            x.t(),
            one,
            MatMut::new(grads.at_mut(0).data_mut(), g, i, kw, 1).expect("3H x window*I"),
        );
        if self.window == 2 && p.steps > 1 {
            let later = MatRef::col_major(&dg[g * b..], g, n - b).expect("3H x TB");
            let prev = MatRef::col_major(p.x, i, n - b).expect("x is I x TB");
            gemm(
                one,
                self.w_block(1).t(),
                later,
                one,
                MatMut::col_major(&mut p.d_x[..i * (n - b)], i, n - b).expect("I x TB"),
            );
            gemm(
                one,
                later,
                prev.t(),
                one,
                MatMut::new(&mut grads.at_mut(0).data_mut()[i..], g, i, kw, 1).expect("3H x 2I"),
            );
        }
        if self.has_bias() {
            add_row_sums(grads.at_mut(1).data_mut(), &dg, g);
        }
    }
}
