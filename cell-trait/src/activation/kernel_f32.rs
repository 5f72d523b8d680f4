//! The branch-free `f32` element kernels. Everything is `#[inline(always)]` so that the slice loops
//! (and their AVX2 and AVX-512 copies) see straight-line code to vectorise.

const LOG2E: f32 = std::f32::consts::LOG2_E;
/// `ln 2` split for Cody–Waite reduction: `LN2_HI` has 9 significant bits, so `n * LN2_HI` is
/// exact for the `|n| <= 126` that occur.
const LN2_HI: f32 = 355.0 / 512.0;
const LN2_LO: f32 = -2.121_944_4e-4;
/// `1.5 * 2^23 + 127`: adding it rounds to an integer and leaves `n + 127` (the biased
/// exponent of `2^n`) in the low mantissa bits.
const ROUND: f32 = 12_583_039.0;
/// Below this `exp` is clamped, so `2^n` stays a normal number (`exp(-87) = 1.6e-38`).
const EXP_MIN: f32 = -87.0;
const SIGN: u32 = 0x8000_0000;

/// `e^a` for `a <= 0` (or NaN, which propagates), relative error about 1 ulp; `a < -87` gives
/// `e^-87`.
#[inline(always)]
pub(super) fn exp_nonpos(a: f32) -> f32 {
    // A comparison, not `max`, so that NaN passes through.
    let a = if a < EXP_MIN { EXP_MIN } else { a };
    let t = a * LOG2E + ROUND;
    let n = t - ROUND; // round(a / ln 2), exactly
    let r = a - n * LN2_HI - n * LN2_LO; // |r| <= ln2 / 2
    // The low 9 bits of t's representation are n + 127, in 1..=127 here: shift them into the
    // exponent field to make 2^n.
    let pow2n = f32::from_bits(t.to_bits() << 23);
    // Cephes expf: e^r = 1 + r + r^2 P(r).
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_6e-1)
        * r
        + 0.5;
    let er = p * (r * r) + r + 1.0;
    er * pow2n
}

#[inline(always)]
pub(super) fn sigmoid(x: f32) -> f32 {
    let e = exp_nonpos(-x.abs());
    let d = 1.0 + e;
    // sigmoid(|x|) = 1 / (1 + e); for x < 0, sigmoid(x) = e / (1 + e), both without overflow
    // and with full relative precision. NaN fails `x >= 0` and gives e / d = NaN.
    let num = if x >= 0.0 { 1.0 } else { e };
    num / d
}

/// `(sigmoid(x), sigmoid(-x))` from one `exp`, each bit for bit what [`sigmoid`] gives: both are
/// `1 / (1 + e)` or `e / (1 + e)` of the same `e = exp(-|x|)`.
#[inline(always)]
pub(super) fn sigmoid_pair(x: f32) -> (f32, f32) {
    let e = exp_nonpos(-x.abs());
    let d = 1.0 + e;
    // sigmoid(-x) takes 1 / d where -x >= 0; at x = 0 both are 1 / 2 (e = 1).
    let (num_pos, num_neg) = if x >= 0.0 { (1.0, e) } else { (e, 1.0) };
    (num_pos / d, num_neg / d)
}

#[inline(always)]
pub(super) fn tanh(x: f32) -> f32 {
    // tanh(|x|), then x's sign: exactly odd, and tanh(-0) = -0.
    let ax = x.abs();
    // |x| >= 0.625: 1 - 2e / (1 + e) with e = exp(-2|x|) in (0, 0.29]. Not (1 - e) / (1 + e):
    // that rounds 1 - e to 1 once e < 2^-25 (|x| >= 8.665), where the true tanh is still
    // 1 - 2^-24 until 2e < 2^-25 (|x| >= 9.01), so units in between would pass a zero
    // gradient where PyTorch passes a small one. This form saturates where a correctly
    // rounded tanhf does, at one multiply more.
    let e = exp_nonpos(-2.0 * ax);
    let big = 1.0 - (e + e) / (1.0 + e);
    // |x| < 0.625: Cephes tanhf, |x| + |x|^3 P(x^2).
    let z = ax * ax;
    let p = (((-5.704_988_7e-3 * z + 2.063_908_8e-2) * z - 5.373_971_5e-2) * z + 1.333_144_2e-1)
        * z
        - 3.333_328e-1;
    let small = p * z * ax + ax;
    // NaN fails the comparison and takes `big`, which is NaN.
    let t = if ax < 0.625 { small } else { big };
    f32::from_bits(t.to_bits() | (x.to_bits() & SIGN))
}
