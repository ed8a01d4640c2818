//! Security headers on every response. The page sets its own Content-Security-Policy with the
//! nonce of its hydration script (see `app::ssr::set_page_headers`); everything else gets a policy
//! that allows nothing.

use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::response::Response;

/// The policy of responses that are not the page: no scripts, no styles, no framing.
pub const DEFAULT_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Adds the security headers to `response`; HSTS only when `tls` (a browser ignores it over
/// plain HTTP, and it must not pin HTTPS onto a plain-HTTP server).
pub async fn add(State(tls): State<bool>, mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    if !headers.contains_key(CONTENT_SECURITY_POLICY) {
        set(headers, CONTENT_SECURITY_POLICY, DEFAULT_CSP);
    }
    set(headers, X_FRAME_OPTIONS, "DENY");
    set(headers, X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, REFERRER_POLICY, "no-referrer");
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    headers.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    // Every response is either private (behind auth) or changes from moment to moment; the site's
    // files say their own (revalidated by ETag: `site::serve`).
    if !headers.contains_key(CACHE_CONTROL) {
        set(headers, CACHE_CONTROL, "no-store");
    }
    if tls {
        set(headers, STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    response
}
