//! YAML read as the tools that read deployment files read it.

use crate::source::SourceId;
use crate::syntax::yaml::{self, YamlKind, YamlNode};
use crate::syntax::{Limits, ParseError};

/// Parse YAML as the tools that read deployment files do (Go's yaml.v3,
/// PyYAML): they accept a flow collection whose closing bracket sits on its
/// own line at the indentation of the key that opened it, which the parser
/// rejects. Such a line is joined to the one before it (a newline becomes a
/// space, so every offset stays the same) and parsing is retried.
pub fn parse_lenient(
    source: SourceId,
    text: &str,
    limits: &Limits,
) -> Result<Vec<YamlNode>, ParseError> {
    match yaml::parse_documents(source, text, limits) {
        Ok(d) => Ok(d),
        Err(e) => retry_lenient(source, text, limits, e),
    }
}

/// [`parse_lenient`] after the strict parse failed with `first_error`.
pub(super) fn retry_lenient(
    source: SourceId,
    text: &str,
    limits: &Limits,
    first_error: ParseError,
) -> Result<Vec<YamlNode>, ParseError> {
    if fixable(text, &first_error).is_none() {
        return Err(first_error);
    }
    if let Some(docs) = join_all(source, text, limits) {
        return Ok(docs);
    }
    join_one_by_one(source, text, limits, first_error)
}

/// The start of the line the error is on, when it is a closing bracket
/// alone on its line (after indentation) below a line without a comment,
/// which joining the two lines would swallow.
fn fixable(text: &str, error: &ParseError) -> Option<usize> {
    if error.message != "invalid indentation" {
        return None;
    }
    let at = error.offset.min(text.len());
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let closing = text[at..].starts_with([']', '}']) && text[line_start..at].trim().is_empty();
    (closing && joinable(text, line_start)).then_some(line_start)
}

/// May the line starting at `line_start` be joined to the one before it?
fn joinable(text: &str, line_start: usize) -> bool {
    if line_start == 0 {
        return false;
    }
    let prev_start = text[..line_start - 1].rfind('\n').map_or(0, |i| i + 1);
    !text[prev_start..line_start].contains('#')
}

/// Replace the line break before `line_start` with spaces (offsets stay).
fn join(bytes: &mut [u8], line_start: usize) {
    bytes[line_start - 1] = b' ';
    if line_start >= 2 && bytes[line_start - 2] == b'\r' {
        bytes[line_start - 2] = b' ';
    }
}

/// Every closing-bracket line joined at once: one more parse instead of one
/// per line (a compose file may have hundreds). Kept only
/// if it parses and no joined line break falls inside a scalar, where the
/// break is text (a block scalar's line, a multi-line string) rather than
/// space between the tokens of a flow collection.
fn join_all(source: SourceId, text: &str, limits: &Limits) -> Option<Vec<YamlNode>> {
    let mut bytes = text.as_bytes().to_vec();
    let mut joined: Vec<u32> = Vec::new();
    for newline in memchr::memchr_iter(b'\n', text.as_bytes()) {
        let line_start = newline + 1;
        let rest = &text[line_start..];
        let first = rest.trim_start_matches([' ', '\t']);
        if first.starts_with([']', '}']) && joinable(text, line_start) {
            join(&mut bytes, line_start);
            joined.push(newline as u32);
        }
    }
    let patched = String::from_utf8(bytes).ok()?;
    let docs = yaml::parse_documents(source, &patched, limits).ok()?;
    (!any_inside_scalar(&docs, &joined)).then_some(docs)
}

/// Does any of these offsets (in order) fall inside a scalar's span?
fn any_inside_scalar(docs: &[YamlNode], offsets: &[u32]) -> bool {
    let mut spans: Vec<(u32, u32)> = Vec::new();
    let mut stack: Vec<&YamlNode> = docs.iter().collect();
    while let Some(node) = stack.pop() {
        match &node.kind {
            YamlKind::Null | YamlKind::Scalar(_) => spans.push((node.span.start, node.span.end)),
            YamlKind::Seq(items) => stack.extend(items),
            YamlKind::Map(entries) => stack.extend(entries.iter().flat_map(|(k, v)| [k, v])),
        }
    }
    spans.sort_unstable();
    // The furthest end of the spans starting at or before each one.
    let mut reach = Vec::with_capacity(spans.len());
    let mut furthest = 0;
    for (_, end) in &spans {
        furthest = furthest.max(*end);
        reach.push(furthest);
    }
    offsets.iter().any(|&o| {
        let before = spans.partition_point(|(start, _)| *start <= o);
        before > 0 && reach[before - 1] > o
    })
}

