//! Rules over what a deployment adds to a server: the chain from a
//! passwordless user to a published port (CH001), the image's user set-up
//! (CH120–CH122), published ports (CH250, CH251), TLS switched off (CH350)
//! and secrets written in deployment files (CH450).

use super::Emitter;
use crate::finding::{Finding, Severity};
use crate::model::{Exposure, ExposureKind, Listener, PortSet, Server, User, UserSetup};

/// Ports ClickHouse and Keeper use, for servers whose listeners the
/// repository does not show.
const KNOWN_PORTS: [u16; 16] = [
    8123, 8443, 9000, 9440, 9004, 9005, 9009, 9010, 9011, 9100, 9181, 9281, 9234, 9444, 2181, 9363,
];

fn add_exposure(f: &mut Finding, e: &Exposure) {
    f.related(Some(e.span), format!("{} publishes it here", e.via));
    for (span, label) in &e.related {
        f.related(Some(*span), label.clone());
    }
}

/// " here", or where a default comes from when the image or an operator
/// ships it (the location is then the line that names the image).
pub(super) fn here(server: &Server, span: crate::source::Span) -> &'static str {
    if server.deploy.is_shipped(span) {
        " by the image's defaults"
    } else {
        " here"
    }
}

fn add_listener(f: &mut Finding, server: &Server, l: &Listener) {
    if let Some(b) = l.exposed_bind() {
        if let Some(span) = b.span {
            f.related(
                Some(span),
                format!("the server listens on `{}`{}", b.addr, here(server, span)),
            );
        }
    }
    f.related(
        Some(l.span),
        format!("`{}` opens port {}{}", l.key, l.port, here(server, l.span)),
    );
}

fn add_user(f: &mut Finding, server: &Server, u: &User) {
    if let Some(a) = u.effective_auth() {
        f.related(
            Some(a.span),
            format!(
                "user `{}` needs no password{}",
                u.name,
                here(server, a.span)
            ),
        );
    }
    match (u.networks.span, u.networks.any_entry()) {
        (_, Some(any)) => {
            f.related(
                Some(any),
                format!("open to every address{}", here(server, any)),
            );
        }
        (None, None) => {
            f.related(
                Some(u.span),
                format!("user `{}` has no `<networks>`", u.name),
            );
        }
        _ => {}
    }
}

/// The first exposure beyond the host or cluster of a client listener that
/// listens beyond loopback.
fn published_client(server: &Server) -> Option<(&Listener, &Exposure)> {
    server
        .client_listeners()
        .filter(|l| l.is_exposed())
        .find_map(|l| server.exposures_of(&l.port).next().map(|e| (l, e)))
}

pub fn unauthenticated_access_from_outside(server: &Server, emit: &mut Emitter) {
    if server.exposures.is_empty() {
        return;
    }
    let mut users: Vec<&User> = server
        .users
        .iter()
        .filter(|u| u.needs_no_secret() && u.networks.is_any())
        .collect();
    users.sort_by_key(|u| u.name != "default");
    let Some(user) = users.first() else {
        return;
    };
    let Some((listener, exposure)) = published_client(server) else {
        return;
    };
    let f = emit.report(
        "CH001",
        exposure.span,
        format!(
            "{} publishes `{}` (port {}) beyond the host or cluster, and user `{}` logs in there without a password from any address: anyone who can reach it gets in",
            exposure.via, listener.key, listener.port, user.name
        ),
        format!(
            "require a secret for `{}` (a password from a Secret or env file, or remove the user) and publish the port only where clients are (bind it to 127.0.0.1, use a ClusterIP or internal Service, or restrict the source ranges)",
            user.name
        ),
    );
    add_user(f, server, user);
    add_listener(f, server, listener);
    // The other ports this line publishes: CH250/CH251 stay silent on it.
    for e in server
        .exposures
        .iter()
        .filter(|e| e.span == exposure.span && reached(server, e.ports).is_some())
    {
        for (span, label) in &e.related {
            f.related(Some(*span), label.clone());
        }
    }
    match &server.deploy.user_setup {
        Some(UserSetup::Skipped { span }) => {
            f.related(Some(*span), "the image's user set-up is skipped here");
        }
        Some(UserSetup::Created { trigger, .. }) => {
            f.related(
                Some(*trigger),
                "the image creates the user from this variable",
            );
        }
        Some(UserSetup::OldImageNothing { span }) => {
            f.related(Some(*span), "this image version leaves `default` open");
        }
        _ => {}
    }
}

