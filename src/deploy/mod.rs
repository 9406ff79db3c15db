//! Deployment frontends: each lowers one format (compose, Kubernetes, the
//! Altinity and ClickHouse operators, Helm values) into the same model as a
//! plain ClickHouse configuration — the effective configuration it implies
//! and the network path to it — and Terraform into the repository model
//! (`crate::repo`). Rules never learn which format a fact came from.

pub mod compose;
pub mod container;
pub mod embed;
pub mod helm;
pub mod image;
pub mod k8s;
mod lenient;
mod nearest;
pub mod operator;
pub mod terraform;
pub mod value;

pub use lenient::parse_lenient;
use lenient::retry_lenient;

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use crate::clickhouse::load::{
    is_yaml_name, prepare_yaml_entry, ConfigNote, PreparedEntry, Workspace,
};
use crate::model::Server;
use crate::source::{SourceId, Span};
use crate::syntax::yaml;
use value::Value;

/// What the deployment frontends found.
#[derive(Debug, Default)]
pub struct DeployOutput<'s> {
    /// Servers built, unless a sink takes them (see [`DeployOutput::push_server`]).
    pub servers: Vec<Server>,
    sink: Sink<'s>,
    /// Files (or embedded texts) that could not be used.
    pub notes: Vec<ConfigNote>,
    /// Repository files a deployment mounts into a server: they are checked
    /// as part of it, not on their own.
    pub consumed: HashSet<PathBuf>,
    /// Deployment files recognised.
    pub files: HashSet<PathBuf>,
}

/// Where servers go as soon as they are built, if not into `servers`.
#[derive(Default)]
struct Sink<'s>(Option<&'s mut (dyn FnMut(Server) + Send)>);

impl std::fmt::Debug for Sink<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Sink" } else { "None" })
    }
}

impl DeployOutput<'_> {
    /// A server built by a frontend: handed to the sink at once (checked
    /// and dropped while lowering goes on), or kept.
    pub fn push_server(&mut self, server: Server) {
        match &mut self.sink.0 {
            Some(sink) => sink(server),
            None => self.servers.push(server),
        }
    }

    /// Take what lowering one unit produced (see [`lower_each`]).
    fn absorb(&mut self, unit: DeployOutput) {
        for server in unit.servers {
            self.push_server(server);
        }
        self.notes.extend(unit.notes);
        self.consumed.extend(unit.consumed);
        self.files.extend(unit.files);
    }
}

/// Units lowered together: their servers are checked once the batch is
/// done, so a batch is small enough that few servers wait.
const BATCH: usize = 32;

/// Lower units (a compose project, a workload's container, an operator's
/// installation) on every core, each into an output of its own, merged in
/// unit order: a run builds the same servers in the same order however its
/// threads are scheduled.
fn lower_each<T: Sync>(
    units: &[T],
    out: &mut DeployOutput,
    lower: impl Fn(&T, &mut DeployOutput) + Sync,
) {
    use rayon::prelude::*;
    // Off the thread pool (Terraform's big-stack thread, which a pool
    // thread waits for without taking other work): one unit after the
    // other, as waiting on the pool from there could wait forever.
    if rayon::current_thread_index().is_none() {
        for unit in units {
            lower(unit, out);
        }
        return;
    }
    for batch in units.chunks(BATCH) {
        let outputs: Vec<DeployOutput<'static>> = batch
            .par_iter()
            .with_max_len(1)
            .map(|unit| {
                let mut unit_out = DeployOutput::default();
                lower(unit, &mut unit_out);
                unit_out
            })
            .collect();
        for unit_out in outputs {
            out.absorb(unit_out);
        }
    }
}

/// Does unparsed text look like a Kubernetes manifest (so a parse error is
/// worth reporting)?
fn looks_like_manifest(text: &str) -> bool {
    let starts = |p: &str| text.lines().any(|l| l.starts_with(p));
    starts("apiVersion:") && starts("kind:")
}

