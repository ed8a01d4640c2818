//! The real binary with `--targets-file`: a bad file stops the start with a message naming the
//! file and the line; a good one (or the same file through `LIVEDASH_TARGETS_FILE`) lets it
//! serve.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{free_addr, livedash, temp_dir, wait_listening};

#[tokio::test]
async fn a_bad_targets_file_stops_the_start_naming_its_line() {
    let dir = temp_dir("targets-bad");
    let file = dir.join("targets.yml");
    std::fs::write(&file, "- targets:\n  - web1:9100\n  - web2:9100\n  labels:\n    env prod: x\n").unwrap();
    let mut command = livedash(free_addr(), &dir);
    command.arg("--targets-file").arg(&file).stderr(Stdio::piped());
    let out = tokio::time::timeout(Duration::from_secs(20), command.output()).await.expect("exits").unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{log}");
    let expected = format!("targets file {}, line 5, column 5: label \"env prod\"", file.display());
    assert!(log.contains(&expected), "{log}");
}

#[tokio::test]
async fn a_good_targets_file_from_the_variable_lets_it_serve() {
    let dir = temp_dir("targets-good");
    let file = dir.join("targets.json");
    std::fs::write(&file, r#"[{"targets": ["127.0.0.1:9", "livedash:127.0.0.1:10"], "labels": {"env": "test"}}]"#)
        .unwrap();
    let addr = free_addr();
    let mut child = livedash(addr, &dir).env("LIVEDASH_TARGETS_FILE", &file).spawn().unwrap();
    assert!(wait_listening(addr, Duration::from_secs(20)).await, "the server came up");
    child.kill().await.unwrap();
}
