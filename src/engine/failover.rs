//! Conntrack sync inside the engine (SPEC §4, §4a): the glue between the
//! session table and the sync protocol core, and the ordered failover.
//!
//! Every loop turn (`end_of_turn`) the session table's pending changes go
//! out as New / Update / Destroy records, a bulk resync a peer asked for
//! takes its next paced step, and the batch is closed for the driver to
//! send (`poll_transmit`). Datagrams from the sync socket go straight to
//! the protocol core (`handle_datagram`), which keeps the peer's sessions
//! in its external cache, apart from the live table.
//!
//! Failover order: when the synced groups become MASTER (any member, since
//! a sync group moves together), the external cache is committed into the
//! live table with its NAT mappings in the same engine call that made the
//! transition — before the driver sends the gratuitous ARPs and adverts
//! that call queued, and before any later frame is forwarded. Conflicts
//! (a tuple already live here for another session) are counted as failed.
//! The new master then sends its whole table in bulk, so the peer's
//! external cache holds the committed sessions too (a demoted master
//! asks for its resync before the peer has taken over, and would
//! otherwise get an empty answer). On leaving MASTER the node asks its
//! peer for a resync. While a resync is outstanding (start, restart,
//! demotion) the synced groups do not preempt a lower-priority master
//! (bounded by `resync_timeout`).
//!
//! Split brain: keepalives carry each node's VRRP states; two masters of
//! one VRID are logged and counted once per episode, and when the episode
//! ends with this node still master its VIPs are announced again.
//!
//! Record encoding (the sync core treats `state`/`flags` as opaque bytes):
//! `state` low nibble = TCP state (Linux numbering) or, for other
//! protocols, bit 0 seen-reply and bit 1 assured; high nibble = the
//! original direction's TCP window-scale shift. `flags` bit 0 seen-reply,
//! bit 1 assured, high nibble = the reply direction's window-scale shift.
//! An Update carries `state` only, which is why it alone holds what can
//! change after the New.
//!
//! Owns: `SyncGlue`. Never: sockets, VRRP elections, the protocol itself.

use super::Event;
use super::ctx::Ctx;
use super::forward::Dataplane;
use super::groups::Groups;
use crate::config::Config;
use crate::conntrack::{
    Change, Conntrack, InsertError, NatFlags, Session, SyncedSession, TcpState,
};
use crate::sync::{Endpoint, NatMapping, PeerStatus, ResyncStatus, SessionRecord, Sync, SyncStats};
use crate::time::{Duration, Instant};
use crate::vrrp::VrrpState;

/// Most session changes exported per loop turn; the rest wait a turn.
pub const EXPORT_PER_TURN: usize = 2048;

const SEEN_REPLY: u8 = 1;
const ASSURED: u8 = 2;

/// What the last failovers did, for `show conntrack-sync status`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FailoverStats {
    /// Times the synced groups became master.
    pub promotions: u64,
    /// Times they left master.
    pub demotions: u64,
    /// Sessions committed from the external cache, in total.
    pub committed: u64,
    /// Sessions that could not be committed (conflict, table full, bad record).
    pub commit_failed: u64,
    /// The last commit: when, sessions committed, failed.
    pub last_commit: Option<(Instant, u64, u64)>,
    /// Split-brain episodes seen through the peers' keepalives.
    pub split_brain: u64,
}

/// The internal cache's changes, as exported to the peer (counted as
/// `end_of_turn` drains them from the session table).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportStats {
    /// New records exported.
    pub created: u64,
    /// Update records exported.
    pub updated: u64,
    /// Destroy records exported.
    pub destroyed: u64,
}

