//! Why a fetch failed, typed: the page shows its text as the source's `failing` reason, so every
//! variant reads as a short sentence and none carries the URL (it may hold credentials).

use std::time::Duration;

/// Why one fetch of a source gave no sample.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The HTTP client could not be made (a TLS back-end problem, say).
    #[error("cannot make an HTTP client: {0}")]
    Client(String),
    /// No answer within the timeout.
    #[error("timed out after {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    /// No connection: the innermost cause when there is one ("connection refused").
    #[error("cannot connect{}", cause(.0))]
    Connect(Option<String>),
    /// The request failed otherwise.
    #[error("request failed{}", cause(.0))]
    Request(Option<String>),
    /// A redirect, to where it points when it says (without credentials or query): sources do not
    /// follow redirects.
    #[error(
        "upstream redirects (HTTP {status}){target}; sources do not follow redirects: configure the final URL",
        status = .0,
        target = to(.1)
    )]
    Redirected(reqwest::StatusCode, Option<String>),
    /// An answer other than 2xx.
    #[error("upstream answered HTTP {0}")]
    Status(reqwest::StatusCode),
    /// The body is longer than the source's cap (in bytes); it was not read past the cap.
    #[error("body over the {} limit", human_bytes(*.0))]
    TooLarge(usize),
    /// The connection broke while the body was read.
    #[error("the connection broke while reading the body")]
    BodyBroken,
    /// The body is not UTF-8.
    #[error("body is not UTF-8 text")]
    NotUtf8,
    /// The body of an `http` source is not JSON.
    #[error("body is not JSON: {0}")]
    NotJson(String),
    /// The body of a `prometheus` source is not a text exposition.
    #[error("not a Prometheus exposition: {0}")]
    NotExposition(String),
    /// Another livedash (a `livedash:` host of the fleet) gave no figures: the reader's reason
    /// ("HTTP 401: the fleet token was refused ...", "closed by the remote: 1008 token revoked").
    #[error("{0}")]
    Remote(String),
    /// The `local` sampler's blocking task ended without handing the sampler back.
    #[error("the local sampler stopped unexpectedly")]
    LocalStopped,
}

fn to(target: &Option<String>) -> String {
    target.as_ref().map(|t| format!(" to {t}")).unwrap_or_default()
}

fn cause(cause: &Option<String>) -> String {
    cause.as_ref().map(|c| format!(": {c}")).unwrap_or_default()
}

/// `1 MiB`, `512 KiB`, `300 B`.
pub fn human_bytes(n: usize) -> String {
    match n {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_as_sentences() {
        assert_eq!(FetchError::Timeout(Duration::from_millis(900)).to_string(), "timed out after 900ms");
        assert_eq!(FetchError::Connect(None).to_string(), "cannot connect");
        assert_eq!(
            FetchError::Connect(Some("connection refused".into())).to_string(),
            "cannot connect: connection refused"
        );
        assert_eq!(FetchError::TooLarge(1 << 20).to_string(), "body over the 1 MiB limit");
        assert_eq!(
            FetchError::Status(reqwest::StatusCode::BAD_GATEWAY).to_string(),
            "upstream answered HTTP 502 Bad Gateway"
        );
        assert_eq!(
            FetchError::Redirected(reqwest::StatusCode::FOUND, Some("http://10.0.0.9/login".into())).to_string(),
            "upstream redirects (HTTP 302 Found) to http://10.0.0.9/login; sources do not follow redirects: \
             configure the final URL"
        );
        assert_eq!(human_bytes(512 * 1024), "512 KiB");
        assert_eq!(human_bytes(300), "300 B");
    }
}
