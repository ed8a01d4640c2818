//! The overview's rows as the page holds them: every host's [`HostRow`] by id, kept in line with
//! the `fleet` frames ([`FleetUpdate`]: changed rows, hosts gone, a `full` set now and then), the
//! header's counts, and the summary `seq` a reconnect resumes after (`fleet_since=`).

use std::collections::BTreeMap;

use livedash::fleet::HostRow;
use livedash::summary::{FleetCounts, FleetUpdate};

/// The fleet as the overview shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fleet {
    /// Every host's row, by [`HostRow::id`].
    pub rows: BTreeMap<String, HostRow>,
    /// The counts of the last update.
    pub counts: FleetCounts,
    /// The summary sequence of the last update applied (`None` before the first).
    pub seq: Option<u64>,
}

impl Fleet {
    /// Applies one update: a `full` one replaces every row, another changes and removes some.
    pub fn apply(&mut self, update: FleetUpdate) {
        if update.full {
            self.rows.clear();
        }
        for id in &update.gone {
            self.rows.remove(id);
        }
        for row in update.rows {
            self.rows.insert(row.id().to_owned(), row);
        }
        self.counts = update.counts;
        self.seq = Some(update.seq);
    }

    /// The tag keys present on any host, sorted (what the overview can group by).
    pub fn tag_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.rows.values().flat_map(|r| r.tags.keys().cloned()).collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use livedash::fleet::{HostFigures, HostStatus};

    pub(crate) fn row(name: &str, status: HostStatus, cpu: Option<f64>, tags: &[(&str, &str)]) -> HostRow {
        HostRow {
            source: String::new(),
            name: name.to_owned(),
            tags: tags.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            status,
            since_ms: 0,
            figures: HostFigures { cpu_pct: cpu, ..HostFigures::default() },
            cpu_spark: Vec::new(),
            alerting: 0,
        }
    }

    #[test]
    fn updates_change_remove_and_replace_rows() {
        let mut fleet = Fleet::default();
        let counts = FleetCounts { up: 2, ..FleetCounts::default() };
        fleet.apply(FleetUpdate {
            seq: 1,
            full: true,
            rows: vec![row("a", HostStatus::Up, None, &[("env", "prod")]), row("b", HostStatus::Up, None, &[])],
            gone: vec![],
            counts,
        });
        assert_eq!(fleet.rows.len(), 2);
        fleet.apply(FleetUpdate {
            seq: 2,
            full: false,
            rows: vec![row("c", HostStatus::Down, None, &[("role", "db")])],
            gone: vec!["b".into()],
            counts,
        });
        assert_eq!(fleet.rows.keys().collect::<Vec<_>>(), ["a", "c"]);
        assert_eq!(fleet.seq, Some(2));
        assert_eq!(fleet.tag_keys(), ["env", "role"]);
        fleet.apply(FleetUpdate {
            seq: 3,
            full: true,
            rows: vec![row("d", HostStatus::Up, None, &[])],
            ..Default::default()
        });
        assert_eq!(fleet.rows.keys().collect::<Vec<_>>(), ["d"], "a full update drops the rest");
    }
}
