//! IPv4 packets for simulator tests, built and read byte by byte here
//! (independent of hagw's `wire` module, so the engine is checked against
//! a second implementation): UDP, TCP and ICMP echo builders, a reader that
//! verifies every checksum, and Ethernet framing.
#![allow(dead_code)]

use std::net::Ipv4Addr;

pub const TCP_FIN: u8 = 0x01;
pub const TCP_SYN: u8 = 0x02;
pub const TCP_RST: u8 = 0x04;
pub const TCP_PSH: u8 = 0x08;
pub const TCP_ACK: u8 = 0x10;

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

fn sum(b: &[u8], mut acc: u32) -> u32 {
    for c in b.chunks(2) {
        acc += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    acc
}

fn pseudo(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: usize) -> u32 {
    let mut acc = sum(&src.octets(), 0);
    acc = sum(&dst.octets(), acc);
    acc + u32::from(proto) + len as u32
}

/// An IPv4 header (no options, TTL `ttl`, id `id`, DF per `df`) + `l4`.
pub fn ipv4(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    ttl: u8,
    id: u16,
    df: bool,
    l4: &[u8],
) -> Vec<u8> {
    let total = (20 + l4.len()) as u16;
    let mut b = vec![0x45, 0];
    b.extend_from_slice(&total.to_be_bytes());
    b.extend_from_slice(&id.to_be_bytes());
    b.extend_from_slice(&[if df { 0x40 } else { 0 }, 0, ttl, proto, 0, 0]);
    b.extend_from_slice(&src.octets());
    b.extend_from_slice(&dst.octets());
    let c = !fold(sum(&b, 0));
    b[10..12].copy_from_slice(&c.to_be_bytes());
    b.extend_from_slice(l4);
    b
}

pub fn udp(src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16, data: &[u8]) -> Vec<u8> {
    let len = 8 + data.len();
    let mut l4 = Vec::with_capacity(len);
    l4.extend_from_slice(&sport.to_be_bytes());
    l4.extend_from_slice(&dport.to_be_bytes());
    l4.extend_from_slice(&(len as u16).to_be_bytes());
    l4.extend_from_slice(&[0, 0]);
    l4.extend_from_slice(data);
    let mut c = !fold(sum(&l4, pseudo(src, dst, 17, len)));
    if c == 0 {
        c = 0xffff;
    }
    l4[6..8].copy_from_slice(&c.to_be_bytes());
    ipv4(src, dst, 17, 64, 1, true, &l4)
}

/// A TCP segment (20-byte header; a SYN also carries MSS and window scale 7).
#[allow(clippy::too_many_arguments)]
pub fn tcp(
    src: Ipv4Addr,
    sport: u16,
    dst: Ipv4Addr,
    dport: u16,
    flags: u8,
    seq: u32,
    ack: u32,
    data: &[u8],
) -> Vec<u8> {
    let opts: &[u8] = if flags & TCP_SYN != 0 {
        &[2, 4, 0x05, 0xb4, 1, 3, 3, 7]
    } else {
        &[]
    };
    let hl = 20 + opts.len();
    let mut l4 = Vec::with_capacity(hl + data.len());
    l4.extend_from_slice(&sport.to_be_bytes());
    l4.extend_from_slice(&dport.to_be_bytes());
    l4.extend_from_slice(&seq.to_be_bytes());
    l4.extend_from_slice(&ack.to_be_bytes());
    l4.extend_from_slice(&[((hl / 4) as u8) << 4, flags]);
    l4.extend_from_slice(&502u16.to_be_bytes());
    l4.extend_from_slice(&[0, 0, 0, 0]);
    l4.extend_from_slice(opts);
    l4.extend_from_slice(data);
    let c = !fold(sum(&l4, pseudo(src, dst, 6, l4.len())));
    l4[16..18].copy_from_slice(&c.to_be_bytes());
    ipv4(src, dst, 6, 64, 1, true, &l4)
}

pub fn echo_request(src: Ipv4Addr, dst: Ipv4Addr, ident: u16, seq: u16, ttl: u8) -> Vec<u8> {
    echo(8, src, dst, ident, seq, b"hagw-sim", ttl)
}

/// An ICMP echo message of `typ` (8 request, 0 reply).
pub fn echo(
    typ: u8,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ident: u16,
    seq: u16,
    data: &[u8],
    ttl: u8,
) -> Vec<u8> {
    let mut l4 = vec![typ, 0, 0, 0];
    l4.extend_from_slice(&ident.to_be_bytes());
    l4.extend_from_slice(&seq.to_be_bytes());
    l4.extend_from_slice(data);
    let c = !fold(sum(&l4, 0));
    l4[2..4].copy_from_slice(&c.to_be_bytes());
    ipv4(src, dst, 1, ttl, 7, false, &l4)
}

/// What a test checks in a received IPv4 packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pkt {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub proto: u8,
    pub ttl: u8,
    /// TCP/UDP ports; ICMP echo: (ident, seq).
    pub sport: u16,
    pub dport: u16,
    pub flags: u8,
    pub seq: u32,
    pub ack: u32,
    /// ICMP: (type, code).
    pub icmp: Option<(u8, u8)>,
    pub payload: Vec<u8>,
}

