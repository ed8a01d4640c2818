//! One series over the replayed range, read at the finest tier the store holds for each part of
//! it: raw points where the raw tier still reaches, 1-minute roll-ups before that, 1-hour roll-ups
//! before those. Each tier is trimmed from its oldest end, so "where it reaches" is its earliest
//! time ([`read::earliest`]). A roll-up bucket becomes one step at its start with the bucket's
//! lowest and highest value, and the part it came from is kept, to be said in the output.

use rusqlite::Connection;

use crate::store::read::{self, ReadError, Watch, scan};
use crate::store::{Point, Tier};

/// One value to replay: a raw point (`min == max`) or a roll-up bucket's extremes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// When, in ms since the Unix epoch (a bucket's start).
    pub t: u64,
    /// The lowest value (what a `below` rule is replayed with).
    pub min: f64,
    /// The highest value (what an `above` rule is replayed with).
    pub max: f64,
}

/// A part of the range read from a roll-up instead of raw points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coarse {
    /// The roll-up.
    pub tier: Tier,
    /// Where the part starts, in ms since the Unix epoch.
    pub from: u64,
    /// Where it ends (exclusive).
    pub to: u64,
}

/// A series over a range, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// Its values in time order.
    pub steps: Vec<Step>,
    /// The parts that came from roll-ups (none when the raw tier reached back far enough).
    pub coarse: Vec<Coarse>,
}

fn floor(t: u64, width: u64) -> u64 {
    t / width * width
}

/// Series `id` over `[from, to]`, each part at the finest tier the store holds for it.
pub fn read_series(conn: &Connection, id: i64, (from, to): (u64, u64)) -> Result<Series, ReadError> {
    // One snapshot: the writer may close a quarter or trim a tier meanwhile.
    let _snapshot = if conn.is_autocommit() { Some(conn.unchecked_transaction()?) } else { None };
    let end = to.saturating_add(1);
    let raw_from = read::earliest(conn, id, Tier::Raw)?;
    let minute_from = min_of(read::earliest(conn, id, Tier::Minute)?, raw_from);
    // Where each tier takes over, on its coarser neighbour's bucket boundary (a raw chunk starts
    // on a quarter, a minute chunk too).
    let raw_split = raw_from.map_or(end, |t| floor(t, Tier::Minute.width_ms()));
    let minute_split = minute_from.map_or(raw_split, |t| floor(t, Tier::Hour.width_ms())).min(raw_split);
    let watch = Watch::default();
    let mut series = Series::default();
    let parts = [(Tier::Hour, from, minute_split), (Tier::Minute, from.max(minute_split), raw_split)];
    for (tier, a, b) in parts {
        let b = b.min(end);
        if a >= b {
            continue;
        }
        let before = series.steps.len();
        let start = floor(a, tier.width_ms());
        scan::buckets(conn, id, tier, (start, b), &watch, &mut |bucket| {
            series.steps.push(Step { t: bucket.t, min: bucket.min, max: bucket.max });
        })?;
        // The span the roll-up's buckets covered, within the part.
        if let (Some(first), Some(last)) = (series.steps.get(before), series.steps.last()) {
            let to = last.t.saturating_add(tier.width_ms()).min(b);
            series.coarse.push(Coarse { tier, from: first.t.max(a), to });
        }
    }
    let a = from.max(raw_split);
    if a < end {
        scan::points(conn, id, (a, end), &watch, &mut |p: Point| {
            series.steps.push(Step { t: p.t, min: p.v, max: p.v })
        })?;
    }
    Ok(series)
}

fn min_of(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::maintain::{self, QUARTER_MS};
    use crate::store::{codec, db, rollup};

    #[test]
    fn each_part_comes_from_the_finest_tier_held() {
        let (_config, conn) = crate::store::temp_store("preview-history");
        let id = db::series_id(&conn, "local", "x").expect("series");
        let day0 = 900 * 86_400_000;
        // Minute roll-ups for four quarters, raw points for the last two of them only.
        let points: Vec<Point> =
            (0..4 * QUARTER_MS / 1000).map(|s| Point { t: day0 + s * 1000, v: (s % 120) as f64 }).collect();
        for q in 0..4 {
            let (a, b) = (day0 + q * QUARTER_MS, day0 + (q + 1) * QUARTER_MS);
            let part: Vec<Point> = points.iter().copied().filter(|p| p.t >= a && p.t < b).collect();
            let minutes = rollup::roll(&part, Tier::Minute.width_ms());
            maintain::put(&conn, id, Tier::Minute, a, b, minutes.len(), &codec::encode_buckets(&minutes)).expect("put");
            if q >= 2 {
                maintain::put(&conn, id, Tier::Raw, a, b, part.len(), &codec::encode_points(&part)).expect("put");
            }
        }
        let series = read_series(&conn, id, (day0, day0 + 4 * QUARTER_MS - 1)).expect("read");
        let split = day0 + 2 * QUARTER_MS;
        assert_eq!(series.coarse, [Coarse { tier: Tier::Minute, from: day0, to: split }]);
        let (coarse, fine): (Vec<Step>, Vec<Step>) = series.steps.iter().partition(|s| s.t < split);
        assert_eq!(coarse.len(), 30, "one step a minute before the raw tier");
        assert_eq!(fine.len(), 1800, "every point after");
        assert_eq!((coarse[0].min, coarse[0].max), (0.0, 59.0));
        assert!(series.steps.windows(2).all(|w| w[0].t < w[1].t));
    }
}
