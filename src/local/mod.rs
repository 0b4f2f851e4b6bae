//! Local delivery as pure functions: answer an ARP request or an ICMP echo
//! request addressed to one of our addresses. The caller says which
//! addresses are ours through `owner(ip) -> Option<mac>` (own interface
//! addresses always; virtual addresses only while master, with the MAC to
//! answer with). Owns no state, no socket; never panics on any input and
//! never answers anything it was not asked (returns None instead).

use crate::wire::arp::{ArpOperation, ArpPacket, ArpRepr};
use crate::wire::build;
use crate::wire::ethernet::{EthernetAddress, EthernetFrame, ethertype};
use crate::wire::ipv4::{Ipv4Packet, protocol};
use std::net::Ipv4Addr;

/// If `frame` is an ARP request for an address `owner` claims, write the
/// reply into `out` and return its length. None for anything else: ARP
/// replies, gratuitous ARP (spa == tpa), requests from a multicast or zero
/// sender MAC or a multicast/broadcast sender IP, non-Ethernet/IPv4 ARP,
/// malformed frames, addresses not ours, or an `out` too small. A RFC 5227
/// probe (spa 0.0.0.0) is answered, to the prober's MAC.
pub fn answer_arp(
    frame: &[u8],
    owner: impl FnMut(Ipv4Addr) -> Option<EthernetAddress>,
    out: &mut [u8],
) -> Option<usize> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    if eth.ethertype() != ethertype::ARP {
        return None;
    }
    let arp = ArpRepr::parse(&ArpPacket::new_checked(eth.payload()).ok()?).ok()?;
    reply_arp(&arp, owner, out)
}

/// [`answer_arp`] for an ARP packet the caller already parsed.
pub fn reply_arp(
    arp: &ArpRepr,
    mut owner: impl FnMut(Ipv4Addr) -> Option<EthernetAddress>,
    out: &mut [u8],
) -> Option<usize> {
    if arp.operation != ArpOperation::Request {
        return None;
    }
    let sha = arp.source_hardware_addr;
    let (spa, tpa) = (arp.source_protocol_addr, arp.target_protocol_addr);
    if sha.is_multicast() || sha.is_zero() || spa == tpa {
        return None;
    }
    if spa.is_multicast()
        || spa.is_broadcast()
        || tpa.is_multicast()
        || tpa.is_broadcast()
        || tpa.is_unspecified()
    {
        return None;
    }
    let mac = owner(tpa)?;
    match build::arp_reply(out, mac, tpa, sha, spa) {
        0 => None,
        n => Some(n),
    }
}

/// If `frame` is a valid, unfragmented ICMP echo request to an address
/// `owner` claims, write the echo reply (from that address and the MAC
/// `owner` returned, IP id `ip_id`) into `out` and return its length.
/// None for anything else, including requests from multicast, broadcast
/// or unspecified sources, bad checksums and an `out` too small.
pub fn answer_echo(
    frame: &[u8],
    owner: impl FnMut(Ipv4Addr) -> Option<EthernetAddress>,
    out: &mut [u8],
    ip_id: u16,
) -> Option<usize> {
    let eth = EthernetFrame::new_checked(frame).ok()?;
    if eth.ethertype() != ethertype::IPV4 {
        return None;
    }
    let ip = Ipv4Packet::new_checked(eth.payload()).ok()?;
    reply_echo(frame, eth.src_addr(), &ip, owner, out, ip_id)
}

/// [`answer_echo`] for a frame whose Ethernet source and IPv4 header the
/// caller already parsed (`frame` is the whole frame, quoted by the reply).
pub fn reply_echo(
    frame: &[u8],
    eth_src: EthernetAddress,
    ip: &Ipv4Packet<&[u8]>,
    mut owner: impl FnMut(Ipv4Addr) -> Option<EthernetAddress>,
    out: &mut [u8],
    ip_id: u16,
) -> Option<usize> {
    if eth_src.is_multicast() || ip.protocol() != protocol::ICMP {
        return None;
    }
    let (src, dst) = (ip.src_addr(), ip.dst_addr());
    if src.is_multicast() || src.is_broadcast() || src.is_unspecified() {
        return None;
    }
    if dst.is_multicast() || dst.is_broadcast() {
        return None;
    }
    let mac = owner(dst)?;
    match build::echo_reply(out, frame, mac, ip_id) {
        0 => None,
        n => Some(n),
    }
}

