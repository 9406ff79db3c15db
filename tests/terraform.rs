//! The Terraform evaluator against Terraform itself.
//!
//! `testdata/terraform/eval/compare` uses only variables, locals, outputs,
//! a local module and `terraform_data`, which `terraform plan` evaluates
//! offline. `expected.json` holds what terraform 1.11.4 planned for it
//! (outputs and the `terraform_data` input); chlint's evaluation must equal
//! it. When `terraform` is on PATH the plan is also made afresh and
//! compared; otherwise that test prints SKIPPED.

use std::path::{Path, PathBuf};
use std::process::Command;

use chlint::clickhouse::load::Workspace;
use chlint::deploy::terraform::{analyse, evaluate_outputs, Inputs};
use serde_json::{json, Value};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn compare_dir() -> PathBuf {
    root().join("testdata/terraform/eval/compare")
}

/// chlint's evaluation: outputs, and the `input` of each terraform_data.
fn chlint_eval(dir: &Path) -> Value {
    let ws = Workspace::default();
    let (outputs, notes) = evaluate_outputs(&ws, dir);
    assert!(notes.is_empty(), "{notes:?}");
    let outputs: serde_json::Map<String, Value> =
        outputs.into_iter().map(|(k, v)| (k, v.to_json())).collect();
    let mut inputs = Inputs::default();
    inputs.dirs.insert(dir.to_path_buf());
    let analysis = analyse(&ws, &mut inputs);
    let resources: serde_json::Map<String, Value> = analysis
        .resources
        .iter()
        .filter(|r| r.rtype == "terraform_data")
        .map(|r| {
            (
                r.address.clone(),
                r.value.get("input").map_or(Value::Null, |v| v.to_json()),
            )
        })
        .collect();
    json!({"outputs": outputs, "resources": resources})
}

fn differences(want: &Value, got: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for section in ["outputs", "resources"] {
        let (w, g) = (&want[section], &got[section]);
        for (k, wv) in w.as_object().into_iter().flatten() {
            let gv = g.get(k).unwrap_or(&Value::Null);
            if wv != gv {
                out.push(format!("{section}.{k}: terraform {wv}, chlint {gv}"));
            }
        }
        for k in g.as_object().into_iter().flatten().map(|(k, _)| k) {
            if w.get(k).is_none() {
                out.push(format!("{section}.{k}: chlint has it, terraform does not"));
            }
        }
    }
    out
}

#[test]
fn evaluation_equals_terraforms_recorded_plan() {
    let dir = compare_dir();
    let want: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected.json")).expect("expected.json"),
    )
    .expect("expected.json is JSON");
    let got = chlint_eval(&dir);
    let diff = differences(&want, &got);
    assert!(diff.is_empty(), "\n{}", diff.join("\n"));
}

fn terraform_on_path() -> bool {
    Command::new("terraform")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Copy a folder (no symlinks, small).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let p = e.path();
        let dest = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).expect("copy");
        }
    }
}

