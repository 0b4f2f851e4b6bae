//! The VRRP groups of this router as the engine drives them: one slot per
//! configured group (its state machine, port, sync group, tracked ports and
//! gratuitous-ARP schedule), sync-group decisions, adverts and GARPs out,
//! adverts in, link/fault changes, reload and snapshot.
//!
//! Owns: `Groups` (the slots and the start time of unstarted groups).
//! Choices:
//! * Unicast peers: the advert goes to the peer's IP with the Ethernet
//!   broadcast MAC (no ARP resolution needed; the peer filters by IP).
//! * Gratuitous ARP: `garp_repeat` ARP requests per VIP on becoming master,
//!   the first at once, the rest 1 s apart; then one per VIP every
//!   `garp_refresh_secs` while master. A reload that adds VIPs to a master
//!   group gives the added ones the same `garp_repeat` schedule (the VIPs
//!   already announced are not repeated); a removed VIP stops being answered.
//! * RFC mode (`rfc3768_compatibility`): adverts, GARPs and ARP replies for
//!   the VIPs use the virtual MAC 00:00:5e:00:01:VRID and frames to it are
//!   accepted while master. Default mode uses the interface MAC.
//! * Sync groups: a member leaving MASTER pulls every master member to
//!   BACKUP (they send priority 0 so the peer takes over after Skew_Time);
//!   a member that wants MASTER takes the whole group along, unless some
//!   member is in FAULT, in which case nobody moves (retry after another
//!   Master_Down_Interval). Same as keepalived's vrrp_sync_group.
//!
//! * `auth_type ah`: the AH is checked (`engine::vrrp_ah`) before the
//!   advert reaches the state machine; each advert sent takes the next
//!   number of the group's AH counter.
//!
//! Never: parses anything but the VRRP payload (and its AH) handed in, or forwards.

use super::ctx::{Ctx, Why};
use super::vrrp_ah::{self, AhRx};
use super::{EngineError, Event, GARP_SPACING, PortId, TxQueue, min_opt};
use crate::config::Config;
use crate::time::{Duration, Instant};
use crate::vrrp::group::{self, Group, GroupParams, Output};
use crate::vrrp::{GroupAuth, GroupStatus, VrrpState};
use crate::wire::ah;
use crate::wire::build::{self, AdvertHeader};
use crate::wire::{ChecksumMode, EthernetAddress, VrrpError, VrrpRepr};
use std::net::Ipv4Addr;

#[derive(Clone)]
pub struct Slot {
    /// Index into `Config::vrrp_groups`.
    pub cfg: usize,
    pub port: PortId,
    pub group: Group,
    started: bool,
    /// Being started by the current `start_groups` call.
    starting: bool,
    /// Index of the sync group (by name) shared by its members.
    sync: Option<usize>,
    track: Vec<PortId>,
    /// A health track of weight 0 is DOWN (engine/tracks.rs): FAULT.
    track_fault: bool,
    pub rfc_mode: bool,
    unicast_peers: Vec<Ipv4Addr>,
    legacy_checksum: bool,
    garp_repeat: u8,
    garp_left: u8,
    garp_next: Option<Instant>,
    garp_refresh: Duration,
    garp_refresh_at: Option<Instant>,
    /// VIPs a reload added while master: they get their own `garp_repeat`
    /// gratuitous ARPs (the others were announced already).
    added_vips: heapless::Vec<Ipv4Addr, { crate::wire::vrrp::MAX_ADDRS }>,
    added_left: u8,
    added_next: Option<Instant>,
}

/// Every group of the router.
#[derive(Clone)]
pub struct Groups {
    pub slots: Vec<Slot>,
    /// When unstarted groups must be started (Engine::new / reload time).
    start_at: Instant,
    /// A group changed state since the last `take_changed`.
    changed: bool,
}

