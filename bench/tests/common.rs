//! What every test of the program runs it with.

use std::process::{Command, Output};

/// The `rnnzoo` program under test.
pub fn rnnzoo() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rnnzoo"))
}

/// The run's standard output, after checking it succeeded (its standard error otherwise).
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// The refusal's message, after checking it is an error with exit status 1 and not a panic.
pub fn refused(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}
