//! A real HTTP receiver on `127.0.0.1:0` that records every request (path, headers, body) and
//! answers what the test tells it to.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Got {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Got {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What the receiver answers: a status, a body, maybe a `Retry-After`.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub retry_after: Option<String>,
}

#[derive(Clone, Default)]
struct Shared {
    got: Arc<Mutex<Vec<Got>>>,
    reply: Arc<Mutex<Option<Reply>>>,
}

pub struct Receiver {
    pub addr: SocketAddr,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(State(s): State<Shared>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    s.got.lock().unwrap().push(Got { path: uri.to_string(), headers, body });
    let reply = s.reply.lock().unwrap().clone();
    let reply = reply.unwrap_or(Reply { status: 200, body: "ok".into(), retry_after: None });
    let status = StatusCode::from_u16(reply.status).unwrap();
    let mut response = (status, reply.body).into_response();
    if let Some(after) = reply.retry_after {
        response.headers_mut().insert("retry-after", after.parse().unwrap());
    }
    if (300..400).contains(&reply.status) {
        response.headers_mut().insert("location", "http://127.0.0.1:9/elsewhere".parse().unwrap());
    }
    response
}

impl Receiver {
    pub async fn start() -> Self {
        let shared = Shared::default();
        let app = Router::new().fallback(answer).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, shared, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn reply(&self, status: u16, body: &str, retry_after: Option<&str>) {
        *self.shared.reply.lock().unwrap() =
            Some(Reply { status, body: body.into(), retry_after: retry_after.map(str::to_owned) });
    }

    pub fn got(&self) -> Vec<Got> {
        self.shared.got.lock().unwrap().clone()
    }

    pub fn take(&self) -> Vec<Got> {
        std::mem::take(&mut *self.shared.got.lock().unwrap())
    }
}
