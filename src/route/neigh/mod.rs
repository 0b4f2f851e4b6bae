//! ARP resolver and neighbour cache (RFC 826, states as Linux's neighbour
//! table): which MAC a next hop (port, IPv4) has, the ARP requests needed
//! to learn or refresh it, and the frames waiting for it.
//!
//! Owns: the fixed-size cache, its timers, the bounded pool of frames
//! waiting for resolution and the counters. Never touches a socket or a
//! clock (every call takes `now`), never builds the frames it is asked to
//! hold, never allocates after `new` (snapshots aside), never panics.
//!
//! States and timers (defaults in [`NeighParams`]):
//! * INCOMPLETE — created by `resolve` on a miss: a broadcast request at
//!   once, again every `retrans` (1 s); after `max_probes` (3) unanswered
//!   requests the entry is FAILED, its queued frames dropped and counted.
//! * FAILED — `resolve` answers `Failed` for `failed_hold` (3 s), which
//!   rate-limits requests for a dead host; then the entry is removed and the
//!   next packet starts over.
//! * REACHABLE — for `reachable` (30 s) after an ARP reply to us confirmed
//!   it; then STALE.
//! * STALE — still used: its first use sends a unicast request to the
//!   cached MAC ("refresh before expiry") and moves it to PROBE; unused for
//!   `gc_stale` (60 s) it is removed (counted `expired`).
//! * PROBE — still used with the cached MAC; a reply makes it REACHABLE,
//!   `ucast_probes` (3) unanswered requests remove it.
//!
//! Learning (the sender's IP/MAC of a well-formed ARP packet; multicast or
//! zero sender MACs and unspecified/multicast/broadcast sender IPs are
//! ignored), as Linux with `arp_accept=0`:
//! * a reply to one of our addresses resolves or confirms an EXISTING entry
//!   (REACHABLE);
//! * a request for one of our addresses creates or updates the sender's
//!   entry (STALE: the mapping is the sender's claim, not a confirmation);
//! * anything else — gratuitous ARP (sender IP = target IP), replies or
//!   requests to others — only updates an EXISTING entry (STALE). An
//!   unsolicited ARP never creates an entry, so nobody fills the cache or
//!   plants a mapping we never asked for. A changed MAC is counted; a change
//!   within `locktime` (1 s) of the last update is ignored unless
//!   gratuitous (two hosts answering for one IP: the first answer stays).
//!
//! Cache full: an entry is evicted (counted) from the first non-empty
//! state in the order FAILED, STALE, INCOMPLETE, REACHABLE, PROBE, oldest
//! first. STALE entries are the least recently used ones (any use moves an
//! entry out of STALE), so this is LRU among idle entries, and a flood of
//! lookups for unknown addresses evicts other unresolved entries before
//! any neighbour in use.
//!
//! Frames waiting for resolution: a pool of `pool_frames` (64) buffers of
//! `MAX_FRAME` allocated once, at most `queue_per_neigh` (3) per neighbour.
//! Over the per-neighbour limit the OLDEST frame is dropped (as Linux's
//! arp_queue) and counted `queue_overflow`; with the pool empty the NEW
//! frame is refused and counted `pool_exhausted` (one busy neighbour cannot
//! flush others' frames). Once the MAC is known, the frames wait in order
//! until `drain_resolved` hands them to the caller, which writes the
//! destination MAC and sends them. Invariant: `queued` = `released` +
//! `queue_overflow` + `queue_dropped` + frames still held.
//!
//! Cost: `resolve`, `enqueue`, `handle_arp` are one keyed-hash lookup (see
//! `cache`) plus O(1) list moves; `handle_timeout` does O(1) work per
//! expired timer (five per-state lists in deadline order, no scan);
//! `poll_timeout` compares five list heads. Only `flush_port` and the
//! snapshots walk the whole cache. `resolve` of a REACHABLE neighbour in a
//! full 1024-entry cache: 10-12 ns (`cargo test --release --lib
//! resolve_bench -- --ignored --nocapture`, x86-64, shared box).
//!
//! Driving it: after `resolve`/`handle_arp`/`handle_timeout`, send every
//! `poll_request()` (build it with [`ArpRequest::emit`] from the port's own
//! MAC and address) and call `drain_resolved`. `handle_timeout` pauses
//! while the request queue is full (the remaining timers stay due), so a
//! caller that does not drain requests sees `poll_timeout` in the past.

