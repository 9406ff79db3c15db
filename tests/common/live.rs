//! Output of the tests that run real ClickHouse servers.
//!
//! `cargo test` captures what a passing test prints with `println!`/`eprintln!`.
//! What these tests must always show — that they were skipped and why, how
//! many cases they ran and how long it took — is written to the process's
//! standard error directly, which the harness does not capture.

use std::io::Write as _;

/// Print one line that shows in `cargo test`'s output even when the test passes.
pub fn say(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
    let _ = err.flush();
}

/// Announce that a test does not run, and why.
pub fn skipped(test: &str, reason: &str) {
    say(&format!("SKIPPED: {test}: {reason}"));
}

/// A positive number from the environment, or the default.
pub fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        _ => default,
    }
}

/// How many servers to run at once: `CHLINT_LIVE_JOBS`, else twice the cores, at most 6.
pub fn jobs() -> usize {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    env_usize("CHLINT_LIVE_JOBS", (cores * 2).clamp(2, 6)).max(1)
}
