//! VRRP advertisements (RFC 3768 v2, RFC 5798 v3) over IPv4 (protocol 112):
//! a view (`VrrpPacket`) and the parsed meaning (`VrrpRepr`) with checked
//! `parse` (distinct `VrrpError` per reason, never panics) and `emit`.
//! Owns the bytes of one VRRP message only: the IPv4 header (TTL 255 etc.)
//! is checked by the caller, authentication is compared by the state machine.

use super::checksum;
use super::ethernet::{EthernetAddress, EthernetFrame, ethertype};
use super::ipv4::{Ipv4Packet, protocol};
use super::{get_ipv4, get_u8, get_u16, set_ipv4, set_u8, set_u16};
use std::net::Ipv4Addr;

/// Most virtual addresses one advert may carry here.
pub const MAX_ADDRS: usize = 32;

/// Length of the fixed VRRP header (both versions).
pub const HEADER_LEN: usize = 8;
/// Length of the v2 authentication data.
pub const AUTH_LEN: usize = 8;
/// Largest VRRP message we emit or accept (v2 with `MAX_ADDRS`).
pub const MAX_LEN: usize = HEADER_LEN + 4 * MAX_ADDRS + AUTH_LEN;

/// VRRP multicast group 224.0.0.18.
pub const MULTICAST_ADDR: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// TTL every advert is sent with and must be received with.
pub const TTL: u8 = 255;
/// v2 auth type: none.
pub const AUTH_NONE: u8 = 0;
/// v2 auth type "simple text password" (RFC 2338, kept by RFC 3768 for
/// compatibility; keepalived's `auth_type PASS`).
pub const AUTH_PLAINTEXT: u8 = 1;
/// IPsec AH (RFC 2338; keepalived's `auth_type AH`): the advert follows an
/// AH (`wire::ah`) and carries 8 zero authentication bytes.
pub const AUTH_AH: u8 = 2;

/// Why an advert was rejected; each maps to a counter.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum VrrpError {
    /// Shorter than the header or than the address count says.
    Truncated,
    /// Length does not match the address count (and auth data for v2).
    Length,
    /// Version field not 2 or 3.
    Version,
    /// Type field not 1 (ADVERTISEMENT).
    Type,
    Checksum,
    /// More addresses than `MAX_ADDRS`.
    TooManyAddresses,
}

impl core::fmt::Display for VrrpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            VrrpError::Truncated => "truncated",
            VrrpError::Length => "length does not match address count",
            VrrpError::Version => "bad version",
            VrrpError::Type => "bad type",
            VrrpError::Checksum => "bad checksum",
            VrrpError::TooManyAddresses => "too many addresses",
        })
    }
}

impl std::error::Error for VrrpError {}

/// Which checksum a VRRPv3 advert carries.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ChecksumMode {
    /// RFC 5798: over an IPv4 pseudo-header plus the VRRP message.
    Rfc,
    /// v2-style: over the VRRP message only (old implementations).
    Legacy,
}

/// A parsed advertisement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VrrpRepr {
    /// 2 or 3.
    pub version: u8,
    pub vrid: u8,
    pub priority: u8,
    /// v2: Adver Int in seconds; v3: Max Adver Int in centiseconds (12 bits).
    pub advert_interval: u16,
    /// v2 only: 0 none, 1 simple text password. Always 0 for v3.
    pub auth_type: u8,
    /// v2 only: the 8 authentication bytes (zero for v3 or no auth).
    pub auth_data: [u8; 8],
    pub addresses: heapless::Vec<Ipv4Addr, MAX_ADDRS>,
}

mod field {
    pub const VER_TYPE: usize = 0;
    pub const VRID: usize = 1;
    pub const PRIORITY: usize = 2;
    pub const COUNT: usize = 3;
    pub const AUTH_TYPE: usize = 4;
    pub const ADVER_INT: usize = 5;
    /// v3: rsvd (4 bits) + max adver int (12 bits).
    pub const MAX_ADVER_INT: usize = 4;
    pub const CHECKSUM: usize = 6;
    pub const ADDRS: usize = 8;
}