fn build_slot(
    config: &Config,
    cfg: usize,
    sync_names: &mut Vec<String>,
) -> Result<Slot, EngineError> {
    let g = &config.vrrp_groups[cfg];
    let port = config.interface_index(&g.interface).ok_or_else(|| {
        EngineError(format!(
            "group {}: unknown interface {}",
            g.name, g.interface
        ))
    })?;
    let iface = &config.interfaces[port];
    let mut track = Vec::new();
    for t in &g.track_interfaces {
        let i = config.interface_index(t).ok_or_else(|| {
            EngineError(format!("group {}: unknown track interface {}", g.name, t))
        })?;
        track.push(i);
    }
    let sync = g.sync_group.as_ref().map(|name| {
        if let Some(i) = sync_names.iter().position(|n| n == name) {
            i
        } else {
            sync_names.push(name.clone());
            sync_names.len() - 1
        }
    });
    Ok(Slot {
        cfg,
        port,
        group: Group::new(GroupParams::from_config(g, iface)),
        started: false,
        starting: false,
        sync,
        track,
        track_fault: false,
        rfc_mode: g.rfc3768_compatibility,
        unicast_peers: g.unicast_peers.clone(),
        legacy_checksum: g.v3_checksum_legacy,
        garp_repeat: g.garp_repeat,
        garp_left: 0,
        garp_next: None,
        garp_refresh: Duration::from_secs(u64::from(g.garp_refresh_secs)),
        garp_refresh_at: None,
        added_vips: heapless::Vec::new(),
        added_left: 0,
        added_next: None,
    })
}

impl Groups {
    pub fn new(config: &Config, now: Instant) -> Result<Groups, EngineError> {
        let mut sync_names = Vec::new();
        let mut slots = Vec::with_capacity(config.vrrp_groups.len());
        for i in 0..config.vrrp_groups.len() {
            slots.push(build_slot(config, i, &mut sync_names)?);
        }
        Ok(Groups {
            slots,
            start_at: now,
            changed: false,
        })
    }

    /// Whether any group changed state (or the set of groups changed)
    /// since the last call; the engine then rebuilds its address table.
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// A VRRP message (`vrrp`, the IPv4 payload or what follows the AH)
    /// from `src`; `ah`: the AH it came in, if any.
    #[allow(clippy::too_many_arguments)]
    pub fn handle_vrrp(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        port: PortId,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        ttl: u8,
        vrrp: &[u8],
        ah: Option<AhRx<'_>>,
        tx: &mut TxQueue,
    ) {
        let vrid = vrrp.get(1).copied();
        let slot = vrid.and_then(|v| {
            self.slots
                .iter()
                .position(|s| s.port == port && s.group.params.vrid == v)
        });
        let Some(i) = slot else {
            return ctx.drop(port, Why::VrrpUnknownVrid);
        };
        let adv = match VrrpRepr::parse(vrrp, src, dst) {
            Ok(a) => a,
            Err(e) => {
                let c = &mut self.slots[i].group.counters;
                c.adverts_rx += 1;
                let why = match e {
                    VrrpError::Truncated | VrrpError::Length => {
                        c.rx_length_error += 1;
                        Why::VrrpLength
                    }
                    VrrpError::Version => {
                        c.rx_version_error += 1;
                        Why::VrrpVersion
                    }
                    VrrpError::Type => {
                        c.rx_type_error += 1;
                        Why::VrrpType
                    }
                    VrrpError::Checksum => {
                        c.rx_checksum_error += 1;
                        Why::VrrpChecksum
                    }
                    VrrpError::TooManyAddresses => {
                        c.rx_length_error += 1;
                        Why::VrrpTooMany
                    }
                };
                return ctx.drop(port, why);
            }
        };
        if !self.slots[i].started {
            return;
        }
        let unicast = !self.slots[i].unicast_peers.is_empty();
        if let Err(why) = vrrp_ah::check(&mut self.slots[i].group, unicast, src, ah) {
            return ctx.drop(port, why);
        }
        match self.slots[i].group.handle_advert(now, src, ttl, &adv) {
            Ok(out) => self.apply(ctx, now, i, out, tx),
            Err(d) => {
                let why = match d {
                    group::Drop::Ttl => Why::VrrpTtl,
                    group::Drop::Version => Why::VrrpVersion,
                    group::Drop::AddressList => Why::VrrpAddressList,
                    group::Drop::Auth => Why::VrrpAuth,
                    group::Drop::Interval => Why::VrrpInterval,
                    group::Drop::OwnerConflict => Why::VrrpOwnerConflict,
                };
                ctx.drop(port, why);
            }
        }
    }

