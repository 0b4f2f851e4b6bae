//! The external cache: sessions learned from peers, not used for
//! forwarding until the lead commits them at failover.
//!
//! Owns: a fixed-size table keyed by session id (slab of entries, an
//! open-addressing index with linear probing and backward-shift deletion,
//! and a min-heap of deadlines so expiry never scans the table), the
//! ordering rule that keeps a late resent frame from undoing a newer one,
//! and the mark-and-sweep that drops what a bulk resync did not mention.
//! Never: grows, decodes bytes, decides protocol state.
//!
//! Everything is allocated in `new`; no operation allocates.

use super::record::SessionRecord;
use crate::time::{Duration, Instant};

const EMPTY: u32 = u32::MAX;
/// Recent destroys, and updates of absent sessions, remembered so that a
/// late resent `New` of the same session neither brings a destroyed
/// session back nor undoes a newer update.
pub const TOMBSTONES: usize = 4096;

/// Something that happened to a session the cache did not hold.
#[derive(Copy, Clone, Debug, Default)]
struct Tomb {
    id: u64,
    node: u16,
    order: u64,
    /// `None`: destroyed; otherwise the update's (state, timeout).
    update: Option<(u8, u32)>,
}

/// Where an entry's latest data came from, to order updates: a sender
/// node and a per-sender position (`epoch number << 32 | frame seq`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub node: u16,
    pub order: u64,
    /// The sender's bulk-resync mark when this was written.
    pub mark: u32,
}

#[derive(Clone, Debug)]
struct Slot {
    rec: SessionRecord,
    deadline: Instant,
    origin: Origin,
    /// Position in `heap`, `EMPTY` when the slot is free.
    heap_pos: u32,
}

/// What an upsert did.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Upsert {
    Created,
    Updated,
    /// An entry written by a later frame of the same sender exists.
    Stale,
    Full,
}

#[derive(Clone)]
pub struct ExternalCache {
    slots: Vec<Slot>,
    free: Vec<u32>,
    index: Vec<u32>,
    index_mask: usize,
    heap: Vec<u32>,
    seed: u64,
    tombs: Box<[Tomb]>,
    tomb_next: usize,
    /// `evict_for_bulk`'s walk: (sender, order its bulk began at, next slot).
    bulk_cursor: (u16, u64, usize),
}

/// splitmix64's finalizer: a full-avalanche 64-bit mix.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn deadline(now: Instant, secs: u32) -> Instant {
    now + Duration::from_secs(u64::from(secs))
}

/// Seconds from `now` until `d`, rounded up.
fn remaining_secs(now: Instant, d: Instant) -> u32 {
    let us = crate::time::micros(d.saturating_since(now));
    u32::try_from(us.div_ceil(1_000_000)).unwrap_or(u32::MAX)
}

