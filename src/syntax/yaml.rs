//! A span-keeping YAML parser built on the `saphyr-parser` event stream.
//!
//! The tree it builds is deliberately untyped: every scalar stays the text
//! it was written as (ClickHouse hands YAML scalars to Poco as strings and
//! interprets them later), except for the YAML null forms, which ClickHouse
//! (through yaml-cpp) treats as "no value".
//!
//! Defences:
//! - the tree is built iteratively from events (saphyr's own `Parser::load`
//!   recurses per nesting level, so it is not used);
//! - nesting deeper than [`Limits::max_depth`] stops parsing at once;
//! - aliases are expanded by cloning the anchored node, and the total number
//!   of nodes produced that way is bounded by [`Limits::max_alias_nodes`]
//!   (billion-laughs defence), checked *before* each clone.
//!
//! Because depth is bounded, the derived `Clone`, `Drop`, `PartialEq` and
//! `Debug` of [`YamlNode`] (which recurse) stay within a small stack.
//!
//! saphyr reports positions in characters; they are converted to byte
//! offsets into the text here.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

use super::{Limits, ParseError};
use crate::source::{SourceId, Span};

/// One YAML node with the byte range it was written at.
#[derive(Clone, Debug, PartialEq)]
pub struct YamlNode {
    pub kind: YamlKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum YamlKind {
    /// Plain `~`, `null`, `Null`, `NULL`, or no value at all.
    Null,
    /// Any other scalar, verbatim (quoted or not, no type interpretation).
    Scalar(String),
    Seq(Vec<YamlNode>),
    /// Entries in document order; duplicate keys are kept.
    Map(Vec<(YamlNode, YamlNode)>),
}

impl YamlNode {
    /// The scalar text, `None` for null and collections.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            YamlKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, YamlKind::Null)
    }
}

/// Parse every document of a YAML stream. An empty (or comment-only) text
/// yields no documents; an explicit empty document (`---` alone) yields a
/// [`YamlKind::Null`] node.
pub fn parse_documents(
    source: SourceId,
    text: &str,
    limits: &Limits,
) -> Result<Vec<YamlNode>, ParseError> {
    if let Some(docs) = super::yaml_block::parse(source, text, limits) {
        return Ok(docs);
    }
    parse_with_saphyr(source, text, limits)
}

/// The block-style fast path alone: `None` where it leaves the text to
/// saphyr.
#[doc(hidden)]
pub fn parse_block_subset(source: SourceId, text: &str, limits: &Limits) -> Option<Vec<YamlNode>> {
    super::yaml_block::parse(source, text, limits)
}

/// [`parse_documents`] by saphyr alone: the reference the block-style fast
/// path is compared with.
#[doc(hidden)]
pub fn parse_with_saphyr(
    source: SourceId,
    text: &str,
    limits: &Limits,
) -> Result<Vec<YamlNode>, ParseError> {
    Builder::new(source, text, limits).run()
}

/// The plain scalars YAML reads as null (ClickHouse, through yaml-cpp, as
/// no value).
pub(super) fn is_null_form(value: &str) -> bool {
    matches!(value, "" | "~" | "null" | "Null" | "NULL")
}

/// Converts saphyr's character indices into byte offsets in time and memory
/// independent of the file size: a cursor that moves from the last position
/// (events come almost in text order), and a coarse table for long jumps.
struct Offsets<'a> {
    text: &'a str,
    ascii: bool,
    /// Byte offset of every [`OFFSET_BLOCK`]-th character.
    marks: Vec<u32>,
    /// The last conversion: (character index, byte offset).
    cursor: (usize, usize),
}

/// Characters between two entries of [`Offsets::marks`].
const OFFSET_BLOCK: usize = 1024;