mod cache;
mod pool;
#[cfg(test)]
mod tests;

use crate::engine::PortId;
use crate::time::{Duration, Instant};
use crate::wire::build;
use crate::wire::{ArpOperation, ArpRepr, EthernetAddress};
use cache::Cache;
use std::net::Ipv4Addr;

/// ARP requests one call may queue before the caller drains them.
pub const REQUEST_QUEUE: usize = 64;

/// A neighbour entry's state (Linux's NUD_* names).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum NeighState {
    Incomplete,
    Reachable,
    Stale,
    Probe,
    Failed,
}

impl NeighState {
    pub fn as_str(self) -> &'static str {
        match self {
            NeighState::Incomplete => "incomplete",
            NeighState::Reachable => "reachable",
            NeighState::Stale => "stale",
            NeighState::Probe => "probe",
            NeighState::Failed => "failed",
        }
    }
}

/// Eviction order when the cache is full (see the module docs).
const EVICT_ORDER: [NeighState; 5] = [
    NeighState::Failed,
    NeighState::Stale,
    NeighState::Incomplete,
    NeighState::Reachable,
    NeighState::Probe,
];

/// Sizes and timers; `Default` is what the dataplane uses.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct NeighParams {
    /// Entries in the cache.
    pub capacity: usize,
    /// Frame buffers shared by all unresolved neighbours (≤ 65535).
    pub pool_frames: usize,
    /// Frames one unresolved neighbour may hold.
    pub queue_per_neigh: usize,
    /// Time between requests while INCOMPLETE or PROBE.
    pub retrans: Duration,
    /// Broadcast requests before INCOMPLETE gives up.
    pub max_probes: u8,
    /// Unicast requests before PROBE gives up.
    pub ucast_probes: u8,
    /// How long a confirmation keeps an entry REACHABLE.
    pub reachable: Duration,
    /// How long an unused STALE entry is kept.
    pub gc_stale: Duration,
    /// How long a FAILED entry answers `Failed`.
    pub failed_hold: Duration,
    /// A MAC learned less than this long ago is not replaced by another
    /// (non-gratuitous) ARP.
    pub locktime: Duration,
}

impl Default for NeighParams {
    fn default() -> NeighParams {
        NeighParams {
            capacity: 1024,
            pool_frames: 64,
            queue_per_neigh: 3,
            retrans: Duration::from_secs(1),
            max_probes: 3,
            ucast_probes: 3,
            reachable: Duration::from_secs(30),
            gc_stale: Duration::from_secs(60),
            failed_hold: Duration::from_secs(3),
            locktime: Duration::from_secs(1),
        }
    }
}

impl NeighParams {
    /// Sizes and counts at least 1, durations at least 1 ms (a zero timer
    /// would fire forever).
    fn sane(self) -> NeighParams {
        let d = |x: Duration| x.max(Duration::from_millis(1));
        NeighParams {
            capacity: self.capacity.max(1),
            pool_frames: self.pool_frames.min(pool::MAX_SLOTS),
            queue_per_neigh: self.queue_per_neigh.clamp(1, usize::from(u16::MAX)),
            retrans: d(self.retrans),
            max_probes: self.max_probes.max(1),
            ucast_probes: self.ucast_probes.max(1),
            reachable: d(self.reachable),
            gc_stale: d(self.gc_stale),
            failed_hold: d(self.failed_hold),
            locktime: self.locktime,
        }
    }
}

/// What `resolve` says about a next hop.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Resolve {
    /// Send to this MAC now.
    Known(EthernetAddress),
    /// Being resolved: `enqueue` the frame (or drop it).
    Pending,
    /// Resolution failed recently (or the address is never resolved:
    /// unspecified, loopback, multicast, broadcast): drop the frame.
    Failed,
}

