//! Tests of the targets file: both formats, every rule, every refusal with its line, the caps.

use std::path::Path;

use super::error::{Location, Problem, TargetsError};
use super::file::{Format, MAX_FILE_BYTES, MAX_TARGETS, parse};
use super::rules::MAX_LABELS;
use super::target::{Target, TargetKind};

fn ok(file: &str, text: &str) -> Vec<Target> {
    parse(Path::new(file), text.as_bytes()).unwrap_or_else(|e| panic!("{file} refused: {e}"))
}

fn err(file: &str, text: &str) -> TargetsError {
    match parse(Path::new(file), text.as_bytes()) {
        Ok(t) => panic!("{file} accepted: {t:?}"),
        Err(e) => e,
    }
}

fn line(e: &TargetsError) -> usize {
    e.at.unwrap_or_else(|| panic!("no line in {e}")).line
}

fn url(t: &Target) -> String {
    t.kind.url().to_string()
}

const JSON: &str = r#"[
  {"targets": ["web1:9100", "web2:9100"], "labels": {"env": "prod", "role": "web"}},
  {"targets": ["livedash:db1:3000"], "labels": {"name": "db1", "env": "prod"}},
  {"targets": ["https://api.internal/stats"], "labels": {"livedash_kind": "json"}}
]"#;

const YAML: &str = "# the fleet
- targets: [web1:9100, 'web2:9100']
  labels:
    env: prod
    role: web
- targets:
    - livedash:db1:3000
  labels: {name: db1, env: prod}
- targets: [\"https://api.internal/stats\"]
  labels:
    livedash_kind: json
";

#[test]
fn json_and_yaml_give_the_same_typed_targets() {
    let json = ok("fleet.json", JSON);
    assert_eq!(json, ok("fleet.yml", YAML));
    assert_eq!(json, ok("fleet.yaml", YAML));
    let names: Vec<&str> = json.iter().map(|t| &*t.name).collect();
    assert_eq!(names, ["web1:9100", "web2:9100", "db1", "https://api.internal/stats"]);
    assert_eq!(json[0].kind, TargetKind::Prometheus("http://web1:9100/metrics".parse().expect("url")));
    assert_eq!(json[0].tags().collect::<Vec<_>>(), ["env=prod", "role=web"]);
    assert_eq!(json[2].kind, TargetKind::Livedash("ws://db1:3000/".parse().expect("url")));
    assert_eq!(json[2].kind.ws_url().map(|u| u.to_string()).as_deref(), Some("ws://db1:3000/ws"));
    assert_eq!(json[2].tags().collect::<Vec<_>>(), ["env=prod"], "name is the name, not a tag");
    assert_eq!(json[3].kind, TargetKind::Http("https://api.internal/stats".parse().expect("url")));
    assert!(json[3].labels.is_empty(), "livedash_kind is no tag");
}

#[test]
fn scheme_path_and_params_labels_change_the_url_as_prometheus_does() {
    let t = ok(
        "t.json",
        r#"[{"targets": ["a:9100", "[::1]:9182", "b"],
             "labels": {"__scheme__": "https", "__metrics_path__": "/probe", "__param_module": "http_2xx",
                        "__meta_x": "dropped", "__address__": "dropped", "dc": "fra"}}]"#,
    );
    assert_eq!(url(&t[0]), "https://a:9100/probe?module=http_2xx");
    assert_eq!(url(&t[1]), "https://[::1]:9182/probe?module=http_2xx");
    assert_eq!(url(&t[2]), "https://b/probe?module=http_2xx");
    assert_eq!(t[0].tags().collect::<Vec<_>>(), ["dc=fra"], "__ labels are no tags");
}

#[test]
fn the_kind_comes_from_the_prefix_or_the_livedash_kind_label() {
    let t = ok(
        "t.yml",
        "- targets: ['livedash:https://ops.example.com/dash', 'livedash:h1:3000']\n\
         - targets: ['h2:3000']\n  labels: {livedash_kind: livedash, __scheme__: https}\n\
         - targets: ['http://h3:9100/metrics?x=1', 'https://h4/m']\n\
         - targets: ['http://h5/api']\n  labels: {livedash_kind: json, name: five}\n",
    );
    let got: Vec<(&str, &str, String)> = t.iter().map(|t| (&*t.name, t.kind.word(), url(t))).collect();
    assert_eq!(
        got,
        [
            ("https://ops.example.com/dash", "livedash", "wss://ops.example.com/dash/".to_owned()),
            ("h1:3000", "livedash", "ws://h1:3000/".to_owned()),
            ("h2:3000", "livedash", "wss://h2:3000/".to_owned()),
            ("http://h3:9100/metrics?x=1", "prometheus", "http://h3:9100/metrics?x=1".to_owned()),
            ("https://h4/m", "prometheus", "https://h4/m".to_owned()),
            ("five", "json", "http://h5/api".to_owned()),
        ]
    );
    assert_eq!(t[0].kind.ws_url().map(|u| u.to_string()).as_deref(), Some("wss://ops.example.com/dash/ws"));
}

