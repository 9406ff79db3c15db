//! `chlint inspect`: the model of each server as JSON — its listeners and
//! users, each with the location that decided it. Secrets are never shown.

use serde_json::{json, Value};

use crate::model::{AuthKind, NetworkEntry, Server, ServerKind};
use crate::source::{SourceMap, Span};

fn at(sources: &SourceMap, span: Option<Span>) -> Value {
    match span {
        Some(s) if !sources.is_builtin(s) => {
            let l = sources.locate(s);
            json!(format!("{}:{}:{}", l.file, l.line, l.column))
        }
        Some(s) => json!(sources.get(s.source).path.to_string_lossy()),
        None => json!("ClickHouse default"),
    }
}

fn auth_kind(kind: AuthKind) -> &'static str {
    match kind {
        AuthKind::NoSecret => "no_secret",
        AuthKind::Plaintext => "plaintext",
        AuthKind::Sha256 => "sha256",
        AuthKind::DoubleSha1 => "double_sha1",
        AuthKind::OtherHash => "hash",
        AuthKind::External => "external",
        AuthKind::Delegated => "delegated",
    }
}

pub fn server(s: &Server, sources: &SourceMap) -> Value {
    let listeners: Vec<Value> = s
        .listeners
        .iter()
        .map(|l| {
            json!({
                "key": l.key,
                "protocol": format!("{:?}", l.protocol).to_lowercase(),
                "port": l.port,
                "tls": l.protocol.is_tls(),
                "exposed": l.is_exposed(),
                "at": at(sources, Some(l.span)),
                "binds": l.binds.iter().map(|b| json!({"address": b.addr, "at": at(sources, b.span)})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let users: Vec<Value> = s
        .users
        .iter()
        .map(|u| {
            let networks: Vec<Value> = u
                .networks
                .entries
                .iter()
                .map(|(e, span)| {
                    let (kind, value) = match e {
                        NetworkEntry::Ip(v) => ("ip", v.as_str()),
                        NetworkEntry::Host(v) => ("host", v.as_str()),
                        NetworkEntry::HostRegexp(v) => ("host_regexp", v.as_str()),
                        NetworkEntry::External => ("external", ""),
                    };
                    json!({"kind": kind, "value": value, "at": at(sources, Some(*span))})
                })
                .collect();
            json!({
                "name": u.name,
                "auth": u.effective_auth().map(|a| json!({"element": a.element, "kind": auth_kind(a.kind), "at": at(sources, Some(a.span))})),
                "auth_elements": u.auth.len(),
                "networks": {
                    "any": u.networks.is_any(),
                    "loopback_only": u.networks.is_loopback_only(),
                    "entries": networks,
                },
                "admin": u.admin_flags.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>(),
                "at": at(sources, Some(u.span)),
            })
        })
        .collect();
    let files: Vec<Value> = s
        .config
        .files
        .iter()
        .chain(s.users_config.iter().flat_map(|u| u.files.iter()))
        .map(|f| json!(crate::source::display_path(&sources.get(*f).path)))
        .collect();
    json!({
        "server": s.label,
        "kind": match s.kind { ServerKind::Server => "server", ServerKind::Keeper => "keeper" },
        "assumed_defaults": s.assumed,
        "files": files,
        "listeners": listeners,
        "users": users,
        "exposures": s.exposures.iter().map(|e| json!({
            "ports": e.ports.describe(),
            "reach": e.reach.as_str(),
            "kind": format!("{:?}", e.kind),
            "via": e.via,
            "at": at(sources, Some(e.span)),
        })).collect::<Vec<_>>(),
    })
}
