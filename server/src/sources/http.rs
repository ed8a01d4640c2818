//! The `http` source: GET a JSON endpoint, relay the body verbatim, with a timeout, a body-size
//! cap and gzip; connections are kept alive between fetches. Every failure becomes a
//! [`FetchError`] (the caller turns it into a `failing` status), never a panic.

use std::sync::Arc;
use std::time::Duration;

use serde_json::value::RawValue;

use super::error::FetchError;

/// One upstream JSON endpoint.
pub struct HttpSource {
    client: reqwest::Client,
    url: reqwest::Url,
    max_body: usize,
    timeout: Duration,
}

impl HttpSource {
    /// A fetcher for `url` that gives up after `timeout` and refuses bodies over `max_body` bytes.
    pub fn new(url: reqwest::Url, timeout: Duration, max_body: usize) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            // A redirect could lead anywhere (another host, a login page): it shows as the
            // failure instead, naming where it points.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_max_idle_per_host(2)
            .user_agent(concat!("livedash/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FetchError::Client(e.to_string()))?;
        Ok(Self { client, url, max_body, timeout })
    }

    /// A fetcher for `url` on a `client` shared with others (its connection pool with them): the
    /// `timeout` is set on each request, so the client needs none of its own.
    pub fn with_client(client: reqwest::Client, url: reqwest::Url, timeout: Duration, max_body: usize) -> Self {
        Self { client, url, max_body, timeout }
    }

    /// Fetches once: the body as raw JSON, or why not.
    pub async fn fetch(&self) -> Result<Arc<RawValue>, FetchError> {
        let text = self.fetch_text("application/json").await?;
        // Surrounding whitespace is dropped; the value itself is kept byte for byte, in the body's
        // own buffer when there is no whitespace to drop.
        let raw = RawValue::from_string(text).map_err(|e| FetchError::NotJson(e.to_string()))?;
        Ok(Arc::from(raw))
    }

    /// Fetches once: the body as text, within the time and size limits.
    pub async fn fetch_text(&self, accept: &'static str) -> Result<String, FetchError> {
        let response = self.send(accept).await?;
        self.body(response).await
    }

    /// Sends the request and waits for the answer's head: a 2xx response whose body is still to
    /// be read (with [`HttpSource::body`]), or why not.
    pub async fn send(&self, accept: &'static str) -> Result<reqwest::Response, FetchError> {
        let response = self
            .client
            .get(self.url.clone())
            .timeout(self.timeout)
            .header(reqwest::header::ACCEPT, accept)
            .send()
            .await
            .map_err(|e| self.describe(&e))?;
        let status = response.status();
        if status.is_redirection() {
            let to = response.headers().get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok());
            return Err(FetchError::Redirected(status, to.and_then(|l| self.url.join(l).ok()).map(|u| shown(&u))));
        }
        if !status.is_success() {
            return Err(FetchError::Status(status));
        }
        if response.content_length().is_some_and(|len| len > self.max_body as u64) {
            return Err(FetchError::TooLarge(self.max_body));
        }
        Ok(response)
    }

    /// Reads the body of an answer [`HttpSource::send`] gave, as text, within the size limit.
    pub async fn body(&self, mut response: reqwest::Response) -> Result<String, FetchError> {
        // One buffer of the announced size (within the cap): no doubling copies of a large body.
        let announced = response.content_length().and_then(|len| usize::try_from(len).ok()).unwrap_or(0);
        let mut body = Vec::with_capacity(announced.min(self.max_body));
        while let Some(chunk) = response.chunk().await.map_err(|e| self.describe(&e))? {
            if body.len() + chunk.len() > self.max_body {
                return Err(FetchError::TooLarge(self.max_body));
            }
            body.extend_from_slice(&chunk);
        }
        String::from_utf8(body).map_err(|_| FetchError::NotUtf8)
    }

    fn describe(&self, e: &reqwest::Error) -> FetchError {
        if e.is_timeout() {
            FetchError::Timeout(self.timeout)
        } else if e.is_connect() {
            FetchError::Connect(root_cause(e))
        } else if e.is_body() || e.is_decode() {
            FetchError::BodyBroken
        } else {
            // The cause only: the error's own text names the URL, which may carry credentials.
            FetchError::Request(root_cause(e))
        }
    }
}

/// `url` without what may be secret: no user name or password, no query, no fragment.
fn shown(url: &reqwest::Url) -> String {
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!("{}://{}{port}{}", url.scheme(), url.host_str().unwrap_or_default(), url.path())
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
