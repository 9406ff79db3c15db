//! From the rules' findings to what a run reports, in this order:
//!
//! 1. severity overrides from the configuration file;
//! 2. rule selection (`select`/`ignore`, `--select`/`--ignore`); a finding
//!    set aside because a stronger one states it (`repeats.rs`) comes back
//!    when no rule that states it is selected;
//! 3. inline suppressions (unless `--no-ignores`), which add CH990/CH991
//!    findings about suppressions that match nothing or cannot apply;
//! 4. `exclude` and `per-path-ignores` (the latter not with `--no-ignores`);
//! 5. `min-severity`;
//! 6. the baseline.
//!
//! Suppressions are matched before paths, severities and the baseline drop
//! anything, so a suppression whose finding is also hidden another way still
//! counts as used.

use crate::baseline::Baseline;
use crate::check::Report;
use crate::finding::Finding;
use crate::repeats::Implied;
use crate::settings::Settings;
use crate::source::{SourceId, SourceMap};

/// What the filters took away, for the summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    pub suppressed: usize,
    pub excluded: usize,
    pub below_min_severity: usize,
    pub baselined: usize,
}

/// [`apply_each`] with one set of settings for every file.
pub fn apply(
    report: &mut Report,
    sources: &SourceMap,
    settings: &Settings,
    baseline: Option<&Baseline>,
) -> Dropped {
    apply_each(report, sources, &|_| settings, baseline)
}

/// Filter with the settings of each finding's file (`settings_of` its
/// source: each file may have a `.chlint.toml` of its own).
pub fn apply_each<'s>(
    report: &mut Report,
    sources: &SourceMap,
    settings_of: &dyn Fn(SourceId) -> &'s Settings,
    baseline: Option<&Baseline>,
) -> Dropped {
    let mut dropped = Dropped::default();
    let of = |f: &Finding| settings_of(f.primary.source);
    let overridden = |mut f: Finding| {
        if let Some(&s) = of(&f).severity.get(f.code) {
            f.severity = s;
        }
        f
    };
    let mut findings: Vec<Finding> = std::mem::take(&mut report.findings)
        .into_iter()
        .map(overridden)
        .filter(|f| of(f).is_enabled(f.code))
        .collect();
    // Findings come in check_paths' order; only findings added here (an
    // implied finding brought back, CH990, CH991) make sorting again
    // necessary.
    let mut added = false;
    // A finding set aside because a stronger one states it is shown when
    // no rule that states it is selected in its file.
    let (back, implied): (Vec<Implied>, Vec<Implied>) = std::mem::take(&mut report.implied)
        .into_iter()
        .partition(|i| {
            let settings = of(&i.finding);
            settings.is_enabled(i.finding.code) && !i.by.iter().any(|c| settings.is_enabled(c))
        });
    added |= !back.is_empty();
    findings.extend(back.into_iter().map(|i| overridden(i.finding)));
    report.implied = implied;
    // `--no-ignores` is the command line's: the same for every file.
    let no_ignores = settings_of(SourceId(0)).no_ignores;
    if !no_ignores {
        let implied: Vec<Finding> = report.implied.iter().map(|i| i.finding.clone()).collect();
        let context = crate::suppress::Context {
            implied: &implied,
            aliases: &report.aliases,
        };
        let applied = crate::suppress::apply(
            findings,
            sources,
            &|s, c| settings_of(s).is_enabled(c),
            &context,
        );
        dropped.suppressed = applied.suppressed;
        findings = applied.kept;
        added |= !applied.problems.is_empty();
        findings.extend(
            applied
                .problems
                .into_iter()
                .map(overridden)
                .filter(|f| of(f).is_enabled(f.code)),
        );
    }
    let before = findings.len();
    findings.retain(|f| {
        let settings = of(f);
        let by_path =
            settings.exclude.is_some() || !(settings.no_ignores || settings.per_path.is_empty());
        if !by_path {
            return true;
        }
        let file =
            crate::config_file::absolute(&sources.get(sources.to_host(f.primary).source).path);
        if settings.exclude.as_ref().is_some_and(|m| m.matches(&file)) {
            return false;
        }
        settings.no_ignores
            || !settings
                .per_path
                .iter()
                .any(|(m, codes)| codes.contains(f.code) && m.matches(&file))
    });
    dropped.excluded = before - findings.len();
    let before = findings.len();
    findings.retain(|f| f.severity >= of(f).min_severity);
    dropped.below_min_severity = before - findings.len();
    if let Some(b) = baseline {
        dropped.baselined = b.filter(&mut findings, sources, &report.secret_spans);
    }
    let key = |f: &Finding| {
        let loc = sources.locate(f.primary);
        (loc.file, loc.line, loc.column, f.code)
    };
    if added {
        // Each finding located once (a sort asks for keys at every comparison).
        findings.sort_by_cached_key(key);
    }
    debug_assert!(
        findings.windows(2).all(|w| key(&w[0]) <= key(&w[1])),
        "findings reach filter::apply in check_paths' order"
    );
    report.findings = findings;
    dropped
}

/// Does the report fail the run (exit code 1)?
pub fn fails(report: &Report, settings: &Settings) -> bool {
    fails_each(report, &|_| settings)
}

/// [`fails`], each finding against the threshold of its file's settings.
pub fn fails_each<'s>(report: &Report, settings_of: &dyn Fn(SourceId) -> &'s Settings) -> bool {
    report.findings.iter().any(|f| {
        let s = settings_of(f.primary.source);
        !s.exit_zero && f.severity >= s.fail_on
    })
}

/// A one-line account of what was not shown, if anything was dropped.
pub fn summary(d: &Dropped) -> Option<String> {
    let mut parts = Vec::new();
    if d.suppressed > 0 {
        parts.push(format!("{} suppressed inline", d.suppressed));
    }
    if d.excluded > 0 {
        parts.push(format!("{} in excluded paths", d.excluded));
    }
    if d.below_min_severity > 0 {
        parts.push(format!(
            "{} below the minimum severity",
            d.below_min_severity
        ));
    }
    if d.baselined > 0 {
        parts.push(format!("{} in the baseline", d.baselined));
    }
    (!parts.is_empty()).then(|| format!("not shown: {}", parts.join(", ")))
}
