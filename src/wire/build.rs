//! Whole-frame builders for what the engine sends itself: VRRP adverts,
//! ARP replies/requests, gratuitous ARP, ICMP echo replies and ICMP errors.
//! Each writes a complete Ethernet II frame (no FCS, no padding) into the
//! front of a `&mut [u8]` and returns its length, or 0 when it does not fit
//! (or the input is not what the builder answers). Never panics, never
//! allocates, keeps no state (the caller owns the IP id counter).

use super::arp::{self, ArpOperation, ArpPacket, ArpRepr};
use super::ethernet::{self, EthernetAddress, EthernetFrame, EthernetRepr, ethertype};
use super::icmp::{self, IcmpPacket, IcmpRepr};
use super::ipv4::{self, Ipv4Packet, Ipv4Repr, protocol};
use super::tcp::{self, TcpPacket};
use super::vrrp::{self, ChecksumMode, VrrpRepr};
use std::net::Ipv4Addr;

/// TOS keepalived sets on adverts (IPTOS_PREC_INTERNETCONTROL, DSCP CS6).
pub const ADVERT_TOS: u8 = 0xc0;
/// TTL of locally generated non-VRRP packets (echo replies, ICMP errors).
pub const DEFAULT_TTL: u8 = 64;

/// Ethernet + IPv4 addressing of one advert.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct AdvertHeader {
    /// Interface MAC (default mode) or `EthernetAddress::vrrp_virtual(vrid)`.
    pub src_mac: EthernetAddress,
    /// 01:00:5e:00:00:12, or the unicast peer's MAC.
    pub dst_mac: EthernetAddress,
    /// The interface's primary address.
    pub src_ip: Ipv4Addr,
    /// 224.0.0.18 or the unicast peer.
    pub dst_ip: Ipv4Addr,
    /// IP identification (caller's counter; keepalived skips 0).
    pub ip_id: u16,
    /// TOS byte; `ADVERT_TOS` (0xc0) like keepalived.
    pub tos: u8,
    /// DF flag; keepalived leaves frag_off 0 (DF clear).
    pub dont_frag: bool,
}

impl AdvertHeader {
    /// To 224.0.0.18 / 01:00:5e:00:00:12 with keepalived's TOS and flags.
    pub fn multicast(src_mac: EthernetAddress, src_ip: Ipv4Addr, ip_id: u16) -> AdvertHeader {
        AdvertHeader {
            src_mac,
            dst_mac: EthernetAddress::VRRP_MULTICAST,
            src_ip,
            dst_ip: vrrp::MULTICAST_ADDR,
            ip_id,
            tos: ADVERT_TOS,
            dont_frag: false,
        }
    }

    /// To a unicast peer (IP + its resolved MAC).
    pub fn unicast(
        src_mac: EthernetAddress,
        src_ip: Ipv4Addr,
        peer_mac: EthernetAddress,
        peer_ip: Ipv4Addr,
        ip_id: u16,
    ) -> AdvertHeader {
        AdvertHeader {
            dst_mac: peer_mac,
            dst_ip: peer_ip,
            ..AdvertHeader::multicast(src_mac, src_ip, ip_id)
        }
    }
}

/// Write Ethernet + IPv4 headers for a payload of `payload_len` bytes and
/// return the IPv4 payload slice, or None when the frame does not fit.
pub(crate) fn ip_frame<'b>(
    buf: &'b mut [u8],
    src_mac: EthernetAddress,
    dst_mac: EthernetAddress,
    ip: &Ipv4Repr,
) -> Option<(&'b mut [u8], usize)> {
    if ip.payload_len > usize::from(u16::MAX) - ipv4::HEADER_LEN {
        return None;
    }
    let total = ethernet::HEADER_LEN + ipv4::HEADER_LEN + ip.payload_len;
    let frame = buf.get_mut(..total)?;
    EthernetRepr {
        src_addr: src_mac,
        dst_addr: dst_mac,
        ethertype: ethertype::IPV4,
    }
    .emit(&mut EthernetFrame::new_unchecked(&mut frame[..]));
    let (_, rest) = frame.split_at_mut(ethernet::HEADER_LEN);
    let (hdr, payload) = rest.split_at_mut(ipv4::HEADER_LEN);
    ip.emit(&mut Ipv4Packet::new_unchecked(hdr));
    Some((payload, total))
}

