//! `livedash alerts check`, the real binary over a store filled with a known series: a rule's
//! crossings of known lengths come out as the counts and durations it prints, `--since` reaches
//! back into the 1-minute roll-ups (and says so), a rule matching nothing is named, the store is
//! left as it was, and a bad rule stops the command naming its key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use livedash_server::store::maintain::{self, QUARTER_MS};
use livedash_server::store::{Bucket, Tier, codec, db};
use rusqlite::params;

const SECOND: u64 = 1000;

/// Fills `path` with series `local/cpu_pct`: a value a second for the last 20 minutes (raw,
/// pending), 95 (above 90) for 20 s, 60 s and 120 s at known places and for the last 101 s, else
/// 50; and three days ago, a quarter of 1-minute roll-ups only, 5 minutes of them at 95. Returns
/// the time of the last point.
fn fill(path: &Path) -> u64 {
    let conn = db::open_writer(path).unwrap();
    let id = db::series_id(&conn, "local", "cpu_pct").unwrap();
    // A quiet series beside it, that the rule must not match.
    db::series_id(&conn, "local", "mem_pct").unwrap();
    let now = livedash_server::clock::now_ms() / SECOND * SECOND;
    let (first, last) = (now - 1200 * SECOND, now - 10 * SECOND);
    let high = [(100, 120), (300, 360), (600, 720)];
    let tx = conn.unchecked_transaction().unwrap();
    for t in (first..=last).step_by(1000) {
        let s = (t - first) / SECOND;
        let above = high.iter().any(|&(a, b)| s >= a && s < b) || t + 100 * SECOND >= last;
        let v = if above { 95.0 } else { 50.0 };
        tx.execute("INSERT INTO pending (series, t, v) VALUES (?1, ?2, ?3)", params![id, t as i64, v]).unwrap();
    }
    let quarter = (now - 3 * 86_400_000) / QUARTER_MS * QUARTER_MS;
    let minutes: Vec<Bucket> = (0..15)
        .map(|m| {
            let v = if (5..10).contains(&m) { 95.0 } else { 50.0 };
            Bucket { t: quarter + m * 60_000, min: 40.0, max: v, mean: 45.0, last: 45.0, count: 60 }
        })
        .collect();
    maintain::put(&tx, id, Tier::Minute, quarter, quarter + QUARTER_MS, 15, &codec::encode_buckets(&minutes)).unwrap();
    tx.commit().unwrap();
    last
}

fn config(dir: &Path, store: &Path, rules: &str) -> PathBuf {
    let path = dir.join("livedash.toml");
    let text = format!("store = {:?}\n\n{rules}", store.to_str().unwrap());
    std::fs::write(&path, text).unwrap();
    path
}

fn check(config: &Path, extra: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_livedash"))
        .args(["alerts", "check", "--config"])
        .arg(config)
        .args(extra)
        .env_remove("LIVEDASH_STORE")
        .env_remove("LIVEDASH_CONFIG")
        .output()
        .expect("run livedash alerts check")
}

const RULES: &str = r#"
[[alert]]
name = "cpu busy"
source = "local"
series = "cpu_*"
above = 90
for = "30s"
severity = "critical"

[[alert]]
name = "web slow"
source = "web-*"
series = "latency_ms"
above = 500
"#;

/// The words of the table's line for `rule`.
fn row<'a>(out: &'a str, rule: &str) -> Vec<&'a str> {
    let line = out.lines().find(|l| l.starts_with(rule)).unwrap_or_else(|| panic!("no line for {rule}:\n{out}"));
    line[rule.len()..].split_whitespace().collect()
}

#[test]
fn a_known_series_replays_into_the_counts_and_durations_it_must() {
    let dir = common::temp_dir("alerts-check");
    let store = dir.join("history.db");
    fill(&store);
    let before = std::fs::read(&store).unwrap();
    let config = config(&dir, &store, RULES);

    let day = check(&config, &[]);
    let out = String::from_utf8_lossy(&day.stdout);
    assert!(day.status.success(), "{out}\n{}", String::from_utf8_lossy(&day.stderr));
    // 20 s is shorter than `for`; 60 s and 120 s fire for 30 s and 90 s; the last 101 s fire
    // for the last 70 s and still do: three times, 3m 10s in all.
    assert_eq!(row(&out, "cpu busy"), ["local", "cpu_pct", "3", "3m", "10s", "1m", "30s", "yes"], "{out}");
    assert!(!out.contains("mem_pct"), "a series the rule does not match: {out}");
    assert!(out.contains(r#"rule "web slow" matches no stored series"#), "{out}");
    assert!(!out.contains("roll-ups"), "the last day is raw: {out}");

    // A week: the crossing three days ago, kept as 1-minute roll-ups only, fires once more, for
    // the 4 minutes between the bucket after the first one above and the first one below.
    let week = check(&config, &["--since", "7d"]);
    let out = String::from_utf8_lossy(&week.stdout);
    assert!(week.status.success(), "{out}");
    assert_eq!(row(&out, "cpu busy"), ["local", "cpu_pct", "4", "7m", "10s", "4m", "yes"], "{out}");
    assert!(out.contains("1-minute roll-ups (each bucket's highest value): approximate"), "{out}");

    assert_eq!(std::fs::read(&store).unwrap(), before, "the store is only read");
}

#[test]
fn a_bad_rule_stops_the_check_naming_its_key() {
    let dir = common::temp_dir("alerts-check-bad");
    let store = dir.join("history.db");
    fill(&store);
    let bad =
        format!("{RULES}\n[[alert]]\nname = \"odd\"\nsource = \"local\"\nseries = \"x\"\nabove = 1\nfor = \"soon\"\n");
    let out = check(&config(&dir, &store, &bad), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a bad rule is refused");
    assert!(err.contains("alert[2].for"), "the key is named: {err}");
}

#[test]
fn a_missing_store_is_an_error_not_an_empty_table() {
    let dir = common::temp_dir("alerts-check-none");
    let out = check(&config(&dir, &dir.join("absent.db"), RULES), &[]);
    assert!(!out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(!dir.join("absent.db").exists(), "no store is made");
}
