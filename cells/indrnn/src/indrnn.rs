//! The independently recurrent neural network (IndRNN): a diagonal recurrence with a relu.
//!
//! Li, Li, Cook, Zhu & Gao, "Independently Recurrent Neural Network (IndRNN): Building A Longer
//! and Deeper RNN", CVPR 2018 (arXiv:1803.04831). Read in the CVPR version of the paper that
//! its authors ship in their code (`Sunnydreamrain/IndRNN_pytorch`, `paper/Independently
//! Recurrent Neural Network (IndRNN) Building A Longer and Deeper RNN.pdf`):
//!
//! ```text
//! h_t     = σ(W x_t + u ⊙ h_{t-1} + b)                                   (eq. 2)
//! h_{n,t} = σ(w_n x_t + u_n h_{n,t-1} + b_n)       unit n alone          (eq. 3)
//! ∂J/∂h_{n,t} = ∂J/∂h_{n,T} u_n^{T-t} Π_{k=t}^{T-1} σ'_{n,k+1}           (eq. 4)
//! ```
//!
//! `u` is a vector and `⊙` the Hadamard product: each unit reads its own previous value only,
//! and the units of a layer meet through the next layer. `σ` is relu in the paper's experiments
//! (tanh is the option [`Nonlinearity::Tanh`]).
//!
//! # The bound on `u`
//!
//! Eq. 4 makes the gradient through `T - t` steps a power of the one scalar `u_n`. Section 3.1
//! derives from it a range that neither vanishes (a smallest useful gradient `ε`) nor explodes (a
//! largest gradient `γ`), `|u_n| ∈ [(ε / Π σ')^{1/(T-t)}, (γ / Π σ')^{1/(T-t)}]`, and for relu
//! (whose derivative is 0 or 1) relaxes it to `|u_n| ∈ [0, γ^{1/(T-t)}]`, so that some units
//! keep short memories (`u_n = 0` keeps none). The adding-problem experiment (section 5.1)
//! constrains `|u_n| ∈ (0, 2^{1/T})`: `γ = 2` over the sequence length `T`. Here that bound is
//! [`IndRnnOptions::t_max`] (`T`; 0 for none): [`Cell::constrain`] clips `u` to
//! `[-2^{1/T}, 2^{1/T}]`, which the trainer calls after every optimizer update. The authors'
//! code does the same clip on every batch (`np.clip(W, -U_bound, U_bound)` in
//! `Sunnydreamrain/IndRNN_Theano_Lasagne`, `adding/adding.py`, with
//! `U_bound = pow(MAG, 1.0 / seq_len)`, `MAG = 2`; `clip_weight`, a `clamp_(-U_bound, U_bound)`
//! of every `weight_hh` before each forward, in `Sunnydreamrain/IndRNN_pytorch`,
//! `pixelMNIST/Indrnn_mnist_train.py`). Their README (section "Considerations in
//! implementation", 2) adds that a short sequence ("such as 20") needs no constraint: the default
//! here is none. The paper's lower bound for long memory is used as an initialisation only
//! ([`RecurrentInit::Long`]), as in the authors' code, never as a clip. For tanh the authors'
//! adding script loosens the bound to `(2 / 0.9^{T/10})^{1/T}`; rnnzoo keeps `2^{1/T}` for both
//! nonlinearities.
//!
//! # Initialisation
//!
//! The paper states an initialisation of `u` for one experiment only (word-level Penn Treebank,
//! section 5.3.2: `Normal(0.4, 0.2)`, not offered here) and none of `W` or `b`. `u` follows the
//! authors' code:
//!
//! - [`RecurrentInit::Uniform`] (default): `u ~ U(0, 2^{1/T})` under a bound, as the authors'
//!   adding script draws its first layer (`lasagne.init.Uniform(range=(0, U_bound))`) and their
//!   PyTorch MNIST network every layer (`uniform_(0, U_bound)`); `u ~ U(0, 1)` without one, the
//!   default of their `IndRNN_onlyrecurrent.py` (`nn.init.uniform(weight, a=0, b=1)`) and their
//!   README's "For relu, `Uniform(0,1)` is used to make different neurons keep different kinds
//!   of memory".
//! - [`RecurrentInit::Long`]: `u ~ U(2^{-1/T}, 2^{1/T})` under a bound, the adding script's last
//!   layer (`Uniform(range=(U_lowbound, U_bound))`, `U_lowbound = pow(1.0 / MAG, 1.0 / seq_len)`),
//!   for a layer whose output is read at the last step only; `u = 1` without a bound, the
//!   README's "can be initialized to be all `1`".
//!
//! `W` and `b` take rnnzoo's (PyTorch's) default `U(-1/sqrt(H), 1/sqrt(H))`. The authors' adding
//! script draws `W` from `lasagne.init.Normal(0.001)` with Lasagne's default zero bias; that is
//! not offered here.
//!
//! # Parameters
//!
//! In PyTorch's style, the names of `StefOe/indrnn-pytorch`'s `IndRNNCell` (`indrnn.py`, the
//! code the authors' PyTorch implementation says it is based on), which the authors' own
//! `IndRNN_onlyrecurrent.py` keeps for `u`:
//!
//! | name | shape | the paper's |
//! | --- | --- | --- |
//! | `weight_ih` | `(H, I)` | `W` |
//! | `weight_hh` | `(H)` | `u`, the diagonal of the recurrence (a vector, not PyTorch's `(H, H)`) |
//! | `bias_ih` | `(H)` | `b` (optional) |
//!
//! One bias, as in the paper: a second (`bias_hh`) would be a redundant copy of `b`.
//!
//! # Step form
//!
//! The scan form ([`ScanPass`]): forward writes `W x_t + b` for all `T * B` columns with one
//! GEMM straight into the state buffer, then runs `h_t = σ(z_t + u ⊙ h_{t-1})` over time in
//! place. Backward runs the reverse loop (`dz_t = (d_t + u ⊙ dz_{t+1}) σ'(z_t)`, `σ'` read from
//! `h_t`: `h_t > 0` for relu, `1 - h_t^2` for tanh), then `dX = W^T dZ`, `dW += dZ X^T` and
//! `db += dZ 1` over the whole sequence. The cell keeps no cache. The lanes of a step (`H * B`
//! values, unit `j` of sample `b` at `b * H + j`) are independent through time, so a large pass
//! splits them into contiguous ranges, one task per thread of the current rayon pool, each
//! running all steps of its range.