/// A view of a VRRP message (the whole IPv4 payload). `new_checked` only
/// guarantees the 8-byte header; use `VrrpRepr::parse` for full checks.
#[derive(Debug, Clone)]
pub struct VrrpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> VrrpPacket<T> {
    pub fn new_unchecked(buffer: T) -> VrrpPacket<T> {
        VrrpPacket { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<VrrpPacket<T>, VrrpError> {
        let p = VrrpPacket::new_unchecked(buffer);
        if p.buffer.as_ref().len() < HEADER_LEN {
            return Err(VrrpError::Truncated);
        }
        Ok(p)
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn version(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::VER_TYPE) >> 4
    }
    pub fn msg_type(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::VER_TYPE) & 0x0f
    }
    pub fn vrid(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::VRID)
    }
    pub fn priority(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::PRIORITY)
    }
    pub fn count(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::COUNT)
    }
    /// v2 auth type.
    pub fn auth_type(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::AUTH_TYPE)
    }
    /// v2 advertisement interval (seconds).
    pub fn adver_int(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::ADVER_INT)
    }
    /// v3 max advertisement interval (centiseconds, 12 bits).
    pub fn max_adver_int(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::MAX_ADVER_INT) & 0x0fff
    }
    /// v3 reserved bits (should be 0, ignored on receive).
    pub fn rsvd(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::MAX_ADVER_INT) >> 4
    }
    pub fn checksum(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::CHECKSUM)
    }
    /// Address `i` (unspecified when out of range).
    pub fn addr(&self, i: usize) -> Ipv4Addr {
        get_ipv4(
            self.buffer.as_ref(),
            field::ADDRS.saturating_add(i.saturating_mul(4)),
        )
    }
    /// The length the header says the message has.
    pub fn expected_len(&self) -> usize {
        let base = HEADER_LEN + 4 * usize::from(self.count());
        if self.version() == 2 {
            base + AUTH_LEN
        } else {
            base
        }
    }
    /// v2 auth data: the 8 bytes after the addresses (zeros if absent).
    pub fn auth_data(&self) -> [u8; 8] {
        let at = HEADER_LEN + 4 * usize::from(self.count());
        self.buffer
            .as_ref()
            .get(at..at + AUTH_LEN)
            .and_then(|s| <[u8; 8]>::try_from(s).ok())
            .unwrap_or([0; 8])
    }
    /// v2-style checksum check (over the message only).
    pub fn verify_checksum_legacy(&self) -> bool {
        checksum::verify(self.buffer.as_ref())
    }
    /// RFC 5798 checksum check (pseudo-header + message).
    pub fn verify_checksum_rfc(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        checksum::verify_with_pseudo(src, dst, protocol::VRRP, self.buffer.as_ref())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> VrrpPacket<T> {
    pub fn set_version_and_type(&mut self, version: u8, msg_type: u8) {
        set_u8(
            self.buffer.as_mut(),
            field::VER_TYPE,
            (version << 4) | (msg_type & 0x0f),
        )
    }
    pub fn set_vrid(&mut self, v: u8) {
        set_u8(self.buffer.as_mut(), field::VRID, v)
    }
    pub fn set_priority(&mut self, v: u8) {
        set_u8(self.buffer.as_mut(), field::PRIORITY, v)
    }
    pub fn set_count(&mut self, v: u8) {
        set_u8(self.buffer.as_mut(), field::COUNT, v)
    }
    pub fn set_auth_type(&mut self, v: u8) {
        set_u8(self.buffer.as_mut(), field::AUTH_TYPE, v)
    }
    pub fn set_adver_int(&mut self, v: u8) {
        set_u8(self.buffer.as_mut(), field::ADVER_INT, v)
    }
    /// v3: rsvd 0 + 12-bit interval (higher bits dropped).
    pub fn set_max_adver_int(&mut self, cs: u16) {
        set_u16(self.buffer.as_mut(), field::MAX_ADVER_INT, cs & 0x0fff)
    }
    pub fn set_checksum(&mut self, v: u16) {
        set_u16(self.buffer.as_mut(), field::CHECKSUM, v)
    }
    pub fn set_addr(&mut self, i: usize, a: Ipv4Addr) {
        set_ipv4(
            self.buffer.as_mut(),
            field::ADDRS.saturating_add(i.saturating_mul(4)),
            a,
        )
    }
    pub fn set_auth_data(&mut self, d: &[u8; 8]) {
        let at = HEADER_LEN + 4 * usize::from(self.count());
        if let Some(s) = self.buffer.as_mut().get_mut(at..at + AUTH_LEN) {
            s.copy_from_slice(d);
        }
    }
    /// Fill the v2-style checksum (over the message).
    pub fn fill_checksum_legacy(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.buffer.as_ref());
        self.set_checksum(c);
    }
    /// Fill the RFC 5798 checksum (pseudo-header + message).
    pub fn fill_checksum_rfc(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let c = checksum::checksum_with_pseudo(src, dst, protocol::VRRP, self.buffer.as_ref());
        self.set_checksum(c);
    }
}

