//! Refusals logged so that a flood cannot grow the log without bound: the first refusal from an
//! address is logged at once with its details; later ones from it are only counted, and summed up
//! in one line per address when [`RefusalLog::flush`] runs (once a minute). At most
//! [`MAX_ADDRESSES`] addresses are tracked at a time; refusals from more are summed up together.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use parking_lot::Mutex;

/// How many addresses are counted one by one between two flushes.
pub const MAX_ADDRESSES: usize = 4096;

#[derive(Default)]
struct Tallies {
    by_address: HashMap<IpAddr, BTreeMap<&'static str, u64>>,
    others: u64,
}

/// The refusals since the last flush.
#[derive(Default)]
pub struct RefusalLog {
    tallies: Mutex<Tallies>,
}

impl RefusalLog {
    /// Notes a refusal of `addr` for `reason`; true when it is the first from that address since
    /// the last flush, and so should be logged now, with its details.
    pub fn first(&self, addr: IpAddr, reason: &'static str) -> bool {
        let mut tallies = self.tallies.lock();
        let tracked = tallies.by_address.len();
        if let Some(reasons) = tallies.by_address.get_mut(&addr) {
            *reasons.entry(reason).or_default() += 1;
            return false;
        }
        if tracked >= MAX_ADDRESSES {
            tallies.others += 1;
            return false;
        }
        tallies.by_address.insert(addr, BTreeMap::new());
        true
    }

    /// Logs one line per address that was refused again since the last flush (with the count of
    /// each reason), and starts counting afresh. Returns how many lines it wrote.
    pub fn flush(&self) -> usize {
        let Tallies { by_address, others } = std::mem::take(&mut *self.tallies.lock());
        let mut lines = 0;
        for (ip, reasons) in by_address.into_iter().filter(|(_, r)| !r.is_empty()) {
            let count: u64 = reasons.values().sum();
            tracing::warn!(%ip, count, reasons = ?reasons, "more refusals since the last summary");
            lines += 1;
        }
        if others > 0 {
            tracing::warn!(count = others, "more refusals from other addresses since the last summary");
            lines += 1;
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_from_one_address_is_one_line_then_one_summary() {
        let log = RefusalLog::default();
        let ip = IpAddr::from([10, 0, 0, 1]);
        let logged_now = (0..300).filter(|_| log.first(ip, "bad ticket")).count();
        assert_eq!(logged_now, 1);
        assert!(log.first(IpAddr::from([10, 0, 0, 2]), "bad ticket"), "another address is told once too");
        assert_eq!(log.flush(), 1, "one summary: the second address was refused only once");
        assert_eq!(log.flush(), 0);
        assert!(log.first(ip, "bad ticket"), "after a flush the next refusal is told again");
    }

    #[test]
    fn the_addresses_tracked_are_bounded() {
        let log = RefusalLog::default();
        for i in 0..MAX_ADDRESSES + 10 {
            let ip = IpAddr::from(u32::try_from(i).expect("small").to_be_bytes());
            let _ = log.first(ip, "no credentials");
            let _ = log.first(ip, "no credentials");
        }
        assert_eq!(log.tallies.lock().by_address.len(), MAX_ADDRESSES);
        assert_eq!(log.flush(), MAX_ADDRESSES + 1, "one line per tracked address and one for the rest");
    }
}
