//! Flattening a JSON value into named numeric series.
//!
//! Every number in the value becomes one series named by its path: object keys and array indexes
//! joined with `.` (`{"net":{"rx":1},"load":[1,2]}` gives `net.rx`, `load.0`, `load.1`). Booleans
//! count as 0 and 1; strings and nulls are not series. Depth and count are bounded so that a hostile
//! upstream cannot make the flattening cost more than the body it sent.

use serde_json::Value;

/// How deep paths may go; anything deeper is ignored.
pub const MAX_DEPTH: usize = 16;
/// How many series one value may produce; the rest is ignored.
pub const MAX_SERIES: usize = 1024;

/// The numeric leaves of `value`, in document order, as `(path, value)`. A bare number at the
/// top level is the series `value`.
pub fn flatten(value: &Value) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    let mut path = String::new();
    walk(value, &mut path, 0, &mut out);
    if let [(name, _)] = out.as_mut_slice()
        && name.is_empty()
    {
        "value".clone_into(name);
    }
    out
}

fn walk(value: &Value, path: &mut String, depth: usize, out: &mut Vec<(String, f64)>) {
    if out.len() >= MAX_SERIES {
        return;
    }
    match value {
        Value::Number(n) => {
            if let Some(x) = n.as_f64().filter(|x| x.is_finite()) {
                out.push((path.clone(), x));
            }
        }
        Value::Bool(b) => out.push((path.clone(), f64::from(u8::from(*b)))),
        Value::Object(map) if depth < MAX_DEPTH => {
            for (key, child) in map {
                descend(path, key, |path| walk(child, path, depth + 1, out));
            }
        }
        Value::Array(items) if depth < MAX_DEPTH => {
            for (index, child) in items.iter().enumerate() {
                descend(path, &index.to_string(), |path| walk(child, path, depth + 1, out));
            }
        }
        _ => {}
    }
}

/// Runs `f` with `segment` appended to `path`, then restores `path`.
fn descend(path: &mut String, segment: &str, f: impl FnOnce(&mut String)) {
    let len = path.len();
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(segment);
    f(path);
    path.truncate(len);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(v: &Value) -> Vec<String> {
        flatten(v).into_iter().map(|(n, _)| n).collect()
    }

    #[test]
    fn nested_objects_and_arrays_become_dotted_paths() {
        let v: Value = serde_json::from_str(
            r#"{"cpu": 43.5, "load": [1.5, 1.1, 1.0], "net": {"rx_kbps": 12, "tx_kbps": 3.5}, "host": "n1"}"#,
        )
        .expect("json");
        let flat = flatten(&v);
        let expect = [
            ("cpu", 43.5),
            ("load.0", 1.5),
            ("load.1", 1.1),
            ("load.2", 1.0),
            ("net.rx_kbps", 12.0),
            ("net.tx_kbps", 3.5),
        ];
        assert_eq!(flat.len(), expect.len(), "{flat:?}");
        for ((name, value), (want_name, want_value)) in flat.iter().zip(expect) {
            assert_eq!(name, want_name);
            assert!((value - want_value).abs() < 1e-12, "{name}: {value}");
        }
    }

    #[test]
    fn document_order_is_kept() {
        let v: Value = serde_json::from_str(r#"{"z": 1, "a": 2, "m": {"y": 3, "b": 4}}"#).expect("json");
        assert_eq!(names(&v), ["z", "a", "m.y", "m.b"]);
    }

    #[test]
    fn strings_and_nulls_are_not_series_booleans_are() {
        let v = json!({"s": "x", "n": null, "up": true, "down": false, "e": {}, "a": []});
        assert_eq!(flatten(&v), vec![("up".to_owned(), 1.0), ("down".to_owned(), 0.0)]);
    }

    #[test]
    fn a_bare_number_is_one_series_named_value() {
        assert_eq!(flatten(&json!(3)), vec![("value".to_owned(), 3.0)]);
        assert!(flatten(&json!("3")).is_empty());
    }

    #[test]
    fn depth_and_count_are_bounded() {
        let mut deep = json!(1);
        for _ in 0..(MAX_DEPTH + 5) {
            deep = json!({ "d": deep });
        }
        assert!(flatten(&deep).is_empty(), "deeper than MAX_DEPTH is ignored");

        let wide: Vec<u32> = (0..5000).collect();
        let flat = flatten(&json!({ "w": wide }));
        assert_eq!(flat.len(), MAX_SERIES);
        assert_eq!(names(&json!({ "w": [7] })), ["w.0"]);
    }

    #[test]
    fn big_integers_are_kept_as_close_as_f64_allows() {
        let flat = flatten(&json!({"gen_ts_ns": 1_795_480_294_498_238_375_u64}));
        assert_eq!(flat[0].0, "gen_ts_ns");
        assert!((flat[0].1 - 1.795_480_294_498_238_4e18).abs() < 1e4);
    }
}