/// The sync state for `hagw show conntrack-sync …` and metrics.
#[derive(Clone, Debug, PartialEq)]
pub struct SyncStatus {
    pub node: u16,
    /// The sync link's kernel device (the `conntrack_sync` interface's
    /// `device`, or its name when the config has no such interface).
    pub device: String,
    /// The unicast peer, or None for multicast.
    pub peer: Option<std::net::Ipv4Addr>,
    pub exported: ExportStats,
    pub boot: u32,
    pub authenticated: bool,
    /// The synced groups are master here.
    pub master: bool,
    /// Preemption is held back until the resync ends.
    pub preempt_held: bool,
    pub resync: ResyncStatus,
    pub resync_timeout: Duration,
    pub peers: Vec<PeerStatus>,
    pub stats: SyncStats,
    pub failover: FailoverStats,
    /// Sessions of this node exported (the internal cache: live sessions
    /// that have been reported to the peer).
    pub internal: usize,
    /// Sessions waiting to be exported.
    pub pending: usize,
    pub external: usize,
    pub external_capacity: usize,
    /// The external cache, when the snapshot asked for sessions.
    pub external_sessions: Vec<SessionRecord>,
}

#[derive(Clone)]
pub struct SyncGlue {
    pub sync: Sync,
    /// Config indices of the groups whose mastership carries the sessions.
    members: Vec<usize>,
    master: bool,
    /// Config indices of the synced groups that are MASTER here.
    mastered: Vec<usize>,
    held: bool,
    /// (peer node, vrid) pairs in split brain at the last look.
    split: heapless::Vec<(u16, u8), 16>,
    resync_timeout: Duration,
    capacity: usize,
    device: String,
    peer: Option<std::net::Ipv4Addr>,
    pub stats: FailoverStats,
    pub exported: ExportStats,
}

/// Config indices of the groups whose mastership carries the sessions: the
/// `conntrack_sync` section's `sync_group`, or every group without one.
pub fn synced_groups(config: &Config) -> Vec<usize> {
    let wanted = config
        .conntrack_sync
        .as_ref()
        .and_then(|cs| cs.sync_group.as_ref());
    config
        .vrrp_groups
        .iter()
        .enumerate()
        .filter(|(_, g)| wanted.is_none() || g.sync_group.as_ref() == wanted)
        .map(|(i, _)| i)
        .collect()
}

impl SyncGlue {
    /// None when the config has no `conntrack_sync` section.
    pub fn new(config: &Config, boot: u32, capacity: usize) -> Option<SyncGlue> {
        let cs = config.conntrack_sync.as_ref()?;
        let members = synced_groups(config);
        Some(SyncGlue {
            sync: Sync::new(
                cs,
                config.globals.node_id,
                boot,
                capacity,
                crate::sync::DEFAULT_MTU,
            ),
            members,
            master: false,
            mastered: Vec::new(),
            held: false,
            split: heapless::Vec::new(),
            resync_timeout: Duration::from_secs(u64::from(cs.resync_timeout_secs)),
            capacity,
            device: config
                .interface(&cs.interface)
                .map_or_else(|| cs.interface.clone(), |i| i.device.clone()),
            peer: cs.peer,
            stats: FailoverStats::default(),
            exported: ExportStats::default(),
        })
    }

    /// After the groups changed state (or at any turn): tell the protocol
    /// our VRRP states, commit on promotion, ask for a resync on demotion.
    /// Runs inside the engine call that made the transition, so the commit
    /// precedes every frame that call queued.
    pub fn groups_changed(
        &mut self,
        ctx: &mut Ctx,
        groups: &Groups,
        dp: &mut Dataplane,
        now: Instant,
    ) {
        let mut states: heapless::Vec<(u8, VrrpState), { crate::sync::MAX_VRRP }> =
            heapless::Vec::new();
        for s in &groups.slots {
            let _ = states.push((s.group.params.vrid, s.group.state()));
        }
        self.sync.set_vrrp_states(&states);
        let now_master: Vec<usize> = groups
            .slots
            .iter()
            .filter(|s| self.members.contains(&s.cfg) && s.group.state() == VrrpState::Master)
            .map(|s| s.cfg)
            .collect();
        // A group that became master takes over whatever the peer held
        // (with load sharing the other groups were master already, so the
        // edge is per group, not "any master"); one commit per call.
        let gained = now_master.iter().any(|g| !self.mastered.contains(g));
        let lost = self.mastered.iter().any(|g| !now_master.contains(g));
        if gained {
            self.stats.promotions += 1;
            let (ok, failed) = self.commit(&mut dp.ct, now);
            // The peer (now backup) learns the table as it stands, the
            // committed sessions included.
            self.sync.push_bulk();
            log::info!(
                "conntrack-sync: master: committed {} sessions from the external cache ({} failed), then taking the virtual addresses",
                ok,
                failed
            );
            ctx.push_event(Event::Failover {
                committed: ok,
                failed,
            });
        } else if lost {
            self.stats.demotions += 1;
            log::info!("conntrack-sync: left master, asking the peer for a resync");
            self.sync.request_resync(now, 0);
        }
        self.master = !now_master.is_empty();
        self.mastered = now_master;
    }

