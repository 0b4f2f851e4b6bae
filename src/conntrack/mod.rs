//! Connection tracking: the fixed-size session table of the dataplane.
//!
//! Owns: flow identity (`tuple`), the session table (`table`: a slab
//! allocated once, a keyed index over both tuples of every session, one
//! expiry queue per timeout class), the protocol state machines (`tcp`;
//! UDP, ICMP echo and other protocols here), per-session counters, and the
//! hooks conntrack-sync uses (`sync`: changes to export, sessions learned
//! from the peer). Never: parses frames (the engine fills a `PacketInfo`
//! from `wire` views), decides NAT or firewall verdicts, reads a clock, or
//! allocates after `new`.
//!
//! Datagram protocols follow Linux: UDP is UNREPLIED (udp timeout) until a
//! reply, REPLIED after it, and ASSURED (udp_stream timeout) with the next
//! packet either way; ICMP echo (request creates, reply matches, the
//! identifier is both ports) is never assured, icmp timeout; any other
//! protocol is tracked by address pair like UDP with the generic timeout.
//!
//! Deadlines are whole seconds (`ceil(now) + timeout`), so a session
//! expires at most one second after its exact timeout and packets within
//! the same second do not touch the expiry queues. When the table is full,
//! `insert` evicts the oldest non-assured session it finds among the first
//! `EARLY_DROP_SCAN` of each class (least valuable classes first), like
//! Linux early_drop, else refuses the new flow; both are counted.

pub mod frag;
mod hash;
mod session;
mod sync;
mod table;
mod tcp;
mod tcp_fast;
pub mod tuple;

pub use hash::{hash_tuple, siphash, siphash13};
pub use session::{Class, NatFlags, Session, TcpState};
pub use sync::{Change, SyncedSession};
pub use tuple::Tuple;

use crate::config;
use crate::time::Instant;
use crate::wire::protocol;
use crate::wire::tcp::{SeqNumber, TcpPacket, flags as tcp_flags};
use session::{CLASSES, flag};
use std::collections::VecDeque;
use table::Table;

/// Which way a packet runs in its session.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    /// From the side that opened the session.
    Original,
    /// The answering side.
    Reply,
}

/// A packet's connection state, as firewall rules match it
/// (`option state 'new,established,related,invalid'`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum CtState {
    /// Would open a session (no session yet), or reopened one (a SYN on a
    /// TIME_WAIT/CLOSE session).
    New,
    /// Belongs to a tracked session (either direction).
    Established,
    /// An ICMP error about a tracked session.
    Related,
    /// Fits no session and cannot open one (e.g. a mid-stream TCP segment),
    /// or is outside its session's TCP window.
    Invalid,
}

/// A session's slot in the table; valid until the session is removed.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct SessionIdx(u32);

impl SessionIdx {
    pub fn get(self) -> u32 {
        self.0
    }
}

/// The TCP header fields tracking needs.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct TcpInfo {
    /// The flag byte (`wire::tcp::flags`).
    pub flags: u8,
    pub seq: SeqNumber,
    pub ack: SeqNumber,
    /// The raw (unscaled) window field.
    pub window: u16,
    /// The window-scale option of a SYN.
    pub wscale: Option<u8>,
    pub payload_len: u16,
}

impl TcpInfo {
    /// A segment without a window-scale option.
    pub const fn new(flags: u8, seq: u32, ack: u32, window: u16, payload_len: u16) -> TcpInfo {
        TcpInfo {
            flags,
            seq: SeqNumber(seq),
            ack: SeqNumber(ack),
            window,
            wscale: None,
            payload_len,
        }
    }

    /// The fields of a checked segment view. Inlined (the forwarding
    /// path reads a few fixed offsets); only a SYN's option walk is a call.
    #[inline(always)]
    pub fn from_segment<T: AsRef<[u8]>>(p: &TcpPacket<T>) -> TcpInfo {
        TcpInfo {
            flags: p.flags(),
            seq: p.seq(),
            ack: p.ack_seq(),
            window: p.window_len(),
            wscale: if p.syn() { syn_window_scale(p) } else { None },
            payload_len: u16::try_from(p.payload().len()).unwrap_or(u16::MAX),
        }
    }
}

