//! Conntrack sync (SPEC §4, §4a) as a sans-IO core: datagrams in,
//! datagrams out, timers.
//!
//! Owns: the `Sync` object — framing ([`frame`]), messages ([`msg`]), the
//! sender's batches, resend ring and bulk walk ([`ring`], `send`), the
//! receiver's epochs, sequence windows and NACKs ([`peer`], [`window`],
//! `recv`), keepalives, the external cache ([`cache`]), authentication
//! ([`auth`]) and statistics ([`stats`]). Never: sockets, clocks, the live
//! session table (the caller hands sessions in as [`SessionRecord`]s and
//! takes the external cache out at failover), VRRP decisions.
//!
//! Driving it, once per poll-loop turn:
//! ```text
//! sync.handle_datagram(now, &bytes)        // each datagram from the sync socket
//! sync.export_new(&rec) / export_update / export_destroy   // from conntrack
//! sync.bulk_step(now, |cursor| table.next_from(cursor))    // while wants_bulk()
//! sync.handle_timeout(now)                 // when poll_timeout() has passed
//! sync.flush(now)                          // close the batch
//! while let Some(n) = sync.poll_transmit(&mut buf) { socket.send(&buf[..n]) }
//! ```
//! Reliability follows pfsync/conntrackd: every frame has a sequence
//! number; the receiver NACKs gaps (rate-limited), the sender answers from
//! its resend ring or, when the frames are gone, with a bulk resync; a
//! keepalive every second makes a lost tail visible and carries the VRRP
//! states (split-brain detection). Steady state allocates nothing: every
//! buffer and table is sized in `new`.

pub mod auth;
pub mod cache;
pub mod crc32;
pub mod frame;
pub mod msg;
pub mod peer;
pub mod record;
pub mod ring;
pub mod stats;
pub mod window;

mod recv;
mod send;

pub use msg::{MAX_PEERS, MAX_VRRP, Message};
pub use record::{Endpoint, NatMapping, SessionRecord, session_id};
pub use recv::RxError;
pub use stats::{ResyncStatus, SyncStats};

use crate::config::ConntrackSync;
use crate::time::{Duration, Instant};
use crate::vrrp::VrrpState;
use auth::MacKey;
use cache::ExternalCache;
use peer::Peer;
use ring::{ResendRing, TxQueue};

/// IPv4 + UDP header bytes subtracted from the link MTU.
pub const IP_UDP_HEADERS: usize = 28;
/// Default link MTU.
pub const DEFAULT_MTU: usize = 1500;
/// Bytes of recent frames kept to answer NACKs.
pub const RING_BYTES: usize = 512 * 1024;
/// Most frames kept in the ring (and queued for transmit).
pub const RING_FRAMES: usize = 1024;
/// Sessions a bulk resync sends per `bulk_step`.
pub const BULK_PER_STEP: usize = 512;
/// Least time between two bulk steps. Paced so a bulk of a large table
/// does not outrun the resend ring: a step is ~15 kB, the ring holds
/// ~35 steps, so frames lost on the link are still there when the NACK
/// arrives (unpaced, a lossy link made every bulk answer its own NACKs
/// with a new bulk, for ever). 512 sessions / 10 ms = 51k sessions/s.
pub const BULK_STEP_INTERVAL: Duration = Duration::from_millis(10);
/// Keepalive period.
pub const KEEPALIVE: Duration = Duration::from_secs(1);
/// A pending resync request is repeated this often.
pub const RESYNC_RETRY: Duration = Duration::from_secs(1);
/// Least time between two keepalives sent early for an epoch handshake.
pub const EARLY_KEEPALIVE: Duration = Duration::from_millis(100);
/// Sequence-number samples kept for echo freshness, one per keepalive.
const ECHO_MARKS: usize = 8;

/// A VRRP state as a keepalive carries it.
pub fn vrrp_code(s: VrrpState) -> u8 {
    match s {
        VrrpState::Init => 0,
        VrrpState::Backup => 1,
        VrrpState::Master => 2,
        VrrpState::Fault => 3,
    }
}

