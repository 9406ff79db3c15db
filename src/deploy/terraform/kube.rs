//! Terraform resources that carry Kubernetes objects and Helm releases,
//! lowered through the same code as YAML manifests and values files
//! (`k8s.rs`, `operator.rs`, `helm.rs`), so every ClickHouse rule applies
//! to them and findings point at the Terraform attribute that decides:
//!
//! - `kubernetes_service`, `kubernetes_deployment`, `kubernetes_stateful_set`,
//!   `kubernetes_daemon_set`, `kubernetes_pod`, `kubernetes_job`,
//!   `kubernetes_cron_job`, `kubernetes_replication_controller`,
//!   `kubernetes_config_map`, `kubernetes_secret`, `kubernetes_ingress`
//!   (with or without `_v1`): the provider's snake_case blocks become the
//!   Kubernetes fields (`spec { port { target_port } }` → `spec.ports[].targetPort`);
//!   a Secret's `data` is plain text (the provider encodes it);
//! - `kubernetes_manifest`: its `manifest` is the object itself;
//! - `helm_release`: `values` (inline, heredoc, `yamlencode`, `file`,
//!   `templatefile`) merged in order, then `set`, `set_list` and
//!   `set_sensitive`; the chart from `chart` and `repository`.
//!
//! A reference to another resource's attribute that the repository writes
//! (`kubernetes_config_map.ch.metadata[0].name`) takes that value; anything
//! else unknown stays a value from outside, and no finding rests on it.

use std::path::PathBuf;

use super::eval::{Mode, ResourceInstance};
use super::origin::{self, Doc, Origin};
use super::value::{fmt_number, Kind, Unknown, Value as TfValue};
use crate::clickhouse::load::Workspace;
use crate::deploy::value::{Entry, Kind as VKind, Value};
use crate::deploy::{helm, k8s, operator, DeployOutput};
use crate::source::Span;

/// Deepest chain of references followed, and deepest value converted.
const MAX_REFS: usize = 8;
const MAX_DEPTH: usize = 128;

struct Ctx<'a> {
    /// The resources of one deployment (a root module with its local
    /// modules, or one plan file).
    all: &'a [ResourceInstance],
    origins: &'a [Origin],
}

/// The Kubernetes kind a resource type carries.
fn kind_of(rtype: &str) -> Option<&'static str> {
    let base = rtype
        .strip_suffix("_v1")
        .or_else(|| rtype.strip_suffix("_v2"))
        .unwrap_or(rtype);
    Some(match base {
        "kubernetes_service" => "Service",
        "kubernetes_deployment" => "Deployment",
        "kubernetes_stateful_set" => "StatefulSet",
        "kubernetes_daemonset" | "kubernetes_daemon_set" => "DaemonSet",
        "kubernetes_pod" => "Pod",
        "kubernetes_job" => "Job",
        "kubernetes_cron_job" => "CronJob",
        "kubernetes_replication_controller" => "ReplicationController",
        "kubernetes_config_map" => "ConfigMap",
        "kubernetes_secret" => "Secret",
        "kubernetes_ingress" => "Ingress",
        _ => return None,
    })
}

/// Secrets the releases hold: where each `set_sensitive` value or values
/// password is written (masked in printed lines), the texts `set_sensitive`
/// gives (never in a message), the passwords written in values.
#[derive(Debug, Default)]
pub struct Sensitive {
    pub spans: Vec<Span>,
    pub texts: Vec<String>,
    /// Passwords written in a ClickHouse chart's values.
    pub secrets: Vec<crate::repo::DeploymentSecret>,
}

/// Lower the Kubernetes and Helm resources of one deployment.
pub fn lower(
    ws: &Workspace,
    resources: &[ResourceInstance],
    origins: &[Origin],
    out: &mut DeployOutput,
    sensitive: &mut Sensitive,
) {
    let ctx = Ctx {
        all: resources,
        origins,
    };
    let mut objects: Vec<k8s::Object> = Vec::new();
    for r in resources {
        // A resource whose count is unknown may not exist: nothing rests on it.
        if r.mode != Mode::Managed || r.maybe {
            continue;
        }
        if r.rtype == "helm_release" {
            helm_release(ws, &ctx, r, out, sensitive);
            continue;
        }
        if r.rtype == "kubernetes_manifest" {
            if let Some(m) = r.value.get("manifest") {
                let v = attr(ws, &ctx, r, m, 0, 0);
                objects.extend(k8s::objects(v, &path_of(ws, r)));
            }
            continue;
        }
        if let Some(kind) = kind_of(&r.rtype) {
            objects.push(object(ws, &ctx, r, kind));
        }
    }
    if objects.is_empty() {
        return;
    }
    k8s::lower(ws, &objects, out);
    operator::lower(ws, &objects, out);
}

