//! CH1xx: users and authentication.

use super::Emitter;
use crate::finding::Severity;
use crate::model::{AuthKind, Listener, Server, User};

const FIX_NO_PASSWORD: &str = "set a strong secret as `<password_sha256_hex>` (after `<password remove=\"1\"/>`), or restrict `<networks>` to loopback, or remove the user";

/// Related locations that show how the server is reachable.
fn exposure(finding: &mut crate::finding::Finding, listener: &Listener) {
    let bind = listener.exposed_bind();
    finding.related(
        bind.and_then(|b| b.span),
        format!(
            "listens on `{}` here",
            bind.map(|b| b.addr.as_str()).unwrap_or("?")
        ),
    );
    finding.related(
        Some(listener.span),
        format!("`{}` opens port {} here", listener.key, listener.port),
    );
}

fn networks_label(user: &User) -> (Option<crate::source::Span>, String) {
    match (user.networks.span, user.networks.any_entry()) {
        (None, _) => (None, "no `<networks>`: any host may connect".into()),
        (Some(_), Some(any)) => (Some(any), "open to every address here".into()),
        (Some(span), None) => (Some(span), "networks beyond loopback".into()),
    }
}

fn check_no_secret(server: &Server, emit: &mut Emitter, default_user: bool) {
    let Some(listener) = server.exposed_client_listener() else {
        return;
    };
    let code = if default_user { "CH101" } else { "CH102" };
    for user in server
        .users
        .iter()
        .filter(|u| (u.name == "default") == default_user)
    {
        if !user.needs_no_secret() || !server.user_reaches_beyond_loopback(user) {
            continue;
        }
        // The image's user set-up made it so: CH120–CH122 report it there.
        if server.deploy.setup_covers(&user.name) {
            continue;
        }
        let auth = user
            .effective_auth()
            .expect("needs_no_secret implies an auth element");
        let how = if auth.kind == AuthKind::NoSecret && auth.element == "no_password" {
            "is declared `no_password`".to_string()
        } else if auth.element == "password" {
            "has an empty password".to_string()
        } else {
            format!("has `{}` set to the hash of the empty string", auth.element)
        };
        let bind = listener
            .exposed_bind()
            .map(|b| b.addr.clone())
            .unwrap_or_default();
        let from = if user.networks.is_any() {
            "any network"
        } else {
            "networks beyond loopback"
        };
        let (net_span, net_label) = networks_label(user);
        let f = emit.report(
            code,
            auth.span,
            format!(
                "user `{}` {how} and may log in from {from}, and the server listens on `{bind}`: anyone who reaches it gets in",
                user.name
            ),
            FIX_NO_PASSWORD,
        );
        if !user.networks.is_any() {
            f.severity(Severity::High);
        }
        f.related(net_span.or(Some(user.span)), net_label);
        exposure(f, listener);
    }
}

pub fn default_user_without_password(server: &Server, emit: &mut Emitter) {
    check_no_secret(server, emit, true);
}

pub fn user_without_password(server: &Server, emit: &mut Emitter) {
    check_no_secret(server, emit, false);
}

pub fn user_network_unrestricted(server: &Server, emit: &mut Emitter) {
    let Some(listener) = server.exposed_client_listener() else {
        return;
    };
    for user in &server.users {
        if user.needs_no_secret() || user.effective_auth().is_none() || !user.networks.is_any() {
            continue;
        }
        // An image's entrypoint opens the users it creates to every address.
        if server.deploy.setup_covers(&user.name) {
            continue;
        }
        let (net_span, _) = networks_label(user);
        let restricted_rights = user.admin_flags.is_empty()
            && (user.element.child("grants").is_some()
                || user.element.child("allow_databases").is_some()
                || user
                    .element
                    .child("profile")
                    .is_some_and(|p| p.value() == "readonly"));
        let what = match user.networks.span {
            None => "has no `<networks>`, so it may log in from any address",
            Some(_) => "may log in from any address",
        };
        let f = emit.report(
            "CH103",
            net_span.unwrap_or(user.span),
            format!("user `{}` {what} while the server listens beyond loopback", user.name),
            "list the client networks: `<networks replace=\"replace\"><ip>10.0.0.0/8</ip></networks>`",
        );
        if restricted_rights {
            f.severity(Severity::Medium);
        }
        f.related(Some(user.span), "user defined here");
        exposure(f, listener);
    }
}

pub fn access_management_on_exposed_user(server: &Server, emit: &mut Emitter) {
    let Some(listener) = server.exposed_client_listener() else {
        return;
    };
    for user in &server.users {
        if !server.user_reaches_beyond_loopback(user) {
            continue;
        }
        // The flag as an image or operator ships it is not the repository's
        // choice; CH001 and CH120–CH122 report such a user when it is open.
        let Some((flag, span)) = user
            .admin_flags
            .iter()
            .find(|(_, s)| !server.deploy.is_shipped(*s))
        else {
            continue;
        };
        let (net_span, net_label) = networks_label(user);
        let f = emit.report(
            "CH106",
            *span,
            format!(
                "user `{}` has `{flag}` enabled and is reachable beyond loopback: whoever logs in as it can create users and grant any right",
                user.name
            ),
            "set it to 0 for this user and keep an administrator user restricted to admin networks with a strong secret",
        );
        f.related(net_span.or(Some(user.span)), net_label);
        exposure(f, listener);
    }
}

pub fn password_override_shadowed(server: &Server, emit: &mut Emitter) {
    for user in &server.users {
        let [first, .., last] = user.auth.as_slice() else {
            continue;
        };
        let (message, help) = if first.element == last.element {
            (
                format!(
                    "user `{}` has two `<{}>` elements after merging: ClickHouse reads the first one, so this one never applies",
                    user.name, last.element
                ),
                format!("remove the earlier one first: `<{} remove=\"1\"/>` before this element", first.element),
            )
        } else {
            (
                format!(
                    "user `{}` has both `<{}>` and `<{}>` after merging: ClickHouse refuses to load the users file and the server does not start",
                    user.name, first.element, last.element
                ),
                format!("remove the old element in the same override: `<{} remove=\"1\"/>`", first.element),
            )
        };
        emit.report("CH108", last.span, message, help)
            .related(Some(first.span), "this element is still in effect");
    }
}
