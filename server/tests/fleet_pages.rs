//! The fleet pages on a real server: `/fleet` (its first paint holding the fleet's rows) and
//! `/fleet/metric` rendered behind the same authentication as `/`, and `GET /api/fleet/history` reading one figure of every host from a
//! real store file (written with the store's own codec): the hosts that have the figure, each
//! within the points asked, and a 400 naming a bad parameter.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{PASSWORD, basic, get, start_with, temp_dir, test_config};
use livedash_server::config::StoreSettings;
use livedash_server::store::maintain::{self, QUARTER_MS};
use livedash_server::store::{Point, Tier, codec, db};

/// One quarter of points every second for `source`'s series `series`, values from `base`.
fn fill(conn: &rusqlite::Connection, source: &str, series: &str, quarter: u64, base: f64) {
    let id = db::series_id(conn, source, series).expect("series");
    let points: Vec<Point> =
        (0..QUARTER_MS / 1000).map(|i| Point { t: quarter + i * 1000, v: base + (i % 10) as f64 }).collect();
    let blob = codec::encode_points(&points);
    maintain::put(conn, id, Tier::Raw, quarter, quarter + QUARTER_MS, points.len(), &blob).expect("raw");
}

#[tokio::test]
async fn the_fleet_pages_and_the_history_of_one_figure_across_hosts() {
    let path = temp_dir("fleet-pages").join("history.db");
    let quarter = livedash_server::clock::now_ms() / QUARTER_MS * QUARTER_MS - QUARTER_MS;
    {
        let conn = db::open_writer(&path).expect("open the store");
        let tx = conn.unchecked_transaction().expect("tx");
        fill(&tx, "web-1", "cpu_pct", quarter, 10.0);
        fill(&tx, "web-2", "cpu_pct", quarter, 50.0);
        fill(&tx, "web-2", "mem_pct", quarter, 70.0);
        fill(&tx, "api", "latency_ms", quarter, 5.0);
        tx.commit().expect("commit");
    }
    let mut config = test_config(PASSWORD);
    config.store = Some(StoreSettings {
        path,
        max_bytes: 1 << 30,
        raw_for: Duration::from_secs(2 * 86_400),
        minute_for: Duration::from_secs(30 * 86_400),
        hour_for: Duration::from_secs(365 * 86_400),
        max_reads: 2,
    });
    let server = start_with(config).await;
    let auth = basic("admin", PASSWORD);
    let auth = [("Authorization", auth.as_str())];

    let (from, to) = (quarter, quarter + QUARTER_MS);
    let r = get(server.addr, &format!("/api/fleet/history?figure=cpu_pct&from={from}&to={to}&points=100"), &auth).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!((v["figure"].as_str(), v["from"].as_u64(), v["to"].as_u64()), (Some("cpu_pct"), Some(from), Some(to)));
    // The sources with a cpu_pct series (this machine's `local` too, once it has saved some), no other.
    let hosts: Vec<&serde_json::Value> =
        v["hosts"].as_array().expect("hosts").iter().filter(|h| h["id"] != "local").collect();
    let ids: Vec<&str> = hosts.iter().map(|h| h["id"].as_str().expect("id")).collect();
    assert_eq!(ids, ["web-1", "web-2"], "{}", r.body);
    for h in &hosts {
        let points = h["points"].as_array().expect("points");
        assert!(!points.is_empty() && points.len() <= 100, "{} points", points.len());
        let t = points[0][0].as_u64().expect("t");
        assert!((from..=to).contains(&t));
    }
    let web2 = hosts[1]["points"].as_array().expect("points");
    assert!(web2.iter().all(|p| (50.0..60.0).contains(&p[1].as_f64().expect("v"))), "web-2's own values");

    let r = get(server.addr, "/api/fleet/history?figure=mem_pct", &auth).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(r#""id":"web-2""#) && !r.body.contains(r#""id":"web-1""#), "{}", r.body);
    for (query, param) in [
        ("figure=cpu", "figure"),
        ("", "figure"),
        ("figure=cpu_pct&points=1", "points"),
        ("figure=cpu_pct&from=soon", "from"),
    ] {
        let r = get(server.addr, &format!("/api/fleet/history?{query}"), &auth).await;
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        assert!(r.body.contains(&format!("`{param}`")), "{query}: {}", r.body);
    }
    assert_eq!(get(server.addr, "/api/fleet/history?figure=cpu_pct", &[]).await.status, 401);

    for page in ["/fleet", "/fleet/metric?figure=mem_pct&range=6h"] {
        assert_eq!(get(server.addr, page, &[]).await.status, 401, "{page} without credentials");
        let r = get(server.addr, page, &auth).await;
        assert_eq!(r.status, 200, "{page}: {}", r.body);
        assert!(r.header("content-security-policy").is_some_and(|c| c.contains("nonce-")), "{page}: the page's CSP");
        assert!(!r.body.contains("Not found."), "{page}");
    }
    // The first paint holds the fleet's rows (this machine's `local` is a host), from the board.
    let r = get(server.addr, "/fleet", &auth).await;
    assert!(r.body.contains("data-testid=\"fleet-counts\"") && r.body.contains(r#"data-host="local""#), "{}", r.body);
    let r = get(server.addr, "/fleet/metric?figure=mem_pct&range=6h", &auth).await;
    assert!(r.body.contains("Memory across the fleet") && r.body.contains("aria-current=\"page\""), "{}", r.body);
    assert_eq!(get(server.addr, "/fleet/nowhere", &auth).await.status, 404);
    server.stop().await;
}
