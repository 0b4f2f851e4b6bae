//! The 5-tuple that names one direction of a flow.
//!
//! Owns: the `Tuple` type shared by conntrack, NAT, firewall and sync, and
//! its reversal. Conventions: ICMP echo request/reply use the identifier as
//! *both* ports (so reversing keeps it, and NAT can translate it like a
//! port); protocols without ports (GRE, ESP, …) have both ports 0 and are
//! tracked by address pair. Never: parses bytes (the engine fills tuples
//! from `wire` views).

use std::net::Ipv4Addr;

/// One direction of a flow as it appears on the wire.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tuple {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub sport: u16,
    pub dport: u16,
    /// IP protocol number (6 TCP, 17 UDP, 1 ICMP, …).
    pub proto: u8,
}

impl Tuple {
    pub const fn new(proto: u8, src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16) -> Tuple {
        Tuple {
            src,
            dst,
            sport,
            dport,
            proto,
        }
    }

    /// The tuple of the answering direction (addresses and ports swapped).
    pub const fn reversed(&self) -> Tuple {
        Tuple {
            src: self.dst,
            dst: self.src,
            sport: self.dport,
            dport: self.sport,
            proto: self.proto,
        }
    }
}

impl core::fmt::Display for Tuple {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} {}:{} -> {}:{}",
            self.proto, self.src, self.sport, self.dst, self.dport
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reversed_swaps_ends_and_twice_is_identity() {
        let t = Tuple::new(
            6,
            Ipv4Addr::new(10, 0, 0, 1),
            1234,
            Ipv4Addr::new(10, 0, 0, 2),
            80,
        );
        let r = t.reversed();
        assert_eq!((r.src, r.sport, r.dst, r.dport), (t.dst, 80, t.src, 1234));
        assert_eq!(r.reversed(), t);
    }
}
