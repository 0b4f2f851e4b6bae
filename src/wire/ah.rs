//! IPsec Authentication Header (RFC 2402, IP protocol 51) as keepalived uses
//! it for VRRPv2 `auth_type AH`: a 24-byte AH between the IPv4 header and
//! the advert — next header 112, payload length 4, SPI = the sender's IPv4
//! source address, a sequence number, and a 12-byte ICV: HMAC-MD5-96 keyed
//! with the password's first 8 bytes (zero padded) over the IPv4 header
//! with TOS, fragment field and checksum zeroed (and TTL too for unicast
//! adverts), the AH with its ICV zeroed, and the advert. The VRRP header
//! says auth type 2 and carries 8 zero authentication bytes.
//!
//! Owns: the AH layout, the ICV (RustCrypto `hmac` + `md-5`, constant-time
//! compare), splitting a received AH packet and building an AH advert
//! frame. Never: sequence-number decisions (the group keeps the counter,
//! `engine::groups` decides), parsing the advert itself (`wire::vrrp`).
//!
//! Size cost of this module with `md-5` (`hmac` was linked already for the
//! sync MAC), static x86_64 musl `cross/build.sh x86_64`: 513,488 →
//! 517,744 B (+4,256 B, the whole `auth_type ah` feature); mipsel
//! (`cross/build.sh mipsel`): 605,584 → 613,392 B (+7,808 B).

use super::build::{AdvertHeader, ip_frame};
use super::ipv4::{self, protocol};
use super::vrrp::{self, ChecksumMode, VrrpRepr};
use super::{get_u32, set_u32};
use hmac::{Hmac, KeyInit, Mac};
use md5::Md5;
use std::net::Ipv4Addr;

/// Length of the AH keepalived sends (12 fixed bytes + 12 ICV bytes).
pub const HEADER_LEN: usize = 24;
/// HMAC-MD5-96: the first 12 bytes of the MD5 HMAC.
pub const ICV_LEN: usize = 12;
/// The AH payload length field: AH length in 32-bit words minus 2.
pub const PAYLOAD_LEN: u8 = (HEADER_LEN / 4 - 2) as u8;
/// Key bytes used (keepalived's `auth_data`: the password's first 8 bytes).
pub const KEY_LEN: usize = 8;
/// The last sequence number a sender uses (keepalived stops counting here).
pub const SEQ_MAX: u32 = 0xffff_fffe;

mod field {
    pub const NEXT_HEADER: usize = 0;
    pub const PAYLOAD_LEN: usize = 1;
    pub const SPI: usize = 4;
    pub const SEQ: usize = 8;
    pub const ICV: usize = 12;
}

/// The AH key: the password's first 8 bytes, zero padded (what keepalived
/// keys its HMAC with, whatever the password's length).
pub fn key_from_password(password: &[u8]) -> [u8; KEY_LEN] {
    VrrpRepr::plaintext_auth_data(password)
}

/// The fixed fields of a received AH.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct AhHeader {
    pub spi: u32,
    pub seq: u32,
}

/// Why an IPv4 payload of protocol 51 is not an AH-protected advert.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AhError {
    /// Shorter than the AH.
    Truncated,
    /// Payload length field not 4 (not keepalived's HMAC-MD5-96 layout).
    Length,
    /// AH for another protocol than VRRP.
    NextHeader(u8),
}

/// Split the payload of an IPv4 packet of protocol 51 into the AH fields
/// and the advert bytes after the AH. Never panics.
pub fn split(ip_payload: &[u8]) -> Result<(AhHeader, &[u8]), AhError> {
    let (Some(inner), Some(&next), Some(&len)) = (
        ip_payload.get(HEADER_LEN..),
        ip_payload.get(field::NEXT_HEADER),
        ip_payload.get(field::PAYLOAD_LEN),
    ) else {
        return Err(AhError::Truncated);
    };
    if next != protocol::VRRP {
        return Err(AhError::NextHeader(next));
    }
    if len != PAYLOAD_LEN {
        return Err(AhError::Length);
    }
    let hdr = AhHeader {
        spi: get_u32(ip_payload, field::SPI),
        seq: get_u32(ip_payload, field::SEQ),
    };
    Ok((hdr, inner))
}

