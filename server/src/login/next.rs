//! Where a login may send the browser back to: a path of this site, never another site (an open
//! redirect would let a link to livedash's login page forward a freshly logged-in person
//! anywhere). A `next` is taken only when it starts with exactly one `/` (not `//` nor `/\`,
//! which browsers read as another host), holds no scheme, no backslash and no control character
//! or space, and is at most 2048 bytes; anything else means the dashboard. A path outside the base
//! path is put under it.

/// The longest `next` kept.
const MAX_NEXT: usize = 2048;

/// The path to go to after a login, from the `next` asked for, under `base` (`""` or `/dash`).
pub fn safe(next: Option<&str>, base: &str) -> String {
    let home = format!("{base}/");
    let Some(next) = next.map(str::trim).filter(|n| !n.is_empty()) else { return home };
    let bytes = next.as_bytes();
    let plain = next.len() <= MAX_NEXT
        && bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/' | b'\\'))
        && !next.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace());
    if !plain {
        return home;
    }
    // A path with a scheme cannot start with `/`; but `/x:y` is a path, not a scheme: fine.
    if base.is_empty() || next == base || next.starts_with(&format!("{base}/")) || next.starts_with(&format!("{base}?"))
    {
        next.to_owned()
    } else {
        format!("{base}{next}")
    }
}

#[cfg(test)]
mod tests {
    use super::safe;

    #[test]
    fn only_paths_of_this_site_are_taken() {
        assert_eq!(safe(Some("/chart/local/cpu?range=1h"), ""), "/chart/local/cpu?range=1h");
        assert_eq!(safe(Some("/alerts"), "/dash"), "/dash/alerts");
        assert_eq!(safe(Some("/dash/alerts"), "/dash"), "/dash/alerts");
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil",
            "javascript:alert(1)",
            "evil.example",
            "/a\\b",
            "/\t/evil",
            "/ok\r\nSet-Cookie: x=1",
            "",
        ] {
            assert_eq!(safe(Some(bad), ""), "/", "{bad:?}");
            assert_eq!(safe(Some(bad), "/dash"), "/dash/", "{bad:?}");
        }
        assert_eq!(safe(None, "/dash"), "/dash/");
        assert_eq!(safe(Some(&format!("/{}", "a".repeat(3000))), ""), "/");
    }
}
