//! The open sockets, counted in total and per address group ([`Slots`]), and the counters of how
//! sockets end. A socket holds a [`Slot`] for its whole life; dropping it gives the place back.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::http::slots::{Slot, Slots};

/// Counters for `/metrics` and tests.
#[derive(Debug, Default)]
pub struct WsStats {
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

/// Open sockets, in total and per address group, and how they ended.
#[derive(Default)]
pub struct Connections {
    slots: Arc<Slots>,
    /// Counters.
    pub stats: WsStats,
}

impl Connections {
    /// A place for a socket from `ip`, unless that would make more than `max_total` sockets, or
    /// more than `max_per_ip` from that address group.
    pub fn acquire(&self, ip: IpAddr, max_total: usize, max_per_ip: usize) -> Option<Slot> {
        self.slots.acquire(ip, max_total, max_per_ip)
    }

    /// How many sockets are open.
    pub fn open(&self) -> usize {
        self.slots.open()
    }
}
