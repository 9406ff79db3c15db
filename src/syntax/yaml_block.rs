//! A fast parser for the block-style YAML that deployment files are mostly
//! written in: block mappings and sequences, plain and quoted scalars (also
//! over several lines), literal and folded block scalars, flow sequences and
//! one-line flow mappings of scalars, anchors and aliases, comments and
//! document markers.
//!
//! It builds exactly the tree [`super::yaml`] builds from saphyr's events,
//! spans included, or gives up (`None`) at the first thing outside that
//! subset — tags, nested flow collections, `|+` and indentation indicators,
//! tabs, carriage returns, anything invalid — and the caller parses the text
//! with saphyr, which also words every syntax error. The saphyr scanner
//! costs about 70 instructions per byte, and YAML is most of what chlint
//! reads. Tests compare both parsers on every YAML file they can reach and
//! on mutations of them.
//!
//! saphyr's conventions reproduced here (found by comparing the two): a
//! quoted scalar or flow collection spans up to the next token, so in block
//! context to the end of its line, comment included; a block scalar spans
//! from its first character to the first character of the line that ends
//! it; an anchored node starts at its `&`, an alias is the anchored node
//! spanning the `*name`; an empty mapping value sits at its colon, an empty
//! sequence item at the end of its line; a sequence written at its key's
//! indentation starts at its first item.

use std::collections::HashMap;

use memchr::memchr;

use super::yaml::{YamlKind, YamlNode};
use super::Limits;
use crate::source::{SourceId, Span};

/// The documents of `text`, or `None` when saphyr must decide.
pub(super) fn parse(source: SourceId, text: &str, limits: &Limits) -> Option<Vec<YamlNode>> {
    if !plain_characters(text.as_bytes()) {
        return None;
    }
    Block {
        source,
        text,
        b: text.as_bytes(),
        limits,
        nodes: 0,
        alias_nodes: 0,
        pos: 0,
        anchor_names: HashMap::new(),
        anchors: Vec::new(),
    }
    .stream()
}

/// No tab, carriage return or other control character, no byte-order mark,
/// C1 control or Unicode line separator: characters YAML processors treat
/// differently or that saphyr rejects.
fn plain_characters(b: &[u8]) -> bool {
    // Printable ASCII and line breaks are decided 32 bytes at a time, in a
    // loop the compiler vectorises; other bytes one by one.
    const CHUNK: usize = 32;
    let ordinary = |c: u8| (c.wrapping_sub(0x20) < 0x5F) | (c == b'\n');
    let mut i = 0;
    while i < b.len() {
        let chunk = &b[i..(i + CHUNK).min(b.len())];
        if chunk.iter().fold(true, |all, &c| all & ordinary(c)) {
            i += chunk.len();
            continue;
        }
        for (j, &c) in chunk.iter().enumerate() {
            if !ordinary(c) && odd_character(c, b.get(i + j + 1..).unwrap_or_default()) {
                return false;
            }
        }
        i += chunk.len();
    }
    true
}

/// Is the character starting with byte `c` (followed by `next`) one the
/// fast path leaves to saphyr?
fn odd_character(c: u8, next: &[u8]) -> bool {
    let next = (next.first().copied(), next.get(1).copied());
    match c {
        0x00..=0x7F => true,
        0xC2 => matches!(next.0, Some(0x80..=0x9F)),
        0xE2 => matches!(next, (Some(0x80), Some(0xA8 | 0xA9))),
        0xEF => matches!(
            next,
            (Some(0xBB), Some(0xBF)) | (Some(0xBF), Some(0xBE | 0xBF))
        ),
        _ => false,
    }
}

