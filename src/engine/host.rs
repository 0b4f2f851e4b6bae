//! The host path (SPEC §1, §3, issue 14): frames between a port and the
//! kernel TAP that holds the router's own addresses, so dnsmasq, dropbear
//! and the kernel's own connections keep working on ports hagw owns.
//!
//! To the host (`deliver`, `copy_arp`): unicast IPv4 to one of our
//! addresses that hagw does not answer itself (engine::local keeps ARP
//! requests, ICMP echo requests and VRRP), DHCP broadcasts (UDP 67/68),
//! 224.0.0.1, after the port's `local` chain; ARP replies and gratuitous
//! ARPs are copied (no filter) so the kernel's neighbour table fills.
//! From the host (`transmit`): the kernel's frames leave the port they
//! came for after the port's `out` chain, with the MAC hagw answers for
//! their source address (the virtual MAC for a VIP in RFC mode); ARP
//! replies and gratuitous ARPs for addresses hagw answers are dropped (no
//! double answers), and a source that is not ours now (a VIP after leaving
//! master) is dropped. No NAT unless a SNAT rule matches the host's flow
//! (its out interface and source prefix, e.g. the router's WAN address to
//! the WAN VIP); then it is translated like a forwarded flow, and the
//! answers back.
//!
//! Owns: `Host` — per-port TAP presence and counters, the bounded queue of
//! frames for the TAPs (full: `host_queue_full`) — and the use of the
//! dataplane's `host_ct`, a small session table of the host's own flows
//! (never synced, never used for forwarding; SNAT checks it so no mapping
//! is given twice) so the `local` and `out` chains see new / established /
//! related.
//! Never: forwards, touches the forwarding session table, blocks.

use super::addrs::LocalAddrs;
use super::classify;
use super::ctx::{Ctx, Why};
use super::forward::Dataplane;
use super::icmp;
use super::{PortId, TxQueue};
use crate::config::{Config, Direction, FirewallAction};
use crate::conntrack::frag::FragKey;
use crate::conntrack::{Conntrack, CtState, Dir, NatFlags, PacketInfo, SessionIdx, Tuple};
use crate::firewall::Match;
use crate::nat::Snat;
use crate::time::{Duration, Instant};
use crate::wire::{
    ArpOperation, ArpPacket, ArpRepr, EthernetFrame, Ipv4Packet, ethernet, ethertype, protocol,
};
use std::net::Ipv4Addr;

/// Frames waiting for the TAPs (all ports); the driver drains it each turn.
pub const HOST_QUEUE: usize = 128;
/// Sessions of the host's own flows (the firewall's state for them).
pub const HOST_SESSIONS: u32 = 1024;

/// Host-path counters of one port (`show interfaces`, metrics).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostCounters {
    /// A TAP carries this port's host traffic.
    pub tap: bool,
    pub to_host_frames: u64,
    pub to_host_bytes: u64,
    pub from_host_frames: u64,
    pub from_host_bytes: u64,
}

#[derive(Clone)]
pub struct Host {
    pub ports: Vec<HostCounters>,
    queue: TxQueue,
    /// First fragments the host path let through, with the NAT their
    /// flow needs: their later fragments follow them (a ring; an entry
    /// lives `FRAG_LIFE`).
    frags: [Option<(FragKey, Instant, Rewrite)>; HOST_FRAGS],
    next_frag: usize,
}

/// A packet's (as it is, as it must be) tuples when NAT applies to it.
type Rewrite = Option<(Tuple, Tuple)>;

/// First fragments remembered for the host path, and for how long.
const HOST_FRAGS: usize = 32;
const FRAG_LIFE: Duration = Duration::from_secs(30);

impl Host {
    pub fn new(config: &Config) -> Host {
        Host {
            ports: config
                .interfaces
                .iter()
                .map(|i| HostCounters {
                    tap: i.host_tap.is_some(),
                    ..HostCounters::default()
                })
                .collect(),
            queue: TxQueue::with_capacity(HOST_QUEUE),
            frags: [None; HOST_FRAGS],
            next_frag: 0,
        }
    }

