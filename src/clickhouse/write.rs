//! Printing an effective configuration as XML, as ClickHouse writes it to
//! `preprocessed_configs/` (layout aside), optionally with each element's origin.

use std::fmt::Write as _;

use super::element::{Element, Node};
use crate::source::SourceMap;

pub struct Options<'a> {
    /// Add `<!-- file:line -->` after each element's start tag.
    pub origins: Option<&'a SourceMap>,
    /// Leave out elements marked `hide_in_preprocessed`, as ClickHouse does
    /// when it writes the preprocessed file.
    pub hide_marked: bool,
    /// Print secrets (passwords, keys, hashes, URL userinfo) as written;
    /// otherwise each is replaced by [`MASK`].
    pub show_secrets: bool,
}

impl Options<'_> {
    /// The tree exactly as it is (for comparisons and tests).
    pub fn exact() -> Options<'static> {
        Options {
            origins: None,
            hide_marked: false,
            show_secrets: true,
        }
    }
}

/// What a masked secret is printed as.
pub const MASK: &str = "******";

/// Is an element marked `hide_in_preprocessed`? ClickHouse removes it (and
/// its subtree) from the preprocessed file when the attribute parses as true
/// with `Poco::NumberParser::parseBool` (a non-zero integer, `true`, `yes`,
/// `on`; see `ConfigProcessor::hideRecursive` in
/// src/Common/Config/ConfigProcessor.cpp). A value that is not a boolean
/// makes ClickHouse write no preprocessed file at all: hidden here too.
pub fn hidden_in_preprocessed(e: &Element) -> bool {
    e.attrs
        .iter()
        .filter(|a| a.name == "hide_in_preprocessed")
        .any(|a| {
            let v = a.value.trim();
            match v.parse::<i64>() {
                Ok(n) => n != 0,
                Err(_) => !["false", "no", "off"]
                    .iter()
                    .any(|f| v.eq_ignore_ascii_case(f)),
            }
        })
}

/// A text with the secrets of its URLs (userinfo, query parameters) masked.
fn mask_userinfo(text: &str) -> std::borrow::Cow<'_, str> {
    let ranges = crate::mask::url_secret_ranges(text);
    if ranges.is_empty() {
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for r in ranges {
        out.push_str(&text[at..r.start]);
        out.push_str(MASK);
        at = r.end;
    }
    out.push_str(&text[at..]);
    out.into()
}

pub fn to_xml(root: &Element, options: &Options) -> String {
    let mut out = String::new();
    write_element(&mut out, root, 0, options);
    out
}

fn escape(text: &str, attr: bool) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' if attr => s.push_str("&quot;"),
            c => s.push(c),
        }
    }
    s
}

fn origin(e: &Element, options: &Options) -> String {
    match options.origins {
        Some(sources) => {
            let at = |span| {
                let loc = sources.locate(span);
                format!("{}:{}", loc.file, loc.line)
            };
            let over: Vec<String> = e.overridden.iter().map(|s| at(*s)).collect();
            if over.is_empty() {
                format!(" <!-- {} -->", at(e.span))
            } else {
                format!(" <!-- {}, overriding {} -->", at(e.span), over.join(", "))
            }
        }
        None => String::new(),
    }
}

/// A value as printed: masked unless secrets are shown.
fn shown<'t>(text: &'t str, secret: bool, options: &Options) -> std::borrow::Cow<'t, str> {
    if options.show_secrets {
        text.into()
    } else if secret && !text.trim().is_empty() {
        MASK.into()
    } else {
        mask_userinfo(text)
    }
}

fn write_element(out: &mut String, e: &Element, depth: usize, options: &Options) {
    let indent = "    ".repeat(depth);
    let secret = crate::check::is_secret_element(&e.name);
    let _ = write!(out, "{indent}<{}", e.name);
    for a in &e.attrs {
        let value = shown(&a.value, crate::check::is_secret_element(&a.name), options);
        let _ = write!(out, " {}=\"{}\"", a.name, escape(&value, true));
    }
    if e.children.is_empty() {
        let _ = writeln!(out, "/>{}", origin(e, options));
        return;
    }
    if !e.has_element_children() {
        let _ = writeln!(
            out,
            ">{}</{}>{}",
            escape(
                &shown(&e.text().unwrap_or_default(), secret, options),
                false
            ),
            e.name,
            origin(e, options)
        );
        return;
    }
    let _ = writeln!(out, ">{}", origin(e, options));
    // Mixed content: each run of text on a line of its own. Adjacent text
    // nodes (a merge appends text after text) form one value, as in the
    // server's preprocessed file.
    let mut text = String::new();
    let flush = |out: &mut String, text: &mut String| {
        if !text.trim().is_empty() {
            let _ = writeln!(
                out,
                "{indent}    {}",
                escape(&shown(text.trim(), secret, options), false)
            );
        }
        text.clear();
    };
    for n in &e.children {
        match n {
            Node::Element(c) if options.hide_marked && hidden_in_preprocessed(c) => {}
            Node::Element(c) => {
                flush(out, &mut text);
                write_element(out, c, depth + 1, options);
            }
            Node::Text(t) => text.push_str(&t.value),
        }
    }
    flush(out, &mut text);
    let _ = writeln!(out, "{indent}</{}>", e.name);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clickhouse::merge::{merge, Flavor};
    use crate::source::SourceId;
    use crate::syntax::{xml, Limits};

    #[test]
    fn text_appended_after_text_is_one_value() {
        // Regression (real 18.16 server): merging `<m>before<b/>after</m>`
        // into an element of the same shape leaves `<b/>` then the two
        // texts, which the server writes as `beforeafter`.
        let doc = "<c><m>before<b>1</b>after</m></c>";
        let parse = |id| xml::parse(SourceId(id), doc, &Limits::default()).unwrap();
        let mut root = parse(0);
        merge(&mut root, &parse(1), Flavor::Legacy, &mut Vec::new()).unwrap();
        let out = to_xml(&root, &Options::exact());
        assert!(out.contains("<b>1</b>\n        beforeafter\n"), "{out}");
    }
}
