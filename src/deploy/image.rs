//! The official ClickHouse images and the Bitnami image: the files they
//! ship, what their entrypoints write from the environment (by image
//! version), and the command-line settings their command passes.
//!
//! Official image (`clickhouse/clickhouse-server`), entrypoint as of the
//! February 2025 change (ClickHouse PRs #75259 and #75316, backported to
//! 24.12 and shipped in 25.1.3):
//! 1. `CLICKHOUSE_SKIP_USER_SETUP=1`: users are left as the files define them;
//! 2. else `CLICKHOUSE_USER` other than `default`, a non-empty
//!    `CLICKHOUSE_PASSWORD` (or `_FILE`), or `CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT`
//!    other than `0`: `users.d/default-user.xml` removes `default` and
//!    defines that user with the password in clear, open to `::/0`;
//! 3. else when mounted files already change `users.default`: nothing;
//! 4. else `default` is limited to `::1` and `127.0.0.1`.
//!
//! Older images only had step 2. Which tags have the new entrypoint is
//! decided conservatively: 25.x, 24.12 and the floating `latest`/`head` tags
//! are new; anything before 24.3 (and every `yandex/` image) is old; the
//! versions between are unknown, and an unknown decision makes no claim.

use std::sync::Arc;

use crate::clickhouse::defaults;
use crate::clickhouse::element::{Element, Node};
use crate::clickhouse::load::{Input, Workspace};
use crate::deploy::container::{
    ensure_path, push, text_element, with_attr, Container, FileSrc, KEEPER_DIR, SERVER_DIR,
};
use crate::model::{Given, Image, ImageFamily, LiteralSecret, ServerKind, UserSetup};
use crate::source::Span;

/// Recognise a ClickHouse or Keeper image reference.
pub fn parse_image(reference: &str, span: Span) -> Option<Image> {
    let reference = reference.trim();
    let (name_tag, digest) = match reference.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (reference, None),
    };
    let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_tag[last_slash..].split_once(':') {
        Some((n, t)) => (&name_tag[..last_slash + n.len()], Some(t)),
        None => (name_tag, None),
    };
    let name = name.to_ascii_lowercase();
    let parts: Vec<&str> = name.split('/').collect();
    let base = *parts.last()?;
    let org = if parts.len() >= 2 {
        parts[parts.len() - 2]
    } else {
        ""
    };
    let family = match base {
        "clickhouse-server" => ImageFamily::Official,
        "clickhouse-keeper" if !org.contains("bitnami") => ImageFamily::OfficialKeeper,
        "clickhouse" if org.contains("bitnami") => ImageFamily::Bitnami,
        "clickhouse" if org.is_empty() || org == "library" => ImageFamily::Official,
        _ => return None,
    };
    let version = if digest.is_some() && tag.is_none() {
        None
    } else {
        tag.and_then(parse_version)
    };
    Some(Image {
        reference: reference.to_string(),
        family,
        version,
        span,
    })
}

/// `25.1.3.23-alpine` → (25, 1).
fn parse_version(tag: &str) -> Option<(u32, u32)> {
    let tag = tag.trim_start_matches('v');
    let mut it = tag.split(['.', '-']);
    let major: u32 = it.next()?.parse().ok()?;
    let minor: u32 = it.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

/// Which entrypoint an image has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Era {
    /// With the February 2025 lockdown of `default`.
    New,
    /// Before it.
    Old,
    Unknown,
}

pub fn era(image: &Image) -> Era {
    let reference = image.reference.to_ascii_lowercase();
    if reference.contains("yandex/") {
        return Era::Old;
    }
    let altinity = reference.contains("altinity/");
    let tag = reference
        .rsplit('/')
        .next()
        .and_then(|n| n.split_once(':'))
        .map(|(_, t)| t.split('@').next().unwrap_or(t).to_string());
    let digest_only = reference.contains('@') && tag.is_none();
    match image.version {
        Some((major, minor)) if (major, minor) < (24, 3) => Era::Old,
        _ if altinity || digest_only => Era::Unknown,
        Some((major, minor)) if major >= 25 || (major, minor) == (24, 12) => Era::New,
        Some(_) => Era::Unknown,
        None => match tag.as_deref() {
            None => Era::New,
            Some(t) if t.starts_with("latest") || t.starts_with("head") || t == "alpine" => {
                Era::New
            }
            _ => Era::Unknown,
        },
    }
}

