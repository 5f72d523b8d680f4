use super::*;

fn exact_sigmoid(x: f32) -> f64 {
    (x as f64).sigmoid()
}

fn exact_tanh(x: f32) -> f64 {
    (x as f64).tanh()
}

/// The spacing of `f32`s at `v`'s magnitude (the ulp of the correctly rounded result).
fn ulp(v: f64) -> f64 {
    let f = (v as f32).abs().max(f32::MIN_POSITIVE);
    (f32::from_bits(f.to_bits() + 1) - f) as f64
}

/// Worst absolute and ulp errors of `approx` against `exact` over `xs`, and where; ulps (of the
/// result's precision, `ulp`) are counted for `x >= ulp_from`.
#[derive(Debug, Default)]
struct Worst<X> {
    abs: f64,
    abs_at: X,
    ulps: f64,
    ulps_at: X,
}

fn worst<X: Copy + Default + PartialOrd, Y: Into<f64>>(
    xs: impl Iterator<Item = X>,
    approx: fn(X) -> Y,
    exact: fn(X) -> f64,
    ulp: fn(f64) -> f64,
    ulp_from: X,
) -> Worst<X> {
    let mut w = Worst::default();
    for x in xs {
        let (a, e): (f64, f64) = (approx(x).into(), exact(x));
        // A NaN where the exact value is not (or the reverse) is the worst error of all, not one
        // that every comparison below would skip.
        let err = match (a.is_nan(), e.is_nan()) {
            (true, true) => 0.0,
            (false, false) => (a - e).abs(),
            _ => f64::INFINITY,
        };
        if err > w.abs {
            (w.abs, w.abs_at) = (err, x);
        }
        let u = err / ulp(e);
        if x >= ulp_from && u > w.ulps {
            (w.ulps, w.ulps_at) = (u, x);
        }
    }
    w
}

/// A dense linear sweep of [-20, 20] and every 1021st bit pattern (all magnitudes, both signs).
fn sweep() -> impl Iterator<Item = f32> {
    let dense = (-200_000..=200_000).map(|k| k as f32 * 1e-4);
    let patterns = (0..=u32::MAX / 1021)
        .map(|k| f32::from_bits(k * 1021))
        .filter(|x| x.is_finite());
    dense.chain(patterns)
}

#[test]
fn f32_sigmoid_is_within_1e_7_everywhere() {
    let w = worst(sweep(), sigmoid_f32, exact_sigmoid, ulp, -87.0);
    assert!(w.abs <= 1e-7, "{w:?}");
    assert!(w.ulps <= 3.0, "{w:?}");
}

#[test]
fn f32_tanh_is_within_1e_7_everywhere() {
    let w = worst(sweep(), tanh_f32, exact_tanh, ulp, f32::NEG_INFINITY);
    assert!(w.abs <= 1e-7, "{w:?}");
    assert!(w.ulps <= 2.0, "{w:?}");
}

/// tanh saturates to exactly 1 where a correctly rounded `tanhf` (and PyTorch) does, from
/// `|x| >= 9.01`, not earlier: every `f32` of `[8, 10]` rounds to 1 here exactly when the
/// exact tanh rounded to `f32` does, and the gradient `1 - tanh^2` is not zero below it.
#[test]
fn f32_tanh_saturates_where_a_correctly_rounded_tanh_does() {
    let (lo, hi) = (8.0f32.to_bits(), 10.0f32.to_bits());
    let mut first_one = None;
    for bits in lo..=hi {
        let x = f32::from_bits(bits);
        let rounded = exact_tanh(x) as f32;
        assert_eq!(tanh_f32(x) == 1.0, rounded == 1.0, "x = {x}");
        assert_eq!(tanh_f32(-x) == -1.0, rounded == 1.0, "x = -{x}");
        if rounded == 1.0 && first_one.is_none() {
            first_one = Some(x);
        }
    }
    let x1 = first_one.unwrap();
    assert!((9.0..9.02).contains(&x1), "saturation at {x1}");
    let below = f32::from_bits(x1.to_bits() - 1);
    let t = tanh_f32(below);
    assert!(1.0 - t * t > 0.0, "zero gradient at {below}");
    let mut v = [below; 17];
    tanh_in_place(&mut v); // the vectorised loop, as the cells call it
    assert!(v.iter().all(|&t| t < 1.0));
}

