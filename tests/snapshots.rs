//! Snapshot tests of the exact human and JSON output on the bundled examples.
//! Run with `UPDATE_SNAPSHOTS=1` to rewrite the expected files after an
//! intended change, then review the diff.

mod common;

use common::snapshot::assert_snapshot;
use std::process::Command;

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_chlint"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .output()
        .expect("chlint runs");
    (
        out.status.code().expect("exited normally"),
        String::from_utf8(out.stdout).expect("UTF-8 output"),
    )
}

#[test]
fn human_output_on_the_open_example() {
    let (code, out) = run(&["check", "examples/open"]);
    assert_eq!(code, 1);
    assert!(
        !out.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
    assert_snapshot("open.txt", &out);
}

#[test]
fn json_output_on_the_open_example() {
    let (code, out) = run(&["check", "--format", "json", "examples/open"]);
    assert_eq!(code, 1);
    let parsed: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(parsed["files_scanned"], 4);
    assert_snapshot("open.json", &out);
}

#[test]
fn hardened_example_is_clean() {
    let (code, out) = run(&["check", "--format", "json", "examples/hardened"]);
    let parsed: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(
        parsed["findings"].as_array().map(Vec::len),
        Some(0),
        "{out}"
    );
    assert_eq!(code, 0);
}

#[test]
fn merged_output_with_origins() {
    let (code, out) = run(&["merged", "--origins", "examples/open/config.xml"]);
    assert_eq!(code, 0);
    assert_snapshot("open-merged.xml", &out);
}

#[test]
fn rules_list_json_has_every_rule() {
    let (code, out) = run(&["rules", "--format", "json"]);
    assert_eq!(code, 0);
    let parsed: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let rules = parsed.as_array().expect("a list");
    assert_eq!(rules.len(), chlint::rules::RULES.len());
    assert!(rules
        .iter()
        .any(|r| r["code"] == "CH101" && r["severity"] == "critical"));
}

#[test]
fn explain_accepts_code_and_name() {
    let (code, by_code) = run(&["explain", "CH101"]);
    assert_eq!(code, 0);
    assert!(by_code.starts_with("# CH101 default-user-without-password"));
    let (_, by_name) = run(&["explain", "default-user-without-password"]);
    assert_eq!(by_code, by_name);
    let (code, _) = run(&["explain", "CH999"]);
    assert_eq!(code, 2);
}

#[test]
fn a_single_override_file_is_checked_with_its_main_files() {
    let (code, out) = run(&[
        "check",
        "--format",
        "json",
        "examples/open/config.d/network.xml",
    ]);
    assert_eq!(code, 1);
    let parsed: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let ch101: Vec<_> = parsed["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "CH101")
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(ch101, [("examples/open/users.xml".to_string(), 14)]);
}

#[test]
fn inspect_shows_listeners_and_users() {
    let (code, out) = run(&["inspect", "examples/open/config.xml"]);
    assert_eq!(code, 0);
    let parsed: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let server = &parsed[0];
    let http = server["listeners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["key"] == "http_port")
        .expect("http_port listener");
    assert_eq!(http["exposed"], true);
    assert_eq!(
        http["binds"][0]["at"],
        "examples/open/config.d/network.xml:3:18"
    );
    let analytics = server["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "analytics")
        .expect("analytics user");
    assert_eq!(analytics["auth"]["kind"], "plaintext");
    assert!(analytics.get("value").is_none() && analytics["auth"].get("value").is_none());
}
