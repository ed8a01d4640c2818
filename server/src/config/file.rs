//! The `--config` TOML file: `listen`, `interval`, `history`, `history_bytes`, `public_url`, the
//! history store's `store`, `store_max_bytes`, `store_raw_for`, `store_1m_for`, `store_1h_for`,
//! `store_max_reads`, the
//! cluster's `redis_url`, `cluster_key_file`, `redis_prefix`, `redis_lease`, the accounts'
//! `users_file`, the read-only users `viewers`, the fleet's `targets_file` and `fleet_token_file`, the login's `login`, `session_idle`, `session_lifetime`, `session_remember_idle`,
//! `session_remember_lifetime` ([`super::login`]), and
//! `[[source]]` tables, each with optional `[[source.series]]` tables ([`super::series`]), and
//! `[[alert]]` tables ([`super::alert`]), `[[notify]]` tables ([`super::notify`]).
//! Unknown keys are refused, and every bad value names its key (`source[1].interval`,
//! `source[0].series[2].unit`, `alert[2].for`). A `[[source]]` table becomes a typed source directly.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::alert::FileAlert;
use super::error::ConfigError;
use super::fleet_token::FleetToken;
use super::login::{LoginArgs, parse_login, parse_session};
use super::parse::{parse_duration, parse_interval};
use super::series::FileSeries;
use crate::alerts::Rule;
use crate::auth::LoginMode;
use crate::auth::session::SessionPolicy;
use crate::notify::Channel;
use crate::sources::prometheus::Selector;
use crate::sources::spec::{Kind, SourceArg, http_url, valid_name};
use livedash::settings::SeriesRule;

/// The `--config` file's content, as written.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `listen = "127.0.0.1:3000"`.
    pub listen: Option<String>,
    /// `interval = "1s"`.
    pub interval: Option<String>,
    /// `history = "10m"`.
    pub history: Option<String>,
    /// `history_bytes = "64MiB"`.
    pub history_bytes: Option<String>,
    /// `public_url = "https://ops.example.com/dash"`.
    pub public_url: Option<String>,
    /// `store = "/var/lib/livedash/history.db"` or `"none"`.
    pub store: Option<String>,
    /// `store_max_bytes = "1GiB"`.
    pub store_max_bytes: Option<String>,
    /// `store_raw_for = "24h"`.
    pub store_raw_for: Option<String>,
    /// `store_1m_for = "30d"`.
    #[serde(rename = "store_1m_for")]
    pub store_minute_for: Option<String>,
    /// `store_1h_for = "365d"`.
    #[serde(rename = "store_1h_for")]
    pub store_hour_for: Option<String>,
    /// `store_max_reads = 4`.
    pub store_max_reads: Option<u64>,
    /// `redis_url = "redis://127.0.0.1:6379"`.
    pub redis_url: Option<String>,
    /// `cluster_key_file = "/etc/livedash/cluster.key"`.
    pub cluster_key_file: Option<String>,
    /// `redis_prefix = "livedash"`.
    pub redis_prefix: Option<String>,
    /// `redis_lease = "3s"`.
    pub redis_lease: Option<String>,
    /// `login = "form"` or `"basic"` (see [`super::login`]).
    pub login: Option<String>,
    /// `session_idle = "12h"`.
    pub session_idle: Option<String>,
    /// `session_lifetime = "7d"`.
    pub session_lifetime: Option<String>,
    /// `session_remember_idle = "30d"`.
    pub session_remember_idle: Option<String>,
    /// `session_remember_lifetime = "30d"`.
    pub session_remember_lifetime: Option<String>,
    /// `targets_file = "/etc/livedash/targets.yml"` (see `crate::targets`).
    pub targets_file: Option<String>,
    /// `fleet_token_file = "/etc/livedash/fleet-token"`: the API token for `livedash:` targets.
    pub fleet_token_file: Option<String>,
    /// `users_file = "/etc/livedash/users"`: the accounts (`--users-file` overrides it).
    pub users_file: Option<String>,
    /// `viewers = ["wall", "audit"]`: read-only users (see `auth::role`).
    #[serde(default)]
    pub viewers: Vec<String>,
    #[serde(default)]
    source: Vec<FileSource>,
    #[serde(default)]
    alert: Vec<FileAlert>,
    /// `[[notify]]`: the notification channels ([`super::notify`]).
    #[serde(default)]
    pub(super) notify: Vec<toml::Table>,
}

