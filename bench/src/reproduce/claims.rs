//! The article's claims, checked: one row per claim, in `summary.json` and at the top of
//! `REPORT.md`.
//!
//! An experiment lists its claims under `results.summary_rows` in its `NAME.json` (beside other
//! rows, such as the gradient checker's); a row with a `claim` field is one of these. Its id is
//! stable (`adding-lstm-t100`), so that runs can be compared across versions and seeds.

use serde::Serialize;

/// One claim of the literature and what this run measured of it.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    /// Stable identifier, e.g. `adding-lstm-t100`.
    pub id: String,
    /// What is claimed, in one sentence, with the criterion that decides it.
    pub claim: String,
    /// Where it is published (paper, section, figure or table), or how it was measured.
    pub reference: String,
    /// The published figure, in the source's own terms.
    pub published: String,
    /// Our figure.
    pub measured: String,
    /// Whether the measured figure meets the criterion of `claim`.
    pub holds: bool,
}

impl Claim {
    /// A row as JSON, for `summary_rows`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// An experiment's own list of its claims, for its report section: one line each, id, verdict
/// and what was measured.
///
/// ```
/// use rnnzoo_bench::reproduce::claims::{Claim, list_markdown};
/// let c = Claim {
///     id: "x".into(), claim: "c".into(), reference: "r".into(),
///     published: "p".into(), measured: "m".into(), holds: true,
/// };
/// assert_eq!(list_markdown(&[c]), "\nThe claims this experiment checks:\n\n- `x`: holds: m.\n");
/// ```
pub fn list_markdown(claims: &[Claim]) -> String {
    let mut md = String::from("\nThe claims this experiment checks:\n\n");
    for c in claims {
        md += &format!(
            "- `{}`: {}: {}.\n",
            c.id,
            if c.holds { "holds" } else { "does not hold" },
            c.measured
        );
    }
    md
}

/// The verdicts table: every row of `rows` that has a `claim`, in order.
///
/// ```
/// use rnnzoo_bench::reproduce::claims::{Claim, verdicts_markdown};
/// let c = Claim {
///     id: "x".into(), claim: "a | b".into(), reference: "r".into(),
///     published: "p".into(), measured: "m".into(), holds: false,
/// };
/// let md = verdicts_markdown(&[c.json()]);
/// assert!(md.contains("| `x` | a \\| b | r | p | m | does not hold |"));
/// ```
pub fn verdicts_markdown(rows: &[serde_json::Value]) -> String {
    let claims: Vec<&serde_json::Value> =
        rows.iter().filter(|r| r.get("claim").is_some()).collect();
    if claims.is_empty() {
        return String::new();
    }
    let cell = |r: &serde_json::Value, k: &str| {
        r.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .replace('|', "\\|")
    };
    let mut md = String::from(
        "## The claims, checked\n\n| id | claim | reference | published | measured here | verdict |\n\
         | --- | --- | --- | --- | --- | --- |\n",
    );
    for r in claims {
        let verdict = match r.get("holds").and_then(|v| v.as_bool()) {
            Some(true) => "holds",
            Some(false) => "does not hold",
            None => "not decided",
        };
        md += &format!(
            "| `{}` | {} | {} | {} | {} | {verdict} |\n",
            cell(r, "id"),
            cell(r, "claim"),
            cell(r, "reference"),
            cell(r, "published"),
            cell(r, "measured"),
        );
    }
    md.push('\n');
    md
}
