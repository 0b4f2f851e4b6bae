//! VRRP advertisements (RFC 3768 v2, RFC 5798 v3) over IPv4 (protocol 112).

use std::net::Ipv4Addr;

/// Most virtual addresses one advert may carry here.
pub const MAX_ADDRS: usize = 32;

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
