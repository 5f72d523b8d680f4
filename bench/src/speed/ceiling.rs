//! The GEMM ceiling: GFLOP/s of one large square product through rnnzoo's GEMM backend, in the
//! dtype and thread pool of the cases it is compared with.

use std::hint::black_box;
use std::time::{Duration, Instant};

use rnnzoo::cell::gemm::{MatMut, MatRef, gemm};
use rnnzoo::cell::{Real, seeded};

use super::case::Dtype;
use super::run::uniform;

/// One ceiling measurement.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Ceiling {
    /// `n` of the `n x n x n` product.
    pub size: usize,
    /// The dtype.
    pub dtype: Dtype,
    /// Threads of the pool.
    pub threads: usize,
    /// Median milliseconds of one product.
    pub ms: f64,
    /// `2 n^3` over the median.
    pub gflops: f64,
}

/// Times `C = A B` for `n x n` matrices (column-major, as the unroller's input product) at least
/// `min_reps` times and for at least `target`, in the current thread pool.
pub fn ceiling(size: usize, dtype: Dtype, min_reps: usize, target: Duration) -> Ceiling {
    let ms = match dtype {
        Dtype::F32 => time::<f32>(size, min_reps, target),
        Dtype::F64 => time::<f64>(size, min_reps, target),
    };
    Ceiling {
        size,
        dtype,
        threads: rayon::current_num_threads(),
        ms: ms * 1e3,
        gflops: 2.0 * (size as f64).powi(3) / ms / 1e9,
    }
}

fn time<T: Real>(n: usize, min_reps: usize, target: Duration) -> f64 {
    let mut rng = seeded(1);
    let a = uniform::<T>(n * n, &mut rng);
    let b = uniform::<T>(n * n, &mut rng);
    let mut c = vec![T::zero(); n * n];
    let mut run = || {
        gemm(
            T::one(),
            MatRef::col_major(&a, n, n).expect("sized above"),
            MatRef::col_major(&b, n, n).expect("sized above"),
            T::zero(),
            MatMut::col_major(&mut c, n, n).expect("sized above"),
        );
        black_box(&c);
    };
    run();
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < min_reps.max(1) || start.elapsed() < target {
        let t0 = Instant::now();
        run();
        times.push(t0.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
