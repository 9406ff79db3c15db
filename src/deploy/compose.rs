//! docker-compose files: services that run ClickHouse or Keeper, their
//! published ports, environment and the configuration they mount.
//!
//! A folder's `compose.yaml`/`docker-compose.yml` is merged with its
//! `*.override.yml` as `docker compose` does (environment by name, ports
//! appended, volumes by target); other compose files stand alone.
//! Interpolation: `${VAR:-default}` and `${VAR-default}` take the default
//! (it is what the file says when nothing else is set); `${VAR}` without a
//! default, `${VAR:?…}`, `env_file` and a bare `- NAME` are set from
//! outside and never guessed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::container::{build_server, Container, Env, EnvVar, FileSrc};
use super::value::{Kind, Value};
use super::DeployOutput;
use crate::clickhouse::load::{ConfigNote, Workspace};
use crate::deploy::image;
use crate::model::{Exposure, ExposureKind, Given, PortSet, Reach, Unit};
use crate::source::{SourceId, Span};

/// File names `docker compose` reads by default, in its order of preference.
const BASE_NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];
const OVERRIDE_NAMES: [&str; 4] = [
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yaml",
    "docker-compose.override.yml",
];

/// Named like a compose file.
pub fn is_compose_name(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    (name.ends_with(".yml") || name.ends_with(".yaml"))
        && (name.starts_with("docker-compose") || name.starts_with("compose"))
}

/// Keys a compose file may have at the top level.
const TOP_KEYS: [&str; 8] = [
    "version", "services", "networks", "volumes", "configs", "secrets", "name", "include",
];

/// A document that is a compose file: a `services` map whose entries look
/// like services, and nothing but compose keys beside it.
pub fn looks_like_compose(doc: &Value) -> bool {
    let Some(services) = doc.get("services") else {
        return false;
    };
    let top_ok = doc
        .entries()
        .iter()
        .all(|e| TOP_KEYS.contains(&e.key.as_str()) || e.key.starts_with("x-"));
    top_ok
        && services.is_map()
        && services
            .entries()
            .iter()
            .any(|s| s.value.get("image").is_some() || s.value.get("build").is_some())
}

/// One parsed compose file.
pub struct ComposeFile {
    pub path: PathBuf,
    pub source: SourceId,
    pub doc: Value,
}

/// The result of interpolating a compose string.
#[derive(Clone, Debug, PartialEq)]
pub enum Interp {
    /// Fully known (defaults of `${VAR:-x}` applied).
    Text(String),
    /// Depends on a variable from outside.
    External,
}

/// Interpolate `${VAR}`, `${VAR:-x}`, `${VAR-x}`, `$VAR` and `$$`. `pwd`
/// stands for `${PWD}` (the project folder) where paths are resolved.
pub fn interpolate(s: &str, pwd: Option<&str>) -> Interp {
    let mut out = String::new();
    let mut rest = s;
    let mut external = false;
    let mut used_empty_default = false;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('$') {
            out.push('$');
            rest = r;
            continue;
        }
        let (name, default, after) = if let Some(r) = rest.strip_prefix('{') {
            let Some(end) = r.find('}') else {
                return Interp::External;
            };
            let inner = &r[..end];
            let after = &r[end + 1..];
            if let Some((n, d)) = inner.split_once(":-") {
                (n, Some(d), after)
            } else if let Some((n, _)) = inner.split_once(":?") {
                (n, None, after)
            } else if let Some((n, _)) = inner.split_once(":+") {
                (n, None, after)
            } else if let Some((n, d)) = inner.split_once('-') {
                (n, Some(d), after)
            } else {
                (inner, None, after)
            }
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if end == 0 {
                out.push('$');
                continue;
            }
            (&rest[..end], None, &rest[end..])
        };
        rest = after;
        match (name, default, pwd) {
            ("PWD", _, Some(p)) => out.push_str(p),
            (_, Some(d), _) => {
                // A default may itself hold a variable.
                match interpolate(d, pwd) {
                    Interp::Text(t) => {
                        used_empty_default |= t.is_empty();
                        out.push_str(&t)
                    }
                    Interp::External => external = true,
                }
            }
            _ => external = true,
        }
    }
    out.push_str(rest);
    if external || (used_empty_default && out.is_empty()) {
        Interp::External
    } else {
        Interp::Text(out)
    }
}

