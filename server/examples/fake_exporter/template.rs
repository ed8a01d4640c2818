//! The served body: a captured exposition split into text and values ([`Template::parse`]), each
//! value classified by its metric's type ([`Shape`]) and computed again for every target and scrape
//! ([`Template::render`]) from the target's number, the series' number and the seconds since start.

use std::collections::HashMap;
use std::fmt::Write as _;

/// The captured host's uptime when its body names no boot time: a day.
const DEFAULT_UPTIME: f64 = 86_400.0;

/// How one series' value moves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// As captured, for every target.
    Fixed,
    /// As captured, scaled per target (a size or a total).
    Sized,
    /// A counter growing at `rate` a second (before its per-target scale).
    Counter(f64),
    /// A gauge wandering below its per-target share of the captured value.
    Gauge,
    /// The wall clock, in seconds.
    Now,
    /// The target's boot time.
    Boot,
}

/// One series of the body.
#[derive(Debug)]
pub struct Series {
    base: f64,
    /// How it moves.
    pub shape: Shape,
    /// Written as a whole number (bytes, counts).
    integer: bool,
    /// Holds bytes: scaled per target as the sizes are.
    bytes: bool,
}

/// A piece of the body: text as captured, a value, or the target's name.
#[derive(Debug)]
enum Piece {
    Text(String),
    Value(usize),
    Host,
}

/// The body with its values taken out, and what each value does.
#[derive(Debug)]
pub struct Template {
    pieces: Vec<Piece>,
    /// Every value of the body, in order.
    pub series: Vec<Series>,
    /// The captured host's uptime in seconds (counter rates are their value over it).
    uptime: f64,
    /// Bytes in the captured body (a capacity hint).
    pub len: usize,
}

impl Template {
    /// Splits an exposition into text and values, classifying each value by its metric's type.
    pub fn parse(text: &str) -> Template {
        let mut types: HashMap<&str, &str> = HashMap::new();
        let mut captured: HashMap<&str, f64> = HashMap::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let mut words = rest.split_whitespace();
                if let (Some(name), Some(kind)) = (words.next(), words.next()) {
                    types.insert(name, kind);
                }
            } else if let Some((name, value)) = line.split_once(' ')
                && let Ok(v) = value.trim().parse::<f64>()
            {
                captured.insert(name, v);
            }
        }
        let uptime = match (captured.get("node_time_seconds"), captured.get("node_boot_time_seconds")) {
            (Some(now), Some(boot)) if now > boot => now - boot,
            _ => DEFAULT_UPTIME,
        };
        let mut template = Template { pieces: Vec::new(), series: Vec::new(), uptime, len: text.len() };
        for line in text.lines() {
            match split_sample(line) {
                Some((head, value, tail)) => {
                    let name = head.split(['{', ' ']).next().unwrap_or(head);
                    let shape = shape(name, kind_of(&types, name), value, uptime);
                    let integer = value.fract() == 0.0 && value.abs() < 1e15;
                    let bytes = name.contains("bytes");
                    template.head(head);
                    template.pieces.push(Piece::Value(template.series.len()));
                    template.series.push(Series { base: value, shape, integer, bytes });
                    template.text(tail);
                }
                None => template.text(line),
            }
            template.text("\n");
        }
        template
    }

    /// Adds text, joined to the text before it.
    fn text(&mut self, s: &str) {
        if let Some(Piece::Text(last)) = self.pieces.last_mut() {
            last.push_str(s);
        } else {
            self.pieces.push(Piece::Text(s.to_owned()));
        }
    }

    /// Adds a sample's name and labels, the `nodename` label's value made the target's name.
    fn head(&mut self, head: &str) {
        const LABEL: &str = "nodename=\"";
        if let Some(at) = head.find(LABEL) {
            let (before, rest) = head.split_at(at + LABEL.len());
            if let Some(end) = rest.find('"') {
                self.text(before);
                self.pieces.push(Piece::Host);
                return self.text(&rest[end..]);
            }
        }
        self.text(head);
    }

    /// The body of target `target` at `elapsed` seconds since start (`now`: the wall clock, in
    /// seconds since the Unix epoch; `started`: the same at start), appended to `out`.
    pub fn render(&self, out: &mut String, target: u64, elapsed: f64, now: f64, started: f64) {
        let scale = 0.5 + 1.5 * unit(target, u64::MAX, 0);
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Host => {
                    let _ = write!(out, "fleet-{target}");
                }
                Piece::Value(j) => {
                    let s = &self.series[*j];
                    let v = self.value(s, target, *j as u64, scale, elapsed, now, started);
                    let _ = if s.integer && s.shape != Shape::Now {
                        write!(out, "{}", v.round())
                    } else {
                        write!(out, "{v}")
                    };
                }
            }
        }
    }

    /// One value (see the module's description for each shape).
    #[allow(clippy::too_many_arguments)]
    fn value(&self, s: &Series, target: u64, j: u64, scale: f64, elapsed: f64, now: f64, started: f64) -> f64 {
        let h = |salt| unit(target, j, salt);
        match s.shape {
            Shape::Fixed => s.base,
            Shape::Sized => s.base * scale,
            Shape::Now => now,
            Shape::Boot => started - self.uptime * (0.2 + 1.8 * unit(target, u64::MAX, 1)),
            Shape::Counter(rate) => {
                let factor = (0.5 + h(1)) * if s.bytes { scale } else { 1.0 };
                let w = std::f64::consts::TAU / (30.0 + 90.0 * h(2));
                let phase = std::f64::consts::TAU * h(3);
                // d/dt of t + 0.3 sin(wt + phase) / w is 1 + 0.3 cos(...): never below 0.7.
                let t = elapsed + 0.3 * ((w * elapsed + phase).sin() - phase.sin()) / w;
                factor * (s.base + rate * t)
            }
            Shape::Gauge => {
                let share = (0.5 + 0.5 * h(1)) * if s.bytes { scale } else { 1.0 };
                let (w1, w2) =
                    (std::f64::consts::TAU / (20.0 + 100.0 * h(2)), std::f64::consts::TAU / (5.0 + 20.0 * h(3)));
                let (p1, p2) = (std::f64::consts::TAU * h(4), std::f64::consts::TAU * h(5));
                let wave = 0.6 * (w1 * elapsed + p1).sin() + 0.4 * (w2 * elapsed + p2).sin();
                s.base * share * (1.0 - 0.15 * (wave + 1.0))
            }
        }
    }
}

