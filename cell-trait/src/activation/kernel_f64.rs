//! The branch-free `f64` element kernels, built like the `f32` ones ([`super::kernel_f32`]) with
//! the constants and polynomials double precision needs. Everything is `#[inline(always)]` so that
//! the slice loops (and their AVX2 and AVX-512 copies) see straight-line code to vectorise.

const LOG2E: f64 = std::f64::consts::LOG2_E;
/// `ln 2` split for Cody–Waite reduction. `LN2_HI` is `ln 2` truncated to 32 significant bits (the
/// low 21 mantissa bits of `0x3fe62e42fefa39ef` cleared), so `n * LN2_HI` is exact for every
/// `|n| < 2^21`; `LN2_LO` is `ln 2 - LN2_HI` rounded to `f64`, both computed with 60-digit
/// decimal arithmetic (Python's `Decimal(2).ln()`). They equal fdlibm's `ln2_hi` and `ln2_lo`.
const LN2_HI: f64 = 0.693_147_180_369_123_8;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
/// `1.5 * 2^52 + 1023`: adding it rounds to an integer and leaves `n + 1023` (the biased
/// exponent of `2^n`) in the low mantissa bits.
const ROUND: f64 = 6_755_399_441_056_767.0;
/// Below this `exp` is flushed to zero, so `2^n` stays a normal number where it is used
/// (`exp(-708) = 3.3e-308`).
const EXP_MIN: f64 = -708.0;
const SIGN: u64 = 0x8000_0000_0000_0000;

/// `e^a` for `a <= 0` (or NaN, which propagates), relative error about 1 ulp; `a < -708` gives
/// 0 (the true value is below `3.3e-308`: normal down to -708.4, subnormal to -745.1, then 0).
#[inline(always)]
pub(super) fn exp_nonpos(a: f64) -> f64 {
    // Comparisons, not `max`, so that NaN passes through. Zero rather than `e^-708` below the
    // clamp, so that a saturated gate is exactly 0 or 1 as libm's is far out (minGRU forms
    // `1 - z` as `σ(-k)`, and `σ(-800)` must be 0).
    let flush = a < EXP_MIN;
    let a = if flush { EXP_MIN } else { a };
    let t = a * LOG2E + ROUND;
    let n = t - ROUND; // round(a / ln 2), exactly
    let r = a - n * LN2_HI - n * LN2_LO; // |r| <= ln2 / 2 (plus rounding)
    // The low 11 bits of t's representation are n + 1023, in 2..=1023 here: shift them into the
    // exponent field to make 2^n.
    let pow2n = f64::from_bits(t.to_bits() << 52);
    // e^r = 1 + r + r^2 P(r) with P the Taylor series of (e^r - 1 - r) / r^2 to r^11: its
    // truncation error, |r|^14 / 14! < 5e-18 at |r| = ln2 / 2, is far below half an ulp.
    let p = ((((((((((r * (1.0 / 6_227_020_800.0) + 1.0 / 479_001_600.0) * r
        + 1.0 / 39_916_800.0)
        * r
        + 1.0 / 3_628_800.0)
        * r
        + 1.0 / 362_880.0)
        * r
        + 1.0 / 40_320.0)
        * r
        + 1.0 / 5_040.0)
        * r
        + 1.0 / 720.0)
        * r
        + 1.0 / 120.0)
        * r
        + 1.0 / 24.0)
        * r
        + 1.0 / 6.0)
        * r
        + 0.5;
    let er = (p * (r * r) + r) + 1.0;
    let v = er * pow2n;
    if flush { 0.0 } else { v }
}

#[inline(always)]
pub(super) fn sigmoid(x: f64) -> f64 {
    let e = exp_nonpos(-x.abs());
    let d = 1.0 + e;
    // As in f32: 1 / (1 + e) for x >= 0, e / (1 + e) below, never overflowing; NaN gives NaN.
    let num = if x >= 0.0 { 1.0 } else { e };
    num / d
}

/// `(sigmoid(x), sigmoid(-x))` from one `exp`, each bit for bit what [`sigmoid`] gives: both are
/// `1 / (1 + e)` or `e / (1 + e)` of the same `e = exp(-|x|)`.
#[inline(always)]
pub(super) fn sigmoid_pair(x: f64) -> (f64, f64) {
    let e = exp_nonpos(-x.abs());
    let d = 1.0 + e;
    // sigmoid(-x) takes 1 / d where -x >= 0; at x = 0 both are 1 / 2 (e = 1).
    let (num_pos, num_neg) = if x >= 0.0 { (1.0, e) } else { (e, 1.0) };
    (num_pos / d, num_neg / d)
}

/// Cephes `tanh.c` (Moshier, Cephes Math Library 2.8), the Cody–Waite form
/// `tanh x = x + x^3 P(x^2) / Q(x^2)` for `|x| < 0.625`; Cephes gives a peak relative error of
/// `2.5e-16` over `[-2, 2]` in IEEE double. The coefficients are Cephes' 21-digit decimals in
/// their shortest round-trip `f64` form; `Q` is monic: `z^3 + Q[0] z^2 + Q[1] z + Q[2]`.
const TANH_P: [f64; 3] = [
    -9.643_991_794_250_523e-1,
    -9.928_772_310_019_185e1,
    -1.614_687_684_417_084_5e3,
];
const TANH_Q: [f64; 3] = [
    1.128_116_784_916_329_3e2,
    2.235_488_390_601_004_5e3,
    4.844_063_053_251_255e3,
];

#[inline(always)]
pub(super) fn tanh(x: f64) -> f64 {
    let ax = x.abs();
    // |x| >= 0.625: 1 - 2e / (1 + e), e = exp(-2|x|), which rounds to 1 where a correctly
    // rounded tanh does (see the f32 kernel for why not (1 - e) / (1 + e)).
    let e = exp_nonpos(-2.0 * ax);
    let big = 1.0 - (e + e) / (1.0 + e);
    let z = ax * ax;
    let p = (TANH_P[0] * z + TANH_P[1]) * z + TANH_P[2];
    let q = ((z + TANH_Q[0]) * z + TANH_Q[1]) * z + TANH_Q[2];
    let small = ax * z * (p / q) + ax;
    // NaN fails the comparison and takes `big`, which is NaN.
    let t = if ax < 0.625 { small } else { big };
    f64::from_bits(t.to_bits() | (x.to_bits() & SIGN))
}