/// The span of the part of a scalar after its first `=` (a `NAME=value`
/// list entry), inside its quotes.
fn after_equals(text: &str, span: Span) -> Span {
    let raw = text
        .get(span.start as usize..span.end as usize)
        .unwrap_or("");
    let Some(eq) = raw.find('=') else {
        return span;
    };
    let mut end = span.end as usize;
    if raw.ends_with(['"', '\'']) && raw.starts_with(['"', '\'']) {
        end -= 1;
    }
    let start = span.start as usize + eq + 1;
    Span::new(span.source, start, end.max(start))
}

/// Given from a compose scalar (already a value, not a `NAME=value`).
fn given(v: &Value) -> Given {
    match &v.kind {
        Kind::Str(s) => match interpolate(s, None) {
            Interp::Text(t) => Given::Literal(t),
            Interp::External => Given::External,
        },
        Kind::Null | Kind::External(_) => Given::External,
        _ => Given::External,
    }
}

fn env_of(layers: &[(&Value, &ComposeFile)], ws: &Workspace) -> Env {
    let mut env = Env::default();
    for (svc, file) in layers {
        let text = &ws.sources.get(file.source).text;
        if let Some(f) = svc.entry("env_file") {
            env.more_from = Some(f.key_span);
        }
        let Some(e) = svc.get("environment") else {
            continue;
        };
        match &e.kind {
            Kind::Map(entries) => {
                for entry in entries {
                    let span = if entry.value.is_null() {
                        entry.key_span
                    } else {
                        entry.value.span
                    };
                    env.vars.push(EnvVar {
                        name: entry.key.clone(),
                        value: given(&entry.value),
                        span,
                    });
                }
            }
            Kind::List(items) => {
                for item in items {
                    let Some(s) = item.as_str() else {
                        continue;
                    };
                    let (name, value, span) = match s.split_once('=') {
                        Some((n, v)) => (
                            n.trim().to_string(),
                            match interpolate(v, None) {
                                Interp::Text(t) => Given::Literal(t),
                                Interp::External => Given::External,
                            },
                            after_equals(text, item.span),
                        ),
                        // `- NAME`: taken from the shell running compose.
                        None => (s.trim().to_string(), Given::External, item.span),
                    };
                    env.vars.push(EnvVar { name, value, span });
                }
            }
            _ => {}
        }
    }
    env
}

/// Split a `ports:` short form: `[ip:][host:]container[/proto]`.
fn split_port(spec: &str) -> (Option<String>, Option<String>, String) {
    let spec = spec.split('/').next().unwrap_or(spec);
    // A bracketed IPv6 host address.
    if let Some(rest) = spec.strip_prefix('[') {
        if let Some((ip, after)) = rest.split_once(']') {
            let after = after.trim_start_matches(':');
            let (host, container) = match after.rsplit_once(':') {
                Some((h, c)) => (Some(h.to_string()), c.to_string()),
                None => (None, after.to_string()),
            };
            return (Some(ip.to_string()), host, container);
        }
    }
    let parts: Vec<&str> = spec.split(':').collect();
    match parts.as_slice() {
        [c] => (None, None, c.to_string()),
        [h, c] => (None, Some(h.to_string()), c.to_string()),
        [ip, h, c] => (Some(ip.to_string()), Some(h.to_string()), c.to_string()),
        // An unbracketed IPv6 address: the last two parts are host and container.
        [.., h, c] => {
            let ip = parts[..parts.len() - 2].join(":");
            (Some(ip), Some(h.to_string()), c.to_string())
        }
        [] => (None, None, String::new()),
    }
}

pub fn port_set(s: &str) -> Option<PortSet> {
    let s = s.trim();
    match s.split_once('-') {
        Some((lo, hi)) => Some(PortSet::Range(
            lo.trim().parse().ok()?,
            hi.trim().parse().ok()?,
        )),
        None => Some(PortSet::One(s.parse().ok()?)),
    }
}

/// How far a port published on `host_ip` reaches.
pub fn reach_of_host_ip(ip: Option<&str>) -> Reach {
    match ip.map(|i| i.trim().trim_matches(['[', ']'])) {
        Some(ip) if !ip.is_empty() && crate::model::is_loopback(ip) => Reach::Host,
        _ => Reach::Internet,
    }
}