/// The window-scale option of a SYN (out of line: the option walk is
/// rare and long).
#[inline(never)]
fn syn_window_scale<T: AsRef<[u8]>>(p: &TcpPacket<T>) -> Option<u8> {
    p.window_scale()
}

/// What the transport header says, as far as tracking cares.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum L4 {
    Tcp(TcpInfo),
    /// ICMP echo request or reply (the identifier is in the tuple's ports).
    IcmpEcho {
        request: bool,
    },
    /// UDP, or any protocol but TCP and ICMP.
    Other,
}

/// One packet as the tracker sees it; plain data the engine fills.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PacketInfo {
    pub tuple: Tuple,
    /// IP total length, for the byte counters.
    pub len: u16,
    pub l4: L4,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum InsertError {
    /// No free slot and no non-assured session to evict.
    Full,
    /// A session already holds the original or reply tuple.
    Exists,
    /// A session learned from sync clashes with a live one's tuple.
    Conflict,
    /// The packet may not open a session (see `Conntrack::may_create`).
    NotNew,
    /// A synced record that makes no sense (a TCP session without a state).
    Invalid,
}

/// Counters of the table, each a drop or event reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub inserted: u64,
    /// Sessions committed from sync.
    pub synced: u64,
    pub expired: u64,
    pub removed: u64,
    /// Non-assured sessions evicted to make room (early drop).
    pub evicted: u64,
    /// TCP sessions reopened by a SYN in TIME_WAIT or CLOSE.
    pub reopened: u64,
    pub drop_full: u64,
    pub drop_exists: u64,
    /// `insert` with a packet that may not open a session.
    pub drop_not_new: u64,
    pub sync_conflict: u64,
    pub sync_invalid: u64,
    /// Synced inserts that did not find their place near the queue tail
    /// (the queue is sorted at the next expiry pass).
    pub sync_unordered: u64,
    pub invalid_tcp_flags: u64,
    pub invalid_tcp_state: u64,
    pub invalid_tcp_window: u64,
    /// The packet's transport does not fit the session's protocol.
    pub invalid_proto: u64,
    /// TCP segments passed without changing the session (Linux "ignore").
    pub tcp_ignored: u64,
    /// Out-of-window segments let through by a synced session before it
    /// had seen both directions.
    pub tcp_liberal: u64,
    /// Destroy records lost because the destroy ring was full.
    pub changes_lost: u64,
}

/// Sessions looked at per class when the table is full and a new flow
/// needs a slot.
pub const EARLY_DROP_SCAN: usize = 8;

/// Classes searched for an eviction victim, least valuable first (UDP
/// streams are always assured).
const EARLY_DROP_ORDER: [Class; 11] = [
    Class::TcpSynSent,
    Class::TcpSynRecv,
    Class::TcpClose,
    Class::TcpTimeWait,
    Class::TcpLastAck,
    Class::TcpFinWait,
    Class::TcpCloseWait,
    Class::Udp,
    Class::Icmp,
    Class::Generic,
    Class::TcpEstablished,
];

const COUNTER_MASK: u64 = (1 << 48) - 1;

#[derive(Clone)]
pub struct Conntrack {
    table: Table,
    /// Seconds per class.
    timeouts: [u32; CLASSES],
    id_base: u64,
    counter: u64,
    /// Slots with a change to report; each slot at most once (`IN_RING`).
    dirty: VecDeque<u32>,
    /// Ids of removed reported sessions.
    destroyed: VecDeque<u64>,
    destroyed_cap: usize,
    stats: Stats,
}

/// Protocol state before a packet, to see what it changed.
#[derive(Copy, Clone, PartialEq, Eq)]
struct Before {
    class: Class,
    state: u8,
    flags: u8,
}

impl Before {
    #[inline]
    fn of(s: &Session) -> Before {
        Before {
            class: s.class(),
            state: s.state,
            flags: s.flags & (flag::ASSURED | flag::SEEN_REPLY),
        }
    }
}

