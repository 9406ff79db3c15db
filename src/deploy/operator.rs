//! Operator resources lowered into the configuration the operator
//! generates:
//! - Altinity `ClickHouseInstallation` (CHI) and `ClickHouseKeeperInstallation`
//!   (CHK): `spec.configuration.{users, profiles, quotas, settings, files,
//!   zookeeper, clusters}`, `spec.templates.{podTemplates, serviceTemplates}`,
//!   and what the operator adds by itself (its wildcard listen file; the
//!   `default` user limited to loopback and the installation's own pods; the
//!   password `default` for other users without one; plaintext passwords
//!   stored as SHA-256);
//! - ClickHouse Inc's `ClickHouseCluster` and `KeeperCluster`
//!   (`clickhouse.com/v1alpha1`): `default` gets `no_password` unless
//!   `spec.settings.defaultUserPassword` names a Secret or ConfigMap;
//!   `extraConfig`/`extraUsersConfig`; TLS settings; headless Services only.

use std::collections::BTreeMap;
use std::path::Path;

use super::container::{
    build_server, ensure_path, push, text_element, with_attr, Container, FileSrc, KEEPER_DIR,
    SERVER_DIR,
};
use super::k8s::{self, Object};
use super::value::{Kind, Value};
use super::{embed, image, DeployOutput};
use crate::clickhouse::defaults;
use crate::clickhouse::element::{Attr, Element, Node, Text};
use crate::clickhouse::load::Workspace;
use crate::model::{
    Exposure, ExposureKind, Image, ImageFamily, LiteralSecret, PortSet, Reach, ServerKind,
    TlsSetting, Unit,
};
use crate::source::Span;

pub fn is_operator_kind(kind: &str) -> bool {
    matches!(
        kind,
        "ClickHouseInstallation"
            | "ClickHouseKeeperInstallation"
            | "ClickHouseCluster"
            | "KeeperCluster"
    )
}

/// Lower every operator resource among `objects`.
pub fn lower(ws: &Workspace, objects: &[Object], out: &mut DeployOutput) {
    super::lower_each(objects, out, |obj, out| {
        let api = obj.value.str_at("apiVersion").unwrap_or_default();
        match obj.kind.as_str() {
            "ClickHouseInstallation" if api.starts_with("clickhouse.altinity.com") => {
                altinity(ws, obj, ServerKind::Server, out)
            }
            "ClickHouseKeeperInstallation" if api.starts_with("clickhouse-keeper.altinity.com") => {
                altinity(ws, obj, ServerKind::Keeper, out)
            }
            "ClickHouseCluster" if api.starts_with("clickhouse.com") => {
                clickhouse_inc(ws, obj, ServerKind::Server, out)
            }
            "KeeperCluster" if api.starts_with("clickhouse.com") => {
                clickhouse_inc(ws, obj, ServerKind::Keeper, out)
            }
            _ => {}
        }
    });
}

/// A value as element text, or a `from_env` attribute when it comes from a
/// Secret (`valueFrom`), as the operator renders it.
fn leaf(name: &str, v: &Value, env_name: &str) -> Element {
    match &v.kind {
        // The operator's marker for "remove this element".
        Kind::Str(s) if s == "_removed_" => with_attr(Element::new(name, v.span), "remove", "1"),
        Kind::Map(_) if v.get("valueFrom").is_some() => {
            with_attr(Element::new(name, v.span), "from_env", env_name)
        }
        Kind::External(_) => with_attr(Element::new(name, v.span), "from_env", env_name),
        Kind::Str(s) => text_element(name, s, v.span, v.span),
        _ => Element::new(name, v.span),
    }
}

/// Add `value` at a `/` path below `parent` (a list gives repeated leaves).
fn put_path(parent: &mut Element, path: &str, v: &Value, key_span: Span, env_name: &str) {
    let path = path.trim_matches('/');
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    if name.is_empty() {
        return;
    }
    let parent = ensure_path(parent, dir, key_span);
    match &v.kind {
        Kind::List(items) => {
            for i in items {
                push(parent, leaf(name, i, env_name));
            }
        }
        Kind::Map(_) if v.get("valueFrom").is_none() => {
            // A nested map written in place of a path.
            let mut e = Element::new(name, key_span);
            for entry in v.entries() {
                put_path(&mut e, &entry.key, &entry.value, entry.key_span, env_name);
            }
            push(parent, e);
        }
        _ => push(parent, leaf(name, v, env_name)),
    }
}

