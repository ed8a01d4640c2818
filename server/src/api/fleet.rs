//! `GET /api/fleet/history?figure=cpu_pct&from=now-1h&to=now&points=300`: one figure of every
//! host over a range, for the one-metric page: `{"figure","from","to","hosts":[{"id","points":
//! [[t,v]..]}..]}` (roll-ups give each bucket's mean). The hosts are the store's sources that
//! have a series named after the figure (a fleet host's samples carry the figures by name).
//!
//! Bounded as `/api/history` is: the whole answer is one of the `--store-max-reads` reads at once
//! (a 503 with `Retry-After` when none comes free), at most [`MAX_POINTS`] points per host, and
//! the read stops when its client goes. A bad parameter is a 400 naming it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use livedash::fleet::FIGURES;

use super::history::{CancelOnDrop, bad, problem, slot, span};
use crate::clock::now_ms;
use crate::store::read::{self, Data, ReadError};
use crate::store::{Store, db};

/// The most points one host's line may hold.
pub const MAX_POINTS: usize = 2000;
const DEFAULT_POINTS: usize = 300;

/// The request, checked.
#[derive(Debug, PartialEq, Eq)]
struct Ask {
    figure: &'static str,
    from: u64,
    to: u64,
    points: usize,
}

fn ask(q: &HashMap<String, String>, now: u64) -> Result<Ask, String> {
    let figure = match q.get("figure").map(|s| s.trim()) {
        Some(f) => FIGURES
            .iter()
            .find(|name| **name == f)
            .ok_or_else(|| bad("figure", format!("{f:?}: one of {}", FIGURES.join(", "))))?,
        None => return Err(bad("figure", format!("missing: one of {}", FIGURES.join(", ")))),
    };
    let (from, to, points) = span(q, now, DEFAULT_POINTS, MAX_POINTS)?;
    Ok(Ask { figure, from, to, points })
}

/// `GET /api/fleet/history`.
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
    // Dropped with this future: when the client goes, hyper drops it, and the reads stop.
    let gone = CancelOnDrop(Arc::new(AtomicBool::new(false)));
    let cancelled = gone.0.clone();
    let figure = ask.figure;
    let found = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        read_hosts(&store, figure, (ask.from, ask.to), ask.points, now, &cancelled).map(|hosts| (ask, hosts))
    })
    .await;
    drop(gone);
    match found {
        Ok(Ok((ask, hosts))) => Json(serde_json::json!({
            "figure": ask.figure, "from": ask.from, "to": ask.to, "hosts": hosts,
        }))
        .into_response(),
        Ok(Err(e)) => problem(StatusCode::SERVICE_UNAVAILABLE, e),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

/// Every source's series `figure` over `range`, one after another on this read's permit.
fn read_hosts(
    store: &Store,
    figure: &str,
    range: (u64, u64),
    points: usize,
    now: u64,
    cancelled: &Arc<AtomicBool>,
) -> Result<Vec<serde_json::Value>, ReadError> {
    let (config, shared) = (store.config(), &store.shared);
    if !config.path.exists() {
        return Ok(Vec::new());
    }
    let sources: Vec<String> = read::series(&db::open_reader(&config.path)?)?
        .into_iter()
        .filter_map(|(source, series)| (series == figure).then_some(source))
        .collect();
    let mut hosts = Vec::with_capacity(sources.len());
    for source in sources {
        if cancelled.load(Ordering::Relaxed) {
            return Err(ReadError::Cancelled);
        }
        let Some(h) =
            read::history_for_client(config, shared, ((&source, figure), range, points, now), cancelled.clone())?
        else {
            continue;
        };
        let line: Vec<(u64, f64)> = match h.data {
            Data::Points(p) => p.iter().map(|p| (p.t, p.v)).collect(),
            Data::Buckets(b) => b.iter().map(|b| (b.t, b.mean)).collect(),
        };
        hosts.push(serde_json::json!({ "id": source, "points": line }));
    }
    Ok(hosts)
}

#[cfg(test)]
mod tests {
    use super::super::history::DEFAULT_SPAN_MS;
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn parameters_are_checked_and_named() {
        let now = 10_000_000;
        let a = ask(&q(&[("figure", "mem_pct")]), now).expect("valid");
        assert_eq!(a, Ask { figure: "mem_pct", from: now - DEFAULT_SPAN_MS, to: now, points: DEFAULT_POINTS });
        let a = ask(&q(&[("figure", "cpu_pct"), ("from", "now-30m"), ("points", "300")]), now).expect("valid");
        assert_eq!((a.from, a.points), (now - 1_800_000, 300));
        for (pairs, param) in [
            (vec![], "figure"),
            (vec![("figure", "cpu")], "figure"),
            (vec![("figure", "cpu_pct"), ("from", "yesterday")], "from"),
            (vec![("figure", "cpu_pct"), ("to", "x")], "to"),
            (vec![("figure", "cpu_pct"), ("from", "5"), ("to", "4")], "from"),
            (vec![("figure", "cpu_pct"), ("points", "1")], "points"),
            (vec![("figure", "cpu_pct"), ("points", "2001")], "points"),
        ] {
            let Err(why) = ask(&q(&pairs), now) else { panic!("{pairs:?} should be refused") };
            assert!(why.starts_with(&format!("`{param}`")), "{pairs:?}: {why}");
        }
    }
}
