//! Where a run's time goes: with `CHLINT_PHASES=1`, each phase of a check
//! prints on stderr when it ends, in milliseconds since the first phase
//! began, with the peak memory so far. A developer's aid for the benchmark (see `bench/`); off, it costs
//! one flag test.

use std::sync::OnceLock;
use std::time::Instant;

/// When the run began, if phases are printed.
fn start() -> Option<Instant> {
    static START: OnceLock<Option<Instant>> = OnceLock::new();
    *START.get_or_init(|| std::env::var_os("CHLINT_PHASES").map(|_| Instant::now()))
}

/// Mark the end of a phase.
pub fn mark(name: &str) {
    if let Some(start) = start() {
        eprintln!(
            "chlint: phase {:8.1} ms {:>7} {name}",
            start.elapsed().as_secs_f64() * 1000.0,
            peak_memory().unwrap_or_default()
        );
    }
}

/// The process's peak resident memory so far (Linux), e.g. `123 MB`.
fn peak_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(format!("{} MB", kb / 1024))
}