/// A YAML subtree of a CR (ClickHouse Inc's `extraConfig`) as configuration:
/// `@attr` keys become attributes, lists repeated elements.
fn value_to_element(name: &str, v: &Value, span: Span) -> Element {
    let mut e = Element::new(name, span);
    match &v.kind {
        Kind::Map(entries) => {
            for entry in entries {
                if let Some(attr) = entry.key.strip_prefix('@') {
                    e.set_attr(Attr {
                        name: attr.to_string(),
                        value: entry.value.as_str().unwrap_or_default().to_string(),
                        span: entry.value.span,
                    });
                    continue;
                }
                match &entry.value.kind {
                    Kind::List(items) => {
                        for i in items {
                            push(&mut e, value_to_element(&entry.key, i, entry.key_span));
                        }
                    }
                    _ => push(
                        &mut e,
                        value_to_element(&entry.key, &entry.value, entry.key_span),
                    ),
                }
            }
        }
        Kind::Str(s) if !s.is_empty() => e.children.push(Node::Text(Text {
            value: s.clone(),
            span: v.span,
        })),
        Kind::External(_) => e.set_attr(Attr {
            name: "from_env".into(),
            value: "CHART_VALUE".into(),
            span: v.span,
        }),
        _ => {}
    }
    e
}

/// The pod template a resource uses.
fn pod_template(spec: &Value) -> Option<&Value> {
    let templates = spec.path("templates.podTemplates")?.items();
    let wanted = spec.str_at("defaults.templates.podTemplate").or_else(|| {
        spec.path("configuration.clusters")?
            .items()
            .iter()
            .find_map(|c| c.str_at("templates.podTemplate"))
    });
    match wanted {
        Some(name) => templates.iter().find(|t| t.str_at("name") == Some(name)),
        None if templates.len() == 1 => templates.first(),
        None => None,
    }
}

/// The ClickHouse container of a pod template.
fn main_container(pod: &Value, names: &[&str]) -> Option<Value> {
    let containers = pod.path("spec.containers")?.items();
    containers
        .iter()
        .find(|c| c.str_at("name").is_some_and(|n| names.contains(&n)))
        .or_else(|| containers.first())
        .cloned()
}

/// Service templates a CHI refers to (by name), with the name's span.
fn service_templates(spec: &Value) -> Vec<(&Value, String)> {
    let Some(templates) = spec.path("templates.serviceTemplates") else {
        return Vec::new();
    };
    let mut names: Vec<String> = Vec::new();
    let mut add = |v: Option<&Value>| {
        for n in v
            .map(|v| match &v.kind {
                Kind::List(l) => l.iter().filter_map(Value::as_str).collect::<Vec<_>>(),
                Kind::Str(s) => vec![s.as_str()],
                _ => Vec::new(),
            })
            .unwrap_or_default()
        {
            if !names.iter().any(|x| x == n) {
                names.push(n.to_string());
            }
        }
    };
    add(spec.path("defaults.templates.serviceTemplate"));
    add(spec.path("defaults.templates.serviceTemplates"));
    for c in spec
        .path("configuration.clusters")
        .map(Value::items)
        .unwrap_or_default()
    {
        for k in [
            "templates.serviceTemplate",
            "templates.clusterServiceTemplate",
            "templates.shardServiceTemplate",
            "templates.replicaServiceTemplate",
        ] {
            add(c.path(k));
        }
    }
    names
        .into_iter()
        .filter_map(|n| {
            let t = templates
                .items()
                .iter()
                .find(|t| t.str_at("name") == Some(n.as_str()))?;
            Some((t, n))
        })
        .collect()
}

fn named_port(name: &str) -> Option<u16> {
    Some(match name {
        "http" => 8123,
        "https" => 8443,
        "tcp" | "native" => 9000,
        "secureclient" | "tcp-secure" | "tcpsecure" => 9440,
        "interserver" => 9009,
        "zk" | "client" => 2181,
        _ => return None,
    })
}