impl<'a> Offsets<'a> {
    fn new(text: &'a str) -> Offsets<'a> {
        let ascii = text.is_ascii();
        let marks = if ascii {
            Vec::new()
        } else {
            text.char_indices()
                .step_by(OFFSET_BLOCK)
                .map(|(i, _)| i as u32)
                .collect()
        };
        Offsets {
            text,
            ascii,
            marks,
            cursor: (0, 0),
        }
    }

    fn byte(&mut self, char_index: usize) -> usize {
        if self.ascii {
            return char_index.min(self.text.len());
        }
        let bytes = self.text.as_bytes();
        let (mut chars, mut at) = self.cursor;
        let distance = char_index.abs_diff(chars);
        if distance > OFFSET_BLOCK {
            let block = (char_index / OFFSET_BLOCK).min(self.marks.len().saturating_sub(1));
            chars = block * OFFSET_BLOCK;
            at = self.marks.get(block).copied().unwrap_or(0) as usize;
        }
        while chars < char_index && at < bytes.len() {
            at += 1;
            while at < bytes.len() && (bytes[at] & 0xC0) == 0x80 {
                at += 1;
            }
            chars += 1;
        }
        while chars > char_index {
            at -= 1;
            while at > 0 && (bytes[at] & 0xC0) == 0x80 {
                at -= 1;
            }
            chars -= 1;
        }
        self.cursor = (chars, at);
        at
    }
}

/// An open collection.
struct Frame {
    kind: FrameKind,
    /// Byte offset the collection starts at (its anchor or tag included).
    start: usize,
    /// End of the start token (`[`, `{`, an anchor) in bytes.
    start_end: usize,
    /// Furthest end of any child.
    last_end: usize,
    anchor: usize,
    /// Nodes in this collection, itself included (aliases count expanded).
    size: usize,
    /// Collection levels below and including this one.
    height: usize,
}

enum FrameKind {
    Seq(Vec<YamlNode>),
    Map {
        entries: Vec<(YamlNode, YamlNode)>,
        key: Option<YamlNode>,
    },
}

/// A finished node with the bookkeeping alias expansion needs.
struct Anchored {
    node: YamlNode,
    size: usize,
    height: usize,
}

struct Builder<'a> {
    source: SourceId,
    text: &'a str,
    limits: &'a Limits,
    offsets: Offsets<'a>,
    /// Nodes built in the whole stream, aliases and anchor copies included.
    nodes: usize,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    /// Nodes produced by alias expansion in the current document.
    alias_nodes: usize,
    /// The finished root of the current document.
    root: Option<YamlNode>,
    docs: Vec<YamlNode>,
}