/// Every finite `f32`; prints the bounds quoted in the module docs. About five minutes optimised:
/// `cargo test -p rnnzoo-cell --release --lib -- --ignored exhaustive --nocapture`.
#[test]
#[ignore = "exhaustive over 2^32 inputs; run by hand to re-measure the documented bounds"]
fn exhaustive_error_bound() {
    let all = || (0..=u32::MAX).map(f32::from_bits).filter(|x| x.is_finite());
    let s = worst(all(), sigmoid_f32, exact_sigmoid, ulp, -87.0);
    let t = worst(all(), tanh_f32, exact_tanh, ulp, f32::NEG_INFINITY);
    println!("sigmoid {s:?}\ntanh {t:?}");
    assert!(s.abs <= 1e-7 && t.abs <= 1e-7, "{s:?} {t:?}");
}

/// What both precisions' kernels must do: saturate at the infinities and at 100, keep the signed
/// zeros and a subnormal (tanh), pass NaN through, and be odd (tanh) and symmetric (sigmoid, to
/// `sum_tol`). `small` is a tiny normal value tanh returns as it is.
macro_rules! common_special_values {
    ($t:ty, $sigmoid:ident, $tanh:ident, $small:expr, $sum_tol:expr) => {
        assert_eq!($sigmoid(0.0), 0.5);
        assert_eq!($sigmoid(-0.0), 0.5);
        assert_eq!($sigmoid(100.0), 1.0);
        assert_eq!($tanh(<$t>::INFINITY), 1.0);
        assert_eq!($tanh(<$t>::NEG_INFINITY), -1.0);
        assert_eq!($tanh(<$t>::MAX), 1.0);
        assert_eq!($tanh(<$t>::MIN), -1.0);
        assert_eq!($tanh(0.0).to_bits(), (0.0 as $t).to_bits());
        assert_eq!($tanh(-0.0).to_bits(), (-0.0 as $t).to_bits());
        let tiny = <$t>::from_bits(1); // the smallest subnormal
        assert_eq!($tanh(tiny), tiny);
        assert_eq!($tanh($small), $small);
        assert_eq!($sigmoid(tiny), 0.5);
        for nan in [<$t>::NAN, -<$t>::NAN, <$t>::from_bits(!0 >> 1)] {
            assert!($sigmoid(nan).is_nan());
            assert!($tanh(nan).is_nan());
        }
        // Odd and symmetric, as the exact functions are.
        for k in 0..10_000 {
            let x = k as $t * 1.3e-3;
            assert_eq!($tanh(-x), -$tanh(x), "{x}");
            let s = f64::from($sigmoid(x)) + f64::from($sigmoid(-x));
            assert!((s - 1.0).abs() <= $sum_tol, "{x}: {s}");
        }
    };
}

#[test]
fn special_values() {
    assert_eq!(sigmoid_f32(f32::INFINITY), 1.0);
    assert!(sigmoid_f32(f32::NEG_INFINITY) < 2e-38);
    assert!(sigmoid_f32(f32::NEG_INFINITY) >= 0.0);
    assert_eq!(sigmoid_f32(f32::MAX), 1.0);
    assert!(sigmoid_f32(f32::MIN) < 2e-38);
    common_special_values!(f32, sigmoid_f32, tanh_f32, 1e-20, 1.2e-7);
}

/// The slice functions over `$a` and `$b` equal `$sigmoid` and `$tanh` element by element, bit for
/// bit.
macro_rules! slices_apply {
    ($a:expr, $b:expr, $sigmoid:ident, $tanh:ident) => {{
        let (a, b) = ($a, $b);
        let n = a.len();
        let mut s = a.clone();
        sigmoid_in_place(&mut s);
        let mut t = a.clone();
        tanh_in_place(&mut t);
        let (mut ss, mut ts) = (vec![0.0; n], vec![0.0; n]);
        sigmoid_of_sum(&a, &b, &mut ss);
        tanh_of_sum(&a, &b, &mut ts);
        let (mut pos, mut neg) = (vec![0.0; n], vec![0.0; n]);
        sigmoid_pair(&a, &mut pos, &mut neg);
        for k in 0..n {
            assert_eq!(pos[k].to_bits(), $sigmoid(a[k]).to_bits());
            assert_eq!(neg[k].to_bits(), $sigmoid(-a[k]).to_bits());
            assert_eq!(s[k].to_bits(), $sigmoid(a[k]).to_bits());
            assert_eq!(t[k].to_bits(), $tanh(a[k]).to_bits());
            assert_eq!(ss[k].to_bits(), $sigmoid(a[k] + b[k]).to_bits());
            assert_eq!(ts[k].to_bits(), $tanh(a[k] + b[k]).to_bits());
        }
    }};
}

