//! Helm values of the charts that deploy ClickHouse (deployment-formats.md
//! §2), lowered into the same model:
//! - Bitnami `clickhouse` (the 9.x layout and the ≤ 8.x one): the image and
//!   its admin user from `auth.*`, embedded configuration (`configdFiles`,
//!   `usersdFiles`, `extraOverrides`, `usersExtraOverrides`), the Service,
//!   `externalAccess`, the Ingress, `tls.enabled`;
//! - Altinity `clickhouse` (renders a ClickHouseInstallation), its EKS
//!   sibling, and the charts that bundle an Altinity installation (SigNoz,
//!   PostHog): lowered as the installation they render;
//! - ClickStack (renders a ClickHouse Inc `ClickHouseCluster` from
//!   `clickhouse.cluster.spec`).
//!
//! A values file is recognised next to a `Chart.yaml` (its own values, or
//! a subchart's under the dependency's name or alias), or, without one, by
//! the keys only these charts have. Keys a file omits take the chart's
//! defaults. Strings holding template actions (`{{ … }}`) are rendered by
//! Helm from other values: they count as set from outside.

use std::path::Path;

use super::container::{build_server, Container, EnvVar, FileSrc, SERVER_DIR};
use super::k8s::{self, Object};
use super::value::{Entry, Kind, Value};
use super::{embed, image, operator, DeployOutput};
use crate::clickhouse::load::Workspace;
use crate::model::{
    Exposure, ExposureKind, Given, Image, ImageFamily, LiteralSecret, PortSet, Reach, ServerKind,
    TlsSetting, Unit,
};
use crate::source::Span;

/// The charts chlint knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chart {
    Bitnami,
    Altinity,
    AltinityEks,
    /// SigNoz's and PostHog's `clickhouse` (an Altinity installation from
    /// `user`, `password`, `allowedNetworkIps`).
    BundledAltinity,
    ClickStack,
}

impl Chart {
    fn label(self) -> &'static str {
        match self {
            Chart::Bitnami => "the Bitnami clickhouse chart",
            Chart::Altinity => "the Altinity clickhouse chart",
            Chart::AltinityEks => "the Altinity clickhouse-eks chart",
            Chart::BundledAltinity => "a chart bundling an Altinity ClickHouseInstallation",
            Chart::ClickStack => "the ClickStack chart",
        }
    }
}

/// Named like a values file.
pub fn is_values_name(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.starts_with("values") && (name.ends_with(".yaml") || name.ends_with(".yml"))
}

fn repo_is_clickhouse(v: &Value) -> bool {
    v.str_at("image.repository")
        .or_else(|| v.str_at("image"))
        .is_some_and(|r| r.contains("clickhouse"))
}

/// Which chart these values (a file, or a subchart's section) are for.
pub fn detect(v: &Value) -> Option<Chart> {
    if !v.is_map() {
        return None;
    }
    if v.path("clickhouse.defaultUser").is_some_and(Value::is_map) {
        return Some(Chart::Altinity);
    }
    if v.path("clickhouse.service_type").is_some() || v.path("clickhouse.keeper_name").is_some() {
        return Some(Chart::AltinityEks);
    }
    if v.get("hyperdx").is_some_and(Value::is_map) && v.path("clickhouse.cluster.spec").is_some() {
        return Some(Chart::ClickStack);
    }
    let bitnami_keys = [
        "shards",
        "configdFiles",
        "usersdFiles",
        "defaultConfigurationOverrides",
        "usersExtraOverrides",
    ];
    let repository = v.str_at("image.repository");
    let bitnami_image = repository.is_some_and(|r| r.rsplit('/').next() == Some("clickhouse"));
    if v.path("auth.username").is_some()
        && (repository.is_none() || bitnami_image)
        && (bitnami_image || bitnami_keys.iter().filter(|k| v.get(k).is_some()).count() >= 2)
    {
        return Some(Chart::Bitnami);
    }
    if v.get("user").is_some()
        && (v.get("password").is_some() || v.get("existingSecret").is_some())
        && (v.get("allowedNetworkIps").is_some() || v.get("cluster").is_some())
        && repo_is_clickhouse(v)
    {
        return Some(Chart::BundledAltinity);
    }
    None
}