/// A VRRP advert frame: Ethernet + IPv4 (TTL 255, protocol 112, TOS and
/// DF from `hdr`) + the VRRP message with its checksum (`mode` matters for
/// v3 only). Returns the frame length or 0.
pub fn vrrp_advert(
    buf: &mut [u8],
    hdr: &AdvertHeader,
    repr: &VrrpRepr,
    mode: ChecksumMode,
) -> usize {
    let ip = Ipv4Repr {
        tos: hdr.tos,
        ident: hdr.ip_id,
        dont_frag: hdr.dont_frag,
        ttl: vrrp::TTL,
        ..Ipv4Repr::new(hdr.src_ip, hdr.dst_ip, protocol::VRRP, repr.buffer_len())
    };
    let Some((payload, total)) = ip_frame(buf, hdr.src_mac, hdr.dst_mac, &ip) else {
        return 0;
    };
    if repr.emit(payload, hdr.src_ip, hdr.dst_ip, mode) == 0 {
        return 0;
    }
    total
}

fn arp_frame(
    buf: &mut [u8],
    eth_src: EthernetAddress,
    eth_dst: EthernetAddress,
    repr: &ArpRepr,
) -> usize {
    let total = ethernet::HEADER_LEN + arp::PACKET_LEN;
    let Some(frame) = buf.get_mut(..total) else {
        return 0;
    };
    EthernetRepr {
        src_addr: eth_src,
        dst_addr: eth_dst,
        ethertype: ethertype::ARP,
    }
    .emit(&mut EthernetFrame::new_unchecked(&mut frame[..]));
    repr.emit(&mut ArpPacket::new_unchecked(
        &mut frame[ethernet::HEADER_LEN..],
    ));
    total
}

/// An ARP reply "`our_ip` is at `our_mac`" to `to_mac`/`to_ip` (Ethernet
/// source `our_mac`, destination `to_mac`).
pub fn arp_reply(
    buf: &mut [u8],
    our_mac: EthernetAddress,
    our_ip: Ipv4Addr,
    to_mac: EthernetAddress,
    to_ip: Ipv4Addr,
) -> usize {
    let repr = ArpRepr {
        operation: ArpOperation::Reply,
        source_hardware_addr: our_mac,
        source_protocol_addr: our_ip,
        target_hardware_addr: to_mac,
        target_protocol_addr: to_ip,
    };
    arp_frame(buf, our_mac, to_mac, &repr)
}

/// A broadcast ARP request "who has `target_ip`? tell `our_ip`" (for the
/// resolver).
pub fn arp_request(
    buf: &mut [u8],
    our_mac: EthernetAddress,
    our_ip: Ipv4Addr,
    target_ip: Ipv4Addr,
) -> usize {
    arp_request_to(buf, our_mac, our_ip, target_ip, EthernetAddress::BROADCAST)
}

/// An ARP request "who has `target_ip`? tell `our_ip`" sent to `eth_dst`:
/// the broadcast address, or the MAC already cached for `target_ip` (the
/// resolver's unicast refresh, as Linux's PROBE state sends). The ARP
/// target hardware address is zero either way.
pub fn arp_request_to(
    buf: &mut [u8],
    our_mac: EthernetAddress,
    our_ip: Ipv4Addr,
    target_ip: Ipv4Addr,
    eth_dst: EthernetAddress,
) -> usize {
    let repr = ArpRepr {
        operation: ArpOperation::Request,
        source_hardware_addr: our_mac,
        source_protocol_addr: our_ip,
        target_hardware_addr: EthernetAddress::ZERO,
        target_protocol_addr: target_ip,
    };
    arp_frame(buf, our_mac, eth_dst, &repr)
}