/// Put the files the image ships into the container (before mounts), blamed
/// on the `image:` line.
pub fn install(ws: &Workspace, c: &mut Container) {
    let Some(image) = c.image.clone() else {
        return;
    };
    // Past the run's bound on servers, nothing is built: nothing to ship.
    if ws.deploy_servers_exhausted() {
        return;
    }
    // The texts are chlint's own: every container's source borrows them.
    let ship = |ws: &Workspace, c: &mut Container, path: &str, name: &str, text: &'static str| {
        let id = ws.add_embedded(name, text, image.span, Vec::new());
        c.shipped.push(id);
        c.fs.put(path, FileSrc::Source(id));
    };
    match image.family {
        ImageFamily::Official => {
            ship(
                ws,
                c,
                &format!("{SERVER_DIR}/config.xml"),
                "config.xml",
                defaults::SERVER_CONFIG,
            );
            ship(
                ws,
                c,
                &format!("{SERVER_DIR}/config.d/docker_related_config.xml"),
                "docker_related_config.xml",
                defaults::DOCKER_LISTEN_CONFIG,
            );
            ship(
                ws,
                c,
                &format!("{SERVER_DIR}/users.xml"),
                "users.xml",
                defaults::USERS_CONFIG,
            );
        }
        ImageFamily::Bitnami => {
            ship(
                ws,
                c,
                &format!("{SERVER_DIR}/config.xml"),
                "config.xml",
                defaults::SERVER_CONFIG,
            );
            ship(
                ws,
                c,
                &format!("{SERVER_DIR}/users.xml"),
                "users.xml",
                defaults::USERS_CONFIG,
            );
        }
        ImageFamily::OfficialKeeper => {
            ship(
                ws,
                c,
                &format!("{KEEPER_DIR}/keeper_config.xml"),
                "keeper_config.xml",
                defaults::KEEPER_CONFIG,
            );
        }
    }
}