/// Strings with template actions become values from outside.
pub fn detemplate(v: &Value) -> Value {
    let kind = match &v.kind {
        Kind::Str(s) if s.contains("{{") => Kind::External("a template".into()),
        Kind::List(items) => Kind::List(items.iter().map(detemplate).collect()),
        Kind::Map(entries) => Kind::Map(
            entries
                .iter()
                .map(|e| Entry {
                    key: e.key.clone(),
                    key_span: e.key_span,
                    value: detemplate(&e.value),
                })
                .collect(),
        ),
        k => k.clone(),
    };
    Value::new(kind, v.span)
}

/// Where values sit: the file, the section of a subchart.
pub struct Section<'a> {
    pub values: &'a Value,
    pub path: &'a Path,
    /// The key of a subchart's section (`clickhouse.`), or "".
    pub prefix: String,
    /// Where to point when a default applies.
    pub anchor: Span,
}

impl Section<'_> {
    fn key(&self, k: &str) -> String {
        format!("{}{k}", self.prefix)
    }
}

/// Lower one chart's values.
pub fn lower(ws: &Workspace, chart: Chart, section: &Section, out: &mut DeployOutput) {
    let v = detemplate(section.values);
    match chart {
        Chart::Bitnami => bitnami(ws, &v, section, out),
        Chart::Altinity => altinity(ws, &v, section, out),
        Chart::AltinityEks => eks(ws, &v, section, out),
        Chart::BundledAltinity => bundled(ws, &v, section, out),
        Chart::ClickStack => clickstack(ws, &v, section, out),
    }
}

// ---------------------------------------------------------------------------
// Small builders for synthesised resources.

fn s(text: &str, span: Span) -> Value {
    Value::new(Kind::Str(text.to_string()), span)
}

fn map(entries: Vec<(&str, Value)>, span: Span) -> Value {
    Value::new(
        Kind::Map(
            entries
                .into_iter()
                .map(|(k, v)| Entry {
                    key: k.to_string(),
                    key_span: v.span,
                    value: v,
                })
                .collect(),
        ),
        span,
    )
}

fn list(items: Vec<Value>, span: Span) -> Value {
    Value::new(Kind::List(items), span)
}

fn literal(v: Option<&Value>) -> Option<(&str, Span)> {
    let v = v?;
    v.as_str().filter(|s| !s.is_empty()).map(|s| (s, v.span))
}

fn secret(section: &Section, key: &str, value: &str, span: Span) -> LiteralSecret {
    LiteralSecret {
        span,
        what: format!("`{}` in the Helm values", section.key(key)),
        value: value.to_string(),
    }
}

fn object(kind: &str, name: &str, spec: Value, section: &Section) -> Object {
    let anchor = section.anchor;
    Object {
        kind: kind.into(),
        name: name.into(),
        namespace: None,
        value: map(
            vec![
                ("metadata", map(vec![("name", s(name, anchor))], anchor)),
                ("spec", spec),
            ],
            anchor,
        ),
        path: section.path.to_path_buf(),
    }
}

fn what(chart: Chart, _section: &Section) -> String {
    format!("the Helm values of {}", chart.label())
}

/// A service template from a chart's `service`-like section.
fn service_template(
    name: &str,
    ty: Value,
    extra: Vec<(&str, Value)>,
    ports: &[(&str, u16)],
    anchor: Span,
) -> Value {
    let mut spec = vec![("type", ty)];
    spec.extend(extra);
    spec.push((
        "ports",
        list(
            ports
                .iter()
                .map(|(n, p)| {
                    map(
                        vec![("name", s(n, anchor)), ("port", s(&p.to_string(), anchor))],
                        anchor,
                    )
                })
                .collect(),
            anchor,
        ),
    ));
    map(
        vec![("name", s(name, anchor)), ("spec", map(spec, anchor))],
        anchor,
    )
}

// ---------------------------------------------------------------------------
// Bitnami.

