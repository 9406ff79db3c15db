//! The JSON contract of DESIGN.md: one object with the findings.

use serde::Serialize;

use crate::check::Report;
use crate::source::SourceMap;

#[derive(Serialize)]
struct Output<'a> {
    version: &'static str,
    files_scanned: usize,
    findings: Vec<JsonFinding<'a>>,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'static str,
    name: &'static str,
    severity: &'static str,
    message: &'a str,
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    help: &'a str,
    related: Vec<JsonRelated<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    file: String,
    line: usize,
    column: usize,
    message: &'a str,
}

pub fn render(report: &Report, sources: &SourceMap) -> String {
    let mut out = Vec::new();
    write(report, sources, &mut out).expect("writing to memory");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// [`render`] straight into `out` (a large report is not held twice).
pub fn write(
    report: &Report,
    sources: &SourceMap,
    mut out: impl std::io::Write,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    // Locating is most of the work (line indexes, embedded texts mapped to
    // their host files): done in parallel, in order.
    let findings = report
        .findings
        .par_iter()
        .map(|f| {
            let loc = sources.locate(f.primary);
            JsonFinding {
                rule: f.code,
                name: f.name,
                severity: f.severity.as_str(),
                message: &f.message,
                file: loc.file,
                line: loc.line,
                column: loc.column,
                end_line: loc.end_line,
                end_column: loc.end_column,
                help: &f.help,
                related: f
                    .related
                    .iter()
                    .map(|r| {
                        let l = sources.locate(r.span);
                        JsonRelated {
                            file: l.file,
                            line: l.line,
                            column: l.column,
                            message: &r.message,
                        }
                    })
                    .collect(),
                note: f.note.as_deref(),
            }
        })
        .collect();
    let output = Output {
        version: env!("CARGO_PKG_VERSION"),
        files_scanned: report.files_scanned,
        findings,
    };
    serde_json::to_writer_pretty(&mut out, &output)?;
    out.write_all(b"\n")?;
    out.flush()
}