/// [`answer_arp`] or [`answer_echo`], whichever fits the frame's
/// EtherType: one call for the engine's local-delivery path.
pub fn answer(
    frame: &[u8],
    owner: impl FnMut(Ipv4Addr) -> Option<EthernetAddress>,
    out: &mut [u8],
    ip_id: u16,
) -> Option<usize> {
    match EthernetFrame::new_checked(frame).ok()?.ethertype() {
        ethertype::ARP => answer_arp(frame, owner, out),
        ethertype::IPV4 => answer_echo(frame, owner, out, ip_id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::checksum;
    use crate::wire::icmp::{IcmpPacket, IcmpRepr};
    use crate::wire::test_frames::echo_request;

    const OUR_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 1]);
    const VMAC: EthernetAddress = EthernetAddress([0x00, 0x00, 0x5e, 0x00, 0x01, 0x2a]);
    const CLIENT_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 9]);
    const OUR_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 42, 2);
    const VIP: Ipv4Addr = Ipv4Addr::new(192, 168, 42, 50);
    const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 42, 77);

    fn owner(ip: Ipv4Addr) -> Option<EthernetAddress> {
        if ip == OUR_IP {
            Some(OUR_MAC)
        } else if ip == VIP {
            Some(VMAC)
        } else {
            None
        }
    }

    /// ARP frame written byte by byte (independent of our emitters).
    fn arp_frame(op: u8, sha: EthernetAddress, spa: Ipv4Addr, tpa: Ipv4Addr) -> Vec<u8> {
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&sha.0);
        f.extend_from_slice(&[0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0, op]);
        f.extend_from_slice(&sha.0);
        f.extend_from_slice(&spa.octets());
        f.extend_from_slice(&[0; 6]);
        f.extend_from_slice(&tpa.octets());
        f
    }

    fn echo_frame(src: Ipv4Addr, dst: Ipv4Addr, data: &[u8]) -> Vec<u8> {
        echo_request((OUR_MAC, CLIENT_MAC), (src, dst), 0x1234, (0x7701, 5), data)
    }

    #[test]
    fn arp_request_for_ours_is_answered() {
        let mut out = [0u8; 128];
        for (ip, mac) in [(OUR_IP, OUR_MAC), (VIP, VMAC)] {
            let req = arp_frame(1, CLIENT_MAC, CLIENT, ip);
            let n = answer_arp(&req, owner, &mut out).unwrap();
            assert_eq!(n, 42);
            let r = &out[..n];
            assert_eq!(&r[0..6], &CLIENT_MAC.0);
            assert_eq!(&r[6..12], &mac.0);
            assert_eq!(&r[12..22], &[0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 2]);
            assert_eq!(&r[22..28], &mac.0);
            assert_eq!(&r[28..32], &ip.octets());
            assert_eq!(&r[32..38], &CLIENT_MAC.0);
            assert_eq!(&r[38..42], &CLIENT.octets());
        }
        // With Ethernet padding to 60 bytes.
        let mut req = arp_frame(1, CLIENT_MAC, CLIENT, VIP);
        req.resize(60, 0);
        assert_eq!(answer_arp(&req, owner, &mut out), Some(42));
        // RFC 5227 probe.
        let req = arp_frame(1, CLIENT_MAC, Ipv4Addr::UNSPECIFIED, VIP);
        let n = answer_arp(&req, owner, &mut out).unwrap();
        assert_eq!(&out[38..42], &[0, 0, 0, 0]);
        assert_eq!(n, 42);
    }

    #[test]
    fn arp_not_answered() {
        let mut out = [0u8; 128];
        let cases = [
            arp_frame(1, CLIENT_MAC, CLIENT, Ipv4Addr::new(192, 168, 42, 3)), // not ours
            arp_frame(2, CLIENT_MAC, CLIENT, VIP),                            // a reply
            arp_frame(3, CLIENT_MAC, CLIENT, VIP),                            // RARP op
            arp_frame(1, CLIENT_MAC, VIP, VIP),                               // gratuitous
            arp_frame(1, EthernetAddress::BROADCAST, CLIENT, VIP),            // bogus sha
            arp_frame(1, EthernetAddress::ZERO, CLIENT, VIP),
            arp_frame(1, CLIENT_MAC, Ipv4Addr::new(224, 0, 0, 1), VIP),
            arp_frame(1, CLIENT_MAC, Ipv4Addr::BROADCAST, VIP),
        ];
        for (i, c) in cases.iter().enumerate() {
            assert_eq!(answer_arp(c, owner, &mut out), None, "case {i}");
        }
        let good = arp_frame(1, CLIENT_MAC, CLIENT, VIP);
        for n in 0..42 {
            assert_eq!(answer_arp(&good[..n], owner, &mut out), None, "len {n}");
        }
        let mut b = good.clone();
        b[12] = 0x08;
        b[13] = 0x00; // claims IPv4
        assert_eq!(answer_arp(&b, owner, &mut out), None);
        let mut b = good.clone();
        b[18] = 16; // hlen 16
        assert_eq!(answer_arp(&b, owner, &mut out), None);
        assert_eq!(answer_arp(&good, owner, &mut out[..41]), None);
        // The closure is asked only for the target.
        let mut asked = Vec::new();
        answer_arp(
            &good,
            |ip| {
                asked.push(ip);
                None
            },
            &mut out,
        );
        assert_eq!(asked, vec![VIP]);
    }

    #[test]
    fn echo_for_ours_is_answered() {
        let mut out = [0u8; 1518];
        let req = echo_frame(CLIENT, VIP, b"abcdefghijklmnopqrstuvwabcdefghi");
        let n = answer_echo(&req, owner, &mut out, 99).unwrap();
        assert_eq!(n, req.len());
        let r = &out[..n];
        assert_eq!(&r[0..6], &CLIENT_MAC.0);
        assert_eq!(&r[6..12], &VMAC.0);
        let ip = Ipv4Packet::new_checked(&r[14..]).unwrap();
        assert!(ip.verify_checksum());
        assert_eq!(
            (ip.src_addr(), ip.dst_addr(), ip.ident()),
            (VIP, CLIENT, 99)
        );
        let icmp = IcmpPacket::new_checked(ip.payload()).unwrap();
        assert_eq!(
            IcmpRepr::parse(&icmp).unwrap(),
            IcmpRepr::EchoReply {
                ident: 0x7701,
                seq_no: 5,
                data: b"abcdefghijklmnopqrstuvwabcdefghi"
            }
        );
    }

    #[test]
    fn echo_not_answered() {
        let mut out = [0u8; 1518];
        let cases = [
            echo_frame(CLIENT, Ipv4Addr::new(192, 168, 42, 3), b"x"),
            echo_frame(CLIENT, Ipv4Addr::new(192, 168, 42, 255), b"x"),
            echo_frame(CLIENT, Ipv4Addr::new(224, 0, 0, 1), b"x"),
            echo_frame(Ipv4Addr::BROADCAST, VIP, b"x"),
            echo_frame(Ipv4Addr::new(239, 1, 1, 1), VIP, b"x"),
            echo_frame(Ipv4Addr::UNSPECIFIED, VIP, b"x"),
        ];
        for (i, c) in cases.iter().enumerate() {
            assert_eq!(answer_echo(c, owner, &mut out, 1), None, "case {i}");
        }
        let good = echo_frame(CLIENT, VIP, b"payload");
        // Every truncation, every single-byte corruption: never a panic;
        // a corrupted checksum-covered byte is never answered with a reply
        // that fails to verify.
        for n in 0..good.len() {
            assert_eq!(answer_echo(&good[..n], owner, &mut out, 1), None, "len {n}");
        }
        for i in 0..good.len() {
            for x in [0x01u8, 0x80, 0xff] {
                let mut b = good.clone();
                b[i] ^= x;
                if let Some(n) = answer_echo(&b, owner, &mut out, 1) {
                    // Only bytes outside the checksums (Ethernet header) may
                    // still produce a reply.
                    assert!(i < 14, "corrupt byte {i} answered");
                    let ip = Ipv4Packet::new_checked(&out[14..n]).unwrap();
                    assert!(ip.verify_checksum() && checksum::verify(ip.payload()));
                }
            }
        }
        // Fragments are not answered.
        let mut b = good.clone();
        b[20] = 0x20; // MF
        let c = {
            let mut h = b[14..34].to_vec();
            h[10] = 0;
            h[11] = 0;
            checksum::checksum(&h)
        };
        b[24..26].copy_from_slice(&c.to_be_bytes());
        assert_eq!(answer_echo(&b, owner, &mut out, 1), None);
        // Out buffer too small.
        assert_eq!(
            answer_echo(&good, owner, &mut out[..good.len() - 1], 1),
            None
        );
        // ARP is not echo and vice versa.
        assert_eq!(
            answer_echo(&arp_frame(1, CLIENT_MAC, CLIENT, VIP), owner, &mut out, 1),
            None
        );
        assert_eq!(answer_arp(&good, owner, &mut out), None);
    }

    #[test]
    fn answer_dispatches() {
        let mut out = [0u8; 1518];
        let arp = arp_frame(1, CLIENT_MAC, CLIENT, OUR_IP);
        assert_eq!(answer(&arp, owner, &mut out, 1), Some(42));
        assert_eq!(out[21], 2);
        let echo = echo_frame(CLIENT, OUR_IP, b"x");
        assert_eq!(answer(&echo, owner, &mut out, 1), Some(echo.len()));
        assert_eq!(out[34], 0);
        let mut other = echo.clone();
        other[12] = 0x86;
        other[13] = 0xdd;
        assert_eq!(answer(&other, owner, &mut out, 1), None);
        assert_eq!(answer(&[], owner, &mut out, 1), None);
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut out = [0u8; 1518];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let arp = arp_frame(1, CLIENT_MAC, CLIENT, VIP);
        let echo = echo_frame(CLIENT, VIP, b"0123456789");
        for round in 0..20_000 {
            let base = if round % 2 == 0 { &arp } else { &echo };
            let mut b = base.clone();
            let len = (next() as usize) % (base.len() + 8);
            b.resize(len, 0);
            for _ in 0..(next() % 4) {
                if !b.is_empty() {
                    let i = (next() as usize) % b.len();
                    b[i] = next() as u8;
                }
            }
            let _ = answer_arp(&b, owner, &mut out);
            let _ = answer_echo(&b, owner, &mut out, 1);
            let _ = answer_arp(&b, |_| Some(OUR_MAC), &mut out[..(next() as usize) % 64]);
            let _ = answer_echo(
                &b,
                |_| Some(OUR_MAC),
                &mut out[..(next() as usize) % 128],
                1,
            );
        }
    }
}
