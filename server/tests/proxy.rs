//! Behind a reverse proxy on a sub-path (`--public-url https://ops.example.com/dash`), against a
//! real server on 127.0.0.1:0: everything is served under the base path and nothing outside it,
//! the WebSocket accepts the public origin (and only it), and the page tells the browser its base.
//! That forwarded headers count only from `--trusted-proxy` peers is in `security.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{PASSWORD, basic, get, handshake};
use livedash_server::Running;
use livedash_server::config::PublicUrl;

const PUBLIC_ORIGIN: &str = "https://ops.example.com";

async fn start_under_dash() -> Running {
    let mut config = common::test_config(PASSWORD);
    config.public_url = Some(PublicUrl { origin: PUBLIC_ORIGIN.to_owned(), base: "/dash".to_owned() });
    common::start_with(config).await
}

#[tokio::test]
async fn everything_is_served_under_the_base_path_and_nothing_outside_it() {
    let server = start_under_dash().await;
    let addr = server.addr;
    let auth = basic("admin", PASSWORD);
    let with_auth = [("Authorization", auth.as_str())];

    let health = get(addr, "/dash/healthz", &[]).await;
    assert_eq!(health.status, 200, "{}", health.body);
    assert!(health.body.contains("\"sources\""), "{}", health.body);

    let page = get(addr, "/dash/", &with_auth).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(r#"<meta name="livedash-base" content="/dash""#), "base meta tag missing");
    assert!(page.body.contains(r#"href="/dash/pkg/livedash.css""#), "stylesheet not under the base");
    assert!(page.body.contains(r#"href="/dash/favicon.svg""#), "icon not under the base");
    // The hydration script loads the JS and WASM from `${root}/pkg/...` with root = the base.
    assert!(page.body.contains(r#"("/dash", "pkg", "livedash""#), "hydration root not the base");
    assert!(page.body.contains("cpu_pct") || page.body.contains("CPU"), "not server-rendered with data");
    assert!(!page.body.contains("Not found."), "the router did not match the page");

    let snapshot = get(addr, "/dash/api/snapshot", &with_auth).await;
    assert_eq!(snapshot.status, 200, "{}", snapshot.body);
    assert!(snapshot.body.contains("\"sources\""), "{}", snapshot.body);
    assert_eq!(get(addr, "/dash/api/ws-ticket", &with_auth).await.status, 200);

    // Under the base, authentication still guards everything but the health check.
    for path in ["/dash/", "/dash/api/snapshot", "/dash/pkg/livedash.css", "/dash/metrics"] {
        assert_eq!(get(addr, path, &[]).await.status, 401, "{path}");
    }
    // `/dash` alone goes to `/dash/`, with its query.
    let redirect = get(addr, "/dash?x=1", &[]).await;
    assert_eq!(redirect.status, 308);
    assert_eq!(redirect.header("location"), Some("/dash/?x=1"));
    // Outside it: 404 with the hint for a proxy that strips the prefix, whatever the credentials.
    for path in ["/", "/healthz", "/api/snapshot", "/ws", "/pkg/livedash.css", "/dashboard/", "/das"] {
        let r = get(addr, path, &with_auth).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(r.body.contains("/dash/") && r.body.contains("--public-url"), "{path}: {}", r.body);
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{path}: security headers");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_socket_is_under_the_base_path_and_expects_the_public_origin() {
    let server = start_under_dash().await;
    let addr = server.addr;
    let auth = basic("admin", PASSWORD);
    let accepted = handshake(addr, "/dash/ws", &[("Authorization", &auth), ("Origin", PUBLIC_ORIGIN)]).await;
    assert_eq!(accepted.status, 101);
    // The origin the request reached the server at is not the public one: refused.
    let direct = format!("http://{addr}");
    let refused = handshake(addr, "/dash/ws", &[("Authorization", &auth), ("Origin", &direct)]).await;
    assert_eq!(refused.status, 403);
    // Neither do forwarded headers make another origin acceptable, even from a trusted peer.
    let forwarded = handshake(
        addr,
        "/dash/ws",
        &[("Authorization", &auth), ("Origin", "https://evil.example"), ("X-Forwarded-Host", "evil.example")],
    )
    .await;
    assert_eq!(forwarded.status, 403);
    assert_eq!(handshake(addr, "/ws", &[("Authorization", &auth), ("Origin", PUBLIC_ORIGIN)]).await.status, 404);

    // The page's question "why is my socket refused" names the public URL.
    let ask = |origin: &str| format!("/dash/api/ws-diagnose?origin={origin}&ticket=x");
    let why = get(addr, &ask(&direct), &[("Authorization", &auth)]).await;
    assert_eq!(why.status, 200);
    assert!(why.body.contains(PUBLIC_ORIGIN) && why.body.contains("--public-url"), "{}", why.body);
    let origin_fine = get(addr, &ask(PUBLIC_ORIGIN), &[("Authorization", &auth)]).await;
    assert_eq!(origin_fine.status, 200);
    assert!(!origin_fine.body.contains("origin"), "{}", origin_fine.body);
    server.stop().await;
}

#[tokio::test]
async fn an_allowed_origin_is_accepted_beside_the_public_one() {
    let mut config = common::test_config(PASSWORD);
    config.public_url = Some(PublicUrl { origin: PUBLIC_ORIGIN.to_owned(), base: String::new() });
    config.allowed_origins = vec!["https://wall.example.com".to_owned()];
    let server = common::start_with(config).await;
    let auth = basic("admin", PASSWORD);
    for (origin, status) in [(PUBLIC_ORIGIN, 101), ("https://wall.example.com", 101), ("https://evil.example", 403)] {
        let r = handshake(server.addr, "/ws", &[("Authorization", &auth), ("Origin", origin)]).await;
        assert_eq!(r.status, status, "{origin}");
    }
    // An empty base path serves at the root as without --public-url.
    assert_eq!(get(server.addr, "/healthz", &[]).await.status, 200);
    server.stop().await;
}
