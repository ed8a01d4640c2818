//! `GET /api/history?source=&series=&from=&to=&points=N[&format=csv]`: one series over a range,
//! at most N points from the finest tier that covers it, downsampled so that spikes survive; and
//! `GET /api/series`, what the store has. A bad parameter is a 400 that names it.
//!
//! `from` and `to` are milliseconds since the epoch, `now`, or `now-1h` (any duration); by
//! default the last hour. The answer: `{"source","series","tier","from","to","points":[[t,v]..],
//! "bands":[[t,min,max]..],"gaps":[[from,to]..]}`: for roll-ups, `points` are the means and
//! `bands` the range of each bucket.
//!
//! A read costs what is asked, not what the range holds ([`crate::store::read`]); at most
//! `--store-max-reads` run at once (one more waits up to 2 s for a slot, then is answered `503`
//! with `Retry-After`), and a read stops when its client goes. Times past `i64::MAX` ms are taken as `i64::MAX`.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::clock::now_ms;
use crate::store::read::{Data, History, Permit, ReadError};
use crate::store::{Store, db, read};

/// The most points one answer may hold.
pub const MAX_POINTS: usize = 10_000;
const DEFAULT_POINTS: usize = 1000;
pub(crate) const DEFAULT_SPAN_MS: u64 = 3_600_000;
/// The latest time a request may name (SQLite keeps times as `i64`): later ones are taken as it.
const LATEST: u64 = i64::MAX as u64;
/// When a refused read may try again, in seconds.
const RETRY_AFTER_S: u64 = 1;
/// How long a read waits for one of those running to end before it is refused (a page asking
/// for all its charts at once is served, a flood is not).
const QUEUE_WAIT: Duration = Duration::from_secs(2);
/// How often a waiting read looks again.
const QUEUE_POLL: Duration = Duration::from_millis(10);

/// A 400 naming the parameter, or another status with a reason, as JSON.
pub(crate) fn problem(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(serde_json::json!({ "error": message.to_string() }))).into_response()
}

/// Why a parameter is refused, naming it: answered as a 400.
pub(crate) fn bad(param: &str, message: impl std::fmt::Display) -> String {
    format!("`{param}`: {message}")
}

/// A time: ms since the epoch, `now`, or `now-DURATION`.
pub fn parse_time(value: &str, now: u64) -> Result<u64, String> {
    let value = value.trim();
    if value == "now" {
        return Ok(now);
    }
    if let Some(ago) = value.strip_prefix("now-") {
        let d = humantime::parse_duration(ago).map_err(|e| format!("{e} (examples: now-1h, now-30m)"))?;
        return Ok(now.saturating_sub(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)));
    }
    let ms = value
        .parse::<u64>()
        .map_err(|_| format!("{value:?} is not a time (milliseconds since the epoch, now, or now-1h)"))?;
    Ok(ms.min(LATEST))
}

/// `from`, `to` (the last hour by default) and `points` (`default`, at most `max`) of a history
/// request, checked: a 400's text naming the parameter when one is bad.
pub(crate) fn span(
    q: &HashMap<String, String>,
    now: u64,
    default: usize,
    max: usize,
) -> Result<(u64, u64, usize), String> {
    let to = q.get("to").map_or(Ok(now), |v| parse_time(v, now)).map_err(|e| bad("to", e))?;
    let from = q
        .get("from")
        .map_or(Ok(to.saturating_sub(DEFAULT_SPAN_MS)), |v| parse_time(v, now))
        .map_err(|e| bad("from", e))?;
    if from > to {
        return Err(bad("from", "is after `to`"));
    }
    let points = match q.get("points") {
        None => default,
        Some(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (2..=max).contains(n))
            .ok_or_else(|| bad("points", format!("{v:?}: a whole number from 2 to {max}")))?,
    };
    Ok((from, to, points))
}

/// The request, checked.
#[derive(Debug)]
struct Ask {
    source: String,
    series: String,
    from: u64,
    to: u64,
    points: usize,
    csv: bool,
}

