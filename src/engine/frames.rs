//! The few frame shapes the VRRP engine reads and writes: Ethernet II,
//! IPv4 (no options on emit), VRRP v2/v3 adverts, ARP and ICMP echo.
//!
//! Owns: bounds-checked parsing into small views and emitting into a caller
//! buffer. Never: allocates, panics on input, or keeps state. This is the
//! engine's private codec, written before `crate::wire` had codecs; it can be
//! replaced by `wire` without touching the engine logic.

use crate::wire::vrrp::{MAX_ADDRS, VrrpError, VrrpRepr};
use std::net::Ipv4Addr;

pub const ETH_LEN: usize = 14;
pub const IPV4_LEN: usize = 20;
pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_ARP: u16 = 0x0806;
pub const PROTO_ICMP: u8 = 1;
pub const PROTO_VRRP: u8 = 112;
pub const VRRP_MCAST: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
pub const VRRP_MCAST_MAC: [u8; 6] = [0x01, 0x00, 0x5e, 0x00, 0x00, 0x12];
pub const BROADCAST: [u8; 6] = [0xff; 6];

/// The virtual MAC of a VRID (RFC 3768 §7.3).
pub fn virtual_mac(vrid: u8) -> [u8; 6] {
    [0x00, 0x00, 0x5e, 0x00, 0x01, vrid]
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn ip_at(b: &[u8], at: usize) -> Option<Ipv4Addr> {
    let s = b.get(at..at + 4)?;
    Some(Ipv4Addr::new(s[0], s[1], s[2], s[3]))
}

fn mac_at(b: &[u8], at: usize) -> Option<[u8; 6]> {
    let mut m = [0u8; 6];
    m.copy_from_slice(b.get(at..at + 6)?);
    Some(m)
}

/// Internet checksum accumulation (RFC 1071), not yet folded.
pub fn sum(data: &[u8], mut acc: u32) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc = acc.wrapping_add(u32::from(u16::from_be_bytes([c[0], c[1]])));
    }
    if let [last] = chunks.remainder() {
        acc = acc.wrapping_add(u32::from(*last) << 8);
    }
    acc
}

pub fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

fn pseudo(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: usize) -> u32 {
    let mut acc = sum(&src.octets(), 0);
    acc = sum(&dst.octets(), acc);
    acc = acc.wrapping_add(u32::from(proto));
    acc.wrapping_add(len as u32 & 0xffff)
}

pub struct Eth {
    pub dst: [u8; 6],
    pub src: [u8; 6],
    pub ethertype: u16,
}

pub fn parse_eth(f: &[u8]) -> Option<Eth> {
    Some(Eth {
        dst: mac_at(f, 0)?,
        src: mac_at(f, 6)?,
        ethertype: be16(f, 12)?,
    })
}

pub struct Ipv4<'a> {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    pub proto: u8,
    pub payload: &'a [u8],
}

/// A checked IPv4 header (version, IHL, total length, checksum, no fragments).
pub fn parse_ipv4(p: &[u8]) -> Option<Ipv4<'_>> {
    let vihl = *p.first()?;
    if vihl >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(vihl & 0x0f) * 4;
    let total = usize::from(be16(p, 2)?);
    if ihl < IPV4_LEN || total < ihl || total > p.len() {
        return None;
    }
    let hdr = p.get(..ihl)?;
    if fold(sum(hdr, 0)) != 0 {
        return None;
    }
    let frag = be16(p, 6)?;
    if frag & 0x3fff != 0 {
        return None; // fragments are not for the control plane
    }
    Some(Ipv4 {
        src: ip_at(p, 12)?,
        dst: ip_at(p, 16)?,
        ttl: *p.get(8)?,
        proto: *p.get(9)?,
        payload: p.get(ihl..total)?,
    })
}

/// The VRID byte of a VRRP message, if present (to count errors per group).
pub fn vrrp_vrid(b: &[u8]) -> Option<u8> {
    b.get(1).copied()
}