impl VrrpRepr {
    /// Parse a VRRP message (exactly the IPv4 payload) received from `src`
    /// to `dst`. Checks, in order: header present (Truncated), version 2 or
    /// 3 (Version), type 1 (Type), length vs. count — shorter is Truncated,
    /// longer is Length —, checksum (Checksum; v2: over the message; v3:
    /// the RFC 5798 pseudo-header form or the v2-style form), then count
    /// <= MAX_ADDRS (TooManyAddresses). A count of 0 is accepted here; the
    /// state machine compares the addresses with its config.
    pub fn parse(vrrp_bytes: &[u8], src: Ipv4Addr, dst: Ipv4Addr) -> Result<VrrpRepr, VrrpError> {
        Self::parse_with_mode(vrrp_bytes, src, dst).map(|(r, _)| r)
    }

    /// As [`parse`](Self::parse), also saying which checksum form matched
    /// (`Legacy` for every v2 advert; for v3 `Rfc` is tried first).
    pub fn parse_with_mode(
        vrrp_bytes: &[u8],
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) -> Result<(VrrpRepr, ChecksumMode), VrrpError> {
        let p = VrrpPacket::new_checked(vrrp_bytes)?;
        let version = p.version();
        if version != 2 && version != 3 {
            return Err(VrrpError::Version);
        }
        if p.msg_type() != 1 {
            return Err(VrrpError::Type);
        }
        let want = p.expected_len();
        if vrrp_bytes.len() < want {
            return Err(VrrpError::Truncated);
        }
        if vrrp_bytes.len() > want {
            return Err(VrrpError::Length);
        }
        let mode = if version == 2 {
            if !p.verify_checksum_legacy() {
                return Err(VrrpError::Checksum);
            }
            ChecksumMode::Legacy
        } else if p.verify_checksum_rfc(src, dst) {
            ChecksumMode::Rfc
        } else if p.verify_checksum_legacy() {
            ChecksumMode::Legacy
        } else {
            return Err(VrrpError::Checksum);
        };
        let count = usize::from(p.count());
        if count > MAX_ADDRS {
            return Err(VrrpError::TooManyAddresses);
        }
        let mut addresses = heapless::Vec::new();
        for i in 0..count {
            addresses
                .push(p.addr(i))
                .map_err(|_| VrrpError::TooManyAddresses)?;
        }
        let (advert_interval, auth_type, auth_data) = if version == 2 {
            (u16::from(p.adver_int()), p.auth_type(), p.auth_data())
        } else {
            (p.max_adver_int(), 0, [0; 8])
        };
        Ok((
            VrrpRepr {
                version,
                vrid: p.vrid(),
                priority: p.priority(),
                advert_interval,
                auth_type,
                auth_data,
                addresses,
            },
            mode,
        ))
    }

