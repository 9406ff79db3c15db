//! Substitutions ClickHouse performs after merging: `incl` (from the include
//! file), `from_env` (only when chlint is given the variable) and `from_zk`
//! (never known here). What cannot be resolved stays marked, so the model
//! treats it as set from outside.

use std::collections::{HashMap, VecDeque};

use super::element::{Element, Node};
use super::merge::Flavor;
use crate::source::Span;
use crate::syntax::{xml, Limits};

pub struct Context<'a> {
    /// Root of the include file (`include_from`), when the repository has it.
    pub include: Option<&'a Element>,
    /// Environment given explicitly (`chlint merged --env`); never the
    /// process environment. When given, it is the server's whole
    /// environment: a variable it lacks is unset.
    pub env: Option<&'a HashMap<String, String>>,
    /// ClickHouse 18.x looks names up only under an include file whose root
    /// is `<yandex>`, and gives `<include>` no special meaning.
    pub flavor: Flavor,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SubstNote {
    /// `incl` names a node the include file does not have (the element stays).
    IncludeNotFound { name: String, span: Span },
    /// More than one of `incl`, `from_env`, `from_zk` on one element
    /// (ClickHouse refuses to start).
    Conflicting { span: Span },
    /// A `from_env` value that is not valid XML content (ClickHouse refuses
    /// to start).
    BadEnvValue { var: String, span: Span },
    /// Substitutions stopped here: included content kept including more
    /// (the element stays unresolved, i.e. set from outside).
    LimitReached { span: Span },
}

const SUBST_ATTRS: [&str; 3] = ["incl", "from_env", "from_zk"];

/// Bound on substitutions per tree: included content may include again.
const MAX_SUBSTITUTIONS: usize = 10_000;

/// What substitutions may still do to one tree.
struct Budget {
    substitutions: usize,
    /// Nodes that included content may still add.
    nodes: usize,
    noted: bool,
}

impl Budget {
    fn exhausted(&mut self, span: Span, notes: &mut Vec<SubstNote>) {
        self.substitutions = 0;
        if !self.noted {
            self.noted = true;
            notes.push(SubstNote::LimitReached { span });
        }
    }
}

/// Nodes of a subtree, or `None` when there are more than `limit`.
fn size_within(e: &Element, limit: usize) -> Option<usize> {
    let mut n = 0usize;
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        n += 1 + e.attrs.len() + e.children.len();
        if n > limit {
            return None;
        }
        stack.extend(e.elements());
    }
    Some(n)
}

pub fn substitute(root: &mut Element, ctx: &Context, notes: &mut Vec<SubstNote>) {
    let limits = Limits::default();
    let mut budget = Budget {
        substitutions: MAX_SUBSTITUTIONS,
        nodes: limits.max_nodes,
        noted: false,
    };
    walk(root, ctx, notes, &mut budget, 0, limits.max_depth);
}

enum Resolution {
    Found(Element),
    Missing,
    Unknown,
}

fn resolve(
    e: &Element,
    ctx: &Context,
    notes: &mut Vec<SubstNote>,
    budget: &mut Budget,
) -> Option<Resolution> {
    let present: Vec<&str> = SUBST_ATTRS
        .iter()
        .copied()
        .filter(|a| e.has_attr(a))
        .collect();
    if present.len() > 1 {
        notes.push(SubstNote::Conflicting { span: e.span });
        return None;
    }
    let kind = *present.first()?;
    let value = e.attr(kind).unwrap_or_default();
    Some(match kind {
        "incl" => match ctx.include {
            Some(inc) if ctx.flavor == Flavor::Legacy && inc.name != "yandex" => {
                Resolution::Missing
            }
            None => Resolution::Missing,
            Some(inc) => match inc.find(value) {
                Some(node) => match size_within(node, budget.nodes) {
                    Some(size) => {
                        budget.nodes -= size;
                        Resolution::Found(node.clone())
                    }
                    None => {
                        budget.exhausted(e.span, notes);
                        return None;
                    }
                },
                None => Resolution::Missing,
            },
        },
        "from_env" => match ctx.env.map(|env| env.get(value)) {
            None => Resolution::Unknown,
            Some(None) => Resolution::Missing,
            Some(Some(text)) => {
                let wrapped = format!("<from_env>{text}</from_env>");
                match xml::parse(e.span.source, &wrapped, &Limits::default()) {
                    Ok(mut node) => {
                        relocate(&mut node, e.span);
                        Resolution::Found(node)
                    }
                    Err(_) => {
                        notes.push(SubstNote::BadEnvValue {
                            var: value.to_string(),
                            span: e.span,
                        });
                        return None;
                    }
                }
            }
        },
        _ => Resolution::Unknown,
    })
}

