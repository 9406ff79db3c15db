//! XML → element tree, keeping the byte span of every element, attribute and
//! text. Comments, processing instructions and the DOCTYPE are dropped; no
//! entity other than XML's five and character references is expanded, so an
//! entity bomb has nothing to expand and an external entity is never read.
//!
//! Work is linear in the input: nesting is bounded by [`Limits::max_depth`],
//! the number of nodes by [`Limits::max_nodes`], and attributes are checked
//! for duplicates with a hash set.

use std::collections::HashSet;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{Limits, ParseError};
use crate::clickhouse::element::{Attr, Element, Node, Text};
use crate::source::{SourceId, Span};

/// Parse one XML document into its root element.
pub fn parse(source: SourceId, text: &str, limits: &Limits) -> Result<Element, ParseError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    // Open elements, innermost last.
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut nodes = 0usize;
    // Entities declared in a DOCTYPE are not expanded: say so when one is used.
    let mut declares_entities = false;
    loop {
        let before = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| {
            ParseError::new(describe(&e.to_string()), reader.error_position() as usize)
        })?;
        let after = reader.buffer_position() as usize;
        let span = Span::new(source, before, after);
        if matches!(event, Event::Start(_) | Event::Empty(_)) {
            count(&mut nodes, 1, limits, before)?;
        }
        match event {
            Event::Start(tag) => {
                if stack.len() >= limits.max_depth {
                    return Err(ParseError::new(
                        format!("elements nested deeper than {} levels", limits.max_depth),
                        before,
                    ));
                }
                if root.is_some() && stack.is_empty() {
                    return Err(ParseError::new("more than one root element", before));
                }
                stack.push(element_from_tag(&tag, text, span, &mut nodes, limits)?);
            }
            Event::Empty(tag) => {
                let element = element_from_tag(&tag, text, span, &mut nodes, limits)?;
                close(&mut stack, &mut root, element, before)?;
            }
            Event::End(_) => {
                let Some(mut element) = stack.pop() else {
                    return Err(ParseError::new(
                        "closing tag without an opening tag",
                        before,
                    ));
                };
                // A leaf is located whole; a parent by its start tag.
                if !element.has_element_children() {
                    element.span.end = after as u32;
                }
                close(&mut stack, &mut root, element, before)?;
            }
            Event::Text(t) => {
                let value = t
                    .xml_content()
                    .map_err(|e| ParseError::new(e.to_string(), before))?;
                push_text(&mut stack, &value, span, before, &mut nodes, limits)?;
            }
            Event::CData(c) => {
                let value = String::from_utf8_lossy(&c).into_owned();
                push_text(&mut stack, &value, span, before, &mut nodes, limits)?;
            }
            Event::GeneralRef(r) => {
                let value = match r.resolve_char_ref() {
                    Ok(Some(ch)) => ch.to_string(),
                    Ok(None) => {
                        let name = String::from_utf8_lossy(&r).into_owned();
                        // The name is not echoed: it may be part of a secret.
                        let message = if declares_entities {
                            "uses an entity declared in the DOCTYPE: chlint expands no DTD entities (and reads no external ones), so it cannot check this file; write the value itself"
                        } else {
                            "undefined entity reference (write `&` as `&amp;`)"
                        };
                        predefined_entity(&name)
                            .ok_or_else(|| ParseError::new(message, before))?
                            .to_string()
                    }
                    Err(_) => return Err(ParseError::new("invalid character reference", before)),
                };
                push_text(&mut stack, &value, span, before, &mut nodes, limits)?;
            }
            Event::DocType(d) => {
                declares_entities |= d.windows(8).any(|w| w == b"<!ENTITY");
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(ParseError::new(
            format!("element <{}> is never closed", open.name),
            text.len(),
        ));
    }
    root.ok_or_else(|| ParseError::new("no root element", text.len()))
}

/// Count `n` more nodes against the file's budget.
fn count(nodes: &mut usize, n: usize, limits: &Limits, offset: usize) -> Result<(), ParseError> {
    *nodes += n;
    if *nodes > limits.max_nodes {
        return Err(ParseError::new(
            format!(
                "more than {} elements, attributes and texts",
                limits.max_nodes
            ),
            offset,
        ));
    }
    Ok(())
}

