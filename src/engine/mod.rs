//! The sans-IO core that ties config, wire codecs and protocol state
//! machines together. Drivers (the daemon, the simulator) call
//! `handle_frame` / `handle_timeout` / `set_link` with the current time and
//! send whatever lands in the `TxQueue`; `poll_timeout` says when to call
//! again. Owns no socket, no clock, no file.
//!
//! What the engine does today: VRRP on every group (adverts in and out,
//! sync groups, tracked interfaces, FAULT), ARP for the interface address
//! (always) and the virtual addresses (master only), ICMP echo to the same,
//! gratuitous ARP on becoming master plus a periodic refresh. Choices:
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

use crate::config::{Config, Ipv4Cidr, Role};
use crate::local;
use crate::time::{Duration, Instant};
use crate::vrrp::group::{self, Group, GroupParams, Output};
use crate::vrrp::{GroupStatus, VrrpState};
use crate::wire::build::{self, AdvertHeader};
use crate::wire::{
    ChecksumMode, EthernetAddress, EthernetFrame, Ipv4Packet, VrrpError, VrrpRepr, ethertype,
    protocol,
};
use std::collections::VecDeque;
use std::net::Ipv4Addr;

/// Index of a port: the position of its interface in `Config::interfaces`.
pub type PortId = usize;

/// Largest Ethernet frame the core reads or writes (no FCS).
pub const MAX_FRAME: usize = 1518;

/// One frame waiting to be sent.
pub struct TxFrame {
    pub port: PortId,
    pub len: usize,
    pub buf: [u8; MAX_FRAME],
}

/// A bounded queue of outgoing frames, allocated once; the driver drains it.
pub struct TxQueue {
    frames: Vec<TxFrame>,
    len: usize,
    /// Frames dropped because the queue was full.
    pub overflow: u64,
}

impl TxQueue {
    pub fn with_capacity(capacity: usize) -> TxQueue {
        let mut frames = Vec::with_capacity(capacity);
        for _ in 0..capacity {
            frames.push(TxFrame {
                port: 0,
                len: 0,
                buf: [0; MAX_FRAME],
            });
        }
        TxQueue {
            frames,
            len: 0,
            overflow: 0,
        }
    }

    /// Queue a frame for `port`: `write` fills the buffer and returns the
    /// frame length (0 cancels). Returns false (and counts) when full.
    pub fn push(&mut self, port: PortId, write: impl FnOnce(&mut [u8]) -> usize) -> bool {
        let Some(slot) = self.frames.get_mut(self.len) else {
            self.overflow += 1;
            return false;
        };
        let n = write(&mut slot.buf[..]).min(MAX_FRAME);
        if n == 0 {
            return false;
        }
        slot.port = port;
        slot.len = n;
        self.len += 1;
        true
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The queued frames in order, as (port, bytes).
    pub fn iter(&self) -> impl Iterator<Item = (PortId, &[u8])> {
        self.frames[..self.len]
            .iter()
            .map(|f| (f.port, &f.buf[..f.len]))
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }
}

/// Something the driver must act on outside the core (e.g. run a notify script).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Group `group` (index into `Config::vrrp_groups`) entered `state`.
    Transition { group: usize, state: VrrpState },
}

