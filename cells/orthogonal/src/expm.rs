//! The matrix exponential of a skew-symmetric matrix and the adjoint of its Frechet derivative,
//! in `f64` on nalgebra's dense matrices.
//!
//! - [`skew_from_free`]: `S = triu(A, 1) - triu(A, 1)^T`, the authors' parametrisation
//!   (`Orthogonal.retraction` in Lezcano/expRNN, `orthogonal.py`): the strict upper triangle of a
//!   full `H x H` parameter `A` is free, its diagonal and lower triangle are unused.
//! - [`expm`]: `exp(S)`, by nalgebra's scaling and squaring with Pade approximants (Al-Mohy &
//!   Higham, "A new scaling and squaring algorithm for the matrix exponential", SIAM J. Matrix
//!   Anal. Appl. 31(3), 2009; a port of SciPy's `expm`).
//! - [`expm_frechet_adjoint`]: for a loss `L(exp(X))` with `G = dL/d exp(X)`, the gradient
//!   `dL/dX = L_exp(X^T, G)`, where `L_exp(X, E)` is the Frechet derivative of `exp` at `X` in
//!   direction `E`. It is computed, as the authors' `differential` does (`expm32.py`), from the
//!   block-triangular identity (Higham, "Functions of Matrices", SIAM 2008, Theorem 3.6, eq. 3.16)
//!
//!   ```text
//!   exp([[X, E], [0, X]]) = [[exp(X), L_exp(X, E)], [0, exp(X)]]
//!   ```
//!
//!   on a `2H x 2H` matrix: `O(H^3)`, once per backward pass.
//! - [`free_gradient`]: `dL/dA = triu(dL/dS - (dL/dS)^T, 1)`, the chain rule through
//!   [`skew_from_free`].

use nalgebra::DMatrix;

/// `S = triu(A, 1) - triu(A, 1)^T` for a square `A` given row-major (`n x n` values).
///
/// ```
/// use rnnzoo_orthogonal::expm::skew_from_free;
/// let s = skew_from_free(&[9.0, 2.0, 7.0, 5.0], 2); // A = [[9, 2], [7, 5]]
/// assert_eq!(s.as_slice(), &[0.0, -2.0, 2.0, 0.0]); // column-major [[0, 2], [-2, 0]]
/// ```
///
/// # Panics
///
/// If `a.len() != n * n`.
pub fn skew_from_free(a: &[f64], n: usize) -> DMatrix<f64> {
    assert_eq!(a.len(), n * n, "a square {n} x {n} matrix");
    DMatrix::from_fn(n, n, |i, j| {
        use std::cmp::Ordering::*;
        match i.cmp(&j) {
            Less => a[i * n + j],
            Greater => -a[j * n + i],
            Equal => 0.0,
        }
    })
}

/// `exp(x)` of a square matrix.
///
/// ```
/// use nalgebra::DMatrix;
/// use rnnzoo_orthogonal::expm::{expm, skew_from_free};
/// // exp of [[0, t], [-t, 0]] is the rotation [[cos t, sin t], [-sin t, cos t]].
/// let t = 0.3f64;
/// let r = expm(&skew_from_free(&[0.0, t, 0.0, 0.0], 2));
/// let want = DMatrix::from_row_slice(2, 2, &[t.cos(), t.sin(), -t.sin(), t.cos()]);
/// assert!((r - want).amax() < 1e-15);
/// ```
pub fn expm(x: &DMatrix<f64>) -> DMatrix<f64> {
    x.exp()
}

/// `L_exp(X^T, G)`: the gradient `dL/dX` of a loss `L(exp(X))` whose gradient with respect to
/// `exp(X)` is `G` (see the module docs). `G` is scaled to unit max-norm before the block
/// exponential (the derivative is linear in `G`), so the scaling and squaring chooses its steps
/// from `X` rather than from the size of the gradient.
///
/// ```
/// use nalgebra::DMatrix;
/// use rnnzoo_orthogonal::expm::{expm, expm_frechet_adjoint};
/// // Against a central difference of L(X) = <G, exp(X)> in direction E.
/// let x = DMatrix::from_row_slice(2, 2, &[0.1, 0.7, -0.4, 0.2]);
/// let g = DMatrix::from_row_slice(2, 2, &[1.0, -2.0, 0.5, 3.0]);
/// let e = DMatrix::from_row_slice(2, 2, &[0.3, -0.1, 0.2, 0.9]);
/// let h = 1e-6;
/// let fd = (g.dot(&expm(&(&x + &e * h))) - g.dot(&expm(&(&x - &e * h)))) / (2.0 * h);
/// assert!((expm_frechet_adjoint(&x, &g).dot(&e) - fd).abs() < 1e-8);
/// ```
///
/// # Panics
///
/// If `x` is not square or `g` is not its shape.
pub fn expm_frechet_adjoint(x: &DMatrix<f64>, g: &DMatrix<f64>) -> DMatrix<f64> {
    let n = x.nrows();
    assert!(
        x.is_square() && g.shape() == (n, n),
        "square matrices of one size"
    );
    let scale = g.amax();
    if scale == 0.0 {
        return DMatrix::zeros(n, n);
    }
    let xt = x.transpose();
    let mut m = DMatrix::zeros(2 * n, 2 * n);
    m.view_mut((0, 0), (n, n)).copy_from(&xt);
    m.view_mut((n, n), (n, n)).copy_from(&xt);
    m.view_mut((0, n), (n, n)).copy_from(&(g / scale));
    m.exp().view((0, n), (n, n)) * scale
}

/// `dL/dA` (row-major, `n x n`) from `dL/dS` for `S = triu(A, 1) - triu(A, 1)^T`: zero on and
/// below the diagonal, `dS[i][j] - dS[j][i]` above it.
///
/// ```
/// use nalgebra::DMatrix;
/// use rnnzoo_orthogonal::expm::free_gradient;
/// let ds = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 5.0, 4.0]);
/// assert_eq!(free_gradient(&ds), vec![0.0, -3.0, 0.0, 0.0]);
/// ```
pub fn free_gradient(ds: &DMatrix<f64>) -> Vec<f64> {
    let n = ds.nrows();
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for j in i + 1..n {
            out[i * n + j] = ds[(i, j)] - ds[(j, i)];
        }
    }
    out
}
