//! Secrets no element names: in files that did not parse (no tree tells
//! which text is a password), in comments and in URLs. Each function adds
//! the spans to mask; nothing here is printed.

use crate::check::is_secret_element;
use crate::source::{SourceId, Span};

/// Words that make the rest of a line a possible secret in unparsed text,
/// with the stems of their usual misspellings (`pasword`, `passwd`, `pwd`).
const SECRET_WORDS: [&str; 12] = [
    "password",
    "secret",
    "identity",
    "key",
    "token",
    "credential",
    "passphrase",
    "pass",
    "pasw",
    "pwd",
    "auth",
    "cred",
];

/// Does this text look like XML (its first non-blank character is `<`)?
fn looks_like_xml(text: &str) -> bool {
    text.trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('<')
}

/// Is a name, as written in a file that did not parse, a secret's name or
/// a misspelling of one (`pasword`, `passwd`, `pwd`, `secert`)?
fn secretish(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    is_secret_element(name)
        || SECRET_WORDS.iter().any(|w| lower.contains(w))
        || [
            "password",
            "passphrase",
            "credential",
            "identity",
            "secret",
            "token",
        ]
        .iter()
        .any(|w| {
            let allowed = if w.len() >= 8 { 2 } else { 1 };
            lower.len().abs_diff(w.len()) <= allowed
                && edit_distance(lower.as_bytes(), w.as_bytes()) <= allowed
        })
}

/// Edit distance counting a swap of neighbours as one edit (optimal string
/// alignment) between ASCII-lowercased names of at most 15 bytes (longer
/// ones are far from every word asked about).
fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    const N: usize = 16;
    if a.len() >= N || b.len() >= N {
        return usize::MAX;
    }
    let mut d = [[0usize; N]; N];
    for (i, row) in d.iter_mut().enumerate().take(a.len() + 1) {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate().take(b.len() + 1) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The name of the tag starting at `at` (`<name`, `</name`), if any.
fn tag_name(bytes: &[u8], at: usize) -> &str {
    let start = at + 1 + usize::from(bytes.get(at + 1) == Some(&b'/'));
    let len = bytes[start.min(bytes.len())..]
        .iter()
        .position(|b| b.is_ascii_whitespace() || b"/>=<\"'".contains(b))
        .unwrap_or(bytes.len() - start.min(bytes.len()));
    std::str::from_utf8(&bytes[start.min(bytes.len())..start.min(bytes.len()) + len]).unwrap_or("")
}

/// Mask, in XML that did not parse, the values of secret-sounding elements
/// and attributes whatever their spelling: an element's text when the tag
/// before it or the tag after it is secretish (`<pasword>…</password>`,
/// `<password>…</pasword>`, `<password>…` never closed), CDATA likewise,
/// an attribute's value when its name is.
fn xml_values(source: SourceId, text: &str, out: &mut Vec<Span>) {
    let bytes = text.as_bytes();
    let mut push = |a: usize, b: usize| {
        let run = &text[a..b];
        let start = a + (run.len() - run.trim_start().len());
        let end = a + run.trim_end().len();
        if end > start {
            out.push(Span::new(source, start, end));
        }
    };
    // Whether the last tag seen names a secret.
    let mut after_secret_tag = false;
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"<!--") {
            // Comments: see comment_secrets.
            let inner = i + 4;
            i = memchr::memmem::find(&bytes[inner..], b"-->")
                .map_or(bytes.len(), |n| inner + n + 3);
            continue;
        }
        let cdata = rest.starts_with(b"<![CDATA[");
        if bytes[i] != b'<' || cdata {
            let (from, end, skip) = if cdata {
                let inner = i + 9;
                let end = memchr::memmem::find(&bytes[inner..], b"]]>")
                    .map_or(bytes.len(), |n| inner + n);
                (inner, end, 3)
            } else {
                let end = memchr::memchr(b'<', rest).map_or(bytes.len(), |n| i + n);
                (i, end, 0)
            };
            let next = end + skip;
            let next_is_secret =
                next < bytes.len() && bytes[next] == b'<' && secretish(tag_name(bytes, next));
            if after_secret_tag || next_is_secret {
                push(from, end);
            }
            i = (end + skip).min(bytes.len());
            continue;
        }
        // A tag: its name, and its attributes' values.
        after_secret_tag = secretish(tag_name(bytes, i));
        let mut j = i + 1;
        let mut name_start = j;
        while j < bytes.len() && bytes[j] != b'>' && bytes[j] != b'<' {
            match bytes[j] {
                b'"' | b'\'' => {
                    let q = bytes[j];
                    let end = memchr::memchr(q, &bytes[j + 1..]).map_or(bytes.len(), |n| j + 1 + n);
                    let attr = text[name_start..j].trim().trim_end_matches('=').trim();
                    if secretish(
                        attr.rsplit(|c: char| c.is_whitespace())
                            .next()
                            .unwrap_or(""),
                    ) {
                        push(j + 1, end);
                    }
                    j = end + 1;
                    name_start = j;
                }
                _ => j += 1,
            }
        }
        i = if j < bytes.len() && bytes[j] == b'>' {
            j + 1
        } else {
            j
        };
    }
}

