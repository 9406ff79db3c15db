//! Kubernetes manifests: pods (and every kind that carries a pod template)
//! running ClickHouse or Keeper, the ConfigMaps and Secrets they mount, the
//! Services and Ingresses that reach them.
//!
//! The entry point [`lower`] takes objects already parsed into [`Value`]s
//! with their spans, so manifests from YAML files, from stdin, from
//! rendered Helm output or from Terraform `kubernetes_*` resources (once
//! converted to the Kubernetes field names) go through the same code.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::container::{build_server, Container, Env, EnvVar, FileSrc};
use super::nearest::Objects;
use super::value::Value;
use super::{embed, image, DeployOutput};
use crate::clickhouse::load::{is_merge_file_name, ConfigNote, Workspace};
use crate::model::{Exposure, ExposureKind, Given, PortSet, Reach, Unit};
use crate::source::Span;

/// One Kubernetes object.
#[derive(Clone, Debug)]
pub struct Object {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    /// The whole object.
    pub value: Value,
    /// The file it was written in (for messages and relative paths).
    pub path: PathBuf,
}

impl Object {
    /// Where to point at the object itself: its `metadata.name`, else `kind`.
    pub fn span(&self) -> Span {
        self.value
            .path("metadata.name")
            .or_else(|| self.value.get("kind"))
            .map_or(self.value.span, |v| v.span)
    }

    pub fn same_namespace(&self, other: &Object) -> bool {
        match (&self.namespace, &other.namespace) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
    }
}

/// A document with `apiVersion` and `kind`.
pub fn is_object(doc: &Value) -> bool {
    doc.str_at("apiVersion").is_some() && doc.str_at("kind").is_some()
}

/// The objects in a document (a `List` holds them in `items`).
pub fn objects(doc: Value, path: &Path) -> Vec<Object> {
    let mut out = Vec::new();
    collect_objects(doc, path, &mut out);
    out
}

/// Does [`objects`] find any object in `doc`?
pub fn holds_objects(doc: &Value) -> bool {
    if is_list(doc) {
        return doc
            .get("items")
            .map(Value::items)
            .unwrap_or_default()
            .iter()
            .any(holds_objects);
    }
    is_object(doc)
}

/// A `…List` holds its objects under `items`.
fn is_list(doc: &Value) -> bool {
    doc.str_at("kind").is_some_and(|k| k.ends_with("List"))
}

/// The objects of `doc`, which move into them.
fn collect_objects(doc: Value, path: &Path, out: &mut Vec<Object>) {
    if is_list(&doc) {
        if let Some(items) = doc.into_value_of("items") {
            for item in items.into_items() {
                collect_objects(item, path, out);
            }
        }
        return;
    }
    if !is_object(&doc) {
        return;
    }
    out.push(Object {
        kind: doc.str_at("kind").unwrap_or_default().to_string(),
        name: doc.str_at("metadata.name").unwrap_or_default().to_string(),
        namespace: doc.str_at("metadata.namespace").map(str::to_string),
        value: doc,
        path: path.to_path_buf(),
    });
}

/// The pod template of a workload: (pod spec, pod labels).
pub fn pod_template(obj: &Object) -> Option<(&Value, Option<&Value>)> {
    let v = &obj.value;
    match obj.kind.as_str() {
        "Pod" => Some((v.get("spec")?, v.path("metadata.labels"))),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => Some((
            v.path("spec.template.spec")?,
            v.path("spec.template.metadata.labels"),
        )),
        "CronJob" => Some((
            v.path("spec.jobTemplate.spec.template.spec")?,
            v.path("spec.jobTemplate.spec.template.metadata.labels"),
        )),
        _ => None,
    }
}

/// One key of a ConfigMap or Secret: its text and where it is written.
#[derive(Clone, Debug)]
pub struct DataKey {
    pub key: String,
    pub text: String,
    pub span: Span,
    /// Written as text line by line (not base64).
    pub literal: bool,
}

/// The keys of a ConfigMap (`data`) or Secret (`stringData`, `data` in base64).
pub fn data_keys(obj: &Object) -> Vec<DataKey> {
    let mut out = Vec::new();
    let secret = obj.kind == "Secret";
    for (field, base64) in [("data", secret), ("stringData", false)] {
        for e in obj.value.get(field).map(Value::entries).unwrap_or_default() {
            let Some(raw) = e.value.as_str() else {
                continue;
            };
            let text = if base64 {
                match embed::base64_decode(raw).and_then(|b| String::from_utf8(b).ok()) {
                    Some(t) => t,
                    None => continue,
                }
            } else {
                raw.to_string()
            };
            out.retain(|k: &DataKey| k.key != e.key);
            out.push(DataKey {
                key: e.key.clone(),
                text,
                span: e.value.span,
                literal: !base64,
            });
        }
    }
    out
}

