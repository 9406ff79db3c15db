//! CH2xx: listeners and network exposure, and CH511 (Keeper commands).

use super::Emitter;
use crate::clickhouse::element::Element;
use crate::model::{is_loopback, Listener, Protocol, Server};
use crate::source::Span;

fn bind_related(f: &mut crate::finding::Finding, listener: &Listener) {
    if let Some(bind) = listener.exposed_bind() {
        f.related(bind.span, format!("listens on `{}` here", bind.addr));
    }
}

pub fn listen_all_interfaces(server: &Server, emit: &mut Emitter) {
    let weak = server.users.iter().find(|u| {
        (u.needs_no_secret() && server.user_reaches_beyond_loopback(u)) || u.networks.is_any()
    });
    let Some(weak) = weak else {
        return;
    };
    // An image's or operator's own wildcard is not the repository's choice:
    // what publishes the port decides (CH001, CH250, CH251).
    let wildcard = server
        .listeners
        .iter()
        .flat_map(|l| l.binds.iter())
        .find(|b| b.is_wildcard() && b.span.is_some_and(|s| !server.deploy.is_shipped(s)));
    let Some(bind) = wildcard else {
        return;
    };
    let why = if weak.needs_no_secret() {
        "needs no password"
    } else {
        "may log in from any network"
    };
    emit.report(
        "CH201",
        bind.span.expect("filtered on span"),
        format!(
            "the server listens on all interfaces (`{}`) while user `{}` {why}",
            bind.addr, weak.name
        ),
        "bind to the private interface clients use (`<listen_host>10.0.3.7</listen_host>`), or protect every user with a secret and `<networks>`",
    )
    .related(Some(weak.span), format!("user `{}` defined here", weak.name));
}

/// Listeners of these protocols bound beyond loopback. A wildcard address
/// left as an image or operator ships it is not reported here: in a
/// container it is the norm, and what publishes the port decides (CH001,
/// CH250, CH251).
fn exposed<'a>(server: &'a Server, protocols: &[Protocol]) -> Vec<&'a Listener> {
    server
        .listeners
        .iter()
        .filter(|l| protocols.contains(&l.protocol) && l.is_exposed())
        .filter(|l| {
            !l.exposed_bind()
                .and_then(|b| b.span)
                .is_some_and(|s| server.deploy.is_shipped(s))
        })
        .collect()
}

/// The line that decides whether a listener is exposed: its port's own
/// line when the repository writes it; for a port the image or the shipped
/// defaults open, the repository's `listen_host` that exposes it.
fn deciding_span(server: &Server, l: &Listener) -> Span {
    match l.exposed_bind().and_then(|b| b.span) {
        Some(bind) if server.is_implicit(l.span) && !server.is_implicit(bind) => bind,
        _ => l.span,
    }
}

/// Listeners by the line that decides: one finding each, naming all of its
/// ports (one `listen_host` exposing the shipped ports is one problem).
fn by_deciding_line<'a>(
    server: &Server,
    listeners: Vec<&'a Listener>,
) -> Vec<(Span, Vec<&'a Listener>)> {
    let mut groups: Vec<(Span, Vec<&Listener>)> = Vec::new();
    for l in listeners {
        let at = deciding_span(server, l);
        match groups.iter_mut().find(|(s, _)| *s == at) {
            Some((_, g)) => g.push(l),
            None => groups.push((at, vec![l])),
        }
    }
    groups
}

/// "`http_port` (8123)", "`http_port` (8123) and `tcp_port` (9000)"; and
/// the verb's ending ("s" for one).
fn named_ports(ls: &[&Listener]) -> (String, &'static str) {
    let names: Vec<String> = ls
        .iter()
        .map(|l| format!("`{}` ({})", l.key, l.port))
        .collect();
    match names.as_slice() {
        [one] => (one.clone(), "s"),
        [init @ .., last] => (format!("{} and {last}", init.join(", ")), ""),
        [] => (String::new(), "s"),
    }
}

/// One finding per deciding line over these listeners, with where they
/// listen and each port's own line as related locations.
fn report_grouped(
    server: &Server,
    emit: &mut Emitter,
    code: &str,
    listeners: Vec<&Listener>,
    message: impl Fn(&str, &str) -> String,
    help: impl Fn(&[&Listener]) -> String,
) {
    for (at, ls) in by_deciding_line(server, listeners) {
        let (names, s) = named_ports(&ls);
        let f = emit.report(code, at, message(&names, s), help(&ls));
        for l in &ls {
            bind_related(f, l);
            f.related(
                Some(l.span),
                format!(
                    "`{}` opens port {}{}",
                    l.key,
                    l.port,
                    super::deploy::here(server, l.span)
                ),
            );
        }
    }
}

pub fn plaintext_client_port(server: &Server, emit: &mut Emitter) {
    let listeners = exposed(
        server,
        &[Protocol::Http, Protocol::Native, Protocol::NativeProxy],
    );
    report_grouped(
        server,
        emit,
        "CH202",
        listeners,
        |names, s| {
            format!("{names} serve{s} clients without TLS beyond loopback: passwords and data cross the network in clear")
        },
        |_| {
            "serve clients on `https_port`/`tcp_port_secure` and remove the plaintext port (`<http_port remove=\"1\"/>`), or bind it to loopback".into()
        },
    );
}

