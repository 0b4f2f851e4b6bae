//! IPv4 headers (RFC 791): a checked view (IHL with options, total length
//! checked against the buffer, flags, fragment offset, header checksum) and
//! a `Repr` for option-less headers we emit. Never panics on any buffer.

use super::checksum;
use super::{Error, Result, get_ipv4, get_u8, get_u16, set_ipv4, set_u8, set_u16};
use std::net::Ipv4Addr;

/// IP protocol numbers this crate uses.
pub mod protocol {
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    /// IPsec Authentication Header (VRRPv2 `auth_type ah`).
    pub const AH: u8 = 51;
    pub const VRRP: u8 = 112;
}

/// Length of a header without options.
pub const HEADER_LEN: usize = 20;

mod field {
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const LENGTH: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLG_OFF: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: usize = 10;
    pub const SRC: usize = 12;
    pub const DST: usize = 16;
}

packet_view! {
    /// A view of an IPv4 packet.
    pub struct Ipv4Packet;
    /// Wrap `buffer` and check: version 4, IHL >= 5, header and total
    /// length within the buffer, total length >= header length. The buffer
    /// may be longer than the total length (Ethernet padding).
    fn new_checked;
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    pub fn check_len(&self) -> Result<()> {
        // The common header (version 4, IHL 5) first: the same checks, in
        // the same order, on fixed offsets.
        let b = self.buffer.as_ref();
        if let Some(h) = b.first_chunk::<HEADER_LEN>()
            && h[0] == 0x45
        {
            let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
            if total < HEADER_LEN {
                return Err(Error::Malformed);
            }
            if total > b.len() {
                return Err(Error::Truncated);
            }
            return Ok(());
        }
        self.check_header()?;
        let len = self.buffer.as_ref().len();
        let total = usize::from(self.total_len());
        if total < self.header_len() {
            return Err(Error::Malformed);
        }
        if total > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    /// Checks only the header (version, IHL, header within the buffer),
    /// not the total length: for the truncated copy inside an ICMP error.
    pub fn new_embedded(buffer: T) -> Result<Ipv4Packet<T>> {
        let p = Ipv4Packet::new_unchecked(buffer);
        p.check_header()?;
        Ok(p)
    }

    fn check_header(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if self.version() != 4 || self.header_len() < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if self.header_len() > len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    pub fn version(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::VER_IHL) >> 4
    }
    /// Header length in bytes (IHL × 4).
    pub fn header_len(&self) -> usize {
        usize::from(get_u8(self.buffer.as_ref(), field::VER_IHL) & 0x0f) * 4
    }
    /// The whole TOS byte (DSCP << 2 | ECN).
    pub fn tos(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::TOS)
    }
    pub fn dscp(&self) -> u8 {
        self.tos() >> 2
    }
    pub fn ecn(&self) -> u8 {
        self.tos() & 0x03
    }
    pub fn total_len(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::LENGTH)
    }
    pub fn ident(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::IDENT)
    }
    /// The reserved (evil) bit.
    pub fn reserved_flag(&self) -> bool {
        get_u16(self.buffer.as_ref(), field::FLG_OFF) & 0x8000 != 0
    }
    pub fn dont_frag(&self) -> bool {
        get_u16(self.buffer.as_ref(), field::FLG_OFF) & 0x4000 != 0
    }
    pub fn more_frags(&self) -> bool {
        get_u16(self.buffer.as_ref(), field::FLG_OFF) & 0x2000 != 0
    }
    /// Fragment offset in 8-byte units (13 bits).
    pub fn frag_offset(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::FLG_OFF) & 0x1fff
    }
    /// True for any fragment (MF set or non-zero offset).
    pub fn is_fragment(&self) -> bool {
        self.more_frags() || self.frag_offset() != 0
    }
    pub fn ttl(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::TTL)
    }
    pub fn protocol(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::PROTOCOL)
    }
    pub fn checksum(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::CHECKSUM)
    }
    pub fn src_addr(&self) -> Ipv4Addr {
        get_ipv4(self.buffer.as_ref(), field::SRC)
    }
    pub fn dst_addr(&self) -> Ipv4Addr {
        get_ipv4(self.buffer.as_ref(), field::DST)
    }
    /// The header bytes (including options).
    pub fn header(&self) -> &[u8] {
        self.buffer.as_ref().get(..self.header_len()).unwrap_or(&[])
    }
    /// Options (between the fixed header and the payload).
    pub fn options(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(HEADER_LEN..self.header_len())
            .unwrap_or(&[])
    }
    /// True when the header checksum verifies.
    pub fn verify_checksum(&self) -> bool {
        if let Some(w) = self.buffer.as_ref().first_chunk::<HEADER_LEN>()
            && w[0] & 0x0f == 5
        {
            // The common header without options: five 32-bit words, in
            // native byte order (the ones'-complement sum of byte-swapped
            // words is the byte-swapped sum, RFC 1071, and 0xffff is its
            // own swap).
            let word =
                |i: usize| u64::from(u32::from_ne_bytes([w[i], w[i + 1], w[i + 2], w[i + 3]]));
            let acc = word(0) + word(4) + word(8) + word(12) + word(16);
            return checksum::fold(acc) == 0xffff;
        }
        let h = self.header();
        !h.is_empty() && checksum::verify(h)
    }
    /// The payload up to the total length (without Ethernet padding). For
    /// an embedded (truncated) header: whatever is present.
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = usize::from(self.total_len()).min(b.len());
        b.get(self.header_len()..end).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    /// Version 4 and header length `len` bytes (rounded down to 4).
    pub fn set_version_and_header_len(&mut self, len: usize) {
        let ihl = u8::try_from(len / 4).unwrap_or(15).min(15);
        set_u8(self.buffer.as_mut(), field::VER_IHL, 0x40 | ihl)
    }
    pub fn set_tos(&mut self, v: u8) {
        set_u8(self.buffer.as_mut(), field::TOS, v)
    }
    pub fn set_total_len(&mut self, v: u16) {
        set_u16(self.buffer.as_mut(), field::LENGTH, v)
    }
    pub fn set_ident(&mut self, v: u16) {
        set_u16(self.buffer.as_mut(), field::IDENT, v)
    }
    /// Write flags and offset at once: DF, MF, offset in 8-byte units.
    pub fn set_flags_and_offset(&mut self, dont_frag: bool, more_frags: bool, offset: u16) {
        let v = (u16::from(dont_frag) << 14) | (u16::from(more_frags) << 13) | (offset & 0x1fff);
        set_u16(self.buffer.as_mut(), field::FLG_OFF, v)
    }
    pub fn set_dont_frag(&mut self, df: bool) {
        let v = get_u16(self.buffer.as_ref(), field::FLG_OFF);
        let v = if df { v | 0x4000 } else { v & !0x4000 };
        set_u16(self.buffer.as_mut(), field::FLG_OFF, v)
    }
    pub fn set_ttl(&mut self, v: u8) {
        set_u8(self.buffer.as_mut(), field::TTL, v)
    }
    pub fn set_protocol(&mut self, v: u8) {
        set_u8(self.buffer.as_mut(), field::PROTOCOL, v)
    }
    pub fn set_checksum(&mut self, v: u16) {
        set_u16(self.buffer.as_mut(), field::CHECKSUM, v)
    }
    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        set_ipv4(self.buffer.as_mut(), field::SRC, a)
    }
    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        set_ipv4(self.buffer.as_mut(), field::DST, a)
    }
    /// Compute and store the header checksum.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.header());
        self.set_checksum(c);
    }
    /// Decrement TTL by one with an RFC 1624 checksum update; returns the
    /// new TTL (0 stays 0 and the header is unchanged).
    pub fn decrement_ttl(&mut self) -> u8 {
        let ttl = self.ttl();
        if ttl == 0 {
            return 0;
        }
        let proto = self.protocol();
        let old = u16::from_be_bytes([ttl, proto]);
        let new = u16::from_be_bytes([ttl - 1, proto]);
        let c = checksum::update_u16(self.checksum(), old, new);
        self.set_ttl(ttl - 1);
        self.set_checksum(c);
        ttl - 1
    }
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        let end = usize::from(self.total_len());
        let b = self.buffer.as_mut();
        let end = end.min(b.len());
        b.get_mut(start..end).unwrap_or(&mut [])
    }
}