/// Annotations that make a `LoadBalancer` internal to the cloud network.
const INTERNAL_LB: [(&str, &str); 11] = [
    ("cloud.google.com/load-balancer-type", "internal"),
    ("networking.gke.io/load-balancer-type", "internal"),
    ("service.beta.kubernetes.io/aws-load-balancer-internal", ""),
    (
        "service.beta.kubernetes.io/aws-load-balancer-scheme",
        "internal",
    ),
    (
        "service.beta.kubernetes.io/azure-load-balancer-internal",
        "true",
    ),
    (
        "service.beta.kubernetes.io/openstack-internal-load-balancer",
        "true",
    ),
    (
        "service.beta.kubernetes.io/cce-load-balancer-internal-vpc",
        "true",
    ),
    (
        "service.beta.kubernetes.io/oci-load-balancer-internal",
        "true",
    ),
    (
        "service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type",
        "private",
    ),
    (
        "service.beta.kubernetes.io/alibaba-cloud-loadbalancer-address-type",
        "intranet",
    ),
    (
        "service.beta.kubernetes.io/do-loadbalancer-type",
        "internal",
    ),
];

fn is_internal_lb(annotations: Option<&Value>) -> Option<Span> {
    let annotations = annotations?;
    INTERNAL_LB.iter().find_map(|(key, want)| {
        let e = annotations.entry(key)?;
        // Set from outside the repository: it may make it internal.
        if e.value.is_external() {
            return Some(e.key_span);
        }
        let v = e
            .value
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let internal = match *want {
            // AWS: "true" or a CIDR; "false" keeps it public.
            "" => !v.is_empty() && v != "false",
            want => v == want,
        };
        internal.then_some(e.key_span)
    })
}

fn is_world(cidr: &str) -> bool {
    matches!(cidr.trim(), "0.0.0.0/0" | "::/0" | "0.0.0.0/0.0.0.0")
}

/// How far a Service of this spec reaches, with the kind of exposure and
/// the line that decides it.
/// `fallback` is where to point when `type` is not written (the Service's name).
pub fn service_reach(
    svc: &Value,
    annotations: Option<&Value>,
    fallback: Span,
) -> Vec<(ExposureKind, Reach, Span, String)> {
    let mut out = Vec::new();
    let type_entry = svc.entry("type");
    let ty = type_entry
        .and_then(|e| e.value.as_str())
        .unwrap_or("ClusterIP");
    let type_span = type_entry.map_or(fallback, |e| e.value.span);
    let ranges: Vec<&Value> = svc
        .get("loadBalancerSourceRanges")
        .map(|r| r.items().iter().collect())
        .unwrap_or_default();
    let range_annotation =
        annotations.and_then(|a| a.get("service.beta.kubernetes.io/load-balancer-source-ranges"));
    let ranges_from_annotation = match range_annotation {
        // From outside the repository: assumed to restrict, as ranges are.
        Some(v) if v.is_external() => vec!["(from outside)".to_string()],
        Some(v) => v
            .as_str()
            .map(|s| s.split(',').map(str::to_string).collect::<Vec<_>>())
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let restricted = (!ranges.is_empty() || !ranges_from_annotation.is_empty())
        && ranges
            .iter()
            .all(|r| r.as_str().is_some_and(|c| !is_world(c)) || r.is_external())
        && ranges_from_annotation.iter().all(|c| !is_world(c));
    match ty {
        "LoadBalancer" => {
            let (reach, why) = if is_internal_lb(annotations).is_some() {
                (Reach::Cluster, "an internal load balancer".to_string())
            } else if restricted {
                (
                    Reach::Cluster,
                    "a load balancer limited by source ranges".to_string(),
                )
            } else {
                (Reach::Internet, "a public load balancer".to_string())
            };
            out.push((ExposureKind::LoadBalancer, reach, type_span, why));
        }
        "NodePort" => out.push((
            ExposureKind::NodePort,
            Reach::Internet,
            type_span,
            "a port on every node".into(),
        )),
        _ => out.push((
            ExposureKind::ClusterService,
            Reach::Cluster,
            type_span,
            "the cluster network".into(),
        )),
    }
    if let Some(ips) = svc.get("externalIPs") {
        if !ips.items().is_empty() {
            out.push((
                ExposureKind::ExternalIp,
                Reach::Internet,
                ips.span,
                "external IPs".into(),
            ));
        }
    }
    out
}

/// Does a selector (a label map) select these labels?
pub fn selects(selector: Option<&Value>, labels: Option<&Value>) -> bool {
    let Some(selector) = selector else {
        return false;
    };
    let entries = selector.entries();
    !entries.is_empty()
        && entries.iter().all(|e| {
            labels
                .and_then(|l| l.get(&e.key))
                .and_then(Value::as_str)
                .is_some_and(|v| Some(v) == e.value.as_str())
        })
}

/// Well-known port names, for a `targetPort` no container names.
fn named_port(name: &str) -> Option<u16> {
    Some(match name {
        "http" => 8123,
        "https" => 8443,
        "tcp" | "native" | "client" => 9000,
        "tcp-secure" | "tcpsecure" | "native-secure" => 9440,
        "mysql" => 9004,
        "postgresql" | "postgres" => 9005,
        "interserver" | "interserver-http" => 9009,
        _ => return None,
    })
}

/// A container of a ClickHouse image in a workload.
struct Workload<'a> {
    obj: &'a Object,
    pod: &'a Value,
    labels: Option<&'a Value>,
    container: &'a Value,
}

