//! YAML documents lowered into the ClickHouse element tree, the way
//! ClickHouse's `YAMLParser` (current master) builds its XML DOM.
//!
//! Rules (see the semantics spec, section 7):
//! - the document's mapping becomes the children of a `<clickhouse>` root;
//! - `key: scalar` → `<key>scalar</key>`, the scalar verbatim; `key:` (null)
//!   and `key: ''` → `<key/>` (no text child);
//! - `key: {map}` → `<key>` with the mapping converted inside it;
//! - `"@name": scalar` inside a mapping → attribute `name` on the element the
//!   mapping belongs to (the root at the top level); a repeated attribute
//!   overwrites the earlier one, as Poco's `setAttribute` does;
//! - `"#text": scalar` inside a mapping → a text child of that element; a
//!   second `#text` in the same mapping is an error, as in ClickHouse;
//! - `key: [a, b]` → `<key>a</key><key>b</key>`: every item becomes its own
//!   sibling element named `key` (mappings too, since ClickHouse 22.9);
//!   a null item gives `<key/>`; a nested sequence is flattened into further
//!   `key` siblings; an empty sequence gives a single `<key/>`; attributes
//!   written in one item stay on that item's element only;
//! - a null key is named `null` (yaml-cpp renders a null node as "null").
//!
//! Differences from ClickHouse, on purpose: a non-scalar (or null) value for
//! an `@attr` or `#text` key, a non-scalar key, and a document whose root is a
//! scalar or a sequence are reported as errors instead of producing odd
//! elements; empty text is not kept as a text node.

use std::collections::HashMap;

use crate::clickhouse::element::{Attr, Element, Node, Text};
use crate::source::Span;
use crate::syntax::yaml::{YamlKind, YamlNode};
use crate::syntax::ParseError;

/// Things about a YAML document that ClickHouse handles surprisingly.
#[derive(Clone, Debug, PartialEq)]
pub enum YamlNote {
    /// the document's only top-level key is `clickhouse:` (ClickHouse nests it and ignores the content)
    TopLevelClickhouseKey { span: Span },
    /// a mapping repeats a key (YAML forbids it; behaviour is undefined)
    DuplicateKey {
        name: String,
        first: Span,
        second: Span,
    },
    /// a sequence whose items are mappings: each item becomes a separate sibling element
    ListOfMaps { name: String, span: Span },
}

#[derive(Clone, Debug, PartialEq)]
pub struct YamlConversion {
    pub root: Element,
    pub notes: Vec<YamlNote>,
}

/// Convert one YAML document into a `<clickhouse>` element spanning
/// `root_span`. A null (empty) document gives an empty root.
pub fn yaml_to_element(doc: &YamlNode, root_span: Span) -> Result<YamlConversion, ParseError> {
    let mut root = Element::new("clickhouse", root_span);
    let mut notes = Vec::new();
    match &doc.kind {
        YamlKind::Null => {}
        YamlKind::Map(entries) => {
            if let [(key, _)] = entries.as_slice() {
                if key.as_str() == Some("clickhouse") {
                    notes.push(YamlNote::TopLevelClickhouseKey { span: key.span });
                }
            }
            map_into(entries, &mut root, &mut notes)?;
        }
        YamlKind::Scalar(_) | YamlKind::Seq(_) => {
            return Err(ParseError::new(
                "YAML config root must be a mapping",
                doc.span.start as usize,
            ));
        }
    }
    root.shrink();
    Ok(YamlConversion { root, notes })
}

fn join(a: Span, b: Span) -> Span {
    Span {
        source: a.source,
        start: a.start.min(b.start),
        end: a.end.max(b.end),
    }
}

/// The element name a key gives.
fn key_name(key: &YamlNode) -> Result<&str, ParseError> {
    match &key.kind {
        YamlKind::Scalar(s) => Ok(s),
        YamlKind::Null => Ok("null"),
        YamlKind::Seq(_) | YamlKind::Map(_) => Err(ParseError::new(
            "YAML mapping key must be a scalar",
            key.span.start as usize,
        )),
    }
}