/// A read-only view of one port, for `show interfaces`.
#[derive(Clone, Debug, PartialEq)]
pub struct PortStatus {
    pub name: String,
    pub device: String,
    pub role: Role,
    pub mac: [u8; 6],
    pub address: Ipv4Cidr,
    pub up: bool,
    pub rx_frames: u64,
    pub rx_bytes: u64,
    pub tx_frames: u64,
    pub tx_bytes: u64,
    /// Drops by reason, e.g. ("vrrp_ttl", 3); every reason listed, zero or not.
    pub drops: Vec<(&'static str, u64)>,
}

/// Everything `hagw show` can display, taken at one instant.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub groups: Vec<GroupStatus>,
    pub ports: Vec<PortStatus>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineError(pub String);

impl core::fmt::Display for EngineError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Port-level drop reasons, in the order `PortStatus::drops` lists them.
pub const DROP_REASONS: [&str; 18] = [
    "malformed",
    "not_for_us",
    "link_down",
    "unsupported",
    "not_local",
    "stopped",
    "vrrp_bad_dst",
    "vrrp_own",
    "vrrp_unknown_vrid",
    "vrrp_ttl",
    "vrrp_checksum",
    "vrrp_version",
    "vrrp_length",
    "vrrp_type",
    "vrrp_address_list",
    "vrrp_auth",
    "vrrp_interval",
    "vrrp_too_many_addresses",
];

#[derive(Copy, Clone)]
enum Why {
    Malformed,
    NotForUs,
    LinkDown,
    Unsupported,
    NotLocal,
    Stopped,
    VrrpBadDst,
    VrrpOwn,
    VrrpUnknownVrid,
    VrrpTtl,
    VrrpChecksum,
    VrrpVersion,
    VrrpLength,
    VrrpType,
    VrrpAddressList,
    VrrpAuth,
    VrrpInterval,
    VrrpTooMany,
}

/// Spacing of the repeated gratuitous ARPs after becoming master.
pub const GARP_SPACING: Duration = Duration::from_secs(1);
/// Most events kept for the driver; the oldest is dropped beyond this.
const EVENT_CAPACITY: usize = 256;

struct Port {
    mac: [u8; 6],
    up: bool,
    rx_frames: u64,
    rx_bytes: u64,
    tx_frames: u64,
    tx_bytes: u64,
    drops: [u64; DROP_REASONS.len()],
}

struct Slot {
    /// Index into `Config::vrrp_groups`.
    cfg: usize,
    port: PortId,
    group: Group,
    started: bool,
    /// Being started by the current `start_groups` call.
    starting: bool,
    /// Index of the sync group (by name) shared by its members.
    sync: Option<usize>,
    track: Vec<PortId>,
    rfc_mode: bool,
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

/// The core. See the module docs for how drivers use it.
pub struct Engine {
    config: Config,
    ports: Vec<Port>,
    slots: Vec<Slot>,
    events: VecDeque<Event>,
    /// When unstarted groups must be started (Engine::new / reload time).
    start_at: Instant,
    stopped: bool,
    ip_id: u16,
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

fn new_port(mac: [u8; 6]) -> Port {
    Port {
        mac,
        up: true,
        rx_frames: 0,
        rx_bytes: 0,
        tx_frames: 0,
        tx_bytes: 0,
        drops: [0; DROP_REASONS.len()],
    }
}

fn min_opt(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

impl Engine {
    /// Build from a validated config; `macs[i]` is the MAC of `config.interfaces[i]`.
    /// All groups start in INIT; the first `handle_timeout` starts them.
    pub fn new(config: &Config, macs: &[[u8; 6]], now: Instant) -> Result<Engine, EngineError> {
        if macs.len() != config.interfaces.len() {
            return Err(EngineError(format!(
                "{} MACs for {} interfaces",
                macs.len(),
                config.interfaces.len()
            )));
        }
        let mut sync_names = Vec::new();
        let mut slots = Vec::with_capacity(config.vrrp_groups.len());
        for i in 0..config.vrrp_groups.len() {
            slots.push(build_slot(config, i, &mut sync_names)?);
        }
        Ok(Engine {
            config: config.clone(),
            ports: macs.iter().map(|m| new_port(*m)).collect(),
            slots,
            events: VecDeque::with_capacity(EVENT_CAPACITY),
            start_at: now,
            stopped: false,
            ip_id: 1,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    fn drop(&mut self, port: PortId, why: Why) {
        if let Some(p) = self.ports.get_mut(port)
            && let Some(c) = p.drops.get_mut(why as usize)
        {
            *c += 1;
        }
    }

    fn next_id(&mut self) -> u16 {
        self.ip_id = self.ip_id.wrapping_add(1);
        self.ip_id
    }

    /// Queue a frame built by `write`; false when nothing was queued.
    fn send(
        ports: &mut [Port],
        tx: &mut TxQueue,
        port: PortId,
        write: impl FnOnce(&mut [u8]) -> usize,
    ) -> bool {
        let mut n = 0;
        let queued = tx.push(port, |b| {
            n = write(b);
            n
        });
        if queued && let Some(p) = ports.get_mut(port) {
            p.tx_frames += 1;
            p.tx_bytes += n as u64;
        }
        queued
    }

    /// A frame arrived on `port`.
    pub fn handle_frame(&mut self, now: Instant, port: PortId, frame: &[u8], tx: &mut TxQueue) {
        let Some(p) = self.ports.get_mut(port) else {
            return;
        };
        p.rx_frames += 1;
        p.rx_bytes += frame.len() as u64;
        if self.stopped {
            return self.drop(port, Why::Stopped);
        }
        if !p.up {
            return self.drop(port, Why::LinkDown);
        }
        let my_mac = p.mac;
        let Ok(eth) = EthernetFrame::new_checked(frame) else {
            return self.drop(port, Why::Malformed);
        };
        let dst = eth.dst_addr();
        let to_vmac = self.slots.iter().any(|s| {
            s.port == port
                && s.rfc_mode
                && s.group.state() == VrrpState::Master
                && dst.0 == s.vmac()
        });
        if !dst.is_multicast() && dst.0 != my_mac && !to_vmac {
            return self.drop(port, Why::NotForUs);
        }
        match eth.ethertype() {
            ethertype::ARP => {
                let owner = |ip| {
                    local_mac(&self.config, &self.slots, port, my_mac, ip).map(EthernetAddress)
                };
                if !Self::send(&mut self.ports, tx, port, |b| {
                    local::answer_arp(frame, owner, b).unwrap_or(0)
                }) {
                    self.drop(port, Why::NotLocal);
                }
            }
            ethertype::IPV4 => self.handle_ipv4(now, port, my_mac, frame, eth.payload(), tx),
            _ => self.drop(port, Why::Unsupported),
        }
    }

    fn port_addr(&self, port: PortId) -> Ipv4Addr {
        port_addr(&self.config, port)
    }

    fn handle_ipv4(
        &mut self,
        now: Instant,
        port: PortId,
        my_mac: [u8; 6],
        frame: &[u8],
        payload: &[u8],
        tx: &mut TxQueue,
    ) {
        let Ok(ip) = Ipv4Packet::new_checked(payload) else {
            return self.drop(port, Why::Malformed);
        };
        if !ip.verify_checksum() || ip.is_fragment() {
            return self.drop(port, Why::Malformed);
        }
        let own = self.port_addr(port);
        let (src, dst) = (ip.src_addr(), ip.dst_addr());
        match ip.protocol() {
            protocol::VRRP => {
                if dst != crate::wire::vrrp::MULTICAST_ADDR && dst != own {
                    return self.drop(port, Why::VrrpBadDst);
                }
                if src == own {
                    return self.drop(port, Why::VrrpOwn);
                }
                self.handle_vrrp(now, port, src, dst, ip.ttl(), ip.payload(), tx);
            }
            protocol::ICMP => {
                let id = self.next_id();
                let owner = |ip| {
                    local_mac(&self.config, &self.slots, port, my_mac, ip).map(EthernetAddress)
                };
                if !Self::send(&mut self.ports, tx, port, |b| {
                    local::answer_echo(frame, owner, b, id).unwrap_or(0)
                }) {
                    self.drop(port, Why::NotLocal);
                }
            }
            _ => {
                if local_mac(&self.config, &self.slots, port, my_mac, dst).is_some() {
                    self.drop(port, Why::Unsupported)
                } else {
                    self.drop(port, Why::NotLocal)
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn handle_vrrp(
        &mut self,
        now: Instant,
        port: PortId,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        ttl: u8,
        vrrp: &[u8],
        tx: &mut TxQueue,
    ) {
        let vrid = vrrp.get(1).copied();
        let slot = vrid.and_then(|v| {
            self.slots
                .iter()
                .position(|s| s.port == port && s.group.params.vrid == v)
        });
        let Some(i) = slot else {
            return self.drop(port, Why::VrrpUnknownVrid);
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
                return self.drop(port, why);
            }
        };
        if !self.slots[i].started {
            return;
        }
        match self.slots[i].group.handle_advert(now, src, ttl, &adv) {
            Ok(out) => self.apply(now, i, out, tx),
            Err(d) => {
                let why = match d {
                    group::Drop::Ttl => Why::VrrpTtl,
                    group::Drop::Version => Why::VrrpVersion,
                    group::Drop::AddressList => Why::VrrpAddressList,
                    group::Drop::Auth => Why::VrrpAuth,
                    group::Drop::Interval => Why::VrrpInterval,
                };
                self.drop(port, why);
            }
        }
    }

    fn send_advert(&mut self, i: usize, priority: u8, tx: &mut TxQueue) {
        let Some(s) = self.slots.get(i) else {
            return;
        };
        let port = s.port;
        if !self.ports.get(port).is_some_and(|p| p.up) {
            return;
        }
        let src_mac = if s.rfc_mode {
            s.vmac()
        } else {
            self.ports[port].mac
        };
        let p = &s.group.params;
        let interval = p.wire_interval();
        let mut repr = VrrpRepr {
            version: p.version,
            vrid: p.vrid,
            priority,
            advert_interval: interval,
            auth_type: u8::from(p.auth.is_some()),
            auth_data: p.auth.unwrap_or([0; 8]),
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
        let peers = s.unicast_peers.len();
        for k in 0..peers.max(1) {
            let id = self.next_id();
            let src_mac = EthernetAddress(src_mac);
            let hdr = match self.slots[i].unicast_peers.get(k) {
                None => AdvertHeader::multicast(src_mac, primary, id),
                Some(peer) => {
                    AdvertHeader::unicast(src_mac, primary, EthernetAddress::BROADCAST, *peer, id)
                }
            };
            Self::send(&mut self.ports, tx, port, |b| {
                build::vrrp_advert(b, &hdr, &repr, mode)
            });
        }
    }

    fn send_garps(&mut self, i: usize, tx: &mut TxQueue) {
        self.send_garps_for(i, false, tx);
    }

    /// Gratuitous ARP for every VIP of slot `i`, or (`added_only`) for the
    /// VIPs the last reloads added.
    fn send_garps_for(&mut self, i: usize, added_only: bool, tx: &mut TxQueue) {
        let Some(s) = self.slots.get(i) else {
            return;
        };
        let port = s.port;
        if !self.ports.get(port).is_some_and(|p| p.up) {
            return;
        }
        let mac = if s.rfc_mode {
            s.vmac()
        } else {
            self.ports[port].mac
        };
        let list = if added_only {
            &s.added_vips
        } else {
            &s.group.params.vips
        };
        for vip in list {
            let vip = *vip;
            Self::send(&mut self.ports, tx, port, |b| {
                build::gratuitous_arp(b, EthernetAddress(mac), vip)
            });
        }
    }

    /// Carry out what a group asked for, including sync-group consequences.
    /// Order (SPEC §4a): on becoming master, announce the VIPs (GARP)
    /// before the first advert; on leaving, advertise (priority 0) first.
    fn apply(&mut self, now: Instant, i: usize, out: Output, tx: &mut TxQueue) {
        let to_master = matches!(out.transition, Some((_, VrrpState::Master, _)));
        if !to_master && let Some(prio) = out.advert {
            self.send_advert(i, prio, tx);
        }
        if let Some((from, to, _reason)) = out.transition {
            self.on_transition(now, i, from, to, tx);
        }
        if to_master && let Some(prio) = out.advert {
            self.send_advert(i, prio, tx);
        }
        if out.reassert {
            self.send_garps(i, tx);
        }
        if let Some(reason) = out.want_master {
            self.grant_master(now, i, reason, tx);
        }
    }

    fn push_event(&mut self, e: Event) {
        if self.events.len() >= EVENT_CAPACITY {
            self.events.pop_front();
        }
        self.events.push_back(e);
    }

    fn on_transition(
        &mut self,
        now: Instant,
        i: usize,
        from: VrrpState,
        to: VrrpState,
        tx: &mut TxQueue,
    ) {
        let cfg = self.slots[i].cfg;
        self.push_event(Event::Transition {
            group: cfg,
            state: to,
        });
        if to == VrrpState::Master {
            let s = &mut self.slots[i];
            s.garp_left = s.garp_repeat.saturating_sub(1);
            s.garp_next = (s.garp_left > 0).then(|| now + GARP_SPACING);
            s.garp_refresh_at = (s.garp_refresh > Duration::ZERO).then(|| now + s.garp_refresh);
            if s.garp_repeat > 0 {
                self.send_garps(i, tx);
            }
        }
        if from == VrrpState::Master && to != VrrpState::Master {
            let s = &mut self.slots[i];
            s.garp_left = 0;
            s.garp_next = None;
            s.garp_refresh_at = None;
            s.clear_added();
            if let Some(sg) = s.sync
                && !self.stopped
            {
                for j in 0..self.slots.len() {
                    if j != i
                        && self.slots[j].sync == Some(sg)
                        && self.slots[j].group.state() == VrrpState::Master
                    {
                        let up = self.ports.get(self.slots[j].port).is_some_and(|p| p.up);
                        let o = self.slots[j].group.force_backup(
                            now,
                            "sync group member left master",
                            up,
                        );
                        self.apply(now, j, o, tx);
                    }
                }
            }
        }
    }

    fn grant_master(&mut self, now: Instant, i: usize, reason: &'static str, tx: &mut TxQueue) {
        let Some(sg) = self.slots[i].sync else {
            let o = self.slots[i].group.become_master(now, reason);
            return self.apply(now, i, o, tx);
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
            return self.apply(now, i, o, tx);
        }
        let o = self.slots[i].group.become_master(now, reason);
        self.apply(now, i, o, tx);
        for j in 0..self.slots.len() {
            if j != i && self.slots[j].sync == Some(sg) {
                let st = self.slots[j].group.state();
                if st == VrrpState::Backup || st == VrrpState::Init {
                    let o = self.slots[j]
                        .group
                        .become_master(now, "sync group member became master");
                    self.apply(now, j, o, tx);
                }
            }
        }
    }

    fn faulted(&self, i: usize) -> (bool, bool) {
        let s = &self.slots[i];
        let up = |p: PortId| self.ports.get(p).is_some_and(|x| x.up);
        let link = up(s.port);
        (!link || s.track.iter().any(|t| !up(*t)), link)
    }

    /// Start every unstarted group: first mark them all started and put the
    /// faulted ones in FAULT, then start the rest, so that a sync group
    /// decision (e.g. an owner asking for MASTER) sees every member as it is.
    fn start_groups(&mut self, now: Instant, tx: &mut TxQueue) {
        for s in self.slots.iter_mut() {
            s.starting = !s.started;
            s.started = true;
        }
        for faulted_pass in [true, false] {
            for i in 0..self.slots.len() {
                if self.slots[i].starting && self.faulted(i).0 == faulted_pass {
                    let o = self.slots[i].group.start(now, faulted_pass);
                    self.apply(now, i, o, tx);
                }
            }
        }
    }

    /// Time passed; run every timer due at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant, tx: &mut TxQueue) {
        if self.stopped {
            return;
        }
        if self.slots.iter().any(|s| !s.started) && now >= self.start_at {
            self.start_groups(now, tx);
        }
        for i in 0..self.slots.len() {
            if !self.slots[i].started {
                continue;
            }
            if self.slots[i].group.deadline().is_some_and(|d| d <= now) {
                let o = self.slots[i].group.handle_timeout(now);
                self.apply(now, i, o, tx);
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
                self.send_garps(i, tx);
            }
            self.added_garps_due(now, i, tx);
        }
    }

    /// Send the reload-added VIPs' gratuitous ARPs if due (slot `i` master).
    fn added_garps_due(&mut self, now: Instant, i: usize, tx: &mut TxQueue) {
        let s = &mut self.slots[i];
        if s.added_next.is_none_or(|t| t > now) {
            return;
        }
        s.added_left = s.added_left.saturating_sub(1);
        s.added_next = (s.added_left > 0).then(|| now + GARP_SPACING);
        self.send_garps_for(i, true, tx);
        if self.slots[i].added_left == 0 {
            self.slots[i].clear_added();
        }
    }

    /// When `handle_timeout` must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.stopped {
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

    /// Link state of `port` changed (tracked interfaces, FAULT).
    pub fn set_link(&mut self, now: Instant, port: PortId, up: bool, tx: &mut TxQueue) {
        let Some(p) = self.ports.get_mut(port) else {
            return;
        };
        if p.up == up {
            return;
        }
        p.up = up;
        let name = self
            .config
            .interfaces
            .get(port)
            .map_or("?", |i| i.name.as_str());
        log::info!("interface {name}: link {}", if up { "up" } else { "down" });
        if self.stopped {
            return;
        }
        for i in 0..self.slots.len() {
            let s = &self.slots[i];
            if !s.started || (s.port != port && !s.track.contains(&port)) {
                continue;
            }
            let (faulted, link) = self.faulted(i);
            let reason = match (s.port == port, up) {
                (true, false) => "interface link down",
                (true, true) => "interface link up",
                (false, false) => "tracked interface down",
                (false, true) => "tracked interface up",
            };
            let o = self.slots[i].group.set_fault(now, faulted, link, reason);
            self.apply(now, i, o, tx);
        }
    }

    /// Orderly stop: masters send priority-0 adverts.
    pub fn shutdown(&mut self, now: Instant, tx: &mut TxQueue) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        for i in 0..self.slots.len() {
            let o = self.slots[i].group.shutdown(now);
            self.apply(now, i, o, tx);
        }
    }

    /// Apply a new validated config (SIGHUP); unchanged groups are not disturbed.
    /// A group keeps its state when its name, interface and VRID are the same
    /// (its parameters are updated in place); removed groups that are master
    /// send priority 0; new groups start at the next `handle_timeout`. The
    /// interface list must keep its names in order (the ports are fixed).
    pub fn reload(
        &mut self,
        config: &Config,
        now: Instant,
        tx: &mut TxQueue,
    ) -> Result<(), EngineError> {
        let same_ports = config.interfaces.len() == self.config.interfaces.len()
            && config
                .interfaces
                .iter()
                .zip(&self.config.interfaces)
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
        let old_cfg = std::mem::replace(&mut self.config, config.clone());
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
                self.send_advert(i, prio, tx);
                self.slots.pop();
            }
        }
        // Tracked interfaces may have changed: re-evaluate faults.
        for i in 0..self.slots.len() {
            if self.slots[i].started {
                let (faulted, link) = self.faulted(i);
                let o = self.slots[i].group.set_fault(now, faulted, link, "reload");
                self.apply(now, i, o, tx);
            }
        }
        for i in 0..self.slots.len() {
            if self.slots[i].group.state() == VrrpState::Master {
                self.added_garps_due(now, i, tx);
            }
        }
        Ok(())
    }

    /// Next event for the driver, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    pub fn snapshot(&self, now: Instant) -> Snapshot {
        let groups = self
            .slots
            .iter()
            .map(|s| {
                let g = &self.config.vrrp_groups[s.cfg];
                let p = &s.group.params;
                GroupStatus {
                    name: g.name.clone(),
                    interface: g.interface.clone(),
                    interface_up: self.ports.get(s.port).is_some_and(|x| x.up),
                    vrid: p.vrid,
                    version: p.version,
                    state: s.group.state(),
                    address_owner: p.address_owner,
                    priority: p.priority,
                    configured_priority: p.configured_priority,
                    advert_interval_cs: p.advert_interval_cs,
                    master_advert_interval_cs: s.group.master_adver_interval_cs(),
                    auth_type: if p.auth.is_some() {
                        "plaintext-password"
                    } else {
                        "none"
                    },
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
            .collect();
        let ports = self
            .config
            .interfaces
            .iter()
            .zip(&self.ports)
            .map(|(i, p)| PortStatus {
                name: i.name.clone(),
                device: i.device.clone(),
                role: i.role,
                mac: p.mac,
                address: i.address,
                up: p.up,
                rx_frames: p.rx_frames,
                rx_bytes: p.rx_bytes,
                tx_frames: p.tx_frames,
                tx_bytes: p.tx_bytes,
                drops: DROP_REASONS
                    .iter()
                    .copied()
                    .zip(p.drops.iter().copied())
                    .collect(),
            })
            .collect();
        Snapshot { groups, ports }
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

fn port_addr(config: &Config, port: PortId) -> Ipv4Addr {
    config
        .interfaces
        .get(port)
        .map_or(Ipv4Addr::UNSPECIFIED, |i| i.address.addr)
}

/// Whose MAC answers for `ip` on `port`: the interface's own address
/// (interface MAC), or a VIP of a group that is MASTER there (the interface
/// MAC, or the virtual MAC in RFC mode).
fn local_mac(
    config: &Config,
    slots: &[Slot],
    port: PortId,
    mac: [u8; 6],
    ip: Ipv4Addr,
) -> Option<[u8; 6]> {
    if ip == port_addr(config, port) {
        return Some(mac);
    }
    slots
        .iter()
        .find(|s| {
            s.port == port
                && s.group.state() == VrrpState::Master
                && s.group.params.vips.contains(&ip)
        })
        .map(|s| if s.rfc_mode { s.vmac() } else { mac })
}
