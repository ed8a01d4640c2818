//! The overview's rows as the page holds them: every host's [`HostRow`] by id, kept in line with
//! the `fleet` frames ([`FleetUpdate`]: changed rows, hosts gone, a `full` set now and then), the
//! header's counts, and the summary `seq` a reconnect resumes after (`fleet_since=`).

use livedash::fleet::HostRow;
use livedash::summary::{FleetCounts, FleetUpdate};

/// The fleet as the overview shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fleet {
    /// Every host's row, ordered by [`HostRow::id`] (a sorted `Vec`: what the page does with it
    /// costs the browser bundle less than a map's code).
    pub rows: Vec<HostRow>,
    /// The counts of the last update.
    pub counts: FleetCounts,
    /// The summary sequence of the last update applied (`None` before the first).
    pub seq: Option<u64>,
    /// Why the targets file is not used now, as the last update said.
    pub problem: Option<String>,
}

impl Fleet {
    /// Applies one update: a `full` one replaces every row, another changes and removes some.
    pub fn apply(&mut self, update: FleetUpdate) {
        if update.full {
            self.rows.clear();
        }
        for id in &update.gone {
            if let Ok(at) = self.find(id) {
                self.rows.remove(at);
            }
        }
        for row in update.rows {
            match self.find(row.id()) {
                Ok(at) if !update.full => self.rows[at].take_change(row),
                Ok(at) => self.rows[at] = row,
                Err(at) => self.rows.insert(at, row),
            }
        }
        self.counts = update.counts;
        self.problem = update.problem;
        self.seq = Some(update.seq);
    }

    /// Where the row of `id` is (`Ok`), or would go (`Err`).
    fn find(&self, id: &str) -> Result<usize, usize> {
        self.rows.binary_search_by(|r| r.id().cmp(id))
    }

    /// The tag keys present on any host, sorted (what the overview can group by).
    pub fn tag_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        for key in self.rows.iter().flat_map(|r| r.tags.keys()) {
            if let Err(at) = keys.binary_search(key) {
                keys.insert(at, key.clone());
            }
        }
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
            problem: Some("targets file t.yml, line 2: ...".into()),
        });
        assert_eq!(fleet.rows.len(), 2);
        assert!(fleet.problem.is_some(), "the targets file's problem as the update says");
        fleet.apply(FleetUpdate {
            seq: 2,
            full: false,
            rows: vec![row("c", HostStatus::Down, None, &[("role", "db")])],
            gone: vec!["b".into()],
            counts,
            problem: None,
        });
        assert_eq!(fleet.problem, None, "gone with the next update that does not say it");
        assert_eq!(fleet.rows.iter().map(HostRow::id).collect::<Vec<_>>(), ["a", "c"]);
        // A change of a kept row: its new sparkline points appended, its tags kept when absent.
        let mut a = row("a", HostStatus::Down, None, &[]);
        a.cpu_spark = vec![7.0];
        fleet.apply(FleetUpdate { seq: 3, full: false, rows: vec![a], gone: vec![], counts, problem: None });
        let a = &fleet.rows[0];
        assert_eq!((a.status, a.cpu_spark.as_slice(), a.tags.len()), (HostStatus::Down, &[7.0_f32][..], 1));
        assert_eq!(fleet.seq, Some(3));
        assert_eq!(fleet.tag_keys(), ["env", "role"]);
        fleet.apply(FleetUpdate {
            seq: 3,
            full: true,
            rows: vec![row("d", HostStatus::Up, None, &[])],
            ..Default::default()
        });
        assert_eq!(fleet.rows.iter().map(HostRow::id).collect::<Vec<_>>(), ["d"], "a full update drops the rest");
    }
}
