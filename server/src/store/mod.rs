//! History on disk: every numeric series of every sample, kept in one SQLite file (WAL) in the
//! data directory, so that charts reach back hours to months and a restart forgets nothing.
//!
//! - [`handle`]: the [`Store`] the server holds: a bounded queue to the writer; [`state`]: what
//!   the two share (settings, jobs, counters, the last failure).
//! - [`writer`]: the one writer thread, a transaction per batch; [`maintain`]: chunks, roll-ups,
//!   retention and the byte budget as data ages; [`clock`]: the trusted "now" those go by;
//!   [`db`]: the file and its tables; [`migrate`]: the schema's versions, a transaction each.
//! - [`read`]: a range of one series, the series list, gaps, the minutes before a restart.
//! - [`codec`]: a chunk of points or of roll-up buckets as a compressed blob (pco).
//! - [`rollup`]: points into min/max/mean/last buckets, and buckets into coarser ones.
//! - [`downsample`]: at most N points for a range, spikes kept (min and max per bucket).
//! - [`alerts`]: the alerts' events, instances and silences (written by the same writer);
//!   [`outbox`]: the notifications' outbox, a row per (event, channel), written with the event;
//!   [`auth`]: the login's sessions, tokens, second factors and audit log.
//! - [`error`]: what can go wrong.
//!
//! Tiers: full resolution ([`Tier::Raw`]), then 1-minute and 1-hour roll-ups, each kept for its
//! own retention. The live path never waits for the disk: samples reach the store through a
//! bounded queue that one writer empties in batches.
//!
//! May import the core (`livedash`) and [`crate::clock`]; nothing from the live path, the
//! sources, the config or the router (the server's wiring feeds it sample frames).

pub mod alerts;
pub mod auth;
pub mod clock;
pub mod codec;
pub mod db;
pub mod downsample;
pub mod error;
pub mod handle;
pub mod maintain;
pub mod migrate;
pub mod outbox;
pub mod read;
pub mod rollup;
pub mod state;
pub mod writer;

#[cfg(test)]
mod tests;

/// A store file of its own for a test (`livedash-NAME-PID` in the temporary directory, emptied),
/// with the default retention, opened for writing.
#[cfg(test)]
pub(crate) fn temp_store(name: &str) -> (StoreConfig, rusqlite::Connection) {
    let config = StoreConfig::temporary(name);
    let conn = db::open_writer(&config.path).expect("open");
    (config, conn)
}

/// Puts `points` of series `name` (source `local`) into `pending` in one transaction, as the
/// writer would (a point at a time already pending replaces it); returns them.
#[cfg(test)]
pub(crate) fn put_pending(conn: &rusqlite::Connection, name: &str, points: Vec<Point>) -> Vec<Point> {
    let id = db::series_id(conn, "local", name).expect("series");
    let tx = conn.unchecked_transaction().expect("tx");
    for p in &points {
        let t = i64::try_from(p.t).expect("t");
        tx.execute("INSERT OR REPLACE INTO pending (series, t, v) VALUES (?1, ?2, ?3)", rusqlite::params![id, t, p.v])
            .expect("insert");
    }
    tx.commit().expect("commit");
    points
}

pub use error::StoreError;
pub use handle::{Store, StoreConfig};

/// One value of one series at one time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// When the server received it, in ms since the Unix epoch.
    pub t: u64,
    /// The value.
    pub v: f64,
}

/// The summary of a series over one bucket of time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// The bucket's start, in ms since the Unix epoch (a multiple of its width).
    pub t: u64,
    /// The lowest value in it.
    pub min: f64,
    /// The highest value in it.
    pub max: f64,
    /// The mean of its values.
    pub mean: f64,
    /// Its last value.
    pub last: f64,
    /// How many points it summarises.
    pub count: u32,
}

/// A resolution the store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// Every point.
    Raw,
    /// One bucket a minute.
    Minute,
    /// One bucket an hour.
    Hour,
}

impl Tier {
    /// Its bucket width in ms (0 for raw points).
    pub fn width_ms(self) -> u64 {
        match self {
            Self::Raw => 0,
            Self::Minute => 60_000,
            Self::Hour => 3_600_000,
        }
    }

    /// Its number in the file.
    pub fn code(self) -> i64 {
        match self {
            Self::Raw => 0,
            Self::Minute => 1,
            Self::Hour => 2,
        }
    }

    /// Its name in the API (`raw`, `1m`, `1h`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Raw => "raw",
            Self::Minute => "1m",
            Self::Hour => "1h",
        }
    }
}