/// Exposures of the Services an operator creates from templates (or its
/// default headless Service).
fn template_exposures(
    spec: &Value,
    what: &str,
    default_ports: &[u16],
    anchor: Span,
) -> Vec<Exposure> {
    let mut out = Vec::new();
    let templates = service_templates(spec);
    for (t, name) in &templates {
        let Some(svc) = t.get("spec") else {
            continue;
        };
        let reaches = k8s::service_reach(svc, t.path("metadata.annotations"), t.span);
        for port in svc.get("ports").map(Value::items).unwrap_or_default() {
            let target = port
                .get("targetPort")
                .or_else(|| port.get("port"))
                .and_then(Value::as_str)
                .and_then(|p| p.parse().ok().or_else(|| named_port(p)));
            let Some(target) = target else {
                continue;
            };
            for (kind, reach, span, why) in &reaches {
                let ty = svc.str_at("type").unwrap_or("ClusterIP");
                out.push(Exposure {
                    ports: PortSet::One(target),
                    reach: *reach,
                    kind: *kind,
                    via: format!("service template `{name}` of {what} ({ty}, {why})"),
                    span: *span,
                    related: vec![(port.span, format!("port {target} of the template"))],
                });
            }
        }
    }
    if templates.is_empty() {
        for p in default_ports {
            out.push(Exposure {
                ports: PortSet::One(*p),
                reach: Reach::Cluster,
                kind: ExposureKind::ClusterService,
                via: format!("the headless Service the operator creates for {what}"),
                span: anchor,
                related: Vec::new(),
            });
        }
    }
    out
}

fn pod_exposures(pod: &Value, container: Option<&Value>, what: &str) -> Vec<Exposure> {
    let mut out = Vec::new();
    if let Some(h) = pod.path_entry("spec.hostNetwork") {
        if h.value.is_true() {
            out.push(Exposure {
                ports: PortSet::All,
                reach: Reach::Internet,
                kind: ExposureKind::PodHostNetwork,
                via: format!("`hostNetwork: true` in the pod template of {what}"),
                span: h.value.span,
                related: Vec::new(),
            });
        }
    }
    for p in container
        .and_then(|c| c.get("ports"))
        .map(Value::items)
        .unwrap_or_default()
    {
        let (Some(host), Some(port)) = (
            p.get("hostPort"),
            p.str_at("containerPort").and_then(|s| s.parse().ok()),
        ) else {
            continue;
        };
        out.push(Exposure {
            ports: PortSet::One(port),
            reach: Reach::Internet,
            kind: ExposureKind::PodHostPort,
            via: format!(
                "`hostPort: {}` in the pod template of {what}",
                host.as_str().unwrap_or_default()
            ),
            span: host.span,
            related: Vec::new(),
        });
    }
    out
}

fn container_env(c: &mut Container, container: Option<&Value>) {
    if let Some(container) = container {
        c.env = k8s::env_of(container);
        c.command = k8s::command_of(container);
    }
}

/// The image a resource runs, or the operator's default (blamed on `anchor`).
fn image_of(container: Option<&Value>, kind: ServerKind, anchor: Span) -> Image {
    container
        .and_then(|c| {
            let v = c.get("image")?;
            image::parse_image(v.as_str()?, v.span)
        })
        .unwrap_or(Image {
            reference: match kind {
                ServerKind::Server => "clickhouse/clickhouse-server".into(),
                ServerKind::Keeper => "clickhouse/clickhouse-keeper".into(),
            },
            family: match kind {
                ServerKind::Server => ImageFamily::Official,
                ServerKind::Keeper => ImageFamily::OfficialKeeper,
            },
            version: None,
            span: anchor,
        })
}

/// Register text the operator ships, blamed on the resource.
fn ship(
    ws: &Workspace,
    c: &mut Container,
    path: &str,
    name: &str,
    text: &'static str,
    anchor: Span,
) {
    let id = ws.add_embedded(name, text, anchor, Vec::new());
    c.shipped.push(id);
    c.fs.put(path, FileSrc::Source(id));
}

/// Operator-generated elements (a user's default networks), as a shipped
/// source so rules know they are the operator's.
fn shipped_elements(ws: &Workspace, c: &mut Container, text: &str, anchor: Span) -> Vec<Element> {
    let id = ws.add_embedded("operator.xml", text.to_string(), anchor, Vec::new());
    c.shipped.push(id);
    ws.root_of_source(id)
        .map(|r| r.elements().cloned().collect())
        .unwrap_or_default()
}

