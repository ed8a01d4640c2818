//! Host figures: one small set of columns for every host of a fleet, whatever runs there.
//!
//! | figure | node_exporter host ([`super::NodeFigures`]) | livedash `local` sample ([`local_figures`]) |
//! |---|---|---|
//! | `cpu_pct` | `100 × (1 − Δnot-busy / Δall)` over all CPUs between two scrapes, from `node_cpu_seconds_total`; not-busy is the modes `idle`, `iowait` and `steal` | `cpu_pct` |
//! | `mem_pct` | `100 × (1 − node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)` | `mem_pct` |
//! | `disk_pct` | `100 × (size − avail) / size` of `node_filesystem_{size,avail}_bytes{mountpoint="/"}` | `disk_pct` |
//! | `load1` | `node_load1` | `load_avg[0]` |
//! | `net_in_bps` | `Δ Σ node_network_receive_bytes_total / Δt`, every device but `lo` | `net_rx_bytes_per_s` |
//! | `net_out_bps` | `Δ Σ node_network_transmit_bytes_total / Δt`, every device but `lo` | `net_tx_bytes_per_s` |
//! | `uptime_s` | `node_time_seconds − node_boot_time_seconds` | `uptime_s` |
//!
//! Choices, made so that the two kinds of source agree on the same machine:
//!
//! - **CPU**: `iowait` (a CPU waiting for I/O has nothing to run) and `steal` (time the hypervisor
//!   gave another guest) count as idle, as node_exporter's own mixin does
//!   (`instance:node_cpu_utilisation:rate5m`, modes `idle|iowait|steal`) and as `sysinfo` (the
//!   `local` source) does. Grafana's "Node Exporter Full" *CPU Busy* panel counts only `idle` and
//!   so reads higher on a host waiting for its disk or its hypervisor. Dividing by the sum of all
//!   modes (not by wall time × CPUs) keeps the figure in 0..=100 whatever the counters' rounding.
//! - **Memory**: "available" is the kernel's estimate of what new work can get without swapping
//!   (page cache counts as free), the same as `free`'s `available` column and `sysinfo`.
//! - **Disk**: the root filesystem, `size` and `avail` as `df` shows them: what is not
//!   available to ordinary users counts as used, reserved blocks included, so the figure reaches
//!   100 exactly when nothing more can be written, and it agrees with the `local` source (sysinfo's
//!   available space). `df`'s `Use%` divides `used` by `used + avail` instead and reads lower
//!   where many blocks are reserved: on the machine the test bodies come from, 73 % for `df` and
//!   90 % here (173 of 270 GB reserved). If `/` appears twice (a `rootfs` entry), the entry whose
//!   fstype is not `rootfs` is used. The `local` source's `disk_pct` covers every local
//!   filesystem (each device once): the root alone on a one-disk host, more on others.
//! - **Network**: every interface but loopback, as node_exporter's mixin
//!   (`..._excluding_lo`) and the `local` source do. Virtual interfaces (bridges, `veth`, VPN
//!   tunnels) are counted: node_exporter's counter does not say which are virtual, and a name list
//!   would guess; traffic forwarded through one is counted on each interface it crosses.
//! - **Rates** need two consecutive readings: `None` on the first scrape, for a step where the
//!   sum went down (a counter reset, a CPU or interface gone), where the set of series changed
//!   size, or where the rate is not finite; never a negative rate. A scrape missing a metric
//!   gives `None` for that figure only (and its rate restarts from the next reading).
//! - Percentages are clamped to 0..=100; a non-finite value is `None`.

use livedash::settings::SeriesRule;
use serde_json::Value;

pub use livedash::fleet::HostFigures;

/// The figures of one sample of a livedash `local` source (its `data` object: `cpu_pct`,
/// `mem_pct`, `disk_pct`, `load_avg`, `net_rx_bytes_per_s`, `net_tx_bytes_per_s`, `uptime_s`),
/// from this machine or another livedash. A key that is absent or not a finite number is `None`.
pub fn local_figures(data: &Value) -> HostFigures {
    let number = |v: Option<&Value>| v.and_then(Value::as_f64).filter(|v| v.is_finite());
    let key = |k: &str| number(data.get(k));
    HostFigures {
        cpu_pct: key("cpu_pct").map(percent),
        mem_pct: key("mem_pct").map(percent),
        disk_pct: key("disk_pct").map(percent),
        load1: number(data.get("load_avg").and_then(|l| l.get(0))).filter(|l| *l >= 0.0),
        net_in_bps: key("net_rx_bytes_per_s").filter(|r| *r >= 0.0),
        net_out_bps: key("net_tx_bytes_per_s").filter(|r| *r >= 0.0),
        uptime_s: key("uptime_s").filter(|u| *u >= 0.0),
    }
}

