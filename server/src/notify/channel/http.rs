//! The HTTP POST of every HTTP channel and the classification of its answer: a 2xx is an
//! [`Answer`]; a 408, 429 or 5xx, a timeout or no connection is [`SendError::Retry`] (with the
//! receiver's `Retry-After`); any other status is [`SendError::Refused`]. No error carries the URL
//! (`reqwest::Error::without_url`): webhook URLs are secrets.

use std::time::{Duration, SystemTime};

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};

use crate::notify::message::{Answer, SendError};

/// The JSON content type.
pub const JSON: &str = "application/json";
/// How long one send may take, connection to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The most characters of a receiver's answer kept.
const MAX_TEXT: usize = 500;
/// The most bytes of a receiver's answer read.
const MAX_READ: usize = 8 << 10;
/// The longest `Retry-After` believed.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// The client of a channel: 10 s timeout, no redirects (a redirect could carry the request and
/// its secrets elsewhere), and the certificate authority `ca_pem` trusted besides the system's.
///
/// # Errors
/// A `ca_file` that holds no certificate, or no TLS roots at all.
pub fn client(ca_pem: Option<&[u8]>) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("livedash/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| e.without_url().to_string())?;
        if certs.is_empty() {
            return Err("holds no PEM certificate".into());
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().map_err(|e| e.without_url().to_string())
}

/// The host (and port) of `url`, all a person may see of it.
pub fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(|h| u.port().map_or_else(|| h.to_owned(), |p| format!("{h}:{p}"))))
        .unwrap_or_default()
}

/// POSTs `body` to `url` with `headers`; the answer, classified.
///
/// # Errors
/// See the module's documentation.
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    headers: &[(String, String)],
    content_type: &str,
    body: Vec<u8>,
) -> Result<Answer, SendError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes());
        let value = HeaderValue::from_str(value);
        let (Ok(name), Ok(mut value)) = (name, value) else {
            return Err(SendError::Refused { reason: "a header is not valid HTTP".into() });
        };
        value.set_sensitive(true);
        map.insert(name, value);
    }
    // The configured headers last: a `Content-Type` of theirs replaces ours.
    let request = client.post(url).header(CONTENT_TYPE, content_type).headers(map).body(body);
    let response = request.send().await.map_err(failed)?;
    classify(response).await
}

/// What a reqwest error says, without the URL, with its causes.
pub fn failed(e: reqwest::Error) -> SendError {
    let e = e.without_url();
    let reason = if e.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        text
    };
    if e.is_builder() || e.is_redirect() {
        SendError::Refused { reason }
    } else {
        SendError::Retry { reason, after: None }
    }
}

/// The receiver's answer: a 2xx accepted, a 408/429/5xx worth a retry, anything else refused.
///
/// # Errors
/// See the module's documentation.
pub async fn classify(mut response: reqwest::Response) -> Result<Answer, SendError> {
    let code = response.status().as_u16();
    let after = response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(retry_after);
    let mut bytes = Vec::new();
    while bytes.len() < MAX_READ {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) => break,
            // The status is what counts: a body cut short does not change it.
            Err(_) => break,
        }
    }
    let text: String = String::from_utf8_lossy(&bytes).trim().chars().take(MAX_TEXT).collect();
    let reason = if text.is_empty() { format!("HTTP {code}") } else { format!("HTTP {code}: {text}") };
    match code {
        200..=299 => Ok(Answer { code, text }),
        408 | 429 | 500..=599 => Err(SendError::Retry { reason, after }),
        _ => Err(SendError::Refused { reason }),
    }
}

/// `Retry-After` as seconds (a fraction too, as some chat services send) or an HTTP date, at most
/// an hour.
pub fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.0 => Duration::from_secs_f64(secs.min(MAX_RETRY_AFTER.as_secs_f64())),
        Ok(_) => return None,
        Err(_) => {
            let at = httpdate::parse_http_date(value).ok()?;
            at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        assert_eq!(retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(retry_after("999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        assert!(retry_after(&later).is_some_and(|d| d > Duration::from_secs(100)));
        assert_eq!(retry_after("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(retry_after("soon"), None);
        assert_eq!(retry_after("-1"), None);
    }

    #[test]
    fn the_host_is_all_that_shows() {
        assert_eq!(host_of("https://hooks.slack.com/services/T0/B0/SECRET"), "hooks.slack.com");
        assert_eq!(host_of("http://127.0.0.1:9000/x?token=abc"), "127.0.0.1:9000");
        assert_eq!(host_of("not a url"), "");
    }
}
