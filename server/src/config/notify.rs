//! The `[[notify]]` tables of the `--config` file, checked into notify [`Channel`]s: `name`, one of
//! `webhook`, `slack`, `discord`, `mattermost`, `ntfy`, `smtp`, then `headers` and `template`
//! (webhook), `token` or `user` and `password` (ntfy; `user`, `password` for smtp), `to` and
//! `from` (smtp), `repeat`, `quiet`, `fallback`, `fallback_after` and `ca_file`. Each secret (the
//! target URL, `token`, `password`, a header's value) is written inline or as
//! `{ env = "NAME" }` / `{ file = "/path" }`; a variable that is not set or a file that cannot be
//! read stops start-up naming the key, never showing the value. A bad value names its key
//! (`notify[1].fallback`); so do `[[alert]] notify = [...]` names that are no channel's.

use std::sync::Arc;
use std::time::Duration;

use super::parse::parse_duration;
use crate::alerts::Rule;
use crate::notify::channel::{DEFAULT_FALLBACK_AFTER, Target, http, ntfy, smtp, webhook};
use crate::notify::{Channel, quiet::Quiet};

/// The most characters of a channel's name.
const MAX_NAME: usize = 64;
/// The shortest and longest `repeat`.
const REPEAT: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(30 * 86_400));

/// One `[[notify]]` table, as written.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileNotify {
    name: Option<String>,
    webhook: Option<toml::Value>,
    slack: Option<toml::Value>,
    discord: Option<toml::Value>,
    mattermost: Option<toml::Value>,
    ntfy: Option<toml::Value>,
    smtp: Option<toml::Value>,
    headers: Option<toml::Table>,
    template: Option<String>,
    token: Option<toml::Value>,
    user: Option<toml::Value>,
    password: Option<toml::Value>,
    to: Option<Vec<String>>,
    from: Option<String>,
    repeat: Option<String>,
    quiet: Option<String>,
    fallback: Option<String>,
    fallback_after: Option<u32>,
    ca_file: Option<String>,
}

/// A bad key of a table (after `notify[i].`) and why.
pub type Bad = (String, String);

fn bad(key: &str, message: impl Into<String>) -> Bad {
    (key.to_owned(), message.into())
}

/// A secret's value: inline, `{ env = "NAME" }` or `{ file = "/path" }`.
fn secret(key: &str, value: &toml::Value) -> Result<String, Bad> {
    let text = match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Table(t) if t.len() == 1 => match t.iter().next() {
            Some((k, toml::Value::String(name))) if k == "env" => std::env::var(name)
                .map_err(|_| bad(key, format!("the environment variable {name} is not set (or not UTF-8)")))?,
            Some((k, toml::Value::String(path))) if k == "file" => std::fs::read_to_string(path)
                .map_err(|e| bad(key, format!("cannot read {path}: {e}")))?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
            _ => return Err(bad(key, "must be a string, { env = \"NAME\" } or { file = \"/path\" }")),
        },
        _ => return Err(bad(key, "must be a string, { env = \"NAME\" } or { file = \"/path\" }")),
    };
    if text.trim().is_empty() {
        return Err(bad(key, "is empty"));
    }
    Ok(text)
}

fn opt_secret(key: &str, value: Option<&toml::Value>) -> Result<Option<String>, Bad> {
    value.map(|v| secret(key, v)).transpose()
}

/// An http(s) URL with a host (its text is not shown: it may hold a token).
fn http_url(key: &str, url: String) -> Result<String, Bad> {
    match reqwest::Url::parse(&url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()) => Ok(url),
        _ => Err(bad(key, "must be an http:// or https:// URL with a host")),
    }
}

