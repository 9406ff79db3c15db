//! What a run reports and what fails it: the configuration file and the
//! command line, resolved against the rule registry.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::config_file::{absolute, Config};
use crate::finding::Severity;
use crate::rules::{Rule, RULES};
use crate::source::{SourceId, SourceMap, Span};

/// Command-line choices that override or extend the configuration file.
#[derive(Debug, Default, Clone)]
pub struct CliChoices {
    /// Replaces the file's `select`.
    pub select: Option<Vec<String>>,
    /// Added to the file's `ignore`.
    pub ignore: Vec<String>,
    pub min_severity: Option<Severity>,
    pub fail_on: Option<Severity>,
    pub exit_zero: bool,
    pub no_ignores: bool,
}

/// Globs relative to a folder, gitignore-style: a pattern without `/`
/// matches at any depth, a leading `/` anchors it, a pattern that matches
/// a folder matches everything in it.
#[derive(Debug)]
pub struct PathMatcher {
    base: PathBuf,
    set: GlobSet,
}

impl PathMatcher {
    pub fn new(base: &Path, patterns: &[String], what: &str) -> Result<PathMatcher, String> {
        let mut b = GlobSetBuilder::new();
        for p in patterns {
            let mut pat = p.trim().replace('\\', "/");
            if let Some(rest) = pat.strip_prefix("./") {
                pat = rest.to_string();
            }
            while pat.len() > 1 && pat.ends_with('/') {
                pat.pop();
            }
            let pat = match pat.strip_prefix('/') {
                Some(anchored) => anchored.to_string(),
                None if !pat.contains('/') => format!("**/{pat}"),
                None => pat,
            };
            let glob = GlobBuilder::new(&pat)
                .literal_separator(true)
                .build()
                .map_err(|e| format!("{what}: invalid glob `{p}`: {e}"))?;
            b.add(glob);
        }
        Ok(PathMatcher {
            base: base.to_path_buf(),
            set: b.build().map_err(|e| format!("{what}: {e}"))?,
        })
    }

    /// Does a file (absolute, or relative to the working folder) match?
    pub fn matches(&self, file: &Path) -> bool {
        let abs = absolute(file);
        let Ok(rel) = abs.strip_prefix(&self.base) else {
            return false;
        };
        rel.ancestors()
            .filter(|a| !a.as_os_str().is_empty())
            .any(|a| self.set.is_match(a))
    }
}

/// Everything that decides which findings are shown and what fails.
#[derive(Debug)]
pub struct Settings {
    pub enabled: HashSet<&'static str>,
    pub severity: HashMap<&'static str, Severity>,
    pub min_severity: Severity,
    pub fail_on: Severity,
    pub exit_zero: bool,
    pub no_ignores: bool,
    pub exclude: Option<PathMatcher>,
    pub per_path: Vec<(PathMatcher, HashSet<&'static str>)>,
    /// The configuration file used, if any.
    pub config_path: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            enabled: RULES.iter().map(|r| r.code).collect(),
            severity: HashMap::new(),
            min_severity: Severity::Low,
            fail_on: Severity::Low,
            exit_zero: false,
            no_ignores: false,
            exclude: None,
            per_path: Vec::new(),
            config_path: None,
        }
    }
}

/// The rules a selector names: a code (`CH203`), a name
/// (`mysql-postgres-port-enabled`), a code prefix (`CH2`, `CH`) or `ALL`.
pub fn resolve_selector(selector: &str) -> Result<Vec<&'static Rule>, String> {
    let s = selector.trim();
    if let Some(rule) = crate::rules::find(s) {
        return Ok(vec![rule]);
    }
    let upper = s.to_ascii_uppercase();
    if upper == "ALL" {
        return Ok(RULES.iter().collect());
    }
    let is_prefix = upper.starts_with("CH")
        && upper.len() < 5
        && upper[2..].chars().all(|c| c.is_ascii_digit());
    if is_prefix {
        return Ok(RULES
            .iter()
            .filter(|r| r.code.starts_with(&upper))
            .collect());
    }
    Err(format!(
        "`{selector}` is not a rule code, code prefix or name (see `chlint rules`)"
    ))
}

fn resolve_all(list: &[String], what: &str) -> Result<HashSet<&'static str>, String> {
    let mut out = HashSet::new();
    for s in list {
        let rules = resolve_selector(s).map_err(|e| format!("{what}: {e}"))?;
        out.extend(rules.into_iter().map(|r| r.code));
    }
    Ok(out)
}

pub fn parse_severity(s: &str, what: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("{what}: `{s}` is not a severity (critical, high, medium or low)"))
}

