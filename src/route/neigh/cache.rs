//! The neighbour cache's storage: a slab of entries allocated once, a keyed
//! hash index over (port, IPv4 address), and one timer list per state.
//!
//! Owns where entries live and how they are found, never what their states
//! mean (that is `neigh`). Every state has exactly one pending deadline per
//! entry, a fixed delay after the entry was (re)filed in that state, so each
//! state's list, kept in filing order, is also in deadline order (as long
//! as `now` never goes backwards; if it did, a timer would only fire late):
//! the head is the earliest, `earliest()` compares five heads, and no
//! operation scans the slab. Never allocates after `new`, never panics (indices go through
//! `get`; a bad link ends a walk).
//!
//! Hash: keyed multiply-shift (Dietzfelbinger) over `port << 32 | ip` with
//! a random odd multiplier from the seed — 2-universal, so nobody who does
//! not know the seed can aim addresses at one bucket. Buckets = the next
//! power of two ≥ capacity, chained through the entries: expected chain
//! length below 1.

use super::NeighState;
use super::pool::Chain;
use crate::engine::PortId;
use crate::time::Instant;
use crate::wire::EthernetAddress;
use std::net::Ipv4Addr;

pub const NIL: u32 = u32::MAX;

/// States in timer-list order (index = `list_of`).
#[cfg(test)]
const STATES: [NeighState; 5] = [
    NeighState::Incomplete,
    NeighState::Reachable,
    NeighState::Stale,
    NeighState::Probe,
    NeighState::Failed,
];

fn list_of(s: NeighState) -> usize {
    match s {
        NeighState::Incomplete => 0,
        NeighState::Reachable => 1,
        NeighState::Stale => 2,
        NeighState::Probe => 3,
        NeighState::Failed => 4,
    }
}

#[derive(Copy, Clone, Debug)]
pub struct Entry {
    pub port: PortId,
    pub ip: Ipv4Addr,
    /// Zero while INCOMPLETE or FAILED.
    pub mac: EthernetAddress,
    pub state: NeighState,
    /// Requests sent in the current INCOMPLETE or PROBE round.
    pub probes: u8,
    /// When the entry's state timer fires.
    pub deadline: Instant,
    /// Last change of MAC or state, or last confirmation.
    pub updated: Instant,
    /// Last time `resolve` asked for it.
    pub used: Instant,
    /// Frames waiting for the MAC (INCOMPLETE only).
    pub queue: Chain,
    live: bool,
    hnext: u32,
    prev: u32,
    next: u32,
}

#[derive(Copy, Clone)]
struct List {
    head: u32,
    tail: u32,
}

const EMPTY: List = List {
    head: NIL,
    tail: NIL,
};

#[derive(Clone)]
pub struct Cache {
    entries: Box<[Entry]>,
    buckets: Box<[u32]>,
    /// 64 - log2(buckets.len()).
    shift: u32,
    key: (u64, u64),
    /// Free entries, chained through `hnext`.
    free: u32,
    lists: [List; 5],
    len: usize,
}

/// splitmix64: spreads a seed into independent-looking words.
fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(NIL)
}