/// The user an image rule is about, when it really needs no secret and may
/// connect beyond loopback in the effective configuration.
fn open_user<'a>(server: &'a Server, name: &str) -> Option<&'a User> {
    server
        .users
        .iter()
        .find(|u| u.name == name && u.needs_no_secret() && server.user_reaches_beyond_loopback(u))
}

/// Critical when a client port is published beyond the host or cluster;
/// high when only the container or cluster network reaches it.
fn image_finding<'a>(
    server: &Server,
    emit: &'a mut Emitter,
    code: &str,
    span: crate::source::Span,
    message: String,
    help: &str,
    user: &User,
) -> Option<&'a mut Finding> {
    let listener = server.exposed_client_listener()?;
    let published = published_client(server);
    let f = emit.report(code, span, message, help);
    if published.is_none() {
        f.severity(Severity::High);
    }
    add_user(f, server, user);
    match published {
        Some((l, e)) => {
            add_exposure(f, e);
            f.related(
                Some(l.span),
                format!("`{}` opens port {}{}", l.key, l.port, here(server, l.span)),
            );
        }
        None => add_listener(f, server, listener),
    }
    Some(f)
}

pub fn image_skips_user_setup(server: &Server, emit: &mut Emitter) {
    let Some(UserSetup::Skipped { span }) = &server.deploy.user_setup else {
        return;
    };
    let Some(user) = open_user(server, "default") else {
        return;
    };
    image_finding(
        server,
        emit,
        "CH120",
        *span,
        "`CLICKHOUSE_SKIP_USER_SETUP=1` keeps the image's `default` user, which has no password and accepts connections from any address: drop it and set `CLICKHOUSE_PASSWORD` from a secret, or mount a users.d file that secures `default`".into(),
        "remove `CLICKHOUSE_SKIP_USER_SETUP`, and set `CLICKHOUSE_USER`/`CLICKHOUSE_PASSWORD` (from a Secret or `CLICKHOUSE_PASSWORD_FILE`); or mount `users.d/default.xml` giving `default` a `password_sha256_hex` and `<networks>`",
        user,
    );
}

pub fn image_user_without_password(server: &Server, emit: &mut Emitter) {
    match &server.deploy.user_setup {
        Some(UserSetup::Created {
            user,
            trigger,
            password,
            access_management,
            ..
        }) if !password.is_set() => {
            let Some(u) = open_user(server, user) else {
                return;
            };
            let why = if user != "default" {
                "`CLICKHOUSE_USER` is set"
            } else {
                "`CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT` is set"
            };
            let admin = if access_management.is_some() {
                ", with access management,"
            } else {
                ""
            };
            let f = image_finding(
                server,
                emit,
                "CH121",
                *trigger,
                format!(
                    "the image creates user `{user}`{admin} with an empty password and open to any address because {why} without `CLICKHOUSE_PASSWORD`: set the password from a secret"
                ),
                "set `CLICKHOUSE_PASSWORD` from a Secret (`valueFrom.secretKeyRef`), an env file or `CLICKHOUSE_PASSWORD_FILE`",
                u,
            );
            if let (Some(f), Some(am)) = (f, access_management) {
                f.related(Some(*am), "access management enabled here");
            }
        }
        Some(UserSetup::EmptyPasswordAllowed { span }) => {
            let Some(u) = open_user(server, "default") else {
                return;
            };
            image_finding(
                server,
                emit,
                "CH121",
                *span,
                "`ALLOW_EMPTY_PASSWORD=yes` without `CLICKHOUSE_ADMIN_PASSWORD` leaves the image's `default` user without a password and open to any address: set the password from a secret instead".into(),
                "remove `ALLOW_EMPTY_PASSWORD` and set `CLICKHOUSE_ADMIN_PASSWORD` from a Secret or `CLICKHOUSE_ADMIN_PASSWORD_FILE`",
                u,
            );
        }
        _ => {}
    }
}