/// Join the failing line and parse again, as long as the next error is
/// another such line.
fn join_one_by_one(
    source: SourceId,
    text: &str,
    limits: &Limits,
    first_error: ParseError,
) -> Result<Vec<YamlNode>, ParseError> {
    let mut patched = text.to_string();
    let mut error = first_error.clone();
    for _ in 0..256 {
        let Some(line_start) = fixable(&patched, &error) else {
            return Err(first_error);
        };
        let mut bytes = patched.into_bytes();
        join(&mut bytes, line_start);
        patched = String::from_utf8(bytes).expect("ASCII replaced by ASCII");
        match yaml::parse_documents(source, &patched, limits) {
            Ok(d) => return Ok(d),
            Err(e) => error = e,
        }
    }
    Err(first_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<YamlNode>, ParseError> {
        parse_lenient(SourceId(0), text, &Limits::default())
    }

    fn scalar<'a>(doc: &'a YamlNode, key: &str) -> &'a str {
        let YamlKind::Map(entries) = &doc.kind else {
            panic!("a map: {doc:?}");
        };
        let (_, v) = entries
            .iter()
            .find(|(k, _)| matches!(&k.kind, YamlKind::Scalar(s) if s == key))
            .expect("the key");
        match &v.kind {
            YamlKind::Scalar(s) => s,
            other => panic!("a scalar: {other:?}"),
        }
    }

    #[test]
    fn closing_brackets_on_their_own_lines_are_joined_at_once() {
        let text = "top:\n  a: [\n      \"1\",\n      \"2\",\n  ]\n  b: {\n      \"x\": 1,\n  }\n  c: [\n      \"3\",\n  ]\n";
        assert!(yaml::parse_documents(SourceId(0), text, &Limits::default()).is_err());
        let docs = parse(text).expect("lenient");
        let YamlKind::Map(top) = &docs[0].kind else {
            panic!()
        };
        let YamlKind::Map(entries) = &top[0].1.kind else {
            panic!()
        };
        assert_eq!(entries.len(), 3);
        // Offsets are those of the text as written.
        let (_, c) = &entries[2];
        assert_eq!(&text[c.span.start as usize..c.span.start as usize + 1], "[");
        let one_by_one = join_one_by_one(
            SourceId(0),
            text,
            &Limits::default(),
            yaml::parse_documents(SourceId(0), text, &Limits::default()).unwrap_err(),
        );
        // The same values at the same places (saphyr may end a flow
        // collection's span at its last item when its bracket stays below).
        let scalars = |docs: &[YamlNode]| {
            let mut out = Vec::new();
            let mut stack: Vec<&YamlNode> = docs.iter().rev().collect();
            while let Some(n) = stack.pop() {
                match &n.kind {
                    YamlKind::Seq(items) => stack.extend(items.iter().rev()),
                    YamlKind::Map(entries) => {
                        stack.extend(entries.iter().rev().flat_map(|(k, v)| [v, k]))
                    }
                    _ => out.push(n.clone()),
                }
            }
            out
        };
        assert_eq!(scalars(&one_by_one.expect("parses")), scalars(&docs));
    }

    #[test]
    fn a_bracket_line_inside_a_block_scalar_keeps_its_line_break() {
        // Joining every bracket line parses, but would change the script:
        // only the line the parser stops at is joined.
        let text = "top:\n  a: [\n      \"1\",\n  ]\nscript: |\n  x = [\n  ]\n";
        assert!(yaml::parse_documents(SourceId(0), text, &Limits::default()).is_err());
        let docs = parse(text).expect("lenient");
        assert_eq!(scalar(&docs[0], "script"), "x = [\n]\n");
    }

    #[test]
    fn other_errors_and_commented_lines_are_not_patched() {
        let commented = "top:\n  a: [\n      \"1\", # one\n  ]\n";
        let strict = yaml::parse_documents(SourceId(0), commented, &Limits::default());
        assert_eq!(parse(commented).unwrap_err(), strict.unwrap_err());
        let bad = "a: [1\nb: : :\n";
        assert!(parse(bad).is_err());
    }
}
