//! The fuzz targets' code (`chlint::fuzzing`) on stable Rust: every input
//! the fuzzers once broke chlint with (`fuzz/regressions/TARGET/`), and every
//! fixture of the repository, must pass through without a panic.

use std::fs;
use std::path::{Path, PathBuf};

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else if path.file_name().is_some_and(|n| n != "README.md") {
            out.push(path);
        }
    }
}

fn regressions(target: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    files_under(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/regressions")
            .join(target),
        &mut out,
    );
    out.sort();
    out
}

fn fixtures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["testdata", "examples"] {
        files_under(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), &mut out);
    }
    out.sort();
    out
}

fn scratch(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz-{name}"))
}

#[test]
fn parser_regressions_and_fixtures() {
    for path in regressions("xml").iter().chain(&fixtures()) {
        chlint::fuzzing::xml(&fs::read(path).unwrap());
    }
    for path in regressions("yaml").iter().chain(&fixtures()) {
        chlint::fuzzing::yaml(&fs::read(path).unwrap());
    }
}

#[test]
fn merge_regressions_and_fixture_pairs() {
    for path in regressions("merge") {
        chlint::fuzzing::merge(&fs::read(path).unwrap());
    }
    // Each fixture merged over every other of the same folder.
    let all = fixtures();
    for a in &all {
        for b in all.iter().filter(|b| b.parent() == a.parent() && *b != a) {
            let mut data = fs::read(a).unwrap();
            data.push(0);
            data.extend(fs::read(b).unwrap());
            chlint::fuzzing::merge(&data);
        }
    }
}

#[test]
fn pipeline_regressions() {
    let dir = scratch("pipeline");
    for path in regressions("pipeline") {
        chlint::fuzzing::pipeline(&fs::read(&path).unwrap(), &dir);
    }
}

#[test]
fn deploy_regressions_and_fixtures() {
    let dir = scratch("deploy");
    for path in regressions("deploy") {
        chlint::fuzzing::deploy(&fs::read(&path).unwrap(), &dir);
    }
    // Every YAML fixture as each kind of deployment file.
    for path in fixtures()
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
    {
        let text = fs::read(path).unwrap();
        for which in 0..5u8 {
            let mut data = vec![which];
            data.extend(&text);
            chlint::fuzzing::deploy(&data, &dir);
        }
    }
}

#[test]
fn terraform_regressions_and_fixtures() {
    let dir = scratch("terraform");
    for path in regressions("terraform") {
        chlint::fuzzing::terraform(&fs::read(&path).unwrap(), &dir);
    }
    for path in fixtures()
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
    {
        chlint::fuzzing::terraform(&fs::read(path).unwrap(), &dir);
    }
}
