//! The fake exporter's body: every captured line kept, targets and scrapes different, counters
//! never going down, parsed by the parser livedash uses.

use std::collections::HashMap;

use super::FIXTURE;
use super::template::{Shape, Template};

/// The body's samples: (name with labels, value), from the parser livedash uses.
fn samples(body: &str) -> HashMap<String, f64> {
    let scrape = prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_owned()))).expect("an exposition");
    scrape
        .samples
        .into_iter()
        .filter_map(|s| {
            let v = match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => return None,
            };
            let mut labels: Vec<_> = s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            labels.sort();
            Some((format!("{}{{{}}}", s.metric, labels.join(",")), v))
        })
        .collect()
}

fn body(template: &Template, target: u64, elapsed: f64) -> String {
    let mut out = String::new();
    template.render(&mut out, target, elapsed, 1.8e9 + elapsed, 1.8e9);
    out
}

#[test]
fn every_captured_line_is_kept_and_every_value_is_a_slot() {
    let template = Template::parse(FIXTURE);
    // The capture's values, rendered as captured (target-independent shapes only), give it back.
    assert!(template.series.len() > 400, "{} series", template.series.len());
    let served = body(&template, 0, 0.0);
    assert_eq!(served.lines().count(), FIXTURE.lines().count());
    let (captured, served) = (samples(FIXTURE), samples(&served));
    assert_eq!(captured.len(), served.len());
    assert!(captured.keys().filter(|k| !k.contains("nodename")).all(|k| served.contains_key(k)));
    assert!(served.keys().any(|k| k.contains("nodename=fleet-0")));
}

#[test]
fn targets_differ_and_scrapes_move_as_their_kinds_do() {
    let template = Template::parse(FIXTURE);
    let (a0, a1, b0) =
        (samples(&body(&template, 7, 100.0)), samples(&body(&template, 7, 115.0)), samples(&body(&template, 8, 100.0)));
    let differ =
        |x: &HashMap<String, f64>, y: &HashMap<String, f64>| x.iter().filter(|(k, v)| y.get(*k) != Some(v)).count();
    // Every value that is not fixed differs between targets, and between scrapes all but the sizes,
    // but for a few small whole numbers that may round alike (processes running, counts of rare errors).
    let moving = template.series.iter().filter(|s| s.shape != Shape::Fixed).count();
    let sized = template.series.iter().filter(|s| matches!(s.shape, Shape::Sized | Shape::Boot)).count();
    assert!(moving > 200, "{moving} values move");
    assert!(differ(&a0, &b0) >= moving * 9 / 10, "two targets: {} of {moving} values differ", differ(&a0, &b0));
    assert!(
        differ(&a0, &a1) >= (moving - sized) * 3 / 4,
        "two scrapes: {} of {} values differ",
        differ(&a0, &a1),
        moving - sized
    );
    let cpu = |m: &HashMap<String, f64>| m["node_cpu_seconds_total{cpu=0,mode=idle}"];
    assert!(cpu(&a1) > cpu(&a0), "a counter grows: {} then {}", cpu(&a0), cpu(&a1));
    // Over 15 s a CPU's idle seconds grow by less than 15 x 1.3 x 1.5.
    assert!(cpu(&a1) - cpu(&a0) < 15.0 * 1.3 * 1.5);
    for m in [&a0, &a1, &b0] {
        assert!(m["node_memory_MemAvailable_bytes{}"] <= m["node_memory_MemTotal_bytes{}"]);
        let fs = "{device=/dev/vda,fstype=ext4,mountpoint=/}";
        assert!(m[&format!("node_filesystem_avail_bytes{fs}")] <= m[&format!("node_filesystem_size_bytes{fs}")]);
        assert!(m["node_time_seconds{}"] > m["node_boot_time_seconds{}"]);
    }
}

#[test]
fn counters_never_go_down() {
    let template = Template::parse(FIXTURE);
    let mut previous = samples(&body(&template, 3, 0.0));
    for step in 1..200 {
        let next = samples(&body(&template, 3, f64::from(step) * 0.7));
        for (k, v) in &next {
            if k.contains("_total") && !k.contains("node_scrape") {
                assert!(*v >= previous[k], "{k} went from {} to {v}", previous[k]);
            }
        }
        previous = next;
    }
}