fn exposures(layers: &[(&Value, &ComposeFile)], service: &str) -> Vec<Exposure> {
    let mut out = Vec::new();
    let mut network_mode = None;
    for (svc, _) in layers {
        if let Some(m) = svc.get("network_mode") {
            network_mode = Some(m.clone());
        }
        for port in svc.get("ports").map(Value::items).unwrap_or_default() {
            let (ip, published, target) = match &port.kind {
                Kind::Str(s) => match interpolate(s, None) {
                    Interp::Text(t) => split_port(&t),
                    Interp::External => continue,
                },
                Kind::Map(_) => {
                    let text = |k: &str| match port.get(k).map(given) {
                        Some(Given::Literal(v)) => Some(v),
                        _ => None,
                    };
                    let Some(target) = text("target") else {
                        continue;
                    };
                    (text("host_ip"), text("published"), target)
                }
                _ => continue,
            };
            let Some(ports) = port_set(&target) else {
                continue;
            };
            let reach = reach_of_host_ip(ip.as_deref());
            let written = match &port.kind {
                Kind::Str(s) => s.clone(),
                _ => format!(
                    "{}{}",
                    published.map(|p| format!("{p}:")).unwrap_or_default(),
                    target
                ),
            };
            out.push(Exposure {
                ports,
                reach,
                kind: crate::model::ExposureKind::PublishedPort,
                via: format!("port `{written}` of compose service `{service}`"),
                span: port.span,
                related: Vec::new(),
            });
        }
    }
    if let Some(m) = network_mode {
        if m.as_str() == Some("host") {
            out.push(Exposure {
                ports: PortSet::All,
                reach: Reach::Internet,
                kind: ExposureKind::HostNetwork,
                via: format!("`network_mode: host` of compose service `{service}`"),
                span: m.span,
                related: Vec::new(),
            });
        }
    }
    out
}

/// Folders a ClickHouse container reads its configuration from.
fn is_config_target(path: &str) -> bool {
    [
        "/etc/clickhouse-server",
        "/etc/clickhouse-keeper",
        "/bitnami/clickhouse/etc",
        "/opt/bitnami/clickhouse/etc",
    ]
    .iter()
    .any(|d| path == *d || path.starts_with(&format!("{d}/")))
}

/// A mount: where from (`None` = a named volume or unknown) and where to.
struct Mount {
    source: Option<String>,
    target: String,
    span: Span,
}

fn mounts(layers: &[(&Value, &ComposeFile)], dir: &Path) -> Vec<Mount> {
    // `${PWD}` as docker compose sets it run in the project folder: absolute.
    let pwd = crate::config_file::absolute(dir)
        .to_string_lossy()
        .into_owned();
    let mut out: Vec<Mount> = Vec::new();
    for (svc, _) in layers {
        for v in svc.get("volumes").map(Value::items).unwrap_or_default() {
            let (source, target) = match &v.kind {
                Kind::Str(s) => {
                    let Interp::Text(t) = interpolate(s, Some(&pwd)) else {
                        // The target may still be readable: `${X}:/etc/…`.
                        let target = s.rsplit(':').find(|p| p.starts_with('/'));
                        if let Some(t) = target {
                            out.retain(|m| m.target != t);
                            out.push(Mount {
                                source: None,
                                target: t.to_string(),
                                span: v.span,
                            });
                        }
                        continue;
                    };
                    let parts: Vec<&str> = t.split(':').collect();
                    match parts.as_slice() {
                        [target] => (None, target.to_string()),
                        [source, target, ..] => (Some(source.to_string()), target.to_string()),
                        [] => continue,
                    }
                }
                Kind::Map(_) => {
                    let text = |k: &str| match v.get(k).and_then(Value::as_str) {
                        Some(s) => match interpolate(s, Some(&pwd)) {
                            Interp::Text(t) => Some(t),
                            Interp::External => None,
                        },
                        None => None,
                    };
                    let Some(target) = text("target") else {
                        continue;
                    };
                    let bind = v.str_at("type") == Some("bind");
                    (if bind { text("source") } else { None }, target)
                }
                _ => continue,
            };
            let source = source.filter(|s| {
                s.starts_with('.') || s.starts_with('/') || s.starts_with('~') || s.contains('/')
            });
            out.retain(|m| m.target != target);
            out.push(Mount {
                source,
                target,
                span: v.span,
            });
        }
    }
    out
}

/// Lower compose files into servers.
pub fn lower(ws: &Workspace, files: Vec<ComposeFile>, out: &mut DeployOutput) {
    let name = |f: &ComposeFile| {
        f.path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default()
    };
    let names: Vec<String> = files.iter().map(name).collect();
    let dir_of = |f: &ComposeFile| f.path.parent().map(Path::to_path_buf);
    // Override files by folder, in order: the folder's first default file
    // takes them all.
    let mut overrides: HashMap<Option<PathBuf>, Vec<usize>> = HashMap::new();
    for (i, f) in files.iter().enumerate() {
        if OVERRIDE_NAMES.contains(&names[i].as_str()) {
            overrides.entry(dir_of(f)).or_default().push(i);
        }
    }
    let mut slots: Vec<Option<ComposeFile>> = files.into_iter().map(Some).collect();
    let mut projects: Vec<Vec<ComposeFile>> = Vec::new();
    // A folder's default file with its overrides.
    for i in 0..slots.len() {
        if !BASE_NAMES.contains(&names[i].as_str()) {
            continue;
        }
        let base = slots[i].take().expect("a default file is taken once");
        let taken = overrides.remove(&dir_of(&base)).unwrap_or_default();
        let mut group = vec![base];
        group.extend(taken.into_iter().filter_map(|o| slots[o].take()));
        projects.push(group);
    }
    projects.extend(slots.into_iter().flatten().map(|f| vec![f]));
    super::lower_each(&projects, out, |project, out| {
        lower_project(ws, project, out)
    });
}

