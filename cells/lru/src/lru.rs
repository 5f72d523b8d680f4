//! The Linear Recurrent Unit: Orvieto et al. 2023, "Resurrecting Recurrent Neural Networks for
//! Long Sequences" (arXiv:2303.06349), its appendix A ("Simplified Implementation of the Linear
//! Recurrent Unit", JAX pseudocode).
//!
//! # Equations
//!
//! With `N` complex state units, input width `I` and output width `H`:
//!
//! ```text
//! λ_j  = exp(-exp(ν_j) + i exp(θ_j))          ν = nu_log, θ = theta_log
//! γ_j  = exp(γlog_j)                          γlog = gamma_log
//! x_k  = λ ⊙ x_{k-1} + γ ⊙ (B u_k)            B = B_re + i B_im, N x I
//! y_k  = Re(C x_k) + D u_k                    C = C_re + i C_im, H x N
//!      = C_re Re(x_k) - C_im Im(x_k) + D u_k
//! ```
//!
//! These are the appendix's `forward`: `Lambda = exp(-exp(nu_log) + 1j*exp(theta_log))`,
//! `B_norm = (B_re + 1j*B_im) * exp(gamma_log)[:, None]`, the scan of `x_k = Lambda x_{k-1} +
//! B_norm u_k`, and `y = (C @ x).real + D * u`. Sources read (with the `search` tool, 2026-12-02):
//! the appendix's code as transcribed in the public gist `lru.py` by NickleDave
//! (`gist.github.com/NickleDave/ab776fcb357eafdb847fdf42d5fbd62f`: its docstring, "Simplified
//! Implementation of the Linear Recurrent Unit", and `forward`); `init_lru_parameters` as copied,
//! with the appendix's comments, in several public repositories (found by its exact line
//! `B_re = np.random.normal(size=(N,H))/np.sqrt(2*H)`); and N. Zucchet's JAX `minimal-LRU`
//! (`github.com/NicolasZucchet/minimal-LRU`, `lru/model.py`; not one of the paper's authors),
//! which has the same equations, draws and defaults. The paper's PDF itself was not read: equation numbers and its
//! main text's wording are not cited here.
//!
//! # The skip connection `D`: dense, `H x I`
//!
//! The paper's `D` is a vector multiplying `u_k` elementwise (`D * u`), which needs `I = H`. An
//! rnnzoo cell takes any input and hidden size (the second layer of a bidirectional stack reads
//! `2H` features; the registry builds every cell at `I = 3, H = 5`), so a diagonal `D` that
//! refused `I != H` would make the LRU the one cell that cannot be stacked like the others. Here
//! `D` is a dense `H x I` matrix, initialised as the paper's diagonal: `D[j][j] ~ N(0, 1)` for
//! `j < min(H, I)` and zero elsewhere. At `I = H` the initial cell is the paper's, draw for draw
//! in distribution; training then may fill the off-diagonal entries, which the paper's cell does
//! not have (a strict superset: the paper's `D` is the diagonal case). Costs one more GEMM per
//! pass forward and two backward.
//!
//! # Storage of the complex values
//!
//! Everything is real tensors. The carried state of a sample (one column) is `[y (H rows);
//! Re x (N rows); Im x (N rows)]`, `state_size = H + 2N`; the output is the first `H` rows, as the
//! cell contract asks. The recurrence reads only `x`: the `y` rows of an initial state are never
//! read (their gradient is zero). The parameters, row-major like PyTorch's:
//!
//! | name | shape | |
//! | --- | --- | --- |
//! | `nu_log` | `N` | `ν`: `|λ| = exp(-exp(ν))` |
//! | `theta_log` | `N` | `θ`: `arg λ = exp(θ)` |
//! | `gamma_log` | `N` | `log γ`, the normalisation of the input |
//! | `B_re`, `B_im` | `N x I` | the input projection |
//! | `C_re`, `C_im` | `H x N` | the output projection |
//! | `D` | `H x I` | the skip connection |
//!
//! The cache keeps `B u_k` before the normalisation, `[Re(B u); Im(B u)]`, `2N` rows per column.
//!
//! # Initialisation (the appendix's `init_lru_parameters`)
//!
//! - `u1, u2 ~ U(0, 1)` per unit; `ν = -½ log(u1 (r_max² - r_min²) + r_min²)`,
//!   `θ = max_phase · u2`, stored as `nu_log = log ν`, `theta_log = log θ`. So `|λ|²` is uniform on
//!   `[r_min², r_max²]`: `λ` is uniform in *area* on the ring `r_min <= |λ| <= r_max` restricted
//!   to phases `[0, max_phase]` (the appendix's comment: "distributed uniformly on ring between
//!   r_min and r_max"), which is not `|λ|` uniform on `[r_min, r_max]`.
//! - `gamma_log = log sqrt(1 - |λ|²)`.
//! - `B_re, B_im ~ N(0, 1 / (2 I))` (the appendix's `normal / sqrt(2*H)`, its `H` being the input
//!   width: "Glorot initialization, with B scaled additionally by a factor 2 to account for
//!   halving the state variance by taking the real part"); `C_re, C_im ~ N(0, 1 / N)`;
//!   `D ~ N(0, 1)` (on the diagonal, see above).
//! - Defaults `r_min = 0`, `r_max = 1`, `max_phase = 6.28`, the appendix's signature
//!   `init_lru_parameters(N, H, r_min=0, r_max=1, max_phase=6.28)`, and `N = H` (the appendix
//!   takes `N` as an argument and states no default; `N = H` is rnnzoo's choice).
//!
//! Two guards the pseudocode does not need in practice, so that no option value in range gives a
//! non-finite parameter: `u1, u2` are drawn from the open interval (`numpy.random.uniform` and
//! `jax.random.uniform` are half-open `[0, 1)`, and `u = 0` would give `log 0`), and `ν` and
//! `gamma_log` are computed from `1 - |λ|²` written without cancellation, so that `|λ|` close to
//! 1 stays below 1 (`|λ| < 1` for every draw at every option value in range, in f64). In f32 a
//! `λ` within about `3e-8` of the unit circle (`exp(nu_log) < 2^-25`) rounds to `|λ| = 1`.
//!
//! # Computation (the scan form)
//!
//! A pass over `T` steps of `B` samples: `B_re U`, `B_im U` are two GEMMs over all `T·B`
//! columns; the recurrence is the complex scan of [`crate::scan`] (chunked over time on the rayon
//! pool); `y` is three GEMMs over all columns (`C_re Re X`, `-C_im Im X`, `D U`). Backward: three
//! GEMMs for the output side's gradients into `x`, one adjoint scan (multiplying by `conj(λ)`),
//! an elementwise pass for `ν, θ, γ` (chain rule through `λ` and `γ`) and GEMMs for `B`, `C`,
//! `D` and the input. Buffers are allocated once per pass.

