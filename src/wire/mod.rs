//! Typed views over packet bytes, smoltcp-style: `new_checked` validates
//! lengths once so no accessor can panic; `Repr` structs are the parsed
//! meaning with `parse` and `emit`. Never allocates, never trusts a length
//! field before checking it against the buffer, never touches a socket.
//!
//! Layers: [`ethernet`], [`arp`], [`ipv4`], [`icmp`], [`udp`], [`tcp`],
//! [`vrrp`], [`ah`] (IPsec AH around VRRPv2 adverts); the internet checksum (RFC 1071, RFC 1624) in [`checksum`];
//! whole-frame builders (adverts, ARP, echo replies, ICMP errors, TCP
//! resets) in [`build`]; in-place NAT rewrites with incremental checksum
//! updates in [`rewrite`]. Real keepalived adverts are test vectors in
//! `tests/vectors/keepalived/` (see `tests/wire_keepalived.rs`).

/// Declares a packet view: `pub struct $name<T: AsRef<[u8]>>` over a
/// buffer, with `new_unchecked`, `new_checked` (wrap, then `check_len`) and
/// `into_inner`. With `min_len N;` it also defines `check_len` as "the
/// buffer holds at least N bytes"; without, the module writes `check_len`.
macro_rules! packet_view {
    (
        $(#[$attr:meta])*
        pub struct $name:ident;
        $(#[$checked:meta])*
        fn new_checked;
        $(min_len $min:expr;)?
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone)]
        pub struct $name<T: AsRef<[u8]>> {
            buffer: T,
        }

        impl<T: AsRef<[u8]>> $name<T> {
            pub fn new_unchecked(buffer: T) -> $name<T> {
                $name { buffer }
            }

            $(#[$checked])*
            pub fn new_checked(buffer: T) -> $crate::wire::Result<$name<T>> {
                let p = $name::new_unchecked(buffer);
                p.check_len()?;
                Ok(p)
            }

            pub fn into_inner(self) -> T {
                self.buffer
            }

            $(
                pub fn check_len(&self) -> $crate::wire::Result<()> {
                    if self.buffer.as_ref().len() < $min {
                        Err($crate::wire::Error::Truncated)
                    } else {
                        Ok(())
                    }
                }
            )?
        }
    };
}

pub mod ah;
pub mod arp;
pub mod build;
pub mod checksum;
pub mod ethernet;
pub mod fragment;
pub mod gso;
pub mod icmp;
pub mod ipv4;
pub mod rewrite;
pub mod tcp;
pub mod udp;
pub mod vrrp;

pub use arp::{ArpOperation, ArpPacket, ArpRepr};
pub use ethernet::{EthernetAddress, EthernetFrame, EthernetRepr, ethertype};
pub use icmp::{IcmpPacket, IcmpRepr};
pub use ipv4::{Ipv4Packet, Ipv4Repr, protocol};
pub use tcp::TcpPacket;
pub use udp::{UdpPacket, UdpRepr};
pub use vrrp::{
    AdvertRxError, ChecksumMode, ReceivedAdvert, VrrpError, VrrpPacket, VrrpRepr,
    parse_advert_frame,
};

/// Why bytes were not accepted by a view or a `Repr::parse`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The buffer is shorter than the header or than a length field says.
    Truncated,
    /// A field has a value that makes the packet invalid (e.g. IHL < 5).
    Malformed,
    /// A checksum does not verify.
    Checksum,
    /// Valid but not something this codec handles (e.g. non-Ethernet ARP).
    Unsupported,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Error::Truncated => "truncated",
            Error::Malformed => "malformed",
            Error::Checksum => "bad checksum",
            Error::Unsupported => "unsupported",
        })
    }
}

impl std::error::Error for Error {}

pub type Result<T> = core::result::Result<T, Error>;

/// The length checks of a header that carries its own length (TCP data
/// offset, UDP length): the buffer holds `min` bytes (else `Truncated`),
/// the `declared` length is at least `min` (else `Malformed`) and within
/// the buffer (else `Truncated`).
pub(crate) fn check_declared_len(buffer_len: usize, min: usize, declared: usize) -> Result<()> {
    if buffer_len < min {
        Err(Error::Truncated)
    } else if declared < min {
        Err(Error::Malformed)
    } else if declared > buffer_len {
        Err(Error::Truncated)
    } else {
        Ok(())
    }
}