/// Where a mount target of the Bitnami image lands: its configuration
/// folders are `/opt/bitnami/clickhouse/etc` (linked as
/// `/etc/clickhouse-server`) and `/bitnami/clickhouse/etc` (copied over it
/// at start).
pub fn container_path(c: &Container, target: &str) -> String {
    let target = crate::deploy::container::normalize(target);
    if c.image
        .as_ref()
        .is_some_and(|i| i.family == ImageFamily::Bitnami)
    {
        for prefix in ["/opt/bitnami/clickhouse/etc", "/bitnami/clickhouse/etc"] {
            if let Some(rest) = target.strip_prefix(prefix) {
                return format!("{SERVER_DIR}{rest}");
            }
        }
    }
    target
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tri {
    Yes,
    No,
    Unknown,
}

fn or3(parts: &[Tri]) -> Tri {
    if parts.contains(&Tri::Yes) {
        Tri::Yes
    } else if parts.contains(&Tri::Unknown) {
        Tri::Unknown
    } else {
        Tri::No
    }
}

/// Does the image's entrypoint run its user set-up at all?
fn entrypoint_runs(c: &Container) -> bool {
    match &c.command {
        None => true,
        Some(args) => args.first().is_none_or(|(a, _)| a.starts_with("--")),
    }
}

/// Simulate the entrypoint's user set-up and put what it writes into the
/// container. `default_changed`: mounted files already change
/// `users.default`.
pub fn user_setup(ws: &Workspace, c: &mut Container, default_changed: bool) -> UserSetup {
    let Some(image) = c.image.clone() else {
        return UserSetup::Unknown;
    };
    if !entrypoint_runs(c) {
        return UserSetup::Unknown;
    }
    match image.family {
        ImageFamily::Official => official(c, &image, default_changed),
        ImageFamily::Bitnami => bitnami(ws, c),
        ImageFamily::OfficialKeeper => UserSetup::Unknown,
    }
}

fn official(c: &mut Container, image: &Image, default_changed: bool) -> UserSetup {
    let env = &c.env;
    let skip = match env.get("CLICKHOUSE_SKIP_USER_SETUP") {
        Some((Given::Literal(v), span)) if v.trim() == "1" => Some(span),
        Some((Given::External, _)) => return UserSetup::Unknown,
        _ => None,
    };
    let user = env.get("CLICKHOUSE_USER");
    let (user_name, user_span, user_other) = match &user {
        None => ("default".to_string(), None, Tri::No),
        Some((Given::Literal(u), s)) if u.is_empty() || u == "default" => {
            ("default".to_string(), Some(*s), Tri::No)
        }
        Some((Given::Literal(u), s)) => (u.clone(), Some(*s), Tri::Yes),
        Some((Given::External, s)) => ("${CLICKHOUSE_USER}".to_string(), Some(*s), Tri::Unknown),
    };
    let (password, password_span) = match env.get("CLICKHOUSE_PASSWORD_FILE") {
        Some((g, s)) if g.is_set() => (Given::External, Some(s)),
        _ => match env.get("CLICKHOUSE_PASSWORD") {
            Some((g, s)) => (g, Some(s)),
            None => (Given::Literal(String::new()), None),
        },
    };
    let password_set = if password.is_set() { Tri::Yes } else { Tri::No };
    let (access, access_span) = match env.get("CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT") {
        None => (Tri::No, None),
        Some((Given::Literal(v), s)) if v.trim().is_empty() || v.trim() == "0" => {
            (Tri::No, Some(s))
        }
        Some((Given::Literal(_), s)) => (Tri::Yes, Some(s)),
        Some((Given::External, s)) => (Tri::Unknown, Some(s)),
    };
    let access_value = match env.get("CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT") {
        Some((Given::Literal(v), _)) if !v.trim().is_empty() => v.trim().to_string(),
        _ => "0".to_string(),
    };
    let create = or3(&[user_other, password_set, access]);
    let era = era(image);
    let decision = match (era, skip.is_some(), create) {
        (Era::New, true, _) | (Era::Unknown, true, Tri::No) => Decision::Skip,
        (Era::Unknown, true, _) => Decision::Unknown,
        (_, _, Tri::Unknown) => Decision::Unknown,
        (_, _, Tri::Yes) => Decision::Create,
        (_, _, Tri::No) if default_changed => Decision::Files,
        (Era::New, _, Tri::No) => Decision::Restrict,
        (Era::Old, _, Tri::No) => Decision::Nothing,
        (Era::Unknown, _, Tri::No) => Decision::Unknown,
    };
    let users_d = format!("{SERVER_DIR}/users.d/default-user.xml");
    match decision {
        Decision::Skip => UserSetup::Skipped {
            span: skip.expect("skip decided on a span"),
        },
        Decision::Unknown => UserSetup::Unknown,
        Decision::Files => UserSetup::LeftToFiles,
        Decision::Nothing => UserSetup::OldImageNothing { span: image.span },
        Decision::Restrict => {
            let span = image.span;
            let mut root = Element::new("clickhouse", span);
            let networks = ensure_path(&mut root, "users/default/networks", span);
            push(networks, text_element("ip", "::1", span, span));
            push(networks, text_element("ip", "127.0.0.1", span, span));
            c.fs.put(&users_d, FileSrc::Tree(root));
            UserSetup::DefaultRestricted { span }
        }
        Decision::Create => {
            let trigger = [
                (user_other == Tri::Yes).then_some(user_span).flatten(),
                (password_set == Tri::Yes)
                    .then_some(password_span)
                    .flatten(),
                (access == Tri::Yes).then_some(access_span).flatten(),
            ]
            .into_iter()
            .flatten()
            .next()
            .unwrap_or(image.span);
            let mut root = Element::new("clickhouse", trigger);
            let users = ensure_path(&mut root, "users", trigger);
            push(
                users,
                with_attr(Element::new("default", trigger), "remove", "remove"),
            );
            let mut user = Element::new(&user_name, user_span.unwrap_or(trigger));
            push(
                &mut user,
                text_element("profile", "default", trigger, trigger),
            );
            let mut networks = Element::new("networks", trigger);
            push(&mut networks, text_element("ip", "::/0", trigger, trigger));
            push(&mut user, networks);
            let pw_span = password_span.unwrap_or(trigger);
            let pw = match &password {
                Given::Literal(v) => text_element("password", v, pw_span, pw_span),
                Given::External => with_attr(
                    Element::new("password", pw_span),
                    "from_env",
                    "CLICKHOUSE_PASSWORD",
                ),
            };
            push(&mut user, pw);
            push(
                &mut user,
                text_element("quota", "default", trigger, trigger),
            );
            let am_span = access_span.unwrap_or(trigger);
            push(
                &mut user,
                text_element("access_management", &access_value, am_span, am_span),
            );
            users.children.push(Node::Element(user));
            c.fs.put(&users_d, FileSrc::Tree(root));
            UserSetup::Created {
                user: user_name,
                trigger,
                password,
                password_span,
                access_management: (access == Tri::Yes).then_some(access_span).flatten(),
            }
        }
    }
}

enum Decision {
    Skip,
    Create,
    Files,
    Restrict,
    Nothing,
    Unknown,
}

fn bitnami(ws: &Workspace, c: &mut Container) -> UserSetup {
    let env = &c.env;
    let admin = match env.get("CLICKHOUSE_ADMIN_USER") {
        None => "default".to_string(),
        Some((Given::Literal(u), _)) if u.is_empty() => "default".to_string(),
        Some((Given::Literal(u), _)) => u,
        Some((Given::External, _)) => return UserSetup::Unknown,
    };
    let (password, password_span) = match env.get("CLICKHOUSE_ADMIN_PASSWORD_FILE") {
        Some((g, s)) if g.is_set() => (Given::External, Some(s)),
        _ => match env.get("CLICKHOUSE_ADMIN_PASSWORD") {
            Some((g, s)) => (g, Some(s)),
            None => (Given::Literal(String::new()), None),
        },
    };
    let allow_empty = match env.get("ALLOW_EMPTY_PASSWORD") {
        Some((Given::Literal(v), s))
            if matches!(v.trim().to_ascii_lowercase().as_str(), "yes" | "true" | "1") =>
        {
            Some(s)
        }
        Some((Given::External, _)) if !password.is_set() => return UserSetup::Unknown,
        _ => None,
    };
    let Some(image) = c.image.clone() else {
        return UserSetup::Unknown;
    };
    if !password.is_set() && allow_empty.is_none() {
        // The container refuses to start without a password.
        return UserSetup::Unknown;
    }
    let trigger = password_span.or(allow_empty).unwrap_or(image.span);
    let password_element = |span: Span| match &password {
        Given::Literal(v) => text_element("password", v, span, span),
        Given::External => with_attr(
            Element::new("password", span),
            "from_env",
            "CLICKHOUSE_ADMIN_PASSWORD",
        ),
    };
    // users.xml reads `default`'s password from CLICKHOUSE_ADMIN_PASSWORD.
    let users_xml = format!("{SERVER_DIR}/users.xml");
    if let Some(FileSrc::Source(id)) = c.fs.get(&users_xml).cloned() {
        if c.shipped.contains(&id) {
            if let Some(mut root) = ws.root_of_source(id).map(Arc::unwrap_or_clone) {
                let user = ensure_path(&mut root, "users/default", image.span);
                user.children
                    .retain(|n| !matches!(n, Node::Element(e) if e.name == "password"));
                user.children
                    .insert(0, Node::Element(password_element(trigger)));
                c.fs.put(&users_xml, FileSrc::Tree(root));
            }
        }
    }
    if admin != "default" {
        let mut root = Element::new("clickhouse", trigger);
        let users = ensure_path(&mut root, "users", trigger);
        push(
            users,
            with_attr(Element::new("default", trigger), "remove", "remove"),
        );
        let mut user = Element::new(&admin, trigger);
        push(
            &mut user,
            text_element("profile", "default", trigger, trigger),
        );
        push(&mut user, password_element(trigger));
        let mut networks = Element::new("networks", trigger);
        push(&mut networks, text_element("ip", "::/0", trigger, trigger));
        push(&mut user, networks);
        push(
            &mut user,
            text_element("quota", "default", trigger, trigger),
        );
        // The image grants its admin user access management by design.
        let id = ws.add_embedded(
            "bitnami-admin.xml",
            "<access_management>1</access_management>",
            image.span,
            Vec::new(),
        );
        c.shipped.push(id);
        if let Some(flag) = ws.root_of_source(id).map(Arc::unwrap_or_clone) {
            push(&mut user, flag);
        }
        users.children.push(Node::Element(user));
        c.fs.put(
            &format!("{SERVER_DIR}/users.d/__bitnami_default_user.xml"),
            FileSrc::Tree(root),
        );
    }
    match (password.is_set(), allow_empty) {
        (false, Some(span)) => UserSetup::EmptyPasswordAllowed { span },
        _ => UserSetup::Created {
            user: admin,
            trigger,
            password,
            password_span,
            access_management: None,
        },
    }
}

/// The settings a command passes after `--` (`--listen_host=0.0.0.0`), as a
/// configuration layer that overrides the files. The Bitnami image's own
/// command passes `--listen_host=0.0.0.0`: that layer is shipped.
pub fn args_input(ws: &Workspace, c: &mut Container) -> Option<Input> {
    let args = match &c.command {
        Some(a) => a,
        None => {
            let image = c.image.as_ref()?;
            if image.family != ImageFamily::Bitnami {
                return None;
            }
            let id = ws.add_embedded(
                "bitnami-command.xml",
                "<clickhouse>\n    <listen_host>0.0.0.0</listen_host>\n</clickhouse>\n",
                image.span,
                Vec::new(),
            );
            c.shipped.push(id);
            return Some(Input::Source(id));
        }
    };
    let start = args.iter().position(|(a, _)| a == "--")? + 1;
    let anchor = args[start - 1].1;
    let mut root = Element::new("clickhouse", anchor);
    let mut any = false;
    let mut i = start;
    while i < args.len() {
        let (arg, span) = &args[i];
        i += 1;
        let Some(setting) = arg.strip_prefix("--") else {
            continue;
        };
        let (key, value) = match setting.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => match args.get(i) {
                Some((v, _)) if !v.starts_with("--") => {
                    i += 1;
                    (setting.to_string(), v.clone())
                }
                _ => (setting.to_string(), String::new()),
            },
        };
        if key.is_empty() {
            continue;
        }
        let path = key.replace('.', "/");
        let (parent, leaf) = path.rsplit_once('/').unwrap_or(("", &path));
        let parent = ensure_path(&mut root, parent, *span);
        push(parent, text_element(leaf, &value, *span, *span));
        any = true;
    }
    any.then_some(Input::Tree(root))
}

