//! The storage of the session table: a slab of `Session` records allocated
//! once, a keyed hash index over both tuples of every session, and one
//! expiry queue per timeout class. Owns only structure (links, free list,
//! order); never decides protocol state or timeouts and never allocates
//! after `new`.
//!
//! Index: `buckets` (a power of two ≥ capacity, so at most two tuples per
//! bucket on average) hold the head of a chain of index entries, one per
//! tuple of every session. An entry is the word `tag << 24 | slot << 1 |
//! dir`, where `tag` is the top byte of the tuple's hash; the next entry of
//! the chain is `links[slot << 1 | dir]`, a dense array beside the slab.
//! A lookup walks bucket and links and reads a session record only when
//! the tag matches (a wrong match 1 time in 256), so a miss usually touches
//! no session at all. The hash is SipHash-1-3 under the caller's secret
//! key, so chain lengths stay those of a random function however tuples
//! are chosen (expected 2 entries per chain when full). Capacity is at
//! most 2^23 - 1 slots, so no entry word equals `NIL`.
//!
//! Expiry: each class's sessions form a doubly linked queue (u32 links in
//! the slab) in deadline order. Refreshing a session moves it to the tail
//! of its class in O(1) — its new deadline `now + timeout` is the latest of
//! the class. Expiring pops heads while they are due: work proportional to
//! what expires. A session with an arbitrary deadline (learned from sync)
//! is placed by walking back from the tail at most `SORTED_WALK` entries;
//! if that is not enough it is appended and the queue is marked unsorted
//! (remembering the earliest such deadline, so `earliest` never reports
//! late), and the next expiry pass sorts that queue once (list merge sort,
//! O(n log n), no allocation) before popping.

use super::hash::{TupleHasher, hash_tuple_with};
use super::session::{CLASSES, Class, NIL, Session, flag};
use super::{Dir, Tuple};

/// Entries an out-of-order insert walks back from the tail before it falls
/// back to "append and sort later".
pub(super) const SORTED_WALK: usize = 16;

/// A tuple's bucket and tag.
#[derive(Copy, Clone, Debug)]
pub(super) struct Place {
    bucket: usize,
    tag: u32,
}

#[derive(Copy, Clone, Debug)]
struct Queue {
    head: u32,
    tail: u32,
    /// Earliest deadline appended out of order since the last sort.
    unsorted: Option<u32>,
}

const EMPTY_QUEUE: Queue = Queue {
    head: NIL,
    tail: NIL,
    unsorted: None,
};

#[derive(Clone)]
pub(super) struct Table {
    slots: Vec<Session>,
    /// Next index entry after the entry `slot << 1 | dir`.
    links: Vec<u32>,
    buckets: Vec<u32>,
    mask: usize,
    /// The SipHash state of the index key (see `hash`).
    key: TupleHasher,
    free: u32,
    len: usize,
    queues: [Queue; CLASSES],
}

/// Largest capacity: slot numbers fit 23 bits under the 8-bit tag.
const MAX_SLOTS: u32 = (1 << 23) - 1;
const TAG_SHIFT: u32 = 24;
const POS_MASK: u32 = (1 << TAG_SHIFT) - 1;

/// The position of a tuple in `links`: `slot << 1 | dir`.
fn pos(idx: u32, dir: Dir) -> u32 {
    idx << 1 | u32::from(dir == Dir::Reply)
}

/// Slot and direction of an entry word.
fn split(e: u32) -> (u32, Dir) {
    let dir = if e & 1 == 0 {
        Dir::Original
    } else {
        Dir::Reply
    };
    ((e & POS_MASK) >> 1, dir)
}

fn tag_of(hash: u64) -> u32 {
    (hash >> 56) as u32
}

impl Table {
    /// `capacity` slots (at least 1, at most 2^23 - 1), all free.
    pub fn new(capacity: u32, key: [u8; 16]) -> Table {
        let cap = capacity.clamp(1, MAX_SLOTS);
        let nbuckets = cap.next_power_of_two() as usize;
        let mut slots = vec![Session::EMPTY; cap as usize];
        for (i, s) in slots.iter_mut().enumerate() {
            s.qnext = if i + 1 < cap as usize {
                i as u32 + 1
            } else {
                NIL
            };
        }
        Table {
            slots,
            links: vec![NIL; 2 * cap as usize],
            buckets: vec![NIL; nbuckets],
            mask: nbuckets - 1,
            key: TupleHasher::new(&key),
            free: 0,
            len: 0,
            queues: [EMPTY_QUEUE; CLASSES],
        }
    }