fn secs_floor(now: Instant) -> u32 {
    u32::try_from(now.as_micros() / 1_000_000).unwrap_or(u32::MAX)
}

fn secs_ceil(now: Instant) -> u32 {
    u32::try_from(now.as_micros().div_ceil(1_000_000)).unwrap_or(u32::MAX)
}

fn opens(proto: u8, l4: &L4) -> bool {
    match (proto, l4) {
        (protocol::TCP, L4::Tcp(t)) => tcp::opens(t.flags),
        (protocol::ICMP, L4::IcmpEcho { request }) => *request,
        (protocol::TCP | protocol::ICMP, _) => false,
        (_, l4) => *l4 == L4::Other,
    }
}

impl Conntrack {
    /// A table of `cfg.max_entries` sessions, all memory allocated here.
    /// Ids are `node_id << 48 | counter`; `hash_key` keys the index hash.
    pub fn new(cfg: &config::Conntrack, node_id: u16, hash_key: [u8; 16]) -> Conntrack {
        let table = Table::new(cfg.max_entries, hash_key);
        let cap = table.capacity();
        let destroyed_cap = (cap / 8).max(256);
        Conntrack {
            table,
            timeouts: Class::ALL.map(|c| c.timeout(&cfg.timeouts)),
            id_base: u64::from(node_id) << 48,
            counter: 0,
            dirty: VecDeque::with_capacity(cap),
            destroyed: VecDeque::with_capacity(destroyed_cap),
            destroyed_cap,
            stats: Stats::default(),
        }
    }

    /// Give this run's ids their own range: the counter starts at the low
    /// 16 bits of `boot` << 32. Ids must not repeat across restarts: a
    /// peer still holds (and may bounce back) sessions of the previous run,
    /// and a destroy of an old session would remove a new one of the same
    /// id from its cache (found by the chaos simulator, seed 2887).
    pub fn start_ids_at(&mut self, boot: u32) {
        self.counter = u64::from(boot as u16) << 32;
    }

    pub fn capacity(&self) -> usize {
        self.table.capacity()
    }
    pub fn len(&self) -> usize {
        self.table.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
    /// Bytes held by the table: records, index buckets and change rings.
    pub fn memory_bytes(&self) -> usize {
        self.capacity() * core::mem::size_of::<Session>()
            + self.table.index_bytes()
            + self.dirty.capacity() * 4
            + self.destroyed.capacity() * 8
    }

    /// The session a packet with this tuple belongs to, and which way it runs.
    #[inline]
    pub fn lookup(&self, t: &Tuple) -> Option<(SessionIdx, Dir)> {
        self.table.lookup(t).map(|(i, d)| (SessionIdx(i), d))
    }

    /// May this packet (with no session) open one? TCP: only a plain SYN
    /// (no mid-stream pick-up); ICMP: only an echo request; UDP and other
    /// protocols: yes.
    pub fn may_create(pkt: &PacketInfo) -> bool {
        opens(pkt.tuple.proto, &pkt.l4)
    }

    pub fn get(&self, idx: SessionIdx) -> Option<&Session> {
        self.table.live(idx.0)
    }

    /// Live sessions in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (SessionIdx, &Session)> {
        self.table.iter().map(|(i, s)| (SessionIdx(i), s))
    }

    /// Open a session for `pkt` (the first packet, original direction).
    /// `reply` already reflects NAT; its protocol is taken from `orig`.
    pub fn insert(
        &mut self,
        now: Instant,
        orig: Tuple,
        reply: Tuple,
        nat: NatFlags,
        pkt: &PacketInfo,
    ) -> Result<SessionIdx, InsertError> {
        if !opens(orig.proto, &pkt.l4) {
            self.stats.drop_not_new += 1;
            return Err(InsertError::NotNew);
        }
        let Some(places) = self.free_places(&orig, &reply) else {
            self.stats.drop_exists += 1;
            return Err(InsertError::Exists);
        };
        let idx = self.claim_slot()?;
        self.counter = (self.counter + 1) & COUNTER_MASK;
        let id = self.id_base | self.counter;
        let Some(s) = self.table.slot_mut(idx) else {
            return Err(InsertError::Full);
        };
        s.fill(id, &orig, &reply, nat);
        if let L4::Tcp(t) = &pkt.l4 {
            tcp::open(s, t);
        }
        s.account(Dir::Original, pkt.len);
        let class = s.class();
        self.table.link(idx, places);
        self.enqueue_fresh(idx, secs_ceil(now).saturating_add(self.timeout(class)));
        self.mark_dirty(idx);
        self.stats.inserted += 1;
        Ok(SessionIdx(idx))
    }

