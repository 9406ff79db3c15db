//! Inline suppressions: a comment on a finding's line, or on its own line
//! just above it, that names the rule and says why.
//!
//! ```text
//! <!-- chlint: ignore[CH203, weak-password] the BI tool only speaks MySQL -->   XML
//! # chlint: ignore[CH203] the BI tool only speaks MySQL                         YAML, HCL, .conf
//! // chlint: ignore[CH203] the BI tool only speaks MySQL                        HCL
//! ```
//!
//! A comment that shares its line with configuration covers that line only;
//! a comment on lines of its own covers those lines and the next one. A
//! suppression needs a reason: one without is reported (CH991) and does not
//! apply. One that names no known rule, or is malformed, is reported too
//! (CH991); one that matches no finding is reported as unused (CH990).

use std::collections::HashMap;
use std::ops::Range;

use crate::finding::Finding;
use crate::rules::rule;
use crate::source::{SourceFile, SourceId, SourceMap, Span};

/// Comment syntaxes a file may use, by its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Syntax {
    Xml,
    Hash,
    /// HCL: `#` and `//`.
    Hcl,
    /// Unknown: any of them.
    Any,
    /// No comments (JSON).
    None,
}

fn syntax_of(file: &SourceFile) -> Syntax {
    let ext = file
        .path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "xml" => Syntax::Xml,
        "yaml" | "yml" => Syntax::Hash,
        "tf" | "hcl" | "tfvars" => Syntax::Hcl,
        "json" => Syntax::None,
        "conf" => {
            if file.text.trim_start().starts_with('<') {
                Syntax::Xml
            } else {
                Syntax::Hash
            }
        }
        _ => Syntax::Any,
    }
}

/// One rule named in a directive.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub text: String,
    pub span: Span,
    /// The rule's code, when the text names one.
    pub code: Option<&'static str>,
}

/// One `chlint: ignore[…] reason` comment.
#[derive(Clone, Debug, PartialEq)]
pub struct Directive {
    pub source: SourceId,
    /// The directive text, `chlint: ignore[…]`.
    pub span: Span,
    pub items: Vec<Item>,
    pub reason: String,
    /// 1-based lines whose findings it covers.
    pub lines: Range<usize>,
    /// What is wrong with it, if it cannot apply.
    pub malformed: Option<String>,
}

impl Directive {
    pub fn applies(&self) -> bool {
        self.malformed.is_none() && !self.reason.is_empty()
    }
}

/// Where comments are: byte ranges of comment bodies, with the offset of
/// the comment's opener.
fn comments(text: &str, syntax: Syntax) -> Vec<(usize, Range<usize>)> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let xml = matches!(syntax, Syntax::Xml | Syntax::Any);
    let hash = matches!(syntax, Syntax::Hash | Syntax::Hcl | Syntax::Any);
    let slashes = matches!(syntax, Syntax::Hcl | Syntax::Any);
    let mut i = 0;
    while i < bytes.len() {
        // Only ASCII bytes are looked at, so `i` is a character boundary
        // whenever the text is sliced there.
        if xml && bytes[i] == b'<' && text[i..].starts_with("<!--") {
            let body = i + 4;
            let end = text[body..].find("-->").map_or(text.len(), |e| body + e);
            out.push((i, body..end));
            i = end + 3;
            continue;
        }
        let at_word_start = i == 0 || bytes[i - 1].is_ascii_whitespace();
        let opener = if hash && bytes[i] == b'#' && at_word_start {
            1
        } else if slashes && bytes[i] == b'/' && text[i..].starts_with("//") && at_word_start {
            2
        } else {
            0
        };
        if opener > 0 {
            let body = i + opener;
            let end = text[body..].find('\n').map_or(text.len(), |e| body + e);
            out.push((i, body..end));
            i = end;
            continue;
        }
        i += 1;
    }
    out
}

/// A directive as parsed: its span, the listed names with their spans, the
/// reason, and what is wrong with it (offsets in the file's text).
struct Parsed {
    span: Range<usize>,
    items: Vec<(String, Range<usize>)>,
    reason: String,
    malformed: Option<String>,
}

