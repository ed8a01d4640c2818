//! Tests of the watch with a real file in a temporary directory: each edit as people and tools
//! make them (in place, by rename, delete and recreate, a symlink swapped), a corrupt file and
//! its repair, each seen within 2 s; and the poll alone, as on a file system without inotify.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::watch;

use super::watch::{TargetsState, TargetsWatch, WatchOptions};
use crate::shutdown::{self, Switch};

/// How soon a change must be seen.
const SEEN_WITHIN: Duration = Duration::from_secs(2);

fn temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("livedash-targets-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn names(state: &TargetsState) -> Vec<String> {
    state.targets.iter().map(|t| t.name.to_string()).collect()
}

/// Waits until the state satisfies `ok`, at most [`SEEN_WITHIN`].
async fn until(rx: &mut watch::Receiver<TargetsState>, what: &str, ok: impl Fn(&TargetsState) -> bool) -> TargetsState {
    let wait = async {
        loop {
            let state = rx.borrow_and_update().clone();
            if ok(&state) {
                return state;
            }
            rx.changed().await.expect("the watch runs");
        }
    };
    match tokio::time::timeout(SEEN_WITHIN, wait).await {
        Ok(state) => state,
        Err(_) => panic!("{what}: not seen within {SEEN_WITHIN:?}; the state is {:?}", rx.borrow()),
    }
}

fn yaml(hosts: &[&str]) -> String {
    format!("- targets: [{}]\n  labels: {{env: test}}\n", hosts.join(", "))
}

/// Replaces `path` by writing a new file beside it and renaming it over, as vim and ansible do.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("yml.tmp");
    std::fs::write(&tmp, text).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

async fn start(path: &Path, options: WatchOptions) -> (TargetsWatch, Switch) {
    let (switch, shutdown) = shutdown::channel();
    let watch = TargetsWatch::start(path.to_owned(), options, shutdown).await.expect("a good file starts");
    (watch, switch)
}

#[tokio::test]
async fn every_kind_of_edit_is_seen_and_a_bad_file_keeps_the_last_good_set() {
    let dir = temp_dir("edits");
    let path = dir.join("targets.yml");
    std::fs::write(&path, yaml(&["a:1"])).expect("write");
    // A poll far away: what is seen here is seen through inotify.
    let (watch, switch) =
        start(&path, WatchOptions { poll: Duration::from_secs(600), ..WatchOptions::default() }).await;
    let mut rx = watch.subscribe();
    let first = watch.state();
    assert_eq!((names(&first), first.changes, first.error.clone()), (vec!["a:1".to_owned()], 0, None));

    std::fs::write(&path, yaml(&["a:1", "b:1"])).expect("edit in place");
    let s = until(&mut rx, "an edit in place", |s| names(s) == ["a:1", "b:1"]).await;
    assert_eq!(s.changes, 1);
    assert!(s.loaded > first.loaded);

    replace(&path, &yaml(&["a:1", "b:1", "c:1"]));
    until(&mut rx, "a replacement by rename", |s| names(s) == ["a:1", "b:1", "c:1"]).await;

    std::fs::remove_file(&path).expect("delete");
    let s = until(&mut rx, "a deletion", |s| s.error.is_some()).await;
    assert_eq!(names(&s), ["a:1", "b:1", "c:1"], "the last good set is kept");
    assert!(s.error.as_deref().is_some_and(|e| e.contains("cannot be read")), "{:?}", s.error);

    std::fs::write(&path, yaml(&["x:1"])).expect("recreate");
    let s = until(&mut rx, "a recreation", |s| names(s) == ["x:1"]).await;
    assert_eq!((s.error.clone(), s.changes), (None, 3));

    std::fs::write(&path, "- targets:\n  - x:1\n  - 'bad host:1'\n").expect("corrupt");
    let s = until(&mut rx, "a corrupt file", |s| s.error.is_some()).await;
    assert_eq!(names(&s), ["x:1"], "the last good set is kept");
    let error = s.error.clone().unwrap_or_default();
    assert!(error.contains("targets.yml, line 3, column 5: target \"bad host:1\""), "{error}");

    replace(&path, &yaml(&["x:1"]));
    let s = until(&mut rx, "the repair", |s| s.error.is_none()).await;
    assert_eq!((names(&s), s.changes), (vec!["x:1".to_owned()], 3), "the same set again is no change");

    switch.stop();
    tokio::time::timeout(SEEN_WITHIN, watch.stopped()).await.expect("the watch stops with the shutdown");
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[tokio::test]
async fn a_symlink_swapped_over_the_file_is_seen() {
    // The way Kubernetes updates a mounted ConfigMap: the file is a link through `..data`, and a
    // new `..data` link is renamed over the old; no event names the file itself.
    let dir = temp_dir("symlink");
    for (version, hosts) in [("v1", ["a:1"]), ("v2", ["b:1"])] {
        std::fs::create_dir(dir.join(version)).expect("dir");
        std::fs::write(dir.join(version).join("targets.yml"), yaml(&hosts)).expect("write");
    }
    std::os::unix::fs::symlink("v1", dir.join("..data")).expect("link");
    std::os::unix::fs::symlink("..data/targets.yml", dir.join("targets.yml")).expect("link");
    let (watch, switch) =
        start(&dir.join("targets.yml"), WatchOptions { poll: Duration::from_secs(600), ..WatchOptions::default() })
            .await;
    let mut rx = watch.subscribe();
    assert_eq!(names(&watch.state()), ["a:1"]);
    std::os::unix::fs::symlink("v2", dir.join("..data_tmp")).expect("link");
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).expect("swap");
    until(&mut rx, "a swapped link", |s| names(s) == ["b:1"]).await;
    switch.stop();
    watch.stopped().await;
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[tokio::test]
async fn without_inotify_the_poll_sees_changes() {
    let dir = temp_dir("poll");
    let path = dir.join("targets.json");
    std::fs::write(&path, r#"[{"targets": ["a:1"]}]"#).expect("write");
    let options = WatchOptions { poll: Duration::from_millis(300), inotify: false, ..WatchOptions::default() };
    let (watch, switch) = start(&path, options).await;
    let mut rx = watch.subscribe();
    std::fs::write(path.with_extension("tmp"), r#"[{"targets": ["a:1", "b:1"]}]"#).expect("write");
    std::fs::rename(path.with_extension("tmp"), &path).expect("rename");
    until(&mut rx, "a replacement, polled", |s| names(s) == ["a:1", "b:1"]).await;
    std::fs::write(&path, "[{\"targets\": [\"a:1\"],\n \"labels\": {\"__scheme__\": \"ftp\"}}]").expect("corrupt");
    let s = until(&mut rx, "a corrupt file, polled", |s| s.error.is_some()).await;
    assert!(s.error.as_deref().is_some_and(|e| e.contains("line 2")), "{:?}", s.error);
    switch.stop();
    watch.stopped().await;
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[tokio::test]
async fn a_bad_file_at_the_start_is_an_error_naming_its_line() {
    let dir = temp_dir("start");
    let path = dir.join("targets.yml");
    std::fs::write(&path, "- targets:\n  - a:1\n  - a:1\n").expect("write");
    let (_switch, shutdown) = shutdown::channel();
    let e = TargetsWatch::start(path.clone(), WatchOptions::default(), shutdown).await.err().expect("refused");
    assert_eq!(e.at.map(|at| at.line), Some(3), "{e}");
    std::fs::remove_dir_all(&dir).expect("clean up");
}
