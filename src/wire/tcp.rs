//! TCP (RFC 9293) headers over IPv4: a checked view (ports, sequence
//! numbers, flags, window, options, pseudo-header checksum) for the
//! dataplane's conntrack and NAT, wrapping sequence arithmetic
//! ([`SeqNumber`]) and a checked options iterator ([`TcpOptions`]). No
//! segment reassembly, no state here. Never panics on any buffer.

use super::checksum;
use super::ipv4::protocol;
use super::{Error, Result, check_declared_len, get_u8, get_u16, set_u8, set_u16};
use core::cmp::Ordering;
use core::ops::{Add, Sub};
use std::net::Ipv4Addr;

/// Length of a header without options.
pub const HEADER_LEN: usize = 20;

/// Flag bits (byte 13).
pub mod flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const SEQ: usize = 4;
    pub const ACK: usize = 8;
    pub const DATA_OFF: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WINDOW: usize = 14;
    pub const CHECKSUM: usize = 16;
    pub const URGENT: usize = 18;
}

/// The largest window-scale shift RFC 7323 §2.3 allows; larger values
/// in a SYN are treated as 14.
pub const MAX_WINDOW_SHIFT: u8 = 14;

/// A TCP sequence (or acknowledgment) number: arithmetic wraps modulo
/// 2^32 and `a < b` means "a comes before b" within half the number space
/// (RFC 9293 §3.4; Linux `before()`/`after()`, smoltcp `TcpSeqNumber`).
/// The order is only meaningful for numbers less than 2^31 apart, so it is
/// a `PartialOrd` without `Ord`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// `self` comes strictly before `other`.
    pub const fn before(self, other: SeqNumber) -> bool {
        (self.0.wrapping_sub(other.0) as i32) < 0
    }
    /// `self` comes strictly after `other`.
    pub const fn after(self, other: SeqNumber) -> bool {
        other.before(self)
    }
}

impl Add<u32> for SeqNumber {
    type Output = SeqNumber;
    fn add(self, n: u32) -> SeqNumber {
        SeqNumber(self.0.wrapping_add(n))
    }
}

impl Sub<u32> for SeqNumber {
    type Output = SeqNumber;
    fn sub(self, n: u32) -> SeqNumber {
        SeqNumber(self.0.wrapping_sub(n))
    }
}

/// The distance from `rhs` forward to `self`, modulo 2^32.
impl Sub<SeqNumber> for SeqNumber {
    type Output = u32;
    fn sub(self, rhs: SeqNumber) -> u32 {
        self.0.wrapping_sub(rhs.0)
    }
}

impl PartialOrd for SeqNumber {
    fn partial_cmp(&self, other: &SeqNumber) -> Option<Ordering> {
        Some((self.0.wrapping_sub(other.0) as i32).cmp(&0))
    }
}

/// Option kinds (IANA "TCP Option Kind Numbers").
pub mod option_kind {
    pub const END: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WINDOW_SCALE: u8 = 3;
    pub const SACK_PERMITTED: u8 = 4;
    pub const TIMESTAMPS: u8 = 8;
}

/// One option of a TCP header.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TcpOption<'a> {
    NoOperation,
    MaxSegmentSize(u16),
    /// The shift as sent (not clamped to [`MAX_WINDOW_SHIFT`]).
    WindowScale(u8),
    SackPermitted,
    Timestamps {
        value: u32,
        echo: u32,
    },
    /// Any other kind; `data` excludes the kind and length bytes.
    Unknown {
        kind: u8,
        data: &'a [u8],
    },
}

/// Iterator over the options area of a TCP header. Stops at End of
/// Option List or the end of the area; a length byte below 2 or past the
/// area, or a known kind with the wrong length, yields one
/// `Err(Malformed)` and ends the iteration. Never panics.
#[derive(Clone, Debug)]
pub struct TcpOptions<'a> {
    rest: &'a [u8],
}