/// Could a deployment file that does not parse describe a ClickHouse
/// server (its image, an operator's kind, a mount under its configuration
/// folder all name it; a Service publishing it names its HTTP port)? A
/// broken manifest of another application's Pod is none of chlint's
/// business.
fn mentions_clickhouse(text: &str) -> bool {
    const NAME: &[u8] = b"clickhouse";
    text.contains("8123")
        || text
            .as_bytes()
            .windows(NAME.len())
            .any(|w| w.eq_ignore_ascii_case(NAME))
}

/// Deployment files found, by format, before lowering.
#[derive(Default)]
struct Found {
    compose: Vec<compose::ComposeFile>,
    objects: Vec<k8s::Object>,
    values: Vec<(helm::Chart, PathBuf, Value, String)>,
}

/// What one YAML file holds for the deployment frontends.
enum Classified {
    /// Nothing they read.
    Nothing,
    /// A deployment file that does not parse.
    Invalid(ConfigNote),
    Compose(compose::ComposeFile),
    Objects(Vec<k8s::Object>),
    /// Sections of a values file that configure known charts.
    Values(Vec<(helm::Chart, PathBuf, Value, String)>),
}

impl Classified {
    /// Do the frontends take the file (so it is not a ClickHouse
    /// configuration of its own)?
    fn takes(&self) -> bool {
        match self {
            Classified::Nothing => false,
            Classified::Values(v) => !v.is_empty(),
            _ => true,
        }
    }

    /// Record it, in file order.
    fn collect(self, path: &Path, found: &mut Found, out: &mut DeployOutput) {
        match self {
            Classified::Nothing => {}
            Classified::Invalid(note) => {
                out.files.insert(path.to_path_buf());
                out.notes.push(note);
            }
            Classified::Compose(file) => {
                out.files.insert(path.to_path_buf());
                found.compose.push(file);
            }
            Classified::Objects(objects) => {
                out.files.insert(path.to_path_buf());
                found.objects.extend(objects);
            }
            Classified::Values(values) => found.values.extend(values),
        }
    }
}

/// Classify one YAML text and collect what it holds.
fn classify(
    ws: &Workspace,
    path: &Path,
    source: SourceId,
    found: &mut Found,
    out: &mut DeployOutput,
) {
    let text = &ws.sources.get(source).text;
    let docs = parse_lenient(source, text, &ws.limits);
    classify_docs(ws, path, source, docs.as_deref().map_err(Clone::clone))
        .collect(path, found, out);
}

/// [`helm::detemplate`] without a copy: strings with template actions
/// become values from outside.
fn detemplate_in_place(v: &mut Value) {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        if matches!(&v.kind, value::Kind::Str(s) if s.contains("{{")) {
            v.kind = value::Kind::External("a template".into());
            continue;
        }
        match &mut v.kind {
            value::Kind::List(items) => stack.extend(items.iter_mut()),
            value::Kind::Map(entries) => stack.extend(entries.iter_mut().map(|e| &mut e.value)),
            _ => {}
        }
    }
}

/// Could these documents be read by a frontend (compose, Kubernetes, Helm
/// values)? Looks at names and top-level keys only: most YAML in a
/// repository is neither, and need not be converted to find out.
fn may_deploy(path: &Path, docs: &[yaml::YamlNode]) -> bool {
    compose::is_compose_name(path)
        || helm::is_values_name(path)
        || docs.iter().any(|d| match &d.kind {
            yaml::YamlKind::Map(entries) => entries
                .iter()
                .any(|(k, _)| matches!(k.as_str(), Some("kind" | "services" | "<<"))),
            _ => false,
        })
}