    /// Whether the synced groups must hold preemption now (a resync is
    /// outstanding); the engine applies it to the member groups.
    #[inline]
    pub fn preempt_hold(&mut self) -> Option<bool> {
        let hold = !self.sync.resync_status().settled();
        (hold != self.held).then(|| {
            self.held = hold;
            hold
        })
    }

    pub fn is_member(&self, cfg: usize) -> bool {
        self.members.contains(&cfg)
    }

    /// Move the external cache into the live table.
    fn commit(&mut self, ct: &mut Conntrack, now: Instant) -> (u64, u64) {
        let (mut ok, mut failed) = (0u64, 0u64);
        self.sync
            .drain_external(now, |rec| match commit_one(ct, now, rec) {
                Ok(()) => ok += 1,
                Err(_) => failed += 1,
            });
        self.stats.committed += ok;
        self.stats.commit_failed += failed;
        self.stats.last_commit = Some((now, ok, failed));
        (ok, failed)
    }

    /// Once per loop turn: export the table's changes, step a bulk resync,
    /// watch for split brain, close the batch.
    pub fn end_of_turn(&mut self, ct: &mut Conntrack, now: Instant) -> bool {
        let (sync, ex) = (&mut self.sync, &mut self.exported);
        ct.drain_changes(EXPORT_PER_TURN, |c| match c {
            Change::New(s) => {
                ex.created += 1;
                sync.export_new(&record_of(s, now))
            }
            Change::Update(s) => {
                ex.updated += 1;
                let r = record_of(s, now);
                sync.export_update(r.id, r.state, r.timeout_secs)
            }
            Change::Destroy(id) => {
                ex.destroyed += 1;
                sync.export_destroy(id)
            }
        });
        if sync.bulk_due(now) {
            sync.bulk_step(now, |cursor| {
                ct.next_live_from(cursor).map(|s| record_of(s, now))
            });
        }
        sync.flush(now);
        self.watch_split_brain()
    }

    /// Count new split-brain episodes; true when one just ended with this
    /// node master (the caller re-announces the VIPs).
    fn watch_split_brain(&mut self) -> bool {
        let mut now_split: heapless::Vec<(u16, u8), 16> = heapless::Vec::new();
        for p in self.sync.split_brain() {
            let _ = now_split.push(p);
        }
        for &(node, vrid) in &now_split {
            if !self.split.contains(&(node, vrid)) {
                self.stats.split_brain += 1;
                log::warn!(
                    "conntrack-sync: split brain: node {} is also master of VRID {}",
                    node,
                    vrid
                );
            }
        }
        let ended = !self.split.is_empty() && now_split.is_empty();
        self.split = now_split;
        ended && self.master
    }

    /// The first instant the engine must call `handle_timeout` for the sync.
    pub fn poll_timeout(&self, ct: &Conntrack) -> Option<Instant> {
        if ct.pending_changes() > 0 {
            // Changes left over from a busy turn: come back at once.
            return Some(Instant::ZERO);
        }
        self.sync.poll_timeout()
    }