fn ask(q: &HashMap<String, String>, now: u64) -> Result<Ask, String> {
    let required = |name: &str| match q.get(name).map(|s| s.trim()) {
        Some(v) if !v.is_empty() => Ok(v.to_owned()),
        _ => Err(bad(name, "missing (see GET /api/series for what exists)")),
    };
    let (source, series) = (required("source")?, required("series")?);
    let (from, to, points) = span(q, now, DEFAULT_POINTS, MAX_POINTS)?;
    let csv = match q.get("format").map(String::as_str) {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => return Err(bad("format", format!("{other:?}: json or csv"))),
    };
    Ok(Ask { source, series, from, to, points, csv })
}

/// `GET /api/history`.
pub async fn history(State(store): State<Option<Arc<Store>>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let now = now_ms();
    let ask = match ask(&q, now) {
        Ok(a) => a,
        Err(why) => return problem(StatusCode::BAD_REQUEST, why),
    };
    let (store, permit) = match slot(store).await {
        Ok(slot) => slot,
        Err(refused) => return refused,
    };
    // Dropped with this future: when the client goes, hyper drops it, and the read stops.
    let gone = CancelOnDrop(Arc::new(AtomicBool::new(false)));
    let cancelled = gone.0.clone();
    let found = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let (config, shared) = (store.config(), &store.shared);
        let request = ((ask.source.as_str(), ask.series.as_str()), (ask.from, ask.to), ask.points, now);
        let found = read::history_for_client(config, shared, request, cancelled)?;
        Ok::<_, ReadError>((ask, found))
    })
    .await;
    drop(gone);
    match found {
        Ok(Ok((ask, Some(history)))) if ask.csv => csv(&ask, &history),
        Ok(Ok((ask, Some(history)))) => json(&ask, &history),
        Ok(Ok((ask, None))) => problem(
            StatusCode::NOT_FOUND,
            format!("no series {:?} of source {:?} in the store", ask.series, ask.source),
        ),
        Ok(Err(e)) => problem(StatusCode::SERVICE_UNAVAILABLE, e),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

/// The store and one of its read slots for a request: a 404 when history is kept in memory only,
/// a 503 with `Retry-After` when no slot came free in time.
pub(crate) async fn slot(store: Option<Arc<Store>>) -> Result<(Arc<Store>, Permit), Response> {
    let Some(store) = store else {
        return Err(problem(
            StatusCode::NOT_FOUND,
            "no history store: this server keeps history in memory only (--store none)",
        ));
    };
    let Some(permit) = permit(&store).await else {
        let busy = problem(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("too many history reads at once (at most {}): try again shortly", store.config().max_reads),
        );
        return Err(([(header::RETRY_AFTER, RETRY_AFTER_S.to_string())], busy).into_response());
    };
    Ok((store, permit))
}

/// One of the `--store-max-reads` reads at once, waiting [`QUEUE_WAIT`] at most; `None`
/// (counted) when none came free.
async fn permit(store: &Arc<Store>) -> Option<Permit> {
    let deadline = Instant::now() + QUEUE_WAIT;
    loop {
        if let Some(permit) = Permit::try_take(&store.shared, store.config().max_reads) {
            return Some(permit);
        }
        if Instant::now() >= deadline {
            store.shared.reads_refused.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        tokio::time::sleep(QUEUE_POLL).await;
    }
}

/// Sets its flag when dropped: a read's "the answer is no longer wanted".
pub(crate) struct CancelOnDrop(pub(crate) Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn json(ask: &Ask, h: &History) -> Response {
    let (points, bands): (Vec<_>, Vec<_>) = match &h.data {
        Data::Points(points) => (points.iter().map(|p| serde_json::json!([p.t, p.v])).collect(), Vec::new()),
        Data::Buckets(buckets) => (
            buckets.iter().map(|b| serde_json::json!([b.t, b.mean])).collect(),
            buckets.iter().map(|b| serde_json::json!([b.t, b.min, b.max])).collect(),
        ),
    };
    let gaps: Vec<_> = h.gaps.iter().map(|(a, b)| serde_json::json!([a, b])).collect();
    Json(serde_json::json!({
        "source": ask.source, "series": ask.series, "tier": h.tier.name(), "from": ask.from, "to": ask.to,
        "points": points, "bands": bands, "gaps": gaps,
    }))
    .into_response()
}

fn csv(ask: &Ask, h: &History) -> Response {
    let time = |t: u64| humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + std::time::Duration::from_millis(t));
    let mut out = String::new();
    match &h.data {
        Data::Points(points) => {
            out.push_str("time_ms,time,value\n");
            for p in points {
                let _ = writeln!(out, "{},{},{}", p.t, time(p.t), p.v);
            }
        }
        Data::Buckets(buckets) => {
            out.push_str("time_ms,time,mean,min,max,last,count\n");
            for b in buckets {
                let _ = writeln!(out, "{},{},{},{},{},{},{}", b.t, time(b.t), b.mean, b.min, b.max, b.last, b.count);
            }
        }
    }
    let name = format!("{}-{}-{}.csv", ask.source, ask.series, h.tier.name())
        .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '.' && c != '_', "_");
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        out,
    )
        .into_response()
}

