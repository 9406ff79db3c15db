//! XML → element tree, keeping the byte span of every element, attribute and
//! text. Comments, processing instructions and the DOCTYPE are dropped; no
//! entity other than XML's five and character references is expanded, so an
//! entity bomb has nothing to expand.

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
    loop {
        let before = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| {
            ParseError::new(describe(&e.to_string()), reader.error_position() as usize)
        })?;
        let after = reader.buffer_position() as usize;
        let span = Span::new(source, before, after);
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
                stack.push(element_from_tag(&tag, text, span)?);
            }
            Event::Empty(tag) => {
                let element = element_from_tag(&tag, text, span)?;
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
                push_text(&mut stack, &value, span, before)?;
            }
            Event::CData(c) => {
                let value = String::from_utf8_lossy(&c).into_owned();
                push_text(&mut stack, &value, span, before)?;
            }
            Event::GeneralRef(r) => {
                let value = match r.resolve_char_ref() {
                    Ok(Some(ch)) => ch.to_string(),
                    Ok(None) => {
                        let name = String::from_utf8_lossy(&r).into_owned();
                        // The name is not echoed: it may be part of a secret.
                        predefined_entity(&name)
                            .ok_or_else(|| {
                                ParseError::new(
                                    "undefined entity reference (write `&` as `&amp;`)",
                                    before,
                                )
                            })?
                            .to_string()
                    }
                    Err(e) => return Err(ParseError::new(e.to_string(), before)),
                };
                push_text(&mut stack, &value, span, before)?;
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
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

fn describe(message: &str) -> String {
    message.to_string()
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
    // Trees are kept for the whole run: no room for children never added.
    element.children.shrink_to_fit();
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
    parent.children.push(Node::Text(Text {
        value: value.to_string(),
        span,
    }));
    Ok(())
}

fn element_from_tag(tag: &BytesStart, text: &str, span: Span) -> Result<Element, ParseError> {
    let offset = span.start as usize;
    let name = String::from_utf8_lossy(tag.name().as_ref()).into_owned();
    let mut element = Element::new(name, span);
    let raw = &text[span.start as usize..span.end as usize];
    for attr in tag.attributes() {
        let attr = attr.map_err(|e| ParseError::new(e.to_string(), offset))?;
        let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
        let value = attr
            .unescape_value()
            .map_err(|e| ParseError::new(e.to_string(), offset))?
            .into_owned();
        if element.has_attr(&key) {
            return Err(ParseError::new(
                format!("attribute `{key}` given twice"),
                offset,
            ));
        }
        let at = raw.find(&format!("{key}=")).unwrap_or(0) + offset;
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
    fn deep_nesting_is_refused_not_overflowed() {
        let depth = 200_000;
        let src = "<a>".repeat(depth) + &"</a>".repeat(depth);
        let err = parse_str(&src).unwrap_err();
        assert!(err.message.contains("nested deeper"));
    }
}