/// The `default` user's networks the Altinity operator always adds: loopback,
/// and the installation's own pods and Services.
fn altinity_default_networks(chi: &str, namespace: &str) -> String {
    let chi = chi.replace('.', "\\.");
    format!(
        "<networks><ip>::1</ip><ip>127.0.0.1</ip><host_regexp>(chi-{chi}-[^.]+\\d+-\\d+|clickhouse\\-{chi})\\.{namespace}\\.svc\\.cluster\\.local$</host_regexp></networks>"
    )
}

/// Keys of a user that authenticate it.
fn is_auth_key(rest: &str) -> bool {
    rest.starts_with("password")
        || rest.starts_with("k8s_secret_")
        || rest.starts_with("ssl_certificates")
        || rest.starts_with("ldap")
        || rest.starts_with("kerberos")
        || rest.starts_with("ssh_keys")
        || rest == "no_password"
}

fn altinity_users(
    ws: &Workspace,
    c: &mut Container,
    users: &Value,
    chi: &str,
    namespace: &str,
    anchor: Span,
) -> Element {
    let mut root = Element::new("clickhouse", users.span);
    let mut by_user: BTreeMap<String, Vec<(String, &super::value::Entry)>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for e in users.entries() {
        let (user, rest) = e.key.split_once('/').unwrap_or((e.key.as_str(), ""));
        if !order.iter().any(|u| u == user) {
            order.push(user.to_string());
        }
        by_user
            .entry(user.to_string())
            .or_default()
            .push((rest.to_string(), e));
    }
    // `default` always exists in the generated file.
    if !order.iter().any(|u| u == "default") {
        order.push("default".into());
    }
    let users_el = ensure_path(&mut root, "users", users.span);
    for name in order {
        let entries = by_user.get(&name).cloned().unwrap_or_default();
        let span = entries.first().map_or(anchor, |(_, e)| e.key_span);
        let mut user = Element::new(&name, span);
        let mut has_auth = false;
        let mut has_networks = false;
        // A hash given beside a plaintext password wins (double SHA-1 over
        // SHA-256 over plaintext).
        let has_hash = entries
            .iter()
            .any(|(r, _)| r == "password_sha256_hex" || r == "password_double_sha1_hex");
        let has_double_sha1 = entries.iter().any(|(r, _)| r == "password_double_sha1_hex");
        for (rest, e) in &entries {
            let env_name = format!("CHOP_{}_{}", name, rest.replace('/', "_")).to_uppercase();
            has_auth |= is_auth_key(rest);
            has_networks |= rest.starts_with("networks");
            if rest == "password_sha256_hex" && has_double_sha1 {
                continue;
            }
            if rest == "password" {
                match e.value.as_str() {
                    // Stored as its SHA-256 in the generated file.
                    Some(plain) => {
                        // Reported once, as the chart whose values hold it says.
                        if !c.literal_secrets.iter().any(|s| s.span == e.value.span) {
                            c.literal_secrets.push(LiteralSecret {
                                span: e.value.span,
                                what: format!(
                                    "the password of user `{name}` in `spec.configuration.users`"
                                ),
                                value: plain.to_string(),
                            });
                        }
                        if has_hash {
                            continue;
                        }
                        push(
                            &mut user,
                            text_element(
                                "password_sha256_hex",
                                &crate::lower::sha256_hex(plain),
                                e.value.span,
                                e.value.span,
                            ),
                        );
                    }
                    None => push(&mut user, leaf("password", &e.value, &env_name)),
                }
                continue;
            }
            if let Some(kind) = rest.strip_prefix("k8s_secret_") {
                let element = kind.strip_prefix("env_").unwrap_or(kind);
                push(
                    &mut user,
                    with_attr(Element::new(element, e.value.span), "from_env", &env_name),
                );
                continue;
            }
            put_path(&mut user, rest, &e.value, e.key_span, &env_name);
        }
        let ssl = entries
            .iter()
            .any(|(r, _)| r.starts_with("ssl_certificates"));
        if name == "default" {
            // A password other than the stock empty `<password>` replaces it.
            if user
                .elements()
                .any(|e| e.name.starts_with("password") || e.name == "no_password")
            {
                user.children.insert(
                    0,
                    Node::Element(with_attr(Element::new("password", span), "remove", "1")),
                );
            }
        } else if !has_auth && !ssl {
            // The operator's default password for users without one.
            push(
                &mut user,
                text_element(
                    "password_sha256_hex",
                    &crate::lower::sha256_hex("default"),
                    span,
                    span,
                ),
            );
        }
        if name == "default" || !has_networks {
            let extra = shipped_elements(ws, c, &altinity_default_networks(chi, namespace), anchor);
            let networks = ensure_path(&mut user, "networks", span);
            // The operator adds its entries to those the resource lists.
            for e in extra {
                push(networks, e);
            }
        }
        users_el.children.push(Node::Element(user));
    }
    root
}