impl<'a> Builder<'a> {
    fn new(source: SourceId, text: &'a str, limits: &'a Limits) -> Builder<'a> {
        Builder {
            source,
            text,
            limits,
            offsets: Offsets::new(text),
            nodes: 0,
            stack: Vec::new(),
            anchors: HashMap::new(),
            alias_nodes: 0,
            root: None,
            docs: Vec::new(),
        }
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.source, start, end)
    }

    fn depth_error(&self, offset: usize) -> ParseError {
        ParseError::new(
            format!("nesting deeper than {} levels", self.limits.max_depth),
            offset,
        )
    }

    /// Count `n` more nodes against the file's budget.
    fn count(&mut self, n: usize, offset: usize) -> Result<(), ParseError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            return Err(ParseError::new(
                format!("more than {} YAML nodes", self.limits.max_nodes),
                offset,
            ));
        }
        Ok(())
    }

    fn run(mut self) -> Result<Vec<YamlNode>, ParseError> {
        let text = self.text;
        let mut parser = Parser::new_from_str(text);
        while let Some(item) = parser.next_event() {
            let (event, sspan) = match item {
                Ok(ev) => ev,
                Err(e) => {
                    let offset = self.offsets.byte(e.marker().index());
                    // saphyr caps flow nesting at 255 levels and scans ahead
                    // of the events, so deep `[[[…` input ends up here before
                    // our own depth check sees it.
                    if e.info() == "recursion limit exceeded" {
                        return Err(ParseError::new(
                            format!(
                                "nesting deeper than {} levels",
                                self.limits.max_depth.min(255)
                            ),
                            offset,
                        ));
                    }
                    return Err(ParseError::new(e.info(), offset));
                }
            };
            let start = self.offsets.byte(sspan.start.index());
            let end = self.offsets.byte(sspan.end.index());
            match event {
                Event::StreamStart | Event::Nothing => {}
                Event::StreamEnd => break,
                Event::DocumentStart(_) => {
                    self.stack.clear();
                    self.anchors.clear();
                    self.alias_nodes = 0;
                    self.root = None;
                }
                Event::DocumentEnd => {
                    if let Some(root) = self.root.take() {
                        self.docs.push(root);
                    }
                }
                Event::Scalar(value, style, anchor, tag) => {
                    self.count(if anchor != 0 { 2 } else { 1 }, start)?;
                    let is_empty_plain = value.is_empty() && style == ScalarStyle::Plain;
                    let null = style == ScalarStyle::Plain && tag.is_none() && is_null_form(&value);
                    // An absent value has no text; saphyr sometimes spans
                    // the next token (`{b}` spans the `}`).
                    let end = if is_empty_plain && anchor == 0 && tag.is_none() {
                        start
                    } else {
                        end
                    };
                    let kind = if null {
                        YamlKind::Null
                    } else {
                        YamlKind::Scalar(value.into_owned())
                    };
                    let node = YamlNode {
                        kind,
                        span: self.span(start, end),
                    };
                    if anchor != 0 {
                        self.anchors.insert(
                            anchor,
                            Anchored {
                                node: node.clone(),
                                size: 1,
                                height: 0,
                            },
                        );
                    }
                    self.add(node, 1, 0);
                }
                Event::Alias(id) => {
                    let Some((size, height)) = self.anchors.get(&id).map(|a| (a.size, a.height))
                    else {
                        return Err(ParseError::new(
                            "alias refers to an anchor that is unknown or not yet complete",
                            start,
                        ));
                    };
                    self.alias_nodes = self.alias_nodes.saturating_add(size);
                    if self.alias_nodes > self.limits.max_alias_nodes {
                        return Err(ParseError::new(
                            format!(
                                "YAML aliases expand beyond {} nodes",
                                self.limits.max_alias_nodes
                            ),
                            start,
                        ));
                    }
                    if self.stack.len() + height > self.limits.max_depth {
                        return Err(self.depth_error(start));
                    }
                    self.count(size, start)?;
                    let mut node = self.anchors[&id].node.clone();
                    // The copy stands where the alias is written.
                    node.span = self.span(start, end);
                    self.add(node, size, height);
                }
                Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                    if self.stack.len() >= self.limits.max_depth {
                        return Err(self.depth_error(start));
                    }
                    self.count(1, start)?;
                    let kind = if matches!(event, Event::SequenceStart(..)) {
                        FrameKind::Seq(Vec::new())
                    } else {
                        FrameKind::Map {
                            entries: Vec::new(),
                            key: None,
                        }
                    };
                    self.stack.push(Frame {
                        kind,
                        start,
                        start_end: end,
                        last_end: end,
                        anchor,
                        size: 1,
                        height: 1,
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(frame) = self.stack.pop() else {
                        return Err(ParseError::new("unbalanced YAML collection end", start));
                    };
                    // Flow collections end at their `]`/`}`; block ones have
                    // an empty end event placed at the next token, so they
                    // end with their last child instead.
                    let end = if end > start {
                        end.max(frame.last_end)
                    } else {
                        frame.last_end.max(frame.start_end)
                    };
                    let kind = match frame.kind {
                        FrameKind::Seq(items) => YamlKind::Seq(items),
                        FrameKind::Map { entries, key } => {
                            if key.is_some() {
                                return Err(ParseError::new(
                                    "YAML mapping key without value",
                                    start,
                                ));
                            }
                            YamlKind::Map(entries)
                        }
                    };
                    let node = YamlNode {
                        kind,
                        span: self.span(frame.start, end),
                    };
                    if frame.anchor != 0 {
                        // The copy kept for aliases costs its size: nested
                        // anchors would otherwise copy a large tree per level.
                        self.count(frame.size, frame.start)?;
                        self.anchors.insert(
                            frame.anchor,
                            Anchored {
                                node: node.clone(),
                                size: frame.size,
                                height: frame.height,
                            },
                        );
                    }
                    self.add(node, frame.size, frame.height);
                }
            }
        }
        if let Some(root) = self.root.take() {
            self.docs.push(root);
        }
        Ok(self.docs)
    }

    /// Attach a finished node to the open collection, or make it the root.
    fn add(&mut self, node: YamlNode, size: usize, height: usize) {
        let Some(top) = self.stack.last_mut() else {
            self.root = Some(node);
            return;
        };
        top.size = top.size.saturating_add(size);
        top.height = top.height.max(height + 1);
        top.last_end = top.last_end.max(node.span.end as usize);
        match &mut top.kind {
            FrameKind::Seq(items) => items.push(node),
            FrameKind::Map { entries, key } => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{SourceFile, SourceKind};
    use std::time::{Duration, Instant};

    fn parse(text: &str) -> Result<Vec<YamlNode>, ParseError> {
        parse_documents(SourceId(0), text, &Limits::default())
    }

    fn one(text: &str) -> YamlNode {
        let mut docs = parse(text).expect("parses");
        assert_eq!(docs.len(), 1, "{docs:?}");
        docs.remove(0)
    }

    fn map(node: &YamlNode) -> &[(YamlNode, YamlNode)] {
        match &node.kind {
            YamlKind::Map(m) => m,
            other => panic!("not a map: {other:?}"),
        }
    }

    fn seq(node: &YamlNode) -> &[YamlNode] {
        match &node.kind {
            YamlKind::Seq(s) => s,
            other => panic!("not a seq: {other:?}"),
        }
    }

    fn slice(text: &str, span: Span) -> &str {
        &text[span.start as usize..span.end as usize]
    }

    fn count(node: &YamlNode) -> usize {
        match &node.kind {
            YamlKind::Null | YamlKind::Scalar(_) => 1,
            YamlKind::Seq(s) => 1 + s.iter().map(count).sum::<usize>(),
            YamlKind::Map(m) => 1 + m.iter().map(|(k, v)| count(k) + count(v)).sum::<usize>(),
        }
    }

    #[test]
    fn spans_point_at_keys_values_and_collections() {
        let text = "a: b\nc:\n  d: \"e\"\n  f: [1, {g: h}]\n# comment\n\nk: x\n";
        let file = SourceFile::new("t.yaml".into(), text.to_string(), SourceKind::File);
        let doc = one(text);
        let m = map(&doc);
        assert_eq!(m.len(), 3);
        assert_eq!(slice(text, m[0].0.span), "a");
        assert_eq!(slice(text, m[0].1.span), "b");
        assert_eq!(file.line_col(m[0].1.span.start), (1, 4));
        let inner = &m[1].1;
        assert_eq!(file.line_col(inner.span.start), (3, 3));
        // A block mapping ends with its last value, not at the comment after it.
        assert_eq!(slice(text, inner.span), "d: \"e\"\n  f: [1, {g: h}]");
        let im = map(inner);
        assert_eq!(slice(text, im[0].1.span), "\"e\"");
        assert_eq!(im[0].1.as_str(), Some("e"));
        assert_eq!(slice(text, im[1].1.span), "[1, {g: h}]");
        let items = seq(&im[1].1);
        assert_eq!(slice(text, items[1].span), "{g: h}");
        assert_eq!(file.line_col(items[1].span.start), (4, 10));
        assert_eq!(slice(text, m[2].0.span), "k");
        assert_eq!(file.line_col(m[2].0.span.start), (7, 1));
        assert_eq!(slice(text, doc.span), text.trim_end());
    }

    #[test]
    fn scalars_stay_verbatim_text() {
        let doc = one("a: true\nb: 0777\nc: 1.50\nd: '::1'\ne: |\n  x\n  y\n");
        let values: Vec<_> = map(&doc).iter().map(|(_, v)| v.as_str().unwrap()).collect();
        assert_eq!(values, ["true", "0777", "1.50", "::1", "x\ny\n"]);
    }

    #[test]
    fn null_forms_versus_empty_and_quoted_strings() {
        let text =
            "a:\nb: ~\nc: null\nd: Null\ne: NULL\nf: ''\ng: \"null\"\nh: !!str null\ni: nil\n";
        let doc = one(text);
        let m = map(&doc);
        for (k, v) in &m[..5] {
            assert!(v.is_null(), "{k:?} -> {v:?}");
        }
        assert_eq!(m[5].1.kind, YamlKind::Scalar(String::new()));
        assert_eq!(m[6].1.kind, YamlKind::Scalar("null".into()));
        assert_eq!(m[7].1.kind, YamlKind::Scalar("null".into()));
        assert_eq!(m[8].1.kind, YamlKind::Scalar("nil".into()));
        // An absent value has an empty span right after its key.
        assert_eq!(m[0].1.span.start, m[0].1.span.end);
        assert_eq!(slice(text, m[1].1.span), "~");
    }

    #[test]
    fn duplicate_keys_are_kept_in_order() {
        let doc = one("x: 1\ny: 2\nx: 3\n");
        let keys: Vec<_> = map(&doc).iter().map(|(k, _)| k.as_str().unwrap()).collect();
        assert_eq!(keys, ["x", "y", "x"]);
    }

    #[test]
    fn multi_document_streams() {
        let docs = parse("a: 1\n---\nb: 2\n...\n---\n").unwrap();
        assert_eq!(docs.len(), 3);
        assert_eq!(map(&docs[0])[0].0.as_str(), Some("a"));
        assert_eq!(map(&docs[1])[0].0.as_str(), Some("b"));
        assert!(docs[2].is_null());
        assert!(parse("").unwrap().is_empty());
        assert!(parse("# only a comment\n").unwrap().is_empty());
        assert_eq!(parse("plain").unwrap()[0].as_str(), Some("plain"));
    }

    #[test]
    fn aliases_are_expanded() {
        let text =
            "base: &b {user: x, pw: y}\nother: *b\nlist: &l [1, 2]\nagain: *l\ns: &s v\nt: *s\n";
        let doc = one(text);
        let m = map(&doc);
        assert_eq!(m[1].1.kind, m[0].1.kind);
        assert_eq!(slice(text, m[1].1.span), "*b");
        assert_eq!(m[3].1.kind, m[2].1.kind);
        assert_eq!(m[5].1.as_str(), Some("v"));
    }

    #[test]
    fn aliases_do_not_cross_documents() {
        let err = parse("a: &a 1\n---\nb: *a\n").unwrap_err();
        assert!(err.message.contains("anchor"), "{err:?}");
    }

    #[test]
    fn recursive_alias_is_an_error() {
        assert!(parse("a: &a [*a]\n").is_err());
    }

    #[test]
    fn alias_bomb_is_rejected_quickly() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for name in "bcdefghijk".chars() {
            let refs = vec![format!("*{prev}"); 9].join(", ");
            text.push_str(&format!("{name}: &{name} [{refs}]\n"));
            prev = name;
        }
        let started = Instant::now();
        let err = parse(&text).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(err.message, "YAML aliases expand beyond 100000 nodes");
        // The error points at an alias.
        assert_eq!(&text[err.offset..err.offset + 1], "*");

        // Within the budget the expansion is complete.
        let small = Limits {
            max_alias_nodes: 1000,
            ..Limits::default()
        };
        let ok = parse_documents(
            SourceId(0),
            "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n",
            &small,
        )
        .unwrap();
        let c = &map(&ok[0])[2].1;
        assert_eq!(count(c), 1 + 2 * (1 + 2 * 3));
    }

    #[test]
    fn deep_flow_nesting_is_rejected_without_stack_overflow() {
        let text = "[".repeat(200_000);
        let err = parse(&text).unwrap_err();
        assert!(err.message.starts_with("nesting deeper than"), "{err:?}");
        let text = format!("{}x{}", "{a: ".repeat(200_000), "}".repeat(200_000));
        let err = parse(&text).unwrap_err();
        assert!(err.message.starts_with("nesting deeper than"), "{err:?}");
    }

    #[test]
    fn deep_block_nesting_is_rejected_at_the_limit() {
        let text = format!("{}x\n", "- ".repeat(200_000));
        let err = parse(&text).unwrap_err();
        assert_eq!(err.message, "nesting deeper than 256 levels");
        assert_eq!(err.offset, 256 * 2);

        let limits = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        assert!(parse_documents(SourceId(0), "a: {b: {c: 1}}\n", &limits).is_ok());
        let err = parse_documents(SourceId(0), "a: {b: {c: {d: 1}}}\n", &limits).unwrap_err();
        assert_eq!(err.message, "nesting deeper than 3 levels");
        assert_eq!(err.offset, 11);
        // Aliases cannot smuggle depth past the limit.
        let err =
            parse_documents(SourceId(0), "a: &x {b: {c: 1}}\nd: {e: *x}\n", &limits).unwrap_err();
        assert_eq!(err.message, "nesting deeper than 3 levels");
    }

    #[test]
    fn node_count_is_bounded_and_anchor_copies_count() {
        let limits = Limits {
            max_nodes: 1000,
            ..Limits::default()
        };
        let list = format!("a: [{}]\n", vec!["x"; 2000].join(", "));
        let err = parse_documents(SourceId(0), &list, &limits).unwrap_err();
        assert_eq!(err.message, "more than 1000 YAML nodes");
        // Anchors nested 100 deep around 100 scalars: each level keeps a copy.
        let nested = format!(
            "{}[{}]{}\n",
            (0..100).map(|i| format!("&a{i} [")).collect::<String>(),
            vec!["x"; 100].join(", "),
            "]".repeat(100)
        );
        let err = parse_documents(SourceId(0), &nested, &limits).unwrap_err();
        assert_eq!(err.message, "more than 1000 YAML nodes");
        assert!(parse_documents(SourceId(0), "a: &x [1, 2]\nb: *x\n", &limits).is_ok());
    }

    #[test]
    fn offsets_on_large_non_ascii_text_are_exact() {
        let mut text = String::new();
        for i in 0..3000 {
            text.push_str(&format!("k{i}: \"ü{i}é\"\n"));
        }
        text.push_str("z: [\"日本\", {q: ö}]\n");
        let doc = one(&text);
        let m = map(&doc);
        assert_eq!(m.len(), 3001);
        assert_eq!(slice(&text, m[2999].1.span), "\"ü2999é\"");
        assert_eq!(slice(&text, m[3000].1.span), "[\"日本\", {q: ö}]");
        let items = seq(&m[3000].1);
        assert_eq!(slice(&text, items[1].span), "{q: ö}");
    }

    #[test]
    fn non_ascii_offsets_are_bytes() {
        let text = "# café ünïcödé\nnäme: \"wért\"\nk: 日本語\nz: v\n";
        let file = SourceFile::new("t.yaml".into(), text.to_string(), SourceKind::File);
        let doc = one(text);
        let m = map(&doc);
        assert_eq!(slice(text, m[0].0.span), "näme");
        assert_eq!(slice(text, m[0].1.span), "\"wért\"");
        assert_eq!(slice(text, m[1].1.span), "日本語");
        assert_eq!(slice(text, m[2].0.span), "z");
        assert_eq!(file.line_col(m[1].1.span.start), (3, 4));
        assert_eq!(file.line_col(m[1].1.span.end), (3, 7));
        // With a byte order mark.
        let text = "\u{feff}a: ü\n";
        let doc = one(text);
        assert_eq!(slice(text, map(&doc)[0].1.span), "ü");
    }

    #[test]
    fn syntax_errors_carry_byte_offsets_and_saphyr_messages() {
        let text = "é: [\nb: c\n";
        let err = parse(text).unwrap_err();
        assert!(!err.message.is_empty());
        assert!(text.is_char_boundary(err.offset));
        assert!(err.offset <= text.len());
        let err = parse("a: b\n  c: d\n").unwrap_err();
        assert!(err.message.contains("mapping values"), "{err:?}");
        assert_eq!(err.offset, 8);
    }
}
