//! Source files, byte spans and line/column lookup.
//!
//! Every parsed node keeps a [`Span`] into the file it came from, so a finding
//! can always point at a line the user can open.

use std::path::{Path, PathBuf};

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
    pub text: String,
    pub kind: SourceKind,
    /// Its lines are never printed (a plan file holds secrets in clear).
    pub opaque: bool,
    line_starts: Vec<u32>,
}

impl SourceFile {
    pub fn new(path: PathBuf, text: String, kind: SourceKind) -> SourceFile {
        let mut line_starts = vec![0u32];
        // A char pattern is searched with memchr: many bytes at a time.
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i as u32 + 1));
        SourceFile {
            path,
            text,
            kind,
            opaque: false,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = offset.min(self.text.len() as u32);
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line] as usize;
        let mut end = offset as usize;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let col = self.text[start..end].chars().count() + 1;
        (line + 1, col)
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        let Some(&start) = self.line_starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line)
            .map(|&e| e as usize)
            .unwrap_or(self.text.len());
        self.text[start as usize..end].trim_end_matches(['\n', '\r'])
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    pub fn is_builtin(&self) -> bool {
        self.kind == SourceKind::Builtin
    }

    pub fn embedding(&self) -> Option<&Embedding> {
        match &self.kind {
            SourceKind::Embedded(e) => Some(e),
            _ => None,
        }
    }

    /// Byte offset of the start of a 0-based line.
    fn line_start(&self, line: usize) -> Option<u32> {
        self.line_starts.get(line).copied()
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
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    /// The first source registered under each path (embedded ones aside).
    by_path: std::collections::HashMap<PathBuf, SourceId>,
}

impl SourceMap {
    pub fn add(&mut self, file: SourceFile) -> SourceId {
        let id = SourceId(self.files.len() as u32);
        if file.embedding().is_none() && !self.by_path.contains_key(&file.path) {
            self.by_path.insert(file.path.clone(), id);
        }
        self.files.push(file);
        id
    }

    pub fn get(&self, id: SourceId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn find(&self, path: &Path) -> Option<SourceId> {
        self.by_path.get(path).copied()
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Never print this source's lines.
    pub fn set_opaque(&mut self, id: SourceId) {
        self.files[id.0 as usize].opaque = true;
    }

    pub fn is_builtin(&self, span: Span) -> bool {
        self.get(self.to_host(span).source).is_builtin()
    }

    /// Register text embedded in `whole` (a span of another source). `lines`
    /// as in [`Embedding`]; pass an empty list when the text is not written
    /// line by line in the host.
    pub fn add_embedded(&mut self, text: String, whole: Span, lines: Vec<u32>) -> SourceId {
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
            let line = match file.line_starts.binary_search(&offset) {
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

    pub fn locate(&self, span: Span) -> Location {
        let span = self.to_host(span);
        let file = self.get(span.source);
        let (line, column) = file.line_col(span.start);
        let (end_line, end_column) = file.line_col(span.end);
        Location {
            file: display_path(&file.path),
            line,
            column,
            end_line,
            end_column,
        }
    }
}

/// Paths are printed with forward slashes and without a leading `./`.
pub fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    match s.strip_prefix("./") {
        Some(rest) if !rest.is_empty() => rest.to_string(),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let f = SourceFile::new("a".into(), "ab\nçd\n".into(), SourceKind::File);
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(5), (2, 2));
        assert_eq!(f.line_text(2), "çd");
        assert_eq!(f.line_text(9), "");
    }
}
