//! The outbox's rows: which changes notify, what was last told, tries, the fallback.

use std::sync::Arc;

use livedash::alerts::{AlertEvent, AlertState, Severity};

use super::read::{self, Row};
use super::stable_id;
use super::write::{self, Outgoing};
use crate::store::alerts::{AlertWrite, write as write_alerts};

fn event(to: AlertState, ts_ms: u64, value: f64) -> AlertEvent {
    AlertEvent {
        id: 0,
        rule: Arc::from("busy"),
        source: Arc::from("up"),
        series: Some(Arc::from("v")),
        from: AlertState::Pending,
        to,
        value: Some(value),
        peak: Some(value),
        ts_ms,
        severity: Severity::Critical,
        token: 0,
    }
}

fn to(channels: &[&str], silenced: bool) -> Outgoing {
    Outgoing { channels: channels.iter().map(|c| Arc::from(*c)).collect(), threshold: None, reason: None, silenced }
}

fn rows(conn: &rusqlite::Connection) -> Vec<Row> {
    let mut all = read::recent(conn, None, 100).expect("rows");
    all.reverse();
    all
}

#[test]
fn a_new_episodes_firing_and_its_resolution_notify_each_channel_once() {
    let (_config, conn) = crate::store::temp_store("outbox-which");
    let both = to(&["ops", "mail"], false);
    let writes = [
        AlertWrite::Event(event(AlertState::Pending, 1000, 91.0), both.clone()),
        AlertWrite::Event(event(AlertState::Firing, 2000, 95.0), both.clone()),
        // The same episode seen firing again (after no data, a restart): not a new message.
        AlertWrite::Event(event(AlertState::Firing, 2500, 96.0), both.clone()),
        AlertWrite::Event(event(AlertState::Resolved, 4000, 40.0), both.clone()),
        AlertWrite::Event(event(AlertState::Ok, 4000, 40.0), both.clone()),
    ];
    assert_eq!(write_alerts(&conn, &writes, 10).expect("written"), 4);
    let all = rows(&conn);
    let seen: Vec<(&str, &str, &str)> =
        all.iter().map(|r| (r.channel.as_str(), r.status.as_str(), r.state.as_str())).collect();
    assert_eq!(
        seen,
        [
            ("ops", "firing", "pending"),
            ("mail", "firing", "pending"),
            ("ops", "resolved", "pending"),
            ("mail", "resolved", "pending")
        ]
    );
    assert_eq!(all[0].key, stable_id("busy", "up", Some("v"), "firing", 2000));
    assert_eq!(all[0].key, all[1].key, "the same id on every channel");
    assert_eq!((all[2].started_ms, all[2].ts_ms), (Some(2000), 4000), "started at the episode's firing");
    assert!(all[0].event.is_some());
    // A silenced episode: shown, not sent; its resolution is not told.
    let silenced = to(&["ops"], true);
    let writes = [
        AlertWrite::Event(event(AlertState::Firing, 5000, 95.0), silenced.clone()),
        AlertWrite::Event(event(AlertState::Resolved, 6000, 40.0), to(&["ops"], false)),
        AlertWrite::Event(event(AlertState::Firing, 7000, 95.0), to(&["ops"], false)),
    ];
    assert_eq!(write_alerts(&conn, &writes, 10).expect("written"), 2);
    let all = rows(&conn);
    let tail: Vec<(u64, &str)> = all[4..].iter().map(|r| (r.ts_ms, r.state.as_str())).collect();
    assert_eq!(tail, [(5000, "silenced"), (7000, "pending")]);
    assert_ne!(stable_id("busy", "up", Some("v"), "firing", 2000), stable_id("busy", "up", Some("v"), "firing", 2001));
}

#[test]
fn tries_are_counted_and_a_fallback_takes_over_with_the_same_key() {
    let (_config, conn) = crate::store::temp_store("outbox-tries");
    write_alerts(&conn, &[AlertWrite::Event(event(AlertState::Firing, 2000, 95.0), to(&["ops"], false))], 10)
        .expect("written");
    let row = read::open(&conn, "ops").expect("open").remove(0);
    write::retry(&conn, &[row.id], "500 oops", 1000, 99).expect("retry");
    let again = read::get(&conn, row.id).expect("read").expect("there");
    assert_eq!((again.attempts, again.failures, again.waited_ms, again.next_ms), (1, 1, 1000, Some(99)));
    let moved = write::move_to(&conn, row.id, "mail", "failed", "400 bad", 50).expect("moved").expect("new row");
    let old = read::get(&conn, row.id).expect("read").expect("there");
    assert_eq!((old.state.as_str(), old.last.as_deref()), ("failed", Some("400 bad")));
    let new = read::get(&conn, moved).expect("read").expect("there");
    assert_eq!((new.channel.as_str(), new.key.as_str(), new.state.as_str()), ("mail", row.key.as_str(), "pending"));
    assert_eq!(new.moved_from.as_deref(), Some("ops"));
    assert_eq!(read::given_up(&conn, 10).expect("given up").len(), 1);
    write::sent(&conn, &[moved], "200 ok", 60).expect("sent");
    assert!(read::open(&conn, "mail").expect("open").is_empty());
    assert_eq!(read::waiting(&conn).expect("counts"), Vec::<(String, u64)>::new());
}

#[test]
fn a_file_at_schema_4_gets_the_outbox_in_one_step_and_keeps_its_events() {
    let (config, conn) = crate::store::temp_store("outbox-migrate");
    write_alerts(&conn, &[AlertWrite::Event(event(AlertState::Firing, 2000, 95.0), to(&[], false))], 10)
        .expect("event");
    conn.execute_batch("DROP TABLE notify_outbox; PRAGMA user_version = 4;").expect("back to 4");
    drop(conn);
    let conn = crate::store::db::open_writer(&config.path).expect("migrated");
    assert_eq!(crate::store::migrate::version(&conn).expect("version"), crate::store::migrate::VERSION);
    assert!(read::ready(&conn).expect("the table"));
    assert_eq!(crate::store::alerts::count_events(&conn, AlertState::Firing).expect("kept"), 1);
}

#[test]
fn an_event_whose_write_meets_a_busy_file_is_written_once_the_file_is_free() {
    let config = crate::store::StoreConfig::temporary("outbox-busy");
    let store = crate::store::Store::start(config.clone());
    store.flush();
    let other = rusqlite::Connection::open(&config.path).expect("open");
    other.execute_batch("BEGIN EXCLUSIVE").expect("locked");
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(3));
        other.execute_batch("COMMIT").expect("unlocked");
    });
    store.alert(AlertWrite::Event(event(AlertState::Firing, 2000, 95.0), to(&["ops"], false)));
    release.join().expect("released");
    // The write that met the lock (2 s of busy timeout) is tried again with the next batch.
    std::thread::sleep(std::time::Duration::from_secs(2));
    store.flush();
    let conn = crate::store::db::open_reader(&config.path).expect("read");
    assert_eq!(crate::store::alerts::count_events(&conn, AlertState::Firing).expect("counted"), 1);
    assert_eq!(read::open(&conn, "ops").expect("rows").len(), 1, "with its notification");
    store.stop();
}