use rayon::prelude::*;
use rnnzoo_cell::gemm::{MatMut, MatRef, gemm};
use rnnzoo_cell::rand::Rng;
use rnnzoo_cell::scan::{ScanBackward, ScanForward, ScanPass};
use rnnzoo_cell::{
    Cell, CellError, Init, Param, Params, Real, StepForm, add_row_sums, broadcast_bias,
};

/// Below this many lane-steps (`H * B * T`) a pass runs on the calling thread.
const PARALLEL_WORK: usize = 1 << 15;
/// The fewest lanes a parallel task takes.
const MIN_LANES: usize = 64;

/// The IndRNN's activation `σ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Nonlinearity {
    /// `max(0, x)`, the paper's.
    #[default]
    Relu,
    /// `tanh(x)`.
    Tanh,
}

impl Nonlinearity {
    #[inline]
    fn apply<T: Real>(self, x: T) -> T {
        match self {
            Self::Relu => {
                if x > T::zero() {
                    x
                } else {
                    T::zero()
                }
            }
            Self::Tanh => x.tanh(),
        }
    }

    /// `σ'(z)` from `h = σ(z)`. For relu, 0 at `z = 0`, as PyTorch's.
    #[inline]
    fn derivative_from_output<T: Real>(self, h: T) -> T {
        match self {
            Self::Relu => {
                if h > T::zero() {
                    T::one()
                } else {
                    T::zero()
                }
            }
            Self::Tanh => T::one() - h * h,
        }
    }
}

/// How `u` (`weight_hh`) starts; see the [module docs](self#initialisation) for the sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecurrentInit {
    /// `U(0, 2^{1/T})` under a bound, `U(0, 1)` without: units with memories of every length.
    #[default]
    Uniform,
    /// `U(2^{-1/T}, 2^{1/T})` under a bound, all ones without: every unit keeps a long memory.
    Long,
}

