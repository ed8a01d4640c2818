//! The `http` source: GET a JSON endpoint, relay the body verbatim, with a timeout, a body-size
//! cap and gzip; connections are kept alive between fetches. Every failure becomes a readable
//! reason (the caller turns it into a `failing` status), never a panic.

use std::sync::Arc;
use std::time::Duration;

use serde_json::value::RawValue;

/// One upstream JSON endpoint.
pub struct HttpSource {
    client: reqwest::Client,
    url: reqwest::Url,
    max_body: usize,
    timeout: Duration,
}

impl HttpSource {
    /// A fetcher for `url` that gives up after `timeout` and refuses bodies over `max_body` bytes.
    pub fn new(url: reqwest::Url, timeout: Duration, max_body: usize) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_max_idle_per_host(2)
            .user_agent(concat!("livedash/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot make an HTTP client: {e}"))?;
        Ok(Self { client, url, max_body, timeout })
    }

    /// Fetches once: the body as raw JSON, or why not.
    pub async fn fetch(&self) -> Result<Arc<RawValue>, String> {
        let text = self.fetch_text("application/json").await?;
        // Surrounding whitespace is dropped; the value itself is kept byte for byte.
        let raw: Box<RawValue> = serde_json::from_str(&text).map_err(|e| format!("body is not JSON: {e}"))?;
        Ok(Arc::from(raw))
    }

    /// Fetches once: the body as text, within the time and size limits.
    pub async fn fetch_text(&self, accept: &'static str) -> Result<String, String> {
        let mut response = self
            .client
            .get(self.url.clone())
            .header(reqwest::header::ACCEPT, accept)
            .send()
            .await
            .map_err(|e| self.describe(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("upstream answered HTTP {status}"));
        }
        if response.content_length().is_some_and(|len| len > self.max_body as u64) {
            return Err(format!("body over the {} limit", human_bytes(self.max_body)));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.describe(&e))? {
            if body.len() + chunk.len() > self.max_body {
                return Err(format!("body over the {} limit", human_bytes(self.max_body)));
            }
            body.extend_from_slice(&chunk);
        }
        String::from_utf8(body).map_err(|_| "body is not UTF-8 text".to_owned())
    }

    fn describe(&self, e: &reqwest::Error) -> String {
        if e.is_timeout() {
            format!("timed out after {}", humantime::format_duration(self.timeout))
        } else if e.is_connect() {
            root_cause(e).map_or_else(|| "cannot connect".to_owned(), |cause| format!("cannot connect: {cause}"))
        } else if e.is_body() || e.is_decode() {
            "the connection broke while reading the body".to_owned()
        } else {
            // The cause only: the error's own text names the URL, which may carry credentials.
            root_cause(e).map_or_else(|| "request failed".to_owned(), |c| format!("request failed: {c}"))
        }
    }
}

/// The innermost cause of `e` ("connection refused"), without the OS error number; `None` when
/// `e` has no cause. The outer errors' texts name the URL, which may carry credentials.
fn root_cause(e: &reqwest::Error) -> Option<String> {
    let mut cause = std::error::Error::source(e)?;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let text = cause.to_string();
    let text = text.split(" (os error").next().unwrap_or(&text).trim();
    Some(text.to_lowercase())
}

/// `1 MiB`, `512 KiB`, `300 B`.
pub fn human_bytes(n: usize) -> String {
    match n {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} B"),
    }
}
