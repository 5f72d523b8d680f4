//! The authors' initialisations of the skew-symmetric parameter (`henaff_init_` and
//! `cayley_init_` in Lezcano/expRNN, `initialization.py`; the copying task's default is Henaff's,
//! `1_copying.py`).
//!
//! Both write a block-diagonal skew-symmetric `A` made of `floor(H/2)` 2 x 2 blocks
//! `[[0, d_k], [-d_k, 0]]` (`create_diag_`: `A[2k][2k+1] = d_k`, `A[2k+1][2k] = -d_k`; an odd `H`
//! leaves the last row and column zero), so `exp(A)` is a block rotation with angles `d_k`:
//!
//! - Henaff: `d_k ~ U[-pi, pi]` (Henaff, Szlam & LeCun, "Recurrent orthogonal networks and
//!   long-memory tasks", ICML 2016);
//! - Cayley: `u_k ~ U[0, pi/2]`, `d_k = -sqrt((1 - cos u_k) / (1 + cos u_k))` (Helfrich, Willmott
//!   & Ye, "Orthogonal recurrent neural networks with scaled Cayley transform", ICML 2018).

use rnnzoo_cell::Real;
use rnnzoo_cell::rand::Rng;

/// Which initialisation of the skew-symmetric parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SkewInit {
    /// Henaff et al.'s: 2 x 2 rotation blocks with angles `U[-pi, pi]`; the authors' default.
    #[default]
    Henaff,
    /// The scaled Cayley paper's: `d = -sqrt((1 - cos u) / (1 + cos u))`, `u ~ U[0, pi/2]`.
    Cayley,
}

impl SkewInit {
    /// The `floor(n/2)` block values `d_k`, drawn from `rng` in order.
    pub fn blocks<R: Rng + ?Sized>(self, n: usize, rng: &mut R) -> Vec<f64> {
        use std::f64::consts::PI;
        (0..n / 2)
            .map(|_| {
                let u: f64 = rng.random();
                match self {
                    SkewInit::Henaff => -PI + 2.0 * PI * u,
                    SkewInit::Cayley => {
                        let c = (0.5 * PI * u).cos();
                        -((1.0 - c) / (1.0 + c)).sqrt()
                    }
                }
            })
            .collect()
    }

    /// Fills the row-major `n x n` matrix `a` with the block-diagonal skew-symmetric matrix of
    /// [`blocks`](Self::blocks).
    ///
    /// ```
    /// use rnnzoo_cell::seeded;
    /// use rnnzoo_orthogonal::SkewInit;
    /// let mut a = vec![1.0f64; 9];
    /// SkewInit::Henaff.fill(&mut a, 3, &mut seeded(0));
    /// let d = a[1];
    /// assert!(d.abs() <= std::f64::consts::PI);
    /// assert_eq!(a, [0.0, d, 0.0, -d, 0.0, 0.0, 0.0, 0.0, 0.0]);
    /// ```
    ///
    /// # Panics
    ///
    /// If `a.len() != n * n`.
    pub fn fill<T: Real, R: Rng + ?Sized>(self, a: &mut [T], n: usize, rng: &mut R) {
        assert_eq!(a.len(), n * n, "a square {n} x {n} matrix");
        a.fill(T::zero());
        for (k, d) in self.blocks(n, rng).into_iter().enumerate() {
            let (i, j) = (2 * k, 2 * k + 1);
            a[i * n + j] = T::from_f64_lossy(d);
            a[j * n + i] = T::from_f64_lossy(-d);
        }
    }
}
