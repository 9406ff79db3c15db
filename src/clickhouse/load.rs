//! Reading configuration files (each once) and building one effective tree:
//! the main file, its merge files in ClickHouse's order, then substitutions.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::element::Element;
use super::merge::{merge_counting, Flavor, MergeError, MergeNote};
use super::substitute::{substitute, Context, SubstNote};
use super::yaml_map::{yaml_to_element, YamlNote};
use crate::source::{SourceFile, SourceId, SourceKind, SourceMap, Span};
use crate::syntax::{self, Limits, ParseError};

/// Files larger than this are not read (a configuration is kilobytes; the
/// limit leaves room for a 20 MB line).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 32 * 1024 * 1024;

/// Target elements merging may look at for one tree (see
/// [`merge_counting`]): about a second of work. Files after that are not
/// merged, and say so.
pub const DEFAULT_MAX_MERGE_WORK: u64 = 20_000_000;

/// Most text of configuration files kept in one run: files that turn out
/// not to be configurations are let go, so only a repository with hundreds
/// of megabytes of ClickHouse configuration reaches it.
pub const DEFAULT_MAX_TOTAL_SIZE: u64 = 256 * 1024 * 1024;

/// Most servers built from deployment files in one run.
pub const DEFAULT_MAX_DEPLOY_SERVERS: usize = 20_000;

/// How much of an unreadable file is looked at to tell whether it is meant
/// to be a ClickHouse configuration.
const SNIFF_BYTES: usize = 64 * 1024;

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
    /// Not a file chlint reads: a FIFO, socket or device, a symbolic link
    /// that loops, dangles or leads outside the checked folders. Never
    /// opened; a warning, not a finding.
    Skipped {
        path: PathBuf,
        reason: String,
    },
    /// chlint's own failure (a bug) while reading or parsing this file.
    Internal {
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
    /// A limit of chlint's reached in a file it must understand (the
    /// Terraform evaluation budget, a YAML alias budget in a chart's
    /// values): what follows is unknown, said at the place it stopped.
    Limit {
        span: Span,
        message: String,
    },
}

#[derive(Clone, Debug)]
enum FileEntry {
    Parsed {
        source: SourceId,
        /// Shared: a merge reads it where it is stored.
        root: Arc<Element>,
        notes: Vec<ConfigNote>,
    },
    Failed(ConfigNote),
    /// Read and found not to be a configuration: its tree and text dropped.
    Released,
    /// Registered (see [`Workspace::preload`]) but not parsed as a
    /// configuration yet: a YAML file the deployment frontends parse first,
    /// parsed as a configuration only if asked.
    Pending(SourceId),
    /// An embedded text whose tree was dropped once used (see
    /// [`Workspace::release_embedded`]): parsed again if asked for.
    EmbeddedReleased {
        yaml: bool,
    },
}

/// A file [`Workspace::preload`] read: its text, or why it cannot be read
/// (with the leniently decoded beginning of one that is not text).
struct Preread {
    text: Result<String, ConfigNote>,
    prefix: Option<String>,
}

/// What [`Workspace::preload`] got for one file it checked.
enum Fetched {
    Read(Preread),
    /// A `.json` file whose beginning shows it is no plan: not kept.
    NoPlan,
    /// Refused by the checks before opening (the reason is kept there).
    Refused,
}

/// Does the beginning of this `.json` file show it is no Terraform plan (a
/// plan names its `format_version` at the top, see
/// [`syntax::json::looks_like_plan`])? Then it is not read in full. Only a
/// regular file is opened and read.
/// How [`Workspace::preload`] takes a file.
#[derive(Clone, Copy, PartialEq)]
enum Prereading {
    /// A configuration file: read and parsed.
    Config,
    /// A `.json` file: read if it is a Terraform plan.
    Plan,
    /// A Terraform file: read (the Terraform frontend parses it).
    Text,
}

fn not_a_plan(path: &Path) -> bool {
    use std::io::Read as _;
    // The decoded text's first 4096 bytes come from at most this many.
    const HEAD: usize = 3 + 2 * 4096;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut head = Vec::with_capacity(HEAD);
    if file.take(HEAD as u64).read_to_end(&mut head).is_err() {
        return false;
    }
    let utf16 = head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF");
    let found = head.windows(16).any(|w| w == b"\"format_version\"");
    !utf16 && !found
}

/// The leniently decoded beginning of a file too large to read.
fn sniff(path: &Path) -> Option<String> {
    use std::io::Read as _;
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(SNIFF_BYTES as u64).read_to_end(&mut head))
        .ok()
        .map(|_| lenient_prefix(&head))
}

/// A YAML text's documents, or why it does not parse.
pub type YamlDocs = Result<Vec<crate::syntax::yaml::YamlNode>, ParseError>;

/// One effective configuration tree.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub root: Element,
    /// The main file, `None` when the shipped defaults stand in for it.
    pub main: Option<SourceId>,
    /// The shipped defaults standing in for the main file, when they do:
    /// the repository wrote none of their lines.
    pub defaults: Option<SourceId>,
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
                    | ConfigNote::Internal { .. }
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
    /// Bound on merging work per tree ([`DEFAULT_MAX_MERGE_WORK`]).
    pub max_merge_work: u64,
    /// Bound on the text kept from all files ([`DEFAULT_MAX_TOTAL_SIZE`]).
    pub max_total_size: u64,
    /// Most servers built from deployment files in one run
    /// ([`DEFAULT_MAX_DEPLOY_SERVERS`]): each carries the image's own
    /// configuration, so a compose file of 100,000 services would take
    /// minutes and gigabytes.
    pub max_deploy_servers: usize,
    /// Servers built from deployment files so far.
    deploy_servers: AtomicUsize,
    /// Text kept now, in bytes.
    kept: AtomicU64,
    /// Variables for `from_env`, only when given explicitly.
    pub env: Option<HashMap<String, String>>,
    /// Canonical folders files may be read from; a symbolic link leading
    /// elsewhere is not followed. `None`: no restriction.
    pub roots: Option<Vec<PathBuf>>,
    /// Regular files the walker reached without a link below a named
    /// folder: inside the roots by construction, so their paths are not
    /// resolved again (a `canonicalize` per file was a third of the work
    /// on a tree of small files).
    pub walked_inside: HashSet<PathBuf>,
    files: Mutex<HashMap<PathBuf, FileEntry>>,
    builtins: Mutex<HashMap<String, Arc<Element>>>,
    /// Embedded texts, by their source.
    embedded: Mutex<HashMap<SourceId, FileEntry>>,
    /// Files read as plain text (Terraform, plan JSON), by path.
    texts: Mutex<HashMap<PathBuf, Result<SourceId, ConfigNote>>>,
    /// `--var-file`: Terraform variable files for every root module.
    pub var_files: Vec<PathBuf>,
    /// The beginning of files that could not be decoded or were too large,
    /// decoded leniently: enough to tell a ClickHouse configuration.
    prefixes: Mutex<HashMap<PathBuf, String>>,
    /// `.json` files whose beginning shows they are no plan.
    not_plans: HashSet<PathBuf>,
    /// Embedded sources parsed as YAML (to parse one again, see
    /// [`Workspace::release_embedded`]).
    embedded_yaml: Mutex<HashSet<SourceId>>,
    /// Trees of small embedded texts, by syntax and text (see
    /// [`Workspace::add_embedded`]).
    parsed_texts: Mutex<HashMap<TextKey, Arc<Element>>>,
}

