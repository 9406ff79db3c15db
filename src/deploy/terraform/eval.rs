//! Loading Terraform modules (a folder of `.tf`/`.tf.json` files) and
//! evaluating the expressions configuration authors write, the way
//! `terraform plan` would, as far as this repository can tell.
//!
//! What is evaluated: literals, lists, maps, `var.`/`local.`/`module.`
//! references, `path.module`, string templates (with `%{if}`/`%{for}`),
//! operators, conditionals, `for` expressions, splats, the functions in
//! `funcs.rs`, `dynamic` blocks, `count`/`for_each`. Variable values come
//! from the caller (a local module's inputs), tfvars files and `--var-file`
//! (root modules only), then the default. What this repository cannot
//! know — a variable without a value, a data source, a resource attribute,
//! a remote module — is [`Kind::Unknown`]: no finding may rest on it.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::budget::Budget;
use super::origin::{Origin, Piece, Rendered};
use super::value::{keep_last, Entry, Kind, Unknown, Value};
use super::{is_config_file, normalize};
use crate::clickhouse::load::{ConfigNote, Workspace};
use crate::source::{display_path, SourceId, Span};
use crate::syntax::hcl::{self, Attr, BinOp, Block, Body, Expr, ExprKind, ObjKey, Op, Part, UnOp};
use crate::syntax::{json, ParseError};

/// Deepest evaluation (nested expressions plus reference chains).
const MAX_EVAL_DEPTH: usize = 400;
/// Deepest local-module nesting followed.
const MAX_MODULE_DEPTH: usize = 16;
/// Most instances evaluated for one `count`/`for_each`.
const MAX_INSTANCES: usize = 64;
/// Longest string or list a function builds (`range`, `format` padding…).
const MAX_BUILT: usize = 100_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Managed,
    Data,
}

#[derive(Debug)]
pub struct Variable {
    pub name: String,
    pub default: Option<Expr>,
    pub span: Span,
    pub sensitive: bool,
    pub nullable: bool,
}

#[derive(Debug)]
pub struct ResourceDecl {
    pub mode: Mode,
    pub rtype: String,
    pub name: String,
    pub body: Body,
    pub span: Span,
}

#[derive(Debug)]
pub struct ModuleCall {
    pub name: String,
    pub source: Option<String>,
    pub body: Body,
    pub span: Span,
}

/// One folder of configuration files.
#[derive(Debug, Default)]
pub struct Module {
    pub dir: PathBuf,
    pub files: Vec<SourceId>,
    pub variables: Vec<Variable>,
    pub locals: Vec<Attr>,
    pub resources: Vec<ResourceDecl>,
    pub calls: Vec<ModuleCall>,
    pub outputs: Vec<(String, Body, Span)>,
    pub providers: Vec<Block>,
}

impl Module {
    pub fn variable(&self, name: &str) -> Option<&Variable> {
        self.variables.iter().find(|v| v.name == name)
    }
}

/// A resource as Terraform would plan it: one instance of `count`/`for_each`.
#[derive(Clone, Debug)]
pub struct ResourceInstance {
    /// `module.a.aws_security_group.sg[0]`
    pub address: String,
    /// `aws_security_group.sg` within its module (no index).
    pub local_address: String,
    /// The module instance it belongs to (`""` for the root).
    pub module: String,
    pub mode: Mode,
    pub rtype: String,
    /// The body evaluated: attributes, and nested blocks as lists of objects.
    pub value: Value,
    /// The `resource` block.
    pub span: Span,
    /// Its `count`/`for_each` is unknown: it may not exist at all.
    pub maybe: bool,
    /// From a plan or state file (values as planned, not as written).
    pub plan: bool,
}

/// An evaluated instance of a module.
pub struct Instance {
    pub module: Rc<Module>,
    /// `""` for the root, `module.a` / `module.a["k"]` below it.
    pub address: String,
    inputs: HashMap<String, Value>,
    locals: RefCell<HashMap<String, Rc<Value>>>,
    busy: RefCell<HashSet<String>>,
    children: RefCell<HashMap<String, Rc<Vec<Rc<Instance>>>>>,
    pub depth: usize,
    /// Its module call (or an enclosing one) has an unknown count/for_each.
    pub maybe: bool,
    /// The root module's folder: Terraform's working folder (`path.root`,
    /// `path.cwd`, relative paths of `file()`).
    root_dir: PathBuf,
}

#[derive(Clone)]
struct Scope<'a> {
    inst: &'a Rc<Instance>,
    /// `each`, `count`, `for` variables, `dynamic` iterators, template vars
    /// (shared: a scope is copied for every iteration).
    vars: Vec<(Rc<str>, Rc<Value>)>,
    /// In `templatefile`: only `vars` are visible.
    template: bool,
}

impl<'a> Scope<'a> {
    fn new(inst: &'a Rc<Instance>) -> Scope<'a> {
        Scope {
            inst,
            vars: Vec::new(),
            template: false,
        }
    }

    fn with(&self, name: &str, v: Value) -> Scope<'a> {
        let mut s = self.clone();
        s.vars.push((name.into(), Rc::new(v)));
        s
    }

    fn lookup(&self, name: &str) -> Option<&Value> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| &**v)
    }
}

pub struct Evaluator<'w> {
    ws: &'w Workspace,
    modules: RefCell<HashMap<PathBuf, Rc<Module>>>,
    /// Files parsed ahead of evaluation ([`Evaluator::preparse`]).
    preparsed: RefCell<HashMap<PathBuf, (SourceId, Parsed)>>,
    /// Module folders' configuration files ([`config_files`]).
    listings: RefCell<HashMap<PathBuf, Vec<PathBuf>>>,
    /// Files that failed to parse (reported once each).
    pub notes: RefCell<Vec<ConfigNote>>,
    /// Where secrets were read into sources (tfvars values…), never printed.
    depth: Cell<usize>,
    /// Where multi-line texts came from (`origin.rs`), for the documents
    /// (Helm values, manifests, configurations) inside them.
    pub origins: RefCell<Vec<Origin>>,
    origin_bytes: Cell<usize>,
    /// The values of variables marked `sensitive` (never printed).
    pub sensitive: RefCell<SensitiveValues>,
    /// What the root module being evaluated may still build.
    budget: Budget,
}

/// Where the values of `sensitive` variables are written and their texts:
/// terraform prints "(sensitive value)" for them, and so does chlint.
#[derive(Default)]
pub struct SensitiveValues {
    pub spans: Vec<Span>,
    pub texts: Vec<String>,
    /// (instance, variable) pairs already recorded.
    seen: HashSet<(usize, String)>,
}

/// Most leaves of one sensitive value recorded (a bomb stays a bomb).
const MAX_SENSITIVE_LEAVES: usize = 4096;
/// Most texts recorded in all: each is searched for in every message.
const MAX_SENSITIVE_TEXTS: usize = 16_384;

impl SensitiveValues {
    fn add(&mut self, v: &Value, budget: &mut usize) {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        match &v.kind {
            Kind::List(items) => items.iter().for_each(|i| self.add(i, budget)),
            Kind::Object(entries) => entries.iter().for_each(|e| self.add(&e.value, budget)),
            Kind::Str(t) => {
                self.spans.push(v.span);
                if self.texts.len() < MAX_SENSITIVE_TEXTS {
                    self.texts.push(t.clone());
                }
            }
            Kind::Number(_) | Kind::Bool(_) => self.spans.push(v.span),
            Kind::Null | Kind::Unknown(_) => {}
        }
    }
}

