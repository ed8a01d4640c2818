//! The open sockets, counted in total and per client IP, and the counters of how sockets end. A
//! socket holds a [`Slot`] for its whole life; dropping it gives the place back.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use parking_lot::Mutex;

/// Counters for `/metrics` and tests.
#[derive(Debug, Default)]
pub struct WsStats {
    /// Sockets open now.
    pub open: AtomicUsize,
    /// Data frames from clients, ignored.
    pub ignored_frames: AtomicU64,
    /// Sockets closed for a frame over the client frame limit.
    pub closed_oversize: AtomicU64,
    /// Sockets closed for answering no ping.
    pub closed_idle: AtomicU64,
    /// Sockets closed because a send stalled.
    pub closed_slow: AtomicU64,
    /// Sockets closed because their user was removed or changed password.
    pub closed_revoked: AtomicU64,
}

/// Open sockets, in total and per client IP.
#[derive(Default)]
pub struct Connections {
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    /// Counters.
    pub stats: WsStats,
}

/// A place among the open sockets; giving it back happens on drop.
pub struct Slot {
    connections: Arc<Connections>,
    ip: IpAddr,
}

impl Connections {
    /// A place for a socket from `ip`, unless that would make more than `max_total` sockets, or
    /// more than `max_per_ip` from that address.
    pub fn acquire(self: &Arc<Self>, ip: IpAddr, max_total: usize, max_per_ip: usize) -> Option<Slot> {
        let mut per_ip = self.per_ip.lock();
        let open = self.stats.open.load(Ordering::Relaxed);
        let mine = per_ip.get(&ip).copied().unwrap_or(0);
        if open >= max_total || mine >= max_per_ip {
            return None;
        }
        per_ip.insert(ip, mine + 1);
        self.stats.open.store(open + 1, Ordering::Relaxed);
        Some(Slot { connections: self.clone(), ip })
    }

    /// How many sockets are open.
    pub fn open(&self) -> usize {
        self.stats.open.load(Ordering::Relaxed)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut per_ip = self.connections.per_ip.lock();
        if let Some(n) = per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                per_ip.remove(&self.ip);
            }
        }
        self.connections.stats.open.fetch_sub(1, Ordering::Relaxed);
    }
}