/// Parse and verify a VRRP advert. v3 accepts the RFC 5798 pseudo-header
/// checksum and the legacy v2-style one.
pub fn parse_vrrp(b: &[u8], src: Ipv4Addr, dst: Ipv4Addr) -> Result<VrrpRepr, VrrpError> {
    if b.len() < 8 {
        return Err(VrrpError::Truncated);
    }
    let version = b[0] >> 4;
    if version != 2 && version != 3 {
        return Err(VrrpError::Version);
    }
    if b[0] & 0x0f != 1 {
        return Err(VrrpError::Type);
    }
    let count = usize::from(b[3]);
    let want = 8 + 4 * count + if version == 2 { 8 } else { 0 };
    if b.len() < want {
        return Err(VrrpError::Truncated);
    }
    if b.len() != want {
        return Err(VrrpError::Length);
    }
    if count > MAX_ADDRS {
        return Err(VrrpError::TooManyAddresses);
    }
    let plain = fold(sum(b, 0)) == 0;
    let ok = if version == 2 {
        plain
    } else {
        plain || fold(sum(b, pseudo(src, dst, PROTO_VRRP, b.len()))) == 0
    };
    if !ok {
        return Err(VrrpError::Checksum);
    }
    let mut addresses = heapless::Vec::new();
    for i in 0..count {
        let a = ip_at(b, 8 + 4 * i).ok_or(VrrpError::Truncated)?;
        addresses.push(a).map_err(|_| VrrpError::TooManyAddresses)?;
    }
    let (auth_type, advert_interval, auth_data) = if version == 2 {
        let mut d = [0u8; 8];
        let at = 8 + 4 * count;
        d.copy_from_slice(b.get(at..at + 8).ok_or(VrrpError::Truncated)?);
        (b[4], u16::from(b[5]), d)
    } else {
        (0, u16::from_be_bytes([b[4], b[5]]) & 0x0fff, [0u8; 8])
    };
    Ok(VrrpRepr {
        version,
        vrid: b[1],
        priority: b[2],
        advert_interval,
        auth_type,
        auth_data,
        addresses,
    })
}

/// Write Ethernet + IPv4 (TTL, proto, DSCP 0xc0 for VRRP) headers; returns the
/// offset of the IP payload. `buf` must hold at least 34 bytes.
#[allow(clippy::too_many_arguments)]
fn emit_eth_ip(
    buf: &mut [u8],
    dst_mac: [u8; 6],
    src_mac: [u8; 6],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ttl: u8,
    proto: u8,
    id: u16,
    payload_len: usize,
) -> Option<usize> {
    let total = IPV4_LEN + payload_len;
    let h = buf.get_mut(..ETH_LEN + IPV4_LEN)?;
    h[0..6].copy_from_slice(&dst_mac);
    h[6..12].copy_from_slice(&src_mac);
    h[12..14].copy_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    let ip = &mut h[ETH_LEN..];
    ip[0] = 0x45;
    ip[1] = if proto == PROTO_VRRP { 0xc0 } else { 0 };
    ip[2..4].copy_from_slice(&(u16::try_from(total).ok()?).to_be_bytes());
    ip[4..6].copy_from_slice(&id.to_be_bytes());
    ip[6..8].copy_from_slice(&[0, 0]);
    ip[8] = ttl;
    ip[9] = proto;
    ip[10..12].copy_from_slice(&[0, 0]);
    ip[12..16].copy_from_slice(&src.octets());
    ip[16..20].copy_from_slice(&dst.octets());
    let c = fold(sum(ip, 0));
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    Some(ETH_LEN + IPV4_LEN)
}

/// What goes into one advert frame.
pub struct AdvertSpec<'a> {
    pub dst_mac: [u8; 6],
    pub src_mac: [u8; 6],
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ip_id: u16,
    pub version: u8,
    pub vrid: u8,
    pub priority: u8,
    pub interval: u16,
    pub auth: Option<[u8; 8]>,
    pub addrs: &'a [Ipv4Addr],
    pub legacy_checksum: bool,
}