/// The options of an [`IndRnnCell`].
///
/// ```
/// use rnnzoo_indrnn::{IndRnnOptions, Nonlinearity, RecurrentInit};
/// let o = IndRnnOptions::default();
/// assert_eq!((o.nonlinearity, o.t_max, o.recurrent_init, o.bias), (Nonlinearity::Relu, 0, RecurrentInit::Uniform, true));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndRnnOptions {
    /// `σ`: relu (the paper's) or tanh.
    pub nonlinearity: Nonlinearity,
    /// The `T` of the bound `|u| <= 2^{1/T}` (the sequence length the gradient must survive), or
    /// 0 for no bound. [`Cell::constrain`] clips `u` to it; the initialisation draws inside it.
    pub t_max: usize,
    /// How `u` starts.
    pub recurrent_init: RecurrentInit,
    /// Whether the cell has `bias_ih`.
    pub bias: bool,
}

impl Default for IndRnnOptions {
    /// Relu, no bound, `u ~ U(0, 1)`, with a bias.
    fn default() -> Self {
        Self {
            nonlinearity: Nonlinearity::Relu,
            t_max: 0,
            recurrent_init: RecurrentInit::Uniform,
            bias: true,
        }
    }
}

/// The paper's bound on `|u|` for a gradient through `t_max` steps, `2^{1/t_max}`, or `None`
/// for `t_max = 0` (no bound).
///
/// ```
/// assert_eq!(rnnzoo_indrnn::bound(0), None);
/// assert_eq!(rnnzoo_indrnn::bound(1), Some(2.0));
/// assert!((rnnzoo_indrnn::bound(100).unwrap().powi(100) - 2.0).abs() < 1e-12);
/// ```
pub fn bound(t_max: usize) -> Option<f64> {
    (t_max > 0).then(|| 2f64.powf(1.0 / t_max as f64))
}

/// The IndRNN of Li et al. 2018 (see the [module docs](self) for the equations, the bound and
/// the sources).
///
/// - Parameters: `weight_ih (H, input)`, `weight_hh (H)` (the vector `u`), and with a bias
///   `bias_ih (H)`.
/// - Form: scan ([`ScanPass`]); mode `"INDRNN"`.
/// - State: `h` (`state_size = H`); no cache.
///
/// ```
/// use rnnzoo_cell::{seeded, Cell};
/// use rnnzoo_indrnn::IndRnnCell;
///
/// let cell = IndRnnCell::<f32>::new(3, 4, &mut seeded(0))?;
/// let shapes: Vec<_> = cell.params().iter().map(|p| (p.name(), p.shape().to_vec())).collect();
/// assert_eq!(shapes, [("weight_ih", vec![4, 3]), ("weight_hh", vec![4]), ("bias_ih", vec![4])]);
/// # Ok::<(), rnnzoo_cell::CellError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct IndRnnCell<T> {
    params: Params<T>,
    input: usize,
    hidden: usize,
    options: IndRnnOptions,
}

const WEIGHT_IH: usize = 0;
const WEIGHT_HH: usize = 1;
const BIAS_IH: usize = 2;