use rnnzoo_cell::gemm::{MatMut, MatRef, gemm};
use rnnzoo_cell::rand::Rng;
use rnnzoo_cell::scan::{ScanBackward, ScanForward, ScanPass};
use rnnzoo_cell::{Cell, CellError, Init, Param, Params, Real, StepForm};

use crate::scan::{Lambda, complex_linear, complex_linear_adjoint};

/// The appendix's default smallest `|λ|`.
pub const DEFAULT_R_MIN: f64 = 0.0;
/// The appendix's default largest `|λ|`.
pub const DEFAULT_R_MAX: f64 = 1.0;
/// The appendix's default largest phase of `λ`: 6.28 as written there, not `2π`.
#[allow(clippy::approx_constant)]
pub const DEFAULT_MAX_PHASE: f64 = 6.28;

/// Largest `r_min`: `|λ| = r_min = r_max = 1` would make `γ = 0`.
const R_MIN_MAX: f64 = 0.999_999;
/// Smallest `r_max`: below it `r_max²` times the smallest draw underflows towards `|λ| = 0`,
/// `ν = ∞`.
const R_MAX_MIN: f64 = 1e-3;
/// Smallest `max_phase`.
const MAX_PHASE_MIN: f64 = 1e-6;
/// Largest `max_phase`: a full turn.
const MAX_PHASE_MAX: f64 = std::f64::consts::TAU;

