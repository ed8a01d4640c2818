//! The audit log against a real server with a real history store and a real webhook receiver:
//! refused Basic credentials and tokens, throttles, silences, acknowledgements, a notification
//! test, role refusals, a login by the form and its logout each land as a JSON line in
//! `<data-dir>/audit.log` and as a row of the store, with no password or token in either; the
//! admin reads them in the audit view and as JSON, filtered by kind and user, a viewer is refused
//! both (and that is recorded too); the file rotates by size; a data directory that cannot be
//! written holds up no request and the store still gets the records.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use common::receiver::{Receiver, Reply};
use common::{basic, get_from, post};
use livedash_server::audit::file::{FILE_NAME, Rotation, old};
use livedash_server::audit::{Audit, AuditEvent, AuditKind};
use livedash_server::store::auth::audit::{AuditQuery, read};

const ANA: &str = "ana-password";
const WALL: &str = "wall-password";
const JSON: &str = "application/json";

/// A server with the rule `hot`, the channel `ops` (a receiver that accepts), `ana` who may act
/// and `wall` who may only look, a real store, and the data directory `data`.
async fn server(name: &str, data: &Path) -> (livedash_server::Running, Receiver, PathBuf) {
    let (up, _) = common::upstream::values(["temp"], 20.0).await;
    let hooks = Receiver::start().await;
    hooks.answer_at("/ok", Reply::new(200, "thanks", None));
    let toml = format!(
        "viewers = [\"wall\"]\n\n[[source]]\nname = \"up\"\nurl = \"http://{up}/\"\n\n\
         [[alert]]\nname = \"hot\"\nsource = \"up\"\nseries = \"temp\"\nabove = 50\n\n\
         [[notify]]\nname = \"ops\"\nwebhook = \"http://{}/ok\"\n",
        hooks.addr
    );
    let mut config = common::test_config_with_file(name, &toml);
    config.users = common::users_file(name, &[("ana", ANA), ("wall", WALL)]);
    let store = common::store_settings(name);
    let path = store.path.clone();
    config.store = Some(store);
    config.data_dir = data.to_owned();
    (common::start_with(config).await, hooks, path)
}

/// The records in the file (and its rotated ones), oldest first.
fn lines(file: &Path) -> Vec<Value> {
    let mut all = Vec::new();
    for n in (1..10).rev() {
        all.extend(std::fs::read_to_string(old(file, n)).unwrap_or_default().lines().map(String::from));
    }
    all.extend(std::fs::read_to_string(file).unwrap_or_default().lines().map(String::from));
    all.iter().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not one JSON object: {l}: {e}"))).collect()
}

fn kinds_in(records: &[Value]) -> BTreeSet<String> {
    records.iter().filter_map(|r| r["kind"].as_str().map(String::from)).collect()
}

