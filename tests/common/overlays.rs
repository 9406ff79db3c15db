//! A generator of overlay cases for the differential merge tests: files laid
//! over the shipped ClickHouse 18.16 `config.xml`/`users.xml` in `config.d/`,
//! `users.d/` and `conf.d/`, built from fragments that exercise the merge:
//! scalars set in several files, repeated elements, `replace` and `remove`
//! (on present and absent elements, with various values), identifying
//! attributes, text and mixed content, nested elements, `include_from` with
//! `incl` (found, missing, `optional`, `replace`, `<include>`), `from_env`
//! (set, unset, `optional`, with `replace`, with text, on merged elements),
//! file names that sort in surprising ways or are not read at all (`10-` vs
//! `9-`, uppercase, `.hidden`, `.bak`, `.yaml`, subfolders, symlinks), and
//! roots other than `<yandex>`. A few cases are meant to be refused (malformed
//! XML, `remove` with `replace`, two substitutions on one element).
//!
//! Everything is deterministic in the seed and the case number. Addresses are
//! always loopback, so cases are safe to run without a network namespace.
//! File contents may contain `@ETC@`, which stands for the run's `etc/` folder.

use std::fmt::Write as _;

/// SplitMix64: small, fast and good enough to pick test inputs.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    pub fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }

    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

// ---------------------------------------------------------------------------
// A small XML tree to build files with

#[derive(Clone, Debug)]
pub struct X {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub kids: Vec<K>,
}

#[derive(Clone, Debug)]
pub enum K {
    E(X),
    Text(String),
    Comment(String),
    CData(String),
}

impl X {
    pub fn new(name: &str) -> X {
        X {
            name: name.to_string(),
            attrs: Vec::new(),
            kids: Vec::new(),
        }
    }

    pub fn leaf(name: &str, text: &str) -> X {
        X::new(name).text(text)
    }

    pub fn attr(mut self, k: &str, v: &str) -> X {
        self.attrs.push((k.to_string(), v.to_string()));
        self
    }

    pub fn text(mut self, t: &str) -> X {
        self.kids.push(K::Text(t.to_string()));
        self
    }

    pub fn kid(mut self, x: X) -> X {
        self.kids.push(K::E(x));
        self
    }

    fn has_elements(&self) -> bool {
        self.kids.iter().any(|k| matches!(k, K::E(_)))
    }
}

fn escape(s: &str, attr: bool) -> String {
    let mut o = String::new();
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' if attr => o.push_str("&quot;"),
            c => o.push(c),
        }
    }
    o
}

/// How a file is laid out: indented or on one line.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub pretty: bool,
    pub declaration: bool,
}

pub fn serialize(root: &X, style: Style) -> String {
    let mut out = String::new();
    if style.declaration {
        out.push_str("<?xml version=\"1.0\"?>\n");
    }
    write_x(&mut out, root, 0, style);
    if style.pretty {
        out.push('\n');
    }
    out
}

fn write_x(out: &mut String, x: &X, depth: usize, style: Style) {
    let indent = |out: &mut String, d: usize| {
        if style.pretty {
            out.push('\n');
            out.push_str(&"    ".repeat(d));
        }
    };
    let _ = write!(out, "<{}", x.name);
    for (k, v) in &x.attrs {
        let _ = write!(out, " {k}=\"{}\"", escape(v, true));
    }
    if x.kids.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    let block = x.has_elements();
    for k in &x.kids {
        if block {
            indent(out, depth + 1);
        }
        match k {
            K::E(e) => {
                write_x(out, e, depth + 1, style);
                if e.attrs.iter().any(|(k, _)| k == "optional") {
                    // 18.16 skips the DOM node right after an element it
                    // removes as `optional`: when that node is an element,
                    // its substitutions are not done. chlint does not
                    // reproduce this quirk (its tree keeps no layout nodes),
                    // so a comment always follows such an element here.
                    out.push_str("<!-- after optional -->");
                }
            }
            K::Text(t) => out.push_str(&escape(t, false)),
            K::Comment(c) => {
                let _ = write!(out, "<!-- {c} -->");
            }
            K::CData(c) => {
                let _ = write!(out, "<![CDATA[{c}]]>");
            }
        }
    }
    if block {
        indent(out, depth);
    }
    let _ = write!(out, "</{}>", x.name);
}

// ---------------------------------------------------------------------------
// Cases

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tree {
    Config,
    Users,
}

/// One piece of an overlay: `node` placed under the ancestors `path` (below
/// the root) in a file merged into `tree`.
#[derive(Clone, Debug)]
pub struct Frag {
    pub tree: Tree,
    pub path: Vec<String>,
    pub node: X,
}

#[derive(Clone, Debug)]
pub enum Entry {
    File { path: String, content: Vec<u8> },
    Dir(String),
    Symlink { path: String, target: String },
}

#[derive(Clone, Debug)]
pub struct Case {
    pub name: String,
    pub entries: Vec<Entry>,
    /// The server's whole environment (and what chlint is given).
    pub env: Vec<(String, String)>,
    /// The features the case was built from, for reports.
    pub features: Vec<&'static str>,
}

