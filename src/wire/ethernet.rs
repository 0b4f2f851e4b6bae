//! Ethernet II frames (no FCS, no VLAN tag handling): a checked view and a
//! small `Repr`. Never panics on any buffer.

use super::{Error, Result, get_u16, set_u16};
use core::fmt;

/// EtherType values this crate uses.
pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    pub const VLAN: u16 = 0x8100;
    pub const IPV6: u16 = 0x86dd;
}

/// A 48-bit MAC address.
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EthernetAddress(pub [u8; 6]);

impl EthernetAddress {
    pub const BROADCAST: EthernetAddress = EthernetAddress([0xff; 6]);
    pub const ZERO: EthernetAddress = EthernetAddress([0; 6]);
    /// Destination MAC of VRRP adverts to 224.0.0.18.
    pub const VRRP_MULTICAST: EthernetAddress =
        EthernetAddress([0x01, 0x00, 0x5e, 0x00, 0x00, 0x12]);

    /// From a slice of exactly 6 bytes.
    pub fn from_bytes(b: &[u8]) -> Option<EthernetAddress> {
        <[u8; 6]>::try_from(b).ok().map(EthernetAddress)
    }

    pub fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }

    pub fn is_broadcast(&self) -> bool {
        self.0 == [0xff; 6]
    }

    /// Group bit set (includes broadcast).
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    pub fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }

    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }

    /// The VRRP virtual router MAC 00:00:5e:00:01:VRID (RFC 3768 §7.3).
    pub fn vrrp_virtual(vrid: u8) -> EthernetAddress {
        EthernetAddress([0x00, 0x00, 0x5e, 0x00, 0x01, vrid])
    }

    /// The IPv4 multicast MAC 01:00:5e + low 23 bits of `ip` (RFC 1112).
    pub fn ipv4_multicast(ip: std::net::Ipv4Addr) -> EthernetAddress {
        let o = ip.octets();
        EthernetAddress([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]])
    }
}

impl fmt::Display for EthernetAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl fmt::Debug for EthernetAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl core::str::FromStr for EthernetAddress {
    type Err = Error;
    /// `aa:bb:cc:dd:ee:ff` (also `-` separators).
    fn from_str(s: &str) -> Result<EthernetAddress> {
        let mut out = [0u8; 6];
        let mut n = 0;
        for part in s.split([':', '-']) {
            let slot = out.get_mut(n).ok_or(Error::Malformed)?;
            if part.is_empty() || part.len() > 2 {
                return Err(Error::Malformed);
            }
            *slot = u8::from_str_radix(part, 16).map_err(|_| Error::Malformed)?;
            n += 1;
        }
        if n != 6 {
            return Err(Error::Malformed);
        }
        Ok(EthernetAddress(out))
    }
}

mod field {
    pub const DST: core::ops::Range<usize> = 0..6;
    pub const SRC: core::ops::Range<usize> = 6..12;
    pub const ETHERTYPE: usize = 12;
}

/// Length of the Ethernet II header.
pub const HEADER_LEN: usize = 14;

packet_view! {
    /// A view of an Ethernet II frame.
    pub struct EthernetFrame;
    /// Wrap `buffer`, which must hold at least the 14-byte header.
    fn new_checked;
    min_len HEADER_LEN;
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    fn addr(&self, r: core::ops::Range<usize>) -> EthernetAddress {
        self.buffer
            .as_ref()
            .get(r)
            .and_then(EthernetAddress::from_bytes)
            .unwrap_or_default()
    }

    pub fn dst_addr(&self) -> EthernetAddress {
        self.addr(field::DST)
    }

    pub fn src_addr(&self) -> EthernetAddress {
        self.addr(field::SRC)
    }

    pub fn ethertype(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::ETHERTYPE)
    }

    /// Everything after the header (may include trailing padding).
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(HEADER_LEN..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    pub fn set_dst_addr(&mut self, a: EthernetAddress) {
        if let Some(s) = self.buffer.as_mut().get_mut(field::DST) {
            s.copy_from_slice(&a.0);
        }
    }

    pub fn set_src_addr(&mut self, a: EthernetAddress) {
        if let Some(s) = self.buffer.as_mut().get_mut(field::SRC) {
            s.copy_from_slice(&a.0);
        }
    }

    pub fn set_ethertype(&mut self, t: u16) {
        set_u16(self.buffer.as_mut(), field::ETHERTYPE, t);
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        self.buffer
            .as_mut()
            .get_mut(HEADER_LEN..)
            .unwrap_or(&mut [])
    }
}

