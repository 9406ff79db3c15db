//! Deployment formats end to end: the shared corpus of real deployment files
//! (compose, Kubernetes, operator resources, Helm values) is read without a
//! crash and without a parse error, and secrets written in deployment files
//! never reach the output.
//!
//! When the shared folder is missing the corpus test fails, unless
//! `CHLINT_SKIP_SHARED=1` is set.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str], path: &Path) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_chlint"))
        .current_dir(manifest_dir())
        .args(args)
        .arg(path)
        .env("NO_COLOR", "1")
        .output()
        .expect("chlint runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn corpus(sub: &str) -> Option<PathBuf> {
    let rel = PathBuf::from("../shared/corpus").join(sub);
    if manifest_dir().join(&rel).is_dir() {
        return Some(rel);
    }
    if std::env::var("CHLINT_SKIP_SHARED").as_deref() == Ok("1") {
        return None;
    }
    panic!(
        "the shared corpus is missing: {} is not a folder (set CHLINT_SKIP_SHARED=1 to skip)",
        manifest_dir().join(&rel).display()
    );
}

/// Deployment files a real cluster or `docker compose` accepts: no crash,
/// valid JSON, no CH900.
#[test]
fn deployment_corpus_is_read_without_parse_errors() {
    let mut problems = Vec::new();
    for sub in ["compose", "k8s", "operator-chi", "helm-values"] {
        let Some(dir) = corpus(sub) else { return };
        let (code, stdout, stderr) = run(&["check", "--format", "json"], &dir);
        assert!(
            matches!(code, Some(0 | 1)),
            "{sub}: exit {code:?}\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{sub} panicked:\n{stderr}");
        let json: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{sub}: invalid JSON ({e}):\n{stdout}"));
        let findings = json["findings"].as_array().cloned().unwrap_or_default();
        eprintln!(
            "{sub}: {} files, {} findings",
            json["files_scanned"],
            findings.len()
        );
        for f in findings.iter().filter(|f| f["rule"] == "CH900") {
            problems.push(format!(
                "{}:{}: {}",
                f["file"].as_str().unwrap_or_default(),
                f["line"],
                f["message"].as_str().unwrap_or_default()
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "CH900 on corpus files:\n{}",
        problems.join("\n")
    );
}

/// Passwords written in testdata/rules/CH450/fires.
const COMPOSE_SECRET: &str = "Zr8q-tmV2-9kLp-XwA4";

#[test]
fn secrets_in_deployment_files_are_never_printed() {
    let dir = manifest_dir().join("testdata/rules/CH450/fires");
    let written = std::fs::read_to_string(dir.join("docker-compose.yml")).expect("fixture");
    assert!(written.contains(COMPOSE_SECRET));
    for format in ["human", "json"] {
        let (code, stdout, stderr) = run(&["check", "--format", format], &dir);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stdout.contains("CH450"), "{stdout}");
        assert!(
            !stdout.contains(COMPOSE_SECRET) && !stderr.contains(COMPOSE_SECRET),
            "{format} output leaks the password:\n{stdout}"
        );
    }
}
