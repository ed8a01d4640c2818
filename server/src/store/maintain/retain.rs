//! Retention: each tier's chunks older than its keep time go, "older" judged by the store's
//! trusted clock ([`crate::store::clock`]), so a wall clock stepped forward deletes nothing; then,
//! now and again, the series that no longer hold any data (label churn would otherwise grow the
//! series list and the file for ever).

use rusqlite::{Connection, params};

use crate::store::Tier;
use crate::store::error::StoreError;
use crate::store::state::StoreConfig;

/// Deletes what each tier keeps no longer at trusted time `now`.
pub fn retain(conn: &Connection, config: &StoreConfig, now: u64) -> Result<(), StoreError> {
    let mut delete = conn.prepare_cached("DELETE FROM chunk WHERE tier = ?1 AND start < ?2 AND end <= ?2")?;
    for (tier, keep) in [(Tier::Raw, config.raw_for), (Tier::Minute, config.minute_for), (Tier::Hour, config.hour_for)]
    {
        let keep = u64::try_from(keep.as_millis()).unwrap_or(u64::MAX);
        let cut = i64::try_from(now.saturating_sub(keep)).unwrap_or(i64::MAX);
        delete.execute(params![tier.code(), cut])?;
    }
    Ok(())
}

/// Deletes the series with no chunk and no pending point; how many.
pub fn prune_series(conn: &Connection) -> Result<(), StoreError> {
    let gone = conn.execute(
        "DELETE FROM series WHERE NOT EXISTS (SELECT 1 FROM chunk WHERE chunk.series = series.id)
         AND NOT EXISTS (SELECT 1 FROM pending WHERE pending.series = series.id)",
        [],
    )?;
    if gone > 0 {
        tracing::info!(series = gone, "history store: series without data forgotten");
    }
    Ok(())
}
