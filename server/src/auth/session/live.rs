//! [`Sessions`]: the sessions in force, in memory for the requests' path, written through to
//! every [`Keep`]. Each session's deadlines are instants of the monotonic clock: its end of life
//! (set once, when it is made or loaded) and its idle deadline (pushed on at every use).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use parking_lot::RwLock;
use sha2::Digest;
use tokio::sync::watch;
use tokio::time::Instant;

use super::keep::{Keep, row_of, session_of};
use super::model::{EndReason, NewSession, Session, SessionPolicy};
use crate::auth::principal::Handle;
use crate::clock::now_ms;
use crate::store::auth::sessions::SessionRow;

/// How often a session's use is written through (its `seen_ms`), at most.
pub const NOTE_EVERY: Duration = Duration::from_secs(60);

/// A live session and its deadlines.
struct Entry {
    session: Session,
    /// Its lifetime ends here.
    ends: Instant,
    /// Unused until here, it ends.
    idle_until: Instant,
    /// When its use was last written through.
    noted: Instant,
}

/// The sessions in force.
pub struct Sessions {
    policy: SessionPolicy,
    live: RwLock<HashMap<Handle, Entry>>,
    ended: watch::Sender<u64>,
    keeps: RwLock<Vec<Arc<dyn Keep>>>,
}

/// SHA-256 of a cookie's value: what the keeps hold (its first 16 bytes are the handle).
fn digest(secret: &str) -> [u8; 32] {
    sha2::Sha256::digest(secret.as_bytes()).into()
}

impl Sessions {
    /// No sessions yet, under `policy`, kept in memory only.
    pub fn new(policy: SessionPolicy) -> Self {
        Self { policy, live: RwLock::new(HashMap::new()), ended: watch::channel(0).0, keeps: RwLock::default() }
    }

    /// The policy in force.
    pub fn policy(&self) -> SessionPolicy {
        self.policy
    }

    /// Writes every later change through to `keep` too.
    pub fn keep_in(&self, keep: Arc<dyn Keep>) {
        self.keeps.write().push(keep);
    }

    fn keeps(&self) -> Vec<Arc<dyn Keep>> {
        self.keeps.read().clone()
    }

    /// The end of life and idle deadline of a session made at `created_ms` and last used at
    /// `seen_ms` (wall labels), as of `now`/`now_ms`; `None` when its time is up. A label in the
    /// future counts as now.
    fn deadlines(&self, s: &Session, now: Instant, now_ms: u64) -> Option<(Instant, Instant)> {
        let (idle, lifetime) = self.policy.limits(s.remember);
        let age = Duration::from_millis(now_ms.saturating_sub(s.created_ms));
        let unused = Duration::from_millis(now_ms.saturating_sub(s.seen_ms));
        let (left, idle_left) = (lifetime.checked_sub(age)?, idle.checked_sub(unused)?);
        if left.is_zero() || idle_left.is_zero() {
            return None;
        }
        Some((now + left, now + idle_left.min(left)))
    }

    /// Takes in the sessions a keep held at start (the history store's, after a restart): those
    /// whose time is not up by their wall labels, from now on measured on the monotonic clock;
    /// those whose time is up are ended as expired. Returns how many were taken in.
    pub fn load(&self, rows: Vec<SessionRow>) -> usize {
        let (now, wall) = (Instant::now(), now_ms());
        let mut taken = 0;
        for row in rows {
            let entry = session_of(&row).and_then(|s| Some((self.deadlines(&s, now, wall)?, s)));
            match entry {
                Some(((ends, idle_until), session)) => {
                    self.live.write().insert(session.handle, Entry { session, ends, idle_until, noted: now });
                    taken += 1;
                }
                None => self.keeps().iter().for_each(|k| k.ended(Handle(row.id), EndReason::Expired, wall)),
            }
        }
        taken
    }