/// A parsed IPv4 header (options are not represented; `emit` writes none).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Ipv4Repr {
    pub src_addr: Ipv4Addr,
    pub dst_addr: Ipv4Addr,
    pub protocol: u8,
    /// Bytes after the header (total length − header length).
    pub payload_len: usize,
    pub ttl: u8,
    /// The TOS byte (DSCP << 2 | ECN).
    pub tos: u8,
    pub ident: u16,
    pub dont_frag: bool,
    pub more_frags: bool,
    /// In 8-byte units.
    pub frag_offset: u16,
}

impl Ipv4Repr {
    /// A plain header: TTL 64, TOS 0, id 0, DF clear, not a fragment.
    pub fn new(
        src_addr: Ipv4Addr,
        dst_addr: Ipv4Addr,
        protocol: u8,
        payload_len: usize,
    ) -> Ipv4Repr {
        Ipv4Repr {
            src_addr,
            dst_addr,
            protocol,
            payload_len,
            ttl: 64,
            tos: 0,
            ident: 0,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
        }
    }

    /// Parse a checked packet; a bad header checksum is `Error::Checksum`.
    pub fn parse<T: AsRef<[u8]>>(p: &Ipv4Packet<T>) -> Result<Ipv4Repr> {
        p.check_len()?;
        if !p.verify_checksum() {
            return Err(Error::Checksum);
        }
        Ok(Self::parse_unverified(p))
    }

