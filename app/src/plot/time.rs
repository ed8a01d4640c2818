//! Time on an axis: clock-aligned ticks and their labels, dates and times in the browser's time
//! zone, and the local date-time inputs of a custom range.

/// A minute, an hour and a day in ms.
pub const MINUTE_MS: u64 = 60_000;
/// See [`MINUTE_MS`].
pub const HOUR_MS: u64 = 60 * MINUTE_MS;
/// See [`MINUTE_MS`].
pub const DAY_MS: u64 = 24 * HOUR_MS;

/// Steps a time axis may take, in ms.
const TIME_STEPS: &[u64] = &[
    1_000,
    2_000,
    5_000,
    10_000,
    15_000,
    30_000,
    MINUTE_MS,
    2 * MINUTE_MS,
    5 * MINUTE_MS,
    10 * MINUTE_MS,
    15 * MINUTE_MS,
    30 * MINUTE_MS,
    HOUR_MS,
    2 * HOUR_MS,
    3 * HOUR_MS,
    6 * HOUR_MS,
    12 * HOUR_MS,
    DAY_MS,
    2 * DAY_MS,
    7 * DAY_MS,
    14 * DAY_MS,
    28 * DAY_MS,
];

/// Ticks between `from` and `to` (ms) on the local clock (`offset_min` east of UTC: a 1-hour step
/// falls on the local hour, a day on local midnight), at most `count` of them, and their step.
pub fn time_ticks(from: u64, to: u64, count: usize, offset_min: i32) -> (Vec<u64>, u64) {
    let span = to.saturating_sub(from);
    let step = TIME_STEPS
        .iter()
        .copied()
        .find(|s| span / s <= count.max(1) as u64)
        .unwrap_or(TIME_STEPS[TIME_STEPS.len() - 1]);
    let off = i64::from(offset_min) * 60_000;
    let (from_local, step_i) = (from as i64 + off, step as i64);
    let first = (from_local.div_euclid(step_i) + i64::from(from_local.rem_euclid(step_i) != 0)) * step_i - off;
    let ticks = (0..).map(|i| first + i * step_i).take_while(|t| *t <= to as i64).filter_map(|t| u64::try_from(t).ok());
    (ticks.collect(), step)
}

/// A time axis label for tick `t` of a `step` over a `span` (ms): the date at a day's step or at
/// local midnight on a span of more than six hours, else the clock, with seconds when the ticks
/// are less than a minute apart (so that no two ticks read the same).
pub fn time_label(t: u64, step: u64, span: u64, offset_min: i32) -> String {
    let midnight = local_ms(t, offset_min).rem_euclid(DAY_MS as i64) == 0;
    if step >= DAY_MS || (midnight && span > 6 * HOUR_MS) {
        date(t, offset_min)
    } else {
        clock(t, offset_min, step < MINUTE_MS)
    }
}

fn local_ms(t_ms: u64, offset_min: i32) -> i64 {
    t_ms as i64 + i64::from(offset_min) * 60_000
}

/// The calendar date `(year, month 1–12, day 1–31)` of a count of days since 1970-01-01
/// (proleptic Gregorian: 400-year eras of 146097 days, years counted from March so that the leap
/// day comes last).
pub fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days from 0000-03-01
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365, from March 1
    let mp = (5 * doy + 2) / 153; // 0 = March .. 11 = February
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// The count of days since 1970-01-01 of a calendar date (the inverse of [`civil`]).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = year - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `24 Nov` of `t_ms` in the browser's time zone (`offset_min` east of UTC).
pub fn date(t_ms: u64, offset_min: i32) -> String {
    let (_, m, d) = civil(local_ms(t_ms, offset_min).div_euclid(DAY_MS as i64));
    format!("{d} {}", MONTHS[(m as usize - 1) % 12])
}

/// `24 Nov 14:05:03`.
pub fn date_time(t_ms: u64, offset_min: i32) -> String {
    format!("{} {}", date(t_ms, offset_min), clock(t_ms, offset_min, true))
}

/// Whether `a` and `b` fall on the same local day.
pub fn same_day(a: u64, b: u64, offset_min: i32) -> bool {
    let day = |t| local_ms(t, offset_min).div_euclid(DAY_MS as i64);
    day(a) == day(b)
}

/// `2026-11-24T14:05`: the value of an `<input type="datetime-local">` showing `t_ms`.
pub fn local_input(t_ms: u64, offset_min: i32) -> String {
    let local = local_ms(t_ms, offset_min);
    let (y, m, d) = civil(local.div_euclid(DAY_MS as i64));
    format!("{y:04}-{m:02}-{d:02}T{}", clock(t_ms, offset_min, false))
}

