//! Keeping the file in shape as data ages, never by rescanning everything. Four steps, each run on
//! its own schedule (monotonic), each failing on its own: a step that fails is logged, counted and
//! tried again later with a growing wait, and never stops the others or the writing of samples.
//!
//! - [`seal`]: pending points a minute old (by the data's own timestamps) go into their quarter's
//!   chunk (tier 0), merged with what it holds, and into the 1-minute (tier 1) and 1-hour (tier 2)
//!   roll-ups, so that every hour with data has its hour bucket at once, late points included;
//! - [`reroll`]: days listed for it get their hour roll-up made again from the minute tier (the
//!   days of files written by older versions, which missed some);
//! - [`retain`]: what is past its tier's retention goes, judged by the trusted clock
//!   ([`super::clock`]), never by a wall clock that jumped; then unused series;
//! - [`budget`]: the whole file (pages and write-ahead log) is kept within `--store-max-bytes`,
//!   the finest tier's oldest chunks going first.
//!
//! [`damaged`]: a chunk that does not decode is set aside and counted, and the step goes on.
//!
//! May import the store's own modules, the core and [`crate::clock`] (labels of set-aside chunks);
//! nothing else.

pub mod budget;
pub mod damaged;
pub mod reroll;
pub mod retain;
pub mod seal;

#[cfg(test)]
mod tests;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};

use super::clock::TrustedClock;
use super::error::StoreError;
use super::state::{Shared, StoreConfig};
use super::{Bucket, Tier, db};

pub use reroll::roll_day;
pub use seal::close_quarters;

/// The span of one raw chunk, in ms.
pub const QUARTER_MS: u64 = 15 * 60_000;
/// One day, in ms: the span of an hour chunk.
pub const DAY_MS: u64 = 86_400_000;
/// One minute, in ms.
pub const MINUTE_MS: u64 = 60_000;
/// How long points wait in `pending` before they are sealed (late ones are merged anyway).
const SEAL_AFTER_MS: u64 = MINUTE_MS;
/// How often retention and the budget are looked at.
const RETAIN_EVERY: Duration = Duration::from_secs(60);
/// How often series without data are looked for.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// One step's timing: when it is due next and how often it failed in a row.
#[derive(Debug, Default, Clone, Copy)]
struct Due {
    next: Option<Instant>,
    failures: u32,
}

impl Due {
    fn due(&self, now: Instant) -> bool {
        self.next.is_none_or(|next| now >= next)
    }

    /// Records the step's outcome at `now`; a success is due again after `every`.
    fn outcome(
        &mut self,
        step: &'static str,
        result: Result<(), StoreError>,
        every: Duration,
        now: Instant,
        shared: &Shared,
    ) -> bool {
        match result {
            Ok(()) => {
                self.failures = 0;
                self.next = Some(now + every);
                shared.set_maintenance_ok(step);
                true
            }
            Err(e) => {
                self.failures = self.failures.saturating_add(1);
                // 5 s doubling, at most 5 minutes: a step that keeps failing costs little.
                let wait =
                    Duration::from_secs(5).saturating_mul(1 << self.failures.min(6)).min(Duration::from_secs(300));
                self.next = Some(now + wait);
                shared.set_maintenance_failing(step, &e);
                false
            }
        }
    }
}

/// When each step last ran, and the trusted clock.
#[derive(Debug)]
pub struct Schedule {
    clock: Option<TrustedClock>,
    jumped: bool,
    /// The newest point of the latest batch: the data's own "now".
    latest_data: u64,
    /// Points in `pending`, about (what was written less what was sealed).
    pending: u64,
    sealed_until: Option<u64>,
    seal: Due,
    reroll: Due,
    retain: Due,
    prune: Due,
    budget: Due,
    /// Whether the last budget run brought the file within the budget.
    fits: bool,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            clock: None,
            jumped: false,
            latest_data: 0,
            pending: 0,
            sealed_until: None,
            seal: Due::default(),
            reroll: Due::default(),
            retain: Due::default(),
            prune: Due::default(),
            budget: Due::default(),
            fits: true,
        }
    }
}

impl Schedule {
    /// Notes a batch just written: its newest point and how many points it held.
    pub fn written(&mut self, newest: u64, points: u64) {
        self.latest_data = newest;
        self.pending = self.pending.saturating_add(points);
    }