/// `<name>/<setting>: value` maps (profiles, quotas) under a section.
fn section(name: &str, v: &Value) -> Element {
    let mut root = Element::new("clickhouse", v.span);
    let s = ensure_path(&mut root, name, v.span);
    for e in v.entries() {
        put_path(
            s,
            &e.key,
            &e.value,
            e.key_span,
            &format!("CHOP_{}", e.key.replace('/', "_")).to_uppercase(),
        );
    }
    root
}

/// The container an operator runs for a resource, and how messages name
/// the resource (`what`, else its kind and name).
fn resource_container(
    obj: &Object,
    kind: ServerKind,
    what: Option<String>,
    secrets: Vec<LiteralSecret>,
) -> (Container, String) {
    let what = what.unwrap_or_else(|| format!("{} `{}`", obj.kind, obj.name));
    let dir = obj.path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut c = Container::new(
        kind,
        format!("{what} ({})", crate::source::display_path(&obj.path)),
        dir,
        Unit {
            kind: obj.kind.clone(),
            name: obj.name.clone(),
            span: obj.span(),
        },
    );
    c.literal_secrets.extend(secrets);
    (c, what)
}

fn altinity(ws: &Workspace, obj: &Object, kind: ServerKind, out: &mut DeployOutput) {
    altinity_from(ws, obj, kind, None, Vec::new(), out)
}

