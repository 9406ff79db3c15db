//! rustc-style diagnostics: the line, the span underlined, related
//! locations, a help line. Secret values on a printed line are masked.

use std::fmt::Write as _;

use crate::check::Report;
use crate::finding::{Finding, Severity};
use crate::source::{SourceMap, Span};

pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "1;31",
        Severity::Medium => "1;33",
        Severity::Low => "1;34",
    }
}

pub fn render(report: &Report, sources: &SourceMap, style: &Style) -> String {
    let mut out = String::new();
    for f in &report.findings {
        render_finding(&mut out, f, sources, &report.secret_spans, style);
        out.push('\n');
    }
    out.push_str(&summary(report));
    out
}

fn summary(report: &Report) -> String {
    let n = report.findings.len();
    if n == 0 {
        return format!(
            "No findings in {} ClickHouse file(s).\n",
            report.files_scanned
        );
    }
    let counts: Vec<String> = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ]
    .into_iter()
    .filter_map(|s| {
        let c = report.findings.iter().filter(|f| f.severity == s).count();
        (c > 0).then(|| format!("{c} {}", s.as_str()))
    })
    .collect();
    format!(
        "{n} finding{} ({}) in {} ClickHouse file(s).\n",
        if n == 1 { "" } else { "s" },
        counts.join(", "),
        report.files_scanned
    )
}

fn render_finding(
    out: &mut String,
    f: &Finding,
    sources: &SourceMap,
    secrets: &[Span],
    style: &Style,
) {
    let head = format!("{}[{}]", f.severity.as_str(), f.code);
    let _ = writeln!(
        out,
        "{}: {}",
        style.paint(severity_color(f.severity), &head),
        style.paint("1", &f.message)
    );
    let width = std::iter::once(f.primary)
        .chain(f.related.iter().map(|r| r.span))
        .map(|s| sources.locate(s).line.to_string().len())
        .max()
        .unwrap_or(1);
    snippet(
        out,
        f.primary,
        None,
        "-->",
        sources,
        secrets,
        style,
        width,
        '^',
        severity_color(f.severity),
    );
    for r in &f.related {
        snippet(
            out,
            r.span,
            Some(&r.message),
            ":::",
            sources,
            secrets,
            style,
            width,
            '-',
            "1;36",
        );
    }
    let pad = " ".repeat(width);
    if let Some(note) = &f.note {
        let _ = writeln!(out, "{pad} = {}: {note}", style.paint("1", "note"));
    }
    let _ = writeln!(out, "{pad} = {}: {}", style.paint("1", "help"), f.help);
    let _ = writeln!(
        out,
        "{pad} = {}: chlint explain {}",
        style.paint("1", "see"),
        f.name
    );
}

#[allow(clippy::too_many_arguments)]
fn snippet(
    out: &mut String,
    span: Span,
    label: Option<&str>,
    arrow: &str,
    sources: &SourceMap,
    secrets: &[Span],
    style: &Style,
    width: usize,
    mark: char,
    color: &str,
) {
    let loc = sources.locate(span);
    let pad = " ".repeat(width);
    let _ = writeln!(
        out,
        "{pad}{} {}:{}:{}",
        style.paint("1;34", arrow),
        loc.file,
        loc.line,
        loc.column
    );
    let file = sources.get(span.source);
    if file.opaque {
        // A plan file: its lines hold secrets in clear and are never shown.
        if let Some(l) = label {
            let _ = writeln!(
                out,
                "{pad} {} {}",
                style.paint("1;34", "|"),
                style.paint(color, l)
            );
        }
        return;
    }
    let line = masked_line(file, loc.line, span.source, secrets);
    if line.trim().is_empty() && label.is_none() {
        return;
    }
    let bar = style.paint("1;34", "|");
    let _ = writeln!(out, "{pad} {bar}");
    let _ = writeln!(
        out,
        "{} {bar} {}",
        style.paint("1;34", &format!("{:>width$}", loc.line)),
        line
    );
    // Underline to the end of the span or of its first line.
    let line_len = line.chars().count();
    let end = if loc.end_line == loc.line {
        loc.end_column
    } else {
        line_len + 1
    };
    let len = end.saturating_sub(loc.column).max(1);
    let marks: String = std::iter::repeat_n(mark, len).collect();
    let text = match label {
        Some(l) => format!("{marks} {l}"),
        None => marks,
    };
    let _ = writeln!(
        out,
        "{pad} {bar} {}{}",
        " ".repeat(loc.column - 1),
        style.paint(color, &text)
    );
}

/// The line with every character inside a secret span replaced by `*`.
fn masked_line(
    file: &crate::source::SourceFile,
    line: usize,
    source: crate::source::SourceId,
    secrets: &[Span],
) -> String {
    let text = file.line_text(line);
    let start = line_start_offset(file, line);
    text.char_indices()
        .map(|(i, c)| {
            let at = (start + i) as u32;
            let secret = secrets
                .iter()
                .any(|s| s.source == source && s.start <= at && at < s.end);
            if secret && !c.is_whitespace() {
                '*'
            } else {
                c
            }
        })
        .collect()
}

fn line_start_offset(file: &crate::source::SourceFile, line: usize) -> usize {
    let text = file.line_text(line);
    // line_text borrows from the file's text: its pointer gives the offset.
    text.as_ptr() as usize - file.text.as_ptr() as usize
}