/// The ICV of a whole IPv4 packet carrying an AH right after its header
/// (`ip_packet` may carry trailing padding: the total length field bounds
/// it). `zero_ttl`: the TTL is treated as mutable too (keepalived does so
/// for groups with unicast peers). None when the packet is too short.
pub fn icv(key: &[u8; KEY_LEN], ip_packet: &[u8], zero_ttl: bool) -> Option<[u8; ICV_LEN]> {
    let ihl = usize::from(ip_packet.first()? & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([*ip_packet.get(2)?, *ip_packet.get(3)?]));
    if ihl < ipv4::HEADER_LEN || total < ihl + HEADER_LEN {
        return None;
    }
    let pkt = ip_packet.get(..total)?;
    let mut hdr = [0u8; 60];
    let hdr = hdr.get_mut(..ihl)?;
    hdr.copy_from_slice(pkt.get(..ihl)?);
    // Mutable fields: TOS, flags + fragment offset, header checksum (TTL).
    hdr[1] = 0;
    hdr[6..8].fill(0);
    hdr[10..12].fill(0);
    if zero_ttl {
        hdr[8] = 0;
    }
    let mut ah = [0u8; HEADER_LEN];
    ah.copy_from_slice(pkt.get(ihl..ihl + HEADER_LEN)?);
    ah[field::ICV..].fill(0);
    let mut m = <Hmac<Md5> as KeyInit>::new_from_slice(key).ok()?;
    m.update(hdr);
    m.update(&ah);
    m.update(pkt.get(ihl + HEADER_LEN..)?);
    let full = m.finalize().into_bytes();
    let mut out = [0u8; ICV_LEN];
    out.copy_from_slice(full.get(..ICV_LEN)?);
    Some(out)
}

/// Whether the ICV carried in `ip_packet` is right for `key` (constant-time
/// compare). False for a packet too short to hold an AH.
pub fn verify(key: &[u8; KEY_LEN], ip_packet: &[u8], zero_ttl: bool) -> bool {
    let ihl = usize::from(ip_packet.first().copied().unwrap_or(0) & 0x0f) * 4;
    let Some(got) = ip_packet.get(ihl + field::ICV..ihl + HEADER_LEN) else {
        return false;
    };
    let Some(want) = icv(key, ip_packet, zero_ttl) else {
        return false;
    };
    // Constant time: fold the differences.
    want.iter().zip(got).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0
}

/// A VRRPv2 advert frame protected by AH: Ethernet + IPv4 (protocol 51,
/// TTL 255, TOS/DF from `hdr`) + AH (SPI = source address, `seq`, ICV) +
/// the advert (auth type 2, zero auth data, v2 checksum). `zero_ttl` as
/// in [`icv`]. Returns the frame length, or 0 when it does not fit.
pub fn vrrp_advert(
    buf: &mut [u8],
    hdr: &AdvertHeader,
    repr: &VrrpRepr,
    key: &[u8; KEY_LEN],
    seq: u32,
    zero_ttl: bool,
) -> usize {
    let len = repr.buffer_len();
    let ip = ipv4::Ipv4Repr {
        tos: hdr.tos,
        ident: hdr.ip_id,
        dont_frag: hdr.dont_frag,
        ttl: vrrp::TTL,
        ..ipv4::Ipv4Repr::new(hdr.src_ip, hdr.dst_ip, protocol::AH, HEADER_LEN + len)
    };
    let Some((payload, total)) = ip_frame(buf, hdr.src_mac, hdr.dst_mac, &ip) else {
        return 0;
    };
    let (ah, advert) = payload.split_at_mut(HEADER_LEN);
    ah.fill(0);
    ah[field::NEXT_HEADER] = protocol::VRRP;
    ah[field::PAYLOAD_LEN] = PAYLOAD_LEN;
    set_u32(ah, field::SPI, u32::from(hdr.src_ip));
    set_u32(ah, field::SEQ, seq);
    let mut r = repr.clone();
    r.version = 2;
    r.auth_type = vrrp::AUTH_AH;
    r.auth_data = [0; 8];
    if r.emit(advert, hdr.src_ip, hdr.dst_ip, ChecksumMode::Legacy) == 0 {
        return 0;
    }
    let ip_start = total - ipv4::HEADER_LEN - HEADER_LEN - len;
    let Some(value) = icv(key, &buf[ip_start..total], zero_ttl) else {
        return 0;
    };
    let at = ip_start + ipv4::HEADER_LEN + field::ICV;
    buf[at..at + ICV_LEN].copy_from_slice(&value);
    total
}