/// Convert the entries of a mapping into attributes, text and children of
/// `parent`.
fn map_into(
    entries: &[(YamlNode, YamlNode)],
    parent: &mut Element,
    notes: &mut Vec<YamlNote>,
) -> Result<(), ParseError> {
    let mut seen: HashMap<&str, Span> = HashMap::new();
    let mut has_text = false;
    // `parent` is a new element: all its attributes come from this mapping.
    debug_assert!(parent.attrs.is_empty());
    let mut attr_index: HashMap<&str, usize> = HashMap::new();
    for (key, value) in entries {
        let name = key_name(key)?;
        match seen.get(name) {
            Some(&first) => notes.push(YamlNote::DuplicateKey {
                name: name.to_string(),
                first,
                second: key.span,
            }),
            None => {
                seen.insert(name, key.span);
            }
        }

        if let Some(attr_name) = name.strip_prefix('@') {
            let YamlKind::Scalar(v) = &value.kind else {
                return Err(ParseError::new(
                    format!("YAML attribute key `{name}` needs a scalar value"),
                    value.span.start as usize,
                ));
            };
            let attr = Attr {
                name: attr_name.to_string(),
                value: v.clone(),
                span: join(key.span, value.span),
            };
            // A repeated attribute overwrites the earlier one (a map keeps
            // this linear for elements with very many attributes).
            match attr_index.get(attr_name) {
                Some(&i) => parent.attrs[i] = attr,
                None => {
                    attr_index.insert(attr_name, parent.attrs.len());
                    parent.attrs.push(attr);
                }
            }
        } else if name == "#text" {
            let YamlKind::Scalar(v) = &value.kind else {
                return Err(ParseError::new(
                    "YAML `#text` key needs a scalar value",
                    value.span.start as usize,
                ));
            };
            if has_text {
                return Err(ParseError::new(
                    "YAML element has several text nodes",
                    key.span.start as usize,
                ));
            }
            has_text = true;
            if !v.is_empty() {
                parent.children.push(Node::Text(Text {
                    value: v.clone(),
                    span: value.span,
                }));
            }
        } else {
            value_into(name, key, value, parent, notes)?;
        }
    }
    Ok(())
}

/// Add the element(s) `name: value` produces to `parent`.
fn value_into(
    name: &str,
    key: &YamlNode,
    value: &YamlNode,
    parent: &mut Element,
    notes: &mut Vec<YamlNote>,
) -> Result<(), ParseError> {
    match &value.kind {
        YamlKind::Null | YamlKind::Scalar(_) => {
            let mut el = Element::new(name, join(key.span, value.span));
            push_text(&mut el, value);
            el.children.shrink_to_fit();
            parent.children.push(Node::Element(el));
        }
        YamlKind::Map(entries) => {
            let mut el = Element::new(name, key.span);
            map_into(entries, &mut el, notes)?;
            el.children.shrink_to_fit();
            parent.children.push(Node::Element(el));
        }
        YamlKind::Seq(items) => {
            let mut flat = Vec::new();
            flatten(items, &mut flat);
            if flat.is_empty() {
                // ClickHouse creates the element before looking at the
                // (empty) sequence.
                parent
                    .children
                    .push(Node::Element(Element::new(name, key.span)));
                return Ok(());
            }
            if flat.iter().any(|item| has_element_keys(item)) {
                notes.push(YamlNote::ListOfMaps {
                    name: name.to_string(),
                    span: join(key.span, value.span),
                });
            }
            for item in flat {
                let mut el = match &item.kind {
                    YamlKind::Null | YamlKind::Scalar(_) => {
                        let mut el = Element::new(name, item.span);
                        push_text(&mut el, item);
                        el
                    }
                    YamlKind::Map(entries) => {
                        // From the item's start to the end of its first key:
                        // the line the item is written on.
                        let span = match entries.first() {
                            Some((k, _)) => Span {
                                end: k.span.end.clamp(item.span.start, item.span.end),
                                ..item.span
                            },
                            None => item.span,
                        };
                        let mut el = Element::new(name, span);
                        map_into(entries, &mut el, notes)?;
                        el
                    }
                    YamlKind::Seq(_) => unreachable!("sequences are flattened"),
                };
                el.children.shrink_to_fit();
                parent.children.push(Node::Element(el));
            }
        }
    }
    Ok(())
}

/// A scalar's text as the element's only child; nothing for null or ''.
fn push_text(el: &mut Element, value: &YamlNode) {
    if let YamlKind::Scalar(v) = &value.kind {
        if !v.is_empty() {
            el.children.push(Node::Text(Text {
                value: v.clone(),
                span: value.span,
            }));
        }
    }
}

/// Items of a sequence with nested sequences spliced in (ClickHouse repeats
/// the element for every item, at any sequence depth).
fn flatten<'a>(items: &'a [YamlNode], out: &mut Vec<&'a YamlNode>) {
    for item in items {
        match &item.kind {
            YamlKind::Seq(inner) => flatten(inner, out),
            _ => out.push(item),
        }
    }
}

