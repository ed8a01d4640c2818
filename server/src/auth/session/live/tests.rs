use super::*;
use crate::auth::principal::Role;

fn new(user: &str, remember: bool) -> NewSession {
    NewSession {
        user: Arc::from(user),
        role: Role::Admin,
        remember,
        device: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0".to_owned(),
        addr: "127.0.0.1".to_owned(),
        version: [7; 32],
    }
}

fn policy(idle: u64, lifetime: u64) -> SessionPolicy {
    SessionPolicy {
        idle: Duration::from_secs(idle),
        lifetime: Duration::from_secs(lifetime),
        remembered_idle: Duration::from_secs(lifetime),
        remembered_lifetime: Duration::from_secs(lifetime),
    }
}

#[tokio::test]
async fn a_session_is_found_by_its_secret_and_ends_once() {
    let sessions = Sessions::new(SessionPolicy::default());
    let (secret, made) = sessions.create(new("admin", false)).await;
    assert_eq!(secret.len(), 43, "256 random bits, base64url");
    assert_eq!(sessions.get(&secret).await.map(|s| s.handle), Some(made.handle));
    assert_eq!(sessions.get("not a session").await, None);
    let mut ended = sessions.ended();
    assert!(sessions.end(made.handle, EndReason::Logout).await.is_some());
    assert!(ended.has_changed().expect("open"), "sockets are told");
    ended.mark_unchanged();
    assert_eq!(sessions.get(&secret).await, None);
    assert!(!sessions.is_live(made.handle));
}

/// The monotonic clock `secs` seconds from now.
fn later(secs: u64) -> Instant {
    Instant::now() + Duration::from_secs(secs)
}

#[tokio::test]
async fn idle_and_lifetime_are_measured_on_the_monotonic_clock() {
    let sessions = Sessions::new(policy(60, 300));
    let (secret, _) = sessions.create(new("admin", false)).await;
    assert!(sessions.get_at(&secret, later(50)).await.is_some(), "used within its idle timeout");
    assert!(sessions.get_at(&secret, later(100)).await.is_some(), "each use pushes the idle deadline on");
    assert!(sessions.get_at(&secret, later(161)).await.is_none(), "idle too long");
    assert!(sessions.get(&secret).await.is_none(), "and ended");
    let (secret, _) = sessions.create(new("admin", false)).await;
    for step in 1..6 {
        assert!(sessions.get_at(&secret, later(step * 50)).await.is_some());
    }
    assert!(sessions.get_at(&secret, later(301)).await.is_none(), "past its lifetime, however used");
}

#[tokio::test]
async fn the_sweep_ends_expired_sessions_and_tells_the_sockets() {
    let sessions = Sessions::new(policy(10, 300));
    let (_, made) = sessions.create(new("admin", false)).await;
    let ended = sessions.ended();
    assert!(sessions.sweep().await.is_empty());
    assert_eq!(sessions.sweep_at(later(11)).await.len(), 1);
    assert!(ended.has_changed().expect("open"));
    assert!(!sessions.is_live(made.handle));
}

#[test]
fn loaded_sessions_keep_what_their_wall_labels_leave_them() {
    let sessions = Sessions::new(policy(3600, 86_400));
    let wall = now_ms();
    let row = |id: u8, created_ms: u64, seen_ms: u64| SessionRow {
        id: [id; 16],
        secret: [id; 32],
        user: "admin".to_owned(),
        role: "admin".to_owned(),
        remember: false,
        version: [0; 32],
        device: String::new(),
        addr: String::new(),
        created_ms,
        seen_ms,
    };
    let rows = vec![
        row(1, wall - 60_000, wall - 60_000),               // a minute old: kept
        row(2, wall - 2 * 3_600_000, wall - 2 * 3_600_000), // idle two hours: expired
        row(3, wall - 2 * 86_400_000, wall - 60_000),       // two days old: past its lifetime
        row(4, wall + 3_600_000, wall + 3_600_000),         // labelled in the future: counts as now
        SessionRow { role: "root".to_owned(), ..row(5, wall, wall) },
    ];
    assert_eq!(sessions.load(rows), 2);
    assert!(sessions.is_live(Handle([1; 16])) && sessions.is_live(Handle([4; 16])));
    assert!(!sessions.is_live(Handle([2; 16])) && !sessions.is_live(Handle([3; 16])));
}
