//! Health tracking in the engine: the configured `track` sections running
//! (`crate::track` probes and hysteresis), their answers taken off the
//! receive path, and what their state does to the groups that list them.
//!
//! Owns: `Tracks` (one runtime per `Config::tracks` entry, one health view
//! per group), the probe timers, the echo replies to our probes (consumed
//! here, before the local path would count them `no_host`), the script
//! requests to the driver (`Event::RunScript`, one run per track at a
//! time) and the effective priority.
//! Rules:
//! * Effective priority = the group's priority + the weights of its DOWN
//!   tracks, clamped to 1..=254 (an address owner stays at 255); a DOWN
//!   track of weight 0 holds the group in FAULT. A change applies at once
//!   (`Groups::set_health`: a master advertises the new priority now; the
//!   election follows the normal rules). The members of a sync group all
//!   count the tracks of every member, so the group moves together.
//! * Probes go out from the interface's own address and MAC, so a backup
//!   probes too (and does not take over with a dead upstream).
//! * A track starts UP; a probe unanswered when the next one is due is a
//!   failure; a link down is a failure (nothing is sent).
//!
//! Never: allocates per probe, runs a script, or touches a group directly.

use super::ctx::Ctx;
use super::groups::Groups;
use super::{Event, PortId, TxQueue, min_opt};
use crate::config::{Config, Track, TrackKind};
use crate::time::{Duration, Instant};
use crate::track::{ArpSeen, Hysteresis, Probe, ProbeCounters, ProbeKind};
use crate::wire::icmp::msg_type;
use crate::wire::{ArpPacket, ArpRepr, EthernetFrame, IcmpPacket, Ipv4Packet, ethertype, protocol};
use std::net::Ipv4Addr;

/// Identifier base of our echo requests (the track's index is added).
const IDENT_BASE: u16 = 0x6877;

/// One track as `show tracks`, `show vrrp detail` and metrics list it.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackStatus {
    pub name: String,
    /// "ping", "arp", "interface" or "script".
    pub kind: &'static str,
    pub interface: Option<String>,
    pub target: Option<Ipv4Addr>,
    pub up: bool,
    pub weight: i16,
    pub interval_ms: u32,
    pub rise: u8,
    pub fall: u8,
    /// The groups that list it.
    pub groups: Vec<String>,
    pub successes: u64,
    pub failures: u64,
    /// UP/DOWN changes.
    pub transitions: u64,
    /// Probes (ping/arp).
    pub probe: ProbeCounters,
    /// Script: a run is in progress.
    pub running: bool,
    /// Script: periods skipped because the previous run was still going.
    pub skipped: u64,
    pub last_change: Option<Duration>,
}

/// What a track counts (kept across a reload).
#[derive(Clone, Default)]
struct Stats {
    successes: u64,
    failures: u64,
    transitions: u64,
    skipped: u64,
    last_change: Option<Instant>,
}

#[derive(Clone)]
struct Rt {
    cfg: Track,
    port: Option<PortId>,
    health: Hysteresis,
    probe: Option<Probe>,
    next_at: Instant,
    running_since: Option<Instant>,
    stats: Stats,
}

/// A group's view of its tracks.
#[derive(Clone)]
struct GroupHealth {
    name: String,
    /// Priority before tracks (255 owner, 254 for a non-owner's 255).
    base: u8,
    owner: bool,
    tracks: Vec<usize>,
    /// (priority, fault) last handed to `Groups::set_health`.
    applied: Option<(u8, bool)>,
}

/// Every track of the router.
#[derive(Clone)]
pub struct Tracks {
    list: Vec<Rt>,
    groups: Vec<GroupHealth>,
    /// A track changed (or the config did): re-evaluate the groups.
    dirty: bool,
}

fn runtime(config: &Config, k: usize, t: &Track, now: Instant) -> Rt {
    let port = t.interface.as_ref().and_then(|i| config.interface_index(i));
    let probe = match (t.kind, t.target) {
        (TrackKind::Ping, Some(target)) => Some(ProbeKind::Ping).zip(Some(target)),
        (TrackKind::Arp, Some(target)) => Some(ProbeKind::Arp).zip(Some(target)),
        _ => None,
    }
    .map(|(kind, target)| {
        let nh = t.next_hop.unwrap_or(target);
        Probe::new(kind, target, nh, IDENT_BASE.wrapping_add(k as u16))
    });
    Rt {
        cfg: t.clone(),
        port,
        health: Hysteresis::new(t.rise, t.fall),
        probe,
        next_at: now,
        running_since: None,
        stats: Stats::default(),
    }
}

