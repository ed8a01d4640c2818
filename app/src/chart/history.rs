//! History from the server's store for a chart's range: one `GET {base}/api/history` per series
//! (behind the same Basic auth as the page, which the browser sends with same-origin requests),
//! asking for about one point per pixel column. Fetching runs in the browser only.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::layout::encode_component;

/// The answer of `/api/history` for one series: points (`[t, v]`: values, or each bucket's mean
/// for roll-ups), bands (`[t, min, max]`, roll-ups only) and the times the server was down.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answer {
    /// `raw`, `1m` or `1h`.
    pub tier: String,
    /// The range answered (ms since the epoch).
    pub from: u64,
    /// See `from`.
    pub to: u64,
    /// The points, oldest first.
    pub points: Vec<(u64, f64)>,
    /// Each bucket's `(t, min, max)`, for roll-ups.
    pub bands: Vec<(u64, f64, f64)>,
    /// When the server was down, `(from, to)`.
    pub gaps: Vec<(u64, u64)>,
}

impl Answer {
    /// Reads an answer's JSON text. Read through `serde_json::Value`, which the page decodes
    /// anyway: a derived decoder for these tuples would cost the browser bundle more. Rows that
    /// are not arrays of numbers are skipped.
    pub fn parse(text: &str) -> Option<Self> {
        let v: Value = serde_json::from_str(text).ok()?;
        let rows = |key: &str| v.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let row = |r: &Value| -> Option<(u64, f64, f64)> {
            let r = r.as_array()?;
            let num = |i: usize| r.get(i).and_then(Value::as_f64);
            Some((r.first()?.as_u64()?, num(1)?, num(2).unwrap_or(f64::NAN)))
        };
        let time = |key: &str| v.get(key).and_then(Value::as_u64).unwrap_or_default();
        Some(Self {
            tier: v.get("tier").and_then(Value::as_str).unwrap_or_default().to_owned(),
            from: time("from"),
            to: time("to"),
            points: rows("points").iter().filter_map(row).map(|(t, x, _)| (t, x)).collect(),
            bands: rows("bands").iter().filter_map(row).filter(|b| !b.2.is_nan()).collect(),
            gaps: rows("gaps").iter().filter_map(row).map(|(a, b, _)| (a, b as u64)).collect(),
        })
    }
}

/// What a chart fetched: each series' answer by name (a series the store does not have is
/// missing), and the range they answered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fetched {
    /// The answers, by series name.
    pub series: BTreeMap<String, Answer>,
    /// The range answered (ms): the server's now at the end for a range ending now.
    pub t: (u64, u64),
}

impl Fetched {
    /// The tier of the answers (`raw`, `1m`, `1h`), if any came.
    pub fn tier(&self) -> Option<&str> {
        self.series.values().next().map(|a| a.tier.as_str())
    }

    /// When the server was down within the range (the same for every series).
    pub fn gaps(&self) -> &[(u64, u64)] {
        self.series.values().next().map_or(&[], |a| a.gaps.as_slice())
    }
}

/// Where a history range stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Load {
    /// Nothing asked: the page's memory holds the range.
    Memory,
    /// Asked, not answered yet.
    Loading,
    /// Answered.
    Done(Arc<Fetched>),
    /// The server keeps no history (started with `--store none`): its words.
    NoStore(String),
    /// Failed: why.
    Failed(String),
}

impl Load {
    /// What was fetched, if anything.
    pub fn fetched(&self) -> Option<&Fetched> {
        match self {
            Self::Done(f) => Some(f),
            _ => None,
        }
    }
}

/// The URL of one series' history: `from` and `to` as the API reads them (ms, or `now-1h`).
pub fn url(base: &str, source: &str, series: &str, (from, to): (&str, &str), points: usize) -> String {
    let enc = encode_component;
    format!(
        "{base}/api/history?source={}&series={}&from={}&to={}&points={points}",
        enc(source),
        enc(series),
        enc(from),
        enc(to)
    )
}

/// The `error` of a JSON problem answer, or the text as it is.
#[cfg(any(feature = "hydrate", test))]
fn problem_text(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(200).collect())
}

/// Fetches `series` of `source` over `(from, to)` (as the API reads them) with about `points`
/// points each, one after the other. A series the store lacks is left out; a server without a
/// store, or any other failure, ends it.
#[cfg(feature = "hydrate")]
pub async fn fetch(source: &str, series: &[String], range: (&str, &str), points: usize) -> Load {
    let base = crate::base_path();
    let mut fetched = Fetched::default();
    for name in series {
        let (status, body) = match get(&url(&base, source, name, range, points)).await {
            Ok(answer) => answer,
            Err(e) => return Load::Failed(e),
        };
        if status == 404 {
            let why = problem_text(&body);
            if why.contains("no history store") {
                return Load::NoStore(why);
            }
            continue;
        }
        if status != 200 {
            return Load::Failed(format!("HTTP {status}: {}", problem_text(&body)));
        }
        let Some(answer) = Answer::parse(&body) else { return Load::Failed("an unreadable answer".to_owned()) };
        fetched.t = (answer.from, answer.to);
        fetched.series.insert(name.clone(), answer);
    }
    Load::Done(Arc::new(fetched))
}

/// `GET url` (same origin, so with the page's credentials): its status and body text. One copy of
/// the request's code for every fetch of the page.
#[cfg(feature = "hydrate")]
pub async fn get(url: &str) -> Result<(u16, String), String> {
    let response = gloo_net::http::Request::get(url).send().await.map_err(|e| e.to_string())?;
    Ok((response.status(), response.text().await.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_and_problems_are_read() {
        let body = r#"{"source":"local","series":"cpu_pct","tier":"1m","from":1,"to":9,
            "points":[[1,2.5],[5,3]],"bands":[[1,2,3],[5,1,4]],"gaps":[[2,4]]}"#;
        let a = Answer::parse(body).expect("answer");
        assert_eq!(Answer::parse("[1]").map(|a| a.points.len()), Some(0), "not an object: nothing in it");
        assert!(Answer::parse("nope").is_none());
        assert_eq!((a.tier.as_str(), a.points.len(), a.bands[1], a.gaps[0]), ("1m", 2, (5, 1.0, 4.0), (2, 4)));
        assert_eq!(problem_text(r#"{"error":"no history store: ..."}"#), "no history store: ...");
        assert_eq!(problem_text("Bad Gateway"), "Bad Gateway");
        assert_eq!(
            url("/dash", "up", "net.rx", ("now-1h", "now"), 900),
            "/dash/api/history?source=up&series=net%2Erx&from=now-1h&to=now&points=900"
        );
    }
}
