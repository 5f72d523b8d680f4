//! Criterion benchmarks of `make bench-compare`'s cases, for regression tracking: forward
//! (inference) and forward+backward of each standard case ([`Case::standard`]) in f32 and f64,
//! on one thread, plus the GEMM ceiling. Not timed tests: nothing here asserts a duration.
//!
//! `cargo bench -p rnnzoo-criterion --bench speed` (about ten minutes); filter with criterion's usual
//! argument, e.g. `cargo bench -p rnnzoo-criterion --bench speed -- "f32/lstm T50 B64"`.
//! `RNNZOO_BENCH_THREADS=2` runs everything in a two-thread pool instead.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rnnzoo::cell::gemm::{MatMut, MatRef, gemm};
use rnnzoo::cell::{Real, seeded};
use rnnzoo::layers::Inputs;
use rnnzoo_bench::speed::run::{build, uniform};
use rnnzoo_bench::speed::{Case, Dtype};

fn threads() -> usize {
    std::env::var("RNNZOO_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

fn cases<T: Real>(c: &mut Criterion, dtype: Dtype, pool: &rayon::ThreadPool) {
    let mut group = c.benchmark_group(dtype.name());
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for case in Case::standard().expect("the registry has the standard cases") {
        let layer = build::<T>(&case, 0).expect("standard cases build");
        let (t, b) = (case.steps, case.batch);
        let mut rng = seeded(1);
        let x = uniform::<T>(case.input * t * b, &mut rng);
        let d_out = uniform::<T>(layer.output_size() * t * b, &mut rng);
        let mut grads = layer.zero_grads();
        let label = case.label();
        group.throughput(Throughput::Elements((t * b) as u64));
        group.bench_function(BenchmarkId::new("forward", &label), |bench| {
            bench.iter(|| pool.install(|| black_box(layer.infer(Inputs::new(&x, t, b)).unwrap())))
        });
        group.bench_function(BenchmarkId::new("forward_backward", &label), |bench| {
            bench.iter(|| {
                pool.install(|| {
                    let (out, tape) = layer.forward(Inputs::new(&x, t, b), None).unwrap();
                    black_box(layer.backward(&tape, &d_out, None, &mut grads).unwrap());
                    black_box(out)
                })
            })
        });
    }
    group.finish();
}

fn ceiling<T: Real>(c: &mut Criterion, dtype: Dtype, pool: &rayon::ThreadPool) {
    let n = 1024;
    let mut rng = seeded(2);
    let (a, bm) = (uniform::<T>(n * n, &mut rng), uniform::<T>(n * n, &mut rng));
    let mut out = vec![T::zero(); n * n];
    let mut group = c.benchmark_group(format!("{}/gemm", dtype.name()));
    group
        .sample_size(10)
        .throughput(Throughput::Elements((2 * n * n * n) as u64));
    group.bench_function(BenchmarkId::new("ceiling", n), |bench| {
        bench.iter(|| {
            pool.install(|| {
                gemm(
                    T::one(),
                    MatRef::col_major(&a, n, n).unwrap(),
                    MatRef::col_major(&bm, n, n).unwrap(),
                    T::zero(),
                    MatMut::col_major(&mut out, n, n).unwrap(),
                )
            });
            black_box(&out);
        })
    });
    group.finish();
}

fn speed(c: &mut Criterion) {
    // As the `rnnzoo` program does, so both measure the same thing.
    rnnzoo_bench::speed::memory::keep_freed_memory();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads())
        .build()
        .expect("thread pool");
    ceiling::<f32>(c, Dtype::F32, &pool);
    ceiling::<f64>(c, Dtype::F64, &pool);
    cases::<f32>(c, Dtype::F32, &pool);
    cases::<f64>(c, Dtype::F64, &pool);
}

criterion_group!(benches, speed);
criterion_main!(benches);