/// Lower an Altinity resource; `what` names it in messages when it was
/// synthesised from something else (a chart's values), and `secrets` are
/// literal secrets the caller found on the way.
pub(crate) fn altinity_from(
    ws: &Workspace,
    obj: &Object,
    kind: ServerKind,
    what: Option<String>,
    secrets: Vec<LiteralSecret>,
    out: &mut DeployOutput,
) {
    let Some(spec) = obj.value.get("spec") else {
        return;
    };
    let anchor = obj.span();
    let synthesised = what.is_some();
    let (mut c, what) = resource_container(obj, kind, what, secrets);
    let pod = pod_template(spec);
    let names: &[&str] = match kind {
        ServerKind::Server => &["clickhouse", "clickhouse-pod"],
        ServerKind::Keeper => &["clickhouse-keeper"],
    };
    let container = pod.and_then(|p| main_container(p, names));
    c.image = Some(image_of(container.as_ref(), kind, anchor));
    container_env(&mut c, container.as_ref());
    image::install(ws, &mut c);
    let config = spec.get("configuration");
    let (conf_dir, merge_dir) = match kind {
        ServerKind::Server => (SERVER_DIR, "config.d"),
        ServerKind::Keeper => (KEEPER_DIR, "keeper_config.d"),
    };
    // What the operator ships into every installation.
    match kind {
        ServerKind::Server => ship(
            ws,
            &mut c,
            &format!("{SERVER_DIR}/config.d/01-clickhouse-01-listen.xml"),
            "01-clickhouse-01-listen.xml",
            defaults::DOCKER_LISTEN_CONFIG,
            anchor,
        ),
        ServerKind::Keeper => ship(
            ws,
            &mut c,
            &format!("{KEEPER_DIR}/keeper_config.d/01-keeper-01-default-config.xml"),
            "01-keeper-01-default-config.xml",
            ALTINITY_KEEPER_DEFAULTS,
            anchor,
        ),
    }
    if let Some(settings) = config.and_then(|c| c.get("settings")) {
        let mut root = Element::new("clickhouse", settings.span);
        for e in settings.entries() {
            let env_name = format!("CHOP_SETTING_{}", e.key.replace('/', "_")).to_uppercase();
            put_path(&mut root, &e.key, &e.value, e.key_span, &env_name);
        }
        c.fs.put(
            &format!("{conf_dir}/{merge_dir}/chop-generated-settings.xml"),
            FileSrc::Tree(root),
        );
    }
    if let Some(zk) = config.and_then(|c| c.get("zookeeper")) {
        let mut root = Element::new("clickhouse", zk.span);
        let z = ensure_path(&mut root, "zookeeper", zk.span);
        for n in zk.get("nodes").map(Value::items).unwrap_or_default() {
            let mut node = Element::new("node", n.span);
            for k in ["host", "port", "secure"] {
                if let Some(v) = n.get(k) {
                    push(&mut node, leaf(k, v, "CHOP_ZK"));
                }
            }
            push(z, node);
        }
        if let Some(id) = zk.get("identity") {
            push(z, leaf("identity", id, "CHOP_ZK_IDENTITY"));
        }
        c.fs.put(
            &format!("{conf_dir}/{merge_dir}/chop-generated-zookeeper.xml"),
            FileSrc::Tree(root),
        );
    }
    for cluster in config
        .and_then(|c| c.get("clusters"))
        .map(Value::items)
        .unwrap_or_default()
    {
        if let Some(v) = cluster
            .path("secret.value")
            .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
        {
            c.literal_secrets.push(LiteralSecret {
                span: v.span,
                what: format!(
                    "the secret of cluster `{}` (`secret.value`)",
                    cluster.str_at("name").unwrap_or_default()
                ),
                value: v.as_str().unwrap_or_default().to_string(),
            });
        }
    }
    if kind == ServerKind::Server {
        let namespace = obj.namespace.clone().unwrap_or_else(|| "[^.]+".into());
        let users = config
            .and_then(|c| c.get("users"))
            .cloned()
            .unwrap_or(Value::new(Kind::Map(Vec::new()), anchor));
        let tree = altinity_users(ws, &mut c, &users, &obj.name, &namespace, anchor);
        c.fs.put(
            &format!("{SERVER_DIR}/users.d/chop-generated-users.xml"),
            FileSrc::Tree(tree),
        );
        for (key, file) in [
            ("profiles", "chop-generated-profiles.xml"),
            ("quotas", "chop-generated-quotas.xml"),
        ] {
            if let Some(v) = config.and_then(|c| c.get(key)) {
                c.fs.put(
                    &format!("{SERVER_DIR}/users.d/{file}"),
                    FileSrc::Tree(section(key, v)),
                );
            }
        }
    }
    for e in config
        .and_then(|c| c.get("files"))
        .map(Value::entries)
        .unwrap_or_default()
    {
        let Some(text) = e.value.as_str() else {
            continue;
        };
        let name = e.key.trim_start_matches('/');
        let target = if name.contains('/') {
            format!("{conf_dir}/{name}")
        } else {
            format!("{conf_dir}/{merge_dir}/{name}")
        };
        let file_name = name.rsplit('/').next().unwrap_or(name);
        if !crate::clickhouse::load::is_merge_file_name(file_name) {
            continue;
        }
        let id = embed::register(ws, name, text, e.value.span, true);
        c.fs.put(&target, FileSrc::Source(id));
        if let Some(note @ crate::clickhouse::load::ConfigNote::Invalid { .. }) =
            ws.failure_of_source(id)
        {
            out.notes.push(note);
        }
    }
    let default_ports: &[u16] = match kind {
        ServerKind::Server => &[8123, 9000],
        ServerKind::Keeper => &[2181],
    };
    let mut exposures = template_exposures(spec, &what, default_ports, anchor);
    if let Some(pod) = pod {
        exposures.extend(pod_exposures(pod, container.as_ref(), &what));
    }
    c.exposures = exposures;
    // A resource synthesised from chart values has the chart's own TLS keys.
    if kind == ServerKind::Server && !synthesised {
        let clusters = config
            .and_then(|c| c.get("clusters"))
            .map(Value::items)
            .unwrap_or_default();
        let secure = clusters.iter().find_map(|cl| cl.entry("secure"));
        c.tls = Some(TlsSetting {
            enabled: secure.is_some_and(|e| e.value.is_true()),
            span: secure.map(|e| e.value.span),
            anchor: clusters.first().map_or(anchor, |c| c.span),
            key: "spec.configuration.clusters[].secure".into(),
        });
    }
    if let Some(server) = build_server(ws, c, &mut out.notes) {
        out.push_server(server);
    }
}

/// The Keeper configuration the Altinity operator ships into every CHK:
/// every address, client port 2181.
const ALTINITY_KEEPER_DEFAULTS: &str = r#"<clickhouse>
    <listen_host>::</listen_host>
    <listen_host>0.0.0.0</listen_host>
    <listen_try>1</listen_try>
    <keeper_server>
        <tcp_port>2181</tcp_port>
        <hostname_checks_enabled>true</hostname_checks_enabled>
    </keeper_server>