fn path_of(ws: &Workspace, r: &ResourceInstance) -> PathBuf {
    ws.sources
        .get(ws.sources.to_host(r.span).source)
        .path
        .clone()
}

/// A typed resource as the Kubernetes object it creates.
fn object(ws: &Workspace, ctx: &Ctx, r: &ResourceInstance, kind: &str) -> k8s::Object {
    let mut value = block(ws, ctx, r, &r.value, 0);
    if let VKind::Map(entries) = &mut value.kind {
        match kind {
            // The provider base64-encodes `data` itself; `binary_data` is
            // base64 already.
            "Secret" => {
                for e in entries.iter_mut() {
                    match e.key.as_str() {
                        "data" => e.key = "stringData".into(),
                        "binaryData" => e.key = "data".into(),
                        _ => {}
                    }
                }
            }
            "ConfigMap" => entries.retain(|e| e.key != "binaryData"),
            _ => {}
        }
        entries.insert(
            0,
            Entry {
                key: "kind".into(),
                key_span: r.span,
                value: Value::new(VKind::Str(kind.into()), r.span),
            },
        );
    }
    let name = value
        .str_at("metadata.name")
        .map(str::to_string)
        .unwrap_or_else(|| r.address.clone());
    let namespace = value.str_at("metadata.namespace").map(str::to_string);
    k8s::Object {
        kind: kind.into(),
        name,
        namespace,
        value,
        path: path_of(ws, r),
    }
}

/// Blocks a Kubernetes object repeats (`container` → `containers`), when
/// their items look like the field: `port` is a list of ports in a Service
/// or a container, but one port of an Ingress backend.
fn plural(key: &str, items: &[TfValue]) -> Option<&'static str> {
    let has = |k: &str| items.iter().any(|i| i.get(k).is_some());
    Some(match key {
        "container" => "containers",
        "init_container" => "initContainers",
        "env" => "env",
        "env_from" => "envFrom",
        "volume" => "volumes",
        "volume_mount" => "volumeMounts",
        "items" => "items",
        "sources" => "sources",
        "rule" => "rules",
        "tls" => "tls",
        "toleration" => "tolerations",
        "host_aliases" => "hostAliases",
        "image_pull_secrets" => "imagePullSecrets",
        "volume_claim_template" => "volumeClaimTemplates",
        "match_expressions" => "matchExpressions",
        "port" if has("port") || has("container_port") || items.is_empty() => "ports",
        "path" if has("backend") || items.is_empty() => "paths",
        _ => return None,
    })
}

/// `load_balancer_source_ranges` → `loadBalancerSourceRanges`,
/// `external_ips` → `externalIPs`, `host_ip` → `hostIP`.
fn camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for (i, part) in key.split('_').enumerate() {
        if i == 0 {
            out.push_str(part);
            continue;
        }
        match part {
            "ip" => out.push_str("IP"),
            "ips" => out.push_str("IPs"),
            _ => {
                let mut c = part.chars();
                if let Some(f) = c.next() {
                    out.extend(f.to_uppercase());
                    out.push_str(c.as_str());
                }
            }
        }
    }
    out
}

fn is_block_list(v: &TfValue) -> Option<&[TfValue]> {
    match &v.kind {
        Kind::List(items) if items.iter().all(|i| matches!(i.kind, Kind::Object(_))) => Some(items),
        _ => None,
    }
}

