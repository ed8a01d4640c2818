//! The notification channels against real receivers: an HTTP receiver started here checks the
//! generic webhook's JSON (one alert, several, a template's output, headers from a secret file),
//! the Slack, Discord, Mattermost and ntfy bodies and their authentication; its answers are
//! classified (2xx accepted, 408/429/5xx retried with `Retry-After`, other 4xx and redirects
//! refused) and no error or state shows the URL's secret. A real aiosmtpd receives the mail over
//! STARTTLS (a private CA trusted with `ca_file`) and over implicit TLS; a server without STARTTLS
//! gets nothing, nor does one whose certificate is not trusted. `livedash notify test` prints a
//! receiver's answer and exits 1 on a refusal; a bad `[[notify]]` stops start-up naming its key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "notify_channels/smtp_server.rs"]
mod smtp_server;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::receiver::{self, Receiver, Reply};
use livedash_server::config::{Config, ServeArgs};
use livedash_server::notify::channel::{full_sample, sample};
use livedash_server::notify::{Channel, Message, Notice, SendError, Status};
use serde_json::json;
use smtp_server::SmtpServer;

/// The channels of a config file holding `toml`, read as start-up reads them.
fn channels(dir: &Path, toml: &str) -> Vec<Arc<Channel>> {
    let path = dir.join("livedash.toml");
    std::fs::write(&path, toml).unwrap();
    let args = ServeArgs::for_file(path, None, dir.join("data")).unwrap();
    Config::from_args(&args, None).unwrap().notify
}

fn two_alerts() -> Message {
    let mut m = full_sample();
    let first = m.notices[0].clone();
    m.notices.push(Notice { id: "second-id".into(), rule: "mem_high".into(), status: Status::Firing, ..first });
    m
}

