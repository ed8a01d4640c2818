//! The overview's table bodies as HTML markup: written as one string per body, which costs the
//! browser bundle far less than a view per cell (the whole body changes with every update and
//! every second's "since" anyway); the same markup on the server and after hydration. Every text
//! from the wire is escaped.

use std::fmt::Write;

use livedash::fleet::HostRow;
use livedash::summary::FleetCounts;

use super::format::{SPARK_H, SPARK_W, bar_pct, figure_text, spark_runs, status_text};
use super::view::{Column, Sort, status_name};
use crate::layout::encode_component;

/// One line of a table body: a group's heading or a host.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// A group's tag value (`None`: hosts without the tag) and how many hosts it holds.
    Head(Option<String>, usize),
    /// A host.
    Host(Box<HostRow>),
}

/// `text` safe inside an element or a double-quoted attribute.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The header's counts.
pub fn counts(c: FleetCounts) -> String {
    format!(
        r#"<span class="count-up">{} up</span><span class="count-stale">{} stale</span><span class="count-down">{} down</span><span class="count-alerting">{} alerting</span>"#,
        c.up, c.stale, c.down, c.alerting
    )
}

/// The headings' row: each a button that sorts by its column (`data-sort`), with `aria-sort`.
pub fn heads(sort: Sort) -> String {
    let mut out = String::from("<tr>");
    for c in Column::ALL {
        let _ = write!(
            out,
            r#"<th scope="col" class="col-{key}" aria-sort="{}"><button type="button" class="sort" data-sort="{key}">{}</button></th>"#,
            sort.aria(c),
            c.head(),
            key = c.key()
        );
    }
    out.push_str(
        r#"<th scope="col" class="col-spark">CPU trend</th><th scope="col" class="col-alerts">Alerts</th></tr>"#,
    );
    out
}

/// The markup of `lines` (the `<tr>`s of one body), with host links under `base`, "since" at `now`.
pub fn body(lines: &[Line], base: &str, now: u64) -> String {
    let mut out = String::with_capacity(lines.len() * 900);
    for line in lines {
        match line {
            Line::Head(value, n) => {
                let value = value.as_deref().map_or_else(|| "(no tag)".to_owned(), esc);
                let _ =
                    write!(out, r#"<tr class="group-head"><th scope="rowgroup" colspan="11">{value} · {n}</th></tr>"#);
            }
            Line::Host(row) => host(&mut out, row, base, now),
        }
    }
    out
}

fn host(out: &mut String, row: &HostRow, base: &str, now: u64) {
    let id = esc(row.id());
    let href = esc(&format!("{base}/?host={}", encode_component(row.id())));
    let status = status_name(row.status);
    let _ = write!(
        out,
        r#"<tr class="host host-{status}" data-host="{id}" data-status="{status}" data-href="{href}"><th scope="row" class="col-name"><a href="{href}">{}</a>"#,
        esc(&row.name)
    );
    if !row.tags.is_empty() {
        let tags: Vec<String> = row.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = write!(out, r#"<span class="tags">{}</span>"#, esc(&tags.join(" ")));
    }
    let _ = write!(
        out,
        r#"</th><td class="col-status"><span class="dot" aria-hidden="true"></span>{}</td>"#,
        status_text(row.status, row.since_ms, now)
    );
    for i in 0..7 {
        let _ = write!(
            out,
            r#"<td class="fig col-{}"><span class="num">{}</span>"#,
            Column::Figure(i).key(),
            esc(&figure_text(row, i))
        );
        if let Some(w) = bar_pct(row, i) {
            let level = if w >= 90.0 {
                " crit"
            } else if w >= 75.0 {
                " warn"
            } else {
                ""
            };
            let _ = write!(
                out,
                r#"<svg class="bar" viewBox="0 0 100 4" preserveAspectRatio="none" aria-hidden="true"><rect class="bar-bg" width="100" height="4"></rect><rect class="bar-fill{level}" width="{}" height="4"></rect></svg>"#,
                w.round() as u32
            );
        }
        out.push_str("</td>");
    }
    let _ = write!(
        out,
        r#"<td class="col-spark"><svg class="cpu-spark" viewBox="0 0 {SPARK_W} {SPARK_H}" aria-hidden="true">"#
    );
    for run in spark_runs(&row.cpu_spark) {
        let _ = write!(out, r#"<polyline points="{run}"></polyline>"#);
    }
    out.push_str(r#"</svg></td><td class="col-alerts">"#);
    if row.alerting > 0 {
        let _ = write!(out, r#"<span class="alerting" title="alerts firing">▲ {}</span>"#, row.alerting);
    }
    out.push_str("</td></tr>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::table::tests::row;
    use livedash::fleet::HostStatus;

    #[test]
    fn headings_say_how_the_table_is_sorted() {
        let html = heads(Sort::default().clicked(Column::Figure(1)));
        assert!(html.contains(r#"<th scope="col" class="col-mem_pct" aria-sort="descending"><button type="button" class="sort" data-sort="mem_pct">Memory</button></th>"#), "{html}");
        assert_eq!(html.matches(r#"aria-sort="none""#).count(), 8);
        assert!(counts(FleetCounts { up: 3, stale: 0, down: 1, alerting: 2 }).contains(">1 down<"));
    }

    #[test]
    fn rows_are_markup_with_everything_from_the_wire_escaped() {
        let mut r = row("<b>web\"1", HostStatus::Down, Some(95.0), &[("env", "a&b")]);
        r.source = "web 1".into();
        r.alerting = 3;
        r.cpu_spark = vec![10.0, 20.0];
        let html = body(&[Line::Head(Some("<prod>".into()), 1), Line::Host(Box::new(r))], "/dash", 240_000);
        assert!(html.contains(r#"<th scope="rowgroup" colspan="11">&lt;prod&gt; · 1</th>"#), "{html}");
        assert!(html.contains(r#"data-host="web 1" data-status="down" data-href="/dash/?host=web%201""#), "{html}");
        assert!(html.contains(">&lt;b&gt;web&quot;1</a>"), "{html}");
        assert!(html.contains(r#"<span class="tags">env=a&amp;b</span>"#), "{html}");
        assert!(html.contains("down 4\u{a0}min</td>"), "{html}");
        assert!(html.contains(r#"<rect class="bar-fill crit" width="95""#), "{html}");
        assert!(html.contains(r#"<polyline points="0,14 60,13">"#), "{html}");
        assert!(html.contains("▲ 3"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
    }
}
