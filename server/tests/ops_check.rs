//! `livedash check-config` as an operator runs it (the real binary): a good configuration gives a
//! one-line summary and exit 0 and leaves nothing behind; a bad one exits non-zero naming every
//! problem with its file and line or key, not only the first.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use livedash_server::auth::password::hash_password;

/// `livedash check-config ARGS`: (success, stdout, stderr).
fn check_config(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_livedash"))
        .arg("check-config")
        .args(args)
        .env_remove("LIVEDASH_ADMIN_PASSWORD")
        .env_remove("LIVEDASH_USERS_FILE")
        .env_remove("LIVEDASH_CONFIG")
        .output()
        .expect("runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).trim().to_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_good_configuration_passes_and_nothing_is_made() {
    let dir = common::temp_dir("check-good");
    let users = dir.join("users");
    std::fs::write(&users, format!("alice:{}\nwall:{}:viewer\n", hash_password("a"), hash_password("w"))).unwrap();
    let data = dir.join("data");
    let config = dir.join("livedash.toml");
    let toml = format!(
        "listen = \"127.0.0.1:9\"\nusers_file = {:?}\n\n[[source]]\ntype = \"local\"\n\n[[source]]\nname = \"api\"\n\
         url = \"http://127.0.0.1:9/stats\"\n\n[[alert]]\nname = \"busy\"\nsource = \"local\"\nseries = \"cpu_pct\"\n\
         above = 90\n",
        s(&users)
    );
    std::fs::write(&config, toml).unwrap();
    let (ok, out, err) = check_config(&["--config", s(&config), "--data-dir", s(&data), "--tls-self-signed"]);
    assert!(ok, "{err}");
    assert!(out.starts_with("ok: 2 sources, 1 alert rule, 2 users in "), "{out}");
    assert!(out.contains(&format!("store {}", s(&data.join("history.db")))), "{out}");
    assert!(out.contains("TLS self-signed in") && out.contains("listen 127.0.0.1:9 (not bound)"), "{out}");
    assert!(!data.exists(), "check-config made the data directory");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_bad_line_in_the_config_file_is_named_by_file_and_line() {
    let dir = common::temp_dir("check-line");
    let config = dir.join("livedash.toml");
    std::fs::write(&config, "# dashboard\ninterval = \"1s\"\nhistory = 10m\n").unwrap();
    let (ok, out, err) = check_config(&["--config", s(&config), "--data-dir", s(&dir)]);
    assert!(!ok, "{out}");
    assert!(err.contains(&format!("--config {}: line 3, column 11:", s(&config))), "{err}");
    // An unknown key: its line too; a bad value: its key.
    std::fs::write(&config, "interval = \"1s\"\n\n[[source]]\nintervall = \"1s\"\n").unwrap();
    let (_, _, err) = check_config(&["--config", s(&config), "--data-dir", s(&dir)]);
    assert!(err.contains("line 4, column 1: unknown field `intervall`"), "{err}");
    std::fs::write(&config, "[[source]]\ninterval = \"1ms\"\n").unwrap();
    let (_, _, err) = check_config(&["--config", s(&config), "--data-dir", s(&dir)]);
    assert!(err.contains("`source[0].interval` = \"1ms\""), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn every_problem_is_named_not_only_the_first() {
    let dir = common::temp_dir("check-all");
    let users = dir.join("users");
    std::fs::write(&users, format!("alice:{}\nbob:secret\n", hash_password("a"))).unwrap();
    let cert = dir.join("cert.pem");
    std::fs::write(&cert, "not a certificate\n").unwrap();
    let missing_key = dir.join("key.pem");
    let not_a_dir = dir.join("file");
    std::fs::write(&not_a_dir, "").unwrap();
    let config = dir.join("livedash.toml");
    std::fs::write(
        &config,
        "history = \"10x\"\n\n[[source]]\nurl = \"ftp://x/\"\n\n[[alert]]\nname = \"a\"\nseries = \"cpu_pct\"\nabove = 90\nfor = \"ever\"\n",
    )
    .unwrap();
    let args = [
        "--config",
        s(&config),
        "--users-file",
        s(&users),
        "--tls-cert",
        s(&cert),
        "--tls-key",
        s(&missing_key),
        "--store",
        &format!("{}/history.db", s(&not_a_dir)),
        "--data-dir",
        s(&dir),
    ];
    let (ok, out, err) = check_config(&args);
    assert!(!ok, "{out}");
    assert!(err.contains("6 problems found"), "{err}");
    assert!(err.contains(&format!("--config {}: `history` = \"10x\"", s(&config))), "{err}");
    assert!(err.contains("`source[0].url`") && err.contains("`alert[0].for`"), "{err}");
    assert!(err.contains(&format!("users file {}, line 2:", s(&users))), "{err}");
    assert!(!err.contains("secret"), "the users file's content leaked: {err}");
    assert!(err.contains(&format!("--tls-cert file {}", s(&cert))), "{err}");
    assert!(err.contains(&format!("store {}/history.db", s(&not_a_dir))), "{err}");
    // A real certificate: its key missing, then another's key.
    livedash_server::tls::self_signed(&dir.join("one"), &[]).unwrap();
    livedash_server::tls::self_signed(&dir.join("two"), &[]).unwrap();
    let real_cert = dir.join("one/tls/cert.pem");
    let tls = |key: &Path| check_config(&["--tls-cert", s(&real_cert), "--tls-key", s(key), "--data-dir", s(&dir)]);
    let (ok, _, err) = tls(&missing_key);
    assert!(!ok && err.contains(&format!("cannot read --tls-key file {}", s(&missing_key))), "{err}");
    let (ok, _, err) = tls(&dir.join("two/tls/key.pem"));
    assert!(!ok && err.contains("does not match the certificate"), "{err}");
    let (ok, out, err) = tls(&dir.join("one/tls/key.pem"));
    assert!(ok && out.contains(&format!("TLS {}", s(&real_cert))), "{out} {err}");
    std::fs::remove_dir_all(dir).unwrap();
}