/// Parse `ignore[a, b] reason` after `chlint:` in a comment body that starts
/// at `base` in the file.
fn parse_directive(body: &str, base: usize) -> Option<Parsed> {
    let at = find_ascii_ci(body, "chlint:")?;
    let mut i = at + "chlint:".len();
    let rest = &body[i..];
    let skipped = rest.len() - rest.trim_start().len();
    i += skipped;
    if !body[i..].to_ascii_lowercase().starts_with("ignore") {
        return None;
    }
    i += "ignore".len();
    let start = base + at;
    let Some(open) = body[i..].strip_prefix('[') else {
        return Some(Parsed {
            span: start..base + i,
            items: Vec::new(),
            reason: String::new(),
            malformed: Some(
                "expected `[` after `chlint: ignore`, e.g. `chlint: ignore[CH203] why`".into(),
            ),
        });
    };
    let list_start = i + 1;
    let Some(close) = open.find(']') else {
        return Some(Parsed {
            span: start..base + body.len(),
            items: Vec::new(),
            reason: String::new(),
            malformed: Some("missing `]` after the rule list".into()),
        });
    };
    let list = &body[list_start..list_start + close];
    let mut items = Vec::new();
    let mut offset = list_start;
    for part in list.split(',') {
        let lead = part.len() - part.trim_start().len();
        let t = part.trim();
        if !t.is_empty() {
            let s = base + offset + lead;
            items.push((t.to_string(), s..s + t.len()));
        }
        offset += part.len() + 1;
    }
    let after = list_start + close + 1;
    let reason = body[after..]
        .trim()
        .trim_start_matches(['-', ':', '—', '–'])
        .trim();
    let malformed = items.is_empty().then(|| {
        "the rule list is empty: name the rules, e.g. `chlint: ignore[CH203] why`".to_string()
    });
    let reason = if reason.chars().any(char::is_alphanumeric) {
        reason.split_whitespace().collect::<Vec<_>>().join(" ")
    } else {
        String::new()
    };
    Some(Parsed {
        span: start..base + after,
        items,
        reason,
        malformed,
    })
}

fn find_ascii_ci(hay: &str, needle: &str) -> Option<usize> {
    hay.to_ascii_lowercase().find(needle)
}

/// Every directive in a source.
pub fn directives(id: SourceId, file: &SourceFile) -> Vec<Directive> {
    let text = &file.text;
    if !text.contains("chlint") && !text.contains("CHLINT") {
        return Vec::new();
    }
    let syntax = syntax_of(file);
    if syntax == Syntax::None {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (opener, body) in comments(text, syntax) {
        let Some(Parsed {
            span,
            items,
            reason,
            malformed,
        }) = parse_directive(&text[body.clone()], body.start)
        else {
            continue;
        };
        let (first, _) = file.line_col(opener as u32);
        let (last, _) = file.line_col(body.end as u32);
        let line_start = text[..opener].rfind('\n').map_or(0, |i| i + 1);
        let own_line = text[line_start..opener].trim().is_empty();
        let lines = if own_line {
            first..last + 2
        } else {
            first..last + 1
        };
        out.push(Directive {
            source: id,
            span: Span::new(id, span.start, span.end),
            items: items
                .into_iter()
                .map(|(t, r)| Item {
                    code: crate::rules::find(&t).map(|r| r.code),
                    text: t,
                    span: Span::new(id, r.start, r.end),
                })
                .collect(),
            reason,
            lines,
            malformed,
        });
    }
    out
}

/// The result of applying inline suppressions.
#[derive(Debug, Default)]
pub struct Applied {
    /// Findings left.
    pub kept: Vec<Finding>,
    /// How many were suppressed.
    pub suppressed: usize,
    /// CH990/CH991 findings about the directives themselves.
    pub problems: Vec<Finding>,
}

fn problem(code: &str, primary: Span, message: String, help: &str) -> Finding {
    let r = rule(code);
    Finding {
        code: r.code,
        name: r.name,
        severity: r.severity,
        message,
        primary,
        related: Vec::new(),
        help: help.to_string(),
        note: None,
    }
}

/// What suppressions are matched against besides the findings.
#[derive(Default)]
pub struct Context<'a> {
    /// Findings not reported because stronger ones state them: a directive
    /// for one is not unused.
    pub implied: &'a [Finding],
    /// Sources that are another spelling of a file findings point into
    /// under its first spelling: their directives are that file's. Sorted.
    pub aliases: &'a [SourceId],
}