/// A configuration file's tree, or why it has none.
pub type Parsed = Result<Body, ParseError>;

/// A file parsed ahead of evaluation: its path, source and tree.
pub type Preparsed = (PathBuf, SourceId, Parsed);

/// The configuration files of a module folder, in the order Terraform
/// reads them: by name, override files last (Terraform's override rules are
/// approximated: they are read after the others).
fn config_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file() && is_config_file(p))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files.sort_by_key(|p| {
        let n = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        n.starts_with("override.") || n.contains("_override.")
    });
    files
}

/// Parse the text of a `.tf` or `.tf.json` file.
pub fn parse_config_text(path: &Path, source: SourceId, text: &str) -> Parsed {
    let json = path.to_string_lossy().to_lowercase().ends_with(".json");
    if json {
        json::parse(source, text).and_then(|doc| hcl::from_json_config(source, text, &doc))
    } else {
        hcl::parse(source, text)
    }
}

/// What a `for` or a `dynamic` block goes through: (index, item) of a list, (key, value) of an
/// object; `None` for anything else.
fn iteration_pairs(c: &Value) -> Option<Vec<(Value, Value)>> {
    match &c.kind {
        Kind::List(items) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::new(Kind::Number(i as f64), v.span), v.clone()))
                .collect(),
        ),
        Kind::Object(entries) => Some(
            entries
                .iter()
                .map(|e| (Value::str(e.key.clone(), e.key_span), e.value.clone()))
                .collect(),
        ),
        _ => None,
    }
}

fn obj(entries: Vec<Entry>, span: Span) -> Value {
    Value::new(Kind::Object(entries), span)
}

impl<'w> Evaluator<'w> {
    pub fn new(ws: &'w Workspace) -> Evaluator<'w> {
        Evaluator {
            ws,
            modules: RefCell::new(HashMap::new()),
            preparsed: RefCell::new(HashMap::new()),
            listings: RefCell::new(HashMap::new()),
            notes: RefCell::new(Vec::new()),
            depth: Cell::new(0),
            origins: RefCell::new(Vec::new()),
            origin_bytes: Cell::new(0),
            sensitive: RefCell::default(),
            budget: Budget::default(),
        }
    }

    /// Record the value of variable `name` of `inst` when it is marked
    /// `sensitive` (once per instance), with its default's expression.
    fn note_sensitive(&self, inst: &Rc<Instance>, name: &str, v: Option<&Value>) {
        let Some(decl) = inst.module.variable(name).filter(|d| d.sensitive) else {
            return;
        };
        let mut sensitive = self.sensitive.borrow_mut();
        if !sensitive
            .seen
            .insert((Rc::as_ptr(inst) as usize, name.to_string()))
        {
            return;
        }
        if let Some(d) = &decl.default {
            sensitive.spans.push(d.span);
        }
        let mut budget = MAX_SENSITIVE_LEAVES;
        let given = v.or_else(|| inst.inputs.get(name));
        if let Some(v) = given {
            sensitive.add(v, &mut budget);
        }
    }

    /// A fresh budget for the next root module (its tfvars included).
    pub fn begin_root(&self) {
        self.budget.reset();
    }

    /// A root module evaluated: note where its budget ran out, if it did.
    pub fn end_root(&self) {
        if let Some(note) = self.budget.note() {
            self.note(note);
        }
    }

    /// Remember where a text came from; its index, unless the cap is reached.
    fn record(&self, o: Origin) -> Option<usize> {
        let mut origins = self.origins.borrow_mut();
        let bytes = self.origin_bytes.get() + o.size();
        if origins.len() >= super::origin::MAX_ORIGINS || bytes > super::origin::MAX_ORIGIN_BYTES {
            return None;
        }
        self.origin_bytes.set(bytes);
        origins.push(o);
        Some(origins.len() - 1)
    }

    /// A rendered template whose known parts are kept: unknown, with its origin.
    fn partial(
        &self,
        parts: &[Part],
        scope: &Scope,
        span: Span,
        template: Option<SourceId>,
        otherwise: Value,
    ) -> Value {
        let mut out = String::new();
        let mut pieces = Vec::new();
        if self
            .render(parts, scope, &mut out, &mut pieces, true)
            .is_err()
        {
            return otherwise;
        }
        let id = self.record(Origin::Rendered(Rendered {
            span,
            text: out,
            template,
            pieces,
            partial: true,
        }));
        match id {
            Some(i) => Value::new(
                Kind::Unknown(Unknown {
                    origin: Some(i),
                    ..Unknown::default()
                }),
                span,
            ),
            None => otherwise,
        }
    }

    /// Read a file into the source map (each file once).
    pub fn read(&self, path: &Path) -> Result<SourceId, ConfigNote> {
        self.ws.read_source(path)
    }

    pub fn text(&self, id: SourceId) -> String {
        self.ws.sources.get(id).text.to_string()
    }

    fn note(&self, note: ConfigNote) {
        let mut notes = self.notes.borrow_mut();
        if !notes.contains(&note) {
            notes.push(note);
        }
    }

    pub fn set_opaque(&self, id: SourceId) {
        self.ws.sources.set_opaque(id);
    }

    pub fn note_invalid(&self, source: SourceId, error: ParseError) {
        self.parse_error(source, error);
    }

    fn parse_error(&self, source: SourceId, error: ParseError) {
        let file = self.ws.sources.get(source);
        // A snippet for people to fill in (documentation, an example with
        // `<YOUR_VALUE>` where a value goes) is not yet Terraform, as a
        // Helm template is not yet a manifest: said, not a finding.
        if let Some(placeholder) = placeholder_at(&file.text, error.offset) {
            self.note(ConfigNote::Skipped {
                path: file.path.clone(),
                reason: format!(
                    "not checked: a snippet with the placeholder `{placeholder}` where Terraform expects a value"
                ),
            });
            return;
        }
        self.note(ConfigNote::Invalid { source, error });
    }

    /// Parse one configuration file into a body.
    pub fn parse_config_file(&self, path: &Path) -> Option<(SourceId, Body)> {
        let source = match self.read(path) {
            Ok(s) => s,
            Err(note) => {
                self.note(note);
                return None;
            }
        };
        let preparsed = self.preparsed.borrow_mut().remove(path);
        let parsed = match preparsed {
            Some((id, parsed)) if id == source => parsed,
            _ => parse_config_text(path, source, &self.text(source)),
        };
        match parsed {
            Ok(body) => Some((source, body)),
            Err(e) => {
                self.parse_error(source, e);
                None
            }
        }
    }

    /// Read every configuration file of these module folders and parse
    /// them in parallel (evaluation, which follows, is sequential); the
    /// trees wait for [`Evaluator::module`].
    pub fn preparse<'d>(&self, dirs: impl IntoIterator<Item = &'d PathBuf>) {
        let files: Vec<PathBuf> = {
            let done = self.preparsed.borrow();
            dirs.into_iter()
                .flat_map(|d| self.config_files(d))
                .filter(|p| !done.contains_key(p))
                .collect()
        };
        // Registered in order, as loading the modules one by one would.
        let read: Vec<(&PathBuf, SourceId)> = files
            .iter()
            .filter_map(|p| Some((p, self.read(p).ok()?)))
            .collect();
        let sources = &self.ws.sources;
        let parsed = hcl::on_big_stacks(&read, |(path, source)| {
            parse_config_text(path, *source, &sources.get(*source).text)
        });
        let mut preparsed = self.preparsed.borrow_mut();
        for ((path, source), parsed) in read.into_iter().zip(parsed) {
            preparsed.insert(path.clone(), (source, parsed));
        }
    }