/// Target hardware address keepalived (2.2.7) puts in its gratuitous ARP.
pub const GARP_TARGET_HW: EthernetAddress = EthernetAddress::BROADCAST;

/// A gratuitous ARP for `ip` at `mac`, in keepalived's form: a broadcast
/// ARP *request* with spa == tpa == `ip`, sha == Ethernet source == `mac`,
/// tha `GARP_TARGET_HW`.
pub fn gratuitous_arp(buf: &mut [u8], mac: EthernetAddress, ip: Ipv4Addr) -> usize {
    let repr = ArpRepr {
        operation: ArpOperation::Request,
        source_hardware_addr: mac,
        source_protocol_addr: ip,
        target_hardware_addr: GARP_TARGET_HW,
        target_protocol_addr: ip,
    };
    arp_frame(buf, mac, EthernetAddress::BROADCAST, &repr)
}

/// When the Ethernet frame `frame` carries a valid (header checksum
/// included), unfragmented IPv4 packet of protocol `proto`: the frame's
/// source MAC, the IPv4 view and the parsed IPv4 header. What a reply to
/// the frame is built from.
fn unfragmented_ipv4(
    frame: &[u8],
    proto: u8,
) -> Option<(EthernetAddress, Ipv4Packet<&[u8]>, Ipv4Repr)> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    if eth.ethertype() != ethertype::IPV4 {
        return None;
    }
    let ipp = Ipv4Packet::new_checked(frame.get(ethernet::HEADER_LEN..)?).ok()?;
    let ip = Ipv4Repr::parse(&ipp).ok()?;
    if ip.protocol != proto || ipp.is_fragment() {
        return None;
    }
    Some((eth.src_addr(), ipp, ip))
}

/// An ICMP echo reply to the echo-request frame `request`: Ethernet back
/// to the requester from `src_mac`, IPv4 from the address that was pinged
/// (TTL 64, the request's TOS, id `ip_id`, DF clear, no options), same
/// ident/sequence/data. Returns 0 when `request` is not a valid,
/// unfragmented IPv4 echo request with good checksums, or it does not fit.
pub fn echo_reply(buf: &mut [u8], request: &[u8], src_mac: EthernetAddress, ip_id: u16) -> usize {
    let Some((peer_mac, ipp, ip)) = unfragmented_ipv4(request, protocol::ICMP) else {
        return 0;
    };
    let Ok(icmpp) = IcmpPacket::new_checked(ipp.payload()) else {
        return 0;
    };
    let Ok(IcmpRepr::EchoRequest {
        ident,
        seq_no,
        data,
    }) = IcmpRepr::parse(&icmpp)
    else {
        return 0;
    };
    let reply = IcmpRepr::EchoReply {
        ident,
        seq_no,
        data,
    };
    let out_ip = Ipv4Repr {
        tos: ip.tos,
        ident: ip_id,
        ..Ipv4Repr::new(ip.dst_addr, ip.src_addr, protocol::ICMP, reply.buffer_len())
    };
    icmp_frame(buf, src_mac, peer_mac, &out_ip, &reply)
}

/// An ICMP echo request from `src` to `dst` (IPv4 TTL 64, id `ip_id`) with
/// `ident`/`seq_no` and `data` as payload: a health probe. Returns the frame
/// length, or 0 when it does not fit.
pub fn echo_request(
    buf: &mut [u8],
    src: (EthernetAddress, Ipv4Addr),
    dst: (EthernetAddress, Ipv4Addr),
    ident: u16,
    seq_no: u16,
    data: &[u8],
    ip_id: u16,
) -> usize {
    let msg = IcmpRepr::EchoRequest {
        ident,
        seq_no,
        data,
    };
    let ip = Ipv4Repr {
        ident: ip_id,
        ..Ipv4Repr::new(src.1, dst.1, protocol::ICMP, msg.buffer_len())
    };
    icmp_frame(buf, src.0, dst.0, &ip, &msg)
}

