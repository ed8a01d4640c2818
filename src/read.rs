//! Hand readers over `serde_json::Value`, for what the browser decodes: a derived decoder per
//! struct (its field names, its enums, each `Option`, for the page's one JSON reader) costs the
//! browser bundle several KiB of gzipped WebAssembly, where reading a `Value`, which the page
//! decodes anyway, costs a few hundred bytes. As strict as a derived decoder on what matters: a
//! required field missing or of the wrong type, or an unknown word, makes the whole read `None`.

use std::sync::Arc;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// `T` from any deserializer, through a `Value` and `read`; `what` names it in the error.
pub(crate) fn via_value<'de, D: Deserializer<'de>, T>(
    d: D,
    read: fn(&Value) -> Option<T>,
    what: &str,
) -> Result<T, D::Error> {
    let v = Value::deserialize(d)?;
    read(&v).ok_or_else(|| serde::de::Error::custom(format_args!("malformed {what}")))
}

/// A required string field.
pub(crate) fn text(v: &Value, key: &str) -> Option<Arc<str>> {
    v.get(key)?.as_str().map(Arc::from)
}

/// A required whole number field.
pub(crate) fn int(v: &Value, key: &str) -> Option<u64> {
    v.get(key)?.as_u64()
}

/// A required number field.
pub(crate) fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key)?.as_f64()
}

/// An optional field: absent or null is `Some(None)`, present but unreadable is `None`.
pub(crate) fn opt<T>(v: &Value, key: &str, f: impl Fn(&Value) -> Option<T>) -> Option<Option<T>> {
    match v.get(key) {
        None | Some(Value::Null) => Some(None),
        Some(x) => f(x).map(Some),
    }
}

/// An optional string field.
pub(crate) fn opt_string(v: &Value, key: &str) -> Option<Option<String>> {
    opt(v, key, |s| s.as_str().map(str::to_owned))
}

/// A required field holding one of `words`.
pub(crate) fn word<T: Copy>(v: &Value, key: &str, words: &[(&str, T)]) -> Option<T> {
    let w = v.get(key)?.as_str()?;
    words.iter().find(|(name, _)| *name == w).map(|(_, t)| *t)
}
