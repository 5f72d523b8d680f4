//! Flushing vanished gradients to zero before they turn subnormal.
//!
//! A gradient that vanishes through time falls below `T::MIN_POSITIVE` (2^-126 in f32) after
//! enough steps, and x86 cores compute on subnormal operands and results in microcode, tens of
//! times slower than on normal ones. An LSTM of hidden 64 backpropagated through 200 steps on
//! the adding problem's plateau spent 84 % of its training time there (162 s for 2,000 updates,
//! against 26 s with the subnormals flushed by the hardware; Intel Xeon, AVX-512): the few
//! earliest steps of every sequence, whose GEMMs read and wrote subnormal values.
//!
//! The hardware's own cure, the MXCSR flags FTZ and DAZ, changes a floating-point mode that Rust
//! assumes is the default (`core::arch::x86_64::_mm_setcsr` documents it as undefined
//! behaviour). So the unroller zeroes, in the gradients it hands from one step to the next, every
//! value below [`tiny`]: `MIN_POSITIVE / EPSILON`, 2^-103 (about 9.9e-32) in f32 and 2^-970 in
//! f64. Zeroing only the subnormals themselves is not enough: a gate gradient of 1e-37 times a
//! weight of 0.01 makes a subnormal inside the next GEMM (that took the LSTM above from 162 s only
//! to 58 s). A value this small, added to any f32 gradient entry of magnitude 2^-78 or more, changes none of
//! its bits, and an optimiser step from it is zero in effect.

use crate::Real;

/// The magnitude below which [`flush_tiny`] zeroes a value: `T::min_positive_value() /
/// T::epsilon()`, 2^-103 in f32 and 2^-970 in f64.
///
/// # Examples
///
/// ```
/// assert_eq!(rnnzoo_cell::tiny::<f32>(), 2f32.powi(-103));
/// assert_eq!(rnnzoo_cell::tiny::<f64>(), 2f64.powi(-970));
/// ```
pub fn tiny<T: Real>() -> T {
    T::min_positive_value() / T::epsilon()
}

/// Sets every value of magnitude below [`tiny`] to zero, subnormals included, and leaves every
/// other value, infinities and NaN included, as it is.
///
/// # Examples
///
/// ```
/// use rnnzoo_cell::flush_tiny;
///
/// let mut v = [1.0, 1e-35, -f32::MIN_POSITIVE / 4.0, 1e-30, f32::NAN];
/// flush_tiny(&mut v);
/// assert_eq!(&v[..4], &[1.0, 0.0, 0.0, 1e-30]);
/// assert!(v[4].is_nan());
/// ```
pub fn flush_tiny<T: Real>(values: &mut [T]) {
    let below = tiny::<T>();
    for v in values {
        // A select, not a product by 0 or 1, so that no subnormal operand reaches the arithmetic
        // units (a comparison and a blend take no microcode assist); it vectorises. NaN compares
        // false and stays.
        *v = if v.abs() < below { T::zero() } else { *v };
    }
}

#[cfg(test)]
mod tests {
    use super::{flush_tiny, tiny};

    #[test]
    fn zeroes_exactly_the_values_below_the_threshold_in_both_precisions() {
        let t = tiny::<f32>();
        let below = f32::from_bits(t.to_bits() - 1);
        let mut a = [
            t,
            -t,
            below,
            -below,
            f32::MIN_POSITIVE / 2.0,
            f32::from_bits(1),
            1.0,
        ];
        flush_tiny(&mut a);
        assert_eq!(a, [t, -t, 0.0, 0.0, 0.0, 0.0, 1.0]);
        let t = tiny::<f64>();
        let below = f64::from_bits(t.to_bits() - 1);
        let mut b = [t, below, f64::from_bits(1), 1e-300, f64::NEG_INFINITY];
        flush_tiny(&mut b);
        assert_eq!(b, [t, 0.0, 0.0, 0.0, f64::NEG_INFINITY]);
        let mut n = [f64::NAN, f64::INFINITY];
        flush_tiny(&mut n);
        assert!(n[0].is_nan());
        assert_eq!(n[1], f64::INFINITY);
    }
}
