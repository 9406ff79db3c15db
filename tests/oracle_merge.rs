//! Differential test against a real ClickHouse 18.16 server.
//!
//! `../shared/oracle/ch18-merge-cases/` records, for a set of overlay files
//! laid over the shipped configuration of ClickHouse 18.16, what the server
//! wrote to `preprocessed_configs/` (as unified diffs against the base case).
//! For every case folder this test lays the same files out in a scratch
//! folder, runs `chlint merged --clickhouse-version 18` on `config.xml` and
//! `users.xml`, and compares the element trees with the server's output.
//!
//! Cases are discovered by reading the folder, so a new case is picked up
//! without touching this file. A case whose `result.txt` lists no
//! preprocessed file is one where the server refused to start before it
//! wrote any: `chlint merged config.xml` must then fail with exit status 2.
//!
//! When the shared folder is missing the test fails, unless
//! `CHLINT_SKIP_SHARED=1` is set.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::scratch::{copy_case_file, copy_case_tree, file_name, Scratch, RUN_ETC};
use common::unified_diff::apply_unified_diff;
use common::xml_compare::compare_xml;

const BASE: &str = "00-base";
/// The main files compared for every case.
const MAIN_FILES: [&str; 2] = ["config.xml", "users.xml"];

fn cases_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/oracle/ch18-merge-cases");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CHLINT_SKIP_SHARED").as_deref() == Ok("1") {
        eprintln!(
            "skipping: {} is missing and CHLINT_SKIP_SHARED=1",
            dir.display()
        );
        return None;
    }
    panic!(
        "the ClickHouse oracle cases are missing: {} is not a folder.\n\
         Check out the shared folder next to this repository, or set CHLINT_SKIP_SHARED=1 \
         to skip this test deliberately.",
        dir.display()
    );
}

