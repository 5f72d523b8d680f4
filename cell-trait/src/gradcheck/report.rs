//! What a gradient check found, and where.

use std::fmt;

use super::{Layout, Location};

/// How a group was sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// Every element.
    Every,
    /// Random unit directions (the group was larger than [`Options::max_elements`](super::Options::max_elements)).
    Directions,
}

/// What one element (or direction) came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Analytic and numeric agree within the tolerance.
    Pass,
    /// They do not (or a value is NaN).
    Fail,
    /// The finite differences do not behave as a smooth function's (a kink, such as a ReLU
    /// changing sides, inside the stencil): the numeric value says nothing about the analytic one.
    NotAssessable,
}

/// One element (or direction) compared: where it is and every number the verdict used.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finding {
    /// Flat index in the group (or the direction's number).
    pub index: usize,
    /// Row, column and gate (or step and sample) of the element; [`Location::Flat`] for a
    /// direction.
    pub location: Location,
    /// The analytic value.
    pub analytic: f64,
    /// The numeric value.
    pub numeric: f64,
    /// The finite difference's estimated error (0 for plain central differences).
    pub fd_error: f64,
    /// The tolerance the difference was held to.
    pub tolerance: f64,
    /// The verdict.
    pub verdict: Verdict,
}

impl Finding {
    /// `|analytic - numeric|`.
    pub fn difference(&self) -> f64 {
        (self.analytic - self.numeric).abs()
    }

    /// How far the difference exceeds the tolerance (negative when within; NaN stays NaN).
    fn excess(&self) -> f64 {
        self.difference() - self.tolerance
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: analytic {:.9e}, numeric {:.9e}, difference {:.3e}, estimated FD error {:.3e}, tolerance {:.3e}",
            self.location,
            self.analytic,
            self.numeric,
            self.difference(),
            self.fd_error,
            self.tolerance
        )
    }
}

/// The check of one group (a parameter, the input, the initial state).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupReport {
    /// The group's name.
    pub name: String,
    /// How it was sampled.
    pub sampling: Sampling,
    /// How its values are laid out (what [`Finding::location`] is read against).
    pub layout: Layout,
    /// Elements (or directions) checked, the not assessable ones included.
    pub checked: usize,
    /// Elements (or directions) outside the tolerance.
    pub failures: usize,
    /// Elements (or directions) whose finite differences were not smooth (see [`Verdict`]).
    pub unassessable: usize,
    /// The largest `|analytic - numeric|` over the assessable elements.
    pub worst_abs: f64,
    /// The largest `|analytic - numeric| / max(|analytic|, |numeric|, floor)` over the
    /// assessable elements, with `floor` the larger of [`Options::atol`](super::Options::atol)
    /// and `1e-8`.
    pub worst_rel: f64,
    /// The element (or direction) with the largest excess over its tolerance, if any was checked.
    pub worst_index: Option<usize>,
    /// Analytic and numeric values at `worst_index`.
    pub worst_pair: (f64, f64),
    /// Everything about `worst_index`: place, values, estimated error, tolerance, verdict.
    pub worst: Option<Finding>,
    /// The first failing element in storage order (for a parameter, the lowest gate and row).
    pub first_failure: Option<Finding>,
    rel_floor: f64,
}

impl GroupReport {
    pub(super) fn new(name: String, sampling: Sampling, layout: Layout, rel_floor: f64) -> Self {
        Self {
            name,
            sampling,
            layout,
            checked: 0,
            failures: 0,
            unassessable: 0,
            worst_abs: 0.0,
            worst_rel: 0.0,
            worst_index: None,
            worst_pair: (0.0, 0.0),
            worst: None,
            first_failure: None,
            rel_floor,
        }
    }

    /// Records one comparison.
    pub(super) fn record(&mut self, finding: Finding) {
        self.checked += 1;
        match finding.verdict {
            Verdict::NotAssessable => {
                self.unassessable += 1;
                return;
            }
            Verdict::Fail => {
                self.failures += 1;
                if self.first_failure.is_none() {
                    self.first_failure = Some(finding);
                }
            }
            Verdict::Pass => {}
        }
        let diff = finding.difference();
        let rel = diff
            / finding
                .analytic
                .abs()
                .max(finding.numeric.abs())
                .max(self.rel_floor);
        self.worst_abs = self.worst_abs.max(diff);
        // A NaN anywhere is a failure, never a pass, and stays visible in worst_rel.
        self.worst_rel = if rel.is_nan() || self.worst_rel.is_nan() {
            f64::NAN
        } else {
            self.worst_rel.max(rel)
        };
        let excess = finding.excess();
        let beaten = match self.worst {
            None => true,
            Some(w) => !w.excess().is_nan() && (excess.is_nan() || excess > w.excess()),
        };
        if beaten {
            self.worst = Some(finding);
            self.worst_index = Some(finding.index);
            self.worst_pair = (finding.analytic, finding.numeric);
        }
    }

