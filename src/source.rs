//! Source files, byte spans and line/column lookup.
//!
//! Every parsed node keeps a [`Span`] into the file it came from, so a finding
//! can always point at a line the user can open.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::slots::Slots;

/// Index of a file in a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceId(pub u32);

/// A byte range in one source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    pub source: SourceId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(source: SourceId, start: usize, end: usize) -> Span {
        Span {
            source,
            start: start as u32,
            end: end.max(start) as u32,
        }
    }
}

/// How a source came to be: a file on disk, text chlint ships (the
/// defaults ClickHouse applies when a file is absent), or text embedded in
/// another source (an XML config in a ConfigMap, a users file in Helm
/// values, the files an image ships blamed on its `image:` line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceKind {
    File,
    Builtin,
    Embedded(Embedding),
}

/// Where the text of an embedded source sits in its host.
///
/// When the text was written line by line in the host (a YAML literal block
/// scalar), `lines[i]` is the host byte offset of the first character of
/// embedded line `i`, and a span maps to the same characters in the host.
/// Otherwise (base64, quoted or folded scalars, text an image ships) `lines`
/// is empty and every span maps to `whole`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Embedding {
    pub host: SourceId,
    pub whole: Span,
    pub lines: Vec<u32>,
}

#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user gave it (relative stays relative).
    pub path: PathBuf,
    /// Owned, or text chlint ships (the defaults an image ships into every
    /// container: one copy for thousands of containers).
    pub text: Cow<'static, str>,
    pub kind: SourceKind,
    /// Its lines are never printed (a plan file holds secrets in clear).
    opaque: AtomicBool,
    /// Its text is never forgotten (see [`SourceMap::pin`]).
    pinned: AtomicBool,
    /// Where each line starts and, for non-ASCII text, characters before
    /// every [`CHAR_BLOCK`]-th byte (so that a column on a very long line is
    /// found without counting the whole line). Built when first needed: a
    /// file nothing is reported in never pays for it (a 30 MB file of empty
    /// lines would take 120 MB).
    index: OnceLock<Index>,
    /// The path as printed, made once: a large run locates tens of
    /// thousands of findings, and each printing looks the path's folders
    /// up among the named inputs.
    shown: OnceLock<String>,
}

#[derive(Debug)]
struct Index {
    line_starts: Vec<u32>,
    /// Empty for ASCII text.
    char_marks: Vec<u32>,
}

/// Bytes between two entries of [`Index::char_marks`]: a column is found by
/// counting at most this many bytes (4096 made each lookup in a non-ASCII
/// file cost thousands of instructions); the marks take 1.6% of the text.
const CHAR_BLOCK: usize = 256;

/// Characters that start in `bytes` (every byte but UTF-8 continuation bytes).
fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| (**b & 0xC0) != 0x80).count()
}

impl SourceFile {
    /// [`display_path`] of the file's path.
    pub fn shown(&self) -> &str {
        self.shown.get_or_init(|| display_path(&self.path))
    }