    /// A new session: its secret (the cookie's value, given out once) and the session.
    pub async fn create(&self, new: NewSession) -> (String, Session) {
        let secret = URL_SAFE_NO_PAD.encode(crate::auth::accounts::random::<32>());
        let (now, wall) = (Instant::now(), now_ms());
        let mut device = new.device;
        device.truncate(device.floor_char_boundary(256));
        let session = Session {
            handle: Handle::of(secret.as_bytes()),
            user: new.user,
            role: new.role,
            remember: new.remember,
            device,
            addr: new.addr,
            version: new.version,
            created_ms: wall,
            seen_ms: wall,
        };
        let (idle, lifetime) = self.policy.limits(session.remember);
        let entry = Entry { session: session.clone(), ends: now + lifetime, idle_until: now + idle, noted: now };
        self.live.write().insert(session.handle, entry);
        let row = row_of(&session, digest(&secret));
        for keep in self.keeps() {
            keep.made(&row).await;
        }
        (secret, session)
    }

    /// The live session whose cookie holds `secret`, noted as used now; `None` for an unknown,
    /// ended or expired one. A session this instance does not know is looked for in the keeps
    /// (one made on another instance of a cluster).
    pub async fn get(&self, secret: &str) -> Option<Session> {
        self.get_at(secret, Instant::now()).await
    }

    async fn get_at(&self, secret: &str, now: Instant) -> Option<Session> {
        let handle = Handle::of(secret.as_bytes());
        match self.use_known(handle, now) {
            Some(Ok(session)) => return Some(session),
            Some(Err(())) => {
                self.end(handle, EndReason::Expired).await;
                return None;
            }
            None => {}
        }
        let wanted = digest(secret);
        for keep in self.keeps() {
            let Some(row) = keep.find(handle).await.filter(|r| r.secret == wanted) else { continue };
            let wall = now_ms();
            let session = session_of(&row)?;
            let Some((ends, idle_until)) = self.deadlines(&session, now, wall) else {
                self.end(handle, EndReason::Expired).await;
                return None;
            };
            self.live.write().entry(handle).or_insert(Entry { session, ends, idle_until, noted: now });
            return self.use_known(handle, now).and_then(Result::ok);
        }
        None
    }

    /// Whether the session `handle` is live, here or (made on another instance) in a keep, which
    /// then brings it here: a socket opened with a ticket of that session belongs to it.
    pub async fn know(&self, handle: Handle) -> bool {
        if self.is_live(handle) {
            return true;
        }
        for keep in self.keeps() {
            let Some(session) = keep.find(handle).await.and_then(|row| session_of(&row)) else { continue };
            let (now, wall) = (Instant::now(), now_ms());
            let Some((ends, idle_until)) = self.deadlines(&session, now, wall) else { return false };
            self.live.write().entry(handle).or_insert(Entry { session, ends, idle_until, noted: now });
            return true;
        }
        false
    }

    /// Notes a use of the session `handle` at `now`: its session, `Err` when its time is up,
    /// `None` when it is not known here.
    fn use_known(&self, handle: Handle, now: Instant) -> Option<Result<Session, ()>> {
        let mut live = self.live.write();
        let entry = live.get_mut(&handle)?;
        if now >= entry.ends || now >= entry.idle_until {
            return Some(Err(()));
        }
        let (idle, _) = self.policy.limits(entry.session.remember);
        entry.idle_until = (now + idle).min(entry.ends);
        entry.session.seen_ms = now_ms();
        let note = now.duration_since(entry.noted) >= NOTE_EVERY;
        if note {
            entry.noted = now;
        }
        let session = entry.session.clone();
        drop(live);
        if note {
            self.keeps().iter().for_each(|k| k.seen(handle, session.seen_ms));
        }
        Some(Ok(session))
    }

    /// Notes a use of the session `handle` by one of its open sockets (a page showing live data is
    /// in use); false when it is not live any more.
    pub fn touch(&self, handle: Handle) -> bool {
        matches!(self.use_known(handle, Instant::now()), Some(Ok(_)))
    }

    /// Whether the session `handle` is still live (a socket asks after [`Sessions::ended`] moved).
    pub fn is_live(&self, handle: Handle) -> bool {
        self.live.read().contains_key(&handle)
    }

