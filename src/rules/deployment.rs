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

pub fn firewall_open_to_world(repo: &Repo, emit: &mut Emitter) {
    for rule in &repo.firewall_rules {
        // A group that says it is for something else is not ClickHouse's.
        if rule.other_purpose.is_some() {
            continue;
        }
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
        let (src, src_span) = rule.world[0].clone();
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
        let f = emit.report(
            "CH252",
            src_span,
            format!("`{}` allows `{src}` to {to}", rule.resource),
            "allow only the networks that need ClickHouse (application subnets, a VPN, a bastion) instead of the whole internet",
        );
        let only_shared = covered.iter().all(|p| SHARED_PORTS.contains(p));
        if rule.private_endpoint {
            f.severity(Severity::High);
            f.note = Some("the group guards a VPC interface endpoint (private addresses): `the world` is every network routed to that VPC".into());
        } else if !rule.clickhouse_context && (rule.ports.is_wide() || only_shared) {
            f.severity(Severity::High);
            f.note = Some("nothing names ClickHouse on this rule or its group; the ports it opens are ClickHouse's among others".into());
        }
        if !covers(rule.sources_attr, src_span) {
            f.related(Some(rule.sources_attr), "sources set here");
        }
        if rule.ports_span != rule.span {
            f.related(Some(rule.ports_span), "ports set here");
        }
        for (s, span) in rule.world.iter().skip(1) {
            f.related(Some(*span), format!("`{s}` too"));
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
