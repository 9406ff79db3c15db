//! Reading configuration files (each once) and building one effective tree:
//! the main file, its merge files in ClickHouse's order, then substitutions.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::element::Element;
use super::merge::{merge, Flavor, MergeError, MergeNote};
use super::substitute::{substitute, Context, SubstNote};
use super::yaml_map::{yaml_to_element, YamlNote};
use crate::source::{SourceFile, SourceId, SourceKind, SourceMap, Span};
use crate::syntax::{self, Limits, ParseError};

/// Files larger than this are not parsed (a configuration is kilobytes).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// Something about one file or one merge that rules may report.
#[derive(Clone, Debug, PartialEq)]
pub enum ConfigNote {
    Invalid {
        source: SourceId,
        error: ParseError,
    },
    Unreadable {
        path: PathBuf,
        message: String,
    },
    /// An unrendered template (`{{ … }}`): not a configuration yet.
    Template {
        source: SourceId,
    },
    Yaml(YamlNote),
    /// A merge file whose root is not `<clickhouse>`/`<yandex>` under a main
    /// file whose root is.
    RootMismatch {
        span: Span,
        root: String,
    },
    MergeFailed(MergeError),
    Merge(MergeNote),
    Subst(SubstNote),
}

#[derive(Clone, Debug)]
enum FileEntry {
    Parsed {
        source: SourceId,
        root: Element,
        notes: Vec<ConfigNote>,
    },
    Failed(ConfigNote),
}

/// One effective configuration tree.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub root: Element,
    /// The main file, `None` when the shipped defaults stand in for it.
    pub main: Option<SourceId>,
    /// Every file that contributed, in merge order.
    pub files: Vec<SourceId>,
    pub notes: Vec<ConfigNote>,
}

impl Loaded {
    /// Notes that make the server refuse to start with this configuration.
    pub fn fatal_notes(&self) -> impl Iterator<Item = &ConfigNote> {
        self.notes.iter().filter(|n| {
            matches!(
                n,
                ConfigNote::Invalid { .. }
                    | ConfigNote::Unreadable { .. }
                    | ConfigNote::Template { .. }
                    | ConfigNote::RootMismatch { .. }
                    | ConfigNote::MergeFailed(_)
                    | ConfigNote::Subst(
                        SubstNote::Conflicting { .. } | SubstNote::BadEnvValue { .. }
                    )
            )
        })
    }
}

/// The base of a tree: a file, or shipped defaults.
pub enum Base<'a> {
    File(&'a Path),
    Builtin {
        name: &'a str,
        text: &'a str,
    },
    /// Text registered with [`Workspace::add_embedded`].
    Source(SourceId),
    /// A tree generated in memory (by a deployment frontend), its spans
    /// pointing at what caused it.
    Tree(Element),
}

/// One file merged into a tree: on disk, embedded in another file, or
/// generated in memory.
#[derive(Clone, Debug)]
pub enum Input {
    File(PathBuf),
    Source(SourceId),
    Tree(Element),
}

/// A merge input with the path ClickHouse would see it at (inside a
/// container, say), which decides the merge order.
#[derive(Clone, Debug)]
pub struct Layer {
    pub path: String,
    pub input: Input,
}

/// Put layers in the order ClickHouse merges them
/// (ConfigProcessor::getConfigMergeFiles): by full path, as bytes.
pub fn sort_layers(layers: &mut [Layer]) {
    layers.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
}

/// All files of one run; each is read and parsed at most once.
pub struct Workspace {
    pub sources: SourceMap,
    pub limits: Limits,
    pub flavor: Flavor,
    pub max_file_size: u64,
    /// Variables for `from_env`, only when given explicitly.
    pub env: Option<HashMap<String, String>>,
    files: HashMap<PathBuf, FileEntry>,
    builtins: HashMap<String, Element>,
    /// Embedded texts, by their source.
    embedded: HashMap<SourceId, FileEntry>,
    /// Files read as plain text (Terraform, plan JSON), by path.
    texts: HashMap<PathBuf, Result<SourceId, ConfigNote>>,
    /// `--var-file`: Terraform variable files for every root module.
    pub var_files: Vec<PathBuf>,
}

impl Default for Workspace {
    fn default() -> Workspace {
        Workspace {
            sources: SourceMap::default(),
            limits: Limits::default(),
            flavor: Flavor::Modern,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            env: None,
            files: HashMap::new(),
            builtins: HashMap::new(),
            embedded: HashMap::new(),
            texts: HashMap::new(),
            var_files: Vec::new(),
        }
    }
}