/// One `[[source]]` table.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSource {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    url: Option<String>,
    interval: Option<String>,
    timeout: Option<String>,
    max_body: Option<u64>,
    /// For `type = "prometheus"`: the metrics to keep (`name` or `name{label="value"}`).
    metrics: Option<Vec<String>>,
    /// `[[source.series]]`: per-series settings, in the order they apply.
    #[serde(default)]
    series: Vec<FileSeries>,
}

/// A source before its name is checked against the others and its defaults are filled in.
#[derive(Debug, Clone)]
pub struct SourceDraft {
    /// Its name (if given) and kind.
    pub arg: SourceArg,
    /// Its own interval, if it has one.
    pub interval: Option<Duration>,
    /// Its own timeout, if it has one.
    pub timeout: Option<Duration>,
    /// Its own body cap, if it has one.
    pub max_body: Option<u64>,
    /// Its configured series rules (applied after its kind's defaults).
    pub series: Vec<SeriesRule>,
    /// The patterns of its series tables with `alert = true`.
    pub alerting: Vec<String>,
}

impl SourceDraft {
    /// A source as a `--source` flag gives it: nothing of its own.
    pub fn bare(arg: SourceArg) -> Self {
        Self { arg, interval: None, timeout: None, max_body: None, series: Vec::new(), alerting: Vec::new() }
    }
}

/// A TOML error as `line L, column C: what` (the line and column of where it points, counted
/// from 1), on one line.
fn toml_message(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim_end().replace('\n', " ");
    let Some(before) = error.span().and_then(|span| text.get(..span.start)) else {
        return message;
    };
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {column}: {message}")
}

/// The file and where it came from, to name both in errors.
pub struct File {
    path: PathBuf,
    /// What it says.
    pub values: FileConfig,
}

