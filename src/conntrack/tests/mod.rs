//! Conntrack tests, shared fixtures (tables, tuples, segments, a scripted TCP
//! connection) and table-wide basics: lookups by both tuples, stale indexes,
//! memory footprint, id ranges. Topic files: tcp, protocols (UDP/ICMP/generic),
//! expiry (and eviction), sync. The randomized model test is in `model_tests`.

mod expiry;
mod protocols;
mod sync;
mod tcp;

use super::*;
use crate::config::ConntrackTimeouts;
use crate::time::Duration;
use crate::wire::tcp::flags as F;
use std::net::Ipv4Addr;

pub(super) const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 10);
pub(super) const SERVER: Ipv4Addr = Ipv4Addr::new(93, 184, 216, 34);
pub(super) const NAT: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);

pub(super) fn table(max: u32) -> Conntrack {
    table_with(max, ConntrackTimeouts::default())
}

pub(super) fn table_with(max: u32, timeouts: ConntrackTimeouts) -> Conntrack {
    let cfg = config::Conntrack {
        max_entries: max,
        timeouts,
        ..config::Conntrack::default()
    };
    Conntrack::new(&cfg, 1, [7; 16])
}

pub(super) fn at(s: u64) -> Instant {
    Instant::from_secs(s)
}

pub(super) fn tuple(proto: u8, sport: u16, dport: u16) -> Tuple {
    Tuple::new(proto, CLIENT, sport, SERVER, dport)
}

/// The reply tuple of `orig` after source NAT to NAT:`port`.
pub(super) fn snat(orig: Tuple, port: u16) -> Tuple {
    Tuple::new(orig.proto, orig.dst, orig.dport, NAT, port)
}

pub(super) fn other(tuple: Tuple) -> PacketInfo {
    PacketInfo {
        tuple,
        len: 100,
        l4: L4::Other,
    }
}

fn echo(tuple: Tuple, request: bool) -> PacketInfo {
    PacketInfo {
        tuple,
        len: 84,
        l4: L4::IcmpEcho { request },
    }
}

pub(super) fn seg(tuple: Tuple, flags: u8, seq: u32, ack: u32, len: u16) -> PacketInfo {
    PacketInfo {
        tuple,
        len: 40 + len,
        l4: L4::Tcp(TcpInfo::new(flags, seq, ack, 1000, len)),
    }
}

/// A SNAT'd TCP connection driven segment by segment with correct
/// sequence numbers (client ISN 1000, server ISN 5000, windows 1000).
struct Conn {
    idx: SessionIdx,
    orig: Tuple,
    reply: Tuple,
    next: [u32; 2],
}

impl Conn {
    fn open(ct: &mut Conntrack, now: Instant, sport: u16) -> Conn {
        let orig = tuple(6, sport, 80);
        let reply = snat(orig, sport + 20000);
        let syn = seg(orig, F::SYN, 1000, 0, 0);
        assert!(Conntrack::may_create(&syn));
        let nat = NatFlags {
            snat: true,
            dnat: false,
        };
        let idx = ct.insert(now, orig, reply, nat, &syn).unwrap();
        Conn {
            idx,
            orig,
            reply,
            next: [1001, 5000],
        }
    }

    /// Send a segment with the next sequence numbers; SYN and FIN count one.
    fn send(&mut self, ct: &mut Conntrack, now: Instant, dir: Dir, flags: u8, len: u16) -> CtState {
        let (me, peer) = match dir {
            Dir::Original => (0, 1),
            Dir::Reply => (1, 0),
        };
        let t = match dir {
            Dir::Original => self.orig,
            Dir::Reply => self.reply,
        };
        let p = seg(t, flags, self.next[me], self.next[peer], len);
        let r = ct.track(now, self.idx, dir, &p);
        if r != CtState::Invalid {
            self.next[me] +=
                u32::from(len) + u32::from(flags & F::SYN != 0) + u32::from(flags & F::FIN != 0);
        }
        r
    }