</clickhouse>
"#;

/// The ClickHouse Inc operator listens on `::`.
const CLICKHOUSE_INC_LISTEN: &str = r#"<clickhouse>
    <listen_host>::</listen_host>
</clickhouse>
"#;

fn clickhouse_inc(ws: &Workspace, obj: &Object, kind: ServerKind, out: &mut DeployOutput) {
    clickhouse_inc_from(ws, obj, kind, None, Vec::new(), out)
}

/// See [`altinity_from`].
pub(crate) fn clickhouse_inc_from(
    ws: &Workspace,
    obj: &Object,
    kind: ServerKind,
    what: Option<String>,
    secrets: Vec<LiteralSecret>,
    out: &mut DeployOutput,
) {
    let Some(spec) = obj.value.get("spec") else {
        return;
    };
    let anchor = obj.span();
    let (mut c, what) = resource_container(obj, kind, what, secrets);
    let image = spec.path("containerTemplate.image").and_then(|i| {
        let repo = i.str_at("repository")?;
        let reference = match i.str_at("tag") {
            Some(t) => format!("{repo}:{t}"),
            None => repo.to_string(),
        };
        image::parse_image(&reference, i.span)
    });
    c.image = Some(image.unwrap_or_else(|| image_of(None, kind, anchor)));
    // The operator writes the users itself.
    c.managed_users = true;
    image::install(ws, &mut c);
    let (conf_dir, merge_dir) = match kind {
        ServerKind::Server => (SERVER_DIR, "config.d"),
        ServerKind::Keeper => (KEEPER_DIR, "keeper_config.d"),
    };
    ship(
        ws,
        &mut c,
        &format!("{conf_dir}/{merge_dir}/00-network.xml"),
        "00-network.xml",
        CLICKHOUSE_INC_LISTEN,
        anchor,
    );
    let settings = spec.get("settings");
    if kind == ServerKind::Server {
        let mut root = Element::new("clickhouse", anchor);
        let users = ensure_path(&mut root, "users", anchor);
        let mut default = Element::new("default", anchor);
        push(
            &mut default,
            with_attr(Element::new("password", anchor), "remove", "1"),
        );
        match settings.and_then(|s| s.entry("defaultUserPassword")) {
            Some(e) => push(
                &mut default,
                with_attr(
                    Element::new("password", e.key_span),
                    "from_env",
                    "CLICKHOUSE_DEFAULT_USER_PASSWORD",
                ),
            ),
            None => {
                // No password configured: the operator renders `no_password`.
                let at = spec.entry("settings").map_or(anchor, |e| e.key_span);
                push(&mut default, Element::new("no_password", at));
            }
        }
        users.children.push(Node::Element(default));
        c.fs.put(
            &format!("{SERVER_DIR}/users.d/00-default.xml"),
            FileSrc::Tree(root),
        );
        if let Some(extra) = settings.and_then(|s| s.get("extraUsersConfig")) {
            c.fs.put(
                &format!("{SERVER_DIR}/users.d/99-extra.xml"),
                FileSrc::Tree(value_to_element("clickhouse", extra, extra.span)),
            );
        }
    }
    if let Some(extra) = settings.and_then(|s| s.get("extraConfig")) {
        c.fs.put(
            &format!("{conf_dir}/{merge_dir}/99-extra.xml"),
            FileSrc::Tree(value_to_element("clickhouse", extra, extra.span)),
        );
    }
    let tls = settings.and_then(|s| s.path_entry("tls.enabled"));
    c.tls = Some(TlsSetting {
        enabled: tls.is_some_and(|e| e.value.is_true()),
        span: tls.map(|e| e.value.span),
        anchor,
        key: "spec.settings.tls.enabled".into(),
    });
    let ports: &[u16] = match kind {
        ServerKind::Server => &[8123, 9000],
        ServerKind::Keeper => &[9181],
    };
    // Only headless Services.
    c.exposures = ports
        .iter()
        .map(|p| Exposure {
            ports: PortSet::One(*p),
            reach: Reach::Cluster,
            kind: ExposureKind::ClusterService,
            via: format!("the headless Service the operator creates for {what}"),
            span: anchor,
            related: Vec::new(),
        })
        .collect();
    if let Some(server) = build_server(ws, c, &mut out.notes) {
        out.push_server(server);
    }
}