/// Classify one parsed YAML text (see [`parse_lenient`]). The frontends
/// get copies of the documents: compact, whereas the parsed documents grew
/// as they were parsed (moving them kept 6-10 MB more on the benchmark tree).
fn classify_docs(
    ws: &Workspace,
    path: &Path,
    source: SourceId,
    docs: Result<&[yaml::YamlNode], crate::syntax::ParseError>,
) -> Classified {
    let text = &ws.sources.get(source).text;
    // A Helm or Go template becomes a manifest only once rendered: one that
    // does not parse yet is not reported, and template actions in one that
    // does are values from outside.
    let template = crate::clickhouse::load::is_template(text);
    let named_compose = compose::is_compose_name(path);
    let docs: Vec<Value> = match docs {
        Ok(d) if !may_deploy(path, d) => return Classified::Nothing,
        Ok(d) => {
            let mut docs: Vec<Value> = d.iter().map(Value::from_yaml).collect();
            if template {
                docs.iter_mut().for_each(detemplate_in_place);
            }
            docs
        }
        Err(_) if template => return Classified::Nothing,
        Err(error) => {
            // Only files about ClickHouse: a broken file of another
            // service is its tool's business. What parses before the error
            // counts (an alias bomb at the end does not hide the file).
            let clickhouse = mentions_clickhouse(text);
            if ((named_compose || looks_like_manifest(text)) && clickhouse)
                || clickhouse_chart_values(ws, path, text)
                || (clickhouse && read_before(ws, path, source, text, error.offset))
            {
                return Classified::Invalid(ConfigNote::Invalid { source, error });
            }
            return Classified::Nothing;
        }
    };
    if let [doc] = docs.as_slice() {
        if compose::looks_like_compose(doc) || (named_compose && doc.get("services").is_some()) {
            let mut docs = docs;
            return Classified::Compose(compose::ComposeFile {
                path: path.to_path_buf(),
                source,
                doc: docs.remove(0),
            });
        }
    }
    if docs.iter().any(k8s::holds_objects) {
        let objects = docs.into_iter().flat_map(|d| k8s::objects(d, path));
        return Classified::Objects(objects.collect());
    }
    if helm::is_values_name(path) && docs.len() == 1 {
        let doc = docs.into_iter().next().expect("one document");
        return values_sections(ws, path, doc);
    }
    Classified::Nothing
}

/// The warning for something a deployment or Terraform file names outside
/// the checked folders (a bind mount of `/etc`, a module in `../../..`),
/// which chlint neither lists nor reads: where it is written, and what is
/// unknown for that.
pub fn outside_note(ws: &Workspace, span: Span, what: &str, unknown: &str) -> ConfigNote {
    let at = ws.sources.locate(span);
    ConfigNote::Skipped {
        path: PathBuf::from(at.file),
        reason: format!(
            "line {}: {what} is outside the checked folders; {unknown}",
            at.line
        ),
    }
}

/// Is this a values file of a ClickHouse chart, by what its name, its
/// `Chart.yaml` or a top-level `clickhouse:` key says (for one that does
/// not parse, whatever comes first in it)?
fn clickhouse_chart_values(ws: &Workspace, path: &Path, text: &str) -> bool {
    if !helm::is_values_name(path) {
        return false;
    }
    let chart = path
        .parent()
        .and_then(|d| ws.read_aux_text(&d.join("Chart.yaml")));
    chart.is_some_and(|c| c.to_ascii_lowercase().contains("clickhouse"))
        || text.lines().any(|l| l.starts_with("clickhouse:"))
}

/// Would the frontends read the file as far as it parses (the lines before
/// the one with the error)? A values file of a known chart, a compose file
/// or manifests ending in something chlint cannot read (an alias bomb, a
/// syntax error) is reported, not silently dropped with every check of
/// the chart.
fn read_before(ws: &Workspace, path: &Path, source: SourceId, text: &str, offset: usize) -> bool {
    let end = offset.min(text.len());
    let end = memchr::memrchr(b'\n', &text.as_bytes()[..end]).map_or(0, |i| i + 1);
    if end == 0 {
        return false;
    }
    let Ok(docs) = yaml::parse_documents(source, &text[..end], &ws.limits) else {
        return false;
    };
    classify_docs(ws, path, source, Ok(&docs)).takes()
}