impl Settings {
    /// Settings from an optional configuration file and the command line.
    pub fn resolve(config: Option<&Config>, cli: &CliChoices) -> Result<Settings, String> {
        let mut s = Settings::default();
        let file = config.map(|c| &c.file);
        let at = |key: &str| match config {
            Some(c) => format!("{}: `{key}`", c.path.display()),
            None => format!("`{key}`"),
        };
        let select = match (&cli.select, file.and_then(|f| f.select.as_ref())) {
            (Some(list), _) => Some(resolve_all(list, "--select")?),
            (None, Some(list)) => Some(resolve_all(list, &at("select"))?),
            (None, None) => None,
        };
        if let Some(select) = select {
            s.enabled = select;
        }
        if let Some(f) = file {
            for code in resolve_all(&f.ignore, &at("ignore"))? {
                s.enabled.remove(code);
            }
        }
        for code in resolve_all(&cli.ignore, "--ignore")? {
            s.enabled.remove(code);
        }
        if let Some(c) = config {
            let f = &c.file;
            for (key, sev) in &f.severity {
                let what = at(&format!("severity.{key}"));
                let sev = parse_severity(sev, &what)?;
                for r in resolve_selector(key).map_err(|e| format!("{what}: {e}"))? {
                    s.severity.insert(r.code, sev);
                }
            }
            if let Some(m) = &f.min_severity {
                s.min_severity = parse_severity(m, &at("min-severity"))?;
            }
            if let Some(m) = &f.fail_on {
                s.fail_on = parse_severity(m, &at("fail-on"))?;
            }
            if !f.exclude.is_empty() {
                s.exclude = Some(PathMatcher::new(&c.dir, &f.exclude, &at("exclude"))?);
            }
            for (glob, rules) in &f.per_path_ignores {
                let what = at(&format!("per-path-ignores.\"{glob}\""));
                let matcher = PathMatcher::new(&c.dir, std::slice::from_ref(glob), &what)?;
                s.per_path.push((matcher, resolve_all(rules, &what)?));
            }
            s.config_path = Some(c.path.clone());
        }
        if let Some(m) = cli.min_severity {
            s.min_severity = m;
        }
        if let Some(f) = cli.fail_on {
            s.fail_on = f;
        }
        s.exit_zero = cli.exit_zero;
        s.no_ignores = cli.no_ignores;
        Ok(s)
    }

    /// A rule's severity in this run.
    pub fn severity_of(&self, rule: &Rule) -> Severity {
        self.severity
            .get(rule.code)
            .copied()
            .unwrap_or(rule.severity)
    }

    pub fn is_enabled(&self, code: &str) -> bool {
        self.enabled.contains(code)
    }
}

/// The settings of each file of a run: one set for every file (`--config`,
/// `--no-config`), or each file's nearest `.chlint.toml` (see
/// [`crate::config_file::discover_in`]), so that a file's findings do not
/// depend on the other paths checked with it.
#[derive(Debug)]
pub struct PerFile {
    /// The distinct settings; the first applies where nothing else does.
    all: Vec<Settings>,
    /// Index into `all` by source (its host file's).
    of_source: Vec<usize>,
}

impl PerFile {
    pub fn fixed(settings: Settings) -> PerFile {
        PerFile {
            all: vec![settings],
            of_source: Vec::new(),
        }
    }

    /// Each source's settings from its own configuration file (`find` says
    /// which applies to a folder, `load` reads it), loaded once each;
    /// `first` is the configuration that applies where no file does (the
    /// first named path's).
    pub fn discover(
        sources: &SourceMap,
        first: Option<&Path>,
        find: &mut dyn FnMut(&Path) -> Option<PathBuf>,
        load: &dyn Fn(&Path) -> Result<Config, String>,
        cli: &CliChoices,
    ) -> Result<PerFile, String> {
        let mut loaded: HashMap<Option<PathBuf>, usize> = HashMap::new();
        let mut all = Vec::new();
        let mut index_of = |config: Option<PathBuf>| -> Result<usize, String> {
            if let Some(&i) = loaded.get(&config) {
                return Ok(i);
            }
            let file = config.as_deref().map(load).transpose()?;
            all.push(Settings::resolve(file.as_ref(), cli)?);
            loaded.insert(config, all.len() - 1);
            Ok(all.len() - 1)
        };
        index_of(first.map(Path::to_path_buf))?;
        let mut of_source = Vec::with_capacity(sources.len());
        for i in 0..sources.len() {
            let host = sources.to_host(Span::new(SourceId(i as u32), 0, 0)).source;
            let file = sources.get(host);
            let dir = (!file.is_builtin())
                .then(|| absolute(&file.path))
                .and_then(|p| p.parent().map(Path::to_path_buf));
            let index = match dir {
                Some(dir) => index_of(find(&dir))?,
                None => 0,
            };
            of_source.push(index);
        }
        Ok(PerFile { all, of_source })
    }

    /// The settings of a source's file.
    pub fn of(&self, source: SourceId) -> &Settings {
        let i = self.of_source.get(source.0 as usize).copied().unwrap_or(0);
        &self.all[i]
    }

    /// The settings where no file decides (SARIF's rule list).
    pub fn first(&self) -> &Settings {
        &self.all[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors() {
        assert_eq!(resolve_selector("ch101").unwrap()[0].code, "CH101");
        assert_eq!(resolve_selector("weak-password").unwrap()[0].code, "CH105");
        let family = resolve_selector("CH2").unwrap();
        assert!(family.len() > 3 && family.iter().all(|r| r.code.starts_with("CH2")));
        assert!(resolve_selector("CH1999").is_err());
        assert!(resolve_selector("CH777").is_err());
        assert!(resolve_selector("no-such-rule").is_err());
    }

    #[test]
    fn globs_are_gitignore_like() {
        let base = absolute(Path::new("/repo"));
        let m = PathMatcher::new(
            &base,
            &["legacy/".into(), "*.yaml".into(), "/top.xml".into()],
            "t",
        )
        .unwrap();
        assert!(m.matches(Path::new("/repo/legacy/config.d/a.xml")));
        assert!(m.matches(Path::new("/repo/x/y/users.yaml")));
        assert!(m.matches(Path::new("/repo/top.xml")));
        assert!(!m.matches(Path::new("/repo/sub/top.xml")));
        assert!(!m.matches(Path::new("/repo/config.xml")));
        assert!(!m.matches(Path::new("/elsewhere/legacy/a.xml")));
    }
}
