//! `livedash alerts check` over a store: the rules, as start-up checked them, each replayed over
//! every stored series it watches ([`super::replay`]), summed up into the [`Report`] printed.
//! Rules about a source (`when = "failing"` / `"stale"`) and `when = "absent"` are listed as not
//! replayed: the store keeps values, not failed fetches or a sample's missing keys.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use livedash::alerts::Side;
use livedash::settings::SeriesRule;

use super::table::{Outcome, Report, Row};
use super::{PreviewError, history, replay};
use crate::alerts::engine::check_of;
use crate::alerts::machine::{Check, Timing};
use crate::alerts::rules::{Condition, Origin, Rule};
use crate::store::{db, read};

/// Replays `rules` (the implicit ones are left out) over `[from, to]` of the store at `path`,
/// opened read-only; `settings`: each source's series settings (for `alert = true` rules).
pub fn check(
    rules: &[Rule],
    settings: &HashMap<Arc<str>, Arc<[SeriesRule]>>,
    path: &Path,
    (from, to): (u64, u64),
) -> Result<Report, PreviewError> {
    let conn = db::open_reader(path)?;
    let stored = read::series(&conn)?;
    let gaps = read::gaps(&conn, from, to)?;
    let rules: Vec<&Rule> = rules.iter().filter(|r| r.origin != Origin::Implicit).collect();
    let mut report = Report { range: (from, to), rules: rules.len(), ..Report::default() };
    for rule in rules {
        if matches!(rule.condition, Condition::Failing | Condition::Stale | Condition::Absent) {
            report.not_replayed.push(format!(
                "rule {:?} (when = {:?}) is not replayed: the store keeps values, not failed fetches or missing series",
                &*rule.name,
                rule.condition.word()
            ));
            continue;
        }
        let timing = Timing { for_: rule.for_, keep: rule.keep_firing_for };
        let mut matched = false;
        for (source, name) in &stored {
            if !rule.watches_source(source) || !rule.watches_series(name) {
                continue;
            }
            let series_rules = settings.get(source.as_str()).map_or(&[][..], |r| &r[..]);
            let Some(check) = check_of(rule, series_rules, Some(name)) else { continue };
            let Some(id) = db::find_series(&conn, source, name)? else { continue };
            matched = true;
            let series = history::read_series(&conn, id, (from, to))?;
            let changes = replay::replay(&check, timing, &series.steps, &gaps);
            // An episode still firing at the end lasts up to the last value stored.
            let end = series.steps.last().map_or(to, |s| s.t);
            let side = match check {
                Check::Past { side, .. } => side,
                _ => Side::Above,
            };
            report.rows.push(Row {
                rule: rule.name.to_string(),
                source: source.clone(),
                series: name.clone(),
                outcome: Outcome::of(&changes, end),
                side,
                coarse: series.coarse,
            });
        }
        if !matched {
            report.unmatched.push(format!(
                "rule {:?} matches no stored series (source {:?}, series {:?})",
                &*rule.name, rule.source, rule.series
            ));
        }
    }
    Ok(report)
}