    /// Ends the session `handle` (in a cluster, one made on another instance too); the one ended,
    /// if it was live.
    pub async fn end(&self, handle: Handle, reason: EndReason) -> Option<Session> {
        let mut gone = self.live.write().remove(&handle).map(|e| e.session);
        if gone.is_none() {
            for keep in self.keeps() {
                gone = keep.find(handle).await.and_then(|row| session_of(&row));
                if gone.is_some() {
                    break;
                }
            }
        }
        let gone = gone?;
        self.ended.send_modify(|n| *n += 1);
        let wall = now_ms();
        self.keeps().iter().for_each(|k| k.ended(handle, reason, wall));
        Some(gone)
    }

    /// Ends every session of `user` (in a cluster, those made on other instances too); the ones
    /// ended.
    pub async fn end_user(&self, user: &str, reason: EndReason) -> Vec<Session> {
        let mut gone = Vec::new();
        for session in self.list(Some(user)).await {
            self.end(session.handle, reason).await;
            gone.push(session);
        }
        gone
    }

    /// Forgets the session `handle`, ended elsewhere (on another instance: the keeps know it
    /// already); its sockets here close. True when it was live here.
    pub fn end_here(&self, handle: Handle) -> bool {
        let gone = self.live.write().remove(&handle).is_some();
        if gone {
            self.ended.send_modify(|n| *n += 1);
        }
        gone
    }

    /// Ends the sessions whose time is up (run every second, so that their sockets close); a
    /// session idle here but used on another instance of a cluster (its keep's `seen_ms` says so)
    /// goes on. Returns the ones ended.
    pub async fn sweep(&self) -> Vec<Session> {
        self.sweep_at(Instant::now()).await
    }

    async fn sweep_at(&self, now: Instant) -> Vec<Session> {
        let due: Vec<(Handle, bool)> = self
            .live
            .read()
            .values()
            .filter(|e| now >= e.ends || now >= e.idle_until)
            .map(|e| (e.session.handle, now >= e.ends))
            .collect();
        let mut gone = Vec::new();
        for (handle, past_lifetime) in due {
            if !past_lifetime && self.used_elsewhere(handle).await {
                continue;
            }
            gone.extend(self.end(handle, EndReason::Expired).await);
        }
        gone
    }

    /// Whether a keep saw the session `handle` used within its idle timeout (then its idle
    /// deadline here is moved to match).
    async fn used_elsewhere(&self, handle: Handle) -> bool {
        for keep in self.keeps() {
            let Some(row) = keep.find(handle).await else { continue };
            let (now, wall) = (Instant::now(), now_ms());
            let (idle, _) = self.policy.limits(row.remember);
            let unused = Duration::from_millis(wall.saturating_sub(row.seen_ms));
            if let Some(left) = idle.checked_sub(unused).filter(|l| !l.is_zero())
                && let Some(entry) = self.live.write().get_mut(&handle)
            {
                entry.idle_until = (now + left).min(entry.ends);
                entry.session.seen_ms = entry.session.seen_ms.max(row.seen_ms);
                return now < entry.idle_until;
            }
        }
        false
    }

    /// The live sessions, of `user` only or of everyone, newest first (in a cluster, those made
    /// on other instances too).
    pub async fn list(&self, user: Option<&str>) -> Vec<Session> {
        let mut all: HashMap<Handle, Session> =
            self.live.read().values().map(|e| (e.session.handle, e.session.clone())).collect();
        let (now, wall) = (Instant::now(), now_ms());
        for keep in self.keeps() {
            for row in keep.all().await {
                if let Some(session) = session_of(&row).filter(|s| self.deadlines(s, now, wall).is_some()) {
                    all.entry(session.handle).or_insert(session);
                }
            }
        }
        let mut all: Vec<Session> = all.into_values().filter(|s| user.is_none_or(|u| &*s.user == u)).collect();
        all.sort_by_key(|s| std::cmp::Reverse(s.created_ms));
        all
    }

    /// Moves whenever sessions end: each socket opened by a session waits on it and then asks
    /// [`Sessions::is_live`].
    pub fn ended(&self) -> watch::Receiver<u64> {
        self.ended.subscribe()
    }

    /// How long a session made with `remember` lives at most, for the cookie's `Max-Age`.
    pub fn max_age(&self, remember: bool) -> Duration {
        self.policy.limits(remember).1
    }
}

#[cfg(test)]
mod tests;