impl Case {
    /// The case's files as text, for a mismatch report.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "case {} (features: {})\n",
            self.name,
            self.features.join(", ")
        );
        if !self.env.is_empty() {
            s.push_str("environment:\n");
            for (k, v) in &self.env {
                let _ = writeln!(s, "  {k}={v}");
            }
        }
        for e in &self.entries {
            match e {
                Entry::File { path, content } => {
                    let _ = writeln!(
                        s,
                        "--- etc/{path}\n{}",
                        String::from_utf8_lossy(content).trim_end()
                    );
                }
                Entry::Dir(p) => {
                    let _ = writeln!(s, "--- etc/{p}/ (a folder)");
                }
                Entry::Symlink { path, target } => {
                    let _ = writeln!(s, "--- etc/{path} -> {target}");
                }
            }
        }
        s
    }
}

/// Names merge files get: read by both servers, in an order that surprises.
const NAMES: &[&str] = &[
    "10-net.xml",
    "9-net.xml",
    "09-net.xml",
    "1.xml",
    "100.xml",
    "A.xml",
    "a.xml",
    "B-upper.xml",
    "b-lower.xml",
    "Z-last.xml",
    "_under.xml",
    "-dash.xml",
    "a.b.xml",
    "my file.xml",
    "\u{e9}t\u{e9}.xml",
    "zz.xml",
    "z.conf",
    "override.xml",
    "x.Xml",
    "Y.XML",
    "c.CONF",
    ".xml",
];

/// Names of files a server does not read (or reads only in some versions).
const DECOY_NAMES: &[&str] = &[
    ".hidden.xml",
    ".swp.xml",
    "old.xml.bak",
    "x.xml~",
    "t.xml.orig",
    "w.yaml",
    "v.yml",
    "notes.txt",
    "noext",
    "q.XML",
];

const NUMS: &[&str] = &["1", "7", "42", "100", "3600", "4096", "123456"];
const WORDS: &[&str] = &[
    "alpha",
    "beta gamma",
    "a&b",
    "x<y>z",
    "quote\"d",
    "\u{fc}n\u{ef}code",
    "  padded  ",
    "multi\nline",
];
const LOOPBACK: &[&str] = &["127.0.0.1", "::1", "127.0.0.2", "127.0.0.3"];
const NET_IPS: &[&str] = &[
    "::1",
    "127.0.0.1",
    "10.0.0.0/8",
    "::/0",
    "192.168.1.1",
    "fd00::/8",
];
const REMOVE_VALUES: &[&str] = &["remove", "1", "true", "0", ""];
const REPLACE_VALUES: &[&str] = &["replace", "1", "true", ""];
const SHA256_OF_SECRET: &str = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";

fn p(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

struct Gen<'a> {
    rng: &'a mut Rng,
    frags: Vec<Frag>,
    env: Vec<(String, String)>,
    extra: Vec<Entry>,
    features: Vec<&'static str>,
    vars: usize,
    /// `false` once a case is meant to be refused (kept to one reason).
    refusal: bool,
}

impl Gen<'_> {
    fn frag(&mut self, tree: Tree, path: &[&str], node: X) {
        self.frags.push(Frag {
            tree,
            path: p(path),
            node,
        });
    }

    fn var(&mut self) -> String {
        self.vars += 1;
        format!("CHLINT_GEN_{}", self.vars)
    }

    fn num(&mut self) -> &'static str {
        self.rng.pick(NUMS)
    }

    fn word(&mut self) -> &'static str {
        self.rng.pick(WORDS)
    }

    fn remove_attr(&mut self) -> &'static str {
        self.rng.pick(REMOVE_VALUES)
    }

    fn replace_attr(&mut self) -> &'static str {
        self.rng.pick(REPLACE_VALUES)
    }

    /// A random subtree of custom elements, sometimes with repeats.
    fn custom_subtree(&mut self, name: &str, depth: usize) -> X {
        let mut x = X::new(name);
        if self.rng.percent(20) {
            x = x.attr("id", self.rng.pick(&["a", "b"]));
        }
        if depth == 0 || self.rng.percent(35) {
            return x.text(self.word());
        }
        for _ in 0..self.rng.range(1, 3) {
            let child = self.rng.pick(&["item", "k", "v"]);
            let c = self.custom_subtree(child, depth - 1);
            x = x.kid(c);
        }
        x
    }

    fn networks(&mut self) -> X {
        let mut n = X::new("networks");
        for _ in 0..self.rng.range(1, 3) {
            n = match self.rng.below(6) {
                0 => n.kid(X::leaf(
                    "host",
                    self.rng.pick(&["localhost", "example.com"]),
                )),
                1 => n.kid(X::leaf("host_regexp", "^example\\d+\\.com$")),
                _ => n.kid(X::leaf("ip", self.rng.pick(NET_IPS))),
            };
        }
        n
    }

    fn user(&mut self) -> X {
        let mut u = X::new("x");
        u = match self.rng.below(4) {
            0 => u.kid(X::leaf("password_sha256_hex", SHA256_OF_SECRET)),
            1 => u.kid(X::new("password")),
            _ => u.kid(X::leaf("password", self.rng.pick(&["s3cret", "pw&1"]))),
        };
        if self.rng.percent(80) {
            let n = self.networks();
            u = u.kid(n);
        }
        u.kid(X::leaf("profile", self.rng.pick(&["default", "readonly"])))
            .kid(X::leaf("quota", "default"))
    }
}

type Feature = fn(&mut Gen);

