//! Terraform resources → the repository model: firewall rules open to the
//! world, managed ClickHouse services open to any address, Kubernetes
//! Services published beyond the cluster, secrets written literally.
//!
//! The same code reads evaluated `.tf` resources and plan JSON ones (both
//! are objects whose nested blocks are lists of objects). Only known values
//! count: an unknown source, port or protocol makes a rule unknown, and
//! nothing is reported about it.

use super::eval::{Mode, ResourceInstance};
use super::value::{Kind, Value};
use crate::repo::{
    is_world, DeploymentSecret, FirewallRule, ManagedService, OpenAccess, Ports, PublishedService,
    Repo, SecretKind, CLICKHOUSE_PORTS,
};
use crate::source::Span;

/// Lower every resource and provider block into the repository model;
/// also returns the spans of every secret-looking value seen.
pub fn lower(
    resources: &[ResourceInstance],
    providers: &[(String, String, Value, Span)],
    repo: &mut Repo,
    secret_spans: &mut Vec<Span>,
) {
    for r in resources.iter().filter(|r| r.mode == Mode::Managed) {
        let v = &r.value;
        match r.rtype.as_str() {
            "aws_security_group" | "aws_default_security_group" => {
                for (i, ing) in v.blocks("ingress").into_iter().enumerate() {
                    let label = format!("{} (ingress #{})", r.address, i + 1);
                    aws_rule(repo, resources, r, Some(r), &label, ing, "protocol");
                }
            }
            "aws_security_group_rule"
                if v.get("type").and_then(Value::as_str) == Some("ingress") =>
            {
                let group = group_of(resources, r, "security_group_id");
                aws_rule(repo, resources, r, group, &r.address, v, "protocol");
            }
            "aws_vpc_security_group_ingress_rule" => {
                let group = group_of(resources, r, "security_group_id");
                aws_rule(repo, resources, r, group, &r.address, v, "ip_protocol");
            }
            "google_compute_firewall" => gcp_firewall(repo, r),
            "azurerm_network_security_rule" => azure_rule(repo, r, v, &r.address),
            "azurerm_network_security_group" => {
                for (i, rule) in v.blocks("security_rule").into_iter().enumerate() {
                    azure_rule(
                        repo,
                        r,
                        rule,
                        &format!("{} (security_rule #{})", r.address, i + 1),
                    );
                }
            }
            "yandex_vpc_security_group" => {
                for (i, ing) in v.blocks("ingress").into_iter().enumerate() {
                    yandex_rule(repo, r, ing, &format!("{} (ingress #{})", r.address, i + 1));
                }
            }
            "yandex_vpc_security_group_rule"
                if v.get("direction")
                    .and_then(Value::as_str)
                    .is_some_and(|d| d.eq_ignore_ascii_case("ingress")) =>
            {
                yandex_rule(repo, r, v, &r.address);
            }
            "clickhouse_service" => clickhouse_cloud(repo, r),
            "yandex_mdb_clickhouse_cluster" | "yandex_mdb_clickhouse_cluster_v2" => {
                yandex_mdb(repo, r)
            }
            "aiven_clickhouse" => aiven(repo, r),
            "alicloud_click_house_db_cluster" => {
                let mut open = Vec::new();
                for wl in v.blocks("db_cluster_access_white_list") {
                    ip_list(
                        wl.entry("security_ip_list"),
                        "db_cluster_access_white_list.security_ip_list",
                        &mut open,
                    );
                }
                managed(repo, r, "Alibaba Cloud ApsaraDB for ClickHouse", open);
            }
            "alicloud_click_house_enterprise_db_cluster_security_ip" => {
                let mut open = Vec::new();
                ip_list(v.entry("security_ip_list"), "security_ip_list", &mut open);
                managed(repo, r, "Alibaba Cloud ClickHouse Enterprise", open);
            }
            "doublecloud_clickhouse_cluster" => {
                let mut open = Vec::new();
                for access in v.blocks("access") {
                    for b in access.blocks("ipv4_cidr_blocks") {
                        if let Some(e) = b.entry("value") {
                            if e.value.as_str().is_some_and(is_world) {
                                open.push(OpenAccess {
                                    what: format!("`access.ipv4_cidr_blocks` allows `{}`", e.value.as_str().unwrap_or_default()),
                                    span: e.value.span,
                                    attr: Some(e.key_span),
                                    help: "list only the networks that need access in `access.ipv4_cidr_blocks`",
                                });
                            }
                        }
                    }
                }
                managed(repo, r, "DoubleCloud Managed ClickHouse", open);
            }
            "kubernetes_service" | "kubernetes_service_v1" => k8s_service(repo, r),
            _ => {}
        }
        secrets_of(repo, r, secret_spans);
    }
    for (module, name, body, _) in providers {
        let keys: &[&str] = match name.as_str() {
            "clickhouse" => &["token_secret"],
            "clickhousedbops" => &["password"],
            _ => continue,
        };
        let address = if module.is_empty() {
            format!("provider.{name}")
        } else {
            format!("{module}.provider.{name}")
        };
        walk_secrets(repo, &address, body, "", keys, secret_spans, false, 0);
    }
}

