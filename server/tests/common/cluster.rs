//! For the cluster tests: an upstream that counts its fetches, instances configured on one Redis,
//! and a socket watcher that keeps every frame it reads with the time it came.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use futures_util::StreamExt;
use livedash::Frame;
use livedash_server::config::Config;
use parking_lot::Mutex;
use tokio_tungstenite::tungstenite::Message;

use super::redis_server::Redis;
use super::upstream::{Socket, http_source, socket};
use super::{PASSWORD, test_config};

/// The fetch interval of the cluster tests' source.
pub const INTERVAL: Duration = Duration::from_millis(200);
/// Their lease.
pub const LEASE: Duration = Duration::from_millis(600);

/// An upstream on 127.0.0.1:0 that counts the fetches it answers.
pub async fn counting_upstream() -> (SocketAddr, Arc<AtomicU64>) {
    let hits = Arc::new(AtomicU64::new(0));
    let handler = |State(hits): State<Arc<AtomicU64>>| async move {
        let n = hits.fetch_add(1, Ordering::Relaxed) + 1;
        ([("content-type", "application/json")], format!(r#"{{"fetch":{n},"cpu":{}}}"#, n % 100))
    };
    let app = Router::new().route("/", get(handler)).with_state(hits.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, hits)
}

/// An instance's configuration: the source `up` on `upstream`, shared through `redis` under
/// `prefix`.
pub fn instance(redis: &Redis, prefix: &str, upstream: SocketAddr) -> Config {
    let mut config = test_config(PASSWORD);
    config.sources = vec![http_source("up", upstream, INTERVAL)];
    config.cluster = Some(redis.settings(prefix, LEASE));
    config
}

/// Every frame a socket read, with when.
#[derive(Clone, Default)]
pub struct Watch {
    pub frames: Arc<Mutex<Vec<(Instant, Frame)>>>,
}

impl Watch {
    /// Watches a socket of `addr` opened with `query` (Basic credentials).
    pub async fn open(addr: SocketAddr, query: &str) -> Self {
        Self::on(socket(addr, query).await)
    }

    /// Watches `socket` until it ends.
    pub fn on(mut socket: Socket) -> Self {
        let watch = Self::default();
        let frames = watch.frames.clone();
        tokio::spawn(async move {
            while let Some(Ok(message)) = socket.next().await {
                if let Message::Text(text) = message {
                    let frame = Frame::from_json(&text).expect("a frame livedash sends");
                    frames.lock().push((Instant::now(), frame));
                }
            }
        });
        watch
    }

    /// The `seq`s of every sample seen, the `hello`'s history included, in order.
    pub fn seqs(&self) -> Vec<u64> {
        let mut seqs = Vec::new();
        for (_, frame) in self.frames.lock().iter() {
            match frame {
                Frame::Hello(h) => seqs.extend(h.history.iter().map(|s| s.seq)),
                Frame::Sample(s) => seqs.push(s.seq),
                _ => {}
            }
        }
        seqs
    }

    /// The `seq`s of the samples that came as samples (not in a `hello`), with when.
    pub fn live(&self) -> Vec<(Instant, u64)> {
        let frames = self.frames.lock();
        frames.iter().filter_map(|(at, f)| if let Frame::Sample(s) = f { Some((*at, s.seq)) } else { None }).collect()
    }

    /// The first frame.
    pub fn first(&self) -> Option<Frame> {
        self.frames.lock().first().map(|(_, f)| f.clone())
    }

    /// The last `cluster` state seen (the `hello`'s, or a frame's since).
    pub fn cluster(&self) -> Option<livedash::ClusterStatus> {
        self.frames.lock().iter().rev().find_map(|(_, f)| match f {
            Frame::Cluster(c) => Some(c.clone()),
            Frame::Hello(h) => h.cluster.clone(),
            _ => None,
        })
    }

    /// Waits (up to `within`) until `ok` holds of the watch.
    pub async fn until(&self, within: Duration, ok: impl Fn(&Self) -> bool) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if ok(self) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        ok(self)
    }
}

/// Waits (up to `within`) until `ok()` holds.
pub async fn eventually(within: Duration, ok: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ok()
}

/// Whether the instance at `addr` says (in `/api/health`) it fetches a source.
pub async fn fetches(addr: SocketAddr) -> bool {
    let r = super::get(addr, "/api/health", &[("Authorization", &super::basic("admin", PASSWORD))]).await;
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
    v["cluster"]["fetching"].as_array().is_some_and(|a| !a.is_empty())
}

/// Which of the two instances at `addrs` fetches, once exactly one of them does (10 s at most).
pub async fn holder(addrs: [SocketAddr; 2]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (a, b) = (fetches(addrs[0]).await, fetches(addrs[1]).await);
        if a != b {
            return usize::from(b);
        }
        assert!(Instant::now() < deadline, "one of the two fetches");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
