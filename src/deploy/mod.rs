//! Deployment frontends: each lowers one format (compose, Kubernetes, the
//! Altinity and ClickHouse operators, Helm values) into the same model as a
//! plain ClickHouse configuration — the effective configuration it implies
//! and the network path to it. Rules never learn which format a fact came
//! from.

pub mod compose;
pub mod container;
pub mod embed;
pub mod image;
pub mod value;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::clickhouse::load::{ConfigNote, Workspace};
use crate::model::Server;
use crate::source::SourceId;
use crate::syntax::yaml;
use value::Value;

/// What the deployment frontends found.
#[derive(Debug, Default)]
pub struct DeployOutput {
    pub servers: Vec<Server>,
    /// Files (or embedded texts) that could not be used.
    pub notes: Vec<ConfigNote>,
    /// Repository files a deployment mounts into a server: they are checked
    /// as part of it, not on their own.
    pub consumed: BTreeSet<PathBuf>,
    /// Deployment files recognised.
    pub files: BTreeSet<PathBuf>,
}

fn is_yaml_name(path: &Path) -> bool {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| e == "yaml" || e == "yml")
}

/// A YAML file's documents, or the note that it does not parse.
fn documents(
    ws: &mut Workspace,
    path: &Path,
) -> Option<(SourceId, Result<Vec<Value>, ConfigNote>)> {
    let source = ws.source_of(path)?;
    let text = &ws.sources.get(source).text;
    Some((source, parse_text(source, text, ws)))
}

fn parse_text(source: SourceId, text: &str, ws: &Workspace) -> Result<Vec<Value>, ConfigNote> {
    match parse_lenient(source, text, &ws.limits) {
        Ok(docs) => Ok(docs.iter().map(Value::from_yaml).collect()),
        Err(error) => Err(ConfigNote::Invalid { source, error }),
    }
}

/// Parse YAML as the tools that read deployment files do (Go's yaml.v3,
/// PyYAML): they accept a flow collection whose closing bracket sits on its
/// own line at the indentation of the key that opened it, which the parser
/// rejects. Such a line is joined to the one before it (a newline becomes a
/// space, so every offset stays the same) and parsing is retried.
pub fn parse_lenient(
    source: SourceId,
    text: &str,
    limits: &crate::syntax::Limits,
) -> Result<Vec<yaml::YamlNode>, crate::syntax::ParseError> {
    let mut patched: Option<String> = None;
    let first_error = match yaml::parse_documents(source, text, limits) {
        Ok(d) => return Ok(d),
        Err(e) => e,
    };
    let mut error = first_error.clone();
    for _ in 0..256 {
        if error.message != "invalid indentation" {
            return Err(first_error);
        }
        let t = patched.take().unwrap_or_else(|| text.to_string());
        let at = error.offset.min(t.len());
        let line_start = t[..at].rfind('\n').map_or(0, |i| i + 1);
        let closing = t[at..].starts_with([']', '}']) && t[line_start..at].trim().is_empty();
        let prev_start = t[..line_start.saturating_sub(1)]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        if !closing || line_start == 0 || t[prev_start..line_start].contains('#') {
            return Err(first_error);
        }
        let mut bytes = t.into_bytes();
        bytes[line_start - 1] = b' ';
        if line_start >= 2 && bytes[line_start - 2] == b'\r' {
            bytes[line_start - 2] = b' ';
        }
        let t = String::from_utf8(bytes).expect("ASCII replaced by ASCII");
        match yaml::parse_documents(source, &t, limits) {
            Ok(d) => return Ok(d),
            Err(e) => error = e,
        }
        patched = Some(t);
    }
    Err(first_error)
}

/// Find and lower every deployment file among `files`.
pub fn discover(ws: &mut Workspace, files: &BTreeSet<PathBuf>) -> DeployOutput {
    let mut out = DeployOutput::default();
    let mut compose_files = Vec::new();
    for path in files {
        if !is_yaml_name(path) {
            continue;
        }
        let named_compose = compose::is_compose_name(path);
        let Some((source, docs)) = documents(ws, path) else {
            continue;
        };
        let docs = match docs {
            Ok(d) => d,
            Err(note) => {
                if named_compose {
                    out.files.insert(path.clone());
                    out.notes.push(note);
                }
                continue;
            }
        };
        if let [doc] = docs.as_slice() {
            if compose::looks_like_compose(doc) || (named_compose && doc.get("services").is_some())
            {
                out.files.insert(path.clone());
                compose_files.push(compose::ComposeFile {
                    path: path.clone(),
                    source,
                    doc: doc.clone(),
                });
                continue;
            }
        }
    }
    compose::lower(ws, compose_files, &mut out);
    out
}