impl File {
    /// Reads and parses the file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let err = |message: String| ConfigError::File { path: path.to_owned(), message };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let values = toml::from_str(&text).map_err(|e| err(toml_message(&text, &e)))?;
        Ok(Self { path: path.to_owned(), values })
    }

    /// The read-only users: each a user name as the users file has it (not empty, no `:`).
    pub fn viewers(&self) -> Result<Vec<String>, ConfigError> {
        for (i, name) in self.values.viewers.iter().enumerate() {
            if name.is_empty() || name.contains(':') || name.trim() != name {
                return Err(self.bad(&format!("viewers[{i}]"), format!("{name:?} is not a user name")));
            }
        }
        Ok(self.values.viewers.clone())
    }

    /// No file: every key absent.
    pub fn none() -> Self {
        Self { path: PathBuf::new(), values: FileConfig::default() }
    }

    /// The error for a bad value of `key`.
    fn bad(&self, key: &str, message: impl std::fmt::Display) -> ConfigError {
        ConfigError::File { path: self.path.clone(), message: format!("`{key}`: {message}") }
    }

    /// The flag's value when it was given, else the file's `key` parsed; `None` when neither has
    /// one. The one precedence of every setting the file has: flag (or variable) > file.
    pub fn pick<T>(
        &self,
        flag: Option<T>,
        key: &str,
        value: Option<&String>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        if flag.is_some() {
            return Ok(flag);
        }
        let bad = |v: &String, e: String| ConfigError::File {
            path: self.path.clone(),
            message: format!("`{key}` = {v:?}: {e}"),
        };
        value.map(|v| parse(v).map_err(|e| bad(v, e))).transpose()
    }

    /// The fleet's API token from the file `--fleet-token-file` (or its variable) names, else
    /// from the file's `fleet_token_file`; an unusable one is refused naming where it was given.
    pub fn fleet_token(&self, flag: Option<PathBuf>) -> Result<Option<FleetToken>, ConfigError> {
        let (path, given) = match (flag, &self.values.fleet_token_file) {
            (Some(path), _) => (path, "--fleet-token-file (LIVEDASH_FLEET_TOKEN_FILE)".to_owned()),
            (None, Some(path)) => {
                (PathBuf::from(path), format!("`fleet_token_file` in --config {}", self.path.display()))
            }
            (None, None) => return Ok(None),
        };
        let read = super::fleet_token::read(&path);
        read.map(Some).map_err(|problem| ConfigError::FleetToken { given, path, problem })
    }

    /// The login mode and the sessions' policy from the flags (over) the file.
    pub fn login(&self, args: &LoginArgs) -> Result<(LoginMode, SessionPolicy), ConfigError> {
        let (file, v) = (self, &self.values);
        let mode = file.pick(args.login, "login", v.login.as_ref(), parse_login)?.unwrap_or_default();
        let default = SessionPolicy::default();
        let pick = |flag, key, value, default| -> Result<Duration, ConfigError> {
            Ok(file.pick(flag, key, value, parse_session)?.unwrap_or(default))
        };
        let policy = SessionPolicy {
            idle: pick(args.session_idle, "session_idle", v.session_idle.as_ref(), default.idle)?,
            lifetime: pick(args.session_lifetime, "session_lifetime", v.session_lifetime.as_ref(), default.lifetime)?,
            remembered_idle: pick(
                args.session_remember_idle,
                "session_remember_idle",
                v.session_remember_idle.as_ref(),
                default.remembered_idle,
            )?,
            remembered_lifetime: pick(
                args.session_remember_lifetime,
                "session_remember_lifetime",
                v.session_remember_lifetime.as_ref(),
                default.remembered_lifetime,
            )?,
        };
        Ok((mode, policy))
    }

    /// The `[[source]]` tables, typed.
    pub fn sources(&self) -> Result<Vec<SourceDraft>, ConfigError> {
        self.values.source.iter().enumerate().map(|(i, s)| self.source(i, s)).collect()
    }

    /// The `[[alert]]` tables, typed; a name used twice is refused at its second use.
    pub fn alerts(&self) -> Result<Vec<Rule>, ConfigError> {
        let mut rules: Vec<Rule> = Vec::new();
        for (i, table) in self.values.alert.iter().enumerate() {
            let rule = table.rule(i).map_err(|(field, message)| self.bad(&format!("alert[{i}].{field}"), message))?;
            if rules.iter().any(|r| r.name == rule.name) {
                return Err(
                    self.bad(&format!("alert[{i}].name"), format!("{:?} names another rule already", rule.name))
                );
            }
            rules.push(rule);
        }
        Ok(rules)
    }

    /// The `[[notify]]` tables, typed (see [`super::notify::channels`]).
    pub fn notify(&self) -> Result<Vec<Arc<Channel>>, ConfigError> {
        super::notify::channels(&self.values.notify).map_err(|(key, message)| self.bad(&key, message))
    }

    /// Every `[[alert]] notify = [...]` name is a channel's.
    pub fn check_alert_channels(&self, rules: &[Rule], channels: &[Arc<Channel>]) -> Result<(), ConfigError> {
        super::notify::check_alerts(rules, channels).map_err(|(key, message)| self.bad(&key, message))
    }

    /// The error for a rule named like one before it (`alert = true` rules come after).
    pub fn duplicate_alert(&self, name: &str) -> ConfigError {
        let at = self.values.alert.iter().position(|a| a.rule(0).is_ok_and(|r| *r.name == *name)).unwrap_or(0);
        self.bad(&format!("alert[{at}].name"), format!("{name:?} is also the name of a rule that alert = true makes"))
    }

    fn source(&self, i: usize, s: &FileSource) -> Result<SourceDraft, ConfigError> {
        let key = |k: &str| format!("source[{i}].{k}");
        let url = |url: &str| http_url(url).map_err(|e| self.bad(&key("url"), e));
        let kind = match (s.kind.as_deref(), &s.url) {
            (Some("local") | None, None) => Kind::Local,
            (Some("http") | None, Some(u)) => Kind::Http(url(u)?),
            (Some("prometheus"), Some(u)) => {
                let selectors = s.metrics.iter().flatten().map(|m| m.parse::<Selector>()).collect::<Result<_, _>>();
                Kind::Prometheus(url(u)?, selectors.map_err(|e| self.bad(&key("metrics"), e))?)
            }
            (Some(other), _) => {
                let message = format!("{other:?}: use \"local\", or \"http\" or \"prometheus\" with a url");
                return Err(self.bad(&key("type"), message));
            }
        };
        if s.metrics.is_some() && s.kind.as_deref() != Some("prometheus") {
            return Err(self.bad(&key("metrics"), "only for type = \"prometheus\""));
        }
        if let Some(name) = &s.name {
            valid_name(name).map_err(|e| self.bad(&key("name"), e))?;
        }
        let series = s.series.iter().enumerate().map(|(j, table)| {
            table.rule().map_err(|(field, message)| self.bad(&key(&format!("series[{j}].{field}")), message))
        });
        let timeout = |v: &str| parse_duration(v, Duration::from_millis(10), Duration::from_secs(60));
        Ok(SourceDraft {
            series: series.collect::<Result<_, _>>()?,
            alerting: s.series.iter().filter_map(|t| t.alerting().map(str::to_owned)).collect(),
            arg: SourceArg { name: s.name.clone(), kind },
            interval: self.pick(None, &key("interval"), s.interval.as_ref(), parse_interval)?,
            timeout: self.pick(None, &key("timeout"), s.timeout.as_ref(), timeout)?,
            max_body: s.max_body,
        })
    }
}
