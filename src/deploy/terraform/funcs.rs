//! Terraform's built-in functions that configuration authors use for the
//! values chlint checks. Any other function gives an unknown value. An
//! unknown argument gives an unknown result, except where a result does not
//! depend on it (`concat` keeps the known elements and marks the rest).

use super::value::{fmt_number, keep_last, Entry, Kind, Value};
use crate::source::Span;

const MAX_BUILT: usize = 100_000;

pub fn call(name: &str, args: Vec<Value>, span: Span) -> Value {
    // `try` and `can` look at errors, every other function fails with one.
    match name {
        "try" => {
            for a in &args {
                if a.is_error() {
                    continue;
                }
                return a.clone();
            }
            return Value::error(span);
        }
        "can" => {
            return match args.first() {
                Some(a) if a.is_error() => Value::new(Kind::Bool(false), span),
                Some(a) if a.is_unknown() => Value::unknown(span),
                Some(_) => Value::new(Kind::Bool(true), span),
                None => Value::error(span),
            }
        }
        _ => {}
    }
    if let Some(e) = args.iter().find(|a| a.is_error()) {
        return Value::error(e.span);
    }
    let unknown_arg = args.iter().any(Value::is_unknown);
    let s = |i: usize| args.get(i).and_then(|a| a.to_template_string());
    let list = |v: Kind| Value::new(v, span);
    match name {
        // -- pass-through and conversions
        "sensitive" | "nonsensitive" | "tolist" | "tomap" => args
            .into_iter()
            .next()
            .unwrap_or_else(|| Value::error(span)),
        "toset" => match args.into_iter().next() {
            Some(Value {
                kind: Kind::List(items),
                span: vs,
            }) => Value::new(Kind::List(set(items)), vs),
            Some(v) => v,
            None => Value::error(span),
        },
        "tostring" => match args.first() {
            Some(v) if v.is_unknown() || v.is_null() => v.clone(),
            Some(v) => match v.to_template_string() {
                Some(t) => Value::str(t, v.span),
                None => Value::error(span),
            },
            None => Value::error(span),
        },
        "tonumber" => match args.first() {
            Some(v) if v.is_unknown() || v.is_null() => v.clone(),
            Some(v) => match v.as_number() {
                Some(n) => Value::new(Kind::Number(n), v.span),
                None => Value::error(span),
            },
            None => Value::error(span),
        },
        "tobool" => match args.first() {
            Some(v) if v.is_unknown() || v.is_null() => v.clone(),
            Some(v) => match v.as_bool() {
                Some(b) => Value::new(Kind::Bool(b), v.span),
                None => Value::error(span),
            },
            None => Value::error(span),
        },
        // -- collections that keep what is known
        "concat" => {
            let mut out = Vec::new();
            for a in args {
                match a.kind {
                    Kind::List(items) => out.extend(items),
                    // Unknown elements, how many is not known: one marker.
                    Kind::Unknown(_) => out.push(Value::unknown(a.span)),
                    _ => return Value::error(span),
                }
            }
            list(Kind::List(out))
        }
        "flatten" => match args.into_iter().next() {
            Some(v) => {
                let mut out = Vec::new();
                flatten(v, &mut out, 0);
                list(Kind::List(out))
            }
            None => Value::error(span),
        },
        "compact" => match args.into_iter().next().map(|v| v.kind) {
            Some(Kind::List(items)) => list(Kind::List(
                items
                    .into_iter()
                    .filter(|v| !(v.is_null() || v.as_str() == Some("")))
                    .collect(),
            )),
            Some(Kind::Unknown(_)) => Value::unknown(span),
            _ => Value::error(span),
        },
        "distinct" => match args.into_iter().next().map(|v| v.kind) {
            Some(Kind::List(items)) => list(Kind::List(distinct(items))),
            Some(Kind::Unknown(_)) => Value::unknown(span),
            _ => Value::error(span),
        },
        "setunion" => {
            let mut out = Vec::new();
            for a in args {
                match a.kind {
                    Kind::List(items) => out.extend(items),
                    _ => return Value::unknown(span),
                }
            }
            list(Kind::List(set(out)))
        }
        _ if unknown_arg
            && matches!(
                name,
                "merge" | "lookup" | "element" | "index" | "one" | "coalesce" | "coalescelist"
            ) =>
        {
            Value::unknown(span)
        }
        "merge" => {
            let mut out: Vec<Entry> = Vec::new();
            for a in args {
                match a.kind {
                    Kind::Object(entries) => out.extend(entries),
                    Kind::Null => {}
                    _ => return Value::error(span),
                }
            }
            list(Kind::Object(keep_last(out)))
        }
        "lookup" => match (args.first(), s(1)) {
            (Some(m), Some(k)) => match m.get(&k) {
                Some(v) => v.clone(),
                None => args.get(2).cloned().unwrap_or_else(|| Value::error(span)),
            },
            _ => Value::error(span),
        },
        "element" => match (
            args.first().and_then(Value::as_list),
            args.get(1).and_then(Value::as_number),
        ) {
            (Some(items), Some(i)) if !items.is_empty() && i >= 0.0 => {
                items[(i as usize) % items.len()].clone()
            }
            _ => Value::error(span),
        },
        "index" => match (args.first().and_then(Value::as_list), args.get(1)) {
            (Some(items), Some(x)) => match items.iter().position(|i| i.same(x) == Some(true)) {
                Some(p) => Value::new(Kind::Number(p as f64), span),
                None => Value::error(span),
            },
            _ => Value::error(span),
        },
        "one" => match args.first().map(|a| &a.kind) {
            Some(Kind::List(items)) if items.is_empty() => Value::new(Kind::Null, span),
            Some(Kind::List(items)) if items.len() == 1 => items[0].clone(),
            _ => Value::error(span),
        },
        "coalesce" => args
            .into_iter()
            .find(|a| !(a.is_null() || a.as_str() == Some("")))
            .unwrap_or_else(|| Value::error(span)),
        "coalescelist" => args
            .into_iter()
            .find(|a| a.as_list().is_some_and(|l| !l.is_empty()))
            .unwrap_or_else(|| Value::error(span)),
        // Everything else needs every part known.
        _ if args.iter().any(Value::has_unknown) => Value::unknown(span),
        "length" => match args.first().map(|a| &a.kind) {
            Some(Kind::List(items)) => Value::new(Kind::Number(items.len() as f64), span),
            Some(Kind::Object(e)) => Value::new(Kind::Number(e.len() as f64), span),
            Some(Kind::Str(t)) => Value::new(Kind::Number(t.chars().count() as f64), span),
            _ => Value::error(span),
        },
        "keys" => match args.first() {
            Some(
                m @ Value {
                    kind: Kind::Object(_),
                    ..
                },
            ) => {
                let mut keys: Vec<&Entry> = m.entries().iter().collect();
                keys.sort_by(|a, b| a.key.cmp(&b.key));
                list(Kind::List(
                    keys.into_iter()
                        .map(|e| Value::str(e.key.clone(), e.key_span))
                        .collect(),
                ))
            }
            _ => Value::error(span),
        },
        "values" => match args.first() {
            Some(
                m @ Value {
                    kind: Kind::Object(_),
                    ..
                },
            ) => {
                let mut keys: Vec<&Entry> = m.entries().iter().collect();
                keys.sort_by(|a, b| a.key.cmp(&b.key));
                list(Kind::List(
                    keys.into_iter().map(|e| e.value.clone()).collect(),
                ))
            }
            _ => Value::error(span),
        },
        "contains" => match (args.first().and_then(Value::as_list), args.get(1)) {
            (Some(items), Some(x)) => Value::new(
                Kind::Bool(items.iter().any(|i| i.same(x) == Some(true))),
                span,
            ),
            _ => Value::error(span),
        },
        "zipmap" => match (
            args.first().and_then(Value::as_list),
            args.get(1).and_then(Value::as_list),
        ) {
            (Some(k), Some(v)) if k.len() == v.len() => {
                let mut out: Vec<Entry> = Vec::new();
                for (k, v) in k.iter().zip(v) {
                    let Some(key) = k.to_template_string() else {
                        return Value::error(span);
                    };
                    out.push(Entry {
                        key,
                        key_span: k.span,
                        value: v.clone(),
                    });
                }
                list(Kind::Object(keep_last(out)))
            }
            _ => Value::error(span),
        },
        "slice" => match (
            args.first().and_then(Value::as_list),
            args.get(1).and_then(Value::as_number),
            args.get(2).and_then(Value::as_number),
        ) {
            (Some(items), Some(a), Some(b))
                if a >= 0.0 && a <= b && (b as usize) <= items.len() =>
            {
                list(Kind::List(items[a as usize..b as usize].to_vec()))
            }
            _ => Value::error(span),
        },
        "reverse" => match args.into_iter().next().map(|v| v.kind) {
            Some(Kind::List(mut items)) => {
                items.reverse();
                list(Kind::List(items))
            }
            _ => Value::error(span),
        },
        "sort" => match args.first().and_then(Value::as_list) {
            Some(items) => {
                let mut strs: Vec<(String, Value)> = Vec::new();
                for i in items {
                    match i.to_template_string() {
                        Some(t) => strs.push((t, i.clone())),
                        None => return Value::error(span),
                    }
                }
                strs.sort_by(|a, b| a.0.cmp(&b.0));
                list(Kind::List(
                    strs.into_iter()
                        .map(|(t, v)| Value::str(t, v.span))
                        .collect(),
                ))
            }
            None => Value::error(span),
        },
        "range" => {
            let n: Vec<f64> = args.iter().filter_map(Value::as_number).collect();
            if n.len() != args.len() || n.is_empty() || n.len() > 3 {
                return Value::error(span);
            }
            let (start, end, step) = match n.as_slice() {
                [e] => (0.0, *e, 1.0),
                [s, e] => (*s, *e, if e >= s { 1.0 } else { -1.0 }),
                [s, e, st] => (*s, *e, *st),
                _ => unreachable!(),
            };
            if step == 0.0 {
                return Value::error(span);
            }
            let mut out = Vec::new();
            let mut x = start;
            while (step > 0.0 && x < end) || (step < 0.0 && x > end) {
                if out.len() >= MAX_BUILT {
                    return Value::error(span);
                }
                out.push(Value::new(Kind::Number(x), span));
                x += step;
            }
            list(Kind::List(out))
        }
        "alltrue" | "anytrue" => match args.first().and_then(Value::as_list) {
            Some(items) => {
                let bools: Option<Vec<bool>> = items.iter().map(Value::as_bool).collect();
                match bools {
                    Some(b) if name == "alltrue" => {
                        Value::new(Kind::Bool(b.iter().all(|x| *x)), span)
                    }
                    Some(b) => Value::new(Kind::Bool(b.iter().any(|x| *x)), span),
                    None => Value::unknown(span),
                }
            }
            None => Value::error(span),
        },
        "min" | "max" | "sum" => {
            let mut nums: Vec<f64> = Vec::new();
            let flat: Vec<&Value> = if name == "sum" {
                args.first()
                    .and_then(Value::as_list)
                    .map(|l| l.iter().collect())
                    .unwrap_or_default()
            } else {
                args.iter().collect()
            };
            for a in flat {
                match a.as_number() {
                    Some(n) => nums.push(n),
                    None => return Value::error(span),
                }
            }
            if nums.is_empty() {
                return Value::error(span);
            }
            let r = match name {
                "min" => nums.iter().cloned().fold(f64::INFINITY, f64::min),
                "max" => nums.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
                _ => nums.iter().sum(),
            };
            Value::new(Kind::Number(r), span)
        }
        "abs" | "ceil" | "floor" => match args.first().and_then(Value::as_number) {
            Some(n) => Value::new(
                Kind::Number(match name {
                    "abs" => n.abs(),
                    "ceil" => n.ceil(),
                    _ => n.floor(),
                }),
                span,
            ),
            None => Value::error(span),
        },
        // -- strings
        "format" => match s(0) {
            Some(f) => match format(&f, &args[1..]) {
                Some(out) => Value::str(out, span),
                None => Value::unknown(span),
            },
            None => Value::error(span),
        },
        "formatlist" => {
            let Some(f) = s(0) else {
                return Value::error(span);
            };
            let n = args[1..]
                .iter()
                .filter_map(Value::as_list)
                .map(<[Value]>::len)
                .max();
            let Some(n) = n else {
                return match format(&f, &args[1..]) {
                    Some(out) => list(Kind::List(vec![Value::str(out, span)])),
                    None => Value::unknown(span),
                };
            };
            let mut out = Vec::new();
            let mut bytes = 0;
            for i in 0..n.min(MAX_BUILT) {
                let row: Vec<Value> = args[1..]
                    .iter()
                    .map(|a| match a.as_list() {
                        Some(l) => l.get(i).cloned().unwrap_or_else(|| Value::error(span)),
                        None => a.clone(),
                    })
                    .collect();
                match format(&f, &row) {
                    Some(t) if bytes + t.len() <= MAX_BUILT * 10 => {
                        bytes += t.len();
                        out.push(Value::str(t, span))
                    }
                    _ => return Value::unknown(span),
                }
            }
            list(Kind::List(out))
        }
        "join" => match (s(0), args.get(1).and_then(Value::as_list)) {
            (Some(sep), Some(items)) => {
                let parts: Option<Vec<String>> =
                    items.iter().map(Value::to_template_string).collect();
                match parts {
                    Some(p) => Value::str(p.join(&sep), span),
                    None => Value::error(span),
                }
            }
            _ => Value::error(span),
        },
        "split" => match (s(0), s(1)) {
            (Some(sep), Some(t)) if !sep.is_empty() => list(Kind::List(
                t.split(sep.as_str()).map(|p| Value::str(p, span)).collect(),
            )),
            _ => Value::error(span),
        },
        "lower" | "upper" | "trimspace" | "chomp" | "title" | "strrev" => match s(0) {
            Some(t) => Value::str(
                match name {
                    "lower" => t.to_lowercase(),
                    "upper" => t.to_uppercase(),
                    "trimspace" => t.trim().to_string(),
                    "chomp" => t.trim_end_matches(['\n', '\r']).to_string(),
                    "strrev" => t.chars().rev().collect(),
                    _ => t
                        .split(' ')
                        .map(|w| {
                            let mut c = w.chars();
                            c.next()
                                .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
                        })
                        .collect::<Vec<_>>()
                        .join(" "),
                },
                span,
            ),
            None => Value::error(span),
        },
        "trim" | "trimprefix" | "trimsuffix" => match (s(0), s(1)) {
            (Some(t), Some(x)) => Value::str(
                match name {
                    "trim" => t.trim_matches(|c| x.contains(c)).to_string(),
                    "trimprefix" => t.strip_prefix(x.as_str()).unwrap_or(&t).to_string(),
                    _ => t.strip_suffix(x.as_str()).unwrap_or(&t).to_string(),
                },
                span,
            ),
            _ => Value::error(span),
        },
        "replace" => match (s(0), s(1), s(2)) {
            // A `/regex/` pattern is not evaluated.
            (Some(_), Some(p), Some(_))
                if p.len() > 1 && p.starts_with('/') && p.ends_with('/') =>
            {
                Value::unknown(span)
            }
            // The result's length is known before it is built.
            (Some(t), Some(p), Some(r))
                if !p.is_empty()
                    && t.len() + t.matches(p.as_str()).count() * r.len() > MAX_BUILT * 10 =>
            {
                Value::unknown(span)
            }
            (Some(t), Some(p), Some(r)) if !p.is_empty() => Value::str(t.replace(&p, &r), span),
            _ => Value::error(span),
        },
        "substr" => match (
            s(0),
            args.get(1).and_then(Value::as_number),
            args.get(2).and_then(Value::as_number),
        ) {
            (Some(t), Some(off), Some(len)) if off >= 0.0 => {
                let chars = t.chars().skip(off as usize);
                let out: String = if len < 0.0 {
                    chars.collect()
                } else {
                    chars.take(len as usize).collect()
                };
                Value::str(out, span)
            }
            _ => Value::error(span),
        },
        "startswith" | "endswith" | "strcontains" => match (s(0), s(1)) {
            (Some(t), Some(x)) => Value::new(
                Kind::Bool(match name {
                    "startswith" => t.starts_with(&x),
                    "endswith" => t.ends_with(&x),
                    _ => t.contains(&x),
                }),
                span,
            ),
            _ => Value::error(span),
        },
        "jsonencode" => match args.first() {
            Some(v) => Value::str(jsonencode(v), span),
            None => Value::error(span),
        },
        "yamlencode" => match args.first() {
            Some(v) => {
                let mut out = String::new();
                yaml_value(v, 0, &mut out, false);
                Value::str(out, span)
            }
            None => Value::error(span),
        },
        "base64encode" => match s(0) {
            Some(t) => Value::str(base64(t.as_bytes()), span),
            None => Value::error(span),
        },
        "sha256" => match s(0) {
            Some(t) => {
                use sha2::Digest;
                let d = sha2::Sha256::digest(t.as_bytes());
                Value::str(
                    d.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                    span,
                )
            }
            None => Value::error(span),
        },
        _ => Value::unknown(span),
    }
}

