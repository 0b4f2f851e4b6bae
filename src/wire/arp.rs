//! ARP for Ethernet + IPv4 only (RFC 826): a checked view and a `Repr`.
//! Other hardware/protocol types are `Error::Unsupported`. Never panics.

use super::ethernet::EthernetAddress;
use super::{Error, Result, get_ipv4, get_u8, get_u16, set_ipv4, set_u8, set_u16};
use std::net::Ipv4Addr;

/// Length of an Ethernet/IPv4 ARP packet.
pub const PACKET_LEN: usize = 28;

mod field {
    pub const HTYPE: usize = 0;
    pub const PTYPE: usize = 2;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: usize = 6;
    pub const SHA: usize = 8;
    pub const SPA: usize = 14;
    pub const THA: usize = 18;
    pub const TPA: usize = 24;
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ArpOperation {
    Request,
    Reply,
    Unknown(u16),
}

impl From<u16> for ArpOperation {
    fn from(v: u16) -> Self {
        match v {
            1 => ArpOperation::Request,
            2 => ArpOperation::Reply,
            x => ArpOperation::Unknown(x),
        }
    }
}

impl From<ArpOperation> for u16 {
    fn from(v: ArpOperation) -> u16 {
        match v {
            ArpOperation::Request => 1,
            ArpOperation::Reply => 2,
            ArpOperation::Unknown(x) => x,
        }
    }
}

packet_view! {
    /// A view of an ARP packet (the Ethernet payload).
    pub struct ArpPacket;
    /// Wrap `buffer`; it must hold the 28 bytes of an Ethernet/IPv4 ARP
    /// packet (trailing padding is allowed).
    fn new_checked;
    min_len PACKET_LEN;
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    pub fn hardware_type(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::HTYPE)
    }
    pub fn protocol_type(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::PTYPE)
    }
    pub fn hardware_len(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::HLEN)
    }
    pub fn protocol_len(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::PLEN)
    }
    pub fn operation(&self) -> ArpOperation {
        get_u16(self.buffer.as_ref(), field::OPER).into()
    }
    fn mac(&self, at: usize) -> EthernetAddress {
        self.buffer
            .as_ref()
            .get(at..at + 6)
            .and_then(EthernetAddress::from_bytes)
            .unwrap_or_default()
    }
    pub fn source_hardware_addr(&self) -> EthernetAddress {
        self.mac(field::SHA)
    }
    pub fn source_protocol_addr(&self) -> Ipv4Addr {
        get_ipv4(self.buffer.as_ref(), field::SPA)
    }
    pub fn target_hardware_addr(&self) -> EthernetAddress {
        self.mac(field::THA)
    }
    pub fn target_protocol_addr(&self) -> Ipv4Addr {
        get_ipv4(self.buffer.as_ref(), field::TPA)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ArpPacket<T> {
    pub fn set_hardware_type(&mut self, v: u16) {
        set_u16(self.buffer.as_mut(), field::HTYPE, v)
    }
    pub fn set_protocol_type(&mut self, v: u16) {
        set_u16(self.buffer.as_mut(), field::PTYPE, v)
    }
    pub fn set_hardware_len(&mut self, v: u8) {
        set_u8(self.buffer.as_mut(), field::HLEN, v)
    }
    pub fn set_protocol_len(&mut self, v: u8) {
        set_u8(self.buffer.as_mut(), field::PLEN, v)
    }
    pub fn set_operation(&mut self, v: ArpOperation) {
        set_u16(self.buffer.as_mut(), field::OPER, v.into())
    }
    fn set_mac(&mut self, at: usize, a: EthernetAddress) {
        if let Some(s) = self.buffer.as_mut().get_mut(at..at + 6) {
            s.copy_from_slice(&a.0);
        }
    }
    pub fn set_source_hardware_addr(&mut self, a: EthernetAddress) {
        self.set_mac(field::SHA, a)
    }
    pub fn set_source_protocol_addr(&mut self, a: Ipv4Addr) {
        set_ipv4(self.buffer.as_mut(), field::SPA, a)
    }
    pub fn set_target_hardware_addr(&mut self, a: EthernetAddress) {
        self.set_mac(field::THA, a)
    }
    pub fn set_target_protocol_addr(&mut self, a: Ipv4Addr) {
        set_ipv4(self.buffer.as_mut(), field::TPA, a)
    }
}

/// A parsed Ethernet/IPv4 ARP packet.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ArpRepr {
    pub operation: ArpOperation,
    pub source_hardware_addr: EthernetAddress,
    pub source_protocol_addr: Ipv4Addr,
    pub target_hardware_addr: EthernetAddress,
    pub target_protocol_addr: Ipv4Addr,
}

