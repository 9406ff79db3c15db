//! One container running ClickHouse or Keeper, as a deployment describes
//! it: the files the image ships, what the repository mounts over them,
//! what the entrypoint generates, its environment and arguments — built into
//! a [`Server`] through the same merge as any configuration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::clickhouse::element::{Attr, Element, Node, Text};
use crate::clickhouse::load::{
    is_clickhouse_root, sort_layers, Base, ConfigNote, Input, Layer, Loaded, Workspace,
};
use crate::clickhouse::write::{to_xml, Options};
use crate::discover::{build, UsersTree};
use crate::model::{
    DeployFacts, Exposure, Given, Image, LiteralSecret, Server, ServerKind, Unit, UserSetup,
};
use crate::source::Span;

/// A file inside the container.
#[derive(Clone, Debug)]
pub enum FileSrc {
    /// A file of the repository, mounted.
    Repo(PathBuf),
    /// Text registered in the workspace (embedded in a manifest, or shipped
    /// by the image and blamed on its `image:` line).
    Source(crate::source::SourceId),
    /// Generated in memory (by the entrypoint, the operator, a chart).
    Tree(Element),
    /// Something the repository does not show (a file that is not in it, a
    /// volume, a ConfigMap defined elsewhere): its content is unknown.
    Opaque { span: Span, what: String },
}

/// The files of a container below the folders ClickHouse reads.
#[derive(Clone, Debug, Default)]
pub struct ContainerFs {
    pub files: BTreeMap<String, FileSrc>,
    /// Folders whose whole content is unknown.
    pub opaque_dirs: Vec<(String, Span, String)>,
}

fn under(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    path == dir || path.starts_with(&format!("{dir}/"))
}

/// Most files taken from one mounted folder.
const MAX_DIR_FILES: usize = 1000;

impl ContainerFs {
    pub fn put(&mut self, path: &str, src: FileSrc) {
        self.files.insert(normalize(path), src);
    }

    /// Mount over `target`: whatever was at or below it disappears.
    pub fn clear(&mut self, target: &str) {
        let target = normalize(target);
        self.files.retain(|p, _| !under(p, &target));
        self.opaque_dirs.retain(|(p, _, _)| !under(p, &target));
    }

    pub fn mount_file(&mut self, target: &str, src: FileSrc) {
        self.clear(target);
        self.put(target, src);
    }

    /// Mount a folder of the repository at `target` (its files and
    /// subfolders, as the container sees them).
    pub fn mount_repo_dir(&mut self, target: &str, dir: &Path) {
        self.clear(target);
        let target = normalize(target);
        let mut count = 0;
        for entry in ignore::WalkBuilder::new(dir)
            .standard_filters(false)
            .max_depth(Some(4))
            .build()
            .flatten()
        {
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let Ok(rel) = entry.path().strip_prefix(dir) else {
                continue;
            };
            count += 1;
            if count > MAX_DIR_FILES {
                break;
            }
            let rel = rel.to_string_lossy().replace('\\', "/");
            self.put(&format!("{target}/{rel}"), FileSrc::Repo(entry.into_path()));
        }
    }

    /// A folder whose content the repository does not show.
    pub fn mount_opaque_dir(&mut self, target: &str, span: Span, what: String) {
        self.clear(target);
        self.opaque_dirs.push((normalize(target), span, what));
    }

    pub fn get(&self, path: &str) -> Option<&FileSrc> {
        self.files.get(&normalize(path))
    }

    /// The files directly in a folder, by full path.
    pub fn list(&self, dir: &str) -> Vec<(String, FileSrc)> {
        let dir = normalize(dir);
        let prefix = format!("{dir}/");
        self.files
            .iter()
            .filter(|(p, _)| p.starts_with(&prefix) && !p[prefix.len()..].contains('/'))
            .map(|(p, s)| (p.clone(), s.clone()))
            .collect()
    }