pub fn env_of(container: &Value) -> Env {
    let mut env = Env::default();
    for e in container.get("env").map(Value::items).unwrap_or_default() {
        let Some(name) = e.str_at("name") else {
            continue;
        };
        let (value, span) = match (e.get("value"), e.get("valueFrom")) {
            (Some(v), _) if v.as_str().is_some() => (
                Given::Literal(v.as_str().unwrap_or_default().to_string()),
                v.span,
            ),
            (_, Some(from)) => (Given::External, from.span),
            (Some(v), None) if v.is_external() => (Given::External, v.span),
            // No value at all: an empty string.
            (v, None) => (Given::Literal(String::new()), v.map_or(e.span, |v| v.span)),
        };
        env.vars.push(EnvVar {
            name: name.to_string(),
            value,
            span,
        });
    }
    if let Some(from) = container.entry("envFrom") {
        env.more_from = Some(from.key_span);
    }
    env
}

fn list_tokens(v: Option<&Value>) -> Vec<(String, Span)> {
    v.map(Value::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|i| Some((i.as_str()?.to_string(), i.span)))
        .collect()
}

/// `command` replaces the image's entrypoint; `args` its command.
pub fn command_of(container: &Value) -> Option<Vec<(String, Span)>> {
    let command = list_tokens(container.get("command"));
    let args = list_tokens(container.get("args"));
    let own_entrypoint = command
        .first()
        .is_some_and(|(c, _)| c.ends_with("entrypoint.sh"));
    match (command.is_empty() || own_entrypoint, args.is_empty()) {
        (true, true) => None,
        (true, false) => Some(args),
        (false, _) => Some(command.into_iter().chain(args).collect()),
    }
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

/// Could a server read a file of this name (a main file, a merge file, an
/// `include_from` or users file it names)? Only with an extension its
/// configuration loader takes (see [`is_merge_file_name`]).
fn is_read_path(path: &str) -> bool {
    is_merge_file_name(path.rsplit('/').next().unwrap_or_default())
}

/// The ConfigMap or Secret keys a volume projects, as (file name, key).
/// `None` when the object is not among the manifests. Only the files
/// `read(file name)` says the server reads are registered as configuration
/// texts (parsed, reported when they do not parse); the others are there
/// but opaque: a `README.txt` or a Secret's `CLICKHOUSE_PASSWORD` beside
/// the configuration is no configuration.
fn volume_files(
    ws: &Workspace,
    volume: &Value,
    owner: &Object,
    objects: &Objects,
    registered: &Registered,
    read: &dyn Fn(&str) -> bool,
) -> Option<Vec<(String, FileSrc)>> {
    let mut sources: Vec<(&str, &str, Option<&Value>)> = Vec::new();
    if let Some(cm) = volume.get("configMap") {
        sources.push((
            "ConfigMap",
            cm.str_at("name").unwrap_or_default(),
            cm.get("items"),
        ));
    }
    if let Some(s) = volume.get("secret") {
        sources.push((
            "Secret",
            s.str_at("secretName").unwrap_or_default(),
            s.get("items"),
        ));
    }
    for p in volume
        .path("projected.sources")
        .map(Value::items)
        .unwrap_or_default()
    {
        if let Some(cm) = p.get("configMap") {
            sources.push((
                "ConfigMap",
                cm.str_at("name").unwrap_or_default(),
                cm.get("items"),
            ));
        }
        if let Some(s) = p.get("secret") {
            sources.push((
                "Secret",
                s.str_at("name").unwrap_or_default(),
                s.get("items"),
            ));
        }
    }
    if sources.is_empty() {
        return None;
    }
    let mut files = Vec::new();
    for (kind, name, items) in sources {
        // Of copies equally near the workload, the first written.
        let &(index, obj) = objects.nearest(kind, name, owner).first()?;
        let keys = data_keys(obj);
        let wanted: Vec<(String, String)> = match items {
            Some(items) if !items.items().is_empty() => items
                .items()
                .iter()
                .filter_map(|i| Some((i.str_at("key")?.to_string(), i.str_at("path")?.to_string())))
                .collect(),
            _ => keys
                .iter()
                .map(|k| (k.key.clone(), k.key.clone()))
                .collect(),
        };
        for (key, path) in wanted {
            let Some(k) = keys.iter().find(|k| k.key == key) else {
                continue;
            };
            if !read(&path) {
                let what =
                    format!("key `{key}` of {kind} `{name}`, which ClickHouse does not read");
                files.push((path, FileSrc::Opaque { span: k.span, what }));
                continue;
            }
            // Under the lock: a key mounted by several workloads is one source.
            let mut registered = registered.lock().unwrap_or_else(|e| e.into_inner());
            let id = *registered
                .entry((index, key.clone(), path.clone()))
                .or_insert_with(|| embed::register(ws, &path, &k.text, k.span, k.literal));
            files.push((path, FileSrc::Source(id)));
        }
    }
    Some(files)
}

fn apply_mounts(
    ws: &Workspace,
    c: &mut Container,
    w: &Workload,
    objects: &Objects,
    registered: &Registered,
) {
    let volumes = w.pod.get("volumes").map(Value::items).unwrap_or_default();
    let mut mounts: Vec<&Value> = w
        .container
        .get("volumeMounts")
        .map(Value::items)
        .unwrap_or_default()
        .iter()
        .collect();
    mounts.sort_by_key(|m| {
        m.str_at("mountPath")
            .unwrap_or_default()
            .matches('/')
            .count()
    });
    for m in mounts {
        let (Some(name), Some(mount_path)) = (m.str_at("name"), m.str_at("mountPath")) else {
            continue;
        };
        let target = image::container_path(c, mount_path);
        if !is_config_target(&target) {
            continue;
        }
        let sub_path = m.str_at("subPath").filter(|s| !s.is_empty());
        let volume = volumes.iter().find(|v| v.str_at("name") == Some(name));
        // The file a key becomes in the container decides whether the
        // server reads it: the mount target for one key (`subPath`), the
        // key's file name in a mounted folder.
        let read = |file: &str| match sub_path {
            Some(sub) => file == sub && is_read_path(&target),
            None => is_read_path(file),
        };
        let files = volume.and_then(|v| volume_files(ws, v, w.obj, objects, registered, &read));
        match (files, sub_path) {
            (Some(files), Some(sub)) => match files.into_iter().find(|(p, _)| p == sub) {
                Some((_, src)) => c.fs.mount_file(&target, src),
                None => c.fs.mount_file(
                    &target,
                    FileSrc::Opaque {
                        span: m.span,
                        what: format!("key `{sub}` of volume `{name}`, which it does not have"),
                    },
                ),
            },
            (Some(files), None) => {
                c.fs.clear(&target);
                for (path, src) in files {
                    c.fs.put(&format!("{target}/{path}"), src);
                }
            }
            (None, sub) => {
                let what = match volume {
                    Some(_) => {
                        format!("volume `{name}`, whose content is not among these manifests")
                    }
                    None => format!("volume `{name}`, which the pod does not define"),
                };
                let file_like = sub.is_some() || {
                    let last = target.rsplit('/').next().unwrap_or_default();
                    last.contains('.') && !last.ends_with(".d")
                };
                if file_like {
                    c.fs.mount_file(&target, FileSrc::Opaque { span: m.span, what });
                } else {
                    c.fs.mount_opaque_dir(&target, m.span, what);
                }
            }
        }
    }
}

/// Container ports by name, and the pod-level exposures (hostPort, hostNetwork).
fn pod_exposures(w: &Workload, unit: &str) -> Vec<Exposure> {
    let mut out = Vec::new();
    if let Some(h) = w.pod.entry("hostNetwork") {
        if h.value.is_true() {
            out.push(Exposure {
                ports: PortSet::All,
                reach: Reach::Internet,
                kind: ExposureKind::PodHostNetwork,
                via: format!("`hostNetwork: true` of {unit}"),
                span: h.value.span,
                related: Vec::new(),
            });
        }
    }
    for p in w
        .container
        .get("ports")
        .map(Value::items)
        .unwrap_or_default()
    {
        let Some(host) = p.entry("hostPort") else {
            continue;
        };
        // A host port (or address) from outside the repository may not be
        // set at all: nothing rests on it.
        if host.value.as_str().is_none() || p.get("hostIP").is_some_and(Value::is_external) {
            continue;
        }
        let Some(port) = p.str_at("containerPort").and_then(|s| s.parse().ok()) else {
            continue;
        };
        let reach = match p.str_at("hostIP") {
            Some(ip) => super::compose::reach_of_host_ip(Some(ip)),
            None => Reach::Internet,
        };
        out.push(Exposure {
            ports: PortSet::One(port),
            reach,
            kind: ExposureKind::PodHostPort,
            via: format!(
                "`hostPort: {}` of {unit}",
                host.value.as_str().unwrap_or_default()
            ),
            span: host.value.span,
            related: Vec::new(),
        });
    }
    out
}

fn container_port(w: &Workload, target: &Value) -> Option<u16> {
    let t = target.as_str()?;
    if let Ok(n) = t.parse() {
        return Some(n);
    }
    w.container
        .get("ports")
        .map(Value::items)
        .unwrap_or_default()
        .iter()
        .find(|p| p.str_at("name") == Some(t))
        .and_then(|p| p.str_at("containerPort")?.parse().ok())
        .or_else(|| named_port(t))
}

/// Exposures of a workload through the Services that select its pods.
fn service_exposures(w: &Workload, routes: &Routes, found: &Found) -> Vec<Exposure> {
    let mut out = Vec::new();
    for svc in routes.services_selecting(found) {
        let Some(spec) = svc.value.get("spec") else {
            continue;
        };
        let reaches = service_reach(spec, svc.value.path("metadata.annotations"), svc.span());
        for port in spec.get("ports").map(Value::items).unwrap_or_default() {
            let target = port
                .get("targetPort")
                .or_else(|| port.get("port"))
                .and_then(|t| container_port(w, t));
            let Some(target) = target else {
                continue;
            };
            for (kind, reach, span, why) in &reaches {
                let ty = spec.str_at("type").unwrap_or("ClusterIP");
                let mut related = vec![(
                    port.span,
                    format!("port {target} of Service `{}`", svc.name),
                )];
                if let Some(sel) = spec.get("selector") {
                    related.push((
                        sel.span,
                        format!("selects the pods of {} `{}`", w.obj.kind, w.obj.name),
                    ));
                }
                let via = match kind {
                    ExposureKind::ExternalIp => {
                        format!("the `externalIPs` of Service `{}`", svc.name)
                    }
                    _ => format!("Service `{}` ({ty}, {why})", svc.name),
                };
                out.push(Exposure {
                    ports: PortSet::One(target),
                    reach: *reach,
                    kind: *kind,
                    via,
                    span: *span,
                    related,
                });
            }
        }
    }
    out
}

/// The backends of an Ingress: (backend, Service name, Service port).
fn ingress_backends(ing: &Object) -> Vec<(&Value, &str, Option<&Value>)> {
    let mut backends: Vec<&Value> = Vec::new();
    if let Some(spec) = ing.value.get("spec") {
        backends.extend(spec.get("defaultBackend").or_else(|| spec.get("backend")));
        for rule in spec.get("rules").map(Value::items).unwrap_or_default() {
            for p in rule
                .path("http.paths")
                .map(Value::items)
                .unwrap_or_default()
            {
                backends.extend(p.get("backend"));
            }
        }
    }
    backends
        .into_iter()
        .filter_map(|b| {
            let (name, port) = match b.get("service") {
                Some(s) => (
                    s.str_at("name"),
                    s.path("port.number").or_else(|| s.path("port.name")),
                ),
                None => (b.str_at("serviceName"), b.get("servicePort")),
            };
            Some((b, name?, port))
        })
        .collect()
}

/// Ingresses routing to a Service that reaches the workload.
fn ingress_exposures(
    w: &Workload,
    objects: &Objects,
    routes: &Routes,
    found: &Found,
) -> Vec<Exposure> {
    let mut out = Vec::new();
    for ing in routes.ingresses_toward(found) {
        for (b, name, port) in ingress_backends(ing) {
            let Some(&(_, svc)) = objects.nearest("Service", name, ing).first() else {
                continue;
            };
            let Some(spec) = svc.value.get("spec") else {
                continue;
            };
            if !selects(spec.get("selector"), w.labels) {
                continue;
            }
            let port_text = port.and_then(Value::as_str).unwrap_or_default();
            let svc_port = spec
                .get("ports")
                .map(Value::items)
                .unwrap_or_default()
                .iter()
                .find(|p| {
                    p.str_at("port") == Some(port_text) || p.str_at("name") == Some(port_text)
                });
            let Some(target) = svc_port
                .and_then(|p| p.get("targetPort").or_else(|| p.get("port")))
                .and_then(|t| container_port(w, t))
            else {
                continue;
            };
            out.push(Exposure {
                ports: PortSet::One(target),
                reach: Reach::Internet,
                kind: ExposureKind::Ingress,
                via: format!("Ingress `{}` (to Service `{}`)", ing.name, svc.name),
                span: b.span,
                related: vec![(ing.span(), format!("Ingress `{}`", ing.name))],
            });
        }
    }
    out
}

/// Most Services (and, apart, Ingresses) matched to the pods of one
/// workload, the first in written order: a tree where thousands of
/// Services select the same pods would otherwise cost Services × workloads
/// exposures. The first one left out gets a CH900 note.
const MAX_ROUTES_PER_WORKLOAD: usize = 64;

/// The Services and Ingresses that may reach a pod, found from its labels
/// rather than by trying every one: Services by the label of their
/// selector that the fewest workloads carry (a pod lacking it cannot be
/// selected), Ingress names by the Services they route to. Each
/// name then stands for its copies nearest the workload (see
/// [`Objects::nearest`]), so the work does not grow with the copies a tree
/// holds. Workloads alike (same file, namespace and labels) share one
/// answer.
struct Routes<'a> {
    objects: &'a [Object],
    /// Positions of Services by one label their selector asks for.
    services_by_label: HashMap<(&'a str, &'a str), Vec<usize>>,
    ingresses_by_service: HashMap<&'a str, Vec<&'a str>>,
    found: std::sync::Mutex<HashMap<ClassKey<'a>, std::sync::Arc<Found>>>,
}