    /// Whether every assessable element was within the tolerance (the not assessable ones are
    /// counted in [`GroupReport::unassessable`], not failed: the finite differences say nothing
    /// about them).
    pub fn passed(&self) -> bool {
        self.failures == 0 && !self.worst_rel.is_nan()
    }
}

/// The through-time localisation of a failure (see `rnnzoo_layers::gradcheck`): the shortest
/// prefix of the sequence whose check already fails.
#[derive(Debug, Clone, PartialEq)]
pub struct StepFinding {
    /// The earliest time step (0-based, in input order) whose contribution disagrees: the prefix
    /// of `step + 1` steps fails, the prefix of `step` steps passes.
    pub step: usize,
    /// The steps of the whole check.
    pub steps: usize,
    /// The group that fails on that prefix, and its first failing element there.
    pub group: String,
    /// The first failing element of `group` on that prefix.
    pub finding: Option<Finding>,
}

/// The check of every group.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// One entry per group, in the computation's order.
    pub groups: Vec<GroupReport>,
    /// For a failed check through time, the earliest failing step (None otherwise).
    pub earliest_step: Option<StepFinding>,
}

impl Report {
    /// A report of these groups, with no step localisation.
    pub fn new(groups: Vec<GroupReport>) -> Self {
        Self {
            groups,
            earliest_step: None,
        }
    }

    /// Whether something was checked and every group passed. A report of no values (no groups,
    /// or only empty ones) has not passed: a check that tested nothing proves nothing.
    pub fn passed(&self) -> bool {
        self.checked() > 0 && self.groups.iter().all(GroupReport::passed)
    }

    /// Elements (or directions) checked over all groups.
    pub fn checked(&self) -> usize {
        self.groups.iter().map(|g| g.checked).sum()
    }

    /// Elements (or directions) that were not assessable, over all groups.
    pub fn unassessable(&self) -> usize {
        self.groups.iter().map(|g| g.unassessable).sum()
    }

    /// The worst relative error over all groups (NaN if any group saw a NaN).
    pub fn worst_rel(&self) -> f64 {
        self.groups.iter().map(|g| g.worst_rel).fold(0.0, |a, b| {
            if a.is_nan() || b.is_nan() {
                f64::NAN
            } else {
                a.max(b)
            }
        })
    }

