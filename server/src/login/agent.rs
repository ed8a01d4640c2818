//! The browser and the operating system a `User-Agent` names, for the Sessions view: a few rules
//! read in order (the browsers that also say "Chrome" or "Safari" first), no database. What it
//! does not know it calls by the product's first word, or "Unknown".

/// A device as the Sessions view names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// "Firefox 133", "Chrome 131", "curl 8.5".
    pub browser: String,
    /// "Linux", "Windows", "macOS", "iOS", "Android", "ChromeOS".
    pub os: String,
}

/// The major version after `marker` in `ua` ("Firefox/133.0" -> "133").
fn version_after(ua: &str, marker: &str) -> Option<String> {
    let rest = &ua[ua.find(marker)? + marker.len()..];
    let v: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (!v.is_empty()).then_some(v)
}

/// The browser of `ua`.
fn browser(ua: &str) -> String {
    // Those that carry "Chrome/" or "Safari/" as well come first.
    const RULES: [(&str, &str); 9] = [
        ("Edg/", "Edge"),
        ("EdgA/", "Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Vivaldi/", "Vivaldi"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("HeadlessChrome/", "Headless Chrome"),
    ];
    for (marker, name) in RULES {
        if ua.contains(marker) {
            return with_version(name, version_after(ua, marker));
        }
    }
    if ua.contains("Chrome/") || ua.contains("Chromium/") {
        let marker = if ua.contains("Chromium/") { "Chromium/" } else { "Chrome/" };
        return with_version(marker.trim_end_matches('/'), version_after(ua, marker));
    }
    if ua.contains("Safari/") {
        return with_version("Safari", version_after(ua, "Version/"));
    }
    // A script: `curl/8.5.0`, `python-requests/2.31`: its product and version.
    match ua.split_whitespace().next() {
        Some(product) if !product.starts_with("Mozilla/") => {
            let (name, v) = product.split_once('/').unwrap_or((product, ""));
            let v: String = v.chars().take_while(|c| c.is_ascii_digit() || *c == '.').take(8).collect();
            let name: String = name.chars().filter(|c| !c.is_control()).take(40).collect();
            if v.is_empty() { name } else { format!("{name} {v}") }
        }
        _ => "Unknown browser".to_owned(),
    }
}

fn with_version(name: &str, version: Option<String>) -> String {
    version.map_or_else(|| name.to_owned(), |v| format!("{name} {v}"))
}

/// The operating system of `ua`.
fn os(ua: &str) -> &'static str {
    const RULES: [(&str, &str); 9] = [
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Android", "Android"),
        ("CrOS", "ChromeOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Macintosh", "macOS"),
        ("FreeBSD", "FreeBSD"),
        ("Linux", "Linux"),
    ];
    RULES.iter().find(|(marker, _)| ua.contains(marker)).map_or("an unknown system", |(_, name)| name)
}

/// The device `ua` names.
pub fn parse(ua: &str) -> Device {
    Device { browser: browser(ua), os: os(ua).to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_browsers_and_systems_are_named() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                "Chrome 131",
                "Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
                "Firefox 133",
                "Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
                "Safari 18",
                "macOS",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
                "Edge 131",
                "Windows",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0 Mobile/15E148 Safari/604.1",
                "Chrome 131",
                "iOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                "Chrome 131",
                "Android",
            ),
            ("curl/8.5.0", "curl 8.5.0", "an unknown system"),
            ("", "Unknown browser", "an unknown system"),
        ];
        for (ua, browser, os) in cases {
            assert_eq!(parse(ua), Device { browser: browser.to_owned(), os: os.to_owned() }, "{ua}");
        }
    }
}