// -- firewalls ---------------------------------------------------------------

const CLICKHOUSE_WORDS: [&str; 5] = [
    "clickhouse",
    "click_house",
    "click-house",
    "keeper",
    "zookeeper",
];
const OTHER_WORDS: [&str; 17] = [
    "minio",
    "sonarqube",
    "node_exporter",
    "node-exporter",
    "nodeexporter",
    "kafka",
    "elasticsearch",
    "opensearch",
    "portainer",
    "bastion",
    "jenkins",
    "grafana",
    "rabbitmq",
    "redis",
    "mongodb",
    "nginx",
    "vpn",
];

/// Texts that say what a group or rule is for.
fn purpose_texts(r: &ResourceInstance, out: &mut Vec<String>) {
    out.push(r.address.to_ascii_lowercase());
    for key in ["name", "name_prefix", "description", "target_tags", "tags"] {
        if let Some(v) = r.value.get(key) {
            collect_strings(v, out, 0);
        }
    }
}

fn collect_strings(v: &Value, out: &mut Vec<String>, depth: usize) {
    match &v.kind {
        Kind::Str(s) => out.push(s.to_ascii_lowercase()),
        Kind::List(items) if depth < 4 => items
            .iter()
            .for_each(|i| collect_strings(i, out, depth + 1)),
        Kind::Object(entries) if depth < 4 => entries.iter().for_each(|e| {
            out.push(e.key.to_ascii_lowercase());
            collect_strings(&e.value, out, depth + 1)
        }),
        _ => {}
    }
}

fn context(rule: &ResourceInstance, group: Option<&ResourceInstance>) -> (bool, Option<String>) {
    let mut texts = Vec::new();
    purpose_texts(rule, &mut texts);
    if let Some(g) = group {
        purpose_texts(g, &mut texts);
    }
    let ch = texts
        .iter()
        .any(|t| CLICKHOUSE_WORDS.iter().any(|w| t.contains(w)));
    let other = (!ch)
        .then(|| {
            OTHER_WORDS
                .iter()
                .find(|w| texts.iter().any(|t| t.contains(*w)))
                .map(|w| w.to_string())
        })
        .flatten();
    (ch, other)
}

/// The group a rule belongs to: the resource its `security_group_id` refers to.
fn group_of<'a>(
    all: &'a [ResourceInstance],
    r: &ResourceInstance,
    key: &str,
) -> Option<&'a ResourceInstance> {
    let Kind::Unknown(u) = &r.value.get(key)?.kind else {
        return None;
    };
    let target = u.resource.as_deref()?;
    all.iter()
        .find(|g| g.module == r.module && g.local_address == target)
}

