//! The queue of password hash verifications, in two lanes ([`Lanes`]). Each verification holds a
//! permit of its lane while its hash runs on the blocking pool; a bounded number may wait for one,
//! and past that the answer is 503 at once.
//!
//! - The *open* lane is every client that has not proved itself: a permit per core but one, 32
//!   waiting at most, and a global budget for all of them together ([`OPEN_PER_CORE_PER_SECOND`]):
//!   past it a verification is refused at once (503), with no hash and no place in the queue, so
//!   that a flood of guesses from many addresses (each with its own fresh budgets, say with a
//!   random user name each) cannot keep the cores busy.
//! - The *proven* lane is the clients with a valid device cookie for the user they name: one
//!   permit of its own (the core the open lane leaves), and 8 waiting of its own; it also takes a
//!   free permit of the open lane when there is one. A flood of the open lane never fills it.
//!
//! Sessions and API tokens never come here: neither is a password hash.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use governor::{DefaultDirectRateLimiter, Quota};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How many verifications of the open lane may wait for a core; more are refused with 503.
pub const MAX_WAITING_VERIFICATIONS: usize = 32;
/// How many verifications of the proven lane may wait for its core.
pub const MAX_WAITING_PROVEN: usize = 8;
/// The open lane's global budget: verifications a second per permit of the lane, with a burst of
/// two seconds' worth. A hash at the default argon2id parameters (19 MiB, 2 passes) takes about
/// 50 ms of one core (57 ms measured on a loaded 2-core machine: `cargo test -p livedash-server
/// --lib lanes -- --ignored --nocapture`), so a core hashes about 20 a second: the budget is what
/// the open lane's cores can hash, so that a flood from however many addresses is answered 503 at
/// once past it instead of queueing, and one person's logins (one hash at a time) never reach it.
pub const OPEN_PER_CORE_PER_SECOND: u32 = 20;

/// Which lane a verification goes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// A client that has not proved itself.
    Open,
    /// A client with a valid device cookie for the user it names.
    Proven,
}

/// Why a verification got no place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// Its lane's queue is full.
    Queue,
    /// The open lane's global budget is spent for now.
    Budget,
}

/// One lane: its permits and how many wait for one.
struct Queue {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// One place in a queue, given back however the wait ends (a request that goes away included).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Queue {
    fn new(permits: usize, max_waiting: usize) -> Self {
        Self { permits: Arc::new(Semaphore::new(permits)), waiting: AtomicUsize::new(0), max_waiting }
    }

    async fn enter(&self) -> Result<OwnedSemaphorePermit, Full> {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::Relaxed) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            return Err(Full::Queue);
        }
        let _place = Waiting(&self.waiting);
        // The semaphore is never closed.
        self.permits.clone().acquire_owned().await.map_err(|_| Full::Queue)
    }
}

/// The two lanes and the open lane's budget (see the module's documentation).
pub struct Lanes {
    open: Queue,
    proven: Queue,
    budget: DefaultDirectRateLimiter,
}

