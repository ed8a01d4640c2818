//! The claims' call sites, against a real store file and a real receiver: a delivery is claimed
//! before it is sent; only a claim this instance holds (or no cluster) sends; a 2xx marks it done
//! under the claim's token; what another instance delivered is closed `sent_elsewhere`; what
//! another instance holds waits, unsent.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use livedash::alerts::Severity;
use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::channel::{Channel, Target};
use super::claim::{Claimed, Claims, Pending};
use super::handle::Notifier;
use super::hooks::Plain;
use super::worker::{Db, Task};
use crate::store::outbox::Row;
use crate::store::outbox::{NewRow, read, write};

struct Fake {
    answers: HashMap<String, Claimed>,
    delivered_elsewhere: Vec<String>,
    done: Mutex<Vec<(String, u64)>>,
}

impl Claims for Fake {
    fn claim<'a>(&'a self, _source: &'a str, key: &'a str) -> Pending<'a, Claimed> {
        let answer = self.answers.get(key).cloned().unwrap_or(Claimed::Failed("unknown".into()));
        Box::pin(async move { answer })
    }

    fn done<'a>(&'a self, key: &'a str, token: u64) -> Pending<'a, Result<(), String>> {
        self.done.lock().push((key.to_owned(), token));
        Box::pin(async { Ok(()) })
    }

    fn is_done<'a>(&'a self, key: &'a str) -> Pending<'a, Result<bool, String>> {
        let done = self.delivered_elsewhere.iter().any(|k| k == key);
        Box::pin(async move { Ok(done) })
    }
}

fn row(key: &str) -> NewRow {
    NewRow {
        key: key.into(),
        channel: "ops".into(),
        kind: "alert".into(),
        event: None,
        rule: "busy".into(),
        // One source each: one message each.
        source: format!("src-{key}"),
        series: Some("v".into()),
        status: "firing".into(),
        severity: Severity::Warning,
        value: Some(95.0),
        peak: Some(95.0),
        threshold: None,
        reason: None,
        ts_ms: 1000,
        started_ms: Some(1000),
        state: "pending".into(),
        created_ms: 1000,
        parent: None,
        moved_from: None,
    }
}

/// A receiver answering 200 to every request; counts them.
async fn receiver() -> (String, Arc<Mutex<usize>>) {
    receiver_with("200 OK").await
}

/// A receiver answering `status` (`"500 Oops"`) to every request; counts them.
async fn receiver_with(status: &'static str) -> (String, Arc<Mutex<usize>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let got = Arc::new(Mutex::new(0));
    let count = got.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            *count.lock() += 1;
            let mut buf = vec![0u8; 65536];
            let _ = conn.read(&mut buf).await;
            let head = format!("HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
            let _ = conn.write_all(head.as_bytes()).await;
        }
    });
    (format!("http://{addr}/hook"), got)
}

#[tokio::test]
async fn only_a_claim_held_here_is_sent_and_marked_done_after_the_2xx() {
    let (config, conn) = crate::store::temp_store("notify-claims");
    for key in ["mine", "done", "held", "gone", "alone"] {
        write::insert(&conn, &row(key)).expect("row");
    }
    let answers = [
        ("mine/ops", Claimed::Mine(7)),
        ("done/ops", Claimed::Done),
        ("held/ops", Claimed::NotHolder),
        ("gone/ops", Claimed::NotHolder),
        ("alone/ops", Claimed::Alone),
    ];
    let fake = Arc::new(Fake {
        answers: answers.into_iter().map(|(k, a)| (k.to_owned(), a)).collect(),
        delivered_elsewhere: vec!["gone/ops".into()],
        done: Mutex::default(),
    });
    let (url, got) = receiver().await;
    let channel = Arc::new(Channel::new("ops", Target::webhook(&url)).expect("a channel"));
    let notifier = Notifier::with_store(vec![channel.clone()], Some(config.path.clone()));
    notifier.use_claims(fake.clone());
    let mut task = Task {
        notifier,
        index: 0,
        channel,
        db: Db::new(config.path.clone()),
        due: HashMap::new(),
        hooks: Arc::new(Plain),
        base: Arc::from("http://127.0.0.1:1"),
        alerts: None,
        resting: None,
    };
    let next = task.pass().await.expect("a pass");
    assert!(next.is_some_and(|t| t > Instant::now()), "the row held elsewhere is looked at again later");
    let state: HashMap<String, (String, u32)> =
        read::recent(&conn, None, 10).expect("rows").into_iter().map(|r| (r.key, (r.state, r.attempts))).collect();
    let of = |k: &str| (state[k].0.as_str(), state[k].1);
    assert_eq!(of("mine"), ("sent", 1));
    assert_eq!(of("alone"), ("sent", 1), "no cluster now: sent as without one");
    assert_eq!(of("done"), ("sent_elsewhere", 0));
    assert_eq!(of("gone"), ("sent_elsewhere", 0), "a follower closes what the claims say was sent");
    assert_eq!(of("held"), ("pending", 0), "not this instance's to send");
    assert_eq!(*got.lock(), 2, "two sends");
    assert_eq!(*fake.done.lock(), [("mine/ops".to_owned(), 7)], "done under the claim's token, after the 2xx");
}

/// A task for `channel` on the store at `path`, without claims or alerts.
fn task_for(channel: Channel, path: &std::path::Path) -> Task {
    let channel = Arc::new(channel);
    Task {
        notifier: Notifier::with_store(vec![channel.clone()], Some(path.to_owned())),
        index: 0,
        channel,
        db: Db::new(path.to_owned()),
        due: HashMap::new(),
        hooks: Arc::new(Plain),
        base: Arc::from("http://127.0.0.1:1"),
        alerts: None,
        resting: None,
    }
}

