//! ICMPv4 (RFC 792): echo request/reply, destination unreachable and time
//! exceeded (carrying the invoking packet's header + data). A checked view
//! and a borrowed `Repr`. Never panics, never allocates.

use super::checksum;
use super::ipv4::Ipv4Packet;
use super::{Error, Result, get_u8, get_u16, set_u8, set_u16};

/// Length of the ICMP header (type, code, checksum, 4 bytes rest).
pub const HEADER_LEN: usize = 8;

/// ICMP message types this crate handles.
pub mod msg_type {
    pub const ECHO_REPLY: u8 = 0;
    pub const DST_UNREACHABLE: u8 = 3;
    pub const ECHO_REQUEST: u8 = 8;
    pub const TIME_EXCEEDED: u8 = 11;
}

/// Destination-unreachable codes.
pub mod unreach_code {
    pub const NET: u8 = 0;
    pub const HOST: u8 = 1;
    pub const PROTOCOL: u8 = 2;
    pub const PORT: u8 = 3;
    pub const FRAG_NEEDED: u8 = 4;
    pub const ADMIN_PROHIBITED: u8 = 13;
}

/// Time-exceeded codes.
pub mod time_exceeded_code {
    pub const TTL: u8 = 0;
    pub const REASSEMBLY: u8 = 1;
}

mod field {
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: usize = 2;
    pub const ECHO_IDENT: usize = 4;
    pub const ECHO_SEQNO: usize = 6;
    pub const MTU: usize = 6;
}

packet_view! {
    /// A view of an ICMP message (the whole IPv4 payload).
    pub struct IcmpPacket;
    /// Wrap `buffer`, which must hold at least the 8-byte header. The
    /// checksum covers the whole buffer, so pass exactly the IPv4 payload.
    fn new_checked;
    min_len HEADER_LEN;
}

impl<T: AsRef<[u8]>> IcmpPacket<T> {
    pub fn msg_type(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::TYPE)
    }
    pub fn msg_code(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::CODE)
    }
    pub fn checksum(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::CHECKSUM)
    }
    pub fn echo_ident(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::ECHO_IDENT)
    }
    pub fn echo_seq_no(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::ECHO_SEQNO)
    }
    /// Next-hop MTU of a fragmentation-needed message (RFC 1191).
    pub fn next_hop_mtu(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::MTU)
    }
    /// Everything after the 8-byte header: echo data, or the invoking
    /// packet of an error.
    pub fn data(&self) -> &[u8] {
        self.buffer.as_ref().get(HEADER_LEN..).unwrap_or(&[])
    }
    pub fn verify_checksum(&self) -> bool {
        checksum::verify(self.buffer.as_ref())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> IcmpPacket<T> {
    pub fn set_msg_type(&mut self, v: u8) {
        set_u8(self.buffer.as_mut(), field::TYPE, v)
    }
    pub fn set_msg_code(&mut self, v: u8) {
        set_u8(self.buffer.as_mut(), field::CODE, v)
    }
    pub fn set_checksum(&mut self, v: u16) {
        set_u16(self.buffer.as_mut(), field::CHECKSUM, v)
    }
    pub fn set_echo_ident(&mut self, v: u16) {
        set_u16(self.buffer.as_mut(), field::ECHO_IDENT, v)
    }
    pub fn set_echo_seq_no(&mut self, v: u16) {
        set_u16(self.buffer.as_mut(), field::ECHO_SEQNO, v)
    }
    /// Sets bytes 4..8 as unused(2) + next-hop MTU(2).
    pub fn set_next_hop_mtu(&mut self, v: u16) {
        set_u16(self.buffer.as_mut(), field::ECHO_IDENT, 0);
        set_u16(self.buffer.as_mut(), field::MTU, v)
    }
    pub fn data_mut(&mut self) -> &mut [u8] {
        self.buffer
            .as_mut()
            .get_mut(HEADER_LEN..)
            .unwrap_or(&mut [])
    }
    /// Compute the checksum over the whole buffer and store it.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.buffer.as_ref());
        self.set_checksum(c);
    }
}

