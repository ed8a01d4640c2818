//! The `prometheus` source: scrape a text exposition endpoint (node_exporter, livedash's own
//! `/metrics`), keep the selected metrics (by name, optionally with label filters), turn counters
//! into per-second rates, and publish them as one JSON object:
//! `{"node_load1": 0.52, "node_cpu_seconds_total": {"cpu=0,mode=idle": 0.97, ...}}`.
//!
//! Parsing is done by the `prometheus-parse` crate. Its label parser splits on `,` and `=`, so a
//! label value containing either is cut short; the series still appears, under a shorter key.

use std::collections::HashMap;
use std::time::Instant;

use prometheus_parse::{Scrape, Value};
use serde_json::{Map, Value as Json, json};

use super::error::FetchError;

/// At most this many series per scrape: a whole node_exporter would be thousands of cards.
pub const MAX_SERIES: usize = 200;

/// Which metrics to keep: `name` or `name{label="value",...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// The metric name.
    pub name: String,
    /// Labels that must match exactly.
    pub labels: Vec<(String, String)>,
}

impl std::str::FromStr for Selector {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (name, labels) = match s.split_once('{') {
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').ok_or_else(|| format!("{s:?}: missing '}}'"))?;
                let labels = body
                    .split(',')
                    .filter(|kv| !kv.trim().is_empty())
                    .map(|kv| {
                        let (k, v) =
                            kv.split_once('=').ok_or_else(|| format!("{s:?}: label filters are name=\"value\""))?;
                        Ok((k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                (name.trim(), labels)
            }
            None => (s, Vec::new()),
        };
        let valid = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return Err(format!("{name:?} is not a metric name"));
        }
        Ok(Self { name: name.to_owned(), labels })
    }
}

/// Splits `a,b{x="1",y="2"}` at the commas outside braces.
pub fn split_selectors(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for c in list.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.push(current);
    out.into_iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
}

/// Turns scrapes into samples, remembering counters between scrapes for their rates.
#[derive(Default)]
pub struct Converter {
    selectors: Vec<Selector>,
    previous: HashMap<(String, String), (f64, Instant)>,
}

impl Converter {
    /// A converter keeping the metrics `selectors` select (all of them when it is empty).
    pub fn new(selectors: Vec<Selector>) -> Self {
        Self { selectors, previous: HashMap::new() }
    }

    fn selected(&self, name: &str, labels: &prometheus_parse::Labels) -> bool {
        self.selectors.is_empty()
            || self.selectors.iter().any(|s| s.name == name && s.labels.iter().all(|(k, v)| labels.get(k) == Some(v)))
    }

