//! [`Guard`]: what a stranger can make happen (failed logins, throttles, role refusals) is
//! recorded at most [`PER_MINUTE`] times a minute per address and kind, so that a flood of
//! guesses cannot fill the disk or push the real records out of the view. The first record let
//! through after a quiet spell says how many were left out before it; the rest are recorded as
//! they come. Measured on the monotonic clock.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::AuditKind;

/// Records per address and kind per minute.
pub const PER_MINUTE: u32 = 20;

/// Addresses remembered at most (a flood from many addresses starts the book afresh).
const MAX_KEYS: usize = 10_000;

const MINUTE: Duration = Duration::from_secs(60);

/// See the module's documentation.
#[derive(Debug, Default)]
pub struct Guard {
    /// Per (kind, address): when its minute began, how many were recorded in it, how many left
    /// out since the last one recorded.
    book: HashMap<(&'static str, Option<IpAddr>), Window>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    recorded: u32,
    left_out: u64,
}

impl Guard {
    /// Whether a record of `kind` from `addr` at `now` is to be recorded: `Some(n)` with the
    /// number left out before it, or `None` (left out, counted).
    pub fn pass(&mut self, kind: AuditKind, addr: Option<IpAddr>, now: Instant) -> Option<u64> {
        if !kind.from_strangers() {
            return Some(0);
        }
        if self.book.len() >= MAX_KEYS {
            self.book.retain(|_, w| now.duration_since(w.start) < MINUTE);
            if self.book.len() >= MAX_KEYS {
                self.book.clear();
            }
        }
        let window = self.book.entry((kind.as_str(), addr)).or_insert(Window { start: now, recorded: 0, left_out: 0 });
        if now.duration_since(window.start) >= MINUTE {
            window.start = now;
            window.recorded = 0;
        }
        if window.recorded >= PER_MINUTE {
            window.left_out += 1;
            return None;
        }
        window.recorded += 1;
        Some(std::mem::take(&mut window.left_out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_recorded_twenty_times_a_minute_and_the_gap_is_told() {
        let mut guard = Guard::default();
        let (t0, ip) = (Instant::now(), Some(IpAddr::from([10, 0, 0, 1])));
        for _ in 0..PER_MINUTE {
            assert_eq!(guard.pass(AuditKind::LoginFailed, ip, t0), Some(0));
        }
        for _ in 0..5 {
            assert_eq!(guard.pass(AuditKind::LoginFailed, ip, t0 + Duration::from_secs(30)), None);
        }
        // Another address, another kind, and what only a logged-in admin does: not affected.
        assert_eq!(guard.pass(AuditKind::LoginFailed, Some(IpAddr::from([10, 0, 0, 2])), t0), Some(0));
        assert_eq!(guard.pass(AuditKind::Throttled, ip, t0), Some(0));
        for _ in 0..100 {
            assert_eq!(guard.pass(AuditKind::Login, ip, t0), Some(0));
        }
        // A minute on, the next one says how many were left out.
        assert_eq!(guard.pass(AuditKind::LoginFailed, ip, t0 + MINUTE), Some(5));
        assert_eq!(guard.pass(AuditKind::LoginFailed, ip, t0 + MINUTE), Some(0));
    }
}