/// What `enqueue` did with a frame.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Enqueue {
    /// Held until resolution (an older frame may have made room: counted).
    Queued,
    /// No INCOMPLETE entry for the next hop: nothing to wait for.
    NotPending,
    /// No free buffer (counted `pool_exhausted`).
    PoolFull,
    /// Longer than `MAX_FRAME`.
    TooLong,
}

/// An ARP request the caller must send out of `port`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ArpRequest {
    pub port: PortId,
    pub target: Ipv4Addr,
    /// The cached MAC for a refresh (PROBE); None for a broadcast.
    pub unicast: Option<EthernetAddress>,
}

impl ArpRequest {
    /// Write the request frame from the port's own MAC and address; returns
    /// its length (0 when `buf` is too small).
    pub fn emit(&self, buf: &mut [u8], our_mac: EthernetAddress, our_ip: Ipv4Addr) -> usize {
        let dst = self.unicast.unwrap_or(EthernetAddress::BROADCAST);
        build::arp_request_to(buf, our_mac, our_ip, self.target, dst)
    }
}

/// Counters for `show routes` and metrics (all monotonic).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct NeighCounters {
    /// Requests queued for the caller (broadcast and unicast).
    pub requests_sent: u64,
    /// Requests `resolve` could not queue (the retry timer covers them).
    pub request_queue_full: u64,
    /// Entries resolved or confirmed by a reply to us.
    pub replies_learned: u64,
    /// Sender mappings taken from requests for our addresses.
    pub requests_learned: u64,
    /// Existing entries updated by other ARP (gratuitous, to others).
    pub other_updates: u64,
    /// ARP from senders we have no entry for, not for us: ignored.
    pub unsolicited_ignored: u64,
    /// ARP with an unusable sender (multicast/zero MAC, bad IP): ignored.
    pub bad_sender: u64,
    /// A neighbour's MAC changed.
    pub mac_changes: u64,
    /// A MAC change refused within `locktime`.
    pub mac_change_ignored: u64,
    /// INCOMPLETE entries that got no answer (now FAILED).
    pub resolution_failures: u64,
    /// PROBE entries that got no answer (removed).
    pub probe_failures: u64,
    /// Frames accepted by `enqueue`.
    pub queued: u64,
    /// Frames handed out by `drain_resolved`.
    pub released: u64,
    /// Oldest frames dropped for the per-neighbour limit.
    pub queue_overflow: u64,
    /// New frames refused because the pool was empty.
    pub pool_exhausted: u64,
    /// Queued frames dropped because resolution failed or the entry went.
    pub queue_dropped: u64,
    /// Entries evicted to make room.
    pub evictions: u64,
    /// STALE entries removed after `gc_stale` unused.
    pub expired: u64,
}

/// One neighbour as `hagw show routes` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeighStatus {
    pub port: PortId,
    pub ip: Ipv4Addr,
    /// None while INCOMPLETE or FAILED.
    pub mac: Option<EthernetAddress>,
    pub state: NeighState,
    /// Since the MAC was last learned or confirmed (or the entry created).
    pub age: Duration,
    /// Frames waiting for this neighbour.
    pub queued: usize,
}

/// True for addresses ARP may ask for (and senders it may learn).
fn resolvable(ip: Ipv4Addr) -> bool {
    !(ip.is_unspecified() || ip.is_loopback() || ip.is_multicast() || ip.is_broadcast())
}

/// The ARP resolver. See the module docs.
#[derive(Clone)]
pub struct Neighbours {
    params: NeighParams,
    cache: Cache,
    pool: pool::Pool,
    requests: heapless::Deque<ArpRequest, REQUEST_QUEUE>,
    counters: NeighCounters,
}

impl Neighbours {
    /// Allocate everything once; `seed` keys the hash (take it from a
    /// random source so outsiders cannot aim collisions).
    pub fn new(params: NeighParams, seed: u64) -> Neighbours {
        let params = params.sane();
        Neighbours {
            cache: Cache::new(params.capacity, seed),
            pool: pool::Pool::new(params.pool_frames),
            requests: heapless::Deque::new(),
            counters: NeighCounters::default(),
            params,
        }
    }

