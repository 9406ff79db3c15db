//! Comparing two XML documents as element trees, the way the differential
//! tests compare chlint's merged output with a server's preprocessed file.

use std::fmt::Write as _;

use chlint::clickhouse::element::{Element, Node};
use chlint::source::SourceId;
use chlint::syntax::{xml, Limits};

/// Compare two XML documents as element trees: names, attributes (in any
/// order), element children in order, and each element's text (its text
/// children joined, trimmed). Comments and whitespace-only text do not count.
pub fn compare_xml(what: &str, expected: &str, actual: &str) -> Result<(), String> {
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

/// An element's text: its text nodes, each trimmed, joined. Whitespace at the
/// edges of a text node is layout (chlint's writer puts mixed content on
/// lines of its own).
fn text_of(e: &Element) -> String {
    let mut s = String::new();
    for n in &e.children {
        if let Node::Text(t) = n {
            s.push_str(t.value.trim());
        }
    }
    s
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
pub fn first_difference(exp: &Element, act: &Element, path: &str) -> Option<String> {
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
