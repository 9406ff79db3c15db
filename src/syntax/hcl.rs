//! HCL (Terraform `.tf`) and its JSON syntax (`.tf.json`) → one small,
//! span-keeping syntax tree that the Terraform evaluator walks.
//!
//! Parsing is done by `hcl-edit`; its tree is converted at once into the
//! types below, whose spans are [`Span`]s of the file (so every value can
//! point back at the line that wrote it). The JSON syntax is converted into
//! the same tree: property values become expressions, strings become
//! templates (`"${var.x}"`), as Terraform reads them.
//!
//! Defences: bracket nesting deeper than [`MAX_DEPTH`] is refused before
//! `hcl-edit` (which recurses per level) sees the text, `hcl-edit` runs on a
//! thread with a large stack, and the conversion refuses trees deeper than
//! [`MAX_DEPTH`] (long operator chains), so the evaluator, which recurses
//! over this tree, stays within a small stack.

use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::structure::{Body as HBody, Structure};
use hcl_edit::template::{Directive, Element as TElement, Template as HTemplate};
use hcl_edit::Span as _;

use super::json::{JsonKind, JsonNode};
use super::ParseError;
use crate::source::{SourceId, Span};

/// Deepest nesting accepted (brackets, blocks, operators).
pub const MAX_DEPTH: usize = 100;

#[derive(Clone, Debug, Default)]
pub struct Body {
    pub attrs: Vec<Attr>,
    pub blocks: Vec<Block>,
}

impl Body {
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }

    pub fn blocks<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.blocks.iter().filter(move |b| b.kind == kind)
    }
}

