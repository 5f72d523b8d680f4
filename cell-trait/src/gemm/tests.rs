//! The kernels against a naive product, over sizes, layouts and backends.

use super::*;

fn naive(a: &MatRef<f64>, b: &MatRef<f64>) -> Vec<f64> {
    let mut c = vec![0.0; a.rows() * b.cols()];
    for i in 0..a.rows() {
        for j in 0..b.cols() {
            c[i + j * a.rows()] = (0..a.cols()).map(|p| a.at(i, p) * b.at(p, j)).sum();
        }
    }
    c
}

fn filled(n: usize, seed: u64) -> Vec<f64> {
    (0..n)
        .map(|i| (((i as u64 + 1) * (seed * 2654435761 + 7)) % 1009) as f64 / 97.0 - 5.0)
        .collect()
}

#[test]
fn sweeps_sizes_and_layouts_against_a_naive_product() {
    for &(m, k, n) in &[
        (1, 1, 1),
        (3, 1, 5),
        (1, 7, 1),
        (6, 5, 4),
        (17, 9, 13),
        (33, 64, 2),
        (70, 9, 1),
        (130, 33, 1),
    ] {
        for a_rm in [false, true] {
            for b_rm in [false, true] {
                let ad = filled(m * k, 1);
                let bd = filled(k * n, 2);
                let a = if a_rm {
                    MatRef::row_major(&ad, m, k)
                } else {
                    MatRef::col_major(&ad, m, k)
                }
                .unwrap();
                let b = if b_rm {
                    MatRef::row_major(&bd, k, n)
                } else {
                    MatRef::col_major(&bd, k, n)
                }
                .unwrap();
                let want = naive(&a, &b);
                for backend in [Backend::MatrixMultiply, Backend::GemmCrate, Backend::Gemv] {
                    let mut c = vec![f64::NAN; m * n];
                    let cv = MatMut::col_major(&mut c, m, n).unwrap();
                    gemm_with(backend, 1.0, a, b, 0.0, cv);
                    for (x, y) in c.iter().zip(&want) {
                        assert!((x - y).abs() < 1e-9, "{backend:?} {m}x{k}x{n}: {x} vs {y}");
                    }
                    // beta = 1 accumulates, alpha scales
                    let cv = MatMut::col_major(&mut c, m, n).unwrap();
                    gemm_with(backend, 2.0, a, b, 1.0, cv);
                    for (x, y) in c.iter().zip(&want) {
                        assert!((x - 3.0 * y).abs() < 1e-9, "{backend:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn gemv_takes_strided_x_and_beta() {
    // A 70x5 block of a 72-row column-major matrix, x every third value, y = 2 A x - y.
    let (m, k, lda) = (70, 5, 72);
    let ad = filled(lda * k, 5);
    let xd = filled(3 * k, 6);
    let a = MatRef::new(&ad, m, k, 1, lda).unwrap();
    let x = MatRef::new(&xd, k, 1, 3, 1).unwrap();
    let want = naive(&a, &x);
    let y0 = filled(m, 7);
    let mut y = y0.clone();
    assert_eq!(Backend::choose(m, k, 1, (1, lda), 3, 1, 1), Backend::Gemv);
    gemm(2.0, a, x, -1.0, MatMut::col_major(&mut y, m, 1).unwrap());
    for i in 0..m {
        assert!((y[i] - (2.0 * want[i] - y0[i])).abs() < 1e-9);
    }
}

#[test]
fn a_parallel_product_in_a_two_thread_pool_is_right() {
    // Big enough to be split over the pool; a row-major C (a weight gradient) and a strided B.
    let (m, k, n) = (96, 130, 100);
    assert!(m * k * n >= PARALLEL_MIN_MACS);
    let ad = filled(m * k, 3);
    let bd = filled(2 * k * n, 4);
    let a = MatRef::col_major(&ad, m, k).unwrap();
    let b = MatRef::new(&bd, k, n, 1, 2 * k).unwrap();
    let want = naive(&a, &b);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let mut c = vec![f64::NAN; m * n];
    pool.install(|| gemm(1.0, a, b, 0.0, MatMut::row_major(&mut c, m, n).unwrap()));
    for i in 0..m {
        for j in 0..n {
            assert!((c[i * n + j] - want[i + j * m]).abs() < 1e-9);
        }
    }
}

#[test]
fn transpose_swaps_strides_and_padded_columns_work() {
    // A 2x3 block inside a column stride of 4 (every column has one unused row).
    let a = [1.0, 2.0, 99.0, 99.0, 3.0, 4.0, 99.0, 99.0, 5.0, 6.0];
    let av = MatRef::new(&a, 2, 3, 1, 4).unwrap();
    assert_eq!(*av.t().at(2, 1), 6.0);
    let x = [1.0, 1.0];
    let mut y = [0.0; 3];
    gemm(
        1.0,
        av.t(),
        MatRef::col_major(&x, 2, 1).unwrap(),
        0.0,
        MatMut::col_major(&mut y, 3, 1).unwrap(),
    );
    assert_eq!(y, [3.0, 7.0, 11.0]);
}

#[test]
fn empty_inner_dimension_scales_c() {
    let a: [f32; 0] = [];
    let mut c = [1.0f32, 2.0];
    gemm(
        1.0,
        MatRef::col_major(&a, 2, 0).unwrap(),
        MatRef::col_major(&a, 0, 1).unwrap(),
        0.5,
        MatMut::col_major(&mut c, 2, 1).unwrap(),
    );
    assert_eq!(c, [0.5, 1.0]);
}

#[test]
fn views_that_do_not_fit_are_refused() {
    let d = [0.0f32; 5];
    assert!(MatRef::col_major(&d, 2, 3).is_err());
    assert!(MatRef::new(&d, 2, 2, 1, 3).is_ok());
    assert!(MatRef::new(&d, 2, 2, 1, 4).is_err());
    assert!(MatRef::new(&d, 0, 9, 1, 1).is_ok());
    assert!(MatRef::new(&d, 2, 2, usize::MAX, 1).is_err());
    // A mutable view may not give two elements the same storage; a shared one may.
    let mut e = [0.0f32; 16];
    assert!(MatRef::new(&d, 2, 2, 1, 1).is_ok());
    for (rows, cols, rs, cs) in [(2, 2, 1, 1), (2, 1, 0, 1), (1, 2, 1, 0), (3, 3, 2, 3)] {
        assert!(
            matches!(
                MatMut::new(&mut e, rows, cols, rs, cs),
                Err(ViewError::Overlapping { .. })
            ),
            "{rows}x{cols} ({rs}, {cs})"
        );
    }
    for (rows, cols, rs, cs) in [(2, 3, 1, 5), (3, 2, 4, 1), (4, 1, 1, 0), (1, 4, 0, 1)] {
        assert!(
            MatMut::new(&mut e, rows, cols, rs, cs).is_ok(),
            "{rows}x{cols} ({rs}, {cs})"
        );
    }
}

#[test]
fn packed_products_match_a_naive_product_at_every_layout_and_pool_size() {
    // (130, 2100) has more than PANEL_MIN_ELEMENTS elements: three panels, the last one short.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    // (256, 1100): four panels, so two threads get two each.
    for &(m, k) in &[(1, 1), (7, 3), (65, 9), (130, 2100), (256, 1100)] {
        let ad = filled(2 * m * k, 8);
        // Row-major (PyTorch's weights), column-major, a block of a wider column-major matrix,
        // and every other element of a row-major one (both strides above 1).
        let layouts = [
            MatRef::row_major(&ad[..m * k], m, k).unwrap(),
            MatRef::col_major(&ad[..m * k], m, k).unwrap(),
            MatRef::new(&ad, m, k, 1, 2 * m).unwrap(),
            MatRef::new(&ad, m, k, 2 * k, 2).unwrap(),
        ];
        for a in layouts {
            let packed = PackedA::new(a);
            assert_eq!(packed.panels() > 1, m * k > PANEL_MIN_ELEMENTS);
            // One column (the matrix-vector kernel), a few, and more than one call's worth.
            for n in [1, 5, 100] {
                let bd = filled(k * n, 9);
                let b = MatRef::col_major(&bd, k, n).unwrap();
                let want = naive(&a, &b);
                for threads in [1, 2] {
                    // C with a column stride past its rows, like a state's h rows.
                    let cs = m + 3;
                    let run = |c: &mut [f64], alpha, beta| {
                        let c = MatMut::new(c, m, n, 1, cs).unwrap();
                        if threads == 1 {
                            gemm_packed(alpha, &packed, b, beta, c);
                        } else {
                            pool.install(|| gemm_packed(alpha, &packed, b, beta, c));
                        }
                    };
                    let mut c = vec![f64::NAN; cs * n];
                    let at = |c: &[f64], i: usize, j: usize| c[i + j * cs];
                    run(&mut c, 1.0, 0.0);
                    for (i, j) in (0..m).flat_map(|i| (0..n).map(move |j| (i, j))) {
                        let (x, y) = (at(&c, i, j), want[i + j * m]);
                        assert!((x - y).abs() < 1e-9, "{m}x{k}x{n}, {threads} threads");
                    }
                    run(&mut c, 2.0, 1.0);
                    for (i, j) in (0..m).flat_map(|i| (0..n).map(move |j| (i, j))) {
                        let (x, y) = (at(&c, i, j), want[i + j * m]);
                        assert!((x - 3.0 * y).abs() < 1e-9, "{m}x{k}x{n} accumulating");
                    }
                    // The padding rows below each column are never written.
                    let padding_untouched =
                        (0..n).all(|j| c[j * cs + m..(j + 1) * cs].iter().all(|v| v.is_nan()));
                    assert!(padding_untouched, "{m}x{k}x{n}: wrote outside C");
                }
            }
        }
    }
}

#[test]
fn packed_panels_tile_the_matrix() {
    let (m, k) = (300, 1000);
    let ad = filled(m * k, 10);
    let a = MatRef::row_major(&ad, m, k).unwrap();
    let packed = PackedA::new(a);
    assert_eq!((packed.rows(), packed.cols()), (m, k));
    assert_eq!(packed.panels(), m.div_ceil(PANEL_ROWS));
    for p in 0..packed.panels() {
        let panel = packed.panel(p);
        assert_eq!(panel.rows(), PANEL_ROWS.min(m - p * PANEL_ROWS));
        for i in 0..panel.rows() {
            for j in [0, 1, k - 1] {
                assert_eq!(panel.at(i, j), a.at(p * PANEL_ROWS + i, j));
            }
        }
    }
}

#[test]
fn packed_empty_products_scale_c() {
    let a: [f64; 0] = [];
    let packed = PackedA::new(MatRef::col_major(&a, 2, 0).unwrap());
    let mut c = [1.0, 2.0];
    gemm_packed(
        1.0,
        &packed,
        MatRef::col_major(&a, 0, 1).unwrap(),
        0.5,
        MatMut::col_major(&mut c, 2, 1).unwrap(),
    );
    assert_eq!(c, [0.5, 1.0]);
    let none = PackedA::new(MatRef::col_major(&a, 0, 3).unwrap());
    assert_eq!(none.panels(), 0);
    let x = [1.0; 3];
    // No rows: nothing to write, and no panic.
    gemm_packed(
        1.0,
        &none,
        MatRef::col_major(&x, 3, 1).unwrap(),
        0.0,
        MatMut::col_major(&mut [][..], 0, 1).unwrap(),
    );
}