    /// Account a packet of a session and run its protocol state machine:
    /// `Established`, `Invalid` (counted; the session is unchanged), or
    /// `New` when a SYN reopened a TIME_WAIT/CLOSE session.
    pub fn track(&mut self, now: Instant, idx: SessionIdx, dir: Dir, pkt: &PacketInfo) -> CtState {
        let Some(s) = self.table.live_mut(idx.0) else {
            return CtState::Invalid;
        };
        match (s.proto(), &pkt.l4) {
            (protocol::TCP, L4::Tcp(t)) => {
                // The common case (an in-window ACK on an established
                // session) without the general state machine: the same
                // window update as `tcp::segment` (tcp_fast's test
                // compares them), then what the tail of `track_tcp` does
                // for `Accept(Established)` from ESTABLISHED without RST
                // (state and class unchanged, not refused, not liberal),
                // on the session already in hand.
                let flags0 = s.flags;
                if tcp_fast::established_ack(s, dir, t) {
                    if flags0 & flag::SEEN_REPLY != 0 {
                        s.flags |= flag::ASSURED;
                    }
                    if dir == Dir::Reply {
                        s.flags |= flag::SEEN_REPLY;
                    }
                    s.account(dir, pkt.len);
                    // Only ASSURED / SEEN_REPLY may have changed: what
                    // `settle` compares (`Before`), the class stays
                    // TcpEstablished.
                    let changed = s.flags != flags0;
                    self.refresh(now, idx.0, Class::TcpEstablished, false, changed);
                    return CtState::Established;
                }
                self.track_tcp(now, idx.0, dir, pkt.len, t)
            }
            (protocol::ICMP, L4::IcmpEcho { .. }) => {
                let before = Before::of(s);
                if dir == Dir::Reply {
                    s.flags |= flag::SEEN_REPLY;
                }
                s.account(dir, pkt.len);
                self.settle(now, idx.0, before);
                CtState::Established
            }
            (protocol::TCP | protocol::ICMP, _) | (_, L4::Tcp(_) | L4::IcmpEcho { .. }) => {
                self.stats.invalid_proto += 1;
                CtState::Invalid
            }
            (_, L4::Other) => {
                let before = Before::of(s);
                // Linux marks the reply seen after the handler: the first
                // reply still gets the unreplied timeout, the next packet
                // either way makes the flow assured.
                if s.has(flag::SEEN_REPLY) {
                    s.flags |= flag::ASSURED;
                }
                if dir == Dir::Reply {
                    s.flags |= flag::SEEN_REPLY;
                }
                s.account(dir, pkt.len);
                self.settle(now, idx.0, before);
                CtState::Established
            }
        }
    }