/// Is the group attached to a VPC interface endpoint?
fn guards_endpoint(all: &[ResourceInstance], group: &ResourceInstance) -> bool {
    all.iter().any(|e| {
        e.rtype == "aws_vpc_endpoint"
            && e.module == group.module
            && e.value.get("security_group_ids").and_then(Value::as_list).is_some_and(|ids| {
                ids.iter().any(|id| matches!(&id.kind, Kind::Unknown(u) if u.resource.as_deref() == Some(group.local_address.as_str())))
            })
    })
}

fn number(v: Option<&Value>) -> Option<u32> {
    v.and_then(Value::as_number)
        .filter(|n| *n >= 0.0 && *n <= 65535.0)
        .map(|n| n as u32)
}

/// World sources among the values of some attributes.
fn world_sources(v: &Value, keys: &[&str]) -> (Vec<(String, Span)>, Option<Span>) {
    let mut world = Vec::new();
    let mut attr = None;
    for key in keys {
        let Some(e) = v.entry(key) else { continue };
        for item in e.value.items().unwrap_or_default() {
            if let Some(s) = item.as_str().filter(|s| is_world(s)) {
                world.push((s.to_string(), item.span));
                attr.get_or_insert(e.key_span);
            }
        }
    }
    (world, attr)
}

#[allow(clippy::too_many_arguments)]
fn push_rule(
    repo: &mut Repo,
    label: &str,
    ports: Ports,
    ports_span: Span,
    (world, attr): (Vec<(String, Span)>, Option<Span>),
    span: Span,
    (clickhouse_context, other_purpose): (bool, Option<String>),
    private_endpoint: bool,
) {
    if world.is_empty() || !CLICKHOUSE_PORTS.iter().any(|(p, _)| ports.covers(*p)) {
        return;
    }
    repo.firewall_rules.push(FirewallRule {
        resource: label.to_string(),
        ports,
        ports_span,
        sources_attr: attr.unwrap_or(span),
        world,
        span,
        clickhouse_context,
        other_purpose,
        private_endpoint,
    });
}

fn aws_rule(
    repo: &mut Repo,
    all: &[ResourceInstance],
    r: &ResourceInstance,
    group: Option<&ResourceInstance>,
    label: &str,
    v: &Value,
    protocol_key: &str,
) {
    if r.maybe {
        return;
    }
    let Some(protocol) = v.get(protocol_key).and_then(Value::to_template_string) else {
        return;
    };
    let proto = protocol.to_ascii_lowercase();
    let ports = if proto == "-1" || proto == "all" {
        Ports::All
    } else if proto == "tcp" || proto == "6" {
        match (number(v.get("from_port")), number(v.get("to_port"))) {
            (Some(a), Some(b)) if a <= b => Ports::Ranges(vec![(a, b)]),
            _ => return,
        }
    } else {
        return;
    };
    let ports_span = v.get("from_port").map_or(v.span, |p| p.span);
    let sources = world_sources(
        v,
        &["cidr_blocks", "ipv6_cidr_blocks", "cidr_ipv4", "cidr_ipv6"],
    );
    let private = group.is_some_and(|g| guards_endpoint(all, g));
    push_rule(
        repo,
        label,
        ports,
        ports_span,
        sources,
        v.span,
        context(r, group),
        private,
    );
}