    /// The configuration files of a module folder (listed once).
    fn config_files(&self, dir: &Path) -> Vec<PathBuf> {
        self.listings
            .borrow_mut()
            .entry(dir.to_path_buf())
            .or_insert_with(|| config_files(dir))
            .clone()
    }

    /// Take files parsed earlier (see `terraform::parse_early`).
    pub fn adopt(&self, parsed: Vec<Preparsed>) {
        let mut preparsed = self.preparsed.borrow_mut();
        for (path, source, parsed) in parsed {
            preparsed.insert(path, (source, parsed));
        }
    }

    /// The module in a folder (loaded once).
    pub fn module(&self, dir: &Path) -> Rc<Module> {
        let key = dir.to_path_buf();
        if let Some(m) = self.modules.borrow().get(&key) {
            return m.clone();
        }
        let files = self.config_files(dir);
        let mut m = Module {
            dir: key.clone(),
            ..Module::default()
        };
        for path in files {
            let Some((source, body)) = self.parse_config_file(&path) else {
                continue;
            };
            m.files.push(source);
            add_body(&mut m, body);
        }
        let m = Rc::new(m);
        self.modules.borrow_mut().insert(key, m.clone());
        m
    }

    /// Local module folders that a module calls (resolved, existing).
    pub fn local_calls(&self, m: &Module) -> Vec<PathBuf> {
        m.calls
            .iter()
            .filter_map(|c| local_source(&m.dir, c.source.as_deref()?))
            .collect()
    }

