//! What the overview shows of the fleet, as pure functions: the columns and their order
//! ([`Column`], [`Sort`]: worst-first by default), the filter box ([`Filter`]: words and
//! `tag:value` terms, all of which must match), and grouping by a tag ([`arrange`]).

use std::cmp::Ordering;

use livedash::fleet::{HostRow, HostStatus};

/// A column of the overview's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// The host's name.
    Name,
    /// Up, stale or down (sorted worst first).
    Status,
    /// One of the figures, by its index in `livedash::fleet::FIGURES`.
    Figure(usize),
}

/// The figure columns' headings, in wire order.
pub const FIGURE_HEADS: [&str; 7] = ["CPU", "Memory", "Disk", "Load", "Net in", "Net out", "Uptime"];

impl Column {
    /// Every sortable column, in table order.
    pub const ALL: [Self; 9] = [
        Self::Name,
        Self::Status,
        Self::Figure(0),
        Self::Figure(1),
        Self::Figure(2),
        Self::Figure(3),
        Self::Figure(4),
        Self::Figure(5),
        Self::Figure(6),
    ];

    /// Its name in the settings (`name`, `status`, or a figure's name).
    pub fn key(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Status => "status",
            Self::Figure(i) => livedash::fleet::FIGURES.get(i).copied().unwrap_or("cpu_pct"),
        }
    }

    /// The column named `key`.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.key() == key)
    }

    /// Its heading.
    pub fn head(self) -> &'static str {
        match self {
            Self::Name => "Host",
            Self::Status => "Status",
            Self::Figure(i) => FIGURE_HEADS.get(i).copied().unwrap_or(""),
        }
    }

    /// Whether a first click sorts it highest first (figures: the busiest host matters most).
    pub fn descending_first(self) -> bool {
        matches!(self, Self::Figure(_))
    }
}

/// The table's order: worst first (no column), or by a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sort {
    /// The column, or `None` for worst first: down, stale, alerting, then the busiest CPU.
    pub column: Option<Column>,
    /// Highest first.
    pub descending: bool,
}

impl Sort {
    /// The order after a click on `column`'s heading: the same column flips, another starts at
    /// its natural direction.
    pub fn clicked(self, column: Column) -> Self {
        if self.column == Some(column) {
            Self { column: Some(column), descending: !self.descending }
        } else {
            Self { column: Some(column), descending: column.descending_first() }
        }
    }

    /// `aria-sort` for `column`'s heading.
    pub fn aria(self, column: Column) -> &'static str {
        match (self.column == Some(column), self.descending) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        }
    }

    /// How `a` and `b` compare in this order (ties by name, so the order is stable).
    pub fn compare(self, a: &HostRow, b: &HostRow) -> Ordering {
        let by_name = || a.name.cmp(&b.name).then_with(|| a.id().cmp(b.id()));
        let first = match self.column {
            None => badness(a).cmp(&badness(b)).then_with(|| desc_none_last(cpu(a), cpu(b))),
            Some(Column::Name) => Ordering::Equal,
            Some(Column::Status) => badness(a).cmp(&badness(b)),
            Some(Column::Figure(i)) => {
                let (x, y) = (figure(a, i), figure(b, i));
                return match (x, y) {
                    (Some(x), Some(y)) => {
                        let o = x.total_cmp(&y);
                        if self.descending { o.reverse() } else { o }
                    }
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => Ordering::Equal,
                }
                .then_with(by_name);
            }
        };
        let first = if self.descending && self.column.is_some() { first.reverse() } else { first };
        let o = first.then_with(by_name);
        if self.descending && self.column == Some(Column::Name) { o.reverse() } else { o }
    }
}

/// 0 down, 1 stale, 2 up with an alert firing, 3 up.
fn badness(r: &HostRow) -> u8 {
    match r.status {
        HostStatus::Down => 0,
        HostStatus::Stale => 1,
        HostStatus::Up if r.alerting > 0 => 2,
        HostStatus::Up => 3,
    }
}

fn cpu(r: &HostRow) -> Option<f64> {
    r.figures.cpu_pct
}

fn figure(r: &HostRow, i: usize) -> Option<f64> {
    r.figures.columns().get(i).copied().flatten()
}

