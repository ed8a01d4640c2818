//! What a source is, as configured: its kind ([`Kind`]), its settings ([`SourceSpec`]), and the
//! `--source` argument that names one ([`SourceArg`]: `local`, `URL`, `name=http:URL`,
//! `name=prometheus:URL#metric,...`). A config file's `[[source]]` table builds the same types
//! directly (see `config::file`). A source also carries its per-series setting rules, for the
//! page: its kind's defaults ([`Kind::default_series`]), then the configured ones.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use livedash::settings::SeriesRule;

use super::prometheus;

/// The largest upstream body accepted by default.
pub const DEFAULT_MAX_BODY: usize = 1 << 20;

/// What a source reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// This machine, through sysinfo.
    Local,
    /// A JSON endpoint, relayed verbatim.
    Http(reqwest::Url),
    /// A Prometheus text exposition endpoint; the selected metrics (all when empty).
    Prometheus(reqwest::Url, Vec<prometheus::Selector>),
}

/// One configured source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSpec {
    /// Its name on the page and in the protocol.
    pub name: Arc<str>,
    /// What it reads.
    pub kind: Kind,
    /// How often.
    pub interval: Duration,
    /// How long one fetch may take (below the interval).
    pub timeout: Duration,
    /// The largest body accepted.
    pub max_body: usize,
    /// Its per-series setting rules, in the order they apply (sent to the page in the `hello`).
    pub series: Arc<[SeriesRule]>,
}

/// A `--source` value before the interval is known: `local`, `URL`, `http:URL`, each optionally
/// prefixed with `name=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceArg {
    /// `name=`, if given.
    pub name: Option<String>,
    /// What it reads.
    pub kind: Kind,
}

impl FromStr for SourceArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (name, rest) = match s.split_once('=') {
            Some((name, rest)) if !name.contains(':') && !name.contains('/') => (Some(name.trim()), rest.trim()),
            _ => (None, s),
        };
        if let Some(name) = name {
            valid_name(name)?;
        }
        let kind = if rest == "local" {
            Kind::Local
        } else if let Some(target) = rest.strip_prefix("prometheus:") {
            let (url, selectors) = target.split_once('#').unwrap_or((target, ""));
            let selectors = prometheus::split_selectors(selectors)
                .iter()
                .map(|s| s.parse::<prometheus::Selector>())
                .collect::<Result<Vec<_>, _>>()?;
            Kind::Prometheus(http_url(url)?, selectors)
        } else {
            let url = rest.strip_prefix("http:").filter(|u| u.contains("://")).unwrap_or(rest);
            Kind::Http(http_url(url)?)
        };
        Ok(Self { name: name.map(str::to_owned), kind })
    }
}

/// `url` if it is an `http://` or `https://` URL with a host; else why not.
pub fn http_url(url: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(url)
        .map_err(|e| format!("{e}: expected local, URL, name=http:URL or name=prometheus:URL#metric,..."))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("a source URL must be http:// or https:// with a host".to_owned());
    }
    Ok(url)
}

/// Source names: 1 to 40 of letters, digits, `-`, `_`, `.`, `:`.
pub fn valid_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if ok { Ok(()) } else { Err(format!("source name {name:?}: use 1 to 40 letters, digits, '-', '_', '.', ':'")) }
}

impl Kind {
    /// The name used when none is given: `local`, or the URL's host and port.
    pub fn default_name(&self) -> String {
        match self {
            Kind::Local => "local".to_owned(),
            Kind::Http(url) | Kind::Prometheus(url, _) => match (url.host_str(), url.port()) {
                (Some(host), Some(port)) => format!("{host}:{port}"),
                (Some(host), None) => host.to_owned(),
                _ => "http".to_owned(),
            },
        }
    }

    /// The series rules every source of this kind starts with: for `local`, those that make this
    /// machine's series read well ([`livedash::settings::local_defaults`]); none for the others.
    pub fn default_series(&self) -> Vec<SeriesRule> {
        match self {
            Kind::Local => livedash::settings::local_defaults(),
            Kind::Http(_) | Kind::Prometheus(..) => Vec::new(),
        }
    }
}

/// The default timeout for an interval: most of it, so that a fetch ends before the next tick.
pub fn default_timeout(interval: Duration) -> Duration {
    (interval * 9 / 10).min(Duration::from_secs(30))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(s: &str) -> Result<SourceArg, String> {
        s.parse()
    }

    #[test]
    fn source_arguments_parse() {
        assert_eq!(arg("local"), Ok(SourceArg { name: None, kind: Kind::Local }));
        let a = arg("http://127.0.0.1:9100/stats?x=1").expect("url");
        assert_eq!(a.kind.default_name(), "127.0.0.1:9100");
        assert!(matches!(&a.kind, Kind::Http(u) if u.as_str() == "http://127.0.0.1:9100/stats?x=1"));
        let a = arg(
            r#"node=prometheus:http://127.0.0.1:9100/metrics#node_load1,node_cpu_seconds_total{mode="idle",cpu="0"}"#,
        )
        .expect("prometheus");
        let Kind::Prometheus(url, selectors) = &a.kind else { panic!("prometheus") };
        assert_eq!(url.as_str(), "http://127.0.0.1:9100/metrics");
        assert_eq!(selectors.len(), 2);
        assert_eq!(selectors[1].labels.len(), 2);
        let a = arg("api=http:https://ops.example.com/metrics.json").expect("named");
        assert_eq!(a.name.as_deref(), Some("api"));
        assert_eq!(a.kind.default_name(), "ops.example.com");
        assert_eq!(arg("me=local").expect("named local").name.as_deref(), Some("me"));
    }

    #[test]
    fn bad_source_arguments_say_what_is_expected() {
        for bad in [
            "",
            "ftp://x/",
            "http:",
            "nonsense",
            "bad name=local",
            "x=http://",
            "file:///etc/passwd",
            "prometheus:x",
            "p=prometheus:http://h/#1bad",
        ] {
            assert!(arg(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn timeouts_stay_below_the_interval() {
        assert_eq!(default_timeout(Duration::from_secs(1)), Duration::from_millis(900));
        assert_eq!(default_timeout(Duration::from_secs(3600)), Duration::from_secs(30));
    }
}
