//! Helpers shared by the integration tests. Each test binary includes this
//! module and uses part of it.
#![allow(dead_code)]

pub mod bounded;
pub mod ch18;
pub mod chdb;
pub mod live;
pub mod overlays;
pub mod scratch;
pub mod snapshot;
pub mod unified_diff;
pub mod xml_compare;

use std::path::Path;
use std::process::{Command, Output};

/// `chlint merged FILE [--clickhouse-version V] [--env-file F]`.
pub fn run_merged(file: &Path, version: &str, env_file: Option<&Path>) -> Result<Output, String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chlint"));
    cmd.arg("merged")
        .arg(file)
        .args(["--clickhouse-version", version])
        // Compared with the server's own tree, secrets included.
        .arg("--show-secrets");
    if let Some(env_file) = env_file {
        cmd.arg("--env-file").arg(env_file);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run chlint: {e}"))?;
    if out.status.code().is_none() {
        return Err(format!(
            "`chlint merged {}` was killed by a signal\n--- stderr:\n{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out)
}

/// Run chlint with arguments; `Err` when it cannot run or dies by a signal.
pub fn run_chlint<I, S>(args: I) -> Result<Output, String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = Command::new(env!("CARGO_BIN_EXE_chlint"))
        .args(args)
        .output()
        .map_err(|e| format!("cannot run chlint: {e}"))?;
    if out.status.code().is_none() {
        return Err(format!(
            "chlint was killed by a signal\n--- stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out)
}
