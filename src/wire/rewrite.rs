//! In-place address/port rewriting of IPv4 packets for NAT, with RFC 1624
//! incremental checksum updates (IPv4 header, TCP/UDP pseudo-header
//! checksums, ICMP), including the quoted packet inside ICMP errors.
//! Pure byte surgery: validates before it writes (an error leaves the
//! packet untouched), never panics, never decides *what* to translate.

use super::checksum::update_u16;
use super::icmp::msg_type;
use super::ipv4::{Ipv4Packet, protocol};
use super::{Error, Result, get_u16, set_u16};
use std::net::Ipv4Addr;

/// Which end of the packet's tuple to rewrite.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Side {
    Src,
    Dst,
}

/// Replace the 16-bit word at `at` and return (old, new); None if out of range.
fn patch16(b: &mut [u8], at: usize, new: u16) -> Option<(u16, u16)> {
    b.get(at..at.checked_add(2)?)?;
    let old = get_u16(b, at);
    set_u16(b, at, new);
    Some((old, new))
}

fn patch_addr(b: &mut [u8], at: usize, new: Ipv4Addr) -> Option<[(u16, u16); 2]> {
    let o = new.octets();
    let hi = patch16(b, at, u16::from_be_bytes([o[0], o[1]]))?;
    let lo = patch16(b, at + 2, u16::from_be_bytes([o[2], o[3]]))?;
    Some([hi, lo])
}

/// Apply word changes to the checksum at `at` in `b` (if present).
fn fix_checksum(b: &mut [u8], at: usize, changes: &[(u16, u16)], udp: bool) {
    if b.get(at..at.saturating_add(2)).is_none() {
        return;
    }
    let mut c = get_u16(b, at);
    if udp && c == 0 {
        return; // no checksum (RFC 768)
    }
    for &(old, new) in changes {
        c = update_u16(c, old, new);
    }
    if udp && c == 0 {
        c = 0xffff;
    }
    set_u16(b, at, c);
}

/// Offsets of the port (for `side`) and checksum in a transport header,
/// and whether a zero checksum means "none".
fn l4_layout(proto: u8, side: Side, l4: &[u8]) -> Option<(Option<usize>, Option<usize>, bool)> {
    let port_at = match side {
        Side::Src => 0,
        Side::Dst => 2,
    };
    match proto {
        protocol::TCP => Some((Some(port_at), Some(16), false)),
        protocol::UDP => Some((Some(port_at), Some(6), true)),
        protocol::ICMP => match l4.first() {
            // Echo: the identifier plays the port; no pseudo-header.
            Some(&(msg_type::ECHO_REQUEST | msg_type::ECHO_REPLY)) => Some((Some(4), None, false)),
            _ => Some((None, None, false)),
        },
        _ => None,
    }
}

/// Rewrite `side`'s address (and, with `port`, its TCP/UDP port or ICMP
/// echo identifier) of the IPv4 packet at the start of `ip`, updating the
/// IPv4 header checksum and the TCP/UDP checksum (pseudo-header and port)
/// or ICMP checksum (identifier) incrementally. A non-first fragment gets
/// only the address. Errors (nothing written): not a valid IPv4 packet,
/// or a first fragment / packet too short for its transport header.
pub fn rewrite_ipv4(ip: &mut [u8], side: Side, addr: Ipv4Addr, port: Option<u16>) -> Result<()> {
    let p = Ipv4Packet::new_checked(&*ip)?;
    let (hl, total) = (p.header_len(), usize::from(p.total_len()));
    let proto = p.protocol();
    let first = p.frag_offset() == 0;
    let old_addr = match side {
        Side::Src => p.src_addr(),
        Side::Dst => p.dst_addr(),
    };
    let l4_min = match proto {
        protocol::TCP => 20,
        protocol::UDP | protocol::ICMP => 8,
        _ => 0,
    };
    if first && total - hl < l4_min {
        return Err(Error::Truncated);
    }
    let (hdr, rest) = ip.split_at_mut(hl);
    let l4 = rest.get_mut(..total - hl).ok_or(Error::Truncated)?;
    let at = if side == Side::Src { 12 } else { 16 };
    let words = patch_addr(hdr, at, addr).ok_or(Error::Truncated)?;
    fix_checksum(hdr, 10, &words, false);
    if !first {
        return Ok(());
    }
    let Some((port_at, ck_at, udp)) = l4_layout(proto, side, l4) else {
        return Ok(());
    };
    let mut changes: heapless::Vec<(u16, u16), 3> = heapless::Vec::new();
    if ck_at.is_some() && old_addr != addr {
        let _ = changes.extend_from_slice(&words);
    }
    if let (Some(pa), Some(new)) = (port_at, port) {
        let w = patch16(l4, pa, new).ok_or(Error::Truncated)?;
        let _ = changes.push(w);
    }
    let ck_at = ck_at.or(if proto == protocol::ICMP {
        Some(2)
    } else {
        None
    });
    if let Some(c) = ck_at {
        fix_checksum(l4, c, &changes, udp);
    }
    Ok(())
}

