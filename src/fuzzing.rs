//! Entry points of the fuzz targets (`fuzz/`), kept in the library so that
//! the regression test (`tests/fuzz_regressions.rs`) replays the same code
//! on stable Rust. Each takes arbitrary bytes; a panic or a broken invariant
//! is a bug.

use std::path::Path;

use crate::clickhouse::element::{Element, Node};
use crate::clickhouse::load::{decode, parse_config, Workspace};
use crate::clickhouse::merge::{merge as merge_trees, Flavor};
use crate::clickhouse::substitute::{substitute, Context};
use crate::clickhouse::write::{to_xml, Options};
use crate::clickhouse::yaml_map::yaml_to_element;
use crate::model::ServerKind;
use crate::source::{SourceId, Span};
use crate::syntax::{self, Limits};

/// Every span of a tree lies inside its text, on character boundaries.
fn check_spans(root: &Element, source: SourceId, text: &str) {
    let ok = |s: Span| {
        s.source != source
            || (s.start <= s.end
                && (s.end as usize) <= text.len()
                && text.is_char_boundary(s.start as usize)
                && text.is_char_boundary(s.end as usize))
    };
    root.walk(&mut |e| {
        assert!(ok(e.span), "element span {:?} of <{}>", e.span, e.name);
        for a in &e.attrs {
            assert!(ok(a.span), "attribute span {:?}", a.span);
        }
        for n in &e.children {
            if let Node::Text(t) = n {
                assert!(ok(t.span), "text span {:?}", t.span);
            }
        }
    });
}

/// The XML parser, then the writer on what it parsed.
pub fn xml(data: &[u8]) {
    let Ok(text) = decode(data) else { return };
    let source = SourceId(0);
    if let Ok(root) = syntax::xml::parse(source, &text, &Limits::default()) {
        check_spans(&root, source, &text);
        reparse_if_names_are_xml(&root);
    }
}

/// Can this name be written as an XML name? YAML keys can be anything;
/// ClickHouse (and `chlint merged`) writes them as they are.
fn xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_alphanumeric() || "_:.-".contains(c))
}

fn xml_names_only(root: &Element) -> bool {
    let mut ok = true;
    root.walk(&mut |e| {
        ok &= xml_name(&e.name) && e.attrs.iter().all(|a| xml_name(&a.name));
    });
    ok
}

/// What the writer prints (`chlint merged`) is well-formed XML again, when
/// every name is an XML name.
fn reparse_if_names_are_xml(root: &Element) {
    if xml_names_only(root) {
        reparse(&to_xml(root, &Options::exact()));
    }
}

fn reparse(written: &str) {
    let limits = Limits {
        max_depth: 2 * Limits::default().max_depth + 2,
        ..Limits::default()
    };
    if let Err(e) = syntax::xml::parse(SourceId(9), written, &limits) {
        panic!("written XML does not parse: {e:?}\n{written}");
    }
}

/// The YAML parser and the YAML → element mapping; the block-style fast
/// path, where it takes the text, builds what saphyr builds.
pub fn yaml(data: &[u8]) {
    let Ok(text) = decode(data) else { return };
    let source = SourceId(0);
    if let Some(fast) = syntax::yaml::parse_block_subset(source, &text, &Limits::default()) {
        let reference = syntax::yaml::parse_with_saphyr(source, &text, &Limits::default());
        assert_eq!(
            Ok(&fast),
            reference.as_ref(),
            "fast path differs on {text:?}"
        );
    }
    let Ok(docs) = syntax::yaml::parse_documents(source, &text, &Limits::default()) else {
        return;
    };
    for doc in &docs {
        assert!((doc.span.end as usize) <= text.len());
        if let Ok(conv) = yaml_to_element(doc, Span::new(source, 0, 0)) {
            check_spans(&conv.root, source, &text);
        }
    }
}

/// Up to four configuration files separated by NUL bytes, each XML or YAML
/// by its first byte (`<` or not): merged in order with both flavours,
/// substituted with the last as the include file, lowered and written.
pub fn merge(data: &[u8]) {
    let mut trees = Vec::new();
    for (i, part) in data.split(|b| *b == 0).take(4).enumerate() {
        let Ok(text) = decode(part) else { continue };
        let yaml = !text.trim_start().starts_with('<');
        let source = SourceId(i as u32);
        if let Ok((root, _)) = parse_config(source, &text, yaml, &Limits::default()) {
            check_spans(&root, source, &text);
            trees.push(root);
        }
    }
    let Some((first, rest)) = trees.split_first() else {
        return;
    };
    for flavor in [Flavor::Modern, Flavor::Legacy] {
        let mut root = first.clone();
        let mut notes = Vec::new();
        for other in rest {
            let _ = merge_trees(&mut root, other, flavor, &mut notes);
        }
        let mut subst_notes = Vec::new();
        substitute(
            &mut root,
            &Context {
                include: trees.last(),
                env: None,
                flavor,
            },
            &mut subst_notes,
        );
        let _ = crate::lower::listeners(&root, ServerKind::Server);
        let _ = crate::lower::listeners(&root, ServerKind::Keeper);
        let _ = crate::lower::users(&root);
        let _ = to_xml(&root, &Options::exact());
        reparse_if_names_are_xml(&root);
    }
}