    /// Remember the first fragment `ip` passed (see `frags`).
    fn first_fragment(
        &mut self,
        now: Instant,
        ip: &Ipv4Packet<&[u8]>,
        nat: Option<(Tuple, Tuple)>,
    ) {
        if ip.more_frags() && ip.frag_offset() == 0 {
            if let Some(slot) = self.frags.get_mut(self.next_frag % HOST_FRAGS) {
                *slot = Some((classify::frag_key(ip), now, nat));
            }
            self.next_frag = self.next_frag.wrapping_add(1);
        }
    }

    /// A later fragment: Some(its first fragment's NAT) when that one
    /// passed, None (drop, `frag_no_first`) otherwise.
    fn later_fragment(
        &self,
        now: Instant,
        ip: &Ipv4Packet<&[u8]>,
    ) -> Option<Option<(Tuple, Tuple)>> {
        let key = classify::frag_key(ip);
        self.frags.iter().flatten().find_map(|(k, at, nat)| {
            (*k == key && now.saturating_since(*at) < FRAG_LIFE).then_some(*nat)
        })
    }

    /// A reload keeps the counters; a TAP switched off in the config is
    /// off (one the driver could not create stays off; TAPs are created
    /// at start only).
    pub fn reload(&mut self, config: &Config) {
        for (c, i) in self.ports.iter_mut().zip(&config.interfaces) {
            c.tap = c.tap && i.host_tap.is_some();
        }
    }

    pub fn set_tap(&mut self, port: PortId, present: bool) {
        if let Some(c) = self.ports.get_mut(port) {
            c.tap = present;
        }
    }

    fn has_tap(&self, port: PortId) -> bool {
        self.ports.get(port).is_some_and(|c| c.tap)
    }

    /// Frames for the TAPs, in order, as (port, bytes).
    pub fn frames(&self) -> impl Iterator<Item = (PortId, &[u8])> {
        self.queue.iter()
    }

    pub fn clear(&mut self) {
        self.queue.clear();
    }

    /// Queue `frame` for `port`'s TAP and count it. A unicast frame to a
    /// virtual MAC (RFC mode) is readdressed to the port MAC, the TAP's
    /// (the kernel ignores frames for other MACs).
    /// `rewrite`: the session's (as it is, as it must be) tuples when NAT
    /// applies to it (the reply to a host flow a SNAT rule translated).
    fn push(&mut self, ctx: &mut Ctx, port: PortId, frame: &[u8], rewrite: Option<(Tuple, Tuple)>) {
        let n = frame.len();
        let port_mac = ctx.port_mac(port);
        let queued = self.queue.push(port, |b| match b.get_mut(..n) {
            Some(o) => {
                o.copy_from_slice(frame);
                if let Some(dst) = o.first_chunk_mut::<6>()
                    && dst[0] & 1 == 0
                {
                    *dst = port_mac;
                }
                if translate_ip(o, rewrite) { n } else { 0 }
            }
            None => 0,
        });
        if !queued {
            return ctx.drop(port, Why::HostQueueFull);
        }
        if let Some(c) = self.ports.get_mut(port) {
            c.to_host_frames += 1;
            c.to_host_bytes += n as u64;
        }
    }

    /// An ARP packet hagw received on `port`: replies to us and gratuitous
    /// ARPs are copied to the host (its neighbour table), unfiltered.
    pub fn copy_arp(
        &mut self,
        ctx: &mut Ctx,
        addrs: &LocalAddrs,
        port: PortId,
        arp: &ArpRepr,
        frame: &[u8],
    ) {
        if !self.has_tap(port) {
            return;
        }
        let gratuitous = arp.source_protocol_addr == arp.target_protocol_addr;
        let reply_to_us = arp.operation == ArpOperation::Reply
            && addrs.owner(port, arp.target_protocol_addr).is_some();
        if gratuitous || reply_to_us {
            self.push(ctx, port, frame, None);
        }
    }