/// New values for one end of a packet's tuple: the address and, for a
/// protocol with ports, the TCP/UDP port or ICMP echo identifier.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct End {
    pub addr: Ipv4Addr,
    pub port: Option<u16>,
}

/// A running RFC 1624 update of one checksum: every changed word is added
/// (`~m + m'`), and the sum is folded once at the end. Ones' complement
/// addition is associative, so this gives the very bits that one
/// `update_u16` per word gives.
struct Delta {
    acc: u64,
}

impl Delta {
    const fn new() -> Delta {
        Delta { acc: 0 }
    }
    #[inline(always)]
    fn add(&mut self, old: u16, new: u16) {
        self.acc += u64::from(!old) + u64::from(new);
    }
    /// Apply to the checksum at `at` in `b` (as `fix_checksum`). With no
    /// words added it rewrites the same value (`!fold(!c) == c`).
    #[inline(always)]
    fn apply(&self, b: &mut [u8], at: usize, udp: bool) {
        let c = get_u16(b, at);
        if udp && c == 0 {
            return;
        }
        let mut c = !super::checksum::fold(u64::from(!c) + self.acc);
        if udp && c == 0 {
            c = 0xffff;
        }
        set_u16(b, at, c);
    }
}

/// The forwarding fast path: what [`rewrite_ipv4`] does for `src`, then for
/// `dst` (each only when given), then, with `ttl`,
/// [`Ipv4Packet::decrement_ttl`] — in one pass that validates the packet
/// once and updates each checksum once for all its changed words. The
/// bytes written are the same as those calls' (a unit test compares them).
/// Errors (nothing written): as [`rewrite_ipv4`].
pub fn rewrite_ipv4_ends(
    ip: &mut [u8],
    src: Option<End>,
    dst: Option<End>,
    ttl: bool,
) -> Result<()> {
    if rewrite_tcp_udp(ip, src, dst, ttl) {
        return Ok(());
    }
    rewrite_ipv4_ends_general(ip, src, dst, ttl)
}

/// [`rewrite_ipv4_ends`] for every packet the fast path leaves (out of
/// line: the fast path's caller saves no registers for it).
#[inline(never)]
fn rewrite_ipv4_ends_general(
    ip: &mut [u8],
    src: Option<End>,
    dst: Option<End>,
    ttl: bool,
) -> Result<()> {
    // Ipv4Packet::check_len, on the bytes.
    let len = ip.len();
    let Some(&vihl) = ip.first() else {
        return Err(Error::Truncated);
    };
    let hl = usize::from(vihl & 0x0f) * 4;
    if len < super::ipv4::HEADER_LEN {
        return Err(Error::Truncated);
    }
    if vihl >> 4 != 4 || hl < super::ipv4::HEADER_LEN {
        return Err(Error::Malformed);
    }
    let total = usize::from(get_u16(ip, 2));
    if hl > len || total > len {
        return Err(Error::Truncated);
    }
    if total < hl {
        return Err(Error::Malformed);
    }
    let (hdr, rest) = ip.split_at_mut(hl);
    let Some(h) = hdr
        .get_mut(..super::ipv4::HEADER_LEN)
        .and_then(|h| <&mut [u8; super::ipv4::HEADER_LEN]>::try_from(h).ok())
    else {
        return Err(Error::Truncated);
    };
    let l4 = rest.get_mut(..total - hl).ok_or(Error::Truncated)?;
    let proto = h[9];
    let first = u16::from_be_bytes([h[6], h[7]]) & 0x1fff == 0;
    let l4 = if first { Some(l4) } else { None };
    // The transport fields a rewrite touches: port offsets (src, dst),
    // checksum offset, whether the checksum covers the addresses, UDP's
    // zero rule, and the length below which the packet is refused.
    let lay = match (proto, &l4) {
        (_, None) => None,
        (protocol::TCP, _) => Some(L4Layout::ports(16, false, 20)),
        (protocol::UDP, _) => Some(L4Layout::ports(6, true, 8)),
        (protocol::ICMP, Some(b)) => Some(match b.first() {
            Some(&(msg_type::ECHO_REQUEST | msg_type::ECHO_REPLY)) => L4Layout {
                port: [Some(4), Some(4)],
                ck: 2,
                pseudo: false,
                udp: false,
                min: 8,
            },
            _ => L4Layout {
                port: [None, None],
                ck: 2,
                pseudo: false,
                udp: false,
                min: 8,
            },
        }),
        _ => None,
    };
    let (Some(l4), Some(lay)) = (l4, lay) else {
        // Addresses (and TTL) only.
        let mut ipd = Delta::new();
        for (end, at) in [(src, 12), (dst, 16)] {
            if let Some(e) = end {
                patch_addr_in(h, at, e.addr, &mut ipd, None);
            }
        }
        finish_ip(h, ttl, &mut ipd);
        return Ok(());
    };
    if (src.is_some() || dst.is_some()) && l4.len() < lay.min {
        return Err(Error::Truncated);
    }
    let mut ipd = Delta::new();
    let mut l4d = Delta::new();
    let l4_addr = if lay.pseudo { Some(&mut l4d) } else { None };
    if let Some(e) = src {
        patch_addr_in(h, 12, e.addr, &mut ipd, l4_addr);
        if let (Some(pa), Some(p)) = (lay.port[0], e.port) {
            l4d.add(get_u16(l4, pa), p);
            set_u16(l4, pa, p);
        }
    }
    if let Some(e) = dst {
        let l4_addr = if lay.pseudo { Some(&mut l4d) } else { None };
        patch_addr_in(h, 16, e.addr, &mut ipd, l4_addr);
        if let (Some(pa), Some(p)) = (lay.port[1], e.port) {
            l4d.add(get_u16(l4, pa), p);
            set_u16(l4, pa, p);
        }
    }
    finish_ip(h, ttl, &mut ipd);
    l4d.apply(l4, lay.ck, lay.udp);
    Ok(())
}