    pub fn status(&self, ct: &Conntrack, now: Instant, sessions: bool) -> SyncStatus {
        SyncStatus {
            node: self.sync.node_id(),
            device: self.device.clone(),
            peer: self.peer,
            exported: self.exported.clone(),
            boot: self.sync.boot_id(),
            authenticated: self.sync.authenticated(),
            master: self.master,
            preempt_held: self.held,
            resync: self.sync.resync_status(),
            resync_timeout: self.resync_timeout,
            peers: self.sync.peers().collect(),
            stats: self.sync.stats(),
            failover: self.stats.clone(),
            internal: ct.iter().filter(|(_, s)| s.reported()).count(),
            pending: ct.pending_changes(),
            external: self.sync.external_len(),
            external_capacity: self.capacity,
            external_sessions: if sessions {
                self.sync.external(now).collect()
            } else {
                Vec::new()
            },
        }
    }
}

/// Commit one external record; a tuple still live here from an earlier
/// term as master (same session id) is replaced by the peer's newer copy.
fn commit_one(ct: &mut Conntrack, now: Instant, rec: &SessionRecord) -> Result<(), InsertError> {
    let s = synced_of(rec).ok_or(InsertError::Invalid)?;
    match ct.insert_synced(now, &s) {
        Err(InsertError::Conflict) => {
            // A live session holds one of its tuples: a copy of it from an
            // earlier commit, or this node's own from when it was master
            // before the peer (same tuple or same NAT port, another id).
            // The master's record is the newer word: it replaces them
            // (found by the chaos simulator, seed 8213: 192 sessions lost).
            for t in [&s.orig, &s.reply] {
                if let Some((idx, _)) = ct.lookup(t) {
                    ct.remove(idx);
                }
            }
            ct.insert_synced(now, &s).map(|_| ())
        }
        r => r.map(|_| ()),
    }
}

/// A live session as the peer receives it.
pub fn record_of(s: &Session, now: Instant) -> SessionRecord {
    let rec = SyncedSession::of(s, now);
    let nat = nat_mapping(&rec);
    let (low, seen_reply, assured) = match rec.tcp_state {
        Some(t) => (t as u8, rec.seen_reply, rec.assured),
        None => (
            (u8::from(rec.seen_reply) * SEEN_REPLY) | (u8::from(rec.assured) * ASSURED),
            rec.seen_reply,
            rec.assured,
        ),
    };
    let [ws_orig, ws_reply] = rec.tcp_wscale;
    SessionRecord {
        id: rec.id,
        orig: rec.orig,
        nat,
        state: low & 0x0f | (ws_orig.min(15) << 4),
        flags: (u8::from(seen_reply) * SEEN_REPLY)
            | (u8::from(assured) * ASSURED)
            | (ws_reply.min(15) << 4),
        timeout_secs: rec.remaining_secs,
    }
}

/// The NAT mapping of a session: where SNAT put the source, where DNAT
/// sent the destination (read off the reply tuple).
fn nat_mapping(s: &SyncedSession) -> NatMapping {
    let snat = Endpoint::new(s.reply.dst, s.reply.dport);
    let dnat = Endpoint::new(s.reply.src, s.reply.sport);
    match (s.nat.snat, s.nat.dnat) {
        (false, false) => NatMapping::None,
        (true, false) => NatMapping::Snat(snat),
        (false, true) => NatMapping::Dnat(dnat),
        (true, true) => NatMapping::Both { snat, dnat },
    }
}

