//! Places for open connections, counted in total and per address group, handed out up to a cap;
//! a [`Slot`] gives its place back when dropped. The connection loop uses them before any request
//! is read, the WebSocket endpoint for its sockets.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;

/// The places taken, in total and per address group.
#[derive(Debug, Default)]
pub struct Slots {
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    open: AtomicUsize,
}

/// A place among the open connections; given back on drop.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    ip: IpAddr,
}

impl Slots {
    /// A place for `ip`, unless that would make more than `max_total` in all, or more than
    /// `max_per_ip` for that address group.
    pub fn acquire(self: &Arc<Self>, ip: IpAddr, max_total: usize, max_per_ip: usize) -> Option<Slot> {
        let mut per_ip = self.per_ip.lock();
        let open = self.open.load(Ordering::Relaxed);
        let mine = per_ip.get(&ip).copied().unwrap_or(0);
        if open >= max_total || mine >= max_per_ip {
            return None;
        }
        per_ip.insert(ip, mine + 1);
        self.open.store(open + 1, Ordering::Relaxed);
        Some(Slot { slots: self.clone(), ip })
    }

    /// How many places are taken.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut per_ip = self.slots.per_ip.lock();
        if let Some(n) = per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                per_ip.remove(&self.ip);
            }
        }
        self.slots.open.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_run_out_in_total_and_per_address_and_come_back_on_drop() {
        let slots = Arc::new(Slots::default());
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        let first = slots.acquire(a, 3, 2).expect("a place");
        let _second = slots.acquire(a, 3, 2).expect("a place");
        assert!(slots.acquire(a, 3, 2).is_none(), "two per address");
        let _third = slots.acquire(b, 3, 2).expect("another address");
        assert!(slots.acquire(b, 3, 2).is_none(), "three in all");
        drop(first);
        assert_eq!(slots.open(), 2);
        assert!(slots.acquire(a, 3, 2).is_some());
    }
}
