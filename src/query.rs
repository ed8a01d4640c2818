//! A value put into a URL's query (`?next=...`, `&source=...`), percent-encoded by the
//! `percent-encoding` crate: everything but RFC 3986's unreserved characters (letters, digits,
//! `-._~`) and `/` (kept for readable paths) is written `%XX`, so any decoder reads it back.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What [`encode`] escapes.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'/');

/// `text` percent-encoded for a query value.
pub fn encode(text: &str) -> String {
    utf8_percent_encode(text, ESCAPED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unreserved_characters_and_slashes_stay_as_they_are() {
        assert_eq!(encode("/dash/?chart=cpu pct&x=1"), "/dash/%3Fchart%3Dcpu%20pct%26x%3D1");
        assert_eq!(encode("a-b.c_d~e"), "a-b.c_d~e");
        assert_eq!(encode("é#*+"), "%C3%A9%23%2A%2B");
        assert_eq!(encode(""), "");
    }
}
