//! The report plots: log axes (rnnzoo_bench::reproduce::plot).

use rnnzoo_bench::reproduce::plot::*;

#[test]
fn a_log_axis_spans_whole_decades_with_a_tick_at_one() {
    // The gradient-flow curves: from 1 at k = T down to 1e-20.
    let (lo, hi) = decades(3e-21, 1.0);
    assert_eq!((lo, hi), (1e-21, 10.0));
    let ticks = decade_ticks(lo, hi);
    assert!(ticks.contains(&1.0), "{ticks:?}");
    assert_eq!(ticks.first(), Some(&1e-20));
    assert!(ticks.len() <= 13, "{ticks:?}");
    // Few decades: every one is a tick.
    assert_eq!(decade_ticks(1e-3, 10.0), [1e-3, 1e-2, 1e-1, 1.0, 10.0]);
}