fn group_health(config: &Config) -> Vec<GroupHealth> {
    config
        .vrrp_groups
        .iter()
        .map(|g| {
            let owner = config
                .interface(&g.interface)
                .is_some_and(|i| g.virtual_addresses.iter().any(|v| v.addr == i.address.addr));
            GroupHealth {
                name: g.name.clone(),
                base: if owner { 255 } else { g.priority.clamp(1, 254) },
                owner,
                // A sync group moves together: every member counts the
                // tracks of all members (else a member with a healthy
                // priority would pull the group back at once).
                tracks: config
                    .vrrp_groups
                    .iter()
                    .filter(|o| {
                        o.name == g.name || (g.sync_group.is_some() && o.sync_group == g.sync_group)
                    })
                    .flat_map(|o| o.tracks.iter())
                    .filter_map(|n| config.track_index(n))
                    .fold(Vec::new(), |mut v, k| {
                        if !v.contains(&k) {
                            v.push(k);
                        }
                        v
                    }),
                applied: None,
            }
        })
        .collect()
}

/// Effective (priority, fault) of a group from the UP/DOWN of `tracks`
/// (index, weight, up).
pub fn effective(base: u8, owner: bool, tracks: impl Iterator<Item = (i16, bool)>) -> (u8, bool) {
    let mut prio = i32::from(base);
    let mut fault = false;
    for (weight, up) in tracks {
        if !up {
            if weight == 0 {
                fault = true;
            } else {
                prio += i32::from(weight);
            }
        }
    }
    if owner {
        return (base, fault);
    }
    (prio.clamp(1, 254) as u8, fault)
}

impl Tracks {
    pub fn new(config: &Config, now: Instant) -> Tracks {
        Tracks {
            list: config
                .tracks
                .iter()
                .enumerate()
                .map(|(k, t)| runtime(config, k, t, now))
                .collect(),
            groups: group_health(config),
            dirty: true,
        }
    }

    /// A new validated config: a track with the same name, type, interface
    /// and target keeps its state and counters; every group is re-evaluated.
    pub fn reload(
        &mut self,
        ctx: &mut Ctx,
        groups: &mut Groups,
        config: &Config,
        now: Instant,
        tx: &mut TxQueue,
    ) {
        let mut old = std::mem::take(&mut self.list);
        for (k, t) in config.tracks.iter().enumerate() {
            let mut rt = runtime(config, k, t, now);
            let same = |o: &Rt| {
                o.cfg.name == t.name
                    && o.cfg.kind == t.kind
                    && o.cfg.interface == t.interface
                    && o.cfg.target == t.target
                    && o.cfg.next_hop == t.next_hop
                    && o.cfg.command == t.command
            };
            if let Some(i) = old.iter().position(same) {
                let o = old.swap_remove(i);
                let mut h = Hysteresis::new(t.rise, t.fall);
                if !o.health.is_up() {
                    // Keep it DOWN: a reload is no evidence the target is back.
                    for _ in 0..t.fall {
                        h.record(false);
                    }
                }
                rt.health = h;
                if let (Some(p), Some(op)) = (&mut rt.probe, o.probe) {
                    p.counters = op.counters;
                }
                rt.running_since = o.running_since;
                rt.stats = o.stats;
            }
            self.list.push(rt);
        }
        self.groups = group_health(config);
        self.dirty = true;
        self.apply(ctx, groups, now, tx);
    }

    fn record(&mut self, k: usize, ok: bool, now: Instant) {
        let Some(rt) = self.list.get_mut(k) else {
            return;
        };
        if ok {
            rt.stats.successes += 1;
        } else {
            rt.stats.failures += 1;
        }
        let Some(up) = rt.health.record(ok) else {
            return;
        };
        rt.stats.transitions += 1;
        rt.stats.last_change = Some(now);
        self.dirty = true;
        let what = match (rt.cfg.target, &rt.cfg.interface) {
            (Some(t), Some(i)) => format!("{} {t} via {i}", rt.cfg.kind.as_str()),
            (None, Some(i)) => format!("link of {i}"),
            _ => rt.cfg.command.clone().unwrap_or_default(),
        };
        if up {
            log::info!(
                "track {} ({what}): UP after {} successes",
                rt.cfg.name,
                rt.cfg.rise
            );
        } else {
            log::warn!(
                "track {} ({what}): DOWN after {} failures; {}",
                rt.cfg.name,
                rt.cfg.fall,
                if rt.cfg.weight == 0 {
                    "its groups go to FAULT".to_string()
                } else {
                    format!("weight {} applies", rt.cfg.weight)
                }
            );
        }
    }

