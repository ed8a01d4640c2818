//! Wall-clock time as the wire protocol counts it: milliseconds since the Unix epoch, and
//! durations as whole milliseconds. Shared by the hub, authentication (ticket expiry) and sources.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (0 if the clock is set before it).
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, millis)
}

/// `d` in whole milliseconds, saturating at `u64::MAX`.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A wall label in ms as `2026-12-05 21:40 UTC`, for a person reading a list.
pub fn utc_label(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(|| ms.to_string(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_saturate_instead_of_wrapping() {
        assert_eq!(millis(Duration::from_micros(2_999)), 2);
        assert_eq!(millis(Duration::MAX), u64::MAX);
        // After 2020-01-01 and exact in a JavaScript number.
        assert!(now_ms() > 1_577_836_800_000 && now_ms() < 1 << 53);
    }
}