/// Mask secrets in any text, parsed or not, that no parser reports as a
/// value: a comment that mentions a secret (`<!-- <password>old</password>
/// -->`, `# password: old`), from the word on; and the userinfo of a URL
/// (`https://user:pass@host`: the password, or a lone token before `@`).
pub fn incidental_secrets(source: SourceId, text: &str, out: &mut Vec<Span>) {
    let whole = std::iter::once(0..text.len()).collect::<Vec<_>>();
    incidental_secrets_in(source, text, &whole, out);
}

/// [`incidental_secrets`] for the comments that reach into `quoted` (byte
/// ranges, sorted by start: the lines findings show). Looking into every
/// comment of every file a finding points at was most of the time of a
/// large run (Helm values files are mostly comments); a comment no finding
/// shows never reaches an output.
pub fn incidental_secrets_in(
    source: SourceId,
    text: &str,
    quoted: &[std::ops::Range<usize>],
    out: &mut Vec<Span>,
) {
    comment_secrets(source, text, quoted, out);
    url_userinfo(source, text, out);
}

/// Does `start..end` meet one of `quoted` (sorted by start)?
fn meets(quoted: &[std::ops::Range<usize>], start: usize, end: usize) -> bool {
    let first_after = quoted.partition_point(|q| q.start <= end);
    quoted[..first_after].iter().rev().any(|q| q.end >= start)
}

fn comment_secrets(
    source: SourceId,
    text: &str,
    quoted: &[std::ops::Range<usize>],
    out: &mut Vec<Span>,
) {
    let bytes = text.as_bytes();
    let mut mask = |start: usize, end: usize| {
        if !meets(quoted, start, end) {
            return;
        }
        let lower = text[start..end].to_ascii_lowercase();
        // The first word, the longest one where several start.
        let first = SECRET_WORDS
            .iter()
            .filter_map(|w| lower.find(w).map(|i| (i, std::cmp::Reverse(w.len()))))
            .min();
        if let Some((at, std::cmp::Reverse(len))) = first {
            out.push(Span::new(source, start + at + len, end));
        }
    };
    // Comments do not nest: the next one starts after this one ends.
    let mut from = 0;
    while let Some(n) = memchr::memmem::find(&bytes[from..], b"<!--") {
        let inner = from + n + 4;
        let end = memchr::memmem::find(&bytes[inner..], b"-->").map_or(bytes.len(), |n| inner + n);
        mask(inner, end);
        from = (end + 3).min(bytes.len());
    }
    // `#` and `//` comments (YAML, HCL, shell-like): the first of a line at
    // its start or after a blank, to the line's end.
    for q in quoted {
        let start = q.start.min(bytes.len());
        let line = memchr::memrchr(b'\n', &bytes[..start]).map_or(0, |n| n + 1);
        hash_comments(bytes, line, q.end.min(bytes.len()), &mut mask);
    }
}

/// `#` and `//` comments of the lines from `line` (a line's start) to
/// `until`, each given to `mask` as its range after the marker.
fn hash_comments(bytes: &[u8], mut line: usize, until: usize, mask: &mut impl FnMut(usize, usize)) {
    while line < bytes.len() && line <= until {
        let end = memchr::memchr(b'\n', &bytes[line..]).map_or(bytes.len(), |n| line + n);
        let comment = memchr::memchr2_iter(b'#', b'/', &bytes[line..end])
            .map(|n| line + n)
            .filter(|&h| bytes[h] == b'#' || bytes.get(h + 1) == Some(&b'/'))
            .find(|&h| h == line || bytes[h - 1].is_ascii_whitespace());
        if let Some(start) = comment {
            mask(start + 1, end);
        }
        line = end + 1;
    }
}