/// Highest first, unknown last.
fn desc_none_last(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// One term of the filter box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// A word found (ignoring ASCII case) in the host's name, id, or a tag's value.
    Word(String),
    /// `key:value`: the tag `key` is `value` (ignoring ASCII case); `key:` alone: the host has the tag.
    /// `status:down` reads the status as if it were a tag.
    Tag(String, String),
}

/// The filter box's terms: every one must match.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter(pub Vec<Term>);

impl Filter {
    /// Reads the box: terms separated by spaces, each a word or `key:value`.
    pub fn parse(text: &str) -> Self {
        Self(
            text.split_whitespace()
                .map(|t| match t.split_once(':') {
                    Some((k, v)) if !k.is_empty() => Term::Tag(k.to_ascii_lowercase(), v.to_ascii_lowercase()),
                    _ => Term::Word(t.trim_start_matches(':').to_ascii_lowercase()),
                })
                .filter(|t| !matches!(t, Term::Word(w) if w.is_empty()))
                .collect(),
        )
    }

    /// Whether `row` matches every term.
    pub fn matches(&self, row: &HostRow) -> bool {
        self.0.iter().all(|term| match term {
            Term::Word(w) => {
                row.name.to_ascii_lowercase().contains(w)
                    || row.id().to_ascii_lowercase().contains(w)
                    || row.tags.values().any(|v| v.to_ascii_lowercase().contains(w))
            }
            Term::Tag(k, v) if k == "status" && !row.tags.contains_key("status") => {
                v.is_empty() || status_name(row.status) == v || (v == "alerting" && row.alerting > 0)
            }
            Term::Tag(k, v) => row.tags.iter().any(|(key, value)| {
                key.to_ascii_lowercase() == *k && (v.is_empty() || value.to_ascii_lowercase() == *v)
            }),
        })
    }
}

/// `up`, `stale` or `down`.
pub fn status_name(s: HostStatus) -> &'static str {
    match s {
        HostStatus::Up => "up",
        HostStatus::Stale => "stale",
        HostStatus::Down => "down",
    }
}

/// One group of rows: the value of the grouping tag (`None`: hosts without it, or no grouping).
#[derive(Debug, Clone, PartialEq)]
pub struct Group<'a> {
    /// The tag's value.
    pub value: Option<String>,
    /// Its rows, in order.
    pub rows: Vec<&'a HostRow>,
}

