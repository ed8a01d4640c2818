//! The remote reader against a small WebSocket server on loopback that plays a livedash (an old
//! one that refuses `sub`, one that sends garbage, one that refuses the token), and the reader's
//! and the back-off's pure parts. The real binary is read in `tests/fleet_remote.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]
// The fake's handshake check has tungstenite's callback signature, whose refusal is an HTTP response.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::SinkExt;
use livedash::{Frame, Hello, PROTOCOL_VERSION, Sample, SourceState, SourceStatus, raw_json};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tungstenite::Message;
use tungstenite::handshake::server::{ErrorResponse, Request, Response};

use super::reader::{Reader, Step};
use super::*;

fn sample(seq: u64, source: &str, ts_ms: u64, data: &serde_json::Value) -> Sample {
    Sample { seq, source: Arc::from(source), ts_ms, data: raw_json(data) }
}

fn local_data(cpu: f64) -> serde_json::Value {
    json!({"cpu_pct": cpu, "mem_pct": 40.0, "disk_pct": 50.0, "load_avg": [0.5, 0.4, 0.3], "uptime_s": 99})
}

fn hello(sources: &[(&str, u64)], history: Vec<Sample>, now_ms: u64) -> String {
    let hello = Hello {
        v: PROTOCOL_VERSION,
        server_time_ms: now_ms,
        interval_ms: sources.iter().map(|(s, ms)| ((*s).to_owned(), *ms)).collect(),
        history,
        sources: sources
            .iter()
            .map(|(s, _)| SourceStatus { source: Arc::from(*s), state: SourceState::Ok, error: None, since_ms: 1 })
            .collect(),
        settings: BTreeMap::new(),
        store: None,
        cluster: None,
        alerts: None,
        fleet: None,
    };
    Frame::Hello(hello).to_json()
}

/// What the fake remote saw of each handshake: its query and its `Authorization` header.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// A fake remote on loopback: answers a handshake whose query has `sub` with `refuse_sub` (when
/// set) and any handshake with `refuse` (when set), else upgrades and sends `frames`, then waits.
async fn fake(refuse_sub: Option<u16>, refuse: Option<u16>, frames: Vec<String>) -> (Url, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("ws://{}/ws", listener.local_addr().unwrap())).unwrap();
    let seen: Seen = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (log, frames) = (log.clone(), frames.clone());
            tokio::spawn(async move {
                let check = |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
                    let query = request.uri().query().unwrap_or_default().to_owned();
                    let auth = request.headers().get("authorization").map(|v| v.to_str().unwrap().to_owned());
                    log.lock().unwrap().push((query.clone(), auth.unwrap_or_default()));
                    let status = if query.contains("sub=") { refuse_sub.or(refuse) } else { refuse };
                    match status {
                        Some(code) => {
                            let mut refusal = ErrorResponse::new(Some("refused".to_owned()));
                            *refusal.status_mut() = tungstenite::http::StatusCode::from_u16(code).unwrap();
                            Err(refusal)
                        }
                        None => Ok(response),
                    }
                };
                let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(tcp, check).await else { return };
                for frame in frames {
                    socket.send(Message::text(frame)).await.unwrap();
                }
                tokio::time::sleep(Duration::from_secs(30)).await;
            });
        }
    });
    (url, seen)
}

/// Runs a reader of `url` until it delivered `n` results (10 s at most), then stops it.
async fn read(url: Url, n: usize) -> Vec<Result<HostFigures, String>> {
    let options = RemoteOptions {
        connect_timeout: Duration::from_secs(2),
        first_retry: Duration::from_millis(50),
        max_retry: Duration::from_millis(200),
    };
    let host = RemoteHost::new(url, Arc::from("ldt_fleet")).with_options(options);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        host.run(move |r| tx.send(r).unwrap(), async move { stop_rx.await.unwrap_or(()) }).await;
    });
    let mut got = Vec::new();
    while got.len() < n {
        got.push(tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("delivered in time").unwrap());
    }
    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(2), task).await.expect("stops when told").unwrap();
    got
}

#[tokio::test]
async fn an_old_remote_refusing_sub_is_read_without_it_and_its_local_source_is_picked() {
    let frames = vec![
        hello(&[("api", 1000), ("box", 1000)], Vec::new(), 5_000),
        Frame::Sample(sample(1, "api", 5_000, &json!({"cpu_pct": 99.0, "x": 1}))).to_json(),
        Frame::Sample(sample(2, "box", 5_001, &local_data(12.5))).to_json(),
        r#"{"type":"brand-new","x":1}"#.to_owned(),
        Frame::Sample(sample(3, "box", 6_001, &local_data(13.5))).to_json(),
    ];
    let (url, seen) = fake(Some(400), None, frames).await;
    let got = read(url, 2).await;
    let cpu: Vec<_> = got.iter().map(|r| r.as_ref().map(|f| f.cpu_pct)).collect();
    assert_eq!(cpu, [Ok(Some(12.5)), Ok(Some(13.5))], "the local-shaped source only, unknown frames passed over");
    assert_eq!(got[0].as_ref().unwrap().load1, Some(0.5));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [("sub=configured".to_owned(), "Bearer ldt_fleet".to_owned()), (String::new(), "Bearer ldt_fleet".to_owned())]
    );
}