    fn handshake(ct: &mut Conntrack, now: Instant, sport: u16) -> Conn {
        let mut c = Conn::open(ct, now, sport);
        assert_eq!(
            c.send(ct, now, Dir::Reply, F::SYN | F::ACK, 0),
            CtState::Established
        );
        assert_eq!(
            c.send(ct, now, Dir::Original, F::ACK, 0),
            CtState::Established
        );
        c
    }

    fn state(&self, ct: &Conntrack) -> &'static str {
        ct.get(self.idx).unwrap().state_name()
    }
}

#[test]
fn insert_and_lookup_by_both_tuples() {
    let mut ct = table(64);
    let now = at(100);
    let c = Conn::open(&mut ct, now, 40000);
    assert_eq!(ct.lookup(&c.orig), Some((c.idx, Dir::Original)));
    assert_eq!(ct.lookup(&c.reply), Some((c.idx, Dir::Reply)));
    assert_eq!(
        ct.lookup(&c.orig.reversed()),
        None,
        "the answer arrives NAT'd"
    );
    let s = ct.get(c.idx).unwrap();
    assert_eq!((s.orig(), s.reply()), (c.orig, c.reply));
    assert_eq!(s.id(), 1 << 48 | 1);
    assert!(s.nat().snat && !s.nat().dnat);
    assert_eq!(s.state_name(), "SYN_SENT");
    assert_eq!((s.packets(Dir::Original), s.bytes(Dir::Original)), (1, 40));
    assert_eq!(s.packets(Dir::Reply), 0);
    assert_eq!(s.remaining(now), Duration::from_secs(120));
    assert_eq!((ct.len(), ct.capacity()), (1, 64));

    // Either tuple taken: refused and counted.
    let syn = seg(c.orig, F::SYN, 7, 0, 0);
    let none = NatFlags::default();
    let e = ct.insert(now, c.orig, c.orig.reversed(), none, &syn);
    assert_eq!(e, Err(InsertError::Exists));
    let other_orig = tuple(6, 40001, 80);
    let e = ct.insert(now, other_orig, c.reply, none, &syn);
    assert_eq!(e, Err(InsertError::Exists));
    assert_eq!(ct.stats().drop_exists, 2);
    let d = ct
        .insert(now, other_orig, other_orig.reversed(), none, &syn)
        .unwrap();
    assert_eq!(ct.get(d).unwrap().id(), 1 << 48 | 2);
    assert_eq!(ct.iter().count(), 2);
    ct.table.check();
}

#[test]
fn stale_index_and_memory_footprint() {
    let mut ct = table(16_384);
    let t = tuple(17, 1, 1);
    let i = ct
        .insert(at(0), t, t.reversed(), NatFlags::default(), &other(t))
        .unwrap();
    ct.remove(i);
    assert_eq!(
        ct.track(at(1), i, Dir::Original, &other(t)),
        CtState::Invalid
    );
    assert!(ct.get(i).is_none());
    let per_session = ct.memory_bytes() as f64 / 16_384.0;
    assert!(per_session <= 128.0, "{per_session} bytes per session");
}

/// Regression (chaos seed 2887): ids do not repeat across restarts, so a
/// peer's destroy of an old session cannot hit a new one of the same id.
#[test]
fn ids_of_two_runs_do_not_overlap() {
    let id_of_first = |boot: u32| {
        let mut ct = table(16);
        ct.start_ids_at(boot);
        let t = tuple(17, 1000, 53);
        let idx = ct
            .insert(at(1), t, t.reversed(), NatFlags::default(), &other(t))
            .unwrap();
        ct.get(idx).unwrap().id()
    };
    let (a, b) = (id_of_first(1), id_of_first(2));
    assert_ne!(a, b);
    assert_eq!(a >> 48, 1, "node id kept");
    assert_eq!(b >> 48, 1);
}