impl<'a> TcpOptions<'a> {
    /// Iterate over `area` (the bytes between the fixed header and the
    /// data offset).
    pub fn new(area: &'a [u8]) -> TcpOptions<'a> {
        TcpOptions { rest: area }
    }

    fn parse(kind: u8, data: &'a [u8]) -> Result<TcpOption<'a>> {
        use option_kind::*;
        Ok(match (kind, data) {
            (MSS, &[a, b]) => TcpOption::MaxSegmentSize(u16::from_be_bytes([a, b])),
            (WINDOW_SCALE, &[shift]) => TcpOption::WindowScale(shift),
            (SACK_PERMITTED, &[]) => TcpOption::SackPermitted,
            (TIMESTAMPS, &[a, b, c, d, e, f, g, h]) => TcpOption::Timestamps {
                value: u32::from_be_bytes([a, b, c, d]),
                echo: u32::from_be_bytes([e, f, g, h]),
            },
            (MSS | WINDOW_SCALE | SACK_PERMITTED | TIMESTAMPS, _) => return Err(Error::Malformed),
            _ => TcpOption::Unknown { kind, data },
        })
    }
}

impl<'a> Iterator for TcpOptions<'a> {
    type Item = Result<TcpOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&kind, after_kind) = self.rest.split_first()?;
        match kind {
            option_kind::END => {
                self.rest = &[];
                None
            }
            option_kind::NOP => {
                self.rest = after_kind;
                Some(Ok(TcpOption::NoOperation))
            }
            _ => {
                // A length below 2 makes the range empty-reversed: `get` is None.
                let len = after_kind.first().map(|&l| usize::from(l));
                let item = match len.and_then(|l| self.rest.get(2..l).map(|d| (l, d))) {
                    Some((len, data)) => {
                        self.rest = self.rest.get(len..).unwrap_or(&[]);
                        Self::parse(kind, data)
                    }
                    _ => Err(Error::Malformed),
                };
                if item.is_err() {
                    self.rest = &[];
                }
                Some(item)
            }
        }
    }
}