    /// Bytes `emit` writes: 8 + 4 × addresses (+ 8 auth bytes for v2).
    pub fn buffer_len(&self) -> usize {
        let base = HEADER_LEN + 4 * self.addresses.len();
        if self.version == 3 {
            base
        } else {
            base + AUTH_LEN
        }
    }

    /// Write the message with its checksum into the front of `buf` and
    /// return its length, or 0 when `buf` is too small. A version other
    /// than 3 is written as 2. v2: interval clamped to 255 s, checksum over
    /// the message (`mode` ignored), auth type/data as given. v3: interval
    /// masked to 12 bits, rsvd 0, no auth data, checksum per `mode`
    /// (`src`/`dst` are the IPv4 addresses of the packet being built).
    pub fn emit(&self, buf: &mut [u8], src: Ipv4Addr, dst: Ipv4Addr, mode: ChecksumMode) -> usize {
        let len = self.buffer_len();
        let Some(out) = buf.get_mut(..len) else {
            return 0;
        };
        let v3 = self.version == 3;
        let mut p = VrrpPacket::new_unchecked(out);
        p.set_version_and_type(if v3 { 3 } else { 2 }, 1);
        p.set_vrid(self.vrid);
        p.set_priority(self.priority);
        // addresses.len() <= MAX_ADDRS (32), fits in u8.
        p.set_count(u8::try_from(self.addresses.len()).unwrap_or(u8::MAX));
        if v3 {
            p.set_max_adver_int(self.advert_interval);
        } else {
            p.set_auth_type(self.auth_type);
            p.set_adver_int(u8::try_from(self.advert_interval).unwrap_or(u8::MAX));
        }
        for (i, a) in self.addresses.iter().enumerate() {
            p.set_addr(i, *a);
        }
        if v3 {
            match mode {
                ChecksumMode::Rfc => p.fill_checksum_rfc(src, dst),
                ChecksumMode::Legacy => p.fill_checksum_legacy(),
            }
        } else {
            p.set_auth_data(&self.auth_data);
            p.fill_checksum_legacy();
        }
        len
    }

    /// The plaintext password as auth data: the first 8 bytes of
    /// `password`, zero-padded (what keepalived sends for `auth_pass`).
    pub fn plaintext_auth_data(password: &[u8]) -> [u8; 8] {
        let mut d = [0u8; 8];
        for (o, i) in d.iter_mut().zip(password) {
            *o = *i;
        }
        d
    }
}

/// An advert as received in a whole Ethernet frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedAdvert {
    pub src_mac: EthernetAddress,
    pub dst_mac: EthernetAddress,
    pub src_ip: Ipv4Addr,
    pub dst_ip: Ipv4Addr,
    pub ttl: u8,
    /// Which checksum form verified (`Legacy` for every v2 advert).
    pub checksum_mode: ChecksumMode,
    pub repr: VrrpRepr,
}

/// Why a frame was not a usable advert.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AdvertRxError {
    /// Not IPv4 protocol 112 (not an advert at all: not counted as VRRP).
    NotVrrp,
    /// The IPv4 header is bad (length, version, checksum) or a fragment.
    Ip(super::Error),
    /// IPv4 TTL was not 255 (RFC 3768 §7.1, RFC 5798 §7.1).
    Ttl(u8),
    /// The VRRP message itself was rejected.
    Vrrp(VrrpError),
}