/// The figures of a `local` sample's `data` as JSON text (a `sample` frame's `data` from another
/// livedash's WebSocket). Text that is not JSON is an error; odd keys are `None` as above.
pub fn local_figures_json(data: &str) -> Result<HostFigures, serde_json::Error> {
    serde_json::from_str::<Value>(data).map(|v| local_figures(&v))
}

/// A percentage held to 0..=100.
pub(crate) fn percent(v: f64) -> f64 {
    v.clamp(0.0, 100.0)
}

/// How a fleet host's dashboard shows its figures' series, where their names alone would not say
/// it (`_bps` is bits as often as bytes): the labels and units its cards take.
pub fn figure_rules() -> Vec<SeriesRule> {
    let rule = |pattern: &str, label: &str, unit: Option<&str>| SeriesRule {
        pattern: pattern.to_owned(),
        label: Some(label.to_owned()),
        unit: unit.map(str::to_owned),
        ..SeriesRule::default()
    };
    vec![
        rule("cpu_pct", "CPU busy", Some("percent")),
        rule("mem_pct", "Memory used", Some("percent")),
        rule("disk_pct", "Root disk used", Some("percent")),
        rule("load1", "Load 1 min", None),
        rule("net_in_bps", "Network in", Some("bytes/s")),
        rule("net_out_bps", "Network out", Some("bytes/s")),
        rule("uptime_s", "Uptime", Some("seconds")),
        rule("up", "Up", None),
        rule("scrape_duration_s", "Fetch time", Some("seconds")),
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::json;

    use super::*;
    use crate::sources::local::LocalSource;

    #[test]
    fn a_local_sample_maps_key_by_key() {
        let data = json!({
            "host": "box", "cpu_pct": 12.5, "cpu_core_pct": [10.0, 15.0], "mem_pct": 40.25,
            "disk_pct": 73.1, "load_avg": [0.5, 0.4, 0.3], "net_rx_bytes_per_s": 1200.0,
            "net_tx_bytes_per_s": 300, "uptime_s": 86_400
        });
        let f = local_figures(&data);
        assert_eq!(
            f,
            HostFigures {
                cpu_pct: Some(12.5),
                mem_pct: Some(40.25),
                disk_pct: Some(73.1),
                load1: Some(0.5),
                net_in_bps: Some(1200.0),
                net_out_bps: Some(300.0),
                uptime_s: Some(86_400.0),
            }
        );
    }

    #[test]
    fn missing_or_odd_keys_are_unknown_or_held() {
        let f = local_figures(&json!({"cpu_pct": "busy", "mem_pct": 130.0, "load_avg": [], "net_rx_bytes_per_s": -5}));
        assert_eq!(f, HostFigures { mem_pct: Some(100.0), ..HostFigures::default() });
        assert_eq!(local_figures(&json!([1, 2])), HostFigures::default());
    }

    #[test]
    fn a_sample_frames_data_reads_as_text() {
        let frame =
            r#"{"type":"sample","seq":7,"source":"local","ts_ms":1,"data":{"cpu_pct":3.5,"load_avg":[0.1,0,0]}}"#;
        let sample: livedash::Sample = serde_json::from_str(frame).unwrap();
        let f = local_figures_json(sample.data.get()).unwrap();
        assert_eq!(f, HostFigures { cpu_pct: Some(3.5), load1: Some(0.1), ..HostFigures::default() });
        assert!(local_figures_json("{\"cpu_pct\": 1").is_err());
    }

    #[test]
    fn this_machines_local_source_gives_every_figure() {
        let mut source = LocalSource::new();
        std::thread::sleep(std::time::Duration::from_millis(200));
        let f = local_figures(&source.sample());
        for (name, v) in [("cpu", f.cpu_pct), ("mem", f.mem_pct), ("disk", f.disk_pct)] {
            let v = v.unwrap_or_else(|| panic!("{name} missing: {f:?}"));
            assert!((0.0..=100.0).contains(&v), "{name} {v}");
        }
        assert!(f.load1.is_some_and(|l| l >= 0.0) && f.uptime_s.is_some_and(|u| u > 0.0), "{f:?}");
        assert!(f.net_in_bps.is_some_and(|r| r >= 0.0) && f.net_out_bps.is_some_and(|r| r >= 0.0), "{f:?}");
    }

    #[test]
    fn every_figure_has_a_rule_with_a_unit_the_settings_know() {
        let rules = figure_rules();
        for figure in livedash::fleet::FIGURES.iter().chain(&["up", "scrape_duration_s"]) {
            let rule = rules.iter().find(|r| r.pattern == *figure).unwrap_or_else(|| panic!("no rule for {figure}"));
            if let Some(unit) = &rule.unit {
                assert!(livedash::series::Unit::from_name(unit).is_some(), "{figure}: unknown unit {unit}");
            }
        }
        let net = rules.iter().find(|r| r.pattern == "net_in_bps").and_then(|r| r.unit.as_deref());
        assert_eq!(net.and_then(livedash::series::Unit::from_name), Some(livedash::series::Unit::BytesPerSec));
    }
}