    // TCP segments `track`'s fast path did not take (out of line: the
    // general state machine is the rare case).
    #[inline(never)]
    fn track_tcp(&mut self, now: Instant, idx: u32, dir: Dir, len: u16, t: &TcpInfo) -> CtState {
        let Some(s) = self.table.live_mut(idx) else {
            return CtState::Invalid;
        };
        let before = Before::of(s);
        let old = s.tcp_state();
        let (new, liberal) = match tcp::segment(s, dir, t) {
            tcp::Verdict::Accept(n) => (n, false),
            tcp::Verdict::Liberal(n) => (n, true),
            tcp::Verdict::Ignore => {
                s.account(dir, len);
                self.stats.tcp_ignored += 1;
                return CtState::Established;
            }
            tcp::Verdict::Reopen => {
                tcp::open(s, t);
                s.flags &= !(flag::ASSURED | flag::SEEN_REPLY);
                s.account(dir, len);
                self.stats.reopened += 1;
                self.settle(now, idx, before);
                return CtState::New;
            }
            tcp::Verdict::InvalidFlags => {
                self.stats.invalid_tcp_flags += 1;
                return CtState::Invalid;
            }
            tcp::Verdict::InvalidState => {
                self.stats.invalid_tcp_state += 1;
                return CtState::Invalid;
            }
            tcp::Verdict::InvalidWindow => {
                self.stats.invalid_tcp_window += 1;
                return CtState::Invalid;
            }
        };
        s.state = new as u8;
        // A RST before any reply: the connection was refused or aborted;
        // expire it at once (Linux kills it), after this packet passed.
        let refused = t.flags & tcp_flags::RST != 0 && !s.has(flag::SEEN_REPLY);
        if s.has(flag::SEEN_REPLY)
            && matches!(old, Some(TcpState::SynRecv | TcpState::Established))
            && new == TcpState::Established
        {
            s.flags |= flag::ASSURED;
        }
        if dir == Dir::Reply {
            s.flags |= flag::SEEN_REPLY;
        }
        s.account(dir, len);
        self.stats.tcp_liberal += u64::from(liberal);
        if refused {
            self.expire_now(now, idx);
        } else {
            self.settle(now, idx, before);
        }
        CtState::Established
    }

    /// Remove a session now (e.g. NAT or firewall gave up on it).
    pub fn remove(&mut self, idx: SessionIdx) -> bool {
        if self.table.live(idx.0).is_none() {
            return false;
        }
        self.discard(idx.0);
        self.stats.removed += 1;
        true
    }

    /// Remove every session whose deadline has passed; returns how many.
    pub fn handle_timeout(&mut self, now: Instant) -> usize {
        let now_s = secs_floor(now);
        let mut n = 0;
        for c in Class::ALL {
            self.table.sort_if_needed(c);
            while let Some(i) = self.table.head(c) {
                if self.table.slot(i).is_none_or(|s| s.expires > now_s) {
                    break;
                }
                self.discard(i);
                n += 1;
            }
        }
        self.stats.expired += n as u64;
        n
    }