    /// Hand changed (priority, fault) to the groups.
    fn apply(&mut self, ctx: &mut Ctx, groups: &mut Groups, now: Instant, tx: &mut TxQueue) {
        if !std::mem::take(&mut self.dirty) {
            return;
        }
        for (gi, g) in self.groups.iter_mut().enumerate() {
            let list = &self.list;
            let state = g
                .tracks
                .iter()
                .filter_map(|k| list.get(*k))
                .map(|rt| (rt.cfg.weight, rt.health.is_up()));
            let (prio, fault) = effective(g.base, g.owner, state);
            if g.applied == Some((prio, fault)) {
                continue;
            }
            if g.applied.is_some() || prio != g.base || fault {
                let down: Vec<&str> = g
                    .tracks
                    .iter()
                    .filter_map(|k| list.get(*k))
                    .filter(|rt| !rt.health.is_up())
                    .map(|rt| rt.cfg.name.as_str())
                    .collect();
                log::info!(
                    "vrrp {}: effective priority {prio} (configured {}{}){}",
                    g.name,
                    g.base,
                    if down.is_empty() {
                        String::new()
                    } else {
                        format!("; tracks down: {}", down.join(", "))
                    },
                    if fault { "; FAULT" } else { "" }
                );
            }
            g.applied = Some((prio, fault));
            let reason = if fault {
                "health track down"
            } else {
                "health tracks up"
            };
            groups.set_health(ctx, now, gi, prio, fault, reason, tx);
        }
    }

    /// Run every probe due at `now`.
    pub fn handle_timeout(
        &mut self,
        ctx: &mut Ctx,
        groups: &mut Groups,
        now: Instant,
        tx: &mut TxQueue,
    ) {
        if ctx.stopped {
            return;
        }
        for k in 0..self.list.len() {
            let rt = &mut self.list[k];
            if now < rt.next_at {
                continue;
            }
            let interval = Duration::from_millis(u64::from(rt.cfg.interval_ms.max(100)));
            rt.next_at = (rt.next_at + interval).max(now + interval / 2);
            match rt.cfg.kind {
                TrackKind::Ping | TrackKind::Arp => {
                    let missed = rt.probe.as_mut().and_then(Probe::tick);
                    if missed.is_some() {
                        self.record(k, false, now);
                    }
                    self.send_probe(ctx, k, tx);
                }
                TrackKind::Interface => {
                    let up = rt.port.is_some_and(|p| ctx.port_up(p));
                    self.record(k, up, now);
                }
                TrackKind::Script => {
                    if let Some(since) = rt.running_since {
                        let limit = Duration::from_millis(u64::from(rt.cfg.timeout_ms)) + interval;
                        if now - since >= limit {
                            // The driver never answered: count it lost.
                            rt.running_since = None;
                            self.record(k, false, now);
                        } else {
                            rt.stats.skipped += 1;
                        }
                    } else {
                        rt.running_since = Some(now);
                        ctx.push_event(Event::RunScript { track: k });
                    }
                }
            }
        }
        self.apply(ctx, groups, now, tx);
    }

    fn send_probe(&mut self, ctx: &mut Ctx, k: usize, tx: &mut TxQueue) {
        let Some(rt) = self.list.get_mut(k) else {
            return;
        };
        let (Some(port), Some(probe)) = (rt.port, rt.probe.as_mut()) else {
            return;
        };
        if !ctx.port_up(port) {
            return;
        }
        let src = (ctx.port_mac(port), ctx.port_addr(port));
        let id = ctx.next_id();
        ctx.send(tx, port, |b| probe.write(b, src, id));
    }

    /// A script run for track `k` ended: `ok` = exit 0 in time.
    pub fn script_result(
        &mut self,
        ctx: &mut Ctx,
        groups: &mut Groups,
        now: Instant,
        k: usize,
        ok: bool,
        tx: &mut TxQueue,
    ) {
        let Some(rt) = self.list.get_mut(k) else {
            return;
        };
        if rt.cfg.kind != TrackKind::Script || rt.running_since.take().is_none() {
            return;
        }
        self.record(k, ok, now);
        self.apply(ctx, groups, now, tx);
    }

    /// A frame arrived on `port`: ARP feeds the probes (and goes on to the
    /// rest of the engine); an echo reply to one of our probes is consumed
    /// here (true). Untrusted bytes: anything malformed is left to the
    /// normal path, which counts it.
    pub fn observe(
        &mut self,
        ctx: &mut Ctx,
        groups: &mut Groups,
        now: Instant,
        port: PortId,
        frame: &[u8],
        tx: &mut TxQueue,
    ) -> bool {
        if ctx.stopped
            || !ctx.port_up(port)
            || !self
                .list
                .iter()
                .any(|r| r.port == Some(port) && r.probe.is_some())
        {
            return false;
        }
        let Ok(eth) = EthernetFrame::new_checked(frame) else {
            return false;
        };
        let our_ip = ctx.port_addr(port);
        let consumed = match eth.ethertype() {
            ethertype::ARP => {
                let arp = ArpPacket::new_checked(eth.payload()).and_then(|a| ArpRepr::parse(&a));
                if let Ok(arp) = arp {
                    self.on_arp(ctx, now, port, &arp, our_ip, tx);
                }
                false
            }
            ethertype::IPV4 if eth.dst_addr().0 == ctx.port_mac(port) => {
                self.on_ipv4(now, port, eth.payload(), our_ip)
            }
            _ => false,
        };
        if consumed && let Some(p) = ctx.ports.get_mut(port) {
            p.rx_frames += 1;
            p.rx_bytes += frame.len() as u64;
        }
        self.apply(ctx, groups, now, tx);
        consumed
    }