    /// An IPv4 packet for the router that hagw does not answer itself:
    /// through the ingress port's `local` chain into its TAP (`no_host`
    /// where the port has none).
    #[allow(clippy::too_many_arguments)]
    pub fn deliver(
        &mut self,
        ctx: &mut Ctx,
        dp: &mut Dataplane,
        now: Instant,
        port: PortId,
        frame: &[u8],
        ip: &Ipv4Packet<&[u8]>,
        tx: &mut TxQueue,
    ) {
        if !self.has_tap(port) {
            return ctx.drop(port, Why::NoHost);
        }
        if ip.frag_offset() != 0 {
            return match self.later_fragment(now, ip) {
                Some(nat) => self.push(ctx, port, frame, nat),
                None => ctx.drop(port, Why::FragNoFirst),
            };
        }
        let flow = match read_flow(ip) {
            Some(f) => f,
            None => return ctx.drop(port, Why::Malformed),
        };
        let Some(hf) = track(&mut dp.host_ct, ctx, now, port, &flow) else {
            return;
        };
        let m = Match::from_tuple(&flow.info.tuple, hf.state);
        let len = usize::from(ip.total_len());
        if !local_chain(ctx, dp, now, port, frame, &m, len, tx) {
            return;
        }
        if hf.state == CtState::New && !ip.is_fragment() && unicast(&flow.info.tuple) {
            let t = flow.info.tuple;
            let nat = NatFlags::default();
            let _ = dp.host_ct.insert(now, t, t.reversed(), nat, &flow.info);
        }
        let rewrite = hf.session.and_then(|s| rewrite_of(&dp.host_ct, s));
        self.first_fragment(now, ip, rewrite);
        self.push(ctx, port, frame, rewrite);
    }

