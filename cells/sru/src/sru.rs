//! The simple recurrent unit.
//!
//! Lei, Zhang, Wang, Dai & Artzi, "Simple Recurrent Units for Highly Parallelizable Recurrence",
//! EMNLP 2018 (arXiv:1709.02755), section 2 (a light recurrence and a highway network):
//!
//! ```text
//! f_t = σ(W_f x_t + v_f ⊙ c_{t-1} + b_f)
//! c_t = f_t ⊙ c_{t-1} + (1 - f_t) ⊙ (W x_t)
//! r_t = σ(W_r x_t + v_r ⊙ c_{t-1} + b_r)
//! h_t = r_t ⊙ c_t + (1 - r_t) ⊙ α x'_t
//! ```
//!
//! (Checked against the authors' pure-PyTorch recurrence, `elementwise_recurrence_naive` in
//! `asappresearch/sru`'s `sru/ops.py`: `forget_t = σ(u1 + c_prev*fw)`, `c_t = u0 + (c_prev -
//! u0) * forget_t`, `reset_t = σ(u2 + c_prev*rw)`, `h_t = xp + (c_t - xp) * reset_t`, the biases
//! added to `u1`, `u2`, no activation on `c` by default (`use_tanh=False`). The paper's equation
//! section itself was not readable in the sources searched; only its abstract and
//! introduction were.)
//!
//! The highway input `x'_t` is `x_t` itself when the input and hidden sizes agree; when they
//! differ it is a fourth projection `W_x x_t` of the input, as in the authors' implementation
//! (`asappresearch/sru`, `sru/modules.py`: `num_matrices = 4` when `input_size != output_size`,
//! and `ops.py` takes `x_prime = U[..., 3]`, the fourth block of the one input product, with no
//! bias). `α` is a constant, 1 by default (the equation above as written); the authors' code by
//! default multiplies the highway term by `sqrt(1 + 2 exp(b_r))`, `sqrt(3)` at its default
//! highway bias 0 (`rescale=True`, `scale_x` in `sru/modules.py`), which
//! [`SruCell::with_highway_scale`] reproduces for an equal-size layer. Whether the paper's text
//! states that constant was not checked here (its initialisation section was not readable in
//! the sources searched); the authors' code is the source for it.
//!
//! # Parameters
//!
//! In PyTorch's style, the gate blocks stacked along the rows:
//!
//! - `weight_ih (kH, I)`, row blocks `W` (the candidate), `W_f`, `W_r`, and when `I != H` a
//!   fourth, `W_x` (the highway projection): `k = 3` or `4`. (The authors' `weight` is
//!   `(I, H*k)` with the `k` matrices interleaved per unit: block `m` row `j` here is their
//!   `weight[:, j*k + m]`.)
//! - `weight_c (2H)`: `v_f` then `v_r`, the authors' name and layout (`weight_c.view(2, d)`).
//! - `bias_ih (2H)`: `b_f` then `b_r` (the authors' `bias`, `view(2, d)`); optional. The
//!   candidate and the highway projection have no bias, as in the paper and the authors' code.
//!
//! # Initialisation
//!
//! The authors' `SRUCell.reset_parameters` (`sru/modules.py`, default `v1=False`): every weight
//! `U(-sqrt(3/I), sqrt(3/I))` ("E\[w_ij\]=0 and Var\[w_ij\]=1/d"), then the `W_f` and `W_r` blocks
//! times `sqrt(0.5)`; `weight_c` `U(-sqrt(3), sqrt(3))` times `sqrt(0.5)`; the biases 0 (their
//! `highway_bias` default). With `α != 1` and `I != H` the authors scale the `W_x` block by `α`
//! at initialisation instead of the term at run time; here `α` multiplies the term in both cases
//! (the same function at initialisation, trained the same up to the factor).
//!
//! # The form
//!
//! `v ⊙ c_{t-1}` inside the gates makes the recurrence non-linear in `c`, so it is not
//! [`scan::linear`](rnnzoo_cell::scan::linear): a pass is [`StepForm::Scan`] with one input GEMM
//! over all `T*B` columns, then an elementwise loop over time (each step split over the samples
//! on the rayon pool when a step has many values), and backward the reverse loop, then one GEMM
//! for `d x` and one for `d W`. The state is `[h; c]` (`state_size = 2H`); the initial `h` is not
//! read (its gradient is zero).

