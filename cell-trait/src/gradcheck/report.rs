//! What a gradient check found.

use std::fmt;

use super::Options;

/// How a group was sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// Every element.
    Every,
    /// Random unit directions (the group was larger than [`Options::max_elements`]).
    Directions,
}

/// The check of one group (a parameter, the input, the initial state).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupReport {
    /// The group's name.
    pub name: String,
    /// How it was sampled.
    pub sampling: Sampling,
    /// Elements (or directions) checked.
    pub checked: usize,
    /// Elements (or directions) outside the tolerance.
    pub failures: usize,
    /// The largest `|analytic - numeric|`.
    pub worst_abs: f64,
    /// The largest `|analytic - numeric| / max(|analytic|, |numeric|, atol)`.
    pub worst_rel: f64,
    /// The element (or direction) with the largest excess over the tolerance, if any was checked.
    pub worst_index: Option<usize>,
    /// Analytic and numeric values at `worst_index`.
    pub worst_pair: (f64, f64),
    worst_excess: f64,
}

impl GroupReport {
    pub(super) fn new(name: String, sampling: Sampling) -> Self {
        Self {
            name,
            sampling,
            checked: 0,
            failures: 0,
            worst_abs: 0.0,
            worst_rel: 0.0,
            worst_index: None,
            worst_pair: (0.0, 0.0),
            worst_excess: f64::NEG_INFINITY,
        }
    }

    pub(super) fn record(&mut self, index: usize, analytic: f64, numeric: f64, opts: &Options) {
        let diff = (analytic - numeric).abs();
        // The scale is floored at atol so that gradients that are zero up to rounding do not
        // report meaningless ratios.
        let rel = diff / analytic.abs().max(numeric.abs()).max(opts.atol);
        let excess = diff - (opts.atol + opts.rtol * numeric.abs());
        self.checked += 1;
        // A NaN anywhere is a failure, never a pass.
        let within = excess <= 0.0;
        if !within {
            self.failures += 1;
        }
        self.worst_abs = self.worst_abs.max(diff);
        self.worst_rel = if rel.is_nan() {
            f64::NAN
        } else {
            self.worst_rel.max(rel)
        };
        if excess.is_nan() || excess > self.worst_excess {
            self.worst_excess = excess;
            self.worst_index = Some(index);
            self.worst_pair = (analytic, numeric);
        }
    }

    /// Whether every checked element was within the tolerance.
    pub fn passed(&self) -> bool {
        self.failures == 0 && !self.worst_rel.is_nan()
    }
}

/// The check of every group.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// One entry per group, in the computation's order.
    pub groups: Vec<GroupReport>,
}

impl Report {
    /// Whether something was checked and every group passed. A report of no values (no groups,
    /// or only empty ones) has not passed: a check that tested nothing proves nothing.
    pub fn passed(&self) -> bool {
        self.checked() > 0 && self.groups.iter().all(GroupReport::passed)
    }

    /// Elements (or directions) checked over all groups.
    pub fn checked(&self) -> usize {
        self.groups.iter().map(|g| g.checked).sum()
    }

    /// The worst relative error over all groups.
    pub fn worst_rel(&self) -> f64 {
        self.groups.iter().map(|g| g.worst_rel).fold(0.0, f64::max)
    }

    /// The group with this name.
    pub fn group(&self, name: &str) -> Option<&GroupReport> {
        self.groups.iter().find(|g| g.name == name)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<20} {:>8} {:>10} {:>12} {:>12}  result",
            "group", "checked", "failures", "worst abs", "worst rel"
        )?;
        if self.checked() == 0 {
            let why = if self.groups.is_empty() {
                "there were no groups"
            } else {
                "every group was empty"
            };
            writeln!(f, "nothing was checked ({why}): not passed")?;
        }
        for g in &self.groups {
            let how = if g.sampling == Sampling::Directions {
                " dirs"
            } else {
                ""
            };
            write!(
                f,
                "{:<20} {:>8} {:>10} {:>12.3e} {:>12.3e}  {}{how}",
                g.name,
                g.checked,
                g.failures,
                g.worst_abs,
                g.worst_rel,
                match (g.checked, g.passed()) {
                    (0, _) => "empty",
                    (_, true) => "ok",
                    (_, false) => "FAIL",
                }
            )?;
            if !g.passed() {
                if let Some(i) = g.worst_index {
                    write!(
                        f,
                        " (worst at {i}: analytic {:.6e}, numeric {:.6e})",
                        g.worst_pair.0, g.worst_pair.1
                    )?;
                }
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_that_checked_nothing_has_not_passed_and_says_why() {
        let none = Report { groups: Vec::new() };
        assert!(!none.passed());
        assert_eq!(none.checked(), 0);
        assert!(none
            .to_string()
            .contains("nothing was checked (there were no groups)"));

        let empty = Report {
            groups: vec![GroupReport::new("input".into(), Sampling::Every)],
        };
        assert!(empty.groups[0].passed(), "an empty group has no failures");
        assert!(!empty.passed());
        let text = empty.to_string();
        assert!(text.contains("every group was empty"), "{text}");
        assert!(text.contains("empty\n"), "{text}");

        let mut one = empty.clone();
        one.groups[0].record(0, 1.0, 1.0, &Options::default());
        assert!(one.passed());
        assert_eq!(one.checked(), 1);
        assert!(!one.to_string().contains("nothing"));
    }
}