    fn send_advert(&mut self, ctx: &mut Ctx, i: usize, priority: u8, tx: &mut TxQueue) {
        let Some(s) = self.slots.get(i) else {
            return;
        };
        let port = s.port;
        if !ctx.ports.get(port).is_some_and(|p| p.up) {
            return;
        }
        let src_mac = if s.rfc_mode {
            s.vmac()
        } else {
            ctx.ports[port].mac
        };
        let p = &s.group.params;
        let interval = p.wire_interval();
        let (auth_type, auth_data) = match p.auth {
            GroupAuth::None => (crate::wire::vrrp::AUTH_NONE, [0; 8]),
            GroupAuth::Plaintext(d) => (crate::wire::vrrp::AUTH_PLAINTEXT, d),
            GroupAuth::Ah(_) => (crate::wire::vrrp::AUTH_AH, [0; 8]),
        };
        let mut repr = VrrpRepr {
            version: p.version,
            vrid: p.vrid,
            priority,
            advert_interval: interval,
            auth_type,
            auth_data,
            addresses: heapless::Vec::new(),
        };
        for v in &p.vips {
            let _ = repr.addresses.push(*v);
        }
        let mode = if s.legacy_checksum {
            ChecksumMode::Legacy
        } else {
            ChecksumMode::Rfc
        };
        let primary = p.primary;
        let auth = p.auth;
        let peers = s.unicast_peers.len();
        // One sequence number per advert, whatever the number of peers.
        let seq = match auth {
            GroupAuth::Ah(_) => self.slots[i].group.ah_seq.next_tx(),
            _ => 0,
        };
        for k in 0..peers.max(1) {
            let id = ctx.next_id();
            let src_mac = EthernetAddress(src_mac);
            let hdr = match self.slots[i].unicast_peers.get(k) {
                None => AdvertHeader::multicast(src_mac, primary, id),
                Some(peer) => {
                    AdvertHeader::unicast(src_mac, primary, EthernetAddress::BROADCAST, *peer, id)
                }
            };
            match auth {
                GroupAuth::Ah(key) => ctx.send(tx, port, |b| {
                    ah::vrrp_advert(b, &hdr, &repr, &key, seq, peers > 0)
                }),
                _ => ctx.send(tx, port, |b| build::vrrp_advert(b, &hdr, &repr, mode)),
            };
        }
    }

    /// Fast takeover (BFD saw the master die): every BACKUP group among
    /// `members` (config indices) becomes master now, as if its
    /// Master_Down_Timer had expired (sync groups move together).
    pub fn take_over(&mut self, ctx: &mut Ctx, now: Instant, members: &[usize], tx: &mut TxQueue) {
        for i in 0..self.slots.len() {
            let s = &self.slots[i];
            if members.contains(&s.cfg) && s.group.state() == VrrpState::Backup {
                self.grant_master(ctx, now, i, "BFD: master down (fast takeover)", tx);
            }
        }
    }

    /// Announce a master group's VIPs again (after a split brain ended).
    pub fn reannounce(&mut self, ctx: &mut Ctx, i: usize, tx: &mut TxQueue) {
        self.send_garps(ctx, i, tx);
    }

    fn send_garps(&mut self, ctx: &mut Ctx, i: usize, tx: &mut TxQueue) {
        self.send_garps_for(ctx, i, false, tx);
    }

