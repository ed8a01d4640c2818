//! Reading the store: one series over a range from the finest tier whose retention covers it
//! (what is not rolled up yet is rolled up on the fly), the list of series, the gaps when the
//! server was down, and the last minutes of every series for refilling the live history at start.

use std::collections::BTreeMap;
use std::sync::Arc;

use rusqlite::{Connection, params};

use super::error::StoreError;
use super::state::StoreConfig;
use super::{Bucket, Point, Tier, codec, db, downsample, maintain, rollup};

/// A gap shorter than this between two lives of the server is not reported (a quick restart).
const MIN_GAP_MS: u64 = 2_000;

/// What a range of one series holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// Points at full resolution (downsampled with min and max per bucket when there were more).
    Points(Vec<Point>),
    /// Roll-up buckets.
    Buckets(Vec<Bucket>),
}

/// A range of one series, as the API serves it.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// The tier it came from.
    pub tier: Tier,
    /// Its data.
    pub data: Data,
    /// When the server was down within the range: `(from, to)` in ms.
    pub gaps: Vec<(u64, u64)>,
}

/// The finest tier whose retention reaches back to `from`.
pub fn tier_for(config: &StoreConfig, from: u64, now: u64) -> Tier {
    let reaches =
        |keep: std::time::Duration| now.saturating_sub(u64::try_from(keep.as_millis()).unwrap_or(u64::MAX)) <= from;
    if reaches(config.raw_for) {
        Tier::Raw
    } else if reaches(config.minute_for) {
        Tier::Minute
    } else {
        Tier::Hour
    }
}

/// Series `name` of `source` over `[from, to]`, at most `max` points or buckets; `None` when the
/// store has no such series.
pub fn history(
    conn: &Connection,
    config: &StoreConfig,
    (source, name): (&str, &str),
    (from, to): (u64, u64),
    max: usize,
    now: u64,
) -> Result<Option<History>, StoreError> {
    let Some(id) = db::find_series(conn, source, name)? else { return Ok(None) };
    let tier = tier_for(config, from, now);
    let data = match tier {
        Tier::Raw => Data::Points(downsample::points(&raw_points(conn, id, from, to)?, from, to, max)),
        Tier::Minute | Tier::Hour => {
            Data::Buckets(downsample::buckets(&buckets(conn, id, tier, from, to)?, from, to, max))
        }
    };
    Ok(Some(History { tier, data, gaps: gaps(conn, from, to)? }))
}

/// Every point of series `id` in `[from, to]`, from its chunks and its pending points.
pub fn raw_points(conn: &Connection, id: i64, from: u64, to: u64) -> Result<Vec<Point>, StoreError> {
    let mut points = Vec::new();
    for blob in chunk_blobs(conn, id, Tier::Raw, from, to)? {
        points.extend(codec::decode_points(&blob).map_err(|e| StoreError::Chunk(e.to_string()))?);
    }
    let mut rows =
        conn.prepare_cached("SELECT t, v FROM pending WHERE series = ?1 AND t >= ?2 AND t <= ?3 ORDER BY t")?;
    let pending = rows.query_map(params![id, from as i64, to as i64], |r| {
        Ok(Point { t: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0), v: r.get(1)? })
    })?;
    for p in pending {
        points.push(p?);
    }
    points.retain(|p| p.t >= from && p.t <= to);
    points.sort_by_key(|p| p.t);
    points.dedup_by_key(|p| p.t);
    Ok(points)
}