/// The byte ranges of the secrets in the URLs of a text: userinfo
/// passwords or tokens, secret-sounding query parameters.
pub fn url_secret_ranges(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut spans = Vec::new();
    url_userinfo(SourceId(0), text, &mut spans);
    // Sorted and merged: a URL inside another's query is found twice.
    spans.sort_by_key(|s| (s.start, s.end));
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::with_capacity(spans.len());
    for s in spans {
        let (start, end) = (s.start as usize, s.end as usize);
        match ranges.last_mut() {
            Some(last) if start <= last.end => last.end = last.end.max(end),
            _ => ranges.push(start..end),
        }
    }
    ranges
}

/// Longest authority and path-and-query looked at: a text of `://` without
/// blanks stays linear.
const MAX_URL_PART: usize = 4096;

/// Where a URL written in a file ends.
fn ends_url(b: u8) -> bool {
    b"\"'<> \t\r\n`".contains(&b)
}

fn url_userinfo(source: SourceId, text: &str, out: &mut Vec<Span>) {
    let bytes = text.as_bytes();
    let mut scanned_to = 0;
    for scheme_end in memchr::memmem::find_iter(bytes, b"://") {
        let start = scheme_end + 3;
        // The authority ends at the first of these; userinfo before an `@`.
        let limit = bytes.len().min(start + MAX_URL_PART);
        let end = bytes[start..limit]
            .iter()
            .position(|&b| ends_url(b) || b"/?#".contains(&b))
            .map_or(limit, |n| start + n);
        if let Some(at) = memchr::memrchr(b'@', &bytes[start..end]).map(|n| start + n) {
            let from = memchr::memchr(b':', &bytes[start..at]).map_or(start, |n| start + n + 1);
            if at > from {
                out.push(Span::new(source, from, at));
            }
        }
        // A URL inside another's query (a redirect) has its userinfo looked
        // at, not its query again: the scan stays linear.
        if start >= scanned_to {
            scanned_to = query_secrets(source, text, end, out);
        }
    }
}

/// The values of secret-sounding query parameters of a URL whose path
/// starts at `from` (`?user=u&password=p`, `;pwd=p`); returns where the
/// URL ends.
fn query_secrets(source: SourceId, text: &str, from: usize, out: &mut Vec<Span>) -> usize {
    let bytes = text.as_bytes();
    let limit = bytes.len().min(from + MAX_URL_PART);
    let url_end = bytes[from..limit]
        .iter()
        .position(|&b| ends_url(b))
        .map_or(limit, |n| from + n);
    let mut i = from;
    while let Some(n) = bytes[i..url_end].iter().position(|b| b"?&;".contains(b)) {
        let name_start = i + n + 1;
        let name_len = bytes[name_start..url_end]
            .iter()
            .position(|b| b"=?&;#".contains(b))
            .unwrap_or(url_end - name_start);
        let value_start = name_start + name_len + 1;
        if bytes.get(name_start + name_len) != Some(&b'=') {
            i = name_start;
            continue;
        }
        let value_end = bytes[value_start..url_end]
            .iter()
            .position(|b| b"&;#".contains(b))
            .map_or(url_end, |n| value_start + n);
        if value_end > value_start && secretish(&text[name_start..name_start + name_len]) {
            out.push(Span::new(source, value_start, value_end));
        }
        i = value_start;
    }
    url_end
}