    pub fn params(&self) -> &NeighParams {
        &self.params
    }

    /// The MAC for next hop `ip` on `port`, on the per-packet path: one
    /// hash lookup, no allocation. A miss creates an INCOMPLETE entry and
    /// queues a broadcast request; the first use of a STALE entry queues a
    /// unicast refresh. Inlined: the common case (a REACHABLE or PROBE
    /// entry) is the lookup and a timestamp; the rest is out of line.
    #[inline(always)]
    pub fn resolve(&mut self, now: Instant, port: PortId, ip: Ipv4Addr) -> Resolve {
        if resolvable(ip)
            && let Some(e) = self
                .cache
                .find(port, ip)
                .and_then(|i| self.cache.get_mut(i))
            && matches!(e.state, NeighState::Reachable | NeighState::Probe)
        {
            e.used = now;
            return Resolve::Known(e.mac);
        }
        self.resolve_slow(now, port, ip)
    }

    /// `resolve` for every other case (a miss, INCOMPLETE, STALE, FAILED).
    #[inline(never)]
    fn resolve_slow(&mut self, now: Instant, port: PortId, ip: Ipv4Addr) -> Resolve {
        if !resolvable(ip) {
            return Resolve::Failed;
        }
        let Some(i) = self.cache.find(port, ip) else {
            self.make_room();
            if self
                .cache
                .insert(port, ip, NeighState::Incomplete, now, now)
                .map(|i| self.request(now, i))
                .is_none()
            {
                return Resolve::Failed;
            }
            return Resolve::Pending;
        };
        let Some(e) = self.cache.get_mut(i) else {
            return Resolve::Failed;
        };
        match e.state {
            NeighState::Failed => return Resolve::Failed,
            NeighState::Incomplete => {
                e.used = now;
                return Resolve::Pending;
            }
            NeighState::Reachable | NeighState::Probe => {
                e.used = now;
                return Resolve::Known(e.mac);
            }
            NeighState::Stale => {}
        }
        e.used = now;
        e.probes = 0;
        let mac = e.mac;
        self.cache.refile(i, NeighState::Probe, now);
        self.request(now, i);
        Resolve::Known(mac)
    }

    /// Hold `frame` until next hop (`port`, `ip`) is resolved (after
    /// `resolve` said `Pending`).
    pub fn enqueue(&mut self, port: PortId, ip: Ipv4Addr, frame: &[u8]) -> Enqueue {
        if frame.len() > crate::engine::MAX_FRAME {
            return Enqueue::TooLong;
        }
        let Some(e) = self
            .cache
            .find(port, ip)
            .and_then(|i| self.cache.get_mut(i))
            .filter(|e| e.state == NeighState::Incomplete)
        else {
            return Enqueue::NotPending;
        };
        if e.queue.len() >= self.params.queue_per_neigh && self.pool.drop_oldest(&mut e.queue) {
            self.counters.queue_overflow += 1;
        }
        if !self.pool.enqueue(&mut e.queue, frame) {
            self.counters.pool_exhausted += 1;
            return Enqueue::PoolFull;
        }
        self.counters.queued += 1;
        Enqueue::Queued
    }