/// Set a value the shipped files have (or a new one).
fn f_scalar(g: &mut Gen) {
    g.features.push("scalar");
    let tree = if g.rng.percent(60) {
        Tree::Config
    } else {
        Tree::Users
    };
    let (path, value): (&[&str], String) = match tree {
        Tree::Config => match g.rng.below(16) {
            0 => (&["max_connections"], g.num().into()),
            1 => (&["keep_alive_timeout"], g.num().into()),
            2 => (&["max_concurrent_queries"], g.num().into()),
            3 => (&["builtin_dictionaries_reload_interval"], g.num().into()),
            4 => (&["max_session_timeout"], g.num().into()),
            5 => (
                &["openSSL", "server", "verificationMode"],
                g.rng.pick(&["none", "relaxed", "strict"]).into(),
            ),
            6 => (
                &["openSSL", "client", "invalidCertificateHandler", "name"],
                "AcceptCertificateHandler".into(),
            ),
            7 => (
                &["query_log", "flush_interval_milliseconds"],
                g.num().into(),
            ),
            8 => (&["query_log", "table"], g.word().into()),
            9 => (&["distributed_ddl", "path"], "/clickhouse/ddl2".into()),
            10 => (
                &["graphite_rollup_example", "pattern", "regexp"],
                g.word().into(),
            ),
            11 => (
                &["graphite_rollup_example", "default", "retention", "age"],
                g.num().into(),
            ),
            12 => (
                &[
                    "remote_servers",
                    "test_cluster_two_shards_localhost",
                    "shard",
                    "replica",
                    "port",
                ],
                g.rng.pick(&["9000", "9001"]).into(),
            ),
            13 => (&["chlint_custom"], g.word().into()),
            14 => (&["chlint_group", "a"], g.word().into()),
            _ => (&["dictionaries_config"], "*_dict.xml".into()),
        },
        Tree::Users => match g.rng.below(9) {
            0 => (
                &["users", "default", "profile"],
                g.rng.pick(&["default", "readonly"]).into(),
            ),
            1 => (&["profiles", "default", "max_memory_usage"], g.num().into()),
            2 => (
                &["profiles", "default", "load_balancing"],
                g.rng.pick(&["random", "in_order"]).into(),
            ),
            3 => (
                &["profiles", "readonly", "readonly"],
                g.rng.pick(&["1", "2"]).into(),
            ),
            4 => (
                &["quotas", "default", "interval", "duration"],
                g.num().into(),
            ),
            5 => (
                &["quotas", "default", "interval", "queries"],
                g.num().into(),
            ),
            6 => (
                &["users", "default", "password"],
                g.rng.pick(&["s3cret", "a&b"]).into(),
            ),
            7 => (&["users", "readonly", "password"], "ro-pw".into()),
            _ => (
                &["users", "default", "networks", "ip"],
                g.rng.pick(NET_IPS).into(),
            ),
        },
    };
    let (leaf, parents) = path.split_last().expect("non-empty path");
    let mut node = X::leaf(leaf, &value);
    if g.rng.percent(15) {
        node = X::new(leaf).kid(X::new("chlint_nested").text(&value));
    } else if g.rng.percent(10) {
        node = X::new(leaf);
        node.kids.push(K::CData(value));
    }
    g.frag(tree, parents, node);
}

/// The same leaf set in several files: the last file in merge order wins.
fn f_scalar_war(g: &mut Gen) {
    g.features.push("scalar-in-several-files");
    let (tree, path): (Tree, &[&str]) = match g.rng.below(3) {
        0 => (Tree::Config, &["max_connections"]),
        1 => (Tree::Config, &["openSSL", "server", "cacheSessions"]),
        _ => (Tree::Users, &["users", "default", "profile"]),
    };
    let (leaf, parents) = path.split_last().expect("non-empty path");
    for v in ["11", "22", "33"].iter().take(g.rng.range(2, 3)) {
        g.frag(tree, parents, X::leaf(leaf, v));
    }
}

fn f_remove(g: &mut Gen) {
    g.features.push("remove");
    let (tree, path): (Tree, &[&str]) = match g.rng.below(20) {
        0 => (Tree::Config, &["query_log"]),
        1 => (Tree::Config, &["graphite_rollup_example"]),
        2 => (
            Tree::Config,
            &["graphite_rollup_example", "default", "retention"],
        ),
        3 => (Tree::Config, &["graphite_rollup_example", "pattern"]),
        4 => (Tree::Config, &["openSSL", "server", "dhParamsFile"]),
        5 => (
            Tree::Config,
            &["openSSL", "client", "invalidCertificateHandler"],
        ),
        6 => (
            Tree::Config,
            &["remote_servers", "test_shard_localhost_secure"],
        ),
        7 => (Tree::Config, &["remote_servers"]),
        8 => (Tree::Config, &["does_not_exist"]),
        9 => (Tree::Config, &["openSSL", "server", "nope"]),
        10 => (Tree::Config, &["macros"]),
        11 => (Tree::Config, &["zookeeper"]),
        12 => (Tree::Users, &["users", "readonly"]),
        13 => (Tree::Users, &["users", "default", "password"]),
        14 => (Tree::Users, &["users", "default", "networks"]),
        15 => (Tree::Users, &["users", "readonly", "networks", "ip"]),
        16 => (Tree::Users, &["profiles", "readonly"]),
        17 => (Tree::Users, &["quotas", "default", "interval"]),
        18 => (Tree::Users, &["users", "nobody"]),
        _ => (Tree::Config, &["max_session_timeout"]),
    };
    let (leaf, parents) = path.split_last().expect("non-empty path");
    let v = g.remove_attr();
    let mut node = X::new(leaf).attr("remove", v);
    if g.rng.percent(20) {
        // Content under a removing element does not matter.
        node = node.kid(X::leaf("ignored", "x"));
    }
    g.frag(tree, parents, node);
}