/// Decode a file's bytes: UTF-8 with or without BOM, UTF-16 with a BOM.
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return String::from_utf8(rest.to_vec()).map_err(|_| "invalid UTF-8".to_string());
    }
    let utf16 = |rest: &[u8], le: bool| -> Result<String, String> {
        if !rest.len().is_multiple_of(2) {
            return Err("odd number of bytes for UTF-16".into());
        }
        let units = rest.chunks(2).map(|c| {
            if le {
                u16::from_le_bytes([c[0], c[1]])
            } else {
                u16::from_be_bytes([c[0], c[1]])
            }
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map_err(|_| "invalid UTF-16".to_string())
    };
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, true);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, false);
    }
    if bytes.contains(&0) {
        return Err("binary file (contains NUL bytes)".into());
    }
    String::from_utf8(bytes.to_vec())
        .map_err(|_| "not UTF-8 text (only UTF-8 and UTF-16 with a BOM are read)".into())
}

/// Text with Helm/Go template actions, which only parses once rendered.
pub fn is_template(text: &str) -> bool {
    text.contains("{{") && text.contains("}}")
}

/// XML or YAML, the way ClickHouse decides (ConfigProcessor::parseConfig).
pub fn is_yaml(path: &Path, text: &str) -> bool {
    match extension(path).as_str() {
        "xml" => false,
        "yaml" | "yml" => true,
        _ => !text.trim_start().starts_with('<'),
    }
}

