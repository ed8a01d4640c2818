//! The store's idea of "now", for deleting what is old: the wall clock as it read when the writer
//! started, moved on by the monotonic clock ([`Instant`]), which an NTP step or a mis-set clock
//! does not move. The wall clock only labels data; when it disagrees with this one by more than
//! [`SKEW_BOUND_MS`] the difference is reported (log, `/api/health`, `/metrics`) and nothing is
//! deleted because of it.
//!
//! A wall clock stepped back is followed at once (deleting later than planned loses nothing); one
//! stepped forward is not followed (it would delete everything its step makes look old) until the
//! next start of the server.

use std::time::Instant;

/// How far the wall clock may drift from the trusted one before it is reported, in ms.
pub const SKEW_BOUND_MS: u64 = 60_000;

/// The trusted clock.
#[derive(Debug, Clone, Copy)]
pub struct TrustedClock {
    wall: u64,
    mono: Instant,
}

/// One reading of both clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// Trusted "now", in ms since the epoch.
    pub now: u64,
    /// The wall clock minus the trusted one, in ms (positive: the wall clock is ahead).
    pub skew: i64,
}

impl Reading {
    /// Whether the wall clock is off by more than [`SKEW_BOUND_MS`].
    pub fn jumped(&self) -> bool {
        self.skew.unsigned_abs() > SKEW_BOUND_MS
    }
}

impl TrustedClock {
    /// A clock that reads `wall` (ms since the epoch) at `mono`.
    pub fn new(wall: u64, mono: Instant) -> Self {
        Self { wall, mono }
    }

    /// Reads it at `mono`, when the wall clock says `wall`: a wall clock behind the trusted one by
    /// more than the bound becomes the trusted one.
    pub fn read(&mut self, wall: u64, mono: Instant) -> Reading {
        let elapsed = u64::try_from(mono.saturating_duration_since(self.mono).as_millis()).unwrap_or(u64::MAX);
        let now = self.wall.saturating_add(elapsed);
        let skew = i64::try_from(i128::from(wall) - i128::from(now)).unwrap_or(i64::MIN);
        if skew < -i64::try_from(SKEW_BOUND_MS).unwrap_or(i64::MAX) {
            *self = Self::new(wall, mono);
            return Reading { now: wall, skew };
        }
        Reading { now, skew }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const DAY: u64 = 86_400_000;

    #[test]
    fn a_wall_clock_stepped_forward_is_reported_and_not_followed() {
        let start = Instant::now();
        let mut clock = TrustedClock::new(1000 * DAY, start);
        let later = start + Duration::from_secs(30);
        assert_eq!(clock.read(1000 * DAY + 30_000, later), Reading { now: 1000 * DAY + 30_000, skew: 0 });
        let r = clock.read(1002 * DAY + 31_000, later + Duration::from_secs(1));
        assert_eq!(r.now, 1000 * DAY + 31_000, "two days ahead moves nothing");
        assert!(r.jumped() && r.skew == 2 * DAY as i64);
        let r = clock.read(1000 * DAY + 90_000, later + Duration::from_secs(60));
        assert_eq!(r, Reading { now: 1000 * DAY + 90_000, skew: 0 }, "back in step");
    }

    #[test]
    fn a_wall_clock_stepped_back_is_followed_and_reported() {
        let start = Instant::now();
        let mut clock = TrustedClock::new(1000 * DAY, start);
        let r = clock.read(998 * DAY, start + Duration::from_secs(10));
        assert_eq!(r.now, 998 * DAY);
        assert!(r.jumped() && r.skew < 0);
        let r = clock.read(998 * DAY + 20_000, start + Duration::from_secs(30));
        assert_eq!(r, Reading { now: 998 * DAY + 20_000, skew: 0 });
    }

    #[test]
    fn small_drift_is_not_a_jump() {
        let start = Instant::now();
        let mut clock = TrustedClock::new(5000, start);
        let r = clock.read(5000 + 10_000 + SKEW_BOUND_MS, start + Duration::from_secs(10));
        assert!(!r.jumped());
        assert_eq!(r.now, 15_000);
    }
}