fn gcp_firewall(repo: &mut Repo, r: &ResourceInstance) {
    let v = &r.value;
    if r.maybe || v.get("disabled").and_then(Value::as_bool) == Some(true) {
        return;
    }
    if let Some(d) = v.get("direction").filter(|d| !d.is_null()) {
        if !d
            .as_str()
            .is_some_and(|d| d.eq_ignore_ascii_case("INGRESS"))
        {
            return;
        }
    }
    for allow in v.blocks("allow") {
        let Some(proto) = allow.get("protocol").and_then(Value::as_str) else {
            continue;
        };
        if !matches!(proto.to_ascii_lowercase().as_str(), "tcp" | "all" | "6") {
            continue;
        }
        let ports = match allow
            .get("ports")
            .filter(|p| !p.is_null())
            .map(Value::items)
        {
            None => Ports::All,
            Some(None) => continue,
            Some(Some(items)) if items.is_empty() => Ports::All,
            Some(Some(items)) => {
                let mut ranges = Vec::new();
                for i in items {
                    match i.to_template_string().and_then(|s| parse_range(&s)) {
                        Some(r) => ranges.push(r),
                        None => return,
                    }
                }
                Ports::Ranges(ranges)
            }
        };
        let ports_span = allow.get("ports").map_or(allow.span, |p| p.span);
        push_rule(
            repo,
            &r.address,
            ports,
            ports_span,
            world_sources(v, &["source_ranges"]),
            v.span,
            context(r, None),
            false,
        );
    }
}

/// `8123`, `9000-9010`, `*`.
fn parse_range(s: &str) -> Option<(u32, u32)> {
    let s = s.trim();
    if s == "*" {
        return Some((0, 65535));
    }
    match s.split_once('-') {
        Some((a, b)) => Some((a.trim().parse().ok()?, b.trim().parse().ok()?)),
        None => {
            let p = s.parse().ok()?;
            Some((p, p))
        }
    }
}

fn azure_rule(repo: &mut Repo, r: &ResourceInstance, v: &Value, label: &str) {
    if r.maybe {
        return;
    }
    let s = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
    };
    if s("direction").as_deref() != Some("inbound") || s("access").as_deref() != Some("allow") {
        return;
    }
    if !matches!(s("protocol").as_deref(), Some("tcp" | "*" | "any")) {
        return;
    }
    let mut ranges = Vec::new();
    let mut ports_span = v.span;
    for key in ["destination_port_range", "destination_port_ranges"] {
        let Some(p) = v.get(key) else { continue };
        if p.is_null() {
            continue;
        }
        let Some(items) = p.items() else { return };
        ports_span = p.span;
        for i in items {
            match i.to_template_string().and_then(|s| parse_range(&s)) {
                Some(r) => ranges.push(r),
                None => return,
            }
        }
    }
    if ranges.is_empty() {
        return;
    }
    let ports = if ranges.contains(&(0, 65535)) {
        Ports::All
    } else {
        Ports::Ranges(ranges)
    };
    let sources = world_sources(v, &["source_address_prefix", "source_address_prefixes"]);
    push_rule(
        repo,
        label,
        ports,
        ports_span,
        sources,
        v.span,
        context(r, None),
        false,
    );
}

fn yandex_rule(repo: &mut Repo, r: &ResourceInstance, v: &Value, label: &str) {
    if r.maybe {
        return;
    }
    let Some(proto) = v.get("protocol").and_then(Value::as_str) else {
        return;
    };
    if !matches!(proto.to_ascii_uppercase().as_str(), "TCP" | "ANY") {
        return;
    }
    let known = |k: &str| v.get(k).filter(|x| !x.is_null());
    let ports = match (known("port"), known("from_port"), known("to_port")) {
        (Some(p), _, _) => match number(Some(p)) {
            Some(p) => Ports::Ranges(vec![(p, p)]),
            None => return,
        },
        (None, Some(a), Some(b)) => match (number(Some(a)), number(Some(b))) {
            (Some(a), Some(b)) if a <= b => Ports::Ranges(vec![(a, b)]),
            _ => return,
        },
        (None, None, None) => Ports::All,
        _ => return,
    };
    let ports_span = known("port")
        .or(known("from_port"))
        .map_or(v.span, |p| p.span);
    let sources = world_sources(v, &["v4_cidr_blocks", "v6_cidr_blocks"]);
    push_rule(
        repo,
        label,
        ports,
        ports_span,
        sources,
        v.span,
        context(r, None),
        false,
    );
}

// -- managed ClickHouse ------------------------------------------------------