packet_view! {
    /// A view of a TCP segment (the whole IPv4 payload).
    pub struct TcpPacket;
    /// Wrap `buffer` and check: 20-byte header present, data offset >= 5
    /// and the header (with options) within the buffer.
    fn new_checked;
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    pub fn check_len(&self) -> Result<()> {
        check_declared_len(self.buffer.as_ref().len(), HEADER_LEN, self.header_len())
    }

    pub fn src_port(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::SRC_PORT)
    }
    pub fn dst_port(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::DST_PORT)
    }
    fn get_u32(&self, at: usize) -> u32 {
        let b = self.buffer.as_ref();
        (u32::from(get_u16(b, at)) << 16) | u32::from(get_u16(b, at + 2))
    }
    pub fn seq_number(&self) -> u32 {
        self.get_u32(field::SEQ)
    }
    pub fn ack_number(&self) -> u32 {
        self.get_u32(field::ACK)
    }
    /// Header length in bytes (data offset × 4).
    pub fn header_len(&self) -> usize {
        usize::from(get_u8(self.buffer.as_ref(), field::DATA_OFF) >> 4) * 4
    }
    /// The flag byte (see [`flags`]).
    pub fn flags(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::FLAGS)
    }
    pub fn fin(&self) -> bool {
        self.flags() & flags::FIN != 0
    }
    pub fn syn(&self) -> bool {
        self.flags() & flags::SYN != 0
    }
    pub fn rst(&self) -> bool {
        self.flags() & flags::RST != 0
    }
    pub fn ack(&self) -> bool {
        self.flags() & flags::ACK != 0
    }
    pub fn window_len(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::WINDOW)
    }
    pub fn checksum(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::CHECKSUM)
    }
    pub fn urgent_at(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::URGENT)
    }
    pub fn options(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(HEADER_LEN..self.header_len())
            .unwrap_or(&[])
    }
    /// The options area parsed one option at a time (see [`TcpOptions`]).
    pub fn options_iter(&self) -> TcpOptions<'_> {
        TcpOptions::new(self.options())
    }
    /// The window-scale shift this segment offers, clamped to
    /// [`MAX_WINDOW_SHIFT`]; `None` without the option or when the options
    /// before it are malformed. Meaningful on SYN segments only.
    pub fn window_scale(&self) -> Option<u8> {
        self.options_iter()
            .map_while(|o| o.ok())
            .find_map(|o| match o {
                TcpOption::WindowScale(s) => Some(s.min(MAX_WINDOW_SHIFT)),
                _ => None,
            })
    }
    pub fn seq(&self) -> SeqNumber {
        SeqNumber(self.seq_number())
    }
    pub fn ack_seq(&self) -> SeqNumber {
        SeqNumber(self.ack_number())
    }
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(self.header_len()..).unwrap_or(&[])
    }
    /// Sequence space the segment occupies: payload + SYN + FIN.
    pub fn segment_len(&self) -> usize {
        self.payload().len() + usize::from(self.syn()) + usize::from(self.fin())
    }
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        checksum::verify_with_pseudo(src, dst, protocol::TCP, self.buffer.as_ref())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    pub fn set_src_port(&mut self, v: u16) {
        set_u16(self.buffer.as_mut(), field::SRC_PORT, v)
    }
    pub fn set_dst_port(&mut self, v: u16) {
        set_u16(self.buffer.as_mut(), field::DST_PORT, v)
    }
    fn set_u32(&mut self, at: usize, v: u32) {
        set_u16(self.buffer.as_mut(), at, (v >> 16) as u16);
        set_u16(self.buffer.as_mut(), at + 2, v as u16);
    }
    pub fn set_seq_number(&mut self, v: u32) {
        self.set_u32(field::SEQ, v)
    }
    pub fn set_ack_number(&mut self, v: u32) {
        self.set_u32(field::ACK, v)
    }
    /// Data offset from a header length in bytes (rounded down to 4).
    pub fn set_header_len(&mut self, len: usize) {
        let off = u8::try_from(len / 4).unwrap_or(15).min(15);
        set_u8(self.buffer.as_mut(), field::DATA_OFF, off << 4)
    }
    pub fn set_flags(&mut self, v: u8) {
        set_u8(self.buffer.as_mut(), field::FLAGS, v)
    }
    pub fn set_window_len(&mut self, v: u16) {
        set_u16(self.buffer.as_mut(), field::WINDOW, v)
    }
    pub fn set_checksum(&mut self, v: u16) {
        set_u16(self.buffer.as_mut(), field::CHECKSUM, v)
    }
    pub fn set_urgent_at(&mut self, v: u16) {
        set_u16(self.buffer.as_mut(), field::URGENT, v)
    }
    /// Compute the checksum over the pseudo-header and the whole buffer.
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let c = checksum::checksum_with_pseudo(src, dst, protocol::TCP, self.buffer.as_ref());
        self.set_checksum(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
    const DST: Ipv4Addr = Ipv4Addr::new(93, 184, 216, 34);

    // A SYN with MSS option written by hand.
    fn syn() -> Vec<u8> {
        let mut b = vec![
            0xc3, 0x50, 0x00, 0x50, // 50000 -> 80
            0x12, 0x34, 0x56, 0x78, // seq
            0x00, 0x00, 0x00, 0x00, // ack
            0x60, 0x02, 0xfa, 0xf0, // offset 6, SYN, window 64240
            0x00, 0x00, 0x00, 0x00, // checksum, urgent
            0x02, 0x04, 0x05, 0xb4, // MSS 1460
        ];
        let mut ph = Vec::from(SRC.octets());
        ph.extend_from_slice(&DST.octets());
        ph.extend_from_slice(&[0, 6, 0, b.len() as u8]);
        ph.extend_from_slice(&b);
        let c = checksum::checksum(&ph);
        b[16..18].copy_from_slice(&c.to_be_bytes());
        b
    }

    #[test]
    fn fields() {
        let b = syn();
        let p = TcpPacket::new_checked(&b[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port()), (50000, 80));
        assert_eq!(p.seq_number(), 0x1234_5678);
        assert!(p.syn() && !p.ack() && !p.fin() && !p.rst());
        assert_eq!(p.window_len(), 64240);
        assert_eq!(p.options(), &[2, 4, 5, 0xb4]);
        assert!(p.payload().is_empty());
        assert_eq!(p.segment_len(), 1);
        assert!(p.verify_checksum(SRC, DST));
        assert!(!p.verify_checksum(SRC, Ipv4Addr::new(93, 184, 216, 35)));
        let mut c = b.clone();
        let mut q = TcpPacket::new_checked(&mut c[..]).unwrap();
        q.set_ack_number(0xdead_beef);
        q.set_flags(flags::SYN | flags::ACK);
        q.fill_checksum(SRC, DST);
        assert_eq!(q.ack_number(), 0xdead_beef);
        assert!(q.verify_checksum(SRC, DST));
    }

    #[test]
    fn length_checks() {
        let b = syn();
        for n in 0..24 {
            assert!(TcpPacket::new_checked(&b[..n]).is_err(), "{n}");
        }
        let mut c = b.clone();
        c[12] = 0x40;
        assert_eq!(
            TcpPacket::new_checked(&c[..]).unwrap_err(),
            Error::Malformed
        );
        c[12] = 0xf0;
        assert_eq!(
            TcpPacket::new_checked(&c[..]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn seq_numbers_wrap() {
        let a = SeqNumber(0xffff_fff0);
        let b = a + 0x20;
        assert_eq!(b, SeqNumber(0x10));
        assert!(a < b && a.before(b) && b.after(a) && !b.before(a));
        assert_eq!(b - a, 0x20);
        assert_eq!(b - 0x20, a);
        assert!(!a.before(a) && !a.after(a) && a <= a);
        // Half the space apart: the order is ambiguous, as in Linux.
        let far = a + 0x8000_0000;
        assert!(far.before(a) && a.before(far));
        assert!(SeqNumber(5) > SeqNumber(4) && SeqNumber(1) > SeqNumber(u32::MAX));
    }

    #[test]
    fn options_iterate_and_stop_at_end() {
        let area = [
            1, 2, 4, 0x05, 0xb4, // NOP, MSS 1460
            4, 2, // SACK permitted
            8, 10, 0, 0, 0, 1, 0, 0, 0, 2, // timestamps 1, 2
            3, 3, 7, // window scale 7
            30, 3, 9, // unknown kind 30
            0, 3, 3, 9, // end of list, then ignored bytes
        ];
        let got: Vec<_> = TcpOptions::new(&area).collect();
        assert_eq!(
            got,
            vec![
                Ok(TcpOption::NoOperation),
                Ok(TcpOption::MaxSegmentSize(1460)),
                Ok(TcpOption::SackPermitted),
                Ok(TcpOption::Timestamps { value: 1, echo: 2 }),
                Ok(TcpOption::WindowScale(7)),
                Ok(TcpOption::Unknown {
                    kind: 30,
                    data: &[9]
                }),
            ]
        );
    }

    #[test]
    fn bad_options_yield_one_error_and_never_panic() {
        for bad in [
            &[3u8][..],       // kind without length
            &[3, 1, 7],       // length below 2
            &[3, 0],          // length 0
            &[3, 4, 7],       // length past the area
            &[3, 4, 7, 0],    // window scale with the wrong length
            &[2, 3, 5],       // MSS with the wrong length
            &[1, 8, 2, 0, 0], // timestamps cut short
        ] {
            let got: Vec<_> = TcpOptions::new(bad).collect();
            assert_eq!(got.last(), Some(&Err(Error::Malformed)), "{bad:?}");
            assert_eq!(got.iter().filter(|r| r.is_err()).count(), 1, "{bad:?}");
        }
        // Every byte string of up to 3 bytes: no panic, terminates.
        for n in 0..=3usize {
            for v in 0..(1u32 << (8 * n)) {
                let b = v.to_le_bytes();
                assert!(TcpOptions::new(&b[..n]).count() <= 3);
            }
        }
    }

    #[test]
    fn window_scale_from_a_syn() {
        let mut b = syn();
        b[12] = 0x80; // data offset 8: 12 bytes of options
        b.extend_from_slice(&[1, 3, 3, 9, 1, 1, 1, 0]); // NOP, wscale 9, padding
        let p = TcpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.window_scale(), Some(9));
        assert_eq!(p.seq(), SeqNumber(0x1234_5678));
        b[27] = 15; // above the RFC 7323 maximum: clamped
        assert_eq!(
            TcpPacket::new_checked(&b[..]).unwrap().window_scale(),
            Some(14)
        );
        b[26] = 4; // wrong length: malformed, no scale
        assert_eq!(TcpPacket::new_checked(&b[..]).unwrap().window_scale(), None);
        assert_eq!(
            TcpPacket::new_checked(&syn()[..]).unwrap().window_scale(),
            None
        );
    }
}
