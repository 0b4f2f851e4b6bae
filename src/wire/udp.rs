//! UDP (RFC 768) over IPv4: a checked view with the pseudo-header
//! checksum, and a small `Repr`. For the dataplane (NAT, conntrack) and the
//! sync link. Never panics on any buffer.

use super::checksum;
use super::ipv4::protocol;
use super::{Error, Result, check_declared_len, get_u16, set_u16};
use std::net::Ipv4Addr;

pub const HEADER_LEN: usize = 8;

mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const LENGTH: usize = 4;
    pub const CHECKSUM: usize = 6;
}

packet_view! {
    /// A view of a UDP datagram (the IPv4 payload).
    pub struct UdpPacket;
    /// Wrap `buffer` and check: header present, 8 <= length field <=
    /// buffer length (bytes after the length field are ignored).
    fn new_checked;
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    pub fn check_len(&self) -> Result<()> {
        let declared = usize::from(self.len());
        check_declared_len(self.buffer.as_ref().len(), HEADER_LEN, declared)
    }

    pub fn src_port(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::SRC_PORT)
    }
    pub fn dst_port(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::DST_PORT)
    }
    /// The length field (header + payload).
    pub fn len(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::LENGTH)
    }
    /// True when the length field says there is no payload.
    pub fn is_empty(&self) -> bool {
        usize::from(self.len()) <= HEADER_LEN
    }
    pub fn checksum(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::CHECKSUM)
    }
    /// The datagram as the length field delimits it.
    fn datagram(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        b.get(..usize::from(self.len()).min(b.len())).unwrap_or(&[])
    }
    pub fn payload(&self) -> &[u8] {
        self.datagram().get(HEADER_LEN..).unwrap_or(&[])
    }
    /// True when the checksum verifies or is 0 (not computed, RFC 768).
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        self.checksum() == 0
            || checksum::verify_with_pseudo(src, dst, protocol::UDP, self.datagram())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    pub fn set_src_port(&mut self, v: u16) {
        set_u16(self.buffer.as_mut(), field::SRC_PORT, v)
    }
    pub fn set_dst_port(&mut self, v: u16) {
        set_u16(self.buffer.as_mut(), field::DST_PORT, v)
    }
    pub fn set_len(&mut self, v: u16) {
        set_u16(self.buffer.as_mut(), field::LENGTH, v)
    }
    pub fn set_checksum(&mut self, v: u16) {
        set_u16(self.buffer.as_mut(), field::CHECKSUM, v)
    }
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let l = usize::from(self.len());
        let b = self.buffer.as_mut();
        let end = l.min(b.len());
        b.get_mut(HEADER_LEN..end).unwrap_or(&mut [])
    }
    /// Compute the checksum over the pseudo-header and the datagram (a
    /// computed 0 is sent as 0xffff).
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let c = checksum::checksum_with_pseudo(src, dst, protocol::UDP, self.datagram());
        self.set_checksum(if c == 0 { 0xffff } else { c });
    }
}

/// A parsed UDP header.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct UdpRepr {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload_len: usize,
}

impl UdpRepr {
    /// Parse and verify the checksum (0 = none is accepted).
    pub fn parse<T: AsRef<[u8]>>(
        p: &UdpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) -> Result<UdpRepr> {
        p.check_len()?;
        if !p.verify_checksum(src, dst) {
            return Err(Error::Checksum);
        }
        Ok(UdpRepr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            payload_len: usize::from(p.len()) - HEADER_LEN,
        })
    }

    pub fn buffer_len(&self) -> usize {
        HEADER_LEN.saturating_add(self.payload_len)
    }

    /// Write the header into `p`, whose payload (`payload_len` bytes after
    /// the header) is already in place, and fill the checksum. Returns
    /// false (writing nothing) when the buffer is too short or too long a
    /// payload is claimed.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        p: &mut UdpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) -> bool {
        let Ok(len) = u16::try_from(self.buffer_len()) else {
            return false;
        };
        if p.buffer.as_ref().len() < self.buffer_len() {
            return false;
        }
        p.set_src_port(self.src_port);
        p.set_dst_port(self.dst_port);
        p.set_len(len);
        p.fill_checksum(src, dst);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(192, 168, 11, 31);
    const DST: Ipv4Addr = Ipv4Addr::new(216, 134, 160, 13);

    #[test]
    fn roundtrip_and_independent_checksum() {
        let mut b = vec![0u8; 8 + 5];
        b[8..].copy_from_slice(b"hello");
        let r = UdpRepr {
            src_port: 47284,
            dst_port: 53,
            payload_len: 5,
        };
        assert!(r.emit(&mut UdpPacket::new_unchecked(&mut b[..]), SRC, DST));
        assert_eq!(&b[..6], &[0xb8, 0xb4, 0, 53, 0, 13]);
        // Independent: explicit pseudo-header bytes.
        let mut all = Vec::from(SRC.octets());
        all.extend_from_slice(&DST.octets());
        all.extend_from_slice(&[0, 17, 0, 13]);
        all.extend_from_slice(&b);
        assert!(checksum::verify(&all));
        let p = UdpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(UdpRepr::parse(&p, SRC, DST).unwrap(), r);
        assert_eq!(p.payload(), b"hello");
        assert_eq!(
            UdpRepr::parse(&p, SRC, Ipv4Addr::new(1, 1, 1, 1)),
            Err(Error::Checksum)
        );
        // Checksum 0 means "none".
        let mut z = b.clone();
        z[6] = 0;
        z[7] = 0;
        assert!(
            UdpRepr::parse(
                &UdpPacket::new_checked(&z[..]).unwrap(),
                SRC,
                Ipv4Addr::new(1, 1, 1, 1)
            )
            .is_ok()
        );
    }

    #[test]
    fn length_checks() {
        let b = [0u8, 1, 0, 2, 0, 12, 0, 0, 1, 2, 3, 4, 5, 6];
        let p = UdpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.payload(), &[1, 2, 3, 4]);
        assert_eq!(
            UdpPacket::new_checked(&b[..11]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            UdpPacket::new_checked(&b[..7]).unwrap_err(),
            Error::Truncated
        );
        let mut c = b;
        c[5] = 7;
        assert_eq!(
            UdpPacket::new_checked(&c[..]).unwrap_err(),
            Error::Malformed
        );
        let mut short = [0u8; 9];
        let r = UdpRepr {
            src_port: 1,
            dst_port: 2,
            payload_len: 2,
        };
        assert!(!r.emit(&mut UdpPacket::new_unchecked(&mut short[..]), SRC, DST));
    }
}
