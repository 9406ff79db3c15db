//! Deployment formats end to end: the shared corpus of real deployment files
//! (compose, Kubernetes, operator resources, Helm values) is read without a
//! crash and without a parse error, and secrets written in deployment files
//! never reach the output.
//!
//! When the shared folder is missing the corpus test fails, unless
//! `CHLINT_SKIP_SHARED=1` is set.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str], path: &Path) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_chlint"))
        .current_dir(manifest_dir())
        .args(args)
        .arg(path)
        .env("NO_COLOR", "1")
        .output()
        .expect("chlint runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn corpus(sub: &str) -> Option<PathBuf> {
    let rel = PathBuf::from("../shared/corpus").join(sub);
    if manifest_dir().join(&rel).is_dir() {
        return Some(rel);
    }
    if std::env::var("CHLINT_SKIP_SHARED").as_deref() == Ok("1") {
        return None;
    }
    panic!(
        "the shared corpus is missing: {} is not a folder (set CHLINT_SKIP_SHARED=1 to skip)",
        manifest_dir().join(&rel).display()
    );
}

/// Deployment files a real cluster or `docker compose` accepts: no crash,
/// valid JSON, no CH900.
#[test]
fn deployment_corpus_is_read_without_parse_errors() {
    let mut problems = Vec::new();
    for sub in ["compose", "k8s", "operator-chi", "helm-values"] {
        let Some(dir) = corpus(sub) else { return };
        let (code, stdout, stderr) = run(&["check", "--format", "json"], &dir);
        assert!(
            matches!(code, Some(0 | 1)),
            "{sub}: exit {code:?}\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{sub} panicked:\n{stderr}");
        let json: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{sub}: invalid JSON ({e}):\n{stdout}"));
        let findings = json["findings"].as_array().cloned().unwrap_or_default();
        eprintln!(
            "{sub}: {} files, {} findings",
            json["files_scanned"],
            findings.len()
        );
        for f in findings.iter().filter(|f| f["rule"] == "CH900") {
            problems.push(format!(
                "{}:{}: {}",
                f["file"].as_str().unwrap_or_default(),
                f["line"],
                f["message"].as_str().unwrap_or_default()
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "CH900 on corpus files:\n{}",
        problems.join("\n")
    );
}

/// Passwords written in testdata/rules/CH450/fires.
const COMPOSE_SECRET: &str = "Zr8q-tmV2-9kLp-XwA4";

#[test]
fn secrets_in_deployment_files_are_never_printed() {
    let dir = manifest_dir().join("testdata/rules/CH450/fires");
    let written = std::fs::read_to_string(dir.join("docker-compose.yml")).expect("fixture");
    assert!(written.contains(COMPOSE_SECRET));
    for format in ["human", "json"] {
        let (code, stdout, stderr) = run(&["check", "--format", format], &dir);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stdout.contains("CH450"), "{stdout}");
        assert!(
            !stdout.contains(COMPOSE_SECRET) && !stderr.contains(COMPOSE_SECRET),
            "{format} output leaks the password:\n{stdout}"
        );
    }
}

fn findings(dir: &Path) -> Vec<(String, String, u64, Vec<u64>)> {
    let (code, stdout, stderr) = run(&["check", "--format", "json"], dir);
    assert!(matches!(code, Some(0 | 1)), "{stderr}");
    let json: Value = serde_json::from_str(&stdout).expect("JSON");
    json["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["file"]
                    .as_str()
                    .unwrap_or_default()
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                f["line"].as_u64().unwrap_or(0),
                f["related"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|r| r["line"].as_u64().unwrap_or(0))
                    .collect(),
            )
        })
        .collect()
}

/// A ConfigMap mounted as `users.d` re-opens `default`, a Secret (base64)
/// adds a user, a public LoadBalancer publishes 8123: the chain is reported
/// at the Service's `type:` line, with the password and network lines of
/// the ConfigMap's embedded XML as related locations (outer file lines).
#[test]
fn kubernetes_chain_points_into_embedded_configuration() {
    let dir = manifest_dir().join("testdata/scenarios/k8s-open");
    let found = findings(&dir);
    let show = format!("{found:#?}");
    let ch001 = found
        .iter()
        .find(|f| f.0 == "CH001")
        .unwrap_or_else(|| panic!("no CH001:\n{show}"));
    assert_eq!(
        (ch001.1.as_str(), ch001.2),
        ("clickhouse.yaml", 64),
        "{show}"
    );
    assert!(ch001.3.contains(&13) && ch001.3.contains(&15), "{show}");
    assert!(
        found.iter().any(|f| f.0 == "CH101" && f.2 == 13),
        "CH101 at the ConfigMap's <password> line:\n{show}"
    );
    // A base64 Secret value maps to the line of its key.
    assert!(found.iter().any(|f| f.0 == "CH104" && f.2 == 26), "{show}");
    let (_, human, _) = run(&["check"], &dir);
    assert!(!human.contains("Rep0rting-Zq81-Long"), "{human}");
}

