//! Read a forwarded IPv4 packet once into what conntrack, NAT and the
//! firewall need (`Flow`), and rewrite a packet in place to a session's
//! translated tuple (including the packet quoted in an ICMP error).
//!
//! Owns: the mapping from wire views to `conntrack::PacketInfo` (ICMP echo
//! identifier as both ports, ICMP errors recognised with their quoted
//! tuple), "make this packet look like tuple T" with RFC 1624 updates
//! (`wire::rewrite`), and the few header fields the forwarding and host
//! paths read on their own (TTL, length, DF, fragment key). Never: decides
//! anything about the packet.

use crate::conntrack::frag::FragKey;
use crate::conntrack::{L4, PacketInfo, TcpInfo, Tuple};
use crate::wire::icmp::msg_type;
use crate::wire::rewrite::{End, Side, rewrite_icmp_inner, rewrite_ipv4, rewrite_ipv4_ends};
use crate::wire::{IcmpPacket, Ipv4Packet, TcpPacket, UdpPacket, ethernet, protocol};
use std::net::Ipv4Addr;

/// What the first (or only) fragment of a packet says about its flow.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    pub info: PacketInfo,
    /// For an ICMP error (destination unreachable, time exceeded, parameter
    /// problem): the tuple of the packet it quotes, as quoted.
    pub quoted: Option<Tuple>,
}

/// Why a packet could not be read.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Unreadable {
    /// A transport header that does not fit, or an ICMP error whose quote
    /// is not a usable IPv4 header.
    Malformed,
}

fn ports(_proto: u8, l4: &[u8]) -> Option<(u16, u16)> {
    let &[a, b, c, d] = l4.first_chunk::<4>()?;
    Some((u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])))
}

/// The tuple of the packet quoted by an ICMP error (as much of the
/// transport header as RFC 792 guarantees: 8 bytes).
fn quoted_tuple(data: &[u8]) -> Option<Tuple> {
    let q = Ipv4Packet::new_embedded(data).ok()?;
    let proto = q.protocol();
    let l4 = data.get(q.header_len()..)?;
    let (sport, dport) = match proto {
        protocol::TCP | protocol::UDP => ports(proto, l4)?,
        protocol::ICMP => {
            let t = *l4.first()?;
            if t != msg_type::ECHO_REQUEST && t != msg_type::ECHO_REPLY {
                return None; // errors about errors are not tracked
            }
            let id = u16::from_be_bytes([*l4.get(4)?, *l4.get(5)?]);
            (id, id)
        }
        _ => (0, 0),
    };
    Some(Tuple::new(proto, q.src_addr(), sport, q.dst_addr(), dport))
}

/// Read the flow of an unfragmented packet or a first fragment. Inlined
/// (forwarding path, host path): the `Flow` is built in the caller's
/// frame, not returned through memory and copied.
#[inline(always)]
pub fn flow(ip: &Ipv4Packet<&[u8]>) -> Result<Flow, Unreadable> {
    let (src, dst, proto) = (ip.src_addr(), ip.dst_addr(), ip.protocol());
    let len = ip.total_len();
    let payload = ip.payload();
    let mut quoted = None;
    let (sport, dport, l4) = match proto {
        protocol::TCP => {
            let t = TcpPacket::new_checked(payload).map_err(|_| Unreadable::Malformed)?;
            (
                t.src_port(),
                t.dst_port(),
                L4::Tcp(TcpInfo::from_segment(&t)),
            )
        }
        // A first fragment holds the UDP header but not the length it
        // declares: read the ports only.
        protocol::UDP if ip.more_frags() => {
            let (s, d) = ports(proto, payload.get(..8).ok_or(Unreadable::Malformed)?)
                .ok_or(Unreadable::Malformed)?;
            (s, d, L4::Other)
        }
        protocol::UDP => {
            let u = UdpPacket::new_checked(payload).map_err(|_| Unreadable::Malformed)?;
            (u.src_port(), u.dst_port(), L4::Other)
        }
        protocol::ICMP => {
            let i = IcmpPacket::new_checked(payload).map_err(|_| Unreadable::Malformed)?;
            match i.msg_type() {
                msg_type::ECHO_REQUEST | msg_type::ECHO_REPLY => {
                    let id = i.echo_ident();
                    let request = i.msg_type() == msg_type::ECHO_REQUEST;
                    (id, id, L4::IcmpEcho { request })
                }
                msg_type::DST_UNREACHABLE | msg_type::TIME_EXCEEDED | 12 => {
                    quoted = Some(quoted_tuple(i.data()).ok_or(Unreadable::Malformed)?);
                    (0, 0, L4::Other)
                }
                // Other ICMP messages (timestamps, redirects, …) have no
                // session of their own: tracked by address pair.
                _ => (0, 0, L4::Other),
            }
        }
        _ => (0, 0, L4::Other),
    };
    Ok(Flow {
        info: PacketInfo {
            tuple: Tuple::new(proto, src, sport, dst, dport),
            len,
            l4,
        },
        quoted,
    })
}