    pub fn capacity(&self) -> usize {
        self.slots.len()
    }
    pub fn len(&self) -> usize {
        self.len
    }
    /// Bytes of the index: bucket heads and chain links.
    pub fn index_bytes(&self) -> usize {
        (self.buckets.len() + self.links.len()) * 4
    }

    /// The record in slot `idx`, live or not.
    pub fn slot(&self, idx: u32) -> Option<&Session> {
        self.slots.get(idx as usize)
    }
    pub fn slot_mut(&mut self, idx: u32) -> Option<&mut Session> {
        self.slots.get_mut(idx as usize)
    }
    /// The session in slot `idx` if the slot is live.
    pub fn live(&self, idx: u32) -> Option<&Session> {
        self.slot(idx).filter(|s| s.has(flag::LIVE))
    }
    pub fn live_mut(&mut self, idx: u32) -> Option<&mut Session> {
        self.slot_mut(idx).filter(|s| s.has(flag::LIVE))
    }
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Session)> {
        (0u32..)
            .zip(self.slots.iter())
            .filter(|(_, s)| s.has(flag::LIVE))
    }

    /// Where a tuple goes in the index; hashed once for a lookup and the
    /// link that follows it.
    pub fn place(&self, t: &Tuple) -> Place {
        let h = hash_tuple_with(&self.key, t);
        Place {
            bucket: h as usize & self.mask,
            tag: tag_of(h),
        }
    }

    fn next_entry(&self, e: u32) -> u32 {
        self.links
            .get((e & POS_MASK) as usize)
            .copied()
            .unwrap_or(NIL)
    }

    fn set_next_entry(&mut self, e: u32, next: u32) {
        if let Some(l) = self.links.get_mut((e & POS_MASK) as usize) {
            *l = next;
        }
    }

    pub fn lookup(&self, t: &Tuple) -> Option<(u32, Dir)> {
        self.lookup_at(self.place(t), t)
    }

    /// `lookup` with the place already computed.
    pub fn lookup_at(&self, p: Place, t: &Tuple) -> Option<(u32, Dir)> {
        let mut e = *self.buckets.get(p.bucket)?;
        while e != NIL {
            if e >> TAG_SHIFT == p.tag {
                let (idx, dir) = split(e);
                if self.live(idx).is_some_and(|s| s.matches(dir, t)) {
                    return Some((idx, dir));
                }
            }
            e = self.next_entry(e);
        }
        None
    }

    /// Take a free slot (not yet live, not linked anywhere).
    pub fn alloc(&mut self) -> Option<u32> {
        let idx = self.free;
        let s = self.slot_mut(idx)?;
        let next = s.qnext;
        s.qnext = NIL;
        self.free = next;
        Some(idx)
    }

    /// Put a filled slot (`Session::fill`) into the index at the places of
    /// its original and reply tuples; it is live from now on. The caller
    /// queues it.
    pub fn link(&mut self, idx: u32, [orig, reply]: [Place; 2]) {
        for (dir, p) in [(Dir::Original, orig), (Dir::Reply, reply)] {
            let e = p.tag << TAG_SHIFT | pos(idx, dir);
            if let Some(head) = self.buckets.get_mut(p.bucket) {
                let next = *head;
                *head = e;
                self.set_next_entry(e, next);
            }
        }
        self.len += 1;
    }

    /// Take a live session out of the index and its queue and free the
    /// slot (its `IN_RING` bit stays).
    pub fn release(&mut self, idx: u32) {
        let Some(s) = self.live(idx) else { return };
        let tuples = [(Dir::Original, s.orig()), (Dir::Reply, s.reply())];
        for (dir, t) in tuples {
            self.unchain(self.place(&t).bucket, pos(idx, dir));
        }
        self.dequeue(idx);
        let free = self.free;
        if let Some(s) = self.slot_mut(idx) {
            s.flags &= flag::IN_RING;
            s.qnext = free;
            self.free = idx;
            self.len = self.len.saturating_sub(1);
        }
    }

    /// Remove the entry at `links` position `p` from bucket `b`'s chain.
    fn unchain(&mut self, b: usize, p: u32) {
        let Some(&head) = self.buckets.get(b) else {
            return;
        };
        let next = self.links.get(p as usize).copied().unwrap_or(NIL);
        if head != NIL && head & POS_MASK == p {
            if let Some(h) = self.buckets.get_mut(b) {
                *h = next;
            }
            return;
        }
        let mut e = head;
        while e != NIL {
            let after = self.next_entry(e);
            if after != NIL && after & POS_MASK == p {
                self.set_next_entry(e, next);
                return;
            }
            e = after;
        }
    }

    // ----- expiry queues -----

    fn q(&mut self, c: Class) -> &mut Queue {
        // `Class as usize` < CLASSES by construction; the fallback is unused.
        let i = (c as usize).min(CLASSES - 1);
        &mut self.queues[i]
    }

    fn expires(&self, idx: u32) -> u32 {
        self.slot(idx).map_or(0, |s| s.expires)
    }
    fn qnext(&self, idx: u32) -> u32 {
        self.slot(idx).map_or(NIL, |s| s.qnext)
    }
    fn qprev(&self, idx: u32) -> u32 {
        self.slot(idx).map_or(NIL, |s| s.qprev)
    }
    fn set_qnext(&mut self, idx: u32, v: u32) {
        if let Some(s) = self.slot_mut(idx) {
            s.qnext = v;
        }
    }
    fn set_qprev(&mut self, idx: u32, v: u32) {
        if let Some(s) = self.slot_mut(idx) {
            s.qprev = v;
        }
    }

    /// The first session of a class (the earliest deadline once sorted).
    pub fn head(&self, c: Class) -> Option<u32> {
        let h = self.queues.get(c as usize)?.head;
        (h != NIL).then_some(h)
    }
    /// The session after `idx` in its queue.
    pub fn next_in_queue(&self, idx: u32) -> Option<u32> {
        let n = self.qnext(idx);
        (n != NIL).then_some(n)
    }

    /// Insert `idx` between `prev` and `next` (either NIL at the ends).
    fn splice(&mut self, c: Class, idx: u32, prev: u32, next: u32) {
        self.set_qprev(idx, prev);
        self.set_qnext(idx, next);
        if prev == NIL {
            self.q(c).head = idx;
        } else {
            self.set_qnext(prev, idx);
        }
        if next == NIL {
            self.q(c).tail = idx;
        } else {
            self.set_qprev(next, idx);
        }
    }

    /// Append at the tail: the caller guarantees its deadline is the
    /// latest of the class (a refresh with the class timeout).
    pub fn enqueue_back(&mut self, idx: u32, c: Class) {
        let tail = self.q(c).tail;
        self.splice(c, idx, tail, NIL);
    }

    /// Put at the head: the caller guarantees its deadline is the earliest.
    pub fn enqueue_front(&mut self, idx: u32, c: Class) {
        let head = self.q(c).head;
        self.splice(c, idx, NIL, head);
    }

    /// Insert by deadline, walking back from the tail at most
    /// `SORTED_WALK` entries; past that, append and mark the queue for a
    /// sort. Returns false in that case.
    pub fn enqueue_sorted(&mut self, idx: u32, c: Class) -> bool {
        let deadline = self.expires(idx);
        let mut after = self.q(c).tail;
        for _ in 0..SORTED_WALK {
            if after == NIL || self.expires(after) <= deadline {
                let next = if after == NIL {
                    self.q(c).head
                } else {
                    self.qnext(after)
                };
                self.splice(c, idx, after, next);
                return true;
            }
            after = self.qprev(after);
        }
        self.enqueue_back(idx, c);
        let q = self.q(c);
        q.unsorted = Some(q.unsorted.map_or(deadline, |m| m.min(deadline)));
        false
    }

    /// Unlink a session from whatever queue holds it.
    pub fn dequeue(&mut self, idx: u32) {
        let (prev, next) = (self.qprev(idx), self.qnext(idx));
        if prev == NIL {
            if let Some(q) = self.queues.iter_mut().find(|q| q.head == idx) {
                q.head = next;
            }
        } else {
            self.set_qnext(prev, next);
        }
        if next == NIL {
            if let Some(q) = self.queues.iter_mut().find(|q| q.tail == idx) {
                q.tail = prev;
            }
        } else {
            self.set_qprev(next, prev);
        }
        self.set_qprev(idx, NIL);
        self.set_qnext(idx, NIL);
    }

    /// The earliest deadline (seconds) of any queue; a marked-unsorted
    /// queue reports the earliest out-of-order deadline too.
    pub fn earliest(&self) -> Option<u32> {
        self.queues
            .iter()
            .flat_map(|q| [(q.head != NIL).then(|| self.expires(q.head)), q.unsorted])
            .flatten()
            .min()
    }

    /// Sort a queue marked unsorted (see the module doc). Returns whether
    /// it sorted.
    pub fn sort_if_needed(&mut self, c: Class) -> bool {
        if self.q(c).unsorted.take().is_none() {
            return false;
        }
        self.merge_sort(c);
        true
    }

    /// Bottom-up merge sort of a queue by deadline through the `qnext`
    /// links (stable, O(n log n), no allocation), then `qprev` and the
    /// tail rebuilt in one pass.
    fn merge_sort(&mut self, c: Class) {
        let mut list = self.q(c).head;
        let mut run = 1usize;
        while list != NIL {
            let (mut p, mut merges) = (list, 0);
            let mut tail = NIL;
            list = NIL;
            while p != NIL {
                merges += 1;
                let mut q = p;
                let mut psize = 0;
                while psize < run && q != NIL {
                    psize += 1;
                    q = self.qnext(q);
                }
                let mut qsize = run;
                while psize > 0 || (qsize > 0 && q != NIL) {
                    let take_p =
                        psize > 0 && (qsize == 0 || q == NIL || self.expires(p) <= self.expires(q));
                    let e = if take_p {
                        let e = p;
                        p = self.qnext(p);
                        psize -= 1;
                        e
                    } else {
                        let e = q;
                        q = self.qnext(q);
                        qsize = qsize.saturating_sub(1);
                        e
                    };
                    if tail == NIL {
                        list = e;
                    } else {
                        self.set_qnext(tail, e);
                    }
                    tail = e;
                }
                p = q;
            }
            self.set_qnext(tail, NIL);
            if merges <= 1 {
                break;
            }
            run = run.saturating_mul(2);
        }
        self.q(c).head = list;
        let (mut prev, mut e) = (NIL, list);
        while e != NIL {
            self.set_qprev(e, prev);
            prev = e;
            e = self.qnext(e);
        }
        self.q(c).tail = prev;
    }

    /// Every invariant of the structure, for tests: each live session is
    /// found under both tuples and sits in exactly the queue of its class;
    /// queues not marked unsorted are in deadline order; free + live =
    /// capacity.
    #[cfg(test)]
    pub fn check(&self) {
        let mut seen = vec![0u8; self.slots.len()];
        for c in Class::ALL {
            let q = self.queues[c as usize];
            let (mut prev, mut e) = (NIL, q.head);
            while e != NIL {
                let s = self.live(e).expect("queued slot is live");
                assert_eq!(s.class(), c, "slot {e} in the queue of its class");
                assert_eq!(s.qprev, prev, "prev link of {e}");
                if prev != NIL && q.unsorted.is_none() {
                    assert!(self.expires(prev) <= s.expires, "{c:?} in deadline order");
                }
                seen[e as usize] += 1;
                prev = e;
                e = s.qnext;
            }
            assert_eq!(q.tail, prev, "tail of {c:?}");
        }
        let mut live = 0;
        for (i, s) in self.iter() {
            live += 1;
            assert_eq!(seen[i as usize], 1, "slot {i} queued once");
            assert_eq!(self.lookup(&s.orig()).map(|x| x.0), Some(i));
            assert!(self.lookup(&s.reply()).is_some());
        }
        assert_eq!(live, self.len);
        let (mut free, mut e) = (0, self.free);
        while e != NIL {
            assert!(!self.slots[e as usize].has(flag::LIVE));
            free += 1;
            e = self.slots[e as usize].qnext;
        }
        assert_eq!(free + live, self.slots.len());
        let chained: usize = (0..self.buckets.len())
            .map(|b| {
                let (mut n, mut e) = (0, self.buckets[b]);
                while e != NIL {
                    n += 1;
                    e = self.next_entry(e);
                }
                n
            })
            .sum();
        assert_eq!(chained, 2 * live, "two index entries per session");
    }
}