/// Bytes that may not start a plain scalar (YAML's indicators).
fn is_indicator(c: u8) -> bool {
    matches!(
        c,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

/// Longest key accepted (saphyr limits implicit keys to 1024 characters).
const MAX_KEY: usize = 1000;

struct Block<'a> {
    source: SourceId,
    text: &'a str,
    b: &'a [u8],
    limits: &'a Limits,
    /// Nodes built, counting every node an alias or anchor copies.
    nodes: usize,
    /// Nodes copied by aliases in the current document.
    alias_nodes: usize,
    /// Start of the first line not consumed yet.
    pos: usize,
    /// The current document's anchor names, each for the anchor written
    /// last (an alias inside a node refers to an anchor inside it written
    /// after the node's own), and the anchored nodes: node, size, height.
    anchor_names: HashMap<&'a str, usize>,
    anchors: Vec<Option<(YamlNode, usize, usize)>>,
}

/// A line with content: where it starts and its first non-space byte.
#[derive(Clone, Copy)]
struct Line {
    start: usize,
    at: usize,
}

impl Line {
    fn indent(self) -> usize {
        self.at - self.start
    }
}

/// A simple key: its node and its colon.
struct Key {
    node: YamlNode,
    colon: usize,
}

impl<'a> Block<'a> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.source, start, end)
    }

    fn count(&mut self, n: usize) -> Option<()> {
        self.nodes = self.nodes.saturating_add(n);
        (self.nodes <= self.limits.max_nodes).then_some(())
    }

    fn node_of(&mut self, kind: YamlKind, start: usize, end: usize) -> Option<YamlNode> {
        self.count(1)?;
        Some(YamlNode {
            kind,
            span: self.span(start, end),
        })
    }

    /// A plain scalar: null in YAML's null forms, as saphyr's builder decides.
    fn plain(&mut self, start: usize, end: usize) -> Option<YamlNode> {
        let value = &self.text[start..end];
        let kind = if super::yaml::is_null_form(value) {
            YamlKind::Null
        } else {
            YamlKind::Scalar(value.to_string())
        };
        self.node_of(kind, start, end)
    }

    /// End of the line holding `at`: its line break, or the end of text.
    fn eol(&self, at: usize) -> usize {
        memchr(b'\n', &self.b[at..]).map_or(self.b.len(), |i| at + i)
    }

    fn next_line(&self, at: usize) -> usize {
        (self.eol(at) + 1).min(self.b.len())
    }

    fn skip_spaces(&self, mut at: usize) -> usize {
        while self.b.get(at) == Some(&b' ') {
            at += 1;
        }
        at
    }

    /// Is `at` the end of its line's content: a line break, the end of the
    /// text, or a comment?
    fn at_end(&self, at: usize) -> bool {
        match self.b.get(at) {
            None | Some(b'\n') => true,
            Some(b'#') => at > 0 && self.b[at - 1] == b' ',
            Some(_) => false,
        }
    }

    /// Only spaces and perhaps a comment from `at` to the line break.
    fn rest_is_blank(&self, at: usize) -> bool {
        self.at_end(self.skip_spaces(at))
    }

    /// The next line from `self.pos` on that is neither blank nor a comment.
    fn content_line(&self) -> Option<Line> {
        let mut start = self.pos;
        while start < self.b.len() {
            let at = self.skip_spaces(start);
            match self.b.get(at) {
                None => return None,
                Some(b'\n') | Some(b'#') => start = self.next_line(at),
                Some(_) => return Some(Line { start, at }),
            }
        }
        None
    }

    /// The next content line if it is not a document marker.
    fn next_in_document(&self) -> Option<Line> {
        self.content_line().filter(|l| self.marker(*l).is_none())
    }

    /// A `---` or `...` line: its character.
    fn marker(&self, line: Line) -> Option<u8> {
        let b = self.b;
        let c = *b.get(line.at)?;
        let is = line.indent() == 0
            && (c == b'-' || c == b'.')
            && b.get(line.at + 1) == Some(&c)
            && b.get(line.at + 2) == Some(&c)
            && matches!(b.get(line.at + 3), None | Some(b' ') | Some(b'\n'));
        is.then_some(c)
    }

    fn stream(mut self) -> Option<Vec<YamlNode>> {
        let mut docs = Vec::new();
        // A `---` whose document has no content yet.
        let mut open = false;
        loop {
            let Some(line) = self.content_line() else {
                if open {
                    let end = self.b.len();
                    docs.push(self.node_of(YamlKind::Null, end, end)?);
                }
                return Some(docs);
            };
            match self.marker(line) {
                Some(b'-') => {
                    if open {
                        docs.push(self.node_of(YamlKind::Null, line.at, line.at)?);
                    }
                    if !self.rest_is_blank(line.at + 3) {
                        return None;
                    }
                    open = true;
                    self.forget_anchors();
                    self.pos = self.next_line(line.at);
                    continue;
                }
                Some(_) => return None,
                None => {}
            }
            if line.indent() == 0 && self.b[line.at] == b'%' {
                return None;
            }
            if !open {
                self.forget_anchors();
            }
            let root = self.collection(line, 1)?;
            docs.push(root);
            open = false;
            // Only a document marker may follow the root.
            if let Some(next) = self.content_line() {
                if self.marker(next) != Some(b'-') {
                    return None;
                }
            }
        }
    }

    fn forget_anchors(&mut self) {
        self.anchor_names.clear();
        self.anchors.clear();
        self.alias_nodes = 0;
    }

    /// The block collection whose first entry is on `line`.
    fn collection(&mut self, line: Line, depth: usize) -> Option<YamlNode> {
        if depth > self.limits.max_depth {
            return None;
        }
        if self.is_entry(line.at) {
            self.sequence(line, false, depth)
        } else if self.is_key(line.at) {
            self.mapping(line, depth)
        } else {
            None
        }
    }

    /// A sequence entry's `-` at `at`.
    fn is_entry(&self, at: usize) -> bool {
        self.b[at] == b'-' && matches!(self.b.get(at + 1), None | Some(b' ') | Some(b'\n'))
    }

    /// Does a simple key start at `at`?
    fn is_key(&self, at: usize) -> bool {
        match self.b[at] {
            b'"' | b'\'' => self
                .quoted(at, None)
                .is_some_and(|(_, after)| self.key_colon(after).is_some()),
            _ => self.plain_key_colon(at).is_some(),
        }
    }

    /// The colon after a quoted key ending before `after`.
    fn key_colon(&self, after: usize) -> Option<usize> {
        let colon = self.skip_spaces(after);
        (self.b.get(colon) == Some(&b':')
            && matches!(self.b.get(colon + 1), None | Some(b' ') | Some(b'\n')))
        .then_some(colon)
    }

    /// The colon ending a plain key that starts at `at`.
    fn plain_key_colon(&self, at: usize) -> Option<usize> {
        let b = self.b;
        if is_indicator(b[at]) {
            return None;
        }
        let limit = self.eol(at).min(at + MAX_KEY);
        let mut i = at + 1;
        while i < limit {
            match b[i] {
                b':' if matches!(b.get(i + 1), None | Some(b' ') | Some(b'\n')) => {
                    return (b[i - 1] != b' ').then_some(i);
                }
                b'#' if b[i - 1] == b' ' => return None,
                b',' | b'[' | b']' | b'{' | b'}' => return None,
                _ => i += 1,
            }
        }
        None
    }

    /// The key starting at `at`.
    fn key(&mut self, at: usize) -> Option<Key> {
        match self.b[at] {
            b'"' | b'\'' => {
                let (value, after) = self.quoted(at, None)?;
                let colon = self.key_colon(after)?;
                let node = self.node_of(YamlKind::Scalar(value), at, colon)?;
                Some(Key { node, colon })
            }
            _ => {
                let colon = self.plain_key_colon(at)?;
                let node = self.plain(at, colon)?;
                Some(Key { node, colon })
            }
        }
    }

    fn mapping(&mut self, first: Line, depth: usize) -> Option<YamlNode> {
        let col = first.indent();
        let mut entries = Vec::new();
        let mut end = first.at;
        let mut line = first;
        loop {
            let key = self.key(line.at)?;
            let value = self.value(key.colon, key.colon + 1, col, true, depth)?;
            end = end
                .max(key.node.span.end as usize)
                .max(value.span.end as usize);
            entries.push((key.node, value));
            match self.next_in_document() {
                Some(next) if next.indent() == col => line = next,
                Some(next) if next.indent() > col => return None,
                _ => break,
            }
        }
        self.node_of(YamlKind::Map(entries), first.at, end)
    }

    /// A block sequence whose first `-` is on `first`; `indentless` when it
    /// is written at its key's indentation.
    fn sequence(&mut self, first: Line, indentless: bool, depth: usize) -> Option<YamlNode> {
        if depth > self.limits.max_depth {
            return None;
        }
        let col = first.indent();
        let mut items: Vec<YamlNode> = Vec::new();
        let mut end = first.at;
        let mut line = first;
        loop {
            let item = self.value(self.eol(line.at), line.at + 1, col, false, depth)?;
            end = end.max(item.span.end as usize);
            items.push(item);
            match self.next_in_document() {
                Some(next) if next.indent() == col && self.is_entry(next.at) => line = next,
                Some(next) if next.indent() == col && indentless => break,
                Some(next) if next.indent() >= col => return None,
                _ => break,
            }
        }
        // saphyr starts a sequence written at its key's indentation at its
        // first item, known only for an item on the dash's own line.
        let start = if indentless {
            let item = items.first()?;
            let s = item.span.start as usize;
            if item.is_null() || s <= first.at || s > self.eol(first.at) {
                return None;
            }
            s
        } else {
            first.at
        };
        self.node_of(YamlKind::Seq(items), start, end)
    }

    /// The value after a key's colon (`in_mapping`) or a sequence's dash,
    /// from `at` on; `empty_at` is where an absent value sits. The
    /// collection holding it is at indentation `col`.
    fn value(
        &mut self,
        empty_at: usize,
        at: usize,
        col: usize,
        in_mapping: bool,
        depth: usize,
    ) -> Option<YamlNode> {
        if depth > self.limits.max_depth {
            return None;
        }
        let at = self.skip_spaces(at);
        if self.at_end(at) {
            return match self.below(at, col, in_mapping, depth)? {
                Some(node) => Some(node),
                None => self.node_of(YamlKind::Null, empty_at, empty_at),
            };
        }
        if !in_mapping {
            if self.is_entry(at) {
                return None;
            }
            if self.is_key(at) {
                // A mapping begun on the dash's line, continued below at
                // the column of its first key.
                let line = Line {
                    start: self.text[..at].rfind('\n').map_or(0, |i| i + 1),
                    at,
                };
                return self.mapping(line, depth + 1);
            }
        }
        match self.b[at] {
            b'&' => self.anchored(at, col, in_mapping, depth),
            b'*' => self.alias(at, depth),
            _ => self.inline(at, col, depth),
        }
    }

    /// The collection on the lines below the one holding `at`, if any; a
    /// mapping's value may be a sequence at the mapping's own indentation.
    fn below(
        &mut self,
        at: usize,
        col: usize,
        in_mapping: bool,
        depth: usize,
    ) -> Option<Option<YamlNode>> {
        self.pos = self.next_line(at);
        match self.next_in_document() {
            Some(next) if next.indent() > col => {
                if self.is_entry(next.at) || self.is_key(next.at) {
                    self.collection(next, depth + 1).map(Some)
                } else if matches!(self.b[next.at], b'&' | b'*') {
                    None
                } else {
                    self.inline(next.at, col, depth + 1).map(Some)
                }
            }
            Some(next) if in_mapping && next.indent() == col && self.is_entry(next.at) => {
                self.sequence(next, true, depth + 1).map(Some)
            }
            _ => Some(None),
        }
    }

    /// A node with an anchor (`&name`) at `at`.
    fn anchored(
        &mut self,
        at: usize,
        col: usize,
        in_mapping: bool,
        depth: usize,
    ) -> Option<YamlNode> {
        let name_end = self.name_end(at + 1)?;
        let id = self.anchors.len();
        self.anchors.push(None);
        let text = self.text;
        self.anchor_names.insert(&text[at + 1..name_end], id);
        let rest = self.skip_spaces(name_end);
        let mut node = if self.at_end(rest) {
            // An anchored empty value would need saphyr's span.
            self.below(rest, col, in_mapping, depth)??
        } else if rest > name_end && !matches!(self.b[rest], b'&' | b'*' | b'!') {
            if !in_mapping && (self.is_entry(rest) || self.is_key(rest)) {
                return None;
            }
            self.inline(rest, col, depth)?
        } else {
            return None;
        };
        node.span.start = at as u32;
        let (size, height) = measure(&node);
        self.count(size)?;
        self.anchors[id] = Some((node.clone(), size, height));
        Some(node)
    }

    /// The node an alias (`*name`) at `at` copies, spanning the alias.
    fn alias(&mut self, at: usize, depth: usize) -> Option<YamlNode> {
        let name_end = self.name_end(at + 1)?;
        if !self.rest_is_blank(name_end) {
            return None;
        }
        let node = self.copy_of(at, name_end, depth)?;
        self.pos = self.next_line(at);
        Some(node)
    }

    /// A copy of the node anchored under the name an alias at `at` gives,
    /// spanning the alias.
    fn copy_of(&mut self, at: usize, name_end: usize, depth: usize) -> Option<YamlNode> {
        let id = *self.anchor_names.get(&self.text[at + 1..name_end])?;
        let (node, size, height) = self.anchors[id].as_ref()?;
        let (mut node, size, height) = (node.clone(), *size, *height);
        self.alias_nodes = self.alias_nodes.saturating_add(size);
        if self.alias_nodes > self.limits.max_alias_nodes
            || depth + height + 1 >= self.limits.max_depth
        {
            return None;
        }
        self.count(size)?;
        node.span = self.span(at, name_end);
        Some(node)
    }

    /// The end of an anchor or alias name starting at `at`.
    fn name_end(&self, at: usize) -> Option<usize> {
        let mut i = at;
        while i < self.b.len()
            && !matches!(self.b[i], b' ' | b'\n' | b',' | b'[' | b']' | b'{' | b'}')
        {
            i += 1;
        }
        (i > at).then_some(i)
    }

    /// A scalar or flow collection written on its key's or dash's line,
    /// starting at `at`, in a collection at indentation `col`.
    fn inline(&mut self, at: usize, col: usize, depth: usize) -> Option<YamlNode> {
        let eol = self.eol(at);
        let node = match self.b[at] {
            b'"' | b'\'' => {
                let (value, after) = self.quoted(at, Some(col))?;
                if !self.rest_is_blank(after) {
                    return None;
                }
                let end = self.eol(after);
                let node = self.node_of(YamlKind::Scalar(value), at, end)?;
                self.pos = self.next_line(end);
                return Some(node);
            }
            b'|' | b'>' => return self.block_scalar(at, eol, col),
            b'{' => self.flow_mapping(at, eol, depth)?,
            b'[' => {
                let (node, close) = self.flow_sequence(at, col, depth)?;
                self.pos = self.next_line(close);
                return Some(node);
            }
            b'-' if !matches!(self.b.get(at + 1), None | Some(b' ') | Some(b'\n')) => {
                return self.plain_value(at, eol, col)
            }
            c if is_indicator(c) => return None,
            _ => return self.plain_value(at, eol, col),
        };
        self.pos = self.next_line(at);
        Some(node)
    }

    /// A plain scalar from `at`, up to a comment and without trailing
    /// spaces, going on over the lines below indented deeper than `col`
    /// (folded as YAML folds them). One that would hold a mapping, or a
    /// comment inside it, is left to saphyr.
    fn plain_value(&mut self, at: usize, eol: usize, col: usize) -> Option<YamlNode> {
        let (mut end, comment) = self.plain_line(at, eol)?;
        self.pos = self.next_line(at);
        let mut folded: Option<String> = None;
        // A comment ends the scalar.
        let mut next = if comment {
            None
        } else {
            self.continuation(col)
        };
        while let Some((content, blanks)) = next {
            if is_indicator(self.b[content]) && self.b[content] != b'-' {
                return None;
            }
            let (line_end, comment) = self.plain_line(content, self.eol(content))?;
            if comment {
                return None;
            }
            let value = folded.get_or_insert_with(|| self.text[at..end].to_string());
            if blanks == 0 {
                value.push(' ');
            } else {
                value.extend(std::iter::repeat_n('\n', blanks));
            }
            value.push_str(&self.text[content..line_end]);
            end = line_end;
            self.pos = self.next_line(content);
            next = self.continuation(col);
        }
        match folded {
            Some(value) => self.node_of(YamlKind::Scalar(value), at, end),
            None => self.plain(at, end),
        }
    }

    /// The line from `self.pos` on that continues a multi-line scalar of a
    /// collection at indentation `col`: its first character and the blank
    /// lines before it. Indented deeper than `col`, not a comment.
    fn continuation(&self, col: usize) -> Option<(usize, usize)> {
        let mut blanks = 0;
        let mut line = self.pos;
        let content = loop {
            let content = self.skip_spaces(line);
            if self.b.get(content) != Some(&b'\n') {
                break content;
            }
            blanks += 1;
            line = content + 1;
        };
        let continues = content < self.b.len() && content - line > col && self.b[content] != b'#';
        continues.then_some((content, blanks))
    }

    /// The end of one line of a plain scalar starting at `at` (trailing
    /// spaces and a comment left out), and whether a comment follows.
    fn plain_line(&self, at: usize, eol: usize) -> Option<(usize, bool)> {
        let line = &self.b[at..eol];
        let mut end = line.len();
        let mut comment = false;
        for i in 1..line.len() {
            if line[i] == b'#' && line[i - 1] == b' ' {
                end = i;
                comment = true;
                break;
            }
        }
        while end > 0 && line[end - 1] == b' ' {
            end -= 1;
        }
        let value = &line[..end];
        if value.ends_with(b":") || value.windows(2).any(|w| w == b": ") {
            return None;
        }
        Some((at + end, comment))
    }

    /// A quoted scalar at `at`: its value and the position after its
    /// closing quote. Closed on its line unless `below` is given, then it may
    /// go on over lines indented deeper than `below`, folded as YAML folds
    /// them. Double-quoted with a few common escapes; single-quoted with
    /// `''` for a quote.
    fn quoted(&self, at: usize, below: Option<usize>) -> Option<(String, usize)> {
        let quote = self.b[at];
        let b = self.b;
        let mut value = String::new();
        let mut i = at + 1;
        let mut run = i;
        loop {
            let c = *b.get(i)?;
            if c == quote {
                if quote == b'\'' && b.get(i + 1) == Some(&b'\'') {
                    value.push_str(&self.text[run..=i]);
                    i += 2;
                    run = i;
                    continue;
                }
                break;
            }
            if c == b'\\' && quote == b'"' {
                value.push_str(&self.text[run..i]);
                value.push(match *b.get(i + 1)? {
                    b'\\' => '\\',
                    b'"' => '"',
                    b'/' => '/',
                    b'n' => '\n',
                    b't' => '\t',
                    _ => return None,
                });
                i += 2;
                run = i;
                continue;
            }
            if c == b'\n' {
                let col = below?;
                value.push_str(self.text[run..i].trim_end_matches(' '));
                // Blank lines become line breaks, a single break a space.
                let mut blanks = 0;
                let mut line = i + 1;
                loop {
                    let content = self.skip_spaces(line);
                    match b.get(content) {
                        None => return None,
                        Some(b'\n') => {
                            blanks += 1;
                            line = content + 1;
                        }
                        Some(_) if content - line <= col => return None,
                        Some(_) => {
                            i = content;
                            break;
                        }
                    }
                }
                if blanks == 0 {
                    value.push(' ');
                } else {
                    value.extend(std::iter::repeat_n('\n', blanks));
                }
                run = i;
                continue;
            }
            i += 1;
        }
        value.push_str(&self.text[run..i]);
        Some((value, i + 1))
    }

    /// A flow sequence of scalars at `at`, in a block collection at
    /// indentation `col`: its node and its closing bracket. It may go on over
    /// lines indented deeper than `col`, with comments between items.
    fn flow_sequence(&mut self, at: usize, col: usize, depth: usize) -> Option<(YamlNode, usize)> {
        if depth + 1 > self.limits.max_depth {
            return None;
        }
        let mut items = Vec::new();
        let mut i = self.flow_gap(at + 1, col)?;
        while self.b[i] != b']' {
            let (item, after) = self.flow_scalar(i, self.eol(i), false, depth)?;
            items.push(item);
            i = self.flow_gap(after, col)?;
            match self.b[i] {
                // A comma may end the sequence.
                b',' => i = self.flow_gap(i + 1, col)?,
                b']' => {}
                _ => return None,
            }
        }
        if !self.rest_is_blank(i + 1) {
            return None;
        }
        let node = self.node_of(YamlKind::Seq(items), at, self.eol(i))?;
        Some((node, i))
    }

    /// The next token in a flow sequence from `at` on, past spaces, line
    /// breaks and comments; the lines it goes on to must be indented deeper
    /// than `col`, as saphyr requires.
    fn flow_gap(&self, at: usize, col: usize) -> Option<usize> {
        let mut i = self.skip_spaces(at);
        loop {
            match *self.b.get(i)? {
                b'\n' => {
                    let line = i + 1;
                    i = self.skip_spaces(line);
                    if self.b.get(i).is_some_and(|&c| c != b'\n') && i - line <= col {
                        return None;
                    }
                }
                b'#' if matches!(self.b[i - 1], b' ' | b'\n') => i = self.eol(i),
                _ => return Some(i),
            }
        }
    }

    /// A flow mapping of scalars closed on its line.
    fn flow_mapping(&mut self, at: usize, eol: usize, depth: usize) -> Option<YamlNode> {
        if depth + 1 > self.limits.max_depth {
            return None;
        }
        let mut entries = Vec::new();
        let mut i = self.skip_spaces(at + 1);
        if self.b.get(i) != Some(&b'}') {
            loop {
                let (key, after) = self.flow_scalar(i, eol, true, depth)?;
                let colon = self.skip_spaces(after);
                if self.b.get(colon) != Some(&b':') || self.b.get(colon + 1) != Some(&b' ') {
                    return None;
                }
                let v = self.skip_spaces(colon + 1);
                let (value, after) = match self.b.get(v) {
                    Some(b',') | Some(b'}') => (self.node_of(YamlKind::Null, colon, colon)?, v),
                    _ => self.flow_scalar(v, eol, false, depth)?,
                };
                entries.push((key, value));
                i = self.skip_spaces(after);
                match self.b.get(i) {
                    Some(b',') => {
                        i = self.skip_spaces(i + 1);
                        if self.b.get(i) == Some(&b'}') {
                            return None;
                        }
                    }
                    Some(b'}') => break,
                    _ => return None,
                }
            }
        }
        if !self.rest_is_blank(i + 1) {
            return None;
        }
        self.node_of(YamlKind::Map(entries), at, eol)
    }

    /// A scalar of a flow collection, on one line, and where it ends; a
    /// quoted one spans up to the next token on its line.
    fn flow_scalar(
        &mut self,
        at: usize,
        eol: usize,
        key: bool,
        depth: usize,
    ) -> Option<(YamlNode, usize)> {
        let c = *self.b[..eol].get(at)?;
        if c == b'"' || c == b'\'' {
            let (value, after) = self.quoted(at, None)?;
            let next = self.skip_spaces(after);
            let end = if self.at_end(next) { eol } else { next };
            let node = self.node_of(YamlKind::Scalar(value), at, end)?;
            return Some((node, after));
        }
        if c == b'*' {
            let name_end = self.name_end(at + 1)?;
            return Some((self.copy_of(at, name_end, depth + 1)?, name_end));
        }
        if is_indicator(c) {
            return None;
        }
        let mut i = at;
        while i < eol {
            match self.b[i] {
                b',' | b']' | b'}' => break,
                b':' if key && self.b.get(i + 1) == Some(&b' ') => break,
                b':' | b'[' | b'{' | b'#' => return None,
                // saphyr reads an indicator after a space as the start of
                // something else (`[a -]` is an error).
                b' ' if self
                    .b
                    .get(i + 1)
                    .is_some_and(|&n| is_indicator(n) && !matches!(n, b',' | b']' | b'}')) =>
                {
                    return None
                }
                _ => i += 1,
            }
        }
        // One that goes on to the next line would be folded.
        if i == eol {
            return None;
        }
        let mut end = i;
        while end > at && self.b[end - 1] == b' ' {
            end -= 1;
        }
        let node = self.plain(at, end)?;
        Some((node, end))
    }

    /// A literal (`|`) or folded (`>`) block scalar whose header is at `at`,
    /// below an entry at indentation `col`; clip or strip chomping.
    fn block_scalar(&mut self, at: usize, eol: usize, col: usize) -> Option<YamlNode> {
        let literal = self.b[at] == b'|';
        let mut h = at + 1;
        let strip = match self.b.get(h) {
            Some(b'-') => {
                h += 1;
                true
            }
            Some(b'+') | Some(b'0'..=b'9') => return None,
            _ => false,
        };
        if !matches!(self.b.get(h), None | Some(b' ') | Some(b'\n')) || !self.rest_is_blank(h) {
            return None;
        }
        // Leading blank lines, then the first content line, which sets the
        // indentation.
        let mut first = eol + 1;
        let mut leading = 0usize;
        let mut widest_blank = 0usize;
        loop {
            if first >= self.b.len() {
                return None;
            }
            let content = self.skip_spaces(first);
            if content < self.b.len() && self.b[content] != b'\n' {
                break;
            }
            widest_blank = widest_blank.max(content - first);
            leading += 1;
            first = (content + 1).min(self.b.len());
        }
        let indent = self.skip_spaces(first) - first;
        if indent <= col || widest_blank > indent {
            return None;
        }
        let mut value = "\n".repeat(leading);
        // Blank lines since the last content line.
        let mut blanks = 0usize;
        let mut seen = false;
        let mut start = first;
        let end = loop {
            if start >= self.b.len() {
                break self.b.len();
            }
            let content = self.skip_spaces(start);
            let line_end = self.eol(start);
            if content == line_end && content - start <= indent {
                // saphyr reads spaces closing the text as an empty line.
                if line_end == self.b.len() {
                    return None;
                }
                blanks += 1;
            } else if content - start < indent {
                break content;
            } else {
                if !literal && content - start > indent {
                    return None;
                }
                if seen {
                    let breaks = if literal || blanks == 0 {
                        blanks + 1
                    } else {
                        blanks
                    };
                    if !literal && blanks == 0 {
                        value.push(' ');
                    } else {
                        value.extend(std::iter::repeat_n('\n', breaks));
                    }
                }
                value.push_str(&self.text[start + indent..line_end]);
                seen = true;
                blanks = 0;
            }
            if line_end >= self.b.len() {
                break self.b.len();
            }
            start = line_end + 1;
        };
        if !strip {
            value.push('\n');
        }
        self.pos = if end >= self.b.len() {
            self.b.len()
        } else {
            // The start of the line that ended the scalar.
            self.text[..end].rfind('\n').map_or(0, |i| i + 1)
        };
        self.node_of(YamlKind::Scalar(value), first + indent, end)
    }
}

