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
    /// Registered (see [`Workspace::preload`]) but not parsed as a
    /// configuration yet: a deployment file, parsed as one only if asked.
    Pending(SourceId),
    /// An embedded text whose tree was dropped once used (see
    /// [`Workspace::release_embedded`]): parsed again if asked for.
    Released {
        yaml: bool,
    },
}

/// A file that [`Workspace::preload`] read; what is known about it before
/// it is parsed.
enum Preread {
    /// A configuration file (or why it cannot be read).
    Config(Result<SourceFile, String>),
    /// A `.json` file: `None` when its beginning shows it is no plan.
    Json(Option<Result<SourceFile, String>>),
}

/// A YAML text's documents, or why it does not parse.
pub type YamlDocs = Result<Vec<crate::syntax::yaml::YamlNode>, ParseError>;

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
    /// `.json` files whose beginning shows they are no plan.
    not_plans: std::collections::HashSet<PathBuf>,
    /// Embedded sources parsed as YAML (to parse one again, see
    /// [`Workspace::release_embedded`]).
    embedded_yaml: std::collections::HashSet<SourceId>,
    /// Trees of small embedded texts, by syntax and text (see
    /// [`Workspace::add_embedded`]).
    parsed_texts: HashMap<(bool, String), Element>,
}

/// Embedded texts up to this size are parsed once per distinct text.
const SHIPPED_TEXT: usize = 16 * 1024;

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
            not_plans: Default::default(),
            embedded_yaml: Default::default(),
            parsed_texts: HashMap::new(),
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
    if !yaml {
        return Ok((syntax::xml::parse(source, text, limits)?, Vec::new()));
    }
    let docs = syntax::yaml::parse_documents(source, text, limits)?;
    yaml_config(source, &docs)
}

/// Read a regular file no larger than `max` bytes and decode it.
fn read_text(path: &Path, max: u64) -> Result<String, String> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => return Err("not a regular file".into()),
        Ok(m) if m.len() > max => {
            return Err(format!(
                "larger than {max} bytes, not read (see --max-file-size)"
            ))
        }
        Err(e) => return Err(e.to_string()),
        Ok(_) => {}
    }
    std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|b| decode(&b))
}

/// Read a `.json` file only if it may be a plan: `None` when its first
/// bytes show it is not (a plan names its `format_version` at the top, see
/// [`syntax::json::looks_like_plan`]), so a tree of unrelated JSON is not
/// read in full.
fn read_plan_candidate(path: &Path, max: u64) -> Option<Result<String, String>> {
    use std::io::Read as _;
    // The decoded text's first 4096 bytes come from at most this many.
    const HEAD: usize = 3 + 2 * 4096;
    let mut head = Vec::with_capacity(HEAD);
    let file = std::fs::File::open(path).ok()?;
    file.take(HEAD as u64).read_to_end(&mut head).ok()?;
    let utf16 = head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF");
    let found = head.windows(16).any(|w| w == b"\"format_version\"");
    if !utf16 && !found {
        return None;
    }
    Some(read_text(path, max))
}

/// `.yaml`/`.yml`: the files the deployment frontends read.
fn is_yaml_name(path: &Path) -> bool {
    matches!(extension(path).as_str(), "yaml" | "yml")
}

/// Parse a registered text as a ClickHouse configuration file.
fn parse_entry(source: SourceId, text: &str, yaml: bool, limits: &Limits) -> FileEntry {
    entry_of(source, text, parse_config(source, text, yaml, limits))
}

fn entry_of(
    source: SourceId,
    text: &str,
    result: Result<(Element, Vec<ConfigNote>), ParseError>,
) -> FileEntry {
    match result {
        Ok((root, notes)) => FileEntry::Parsed {
            source,
            root,
            notes,
        },
        // A Helm or Go template is rendered before ClickHouse reads it.
        Err(_) if is_template(text) => FileEntry::Failed(ConfigNote::Template { source }),
        Err(error) => FileEntry::Failed(ConfigNote::Invalid { source, error }),
    }
}

/// A YAML file's configuration tree made from its documents (see
/// [`Workspace::settle_yaml`]); computed off the workspace.
pub struct PreparedEntry(FileEntry);

/// The configuration tree of a YAML text from its parsed documents, as
/// [`parse_config`] would make it.
pub fn prepare_yaml_entry(source: SourceId, text: &str, docs: &YamlDocs) -> PreparedEntry {
    let result = match docs {
        Ok(docs) => yaml_config(source, docs),
        Err(e) => Err(e.clone()),
    };
    PreparedEntry(entry_of(source, text, result))
}

