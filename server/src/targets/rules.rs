//! The rules that turn a group's target strings and labels into [`Target`]s, as Prometheus reads
//! a `file_sd` file, plus what livedash adds:
//!
//! - `host:port` (or `host`) is a Prometheus endpoint `http://host:port/metrics`; the labels
//!   `__scheme__` (`http`, `https`), `__metrics_path__` and `__param_NAME` change the scheme, the
//!   path and the query as Prometheus does. Other `__` labels are dropped.
//! - `livedash:host:port` (or a group label `livedash_kind: livedash`) is another livedash,
//!   reached at `ws://host:port/` (`wss://` with `__scheme__: https`); `livedash:https://host/base`
//!   gives a base path too.
//! - A full `http://` or `https://` URL is scraped as written; with `livedash_kind: json` it is a
//!   JSON endpoint. A full URL takes no `__scheme__`, `__metrics_path__` or `__param_` label, and
//!   no credentials (a targets file is no place for them, and the URL may be the host's name).
//! - A host's name is its `name` label, else the target as written (without `livedash:`).
//! - The other labels are its tags; names are `[a-zA-Z_][a-zA-Z0-9_]*`, values at most
//!   [`MAX_VALUE`] characters, at most [`MAX_LABELS`] per group.

use std::collections::BTreeMap;
use std::sync::Arc;

use reqwest::Url;

use super::error::Problem;
use super::read::{Place, RawGroup};
use super::target::{Target, TargetKind};

/// The most labels a group may have.
pub const MAX_LABELS: usize = 64;
/// The longest a label value, a target or a host name may be, in characters.
pub const MAX_VALUE: usize = 1024;

/// A rule broken at a place of the file.
#[derive(Debug)]
pub(super) struct Fault {
    /// Where.
    pub place: Place,
    /// What.
    pub problem: Problem,
}

/// What a target is, by its prefix or its group's `livedash_kind` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Prometheus,
    Livedash,
    Json,
}

/// A group's labels, read once for all its targets.
#[derive(Default)]
struct Labels {
    https: bool,
    scheme_set: bool,
    path: Option<String>,
    params: Vec<(String, String)>,
    want: Option<Want>,
    name: Option<Arc<str>>,
    tags: BTreeMap<String, String>,
}

/// The targets of group number `g`.
pub(super) fn group(g: usize, raw: &RawGroup) -> Result<Vec<Target>, Fault> {
    let labels = labels(g, &raw.labels)?;
    raw.targets.iter().enumerate().map(|(t, text)| target(Place::Target(g, t), text, &labels)).collect()
}

fn labels(g: usize, raw: &[(String, String)]) -> Result<Labels, Fault> {
    let mut out = Labels::default();
    for (i, (name, value)) in raw.iter().enumerate() {
        let bad = |why: &str| Fault {
            place: Place::Label(g, i),
            problem: Problem::Label { name: name.clone(), why: why.to_owned() },
        };
        if i >= MAX_LABELS {
            return Err(bad(&format!("a group has at most {MAX_LABELS} labels")));
        }
        let mut chars = name.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            let why = "a label name is letters, digits and _, and does not start with a digit";
            return Err(Fault { place: Place::LabelName(g, i), ..bad(why) });
        }
        if value.chars().count() > MAX_VALUE {
            return Err(bad(&format!("its value is longer than {MAX_VALUE} characters")));
        }
        match name.as_str() {
            "__scheme__" => {
                out.scheme_set = true;
                out.https = match value.as_str() {
                    "http" => false,
                    "https" => true,
                    _ => return Err(bad(&format!("{value:?}: use http or https"))),
                };
            }
            "__metrics_path__" => {
                if !value.starts_with('/') || value.contains(|c: char| c.is_whitespace() || c == '?' || c == '#') {
                    return Err(bad(&format!("{value:?}: a path starting with /, without spaces, ? or #")));
                }
                out.path = Some(value.clone());
            }
            "name" => out.name = Some(Arc::from(host_name(value).map_err(|why| bad(&why))?)),
            "livedash_kind" => {
                out.want = Some(match value.as_str() {
                    "prometheus" => Want::Prometheus,
                    "livedash" => Want::Livedash,
                    "json" => Want::Json,
                    _ => return Err(bad(&format!("{value:?}: use prometheus, livedash or json"))),
                });
            }
            _ => {
                if let Some(param) = name.strip_prefix("__param_") {
                    out.params.push((param.to_owned(), value.clone()));
                } else if !name.starts_with("__") {
                    out.tags.insert(name.clone(), value.clone());
                }
            }
        }
    }
    Ok(out)
}