// The deployment frontends lower in parallel through a shared workspace:
// what they read and register (files, embedded texts, shipped defaults,
// the budgets) sits behind locks; the sequential phases reach it through
// `&mut` without locking.

/// A lock a panic elsewhere (an internal error for one file) leaves usable.
fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a lock guards, when nothing else can hold it.
fn owned<T>(m: &mut Mutex<T>) -> &mut T {
    m.get_mut().unwrap_or_else(|e| e.into_inner())
}

/// A small embedded text by its syntax (YAML or not) and its text.
type TextKey = (bool, Cow<'static, str>);

/// Embedded texts up to this size are parsed once per distinct text.
const SHIPPED_TEXT: usize = 16 * 1024;

impl Default for Workspace {
    fn default() -> Workspace {
        Workspace {
            sources: SourceMap::default(),
            limits: Limits::default(),
            flavor: Flavor::Modern,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            max_merge_work: DEFAULT_MAX_MERGE_WORK,
            max_total_size: DEFAULT_MAX_TOTAL_SIZE,
            max_deploy_servers: DEFAULT_MAX_DEPLOY_SERVERS,
            deploy_servers: AtomicUsize::new(0),
            kept: AtomicU64::new(0),
            env: None,
            roots: None,
            walked_inside: HashSet::new(),
            files: Mutex::default(),
            builtins: Mutex::default(),
            embedded: Mutex::default(),
            texts: Mutex::default(),
            var_files: Vec::new(),
            prefixes: Mutex::default(),
            not_plans: HashSet::new(),
            embedded_yaml: Mutex::default(),
            parsed_texts: Mutex::default(),
        }
    }
}

/// Decode a file's bytes: UTF-8 with or without BOM, UTF-16 with a BOM.
/// Anything else is refused with a message saying what it looks like.
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    const READS: &str = "chlint reads UTF-8 and UTF-16 with a byte order mark";
    if bytes.starts_with(b"\xFF\xFE\0\0") || bytes.starts_with(b"\0\0\xFE\xFF") {
        return Err(format!("UTF-32 text: {READS}; convert it to UTF-8"));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return match std::str::from_utf8(rest) {
            Ok(_) if rest.contains(&0) => Err("binary file (contains NUL bytes)".into()),
            Ok(text) => Ok(text.to_string()),
            Err(e) => Err(format!(
                "invalid UTF-8 after a UTF-8 byte order mark ({}): {READS}",
                where_in(rest, e.valid_up_to())
            )),
        };
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
        let text = char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map_err(|_| "invalid UTF-16 (an unpaired surrogate)".to_string())?;
        if text.contains('\0') {
            return Err("binary file (contains NUL characters)".into());
        }
        Ok(text)
    };
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, true);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, false);
    }
    if bytes.contains(&0) {
        if utf16_without_bom(bytes).is_some() {
            return Err(format!(
                "UTF-16 without a byte order mark: {READS}; convert it to UTF-8"
            ));
        }
        return Err("binary file (contains NUL bytes)".into());
    }
    match String::from_utf8(bytes.to_vec()) {
        Ok(text) => Ok(text),
        Err(e) => {
            let at = where_in(bytes, e.utf8_error().valid_up_to());
            Err(match declared_encoding(bytes) {
                Some(enc) => format!(
                    "declared as {enc}, not UTF-8 ({at}): {READS}; convert it (iconv -f {enc} -t UTF-8)"
                ),
                None => format!("not UTF-8 text ({at}): {READS}"),
            })
        }
    }
}

/// "line L, column C" of a byte offset (columns in bytes: the text is not valid).
fn where_in(bytes: &[u8], offset: usize) -> String {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    format!("invalid byte at line {line}, column {}", offset - start + 1)
}

/// Is this UTF-16 without a byte order mark? Little-endian (`Some(true)`)
/// when the odd bytes of the beginning are NUL, big-endian when the even are.
fn utf16_without_bom(bytes: &[u8]) -> Option<bool> {
    let head = &bytes[..bytes.len().min(512) & !1];
    if head.len() < 4 {
        return None;
    }
    let pairs = head.len() / 2;
    let even_nul = head.iter().step_by(2).filter(|b| **b == 0).count();
    let odd_nul = head.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
    if odd_nul * 10 >= pairs * 9 && even_nul * 10 < pairs {
        Some(true)
    } else if even_nul * 10 >= pairs * 9 && odd_nul * 10 < pairs {
        Some(false)
    } else {
        None
    }
}

/// The encoding an XML declaration names, as a short safe token.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
    let decl = head.strip_prefix("<?xml")?;
    let decl = &decl[..decl.find("?>")?];
    let at = decl.find("encoding")? + "encoding".len();
    let rest = decl[at..].trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    let value = &value[..value.find(quote)?];
    let safe = !value.is_empty()
        && value.len() <= 40
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
    safe.then(|| value.to_string())
}

/// The beginning of a file that could not be decoded, decoded leniently.
fn lenient_prefix(bytes: &[u8]) -> String {
    let bytes = &bytes[..bytes.len().min(SNIFF_BYTES)];
    let (le, rest) = if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        (Some(true), rest)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        (Some(false), rest)
    } else {
        (utf16_without_bom(bytes), bytes)
    };
    match le {
        Some(le) => {
            let units = rest.chunks_exact(2).map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            });
            char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        }
        None => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Read a regular file, at most `max` bytes: `Ok(None)` when it is longer.
/// The handle is checked again after opening, so nothing but a regular
/// file is ever read.
fn read_regular(path: &Path, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    // Room for the whole file and the byte that shows it grew: read in one
    // call, without probing reads.
    let mut bytes = Vec::with_capacity(meta.len().min(max).saturating_add(1) as usize);
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= max).then_some(bytes))
}