const NU: usize = 0;
const THETA: usize = 1;
const GAMMA: usize = 2;
const B_RE: usize = 3;
const B_IM: usize = 4;
const C_RE: usize = 5;
const C_IM: usize = 6;
const D: usize = 7;

/// The LRU's state width and initialisation (see the [module docs](self)).
///
/// ```
/// use rnnzoo_lru::LruOptions;
/// let o = LruOptions::default();
/// assert_eq!((o.state, o.r_min, o.r_max, o.max_phase), (0, 0.0, 1.0, 6.28));
/// let ring = o.with_ring(0.9, 0.999).with_max_phase(std::f64::consts::PI / 10.0);
/// assert!(ring.check().is_ok());
/// assert!(o.with_ring(0.5, 0.4).check().is_err()); // r_min above r_max
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LruOptions {
    /// Complex state units `N`; 0 for `N = H` (the hidden size).
    pub state: usize,
    /// Smallest `|λ|` at initialisation, in `[0, 0.999999]`.
    pub r_min: f64,
    /// Largest `|λ|` at initialisation, in `[0.001, 1]` and at least `r_min`.
    pub r_max: f64,
    /// Largest phase `arg λ` at initialisation, in `[1e-6, 2π]`.
    pub max_phase: f64,
}

impl Default for LruOptions {
    /// `N = H`, `r_min = 0`, `r_max = 1`, `max_phase = 6.28` (the appendix's defaults).
    fn default() -> Self {
        Self {
            state: 0,
            r_min: DEFAULT_R_MIN,
            r_max: DEFAULT_R_MAX,
            max_phase: DEFAULT_MAX_PHASE,
        }
    }
}

impl LruOptions {
    /// With `N = state` units (0: `N = H`).
    ///
    /// ```
    /// assert_eq!(rnnzoo_lru::LruOptions::default().with_state(64).state, 64);
    /// ```
    pub fn with_state(self, state: usize) -> Self {
        Self { state, ..self }
    }

    /// With `|λ|` initialised on the ring `[r_min, r_max]`.
    ///
    /// ```
    /// let o = rnnzoo_lru::LruOptions::default().with_ring(0.5, 0.9);
    /// assert_eq!((o.r_min, o.r_max), (0.5, 0.9));
    /// ```
    pub fn with_ring(self, r_min: f64, r_max: f64) -> Self {
        Self {
            r_min,
            r_max,
            ..self
        }
    }

    /// With phases initialised on `[0, max_phase]`.
    ///
    /// ```
    /// assert_eq!(rnnzoo_lru::LruOptions::default().with_max_phase(3.0).max_phase, 3.0);
    /// ```
    pub fn with_max_phase(self, max_phase: f64) -> Self {
        Self { max_phase, ..self }
    }

