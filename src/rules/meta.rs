//! CH9xx: configuration that does not mean what it says — files that do not
//! parse, YAML ClickHouse ignores, merges that leave old values in place.

use super::rule;
use crate::clickhouse::load::ConfigNote;
use crate::clickhouse::merge::MergeNote;
use crate::clickhouse::yaml_map::YamlNote;
use crate::finding::{Finding, Related};
use crate::source::{SourceFile, SourceKind, SourceMap, Span};

fn finding(code: &str, primary: Span, message: String, help: &str) -> Finding {
    let r = rule(code);
    Finding {
        code: r.code,
        name: r.name,
        severity: r.severity,
        message: crate::finding::clip_quoted(&message),
        primary,
        related: Vec::new(),
        help: help.to_string(),
        note: None,
    }
}

/// The finding a note calls for, if any.
pub fn check_notes(note: &ConfigNote, sources: &mut SourceMap) -> Option<Finding> {
    Some(match note {
        ConfigNote::Invalid { source, error } => {
            let at = error.offset;
            finding(
                "CH900",
                Span::new(*source, at, at),
                format!("this file cannot be parsed: {}", error.message),
                "fix the syntax: ClickHouse refuses to start with a configuration file it cannot parse",
            )
        }
        ConfigNote::Unreadable { path, message } => {
            let source = sources.find(path).unwrap_or_else(|| {
                sources.add(SourceFile::new(path.clone(), String::new(), SourceKind::File))
            });
            finding(
                "CH900",
                Span::new(source, 0, 0),
                format!("this file cannot be read: {message}"),
                "store configuration as UTF-8 text",
            )
        }
        ConfigNote::Limit { span, message } => finding(
            "CH900",
            *span,
            message.clone(),
            "simplify the configuration here: chlint stops where a file would take unbounded time or memory to read",
        ),
        ConfigNote::Yaml(YamlNote::TopLevelClickhouseKey { span }) => finding(
            "CH901",
            *span,
            "everything in this file sits under a top-level `clickhouse:` key, which ClickHouse nests as <clickhouse><clickhouse> and ignores".into(),
            "remove the `clickhouse:` key and move its content one level up",
        ),
        ConfigNote::RootMismatch { span, root } => finding(
            "CH903",
            *span,
            format!("the root element is <{root}>, not <clickhouse>: ClickHouse refuses to merge this file and does not start"),
            "use <clickhouse> as the root element",
        ),
        ConfigNote::Merge(MergeNote::PartialOverride {
            name,
            at_root,
            overriding,
            surviving,
        }) => {
            let mut f = finding(
                "CH904",
                overriding[0],
                format!(
                    "this file sets {} `<{name}>` but the merged configuration keeps {} more from an earlier file: repeated elements pair up one to one",
                    overriding.len(),
                    surviving.len()
                ),
                "",
            );
            f.help = format!("remove the earlier values first: `<{name} remove=\"1\"/>` once for each, before the new ones");
            if !at_root {
                f.help.push_str(", or write the whole parent with `replace=\"replace\"`");
            }
            f.related = surviving
                .iter()
                .map(|s| Related {
                    span: *s,
                    message: "still in effect".into(),
                })
                .collect();
            f
        }
        ConfigNote::MergeFailed(e) => finding(
            "CH906",
            e.span,
            e.message.clone(),
            "keep one of the two: `remove` deletes the earlier element, `replace` swaps in this one",
        ),
        _ => return None,
    })
}