fn f_replace(g: &mut Gen) {
    g.features.push("replace");
    let (tree, path): (Tree, &[&str]) = match g.rng.below(12) {
        0 => (Tree::Config, &["openSSL", "server"]),
        1 => (Tree::Config, &["query_log"]),
        2 => (Tree::Config, &["graphite_rollup_example", "default"]),
        3 => (Tree::Config, &["remote_servers"]),
        4 => (Tree::Config, &["distributed_ddl"]),
        5 => (Tree::Config, &["macros"]),
        6 => (Tree::Config, &["chlint_absent"]),
        7 => (Tree::Users, &["users", "default", "networks"]),
        8 => (Tree::Users, &["users", "readonly", "networks"]),
        9 => (Tree::Users, &["profiles", "default"]),
        10 => (Tree::Users, &["quotas", "default"]),
        _ => (Tree::Users, &["users", "readonly"]),
    };
    let (leaf, parents) = path.split_last().expect("non-empty path");
    let v = g.replace_attr();
    let mut node = match *leaf {
        "networks" => g.networks(),
        "readonly" => g.user(),
        _ => g.custom_subtree(leaf, 2),
    };
    node.name = leaf.to_string();
    node = node.attr("replace", v);
    if g.rng.percent(25) {
        // Nested merge attributes inside a replacing element.
        let inner = if g.rng.percent(50) {
            X::new("chlint_gone").attr("remove", "1")
        } else {
            X::leaf("chlint_inner", "i").attr("replace", "1")
        };
        node = node.kid(inner);
    }
    g.frag(tree, parents, node);
}

/// New children inside existing elements, and new elements whose nested
/// children carry merge attributes.
fn f_add(g: &mut Gen) {
    g.features.push("add-nested");
    match g.rng.below(7) {
        0 => g.frag(
            Tree::Config,
            &["distributed_ddl"],
            X::leaf("profile", "default"),
        ),
        1 => g.frag(
            Tree::Config,
            &["openSSL", "server"],
            X::leaf("cipherList", "ECDHE-RSA-AES256-GCM-SHA384"),
        ),
        2 => {
            let x = g.custom_subtree("chlint_tree", 3);
            g.frag(Tree::Config, &[], x);
        }
        3 => {
            let x = X::new("chlint_new")
                .kid(X::leaf("a", "1").attr("replace", "replace"))
                .kid(X::leaf("b", "2").attr("remove", "1"))
                .kid(X::leaf("c", "3"));
            g.frag(Tree::Config, &[], x);
        }
        4 => g.frag(
            Tree::Config,
            &["graphite_rollup_example"],
            X::new("pattern")
                .kid(X::leaf("regexp", "second"))
                .kid(X::leaf("function", "sum")),
        ),
        5 => {
            let threads = g.rng.pick(&["4", "8"]);
            g.frag(
                Tree::Users,
                &["profiles", "default"],
                X::leaf("max_threads", threads),
            )
        }
        _ => g.frag(
            Tree::Users,
            &["quotas", "default"],
            X::new("interval")
                .kid(X::leaf("duration", "60"))
                .kid(X::leaf("queries", "10")),
        ),
    }
}

/// Repeated elements, spread over files: they pair up one to one.
fn f_repeated(g: &mut Gen) {
    g.features.push("repeated");
    let n = g.rng.range(2, 5);
    match g.rng.below(4) {
        0 | 1 => {
            for _ in 0..n {
                let node = if g.rng.percent(20) {
                    X::new("listen_host").attr("remove", "1")
                } else {
                    X::leaf("listen_host", g.rng.pick(LOOPBACK))
                };
                g.frag(Tree::Config, &[], node);
            }
        }
        2 => {
            for _ in 0..n {
                let mut node = X::leaf("chlint_rep", g.word());
                if g.rng.percent(40) {
                    node = node.attr("id", g.rng.pick(&["1", "2"]));
                }
                if g.rng.percent(15) {
                    node = node.attr("remove", "1");
                } else if g.rng.percent(15) {
                    node = node.attr("replace", "1");
                }
                g.frag(Tree::Config, &[], node);
            }
        }
        _ => {
            for _ in 0..n {
                let node = X::leaf("ip", g.rng.pick(NET_IPS));
                let user = g.rng.pick(&["default", "readonly"]);
                g.frag(Tree::Users, &["users", user, "networks"], node);
            }
        }
    }
}