/// Parse an IPv4 packet, verifying the header and transport checksums
/// (None if anything is wrong).
pub fn parse(b: &[u8]) -> Option<Pkt> {
    if b.len() < 20 || b[0] >> 4 != 4 {
        return None;
    }
    let hl = usize::from(b[0] & 0xf) * 4;
    let total = usize::from(u16::from_be_bytes([b[2], b[3]]));
    if hl < 20 || total < hl || total > b.len() || fold(sum(&b[..hl], 0)) != 0xffff {
        return None;
    }
    let src = Ipv4Addr::new(b[12], b[13], b[14], b[15]);
    let dst = Ipv4Addr::new(b[16], b[17], b[18], b[19]);
    let proto = b[9];
    let l4 = &b[hl..total];
    let mut p = Pkt {
        src,
        dst,
        proto,
        ttl: b[8],
        sport: 0,
        dport: 0,
        flags: 0,
        seq: 0,
        ack: 0,
        icmp: None,
        payload: Vec::new(),
    };
    let frag = u16::from_be_bytes([b[6], b[7]]) & 0x3fff != 0;
    if frag {
        p.payload = l4.to_vec();
        return Some(p);
    }
    match proto {
        6 => {
            if l4.len() < 20 || fold(sum(l4, pseudo(src, dst, 6, l4.len()))) != 0xffff {
                return None;
            }
            let thl = usize::from(l4[12] >> 4) * 4;
            p.sport = u16::from_be_bytes([l4[0], l4[1]]);
            p.dport = u16::from_be_bytes([l4[2], l4[3]]);
            p.seq = u32::from_be_bytes([l4[4], l4[5], l4[6], l4[7]]);
            p.ack = u32::from_be_bytes([l4[8], l4[9], l4[10], l4[11]]);
            p.flags = l4[13];
            p.payload = l4.get(thl..)?.to_vec();
        }
        17 => {
            if l4.len() < 8 {
                return None;
            }
            let c = u16::from_be_bytes([l4[6], l4[7]]);
            if c != 0 && fold(sum(l4, pseudo(src, dst, 17, l4.len()))) != 0xffff {
                return None;
            }
            p.sport = u16::from_be_bytes([l4[0], l4[1]]);
            p.dport = u16::from_be_bytes([l4[2], l4[3]]);
            p.payload = l4[8..].to_vec();
        }
        1 => {
            if l4.len() < 8 || fold(sum(l4, 0)) != 0xffff {
                return None;
            }
            p.icmp = Some((l4[0], l4[1]));
            p.sport = u16::from_be_bytes([l4[4], l4[5]]);
            p.dport = u16::from_be_bytes([l4[6], l4[7]]);
            p.payload = l4[8..].to_vec();
        }
        _ => p.payload = l4.to_vec(),
    }
    Some(p)
}

/// An Ethernet frame around `payload`.
pub fn ether(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An ARP packet (Ethernet/IPv4): op 1 request, 2 reply.
pub fn arp(op: u16, sha: [u8; 6], spa: Ipv4Addr, tha: [u8; 6], tpa: Ipv4Addr) -> Vec<u8> {
    let mut a = vec![0, 1, 8, 0, 6, 4];
    a.extend_from_slice(&op.to_be_bytes());
    a.extend_from_slice(&sha);
    a.extend_from_slice(&spa.octets());
    a.extend_from_slice(&tha);
    a.extend_from_slice(&tpa.octets());
    a
}
