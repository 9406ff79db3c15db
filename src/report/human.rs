//! rustc-style diagnostics: the line, the span underlined, related
//! locations, a help line. Secret values on a printed line are masked.

use std::fmt::Write as _;

use crate::check::Report;
use crate::finding::{Finding, Severity};
use crate::fingerprint::Secrets;
use crate::source::{SourceFile, SourceMap, Span};

/// Lines longer than this (in bytes) are shown as a window around the
/// location, so that a finding on a 20 MB line prints a few hundred bytes.
const LONG_LINE: usize = 300;
/// Characters shown before the location on a long line.
const WINDOW_BEFORE: usize = 80;
/// Characters shown in all on a long line.
const WINDOW: usize = 200;

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
    let masks = Secrets::new(&report.secret_spans);
    for f in &report.findings {
        render_finding(&mut out, f, sources, &masks, style);
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
            report.clickhouse_files
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
        report.clickhouse_files
    )
}

fn render_finding(
    out: &mut String,
    f: &Finding,
    sources: &SourceMap,
    secrets: &Secrets,
    style: &Style,
) {
    let head = format!("{}[{}]", f.severity.as_str(), f.code);
    let _ = writeln!(
        out,
        "{}: {}",
        style.paint(severity_color(f.severity), &head),
        style.paint("1", &printable(&f.message))
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
            Some(&printable(&r.message)),
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
        let _ = writeln!(
            out,
            "{pad} = {}: {}",
            style.paint("1", "note"),
            printable(note)
        );
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
    secrets: &Secrets,
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
        printable(&loc.file),
        loc.line,
        loc.column
    );
    let file = sources.get(span.source);
    if file.is_opaque() {
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
    let shown = shown_line(file, loc.line, span, secrets);
    if shown.text.trim().is_empty() && label.is_none() {
        return;
    }
    let bar = style.paint("1;34", "|");
    let _ = writeln!(out, "{pad} {bar}");
    let _ = writeln!(
        out,
        "{} {bar} {}",
        style.paint("1;34", &format!("{:>width$}", loc.line)),
        shown.text
    );
    let marks: String = std::iter::repeat_n(mark, shown.underline.max(1)).collect();
    let text = match label {
        Some(l) => format!("{marks} {l}"),
        None => marks,
    };
    let _ = writeln!(
        out,
        "{pad} {bar} {}{}",
        " ".repeat(shown.column - 1),
        style.paint(color, &text)
    );
}

/// Text from a repository as printed: control characters (a terminal's
/// escape sequences, carriage returns) each become one `�`, so that a file
/// cannot rewrite the output around it. One character stays one character.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\t') {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.chars()
            .map(|c| {
                if c.is_control() && c != '\t' {
                    '\u{FFFD}'
                } else {
                    c
                }
            })
            .collect(),
    )
}

/// A line as printed: masked, cut to a window around the span when long.
struct Shown {
    text: String,
    /// 1-based column of the span's start in `text`.
    column: usize,
    /// Characters to underline.
    underline: usize,
}

/// Back up `n` characters from byte `at`, not before `floor`.
fn back_chars(text: &str, mut at: usize, n: usize, floor: usize) -> usize {
    for _ in 0..n {
        if at <= floor {
            break;
        }
        at -= 1;
        while at > floor && !text.is_char_boundary(at) {
            at -= 1;
        }
    }
    at
}

/// Go forward `n` characters from byte `at`, not past `ceiling`.
fn forward_chars(text: &str, mut at: usize, n: usize, ceiling: usize) -> usize {
    for _ in 0..n {
        if at >= ceiling {
            break;
        }
        at += 1;
        while at < ceiling && !text.is_char_boundary(at) {
            at += 1;
        }
    }
    at
}

fn shown_line(file: &SourceFile, line: usize, span: Span, secrets: &Secrets) -> Shown {
    let text = &file.text;
    let start = file.line_offset(line).min(text.len());
    let end = start + file.line_text(line).len();
    let mut at = (span.start as usize).clamp(start, end);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let mut span_end = (span.end as usize).clamp(at, end);
    while !text.is_char_boundary(span_end) {
        span_end -= 1;
    }
    let (from, to) = if end - start <= LONG_LINE {
        (start, end)
    } else {
        let from = back_chars(text, at, WINDOW_BEFORE, start);
        (from, forward_chars(text, from, WINDOW, end))
    };
    let lead = if from > start { "…" } else { "" };
    let trail = if to < end { "…" } else { "" };
    let masks = secrets.within(span.source, from, to);
    let masked: String = text[from..to]
        .char_indices()
        .map(|(i, c)| {
            let at = (from + i) as u32;
            let secret = masks.iter().any(|&(a, b)| a <= at && at < b);
            if secret && !c.is_whitespace() {
                '*'
            } else {
                c
            }
        })
        .collect();
    let column = lead.chars().count() + text[from..at].chars().count() + 1;
    // A span that runs past the line is underlined to the line's end.
    let underline = text[at..span_end.min(to).max(at)].chars().count();
    Shown {
        text: format!("{lead}{}{trail}", printable(&masked)),
        column,
        underline,
    }
}
