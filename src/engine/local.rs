//! Frame intake and local delivery: count, check the destination MAC,
//! parse Ethernet and IPv4 once, and dispatch — ARP goes to the neighbour
//! cache and requests for our addresses are answered (`crate::local`), VRRP
//! (bare or inside an IPsec AH, protocol 51) goes to the groups, unicast IPv4 to the forwarding path
//! (`engine::forward`), which hands back what is for the router itself:
//! ICMP echo requests to our addresses are answered after the `local`
//! firewall chain; everything else for us goes to the host TAP
//! (`engine::host`), as do DHCP broadcasts and 224.0.0.1, and copies of
//! ARP replies and gratuitous ARPs.
//!
//! Owns: the receive-side checks (link, stopped, MAC filter, IPv4 header
//! validity) and the choice of subsystem. Never: keeps state of its own.

use super::addrs::LocalAddrs;
use super::ctx::{Ctx, Why};
use super::forward::Dataplane;
use super::groups::Groups;
use super::host::{self, Host};
use super::vrrp_ah::AhRx;
use super::{PortId, RxMeta, TxQueue, Verdict};
use crate::conntrack::{CtState, Tuple};
use crate::firewall::Match;
use crate::local;
use crate::time::Instant;
use crate::wire::ah::{self, AhError};
use crate::wire::{ArpPacket, ArpRepr, EthernetFrame, Ipv4Packet, ethertype, protocol};

/// See `Engine::handle_frame`.
#[allow(clippy::too_many_arguments)]
pub fn handle_frame(
    ctx: &mut Ctx,
    groups: &mut Groups,
    addrs: &LocalAddrs,
    dp: &mut Dataplane,
    host: &mut Host,
    now: Instant,
    port: PortId,
    frame: &mut [u8],
    meta: RxMeta,
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
    let Ok(eth) = EthernetFrame::new_checked(&*frame) else {
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
            dp.handle_arp(ctx, addrs, now, port, &arp, tx);
            host.copy_arp(ctx, addrs, port, &arp, &*frame);
        }
        ethertype::IPV4 => {
            let Ok(ip) = Ipv4Packet::new_checked(eth.payload()) else {
                ctx.drop(port, Why::Malformed);
                return Verdict::Consumed;
            };
            if !ip.verify_checksum() {
                ctx.drop(port, Why::Malformed);
                return Verdict::Consumed;
            }
            let (src, dst) = (ip.src_addr(), ip.dst_addr());
            if ip.protocol() == protocol::VRRP || ip.protocol() == protocol::AH {
                let own = ctx.port_addr(port);
                if ip.is_fragment() {
                    ctx.drop(port, Why::Malformed);
                } else if dst != crate::wire::vrrp::MULTICAST_ADDR && dst != own {
                    ctx.drop(
                        port,
                        if ip.protocol() == protocol::AH {
                            Why::Unsupported
                        } else {
                            Why::VrrpBadDst
                        },
                    );
                } else if src == own {
                    ctx.drop(port, Why::VrrpOwn);
                } else if ip.protocol() == protocol::VRRP {
                    groups.handle_vrrp(ctx, now, port, src, dst, ip.ttl(), ip.payload(), None, tx);
                } else {
                    // IPsec AH: only around a VRRP advert (keepalived's
                    // auth_type AH); the ICV covers the whole IP packet.
                    let hl = ip.header().len();
                    let whole = eth.payload().get(..hl + ip.payload().len()).unwrap_or(&[]);
                    match ah::split(ip.payload()) {
                        Ok((header, vrrp)) => {
                            let rx = AhRx {
                                header,
                                ip_packet: whole,
                            };
                            groups.handle_vrrp(
                                ctx,
                                now,
                                port,
                                src,
                                dst,
                                ip.ttl(),
                                vrrp,
                                Some(rx),
                                tx,
                            );
                        }
                        Err(AhError::NextHeader(_)) => ctx.drop(port, Why::Unsupported),
                        Err(_) => ctx.drop(port, Why::Malformed),
                    }
                }
                return Verdict::Consumed;
            }
            let to_router_mac = !dst_mac_is_group(&eth);
            if dst.is_multicast() || dst.is_broadcast() || !to_router_mac {
                // Link-level broadcast/multicast is never forwarded; the
                // host takes DHCP and 224.0.0.1.
                if host::host_wants_group(&ip) {
                    host.deliver(ctx, dp, now, port, &*frame, &ip, tx);
                } else {
                    ctx.drop(port, Why::NoHost);
                }
                return Verdict::Consumed;
            }
            match dp.forward(ctx, addrs, now, port, frame, meta, tx) {
                Some(v) => return v,
                None => deliver_local(ctx, addrs, dp, host, now, port, frame, tx),
            }
        }
        _ => ctx.drop(port, Why::Unsupported),
    }
    Verdict::Consumed
}

/// Whether the frame went to a group MAC (broadcast or multicast).
fn dst_mac_is_group(eth: &EthernetFrame<&[u8]>) -> bool {
    eth.dst_addr().is_multicast()
}

/// An IPv4 packet for one of our addresses that hagw does not forward:
/// an ICMP echo request is answered (after the ingress port's `local`
/// chain); anything else goes to the host TAP (`engine::host`).
#[allow(clippy::too_many_arguments)]
fn deliver_local(
    ctx: &mut Ctx,
    addrs: &LocalAddrs,
    dp: &mut Dataplane,
    host: &mut Host,
    now: Instant,
    port: PortId,
    frame: &[u8],
    tx: &mut TxQueue,
) {
    let Ok(eth) = EthernetFrame::new_checked(frame) else {
        return;
    };
    let Ok(ip) = Ipv4Packet::new_checked(eth.payload()) else {
        return;
    };
    let (proto, src, dst) = (ip.protocol(), ip.src_addr(), ip.dst_addr());
    let echo_request = proto == protocol::ICMP
        && !ip.is_fragment()
        && ip.payload().first() == Some(&crate::wire::icmp::msg_type::ECHO_REQUEST);
    if !echo_request {
        return host.deliver(ctx, dp, now, port, frame, &ip, tx);
    }
    let (sport, dport) = match ip.payload().first_chunk::<4>() {
        Some(&[a, b, c, d]) if !ip.is_fragment() => {
            (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]))
        }
        _ => (0, 0),
    };
    let m = Match::from_tuple(&Tuple::new(proto, src, sport, dst, dport), CtState::New);
    let len = usize::from(ip.total_len());
    if !host::local_chain(ctx, dp, now, port, frame, &m, len, tx) {
        return;
    }
    if proto == protocol::ICMP && !ip.is_fragment() {
        let id = ctx.next_id();
        // Answer from the port the request came in on (weak host model:
        // any of our addresses, as Linux does).
        let port_mac = addrs.source_mac(port, ctx.port_mac(port));
        let owner = |a| match addrs.owner(port, a) {
            Some(mac) => Some(mac),
            None => addrs
                .find(a)
                .map(|_| crate::wire::EthernetAddress(port_mac)),
        };
        let src_mac = eth.src_addr();
        if ctx.send(tx, port, |b| {
            local::reply_echo(frame, src_mac, &ip, owner, b, id).unwrap_or(0)
        }) {
            return;
        }
    }
    ctx.drop(port, Why::NoHost);
}