/// What decides which Services select a workload's pods.
type ClassKey<'a> = (&'a Path, Option<&'a str>, Vec<(&'a str, &'a str)>);

/// The Services and Ingresses reaching one class of workloads, by
/// position, in the order written; the first of each left out, if any.
#[derive(Default)]
struct Found {
    services: Vec<usize>,
    ingresses: Vec<usize>,
    left_out: Vec<usize>,
}

impl<'a> Routes<'a> {
    fn new(objects: &'a [Object], units: &[Workload<'a>]) -> Routes<'a> {
        // How many workloads carry each label.
        let mut carried: HashMap<(&str, &str), usize> = HashMap::new();
        for w in units {
            for e in w.labels.map(Value::entries).unwrap_or_default() {
                if let Some(v) = e.value.as_str() {
                    *carried.entry((e.key.as_str(), v)).or_default() += 1;
                }
            }
        }
        let mut services_by_label: HashMap<_, Vec<usize>> = HashMap::new();
        let mut ingresses_by_service: HashMap<_, Vec<&str>> = HashMap::new();
        for (i, o) in objects.iter().enumerate() {
            match o.kind.as_str() {
                "Service" => {
                    let rarest = o
                        .value
                        .path("spec.selector")
                        .map(Value::entries)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(|e| Some((e.key.as_str(), e.value.as_str()?)))
                        .min_by_key(|l| carried.get(l).copied().unwrap_or(0));
                    if let Some(label) = rarest {
                        services_by_label.entry(label).or_default().push(i);
                    }
                }
                "Ingress" => {
                    for (_, service, _) in ingress_backends(o) {
                        ingresses_by_service
                            .entry(service)
                            .or_default()
                            .push(&o.name);
                    }
                }
                _ => {}
            }
        }
        for names in ingresses_by_service.values_mut() {
            names.sort_unstable();
            names.dedup();
        }
        Routes {
            objects,
            services_by_label,
            ingresses_by_service,
            found: Default::default(),
        }
    }

    /// The Services and Ingresses reaching a workload's pods (computed once
    /// per class of workloads alike).
    fn find(&self, index: &Objects<'a>, w: &Workload<'a>) -> std::sync::Arc<Found> {
        let labels: Vec<(&str, &str)> = w
            .labels
            .map(Value::entries)
            .unwrap_or_default()
            .iter()
            .filter_map(|e| Some((e.key.as_str(), e.value.as_str()?)))
            .collect();
        let key = (w.obj.path.as_path(), w.obj.namespace.as_deref(), labels);
        // A panic elsewhere leaves the cache usable.
        let cached = self
            .found
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        if let Some(f) = cached {
            return f;
        }
        let found = std::sync::Arc::new(self.search(index, w, &key.2));
        self.found
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, found.clone());
        found
    }

    fn search(&self, index: &Objects<'a>, w: &Workload<'a>, labels: &[(&str, &str)]) -> Found {
        let mut out = Found::default();
        // Services asking for one of the labels, in the order written.
        let mut candidates: Vec<usize> = labels
            .iter()
            .flat_map(|l| self.services_by_label.get(l).into_iter().flatten())
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let selecting: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&p| selects(self.objects[p].value.path("spec.selector"), w.labels))
            .collect();
        // Of each name, the copies nearest the workload: looked up once per
        // name (a tree of many copies has many candidates of each name).
        let mut selecting_names: Vec<&str> = selecting
            .iter()
            .map(|&p| self.objects[p].name.as_str())
            .collect();
        selecting_names.sort_unstable();
        selecting_names.dedup();
        let nearest: HashSet<usize> = selecting_names
            .into_iter()
            .flat_map(|name| index.nearest("Service", name, w.obj))
            .map(|(q, _)| q)
            .collect();
        for p in selecting {
            if !nearest.contains(&p) {
                continue;
            }
            if out.services.len() == MAX_ROUTES_PER_WORKLOAD {
                out.left_out.push(p);
                break;
            }
            out.services.push(p);
        }
        // Ingresses routing to a Service of one of those names.
        let mut services: Vec<&str> = candidates
            .iter()
            .map(|&p| self.objects[p].name.as_str())
            .collect();
        services.sort_unstable();
        services.dedup();
        let mut names: Vec<&str> = services
            .into_iter()
            .flat_map(|s| self.ingresses_by_service.get(s).into_iter().flatten())
            .copied()
            .collect();
        names.sort_unstable();
        names.dedup();
        let mut ingresses: Vec<usize> = names
            .into_iter()
            .flat_map(|name| index.nearest("Ingress", name, w.obj))
            .map(|(p, _)| p)
            .collect();
        ingresses.sort_unstable();
        if ingresses.len() > MAX_ROUTES_PER_WORKLOAD {
            out.left_out.push(ingresses[MAX_ROUTES_PER_WORKLOAD]);
            ingresses.truncate(MAX_ROUTES_PER_WORKLOAD);
        }
        out.ingresses = ingresses;
        out
    }

    /// The Services selecting the pods, of each name the copies nearest the
    /// workload, in the order written.
    fn services_selecting(&self, found: &Found) -> Vec<&'a Object> {
        found.services.iter().map(|&p| &self.objects[p]).collect()
    }

    /// The Ingresses that route to a Service of one of those names, of each
    /// name the copies nearest the workload, in the order written.
    fn ingresses_toward(&self, found: &Found) -> Vec<&'a Object> {
        found.ingresses.iter().map(|&p| &self.objects[p]).collect()
    }

    /// The notes for what was left out (the same for every workload alike:
    /// one note each).
    fn left_out(&self, found: &Found) -> Vec<ConfigNote> {
        found
            .left_out
            .iter()
            .map(|&p| {
                let o = &self.objects[p];
                ConfigNote::Limit {
                    span: o.span(),
                    message: format!(
                        "more than {MAX_ROUTES_PER_WORKLOAD} {kind}s reach the same pods: this {kind} and those written after it are not checked against them",
                        kind = o.kind
                    ),
                }
            })
            .collect()
    }
}

