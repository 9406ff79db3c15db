//! ClickHouse 26.x through chdb-core (embedded, in a Python virtual
//! environment) as a reference for current merge behaviour, users, clusters
//! and server settings.
//!
//! Configuration comes from the environment (`.ci/run` sets it):
//! - `CHLINT_CHDB_PYTHON`: a Python with `chdb-core` installed (required);
//! - `CHLINT_CHDB_SKIP_REASON`: why it is not available (printed).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use super::ch18::run_with_timeout;
use super::live;
use super::scratch::Scratch;

pub const PYTHON_VAR: &str = "CHLINT_CHDB_PYTHON";
pub const SKIP_VAR: &str = "CHLINT_CHDB_SKIP_REASON";

pub struct Chdb {
    pub python: PathBuf,
    pub script: PathBuf,
}

impl Chdb {
    /// The reference, or `None` after printing why the test is skipped. A
    /// Python that is named but cannot import chdb fails the test.
    pub fn detect(test: &str) -> Option<Chdb> {
        let Some(python) = std::env::var_os(PYTHON_VAR).filter(|v| !v.is_empty()) else {
            let reason = std::env::var(SKIP_VAR).unwrap_or_else(|_| {
                format!(
                    "{PYTHON_VAR} is not set, so chdb-core (ClickHouse 26.x) is not run \
                     (.ci/run installs it and sets it; see README, \"Checking against real ClickHouse\")"
                )
            });
            live::skipped(test, &reason);
            return None;
        };
        let python = PathBuf::from(python);
        assert!(
            python.exists(),
            "{PYTHON_VAR}={} does not exist",
            python.display()
        );
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/chdb_probe.py");
        Some(Chdb { python, script })
    }

    /// Load `config` with `env` as the whole environment; the probe's JSON.
    pub fn probe(
        &self,
        config: &Path,
        env: &[(&str, &str)],
        settings: &[&str],
    ) -> Result<Value, String> {
        // `import chdb` reads ./config.xml, and chdb writes to $TMPDIR.
        let cwd = Scratch::new("chdb-cwd")?;
        let tmp = cwd.path().join("tmp");
        std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(&self.python);
        cmd.arg(&self.script)
            .arg(config)
            .args(settings)
            .current_dir(cwd.path())
            .env_clear()
            .env("TMPDIR", &tmp)
            .env("HOME", cwd.path());
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = run_with_timeout(cmd, Duration::from_secs(120))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let last = stdout.lines().last().unwrap_or_default();
        let v: Value = serde_json::from_str(last).map_err(|e| {
            format!(
                "the chdb probe printed no JSON ({e}); exit {:?}\n--- stdout:\n{stdout}\n--- stderr:\n{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
        if let Some(e) = v.get("import_error") {
            panic!(
                "{} cannot import chdb: {e} (an installation problem, not a skip)",
                self.python.display()
            );
        }
        Ok(v)
    }
}