    /// Values from tfvars files for a root module, in Terraform's order.
    pub fn tfvars(&self, dir: &Path, extra: &[PathBuf]) -> HashMap<String, Value> {
        let mut files: Vec<PathBuf> = Vec::new();
        for name in ["terraform.tfvars", "terraform.tfvars.json"] {
            let p = dir.join(name);
            if p.is_file() {
                files.push(p);
            }
        }
        let mut auto: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        let n = p.file_name().map(|n| n.to_string_lossy().to_lowercase());
                        p.is_file()
                            && n.is_some_and(|n| {
                                n.ends_with(".auto.tfvars") || n.ends_with(".auto.tfvars.json")
                            })
                    })
                    .collect()
            })
            .unwrap_or_default();
        auto.sort();
        files.extend(auto);
        files.extend(extra.iter().cloned());
        let mut out = HashMap::new();
        let empty = Rc::new(Instance::root(Rc::new(Module::default()), HashMap::new()));
        for path in files {
            let source = match self.read(&path) {
                Ok(s) => s,
                Err(n) => {
                    self.note(n);
                    continue;
                }
            };
            let text = self.text(source);
            if path.to_string_lossy().to_lowercase().ends_with(".json") {
                match json::parse(source, &text) {
                    Ok(doc) => {
                        if let json::JsonKind::Object(entries) = &doc.kind {
                            for (k, _, v) in entries {
                                out.insert(k.clone(), from_json(v));
                            }
                        }
                    }
                    Err(e) => self.parse_error(source, e),
                }
                continue;
            }
            match hcl::parse(source, &text) {
                Ok(body) => {
                    for a in &body.attrs {
                        out.insert(a.name.clone(), self.eval(&a.expr, &Scope::new(&empty)));
                    }
                }
                Err(e) => self.parse_error(source, e),
            }
        }
        out
    }

    /// Parse a tfvars file only to report a syntax error.
    pub fn syntax_check(&self, path: &Path) {
        let Ok(source) = self.read(path) else { return };
        let text = self.text(source);
        let r = if path.to_string_lossy().to_lowercase().ends_with(".json") {
            json::parse(source, &text).map(|_| ())
        } else {
            hcl::parse(source, &text).map(|_| ())
        };
        if let Err(e) = r {
            self.parse_error(source, e);
        }
    }

    /// Evaluate a root module with variable values from tfvars.
    /// The values of its `sensitive` variables are recorded even when no
    /// expression uses them (a tfvars line or a default may still be shown).
    pub fn root(&self, dir: &Path, inputs: HashMap<String, Value>) -> Rc<Instance> {
        let inst = Rc::new(Instance::root(self.module(dir), inputs));
        for v in inst.module.variables.iter().filter(|v| v.sensitive) {
            let value = inst
                .inputs
                .get(&v.name)
                .cloned()
                .or_else(|| v.default.as_ref().map(|d| self.eval(d, &Scope::new(&inst))));
            self.note_sensitive(&inst, &v.name, value.as_ref());
        }
        inst
    }

    // -- references -------------------------------------------------------

    /// A variable's value, borrowed where the caller gave it (only the
    /// part a reference selects is copied); a `sensitive` one is recorded.
    pub fn var<'i>(&self, inst: &'i Rc<Instance>, name: &str, span: Span) -> Cow<'i, Value> {
        let v = self.var_value(inst, name, span);
        self.note_sensitive(inst, name, Some(&*v));
        v
    }

    fn var_value<'i>(&self, inst: &'i Rc<Instance>, name: &str, span: Span) -> Cow<'i, Value> {
        if let Some(v) = inst.inputs.get(name) {
            let nullable = inst.module.variable(name).is_none_or(|v| v.nullable);
            if !v.is_null() || nullable {
                return Cow::Borrowed(v);
            }
        }
        Cow::Owned(match inst.module.variable(name) {
            Some(Variable {
                default: Some(d), ..
            }) => self.eval(d, &Scope::new(inst)),
            Some(v) => Value::unknown(v.span),
            None => Value::error(span),
        })
    }

    /// A local's value, evaluated once and shared.
    pub fn local(&self, inst: &Rc<Instance>, name: &str, span: Span) -> Rc<Value> {
        if let Some(v) = inst.locals.borrow().get(name) {
            return v.clone();
        }
        let Some(attr) = inst.module.locals.iter().find(|a| a.name == name) else {
            return Rc::new(Value::error(span));
        };
        if !inst.busy.borrow_mut().insert(format!("local.{name}")) {
            return Rc::new(Value::unknown(span)); // a cycle
        }
        let v = Rc::new(self.eval(&attr.expr, &Scope::new(inst)));
        inst.busy.borrow_mut().remove(&format!("local.{name}"));
        inst.locals.borrow_mut().insert(name.to_string(), v.clone());
        v
    }

    /// The instances of a module call (empty when it cannot be followed).
    pub fn children(&self, inst: &Rc<Instance>, call: &ModuleCall) -> Rc<Vec<Rc<Instance>>> {
        if let Some(c) = inst.children.borrow().get(&call.name) {
            return c.clone();
        }
        // Mark it first: a module that calls itself stops here.
        inst.children
            .borrow_mut()
            .insert(call.name.clone(), Rc::new(Vec::new()));
        let mut out = Vec::new();
        let dir = call
            .source
            .as_deref()
            .and_then(|s| local_source(&inst.module.dir, s));
        // A module outside the checked folders is neither listed nor read.
        let dir = dir.filter(|d| {
            let inside = self.ws.inside_roots(d);
            if !inside {
                self.note(crate::deploy::outside_note(
                    self.ws,
                    call.span,
                    &format!(
                        "module source `{}`",
                        call.source.as_deref().unwrap_or_default()
                    ),
                    "its values are unknown",
                ));
            }
            inside
        });
        if let (Some(dir), true) = (dir, inst.depth < MAX_MODULE_DEPTH) {
            let module = self.module(&dir);
            let scope = Scope::new(inst);
            for (suffix, scope, maybe) in self.repetitions(&call.body, &scope) {
                if !self.budget.charge_instance(call.span) {
                    break;
                }
                let mut inputs = HashMap::new();
                for a in &call.body.attrs {
                    if META.contains(&a.name.as_str()) || a.name == "source" || a.name == "version"
                    {
                        continue;
                    }
                    inputs.insert(a.name.clone(), self.eval(&a.expr, &scope));
                }
                let prefix = if inst.address.is_empty() {
                    String::new()
                } else {
                    format!("{}.", inst.address)
                };
                out.push(Rc::new(Instance {
                    module: module.clone(),
                    address: format!("{prefix}module.{}{suffix}", call.name),
                    inputs,
                    locals: RefCell::default(),
                    busy: RefCell::default(),
                    children: RefCell::default(),
                    depth: inst.depth + 1,
                    maybe: inst.maybe || maybe,
                    root_dir: inst.root_dir.clone(),
                }));
            }
        }
        let out = Rc::new(out);
        inst.children
            .borrow_mut()
            .insert(call.name.clone(), out.clone());
        out
    }

    fn output(&self, inst: &Rc<Instance>, name: &str, span: Span) -> Value {
        let key = format!("output.{name}");
        let Some((_, body, _)) = inst.module.outputs.iter().find(|(n, _, _)| n == name) else {
            return Value::error(span);
        };
        let Some(attr) = body.attr("value") else {
            return Value::error(span);
        };
        if !inst.busy.borrow_mut().insert(key.clone()) {
            return Value::unknown(span);
        }
        let v = self.eval(&attr.expr, &Scope::new(inst));
        inst.busy.borrow_mut().remove(&key);
        v
    }

    /// The outputs of a module instance, evaluated.
    pub fn outputs(&self, inst: &Rc<Instance>) -> Vec<(String, Value)> {
        inst.module
            .outputs
            .iter()
            .map(|(n, _, span)| (n.clone(), self.output(inst, n, *span)))
            .collect()
    }

    /// `count`/`for_each` of a block: each repetition's address suffix, its
    /// scope, and whether the repetition is only possible (unknown count).
    fn repetitions<'s>(&self, body: &Body, scope: &Scope<'s>) -> Vec<(String, Scope<'s>, bool)> {
        if let Some(a) = body.attr("count") {
            let v = self.eval(&a.expr, scope);
            return match v.as_number() {
                Some(n) if n >= 0.0 => (0..(n as usize).min(MAX_INSTANCES))
                    .map(|i| {
                        let idx = Value::new(Kind::Number(i as f64), a.span);
                        let count = obj(
                            vec![Entry {
                                key: "index".into(),
                                key_span: a.span,
                                value: idx,
                            }],
                            a.span,
                        );
                        (format!("[{i}]"), scope.with("count", count), false)
                    })
                    .collect(),
                Some(_) => Vec::new(),
                None => {
                    let count = obj(
                        vec![Entry {
                            key: "index".into(),
                            key_span: a.span,
                            value: Value::unknown(a.span),
                        }],
                        a.span,
                    );
                    vec![("[?]".into(), scope.with("count", count), true)]
                }
            };
        }
        if let Some(a) = body.attr("for_each") {
            let v = self.eval(&a.expr, scope);
            let pairs: Option<Vec<(String, Value)>> = match &v.kind {
                Kind::Object(entries) => Some(
                    entries
                        .iter()
                        .map(|e| (e.key.clone(), e.value.clone()))
                        .collect(),
                ),
                Kind::List(items) => items
                    .iter()
                    .map(|i| i.to_template_string().map(|s| (s, i.clone())))
                    .collect(),
                Kind::Null => Some(Vec::new()),
                _ => None,
            };
            return match pairs {
                Some(pairs) => pairs
                    .into_iter()
                    .take(MAX_INSTANCES)
                    .map(|(k, val)| {
                        let each = obj(
                            vec![
                                Entry {
                                    key: "key".into(),
                                    key_span: a.span,
                                    value: Value::str(k.clone(), a.span),
                                },
                                Entry {
                                    key: "value".into(),
                                    key_span: a.span,
                                    value: val,
                                },
                            ],
                            a.span,
                        );
                        (format!("[{k:?}]"), scope.with("each", each), false)
                    })
                    .collect(),
                None => {
                    let each = obj(
                        vec![
                            Entry {
                                key: "key".into(),
                                key_span: a.span,
                                value: Value::unknown(a.span),
                            },
                            Entry {
                                key: "value".into(),
                                key_span: a.span,
                                value: Value::unknown(a.span),
                            },
                        ],
                        a.span,
                    );
                    vec![("[?]".into(), scope.with("each", each), true)]
                }
            };
        }
        vec![(String::new(), scope.clone(), false)]
    }

    /// Every resource of a module instance, expanded by count/for_each.
    pub fn resources(&self, inst: &Rc<Instance>) -> Vec<ResourceInstance> {
        let mut out = Vec::new();
        let scope = Scope::new(inst);
        for r in &inst.module.resources {
            let local = format!(
                "{}{}.{}",
                if r.mode == Mode::Data { "data." } else { "" },
                r.rtype,
                r.name
            );
            for (suffix, scope, maybe) in self.repetitions(&r.body, &scope) {
                let prefix = if inst.address.is_empty() {
                    String::new()
                } else {
                    format!("{}.", inst.address)
                };
                out.push(ResourceInstance {
                    address: format!("{prefix}{local}{suffix}"),
                    local_address: local.clone(),
                    module: inst.address.clone(),
                    mode: r.mode,
                    rtype: r.rtype.clone(),
                    value: self.eval_body(&r.body, &scope, r.span),
                    span: r.span,
                    maybe: maybe || inst.maybe,
                    plan: false,
                });
            }
        }
        out
    }

    /// Provider blocks of a module, evaluated.
    pub fn providers(&self, inst: &Rc<Instance>) -> Vec<(String, Value, Span)> {
        let scope = Scope::new(inst);
        inst.module
            .providers
            .iter()
            .map(|b| {
                let name = b.labels.first().cloned().unwrap_or_default();
                (name, self.eval_body(&b.body, &scope, b.span), b.span)
            })
            .collect()
    }

    /// A block body as an object: attributes, and nested blocks (expanded
    /// `dynamic` ones included) as lists of objects.
    fn eval_body(&self, body: &Body, scope: &Scope, span: Span) -> Value {
        let mut entries: Vec<Entry> = Vec::new();
        for a in &body.attrs {
            if META.contains(&a.name.as_str()) {
                continue;
            }
            entries.push(Entry {
                key: a.name.clone(),
                key_span: a.span,
                value: self.eval(&a.expr, scope),
            });
        }
        let push_block = |entries: &mut Vec<Entry>, kind: &str, v: Value, span: Span| match entries
            .iter_mut()
            .find(|e| e.key == kind)
        {
            Some(Entry {
                value:
                    Value {
                        kind: Kind::List(items),
                        ..
                    },
                ..
            }) => items.push(v),
            _ => entries.push(Entry {
                key: kind.to_string(),
                key_span: span,
                value: Value::new(Kind::List(vec![v]), span),
            }),
        };
        for b in &body.blocks {
            if matches!(b.kind.as_str(), "lifecycle" | "provisioner" | "connection") {
                continue;
            }
            if b.kind == "dynamic" {
                let Some(name) = b.labels.first() else {
                    continue;
                };
                for v in self.dynamic(name, b, scope) {
                    push_block(&mut entries, name, v, b.span);
                }
                continue;
            }
            let v = self.eval_body(&b.body, scope, b.span);
            push_block(&mut entries, &b.kind, v, b.span);
        }
        obj(entries, span)
    }

    /// The blocks a `dynamic` block generates (none when its `for_each` is unknown).
    fn dynamic(&self, name: &str, b: &Block, scope: &Scope) -> Vec<Value> {
        let Some(for_each) = b.body.attr("for_each") else {
            return Vec::new();
        };
        let iterator = b
            .body
            .attr("iterator")
            .and_then(|a| a.expr.reference())
            .and_then(|r| r.first().cloned())
            .unwrap_or_else(|| name.to_string());
        let Some(content) = b.body.blocks("content").next() else {
            return Vec::new();
        };
        let coll = self.eval(&for_each.expr, scope);
        let Some(pairs) = iteration_pairs(&coll) else {
            return Vec::new();
        };
        pairs
            .into_iter()
            .take(MAX_INSTANCES)
            .map(|(k, v)| {
                let it = obj(
                    vec![
                        Entry {
                            key: "key".into(),
                            key_span: k.span,
                            value: k,
                        },
                        Entry {
                            key: "value".into(),
                            key_span: v.span,
                            value: v,
                        },
                    ],
                    for_each.span,
                );
                let inner = scope.with(&iterator, it);
                self.eval_body(&content.body, &inner, content.span)
            })
            .collect()
    }

    // -- expressions ------------------------------------------------------

    fn eval(&self, e: &Expr, scope: &Scope) -> Value {
        let d = self.depth.get();
        if d >= MAX_EVAL_DEPTH || !self.budget.charge(1, 0, e.span) {
            return Value::unknown(e.span);
        }
        self.depth.set(d + 1);
        let v = self.eval_inner(e, scope);
        self.depth.set(d);
        if !self.charge_result(e, &v) {
            return Value::unknown(e.span);
        }
        v
    }

    /// Charge what evaluating `e` built or copied; false past the budget
    /// (spent here or deeper). Literals' items were charged as they were
    /// evaluated; references and function results copy or build values
    /// of any size.
    fn charge_result(&self, e: &Expr, v: &Value) -> bool {
        let b = &self.budget;
        match (&e.kind, &v.kind) {
            (_, Kind::Unknown(_)) => !b.exhausted(),
            (ExprKind::Array(_) | ExprKind::For { .. }, Kind::List(items)) => {
                b.charge(items.len(), 0, e.span)
            }
            (ExprKind::Object(_) | ExprKind::For { .. }, Kind::Object(entries)) => b.charge(
                entries.len(),
                entries.iter().map(|x| x.key.len()).sum(),
                e.span,
            ),
            // A conditional passes on what its branch built (charged there).
            (ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) | ExprKind::Cond(..), _) => {
                !b.exhausted()
            }
            _ => b.charge_value(v, e.span),
        }
    }

    fn eval_inner(&self, e: &Expr, scope: &Scope) -> Value {
        let span = e.span;
        match &e.kind {
            ExprKind::Null => Value::new(Kind::Null, span),
            ExprKind::Bool(b) => Value::new(Kind::Bool(*b), span),
            ExprKind::Number(n) => Value::new(Kind::Number(*n), span),
            ExprKind::Str(s) => Value::str(s.clone(), span),
            ExprKind::Template(parts) => {
                if let [Part::Interp(x)] = parts.as_slice() {
                    return self.eval(x, scope);
                }
                let mut out = String::new();
                let mut pieces = Vec::new();
                match self.render(parts, scope, &mut out, &mut pieces, false) {
                    Ok(()) => {
                        if !pieces.is_empty() && out.contains('\n') {
                            self.record(Origin::Rendered(Rendered {
                                span,
                                text: out.clone(),
                                template: None,
                                pieces,
                                partial: false,
                            }));
                        }
                        Value::str(out, span)
                    }
                    Err(v) if v.is_unknown() && !v.is_error() && multi_line(parts) => {
                        self.partial(parts, scope, span, None, v)
                    }
                    Err(v) => v,
                }
            }
            ExprKind::Array(items) => Value::new(
                Kind::List(items.iter().map(|i| self.eval(i, scope)).collect()),
                span,
            ),
            ExprKind::Object(entries) => {
                let mut out: Vec<Entry> = Vec::new();
                for (k, v) in entries {
                    let key = match k {
                        ObjKey::Name(n) => n.clone(),
                        ObjKey::Expr(x) => match self.eval(x, scope).to_template_string() {
                            Some(s) => s,
                            None => return Value::unknown(span),
                        },
                    };
                    let value = self.eval(v, scope);
                    out.push(Entry {
                        key,
                        key_span: v.span,
                        value,
                    });
                }
                obj(keep_last(out), span)
            }
            ExprKind::Var(name) => match scope.lookup(name) {
                Some(v) => v.clone(),
                None => Value::error(span),
            },
            ExprKind::Traverse(base, ops) => self.traverse(base, ops, scope, span),
            ExprKind::Call { name, args, expand } => {
                let mut vals: Vec<Value> = args.iter().map(|a| self.eval(a, scope)).collect();
                if *expand {
                    match vals.pop().map(|v| v.kind) {
                        Some(Kind::List(items)) => vals.extend(items),
                        _ => return Value::unknown(span),
                    }
                }
                self.call(name, vals, span, scope)
            }
            ExprKind::Cond(c, t, f) => {
                let cond = self.eval(c, scope);
                match cond.as_bool() {
                    Some(true) => self.eval(t, scope),
                    Some(false) => self.eval(f, scope),
                    None if cond.is_error() => cond,
                    None => {
                        // Unknown condition: known only when both branches agree.
                        let (a, b) = (self.eval(t, scope), self.eval(f, scope));
                        if a.same(&b) == Some(true) {
                            a
                        } else {
                            Value::unknown(span)
                        }
                    }
                }
            }
            ExprKind::Unary(op, x) => {
                let v = self.eval(x, scope);
                if v.is_unknown() {
                    return v;
                }
                match op {
                    UnOp::Not => match v.as_bool() {
                        Some(b) => Value::new(Kind::Bool(!b), span),
                        None => Value::error(span),
                    },
                    UnOp::Neg => match v.as_number() {
                        Some(n) => Value::new(Kind::Number(-n), span),
                        None => Value::error(span),
                    },
                }
            }
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r, scope, span),
            ExprKind::For {
                key_var,
                value_var,
                coll,
                key,
                value,
                cond,
                group,
            } => {
                let c = self.eval(coll, scope);
                let Some(pairs) = iteration_pairs(&c) else {
                    return match c.kind {
                        Kind::Unknown(_) => Value::unknown(span),
                        _ => Value::error(span),
                    };
                };
                let mut list = Vec::new();
                let mut map: Vec<Entry> = Vec::new();
                // Where each key's group is in `map` (`...` grouping).
                let mut groups: HashMap<String, usize> = HashMap::new();
                for (k, v) in pairs.into_iter().take(MAX_BUILT) {
                    if self.budget.exhausted() {
                        return Value::unknown(span);
                    }
                    let mut inner = scope.with(value_var, v);
                    if let Some(kv) = key_var {
                        inner = inner.with(kv, k);
                    }
                    if let Some(c) = cond {
                        match self.eval(c, &inner).as_bool() {
                            Some(true) => {}
                            Some(false) => continue,
                            None => return Value::unknown(span),
                        }
                    }
                    let val = self.eval(value, &inner);
                    match key {
                        None => list.push(val),
                        Some(kx) => {
                            let Some(k) = self.eval(kx, &inner).to_template_string() else {
                                return Value::unknown(span);
                            };
                            if *group {
                                match groups.get(&k).map(|&i| &mut map[i].value.kind) {
                                    Some(Kind::List(items)) => items.push(val),
                                    _ => {
                                        groups.insert(k.clone(), map.len());
                                        map.push(Entry {
                                            key: k,
                                            key_span: val.span,
                                            value: Value::new(Kind::List(vec![val]), span),
                                        })
                                    }
                                }
                            } else {
                                map.push(Entry {
                                    key: k,
                                    key_span: val.span,
                                    value: val,
                                });
                            }
                        }
                    }
                }
                if key.is_some() {
                    let mut map = keep_last(map);
                    map.sort_by(|a, b| a.key.cmp(&b.key));
                    obj(map, span)
                } else {
                    Value::new(Kind::List(list), span)
                }
            }
        }
    }

    /// Render template parts; `Err` carries the unknown (or error) value.
    /// `pieces` receives what each interpolation wrote; with `partial`, an
    /// unknown interpolation writes a placeholder instead of failing.
    fn render(
        &self,
        parts: &[Part],
        scope: &Scope,
        out: &mut String,
        pieces: &mut Vec<Piece>,
        partial: bool,
    ) -> Result<(), Value> {
        for p in parts {
            if out.len() > MAX_BUILT * 10 {
                return Err(Value::unknown(Span::new(SourceId(0), 0, 0)));
            }
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Interp(x) => {
                    let v = self.eval(x, scope);
                    let start = out.len();
                    match v.to_template_string() {
                        Some(s) => out.push_str(&s),
                        None if v.is_unknown() && !v.is_error() && partial => {
                            out.push_str(super::origin::PLACEHOLDER)
                        }
                        None if v.is_unknown() => return Err(v),
                        None => return Err(Value::error(v.span)),
                    }
                    pieces.push(Piece {
                        start,
                        end: out.len(),
                        span: v.span,
                        unknown: v.is_unknown(),
                    });
                }
                Part::If {
                    cond,
                    then,
                    otherwise,
                } => {
                    let c = self.eval(cond, scope);
                    match c.as_bool() {
                        Some(true) => self.render(then, scope, out, pieces, partial)?,
                        Some(false) => self.render(otherwise, scope, out, pieces, partial)?,
                        None => return Err(Value::unknown(c.span)),
                    }
                }
                Part::For {
                    key_var,
                    value_var,
                    coll,
                    body,
                } => {
                    let c = self.eval(coll, scope);
                    let Some(pairs) = iteration_pairs(&c) else {
                        return Err(Value::unknown(c.span));
                    };
                    for (k, v) in pairs {
                        if !self.budget.charge(1, 0, c.span) {
                            return Err(Value::unknown(c.span));
                        }
                        let mut inner = scope.with(value_var, v);
                        if let Some(kv) = key_var {
                            inner = inner.with(kv, k);
                        }
                        self.render(body, &inner, out, pieces, partial)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn binary(&self, op: BinOp, l: &Expr, r: &Expr, scope: &Scope, span: Span) -> Value {
        let a = self.eval(l, scope);
        // Short-circuit logic works even with an unknown other side.
        match op {
            BinOp::And if a.as_bool() == Some(false) => return Value::new(Kind::Bool(false), span),
            BinOp::Or if a.as_bool() == Some(true) => return Value::new(Kind::Bool(true), span),
            _ => {}
        }
        let b = self.eval(r, scope);
        let boolean = |x: bool| Value::new(Kind::Bool(x), span);
        match op {
            BinOp::And | BinOp::Or => {
                if let Some(bb) = b.as_bool() {
                    if op == BinOp::And && !bb {
                        return boolean(false);
                    }
                    if op == BinOp::Or && bb {
                        return boolean(true);
                    }
                }
                match (a.as_bool(), b.as_bool()) {
                    (Some(x), Some(y)) => boolean(if op == BinOp::And { x && y } else { x || y }),
                    _ if a.is_unknown() || b.is_unknown() => Value::unknown(span),
                    _ => Value::error(span),
                }
            }
            BinOp::Eq | BinOp::NotEq => {
                // Terraform does not convert for equality: `1 == "1"` is false.
                let same = a.same(&b);
                match same {
                    Some(s) => boolean(if op == BinOp::Eq { s } else { !s }),
                    None => Value::unknown(span),
                }
            }
            _ => {
                if a.is_unknown() || b.is_unknown() {
                    return Value::unknown(span);
                }
                let (Some(x), Some(y)) = (a.as_number(), b.as_number()) else {
                    return Value::error(span);
                };
                let num = |n: f64| Value::new(Kind::Number(n), span);
                match op {
                    BinOp::Lt => boolean(x < y),
                    BinOp::LtEq => boolean(x <= y),
                    BinOp::Gt => boolean(x > y),
                    BinOp::GtEq => boolean(x >= y),
                    BinOp::Add => num(x + y),
                    BinOp::Sub => num(x - y),
                    BinOp::Mul => num(x * y),
                    BinOp::Div if y != 0.0 => num(x / y),
                    BinOp::Mod if y != 0.0 => num(x % y),
                    _ => Value::error(span),
                }
            }
        }
    }

    fn traverse(&self, base: &Expr, ops: &[Op], scope: &Scope, span: Span) -> Value {
        if let ExprKind::Var(root) = &base.kind {
            if scope.lookup(root).is_none() {
                let attr = |i: usize| match ops.get(i) {
                    Some(Op::Attr(a)) => Some(a.as_str()),
                    _ => None,
                };
                if scope.template {
                    return Value::error(span);
                }
                let inst = scope.inst;
                match root.as_str() {
                    "var" => {
                        let Some(name) = attr(0) else {
                            return Value::error(span);
                        };
                        let v = self.var(inst, name, span);
                        return self.apply(&v, &ops[1..], scope, span);
                    }
                    "local" => {
                        let Some(name) = attr(0) else {
                            return Value::error(span);
                        };
                        let v = self.local(inst, name, span);
                        return self.apply(&v, &ops[1..], scope, span);
                    }
                    "path" => {
                        // The folders as chlint holds them, whatever the
                        // working folder: paths made of them are read.
                        let dir = match attr(0) {
                            Some("module") => path_text(&inst.module.dir),
                            Some("root" | "cwd") => path_text(&inst.root_dir),
                            _ => return Value::error(span),
                        };
                        let dir = if dir.is_empty() { ".".to_string() } else { dir };
                        return self.apply(&Value::str(dir, span), &ops[1..], scope, span);
                    }
                    "module" => {
                        let Some(name) = attr(0) else {
                            return Value::error(span);
                        };
                        let Some(call) = inst.module.calls.iter().find(|c| c.name == name) else {
                            return Value::error(span);
                        };
                        let children = self.children(inst, call);
                        let mut rest = &ops[1..];
                        let child = match (children.as_slice(), rest.first()) {
                            ([only], Some(Op::Index(_)))
                                if call.body.attr("count").is_some()
                                    || call.body.attr("for_each").is_some() =>
                            {
                                rest = &rest[1..];
                                only.clone()
                            }
                            ([only], _) => only.clone(),
                            _ => return Value::unknown(span),
                        };
                        if child.maybe {
                            return Value::unknown(span);
                        }
                        let Some(Op::Attr(out)) = rest.first() else {
                            return Value::unknown(span);
                        };
                        let v = self.output(&child, out, span);
                        return self.apply(&v, &rest[1..], scope, span);
                    }
                    "data" | "terraform" | "self" | "count" | "each" => {
                        return Value::unknown(span)
                    }
                    _ => {
                        let resource = attr(0).map(|n| format!("{root}.{n}"));
                        let path = resource.as_ref().and_then(|_| {
                            let mut path = Vec::new();
                            for op in ops.iter().skip(1) {
                                match op {
                                    Op::Attr(a) => path.push(a.clone()),
                                    Op::Index(x) => {
                                        path.push(self.eval(x, scope).to_template_string()?)
                                    }
                                    Op::Splat => return None,
                                }
                            }
                            Some(path)
                        });
                        return Value::new(
                            Kind::Unknown(Unknown {
                                resource,
                                path,
                                ..Unknown::default()
                            }),
                            span,
                        );
                    }
                }
            }
        }
        // A `for` variable or iterator is read where it is, not copied whole.
        if let ExprKind::Var(name) = &base.kind {
            if let Some(v) = scope.lookup(name) {
                return self.apply(v, ops, scope, span);
            }
        }
        let v = self.eval(base, scope);
        self.apply(&v, ops, scope, span)
    }

    /// Follow attributes, indices and splats from `v`; only what they
    /// select is copied.
    fn apply(&self, v: &Value, ops: &[Op], scope: &Scope, span: Span) -> Value {
        let mut v = v;
        for (i, op) in ops.iter().enumerate() {
            if v.is_unknown() {
                return v.clone();
            }
            v = match op {
                Op::Splat => {
                    let rest = &ops[i + 1..];
                    let s = v.span;
                    return match &v.kind {
                        Kind::List(items) => Value::new(
                            Kind::List(
                                items
                                    .iter()
                                    .map(|x| self.apply(x, rest, scope, span))
                                    .collect(),
                            ),
                            s,
                        ),
                        Kind::Null => Value::new(Kind::List(Vec::new()), span),
                        _ => Value::new(Kind::List(vec![self.apply(v, rest, scope, span)]), s),
                    };
                }
                Op::Attr(name) => match self.entry_of(v, name, span) {
                    Some(x) => x,
                    None => return Value::error(span),
                },
                Op::Index(x) => {
                    let idx = self.eval(x, scope);
                    if idx.is_unknown() {
                        return Value::unknown(span);
                    }
                    let found = match &v.kind {
                        Kind::List(items) => idx
                            .as_number()
                            .filter(|n| *n >= 0.0)
                            .and_then(|n| items.get(n as usize)),
                        Kind::Object(_) => idx
                            .to_template_string()
                            .and_then(|k| self.entry_of(v, &k, span)),
                        _ => None,
                    };
                    match found {
                        Some(x) => x,
                        None => return Value::error(span),
                    }
                }
            };
        }
        v.clone()
    }

    /// An object's attribute; searching a large object is charged as the
    /// work it is (a `for` over a large map looking each key up in it).
    fn entry_of<'v>(&self, v: &'v Value, key: &str, span: Span) -> Option<&'v Value> {
        let scanned = v.entries().len() / 64;
        if scanned > 0 && !self.budget.charge(scanned, 0, span) {
            return None;
        }
        v.get(key)
    }

    // -- functions --------------------------------------------------------

    fn call(&self, name: &str, args: Vec<Value>, span: Span, scope: &Scope) -> Value {
        let name = name.strip_prefix("provider::terraform::").unwrap_or(name);
        match name {
            "file" | "templatefile" | "fileexists" => self.file_call(name, args, span, scope),
            "yamlencode" | "jsonencode"
                if matches!(
                    args.first().map(|a| &a.kind),
                    Some(Kind::Object(_) | Kind::List(_))
                ) =>
            {
                let value = args[0].clone();
                // Terraform cannot encode what it does not know yet.
                if value.has_unknown() {
                    let id = self.record(Origin::Encoded {
                        span,
                        text: None,
                        value,
                    });
                    return Value::new(
                        Kind::Unknown(Unknown {
                            origin: id,
                            ..Unknown::default()
                        }),
                        span,
                    );
                }
                let v = super::funcs::call(name, args, span);
                if let Some(t) = v.as_str() {
                    self.record(Origin::Encoded {
                        span,
                        text: Some(t.to_string()),
                        value,
                    });
                }
                v
            }
            "yamldecode" | "jsondecode" => self.decode(args, span),
            _ => super::funcs::call(name, args, span),
        }
    }

    /// `yamldecode`/`jsondecode`: the document with the spans of the file,
    /// template or heredoc that holds it (scalars stay text).
    fn decode(&self, args: Vec<Value>, span: Span) -> Value {
        let Some(arg) = args.into_iter().next() else {
            return Value::error(span);
        };
        if arg.is_error() {
            return arg;
        }
        if !matches!(arg.kind, Kind::Str(_) | Kind::Unknown(_)) {
            return Value::error(span);
        }
        let doc = {
            let origins = self.origins.borrow();
            super::origin::document(self.ws, &origins, &arg)
        };
        match doc {
            super::origin::Doc::Known(v) => super::origin::to_tf(&v),
            super::origin::Doc::Unknown => Value::unknown(span),
            super::origin::Doc::Invalid(_) => Value::error(span),
        }
    }

    fn file_call(&self, name: &str, args: Vec<Value>, span: Span, scope: &Scope) -> Value {
        let Some(path) = args.first().and_then(|a| a.as_str()) else {
            return Value::unknown(span);
        };
        // Relative to Terraform's working folder: the root module's.
        let path = normalize(&scope.inst.root_dir.join(path));
        if name == "fileexists" {
            return Value::new(Kind::Bool(path.is_file()), span);
        }
        if !path.is_file() {
            return Value::unknown(span);
        }
        if !self.ws.inside_roots(&path) {
            self.note(crate::deploy::outside_note(
                self.ws,
                span,
                &format!("`{name}` of `{}`", display_path(&path)),
                "its text is unknown",
            ));
            return Value::unknown(span);
        }
        let source = match self.read(&path) {
            Ok(s) => s,
            Err(_) => return Value::unknown(span),
        };
        let text = self.text(source);
        if name == "file" {
            self.record(Origin::File { span, source });
            return Value::str(text, span);
        }
        let Some(vars) = args.get(1) else {
            return Value::unknown(span);
        };
        let Kind::Object(entries) = &vars.kind else {
            return Value::unknown(span);
        };
        let parts = match hcl::parse_template_text(source, &text) {
            Ok(p) => p,
            Err(_) => return Value::unknown(span),
        };
        let mut inner = Scope::new(scope.inst);
        inner.template = true;
        for e in entries {
            inner
                .vars
                .push((e.key.as_str().into(), Rc::new(e.value.clone())));
        }
        let mut out = String::new();
        let mut pieces = Vec::new();
        match self.render(&parts, &inner, &mut out, &mut pieces, false) {
            Ok(()) => {
                self.record(Origin::Rendered(Rendered {
                    span,
                    text: out.clone(),
                    template: Some(source),
                    pieces,
                    partial: false,
                }));
                Value::str(out, span)
            }
            Err(v) if v.is_error() => v,
            Err(_) => self.partial(&parts, &inner, span, Some(source), Value::unknown(span)),
        }
    }
}

/// Arguments that are not part of the resource's own configuration.
const META: [&str; 6] = [
    "count",
    "for_each",
    "depends_on",
    "provider",
    "providers",
    "lifecycle",
];

/// A folder as text, unchanged (not as printed).
fn path_text(dir: &Path) -> String {
    dir.to_string_lossy().replace('\\', "/")
}

impl Instance {
    fn root(module: Rc<Module>, inputs: HashMap<String, Value>) -> Instance {
        Instance {
            root_dir: module.dir.clone(),
            module,
            address: String::new(),
            inputs,
            locals: RefCell::default(),
            busy: RefCell::default(),
            children: RefCell::default(),
            depth: 0,
            maybe: false,
        }
    }
}

/// A module source that is a local folder (`./x`, `../x`), resolved.
pub fn local_source(dir: &Path, source: &str) -> Option<PathBuf> {
    if !(source.starts_with("./") || source.starts_with("../")) {
        return None;
    }
    let p = dir.join(source);
    p.is_dir().then(|| normalize(&p))
}

fn add_body(m: &mut Module, body: Body) {
    for b in body.blocks {
        match (b.kind.as_str(), b.labels.as_slice()) {
            ("variable", [name]) => {
                let default = b.body.attr("default").map(|a| a.expr.clone());
                let flag = |k: &str, dflt: bool| {
                    b.body
                        .attr(k)
                        .map(|a| matches!(a.expr.kind, ExprKind::Bool(true)))
                        .unwrap_or(dflt)
                };
                m.variables.push(Variable {
                    name: name.clone(),
                    default,
                    span: b.span,
                    sensitive: flag("sensitive", false),
                    nullable: flag("nullable", true),
                });
            }
            ("locals", _) => m.locals.extend(b.body.attrs),
            ("resource", [t, n]) | ("data", [t, n]) => m.resources.push(ResourceDecl {
                mode: if b.kind == "data" {
                    Mode::Data
                } else {
                    Mode::Managed
                },
                rtype: t.clone(),
                name: n.clone(),
                body: b.body,
                span: b.span,
            }),
            ("module", [name]) => {
                let source = b.body.attr("source").and_then(|a| match &a.expr.kind {
                    ExprKind::Str(s) => Some(s.clone()),
                    _ => None,
                });
                m.calls.push(ModuleCall {
                    name: name.clone(),
                    source,
                    body: b.body,
                    span: b.span,
                });
            }
            ("output", [name]) => m.outputs.push((name.clone(), b.body, b.span)),
            ("provider", [_]) => m.providers.push(b),
            _ => {}
        }
    }
}

/// Does a template write more than one line (a document, not a name)?
fn multi_line(parts: &[Part]) -> bool {
    parts.iter().any(|p| match p {
        Part::Lit(s) => s.contains('\n'),
        Part::If {
            then, otherwise, ..
        } => multi_line(then) || multi_line(otherwise),
        Part::For { body, .. } => multi_line(body),
        Part::Interp(_) => false,
    })
}

/// A JSON value (tfvars.json, plan JSON) as a value with its spans.
pub fn from_json(node: &json::JsonNode) -> Value {
    use json::JsonKind as J;
    let kind = match &node.kind {
        J::Null => Kind::Null,
        J::Bool(b) => Kind::Bool(*b),
        J::Number(n) => Kind::Number(n.parse().unwrap_or(f64::NAN)),
        J::String(s) => Kind::Str(s.clone()),
        J::Array(items) => Kind::List(items.iter().map(from_json).collect()),
        J::Object(entries) => Kind::Object(
            entries
                .iter()
                .map(|(k, ks, v)| Entry {
                    key: k.clone(),
                    key_span: Span::new(ks.source, ks.start as usize, v.span.end as usize),
                    value: from_json(v),
                })
                .collect(),
        ),
    };
    Value::new(kind, node.span)
}

/// Sorted by key, as Terraform orders map and object attributes.
pub fn sorted(entries: &[Entry]) -> BTreeMap<&str, &Value> {
    entries.iter().map(|e| (e.key.as_str(), &e.value)).collect()
}

/// A placeholder written where a value or a block's content goes (`<YOUR_VALUE>`,
/// `<project id>`, `...`), on the line a parse error is at or the next
/// one: the file is a template for people, not a configuration.
fn placeholder_at(text: &str, offset: usize) -> Option<&str> {
    let start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    text[start..].lines().take(2).find_map(|line| {
        let value = line.split_once('=').map_or(line, |(_, v)| v).trim();
        if value == "..." || value == "\u{2026}" {
            return Some(value);
        }
        let inner = value.strip_prefix('<')?.strip_suffix('>')?;
        let word = |c: char| c.is_ascii_alphanumeric() || "_- .".contains(c);
        (inner.starts_with(|c: char| c.is_ascii_alphabetic()) && inner.chars().all(word))
            .then_some(value)
    })
}

#[cfg(test)]
mod tests {
    use super::placeholder_at;

    #[test]
    fn placeholders_where_a_value_goes() {
        let text = "resource \"a\" \"b\" {\n  ami = <YOUR_AMI_ID>\n}\n";
        let at = text.find("ami").unwrap();
        assert_eq!(placeholder_at(text, at), Some("<YOUR_AMI_ID>"));
        // The error on the line before the placeholder's.
        assert_eq!(placeholder_at(text, 0), Some("<YOUR_AMI_ID>"));
        // An elided body or value.
        assert_eq!(
            placeholder_at("resource \"a\" \"b\" {\n  ...\n}\n", 0),
            Some("...")
        );
        assert_eq!(placeholder_at("x = ...\n", 0), Some("..."));
        // A comparison, a heredoc marker, a broken expression: no placeholder.
        assert_eq!(placeholder_at("x = a < b\n", 0), None);
        assert_eq!(placeholder_at("x = <<EOT\n", 0), None);
        assert_eq!(placeholder_at("x = \"open\n", 0), None);
    }
}