    /// An unknown folder that covers `path`, if any.
    pub fn opaque_over(&self, path: &str) -> Option<&(String, Span, String)> {
        let path = normalize(path);
        self.opaque_dirs.iter().find(|(d, _, _)| under(&path, d))
    }
}

/// `/a//b/./c/` → `/a/b/c`.
pub fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// One environment variable of a container.
#[derive(Clone, Debug)]
pub struct EnvVar {
    pub name: String,
    pub value: Given,
    /// Where the value is written (the whole entry when it has no value).
    pub span: Span,
}

#[derive(Clone, Debug, Default)]
pub struct Env {
    pub vars: Vec<EnvVar>,
    /// Variables may also come from outside (`env_file`, `envFrom`): any
    /// variable not written here is unknown rather than unset.
    pub more_from: Option<Span>,
}

impl Env {
    /// A variable's value and where it is written; unknown variables from
    /// an `env_file`/`envFrom` are external (at that line).
    pub fn get(&self, name: &str) -> Option<(Given, Span)> {
        match self.vars.iter().rev().find(|v| v.name == name) {
            Some(v) => Some((v.value.clone(), v.span)),
            None => self.more_from.map(|s| (Given::External, s)),
        }
    }

    /// Only variables written in the repository.
    pub fn written(&self, name: &str) -> Option<&EnvVar> {
        self.vars.iter().rev().find(|v| v.name == name)
    }
}

/// Everything a frontend knows about one ClickHouse or Keeper container.
#[derive(Clone, Debug)]
pub struct Container {
    pub kind: ServerKind,
    /// For messages: "compose service `clickhouse` (docker-compose.yml)".
    pub label: String,
    /// Where `include_from` and relative paths are looked up.
    pub dir: PathBuf,
    pub unit: Unit,
    pub image: Option<Image>,
    pub env: Env,
    /// `command`/`args` replace the image's command.
    pub command: Option<Vec<(String, Span)>>,
    pub fs: ContainerFs,
    pub exposures: Vec<Exposure>,
    pub literal_secrets: Vec<LiteralSecret>,
    pub tls: Option<crate::model::TlsSetting>,
    /// Sources shipped by the image or generated by an operator or chart
    /// (their defaults are not the repository's choice).
    pub shipped: Vec<crate::source::SourceId>,
    /// The frontend already wrote the users (an operator): no entrypoint
    /// decision is simulated beyond what `fs` holds.
    pub managed_users: bool,
}

impl Container {
    /// "compose service `ch`", "StatefulSet `ch`".
    pub fn unit_label(&self) -> String {
        format!("{} `{}`", self.unit.kind, self.unit.name)
    }

    pub fn new(kind: ServerKind, label: String, dir: PathBuf, unit: Unit) -> Container {
        Container {
            kind,
            label,
            dir,
            unit,
            image: None,
            env: Env::default(),
            command: None,
            fs: ContainerFs::default(),
            exposures: Vec::new(),
            literal_secrets: Vec::new(),
            tls: None,
            shipped: Vec::new(),
            managed_users: false,
        }
    }
}

pub const SERVER_DIR: &str = "/etc/clickhouse-server";
pub const KEEPER_DIR: &str = "/etc/clickhouse-keeper";

/// Build the element `<name>` with a text child, all at `span`.
pub fn text_element(name: &str, value: &str, span: Span, value_span: Span) -> Element {
    let mut e = Element::new(name, span);
    if !value.is_empty() {
        e.children.push(Node::Text(Text {
            value: value.to_string(),
            span: value_span,
        }));
    }
    e
}

pub fn with_attr(mut e: Element, name: &str, value: &str) -> Element {
    let span = e.span;
    e.set_attr(Attr {
        name: name.into(),
        value: value.into(),
        span,
    });
    e
}

pub fn push(parent: &mut Element, child: Element) {
    parent.children.push(Node::Element(child));
}

