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

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use chlint::clickhouse::element::{Element, Node};
use chlint::source::SourceId;
use chlint::syntax::{xml, Limits};

const BASE: &str = "00-base";
/// What `RUN/etc/` stands for in the recorded files: the server's config folder.
const RUN_ETC: &str = "RUN/etc/";
/// Files of a case's `input/` that are not configuration.
const NOT_CONFIG: [&str; 2] = ["env", "probe"];
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
        copy_file(&base.join("input").join(main), &dir.join(main), dir)?;
    }
    let input = case.join("input");
    if input.is_dir() {
        copy_tree(&input, dir, dir, true)?;
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
        let out = run_merged(&dir.join("config.xml"), env_file.as_deref())?;
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
        let out = run_merged(&dir.join(main), env_file.as_deref())?;
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

fn run_merged(file: &Path, env_file: Option<&Path>) -> Result<Output, String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chlint"));
    cmd.arg("merged")
        .arg(file)
        .args(["--clickhouse-version", "18"]);
    if let Some(env_file) = env_file {
        cmd.arg("--env-file").arg(env_file);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run chlint: {e}"))?;
    if out.status.code().is_none() {
        return Err(format!(
            "`chlint merged {}` was killed by a signal\n--- stderr:\n{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out)
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
// Scratch folder and copying

struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Result<Scratch, String> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "chlint-oracle-{}-{}-{nanos}-{label}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Scratch(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Copy `from`'s contents into `to`; at the top level, skip the files that
/// are not configuration (`env`, `probe`).
fn copy_tree(from: &Path, to: &Path, scratch: &Path, top: bool) -> Result<(), String> {
    let entries = fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", from.display()))?;
        let name = entry.file_name();
        if top && NOT_CONFIG.iter().any(|n| name == *n) {
            continue;
        }
        let src = entry.path();
        let dst = to.join(&name);
        if src.is_dir() {
            fs::create_dir_all(&dst).map_err(|e| format!("{}: {e}", dst.display()))?;
            copy_tree(&src, &dst, scratch, false)?;
        } else {
            copy_file(&src, &dst, scratch)?;
        }
    }
    Ok(())
}

/// Copy one file, pointing `RUN/etc/` at the scratch folder.
fn copy_file(src: &Path, dst: &Path, scratch: &Path) -> Result<(), String> {
    let bytes = fs::read(src).map_err(|e| format!("{}: {e}", src.display()))?;
    let bytes = match String::from_utf8(bytes) {
        Ok(text) => text
            .replace(RUN_ETC, &format!("{}/", scratch.display()))
            .into_bytes(),
        Err(e) => e.into_bytes(),
    };
    fs::write(dst, bytes).map_err(|e| format!("{}: {e}", dst.display()))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Unified diffs

/// Apply a unified diff to `original`. Context and removed lines must match
/// exactly; `\ No newline at end of file` is honoured on both sides.
fn apply_unified_diff(original: &str, diff: &str) -> Result<String, String> {
    let old_eol = original.ends_with('\n');
    let mut old: Vec<&str> = original.split('\n').collect();
    if old_eol || original.is_empty() {
        old.pop();
    }

    let mut out: Vec<String> = Vec::new();
    let mut next_old = 0usize; // index of the first old line not yet copied
    let mut new_eol = old_eol;
    let mut hunks = 0;
    let mut lines = diff.lines().peekable();

    // Skip the `---`/`+++` header (and anything before the first hunk).
    while let Some(l) = lines.peek() {
        if l.starts_with("@@") {
            break;
        }
        lines.next();
    }

    while let Some(header) = lines.next() {
        let (old_start, old_count, new_count) = parse_hunk_header(header)?;
        hunks += 1;
        // `-0,0` means "insert before the first line"; otherwise 1-based.
        let start = if old_count == 0 {
            old_start
        } else {
            old_start - 1
        };
        if start < next_old || start > old.len() {
            return Err(format!("hunk `{header}` out of order or past the end"));
        }
        out.extend(old[next_old..start].iter().map(|s| s.to_string()));
        let mut pos = start;
        let (mut seen_old, mut seen_new) = (0usize, 0usize);
        // Whether the last line given to the new side lacks its newline.
        let mut new_tail_no_eol = false;
        let mut last = ' ';
        while seen_old < old_count
            || seen_new < new_count
            || lines.peek().is_some_and(|l| l.starts_with('\\'))
        {
            let Some(line) = lines.next() else {
                return Err(format!("hunk `{header}` is truncated"));
            };
            // Some tools strip the space of an empty context line.
            let (kind, body) = match line.chars().next() {
                None => (' ', ""),
                Some(c) => (c, &line[c.len_utf8()..]),
            };
            match kind {
                ' ' | '-' => {
                    let Some(have) = old.get(pos) else {
                        return Err(format!(
                            "hunk `{header}`: the diff goes past the end of the file"
                        ));
                    };
                    if *have != body {
                        return Err(format!(
                            "hunk `{header}`: line {} is {have:?}, the diff expects {body:?}",
                            pos + 1
                        ));
                    }
                    pos += 1;
                    seen_old += 1;
                    if kind == ' ' {
                        out.push(body.to_string());
                        seen_new += 1;
                        new_tail_no_eol = false;
                    }
                }
                '+' => {
                    out.push(body.to_string());
                    seen_new += 1;
                    new_tail_no_eol = false;
                }
                '\\' => {
                    if last == ' ' || last == '+' {
                        new_tail_no_eol = true;
                    }
                }
                other => return Err(format!("hunk `{header}`: unexpected line kind {other:?}")),
            }
            if kind != '\\' {
                last = kind;
            }
        }
        if seen_old != old_count || seen_new != new_count {
            return Err(format!(
                "hunk `{header}` has {seen_old} old and {seen_new} new lines"
            ));
        }
        next_old = pos;
        if next_old == old.len() {
            new_eol = !new_tail_no_eol;
        }
        // Skip anything between hunks that is not a hunk (e.g. a second file's header).
        while let Some(l) = lines.peek() {
            if l.starts_with("@@") {
                break;
            }
            if !l.trim().is_empty() {
                return Err(format!("unexpected line after hunk `{header}`: {l:?}"));
            }
            lines.next();
        }
    }
    if hunks == 0 {
        return Err("the diff has no hunk".to_string());
    }
    out.extend(old[next_old..].iter().map(|s| s.to_string()));
    let mut text = out.join("\n");
    if new_eol && !out.is_empty() {
        text.push('\n');
    }
    Ok(text)
}

/// `@@ -a,b +c,d @@` → (a, b, d); a missing count is 1.
fn parse_hunk_header(header: &str) -> Result<(usize, usize, usize), String> {
    let bad = || format!("bad hunk header {header:?}");
    let inner = header
        .strip_prefix("@@ ")
        .and_then(|h| h.split(" @@").next())
        .ok_or_else(bad)?;
    let mut parts = inner.split(' ');
    let range = |part: Option<&str>, sign: char| -> Result<(usize, usize), String> {
        let part = part.and_then(|p| p.strip_prefix(sign)).ok_or_else(bad)?;
        let (start, count) = part.split_once(',').unwrap_or((part, "1"));
        Ok((
            start.parse().map_err(|_| bad())?,
            count.parse().map_err(|_| bad())?,
        ))
    };
    let (old_start, old_count) = range(parts.next(), '-')?;
    let (_, new_count) = range(parts.next(), '+')?;
    Ok((old_start, old_count, new_count))
}

// ---------------------------------------------------------------------------
// Tree comparison

/// Compare two XML documents as element trees: names, attributes (in any
/// order), element children in order, and each element's text (its text
/// children joined, trimmed). Comments and whitespace-only text do not count.
fn compare_xml(what: &str, expected: &str, actual: &str) -> Result<(), String> {
    let limits = Limits::default();
    let exp = xml::parse(SourceId(0), expected, &limits)
        .map_err(|e| format!("{what}: the expected XML does not parse: {e:?}\n{expected}"))?;
    let act = xml::parse(SourceId(0), actual, &limits)
        .map_err(|e| format!("{what}: chlint's output does not parse: {e:?}\n{actual}"))?;
    match first_difference(&exp, &act, &format!("/{}", exp.name)) {
        None => Ok(()),
        Some(diff) => {
            let mut report = format!("{what}: differs from ClickHouse at {diff}\n");
            let _ = write!(
                report,
                "--- expected (ClickHouse 18.16 preprocessed {what}):\n{expected}\n\
                 --- actual (chlint merged --clickhouse-version 18):\n{actual}"
            );
            Err(report)
        }
    }
}

fn text_of(e: &Element) -> String {
    let mut s = String::new();
    for n in &e.children {
        if let Node::Text(t) = n {
            s.push_str(&t.value);
        }
    }
    s.trim().to_string()
}

fn attrs_of(e: &Element) -> Vec<(String, String)> {
    let mut a: Vec<(String, String)> = e
        .attrs
        .iter()
        .map(|a| (a.name.clone(), a.value.clone()))
        .collect();
    a.sort();
    a
}

fn child_elements(e: &Element) -> Vec<&Element> {
    e.elements().collect()
}

/// The path to the first difference and what differs there.
fn first_difference(exp: &Element, act: &Element, path: &str) -> Option<String> {
    if exp.name != act.name {
        return Some(format!(
            "{path}: element name: expected <{}>, chlint has <{}>",
            exp.name, act.name
        ));
    }
    let (ea, aa) = (attrs_of(exp), attrs_of(act));
    if ea != aa {
        return Some(format!(
            "{path}: attributes: expected {ea:?}, chlint has {aa:?}"
        ));
    }
    let (et, at) = (text_of(exp), text_of(act));
    if et != at {
        return Some(format!("{path}: text: expected {et:?}, chlint has {at:?}"));
    }
    let (ec, ac) = (child_elements(exp), child_elements(act));
    for (i, (e, a)) in ec.iter().zip(ac.iter()).enumerate() {
        let step = step_name(&ec, i);
        if let Some(d) = first_difference(e, a, &format!("{path}/{step}")) {
            return Some(d);
        }
    }
    if ec.len() != ac.len() {
        let names = |v: &[&Element], from: usize| {
            v[from..]
                .iter()
                .map(|e| format!("<{}>", e.name))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let common = ec.len().min(ac.len());
        return Some(if ec.len() > ac.len() {
            format!(
                "{path}: chlint lacks child element(s) {} (expected {} children, chlint has {})",
                names(&ec, common),
                ec.len(),
                ac.len()
            )
        } else {
            format!(
                "{path}: chlint has extra child element(s) {} (expected {} children, chlint has {})",
                names(&ac, common),
                ec.len(),
                ac.len()
            )
        });
    }
    None
}

/// `name`, or `name[k]` (1-based among same-named siblings) when the name repeats.
fn step_name(siblings: &[&Element], i: usize) -> String {
    let name = &siblings[i].name;
    let same = siblings.iter().filter(|e| e.name == *name).count();
    if same == 1 {
        name.clone()
    } else {
        let k = siblings[..=i].iter().filter(|e| e.name == *name).count();
        format!("{name}[{k}]")
    }
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