/// Mask, in text that did not parse, what follows a secret-sounding key:
/// the rest of its line, and the lines after it while the value continues
/// (XML text up to the next tag; a YAML value that is empty on the key's
/// line, a block scalar or an unclosed quote: the lines indented deeper).
/// Linear in the text: the words are found with one search each, and only
/// the lines they are on (and continuations) are looked at.
fn lexical_secrets(source: SourceId, text: &str, out: &mut Vec<Span>) {
    let bytes = text.as_bytes();
    let lower = text.to_ascii_lowercase();
    // Where each word ends, in text order.
    let mut hits: Vec<usize> = SECRET_WORDS
        .iter()
        .flat_map(|w| {
            memchr::memmem::find_iter(lower.as_bytes(), w.as_bytes()).map(|i| i + w.len())
        })
        .collect();
    // Keys misspelt beyond the stems (`psswrd:`): each line's key, by name.
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_start_matches([' ', '\t', '-']);
        let indent = line.len() - body.len();
        if let Some(k) = body.find([':', '=']).filter(|&k| k > 0 && k <= 64) {
            let key = body[..k].trim().trim_matches(['"', '\'']);
            if secretish(key) {
                hits.push(line_start + indent + k);
            }
        }
        line_start += line.len();
    }
    hits.sort_unstable();
    hits.dedup();
    let line_end =
        |from: usize| memchr::memchr(b'\n', &bytes[from..]).map_or(bytes.len(), |i| from + i);
    let content_end = |start: usize| {
        let end = line_end(start);
        let trimmed = text[start..end].trim_end_matches('\r');
        start + trimmed.len()
    };
    // Text before `done` has been masked or passed over.
    let mut done = 0;
    for &after in &hits {
        if after < done {
            continue;
        }
        let start = memchr::memrchr(b'\n', &bytes[..after]).map_or(0, |i| i + 1);
        let end = content_end(start);
        let Some(d) = text[after..end].find(['>', ':', '=']) else {
            continue;
        };
        let delimiter = after + d;
        out.push(Span::new(source, delimiter + 1, end));
        done = end;
        let rest = text[delimiter + 1..end].trim();
        let xml = bytes[delimiter] == b'>';
        let unfinished = if xml {
            !rest.contains('<')
        } else {
            rest.is_empty()
                || rest.starts_with(['|', '>'])
                || ['"', '\'']
                    .iter()
                    .any(|q| rest.starts_with(*q) && rest.matches(*q).count() % 2 == 1)
        };
        if !unfinished {
            continue;
        }
        let key_line = &text[start..end];
        let key_indent = key_line.len() - key_line.trim_start().len();
        // The lines the value continues on.
        let mut line = line_end(start) + 1;
        while line < bytes.len() {
            let end = content_end(line);
            let content = &text[line..end];
            if xml {
                match content.find('<') {
                    Some(i) => {
                        out.push(Span::new(source, line, line + i));
                        done = line + i;
                        break;
                    }
                    None => out.push(Span::new(source, line, end)),
                }
            } else {
                let indent = content.len() - content.trim_start().len();
                if !content.trim().is_empty() && indent <= key_indent {
                    done = line;
                    break;
                }
                out.push(Span::new(source, line, end));
            }
            done = end;
            line = line_end(line) + 1;
        }
    }
}

