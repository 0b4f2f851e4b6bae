//! The SNAT allocator: which public address and port a new flow gets.
//!
//! Owns: the address choice within a range (a fixed-key hash of the client
//! address, the same on every router), the port search (keep the original
//! port when allowed and free, else a bounded probe from a keyed-hash
//! offset), the node's share of each port range, and the probe and
//! exhaustion counters. Never: matches rules, or decides whether a mapping
//! is taken (the caller's `in_use`, a conntrack lookup, decides).

use crate::config::{AddrRange, PortRange};
use crate::conntrack::Tuple;
use crate::hash::SipKey;
use std::net::Ipv4Addr;

use super::{PortShare, snat_reply};

/// Ports of the first probe round; later rounds halve it (Linux's
/// nf_nat_l4proto_unique_tuple uses the same bound).
pub const FIRST_ROUND: u32 = 128;
/// The last round probes this many ports.
const LAST_ROUND: u32 = 16;
/// Upper bound of `in_use` calls in one port search (128 + 64 + 32 + 16).
pub const MAX_PROBES: u32 = 240;

/// Fixed key for the address choice: one client maps to the same address
/// on every router and after every restart (so a client keeps its public
/// address across a failover for its new flows too).
const ADDR_KEY: SipKey = SipKey([0x6861_6777_2d6e_6174, 0x6164_6472_2d70_6963]);

/// TCP and UDP ports when no `translation_port` is configured.
pub const DEFAULT_PORTS: PortRange = PortRange {
    lo: 1024,
    hi: 65535,
};
/// ICMP echo identifiers (always this range; `translation_port` is for TCP
/// and UDP).
pub const ICMP_IDS: PortRange = PortRange { lo: 1, hi: 65535 };

/// What the flow's protocol lets SNAT translate besides the address.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Kind {
    /// TCP, UDP: the source port.
    Ports,
    /// ICMP echo: the identifier (both "ports" of the tuple).
    Ident,
    /// Everything else: only the address.
    Address,
}

fn kind(proto: u8) -> Kind {
    match proto {
        6 | 17 => Kind::Ports,
        1 => Kind::Ident,
        _ => Kind::Address,
    }
}

/// Number of values in an inclusive range (0 when empty).
fn range_len(r: PortRange) -> u32 {
    (u32::from(r.hi) + 1).saturating_sub(u32::from(r.lo))
}

impl PortShare {
    /// The part of `r` this node allocates from; `None` when it is empty
    /// (the upper half of a one-port range). The lower half gets the middle
    /// port of an odd-sized range.
    pub fn part(self, r: PortRange) -> Option<PortRange> {
        let n = range_len(r);
        let lower_len = n.div_ceil(2);
        let mid = u32::from(r.lo) + lower_len; // first port of the upper half
        let (lo, hi) = match self {
            PortShare::All => (u32::from(r.lo), u32::from(r.hi)),
            PortShare::Half { upper: false } => (u32::from(r.lo), mid.checked_sub(1)?),
            PortShare::Half { upper: true } => (mid, u32::from(r.hi)),
        };
        if n == 0 || lo > hi {
            return None;
        }
        Some(PortRange {
            lo: u16::try_from(lo).ok()?,
            hi: u16::try_from(hi).ok()?,
        })
    }
}

#[derive(Clone)]
pub(crate) struct Alloc {
    /// Secret key of the port-search offset.
    key: SipKey,
    pub(crate) share: PortShare,
    /// `in_use` calls made while searching (not counting the check of the
    /// original port).
    pub(crate) probes: u64,
    /// Searches that found nothing free.
    pub(crate) exhausted: u64,
}

impl Alloc {
    pub(crate) fn new(key: SipKey, share: PortShare) -> Alloc {
        Alloc {
            key,
            share,
            probes: 0,
            exhausted: 0,
        }
    }

    /// A free (address, port) for `t` from `addrs` and, for TCP/UDP,
    /// `ports` (default `DEFAULT_PORTS`). `None` (counted) when nothing free
    /// was found within the probe bound.
    pub(crate) fn map(
        &mut self,
        t: &Tuple,
        addrs: AddrRange,
        ports: Option<PortRange>,
        in_use: &mut impl FnMut(&Tuple) -> bool,
    ) -> Option<(Ipv4Addr, u16)> {
        let found = match kind(t.proto) {
            Kind::Address => self.address_only(t, addrs, in_use),
            Kind::Ports => self.with_port(t, addrs, ports, DEFAULT_PORTS, in_use),
            Kind::Ident => self.with_port(t, addrs, None, ICMP_IDS, in_use),
        };
        if found.is_none() {
            self.exhausted = self.exhausted.wrapping_add(1);
        }
        found
    }

