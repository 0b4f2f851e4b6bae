//! The hooks conntrack-sync uses: which sessions changed since it last
//! asked, and committing sessions learned from the peer. Owns the rules of
//! what is worth reporting; never encodes, sends or receives anything.
//!
//! Changes: a new session is reported `New` once; after that `Update` when
//! its protocol state changed or its deadline moved later by more than a
//! quarter of its timeout (at most ~18 h) since it was last reported — not
//! per packet; `Destroy(id)` when a reported session is removed. Pending
//! changes live in a ring of slot indices (each slot at most once, so it
//! cannot overflow; the report is built from the session as it is when
//! drained, so repeated changes coalesce) and a ring of destroyed ids
//! (capacity max(256, capacity / 8); a Destroy that does not fit is
//! counted in `changes_lost` and the peer's copy then simply times out).
//!
//! Synced sessions keep the peer's id, are not reported back as New, but
//! are reported (Update, Destroy) like any other once they change here.

use super::session::{NatFlags, Session, TcpState, flag};
use super::{Conntrack, InsertError, SessionIdx, Tuple, secs_ceil, secs_floor, tcp};
use crate::time::Instant;
use crate::wire::protocol;

/// One change to export.
#[derive(Copy, Clone, Debug)]
pub enum Change<'a> {
    New(&'a Session),
    Update(&'a Session),
    /// The id of a removed session that had been reported.
    Destroy(u64),
}

/// A session as the peer described it: what `insert_synced` commits.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SyncedSession {
    pub id: u64,
    pub orig: Tuple,
    pub reply: Tuple,
    pub nat: NatFlags,
    /// Required for TCP, `None` for other protocols.
    pub tcp_state: Option<TcpState>,
    pub seen_reply: bool,
    pub assured: bool,
    /// Seconds left; capped at the local timeout of the state.
    pub remaining_secs: u32,
    /// Window-scale shift per direction (0 without scaling).
    pub tcp_wscale: [u8; 2],
}

impl SyncedSession {
    /// The record of a live session, as a peer would receive it.
    pub fn of(s: &Session, now: Instant) -> SyncedSession {
        SyncedSession {
            id: s.id(),
            orig: s.orig(),
            reply: s.reply(),
            nat: s.nat(),
            tcp_state: s.tcp_state(),
            seen_reply: s.seen_reply(),
            assured: s.assured(),
            remaining_secs: s.expires.saturating_sub(secs_floor(now)),
            tcp_wscale: s.tcp_wscale(),
        }
    }
}

impl Conntrack {
    /// Report up to `max` pending changes to `f` (Destroys first, so a
    /// tuple freed and reused reaches the peer in order); returns how many.
    pub fn drain_changes(&mut self, max: usize, mut f: impl FnMut(Change<'_>)) -> usize {
        let mut n = 0;
        while n < max {
            let Some(id) = self.destroyed.pop_front() else {
                break;
            };
            f(Change::Destroy(id));
            n += 1;
        }
        while n < max {
            let Some(idx) = self.dirty.pop_front() else {
                break;
            };
            let Some(s) = self.table.slot_mut(idx) else {
                continue;
            };
            s.flags &= !flag::IN_RING;
            if !s.has(flag::LIVE) {
                continue; // removed before it was reported
            }
            let new = !s.has(flag::REPORTED);
            s.flags |= flag::REPORTED;
            s.report_lag = 0;
            f(if new {
                Change::New(s)
            } else {
                Change::Update(s)
            });
            n += 1;
        }
        n
    }

    /// The first live session at or after slot `*cursor`, moving the
    /// cursor past it (`None`: the table is done): a bulk resync's walk.
    pub fn next_live_from(&self, cursor: &mut u64) -> Option<&Session> {
        let cap = self.table.capacity() as u64;
        while *cursor < cap {
            let idx = *cursor as u32;
            *cursor += 1;
            if let Some(s) = self.table.live(idx) {
                return Some(s);
            }
        }
        None
    }

    /// Changes waiting (an upper bound: removed sessions' entries are
    /// skipped when drained).
    pub fn pending_changes(&self) -> usize {
        self.dirty.len() + self.destroyed.len()
    }

    /// Commit a session learned from the peer, with its id, tuples, NAT,
    /// state and remaining time. A tuple already tracked here is a
    /// `Conflict`. TCP window data is learned from the next segments (the
    /// session is liberal until it has seen both directions, see `tcp`).
    pub fn insert_synced(
        &mut self,
        now: Instant,
        rec: &SyncedSession,
    ) -> Result<SessionIdx, InsertError> {
        if (rec.orig.proto == protocol::TCP) != rec.tcp_state.is_some() {
            self.stats.sync_invalid += 1;
            return Err(InsertError::Invalid);
        }
        let Some(places) = self.free_places(&rec.orig, &rec.reply) else {
            self.stats.sync_conflict += 1;
            return Err(InsertError::Conflict);
        };
        let idx = self.claim_slot()?;
        let Some(s) = self.table.slot_mut(idx) else {
            return Err(InsertError::Full);
        };
        s.fill(rec.id, &rec.orig, &rec.reply, rec.nat);
        s.flags |= flag::FROM_SYNC | flag::REPORTED;
        if rec.seen_reply {
            s.flags |= flag::SEEN_REPLY;
        }
        if rec.assured {
            s.flags |= flag::ASSURED;
        }
        if let Some(state) = rec.tcp_state {
            tcp::open_synced(s, state, rec.tcp_wscale);
        }
        let class = s.class();
        let remaining = rec.remaining_secs.min(self.timeout(class));
        self.table.link(idx, places);
        if let Some(s) = self.table.slot_mut(idx) {
            s.expires = secs_ceil(now).saturating_add(remaining);
        }
        if !self.table.enqueue_sorted(idx, class) {
            self.stats.sync_unordered += 1;
        }
        self.stats.synced += 1;
        Ok(SessionIdx(idx))
    }
}
