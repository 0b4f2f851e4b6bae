//! What this node knows about one peer: its epoch, sequence window, NACK
//! schedule, liveness, VRRP states and the bulk it is sending us.
//!
//! Owns: per-sender receive state and the epoch rule. Never: bytes,
//! the cache, sending.
//!
//! **Epochs (restart vs replay).** Every frame carries the sender's boot id
//! (`boot`, chosen anew at each start, e.g. from a random source or the
//! wall clock) and a sequence number that starts at 1 and never wraps
//! within a boot (the sender moves to boot + 1 before it would). Within the
//! current epoch the 64-entry window rejects replays. A frame with another
//! boot id is either a restarted peer or a replay of an old epoch:
//! * the last `RETIRED` epochs seen from that peer are refused outright;
//! * without `auth_key` (no protection is claimed) a new boot id is taken
//!   at once as a restart;
//! * with `auth_key`, a new epoch is accepted only from a frame whose
//!   keepalive *echoes* this node's current boot id and a sequence number
//!   we sent within the last few seconds (`Sync::echo_is_fresh`). A
//!   recorded frame cannot do that: it was built before we sent that
//!   sequence number. Until then the peer's authenticated frames are only
//!   remembered for our own echo (and counted `unconfirmed`); a real
//!   restart is confirmed within about two keepalive intervals, and its
//!   data then arrives by the bulk resync we ask for.

use super::cache::Origin;
use super::msg::{Echo, MAX_VRRP};
use super::window::{SeqWindow, Verdict};
use crate::time::{Duration, Instant};
use crate::vrrp::VrrpState;

/// Epochs remembered per peer as retired (refused if seen again).
pub const RETIRED: usize = 4;
/// A hole is NACKed again after this long without being filled.
pub const NACK_RETRY: Duration = Duration::from_millis(100);
/// After this many NACK rounds without progress the holes are given up
/// and a bulk resync asked for.
pub const NACK_ROUNDS: u32 = 5;
/// A peer is down after this long without an accepted frame.
pub const DEAD_AFTER: Duration = Duration::from_secs(3);

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Epoch {
    pub boot: u32,
    pub window: SeqWindow,
}

/// How a frame's (boot, seq) relates to what we know of its sender.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Class {
    Current(Verdict),
    Retired,
    NewEpoch,
}

/// What `Peer::poll_nack` did.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum NackPoll {
    /// Nothing due.
    Idle,
    Sent,
    /// Too many rounds without progress: holes forgiven.
    GiveUp,
}

/// The bulk resync a peer is sending us.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BulkRx {
    Idle,
    Receiving {
        since: Instant,
        sessions: u32,
    },
    /// BulkEnd arrived in frame `end_seq`, holes before it are still open.
    EndPending {
        since: Instant,
        sessions: u32,
        end_seq: u32,
    },
}

#[derive(Clone, Debug)]
pub struct Peer {
    pub node: u16,
    pub epoch: Option<Epoch>,
    retired: [Option<u32>; RETIRED],
    retired_next: usize,
    /// (boot, highest seq) of authenticated frames of an unconfirmed epoch.
    pub pending: Option<(u32, u32)>,
    /// Local count of confirmed epochs (orders cache writes across epochs).
    epoch_no: u32,
    pub last_heard: Instant,
    pub up: bool,
    pub vrrp: heapless::Vec<(u8, VrrpState), MAX_VRRP>,
    nack_due: bool,
    last_nack: Instant,
    nack_rounds: u32,
    /// Incremented at each BulkBegin; cache entries written since carry it.
    pub bulk_mark: u32,
    /// The order (epoch, sequence) of the frame that began the current
    /// bulk: whatever a later frame wrote is newer than the bulk and stays
    /// at its end even if it was applied before the BulkBegin (a resent
    /// frame filling a hole arrives late).
    pub bulk_begin_order: u64,
    pub bulk_rx: BulkRx,
    /// Frames of the bulk being received were given up on: it is
    /// incomplete, so its end must not sweep the cache (what the lost
    /// frames carried would go) and a new bulk is on its way.
    pub bulk_lossy: bool,
}

