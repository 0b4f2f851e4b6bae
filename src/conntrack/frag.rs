//! Non-first IPv4 fragments follow their first fragment (SPEC §3).
//!
//! A later fragment carries no transport header, so it cannot be matched
//! to a session by its ports. When the first fragment (offset 0, MF set)
//! has been tracked, the engine records its IP identity — (src, dst,
//! protocol, IP id) as it arrived, before any translation — with what was
//! decided for it (`V`: the session and direction). Later fragments with
//! the same identity get the same decision; one whose first piece was never
//! seen (or expired, or was evicted) is dropped and counted by the caller.
//!
//! Owns: a small fixed table (`capacity` entries, allocated once), each
//! entry alive for `lifetime` (30 s, Linux's ipfrag_time) after the last
//! fragment seen; when full, the entry closest to expiry is replaced.
//! Lookups scan the table: it is small and fragments are rare. Never:
//! reassembles (fragments are forwarded as they come) or allocates.

use crate::time::{Duration, Instant};
use std::net::Ipv4Addr;

/// How long an entry lives after its last fragment.
pub const FRAG_LIFETIME: Duration = Duration::from_secs(30);

/// The identity shared by every fragment of one IPv4 packet.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FragKey {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub proto: u8,
    pub ident: u16,
}

#[derive(Copy, Clone)]
struct Entry<V> {
    key: FragKey,
    value: V,
    expires: Instant,
}

/// Counters for `show conntrack statistics`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FragStats {
    /// First fragments recorded.
    pub recorded: u64,
    /// Later fragments that found their first fragment.
    pub followed: u64,
    /// Entries replaced while still alive because the table was full.
    pub evicted: u64,
}

#[derive(Clone)]
pub struct FragTable<V: Copy> {
    entries: Vec<Option<Entry<V>>>,
    pub stats: FragStats,
}

impl<V: Copy> FragTable<V> {
    pub fn new(capacity: usize) -> FragTable<V> {
        FragTable {
            entries: vec![None; capacity.max(1)],
            stats: FragStats::default(),
        }
    }

    /// Remember the decision for a first fragment (or refresh it).
    pub fn record(&mut self, now: Instant, key: FragKey, value: V) {
        self.stats.recorded += 1;
        let expires = now + FRAG_LIFETIME;
        let entry = Some(Entry {
            key,
            value,
            expires,
        });
        let mut victim = 0;
        let mut victim_expiry = Instant::from_micros(u64::MAX);
        for (i, e) in self.entries.iter_mut().enumerate() {
            match e {
                Some(x) if x.key == key => {
                    *e = entry;
                    return;
                }
                Some(x) if x.expires > now => {
                    if x.expires < victim_expiry {
                        victim = i;
                        victim_expiry = x.expires;
                    }
                }
                _ => {
                    victim = i;
                    victim_expiry = Instant::ZERO;
                }
            }
        }
        if victim_expiry > now {
            self.stats.evicted += 1;
        }
        if let Some(slot) = self.entries.get_mut(victim) {
            *slot = entry;
        }
    }

    /// The decision for a later fragment, if its first one was recorded;
    /// refreshes the entry's lifetime.
    pub fn follow(&mut self, now: Instant, key: &FragKey) -> Option<V> {
        for e in self.entries.iter_mut().flatten() {
            if e.key == *key && e.expires > now {
                e.expires = now + FRAG_LIFETIME;
                self.stats.followed += 1;
                return Some(e.value);
            }
        }
        None
    }

    /// Entries alive at `now`.
    pub fn len(&self, now: Instant) -> usize {
        self.entries
            .iter()
            .flatten()
            .filter(|e| e.expires > now)
            .count()
    }

    pub fn capacity(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ident: u16) -> FragKey {
        FragKey {
            src: Ipv4Addr::new(192, 168, 1, 2),
            dst: Ipv4Addr::new(10, 0, 0, 1),
            proto: 17,
            ident,
        }
    }

    #[test]
    fn later_fragments_follow_until_expiry() {
        let mut t: FragTable<u32> = FragTable::new(4);
        let t0 = Instant::from_secs(100);
        assert_eq!(t.follow(t0, &key(1)), None);
        t.record(t0, key(1), 7);
        assert_eq!(t.follow(t0 + Duration::from_secs(20), &key(1)), Some(7));
        // Refreshed by that fragment: alive 30 s after it.
        assert_eq!(t.follow(t0 + Duration::from_secs(45), &key(1)), Some(7));
        assert_eq!(t.follow(t0 + Duration::from_secs(76), &key(1)), None);
        let mut other = key(1);
        other.proto = 6;
        assert_eq!(t.follow(t0, &other), None, "protocol is part of the key");
        assert_eq!(t.stats.followed, 2);
    }

    #[test]
    fn full_table_replaces_the_entry_closest_to_expiry() {
        let mut t: FragTable<u32> = FragTable::new(2);
        let t0 = Instant::from_secs(100);
        t.record(t0, key(1), 1);
        t.record(t0 + Duration::from_secs(1), key(2), 2);
        t.record(t0 + Duration::from_secs(2), key(3), 3);
        assert_eq!(t.stats.evicted, 1);
        let now = t0 + Duration::from_secs(3);
        assert_eq!(t.follow(now, &key(1)), None);
        assert_eq!(t.follow(now, &key(2)), Some(2));
        assert_eq!(t.follow(now, &key(3)), Some(3));
        // An expired entry is reused without counting an eviction.
        let late = t0 + Duration::from_secs(200);
        t.record(late, key(4), 4);
        assert_eq!(t.stats.evicted, 1);
        assert_eq!(t.len(late), 1);
    }

    #[test]
    fn recording_the_same_key_updates_in_place() {
        let mut t: FragTable<u32> = FragTable::new(3);
        let t0 = Instant::from_secs(1);
        t.record(t0, key(9), 1);
        t.record(t0, key(9), 2);
        assert_eq!(t.len(t0), 1);
        assert_eq!(t.follow(t0, &key(9)), Some(2));
    }
}