pub fn mysql_postgres_port_enabled(server: &Server, emit: &mut Emitter) {
    let listeners = exposed(server, &[Protocol::Mysql, Protocol::Postgres]);
    report_grouped(
        server,
        emit,
        "CH203",
        listeners,
        |names, s| {
            format!("{names} open{s} another login surface beyond loopback, in plaintext unless the client asks for TLS")
        },
        |ls| {
            let removes: Vec<String> = ls
                .iter()
                .map(|l| format!("`<{} remove=\"1\"/>`", l.key))
                .collect();
            match removes.as_slice() {
                [one] => format!("remove it when no client needs it: {one}"),
                many => format!("remove them when no client needs them: {}", many.join(" ")),
            }
        },
    );
}

pub fn interserver_unauthenticated(server: &Server, emit: &mut Emitter) {
    let has_credentials = server
        .root()
        .find("interserver_http_credentials/user")
        .is_some();
    if has_credentials {
        return;
    }
    let listeners = exposed(
        server,
        &[Protocol::Interserver, Protocol::InterserverSecure],
    );
    report_grouped(
        server,
        emit,
        "CH209",
        listeners,
        |names, s| {
            format!("{names} serve{s} data parts to anyone beyond loopback: there are no `interserver_http_credentials`")
        },
        |_| {
            "add `<interserver_http_credentials><user>…</user><password from_env=\"…\"/></interserver_http_credentials>` and bind `interserver_listen_host` to the cluster network".into()
        },
    );
}

pub fn keeper_client_port_exposed(server: &Server, emit: &mut Emitter) {
    for l in exposed(server, &[Protocol::KeeperClient]) {
        let f = emit.report(
            "CH210",
            l.span,
            format!(
                "Keeper's client port {} is plaintext and listens beyond loopback: coordination data and four-letter commands are open to the network",
                l.port
            ),
            "use `keeper_server/tcp_port_secure` and bind `listen_host` to the cluster network",
        );
        bind_related(f, l);
    }
}

/// Four-letter commands that change Keeper's state.
const ADMIN_COMMANDS: [&str; 6] = ["rcvr", "rqld", "ydld", "csnp", "srst", "crst"];

pub fn keeper_admin_commands_allowed(server: &Server, emit: &mut Emitter) {
    let Some(l) = server.listeners.iter().find(|l| {
        matches!(
            l.protocol,
            Protocol::KeeperClient | Protocol::KeeperClientSecure
        ) && l.is_exposed()
    }) else {
        return;
    };
    let list = server
        .root()
        .find("keeper_server/four_letter_word_allow_list")
        .or_else(|| {
            server
                .root()
                .find("keeper_server/four_letter_word_white_list")
        });
    let (span, message) = match list {
        Some(e) if e.is_external() => return,
        Some(e) => {
            let value = e.value();
            let allowed: Vec<&str> = value.split(',').map(str::trim).collect();
            let admin: Vec<&str> = if allowed.contains(&"*") {
                ADMIN_COMMANDS.to_vec()
            } else {
                ADMIN_COMMANDS.iter().copied().filter(|c| allowed.contains(c)).collect()
            };
            if admin.is_empty() {
                return;
            }
            (e.span, format!("Keeper allows the state-changing commands {} to anyone who reaches port {}", admin.join(", "), l.port))
        }
        // The image's or operator's own bind: the deployment decides who
        // reaches it.
        None if l
            .exposed_bind()
            .and_then(|b| b.span)
            .is_some_and(|s| server.deploy.is_shipped(s)) =>
        {
            return
        }
        None => (
            l.span,
            format!(
                "Keeper has no `four_letter_word_allow_list`, so the default allows state-changing commands (rcvr, rqld, ydld, csnp…) to anyone who reaches port {}",
                l.port
            ),
        ),
    };
    let f = emit.report(
        "CH511",
        span,
        message,
        "allow only read-only commands: `<four_letter_word_allow_list>ruok,mntr,isro</four_letter_word_allow_list>`",
    );
    bind_related(f, l);
}

/// Replicas of a cluster: `shard/replica` elements, and `node` elements
/// written directly under the cluster (one-replica shards).
pub(super) fn replicas(cluster: &Element) -> impl Iterator<Item = &Element> {
    cluster
        .children_named("shard")
        .flat_map(|s| s.children_named("replica"))
        .chain(cluster.children_named("node"))
}

pub(super) fn remote_host(replica: &Element) -> Option<&Element> {
    replica
        .child("host")
        .filter(|h| !h.is_external() && !is_loopback(&h.value()) && !h.value().is_empty())
}

pub fn cluster_without_secret(server: &Server, emit: &mut Emitter) {
    let Some(remote_servers) = server.root().child("remote_servers") else {
        return;
    };
    for cluster in remote_servers.elements() {
        // An empty secret is read as none (the replicas then log in as a user).
        if cluster
            .child("secret")
            .is_some_and(|s| s.is_external() || !s.value().is_empty())
        {
            continue;
        }
        let open = replicas(cluster).find(|r| {
            remote_host(r).is_some()
                && r.child("password")
                    .is_none_or(|p| !p.is_external() && p.value().is_empty())
        });
        let Some(replica) = open else {
            continue;
        };
        let user = replica
            .child("user")
            .map(|u| u.value())
            .unwrap_or_else(|| "default".into());
        emit.report(
            "CH213",
            cluster.span,
            format!(
                "cluster `{}` has no `<secret>` and its replicas connect as `{user}` without a password: every shard must accept that user from the network",
                cluster.name
            ),
            "add `<secret from_env=\"CH_CLUSTER_SECRET\"/>` to the cluster (the same value on every node)",
        )
        .related(remote_host(replica).map(|h| h.span), "a replica on another host");
    }
}