impl<T: Real> IndRnnCell<T> {
    /// A relu cell with a bias, no bound, `u ~ U(0, 1)` and `W`, `b ~ U(-1/sqrt(H), 1/sqrt(H))`.
    ///
    /// ```
    /// let cell = rnnzoo_indrnn::IndRnnCell::<f64>::new(2, 3, &mut rnnzoo_cell::seeded(1))?;
    /// assert_eq!(cell.options(), &rnnzoo_indrnn::IndRnnOptions::default());
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
        Self::with_options(input, hidden, IndRnnOptions::default(), rng)
    }

    /// A cell with `options`, initialised as they say (see the
    /// [module docs](self#initialisation)).
    ///
    /// ```
    /// use rnnzoo_cell::{seeded, Cell};
    /// use rnnzoo_indrnn::{IndRnnCell, IndRnnOptions, RecurrentInit};
    /// let o = IndRnnOptions { t_max: 50, recurrent_init: RecurrentInit::Long, ..Default::default() };
    /// let cell = IndRnnCell::<f64>::with_options(2, 8, o, &mut seeded(1))?;
    /// let (lo, hi) = (0.5f64.powf(1.0 / 50.0), 2f64.powf(1.0 / 50.0));
    /// assert!(cell.params().get("weight_hh").unwrap().data().iter().all(|&u| lo <= u && u <= hi));
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero.
    pub fn with_options<R: Rng + ?Sized>(
        input: usize,
        hidden: usize,
        options: IndRnnOptions,
        rng: &mut R,
    ) -> Result<Self, CellError> {
        let mut cell = Self::zeros(input, hidden, options)?;
        let pytorch = Init::pytorch(hidden);
        pytorch.apply(cell.params.at_mut(WEIGHT_IH), rng);
        let u = match (options.recurrent_init, bound(options.t_max)) {
            (RecurrentInit::Uniform, b) => Init::Uniform {
                low: 0.0,
                high: b.unwrap_or(1.0),
            },
            (RecurrentInit::Long, Some(b)) => Init::Uniform {
                low: 1.0 / b,
                high: b,
            },
            (RecurrentInit::Long, None) => Init::Constant(1.0),
        };
        u.apply(cell.params.at_mut(WEIGHT_HH), rng);
        if options.bias {
            pytorch.apply(cell.params.at_mut(BIAS_IH), rng);
        }
        // A uniform draw is within [low, high) and the bound rounds in T: keep u inside it.
        cell.constrain();
        Ok(cell)
    }

    /// A cell whose parameters are all zero, to be filled by
    /// [`Params::set`](rnnzoo_cell::Params::set) (`options.recurrent_init` is not read).
    ///
    /// ```
    /// use rnnzoo_cell::Cell;
    /// let o = rnnzoo_indrnn::IndRnnOptions { bias: false, ..Default::default() };
    /// let cell = rnnzoo_indrnn::IndRnnCell::<f64>::zeros(2, 3, o)?;
    /// assert_eq!(cell.params().names().collect::<Vec<_>>(), ["weight_ih", "weight_hh"]);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`CellError::ZeroSize`] if `input` or `hidden` is zero.
    pub fn zeros(input: usize, hidden: usize, options: IndRnnOptions) -> Result<Self, CellError> {
        if input == 0 {
            return Err(CellError::ZeroSize { what: "input_size" });
        }
        if hidden == 0 {
            return Err(CellError::ZeroSize {
                what: "hidden_size",
            });
        }
        let mut params = Params::new();
        params.push(Param::zeros("weight_ih", &[hidden, input], 1)?)?;
        params.push(Param::zeros("weight_hh", &[hidden], 1)?)?;
        if options.bias {
            params.push(Param::zeros("bias_ih", &[hidden], 1)?)?;
        }
        Ok(Self {
            params,
            input,
            hidden,
            options,
        })
    }

    /// The cell's options.
    ///
    /// ```
    /// let cell = rnnzoo_indrnn::IndRnnCell::<f64>::new(2, 3, &mut rnnzoo_cell::seeded(1))?;
    /// assert_eq!(cell.options().t_max, 0);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    pub fn options(&self) -> &IndRnnOptions {
        &self.options
    }

    /// Sets the `T` of the bound (0 for none), to be enforced from the next
    /// [`Cell::constrain`]; `u` is not changed here.
    ///
    /// ```
    /// use rnnzoo_cell::Cell;
    /// let mut cell = rnnzoo_indrnn::IndRnnCell::<f64>::new(2, 3, &mut rnnzoo_cell::seeded(1))?;
    /// cell.params_mut().set("weight_hh", &[3.0, -3.0, 0.5])?;
    /// cell.set_t_max(1);
    /// cell.constrain();
    /// assert_eq!(cell.params().get("weight_hh").unwrap().data(), &[2.0, -2.0, 0.5]);
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    pub fn set_t_max(&mut self, t_max: usize) {
        self.options.t_max = t_max;
    }

    /// Whether the cell has `bias_ih`.
    ///
    /// ```
    /// let cell = rnnzoo_indrnn::IndRnnCell::<f32>::new(2, 3, &mut rnnzoo_cell::seeded(1))?;
    /// assert!(cell.has_bias());
    /// # Ok::<(), rnnzoo_cell::CellError>(())
    /// ```
    pub fn has_bias(&self) -> bool {
        self.options.bias
    }

    fn bias(&self) -> Option<&[T]> {
        self.options.bias.then(|| self.params.at(BIAS_IH).data())
    }
}

