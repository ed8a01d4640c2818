//! Where a request comes from, as far as browsers tell: the server's own origin (that of
//! `--public-url`, or the one the request reached), and [`SameOrigin`], the guard of every write
//! action. Basic credentials are ambient (a browser sends them with any request to this server,
//! whichever page made it), so a POST that changes something is refused with 403 unless the
//! browser says it comes from one of this server's own pages:
//!
//! - `Sec-Fetch-Site` present (every current browser sends it): only `same-origin`, or `none`
//!   (the person typed or bookmarked the address), passes; `same-site` and `cross-site` do not;
//! - else an `Origin` header present: only this server's own origin passes (`null` does not);
//! - neither: not a browser (curl, a script with Basic credentials): it passes, judged by its
//!   credentials and role alone.
//!
//! `--allowed-origin` does not widen this: it lets another site's page *read* the live stream,
//! never act.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::StatusCode;
use axum::http::header::{HOST, ORIGIN};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::client_ip::ForwardedProto;

/// The header in which browsers say how a request's initiator relates to its target.
pub const SEC_FETCH_SITE: &str = "sec-fetch-site";

/// What the server knows of its own origin, from its configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteOrigin {
    /// The origin of `--public-url` (normalised), when there is one: then the only own origin.
    pub public: Option<String>,
    /// Whether the server itself serves TLS.
    pub tls: bool,
}

impl SiteOrigin {
    /// The site of `--public-url`'s origin `public` (if any), serving TLS itself or not.
    pub fn new(public: Option<&str>, tls: bool) -> Self {
        Self { public: public.map(normalize), tls }
    }
}

/// An origin as browsers send it and as it is compared: lower case, no trailing `/`.
pub fn normalize(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// The server's own origin: the one of `--public-url` when set, else as this request reached it:
/// the `Host` header with `https` when the server serves TLS or a trusted proxy says the client
/// used HTTPS. `None` without either.
pub fn own(parts: &Parts, public: Option<&str>, tls: bool) -> Option<String> {
    if let Some(public) = public {
        return Some(public.to_owned());
    }
    let forwarded = ForwardedProto::of(parts);
    parts.headers.get(HOST).and_then(|h| h.to_str().ok()).map(|host| {
        let scheme = forwarded.unwrap_or(if tls { "https" } else { "http" });
        format!("{scheme}://{}", host.to_ascii_lowercase())
    })
}

/// Why a write action was refused as coming from another site: a 403 with the reason as JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrossSite {
    /// The browser said the request comes from another origin.
    #[error(
        "refused: this request comes from another site (Sec-Fetch-Site: {0}); write actions are taken only from livedash's own pages"
    )]
    FetchSite(String),
    /// The request's `Origin` is not this server's.
    #[error(
        "refused: this request comes from the origin {0}, not livedash's own ({1}); write actions are taken only from livedash's own pages"
    )]
    Origin(String, String),
}

impl IntoResponse for CrossSite {
    fn into_response(self) -> Response {
        (StatusCode::FORBIDDEN, axum::Json(serde_json::json!({ "error": self.to_string() }))).into_response()
    }
}

/// Whether `parts` may act, as far as where it comes from goes (see the module's rules).
pub fn check(parts: &Parts, site: &SiteOrigin) -> Result<(), CrossSite> {
    if let Some(fetch_site) = parts.headers.get(SEC_FETCH_SITE) {
        let value = fetch_site.to_str().unwrap_or("(not text)").trim().to_ascii_lowercase();
        return match value.as_str() {
            "same-origin" | "none" => Ok(()),
            _ => Err(CrossSite::FetchSite(value)),
        };
    }
    let Some(origin) = parts.headers.get(ORIGIN) else { return Ok(()) };
    let origin = normalize(origin.to_str().unwrap_or("(not text)"));
    let own = own(parts, site.public.as_deref(), site.tls).unwrap_or_else(|| "(no Host header)".to_owned());
    if origin == own { Ok(()) } else { Err(CrossSite::Origin(origin, own)) }
}

/// The guard of a write action, taken as a handler parameter before the body: the request comes
/// from this server's own page, or from no browser at all (see [`check`]).
#[derive(Debug, Clone, Copy)]
pub struct SameOrigin;

impl<S: Send + Sync> FromRequestParts<S> for SameOrigin
where
    SiteOrigin: FromRef<S>,
{
    type Rejection = CrossSite;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        check(parts, &SiteOrigin::from_ref(state)).map(|()| Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut request = axum::http::Request::builder().method("POST").header(HOST, "127.0.0.1:3000");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).expect("request").into_parts().0
    }

    #[test]
    fn the_browsers_word_decides_then_the_origin_then_nothing() {
        let site = SiteOrigin::default();
        for (headers, ok) in [
            (vec![], true),
            (vec![(SEC_FETCH_SITE, "same-origin")], true),
            (vec![(SEC_FETCH_SITE, "none")], true),
            (vec![(SEC_FETCH_SITE, "same-site")], false),
            (vec![(SEC_FETCH_SITE, "cross-site")], false),
            // The browser's word wins over an Origin that would pass (and over one that would not).
            (vec![(SEC_FETCH_SITE, "cross-site"), ("origin", "http://127.0.0.1:3000")], false),
            (vec![(SEC_FETCH_SITE, "same-origin"), ("origin", "null")], true),
            (vec![("origin", "http://127.0.0.1:3000")], true),
            (vec![("origin", "HTTP://127.0.0.1:3000/")], true),
            (vec![("origin", "https://127.0.0.1:3000")], false),
            (vec![("origin", "https://evil.example")], false),
            (vec![("origin", "null")], false),
        ] {
            assert_eq!(check(&parts(&headers), &site).is_ok(), ok, "{headers:?}");
        }
    }

    #[test]
    fn the_public_url_is_the_only_own_origin_when_set() {
        let site = SiteOrigin { public: Some("https://dash.example.com".to_owned()), tls: false };
        assert!(check(&parts(&[("origin", "https://dash.example.com")]), &site).is_ok());
        let refused = check(&parts(&[("origin", "http://127.0.0.1:3000")]), &site).expect_err("not the public one");
        assert!(refused.to_string().contains("https://dash.example.com"), "{refused}");
    }
}