/// The parsed Ethernet header.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct EthernetRepr {
    pub src_addr: EthernetAddress,
    pub dst_addr: EthernetAddress,
    pub ethertype: u16,
}

impl EthernetRepr {
    pub fn parse<T: AsRef<[u8]>>(frame: &EthernetFrame<T>) -> Result<EthernetRepr> {
        frame.check_len()?;
        Ok(EthernetRepr {
            src_addr: frame.src_addr(),
            dst_addr: frame.dst_addr(),
            ethertype: frame.ethertype(),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Write the header; the frame should hold at least `HEADER_LEN` bytes
    /// (a shorter one is left partly unwritten, never a panic).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut EthernetFrame<T>) {
        frame.set_dst_addr(self.dst_addr);
        frame.set_src_addr(self.src_addr);
        frame.set_ethertype(self.ethertype);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: [u8; 16] = [
        0x01, 0x00, 0x5e, 0x00, 0x00, 0x12, 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef, 0x08, 0x00, 0xaa,
        0xbb,
    ];

    #[test]
    fn parse_and_emit() {
        let f = EthernetFrame::new_checked(&FRAME[..]).unwrap();
        let r = EthernetRepr::parse(&f).unwrap();
        assert_eq!(r.dst_addr, EthernetAddress::VRRP_MULTICAST);
        assert_eq!(
            r.src_addr,
            EthernetAddress([0x52, 0x54, 0, 0xab, 0xcd, 0xef])
        );
        assert_eq!(r.ethertype, ethertype::IPV4);
        assert_eq!(f.payload(), &[0xaa, 0xbb]);
        let mut out = [0u8; 16];
        out[14..].copy_from_slice(&[0xaa, 0xbb]);
        let mut g = EthernetFrame::new_unchecked(&mut out[..]);
        r.emit(&mut g);
        assert_eq!(out, FRAME);
    }

    #[test]
    fn short_is_truncated() {
        for n in 0..HEADER_LEN {
            assert_eq!(
                EthernetFrame::new_checked(&FRAME[..n]).unwrap_err(),
                Error::Truncated
            );
        }
        let f = EthernetFrame::new_checked(&FRAME[..14]).unwrap();
        assert!(f.payload().is_empty());
    }

    #[test]
    fn address_kinds_and_display() {
        assert!(EthernetAddress::BROADCAST.is_broadcast());
        assert!(EthernetAddress::BROADCAST.is_multicast());
        assert!(EthernetAddress::VRRP_MULTICAST.is_multicast());
        assert!(!EthernetAddress::VRRP_MULTICAST.is_broadcast());
        let v = EthernetAddress::vrrp_virtual(42);
        assert!(v.is_unicast());
        assert_eq!(v.to_string(), "00:00:5e:00:01:2a");
        assert_eq!(
            EthernetAddress::ipv4_multicast(std::net::Ipv4Addr::new(224, 0, 0, 18)),
            EthernetAddress::VRRP_MULTICAST
        );
        assert_eq!(
            EthernetAddress::ipv4_multicast(std::net::Ipv4Addr::new(239, 129, 2, 3)).to_string(),
            "01:00:5e:01:02:03"
        );
        assert_eq!("00:00:5e:00:01:2A".parse::<EthernetAddress>().unwrap(), v);
        assert!("00:00:5e:00:01".parse::<EthernetAddress>().is_err());
        assert!("00:00:5e:00:01:02:03".parse::<EthernetAddress>().is_err());
        assert!("00:00:5e:00:01:xyz".parse::<EthernetAddress>().is_err());
    }
}