    /// Read the fields without checking lengths or the checksum (for the
    /// embedded header of an ICMP error; use with `new_embedded`).
    pub fn parse_unverified<T: AsRef<[u8]>>(p: &Ipv4Packet<T>) -> Ipv4Repr {
        Ipv4Repr {
            src_addr: p.src_addr(),
            dst_addr: p.dst_addr(),
            protocol: p.protocol(),
            payload_len: usize::from(p.total_len()).saturating_sub(p.header_len()),
            ttl: p.ttl(),
            tos: p.tos(),
            ident: p.ident(),
            dont_frag: p.dont_frag(),
            more_frags: p.more_frags(),
            frag_offset: p.frag_offset(),
        }
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Total length field value (saturating at 65535).
    pub fn total_len(&self) -> u16 {
        u16::try_from(HEADER_LEN.saturating_add(self.payload_len)).unwrap_or(u16::MAX)
    }

    /// Write a 20-byte header with a valid checksum (no options).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut Ipv4Packet<T>) {
        p.set_version_and_header_len(HEADER_LEN);
        p.set_tos(self.tos);
        p.set_total_len(self.total_len());
        p.set_ident(self.ident);
        p.set_flags_and_offset(self.dont_frag, self.more_frags, self.frag_offset);
        p.set_ttl(self.ttl);
        p.set_protocol(self.protocol);
        p.set_src_addr(self.src_addr);
        p.set_dst_addr(self.dst_addr);
        p.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 20-byte fast path agrees with the plain RFC 1071 sum, on
    /// random headers with their checksum right, off by one bit, or set to
    /// either zero.
    #[test]
    fn verify_checksum_matches_plain_sum() {
        let mut rng = crate::rng::XorShift64Star::new(0x1234_5678_9abc_def1);
        for i in 0..20_000 {
            let mut h: Vec<u8> = (0..20).map(|_| rng.next_u64() as u8).collect();
            h[0] = 0x45;
            h[10..12].copy_from_slice(&[0, 0]);
            let c = checksum::checksum(&h);
            h[10..12].copy_from_slice(&c.to_be_bytes());
            match i % 4 {
                0 => {}
                1 => h[1 + i % 19] ^= 1 << (i % 8),
                2 => h[10..12].copy_from_slice(&[0, 0]),
                _ => h[10..12].copy_from_slice(&[0xff, 0xff]),
            }
            let p = Ipv4Packet::new_unchecked(&h[..]);
            assert_eq!(p.verify_checksum(), checksum::verify(&h), "case {i}");
        }
    }

    // 192.168.0.1 -> 192.168.0.199 UDP, checksum 0xb861, 0x73 = 115 bytes total.
    fn sample() -> Vec<u8> {
        let mut v = vec![
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        v.resize(115, 0xab);
        v
    }

    #[test]
    fn parse_fields() {
        let b = sample();
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert!(p.verify_checksum());
        let r = Ipv4Repr::parse(&p).unwrap();
        assert_eq!(r.src_addr, Ipv4Addr::new(192, 168, 0, 1));
        assert_eq!(r.dst_addr, Ipv4Addr::new(192, 168, 0, 199));
        assert_eq!(r.protocol, protocol::UDP);
        assert_eq!(r.payload_len, 95);
        assert_eq!(r.ttl, 64);
        assert!(r.dont_frag && !r.more_frags && r.frag_offset == 0);
        assert_eq!(p.payload().len(), 95);
        // Emit reproduces the same header bytes.
        let mut out = [0u8; 115];
        r.emit(&mut Ipv4Packet::new_unchecked(&mut out[..]));
        assert_eq!(out[..20], b[..20]);
    }

    #[test]
    fn padding_is_not_payload() {
        let mut b = sample();
        b.extend_from_slice(&[0; 10]);
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.payload().len(), 95);
    }

    #[test]
    fn length_checks() {
        let b = sample();
        for n in 0..20 {
            assert_eq!(
                Ipv4Packet::new_checked(&b[..n]).unwrap_err(),
                Error::Truncated
            );
        }
        assert_eq!(
            Ipv4Packet::new_checked(&b[..114]).unwrap_err(),
            Error::Truncated
        );
        let mut c = b.clone();
        c[0] = 0x44; // IHL 4
        assert_eq!(
            Ipv4Packet::new_checked(&c[..]).unwrap_err(),
            Error::Malformed
        );
        c[0] = 0x65; // version 6
        assert_eq!(
            Ipv4Packet::new_checked(&c[..]).unwrap_err(),
            Error::Malformed
        );
        let mut c = b.clone();
        c[2] = 0;
        c[3] = 19; // total < header
        assert_eq!(
            Ipv4Packet::new_checked(&c[..]).unwrap_err(),
            Error::Malformed
        );
        let mut c = b.clone();
        c[0] = 0x4f; // 60-byte header inside 115 bytes: fine
        let p = Ipv4Packet::new_checked(&c[..]).unwrap();
        assert_eq!(p.options().len(), 40);
        assert_eq!(p.payload().len(), 55);
        assert_eq!(
            Ipv4Packet::new_checked(&c[..40]).unwrap_err(),
            Error::Truncated
        );
        // Bad checksum.
        let mut c = b.clone();
        c[8] = 1;
        let p = Ipv4Packet::new_checked(&c[..]).unwrap();
        assert_eq!(Ipv4Repr::parse(&p).unwrap_err(), Error::Checksum);
    }

    #[test]
    fn flags_and_ttl() {
        let mut b = sample();
        let mut p = Ipv4Packet::new_checked(&mut b[..]).unwrap();
        p.set_flags_and_offset(false, true, 185);
        p.fill_checksum();
        assert!(!p.dont_frag() && p.more_frags() && p.frag_offset() == 185 && p.is_fragment());
        assert!(p.verify_checksum());
        p.set_dont_frag(true);
        assert!(p.dont_frag() && p.more_frags());
        p.fill_checksum();
        for want in (0..64).rev() {
            assert_eq!(p.decrement_ttl(), want);
            assert!(p.verify_checksum());
        }
        assert_eq!(p.decrement_ttl(), 0);
        assert!(p.verify_checksum());
    }

    #[test]
    fn embedded_header_without_full_payload() {
        let b = sample();
        assert!(Ipv4Packet::new_checked(&b[..28]).is_err());
        let p = Ipv4Packet::new_embedded(&b[..28]).unwrap();
        let r = Ipv4Repr::parse_unverified(&p);
        assert_eq!(r.payload_len, 95);
        assert_eq!(p.payload().len(), 8);
    }
}