impl FileNotify {
    /// The channel of this table, or its first bad key.
    fn channel(&self) -> Result<Channel, Bad> {
        let name = self.name.as_deref().unwrap_or_default();
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if name.is_empty() || name.len() > MAX_NAME || !name.chars().all(valid) {
            return Err(bad("name", format!("must be 1 to {MAX_NAME} of A-Z a-z 0-9 - _ . (a channel needs a name)")));
        }
        let targets = [
            ("webhook", &self.webhook),
            ("slack", &self.slack),
            ("discord", &self.discord),
            ("mattermost", &self.mattermost),
            ("ntfy", &self.ntfy),
            ("smtp", &self.smtp),
        ];
        let given: Vec<_> = targets.iter().filter_map(|(k, v)| v.as_ref().map(|v| (*k, v))).collect();
        let (kind, value) = match given.as_slice() {
            [one] => *one,
            [] => return Err(bad("webhook", "a channel needs one of webhook, slack, discord, mattermost, ntfy, smtp")),
            [_, (second, _), ..] => return Err(bad(second, "a channel has one target: this is a second")),
        };
        let only = |key: &str, present: bool, kinds: &[&str]| {
            if present && !kinds.contains(&kind) {
                return Err(bad(key, format!("is not a key of a {kind} channel (only {})", kinds.join(", "))));
            }
            Ok(())
        };
        only("headers", self.headers.is_some(), &["webhook"])?;
        only("template", self.template.is_some(), &["webhook"])?;
        only("token", self.token.is_some(), &["ntfy"])?;
        only("user", self.user.is_some(), &["ntfy", "smtp"])?;
        only("password", self.password.is_some(), &["ntfy", "smtp"])?;
        only("to", self.to.is_some(), &["smtp"])?;
        only("from", self.from.is_some(), &["smtp"])?;
        let ca_pem = self
            .ca_file
            .as_ref()
            .map(|path| std::fs::read(path).map_err(|e| bad("ca_file", format!("cannot read {path}: {e}"))))
            .transpose()?;
        let client =
            http::client(if kind == "smtp" { None } else { ca_pem.as_deref() }).map_err(|e| bad("ca_file", e))?;
        let target = self.target(kind, &secret(kind, value)?, ca_pem.as_deref())?;
        let repeat = self.repeat.as_ref().map(|r| parse_duration(r, REPEAT.0, REPEAT.1).map_err(|e| bad("repeat", e)));
        let fallback_after = self.fallback_after.unwrap_or(DEFAULT_FALLBACK_AFTER);
        if fallback_after == 0 {
            return Err(bad("fallback_after", "must be at least 1"));
        }
        Ok(Channel {
            name: Arc::from(name),
            target,
            repeat: repeat.transpose()?,
            quiet: self.quiet.as_ref().map(|q| Quiet::parse(q).map_err(|e| bad("quiet", e))).transpose()?,
            fallback: self.fallback.as_deref().map(Arc::from),
            fallback_after,
            client,
        })
    }

    /// The target of kind `kind` at `url` (already read from its secret).
    fn target(&self, kind: &str, url: &str, ca_pem: Option<&[u8]>) -> Result<Target, Bad> {
        let user = opt_secret("user", self.user.as_ref())?;
        let password = opt_secret("password", self.password.as_ref())?;
        Ok(match kind {
            "webhook" => {
                let mut headers = Vec::new();
                for (name, value) in self.headers.iter().flatten() {
                    let key = format!("headers.{name}");
                    let v = secret(&key, value)?;
                    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                        return Err(bad(&key, "is not an HTTP header name"));
                    }
                    if reqwest::header::HeaderValue::from_str(&v).is_err() {
                        return Err(bad(&key, "is not a valid HTTP header value"));
                    }
                    headers.push((name.clone(), v));
                }
                let template = self.template.as_deref().map(webhook::Template::new).transpose();
                let template = template.map_err(|e| bad("template", e))?.map(Arc::new);
                Target::Webhook { url: http_url(kind, url.to_owned())?, headers, template }
            }
            "slack" => Target::Slack { url: http_url(kind, url.to_owned())? },
            "discord" => Target::Discord { url: http_url(kind, url.to_owned())? },
            "mattermost" => Target::Mattermost { url: http_url(kind, url.to_owned())? },
            "ntfy" => {
                let token = opt_secret("token", self.token.as_ref())?;
                let auth = match (token, user, password) {
                    (None, None, None) => None,
                    (Some(t), None, None) => Some(ntfy::Auth::Token(t)),
                    (None, Some(user), Some(password)) => Some(ntfy::Auth::Basic { user, password }),
                    (Some(_), _, _) => return Err(bad("token", "give a token or a user and password, not both")),
                    (None, Some(_), None) => return Err(bad("password", "a user needs a password")),
                    (None, None, Some(_)) => return Err(bad("user", "a password needs a user")),
                };
                Target::Ntfy(ntfy::Ntfy::new(url, auth).map_err(|e| bad(kind, e))?)
            }
            _ => {
                let from = self.from.as_deref().ok_or_else(|| bad("from", "an smtp channel needs a from address"))?;
                let to = self.to.as_deref().unwrap_or_default();
                let settings = smtp::Settings { url, user, password, from, to, ca_pem };
                Target::Smtp(smtp::Smtp::new(&settings).map_err(|(key, message)| bad(key, message))?)
            }
        })
    }
}

