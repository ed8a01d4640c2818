//! Writes synthetic history into a store file fast, as the store itself would have kept it after
//! `SPAN` of sampling every second: raw chunks for the last `RAW_FOR`, 1-minute roll-ups for the
//! last 30 days, 1-hour roll-ups for every ended day. For sizing and query benchmarks
//! (scripts/bench-store.sh); a year of 200 series takes minutes.
//!
//!   cargo run --release -p livedash-server --example fill_store -- PATH PROFILE SPAN [RAW_FOR [SOURCE]]
//!
//! PROFILE: `local` (this machine's series: percentages, bytes, load, rates, uptime) or
//! `wide:N` (N series, half percentages and half plain numbers, two decimals each).
//! `FILL_DOWN=3d..2d` leaves the server "down" from 3 days ago to 2 days ago: no data, and two
//! lives of the server around it (the end-to-end tests' gap).
//! `FILL_OPENMETRICS=FILE` also writes every point sampled over `SPAN` (what the raw tier holds
//! when `RAW_FOR` is at least `SPAN`) to FILE as OpenMetrics text, for
//! `promtool tsdb create-blocks-from openmetrics` (scripts/bench-history.sh): one gauge per series,
//! its name with every character outside `[a-zA-Z0-9_]` made `_`, labelled `source="SOURCE"`.
//! Prints JSON: points, chunks, bytes per raw point, file size, the range written (`from_ms`,
//! `to_ms`), and the points written to FILL_OPENMETRICS.

// A command-line tool: its result is what it prints.
#![allow(clippy::print_stdout)]

use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::Duration;

use livedash_server::store::maintain::{self, DAY_MS, QUARTER_MS};
use livedash_server::store::{Bucket, Point, Tier, codec, db, rollup};
use rusqlite::params;

/// A small, fast, seeded random number generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// How one synthetic series moves.
#[derive(Clone, Copy)]
enum Shape {
    /// A random walk in 0..100 with two decimals.
    Percent,
    /// A random walk with two decimals, around `scale`.
    Walk(f64),
    /// Whole bytes drifting slowly around `scale`.
    Bytes(f64),
    /// A constant.
    Constant(f64),
    /// A counter going up one a second.
    Counter,
    /// Mostly small whole numbers with bursts (a network rate).
    Bursty,
}

fn profile(name: &str) -> Vec<(String, Shape)> {
    if let Some(n) = name.strip_prefix("wide:").and_then(|n| n.parse::<usize>().ok()) {
        return (0..n)
            .map(
                |i| {
                    if i % 2 == 0 {
                        (format!("s{i}_pct"), Shape::Percent)
                    } else {
                        (format!("s{i}"), Shape::Walk(500.0))
                    }
                },
            )
            .collect();
    }
    let gib = 1024.0 * 1024.0 * 1024.0;
    [
        ("cpu_pct", Shape::Percent),
        ("cpu_core_pct.0", Shape::Percent),
        ("cpu_core_pct.1", Shape::Percent),
        ("mem_pct", Shape::Percent),
        ("mem_used_bytes", Shape::Bytes(6.0 * gib)),
        ("mem_total_bytes", Shape::Constant(16.0 * gib)),
        ("load_avg.0", Shape::Walk(1.0)),
        ("load_avg.1", Shape::Walk(1.0)),
        ("load_avg.2", Shape::Walk(1.0)),
        ("net_rx_bytes_per_s", Shape::Bursty),
        ("net_tx_bytes_per_s", Shape::Bursty),
        ("disk_pct", Shape::Percent),
        ("disk_used_bytes", Shape::Bytes(200.0 * gib)),
        ("disk_total_bytes", Shape::Constant(500.0 * gib)),
        ("uptime_s", Shape::Counter),
    ]
    .into_iter()
    .map(|(n, s)| (n.to_owned(), s))
    .collect()
}

/// The next value of a series of `shape` after `last`, at second `i`.
fn step(shape: Shape, last: f64, i: u64, rng: &mut Rng) -> f64 {
    let round2 = |x: f64| (x * 100.0).round() / 100.0;
    match shape {
        Shape::Percent => round2((last + (rng.next() - 0.5) * 4.0).clamp(0.0, 100.0)),
        Shape::Walk(scale) => round2((last + (rng.next() - 0.5) * scale * 0.02).max(0.0)),
        Shape::Bytes(scale) => (last + ((rng.next() - 0.5) * scale * 0.0005).round()).max(0.0),
        Shape::Constant(v) => v,
        Shape::Counter => i as f64,
        Shape::Bursty => {
            if rng.next() < 0.05 {
                (rng.next() * 2e6).round()
            } else {
                (rng.next() * 3000.0).round()
            }
        }
    }
}

fn start_value(shape: Shape, rng: &mut Rng) -> f64 {
    match shape {
        Shape::Percent => (rng.next() * 100.0).round(),
        Shape::Walk(scale) | Shape::Bytes(scale) | Shape::Constant(scale) => scale,
        Shape::Counter | Shape::Bursty => 0.0,
    }
}

