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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let got = Arc::new(Mutex::new(0));
    let count = got.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            *count.lock() += 1;
            let mut buf = vec![0u8; 65536];
            let _ = conn.read(&mut buf).await;
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok").await;
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
