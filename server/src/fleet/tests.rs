//! Tests of the node_exporter figures on two real scrapes of Debian's `prometheus-node-exporter`
//! 1.5.0 (`server/tests/fixtures/node_a.prom`, `node_b.prom`), taken 2.0 s apart on a busy 2-CPU
//! VM whose only interface but `lo` was quiet, trimmed to the families the figures read plus a
//! few namesakes (`node_load15`, `node_cpu_guest_seconds_total`, ...) that must not be mistaken
//! for them; and live against a node_exporter started here, compared with the `local` source.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::node::{FiguresError, NodeFigures};
use super::{HostFigures, local_figures};
use crate::sources::local::LocalSource;

const A: &str = include_str!("../../tests/fixtures/node_a.prom");
const B: &str = include_str!("../../tests/fixtures/node_b.prom");

/// A second, simpler reading of a body: every series line as (name, labels text, value).
fn series(body: &str) -> Vec<(String, String, f64)> {
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (key, value) = l.rsplit_once(' ').unwrap();
            let (name, labels) = key.split_once('{').unwrap_or((key, ""));
            (name.to_owned(), labels.to_owned(), value.parse().unwrap())
        })
        .collect()
}

fn sum(body: &str, name: &str, keep: impl Fn(&str) -> bool) -> f64 {
    series(body).iter().filter(|(n, l, _)| n == name && keep(l)).map(|s| s.2).sum()
}

fn one(body: &str, name: &str) -> f64 {
    sum(body, name, |_| true)
}

/// The figures of a → b computed by hand from the text.
fn expected(a: &str, b: &str) -> HostFigures {
    let not_busy = |body| {
        sum(body, "node_cpu_seconds_total", |l| {
            ["idle", "iowait", "steal"].iter().any(|m| l.contains(&format!("mode=\"{m}\"")))
        })
    };
    let all = |body| one(body, "node_cpu_seconds_total");
    let secs = one(b, "node_time_seconds") - one(a, "node_time_seconds");
    let net = |name| {
        let total = |body| sum(body, name, |l| !l.contains("device=\"lo\""));
        (total(b) - total(a)) / secs
    };
    let root = |name| sum(b, name, |l| l.contains("mountpoint=\"/\""));
    HostFigures {
        cpu_pct: Some(100.0 * (1.0 - (not_busy(b) - not_busy(a)) / (all(b) - all(a)))),
        mem_pct: Some(100.0 * (1.0 - one(b, "node_memory_MemAvailable_bytes") / one(b, "node_memory_MemTotal_bytes"))),
        disk_pct: Some(100.0 * (1.0 - root("node_filesystem_avail_bytes") / root("node_filesystem_size_bytes"))),
        load1: Some(one(b, "node_load1")),
        net_in_bps: Some(net("node_network_receive_bytes_total")),
        net_out_bps: Some(net("node_network_transmit_bytes_total")),
        uptime_s: Some(one(b, "node_time_seconds") - one(b, "node_boot_time_seconds")),
    }
}

/// The two fixtures fed at the instants node_exporter's own clock says they were taken.
fn two_scrapes(a: &str, b: &str) -> (HostFigures, HostFigures) {
    let secs = one(b, "node_time_seconds") - one(a, "node_time_seconds");
    let t0 = Instant::now();
    let mut node = NodeFigures::new();
    let first = node.observe_text(a, t0).unwrap();
    let second = node.observe_text(b, t0 + Duration::from_secs_f64(secs)).unwrap();
    (first, second)
}

fn close(got: Option<f64>, want: Option<f64>, what: &str) {
    match (got, want) {
        (Some(g), Some(w)) => assert!((g - w).abs() <= 1e-6 * w.abs().max(1.0), "{what}: {g} != {w}"),
        _ => assert_eq!(got, want, "{what}"),
    }
}

fn assert_figures(got: &HostFigures, want: &HostFigures) {
    let names = ["cpu_pct", "mem_pct", "disk_pct", "load1", "net_in_bps", "net_out_bps", "uptime_s"];
    for ((g, w), name) in got.columns().into_iter().zip(want.columns()).zip(names) {
        close(g, w, name);
    }
}

fn assert_sane(f: &HostFigures) {
    for v in [f.cpu_pct, f.mem_pct, f.disk_pct].into_iter().flatten() {
        assert!((0.0..=100.0).contains(&v), "{f:?}");
    }
    for v in [f.load1, f.net_in_bps, f.net_out_bps, f.uptime_s].into_iter().flatten() {
        assert!(v >= 0.0 && v.is_finite(), "{f:?}");
    }
}

