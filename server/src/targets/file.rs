//! The targets file: a Prometheus `file_sd` file, JSON or YAML, read into typed [`Target`]s.
//!
//! ```yaml
//! - targets: ["web1:9100", "web2:9100"]        # node_exporter: http://web1:9100/metrics
//!   labels: {env: prod, role: web}             # tags env=prod, role=web
//! - targets: ["livedash:db1:3000"]             # another livedash: ws://db1:3000/ws
//!   labels: {name: db1, env: prod}             # named db1
//! - targets: ["https://api.internal/stats"]    # a JSON endpoint
//!   labels: {livedash_kind: json}
//! ```
//!
//! The format is found by the extension (`.json`; `.yml`, `.yaml`), else by the content (JSON
//! when it starts with `[` or `{`, else YAML). The rules are those of [`super::rules`]. A list
//! without groups (`[]`) is valid and means no hosts; an empty file is refused (a file being
//! rewritten in place is empty for a moment, and the last good set must survive that).
//!
//! Every refusal is a [`TargetsError`] naming the file, the line (and column) and what is wrong;
//! two targets with one name are refused naming both places. Caps: [`MAX_FILE_BYTES`],
//! [`MAX_TARGETS`].

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use super::error::{Location, Problem, TargetsError, without_position};
use super::read::{Place, RawGroup, Reader, STOP};
use super::rules;
use super::target::Target;

/// The most targets a file may hold.
pub const MAX_TARGETS: usize = 5000;
/// The largest a targets file may be: 4 MiB (5000 targets with a dozen labels each fit easily).
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// How a targets file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

impl Format {
    /// By the file's extension, else by its first non-blank character (`[` or `{`: JSON).
    pub fn of(path: &Path, text: &str) -> Self {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("json") => Self::Json,
            Some("yml" | "yaml") => Self::Yaml,
            _ if text.trim_start().starts_with(['[', '{']) => Self::Json,
            _ => Self::Yaml,
        }
    }
}

/// Reads the file at `path` (at most [`MAX_FILE_BYTES`]) and parses it. Blocking: call it from a
/// blocking task in async code.
pub fn load(path: &Path) -> Result<Vec<Target>, TargetsError> {
    let unreadable = |e: std::io::Error| TargetsError::file(path, Problem::Unreadable(e.to_string()));
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(unreadable)?;
    parse(path, &bytes)
}

/// Parses the content of the file at `path` (named in errors; its extension picks the format).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Vec<Target>, TargetsError> {
    let size = bytes.len() as u64;
    if size > MAX_FILE_BYTES {
        return Err(TargetsError::file(path, Problem::TooLarge { size, max: MAX_FILE_BYTES }));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
        TargetsError { path: path.to_owned(), at: Some(Location { line, column: None }), problem: Problem::NotText }
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(TargetsError::file(path, Problem::Empty));
    }
    let format = Format::of(path, text);
    let at = |place| locate(format, text, place);
    let reader = Reader::new(None, MAX_TARGETS);
    let groups = read(format, text, &reader).map_err(|(message, at)| {
        let problem = if reader.over_cap() { Problem::TooMany(MAX_TARGETS) } else { Problem::Syntax(message) };
        TargetsError { path: path.to_owned(), at, problem }
    })?;
    let mut targets: Vec<Target> = Vec::new();
    let mut seen: HashMap<Arc<str>, Place> = HashMap::new();
    for (g, group) in groups.iter().enumerate() {
        let found = rules::group(g, group).map_err(|fault| TargetsError {
            path: path.to_owned(),
            at: at(fault.place),
            problem: fault.problem,
        })?;
        for (t, target) in found.into_iter().enumerate() {
            let here = Place::Target(g, t);
            if let Some(first) = seen.insert(target.name.clone(), here) {
                let first = at(first).map_or_else(|| place_words(first), |l| l.to_string());
                let problem = Problem::Duplicate { name: target.name.to_string(), first };
                return Err(TargetsError { path: path.to_owned(), at: at(here), problem });
            }
            targets.push(target);
        }
    }
    Ok(targets)
}

/// The groups `text` holds, or the parser's message and where it points.
fn read(format: Format, text: &str, reader: &Reader) -> Result<Vec<RawGroup>, (String, Option<Location>)> {
    match format {
        Format::Json => {
            let mut de = serde_json::Deserializer::from_str(text);
            reader.read(&mut de).and_then(|groups| de.end().map(|()| groups)).map_err(|e| {
                let (line, column) = (e.line(), e.column());
                let at = (line > 0).then_some(Location { line, column: (column > 0).then_some(column) });
                (without_position(&e.to_string(), line, column), at)
            })
        }
        Format::Yaml => reader.read(yaml_serde::Deserializer::from_str(text)).map_err(|e| {
            let at = e.location().map(|l| Location { line: l.line(), column: Some(l.column()) });
            let message = e.to_string();
            let message = without_yaml_path(&message);
            let message = match at {
                Some(Location { line, column: Some(column) }) => without_position(message, line, column),
                _ => message.to_owned(),
            };
            (message, at)
        }),
    }
}

/// A YAML message without the parser's own path (`.[0].targets[1]: `, zero-based): the line
/// and column say where, as for JSON.
fn without_yaml_path(message: &str) -> &str {
    match message.split_once(": ") {
        Some((path, rest))
            if path.starts_with(['.', '['])
                && path.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '[' | ']' | '_')) =>
        {
            rest
        }
        _ => message,
    }
}

/// Where `place` is in `text`: a second read that stops there on purpose, so the parser tells.
fn locate(format: Format, text: &str, place: Place) -> Option<Location> {
    match read(format, text, &Reader::new(Some(place), usize::MAX)) {
        Err((message, at)) if message.contains(STOP) => at,
        _ => None,
    }
}

/// A place in words, when the parser gives no position.
fn place_words(place: Place) -> String {
    match place {
        Place::Group(g) => format!("group {}", g + 1),
        Place::Target(g, t) => format!("group {}, target {}", g + 1, t + 1),
        Place::Label(g, l) | Place::LabelName(g, l) => format!("group {}, label {}", g + 1, l + 1),
    }
}