    /// Gratuitous ARP for every VIP of slot `i`, or (`added_only`) for the
    /// VIPs the last reloads added.
    fn send_garps_for(&mut self, ctx: &mut Ctx, i: usize, added_only: bool, tx: &mut TxQueue) {
        let Some(s) = self.slots.get(i) else {
            return;
        };
        let port = s.port;
        if !ctx.ports.get(port).is_some_and(|p| p.up) {
            return;
        }
        let mac = if s.rfc_mode {
            s.vmac()
        } else {
            ctx.ports[port].mac
        };
        let list = if added_only {
            &s.added_vips
        } else {
            &s.group.params.vips
        };
        for vip in list {
            let vip = *vip;
            ctx.send(tx, port, |b| {
                build::gratuitous_arp(b, EthernetAddress(mac), vip)
            });
        }
    }

    /// Carry out what a group asked for, including sync-group consequences.
    /// Order (SPEC §4a): on becoming master, announce the VIPs (GARP)
    /// before the first advert; on leaving, advertise (priority 0) first.
    fn apply(&mut self, ctx: &mut Ctx, now: Instant, i: usize, out: Output, tx: &mut TxQueue) {
        let to_master = matches!(out.transition, Some((_, VrrpState::Master, _)));
        if !to_master && let Some(prio) = out.advert {
            self.send_advert(ctx, i, prio, tx);
        }
        if let Some((from, to, _reason)) = out.transition {
            self.on_transition(ctx, now, i, from, to, tx);
        }
        if to_master && let Some(prio) = out.advert {
            self.send_advert(ctx, i, prio, tx);
        }
        if out.reassert {
            self.send_garps(ctx, i, tx);
        }
        if let Some(reason) = out.want_master {
            self.grant_master(ctx, now, i, reason, tx);
        }
    }

    fn on_transition(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        i: usize,
        from: VrrpState,
        to: VrrpState,
        tx: &mut TxQueue,
    ) {
        let cfg = self.slots[i].cfg;
        self.changed = true;
        ctx.push_event(Event::Transition {
            group: cfg,
            state: to,
        });
        if to == VrrpState::Master {
            let s = &mut self.slots[i];
            s.garp_left = s.garp_repeat.saturating_sub(1);
            s.garp_next = (s.garp_left > 0).then(|| now + GARP_SPACING);
            s.garp_refresh_at = (s.garp_refresh > Duration::ZERO).then(|| now + s.garp_refresh);
            if s.garp_repeat > 0 {
                self.send_garps(ctx, i, tx);
            }
        }
        if from == VrrpState::Master && to != VrrpState::Master {
            let s = &mut self.slots[i];
            s.garp_left = 0;
            s.garp_next = None;
            s.garp_refresh_at = None;
            s.clear_added();
            if let Some(sg) = s.sync
                && !ctx.stopped
            {
                for j in 0..self.slots.len() {
                    if j != i
                        && self.slots[j].sync == Some(sg)
                        && self.slots[j].group.state() == VrrpState::Master
                    {
                        let up = ctx.ports.get(self.slots[j].port).is_some_and(|p| p.up);
                        let o = self.slots[j].group.force_backup(
                            now,
                            "sync group member left master",
                            up,
                        );
                        self.apply(ctx, now, j, o, tx);
                    }
                }
            }
        }
    }

    fn grant_master(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        i: usize,
        reason: &'static str,
        tx: &mut TxQueue,
    ) {
        let Some(sg) = self.slots[i].sync else {
            let o = self.slots[i].group.become_master(now, reason);
            return self.apply(ctx, now, i, o, tx);
        };
        let blocked = self
            .slots
            .iter()
            .any(|s| s.sync == Some(sg) && (s.group.state() == VrrpState::Fault || !s.started));
        if blocked {
            log::debug!(
                "vrrp {}: not master: a sync group member is in fault",
                self.slots[i].group.params.name
            );
            let o = self.slots[i].group.stay_backup(now);
            return self.apply(ctx, now, i, o, tx);
        }
        let o = self.slots[i].group.become_master(now, reason);
        self.apply(ctx, now, i, o, tx);
        for j in 0..self.slots.len() {
            if j != i && self.slots[j].sync == Some(sg) {
                let st = self.slots[j].group.state();
                if st == VrrpState::Backup || st == VrrpState::Init {
                    let o = self.slots[j]
                        .group
                        .become_master(now, "sync group member became master");
                    self.apply(ctx, now, j, o, tx);
                }
            }
        }
    }

