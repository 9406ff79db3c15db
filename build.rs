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
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    for (code, file) in &pages {
        let path = Path::new(&root).join("rules").join(file);
        writeln!(
            out,
            "        {code:?} => include_str!({:?}),",
            path.display().to_string()
        )
        .unwrap();
    }
    out.push_str("        _ => return None,\n    })\n}\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("set by cargo")).join("rule_pages.rs");
    std::fs::write(dest, out).expect("write rule_pages.rs");
}