#[test]
fn the_format_is_found_by_extension_else_by_content() {
    assert_eq!(Format::of(Path::new("a.JSON"), "- x"), Format::Json);
    assert_eq!(Format::of(Path::new("a.yml"), "[]"), Format::Yaml);
    assert_eq!(Format::of(Path::new("targets"), "  \n[{}]"), Format::Json);
    assert_eq!(Format::of(Path::new("targets.txt"), "- targets: []"), Format::Yaml);
    assert_eq!(ok("targets", JSON), ok("targets", YAML));
}

#[test]
fn an_empty_list_is_no_hosts_but_an_empty_file_is_refused() {
    assert!(ok("t.json", "[]").is_empty());
    assert!(ok("t.yml", "[]\n").is_empty());
    assert!(ok("t.json", r#"[{"targets": []}, {"labels": {"env": "x"}}]"#).is_empty());
    assert!(ok("t.yml", "- targets:\n  labels:\n").is_empty());
    for text in ["", " \n\t\n", "\u{feff}"] {
        let e = err("t.json", text);
        assert_eq!(e.problem, Problem::Empty, "{text:?}");
        assert_eq!(e.to_string(), "targets file t.json: is empty: write [] for no targets");
    }
}

#[test]
fn syntax_and_type_errors_name_the_line() {
    for (file, text, at, words) in [
        ("t.json", "[\n {\"targets\": [\"a:1\"]}\n {\"targets\": []}\n]", 3, "expected"),
        ("t.json", "[\n  {\"targets\": \"a:1\"}\n]", 2, "list of target strings"),
        ("t.json", "[\n  {\"targets\": [\"a:1\"],\n   \"lables\": {}}\n]", 3, "unknown key `lables`"),
        ("t.json", "[{\"targets\": [\"a:1\"]}]\n[]", 2, "trailing"),
        ("t.json", "{\"targets\": [\"a:1\"]}", 1, "list of target groups"),
        ("t.json", "[{\"targets\": [\"a:1\"], \"labels\": {\"n\": 3}}]", 1, "a string"),
        ("t.yml", "- targets: [a:1]\n  labels:\n    env: prod\n   role: web\n", 4, ""),
        ("t.yml", "- targets: [a:1]\n- targets:\n    x: 1\n", 3, "list of target strings"),
        ("t.yml", "- targets: [a:1]\n  target: [b:1]\n", 2, "unknown key `target`"),
        ("t.yml", "- targets: [a:1]\n  labels: {env: a, env: b}\n", 2, "twice"),
        ("t.yml", "---\n[]\n---\n[]\n", 0, "more than one document"),
    ] {
        let e = err(file, text);
        assert!(matches!(e.problem, Problem::Syntax(_)), "{text:?}: {e}");
        if at > 0 {
            assert_eq!(line(&e), at, "{text:?}: {e}");
        }
        assert!(e.to_string().contains(words), "{text:?}: {e}");
        assert!(e.to_string().starts_with(&format!("targets file {file}")), "{e}");
        assert!(!e.to_string().contains(".["), "no parser path: {e}");
    }
}

#[test]
fn rule_errors_name_the_line_and_column_of_the_value() {
    for (file, text, at, words) in [
        ("t.json", "[\n {\"targets\": [\"a:1\",\n   \"web 1:9100\"]}]", 3, "target \"web 1:9100\""),
        ("t.yml", "- targets:\n  - a:1\n  - a/b:1\n", 3, "target \"a/b:1\""),
        ("t.yml", "- targets: [a:99999]\n", 1, "not host:port"),
        ("t.yml", "- targets: [a:1]\n  labels:\n    1env: x\n", 3, "label \"1env\""),
        ("t.yml", "- targets: [a:1]\n  labels:\n    env-x: x\n", 3, "label \"env-x\""),
        ("t.yml", "- targets: [a:1]\n  labels:\n    __scheme__: ftp\n", 3, "use http or https"),
        ("t.yml", "- targets: [a:1]\n  labels:\n    __metrics_path__: metrics\n", 3, "starting with /"),
        ("t.yml", "- targets: [a:1]\n  labels:\n    livedash_kind: redis\n", 3, "prometheus, livedash or json"),
        ("t.yml", "- targets: [a:1]\n  labels:\n    name: ' a'\n", 3, "spaces around"),
        ("t.yml", "- labels: {livedash_kind: json}\n  targets:\n  - a:1\n", 3, "full http"),
        ("t.yml", "- labels: {livedash_kind: json}\n  targets:\n  - livedash:a:1\n", 3, "disagree"),
        ("t.yml", "- labels: {__metrics_path__: /m}\n  targets:\n  - http://a/x\n", 3, "full URL takes no"),
        ("t.yml", "- targets:\n  - https://u:p@a/metrics\n", 2, "credentials"),
        ("t.yml", "- labels: {__metrics_path__: /m}\n  targets:\n  - livedash:a:1\n", 3, "base path"),
        ("t.yml", "- targets:\n  - livedash:https://a/x?y=1\n", 2, "without a ?query"),
        ("t.yml", "- targets:\n  - ''\n", 2, "empty"),
    ] {
        let e = err(file, text);
        assert!(matches!(e.problem, Problem::Target { .. } | Problem::Label { .. }), "{text:?}: {e}");
        let at_ = e.at.unwrap_or_else(|| panic!("{text:?}: no place in {e}"));
        assert_eq!(at_.line, at, "{text:?}: {e}");
        assert!(at_.column.is_some(), "{text:?}: {e}");
        assert!(e.to_string().contains(words), "{text:?}: {e}");
    }
    let e = err("t.yml", "- targets:\n  - a:1\n  - a/b:1\n");
    assert_eq!(e.at, Some(Location { line: 3, column: Some(5) }), "{e}");
}

#[test]
fn a_name_used_twice_is_refused_naming_both_places() {
    let e = err("t.json", "[\n {\"targets\": [\"a:1\", \"b:1\"]},\n {\"targets\": [\"c:1\",\n  \"a:1\"]}\n]");
    assert_eq!(line(&e), 4, "{e}");
    let Problem::Duplicate { name, first } = &e.problem else { panic!("{e}") };
    assert_eq!(name, "a:1");
    assert!(first.starts_with("line 2, column"), "{first}");
    let e = err(
        "t.yml",
        "- targets: [a:1]\n  labels: {name: db}\n- targets: [b:1]\n- targets:\n  - c:1\n  - d:1\n  labels: {name: db}\n",
    );
    assert_eq!(line(&e), 5, "{e}");
    assert!(e.to_string().contains("two hosts are named \"db\": this target and the one at line 1, column"), "{e}");
    let e = err("t.yml", "- targets: [livedash:a:1, a:1]\n");
    assert!(matches!(e.problem, Problem::Duplicate { .. }), "{e}");
}

#[test]
fn text_that_is_not_utf8_is_refused_with_its_line() {
    let e = parse(Path::new("t.yml"), b"- targets:\n  - \xff\xfe:1\n").expect_err("refused");
    assert_eq!(e.problem, Problem::NotText);
    assert_eq!(line(&e), 2);
}

#[test]
fn the_caps_on_targets_labels_and_size_are_clear_errors() {
    let many = |n: usize| {
        let targets: Vec<String> = (0..n).map(|i| format!("\"h{i}:9100\"")).collect();
        format!("[\n{{\"targets\": [\n{}\n]}}\n]", targets.join(",\n"))
    };
    assert_eq!(ok("t.json", &many(MAX_TARGETS)).len(), MAX_TARGETS);
    let e = err("t.json", &many(MAX_TARGETS + 1));
    assert_eq!(e.problem, Problem::TooMany(MAX_TARGETS));
    assert_eq!(line(&e), MAX_TARGETS + 3, "the line of the first target over the cap: {e}");
    let labels: Vec<String> = (0..=MAX_LABELS).map(|i| format!("\"l{i}\": \"v\"")).collect();
    let e = err("t.json", &format!("[{{\"targets\": [\"a:1\"], \"labels\": {{{}}}}}]", labels.join(", ")));
    assert!(e.to_string().contains(&format!("at most {MAX_LABELS} labels")), "{e}");
    let big = format!("[]{}", " ".repeat(MAX_FILE_BYTES as usize));
    let e = err("t.json", &big);
    assert_eq!(e.problem, Problem::TooLarge { size: MAX_FILE_BYTES + 2, max: MAX_FILE_BYTES });
    assert_eq!(e.at, None);
    assert!(e.to_string().contains("more than the 4194304 a targets file may have"), "{e}");
}

#[test]
fn a_missing_file_is_an_unreadable_one() {
    let e = super::file::load(Path::new("/nonexistent/targets.yml")).expect_err("refused");
    assert!(matches!(e.problem, Problem::Unreadable(_)), "{e}");
    assert!(e.to_string().starts_with("targets file /nonexistent/targets.yml: cannot be read"), "{e}");
}
