//! The person's own page: cards hidden and cards pinned to the top, remembered per browser in a
//! cookie, so that the server renders the page already arranged (no flash of hidden cards before
//! the WebAssembly runs). A card is named `source/key`; the cookie holds both lists, each name
//! percent-encoded, and is read defensively: anything that does not parse is ignored.

use leptos::prelude::*;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// The cookie's name.
pub const COOKIE: &str = "livedash_layout";
/// The longest cookie value written (browsers keep 4 KiB per cookie); the oldest entries go first.
const MAX_COOKIE: usize = 3000;

/// Hidden and pinned cards, as `source/key` names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// Cards not shown.
    pub hidden: Vec<String>,
    /// Cards shown first, at the top of the page, in the order they were pinned.
    pub pinned: Vec<String>,
}

/// A card's name in the layout.
pub fn card_id(source: &str, key: &str) -> String {
    format!("{source}/{key}")
}

impl Layout {
    /// Reads a cookie value written by [`Layout::to_cookie`]; `h:` and `p:` lists of names.
    pub fn parse(value: &str) -> Self {
        let mut layout = Self::default();
        for part in value.split('.') {
            let list = match part.get(..2) {
                Some("h:") => &mut layout.hidden,
                Some("p:") => &mut layout.pinned,
                _ => continue,
            };
            list.extend(part[2..].split('~').filter_map(decode_component).filter(|n| n.contains('/')));
        }
        layout
    }

    /// The cookie value, within [`MAX_COOKIE`] bytes.
    pub fn to_cookie(&self) -> String {
        let mut this = self.clone();
        loop {
            let enc = |l: &[String]| l.iter().map(|n| encode_component(n)).collect::<Vec<_>>().join("~");
            let value = format!("h:{}.p:{}", enc(&this.hidden), enc(&this.pinned));
            if value.len() <= MAX_COOKIE {
                return value;
            }
            let longer = if this.hidden.len() >= this.pinned.len() { &mut this.hidden } else { &mut this.pinned };
            longer.remove(0);
        }
    }

    /// Whether nothing is hidden or pinned.
    pub fn is_empty(&self) -> bool {
        self.hidden.is_empty() && self.pinned.is_empty()
    }

    /// Hides a card (and unpins it).
    pub fn hide(&mut self, id: &str) {
        self.pinned.retain(|n| n != id);
        if !self.hidden.iter().any(|n| n == id) {
            self.hidden.push(id.to_owned());
        }
    }

    /// Pins or unpins a card.
    pub fn toggle_pin(&mut self, id: &str) {
        if self.pinned.iter().any(|n| n == id) {
            self.pinned.retain(|n| n != id);
        } else {
            self.pinned.push(id.to_owned());
        }
    }

    /// Shows again every hidden card of `source`.
    pub fn show_all(&mut self, source: &str) {
        let prefix = format!("{source}/");
        self.hidden.retain(|n| !n.starts_with(&prefix));
    }
}

/// What [`encode_component`] escapes: every byte but letters, digits and `-_*/`, so that the result
/// is safe in a cookie value (and in a URL's query) and never holds the separators `.`, `~` and `:`.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'*').remove(b'/');

/// `%XX` for every byte of `name` in [`COMPONENT`].
pub fn encode_component(name: &str) -> String {
    utf8_percent_encode(name, COMPONENT).to_string()
}

/// The inverse of [`encode_component`]: `None` for a bad escape, bad UTF-8 or an empty result.
pub fn decode_component(text: &str) -> Option<String> {
    // Stricter than the crate, which keeps a `%` without two hex digits as it is: a cookie changed
    // by hand is refused rather than read as another name.
    let bytes = text.as_bytes();
    let hex = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_hexdigit);
    if bytes.iter().enumerate().any(|(i, &b)| b == b'%' && !(hex(i + 1) && hex(i + 2))) {
        return None;
    }
    percent_decode_str(text).decode_utf8().ok().map(|s| s.into_owned()).filter(|s| !s.is_empty())
}

/// The layout as a signal for the page, starting from the cookie the request (server) or the
/// document (browser) has, and written back to the cookie on every change.
#[derive(Clone, Copy)]
pub struct Arrangement {
    /// The current layout.
    pub layout: RwSignal<Layout>,
}

impl Arrangement {
    /// From this request's or document's cookie.
    pub fn new() -> Self {
        Self { layout: RwSignal::new(Layout::parse(&crate::cookie::value(COOKIE).unwrap_or_default())) }
    }

    /// Changes the layout and remembers it.
    pub fn update(self, change: impl FnOnce(&mut Layout)) {
        self.layout.update(change);
        crate::cookie::store(COOKIE, &self.layout.with_untracked(Layout::to_cookie));
    }
}

impl Default for Arrangement {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_round_trip_through_the_cookie() {
        let mut l = Layout::default();
        l.hide("local/cpu_pct");
        l.toggle_pin("api/net.rx kbps;=~%");
        l.toggle_pin("local/load_avg");
        let value = l.to_cookie();
        assert!(!value.contains([';', ',', ' ', '"', '=']), "{value}");
        assert_eq!(Layout::parse(&value), l);
        l.toggle_pin("local/load_avg");
        assert_eq!(l.pinned, ["api/net.rx kbps;=~%"]);
        l.hide("api/net.rx kbps;=~%");
        assert!(l.pinned.is_empty(), "hiding unpins");
        l.show_all("local");
        assert_eq!(l.hidden, ["api/net.rx kbps;=~%"]);
    }

    #[test]
    fn bad_cookies_are_ignored_and_long_ones_trimmed() {
        assert_eq!(Layout::parse("garbage"), Layout::default());
        assert_eq!(Layout::parse("h:%zz~%4~noslash~a/b"), Layout { hidden: vec!["a/b".into()], pinned: vec![] });
        let mut l = Layout::default();
        for i in 0..500 {
            l.hide(&format!("source/series_number_{i}"));
        }
        let value = l.to_cookie();
        assert!(value.len() <= MAX_COOKIE);
        assert!(Layout::parse(&value).hidden.last().is_some_and(|n| n.ends_with("_499")), "the newest are kept");
        assert_eq!(crate::cookie::from_header("a=1; livedash_layout=h:x/y; b=2", COOKIE).as_deref(), Some("h:x/y"));
    }
}