/// The sections of a values file that configure a known chart: the file
/// itself, or a subchart's section named in the `Chart.yaml` beside it
/// (its dependencies' names and aliases), or a `clickhouse:` section.
fn values_sections(ws: &Workspace, path: &Path, doc: Value) -> Classified {
    let mut keys: Vec<String> = vec![String::new()];
    let chart_yaml = path.parent().map(|d| d.join("Chart.yaml"));
    let mut deps: Vec<String> = Vec::new();
    let mut chart_failed = None;
    if let Some(text) = chart_yaml.as_ref().and_then(|p| ws.read_aux_text(p)) {
        match yaml::parse_documents(SourceId(u32::MAX), &text, &ws.limits) {
            Ok(docs) => {
                if let Some(chart) = docs.first().map(Value::from_yaml) {
                    for d in chart
                        .get("dependencies")
                        .map(Value::items)
                        .unwrap_or_default()
                    {
                        if let Some(k) = d.str_at("alias").or_else(|| d.str_at("name")) {
                            deps.push(k.to_string());
                        }
                    }
                }
            }
            Err(_) => chart_failed = chart_yaml.clone(),
        }
    }
    if deps.is_empty() {
        deps.push("clickhouse".into());
    }
    keys.extend(deps);
    // The sections that configure a known chart, found before any moves.
    let mut found: Vec<(helm::Chart, String)> = Vec::new();
    for key in keys {
        let section = if key.is_empty() {
            Some(&doc)
        } else {
            doc.get(&key)
        };
        let Some(chart) = section.and_then(helm::detect) else {
            continue;
        };
        let own = key.is_empty();
        found.push((chart, key));
        // The file's own chart wins over a section of it.
        if own {
            break;
        }
    }
    // Values of a known chart whose `Chart.yaml` Helm cannot read (an alias
    // bomb): which subcharts it names is unknown, and said.
    if let (Some(chart_yaml), false) = (chart_failed, found.is_empty()) {
        if let Some(note) = invalid_note(ws, &chart_yaml) {
            return Classified::Invalid(note);
        }
    }
    if let [(chart, key)] = found.as_slice() {
        if key.is_empty() {
            return Classified::Values(vec![(*chart, path.to_path_buf(), doc, String::new())]);
        }
    }
    // Sections move out of the document (a key named twice is copied).
    let span = doc.span;
    let value::Kind::Map(mut entries) = doc.kind else {
        return Classified::Values(Vec::new());
    };
    let mut out = Vec::new();
    for (i, (chart, key)) in found.iter().enumerate() {
        let Some(at) = entries.iter().rposition(|e| e.key == *key) else {
            continue;
        };
        let section = if found[i + 1..].iter().any(|(_, k)| k == key) {
            entries[at].value.clone()
        } else {
            std::mem::replace(&mut entries[at].value, Value::new(value::Kind::Null, span))
        };
        out.push((*chart, path.to_path_buf(), section, format!("{key}.")));
    }
    Classified::Values(out)
}

/// The parse error of a YAML file, registered as a source so that the
/// note points at its line.
fn invalid_note(ws: &Workspace, path: &Path) -> Option<ConfigNote> {
    let source = ws.read_source(path).ok()?;
    let text = &ws.sources.get(source).text;
    let error = yaml::parse_documents(source, text, &ws.limits).err()?;
    Some(ConfigNote::Invalid { source, error })
}

fn lower_found(ws: &Workspace, found: Found, out: &mut DeployOutput) {
    compose::lower(ws, found.compose, out);
    crate::phases::mark("lower: compose");
    k8s::lower(ws, &found.objects, out);
    crate::phases::mark("lower: kubernetes");
    operator::lower(ws, &found.objects, out);
    crate::phases::mark("lower: operators");
    lower_each(&found.values, out, |(chart, path, values, prefix), out| {
        out.files.insert(path.clone());
        let anchor = values.entries().first().map_or(values.span, |e| e.key_span);
        let section = helm::Section {
            values,
            path,
            prefix: prefix.clone(),
            anchor,
        };
        helm::lower(ws, *chart, &section, out);
    });
}