/// A parser message on one line, with quoted input cut at its first blank
/// (and at 60 characters): a malformed end tag runs on over the text after
/// it, which may be a secret (`</password` then a line of text); a tag name
/// has no blank.
fn describe(message: &str) -> String {
    let flat = message.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = String::new();
    for (i, part) in flat.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        let word = part.split(' ').next().unwrap_or_default();
        if i % 2 == 1 && (word.len() < part.len() || part.chars().count() > 60) {
            out.extend(word.chars().take(60));
            out.push('…');
        } else {
            out.push_str(part);
        }
    }
    out
}

fn predefined_entity(name: &str) -> Option<&'static str> {
    Some(match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => return None,
    })
}

fn close(
    stack: &mut [Element],
    root: &mut Option<Element>,
    mut element: Element,
    offset: usize,
) -> Result<(), ParseError> {
    // A vector grows to at least four entries: a leaf with one text would
    // keep room for three more nodes.
    element.children.shrink_to_fit();
    element.attrs.shrink_to_fit();
    match stack.last_mut() {
        Some(parent) => parent.children.push(Node::Element(element)),
        None if root.is_none() => *root = Some(element),
        None => return Err(ParseError::new("more than one root element", offset)),
    }
    Ok(())
}

/// Text between elements. Whitespace-only text is layout and dropped; text
/// outside the root must be whitespace.
fn push_text(
    stack: &mut [Element],
    value: &str,
    span: Span,
    offset: usize,
    nodes: &mut usize,
    limits: &Limits,
) -> Result<(), ParseError> {
    let Some(parent) = stack.last_mut() else {
        if value.trim().is_empty() {
            return Ok(());
        }
        return Err(ParseError::new("text outside the root element", offset));
    };
    if value.trim().is_empty() && !matches!(parent.children.last(), Some(Node::Text(_))) {
        return Ok(());
    }
    // Entity references split one text into several events: join them.
    if let Some(Node::Text(prev)) = parent.children.last_mut() {
        prev.value.push_str(value);
        prev.span.end = span.end;
        return Ok(());
    }
    count(nodes, 1, limits, offset)?;
    parent.children.push(Node::Text(Text {
        value: value.to_string(),
        span,
    }));
    Ok(())
}

/// Byte offset of a slice that borrows from `text`, if it does.
fn offset_in(text: &str, part: &[u8]) -> Option<usize> {
    let start = text.as_ptr() as usize;
    let at = (part.as_ptr() as usize).checked_sub(start)?;
    (at + part.len() <= text.len()).then_some(at)
}