/// Passes once more with every open row due now.
async fn again(task: &mut Task) {
    for t in task.due.values_mut() {
        *t = Instant::now();
    }
    task.resting = None;
    task.pass().await.expect("a pass");
}

fn only(conn: &rusqlite::Connection) -> Vec<Row> {
    let mut rows = read::recent(conn, None, 10).expect("rows");
    rows.reverse();
    rows
}

#[tokio::test]
async fn after_fallback_after_failures_the_fallback_takes_over_and_without_one_24_h_give_up() {
    let (config, conn) = crate::store::temp_store("notify-fallback-after");
    write::insert(&conn, &row("k")).expect("row");
    let (url, got) = receiver_with("503 Busy").await;
    let mut ops = Channel::new("ops", Target::webhook(&url)).expect("a channel");
    (ops.fallback, ops.fallback_after) = (Some(Arc::from("mail")), 2);
    let mut task = task_for(ops, &config.path);
    task.pass().await.expect("a pass");
    let rows = only(&conn);
    assert_eq!((rows[0].state.as_str(), rows[0].failures), ("pending", 1), "tried again later");
    assert!(rows[0].last.as_deref().is_some_and(|l| l.contains("503")), "{:?}", rows[0].last);
    again(&mut task).await;
    let rows = only(&conn);
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].state.as_str(), rows[0].failures), ("moved", 2), "moved after fallback_after = 2");
    assert_eq!((rows[1].channel.as_str(), rows[1].key.as_str(), rows[1].state.as_str()), ("mail", "k", "pending"));
    assert_eq!(*got.lock(), 2);

    // No fallback: a delivery that has waited nearly 24 h in all is given up at its next failure.
    let (config, conn) = crate::store::temp_store("notify-give-up");
    write::insert(&conn, &row("k")).expect("row");
    conn.execute("UPDATE notify_outbox SET waited_ms = 86399000, failures = 20", []).expect("waited");
    let mut task = task_for(Channel::new("ops", Target::webhook(&url)).expect("a channel"), &config.path);
    task.pass().await.expect("a pass");
    let rows = only(&conn);
    assert_eq!(rows[0].state, "failed");
    assert!(rows[0].last.as_deref().is_some_and(|l| l.contains("24 h")), "{:?}", rows[0].last);
}

#[tokio::test]
async fn a_refusal_without_fallback_is_done_in_the_cluster_and_one_moved_to_a_fallback_is_not() {
    let (url, _) = receiver_with("400 Bad").await;
    for fallback in [None, Some("mail")] {
        let (config, conn) = crate::store::temp_store("notify-refused-done");
        write::insert(&conn, &row("k")).expect("row");
        let fake = Arc::new(Fake {
            answers: [("k/ops".to_owned(), Claimed::Mine(3))].into_iter().collect(),
            delivered_elsewhere: Vec::new(),
            done: Mutex::default(),
        });
        let mut ops = Channel::new("ops", Target::webhook(&url)).expect("a channel");
        ops.fallback = fallback.map(Arc::from);
        let mut task = task_for(ops, &config.path);
        task.notifier.use_claims(fake.clone());
        task.pass().await.expect("a pass");
        assert_eq!(only(&conn)[0].state, "failed");
        let done = fake.done.lock().clone();
        match fallback {
            None => assert_eq!(done, [("k/ops".to_owned(), 3)], "given up for good: no one tries it again"),
            Some(_) => assert!(done.is_empty(), "moved: the next holder would move it again"),
        }
    }
}

#[tokio::test]
async fn a_receiver_that_is_down_gets_one_try_per_pass_not_one_per_open_row() {
    let (config, conn) = crate::store::temp_store("notify-resting");
    for key in ["a", "b", "c", "d", "e"] {
        write::insert(&conn, &row(key)).expect("row");
    }
    let (url, got) = receiver_with("503 Busy").await;
    let mut task = task_for(Channel::new("ops", Target::webhook(&url)).expect("a channel"), &config.path);
    let next = task.pass().await.expect("a pass");
    assert_eq!(*got.lock(), 1, "five messages due, one try: the channel rests after the failure");
    let failures = |conn| only(conn).iter().map(|r| r.failures).collect::<Vec<u32>>();
    assert_eq!(failures(&conn), [1, 0, 0, 0, 0], "the oldest was tried, the others wait their turn");
    let rest = task.resting.expect("resting");
    assert!(next.is_some_and(|t| t >= rest), "nothing is due before the rest ends");
    task.pass().await.expect("a pass during the rest (a new alert woke the task)");
    assert_eq!(
        failures(&conn),
        [1, 1, 0, 0, 0],
        "during the rest one row never tried goes, as a probe; a failed one waits"
    );
    again(&mut task).await;
    assert_eq!(*got.lock(), 3, "after the rest: one try, the rest again");

    // A probe that goes through ends the rest: everything due goes.
    let (config, conn) = crate::store::temp_store("notify-resting-ends");
    for key in ["a", "b", "c"] {
        write::insert(&conn, &row(key)).expect("row");
    }
    let (url, got) = receiver_with("400 Bad").await;
    let mut task = task_for(Channel::new("ops", Target::webhook(&url)).expect("a channel"), &config.path);
    task.resting = Some(Instant::now() + std::time::Duration::from_secs(60));
    task.pass().await.expect("a pass");
    assert_eq!(task.resting, None, "an answer, even a refusal, says the receiver is up");
    assert_eq!(*got.lock(), 3);
}