fn managed(repo: &mut Repo, r: &ResourceInstance, product: &'static str, open: Vec<OpenAccess>) {
    if r.maybe || open.is_empty() {
        return;
    }
    repo.managed_services.push(ManagedService {
        resource: r.address.clone(),
        product,
        open,
    });
}

/// A comma-separated (or list) IP allow list containing a world entry.
fn ip_list(e: Option<&super::value::Entry>, what: &str, open: &mut Vec<OpenAccess>) {
    let Some(e) = e else { return };
    for item in e.value.items().unwrap_or_default() {
        let Some(s) = item.as_str() else { continue };
        if let Some(w) = s.split(',').map(str::trim).find(|x| is_world(x)) {
            open.push(OpenAccess {
                what: format!("`{what}` allows `{w}`"),
                span: item.span,
                attr: Some(e.key_span),
                help: "list only the networks that need access (office, VPN, application subnets)",
            });
        }
    }
}

fn clickhouse_cloud(repo: &mut Repo, r: &ResourceInstance) {
    let mut open = Vec::new();
    let Some(list) = r.value.get("ip_access") else {
        return;
    };
    for item in list.items().unwrap_or_default() {
        let Some(src) = item.entry("source") else {
            continue;
        };
        if let Some(s) = src.value.as_str().filter(|s| is_world(s)) {
            let mysql = r.value.get("endpoints").and_then(|e| {
                e.blocks("mysql")
                    .first()
                    .and_then(|m| m.get("enabled"))
                    .and_then(Value::as_bool)
            }) == Some(true);
            open.push(OpenAccess {
                what: format!(
                    "`ip_access` allows `{s}`{}",
                    if mysql { " (and the MySQL endpoint is enabled)" } else { "" }
                ),
                span: src.value.span,
                attr: Some(src.key_span),
                help: "list only the addresses that need access in `ip_access` (an empty list allows none: use private endpoints)",
            });
        }
    }
    managed(repo, r, "ClickHouse Cloud", open);
}

fn yandex_mdb(repo: &mut Repo, r: &ResourceInstance) {
    let v = &r.value;
    // Security groups decide then (their rules are checked separately).
    match v.get("security_group_ids") {
        None => {}
        Some(g) if g.is_null() || g.as_list().is_some_and(<[Value]>::is_empty) => {}
        Some(_) => return,
    }
    let mut hosts: Vec<&Value> = v.blocks("host");
    if let Some(Value {
        kind: Kind::Object(entries),
        ..
    }) = v.get("hosts")
    {
        hosts.extend(entries.iter().map(|e| &e.value));
    }
    let mut open = Vec::new();
    for h in hosts {
        if let Some(e) = h.entry("assign_public_ip") {
            if e.value.as_bool() == Some(true) {
                open.push(OpenAccess {
                    what: "a host has `assign_public_ip = true` and the cluster has no `security_group_ids`".into(),
                    span: e.value.span,
                    attr: Some(e.key_span),
                    help: "remove `assign_public_ip`, or add `security_group_ids` with rules that allow only the networks that need access",
                });
            }
        }
    }
    managed(repo, r, "Yandex Managed Service for ClickHouse", open);
}

fn aiven(repo: &mut Repo, r: &ResourceInstance) {
    let mut open = Vec::new();
    for cfg in r.value.blocks("clickhouse_user_config") {
        ip_list(
            cfg.entry("ip_filter"),
            "clickhouse_user_config.ip_filter",
            &mut open,
        );
        ip_list(
            cfg.entry("ip_filter_string"),
            "clickhouse_user_config.ip_filter_string",
            &mut open,
        );
        for o in cfg.blocks("ip_filter_object") {
            ip_list(
                o.entry("network"),
                "clickhouse_user_config.ip_filter_object.network",
                &mut open,
            );
        }
    }
    managed(repo, r, "Aiven for ClickHouse", open);
}

// -- Kubernetes Services -----------------------------------------------------

