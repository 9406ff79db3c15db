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
    let mut ws = Workspace::default();
    let (outputs, notes) = evaluate_outputs(&mut ws, dir);
    assert!(notes.is_empty(), "{notes:?}");
    let outputs: serde_json::Map<String, Value> =
        outputs.into_iter().map(|(k, v)| (k, v.to_json())).collect();
    let mut inputs = Inputs::default();
    inputs.dirs.insert(dir.to_path_buf());
    let analysis = analyse(&mut ws, &inputs);
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
    let (outputs, notes) = evaluate_outputs(&mut ws, &dir);
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
    let mut ws = Workspace::default();
    let (outputs, _) = evaluate_outputs(&mut ws, &dir);
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
    let mut ws = Workspace::default();
    let mut inputs = Inputs::default();
    inputs.plans.push(dir.join("terraform-data.plan.json"));
    let a = analyse(&mut ws, &inputs);
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
    assert!(ws.sources.get(pw.source).opaque);
}

/// Cycles, a runaway `range` and a module that calls itself end, with
/// unknown values and no finding.
#[test]
fn hostile_configurations_end_unknown() {
    let dir = root().join("testdata/terraform/hostile");
    let started = std::time::Instant::now();
    let mut ws = Workspace::default();
    let (outputs, _) = evaluate_outputs(&mut ws, &dir);
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
