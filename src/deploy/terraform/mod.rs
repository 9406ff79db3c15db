//! The Terraform frontend: `.tf` and `.tf.json` configurations (with
//! variables, tfvars files, locals and local modules evaluated) and plan
//! JSON (`terraform show -json`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

mod budget;
pub mod eval;
pub mod funcs;
pub mod kube;
pub mod origin;
pub mod plan;
pub mod resources;
pub mod value;

use std::rc::Rc;

use self::eval::{Evaluator, Instance, ResourceInstance};
use self::value::Value;
use crate::clickhouse::load::{ConfigNote, Workspace};
use crate::source::{SourceId, Span};
use crate::syntax::{hcl, json};

/// What discovery found for Terraform.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Folders holding `.tf`/`.tf.json` files (modules).
    pub dirs: BTreeSet<PathBuf>,
    /// `.tfvars`/`.tfvars.json` files found.
    pub tfvars: Vec<PathBuf>,
    /// Plan or state JSON files (`terraform show -json`).
    pub plans: Vec<PathBuf>,
    /// Configuration files being parsed meanwhile (see [`parse_early`]).
    pub parsing: Option<Parsing>,
}

/// Terraform configuration files parsed on a thread of their own while the
/// deployment files are lowered, which keeps only one core busy.
pub struct Parsing(std::thread::JoinHandle<Vec<eval::Preparsed>>);

impl std::fmt::Debug for Parsing {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("Parsing")
    }
}

