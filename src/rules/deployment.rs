//! CH250, CH252, CH253, CH450: rules over the repository model — firewall
//! rules, managed services, published services and secrets that deployment
//! files (Terraform today) describe.

use super::Emitter;
use crate::finding::Severity;
use crate::repo::{port_name, Ports, Repo, SecretKind, CLICKHOUSE_PORTS, SHARED_PORTS};

fn ports_text(ports: &Ports) -> (String, Vec<u32>) {
    let covered: Vec<u32> = CLICKHOUSE_PORTS
        .iter()
        .map(|(p, _)| *p)
        .filter(|p| ports.covers(*p))
        .collect();
    let opened = match ports {
        Ports::All => "all ports".to_string(),
        Ports::Ranges(r) => r
            .iter()
            .map(|(a, b)| {
                if a == b {
                    format!("port {a}")
                } else {
                    format!("ports {a}-{b}")
                }
            })
            .collect::<Vec<_>>()
            .join(", "),
    };
    (opened, covered)
}

/// What one firewall rule opens, before rules written on one line (a
/// `dynamic` block over several ports) are reported as one finding.
struct Opening {
    resource: String,
    src: String,
    at: crate::source::Span,
    to: String,
    severity: Option<Severity>,
    note: Option<String>,
    related: Vec<(crate::source::Span, String)>,
}

fn opening(rule: &crate::repo::FirewallRule) -> Opening {
    let (opened, covered) = ports_text(&rule.ports);
    let names: Vec<String> = covered
        .iter()
        .take(4)
        .map(|p| format!("{p} ({})", port_name(*p).unwrap_or("ClickHouse")))
        .collect();
    let more = if covered.len() > 4 {
        format!(" and {} more", covered.len() - 4)
    } else {
        String::new()
    };
    let (src, at) = rule.world[0].clone();
    let to = match &rule.ports {
        Ports::Ranges(r) if r.len() == 1 && r[0].0 == r[0].1 => {
            format!("ClickHouse port {}", names.join(", "))
        }
        _ => format!(
            "{opened}, which include ClickHouse port{} {}{more}",
            if covered.len() > 1 { "s" } else { "" },
            names.join(", ")
        ),
    };
    let only_shared = covered.iter().all(|p| SHARED_PORTS.contains(p));
    let (severity, note) = if rule.private_endpoint {
        (Some(Severity::High), Some("the group guards a VPC interface endpoint (private addresses): `the world` is every network routed to that VPC"))
    } else if !rule.clickhouse_context && (rule.ports.is_wide() || only_shared) {
        (Some(Severity::High), Some("nothing names ClickHouse on this rule or its group; the ports it opens are ClickHouse's among others"))
    } else {
        (None, None)
    };
    let mut related = Vec::new();
    if !covers(rule.sources_attr, at) {
        related.push((rule.sources_attr, "sources set here".to_string()));
    }
    if rule.ports_span != rule.span {
        related.push((rule.ports_span, "ports set here".to_string()));
    }
    for (s, span) in rule.world.iter().skip(1) {
        related.push((*span, format!("`{s}` too")));
    }
    Opening {
        resource: rule.resource.clone(),
        src,
        at,
        to,
        severity,
        note: note.map(str::to_string),
        related,
    }
}

/// `aws_security_group.ch (ingress #3)` and `… (ingress #4)` as
/// `aws_security_group.ch (ingress #3, ingress #4)`.
fn resources_text(names: &[&str]) -> String {
    let split = |n: &str| match n.split_once(" (") {
        Some((base, rest)) => (base.to_string(), rest.trim_end_matches(')').to_string()),
        None => (n.to_string(), String::new()),
    };
    let (base, _) = split(names[0]);
    let parts: Vec<(String, String)> = names.iter().map(|n| split(n)).collect();
    if parts.iter().all(|(b, p)| *b == base && !p.is_empty()) {
        let blocks: Vec<&str> = parts.iter().map(|(_, p)| p.as_str()).collect();
        format!("{base} ({})", blocks.join(", "))
    } else {
        names.join("`, `")
    }
}

