//! A span-keeping JSON parser (RFC 8259): every value and every object key
//! remembers its byte range. Numbers stay the text they were written as.
//! Nesting deeper than [`MAX_DEPTH`] is refused.

use super::ParseError;
use crate::source::{SourceId, Span};

pub const MAX_DEPTH: usize = 256;

#[derive(Clone, Debug, PartialEq)]
pub struct JsonNode {
    pub kind: JsonKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum JsonKind {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<JsonNode>),
    /// Entries in document order: key, the key's span, value.
    Object(Vec<(String, Span, JsonNode)>),
}

impl JsonNode {
    pub fn get(&self, key: &str) -> Option<&JsonNode> {
        match &self.kind {
            JsonKind::Object(entries) => entries.iter().find(|(k, _, _)| k == key).map(|e| &e.2),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            JsonKind::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_array(&self) -> &[JsonNode] {
        match &self.kind {
            JsonKind::Array(a) => a,
            _ => &[],
        }
    }
}

pub fn parse(source: SourceId, text: &str) -> Result<JsonNode, ParseError> {
    let mut p = Parser {
        source,
        bytes: text.as_bytes(),
        text,
        pos: 0,
    };
    // A byte order mark was removed when the file was decoded.
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.pos != p.bytes.len() {
        return Err(p.err("unexpected text after the JSON value"));
    }
    Ok(v)
}

struct Parser<'a> {
    source: SourceId,
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, msg: &str) -> ParseError {
        ParseError::new(msg, self.pos)
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn value(&mut self, depth: usize) -> Result<JsonNode, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err(&format!("nested deeper than {MAX_DEPTH} levels")));
        }
        let start = self.pos;
        let kind = match self.peek() {
            None => return Err(self.err("unexpected end of file")),
            Some(b'{') => {
                self.pos += 1;
                let mut entries = Vec::new();
                self.ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                } else {
                    loop {
                        self.ws();
                        if self.peek() != Some(b'"') {
                            return Err(self.err("expected a string key"));
                        }
                        let kstart = self.pos;
                        let key = self.string()?;
                        let kspan = Span::new(self.source, kstart, self.pos);
                        self.ws();
                        if self.peek() != Some(b':') {
                            return Err(self.err("expected `:`"));
                        }
                        self.pos += 1;
                        self.ws();
                        let v = self.value(depth + 1)?;
                        entries.push((key, kspan, v));
                        self.ws();
                        match self.peek() {
                            Some(b',') => self.pos += 1,
                            Some(b'}') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(self.err("expected `,` or `}`")),
                        }
                    }
                }
                JsonKind::Object(entries)
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                } else {
                    loop {
                        self.ws();
                        items.push(self.value(depth + 1)?);
                        self.ws();
                        match self.peek() {
                            Some(b',') => self.pos += 1,
                            Some(b']') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(self.err("expected `,` or `]`")),
                        }
                    }
                }
                JsonKind::Array(items)
            }
            Some(b'"') => JsonKind::String(self.string()?),
            Some(b't') => self.word("true", JsonKind::Bool(true))?,
            Some(b'f') => self.word("false", JsonKind::Bool(false))?,
            Some(b'n') => self.word("null", JsonKind::Null)?,
            Some(b'-' | b'0'..=b'9') => {
                while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') = self.peek() {
                    self.pos += 1;
                }
                let n = &self.text[start..self.pos];
                if n.parse::<f64>().is_err() {
                    self.pos = start;
                    return Err(self.err("invalid number"));
                }
                JsonKind::Number(n.to_string())
            }
            Some(_) => return Err(self.err("expected a JSON value")),
        };
        Ok(JsonNode {
            kind,
            span: Span::new(self.source, start, self.pos),
        })
    }

    fn word(&mut self, w: &str, kind: JsonKind) -> Result<JsonKind, ParseError> {
        if self.bytes[self.pos..].starts_with(w.as_bytes()) {
            self.pos += w.len();
            Ok(kind)
        } else {
            Err(self.err("expected a JSON value"))
        }
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let h = self
            .text
            .get(self.pos..self.pos + 4)
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| self.err("invalid \\u escape"))?;
        self.pos += 4;
        Ok(h)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            let run = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&self.text[run..self.pos]);
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = self.peek().ok_or_else(|| self.err("unterminated string"))?;
                    self.pos += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xD800..0xDC00).contains(&cp)
                                && self.bytes[self.pos..].starts_with(b"\\u")
                            {
                                self.pos += 2;
                                let lo = self.hex4()?;
                                cp = 0x10000
                                    + ((cp - 0xD800) << 10)
                                    + (lo.wrapping_sub(0xDC00) & 0x3FF);
                            }
                            out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.err("invalid escape"));
                        }
                    }
                }
                Some(_) => return Err(self.err("control character in a string")),
            }
        }
    }
}

/// Does this text look like Terraform plan or state JSON (`terraform show
/// -json`)? Decided on a cheap look at its top-level keys.
pub fn looks_like_plan(text: &str) -> bool {
    let head = &text[..text.len().min(4096)];
    text.trim_start().starts_with('{')
        && head.contains("\"format_version\"")
        && (text.contains("\"resource_changes\"")
            || text.contains("\"planned_values\"")
            || text.contains("\"terraform_version\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_spans() {
        let text = r#"{"a": [1, "x\"y", true, null], "b": {"c": -2.5e3}}"#;
        let v = parse(SourceId(0), text).unwrap();
        let a = v.get("a").unwrap();
        assert_eq!(a.as_array().len(), 4);
        assert_eq!(a.as_array()[1].as_str(), Some("x\"y"));
        let c = v.get("b").unwrap().get("c").unwrap();
        assert_eq!(&text[c.span.start as usize..c.span.end as usize], "-2.5e3");
    }

    #[test]
    fn errors_and_depth() {
        assert!(parse(SourceId(0), "{\"a\": }").is_err());
        assert!(parse(SourceId(0), "[1,]").is_err());
        assert!(parse(SourceId(0), &"[".repeat(10_000)).is_err());
        assert_eq!(
            parse(SourceId(0), r#""\ud83d\ude00""#).unwrap().as_str(),
            Some("😀")
        );
    }
}