/// A block body: nested blocks renamed and shaped as Kubernetes fields,
/// attributes converted as data.
fn block(ws: &Workspace, ctx: &Ctx, r: &ResourceInstance, v: &TfValue, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::new(VKind::External("a value nested too deep".into()), v.span);
    }
    let mut entries = Vec::new();
    for e in v.entries() {
        if e.value.is_null() {
            continue;
        }
        // Zero is how a plan writes a port that is not set.
        if matches!(e.key.as_str(), "host_port" | "node_port") && e.value.as_number() == Some(0.0) {
            continue;
        }
        let value = match is_block_list(&e.value) {
            Some(items) => match plural(&e.key, items) {
                Some(name) => {
                    let list: Vec<Value> = items
                        .iter()
                        .map(|i| block(ws, ctx, r, i, depth + 1))
                        .collect();
                    entries.push(Entry {
                        key: name.into(),
                        key_span: e.key_span,
                        value: Value::new(VKind::List(list), e.value.span),
                    });
                    continue;
                }
                // A block the schema allows once.
                None => match items.first() {
                    Some(first) => block(ws, ctx, r, first, depth + 1),
                    None => continue,
                },
            },
            None => attr(ws, ctx, r, &e.value, 0, depth + 1),
        };
        entries.push(Entry {
            key: camel(&e.key),
            key_span: e.key_span,
            value,
        });
    }
    Value::new(VKind::Map(entries), v.span)
}

/// An attribute's value as data (keys as written), references to what
/// the repository writes resolved.
fn attr(
    ws: &Workspace,
    ctx: &Ctx,
    r: &ResourceInstance,
    v: &TfValue,
    refs: usize,
    depth: usize,
) -> Value {
    if depth > MAX_DEPTH {
        return Value::new(VKind::External("a value nested too deep".into()), v.span);
    }
    let kind = match &v.kind {
        Kind::Null => VKind::Null,
        Kind::Bool(b) => VKind::Str(b.to_string()),
        Kind::Number(n) => VKind::Str(fmt_number(*n)),
        Kind::Str(s) => {
            let span = if s.contains('\n') {
                origin::text_span(ws, ctx.origins, v)
            } else {
                v.span
            };
            return Value::new(VKind::Str(s.clone()), span);
        }
        Kind::List(items) => VKind::List(
            items
                .iter()
                .map(|i| attr(ws, ctx, r, i, refs, depth + 1))
                .collect(),
        ),
        Kind::Object(entries) => VKind::Map(
            entries
                .iter()
                .map(|e| Entry {
                    key: e.key.clone(),
                    key_span: e.key_span,
                    value: attr(ws, ctx, r, &e.value, refs, depth + 1),
                })
                .collect(),
        ),
        Kind::Unknown(u) => {
            if refs < MAX_REFS {
                if let Some(target) = resolve(ctx, r, u) {
                    return attr(ws, ctx, r, target, refs + 1, depth + 1);
                }
            }
            VKind::External(origin::unknown_text(v))
        }
    };
    Value::new(kind, v.span)
}

/// The value a reference to another resource's attribute stands for, when
/// the repository writes it (`kubernetes_secret.ch.metadata[0].name`).
fn resolve<'a>(ctx: &Ctx<'a>, from: &ResourceInstance, u: &Unknown) -> Option<&'a TfValue> {
    let target = u.resource.as_deref()?;
    let path = u.path.as_ref()?;
    let candidates: Vec<&ResourceInstance> = ctx
        .all
        .iter()
        .filter(|r| {
            r.mode == Mode::Managed
                && !r.maybe
                && r.module == from.module
                && r.local_address == target
        })
        .collect();
    let (inst, rest) = match candidates.as_slice() {
        [] => return None,
        [one] if one.address.ends_with(target) => (*one, &path[..]),
        many => {
            let index = path.first()?;
            let inst = many.iter().find(|r| {
                r.address.ends_with(&format!("[{index}]"))
                    || r.address.ends_with(&format!("[\"{index}\"]"))
            })?;
            (*inst, &path[1..])
        }
    };
    let mut v = &inst.value;
    for seg in rest {
        v = match &v.kind {
            Kind::List(items) => items.get(seg.parse::<usize>().ok()?)?,
            Kind::Object(_) => v.get(seg)?,
            _ => return None,
        };
    }
    Some(v)
}

// -- Helm releases -----------------------------------------------------------