    /// The earliest session deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.table
            .earliest()
            .map(|s| Instant::from_secs(u64::from(s)))
    }

    // ----- internals -----

    fn timeout(&self, c: Class) -> u32 {
        self.timeouts.get(c as usize).copied().unwrap_or(0)
    }

    /// The index places of a new session's tuples, or `None` when either
    /// tuple is taken (the reply tuple counts with `orig`'s protocol).
    fn free_places(&self, orig: &Tuple, reply: &Tuple) -> Option<[table::Place; 2]> {
        let reply = Tuple {
            proto: orig.proto,
            ..*reply
        };
        let places = [self.table.place(orig), self.table.place(&reply)];
        let taken = self.table.lookup_at(places[0], orig).is_some()
            || self.table.lookup_at(places[1], &reply).is_some();
        (!taken).then_some(places)
    }

    /// A free slot, evicting a non-assured session if there is none.
    fn claim_slot(&mut self) -> Result<u32, InsertError> {
        if let Some(i) = self.table.alloc() {
            return Ok(i);
        }
        if let Some(victim) = self.early_drop_victim() {
            self.discard(victim);
            self.stats.evicted += 1;
            if let Some(i) = self.table.alloc() {
                return Ok(i);
            }
        }
        self.stats.drop_full += 1;
        Err(InsertError::Full)
    }

    fn early_drop_victim(&self) -> Option<u32> {
        EARLY_DROP_ORDER.into_iter().find_map(|c| {
            let mut e = self.table.head(c);
            (0..EARLY_DROP_SCAN).find_map(|_| {
                let i = e?;
                e = self.table.next_in_queue(i);
                self.table.live(i).filter(|s| !s.assured()).map(|_| i)
            })
        })
    }

    /// Queue a linked session with `deadline` (the latest of its class: a
    /// fresh timeout).
    fn enqueue_fresh(&mut self, idx: u32, deadline: u32) {
        if let Some(s) = self.table.slot_mut(idx) {
            s.expires = deadline;
            let c = s.class();
            self.table.enqueue_back(idx, c);
        }
    }

    /// After a packet: refresh the deadline with the timeout of the
    /// session's (maybe new) class, moving it to that queue's tail, and
    /// record a change for sync when the state changed or the deadline
    /// moved more than a quarter of the timeout since last reported.
    fn settle(&mut self, now: Instant, idx: u32, before: Before) {
        let Some(s) = self.table.live(idx) else {
            return;
        };
        let after = Before::of(s);
        self.refresh(
            now,
            idx,
            after.class,
            after.class != before.class,
            after != before,
        );
    }

    /// `settle` when the caller knows the session's class after the
    /// packet and what changed (the per-packet part: a deadline
    /// comparison; the queue move is out of line).
    #[inline(always)]
    fn refresh(
        &mut self,
        now: Instant,
        idx: u32,
        class: Class,
        class_changed: bool,
        state_changed: bool,
    ) {
        let timeout = self.timeout(class);
        let deadline = secs_ceil(now).saturating_add(timeout);
        let Some(s) = self.table.slot(idx) else {
            return;
        };
        if class_changed || deadline > s.expires {
            self.requeue(idx, class, deadline, timeout);
        }
        if state_changed {
            self.mark_dirty(idx);
        }
    }

    /// Move a session to the tail of `class`'s queue with `deadline`,
    /// recording a change for sync when its deadline moved more than a
    /// quarter of the timeout since last reported.
    #[inline(never)]
    fn requeue(&mut self, idx: u32, class: Class, deadline: u32, timeout: u32) {
        let Some(s) = self.table.slot(idx) else {
            return;
        };
        let (old_deadline, old_lag, reported) = (s.expires, s.report_lag, s.has(flag::REPORTED));
        let moved = deadline.saturating_sub(old_deadline);
        let lag = old_lag.saturating_add(u16::try_from(moved).unwrap_or(u16::MAX));
        self.table.dequeue(idx);
        if let Some(s) = self.table.slot_mut(idx) {
            s.expires = deadline;
            s.report_lag = lag;
        }
        self.table.enqueue_back(idx, class);
        let threshold = (timeout / 4).min(u32::from(u16::MAX) - 1);
        if reported && u32::from(lag) > threshold {
            self.mark_dirty(idx);
        }
    }

    /// Let a session expire at the next `handle_timeout` (at the head of
    /// its class queue, so the queue stays in order).
    fn expire_now(&mut self, now: Instant, idx: u32) {
        let Some(class) = self.table.live(idx).map(|s| s.class()) else {
            return;
        };
        self.table.dequeue(idx);
        let head = self.table.head(class).and_then(|h| self.table.slot(h));
        let deadline = head.map_or(u32::MAX, |h| h.expires).min(secs_floor(now));
        if let Some(s) = self.table.slot_mut(idx) {
            s.expires = deadline;
        }
        self.table.enqueue_front(idx, class);
        self.mark_dirty(idx);
    }

    /// Free a live session's slot, reporting Destroy if it was reported.
    fn discard(&mut self, idx: u32) {
        if let Some(s) = self.table.live(idx).filter(|s| s.has(flag::REPORTED)) {
            if self.destroyed.len() < self.destroyed_cap {
                self.destroyed.push_back(s.id());
            } else {
                self.stats.changes_lost += 1;
            }
        }
        self.table.release(idx);
    }

    fn mark_dirty(&mut self, idx: u32) {
        let room = self.dirty.len() < self.table.capacity();
        if let Some(s) = self.table.slot_mut(idx) {
            if s.has(flag::IN_RING) {
                return;
            }
            if room {
                s.flags |= flag::IN_RING;
                self.dirty.push_back(idx);
            } else {
                self.stats.changes_lost += 1;
            }
        }
    }
}

#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod tests;
