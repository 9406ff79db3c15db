//! Where a Terraform string came from, so that a document inside it (Helm
//! values, a manifest, a ClickHouse configuration) keeps the lines it was
//! written on: the file `file()` read, the template `templatefile()` or a
//! heredoc rendered (with the value each interpolation put in, and the
//! parts that are unknown), the object `yamlencode`/`jsonencode` encoded.
//!
//! The evaluator records these as it goes; [`document`] turns such a string
//! into a [`crate::deploy::value::Value`] whose spans point at the lines that
//! wrote each part — the values file, the template line, the variable
//! default an interpolation came from. A part the repository does not
//! contain stays a value from outside ([`VKind::External`]).

use super::value::{Entry as TfEntry, Kind, Unknown, Value as TfValue};
use crate::clickhouse::load::{ConfigNote, Workspace};
use crate::deploy::value::{Entry, Kind as VKind, Value};
use crate::source::{SourceId, Span};

/// Most origins one evaluation records, and most bytes of text they hold
/// (hostile configurations render huge templates in loops).
pub const MAX_ORIGINS: usize = 10_000;
pub const MAX_ORIGIN_BYTES: usize = 32 << 20;

/// Text written in place of an unknown part of a rendered template.
pub const PLACEHOLDER: &str = "chlint-unknown-value";

#[derive(Clone, Debug)]
pub enum Origin {
    /// The whole text of a file `file()` read.
    File { span: Span, source: SourceId },
    /// A multi-line template with interpolations, rendered.
    Rendered(Rendered),
    /// `yamlencode`/`jsonencode` of a collection: `text` is the result
    /// (`None` when the value holds an unknown, which makes the result unknown).
    Encoded {
        span: Span,
        text: Option<String>,
        value: TfValue,
    },
}

#[derive(Clone, Debug)]
pub struct Rendered {
    /// The template expression or the `templatefile` call.
    pub span: Span,
    /// The text, unknown parts written as [`PLACEHOLDER`].
    pub text: String,
    /// The template file (`templatefile`); `None` for a template written
    /// in the configuration (a heredoc).
    pub template: Option<SourceId>,
    pub pieces: Vec<Piece>,
    /// Some part is unknown: the value itself is unknown.
    pub partial: bool,
}

/// One interpolation's output in a rendered text.
#[derive(Clone, Debug)]
pub struct Piece {
    pub start: usize,
    pub end: usize,
    /// Where the interpolated value was written.
    pub span: Span,
    pub unknown: bool,
}

impl Origin {
    pub fn span(&self) -> Span {
        match self {
            Origin::File { span, .. } | Origin::Encoded { span, .. } => *span,
            Origin::Rendered(r) => r.span,
        }
    }

    /// Bytes of text it holds, for the cap.
    pub fn size(&self) -> usize {
        match self {
            Origin::File { .. } => 0,
            Origin::Rendered(r) => r.text.len() + r.pieces.len() * 32,
            Origin::Encoded { text, .. } => text.as_ref().map_or(0, String::len) + 256,
        }
    }
}

/// The origin of a value, if one was recorded.
pub fn find<'a>(ws: &Workspace, origins: &'a [Origin], v: &TfValue) -> Option<&'a Origin> {
    match &v.kind {
        Kind::Unknown(Unknown {
            origin: Some(i), ..
        }) => origins.get(*i),
        Kind::Str(text) => origins.iter().rev().find(|o| {
            o.span() == v.span
                && match o {
                    Origin::File { source, .. } => ws.sources.get(*source).text == *text,
                    Origin::Rendered(r) => !r.partial && r.text == *text,
                    Origin::Encoded { text: t, .. } => t.as_deref() == Some(text.as_str()),
                }
        }),
        _ => None,
    }
}

/// A document given as a Terraform value.
#[derive(Debug)]
pub enum Doc {
    Known(Value),
    /// Not known from the repository (a variable without a value, a file
    /// that is not in it, a template around an unknown structure).
    Unknown,
    /// Text that is not YAML (or JSON): the tool reading it would fail.
    Invalid(ConfigNote),
}