/// `GET /api/series`: `{"series":[{"source","series"}..]}`.
pub async fn series(State(store): State<Option<Arc<Store>>>) -> Response {
    let Some(store) = store else { return Json(serde_json::json!({ "series": [] })).into_response() };
    let listed = tokio::task::spawn_blocking(move || {
        let path = store.config().path.clone();
        if !path.exists() {
            return Ok(Vec::new());
        }
        read::series(&db::open_reader(&path)?)
    })
    .await;
    match listed {
        Ok(Ok(list)) => {
            let list: Vec<_> = list
                .into_iter()
                .map(|(source, series)| serde_json::json!({ "source": source, "series": series }))
                .collect();
            Json(serde_json::json!({ "series": list })).into_response()
        }
        Ok(Err(e)) => problem(StatusCode::SERVICE_UNAVAILABLE, e),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn parameters_are_checked_and_named() {
        let now = 10_000_000;
        let a = ask(&q(&[("source", "local"), ("series", "cpu_pct")]), now).expect("valid");
        assert_eq!((a.from, a.to, a.points, a.csv), (now - DEFAULT_SPAN_MS, now, DEFAULT_POINTS, false));
        let a =
            ask(&q(&[("source", "s"), ("series", "x"), ("from", "now-30m"), ("to", "now"), ("format", "csv")]), now)
                .expect("valid");
        assert_eq!((a.from, a.to, a.csv), (now - 1_800_000, now, true));
        // Past what SQLite keeps: the latest time it can hold, never a negative one.
        let huge = u64::MAX.to_string();
        let a = ask(&q(&[("source", "s"), ("series", "x"), ("from", &huge), ("to", &huge)]), now).expect("valid");
        assert_eq!((a.from, a.to), (LATEST, LATEST));
        for (pairs, param) in [
            (vec![("series", "x")], "source"),
            (vec![("source", "s")], "series"),
            (vec![("source", "s"), ("series", "x"), ("from", "yesterday")], "from"),
            (vec![("source", "s"), ("series", "x"), ("to", "-5")], "to"),
            (vec![("source", "s"), ("series", "x"), ("from", "5"), ("to", "4")], "from"),
            (vec![("source", "s"), ("series", "x"), ("points", "1")], "points"),
            (vec![("source", "s"), ("series", "x"), ("points", "99999")], "points"),
            (vec![("source", "s"), ("series", "x"), ("format", "xml")], "format"),
        ] {
            let Err(why) = ask(&q(&pairs), now) else { panic!("{pairs:?} should be refused") };
            assert!(why.starts_with(&format!("`{param}`")), "{pairs:?}: {why}");
        }
    }
}