/// Why `metadata` failed on a path, in words.
fn describe_missing(path: &Path, error: &std::io::Error) -> String {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    // ELOOP has no stable ErrorKind: tell a loop by its OS error code.
    const ELOOP: i32 = if cfg!(target_os = "linux") { 40 } else { 62 };
    if is_link && error.raw_os_error() == Some(ELOOP) {
        return "not followed: a symbolic link loop".into();
    }
    if is_link && error.kind() == std::io::ErrorKind::NotFound {
        return "not followed: a symbolic link to a missing file".into();
    }
    if is_link {
        return format!("not followed: a symbolic link that cannot be resolved ({error})");
    }
    error.to_string()
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

/// Does a current server read a file of this name from a merge folder
/// (`config.d/`, `users.d/`, `conf.d/`)? ConfigProcessor::getConfigMergeFiles
/// takes the extensions `.xml`, `.conf`, `.yaml` and `.yml` (any case) and
/// skips names starting with `.`; anything else there (a `README.txt`, a
/// Secret key `CLICKHOUSE_PASSWORD`) is never read.
pub fn is_merge_file_name(name: &str) -> bool {
    let ext = extension(Path::new(name));
    matches!(ext.as_str(), "xml" | "conf" | "yaml" | "yml") && !name.starts_with('.')
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

/// `.yaml`/`.yml`: the files the deployment frontends read.
pub fn is_yaml_name(path: &Path) -> bool {
    matches!(extension(path).as_str(), "yaml" | "yml")
}

/// Parse a registered text as a ClickHouse configuration file.
fn parse_entry(source: SourceId, text: &str, yaml: bool, limits: &Limits) -> FileEntry {
    entry_of(source, text, parse_config(source, text, yaml, limits))
}

/// [`parse_entry`] with a panic in chlint's parsers made an internal error
/// for that file (`path`), as reading it would.
fn parse_entry_guarded(
    path: &Path,
    source: SourceId,
    text: &str,
    yaml: bool,
    limits: &Limits,
) -> FileEntry {
    crate::guard::catch(|| parse_entry(source, text, yaml, limits)).unwrap_or_else(|message| {
        FileEntry::Failed(ConfigNote::Internal {
            path: path.to_path_buf(),
            message,
        })
    })
}

fn entry_of(
    source: SourceId,
    text: &str,
    result: Result<(Element, Vec<ConfigNote>), ParseError>,
) -> FileEntry {
    match result {
        Ok((root, notes)) => FileEntry::Parsed {
            source,
            root: Arc::new(root),
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

impl PreparedEntry {
    /// chlint's own failure (a panic) while parsing or classifying the file.
    pub fn internal(path: &Path, message: String) -> PreparedEntry {
        PreparedEntry(FileEntry::Failed(ConfigNote::Internal {
            path: path.to_path_buf(),
            message,
        }))
    }
}

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
    /// Read a file once; later calls return the same result. The lock is
    /// held while it is read, so that a file is one source however many
    /// threads ask for it.
    fn entry(&self, path: &Path) -> FileEntry {
        let mut files = locked(&self.files);
        let entry = match files.get(path) {
            None => self.read(path),
            // Registered without parsing: parse it now.
            Some(FileEntry::Pending(source)) => {
                let source = *source;
                let text = &self.sources.get(source).text;
                let yaml = is_yaml(path, text);
                parse_entry_guarded(path, source, text, yaml, &self.limits)
            }
            Some(entry) => return entry.clone(),
        };
        files.insert(path.to_path_buf(), entry.clone());
        entry
    }

    fn read(&self, path: &Path) -> FileEntry {
        let guarded = crate::guard::catch(|| self.read_unguarded(path));
        guarded.unwrap_or_else(|message| {
            FileEntry::Failed(ConfigNote::Internal {
                path: path.to_path_buf(),
                message,
            })
        })
    }

    fn read_unguarded(&self, path: &Path) -> FileEntry {
        match self.read_checked(path) {
            Ok(text) => {
                let yaml = is_yaml(path, &text);
                self.add_text(path.to_path_buf(), text, yaml, SourceKind::File)
            }
            Err(note) => FileEntry::Failed(note),
        }
    }

    /// A file's text, if it may and can be read: nothing but a regular file
    /// is opened (opening a FIFO blocks), links are followed only inside
    /// [`Workspace::roots`], the size limits hold, and the text is UTF-8 or
    /// UTF-16 with a byte order mark.
    fn read_checked(&self, path: &Path) -> Result<String, ConfigNote> {
        let read = match self.check_file(path) {
            Ok(len) => match self.over_budget(path, len) {
                Some(note) => Preread {
                    text: Err(note),
                    prefix: None,
                },
                None => self.read_file(path),
            },
            Err(r) => r,
        };
        if let Some(prefix) = read.prefix {
            locked(&self.prefixes).insert(path.to_path_buf(), prefix);
        }
        read.text
    }

    /// The checks made before a file is opened: it is a regular file (a FIFO
    /// is never opened), inside [`Workspace::roots`] and no larger than
    /// [`Workspace::max_file_size`]. Its length when it may be read.
    fn check_file(&self, path: &Path) -> Result<u64, Preread> {
        let fail = |text: ConfigNote| Preread {
            text: Err(text),
            prefix: None,
        };
        let skipped = |reason: String| {
            fail(ConfigNote::Skipped {
                path: path.to_path_buf(),
                reason,
            })
        };
        let meta = std::fs::metadata(path).map_err(|e| skipped(describe_missing(path, &e)))?;
        if !meta.is_file() {
            return Err(skipped(format!(
                "not read: {}",
                crate::safe_file::describe_file_type(&meta)
            )));
        }
        if let Some(reason) = self.outside_roots(path) {
            return Err(skipped(reason));
        }
        if meta.len() > self.max_file_size {
            return Err(Preread {
                text: Err(self.too_large(path)),
                prefix: sniff(path),
            });
        }
        Ok(meta.len())
    }

    fn too_large(&self, path: &Path) -> ConfigNote {
        ConfigNote::Unreadable {
            path: path.to_path_buf(),
            message: format!(
                "larger than {} bytes, not read (the limit is set with --max-file-size)",
                self.max_file_size
            ),
        }
    }

    /// Why a file of `len` bytes may not be read now: the text kept in this
    /// run would pass [`Workspace::max_total_size`].
    fn over_budget(&self, path: &Path, len: u64) -> Option<ConfigNote> {
        let kept = self.kept.load(Ordering::Relaxed);
        (kept.saturating_add(len) > self.max_total_size).then(|| ConfigNote::Unreadable {
            path: path.to_path_buf(),
            message: format!(
                "not read: the configuration files read before it hold {kept} bytes, as much as chlint keeps in one run"
            ),
        })
    }

    /// Read a file [`Workspace::check_file`] let through and decode it; only
    /// a regular file is read (the handle is checked again). Takes `&self`:
    /// [`Workspace::preload`] reads files in parallel.
    fn read_file(&self, path: &Path) -> Preread {
        let unreadable = |message: String| ConfigNote::Unreadable {
            path: path.to_path_buf(),
            message,
        };
        crate::guard::debug_panic_point(path);
        let bytes = match read_regular(path, self.max_file_size) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                return Preread {
                    text: Err(self.too_large(path)),
                    prefix: sniff(path),
                }
            }
            Err(e) => {
                return Preread {
                    text: Err(unreadable(e.to_string())),
                    prefix: None,
                }
            }
        };
        match decode(&bytes) {
            Ok(text) => Preread {
                text: Ok(text),
                prefix: None,
            },
            Err(e) => Preread {
                text: Err(unreadable(e)),
                prefix: Some(lenient_prefix(&bytes)),
            },
        }
    }

    /// Read and parse, in parallel, every file of `paths` that discovery
    /// will look at, through the same checks as reading one on first use
    /// (regular files only, inside [`Workspace::roots`], size limit, a panic
    /// an internal error for that file): configuration files (`.xml`,
    /// `.conf`, `.yaml`, `.yml`) are registered in the order given and
    /// parsed, except `.yaml`/`.yml` files, which the deployment frontends
    /// parse once for both uses (see [`Workspace::pending`] and
    /// [`Workspace::settle_yaml`]); `.json` files are read only when their
    /// beginning may be a plan's, Terraform files (`.tf`, `.tfvars`) are
    /// read for the Terraform frontend to parse. Files are taken in order while the text
    /// they hold fits in [`Workspace::max_total_size`]; the rest are read on
    /// first use, as before, once the files that are no configuration have
    /// been let go. Later lookups find the results, as if each file had been
    /// read on first use. Files already known are left alone.
    pub fn preload<'p>(&mut self, paths: impl IntoIterator<Item = &'p PathBuf>) {
        use rayon::prelude::*;
        let known = |p: &Path| locked(&self.files).contains_key(p);
        let unread = |p: &Path| !locked(&self.texts).contains_key(p) && !known(p);
        let wanted: Vec<(&PathBuf, Prereading)> = paths
            .into_iter()
            .filter_map(|p| match extension(p).as_str() {
                "xml" | "conf" | "yaml" | "yml" if !known(p) => Some((p, Prereading::Config)),
                "json" if unread(p) => Some((p, Prereading::Plan)),
                "tf" | "tfvars" if unread(p) => Some((p, Prereading::Text)),
                _ => None,
            })
            .collect();
        // Checked before anything is opened, in parallel.
        let shared: &Workspace = self;
        let checked: Vec<Result<u64, Preread>> = wanted
            .par_iter()
            .map(|(p, _)| {
                crate::guard::catch(|| shared.check_file(p)).unwrap_or_else(|message| {
                    Err(Preread {
                        text: Err(ConfigNote::Internal {
                            path: p.to_path_buf(),
                            message,
                        }),
                        prefix: None,
                    })
                })
            })
            .collect();
        // The text budget, in the order given: files past it are left to be
        // read on first use.
        let mut planned = *self.kept.get_mut();
        let mut taken = 0;
        for c in &checked {
            if let Ok(len) = c {
                if planned.saturating_add(*len) > self.max_total_size {
                    break;
                }
                planned += len;
            }
            taken += 1;
        }
        let shared: &Workspace = self;
        let read: Vec<Fetched> = wanted[..taken]
            .par_iter()
            .zip(&checked[..taken])
            .map(|((p, mode), c)| {
                if c.is_err() {
                    return Fetched::Refused;
                }
                let read = || {
                    if *mode == Prereading::Plan && not_a_plan(p) {
                        Fetched::NoPlan
                    } else {
                        Fetched::Read(shared.read_file(p))
                    }
                };
                crate::guard::catch(read).unwrap_or_else(|message| {
                    Fetched::Read(Preread {
                        text: Err(ConfigNote::Internal {
                            path: p.to_path_buf(),
                            message,
                        }),
                        prefix: None,
                    })
                })
            })
            .collect();
        // Registered one after the other, in the order given.
        let mut parse: Vec<(&PathBuf, SourceId, bool)> = Vec::new();
        let checked = checked.into_iter().take(taken);
        for (((path, mode), c), r) in wanted.into_iter().zip(checked).zip(read) {
            let r = match (c, r) {
                (Err(r), _) => r,
                (Ok(_), Fetched::Read(r)) => r,
                (Ok(_), Fetched::NoPlan) => {
                    self.not_plans.insert(path.clone());
                    continue;
                }
                (Ok(_), Fetched::Refused) => continue,
            };
            if let Some(prefix) = r.prefix {
                owned(&mut self.prefixes).insert(path.clone(), prefix);
            }
            let config = mode == Prereading::Config;
            match (r.text, config) {
                (Ok(text), true) => {
                    let yaml = is_yaml(path, &text);
                    *self.kept.get_mut() += text.len() as u64;
                    let source =
                        self.sources
                            .add(SourceFile::new(path.clone(), text, SourceKind::File));
                    parse.push((path, source, yaml));
                }
                (Err(note), true) => {
                    owned(&mut self.files).insert(path.clone(), FileEntry::Failed(note));
                }
                (Ok(text), false) => {
                    *self.kept.get_mut() += text.len() as u64;
                    let source =
                        self.sources
                            .add(SourceFile::new(path.clone(), text, SourceKind::File));
                    // As `read_source`: Terraform's findings point into it.
                    self.sources.pin(source);
                    owned(&mut self.texts).insert(path.clone(), Ok(source));
                }
                (Err(note), false) => {
                    owned(&mut self.texts).insert(path.clone(), Err(note));
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
                    parse_entry_guarded(path, *source, &sources.get(*source).text, *yaml, limits)
                }
            })
            .collect();
        let files = owned(&mut self.files);
        for ((path, _, _), entry) in parse.into_iter().zip(parsed) {
            files.insert(path.clone(), entry);
        }
    }

    /// Drop a file's tree once it has been used (its text stays): a tree
    /// asked for again is parsed again.
    pub fn drop_tree(&self, path: &Path) {
        if let Some(entry) = locked(&self.files).get_mut(path) {
            if let FileEntry::Parsed { source, .. } = entry {
                *entry = FileEntry::Pending(*source);
            }
        }
    }

    /// The source of a file registered but not parsed yet (see
    /// [`Workspace::preload`]).
    pub fn pending(&self, path: &Path) -> Option<SourceId> {
        match locked(&self.files).get(path)? {
            FileEntry::Pending(source) => Some(*source),
            _ => None,
        }
    }

    /// Make a pending YAML file a configuration tree from its documents,
    /// parsed once for the deployment frontends (see [`prepare_yaml_entry`]),
    /// as reading it would.
    pub fn settle_yaml(&mut self, path: &Path, entry: PreparedEntry) {
        // An internal error (a panic while classifying) stands for the file
        // however it was registered.
        let internal = matches!(entry.0, FileEntry::Failed(ConfigNote::Internal { .. }));
        let files = owned(&mut self.files);
        if internal || matches!(files.get(path), Some(FileEntry::Pending(_))) {
            files.insert(path.to_path_buf(), entry.0);
        }
    }

    /// Is this `.json` file a Terraform plan (or state)? Read once.
    pub fn is_plan(&self, path: &Path) -> bool {
        if self.not_plans.contains(path) {
            return false;
        }
        match self.read_source(path) {
            Ok(source) => syntax::json::looks_like_plan(&self.sources.get(source).text),
            Err(_) => false,
        }
    }

    /// The source of a file already read by [`Workspace::read_source`] or
    /// the preload, without reading anything.
    pub fn text_read(&self, path: &Path) -> Option<SourceId> {
        match locked(&self.texts).get(path) {
            Some(Ok(source)) => Some(*source),
            _ => None,
        }
    }

    /// Read a file as text into the source map (each file once), without
    /// parsing it as a ClickHouse configuration (Terraform, plan JSON, a
    /// file Terraform's `file()` names). The same guards as for
    /// configuration files apply: nothing but a regular file is opened,
    /// links leading outside the checked folders are not followed, the size
    /// limits hold, and a panic is an internal error.
    pub fn read_source(&self, path: &Path) -> Result<SourceId, ConfigNote> {
        // Held while the file is read: one source however many ask.
        let mut texts = locked(&self.texts);
        if let Some(r) = texts.get(path) {
            return r.clone();
        }
        // A file already read as a configuration keeps its source, so that
        // what two readers find in it is one finding (a released file is
        // read again). Terraform's findings point into it: it stays.
        let configuration = match locked(&self.files).get(path) {
            Some(
                FileEntry::Parsed { source, .. }
                | FileEntry::Pending(source)
                | FileEntry::Failed(
                    ConfigNote::Invalid { source, .. } | ConfigNote::Template { source },
                ),
            ) => Some(*source),
            _ => None,
        };
        if let Some(source) = configuration {
            self.sources.pin(source);
            return Ok(source);
        }
        let r =
            crate::guard::catch(|| self.read_source_unguarded(path)).unwrap_or_else(|message| {
                Err(ConfigNote::Internal {
                    path: path.to_path_buf(),
                    message,
                })
            });
        texts.insert(path.to_path_buf(), r.clone());
        r
    }

    fn read_source_unguarded(&self, path: &Path) -> Result<SourceId, ConfigNote> {
        let text = self.read_checked(path)?;
        self.kept.fetch_add(text.len() as u64, Ordering::Relaxed);
        let source = self
            .sources
            .add(SourceFile::new(path.to_path_buf(), text, SourceKind::File));
        // Findings and secrets of these files are found after discovery:
        // their text is never let go.
        self.sources.pin(source);
        Ok(source)
    }

    /// Read an auxiliary file (a chart's `Chart.yaml`) as text through the
    /// same guards, without registering it: `None` when it is not a regular
    /// file inside the checked folders, too large or not text.
    pub fn read_aux_text(&self, path: &Path) -> Option<String> {
        let meta = std::fs::metadata(path).ok()?;
        if !meta.is_file() || meta.len() > self.max_file_size || self.outside_roots(path).is_some()
        {
            return None;
        }
        let bytes = read_regular(path, self.max_file_size).ok()??;
        decode(&bytes).ok()
    }

    /// Is an existing path inside the checked folders (its real path under
    /// one of [`Workspace::roots`])? Always, without a restriction.
    pub fn inside_roots(&self, path: &Path) -> bool {
        let Some(roots) = &self.roots else {
            return true;
        };
        path.canonicalize()
            .is_ok_and(|real| roots.iter().any(|r| real.starts_with(r)))
    }

    /// Why a path may not be read under [`Workspace::roots`], if it may not.
    fn outside_roots(&self, path: &Path) -> Option<String> {
        let roots = self.roots.as_ref()?;
        if self.walked_inside.contains(path) {
            return None;
        }
        match path.canonicalize() {
            Ok(real) if crate::discover::within_roots(roots, &real) => None,
            // A path written in a file (a Terraform module `../..`) need
            // not be a link.
            Ok(_) if !path.ancestors().any(is_link) => {
                Some("not read: outside the checked folders".into())
            }
            Ok(_) => {
                Some("not followed: a symbolic link to a file outside the checked folders".into())
            }
            Err(e) => Some(describe_missing(path, &e)),
        }
    }

    /// May one more server be built from a deployment file? Counts it when
    /// it may.
    pub fn take_deploy_server(&self) -> bool {
        let max = self.max_deploy_servers;
        self.deploy_servers
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < max).then_some(n + 1)
            })
            .is_ok()
    }

    /// Have deployment files used up the servers one run builds?
    pub fn deploy_servers_exhausted(&self) -> bool {
        self.deploy_servers.load(Ordering::Relaxed) >= self.max_deploy_servers
    }

    /// The leniently decoded beginning of a file that could not be read as
    /// text (too large, binary, another encoding).
    pub fn prefix_of(&self, path: &Path) -> Option<String> {
        locked(&self.prefixes).get(path).cloned()
    }

    /// Forget a file that turned out not to be a configuration: its tree and
    /// text are dropped, and it is never read again in this run.
    pub fn release(&mut self, path: &Path) {
        if let Some(entry) = owned(&mut self.files).get_mut(path) {
            let source = match entry {
                FileEntry::Parsed { source, .. }
                | FileEntry::Pending(source)
                | FileEntry::Failed(ConfigNote::Invalid { source, .. })
                | FileEntry::Failed(ConfigNote::Template { source }) => *source,
                _ => return,
            };
            // A source a deployment, an embedded text or a loaded tree
            // points into keeps its text (and its entry).
            if self.sources.is_pinned(source) {
                return;
            }
            let len = self.sources.get(source).text.len() as u64;
            let kept = self.kept.get_mut();
            *kept = kept.saturating_sub(len);
            self.sources.forget_text(source);
            *entry = FileEntry::Released;
        }
        owned(&mut self.prefixes).remove(path);
    }

    /// Files whose reading or parsing hit a bug in chlint, with the message.
    pub fn internal_failures(&mut self) -> Vec<(PathBuf, String)> {
        let texts = owned(&mut self.texts);
        let mut out: Vec<(PathBuf, String)> = owned(&mut self.files)
            .iter()
            .filter_map(|(p, e)| match e {
                FileEntry::Failed(ConfigNote::Internal { message, .. }) => {
                    Some((p.clone(), message.clone()))
                }
                _ => None,
            })
            .chain(texts.iter().filter_map(|(p, r)| match r {
                Err(ConfigNote::Internal { message, .. }) => Some((p.clone(), message.clone())),
                _ => None,
            }))
            .collect();
        out.sort();
        out
    }

    /// Paths skipped without being read (FIFOs, devices, links that loop,
    /// dangle or lead outside), with the reason, in path order.
    pub fn skipped(&mut self) -> Vec<(PathBuf, String)> {
        let texts = owned(&mut self.texts);
        let mut out: Vec<(PathBuf, String)> = owned(&mut self.files)
            .iter()
            .filter_map(|(p, e)| match e {
                FileEntry::Failed(ConfigNote::Skipped { reason, .. }) => {
                    Some((p.clone(), reason.clone()))
                }
                _ => None,
            })
            .chain(texts.iter().filter_map(|(p, r)| match r {
                Err(ConfigNote::Skipped { reason, .. }) => Some((p.clone(), reason.clone())),
                _ => None,
            }))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Register text that did not come from a plain file read (stdin, an
    /// embedded document) under a path.
    pub fn insert_text(&mut self, path: PathBuf, text: String) {
        let yaml = is_yaml(&path, &text);
        let entry = self.add_text(path.clone(), text, yaml, SourceKind::File);
        owned(&mut self.files).insert(path, entry);
    }

    /// Has text been registered (or read) under this path?
    pub fn has_text(&self, path: &Path) -> bool {
        locked(&self.files).contains_key(path)
    }

    fn add_text(&self, path: PathBuf, text: String, yaml: bool, kind: SourceKind) -> FileEntry {
        self.kept.fetch_add(text.len() as u64, Ordering::Relaxed);
        let source = self.sources.add(SourceFile::new(path, text, kind));
        let text = &self.sources.get(source).text;
        entry_of(source, text, parse_config(source, text, yaml, &self.limits))
    }

    /// Register text embedded in another source (see
    /// [`SourceMap::add_embedded`]) and parse it as a ClickHouse
    /// configuration, XML or YAML as `name` and the text say.
    pub fn add_embedded(
        &self,
        name: &str,
        text: impl Into<Cow<'static, str>>,
        whole: Span,
        lines: Vec<u32>,
    ) -> SourceId {
        let text = text.into();
        let yaml = is_yaml(Path::new(name), &text);
        // Small texts not written line by line are mostly what images and
        // operators ship, the same for every container: parsed once, and
        // the tree copied with its spans pointing at each new source.
        let key = (text.len() <= SHIPPED_TEXT && lines.is_empty()).then(|| (yaml, text.clone()));
        let cached = key
            .as_ref()
            .and_then(|k| locked(&self.parsed_texts).get(k).cloned());
        let source = self.sources.add_embedded(text, whole, lines);
        let entry = match cached {
            Some(root) => {
                let mut root = Element::clone(&root);
                root.retag(source);
                FileEntry::Parsed {
                    source,
                    root: Arc::new(root),
                    notes: Vec::new(),
                }
            }
            None => {
                let text = &self.sources.get(source).text;
                let entry = parse_entry(source, text, yaml, &self.limits);
                if let (Some(key), FileEntry::Parsed { root, notes, .. }) = (key, &entry) {
                    if notes.is_empty() {
                        locked(&self.parsed_texts).insert(key, root.clone());
                    }
                }
                entry
            }
        };
        if yaml {
            locked(&self.embedded_yaml).insert(source);
        }
        locked(&self.embedded).insert(source, entry);
        source
    }

    /// The source a file on disk was registered as, reading it if needed;
    /// `None` when it could not be read.
    pub fn source_of(&self, path: &Path) -> Option<SourceId> {
        match self.entry(path) {
            FileEntry::Parsed { source, .. } => Some(source),
            FileEntry::Failed(
                ConfigNote::Invalid { source, .. } | ConfigNote::Template { source },
            ) => Some(source),
            FileEntry::Failed(_) | FileEntry::Released | FileEntry::EmbeddedReleased { .. } => None,
            // `entry` parses a pending file.
            FileEntry::Pending(source) => Some(source),
        }
    }

    /// Drop the trees of embedded sources that were merged and will not be
    /// again (the files an image ships into one container): a run with
    /// thousands of containers keeps one copy of each, in its server. One
    /// asked for again is parsed again (its text stays: the host is pinned).
    pub fn release_embedded(&self, sources: &[SourceId]) {
        let mut embedded = locked(&self.embedded);
        let yaml_sources = locked(&self.embedded_yaml);
        for source in sources {
            if let Some(entry) = embedded.get_mut(source) {
                if matches!(entry, FileEntry::Parsed { .. }) {
                    let yaml = yaml_sources.contains(source);
                    *entry = FileEntry::EmbeddedReleased { yaml };
                }
            }
        }
    }

    /// The entry of an embedded source; a released one is parsed again
    /// (without holding the lock: other threads go on meanwhile).
    fn embedded_entry(&self, source: SourceId) -> Option<FileEntry> {
        let yaml = match locked(&self.embedded).get(&source)? {
            FileEntry::EmbeddedReleased { yaml } => *yaml,
            entry => return Some(entry.clone()),
        };
        let path = &self.sources.get(source).path;
        let text = &self.sources.get(source).text;
        let entry = parse_entry_guarded(path, source, text, yaml, &self.limits);
        locked(&self.embedded).insert(source, entry.clone());
        Some(entry)
    }

    /// The root of an embedded source, if it parsed.
    pub fn root_of_source(&self, source: SourceId) -> Option<Arc<Element>> {
        match self.embedded_entry(source)? {
            FileEntry::Parsed { root, .. } => Some(root),
            _ => None,
        }
    }

    /// Why an embedded source could not be used, if it could not.
    pub fn failure_of_source(&self, source: SourceId) -> Option<ConfigNote> {
        match locked(&self.embedded).get(&source)? {
            FileEntry::Failed(n) => Some(n.clone()),
            _ => None,
        }
    }

    fn input_entry(&self, input: &Input) -> FileEntry {
        match input {
            Input::File(path) => self.entry(path),
            Input::Source(source) => self.embedded_entry(*source).unwrap_or_else(|| {
                FileEntry::Failed(ConfigNote::Unreadable {
                    path: self.sources.get(*source).path.clone(),
                    message: "not registered as a configuration".into(),
                })
            }),
            // Generated in memory: small, copied.
            Input::Tree(root) => FileEntry::Parsed {
                source: root.span.source,
                root: Arc::new(root.clone()),
                notes: Vec::new(),
            },
        }
    }

    /// The path an input is reported under.
    fn input_path(&self, input: &Input) -> PathBuf {
        match input {
            Input::File(path) => path.clone(),
            Input::Source(source) => self.sources.get(*source).path.clone(),
            Input::Tree(root) => self.sources.get(root.span.source).path.clone(),
        }
    }

    /// Shipped defaults, one source each however many threads ask (the
    /// lock is held while the first parse).
    fn builtin(&self, name: &str, text: &str) -> Element {
        let mut builtins = locked(&self.builtins);
        let root = builtins.entry(name.to_string()).or_insert_with(|| {
            let source = self.sources.add(SourceFile::new(
                PathBuf::from(format!("<shipped {name}>")),
                text.to_string(),
                SourceKind::Builtin,
            ));
            let root =
                syntax::xml::parse(source, text, &self.limits).expect("shipped defaults parse");
            Arc::new(root)
        });
        let root = Arc::clone(root);
        drop(builtins);
        Element::clone(&root)
    }

    /// The root element of a file, if it parses (used for classification).
    pub fn root_of(&self, path: &Path) -> Option<Arc<Element>> {
        match self.entry(path) {
            FileEntry::Parsed { root, .. } => Some(root),
            _ => None,
        }
    }

    /// The note that explains why a file could not be used, if it could not.
    pub fn failure_of(&self, path: &Path) -> Option<ConfigNote> {
        match self.entry(path) {
            FileEntry::Failed(n) => Some(n),
            _ => None,
        }
    }

    /// Build the effective tree from a base and its merge files (already in
    /// ClickHouse's order), then apply substitutions. A main file that cannot
    /// be used fails the whole tree, as it fails the server.
    pub fn load_tree(
        &self,
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
        &self,
        base: Base,
        inputs: &[Input],
        dir: &Path,
    ) -> Result<Loaded, ConfigNote> {
        let mut notes = Vec::new();
        let mut files = Vec::new();
        let builtin_base = matches!(base, Base::Builtin { .. });
        let (mut root, main) = match base {
            Base::Builtin { name, text } => (self.builtin(name, text), None),
            Base::Tree(root) => (root, None),
            Base::File(path) => {
                let entry = self.entry(path);
                parsed_base(entry, path, &mut notes, &mut files)?
            }
            Base::Source(source) => {
                let entry = self.input_entry(&Input::Source(source));
                let path = self.sources.get(source).path.clone();
                parsed_base(entry, &path, &mut notes, &mut files)?
            }
        };
        let defaults = builtin_base.then_some(root.span.source);
        let main_is_ch = is_clickhouse_root(&root.name);
        let flavor = self.flavor;
        let mut work = 0u64;
        for input in inputs {
            if work > self.max_merge_work {
                notes.push(ConfigNote::Unreadable {
                    path: self.input_path(input),
                    message: format!(
                        "not merged: the {} files merged before it into a large configuration took all the work chlint allows for one configuration",
                        files.len().saturating_sub(1)
                    ),
                });
                continue;
            }
            let entry = self.input_entry(input);
            // ClickHouse 18.x refuses to start on a dangling link among its
            // merge files (see `merge_files`).
            if let (Input::File(path), FileEntry::Failed(ConfigNote::Skipped { reason, .. })) =
                (input, &entry)
            {
                if flavor == Flavor::Legacy && dangling_link(path) {
                    notes.push(ConfigNote::Unreadable {
                        path: path.clone(),
                        message: format!("{reason}: ClickHouse 18.x does not start"),
                    });
                    continue;
                }
            }
            let (source, other, file_notes) = match &entry {
                FileEntry::Parsed {
                    source,
                    root,
                    notes,
                } => (*source, root, notes),
                FileEntry::Failed(note) => {
                    notes.push(note.clone());
                    continue;
                }
                FileEntry::Released => continue,
                // `entry` and `embedded_entry` parsed these above.
                FileEntry::Pending(_) | FileEntry::EmbeddedReleased { .. } => continue,
            };
            notes.extend(file_notes.iter().cloned());
            if main_is_ch && !is_clickhouse_root(&other.name) && flavor == Flavor::Modern {
                notes.push(ConfigNote::RootMismatch {
                    span: other.span,
                    root: other.name.clone(),
                });
                continue;
            }
            files.push(source);
            let mut merge_notes = Vec::new();
            if let Err(e) = merge_counting(&mut root, other, flavor, &mut merge_notes, &mut work) {
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
            include: include.as_ref().map(|(_, e)| &**e),
            env: env.as_ref(),
            flavor: self.flavor,
        };
        let mut subst_notes = Vec::new();
        substitute(&mut root, &ctx, &mut subst_notes);
        notes.extend(subst_notes.into_iter().map(ConfigNote::Subst));
        // Findings point into every file of the tree: none is let go.
        for source in &files {
            self.sources.pin(*source);
        }
        Ok(Loaded {
            defaults,
            root,
            main,
            files,
            notes,
        })
    }

    /// The file `<include_from>` names, when the repository has it.
    fn include_file(&self, root: &Element, dir: &Path) -> Option<(SourceId, Arc<Element>)> {
        let named = root.child("include_from")?;
        if named.is_external() {
            return None;
        }
        let path = resolve_in_dir(dir, &named.value())?;
        match self.entry(&path) {
            FileEntry::Parsed { source, root, .. } => Some((source, root)),
            _ => None,
        }
    }
}

/// The root of a parsed base file, its notes and source recorded.
fn parsed_base(
    entry: FileEntry,
    path: &Path,
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
            Ok((Arc::unwrap_or_clone(root), Some(source)))
        }
        FileEntry::Failed(note) => Err(note),
        FileEntry::Pending(_) | FileEntry::EmbeddedReleased { .. } => Err(ConfigNote::Unreadable {
            path: path.to_path_buf(),
            message: "not registered as a configuration".into(),
        }),
        FileEntry::Released => Err(ConfigNote::Skipped {
            path: path.to_path_buf(),
            reason: "not a ClickHouse configuration".into(),
        }),
    }
}

