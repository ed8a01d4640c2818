//! What a remote livedash's frames say about its host: which of its sources is its `local` one
//! (this machine's figures), and that source's figures, sample by sample.
//!
//! The remote's `local` source is the source named `local` when there is one (the default),
//! else the first source whose sample has the `local` shape (`cpu_pct`, `mem_pct` and
//! `load_avg` together: a fleet host's sample has `load1` instead, a JSON endpoint neither),
//! from the hello's history or, when it holds none, from the samples that follow. Frames of a
//! type this build does not know (a newer remote) are passed over.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use livedash::{Frame, Hello, Sample, SourceState};
use serde_json::Value;

use super::failure::Failure;
use crate::fleet::figures::{HostFigures, local_figures};

/// The name a livedash gives its default `local` source.
const LOCAL: &str = "local";
/// The shortest wait for the `local` source's next sample before the connection is given up.
const MIN_PATIENCE: Duration = Duration::from_secs(10);
/// How many of the `local` source's intervals may pass without a sample.
const PATIENT_INTERVALS: u32 = 3;
/// How many intervals old the hello's last `local` sample may be to count as current.
const FRESH_INTERVALS: u64 = 2;

/// What one frame told.
#[derive(Debug, PartialEq)]
pub enum Step {
    /// The `local` source's figures.
    Figures(HostFigures),
    /// The remote says its `local` source is not delivering, and why.
    Failing(String),
    /// Nothing about the host (another source's frame, a page-wide frame).
    Nothing,
}

/// The reading of one connection, from its hello on.
#[derive(Debug)]
pub struct Reader {
    /// The `local` source, once known.
    local: Option<Arc<str>>,
    /// Each source's fetch interval, in milliseconds, from the hello.
    intervals: BTreeMap<String, u64>,
}

impl Reader {
    /// Reads the connection's first frame, which must be a hello; with the `local` source's
    /// latest figures when the hello's history has a current sample of it.
    pub fn hello(text: &str) -> Result<(Self, Option<HostFigures>), Failure> {
        match kind(text)?.as_str() {
            "hello" => {}
            other => return Err(Failure::Protocol(format!("the first frame is a `{other}`, not a `hello`"))),
        }
        let Frame::Hello(hello) = Frame::from_json(text).map_err(|e| Failure::Protocol(e.to_string()))? else {
            return Err(Failure::Protocol("the first frame is not a `hello`".to_owned()));
        };
        let mut reader = Self { local: None, intervals: BTreeMap::new() };
        let figures = reader.read_hello(&hello);
        Ok((reader, figures))
    }

    fn read_hello(&mut self, hello: &Hello) -> Option<HostFigures> {
        self.intervals.clone_from(&hello.interval_ms);
        self.local = if hello.interval_ms.contains_key(LOCAL) {
            Some(Arc::from(LOCAL))
        } else {
            hello.history.iter().find(|s| local_shaped(s).is_some()).map(|s| s.source.clone())
        };
        let local = self.local.as_ref()?;
        let ok = hello.sources.iter().any(|s| s.source == *local && s.state == SourceState::Ok);
        let latest = hello.history.iter().rev().find(|s| s.source == *local)?;
        let age = hello.server_time_ms.saturating_sub(latest.ts_ms);
        let fresh = age <= FRESH_INTERVALS * self.interval_ms(local);
        (ok && fresh).then(|| local_shaped(latest).map(|v| local_figures(&v))).flatten()
    }

    /// Reads a frame after the hello.
    pub fn frame(&mut self, text: &str) -> Result<Step, Failure> {
        let malformed = |e: serde_json::Error| Failure::Protocol(format!("malformed frame: {e}"));
        match kind(text)?.as_str() {
            "sample" => {
                let sample: Sample = serde_json::from_str(text).map_err(malformed)?;
                if self.local.is_none() && local_shaped(&sample).is_some() {
                    self.local = Some(sample.source.clone());
                }
                if self.local.as_ref() != Some(&sample.source) {
                    return Ok(Step::Nothing);
                }
                let data: Value = serde_json::from_str(sample.data.get()).map_err(malformed)?;
                Ok(Step::Figures(local_figures(&data)))
            }
            "status" => {
                let Frame::Status(status) = Frame::from_json(text).map_err(|e| Failure::Protocol(e.to_string()))?
                else {
                    return Ok(Step::Nothing);
                };
                if self.local.as_ref() != Some(&status.source) || status.state == SourceState::Ok {
                    return Ok(Step::Nothing);
                }
                let state = if status.state == SourceState::Stale { "stale" } else { "failing" };
                let why = status.error.map_or_else(String::new, |e| format!(": {e}"));
                Ok(Step::Failing(format!("the remote's `{}` source is {state}{why}", status.source)))
            }
            "hello" => {
                let Frame::Hello(hello) = Frame::from_json(text).map_err(|e| Failure::Protocol(e.to_string()))? else {
                    return Ok(Step::Nothing);
                };
                Ok(self.read_hello(&hello).map_or(Step::Nothing, Step::Figures))
            }
            _ => Ok(Step::Nothing),
        }
    }

    /// How long to wait for the `local` source's next sample (or, while it is not known, for one
    /// to show) before giving the connection up.
    pub fn patience(&self) -> Duration {
        let ms = match &self.local {
            Some(local) => self.interval_ms(local),
            None => self.intervals.values().copied().max().unwrap_or(0),
        };
        (Duration::from_millis(ms) * PATIENT_INTERVALS).max(MIN_PATIENCE)
    }

    /// Why no figures came for [`Reader::patience`].
    pub fn silence(&self) -> Failure {
        let waited = self.patience().as_secs();
        match &self.local {
            Some(local) => Failure::Silent(format!("no sample from the remote's `{local}` source for {waited} s")),
            None if self.intervals.is_empty() => Failure::Silent("the remote livedash has no sources".to_owned()),
            None => {
                let names: Vec<&str> = self.intervals.keys().map(String::as_str).collect();
                Failure::Silent(format!(
                    "the remote livedash has no `local` source (no `local` sample for {waited} s among: {})",
                    names.join(", ")
                ))
            }
        }
    }

    fn interval_ms(&self, source: &str) -> u64 {
        self.intervals.get(source).copied().unwrap_or(1000)
    }
}

/// A sample's data when it has the `local` shape.
fn local_shaped(sample: &Sample) -> Option<Value> {
    let data: Value = serde_json::from_str(sample.data.get()).ok()?;
    ["cpu_pct", "mem_pct", "load_avg"].iter().all(|k| data.get(k).is_some()).then_some(data)
}

/// A frame's `type`, read from the text's start where this protocol puts it, else from the
/// whole frame.
fn kind(text: &str) -> Result<String, Failure> {
    if let Some(rest) = text.strip_prefix(r#"{"type":""#)
        && let Some(kind) = rest.split('"').next()
        && !kind.contains('\\')
    {
        return Ok(kind.to_owned());
    }
    let value: Value = serde_json::from_str(text).map_err(|e| Failure::Protocol(format!("malformed frame: {e}")))?;
    match value.get("type").and_then(Value::as_str) {
        Some(kind) => Ok(kind.to_owned()),
        None => Err(Failure::Protocol("a frame without a `type`".to_owned())),
    }
}