/// Attributes that are part of an element's identity (and control
/// attributes that are not).
fn f_identity(g: &mut Gen) {
    g.features.push("identifying-attributes");
    match g.rng.below(5) {
        0 => g.frag(
            Tree::Config,
            &[],
            X::new("query_log")
                .attr("foo", "bar")
                .kid(X::leaf("table", "other")),
        ),
        1 => g.frag(
            Tree::Config,
            &[],
            X::new("remote_servers").attr("incl", "something_else").kid(
                X::new("chlint_cluster").kid(
                    X::new("shard").kid(
                        X::new("replica")
                            .kid(X::leaf("host", "h1"))
                            .kid(X::leaf("port", "9000")),
                    ),
                ),
            ),
        ),
        2 => g.frag(
            Tree::Users,
            &["users", "default"],
            X::leaf("password", "enc").attr("encrypted_by", "AES_128_GCM_SIV"),
        ),
        3 => {
            // Same name, attribute order differs.
            g.frag(
                Tree::Config,
                &[],
                X::leaf("chlint_attr", "one").attr("a", "1").attr("b", "2"),
            );
            g.frag(
                Tree::Config,
                &[],
                X::leaf("chlint_attr", "two").attr("b", "2").attr("a", "1"),
            );
        }
        _ => g.frag(
            Tree::Config,
            &["openSSL"],
            X::new("server")
                .attr("optional", "true")
                .kid(X::leaf("verificationMode", "strict")),
        ),
    }
}

/// Text where elements were, elements where text was, mixed content.
fn f_mixed(g: &mut Gen) {
    g.features.push("text-and-mixed");
    match g.rng.below(4) {
        0 => g.frag(Tree::Config, &[], X::leaf("distributed_ddl", "flat")),
        1 => g.frag(
            Tree::Config,
            &[],
            X::new("chlint_mixed")
                .text("before")
                .kid(X::leaf("b", "1"))
                .text("after"),
        ),
        2 => g.frag(
            Tree::Config,
            &["graphite_rollup_example", "pattern"],
            X::new("regexp").kid(X::leaf("nested", "n")),
        ),
        _ => g.frag(Tree::Users, &["users", "default"], X::leaf("networks", "")),
    }
}

fn f_users(g: &mut Gen) {
    g.features.push("users");
    match g.rng.below(8) {
        0 => {
            g.frag(
                Tree::Users,
                &["users", "default"],
                X::new("password").attr("remove", "1"),
            );
            g.frag(
                Tree::Users,
                &["users", "default"],
                X::leaf("password_sha256_hex", SHA256_OF_SECRET),
            );
        }
        1 => g.frag(
            Tree::Users,
            &["users", "default"],
            X::leaf("password_sha256_hex", SHA256_OF_SECRET),
        ),
        2 | 3 => {
            let mut u = g.user();
            u.name = g.rng.pick(&["alice", "bob"]).to_string();
            g.frag(Tree::Users, &["users"], u);
        }
        4 => {
            // Two siblings of the same name in one file.
            let mut a = g.user();
            a.name = "readonly".into();
            let mut users = X::new("users").kid(a.clone());
            a.kids.truncate(1);
            users = users.kid(a);
            g.frag(Tree::Users, &[], users);
        }
        5 => g.frag(
            Tree::Users,
            &["users"],
            X::new("default").attr("remove", "remove"),
        ),
        6 => {
            let n = g.networks();
            g.frag(Tree::Users, &["users", "readonly"], n);
        }
        _ => g.frag(
            Tree::Users,
            &["profiles"],
            X::new("web").kid(X::leaf("max_memory_usage", "1000")),
        ),
    }
}

fn f_from_env(g: &mut Gen) {
    g.features.push("from_env");
    let var = g.var();
    let set = g.rng.percent(80);
    let value = match g.rng.below(6) {
        0 => "<ip>10.1.0.0/16</ip><ip>::1</ip>".to_string(),
        1 => "a &amp; b".to_string(),
        _ => g.num().to_string(),
    };
    if set {
        g.env.push((var.clone(), value));
    }
    let optional = !set && g.rng.percent(50);
    let mark = |x: X| {
        let x = x.attr("from_env", &var);
        if optional {
            x.attr("optional", "true")
        } else {
            x
        }
    };
    match g.rng.below(9) {
        0 => g.frag(Tree::Config, &[], mark(X::new("chlint_env"))),
        // On an element that exists: 18.16 does not copy the attribute.
        1 => g.frag(Tree::Config, &[], mark(X::new("max_session_timeout"))),
        2 => g.frag(
            Tree::Config,
            &[],
            mark(X::new("max_session_timeout")).attr("replace", "1"),
        ),
        3 => g.frag(
            Tree::Config,
            &[],
            mark(X::new("chlint_env_default")).text("dflt"),
        ),
        4 => g.frag(
            Tree::Config,
            &[],
            mark(X::new("chlint_env_default"))
                .attr("replace", "1")
                .text("dflt"),
        ),
        5 => g.frag(Tree::Users, &["users", "default"], mark(X::new("password"))),
        6 => g.frag(
            Tree::Users,
            &["users", "default"],
            mark(X::new("password")).attr("replace", "replace"),
        ),
        7 => g.frag(
            Tree::Users,
            &["users", "default", "networks"],
            mark(X::new("ip")),
        ),
        _ => g.frag(
            Tree::Config,
            &[],
            mark(X::new("chlint_env_parent")).kid(X::leaf("kept", "k")),
        ),
    }
}