impl Cache {
    /// Room for `capacity` entries (at least 1, below `u32::MAX`); `seed`
    /// keys the hash.
    pub fn new(capacity: usize, mut seed: u64) -> Cache {
        let capacity = capacity.clamp(1, (NIL - 1) as usize);
        let buckets = capacity.next_power_of_two().max(2);
        let entries: Box<[Entry]> = (0..capacity)
            .map(|i| Entry {
                port: 0,
                ip: Ipv4Addr::UNSPECIFIED,
                mac: EthernetAddress::ZERO,
                state: NeighState::Failed,
                probes: 0,
                deadline: Instant::ZERO,
                updated: Instant::ZERO,
                used: Instant::ZERO,
                queue: Chain::default(),
                live: false,
                hnext: if i + 1 < capacity { index(i + 1) } else { NIL },
                prev: NIL,
                next: NIL,
            })
            .collect();
        Cache {
            entries,
            buckets: vec![NIL; buckets].into_boxed_slice(),
            shift: 64 - buckets.trailing_zeros(),
            key: (splitmix(&mut seed), splitmix(&mut seed) | 1),
            free: 0,
            lists: [EMPTY; 5],
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_full(&self) -> bool {
        self.free == NIL
    }

    fn bucket(&self, port: PortId, ip: Ipv4Addr) -> usize {
        let k = ((port as u64) << 32) | u64::from(u32::from(ip));
        let h = (k ^ self.key.0).wrapping_mul(self.key.1);
        h.checked_shr(self.shift).unwrap_or(0) as usize
    }

    pub fn get(&self, i: u32) -> Option<&Entry> {
        self.entries.get(i as usize).filter(|e| e.live)
    }

    pub fn get_mut(&mut self, i: u32) -> Option<&mut Entry> {
        self.entries.get_mut(i as usize).filter(|e| e.live)
    }

    /// The entry for (port, ip): one bucket, then its chain.
    #[inline]
    pub fn find(&self, port: PortId, ip: Ipv4Addr) -> Option<u32> {
        let mut i = *self.buckets.get(self.bucket(port, ip))?;
        // The bound only guards against a broken chain.
        for _ in 0..self.entries.len() {
            let e = self.entries.get(i as usize)?;
            if e.ip == ip && e.port == port {
                return Some(i);
            }
            i = e.hnext;
        }
        None
    }

    /// A new entry for (port, ip) filed in `state` with `deadline`; None
    /// when the cache is full (evict first). The caller has checked that
    /// no entry for the key exists.
    pub fn insert(
        &mut self,
        port: PortId,
        ip: Ipv4Addr,
        state: NeighState,
        now: Instant,
        deadline: Instant,
    ) -> Option<u32> {
        let i = self.free;
        let b = self.bucket(port, ip);
        let head = *self.buckets.get(b)?;
        let e = self.entries.get_mut(i as usize)?;
        self.free = e.hnext;
        *e = Entry {
            port,
            ip,
            mac: EthernetAddress::ZERO,
            state,
            probes: 0,
            deadline,
            updated: now,
            used: now,
            queue: Chain::default(),
            live: true,
            hnext: head,
            prev: NIL,
            next: NIL,
        };
        if let Some(slot) = self.buckets.get_mut(b) {
            *slot = i;
        }
        self.link(i);
        self.len += 1;
        Some(i)
    }

    /// Remove a live entry (its queue must already be empty).
    pub fn remove(&mut self, i: u32) {
        let Some(e) = self.get(i) else {
            return;
        };
        let (b, hnext) = (self.bucket(e.port, e.ip), e.hnext);
        self.unlink(i);
        // Unhash: the bucket head or a predecessor in the chain points at i.
        let mut at = self.buckets.get(b).copied().unwrap_or(NIL);
        if at == i {
            if let Some(slot) = self.buckets.get_mut(b) {
                *slot = hnext;
            }
        } else {
            for _ in 0..self.entries.len() {
                let Some(p) = self.entries.get_mut(at as usize) else {
                    break;
                };
                if p.hnext == i {
                    p.hnext = hnext;
                    break;
                }
                at = p.hnext;
            }
        }
        let free = self.free;
        if let Some(e) = self.entries.get_mut(i as usize) {
            e.live = false;
            e.hnext = free;
            self.free = i;
            self.len = self.len.saturating_sub(1);
        }
    }

    /// File entry `i` at the end of `state`'s list with a new deadline
    /// (also when the state does not change: a re-armed timer).
    pub fn refile(&mut self, i: u32, state: NeighState, deadline: Instant) {
        if self.get(i).is_none() {
            return;
        }
        self.unlink(i);
        if let Some(e) = self.get_mut(i) {
            e.state = state;
            e.deadline = deadline;
        }
        self.link(i);
    }

    /// The entry whose timer fires first, with its deadline.
    pub fn earliest(&self) -> Option<(u32, Instant)> {
        self.lists
            .iter()
            .filter_map(|l| self.get(l.head).map(|e| (l.head, e.deadline)))
            .min_by_key(|&(_, d)| d)
    }

    /// The oldest entry filed in `state` (the head of its list).
    pub fn oldest(&self, state: NeighState) -> Option<u32> {
        let head = self.lists.get(list_of(state))?.head;
        self.get(head).map(|_| head)
    }

    /// Live entries, in slab order (for snapshots and flushes; O(capacity)).
    pub fn live(&self) -> impl Iterator<Item = (u32, &Entry)> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.live)
            .map(|(i, e)| (index(i), e))
    }

    /// Entries of one state's list in order (tests check the ordering).
    #[cfg(test)]
    pub fn list(&self, state: NeighState) -> Vec<u32> {
        let mut out = Vec::new();
        let mut i = self.lists[list_of(state)].head;
        while let Some(e) = self.get(i) {
            out.push(i);
            i = e.next;
        }
        out
    }

    /// Append live entry `i` to its state's list.
    fn link(&mut self, i: u32) {
        let Some(e) = self.get(i) else {
            return;
        };
        let l = list_of(e.state);
        let Some(list) = self.lists.get(l).copied() else {
            return;
        };
        if let Some(e) = self.get_mut(i) {
            e.prev = list.tail;
            e.next = NIL;
        }
        match self.get_mut(list.tail) {
            Some(t) => t.next = i,
            None => self.set_list(l, |x| x.head = i),
        }
        self.set_list(l, |x| x.tail = i);
    }

