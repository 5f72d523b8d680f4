//! `rnnzoo cells`: the zoo's registry, as a table or as JSON.

use std::fmt::Write as _;

use rnnzoo::zoo::{self, Entry};

/// The registry as JSON: an array with one object per kind (`name`, `label`, `crate`,
/// `rust_type`, `form`, `torch_mode` or null, `cell_mode`, `gates`, `gate_names`, `state`,
/// `reference`, `summary`, `options`).
///
/// # Errors
///
/// If serialisation fails (it does not for the registry's plain data).
pub fn json() -> serde_json::Result<String> {
    serde_json::to_string_pretty(zoo::entries())
}

fn options(e: &Entry) -> String {
    if e.options.is_empty() {
        return "-".into();
    }
    e.options
        .iter()
        .map(|o| format!("{}={}", o.name, o.describe()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The registry as a table, one kind per line, then each kind's reference.
pub fn table() -> String {
    let mut s = format!(
        "{:<18} {:<8} {:<9} {:<15} {:<6} {:<18} {:<21} {}\n",
        "name", "form", "torch", "crate", "state", "gates", "options", "summary"
    );
    for e in zoo::entries() {
        let _ = writeln!(
            s,
            "{:<18} {:<8} {:<9} {:<15} {:<6} {:<18} {:<21} {}",
            e.name,
            e.form.name(),
            e.torch_mode.unwrap_or("-"),
            e.crate_name,
            e.state.join(","),
            match e.gate_names {
                [] => "-".to_string(),
                names => names.join(","),
            },
            options(e),
            e.summary
        );
    }
    s.push('\n');
    for e in zoo::entries() {
        let _ = writeln!(s, "{}: {}", e.name, e.reference);
    }
    s
}
