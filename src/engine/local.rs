//! Frame intake and local delivery: count, check the destination MAC,
//! parse Ethernet and IPv4 once, and dispatch — ARP requests for our
//! addresses and ICMP echo to them are answered (`crate::local`), VRRP goes
//! to the groups. Everything else addressed to us is counted.
//!
//! Owns: the receive-side checks (link, stopped, MAC filter, IPv4 header
//! validity) and the choice of subsystem. Never: keeps state of its own.

use super::addrs::LocalAddrs;
use super::ctx::{Ctx, Why};
use super::groups::Groups;
use super::{PortId, TxQueue, Verdict};
use crate::local;
use crate::time::Instant;
use crate::wire::{ArpPacket, ArpRepr, EthernetFrame, Ipv4Packet, ethertype, protocol};

/// See `Engine::handle_frame`.
pub fn handle_frame(
    ctx: &mut Ctx,
    groups: &mut Groups,
    addrs: &LocalAddrs,
    now: Instant,
    port: PortId,
    frame: &mut [u8],
    tx: &mut TxQueue,
) -> Verdict {
    let Some(p) = ctx.ports.get_mut(port) else {
        return Verdict::Consumed;
    };
    p.rx_frames += 1;
    p.rx_bytes += frame.len() as u64;
    if ctx.stopped {
        ctx.drop(port, Why::Stopped);
        return Verdict::Consumed;
    }
    if !p.up {
        ctx.drop(port, Why::LinkDown);
        return Verdict::Consumed;
    }
    let my_mac = p.mac;
    let frame: &[u8] = frame;
    let Ok(eth) = EthernetFrame::new_checked(frame) else {
        ctx.drop(port, Why::Malformed);
        return Verdict::Consumed;
    };
    let dst = eth.dst_addr();
    if !dst.is_multicast() && dst.0 != my_mac && !addrs.accepts_vmac(port, dst.0) {
        ctx.drop(port, Why::NotForUs);
        return Verdict::Consumed;
    }
    match eth.ethertype() {
        ethertype::ARP => {
            let arp = ArpPacket::new_checked(eth.payload()).and_then(|a| ArpRepr::parse(&a));
            let Ok(arp) = arp else {
                ctx.drop(port, Why::Malformed);
                return Verdict::Consumed;
            };
            let owner = |ip| addrs.owner(port, ip);
            if !ctx.send(tx, port, |b| local::reply_arp(&arp, owner, b).unwrap_or(0)) {
                ctx.drop(port, Why::NotLocal);
            }
        }
        ethertype::IPV4 => {
            let Ok(ip) = Ipv4Packet::new_checked(eth.payload()) else {
                ctx.drop(port, Why::Malformed);
                return Verdict::Consumed;
            };
            if !ip.verify_checksum() || ip.is_fragment() {
                ctx.drop(port, Why::Malformed);
                return Verdict::Consumed;
            }
            let own = ctx.port_addr(port);
            let (src, dst) = (ip.src_addr(), ip.dst_addr());
            match ip.protocol() {
                protocol::VRRP => {
                    if dst != crate::wire::vrrp::MULTICAST_ADDR && dst != own {
                        ctx.drop(port, Why::VrrpBadDst);
                    } else if src == own {
                        ctx.drop(port, Why::VrrpOwn);
                    } else {
                        groups.handle_vrrp(ctx, now, port, src, dst, ip.ttl(), ip.payload(), tx);
                    }
                }
                protocol::ICMP => {
                    let id = ctx.next_id();
                    let owner = |ip| addrs.owner(port, ip);
                    let src_mac = eth.src_addr();
                    if !ctx.send(tx, port, |b| {
                        local::reply_echo(frame, src_mac, &ip, owner, b, id).unwrap_or(0)
                    }) {
                        ctx.drop(port, Why::NotLocal);
                    }
                }
                _ => {
                    if addrs.owner(port, dst).is_some() {
                        ctx.drop(port, Why::Unsupported)
                    } else {
                        ctx.drop(port, Why::NotLocal)
                    }
                }
            }
        }
        _ => ctx.drop(port, Why::Unsupported),
    }
    Verdict::Consumed
}