/// A parsed ICMP message borrowing its data from the packet.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum IcmpRepr<'a> {
    EchoRequest {
        ident: u16,
        seq_no: u16,
        data: &'a [u8],
    },
    EchoReply {
        ident: u16,
        seq_no: u16,
        data: &'a [u8],
    },
    /// `invoking`: the original packet's IPv4 header + leading data, as
    /// carried (at least a valid IPv4 header when parsed).
    DstUnreachable {
        code: u8,
        next_hop_mtu: u16,
        invoking: &'a [u8],
    },
    TimeExceeded {
        code: u8,
        invoking: &'a [u8],
    },
}

impl<'a> IcmpRepr<'a> {
    /// Parse and verify the checksum. Other message types are
    /// `Unsupported`; an error whose embedded header is not a valid IPv4
    /// header is `Malformed` / `Truncated`.
    pub fn parse(p: &IcmpPacket<&'a [u8]>) -> Result<IcmpRepr<'a>> {
        p.check_len()?;
        if !p.verify_checksum() {
            return Err(Error::Checksum);
        }
        let buf: &'a [u8] = p.buffer;
        let data = buf.get(HEADER_LEN..).unwrap_or(&[]);
        match (p.msg_type(), p.msg_code()) {
            (msg_type::ECHO_REQUEST, 0) => Ok(IcmpRepr::EchoRequest {
                ident: p.echo_ident(),
                seq_no: p.echo_seq_no(),
                data,
            }),
            (msg_type::ECHO_REPLY, 0) => Ok(IcmpRepr::EchoReply {
                ident: p.echo_ident(),
                seq_no: p.echo_seq_no(),
                data,
            }),
            (msg_type::DST_UNREACHABLE, code) => {
                Ipv4Packet::new_embedded(data)?;
                Ok(IcmpRepr::DstUnreachable {
                    code,
                    next_hop_mtu: p.next_hop_mtu(),
                    invoking: data,
                })
            }
            (msg_type::TIME_EXCEEDED, code) => {
                Ipv4Packet::new_embedded(data)?;
                Ok(IcmpRepr::TimeExceeded {
                    code,
                    invoking: data,
                })
            }
            _ => Err(Error::Unsupported),
        }
    }

    /// The invoking packet of an error message as an IPv4 view.
    pub fn invoking_packet(&self) -> Option<Ipv4Packet<&'a [u8]>> {
        match *self {
            IcmpRepr::DstUnreachable { invoking, .. } | IcmpRepr::TimeExceeded { invoking, .. } => {
                Ipv4Packet::new_embedded(invoking).ok()
            }
            _ => None,
        }
    }