/// The element at a `/` path, created as needed (spans of new elements: `span`).
pub fn ensure_path<'a>(root: &'a mut Element, path: &str, span: Span) -> &'a mut Element {
    let mut e = root;
    for part in path.split('/').filter(|p| !p.is_empty()) {
        let i = match e
            .children
            .iter()
            .position(|n| matches!(n, Node::Element(c) if c.name == part))
        {
            Some(i) => i,
            None => {
                e.children.push(Node::Element(Element::new(part, span)));
                e.children.len() - 1
            }
        };
        let Node::Element(child) = &mut e.children[i] else {
            unreachable!("position matched an element")
        };
        e = child;
    }
    e
}

/// Inputs of one tree: the base and its merge layers, or why it is unknown.
enum TreeInputs {
    Known(BaseSrc, Vec<Input>, Vec<(Span, String)>),
    Unknown(Span, String),
}

/// The base file of a tree.
#[derive(Clone)]
enum BaseSrc {
    Repo(PathBuf),
    Source(crate::source::SourceId),
    Tree(Element),
}

impl BaseSrc {
    fn base(&self) -> Base<'_> {
        match self {
            BaseSrc::Repo(p) => Base::File(p),
            BaseSrc::Source(s) => Base::Source(*s),
            BaseSrc::Tree(t) => Base::Tree(t.clone()),
        }
    }
}

fn base_of(src: &FileSrc) -> Result<BaseSrc, (Span, String)> {
    match src {
        FileSrc::Repo(p) => Ok(BaseSrc::Repo(p.clone())),
        FileSrc::Source(id) => Ok(BaseSrc::Source(*id)),
        FileSrc::Tree(t) => Ok(BaseSrc::Tree(t.clone())),
        FileSrc::Opaque { span, what } => Err((*span, what.clone())),
    }
}

fn input_of(src: &FileSrc) -> Result<Input, (Span, String)> {
    match src {
        FileSrc::Repo(p) => Ok(Input::File(p.clone())),
        FileSrc::Source(id) => Ok(Input::Source(*id)),
        FileSrc::Tree(t) => Ok(Input::Tree(t.clone())),
        FileSrc::Opaque { span, what } => Err((*span, what.clone())),
    }
}

/// The layers ClickHouse merges into `main` (`<stem>.d/` and `conf.d/`
/// beside it), in its order; unknown files are listed separately.
fn merge_layers(fs: &ContainerFs, main: &str) -> (Vec<Layer>, Vec<(Span, String)>) {
    let (dir, file) = main.rsplit_once('/').unwrap_or(("", main));
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    let mut layers = Vec::new();
    let mut unknown = Vec::new();
    for sub in [format!("{dir}/{stem}.d"), format!("{dir}/conf.d")] {
        if let Some((_, span, what)) = fs.opaque_over(&format!("{sub}/x.xml")) {
            unknown.push((*span, what.clone()));
        }
        for (path, src) in fs.list(&sub) {
            let name = path.rsplit('/').next().unwrap_or_default();
            if !crate::clickhouse::load::is_merge_file_name(name) {
                continue;
            }
            match input_of(&src) {
                Ok(input) => layers.push(Layer { path, input }),
                Err(u) => unknown.push(u),
            }
        }
    }
    sort_layers(&mut layers);
    (layers, unknown)
}

fn tree_inputs(fs: &ContainerFs, main: &str) -> Option<TreeInputs> {
    let main_src = match fs.get(main) {
        Some(src) => src.clone(),
        None => {
            if let Some((_, span, what)) = fs.opaque_over(main) {
                return Some(TreeInputs::Unknown(*span, what.clone()));
            }
            return None;
        }
    };
    let base = match base_of(&main_src) {
        Ok(b) => b,
        Err((span, what)) => return Some(TreeInputs::Unknown(span, what)),
    };
    let (layers, unknown) = merge_layers(fs, main);
    Some(TreeInputs::Known(
        base,
        layers.into_iter().map(|l| l.input).collect(),
        unknown,
    ))
}

