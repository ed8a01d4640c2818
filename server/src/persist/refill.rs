//! The minutes before a restart, read back into the hub's history at start: newest first, a
//! quarter-hour of points at a time (in one read transaction), until the hub's byte budget
//! (`--history-bytes`) is filled or the `--history` window is read, so that what it holds is
//! bounded by the budget however long the window. The samples go to the hub oldest first,
//! numbered from 1: no restored `seq` is ever at or above a live one, whether the hub's own
//! (from its start time) or a cluster's (from Redis's clock).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use livedash::{Sample, raw_json};

use crate::clock::{millis, now_ms};
use crate::live::history::ENTRY_OVERHEAD;
use crate::live::hub::Hub;
use crate::store::maintain::QUARTER_MS;
use crate::store::{StoreError, db, read};

/// What a sample frame holds beside its source's name and its data, at least (the hub counts
/// the whole frame; counting a little less here reads a little more, never less).
const FRAME_FIXED: usize = 60;

/// Puts the store's samples of the last `history` into the hub's history, within its byte
/// budget; how many it kept.
pub fn refill(path: &Path, hub: &Hub, history: Duration) -> usize {
    if !path.exists() {
        return 0;
    }
    let now = now_ms();
    let sources = hub.source_names();
    match read_back(path, &sources, hub.limits().max_bytes, (now.saturating_sub(millis(history)), now)) {
        Ok(samples) => hub.restore(samples),
        Err(e) => {
            tracing::warn!(error = %e, "history store: the minutes before this start could not be read back");
            0
        }
    }
}

/// The samples of `sources` in the store at `path` from the end of `[since, now]` (and any
/// stamped later) back until their frames fill `budget` bytes as the hub counts them, oldest
/// first, their `seq`s 1, 2, 3...
pub fn read_back(
    path: &Path,
    sources: &[Arc<str>],
    budget: usize,
    (since, now): (u64, u64),
) -> Result<Vec<Sample>, StoreError> {
    let conn = db::open_reader(path)?;
    // One snapshot for every read below: a quarter closing meanwhile moves nothing under them.
    let tx = conn.unchecked_transaction()?;
    let index: HashMap<&str, u32> = sources.iter().zip(0u32..).map(|(s, i)| (&**s, i)).collect();
    let mut series: Vec<(i64, u32, String)> = Vec::new();
    for (source, name) in read::series(&tx)? {
        let Some(&at) = index.get(source.as_str()) else { continue };
        if let Some(id) = db::find_series(&tx, &source, &name)? {
            series.push((id, at, name));
        }
    }
    let mut windows: Vec<Vec<Sample>> = Vec::new();
    let mut used = 0;
    let (mut start, mut end) = (now / QUARTER_MS * QUARTER_MS, u64::MAX >> 1);
    loop {
        let from = start.max(since);
        // (time, source, series, value) of this window: 24 bytes a point, not a name each.
        let mut points: Vec<(u64, u32, u32, f64)> = Vec::new();
        for (which, (id, source, _)) in (0u32..).zip(&series) {
            points.extend(read::raw_points(&tx, *id, from, end)?.into_iter().map(|p| (p.t, *source, which, p.v)));
        }
        points.sort_unstable_by_key(|&(t, source, which, _)| (t, source, which));
        let mut window = Vec::new();
        for group in points.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)).rev() {
            let (t, source) = (group[0].0, group[0].1);
            let data: serde_json::Map<String, serde_json::Value> = group
                .iter()
                .filter_map(|&(_, _, which, v)| {
                    let name = series.get(which as usize)?.2.clone();
                    Some((name, serde_json::Number::from_f64(v)?.into()))
                })
                .collect();
            let Some(source) = sources.get(source as usize) else { continue };
            let data = raw_json(&serde_json::Value::Object(data));
            used += data.get().len() + source.len() + FRAME_FIXED + ENTRY_OVERHEAD;
            window.push(Sample { seq: 0, source: source.clone(), ts_ms: t, data });
            if used >= budget {
                break;
            }
        }
        windows.push(window);
        if used >= budget || from <= since || start == 0 {
            break;
        }
        end = start - 1;
        start = start.saturating_sub(QUARTER_MS);
    }
    let mut samples: Vec<Sample> = windows.into_iter().flatten().collect();
    samples.reverse();
    for (seq, sample) in (1..).zip(&mut samples) {
        sample.seq = seq;
    }
    Ok(samples)
}
