//! GitHub Actions workflow commands: one `::error|warning|notice` line per
//! finding, which the runner turns into an annotation on the file and line.
//!
//! Escaping follows the runner (`@actions/core` `toCommandValue` /
//! `toCommandProperties`): in the message `%`, CR and LF become `%25`, `%0D`,
//! `%0A`; in property values `:` and `,` also become `%3A` and `%2C`. A
//! message therefore always stays on one line and cannot start a second
//! command.

use std::fmt::Write as _;

use crate::check::Report;
use crate::finding::{Finding, Severity};
use crate::source::SourceMap;

/// The command of a severity.
pub fn command(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "notice",
    }
}

/// Escape a message (the text after `::`).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a property value (`file=…`, `title=…`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn message(f: &Finding, sources: &SourceMap) -> String {
    let mut text = f.message.clone();
    for r in &f.related {
        let l = sources.locate(r.span);
        let _ = write!(
            text,
            "\n  {}:{}:{}: {}",
            l.file, l.line, l.column, r.message
        );
    }
    if let Some(note) = &f.note {
        let _ = write!(text, "\nnote: {note}");
    }
    if !f.help.is_empty() {
        let _ = write!(text, "\nhelp: {}", f.help);
    }
    let _ = write!(text, "\nsee: chlint explain {}", f.code);
    text
}

pub fn render(report: &Report, sources: &SourceMap) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let loc = sources.locate(f.primary);
        let mut props = vec![
            format!("file={}", escape_property(&loc.file)),
            format!("line={}", loc.line),
        ];
        // GitHub rejects a column range over several lines: columns only
        // for a span on one line (ruff does the same).
        if loc.end_line == loc.line {
            props.push(format!("col={}", loc.column));
            if loc.end_column > loc.column {
                props.push(format!("endColumn={}", loc.end_column));
            }
        } else {
            props.push(format!("endLine={}", loc.end_line));
        }
        props.push(format!(
            "title={}",
            escape_property(&format!("{} {} ({})", f.code, f.name, f.severity.as_str()))
        ));
        let _ = writeln!(
            out,
            "::{} {}::{}",
            command(f.severity),
            props.join(","),
            escape_data(&message(f, sources))
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_matches_the_runner() {
        assert_eq!(escape_data("a%b\r\nc::d"), "a%25b%0D%0Ac::d");
        assert_eq!(
            escape_property("dir,x/a:b%.xml\n"),
            "dir%2Cx/a%3Ab%25.xml%0A"
        );
    }
}
