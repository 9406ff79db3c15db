//! The block-style YAML fast path (`syntax::yaml_block`) must build exactly
//! what saphyr builds — values, nulls and every span — on each text it
//! takes, and leave every text saphyr rejects to saphyr. Checked on every
//! YAML file of the repository and of the shared corpus (when present), and
//! on thousands of mutations of them (seeded, so a failure replays).

use std::fs;
use std::path::{Path, PathBuf};

use chlint::source::SourceId;
use chlint::syntax::yaml::{parse_block_subset, parse_with_saphyr};
use chlint::syntax::Limits;

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

fn texts() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["testdata", "examples", "../shared/corpus"] {
        yaml_files(&root.join(dir), &mut files);
    }
    files.sort();
    files
        .into_iter()
        .filter_map(|p| fs::read_to_string(&p).ok().map(|t| (p, t)))
        .collect()
}

/// `None` when the fast path agrees (or leaves the text to saphyr), else
/// what differs.
fn disagreement(text: &str) -> Option<String> {
    let limits = Limits::default();
    let fast = parse_block_subset(SourceId(0), text, &limits)?;
    match parse_with_saphyr(SourceId(0), text, &limits) {
        Ok(reference) if reference == fast => None,
        Ok(reference) => Some(format!("fast {fast:?}\nsaphyr {reference:?}")),
        Err(e) => Some(format!("saphyr rejects it ({e:?}), the fast path took it")),
    }
}

#[test]
fn the_fast_path_builds_what_saphyr_builds_on_every_file() {
    let texts = texts();
    assert!(texts.len() > 50, "YAML files found: {}", texts.len());
    let mut taken_bytes = 0;
    let mut all_bytes = 0;
    for (path, text) in &texts {
        all_bytes += text.len();
        if parse_block_subset(SourceId(0), text, &Limits::default()).is_some() {
            taken_bytes += text.len();
        }
        if let Some(d) = disagreement(text) {
            panic!("{}: {d}", path.display());
        }
    }
    // Most bytes go the fast way, or the fast path is of no use.
    assert!(
        taken_bytes * 2 > all_bytes,
        "{taken_bytes} of {all_bytes} bytes"
    );
}

/// xorshift: mutations that replay from a seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// Fragments that change what YAML means: indicators, markers, spaces,
/// line breaks.
const FRAGMENTS: &[&str] = &[
    ": ", " #", "#", "-", "- ", "'", "\"", "[", "]", "{", "}", ",", "&a ", "*a", "|", ">", "|-",
    ">-", "\n", "  ", " ", "---\n", "...\n", "\\", "x", "!", "?", ":", "''", "\\n", "\n\n",
    "   \n", "k: v\n", "- x\n", "null", "~", "<<: *a\n", "é", "%", "|+", "|2", "{}", "[]",
    "[a, b]", "{a: 1}", "\t",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    for _ in 0..1 + rng.below(3) {
        let i = rng.below(lines.len());
        match rng.below(8) {
            0 if lines.len() > 1 => {
                lines.remove(i);
            }
            1 => lines.insert(i, lines[i].clone()),
            2 => lines[i] = format!("{}{}", " ".repeat(1 + rng.below(3)), lines[i]),
            3 => {
                let k = 1 + rng.below(3);
                if lines[i].starts_with(&" ".repeat(k)) {
                    lines[i] = lines[i][k..].to_string();
                }
            }
            4 => {
                let j = rng.below(lines.len());
                lines.swap(i, j);
            }
            _ => {
                let line = &lines[i];
                let mut at = rng.below(line.len() + 1);
                while !line.is_char_boundary(at) {
                    at -= 1;
                }
                let fragment = FRAGMENTS[rng.below(FRAGMENTS.len())];
                lines[i] = format!("{}{fragment}{}", &line[..at], &line[at..]);
            }
        }
    }
    let mut out = lines.concat();
    if rng.below(10) == 0 {
        let mut cut = rng.below(out.len() + 1);
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

#[test]
fn the_fast_path_agrees_with_saphyr_on_mutated_files() {
    let texts = texts();
    let mut rng = Rng(0x5EED_CAFE);
    let (mut tried, mut taken) = (0, 0);
    for (path, text) in &texts {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        for _ in 0..40 {
            // A window of a few dozen lines keeps mutants small and varied.
            let start = rng.below(lines.len());
            let end = (start + 1 + rng.below(40)).min(lines.len());
            let mutant = mutate(&mut rng, &lines[start..end].concat());
            tried += 1;
            if parse_block_subset(SourceId(0), &mutant, &Limits::default()).is_some() {
                taken += 1;
            }
            if let Some(d) = disagreement(&mutant) {
                panic!(
                    "mutant of {} (#{tried}):\n{mutant}\n---\n{d}",
                    path.display()
                );
            }
        }
    }
    // Mutants must exercise the fast path, not only its refusals.
    assert!(taken * 5 > tried, "{taken} of {tried} mutants taken");
}
