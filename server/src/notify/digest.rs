//! The digest sent when a channel's quiet hours end: what they held, as one [`Message`] of kind
//! [`Kind::Digest`]. An alert that fired inside them and still fires is one notice (its firing,
//! saying how long it has fired so far); one that fired and resolved inside them is ONE notice,
//! its resolution (which carries `started_at`, `resolved_at`, the peak and the duration); a
//! resolution of an alert whose firing was sent before they began is its own notice; an alert that
//! fired, resolved and fired again inside them is two notices. Nothing held is dropped: every
//! held notice is in the digest, alone or as half of a pair.

use sha2::{Digest as _, Sha256};

use super::message::{Kind, Message, Notice, Status};

/// The digest of `held` (the notices quiet hours held for one channel, oldest first); `None` when
/// nothing was held.
pub fn compose(held: Vec<Notice>) -> Option<Message> {
    // Each slot is a notice of the digest, in the order its alert began; a resolution takes the
    // slot of the latest firing of the same alert still open before it.
    let mut slots: Vec<Notice> = Vec::with_capacity(held.len());
    for notice in held {
        let open = match notice.status {
            Status::Resolved => slots.iter().rposition(|s| s.status == Status::Firing && same_alert(s, &notice)),
            Status::Firing => None,
        };
        match open {
            Some(i) => slots[i] = notice,
            None => slots.push(notice),
        }
    }
    (!slots.is_empty()).then_some(Message { kind: Kind::Digest, notices: slots })
}

/// A digest's own stable id, from the ids of what it holds (the same on every instance of a
/// cluster that held the same rows): the receivers' key to de-duplicate it, and the claims' key
/// with its channel. 32 hex digits, like an alert's.
pub fn key<'a>(held: impl IntoIterator<Item = &'a str>) -> String {
    let mut hash = Sha256::new();
    hash.update(b"digest");
    for id in held {
        hash.update([0x1f]);
        hash.update(id.as_bytes());
    }
    hash.finalize()[..16].iter().map(|b| format!("{b:02x}")).collect()
}

fn same_alert(a: &Notice, b: &Notice) -> bool {
    a.rule == b.rule && a.source == b.source && a.series == b.series
}

#[cfg(test)]
mod tests {
    use super::*;
    use livedash::alerts::Severity;

    fn notice(id: &str, status: Status, rule: &str, started: &str, resolved: Option<&str>) -> Notice {
        Notice {
            id: id.into(),
            status,
            rule: rule.into(),
            severity: Severity::Warning,
            source: "web".into(),
            series: Some("cpu".into()),
            value: Some(95.0),
            threshold: Some(90.0),
            started_at: started.into(),
            resolved_at: resolved.map(str::to_owned),
            peak: Some(99.0),
            duration_s: resolved.map(|_| 600),
            url: String::new(),
            silence_url: String::new(),
            summary: format!("{rule} on web"),
            reason: None,
        }
    }

    #[test]
    fn a_pair_is_one_notice_in_its_firings_place() {
        let held = vec![
            notice("f1", Status::Firing, "hot", "2026-12-05T23:00:00Z", None),
            notice("f2", Status::Firing, "disk", "2026-12-05T23:30:00Z", None),
            notice("r1", Status::Resolved, "hot", "2026-12-05T23:00:00Z", Some("2026-12-05T23:10:00Z")),
        ];
        let digest = compose(held).expect("a digest");
        assert_eq!(digest.kind, Kind::Digest);
        let ids: Vec<&str> = digest.notices.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["r1", "f2"], "the pair in its firing's place, then the one still firing");
        assert_eq!(digest.notices[0].resolved_at.as_deref(), Some("2026-12-05T23:10:00Z"));
        assert_eq!(digest.notices[0].duration_s, Some(600));
        assert_eq!(digest.notices[1].status, Status::Firing);
    }

    #[test]
    fn nothing_held_is_dropped_and_episodes_pair_in_order() {
        let held = vec![
            // Fired before the quiet hours (sent then): its resolution alone.
            notice("r0", Status::Resolved, "old", "2026-12-05T20:00:00Z", Some("2026-12-05T22:30:00Z")),
            notice("a1", Status::Firing, "hot", "2026-12-05T23:00:00Z", None),
            notice("b1", Status::Resolved, "hot", "2026-12-05T23:00:00Z", Some("2026-12-05T23:05:00Z")),
            notice("a2", Status::Firing, "hot", "2026-12-06T01:00:00Z", None),
            notice("b2", Status::Resolved, "hot", "2026-12-06T01:00:00Z", Some("2026-12-06T01:05:00Z")),
            notice("a3", Status::Firing, "hot", "2026-12-06T03:00:00Z", None),
        ];
        let digest = compose(held).expect("a digest");
        let ids: Vec<&str> = digest.notices.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["r0", "b1", "b2", "a3"]);
        assert!(compose(Vec::new()).is_none());
    }

    #[test]
    fn the_key_is_stable_for_the_same_rows() {
        assert_eq!(key(["a", "b"]), key(["a", "b"]));
        assert_ne!(key(["a", "b"]), key(["ab"]));
        assert_ne!(key(["a", "b"]), key(["b", "a"]));
        assert_eq!(key(["a"]).len(), 32);
    }
}