const INTERNAL_LB: [(&str, &str); 5] = [
    ("service.beta.kubernetes.io/aws-load-balancer-internal", ""),
    (
        "service.beta.kubernetes.io/aws-load-balancer-scheme",
        "internal",
    ),
    ("networking.gke.io/load-balancer-type", "internal"),
    ("cloud.google.com/load-balancer-type", "internal"),
    (
        "service.beta.kubernetes.io/azure-load-balancer-internal",
        "true",
    ),
];

fn k8s_service(repo: &mut Repo, r: &ResourceInstance) {
    if r.maybe {
        return;
    }
    let Some(spec) = r.value.blocks("spec").into_iter().next() else {
        return;
    };
    let Some(t) = spec.entry("type") else { return };
    let Some(kind) = t.value.as_str() else { return };
    if kind != "LoadBalancer" && kind != "NodePort" {
        return;
    }
    // Source ranges restrict a load balancer (an unknown list is assumed to).
    if let Some(ranges) = spec.get("load_balancer_source_ranges") {
        match ranges.items() {
            None => return,
            Some(items)
                if !items.is_empty() && !items.iter().any(|i| i.as_str().is_some_and(is_world)) =>
            {
                return
            }
            _ => {}
        }
    }
    if kind == "LoadBalancer" {
        for m in r.value.blocks("metadata") {
            for e in m.get("annotations").map(Value::entries).unwrap_or_default() {
                let val = e.value.as_str().unwrap_or_default().to_ascii_lowercase();
                if e.value.is_unknown()
                    || INTERNAL_LB
                        .iter()
                        .any(|(k, want)| e.key == *k && (want.is_empty() || val == *want))
                {
                    return;
                }
            }
        }
    }
    let mut ports = Vec::new();
    for p in spec.blocks("port") {
        for key in ["port", "target_port"] {
            if let Some(n) = p.get(key).and_then(|x| number(Some(x))) {
                if CLICKHOUSE_PORTS.iter().any(|(c, _)| *c == n)
                    && !ports.iter().any(|(q, _)| *q == n)
                {
                    ports.push((n, p.get(key).map_or(p.span, |x| x.span)));
                }
            }
        }
    }
    if ports.is_empty() {
        return;
    }
    repo.published_services.push(PublishedService {
        resource: r.address.clone(),
        service_type: kind.to_string(),
        type_span: t.value.span,
        ports,
    });
}

// -- secrets -----------------------------------------------------------------

/// Resource types whose password-like attributes are ClickHouse secrets.
const SECRET_RESOURCES: [&str; 10] = [
    "clickhouse_service",
    "clickhousedbops_user",
    "yandex_mdb_clickhouse_cluster",
    "yandex_mdb_clickhouse_cluster_v2",
    "yandex_mdb_clickhouse_user",
    "aiven_clickhouse_user",
    "alicloud_click_house_account",
    "tencentcloud_clickhouse_instance",
    "doublecloud_clickhouse_cluster",
    "helm_release",
];

/// Is this attribute name a password (or key) whose value must not be written in clear?
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    let k = k.strip_suffix("_wo").unwrap_or(&k);
    (k.ends_with("password")
        || k.ends_with("_pwd")
        || k.ends_with("passwd")
        || k == "token_secret"
        || k.ends_with("secret_key")
        || k.ends_with("api_key"))
        && !k.contains("hash")
}

fn secrets_of(repo: &mut Repo, r: &ResourceInstance, secret_spans: &mut Vec<Span>) {
    if SECRET_RESOURCES.contains(&r.rtype.as_str()) || r.rtype.starts_with("kubernetes_") {
        walk_secrets(repo, &r.address, &r.value, "", &[], secret_spans, r.plan, 0);
    }
    if r.rtype == "clickhouse_service" {
        if let Some(e) = r.value.entry("password_hash") {
            if let Some(h) = e.value.as_str() {
                secret_spans.push(e.value.span);
                if !r.plan && is_weak_hash(h) {
                    repo.secrets.push(DeploymentSecret {
                        resource: r.address.clone(),
                        attribute: "password_hash".into(),
                        span: e.value.span,
                        attr: (e.value.span.source != e.key_span.source
                            || !contains(e.key_span, e.value.span))
                        .then_some(e.key_span),
                        kind: SecretKind::WeakHash,
                    });
                }
            }
        }
    }
}

