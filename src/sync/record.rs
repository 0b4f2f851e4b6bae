//! One session as conntrack-sync carries it: `SessionRecord`.
//!
//! Owns: the plain-data description of a synchronised session (stable id,
//! original tuple, NAT mapping, protocol state code, flags, remaining
//! timeout) and the session-id layout `(node_id << 48) | counter`. The lead
//! converts between this and live conntrack sessions. Never: wire bytes
//! (that is `msg`), table lookups.

use crate::conntrack::Tuple;
use std::net::Ipv4Addr;

/// Bits of a session id that hold the per-node counter.
pub const COUNTER_BITS: u32 = 48;
/// Largest per-node counter value.
pub const COUNTER_MAX: u64 = (1 << COUNTER_BITS) - 1;

/// A session id from its creator node and that node's counter
/// (`(node << 48) | counter`; the counter is truncated to 48 bits).
pub const fn session_id(node: u16, counter: u64) -> u64 {
    ((node as u64) << COUNTER_BITS) | (counter & COUNTER_MAX)
}

/// The node that created session `id`.
pub const fn id_node(id: u64) -> u16 {
    (id >> COUNTER_BITS) as u16
}

/// The creator's counter part of session `id`.
pub const fn id_counter(id: u64) -> u64 {
    id & COUNTER_MAX
}

/// The translated end of one side of a NAT'd session.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint {
    pub addr: Ipv4Addr,
    pub port: u16,
}

impl Endpoint {
    pub const fn new(addr: Ipv4Addr, port: u16) -> Endpoint {
        Endpoint { addr, port }
    }
}

/// How a session is translated: enough to rebuild its reply tuple.
///
/// `snat` replaces the original *source* (the reply goes back to it),
/// `dnat` replaces the original *destination* (the reply comes from it).
/// Hairpin NAT is both.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum NatMapping {
    #[default]
    None,
    Snat(Endpoint),
    Dnat(Endpoint),
    Both {
        snat: Endpoint,
        dnat: Endpoint,
    },
}

impl NatMapping {
    pub fn snat(&self) -> Option<Endpoint> {
        match *self {
            NatMapping::Snat(e) | NatMapping::Both { snat: e, .. } => Some(e),
            _ => None,
        }
    }
    pub fn dnat(&self) -> Option<Endpoint> {
        match *self {
            NatMapping::Dnat(e) | NatMapping::Both { dnat: e, .. } => Some(e),
            _ => None,
        }
    }
}

/// One session as synchronised between routers.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct SessionRecord {
    /// Stable id, `(creator node << 48) | counter` (see [`session_id`]).
    pub id: u64,
    /// The original direction as the first packet had it (before NAT);
    /// `orig.proto` is the IP protocol number.
    pub orig: Tuple,
    pub nat: NatMapping,
    /// Protocol state code; the conntrack module defines the values.
    pub state: u8,
    /// Session flags; the conntrack module defines the bits.
    pub flags: u8,
    /// Seconds left before the session expires.
    pub timeout_secs: u32,
}

/// ICMP: the echo identifier is both ports of a tuple.
const PROTO_ICMP: u8 = 1;

impl SessionRecord {
    /// The tuple the answering side's packets carry: the original tuple with
    /// the NAT applied, reversed. For ICMP the translated identifier is
    /// both ports (the `Tuple` convention).
    pub fn reply_tuple(&self) -> Tuple {
        let mut t = self.orig;
        if let Some(s) = self.nat.snat() {
            t.src = s.addr;
            t.sport = s.port;
            if t.proto == PROTO_ICMP {
                t.dport = s.port;
            }
        }
        if let Some(d) = self.nat.dnat() {
            t.dst = d.addr;
            t.dport = d.port;
            if t.proto == PROTO_ICMP {
                t.sport = d.port;
            }
        }
        t.reversed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(x: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, 0, 0, x)
    }

    fn rec(proto: u8, nat: NatMapping) -> SessionRecord {
        SessionRecord {
            id: session_id(3, 77),
            orig: Tuple::new(proto, a(1), 40000, a(2), 80),
            nat,
            state: 3,
            flags: 0,
            timeout_secs: 60,
        }
    }

    #[test]
    fn id_layout_round_trips() {
        let id = session_id(0xfffe, 0x1234_5678_9abc);
        assert_eq!(id_node(id), 0xfffe);
        assert_eq!(id_counter(id), 0x1234_5678_9abc);
        assert_eq!(id_counter(session_id(1, u64::MAX)), COUNTER_MAX);
        assert_eq!(id_node(session_id(1, u64::MAX)), 1);
    }

    #[test]
    fn reply_tuple_for_each_nat_kind() {
        let e = Endpoint::new(a(9), 1024);
        let d = Endpoint::new(a(8), 22);
        assert_eq!(
            rec(6, NatMapping::None).reply_tuple(),
            Tuple::new(6, a(2), 80, a(1), 40000)
        );
        assert_eq!(
            rec(6, NatMapping::Snat(e)).reply_tuple(),
            Tuple::new(6, a(2), 80, a(9), 1024)
        );
        assert_eq!(
            rec(6, NatMapping::Dnat(d)).reply_tuple(),
            Tuple::new(6, a(8), 22, a(1), 40000)
        );
        assert_eq!(
            rec(6, NatMapping::Both { snat: e, dnat: d }).reply_tuple(),
            Tuple::new(6, a(8), 22, a(9), 1024)
        );
    }

    #[test]
    fn icmp_reply_tuple_keeps_ident_as_both_ports() {
        let mut r = rec(1, NatMapping::Snat(Endpoint::new(a(9), 555)));
        r.orig = Tuple::new(1, a(1), 7, a(2), 7);
        assert_eq!(r.reply_tuple(), Tuple::new(1, a(2), 555, a(9), 555));
    }
}