#[test]
fn slices_apply_the_kernels_to_each_element() {
    // Odd lengths exercise the vector loops' remainders.
    for n in [0, 1, 7, 8, 9, 33, 1000] {
        let a: Vec<f32> = (0..n).map(|k| (k as f32 * 0.37).sin() * 9.0).collect();
        let b: Vec<f32> = (0..n).map(|k| (k as f32 * 0.11).cos() * 3.0).collect();
        let a64: Vec<f64> = a.iter().map(|&v| v as f64 + 1e-9).collect();
        let b64: Vec<f64> = b.iter().map(|&v| v as f64).collect();
        slices_apply!(a, b, sigmoid_f32, tanh_f32);
        slices_apply!(a64, b64, sigmoid_f64, tanh_f64);
    }
}

/// Every compiled copy of `$loops` (baseline, AVX2, AVX-512) gives the same bits, and so do the
/// dispatching entry points.
macro_rules! every_copy_agrees {
    ($test:ident, $t:ty, $xs:expr, $loops:ident) => {
        #[test]
        fn $test() {
            let xs: Vec<$t> = $xs;
            let copies = slices::$loops::copies();
            let (_, sigmoid0, tanh0) = copies[0];
            let (mut s0, mut t0) = (xs.clone(), xs.clone());
            sigmoid0(&mut s0);
            tanh0(&mut t0);
            for (name, sigmoid, tanh) in copies {
                let (mut s, mut t) = (xs.clone(), xs.clone());
                sigmoid(&mut s);
                tanh(&mut t);
                for k in 0..xs.len() {
                    assert_eq!(
                        s[k].to_bits(),
                        s0[k].to_bits(),
                        "{name}: sigmoid({})",
                        xs[k]
                    );
                    assert_eq!(t[k].to_bits(), t0[k].to_bits(), "{name}: tanh({})", xs[k]);
                }
            }
            // The sums of two slices, likewise.
            // x + (-0.0) is x exactly, even for x = -0.0.
            let zeros: Vec<$t> = vec![-0.0; xs.len()];
            let sums = slices::$loops::sum_copies();
            for (name, sigmoid, tanh) in sums {
                let (mut s, mut t) = (zeros.clone(), zeros.clone());
                sigmoid(&xs, &zeros, &mut s);
                tanh(&zeros, &xs, &mut t);
                for k in 0..xs.len() {
                    assert_eq!(
                        s[k].to_bits(),
                        s0[k].to_bits(),
                        "{name}: sigmoid_of_sum({})",
                        xs[k]
                    );
                    assert_eq!(
                        t[k].to_bits(),
                        t0[k].to_bits(),
                        "{name}: tanh_of_sum({})",
                        xs[k]
                    );
                }
            }
            // The pairs, likewise: sigmoid(x) and sigmoid(-x).
            for (name, pair) in slices::$loops::pair_copies() {
                let (mut pos, mut neg) = (zeros.clone(), zeros.clone());
                pair(&xs, &mut pos, &mut neg);
                let mut minus: Vec<$t> = xs.iter().map(|v| -v).collect();
                sigmoid0(&mut minus);
                for k in 0..xs.len() {
                    assert_eq!(pos[k].to_bits(), s0[k].to_bits(), "{name}: pair({})", xs[k]);
                    assert_eq!(
                        neg[k].to_bits(),
                        minus[k].to_bits(),
                        "{name}: pair(-{})",
                        xs[k]
                    );
                }
            }
            // And the dispatching entry points run one of them.
            let (mut s, mut t) = (xs.clone(), xs.clone());
            sigmoid_in_place(&mut s);
            tanh_in_place(&mut t);
            assert!(s.iter().zip(&s0).all(|(a, b)| a.to_bits() == b.to_bits()));
            assert!(t.iter().zip(&t0).all(|(a, b)| a.to_bits() == b.to_bits()));
        }
    };
}