    /// Checks the ranges of [`LruOptions`]' fields.
    ///
    /// ```
    /// use rnnzoo_lru::LruOptions;
    /// assert!(LruOptions::default().check().is_ok());
    /// assert!(LruOptions::default().with_max_phase(0.0).check().is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// [`CellError::BadParam`] naming the field (`r_min`, `r_max`, `max_phase`) out of range, or
    /// `r_min` when it is above `r_max`.
    pub fn check(&self) -> Result<(), CellError> {
        let bad = |name: &str, reason: String| {
            Err(CellError::BadParam {
                name: name.to_string(),
                reason,
            })
        };
        let within = |v: f64, lo: f64, hi: f64| v.is_finite() && (lo..=hi).contains(&v);
        if !within(self.r_min, 0.0, R_MIN_MAX) {
            return bad(
                "r_min",
                format!("must be in 0..={R_MIN_MAX}, got {}", self.r_min),
            );
        }
        if !within(self.r_max, R_MAX_MIN, 1.0) {
            return bad(
                "r_max",
                format!("must be in {R_MAX_MIN}..=1, got {}", self.r_max),
            );
        }
        if self.r_min > self.r_max {
            return bad(
                "r_min",
                format!("must be at most r_max = {}, got {}", self.r_max, self.r_min),
            );
        }
        if !within(self.max_phase, MAX_PHASE_MIN, MAX_PHASE_MAX) {
            return bad(
                "max_phase",
                format!(
                    "must be in {MAX_PHASE_MIN}..={MAX_PHASE_MAX}, got {}",
                    self.max_phase
                ),
            );
        }
        Ok(())
    }
}

/// A draw from the open interval `(0, 1)`: odd multiples of `2^-53`, all exact.
fn open_uniform<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let k = rng.random::<u64>() >> 12; // 52 bits
    ((2 * k + 1) as f64) * (-53f64).exp2()
}

/// `(ν, log γ)` for `u1` in `(0, 1)`: `|λ|² = r_min² + u1 (r_max² - r_min²)`,
/// `ν = -½ log |λ|²`, `log γ = ½ log(1 - |λ|²)`, with `1 - |λ|²` formed without cancellation.
fn nu_and_gamma_log(u1: f64, r_min: f64, r_max: f64) -> (f64, f64) {
    let mod2 = r_min * r_min + u1 * (r_max - r_min) * (r_max + r_min);
    // 1 - |λ|² = (1 - r_max²) + (1 - u1)(r_max² - r_min²): every term non-negative, one positive.
    let rest = (1.0 - r_max) * (1.0 + r_max) + (1.0 - u1) * (r_max - r_min) * (r_max + r_min);
    let nu = if mod2 < 0.5 {
        -0.5 * mod2.ln()
    } else {
        -0.5 * (-rest).ln_1p()
    };
    // log sqrt(1 - exp(-2ν)), from ν itself so that γ matches the stored λ.
    let gamma_log = 0.5 * (-(-2.0 * nu).exp_m1()).ln();
    (nu, gamma_log)
}

/// The Linear Recurrent Unit of Orvieto et al. 2023 (see the [module docs](self) for the
/// equations, the layouts, `D` and the initialisation).
///
/// - Parameters: `nu_log`, `theta_log`, `gamma_log (N)`, `B_re`, `B_im (N, I)`, `C_re`,
///   `C_im (H, N)`, `D (H, I)`, in this order, row-major.
/// - Form: a scan ([`StepForm::Scan`]); mode `"LRU"`.
/// - State: `[y (H); Re x (N); Im x (N)]` per sample (`state_size = H + 2N`); output `y`.
/// - Cache: `[Re(B u); Im(B u)]`, `2N` per sample.
///
/// ```
/// use rnnzoo_cell::{seeded, Cell, CellExt, StepForward};
/// use rnnzoo_lru::LruCell;
///
/// let cell = LruCell::<f64>::new(3, 4, &mut seeded(0))?;
/// assert_eq!(cell.mode(), "LRU");
/// let names: Vec<&str> = cell.params().names().collect();
/// assert_eq!(names, ["nu_log", "theta_log", "gamma_log", "B_re", "B_im", "C_re", "C_im", "D"]);
///
/// // One step of one sample from zero: x = γ B u, y = Re(C x) + D u.
/// let (x, prev) = (vec![0.5, -1.0, 2.0], vec![0.0; cell.state_size()]);
/// let mut next = vec![0.0; cell.state_size()];
/// let mut cache = vec![0.0; cell.cache_size()];
/// let mut scratch = vec![0.0; cell.step_scratch_size(1)];
/// cell.step_forward(StepForward { x: &x, prev: &prev, next: &mut next, cache: &mut cache, batch: 1, scratch: &mut scratch })?;
/// assert!(next.iter().all(|v| v.is_finite()));
/// # Ok::<(), rnnzoo_cell::CellError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LruCell<T> {
    params: Params<T>,
    input: usize,
    hidden: usize,
    units: usize,
}