/// Rewrite the IPv4 packet `ip` (tuple `from`) to carry tuple `to`: each
/// end that differs is rewritten (address, and port / echo identifier when
/// the protocol has one). Non-first fragments get the addresses only.
pub fn translate(ip: &mut [u8], from: &Tuple, to: &Tuple) -> bool {
    let port = |p: u16| has_ports(from.proto).then_some(p);
    if (from.src, from.sport) != (to.src, to.sport)
        && rewrite_ipv4(ip, Side::Src, to.src, port(to.sport)).is_err()
    {
        return false;
    }
    if (from.dst, from.dport) != (to.dst, to.dport)
        && rewrite_ipv4(ip, Side::Dst, to.dst, port(to.dport)).is_err()
    {
        return false;
    }
    true
}

/// What `translate` does, and the TTL decrement of a forwarded packet, in
/// one pass over the packet (`wire::rewrite::rewrite_ipv4_ends`: one
/// checksum update per header).
#[inline(always)]
pub fn translate_forward(ip: &mut [u8], from: &Tuple, to: &Tuple) -> bool {
    let ports = has_ports(from.proto);
    let end = |addr, port| End {
        addr,
        port: ports.then_some(port),
    };
    // (address, port) as one integer: one comparison per end.
    let key = |a: std::net::Ipv4Addr, p: u16| u64::from(u32::from(a)) << 16 | u64::from(p);
    let src = (key(from.src, from.sport) != key(to.src, to.sport)).then(|| end(to.src, to.sport));
    let dst = (key(from.dst, from.dport) != key(to.dst, to.dport)).then(|| end(to.dst, to.dport));
    rewrite_ipv4_ends(ip, src, dst, true).is_ok()
}

/// Rewrite the packet quoted inside the ICMP error `ip` from tuple `from`
/// to `to` (checksums of the quote and of the ICMP message updated).
pub fn translate_quote(ip: &mut [u8], from: &Tuple, to: &Tuple) -> bool {
    let port = |p: u16| has_ports(from.proto).then_some(p);
    if (from.src, from.sport) != (to.src, to.sport)
        && rewrite_icmp_inner(ip, Side::Src, to.src, port(to.sport)).is_err()
    {
        return false;
    }
    if (from.dst, from.dport) != (to.dst, to.dport)
        && rewrite_icmp_inner(ip, Side::Dst, to.dst, port(to.dport)).is_err()
    {
        return false;
    }
    true
}

/// Protocols whose tuple ports are on the wire (ICMP echo: the identifier).
fn has_ports(proto: u8) -> bool {
    matches!(proto, protocol::TCP | protocol::UDP | protocol::ICMP)
}

// Header fields the forwarding path reads on its own (the header was
// checked before; out-of-range reads give 0 / unspecified).

pub(super) fn frag_key(ip: &Ipv4Packet<&[u8]>) -> FragKey {
    FragKey {
        src: ip.src_addr(),
        dst: ip.dst_addr(),
        proto: ip.protocol(),
        ident: ip.ident(),
    }
}

pub(super) fn ttl_of(frame: &[u8]) -> u8 {
    frame.get(ethernet::HEADER_LEN + 8).copied().unwrap_or(0)
}

pub(super) fn ip_total_len(ip: &[u8]) -> usize {
    match ip.get(2..4) {
        Some(&[a, b]) => usize::from(u16::from_be_bytes([a, b])),
        _ => 0,
    }
}

pub(super) fn dont_fragment(ip: &[u8]) -> bool {
    ip.get(6).is_some_and(|b| b & 0x40 != 0)
}

/// The outer addresses of an ICMP error as a tuple (no ports).
pub(super) fn outer_tuple(ip: &[u8]) -> Tuple {
    let a = |at: usize| match ip.get(at..at + 4) {
        Some(&[a, b, c, d]) => Ipv4Addr::new(a, b, c, d),
        _ => Ipv4Addr::UNSPECIFIED,
    };
    Tuple::new(protocol::ICMP, a(12), 0, a(16), 0)
}