#[test]
fn chlint_merges_like_clickhouse_18() {
    let Some(root) = cases_dir() else { return };
    let base = root.join(BASE);
    assert!(
        base.join("input").is_dir() && base.join("preprocessed").is_dir(),
        "{} lacks input/ or preprocessed/",
        base.display()
    );

    let mut cases: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|entry| entry.expect("readable folder entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();

    let mut trees_compared = 0;
    let mut refusals_checked = 0;
    let mut failures: Vec<String> = Vec::new();
    for case in &cases {
        let name = file_name(case);
        match run_case(&base, case) {
            Ok(outcome) => {
                trees_compared += outcome.trees_compared;
                refusals_checked += outcome.refusals_checked;
                eprintln!("ok   {name}");
            }
            Err(report) => {
                eprintln!("FAIL {name}\n{report}\n");
                failures.push(format!("{name}: {}", report.lines().next().unwrap_or("")));
            }
        }
    }
    let cases_compared = cases.len() - failures.len();
    eprintln!(
        "{} case folders: {cases_compared} matched ({trees_compared} merged files compared, \
         {refusals_checked} refusals), {} failed",
        cases.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "chlint differs from ClickHouse 18.16 in {} case(s) (details above):\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
    assert!(
        cases.len() >= 17,
        "only {} case folders found in {}: expected at least 17",
        cases.len(),
        root.display()
    );
    assert!(
        trees_compared >= 2 * 15,
        "only {trees_compared} merged files compared"
    );
}

struct Outcome {
    trees_compared: usize,
    refusals_checked: usize,
}

/// Check one case; `Err` holds a readable report whose first line sums it up.
fn run_case(base: &Path, case: &Path) -> Result<Outcome, String> {
    let scratch = Scratch::new(&file_name(case))?;
    let dir = scratch.path();
    for main in MAIN_FILES {
        copy_case_file(&base.join("input").join(main), &dir.join(main), dir)?;
    }
    let input = case.join("input");
    if input.is_dir() {
        copy_case_tree(&input, dir, dir)?;
    }
    let env_file = input.join("env");
    let env_file = env_file.is_file().then_some(env_file);

    let result = fs::read_to_string(case.join("result.txt"))
        .map_err(|e| format!("{}/result.txt: {e}", case.display()))?;
    let written = preprocessed_files(&result).ok_or_else(|| {
        format!(
            "{}/result.txt: no `-- preprocessed files:` section",
            case.display()
        )
    })?;

    if written.is_empty() {
        // The server refused to start before writing anything.
        let out = common::run_merged(&dir.join("config.xml"), "18", env_file.as_deref())?;
        return match out.status.code() {
            Some(2) => Ok(Outcome {
                trees_compared: 0,
                refusals_checked: 1,
            }),
            code => Err(format!(
                "the server refused to start, but `chlint merged config.xml` exited with {code:?} \
                 instead of 2\n--- stderr:\n{}\n--- stdout:\n{}",
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout)
            )),
        };
    }

    let mut compared = 0;
    for main in MAIN_FILES {
        if !written.iter().any(|w| w == main) {
            return Err(format!(
                "result.txt lists preprocessed files {written:?} without {main}"
            ));
        }
        let expected = expected_preprocessed(base, case, main)?;
        let out = common::run_merged(&dir.join(main), "18", env_file.as_deref())?;
        if !out.status.success() {
            return Err(format!(
                "{main}: `chlint merged` exited with {:?} where the server merged it\n--- stderr:\n{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let actual = String::from_utf8(out.stdout)
            .map_err(|e| format!("{main}: chlint printed invalid UTF-8: {e}"))?;
        // The server's output names the run folder RUN/etc/; ours the scratch folder.
        let actual = actual.replace(&format!("{}/", dir.display()), RUN_ETC);
        compare_xml(main, &expected, &actual)?;
        compared += 1;
    }
    Ok(Outcome {
        trees_compared: compared,
        refusals_checked: 0,
    })
}

/// The file names listed under `-- preprocessed files:` in a `result.txt`.
fn preprocessed_files(result: &str) -> Option<Vec<String>> {
    let mut lines = result.lines();
    lines
        .by_ref()
        .find(|l| l.trim() == "-- preprocessed files:")?;
    Some(
        lines
            .take_while(|l| !l.starts_with("-- ") && !l.starts_with("== "))
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect(),
    )
}

/// The server's preprocessed `main` for this case: the base case's output
/// with the case's diff applied.
fn expected_preprocessed(base: &Path, case: &Path, main: &str) -> Result<String, String> {
    let base_file = base.join("preprocessed").join(main);
    let text =
        fs::read_to_string(&base_file).map_err(|e| format!("{}: {e}", base_file.display()))?;
    let diff_file = case.join(format!("preprocessed-{main}.diff"));
    if !diff_file.is_file() {
        return Ok(text);
    }
    let diff =
        fs::read_to_string(&diff_file).map_err(|e| format!("{}: {e}", diff_file.display()))?;
    apply_unified_diff(&text, &diff).map_err(|e| format!("{}: {e}", diff_file.display()))
}

// ---------------------------------------------------------------------------
// Self-tests of the helpers, so a bug here cannot hide one in chlint.

#[test]
fn diff_applier_handles_context_changes_and_missing_newlines() {
    let original = "a\nb\nc\nd\ne";
    let diff = "--- x\n+++ y\n@@ -1,2 +1,3 @@\n a\n-b\n+B\n+B2\n@@ -4,2 +5,2 @@\n d\n-e\n\\ No newline at end of file\n+E\n";
    assert_eq!(
        apply_unified_diff(original, diff).unwrap(),
        "a\nB\nB2\nc\nd\nE\n"
    );
    let diff = "--- x\n+++ y\n@@ -5 +5,2 @@\n-e\n\\ No newline at end of file\n+e\n+f\n\\ No newline at end of file\n";
    assert_eq!(
        apply_unified_diff(original, diff).unwrap(),
        "a\nb\nc\nd\ne\nf"
    );
    let bad = "@@ -1,1 +1,1 @@\n-x\n+y\n";
    assert!(apply_unified_diff(original, bad).is_err());
}

#[test]
fn tree_comparison_ignores_comments_whitespace_and_attribute_order() {
    let a = "<!-- c --><y>\n  <k a=\"1\" b=\"2\"> v </k>\n  <!-- gone -->\n</y>";
    let b = "<y><k b=\"2\" a=\"1\">v</k></y>";
    assert!(compare_xml("t", a, b).is_ok());
    let c = "<y><k b=\"2\" a=\"1\">v</k><k/></y>";
    let err = compare_xml("t", a, c).unwrap_err();
    assert!(
        err.starts_with("t: differs from ClickHouse at /y: chlint has extra child element(s) <k>"),
        "{err}"
    );
    let d = "<y><k a=\"1\" b=\"3\">v</k></y>";
    let err = compare_xml("t", a, d).unwrap_err();
    assert!(
        err.starts_with("t: differs from ClickHouse at /y/k: attributes"),
        "{err}"
    );
}
