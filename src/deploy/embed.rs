//! Text embedded in a deployment file (a ClickHouse config in a ConfigMap,
//! in Helm values, in a CRD) registered as its own source, with spans that
//! map back to the lines of the outer file.

use crate::clickhouse::load::Workspace;
use crate::source::{SourceId, Span};

/// For a YAML literal block scalar (`key: |`) whose decoded text is `decoded`
/// and whose value span is `span` in `host`, the host offset of each decoded
/// line. Empty when the decoded lines cannot be matched to the host's lines
/// one by one (folded or quoted scalars): spans then map to the whole value.
pub fn block_lines(host: &str, span: Span, decoded: &str) -> Vec<u32> {
    let start = span.start as usize;
    if start > host.len() || !host.is_char_boundary(start) {
        return Vec::new();
    }
    let line_start = host[..start].rfind('\n').map_or(0, |i| i + 1);
    let indent = start - line_start;
    let leading_blank = decoded.chars().take_while(|c| *c == '\n').count();
    let decoded_lines: Vec<&str> = decoded.split('\n').collect();
    // Host lines from the one the value starts on, as many as the value has
    // (not the rest of the file: a manifest with many values would be read
    // once for each).
    let needed = decoded_lines.len().saturating_sub(leading_blank);
    let mut host_lines: Vec<(usize, &str)> = Vec::with_capacity(needed);
    let mut at = line_start;
    for line in host[line_start..].split('\n').take(needed) {
        host_lines.push((at, line.trim_end_matches('\r')));
        at += line.len() + 1;
    }
    let mut out = Vec::with_capacity(decoded_lines.len());
    for (i, text) in decoded_lines.iter().enumerate() {
        if i < leading_blank {
            // Blank lines before the content: point at the first content line.
            out.push(start as u32);
            continue;
        }
        let Some(&(offset, line)) = host_lines.get(i - leading_blank) else {
            // A trailing empty line after the last host line.
            if text.is_empty() {
                out.push(host.len() as u32);
                continue;
            }
            return Vec::new();
        };
        let content = line.get(indent.min(line.len())..).unwrap_or("");
        if !text.is_empty() && content != *text {
            return Vec::new();
        }
        out.push((offset + indent.min(line.len())) as u32);
    }
    out
}

/// Register `text`, written at `span` of an already registered source, as a
/// ClickHouse configuration named `name` (its extension decides XML or
/// YAML). `literal_block` says the text is a YAML literal block scalar whose
/// lines are the host's lines.
pub fn register(
    ws: &Workspace,
    name: &str,
    text: &str,
    span: Span,
    literal_block: bool,
) -> SourceId {
    let lines = if literal_block {
        let file = ws.sources.get(span.source);
        let mut local = block_lines(&file.text, span, text);
        if local.is_empty() {
            local = heredoc_lines(&file.text, span, text);
        }
        match file.embedding() {
            None => local,
            // Written line by line in text that is itself embedded line by
            // line (Helm values in a Terraform heredoc): map each line on to
            // the outer file.
            Some(e) if !e.lines.is_empty() => {
                let mapped: Vec<u32> = local
                    .iter()
                    .map(|o| {
                        ws.sources
                            .to_host(Span::new(span.source, *o as usize, *o as usize))
                    })
                    .map(|s| s.start)
                    .collect();
                // Lines that collapse onto one place were not mapped.
                let spread = mapped.len() < 2 || mapped.first() < mapped.last();
                if spread && mapped.windows(2).all(|w| w[0] <= w[1]) {
                    mapped
                } else {
                    Vec::new()
                }
            }
            Some(_) => Vec::new(),
        }
    } else {
        Vec::new()
    };
    ws.add_embedded(name, text.to_string(), span, lines)
}

/// For an HCL heredoc (`<<EOT` or `<<-EOT`, its closing marker ending
/// `span`) whose value is `decoded`, the host offset of each decoded line.
/// Empty when the lines do not correspond one to one (a `%{…}` directive,
/// an interpolation that adds lines).
pub fn heredoc_lines(host: &str, span: Span, decoded: &str) -> Vec<u32> {
    let (start, end) = (span.start as usize, span.end as usize);
    let Some(written) = host.get(start..end) else {
        return Vec::new();
    };
    if !written.starts_with("<<") {
        return Vec::new();
    }
    let Some(first_break) = written.find('\n') else {
        return Vec::new();
    };
    let content = start + first_break + 1;
    // The closing marker's line is not content.
    let closing = host[..end].rfind('\n').map_or(end, |i| i + 1);
    if closing < content {
        return Vec::new();
    }
    map_lines(host, content, closing, decoded)
}

