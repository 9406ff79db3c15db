//! ClickHouse's merge of one configuration file into the accumulated tree
//! (ConfigProcessor::mergeRecursive): elements pair up by identity (name and
//! non-control attributes) in document order, `remove` and `replace` act on
//! one match each, everything else recurses.

use std::collections::{HashMap, HashSet, VecDeque};

use super::element::{Element, Node};
use crate::source::Span;

/// Which server's merge to reproduce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Flavor {
    /// Current ClickHouse (what chlint checks against).
    #[default]
    Modern,
    /// ClickHouse 18.x: attributes of a merged element are not copied, an
    /// appended element keeps its `replace`/`remove` attributes and children,
    /// YAML files are not merged, and a foreign root element is merged anyway.
    Legacy,
}

/// Something the merge saw that a rule may care about.
#[derive(Clone, Debug, PartialEq)]
pub enum MergeNote {
    /// A later file overrode only some of several same-named leaf elements.
    PartialOverride {
        name: String,
        /// Directly under the root, which cannot be replaced as a whole.
        at_root: bool,
        overriding: Vec<Span>,
        surviving: Vec<Span>,
    },
}

/// Fatal for the server: it refuses to start.
#[derive(Clone, Debug, PartialEq)]
pub struct MergeError {
    pub message: String,
    pub span: Span,
}

pub fn merge(
    target: &mut Element,
    source: &Element,
    flavor: Flavor,
    notes: &mut Vec<MergeNote>,
) -> Result<(), MergeError> {
    merge_counting(target, source, flavor, notes, &mut 0)
}

/// [`merge`], adding to `work` the number of target elements it looked at:
/// merging each file scans the children of every element it merges into
/// (as ClickHouse does), so many files merged into a large tree cost their
/// product, which the caller can bound.
pub fn merge_counting(
    target: &mut Element,
    source: &Element,
    flavor: Flavor,
    notes: &mut Vec<MergeNote>,
    work: &mut u64,
) -> Result<(), MergeError> {
    merge_at(target, source, flavor, notes, 0, work)
}

fn merge_at(
    target: &mut Element,
    source: &Element,
    flavor: Flavor,
    notes: &mut Vec<MergeNote>,
    depth: usize,
    work: &mut u64,
) -> Result<(), MergeError> {
    *work += target.children.len() as u64;
    // Only text directly under the target goes; its elements are merged.
    target.children.retain(|n| matches!(n, Node::Element(_)));

    let mut matched = vec![false; target.children.len()];
    let mut removed = vec![false; target.children.len()];
    let mut appended: Vec<Node> = Vec::new();
    let mut pairing = Pairing::default();
    // Unmatched target children by identity, in document order: each source
    // child consumes the first one (a multimap, as ClickHouse keeps).
    // Only children named like some source child can pair: the others are
    // passed over by name, so that merging many small files into a large
    // tree does not compute every identity again for each file.
    let names = Names::of(source.elements().map(|e| e.name.as_str()));
    let mut candidates: HashMap<IdentityKey, VecDeque<usize>> = HashMap::new();
    for (i, n) in target.children.iter().enumerate() {
        if let Node::Element(e) = n {
            if names.contains(&e.name) {
                candidates.entry(e.identity()).or_default().push_back(i);
            }
        }
    }

    for child in &source.children {
        let child = match child {
            Node::Text(t) => {
                appended.push(Node::Text(t.clone()));
                continue;
            }
            Node::Element(e) => e,
        };
        let remove = child.has_attr("remove");
        let replace = child.has_attr("replace");
        if remove && replace {
            return Err(MergeError {
                message: format!(
                    "both `remove` and `replace` are set on <{}>: ClickHouse refuses to start",
                    child.name
                ),
                span: child.span,
            });
        }
        let found = candidates
            .get_mut(&child.identity())
            .and_then(VecDeque::pop_front);
        pairing.record(child, found.is_some(), remove);
        let Some(i) = found else {
            if !remove {
                // 18.x appends the element as written, merge attributes and all.
                appended.push(Node::Element(match flavor {
                    Flavor::Modern => strip_merge_attrs(child),
                    Flavor::Legacy => child.clone(),
                }));
            }
            continue;
        };
        matched[i] = true;
        let Node::Element(existing) = &mut target.children[i] else {
            unreachable!("position() matched an element");
        };
        if remove {
            removed[i] = true;
        } else if replace {
            let mut copy = child.clone();
            if flavor == Flavor::Legacy {
                copy.remove_attr("replace");
            }
            copy.overridden = existing.overridden.clone();
            copy.overridden.push(existing.span);
            *existing = copy;
        } else {
            if flavor == Flavor::Modern {
                if !child.children.is_empty() {
                    for a in ["incl", "from_zk", "from_env"] {
                        existing.remove_attr(a);
                    }
                }
                existing.set_attrs(&child.attrs);
            }
            if !child.has_element_children() {
                existing.overridden.push(existing.span);
                existing.span = child.span;
            }
            merge_at(existing, child, flavor, notes, depth + 1, work)?;
        }
    }

    pairing.note_partial_overrides(target, &matched, depth == 0, notes);

    let mut index = 0;
    target.children.retain(|_| {
        index += 1;
        !removed[index - 1]
    });
    target.children.extend(appended);
    Ok(())
}