fn helm_release(
    ws: &Workspace,
    ctx: &Ctx,
    r: &ResourceInstance,
    out: &mut DeployOutput,
    sensitive: &mut Sensitive,
) {
    let v = &r.value;
    let anchor = v.entry("chart").map_or(r.span, |e| e.key_span);
    let mut values = Value::new(VKind::Map(Vec::new()), anchor);
    if let Some(list) = v.get("values") {
        let items: Vec<&TfValue> = match &list.kind {
            Kind::List(items) => items.iter().collect(),
            Kind::Null => Vec::new(),
            // Values the repository does not show could set anything.
            _ => return,
        };
        for item in items {
            let item = match &item.kind {
                Kind::Unknown(u) if u.origin.is_none() => match resolve(ctx, r, u) {
                    Some(t) => t,
                    None => return,
                },
                _ => item,
            };
            match origin::document(ws, ctx.origins, item) {
                Doc::Known(doc) if doc.is_map() => merge(&mut values, doc),
                Doc::Known(doc) if doc.is_null() => {}
                Doc::Known(_) | Doc::Unknown => return,
                Doc::Invalid(note) => {
                    if !out.notes.contains(&note) {
                        out.notes.push(note);
                    }
                    return;
                }
            }
        }
    }
    for (key, hidden) in [("set", false), ("set_list", false), ("set_sensitive", true)] {
        let Some(list) = v.get(key) else { continue };
        let items: &[TfValue] = match &list.kind {
            Kind::List(items) => items,
            Kind::Null => continue,
            _ => return,
        };
        for item in items {
            let Some(name) = item.get("name") else {
                continue;
            };
            // A key the repository does not name could be any key.
            let Some(name_text) = attr(ws, ctx, r, name, 0, 0).as_str().map(str::to_string) else {
                return;
            };
            let Some(path) = parse_set_name(&name_text) else {
                return;
            };
            let raw = item
                .get("value")
                .cloned()
                .unwrap_or(TfValue::new(Kind::Null, item.span));
            let mut value = attr(ws, ctx, r, &raw, 0, 0);
            if hidden {
                scalars(&value, sensitive, 0);
            }
            let string = item.get("type").and_then(TfValue::as_str) == Some("string");
            if !string {
                value = auto_list(value);
            }
            set_path(&mut values, &path, value, name.span);
        }
    }
    let chart_name = v.get("chart").and_then(TfValue::as_str);
    let repository = v.get("repository").and_then(TfValue::as_str);
    let identified = identify(chart_name, repository, &values);
    // Passwords anywhere in a ClickHouse chart's values, even under keys
    // the chart does not read: they are in the repository all the same.
    let clickhouse_chart = identified.is_some()
        || chart_name.is_some_and(|c| c.to_ascii_lowercase().contains("clickhouse"));
    if clickhouse_chart && !r.plan {
        values_secrets(r, &values, "", sensitive, 0);
    }
    let Some((chart, prefix)) = identified else {
        return;
    };
    let section_values = if prefix.is_empty() {
        values
    } else {
        match values.get(prefix.trim_end_matches('.')) {
            Some(s) => s.clone(),
            None => return,
        }
    };
    let path = path_of(ws, r);
    let section = helm::Section {
        values: &section_values,
        path: &path,
        prefix,
        anchor,
    };
    helm::lower(ws, chart, &section, out);
}

/// Password-like keys with a literal value in Helm values.
fn values_secrets(r: &ResourceInstance, v: &Value, path: &str, out: &mut Sensitive, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match &v.kind {
        VKind::Map(entries) => {
            for e in entries {
                let p = if path.is_empty() {
                    e.key.clone()
                } else {
                    format!("{path}.{}", e.key)
                };
                let last = e.key.rsplit(['/', '.']).next().unwrap_or(&e.key);
                match e.value.as_str() {
                    Some(text) if super::resources::is_secret_key(last) => {
                        out.spans.push(e.value.span);
                        if !text.is_empty() {
                            out.secrets.push(crate::repo::DeploymentSecret {
                                resource: r.address.clone(),
                                attribute: format!("values.{p}"),
                                span: e.value.span,
                                attr: None,
                                kind: crate::repo::SecretKind::Literal,
                            });
                        }
                    }
                    _ => values_secrets(r, &e.value, &p, out, depth + 1),
                }
            }
        }
        VKind::List(items) => {
            for (i, item) in items.iter().enumerate() {
                values_secrets(r, item, &format!("{path}[{i}]"), out, depth + 1);
            }
        }
        _ => {}
    }
}