    /// One sample from the exposition `text` scraped at `now`. Gauges and untyped values as they
    /// are; counters as per-second rates from the previous scrape (absent on the first one, and
    /// after a counter reset); histograms and summaries are left out.
    pub fn convert(&mut self, text: &str, now: Instant) -> Result<Json, FetchError> {
        let scrape = Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
            .map_err(|e| FetchError::NotExposition(e.to_string()))?;
        // The parser reports a histogram's or summary's `_sum` and `_count` as untyped series of
        // their own: leave them out with the distribution they belong to.
        let distributions: std::collections::HashSet<&str> = scrape
            .samples
            .iter()
            .filter(|s| matches!(s.value, Value::Histogram(_) | Value::Summary(_)))
            .map(|s| s.metric.as_str())
            .collect();
        let part_of_distribution = |name: &str| {
            ["_sum", "_count"]
                .iter()
                .any(|suffix| name.strip_suffix(suffix).is_some_and(|base| distributions.contains(base)))
        };
        let mut out = Map::new();
        let mut count = 0;
        let mut seen = HashMap::new();
        for sample in &scrape.samples {
            if count >= MAX_SERIES {
                break;
            }
            if part_of_distribution(&sample.metric) || !self.selected(&sample.metric, &sample.labels) {
                continue;
            }
            let mut labels: Vec<(&String, &String)> = sample.labels.iter().collect();
            labels.sort();
            let label_key = labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
            let value = match sample.value {
                Value::Gauge(v) | Value::Untyped(v) => Some(v),
                Value::Counter(v) => {
                    let key = (sample.metric.clone(), label_key.clone());
                    let rate = self.previous.get(&key).and_then(|&(prev, at)| {
                        let dt = now.duration_since(at).as_secs_f64();
                        (v >= prev && dt > 0.0).then(|| (v - prev) / dt)
                    });
                    seen.insert(key, (v, now));
                    rate
                }
                Value::Histogram(_) | Value::Summary(_) => None,
            };
            let Some(value) = value.filter(|v| v.is_finite()) else { continue };
            let value = json!((value * 1e6).round() / 1e6);
            count += 1;
            if label_key.is_empty() {
                out.insert(sample.metric.clone(), value);
            } else if let Json::Object(group) =
                out.entry(sample.metric.clone()).or_insert_with(|| Json::Object(Map::new()))
            {
                group.insert(label_key, value);
            }
        }
        // Counters not seen this time are forgotten, so the map stays the size of one scrape.
        self.previous = seen;
        Ok(Json::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const TEXT: &str = "\
# HELP node_load1 1m load average.
# TYPE node_load1 gauge
node_load1 0.52
# TYPE node_cpu_seconds_total counter
node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 100
node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 10
# TYPE req_seconds histogram
req_seconds_bucket{le=\"1\"} 3
req_seconds_bucket{le=\"+Inf\"} 4
req_seconds_sum 2
req_seconds_count 4
";

    #[test]
    fn gauges_now_counters_as_rates_from_the_second_scrape() {
        let mut c = Converter::new(Vec::new());
        let t0 = Instant::now();
        let first = c.convert(TEXT, t0).expect("parses");
        assert_eq!(first, json!({"node_load1": 0.52}), "no rate yet, no histogram");
        let later = TEXT.replace("} 100", "} 102").replace("} 10\n", "} 10.5\n");
        let second = c.convert(&later, t0 + Duration::from_secs(2)).expect("parses");
        assert_eq!(second["node_cpu_seconds_total"]["cpu=0,mode=idle"], json!(1.0));
        assert_eq!(second["node_cpu_seconds_total"]["cpu=0,mode=user"], json!(0.25));
        // A counter that went down was reset: no rate this time.
        let reset = TEXT.replace("} 100", "} 1");
        let third = c.convert(&reset, t0 + Duration::from_secs(3)).expect("parses");
        assert!(third["node_cpu_seconds_total"].get("cpu=0,mode=idle").is_none(), "{third}");
    }

    #[test]
    fn selectors_keep_only_what_they_name() {
        let mut c = Converter::new(vec!["node_cpu_seconds_total{mode=\"idle\"}".parse().expect("selector")]);
        let t0 = Instant::now();
        c.convert(TEXT, t0).expect("parses");
        let second = c.convert(&TEXT.replace("} 100", "} 101"), t0 + Duration::from_secs(1)).expect("parses");
        assert_eq!(second, json!({"node_cpu_seconds_total": {"cpu=0,mode=idle": 1.0}}));
    }

    #[test]
    fn selectors_parse_and_refuse_nonsense() {
        let s: Selector = "up{job=\"node\", instance=\"a:9100\"}".parse().expect("selector");
        assert_eq!(s.name, "up");
        assert_eq!(s.labels, [("job".to_owned(), "node".to_owned()), ("instance".to_owned(), "a:9100".to_owned())]);
        for bad in ["", "1up", "up{job}", "up{job=\"x\"", "a b"] {
            assert!(bad.parse::<Selector>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn garbage_gives_no_series_and_no_panic() {
        let mut c = Converter::new(Vec::new());
        for garbage in ["<html>nope</html>\n{{{", "x", "", "a{b=\"c\"} notanumber", "\u{0}\u{ff}"] {
            let out = c.convert(garbage, Instant::now());
            assert!(!matches!(&out, Ok(v) if *v != json!({})), "{garbage:?} gave {out:?}");
        }
    }

    #[test]
    fn selector_lists_split_outside_braces() {
        assert_eq!(split_selectors(r#"a,b{x="1",y="2"},c"#), ["a", r#"b{x="1",y="2"}"#, "c"]);
        assert_eq!(split_selectors(""), Vec::<String>::new());
    }
}