    /// An ARP packet arrived on `port`; `to_us` says its target address is
    /// one of ours on that port (own address, or a virtual address while
    /// master). Learns as the module docs say.
    pub fn handle_arp(&mut self, now: Instant, port: PortId, arp: &ArpRepr, to_us: bool) {
        let (mac, ip) = (arp.source_hardware_addr, arp.source_protocol_addr);
        if mac.is_multicast() || mac.is_zero() || !resolvable(ip) {
            self.counters.bad_sender += 1;
            return;
        }
        let garp = ip == arp.target_protocol_addr;
        let to_us = to_us && !garp;
        let confirm = to_us && arp.operation == ArpOperation::Reply;
        let request = to_us && arp.operation == ArpOperation::Request;
        match self.cache.find(port, ip) {
            Some(i) => {
                if self.learn(now, i, mac, confirm, garp) {
                    let c = &mut self.counters;
                    if confirm {
                        c.replies_learned += 1;
                    } else if request {
                        c.requests_learned += 1;
                    } else {
                        c.other_updates += 1;
                    }
                }
            }
            None if request => {
                self.make_room();
                let stale_until = now + self.params.gc_stale;
                if let Some(i) = self
                    .cache
                    .insert(port, ip, NeighState::Stale, now, stale_until)
                    && let Some(e) = self.cache.get_mut(i)
                {
                    e.mac = mac;
                    self.counters.requests_learned += 1;
                }
            }
            None => self.counters.unsolicited_ignored += 1,
        }
    }

    /// Apply a sender mapping to entry `i`: REACHABLE when `confirm`, else
    /// STALE unless the MAC is the cached one (then the state stays).
    /// Releases queued frames once the MAC is known. False when refused
    /// (locktime).
    fn learn(
        &mut self,
        now: Instant,
        i: u32,
        mac: EthernetAddress,
        confirm: bool,
        garp: bool,
    ) -> bool {
        let p = self.params;
        let Some(e) = self.cache.get_mut(i) else {
            return false;
        };
        let known = matches!(
            e.state,
            NeighState::Reachable | NeighState::Stale | NeighState::Probe
        );
        if known && e.mac != mac {
            if !garp && now < e.updated + p.locktime {
                self.counters.mac_change_ignored += 1;
                return false;
            }
            self.counters.mac_changes += 1;
        } else if known && !confirm {
            // Same MAC, no confirmation: nothing new (Linux keeps the state).
            return true;
        }
        e.mac = mac;
        e.updated = now;
        e.probes = 0;
        self.pool.make_ready(&mut e.queue, e.port, mac);
        let (state, deadline) = if confirm {
            (NeighState::Reachable, now + p.reachable)
        } else {
            (NeighState::Stale, now + p.gc_stale)
        };
        self.cache.refile(i, state, deadline);
        true
    }

    /// Queue the next request for entry `i` (broadcast while INCOMPLETE,
    /// unicast to the cached MAC while PROBE) and re-arm its timer.
    fn request(&mut self, now: Instant, i: u32) {
        let Some(e) = self.cache.get_mut(i) else {
            return;
        };
        e.probes = e.probes.saturating_add(1);
        let state = e.state;
        let req = ArpRequest {
            port: e.port,
            target: e.ip,
            unicast: (state == NeighState::Probe).then_some(e.mac),
        };
        if self.requests.push_back(req).is_ok() {
            self.counters.requests_sent += 1;
        } else {
            self.counters.request_queue_full += 1;
        }
        self.cache.refile(i, state, now + self.params.retrans);
    }

    /// Remove entry `i`, dropping (and counting) its queued frames.
    fn remove(&mut self, i: u32) {
        if let Some(e) = self.cache.get_mut(i) {
            let n = self.pool.drop_all(&mut e.queue);
            self.counters.queue_dropped += n as u64;
        }
        self.cache.remove(i);
    }

    /// Evict one entry when the cache is full (order: module docs).
    fn make_room(&mut self) {
        if !self.cache.is_full() {
            return;
        }
        if let Some(i) = EVICT_ORDER.iter().find_map(|&s| self.cache.oldest(s)) {
            self.remove(i);
            self.counters.evictions += 1;
        }
    }