/// A set of element names, checked without hashing when it is small.
enum Names<'a> {
    Few(Vec<&'a str>),
    Many(HashSet<&'a str>),
}

impl<'a> Names<'a> {
    fn of(mut names: impl Iterator<Item = &'a str>) -> Names<'a> {
        let mut few: Vec<&str> = Vec::new();
        while let Some(n) = names.next() {
            if few.len() >= 8 {
                let mut many: HashSet<&str> = few.into_iter().collect();
                many.insert(n);
                // The names not yet seen count as much as the first eight.
                many.extend(names);
                return Names::Many(many);
            }
            if !few.contains(&n) {
                few.push(n);
            }
        }
        Names::Few(few)
    }

    fn contains(&self, name: &str) -> bool {
        match self {
            Names::Few(few) => few.contains(&name),
            Names::Many(many) => many.contains(name),
        }
    }
}

/// What one source file did to each identity of leaf element under one parent.
#[derive(Default)]
struct Pairing {
    /// Identities in the order first seen, each with its overriding spans.
    groups: Vec<(IdentityKey, Vec<Span>)>,
    index: HashMap<IdentityKey, usize>,
}

type IdentityKey = (String, Vec<(String, String)>);

impl Pairing {
    fn record(&mut self, child: &Element, matched: bool, remove: bool) {
        if child.has_element_children() || !matched || remove {
            return;
        }
        let identity = child.identity();
        let i = match self.index.get(&identity) {
            Some(&i) => i,
            None => {
                self.index.insert(identity.clone(), self.groups.len());
                self.groups.push((identity, Vec::new()));
                self.groups.len() - 1
            }
        };
        self.groups[i].1.push(child.span);
    }

    /// Leaf elements that the file set some of, and left others of in place.
    fn note_partial_overrides(
        &self,
        target: &Element,
        matched: &[bool],
        at_root: bool,
        notes: &mut Vec<MergeNote>,
    ) {
        if self.groups.is_empty() {
            return;
        }
        // One pass over the target: unmatched elements of a recorded identity.
        let names = Names::of(self.groups.iter().map(|g| g.0 .0.as_str()));
        let mut surviving: Vec<Vec<Span>> = vec![Vec::new(); self.groups.len()];
        for (i, n) in target.children.iter().enumerate() {
            if let Node::Element(e) = n {
                if !matched[i] && names.contains(&e.name) {
                    if let Some(&g) = self.index.get(&e.identity()) {
                        surviving[g].push(e.span);
                    }
                }
            }
        }
        for ((identity, overriding), surviving) in self.groups.iter().zip(surviving) {
            if !surviving.is_empty() {
                notes.push(MergeNote::PartialOverride {
                    name: identity.0.clone(),
                    at_root,
                    overriding: overriding.clone(),
                    surviving,
                });
            }
        }
    }
}

/// An appended element loses nested `replace` attributes and nested elements
/// marked `remove` (there is nothing for them to act on).
fn strip_merge_attrs(element: &Element) -> Element {
    let mut copy = element.clone();
    strip_in_place(&mut copy);
    copy
}

fn strip_in_place(element: &mut Element) {
    element.remove_attr("replace");
    element
        .children
        .retain(|n| !matches!(n, Node::Element(e) if e.has_attr("remove")));
    for child in element.elements_mut() {
        strip_in_place(child);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceId;
    use crate::syntax::{xml, Limits};

    fn parse(id: u32, s: &str) -> Element {
        xml::parse(SourceId(id), s, &Limits::default()).unwrap()
    }

    fn merged(base: &str, overlays: &[&str]) -> (Element, Vec<MergeNote>) {
        let mut root = parse(0, base);
        let mut notes = Vec::new();
        for (i, o) in overlays.iter().enumerate() {
            merge(
                &mut root,
                &parse(i as u32 + 1, o),
                Flavor::Modern,
                &mut notes,
            )
            .unwrap();
        }
        (root, notes)
    }

    fn values(root: &Element, name: &str) -> Vec<String> {
        root.children_named(name).map(|e| e.value()).collect()
    }

    /// An overlay with more distinct child names than fit the small name
    /// set: the later names still pair with the tree's elements, and their
    /// `remove`/`replace` still act.
    #[test]
    fn overlays_with_many_distinct_names_merge_every_child() {
        let apps: String = (0..12)
            .map(|i| format!("<app{i}><password>x</password></app{i}>"))
            .collect();
        let base = "<c><users><default><password></password></default>\
                    <old><password/></old></users><keep>1</keep><drop>1</drop></c>";
        let overlay = format!(
            "<c><users>{apps}<default><password>s3cret</password></default>\
             <old remove=\"1\"/></users>\
             <a1/><a2/><a3/><a4/><a5/><a6/><a7/><a8/><a9/><a10/><a11/><a12/>\
             <keep replace=\"1\">2</keep><drop remove=\"1\"/></c>"
        );
        let (root, _) = merged(base, &[&overlay]);
        let users = root.child("users").unwrap();
        assert_eq!(users.children_named("default").count(), 1);
        assert_eq!(
            users
                .child("default")
                .unwrap()
                .child("password")
                .unwrap()
                .value(),
            "s3cret"
        );
        assert_eq!(users.children_named("old").count(), 0);
        assert_eq!(users.elements().count(), 13);
        assert_eq!(values(&root, "keep"), ["2"]);
        assert_eq!(root.children_named("drop").count(), 0);
    }

    #[test]
    fn repeated_scalars_pair_up_in_order() {
        let (root, notes) = merged(
            "<c><listen_host>::</listen_host><listen_host>0.0.0.0</listen_host></c>",
            &["<c><listen_host>10.0.0.5</listen_host></c>"],
        );
        assert_eq!(values(&root, "listen_host"), ["10.0.0.5", "0.0.0.0"]);
        assert!(
            matches!(&notes[..], [MergeNote::PartialOverride { name, surviving, .. }]
            if name == "listen_host" && surviving.len() == 1)
        );
    }

    #[test]
    fn remove_consumes_one_match_each() {
        let base = "<c><listen_host>::</listen_host><listen_host>0.0.0.0</listen_host></c>";
        for overlay in [
            "<c><listen_host remove=\"1\"/><listen_host remove=\"1\"/><listen_host>10.0.0.5</listen_host></c>",
            "<c><listen_host>10.0.0.5</listen_host><listen_host remove=\"1\"/></c>",
            "<c><listen_host remove=\"1\"/><listen_host>10.0.0.5</listen_host></c>",
        ] {
            let (root, notes) = merged(base, &[overlay]);
            assert_eq!(values(&root, "listen_host"), ["10.0.0.5"], "{overlay}");
            assert!(notes.is_empty(), "{overlay}: {notes:?}");
        }
    }

    #[test]
    fn identity_includes_ordinary_attributes() {
        let (root, _) = merged(
            "<c><users><default><password></password></default></users></c>",
            &["<c><users><default><password encrypted_by=\"AES_128_GCM_SIV\">96ab</password></default></users></c>"],
        );
        let user = root.find("users/default").unwrap();
        assert_eq!(user.children_named("password").count(), 2);
    }

    #[test]
    fn replace_and_remove_act_on_subtrees() {
        let (root, _) = merged(
            "<c><logger><level>trace</level><log>x</log></logger><query_log><t>q</t></query_log></c>",
            &["<c><logger replace=\"replace\"><level>warning</level></logger><query_log remove=\"1\"/><gone remove=\"1\"/></c>"],
        );
        let logger = root.child("logger").unwrap();
        assert_eq!(logger.child("level").unwrap().value(), "warning");
        assert!(logger.child("log").is_none());
        assert!(root.child("query_log").is_none());
        assert!(root.child("gone").is_none());
    }

    #[test]
    fn remove_with_replace_is_an_error() {
        let mut root = parse(0, "<c><q/></c>");
        let err = merge(
            &mut root,
            &parse(1, "<c><q remove=\"1\" replace=\"1\"/></c>"),
            Flavor::Modern,
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(err.message.contains("remove"));
    }

    #[test]
    fn merged_leaf_points_at_the_file_that_decided() {
        let (root, _) = merged(
            "<c><http_port>8123</http_port></c>",
            &["<c><http_port>8124</http_port></c>"],
        );
        let port = root.child("http_port").unwrap();
        assert_eq!(port.value(), "8124");
        assert_eq!(port.span.source, SourceId(1));
        assert_eq!(port.overridden[0].source, SourceId(0));
    }

    #[test]
    fn many_distinct_leaves_merge_in_linear_time() {
        let n = 20_000;
        let base: String = (0..n).map(|i| format!("<k{i}>1</k{i}>")).collect();
        let over: String = (0..n)
            .map(|i| format!("<k{i}>2</k{i}><k{i}>3</k{i}>"))
            .collect();
        let attrs: String = (0..n).map(|i| format!(" a{i}=\"{i}\"")).collect();
        let started = std::time::Instant::now();
        let (root, notes) = merged(
            &format!("<c>{base}<x{attrs}/></c>"),
            &[&format!("<c>{over}<x{attrs}/></c>")],
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(values(&root, "k7"), ["2", "3"]);
        assert_eq!(root.child("x").unwrap().attrs.len(), n);
        assert!(notes.is_empty());
    }

    #[test]
    fn modern_copies_attributes_legacy_does_not() {
        let base = "<c><users><default><password/></default></users></c>";
        let overlay = "<c><users><default><password from_env=\"PW\"/></default></users></c>";
        let mut modern = parse(0, base);
        merge(
            &mut modern,
            &parse(1, overlay),
            Flavor::Modern,
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!(
            modern
                .find("users/default/password")
                .unwrap()
                .attr("from_env"),
            Some("PW")
        );
        let mut legacy = parse(0, base);
        merge(
            &mut legacy,
            &parse(1, overlay),
            Flavor::Legacy,
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!(
            legacy
                .find("users/default/password")
                .unwrap()
                .attr("from_env"),
            None
        );
    }

    #[test]
    fn legacy_appends_elements_as_written() {
        // Regression (found against the real 18.16 server): an element with
        // nothing to merge into is appended with its merge attributes and
        // its children marked `remove`; current ClickHouse strips them.
        let base = "<c><users/></c>";
        let overlay = "<c><chlint_new replace=\"1\"><a remove=\"1\"/><b>2</b></chlint_new></c>";
        let mut legacy = parse(0, base);
        merge(
            &mut legacy,
            &parse(1, overlay),
            Flavor::Legacy,
            &mut Vec::new(),
        )
        .unwrap();
        let e = legacy.child("chlint_new").unwrap();
        assert!(e.has_attr("replace"));
        assert!(e.child("a").is_some_and(|a| a.has_attr("remove")));
        let mut modern = parse(0, base);
        merge(
            &mut modern,
            &parse(1, overlay),
            Flavor::Modern,
            &mut Vec::new(),
        )
        .unwrap();
        let e = modern.child("chlint_new").unwrap();
        assert!(!e.has_attr("replace"));
        assert!(e.child("a").is_none());
    }
}
