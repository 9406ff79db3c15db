//! Applying the unified diffs the recorded oracle cases are stored as.

/// Apply a unified diff to `original`. Context and removed lines must match
/// exactly; `\ No newline at end of file` is honoured on both sides.
pub fn apply_unified_diff(original: &str, diff: &str) -> Result<String, String> {
    let old_eol = original.ends_with('\n');
    let mut old: Vec<&str> = original.split('\n').collect();
    if old_eol || original.is_empty() {
        old.pop();
    }

    let mut out: Vec<String> = Vec::new();
    let mut next_old = 0usize; // index of the first old line not yet copied
    let mut new_eol = old_eol;
    let mut hunks = 0;
    let mut lines = diff.lines().peekable();

    // Skip the `---`/`+++` header (and anything before the first hunk).
    while let Some(l) = lines.peek() {
        if l.starts_with("@@") {
            break;
        }
        lines.next();
    }

    while let Some(header) = lines.next() {
        let (old_start, old_count, new_count) = parse_hunk_header(header)?;
        hunks += 1;
        // `-0,0` means "insert before the first line"; otherwise 1-based.
        let start = if old_count == 0 {
            old_start
        } else {
            old_start - 1
        };
        if start < next_old || start > old.len() {
            return Err(format!("hunk `{header}` out of order or past the end"));
        }
        out.extend(old[next_old..start].iter().map(|s| s.to_string()));
        let mut pos = start;
        let (mut seen_old, mut seen_new) = (0usize, 0usize);
        // Whether the last line given to the new side lacks its newline.
        let mut new_tail_no_eol = false;
        let mut last = ' ';
        while seen_old < old_count
            || seen_new < new_count
            || lines.peek().is_some_and(|l| l.starts_with('\\'))
        {
            let Some(line) = lines.next() else {
                return Err(format!("hunk `{header}` is truncated"));
            };
            // Some tools strip the space of an empty context line.
            let (kind, body) = match line.chars().next() {
                None => (' ', ""),
                Some(c) => (c, &line[c.len_utf8()..]),
            };
            match kind {
                ' ' | '-' => {
                    let Some(have) = old.get(pos) else {
                        return Err(format!(
                            "hunk `{header}`: the diff goes past the end of the file"
                        ));
                    };
                    if *have != body {
                        return Err(format!(
                            "hunk `{header}`: line {} is {have:?}, the diff expects {body:?}",
                            pos + 1
                        ));
                    }
                    pos += 1;
                    seen_old += 1;
                    if kind == ' ' {
                        out.push(body.to_string());
                        seen_new += 1;
                        new_tail_no_eol = false;
                    }
                }
                '+' => {
                    out.push(body.to_string());
                    seen_new += 1;
                    new_tail_no_eol = false;
                }
                '\\' => {
                    if last == ' ' || last == '+' {
                        new_tail_no_eol = true;
                    }
                }
                other => return Err(format!("hunk `{header}`: unexpected line kind {other:?}")),
            }
            if kind != '\\' {
                last = kind;
            }
        }
        if seen_old != old_count || seen_new != new_count {
            return Err(format!(
                "hunk `{header}` has {seen_old} old and {seen_new} new lines"
            ));
        }
        next_old = pos;
        if next_old == old.len() {
            new_eol = !new_tail_no_eol;
        }
        // Skip anything between hunks that is not a hunk (e.g. a second file's header).
        while let Some(l) = lines.peek() {
            if l.starts_with("@@") {
                break;
            }
            if !l.trim().is_empty() {
                return Err(format!("unexpected line after hunk `{header}`: {l:?}"));
            }
            lines.next();
        }
    }
    if hunks == 0 {
        return Err("the diff has no hunk".to_string());
    }
    out.extend(old[next_old..].iter().map(|s| s.to_string()));
    let mut text = out.join("\n");
    if new_eol && !out.is_empty() {
        text.push('\n');
    }
    Ok(text)
}

/// `@@ -a,b +c,d @@` → (a, b, d); a missing count is 1.
fn parse_hunk_header(header: &str) -> Result<(usize, usize, usize), String> {
    let bad = || format!("bad hunk header {header:?}");
    let inner = header
        .strip_prefix("@@ ")
        .and_then(|h| h.split(" @@").next())
        .ok_or_else(bad)?;
    let mut parts = inner.split(' ');
    let range = |part: Option<&str>, sign: char| -> Result<(usize, usize), String> {
        let part = part.and_then(|p| p.strip_prefix(sign)).ok_or_else(bad)?;
        let (start, count) = part.split_once(',').unwrap_or((part, "1"));
        Ok((
            start.parse().map_err(|_| bad())?,
            count.parse().map_err(|_| bad())?,
        ))
    };
    let (old_start, old_count) = range(parts.next(), '-')?;
    let (_, new_count) = range(parts.next(), '+')?;
    Ok((old_start, old_count, new_count))
}
