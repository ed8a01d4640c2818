//! One request for a file of the site answered: the gzip copy when the browser accepts gzip
//! (`Content-Encoding: gzip`, `Vary: Accept-Encoding`), its type, an ETag and a 304 when
//! `If-None-Match` still matches; and [`fallback`], the router's last handler, which renders the
//! app's own 404 page for a path that is no file.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;

use axum::body::Body;
use axum::extract::{FromRef, Request, State};
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use leptos::config::LeptosOptions;
use leptos::prelude::IntoView;

use super::{Embedded, Site};

/// The files keep their names from one build to the next, so a browser must ask every time
/// whether its copy is still the one (a 304 costs a round trip, not the wasm): a stale script
/// beside a newer page would fail to hydrate. Private: the files sit behind the login.
const CACHE: &str = "private, no-cache";

/// The router's fallback: the file of `site` a GET or HEAD asks for; for anything else the app's
/// 404 page, rendered by `shell` with `context` (and the router's state) in its context, exactly
/// as leptos_axum's `file_and_error_handler` renders it (in order, answered 404 unless the page
/// set another status).
#[allow(clippy::type_complexity)]
pub fn fallback<S, IV>(
    site: Site,
    context: impl Fn() + Clone + Send + Sync + 'static,
    shell: impl Fn(LeptosOptions) -> IV + Clone + Send + Sync + 'static,
) -> impl Fn(State<S>, Request) -> Pin<Box<dyn Future<Output = Response> + Send>> + Clone + Send + Sync + 'static
where
    S: Clone + Send + Sync + 'static,
    LeptosOptions: FromRef<S>,
    IV: IntoView + 'static,
{
    move |State(state): State<S>, request: Request| {
        let (site, context, shell) = (site.clone(), context.clone(), shell.clone());
        Box::pin(async move {
            if let Some(file) = respond(&site, request.method(), request.uri().path(), request.headers()).await {
                return file;
            }
            let options = LeptosOptions::from_ref(&state);
            let page = leptos_axum::render_app_async_with_context(
                move || {
                    leptos::prelude::provide_context(state.clone());
                    context();
                },
                move || shell(options.clone()),
            );
            let mut response = page(request).await;
            if response.status() == StatusCode::OK {
                *response.status_mut() = StatusCode::NOT_FOUND;
            }
            response
        })
    }
}

/// A file found for a request.
struct Found {
    bytes: Bytes,
    etag: String,
    /// These are the gzip copy's bytes.
    gzip: bool,
    /// There is a gzip copy: the answer depends on `Accept-Encoding`.
    varies: bool,
}

/// The answer to `method path` from `site`, or `None` when it has no such file (or the method is
/// not GET or HEAD).
pub async fn respond(site: &Site, method: &Method, path: &str, headers: &HeaderMap) -> Option<Response> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let rel = relative(path)?;
    let gzip = accepts_gzip(headers);
    let found = match site {
        Site::Embedded(files) => files.find(rel, gzip),
        Site::Dir { root, .. } => from_dir(root, rel, gzip).await,
    }?;
    Some(answer(found, content_type(rel), method == Method::HEAD, headers))
}

impl Embedded {
    /// The file at `rel`, its gzip copy when there is one and `gzip` is accepted.
    fn find(&self, rel: &str, gzip: bool) -> Option<Found> {
        let plain = self.files.get(rel)?;
        let copy = self.files.get(&format!("{rel}.gz"));
        let (file, gzip) = match copy {
            Some(copy) if gzip => (copy, true),
            _ => (plain, false),
        };
        Some(Found { bytes: file.bytes.clone(), etag: file.etag.clone(), gzip, varies: copy.is_some() })
    }
}

/// The file at `rel` under `root`, read now (its gzip copy when there is one and `gzip` is
/// accepted); its ETag is made of its length and modification time.
async fn from_dir(root: &Path, rel: &str, gzip: bool) -> Option<Found> {
    let plain = root.join(rel);
    let meta = tokio::fs::metadata(&plain).await.ok().filter(std::fs::Metadata::is_file)?;
    let copy = root.join(format!("{rel}.gz"));
    let copy_meta = tokio::fs::metadata(&copy).await.ok().filter(std::fs::Metadata::is_file);
    let varies = copy_meta.is_some();
    let (path, meta, gzip) = match copy_meta {
        Some(copy_meta) if gzip => (copy, copy_meta, true),
        _ => (plain, meta, false),
    };
    let bytes = match tokio::fs::read(&path).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %e, "cannot read a file of the site");
            return None;
        }
    };
    let modified = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    let etag = format!("\"{:x}-{:x}\"", meta.len(), modified.map_or(0, |d| d.as_nanos()));
    Some(Found { bytes: Bytes::from(bytes), etag, gzip, varies })
}