    pub fn new(path: PathBuf, text: impl Into<Cow<'static, str>>, kind: SourceKind) -> SourceFile {
        SourceFile {
            path,
            text: text.into(),
            kind,
            opaque: AtomicBool::new(false),
            pinned: AtomicBool::new(false),
            index: OnceLock::new(),
            shown: OnceLock::new(),
        }
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| {
            let text = &self.text;
            let mut line_starts = vec![0u32];
            line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i as u32 + 1));
            let char_marks = if text.is_ascii() {
                Vec::new()
            } else {
                let mut marks = Vec::with_capacity(text.len() / CHAR_BLOCK + 1);
                let mut total = 0u32;
                for block in text.as_bytes().chunks(CHAR_BLOCK) {
                    marks.push(total);
                    total += count_chars(block) as u32;
                }
                marks
            };
            Index {
                line_starts,
                char_marks,
            }
        })
    }

    fn line_starts(&self) -> &[u32] {
        &self.index().line_starts
    }

    /// Characters that start before byte `offset`.
    fn chars_before(&self, offset: usize) -> usize {
        let marks = &self.index().char_marks;
        if marks.is_empty() {
            return offset;
        }
        let block = offset / CHAR_BLOCK;
        let base = marks.get(block).copied().unwrap_or(0) as usize;
        base + count_chars(&self.text.as_bytes()[block * CHAR_BLOCK..offset])
    }

    /// 1-based line and column (in characters) of a byte offset. Constant
    /// time in the length of the line.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = offset.min(self.text.len() as u32);
        let line_starts = self.line_starts();
        let line = match line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = line_starts[line] as usize;
        let mut end = offset as usize;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let col = self.chars_before(end) - self.chars_before(start) + 1;
        (line + 1, col)
    }

    /// Byte offset where a 1-based line starts (the end of the text past the last line).
    pub fn line_offset(&self, line: usize) -> usize {
        self.line_starts()
            .get(line.wrapping_sub(1))
            .map(|&s| s as usize)
            .unwrap_or(self.text.len())
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        let line_starts = self.line_starts();
        let Some(&start) = line_starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self
            .line_starts()
            .get(line)
            .map(|&e| e as usize)
            .unwrap_or(self.text.len());
        self.text[start as usize..end].trim_end_matches(['\n', '\r'])
    }

    pub fn line_count(&self) -> usize {
        self.line_starts().len()
    }

    pub fn is_builtin(&self) -> bool {
        self.kind == SourceKind::Builtin
    }

    /// Are its lines never to be printed (see [`SourceMap::set_opaque`])?
    pub fn is_opaque(&self) -> bool {
        self.opaque.load(Ordering::Relaxed)
    }

    pub fn embedding(&self) -> Option<&Embedding> {
        match &self.kind {
            SourceKind::Embedded(e) => Some(e),
            _ => None,
        }
    }

    /// Byte offset of the start of a 0-based line.
    fn line_start(&self, line: usize) -> Option<u32> {
        self.line_starts().get(line).copied()
    }
}

/// A resolved location: what reports print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// All sources of one run. Files are added once and never re-read.
/// Threads may add sources while others read them (deployment files are
/// lowered in parallel): a source never moves once added.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Slots<SourceFile>,
    /// The first source of each path, embedded texts (which carry their
    /// host's path) left out.
    by_path: Mutex<HashMap<PathBuf, SourceId>>,
}

impl SourceMap {
    pub fn add(&self, file: SourceFile) -> SourceId {
        let host = file.embedding().map(|e| e.host);
        let path = host.is_none().then(|| file.path.clone());
        let id = SourceId(self.files.push(file) as u32);
        match (host, path) {
            // Its spans map into the host: the host's text stays.
            (Some(host), _) => self.pin(host),
            (None, Some(path)) => {
                let mut by_path = self.by_path.lock().unwrap_or_else(|e| e.into_inner());
                by_path.entry(path).or_insert(id);
            }
            (None, None) => {}
        }
        id
    }

    pub fn get(&self, id: SourceId) -> &SourceFile {
        self.files
            .get(id.0 as usize)
            .expect("a source id names an added source")
    }

    fn get_mut(&mut self, id: SourceId) -> &mut SourceFile {
        self.files
            .get_mut(id.0 as usize)
            .expect("a source id names an added source")
    }

    pub fn find(&self, path: &Path) -> Option<SourceId> {
        let by_path = self.by_path.lock().unwrap_or_else(|e| e.into_inner());
        by_path.get(path).copied()
    }

    /// Keep the text of this source for the whole run: something (an
    /// embedded text, a loaded tree, a deployment or Terraform finding)
    /// points into it.
    pub fn pin(&self, id: SourceId) {
        self.get(id).pinned.store(true, Ordering::Relaxed);
    }

    pub fn is_pinned(&self, id: SourceId) -> bool {
        self.get(id).pinned.load(Ordering::Relaxed)
    }