impl<T: Real> LruCell<T> {
    /// A cell with `N = H` and the appendix's initialisation at its defaults.
    ///
    /// ```
    /// let cell = rnnzoo_lru::LruCell::<f32>::new(2, 3, &mut rnnzoo_cell::seeded(1))?;
    /// assert_eq!(cell.units(), 3);
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
        Self::with_options(input, hidden, LruOptions::default(), rng)
    }

    /// A cell with the appendix's initialisation at `options`.
    ///
    /// ```
    /// use rnnzoo_lru::{LruCell, LruOptions};
    /// let o = LruOptions::default().with_state(8).with_ring(0.9, 0.99);
    /// let cell = LruCell::<f64>::with_options(2, 3, o, &mut rnnzoo_cell::seeded(1))?;
    /// for (re, im) in cell.eigenvalues() {
    ///     let r = (re * re + im * im).sqrt();
    ///     assert!((0.9..0.99).contains(&r));
    /// }
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero, [`CellError::BadParam`] for an
    /// option out of range ([`LruOptions::check`]).
    pub fn with_options<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        options: LruOptions,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        options.check()?;
        let mut cell = Self::zeros(input, hidden, options.state)?;
        let (n, h, i) = (cell.units, hidden, input);
        // The appendix's order of draws: u1 (N), u2 (N), B_re, B_im, C_re, C_im, D.
        let u1: Vec<f64> = (0..n).map(|_| open_uniform(rng)).collect();
        let u2: Vec<f64> = (0..n).map(|_| open_uniform(rng)).collect();
        for j in 0..n {
            let (nu, gamma_log) = nu_and_gamma_log(u1[j], options.r_min, options.r_max);
            let theta = options.max_phase * u2[j];
            cell.params.at_mut(NU).data_mut()[j] = T::from_f64_lossy(nu.ln());
            cell.params.at_mut(THETA).data_mut()[j] = T::from_f64_lossy(theta.ln());
            cell.params.at_mut(GAMMA).data_mut()[j] = T::from_f64_lossy(gamma_log);
        }
        let normal = |std: f64| Init::Normal { mean: 0.0, std };
        let b_std = (1.0 / (2.0 * i as f64)).sqrt();
        normal(b_std).apply(cell.params.at_mut(B_RE), rng);
        normal(b_std).apply(cell.params.at_mut(B_IM), rng);
        let c_std = (1.0 / n as f64).sqrt();
        normal(c_std).apply(cell.params.at_mut(C_RE), rng);
        normal(c_std).apply(cell.params.at_mut(C_IM), rng);
        let mut diag = Param::<T>::zeros("D", &[h.min(i)], 1)?;
        normal(1.0).apply(&mut diag, rng);
        let d = cell.params.at_mut(D).data_mut();
        for (j, &v) in diag.data().iter().enumerate() {
            d[j * i + j] = v;
        }
        Ok(cell)
    }

    /// A cell whose parameters are all zero (`N = state`, or `H` if `state` is 0), to be filled
    /// by [`Params::set`]. With `nu_log = theta_log = gamma_log = 0`, `λ = exp(-1 + i)` and
    /// `γ = 1`.
    ///
    /// ```
    /// use rnnzoo_cell::Cell;
    /// let cell = rnnzoo_lru::LruCell::<f64>::zeros(2, 3, 5)?;
    /// assert_eq!((cell.units(), cell.state_size()), (5, 3 + 10));
    /// assert!(cell.params().iter().all(|p| p.data().iter().all(|&v| v == 0.0)));
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero.
    pub fn zeros(input: usize, hidden: usize, state: usize) -> Result<Self, CellError> {
        if input == 0 {
            return Err(CellError::ZeroSize { what: "input_size" });
        }
        if hidden == 0 {
            return Err(CellError::ZeroSize {
                what: "hidden_size",
            });
        }
        let n = if state == 0 { hidden } else { state };
        let mut params = Params::new();
        for (name, shape) in [
            ("nu_log", vec![n]),
            ("theta_log", vec![n]),
            ("gamma_log", vec![n]),
            ("B_re", vec![n, input]),
            ("B_im", vec![n, input]),
            ("C_re", vec![hidden, n]),
            ("C_im", vec![hidden, n]),
            ("D", vec![hidden, input]),
        ] {
            params.push(Param::zeros(name, &shape, 1)?)?;
        }
        Ok(Self {
            params,
            input,
            hidden,
            units: n,
        })
    }

    /// The complex state units `N`.
    pub fn units(&self) -> usize {
        self.units
    }

    /// `λ_j = exp(-exp(ν_j) + i exp(θ_j))` as `(re, im)` per unit.
    ///
    /// ```
    /// let cell = rnnzoo_lru::LruCell::<f64>::zeros(1, 1, 1)?;
    /// let (re, im) = cell.eigenvalues()[0]; // exp(-1 + i)
    /// assert!((re - (-1f64).exp() * 1f64.cos()).abs() < 1e-15);
    /// assert!((im - (-1f64).exp() * 1f64.sin()).abs() < 1e-15);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    pub fn eigenvalues(&self) -> Vec<(T, T)> {
        let (re, im) = self.lambda();
        re.into_iter().zip(im).collect()
    }

    fn lambda(&self) -> (Vec<T>, Vec<T>) {
        let nu = self.params[NU].data();
        let theta = self.params[THETA].data();
        nu.iter()
            .zip(theta)
            .map(|(&v, &t)| {
                let (m, phase) = ((-v.exp()).exp(), t.exp());
                (m * phase.cos(), m * phase.sin())
            })
            .unzip()
    }

    fn gamma(&self) -> Vec<T> {
        self.params[GAMMA].data().iter().map(|g| g.exp()).collect()
    }
}