impl Lanes {
    /// Lanes for a machine of `cores` cores.
    pub fn new(cores: usize) -> Self {
        let open = cores.saturating_sub(1).max(1);
        let per_second = u32::try_from(open).unwrap_or(u32::MAX).saturating_mul(OPEN_PER_CORE_PER_SECOND);
        Self::with_budget(cores, NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN))
    }

    /// The same with an open-lane budget of `per_second` verifications a second (and a burst of
    /// twice that).
    pub fn with_budget(cores: usize, per_second: NonZeroU32) -> Self {
        Self {
            open: Queue::new(cores.saturating_sub(1).max(1), MAX_WAITING_VERIFICATIONS),
            proven: Queue::new(1, MAX_WAITING_PROVEN),
            budget: DefaultDirectRateLimiter::direct(
                Quota::per_second(per_second).allow_burst(per_second.saturating_mul(NonZeroU32::MIN.saturating_add(1))),
            ),
        }
    }

    /// A permit to run one hash in `lane`, once there is one; `Err` at once when there is no
    /// place (the lane's queue is full, or for the open lane its budget is spent).
    pub async fn enter(&self, lane: Lane) -> Result<OwnedSemaphorePermit, Full> {
        match lane {
            Lane::Open => {
                self.budget.check().map_err(|_| Full::Budget)?;
                self.open.enter().await
            }
            Lane::Proven => {
                if let Ok(permit) = self.open.permits.clone().try_acquire_owned() {
                    return Ok(permit);
                }
                self.proven.enter().await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::Duration;

    /// Waits until `n` verifications wait in `queue`.
    async fn until_waiting(queue: &Queue, n: usize) {
        while queue.waiting.load(Ordering::Relaxed) < n {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn a_proven_client_gets_a_core_while_the_open_lane_is_full() {
        let lanes = Arc::new(Lanes::with_budget(2, NonZeroU32::new(1000).expect("nonzero")));
        // A flood: the open lane's core busy and its queue full.
        let busy = lanes.enter(Lane::Open).await.expect("a free core");
        let waiters: Vec<_> = (0..MAX_WAITING_VERIFICATIONS)
            .map(|_| {
                let lanes = lanes.clone();
                tokio::spawn(async move { lanes.enter(Lane::Open).await.map(drop) })
            })
            .collect();
        until_waiting(&lanes.open, MAX_WAITING_VERIFICATIONS).await;
        assert_eq!(lanes.enter(Lane::Open).await.err(), Some(Full::Queue), "the open lane is full");
        // Before: one queue for everyone, so the device cookie's client was refused too.
        let proven = tokio::time::timeout(Duration::from_secs(1), lanes.enter(Lane::Proven)).await;
        let proven = proven.expect("no wait behind the flood").expect("a place");
        // Its own queue, too: while its core is taken, up to 8 proven clients wait for it.
        let next = {
            let lanes = lanes.clone();
            tokio::spawn(async move { lanes.enter(Lane::Proven).await.map(drop) })
        };
        until_waiting(&lanes.proven, 1).await;
        drop(proven);
        assert_eq!(next.await.expect("task"), Ok(()));
        drop(busy);
        for w in waiters {
            assert_eq!(w.await.expect("task"), Ok(()), "the flood's waiters get their turn");
        }
        assert_eq!(lanes.open.waiting.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn a_wait_that_goes_away_gives_its_place_back() {
        let lanes = Lanes::with_budget(2, NonZeroU32::new(1000).expect("nonzero"));
        let _busy = lanes.enter(Lane::Open).await.expect("a free core");
        for _ in 0..100 {
            let gone = tokio::time::timeout(Duration::from_millis(1), lanes.enter(Lane::Open)).await;
            assert!(gone.is_err(), "it waits");
        }
        // Before: each abandoned wait kept its place, and 32 of them made every login a 503.
        assert_eq!(lanes.open.waiting.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn the_open_lane_has_a_global_budget_and_the_proven_lane_does_not() {
        let lanes = Lanes::with_budget(4, NonZeroU32::new(3).expect("nonzero"));
        for _ in 0..6 {
            drop(lanes.enter(Lane::Open).await.expect("within the budget"));
        }
        // From any address, for any user name: refused at once, no hash and no place in the queue.
        assert_eq!(lanes.enter(Lane::Open).await.err(), Some(Full::Budget));
        assert_eq!(lanes.open.waiting.load(Ordering::Relaxed), 0);
        for _ in 0..10 {
            drop(lanes.enter(Lane::Proven).await.expect("the proven lane has no such budget"));
        }
    }

    #[test]
    fn the_budget_follows_the_cores_of_the_open_lane() {
        for (cores, open, burst) in [(1, 1, 40), (2, 1, 40), (8, 7, 280)] {
            let lanes = Lanes::new(cores);
            assert_eq!(lanes.open.permits.available_permits(), open, "{cores} cores");
            assert_eq!(lanes.proven.permits.available_permits(), 1);
            let at_once = (0..1000).take_while(|_| lanes.budget.check().is_ok()).count();
            assert_eq!(at_once, burst, "{cores} cores: two seconds' worth at once");
        }
    }

    /// How long one hash at the default parameters takes here (the figure behind
    /// [`OPEN_PER_CORE_PER_SECOND`]); a measurement, not a test.
    #[test]
    #[ignore = "a measurement: run with --ignored --nocapture"]
    #[allow(clippy::print_stderr)]
    fn measure_one_hash() {
        let users = crate::auth::Users::single("admin", "pw");
        let start = std::time::Instant::now();
        for _ in 0..20 {
            std::hint::black_box(users.verify("admin", "wrong"));
        }
        eprintln!("one default hash: {:?}", start.elapsed() / 20);
    }
}