/// Start parsing the Terraform configuration files among `files` already
/// read (copies of their texts go to the parsing thread).
pub fn parse_early(ws: &Workspace, files: &BTreeSet<PathBuf>) -> Option<Parsing> {
    let jobs: Vec<(PathBuf, SourceId, String)> = files
        .iter()
        .filter(|p| is_config_file(p))
        .filter_map(|p| {
            let source = ws.text_read(p)?;
            // The path the module loader will ask for.
            let dir = p.parent().map(normalize).unwrap_or_default();
            let path = dir.join(p.file_name()?);
            Some((path, source, ws.sources.get(source).text.to_string()))
        })
        .collect();
    if jobs.is_empty() {
        return None;
    }
    let parse = move || {
        jobs.into_iter()
            .map(|(path, source, text)| {
                let parsed = eval::parse_config_text(&path, source, &text);
                (path, source, parsed)
            })
            .collect()
    };
    hcl::spawn_big_stack(parse).ok().map(Parsing)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

/// Is this a Terraform configuration file (not a tfvars file)?
pub fn is_config_file(path: &Path) -> bool {
    let name = file_name(path);
    name.ends_with(".tf") || name.ends_with(".tf.json")
}

pub fn is_tfvars_file(path: &Path) -> bool {
    let name = file_name(path);
    name.ends_with(".tfvars") || name.ends_with(".tfvars.json")
}

/// Remove `.` and `..` components without touching the file system.
pub fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let last = out.components().next_back();
                if matches!(last, Some(Component::Normal(_))) {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

impl Inputs {
    /// Take a discovered file if it is Terraform's; true when taken.
    pub fn take(&mut self, ws: &Workspace, path: &Path) -> bool {
        if is_config_file(path) {
            let dir = path.parent().map(normalize).unwrap_or_default();
            self.dirs.insert(dir);
            return true;
        }
        if is_tfvars_file(path) {
            self.tfvars.push(path.to_path_buf());
            return true;
        }
        if file_name(path).ends_with(".json") && ws.is_plan(path) {
            self.plans.push(path.to_path_buf());
            return true;
        }
        false
    }

    pub fn is_empty(&self) -> bool {
        self.dirs.is_empty() && self.tfvars.is_empty() && self.plans.is_empty()
    }
}

/// What the Terraform frontend made of the inputs.
#[derive(Debug, Default)]
pub struct Analysis {
    /// Files that cannot be read or parsed.
    pub notes: Vec<ConfigNote>,
    /// Every resource instance of every root module (local modules expanded).
    pub resources: Vec<ResourceInstance>,
    /// Provider blocks: module address, provider name, body, block span.
    pub providers: Vec<(String, String, Value, Span)>,
    /// Where secret values are written (never printed).
    pub secret_spans: Vec<Span>,
    /// The repository-level facts the resources make.
    pub repo: crate::repo::Repo,
    /// Servers lowered from Kubernetes resources and Helm releases
    /// (`kube.rs`), checked like any other.
    pub servers: Vec<crate::model::Server>,
    /// Texts given by `set_sensitive`: no message may show them.
    pub sensitive_texts: Vec<String>,
}

/// Evaluate every root module found (a folder that no other folder found
/// calls as a local module), following local modules.
pub fn analyse(ws: &Workspace, inputs: &mut Inputs) -> Analysis {
    // A bug that panicked there is met again below, where it is guarded.
    let early = inputs.parsing.take().and_then(|p| p.0.join().ok());
    let var_files = ws.var_files.clone();
    let inputs = &*inputs;
    hcl::with_big_stack(move || analyse_here(ws, inputs, &var_files, early))
}

fn analyse_here(
    ws: &Workspace,
    inputs: &Inputs,
    var_files: &[PathBuf],
    early: Option<Vec<eval::Preparsed>>,
) -> Analysis {
    let ev = Evaluator::new(ws);
    ev.adopt(early.unwrap_or_default());
    ev.preparse(&inputs.dirs);
    crate::phases::mark("terraform: read and parse");
    let mut out = Analysis::default();
    let modules: Vec<_> = inputs
        .dirs
        .iter()
        .map(|d| (d.clone(), ev.module(d)))
        .collect();
    crate::phases::mark("terraform: modules");
    let called: BTreeSet<PathBuf> = modules
        .iter()
        .flat_map(|(_, m)| ev.local_calls(m))
        .collect();
    // Each root module (with its local modules) and each plan file is one
    // deployment: its Kubernetes objects select and mount each other.
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    for (dir, _) in modules.iter().filter(|(d, _)| !called.contains(d)) {
        ev.begin_root();
        let root = ev.root(dir, ev.tfvars(dir, var_files));
        let start = out.resources.len();
        walk(&ev, &root, &mut out);
        ev.end_root();
        groups.push(start..out.resources.len());
    }
    // tfvars files outside root modules are still checked for syntax.
    for path in &inputs.tfvars {
        ev.syntax_check(path);
    }
    for path in &inputs.plans {
        let Ok(source) = ev.read(path) else { continue };
        // A plan holds sensitive values in clear: its lines are never shown.
        ev.set_opaque(source);
        let text = ev.text(source);
        match json::parse(source, &text) {
            Ok(doc) => {
                let (resources, secrets) = plan::resources(&doc);
                let start = out.resources.len();
                out.resources.extend(resources);
                groups.push(start..out.resources.len());
                out.secret_spans.extend(secrets);
            }
            Err(error) => ev.note_invalid(source, error),
        }
    }
    crate::phases::mark("terraform: evaluate");
    out.notes = ev.notes.take();
    let sensitive_vars = ev.sensitive.take();
    let origins = ev.origins.take();
    drop(ev);
    let mut repo = crate::repo::Repo::default();
    resources::lower(
        &out.resources,
        &out.providers,
        &mut repo,
        &mut out.secret_spans,
    );
    let mut deployed = crate::deploy::DeployOutput::default();
    let mut sensitive = kube::Sensitive::default();
    for g in groups {
        kube::lower(
            ws,
            &out.resources[g],
            &origins,
            &mut deployed,
            &mut sensitive,
        );
    }
    out.secret_spans.extend(sensitive.spans);
    out.sensitive_texts = sensitive.texts;
    out.secret_spans.extend(sensitive_vars.spans);
    out.sensitive_texts.extend(sensitive_vars.texts);
    for secret in sensitive.secrets {
        // A `set` that wrote it is reported already.
        if !repo.secrets.iter().any(|s| s.span == secret.span) {
            repo.secrets.push(secret);
        }
    }
    settle_servers(ws, &mut deployed.servers, &mut repo, &mut out.secret_spans);
    for note in deployed.notes {
        if !out.notes.contains(&note) {
            out.notes.push(note);
        }
    }
    out.servers = deployed.servers;
    out.repo = repo;
    crate::phases::mark("terraform: lower");
    out
}

/// A fact both models hold is reported once, by the server that explains
/// it: a Service that selects a lowered workload, a password a lowered
/// container or chart uses. A server lowered from a plan file reports no
/// literal secret (the plan holds them all by design), only masks them.
fn settle_servers(
    ws: &Workspace,
    servers: &mut [crate::model::Server],
    repo: &mut crate::repo::Repo,
    secret_spans: &mut Vec<Span>,
) {
    repo.published_services.retain(|p| {
        !servers
            .iter()
            .any(|s| s.exposures.iter().any(|e| e.span == p.type_span))
    });
    for server in servers.iter_mut() {
        secret_spans.extend(server.deploy.literal_secrets.iter().map(|l| l.span));
        server.deploy.literal_secrets.retain(|l| {
            let host = ws.sources.to_host(l.span);
            !ws.sources.get(host.source).is_opaque()
        });
    }
    repo.secrets.retain(|s| {
        !servers
            .iter()
            .any(|sv| sv.deploy.literal_secrets.iter().any(|l| l.span == s.span))
    });
}

fn walk(ev: &Evaluator, inst: &Rc<Instance>, out: &mut Analysis) {
    out.resources.extend(ev.resources(inst));
    for (name, value, span) in ev.providers(inst) {
        out.providers
            .push((inst.address.clone(), name, value, span));
    }
    for call in &inst.module.calls {
        for child in ev.children(inst, call).iter() {
            walk(ev, child, out);
        }
    }
}

/// The outputs of a root module as chlint evaluates them (for comparisons
/// with `terraform plan`).
pub fn evaluate_outputs(ws: &Workspace, dir: &Path) -> (Vec<(String, Value)>, Vec<ConfigNote>) {
    let var_files = ws.var_files.clone();
    let dir = normalize(dir);
    hcl::with_big_stack(move || {
        let ev = Evaluator::new(ws);
        ev.begin_root();
        let root = ev.root(&dir, ev.tfvars(&dir, &var_files));
        let outputs = ev.outputs(&root);
        ev.end_root();
        let notes = ev.notes.take();
        (outputs, notes)
    })
}

/// Replace every sensitive text in what findings say (a `set_sensitive`
/// value used as a user name or a Service type would otherwise show).
pub fn scrub(findings: &mut [crate::finding::Finding], texts: &[String]) {
    // Longer first, so a value is not half replaced by one inside it.
    let mut texts: Vec<&str> = texts
        .iter()
        .map(|t| t.as_str())
        .filter(|t| t.chars().count() >= 4)
        .collect();
    if texts.is_empty() {
        return;
    }
    texts.sort_by_key(|t| std::cmp::Reverse(t.len()));
    texts.dedup();
    let clean = |s: &mut String| {
        for t in &texts {
            if s.contains(t) {
                *s = s.replace(t, "****");
            }
        }
    };
    for f in findings {
        clean(&mut f.message);
        clean(&mut f.help);
        if let Some(n) = &mut f.note {
            clean(n);
        }
        for r in &mut f.related {
            clean(&mut r.message);
        }
    }
}