/// The host offset of each line of `decoded`, written line by line in
/// `host[from..to]` (its lines end in `decoded`'s lines, indentation aside;
/// a line with an interpolation maps to its first character). Empty when
/// the line counts differ or a line does not match.
pub fn map_lines(host: &str, from: usize, to: usize, decoded: &str) -> Vec<u32> {
    let Some(region) = host.get(from..to) else {
        return Vec::new();
    };
    if region.contains("%{") {
        return Vec::new();
    }
    let host_lines: Vec<&str> = region.split('\n').collect();
    let decoded_lines: Vec<&str> = decoded.split('\n').collect();
    if host_lines.len() != decoded_lines.len() {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(decoded_lines.len());
    let mut at = from;
    for (h, d) in host_lines.iter().zip(&decoded_lines) {
        let h_line = h.trim_end_matches('\r');
        let d_line = d.trim_end_matches('\r');
        let leading = |s: &str| s.len() - s.trim_start().len();
        let offset = if h_line.ends_with(d_line) {
            at + h_line.len() - d_line.len()
        } else if h_line.contains("${") {
            at + leading(h_line).saturating_sub(leading(d_line))
        } else {
            return Vec::new();
        };
        out.push(offset as u32);
        at += h.len() + 1;
    }
    out
}

/// Standard base64 (with or without padding, whitespace ignored), as
/// Kubernetes Secrets hold `data`. `None` when it is not valid base64 text.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut padding = false;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => {
                padding = true;
                continue;
            }
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        if padding {
            return None;
        }
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{SourceFile, SourceKind, SourceMap};
    use crate::syntax::{yaml, Limits};

    #[test]
    fn literal_block_lines_map_to_host_lines() {
        let host = "data:\n  users.xml: |\n    <clickhouse>\n      <users/>\n    </clickhouse>\n  other: x\n";
        let map = SourceMap::default();
        let h = map.add(SourceFile::new(
            "cm.yaml".into(),
            host.to_string(),
            SourceKind::File,
        ));
        let docs = yaml::parse_documents(h, host, &Limits::default()).unwrap();
        let yaml::YamlKind::Map(top) = &docs[0].kind else {
            panic!()
        };
        let yaml::YamlKind::Map(data) = &top[0].1.kind else {
            panic!()
        };
        let value = &data[0].1;
        let text = value.as_str().unwrap();
        let lines = block_lines(host, value.span, text);
        assert_eq!(lines.len(), text.split('\n').count());
        let e = map.add_embedded(text.to_string(), value.span, lines);
        // `<users/>` is on embedded line 2, host line 4, column 7.
        let at = text.find("<users/>").unwrap();
        let loc = map.locate(Span::new(e, at, at + 8));
        assert_eq!((loc.file.as_str(), loc.line, loc.column), ("cm.yaml", 4, 7));
        assert_eq!(loc.end_column, 15);
    }

    #[test]
    fn heredoc_lines_map_to_host_lines() {
        let host = "data = {\n  \"users.xml\" = <<-EOT\n    <clickhouse>\n      <x>${var.a}</x>\n    </clickhouse>\n  EOT\n}\n";
        let start = host.find("<<-EOT").unwrap();
        let end = host.find("  EOT").unwrap() + 5;
        let decoded = "<clickhouse>\n  <x>1</x>\n</clickhouse>\n";
        let lines = heredoc_lines(host, Span::new(SourceId(0), start, end), decoded);
        assert_eq!(lines.len(), 4);
        assert_eq!(&host[lines[0] as usize..][..12], "<clickhouse>");
        assert_eq!(&host[lines[1] as usize..][..5], "  <x>");
        assert_eq!(&host[lines[2] as usize..][..13], "</clickhouse>");
        // A directive makes the lines differ: no mapping.
        let host = "x = <<EOT\n%{ for a in b }\n${a}\n%{ endfor }\nEOT\n";
        let end = host.rfind("EOT").unwrap() + 3;
        assert!(heredoc_lines(host, Span::new(SourceId(0), 4, end), "1\n2\n").is_empty());
    }

    #[test]
    fn folded_text_maps_to_the_whole_value() {
        assert!(block_lines("k: >\n  a\n  b\n", Span::new(SourceId(0), 7, 12), "a b\n").is_empty());
    }

    #[test]
    fn base64() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVsbG8").unwrap(), b"hello");
        assert_eq!(base64_decode("PGNs\naWNr").unwrap(), b"<click");
        assert!(base64_decode("a$b").is_none());
    }
}