/// Decode a YAML (or JSON) document held in a Terraform value, with spans
/// into the file, template or heredoc that wrote it. A collection is taken
/// as the document itself.
pub fn document(ws: &Workspace, origins: &[Origin], v: &TfValue) -> Doc {
    match find(ws, origins, v) {
        Some(Origin::Encoded { value, .. }) => return Doc::Known(data(value)),
        Some(Origin::File { source, .. }) => {
            let source = *source;
            let text = ws.sources.get(source).text.clone();
            return parse(ws, source, &text, &[]);
        }
        Some(Origin::Rendered(r)) => {
            let source = rendered_source(ws, r);
            return parse(ws, source, &r.text, &r.pieces);
        }
        None => {}
    }
    match &v.kind {
        Kind::Str(text) => {
            let source = inline_source(ws, text, v.span);
            parse(ws, source, text, &[])
        }
        Kind::Object(_) | Kind::List(_) => Doc::Known(data(v)),
        Kind::Null => Doc::Known(Value::new(VKind::Map(Vec::new()), v.span)),
        _ => Doc::Unknown,
    }
}

/// Register a rendered text as a source: its lines map to the template
/// file's (or the heredoc's) when they correspond one to one, otherwise
/// every span maps to the expression that rendered it.
fn rendered_source(ws: &Workspace, r: &Rendered) -> SourceId {
    if let Some(t) = r.template {
        let host = &ws.sources.get(t).text;
        let lines = crate::deploy::embed::map_lines(host, 0, host.len(), &r.text);
        if !lines.is_empty() {
            let whole = Span::new(t, 0, host.len());
            return ws.sources.add_embedded(r.text.clone(), whole, lines);
        }
        return ws.sources.add_embedded(r.text.clone(), r.span, Vec::new());
    }
    let host = &ws.sources.get(r.span.source).text;
    let lines = crate::deploy::embed::heredoc_lines(host, r.span, &r.text);
    ws.sources.add_embedded(r.text.clone(), r.span, lines)
}

/// Register text written in the configuration (a heredoc, a quoted
/// string) as a source mapped to where it is written.
pub fn inline_source(ws: &Workspace, text: &str, span: Span) -> SourceId {
    let host = &ws.sources.get(span.source).text;
    let lines = crate::deploy::embed::heredoc_lines(host, span, text);
    ws.sources.add_embedded(text.to_string(), span, lines)
}

/// The span a text value should carry for the code that embeds it as a
/// file of its own (a ClickHouse configuration in a ConfigMap): the file
/// `file()` read, a template's rendering mapped to its lines, or where the
/// value is written.
pub fn text_span(ws: &Workspace, origins: &[Origin], v: &TfValue) -> Span {
    match find(ws, origins, v) {
        Some(Origin::File { source, .. }) => {
            Span::new(*source, 0, ws.sources.get(*source).text.len())
        }
        Some(Origin::Rendered(r)) if r.template.is_some() => {
            let source = rendered_source(ws, r);
            Span::new(source, 0, r.text.len())
        }
        _ => v.span,
    }
}

