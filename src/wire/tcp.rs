//! TCP (RFC 9293) headers over IPv4: a checked view (ports, sequence
//! numbers, flags, window, options, pseudo-header checksum) for the
//! dataplane's conntrack and NAT. No segment reassembly, no state here.
//! Never panics on any buffer.

use super::checksum;
use super::ipv4::protocol;
use super::{Result, check_declared_len, get_u8, get_u16, set_u8, set_u16};
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
    use crate::wire::Error;

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
}