    fn faulted(&self, ctx: &Ctx, i: usize) -> (bool, bool) {
        let s = &self.slots[i];
        let up = |p: PortId| ctx.ports.get(p).is_some_and(|x| x.up);
        let link = up(s.port);
        (
            !link || s.track_fault || s.track.iter().any(|t| !up(*t)),
            link,
        )
    }

    /// Start every unstarted group: first mark them all started and put the
    /// faulted ones in FAULT, then start the rest, so that a sync group
    /// decision (e.g. an owner asking for MASTER) sees every member as it is.
    fn start_groups(&mut self, ctx: &mut Ctx, now: Instant, tx: &mut TxQueue) {
        for s in self.slots.iter_mut() {
            s.starting = !s.started;
            s.started = true;
        }
        for faulted_pass in [true, false] {
            for i in 0..self.slots.len() {
                if self.slots[i].starting && self.faulted(ctx, i).0 == faulted_pass {
                    let o = self.slots[i].group.start(now, faulted_pass);
                    self.apply(ctx, now, i, o, tx);
                }
            }
        }
    }

    pub fn handle_timeout(&mut self, ctx: &mut Ctx, now: Instant, tx: &mut TxQueue) {
        if ctx.stopped {
            return;
        }
        if self.slots.iter().any(|s| !s.started) && now >= self.start_at {
            self.start_groups(ctx, now, tx);
        }
        for i in 0..self.slots.len() {
            if !self.slots[i].started {
                continue;
            }
            if self.slots[i].group.deadline().is_some_and(|d| d <= now) {
                let o = self.slots[i].group.handle_timeout(now);
                self.apply(ctx, now, i, o, tx);
            }
            let s = &mut self.slots[i];
            if s.group.state() != VrrpState::Master {
                continue;
            }
            let mut garp = false;
            if s.garp_next.is_some_and(|t| t <= now) {
                garp = true;
                s.garp_left = s.garp_left.saturating_sub(1);
                s.garp_next = (s.garp_left > 0).then(|| now + GARP_SPACING);
            }
            if s.garp_refresh_at.is_some_and(|t| t <= now) {
                garp = true;
                s.garp_refresh_at = Some(now + s.garp_refresh);
            }
            if garp {
                self.send_garps(ctx, i, tx);
            }
            self.added_garps_due(ctx, now, i, tx);
        }
    }

    fn added_garps_due(&mut self, ctx: &mut Ctx, now: Instant, i: usize, tx: &mut TxQueue) {
        let s = &mut self.slots[i];
        if s.added_next.is_none_or(|t| t > now) {
            return;
        }
        s.added_left = s.added_left.saturating_sub(1);
        s.added_next = (s.added_left > 0).then(|| now + GARP_SPACING);
        self.send_garps_for(ctx, i, true, tx);
        if self.slots[i].added_left == 0 {
            self.slots[i].clear_added();
        }
    }

    pub fn poll_timeout(&self, ctx: &Ctx) -> Option<Instant> {
        if ctx.stopped {
            return None;
        }
        let mut t = None;
        for s in &self.slots {
            if !s.started {
                t = min_opt(t, Some(self.start_at));
                continue;
            }
            t = min_opt(t, s.group.deadline());
            if s.group.state() == VrrpState::Master {
                t = min_opt(t, s.garp_next);
                t = min_opt(t, s.garp_refresh_at);
                t = min_opt(t, s.added_next);
            }
        }
        t
    }

