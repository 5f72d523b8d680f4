//! proptest strategies for gradient-check suites, ours and plugin crates' alike.
//!
//! A cell in another crate gets the same randomised checks as rnnzoo's own cells: draw an
//! [`UnrollCase`] and hand it to `rnnzoo_layers::gradcheck::check_unrolled`.
//!
//! ```
//! use proptest::prelude::*;
//! use rnnzoo_cell::strategies::{unroll_case, SizeRanges};
//!
//! proptest!(ProptestConfig::with_cases(8), |(case in unroll_case(SizeRanges::default()))| {
//!     prop_assert!(case.batch >= 1 && case.steps >= 1);
//!     if let Some(l) = &case.lengths {
//!         prop_assert!(l.iter().all(|&n| (1..=case.steps).contains(&n)));
//!     }
//! });
//! ```

use std::ops::RangeInclusive;

use proptest::prelude::*;

/// Ranges of the sizes an [`UnrollCase`] draws from.
#[derive(Debug, Clone)]
pub struct SizeRanges {
    /// Input size.
    pub input: RangeInclusive<usize>,
    /// Hidden size.
    pub hidden: RangeInclusive<usize>,
    /// Batch.
    pub batch: RangeInclusive<usize>,
    /// Sequence length.
    pub steps: RangeInclusive<usize>,
}

impl Default for SizeRanges {
    /// Input and hidden 1..=8, batch 1..=4, steps 1..=8: small enough to check every element.
    fn default() -> Self {
        Self {
            input: 1..=8,
            hidden: 1..=8,
            batch: 1..=4,
            steps: 1..=8,
        }
    }
}

/// One randomised unroll to check: sizes, per-sample lengths, direction, initial state, seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnrollCase {
    /// Input size.
    pub input: usize,
    /// Hidden size.
    pub hidden: usize,
    /// Batch.
    pub batch: usize,
    /// Sequence length `T`.
    pub steps: usize,
    /// Per-sample valid lengths (each in `1..=T`, unsorted), or `None` for all `T`.
    pub lengths: Option<Vec<usize>>,
    /// Run the sequence reversed (each sample's valid prefix).
    pub reverse: bool,
    /// Pass an initial state (otherwise zeros).
    pub initial_state: bool,
    /// Seed of the parameters, inputs and cotangents.
    pub seed: u64,
}

/// Per-sample lengths in `1..=steps`, unsorted.
pub fn lengths(batch: usize, steps: usize) -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(1..=steps.max(1), batch)
}

/// Random [`UnrollCase`]s with sizes in `ranges`.
pub fn unroll_case(ranges: SizeRanges) -> impl Strategy<Value = UnrollCase> {
    (ranges.input, ranges.hidden, ranges.batch, ranges.steps)
        .prop_flat_map(|(input, hidden, batch, steps)| {
            (
                Just((input, hidden, batch, steps)),
                proptest::option::of(lengths(batch, steps)),
                any::<bool>(),
                any::<bool>(),
                any::<u64>(),
            )
        })
        .prop_map(
            |((input, hidden, batch, steps), lengths, reverse, initial_state, seed)| UnrollCase {
                input,
                hidden,
                batch,
                steps,
                lengths,
                reverse,
                initial_state,
                seed,
            },
        )
}