/// A symbolic link whose target does not exist.
fn dangling_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
        && std::fs::metadata(path).is_err()
}

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
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
                Flavor::Modern => is_merge_file_name(&name),
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
        let ws = Workspace {
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

    /// A scratch folder for one test, emptied first.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("chlint-load-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("config.d")).unwrap();
        dir
    }

    #[test]
    fn merging_stops_at_the_work_budget_and_says_which_files_were_left_out() {
        let dir = scratch("budget");
        let leaves: String = (0..100).map(|i| format!("<k{i}/>")).collect();
        std::fs::write(
            dir.join("config.xml"),
            format!("<clickhouse>{leaves}</clickhouse>"),
        )
        .unwrap();
        for i in 0..10 {
            std::fs::write(
                dir.join(format!("config.d/{i}.xml")),
                format!("<clickhouse><m{i}/></clickhouse>"),
            )
            .unwrap();
        }
        let ws = Workspace {
            max_merge_work: 350,
            ..Workspace::default()
        };
        let merges = merge_files(&dir, "config", Flavor::Modern);
        let tree = ws
            .load_tree(Base::File(&dir.join("config.xml")), &merges, &dir)
            .unwrap();
        // 100, 101, 102, 103 children looked at: the fifth file is past 350.
        assert_eq!(tree.files.len(), 1 + 4);
        let left_out: Vec<&Path> = tree
            .notes
            .iter()
            .filter_map(|n| match n {
                ConfigNote::Unreadable { path, message } if message.starts_with("not merged") => {
                    Some(path.as_path())
                }
                _ => None,
            })
            .collect();
        assert_eq!(left_out.len(), 6);
        assert!(left_out[0].ends_with("config.d/4.xml"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn text_kept_in_one_run_is_bounded_and_released_files_do_not_count() {
        let dir = scratch("total");
        for name in ["a.xml", "b.xml", "c.xml"] {
            std::fs::write(
                dir.join(name),
                format!("<clickhouse>{}</clickhouse>", " ".repeat(100)),
            )
            .unwrap();
        }
        let mut ws = Workspace {
            max_total_size: 250,
            ..Workspace::default()
        };
        assert!(ws.root_of(&dir.join("a.xml")).is_some());
        assert!(ws.root_of(&dir.join("b.xml")).is_some());
        let third = ws.failure_of(&dir.join("c.xml"));
        assert!(
            matches!(&third, Some(ConfigNote::Unreadable { message, .. }) if message.contains("as much as chlint keeps")),
            "{third:?}"
        );
        ws.release(&dir.join("a.xml"));
        let mut ws2 = Workspace {
            max_total_size: 260,
            ..Workspace::default()
        };
        assert!(ws2.root_of(&dir.join("a.xml")).is_some());
        ws2.release(&dir.join("a.xml"));
        assert!(ws2.root_of(&dir.join("b.xml")).is_some());
        assert!(ws2.root_of(&dir.join("c.xml")).is_some());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn preloading_keeps_to_the_checks_and_the_text_budget() {
        let dir = scratch("preload");
        for name in ["a.xml", "b.xml", "c.xml"] {
            std::fs::write(
                dir.join(name),
                format!("<clickhouse>{}</clickhouse>", " ".repeat(100)),
            )
            .unwrap();
        }
        std::fs::write(dir.join("big.xml"), "x".repeat(2000)).unwrap();
        std::fs::write(dir.join("0.json"), r#"{"a": 1}"#).unwrap();
        let fifo = dir.join("fifo.xml");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        let mut paths: Vec<PathBuf> = ["a.xml", "b.xml", "big.xml", "c.xml", "0.json"]
            .iter()
            .map(|n| dir.join(n))
            .collect();
        if made {
            paths.push(fifo.clone());
        }
        paths.sort();
        let mut ws = Workspace {
            max_total_size: 260,
            max_file_size: 1000,
            ..Workspace::default()
        };
        ws.preload(&paths);
        // Within the budget, in path order: a and b; c is left to be read on
        // first use, when the budget is checked again.
        assert!(ws.has_text(&dir.join("a.xml")));
        assert!(ws.has_text(&dir.join("b.xml")));
        assert!(!ws.has_text(&dir.join("c.xml")));
        let big = ws.failure_of(&dir.join("big.xml"));
        assert!(
            matches!(&big, Some(ConfigNote::Unreadable { message, .. }) if message.starts_with("larger than 1000 bytes")),
            "{big:?}"
        );
        assert!(ws.prefix_of(&dir.join("big.xml")).is_some());
        assert!(ws.not_plans.contains(&dir.join("0.json")));
        let third = ws.failure_of(&dir.join("c.xml"));
        assert!(
            matches!(&third, Some(ConfigNote::Unreadable { message, .. }) if message.contains("as much as chlint keeps")),
            "{third:?}"
        );
        if made {
            // Never opened: skipped with the reason.
            assert!(
                matches!(ws.failure_of(&fifo), Some(ConfigNote::Skipped { reason, .. }) if reason.contains("FIFO"))
            );
        }
        // Released files make room, as when reading on first use.
        let mut ws = Workspace {
            max_total_size: 260,
            ..Workspace::default()
        };
        ws.preload(&paths);
        ws.release(&dir.join("a.xml"));
        assert!(ws.root_of(&dir.join("c.xml")).is_some());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn decoding_names_what_it_cannot_read() {
        assert_eq!(decode(b"\xEF\xBB\xBFa: 1").unwrap(), "a: 1");
        assert_eq!(decode(b"\xFF\xFEa\0:\0").unwrap(), "a:");
        assert_eq!(decode(b"\xFE\xFF\0a\0:").unwrap(), "a:");
        assert!(decode(b"\xFF\xFE\0\0<\0\0\0")
            .unwrap_err()
            .contains("UTF-32"));
        assert!(decode(b"<\0c\0/\0>\0")
            .unwrap_err()
            .contains("UTF-16 without a byte order mark"));
        assert!(decode(b"\x01\x02\0\x03").unwrap_err().contains("binary"));
        let latin = decode(b"<?xml version='1.0' encoding='latin1'?>\n<c>\xE9</c>").unwrap_err();
        assert!(latin.contains("declared as latin1"), "{latin}");
        assert!(latin.contains("line 2, column 4"), "{latin}");
        let evil = decode(b"<?xml encoding='a b<script>'?>\xE9").unwrap_err();
        assert!(evil.starts_with("not UTF-8"), "{evil}");
        assert_eq!(decode(b"").unwrap(), "");
    }
}