fn extension(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

/// Parse text as a ClickHouse configuration file.
pub fn parse_config(
    source: SourceId,
    text: &str,
    yaml: bool,
    limits: &Limits,
) -> Result<(Element, Vec<ConfigNote>), ParseError> {
    let root_span = Span::new(source, 0, 0);
    if !yaml {
        return Ok((syntax::xml::parse(source, text, limits)?, Vec::new()));
    }
    let docs = syntax::yaml::parse_documents(source, text, limits)?;
    let Some(doc) = docs.first() else {
        return Ok((Element::new("clickhouse", root_span), Vec::new()));
    };
    let conv = yaml_to_element(doc, root_span)?;
    Ok((
        conv.root,
        conv.notes.into_iter().map(ConfigNote::Yaml).collect(),
    ))
}

impl Workspace {
    /// Read a file once; later calls return the same result.
    fn entry(&mut self, path: &Path) -> &FileEntry {
        if !self.files.contains_key(path) {
            let entry = self.read(path);
            self.files.insert(path.to_path_buf(), entry);
        }
        &self.files[path]
    }

    fn read(&mut self, path: &Path) -> FileEntry {
        let unreadable = |message: String| {
            FileEntry::Failed(ConfigNote::Unreadable {
                path: path.to_path_buf(),
                message,
            })
        };
        match std::fs::metadata(path) {
            Ok(m) if !m.is_file() => return unreadable("not a regular file".into()),
            Ok(m) if m.len() > self.max_file_size => {
                return unreadable(format!(
                    "larger than {} bytes, not read (see --max-file-size)",
                    self.max_file_size
                ))
            }
            Err(e) => return unreadable(e.to_string()),
            Ok(_) => {}
        }
        let text = match std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| decode(&b))
        {
            Ok(t) => t,
            Err(e) => return unreadable(e),
        };
        let yaml = is_yaml(path, &text);
        self.add_text(path.to_path_buf(), text, yaml, SourceKind::File)
    }

    /// Read a file as text into the source map (each file once), without
    /// parsing it as a ClickHouse configuration.
    pub fn read_source(&mut self, path: &Path) -> Result<SourceId, ConfigNote> {
        if let Some(r) = self.texts.get(path) {
            return r.clone();
        }
        // A file already read as a configuration keeps its source, so that
        // what two readers find in it is one finding.
        if let Some(
            FileEntry::Parsed { source, .. }
            | FileEntry::Failed(ConfigNote::Invalid { source, .. } | ConfigNote::Template { source }),
        ) = self.files.get(path)
        {
            return Ok(*source);
        }
        let unreadable = |message: String| ConfigNote::Unreadable {
            path: path.to_path_buf(),
            message,
        };
        let r = match std::fs::metadata(path) {
            Ok(m) if !m.is_file() => Err(unreadable("not a regular file".into())),
            Ok(m) if m.len() > self.max_file_size => Err(unreadable(format!(
                "larger than {} bytes, not read (see --max-file-size)",
                self.max_file_size
            ))),
            Err(e) => Err(unreadable(e.to_string())),
            Ok(_) => match std::fs::read(path)
                .map_err(|e| e.to_string())
                .and_then(|b| decode(&b))
            {
                Ok(text) => Ok(self.sources.add(SourceFile::new(
                    path.to_path_buf(),
                    text,
                    SourceKind::File,
                ))),
                Err(e) => Err(unreadable(e)),
            },
        };
        self.texts.insert(path.to_path_buf(), r.clone());
        r
    }

    /// Register text that did not come from a plain file read (stdin, an
    /// embedded document) under a path.
    pub fn insert_text(&mut self, path: PathBuf, text: String) {
        let yaml = is_yaml(&path, &text);
        let entry = self.add_text(path.clone(), text, yaml, SourceKind::File);
        self.files.insert(path, entry);
    }

    /// Has text been registered (or read) under this path?
    pub fn has_text(&self, path: &Path) -> bool {
        self.files.contains_key(path)
    }

    fn add_text(&mut self, path: PathBuf, text: String, yaml: bool, kind: SourceKind) -> FileEntry {
        let source = SourceId(self.sources.len() as u32);
        let result = parse_config(source, &text, yaml, &self.limits);
        let added = self.sources.add(SourceFile::new(path, text, kind));
        debug_assert_eq!(added, source);
        match result {
            Ok((root, notes)) => FileEntry::Parsed {
                source,
                root,
                notes,
            },
            // A Helm or Go template is rendered before ClickHouse reads it.
            Err(_) if is_template(&self.sources.get(source).text) => {
                FileEntry::Failed(ConfigNote::Template { source })
            }
            Err(error) => FileEntry::Failed(ConfigNote::Invalid { source, error }),
        }
    }

    /// Register text embedded in another source (see
    /// [`SourceMap::add_embedded`]) and parse it as a ClickHouse
    /// configuration, XML or YAML as `name` and the text say.
    pub fn add_embedded(
        &mut self,
        name: &str,
        text: String,
        whole: Span,
        lines: Vec<u32>,
    ) -> SourceId {
        let yaml = is_yaml(Path::new(name), &text);
        let source = SourceId(self.sources.len() as u32);
        let result = parse_config(source, &text, yaml, &self.limits);
        let added = self.sources.add_embedded(text, whole, lines);
        debug_assert_eq!(added, source);
        let entry = match result {
            Ok((root, notes)) => FileEntry::Parsed {
                source,
                root,
                notes,
            },
            Err(_) if is_template(&self.sources.get(source).text) => {
                FileEntry::Failed(ConfigNote::Template { source })
            }
            Err(error) => FileEntry::Failed(ConfigNote::Invalid { source, error }),
        };
        self.embedded.insert(source, entry);
        source
    }

    /// The source a file on disk was registered as, reading it if needed;
    /// `None` when it could not be read.
    pub fn source_of(&mut self, path: &Path) -> Option<SourceId> {
        match self.entry(path) {
            FileEntry::Parsed { source, .. } => Some(*source),
            FileEntry::Failed(
                ConfigNote::Invalid { source, .. } | ConfigNote::Template { source },
            ) => Some(*source),
            FileEntry::Failed(_) => None,
        }
    }

    /// The root of an embedded source, if it parsed.
    pub fn root_of_source(&self, source: SourceId) -> Option<&Element> {
        match self.embedded.get(&source)? {
            FileEntry::Parsed { root, .. } => Some(root),
            FileEntry::Failed(_) => None,
        }
    }

    /// Why an embedded source could not be used, if it could not.
    pub fn failure_of_source(&self, source: SourceId) -> Option<ConfigNote> {
        match self.embedded.get(&source)? {
            FileEntry::Failed(n) => Some(n.clone()),
            FileEntry::Parsed { .. } => None,
        }
    }

    fn input_entry(&mut self, input: &Input) -> FileEntry {
        match input {
            Input::File(path) => self.entry(path).clone(),
            Input::Source(source) => self.embedded.get(source).cloned().unwrap_or_else(|| {
                FileEntry::Failed(ConfigNote::Unreadable {
                    path: self.sources.get(*source).path.clone(),
                    message: "not registered as a configuration".into(),
                })
            }),
            Input::Tree(root) => FileEntry::Parsed {
                source: root.span.source,
                root: root.clone(),
                notes: Vec::new(),
            },
        }
    }

    fn builtin(&mut self, name: &str, text: &str) -> Element {
        if let Some(e) = self.builtins.get(name) {
            return e.clone();
        }
        let source = self.sources.add(SourceFile::new(
            PathBuf::from(format!("<shipped {name}>")),
            text.to_string(),
            SourceKind::Builtin,
        ));
        let root = syntax::xml::parse(source, text, &self.limits).expect("shipped defaults parse");
        self.builtins.insert(name.to_string(), root.clone());
        root
    }

    /// The root element of a file, if it parses (used for classification).
    pub fn root_of(&mut self, path: &Path) -> Option<&Element> {
        match self.entry(path) {
            FileEntry::Parsed { root, .. } => Some(root),
            FileEntry::Failed(_) => None,
        }
    }

    /// The note that explains why a file could not be used, if it could not.
    pub fn failure_of(&mut self, path: &Path) -> Option<ConfigNote> {
        match self.entry(path) {
            FileEntry::Failed(n) => Some(n.clone()),
            FileEntry::Parsed { .. } => None,
        }
    }

    /// Build the effective tree from a base and its merge files (already in
    /// ClickHouse's order), then apply substitutions. A main file that cannot
    /// be used fails the whole tree, as it fails the server.
    pub fn load_tree(
        &mut self,
        base: Base,
        merge_files: &[PathBuf],
        dir: &Path,
    ) -> Result<Loaded, ConfigNote> {
        let inputs: Vec<Input> = merge_files.iter().cloned().map(Input::File).collect();
        self.load_inputs(base, &inputs, dir)
    }

    /// [`Workspace::load_tree`] over inputs of any kind (files, embedded
    /// texts, generated trees), already in merge order (see [`sort_layers`]).
    /// `dir` is where `include_from` is looked up.
    pub fn load_inputs(
        &mut self,
        base: Base,
        inputs: &[Input],
        dir: &Path,
    ) -> Result<Loaded, ConfigNote> {
        let mut notes = Vec::new();
        let mut files = Vec::new();
        let (mut root, main) = match base {
            Base::Builtin { name, text } => (self.builtin(name, text), None),
            Base::Tree(root) => (root, None),
            Base::File(path) => {
                let entry = self.entry(path).clone();
                parsed_base(entry, &mut notes, &mut files)?
            }
            Base::Source(source) => {
                let entry = self.input_entry(&Input::Source(source));
                parsed_base(entry, &mut notes, &mut files)?
            }
        };
        let main_is_ch = is_clickhouse_root(&root.name);
        for input in inputs {
            let (source, other, file_notes) = match self.input_entry(input) {
                FileEntry::Parsed {
                    source,
                    root,
                    notes,
                } => (source, root, notes),
                FileEntry::Failed(note) => {
                    notes.push(note);
                    continue;
                }
            };
            notes.extend(file_notes);
            if main_is_ch && !is_clickhouse_root(&other.name) && self.flavor == Flavor::Modern {
                notes.push(ConfigNote::RootMismatch {
                    span: other.span,
                    root: other.name.clone(),
                });
                continue;
            }
            files.push(source);
            let mut merge_notes = Vec::new();
            if let Err(e) = merge(&mut root, &other, self.flavor, &mut merge_notes) {
                notes.push(ConfigNote::MergeFailed(e));
            }
            notes.extend(merge_notes.into_iter().map(ConfigNote::Merge));
        }
        let include = self.include_file(&root, dir);
        if let Some((source, _)) = &include {
            files.push(*source);
        }
        let env = self.env.clone();
        let ctx = Context {
            include: include.as_ref().map(|(_, e)| e),
            env: env.as_ref(),
            flavor: self.flavor,
        };
        let mut subst_notes = Vec::new();
        substitute(&mut root, &ctx, &mut subst_notes);
        notes.extend(subst_notes.into_iter().map(ConfigNote::Subst));
        Ok(Loaded {
            root,
            main,
            files,
            notes,
        })
    }

    /// The file `<include_from>` names, when the repository has it.
    fn include_file(&mut self, root: &Element, dir: &Path) -> Option<(SourceId, Element)> {
        let named = root.child("include_from")?;
        if named.is_external() {
            return None;
        }
        let path = resolve_in_dir(dir, &named.value())?;
        match self.entry(&path) {
            FileEntry::Parsed { source, root, .. } => Some((*source, root.clone())),
            FileEntry::Failed(_) => None,
        }
    }
}