every_copy_agrees!(
    every_f32_copy_agrees_with_the_baseline_bit_for_bit,
    f32,
    sweep().step_by(7).collect(),
    f32_loops
);
every_copy_agrees!(
    every_f64_copy_agrees_with_the_baseline_bit_for_bit,
    f64,
    sweep64().step_by(3).collect(),
    f64_loops
);

#[test]
#[should_panic(expected = "different lengths")]
fn mismatched_lengths_panic() {
    sigmoid_of_sum(&[0.0f32; 3], &[0.0; 3], &mut [0.0; 2]);
}

// ---- f64 ----

/// The spacing of `f64`s at `v`'s magnitude.
fn ulp64(v: f64) -> f64 {
    let f = v.abs().max(f64::MIN_POSITIVE);
    f64::from_bits(f.to_bits() + 1) - f
}

/// A dense linear sweep of [-40, 40], a finer one around tanh's branch point 0.625 and around 0,
/// and 2^20 bit patterns spread over all magnitudes and both signs.
fn sweep64() -> impl Iterator<Item = f64> {
    let dense = (-400_000..=400_000).map(|k| k as f64 * 1e-4);
    let branch = (-100_000..=100_000).flat_map(|k| [0.625 + k as f64 * 1e-9, k as f64 * 1e-7]);
    let patterns = (0..1u64 << 20)
        .map(|k| f64::from_bits(k.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
        .filter(|x| x.is_finite());
    dense.chain(branch).chain(patterns)
}

fn libm_sigmoid(x: f64) -> f64 {
    x.sigmoid()
}

fn libm_tanh(x: f64) -> f64 {
    x.tanh()
}

#[test]
fn f64_sigmoid_is_within_3_ulps_everywhere() {
    let w = worst(sweep64(), sigmoid_f64, libm_sigmoid, ulp64, -708.0);
    println!("sigmoid {w:?}");
    assert!(w.ulps <= 3.0, "{w:?}");
    assert!(w.abs <= 3.0 * f64::EPSILON, "{w:?}");
}

#[test]
fn f64_tanh_is_within_3_ulps_everywhere() {
    let w = worst(sweep64(), tanh_f64, libm_tanh, ulp64, f64::NEG_INFINITY);
    println!("tanh {w:?}");
    assert!(w.ulps <= 3.0, "{w:?}");
}

#[test]
fn f64_special_values() {
    assert_eq!(sigmoid_f64(f64::INFINITY), 1.0);
    assert_eq!(sigmoid_f64(f64::NEG_INFINITY), 0.0);
    assert_eq!(sigmoid_f64(f64::MAX), 1.0);
    assert_eq!(sigmoid_f64(f64::MIN), 0.0);
    assert_eq!(sigmoid_f64(-800.0), 0.0); // as libm: exp(-800) underflows
    // The flush boundary: -708 itself is the smallest power 2^n built (n = -1021), just below is 0.
    let below = f64::from_bits((-708.0f64).to_bits() + 1);
    assert!((sigmoid_f64(-708.0) / (-708.0f64).exp() - 1.0).abs() < 4.0 * f64::EPSILON);
    assert_eq!(sigmoid_f64(below), 0.0);
    // tanh's branch point takes the exponential form, continuous with the rational below it.
    let (at, under) = (0.625f64, f64::from_bits(0.625f64.to_bits() - 1));
    assert!((tanh_f64(at) - at.tanh()).abs() <= 2.0 * f64::EPSILON * at.tanh());
    assert!((tanh_f64(under) - under.tanh()).abs() <= 2.0 * f64::EPSILON * at.tanh());
    common_special_values!(f64, sigmoid_f64, tanh_f64, 1e-200, 2.0 * f64::EPSILON);
}

/// tanh rounds to exactly 1 where libm's does (from `|x| = 19.06`), and not before: units just
/// below still pass a gradient.
#[test]
fn f64_tanh_saturates_where_libm_does() {
    for k in 0..200_000 {
        let x = 18.0 + k as f64 * 1e-5;
        assert_eq!(tanh_f64(x) == 1.0, x.tanh() == 1.0, "x = {x}");
    }
}