/// File names the pipeline target writes parts to. The first sixteen are
/// ClickHouse configuration (the seeds use their indices); the rest are
/// deployment files.
const PIPELINE_FILES: [&str; 24] = [
    "config.xml",
    "config.d/a.xml",
    "config.d/b.yaml",
    "users.xml",
    "users.d/u.xml",
    "users.d/v.yaml",
    "conf.d/c.xml",
    "metrika.xml",
    "keeper_config.xml",
    "keeper_config.d/k.yaml",
    "config.yaml",
    "users.yaml",
    "s/config.xml",
    "s/config.d/z.xml",
    "o/override.xml",
    "o/listen.yaml",
    "docker-compose.yml",
    "k8s/clickhouse.yaml",
    "chart/Chart.yaml",
    "chart/values.yaml",
    "chi.yaml",
    "tf/main.tf",
    "tf/main.tf.json",
    "tf/terraform.tfvars",
];

/// The whole pipeline over a folder: parts separated by NUL bytes, each
/// written to a file named by its first byte, then `check` with every output
/// format. `dir` is emptied first. An internal error is a bug.
pub fn pipeline(data: &[u8], dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("fuzz folder");
    for part in data.split(|b| *b == 0).take(8) {
        let Some((&which, content)) = part.split_first() else {
            continue;
        };
        let path = dir.join(PIPELINE_FILES[which as usize % PIPELINE_FILES.len()]);
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("fuzz folder");
        std::fs::write(&path, content).expect("fuzz file");
    }
    let mut ws = Workspace::default();
    let report = crate::check::check_paths(&mut ws, &[dir.to_path_buf()]);
    assert!(
        report.internal_errors.is_empty(),
        "{:?}",
        report.internal_errors
    );
    let json = crate::report::json::render(&report, &ws.sources);
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert!(parsed["findings"].is_array());
    let human = crate::report::human::render(
        &report,
        &ws.sources,
        &crate::report::human::Style { color: false },
    );
    assert!(human.ends_with('\n'));
    let sarif = crate::report::sarif::render(&report, &ws.sources, &|r| r.severity, None);
    let _: serde_json::Value = serde_json::from_str(&sarif).expect("valid SARIF JSON");
    let _ = crate::report::github::render(&report, &ws.sources);
}

/// Files the frontends target reads its input as, by its first byte.
const DEPLOY_FILES: [&str; 5] = [
    "docker-compose.yml",
    "k8s/clickhouse.yaml",
    "chart/values.yaml",
    "chi.yaml",
    "compose.yaml",
];

/// A workspace that reads nothing outside `dir` (bind mounts of `/etc`).
fn confined(dir: &Path) -> Workspace {
    let mut ws = Workspace::default();
    ws.roots = Some(vec![dir
        .canonicalize()
        .unwrap_or_else(|_| dir.to_path_buf())]);
    ws
}

/// The deployment frontends (compose, Kubernetes manifests, Helm values,
/// `ClickHouseInstallation`) on one text named by its first byte, without
/// the file walk and the reports, then the rules on every server built.
/// `dir` names the folder the text is taken to be in (it is not read).
pub fn deploy(data: &[u8], dir: &Path) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = decode(rest) else { return };
    let name = dir.join(DEPLOY_FILES[which as usize % DEPLOY_FILES.len()]);
    let mut ws = confined(dir);
    let out = crate::deploy::discover_text(&mut ws, name, text);
    for server in &out.servers {
        let _ = crate::rules::check_server(server);
    }
    for note in &out.notes {
        let _ = crate::rules::check_notes(note, &mut ws.sources);
    }
}

/// Terraform evaluation and lowering of one root module: parts separated
/// by NUL bytes written to `main.tf`, `m/main.tf` (a local module it may
/// call as `./m`), `terraform.tfvars` and `values.yaml` (for `file()`) in
/// `dir`, which is emptied first. An internal error is a bug.
pub fn terraform(data: &[u8], dir: &Path) {
    const FILES: [&str; 4] = ["main.tf", "m/main.tf", "terraform.tfvars", "values.yaml"];
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("m")).expect("fuzz folder");
    for (part, name) in data.split(|b| *b == 0).zip(FILES) {
        std::fs::write(dir.join(name), part).expect("fuzz file");
    }
    let ws = confined(dir);
    let mut inputs = crate::deploy::terraform::Inputs::default();
    inputs.dirs.insert(dir.to_path_buf());
    inputs.dirs.insert(dir.join("m"));
    inputs.tfvars.push(dir.join("terraform.tfvars"));
    let analysis = crate::deploy::terraform::analyse(&ws, &mut inputs);
    let _ = crate::rules::check_repo(&analysis.repo);
    for server in &analysis.servers {
        let _ = crate::rules::check_server(server);
    }
}
