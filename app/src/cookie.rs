//! The page's remembered views (the card layout, the fleet overview's order and filter) kept in
//! cookies, so that the server renders each person's view and a reload keeps it: read from the
//! request on the server and from `document.cookie` in the browser, written only in the browser.
//! The values are written already encoded (see [`crate::layout::encode_component`]).

/// The value of the cookie `name` in a `Cookie` header or `document.cookie`.
pub fn from_header(header: &str, name: &str) -> Option<String> {
    header.split(';').find_map(|c| c.trim().strip_prefix(name)?.strip_prefix('=').map(str::to_owned))
}

/// The value of the cookie `name` in this request (server) or document (browser).
pub fn value(name: &str) -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        let parts = leptos::prelude::use_context::<http::request::Parts>()?;
        let header = parts.headers.get(http::header::COOKIE)?.to_str().ok()?;
        from_header(header, name)
    }
    #[cfg(feature = "hydrate")]
    {
        let doc = leptos::prelude::document();
        let cookie = js_sys::Reflect::get(&doc, &"cookie".into()).ok()?.as_string()?;
        from_header(&cookie, name)
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        let _ = name;
        None
    }
}

/// Remembers `value` as the cookie `name` for a year, for this site's path (nothing on the
/// server).
pub fn store(name: &str, value: &str) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::prelude::window;
        let secure = window().location().protocol().is_ok_and(|p| p == "https:");
        let cookie = format!(
            "{name}={value}; Path={}/; Max-Age=31536000; SameSite=Strict{}",
            crate::base_path(),
            if secure { "; Secure" } else { "" }
        );
        let _ = js_sys::Reflect::set(&leptos::prelude::document(), &"cookie".into(), &cookie.into());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (name, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_found_by_its_whole_name() {
        let header = "a=1; livedash_layout=h:x/y; livedash_fleet=s:name; b=2";
        assert_eq!(from_header(header, "livedash_layout").as_deref(), Some("h:x/y"));
        assert_eq!(from_header(header, "livedash_fleet").as_deref(), Some("s:name"));
        assert_eq!(from_header(header, "livedash"), None, "a prefix of a name is not the name");
    }
}