/// A Prometheus metric name for series `name`: `[a-zA-Z_][a-zA-Z0-9_]*`.
fn metric_name(name: &str) -> String {
    let mut out: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// `value` as an OpenMetrics label value (quoted, with `\`, `"` and newlines escaped).
fn label_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Writes one series' points as OpenMetrics samples (timestamps in seconds).
fn write_samples(out: &mut impl Write, series: &str, points: &[Point]) -> std::io::Result<()> {
    for p in points {
        let (s, ms) = (p.t / 1000, p.t % 1000);
        if ms == 0 {
            writeln!(out, "{series} {} {s}", p.v)?;
        } else {
            writeln!(out, "{series} {} {s}.{ms:03}", p.v)?;
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, profile_name, span, rest @ ..] = args.as_slice() else {
        return Err("usage: fill_store PATH PROFILE SPAN [RAW_FOR [SOURCE]]".into());
    };
    let span = humantime::parse_duration(span)?;
    let raw_for = rest.first().map_or(Ok(Duration::from_secs(86_400)), |r| humantime::parse_duration(r))?;
    // The source the series are filed under (`synthetic`, or `local` to stand behind a live one).
    let source = rest.get(1).map_or("synthetic", String::as_str);
    let minute_for = Duration::from_secs(30 * 86_400);
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    // Up to the last quarter that ended: the live server writes from there on.
    let now = livedash_server::clock::now_ms() / QUARTER_MS * QUARTER_MS;
    let first = now.saturating_sub(ms(span)) / QUARTER_MS * QUARTER_MS;
    let down = match std::env::var("FILL_DOWN") {
        Ok(v) => {
            let (from, to) = v.split_once("..").ok_or("FILL_DOWN: FROM..TO, e.g. 3d..2d")?;
            let ago =
                |d: &str| humantime::parse_duration(d).map(|d| now.saturating_sub(ms(d)) / QUARTER_MS * QUARTER_MS);
            Some((ago(from)?, ago(to)?))
        }
        Err(_) => None,
    };
    let mut openmetrics = std::env::var_os("FILL_OPENMETRICS")
        .map(File::create)
        .transpose()?
        .map(|f| BufWriter::with_capacity(1 << 20, f));
    let mut openmetrics_points = 0u64;
    let conn = db::open_writer(std::path::Path::new(path))?;
    let started = std::time::Instant::now();
    let (mut raw_points, mut chunks, mut raw_bytes) = (0u64, 0u64, 0u64);
    for (n, (name, shape)) in profile(profile_name).into_iter().enumerate() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (n as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9));
        let tx = conn.unchecked_transaction()?;
        let id = db::series_id(&tx, source, &name)?;
        let mut value = start_value(shape, &mut rng);
        let metric = metric_name(&name);
        let labelled = format!("{metric}{{source={}}}", label_value(source));
        if let Some(out) = openmetrics.as_mut() {
            writeln!(out, "# TYPE {metric} gauge")?;
        }
        let mut day: Vec<Bucket> = Vec::new();
        let mut quarter = first;
        while quarter < now {
            if down.is_some_and(|(a, b)| quarter >= a && quarter < b) {
                quarter += QUARTER_MS;
                continue;
            }
            let points: Vec<Point> = (0..QUARTER_MS / 1000)
                .map(|s| {
                    let t = quarter + s * 1000;
                    value = step(shape, value, (t - first) / 1000, &mut rng);
                    Point { t, v: value }
                })
                .collect();
            if let Some(out) = openmetrics.as_mut() {
                write_samples(out, &labelled, &points)?;
                openmetrics_points += points.len() as u64;
            }
            let minutes = rollup::roll(&points, Tier::Minute.width_ms());
            if quarter + ms(raw_for) >= now {
                let blob = codec::encode_points(&points);
                raw_bytes += blob.len() as u64;
                raw_points += points.len() as u64;
                maintain::put(&tx, id, Tier::Raw, quarter, quarter + QUARTER_MS, points.len(), &blob)?;
                chunks += 1;
            }
            if quarter + ms(minute_for) >= now {
                maintain::put(
                    &tx,
                    id,
                    Tier::Minute,
                    quarter,
                    quarter + QUARTER_MS,
                    minutes.len(),
                    &codec::encode_buckets(&minutes),
                )?;
                chunks += 1;
            }
            day.extend(minutes);
            quarter += QUARTER_MS;
            if quarter.is_multiple_of(DAY_MS) && !day.is_empty() {
                // A day that ended (the first may have begun part way through).
                let hours = rollup::merge(&day, Tier::Hour.width_ms());
                let start = quarter - DAY_MS;
                maintain::put(&tx, id, Tier::Hour, start, quarter, hours.len(), &codec::encode_buckets(&hours))?;
                chunks += 1;
                day.clear();
            }
        }
        tx.commit()?;
    }
    let runs = match down {
        Some((a, b)) => vec![(first, a), (b, now)],
        None => vec![(first, now)],
    };
    for (start, last) in runs {
        conn.execute("INSERT OR REPLACE INTO run (start, last) VALUES (?1, ?2)", params![start as i64, last as i64])?;
    }
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    if let Some(mut out) = openmetrics {
        writeln!(out, "# EOF")?;
        out.flush()?;
    }
    let file = std::fs::metadata(path)?.len();
    println!(
        "{{\"tool\":\"fill_store\",\"profile\":\"{profile_name}\",\"span_s\":{},\"raw_points\":{raw_points},\"chunks\":{chunks},\
         \"raw_bytes_per_point\":{:.3},\"file_bytes\":{file},\"from_ms\":{first},\"to_ms\":{now},\
         \"openmetrics_points\":{openmetrics_points},\"seconds\":{:.1}}}",
        span.as_secs(),
        raw_bytes as f64 / raw_points.max(1) as f64,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