/// An include file, `include_from` somewhere, and elements that use it.
fn f_incl(g: &mut Gen) {
    g.features.push("incl");
    let path = g.rng.pick(&["chlint-include.xml", "inc/metrika.xml"]);
    let root = if g.rng.percent(80) {
        "yandex"
    } else {
        "clickhouse"
    };
    let include = X::new(root)
        .kid(
            X::new("networks")
                .kid(X::leaf("ip", "127.0.0.1/32"))
                .kid(X::leaf("ip", "10.5.0.0/16")),
        )
        .kid(
            X::new("macros")
                .kid(X::leaf("shard", "01"))
                .kid(X::leaf("replica", "r1")),
        )
        .kid(
            X::new("clickhouse_remote_servers").kid(
                X::new("inc_cluster").kid(
                    X::new("shard").kid(
                        X::new("replica")
                            .kid(X::leaf("host", "inc-host"))
                            .kid(X::leaf("port", "9000")),
                    ),
                ),
            ),
        )
        .kid(X::leaf("chlint_inc_a", "included-a"))
        .kid(X::leaf("chlint_inc_b", "included-b").attr("from_inc", "yes"))
        .kid(X::new("chlint_inc_grp").kid(X::new("sub").kid(X::leaf("deep", "d"))))
        // Included content that substitutes again.
        .kid(
            X::new("chlint_inc_nested")
                .kid(X::new("again").attr("incl", "chlint_inc_a"))
                .kid(X::new("env").attr("from_env", "CHLINT_GEN_INC")),
        );
    if g.rng.percent(50) {
        g.env
            .push(("CHLINT_GEN_INC".into(), "from-env-in-include".into()));
    }
    let style = Style {
        pretty: g.rng.percent(70),
        declaration: g.rng.percent(30),
    };
    g.extra.push(Entry::File {
        path: path.to_string(),
        content: serialize(&include, style).into_bytes(),
    });
    let from = X::leaf("include_from", &format!("@ETC@/{path}"));
    match g.rng.below(3) {
        0 => g.frag(Tree::Config, &[], from),
        1 => g.frag(Tree::Users, &[], from),
        _ => {
            g.frag(Tree::Config, &[], from.clone());
            g.frag(Tree::Users, &[], from);
        }
    }
    for _ in 0..g.rng.range(1, 3) {
        match g.rng.below(9) {
            8 => g.frag(
                Tree::Config,
                &[],
                X::new("chlint_i7").attr("incl", "chlint_inc_nested"),
            ),
            0 => g.frag(
                Tree::Config,
                &[],
                X::new("chlint_i").attr("incl", "chlint_inc_a"),
            ),
            1 => g.frag(
                Tree::Config,
                &[],
                X::new("chlint_i2")
                    .attr("incl", "chlint_inc_b")
                    .kid(X::leaf("old", "o")),
            ),
            2 => g.frag(
                Tree::Config,
                &[],
                X::new("chlint_i3")
                    .attr("incl", "chlint_inc_b")
                    .attr("replace", "1")
                    .kid(X::leaf("old", "o")),
            ),
            3 => g.frag(
                Tree::Config,
                &[],
                X::new("chlint_i4")
                    .attr("incl", "missing_name")
                    .attr("optional", "true"),
            ),
            4 => g.frag(
                Tree::Config,
                &[],
                X::new("chlint_i5").attr("incl", "missing_name"),
            ),
            5 => g.frag(
                Tree::Config,
                &[],
                X::new("include").attr("incl", "chlint_inc_grp"),
            ),
            6 => g.frag(
                Tree::Config,
                &[],
                X::new("chlint_i6").attr("incl", "chlint_inc_grp/sub"),
            ),
            _ => g.frag(
                Tree::Users,
                &["users", "alice"],
                X::new("networks").attr("incl", "networks"),
            ),
        }
    }
}

/// Files a server must not read (or reads only in some versions), a
/// subfolder, a folder named like a file, symlinks.
fn f_decoys(g: &mut Gen) {
    g.features.push("decoys");
    let dir = g.rng.pick(&["config.d", "users.d", "conf.d"]);
    let name = g.rng.pick(DECOY_NAMES);
    let content = if name.ends_with(".yaml") || name.ends_with(".yml") {
        "max_connections: 1\nchlint_decoy: yaml\n".to_string()
    } else {
        format!(
            "<yandex><chlint_decoy>{}</chlint_decoy><max_connections>1</max_connections>\
             <users><decoy><password>d</password></decoy></users></yandex>\n",
            escape(name, false)
        )
    };
    g.extra.push(Entry::File {
        path: format!("{dir}/{name}"),
        content: content.into_bytes(),
    });
    match g.rng.below(4) {
        0 => g.extra.push(Entry::File {
            path: format!("{dir}/sub/nested.xml"),
            content: b"<yandex><chlint_decoy>nested</chlint_decoy></yandex>\n".to_vec(),
        }),
        1 => g.extra.push(Entry::Dir(format!("{dir}/folder.xml"))),
        2 => {
            g.extra.push(Entry::File {
                path: "elsewhere/linked.xml".into(),
                content: b"<yandex><chlint_linked>yes</chlint_linked></yandex>\n".to_vec(),
            });
            g.extra.push(Entry::Symlink {
                path: format!("{dir}/linked.xml"),
                target: "../elsewhere/linked.xml".into(),
            });
        }
        _ => g.extra.push(Entry::Symlink {
            path: format!("{dir}/dangling.xml"),
            target: "../nowhere.xml".into(),
        }),
    }
}

