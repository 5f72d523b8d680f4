//! Which kernel runs a product: chosen per shape by measurement, or forced by `RNNZOO_GEMM`.

use std::sync::OnceLock;

use super::gemv;

/// The GEMM kernels [`gemm()`](super::gemm()) chooses between (see the module docs for the measurements).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// `matrixmultiply::{sgemm, dgemm}`, single-threaded ([`Real::gemm_kernel`](crate::Real::gemm_kernel)).
    MatrixMultiply,
    /// The `gemm` crate, AVX-512 kernels where the processor has them, split over the current
    /// rayon pool for large products ([`Real::gemm_crate_kernel`](crate::Real::gemm_crate_kernel)).
    GemmCrate,
    /// rnnzoo's matrix-vector kernel, for one column (`n = 1`, a batch of one) with a
    /// column-major `A` and a contiguous `C`: `W_hh h` on the unroller's column-major copy and
    /// `W_hh^T d_gh`. Other layouts fall back to [`Backend::GemmCrate`].
    Gemv,
}

/// Products with fewer multiply-adds than this run on one thread: below it, handing half of the
/// work to a second thread costs more than it saves (measured: a 128 x 128 x 32 product takes
/// about 10 µs on one core).
pub const PARALLEL_MIN_MACS: usize = 1 << 20;

impl Backend {
    /// The backend for an `m x k x n` product whose `A` has strides `a = (rs, cs)`, whose `B` and
    /// `C` have row strides `x_rs` and `c_rs`, in a pool of `threads` threads; `RNNZOO_GEMM`
    /// overrides (see the module docs).
    pub fn choose(
        m: usize,
        k: usize,
        n: usize,
        a: (usize, usize),
        x_rs: usize,
        c_rs: usize,
        threads: usize,
    ) -> Backend {
        if let Some(forced) = forced() {
            return forced;
        }
        if n == 1 && gemv::fits(a, x_rs, c_rs) {
            return Backend::Gemv;
        }
        let a_row_major = a.1 == 1 && a.0 != 1;
        let parallel = threads > 1 && m * k * n >= PARALLEL_MIN_MACS;
        if a_row_major && (2..=64).contains(&n) && !parallel {
            Backend::MatrixMultiply
        } else {
            Backend::GemmCrate
        }
    }
}

/// The backend `RNNZOO_GEMM` asks for, read once.
fn forced() -> Option<Backend> {
    static FORCED: OnceLock<Option<Backend>> = OnceLock::new();
    *FORCED.get_or_init(|| match std::env::var("RNNZOO_GEMM").as_deref() {
        Ok("matrixmultiply") => Some(Backend::MatrixMultiply),
        Ok("gemm") => Some(Backend::GemmCrate),
        Ok("gemv") => Some(Backend::Gemv),
        _ => None,
    })
}
