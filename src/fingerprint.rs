//! Line-independent identities of findings, for SARIF `partialFingerprints`
//! and baselines.
//!
//! A finding is identified by its rule, its file and the *text* of the line
//! its primary location starts on — whitespace collapsed, secret values
//! masked — never by a line number, so adding or removing lines elsewhere in
//! the file keeps every identity. Secrets never enter a hash: a masked run of
//! characters becomes one `*`, so the identity does not even depend on a
//! secret's length (rotating a password keeps the finding's identity).

use sha2::{Digest, Sha256};

use crate::finding::Finding;
use crate::source::{SourceId, SourceMap, Span};

/// Secret ranges by source, sorted and merged once, so that masking the
/// line of each of many findings (here and in the human report) does not
/// scan every secret.
pub struct Secrets(std::collections::HashMap<SourceId, Vec<(u32, u32)>>);

impl Secrets {
    pub fn new(spans: &[Span]) -> Secrets {
        let mut by: std::collections::HashMap<SourceId, Vec<(u32, u32)>> =
            std::collections::HashMap::new();
        for s in spans.iter().filter(|s| s.end > s.start) {
            by.entry(s.source).or_default().push((s.start, s.end));
        }
        for ranges in by.values_mut() {
            ranges.sort_unstable();
            let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
            for &(a, b) in ranges.iter() {
                match merged.last_mut() {
                    Some(last) if a <= last.1 => last.1 = last.1.max(b),
                    _ => merged.push((a, b)),
                }
            }
            *ranges = merged;
        }
        Secrets(by)
    }

    /// The merged ranges that overlap `start..end` of a source.
    pub(crate) fn within(&self, source: SourceId, start: usize, end: usize) -> &[(u32, u32)] {
        let Some(ranges) = self.0.get(&source) else {
            return &[];
        };
        let first = ranges.partition_point(|r| (r.1 as usize) <= start);
        let last = ranges.partition_point(|r| (r.0 as usize) < end);
        &ranges[first..last.max(first)]
    }
}

/// The text of a 1-based line of a source, each run of characters that lie
/// inside a secret span replaced by a single `*`, whitespace runs collapsed to
/// one space, trimmed.
pub fn normalised_line(sources: &SourceMap, span: Span, secrets: &Secrets) -> String {
    let file = sources.get(span.source);
    let (line, _) = file.line_col(span.start);
    let text = file.line_text(line);
    // line_text borrows from the file's text: its pointer gives the offset.
    let start = text.as_ptr() as usize - file.text.as_ptr() as usize;
    let masks = secrets.within(span.source, start, start + text.len());
    let mut out = String::with_capacity(text.len());
    let mut in_secret = false;
    let mut in_space = false;
    for (i, c) in text.char_indices() {
        let at = (start + i) as u32;
        let secret = masks.iter().any(|&(a, b)| a <= at && at < b);
        if secret {
            if !in_secret {
                out.push('*');
            }
            in_secret = true;
            in_space = false;
            continue;
        }
        in_secret = false;
        if c.is_whitespace() {
            if !in_space && !out.is_empty() {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// Hex SHA-256 of the parts, each terminated by a NUL, truncated to 32 digits.
pub fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The line-independent part of a finding's identity: its rule and the
/// normalised text of its primary line (the file is added by the caller, in
/// the form that suits it: a baseline's relative path, a SARIF URI).
pub fn line_hash(f: &Finding, sources: &SourceMap, secrets: &Secrets) -> String {
    digest(&[f.code, &normalised_line(sources, f.primary, secrets)])
}

/// One fingerprint per finding: the hash of rule, `file_key` and normalised
/// primary line, then `:` and the occurrence index among the findings with
/// the same hash (in report order), so that two identical lines stay apart.
pub fn fingerprints(
    findings: &[Finding],
    sources: &SourceMap,
    secrets: &[Span],
    file_key: impl Fn(&Finding) -> String,
) -> Vec<String> {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let secrets = Secrets::new(secrets);
    findings
        .iter()
        .map(|f| {
            let h = digest(&[&line_hash(f, sources, &secrets), &file_key(f)]);
            let n = seen.entry(h.clone()).or_insert(0);
            let out = format!("{h}:{n}");
            *n += 1;
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{SourceFile, SourceKind};

    fn map(text: &str) -> SourceMap {
        let m = SourceMap::default();
        m.add(SourceFile::new(
            "a.xml".into(),
            text.to_string(),
            SourceKind::File,
        ));
        m
    }

    #[test]
    fn secrets_are_masked_and_whitespace_collapsed() {
        let text = "x\n    <password>hunter2</password>   \n";
        let m = map(text);
        let id = crate::source::SourceId(0);
        let at = text.find("hunter2").unwrap();
        let secret = Span::new(id, at, at + 7);
        let line = normalised_line(&m, Span::new(id, at - 10, at), &Secrets::new(&[secret]));
        assert_eq!(line, "<password>*</password>");
        assert!(!line.contains("hunter2"));
    }

    #[test]
    fn a_longer_secret_keeps_the_same_line_text() {
        let a = "<password>abc</password>";
        let b = "<password>a-much-longer-one</password>";
        let (ma, mb) = (map(a), map(b));
        let id = crate::source::SourceId(0);
        let sa = Span::new(id, 10, 13);
        let sb = Span::new(id, 10, b.len() - 11);
        assert_eq!(
            normalised_line(&ma, sa, &Secrets::new(&[sa])),
            normalised_line(&mb, sb, &Secrets::new(&[sb]))
        );
    }
}