impl Peer {
    pub fn new(node: u16) -> Peer {
        Peer {
            node,
            epoch: None,
            retired: [None; RETIRED],
            retired_next: 0,
            pending: None,
            epoch_no: 0,
            last_heard: Instant::ZERO,
            up: false,
            vrrp: heapless::Vec::new(),
            nack_due: false,
            last_nack: Instant::ZERO,
            nack_rounds: 0,
            bulk_mark: 0,
            bulk_begin_order: 0,
            bulk_rx: BulkRx::Idle,
            bulk_lossy: false,
        }
    }

    pub fn classify(&self, boot: u32, seq: u32) -> Class {
        match &self.epoch {
            Some(e) if e.boot == boot => Class::Current(e.window.check(seq)),
            _ if self.retired.contains(&Some(boot)) => Class::Retired,
            _ => Class::NewEpoch,
        }
    }

    /// Take `boot` as the peer's epoch, starting at frame `seq`.
    pub fn confirm_epoch(&mut self, boot: u32, seq: u32) {
        if let Some(old) = self.epoch.take() {
            if let Some(r) = self.retired.get_mut(self.retired_next) {
                *r = Some(old.boot);
            }
            self.retired_next = (self.retired_next + 1) % RETIRED;
        }
        self.epoch = Some(Epoch {
            boot,
            window: SeqWindow::starting_at(seq),
        });
        self.epoch_no = self.epoch_no.wrapping_add(1);
        self.pending = None;
        self.nack_due = false;
        self.nack_rounds = 0;
        self.bulk_rx = BulkRx::Idle;
    }

    /// Remember an authenticated frame of an unconfirmed epoch (for our echo).
    pub fn note_pending(&mut self, boot: u32, seq: u32) {
        self.pending = match self.pending {
            Some((b, s)) if b == boot && s >= seq => Some((b, s)),
            _ => Some((boot, seq)),
        };
    }

    /// What our keepalive tells this peer we last heard from it.
    pub fn echo(&self) -> Option<Echo> {
        let (boot, seq) = match (&self.epoch, self.pending) {
            (_, Some(p)) => p,
            (Some(e), None) => (e.boot, e.window.top()),
            (None, None) => return None,
        };
        Some(Echo {
            node: self.node,
            boot,
            seq,
        })
    }

    /// Cache origin for data from frame `seq` of the current epoch.
    pub fn origin(&self, seq: u32) -> Origin {
        Origin {
            node: self.node,
            order: (u64::from(self.epoch_no) << 32) | u64::from(seq),
            mark: self.bulk_mark,
        }
    }

    pub fn window(&self) -> Option<&SeqWindow> {
        self.epoch.as_ref().map(|e| &e.window)
    }

    /// Record frame `seq` of the current epoch. Returns (skipped, holes that
    /// became unrecoverable).
    pub fn accept(&mut self, seq: u32, verdict: Verdict) -> (u32, u32) {
        let Some(e) = self.epoch.as_mut() else {
            return (0, 0);
        };
        let out = e.window.accept(seq);
        match verdict {
            Verdict::Fresh { skipped } if skipped > 0 => {
                self.nack_due = true;
                (skipped, out)
            }
            Verdict::Fill => {
                self.nack_rounds = 0;
                (0, out)
            }
            _ => (0, out),
        }
    }

    /// Forget the holes before `seq` (a bulk starting there supersedes them).
    pub fn forgive_below(&mut self, seq: u32) {
        if let Some(e) = self.epoch.as_mut() {
            e.window.forgive_below(seq);
        }
    }

    /// When a NACK for the open holes should go out next.
    pub fn next_nack_at(&self) -> Option<Instant> {
        let holes = self.window().is_some_and(|w| w.hole_count() > 0);
        if !holes {
            None
        } else if self.nack_due {
            Some(self.last_nack)
        } else {
            Some(self.last_nack + NACK_RETRY)
        }
    }