use rayon::prelude::*;
use rnnzoo_cell::gemm::{MatMut, MatRef, gemm};
use rnnzoo_cell::rand::Rng;
use rnnzoo_cell::scan::{ScanBackward, ScanForward, ScanPass};
use rnnzoo_cell::{Cell, CellError, Init, Param, Params, Real, StepForm};

/// Values of `h` per step (`H * B`) from which a step's loop is split over the samples.
const PARALLEL_MIN_LANES: usize = 1 << 13;

/// The SRU of Lei et al. 2018 (see the [module docs](self) for the equations, the highway
/// projection, the layout and the initialisation).
///
/// - Parameters: `weight_ih (kH, I)` row blocks `W, W_f, W_r` (`k = 3`) and `W_x` when
///   `I != H` (`k = 4`); `weight_c (2H)` (`v_f, v_r`); `bias_ih (2H)` (`b_f, b_r`, optional).
/// - Form: [`StepForm::Scan`], an elementwise loop over time; mode `"SRU"`.
/// - State: `[h; c]` (`state_size = 2H`); the initial `h` is not read.
/// - Cache: `kH` per sample and step, `[W x; f; r]` and `W_x x` when `k = 4`.
///
/// ```
/// use rnnzoo_cell::{gradcheck, seeded, Cell};
/// use rnnzoo_sru::SruCell;
///
/// let mut same = SruCell::<f64>::new(4, 4, &mut seeded(0))?;
/// let mut projected = SruCell::<f64>::new(3, 4, &mut seeded(0))?;
/// assert_eq!(same.params().get("weight_ih").unwrap().shape(), &[12, 4]); // W, W_f, W_r
/// assert_eq!(projected.params().get("weight_ih").unwrap().shape(), &[16, 3]); // and W_x
/// assert_eq!((same.mode(), same.state_size()), ("SRU", 8));
/// assert!(gradcheck::check_cell(&mut same, 2, 1, &Default::default()).passed());
/// assert!(gradcheck::check_cell(&mut projected, 2, 1, &Default::default()).passed());
/// # Ok::<(), rnnzoo_cell::CellError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SruCell<T> {
    params: Params<T>,
    input: usize,
    hidden: usize,
    highway_scale: f64,
}

