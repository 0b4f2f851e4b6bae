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
//! master) is dropped. No NAT: the host speaks with its own addresses.
//!
//! Owns: `Host` — per-port TAP presence and counters, the bounded queue of
//! frames for the TAPs (full: `host_queue_full`), and a small session table
//! of the host's own flows (never synced, never used for forwarding) so the
//! `local` and `out` chains see new / established / related.
//! Never: forwards, touches the forwarding session table, blocks.

use super::addrs::LocalAddrs;
use super::classify;
use super::ctx::{Ctx, Why};
use super::forward::Dataplane;
use super::icmp;
use super::{PortId, TxQueue};
use crate::config::{Config, Direction, FirewallAction};
use crate::conntrack::{Conntrack, CtState, NatFlags, PacketInfo, Tuple};
use crate::firewall::Match;
use crate::time::Instant;
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

pub struct Host {
    pub ports: Vec<HostCounters>,
    queue: TxQueue,
    pub ct: Conntrack,
}

impl Host {
    pub fn new(config: &Config, key: [u8; 16]) -> Host {
        let mut cfg = config.conntrack.clone();
        cfg.max_entries = HOST_SESSIONS;
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
            ct: Conntrack::new(&cfg, config.globals.node_id, key),
        }
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

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.ct.poll_timeout()
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.ct.handle_timeout(now);
    }

    /// Queue `frame` for `port`'s TAP and count it. A unicast frame to a
    /// virtual MAC (RFC mode) is readdressed to the port MAC, the TAP's
    /// (the kernel ignores frames for other MACs).
    fn push(&mut self, ctx: &mut Ctx, port: PortId, frame: &[u8]) {
        let n = frame.len();
        let port_mac = ctx.port_mac(port);
        let queued = self.queue.push(port, |b| match b.get_mut(..n) {
            Some(o) => {
                o.copy_from_slice(frame);
                if n >= 6 && o[0] & 1 == 0 {
                    o[..6].copy_from_slice(&port_mac);
                }
                n
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
            self.push(ctx, port, frame);
        }
    }

    /// The session state the firewall sees for a host flow, and the
    /// session (tracked) when there is one. None: drop (counted here).
    fn state(
        &mut self,
        ctx: &mut Ctx,
        now: Instant,
        port: PortId,
        flow: &classify::Flow,
    ) -> Option<CtState> {
        if let Some((idx, dir)) = self.ct.lookup(&flow.info.tuple) {
            return match self.ct.track(now, idx, dir, &flow.info) {
                CtState::Invalid => {
                    ctx.drop(port, Why::CtInvalid);
                    None
                }
                s => Some(if s == CtState::New {
                    CtState::New
                } else {
                    CtState::Established
                }),
            };
        }
        if let Some(q) = flow.quoted
            && self.ct.lookup(&q.reversed()).is_some()
        {
            return Some(CtState::Related);
        }
        Some(CtState::New)
    }

    /// Remember an accepted new unicast flow (no NAT: reply = reverse).
    fn open(&mut self, now: Instant, info: &PacketInfo) {
        let t = info.tuple;
        if t.dst.is_broadcast() || t.dst.is_multicast() || t.src.is_unspecified() {
            return;
        }
        if Conntrack::may_create(info) && self.ct.lookup(&t).is_none() {
            let _ = self
                .ct
                .insert(now, t, t.reversed(), NatFlags::default(), info);
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
        let flow = match read_flow(ip) {
            Some(f) => f,
            None => return ctx.drop(port, Why::Malformed),
        };
        let Some(state) = self.state(ctx, now, port, &flow) else {
            return;
        };
        let m = Match::from_tuple(&flow.info.tuple, state);
        let len = usize::from(ip.total_len());
        if !local_chain(ctx, dp, now, port, frame, &m, len, tx) {
            return;
        }
        if state == CtState::New && !ip.is_fragment() {
            self.open(now, &flow.info);
        }
        self.push(ctx, port, frame);
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
        // The MAC this frame leaves with, and for ARP whether to rewrite.
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
                let Some(flow) = read_flow(&ip) else {
                    return ctx.drop(port, Why::Malformed);
                };
                let Some(state) = self.state(ctx, now, port, &flow) else {
                    return;
                };
                let m = Match::from_tuple(&flow.info.tuple, state);
                let bytes = usize::from(ip.total_len());
                match dp.fw.check(port, Direction::Out, &m, bytes) {
                    FirewallAction::Accept => {}
                    FirewallAction::Drop => return ctx.drop(port, Why::FwDrop),
                    FirewallAction::Reject => return ctx.drop(port, Why::FwReject),
                }
                if state == CtState::New && !ip.is_fragment() {
                    self.open(now, &flow.info);
                }
                mac
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
            n
        });
        if sent && let Some(c) = self.ports.get_mut(port) {
            c.from_host_frames += 1;
            c.from_host_bytes += n as u64;
        }
    }
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

/// The flow of a packet for (or from) the host; later fragments carry
/// their addresses only.
fn read_flow(ip: &Ipv4Packet<&[u8]>) -> Option<classify::Flow> {
    if ip.frag_offset() != 0 {
        let t = Tuple::new(ip.protocol(), ip.src_addr(), 0, ip.dst_addr(), 0);
        return Some(classify::Flow {
            info: PacketInfo {
                tuple: t,
                len: ip.total_len(),
                l4: crate::conntrack::L4::Other,
            },
            quoted: None,
        });
    }
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
    let dport = ip
        .payload()
        .get(2..4)
        .map(|b| u16::from_be_bytes([b[0], b[1]]));
    !dst.is_multicast() && matches!(dport, Some(67 | 68))
}