fn parse(ws: &Workspace, source: SourceId, text: &str, pieces: &[Piece]) -> Doc {
    // An unknown part alone on its line may stand for any structure.
    for p in pieces.iter().filter(|p| p.unknown) {
        let line_start = text[..p.start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[p.end..].find('\n').map_or(text.len(), |i| p.end + i);
        if text[line_start..p.start].trim().is_empty() && text[p.end..line_end].trim().is_empty() {
            return Doc::Unknown;
        }
    }
    let docs = match crate::deploy::parse_lenient(source, text, &ws.limits) {
        Ok(d) => d,
        Err(_) if pieces.iter().any(|p| p.unknown) => return Doc::Unknown,
        Err(error) => return Doc::Invalid(ConfigNote::Invalid { source, error }),
    };
    let Some(first) = docs.first() else {
        return Doc::Known(Value::new(VKind::Map(Vec::new()), Span::new(source, 0, 0)));
    };
    let mut v = Value::from_yaml(first);
    if pieces.is_empty() {
        return Doc::Known(v);
    }
    match apply_pieces(&mut v, source, text, pieces, 0) {
        Ok(()) => Doc::Known(v),
        Err(()) => Doc::Unknown,
    }
}

fn overlapping(span: Span, source: SourceId, pieces: &[Piece]) -> Vec<&Piece> {
    if span.source != source {
        return Vec::new();
    }
    let (s, e) = (span.start as usize, span.end as usize);
    pieces
        .iter()
        .filter(|p| p.start < e.max(s + 1) && s < p.end.max(p.start + 1))
        .collect()
}

/// Scalars an interpolation wrote take the interpolated value's span; a
/// scalar with an unknown part is from outside; a key with one gives up.
fn apply_pieces(
    v: &mut Value,
    source: SourceId,
    text: &str,
    pieces: &[Piece],
    depth: usize,
) -> Result<(), ()> {
    if depth > 256 {
        return Err(());
    }
    match &mut v.kind {
        VKind::Map(entries) => {
            for e in entries.iter_mut() {
                if overlapping(e.key_span, source, pieces)
                    .iter()
                    .any(|p| p.unknown)
                {
                    return Err(());
                }
                apply_pieces(&mut e.value, source, text, pieces, depth + 1)?;
            }
        }
        VKind::List(items) => {
            for i in items.iter_mut() {
                apply_pieces(i, source, text, pieces, depth + 1)?;
            }
        }
        VKind::Str(s) => {
            let hits = overlapping(v.span, source, pieces);
            if hits.iter().any(|p| p.unknown) {
                v.kind = VKind::External("a value this repository does not contain".into());
            } else if let [p] = hits.as_slice() {
                if text.get(p.start..p.end) == Some(s.as_str()) {
                    v.span = p.span;
                }
            }
        }
        VKind::Null => {
            if overlapping(v.span, source, pieces)
                .iter()
                .any(|p| p.unknown)
            {
                v.kind = VKind::External("a value this repository does not contain".into());
            }
        }
        VKind::External(_) => {}
    }
    Ok(())
}

/// A Terraform value as a deployment value, keys as written: strings,
/// numbers and booleans become text, unknown becomes a value from outside.
pub fn data(v: &TfValue) -> Value {
    data_at(v, 0)
}

fn data_at(v: &TfValue, depth: usize) -> Value {
    let kind = match &v.kind {
        _ if depth > 256 => VKind::External("a value nested too deep".into()),
        Kind::Null => VKind::Null,
        Kind::Bool(b) => VKind::Str(b.to_string()),
        Kind::Number(n) => VKind::Str(super::value::fmt_number(*n)),
        Kind::Str(s) => VKind::Str(s.clone()),
        Kind::List(items) => VKind::List(items.iter().map(|i| data_at(i, depth + 1)).collect()),
        Kind::Object(entries) => VKind::Map(
            entries
                .iter()
                .map(|e| Entry {
                    key: e.key.clone(),
                    key_span: e.key_span,
                    value: data_at(&e.value, depth + 1),
                })
                .collect(),
        ),
        Kind::Unknown(_) => VKind::External(unknown_text(v)),
    };
    Value::new(kind, v.span)
}

/// What to call an unknown value in messages.
pub fn unknown_text(v: &TfValue) -> String {
    match &v.kind {
        Kind::Unknown(Unknown {
            resource: Some(r), ..
        }) => format!("an attribute of `{r}`"),
        _ => "a value this repository does not contain".into(),
    }
}

/// A decoded document as a Terraform value (`yamldecode`): scalars stay
/// text, a value from outside is unknown.
pub fn to_tf(v: &Value) -> TfValue {
    to_tf_at(v, 0)
}

fn to_tf_at(v: &Value, depth: usize) -> TfValue {
    let kind = match &v.kind {
        _ if depth > 256 => Kind::Unknown(Unknown::default()),
        VKind::Null => Kind::Null,
        VKind::Str(s) => Kind::Str(s.clone()),
        VKind::List(items) => Kind::List(items.iter().map(|i| to_tf_at(i, depth + 1)).collect()),
        VKind::Map(entries) => Kind::Object(
            entries
                .iter()
                .map(|e| TfEntry {
                    key: e.key.clone(),
                    key_span: e.key_span,
                    value: to_tf_at(&e.value, depth + 1),
                })
                .collect(),
        ),
        VKind::External(_) => Kind::Unknown(Unknown::default()),
    };
    TfValue::new(kind, v.span)
}