impl<T: Real> SruCell<T> {
    /// A cell with biases, `α = 1`, and the authors' initialisation.
    ///
    /// ```
    /// let cell = rnnzoo_sru::SruCell::<f32>::new(2, 3, &mut rnnzoo_cell::seeded(1))?;
    /// assert_eq!((cell.blocks(), cell.highway_scale(), cell.has_bias()), (4, 1.0, true));
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
        Self::with_highway_scale(input, hidden, 1.0, rng)
    }

    /// A cell with biases, the highway term scaled by `α = highway_scale` (the authors' default
    /// is `3f64.sqrt()`), and the authors' initialisation.
    ///
    /// ```
    /// let cell = rnnzoo_sru::SruCell::<f64>::with_highway_scale(3, 3, 3f64.sqrt(), &mut rnnzoo_cell::seeded(1))?;
    /// assert_eq!(cell.blocks(), 3);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`SruCell::zeros`].
    pub fn with_highway_scale<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        highway_scale: f64,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        let mut cell = Self::zeros(input, hidden, highway_scale, true)?;
        let h = hidden;
        let w = (3.0 / input as f64).sqrt();
        let half = T::from_f64_lossy(0.5f64.sqrt());
        let p = cell.params.at_mut(0);
        Init::Uniform { low: -w, high: w }.apply(p, rng);
        for g in [1, 2] {
            for v in p.gate_mut(g) {
                *v *= half;
            }
        }
        let s3 = 3f64.sqrt();
        let p = cell.params.at_mut(1);
        Init::Uniform { low: -s3, high: s3 }.apply(p, rng);
        for v in p.data_mut() {
            *v *= half;
        }
        debug_assert_eq!(cell.params.at(1).len(), 2 * h);
        Ok(cell)
    }

    /// A cell whose parameters are all zero, with or without `bias_ih`.
    ///
    /// ```
    /// use rnnzoo_cell::Cell;
    /// let cell = rnnzoo_sru::SruCell::<f64>::zeros(2, 3, 1.0, false)?;
    /// assert_eq!(cell.params().names().collect::<Vec<_>>(), ["weight_ih", "weight_c"]);
    /// assert!(rnnzoo_sru::SruCell::<f64>::zeros(2, 3, f64::NAN, true).is_err());
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero; [`CellError::BadParam`] (name
    /// `highway_scale`) if `highway_scale` is not finite.
    pub fn zeros(
        input: usize,
        hidden: usize,
        highway_scale: f64,
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
        if !highway_scale.is_finite() {
            return Err(CellError::BadParam {
                name: "highway_scale".into(),
                reason: format!("must be finite, got {highway_scale}"),
            });
        }
        let k = if input == hidden { 3 } else { 4 };
        let mut params = Params::new();
        params.push(Param::zeros("weight_ih", &[k * hidden, input], k)?)?;
        params.push(Param::zeros("weight_c", &[2 * hidden], 2)?)?;
        if bias {
            params.push(Param::zeros("bias_ih", &[2 * hidden], 2)?)?;
        }
        Ok(Self {
            params,
            input,
            hidden,
            highway_scale,
        })
    }

    /// Row blocks of `weight_ih`: 3 (`W, W_f, W_r`) when the input and hidden sizes agree, else
    /// 4 (and the highway projection `W_x`).
    ///
    /// ```
    /// use rnnzoo_sru::SruCell;
    /// assert_eq!(SruCell::<f64>::zeros(3, 3, 1.0, true)?.blocks(), 3);
    /// assert_eq!(SruCell::<f64>::zeros(2, 3, 1.0, true)?.blocks(), 4);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    pub fn blocks(&self) -> usize {
        if self.input == self.hidden { 3 } else { 4 }
    }

    /// The highway term's constant factor `α`.
    ///
    /// ```
    /// let cell = rnnzoo_sru::SruCell::<f64>::zeros(3, 3, 1.5, true)?;
    /// assert_eq!(cell.highway_scale(), 1.5);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    pub fn highway_scale(&self) -> f64 {
        self.highway_scale
    }

    /// Whether the cell has `bias_ih`.
    ///
    /// ```
    /// let cell = rnnzoo_sru::SruCell::<f64>::zeros(3, 3, 1.0, false)?;
    /// assert!(!cell.has_bias());
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    pub fn has_bias(&self) -> bool {
        self.params.len() == 3
    }

    /// What every step reads, looked up once per pass.
    fn coefficients(&self) -> Coefficients<'_, T> {
        Coefficients {
            hidden: self.hidden,
            v: self.params.at(1).data(),
            bias: self.params.get("bias_ih").map(Param::data),
            alpha: T::from_f64_lossy(self.highway_scale),
            projected: self.blocks() == 4,
        }
    }
}

/// The per-pass constants of the elementwise loop.
struct Coefficients<'a, T> {
    hidden: usize,
    v: &'a [T],
    bias: Option<&'a [T]>,
    alpha: T,
    projected: bool,
}