/// The common case of [`rewrite_ipv4_ends`]: a TCP or UDP packet (or
/// first fragment) with a plain 20-byte header that holds its whole
/// transport header. Writes what the general path writes and returns true;
/// anything else (options, later fragments, other protocols, anything short
/// or malformed) returns false with nothing written, for the general path.
///
/// Straight-line and in native byte order: the ones'-complement sum is
/// independent of byte order (RFC 1071 §2(B)), so every word is summed as
/// it lies in memory and the checksums are stored the same way; addresses
/// are summed as 32-bit words (`(hi << 16) + lo ≡ hi + lo` mod 0xffff, and
/// zero exactly when both halves are). Same folded checksums, bit for bit,
/// as the word-by-word updates (`rewrite_ends_matches_one_at_a_time`).
#[inline(always)]
fn rewrite_tcp_udp(ip: &mut [u8], src: Option<End>, dst: Option<End>, ttl: bool) -> bool {
    const HL: usize = super::ipv4::HEADER_LEN;
    let len = ip.len();
    let Some((h, rest)) = ip.split_first_chunk_mut::<HL>() else {
        return false;
    };
    let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
    // Version 4, IHL 5, not a later fragment, whole packet present.
    if h[0] != 0x45 || h[6] & 0x1f != 0 || h[7] != 0 || total > len || total < HL {
        return false;
    }
    let (ck, udp, min) = match h[9] {
        protocol::TCP => (16, false, 20),
        protocol::UDP => (6, true, 8),
        _ => return false,
    };
    if total - HL < min {
        return false;
    }
    let Some((ports, l4)) = rest.split_first_chunk_mut::<4>() else {
        return false;
    };
    let ne16 = |b: [u8; 2]| u64::from(u16::from_ne_bytes(b));
    let mut ipd: u64 = 0;
    let mut l4d: u64 = 0;
    let (ip_src, ip_dst) = h.split_at_mut(16);
    let (port_src, port_dst) = ports.split_at_mut(2);
    patch_end(ip_src.get_mut(12..), port_src, src, &mut ipd, &mut l4d);
    patch_end(Some(ip_dst), port_dst, dst, &mut ipd, &mut l4d);
    if ttl && h[8] != 0 {
        let (t, p) = (h[8], h[9]);
        ipd += (0xffff ^ ne16([t, p])) + ne16([t - 1, p]);
        h[8] = t - 1;
    }
    let c = 0xffff ^ ne16([h[10], h[11]]);
    [h[10], h[11]] = (!super::checksum::fold(c + ipd)).to_ne_bytes();
    // The transport checksum at `ck` (counted from the ports).
    let Some(b) = l4.get_mut(ck - 4..ck - 2) else {
        return true;
    };
    let c = u16::from_ne_bytes([b[0], b[1]]);
    if udp && c == 0 {
        return true; // no checksum (RFC 768)
    }
    let mut c = !super::checksum::fold(u64::from(!c) + l4d);
    if udp && c == 0 {
        c = 0xffff;
    }
    b.copy_from_slice(&c.to_ne_bytes());
    true
}