/// The VRRP state of a keepalive code (`None`: a code from a later version).
pub fn vrrp_from_code(c: u8) -> Option<VrrpState> {
    Some(match c {
        0 => VrrpState::Init,
        1 => VrrpState::Backup,
        2 => VrrpState::Master,
        3 => VrrpState::Fault,
        _ => return None,
    })
}

/// One peer as `show conntrack-sync status` and split-brain detection see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerStatus {
    pub node: u16,
    pub up: bool,
    /// The peer's current boot id, once confirmed.
    pub boot: Option<u32>,
    pub last_heard: Instant,
    /// Its VRRP groups as of its last keepalive.
    pub vrrp: heapless::Vec<(u8, VrrpState), MAX_VRRP>,
}

/// A bulk resync this node is sending.
#[derive(Copy, Clone, Debug)]
struct BulkTx {
    /// The caller's opaque position in its session table.
    cursor: u64,
    sent: u32,
    begun: bool,
}

/// The conntrack-sync protocol core.
#[derive(Clone)]
pub struct Sync {
    node: u16,
    boot: u32,
    key: Option<MacKey>,
    resync_timeout: Duration,
    /// Largest datagram we build.
    max_frame: usize,
    // ---- send side ----
    next_seq: u32,
    batch: Box<[u8]>,
    batch_len: usize,
    batch_count: u16,
    ring: ResendRing,
    txq: TxQueue,
    /// `next_seq` sampled at each keepalive (oldest first after rotation).
    echo_marks: [u32; ECHO_MARKS],
    echo_next: usize,
    vrrp: heapless::Vec<(u8, u8), MAX_VRRP>,
    bulk: Option<BulkTx>,
    bulk_again: bool,
    /// When the next `bulk_step` may run.
    next_bulk_at: Instant,
    /// Frame sequence number of the latest BulkBegin we sent.
    last_bulk_begin: Option<u32>,
    // ---- receive side ----
    peers: heapless::Vec<Peer, MAX_PEERS>,
    cache: ExternalCache,
    // ---- timers and status ----
    started: bool,
    last_now: Instant,
    next_keepalive: Instant,
    resync: ResyncStatus,
    /// When the current request was made (`Requested`/`Receiving`).
    resync_asked: Instant,
    next_resync_retry: Instant,
    resync_to: u16,
    /// Sessions were lost for good while a bulk was arriving: ask for
    /// another when it ends.
    resync_again: bool,
    stats: SyncStats,
    /// A peer's epoch waits for our echo, or we just took a new one: send a
    /// keepalive at the next flush (at most every `EARLY_KEEPALIVE`).
    keepalive_soon: bool,
    last_early_keepalive: Instant,
}

impl Sync {
    /// A core for node `node_id` (1..=65535) in boot `boot_id` (new at every
    /// start), holding up to `external_capacity` peer sessions, on a link of
    /// `mtu` bytes. Allocates every buffer now.
    pub fn new(
        cfg: &ConntrackSync,
        node_id: u16,
        boot_id: u32,
        external_capacity: usize,
        mtu: usize,
    ) -> Sync {
        let max_frame = mtu.saturating_sub(IP_UDP_HEADERS).clamp(256, 65_507);
        Sync {
            node: node_id,
            boot: boot_id,
            key: cfg.auth_key.as_deref().map(|k| MacKey::new(k.as_bytes())),
            resync_timeout: Duration::from_secs(u64::from(cfg.resync_timeout_secs)),
            max_frame,
            next_seq: 1,
            batch: vec![0u8; max_frame].into_boxed_slice(),
            batch_len: frame::HEADER_LEN,
            batch_count: 0,
            ring: ResendRing::new(RING_BYTES.max(max_frame), RING_FRAMES),
            txq: TxQueue::new(RING_FRAMES),
            echo_marks: [1; ECHO_MARKS],
            echo_next: 0,
            vrrp: heapless::Vec::new(),
            bulk: None,
            bulk_again: false,
            next_bulk_at: Instant::ZERO,
            last_bulk_begin: None,
            peers: heapless::Vec::new(),
            cache: ExternalCache::new(
                external_capacity,
                u64::from(boot_id) << 16 | u64::from(node_id),
            ),
            started: false,
            last_now: Instant::ZERO,
            next_keepalive: Instant::ZERO,
            resync: ResyncStatus::Idle,
            resync_asked: Instant::ZERO,
            next_resync_retry: Instant::ZERO,
            resync_to: 0,
            resync_again: false,
            stats: SyncStats::default(),
            keepalive_soon: false,
            last_early_keepalive: Instant::ZERO,
        }
    }