/// Nodes in a tree and its collection levels, as saphyr's builder counts
/// them for aliases.
fn measure(node: &YamlNode) -> (usize, usize) {
    match &node.kind {
        YamlKind::Null | YamlKind::Scalar(_) => (1, 0),
        YamlKind::Seq(items) => items.iter().fold((1, 1), |(s, h), i| {
            let (is, ih) = measure(i);
            (s + is, h.max(ih + 1))
        }),
        YamlKind::Map(entries) => entries.iter().fold((1, 1), |(s, h), (k, v)| {
            let (ks, kh) = measure(k);
            let (vs, vh) = measure(v);
            (s + ks + vs, h.max(kh.max(vh) + 1))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::yaml::parse_with_saphyr;

    fn fast(text: &str) -> Option<Vec<YamlNode>> {
        parse(SourceId(0), text, &Limits::default())
    }

    /// The fast path takes `text` and builds what saphyr builds, spans
    /// included.
    fn same(text: &str) {
        let ours = fast(text).unwrap_or_else(|| panic!("left to saphyr: {text:?}"));
        let theirs = parse_with_saphyr(SourceId(0), text, &Limits::default()).expect("saphyr");
        assert_eq!(ours, theirs, "{text:?}");
    }

    fn left_to_saphyr(text: &str) {
        assert!(fast(text).is_none(), "taken: {text:?}");
    }

    #[test]
    fn block_collections_and_one_line_scalars() {
        same("a: b\nc:\nd: \"x\"   # c\ni: ~\nj:   \nk: null\n");
        same("a:\n  b:\n    c: 1\n  d: 2\ne: 3\n");
        same("- 1\n- k: v\n  m: n\n-\n-  # c\n- x\n");
        same("containers:\n- name: x\n  image: y\n- name: z\nother: 1\n");
        same("a: x:y\nb: http://h:8123/p\nc: a#b\nd: -1\ne: --flag\n");
        same("\"a b\": 1\n'c'  : 2\nsettings/*: \"yes\"\n<<: x\n");
        same("a: 'it''s'\nb: \"q\\\"t\\\\n\\n\"\nc: é ü\n");
    }

    #[test]
    fn block_scalars_fold_and_chomp_as_saphyr_does() {
        same("a: |\n  line1\n  line2\n\nf: >-\n  x\n  y\n");
        same("x:\n  a: |\n    l1\n\n  b: 2\n");
        same("x:\n  a: |-\n    l1\n    l2\n  # c\n  b: 2\n");
        same("a: |\n  x");
        same("a: >\n  x\n  y\n\n  z\n  v\n");
        same("a: |\n\n  x\nb: >-\n \n\n  y\n  z\n");
        same("a: |\n  x\n    \n  y\nb: |\n  x\n    \nc: 1\n");
        same("l:\n- a: |\n    x\n- |\n  y\n");
        left_to_saphyr("a: |+\n  x\n");
        left_to_saphyr("a: |2\n   x\n");
        left_to_saphyr("a: >\n  x\n   more\n");
        left_to_saphyr("a: |\n  x\n  ");
    }

    #[test]
    fn flows_anchors_and_aliases() {
        same("a: [\"x\", y ,  'z' ]  # c\nb: [ ]\nc: {}\nd: {\"@r\": 1, b: \"c\" , d: }\n");
        same("x: &c\n  a: 1\ny:\n  <<: *c\n  b: *c   # z\nr: &n null\ns: &q \"v\"  # q\nt: *n\n");
        same("l: &l\n- a\n- b\nm: &m\n  - a\nk: &k [a, *l]\nj: &j |\n  x\n");
        same("- &a x\n- *a\n- &b\n  k: v\n- *b\n");
        // The anchor written last names the node, even inside the first.
        same("x: &c\n  y: &c\n    a: 1\nz: *c\n");
        left_to_saphyr("a: [x, [y]]\n");
        left_to_saphyr("a: {x: 1,\n  y: 2}\n");
        left_to_saphyr("f: [~ *q -]\n");
        left_to_saphyr("a: *unknown\n");
        left_to_saphyr("a: !!str x\n");
    }

    #[test]
    fn flow_sequences_over_lines() {
        same("a: [\n    \"x\",\n    # c\n    \"y\", ]\nb: [ x,\n  y ]  # c\nc: [x, y,]\n");
        same("d:\n  e: [\n    \"CMD\", # c\n      \"z\"\n    ]\n");
        // Closed at the key's indentation: saphyr's error.
        left_to_saphyr("a:\n  b: [\n    \"x\",\n  ]\n");
        left_to_saphyr("a: [\n  x\n  y ]\n");
    }

    #[test]
    fn multi_line_scalars_fold() {
        same("a: '{\n    \"t\": 1,  \n\n     x\n    }'  # c\nb: \"x\n  y\"\n");
        same("a: x y  \n  z  \n\n  w  \nb: 1\n");
        same("- x\n  y\n- z\n");
        same("a:\n  \"v\" # c\nb:\n  plain\n");
        left_to_saphyr("a: \"x\ny\"\n");
        left_to_saphyr("a: x\n  y # c\n  z\n");
    }

    #[test]
    fn documents_and_markers() {
        same("---\n---\na: 1\n");
        same("a: 1\n---\n");
        same("---\n");
        same("a: 1\n--- # x\nb: 2\n");
        same("# only a comment\n");
        same("");
        left_to_saphyr("a: 1\n...\n");
        left_to_saphyr("%YAML 1.2\n---\na: 1\n");
        left_to_saphyr("--- a\n");
    }

    #[test]
    fn what_saphyr_rejects_is_left_to_it() {
        for text in [
            "a: b: c\n",
            "a: 1\n- b\n",
            "a:\n  b: 1\n c: 2\n",
            "a: \"open\n",
            "a:\tb\n",
            "a: b\r\n",
            "\u{feff}a: b\n",
            "a: x\n  y: z\n",
            "a: [x]]\n",
            "scalar document\n",
        ] {
            left_to_saphyr(text);
            assert!(
                text.contains(['\t', '\r', '\u{feff}'])
                    || text == "scalar document\n"
                    || parse_with_saphyr(SourceId(0), text, &Limits::default()).is_err(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn limits_send_the_text_to_saphyr() {
        let deep: String = (0..300)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        left_to_saphyr(&format!("{deep}{}v: 1\n", " ".repeat(300)));
        let small = Limits {
            max_nodes: 10,
            ..Limits::default()
        };
        let many: String = (0..20).map(|i| format!("k{i}: v\n")).collect();
        assert!(parse(SourceId(0), &many, &small).is_none());
        let bomb = Limits {
            max_alias_nodes: 5,
            ..Limits::default()
        };
        let aliases = "a: &a [x, y, z]\nb: [*a, *a, *a]\n";
        assert!(parse(SourceId(0), aliases, &bomb).is_none());
    }
}