fn icmp_frame(
    buf: &mut [u8],
    src_mac: EthernetAddress,
    dst_mac: EthernetAddress,
    ip: &Ipv4Repr,
    msg: &IcmpRepr<'_>,
) -> usize {
    let Some((payload, total)) = ip_frame(buf, src_mac, dst_mac, ip) else {
        return 0;
    };
    if !msg.emit(&mut IcmpPacket::new_unchecked(payload)) {
        return 0;
    }
    total
}

/// Most bytes of the invoking packet quoted in an ICMP error (RFC 1812
/// §4.3.2.3: as much as fits in 576 bytes).
pub const ICMP_ERROR_QUOTE: usize = 576 - ipv4::HEADER_LEN - icmp::HEADER_LEN;

/// An ICMP error (`kind` is `IcmpRepr::DstUnreachable` or
/// `IcmpRepr::TimeExceeded`; its `invoking` is truncated to
/// `ICMP_ERROR_QUOTE`) from `src_ip`/`src_mac` to `dst_ip`/`dst_mac`,
/// TTL 64, TOS 0xc0 (like Linux). Returns 0 for an echo `kind` or when it
/// does not fit.
pub fn icmp_error(
    buf: &mut [u8],
    src: (EthernetAddress, Ipv4Addr),
    dst: (EthernetAddress, Ipv4Addr),
    kind: IcmpRepr<'_>,
    ip_id: u16,
) -> usize {
    let cut = |b: &[u8]| -> usize { b.len().min(ICMP_ERROR_QUOTE) };
    let msg = match kind {
        IcmpRepr::DstUnreachable {
            code,
            next_hop_mtu,
            invoking,
        } => IcmpRepr::DstUnreachable {
            code,
            next_hop_mtu,
            invoking: invoking.get(..cut(invoking)).unwrap_or(&[]),
        },
        IcmpRepr::TimeExceeded { code, invoking } => IcmpRepr::TimeExceeded {
            code,
            invoking: invoking.get(..cut(invoking)).unwrap_or(&[]),
        },
        _ => return 0,
    };
    let ip = Ipv4Repr {
        tos: 0xc0,
        ident: ip_id,
        ..Ipv4Repr::new(src.1, dst.1, protocol::ICMP, msg.buffer_len())
    };
    icmp_frame(buf, src.0, dst.0, &ip, &msg)
}

/// RFC 1812 §4.3.2.7: may an ICMP error be sent about the IPv4 packet
/// `invoking`? Not about an ICMP error, a non-first fragment, a packet to
/// a multicast/broadcast address, or from an address that does not name a
/// single host (unspecified, multicast, broadcast, loopback). `invoking`
/// must at least hold a valid IPv4 header.
pub fn icmp_error_allowed(invoking: &[u8]) -> bool {
    let Ok(p) = Ipv4Packet::new_embedded(invoking) else {
        return false;
    };
    let (src, dst) = (p.src_addr(), p.dst_addr());
    if p.frag_offset() != 0 || dst.is_multicast() || dst.is_broadcast() {
        return false;
    }
    if src.is_unspecified() || src.is_multicast() || src.is_broadcast() || src.is_loopback() {
        return false;
    }
    if p.protocol() == protocol::ICMP {
        // Only queries (echo etc.) may be answered with an error.
        return matches!(
            p.payload().first(),
            Some(&(icmp::msg_type::ECHO_REQUEST | icmp::msg_type::ECHO_REPLY | 13 | 14 | 17 | 18))
        );
    }
    true
}