/// The root of a parsed base file, its notes and source recorded.
fn parsed_base(
    entry: FileEntry,
    notes: &mut Vec<ConfigNote>,
    files: &mut Vec<SourceId>,
) -> Result<(Element, Option<SourceId>), ConfigNote> {
    match entry {
        FileEntry::Parsed {
            source,
            root,
            notes: file_notes,
        } => {
            notes.extend(file_notes);
            files.push(source);
            Ok((root, Some(source)))
        }
        FileEntry::Failed(note) => Err(note),
    }
}

pub fn is_clickhouse_root(name: &str) -> bool {
    name == "clickhouse" || name == "yandex"
}

/// Where a path written in a config lives in the repository: relative to the
/// config's folder; an absolute path under the server's config folder, or
/// whose file sits next to the config, maps to that file. Paths outside the
/// repository are never read.
pub fn resolve_in_dir(dir: &Path, written: &str) -> Option<PathBuf> {
    let written = written.trim();
    if written.is_empty() {
        return None;
    }
    let p = Path::new(written);
    let mut candidates = Vec::new();
    if p.is_relative() {
        candidates.push(dir.join(p));
    } else {
        for prefix in ["/etc/clickhouse-server/", "/etc/clickhouse-keeper/"] {
            if let Some(rest) = written.strip_prefix(prefix) {
                candidates.push(dir.join(rest));
            }
        }
        if let Some(name) = p.file_name() {
            candidates.push(dir.join(name));
        }
        if p.starts_with(dir) || (dir.is_absolute() && p.starts_with(dir)) {
            candidates.push(p.to_path_buf());
        }
        if let Ok(abs) = dir.canonicalize() {
            if p.starts_with(&abs) {
                candidates.push(p.to_path_buf());
            }
        }
    }
    candidates.into_iter().find(|c| c.is_file())
}