    pub fn node_id(&self) -> u16 {
        self.node
    }
    /// The current boot id (boot_id, or later epochs if sequence numbers ran out).
    pub fn boot_id(&self) -> u32 {
        self.boot
    }
    /// Largest datagram `poll_transmit` yields.
    pub fn max_frame(&self) -> usize {
        self.max_frame
    }
    /// Whether frames carry a MAC.
    pub fn authenticated(&self) -> bool {
        self.key.is_some()
    }

    /// Counters; `ext_current` is filled in.
    pub fn stats(&self) -> SyncStats {
        SyncStats {
            ext_current: self.cache.len() as u64,
            ..self.stats.clone()
        }
    }

    /// The driver failed to send a datagram.
    pub fn count_send_error(&mut self) {
        self.stats.send_errors += 1;
    }
    /// The driver failed to receive from the sync socket.
    pub fn count_recv_error(&mut self) {
        self.stats.recv_errors += 1;
    }

    pub fn resync_status(&self) -> ResyncStatus {
        self.resync
    }

    /// This node's VRRP groups, sent in every keepalive (at most `MAX_VRRP`);
    /// a change goes out in an early keepalive.
    pub fn set_vrrp_states(&mut self, states: &[(u8, VrrpState)]) {
        let mut v = heapless::Vec::new();
        for &(vrid, s) in states.iter().take(MAX_VRRP) {
            let _ = v.push((vrid, vrrp_code(s)));
        }
        if v != self.vrrp {
            self.vrrp = v;
            self.keepalive_soon = true;
        }
    }