    /// Protocols without ports: the client's address, else the next ones of
    /// the range (at most `FIRST_ROUND` tries).
    fn address_only(
        &mut self,
        t: &Tuple,
        addrs: AddrRange,
        in_use: &mut impl FnMut(&Tuple) -> bool,
    ) -> Option<(Ipv4Addr, u16)> {
        let len = addrs.len();
        if addrs.is_empty() {
            return None;
        }
        let first = client_index(addrs, t.src);
        for i in 0..len.min(u64::from(FIRST_ROUND)) {
            let a = nth(addrs, (first + i) % len)?;
            self.probes = self.probes.wrapping_add(1);
            if !in_use(&snat_reply(t, a, t.sport)) {
                return Some((a, t.sport));
            }
        }
        None
    }

    fn with_port(
        &mut self,
        t: &Tuple,
        addrs: AddrRange,
        configured: Option<PortRange>,
        default: PortRange,
        in_use: &mut impl FnMut(&Tuple) -> bool,
    ) -> Option<(Ipv4Addr, u16)> {
        if addrs.is_empty() {
            return None;
        }
        let addr = nth(addrs, client_index(addrs, t.src))?;
        let part = self.share.part(configured.unwrap_or(default))?;
        let keep = match (self.share, configured) {
            // The whole range is ours; unconfigured, any original port may stay.
            (PortShare::All, None) => true,
            _ => part.contains(t.sport),
        };
        if keep && !in_use(&snat_reply(t, addr, t.sport)) {
            return Some((addr, t.sport));
        }
        self.search(t, addr, part, in_use).map(|p| (addr, p))
    }

    /// Probe `part` from a keyed-hash offset: `FIRST_ROUND` consecutive
    /// ports, then rounds of half as many from fresh offsets down to
    /// `LAST_ROUND` (at most `MAX_PROBES` calls). A range no larger than the
    /// first round is searched completely, so `None` then means full.
    fn search(
        &mut self,
        t: &Tuple,
        addr: Ipv4Addr,
        part: PortRange,
        in_use: &mut impl FnMut(&Tuple) -> bool,
    ) -> Option<u16> {
        let n = range_len(part);
        if n == 0 {
            return None;
        }
        let mut attempts = n.min(FIRST_ROUND);
        let mut round = 0u8;
        loop {
            let off = (self.offset(t, addr, round) % u64::from(n)) as u32;
            for i in 0..attempts {
                // off + i < 2n <= 2^17: no overflow; the sum stays <= part.hi.
                let port = u32::from(part.lo) + (off + i) % n;
                let port = u16::try_from(port).ok()?;
                self.probes = self.probes.wrapping_add(1);
                if !in_use(&snat_reply(t, addr, port)) {
                    return Some(port);
                }
            }
            if attempts >= n || attempts <= LAST_ROUND {
                return None;
            }
            attempts /= 2;
            round = round.wrapping_add(1);
        }
    }

    /// Where a search starts: secret per router, different per flow and round.
    fn offset(&self, t: &Tuple, addr: Ipv4Addr, round: u8) -> u64 {
        let mut b = [0u8; 18];
        b[0..4].copy_from_slice(&t.src.octets());
        b[4..8].copy_from_slice(&t.dst.octets());
        b[8..10].copy_from_slice(&t.sport.to_be_bytes());
        b[10..12].copy_from_slice(&t.dport.to_be_bytes());
        b[12] = t.proto;
        b[13..17].copy_from_slice(&addr.octets());
        b[17] = round;
        self.key.hash(&b)
    }
}

/// The index in `addrs` that `client` maps to (stable, the same everywhere).
fn client_index(addrs: AddrRange, client: Ipv4Addr) -> u64 {
    ADDR_KEY.hash(&client.octets()) % addrs.len().max(1)
}

/// The `i`-th address of the range.
fn nth(addrs: AddrRange, i: u64) -> Option<Ipv4Addr> {
    let a = u64::from(u32::from(addrs.lo)).checked_add(i)?;
    u32::try_from(a).ok().map(Ipv4Addr::from)
}