/// Every secret span of a file that did not parse.
pub fn unparsed_secrets(source: SourceId, text: &str, out: &mut Vec<Span>) {
    lexical_secrets(source, text, out);
    if looks_like_xml(text) {
        xml_values(source, text, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(text: &str) -> String {
        masked_by(lexical_secrets, text)
    }

    fn masked_by(find: fn(SourceId, &str, &mut Vec<Span>), text: &str) -> String {
        let mut spans = Vec::new();
        find(SourceId(0), text, &mut spans);
        text.char_indices()
            .map(|(i, c)| {
                let secret = spans
                    .iter()
                    .any(|s| s.start as usize <= i && i < s.end as usize);
                if secret && !c.is_whitespace() {
                    '*'
                } else {
                    c
                }
            })
            .collect()
    }

    #[test]
    fn unparsed_secrets_are_masked_across_lines() {
        assert_eq!(
            masked("<password>hunter2</pasword>\n<x>ok</x>\n"),
            "<password>*****************\n<x>ok</x>\n"
        );
        assert_eq!(
            masked("<password>\n  hunter2\n</password>\n<x>ok</x>"),
            "<password>\n  *******\n</password>\n<x>ok</x>"
        );
        assert_eq!(
            masked("a:\n  password: |\n    hunter2\n    more\n  b: ok\n"),
            "a:\n  password: *\n    *******\n    ****\n  b: ok\n"
        );
        assert_eq!(
            masked("password:\n  hunter2\nb: ok\n"),
            "password:\n  *******\nb: ok\n"
        );
        assert_eq!(
            masked("secret_access_key: \"abc\n  def\"\nb: ok\n"),
            "secret_access_key: ****\n  ****\nb: ok\n"
        );
    }

    #[test]
    fn unparsed_xml_shows_no_value_whatever_the_tag() {
        let xml = |t| masked_by(xml_values, t);
        assert_eq!(
            xml("<pasword>hunter2</password>\n<x a=\"k1\" pasword='k2'>ok</x>"),
            "<pasword>*******</password>\n<x a=\"k1\" pasword='**'>ok</x>"
        );
        assert_eq!(
            xml("<pwd>\n  hunter2 two\n</x><y><![CDATA[c2]]></secert>"),
            "<pwd>\n  ******* ***\n</x><y><![CDATA[**]]></secert>"
        );
        assert_eq!(xml("<a><password>hunter2"), "<a><password>*******");
        assert_eq!(
            xml("<http_port>8123</http_port <secure>1</secure><port>9</Password>"),
            "<http_port>8123</http_port <secure>1</secure><port>*</Password>"
        );
        for name in [
            "pasword",
            "passwd",
            "pssword",
            "secert",
            "tokn",
            "PassWord",
            "credentails",
        ] {
            assert!(secretish(name), "{name}");
        }
        for name in [
            "port",
            "secure",
            "host",
            "user",
            "listen_host",
            "path",
            "networks",
        ] {
            assert!(!secretish(name), "{name}");
        }
        // Misspelt keys in YAML and XML are secret-sounding words too.
        assert_eq!(masked("pasword: hunter2\n"), "pasword: *******\n");
        assert_eq!(masked("<passwd>hunter2</x>"), "<passwd>***********");
        assert_eq!(
            masked("- psswrd = hunter2\nb: ok\n"),
            "- psswrd = *******\nb: ok\n"
        );
    }

    /// Comments are looked into where a quoted line reaches them: a
    /// multi-line XML comment that started above the line too.
    #[test]
    fn only_comments_on_quoted_lines_are_looked_into() {
        let text = "# password: one\nx: 1\n<!-- a\npassword: two -->\ny: 2 # password: three\n";
        let line = |n: usize| {
            let start: usize = text.split_inclusive('\n').take(n - 1).map(str::len).sum();
            start..start + text.split('\n').nth(n - 1).unwrap().len()
        };
        let masked_at = |quoted: Vec<std::ops::Range<usize>>| {
            let mut spans = Vec::new();
            incidental_secrets_in(SourceId(0), text, &quoted, &mut spans);
            let mut words: Vec<&str> = spans
                .iter()
                .map(|s| text[s.start as usize..s.end as usize].trim())
                .collect();
            words.sort();
            words
        };
        assert_eq!(masked_at(vec![line(2)]), Vec::<&str>::new());
        assert_eq!(masked_at(vec![line(1)]), [": one"]);
        assert_eq!(masked_at(vec![line(4)]), [": two"]);
        assert_eq!(masked_at(vec![line(2), line(5)]), [": three"]);
    }

    #[test]
    fn secrets_in_comments_and_urls_are_masked() {
        let found = |t| masked_by(incidental_secrets, t);
        assert_eq!(
            found("<!-- <password>old1</password> -->\n<!-- plain note -->"),
            "<!-- <password**************** -->\n<!-- plain note -->"
        );
        assert_eq!(
            found("a: 1 # old password: hunter2\nb: c#d password x\n"),
            "a: 1 # old password* *******\nb: c#d password x\n"
        );
        assert_eq!(
            found("x = 1 // old password = \"pw1\"\nu = \"https://h//a password\"\n"),
            "x = 1 // old password * *****\nu = \"https://h//a password\"\n"
        );
        assert_eq!(
            found("url: https://app:hunter2@db.example.com:8123/x?y=1"),
            "url: https://app:*******@db.example.com:8123/x?y=1"
        );
        assert_eq!(
            found("<u>clickhouse://ghp_tok1@h:9000</u> http://h/@x"),
            "<u>clickhouse://********@h:9000</u> http://h/@x"
        );
        assert_eq!(
            found("jdbc:clickhouse://h:8123/db?user=u&password=pw1;ssl=1&token=t2#f x"),
            "jdbc:clickhouse://h:8123/db?user=u&password=***;ssl=1&token=**#f x"
        );
    }

    #[test]
    fn url_secrets_inside_other_urls_are_merged() {
        let text = "https://h/?next=https://u:p1@x/&token=t2";
        let ranges = url_secret_ranges(text);
        assert!(
            ranges.windows(2).all(|w| w[0].end < w[1].start),
            "{ranges:?}"
        );
        let shown: String = text
            .char_indices()
            .map(|(i, c)| {
                if ranges.iter().any(|r| r.contains(&i)) {
                    '*'
                } else {
                    c
                }
            })
            .collect();
        assert_eq!(shown, "https://h/?next=https://u:**@x/&token=**");
    }
}