    pub fn set_link(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        port: PortId,
        up: bool,
        tx: &mut TxQueue,
    ) {
        let Some(p) = ctx.ports.get_mut(port) else {
            return;
        };
        if p.up == up {
            return;
        }
        p.up = up;
        log::info!(
            "interface {}: link {}",
            ctx.port_name(port),
            if up { "up" } else { "down" }
        );
        if ctx.stopped {
            return;
        }
        for i in 0..self.slots.len() {
            let s = &self.slots[i];
            if !s.started || (s.port != port && !s.track.contains(&port)) {
                continue;
            }
            let (faulted, link) = self.faulted(ctx, i);
            let reason = match (s.port == port, up) {
                (true, false) => "interface link down",
                (true, true) => "interface link up",
                (false, false) => "tracked interface down",
                (false, true) => "tracked interface up",
            };
            let o = self.slots[i].group.set_fault(now, faulted, link, reason);
            self.apply(ctx, now, i, o, tx);
        }
    }

    /// Health tracking (engine/tracks.rs): group `i` now runs at
    /// `priority` (a master advertises it at once; the election does the
    /// rest by the normal rules) and is held in FAULT while `fault`.
    #[allow(clippy::too_many_arguments)]
    pub fn set_health(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        i: usize,
        priority: u8,
        fault: bool,
        reason: &'static str,
        tx: &mut TxQueue,
    ) {
        let Some(s) = self.slots.get_mut(i) else {
            return;
        };
        if s.group.params.priority != priority {
            s.group.params.priority = priority;
            if s.started && s.group.state() == VrrpState::Master && !ctx.stopped {
                s.group.counters.adverts_tx += 1;
                self.send_advert(ctx, i, priority, tx);
            }
        }
        let s = &mut self.slots[i];
        if s.track_fault != fault {
            s.track_fault = fault;
            if s.started && !ctx.stopped {
                let (faulted, link) = self.faulted(ctx, i);
                let o = self.slots[i].group.set_fault(now, faulted, link, reason);
                self.apply(ctx, now, i, o, tx);
            }
        }
    }

    pub fn shutdown(&mut self, ctx: &mut Ctx, now: Instant, tx: &mut TxQueue) {
        if ctx.stopped {
            return;
        }
        ctx.stopped = true;
        for i in 0..self.slots.len() {
            let o = self.slots[i].group.shutdown(now);
            self.apply(ctx, now, i, o, tx);
        }
    }

