//! chlint over the shared corpus of real-world configurations
//! (`../shared/corpus/`): it must never crash, must print valid JSON, and
//! must parse every ClickHouse configuration ClickHouse itself could load.
//!
//! When the shared folder is missing the tests fail, unless
//! `CHLINT_SKIP_SHARED=1` is set.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/corpus/<sub>` (relative to the crate), or `None` when it is
/// missing and `CHLINT_SKIP_SHARED=1`; a panic when it is missing otherwise.
fn corpus(sub: &str) -> Option<PathBuf> {
    let rel = PathBuf::from("../shared/corpus").join(sub);
    if manifest_dir().join(&rel).is_dir() {
        return Some(rel);
    }
    if std::env::var("CHLINT_SKIP_SHARED").as_deref() == Ok("1") {
        eprintln!(
            "skipping: {} is missing and CHLINT_SKIP_SHARED=1",
            manifest_dir().join(&rel).display()
        );
        return None;
    }
    panic!(
        "the shared corpus is missing: {} is not a folder.\n\
         Check out the shared folder next to this repository, or set CHLINT_SKIP_SHARED=1 \
         to skip this test deliberately.",
        manifest_dir().join(&rel).display()
    );
}

/// Run `chlint check --format json` from the crate folder; assert it neither
/// crashed nor failed (exit 0 or 1) and printed valid JSON.
fn check_json(paths: &[PathBuf]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_chlint"))
        .current_dir(manifest_dir())
        .args(["check", "--format", "json"])
        .args(paths)
        .output()
        .expect("chlint runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let what = format!("`chlint check --format json {paths:?}`");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{what} exited with {:?} (a signal when None); expected 0 or 1\n--- stderr:\n{stderr}",
        out.status.code()
    );
    assert!(!stderr.contains("panicked"), "{what} panicked:\n{stderr}");
    let json: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{what} printed invalid JSON ({e}):\n{stdout}"));
    assert!(
        json.get("files_scanned").is_some_and(Value::is_u64),
        "{what}: no numeric `files_scanned`:\n{stdout}"
    );
    assert!(
        json.get("findings").is_some_and(Value::is_array),
        "{what}: no `findings` array:\n{stdout}"
    );
    json
}

/// Every file below `dir` that is a Helm/Go template (contains `{{`):
/// ClickHouse never loads those unrendered, so they may fail to parse.
fn templates_under(dir: &Path, out: &mut BTreeSet<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("readable folder entry").path();
        if path.is_dir() {
            templates_under(&path, out);
        } else if let Ok(bytes) = fs::read(&path) {
            if bytes.windows(2).any(|w| w == b"{{") {
                out.insert(canonical(&path));
            }
        }
    }
}

