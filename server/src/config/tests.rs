//! The merge of flags, variables and the file: defaults, precedence, and errors that name the key.

use super::*;
use clap::Parser;

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("livedash").chain(args.iter().copied()))
}

fn config(args: &[&str]) -> Config {
    Config::from_args(&parse(args).expect("parses").serve, None).expect("valid")
}

#[test]
fn defaults_are_loopback_plain_one_second_ten_minutes() {
    let c = config(&[]);
    assert_eq!(c.listen, SocketAddr::from(([127, 0, 0, 1], 3000)));
    assert_eq!(c.interval, Duration::from_secs(1));
    assert_eq!(c.history, Duration::from_secs(600));
    assert_eq!(c.tls, TlsMode::Off);
    assert!(matches!(c.users, UsersSource::Admin(None)));
}

#[test]
fn off_loopback_tls_is_the_default_unless_insecure_http() {
    assert!(matches!(config(&["--listen", "0.0.0.0:3000"]).tls, TlsMode::SelfSigned { .. }));
    let c = config(&["--listen", "10.1.2.3:3000", "--tls-san", "dash.example.com"]);
    let TlsMode::SelfSigned { names } = c.tls else { panic!("self-signed") };
    assert!(names.contains(&"10.1.2.3".to_owned()) && names.contains(&"dash.example.com".to_owned()));
    let c = config(&["--listen", "0.0.0.0:3000", "--insecure-http"]);
    assert_eq!(c.tls, TlsMode::Off);
    assert!(c.clear_text_off_loopback());
    assert!(matches!(config(&["--tls-self-signed"]).tls, TlsMode::SelfSigned { .. }));
    let c = config(&["--tls-cert", "c.pem", "--tls-key", "k.pem"]);
    assert_eq!(c.tls, TlsMode::Files { cert: "c.pem".into(), key: "k.pem".into() });
}

#[test]
fn bad_values_name_the_flag() {
    for (args, flag) in [
        (&["--listen", "nope"][..], "--listen"),
        (&["--interval", "fast"][..], "--interval"),
        (&["--interval", "1ms"][..], "--interval"),
        (&["--history", "0s"][..], "--history"),
        (&["--tls-cert", "c.pem"][..], "--tls-key"),
        (&["--allowed-origin", "example.com"][..], "--allowed-origin"),
        (&["--public-url", "nope"][..], "--public-url"),
        (&["--max-connections", "0"][..], "--max-connections"),
        (&["--history-len", "0"][..], "--history-len"),
        (&["--metrics-listen", "0.0.0.0:9464"][..], "--metrics-listen"),
        (&["--trusted-proxy", "proxy"][..], "--trusted-proxy"),
        (&["--login-attempts-per-ip", "0"][..], "--login-attempts-per-ip"),
        (&["--insecure-http", "--tls-self-signed"][..], "--insecure-http"),
    ] {
        let err = parse(args).expect_err("refused").to_string();
        assert!(err.contains(flag), "{args:?}: {err}");
    }
}

#[test]
fn sources_default_to_local_and_take_the_interval() {
    let c = config(&[]);
    assert_eq!(c.sources.len(), 1);
    assert_eq!(&*c.sources[0].name, "local");
    let c = config(&["--source", "local", "--source", "up=http://127.0.0.1:9100/", "--interval", "100ms"]);
    assert_eq!(c.sources.iter().map(|s| s.name.to_string()).collect::<Vec<_>>(), ["local", "up"]);
    assert_eq!(c.sources[1].interval, Duration::from_millis(100));
    assert_eq!(c.sources[1].timeout, Duration::from_millis(90));
    let err = Config::from_args(&parse(&["--source", "local", "--source", "local"]).expect("parses").serve, None)
        .expect_err("duplicate")
        .to_string();
    assert!(err.contains("--source") && err.contains("local"), "{err}");
    let err = parse(&["--source", "ftp://x"]).expect_err("refused").to_string();
    assert!(err.contains("--source"), "{err}");
}

fn with_file(toml: &str, extra: &[&str]) -> Result<Config, ConfigError> {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("livedash-config-{}-{n}.toml", std::process::id()));
    std::fs::write(&path, toml).expect("write");
    let mut args = vec!["--config", path.to_str().expect("utf-8 path")];
    args.extend_from_slice(extra);
    let result = Config::from_args(&parse(&args).expect("parses").serve, None);
    std::fs::remove_file(&path).expect("remove");
    result
}

