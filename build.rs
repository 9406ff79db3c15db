//! Compiles the rule pages in `rules/` into the binary, so `chlint explain`
//! and SARIF help need no files at run time.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=rules");
    let mut pages: Vec<(String, String)> = std::fs::read_dir("rules")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let code = name.strip_suffix(".md")?.split('-').next()?.to_string();
                    (code.starts_with("CH") && code.len() == 5).then_some((code, name))
                })
                .collect()
        })
        .unwrap_or_default();
    pages.sort();
    let mut out = String::from(
        "/// The page of a rule, by code.\npub fn page(code: &str) -> Option<&'static str> {\n    Some(match code {\n",
    );
    // The pages' text goes into the generated file itself, not an
    // include_str! of their absolute paths: a target folder shared by
    // checkouts in other places (CI caches, pre-commit's clones) may keep
    // this output while the checkout it named is gone.
    for (code, file) in &pages {
        let text = std::fs::read_to_string(Path::new("rules").join(file)).expect("a rule page");
        writeln!(out, "        {code:?} => {text:?},").unwrap();
    }
    out.push_str("        _ => return None,\n    })\n}\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("set by cargo")).join("rule_pages.rs");
    std::fs::write(dest, out).expect("write rule_pages.rs");
}