fn canonical(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn clickhouse_configs_in_the_corpus_parse() {
    let (Some(xml), Some(yaml)) = (corpus("clickhouse-xml"), corpus("clickhouse-yaml")) else {
        return;
    };
    let json = check_json(&[xml.clone(), yaml.clone()]);

    let scanned = json["files_scanned"].as_u64().unwrap_or(0);
    assert!(
        scanned >= 20,
        "only {scanned} files scanned in {} and {}: expected at least 20",
        xml.display(),
        yaml.display()
    );

    let mut templates = BTreeSet::new();
    templates_under(&manifest_dir().join(&xml), &mut templates);
    templates_under(&manifest_dir().join(&yaml), &mut templates);

    let mut unexpected = Vec::new();
    for f in json["findings"].as_array().into_iter().flatten() {
        if f["rule"] != "CH900" {
            continue;
        }
        let file = f["file"].as_str().unwrap_or_default();
        let path = manifest_dir().join(file);
        let allowed = path.exists() && templates.contains(&canonical(&path));
        if !allowed {
            unexpected.push(format!(
                "{file}:{}: {}",
                f["line"],
                f["message"].as_str().unwrap_or_default()
            ));
        }
    }
    assert!(
        unexpected.is_empty(),
        "CH900 (invalid-config) on files that are not Helm/Go templates \
         (templates allowed: {templates:?}):\n  {}",
        unexpected.join("\n  ")
    );
}

#[test]
fn whole_corpus_does_not_crash() {
    let Some(all) = corpus("") else { return };
    let json = check_json(&[all]);
    eprintln!(
        "whole corpus: {} files scanned, {} findings",
        json["files_scanned"],
        json["findings"].as_array().map_or(0, Vec::len)
    );
}

/// Every Terraform file of the corpus parses: no CH900 there.
#[test]
fn terraform_files_in_the_corpus_parse() {
    let Some(tf) = corpus("terraform") else {
        return;
    };
    let json = check_json(std::slice::from_ref(&tf));
    let scanned = json["files_scanned"].as_u64().unwrap_or(0);
    assert!(
        scanned >= 22,
        "only {scanned} Terraform files scanned in {}",
        tf.display()
    );
    let bad: Vec<String> = json["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == "CH900")
        .map(|f| format!("{}:{}: {}", f["file"], f["line"], f["message"]))
        .collect();
    assert!(
        bad.is_empty(),
        "CH900 on valid Terraform:\n  {}",
        bad.join("\n  ")
    );
}

/// What chlint reports on the Terraform corpus, folder by folder: exactly
/// these (rule, file, line), nothing else.
#[test]
fn terraform_corpus_findings() {
    let Some(tf) = corpus("terraform") else {
        return;
    };
    let json = check_json(std::slice::from_ref(&tf));
    let mut got: Vec<String> = json["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let file = f["file"].as_str().unwrap_or_default();
            let rel = file.split("corpus/terraform/").nth(1).unwrap_or(file);
            format!(
                "{} {} {}:{}",
                f["rule"].as_str().unwrap_or(""),
                f["severity"].as_str().unwrap_or(""),
                rel,
                f["line"]
            )
        })
        .collect();
    got.sort();
    let want = [
        // ip_access "0.0.0.0" ("Anywhere") with the MySQL endpoint; password_hash of "test".
        "CH253 high clickhouse-cloud-basic-aws/main.tf:48",
        "CH450 high clickhouse-cloud-basic-aws/main.tf:44",
        // 0.0.0.0/0 on 9440/8443, in a group that guards a VPC interface endpoint (lowered).
        "CH252 high clickhouse-cloud-private-endpoint-aws/aws.tf:71",
        "CH252 high clickhouse-cloud-private-endpoint-aws/aws.tf:80",
        "CH450 high clickhouse-cloud-private-endpoint-aws/main.tf:31",
        "CH450 high clickhouse-cloud-service-resource/resource.tf:22",
        "CH450 high clickhouse-cloud-service-resource/resource.tf:49",
        // 8123, 9000, 9009 from 0.0.0.0/0 (SSH's port is a variable without a value).
        "CH252 critical posthog-deployment-2020-aws/security_group.tf:18",
        "CH252 critical posthog-deployment-2020-aws/security_group.tf:25",
        "CH252 critical posthog-deployment-2020-aws/security_group.tf:32",
        // Example passwords: users, Kafka and RabbitMQ credentials.
        "CH450 high yandex-mdb-clickhouse/r_mdb_clickhouse_cluster_1.tf:62",
        "CH450 high yandex-mdb-clickhouse/r_mdb_clickhouse_cluster_1.tf:71",
        "CH450 high yandex-mdb-clickhouse/r_mdb_clickhouse_cluster_1.tf:85",
        "CH450 high yandex-mdb-clickhouse/r_mdb_clickhouse_cluster_1.tf:131",
        "CH450 high yandex-mdb-clickhouse/r_mdb_clickhouse_cluster_2.tf:31",
        "CH450 high yandex-mdb-clickhouse/r_mdb_clickhouse_user_1.tf:48",
        // Nothing from the Kubernetes and Helm folders: the EKS cluster's
        // values come from a template that is not in the corpus (and its
        // example calls a module that is not either), the operator chart
        // runs no server, lzy's Deployment runs an image given by a variable
        // without a value behind a ClusterIP Service, and cloudquery opens
        // its ports to variables without values.
    ];
    let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(got, want, "\ngot:\n  {}", got.join("\n  "));
}