#[test]
fn two_real_scrapes_give_the_figures_computed_by_hand() {
    let (first, second) = two_scrapes(A, B);
    // The first scrape has everything but the rates.
    let mut want_first = expected(A, A);
    (want_first.cpu_pct, want_first.net_in_bps, want_first.net_out_bps) = (None, None, None);
    assert_figures(&first, &want_first);
    assert_figures(&second, &expected(A, B));
    assert_sane(&first);
    assert_sane(&second);
    // The values, for a reader: a VM busy building (not quite 100 %), its root 90 % used (with
    // 173 GB reserved: `df` says 73 %), eth0 quiet.
    let cpu = second.cpu_pct.unwrap();
    assert!(cpu > 90.0 && cpu < 100.0, "the building VM's CPU: {cpu}");
    assert!(second.uptime_s.unwrap() > 3600.0 && second.net_in_bps == Some(0.0), "{second:?}");
}

#[test]
fn a_parsed_scrape_gives_the_same_figures_as_its_text() {
    let parse = |body: &str| prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_owned()))).unwrap();
    let secs = one(B, "node_time_seconds") - one(A, "node_time_seconds");
    let t0 = Instant::now();
    let mut node = NodeFigures::new();
    node.observe_samples(&parse(A).samples, t0);
    let second = node.observe_samples(&parse(B).samples, t0 + Duration::from_secs_f64(secs));
    assert_figures(&second, &two_scrapes(A, B).1);
}