pub fn image_default_user_open(server: &Server, emit: &mut Emitter) {
    let Some(UserSetup::OldImageNothing { span }) = &server.deploy.user_setup else {
        return;
    };
    let Some(user) = open_user(server, "default") else {
        return;
    };
    let image = server
        .deploy
        .image
        .as_ref()
        .map(|i| i.reference.as_str())
        .unwrap_or("this image");
    image_finding(
        server,
        emit,
        "CH122",
        *span,
        format!("`{image}` predates the February 2025 entrypoint change, so without `CLICKHOUSE_PASSWORD` its `default` user has no password and accepts any address: set the password from a secret (or upgrade to 25.x)"),
        "set `CLICKHOUSE_PASSWORD` from a Secret or `CLICKHOUSE_PASSWORD_FILE`, or mount a users.d file that gives `default` a `password_sha256_hex` and `<networks>`; images from 25.1 on limit a passwordless `default` to loopback",
        user,
    );
}

/// The listeners an exposure reaches, or the ports it names when the
/// repository does not show the listeners.
fn reached(server: &Server, ports: PortSet) -> Option<String> {
    if server.listeners.is_empty() {
        return match ports {
            PortSet::All => Some("every port".into()),
            _ => KNOWN_PORTS
                .iter()
                .find(|p| ports.contains(**p))
                .map(|p| format!("port {p}")),
        };
    }
    // A process bound to loopback inside the container is not reached
    // through a published port (nor beyond the host with host networking).
    let hit: Vec<&Listener> = server
        .listeners
        .iter()
        .filter(|l| l.is_exposed() && l.port.parse().is_ok_and(|p| ports.contains(p)))
        .collect();
    match (ports, hit.as_slice()) {
        (_, []) => None,
        (PortSet::All, _) => Some(format!(
            "every port the server listens on ({})",
            hit.iter()
                .map(|l| l.port.clone())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        (_, [l]) => Some(format!("`{}` (port {})", l.key, l.port)),
        (_, many) => Some(format!(
            "ports {}",
            many.iter()
                .map(|l| format!("{} (`{}`)", l.port, l.key))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn only_tls(server: &Server, ports: PortSet) -> bool {
    let hit: Vec<&Listener> = server
        .listeners
        .iter()
        .filter(|l| l.port.parse().is_ok_and(|p| ports.contains(p)))
        .collect();
    !hit.is_empty() && hit.iter().all(|l| l.protocol.is_tls())
}

fn exposure_rule(
    server: &Server,
    emit: &mut Emitter,
    code: &str,
    kinds: &[ExposureKind],
    fix: &str,
) {
    // One finding per publishing line (a Service lists several ports).
    let mut groups: Vec<(&Exposure, Vec<PortSet>)> = Vec::new();
    for e in server
        .exposures
        .iter()
        .filter(|e| kinds.contains(&e.kind) && e.reach == crate::model::Reach::Internet)
    {
        match groups
            .iter_mut()
            .find(|(g, _)| g.span == e.span && g.via == e.via)
        {
            Some((_, ports)) => ports.push(e.ports),
            None => groups.push((e, vec![e.ports])),
        }
    }
    for (e, ports) in groups {
        let mut what: Vec<String> = Vec::new();
        for w in ports.iter().filter_map(|p| reached(server, *p)) {
            if !what.contains(&w) {
                what.push(w);
            }
        }
        if what.is_empty() {
            continue;
        }
        let fix = match e.kind {
            ExposureKind::HostNetwork => "drop `network_mode: host` and publish only the ports clients need, on loopback (`127.0.0.1:8123:8123`)",
            ExposureKind::PodHostNetwork => "drop `hostNetwork: true` and reach the pods through a ClusterIP Service",
            ExposureKind::PodHostPort => "drop `hostPort` and reach the pods through a ClusterIP Service",
            ExposureKind::Ingress => "do not route the internet to ClickHouse; if you must, restrict the Ingress to the client networks and require TLS and a password for every user",
            ExposureKind::NodePort => "use a ClusterIP Service (or an internal load balancer) instead of a port on every node",
            _ => fix,
        };
        let f = emit.report(
            code,
            e.span,
            format!(
                "{} makes {} reachable beyond the host or cluster: {fix}",
                e.via,
                match what.as_slice() {
                    [one] => one.clone(),
                    [init @ .., last] => format!("{} and {last}", init.join(", ")),
                    [] => unreachable!("checked non-empty"),
                }
            ),
            fix,
        );
        if ports.iter().all(|p| only_tls(server, *p)) {
            f.severity(Severity::Medium);
        }
        for (span, label) in &e.related {
            f.related(Some(*span), label.clone());
        }
    }
}

pub fn service_exposed_publicly(server: &Server, emit: &mut Emitter) {
    exposure_rule(
        server,
        emit,
        "CH250",
        &[
            ExposureKind::LoadBalancer,
            ExposureKind::NodePort,
            ExposureKind::ExternalIp,
            ExposureKind::Ingress,
            ExposureKind::PodHostPort,
            ExposureKind::PodHostNetwork,
        ],
        "keep ClickHouse behind a ClusterIP Service (or an internal load balancer) and list the client networks in `loadBalancerSourceRanges`",
    );
}

pub fn port_published_all_interfaces(server: &Server, emit: &mut Emitter) {
    exposure_rule(
        server,
        emit,
        "CH251",
        &[ExposureKind::PublishedPort, ExposureKind::HostNetwork],
        "bind it to loopback (`127.0.0.1:` before the host port) or drop it and let other containers use the compose network",
    );
}

pub fn deployment_tls_disabled(server: &Server, emit: &mut Emitter) {
    let Some(tls) = &server.deploy.tls else {
        return;
    };
    if tls.enabled {
        return;
    }
    let Some((listener, exposure)) = server
        .client_listeners()
        .filter(|l| !l.protocol.is_tls() && l.is_exposed())
        .find_map(|l| server.exposures_of(&l.port).next().map(|e| (l, e)))
    else {
        return;
    };
    let how = if tls.span.is_some() {
        format!("`{}` turns TLS off", tls.key)
    } else {
        format!("TLS is off (`{}` defaults to false)", tls.key)
    };
    let f = emit.report(
        "CH350",
        tls.span.unwrap_or(tls.anchor),
        format!(
            "{how} while {} publishes the plaintext `{}` (port {}) beyond the cluster: enable TLS and serve clients on the TLS ports",
            exposure.via, listener.key, listener.port
        ),
        format!("set `{}: true` (with a certificate from cert-manager or a Secret) and stop publishing the plaintext ports", tls.key),
    );
    add_exposure(f, exposure);
}

/// Passwords charts ship as defaults: every install that keeps them shares them.
const CHART_DEFAULTS: [&str; 6] = [
    "27ff0399-0d3a-4bd8-919d-17c2181e6fb9", // SigNoz
    "a1f31e03-c88e-4ca6-a2df-ad49183d15d9", // PostHog
    "otelcollectorpass",                    // ClickStack
    "hyperdx",                              // ClickStack
    "clickhouse_operator_password",         // Altinity operator
    "backup_password",                      // PostHog backup sidecar
];

pub fn secret_in_deployment_file(server: &Server, emit: &mut Emitter) {
    for s in &server.deploy.literal_secrets {
        let note = if CHART_DEFAULTS.contains(&s.value.as_str()) {
            " (a chart default that every install keeping it shares)"
        } else if super::secrets::is_common_password(&s.value) {
            " (and it is a well-known password)"
        } else {
            ""
        };
        let f = emit.report(
            "CH450",
            s.span,
            format!(
                "{} is written literally in this file{note}: take it from a Secret, an env file or a `_FILE` variable instead",
                s.what,
            ),
            "reference a Secret (`valueFrom.secretKeyRef`, `existingSecret`, `password_secret_name`), an env file, or `${VAR}` without a default, and rotate the value that was committed",
        );
        let _ = f;
    }
}