/// The first of each group of equal items ([`Value::same`]), in order;
/// items that hold an unknown are all kept (they equal nothing).
fn distinct(items: Vec<Value>) -> Vec<Value> {
    let mut seen = std::collections::HashSet::new();
    items
        .into_iter()
        .filter(|i| i.canonical().is_none_or(|c| seen.insert(c)))
        .collect()
}

/// A set: duplicates removed, sorted the way Terraform orders sets.
fn set(items: Vec<Value>) -> Vec<Value> {
    let mut out = distinct(items);
    if out.iter().all(|v| matches!(v.kind, Kind::Str(_))) {
        out.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    } else if out.iter().all(|v| matches!(v.kind, Kind::Number(_))) {
        out.sort_by(|a, b| {
            a.as_number()
                .partial_cmp(&b.as_number())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }
    out
}

fn flatten(v: Value, out: &mut Vec<Value>, depth: usize) {
    match v.kind {
        Kind::List(items) if depth < 64 => {
            for i in items {
                flatten(i, out, depth + 1);
            }
        }
        _ => out.push(v),
    }
}

/// `format`'s verbs: `%s %d %v %q %f %%` (flags and widths for `%d`/`%s`).
fn format(f: &str, args: &[Value]) -> Option<String> {
    let mut out = String::new();
    let mut it = f.chars().peekable();
    let mut next = 0usize;
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&d) = it.peek() {
            if d.is_ascii_digit() || matches!(d, '-' | '+' | '.' | '#' | ' ') {
                spec.push(d);
                it.next();
            } else {
                break;
            }
        }
        let verb = it.next()?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let a = args.get(next)?;
        next += 1;
        let text = match verb {
            's' | 'v' => a
                .to_template_string()
                .or_else(|| (verb == 'v').then(|| jsonencode(a)))?,
            'd' => fmt_number(a.as_number()?.trunc()),
            'f' => {
                let prec = spec
                    .split('.')
                    .nth(1)
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(6);
                format!("{:.*}", prec, a.as_number()?)
            }
            'q' => serde_json::to_string(&a.to_template_string()?).ok()?,
            _ => return None,
        };
        let width: usize = spec
            .trim_start_matches(['-', '+', '#', ' ', '0'])
            .split('.')
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or(0)
            .min(MAX_BUILT);
        let pad = width.saturating_sub(text.chars().count());
        if spec.starts_with('-') {
            out.push_str(&text);
            out.push_str(&" ".repeat(pad));
        } else if spec.starts_with('0') && verb == 'd' {
            out.push_str(&"0".repeat(pad));
            out.push_str(&text);
        } else {
            out.push_str(&" ".repeat(pad));
            out.push_str(&text);
        }
        if out.len() > MAX_BUILT * 10 {
            return None;
        }
    }
    Some(out)
}