/// Drop the findings a directive covers; report directives that are unused
/// (for rules that are enabled in their file) or cannot apply.
pub fn apply(
    findings: Vec<Finding>,
    sources: &SourceMap,
    enabled: &dyn Fn(SourceId, &str) -> bool,
    context: &Context,
) -> Applied {
    let mut all: Vec<Directive> = Vec::new();
    for i in 0..sources.len() {
        let id = SourceId(i as u32);
        let file = sources.get(id);
        if !file.is_builtin() && context.aliases.binary_search(&id).is_err() {
            all.extend(directives(id, file));
        }
    }
    let mut used: Vec<Vec<bool>> = all.iter().map(|d| vec![false; d.items.len()]).collect();
    // The directives covering each line, so that many findings and many
    // directives do not meet pairwise. A directive covers the lines of its
    // comment and the next; of a very long comment, its first and last
    // lines (findings are not inside comments).
    let mut by_line: HashMap<(SourceId, usize), Vec<usize>> = HashMap::new();
    for (i, d) in all.iter().enumerate() {
        let (start, end) = (d.lines.start, d.lines.end);
        let lines: Vec<usize> = if end.saturating_sub(start) <= 64 {
            d.lines.clone().collect()
        } else {
            (start..start + 32).chain(end - 32..end).collect()
        };
        for line in lines {
            by_line.entry((d.source, line)).or_default().push(i);
        }
    }
    let mut out = Applied::default();
    // Marks the directives that cover a finding; is there one?
    let mut covered = |f: &Finding| {
        let (line, _) = sources.get(f.primary.source).line_col(f.primary.start);
        let mut hit = false;
        let covering = by_line
            .get(&(f.primary.source, line))
            .map(Vec::as_slice)
            .unwrap_or_default();
        for &i in covering {
            let (d, used) = (&all[i], &mut used[i]);
            if d.source != f.primary.source || !d.lines.contains(&line) || !d.applies() {
                continue;
            }
            for (item, u) in d.items.iter().zip(used.iter_mut()) {
                if item.code == Some(f.code) {
                    *u = true;
                    hit = true;
                }
            }
        }
        hit
    };
    for f in findings {
        if covered(&f) {
            out.suppressed += 1;
        } else {
            out.kept.push(f);
        }
    }
    for f in context.implied {
        covered(f);
    }
    for (d, used) in all.iter().zip(&used) {
        if let Some(why) = &d.malformed {
            out.problems.push(problem(
                "CH991",
                d.span,
                format!("this suppression cannot be read: {why}"),
                "write `chlint: ignore[CODE-or-name, …] reason` in a comment",
            ));
            continue;
        }
        let unknown: Vec<&Item> = d.items.iter().filter(|i| i.code.is_none()).collect();
        for item in &unknown {
            out.problems.push(problem(
                "CH991",
                item.span,
                format!("this suppression names `{}`, which is no chlint rule", item.text),
                "use a rule code (CH203) or name (mysql-postgres-port-enabled): `chlint rules` lists them",
            ));
        }
        if d.reason.is_empty() {
            out.problems.push(problem(
                "CH991",
                d.span,
                "this suppression gives no reason, so it does not apply".into(),
                "say why after the `]`, e.g. `chlint: ignore[CH203] the BI tool only speaks MySQL`",
            ));
            continue;
        }
        for (item, u) in d.items.iter().zip(used) {
            let Some(code) = item.code else { continue };
            if !*u && enabled(d.source, code) {
                out.problems.push(problem(
                    "CH990",
                    item.span,
                    format!(
                        "this suppression of {code} ({}) matches no finding on this line or the next",
                        rule(code).name
                    ),
                    "remove it (the configuration it excused is gone or moved), or move it onto the finding's line or the line above",
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceKind;

    fn parse(path: &str, text: &str) -> Vec<Directive> {
        let f = SourceFile::new(path.into(), text.to_string(), SourceKind::File);
        directives(SourceId(0), &f)
    }

    /// Accepted and rejected spellings, with what they yield.
    #[test]
    fn grammar() {
        let d = parse(
            "a.xml",
            "<!-- chlint: ignore[CH203, weak-password] BI needs it -->\n",
        );
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].items[0].code, Some("CH203"));
        assert_eq!(d[0].items[1].code, Some("CH105"));
        assert_eq!(d[0].reason, "BI needs it");
        assert_eq!(d[0].lines, 1..3);
        assert!(d[0].applies());

        let d = parse("a.yaml", "x: 1  # CHLINT:ignore[ch203] -- because\n");
        assert_eq!(d[0].items[0].code, Some("CH203"));
        assert_eq!(d[0].reason, "because");
        assert_eq!(d[0].lines, 1..2, "a trailing comment covers its own line");

        let d = parse("a.yaml", "# chlint: ignore[CH203]\n");
        assert_eq!(d[0].reason, "");
        assert!(!d[0].applies());

        let d = parse("a.yaml", "# chlint: ignore CH203 why\n");
        assert!(d[0].malformed.is_some());
        let d = parse("a.yaml", "# chlint: ignore[CH203 why\n");
        assert!(d[0].malformed.is_some());
        let d = parse("a.yaml", "# chlint: ignore[] why\n");
        assert!(d[0].malformed.is_some());

        // Not comments in their syntax.
        assert!(parse("a.xml", "<x># chlint: ignore[CH203] why</x>\n").is_empty());
        assert!(parse("a.yaml", "x: a#chlint: ignore[CH203] why\n").is_empty());
        assert!(parse("a.json", "{\"x\": \"# chlint: ignore[CH203] why\"}").is_empty());
        // Not a directive.
        assert!(parse("a.yaml", "# chlint is great\n").is_empty());

        let d = parse(
            "main.tf",
            "// chlint: ignore[CH203] why\n# chlint: ignore[CH202] why\n",
        );
        assert_eq!(d.len(), 2);

        // A comment over several lines covers them and the next one.
        let d = parse(
            "a.xml",
            "<!--\n  chlint: ignore[CH203]\n  the reason\n-->\n<x/>\n",
        );
        assert_eq!(d[0].reason, "the reason");
        assert_eq!(d[0].lines, 1..6);
    }
}