/// Build a whole advert frame; returns its length (0 if it does not fit).
pub fn emit_advert(buf: &mut [u8], a: &AdvertSpec) -> usize {
    let count = a.addrs.len().min(MAX_ADDRS);
    let vlen = 8 + 4 * count + if a.version == 2 { 8 } else { 0 };
    let Some(off) = emit_eth_ip(
        buf, a.dst_mac, a.src_mac, a.src, a.dst, 255, PROTO_VRRP, a.ip_id, vlen,
    ) else {
        return 0;
    };
    let Some(v) = buf.get_mut(off..off + vlen) else {
        return 0;
    };
    v.fill(0);
    v[0] = (a.version << 4) | 1;
    v[1] = a.vrid;
    v[2] = a.priority;
    v[3] = count as u8;
    if a.version == 2 {
        v[4] = u8::from(a.auth.is_some());
        v[5] = a.interval.min(255) as u8;
    } else {
        v[4..6].copy_from_slice(&(a.interval & 0x0fff).to_be_bytes());
    }
    for (i, ip) in a.addrs.iter().take(count).enumerate() {
        v[8 + 4 * i..12 + 4 * i].copy_from_slice(&ip.octets());
    }
    if let (2, Some(key)) = (a.version, a.auth) {
        v[8 + 4 * count..16 + 4 * count].copy_from_slice(&key);
    }
    let acc = if a.version == 3 && !a.legacy_checksum {
        pseudo(a.src, a.dst, PROTO_VRRP, vlen)
    } else {
        0
    };
    let c = fold(sum(v, acc));
    v[6..8].copy_from_slice(&c.to_be_bytes());
    off + vlen
}

pub struct Arp {
    pub op: u16,
    pub sha: [u8; 6],
    pub spa: Ipv4Addr,
    pub tpa: Ipv4Addr,
}

/// An Ethernet/IPv4 ARP packet (the 28 bytes after the Ethernet header).
pub fn parse_arp(p: &[u8]) -> Option<Arp> {
    if be16(p, 0)? != 1 || be16(p, 2)? != ETHERTYPE_IPV4 || *p.get(4)? != 6 || *p.get(5)? != 4 {
        return None;
    }
    Some(Arp {
        op: be16(p, 6)?,
        sha: mac_at(p, 8)?,
        spa: ip_at(p, 14)?,
        tpa: ip_at(p, 24)?,
    })
}

/// Build an ARP frame; returns 42 (or 0 if `buf` is too small).
#[allow(clippy::too_many_arguments)]
pub fn emit_arp(
    buf: &mut [u8],
    eth_dst: [u8; 6],
    eth_src: [u8; 6],
    op: u16,
    sha: [u8; 6],
    spa: Ipv4Addr,
    tha: [u8; 6],
    tpa: Ipv4Addr,
) -> usize {
    let Some(f) = buf.get_mut(..ETH_LEN + 28) else {
        return 0;
    };
    f[0..6].copy_from_slice(&eth_dst);
    f[6..12].copy_from_slice(&eth_src);
    f[12..14].copy_from_slice(&ETHERTYPE_ARP.to_be_bytes());
    let a = &mut f[ETH_LEN..];
    a[0..2].copy_from_slice(&1u16.to_be_bytes());
    a[2..4].copy_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    a[4] = 6;
    a[5] = 4;
    a[6..8].copy_from_slice(&op.to_be_bytes());
    a[8..14].copy_from_slice(&sha);
    a[14..18].copy_from_slice(&spa.octets());
    a[18..24].copy_from_slice(&tha);
    a[24..28].copy_from_slice(&tpa.octets());
    ETH_LEN + 28
}

