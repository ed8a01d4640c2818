//! A real webhook receiver on `127.0.0.1`: records every POST (when, its JSON body) and answers
//! from a script the test sets (status, `Retry-After`), 200 once the script is used up.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use tokio::net::TcpListener;

/// One answer of the script.
#[derive(Debug, Clone, Copy)]
pub struct Reply {
    pub status: u16,
    pub retry_after: Option<u64>,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self { status, retry_after: None }
    }
}

/// One request received.
#[derive(Debug, Clone)]
pub struct Got {
    pub at: Instant,
    pub body: serde_json::Value,
    pub answered: u16,
}

impl Got {
    /// The notices in it: the `alerts` of a message about several, else the body itself.
    pub fn notices(&self) -> Vec<serde_json::Value> {
        match self.body.get("alerts").and_then(|a| a.as_array()) {
            Some(all) => all.clone(),
            None => vec![self.body.clone()],
        }
    }
}

#[derive(Default)]
struct Shared {
    got: Mutex<Vec<Got>>,
    script: Mutex<VecDeque<Reply>>,
}

pub struct Receiver {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: Option<tokio::task::JoinHandle<()>>,
}

async fn receive(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let reply = shared.script.lock().pop_front().unwrap_or(Reply::status(200));
    let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    shared.got.lock().push(Got { at: Instant::now(), body, answered: reply.status });
    let status = StatusCode::from_u16(reply.status).unwrap();
    let text = if reply.status < 300 { "ok".to_owned() } else { format!("refused with {}", reply.status) };
    match reply.retry_after {
        Some(s) => (status, [("retry-after", s.to_string())], text).into_response(),
        None => (status, text).into_response(),
    }
}

impl Receiver {
    /// A receiver on a port of its own.
    pub async fn start() -> Self {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// A receiver on `addr` (tried for 5 s while the port is still held).
    pub async fn start_on(addr: SocketAddr) -> Self {
        let mut receiver = Self { addr, shared: Arc::default(), task: None };
        receiver.listen().await;
        receiver
    }

    async fn listen(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if Instant::now() > deadline => panic!("bind {}: {e}", self.addr),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        self.addr = listener.local_addr().unwrap();
        let app = Router::new().fallback(receive).with_state(self.shared.clone());
        self.task = Some(tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }));
    }

    /// The URL to configure.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// The next answers, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.shared.script.lock().extend(replies);
    }

    /// What it received so far.
    pub fn got(&self) -> Vec<Got> {
        self.shared.got.lock().clone()
    }

    /// Waits (`within` at most) until it received `n` requests; returns them all.
    pub async fn wait(&self, n: usize, within: Duration) -> Vec<Got> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.got();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops listening (the port refuses connections).
    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}
