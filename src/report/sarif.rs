//! SARIF 2.1.0, as GitHub code scanning reads it: one run, every rule with
//! its page as help, results with 1-based regions, related locations and a
//! line-independent fingerprint. Only messages and locations are written:
//! no snippet, so no secret value can reach the file.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::check::Report;
use crate::finding::{Finding, Severity};
use crate::rules::{Rule, RULES};
use crate::source::{Location, SourceMap, Span};

pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
pub const INFORMATION_URI: &str = "https://github.com/chlint/chlint";
/// The key chlint's own fingerprint is stored under in `partialFingerprints`.
/// (`primaryLocationLineHash` is left to GitHub's uploader, which computes it
/// from the file and warns when a tool's value differs from its own.)
pub const FINGERPRINT_KEY: &str = "chlint/v1";
const SRCROOT: &str = "%SRCROOT%";

/// SARIF `level` of a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub's `security-severity` score: critical is above 9.0, high 7.0–8.9,
/// medium 4.0–6.9, low 0.1–3.9.
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "7.5",
        Severity::Medium => "5.5",
        Severity::Low => "2.5",
    }
}

/// Where a rule's page is published.
pub fn help_uri(rule: &Rule) -> String {
    format!(
        "{INFORMATION_URI}/blob/main/rules/{}-{}.md",
        rule.code, rule.name
    )
}

fn family(code: &str) -> &'static str {
    match code.as_bytes().get(2) {
        Some(b'0') => "incident",
        Some(b'1') => "authentication",
        Some(b'2') => "network-exposure",
        Some(b'3') => "tls",
        Some(b'4') => "secrets",
        Some(b'5') => "hardening",
        Some(b'9') => "configuration",
        _ => "other",
    }
}

/// The first paragraph of a page's `## What it finds` section (or of the
/// page, after its title), for `fullDescription`: as lines (for markdown).
pub fn full_description_lines(rule: &Rule) -> Vec<&'static str> {
    let page = rule.page();
    let body = page
        .split_once("## What it finds")
        .map(|(_, rest)| rest)
        .unwrap_or(page);
    let para: Vec<&str> = body
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty() || l.starts_with('#'))
        .take_while(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    if para.is_empty() {
        vec![rule.summary]
    } else {
        para
    }
}

/// [`full_description_lines`] as one line of text.
pub fn full_description(rule: &Rule) -> String {
    full_description_lines(rule).join(" ")
}

fn rule_object(rule: &Rule, severity: Severity) -> Value {
    let page = rule.page();
    let full = full_description(rule);
    let full_md = full_description_lines(rule).join("\n");
    json!({
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": full, "markdown": full_md},
        "help": {"text": page, "markdown": page},
        "helpUri": help_uri(rule),
        "defaultConfiguration": {"level": level(severity)},
        "properties": {
            "security-severity": security_severity(severity),
            "severity": severity.as_str(),
            "tags": ["security", "clickhouse", family(rule.code)],
            "precision": "high",
        },
    })
}

