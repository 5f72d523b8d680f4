//! modReLU (Arjovsky, Shah & Bengio, "Unitary evolution recurrent neural networks", ICML 2016,
//! eq. 8), in the real form the expRNN authors use (`modrelu` in Lezcano/expRNN,
//! `orthogonal.py`):
//!
//! ```text
//! modrelu(z, b) = sign(z) * relu(|z| + b)
//! ```
//!
//! Its derivatives are PyTorch autograd's for that expression (`sign` and `|.|` have derivative
//! `0` and `sign(z)`, `relu` has derivative `1` above zero and `0` at and below it):
//! `d/dz = sign(z)^2 [|z| + b > 0]` (so `0` at `z = 0`) and `d/db = sign(z) [|z| + b > 0]`.

use rnnzoo_cell::Real;

/// `sign(z)` as PyTorch's `torch.sign`: `-1`, `0` or `1`.
fn sign<T: Real>(z: T) -> T {
    if z > T::zero() {
        T::one()
    } else if z < T::zero() {
        -T::one()
    } else {
        T::zero()
    }
}

/// `sign(z) * relu(|z| + b)`.
///
/// ```
/// use rnnzoo_orthogonal::modrelu::modrelu;
/// assert_eq!(modrelu(-2.0, 0.5), -2.5);
/// assert_eq!(modrelu(0.25, -0.5), 0.0);
/// assert_eq!(modrelu(0.0, 1.0), 0.0);
/// ```
pub fn modrelu<T: Real>(z: T, b: T) -> T {
    let m = z.abs() + b;
    if m > T::zero() {
        sign(z) * m
    } else {
        T::zero()
    }
}

/// `(d/dz, d/db)` of [`modrelu`] at `(z, b)`, as PyTorch's autograd gives them.
///
/// ```
/// use rnnzoo_orthogonal::modrelu::modrelu_grad;
/// assert_eq!(modrelu_grad(-2.0, 0.5), (1.0, -1.0));
/// assert_eq!(modrelu_grad(0.25, -0.5), (0.0, 0.0));
/// assert_eq!(modrelu_grad(0.0, 1.0), (0.0, 0.0));
/// ```
pub fn modrelu_grad<T: Real>(z: T, b: T) -> (T, T) {
    if z.abs() + b > T::zero() {
        let s = sign(z);
        (s * s, s)
    } else {
        (T::zero(), T::zero())
    }
}