/// `name{labels} value [timestamp]` as (`name{labels} `, value, ` timestamp`); None for a comment,
/// a blank line or a value that is not a finite number (kept as text).
fn split_sample(line: &str) -> Option<(&str, f64, &str)> {
    if line.starts_with('#') || line.trim().is_empty() {
        return None;
    }
    let after_name = match line.find('{') {
        Some(open) if line[..open].find(' ').is_none() => line.rfind('}')? + 1,
        _ => line.find(' ')?,
    };
    let rest = &line[after_name..];
    let start = after_name + (rest.len() - rest.trim_start().len());
    let end = line[start..].find(' ').map_or(line.len(), |e| start + e);
    let value = line[start..end].parse::<f64>().ok().filter(|v| v.is_finite())?;
    Some((&line[..start], value, &line[end..]))
}

/// The `# TYPE` of a sample's metric: its own, or that of the histogram or summary it is part of.
fn kind_of<'a>(types: &HashMap<&str, &'a str>, name: &str) -> &'a str {
    if let Some(kind) = types.get(name) {
        return kind;
    }
    ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix).and_then(|base| types.get(base)).copied())
        .unwrap_or("untyped")
}

fn shape(name: &str, kind: &str, value: f64, uptime: f64) -> Shape {
    let flag = value == 0.0 || value == 1.0;
    match (name, kind) {
        ("node_time_seconds", _) => Shape::Now,
        ("node_boot_time_seconds", _) => Shape::Boot,
        (_, "histogram" | "summary") => Shape::Fixed,
        _ if name.ends_with("_info") || flag => Shape::Fixed,
        // node_exporter's untyped series are /proc counters (netstat, vmstat) but for the current ones.
        (_, "counter") | (_, "untyped") if !name.contains("Curr") => Shape::Counter(value / uptime),
        _ if ["size_bytes", "Total_bytes", "_limit", "_max"].iter().any(|s| name.contains(s)) => Shape::Sized,
        _ => Shape::Gauge,
    }
}

/// A number in [0, 1) from three others (splitmix64's finaliser over their mix).
fn unit(a: u64, b: u64, c: u64) -> f64 {
    let mut z = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.rotate_left(21) ^ c.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}