/// Lower one text that did not come from a file on disk (stdin, with the
/// name given by `--stdin-filename`): compose or Kubernetes manifests,
/// e.g. the output of `helm template`.
pub fn discover_text(ws: &mut Workspace, name: PathBuf, text: String) -> DeployOutput<'static> {
    let mut out = DeployOutput::default();
    let source = ws.sources.add(crate::source::SourceFile::new(
        name.clone(),
        text,
        crate::source::SourceKind::File,
    ));
    let mut found = Found::default();
    classify(ws, &name, source, &mut found, &mut out);
    lower_found(ws, found, &mut out);
    out
}

/// Find and lower every deployment file among `files`, handing each
/// server to `sink` as soon as it is built; `before_lowering` runs once the
/// files are parsed (it may start work for the core lowering leaves free).
pub fn discover<'s>(
    ws: &mut Workspace,
    files: &BTreeSet<PathBuf>,
    sink: &'s mut (dyn FnMut(Server) + Send),
    before_lowering: &mut dyn FnMut(&Workspace),
) -> DeployOutput<'s> {
    use rayon::prelude::*;
    let mut out = DeployOutput {
        sink: Sink(Some(sink)),
        ..DeployOutput::default()
    };
    let mut found = Found::default();
    // Files registered but not parsed yet (see Workspace::preload), and
    // texts registered otherwise (stdin).
    let mut todo: Vec<(&PathBuf, SourceId, bool)> = Vec::new();
    for path in files {
        if !is_yaml_name(path) {
            continue;
        }
        if let Some(source) = ws.pending(path) {
            todo.push((path, source, true));
        } else if let Some(source) = ws.source_of(path) {
            todo.push((path, source, false));
        }
    }
    // Parsed and classified in parallel; a pending file the frontends leave
    // becomes a configuration tree from the same documents, which are then
    // dropped.
    let shared: &Workspace = ws;
    // Largest first, one file per task: a large file left for last would
    // keep one core busy while the other waits.
    todo.sort_by_key(|(_, source, _)| std::cmp::Reverse(shared.sources.get(*source).text.len()));
    let mut classified: Vec<(&PathBuf, Classified, Option<PreparedEntry>)> = todo
        .into_par_iter()
        .with_max_len(1)
        .map(|(path, source, pending)| {
            // A bug in one file's parsing or classifying is an internal
            // error for that file; the others go on.
            let done = crate::guard::catch(|| {
                let text = &shared.sources.get(source).text;
                let docs = yaml::parse_documents(source, text, &shared.limits);
                let c = match &docs {
                    Ok(d) => classify_docs(shared, path, source, Ok(d)),
                    Err(e) => {
                        let lenient = retry_lenient(source, text, &shared.limits, e.clone());
                        classify_docs(
                            shared,
                            path,
                            source,
                            lenient.as_deref().map_err(Clone::clone),
                        )
                    }
                };
                let entry =
                    (pending && !c.takes()).then(|| prepare_yaml_entry(source, text, &docs));
                (c, entry)
            });
            match done {
                Ok((c, entry)) => (path, c, entry),
                Err(message) => (
                    path,
                    Classified::Nothing,
                    Some(PreparedEntry::internal(path, message)),
                ),
            }
        })
        .collect();
    crate::phases::mark("parse and classify YAML");
    // Back in path order.
    classified.sort_by(|a, b| a.0.cmp(b.0));
    for (path, c, entry) in classified {
        if let Some(entry) = entry {
            ws.settle_yaml(path, entry);
        }
        c.collect(path, &mut found, &mut out);
    }
    before_lowering(ws);
    lower_found(ws, found, &mut out);
    out
}