#[test]
fn a_config_file_sets_sources_with_their_own_settings() {
    let c = with_file(
        r#"
        listen = "127.0.0.1:4000"
        interval = "2s"
        history = "5m"

        [[source]]
        type = "local"

        [[source]]
        name = "api"
        url = "http://127.0.0.1:9100/stats"
        interval = "250ms"
        timeout = "100ms"
        max_body = 4096
        "#,
        &[],
    )
    .expect("valid");
    assert_eq!(c.listen, SocketAddr::from(([127, 0, 0, 1], 4000)));
    assert_eq!((c.interval, c.history), (Duration::from_secs(2), Duration::from_secs(300)));
    assert_eq!(c.sources.iter().map(|s| s.name.to_string()).collect::<Vec<_>>(), ["local", "api"]);
    assert_eq!(c.sources[0].interval, Duration::from_secs(2));
    let api = &c.sources[1];
    assert_eq!(
        (api.interval, api.timeout, api.max_body),
        (Duration::from_millis(250), Duration::from_millis(100), 4096)
    );
    // Flags win over the file.
    let c =
        with_file("interval = \"2s\"\n[[source]]\ntype = \"local\"\n", &["--interval", "500ms", "--source", "x=local"])
            .expect("valid");
    assert_eq!(c.interval, Duration::from_millis(500));
    assert_eq!(&*c.sources[0].name, "x");
}

#[test]
fn unknown_keys_and_bad_values_in_the_file_name_the_key() {
    for (toml, key) in [
        ("intervall = \"1s\"", "intervall"),
        ("interval = \"fast\"", "interval"),
        ("listen = \"nowhere\"", "listen"),
        ("[[source]]\nurll = \"http://x/\"", "urll"),
        ("[[source]]\nurl = \"http://x/\"\n[[source]]\nurl = \"http://y/\"\ninterval = \"1ms\"", "source[1].interval"),
        ("[[source]]\ntype = \"ftp\"", "source[0].type"),
        ("[[source]]\nurl = \"ftp://x/\"", "source[0].url"),
        ("interval = [", "line 1, column 13: unclosed array"),
        ("[[source]]\n[[source.series]]\nlabel = \"x\"", "match"),
        ("[[source]]\n[[source.series]]\nmatch = \"x\"\ncolor = \"red\"", "color"),
        ("[[source]]\n[[source.series]]\nmatch = \"x\"\nunit = \"parsecs\"", "`source[0].series[0].unit`"),
        (
            "[[source]]\n[[source]]\nurl = \"http://x/\"\n[[source.series]]\nmatch = \"a\"\n[[source.series]]\nmatch = \"b\"\nwarn_above = 2\nwarn_below = 1",
            "`source[1].series[1].warn_below`",
        ),
        ("[[source]]\n[[source.series]]\nmatch = \"x\"\ndecimals = 300", "`source[0].series[0].decimals`"),
    ] {
        let err = with_file(toml, &[]).expect_err("refused").to_string();
        assert!(err.contains("--config") && err.contains(key), "{toml:?}: {err}");
    }
}

#[test]
fn series_tables_come_after_the_kinds_defaults() {
    let defaults = livedash::settings::local_defaults();
    let c = with_file(
        r#"
        [[source]]
        type = "local"
        [[source.series]]
        match = "cpu_pct"
        label = "CPU"
        [[source.series]]
        match = "mem_pct"
        hidden = false

        [[source]]
        name = "api"
        url = "http://127.0.0.1:9100/"
        [[source.series]]
        match = "net.*"
        unit = "bytes/s"
        scale = 1000
        "#,
        &[],
    )
    .expect("valid");
    let local = &c.sources[0].series;
    assert_eq!(local[..defaults.len()], defaults[..]);
    let configured: Vec<_> = local[defaults.len()..].iter().map(|r| (r.pattern.as_str(), r.label.as_deref())).collect();
    assert_eq!(configured, [("cpu_pct", Some("CPU")), ("mem_pct", None)]);
    let api = &c.sources[1].series;
    assert_eq!(api.len(), 1, "no defaults for an http source");
    assert_eq!((api[0].unit.as_deref(), api[0].scale), (Some("bytes/s"), Some(1000.0)));
    // Sources from flags (which replace the file's) and the default one get their kind's defaults.
    let c = config(&["--source", "local", "--source", "up=http://127.0.0.1:9100/"]);
    assert_eq!((&*c.sources[0].series, c.sources[1].series.len()), (&defaults[..], 0));
    assert_eq!(*config(&[]).sources[0].series, defaults[..]);
}

#[test]
fn subcommands_parse() {
    assert!(matches!(parse(&["hash-password"]).expect("parses").command, Some(Command::HashPassword)));
    assert!(matches!(parse(&["fingerprint"]).expect("parses").command, Some(Command::Fingerprint { .. })));
}