fn contains(outer: Span, inner: Span) -> bool {
    outer.source == inner.source && outer.start <= inner.start && inner.end <= outer.end
}

/// Walk a value for secrets: password-like keys with a literal value, and
/// `{name = "…PASSWORD…", value = "…"}` pairs (container env, Helm `set`).
#[allow(clippy::too_many_arguments)]
fn walk_secrets(
    repo: &mut Repo,
    address: &str,
    v: &Value,
    path: &str,
    only: &[&str],
    secret_spans: &mut Vec<Span>,
    plan: bool,
    depth: usize,
) {
    if depth > 16 {
        return;
    }
    match &v.kind {
        Kind::Object(entries) => {
            // A name/value pair.
            let name = v.get("name").and_then(Value::as_str);
            if let (Some(name), Some(e)) = (name, v.entry("value")) {
                let last = name.rsplit(['.', '/']).next().unwrap_or(name);
                if is_secret_key(last) {
                    literal(
                        repo,
                        address,
                        &format!("{path}[name={name}].value"),
                        e,
                        secret_spans,
                        plan,
                    );
                }
            }
            for e in entries {
                let p = if path.is_empty() {
                    e.key.clone()
                } else {
                    format!("{path}.{}", e.key)
                };
                let wanted = if only.is_empty() {
                    is_secret_key(&e.key)
                } else {
                    only.contains(&e.key.as_str())
                };
                if wanted {
                    literal(repo, address, &p, e, secret_spans, plan);
                } else {
                    walk_secrets(
                        repo,
                        address,
                        &e.value,
                        &p,
                        only,
                        secret_spans,
                        plan,
                        depth + 1,
                    );
                }
            }
        }
        Kind::List(items) => {
            for (i, item) in items.iter().enumerate() {
                walk_secrets(
                    repo,
                    address,
                    item,
                    &format!("{path}[{i}]"),
                    only,
                    secret_spans,
                    plan,
                    depth + 1,
                );
            }
        }
        _ => {}
    }
}

fn literal(
    repo: &mut Repo,
    address: &str,
    path: &str,
    e: &super::value::Entry,
    secret_spans: &mut Vec<Span>,
    plan: bool,
) {
    let Some(s) = e.value.as_str() else { return };
    secret_spans.push(e.value.span);
    // An empty value is no secret; a plan holds every password in clear by
    // design (that file is never printed): only configuration is reported.
    if s.is_empty() || plan {
        return;
    }
    repo.secrets.push(DeploymentSecret {
        resource: address.to_string(),
        attribute: path.to_string(),
        span: e.value.span,
        attr: (!contains(e.key_span, e.value.span)).then_some(e.key_span),
        kind: SecretKind::Literal,
    });
}

/// Passwords that guessing tries first (their ClickHouse Cloud hashes are
/// base64 of SHA-256).
const WELL_KNOWN: [&str; 16] = [
    "test",
    "password",
    "123456",
    "12345678",
    "admin",
    "clickhouse",
    "default",
    "changeme",
    "secret",
    "qwerty",
    "root",
    "pass",
    "letmein",
    "welcome",
    "example",
    "password123",
];

fn is_weak_hash(h: &str) -> bool {
    use sha2::Digest;
    WELL_KNOWN.iter().any(|p| {
        let d = sha2::Sha256::digest(p.as_bytes());
        let b64 = super::funcs::base64_of(&d);
        let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
        h.trim() == b64 || h.trim().eq_ignore_ascii_case(&hex)
    })
}