/// The receive path for a whole Ethernet frame: Ethernet II, IPv4 with a
/// good header checksum and not fragmented, protocol 112, TTL 255, then
/// [`VrrpRepr::parse_with_mode`] over exactly the IPv4 payload (Ethernet
/// padding ignored). Never panics.
pub fn parse_advert_frame(frame: &[u8]) -> Result<ReceivedAdvert, AdvertRxError> {
    let eth = EthernetFrame::new_checked(frame).map_err(|_| AdvertRxError::NotVrrp)?;
    if eth.ethertype() != ethertype::IPV4 {
        return Err(AdvertRxError::NotVrrp);
    }
    let ip = Ipv4Packet::new_checked(eth.payload()).map_err(AdvertRxError::Ip)?;
    if ip.protocol() != protocol::VRRP {
        return Err(AdvertRxError::NotVrrp);
    }
    if !ip.verify_checksum() {
        return Err(AdvertRxError::Ip(super::Error::Checksum));
    }
    if ip.is_fragment() {
        return Err(AdvertRxError::Ip(super::Error::Unsupported));
    }
    if ip.ttl() != TTL {
        return Err(AdvertRxError::Ttl(ip.ttl()));
    }
    let (src_ip, dst_ip) = (ip.src_addr(), ip.dst_addr());
    let (repr, checksum_mode) =
        VrrpRepr::parse_with_mode(ip.payload(), src_ip, dst_ip).map_err(AdvertRxError::Vrrp)?;
    Ok(ReceivedAdvert {
        src_mac: eth.src_addr(),
        dst_mac: eth.dst_addr(),
        src_ip,
        dst_ip,
        ttl: ip.ttl(),
        checksum_mode,
        repr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 2);
    const DST: Ipv4Addr = MULTICAST_ADDR;

    fn v2() -> VrrpRepr {
        VrrpRepr {
            version: 2,
            vrid: 42,
            priority: 100,
            advert_interval: 1,
            auth_type: AUTH_PLAINTEXT,
            auth_data: VrrpRepr::plaintext_auth_data(b"secret12345"),
            addresses: heapless::Vec::from_slice(&[Ipv4Addr::new(192, 168, 1, 254)]).unwrap(),
        }
    }

    fn v3() -> VrrpRepr {
        VrrpRepr {
            version: 3,
            vrid: 7,
            priority: 200,
            advert_interval: 10,
            auth_type: 0,
            auth_data: [0; 8],
            addresses: heapless::Vec::from_slice(&[
                Ipv4Addr::new(10, 0, 0, 1),
                Ipv4Addr::new(10, 0, 0, 2),
            ])
            .unwrap(),
        }
    }

    #[test]
    fn v2_bytes_by_hand() {
        let mut buf = [0u8; 64];
        let n = v2().emit(&mut buf, SRC, DST, ChecksumMode::Rfc);
        assert_eq!(n, 20);
        let b = &buf[..n];
        assert_eq!(b[0], 0x21);
        assert_eq!(&b[1..6], &[42, 100, 1, 1, 1]);
        assert_eq!(&b[8..12], &[192, 168, 1, 254]);
        assert_eq!(&b[12..20], b"secret12");
        // Checksum independently: ones' complement sum over the message.
        let mut sum: u32 = 0;
        for w in b.chunks(2) {
            sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        assert_eq!(sum, 0xffff);
        let (r, mode) = VrrpRepr::parse_with_mode(b, SRC, DST).unwrap();
        assert_eq!(r, v2());
        assert_eq!(mode, ChecksumMode::Legacy);
        // v2 checksum does not depend on the IP addresses.
        assert!(VrrpRepr::parse(b, Ipv4Addr::new(1, 2, 3, 4), DST).is_ok());
    }

    #[test]
    fn v3_both_checksum_forms_accepted() {
        let mut buf = [0u8; 64];
        for mode in [ChecksumMode::Rfc, ChecksumMode::Legacy] {
            let n = v3().emit(&mut buf, SRC, DST, mode);
            assert_eq!(n, 16);
            let b = &buf[..n];
            assert_eq!(b[0], 0x31);
            assert_eq!(&b[4..6], &[0x00, 0x0a]);
            let (r, got) = VrrpRepr::parse_with_mode(b, SRC, DST).unwrap();
            assert_eq!(r, v3());
            assert_eq!(got, mode);
            // Independent: the RFC form verifies with an explicit pseudo-header.
            let mut ph = Vec::from(SRC.octets());
            ph.extend_from_slice(&DST.octets());
            ph.extend_from_slice(&[0, 112, 0, 16]);
            ph.extend_from_slice(b);
            assert_eq!(checksum::verify(&ph), mode == ChecksumMode::Rfc);
            assert_eq!(checksum::verify(b), mode == ChecksumMode::Legacy);
        }
        // RFC checksum with the wrong source address fails.
        let n = v3().emit(&mut buf, SRC, DST, ChecksumMode::Rfc);
        assert_eq!(
            VrrpRepr::parse(&buf[..n], Ipv4Addr::new(192, 168, 1, 3), DST),
            Err(VrrpError::Checksum)
        );
    }

    #[test]
    fn v3_interval_12_bits() {
        let mut r = v3();
        r.advert_interval = 4095;
        let mut buf = [0u8; 64];
        let n = r.emit(&mut buf, SRC, DST, ChecksumMode::Rfc);
        assert_eq!(&buf[4..6], &[0x0f, 0xff]);
        assert_eq!(
            VrrpRepr::parse(&buf[..n], SRC, DST)
                .unwrap()
                .advert_interval,
            4095
        );
        // Reserved bits set by a sender are ignored.
        buf[4] |= 0xf0;
        VrrpPacket::new_unchecked(&mut buf[..n]).fill_checksum_rfc(SRC, DST);
        assert_eq!(
            VrrpRepr::parse(&buf[..n], SRC, DST)
                .unwrap()
                .advert_interval,
            4095
        );
    }

    #[test]
    fn distinct_errors() {
        let mut buf = [0u8; 64];
        let n = v2().emit(&mut buf, SRC, DST, ChecksumMode::Rfc);
        let good = buf[..n].to_vec();
        for k in 0..HEADER_LEN {
            assert_eq!(
                VrrpRepr::parse(&good[..k], SRC, DST),
                Err(VrrpError::Truncated)
            );
        }
        // Missing auth data / one address byte short.
        assert_eq!(
            VrrpRepr::parse(&good[..n - 1], SRC, DST),
            Err(VrrpError::Truncated)
        );
        let mut long = good.clone();
        long.push(0);
        assert_eq!(VrrpRepr::parse(&long, SRC, DST), Err(VrrpError::Length));
        let mut b = good.clone();
        b[0] = 0x11;
        assert_eq!(VrrpRepr::parse(&b, SRC, DST), Err(VrrpError::Version));
        b[0] = 0x41;
        assert_eq!(VrrpRepr::parse(&b, SRC, DST), Err(VrrpError::Version));
        b[0] = 0x22;
        assert_eq!(VrrpRepr::parse(&b, SRC, DST), Err(VrrpError::Type));
        let mut b = good.clone();
        b[9] ^= 1;
        assert_eq!(VrrpRepr::parse(&b, SRC, DST), Err(VrrpError::Checksum));
        let mut b = good.clone();
        b[3] = 2; // count 2 but only 1 address + auth: short by 4
        assert_eq!(VrrpRepr::parse(&b, SRC, DST), Err(VrrpError::Truncated));
        b[3] = 0; // count 0: 4 bytes too many
        assert_eq!(VrrpRepr::parse(&b, SRC, DST), Err(VrrpError::Length));
        // 33 addresses with a valid checksum.
        let mut big = vec![0x21, 1, 100, 33, 0, 1, 0, 0];
        for i in 0..33u8 {
            big.extend_from_slice(&[10, 0, 0, i]);
        }
        big.extend_from_slice(&[0; 8]);
        VrrpPacket::new_unchecked(&mut big[..]).fill_checksum_legacy();
        assert_eq!(
            VrrpRepr::parse(&big, SRC, DST),
            Err(VrrpError::TooManyAddresses)
        );
        // Exactly 32 is fine.
        let mut ok = vec![0x21, 1, 100, 32, 0, 1, 0, 0];
        for i in 0..32u8 {
            ok.extend_from_slice(&[10, 0, 0, i]);
        }
        ok.extend_from_slice(&[0; 8]);
        VrrpPacket::new_unchecked(&mut ok[..]).fill_checksum_legacy();
        assert_eq!(VrrpRepr::parse(&ok, SRC, DST).unwrap().addresses.len(), 32);
        assert_eq!(ok.len(), MAX_LEN);
    }

    #[test]
    fn emit_too_small_is_zero() {
        let mut buf = [0u8; 19];
        assert_eq!(v2().emit(&mut buf, SRC, DST, ChecksumMode::Rfc), 0);
        assert_eq!(v3().emit(&mut buf[..15], SRC, DST, ChecksumMode::Rfc), 0);
    }

    #[test]
    fn flip_every_bit_never_panics() {
        let mut buf = [0u8; 64];
        for r in [v2(), v3()] {
            let n = r.emit(&mut buf, SRC, DST, ChecksumMode::Rfc);
            for i in 0..n * 8 {
                let mut b = buf[..n].to_vec();
                b[i / 8] ^= 1 << (i % 8);
                // Any single-bit change outside the structural fields must
                // be caught by the checksum.
                let res = VrrpRepr::parse(&b, SRC, DST);
                assert!(res.is_err(), "bit {i} accepted");
            }
        }
    }

    #[test]
    fn advert_frame_receive_path() {
        use crate::wire::build::{AdvertHeader, vrrp_advert};
        let mac = EthernetAddress([2, 0, 0, 0, 0, 1]);
        let mut f = [0u8; 128];
        let n = vrrp_advert(
            &mut f,
            &AdvertHeader::multicast(mac, SRC, 1),
            &v3(),
            ChecksumMode::Rfc,
        );
        let mut padded = f[..n].to_vec();
        padded.resize(60, 0);
        let got = parse_advert_frame(&padded).unwrap();
        assert_eq!(got.repr, v3());
        assert_eq!(
            (got.src_mac, got.src_ip, got.dst_ip, got.ttl),
            (mac, SRC, DST, 255)
        );
        assert_eq!(got.checksum_mode, ChecksumMode::Rfc);
        // TTL 254 with a fixed IP checksum.
        let mut b = f[..n].to_vec();
        {
            let mut ip = Ipv4Packet::new_checked(&mut b[14..]).unwrap();
            ip.set_ttl(254);
            ip.fill_checksum();
        }
        assert_eq!(parse_advert_frame(&b), Err(AdvertRxError::Ttl(254)));
        // A fragment.
        let mut b = f[..n].to_vec();
        {
            let mut ip = Ipv4Packet::new_checked(&mut b[14..]).unwrap();
            ip.set_flags_and_offset(false, true, 0);
            ip.fill_checksum();
        }
        assert_eq!(
            parse_advert_frame(&b),
            Err(AdvertRxError::Ip(super::super::Error::Unsupported))
        );
        // Bad IP checksum, bad VRRP checksum, other protocol, ARP.
        let mut b = f[..n].to_vec();
        b[22] = 200;
        assert_eq!(
            parse_advert_frame(&b),
            Err(AdvertRxError::Ip(super::super::Error::Checksum))
        );
        let mut b = f[..n].to_vec();
        b[n - 1] ^= 1;
        assert_eq!(
            parse_advert_frame(&b),
            Err(AdvertRxError::Vrrp(VrrpError::Checksum))
        );
        let mut b = f[..n].to_vec();
        b[23] = 17;
        assert_eq!(parse_advert_frame(&b), Err(AdvertRxError::NotVrrp));
        let mut b = f[..n].to_vec();
        b[13] = 6;
        assert_eq!(parse_advert_frame(&b), Err(AdvertRxError::NotVrrp));
        for k in 0..n {
            assert!(parse_advert_frame(&f[..k]).is_err());
        }
    }
}