/// The time (ms since the epoch) of an `<input type="datetime-local">` value,
/// `YYYY-MM-DDTHH:MM[:SS]`, read in a zone `offset_min` east of UTC; `None` if it is not one.
pub fn parse_local_input(value: &str, offset_min: i32) -> Option<u64> {
    let (date, time) = value.trim().split_once('T')?;
    let mut d = date.splitn(3, '-').map(str::parse::<u32>);
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let mut c = time.split(':');
    let (h, min) = (c.next()?.parse::<u32>().ok()?, c.next()?.parse::<u32>().ok()?);
    // Whole seconds: a float parser would cost the browser bundle more than it is worth.
    let s = c.next().map_or(Some(0), |s| s.split('.').next().and_then(|s| s.parse::<u32>().ok()))?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || s > 59 {
        return None;
    }
    let days = days_from_civil(i64::from(y), m, day);
    let local = days * DAY_MS as i64 + i64::from(h * 3600 + min * 60 + s) * 1000;
    u64::try_from(local - i64::from(offset_min) * 60_000).ok()
}

/// `HH:MM:SS` (or `HH:MM` when `seconds` is false) of `t_ms`, shifted by `offset_min` minutes
/// east of UTC (the browser's time zone).
pub fn clock(t_ms: u64, offset_min: i32, seconds: bool) -> String {
    let local = t_ms as i64 / 1000 + i64::from(offset_min) * 60;
    let day = local.rem_euclid(86_400);
    let (h, m, s) = (day / 3600, day / 60 % 60, day % 60);
    if seconds { format!("{h:02}:{m:02}:{s:02}") } else { format!("{h:02}:{m:02}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_in_the_local_zone() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(-1), (1969, 12, 31));
        assert_eq!(civil(19_782), (2024, 2, 29), "a leap day");
        assert_eq!(days_from_civil(2024, 3, 1), 19_783);
        for days in [-800_000, -1, 0, 59, 10_957, 20_416, 2_000_000] {
            let (y, m, d) = civil(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        let t = days_from_civil(2026, 11, 24) as u64 * DAY_MS + 23 * HOUR_MS + 30 * MINUTE_MS;
        assert_eq!(date(t, 0), "24 Nov");
        assert_eq!(date(t, 60), "25 Nov", "an hour east, it is past midnight");
        assert_eq!(date_time(t, 0), "24 Nov 23:30:00");
        assert!(same_day(t, t - HOUR_MS, 0) && !same_day(t, t - HOUR_MS, 60));
        assert_eq!(local_input(t, 60), "2026-11-25T00:30");
        assert_eq!(parse_local_input("2026-11-25T00:30", 60), Some(t));
        assert_eq!(parse_local_input("2026-11-24T23:30:00", 0), Some(t));
        for bad in ["", "2026-11-24", "2026-13-01T00:00", "2026-11-24T24:00", "x-y-zT1:2"] {
            assert_eq!(parse_local_input(bad, 0), None, "{bad}");
        }
    }

    #[test]
    fn time_ticks_fall_on_the_clock() {
        assert_eq!(time_ticks(61_500, 125_000, 4, 0).0, [75_000, 90_000, 105_000, 120_000]);
        assert_eq!(time_ticks(0, 600_000, 6, 0).0, [0, 120_000, 240_000, 360_000, 480_000, 600_000]);
        // Hours on the local hour in a zone half an hour off UTC, days on local midnight.
        let (ticks, step) = time_ticks(0, 6 * HOUR_MS, 6, 330);
        assert_eq!((ticks[0], step), (30 * MINUTE_MS, HOUR_MS));
        assert_eq!(clock(ticks[0], 330, false), "06:00");
        let (days, step) = time_ticks(HOUR_MS, 30 * DAY_MS, 8, -300);
        assert_eq!(step, 7 * DAY_MS);
        assert!(days.iter().all(|t| clock(*t, -300, false) == "00:00"));
        assert_eq!(time_label(days[0], step, 30 * DAY_MS, -300), date(days[0], -300));
        assert_eq!(time_label(HOUR_MS, HOUR_MS, DAY_MS, 0), "01:00");
        assert_eq!(time_label(DAY_MS, HOUR_MS, DAY_MS, 0), "2 Jan", "midnight on a day-long axis");
        assert_eq!(clock(3_723_000, 0, true), "01:02:03");
    }

    #[test]
    fn ticks_under_a_minute_apart_read_with_seconds() {
        // The 5-minute range on a wide chart: a tick every 30 s, each label its own.
        let from = 11 * HOUR_MS + 12 * MINUTE_MS + 40_000;
        let (ticks, step) = time_ticks(from, from + 5 * MINUTE_MS, 10, 0);
        assert_eq!(step, 30_000);
        let labels: Vec<String> = ticks.iter().map(|t| time_label(*t, step, 5 * MINUTE_MS, 0)).collect();
        assert_eq!(labels[..3], ["11:13:00", "11:13:30", "11:14:00"]);
        assert!(labels.windows(2).all(|w| w[0] != w[1]), "no label twice: {labels:?}");
        // A minute apart or more: no seconds, even on a short span.
        assert_eq!(time_label(from + 20_000, MINUTE_MS, 4 * MINUTE_MS, 0), "11:13");
        assert_eq!(clock(3_723_000, 60, false), "02:02");
        assert_eq!(clock(1_000, -60, true), "23:00:01");
    }
}