/// Where every scalar of a value is written, and its text.
fn scalars(v: &Value, out: &mut Sensitive, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match &v.kind {
        VKind::Str(s) => {
            out.spans.push(v.span);
            if !s.trim().is_empty() {
                out.texts.push(s.trim().to_string());
            }
        }
        VKind::List(items) => items.iter().for_each(|i| scalars(i, out, depth + 1)),
        VKind::Map(entries) => entries
            .iter()
            .for_each(|e| scalars(&e.value, out, depth + 1)),
        _ => {}
    }
}

/// Helm's `--set` list syntax: `{a,b}`.
fn auto_list(v: Value) -> Value {
    let Some(text) = v.as_str() else { return v };
    let Some(inner) = text
        .trim()
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
    else {
        return v;
    };
    let items = inner
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| Value::new(VKind::Str(s.trim().to_string()), v.span))
        .collect();
    Value::new(VKind::List(items), v.span)
}

/// Values files merge as Helm coalesces them: maps key by key, anything
/// else replaced; `null` removes a key.
fn merge(dst: &mut Value, src: Value) {
    match (&mut dst.kind, src.kind) {
        (VKind::Map(d), VKind::Map(s)) => {
            for e in s {
                if e.value.is_null() {
                    d.retain(|x| x.key != e.key);
                    continue;
                }
                match d.iter_mut().rev().find(|x| x.key == e.key) {
                    Some(x) if x.value.is_map() && e.value.is_map() => merge(&mut x.value, e.value),
                    Some(x) => *x = e,
                    None => d.push(e),
                }
            }
        }
        (_, kind) => {
            dst.kind = kind;
            dst.span = src.span;
        }
    }
}

#[derive(Debug, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// A `set` name in Helm's syntax: `a.b`, `a\.b` (one key with a dot),
/// `a[0].b`. `None` when it cannot be read.
fn parse_set_name(name: &str) -> Option<Vec<Seg>> {
    let mut out = Vec::new();
    let mut key = String::new();
    let mut chars = name.chars().peekable();
    let mut after_index = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => key.push(chars.next()?),
            '.' => {
                if !key.is_empty() {
                    out.push(Seg::Key(std::mem::take(&mut key)));
                } else if !after_index {
                    return None;
                }
                after_index = false;
            }
            '[' => {
                if !key.is_empty() {
                    out.push(Seg::Key(std::mem::take(&mut key)));
                }
                let mut digits = String::new();
                for d in chars.by_ref() {
                    if d == ']' {
                        break;
                    }
                    digits.push(d);
                }
                let i: usize = digits.trim().parse().ok()?;
                if i > 1024 {
                    return None;
                }
                out.push(Seg::Index(i));
                after_index = true;
            }
            c => {
                key.push(c);
                after_index = false;
            }
        }
    }
    if !key.is_empty() {
        out.push(Seg::Key(key));
    }
    if out.is_empty() {
        None
    } else {
        Some(out)
    }
}

/// Set a value at a path, creating maps and lists on the way.
fn set_path(root: &mut Value, path: &[Seg], value: Value, name_span: Span) {
    let Some((first, rest)) = path.split_first() else {
        *root = value;
        return;
    };
    let empty_for = |next: Option<&Seg>| match next {
        Some(Seg::Index(_)) => VKind::List(Vec::new()),
        _ => VKind::Map(Vec::new()),
    };
    match first {
        Seg::Key(k) => {
            if !root.is_map() {
                *root = Value::new(VKind::Map(Vec::new()), name_span);
            }
            let VKind::Map(entries) = &mut root.kind else {
                return;
            };
            let i = match entries.iter().rposition(|e| e.key == *k) {
                Some(i) => i,
                None => {
                    entries.push(Entry {
                        key: k.clone(),
                        key_span: name_span,
                        value: Value::new(empty_for(rest.first()), name_span),
                    });
                    entries.len() - 1
                }
            };
            if rest.is_empty() {
                entries[i].value = value;
                entries[i].key_span = name_span;
            } else {
                set_path(&mut entries[i].value, rest, value, name_span);
            }
        }
        Seg::Index(n) => {
            if !matches!(root.kind, VKind::List(_)) {
                *root = Value::new(VKind::List(Vec::new()), name_span);
            }
            let VKind::List(items) = &mut root.kind else {
                return;
            };
            while items.len() <= *n {
                items.push(Value::new(empty_for(rest.first()), name_span));
            }
            if rest.is_empty() {
                items[*n] = value;
            } else {
                set_path(&mut items[*n], rest, value, name_span);
            }
        }
    }
}