    /// A frame the kernel wrote into `port`'s TAP: see the module docs.
    #[allow(clippy::too_many_arguments)]
    pub fn transmit(
        &mut self,
        ctx: &mut Ctx,
        addrs: &LocalAddrs,
        dp: &mut Dataplane,
        now: Instant,
        port: PortId,
        frame: &[u8],
        tx: &mut TxQueue,
    ) {
        let Some(p) = ctx.ports.get(port) else {
            return;
        };
        if ctx.stopped {
            return ctx.drop(port, Why::Stopped);
        }
        if !p.up {
            return ctx.drop(port, Why::LinkDown);
        }
        let port_mac = p.mac;
        let Ok(eth) = EthernetFrame::new_checked(frame) else {
            return ctx.drop(port, Why::Malformed);
        };
        if frame.len() > super::MAX_FRAME {
            return ctx.drop(port, Why::Malformed);
        }
        // The MAC this frame leaves with, and the NAT it needs.
        let mut rewrite = None;
        let src_mac = match eth.ethertype() {
            ethertype::ARP => {
                let arp = ArpPacket::new_checked(eth.payload()).and_then(|a| ArpRepr::parse(&a));
                let Ok(arp) = arp else {
                    return ctx.drop(port, Why::Malformed);
                };
                let spa = arp.source_protocol_addr;
                match addrs.owner(port, spa) {
                    Some(_)
                        if arp.operation == ArpOperation::Reply
                            || spa == arp.target_protocol_addr =>
                    {
                        // hagw answers and announces its addresses itself.
                        return ctx.drop(port, Why::HostArpAnswered);
                    }
                    Some(mac) => mac.0,
                    None if spa.is_unspecified() => port_mac,
                    None => return ctx.drop(port, Why::HostSource),
                }
            }
            ethertype::IPV4 => {
                let Ok(ip) = Ipv4Packet::new_checked(eth.payload()) else {
                    return ctx.drop(port, Why::Malformed);
                };
                let src = ip.src_addr();
                let mac = match addrs.owner(port, src) {
                    Some(mac) => mac.0,
                    // Weak host: another port's address (a reply to a LAN
                    // client that asked the WAN address), or a DHCP client.
                    None if src.is_unspecified() || addrs.find(src).is_some() => {
                        addrs.source_mac(port, port_mac)
                    }
                    None => return ctx.drop(port, Why::HostSource),
                };
                if ip.frag_offset() != 0 {
                    let Some(nat) = self.later_fragment(now, &ip) else {
                        return ctx.drop(port, Why::FragNoFirst);
                    };
                    rewrite = nat;
                    let to_src = nat.map_or(src, |(_, to)| to.src);
                    addrs.owner(port, to_src).map_or(mac, |m| m.0)
                } else {
                    let Some(flow) = read_flow(&ip) else {
                        return ctx.drop(port, Why::Malformed);
                    };
                    let Some(hf) = track(&mut dp.host_ct, ctx, now, port, &flow) else {
                        return;
                    };
                    let m = Match::from_tuple(&flow.info.tuple, hf.state);
                    let bytes = usize::from(ip.total_len());
                    match dp.fw.check(port, Direction::Out, &m, bytes) {
                        FirewallAction::Accept => {}
                        FirewallAction::Drop => return ctx.drop(port, Why::FwDrop),
                        FirewallAction::Reject => return ctx.drop(port, Why::FwReject),
                    }
                    let mut session = hf.session;
                    if hf.state == CtState::New && !ip.is_fragment() {
                        match open_out(dp, now, port, &flow.info) {
                            Ok(s) => session = session.or(s),
                            Err(why) => return ctx.drop(port, why),
                        }
                    }
                    rewrite = session.and_then(|s| rewrite_of(&dp.host_ct, s));
                    self.first_fragment(now, &ip, rewrite);
                    match rewrite {
                        // Translated (SNAT): the MAC of the new source.
                        Some((_, to)) if to.src != src => addrs
                            .owner(port, to.src)
                            .map_or(addrs.source_mac(port, port_mac), |m| m.0),
                        _ => mac,
                    }
                }
            }
            _ => return ctx.drop(port, Why::Unsupported),
        };
        let n = frame.len();
        let sent = ctx.send(tx, port, |b| {
            let Some(o) = b.get_mut(..n) else {
                return 0;
            };
            o.copy_from_slice(frame);
            o[6..12].copy_from_slice(&src_mac);
            if n >= ethernet::HEADER_LEN + 14 && eth.ethertype() == ethertype::ARP {
                // The sender hardware address follows the Ethernet source.
                o[ethernet::HEADER_LEN + 8..ethernet::HEADER_LEN + 14].copy_from_slice(&src_mac);
            }
            if translate_ip(o, rewrite) { n } else { 0 }
        });
        if sent && let Some(c) = self.ports.get_mut(port) {
            c.from_host_frames += 1;
            c.from_host_bytes += n as u64;
        }
    }
}

/// A host flow as the firewall sees it, and its session when it has one.
#[derive(Copy, Clone)]
struct HostFlow {
    state: CtState,
    session: Option<(SessionIdx, Dir)>,
}

/// Look the flow up in the host session table (and track it): its state
/// for the firewall. None: invalid for its session (dropped, counted).
fn track(
    ct: &mut Conntrack,
    ctx: &mut Ctx,
    now: Instant,
    port: PortId,
    flow: &classify::Flow,
) -> Option<HostFlow> {
    if let Some((idx, dir)) = ct.lookup(&flow.info.tuple) {
        return match ct.track(now, idx, dir, &flow.info) {
            CtState::Invalid => {
                ctx.drop(port, Why::CtInvalid);
                None
            }
            CtState::New => Some(HostFlow {
                state: CtState::New,
                session: Some((idx, dir)),
            }),
            _ => Some(HostFlow {
                state: CtState::Established,
                session: Some((idx, dir)),
            }),
        };
    }
    let related = flow
        .quoted
        .is_some_and(|q| ct.lookup(&q.reversed()).is_some());
    Some(HostFlow {
        state: if related {
            CtState::Related
        } else {
            CtState::New
        },
        session: None,
    })
}

fn unicast(t: &Tuple) -> bool {
    !(t.dst.is_broadcast() || t.dst.is_multicast() || t.src.is_unspecified())
}

