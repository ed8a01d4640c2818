//! Quiet hours: `quiet = "22:00-07:00"`, in the server's local time (a span may cross midnight).
//! Inside them a channel's messages are held, not dropped, and sent as one digest at their end.

/// A channel's quiet hours, as minutes of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quiet {
    /// The first quiet minute (0..1440).
    pub start: u16,
    /// The first minute that is not quiet any more (0..1440).
    pub end: u16,
}

impl Quiet {
    /// Reads `"HH:MM-HH:MM"`.
    ///
    /// # Errors
    /// A message saying what is wrong, for the config to put after the key's name.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (a, b) = text.split_once('-').ok_or_else(|| format!("{text:?} is not HH:MM-HH:MM"))?;
        let (start, end) = (minute(a.trim())?, minute(b.trim())?);
        if start == end {
            return Err(format!("{text:?} starts and ends at the same minute"));
        }
        Ok(Self { start, end })
    }

    /// Whether wall time `ms` (since the epoch) is inside, in the server's local time. The wall
    /// clock decides a time of day; what waits for the end asks again on every pass, so that a
    /// clock that jumps never makes anything wait for ever.
    pub fn at(&self, ms: u64) -> bool {
        self.contains(local_minute(ms))
    }

    /// Whether `minute` of the day (0..1440) is inside.
    pub fn contains(&self, minute: u16) -> bool {
        if self.start < self.end {
            (self.start..self.end).contains(&minute)
        } else {
            minute >= self.start || minute < self.end
        }
    }
}

/// The minute of the day of wall time `ms`, in the server's local time (0..1440).
pub fn local_minute(ms: u64) -> u16 {
    use chrono::{TimeZone, Timelike};
    let Some(at) = chrono::Local.timestamp_millis_opt(i64::try_from(ms).unwrap_or(i64::MAX)).single() else {
        return 0;
    };
    u16::try_from(at.hour() * 60 + at.minute()).unwrap_or(0)
}

fn minute(hm: &str) -> Result<u16, String> {
    let bad = || format!("{hm:?} is not a time of day HH:MM");
    let (h, m) = hm.split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 || hm.len() != 5 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_may_cross_midnight() {
        let q = Quiet::parse("22:00-07:00").expect("valid");
        assert!(q.contains(22 * 60) && q.contains(3 * 60) && !q.contains(7 * 60) && !q.contains(12 * 60));
        let day = Quiet::parse("12:30-13:00").expect("valid");
        assert!(day.contains(12 * 60 + 30) && !day.contains(13 * 60) && !day.contains(0));
        let noon_utc: i64 = 1_765_022_400_000; // 2025-12-06T12:00:00Z
        let offset = {
            use chrono::{Offset, TimeZone};
            let at = chrono::Local.timestamp_millis_opt(noon_utc).single().expect("one local time");
            at.offset().fix().local_minus_utc() / 60
        };
        let local = (12 * 60 + offset).rem_euclid(1440);
        assert_eq!(i32::from(local_minute(noon_utc.unsigned_abs())), local);
        for bad in ["22:00", "25:00-01:00", "2:00-03:00", "10:00-10:00", "aa:bb-01:00"] {
            assert!(Quiet::parse(bad).is_err(), "{bad}");
        }
    }
}