    /// Does whatever is due, the wall clock reading `wall` at `mono`. Errors are recorded in
    /// `shared`; it returns whether every step that ran worked.
    pub fn run(&mut self, conn: &Connection, config: &StoreConfig, shared: &Shared, wall: u64, mono: Instant) -> bool {
        let reading = self.clock.get_or_insert_with(|| TrustedClock::new(wall, mono)).read(wall, mono);
        shared.clock_skew_ms.store(reading.skew, Ordering::Relaxed);
        if reading.jumped() != self.jumped {
            self.jumped = reading.jumped();
            if self.jumped {
                shared.clock_jumps.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    skew_ms = reading.skew,
                    "the wall clock jumped away from the monotonic one: data keeps its labels, nothing is deleted because of it"
                );
            } else {
                tracing::info!("the wall clock agrees with the monotonic one again");
            }
        }
        let mut ok = true;
        // Sealing follows the data's own timestamps: a clock stepped forward seals early (merged
        // later), one stepped back seals the late points into the chunks they belong to.
        // Pending points take about ten times what they take sealed: past an eighth of the
        // budget, everything pending is sealed at once (merged again as more of its minute comes).
        let data_now = reading.now.max(self.latest_data);
        let crowded = self.pending.saturating_mul(budget::PENDING_POINT_BYTES) > config.max_bytes / 8;
        let until = if crowded { u64::MAX } else { data_now.saturating_sub(SEAL_AFTER_MS) / MINUTE_MS * MINUTE_MS };
        if (crowded || self.sealed_until != Some(until)) && self.seal.due(mono) {
            let result = close_quarters(conn, until).map(|sealed| {
                shared.chunks_damaged.fetch_add(sealed.damaged, Ordering::Relaxed);
                self.pending = if crowded { 0 } else { self.pending.saturating_sub(sealed.points) };
            });
            if self.seal.outcome("seal", result, Duration::ZERO, mono, shared) {
                self.sealed_until = Some(until);
            } else {
                ok = false;
            }
        }
        if self.reroll.due(mono) {
            let result = reroll::pending_days(conn, 64).map(|(left, damaged)| {
                shared.chunks_damaged.fetch_add(damaged, Ordering::Relaxed);
                left
            });
            let every = match &result {
                Ok(left) if *left > 0 => Duration::from_secs(1),
                _ => Duration::from_secs(600),
            };
            ok &= self.reroll.outcome("reroll", result.map(|_| ()), every, mono, shared);
        }
        if self.retain.due(mono) {
            let result = retain::retain(conn, config, reading.now);
            ok &= self.retain.outcome("retain", result, RETAIN_EVERY, mono, shared);
        }
        if self.prune.due(mono) {
            ok &= self.prune.outcome("prune", retain::prune_series(conn), PRUNE_EVERY, mono, shared);
        }
        // Due every minute, and as soon as the file is over the budget (two pragmas and a stat)
        // unless the last run could not bring it within.
        let over = self.fits && db::file_bytes(conn, &config.path).is_ok_and(|b| b > config.max_bytes);
        if over || self.budget.due(mono) {
            let result = budget::keep_within(conn, config, shared).and_then(|fits| {
                self.fits = fits;
                shared.bytes.store(db::file_bytes(conn, &config.path)?, Ordering::Relaxed);
                Ok(())
            });
            ok &= self.budget.outcome("budget", result, RETAIN_EVERY, mono, shared);
        }
        ok
    }
}

/// Where a roll-up chunk starting at `start` and spanning at most `span` ends: at the end of its
/// last bucket of width `width` (readers fill what comes after it from the finer tier).
fn roll_up_end(buckets: &[Bucket], start: u64, width: u64, span: u64) -> u64 {
    buckets.last().map_or(start, |b| b.t + width).min(start + span)
}

/// Writes (or replaces, in place) the chunk of `series` in `tier` starting at `start`.
pub fn put(
    conn: &Connection,
    series: i64,
    tier: Tier,
    start: u64,
    end: u64,
    count: usize,
    data: &[u8],
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO chunk (id, series, tier, start, end, count, data)
         VALUES (CASE WHEN EXISTS (SELECT 1 FROM chunk WHERE id = ?7) THEN NULL ELSE ?7 END, ?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (series, tier, start) DO UPDATE SET end = excluded.end, count = excluded.count, data = excluded.data",
    )?
    .execute(params![series, tier.code(), start as i64, end as i64, count as i64, data, row_id(series, tier, start)])?;
    Ok(())
}

/// Where a chunk sits in the table: rows are kept in the order of their id, so an id made of the
/// tier, then the start (ms since 1970, 42 bits: until 2109), then the series (19 bits) keeps each
/// tier's chunks together and in time order (evicting a tier's oldest frees whole pages, not a
/// row here and there between younger ones), and a chunk written again stays where it was. An id
/// taken already (a series numbered past 2^19 that shares the low bits) lets SQLite choose one.
pub fn row_id(series: i64, tier: Tier, start: u64) -> i64 {
    let time = i64::try_from(start).unwrap_or(0) & ((1 << 42) - 1);
    (tier.code() << 61) | (time << 19) | (series & ((1 << 19) - 1))
}
