//! The slice loops over the element kernels, once per precision, with run-time selection of an
//! AVX2 or AVX-512 copy on x86-64.
//!
//! Each loop body is written once ([`slice_loops!`]) and compiled three times ([`dispatched!`]).
//! Every copy performs the same IEEE operations in the same order, so their results are
//! bit-identical (`tests::every_f32_copy_agrees_with_the_baseline_bit_for_bit` and its `f64`
//! twin).

/// Defines `$name` (dispatching) over a loop body `$body` written once.
macro_rules! dispatched {
    ($name:ident, $portable:ident, $avx2:ident, $avx512:ident,
     ($($arg:ident: $ty:ty),*), $body:block) => {
        #[inline(always)]
        fn $portable($($arg: $ty),*) $body

        /// # Safety
        ///
        /// The processor must support AVX2.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        unsafe fn $avx2($($arg: $ty),*) $body

        /// # Safety
        ///
        /// The processor must support AVX-512F.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f")]
        unsafe fn $avx512($($arg: $ty),*) $body

        pub(in crate::activation) fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                use crate::simd::{level, Level};
                match level() {
                    // SAFETY: `level` never exceeds what the processor has.
                    Level::Avx512 => return unsafe { $avx512($($arg),*) },
                    // SAFETY: as above.
                    Level::Avx2 => return unsafe { $avx2($($arg),*) },
                    Level::Baseline => {}
                }
            }
            $portable($($arg),*)
        }
    };
}

/// The four slice functions over `$kernel`'s `sigmoid` and `tanh` for element type `$t`, and
/// (in tests) the list of the copies this processor can run.
macro_rules! slice_loops {
    ($t:ty, $kernel:path) => {
        use $kernel as kernel;

        dispatched!(
            sigmoid_in_place, sigmoid_in_place_portable, sigmoid_in_place_avx2,
            sigmoid_in_place_avx512, (x: &mut [$t]), {
            for v in x.iter_mut() {
                *v = kernel::sigmoid(*v);
            }
        });

        dispatched!(
            tanh_in_place, tanh_in_place_portable, tanh_in_place_avx2, tanh_in_place_avx512,
            (x: &mut [$t]), {
            for v in x.iter_mut() {
                *v = kernel::tanh(*v);
            }
        });

        dispatched!(
            sigmoid_of_sum, sigmoid_of_sum_portable, sigmoid_of_sum_avx2, sigmoid_of_sum_avx512,
            (a: &[$t], b: &[$t], out: &mut [$t]), {
            for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
                *o = kernel::sigmoid(a + b);
            }
        });

        dispatched!(
            tanh_of_sum, tanh_of_sum_portable, tanh_of_sum_avx2, tanh_of_sum_avx512,
            (a: &[$t], b: &[$t], out: &mut [$t]), {
            for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
                *o = kernel::tanh(a + b);
            }
        });

        dispatched!(
            sigmoid_pair, sigmoid_pair_portable, sigmoid_pair_avx2, sigmoid_pair_avx512,
            (x: &[$t], pos: &mut [$t], neg: &mut [$t]), {
            for ((&x, p), n) in x.iter().zip(pos.iter_mut()).zip(neg.iter_mut()) {
                (*p, *n) = kernel::sigmoid_pair(x);
            }
        });

        /// One copy of the in-place functions: its name, sigmoid and tanh.
        #[cfg(test)]
        pub(in crate::activation) type Copy = (&'static str, fn(&mut [$t]), fn(&mut [$t]));

        /// One copy of the sum functions: its name, sigmoid and tanh.
        #[cfg(test)]
        pub(in crate::activation) type SumCopy =
            (&'static str, fn(&[$t], &[$t], &mut [$t]), fn(&[$t], &[$t], &mut [$t]));

        /// The copies of `sigmoid_in_place` and `tanh_in_place` this processor can run, by name,
        /// for the bit-identity test.
        #[cfg(test)]
        pub(in crate::activation) fn copies() -> Vec<Copy> {
            let mut all: Vec<Copy> =
                vec![("baseline", sigmoid_in_place_portable, tanh_in_place_portable)];
            #[cfg(target_arch = "x86_64")]
            {
                if std::is_x86_feature_detected!("avx2") {
                    // SAFETY (both): AVX2 was just detected.
                    all.push((
                        "avx2",
                        |x| unsafe { sigmoid_in_place_avx2(x) },
                        |x| unsafe { tanh_in_place_avx2(x) },
                    ));
                }
                if std::is_x86_feature_detected!("avx512f") {
                    // SAFETY (both): AVX-512F was just detected.
                    all.push((
                        "avx512",
                        |x| unsafe { sigmoid_in_place_avx512(x) },
                        |x| unsafe { tanh_in_place_avx512(x) },
                    ));
                }
            }
            all
        }

        /// One copy of `sigmoid_pair`: its name and the function.
        #[cfg(test)]
        pub(in crate::activation) type PairCopy = (&'static str, fn(&[$t], &mut [$t], &mut [$t]));

        /// The copies of `sigmoid_pair` this processor can run, by name.
        #[cfg(test)]
        pub(in crate::activation) fn pair_copies() -> Vec<PairCopy> {
            let mut all: Vec<PairCopy> = vec![("baseline", sigmoid_pair_portable)];
            #[cfg(target_arch = "x86_64")]
            {
                if std::is_x86_feature_detected!("avx2") {
                    // SAFETY: AVX2 was just detected.
                    all.push(("avx2", |x, p, n| unsafe { sigmoid_pair_avx2(x, p, n) }));
                }
                if std::is_x86_feature_detected!("avx512f") {
                    // SAFETY: AVX-512F was just detected.
                    all.push(("avx512", |x, p, n| unsafe { sigmoid_pair_avx512(x, p, n) }));
                }
            }
            all
        }

        /// The copies of `sigmoid_of_sum` and `tanh_of_sum` this processor can run, by name.
        #[cfg(test)]
        pub(in crate::activation) fn sum_copies() -> Vec<SumCopy> {
            let mut all: Vec<SumCopy> =
                vec![("baseline", sigmoid_of_sum_portable, tanh_of_sum_portable)];
            #[cfg(target_arch = "x86_64")]
            {
                if std::is_x86_feature_detected!("avx2") {
                    // SAFETY (both): AVX2 was just detected.
                    all.push((
                        "avx2",
                        |a, b, o| unsafe { sigmoid_of_sum_avx2(a, b, o) },
                        |a, b, o| unsafe { tanh_of_sum_avx2(a, b, o) },
                    ));
                }
                if std::is_x86_feature_detected!("avx512f") {
                    // SAFETY (both): AVX-512F was just detected.
                    all.push((
                        "avx512",
                        |a, b, o| unsafe { sigmoid_of_sum_avx512(a, b, o) },
                        |a, b, o| unsafe { tanh_of_sum_avx512(a, b, o) },
                    ));
                }
            }
            all
        }
    };
}

/// The `f32` loops.
pub(super) mod f32_loops {
    slice_loops!(f32, super::super::kernel_f32);
}

/// The `f64` loops.
pub(super) mod f64_loops {
    slice_loops!(f64, super::super::kernel_f64);
}