/// `rewrite_tcp_udp`'s one end: the address at `addr` (4 bytes) and,
/// when `e` has one, the port at `port` (2 bytes) get `e`'s values; their
/// one's-complement differences (native byte order) go to `ipd` and `l4d`
/// (the address only when it changed, as `rewrite_ipv4`).
#[inline(always)]
fn patch_end(
    addr: Option<&mut [u8]>,
    port: &mut [u8],
    e: Option<End>,
    ipd: &mut u64,
    l4d: &mut u64,
) {
    let Some(e) = e else {
        return;
    };
    let ne16 = |b: [u8; 2]| u64::from(u16::from_ne_bytes(b));
    let ne32 = |b: [u8; 4]| u64::from(u32::from_ne_bytes(b));
    if let Some(a) = addr.and_then(|a| a.first_chunk_mut::<4>()) {
        let (old, new) = (*a, e.addr.octets());
        *a = new;
        let sum = (0xffff_ffff ^ ne32(old)) + ne32(new);
        *ipd += sum;
        if old != new {
            *l4d += sum;
        }
    }
    if let (Some(p), Some(b)) = (e.port, port.first_chunk_mut::<2>()) {
        let p = p.to_be_bytes();
        *l4d += (0xffff ^ ne16(*b)) + ne16(p);
        *b = p;
    }
}

#[derive(Copy, Clone)]
struct L4Layout {
    port: [Option<usize>; 2],
    ck: usize,
    pseudo: bool,
    udp: bool,
    min: usize,
}

impl L4Layout {
    const fn ports(ck: usize, udp: bool, min: usize) -> L4Layout {
        L4Layout {
            port: [Some(0), Some(2)],
            ck,
            pseudo: true,
            udp,
            min,
        }
    }
}

/// Write `addr` at `at` (12 or 16) of the header, recording the two words
/// for the header checksum and, when given, a pseudo-header checksum
/// (only if the address changed, as `rewrite_ipv4`).
#[inline(always)]
fn patch_addr_in(
    h: &mut [u8; super::ipv4::HEADER_LEN],
    at: usize,
    addr: Ipv4Addr,
    ipd: &mut Delta,
    l4d: Option<&mut Delta>,
) {
    let Some(w) = h
        .get_mut(at..at + 4)
        .and_then(|b| <&mut [u8; 4]>::try_from(b).ok())
    else {
        return;
    };
    let (old, new) = (u32::from_be_bytes(*w), u32::from(addr));
    *w = new.to_be_bytes();
    // Both 16-bit words: ~old + new each (as two `Delta::add`s).
    let word = |x: u32| u64::from(x & 0xffff);
    let sum = word(!old >> 16) + word(!old) + word(new >> 16) + word(new);
    ipd.acc += sum;
    if let Some(d) = l4d
        && old != new
    {
        d.acc += sum;
    }
}

/// The TTL decrement (if asked and not 0) and the header checksum.
#[inline(always)]
fn finish_ip(h: &mut [u8; super::ipv4::HEADER_LEN], ttl: bool, ipd: &mut Delta) {
    if ttl && h[8] != 0 {
        let (t, p) = (h[8], h[9]);
        ipd.add(u16::from_be_bytes([t, p]), u16::from_be_bytes([t - 1, p]));
        h[8] = t - 1;
    }
    let c = u16::from_be_bytes([h[10], h[11]]);
    let c = !super::checksum::fold(u64::from(!c) + ipd.acc);
    [h[10], h[11]] = c.to_be_bytes();
}