    /// Known peers.
    pub fn peers(&self) -> impl Iterator<Item = PeerStatus> + '_ {
        self.peers.iter().map(|p| PeerStatus {
            node: p.node,
            up: p.up,
            boot: p.epoch.map(|e| e.boot),
            last_heard: p.last_heard,
            vrrp: p.vrrp.clone(),
        })
    }

    /// (peer node, vrid) for every group where this node and an up peer both
    /// claim MASTER: split brain.
    pub fn split_brain(&self) -> impl Iterator<Item = (u16, u8)> + '_ {
        let mine = self
            .vrrp
            .iter()
            .filter(|&&(_, s)| s == vrrp_code(VrrpState::Master))
            .map(|&(v, _)| v);
        mine.flat_map(move |vrid| {
            self.peers
                .iter()
                .filter(|p| p.up)
                .filter(move |p| p.vrrp.contains(&(vrid, VrrpState::Master)))
                .map(move |p| (p.node, vrid))
        })
    }

    /// The external cache (timeouts as left at `now`), for
    /// `show conntrack-sync external-cache`.
    pub fn external(&self, now: Instant) -> impl Iterator<Item = SessionRecord> + '_ {
        self.cache.iter(now)
    }

    pub fn external_len(&self) -> usize {
        self.cache.len()
    }

    /// Hand every external session to `f` (timeouts as left at `now`) and
    /// empty the cache: the commit at failover. Returns how many.
    pub fn drain_external(&mut self, now: Instant, f: impl FnMut(&SessionRecord)) -> u64 {
        self.cache.drain(now, f)
    }

    /// Ask the peers for their sessions (at start, and when the sync group
    /// becomes BACKUP). `to`: a node, or 0 for every node.
    pub fn request_resync(&mut self, now: Instant, to: u16) {
        if !matches!(
            self.resync,
            ResyncStatus::Requested { .. } | ResyncStatus::Receiving { .. }
        ) {
            self.resync = ResyncStatus::Requested { since: now };
            self.resync_asked = now;
            self.resync_to = to;
        } else if self.resync_to != to && self.resync_to != 0 {
            // Now wanted from more than one peer: ask everyone, at once.
            self.resync_to = 0;
        } else {
            // Already asked. While requested, the retries (once per
            // RESYNC_RETRY) carry it; while a bulk is arriving, another is
            // asked for when it ends (it may have passed the lost
            // sessions). Before, every frame that revealed another gap
            // beyond the window sent one more request.
            if matches!(self.resync, ResyncStatus::Receiving { .. }) {
                self.resync_again = true;
            }
            return;
        }
        self.send_resync_request(now);
    }

    /// Run timers due at `now`: start-up, keepalive, resync retries and
    /// timeout, peer liveness, NACK retries, external-cache expiry. Closes
    /// the batch.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.last_now = now;
        if !self.started {
            self.started = true;
            self.next_keepalive = now;
            log::info!(
                "conntrack-sync: node {} boot {:#010x} starting, asking peers for a resync",
                self.node,
                self.boot
            );
            self.request_resync(now, 0);
        }
        if now >= self.next_keepalive {
            // One freshness sample per periodic keepalive (not per early one).
            if let Some(m) = self.echo_marks.get_mut(self.echo_next) {
                *m = self.next_seq;
            }
            self.echo_next = (self.echo_next + 1) % ECHO_MARKS;
            self.send_keepalive();
            self.next_keepalive = now + KEEPALIVE;
        }
        self.resync_timers(now);
        self.liveness(now);
        let expired = self.cache.expire(now, |_| ());
        self.stats.ext_expired += expired;
        self.flush(now);
    }

    /// The next instant `handle_timeout` (or, while a bulk walk runs,
    /// `bulk_step`) has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if !self.started {
            return Some(self.last_now);
        }
        let mut t = self.next_keepalive;
        if self.bulk.is_some() {
            t = t.min(self.next_bulk_at);
        }
        if self.keepalive_soon {
            t = t.min(self.last_early_keepalive + EARLY_KEEPALIVE);
        }
        if matches!(
            self.resync,
            ResyncStatus::Requested { .. } | ResyncStatus::Receiving { .. }
        ) {
            t = t.min(self.resync_asked + self.resync_timeout);
            if matches!(self.resync, ResyncStatus::Requested { .. }) {
                t = t.min(self.next_resync_retry);
            }
        }
        for p in &self.peers {
            if p.up {
                t = t.min(p.last_heard + peer::DEAD_AFTER);
            }
            if let Some(n) = p.next_nack_at() {
                t = t.min(n);
            }
        }
        if let Some(d) = self.cache.next_deadline() {
            t = t.min(d);
        }
        Some(t)
    }

    fn resync_timers(&mut self, now: Instant) {
        let since = match self.resync {
            ResyncStatus::Requested { .. } | ResyncStatus::Receiving { .. } => self.resync_asked,
            _ => return,
        };
        if now.saturating_since(since) >= self.resync_timeout {
            log::info!(
                "conntrack-sync: resync timed out after {} s ({})",
                self.resync_timeout.as_secs(),
                self.resync.as_str()
            );
            self.resync = ResyncStatus::TimedOut { at: now };
        } else if matches!(self.resync, ResyncStatus::Requested { .. })
            && now >= self.next_resync_retry
        {
            self.send_resync_request(now);
        }
    }

    fn liveness(&mut self, now: Instant) {
        for p in self.peers.iter_mut() {
            let alive = p.alive_at(now);
            if p.up && !alive {
                log::info!("conntrack-sync: peer {} down (no frame for 3 s)", p.node);
            }
            p.up = alive;
        }
    }

    /// `next_seq` sampled at least `ECHO_MARKS` keepalives ago.
    fn echo_floor(&self) -> u32 {
        self.echo_marks
            .get(self.echo_next % ECHO_MARKS)
            .copied()
            .unwrap_or(1)
    }

    /// Whether `e` proves its frame was built after we sent a recent frame.
    fn echo_is_fresh(&self, e: &msg::Echo) -> bool {
        e.node == self.node
            && e.boot == self.boot
            && e.seq >= self.echo_floor()
            && e.seq < self.next_seq
    }
}

#[cfg(test)]
mod tests;
