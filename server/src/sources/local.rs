//! The `local` source: this machine's CPU (total and per core), memory, swap, load average,
//! network rx/tx rate, disk use and uptime, read with `sysinfo`.
//!
//! Series names follow the unit suffixes of `livedash::series` so the page labels and formats
//! them without configuration. Memory, swap and disk come both as used and total bytes (the
//! defaults of `livedash::settings::local_defaults` show the share of one in the other) and as a
//! percentage.

use std::collections::BTreeSet;
use std::time::Instant;

use serde_json::{Map, Value, json};
use sysinfo::{Disks, Networks, System};

/// A sampler holding the previous readings that rates and CPU usage are computed against.
pub struct LocalSource {
    system: Option<System>,
    networks: Option<Networks>,
    disks: Option<Disks>,
    host: Option<String>,
    last: Instant,
}

impl Default for LocalSource {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalSource {
    /// A sampler primed with a first reading, so the first sample already has rates.
    pub fn new() -> Self {
        let mut system = System::new().ok();
        if let Some(s) = system.as_mut() {
            s.refresh_cpu_usage();
            s.refresh_memory();
        }
        Self {
            system,
            networks: Networks::new_with_refreshed_list().ok(),
            disks: Disks::new_with_refreshed_list().ok(),
            host: System::host_name().ok(),
            last: Instant::now(),
        }
    }

    /// One sample, as a JSON object. Whatever this platform cannot tell is left out.
    pub fn sample(&mut self) -> Value {
        let now = Instant::now();
        let secs = now.duration_since(self.last).as_secs_f64().max(1e-3);
        self.last = now;
        let mut out = Map::new();
        if let Some(host) = &self.host {
            out.insert("host".into(), json!(host));
        }
        if let Some(system) = self.system.as_mut() {
            system.refresh_cpu_usage();
            system.refresh_memory();
            out.insert("cpu_pct".into(), json!(round2(f64::from(system.global_cpu_usage()))));
            let cores: Vec<f64> = system.cpus().iter().map(|c| round2(f64::from(c.usage()))).collect();
            out.insert("cpu_core_pct".into(), json!(cores));
            let (total, used) = (system.total_memory(), system.used_memory());
            if total > 0 {
                out.insert("mem_pct".into(), json!(pct(used, total)));
                out.insert("mem_used_bytes".into(), json!(used));
                out.insert("mem_total_bytes".into(), json!(total));
            }
            let (total, used) = (system.total_swap(), system.used_swap());
            if total > 0 {
                out.insert("swap_pct".into(), json!(pct(used, total)));
                out.insert("swap_used_bytes".into(), json!(used));
                out.insert("swap_total_bytes".into(), json!(total));
            }
        }
        if let Ok(load) = System::load_average() {
            out.insert("load_avg".into(), json!([load.one, load.five, load.fifteen]));
        }
        if let Some(networks) = self.networks.as_mut() {
            networks.refresh(true);
            // Loopback traffic is this machine talking to itself, not network use.
            let (rx, tx) = networks
                .iter()
                .filter(|(name, _)| *name != "lo")
                .fold((0u64, 0u64), |(rx, tx), (_, n)| (rx + n.received(), tx + n.transmitted()));
            out.insert("net_rx_bytes_per_s".into(), json!(rate(rx, secs)));
            out.insert("net_tx_bytes_per_s".into(), json!(rate(tx, secs)));
        }
        if let Some(disks) = self.disks.as_mut() {
            disks.refresh(true);
            // Each filesystem once (bind mounts and overlays repeat the same device).
            let mut seen = BTreeSet::new();
            let (total, avail) = disks
                .iter()
                .filter(|d| !d.is_removable() && d.total_space() > 0)
                .filter(|d| seen.insert(d.name().to_owned()))
                .fold((0u64, 0u64), |(t, a), d| (t + d.total_space(), a + d.available_space()));
            if total > 0 {
                let used = total - avail.min(total);
                out.insert("disk_pct".into(), json!(pct(used, total)));
                out.insert("disk_used_bytes".into(), json!(used));
                out.insert("disk_total_bytes".into(), json!(total));
            }
        }
        if let Ok(uptime) = System::uptime() {
            out.insert("uptime_s".into(), json!(uptime));
        }
        Value::Object(out)
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[allow(clippy::cast_precision_loss)] // byte counts far below 2^53
fn pct(part: u64, whole: u64) -> f64 {
    round2(part as f64 / whole as f64 * 100.0)
}

#[allow(clippy::cast_precision_loss)] // byte counts far below 2^53
fn rate(bytes: u64, secs: f64) -> f64 {
    (bytes as f64 / secs).round()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_has_the_promised_series() {
        let mut source = LocalSource::new();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let sample = source.sample();
        for key in [
            "cpu_pct",
            "cpu_core_pct",
            "mem_pct",
            "mem_used_bytes",
            "mem_total_bytes",
            "load_avg",
            "net_rx_bytes_per_s",
            "net_tx_bytes_per_s",
            "uptime_s",
        ] {
            assert!(sample.get(key).is_some(), "missing {key} in {sample}");
        }
        // Each used-of-total pair the local defaults show as a share comes whole, used within total.
        for (used, total) in [
            ("mem_used_bytes", "mem_total_bytes"),
            ("swap_used_bytes", "swap_total_bytes"),
            ("disk_used_bytes", "disk_total_bytes"),
        ] {
            assert_eq!(sample.get(used).is_some(), sample.get(total).is_some(), "{used} without {total}: {sample}");
            if let (Some(used), Some(total)) = (sample[used].as_u64(), sample[total].as_u64()) {
                assert!(total > 0 && used <= total, "{used} of {total}");
            }
        }
        let cpu = sample["cpu_pct"].as_f64().expect("number");
        assert!((0.0..=100.0).contains(&cpu), "cpu {cpu}");
        let mem = sample["mem_pct"].as_f64().expect("number");
        assert!(mem > 0.0 && mem <= 100.0, "mem {mem}");
        assert_eq!(sample["load_avg"].as_array().map(Vec::len), Some(3));
    }

    #[test]
    fn helpers_round_and_divide() {
        assert!((pct(1, 3) - 33.33).abs() < 1e-9);
        assert!((rate(1000, 0.5) - 2000.0).abs() < 1e-9);
        assert!((round2(1.23456) - 1.23).abs() < 1e-9);
    }
}
