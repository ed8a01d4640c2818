use super::*;

fn at(last: u8) -> Option<IpAddr> {
    Some(IpAddr::from([192, 0, 2, last]))
}

#[tokio::test]
async fn records_are_read_back_newest_first_and_the_previous_login_is_found() {
    let audit = Audit::default();
    audit.record_at(AuditEvent::new(AuditKind::Login, Some("ann"), at(1)).with("device", "Firefox on Linux"), 1_000);
    audit.record_at(AuditEvent::new(AuditKind::Silence, Some("ann"), at(1)).with("rule", "cpu"), 2_000);
    audit.record_at(AuditEvent::new(AuditKind::Login, Some("bob"), at(2)), 3_000);
    audit.record_at(AuditEvent::new(AuditKind::Login, Some("ann"), at(3)), 4_000);
    let kinds: Vec<_> = audit.recent(10).await.into_iter().map(|r| (r.ts_ms, r.kind)).collect();
    assert_eq!(
        kinds,
        [(4_000, "login".into()), (3_000, "login".into()), (2_000, "silence".into()), (1_000, "login".into())]
    );
    assert_eq!(audit.recent(1).await.len(), 1);
    // Ann's login before the one at 4 000 is the one at 1 000, from .1; with the detail kept.
    let last = audit.last_login("ann", 4_000).await.expect("a previous login");
    assert_eq!((last.ts_ms, last.addr.as_deref()), (1_000, Some("192.0.2.1")));
    assert_eq!(last.detail, r#"{"device":"Firefox on Linux"}"#);
    assert_eq!(audit.last_login("ann", 1_000).await, None, "no login before the first");
    assert_eq!(audit.last_login("carol", 9_000).await, None);
    let query = AuditQuery { kind: Some("login".into()), user: Some("bob".into()), limit: 5, ..AuditQuery::default() };
    assert_eq!(audit.query(query).await.len(), 1);
}

#[tokio::test]
async fn a_flood_of_failures_is_bounded_and_long_names_are_cut() {
    let audit = Audit::default();
    let long = "x".repeat(10_000);
    for _ in 0..100 {
        audit.record(AuditEvent::new(AuditKind::LoginFailed, Some(&long), at(9)));
    }
    let rows = audit.recent(MEMORY).await;
    assert_eq!(rows.len(), guard::PER_MINUTE as usize);
    assert!(rows.iter().all(|r| r.user.as_ref().is_some_and(|u| u.len() == MAX_USER)));
    assert_eq!(audit.unrecorded(), (100 - u64::from(guard::PER_MINUTE), 0));
}

#[test]
fn a_line_is_one_json_object_with_a_readable_time() {
    let row = AuditRow {
        ts_ms: 1_000,
        kind: "login_failed".into(),
        user: Some("a\nb\"c".into()),
        addr: Some("::1".into()),
        detail: r#"{"via":"basic"}"#.into(),
    };
    let line = file::line(&row);
    assert!(!line.contains('\n'));
    let v: serde_json::Value = serde_json::from_str(&line).expect("json");
    assert_eq!(v["time"], "1970-01-01T00:00:01.000Z");
    assert_eq!(v["user"], "a\nb\"c");
    assert_eq!(v["detail"]["via"], "basic");
}