fn lower_project(ws: &Workspace, files: &[ComposeFile], out: &mut DeployOutput) {
    let Some(first) = files.first() else {
        return;
    };
    let dir = first
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    // Service names in order of first appearance, each with its layers (the
    // last entry of a name in each file, as `get` finds it) and where it is
    // first written: one pass, however many services.
    let mut names: Vec<String> = Vec::new();
    type Layers<'a> = Vec<(&'a Value, &'a ComposeFile)>;
    let mut by_name: HashMap<String, (Layers, Span)> = HashMap::new();
    for f in files {
        let entries = f
            .doc
            .get("services")
            .map(Value::entries)
            .unwrap_or_default();
        let mut last: HashMap<&str, (&Value, Span)> = HashMap::new();
        for e in entries {
            last.insert(e.key.as_str(), (&e.value, e.key_span));
        }
        let mut layered: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for e in entries {
            let (value, key_span) = last[e.key.as_str()];
            let slot = by_name.entry(e.key.clone()).or_insert_with(|| {
                names.push(e.key.clone());
                (Vec::new(), key_span)
            });
            if layered.insert(e.key.as_str()) {
                slot.0.push((value, f));
            }
        }
    }
    for name in names {
        let Some((layers, key_span)) = by_name.remove(&name) else {
            continue;
        };
        if ws.deploy_servers_exhausted() {
            // Reported once by build_server; the rest is not looked at.
            let c = Container::new(
                crate::model::ServerKind::Server,
                String::new(),
                dir.clone(),
                Unit {
                    kind: "compose service".into(),
                    name: name.clone(),
                    span: key_span,
                },
            );
            let _ = build_server(ws, c, &mut out.notes);
            break;
        }
        let Some(image_value) = layers.iter().rev().find_map(|(s, _)| s.get("image")) else {
            continue;
        };
        let Some(reference) = image_value.as_str() else {
            continue;
        };
        let reference = match interpolate(reference, None) {
            Interp::Text(t) => t,
            Interp::External => reference.to_string(),
        };
        let Some(img) = image::parse_image(&reference, image_value.span) else {
            continue;
        };
        let file_label = crate::source::display_path(&files.last().expect("non-empty").path);
        let unit = Unit {
            kind: "compose service".into(),
            name: name.clone(),
            span: key_span,
        };
        let mut c = Container::new(
            image::kind_of(&img),
            format!("compose service `{name}` ({file_label})"),
            dir.clone(),
            unit,
        );
        c.image = Some(img);
        c.env = env_of(&layers, ws);
        c.command = command_of(&layers);
        image::install(ws, &mut c);
        apply_mounts(ws, &mut c, &layers, &dir, out);
        c.exposures = exposures(&layers, &name);
        if let Some(server) = build_server(ws, c, &mut out.notes) {
            out.push_server(server);
        }
    }
}

/// `command:` (the arguments passed to the entrypoint) and `entrypoint:`
/// (which replaces the image's entrypoint and its user set-up).
fn command_of(layers: &[(&Value, &ComposeFile)]) -> Option<Vec<(String, Span)>> {
    let entrypoint = layers.iter().rev().find_map(|(s, _)| s.get("entrypoint"));
    if let Some(e) = entrypoint {
        let tokens = tokens(e);
        let own = tokens
            .first()
            .is_some_and(|(t, _)| t.ends_with("entrypoint.sh"));
        if !own && !tokens.is_empty() {
            return Some(tokens);
        }
    }
    let command = layers.iter().rev().find_map(|(s, _)| s.get("command"))?;
    Some(tokens(command))
}

fn tokens(v: &Value) -> Vec<(String, Span)> {
    match &v.kind {
        Kind::Str(s) => s
            .split_whitespace()
            .map(|t| (t.trim_matches(['"', '\'']).to_string(), v.span))
            .collect(),
        Kind::List(items) => items
            .iter()
            .filter_map(|i| Some((i.as_str()?.to_string(), i.span)))
            .collect(),
        _ => Vec::new(),
    }
}