/// For an ICMP error (destination unreachable, time exceeded, parameter
/// problem) in the IPv4 packet `ip`: rewrite `side` of the *quoted*
/// packet — address, and with `port` its TCP/UDP port or echo identifier
/// — updating the quoted IPv4 header checksum, the quoted TCP/UDP/ICMP
/// checksum when the quote contains it, and the outer ICMP checksum, all
/// incrementally. The outer header is left alone (use [`rewrite_ipv4`]).
pub fn rewrite_icmp_inner(
    ip: &mut [u8],
    side: Side,
    addr: Ipv4Addr,
    port: Option<u16>,
) -> Result<()> {
    let p = Ipv4Packet::new_checked(&*ip)?;
    if p.protocol() != protocol::ICMP || p.is_fragment() {
        return Err(Error::Unsupported);
    }
    let (hl, total) = (p.header_len(), usize::from(p.total_len()));
    let icmp = ip.get_mut(hl..total).ok_or(Error::Truncated)?;
    match icmp.first() {
        Some(&(msg_type::DST_UNREACHABLE | msg_type::TIME_EXCEEDED | 12)) => {}
        Some(_) => return Err(Error::Unsupported),
        None => return Err(Error::Truncated),
    }
    let (icmp_hdr, inner) = icmp.split_at_mut(8.min(icmp.len()));
    if icmp_hdr.len() < 8 {
        return Err(Error::Truncated);
    }
    let q = Ipv4Packet::new_embedded(&*inner)?;
    let ihl = q.header_len();
    let proto = q.protocol();
    let first = q.frag_offset() == 0;
    let old_addr = match side {
        Side::Src => q.src_addr(),
        Side::Dst => q.dst_addr(),
    };
    let (ihdr, il4) = inner.split_at_mut(ihl);
    // Every 16-bit change inside the ICMP message, for the outer checksum.
    let mut outer: heapless::Vec<(u16, u16), 8> = heapless::Vec::new();
    let at = if side == Side::Src { 12 } else { 16 };
    let words = patch_addr(ihdr, at, addr).ok_or(Error::Truncated)?;
    let _ = outer.extend_from_slice(&words);
    let ick_old = get_u16(ihdr, 10);
    fix_checksum(ihdr, 10, &words, false);
    let _ = outer.push((ick_old, get_u16(ihdr, 10)));
    if first && let Some((port_at, ck_at, udp)) = l4_layout(proto, side, il4) {
        let mut l4changes: heapless::Vec<(u16, u16), 3> = heapless::Vec::new();
        if ck_at.is_some() && old_addr != addr {
            let _ = l4changes.extend_from_slice(&words);
        }
        if let (Some(pa), Some(new)) = (port_at, port)
            && let Some(w) = patch16(il4, pa, new)
        {
            let _ = l4changes.push(w);
            let _ = outer.push(w);
        }
        let ck_at = ck_at.or(if proto == protocol::ICMP {
            Some(2)
        } else {
            None
        });
        if let Some(c) = ck_at
            && il4.get(c..c + 2).is_some()
        {
            let old = get_u16(il4, c);
            fix_checksum(il4, c, &l4changes, udp);
            let _ = outer.push((old, get_u16(il4, c)));
        }
    }
    fix_checksum(icmp_hdr, 2, &outer, false);
    Ok(())
}

/// Recompute every checksum of the IPv4 packet at the start of `ip` from
/// scratch: the header checksum and, for an unfragmented TCP/UDP/ICMP
/// packet, the transport checksum (UDP: a computed 0 is sent as 0xffff).
/// For frames the kernel hands over with an unfinished checksum
/// (AF_PACKET `TP_STATUS_CSUMNOTREADY`: TX checksum offload on veth or a
/// local sender leaves only the pseudo-header sum in the field): finish it
/// before verifying or forwarding. Errors (nothing written): not a valid
/// IPv4 packet, too short for its transport header, or a UDP length field
/// that does not fit.
pub fn fill_checksums(ip: &mut [u8]) -> Result<()> {
    let p = Ipv4Packet::new_checked(&*ip)?;
    let (hl, total) = (p.header_len(), usize::from(p.total_len()));
    let (src, dst, proto, frag) = (p.src_addr(), p.dst_addr(), p.protocol(), p.is_fragment());
    let need = match proto {
        protocol::TCP => 20,
        protocol::UDP | protocol::ICMP => 8,
        _ => 0,
    };
    if !frag && total - hl < need {
        return Err(Error::Truncated);
    }
    let (hdr, rest) = ip.split_at_mut(hl);
    let l4 = rest.get_mut(..total - hl).ok_or(Error::Truncated)?;
    if !frag && proto == protocol::UDP {
        super::udp::UdpPacket::new_checked(&*l4)?;
    }
    Ipv4Packet::new_unchecked(hdr).fill_checksum();
    if frag {
        return Ok(());
    }
    match proto {
        protocol::TCP => super::tcp::TcpPacket::new_unchecked(l4).fill_checksum(src, dst),
        protocol::UDP => super::udp::UdpPacket::new_unchecked(l4).fill_checksum(src, dst),
        protocol::ICMP => super::icmp::IcmpPacket::new_unchecked(l4).fill_checksum(),
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
#[path = "rewrite_tests.rs"]
mod tests;