#[derive(Clone, Debug)]
pub struct Attr {
    pub name: String,
    pub expr: Expr,
    /// The whole `name = value`.
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Block {
    pub kind: String,
    pub labels: Vec<String>,
    pub body: Body,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    And,
    Or,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Neg,
}

#[derive(Clone, Debug)]
pub enum Op {
    Attr(String),
    Index(Expr),
    /// `.*` and `[*]`: the operators after it apply to each element.
    Splat,
}

#[derive(Clone, Debug)]
pub enum ObjKey {
    Name(String),
    Expr(Expr),
}

#[derive(Clone, Debug)]
pub enum Part {
    Lit(String),
    Interp(Expr),
    If {
        cond: Expr,
        then: Vec<Part>,
        otherwise: Vec<Part>,
    },
    For {
        key_var: Option<String>,
        value_var: String,
        coll: Expr,
        body: Vec<Part>,
    },
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
    Template(Vec<Part>),
    Array(Vec<Expr>),
    Object(Vec<(ObjKey, Expr)>),
    Var(String),
    Traverse(Box<Expr>, Vec<Op>),
    Call {
        name: String,
        args: Vec<Expr>,
        expand: bool,
    },
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    For {
        key_var: Option<String>,
        value_var: String,
        coll: Box<Expr>,
        key: Option<Box<Expr>>,
        value: Box<Expr>,
        cond: Option<Box<Expr>>,
        group: bool,
    },
}

impl Expr {
    /// `a.b.c` written as a plain reference: its parts.
    pub fn reference(&self) -> Option<Vec<String>> {
        match &self.kind {
            ExprKind::Var(v) => Some(vec![v.clone()]),
            ExprKind::Traverse(base, ops) => {
                let mut parts = base.reference()?;
                for op in ops {
                    match op {
                        Op::Attr(a) => parts.push(a.clone()),
                        Op::Index(_) => {}
                        Op::Splat => return Some(parts),
                    }
                }
                Some(parts)
            }
            _ => None,
        }
    }
}

/// Deepest bracket nesting of an HCL text, strings and comments included
/// (an over-count only refuses hostile files sooner).
fn bracket_depth(text: &str) -> (usize, usize) {
    let (mut depth, mut max, mut at) = (0usize, 0usize, 0usize);
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > max {
                    max = depth;
                    at = i;
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    (max, at)
}

thread_local! {
    /// Is this thread one with a big stack (see [`with_big_stack`])?
    static ON_BIG_STACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The stack of a parser thread: enough for `hcl-edit`'s recursion.
const BIG_STACK: usize = 256 * 1024 * 1024;

/// A thread with a big stack, which `f` runs on knowing it.
fn big_stack_thread() -> std::thread::Builder {
    std::thread::Builder::new().stack_size(BIG_STACK)
}

/// `f`, marking its thread as one with a big stack first.
fn on_big_stack<T>(f: impl FnOnce() -> T) -> impl FnOnce() -> T {
    move || {
        ON_BIG_STACK.with(|b| b.set(true));
        f()
    }
}

/// Run `f` on a thread with a stack large enough for `hcl-edit`'s recursion.
pub(crate) fn with_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    // Already on such a thread (a whole Terraform analysis runs on one, and
    // parses every file): no thread per file, whose start and join cost a
    // wait for the scheduler each (a second for 1,100 files on a busy
    // machine).
    if ON_BIG_STACK.with(|b| b.get()) {
        return f();
    }
    std::thread::scope(|s| {
        big_stack_thread()
            .spawn_scoped(s, on_big_stack(f))
            .expect("spawn parser thread")
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// Start `f` on a thread of its own with a big stack (see
/// [`with_big_stack`]).
pub(crate) fn spawn_big_stack<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<T>> {
    big_stack_thread().spawn(on_big_stack(f))
}

/// `f` on every item, on one big-stack thread per core (see
/// [`with_big_stack`]), each taking the next item when done with one; the
/// results in the order of the items.
pub(crate) fn on_big_stacks<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len());
    if threads <= 1 {
        return with_big_stack(|| items.iter().map(&f).collect());
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                big_stack_thread()
                    .spawn_scoped(
                        s,
                        on_big_stack(|| {
                            let mut mine = Vec::new();
                            loop {
                                let i = next.fetch_add(1, Ordering::Relaxed);
                                let Some(item) = items.get(i) else { break };
                                mine.push((i, f(item)));
                            }
                            mine
                        }),
                    )
                    .expect("spawn parser thread")
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Parse a `.tf` file (or a `.tfvars` file: attributes only).
pub fn parse(source: SourceId, text: &str) -> Result<Body, ParseError> {
    let (depth, at) = bracket_depth(text);
    if depth > MAX_DEPTH {
        return Err(ParseError::new(
            format!("brackets nested deeper than {MAX_DEPTH} levels"),
            at,
        ));
    }
    with_big_stack(|| {
        let body = hcl_edit::parser::parse_body(text).map_err(|e| {
            let loc = e.location();
            ParseError::new(e.message().replace('\n', " "), loc.offset())
        })?;
        let conv = Conv {
            source,
            base: 0,
            exact: true,
            depth: 0,
        };
        conv.body(&body)
    })
}

/// Parse a template (the text of a `templatefile()` file) into parts.
pub fn parse_template_text(source: SourceId, text: &str) -> Result<Vec<Part>, ParseError> {
    let (depth, at) = bracket_depth(text);
    if depth > MAX_DEPTH {
        return Err(ParseError::new(
            format!("brackets nested deeper than {MAX_DEPTH} levels"),
            at,
        ));
    }
    with_big_stack(|| {
        let t = hcl_edit::parser::parse_template(text)
            .map_err(|e| ParseError::new(e.message().replace('\n', " "), e.location().offset()))?;
        let mut conv = Conv {
            source,
            base: 0,
            exact: true,
            depth: 0,
        };
        conv.template(&t, Span::new(source, 0, text.len()))
    })
}

struct Conv {
    source: SourceId,
    /// Offset of the parsed text in the file (JSON strings).
    base: usize,
    /// Do offsets map one to one (false inside JSON strings with escapes)?
    exact: bool,
    depth: usize,
}

impl Conv {
    fn span(&self, r: Option<std::ops::Range<usize>>, fallback: Span) -> Span {
        match r {
            Some(r) if self.exact => Span::new(self.source, self.base + r.start, self.base + r.end),
            _ => fallback,
        }
    }

    fn whole(&self) -> Span {
        Span::new(self.source, 0, 0)
    }

    fn body(&self, body: &HBody) -> Result<Body, ParseError> {
        let mut out = Body::default();
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let span = self.span(a.span(), self.whole());
                    let mut c = Conv { depth: 0, ..*self };
                    out.attrs.push(Attr {
                        name: a.key.as_str().to_string(),
                        expr: c.expr(&a.value, span)?,
                        span,
                    });
                }
                Structure::Block(b) => {
                    if self.depth > MAX_DEPTH {
                        return Err(self.too_deep(b.span()));
                    }
                    let span = self.span(b.span(), self.whole());
                    let inner = Conv {
                        depth: self.depth + 1,
                        ..*self
                    };
                    out.blocks.push(Block {
                        kind: b.ident.as_str().to_string(),
                        labels: b.labels.iter().map(|l| l.as_str().to_string()).collect(),
                        body: inner.body(&b.body)?,
                        span,
                    });
                }
            }
        }
        Ok(out)
    }

    fn too_deep(&self, r: Option<std::ops::Range<usize>>) -> ParseError {
        ParseError::new(
            format!("expression nested deeper than {MAX_DEPTH} levels"),
            self.base + r.map(|r| r.start).unwrap_or(0),
        )
    }

    fn expr(&mut self, e: &Expression, parent: Span) -> Result<Expr, ParseError> {
        if self.depth > MAX_DEPTH {
            return Err(self.too_deep(e.span()));
        }
        self.depth += 1;
        let r = self.expr_inner(e, parent);
        self.depth -= 1;
        r
    }

    fn boxed(&mut self, e: &Expression, parent: Span) -> Result<Box<Expr>, ParseError> {
        Ok(Box::new(self.expr(e, parent)?))
    }

    fn expr_inner(&mut self, e: &Expression, parent: Span) -> Result<Expr, ParseError> {
        let span = self.span(e.span(), parent);
        let kind = match e {
            Expression::Null(_) => ExprKind::Null,
            Expression::Bool(b) => ExprKind::Bool(*b.value()),
            Expression::Number(n) => ExprKind::Number(n.value().as_f64().unwrap_or(f64::NAN)),
            Expression::String(s) => ExprKind::Str(s.value().to_string()),
            Expression::Array(a) => ExprKind::Array(
                a.iter()
                    .map(|x| self.expr(x, span))
                    .collect::<Result<_, _>>()?,
            ),
            Expression::Object(o) => {
                let mut entries = Vec::new();
                for (k, v) in o.iter() {
                    let key = match k {
                        ObjectKey::Ident(i) => ObjKey::Name(i.as_str().to_string()),
                        ObjectKey::Expression(x) => match self.expr(x, span)? {
                            Expr {
                                kind: ExprKind::Str(s),
                                ..
                            } => ObjKey::Name(s),
                            Expr {
                                kind: ExprKind::Var(s),
                                ..
                            } => ObjKey::Name(s),
                            other => ObjKey::Expr(other),
                        },
                    };
                    entries.push((key, self.expr(v.expr(), span)?));
                }
                ExprKind::Object(entries)
            }
            Expression::StringTemplate(t) => {
                let mut parts = Vec::new();
                let mut strip_next = false;
                for el in t.iter() {
                    self.element(el, span, &mut parts, &mut strip_next)?;
                }
                ExprKind::Template(parts)
            }
            Expression::HeredocTemplate(h) => {
                let mut h = (**h).clone();
                if h.indent().is_some() {
                    h.dedent();
                }
                let parts = self.template(&h.template, span)?;
                ExprKind::Template(parts)
            }
            Expression::Parenthesis(p) => return self.expr(p.inner(), span),
            Expression::Variable(v) => ExprKind::Var(v.as_str().to_string()),
            Expression::Conditional(c) => ExprKind::Cond(
                self.boxed(&c.cond_expr, span)?,
                self.boxed(&c.true_expr, span)?,
                self.boxed(&c.false_expr, span)?,
            ),
            Expression::FuncCall(f) => {
                let mut name = String::new();
                for ns in &f.name.namespace {
                    name.push_str(ns.as_str());
                    name.push_str("::");
                }
                name.push_str(f.name.name.as_str());
                ExprKind::Call {
                    name,
                    args: f
                        .args
                        .iter()
                        .map(|a| self.expr(a, span))
                        .collect::<Result<_, _>>()?,
                    expand: f.args.expand_final(),
                }
            }
            Expression::Traversal(t) => {
                let base = self.boxed(&t.expr, span)?;
                let mut ops = Vec::new();
                for op in &t.operators {
                    ops.push(match op.value() {
                        TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                            Op::Splat
                        }
                        TraversalOperator::GetAttr(i) => Op::Attr(i.as_str().to_string()),
                        TraversalOperator::Index(x) => Op::Index(self.expr(x, span)?),
                        TraversalOperator::LegacyIndex(i) => Op::Index(Expr {
                            kind: ExprKind::Number(*i.value() as f64),
                            span,
                        }),
                    });
                }
                ExprKind::Traverse(base, ops)
            }
            Expression::UnaryOp(u) => {
                let op = match u.operator.value() {
                    UnaryOperator::Not => UnOp::Not,
                    UnaryOperator::Neg => UnOp::Neg,
                };
                ExprKind::Unary(op, self.boxed(&u.expr, span)?)
            }
            Expression::BinaryOp(b) => {
                use BinaryOperator as B;
                let op = match b.operator.value() {
                    B::Eq => BinOp::Eq,
                    B::NotEq => BinOp::NotEq,
                    B::Less => BinOp::Lt,
                    B::LessEq => BinOp::LtEq,
                    B::Greater => BinOp::Gt,
                    B::GreaterEq => BinOp::GtEq,
                    B::Plus => BinOp::Add,
                    B::Minus => BinOp::Sub,
                    B::Mul => BinOp::Mul,
                    B::Div => BinOp::Div,
                    B::Mod => BinOp::Mod,
                    B::And => BinOp::And,
                    B::Or => BinOp::Or,
                };
                ExprKind::Binary(
                    op,
                    self.boxed(&b.lhs_expr, span)?,
                    self.boxed(&b.rhs_expr, span)?,
                )
            }
            Expression::ForExpr(f) => ExprKind::For {
                key_var: f.intro.key_var.as_ref().map(|k| k.as_str().to_string()),
                value_var: f.intro.value_var.as_str().to_string(),
                coll: self.boxed(&f.intro.collection_expr, span)?,
                key: match &f.key_expr {
                    Some(k) => Some(self.boxed(k, span)?),
                    None => None,
                },
                value: self.boxed(&f.value_expr, span)?,
                cond: match &f.cond {
                    Some(c) => Some(self.boxed(&c.expr, span)?),
                    None => None,
                },
                group: f.grouping,
            },
        };
        Ok(Expr { kind, span })
    }

    fn template(&mut self, t: &HTemplate, span: Span) -> Result<Vec<Part>, ParseError> {
        self.template_stripped(t, span, false, false)
    }

    /// A template's parts; `~` strip markers are applied to the literals
    /// beside them (`start`/`end`: strip the first/last literal of this one).
    fn template_stripped(
        &mut self,
        t: &HTemplate,
        span: Span,
        start: bool,
        end: bool,
    ) -> Result<Vec<Part>, ParseError> {
        let mut parts = Vec::new();
        let mut strip_next = start;
        for el in t.iter() {
            self.element(el, span, &mut parts, &mut strip_next)?;
        }
        if end {
            trim_end_last(&mut parts);
        }
        Ok(parts)
    }

    fn element(
        &mut self,
        el: &TElement,
        span: Span,
        out: &mut Vec<Part>,
        strip_next: &mut bool,
    ) -> Result<(), ParseError> {
        if self.depth > MAX_DEPTH {
            return Err(self.too_deep(None));
        }
        match el {
            TElement::Literal(l) => {
                let mut text = l.value().to_string();
                if std::mem::take(strip_next) {
                    text = trim_start_first_line(&text);
                }
                out.push(Part::Lit(text));
                return Ok(());
            }
            TElement::Interpolation(i) => {
                if i.strip.strip_start() {
                    trim_end_last(out);
                }
                out.push(Part::Interp(self.expr(&i.expr, span)?));
                *strip_next = i.strip.strip_end();
            }
            TElement::Directive(d) => {
                self.depth += 1;
                let (part, before, after) = match &**d {
                    Directive::If(d) => {
                        let else_strip = d.else_expr.as_ref().map(|e| e.strip);
                        let then = self.template_stripped(
                            &d.if_expr.template,
                            span,
                            d.if_expr.strip.strip_end(),
                            else_strip
                                .map_or(d.endif_expr.strip.strip_start(), |s| s.strip_start()),
                        )?;
                        let otherwise = match &d.else_expr {
                            Some(e) => self.template_stripped(
                                &e.template,
                                span,
                                e.strip.strip_end(),
                                d.endif_expr.strip.strip_start(),
                            )?,
                            None => Vec::new(),
                        };
                        (
                            Part::If {
                                cond: self.expr(&d.if_expr.cond_expr, span)?,
                                then,
                                otherwise,
                            },
                            d.if_expr.strip.strip_start(),
                            d.endif_expr.strip.strip_end(),
                        )
                    }
                    Directive::For(d) => (
                        Part::For {
                            key_var: d.for_expr.key_var.as_ref().map(|k| k.as_str().to_string()),
                            value_var: d.for_expr.value_var.as_str().to_string(),
                            coll: self.expr(&d.for_expr.collection_expr, span)?,
                            body: self.template_stripped(
                                &d.for_expr.template,
                                span,
                                d.for_expr.strip.strip_end(),
                                d.endfor_expr.strip.strip_start(),
                            )?,
                        },
                        d.for_expr.strip.strip_start(),
                        d.endfor_expr.strip.strip_end(),
                    ),
                };
                self.depth -= 1;
                if before {
                    trim_end_last(out);
                }
                out.push(part);
                *strip_next = after;
            }
        }
        Ok(())
    }
}

/// A strip marker acts on the literal token beside it, and HCL's scanner
/// ends a literal token at each line break: `~}` strips the following text
/// up to and including the first line break, `{~` the trailing whitespace
/// of the last line before it (its line break too when that line is blank).
fn trim_end_last(parts: &mut [Part]) {
    if let Some(Part::Lit(s)) = parts.last_mut() {
        let body = s.strip_suffix('\n').unwrap_or(s);
        let start = body.rfind('\n').map_or(0, |i| i + 1);
        let kept = s[start..].trim_end().len();
        s.truncate(start + kept);
    }
}

fn trim_start_first_line(text: &str) -> String {
    let end = text.find('\n').map_or(text.len(), |i| i + 1);
    format!("{}{}", text[..end].trim_start(), &text[end..])
}

// ---------------------------------------------------------------------------
// JSON syntax (`.tf.json`, `.tfvars.json`).

/// Block types whose JSON form nests labels as object keys, and how many.
fn json_labels(kind: &str) -> Option<usize> {
    Some(match kind {
        "resource" | "data" => 2,
        "variable" | "output" | "module" | "provider" => 1,
        "terraform" | "locals" | "moved" | "import" | "check" | "removed" => 0,
        _ => return None,
    })
}

/// A `.tf.json` document as a body of top-level blocks.
pub fn from_json_config(source: SourceId, text: &str, doc: &JsonNode) -> Result<Body, ParseError> {
    let JsonKind::Object(entries) = &doc.kind else {
        return Err(ParseError::new(
            "a Terraform JSON file must hold an object",
            doc.span.start as usize,
        ));
    };
    let mut body = Body::default();
    for (key, key_span, value) in entries {
        if key == "//" {
            continue;
        }
        let Some(n) = json_labels(key) else {
            continue;
        };
        let mut labelled = Vec::new();
        nest(value, n, &mut Vec::new(), &mut labelled);
        for (labels, node) in labelled {
            if key == "locals" {
                // `"locals": {name: expr}` is one block of attributes.
                if let JsonKind::Object(_) = node.kind {
                    let mut b = json_body(source, text, node)?;
                    b.blocks.clear();
                    body.blocks.push(Block {
                        kind: key.clone(),
                        labels,
                        body: b,
                        span: Span::new(source, key_span.start as usize, node.span.end as usize),
                    });
                }
                continue;
            }
            body.blocks.push(Block {
                kind: key.clone(),
                labels,
                body: json_body(source, text, node)?,
                span: node.span,
            });
        }
    }
    Ok(body)
}

/// Walk `n` levels of label objects; arrays of bodies give several blocks.
fn nest<'a>(
    node: &'a JsonNode,
    n: usize,
    labels: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, &'a JsonNode)>,
) {
    match &node.kind {
        JsonKind::Array(items) if n == 0 || labels.len() == n => {
            for i in items {
                nest(i, n, labels, out);
            }
        }
        JsonKind::Object(entries) if labels.len() < n => {
            for (k, _, v) in entries {
                if k == "//" {
                    continue;
                }
                labels.push(k.clone());
                nest(v, n, labels, out);
                labels.pop();
            }
        }
        JsonKind::Object(_) => out.push((labels.clone(), node)),
        _ => {}
    }
}