pub fn firewall_open_to_world(repo: &Repo, emit: &mut Emitter) {
    // One finding per line that opens the world: the rules a `dynamic`
    // block writes on one line are one problem.
    let mut lines: Vec<Vec<Opening>> = Vec::new();
    // A group that says it is for something else is not ClickHouse's.
    for o in repo
        .firewall_rules
        .iter()
        .filter(|r| r.other_purpose.is_none())
        .map(opening)
    {
        match lines
            .iter_mut()
            .find(|g| g[0].at == o.at && g[0].src == o.src)
        {
            Some(g) => g.push(o),
            None => lines.push(vec![o]),
        }
    }
    for group in lines {
        let resources: Vec<&str> = group.iter().map(|o| o.resource.as_str()).collect();
        let to: Vec<&str> = group.iter().map(|o| o.to.as_str()).collect();
        let first = &group[0];
        let f = emit.report(
            "CH252",
            first.at,
            format!(
                "`{}` allows `{}` to {}",
                resources_text(&resources),
                first.src,
                to.join(" and ")
            ),
            "allow only the networks that need ClickHouse (application subnets, a VPN, a bastion) instead of the whole internet",
        );
        // Lowered only when every rule on the line is.
        if group.iter().all(|o| o.severity.is_some()) {
            f.severity(Severity::High);
            f.note = group.iter().find_map(|o| o.note.clone());
        }
        for o in &group {
            for (span, label) in &o.related {
                f.related(Some(*span), label.clone());
            }
        }
    }
}

pub fn cloud_ip_access_open(repo: &Repo, emit: &mut Emitter) {
    for svc in &repo.managed_services {
        for open in &svc.open {
            let f = emit.report(
                "CH253",
                open.span,
                format!(
                    "{} `{}` accepts connections from any address: {}",
                    svc.product, svc.resource, open.what
                ),
                open.help,
            );
            f.related(open.attr.filter(|a| !covers(*a, open.span)), "used here");
        }
    }
}

pub fn service_exposed_publicly(repo: &Repo, emit: &mut Emitter) {
    for svc in &repo.published_services {
        let ports: Vec<String> = svc
            .ports
            .iter()
            .map(|(p, _)| format!("{p} ({})", port_name(*p).unwrap_or("ClickHouse")))
            .collect();
        let reach = if svc.service_type == "LoadBalancer" {
            "a load balancer reachable from outside the cluster, with no `load_balancer_source_ranges`"
        } else {
            "a port on every node, reachable wherever the nodes are"
        };
        let f = emit.report(
            "CH250",
            svc.type_span,
            format!(
                "`{}` is a {} Service: it publishes ClickHouse {} on {reach}",
                svc.resource,
                svc.service_type,
                ports.join(", ")
            ),
            "use type ClusterIP (reach it through an ingress with authentication, a VPN or port-forwarding), or an internal load balancer, or set `load_balancer_source_ranges` to the networks that need it",
        );
        for (p, span) in &svc.ports {
            f.related(Some(*span), format!("port {p}"));
        }
    }
}

pub fn secret_in_deployment_file(repo: &Repo, emit: &mut Emitter) {
    for s in &repo.secrets {
        let (message, help) = match s.kind {
            SecretKind::Literal => (
                format!("`{}` of `{}` is written in clear in this file", s.attribute, s.resource),
                "pass it in a sensitive variable without a default (set from a secret store or TF_VAR_… at apply time), a write-only `_wo` attribute fed the same way, or a generated `random_password`",
            ),
            SecretKind::WeakHash => (
                format!(
                    "`{}` of `{}` is the hash of a well-known password: the password is as good as written here",
                    s.attribute, s.resource
                ),
                "choose a long random password and pass its hash (or the password, through a sensitive variable) from outside the repository",
            ),
        };
        let f = emit.report("CH450", s.span, message, help);
        f.related(s.attr.filter(|a| !covers(*a, s.span)), "used here");
    }
}

/// Does `outer` contain `inner`?
fn covers(outer: crate::source::Span, inner: crate::source::Span) -> bool {
    outer.source == inner.source && outer.start <= inner.start && inner.end <= outer.end
}