/// Scalars of the shipped `config.xml` a wide overlay sets, replaces or
/// removes (none the server needs to get as far as preprocessing).
const WIDE_SCALARS: &[&str] = &[
    "max_connections",
    "keep_alive_timeout",
    "max_concurrent_queries",
    "builtin_dictionaries_reload_interval",
    "max_session_timeout",
    "default_session_timeout",
    "mark_cache_size",
    "uncompressed_cache_size",
];
/// Sections of the shipped `config.xml` a wide overlay merges into, replaces
/// or removes.
const WIDE_SECTIONS: &[&str] = &[
    "query_log",
    "graphite_rollup_example",
    "distributed_ddl",
    "compression",
];

/// One file of realistic width (13 to 100 children under one element, 9 to
/// 40 distinct names, repeated names and identities, `remove` and `replace`
/// at any position): real `config.d` and `users.d` files are this size, and
/// a merge that only handles a few names gets them wrong.
fn f_wide(g: &mut Gen) {
    g.features.push("wide");
    let (dir, root) = if g.rng.percent(50) {
        ("config.d", wide_config(g))
    } else {
        ("users.d", X::new("yandex").kid(wide_users(g)))
    };
    let name = g.rng.pick(&["wide.xml", "50-wide.xml", "Wide.xml"]);
    let style = Style {
        pretty: g.rng.percent(50),
        declaration: false,
    };
    g.extra.push(Entry::File {
        path: format!("{dir}/{name}"),
        content: serialize(&root, style).into_bytes(),
    });
}

/// `n` names drawn without repeats from `pool` (fewer if it is smaller).
fn distinct_names(rng: &mut Rng, pool: &[String], n: usize) -> Vec<String> {
    let mut pool = pool.to_vec();
    let mut out = Vec::new();
    while out.len() < n && !pool.is_empty() {
        out.push(pool.swap_remove(rng.below(pool.len())));
    }
    out
}

fn wide_config(g: &mut Gen) -> X {
    let pool: Vec<String> = WIDE_SCALARS
        .iter()
        .chain(WIDE_SECTIONS)
        .map(|s| s.to_string())
        .chain((0..30).map(|i| format!("chlint_w{i}")))
        .collect();
    let k = g.rng.range(9, 40);
    let names = distinct_names(g.rng, &pool, k);
    let mut root = X::new("yandex");
    for _ in 0..g.rng.range(13, 100) {
        let name = names[g.rng.below(names.len())].as_str();
        let section = WIDE_SECTIONS.contains(&name);
        let mut x = match g.rng.below(10) {
            0 => X::new(name).attr("remove", g.remove_attr()),
            1 if section => X::new(name)
                .attr("replace", g.replace_attr())
                .kid(X::leaf("chlint_r", g.word())),
            1 => X::leaf(name, g.num()).attr("replace", g.replace_attr()),
            _ if section => X::new(name).kid(X::leaf("chlint_m", g.num())),
            _ => X::leaf(name, g.num()),
        };
        if name.starts_with("chlint_w") && g.rng.percent(30) {
            x = x.attr("id", g.rng.pick(&["a", "b"]));
        }
        root = root.kid(x);
    }
    root
}

/// `<users>` with many application users and, anywhere among them, changes
/// to the shipped `default` and `readonly` users.
fn wide_users(g: &mut Gen) -> X {
    let pool: Vec<String> = (0..38).map(|i| format!("app{i}")).collect();
    let k = g.rng.range(7, 38);
    let names = distinct_names(g.rng, &pool, k);
    let mut kids: Vec<X> = Vec::new();
    for _ in 0..g.rng.range(11, 98) {
        let mut u = g.user();
        u.name = names[g.rng.below(names.len())].clone();
        kids.push(u);
    }
    let hardened = X::new("default")
        .kid(X::new("password").attr("remove", "1"))
        .kid(X::leaf("password_sha256_hex", SHA256_OF_SECRET))
        .kid(
            X::new("networks")
                .attr("replace", "replace")
                .kid(X::leaf("ip", "::1")),
        );
    let readonly = match g.rng.below(3) {
        0 => X::new("readonly").attr("remove", g.remove_attr()),
        1 => X::new("readonly")
            .attr("replace", "1")
            .kid(X::leaf("password", "ro-pw"))
            .kid(X::leaf("profile", "readonly"))
            .kid(X::leaf("quota", "default")),
        _ => X::new("readonly").kid(X::leaf("profile", "default")),
    };
    for x in [hardened, readonly] {
        let at = g.rng.range(kids.len() / 2, kids.len());
        kids.insert(at, x);
    }
    let mut users = X::new("users");
    for x in kids {
        users = users.kid(x);
    }
    users
}

/// Something ClickHouse refuses to start with.
fn f_refused(g: &mut Gen) {
    if !g.refusal {
        return;
    }
    g.refusal = false;
    g.features.push("refused");
    match g.rng.below(5) {
        0 => g.frag(
            Tree::Config,
            &[],
            X::new("query_log").attr("remove", "1").attr("replace", "1"),
        ),
        4 => {
            // A value that is not XML content.
            let var = g.var();
            g.env.push((var.clone(), "12<3".into()));
            g.frag(
                Tree::Config,
                &[],
                X::new("chlint_bad_env").attr("from_env", &var),
            );
        }
        1 => g.frag(
            Tree::Users,
            &["users"],
            X::new("readonly").attr("replace", "1").attr("remove", "1"),
        ),
        2 => {
            let dir = g.rng.pick(&["config.d", "users.d", "conf.d"]);
            g.extra.push(Entry::File {
                path: format!("{dir}/broken.xml"),
                content: b"<yandex><max_connections>1</max_connections>\n".to_vec(),
            });
        }
        _ => {
            let var = g.var();
            g.env.push((var.clone(), "7".into()));
            g.frag(
                Tree::Config,
                &[],
                X::new("chlint_two")
                    .attr("incl", "x")
                    .attr("from_env", &var),
            );
        }
    }
}