fn yaml_config(
    source: SourceId,
    docs: &[crate::syntax::yaml::YamlNode],
) -> Result<(Element, Vec<ConfigNote>), ParseError> {
    let root_span = Span::new(source, 0, 0);
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
        match self.files.get(path) {
            None => {
                let entry = self.read(path);
                self.files.insert(path.to_path_buf(), entry);
            }
            // Registered without parsing: parse it now.
            Some(FileEntry::Pending(source)) => {
                let source = *source;
                let yaml = is_yaml(path, &self.sources.get(source).text);
                let entry = parse_entry(source, &self.sources.get(source).text, yaml, &self.limits);
                self.files.insert(path.to_path_buf(), entry);
            }
            Some(_) => {}
        }
        &self.files[path]
    }

    fn read(&mut self, path: &Path) -> FileEntry {
        match read_text(path, self.max_file_size) {
            Ok(text) => {
                let yaml = is_yaml(path, &text);
                self.add_text(path.to_path_buf(), text, yaml, SourceKind::File)
            }
            Err(message) => FileEntry::Failed(ConfigNote::Unreadable {
                path: path.to_path_buf(),
                message,
            }),
        }
    }

    /// Read and parse, in parallel, every file of `paths` that discovery
    /// will look at: configuration files (`.xml`, `.conf`, `.yaml`, `.yml`)
    /// are registered in the order given and parsed, except `.yaml`/`.yml`
    /// files, which the deployment frontends parse once for both uses (see
    /// [`Workspace::pending`] and [`Workspace::settle_yaml`]); `.json`
    /// files are read only when their beginning may be a plan's.
    /// Later lookups find the results, as if each file had been read on
    /// first use. Files already known are left alone.
    pub fn preload<'p>(&mut self, paths: impl IntoIterator<Item = &'p PathBuf>) {
        use rayon::prelude::*;
        let wanted: Vec<(&PathBuf, bool)> = paths
            .into_iter()
            .filter_map(|p| match extension(p).as_str() {
                "xml" | "conf" | "yaml" | "yml" if !self.files.contains_key(p) => Some((p, false)),
                "json" if !self.texts.contains_key(p) => Some((p, true)),
                _ => None,
            })
            .collect();
        let max = self.max_file_size;
        let read: Vec<Preread> = wanted
            .par_iter()
            .map(|(p, json)| {
                // The line index is made here too, in parallel.
                let file = |text| SourceFile::new(p.to_path_buf(), text, SourceKind::File);
                match json {
                    false => Preread::Config(read_text(p, max).map(file)),
                    true => Preread::Json(read_plan_candidate(p, max).map(|r| r.map(file))),
                }
            })
            .collect();
        // Registered one after the other, in the order given.
        let mut parse: Vec<(&PathBuf, SourceId, bool)> = Vec::new();
        for ((path, _), r) in wanted.into_iter().zip(read) {
            let unreadable = |message: String| ConfigNote::Unreadable {
                path: path.clone(),
                message,
            };
            match r {
                Preread::Config(Ok(file)) => {
                    let yaml = is_yaml(path, &file.text);
                    let source = self.sources.add(file);
                    parse.push((path, source, yaml));
                }
                Preread::Config(Err(message)) => {
                    self.files
                        .insert(path.clone(), FileEntry::Failed(unreadable(message)));
                }
                Preread::Json(None) => {
                    self.not_plans.insert(path.clone());
                }
                Preread::Json(Some(r)) => {
                    let r = r.map_err(unreadable).map(|file| self.sources.add(file));
                    self.texts.insert(path.clone(), r);
                }
            }
        }
        let sources = &self.sources;
        let limits = &self.limits;
        let parsed: Vec<FileEntry> = parse
            .par_iter()
            .map(|(path, source, yaml)| {
                if *yaml && is_yaml_name(path) {
                    FileEntry::Pending(*source)
                } else {
                    parse_entry(*source, &sources.get(*source).text, *yaml, limits)
                }
            })
            .collect();
        for ((path, _, _), entry) in parse.into_iter().zip(parsed) {
            self.files.insert(path.clone(), entry);
        }
    }

    /// Drop a file's tree once it has been used (its text stays): a tree
    /// asked for again is parsed again.
    pub fn release(&mut self, path: &Path) {
        if let Some(entry) = self.files.get_mut(path) {
            if let FileEntry::Parsed { source, .. } = entry {
                *entry = FileEntry::Pending(*source);
            }
        }
    }

    /// The source of a file registered but not parsed yet (see
    /// [`Workspace::preload`]).
    pub fn pending(&self, path: &Path) -> Option<SourceId> {
        match self.files.get(path)? {
            FileEntry::Pending(source) => Some(*source),
            _ => None,
        }
    }

    /// Make a pending YAML file a configuration tree from its documents,
    /// parsed once for the deployment frontends (see [`prepare_yaml_entry`]),
    /// as reading it would.
    pub fn settle_yaml(&mut self, path: &Path, entry: PreparedEntry) {
        if matches!(self.files.get(path), Some(FileEntry::Pending(_))) {
            self.files.insert(path.to_path_buf(), entry.0);
        }
    }

    /// Is this `.json` file a Terraform plan (or state)? Read once.
    pub fn is_plan(&mut self, path: &Path) -> bool {
        if self.not_plans.contains(path) {
            return false;
        }
        match self.read_source(path) {
            Ok(source) => syntax::json::looks_like_plan(&self.sources.get(source).text),
            Err(_) => false,
        }
    }

    /// Read a file as text into the source map (each file once), without
    /// parsing it as a ClickHouse configuration.
    pub fn read_source(&mut self, path: &Path) -> Result<SourceId, ConfigNote> {
        if let Some(r) = self.texts.get(path) {
            return r.clone();
        }
        let r = match read_text(path, self.max_file_size) {
            Ok(text) => {
                Ok(self
                    .sources
                    .add(SourceFile::new(path.to_path_buf(), text, SourceKind::File)))
            }
            Err(message) => Err(ConfigNote::Unreadable {
                path: path.to_path_buf(),
                message,
            }),
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
        let source = self.sources.add(SourceFile::new(path, text, kind));
        parse_entry(source, &self.sources.get(source).text, yaml, &self.limits)
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
        // Small texts not written line by line are mostly what images and
        // operators ship, the same for every container: parsed once, and
        // the tree copied with its spans pointing at each new source.
        let key = (text.len() <= SHIPPED_TEXT && lines.is_empty()).then(|| (yaml, text.clone()));
        let source = self.sources.add_embedded(text, whole, lines);
        let cached = key.as_ref().and_then(|k| self.parsed_texts.get(k));
        let entry = match cached {
            Some(root) => {
                let mut root = root.clone();
                root.retag(source);
                FileEntry::Parsed {
                    source,
                    root,
                    notes: Vec::new(),
                }
            }
            None => {
                let entry = parse_entry(source, &self.sources.get(source).text, yaml, &self.limits);
                if let (Some(key), FileEntry::Parsed { root, notes, .. }) = (key, &entry) {
                    if notes.is_empty() {
                        self.parsed_texts.insert(key, root.clone());
                    }
                }
                entry
            }
        };
        if yaml {
            self.embedded_yaml.insert(source);
        }
        self.embedded.insert(source, entry);
        source
    }

    /// The source a file on disk was registered as, reading it if needed;
    /// `None` when it could not be read.
    pub fn source_of(&mut self, path: &Path) -> Option<SourceId> {
        match self.entry(path) {
            FileEntry::Parsed { source, .. } | FileEntry::Pending(source) => Some(*source),
            FileEntry::Failed(
                ConfigNote::Invalid { source, .. } | ConfigNote::Template { source },
            ) => Some(*source),
            FileEntry::Failed(_) | FileEntry::Released { .. } => None,
        }
    }

    /// Drop the trees of embedded sources that were merged and will not be
    /// again (the files an image ships into one container): a run with
    /// thousands of containers keeps one copy of each, in its server. One
    /// asked for again is parsed again.
    pub fn release_embedded(&mut self, sources: &[SourceId]) {
        for source in sources {
            if let Some(entry) = self.embedded.get_mut(source) {
                if matches!(entry, FileEntry::Parsed { .. }) {
                    let yaml = self.embedded_yaml.contains(source);
                    *entry = FileEntry::Released { yaml };
                }
            }
        }
    }

    /// Parse a released embedded source again.
    fn embedded_entry(&mut self, source: SourceId) {
        if let Some(FileEntry::Released { yaml }) = self.embedded.get(&source) {
            let yaml = *yaml;
            let entry = parse_entry(source, &self.sources.get(source).text, yaml, &self.limits);
            self.embedded.insert(source, entry);
        }
    }

    /// The root of an embedded source, if it parsed.
    pub fn root_of_source(&mut self, source: SourceId) -> Option<&Element> {
        self.embedded_entry(source);
        match self.embedded.get(&source)? {
            FileEntry::Parsed { root, .. } => Some(root),
            _ => None,
        }
    }

    /// Why an embedded source could not be used, if it could not.
    pub fn failure_of_source(&self, source: SourceId) -> Option<ConfigNote> {
        match self.embedded.get(&source)? {
            FileEntry::Failed(n) => Some(n.clone()),
            _ => None,
        }
    }

    /// An input as merging sees it, borrowed from the cache (read with
    /// [`Workspace::entry`] first).
    fn input_view<'a>(&'a self, input: &'a Input) -> InputView<'a> {
        let entry = match input {
            Input::File(path) => self.files.get(path.as_path()),
            Input::Source(source) => self.embedded.get(source),
            Input::Tree(root) => return InputView::Tree(root.span.source, root, &[]),
        };
        match entry {
            Some(FileEntry::Parsed {
                source,
                root,
                notes,
            }) => InputView::Tree(*source, root, notes),
            Some(FileEntry::Failed(note)) => InputView::Failed(note.clone()),
            Some(FileEntry::Pending(_) | FileEntry::Released { .. }) | None => {
                InputView::Failed(ConfigNote::Unreadable {
                    path: match input {
                        Input::File(path) => path.clone(),
                        Input::Source(source) => self.sources.get(*source).path.clone(),
                        Input::Tree(_) => PathBuf::new(),
                    },
                    message: "not registered as a configuration".into(),
                })
            }
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
            _ => None,
        }
    }

    /// The note that explains why a file could not be used, if it could not.
    pub fn failure_of(&mut self, path: &Path) -> Option<ConfigNote> {
        match self.entry(path) {
            FileEntry::Failed(n) => Some(n.clone()),
            _ => None,
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
                self.entry(path);
                parsed_base(
                    self.input_view(&Input::File(path.to_path_buf())),
                    &mut notes,
                    &mut files,
                )?
            }
            Base::Source(source) => {
                self.embedded_entry(source);
                parsed_base(
                    self.input_view(&Input::Source(source)),
                    &mut notes,
                    &mut files,
                )?
            }
        };
        // Each file is read (and parsed) once; merging borrows its tree.
        for input in inputs {
            match input {
                Input::File(path) => {
                    self.entry(path);
                }
                Input::Source(source) => self.embedded_entry(*source),
                Input::Tree(_) => {}
            }
        }
        let main_is_ch = is_clickhouse_root(&root.name);
        for input in inputs {
            let (source, other, file_notes) = match self.input_view(input) {
                InputView::Tree(source, root, notes) => (source, root, notes),
                InputView::Failed(note) => {
                    notes.push(note);
                    continue;
                }
            };
            notes.extend(file_notes.iter().cloned());
            if main_is_ch && !is_clickhouse_root(&other.name) && self.flavor == Flavor::Modern {
                notes.push(ConfigNote::RootMismatch {
                    span: other.span,
                    root: other.name.clone(),
                });
                continue;
            }
            files.push(source);
            let mut merge_notes = Vec::new();
            if let Err(e) = merge(&mut root, other, self.flavor, &mut merge_notes) {
                notes.push(ConfigNote::MergeFailed(e));
            }
            notes.extend(merge_notes.into_iter().map(ConfigNote::Merge));
        }
        let include_path = self.include_path(&root, dir);
        if let Some(path) = &include_path {
            self.entry(path);
        }
        let include = match include_path.and_then(|p| self.files.get(&p)) {
            Some(FileEntry::Parsed { source, root, .. }) => Some((*source, root)),
            _ => None,
        };
        if let Some((source, _)) = &include {
            files.push(*source);
        }
        let ctx = Context {
            include: include.map(|(_, e)| e),
            env: self.env.as_ref(),
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
    fn include_path(&self, root: &Element, dir: &Path) -> Option<PathBuf> {
        let named = root.child("include_from")?;
        if named.is_external() {
            return None;
        }
        resolve_in_dir(dir, &named.value())
    }
}

/// A merge input, borrowed.
enum InputView<'a> {
    Tree(SourceId, &'a Element, &'a [ConfigNote]),
    Failed(ConfigNote),
}

/// The root of a parsed base file (a copy, to merge into), its notes and
/// source recorded.
fn parsed_base(
    view: InputView,
    notes: &mut Vec<ConfigNote>,
    files: &mut Vec<SourceId>,
) -> Result<(Element, Option<SourceId>), ConfigNote> {
    match view {
        InputView::Tree(source, root, file_notes) => {
            notes.extend(file_notes.iter().cloned());
            files.push(source);
            Ok((root.clone(), Some(source)))
        }
        InputView::Failed(note) => Err(note),
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
            let ext = extension(&path);
            let known = match flavor {
                Flavor::Modern => matches!(ext.as_str(), "xml" | "conf" | "yaml" | "yml"),
                Flavor::Legacy => matches!(ext.as_str(), "xml" | "conf"),
            };
            if known && !name.starts_with('.') && path.is_file() {
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