#[tokio::test]
async fn the_webhook_posts_the_notice_json_with_its_headers() {
    let dir = common::temp_dir("notify-webhook");
    let r = Receiver::start().await;
    std::fs::write(dir.join("auth"), "Bearer from-a-file\n").unwrap();
    let toml = format!(
        "[[notify]]\nname = \"hook\"\nwebhook = \"{}\"\nheaders = {{ Authorization = {{ file = {:?} }}, X-Team = \"ops\" }}\n\
         [[notify]]\nname = \"templated\"\nwebhook = \"{}\"\ntemplate = \"{{{{ alert.status|upper }}}}: {{{{ alert.rule }}}} on {{{{ alert.source }}}} ({{{{ alerts|length }}}})\"\n\
         [[notify]]\nname = \"typed\"\nwebhook = \"{}\"\nheaders = {{ Content-Type = \"application/cloudevents+json\" }}\n",
        r.url_at("/hook"),
        dir.join("auth"),
        r.url_at("/templated"),
        r.url_at("/typed")
    );
    let c = channels(&dir, &toml);
    let answer = c[0].send(&full_sample()).await.unwrap();
    assert_eq!((answer.code, answer.text.as_str()), (200, "ok"));
    c[0].send(&two_alerts()).await.unwrap();
    c[1].send(&full_sample()).await.unwrap();
    c[2].send(&full_sample()).await.unwrap();
    let got = r.got();
    assert_eq!(got.len(), 4);
    assert_eq!(got[0].path, "/hook");
    assert_eq!(got[0].header("content-type"), Some("application/json"));
    assert_eq!(got[0].header("authorization"), Some("Bearer from-a-file"));
    assert_eq!(got[0].header("x-team"), Some("ops"));
    let one = got[0].json();
    let expected = json!({
        "kind": "alert", "id": "sample-id", "status": "resolved", "rule": "cpu_high", "severity": "critical",
        "source": "web1", "series": "cpu_pct", "value": 42.0, "threshold": 90.0,
        "started_at": "2026-01-01T00:00:00Z", "resolved_at": "2026-01-01T00:05:00Z", "peak": 97.5,
        "duration_s": 300, "url": "https://livedash.example/chart",
        "silence_url": "https://livedash.example/alerts?silence=cpu_high",
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&one[key], value, "{key} in {one}");
    }
    let several = got[1].json();
    assert_eq!(several["kind"], "alert");
    assert!(several["id"].as_str().is_some_and(|id| !id.is_empty() && id != "sample-id"));
    let rules: Vec<&str> = several["alerts"].as_array().unwrap().iter().map(|a| a["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["cpu_high", "mem_high"]);
    assert_eq!(std::str::from_utf8(&got[2].raw).unwrap(), "RESOLVED: cpu_high on web1 (1)");
    assert!(got[2].header("content-type").unwrap().starts_with("text/plain"));
    let types: Vec<_> = got[3].headers.get_all("content-type").iter().collect();
    assert_eq!(types, ["application/cloudevents+json"], "a configured Content-Type replaces ours");
}

#[tokio::test]
async fn slack_discord_mattermost_and_ntfy_bodies_have_their_documented_shapes() {
    let dir = common::temp_dir("notify-chat");
    let r = Receiver::start().await;
    let toml = format!(
        "[[notify]]\nname = \"s\"\nslack = \"{}\"\n[[notify]]\nname = \"d\"\ndiscord = \"{}\"\n\
         [[notify]]\nname = \"m\"\nmattermost = \"{}\"\n\
         [[notify]]\nname = \"n\"\nntfy = \"{}\"\ntoken = \"tk_SECRET\"\n\
         [[notify]]\nname = \"nb\"\nntfy = \"{}\"\nuser = \"bob\"\npassword = \"pw\"\n",
        r.url_at("/services/T0/B0/SECRET"),
        r.url_at("/api/webhooks/1/SECRET"),
        r.url_at("/hooks/SECRET"),
        r.url_at("/ntfy/alerts"),
        r.url_at("/ntfy/alerts")
    );
    let c = channels(&dir, &toml);
    let mut firing = full_sample();
    firing.notices[0].status = Status::Firing;
    for channel in &c {
        channel.send(&firing).await.unwrap();
    }
    let got = r.take();
    assert_eq!(got.len(), 5);
    for g in &got {
        assert_eq!(g.header("content-type"), Some("application/json"), "{}", g.path);
    }
    let slack = got[0].json();
    assert_eq!(slack.as_object().unwrap().keys().collect::<Vec<_>>(), ["text"]);
    let text = slack["text"].as_str().unwrap();
    assert!(text.contains("[FIRING] cpu_high on web1") && text.contains("<https://livedash.example/chart|chart>"));

    let discord = got[1].json();
    assert!(discord["content"].as_str().is_some_and(|c| c.contains("cpu_high") && c.chars().count() <= 2000));
    let embed = &discord["embeds"][0];
    assert!(embed["title"].is_string() && embed["description"].is_string() && embed["color"].is_u64());
    assert_eq!(embed["url"], "https://livedash.example/chart");
    assert_eq!(discord["allowed_mentions"], json!({"parse": []}));

    let mattermost = got[2].json();
    assert!(mattermost["text"].as_str().is_some_and(|t| t.contains("[chart](https://livedash.example/chart)")));

    assert_eq!(got[3].path, "/ntfy/", "ntfy's JSON is published to the server's root");
    let ntfy = got[3].json();
    assert_eq!(
        (&ntfy["topic"], &ntfy["priority"], &ntfy["tags"]),
        (&json!("alerts"), &json!(5), &json!(["rotating_light"]))
    );
    assert!(ntfy["title"].as_str().is_some_and(|t| t.contains("cpu_high")) && ntfy["message"].is_string());
    assert_eq!(ntfy["click"], "https://livedash.example/chart");
    assert_eq!(got[3].header("authorization"), Some("Bearer tk_SECRET"));
    assert_eq!(got[4].header("authorization"), Some("Basic Ym9iOnB3"));

    // Resolved: priority 3 and a check mark; a warning firing: 4.
    c[3].send(&full_sample()).await.unwrap();
    firing.notices[0].severity = livedash::alerts::Severity::Warning;
    c[3].send(&firing).await.unwrap();
    let got = r.take();
    assert_eq!((&got[0].json()["priority"], &got[0].json()["tags"]), (&json!(3), &json!(["white_check_mark"])));
    assert_eq!((&got[1].json()["priority"], &got[1].json()["tags"]), (&json!(4), &json!(["warning"])));
}

fn assert_no_secret(e: &SendError) {
    assert!(!e.to_string().contains("SECRET"), "{e}");
}

#[tokio::test]
async fn answers_are_classified_and_never_show_the_url() {
    let dir = common::temp_dir("notify-answers");
    let r = Receiver::start().await;
    let down = common::free_addr();
    let toml = format!(
        "[[notify]]\nname = \"hook\"\nwebhook = \"{}\"\n[[notify]]\nname = \"down\"\nwebhook = \"http://{down}/x/SECRET\"\n",
        r.url_at("/hook/SECRET")
    );
    let c = channels(&dir, &toml);
    let hook = &c[0];
    let message = sample("hook");
    r.answer(Reply::new(202, "thanks", None));
    let a = hook.send(&message).await.unwrap();
    assert_eq!((a.code, a.text.as_str()), (202, "thanks"));
    for (status, after) in [(500, None), (503, Some("7")), (408, None), (429, Some("2"))] {
        r.answer(Reply::new(status, "busy", after));
        match hook.send(&message).await {
            Err(e @ SendError::Retry { .. }) => {
                assert_no_secret(&e);
                let SendError::Retry { reason, after: waited } = e else { unreachable!() };
                assert!(reason.contains(&status.to_string()) && reason.contains("busy"), "{reason}");
                assert_eq!(waited, after.map(|s| Duration::from_secs(s.parse().unwrap())));
            }
            other => panic!("{status}: {other:?}"),
        }
    }
    for status in [400, 401, 404, 410, 302] {
        r.answer(Reply::new(status, "no such hook", None));
        match hook.send(&message).await {
            Err(e @ SendError::Refused { .. }) => {
                assert_no_secret(&e);
                assert!(e.to_string().contains(&status.to_string()), "{e}");
            }
            other => panic!("{status}: {other:?}"),
        }
    }
    match c[1].send(&message).await {
        Err(e @ SendError::Retry { .. }) => assert_no_secret(&e),
        other => panic!("a receiver that is down: {other:?}"),
    }
    for channel in &c {
        let shown = format!("{:?} {:?}", channel.state(), channel);
        assert!(!shown.contains("SECRET") && !shown.contains("/hook"), "{shown}");
    }
    assert_eq!(c[0].state().target, r.addr.to_string());
}

fn mail_channel(dir: &Path, url: &str, ca: Option<&PathBuf>) -> Arc<Channel> {
    let ca = ca.map(|p| format!("ca_file = {p:?}\n")).unwrap_or_default();
    let secret = dir.join("smtp-password");
    std::fs::write(&secret, smtp_server::PASSWORD).unwrap();
    let toml = format!(
        "[[notify]]\nname = \"mail\"\nsmtp = \"{url}\"\nuser = \"{}\"\npassword = {{ file = {secret:?} }}\n\
         from = \"livedash@example.org\"\nto = [\"ops@example.org\", \"oncall@example.org\"]\n{ca}",
        smtp_server::USER
    );
    channels(dir, &toml).remove(0)
}

#[tokio::test]
async fn mail_goes_over_starttls_or_implicit_tls_and_never_in_clear() {
    let dir = common::temp_dir("notify-smtp");
    let (ca, cert, key) = smtp_server::certificates(&dir);

    let starttls = SmtpServer::start("starttls", &dir, &cert, &key).await;
    let mail = mail_channel(&dir, &format!("smtp://127.0.0.1:{}?tls=required", starttls.port), Some(&ca));
    let answer = mail.send(&full_sample()).await.unwrap();
    assert_eq!(answer.code, 250);
    assert!(answer.text.contains("queued as test-0"), "{answer:?}");
    let mails = starttls.mails();
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert!(m.contains("X-Test-TLS: True") && m.contains("X-Test-Login: b'bob'"), "{m}");
    assert!(m.contains("X-Test-Rcpt: ops@example.org,oncall@example.org"), "{m}");
    assert!(
        m.contains("Subject: [RESOLVED] cpu_high on web1") && m.contains("Message-ID: <sample-id@livedash>"),
        "{m}"
    );
    // The body as the reader sees it: quoted-printable's soft line breaks joined.
    let body = m.replace("=\r\n", "").replace("=\n", "");
    assert!(body.contains("peak 97.5") && body.contains("https://livedash.example/chart"), "{m}");

    // The same server, its CA not trusted: nothing sent (retried: a certificate can be renewed).
    let untrusted = mail_channel(&dir, &format!("smtp://127.0.0.1:{}?tls=required", starttls.port), None);
    match untrusted.send(&full_sample()).await {
        Err(e @ SendError::Retry { .. }) => {
            assert!(e.to_string().contains("certificate") && !e.to_string().contains(smtp_server::PASSWORD), "{e}");
        }
        other => panic!("an untrusted certificate: {other:?}"),
    }
    assert_eq!(starttls.mails().len(), 1);

    let implicit = SmtpServer::start("implicit", &dir, &cert, &key).await;
    let mail = mail_channel(&dir, &format!("smtps://127.0.0.1:{}", implicit.port), Some(&ca));
    assert_eq!(mail.send(&sample("mail")).await.unwrap().code, 250);
    let mails = implicit.mails();
    assert!(mails.len() == 1 && mails[0].contains("X-Test-TLS: True") && mails[0].contains("livedash: test message"));

    // A server that offers no STARTTLS (and would take mail in clear) gets nothing.
    let plain = SmtpServer::start("plain", &dir, &cert, &key).await;
    let mail = mail_channel(&dir, &format!("smtp://127.0.0.1:{}?tls=required", plain.port), Some(&ca));
    match mail.send(&full_sample()).await {
        Err(e @ SendError::Refused { .. }) => {
            assert!(e.to_string().contains("STARTTLS"), "{e}");
            assert!(!e.to_string().contains(smtp_server::PASSWORD), "{e}");
        }
        other => panic!("a server without STARTTLS: {other:?}"),
    }
    assert!(plain.mails().is_empty(), "mail was sent in clear");
}

#[tokio::test]
async fn an_https_webhook_trusts_a_private_ca_from_ca_file() {
    let dir = common::temp_dir("notify-https");
    let (ca, cert, key) = smtp_server::certificates(&dir);
    let (addr, count) = receiver::https(&cert, &key).await;
    let url = format!("https://127.0.0.1:{}/hook/SECRET", addr.port());
    let toml = format!(
        "[[notify]]\nname = \"trusting\"\nwebhook = \"{url}\"\nca_file = {ca:?}\n[[notify]]\nname = \"plain\"\nwebhook = \"{url}\"\n"
    );
    let c = channels(&dir, &toml);
    let answer = c[0].send(&full_sample()).await.unwrap();
    assert_eq!((answer.code, answer.text.as_str()), (200, "ok"));
    match c[1].send(&full_sample()).await {
        Err(e @ SendError::Retry { .. }) => assert_no_secret(&e),
        other => panic!("a certificate from a CA not trusted: {other:?}"),
    }
    assert_eq!(*count.lock(), 1, "nothing is sent over a connection whose certificate is not trusted");
    let bad_ca = dir.join("not-a-ca.pem");
    std::fs::write(&bad_ca, "not PEM").unwrap();
    let path = dir.join("livedash.toml");
    std::fs::write(&path, format!("[[notify]]\nname = \"x\"\nwebhook = \"{url}\"\nca_file = {bad_ca:?}\n")).unwrap();
    let err = Config::from_args(&ServeArgs::for_file(path, None, dir.join("data")).unwrap(), None).unwrap_err();
    assert!(err.to_string().contains("`notify[0].ca_file`"), "{err}");
}

fn livedash(args: &[&str], config: &Path, env: &[(&str, &str)]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_livedash"))
        .args(args)
        .arg("--config")
        .arg(config)
        .env("LIVEDASH_DATA_DIR", config.parent().unwrap().join("data"))
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_test_prints_the_answer_and_exits_1_on_a_refusal() {
    let dir = common::temp_dir("notify-cli");
    let r = Receiver::start().await;
    let config = dir.join("livedash.toml");
    std::fs::write(&config, "[[notify]]\nname = \"ops\"\nwebhook = { env = \"LIVEDASH_TEST_HOOK\" }\n").unwrap();
    let hook = r.url_at("/hook/SECRET");
    let env = [("LIVEDASH_TEST_HOOK", hook.as_str())];
    r.answer(Reply::new(200, "accepted by the test receiver", None));
    let run = livedash(&["notify", "test", "ops"], &config, &env);
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{run:?}");
    assert_eq!(out.trim(), "ops: 200 accepted by the test receiver");
    let got = r.take();
    assert_eq!((got.len(), got[0].path.as_str(), got[0].json()["kind"].as_str()), (1, "/hook/SECRET", Some("test")));
    let started = got[0].json()["started_at"].as_str().map(str::to_owned).unwrap_or_default();
    assert!(humantime::parse_rfc3339(&started).is_ok(), "{started:?}");

    r.answer(Reply::new(400, "no such hook", None));
    let run = livedash(&["notify", "test", "ops"], &config, &env);
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert!(err.contains("HTTP 400: no such hook") && !err.contains("SECRET"), "{err}");

    let run = livedash(&["notify", "test", "nobody"], &config, &env);
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("\"nobody\""));
    assert_eq!(r.got().len(), 1, "only the refused test reached the receiver");
}

#[test]
fn a_bad_notify_table_stops_start_up_naming_its_key() {
    let dir = common::temp_dir("notify-bad");
    let config = dir.join("livedash.toml");
    let hook = "[[notify]]\nname = \"ops\"\nwebhook = \"https://hooks.example/SECRET\"\n";
    for (toml, key) in [
        ("[[notify]]\nname = \"ops\"\nwebhook = { env = \"LIVEDASH_TEST_UNSET\" }\n".to_owned(), "notify[0].webhook"),
        ("[[notify]]\nname = \"m\"\nsmtp = \"smtp://mail.example.org\"\nfrom = \"a@example.org\"\nto = [\"b@example.org\"]\n".to_owned(), "notify[0].smtp"),
        (format!("{hook}fallback = \"mail\"\n"), "notify[0].fallback"),
        (format!("{hook}colour = \"red\"\n"), "notify[0].colour"),
        (format!("{hook}template = \"{{{{ alert.nope }}}}\"\n"), "notify[0].template"),
        (format!("{hook}[[alert]]\nname = \"a\"\nseries = \"cpu_pct\"\nabove = 1\nnotify = [\"pager\"]\n"), "alert[0].notify"),
        ("[[notify]]\nname = \"ops\"\nwebhook = \"ftp://hooks.example/SECRET\"\n".to_owned(), "notify[0].webhook"),
    ] {
        std::fs::write(&config, &toml).unwrap();
        let run = livedash(&["--listen", "127.0.0.1:0"], &config, &[]);
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(!run.status.success(), "{toml}");
        assert!(err.contains(&format!("`{key}`")), "{key}: {err}");
        assert!(!err.contains("SECRET"), "{err}");
    }
    let run = livedash(&["--listen", "127.0.0.1:0"], &config, &[]);
    assert!(String::from_utf8_lossy(&run.stderr).contains("must be an http:// or https:// URL"));
}