/// Two folders with the same object names (one per team): each workload
/// mounts the ConfigMap and is selected by the Service of its own folder, so
/// only team-b's open ConfigMap and public Service are reported, on their
/// own lines, and team-a's safe copy hides nothing.
#[test]
fn kubernetes_references_resolve_to_the_nearest_copy() {
    let dir = manifest_dir().join("testdata/scenarios/k8s-two-teams");
    let (_, stdout, stderr) = run(&["check", "--format", "json"], &dir);
    let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}\n{stderr}"));
    let mut found: Vec<(String, String, u64)> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let file = f["file"].as_str().unwrap_or_default();
            let tail: Vec<&str> = file.rsplit('/').take(2).collect();
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                format!("{}/{}", tail[1], tail[0]),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    found.sort();
    let expected = [
        ("CH001", "team-b/service.yaml", 6),
        ("CH101", "team-b/configmap.yaml", 10),
        // CH250 at the Service line would repeat CH001 there.
    ]
    .map(|(r, f, l)| (r.to_string(), f.to_string(), l));
    assert_eq!(found, expected);
}

/// The Kubernetes frontend runs on a text buffer (stdin).
#[test]
fn manifests_from_a_buffer() {
    let text =
        std::fs::read_to_string(manifest_dir().join("testdata/scenarios/k8s-open/clickhouse.yaml"))
            .expect("fixture");
    let mut ws = chlint::clickhouse::load::Workspace::default();
    let out = chlint::deploy::discover_text(&mut ws, PathBuf::from("rendered.yaml"), text);
    assert_eq!(out.servers.len(), 1);
    let server = &out.servers[0];
    assert!(server
        .exposures
        .iter()
        .any(|e| e.reach == chlint::model::Reach::Internet && e.ports.contains(8123)));
    assert!(server
        .users
        .iter()
        .any(|u| u.name == "default" && u.needs_no_secret()));
}

/// The Altinity operator keeps a passwordless `default` to loopback and the
/// installation's own pods: behind a public load balancer that stays silent.
/// Listing `::/0` for it opens it, and the chain is reported.
#[test]
fn operator_keeps_default_safe_until_the_resource_opens_it() {
    let dir = manifest_dir().join("testdata/scenarios/operator");
    let found = findings(&dir);
    let show = format!("{found:#?}");
    let chain: Vec<_> = found.iter().filter(|f| f.0 == "CH001").collect();
    assert_eq!(chain.len(), 1, "{show}");
    // At the `opened` installation's LoadBalancer, the ::/0 line related.
    assert_eq!(chain[0].2, 42, "{show}");
    assert!(chain[0].3.contains(&34), "{show}");
    // Nothing about `default` for `kept-safe` (lines 1-20).
    assert!(
        !found
            .iter()
            .any(|f| (f.0 == "CH101" || f.0 == "CH001") && f.2 < 21),
        "{show}"
    );
    // `reader` has no password: the operator gives it the well-known `default`.
    assert!(found.iter().any(|f| f.0 == "CH105" && f.2 == 35), "{show}");
}

/// Helm values: the Bitnami chart's own values (beside its Chart.yaml), an
/// umbrella chart's aliased subchart section, and the Altinity chart's values
/// without a Chart.yaml (recognised by its keys).
#[test]
fn helm_values_are_lowered_like_the_charts_render_them() {
    let dir = manifest_dir().join("testdata/scenarios/helm");
    let found = findings(&dir);
    let show = format!("{found:#?}");
    let at = |code: &str, file: &str, line: u64| {
        found
            .iter()
            .any(|f| f.0 == code && f.1 == file && f.2 == line)
    };
    // Bitnami: the literal password, the public Service, TLS off.
    assert!(at("CH450", "values-prod.yaml", 9), "{show}");
    assert!(at("CH250", "values-prod.yaml", 11), "{show}");
    assert!(at("CH350", "values-prod.yaml", 13), "{show}");
    // The admin user the image creates is its by design: no CH106, no CH103.
    assert!(
        !found
            .iter()
            .any(|f| f.1 == "values-prod.yaml" && (f.0 == "CH106" || f.0 == "CH103")),
        "{show}"
    );
    // Umbrella: the subchart's embedded users.d file, by its outer line;
    // the load balancer limited by source ranges stays silent.
    assert!(at("CH102", "values.yaml", 22), "{show}");
    assert!(
        !found.iter().any(|f| f.0 == "CH250"
            && f.2 > 2
            && f.2 < 12
            && f.1 == "values.yaml"
            && f.3.is_empty()),
        "{show}"
    );
    // Altinity: allowExternalAccess opens the passwordless default, the
    // lbService publishes it.
    assert!(at("CH001", "values.yaml", 6), "{show}");
    let (_, human, _) = run(&["check"], &dir);
    assert!(!human.contains("Vq3n-Hc8w-Pz1k-Ld5t"), "{human}");
}
