//! Software segmentation of a TCP/IPv4 super-frame: with segmentation
//! offload on (TSO/GSO at a local sender, GRO at the receiving NIC) the
//! kernel hands a packet socket one Ethernet frame holding many TCP
//! segments. This cuts it into frames that fit the wire MTU, as the NIC
//! would have: headers copied, IP total length / ID / checksum per
//! segment, TCP sequence advanced, CWR on the first segment only, FIN and
//! PSH on the last only, every checksum computed in full (the super-frame's
//! own is usually partial).
//!
//! Owns: `plan` (is this a TCP/IPv4 super-frame, and in how many pieces)
//! and `segment` (write piece k). Never: anything but IPv4/TCP without
//! VLAN tags, IP options kept as they are; allocates nothing.

use super::checksum::checksum_with_pseudo;
use super::{get_u8, get_u16, get_u32, set_u8, set_u16, set_u32};
use std::net::Ipv4Addr;

const ETH: usize = 14;
const TCP_FIN: u8 = 0x01;
const TCP_PSH: u8 = 0x08;
const TCP_CWR: u8 = 0x80;

/// How a super-frame splits.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// IPv4 header length, TCP header length.
    ihl: usize,
    thl: usize,
    /// TCP payload bytes in all, and per segment (all but the last).
    payload: usize,
    pub mss: usize,
    /// Segments to write.
    pub count: usize,
}

impl Plan {
    /// Length of segment frames but the last (Ethernet included).
    pub fn frame_len(&self) -> usize {
        ETH + self.ihl + self.thl + self.mss
    }
}

/// The plan for `frame` on a link of IP MTU `mtu`, or None: not an
/// unfragmented IPv4/TCP frame with payload, or headers that leave no
/// room under the MTU.
pub fn plan(frame: &[u8], mtu: usize) -> Option<Plan> {
    if get_u16(frame, 12) != 0x0800 {
        return None;
    }
    let ip = frame.get(ETH..)?;
    let vihl = get_u8(ip, 0);
    let ihl = usize::from(vihl & 0x0f) * 4;
    if vihl >> 4 != 4 || ihl < 20 || get_u8(ip, 9) != 6 {
        return None;
    }
    if get_u16(ip, 6) & 0x3fff != 0 {
        return None; // a fragment (MF or an offset)
    }
    let total = usize::from(get_u16(ip, 2));
    if total > ip.len() || total < ihl + 20 {
        return None;
    }
    let thl = usize::from(get_u8(ip, ihl + 12) >> 4) * 4;
    if thl < 20 || ihl + thl > total {
        return None;
    }
    let payload = total - ihl - thl;
    let mss = mtu.checked_sub(ihl + thl)?;
    if payload == 0 || mss == 0 {
        return None;
    }
    Some(Plan {
        ihl,
        thl,
        payload,
        mss,
        count: payload.div_ceil(mss),
    })
}