/// Text parsed from an environment value has no place in a file: point it at
/// the element that asked for it.
fn relocate(e: &mut Element, span: Span) {
    e.span = span;
    for n in &mut e.children {
        match n {
            Node::Element(c) => relocate(c, span),
            Node::Text(t) => t.span = span,
        }
    }
}

/// Resolve substitutions below `e`. Included content is walked too (it may
/// include again), down to `max_depth` levels; `<include>` elements are
/// replaced by what they name.
fn walk(
    e: &mut Element,
    ctx: &Context,
    notes: &mut Vec<SubstNote>,
    budget: &mut Budget,
    depth: usize,
    max_depth: usize,
) {
    if depth >= max_depth || e.children.is_empty() {
        return;
    }
    // Children are rebuilt in one pass, so that many includes under one
    // parent stay linear.
    let mut pending: VecDeque<Node> = std::mem::take(&mut e.children).into();
    let mut out: Vec<Node> = Vec::with_capacity(pending.len());
    while let Some(node) = pending.pop_front() {
        let Node::Element(mut child) = node else {
            out.push(node);
            continue;
        };
        let resolution = if budget.substitutions > 0 {
            resolve(&child, ctx, notes, budget)
        } else {
            if SUBST_ATTRS.iter().any(|a| child.has_attr(a)) {
                budget.exhausted(child.span, notes);
            }
            None
        };
        if resolution.is_some() {
            budget.substitutions = budget.substitutions.saturating_sub(1);
        }
        let is_include = child.name == "include" && ctx.flavor == Flavor::Modern;
        match resolution {
            Some(Resolution::Found(node)) if is_include => {
                // <include> is replaced in place by what it names; the new
                // children are walked next.
                for n in node.children.into_iter().rev() {
                    pending.push_front(n);
                }
                continue;
            }
            Some(Resolution::Found(node)) => {
                if child.has_attr("replace") {
                    child.children.clear();
                    child.remove_attr("replace");
                }
                for kind in SUBST_ATTRS {
                    child.remove_attr(kind);
                }
                child.set_attrs(&node.attrs);
                child.children.extend(node.children);
            }
            Some(Resolution::Missing) => {
                if child.has_attr("optional") || is_include {
                    continue;
                }
                if let Some(name) = child.attr("incl") {
                    notes.push(SubstNote::IncludeNotFound {
                        name: name.to_string(),
                        span: child.span,
                    });
                }
            }
            Some(Resolution::Unknown) | None => {}
        }
        walk(&mut child, ctx, notes, budget, depth + 1, max_depth);
        out.push(Node::Element(child));
    }
    e.children = out;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceId;

    fn parse(s: &str) -> Element {
        xml::parse(SourceId(0), s, &Limits::default()).unwrap()
    }

    #[test]
    fn incl_appends_the_named_node_and_replace_drops_the_old_children() {
        let inc = parse("<yandex><networks><ip>127.0.0.1/32</ip></networks></yandex>");
        let mut root = parse(
            "<c><networks incl=\"networks\" replace=\"replace\"><ip>::/0</ip></networks><macros incl=\"macros\" optional=\"true\"/><r incl=\"nope\"/></c>",
        );
        let mut notes = Vec::new();
        let ctx = Context {
            include: Some(&inc),
            env: None,
            flavor: Flavor::Modern,
        };
        substitute(&mut root, &ctx, &mut notes);
        let ips: Vec<String> = root
            .find("networks")
            .unwrap()
            .children_named("ip")
            .map(|e| e.value())
            .collect();
        assert_eq!(ips, ["127.0.0.1/32"]);
        assert!(
            root.child("macros").is_none(),
            "optional and missing: removed"
        );
        assert_eq!(root.child("r").unwrap().attr("incl"), Some("nope"));
        assert!(matches!(&notes[..], [SubstNote::IncludeNotFound { name, .. }] if name == "nope"));
    }

    #[test]
    fn self_including_content_is_bounded() {
        // Each level includes itself twice: exponential without a budget.
        let inc =
            parse("<yandex><x><a incl=\"x\"/><b incl=\"x\"/><pad>0123456789</pad></x></yandex>");
        let mut root = parse("<c><r incl=\"x\"/><include incl=\"x\"/></c>");
        let mut notes = Vec::new();
        let started = std::time::Instant::now();
        substitute(
            &mut root,
            &Context {
                include: Some(&inc),
                env: None,
                flavor: Flavor::Modern,
            },
            &mut notes,
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(
            notes
                .iter()
                .any(|n| matches!(n, SubstNote::LimitReached { .. })),
            "{notes:?}"
        );
        let mut depth = 0;
        let mut e = &root;
        while let Some(next) = e.child("r").or_else(|| e.child("a")) {
            depth += 1;
            e = next;
        }
        assert!(depth <= 2 * Limits::default().max_depth, "{depth}");
    }

    #[test]
    fn from_env_is_resolved_only_when_given() {
        let mut root = parse("<c><password from_env=\"PW\"/></c>");
        substitute(
            &mut root,
            &Context {
                include: None,
                env: None,
                flavor: Flavor::Modern,
            },
            &mut Vec::new(),
        );
        assert!(root.child("password").unwrap().is_external());
        let env = HashMap::from([("PW".to_string(), "s3cret".to_string())]);
        substitute(
            &mut root,
            &Context {
                include: None,
                env: Some(&env),
                flavor: Flavor::Modern,
            },
            &mut Vec::new(),
        );
        let pw = root.child("password").unwrap();
        assert_eq!(pw.value(), "s3cret");
        assert!(!pw.is_external());
    }

    #[test]
    fn an_environment_given_is_the_whole_environment() {
        // Regression (real 18.16 server): with the environment known, an
        // unset variable under `optional` removes the element.
        let mut root =
            parse("<c><a from_env=\"UNSET\" optional=\"1\"/><b from_env=\"UNSET\"/></c>");
        let env = HashMap::new();
        let ctx = Context {
            include: None,
            env: Some(&env),
            flavor: Flavor::Legacy,
        };
        substitute(&mut root, &ctx, &mut Vec::new());
        assert!(root.child("a").is_none());
        assert_eq!(root.child("b").unwrap().attr("from_env"), Some("UNSET"));
    }

    #[test]
    fn legacy_includes_need_a_yandex_root_and_know_no_include_element() {
        // Regression (real 18.16 server): it looks names up under `yandex/`
        // only, and `<include>` is an ordinary element there.
        let doc = "<c><n incl=\"v\"/><include incl=\"v\"/></c>";
        let run = |inc: &str, flavor| {
            let inc = parse(inc);
            let mut root = parse(doc);
            let ctx = Context {
                include: Some(&inc),
                env: None,
                flavor,
            };
            substitute(&mut root, &ctx, &mut Vec::new());
            root
        };
        let legacy = run("<clickhouse><v>1</v></clickhouse>", Flavor::Legacy);
        assert_eq!(legacy.child("n").unwrap().attr("incl"), Some("v"));
        let legacy = run("<yandex><v>1</v></yandex>", Flavor::Legacy);
        assert_eq!(legacy.child("n").unwrap().value(), "1");
        assert_eq!(legacy.child("include").unwrap().value(), "1");
        let modern = run("<clickhouse><v><x/></v></clickhouse>", Flavor::Modern);
        assert!(modern.child("n").unwrap().child("x").is_some());
        assert!(modern.child("include").is_none() && modern.child("x").is_some());
    }
}