#[test]
fn empty_password_is_refused_with_the_variable_named() {
    let args = parse(&[]).expect("defaults parse").serve;
    let err = Config::from_args(&args, Some("".into())).expect_err("refused").to_string();
    assert!(err.contains(ADMIN_PASSWORD_ENV), "{err}");
    assert!(matches!(Config::from_args(&args, Some("pw".into())).expect("ok").users, UsersSource::Admin(Some(_))));
}

#[test]
fn public_url_comes_from_the_flag_or_the_file_with_the_key_named() {
    let c = with_file("public_url = \"https://ops.example.com/dash\"", &[]).expect("valid");
    assert_eq!(c.public_url.map(|u| u.to_string()).as_deref(), Some("https://ops.example.com/dash/"));
    let c = with_file("public_url = \"https://a.example.com/x\"", &["--public-url", "https://b.example.com/y"])
        .expect("valid");
    assert_eq!(c.public_url.map(|u| u.base).as_deref(), Some("/y"));
    let err = with_file("public_url = \"ops.example.com\"", &[]).expect_err("refused").to_string();
    assert!(err.contains("public_url"), "{err}");
}

#[test]
fn the_readme_config_example_is_valid() {
    let readme = include_str!("../../../README.md");
    let start = readme.find("```toml\n").expect("a toml block in README.md") + "```toml\n".len();
    let toml = &readme[start..start + readme[start..].find("```").expect("closed")];
    let config = with_file(toml, &[]).expect("the README example is a valid config");
    assert_eq!(config.sources.len(), 3);
    // With the commented line switched on too.
    let config = with_file(&toml.replace("# public_url", "public_url"), &[]).expect("valid");
    assert_eq!(config.public_url.map(|u| u.base).as_deref(), Some("/dash"));
}

#[test]
fn the_history_store_is_on_by_default_in_the_data_dir_and_can_be_moved_or_turned_off() {
    let c = config(&["--data-dir", "/var/lib/livedash"]);
    let store = c.store.expect("on by default");
    assert_eq!(store.path, PathBuf::from("/var/lib/livedash/history.db"));
    assert_eq!((store.max_bytes, store.raw_for), (1 << 30, Duration::from_secs(86_400)));
    assert_eq!(
        (store.minute_for, store.hour_for),
        (Duration::from_secs(30 * 86_400), Duration::from_secs(365 * 86_400))
    );
    assert!(config(&["--store", "none"]).store.is_none());
    let c = config(&[
        "--store",
        "/tmp/h.db",
        "--store-max-bytes",
        "2GiB",
        "--store-raw-for",
        "2d",
        "--store-1m-for",
        "60d",
    ]);
    let store = c.store.expect("on");
    assert_eq!((store.path, store.max_bytes), (PathBuf::from("/tmp/h.db"), 2 << 30));
    assert_eq!((store.raw_for, store.minute_for), (Duration::from_secs(2 * 86_400), Duration::from_secs(60 * 86_400)));
    let err = parse(&["--store-raw-for", "5m"]).expect_err("too short");
    assert!(err.to_string().contains("--store-raw-for"), "{err}");
}

#[test]
fn history_reads_at_once_are_a_few_by_default_and_can_be_set() {
    assert_eq!(config(&[]).store.expect("on").max_reads, 4);
    assert_eq!(config(&["--store-max-reads", "20"]).store.expect("on").max_reads, 20);
    for bad in ["0", "many", "5000"] {
        let err = parse(&["--store-max-reads", bad]).expect_err("refused");
        assert!(err.to_string().contains("--store-max-reads"), "{bad}: {err}");
    }
    assert_eq!(with_file("store_max_reads = 8\n", &[]).expect("valid").store.expect("on").max_reads, 8);
    let err = with_file("store_max_reads = 0\n", &[]).expect_err("refused");
    assert!(err.to_string().contains("store_max_reads"), "{err}");
}

#[test]
fn viewers_are_read_only_user_names_and_a_bad_one_is_named() {
    let c = with_file("viewers = [\"wall\", \"audit\"]\n", &[]).expect("valid");
    assert_eq!(c.viewers, ["wall", "audit"]);
    assert!(config(&[]).viewers.is_empty(), "nobody is read-only by default");
    for (toml, key) in [("viewers = [\"ok\", \"\"]\n", "`viewers[1]`"), ("viewers = [\"a:b\"]\n", "`viewers[0]`")] {
        let err = with_file(toml, &[]).expect_err("refused").to_string();
        assert!(err.contains(key), "{toml}: {err}");
    }
}