impl<T: Real> Cell<T> for IndRnnCell<T> {
    fn input_size(&self) -> usize {
        self.input
    }

    fn hidden_size(&self) -> usize {
        self.hidden
    }

    fn cache_size(&self) -> usize {
        0 // σ' is read from h_t itself
    }

    fn mode(&self) -> &str {
        "INDRNN"
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

    /// The nonlinearity and the bound's `T` (the mode is `INDRNN` for both nonlinearities).
    fn settings(&self) -> String {
        let act = match self.options.nonlinearity {
            Nonlinearity::Relu => "relu",
            Nonlinearity::Tanh => "tanh",
        };
        format!("nonlinearity={act},t_max={}", self.options.t_max)
    }

    /// Clips `u` (`weight_hh`) to `[-2^{1/T}, 2^{1/T}]` with `T` = [`IndRnnOptions::t_max`]; does
    /// nothing when `t_max` is 0. A NaN stays NaN (the trainer reports a non-finite loss).
    fn constrain(&mut self) {
        if let Some(b) = bound(self.options.t_max) {
            let b = T::from_f64_lossy(b);
            for u in self.params.at_mut(WEIGHT_HH).data_mut() {
                if *u > b {
                    *u = b;
                } else if *u < -b {
                    *u = -b;
                }
            }
        }
    }
}

/// Splits `[0, lanes)` into contiguous ranges, one per task: one range unless the pass is large
/// and the pool has more than one thread.
pub(crate) fn lane_ranges(lanes: usize, steps: usize) -> Vec<(usize, usize)> {
    let threads = rayon::current_num_threads();
    let tasks = if threads <= 1 || lanes * steps < PARALLEL_WORK {
        1
    } else {
        threads.min(lanes.div_ceil(MIN_LANES)).max(1)
    };
    let len = lanes.div_ceil(tasks);
    (0..tasks)
        .map(|k| (k * len, ((k + 1) * len).min(lanes)))
        .filter(|(lo, hi)| lo < hi)
        .collect()
}

/// Cuts every step's block (`lanes` values) of `buf` at `ranges`: entry `k` holds range `k`'s
/// slice of each step, in time order.
fn split_lanes<'a, T>(
    buf: &'a mut [T],
    lanes: usize,
    ranges: &[(usize, usize)],
) -> Vec<Vec<&'a mut [T]>> {
    let steps = buf.len() / lanes;
    let mut out: Vec<Vec<&'a mut [T]>> = ranges.iter().map(|_| Vec::with_capacity(steps)).collect();
    for step in buf.chunks_exact_mut(lanes) {
        let mut rest = step;
        for (k, &(lo, hi)) in ranges.iter().enumerate() {
            let (piece, tail) = rest.split_at_mut(hi - lo);
            out[k].push(piece);
            rest = tail;
        }
    }
    out
}

/// Runs `work` on every range's pieces: in place on one range, else on the rayon pool.
fn for_ranges<P: Send, R: Send>(pieces: Vec<P>, work: impl Fn(usize, P) -> R + Sync) -> Vec<R> {
    if pieces.len() == 1 {
        pieces.into_iter().map(|p| work(0, p)).collect()
    } else {
        pieces
            .into_par_iter()
            .enumerate()
            .map(|(k, p)| work(k, p))
            .collect()
    }
}