impl<T: Real> Cell<T> for LruCell<T> {
    fn input_size(&self) -> usize {
        self.input
    }

    fn hidden_size(&self) -> usize {
        self.hidden
    }

    fn state_size(&self) -> usize {
        self.hidden + 2 * self.units
    }

    fn cache_size(&self) -> usize {
        2 * self.units
    }

    fn mode(&self) -> &str {
        "LRU"
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

/// A `rows x cols` block of a column-major buffer whose columns are `stride` apart.
fn block<T>(s: &[T], rows: usize, cols: usize, stride: usize) -> MatRef<'_, T> {
    MatRef::new(s, rows, cols, 1, stride).expect("sized by the pass")
}

fn block_mut<T>(s: &mut [T], rows: usize, cols: usize, stride: usize) -> MatMut<'_, T> {
    MatMut::new(s, rows, cols, 1, stride).expect("sized by the pass")
}

fn row_major_mut<T>(s: &mut [T], rows: usize, cols: usize) -> MatMut<'_, T> {
    MatMut::row_major(s, rows, cols).expect("a parameter of its shape")
}

impl<T: Real> ScanPass<T> for LruCell<T> {
    fn forward(&self, p: ScanForward<'_, T>) {
        let (ni, h, n) = (self.input, self.hidden, self.units);
        let (cols, b) = (p.steps * p.batch, p.batch);
        let s = h + 2 * n;
        let (one, zero) = (T::one(), T::zero());
        let u = block(p.x, ni, cols, ni);
        // B u over all T*B columns, unnormalised, into the cache [Re; Im].
        gemm(
            one,
            self.params[B_RE].view(),
            u,
            zero,
            block_mut(p.cache, n, cols, 2 * n),
        );
        gemm(
            one,
            self.params[B_IM].view(),
            u,
            zero,
            block_mut(&mut p.cache[n..], n, cols, 2 * n),
        );
        // b = γ B u, then the complex scan from the initial state's x rows.
        let gamma = self.gamma();
        let (mut xr, mut xi) = (vec![zero; n * cols], vec![zero; n * cols]);
        for col in 0..cols {
            let c = &p.cache[col * 2 * n..][..2 * n];
            for j in 0..n {
                xr[col * n + j] = gamma[j] * c[j];
                xi[col * n + j] = gamma[j] * c[n + j];
            }
        }
        let (mut ir, mut ii) = (vec![zero; n * b], vec![zero; n * b]);
        for col in 0..b {
            let st = &p.initial[col * s..][..s];
            ir[col * n..][..n].copy_from_slice(&st[h..h + n]);
            ii[col * n..][..n].copy_from_slice(&st[h + n..]);
        }
        let (lr, li) = self.lambda();
        let lam = Lambda { re: &lr, im: &li };
        complex_linear(lam, &mut xr, &mut xi, Some((&ir, &ii)), n * b);
        for col in 0..cols {
            let st = &mut p.states[col * s..][..s];
            st[h..h + n].copy_from_slice(&xr[col * n..][..n]);
            st[h + n..].copy_from_slice(&xi[col * n..][..n]);
        }
        // y = C_re Re x - C_im Im x + D u, over all columns, into the y rows.
        let (xr_v, xi_v) = (block(&xr, n, cols, n), block(&xi, n, cols, n));
        gemm(
            one,
            self.params[C_RE].view(),
            xr_v,
            zero,
            block_mut(p.states, h, cols, s),
        );
        gemm(
            -one,
            self.params[C_IM].view(),
            xi_v,
            one,
            block_mut(p.states, h, cols, s),
        );
        gemm(
            one,
            self.params[D].view(),
            u,
            one,
            block_mut(p.states, h, cols, s),
        );
    }