/// ConfigMap and Secret keys registered as sources, by (object, key, the
/// file name it is mounted as), shared by the workloads lowered in parallel.
type Registered = std::sync::Mutex<BTreeMap<(usize, String, String), crate::source::SourceId>>;

/// Lower Kubernetes objects into servers: one per ClickHouse or Keeper
/// container of every workload.
pub fn lower(ws: &Workspace, objects: &[Object], out: &mut DeployOutput) {
    let registered = Registered::default();
    let index = Objects::new(objects);
    // One unit per container of a pod template.
    let mut units: Vec<Workload> = Vec::new();
    for obj in objects {
        let Some((pod, labels)) = pod_template(obj) else {
            continue;
        };
        for container in pod.get("containers").map(Value::items).unwrap_or_default() {
            units.push(Workload {
                obj,
                pod,
                labels,
                container,
            });
        }
    }
    let routes = Routes::new(objects, &units);
    super::lower_each(&units, out, |w, out| {
        lower_container(ws, w, &index, &routes, &registered, out)
    });
    // Embedded texts that do not parse are reported where they are written.
    let registered = registered.into_inner().unwrap_or_else(|e| e.into_inner());
    for id in registered.values() {
        if let Some(note @ crate::clickhouse::load::ConfigNote::Invalid { .. }) =
            ws.failure_of_source(*id)
        {
            if !out.notes.contains(&note) {
                out.notes.push(note);
            }
        }
    }
}