impl<T: Real> Coefficients<'_, T> {
    /// One step of one sample: `st` (the state `[h; c]`) and the gates of `ca` from the
    /// pre-activations in `ca`, the previous state `pr` and the input `xc`.
    fn forward_column(&self, st: &mut [T], ca: &mut [T], pr: &[T], xc: &[T]) {
        let (h, v, one) = (self.hidden, self.v, T::one());
        for j in 0..h {
            let c_prev = pr[h + j];
            let (bf, br) = self
                .bias
                .map_or((T::zero(), T::zero()), |b| (b[j], b[h + j]));
            let f = (ca[h + j] + v[j] * c_prev + bf).sigmoid();
            let r = (ca[2 * h + j] + v[h + j] * c_prev + br).sigmoid();
            let c = f * c_prev + (one - f) * ca[j];
            let hw = self.alpha * if self.projected { ca[3 * h + j] } else { xc[j] };
            st[j] = r * c + (one - r) * hw;
            st[h + j] = c;
            ca[h + j] = f;
            ca[2 * h + j] = r;
        }
    }

    /// One step of one sample backward: the pre-activations' gradients `du` (`kH`) and the
    /// gradient carried to `c_{t-1}` (`carry`, `H`: on entry the one from step `t + 1`).
    #[allow(clippy::too_many_arguments)]
    fn backward_column(
        &self,
        du: &mut [T],
        carry: &mut [T],
        ca: &[T],
        st: &[T],
        pr: &[T],
        ds: &[T],
        xc: &[T],
    ) {
        let (h, v, one) = (self.hidden, self.v, T::one());
        for j in 0..h {
            let (u, f, r) = (ca[j], ca[h + j], ca[2 * h + j]);
            let (c, c_prev) = (st[h + j], pr[h + j]);
            let hw = self.alpha * if self.projected { ca[3 * h + j] } else { xc[j] };
            let dh = ds[j];
            let dc = ds[h + j] + carry[j] + dh * r;
            let dar = dh * (c - hw) * r * (one - r);
            let daf = dc * (c_prev - u) * f * (one - f);
            du[j] = dc * (one - f);
            du[h + j] = daf;
            du[2 * h + j] = dar;
            if self.projected {
                du[3 * h + j] = dh * (one - r) * self.alpha;
            }
            carry[j] = dc * f + daf * v[j] + dar * v[h + j];
        }
    }
}

impl<T: Real> Cell<T> for SruCell<T> {
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
        self.blocks() * self.hidden
    }

    fn mode(&self) -> &str {
        "SRU"
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

    fn settings(&self) -> String {
        format!("highway_scale={}", self.highway_scale)
    }
}

impl<T: Real> ScanPass<T> for SruCell<T> {
    fn forward(&self, p: ScanForward<'_, T>) {
        let (h, i, b) = (self.hidden, self.input, p.batch);
        let (n, kh, s) = (p.steps * b, self.blocks() * self.hidden, 2 * self.hidden);
        // U = W_ih X over all columns: the candidate, both gates' input parts and W_x x.
        gemm(
            T::one(),
            self.params.at(0).view(),
            MatRef::col_major(p.x, i, n).expect("x is I x TB"),
            T::zero(),
            MatMut::col_major(p.cache, kh, n).expect("cache is kH x TB"),
        );
        let parallel = h * b >= PARALLEL_MIN_LANES;
        let k = self.coefficients();
        for t in 0..p.steps {
            let (done, rest) = p.states.split_at_mut(t * b * s);
            let prev: &[T] = if t == 0 {
                p.initial
            } else {
                &done[(t - 1) * b * s..]
            };
            let cur = &mut rest[..b * s];
            let cache = &mut p.cache[t * b * kh..][..b * kh];
            let x = &p.x[t * b * i..][..b * i];
            if parallel {
                cur.par_chunks_mut(s)
                    .zip(cache.par_chunks_mut(kh))
                    .zip(prev.par_chunks(s))
                    .zip(x.par_chunks(i))
                    .for_each(|(((st, ca), pr), xc)| k.forward_column(st, ca, pr, xc));
            } else {
                for (((st, ca), pr), xc) in cur
                    .chunks_mut(s)
                    .zip(cache.chunks_mut(kh))
                    .zip(prev.chunks(s))
                    .zip(x.chunks(i))
                {
                    k.forward_column(st, ca, pr, xc);
                }
            }
        }
    }