impl<T: Real> ScanPass<T> for IndRnnCell<T> {
    fn forward(&self, p: ScanForward<'_, T>) {
        let (h, n, one) = (self.hidden, p.steps * p.batch, T::one());
        let lanes = h * p.batch;
        // z_t = W x_t + b for every step, straight into the states.
        broadcast_bias(p.states, self.bias(), h);
        let x = MatRef::col_major(p.x, self.input, n).expect("sized by the unroller");
        let z = MatMut::col_major(&mut *p.states, h, n).expect("sized by the unroller");
        gemm(one, self.params.at(WEIGHT_IH).view(), x, one, z);
        // h_t = σ(z_t + u ⊙ h_{t-1}), in place, each range of lanes through all steps.
        let u = self.params.at(WEIGHT_HH).data();
        let act = self.options.nonlinearity;
        let ranges = lane_ranges(lanes, p.steps);
        let initial = p.initial;
        let pieces = split_lanes(p.states, lanes, &ranges);
        for_ranges(pieces, |k, mut steps| {
            let (lo, hi) = ranges[k];
            for t in 0..steps.len() {
                let (done, rest) = steps.split_at_mut(t);
                let prev: &[T] = if t == 0 {
                    &initial[lo..hi]
                } else {
                    done[t - 1]
                };
                let mut j = lo % h;
                for (z, &hp) in rest[0].iter_mut().zip(prev) {
                    *z = act.apply(*z + u[j] * hp);
                    j += 1;
                    if j == h {
                        j = 0;
                    }
                }
            }
        });
    }

    fn backward(&self, p: ScanBackward<'_, T>, grads: &mut Params<T>) {
        let (h, n, zero, one) = (self.hidden, p.steps * p.batch, T::zero(), T::one());
        let lanes = h * p.batch;
        let u = self.params.at(WEIGHT_HH).data();
        let act = self.options.nonlinearity;
        let ranges = lane_ranges(lanes, p.steps);
        let (states, initial) = (p.states, p.initial);
        // d_initial cut like one step.
        let mut d_initial: Vec<&mut [T]> = Vec::with_capacity(ranges.len());
        let mut rest = &mut *p.d_initial;
        for &(lo, hi) in &ranges {
            let (piece, tail) = rest.split_at_mut(hi - lo);
            d_initial.push(piece);
            rest = tail;
        }
        // The reverse loop, in place: d_states becomes dz_t = (d_t + u ⊙ dz_{t+1}) σ'(z_t).
        let pieces: Vec<_> = split_lanes(&mut *p.d_states, lanes, &ranges)
            .into_iter()
            .zip(d_initial)
            .collect();
        let partial_du = for_ranges(pieces, |k, (mut steps, d0)| {
            let (lo, hi) = ranges[k];
            let mut du = vec![zero; h];
            let last = steps.len() - 1;
            for t in (0..steps.len()).rev() {
                let (now, later) = steps.split_at_mut(t + 1);
                let d = &mut *now[t];
                let next: Option<&[T]> = (t < last).then(|| &*later[0]);
                let ht = &states[t * lanes + lo..t * lanes + hi];
                let hp = if t == 0 {
                    &initial[lo..hi]
                } else {
                    &states[(t - 1) * lanes + lo..(t - 1) * lanes + hi]
                };
                let mut j = lo % h;
                for i in 0..d.len() {
                    let carried = next.map_or(zero, |g| u[j] * g[i]);
                    let dz = (d[i] + carried) * act.derivative_from_output(ht[i]);
                    d[i] = dz;
                    du[j] += dz * hp[i];
                    j += 1;
                    if j == h {
                        j = 0;
                    }
                }
            }
            // d h_{-1} = u ⊙ dz_0.
            let mut j = lo % h;
            for (d, &g) in d0.iter_mut().zip(&*steps[0]) {
                *d = u[j] * g;
                j += 1;
                if j == h {
                    j = 0;
                }
            }
            du
        });
        for du in partial_du {
            for (g, d) in grads.at_mut(WEIGHT_HH).data_mut().iter_mut().zip(du) {
                *g += d;
            }
        }
        // The whole sequence at once: dX = W^T dZ, dW += dZ X^T, db += dZ 1.
        let dz = &*p.d_states;
        let dz_v = MatRef::col_major(dz, h, n).expect("sized by the unroller");
        let x = MatRef::col_major(p.x, self.input, n).expect("sized by the unroller");
        let w = self.params.at(WEIGHT_IH).view();
        let d_x = MatMut::col_major(p.d_x, self.input, n).expect("sized by the unroller");
        gemm(one, w.t(), dz_v, zero, d_x);
        let d_w = MatMut::row_major(grads.at_mut(WEIGHT_IH).data_mut(), h, self.input)
            .expect("the cell's own layout");
        gemm(one, dz_v, x.t(), one, d_w);
        if self.options.bias {
            add_row_sums(grads.at_mut(BIAS_IH).data_mut(), dz, h);
        }
    }
}