    fn on_arp(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        port: PortId,
        arp: &ArpRepr,
        our_ip: Ipv4Addr,
        tx: &mut TxQueue,
    ) {
        for k in 0..self.list.len() {
            let rt = &mut self.list[k];
            let Some(probe) = rt.probe.as_mut().filter(|_| rt.port == Some(port)) else {
                continue;
            };
            match probe.on_arp(arp, our_ip) {
                ArpSeen::Nothing => {}
                ArpSeen::Answered => self.record(k, true, now),
                ArpSeen::Resolved => self.send_probe(ctx, k, tx),
            }
        }
    }

    /// An IPv4 packet to our MAC: true when it is an echo reply carrying
    /// one of our probes' identifiers, to the port's own address.
    fn on_ipv4(&mut self, now: Instant, port: PortId, ip: &[u8], our_ip: Ipv4Addr) -> bool {
        let Ok(ip) = Ipv4Packet::new_checked(ip) else {
            return false;
        };
        if ip.protocol() != protocol::ICMP
            || ip.is_fragment()
            || ip.dst_addr() != our_ip
            || !ip.verify_checksum()
        {
            return false;
        }
        let Ok(icmp) = IcmpPacket::new_checked(ip.payload()) else {
            return false;
        };
        if icmp.msg_type() != msg_type::ECHO_REPLY || !icmp.verify_checksum() {
            return false;
        }
        let ident = icmp.echo_ident();
        let Some(k) = self.list.iter().position(|r| {
            r.port == Some(port) && r.probe.as_ref().is_some_and(|p| p.ident == ident)
        }) else {
            return false;
        };
        let answered = self.list[k]
            .probe
            .as_mut()
            .is_some_and(|p| p.on_echo_reply(ip.src_addr(), icmp.echo_seq_no()));
        if answered {
            self.record(k, true, now);
        }
        true
    }

    pub fn poll_timeout(&self, ctx: &Ctx) -> Option<Instant> {
        if ctx.stopped {
            return None;
        }
        self.list
            .iter()
            .fold(None, |t, r| min_opt(t, Some(r.next_at)))
    }

    pub fn snapshot(&self, now: Instant) -> Vec<TrackStatus> {
        self.list
            .iter()
            .enumerate()
            .map(|(k, rt)| TrackStatus {
                name: rt.cfg.name.clone(),
                kind: rt.cfg.kind.as_str(),
                interface: rt.cfg.interface.clone(),
                target: rt.cfg.target,
                up: rt.health.is_up(),
                weight: rt.cfg.weight,
                interval_ms: rt.cfg.interval_ms,
                rise: rt.cfg.rise,
                fall: rt.cfg.fall,
                groups: self
                    .groups
                    .iter()
                    .filter(|g| g.tracks.contains(&k))
                    .map(|g| g.name.clone())
                    .collect(),
                successes: rt.stats.successes,
                failures: rt.stats.failures,
                transitions: rt.stats.transitions,
                probe: rt
                    .probe
                    .as_ref()
                    .map(|p| p.counters.clone())
                    .unwrap_or_default(),
                running: rt.running_since.is_some(),
                skipped: rt.stats.skipped,
                last_change: rt.stats.last_change.map(|t| now - t),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::effective;

    #[test]
    fn weights_add_while_down_and_clamp() {
        assert_eq!(
            effective(200, false, [(-150, true)].into_iter()),
            (200, false)
        );
        assert_eq!(
            effective(200, false, [(-150, false)].into_iter()),
            (50, false)
        );
        assert_eq!(
            effective(200, false, [(-150, false), (-100, false)].into_iter()),
            (1, false)
        );
        assert_eq!(
            effective(254, false, [(-1, false)].into_iter()),
            (253, false)
        );
        assert_eq!(effective(100, false, [(0, false)].into_iter()), (100, true));
        assert_eq!(
            effective(100, false, [(0, true), (-20, false)].into_iter()),
            (80, false)
        );
        // An address owner stays at 255; only a weight-0 track moves it (FAULT).
        assert_eq!(
            effective(255, true, [(-50, false)].into_iter()),
            (255, false)
        );
        assert_eq!(effective(255, true, [(0, false)].into_iter()), (255, true));
    }
}