/// Write segment `k` of `frame` (planned by `plan`) into `out`; its
/// length, or None when `k` is past the end or `out` is too small.
pub fn segment(frame: &[u8], p: &Plan, k: usize, out: &mut [u8]) -> Option<usize> {
    if k >= p.count {
        return None;
    }
    let hdrs = ETH + p.ihl + p.thl;
    let start = k * p.mss;
    let len = p.mss.min(p.payload - start);
    let body = frame.get(hdrs + start..hdrs + start + len)?;
    let n = hdrs + len;
    let o = out.get_mut(..n)?;
    o.get_mut(..hdrs)?.copy_from_slice(frame.get(..hdrs)?);
    o.get_mut(hdrs..)?.copy_from_slice(body);
    let (eth_ip, tcp) = o.split_at_mut(ETH + p.ihl);
    let ip = eth_ip.get_mut(ETH..)?;
    // IPv4: length, ID (one per segment, as TSO does), checksum.
    set_u16(ip, 2, u16::try_from(p.ihl + p.thl + len).ok()?);
    set_u16(ip, 4, get_u16(ip, 4).wrapping_add(k as u16));
    set_u16(ip, 10, 0);
    set_u16(ip, 10, super::checksum::checksum(ip));
    let src = Ipv4Addr::from(get_u32(ip, 12));
    let dst = Ipv4Addr::from(get_u32(ip, 16));
    // TCP: sequence, flags, checksum.
    set_u32(tcp, 4, get_u32(tcp, 4).wrapping_add(start as u32));
    let mut flags = get_u8(tcp, 13);
    if k > 0 {
        flags &= !TCP_CWR;
    }
    if k + 1 < p.count {
        flags &= !(TCP_FIN | TCP_PSH);
    }
    set_u8(tcp, 13, flags);
    set_u16(tcp, 16, 0);
    let c = checksum_with_pseudo(src, dst, 6, tcp);
    set_u16(tcp, 16, c);
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::checksum::verify_with_pseudo;

    /// A super-frame: `payload` bytes of TCP data (seq 1000, PSH|ACK|CWR),
    /// IP ID 7, a partial checksum in the TCP field.
    fn super_frame(payload: usize) -> Vec<u8> {
        let mut f = vec![0u8; ETH + 20 + 32 + payload];
        f[12..14].copy_from_slice(&[8, 0]);
        let total = (20 + 32 + payload) as u16;
        let ip = &mut f[ETH..];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip[4..6].copy_from_slice(&7u16.to_be_bytes());
        ip[6] = 0x40; // DF
        ip[8] = 64;
        ip[9] = 6;
        ip[12..16].copy_from_slice(&[10, 0, 0, 100]);
        ip[16..20].copy_from_slice(&[10, 0, 0, 1]);
        let tcp = &mut ip[20..];
        tcp[0..2].copy_from_slice(&80u16.to_be_bytes());
        tcp[2..4].copy_from_slice(&40000u16.to_be_bytes());
        tcp[4..8].copy_from_slice(&1000u32.to_be_bytes());
        tcp[12] = 8 << 4;
        tcp[13] = 0x80 | 0x10 | 0x08 | 0x01; // CWR ACK PSH FIN
        tcp[16..18].copy_from_slice(&0x1234u16.to_be_bytes());
        tcp[20..32].copy_from_slice(&[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
        for (i, b) in tcp[32..].iter_mut().enumerate() {
            *b = (i * 7) as u8;
        }
        f
    }

    #[test]
    fn a_super_frame_splits_into_valid_segments_that_rebuild_the_stream() {
        let f = super_frame(10_000);
        let p = plan(&f, 1500).expect("plan");
        assert_eq!((p.mss, p.count), (1448, 7));
        let mut out = [0u8; 1518];
        let mut stream = Vec::new();
        for k in 0..p.count {
            let n = segment(&f, &p, k, &mut out).expect("segment");
            let o = &out[..n];
            assert!(n - ETH <= 1500);
            let ip = &o[ETH..];
            assert!(crate::wire::checksum::verify(&ip[..20]), "IP checksum");
            assert_eq!(usize::from(get_u16(ip, 2)), n - ETH);
            assert_eq!(get_u16(ip, 4), 7 + k as u16);
            let src = Ipv4Addr::new(10, 0, 0, 100);
            let dst = Ipv4Addr::new(10, 0, 0, 1);
            assert!(verify_with_pseudo(src, dst, 6, &ip[20..]), "TCP checksum");
            let tcp = &ip[20..];
            assert_eq!(get_u32(tcp, 4), 1000 + (k * 1448) as u32);
            let last = k + 1 == p.count;
            assert_eq!(tcp[13] & TCP_CWR != 0, k == 0);
            assert_eq!(tcp[13] & (TCP_FIN | TCP_PSH) != 0, last);
            assert_eq!(&tcp[20..32], &f[ETH + 40..ETH + 52], "options kept");
            stream.extend_from_slice(&tcp[32..]);
        }
        assert_eq!(stream, f[ETH + 52..], "payload in order, nothing lost");
        assert_eq!(segment(&f, &p, p.count, &mut out), None);
    }

    #[test]
    fn not_a_tcp_super_frame_has_no_plan() {
        let mut f = super_frame(3000);
        assert!(plan(&f, 40).is_none(), "no room for payload");
        f[ETH + 9] = 17;
        assert!(plan(&f, 1500).is_none(), "UDP");
        let mut g = super_frame(3000);
        g[ETH + 6] = 0x20; // MF
        assert!(plan(&g, 1500).is_none(), "fragment");
        let mut h = super_frame(3000);
        h[ETH + 2..ETH + 4].copy_from_slice(&60000u16.to_be_bytes());
        assert!(plan(&h, 1500).is_none(), "total length past the frame");
        assert!(plan(&f[..20], 1500).is_none(), "short");
    }
}
