//! Which vector instructions rnnzoo's own kernels use: detected at run time, and capped by
//! `RNNZOO_SIMD` to test or measure a narrower path on a wider machine.
//!
//! The machines rnnzoo runs on differ: AVX2-only (Zen 1) and AVX-512 (Zen 4, Zen 5, recent Xeons)
//! have both been seen. The `f32` and `f64` activations ([`crate::activation`]) and the matrix-vector
//! kernel (batch-1 products, [`crate::gemm`]) are compiled for the baseline, AVX2 and AVX-512 and
//! pick the widest [`level`] allows. `RNNZOO_SIMD=avx2` (or `baseline`) caps it, read once per
//! process, so an AVX-512 machine runs exactly the code an AVX2-only one would
//! (`cell-trait/tests/simd.rs` runs a layer both ways and compares). A value above what the
//! processor has is capped at what it has. The `gemm` crate dispatches its own kernels and is not
//! affected.
//!
//! ```
//! use rnnzoo_cell::simd::{level, Level};
//! let l = level();
//! assert!(l <= Level::detected());
//! println!("rnnzoo kernels: {}", l.name());
//! ```

use std::sync::OnceLock;

/// An instruction-set level of rnnzoo's kernels, ordered from narrowest to widest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// The target's baseline (SSE2 on x86-64).
    Baseline,
    /// AVX2 with FMA.
    Avx2,
    /// AVX-512F.
    Avx512,
}

impl Level {
    /// What this processor has.
    pub fn detected() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Self::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Self::Avx2;
            }
        }
        Self::Baseline
    }

    /// `"baseline"`, `"avx2"` or `"avx512"`, as `RNNZOO_SIMD` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Baseline => "baseline",
            Self::Avx2 => "avx2",
            Self::Avx512 => "avx512",
        }
    }

    /// The level `RNNZOO_SIMD` names, if it names one.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "baseline" | "sse2" | "none" => Some(Self::Baseline),
            "avx2" => Some(Self::Avx2),
            "avx512" | "avx512f" | "avx-512" => Some(Self::Avx512),
            _ => None,
        }
    }
}

/// The level rnnzoo's kernels use: [`Level::detected`], capped by `RNNZOO_SIMD` when it names a
/// level (an unknown value is ignored, with a warning on stderr). Read once per process.
pub fn level() -> Level {
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let detected = Level::detected();
        match std::env::var("RNNZOO_SIMD") {
            Ok(v) => match Level::parse(&v) {
                Some(cap) => cap.min(detected),
                None => {
                    eprintln!(
                        "rnnzoo: RNNZOO_SIMD={v:?} is not baseline, avx2 or avx512; using {}",
                        detected.name()
                    );
                    detected
                }
            },
            Err(_) => detected,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_and_order() {
        assert_eq!(Level::parse("AVX2"), Some(Level::Avx2));
        assert_eq!(Level::parse("avx512"), Some(Level::Avx512));
        assert_eq!(Level::parse("baseline"), Some(Level::Baseline));
        assert_eq!(Level::parse("neon"), None);
        assert!(Level::Baseline < Level::Avx2 && Level::Avx2 < Level::Avx512);
        for l in [Level::Baseline, Level::Avx2, Level::Avx512] {
            assert_eq!(Level::parse(l.name()), Some(l));
        }
    }
}