/// Passwords the environment gives literally.
pub fn env_secrets(c: &Container) -> Vec<LiteralSecret> {
    let names: &[&str] = match c.image.as_ref().map(|i| i.family) {
        Some(ImageFamily::Bitnami) => &["CLICKHOUSE_ADMIN_PASSWORD"],
        Some(_) => &["CLICKHOUSE_PASSWORD"],
        None => &[],
    };
    names
        .iter()
        .filter_map(|n| {
            let v = c.env.written(n)?;
            match &v.value {
                Given::Literal(value) if !value.is_empty() => Some(LiteralSecret {
                    span: v.span,
                    what: format!("`{n}` in the environment of {}", c.unit_label()),
                    value: value.clone(),
                }),
                _ => None,
            }
        })
        .collect()
}

/// Is this container a Keeper (by image)?
pub fn kind_of(image: &Image) -> ServerKind {
    match image.family {
        ImageFamily::OfficialKeeper => ServerKind::Keeper,
        _ => ServerKind::Server,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceId;

    fn img(r: &str) -> Option<Image> {
        parse_image(r, Span::new(SourceId(0), 0, 0))
    }

    #[test]
    fn recognises_images_and_versions() {
        assert_eq!(
            img("clickhouse/clickhouse-server:24.3.2-alpine")
                .unwrap()
                .version,
            Some((24, 3))
        );
        assert_eq!(
            img("docker.io/clickhouse/clickhouse-server")
                .unwrap()
                .family,
            ImageFamily::Official
        );
        assert_eq!(
            img("bitnami/clickhouse:24.8").unwrap().family,
            ImageFamily::Bitnami
        );
        assert_eq!(
            img("clickhouse:25.3").unwrap().family,
            ImageFamily::Official
        );
        assert_eq!(
            img("clickhouse/clickhouse-keeper:25.3").unwrap().family,
            ImageFamily::OfficialKeeper
        );
        assert!(img("nginx:1.23").is_none());
        assert!(img("posthog/clickhouse-exporter").is_none());
        assert!(img("registry.local:5000/clickhouse/clickhouse-server:25.1").is_some());
    }

    #[test]
    fn entrypoint_era_by_tag() {
        let e = |r: &str| era(&img(r).unwrap());
        assert_eq!(e("yandex/clickhouse-server:21.6.5"), Era::Old);
        assert_eq!(e("clickhouse/clickhouse-server:23.8"), Era::Old);
        assert_eq!(e("clickhouse/clickhouse-server:24.8"), Era::Unknown);
        assert_eq!(e("clickhouse/clickhouse-server:24.12"), Era::New);
        assert_eq!(e("clickhouse/clickhouse-server:25.1.3.23"), Era::New);
        assert_eq!(e("clickhouse/clickhouse-server"), Era::New);
        assert_eq!(e("clickhouse/clickhouse-server:latest-alpine"), Era::New);
        assert_eq!(e("clickhouse/clickhouse-server@sha256:abcd"), Era::Unknown);
        assert_eq!(
            e("altinity/clickhouse-server:24.8.14.10459.altinitystable"),
            Era::Unknown
        );
    }
}