    fn body(&self) -> &'a [u8] {
        match *self {
            IcmpRepr::EchoRequest { data, .. } | IcmpRepr::EchoReply { data, .. } => data,
            IcmpRepr::DstUnreachable { invoking, .. } | IcmpRepr::TimeExceeded { invoking, .. } => {
                invoking
            }
        }
    }

    pub fn buffer_len(&self) -> usize {
        HEADER_LEN.saturating_add(self.body().len())
    }

    /// Write the message with its checksum into `p`, whose buffer must be
    /// exactly `buffer_len()` bytes (the checksum covers all of it).
    /// Returns false (writing nothing) when the buffer size is wrong.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut IcmpPacket<T>) -> bool {
        if p.buffer.as_ref().len() != self.buffer_len() {
            return false;
        }
        match *self {
            IcmpRepr::EchoRequest { ident, seq_no, .. }
            | IcmpRepr::EchoReply { ident, seq_no, .. } => {
                let t = if matches!(self, IcmpRepr::EchoRequest { .. }) {
                    msg_type::ECHO_REQUEST
                } else {
                    msg_type::ECHO_REPLY
                };
                p.set_msg_type(t);
                p.set_msg_code(0);
                p.set_echo_ident(ident);
                p.set_echo_seq_no(seq_no);
            }
            IcmpRepr::DstUnreachable {
                code, next_hop_mtu, ..
            } => {
                p.set_msg_type(msg_type::DST_UNREACHABLE);
                p.set_msg_code(code);
                p.set_next_hop_mtu(next_hop_mtu);
            }
            IcmpRepr::TimeExceeded { code, .. } => {
                p.set_msg_type(msg_type::TIME_EXCEEDED);
                p.set_msg_code(code);
                p.set_next_hop_mtu(0);
            }
        }
        p.data_mut().copy_from_slice(self.body());
        p.fill_checksum();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ipv4::Ipv4Repr;
    use std::net::Ipv4Addr;

    // An echo request as sent by Linux ping (id 0x1234, seq 1, 8 data bytes);
    // checksum computed by hand below.
    fn echo_request() -> Vec<u8> {
        let mut v = vec![8, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8];
        let c = checksum::checksum(&v);
        v[2..4].copy_from_slice(&c.to_be_bytes());
        v
    }

    #[test]
    fn echo_roundtrip() {
        let b = echo_request();
        let p = IcmpPacket::new_checked(&b[..]).unwrap();
        let r = IcmpRepr::parse(&p).unwrap();
        assert_eq!(
            r,
            IcmpRepr::EchoRequest {
                ident: 0x1234,
                seq_no: 1,
                data: &[1, 2, 3, 4, 5, 6, 7, 8]
            }
        );
        let mut out = vec![0u8; r.buffer_len()];
        assert!(r.emit(&mut IcmpPacket::new_unchecked(&mut out[..])));
        assert_eq!(out, b);
        // Known value: sum of words 0x0800+0x1234+0x0001+0x0102+0x0304+0x0506+0x0708 = 0x2a49.
        assert_eq!(u16::from_be_bytes([b[2], b[3]]), !0x2a49u16);
        let mut short = [0u8; 3];
        assert!(!r.emit(&mut IcmpPacket::new_unchecked(&mut short[..])));
    }

    #[test]
    fn bad_checksum_and_unknown() {
        let mut b = echo_request();
        b[9] ^= 0xff;
        let p = IcmpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(IcmpRepr::parse(&p).unwrap_err(), Error::Checksum);
        let mut b = vec![13, 0, 0, 0, 0, 0, 0, 0];
        let c = checksum::checksum(&b);
        b[2..4].copy_from_slice(&c.to_be_bytes());
        let p = IcmpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(IcmpRepr::parse(&p).unwrap_err(), Error::Unsupported);
        assert_eq!(
            IcmpPacket::new_checked(&b[..7]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn errors_carry_invoking_header() {
        let mut orig = [0u8; 28];
        let ip = Ipv4Repr::new(
            Ipv4Addr::new(10, 0, 0, 2),
            Ipv4Addr::new(192, 0, 2, 9),
            17,
            100,
        );
        ip.emit(&mut Ipv4Packet::new_unchecked(&mut orig[..]));
        orig[20..28].copy_from_slice(&[0x30, 0x39, 0x00, 0x35, 0, 108, 0, 0]);
        for repr in [
            IcmpRepr::DstUnreachable {
                code: unreach_code::FRAG_NEEDED,
                next_hop_mtu: 1400,
                invoking: &orig[..],
            },
            IcmpRepr::TimeExceeded {
                code: time_exceeded_code::TTL,
                invoking: &orig[..],
            },
        ] {
            let mut out = vec![0u8; repr.buffer_len()];
            assert!(repr.emit(&mut IcmpPacket::new_unchecked(&mut out[..])));
            assert!(checksum::verify(&out));
            let p = IcmpPacket::new_checked(&out[..]).unwrap();
            let back = IcmpRepr::parse(&p).unwrap();
            assert_eq!(back, repr);
            let inner = back.invoking_packet().unwrap();
            assert_eq!(inner.dst_addr(), Ipv4Addr::new(192, 0, 2, 9));
            assert_eq!(inner.payload(), &orig[20..28]);
        }
        assert_eq!(out_mtu(), 1400);
        // An error whose embedded header is garbage is rejected.
        let mut b = vec![3, 1, 0, 0, 0, 0, 0, 0, 0x60, 0, 0, 0];
        b.resize(28, 0);
        let c = checksum::checksum(&b);
        b[2..4].copy_from_slice(&c.to_be_bytes());
        let p = IcmpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(IcmpRepr::parse(&p).unwrap_err(), Error::Malformed);
    }

    fn out_mtu() -> u16 {
        let inv = [
            0x45u8, 0, 0, 20, 0, 0, 0, 0, 64, 1, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
        ];
        let r = IcmpRepr::DstUnreachable {
            code: 4,
            next_hop_mtu: 1400,
            invoking: &inv,
        };
        let mut out = vec![0u8; r.buffer_len()];
        r.emit(&mut IcmpPacket::new_unchecked(&mut out[..]));
        assert_eq!(&out[4..8], &[0, 0, 0x05, 0x78]);
        IcmpPacket::new_checked(&out[..]).unwrap().next_hop_mtu()
    }
}