/// The buckets of `tier` for series `id` overlapping `[from, to]`: the stored ones, then what
/// finer data holds after them, rolled up now.
fn buckets(conn: &Connection, id: i64, tier: Tier, from: u64, to: u64) -> Result<Vec<Bucket>, StoreError> {
    let mut out = Vec::new();
    let mut covered = from;
    for (end, blob) in chunk_blobs_with_end(conn, id, tier, from, to)? {
        out.extend(codec::decode_buckets(&blob).map_err(|e| StoreError::Chunk(e.to_string()))?);
        covered = covered.max(end);
    }
    if covered <= to {
        let mut minutes = Vec::new();
        if tier == Tier::Hour {
            for blob in chunk_blobs(conn, id, Tier::Minute, covered, to)? {
                minutes.extend(codec::decode_buckets(&blob).map_err(|e| StoreError::Chunk(e.to_string()))?);
            }
        }
        let minute_end = minutes.last().map_or(covered, |b| b.t + Tier::Minute.width_ms());
        let raw: Vec<Point> = raw_points(conn, id, minute_end.max(covered), to)?;
        minutes.extend(rollup::roll(&raw, Tier::Minute.width_ms()));
        minutes.retain(|b| b.t >= covered);
        out.extend(if tier == Tier::Hour { rollup::merge(&minutes, Tier::Hour.width_ms()) } else { minutes });
    }
    let width = tier.width_ms();
    out.retain(|b| b.t + width > from && b.t <= to);
    out.sort_by_key(|b| b.t);
    Ok(out)
}

fn chunk_blobs(conn: &Connection, id: i64, tier: Tier, from: u64, to: u64) -> Result<Vec<Vec<u8>>, StoreError> {
    Ok(chunk_blobs_with_end(conn, id, tier, from, to)?.into_iter().map(|(_, b)| b).collect())
}

fn chunk_blobs_with_end(
    conn: &Connection,
    id: i64,
    tier: Tier,
    from: u64,
    to: u64,
) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    // A chunk spans at most a day (an hour roll-up's) or a quarter hour (the others): bounding its
    // start from below keeps the index range to the chunks that can overlap.
    let span = if tier == Tier::Hour { maintain::DAY_MS } else { maintain::QUARTER_MS };
    let earliest = i64::try_from(from.saturating_sub(span)).unwrap_or(i64::MAX);
    let mut rows = conn.prepare_cached(
        "SELECT end, data FROM chunk WHERE series = ?1 AND tier = ?2 AND start > ?5 AND start <= ?4 AND end > ?3
         ORDER BY start",
    )?;
    let rows = rows.query_map(params![id, tier.code(), from as i64, to as i64, earliest], |r| {
        Ok((u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0), r.get::<_, Vec<u8>>(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// When the server was down within `[from, to]`: between the last write of one life and the
/// start of the next.
pub fn gaps(conn: &Connection, from: u64, to: u64) -> Result<Vec<(u64, u64)>, StoreError> {
    let mut rows = conn.prepare_cached("SELECT start, last FROM run ORDER BY start")?;
    let runs: Vec<(u64, u64)> = rows
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?
        .map(|r| r.map(|(s, l)| (u64::try_from(s).unwrap_or(0), u64::try_from(l).unwrap_or(0))))
        .collect::<Result<_, _>>()?;
    Ok(runs
        .windows(2)
        .map(|w| (w[0].1, w[1].0))
        .filter(|&(down, up)| up > down + MIN_GAP_MS && up >= from && down <= to)
        .collect())
}

/// Every series the store has: `(source, name)`, sorted.
pub fn series(conn: &Connection) -> Result<Vec<(String, String)>, StoreError> {
    let mut rows = conn.prepare_cached("SELECT source, name FROM series ORDER BY source, name")?;
    let rows = rows.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One past sample rebuilt from the store: its source, time and numeric series.
pub type Recent = (Arc<str>, u64, Vec<(String, f64)>);

/// Every source's samples since `since`, rebuilt from the stored points (time-ordered).
pub fn recent(conn: &Connection, since: u64) -> Result<Vec<Recent>, StoreError> {
    let mut names: BTreeMap<i64, (Arc<str>, String)> = BTreeMap::new();
    {
        let mut rows = conn.prepare_cached("SELECT id, source, name FROM series")?;
        let mut rows = rows.query([])?;
        while let Some(r) = rows.next()? {
            names.insert(r.get(0)?, (Arc::from(r.get::<_, String>(1)?), r.get(2)?));
        }
    }
    type Values = Vec<(String, f64)>;
    let mut samples: BTreeMap<(u64, Arc<str>), Values> = BTreeMap::new();
    for (id, (source, name)) in &names {
        for p in raw_points(conn, *id, since, u64::MAX >> 1)? {
            samples.entry((p.t, source.clone())).or_default().push((name.clone(), p.v));
        }
    }
    Ok(samples.into_iter().map(|((t, source), values)| (source, t, values)).collect())
}
