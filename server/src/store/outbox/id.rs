//! The outbox's stable ids, and its numbers as SQLite keeps them.

use sha2::{Digest, Sha256};

/// The stable id of an alert's change: a digest of its rule, source, series, the state entered
/// and its time label (all the same on every instance of a cluster, which reads the change from
/// the shared stream), 32 hex digits. Reminders and digests pass their own word as `to`.
pub fn stable_id(rule: &str, source: &str, series: Option<&str>, to: &str, ts_ms: u64) -> String {
    let mut h = Sha256::new();
    for part in [rule, source, series.unwrap_or(""), to] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    h.update(ts_ms.to_be_bytes());
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

pub(super) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(super) fn to_u64(v: i64) -> u64 {
    v.max(0).unsigned_abs()
}