    /// Take live entry `i` out of its state's list.
    fn unlink(&mut self, i: u32) {
        let Some(e) = self.get(i) else {
            return;
        };
        let (l, prev, next) = (list_of(e.state), e.prev, e.next);
        match self.get_mut(prev) {
            Some(p) => p.next = next,
            None => self.set_list(l, |x| x.head = next),
        }
        match self.get_mut(next) {
            Some(n) => n.prev = prev,
            None => self.set_list(l, |x| x.tail = prev),
        }
        if let Some(e) = self.get_mut(i) {
            e.prev = NIL;
            e.next = NIL;
        }
    }

    fn set_list(&mut self, l: usize, f: impl FnOnce(&mut List)) {
        if let Some(x) = self.lists.get_mut(l) {
            f(x);
        }
    }

    /// Every state's list holds exactly its live entries, in deadline
    /// order, and `find` reaches each of them (tests).
    #[cfg(test)]
    pub fn check(&self) {
        let mut total = 0;
        for s in STATES {
            let l = self.list(s);
            for w in l.windows(2) {
                let (a, b) = (self.get(w[0]).unwrap(), self.get(w[1]).unwrap());
                assert!(a.deadline <= b.deadline, "{s:?} list out of order");
            }
            for &i in &l {
                let e = self.get(i).unwrap();
                assert_eq!(e.state, s);
                assert_eq!(self.find(e.port, e.ip), Some(i));
            }
            total += l.len();
        }
        assert_eq!(total, self.len);
        assert_eq!(self.live().count(), self.len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u32) -> Ipv4Addr {
        Ipv4Addr::from(0x0a00_0000 + n)
    }

    #[test]
    fn insert_find_remove_reuse() {
        let mut c = Cache::new(8, 42);
        let t = Instant::from_secs(1);
        let ids: Vec<u32> = (0..8)
            .map(|n| {
                c.insert(n as usize % 2, ip(n), NeighState::Incomplete, t, t)
                    .unwrap()
            })
            .collect();
        assert!(c.is_full());
        assert_eq!(c.insert(0, ip(99), NeighState::Stale, t, t), None);
        for n in 0..8u32 {
            assert_eq!(c.find(n as usize % 2, ip(n)), Some(ids[n as usize]));
            assert_eq!(
                c.find(1 - n as usize % 2, ip(n)),
                None,
                "port is part of the key"
            );
        }
        c.check();
        c.remove(ids[3]);
        c.remove(ids[3]);
        assert_eq!((c.len(), c.find(1, ip(3))), (7, None));
        let again = c.insert(1, ip(3), NeighState::Stale, t, t).unwrap();
        assert_eq!(again, ids[3], "the freed slot is reused");
        c.check();
        assert_eq!(c.list(NeighState::Stale), vec![again]);
    }

    #[test]
    fn refile_keeps_lists_in_deadline_order() {
        let mut c = Cache::new(4, 7);
        let at = Instant::from_secs;
        let a = c
            .insert(0, ip(1), NeighState::Incomplete, at(0), at(1))
            .unwrap();
        let b = c
            .insert(0, ip(2), NeighState::Incomplete, at(0), at(1))
            .unwrap();
        let d = c
            .insert(0, ip(3), NeighState::Reachable, at(0), at(30))
            .unwrap();
        assert_eq!(c.earliest(), Some((a, at(1))));
        c.refile(a, NeighState::Incomplete, at(2));
        assert_eq!(c.list(NeighState::Incomplete), vec![b, a]);
        assert_eq!(c.earliest(), Some((b, at(1))));
        c.refile(b, NeighState::Reachable, at(31));
        c.refile(a, NeighState::Reachable, at(32));
        assert_eq!(c.list(NeighState::Reachable), vec![d, b, a]);
        assert_eq!(c.oldest(NeighState::Incomplete), None);
        assert_eq!(c.oldest(NeighState::Reachable), Some(d));
        c.remove(b);
        assert_eq!(c.list(NeighState::Reachable), vec![d, a]);
        c.check();
    }

    #[test]
    fn colliding_keys_share_a_chain() {
        // Capacity 2 means 2 buckets: over 64 seeds the two keys share a
        // bucket about half the time, so removal from the head and from
        // behind the head of a chain both happen.
        for seed in 0..64 {
            let mut c = Cache::new(2, seed);
            let t = Instant::ZERO;
            let x = c.insert(0, ip(1), NeighState::Stale, t, t).unwrap();
            let y = c.insert(0, ip(2), NeighState::Stale, t, t).unwrap();
            c.remove(x);
            assert_eq!(c.find(0, ip(2)), Some(y), "seed {seed}");
            assert_eq!(c.find(0, ip(1)), None);
            let z = c.insert(0, ip(5), NeighState::Stale, t, t).unwrap();
            c.remove(y);
            assert_eq!(c.find(0, ip(5)), Some(z), "seed {seed}");
            c.check();
        }
    }
}
