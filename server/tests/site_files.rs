//! The site's files as the real binary serves them from `--site-dir` (a temporary directory with
//! known files, read on every request): the gzip copy chosen by `Accept-Encoding`, a 304 for an
//! `If-None-Match` that still matches, the types, the cache policy, and the app's own 404 page for
//! a path that is no file. (The embedded site is served by the same code; the browser test
//! end2end/tests/embedded.spec.ts runs a binary that embeds one, copied alone to an empty
//! directory.)

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::{PASSWORD, basic, free_addr, get, wait_listening};

/// A site with a script and its gzip copy (told apart by their bytes), a wasm file, a style sheet
/// without a copy, and a public file at the root.
fn site(dir: &Path) {
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    std::fs::write(dir.join("pkg/livedash.js"), "the plain script").unwrap();
    std::fs::write(dir.join("pkg/livedash.js.gz"), "the gzip copy").unwrap();
    std::fs::write(dir.join("pkg/livedash_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dir.join("pkg/livedash.css"), "body { color: red }").unwrap();
    std::fs::write(dir.join("favicon.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
}

#[tokio::test]
async fn the_site_dir_is_served_with_gzip_copies_etags_types_and_the_apps_404() {
    let dir = common::temp_dir("site-files");
    let files = dir.join("site");
    site(&files);
    let addr = free_addr();
    // From a working directory without any target/site, so that only --site-dir can serve them.
    let _child = common::livedash(addr, &dir).current_dir(&dir).arg("--site-dir").arg(&files).spawn().unwrap();
    assert!(wait_listening(addr, Duration::from_secs(10)).await, "the binary listens");
    let auth = basic("admin", PASSWORD);
    let fetch = |path: &'static str, extra: Vec<(&'static str, String)>| {
        let auth = auth.clone();
        async move {
            let mut headers: Vec<(&str, &str)> = vec![("Authorization", &auth)];
            headers.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
            get(addr, path, &headers).await
        }
    };

    // A browser that accepts gzip gets the copy, marked as such.
    let gz = fetch("/pkg/livedash.js", vec![("Accept-Encoding", "gzip, deflate, br".into())]).await;
    assert_eq!(gz.status, 200, "{gz:?}");
    assert_eq!(gz.body, "the gzip copy");
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(gz.header("vary"), Some("accept-encoding"));
    assert_eq!(gz.header("content-type"), Some("text/javascript; charset=utf-8"));
    assert_eq!(gz.header("cache-control"), Some("private, no-cache"), "revalidated, not kept blindly");
    // One that does not (or refuses it by weight) gets the plain file.
    for refusing in [vec![], vec![("Accept-Encoding", "br".to_owned())], vec![("Accept-Encoding", "gzip;q=0".into())]] {
        let plain = fetch("/pkg/livedash.js", refusing.clone()).await;
        assert_eq!((plain.status, plain.body.as_str()), (200, "the plain script"), "{refusing:?}");
        assert_eq!(plain.header("content-encoding"), None);
        assert_eq!(plain.header("vary"), Some("accept-encoding"));
    }

    // The ETag it was given makes the next request a 304 without a body; another tag does not.
    let etag = gz.header("etag").expect("an ETag").to_owned();
    let again =
        fetch("/pkg/livedash.js", vec![("Accept-Encoding", "gzip".into()), ("If-None-Match", etag.clone())]).await;
    assert_eq!(again.status, 304, "{again:?}");
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let other = fetch("/pkg/livedash.js", vec![("If-None-Match", "\"something-else\"".into())]).await;
    assert_eq!(other.status, 200);

    // The types, and no Vary for a file without a copy.
    for (path, kind) in [
        ("/pkg/livedash_bg.wasm", "application/wasm"),
        ("/pkg/livedash.css", "text/css; charset=utf-8"),
        ("/favicon.svg", "image/svg+xml"),
    ] {
        let r = fetch(path, vec![("Accept-Encoding", "gzip".into())]).await;
        assert_eq!((r.status, r.header("content-type")), (200, Some(kind)), "{path}: {r:?}");
        assert_eq!(r.header("content-encoding"), None, "{path}");
        assert_eq!(r.header("vary"), None, "{path}");
    }

    // Read on every request: a changed file is served at once, with a new ETag.
    let css = fetch("/pkg/livedash.css", vec![]).await;
    std::fs::write(files.join("pkg/livedash.css"), "body { color: blue; margin: 0 }").unwrap();
    let changed = fetch("/pkg/livedash.css", vec![("If-None-Match", css.header("etag").unwrap().to_owned())]).await;
    assert_eq!((changed.status, changed.body.as_str()), (200, "body { color: blue; margin: 0 }"));
    assert_ne!(changed.header("etag"), css.header("etag"));

    // A path that is no file, or climbs out of the directory: the app's own 404 page.
    for path in ["/pkg/nothing.js", "/pkg/../../etc/passwd", "/pkg/"] {
        let r = fetch(path, vec![]).await;
        assert_eq!(r.status, 404, "{path}: {r:?}");
        assert!(r.body.contains("class=\"not-found\""), "{path}: the app's page: {}", r.body);
        assert_eq!(r.header("cache-control"), Some("no-store"), "{path}");
    }
    // Behind the login like the page.
    assert_eq!(get(addr, "/pkg/livedash.js", &[]).await.status, 401);
    // The page still names the files it hydrates with, and is never stored.
    let page = fetch("/", vec![]).await;
    assert!(page.body.contains("/pkg/livedash.js"), "{}", page.body);
    assert_eq!(page.header("cache-control"), Some("no-store"));
}