/// Waits (10 s at most) until the file and the store hold every kind of `want`.
async fn until_recorded(file: &Path, store: &Path, want: &[&str]) -> (Vec<Value>, BTreeSet<String>) {
    for _ in 0..100 {
        let records = lines(file);
        let stored: BTreeSet<String> = read(store, &AuditQuery { limit: 1000, ..AuditQuery::default() })
            .unwrap_or_default()
            .into_iter()
            .map(|r| r.kind)
            .collect();
        let all = |have: &BTreeSet<String>| want.iter().all(|k| have.contains(*k));
        if all(&kinds_in(&records)) && all(&stored) {
            return (records, stored);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not all of {want:?} recorded: file {:?}", kinds_in(&lines(file)));
}

fn at(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

#[tokio::test]
async fn what_happens_lands_in_the_file_and_the_store_and_only_an_admin_reads_it() {
    let data = common::temp_dir("audit-data");
    let (server, _hooks, store) = server("audit-kinds", &data).await;
    let addr = server.addr;
    let ana = basic("ana", ANA);
    let page = [("Authorization", ana.as_str()), ("Sec-Fetch-Site", "same-origin")];

    // Guesses from .2: five wrong passwords, then throttled.
    for i in 0..6 {
        let wrong = basic("ana", &format!("guess-{i}"));
        let status = get_from(at(2), addr, "/api/ws-ticket", &[("Authorization", &wrong)]).await.0;
        assert_eq!(status, if i < 5 { 401 } else { 429 }, "guess {i}");
    }
    // An unknown token, as Bearer and as Ana's Basic password, from .5.
    let unknown =
        [("Authorization", "Bearer ldt_not-a-token".to_owned()), ("Authorization", basic("ana", "ldt_not-a-token"))];
    for (name, value) in &unknown {
        assert_eq!(get_from(at(5), addr, "/api/snapshot", &[(name, value.as_str())]).await.0, 401);
    }
    // Ana acts: a silence, an acknowledgement, a test through `ops`.
    let r = post(addr, "/api/alerts/silence", JSON, r#"{"rule":"hot","for":"1h","comment":"deploy"}"#, &page).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = post(addr, "/api/alerts/ack", JSON, r#"{"rule":"hot","comment":"on it"}"#, &page).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = post(addr, "/api/notify/test", JSON, r#"{"channel":"ops"}"#, &page).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Wall may look, not act, and not read the audit.
    let wall = basic("wall", WALL);
    let viewer = [("Authorization", wall.as_str()), ("Sec-Fetch-Site", "same-origin")];
    assert_eq!(post(addr, "/api/alerts/silence", JSON, r#"{"rule":"hot","for":"1h"}"#, &viewer).await.status, 403);
    let r = common::get(addr, "/audit", &viewer).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(!r.body.contains("login_failed") && !r.body.contains("deploy"), "{}", r.body);

    // Ana logs in by the form, reads the log as JSON with her session, and logs out.
    let form = format!("username=ana&password={ANA}");
    let r =
        post(addr, "/login", "application/x-www-form-urlencoded", &form, &[("Sec-Fetch-Site", "same-origin")]).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let cookie = r.header("set-cookie").and_then(|c| c.split(';').next()).expect("a session cookie").to_owned();
    let r = common::get(addr, "/api/audit?kind=silence", &[("Cookie", &cookie)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let json: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(json["records"][0]["detail"]["rule"], "hot", "{json}");
    assert_eq!(json["records"].as_array().map(Vec::len), Some(1), "{json}");
    assert_eq!(common::get(addr, "/api/audit", &viewer).await.status, 403);
    let r = post(
        addr,
        "/logout",
        "application/x-www-form-urlencoded",
        "",
        &[("Cookie", &cookie), ("Sec-Fetch-Site", "same-origin")],
    )
    .await;
    assert!(r.status == 303 || r.status == 204, "{}", r.body);

    let file = data.join(FILE_NAME);
    let want = ["login_failed", "throttled", "silence", "ack", "notify_test", "role_refused", "login", "logout"];
    let (records, _) = until_recorded(&file, &store, &want).await;
    let of = |kind: &str| records.iter().filter(|r| r["kind"] == kind).cloned().collect::<Vec<_>>();
    let failed = of("login_failed");
    let (basic_failed, token_failed): (Vec<_>, Vec<_>) = failed.iter().partition(|r| r["detail"]["via"] == "basic");
    assert_eq!(basic_failed.len(), 5, "{failed:?}");
    assert!(basic_failed.iter().all(|r| r["user"] == "ana" && r["addr"] == "127.0.0.2"));
    let tokens: Vec<_> =
        token_failed.iter().map(|r| (r["user"].as_str(), r["addr"].as_str(), r["detail"]["via"].as_str())).collect();
    assert_eq!(tokens, [(None, Some("127.0.0.5"), Some("token")), (Some("ana"), Some("127.0.0.5"), Some("token"))]);
    assert!(of("throttled")[0]["detail"]["retry_after_s"].as_f64().is_some_and(|s| s > 0.0));
    let silence = &of("silence")[0];
    assert_eq!(
        (&silence["user"], &silence["detail"]["rule"], &silence["detail"]["comment"]),
        (&"ana".into(), &"hot".into(), &"deploy".into())
    );
    assert!(silence["time"].as_str().is_some_and(|t| t.ends_with('Z')), "{silence}");
    assert_eq!(of("notify_test")[0]["detail"]["accepted"], true);
    let refused = of("role_refused");
    let paths: BTreeSet<_> = refused.iter().map(|r| (r["user"].as_str(), r["detail"]["path"].as_str())).collect();
    assert_eq!(
        paths,
        BTreeSet::from([
            (Some("wall"), Some("/api/alerts/silence")),
            (Some("wall"), Some("/audit")),
            (Some("wall"), Some("/api/audit"))
        ])
    );
    assert_eq!((&of("login")[0]["user"], &of("logout")[0]["user"]), (&"ana".into(), &"ana".into()));
    // No password in the file.
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !text.contains(ANA) && !text.contains(WALL) && !text.contains("guess-") && !text.contains("not-a-token"),
        "{text}"
    );

    // The admin's view: everything, newest first; filtered by kind and by user.
    let r = common::get(addr, "/audit", &[("Authorization", &ana)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("content-security-policy").is_some());
    for kind in ["login failed", "throttled", "silence", "ack", "notify test", "role refused", "login", "logout"] {
        assert!(r.body.contains(&format!(">{kind}</td>")), "{kind} missing: {}", r.body);
    }
    let first = |body: &str, a: &str, b: &str| body.find(a).unwrap() < body.find(b).unwrap();
    assert!(first(&r.body, r#"data-kind="notify_test""#, r#"data-kind="silence""#), "newest first");
    let r = common::get(addr, "/audit?kind=silence", &[("Authorization", &ana)]).await;
    assert_eq!(r.body.matches("<tr data-kind=").count(), 1, "{}", r.body);
    let r = common::get(addr, "/audit?user=wall", &[("Authorization", &ana)]).await;
    assert_eq!(r.body.matches(r#"<tr data-kind="role_refused""#).count(), 3, "{}", r.body);
    assert_eq!(r.body.matches("<tr data-kind=").count(), 3, "{}", r.body);
    assert_eq!(common::get(addr, "/audit?kind=nonsense", &[("Authorization", &ana)]).await.status, 400);
    // Linked from the Sessions view and the Alerts view, for an admin only.
    for path in ["/sessions", "/alerts"] {
        let link = r#"data-testid="audit-link""#;
        assert!(common::get(addr, path, &[("Authorization", &ana)]).await.body.contains(link), "{path}");
        assert!(!common::get(addr, path, &viewer).await.body.contains(link), "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn the_file_rotates_by_size_keeping_the_newest_records() {
    let data = common::temp_dir("audit-rotate");
    let audit = Audit::with_rotation(&data, None, Rotation { max_bytes: 2_000, keep: 2 });
    for i in 0..200u32 {
        audit.record(AuditEvent::new(AuditKind::Login, Some("ana"), Some(at(1))).with("n", i));
    }
    assert!(audit.flush(Duration::from_secs(10)));
    let file = data.join(FILE_NAME);
    assert!(old(&file, 1).exists() && old(&file, 2).exists() && !old(&file, 3).exists());
    for path in [file.clone(), old(&file, 1), old(&file, 2)] {
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(size > 0 && size <= 2_000, "{}: {size} bytes", path.display());
    }
    // The newest records, in order, with none missing in between; the oldest are gone.
    let numbers: Vec<u64> = lines(&file).iter().map(|r| r["detail"]["n"].as_u64().unwrap()).collect();
    assert_eq!(numbers.last(), Some(&199));
    assert!(numbers.windows(2).all(|w| w[1] == w[0] + 1), "{numbers:?}");
    assert!(numbers[0] > 0 && numbers.len() < 200, "{numbers:?}");
}

#[tokio::test]
async fn a_data_directory_that_cannot_be_written_holds_up_nothing() {
    let dir = common::temp_dir("audit-refusing");
    // The data directory is under a file: nothing can be made there.
    let blocker = dir.join("a-file");
    std::fs::write(&blocker, b"").unwrap();
    let (server, _hooks, store) = server("audit-refusing-store", &blocker.join("data")).await;
    let addr: SocketAddr = server.addr;
    for i in 0..5 {
        let wrong = basic("ana", &format!("guess-{i}"));
        assert_eq!(get_from(at(3), addr, "/api/ws-ticket", &[("Authorization", &wrong)]).await.0, 401);
    }
    assert_eq!(get_from(at(4), addr, "/api/ws-ticket", &[("Authorization", &basic("ana", ANA))]).await.0, 200);
    assert!(!blocker.join("data").exists());
    // The store still has them.
    for _ in 0..100 {
        let query = AuditQuery { kind: Some("login_failed".into()), limit: 10, ..AuditQuery::default() };
        if read(&store, &query).unwrap_or_default().len() == 5 {
            server.stop().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the store did not get the records");
}