/// A host name from a `name` label: not blank, no control characters, no spaces around it.
fn host_name(value: &str) -> Result<&str, String> {
    if value.is_empty() || value.trim() != value || value.chars().any(char::is_control) {
        return Err(format!("{value:?}: a host name is not empty, has no spaces around it nor control characters"));
    }
    if value.chars().count() > MAX_VALUE {
        return Err(format!("a host name has at most {MAX_VALUE} characters"));
    }
    Ok(value)
}

fn target(place: Place, text: &str, labels: &Labels) -> Result<Target, Fault> {
    let bad = |why: &str| Fault { place, problem: Problem::Target { target: text.to_owned(), why: why.to_owned() } };
    if text.is_empty() || text.trim() != text || text.chars().count() > MAX_VALUE {
        return Err(bad(&format!("empty, spaces around it, or longer than {MAX_VALUE} characters")));
    }
    let (want, rest) = match text.strip_prefix("livedash:") {
        Some(rest) => match labels.want {
            None | Some(Want::Livedash) => (Want::Livedash, rest),
            Some(_) => return Err(bad("the livedash: prefix and the group's livedash_kind label disagree")),
        },
        None => (labels.want.unwrap_or(Want::Prometheus), text),
    };
    let kind = if rest.starts_with("http://") || rest.starts_with("https://") {
        full_url(want, rest, labels)
    } else {
        address(want, rest, labels)
    }
    .map_err(|why| bad(&why))?;
    let name = labels.name.clone().unwrap_or_else(|| Arc::from(rest));
    Ok(Target { name, kind, labels: labels.tags.clone() })
}

/// A target written as a whole URL.
fn full_url(want: Want, text: &str, labels: &Labels) -> Result<TargetKind, String> {
    if labels.scheme_set || labels.path.is_some() || !labels.params.is_empty() {
        return Err("a full URL takes no __scheme__, __metrics_path__ or __param_ label: write it into the URL".into());
    }
    let mut url = Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
    if url.host().is_none() || url.fragment().is_some() {
        return Err("a URL with a host and no #fragment".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("credentials do not belong in a targets file".into());
    }
    Ok(match want {
        Want::Prometheus => TargetKind::Prometheus(url),
        Want::Json => TargetKind::Http(url),
        Want::Livedash => {
            if url.query().is_some() {
                return Err("a livedash target's URL is its base, without a ?query".into());
            }
            let ws = if url.scheme() == "https" { "wss" } else { "ws" };
            url.set_scheme(ws).map_err(|()| "cannot be turned into a WebSocket URL".to_owned())?;
            if !url.path().ends_with('/') {
                let path = format!("{}/", url.path());
                url.set_path(&path);
            }
            TargetKind::Livedash(url)
        }
    })
}

/// A target written as `host:port` or `host`.
fn address(want: Want, text: &str, labels: &Labels) -> Result<TargetKind, String> {
    if text.contains(|c: char| c.is_whitespace() || c.is_control() || matches!(c, '/' | '?' | '#' | '@' | '\\')) {
        return Err("write host:port, livedash:host:port, or a full http(s):// URL".into());
    }
    let (scheme, ws) = if labels.https { ("https", "wss") } else { ("http", "ws") };
    let base = |scheme: &str| {
        let url = Url::parse(&format!("{scheme}://{text}/")).map_err(|e| format!("not host:port ({e})"))?;
        if url.host().is_none() {
            return Err("not host:port: no host".to_owned());
        }
        Ok(url)
    };
    match want {
        Want::Json => Err("a json target is a full http:// or https:// URL".into()),
        Want::Livedash if labels.path.is_some() || !labels.params.is_empty() => {
            Err("__metrics_path__ and __param_ are for Prometheus targets; give a livedash behind a base path as \
             livedash:https://host/base"
                .into())
        }
        Want::Livedash => Ok(TargetKind::Livedash(base(ws)?)),
        Want::Prometheus => {
            let mut url = base(scheme)?;
            url.set_path(labels.path.as_deref().unwrap_or("/metrics"));
            if !labels.params.is_empty() {
                url.query_pairs_mut().extend_pairs(labels.params.iter());
            }
            Ok(TargetKind::Prometheus(url))
        }
    }
}