fn bitnami(ws: &Workspace, v: &Value, section: &Section, out: &mut DeployOutput) {
    let anchor = section.anchor;
    let registry = v.str_at("image.registry").unwrap_or("docker.io");
    let repository = v.str_at("image.repository").unwrap_or("bitnami/clickhouse");
    let reference = match v.str_at("image.tag") {
        Some(t) => format!("{registry}/{repository}:{t}"),
        None => format!("{registry}/{repository}"),
    };
    let image_span = v
        .path("image.tag")
        .or_else(|| v.path("image.repository"))
        .map_or(anchor, |x| x.span);
    let img = image::parse_image(&reference, image_span).unwrap_or(Image {
        reference,
        family: ImageFamily::Bitnami,
        version: None,
        span: image_span,
    });
    let dir = section
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let label = format!(
        "{} ({})",
        what(Chart::Bitnami, section),
        crate::source::display_path(section.path)
    );
    let mut c = Container::new(
        ServerKind::Server,
        label.clone(),
        dir,
        Unit {
            kind: "Helm values".into(),
            name: "bitnami/clickhouse".into(),
            span: anchor,
        },
    );
    c.image = Some(img);
    // The admin user and its password, as the chart passes them.
    if let Some((user, span)) = literal(v.path("auth.username")) {
        c.env.vars.push(EnvVar {
            name: "CLICKHOUSE_ADMIN_USER".into(),
            value: Given::Literal(user.into()),
            span,
        });
    }
    let (password, span) = if let Some((_, span)) = literal(v.path("auth.existingSecret")) {
        (Given::External, span)
    } else if let Some((pw, span)) = literal(v.path("auth.password")) {
        c.literal_secrets
            .push(secret(section, "auth.password", pw, span));
        (Given::Literal(pw.into()), span)
    } else {
        // An empty password: the chart generates a random one into a Secret.
        (
            Given::External,
            v.path("auth.password").map_or(anchor, |p| p.span),
        )
    };
    c.env.vars.push(EnvVar {
        name: "CLICKHOUSE_ADMIN_PASSWORD".into(),
        value: password,
        span,
    });
    image::install(ws, &mut c);
    // Embedded configuration.
    let mut put_text =
        |ws: &Workspace, c: &mut Container, target: &str, name: &str, value: &Value| match &value
            .kind
        {
            // ClickHouse reads no other file from its folders (a chart's
            // `configdFiles: {README.txt: …}` is no configuration).
            Kind::Str(_) if !crate::clickhouse::load::is_merge_file_name(name) => {}
            Kind::Str(text) if !text.trim().is_empty() => {
                let id = embed::register(ws, name, text, value.span, true);
                c.fs.put(target, FileSrc::Source(id));
                if let Some(note @ crate::clickhouse::load::ConfigNote::Invalid { .. }) =
                    ws.failure_of_source(id)
                {
                    out.notes.push(note);
                }
            }
            Kind::External(_) => c.fs.put(
                target,
                FileSrc::Opaque {
                    span: value.span,
                    what: "a template rendered by the chart".into(),
                },
            ),
            _ => {}
        };
    for (key, sub) in [("configdFiles", "config.d"), ("usersdFiles", "users.d")] {
        for e in v.get(key).map(Value::entries).unwrap_or_default() {
            put_text(
                ws,
                &mut c,
                &format!("{SERVER_DIR}/{sub}/{}", e.key),
                &e.key,
                &e.value,
            );
        }
    }
    for (key, target) in [
        (
            "defaultConfigurationOverrides",
            "config.d/00_default_overrides.xml",
        ),
        ("extraOverrides", "config.d/01_extra_overrides.xml"),
        (
            "usersExtraOverrides",
            "users.d/01_users_extra_overrides.xml",
        ),
    ] {
        if let Some(text) = v.get(key) {
            let name = target.rsplit('/').next().unwrap_or(target);
            put_text(ws, &mut c, &format!("{SERVER_DIR}/{target}"), name, text);
        }
    }
    for (key, target, dir) in [
        ("existingConfigdConfigmap", "config.d", true),
        ("existingUsersdConfigmap", "users.d", true),
        ("existingUsersdSecret", "users.d", true),
        (
            "extraOverridesConfigmap",
            "config.d/01_extra_overrides.xml",
            false,
        ),
        (
            "extraOverridesSecret",
            "config.d/01_extra_overrides.xml",
            false,
        ),
        (
            "usersExtraOverridesConfigmap",
            "users.d/01_users_extra_overrides.xml",
            false,
        ),
        (
            "usersExtraOverridesSecret",
            "users.d/01_users_extra_overrides.xml",
            false,
        ),
    ] {
        if let Some((name, span)) = literal(v.get(key)) {
            let what = format!(
                "`{}` (`{name}`), which is not in these values",
                section.key(key)
            );
            if dir {
                c.fs.mount_opaque_dir(&format!("{SERVER_DIR}/{target}"), span, what);
            } else {
                c.fs.put(
                    &format!("{SERVER_DIR}/{target}"),
                    FileSrc::Opaque { span, what },
                );
            }
        }
    }
    // The Service, per-replica external access (≤ 8.x), the Ingress.
    let tls_on = v.bool_at("tls.enabled") == Some(true);
    let target = |name: &str, default: u16| -> u16 {
        v.str_at(&format!("containerPorts.{name}"))
            .and_then(|p| p.parse().ok())
            .unwrap_or(default)
    };
    let mut ports = vec![("http", target("http", 8123)), ("tcp", target("tcp", 9000))];
    if v.bool_at("exposeMysql") != Some(false) {
        ports.push(("mysql", target("mysql", 9004)));
    }
    if v.bool_at("exposePostgresql") != Some(false) {
        ports.push(("postgresql", target("postgresql", 9005)));
    }
    ports.push(("interserver", target("interserver", 9009)));
    if tls_on {
        ports.push(("https", target("https", 8443)));
        ports.push(("tcpSecure", target("tcpSecure", 9440)));
    }
    let empty = Value::new(Kind::Map(Vec::new()), anchor);
    let service = v.get("service").unwrap_or(&empty);
    let mut exposures = chart_service(
        service,
        service.get("annotations"),
        &format!("the chart's Service (`{}`)", section.key("service.type")),
        &ports,
        anchor,
    );
    if v.bool_at("externalAccess.enabled") == Some(true) {
        let ea = v.path("externalAccess.service").unwrap_or(&empty);
        // Its type defaults to LoadBalancer.
        let mut ea_spec = ea.clone();
        if ea.get("type").is_none() {
            let at = v.path("externalAccess.enabled").map_or(anchor, |x| x.span);
            if let Kind::Map(m) = &mut ea_spec.kind {
                m.push(Entry {
                    key: "type".into(),
                    key_span: at,
                    value: s("LoadBalancer", at),
                });
            }
        }
        exposures.extend(chart_service(
            &ea_spec,
            ea.get("annotations"),
            &format!(
                "the per-replica Services of `{}`",
                section.key("externalAccess")
            ),
            &ports,
            anchor,
        ));
    }
    if let Some(e) = v.path("ingress.enabled").filter(|e| e.is_true()) {
        exposures.push(Exposure {
            ports: PortSet::One(target("http", 8123)),
            reach: Reach::Internet,
            kind: ExposureKind::Ingress,
            via: format!("the chart's Ingress (`{}`)", section.key("ingress.enabled")),
            span: e.span,
            related: Vec::new(),
        });
    }
    c.exposures = exposures;
    let tls = v.path_entry("tls.enabled");
    c.tls = Some(TlsSetting {
        enabled: tls_on,
        span: tls.map(|e| e.value.span),
        anchor,
        key: section.key("tls.enabled"),
    });
    if let Some(server) = build_server(ws, c, &mut out.notes) {
        out.push_server(server);
    }
}