impl ArpRepr {
    /// Parse; non-Ethernet/IPv4 ARP is `Unsupported`.
    pub fn parse<T: AsRef<[u8]>>(p: &ArpPacket<T>) -> Result<ArpRepr> {
        p.check_len()?;
        if p.hardware_type() != 1
            || p.protocol_type() != 0x0800
            || p.hardware_len() != 6
            || p.protocol_len() != 4
        {
            return Err(Error::Unsupported);
        }
        Ok(ArpRepr {
            operation: p.operation(),
            source_hardware_addr: p.source_hardware_addr(),
            source_protocol_addr: p.source_protocol_addr(),
            target_hardware_addr: p.target_hardware_addr(),
            target_protocol_addr: p.target_protocol_addr(),
        })
    }

    pub const fn buffer_len(&self) -> usize {
        PACKET_LEN
    }

    /// Write all 28 bytes (a shorter buffer is left partly unwritten).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut ArpPacket<T>) {
        p.set_hardware_type(1);
        p.set_protocol_type(0x0800);
        p.set_hardware_len(6);
        p.set_protocol_len(4);
        p.set_operation(self.operation);
        p.set_source_hardware_addr(self.source_hardware_addr);
        p.set_source_protocol_addr(self.source_protocol_addr);
        p.set_target_hardware_addr(self.target_hardware_addr);
        p.set_target_protocol_addr(self.target_protocol_addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A request "who has 10.0.0.1? tell 10.0.0.2" from 52:54:00:12:34:56.
    const REQ: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10, 0,
        0, 2, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1,
    ];

    #[test]
    fn parse_request() {
        let p = ArpPacket::new_checked(&REQ[..]).unwrap();
        let r = ArpRepr::parse(&p).unwrap();
        assert_eq!(r.operation, ArpOperation::Request);
        assert_eq!(r.source_hardware_addr.to_string(), "52:54:00:12:34:56");
        assert_eq!(r.source_protocol_addr, Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(r.target_hardware_addr, EthernetAddress::ZERO);
        assert_eq!(r.target_protocol_addr, Ipv4Addr::new(10, 0, 0, 1));
        let mut out = [0xeeu8; 28];
        r.emit(&mut ArpPacket::new_unchecked(&mut out[..]));
        assert_eq!(out, REQ);
    }

    #[test]
    fn rejects_short_and_foreign() {
        for n in 0..PACKET_LEN {
            assert_eq!(
                ArpPacket::new_checked(&REQ[..n]).unwrap_err(),
                Error::Truncated
            );
        }
        for (i, v) in [(1usize, 6u8), (2, 0x86), (4, 8), (5, 16)] {
            let mut b = REQ;
            b[i] = v;
            let p = ArpPacket::new_checked(&b[..]).unwrap();
            assert_eq!(
                ArpRepr::parse(&p).unwrap_err(),
                Error::Unsupported,
                "byte {i}"
            );
        }
        let mut b = REQ;
        b[7] = 9;
        let r = ArpRepr::parse(&ArpPacket::new_checked(&b[..]).unwrap()).unwrap();
        assert_eq!(r.operation, ArpOperation::Unknown(9));
    }
}
