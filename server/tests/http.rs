//! HTTP behaviour of a real server on 127.0.0.1:0: who gets in, and what the page contains.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{PASSWORD, basic, get};

/// Waits until the local source has produced at least one sample.
async fn wait_for_data(addr: std::net::SocketAddr) {
    let auth = basic("admin", PASSWORD);
    for _ in 0..50 {
        let r = get(addr, "/api/snapshot", &[("Authorization", &auth)]).await;
        assert_eq!(r.status, 200, "{r:?}");
        if r.body.contains("\"seq\":") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no sample within 5 s");
}

#[tokio::test]
async fn page_without_credentials_is_401_with_a_basic_challenge() {
    let server = common::start().await;
    wait_for_data(server.addr).await;
    for path in ["/", "/api/snapshot", "/api/ws-ticket", "/pkg/livedash.js", "/favicon.svg", "/no-such-page"] {
        let r = get(server.addr, path, &[]).await;
        assert_eq!(r.status, 401, "{path}: {r:?}");
        assert!(r.header("www-authenticate").is_some_and(|v| v.starts_with("Basic realm=")), "{path}");
        assert!(!r.body.contains("cpu_pct") && !r.body.contains("\"seq\""), "{path} leaked data: {}", r.body);
    }
    server.stop().await;
}

#[tokio::test]
async fn wrong_credentials_are_401() {
    let server = common::start().await;
    for auth in [basic("admin", "wrong"), basic("root", PASSWORD), basic("", ""), "Bearer abc".to_owned()] {
        let r = get(server.addr, "/", &[("Authorization", &auth)]).await;
        assert_eq!(r.status, 401, "{auth}: {r:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn page_with_credentials_is_server_rendered_with_values() {
    let server = common::start().await;
    wait_for_data(server.addr).await;
    let r = get(server.addr, "/", &[("Authorization", &basic("admin", PASSWORD))]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert!(r.header("content-type").is_some_and(|v| v.starts_with("text/html")));
    let body = &r.body;
    assert!(body.contains(r#"data-source="local""#), "{body}");
    // The CPU card carries a number, rendered on the server.
    let card = body.split(r#"data-series="cpu_pct""#).nth(1).expect("cpu card");
    let num = card.split(r#"<span class="num">"#).nth(1).and_then(|s| s.split('<').next()).expect("value");
    assert!(num.parse::<f64>().is_ok(), "value {num:?}");
    // The local source's built-in settings: memory as a share of the total, its percentage hidden.
    assert!(body.contains(r#"data-series="mem_used_bytes""#) && body.contains(r#"data-series="load_avg""#));
    assert!(!body.contains(r#"data-series="mem_pct""#), "hidden by the local defaults");
    // The hello it was rendered from, for the browser to hydrate from, with no way out of its
    // script element.
    let json = body.split(r#"id="livedash-snapshot""#).nth(1).and_then(|s| s.split_once('>')).expect("snapshot").1;
    let json = json.split("</script>").next().expect("end");
    let hello: livedash::Hello = serde_json::from_str(json).expect("a hello");
    assert!(hello.settings.contains_key("local"), "with the local defaults");
    assert!(!json.contains('<'));
    // And the hydration script that will take it over.
    assert!(body.contains("/pkg") && body.contains("livedash"), "{body}");
    server.stop().await;
}

#[tokio::test]
async fn healthz_is_open_and_carries_no_data_and_no_names() {
    let server = common::start().await;
    wait_for_data(server.addr).await;
    let r = get(server.addr, "/healthz", &[]).await;
    assert_eq!(r.status, 200);
    let health: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        health,
        serde_json::json!({"status": "ok", "sources": 1, "ok": 1, "failing": 0, "stale": 0, "history": "memory"}),
        "counts and whether history is saved (this test server keeps it in memory): no names, no data"
    );
    // The names and ages are for those who logged in.
    assert_eq!(get(server.addr, "/api/health", &[]).await.status, 401);
    let r = get(server.addr, "/api/health", &[("Authorization", &basic("admin", PASSWORD))]).await;
    assert_eq!(r.status, 200);
    let health: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["sources"][0]["source"], "local");
    assert_eq!(health["sources"][0]["state"], "ok");
    assert!(health["sources"][0]["last_good_age_ms"].as_u64().is_some_and(|age| age < 5_000), "{health}");
    assert!(!r.body.contains("cpu_pct"), "no data values: {}", r.body);
    server.stop().await;
}

#[tokio::test]
async fn snapshot_and_ticket_need_credentials_and_answer_with_them() {
    let server = common::start().await;
    wait_for_data(server.addr).await;
    let auth = basic("admin", PASSWORD);
    let snap = get(server.addr, "/api/snapshot", &[("Authorization", &auth)]).await;
    assert_eq!(snap.status, 200);
    let hello: livedash::Hello = serde_json::from_str(&snap.body).expect("a hello body");
    assert_eq!(hello.v, livedash::PROTOCOL_VERSION);
    assert!(hello.history.iter().any(|s| &*s.source == "local"));
    assert_eq!(hello.interval_ms["local"], 200);

    let ticket = get(server.addr, "/api/ws-ticket", &[("Authorization", &auth)]).await;
    assert_eq!(ticket.status, 200);
    let ticket: String = serde_json::from_str(&ticket.body).expect("a JSON string");
    assert!(ticket.len() > 40 && ticket.contains('.'), "{ticket}");
    server.stop().await;
}

#[tokio::test]
async fn metrics_need_credentials_and_count_what_happens() {
    let server = common::start().await;
    wait_for_data(server.addr).await;
    assert_eq!(get(server.addr, "/metrics", &[]).await.status, 401);
    // One wrong login, then the metrics.
    assert_eq!(get(server.addr, "/", &[("Authorization", &basic("admin", "nope"))]).await.status, 401);
    let r = get(server.addr, "/metrics", &[("Authorization", &basic("admin", PASSWORD))]).await;
    assert_eq!(r.status, 200);
    // The classic text format, which promtool checks (Prometheus scrapes both).
    assert!(r.header("content-type").is_some_and(|t| t.starts_with("text/plain; version=0.0.4")));
    let value = |name: &str| -> f64 {
        r.body
            .lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {}", r.body))
    };
    assert_eq!(value("livedash_clients"), 0.0);
    assert_eq!(value("livedash_login_failures_total"), 1.0);
    assert!(value("livedash_frames_published_total") >= 1.0);
    assert!(value(r#"livedash_source_fetch_seconds_count{source="local"}"#) >= 1.0);
    assert_eq!(value(r#"livedash_source_up{source="local"}"#), 1.0);
    assert!(!r.body.contains("cpu_pct"), "no data values");
    server.stop().await;
}

#[tokio::test]
async fn the_page_can_ask_why_its_socket_is_refused() {
    let server = common::start().await;
    let addr = server.addr;
    let auth = basic("admin", PASSWORD);
    let ticket = || common::ticket(addr);
    let ask = |origin: String, ticket: String| {
        let auth = auth.clone();
        async move {
            let path = format!("/api/ws-diagnose?origin={origin}&ticket={ticket}");
            let r = get(addr, &path, &[("Authorization", &auth)]).await;
            assert_eq!(r.status, 200, "{}", r.body);
            r.body
        }
    };
    let own = format!("http://{addr}");
    // A foreign origin: the flag that fixes it.
    let why = ask("https://evil.example".to_owned(), ticket().await).await;
    assert!(why.contains("--allowed-origin") && why.contains(&addr.to_string()), "{why}");
    // The right origin and a ticket the server never saw: the upgrade did not reach it.
    let why = ask(own.clone(), ticket().await).await;
    assert!(why.contains("forward the WebSocket upgrade"), "{why}");
    // A ticket the server redeemed (the socket got past it): the connection limit.
    let used = ticket().await;
    let (socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws?ticket={used}")).await.expect("socket");
    let why = ask(own.clone(), used).await;
    assert!(why.contains("--max-connections"), "{why}");
    // A ticket that is not valid.
    let why = ask(own, "forged".to_owned()).await;
    assert!(why.contains("refused the live connection's ticket"), "{why}");
    assert_eq!(get(addr, "/api/ws-diagnose?origin=x&ticket=y", &[]).await.status, 401);
    drop(socket);
    server.stop().await;
}

#[tokio::test]
async fn metrics_can_have_a_loopback_listener_of_their_own() {
    let mut config = common::test_config(PASSWORD);
    config.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    let server = common::start_with(config).await;
    let addr = server.metrics_addr.expect("a metrics address");
    let r = get(addr, "/metrics", &[]).await;
    assert_eq!(r.status, 200, "no credentials needed there");
    assert!(r.body.contains("livedash_clients"));
    let health = get(addr, "/healthz", &[]).await;
    assert!(health.body.contains(r#""source":"local""#), "names there, for the local Prometheus: {}", health.body);
    assert_eq!(get(addr, "/", &[]).await.status, 404, "nothing else is served there");
    assert_eq!(get(server.addr, "/metrics", &[]).await.status, 401, "the main listener still asks");
    server.stop().await;
}

#[tokio::test]
async fn the_metrics_listener_answers_requests_for_loopback_hosts_only() {
    // The real binary: a page from another site whose DNS name was rebound to 127.0.0.1 reaches
    // the listener, but its requests name that site as their Host.
    let dir = common::temp_dir("metrics-host");
    let (addr, metrics) = (common::free_addr(), common::free_addr());
    let mut child =
        common::livedash(addr, &dir).args(["--metrics-listen", &metrics.to_string()]).spawn().expect("start livedash");
    assert!(common::wait_listening(metrics, Duration::from_secs(30)).await, "the metrics listener came up");
    let port = metrics.port();
    let ask = async |path: &str, host: &str| {
        let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        common::raw(metrics, request.as_bytes()).await
    };
    for host in ["rebind.example".to_owned(), format!("rebind.example:{port}"), format!("10.1.2.3:{port}")] {
        for path in ["/metrics", "/healthz"] {
            let r = ask(path, &host).await;
            // Before: 200 with the metrics and the sources' names for any Host.
            assert_eq!(r.status, 421, "{path} for Host {host}: {}", r.body);
            assert!(r.body.contains("loopback host") && !r.body.contains("livedash_"), "{}", r.body);
        }
    }
    let r = common::raw(metrics, b"GET /metrics HTTP/1.0\r\n\r\n").await;
    assert_eq!(r.status, 421, "no Host at all: {}", r.body);
    for host in
        [format!("127.0.0.1:{port}"), format!("localhost:{port}"), "localhost".to_owned(), format!("[::1]:{port}")]
    {
        let r = ask("/metrics", &host).await;
        assert_eq!(r.status, 200, "Host {host}: {}", r.body);
        assert!(r.body.contains("livedash_clients"));
    }
    child.kill().await.expect("stop livedash");
    let _ = std::fs::remove_dir_all(&dir);
}