    /// Apply a new validated config (SIGHUP); unchanged groups are not disturbed.
    /// A group keeps its state when its name, interface and VRID are the same
    /// (its parameters are updated in place); removed groups that are master
    /// send priority 0; new groups start at the next `handle_timeout`. The
    /// interface list must keep its names and devices in order.
    pub fn reload(
        &mut self,
        ctx: &mut Ctx,
        config: &Config,
        now: Instant,
        tx: &mut TxQueue,
    ) -> Result<(), EngineError> {
        let same_ports = config.interfaces.len() == ctx.config.interfaces.len()
            && config
                .interfaces
                .iter()
                .zip(&ctx.config.interfaces)
                .all(|(a, b)| a.name == b.name && a.device == b.device);
        if !same_ports {
            return Err(EngineError(
                "reload cannot change the set of interfaces; restart hagw".into(),
            ));
        }
        let mut sync_names = Vec::new();
        let mut new_slots = Vec::with_capacity(config.vrrp_groups.len());
        for i in 0..config.vrrp_groups.len() {
            new_slots.push(build_slot(config, i, &mut sync_names)?);
        }
        let old_cfg = std::mem::replace(&mut ctx.config, config.clone());
        let mut old_slots = std::mem::take(&mut self.slots);
        for ns in &mut new_slots {
            let g = &config.vrrp_groups[ns.cfg];
            let keep = old_slots.iter().position(|o| {
                let og = &old_cfg.vrrp_groups[o.cfg];
                og.name == g.name && og.interface == g.interface && og.vrid == g.vrid
            });
            if let Some(k) = keep {
                let old = old_slots.swap_remove(k);
                let params = ns.group.params.clone();
                ns.group = old.group;
                ns.added_vips = old.added_vips;
                ns.added_left = old.added_left;
                ns.added_next = old.added_next;
                if ns.group.params != params {
                    log::info!("vrrp {}: parameters changed by reload", g.name);
                    if ns.group.state() == VrrpState::Master && ns.garp_repeat > 0 {
                        // Announce the new VIPs like a new master would:
                        // garp_repeat GARPs, the first now (below, once
                        // faults are re-evaluated), then GARP_SPACING apart.
                        // Pending ones from an earlier reload stay listed.
                        for v in &params.vips {
                            if !ns.group.params.vips.contains(v) && !ns.added_vips.contains(v) {
                                let _ = ns.added_vips.push(*v);
                            }
                        }
                        ns.added_vips.retain(|v| params.vips.contains(v));
                        if !ns.added_vips.is_empty() {
                            log::info!(
                                "vrrp {}: {} virtual address(es) added while master; sending gratuitous ARP",
                                g.name,
                                ns.added_vips.len()
                            );
                            ns.added_left = ns.garp_repeat;
                            ns.added_next = Some(now);
                        }
                    }
                    ns.group.params = params;
                }
                ns.started = old.started;
                ns.track_fault = old.track_fault;
                ns.garp_left = old.garp_left;
                ns.garp_next = old.garp_next;
                ns.garp_refresh_at = if ns.garp_refresh > Duration::ZERO {
                    old.garp_refresh_at.or(Some(now + ns.garp_refresh))
                } else {
                    None
                };
            }
        }
        self.slots = new_slots;
        self.start_at = now;
        for mut old in old_slots {
            let name = &old_cfg.vrrp_groups[old.cfg].name;
            log::info!("vrrp {name}: removed by reload");
            let o = old.group.shutdown(now);
            if let Some(prio) = o.advert {
                self.slots.push(old);
                let i = self.slots.len() - 1;
                self.send_advert(ctx, i, prio, tx);
                self.slots.pop();
            }
        }
        // Tracked interfaces may have changed: re-evaluate faults.
        for i in 0..self.slots.len() {
            if self.slots[i].started {
                let (faulted, link) = self.faulted(ctx, i);
                let o = self.slots[i].group.set_fault(now, faulted, link, "reload");
                self.apply(ctx, now, i, o, tx);
            }
        }
        for i in 0..self.slots.len() {
            if self.slots[i].group.state() == VrrpState::Master {
                self.added_garps_due(ctx, now, i, tx);
            }
        }
        Ok(())
    }

    pub fn snapshot(&self, ctx: &Ctx, now: Instant) -> Vec<GroupStatus> {
        self.slots
            .iter()
            .map(|s| {
                let g = &ctx.config.vrrp_groups[s.cfg];
                let p = &s.group.params;
                GroupStatus {
                    name: g.name.clone(),
                    interface: g.interface.clone(),
                    interface_up: ctx.ports.get(s.port).is_some_and(|x| x.up),
                    vrid: p.vrid,
                    version: p.version,
                    state: s.group.state(),
                    address_owner: p.address_owner,
                    priority: p.priority,
                    configured_priority: p.configured_priority,
                    advert_interval_cs: p.advert_interval_cs,
                    master_advert_interval_cs: s.group.master_adver_interval_cs(),
                    auth_type: p.auth.name(),
                    preempt: p.preempt,
                    preempt_delay_secs: g.preempt_delay_secs,
                    vips: g.virtual_addresses.clone(),
                    source_address: p.primary,
                    master_router: s.group.master_router(),
                    master_priority: s.group.master_priority(),
                    sync_group: g.sync_group.clone(),
                    last_transition: s.group.last_change().map(|t| now - t),
                    counters: s.group.counters.clone(),
                }
            })
            .collect()
    }
}

impl Slot {
    fn clear_added(&mut self) {
        self.added_vips.clear();
        self.added_left = 0;
        self.added_next = None;
    }

    fn vmac(&self) -> [u8; 6] {
        EthernetAddress::vrrp_virtual(self.group.params.vrid).0
    }
}
