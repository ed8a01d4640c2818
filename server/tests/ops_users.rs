//! `livedash users` against the real binary serving on loopback: the command edits the users file
//! of a running server (its other lines and mode 0600 kept) and tells the server itself, through
//! the PID file the server keeps in its data directory (or systemd's runtime directory), so the
//! change takes effect with no manual SIGHUP; the PID file goes at a clean stop.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use livedash_server::auth::password::hash_password;
use tokio::io::AsyncWriteExt;

use common::{basic, get_from};

/// `livedash users ARGS` with `stdin` as its standard input: (success, stdout, stderr).
async fn users(args: &[&str], stdin: &str, env: &[(&str, &Path)]) -> (bool, String, String) {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_livedash"));
    command.arg("users").args(args).env_remove("RUNTIME_DIRECTORY").env_remove("LIVEDASH_USERS_FILE");
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).await.unwrap();
    let out = child.wait_with_output().await.unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).trim().to_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

/// The status of `/api/health` for `user:pass`, once it is `want` (within 5 s), else the last one.
/// Each try comes from another loopback address: the tries that fail while the server reloads
/// would otherwise spend the (address, user) login budget, 5 a minute, and turn into 429s.
async fn status_becomes(addr: std::net::SocketAddr, user: &str, pass: &str, want: u16) -> u16 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let mut last = 0;
    for _ in 0..50 {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let from = std::net::Ipv4Addr::new(127, 1, (n / 250) as u8, (n % 250 + 2) as u8);
        last = get_from(from.into(), addr, "/api/health", &[("Authorization", &basic(user, pass))]).await.0;
        if last == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

/// The binary on a free port with the users file `users`, data directory `dir` and the
/// environment `env`; the PID file it writes is awaited at `pid_file`.
async fn serve(
    users: &Path,
    dir: &Path,
    env: &[(&str, &Path)],
    pid_file: &Path,
) -> (tokio::process::Child, std::net::SocketAddr) {
    let addr = common::free_addr();
    let mut command = common::livedash(addr, dir);
    command
        .env_remove("LIVEDASH_ADMIN_PASSWORD")
        .env_remove("RUNTIME_DIRECTORY")
        .args(["--login-attempts-per-ip", "1000", "--login-attempts-per-user", "1000"])
        .arg("--users-file")
        .arg(users);
    for (name, value) in env {
        command.env(name, value);
    }
    let child = command.spawn().expect("spawn livedash");
    assert!(common::wait_listening(addr, Duration::from_secs(20)).await, "the binary did not start listening");
    let pid = child.id().unwrap();
    let mut written = None;
    for _ in 0..100 {
        written = std::fs::read_to_string(pid_file).ok().filter(|t| !t.is_empty());
        if written.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(written.as_deref().map(str::trim), Some(pid.to_string().as_str()), "PID file {}", pid_file.display());
    (child, addr)
}

/// SIGTERM, a clean exit, and the PID file gone.
async fn stop(mut child: tokio::process::Child, pid_file: &Path) {
    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let exit = tokio::time::timeout(Duration::from_secs(10), child.wait()).await.expect("exits").unwrap();
    assert!(exit.success(), "{exit:?}");
    assert!(!pid_file.exists(), "the PID file {} outlived a clean stop", pid_file.display());
}

#[tokio::test]
async fn users_add_passwd_remove_reach_the_running_server_without_a_manual_sighup() {
    let dir = common::temp_dir("ops-users");
    let file = dir.join("users");
    std::fs::write(&file, format!("# the team\nadmin:{}\n", hash_password("a-pw"))).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let pid_file = dir.join("livedash.pid");
    let (child, addr) = serve(&file, &dir, &[], &pid_file).await;
    let pid = child.id().unwrap();
    assert_eq!(status_becomes(addr, "carol", "c-pw", 401).await, 401);

    let at = ["--users-file", file.to_str().unwrap(), "--data-dir", dir.to_str().unwrap()];
    let (ok, out, err) = users(&[&["add", "carol", "--password-stdin"][..], &at[..]].concat(), "c-pw\n", &[]).await;
    assert!(ok, "{err}");
    assert_eq!(out, "", "nothing on standard output, the password least of all");
    assert!(err.contains(&format!("SIGHUP to process {pid}")), "{err}");
    assert!(!err.contains("c-pw"), "{err}");
    assert_eq!(status_becomes(addr, "carol", "c-pw", 200).await, 200, "the new user cannot log in");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("# the team\nadmin:$argon2id$") && text.contains("\ncarol:$argon2id$"), "{text}");
    assert_eq!(std::fs::metadata(&file).unwrap().mode() & 0o777, 0o600);

    let (ok, _, err) = users(&[&["passwd", "carol", "--password-stdin"][..], &at[..]].concat(), "c-pw2\n", &[]).await;
    assert!(ok, "{err}");
    assert_eq!(status_becomes(addr, "carol", "c-pw2", 200).await, 200, "the new password does not work");
    assert_eq!(status_becomes(addr, "carol", "c-pw", 401).await, 401, "the old password still works");

    // --generate prints the password alone.
    let (ok, out, err) =
        users(&[&["add", "wall", "--generate", "--role", "viewer"][..], &at[..]].concat(), "", &[]).await;
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert_eq!(status_becomes(addr, "wall", &out, 200).await, 200, "the generated password does not work");

    let (ok, _, err) = users(&[&["remove", "carol"][..], &at[..]].concat(), "", &[]).await;
    assert!(ok, "{err}");
    assert_eq!(status_becomes(addr, "carol", "c-pw2", 401).await, 401, "a removed user still gets in");
    let (ok, _, err) = users(&[&["remove", "admin"][..], &at[..]].concat(), "", &[]).await;
    assert!(!ok && err.contains("last admin"), "{err}");
    let (ok, out, _) = users(&[&["list"][..], &at[..]].concat(), "", &[]).await;
    assert!(ok);
    assert_eq!(out, "admin\tadmin\nwall\tviewer");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("# the team\nadmin:") && !text.contains("carol"), "{text}");
    assert_eq!(std::fs::metadata(&file).unwrap().mode() & 0o777, 0o600);

    stop(child, &pid_file).await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn the_pid_file_is_in_systemds_runtime_directory_when_it_gives_one() {
    let dir = common::temp_dir("ops-runtime");
    let run = dir.join("run");
    std::fs::create_dir_all(&run).unwrap();
    let file = dir.join("users");
    std::fs::write(&file, format!("admin:{}\n", hash_password("a-pw"))).unwrap();
    let env = [("RUNTIME_DIRECTORY", run.as_path())];
    let (child, addr) = serve(&file, &dir.join("data"), &env, &run.join("livedash.pid")).await;
    assert!(!dir.join("data").join("livedash.pid").exists());
    // The users file found through the config file's `users_file`, the server through the runtime
    // directory given to the command too.
    let config = dir.join("config.toml");
    std::fs::write(&config, format!("users_file = {:?}\n", file.to_str().unwrap())).unwrap();
    let args = ["add", "dora", "--password-stdin", "--config", config.to_str().unwrap(), "--data-dir", "/nonexistent"];
    let (ok, _, err) = users(&args, "d-pw\n", &env).await;
    assert!(ok, "{err}");
    assert!(err.contains(&format!("SIGHUP to process {}", child.id().unwrap())), "{err}");
    assert_eq!(status_becomes(addr, "dora", "d-pw", 200).await, 200);
    stop(child, &run.join("livedash.pid")).await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_stale_pid_file_naming_another_program_gets_no_signal() {
    let dir = common::temp_dir("ops-stale");
    let file = dir.join("users");
    std::fs::write(&file, format!("admin:{}\n", hash_password("a-pw"))).unwrap();
    // SIGHUP would end `sleep`: it must survive.
    let mut other = tokio::process::Command::new("sleep").arg("30").kill_on_drop(true).spawn().unwrap();
    std::fs::write(dir.join("livedash.pid"), format!("{}\n", other.id().unwrap())).unwrap();
    let at = ["--users-file", file.to_str().unwrap(), "--data-dir", dir.to_str().unwrap()];
    let (ok, _, err) = users(&[&["add", "eve", "--password-stdin"][..], &at[..]].concat(), "e-pw\n", &[]).await;
    assert!(ok, "{err}");
    assert!(err.contains("which is not a running livedash") && err.contains("must be told"), "{err}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(other.try_wait().unwrap().is_none(), "the other program was signalled");
    // --no-reload: not a word about the server.
    let (ok, _, err) = users(&[&["remove", "eve", "--no-reload"][..], &at[..]].concat(), "", &[]).await;
    assert!(ok && !err.contains("server"), "{err}");
    other.kill().await.unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn commands_run_at_once_lose_no_change() {
    let dir = common::temp_dir("ops-race");
    let file = dir.join("users");
    std::fs::write(&file, format!("admin:{}\n", hash_password("a-pw"))).unwrap();
    let path = file.to_str().unwrap().to_owned();
    let runs = (0..12).map(|i| {
        let path = path.clone();
        async move {
            let name = format!("user{i}");
            users(&["add", &name, "--password-stdin", "--no-reload", "--users-file", &path], "pw\n", &[]).await
        }
    });
    for (ok, _, err) in futures_util::future::join_all(runs).await {
        assert!(ok, "{err}");
    }
    let users = livedash_server::auth::Users::load(&file).unwrap();
    assert_eq!(users.len(), 13, "changes were lost: {:?}", users.names().collect::<Vec<_>>());
    std::fs::remove_dir_all(dir).unwrap();
}