#[test]
fn the_targets_file_comes_from_the_flag_or_the_file_and_a_bad_one_stops_the_start() {
    let dir = std::env::temp_dir().join(format!("livedash-config-targets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (good, bad) = (dir.join("good.yml"), dir.join("bad.json"));
    std::fs::write(&good, "- targets: [web1:9100]\n").expect("write");
    std::fs::write(&bad, "[\n  {\"targets\": [\"web1:9100\",\n    \"web1:9100\"]}\n]").expect("write");
    let (good_s, bad_s) = (good.to_str().expect("utf-8"), bad.to_str().expect("utf-8"));
    assert_eq!(config(&[]).targets_file, None);
    assert_eq!(config(&["--targets-file", good_s]).targets_file, Some(good.clone()));
    let c = with_file(&format!("targets_file = {good_s:?}"), &[]).expect("valid");
    assert_eq!(c.targets_file, Some(good.clone()));
    for result in [
        Config::from_args(&parse(&["--targets-file", bad_s]).expect("parses").serve, None),
        with_file(&format!("targets_file = {bad_s:?}"), &[]),
        with_file(&format!("targets_file = {good_s:?}"), &["--targets-file", bad_s]),
    ] {
        let err = result.expect_err("refused").to_string();
        assert!(err.starts_with(&format!("targets file {bad_s}, line 3, column")), "{err}");
        assert!(err.contains("two hosts are named \"web1:9100\""), "{err}");
    }
    let err = with_file("targets_file = \"\"", &[]).expect_err("refused").to_string();
    assert!(err.contains("`targets_file`"), "{err}");
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn the_fleet_token_is_read_once_from_the_flag_or_the_file_and_a_bad_file_names_its_key() {
    let dir = std::env::temp_dir().join(format!("livedash-config-fleet-token-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (good, empty) = (dir.join("token"), dir.join("empty"));
    std::fs::write(&good, "ldt_fleet\n").expect("write");
    std::fs::write(&empty, "\n").expect("write");
    let (good_s, empty_s) = (good.to_str().expect("utf-8"), empty.to_str().expect("utf-8"));
    let secret = |c: &Config| c.fleet_token.as_ref().map(|t| t.secret().to_string());
    assert_eq!(config(&[]).fleet_token, None);
    assert_eq!(secret(&config(&["--fleet-token-file", good_s])).as_deref(), Some("ldt_fleet"));
    let c = with_file(&format!("fleet_token_file = {good_s:?}"), &[]).expect("valid");
    assert_eq!(secret(&c).as_deref(), Some("ldt_fleet"));
    let flag = Config::from_args(&parse(&["--fleet-token-file", empty_s]).expect("parses").serve, None);
    let err = flag.expect_err("refused").to_string();
    assert!(err.starts_with("--fleet-token-file (LIVEDASH_FLEET_TOKEN_FILE)") && err.contains("is empty"), "{err}");
    let err = with_file(&format!("fleet_token_file = {empty_s:?}"), &[]).expect_err("refused").to_string();
    assert!(err.starts_with("`fleet_token_file` in --config") && err.contains(empty_s), "{err}");
    let err = with_file("fleet_token_file = \"/nonexistent/token\"", &[]).expect_err("refused").to_string();
    assert!(err.contains("`fleet_token_file`") && err.contains("cannot be read"), "{err}");
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn the_users_file_comes_from_the_flag_else_the_files_users_file() {
    let file = |c: Config| match c.users {
        UsersSource::File(path) => Some(path),
        UsersSource::Admin(_) => None,
    };
    let c = with_file("users_file = \"/etc/livedash/users\"\n", &[]).expect("accepted");
    assert_eq!(file(c), Some(PathBuf::from("/etc/livedash/users")));
    let c = with_file("users_file = \"/etc/livedash/users\"\n", &["--users-file", "mine"]).expect("accepted");
    assert_eq!(file(c), Some(PathBuf::from("mine")));
    let err = with_file("users_file = \" \"\n", &[]).expect_err("refused").to_string();
    assert!(err.contains("`users_file`"), "{err}");
}

#[test]
fn the_site_comes_from_site_dir_else_the_default_directory() {
    use crate::site::{DirChoice, Site};
    let dir = std::env::temp_dir();
    let c = config(&["--site-dir", dir.to_str().expect("a UTF-8 path")]);
    assert!(matches!(c.site, Site::Dir { ref root, why: DirChoice::Flag } if *root == dir), "{:?}", c.site);
    assert!(matches!(config(&[]).site, Site::Dir { why: DirChoice::Default, .. }));
    let refused = Config::from_args(&parse(&["--site-dir", "/no/such/dir"]).expect("parses").serve, None);
    let message = refused.expect_err("refused").to_string();
    assert_eq!(message, "--site-dir / LIVEDASH_SITE_DIR: /no/such/dir is not a directory");
}