/// Exposures of a chart's Service section (`type`, `loadBalancerSourceRanges`).
fn chart_service(
    service: &Value,
    annotations: Option<&Value>,
    via: &str,
    ports: &[(&str, u16)],
    anchor: Span,
) -> Vec<Exposure> {
    let mut out = Vec::new();
    for (kind, reach, span, why) in k8s::service_reach(service, annotations, anchor) {
        let ty = service.str_at("type").unwrap_or("ClusterIP");
        for (_, port) in ports {
            out.push(Exposure {
                ports: PortSet::One(*port),
                reach,
                kind,
                via: format!("{via} ({ty}, {why})"),
                span,
                related: Vec::new(),
            });
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Charts that render an Altinity ClickHouseInstallation.

fn pod_template(image: Option<Value>, anchor: Span) -> Value {
    let mut container = vec![("name", s("clickhouse", anchor))];
    if let Some(i) = image {
        container.push(("image", i));
    }
    map(
        vec![
            ("name", s("chart-pod", anchor)),
            (
                "spec",
                map(
                    vec![("containers", list(vec![map(container, anchor)], anchor))],
                    anchor,
                ),
            ),
        ],
        anchor,
    )
}

fn image_value(v: &Value, repo_key: &str, tag_key: &str) -> Option<Value> {
    let repo = v.path(repo_key)?;
    let r = repo.as_str()?;
    Some(match v.str_at(tag_key) {
        Some(t) => s(
            &format!("{r}:{t}"),
            v.path(tag_key).map_or(repo.span, |x| x.span),
        ),
        None => s(r, repo.span),
    })
}

fn chi_spec(
    users: Vec<(String, Value)>,
    extra_config: Vec<(&str, Value)>,
    service_templates: Vec<Value>,
    image: Option<Value>,
    anchor: Span,
) -> Value {
    let users = Value::new(
        Kind::Map(
            users
                .into_iter()
                .map(|(k, v)| Entry {
                    key: k,
                    key_span: v.span,
                    value: v,
                })
                .collect(),
        ),
        anchor,
    );
    let mut configuration = vec![("users", users)];
    configuration.extend(extra_config);
    let mut defaults = vec![("podTemplate", s("chart-pod", anchor))];
    let names: Vec<Value> = service_templates
        .iter()
        .filter_map(|t| t.get("name").cloned())
        .collect();
    if !names.is_empty() {
        defaults.push(("serviceTemplates", list(names, anchor)));
    }
    map(
        vec![
            (
                "defaults",
                map(vec![("templates", map(defaults, anchor))], anchor),
            ),
            ("configuration", map(configuration, anchor)),
            (
                "templates",
                map(
                    vec![
                        (
                            "podTemplates",
                            list(vec![pod_template(image, anchor)], anchor),
                        ),
                        ("serviceTemplates", list(service_templates, anchor)),
                    ],
                    anchor,
                ),
            ),
        ],
        anchor,
    )
}

fn altinity(ws: &Workspace, v: &Value, section: &Section, out: &mut DeployOutput) {
    let anchor = section.anchor;
    let ch = v
        .get("clickhouse")
        .cloned()
        .unwrap_or(Value::new(Kind::Map(Vec::new()), anchor));
    let mut secrets = Vec::new();
    let mut users: Vec<(String, Value)> = Vec::new();
    // The chart's default user: password from its Secret, networks from
    // `hostIP` or, with `allowExternalAccess`, 0.0.0.0/0; admin rights always.
    if let Some((pw, span)) = literal(ch.path("defaultUser.password")) {
        secrets.push(secret(section, "clickhouse.defaultUser.password", pw, span));
        users.push(("default/password".into(), s(pw, span)));
    } else if let Some((_, span)) = literal(ch.path("defaultUser.password_secret_name")) {
        users.push((
            "default/password".into(),
            Value::new(Kind::External("a Secret".into()), span),
        ));
    } else if let Some(p) = ch.path("defaultUser.password").filter(|p| p.is_external()) {
        // Rendered from elsewhere (a template, a Terraform variable).
        users.push(("default/password".into(), p.clone()));
    }
    match ch
        .path("defaultUser.allowExternalAccess")
        .filter(|x| x.is_true())
    {
        Some(x) => users.push(("default/networks/ip".into(), s("0.0.0.0/0", x.span))),
        None => {
            if let Some(ip) = ch
                .path("defaultUser.hostIP")
                .filter(|x| x.as_str().is_some())
            {
                users.push(("default/networks/ip".into(), ip.clone()));
            }
        }
    }
    let du_span = ch.entry("defaultUser").map_or(anchor, |e| e.key_span);
    for flag in [
        "access_management",
        "named_collection_control",
        "show_named_collections",
        "show_named_collections_secrets",
    ] {
        users.push((format!("default/{flag}"), s("1", du_span)));
    }
    for u in ch.get("users").map(Value::items).unwrap_or_default() {
        let Some(name) = u.str_at("name") else {
            continue;
        };
        let name_span = u.get("name").map_or(u.span, |n| n.span);
        users.push((
            format!("{name}/networks/ip"),
            u.get("hostIP")
                .cloned()
                .unwrap_or(s("0.0.0.0/0", name_span)),
        ));
        if let Some(h) = u.get("password_sha256_hex") {
            users.push((format!("{name}/password_sha256_hex"), h.clone()));
        } else if let Some((_, span)) = literal(u.get("password_secret_name")) {
            users.push((
                format!("{name}/password"),
                Value::new(Kind::External("a Secret".into()), span),
            ));
        }
        if let Some(a) = u.get("accessManagement") {
            users.push((format!("{name}/access_management"), a.clone()));
        }
        if let Some(p) = u.get("profile") {
            users.push((format!("{name}/profile"), p.clone()));
        }
    }
    let mut extra = Vec::new();
    if let Some(p) = ch.get("profiles") {
        extra.push(("profiles", p.clone()));
    }
    if let Some(p) = ch.get("settings") {
        extra.push(("settings", p.clone()));
    }
    let mut files: Vec<Entry> = ch
        .get("configurationFiles")
        .map(|f| f.entries().to_vec())
        .unwrap_or_default();
    for (key, name) in [
        ("extraConfig", "config.d/chart-extra-config.xml"),
        ("extraUsers", "users.d/chart-extra-users.xml"),
    ] {
        if let Some(e) = ch.entry(key) {
            files.push(Entry {
                key: name.into(),
                key_span: e.key_span,
                value: e.value.clone(),
            });
        }
    }
    extra.push(("files", Value::new(Kind::Map(files), anchor)));
    let mut cluster = vec![("name", s("clickhouse", anchor))];
    if ch.bool_at("clusterSecret.enabled") == Some(true) {
        if let Some((value, span)) = literal(ch.path("clusterSecret.value"))
            .filter(|_| ch.bool_at("clusterSecret.auto") != Some(true))
        {
            secrets.push(secret(
                section,
                "clickhouse.clusterSecret.value",
                value,
                span,
            ));
        }
    }
    if let Some(sec) = ch.path("clusterSecret.secure") {
        cluster.push(("secure", sec.clone()));
    }
    extra.push(("clusters", list(vec![map(cluster, anchor)], anchor)));
    let http_tcp = [("http", 8123), ("tcp", 9000)];
    let mut templates = vec![service_template(
        "service",
        ch.path("service.type")
            .cloned()
            .unwrap_or(s("ClusterIP", anchor)),
        ch.path("service.serviceAnnotations")
            .map(|a| vec![("annotations", a.clone())])
            .unwrap_or_default(),
        &http_tcp,
        anchor,
    )];
    if let Some(e) = ch.path("lbService.enabled").filter(|e| e.is_true()) {
        let mut lb = service_template(
            "lbService",
            s("LoadBalancer", e.span),
            ch.path("lbService.loadBalancerSourceRanges")
                .map(|r| vec![("loadBalancerSourceRanges", r.clone())])
                .unwrap_or_default(),
            &http_tcp,
            anchor,
        );
        if let (Some(a), Kind::Map(m)) = (ch.path("lbService.serviceAnnotations"), &mut lb.kind) {
            m.push(Entry {
                key: "metadata".into(),
                key_span: a.span,
                value: map(vec![("annotations", a.clone())], a.span),
            });
        }
        templates.push(lb);
    }
    // Annotations of the main Service go to its metadata.
    if let Some(first) = templates.first_mut() {
        if let Kind::Map(m) = &mut first.kind {
            let spec_annotations =
                m.iter_mut()
                    .find(|e| e.key == "spec")
                    .and_then(|e| match &mut e.value.kind {
                        Kind::Map(sm) => {
                            let i = sm.iter().position(|x| x.key == "annotations")?;
                            Some(sm.remove(i))
                        }
                        _ => None,
                    });
            if let Some(a) = spec_annotations {
                m.push(Entry {
                    key: "metadata".into(),
                    key_span: a.key_span,
                    value: map(vec![("annotations", a.value)], a.key_span),
                });
            }
        }
    }
    let image = image_value(&ch, "image.repository", "image.tag");
    let spec = chi_spec(users, extra, templates, image, anchor);
    let obj = object("ClickHouseInstallation", "clickhouse", spec, section);
    operator::altinity_from(
        ws,
        &obj,
        ServerKind::Server,
        Some(what(Chart::Altinity, section)),
        secrets,
        out,
    );
}

fn eks(ws: &Workspace, v: &Value, section: &Section, out: &mut DeployOutput) {
    let anchor = section.anchor;
    let ch = v
        .get("clickhouse")
        .cloned()
        .unwrap_or(Value::new(Kind::Map(Vec::new()), anchor));
    let user = ch.str_at("user").unwrap_or("default").to_string();
    let mut secrets = Vec::new();
    let mut users = Vec::new();
    if let Some((pw, span)) = literal(ch.get("password")) {
        secrets.push(secret(section, "clickhouse.password", pw, span));
        users.push((format!("{user}/password"), s(pw, span)));
    } else if let Some(p) = ch.get("password").filter(|p| p.is_external()) {
        users.push((format!("{user}/password"), p.clone()));
    }
    let ty = match ch.get("service_type") {
        Some(t) if t.as_str() == Some("loadbalancer-external") => s("LoadBalancer", t.span),
        Some(t) if t.as_str() == Some("loadbalancer-internal") => s("ClusterIP", t.span),
        _ => s("ClusterIP", anchor),
    };
    let templates = vec![service_template(
        "service",
        ty,
        Vec::new(),
        &[("http", 8123), ("tcp", 9000)],
        anchor,
    )];
    let image = ch.get("image").filter(|i| i.as_str().is_some()).cloned();
    let spec = chi_spec(
        users,
        vec![(
            "clusters",
            list(vec![map(vec![("name", s("eks", anchor))], anchor)], anchor),
        )],
        templates,
        image,
        anchor,
    );
    let obj = object("ClickHouseInstallation", "clickhouse", spec, section);
    operator::altinity_from(
        ws,
        &obj,
        ServerKind::Server,
        Some(what(Chart::AltinityEks, section)),
        secrets,
        out,
    );
}

fn bundled(ws: &Workspace, v: &Value, section: &Section, out: &mut DeployOutput) {
    let anchor = section.anchor;
    let user = v.str_at("user").unwrap_or("admin").to_string();
    let mut secrets = Vec::new();
    let mut users = Vec::new();
    if let Some((_, span)) = literal(v.get("existingSecret")) {
        users.push((
            format!("{user}/password"),
            Value::new(Kind::External("a Secret".into()), span),
        ));
    } else if let Some((pw, span)) = literal(v.get("password")) {
        secrets.push(secret(section, "password", pw, span));
        users.push((format!("{user}/password"), s(pw, span)));
    } else if let Some(p) = v.get("password").filter(|p| p.is_external()) {
        users.push((format!("{user}/password"), p.clone()));
    }
    if let Some(ips) = v.get("allowedNetworkIps") {
        users.push((format!("{user}/networks/ip"), ips.clone()));
    }
    let ty = v
        .path("service.type")
        .or_else(|| v.get("serviceType"))
        .cloned()
        .unwrap_or(s("ClusterIP", anchor));
    let annotations = v.path("service.annotations").cloned();
    let mut template = service_template(
        "service",
        ty,
        Vec::new(),
        &[("http", 8123), ("tcp", 9000)],
        anchor,
    );
    if let (Some(a), Kind::Map(m)) = (annotations, &mut template.kind) {
        m.push(Entry {
            key: "metadata".into(),
            key_span: a.span,
            value: map(vec![("annotations", a.clone())], a.span),
        });
    }
    let mut extra = vec![(
        "clusters",
        list(
            vec![map(vec![("name", s("cluster", anchor))], anchor)],
            anchor,
        ),
    )];
    if let Some(f) = v.get("files") {
        extra.push(("files", f.clone()));
    }
    let spec = chi_spec(
        users,
        extra,
        vec![template],
        image_value(v, "image.repository", "image.tag"),
        anchor,
    );
    let obj = object("ClickHouseInstallation", "clickhouse", spec, section);
    operator::altinity_from(
        ws,
        &obj,
        ServerKind::Server,
        Some(what(Chart::BundledAltinity, section)),
        secrets,
        out,
    );
}

fn clickstack(ws: &Workspace, v: &Value, section: &Section, out: &mut DeployOutput) {
    let mut secrets = Vec::new();
    for key in ["CLICKHOUSE_PASSWORD", "CLICKHOUSE_APP_PASSWORD"] {
        let path = format!("hyperdx.secrets.{key}");
        if let Some((pw, span)) = literal(v.path(&path)) {
            secrets.push(secret(section, &path, pw, span));
        }
    }
    let Some(spec) = v.path("clickhouse.cluster.spec") else {
        return;
    };
    let obj = object("ClickHouseCluster", "clickstack", spec.clone(), section);
    operator::clickhouse_inc_from(
        ws,
        &obj,
        ServerKind::Server,
        Some(what(Chart::ClickStack, section)),
        secrets,
        out,
    );
}
