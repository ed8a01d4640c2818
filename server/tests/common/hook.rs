//! A webhook receiver for the notification tests: a real HTTP server on 127.0.0.1:0 that keeps
//! every POST it gets (when, the `X-Instance` header, the JSON body, the status it answered) and
//! answers with the status the test sets.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use parking_lot::Mutex;

/// One POST the receiver got.
#[derive(Debug, Clone)]
pub struct Hit {
    /// When it came.
    pub at: Instant,
    /// Its `X-Instance` header (the tests' instances each set their own).
    pub instance: Option<String>,
    /// Its body.
    pub body: serde_json::Value,
    /// What the receiver answered.
    pub answered: u16,
}

impl Hit {
    /// The notices in the body: the body itself for one alert, else its `alerts`.
    pub fn notices(&self) -> Vec<serde_json::Value> {
        match self.body["alerts"].as_array() {
            Some(all) => all.clone(),
            None => vec![self.body.clone()],
        }
    }

    /// Whether the receiver accepted it.
    pub fn accepted(&self) -> bool {
        (200..300).contains(&self.answered)
    }
}

/// What the receiver's handler shares with the test: the POSTs, and the status to answer.
type Shared = (Arc<Mutex<Vec<Hit>>>, Arc<AtomicU16>);

/// The receiver.
#[derive(Clone)]
pub struct Hook {
    pub addr: SocketAddr,
    hits: Arc<Mutex<Vec<Hit>>>,
    answer: Arc<AtomicU16>,
}

impl Hook {
    /// A receiver answering `status` until told otherwise.
    pub async fn start(status: u16) -> Self {
        let hits = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(AtomicU16::new(status));
        let state = (hits.clone(), answer.clone());
        let handler = |State((hits, answer)): State<Shared>, headers: HeaderMap, body: Bytes| async move {
            let answered = answer.load(Ordering::SeqCst);
            let instance = headers.get("x-instance").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
            hits.lock().push(Hit { at: Instant::now(), instance, body, answered });
            StatusCode::from_u16(answered).unwrap()
        };
        let app = Router::new().route("/hook", post(handler)).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { addr, hits, answer }
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Answers `status` from now on.
    pub fn answer(&self, status: u16) {
        self.answer.store(status, Ordering::SeqCst);
    }

    /// Every POST so far.
    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().clone()
    }

    /// Waits (up to `within`) until `ok` holds of the POSTs so far; whether it did.
    pub async fn until(&self, within: Duration, ok: impl Fn(&[Hit]) -> bool) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if ok(&self.hits.lock()) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        ok(&self.hits.lock())
    }
}