    /// If a NACK is due at `now`, call `f` per hole range (`Sent`). When the
    /// holes were NACKed `NACK_ROUNDS` times without progress they are
    /// forgiven instead (`GiveUp`): the caller asks for a bulk resync.
    pub fn poll_nack(&mut self, now: Instant, f: impl FnMut(u32, u32)) -> NackPoll {
        if self.next_nack_at().is_none_or(|t| t > now) {
            return NackPoll::Idle;
        }
        if !self.nack_due {
            self.nack_rounds += 1;
            if self.nack_rounds > NACK_ROUNDS {
                self.nack_rounds = 0;
                if let Some(e) = self.epoch.as_mut() {
                    let top = e.window.top();
                    e.window.forgive_below(top);
                }
                return NackPoll::GiveUp;
            }
        }
        if let Some(w) = self.window() {
            w.for_each_hole_range(f);
        }
        self.nack_due = false;
        self.last_nack = now;
        NackPoll::Sent
    }

    /// Whether the peer counts as up at `now`.
    pub fn alive_at(&self, now: Instant) -> bool {
        self.epoch.is_some() && now.saturating_since(self.last_heard) < DEAD_AFTER
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh(p: &Peer, seq: u32) -> Verdict {
        match p.classify(p.epoch.unwrap().boot, seq) {
            Class::Current(v) => v,
            c => panic!("{c:?}"),
        }
    }

    #[test]
    fn epochs_current_retired_new() {
        let mut p = Peer::new(2);
        assert_eq!(p.classify(10, 1), Class::NewEpoch);
        p.confirm_epoch(10, 1);
        assert_eq!(
            p.classify(10, 2),
            Class::Current(Verdict::Fresh { skipped: 0 })
        );
        assert_eq!(p.classify(10, 1), Class::Current(Verdict::Duplicate));
        p.confirm_epoch(11, 5);
        assert_eq!(p.classify(10, 100), Class::Retired);
        assert_eq!(p.classify(12, 1), Class::NewEpoch);
        for b in 12..20 {
            p.confirm_epoch(b, 1);
        }
        // only the last RETIRED epochs are remembered
        assert_eq!(p.classify(18, 1), Class::Retired);
        assert_eq!(p.classify(10, 1), Class::NewEpoch);
    }

    #[test]
    fn orders_grow_across_epochs() {
        let mut p = Peer::new(2);
        p.confirm_epoch(10, 1000);
        let a = p.origin(1000).order;
        p.confirm_epoch(11, 1);
        assert!(p.origin(1).order > a);
    }

    #[test]
    fn nacks_new_holes_at_once_then_retry_then_give_up() {
        let mut p = Peer::new(2);
        p.confirm_epoch(1, 1);
        assert_eq!(p.accept(5, fresh(&p, 5)), (3, 0));
        let t0 = Instant::from_secs(1);
        let mut got = Vec::new();
        assert_eq!(p.poll_nack(t0, |a, b| got.push((a, b))), NackPoll::Sent);
        assert_eq!(got, vec![(2, 4)]);
        assert_eq!(p.poll_nack(t0, |_, _| ()), NackPoll::Idle, "rate limited");
        assert_eq!(p.next_nack_at(), Some(t0 + NACK_RETRY));
        let mut t = t0;
        for _ in 0..NACK_ROUNDS {
            t = t + NACK_RETRY;
            assert_eq!(p.poll_nack(t, |_, _| ()), NackPoll::Sent);
        }
        t = t + NACK_RETRY;
        assert_eq!(p.poll_nack(t, |_, _| ()), NackPoll::GiveUp);
        assert_eq!(p.next_nack_at(), None, "holes forgiven");
    }

    #[test]
    fn echo_prefers_the_pending_epoch() {
        let mut p = Peer::new(3);
        assert_eq!(p.echo(), None);
        p.confirm_epoch(7, 1);
        p.accept(9, fresh(&p, 9));
        assert_eq!(p.echo().map(|e| (e.boot, e.seq)), Some((7, 9)));
        p.note_pending(8, 4);
        p.note_pending(8, 3);
        assert_eq!(p.echo().map(|e| (e.boot, e.seq)), Some((8, 4)));
    }
}
