//! How the overview writes a row's cells: each figure in its unit, the share a bar shows, a
//! status with how long it has lasted, and the CPU sparkline's SVG points.

use livedash::fleet::{HostRow, HostStatus};
use livedash::series::{self, Unit};

use super::view::status_name;
use crate::clock::age;

/// The unit of each figure, in wire order.
pub const UNITS: [Unit; 7] =
    [Unit::Percent, Unit::Percent, Unit::Percent, Unit::Plain, Unit::BytesPerSec, Unit::BytesPerSec, Unit::Seconds];

/// Figure `i` of `row` as the table writes it (`–` when unknown).
pub fn figure_text(row: &HostRow, i: usize) -> String {
    match (row.figures.columns().get(i).copied().flatten(), UNITS.get(i)) {
        (Some(v), Some(&Unit::Plain)) => format!("{v:.2}"),
        (Some(v), Some(&unit)) => series::format(v, unit).to_string(),
        _ => "–".to_owned(),
    }
}

/// The width of a percentage figure's bar, 0 to 100, or `None` for a figure that is not a share.
pub fn bar_pct(row: &HostRow, i: usize) -> Option<f64> {
    (UNITS.get(i) == Some(&Unit::Percent)).then(|| row.figures.columns()[i].unwrap_or(0.0).clamp(0.0, 100.0))
}

/// `up 3 min`, `down 42 s`: the status and how long it has lasted at `now` (ms since the epoch);
/// the duration's number and unit kept together by a no-break space.
pub fn status_text(status: HostStatus, since_ms: u64, now: u64) -> String {
    format!("{} {}", status_name(status), age(now, since_ms).replace(' ', "\u{a0}"))
}

/// Width and height of the CPU sparkline's box.
pub const SPARK_W: f64 = 60.0;
/// See [`SPARK_W`].
pub const SPARK_H: f64 = 16.0;

/// The sparkline's `points` for an SVG polyline (CPU % from 0 at the bottom to 100 at the top),
/// in runs broken at gaps (NaN): one string per run.
pub fn spark_runs(points: &[f32]) -> Vec<String> {
    let n = points.len().max(2) - 1;
    let mut runs = Vec::new();
    let mut run = String::new();
    for (i, p) in points.iter().enumerate() {
        if p.is_nan() {
            if !run.is_empty() {
                runs.push(std::mem::take(&mut run));
            }
            continue;
        }
        let x = (i as f64 * SPARK_W / n as f64).round();
        let y = (SPARK_H - f64::from(p.clamp(0.0, 100.0)) / 100.0 * SPARK_H).round();
        if !run.is_empty() {
            run.push(' ');
        }
        run.push_str(&format!("{x},{y}"));
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::table::tests::row;

    #[test]
    fn cells_are_written_in_their_units() {
        let mut r = row("a", HostStatus::Up, Some(37.5), &[]);
        r.figures.load1 = Some(1.234);
        r.figures.net_in_bps = Some(1_234_567.0);
        assert_eq!(figure_text(&r, 0), "37.5 %");
        assert_eq!(figure_text(&r, 1), "–");
        assert_eq!(figure_text(&r, 3), "1.23");
        assert_eq!(figure_text(&r, 4), "1.23 MB/s");
        assert_eq!(bar_pct(&r, 0), Some(37.5));
        assert_eq!(bar_pct(&r, 1), Some(0.0));
        assert_eq!(bar_pct(&r, 3), None);
        assert_eq!(status_text(HostStatus::Down, 10_000, 250_000), "down 4\u{a0}min");
    }

    #[test]
    fn sparklines_break_at_gaps() {
        assert_eq!(spark_runs(&[0.0, 100.0, f32::NAN, 50.0, 50.0]), ["0,16 15,0", "45,8 60,8"]);
        assert!(spark_runs(&[]).is_empty());
    }
}