impl ExternalCache {
    /// A cache of `capacity` entries; `seed` keys the index hash.
    pub fn new(capacity: usize, seed: u64) -> ExternalCache {
        let capacity = capacity.min(EMPTY as usize - 1);
        let index_len = (capacity.saturating_mul(2)).max(16).next_power_of_two();
        let blank = Slot {
            rec: SessionRecord {
                id: 0,
                orig: crate::conntrack::Tuple::new(
                    0,
                    std::net::Ipv4Addr::UNSPECIFIED,
                    0,
                    std::net::Ipv4Addr::UNSPECIFIED,
                    0,
                ),
                nat: Default::default(),
                state: 0,
                flags: 0,
                timeout_secs: 0,
            },
            deadline: Instant::ZERO,
            origin: Origin {
                node: 0,
                order: 0,
                mark: 0,
            },
            heap_pos: EMPTY,
        };
        ExternalCache {
            slots: vec![blank; capacity],
            free: (0..capacity as u32).rev().collect(),
            index: vec![EMPTY; index_len],
            index_mask: index_len - 1,
            heap: Vec::with_capacity(capacity),
            seed: mix(seed),
            tombs: vec![Tomb::default(); TOMBSTONES].into_boxed_slice(),
            tomb_next: 0,
            bulk_cursor: (0, 0, 0),
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    fn home(&self, id: u64) -> usize {
        (mix(id ^ self.seed) as usize) & self.index_mask
    }

    fn slot(&self, s: u32) -> Option<&Slot> {
        self.slots.get(s as usize)
    }

    /// (index position, slot) of `id`.
    fn find(&self, id: u64) -> Option<(usize, u32)> {
        let mut i = self.home(id);
        loop {
            let s = *self.index.get(i)?;
            if s == EMPTY {
                return None;
            }
            if self.slot(s).is_some_and(|e| e.rec.id == id) {
                return Some((i, s));
            }
            i = (i + 1) & self.index_mask;
        }
    }

    pub fn get(&self, id: u64) -> Option<&SessionRecord> {
        self.find(id)
            .and_then(|(_, s)| self.slot(s))
            .map(|e| &e.rec)
    }

    /// Seconds left for `id` at `now`.
    pub fn remaining(&self, id: u64, now: Instant) -> Option<u32> {
        let (_, s) = self.find(id)?;
        self.slot(s).map(|e| remaining_secs(now, e.deadline))
    }

    /// Insert or replace a whole session (a `New` message). `late`: the
    /// message comes from a frame older than the newest seen from its
    /// sender (a resend), so a later destroy or update of the session may
    /// have arrived first.
    pub fn upsert(
        &mut self,
        rec: &SessionRecord,
        now: Instant,
        origin: Origin,
        late: bool,
    ) -> Upsert {
        if let Some((_, s)) = self.find(rec.id) {
            let Some(e) = self.slots.get_mut(s as usize) else {
                return Upsert::Full;
            };
            if is_stale(&e.origin, &origin) {
                return Upsert::Stale;
            }
            e.rec = *rec;
            e.origin = origin;
            let d = deadline(now, rec.timeout_secs);
            self.set_deadline(s, d);
            return Upsert::Updated;
        }
        let (mut rec, mut origin) = (*rec, origin);
        if late {
            match self.newer_tomb(rec.id, &origin) {
                Some(Tomb { update: None, .. }) => return Upsert::Stale,
                Some(Tomb {
                    update: Some((state, timeout)),
                    order,
                    ..
                }) => {
                    rec.state = state;
                    rec.timeout_secs = timeout;
                    origin.order = order;
                }
                None => {}
            }
        }
        let Some(s) = self.free.pop() else {
            return Upsert::Full;
        };
        let d = deadline(now, rec.timeout_secs);
        if let Some(e) = self.slots.get_mut(s as usize) {
            e.rec = rec;
            e.origin = origin;
            e.deadline = d;
        }
        let mut i = self.home(rec.id);
        while let Some(&x) = self.index.get(i) {
            if x == EMPTY {
                break;
            }
            i = (i + 1) & self.index_mask;
        }
        if let Some(x) = self.index.get_mut(i) {
            *x = s;
        }
        self.heap_push(s);
        Upsert::Created
    }

    /// Update state and timeout of `id`; `None` if unknown (remembered for a
    /// late `New`).
    pub fn update(
        &mut self,
        id: u64,
        state: u8,
        timeout_secs: u32,
        now: Instant,
        origin: Origin,
    ) -> Option<Upsert> {
        let Some((_, s)) = self.find(id) else {
            self.bury(id, &origin, Some((state, timeout_secs)));
            return None;
        };
        let e = self.slots.get_mut(s as usize)?;
        if is_stale(&e.origin, &origin) {
            return Some(Upsert::Stale);
        }
        e.rec.state = state;
        e.rec.timeout_secs = timeout_secs;
        e.origin = origin;
        self.set_deadline(s, deadline(now, timeout_secs));
        Some(Upsert::Updated)
    }

    /// A `Destroy` of `id` from `origin`: remove it and remember the
    /// destroy for late resends. Whether it was there.
    pub fn destroy(&mut self, id: u64, origin: Origin) -> bool {
        self.bury(id, &origin, None);
        self.remove(id)
    }

    fn bury(&mut self, id: u64, o: &Origin, update: Option<(u8, u32)>) {
        if let Some(t) = self.tombs.get_mut(self.tomb_next) {
            *t = Tomb {
                id,
                node: o.node,
                order: o.order,
                update,
            };
        }
        self.tomb_next = (self.tomb_next + 1) % TOMBSTONES;
    }

    /// The newest remembered event for `id` from `o`'s sender after `o`.
    /// A linear scan: only late (resent) frames ask.
    fn newer_tomb(&self, id: u64, o: &Origin) -> Option<Tomb> {
        self.tombs
            .iter()
            .filter(|t| t.id == id && t.node == o.node && t.order > o.order)
            .max_by_key(|t| t.order)
            .copied()
    }

    /// Remove `id`; whether it was there.
    pub fn remove(&mut self, id: u64) -> bool {
        match self.find(id) {
            Some((i, s)) => {
                self.remove_at(i, s);
                true
            }
            None => false,
        }
    }

    fn remove_at(&mut self, mut hole: usize, s: u32) {
        if let Some(p) = self.slot(s).map(|e| e.heap_pos) {
            self.heap_remove(p);
        }
        self.free.push(s);
        // Backward-shift deletion keeps every probe chain unbroken.
        let mut j = hole;
        loop {
            j = (j + 1) & self.index_mask;
            let x = self.index.get(j).copied().unwrap_or(EMPTY);
            if x == EMPTY {
                break;
            }
            let home = self.slot(x).map(|e| self.home(e.rec.id)).unwrap_or(j);
            // x may move to `hole` iff its home is not in (hole, j] cyclically.
            let dist_home = j.wrapping_sub(home) & self.index_mask;
            let dist_hole = j.wrapping_sub(hole) & self.index_mask;
            if dist_home >= dist_hole {
                if let Some(h) = self.index.get_mut(hole) {
                    *h = x;
                }
                hole = j;
            }
        }
        if let Some(h) = self.index.get_mut(hole) {
            *h = EMPTY;
        }
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.heap
            .first()
            .and_then(|&s| self.slot(s))
            .map(|e| e.deadline)
    }

    /// Remove every entry whose deadline is at or before `now`, calling `f`
    /// with each; returns how many.
    pub fn expire(&mut self, now: Instant, mut f: impl FnMut(&SessionRecord)) -> u64 {
        let mut n = 0;
        while let Some(&s) = self.heap.first() {
            let Some(e) = self.slot(s) else { break };
            if e.deadline > now {
                break;
            }
            let id = e.rec.id;
            f(&e.rec);
            self.remove(id);
            n += 1;
        }
        n
    }

    /// Remove every entry from `node` not written since mark `mark` (the
    /// end of a bulk resync); returns how many. Scans the table: once per
    /// bulk, never per message.
    pub fn sweep(&mut self, node: u16, mark: u32, keep_from: u64) -> u64 {
        let mut n = 0;
        for s in 0..self.slots.len() {
            if let Some(id) = self.sweepable(s, node, mark, keep_from) {
                self.remove(id);
                n += 1;
            }
        }
        n
    }

    /// Make room for a record of `node`'s bulk `mark` in a full cache:
    /// remove one entry that the bulk's end would sweep (from `node`,
    /// written before the bulk began and not since). Whether there was one.
    /// Without this a bulk into a cache full of sessions the sender has
    /// since closed fails record by record and its sweep then empties the
    /// cache (found by the chaos simulator, seed 321). A cursor walks the
    /// slots once per bulk, so a whole bulk costs one pass, not one per
    /// record.
    pub fn evict_for_bulk(&mut self, node: u16, mark: u32, keep_from: u64) -> bool {
        let (n, begun, mut s) = self.bulk_cursor;
        if (n, begun) != (node, keep_from) {
            s = 0;
        }
        let mut found = None;
        while s < self.slots.len() && found.is_none() {
            found = self.sweepable(s, node, mark, keep_from);
            s += 1;
        }
        self.bulk_cursor = (node, keep_from, s);
        found.is_some_and(|id| self.remove(id))
    }

    /// The id in slot `s` if a sweep of `node`'s bulk `mark` would remove it.
    fn sweepable(&self, s: usize, node: u16, mark: u32, keep_from: u64) -> Option<u64> {
        self.slots
            .get(s)
            .filter(|e| e.heap_pos != EMPTY)
            .filter(|e| e.origin.node == node && e.origin.mark != mark)
            // Written by a frame sent after the bulk began: newer.
            .filter(|e| e.origin.order < keep_from)
            .map(|e| e.rec.id)
    }

    /// Every entry, with `timeout_secs` set to what is left at `now`.
    pub fn iter(&self, now: Instant) -> impl Iterator<Item = SessionRecord> + '_ {
        self.heap.iter().filter_map(move |&s| {
            self.slot(s).map(|e| SessionRecord {
                timeout_secs: remaining_secs(now, e.deadline),
                ..e.rec
            })
        })
    }

    /// Hand every entry to `f` (timeouts as left at `now`) and empty the
    /// cache.
    pub fn drain(&mut self, now: Instant, mut f: impl FnMut(&SessionRecord)) -> u64 {
        let mut n = 0;
        for r in self.iter(now) {
            f(&r);
            n += 1;
        }
        self.clear();
        n
    }

    pub fn clear(&mut self) {
        for &s in &self.heap {
            if let Some(e) = self.slots.get_mut(s as usize) {
                e.heap_pos = EMPTY;
            }
        }
        self.heap.clear();
        self.index.fill(EMPTY);
        self.free.clear();
        self.free.extend((0..self.slots.len() as u32).rev());
    }

    // ---- deadline heap (positions tracked in the slots) ----

    fn key(&self, heap_pos: usize) -> Instant {
        self.heap
            .get(heap_pos)
            .and_then(|&s| self.slot(s))
            .map(|e| e.deadline)
            .unwrap_or(Instant::ZERO)
    }

    fn place(&mut self, heap_pos: usize, s: u32) {
        if let Some(h) = self.heap.get_mut(heap_pos) {
            *h = s;
        }
        if let Some(e) = self.slots.get_mut(s as usize) {
            e.heap_pos = heap_pos as u32;
        }
    }

    fn swap(&mut self, a: usize, b: usize) {
        let (sa, sb) = (self.heap.get(a).copied(), self.heap.get(b).copied());
        if let (Some(sa), Some(sb)) = (sa, sb) {
            self.place(a, sb);
            self.place(b, sa);
        }
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.key(i) >= self.key(parent) {
                break;
            }
            self.swap(i, parent);
            i = parent;
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        let n = self.heap.len();
        loop {
            let l = 2 * i + 1;
            let r = l + 1;
            let mut m = i;
            if l < n && self.key(l) < self.key(m) {
                m = l;
            }
            if r < n && self.key(r) < self.key(m) {
                m = r;
            }
            if m == i {
                break;
            }
            self.swap(i, m);
            i = m;
        }
    }

    fn heap_push(&mut self, s: u32) {
        let at = self.heap.len();
        self.heap.push(s);
        self.place(at, s);
        self.sift_up(at);
    }

    fn heap_remove(&mut self, pos: u32) {
        let pos = pos as usize;
        let Some(&s) = self.heap.get(pos) else {
            return;
        };
        let last = self.heap.len() - 1;
        self.swap(pos, last);
        self.heap.pop();
        if let Some(e) = self.slots.get_mut(s as usize) {
            e.heap_pos = EMPTY;
        }
        if pos < self.heap.len() {
            self.sift_down(pos);
            self.sift_up(pos);
        }
    }

    fn set_deadline(&mut self, s: u32, d: Instant) {
        let Some(e) = self.slots.get_mut(s as usize) else {
            return;
        };
        e.deadline = d;
        let p = e.heap_pos as usize;
        self.sift_down(p);
        self.sift_up(p);
    }
}

/// Whether an entry written at `have` must not be overwritten by `new`:
/// same sender, and `new` comes from an earlier frame (a late resend).
fn is_stale(have: &Origin, new: &Origin) -> bool {
    have.node == new.node && new.order < have.order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conntrack::Tuple;
    use std::net::Ipv4Addr;

    fn rec(id: u64, timeout: u32) -> SessionRecord {
        SessionRecord {
            id,
            orig: Tuple::new(
                17,
                Ipv4Addr::new(10, 0, 0, 1),
                (id & 0xffff) as u16,
                Ipv4Addr::new(10, 0, 0, 2),
                53,
            ),
            nat: Default::default(),
            state: 1,
            flags: 0,
            timeout_secs: timeout,
        }
    }

    fn o(order: u64) -> Origin {
        Origin {
            node: 2,
            order,
            mark: 0,
        }
    }

    fn t(s: u64) -> Instant {
        Instant::from_secs(s)
    }

    #[test]
    fn insert_find_update_remove() {
        let mut c = ExternalCache::new(4, 1);
        assert_eq!(c.upsert(&rec(1, 30), t(0), o(1), false), Upsert::Created);
        assert_eq!(c.upsert(&rec(2, 30), t(0), o(1), false), Upsert::Created);
        assert_eq!(c.get(1), Some(&rec(1, 30)));
        assert_eq!(c.update(2, 9, 100, t(0), o(2)), Some(Upsert::Updated));
        assert_eq!(c.get(2).map(|r| r.state), Some(9));
        assert_eq!(c.update(3, 9, 100, t(0), o(2)), None);
        assert!(c.remove(1));
        assert!(!c.remove(1));
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn full_is_reported_and_space_is_reused() {
        let mut c = ExternalCache::new(3, 1);
        for id in 0..3 {
            assert_eq!(c.upsert(&rec(id, 30), t(0), o(1), false), Upsert::Created);
        }
        assert_eq!(c.upsert(&rec(9, 30), t(0), o(1), false), Upsert::Full);
        assert!(c.remove(1));
        assert_eq!(c.upsert(&rec(9, 30), t(0), o(1), false), Upsert::Created);
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn late_frames_do_not_undo_newer_ones() {
        let mut c = ExternalCache::new(4, 1);
        c.upsert(&rec(1, 30), t(0), o(10), false);
        assert_eq!(c.update(1, 7, 30, t(0), o(9)), Some(Upsert::Stale));
        assert_eq!(c.upsert(&rec(1, 99), t(0), o(5), false), Upsert::Stale);
        assert_eq!(c.get(1).map(|r| r.state), Some(1));
        // A destroy in frame 20, then a late resend of frame 10's New.
        assert!(c.destroy(1, o(20)));
        assert_eq!(c.upsert(&rec(1, 30), t(0), o(10), true), Upsert::Stale);
        assert_eq!(c.upsert(&rec(1, 30), t(0), o(10), false), Upsert::Created);
        // An update in frame 31 of a session whose New (frame 30) comes late.
        assert_eq!(c.update(5, 8, 77, t(0), o(31)), None);
        assert_eq!(c.upsert(&rec(5, 30), t(0), o(30), true), Upsert::Created);
        assert_eq!(c.get(5).map(|r| (r.state, r.timeout_secs)), Some((8, 77)));
        assert_eq!(c.update(5, 9, 77, t(0), o(30)), Some(Upsert::Stale));
        // Another sender's data is not ordered against this one.
        let other = Origin {
            node: 3,
            order: 1,
            mark: 0,
        };
        assert_eq!(c.update(1, 7, 30, t(0), other), Some(Upsert::Updated));
    }

    #[test]
    fn entries_expire_by_their_own_timeout_in_order() {
        let mut c = ExternalCache::new(100, 7);
        for id in 0..50u64 {
            c.upsert(&rec(id, (50 - id) as u32), t(0), o(1), false);
        }
        assert_eq!(c.next_deadline(), Some(t(1)));
        let mut gone = Vec::new();
        assert_eq!(c.expire(t(10), |r| gone.push(r.id)), 10);
        assert_eq!(gone, (40..50).rev().collect::<Vec<_>>());
        // a refresh pushes the deadline out
        c.update(0, 1, 1000, t(10), o(2));
        assert_eq!(c.expire(t(60), |_| ()), 39);
        assert_eq!(c.len(), 1);
        assert_eq!(c.remaining(0, t(60)), Some(950));
        assert_eq!(c.iter(t(60)).next().map(|r| r.timeout_secs), Some(950));
    }

    #[test]
    fn sweep_removes_only_unmarked_entries_of_that_sender() {
        let mut c = ExternalCache::new(10, 1);
        let m = |node, mark| Origin {
            node,
            order: 1,
            mark,
        };
        c.upsert(&rec(1, 30), t(0), m(2, 1), false);
        c.upsert(&rec(2, 30), t(0), m(2, 2), false);
        c.upsert(&rec(3, 30), t(0), m(3, 1), false);
        assert_eq!(c.sweep(2, 2, 5), 1);
        assert!(c.get(1).is_none() && c.get(2).is_some() && c.get(3).is_some());
    }

    /// Regression (chaos seed 321): a bulk into a cache full of entries
    /// its sender has since closed replaces them instead of failing.
    #[test]
    fn a_bulk_makes_room_by_evicting_what_its_sweep_would_remove() {
        let mut c = ExternalCache::new(4, 1);
        let m = |node, order, mark| Origin { node, order, mark };
        for id in 0..3 {
            c.upsert(&rec(id, 30), t(0), m(2, 10, 1), false); // before the bulk
        }
        c.upsert(&rec(3, 30), t(0), m(5, 10, 1), false); // another sender's
        // The bulk (mark 2, began at order 20) refreshes id 1, then brings 7.
        c.upsert(&rec(1, 30), t(0), m(2, 21, 2), false);
        assert_eq!(
            c.upsert(&rec(7, 30), t(0), m(2, 22, 2), false),
            Upsert::Full
        );
        assert!(c.evict_for_bulk(2, 2, 20));
        assert_eq!(
            c.upsert(&rec(7, 30), t(0), m(2, 22, 2), false),
            Upsert::Created
        );
        assert!(c.evict_for_bulk(2, 2, 20));
        // Only what the sweep would take: not the refreshed id 1, not id 3.
        assert!(!c.evict_for_bulk(2, 2, 20));
        assert!(c.get(1).is_some() && c.get(3).is_some() && c.get(7).is_some());
        assert_eq!(c.len(), 3);
        // A new bulk starts its walk again.
        c.upsert(&rec(8, 30), t(0), m(2, 23, 2), false);
        assert!(c.evict_for_bulk(2, 3, 30));
    }

    /// Regression (10k sessions under 5% loss): an entry written by a frame
    /// sent after the bulk began survives the sweep even when it was applied
    /// before the BulkBegin (that frame was lost and resent).
    #[test]
    fn sweep_keeps_entries_newer_than_the_bulk_begin() {
        let mut c = ExternalCache::new(10, 1);
        let m = |order, mark| Origin {
            node: 2,
            order,
            mark,
        };
        c.upsert(&rec(1, 30), t(0), m(10, 1), false); // before the bulk
        c.upsert(&rec(2, 30), t(0), m(30, 1), false); // after it, applied early
        assert_eq!(c.sweep(2, 2, 20), 1);
        assert!(c.get(1).is_none() && c.get(2).is_some());
    }

    #[test]
    fn drain_hands_out_everything_and_empties() {
        let mut c = ExternalCache::new(10, 1);
        for id in 0..10 {
            c.upsert(&rec(id, 30), t(0), o(1), false);
        }
        let mut n = 0;
        assert_eq!(
            c.drain(t(10), |r| {
                assert_eq!(r.timeout_secs, 20);
                n += 1
            }),
            10
        );
        assert_eq!(n, 10);
        assert!(c.is_empty());
        for id in 0..10 {
            assert_eq!(c.upsert(&rec(id, 30), t(0), o(1), false), Upsert::Created);
        }
    }

    /// Random operations against a model: index and heap stay consistent.
    #[test]
    fn matches_a_model_under_random_operations() {
        use std::collections::BTreeMap;
        let mut c = ExternalCache::new(64, 42);
        let mut model: BTreeMap<u64, u32> = BTreeMap::new();
        let mut x: u64 = 0x1234_5678;
        let mut now = 0u64;
        for step in 0..20_000u64 {
            x = mix(x.wrapping_add(step));
            let id = x % 97;
            match x >> 60 {
                0..=7 => {
                    let timeout = ((x >> 20) % 50) as u32 + 1;
                    let r = c.upsert(&rec(id, timeout), t(now), o(step), false);
                    if model.contains_key(&id) || model.len() < 64 {
                        assert_ne!(r, Upsert::Full);
                        model.insert(id, (now as u32) + timeout);
                    } else {
                        assert_eq!(r, Upsert::Full);
                    }
                }
                8..=11 => {
                    assert_eq!(c.remove(id), model.remove(&id).is_some());
                }
                _ => {
                    now += (x >> 30) % 5;
                    c.expire(t(now), |r| {
                        assert!(model.remove(&r.id).is_some_and(|d| u64::from(d) <= now));
                    });
                    assert!(model.values().all(|&d| u64::from(d) > now));
                }
            }
            assert_eq!(c.len(), model.len());
        }
        for &id in model.keys() {
            assert!(c.get(id).is_some());
        }
    }
}