/// `body` with the value of the series line starting with `prefix` replaced by `value`.
fn with_value(body: &str, prefix: &str, value: &str) -> String {
    let mut found = false;
    let out = body
        .lines()
        .map(|l| {
            if l.starts_with(prefix) {
                found = true;
                format!("{} {value}", l.rsplit_once(' ').unwrap().0)
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(found, "no line {prefix}");
    out
}

#[test]
fn a_counter_reset_gives_no_rate_for_that_step_only() {
    let t0 = Instant::now();
    let mut node = NodeFigures::new();
    node.observe_text(A, t0).unwrap();
    // eth0's receive counter restarts (a driver reload): no network rates, the CPU is unaffected.
    let reset = with_value(B, "node_network_receive_bytes_total{device=\"eth0\"}", "1000");
    let f = node.observe_text(&reset, t0 + Duration::from_secs(1)).unwrap();
    assert_eq!((f.net_in_bps, f.net_out_bps), (None, None), "{f:?}");
    assert!(f.cpu_pct.is_some(), "{f:?}");
    // The next step counts from the reset value: a real, non-negative rate again.
    let after = with_value(B, "node_network_receive_bytes_total{device=\"eth0\"}", "3000");
    let f = node.observe_text(&after, t0 + Duration::from_secs(3)).unwrap();
    close(f.net_in_bps, Some(1000.0), "rate after the reset");
    // A CPU counter going down (a CPU taken offline and back) gives no CPU figure for that step.
    let cpu_reset = with_value(&after, "node_cpu_seconds_total{cpu=\"1\",mode=\"user\"}", "5");
    let f = node.observe_text(&cpu_reset, t0 + Duration::from_secs(4)).unwrap();
    assert_eq!(f.cpu_pct, None, "{f:?}");
    assert_sane(&f);
}

#[test]
fn iowait_and_steal_count_as_idle() {
    let secs = one(B, "node_time_seconds") - one(A, "node_time_seconds");
    let busy = |body: &str| {
        let t0 = Instant::now();
        let mut node = NodeFigures::new();
        node.observe_text(A, t0).unwrap();
        node.observe_text(body, t0 + Duration::from_secs_f64(secs)).unwrap().cpu_pct.unwrap()
    };
    // One more second of a CPU's time spent in each mode, over two CPUs' ~4 s: idle-like modes
    // lower the figure, user time raises it.
    let bump = |mode: &str| {
        let prefix = format!("node_cpu_seconds_total{{cpu=\"0\",mode=\"{mode}\"}}");
        let value = sum(B, "node_cpu_seconds_total", |l| l == format!("cpu=\"0\",mode=\"{mode}\"}}")) + 1.0;
        busy(&with_value(B, &prefix, &value.to_string()))
    };
    let base = busy(B);
    for mode in ["idle", "iowait", "steal"] {
        assert!(bump(mode) < base - 10.0, "{mode}: {} vs {base}", bump(mode));
    }
    assert!(bump("user") > base, "user: {} vs {base}", bump("user"));
}

#[test]
fn a_series_appearing_or_vanishing_gives_no_rate_for_that_step() {
    let t0 = Instant::now();
    let mut node = NodeFigures::new();
    node.observe_text(A, t0).unwrap();
    // A new interface with a large counter (plugged in, or a VPN up): no jump in the rate.
    let more = format!("{B}\nnode_network_receive_bytes_total{{device=\"wg0\"}} 9e12\n");
    let f = node.observe_text(&more, t0 + Duration::from_secs(1)).unwrap();
    assert_eq!(f.net_in_bps, None, "{f:?}");
    assert!(f.cpu_pct.is_some());
}

#[test]
fn a_missing_metric_is_unknown_alone() {
    let without = |body: &str, name: &str| body.lines().filter(|l| !l.contains(name)).collect::<Vec<_>>().join("\n");
    let (_, full) = two_scrapes(A, B);
    for (name, column) in [
        ("node_load1", 3),
        ("node_memory_MemAvailable_bytes", 1),
        ("node_filesystem_avail_bytes", 2),
        ("node_boot_time_seconds", 6),
        ("node_network_transmit_bytes_total", usize::MAX),
        ("node_cpu_seconds_total", 0),
    ] {
        let (_, f) = two_scrapes(A, &without(B, name));
        for (i, (got, all)) in f.columns().into_iter().zip(full.columns()).enumerate() {
            // Network rx and tx are one reading: without the sent bytes neither rate is known.
            let gone = i == column || (column == usize::MAX && (i == 4 || i == 5));
            if gone {
                assert_eq!(got, None, "{name}: column {i}");
            } else if name != "node_cpu_seconds_total" || i != 0 {
                assert!(got.is_some() && (got == all || i >= 4), "{name}: column {i} {got:?} vs {all:?}");
            }
        }
    }
}

#[test]
fn a_body_without_node_metrics_is_an_error_and_restarts_the_rates() {
    let t0 = Instant::now();
    let mut node = NodeFigures::new();
    node.observe_text(A, t0).unwrap();
    // Only namesakes of the figures' metrics, and livedash's own metrics: nothing to read.
    let body = "node_load15 1\nnode_cpu_guest_seconds_total{cpu=\"0\",mode=\"user\"} 1\nlivedash_clients 3\n";
    assert_eq!(node.observe_text(body, t0 + Duration::from_secs(1)), Err(FiguresError::NoNodeMetrics));
    assert_eq!(node.observe_text("<html>login</html>", t0), Err(FiguresError::NoNodeMetrics));
    let f = node.observe_text(B, t0 + Duration::from_secs(2)).unwrap();
    assert_eq!(f.cpu_pct, None, "no rate across a failed scrape: {f:?}");
    assert!(f.mem_pct.is_some());
}

#[test]
fn a_host_keeps_a_few_bytes_between_scrapes() {
    let size = std::mem::size_of::<NodeFigures>();
    assert!(size <= 80, "{size} bytes per host");
}

/// Debian's node_exporter, if installed; `LIVEDASH_REQUIRE_NODE_EXPORTER=1` makes its absence fail.
fn node_exporter() -> Option<&'static str> {
    let path = "/usr/bin/prometheus-node-exporter";
    let found = std::path::Path::new(path).exists();
    let required = std::env::var_os("LIVEDASH_REQUIRE_NODE_EXPORTER").is_some_and(|v| v == "1");
    assert!(found || !required, "{path} is not installed (apt-get install prometheus-node-exporter)");
    found.then_some(path)
}

/// A plain HTTP/1.0 GET on loopback: the body, or `None` if nothing answers yet.
fn get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.split(' ').nth(1).is_some_and(|code| code == "200").then(|| body.to_owned())
}

/// Stops the process it holds (by its id) when dropped.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
#[allow(clippy::print_stderr)] // a skipped test says why where cargo shows it
fn live_node_exporter_agrees_with_the_local_source() {
    let Some(binary) = node_exporter() else {
        eprintln!("skipped: prometheus-node-exporter is not installed");
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let _exporter = Running(
        std::process::Command::new(binary)
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start node_exporter"),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let first = loop {
        if let Some(body) = get(port, "/metrics") {
            break body;
        }
        assert!(Instant::now() < deadline, "node_exporter did not answer on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut node = NodeFigures::new();
    let mut local = LocalSource::new();
    node.observe_text(&first, Instant::now()).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let exported = node.observe_text(&get(port, "/metrics").unwrap(), Instant::now()).unwrap();
    let here = local_figures(&local.sample());
    assert_sane(&exported);
    assert!(exported.columns().iter().all(Option::is_some), "every figure from a second scrape: {exported:?}");
    let diffs: BTreeMap<&str, f64> =
        [("mem", (exported.mem_pct, here.mem_pct)), ("disk", (exported.disk_pct, here.disk_pct))]
            .into_iter()
            .map(|(k, (a, b))| (k, (a.unwrap() - b.unwrap()).abs()))
            .collect();
    assert!(diffs.values().all(|d| *d <= 3.0), "node_exporter {exported:?} vs local {here:?}: {diffs:?}");
    let uptime = (exported.uptime_s.unwrap() - here.uptime_s.unwrap()).abs();
    assert!(uptime <= 5.0, "uptime differs by {uptime} s");
}