/// Does ClickHouse 18.x read a merge file of this name? Poco's `Path` splits
/// the name at its last dot: the extension must be `xml` or `conf` exactly
/// (case matters), and the part before it must not start with a dot — so
/// `.hidden.xml` is skipped but a file named just `.xml` is read.
fn legacy_merge_file_name(name: &str) -> bool {
    let Some((base, ext)) = name.rsplit_once('.') else {
        return false;
    };
    matches!(ext, "xml" | "conf") && !base.starts_with('.')
}

/// The files ClickHouse merges into `main` (ConfigProcessor::getConfigMergeFiles):
/// direct entries of `<stem>.d/` and `conf.d/` beside it, with a known
/// extension and a name not starting with `.`, sorted as full path strings.
pub fn merge_files(dir: &Path, stem: &str, flavor: Flavor) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for sub in [format!("{stem}.d"), "conf.d".to_string()] {
        let Ok(entries) = std::fs::read_dir(dir.join(&sub)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let read = match flavor {
                Flavor::Modern => {
                    let ext = extension(&path);
                    matches!(ext.as_str(), "xml" | "conf" | "yaml" | "yml")
                        && !name.starts_with('.')
                }
                Flavor::Legacy => legacy_merge_file_name(&name),
            };
            // 18.x (Poco) fails on a dangling symlink rather than skipping it:
            // it is listed, and reading it fails like the server does.
            let dangling = || {
                flavor == Flavor::Legacy
                    && entry.file_type().is_ok_and(|t| t.is_symlink())
                    && std::fs::metadata(&path).is_err()
            };
            if read && (path.is_file() || dangling()) {
                out.push(path);
            }
        }
    }
    out.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_merge_files_each_version_reads() {
        let dir = std::env::temp_dir().join(format!("chlint-merge-files-{}", std::process::id()));
        let d = dir.join("config.d");
        std::fs::create_dir_all(&d).unwrap();
        for name in [
            "a.xml",
            "b.conf",
            "C.XML",
            "d.Xml",
            "e.yaml",
            ".xml",
            ".hidden.xml",
            "f.xml.bak",
        ] {
            std::fs::write(d.join(name), "<yandex/>").unwrap();
        }
        let names = |flavor| -> Vec<String> {
            merge_files(&dir, "config", flavor)
                .iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        };
        // Regression: 18.16 compares the extension case-sensitively and reads
        // a file named `.xml` (checked against the real server).
        assert_eq!(names(Flavor::Legacy), [".xml", "a.xml", "b.conf"]);
        assert_eq!(
            names(Flavor::Modern),
            ["C.XML", "a.xml", "b.conf", "d.Xml", "e.yaml"]
        );
        // Regression: 18.16 refuses to start on a dangling symlink in a
        // merge folder ("File not found"); current ClickHouse skips it.
        std::os::unix::fs::symlink("../nowhere.xml", d.join("g.xml")).unwrap();
        assert_eq!(names(Flavor::Legacy), [".xml", "a.xml", "b.conf", "g.xml"]);
        assert!(!names(Flavor::Modern).contains(&"g.xml".to_string()));
        let mut ws = Workspace {
            flavor: Flavor::Legacy,
            ..Workspace::default()
        };
        std::fs::write(dir.join("config.xml"), "<yandex/>").unwrap();
        let loaded = ws
            .load_tree(
                Base::File(&dir.join("config.xml")),
                &merge_files(&dir, "config", Flavor::Legacy),
                &dir,
            )
            .unwrap();
        assert!(loaded.fatal_notes().next().is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