/// The table's keys typed, or the key that is unknown or of the wrong type and why (a table is
/// read generically first, so that the error can name `notify[i].key`, not only a line).
fn typed(i: usize, table: &toml::Table) -> Result<FileNotify, Bad> {
    toml::Value::Table(table.clone()).try_into().map_err(|e: toml::de::Error| {
        let text = e.to_string();
        let first = text.lines().next().unwrap_or_default().to_owned();
        let field = text
            .lines()
            .find_map(|l| l.strip_prefix("in `").and_then(|r| r.strip_suffix('`')))
            .or_else(|| first.strip_prefix("unknown field `").and_then(|r| r.split('`').next()));
        (field.map_or_else(|| format!("notify[{i}]"), |f| format!("notify[{i}].{f}")), first)
    })
}

/// The channels of the `[[notify]]` tables: names unique, fallbacks naming another channel and
/// never coming back; or the first bad key (`notify[i].key`) and why.
pub fn channels(tables: &[toml::Table]) -> Result<Vec<Arc<Channel>>, Bad> {
    let mut channels: Vec<Arc<Channel>> = Vec::new();
    for (i, table) in tables.iter().enumerate() {
        let channel = typed(i, table)?.channel().map_err(|(key, message)| (format!("notify[{i}].{key}"), message))?;
        if channels.iter().any(|c| c.name == channel.name) {
            return Err(bad(
                &format!("notify[{i}].name"),
                format!("{:?} names another channel already", &*channel.name),
            ));
        }
        channels.push(Arc::new(channel));
    }
    for (i, c) in channels.iter().enumerate() {
        let key = format!("notify[{i}].fallback");
        match c.fallback.as_deref() {
            Some(f) if f == &*c.name => return Err(bad(&key, "names itself")),
            Some(f) if !channels.iter().any(|o| &*o.name == f) => {
                return Err(bad(&key, format!("{f:?} names no channel")));
            }
            _ => {}
        }
        // A chain of fallbacks that comes back would pass a delivery round for ever.
        let mut next = c.fallback.clone();
        for _ in 0..channels.len() {
            let Some(name) = next else { break };
            if name == c.name {
                return Err(bad(&key, "the chain of fallbacks comes back to this channel"));
            }
            next = channels.iter().find(|o| o.name == name).and_then(|o| o.fallback.clone());
        }
    }
    Ok(channels)
}

/// Every `notify = [...]` name of the `[[alert]]` tables (the first rules of `rules`) is a
/// channel's; else the key (`alert[i].notify`) and why.
pub fn check_alerts(rules: &[Rule], channels: &[Arc<Channel>]) -> Result<(), Bad> {
    for (i, rule) in rules.iter().enumerate() {
        if let Some(name) = rule.notify.iter().find(|n| !channels.iter().any(|c| *c.name == ***n)) {
            return Err(bad(&format!("alert[{i}].notify"), format!("{name:?} names no [[notify]] channel")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