    /// Run every timer due at `now`: retries, failures, REACHABLE → STALE,
    /// removal of unused STALE, PROBE and FAILED entries. Stops early while
    /// the request queue is full.
    pub fn handle_timeout(&mut self, now: Instant) {
        // Each pass re-arms a timer past `now` or removes an entry, so no
        // entry is handled twice: the bound only guards against a bug.
        for _ in 0..=self.params.capacity {
            let Some((i, deadline)) = self.cache.earliest() else {
                return;
            };
            let Some(e) = self.cache.get_mut(i) else {
                return;
            };
            if deadline > now {
                return;
            }
            let retry = match e.state {
                NeighState::Incomplete => e.probes < self.params.max_probes,
                NeighState::Probe => e.probes < self.params.ucast_probes,
                _ => false,
            };
            if retry && self.requests.is_full() {
                return;
            }
            match e.state {
                _ if retry => self.request(now, i),
                NeighState::Incomplete => {
                    let n = self.pool.drop_all(&mut e.queue);
                    e.probes = 0;
                    self.counters.queue_dropped += n as u64;
                    self.counters.resolution_failures += 1;
                    self.cache
                        .refile(i, NeighState::Failed, now + self.params.failed_hold);
                }
                NeighState::Reachable => {
                    self.cache
                        .refile(i, NeighState::Stale, now + self.params.gc_stale);
                }
                NeighState::Probe => {
                    self.counters.probe_failures += 1;
                    self.remove(i);
                }
                NeighState::Stale => {
                    self.counters.expired += 1;
                    self.remove(i);
                }
                NeighState::Failed => self.remove(i),
            }
        }
    }

    /// When `handle_timeout` must run next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.cache.earliest().map(|(_, d)| d)
    }

    /// The next ARP request to send, oldest first.
    /// True when `poll_request` or `drain_resolved` has something (a
    /// cheap test for the forwarding path, which calls them after every
    /// packet).
    #[inline]
    pub fn has_output(&self) -> bool {
        !self.requests.is_empty() || self.pool.has_ready()
    }

    pub fn poll_request(&mut self) -> Option<ArpRequest> {
        self.requests.pop_front()
    }

    /// Hand frames whose neighbour got resolved to `send(port, mac, frame)`
    /// in order (per neighbour: arrival order). The caller writes `mac`
    /// as the destination and queues the frame; returning false keeps that
    /// frame (and the rest) for the next call. Returns how many went.
    pub fn drain_resolved(
        &mut self,
        send: impl FnMut(PortId, EthernetAddress, &mut [u8]) -> bool,
    ) -> usize {
        let n = self.pool.drain_ready(send);
        self.counters.released += n as u64;
        n
    }

    /// Forget every neighbour of `port` (link down), dropping and counting
    /// the frames waiting for them: O(capacity). Frames already resolved
    /// still come out of `drain_resolved`.
    pub fn flush_port(&mut self, port: PortId) {
        for i in 0..self.params.capacity {
            let Ok(i) = u32::try_from(i) else {
                break;
            };
            if self.cache.get(i).is_some_and(|e| e.port == port) {
                self.remove(i);
            }
        }
    }

    pub fn counters(&self) -> NeighCounters {
        self.counters
    }

    /// Entries in the cache.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cache.len() == 0
    }

    /// Frames held: waiting for resolution or resolved and not drained.
    pub fn held_frames(&self) -> usize {
        self.params.pool_frames.saturating_sub(self.pool.free())
    }

    /// Resolved frames waiting for `drain_resolved`.
    pub fn ready_frames(&self) -> usize {
        self.pool.ready()
    }

    fn status_of(&self, now: Instant, e: &cache::Entry) -> NeighStatus {
        let has_mac = !matches!(e.state, NeighState::Incomplete | NeighState::Failed);
        NeighStatus {
            port: e.port,
            ip: e.ip,
            mac: has_mac.then_some(e.mac),
            state: e.state,
            age: now.saturating_since(e.updated),
            queued: e.queue.len(),
        }
    }

    /// The entry for one next hop (for `show routes` next to its route).
    pub fn status(&self, now: Instant, port: PortId, ip: Ipv4Addr) -> Option<NeighStatus> {
        let e = self.cache.get(self.cache.find(port, ip)?)?;
        Some(self.status_of(now, e))
    }

    /// Every entry, by port then address.
    pub fn snapshot(&self, now: Instant) -> Vec<NeighStatus> {
        let mut v: Vec<NeighStatus> = self
            .cache
            .live()
            .map(|(_, e)| self.status_of(now, e))
            .collect();
        v.sort_by_key(|s| (s.port, s.ip));
        v
    }
}
