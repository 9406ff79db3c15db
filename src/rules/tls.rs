//! CH3xx: TLS.

use super::listeners::{remote_host, replicas};
use super::Emitter;
use crate::clickhouse::element::Element;
use crate::lower::is_true;
use crate::model::Server;

pub fn tls_port_without_certificate(server: &Server, emit: &mut Emitter) {
    let ssl = server.root().find("openSSL/server");
    let missing: Vec<&str> = ["certificateFile", "privateKeyFile"]
        .into_iter()
        .filter(|k| {
            ssl.and_then(|s| s.child(k))
                .is_none_or(|e| e.value().is_empty() && !e.is_external())
        })
        .collect();
    if missing.is_empty() {
        return;
    }
    for l in server.listeners.iter().filter(|l| l.protocol.is_tls()) {
        emit.report(
            "CH301",
            l.span,
            format!(
                "`{}` ({}) needs a certificate, but `openSSL/server` has no {}: the TLS listener cannot start",
                l.key,
                l.port,
                missing.join(" and ")
            ),
            "set `openSSL/server/certificateFile` and `privateKeyFile` to the server's certificate and key",
        );
    }
}

pub fn tls_legacy_protocols(server: &Server, emit: &mut Emitter) {
    let Some(l) = server.listeners.iter().find(|l| l.protocol.is_tls()) else {
        return;
    };
    let ssl = server.root().find("openSSL/server");
    if ssl
        .and_then(|s| s.child("requireTLSv1_2"))
        .is_some_and(is_true)
    {
        return;
    }
    let disabled = ssl.and_then(|s| s.child("disableProtocols"));
    if disabled.is_some_and(Element::is_external) {
        return;
    }
    let list = disabled
        .map(|d| d.value().to_ascii_lowercase())
        .unwrap_or_default();
    let tokens: Vec<&str> = list.split([',', ';']).map(str::trim).collect();
    let still: Vec<&str> = ["tlsv1", "tlsv1_1"]
        .into_iter()
        .filter(|p| !tokens.contains(p))
        .collect();
    if still.is_empty() {
        return;
    }
    let primary = disabled.map(|d| d.span).unwrap_or(l.span);
    emit.report(
        "CH302",
        primary,
        format!(
            "TLS is served on `{}` but {} {} not disabled",
            l.key,
            still.join(" and "),
            if still.len() > 1 { "are" } else { "is" }
        ),
        "set `<disableProtocols>sslv2,sslv3,tlsv1,tlsv1_1</disableProtocols>` in `openSSL/server`",
    )
    .related(Some(l.span), format!("`{}` opens a TLS port here", l.key));
}

pub fn tls_verification_disabled(server: &Server, emit: &mut Emitter) {
    let Some(client) = server.root().find("openSSL/client") else {
        return;
    };
    if let Some(mode) = client
        .child("verificationMode")
        .filter(|m| m.value().eq_ignore_ascii_case("none"))
    {
        emit.report(
            "CH304",
            mode.span,
            "outgoing TLS connections (replicas, ZooKeeper, S3, dictionaries) accept any certificate: `verificationMode` is `none`",
            "use `relaxed` or `strict` and give a private CA with `caConfig`",
        );
    }
    if let Some(handler) = client
        .find("invalidCertificateHandler/name")
        .filter(|n| n.value() == "AcceptCertificateHandler")
    {
        emit.report(
            "CH304",
            handler.span,
            "outgoing TLS connections accept invalid certificates: the handler is `AcceptCertificateHandler`",
            "use `RejectCertificateHandler` and give a private CA with `caConfig`",
        );
    }
}

pub fn cluster_plaintext_transport(server: &Server, emit: &mut Emitter) {
    let Some(remote_servers) = server.root().child("remote_servers") else {
        return;
    };
    for cluster in remote_servers.elements() {
        let plain: Vec<&Element> = replicas(cluster)
            .filter(|r| remote_host(r).is_some() && !r.child("secure").is_some_and(is_true))
            .collect();
        let Some(first) = plain.first() else {
            continue;
        };
        let host = remote_host(first).expect("filtered");
        emit.report(
            "CH306",
            host.span,
            format!(
                "cluster `{}` reaches {} replica(s) on other hosts over plaintext, e.g. `{}`",
                cluster.name,
                plain.len(),
                host.value()
            ),
            "use the secure native port: `<port>9440</port><secure>1</secure>` on each replica",
        )
        .related(Some(cluster.span), "cluster defined here");
    }
}

pub fn zookeeper_plaintext(server: &Server, emit: &mut Emitter) {
    let root = server.root();
    let sections = root.children_named("zookeeper").chain(
        root.children_named("auxiliary_zookeepers")
            .flat_map(|a| a.elements()),
    );
    for zk in sections {
        let plain: Vec<&Element> = zk
            .children_named("node")
            .filter(|n| remote_host(n).is_some() && !n.child("secure").is_some_and(is_true))
            .collect();
        let Some(first) = plain.first() else {
            continue;
        };
        let host = remote_host(first).expect("filtered");
        emit.report(
            "CH307",
            host.span,
            format!(
                "`{}` reaches {} node(s) on other hosts over plaintext, e.g. `{}`",
                zk.name,
                plain.len(),
                host.value()
            ),
            "use the coordination service's TLS port with `<secure>1</secure>` on each node",
        );
    }
}