#[tokio::test]
async fn a_refused_token_garbage_and_a_silent_remote_each_say_why() {
    let (url, _) = fake(None, Some(401), Vec::new()).await;
    let got = read(url, 2).await;
    let first = got[0].as_ref().unwrap_err();
    assert!(first.starts_with("HTTP 401: the fleet token was refused"), "{first}");
    assert_eq!(got[0], got[1], "tried again, refused again");

    let (url, _) = fake(None, None, vec!["not json".to_owned()]).await;
    let got = read(url, 1).await;
    assert!(got[0].as_ref().unwrap_err().starts_with("protocol: malformed frame"), "{got:?}");

    let (url, _) = fake(None, None, vec![r#"{"type":"sample","seq":1}"#.to_owned()]).await;
    let got = read(url, 1).await;
    assert!(got[0].as_ref().unwrap_err().contains("not a `hello`"), "{got:?}");
}

#[test]
fn the_hello_gives_the_local_sources_current_figures_and_a_failing_status_says_why() {
    let history = vec![sample(1, "local", 1_000, &local_data(5.0)), sample(2, "api", 1_500, &json!({"x": 1}))];
    let (mut reader, figures) =
        Reader::hello(&hello(&[("local", 1000), ("api", 1000)], history.clone(), 2_500)).unwrap();
    assert_eq!(figures.and_then(|f| f.cpu_pct), Some(5.0));
    let (_, old) = Reader::hello(&hello(&[("local", 1000)], history, 60_000)).unwrap();
    assert_eq!(old, None, "a sample a minute old is not the host's figures now");
    let failing = SourceStatus {
        source: Arc::from("local"),
        state: SourceState::Failing,
        error: Some("sysinfo".into()),
        since_ms: 3,
    };
    let step = reader.frame(&Frame::Status(failing).to_json()).unwrap();
    assert_eq!(step, Step::Failing("the remote's `local` source is failing: sysinfo".to_owned()));
    assert_eq!(reader.patience(), Duration::from_secs(10));
    let (lonely, _) = Reader::hello(&hello(&[("api", 5000)], Vec::new(), 1)).unwrap();
    assert_eq!(lonely.patience(), Duration::from_secs(15));
    assert!(lonely.silence().to_string().contains("no `local` source"), "{}", lonely.silence());
}

#[test]
fn the_wait_doubles_to_its_cap_and_is_drawn_between_its_half_and_its_whole() {
    let options = RemoteOptions::default();
    let waits: Vec<u64> = (1..=8).map(|n| retry_wait(n, &options, 1.0).as_secs()).collect();
    assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
    assert_eq!(retry_wait(3, &options, 0.0), Duration::from_secs(2));
    assert_eq!(retry_wait(u32::MAX, &options, 0.5), Duration::from_secs(45));
}

/// A deliverer that keeps what it is handed, as text.
#[derive(Default)]
struct Kept(Mutex<Vec<Result<String, String>>>);

impl crate::sources::Deliver for Kept {
    async fn deliver(
        &self,
        source: &Arc<str>,
        result: Result<Arc<serde_json::value::RawValue>, crate::sources::FetchError>,
    ) {
        assert_eq!(&**source, "db1");
        self.0.lock().unwrap().push(result.map(|d| d.get().to_owned()).map_err(|e| e.to_string()));
    }

    fn missed_ticks(&self, _: u64) {}
}

#[tokio::test]
async fn the_task_reads_only_while_its_gate_is_open_and_delivers_fleet_samples() {
    let frames = vec![
        hello(&[("local", 1000)], Vec::new(), 5_000),
        Frame::Sample(sample(2, "local", 5_001, &local_data(12.5))).to_json(),
    ];
    let (url, seen) = fake(None, None, frames).await;
    let kept = Arc::new(Kept::default());
    let (gate, active) = tokio::sync::watch::channel(false);
    let (_switch, shutdown) = crate::shutdown::channel();
    let host = RemoteHost::new(url, Arc::from("ldt_fleet"));
    let task = task::spawn(kept.clone(), Arc::from("db1"), host, active, shutdown);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(seen.lock().unwrap().is_empty(), "no connection while the gate is closed");

    gate.send(true).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while kept.0.lock().unwrap().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first = kept.0.lock().unwrap().first().cloned();
    let expected = r#"{"cpu_pct":12.5,"mem_pct":40,"disk_pct":50,"load1":0.5,"uptime_s":99,"up":1}"#;
    assert_eq!(first, Some(Ok(expected.to_owned())));
    assert_eq!(seen.lock().unwrap().len(), 1);

    // Closed again: the reader stops (the fake sees no new connection), the task goes on.
    gate.send(false).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert!(!task.is_finished());
    // Open once more: a new connection.
    gate.send(true).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while seen.lock().unwrap().len() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(seen.lock().unwrap().len(), 2, "reconnected when the gate opened again");
    task.abort();
}