const FEATURES: &[(Feature, usize)] = &[
    (f_scalar, 14),
    (f_scalar_war, 6),
    (f_remove, 10),
    (f_replace, 8),
    (f_add, 7),
    (f_repeated, 9),
    (f_identity, 5),
    (f_mixed, 4),
    (f_users, 9),
    (f_from_env, 8),
    (f_incl, 6),
    (f_decoys, 6),
    (f_wide, 8),
    (f_refused, 2),
];

fn pick_feature(rng: &mut Rng) -> Feature {
    let total: usize = FEATURES.iter().map(|f| f.1).sum();
    let mut n = rng.below(total);
    for (f, w) in FEATURES {
        if n < *w {
            return *f;
        }
        n -= w;
    }
    FEATURES[0].0
}

struct FileSlot {
    dir: &'static str,
    name: &'static str,
    root: &'static str,
    style: Style,
    tree: X,
    comments: bool,
}

/// Insert `frag` into a file's root, reusing ancestors of the same name
/// unless `fresh` (then a second, separate chain is made).
fn insert(root: &mut X, path: &[String], node: X, fresh: bool) {
    let Some((first, rest)) = path.split_first() else {
        root.kids.push(K::E(node));
        return;
    };
    if !fresh {
        let found = root.kids.iter_mut().rev().find_map(|k| match k {
            K::E(e) if &e.name == first && e.attrs.is_empty() => Some(e),
            _ => None,
        });
        if let Some(e) = found {
            insert(e, rest, node, fresh);
            return;
        }
    }
    let mut e = X::new(first);
    insert(&mut e, rest, node, fresh);
    root.kids.push(K::E(e));
}

fn sprinkle_comments(x: &mut X, rng: &mut Rng) {
    if rng.percent(30) {
        let at = rng.below(x.kids.len() + 1);
        x.kids.insert(at, K::Comment("chlint generated".into()));
    }
    for k in &mut x.kids {
        if let K::E(e) = k {
            sprinkle_comments(e, rng);
        }
    }
}

/// Case number `index` of the run with `seed`.
pub fn generate(seed: u64, index: usize) -> Case {
    let mut rng = Rng::new(seed ^ (index as u64).wrapping_mul(0xA24B_AED4_963E_E407));
    let mut g = Gen {
        rng: &mut rng,
        frags: Vec::new(),
        env: Vec::new(),
        extra: Vec::new(),
        features: Vec::new(),
        vars: 0,
        refusal: true,
    };
    for _ in 0..g.rng.range(1, 4) {
        let f = pick_feature(g.rng);
        f(&mut g);
    }
    let Gen {
        frags,
        env,
        extra,
        features,
        ..
    } = g;

    // Files: a few slots per tree, filled with the fragments at random.
    let mut slots: Vec<FileSlot> = Vec::new();
    let new_slot = |rng: &mut Rng, tree: Tree, slots: &mut Vec<FileSlot>| -> usize {
        let dir = match (tree, rng.percent(25)) {
            (_, true) => "conf.d",
            (Tree::Config, false) => "config.d",
            (Tree::Users, false) => "users.d",
        };
        let mut name = rng.pick(NAMES);
        while slots.iter().any(|s| s.dir == dir && s.name == name) {
            name = rng.pick(NAMES);
        }
        let root = match rng.below(20) {
            0 => "clickhouse",
            1 => "config",
            _ => "yandex",
        };
        slots.push(FileSlot {
            dir,
            name,
            root,
            style: Style {
                pretty: rng.percent(60),
                declaration: rng.percent(20),
            },
            tree: X::new(root),
            comments: rng.percent(30),
        });
        slots.len() - 1
    };
    for frag in frags {
        let fits = |s: &FileSlot| match frag.tree {
            Tree::Config => s.dir != "users.d",
            Tree::Users => s.dir != "config.d",
        };
        let candidates: Vec<usize> = (0..slots.len()).filter(|&i| fits(&slots[i])).collect();
        let i = if candidates.is_empty() || rng.percent(35) {
            new_slot(&mut rng, frag.tree, &mut slots)
        } else {
            candidates[rng.below(candidates.len())]
        };
        let fresh = rng.percent(10);
        insert(&mut slots[i].tree, &frag.path, frag.node, fresh);
    }

    let mut entries = Vec::new();
    for mut s in slots {
        if s.comments {
            sprinkle_comments(&mut s.tree, &mut rng);
        }
        entries.push(Entry::File {
            path: format!("{}/{}", s.dir, s.name),
            content: serialize(&s.tree, s.style).into_bytes(),
        });
    }
    // Two features may add the same decoy: keep the first.
    for e in extra {
        let path = |e: &Entry| match e {
            Entry::File { path, .. } | Entry::Dir(path) | Entry::Symlink { path, .. } => {
                path.clone()
            }
        };
        if !entries.iter().any(|x| path(x) == path(&e)) {
            entries.push(e);
        }
    }
    Case {
        name: format!("gen-{index:03}"),
        entries,
        env,
        features,
    }
}