/// The response for `found`: 304 when `request`'s `If-None-Match` names its ETag.
fn answer(found: Found, content_type: &'static str, head: bool, request: &HeaderMap) -> Response {
    let not_modified = request
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|tags| etag_matches(tags, &found.etag));
    let len = found.bytes.len();
    let body = if head || not_modified { Body::empty() } else { Body::from(found.bytes) };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::try_from(found.etag) {
        headers.insert(ETAG, etag);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(CACHE));
    if found.varies {
        headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    }
    if not_modified {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return response;
    }
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if found.gzip {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    if head {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
    }
    response
}

/// The path below the site's root (`pkg/livedash.js`), or `None` for the root itself and any path
/// with an empty, `.` or `..` segment or a backslash (nothing outside the root is ever read).
fn relative(path: &str) -> Option<&str> {
    let rel = path.strip_prefix('/')?;
    let plain = |s: &str| !s.is_empty() && s != "." && s != ".." && !s.contains(['\\', '\0']);
    rel.split('/').all(plain).then_some(rel)
}

/// Whether `Accept-Encoding` allows gzip: named with a weight above 0, or `*` is and gzip is not
/// named.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let (mut gzip, mut any) = (None, None);
    for item in headers.get_all(ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')) {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or_default().trim();
        let weight = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
            .map(|q| q.trim().parse::<f32>().unwrap_or(0.0))
            .next()
            .unwrap_or(1.0);
        if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            gzip = Some(weight > 0.0);
        } else if coding == "*" {
            any = Some(weight > 0.0);
        }
    }
    gzip.or(any).unwrap_or(false)
}

/// Whether the `If-None-Match` list `tags` names `etag` (weakly: a `W/` prefix is ignored) or is `*`.
fn etag_matches(tags: &str, etag: &str) -> bool {
    tags.split(',').map(str::trim).any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

/// The type of the file at `rel`, by its extension.
fn content_type(rel: &str) -> &'static str {
    let extension = rel.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match extension.as_str() {
        "wasm" => "application/wasm",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "woff2" => "font/woff2",
        "gz" => "application/gzip",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (axum::http::HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
    }

    #[test]
    fn gzip_is_chosen_by_its_weight_or_the_star() {
        let accepts = |v: &'static str| accepts_gzip(&headers(&[("accept-encoding", v)]));
        assert!(accepts("gzip, deflate, br"));
        assert!(accepts("br;q=1.0, GZIP;q=0.5"));
        assert!(accepts("*"));
        assert!(!accepts("gzip;q=0, *"));
        assert!(!accepts("br, deflate"));
        assert!(!accepts("identity"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn only_plain_paths_below_the_root_are_files() {
        assert_eq!(relative("/pkg/livedash.js"), Some("pkg/livedash.js"));
        for bad in ["/", "/pkg/", "/../etc/passwd", "/pkg/../../x", "/./x", "//x", "/a\\b", "x"] {
            assert_eq!(relative(bad), None, "{bad}");
        }
    }

    #[test]
    fn etags_match_in_a_list_weakly_or_by_star() {
        assert!(etag_matches("\"a\", W/\"b\"", "\"b\""));
        assert!(etag_matches("*", "\"b\""));
        assert!(!etag_matches("\"a\"", "\"b\""));
    }

    #[test]
    fn an_embedded_files_etag_is_its_hash_and_its_copy_is_found_beside_it() {
        let mut e = Embedded::new();
        e.add("pkg/livedash.js", std::borrow::Cow::Borrowed(b"js"), &[0xab; 32]);
        e.add("pkg/livedash.js.gz", std::borrow::Cow::Owned(b"gz".to_vec()), &[0x01; 32]);
        let plain = e.find("pkg/livedash.js", false).expect("found");
        assert_eq!(
            (plain.etag.as_str(), &plain.bytes[..], plain.gzip, plain.varies),
            ("\"abababababababab\"", &b"js"[..], false, true)
        );
        let copy = e.find("pkg/livedash.js", true).expect("found");
        assert_eq!((copy.etag.as_str(), &copy.bytes[..], copy.gzip), ("\"0101010101010101\"", &b"gz"[..], true));
        assert!(e.find("pkg/other.js", true).is_none());
    }
}