fn apply_mounts(
    ws: &Workspace,
    c: &mut Container,
    layers: &[(&Value, &ComposeFile)],
    dir: &Path,
    out: &mut DeployOutput,
) {
    let mut ms = mounts(layers, dir);
    // Docker mounts parents before children.
    ms.sort_by_key(|m| m.target.matches('/').count());
    for m in ms {
        let target = image::container_path(c, &m.target);
        if !is_config_target(&target) {
            continue;
        }
        match &m.source {
            Some(src) => {
                let path = resolve(dir, src);
                // Never listed nor read: the machine's `/etc`, a home
                // folder, `../../..`.
                let outside = path
                    .as_ref()
                    .is_none_or(|p| (p.is_file() || p.is_dir()) && !ws.inside_roots(p));
                if outside {
                    out.notes.push(outside_mount(ws, src, m.span));
                    let what = format!("`{src}`, which is outside the checked folders");
                    mount_unknown(c, &target, m.span, what);
                    continue;
                }
                match path {
                    Some(p) if p.is_file() => {
                        out.consumed.insert(p.clone());
                        if ws.source_of(&p).is_some() {
                            c.fs.mount_file(&target, FileSrc::Repo(p));
                        }
                    }
                    Some(p) if p.is_dir() => {
                        c.fs.mount_repo_dir(&target, &p);
                        for f in c.fs.files.values() {
                            if let FileSrc::Repo(f) = f {
                                out.consumed.insert(f.clone());
                            }
                        }
                    }
                    _ => {
                        let what = format!("`{src}`, which is not in the repository");
                        mount_unknown(c, &target, m.span, what);
                    }
                }
            }
            None => {
                let what = "a volume whose content is not in the repository".to_string();
                mount_unknown(c, &target, m.span, what);
            }
        }
    }
}

/// Mount something whose content the repository does not show.
fn mount_unknown(c: &mut Container, target: &str, span: Span, what: String) {
    if looks_like_file(target) {
        c.fs.mount_file(target, FileSrc::Opaque { span, what });
    } else {
        c.fs.mount_opaque_dir(target, span, what);
    }
}

/// The warning for a bind mount whose source is outside the checked
/// folders (one per mount, where it is written).
fn outside_mount(ws: &Workspace, src: &str, span: Span) -> ConfigNote {
    super::outside_note(
        ws,
        span,
        &format!("bind mount source `{src}`"),
        "its files are unknown",
    )
}

fn looks_like_file(target: &str) -> bool {
    let last = target.rsplit('/').next().unwrap_or_default();
    last.contains('.') && !last.ends_with(".d")
}

/// A bind-mount source as a path (`None` for a home folder, `~`).
fn resolve(dir: &Path, src: &str) -> Option<PathBuf> {
    if src.starts_with('~') {
        return None;
    }
    let p = Path::new(src);
    Some(if p.is_absolute() {
        p.to_path_buf()
    } else {
        dir.join(p)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation() {
        assert_eq!(interpolate("a${X:-b}c", None), Interp::Text("abc".into()));
        assert_eq!(interpolate("${X-25.1}", None), Interp::Text("25.1".into()));
        assert_eq!(interpolate("${X}", None), Interp::External);
        assert_eq!(interpolate("${X:?need it}", None), Interp::External);
        assert_eq!(interpolate("$$X", None), Interp::Text("$X".into()));
        assert_eq!(interpolate("${X:-}", None), Interp::External);
        assert_eq!(
            interpolate("${PWD}/a", Some("/p")),
            Interp::Text("/p/a".into())
        );
        assert_eq!(interpolate("$HOME/x", None), Interp::External);
    }

    #[test]
    fn port_forms() {
        assert_eq!(split_port("8123"), (None, None, "8123".into()));
        assert_eq!(
            split_port("8124:8123"),
            (None, Some("8124".into()), "8123".into())
        );
        assert_eq!(
            split_port("127.0.0.1:8123:8123/tcp"),
            (Some("127.0.0.1".into()), Some("8123".into()), "8123".into())
        );
        assert_eq!(
            split_port("[::1]:9000:9000"),
            (Some("::1".into()), Some("9000".into()), "9000".into())
        );
        assert_eq!(port_set("9000-9010"), Some(PortSet::Range(9000, 9010)));
        assert_eq!(reach_of_host_ip(Some("127.0.0.1")), Reach::Host);
        assert_eq!(reach_of_host_ip(Some("0.0.0.0")), Reach::Internet);
        assert_eq!(reach_of_host_ip(None), Reach::Internet);
    }
}