/// The chart a release installs, from its `chart` and `repository`
/// (`bitnami/clickhouse`, `oci://…/bitnamicharts/clickhouse`, `clickhouse`
/// from `https://helm.altinity.com`, `clickhouse-eks`, `clickstack`), else
/// from the keys of its values (the whole, or a `clickhouse:` section), as
/// for a values file. With the key prefix of the section.
fn identify(
    chart: Option<&str>,
    repository: Option<&str>,
    values: &Value,
) -> Option<(helm::Chart, String)> {
    let chart_text = chart.unwrap_or_default().trim().to_ascii_lowercase();
    let repo = repository.unwrap_or_default().to_ascii_lowercase();
    let last = chart_text
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    // A packaged chart: `clickhouse-9.1.0.tgz`.
    let name = match last.strip_suffix(".tgz") {
        Some(stem) => match stem.rfind('-') {
            Some(i) if stem[i + 1..].starts_with(|c: char| c.is_ascii_digit()) => &stem[..i],
            _ => stem,
        },
        None => last,
    };
    let from = format!("{repo} {chart_text}");
    let named = match name {
        "clickhouse" if from.contains("bitnami") => Some(helm::Chart::Bitnami),
        "clickhouse" if from.contains("altinity") => Some(helm::Chart::Altinity),
        "clickhouse-eks" => Some(helm::Chart::AltinityEks),
        "clickstack" => Some(helm::Chart::ClickStack),
        _ => None,
    };
    if let Some(c) = named {
        return Some((c, String::new()));
    }
    if let Some(c) = helm::detect(values) {
        return Some((c, String::new()));
    }
    values
        .get("clickhouse")
        .and_then(helm::detect)
        .map(|c| (c, "clickhouse.".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_names_in_helm_syntax() {
        assert_eq!(
            parse_set_name("auth.password").unwrap(),
            vec![Seg::Key("auth".into()), Seg::Key("password".into())]
        );
        assert_eq!(
            parse_set_name(r"service.annotations.service\.beta\.kubernetes\.io/x").unwrap(),
            vec![
                Seg::Key("service".into()),
                Seg::Key("annotations".into()),
                Seg::Key("service.beta.kubernetes.io/x".into())
            ]
        );
        assert_eq!(
            parse_set_name("clickhouse.users[1].name").unwrap(),
            vec![
                Seg::Key("clickhouse".into()),
                Seg::Key("users".into()),
                Seg::Index(1),
                Seg::Key("name".into())
            ]
        );
        assert!(parse_set_name("").is_none());
        assert!(parse_set_name("a..b").is_none());
    }

    #[test]
    fn snake_case_to_kubernetes_fields() {
        assert_eq!(
            camel("load_balancer_source_ranges"),
            "loadBalancerSourceRanges"
        );
        assert_eq!(camel("external_ips"), "externalIPs");
        assert_eq!(camel("host_ip"), "hostIP");
        assert_eq!(camel("container_port"), "containerPort");
        assert_eq!(camel("spec"), "spec");
    }

    #[test]
    fn charts_by_name_and_repository() {
        let empty = Value::new(
            VKind::Map(Vec::new()),
            Span::new(crate::source::SourceId(0), 0, 0),
        );
        let id = |c: &str, r: Option<&str>| identify(Some(c), r, &empty).map(|x| x.0);
        assert_eq!(id("bitnami/clickhouse", None), Some(helm::Chart::Bitnami));
        assert_eq!(
            id("oci://registry-1.docker.io/bitnamicharts/clickhouse", None),
            Some(helm::Chart::Bitnami)
        );
        assert_eq!(
            id("clickhouse", Some("https://charts.bitnami.com/bitnami")),
            Some(helm::Chart::Bitnami)
        );
        assert_eq!(
            id("clickhouse", Some("https://helm.altinity.com")),
            Some(helm::Chart::Altinity)
        );
        assert_eq!(
            id("clickhouse-eks", Some("https://helm.altinity.com")),
            Some(helm::Chart::AltinityEks)
        );
        assert_eq!(id("clickhouse", None), None);
        assert_eq!(id("altinity-clickhouse-operator", None), None);
        assert_eq!(
            id(
                "https://example.com/charts/clickhouse-9.1.0.tgz",
                Some("bitnami")
            ),
            Some(helm::Chart::Bitnami)
        );
    }
}
