//! The page's sense of now, for "last value 42 s ago": one clock for the whole page, ticking once a
//! second in the browser.

use leptos::prelude::*;

/// The page's clock, in milliseconds since the epoch: the server's time of the snapshot at first
/// (so that the server and the hydrating browser render the same text), then the browser's, once
/// a second.
#[derive(Clone, Copy)]
pub struct Clock {
    /// Now.
    pub now: RwSignal<u64>,
    /// The browser's time zone, in minutes east of UTC (0 on the server: clock labels are
    /// rendered in UTC there and corrected right after hydration).
    pub tz_offset_min: RwSignal<i32>,
}

impl Clock {
    /// A clock showing `initial` until the browser takes over.
    pub fn start(initial: u64) -> Self {
        let now = RwSignal::new(initial);
        let tz_offset_min = RwSignal::new(0);
        #[cfg(feature = "hydrate")]
        Effect::new(move |_| {
            tz_offset_min.set(-(js_sys::Date::new_0().get_timezone_offset() as i32));
            let tick = move || now.set(js_sys::Date::now() as u64);
            // Lives as long as the page.
            gloo_timers::callback::Interval::new(1_000, tick).forget();
        });
        Self { now, tz_offset_min }
    }
}

/// How long ago `then` was at `now`: `42 s`, `3 min`, `2 h 5 min`.
pub fn age(now: u64, then: u64) -> String {
    let secs = now.saturating_sub(then) / 1000;
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_the_largest_sensible_unit() {
        assert_eq!(age(10_000, 10_000), "0 s");
        assert_eq!(age(52_500, 10_000), "42 s");
        assert_eq!(age(10_000 + 125_000, 10_000), "2 min");
        assert_eq!(age(7_500_000, 0), "2 h 5 min");
        assert_eq!(age(0, 10_000), "0 s", "a value from the future is not negative");
    }
}