/// A mapping item that creates child elements (not only `@attr`/`#text`),
/// i.e. one whose meaning changed with ClickHouse 22.9.
fn has_element_keys(item: &YamlNode) -> bool {
    match &item.kind {
        YamlKind::Map(entries) => entries.iter().any(|(k, _)| match &k.kind {
            YamlKind::Scalar(s) => !s.starts_with('@') && s != "#text",
            _ => true,
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceId;
    use crate::syntax::yaml::parse_documents;
    use crate::syntax::Limits;

    const SRC: SourceId = SourceId(7);

    fn convert(text: &str) -> Result<YamlConversion, ParseError> {
        let docs = parse_documents(SRC, text, &Limits::default()).expect("valid YAML");
        let root_span = Span::new(SRC, 0, text.len());
        match docs.first() {
            Some(doc) => yaml_to_element(doc, root_span),
            None => yaml_to_element(
                &YamlNode {
                    kind: YamlKind::Null,
                    span: root_span,
                },
                root_span,
            ),
        }
    }

    fn root(text: &str) -> Element {
        let conv = convert(text).expect("converts");
        conv.root
    }

    fn slice(text: &str, span: Span) -> &str {
        &text[span.start as usize..span.end as usize]
    }

    fn names(el: &Element) -> Vec<&str> {
        el.elements().map(|e| e.name.as_str()).collect()
    }

    fn texts(el: &Element, name: &str) -> Vec<Option<String>> {
        el.children_named(name).map(|e| e.text()).collect()
    }

    #[test]
    fn empty_document_gives_empty_root() {
        let r = root("");
        assert_eq!(r.name, "clickhouse");
        assert!(r.children.is_empty());
        assert!(r.attrs.is_empty());
        assert_eq!(r.span, Span::new(SRC, 0, 0));
        let r = root("---\n# nothing\n");
        assert!(r.children.is_empty());
    }

    #[test]
    fn scalar_values_become_text_verbatim() {
        let text = "listen_host: '::1'\ntcp_port: 9000\nflag: true\nmode: 0777\n";
        let r = root(text);
        assert_eq!(names(&r), ["listen_host", "tcp_port", "flag", "mode"]);
        let host = r.child("listen_host").unwrap();
        assert_eq!(host.text().as_deref(), Some("::1"));
        assert_eq!(slice(text, host.span), "listen_host: '::1'");
        assert_eq!(slice(text, host.value_span()), "'::1'");
        assert_eq!(r.child("flag").unwrap().value(), "true");
        assert_eq!(r.child("mode").unwrap().value(), "0777");
        assert!(r.child("tcp_port").unwrap().overridden.is_empty());
    }

    #[test]
    fn null_and_empty_values_give_empty_elements() {
        let text = "password:\nb: ~\nc: ''\nd: null\ne: \"null\"\n";
        let r = root(text);
        for n in ["password", "b", "c", "d"] {
            let e = r.child(n).unwrap();
            assert!(e.children.is_empty(), "{n}: {e:?}");
            assert_eq!(e.text(), None);
        }
        assert_eq!(slice(text, r.child("password").unwrap().span), "password");
        assert_eq!(slice(text, r.child("b").unwrap().span), "b: ~");
        assert_eq!(r.child("e").unwrap().text().as_deref(), Some("null"));
    }

    #[test]
    fn mappings_nest_and_span_their_key() {
        let text = "logger:\n  level: information\n  console: 1\n";
        let r = root(text);
        let logger = r.child("logger").unwrap();
        assert_eq!(slice(text, logger.span), "logger");
        assert_eq!(names(logger), ["level", "console"]);
        assert_eq!(r.find("logger/level").unwrap().value(), "information");
        assert_eq!(logger.text(), None);
    }

    #[test]
    fn at_keys_become_attributes_and_hash_text_a_text_node() {
        let text = concat!(
            "\"@incl\": top\n",
            "max_query_size: {\"@replace\": 1, \"@from_env\": MAX_Q, \"#text\": 150000}\n",
            "password:\n  \"@from_env\": CH_PW\n  \"@hide_in_preprocessed\": true\n",
            "logger: {\"@replace\": replace, level: information}\n",
        );
        let r = root(text);
        assert_eq!(r.attr("incl"), Some("top"));
        assert_eq!(
            slice(text, r.attr_entry("incl").unwrap().span),
            "\"@incl\": top"
        );
        let q = r.child("max_query_size").unwrap();
        assert_eq!(q.attr("replace"), Some("1"));
        assert_eq!(q.attr("from_env"), Some("MAX_Q"));
        assert_eq!(q.text().as_deref(), Some("150000"));
        assert_eq!(slice(text, q.value_span()), "150000");
        let pw = r.child("password").unwrap();
        assert_eq!(pw.attr("from_env"), Some("CH_PW"));
        assert_eq!(pw.attr("hide_in_preprocessed"), Some("true"));
        assert!(pw.children.is_empty());
        assert!(pw.is_external());
        let logger = r.child("logger").unwrap();
        assert_eq!(logger.attr("replace"), Some("replace"));
        assert_eq!(names(logger), ["level"]);
        assert_eq!(names(&r), ["max_query_size", "password", "logger"]);
    }

    #[test]
    fn two_text_nodes_are_an_error() {
        let err = convert("a: {\"#text\": 1, \"#text\": 2}\n").unwrap_err();
        assert_eq!(err.message, "YAML element has several text nodes");
    }

    #[test]
    fn non_scalar_attribute_or_text_values_are_errors() {
        let text = "a:\n  \"@x\": [1, 2]\n";
        let err = convert(text).unwrap_err();
        assert_eq!(err.offset, text.find('[').unwrap());
        let text = "a:\n  \"#text\": {b: 1}\n";
        let err = convert(text).unwrap_err();
        assert_eq!(err.offset, text.find('{').unwrap());
        assert!(convert("a: {\"@x\": }\n").is_err());
    }

    #[test]
    fn root_must_be_a_mapping() {
        let err = convert("just text\n").unwrap_err();
        assert_eq!(err.message, "YAML config root must be a mapping");
        assert_eq!(err.offset, 0);
        let text = "# c\n- a\n- b\n";
        let err = convert(text).unwrap_err();
        assert_eq!(err.message, "YAML config root must be a mapping");
        assert_eq!(err.offset, 4);
    }

    #[test]
    fn non_scalar_keys_are_errors_and_null_keys_are_named_null() {
        let err = convert("? [a]\n: b\n").unwrap_err();
        assert_eq!(err.offset, 2);
        let r = root("~: x\n");
        assert_eq!(r.child("null").unwrap().value(), "x");
    }

    #[test]
    fn scalar_sequences_repeat_the_element() {
        let text = "listen_host: ['::1', 127.0.0.1]\nafter: 1\n";
        let conv = convert(text).unwrap();
        let r = &conv.root;
        assert_eq!(names(r), ["listen_host", "listen_host", "after"]);
        assert_eq!(
            texts(r, "listen_host"),
            [Some("::1".to_string()), Some("127.0.0.1".to_string())]
        );
        let spans: Vec<_> = r
            .children_named("listen_host")
            .map(|e| slice(text, e.span))
            .collect();
        assert_eq!(spans, ["'::1'", "127.0.0.1"]);
        assert!(conv.notes.is_empty());
    }

    #[test]
    fn sequence_items_null_nested_and_empty() {
        let r = root("a: [x, ~, [y, z], '']\nb: []\n");
        assert_eq!(
            texts(&r, "a"),
            [
                Some("x".to_string()),
                None,
                Some("y".to_string()),
                Some("z".to_string()),
                None
            ]
        );
        assert_eq!(texts(&r, "b"), [None]);
    }

    #[test]
    fn sequences_of_maps_become_sibling_elements_with_a_note() {
        let text = concat!(
            "remote_servers:\n",
            "  my_cluster:\n",
            "    shard:\n",
            "      - replica: {host: 10.0.0.1, port: 9000}\n",
            "      - replica: {host: 10.0.0.2, port: 9000}\n",
        );
        let conv = convert(text).unwrap();
        let cluster = conv.root.find("remote_servers/my_cluster").unwrap();
        let shards: Vec<_> = cluster.children_named("shard").collect();
        assert_eq!(shards.len(), 2);
        assert_eq!(shards[0].find("replica/host").unwrap().value(), "10.0.0.1");
        assert_eq!(shards[1].find("replica/host").unwrap().value(), "10.0.0.2");
        assert_eq!(slice(text, shards[1].span), "replica");
        match conv.notes.as_slice() {
            [YamlNote::ListOfMaps { name, span }] => {
                assert_eq!(name, "shard");
                assert!(slice(text, *span).starts_with("shard:\n      - replica"));
            }
            other => panic!("{other:?}"),
        }

        let conv = convert("networks: [{ip: '::1'}, {ip: 127.0.0.1}]\n").unwrap();
        let nets: Vec<_> = conv.root.children_named("networks").collect();
        assert_eq!(nets.len(), 2);
        assert_eq!(nets[0].child("ip").unwrap().value(), "::1");
        assert_eq!(nets[1].child("ip").unwrap().value(), "127.0.0.1");
        assert_eq!(conv.notes.len(), 1);

        // One <networks> with two <ip>: the right form, no note.
        let conv = convert("networks: {ip: ['::1', 127.0.0.1]}\n").unwrap();
        let nets: Vec<_> = conv.root.children_named("networks").collect();
        assert_eq!(nets.len(), 1);
        assert_eq!(nets[0].children_named("ip").count(), 2);
        assert!(conv.notes.is_empty());
    }

    #[test]
    fn attribute_only_items_put_attributes_on_their_element() {
        let conv = convert("seq: [\"@attr\": x, 1, 2]\n").unwrap();
        let r = &conv.root;
        let seq: Vec<_> = r.children_named("seq").collect();
        assert_eq!(seq.len(), 3);
        assert_eq!(seq[0].attr("attr"), Some("x"));
        assert_eq!(seq[0].text(), None);
        assert_eq!(seq[1].attrs, []);
        assert_eq!(seq[1].value(), "1");
        assert_eq!(seq[2].value(), "2");
        assert!(conv.notes.is_empty());
    }

    #[test]
    fn top_level_clickhouse_key_is_nested_and_noted() {
        let text = "clickhouse:\n  tcp_port: 9000\n";
        let conv = convert(text).unwrap();
        assert_eq!(conv.root.name, "clickhouse");
        assert_eq!(names(&conv.root), ["clickhouse"]);
        assert_eq!(
            conv.root.find("clickhouse/tcp_port").unwrap().value(),
            "9000"
        );
        match conv.notes.as_slice() {
            [YamlNote::TopLevelClickhouseKey { span }] => {
                assert_eq!(slice(text, *span), "clickhouse")
            }
            other => panic!("{other:?}"),
        }
        // With other keys beside it, no note.
        let conv = convert("clickhouse: {a: 1}\nb: 2\n").unwrap();
        assert!(conv.notes.is_empty());
    }

    #[test]
    fn duplicate_keys_are_converted_in_order_and_noted() {
        let text = "listen_host: a\nport: 1\nlisten_host: b\nlisten_host: c\n";
        let conv = convert(text).unwrap();
        assert_eq!(
            texts(&conv.root, "listen_host"),
            [
                Some("a".to_string()),
                Some("b".to_string()),
                Some("c".to_string())
            ]
        );
        assert_eq!(names(&conv.root)[1], "port");
        assert_eq!(conv.notes.len(), 2);
        for note in &conv.notes {
            let YamlNote::DuplicateKey {
                name,
                first,
                second,
            } = note
            else {
                panic!("{note:?}")
            };
            assert_eq!(name, "listen_host");
            assert_eq!(first.start, 0);
            assert_eq!(slice(text, *second), "listen_host");
            assert!(second.start > first.start);
        }
    }

    #[test]
    fn quoted_keys_are_kept_as_names() {
        let r = root("\"::1\": x\n");
        assert_eq!(names(&r), ["::1"]);
    }

    #[test]
    fn worked_example_from_the_spec() {
        let text = concat!(
            "listen_host: ['10.0.0.5']\n",
            "interserver_http_credentials:\n",
            "  user: repl\n",
            "  password:\n",
            "    \"@from_env\": CH_REPL_PW\n",
            "    \"@hide_in_preprocessed\": true\n",
            "logger: {\"@replace\": replace, level: information, console: 1}\n",
        );
        let r = root(text);
        assert_eq!(
            names(&r),
            ["listen_host", "interserver_http_credentials", "logger"]
        );
        assert_eq!(r.child("listen_host").unwrap().value(), "10.0.0.5");
        let creds = r.child("interserver_http_credentials").unwrap();
        assert_eq!(creds.child("user").unwrap().value(), "repl");
        let pw = creds.child("password").unwrap();
        assert_eq!(pw.attr("from_env"), Some("CH_REPL_PW"));
        assert_eq!(pw.attr("hide_in_preprocessed"), Some("true"));
        assert!(pw.children.is_empty());
        let logger = r.child("logger").unwrap();
        assert_eq!(logger.attr("replace"), Some("replace"));
        assert_eq!(names(logger), ["level", "console"]);
    }
}
