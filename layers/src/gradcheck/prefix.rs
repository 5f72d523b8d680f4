//! Where a failure through time begins: the shortest failing prefix of the sequence.

use rnnzoo_cell::gradcheck::{Options, Report, StepFinding};

/// The earliest step whose contribution disagrees, for a check that failed with `report` over
/// `steps` steps: the shortest prefix (its first `t` steps) whose check of the failing groups
/// fails, found by bisection over `t` in `1..=steps` (a mistake in one step's backward fails every
/// prefix that reaches it). `check_prefix(t, opts)` checks the prefix of `t` steps. `None` if
/// `report` passed or no prefix fails.
pub(super) fn earliest_failing_prefix(
    report: &Report,
    opts: &Options,
    steps: usize,
    mut check_prefix: impl FnMut(usize, &Options) -> Report,
) -> Option<StepFinding> {
    if report.passed() || steps == 0 {
        return None;
    }
    let narrowed = opts.clone().only(&report.failed_groups());
    let (mut lo, mut hi) = (1, steps);
    let mut failed_at = None;
    while lo < hi {
        let mid = (lo + hi) / 2;
        let r = check_prefix(mid, &narrowed);
        if r.passed() {
            lo = mid + 1;
        } else {
            hi = mid;
            failed_at = Some((mid, r));
        }
    }
    let r = match failed_at {
        Some((t, r)) if t == lo => r,
        _ => check_prefix(lo, &narrowed),
    };
    if r.passed() {
        return None;
    }
    let g = r.groups.iter().find(|g| !g.passed())?;
    Some(StepFinding {
        step: lo - 1,
        steps,
        group: g.name.clone(),
        finding: g.first_failure.or(g.worst),
    })
}