fn terraform(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new("terraform")
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .expect("terraform runs");
    assert!(
        out.status.success(),
        "terraform {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn evaluation_equals_a_fresh_terraform_plan() {
    if !terraform_on_path() {
        eprintln!("SKIPPED: terraform is not on PATH");
        return;
    }
    let work = std::env::temp_dir().join(format!("chlint-tf-compare-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    copy_dir(&compare_dir(), &work);
    terraform(&work, &["init", "-input=false", "-no-color"]);
    terraform(
        &work,
        &["plan", "-input=false", "-no-color", "-out=plan.bin"],
    );
    let shown = terraform(&work, &["show", "-json", "plan.bin"]);
    let plan: Value = serde_json::from_slice(&shown.stdout).expect("plan JSON");
    let outputs: serde_json::Map<String, Value> = plan["planned_values"]["outputs"]
        .as_object()
        .expect("outputs")
        .iter()
        .map(|(k, v)| (k.clone(), v["value"].clone()))
        .collect();
    let resources: serde_json::Map<String, Value> = plan["planned_values"]["root_module"]
        ["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| {
            (
                r["address"].as_str().unwrap_or_default().to_string(),
                r["values"]["input"].clone(),
            )
        })
        .collect();
    let want = json!({"outputs": outputs, "resources": resources});
    let got = chlint_eval(&compare_dir());
    let _ = std::fs::remove_dir_all(&work);
    let diff = differences(&want, &got);
    assert!(diff.is_empty(), "\n{}", diff.join("\n"));
}

/// What the repository does not contain stays unknown (`null` here), and
/// only that.
#[test]
fn unknowable_values_stay_unknown() {
    let dir = root().join("testdata/terraform/eval/unknowns");
    let mut ws = Workspace::default();
    ws.var_files = vec![dir.join("prod.tfvars")];
    let (outputs, notes) = evaluate_outputs(&ws, &dir);
    assert!(notes.is_empty(), "{notes:?}");
    let get = |name: &str| {
        outputs
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no output {name}"))
            .1
            .clone()
    };
    for unknown in [
        "no_default",
        "data_attr",
        "resource_attr",
        "disagree",
        "template",
        "missing_module",
    ] {
        assert!(get(unknown).is_unknown(), "{unknown}: {:?}", get(unknown));
    }
    assert_eq!(get("agree").to_json(), json!(["0.0.0.0/0"]));
    assert_eq!(get("short").to_json(), json!(false));
    assert_eq!(get("from_var_file").to_json(), json!("from --var-file"));
    let at = ws.sources.locate(get("from_var_file").span);
    assert!(at.file.ends_with("prod.tfvars") && at.line == 1, "{at:?}");
    // The known element stays known; the unknown one is marked.
    let partial = get("partial");
    let items = partial.as_list().expect("a list");
    assert_eq!(items[0].as_str(), Some("0.0.0.0/0"));
    assert!(items[1].is_unknown());
    // A resource attribute remembers its resource.
    match &get("resource_attr").kind {
        chlint::deploy::terraform::value::Kind::Unknown(u) => {
            assert_eq!(u.resource.as_deref(), Some("aws_security_group.sg"))
        }
        other => panic!("{other:?}"),
    }
}

/// A value keeps the span where it was written: the variable default, the
/// tfvars line, the caller's argument.
#[test]
fn values_point_at_the_line_that_wrote_them() {
    let dir = compare_dir();
    let ws = Workspace::default();
    let (outputs, _) = evaluate_outputs(&ws, &dir);
    let line_of = |name: &str, path: &[usize]| {
        let mut v = outputs
            .iter()
            .find(|(n, _)| n == name)
            .expect("output")
            .1
            .clone();
        for i in path {
            v = v.as_list().expect("list")[*i].clone();
        }
        let loc = ws.sources.locate(v.span);
        (
            loc.file.rsplit('/').next().unwrap_or_default().to_string(),
            loc.line,
        )
    };
    // cidrs[0] is var.cidr's default; module_world[0] passed through the module.
    assert_eq!(line_of("cidrs", &[0]), ("main.tf".to_string(), 12));
    assert_eq!(line_of("module_world", &[0]), ("main.tf".to_string(), 12));
    assert_eq!(line_of("name", &[]).0, "main.tf");
    // toggled is the conditional's branch, chosen by override.auto.tfvars.
    assert_eq!(line_of("toggled", &[]), ("main.tf".to_string(), 54));
}

/// Plan JSON from `terraform show -json` (terraform 1.11.4): resources by
/// address, values known at plan time, unknown ones marked, and the
/// sensitive value found so that it is never printed.
#[test]
fn plan_json_resources_unknowns_and_sensitive_values() {
    let dir = root().join("testdata/terraform/plan");
    let ws = Workspace::default();
    let mut inputs = Inputs::default();
    inputs.plans.push(dir.join("terraform-data.plan.json"));
    let a = analyse(&ws, &mut inputs);
    assert!(a.notes.is_empty(), "{:?}", a.notes);
    let ch = a
        .resources
        .iter()
        .find(|r| r.address == "terraform_data.clickhouse")
        .expect("terraform_data.clickhouse");
    let input = ch.value.get("input").expect("input");
    assert_eq!(input.get("port").and_then(|v| v.as_number()), Some(8123.0));
    assert_eq!(
        input.get("cidr").and_then(|v| v.as_str()),
        Some("0.0.0.0/0")
    );
    // Not known until apply.
    assert!(ch.value.get("id").expect("id").is_unknown());
    let later = a
        .resources
        .iter()
        .find(|r| r.address == "terraform_data.later")
        .expect("terraform_data.later");
    assert!(later.value.get("input").expect("input").is_unknown());
    // The sensitive password is a secret span covering the value.
    let pw = input.get("password").expect("password").span;
    assert!(a.secret_spans.contains(&pw), "{:?}", a.secret_spans);
    assert!(ws.sources.get(pw.source).is_opaque());
}

/// Cycles, a runaway `range` and a module that calls itself end, with
/// unknown values and no finding.
#[test]
fn hostile_configurations_end_unknown() {
    let dir = root().join("testdata/terraform/hostile");
    let started = std::time::Instant::now();
    let mut ws = Workspace::default();
    let (outputs, _) = evaluate_outputs(&ws, &dir);
    for (name, v) in &outputs {
        assert!(v.is_unknown(), "{name}: {:?}", v.to_json());
    }
    let report = chlint::check::check_paths(&mut ws, &[dir]);
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    assert!(report.internal_errors.is_empty());
    assert!(
        started.elapsed().as_secs() < 10,
        "took {:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------
// Kubernetes resources and Helm releases (`src/deploy/terraform/kube.rs`).

fn kube_dir(name: &str) -> PathBuf {
    root().join("testdata/terraform/kube").join(name)
}

/// A finding as (rule, severity, file name, line, message).
type Found = (String, String, String, usize, String);

fn findings_of(dir: &Path) -> (Vec<Found>, Workspace) {
    let mut ws = Workspace::default();
    let report = chlint::check::check_paths(&mut ws, &[dir.to_path_buf()]);
    assert!(
        report.internal_errors.is_empty(),
        "{:?}",
        report.internal_errors
    );
    let found = report
        .findings
        .iter()
        .map(|f| {
            let loc = ws.sources.locate(f.primary);
            (
                f.code.to_string(),
                f.severity.as_str().to_string(),
                loc.file.rsplit('/').next().unwrap_or_default().to_string(),
                loc.line,
                f.message.clone(),
            )
        })
        .collect();
    (found, ws)
}

fn line_text(dir: &Path, file: &str, line: usize) -> String {
    std::fs::read_to_string(dir.join(file))
        .expect("fixture file")
        .lines()
        .nth(line - 1)
        .unwrap_or_default()
        .to_string()
}

/// The same ConfigMap, StatefulSet, Services and Ingress written as YAML
/// manifests and with the kubernetes provider give the same findings, each
/// at the Terraform line that writes what decides it.
#[test]
fn kubernetes_resources_lower_as_their_manifests() {
    let (yaml, _) = findings_of(&kube_dir("equivalent/yaml"));
    let tf_dir = kube_dir("equivalent/tf");
    let (tf, _) = findings_of(&tf_dir);
    let what = |v: &[Found]| {
        let mut w: Vec<(String, String, String)> = v
            .iter()
            .map(|(c, s, _, _, m)| (c.clone(), s.clone(), m.clone()))
            .collect();
        w.sort();
        w
    };
    assert!(yaml.len() >= 10, "{yaml:#?}");
    assert_eq!(what(&yaml), what(&tf), "\nyaml: {yaml:#?}\ntf: {tf:#?}");
    // Where each points in main.tf.
    for (code, token) in [
        ("CH104", "<password>"),
        ("CH103", "<ip>::/0</ip>"),
        // The shipped ports, exposed by the repository's listen_host.
        ("CH202", "<listen_host>"),
        ("CH120", "value = \"1\""),
        ("CH001", "backend {"),
    ] {
        let (_, _, file, line, _) = tf
            .iter()
            .find(|f| f.0 == code)
            .unwrap_or_else(|| panic!("no {code}: {tf:#?}"));
        assert_eq!(file, "main.tf");
        let text = line_text(&tf_dir, file, *line);
        assert!(text.contains(token), "{code} at main.tf:{line}: {text}");
    }
    let on = |needle: &str| {
        tf.iter()
            .filter(|f| f.0 == "CH250" && f.4.contains(needle))
            .map(|f| line_text(&tf_dir, &f.2, f.3))
            .collect::<Vec<_>>()
    };
    assert!(on("hostPort: 9000")[0].contains("host_port"), "{tf:#?}");
    assert!(on("Service `clickhouse` (LoadBalancer")[0].contains("\"LoadBalancer\""));
}

/// `values` merge in order and `set` wins; a values file read with file()
/// is reported in that file; a template keeps its known parts, and the
/// password Terraform generates stays unknown (no CH001, no CH450).
#[test]
fn helm_values_merge_in_order_and_keep_their_lines() {
    let dir = kube_dir("helm");
    let (found, _) = findings_of(&dir);
    let ch250: Vec<_> = found.iter().filter(|f| f.0 == "CH250").collect();
    assert_eq!(ch250.len(), 2, "{found:#?}");
    // `overridden`: the heredoc's LoadBalancer, not values.yaml's NodePort.
    assert!(ch250.iter().any(|f| f.2 == "main.tf"
        && line_text(&dir, "main.tf", f.3).trim() == "type: LoadBalancer"
        && f.4.contains("(LoadBalancer")));
    // `templated`: the value the conditional chose, where it is written.
    assert!(ch250.iter().any(|f| f.2 == "main.tf"
        && line_text(&dir, "main.tf", f.3).contains("\"loadbalancer-external\"")
        && f.4.contains("clickhouse-eks")));
    // `settled`: its `set` keeps it a ClusterIP Service.
    assert!(
        !found.iter().any(|f| f.4.contains("NodePort")),
        "{found:#?}"
    );
    assert!(
        !found.iter().any(|f| f.0 == "CH001" || f.0 == "CH450"),
        "{found:#?}"
    );
}

/// What rests on a value the folder does not contain (an image, values, a
/// key, a count, a Service type, a template block) is never reported.
#[test]
fn kubernetes_and_helm_unknowns_report_nothing() {
    let (found, _) = findings_of(&kube_dir("unknowns"));
    assert!(found.is_empty(), "{found:#?}");
}

/// A plan file's Kubernetes resources are lowered too: the finding is in
/// the plan (whose lines are never printed), host ports the plan writes as
/// 0 are not ports, and its literal password is masked, not reported.
#[test]
fn plan_kubernetes_resources_are_lowered_and_never_printed() {
    let dir = kube_dir("plan");
    let (found, ws) = findings_of(&dir);
    let codes: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(codes, ["CH250"], "{found:#?}");
    assert!(found[0].4.contains("Service `clickhouse` (LoadBalancer"));
    let plan = ws
        .sources
        .find(&dir.join("k8s.plan.json"))
        .expect("plan source");
    assert!(ws.sources.get(plan).is_opaque());
    let out = Command::new(env!("CARGO_BIN_EXE_chlint"))
        .args(["check", "--format", "human"])
        .arg(&dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("chlint runs");
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(human.contains("CH250"), "{human}");
    assert!(!human.contains("chlint-plan-k8s-Pw7q"), "{human}");
    assert!(
        !human.contains("\"type\""),
        "a plan line is shown:\n{human}"
    );
}

/// Values given by `set_sensitive` — literal, from a sensitive variable's
/// default, or a user name — never reach any output, not even in a message
/// that names the user.
#[test]
fn set_sensitive_values_never_reach_the_output() {
    let dir = root().join("testdata/rules/CH450/fires/terraform-helm");
    let written = std::fs::read_to_string(dir.join("main.tf")).expect("fixture");
    let secrets = [
        "chlint-tf-sensitive-Tg3k",
        "chlint-tf-sensname-Mw2b",
        "chlint-tf-sensdefault-Ry8u",
        "chlint-tf-values-Lp4d",
        "chlint-tf-yamlencode-Hn6c",
    ];
    for s in secrets {
        assert!(written.contains(s), "fixture lacks {s}");
    }
    let mut leaks = Vec::new();
    let mut named_user = false;
    for format in ["human", "json", "sarif", "github"] {
        let out = Command::new(env!("CARGO_BIN_EXE_chlint"))
            .args(["check", "--format", format])
            .arg(&dir)
            .env("NO_COLOR", "1")
            .output()
            .expect("chlint runs");
        assert_eq!(out.status.code(), Some(1), "{format}: findings exit 1");
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            named_user |= text.contains("user `****`");
            for s in secrets {
                if text.contains(s) {
                    leaks.push(format!("{format} {stream} contains {s}"));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
    // The user the sensitive name belongs to is still reported, unnamed.
    assert!(named_user);
}

/// `kubernetes_manifest { manifest = yamldecode(file(…)) }` is lowered with
/// the lines of the YAML file; when that file is also checked as a manifest
/// of its own, each finding is reported once.
#[test]
fn manifest_from_a_yaml_file_is_reported_once_in_that_file() {
    let dir = kube_dir("manifest");
    let (found, _) = findings_of(&dir);
    let mut codes: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    codes.sort();
    assert_eq!(codes, ["CH103", "CH250", "CH350", "CH450"], "{found:#?}");
    for f in &found {
        assert_eq!(f.2, "chi.yaml", "{f:?}");
    }
    let ch250 = found.iter().find(|f| f.0 == "CH250").expect("CH250");
    assert!(line_text(&dir, "manifests/chi.yaml", ch250.3).contains("type: LoadBalancer"));
}