/// A TCP reset answering the TCP segment in `offending` (a whole frame),
/// per RFC 9293 §3.10.7.1: if it carried ACK, RST with seq = its ack;
/// otherwise RST|ACK with seq 0 and ack = its seq + segment length. Sent
/// from `src_mac` to the frame's source MAC, from its destination address
/// and port back to its source; IPv4 TTL 64, DF set, TOS 0 (like Linux's
/// nf_reject). Returns 0 when `offending` is not a valid unfragmented
/// IPv4 TCP segment with good checksums, is itself a RST, or it does not
/// fit.
pub fn tcp_reset(buf: &mut [u8], offending: &[u8], src_mac: EthernetAddress, ip_id: u16) -> usize {
    let Some((peer_mac, ipp, ip)) = unfragmented_ipv4(offending, protocol::TCP) else {
        return 0;
    };
    let Ok(t) = TcpPacket::new_checked(ipp.payload()) else {
        return 0;
    };
    if t.rst() || !t.verify_checksum(ip.src_addr, ip.dst_addr) {
        return 0;
    }
    let (seq, ack, flags) = if t.ack() {
        (t.ack_number(), 0, tcp::flags::RST)
    } else {
        // segment_len <= 65535 + 2, fits u32.
        let len = u32::try_from(t.segment_len()).unwrap_or(0);
        (
            0,
            t.seq_number().wrapping_add(len),
            tcp::flags::RST | tcp::flags::ACK,
        )
    };
    let out_ip = Ipv4Repr {
        ident: ip_id,
        dont_frag: true,
        ..Ipv4Repr::new(ip.dst_addr, ip.src_addr, protocol::TCP, tcp::HEADER_LEN)
    };
    let Some((payload, total)) = ip_frame(buf, src_mac, peer_mac, &out_ip) else {
        return 0;
    };
    payload.fill(0);
    let mut r = TcpPacket::new_unchecked(payload);
    r.set_src_port(t.dst_port());
    r.set_dst_port(t.src_port());
    r.set_seq_number(seq);
    r.set_ack_number(ack);
    r.set_header_len(tcp::HEADER_LEN);
    r.set_flags(flags);
    r.fill_checksum(ip.dst_addr, ip.src_addr);
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::checksum;
    use crate::wire::test_frames::echo_request;
    use crate::wire::vrrp::VrrpError;

    const MAC: EthernetAddress = EthernetAddress([0x52, 0x54, 0x00, 0x11, 0x22, 0x33]);
    const PEER_MAC: EthernetAddress = EthernetAddress([0x52, 0x54, 0x00, 0x44, 0x55, 0x66]);
    const IP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 2);
    const PEER: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 3);
    const VIP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 254);

    fn repr(version: u8) -> VrrpRepr {
        VrrpRepr {
            version,
            vrid: 51,
            priority: 150,
            advert_interval: if version == 2 { 1 } else { 100 },
            auth_type: 0,
            auth_data: [0; 8],
            addresses: heapless::Vec::from_slice(&[VIP]).unwrap(),
        }
    }

    #[test]
    fn advert_multicast_v2() {
        let mut buf = [0u8; 1518];
        let hdr = AdvertHeader::multicast(MAC, IP, 7);
        let n = vrrp_advert(&mut buf, &hdr, &repr(2), ChecksumMode::Rfc);
        assert_eq!(n, 14 + 20 + 20);
        let f = &buf[..n];
        assert_eq!(&f[0..6], &[0x01, 0x00, 0x5e, 0x00, 0x00, 0x12]);
        assert_eq!(&f[6..12], &MAC.0);
        assert_eq!(&f[12..14], &[0x08, 0x00]);
        let ip = &f[14..34];
        // version/IHL, TOS, total length, id, flags, TTL, protocol.
        assert_eq!(&ip[..10], &[0x45, 0xc0, 0, 40, 0, 7, 0, 0, 255, 112]);
        assert_eq!(&ip[12..16], &IP.octets());
        assert_eq!(&ip[16..20], &[224, 0, 0, 18]);
        assert!(checksum::verify(ip));
        assert!(checksum::verify(&f[34..]));
        let r = VrrpRepr::parse(&f[34..], IP, vrrp::MULTICAST_ADDR).unwrap();
        assert_eq!(r, repr(2));
        // Too small a buffer.
        assert_eq!(
            vrrp_advert(&mut buf[..n - 1], &hdr, &repr(2), ChecksumMode::Rfc),
            0
        );
    }

    #[test]
    fn advert_unicast_v3_and_vmac() {
        let mut buf = [0u8; 256];
        let mut hdr =
            AdvertHeader::unicast(EthernetAddress::vrrp_virtual(51), IP, PEER_MAC, PEER, 9);
        hdr.dont_frag = true;
        let n = vrrp_advert(&mut buf, &hdr, &repr(3), ChecksumMode::Rfc);
        assert_eq!(n, 14 + 20 + 12);
        let f = &buf[..n];
        assert_eq!(
            EthernetAddress::from_bytes(&f[6..12]).unwrap().to_string(),
            "00:00:5e:00:01:33"
        );
        assert_eq!(&f[0..6], &PEER_MAC.0);
        let p = Ipv4Packet::new_checked(&f[14..]).unwrap();
        assert!(p.dont_frag() && p.ttl() == 255 && p.dst_addr() == PEER && p.verify_checksum());
        // Pseudo-header uses the unicast destination.
        assert_eq!(
            VrrpRepr::parse_with_mode(p.payload(), IP, PEER).unwrap(),
            (repr(3), ChecksumMode::Rfc)
        );
        assert_eq!(
            VrrpRepr::parse(p.payload(), IP, vrrp::MULTICAST_ADDR),
            Err(VrrpError::Checksum)
        );
    }

    #[test]
    fn arp_builders() {
        let mut buf = [0u8; 64];
        let n = arp_reply(&mut buf, MAC, VIP, PEER_MAC, PEER);
        assert_eq!(n, 42);
        let f = EthernetFrame::new_checked(&buf[..n]).unwrap();
        assert_eq!(
            (f.dst_addr(), f.src_addr(), f.ethertype()),
            (PEER_MAC, MAC, 0x0806)
        );
        let a = ArpRepr::parse(&ArpPacket::new_checked(f.payload()).unwrap()).unwrap();
        assert_eq!(a.operation, ArpOperation::Reply);
        assert_eq!((a.source_hardware_addr, a.source_protocol_addr), (MAC, VIP));
        assert_eq!(
            (a.target_hardware_addr, a.target_protocol_addr),
            (PEER_MAC, PEER)
        );

        let n = gratuitous_arp(&mut buf, MAC, VIP);
        assert_eq!(n, 42);
        assert_eq!(&buf[..6], &[0xff; 6]);
        let a = ArpRepr::parse(&ArpPacket::new_checked(&buf[14..n]).unwrap()).unwrap();
        assert_eq!(a.operation, ArpOperation::Request);
        assert_eq!(a.source_protocol_addr, VIP);
        assert_eq!(a.target_protocol_addr, VIP);
        assert_eq!(a.source_hardware_addr, MAC);
        assert_eq!(a.target_hardware_addr, GARP_TARGET_HW);

        for eth_dst in [EthernetAddress::BROADCAST, PEER_MAC] {
            let n = if eth_dst.is_broadcast() {
                arp_request(&mut buf, MAC, IP, PEER)
            } else {
                arp_request_to(&mut buf, MAC, IP, PEER, eth_dst)
            };
            assert_eq!(n, 42);
            let f = EthernetFrame::new_checked(&buf[..n]).unwrap();
            assert_eq!((f.dst_addr(), f.src_addr()), (eth_dst, MAC));
            let a = ArpRepr::parse(&ArpPacket::new_checked(f.payload()).unwrap()).unwrap();
            assert_eq!(a.operation, ArpOperation::Request);
            assert_eq!((a.source_hardware_addr, a.source_protocol_addr), (MAC, IP));
            assert_eq!(
                (a.target_hardware_addr, a.target_protocol_addr),
                (EthernetAddress::ZERO, PEER)
            );
        }
        assert_eq!(arp_reply(&mut buf[..41], MAC, VIP, PEER_MAC, PEER), 0);
        assert_eq!(gratuitous_arp(&mut buf[..41], MAC, VIP), 0);
    }

    /// An echo request frame built by hand (not with our emitters).
    fn echo_request_frame(dst: Ipv4Addr, payload: &[u8]) -> Vec<u8> {
        echo_request(
            (MAC, PEER_MAC),
            (PEER, dst),
            0xbeef,
            (0x0a0b, 0x2a),
            payload,
        )
    }

    #[test]
    fn echo_reply_from_request() {
        let req = echo_request_frame(VIP, b"hello, router!");
        let mut buf = [0u8; 1518];
        let n = echo_reply(&mut buf, &req, MAC, 1234);
        assert_eq!(n, req.len());
        let f = &buf[..n];
        assert_eq!(&f[0..6], &PEER_MAC.0);
        assert_eq!(&f[6..12], &MAC.0);
        let ip = Ipv4Packet::new_checked(&f[14..]).unwrap();
        assert!(ip.verify_checksum());
        assert_eq!(
            (ip.src_addr(), ip.dst_addr(), ip.ttl(), ip.ident()),
            (VIP, PEER, 64, 1234)
        );
        assert!(checksum::verify(ip.payload()));
        let icmp = ip.payload();
        assert_eq!(icmp[0], 0);
        assert_eq!(&icmp[4..], &req[14 + 20 + 4..]);
        // Not a request: a reply is not answered.
        let mut rep = req.clone();
        rep[34] = 0;
        let c = checksum::checksum(&{
            let mut x = rep[34..].to_vec();
            x[2] = 0;
            x[3] = 0;
            x
        });
        rep[36..38].copy_from_slice(&c.to_be_bytes());
        assert_eq!(echo_reply(&mut buf, &rep, MAC, 1), 0);
        // Bad ICMP checksum, bad IP checksum, truncated, too-small out buffer.
        let mut bad = req.clone();
        bad[40] ^= 1;
        assert_eq!(echo_reply(&mut buf, &bad, MAC, 1), 0);
        let mut bad = req.clone();
        bad[22] ^= 1;
        assert_eq!(echo_reply(&mut buf, &bad, MAC, 1), 0);
        assert_eq!(echo_reply(&mut buf, &req[..req.len() - 1], MAC, 1), 0);
        assert_eq!(echo_reply(&mut buf[..req.len() - 1], &req, MAC, 1), 0);
        // Ethernet padding after the IP packet is ignored.
        let mut padded = req.clone();
        padded.extend_from_slice(&[0; 6]);
        assert_eq!(echo_reply(&mut buf, &padded, MAC, 1), req.len());
    }

    #[test]
    fn icmp_error_quotes_invoking() {
        let req = echo_request_frame(PEER, &[0x55; 1000]);
        let invoking = &req[14..];
        let mut buf = [0u8; 1518];
        let kind = IcmpRepr::TimeExceeded { code: 0, invoking };
        let n = icmp_error(&mut buf, (MAC, IP), (PEER_MAC, PEER), kind, 5);
        assert_eq!(n, 14 + 576);
        let ip = Ipv4Packet::new_checked(&buf[14..n]).unwrap();
        assert!(ip.verify_checksum());
        let icmpp = IcmpPacket::new_checked(ip.payload()).unwrap();
        let back = IcmpRepr::parse(&icmpp).unwrap();
        let inner = back.invoking_packet().unwrap();
        assert_eq!(inner.dst_addr(), PEER);
        assert_eq!(inner.header(), &invoking[..20]);
        let echo = IcmpRepr::EchoReply {
            ident: 0,
            seq_no: 0,
            data: &[],
        };
        assert_eq!(
            icmp_error(&mut buf, (MAC, IP), (PEER_MAC, PEER), echo, 5),
            0
        );
    }

    fn tcp_frame(flags: u8, seq: u32, ack: u32, data: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 20 + 20 + data.len()];
        f[..6].copy_from_slice(&MAC.0);
        f[6..12].copy_from_slice(&PEER_MAC.0);
        f[12] = 0x08;
        Ipv4Repr::new(PEER, VIP, protocol::TCP, 20 + data.len())
            .emit(&mut Ipv4Packet::new_unchecked(&mut f[14..34]));
        f[54..].copy_from_slice(data);
        let mut t = TcpPacket::new_unchecked(&mut f[34..]);
        t.set_src_port(40000);
        t.set_dst_port(22);
        t.set_seq_number(seq);
        t.set_ack_number(ack);
        t.set_header_len(20);
        t.set_flags(flags);
        t.set_window_len(1000);
        t.fill_checksum(PEER, VIP);
        f
    }

    #[test]
    fn tcp_reset_rules() {
        use crate::wire::tcp::flags::*;
        let mut buf = [0u8; 1518];
        // A SYN: RST|ACK, seq 0, ack = seq + 1.
        let n = tcp_reset(&mut buf, &tcp_frame(SYN, 0xffff_ffff, 0, b""), MAC, 9);
        assert_eq!(n, 54);
        let ip = Ipv4Packet::new_checked(&buf[14..n]).unwrap();
        assert!(ip.verify_checksum() && ip.dont_frag());
        assert_eq!((ip.src_addr(), ip.dst_addr(), ip.ttl()), (VIP, PEER, 64));
        let t = TcpPacket::new_checked(ip.payload()).unwrap();
        assert!(t.verify_checksum(VIP, PEER));
        assert_eq!((t.src_port(), t.dst_port()), (22, 40000));
        assert_eq!(
            (t.flags(), t.seq_number(), t.ack_number()),
            (RST | ACK, 0, 0)
        );
        assert_eq!(&buf[..6], &PEER_MAC.0);
        // Data with ACK: RST with seq = their ack.
        let n = tcp_reset(&mut buf, &tcp_frame(ACK | PSH, 100, 5000, b"hello"), MAC, 9);
        let t = TcpPacket::new_checked(&buf[34..n]).unwrap();
        assert_eq!((t.flags(), t.seq_number(), t.ack_number()), (RST, 5000, 0));
        // FIN with data, no ACK: ack = seq + len + 1.
        let n = tcp_reset(&mut buf, &tcp_frame(FIN, 100, 0, b"abc"), MAC, 9);
        let t = TcpPacket::new_checked(&buf[34..n]).unwrap();
        assert_eq!((t.flags(), t.ack_number()), (RST | ACK, 104));
        // Never answer a RST, a bad checksum, or a truncated segment.
        assert_eq!(tcp_reset(&mut buf, &tcp_frame(RST, 1, 0, b""), MAC, 9), 0);
        let mut bad = tcp_frame(SYN, 1, 0, b"");
        bad[40] ^= 1;
        assert_eq!(tcp_reset(&mut buf, &bad, MAC, 9), 0);
        let f = tcp_frame(SYN, 1, 0, b"");
        assert_eq!(tcp_reset(&mut buf, &f[..53], MAC, 9), 0);
        assert_eq!(tcp_reset(&mut buf[..53], &f, MAC, 9), 0);
    }

    #[test]
    fn icmp_error_policy() {
        let f = tcp_frame(0x02, 1, 0, b"");
        assert!(icmp_error_allowed(&f[14..]));
        let req = echo_request_frame(VIP, b"x");
        assert!(icmp_error_allowed(&req[14..]));
        // About an ICMP error: no.
        let kind = IcmpRepr::TimeExceeded {
            code: 0,
            invoking: &f[14..],
        };
        let mut buf = [0u8; 1518];
        let n = icmp_error(&mut buf, (MAC, IP), (PEER_MAC, PEER), kind, 1);
        assert!(!icmp_error_allowed(&buf[14..n]));
        // Non-first fragment, multicast/broadcast destination, bad sources.
        for (at, val) in [
            (20usize, 0x00u8),
            (30, 224),
            (30, 255),
            (26, 0),
            (26, 127),
            (26, 239),
        ] {
            let mut g = f.clone();
            if at == 20 {
                g[21] = 1; // offset 1
            } else {
                for k in 0..4 {
                    g[at + k] = if k == 0 {
                        val
                    } else {
                        255 * u8::from(val == 255)
                    };
                }
                if val == 0 {
                    g[at..at + 4].fill(0);
                }
            }
            assert!(!icmp_error_allowed(&g[14..]), "case {at} {val}");
        }
        assert!(!icmp_error_allowed(&[0x45, 0]));
    }
}