    fn backward(&self, p: ScanBackward<'_, T>, grads: &mut Params<T>) {
        let (h, i, b) = (self.hidden, self.input, p.batch);
        let (n, kh, s) = (p.steps * b, self.blocks() * self.hidden, 2 * self.hidden);
        let (one, zero) = (T::one(), T::zero());
        let mut du = vec![zero; kh * n];
        let mut carry = vec![zero; h * b];
        let parallel = h * b >= PARALLEL_MIN_LANES;
        let k = self.coefficients();
        let prev_of = |t: usize| -> &[T] {
            if t == 0 {
                p.initial
            } else {
                &p.states[(t - 1) * b * s..][..b * s]
            }
        };
        for t in (0..p.steps).rev() {
            let prev = prev_of(t);
            let cur = &p.states[t * b * s..][..b * s];
            let cache = &p.cache[t * b * kh..][..b * kh];
            let ds = &p.d_states[t * b * s..][..b * s];
            let x = &p.x[t * b * i..][..b * i];
            let du_t = &mut du[t * b * kh..][..b * kh];
            if parallel {
                du_t.par_chunks_mut(kh)
                    .zip(carry.par_chunks_mut(h))
                    .zip(cache.par_chunks(kh))
                    .zip(cur.par_chunks(s))
                    .zip(prev.par_chunks(s))
                    .zip(ds.par_chunks(s))
                    .zip(x.par_chunks(i))
                    .for_each(|((((((d, cr), ca), st), pr), dsc), xc)| {
                        k.backward_column(d, cr, ca, st, pr, dsc, xc)
                    });
            } else {
                for ((((((d, cr), ca), st), pr), dsc), xc) in du_t
                    .chunks_mut(kh)
                    .zip(carry.chunks_mut(h))
                    .zip(cache.chunks(kh))
                    .zip(cur.chunks(s))
                    .zip(prev.chunks(s))
                    .zip(ds.chunks(s))
                    .zip(x.chunks(i))
                {
                    k.backward_column(d, cr, ca, st, pr, dsc, xc);
                }
            }
        }
        for (d0, cr) in p.d_initial.chunks_exact_mut(s).zip(carry.chunks_exact(h)) {
            d0[..h].fill(zero); // the initial h is not read
            d0[h..].copy_from_slice(cr);
        }
        // d v = sum over columns of d(pre-activation) * c_{t-1}; d b = the sums alone.
        {
            let (d_v, rest) = {
                let mut it = grads.iter_mut().skip(1);
                let d_v = it.next().expect("weight_c");
                (d_v, it.next())
            };
            let d_v = d_v.data_mut();
            let mut d_b = rest.map(Param::data_mut);
            for (col, d) in du.chunks_exact(kh).enumerate() {
                let (t, bb) = (col / b, col % b);
                let c_prev = &prev_of(t)[bb * s + h..][..h];
                for j in 0..h {
                    let (df, dr) = (d[h + j], d[2 * h + j]);
                    d_v[j] += df * c_prev[j];
                    d_v[h + j] += dr * c_prev[j];
                    if let Some(d_b) = d_b.as_deref_mut() {
                        d_b[j] += df;
                        d_b[h + j] += dr;
                    }
                }
            }
        }
        let duv = MatRef::col_major(&du, kh, n).expect("kH x TB");
        gemm(
            one,
            self.params.at(0).view().t(),
            duv,
            zero,
            MatMut::col_major(p.d_x, i, n).expect("d_x is I x TB"),
        );
        if self.blocks() == 3 {
            // The highway's direct path: d x_t += α (1 - r_t) d h_t (here I = H).
            let alpha = T::from_f64_lossy(self.highway_scale);
            for ((dx, ca), ds) in p
                .d_x
                .chunks_exact_mut(i)
                .zip(p.cache.chunks_exact(kh))
                .zip(p.d_states.chunks_exact(s))
            {
                for j in 0..h {
                    dx[j] += alpha * (one - ca[2 * h + j]) * ds[j];
                }
            }
        }
        gemm(
            one,
            duv,
            MatRef::col_major(p.x, i, n).expect("x is I x TB").t(),
            one,
            MatMut::row_major(grads.at_mut(0).data_mut(), kh, i).expect("kH x I"),
        );
    }
}