/// Where users come from, as a path inside the container.
fn users_path(config: &Element, config_dir: &str) -> Option<String> {
    let written = config.child("users_config").map(|e| e.value()).or_else(|| {
        let dirs = config.child("user_directories")?;
        dirs.elements()
            .filter(|s| {
                let n = s.name.split('[').next().unwrap_or_default();
                n == "users_xml" || n == "users_config"
            })
            .find_map(|s| s.child("path").map(|p| p.value()))
    });
    let written = match written {
        Some(w) if !w.trim().is_empty() => w,
        // No user_directories at all: users are in the main file.
        None if config.child("user_directories").is_none() => return Some(String::new()),
        _ => return None,
    };
    Some(if written.starts_with('/') {
        normalize(&written)
    } else {
        normalize(&format!("{config_dir}/{written}"))
    })
}

/// A span-insensitive rendering of an element, to tell whether two files
/// define the same thing.
fn shape(e: Option<&Element>) -> String {
    e.map(|e| to_xml(e, &Options::exact())).unwrap_or_default()
}

/// Load a tree; a base that cannot be used is reported as a note.
fn load(
    ws: &Workspace,
    base: &BaseSrc,
    inputs: &[Input],
    dir: &Path,
    notes: &mut Vec<ConfigNote>,
) -> Option<Loaded> {
    match ws.load_inputs(base.base(), inputs, dir) {
        Ok(l) => Some(l),
        Err(note) => {
            notes.push(note);
            None
        }
    }
}

/// Build the server a container runs. Notes about files that could not be
/// used at all (a mounted main file that does not parse) go to `notes`.
pub fn build_server(
    ws: &Workspace,
    mut c: Container,
    notes: &mut Vec<ConfigNote>,
) -> Option<Server> {
    if !ws.take_deploy_server() {
        let path = ws
            .sources
            .get(ws.sources.to_host(c.unit.span).source)
            .path
            .clone();
        notes.push(ConfigNote::Unreadable {
            path,
            message: format!(
                "not checked: the deployment files of this run already describe {} ClickHouse servers, as many as chlint checks in one run",
                ws.max_deploy_servers
            ),
        });
        return None;
    }
    let conf_dir = match c.kind {
        ServerKind::Server => SERVER_DIR,
        ServerKind::Keeper => KEEPER_DIR,
    };
    let main_name = match c.kind {
        ServerKind::Server => "config.xml",
        ServerKind::Keeper => "keeper_config.xml",
    };
    let main = c
        .env
        .written(if c.kind == ServerKind::Server {
            "CLICKHOUSE_CONFIG"
        } else {
            "KEEPER_CONFIG"
        })
        .and_then(|v| match &v.value {
            Given::Literal(p) if p.starts_with('/') => Some(normalize(p)),
            _ => None,
        })
        .unwrap_or_else(|| format!("{conf_dir}/{main_name}"));
    let mut unknown_inputs = Vec::new();
    let args_layer = crate::deploy::image::args_input(ws, &mut c);

    // The server configuration.
    let mut config: Option<Loaded> = None;
    match tree_inputs(&c.fs, &main) {
        Some(TreeInputs::Known(base, mut inputs, unknown)) => {
            unknown_inputs.extend(unknown);
            inputs.extend(args_layer.clone());
            config = load(ws, &base, &inputs, &c.dir, notes);
            config.as_ref()?;
        }
        Some(TreeInputs::Unknown(span, what)) => unknown_inputs.push((span, what)),
        None => {}
    }
    let main_dir = main.rsplit_once('/').map_or("", |(d, _)| d).to_string();

    // Users: the image's entrypoint decides before the server reads them.
    let mut user_setup = None;
    let mut users_tree = UsersTree::NotInFiles;
    if c.kind == ServerKind::Server {
        let users_at = config
            .as_ref()
            .and_then(|cfg| users_path(&cfg.root, &main_dir));
        match users_at.as_deref() {
            Some("") => users_tree = UsersTree::InMain,
            Some(path) => {
                let path = path.to_string();
                // Users an operator manages are not the entrypoint's to set
                // up: whether `default` changed is not asked (two loads).
                if !c.managed_users {
                    let default_changed = default_changed(ws, &c, &path);
                    let setup = crate::deploy::image::user_setup(ws, &mut c, default_changed);
                    user_setup = Some(setup);
                }
                let users_unknown = matches!(user_setup, Some(UserSetup::Unknown));
                match tree_inputs(&c.fs, &path) {
                    Some(TreeInputs::Known(base, inputs, unknown)) if unknown.is_empty() => {
                        if let Some(tree) = load(ws, &base, &inputs, &c.dir, notes) {
                            if !users_unknown {
                                users_tree = UsersTree::File(tree);
                            }
                        }
                    }
                    Some(TreeInputs::Known(_, _, unknown)) => unknown_inputs.extend(unknown),
                    Some(TreeInputs::Unknown(span, what)) => unknown_inputs.push((span, what)),
                    None => {}
                }
            }
            None => {}
        }
    }

    let config = match config {
        Some(c) => c,
        None => {
            // The main file is not in the repository: nothing is known of
            // the listeners; keep what the deployment says about the rest.
            let anchor = c.unit.span;
            Loaded {
                root: Element::new("clickhouse", anchor),
                main: None,
                defaults: None,
                files: vec![anchor.source],
                notes: Vec::new(),
            }
        }
    };
    let mut server = build(
        c.kind,
        c.label.clone(),
        &c.dir,
        config,
        users_tree,
        Vec::new(),
    );
    if server.config.main.is_none() && server.config.root.elements().next().is_none() {
        server.listeners.clear();
    }
    // A value a frontend already reported (a chart's `auth.password` passed
    // on as an environment variable) is reported once, as the frontend says.
    let mut literal_secrets: Vec<_> = crate::deploy::image::env_secrets(&c)
        .into_iter()
        .filter(|s| !c.literal_secrets.iter().any(|o| o.span == s.span))
        .collect();
    literal_secrets.extend(c.literal_secrets);
    server.exposures = c.exposures;
    server.deploy = DeployFacts {
        unit: Some(c.unit),
        image: c.image,
        user_setup,
        literal_secrets,
        tls: c.tls,
        unknown_inputs,
        shipped: c.shipped,
    };
    // What the image shipped is merged into this server's trees and used
    // by no other.
    ws.release_embedded(&server.deploy.shipped);
    Some(server)
}

