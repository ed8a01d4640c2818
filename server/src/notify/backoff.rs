//! How long a delivery waits before its next try: exponential (about 1 s after the first failure,
//! twice as long after each next one, at most 5 minutes), with jitter (±25 %) so that many
//! deliveries failing together do not all come back at once, and never shorter than what the
//! receiver asked for (`Retry-After`, itself capped at an hour).
//!
//! Written here rather than taken from a retry crate (backon, backoff): those run the retry loop
//! in memory, counting attempts themselves, while a delivery's failures live in its outbox row and
//! its next try must survive a restart and honour a receiver's `Retry-After`; what is left is this
//! one formula.

use std::time::Duration;

/// The first wait.
pub const FIRST: Duration = Duration::from_secs(1);
/// The longest wait the back-off makes.
pub const CAP: Duration = Duration::from_secs(300);
/// The longest `Retry-After` honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// How long a delivery may keep failing (its waits added up) before it is given up, when its
/// channel has no fallback.
pub const GIVE_UP: Duration = Duration::from_secs(24 * 3600);

/// The wait after the `failures`-th failure in a row (1 for the first), `after` what the receiver
/// asked, `jitter` a number in `[0, 1)`.
pub fn wait(failures: u32, after: Option<Duration>, jitter: f64) -> Duration {
    let doubled = FIRST.saturating_mul(1 << failures.saturating_sub(1).min(20)).min(CAP);
    let jittered = doubled.mul_f64(0.75 + 0.5 * jitter.clamp(0.0, 1.0));
    jittered.max(after.unwrap_or_default().min(MAX_RETRY_AFTER))
}

/// A number in `[0, 1)` from the system's random source (0.5 if it fails).
pub fn jitter() -> f64 {
    let mut b = [0u8; 4];
    match getrandom::fill(&mut b) {
        Ok(()) => f64::from(u32::from_le_bytes(b)) / (f64::from(u32::MAX) + 1.0),
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_a_second_to_five_minutes_and_honour_retry_after() {
        assert_eq!(wait(1, None, 0.5), Duration::from_secs(1));
        assert_eq!(wait(2, None, 0.5), Duration::from_secs(2));
        assert_eq!(wait(4, None, 0.5), Duration::from_secs(8));
        assert_eq!(wait(30, None, 0.5), CAP);
        assert_eq!(wait(1, None, 0.0), Duration::from_millis(750));
        assert!(wait(1, None, 0.999) < Duration::from_millis(1250));
        assert_eq!(wait(1, Some(Duration::from_secs(2)), 0.9), Duration::from_secs(2), "Retry-After: 2");
        assert_eq!(wait(1, Some(Duration::from_secs(86_400)), 0.5), MAX_RETRY_AFTER);
        let j = jitter();
        assert!((0.0..1.0).contains(&j));
    }
}