/// Read a big-endian u16 at `at`; 0 when out of range (views check lengths
/// first, so the fallback is never taken on a checked view).
#[inline]
pub(crate) fn get_u16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at.wrapping_add(2)) {
        Some(&[x, y]) => u16::from_be_bytes([x, y]),
        _ => 0,
    }
}

#[inline]
pub(crate) fn set_u16(b: &mut [u8], at: usize, v: u16) {
    if let Some(s) = b.get_mut(at..at.wrapping_add(2)) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

/// Read a big-endian u32 at `at`; 0 when out of range.
#[inline]
pub(crate) fn get_u32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at.wrapping_add(4)) {
        Some(&[p, q, r, s]) => u32::from_be_bytes([p, q, r, s]),
        _ => 0,
    }
}

#[inline]
pub(crate) fn set_u32(b: &mut [u8], at: usize, v: u32) {
    if let Some(s) = b.get_mut(at..at.wrapping_add(4)) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

#[inline]
pub(crate) fn get_u8(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

#[inline]
pub(crate) fn set_u8(b: &mut [u8], at: usize, v: u8) {
    if let Some(x) = b.get_mut(at) {
        *x = v;
    }
}

#[inline]
pub(crate) fn get_ipv4(b: &[u8], at: usize) -> std::net::Ipv4Addr {
    match b.get(at..at.wrapping_add(4)) {
        Some(&[p, q, r, s]) => std::net::Ipv4Addr::new(p, q, r, s),
        _ => std::net::Ipv4Addr::UNSPECIFIED,
    }
}

#[inline]
pub(crate) fn set_ipv4(b: &mut [u8], at: usize, v: std::net::Ipv4Addr) {
    if let Some(s) = b.get_mut(at..at.wrapping_add(4)) {
        s.copy_from_slice(&v.octets());
    }
}

/// Frames written byte by byte for unit tests, independent of the emitters
/// they check.
#[cfg(test)]
pub(crate) mod test_frames {
    use super::checksum;
    use super::ethernet::EthernetAddress;
    use std::net::Ipv4Addr;

    /// An Ethernet frame `macs.1` -> `macs.0` carrying an ICMP echo request
    /// `ips.0` -> `ips.1` (IPv4: no options, TOS 0, DF, TTL 64, id `ip_id`;
    /// ICMP ident/sequence `ident_seq`, then `data`), both checksums good.
    pub(crate) fn echo_request(
        macs: (EthernetAddress, EthernetAddress),
        ips: (Ipv4Addr, Ipv4Addr),
        ip_id: u16,
        ident_seq: (u16, u16),
        data: &[u8],
    ) -> Vec<u8> {
        let mut f = Vec::new();
        f.extend_from_slice(&macs.0.0);
        f.extend_from_slice(&macs.1.0);
        f.extend_from_slice(&[0x08, 0x00]);
        let total = u16::try_from(20 + 8 + data.len()).unwrap();
        let mut ip = vec![0x45, 0x00];
        ip.extend_from_slice(&total.to_be_bytes());
        ip.extend_from_slice(&ip_id.to_be_bytes());
        ip.extend_from_slice(&[0x40, 0x00, 64, 1, 0, 0]);
        ip.extend_from_slice(&ips.0.octets());
        ip.extend_from_slice(&ips.1.octets());
        let c = checksum::checksum(&ip);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        let mut icmp = vec![8, 0, 0, 0];
        icmp.extend_from_slice(&ident_seq.0.to_be_bytes());
        icmp.extend_from_slice(&ident_seq.1.to_be_bytes());
        icmp.extend_from_slice(data);
        let c = checksum::checksum(&icmp);
        icmp[2..4].copy_from_slice(&c.to_be_bytes());
        f.extend_from_slice(&ip);
        f.extend_from_slice(&icmp);
        f
    }
}