/// The rows that pass `filter`, in `sort`'s order, in groups by the tag `group_by` (groups by
/// value; hosts without the tag last), or one group when there is none.
pub fn arrange<'a>(
    rows: impl IntoIterator<Item = &'a HostRow>,
    filter: &Filter,
    sort: Sort,
    group_by: Option<&str>,
) -> Vec<Group<'a>> {
    // Sorted by insertion (a binary search each): no sort routine in the browser bundle.
    let mut kept: Vec<&HostRow> = Vec::new();
    for row in rows.into_iter().filter(|r| filter.matches(r)) {
        let at = kept.partition_point(|k| sort.compare(k, row) != Ordering::Greater);
        kept.insert(at, row);
    }
    let Some(key) = group_by.filter(|k| !k.is_empty()) else {
        return vec![Group { value: None, rows: kept }];
    };
    // Groups in order of their value, the hosts without one last.
    let mut groups: Vec<Group<'a>> = Vec::new();
    for row in kept {
        let value = row.tags.get(key);
        let at = groups.partition_point(|g| match (&g.value, value) {
            (Some(x), Some(y)) => x < y,
            (Some(_), None) => true,
            (None, _) => false,
        });
        match groups.get_mut(at).filter(|g| g.value.as_ref() == value) {
            Some(g) => g.rows.push(row),
            None => groups.insert(at, Group { value: value.cloned(), rows: vec![row] }),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::table::tests::row;
    use HostStatus::{Down, Stale, Up};

    fn names(groups: &[Group<'_>]) -> Vec<Vec<String>> {
        groups.iter().map(|g| g.rows.iter().map(|r| r.name.clone()).collect()).collect()
    }

    fn fleet() -> Vec<HostRow> {
        let mut alerting = row("e-alerting", Up, Some(5.0), &[("env", "prod")]);
        alerting.alerting = 2;
        vec![
            row("a-busy", Up, Some(90.0), &[("env", "prod"), ("role", "web")]),
            row("b-idle", Up, Some(3.0), &[("env", "dev"), ("role", "web")]),
            row("c-down", Down, None, &[("env", "prod"), ("role", "db")]),
            row("d-stale", Stale, Some(40.0), &[("role", "db")]),
            alerting,
            row("f-unknown", Up, None, &[("env", "dev")]),
        ]
    }

    #[test]
    fn worst_first_is_down_stale_alerting_then_the_busiest() {
        let rows = fleet();
        let g = arrange(&rows, &Filter::default(), Sort::default(), None);
        assert_eq!(names(&g), [["c-down", "d-stale", "e-alerting", "a-busy", "b-idle", "f-unknown"]]);
    }

    #[test]
    fn columns_sort_both_ways_with_unknown_values_last() {
        let rows = fleet();
        let cpu = Sort::default().clicked(Column::Figure(0));
        assert!(cpu.descending, "a figure's first click puts the highest first");
        let g = arrange(&rows, &Filter::default(), cpu, None);
        assert_eq!(names(&g)[0], ["a-busy", "d-stale", "e-alerting", "b-idle", "c-down", "f-unknown"]);
        let g = arrange(&rows, &Filter::default(), cpu.clicked(Column::Figure(0)), None);
        assert_eq!(names(&g)[0], ["b-idle", "e-alerting", "d-stale", "a-busy", "c-down", "f-unknown"]);
        let name = Sort::default().clicked(Column::Name);
        assert_eq!((name.descending, name.aria(Column::Name), name.aria(Column::Status)), (false, "ascending", "none"));
        let g = arrange(&rows, &Filter::default(), name.clicked(Column::Name), None);
        assert_eq!(names(&g)[0][0], "f-unknown");
        let status = Sort::default().clicked(Column::Status);
        assert_eq!(arrange(&rows, &Filter::default(), status, None)[0].rows[0].name, "c-down");
    }

    #[test]
    fn the_filter_reads_words_and_tag_terms_all_of_which_must_match() {
        assert_eq!(
            Filter::parse("  Web  env:Prod role: : "),
            Filter(vec![
                Term::Word("web".into()),
                Term::Tag("env".into(), "prod".into()),
                Term::Tag("role".into(), String::new())
            ])
        );
        let rows = fleet();
        let pick = |text: &str| {
            names(&arrange(&rows, &Filter::parse(text), Sort::clicked(Sort::default(), Column::Name), None))
        };
        assert_eq!(pick("env:prod"), [["a-busy", "c-down", "e-alerting"]]);
        assert_eq!(pick("env:prod role:web"), [["a-busy"]]);
        assert_eq!(pick("role:"), [["a-busy", "b-idle", "c-down", "d-stale"]]);
        assert_eq!(pick("db"), [["c-down", "d-stale"]], "a word matches tag values too");
        assert_eq!(pick("status:down"), [["c-down"]]);
        assert_eq!(pick("status:alerting"), [["e-alerting"]]);
        assert_eq!(pick("env:nope"), [Vec::<String>::new()]);
        assert_eq!(pick("ENV:DEV"), [["b-idle", "f-unknown"]]);
    }

    #[test]
    fn groups_follow_a_tag_with_untagged_hosts_last() {
        let rows = fleet();
        let g = arrange(&rows, &Filter::default(), Sort::default(), Some("env"));
        let values: Vec<_> = g.iter().map(|g| g.value.clone()).collect();
        assert_eq!(values, [Some("dev".into()), Some("prod".into()), None]);
        assert_eq!(
            names(&g),
            vec![vec!["b-idle", "f-unknown"], vec!["c-down", "e-alerting", "a-busy"], vec!["d-stale"]]
        );
        assert_eq!(arrange(&rows, &Filter::default(), Sort::default(), Some("")).len(), 1);
    }

    #[test]
    fn columns_are_named_by_their_keys() {
        for c in Column::ALL {
            assert_eq!(Column::from_key(c.key()), Some(c));
        }
        assert_eq!(Column::from_key("net_in_bps"), Some(Column::Figure(4)));
        assert_eq!(Column::from_key("bogus"), None);
    }
}
