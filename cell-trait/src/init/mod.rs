//! Parameter initialisers, driven by a caller's seeded RNG.
//!
//! Every initialiser draws from the `rng` it is given and nothing else, so a seed fixes a model.
//! rnnzoo's own constructors take `&mut impl Rng`; [`seeded`] gives the RNG they are tested with
//! (ChaCha8, whose stream is stable across platforms and crate versions).
//!
//! - [`Init`]: how to fill one parameter (PyTorch's uniform, normal, orthogonal, identity,
//!   constant).
//! - [`orthogonal_recurrent`], [`irnn`] (`recurrent`): a cell's recurrent weights, by PyTorch's
//!   parameter names.
//! - [`chrono`] (`chrono`): a gated cell's gate biases from the range of its dependencies.

mod chrono;
mod recurrent;

pub use chrono::{ChronoGates, chrono};
pub use recurrent::{IRNN_INPUT_STD, irnn, orthogonal_recurrent};

use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::{Param, Real};

/// A deterministic RNG from a seed: the one rnnzoo's examples and tests use.
///
/// ```
/// use rand::Rng;
/// let a: u64 = rnnzoo_cell::seeded(7).random();
/// let b: u64 = rnnzoo_cell::seeded(7).random();
/// assert_eq!(a, b);
/// ```
pub fn seeded(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// How to fill a parameter.
///
/// Per-block initialisers ([`Init::Orthogonal`], [`Init::Identity`]) treat each gate block
/// (`rows / gates` rows, see [`Param::gates`]) as its own matrix: an LSTM's `weight_hh` gets four
/// orthogonal `H x H` blocks, which is what "orthogonal recurrent weights" means for a gated cell.
///
/// ```
/// use rnnzoo_cell::{seeded, Init, Param};
/// let mut w = Param::<f64>::zeros("weight_hh", &[3, 3], 1).unwrap();
/// Init::Identity { scale: 1.0 }.apply(&mut w, &mut seeded(0));
/// assert_eq!(w.data(), &[1., 0., 0., 0., 1., 0., 0., 0., 1.]);
/// Init::pytorch(4).apply(&mut w, &mut seeded(0));
/// assert!(w.data().iter().all(|&x| x.abs() <= 0.5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// Uniform on `[low, high)`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// Normal with this mean and standard deviation.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// Each gate block orthogonal (semi-orthogonal if not square), times `gain`; Saxe et al. 2014.
    Orthogonal {
        /// Scale of the orthogonal blocks.
        gain: f64,
    },
    /// Each gate block `scale * I` (zero off the diagonal, also when not square); the IRNN of Le,
    /// Jaitly & Hinton 2015 uses it for a relu RNN's recurrent weights.
    Identity {
        /// The diagonal's value.
        scale: f64,
    },
    /// Every value the same.
    Constant(f64),
}

impl Init {
    /// PyTorch's default for `nn.RNN`/`LSTM`/`GRU`: every parameter `U(-1/sqrt(H), 1/sqrt(H))`.
    pub fn pytorch(hidden_size: usize) -> Self {
        let k = 1.0 / (hidden_size.max(1) as f64).sqrt();
        Init::Uniform { low: -k, high: k }
    }

    /// Fills `param`, drawing from `rng`.
    pub fn apply<T: Real, R: Rng + ?Sized>(&self, param: &mut Param<T>, rng: &mut R) {
        let (rows, cols, gates) = (param.gate_rows(), param.cols(), param.gates());
        match *self {
            Init::Uniform { low, high } => {
                for x in param.data_mut() {
                    *x = T::from_f64_lossy(low + (high - low) * rng.random::<f64>());
                }
            }
            Init::Normal { mean, std } => {
                for x in param.data_mut() {
                    let z: f64 = StandardNormal.sample(rng);
                    *x = T::from_f64_lossy(mean + std * z);
                }
            }
            Init::Constant(v) => param.data_mut().fill(T::from_f64_lossy(v)),
            Init::Identity { scale } => {
                for g in 0..gates {
                    let block = param.gate_mut(g);
                    block.fill(T::zero());
                    for i in 0..rows.min(cols) {
                        block[i * cols + i] = T::from_f64_lossy(scale);
                    }
                }
            }
            Init::Orthogonal { gain } => {
                for g in 0..gates {
                    let q = orthogonal(rows, cols, rng);
                    let block = param.gate_mut(g);
                    for i in 0..rows {
                        for j in 0..cols {
                            block[i * cols + j] = T::from_f64_lossy(gain * q[(i, j)]);
                        }
                    }
                }
            }
        }
    }
}

/// A `rows x cols` matrix with orthonormal rows or columns (whichever are fewer), from the QR
/// decomposition of a Gaussian matrix with the signs fixed so the result is uniformly (Haar)
/// distributed, as in PyTorch's `orthogonal_`.
fn orthogonal<R: Rng + ?Sized>(rows: usize, cols: usize, rng: &mut R) -> DMatrix<f64> {
    let (tall, short) = (rows.max(cols), rows.min(cols));
    let a = DMatrix::<f64>::from_fn(tall, short, |_, _| StandardNormal.sample(rng));
    let qr = a.qr();
    let (mut q, r) = (qr.q(), qr.r());
    for j in 0..short {
        if r[(j, j)] < 0.0 {
            q.column_mut(j).neg_mut();
        }
    }
    if rows >= cols { q } else { q.transpose() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gram(block: &[f64], rows: usize, cols: usize) -> DMatrix<f64> {
        let m = DMatrix::from_row_slice(rows, cols, block);
        if rows >= cols {
            m.transpose() * m
        } else {
            &m * m.transpose()
        }
    }

    #[test]
    fn orthogonal_blocks_are_orthonormal() {
        for &(g, h, c) in &[(4, 5, 5), (3, 4, 7), (1, 6, 2)] {
            let mut w = Param::<f64>::zeros("w", &[g * h, c], g).unwrap();
            Init::Orthogonal { gain: 2.0 }.apply(&mut w, &mut seeded(1));
            for k in 0..g {
                let block: Vec<f64> = w.gate_mut(k).iter().map(|x| x / 2.0).collect();
                let gm = gram(&block, h, c);
                let n = h.min(c);
                assert!((gm - DMatrix::<f64>::identity(n, n)).abs().max() < 1e-12);
            }
        }
    }

    #[test]
    fn uniform_stays_in_bounds_and_depends_on_the_seed() {
        let mut a = Param::<f32>::zeros("w", &[64, 64], 1).unwrap();
        let mut b = a.clone();
        Init::pytorch(16).apply(&mut a, &mut seeded(3));
        Init::pytorch(16).apply(&mut b, &mut seeded(4));
        assert!(a.data().iter().all(|x| x.abs() <= 0.25));
        assert!(a.data().iter().any(|x| x.abs() > 0.24));
        assert_ne!(a, b);
        let mean = a.data().iter().sum::<f32>() / a.len() as f32;
        assert!(mean.abs() < 0.01);
    }

    #[test]
    fn normal_has_its_moments() {
        let mut w = Param::<f64>::zeros("w", &[100, 100], 1).unwrap();
        Init::Normal {
            mean: 1.0,
            std: 0.5,
        }
        .apply(&mut w, &mut seeded(5));
        let n = w.len() as f64;
        let mean = w.data().iter().sum::<f64>() / n;
        let var = w.data().iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        assert!((mean - 1.0).abs() < 0.02 && (var.sqrt() - 0.5).abs() < 0.02);
    }
}