    fn backward(&self, p: ScanBackward<'_, T>, grads: &mut Params<T>) {
        let (ni, h, n) = (self.input, self.hidden, self.units);
        let (cols, b) = (p.steps * p.batch, p.batch);
        let s = h + 2 * n;
        let (one, zero) = (T::one(), T::zero());
        let u = block(p.x, ni, cols, ni);
        let d_y = block(&*p.d_states, h, cols, s);
        // The states' x, compact, and the gradients into x from outside the recurrence: their own
        // rows plus the output's, d Re x += C_re^T d y, d Im x -= C_im^T d y.
        let (mut xr, mut xi) = (vec![zero; n * cols], vec![zero; n * cols]);
        let (mut gr, mut gi) = (vec![zero; n * cols], vec![zero; n * cols]);
        for col in 0..cols {
            let st = &p.states[col * s..][..s];
            let ds = &p.d_states[col * s..][..s];
            xr[col * n..][..n].copy_from_slice(&st[h..h + n]);
            xi[col * n..][..n].copy_from_slice(&st[h + n..]);
            gr[col * n..][..n].copy_from_slice(&ds[h..h + n]);
            gi[col * n..][..n].copy_from_slice(&ds[h + n..]);
        }
        gemm(
            one,
            self.params[C_RE].view().t(),
            d_y,
            one,
            block_mut(&mut gr, n, cols, n),
        );
        gemm(
            -one,
            self.params[C_IM].view().t(),
            d_y,
            one,
            block_mut(&mut gi, n, cols, n),
        );
        // Output side: d C_re = d y Re(x)^T, d C_im = -d y Im(x)^T, d D = d y u^T.
        let (xr_v, xi_v) = (block(&xr, n, cols, n), block(&xi, n, cols, n));
        gemm(
            one,
            d_y,
            xr_v.t(),
            one,
            row_major_mut(grads.at_mut(C_RE).data_mut(), h, n),
        );
        gemm(
            -one,
            d_y,
            xi_v.t(),
            one,
            row_major_mut(grads.at_mut(C_IM).data_mut(), h, n),
        );
        gemm(
            one,
            d_y,
            u.t(),
            one,
            row_major_mut(grads.at_mut(D).data_mut(), h, ni),
        );
        // The total gradient at every x_k: g_k = d_k + conj(λ) g_{k+1}.
        let (lr, li) = self.lambda();
        let lam = Lambda { re: &lr, im: &li };
        complex_linear_adjoint(lam, &mut gr, &mut gi, n * b);
        // d λ = Σ g conj(x_{k-1}); d γ = Σ Re(conj(g) B u); d x_{-1} = conj(λ) g_0.
        let gamma = self.gamma();
        let (mut dlr, mut dli, mut dgamma) = (vec![zero; n], vec![zero; n], vec![zero; n]);
        for col in 0..cols {
            let prev = if col < b {
                &p.initial[col * s..][..s]
            } else {
                &p.states[(col - b) * s..][..s]
            };
            let c = &p.cache[col * 2 * n..][..2 * n];
            for j in 0..n {
                let (g_r, g_i) = (gr[col * n + j], gi[col * n + j]);
                let (pr, pi) = (prev[h + j], prev[h + n + j]);
                dlr[j] += g_r * pr + g_i * pi;
                dli[j] += g_i * pr - g_r * pi;
                dgamma[j] += g_r * c[j] + g_i * c[n + j];
            }
        }
        for col in 0..b {
            let d0 = &mut p.d_initial[col * s..][..s];
            d0[..h].fill(zero); // y_{-1} is not read
            for j in 0..n {
                let (g_r, g_i) = (gr[col * n + j], gi[col * n + j]);
                let (a, c) = (lr[j], li[j]);
                d0[h + j] = a * g_r + c * g_i;
                d0[h + n + j] = a * g_i - c * g_r;
            }
        }
        // Chain rule: d λ / d ν = -exp(ν) λ, d λ / d θ = i exp(θ) λ, d γ / d log γ = γ.
        {
            let nu = self.params[NU].data();
            let d_nu = grads.at_mut(NU).data_mut();
            for j in 0..n {
                d_nu[j] += -nu[j].exp() * (lr[j] * dlr[j] + li[j] * dli[j]);
            }
            let theta = self.params[THETA].data();
            let d_theta = grads.at_mut(THETA).data_mut();
            for j in 0..n {
                d_theta[j] += theta[j].exp() * (lr[j] * dli[j] - li[j] * dlr[j]);
            }
            let d_gamma = grads.at_mut(GAMMA).data_mut();
            for j in 0..n {
                d_gamma[j] += gamma[j] * dgamma[j];
            }
        }
        // d (B u) = γ g; d B = d(B u) u^T; d u = B_re^T d(Re B u) + B_im^T d(Im B u) + D^T d y.
        for col in 0..cols {
            for j in 0..n {
                gr[col * n + j] *= gamma[j];
                gi[col * n + j] *= gamma[j];
            }
        }
        let (dbr, dbi) = (block(&gr, n, cols, n), block(&gi, n, cols, n));
        gemm(
            one,
            dbr,
            u.t(),
            one,
            row_major_mut(grads.at_mut(B_RE).data_mut(), n, ni),
        );
        gemm(
            one,
            dbi,
            u.t(),
            one,
            row_major_mut(grads.at_mut(B_IM).data_mut(), n, ni),
        );
        let w = |k: usize| self.params[k].view().t();
        gemm(one, w(B_RE), dbr, zero, block_mut(p.d_x, ni, cols, ni));
        gemm(one, w(B_IM), dbi, one, block_mut(p.d_x, ni, cols, ni));
        gemm(one, w(D), d_y, one, block_mut(p.d_x, ni, cols, ni));
    }
}
