//! Baselines: adopt chlint on a repository with known findings, and fail
//! only on new ones.
//!
//! `--write-baseline FILE` records every current finding; `--baseline FILE`
//! reports only findings that are not recorded. A finding is recorded as
//! rule + file (relative to the baseline's folder, so the run's working
//! folder does not matter) + a hash of the normalised, secret-masked text
//! of the line it points at: no line number, so edits elsewhere in the file
//! do not bring old findings back. Equal keys are counted: a baseline with
//! one `CH104` on `<password>*</password>` in a file excuses one such
//! finding there, not a second one added later.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config_file::absolute;
use crate::finding::Finding;
use crate::fingerprint::{line_hash, Secrets};
use crate::source::{SourceMap, Span};

pub const FORMAT_VERSION: u32 = 1;

/// Largest baseline read.
const MAX_SIZE: u64 = 16 * 1024 * 1024;

/// A JSON error without the file's text (the baseline may be a link to
/// anything in the repository): line, column and the redacted message.
fn json_error(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full);
    crate::safe_file::parse_error(
        e.line(),
        e.column(),
        message,
        &[
            "tool",
            "version",
            "findings",
            "rule",
            "file",
            "fingerprint",
            "message",
        ],
    )
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// What wrote the file (informative).
    #[serde(default)]
    tool: String,
    version: u32,
    findings: Vec<Entry>,
}

#[derive(Debug, Serialize, Deserialize, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
struct Entry {
    rule: String,
    file: String,
    fingerprint: String,
    /// For the reader of the file; not part of the key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    message: String,
}

/// The key of a finding, relative to a baseline's folder.
fn key(
    f: &Finding,
    sources: &SourceMap,
    secrets: &Secrets,
    dir: &Path,
) -> (String, String, String) {
    let path = &sources.get(sources.to_host(f.primary).source).path;
    (
        f.code.to_string(),
        relative_file(&absolute(path), dir),
        line_hash(f, sources, secrets),
    )
}

/// A file as a baseline records it: relative to the baseline's folder
/// (`..` where it lies outside), so that the baseline can be committed and
/// used from any working folder.
fn relative_file(path: &Path, dir: &Path) -> String {
    crate::paths::relative_to(path, dir)
        .to_string_lossy()
        .replace('\\', "/")
}

/// The baseline's folder, its links resolved (files are held that way).
fn dir_of(path: &Path) -> PathBuf {
    crate::paths::canonical_name(path)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Write the findings as a baseline; returns how many were written.
pub fn write(
    path: &Path,
    findings: &[Finding],
    sources: &SourceMap,
    secrets: &[Span],
) -> Result<usize, String> {
    let dir = dir_of(path);
    let secrets = Secrets::new(secrets);
    let mut entries: Vec<Entry> = findings
        .iter()
        .map(|f| {
            let (rule, file, fingerprint) = key(f, sources, &secrets, &dir);
            Entry {
                rule,
                file,
                fingerprint,
                message: f.message.clone(),
            }
        })
        .collect();
    entries.sort();
    let out = File {
        tool: format!("chlint {}", env!("CARGO_PKG_VERSION")),
        version: FORMAT_VERSION,
        findings: entries,
    };
    let text = serde_json::to_string_pretty(&out).expect("plain data") + "\n";
    crate::safe_file::repository_root()
        .and_then(|root| crate::safe_file::write_text(path, &root, &text))
        .map_err(|e| format!("{}: cannot write the baseline: {e}", path.display()))?;
    Ok(out.findings.len())
}

/// The recorded findings of a baseline's text, as (rule, file, fingerprint),
/// in the file's order.
pub fn keys(shown: &Path, text: &str) -> Result<Vec<(String, String, String)>, String> {
    let file: File = serde_json::from_str(text).map_err(|e| {
        format!(
            "{}: not a chlint baseline: {}",
            shown.display(),
            json_error(&e)
        )
    })?;
    if file.version != FORMAT_VERSION {
        return Err(format!(
            "{}: baseline format {} is not supported (this chlint reads {FORMAT_VERSION})",
            shown.display(),
            file.version
        ));
    }
    Ok(file
        .findings
        .into_iter()
        .map(|e| (e.rule, e.file, e.fingerprint))
        .collect())
}

/// Fail now when `path` cannot be written as a baseline (a link out of the
/// repository, a FIFO…), before the run's work.
pub fn check_writable(path: &Path) -> Result<(), String> {
    crate::safe_file::repository_root()
        .and_then(|root| crate::safe_file::write_target(path, &root))
        .map(|_| ())
        .map_err(|e| format!("{}: cannot write the baseline: {e}", path.display()))
}

/// A baseline, read.
#[derive(Debug)]
pub struct Baseline {
    dir: PathBuf,
    counts: HashMap<(String, String, String), usize>,
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, String> {
        let text = crate::safe_file::repository_root()
            .and_then(|root| crate::safe_file::read_text(path, &root, MAX_SIZE))
            .map_err(|e| format!("{}: cannot read the baseline: {e}", path.display()))?;
        Self::from_text(path, path, &text)
    }

    /// A baseline's text, read elsewhere (from a commit): its file names are
    /// relative to `path`'s folder; errors name it `shown`.
    pub fn from_text(path: &Path, shown: &Path, text: &str) -> Result<Baseline, String> {
        let dir = dir_of(path);
        let mut counts = HashMap::new();
        for (rule, file, fingerprint) in keys(shown, text)? {
            // Older baselines recorded files outside the folder absolute.
            let file = if Path::new(&file).is_absolute() {
                relative_file(Path::new(&file), &dir)
            } else {
                file
            };
            *counts.entry((rule, file, fingerprint)).or_insert(0) += 1;
        }
        Ok(Baseline { dir, counts })
    }

    /// Keep the findings that are not in the baseline; returns how many
    /// were dropped.
    pub fn filter(
        &self,
        findings: &mut Vec<Finding>,
        sources: &SourceMap,
        secrets: &[Span],
    ) -> usize {
        let mut left = self.counts.clone();
        let before = findings.len();
        let secrets = Secrets::new(secrets);
        findings.retain(
            |f| match left.get_mut(&key(f, sources, &secrets, &self.dir)) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    false
                }
                _ => true,
            },
        );
        before - findings.len()
    }
}