/// Go's `encoding/json` as Terraform uses it: keys sorted, `<>&` escaped.
pub fn jsonencode(v: &Value) -> String {
    let mut out = String::new();
    json_value(v, &mut out);
    out
}

fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_value(v: &Value, out: &mut String) {
    match &v.kind {
        Kind::Null | Kind::Unknown(_) => out.push_str("null"),
        Kind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Kind::Number(n) => out.push_str(&fmt_number(*n)),
        Kind::Str(s) => json_string(s, out),
        Kind::List(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_value(x, out);
            }
            out.push(']');
        }
        Kind::Object(entries) => {
            out.push('{');
            let sorted = super::eval::sorted(entries);
            for (i, (k, x)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(k, out);
                out.push(':');
                json_value(x, out);
            }
            out.push('}');
        }
    }
}

/// `yamlencode` as Terraform writes it: block style, keys sorted, every
/// string double-quoted.
fn yaml_value(v: &Value, indent: usize, out: &mut String, inline: bool) {
    let pad = " ".repeat(indent);
    match &v.kind {
        Kind::List(items) if !items.is_empty() => {
            if inline {
                out.push('\n');
            }
            for x in items {
                out.push_str(&pad);
                out.push_str("- ");
                match &x.kind {
                    Kind::Object(e) if !e.is_empty() => {
                        let mut first = String::new();
                        yaml_value(x, indent + 2, &mut first, false);
                        out.push_str(first.trim_start());
                    }
                    Kind::List(l) if !l.is_empty() => {
                        let mut inner = String::new();
                        yaml_value(x, indent + 2, &mut inner, false);
                        out.push_str(inner.trim_start());
                    }
                    _ => {
                        yaml_scalar(x, out);
                        out.push('\n');
                    }
                }
            }
        }
        Kind::Object(entries) if !entries.is_empty() => {
            if inline {
                out.push('\n');
            }
            for (k, x) in super::eval::sorted(entries) {
                out.push_str(&pad);
                json_string(k, out);
                out.push(':');
                match &x.kind {
                    Kind::Object(e) if !e.is_empty() => yaml_value(x, indent + 2, out, true),
                    Kind::List(l) if !l.is_empty() => yaml_value(x, indent, out, true),
                    _ => {
                        out.push(' ');
                        yaml_scalar(x, out);
                        out.push('\n');
                    }
                }
            }
        }
        _ => {
            if !inline {
                out.push_str(&pad);
            }
            yaml_scalar(v, out);
            out.push('\n');
        }
    }
}

fn yaml_scalar(v: &Value, out: &mut String) {
    match &v.kind {
        Kind::Null | Kind::Unknown(_) => out.push_str("null"),
        Kind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Kind::Number(n) => out.push_str(&fmt_number(*n)),
        Kind::Str(s) => json_string(s, out),
        Kind::List(_) => out.push_str("[]"),
        Kind::Object(_) => out.push_str("{}"),
    }
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 of raw bytes (for password hashes).
pub fn base64_of(bytes: &[u8]) -> String {
    base64(bytes)
}