/// Whether mounted files change `users.default` compared with the users
/// file alone (the entrypoint's own test before it touches users).
fn default_changed(ws: &Workspace, c: &Container, users_path: &str) -> bool {
    let Some(TreeInputs::Known(base, inputs, unknown)) = tree_inputs(&c.fs, users_path) else {
        // A users file the repository does not show: assume it is customised.
        return true;
    };
    if !unknown.is_empty() {
        return true;
    }
    let base_only = match ws.load_inputs(base.base(), &[], &c.dir) {
        Ok(l) => l,
        Err(_) => return true,
    };
    let merged = match ws.load_inputs(base.base(), &inputs, &c.dir) {
        Ok(l) => l,
        Err(_) => return true,
    };
    let path = "users/default";
    // The entrypoint compares the text `extract-from-config` prints for
    // `users.default` before and after merging; that text keeps the merged
    // files' own whitespace, so a file that writes `default` at all counts as
    // a change even when its values equal the stock ones (Sentry's
    // `default-password.xml` re-opens `default` that way).
    let mentions = inputs.iter().any(|i| match i {
        Input::File(p) => ws.root_of(p).is_some_and(|r| r.find(path).is_some()),
        Input::Source(s) => ws
            .root_of_source(*s)
            .is_some_and(|r| r.find(path).is_some()),
        Input::Tree(t) => t.find(path).is_some(),
    });
    mentions || shape(base_only.root.find(path)) != shape(merged.root.find(path))
}

/// Is this the root of a ClickHouse configuration tree?
pub fn is_config_root(e: &Element) -> bool {
    is_clickhouse_root(&e.name)
}