/// Build an ICMP echo reply to the echo request `req` (the ICMP bytes);
/// returns the frame length, 0 when `req` is no valid echo request.
pub fn emit_echo_reply(
    buf: &mut [u8],
    eth_dst: [u8; 6],
    eth_src: [u8; 6],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ip_id: u16,
    req: &[u8],
) -> usize {
    if req.len() < 8 || req[0] != 8 || req[1] != 0 || fold(sum(req, 0)) != 0 {
        return 0;
    }
    let Some(off) = emit_eth_ip(
        buf,
        eth_dst,
        eth_src,
        src,
        dst,
        64,
        PROTO_ICMP,
        ip_id,
        req.len(),
    ) else {
        return 0;
    };
    let Some(icmp) = buf.get_mut(off..off + req.len()) else {
        return 0;
    };
    icmp.copy_from_slice(req);
    icmp[0] = 0;
    icmp[2..4].copy_from_slice(&[0, 0]);
    let c = fold(sum(icmp, 0));
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    off + req.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1071 example bytes: sum 0x2ddf0 → folded 0xddf2 → checksum !0xddf2.
    #[test]
    fn checksum_rfc1071_example() {
        let d = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(&d, 0)), !0xddf2);
    }

    #[test]
    fn advert_roundtrip_v2_v3() {
        let addrs = [Ipv4Addr::new(192, 168, 42, 50)];
        for (version, legacy) in [(2, false), (3, false), (3, true)] {
            let mut buf = [0u8; 128];
            let spec = AdvertSpec {
                dst_mac: VRRP_MCAST_MAC,
                src_mac: virtual_mac(42),
                src: Ipv4Addr::new(192, 168, 42, 2),
                dst: VRRP_MCAST,
                ip_id: 7,
                version,
                vrid: 42,
                priority: 100,
                interval: if version == 2 { 1 } else { 100 },
                auth: if version == 2 {
                    Some(*b"pw\0\0\0\0\0\0")
                } else {
                    None
                },
                addrs: &addrs,
                legacy_checksum: legacy,
            };
            let n = emit_advert(&mut buf, &spec);
            assert_eq!(n, 14 + 20 + if version == 2 { 20 } else { 12 });
            let eth = parse_eth(&buf[..n]).unwrap();
            assert_eq!(eth.ethertype, ETHERTYPE_IPV4);
            let ip = parse_ipv4(&buf[14..n]).unwrap();
            assert_eq!((ip.ttl, ip.proto), (255, PROTO_VRRP));
            let r = parse_vrrp(ip.payload, ip.src, ip.dst).unwrap();
            assert_eq!((r.version, r.vrid, r.priority), (version, 42, 100));
            assert_eq!(&r.addresses[..], &addrs[..]);
            // corrupt one byte → checksum error
            let mut bad = buf;
            bad[14 + 20 + 2] ^= 1;
            let ip = parse_ipv4(&bad[14..n]).unwrap();
            assert_eq!(
                parse_vrrp(ip.payload, ip.src, ip.dst),
                Err(VrrpError::Checksum)
            );
        }
    }

    /// A VRRPv2 advert laid out by hand from RFC 3768 §5.1 (vrid 42, prio 100,
    /// one address 192.168.42.50, no auth, interval 1).
    #[test]
    fn parses_known_v2_bytes() {
        let v = [
            0x21, 0x2a, 0x64, 0x01, 0x00, 0x01, 0x00, 0x00, 192, 168, 42, 50, 0, 0, 0, 0, 0, 0, 0,
            0,
        ];
        let mut v = v;
        let c = fold(sum(&v, 0));
        v[6..8].copy_from_slice(&c.to_be_bytes());
        let r = parse_vrrp(&v, Ipv4Addr::new(1, 1, 1, 1), VRRP_MCAST).unwrap();
        assert_eq!((r.vrid, r.priority, r.advert_interval), (42, 100, 1));
        assert_eq!(
            parse_vrrp(&v[..19], Ipv4Addr::UNSPECIFIED, VRRP_MCAST),
            Err(VrrpError::Truncated)
        );
        let mut w = v;
        w[0] = 0x41;
        assert_eq!(
            parse_vrrp(&w, Ipv4Addr::UNSPECIFIED, VRRP_MCAST),
            Err(VrrpError::Version)
        );
        w[0] = 0x22;
        assert_eq!(
            parse_vrrp(&w, Ipv4Addr::UNSPECIFIED, VRRP_MCAST),
            Err(VrrpError::Type)
        );
    }

    #[test]
    fn garbage_never_panics() {
        let mut x: u64 = 0x9e3779b97f4a7c15;
        let mut buf = [0u8; 80];
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 80) as usize;
            for (i, b) in buf.iter_mut().enumerate() {
                *b = (x >> (i % 8 * 8)) as u8 ^ i as u8;
            }
            buf[0] = 0x45;
            let _ = parse_ipv4(&buf[..len]);
            buf[0] = 0x21 + (x as u8 & 0x10);
            let _ = parse_vrrp(&buf[..len], Ipv4Addr::UNSPECIFIED, VRRP_MCAST);
            let _ = parse_arp(&buf[..len]);
            let _ = parse_eth(&buf[..len]);
        }
    }
}