    /// The group with this name.
    pub fn group(&self, name: &str) -> Option<&GroupReport> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// Names the gate of every place this report shows (see [`Location::named`]): `names` are
    /// the cell's gate blocks in row order, as the registry's `gate_names` lists them
    /// (`["i", "f", "g", "o"]` for an LSTM). Tensors of another number of blocks keep their gate
    /// indices.
    ///
    /// ```
    /// use rnnzoo_cell::gradcheck::{check, Differentiable, Layout, Options};
    ///
    /// // A "weight" of 4 gate blocks of 2 rows, 1 column: L(w) = sum_i w_i^3 / 3, whose analytic
    /// // gradient is wrong in row 3 (gate 1, unit 1).
    /// struct Gates(Vec<f64>);
    /// impl Differentiable for Gates {
    ///     fn groups(&self) -> Vec<String> { vec!["weight_hh".into()] }
    ///     fn values_mut(&mut self, _: usize) -> &mut [f64] { &mut self.0 }
    ///     fn loss(&mut self) -> f64 { self.0.iter().map(|w| w * w * w / 3.0).sum() }
    ///     fn gradients(&mut self) -> Vec<Vec<f64>> {
    ///         let mut g: Vec<f64> = self.0.iter().map(|w| w * w).collect();
    ///         g[3] *= 1.0 + 1e-6;
    ///         vec![g]
    ///     }
    ///     fn layout(&self, _: usize) -> Layout { Layout::Param { rows: 8, cols: 1, gates: 4 } }
    /// }
    /// let mut report = check(&mut Gates(vec![0.5; 8]), &Options::default());
    /// report.name_gates(&["i", "f", "g", "o"]);
    /// assert!(report.to_string().contains("row 3 (gate f: 1 of 4, unit 1)"), "{report}");
    /// ```
    pub fn name_gates(&mut self, names: &'static [&'static str]) {
        for g in &mut self.groups {
            for f in [&mut g.worst, &mut g.first_failure].into_iter().flatten() {
                f.location = f.location.named(names);
            }
        }
        if let Some(f) = self.earliest_step.as_mut().and_then(|s| s.finding.as_mut()) {
            f.location = f.location.named(names);
        }
    }

    /// The failing groups' names.
    pub fn failed_groups(&self) -> Vec<&str> {
        self.groups
            .iter()
            .filter(|g| !g.passed())
            .map(|g| g.name.as_str())
            .collect()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<20} {:>8} {:>8} {:>8} {:>12} {:>12}  result",
            "group", "checked", "failures", "n/a", "worst abs", "worst rel"
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
            writeln!(
                f,
                "{:<20} {:>8} {:>8} {:>8} {:>12.3e} {:>12.3e}  {}{how}",
                g.name,
                g.checked,
                g.failures,
                g.unassessable,
                g.worst_abs,
                g.worst_rel,
                match (g.checked, g.passed()) {
                    (0, _) => "empty",
                    (_, true) if g.unassessable == g.checked => "ok (not assessable)",
                    (_, true) => "ok",
                    (_, false) => "FAIL",
                }
            )?;
        }
        for g in self.groups.iter().filter(|g| !g.passed()) {
            if let Some(w) = &g.worst {
                writeln!(f, "  {} worst at {w}", g.name)?;
            }
            if let Some(first) = g.first_failure.filter(|ff| Some(ff.index) != g.worst_index) {
                writeln!(f, "  {} first failure at {first}", g.name)?;
            }
        }
        if let Some(s) = &self.earliest_step {
            write!(
                f,
                "  earliest failing step: {} of {} (the first {} steps pass), in {}",
                s.step, s.steps, s.step, s.group
            )?;
            if let Some(x) = &s.finding {
                write!(f, " at {x}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(index: usize, a: f64, n: f64, tol: f64, verdict: Verdict) -> Finding {
        Finding {
            index,
            location: Location::Flat { index },
            analytic: a,
            numeric: n,
            fd_error: tol,
            tolerance: tol,
            verdict,
        }
    }

    #[test]
    fn a_report_that_checked_nothing_has_not_passed_and_says_why() {
        let none = Report::new(Vec::new());
        assert!(!none.passed());
        assert_eq!(none.checked(), 0);
        assert!(
            none.to_string()
                .contains("nothing was checked (there were no groups)")
        );

        let empty = Report::new(vec![GroupReport::new(
            "input".into(),
            Sampling::Every,
            Layout::Flat,
            1e-8,
        )]);
        assert!(empty.groups[0].passed(), "an empty group has no failures");
        assert!(!empty.passed());
        let text = empty.to_string();
        assert!(text.contains("every group was empty"), "{text}");
        assert!(text.contains("empty\n"), "{text}");

        let mut one = empty.clone();
        one.groups[0].record(finding(0, 1.0, 1.0, 1e-9, Verdict::Pass));
        assert!(one.passed());
        assert_eq!(one.checked(), 1);
        assert!(!one.to_string().contains("nothing"));
    }

    #[test]
    fn an_unassessable_element_is_counted_not_failed_and_a_failure_is_located() {
        let mut g = GroupReport::new("w".into(), Sampling::Every, Layout::Flat, 1e-8);
        g.record(finding(0, 1.0, 5.0, 1e-9, Verdict::NotAssessable));
        assert!(g.passed());
        assert_eq!((g.unassessable, g.failures, g.worst_rel), (1, 0, 0.0));
        assert!(
            Report::new(vec![g.clone()])
                .to_string()
                .contains("ok (not assessable)")
        );
        g.record(finding(1, 1.0, 1.0, 1e-9, Verdict::Pass));
        assert!(g.passed());
        g.record(finding(2, 1.0, 1.0 + 1e-6, 1e-9, Verdict::Fail));
        g.record(finding(3, 2.0, 2.1, 1e-9, Verdict::Fail));
        assert!(!g.passed());
        assert_eq!(g.first_failure.unwrap().index, 2);
        assert_eq!(g.worst_index, Some(3));
        let r = Report::new(vec![g]);
        let text = r.to_string();
        assert!(text.contains("w worst at element 3: analytic"), "{text}");
        assert!(text.contains("w first failure at element 2"), "{text}");
        assert_eq!(r.failed_groups(), ["w"]);
    }
}