    /// Drop the text of a source nothing will point into (a file that turned
    /// out not to be a ClickHouse configuration), so that a run over a large
    /// repository holds only the text it reports on. A pinned source (see
    /// [`SourceMap::pin`]) keeps its text.
    pub fn forget_text(&mut self, id: SourceId) {
        if self.is_pinned(id) {
            return;
        }
        let file = self.get_mut(id);
        file.text = Cow::Borrowed("");
        file.index = OnceLock::new();
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Never print this source's lines.
    pub fn set_opaque(&self, id: SourceId) {
        self.get(id).opaque.store(true, Ordering::Relaxed);
    }

    pub fn is_builtin(&self, span: Span) -> bool {
        self.get(self.to_host(span).source).is_builtin()
    }

    /// Register text embedded in `whole` (a span of another source). `lines`
    /// as in [`Embedding`]; pass an empty list when the text is not written
    /// line by line in the host.
    pub fn add_embedded(
        &self,
        text: impl Into<Cow<'static, str>>,
        whole: Span,
        lines: Vec<u32>,
    ) -> SourceId {
        let host = self.to_host(whole);
        let path = self.get(host.source).path.clone();
        self.add(SourceFile::new(
            path,
            text,
            SourceKind::Embedded(Embedding {
                host: host.source,
                whole: host,
                lines,
            }),
        ))
    }

    /// The span in a file the user can open: embedded sources map to their
    /// host (through every level of embedding).
    pub fn to_host(&self, span: Span) -> Span {
        let mut span = span;
        // Embedding only ever refers to earlier sources, so this ends.
        for _ in 0..64 {
            let file = self.get(span.source);
            let Some(emb) = file.embedding() else {
                return span;
            };
            span = self.map_embedded(file, emb, span);
        }
        span
    }

    fn map_embedded(&self, file: &SourceFile, emb: &Embedding, span: Span) -> Span {
        if emb.lines.is_empty() || emb.lines.len() < file.line_count() {
            return emb.whole;
        }
        let host = self.get(emb.host);
        let map = |offset: u32| -> Option<u32> {
            let offset = offset.min(file.text.len() as u32);
            let line = match file.line_starts().binary_search(&offset) {
                Ok(i) => i,
                Err(i) => i - 1,
            };
            let col = offset - file.line_start(line)?;
            let at = emb.lines.get(line)?.checked_add(col)?;
            (at as usize <= host.text.len()).then_some(at)
        };
        match (map(span.start), map(span.end)) {
            (Some(start), Some(end)) => Span {
                source: emb.host,
                start,
                end: end.max(start),
            },
            _ => emb.whole,
        }
    }

    /// The file a span is reported in, as [`SourceMap::locate`] names it.
    pub fn file_name(&self, span: Span) -> String {
        self.get(self.to_host(span).source).shown().to_string()
    }

    pub fn locate(&self, span: Span) -> Location {
        let span = self.to_host(span);
        let file = self.get(span.source);
        let (line, column) = file.line_col(span.start);
        let (end_line, end_column) = file.line_col(span.end);
        Location {
            file: file.shown().to_string(),
            line,
            column,
            end_line,
            end_column,
        }
    }
}

/// Paths are printed with forward slashes and without a leading `./`;
/// absolute ones as [`crate::paths::display`] decides.
pub fn display_path(path: &Path) -> String {
    let s = crate::paths::display(path)
        .to_string_lossy()
        .replace('\\', "/");
    match s.strip_prefix("./") {
        Some(rest) if !rest.is_empty() => rest.to_string(),
        // The working folder itself (a server's folder).
        _ if s.is_empty() => ".".to_string(),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_of_an_embedded_text_keeps_its_text_and_find_skips_embedded() {
        let mut map = SourceMap::default();
        let host = map.add(SourceFile::new(
            "k8s.yaml".into(),
            "data:\n  a.xml: |\n    <clickhouse/>\n".to_string(),
            SourceKind::File,
        ));
        let other = map.add(SourceFile::new(
            "x.yaml".into(),
            "a: 1\n".to_string(),
            SourceKind::File,
        ));
        let embedded = map.add_embedded(
            "<clickhouse/>\n".to_string(),
            Span::new(host, 22, 36),
            vec![22],
        );
        assert_eq!(map.find(Path::new("k8s.yaml")), Some(host));
        map.forget_text(host);
        map.forget_text(other);
        assert!(map.get(host).text.contains("<clickhouse/>"));
        assert!(map.get(other).text.is_empty());
        assert_eq!(map.locate(Span::new(embedded, 1, 11)).line, 3);
    }

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let f = SourceFile::new("a".into(), "ab\nçd\n", SourceKind::File);
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(5), (2, 2));
        assert_eq!(f.line_text(2), "çd");
        assert_eq!(f.line_text(9), "");
    }

    #[test]
    fn columns_on_long_non_ascii_lines_count_characters() {
        let text = format!("x\n{}é{}end", "ü".repeat(10_000), "a".repeat(9_000));
        let f = SourceFile::new("a".into(), text.clone(), SourceKind::File);
        let at = text.find("end").unwrap() as u32;
        assert_eq!(f.line_col(at), (2, 10_000 + 1 + 9_000 + 1));
        // Inside a multi-byte character: the character's own column.
        let e = text.find('é').unwrap() as u32;
        assert_eq!(f.line_col(e + 1), (2, 10_001));
        assert_eq!(f.line_col(text.len() as u32 + 5), (2, 19_005));
    }
}