/// Open a session for a new flow from the host leaving `port`: a SNAT
/// rule that matches it (its out interface and source prefix) translates
/// it, as for forwarded flows; none, no NAT. Err: no free mapping.
fn open_out(
    dp: &mut Dataplane,
    now: Instant,
    port: PortId,
    info: &PacketInfo,
) -> Result<Option<(SessionIdx, Dir)>, Why> {
    let t = info.tuple;
    if !unicast(&t) || !Conntrack::may_create(info) {
        return Ok(None);
    }
    let (ct, hct) = (&dp.ct, &dp.host_ct);
    let snat = dp.nat.snat(port, &t, |r: &Tuple| {
        ct.lookup(r).is_some() || hct.lookup(r).is_some()
    });
    let (reply, nat) = match snat {
        Snat::NoRule => (t.reversed(), NatFlags::default()),
        Snat::Mapped { addr, port: p, .. } => (
            crate::nat::snat_reply(&t, addr, p),
            NatFlags {
                snat: true,
                dnat: false,
            },
        ),
        Snat::Exhausted { .. } => return Err(Why::NatExhausted),
    };
    Ok(dp
        .host_ct
        .insert(now, t, reply, nat, info)
        .ok()
        .map(|i| (i, Dir::Original)))
}

/// Apply `rewrite` to the IPv4 packet of Ethernet frame `frame` (false:
/// it could not be, e.g. truncated; nothing to do is true).
fn translate_ip(frame: &mut [u8], rewrite: Option<(Tuple, Tuple)>) -> bool {
    match (rewrite, frame.get_mut(ethernet::HEADER_LEN..)) {
        (None, _) => true,
        (Some((from, to)), Some(ip)) => classify::translate(ip, &from, &to),
        (Some(_), None) => false,
    }
}

/// The (as it is, as it must be) tuples of a packet of `session` when
/// they differ (NAT), as in the forwarding path.
fn rewrite_of(ct: &Conntrack, (idx, dir): (SessionIdx, Dir)) -> Option<(Tuple, Tuple)> {
    let s = ct.get(idx)?;
    let (from, to) = match dir {
        Dir::Original => (s.orig(), s.reply().reversed()),
        Dir::Reply => (s.reply(), s.orig().reversed()),
    };
    (from != to).then_some((from, to))
}

/// The `local` chain of `port` for a packet (`m`, `len` IP bytes) to the
/// router: true to go on; a drop, or a reject (answered with a RST or
/// port unreachable), is counted here.
#[allow(clippy::too_many_arguments)]
pub fn local_chain(
    ctx: &mut Ctx,
    dp: &mut Dataplane,
    now: Instant,
    port: PortId,
    frame: &[u8],
    m: &Match,
    len: usize,
    tx: &mut TxQueue,
) -> bool {
    match dp.fw.check(port, Direction::Local, m, len) {
        FirewallAction::Accept => true,
        FirewallAction::Drop => {
            ctx.drop(port, Why::FwDrop);
            false
        }
        FirewallAction::Reject => {
            ctx.drop(port, Why::FwReject);
            icmp::send_reject(ctx, &mut dp.icmp, now, port, frame, m.proto, tx);
            false
        }
    }
}

/// The flow of an unfragmented packet or a first fragment for (or from)
/// the host (later fragments follow their first: `Host::later_fragment`).
fn read_flow(ip: &Ipv4Packet<&[u8]>) -> Option<classify::Flow> {
    classify::flow(ip).ok()
}

/// Whether a broadcast or multicast IPv4 packet is one the host needs:
/// DHCP (UDP to port 67 or 68) and the all-hosts group 224.0.0.1.
pub fn host_wants_group(ip: &Ipv4Packet<&[u8]>) -> bool {
    let dst = ip.dst_addr();
    if dst == Ipv4Addr::new(224, 0, 0, 1) {
        return true;
    }
    if ip.protocol() != protocol::UDP || ip.is_fragment() {
        return false;
    }
    let dport = match ip.payload().get(2..4) {
        Some(&[a, b]) => u16::from_be_bytes([a, b]),
        _ => 0,
    };
    !dst.is_multicast() && matches!(dport, 67 | 68)
}