/// A record from the peer as the session table commits it (`None`: a TCP
/// record with a state this version does not know).
pub fn synced_of(r: &SessionRecord) -> Option<SyncedSession> {
    let low = r.state & 0x0f;
    let tcp_state = if r.orig.proto == crate::wire::protocol::TCP {
        Some(TcpState::from_u8(low)?)
    } else {
        None
    };
    let (seen_reply, assured) = match tcp_state {
        Some(t) => (
            r.flags & SEEN_REPLY != 0 || t >= TcpState::SynRecv,
            r.flags & ASSURED != 0,
        ),
        None => (
            (r.flags | low) & SEEN_REPLY != 0,
            (r.flags | low) & ASSURED != 0,
        ),
    };
    Some(SyncedSession {
        id: r.id,
        orig: r.orig,
        reply: r.reply_tuple(),
        nat: NatFlags {
            snat: r.nat.snat().is_some(),
            dnat: r.nat.dnat().is_some(),
        },
        tcp_state,
        seen_reply,
        assured,
        remaining_secs: r.timeout_secs,
        tcp_wscale: [r.state >> 4, r.flags >> 4],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conntrack::Tuple;
    use std::net::Ipv4Addr;

    fn ip(d: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, 0, 0, d)
    }

    #[test]
    fn records_round_trip_state_nat_and_wscale() {
        let orig = Tuple::new(6, ip(1), 40000, ip(2), 80);
        let reply = Tuple::new(6, ip(2), 80, ip(9), 1500);
        let s = SyncedSession {
            id: 77,
            orig,
            reply,
            nat: NatFlags {
                snat: true,
                dnat: false,
            },
            tcp_state: Some(TcpState::Established),
            seen_reply: true,
            assured: true,
            remaining_secs: 3600,
            tcp_wscale: [7, 14],
        };
        let nat = nat_mapping(&s);
        assert_eq!(nat, NatMapping::Snat(Endpoint::new(ip(9), 1500)));
        let rec = SessionRecord {
            id: 77,
            orig,
            nat,
            state: 3 | 7 << 4,
            flags: SEEN_REPLY | ASSURED | 14 << 4,
            timeout_secs: 3600,
        };
        assert_eq!(rec.reply_tuple(), reply);
        assert_eq!(synced_of(&rec), Some(s));
    }

    #[test]
    fn udp_state_bits_survive_an_update_and_bad_tcp_states_are_refused() {
        let orig = Tuple::new(17, ip(1), 5000, ip(2), 53);
        // A New said unreplied; an Update later carries replied+assured in `state`.
        let rec = SessionRecord {
            id: 1,
            orig,
            nat: NatMapping::None,
            state: SEEN_REPLY | ASSURED,
            flags: 0,
            timeout_secs: 30,
        };
        let s = synced_of(&rec).unwrap();
        assert!(s.seen_reply && s.assured && s.tcp_state.is_none());
        let bad = SessionRecord {
            orig: Tuple::new(6, ip(1), 1, ip(2), 2),
            state: 0x0f,
            ..rec
        };
        assert_eq!(synced_of(&bad), None);
    }

    /// Regression (chaos seed 8213): a live session that holds the SNAT
    /// port of a committed record under another id (left from an earlier
    /// mastership) gives way to the master's record.
    #[test]
    fn commit_replaces_a_stale_session_holding_the_same_nat_port() {
        let cfg = crate::config::Conntrack {
            max_entries: 16,
            ..crate::config::Conntrack::default()
        };
        let mut ct = Conntrack::new(&cfg, 2, [7; 16]);
        let now = Instant::from_secs(10);
        let udp = |id, sport| SessionRecord {
            id,
            orig: Tuple::new(17, ip(1), sport, ip(2), 53),
            nat: NatMapping::Snat(Endpoint::new(ip(9), 2000)),
            state: 0,
            flags: 0,
            timeout_secs: 30,
        };
        commit_one(&mut ct, now, &udp(1, 5000)).unwrap();
        // The master's session: another client port, the same NAT port.
        commit_one(&mut ct, now, &udp(2, 5001)).unwrap();
        assert_eq!(ct.len(), 1);
        let (idx, _) = ct.lookup(&udp(2, 5001).orig).unwrap();
        assert_eq!(ct.get(idx).map(|s| s.id()), Some(2));
        assert!(ct.lookup(&udp(1, 5000).orig).is_none());
    }
}
