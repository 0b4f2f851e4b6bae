//! BFD on the sync link inside the engine (SPEC §4a, issue 15): one
//! `bfd::Session` to the peer router, and fast takeover.
//!
//! With `fast_takeover` on, a BACKUP of the synced groups whose BFD session
//! goes from Up to Down takes over at once — the same path as an expired
//! Master_Down_Timer (`Groups::take_over`), so the conntrack commit, GARP
//! and adverts follow in the usual order — instead of waiting for
//! Master_Down_Interval. A session that goes Down because the peer said
//! AdminDown (an orderly stop, which also sends priority 0) is left to
//! VRRP. If only the sync link broke, the master is alive: its next advert
//! (higher priority) sends us back to BACKUP within one advert interval;
//! that step-down while BFD is still Down is logged and counted as a
//! sync-link failure.
//!
//! Owns: `Liveness`. Never: sockets or addresses (the driver sends BFD
//! packets to the peer and hands in received ones with their IP TTL).

use super::groups::Groups;
use crate::bfd::{self, Diag, Session, SessionConfig, State};
use crate::config::Config;
use crate::time::Instant;
use crate::vrrp::VrrpState;

/// Fast-takeover facts for `show bfd` and metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TakeoverStats {
    /// Takeovers started by BFD.
    pub fast_takeovers: u64,
    /// Takeovers undone by the master's advert: only the sync link failed.
    pub sync_link_failures: u64,
    /// When BFD last took over.
    pub last: Option<Instant>,
}

/// The BFD session as `show bfd` sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BfdStatus {
    pub session: bfd::Snapshot,
    pub fast_takeover: bool,
    pub takeover: TakeoverStats,
}

#[derive(Clone)]
pub struct Liveness {
    pub session: Session,
    fast_takeover: bool,
    /// Config indices of the groups fast takeover acts on.
    members: Vec<usize>,
    /// Took over by BFD and not yet confirmed by the election.
    pending: bool,
    pub stats: TakeoverStats,
}

impl Liveness {
    /// None unless `conntrack_sync` has `bfd` on.
    pub fn new(config: &Config, discr: u32) -> Option<Liveness> {
        let cs = config.conntrack_sync.as_ref()?;
        if !cs.bfd.enabled {
            return None;
        }
        let members = super::failover::synced_groups(config);
        Some(Liveness {
            session: Session::new(
                SessionConfig::from_settings(&cs.bfd),
                discr,
                u64::from(discr) | 1,
            ),
            fast_takeover: cs.fast_takeover,
            members,
            pending: false,
            stats: TakeoverStats::default(),
        })
    }

    /// Run the session's events: the groups to take over now, if any.
    /// Returns true when `Groups::take_over` must run for the members.
    pub fn take_events(&mut self, now: Instant, groups: &Groups) -> bool {
        let mut take = false;
        while let Some(ev) = self.session.poll_event() {
            log::info!(
                "bfd: session {} -> {} ({}; peer says {})",
                ev.from.as_str(),
                ev.to.as_str(),
                ev.diag.as_str(),
                ev.remote_diag.as_str()
            );
            // Silence for a Detection Time: the peer died (an orderly
            // stop says AdminDown and sends priority 0; a restart says Down).
            let died = ev.from == State::Up
                && ev.to == State::Down
                && ev.diag == Diag::DetectionTimeExpired;
            if died && self.fast_takeover && self.members_backup(groups) {
                log::warn!("bfd: the master is down; fast takeover");
                self.stats.fast_takeovers += 1;
                self.stats.last = Some(now);
                self.pending = true;
                take = true;
            }
        }
        take
    }

    /// After the groups changed: a takeover undone while BFD is still not
    /// Up means the master was alive and only the sync link failed.
    pub fn groups_changed(&mut self, groups: &Groups) {
        if !self.pending {
            return;
        }
        if self.session.state() == State::Up {
            self.pending = false;
        } else if self.members_backup(groups) {
            self.pending = false;
            self.stats.sync_link_failures += 1;
            log::warn!(
                "bfd: the master answered after the fast takeover: the sync link failed, not the master (back to backup)"
            );
        }
    }

    fn members_backup(&self, groups: &Groups) -> bool {
        let mut any = false;
        for s in groups
            .slots
            .iter()
            .filter(|s| self.members.contains(&s.cfg))
        {
            if s.group.state() != VrrpState::Backup {
                return false;
            }
            any = true;
        }
        any
    }

    pub fn members(&self) -> &[usize] {
        &self.members
    }

    pub fn status(&self) -> BfdStatus {
        BfdStatus {
            session: self.session.snapshot(),
            fast_takeover: self.fast_takeover,
            takeover: self.stats.clone(),
        }
    }
}