/// Percent-encode a path for a URI (RFC 3986 unreserved characters and `/`
/// kept).
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The artifact location of a file: relative to `%SRCROOT%` (the
/// repository root) when it lies under it, a `file:` URI otherwise. Neither
/// depends on how the file was named or where chlint ran.
fn artifact(path: &Path, root: Option<&Path>) -> Value {
    let abs = crate::config_file::absolute(path);
    match root.and_then(|r| abs.strip_prefix(r).ok()) {
        Some(rel) => json!({
            "uri": encode_path(&rel.to_string_lossy().replace('\\', "/")),
            "uriBaseId": SRCROOT
        }),
        None => {
            let mut s = abs.to_string_lossy().replace('\\', "/");
            if !s.starts_with('/') {
                s.insert(0, '/'); // C:/… → /C:/…
            }
            json!({"uri": format!("file://{}", encode_path(&s))})
        }
    }
}

/// The URI a file gets, also part of its findings' fingerprints.
pub fn uri(path: &Path, root: Option<&Path>) -> String {
    artifact(path, root)["uri"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The file a span is reported in, as chlint holds it.
fn host_path(sources: &SourceMap, span: Span) -> &Path {
    &sources.get(sources.to_host(span).source).path
}

fn region(loc: &Location, span: Span) -> Value {
    let mut r = Map::new();
    r.insert("startLine".into(), json!(loc.line));
    r.insert("startColumn".into(), json!(loc.column));
    // A zero-width span (a whole-file finding, a parse error position) is
    // given as its start only.
    if span.end > span.start {
        r.insert("endLine".into(), json!(loc.end_line));
        r.insert("endColumn".into(), json!(loc.end_column.max(1)));
    }
    Value::Object(r)
}

fn physical(sources: &SourceMap, span: Span, root: Option<&Path>) -> Value {
    let loc = sources.locate(span);
    json!({
        "artifactLocation": artifact(host_path(sources, span), root),
        "region": region(&loc, span),
    })
}

fn message_text(f: &Finding) -> String {
    let mut text = f.message.clone();
    if let Some(note) = &f.note {
        text.push_str("\nnote: ");
        text.push_str(note);
    }
    if !f.help.is_empty() {
        text.push_str("\nhelp: ");
        text.push_str(&f.help);
    }
    text
}

/// Render a report. `severity_of` gives each rule's severity in this run
/// (after any configured override); `root` is the repository root
/// (`%SRCROOT%`) file locations are relative to.
pub fn render(
    report: &Report,
    sources: &SourceMap,
    severity_of: &dyn Fn(&Rule) -> Severity,
    root: Option<&Path>,
) -> String {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| rule_object(r, severity_of(r)))
        .collect();
    let fingerprints =
        crate::fingerprint::fingerprints(&report.findings, sources, &report.secret_spans, |f| {
            uri(host_path(sources, f.primary), root)
        });
    // Each result is printed as soon as it is built: as `Value`s, tens of
    // thousands of results took hundreds of megabytes (a map per object).
    let results: Vec<String> = report
        .findings
        .iter()
        .zip(&fingerprints)
        .map(|(f, fp)| {
            let index = RULES.iter().position(|r| r.code == f.code);
            let related: Vec<Value> = f
                .related
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    json!({
                        "id": i + 1,
                        "physicalLocation": physical(sources, r.span, root),
                        "message": {"text": r.message},
                    })
                })
                .collect();
            let mut result = json!({
                "ruleId": f.code,
                "level": level(f.severity),
                "message": {"text": message_text(f)},
                "locations": [{"physicalLocation": physical(sources, f.primary, root)}],
                "partialFingerprints": {FINGERPRINT_KEY: fp},
                "properties": {"severity": f.severity.as_str(), "name": f.name},
            });
            if let Some(i) = index {
                result["ruleIndex"] = json!(i);
            }
            if !related.is_empty() {
                result["relatedLocations"] = Value::Array(related);
            }
            serde_json::to_string_pretty(&result).expect("plain data")
        })
        .collect();
    let mut run = json!({
        "tool": {"driver": {
            "name": "chlint",
            "version": env!("CARGO_PKG_VERSION"),
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "informationUri": INFORMATION_URI,
            "rules": rules,
        }},
        "columnKind": "unicodeCodePoints",
        "results": [],
        "invocations": [invocation(report)],
    });
    if let Some(base) = root.and_then(base_uri) {
        run["originalUriBaseIds"] = json!({SRCROOT: {"uri": base}});
    }
    let log = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [run],
    });
    let text = serde_json::to_string_pretty(&log).expect("plain data") + "\n";
    splice_results(text, &results)
}

/// Put the printed results into the printed log, where `"results": []`
/// stands, indented as `to_string_pretty` would have (the placeholder is the
/// only such text: in a string, the quotes would be escaped).
fn splice_results(text: String, results: &[String]) -> String {
    const EMPTY: &str = "\"results\": []";
    let Some(at) = text.find(EMPTY) else {
        return text;
    };
    if results.is_empty() {
        return text;
    }
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let indent = &text[line_start..at];
    let inner = format!("{indent}  ");
    let mut out = String::with_capacity(
        text.len() + results.iter().map(|r| r.len() + r.len() / 8).sum::<usize>(),
    );
    out.push_str(&text[..at]);
    out.push_str("\"results\": [\n");
    for (i, r) in results.iter().enumerate() {
        if i > 0 {
            out.push_str(",\n");
        }
        for (j, line) in r.lines().enumerate() {
            if j > 0 {
                out.push('\n');
            }
            out.push_str(&inner);
            out.push_str(line);
        }
    }
    out.push('\n');
    out.push_str(indent);
    out.push(']');
    out.push_str(&text[at + EMPTY.len()..]);
    out
}

fn invocation(report: &Report) -> Value {
    let notes: Vec<Value> = report
        .internal_errors
        .iter()
        .map(|e| json!({"level": "error", "message": {"text": e}}))
        .collect();
    let mut inv = json!({"executionSuccessful": report.internal_errors.is_empty()});
    if !notes.is_empty() {
        inv["toolExecutionNotifications"] = Value::Array(notes);
    }
    inv
}

/// `file:///abs/dir/` for a folder.
fn base_uri(dir: &Path) -> Option<String> {
    let dir: PathBuf = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(dir)
    };
    let mut s = dir.to_string_lossy().replace('\\', "/");
    if !s.starts_with('/') {
        s.insert(0, '/'); // C:/… → /C:/…
    }
    if !s.ends_with('/') {
        s.push('/');
    }
    Some(format!("file://{}", encode_path(&s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        let root = Some(Path::new("/repo"));
        assert_eq!(uri(Path::new("/repo/conf/a b.xml"), root), "conf/a%20b.xml");
        assert_eq!(
            uri(Path::new("/etc/ch/config.xml"), root),
            "file:///etc/ch/config.xml"
        );
        assert_eq!(uri(Path::new("/repo/ü.xml"), root), "%C3%BC.xml");
        // The same file however it is spelled.
        assert_eq!(
            uri(Path::new("/repo/x/../conf/./a.xml"), root),
            "conf/a.xml"
        );
    }

    #[test]
    fn every_rule_has_a_full_description() {
        for r in RULES {
            let d = full_description(r);
            assert!(!d.is_empty() && !d.starts_with('#'), "{}: {d:?}", r.code);
        }
    }
}