fn lower_container<'a>(
    ws: &Workspace,
    w: &Workload<'a>,
    index: &Objects<'a>,
    routes: &Routes<'a>,
    registered: &Registered,
    out: &mut DeployOutput,
) {
    let (obj, container) = (w.obj, w.container);
    let Some(reference) = container.get("image") else {
        return;
    };
    let Some(img) = reference
        .as_str()
        .and_then(|r| image::parse_image(r, reference.span))
    else {
        return;
    };
    let cname = container.str_at("name").unwrap_or_default();
    let unit_label = format!("{} `{}`", obj.kind, obj.name);
    let unit = Unit {
        kind: obj.kind.clone(),
        name: obj.name.clone(),
        span: obj.span(),
    };
    let dir = obj.path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut c = Container::new(
        image::kind_of(&img),
        format!(
            "{unit_label} container `{cname}` ({})",
            crate::source::display_path(&obj.path)
        ),
        dir,
        unit,
    );
    if ws.deploy_servers_exhausted() {
        // Past the run's bound: reported (once per file) by build_server.
        let _ = build_server(ws, c, &mut out.notes);
        return;
    }
    c.image = Some(img);
    c.env = env_of(container);
    c.command = command_of(container);
    image::install(ws, &mut c);
    apply_mounts(ws, &mut c, w, index, registered);
    let mut exposures = pod_exposures(w, &unit_label);
    let found = routes.find(index, w);
    for note in routes.left_out(&found) {
        if !out.notes.contains(&note) {
            out.notes.push(note);
        }
    }
    exposures.extend(ingress_exposures(w, index, routes, &found));
    exposures.extend(service_exposures(w, routes, &found));
    c.exposures = exposures;
    if let Some(server) = build_server(ws, c, &mut out.notes) {
        out.push_server(server);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceId;
    use crate::syntax::{yaml, Limits};

    fn objects_of(files: &[(&str, &str)]) -> Vec<Object> {
        files
            .iter()
            .flat_map(|(path, text)| {
                yaml::parse_documents(SourceId(0), text, &Limits::default())
                    .unwrap()
                    .iter()
                    .flat_map(|d| objects(Value::from_yaml(d), Path::new(path)))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    const SERVICES: &str = "\
kind: Service
apiVersion: v1
metadata: {name: lb}
spec: {selector: {app: ch}}
---
kind: Service
apiVersion: v1
metadata: {name: headless}
spec: {selector: {app: ch, role: db}}
---
kind: Service
apiVersion: v1
metadata: {name: web}
spec: {selector: {app: web}}
---
kind: Service
apiVersion: v1
metadata: {name: external}
spec: {type: ExternalName}
";

    #[test]
    fn a_pod_is_reached_by_the_nearest_copy_of_each_service_and_ingress_selecting_it() {
        let objects = objects_of(&[
            ("one/svc.yaml", SERVICES),
            ("two/svc.yaml", "kind: Service\napiVersion: v1\nmetadata: {name: lb}\nspec: {selector: {app: ch}}\n"),
            ("one/ing.yaml", "kind: Ingress\napiVersion: networking.k8s.io/v1\nmetadata: {name: ing}\nspec: {defaultBackend: {service: {name: lb, port: {number: 8123}}}}\n"),
            ("two/ing.yaml", "kind: Ingress\napiVersion: networking.k8s.io/v1\nmetadata: {name: ing}\nspec: {rules: [{http: {paths: [{backend: {service: {name: lb, port: {number: 8123}}}}]}}]}\n"),
            ("two/web.yaml", "kind: Ingress\napiVersion: networking.k8s.io/v1\nmetadata: {name: web}\nspec: {defaultBackend: {service: {name: web, port: {number: 80}}}}\n"),
            ("two/sts.yaml", "kind: StatefulSet\napiVersion: apps/v1\nmetadata: {name: db}\nspec: {template: {metadata: {labels: {role: db, app: ch}}, spec: {containers: []}}}\n"),
        ]);
        let index = Objects::new(&objects);
        let sts = objects.iter().find(|o| o.kind == "StatefulSet").unwrap();
        let (pod, labels) = pod_template(sts).unwrap();
        let w = Workload {
            obj: sts,
            pod,
            labels,
            container: pod,
        };
        let routes = Routes::new(&objects, std::slice::from_ref(&w));
        let named = |found: Vec<&Object>| -> Vec<String> {
            found
                .iter()
                .map(|o| format!("{} {}", o.name, o.path.display()))
                .collect()
        };
        let found = routes.find(&index, &w);
        assert_eq!(
            named(routes.services_selecting(&found)),
            ["headless one/svc.yaml", "lb two/svc.yaml"]
        );
        assert_eq!(named(routes.ingresses_toward(&found)), ["ing two/ing.yaml"]);
    }
}