/// The source address a received AH advert's SPI must equal (keepalived's
/// rule: the SPI is the sender's address).
pub fn spi_matches(h: &AhHeader, src: Ipv4Addr) -> bool {
    h.spi == u32::from(src)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ethernet::EthernetAddress;

    fn repr() -> VrrpRepr {
        VrrpRepr {
            version: 2,
            vrid: 59,
            priority: 120,
            advert_interval: 1,
            auth_type: vrrp::AUTH_AH,
            auth_data: [0; 8],
            addresses: heapless::Vec::from_slice(&[Ipv4Addr::new(10, 99, 0, 150)]).unwrap(),
        }
    }

    const SRC: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 1);

    fn frame(seq: u32, zero_ttl: bool) -> Vec<u8> {
        let mut b = [0u8; 128];
        let hdr = AdvertHeader::multicast(EthernetAddress([2, 0, 0, 0, 0, 1]), SRC, 7);
        let n = vrrp_advert(&mut b, &hdr, &repr(), b"ahsecret", seq, zero_ttl);
        assert_eq!(n, 14 + 20 + 24 + 20);
        b[..n].to_vec()
    }

    #[test]
    fn built_frame_layout_and_icv() {
        let f = frame(5, false);
        let ip = &f[14..];
        assert_eq!(ip[9], 51);
        assert_eq!(u16::from_be_bytes([ip[2], ip[3]]), 64);
        assert!(crate::wire::checksum::verify(&ip[..20]));
        let (h, inner) = split(&ip[20..]).unwrap();
        assert_eq!(
            h,
            AhHeader {
                spi: u32::from(SRC),
                seq: 5
            }
        );
        assert!(spi_matches(&h, SRC));
        let r = VrrpRepr::parse(inner, SRC, vrrp::MULTICAST_ADDR).unwrap();
        assert_eq!(r, repr());
        assert!(verify(b"ahsecret", ip, false));
        assert!(!verify(b"ahsecreT", ip, false));
        // The TTL is covered for multicast, not when treated as mutable.
        assert!(!verify(b"ahsecret", ip, true));
        let u = frame(5, true);
        assert!(verify(b"ahsecret", &u[14..], true));
        // Mutable fields may change in flight; the rest may not.
        let mut m = ip.to_vec();
        m[1] = 0x10;
        m[6] = 0x40;
        m[10] ^= 0xff;
        assert!(verify(b"ahsecret", &m, false));
        for i in (0..m.len()).filter(|i| ![1, 6, 7, 10, 11].contains(i) && !(32..44).contains(i)) {
            let mut c = ip.to_vec();
            c[i] ^= 0x01;
            assert!(!verify(b"ahsecret", &c, false), "byte {i} not covered");
        }
        // Ethernet padding after the packet is ignored.
        let mut padded = ip.to_vec();
        padded.extend_from_slice(&[0xaa; 6]);
        assert!(verify(b"ahsecret", &padded, false));
    }

    #[test]
    fn split_errors_and_short_packets_never_panic() {
        let f = frame(1, false);
        let ip = &f[14..];
        for k in 0..HEADER_LEN {
            assert_eq!(split(&ip[20..20 + k]), Err(AhError::Truncated));
        }
        let mut b = ip[20..].to_vec();
        b[0] = 6;
        assert_eq!(split(&b), Err(AhError::NextHeader(6)));
        b[0] = 112;
        b[1] = 5;
        assert_eq!(split(&b), Err(AhError::Length));
        for k in 0..ip.len() {
            assert!(!verify(b"ahsecret", &ip[..k], false));
        }
        let mut big_ihl = ip.to_vec();
        big_ihl[0] = 0x4f;
        assert!(!verify(b"ahsecret", &big_ihl, false));
        assert_eq!(
            vrrp_advert(
                &mut [0u8; 77],
                &AdvertHeader::multicast(EthernetAddress([2, 0, 0, 0, 0, 1]), SRC, 1),
                &repr(),
                b"ahsecret",
                1,
                false
            ),
            0
        );
    }

    #[test]
    fn key_is_first_eight_bytes_zero_padded() {
        assert_eq!(key_from_password(b"abc"), *b"abc\0\0\0\0\0");
        assert_eq!(key_from_password(b"longpassword"), *b"longpass");
    }
}