fn element_from_tag(
    tag: &BytesStart,
    text: &str,
    span: Span,
    nodes: &mut usize,
    limits: &Limits,
) -> Result<Element, ParseError> {
    let offset = span.start as usize;
    let name = String::from_utf8_lossy(tag.name().as_ref()).into_owned();
    let mut element = Element::new(name, span);
    // quick-xml's own duplicate check is quadratic in the attribute count.
    let mut attributes = tag.attributes();
    attributes.with_checks(false);
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    for attr in attributes {
        // Messages name no attribute value: it may be a secret.
        let attr = attr.map_err(|_| ParseError::new("malformed attribute", offset))?;
        let at = offset_in(text, attr.key.as_ref()).unwrap_or(offset);
        count(nodes, 1, limits, at)?;
        if !seen.insert(attr.key.as_ref().to_vec()) {
            let key = String::from_utf8_lossy(attr.key.as_ref());
            return Err(ParseError::new(
                format!("attribute `{key}` given twice"),
                at,
            ));
        }
        let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
        let value = attr
            .unescape_value()
            .map_err(|_| {
                ParseError::new(
                    "invalid entity or character reference in an attribute value",
                    at,
                )
            })?
            .into_owned();
        let attr_span = Span::new(span.source, at, at + key.len());
        element.attrs.push(Attr {
            name: key,
            value,
            span: attr_span,
        });
    }
    Ok(element)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Element, ParseError> {
        parse(SourceId(0), s, &Limits::default())
    }

    #[test]
    fn elements_attributes_and_text_keep_their_spans() {
        let src = "<clickhouse>\n  <listen_host>0.0.0.0</listen_host>\n  <users><a remove=\"1\"/></users>\n</clickhouse>";
        let root = parse_str(src).unwrap();
        assert_eq!(root.name, "clickhouse");
        let lh = root.child("listen_host").unwrap();
        assert_eq!(lh.value(), "0.0.0.0");
        assert_eq!(
            &src[lh.span.start as usize..lh.span.end as usize],
            "<listen_host>0.0.0.0</listen_host>"
        );
        let vs = lh.value_span();
        assert_eq!(&src[vs.start as usize..vs.end as usize], "0.0.0.0");
        let a = root.find("users/a").unwrap();
        assert_eq!(a.attr("remove"), Some("1"));
        assert_eq!(
            &src[a.span.start as usize..a.span.end as usize],
            "<a remove=\"1\"/>"
        );
    }

    #[test]
    fn entities_and_cdata_become_text() {
        let root = parse_str("<c><p>a&amp;b&#65;<![CDATA[<x>]]></p></c>").unwrap();
        assert_eq!(root.child("p").unwrap().value(), "a&bA<x>");
    }

    #[test]
    fn comments_are_not_configuration() {
        let root = parse_str("<c><!-- <listen_host>::</listen_host> --></c>").unwrap();
        assert!(root.child("listen_host").is_none());
    }

    #[test]
    fn malformed_documents_report_an_offset() {
        let err = parse_str("<yandex><max_connections>10</max_connections").unwrap_err();
        assert!(err.offset > 0, "{err:?}");
        assert!(parse_str("<a></b>").is_err());
        assert!(parse_str("<a/><b/>").is_err());
        assert!(parse_str("").is_err());
        assert!(parse_str("<a>&custom;</a>").is_err());
    }

    #[test]
    fn a_run_on_end_tag_is_not_quoted_past_its_name() {
        let err = parse_str("<c><password>x</password\n  hunter2-value</c>").unwrap_err();
        assert!(!err.message.contains("hunter2"), "{}", err.message);
        assert!(err.message.contains("`</password…`"), "{}", err.message);
    }

    #[test]
    fn dtd_entities_are_never_expanded() {
        let bomb = concat!(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE c [\n<!ENTITY a \"aaaaaaaaaa\">\n",
            "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n",
            "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n]>\n<c><p>&c;</p></c>"
        );
        let err = parse_str(bomb).unwrap_err();
        assert!(err.message.contains("DOCTYPE"), "{err:?}");
        assert_eq!(&bomb[err.offset..err.offset + 3], "&c;");
        let xxe = "<!DOCTYPE c [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><c>&x;</c>";
        assert!(parse_str(xxe).unwrap_err().message.contains("DOCTYPE"));
        // A DOCTYPE without entity use is harmless.
        assert!(parse_str("<!DOCTYPE c><c/>").is_ok());
    }

    #[test]
    fn many_attributes_are_linear_and_located() {
        let n = 50_000;
        let attrs: String = (0..n).map(|i| format!(" a{i}=\"{i}\"")).collect();
        let src = format!("<c><x{attrs}/></c>");
        let started = std::time::Instant::now();
        let root = parse_str(&src).unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        let x = root.child("x").unwrap();
        assert_eq!(x.attrs.len(), n);
        let last = &x.attrs[n - 1];
        assert_eq!(
            &src[last.span.start as usize..last.span.end as usize],
            format!("a{}", n - 1)
        );
        let dup = format!("<c><x{attrs} a7=\"again\"/></c>");
        let err = parse_str(&dup).unwrap_err();
        assert_eq!(err.message, "attribute `a7` given twice");
        assert_eq!(&dup[err.offset..err.offset + 9], "a7=\"again");
    }

    #[test]
    fn node_count_is_bounded() {
        let limits = Limits {
            max_nodes: 100,
            ..Limits::default()
        };
        let src = format!("<c>{}</c>", "<a/>".repeat(200));
        let err = parse(SourceId(0), &src, &limits).unwrap_err();
        assert!(err.message.starts_with("more than 100"), "{err:?}");
        // Entity references join one text: one node.
        let src = format!("<c>{}</c>", "x&amp;".repeat(500));
        let root = parse(SourceId(0), &src, &limits).unwrap();
        assert_eq!(root.value(), "x&".repeat(500));
        assert!(parse(
            SourceId(0),
            &format!("<c>{}</c>", "<a/>".repeat(50)),
            &limits
        )
        .is_ok());
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let depth = 200_000;
        let src = "<a>".repeat(depth) + &"</a>".repeat(depth);
        let err = parse_str(&src).unwrap_err();
        assert!(err.message.contains("nested deeper"));
    }
}