/// A JSON object as a body: every property is an attribute (nested blocks
/// appear as objects or arrays of objects, which is how the evaluator
/// represents blocks anyway); `dynamic` stays a block so it is expanded.
pub fn json_body(source: SourceId, text: &str, node: &JsonNode) -> Result<Body, ParseError> {
    let mut body = Body::default();
    let JsonKind::Object(entries) = &node.kind else {
        return Ok(body);
    };
    for (key, key_span, value) in entries {
        if key == "//" {
            continue;
        }
        let span = Span::new(source, key_span.start as usize, value.span.end as usize);
        if key == "dynamic" {
            let mut labelled = Vec::new();
            nest(value, 1, &mut Vec::new(), &mut labelled);
            for (labels, n) in labelled {
                body.blocks.push(Block {
                    kind: "dynamic".into(),
                    labels,
                    body: json_body(source, text, n)?,
                    span: n.span,
                });
            }
            continue;
        }
        body.attrs.push(Attr {
            name: key.clone(),
            expr: json_expr(source, text, value, 0)?,
            span,
        });
    }
    Ok(body)
}

/// A JSON value as an expression: strings are templates.
pub fn json_expr(
    source: SourceId,
    text: &str,
    node: &JsonNode,
    depth: usize,
) -> Result<Expr, ParseError> {
    if depth > MAX_DEPTH {
        return Err(ParseError::new(
            format!("nested deeper than {MAX_DEPTH} levels"),
            node.span.start as usize,
        ));
    }
    let span = node.span;
    let kind = match &node.kind {
        JsonKind::Null => ExprKind::Null,
        JsonKind::Bool(b) => ExprKind::Bool(*b),
        JsonKind::Number(n) => ExprKind::Number(n.parse().unwrap_or(f64::NAN)),
        JsonKind::String(s) => {
            if !s.contains("${") && !s.contains("%{") {
                ExprKind::Str(s.clone())
            } else {
                let raw = &text[span.start as usize..span.end as usize];
                // Offsets inside the string map one to one only without escapes.
                let exact = !raw.contains('\\') && raw.len() == s.len() + 2;
                let (depth_b, _) = bracket_depth(s);
                if depth_b > MAX_DEPTH {
                    return Err(ParseError::new(
                        "template nested too deeply",
                        span.start as usize,
                    ));
                }
                let parsed = with_big_stack(|| {
                    let t = hcl_edit::parser::parse_template(s).map_err(|e| {
                        ParseError::new(
                            format!("in a template string: {}", e.message().replace('\n', " ")),
                            span.start as usize + if exact { 1 + e.location().offset() } else { 0 },
                        )
                    })?;
                    let mut conv = Conv {
                        source,
                        base: span.start as usize + 1,
                        exact,
                        depth,
                    };
                    conv.template(&t, span)
                })?;
                ExprKind::Template(parsed)
            }
        }
        JsonKind::Array(items) => ExprKind::Array(
            items
                .iter()
                .map(|i| json_expr(source, text, i, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        JsonKind::Object(entries) => ExprKind::Object(
            entries
                .iter()
                .filter(|(k, _, _)| k != "//")
                .map(|(k, _, v)| {
                    Ok((
                        ObjKey::Name(k.clone()),
                        json_expr(source, text, v, depth + 1)?,
                    ))
                })
                .collect::<Result<_, ParseError>>()?,
        ),
    };
    Ok(Expr { kind, span })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Body {
        parse(SourceId(0), text).expect("parses")
    }

    #[test]
    fn attributes_and_blocks_keep_their_spans() {
        let text = "resource \"aws_security_group\" \"sg\" {\n  name = \"ch\"\n  ingress {\n    from_port = 8123\n  }\n}\n";
        let body = p(text);
        let r = &body.blocks[0];
        assert_eq!(r.kind, "resource");
        assert_eq!(r.labels, ["aws_security_group", "sg"]);
        let name = r.body.attr("name").unwrap();
        assert_eq!(
            &text[name.span.start as usize..name.span.end as usize],
            "name = \"ch\""
        );
        let port = &r.body.blocks[0].body.attr("from_port").unwrap().expr;
        assert_eq!(
            &text[port.span.start as usize..port.span.end as usize],
            "8123"
        );
    }

    #[test]
    fn syntax_errors_have_an_offset() {
        let err = parse(SourceId(0), "a = {\n  b = \n}\n").unwrap_err();
        assert!(err.offset > 0 && err.offset <= 14, "{err:?}");
    }

    #[test]
    fn deep_nesting_is_refused_without_crashing() {
        let text = format!("a = {}1{}\n", "[".repeat(5000), "]".repeat(5000));
        assert!(parse(SourceId(0), &text).is_err());
        let chain = format!("a = 1{}\n", " + 1".repeat(5000));
        assert!(parse(SourceId(0), &chain).is_err());
        let nots = format!("a = {}true\n", "!".repeat(5000));
        assert!(parse(SourceId(0), &nots).is_err());
    }

    #[test]
    fn references_and_templates() {
        let body = p("a = var.x\nb = \"${local.y}-z\"\nc = aws_sg.x[0].id\n");
        assert_eq!(
            body.attr("a").unwrap().expr.reference().unwrap(),
            ["var", "x"]
        );
        assert!(matches!(
            body.attr("b").unwrap().expr.kind,
            ExprKind::Template(_)
        ));
        assert_eq!(
            body.attr("c").unwrap().expr.reference().unwrap(),
            ["aws_sg", "x", "id"]
        );
    }
}
