//! Behaviour of the session table through its public API: lookups by both
//! tuples, the TCP, UDP, ICMP and generic state machines, expiry, eviction
//! and the sync hooks. The randomized model test is in `model_tests`.

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
fn tcp_handshake_teardown_time_wait_and_expiry() {
    let mut ct = table(64);
    let t0 = at(1000);
    let mut c = Conn::open(&mut ct, t0, 40000);
    assert_eq!(
        c.send(&mut ct, t0, Dir::Reply, F::SYN | F::ACK, 0),
        CtState::Established
    );
    assert_eq!(c.state(&ct), "SYN_RECV");
    assert!(!ct.get(c.idx).unwrap().assured());
    assert_eq!(
        c.send(&mut ct, t0, Dir::Original, F::ACK, 0),
        CtState::Established
    );
    assert_eq!(c.state(&ct), "ESTABLISHED");
    let s = ct.get(c.idx).unwrap();
    assert!(s.assured() && s.seen_reply());
    assert_eq!(s.remaining(t0), Duration::from_secs(432_000));

    let t1 = at(1010);
    assert_eq!(
        c.send(&mut ct, t1, Dir::Original, F::ACK | F::PSH, 500),
        CtState::Established
    );
    assert_eq!(
        c.send(&mut ct, t1, Dir::Reply, F::ACK, 1400),
        CtState::Established
    );
    let s = ct.get(c.idx).unwrap();
    assert_eq!((s.packets(Dir::Original), s.packets(Dir::Reply)), (3, 2));
    assert_eq!((s.bytes(Dir::Original), s.bytes(Dir::Reply)), (620, 1480));

    for (dir, flags, state, timeout) in [
        (Dir::Original, F::FIN | F::ACK, "FIN_WAIT", 120),
        (Dir::Reply, F::ACK, "CLOSE_WAIT", 60),
        (Dir::Reply, F::FIN | F::ACK, "LAST_ACK", 30),
        (Dir::Original, F::ACK, "TIME_WAIT", 120),
    ] {
        assert_eq!(
            c.send(&mut ct, t1, dir, flags, 0),
            CtState::Established,
            "{state}"
        );
        assert_eq!(c.state(&ct), state);
        assert_eq!(
            ct.get(c.idx).unwrap().remaining(t1),
            Duration::from_secs(timeout)
        );
    }
    assert_eq!(ct.poll_timeout(), Some(at(1130)));
    assert_eq!(ct.handle_timeout(at(1129)), 0);
    assert_eq!(ct.handle_timeout(at(1130)), 1);
    assert_eq!(
        (ct.len(), ct.lookup(&c.orig), ct.poll_timeout()),
        (0, None, None)
    );
    assert_eq!(ct.stats().expired, 1);
    ct.table.check();
}

#[test]
fn blind_rst_is_ignored_and_counted_in_window_rst_closes() {
    let mut ct = table(64);
    let now = at(10);
    let mut c = Conn::handshake(&mut ct, now, 40000);
    let far = seg(c.reply, F::RST, c.next[1].wrapping_add(1 << 30), 0, 0);
    assert_eq!(ct.track(now, c.idx, Dir::Reply, &far), CtState::Invalid);
    let below = seg(
        c.reply,
        F::RST | F::ACK,
        c.next[1].wrapping_sub(100_000),
        c.next[0],
        0,
    );
    assert_eq!(ct.track(now, c.idx, Dir::Reply, &below), CtState::Invalid);
    assert_eq!(ct.stats().invalid_tcp_window, 2);
    assert_eq!(c.state(&ct), "ESTABLISHED");
    assert_eq!(ct.get(c.idx).unwrap().packets(Dir::Reply), 1, "not counted");

    assert_eq!(
        c.send(&mut ct, at(11), Dir::Reply, F::RST, 0),
        CtState::Established
    );
    assert_eq!(c.state(&ct), "CLOSE");
    assert_eq!(
        ct.get(c.idx).unwrap().remaining(at(11)),
        Duration::from_secs(10)
    );
    assert_eq!(ct.handle_timeout(at(21)), 1);
}

#[test]
fn rst_answering_a_syn_expires_the_session_at_once() {
    let mut ct = table(64);
    let mut c = Conn::open(&mut ct, at(5), 40000);
    assert_eq!(
        c.send(&mut ct, at(5), Dir::Reply, F::RST | F::ACK, 0),
        CtState::Established
    );
    assert_eq!(c.state(&ct), "CLOSE");
    assert_eq!(ct.poll_timeout(), Some(at(5)));
    assert_eq!(ct.handle_timeout(at(5)), 1);
    ct.table.check();
}

#[test]
fn only_a_plain_syn_may_open_a_tcp_session() {
    let t = tuple(6, 40000, 80);
    for (flags, ok) in [
        (F::SYN, true),
        (F::ACK, false),
        (F::ACK | F::PSH, false),
        (F::SYN | F::ACK, false),
        (F::FIN | F::ACK, false),
        (F::RST, false),
    ] {
        assert_eq!(
            Conntrack::may_create(&seg(t, flags, 1, 1, 0)),
            ok,
            "{flags:#x}"
        );
    }
    let mut ct = table(16);
    let mid = seg(t, F::ACK, 1, 1, 100);
    let e = ct.insert(at(1), t, t.reversed(), NatFlags::default(), &mid);
    assert_eq!(e, Err(InsertError::NotNew));
    assert_eq!((ct.stats().drop_not_new, ct.len()), (1, 0));
    assert!(!Conntrack::may_create(&other(t)), "TCP without its header");

    let i = tuple(1, 77, 77);
    assert!(Conntrack::may_create(&echo(i, true)));
    assert!(!Conntrack::may_create(&echo(i, false)));
    assert!(!Conntrack::may_create(&other(i)), "ICMP errors are RELATED");
    assert!(Conntrack::may_create(&other(tuple(17, 5353, 53))));
    assert!(Conntrack::may_create(&other(tuple(47, 0, 0))));
}

#[test]
fn syn_on_time_wait_reopens_in_place() {
    let mut ct = table(64);
    let now = at(50);
    let mut c = Conn::handshake(&mut ct, now, 40000);
    for (dir, flags) in [
        (Dir::Original, F::FIN | F::ACK),
        (Dir::Reply, F::FIN | F::ACK),
        (Dir::Original, F::ACK),
    ] {
        c.send(&mut ct, now, dir, flags, 0);
    }
    assert_eq!(c.state(&ct), "TIME_WAIT");
    let id = ct.get(c.idx).unwrap().id();

    // The server may not reopen it.
    let back = seg(c.reply, F::SYN, 9, 0, 0);
    assert_eq!(ct.track(now, c.idx, Dir::Reply, &back), CtState::Invalid);
    assert_eq!(ct.stats().invalid_tcp_state, 1);

    // The client reopens with a new ISN: a new connection on the same tuple.
    let syn = seg(c.orig, F::SYN, 90_000, 0, 0);
    assert_eq!(ct.track(at(51), c.idx, Dir::Original, &syn), CtState::New);
    let s = ct.get(c.idx).unwrap();
    assert_eq!(
        (s.state_name(), s.id(), s.assured()),
        ("SYN_SENT", id, false)
    );
    assert_eq!(s.remaining(at(51)), Duration::from_secs(120));
    assert_eq!(ct.stats().reopened, 1);
    c.next = [90_001, 7000];
    assert_eq!(
        c.send(&mut ct, at(51), Dir::Reply, F::SYN | F::ACK, 0),
        CtState::Established
    );
    assert_eq!(
        c.send(&mut ct, at(51), Dir::Original, F::ACK, 0),
        CtState::Established
    );
    assert_eq!(c.state(&ct), "ESTABLISHED");
    ct.table.check();
}

#[test]
fn tcp_segments_that_fit_no_transition() {
    let mut ct = table(64);
    let now = at(1);
    let mut c = Conn::open(&mut ct, now, 40000);
    // ACK from the client before any SYN/ACK; FIN in SYN_SENT.
    assert_eq!(
        c.send(&mut ct, now, Dir::Original, F::ACK, 0),
        CtState::Invalid
    );
    assert_eq!(
        c.send(&mut ct, now, Dir::Original, F::FIN | F::ACK, 0),
        CtState::Invalid
    );
    assert_eq!(
        c.send(&mut ct, now, Dir::Original, F::SYN | F::FIN, 0),
        CtState::Invalid
    );
    let s = ct.stats();
    assert_eq!((s.invalid_tcp_state, s.invalid_tcp_flags), (2, 1));
    // A retransmitted SYN is fine; a SYN on an established session passes
    // without touching it.
    let syn = seg(c.orig, F::SYN, 1000, 0, 0);
    assert_eq!(
        ct.track(now, c.idx, Dir::Original, &syn),
        CtState::Established
    );
    c.send(&mut ct, now, Dir::Reply, F::SYN | F::ACK, 0);
    c.send(&mut ct, now, Dir::Original, F::ACK, 0);
    assert_eq!(
        ct.track(now, c.idx, Dir::Original, &syn),
        CtState::Established
    );
    assert_eq!((c.state(&ct), ct.stats().tcp_ignored), ("ESTABLISHED", 1));
    // A UDP-shaped packet on a TCP session.
    assert_eq!(
        ct.track(now, c.idx, Dir::Original, &other(c.orig)),
        CtState::Invalid
    );
    assert_eq!(ct.stats().invalid_proto, 1);
}

#[test]
fn udp_unreplied_replied_assured() {
    let t = ConntrackTimeouts {
        udp: 30,
        udp_stream: 180,
        ..ConntrackTimeouts::default()
    };
    let mut ct = table_with(64, t);
    let orig = tuple(17, 5000, 53);
    let reply = snat(orig, 61000);
    let idx = ct
        .insert(at(0), orig, reply, NatFlags::default(), &other(orig))
        .unwrap();
    let s = ct.get(idx).unwrap();
    assert_eq!(
        (s.state_name(), s.remaining(at(0)).as_secs()),
        ("UNREPLIED", 30)
    );
    assert_eq!(
        ct.track(at(10), idx, Dir::Original, &other(orig)),
        CtState::Established
    );
    assert_eq!(ct.get(idx).unwrap().remaining(at(10)).as_secs(), 30);
    assert_eq!(
        ct.track(at(11), idx, Dir::Reply, &other(reply)),
        CtState::Established
    );
    let s = ct.get(idx).unwrap();
    assert_eq!(
        (s.state_name(), s.remaining(at(11)).as_secs()),
        ("REPLIED", 30)
    );
    ct.track(at(12), idx, Dir::Original, &other(orig));
    let s = ct.get(idx).unwrap();
    assert_eq!(
        (s.state_name(), s.remaining(at(12)).as_secs()),
        ("ASSURED", 180)
    );
    assert!(s.assured());
    assert_eq!(ct.handle_timeout(at(191)), 0);
    assert_eq!(ct.handle_timeout(at(192)), 1);

    // A query never answered expires after the udp timeout.
    let q = tuple(17, 5001, 53);
    ct.insert(at(200), q, q.reversed(), NatFlags::default(), &other(q))
        .unwrap();
    assert_eq!(ct.poll_timeout(), Some(at(230)));
    assert_eq!(ct.handle_timeout(at(230)), 1);
}

#[test]
fn icmp_echo_request_creates_reply_matches() {
    let mut ct = table(64);
    let req = tuple(1, 0x1234, 0x1234);
    let idx = ct
        .insert(
            at(0),
            req,
            req.reversed(),
            NatFlags::default(),
            &echo(req, true),
        )
        .unwrap();
    let (found, dir) = ct.lookup(&req.reversed()).unwrap();
    assert_eq!((found, dir), (idx, Dir::Reply));
    assert_eq!(
        ct.track(at(1), idx, dir, &echo(req.reversed(), false)),
        CtState::Established
    );
    ct.track(at(2), idx, Dir::Original, &echo(req, true));
    let s = ct.get(idx).unwrap();
    assert_eq!(s.state_name(), "REPLIED", "echo sessions are never assured");
    assert_eq!(s.remaining(at(2)).as_secs(), 30);
    let udp_like = other(req);
    assert_eq!(
        ct.track(at(2), idx, Dir::Original, &udp_like),
        CtState::Invalid
    );
    assert_eq!(ct.handle_timeout(at(32)), 1);
}

#[test]
fn other_protocols_by_address_pair_with_the_generic_timeout() {
    let mut ct = table(64);
    let gre = Tuple::new(47, CLIENT, 0, SERVER, 0);
    let idx = ct
        .insert(at(0), gre, gre.reversed(), NatFlags::default(), &other(gre))
        .unwrap();
    assert_eq!(ct.get(idx).unwrap().remaining(at(0)).as_secs(), 600);
    ct.track(at(1), idx, Dir::Reply, &other(gre.reversed()));
    ct.track(at(2), idx, Dir::Original, &other(gre));
    let s = ct.get(idx).unwrap();
    assert_eq!(
        (s.state_name(), s.remaining(at(2)).as_secs()),
        ("ASSURED", 600)
    );
}

#[test]
fn expiry_follows_deadlines_across_classes_and_refreshes() {
    let t = ConntrackTimeouts {
        udp: 30,
        icmp: 10,
        tcp_syn_sent: 20,
        ..ConntrackTimeouts::default()
    };
    let mut ct = table_with(64, t);
    let none = NatFlags::default();
    let a = tuple(17, 1, 1);
    let b = tuple(1, 2, 2);
    let c = tuple(6, 3, 3);
    let d = tuple(17, 4, 4);
    let ia = ct.insert(at(0), a, a.reversed(), none, &other(a)).unwrap();
    ct.insert(at(0), b, b.reversed(), none, &echo(b, true))
        .unwrap();
    ct.insert(at(5), c, c.reversed(), none, &seg(c, F::SYN, 1, 0, 0))
        .unwrap();
    ct.insert(at(10), d, d.reversed(), none, &other(d)).unwrap();
    // Refreshing `a` at 25 moves its deadline from 30 to 55, behind `d`.
    ct.track(
        at(25) - Duration::from_secs(15),
        ia,
        Dir::Original,
        &other(a),
    );
    ct.track(at(25), ia, Dir::Original, &other(a));
    let mut order = Vec::new();
    while let Some(next) = ct.poll_timeout() {
        let before: Vec<_> = ct.iter().map(|(_, s)| s.orig()).collect();
        assert_eq!(ct.handle_timeout(next - Duration::from_millis(1)), 0);
        assert_eq!(ct.handle_timeout(next), 1, "one session per deadline here");
        let gone = before.into_iter().find(|t| ct.lookup(t).is_none()).unwrap();
        order.push((next.as_millis() / 1000, gone));
        ct.table.check();
    }
    assert_eq!(order, vec![(10, b), (25, c), (40, d), (55, a)]);
}

#[test]
fn full_table_evicts_a_non_assured_session_then_drops() {
    let mut ct = table(16);
    let none = NatFlags::default();
    let mut idxs = Vec::new();
    for port in 0..16 {
        let t = tuple(17, 1000 + port, 53);
        let i = ct.insert(at(1), t, t.reversed(), none, &other(t)).unwrap();
        if port != 7 {
            ct.track(at(2), i, Dir::Reply, &other(t.reversed()));
            ct.track(at(3), i, Dir::Original, &other(t));
            assert!(ct.get(i).unwrap().assured());
        }
        idxs.push(i);
    }
    let t = tuple(17, 2000, 53);
    let fresh = ct.insert(at(4), t, t.reversed(), none, &other(t)).unwrap();
    assert_eq!(
        ct.lookup(&tuple(17, 1007, 53)),
        None,
        "the unreplied one made room"
    );
    assert_eq!((ct.stats().evicted, ct.len()), (1, 16));
    ct.track(at(5), fresh, Dir::Reply, &other(t.reversed()));
    ct.track(at(6), fresh, Dir::Original, &other(t));

    let t = tuple(17, 2001, 53);
    let e = ct.insert(at(7), t, t.reversed(), none, &other(t));
    assert_eq!(e, Err(InsertError::Full));
    assert_eq!(
        (ct.stats().drop_full, ct.stats().evicted, ct.len()),
        (1, 1, 16)
    );
    ct.table.check();
}

/// Everything `drain_changes` reports, as comparable values.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    New(u64, &'static str),
    Update(u64, &'static str),
    Destroy(u64),
}

fn drain(ct: &mut Conntrack, max: usize) -> Vec<Seen> {
    let mut v = Vec::new();
    ct.drain_changes(max, |c| {
        v.push(match c {
            Change::New(s) => Seen::New(s.id(), s.state_name()),
            Change::Update(s) => Seen::Update(s.id(), s.state_name()),
            Change::Destroy(id) => Seen::Destroy(id),
        })
    });
    v
}

#[test]
fn sync_hooks_report_new_once_then_state_changes_and_large_refreshes() {
    let t = ConntrackTimeouts {
        udp: 30,
        udp_stream: 120,
        ..ConntrackTimeouts::default()
    };
    let mut ct = table_with(64, t);
    let orig = tuple(17, 5000, 53);
    let idx = ct
        .insert(
            at(0),
            orig,
            orig.reversed(),
            NatFlags::default(),
            &other(orig),
        )
        .unwrap();
    let id = ct.get(idx).unwrap().id();
    ct.track(at(1), idx, Dir::Original, &other(orig));
    assert_eq!(drain(&mut ct, 10), vec![Seen::New(id, "UNREPLIED")]);
    assert_eq!(drain(&mut ct, 10), vec![]);
    ct.track(at(2), idx, Dir::Original, &other(orig));
    assert_eq!(
        drain(&mut ct, 10),
        vec![],
        "a small refresh is not reported"
    );
    ct.track(at(3), idx, Dir::Reply, &other(orig.reversed()));
    ct.track(at(3), idx, Dir::Original, &other(orig));
    assert_eq!(
        drain(&mut ct, 10),
        vec![Seen::Update(id, "ASSURED")],
        "coalesced"
    );

    // udp_stream is 120 s: refreshes are reported once the deadline moved
    // more than 30 s since the last report (123 at 3 s).
    ct.track(at(20), idx, Dir::Original, &other(orig));
    ct.track(at(33), idx, Dir::Original, &other(orig));
    assert_eq!(drain(&mut ct, 10), vec![]);
    ct.track(at(34), idx, Dir::Original, &other(orig));
    assert_eq!(drain(&mut ct, 10), vec![Seen::Update(id, "ASSURED")]);

    assert!(ct.remove(idx));
    assert!(!ct.remove(idx));
    assert_eq!(drain(&mut ct, 10), vec![Seen::Destroy(id)]);
    assert_eq!(ct.stats().removed, 1);

    // Removed before it was ever reported: nothing at all.
    let i = ct
        .insert(
            at(40),
            orig,
            orig.reversed(),
            NatFlags::default(),
            &other(orig),
        )
        .unwrap();
    ct.remove(i);
    assert_eq!((drain(&mut ct, 10), ct.pending_changes()), (vec![], 0));
}

#[test]
fn sync_hooks_are_bounded_and_follow_slot_reuse() {
    let mut ct = table(1);
    let a = tuple(17, 1, 1);
    let b = tuple(17, 2, 2);
    let none = NatFlags::default();
    let ia = ct.insert(at(0), a, a.reversed(), none, &other(a)).unwrap();
    assert_eq!(
        drain(&mut ct, 10),
        vec![Seen::New(1 << 48 | 1, "UNREPLIED")]
    );
    ct.track(at(1), ia, Dir::Reply, &other(a.reversed()));
    // Pending Update for `a`, then `a` is evicted for `b` in the same slot.
    let ib = ct.insert(at(2), b, b.reversed(), none, &other(b)).unwrap();
    assert_eq!(ia, ib);
    assert_eq!(
        drain(&mut ct, 10),
        vec![
            Seen::Destroy(1 << 48 | 1),
            Seen::New(1 << 48 | 2, "UNREPLIED")
        ]
    );

    let mut ct = table(64);
    for p in 0..5 {
        let t = tuple(17, p, p);
        ct.insert(at(0), t, t.reversed(), none, &other(t)).unwrap();
    }
    assert_eq!(drain(&mut ct, 2).len(), 2);
    assert_eq!(ct.pending_changes(), 3);
    assert_eq!(drain(&mut ct, 10).len(), 3);
}

fn synced(orig: Tuple, remaining_secs: u32) -> SyncedSession {
    SyncedSession {
        id: 2 << 48 | 77,
        orig,
        reply: snat(orig, 61000),
        nat: NatFlags {
            snat: true,
            dnat: false,
        },
        tcp_state: None,
        seen_reply: true,
        assured: true,
        remaining_secs,
        tcp_wscale: [0; 2],
    }
}

#[test]
fn synced_sessions_keep_their_id_and_are_not_reported_back() {
    let mut ct = table(64);
    let orig = tuple(17, 5000, 53);
    let rec = synced(orig, 100);
    let idx = ct.insert_synced(at(10), &rec).unwrap();
    let s = ct.get(idx).unwrap();
    assert_eq!(
        (s.id(), s.from_sync(), s.state_name()),
        (rec.id, true, "ASSURED")
    );
    assert_eq!(s.remaining(at(10)).as_secs(), 100);
    assert_eq!(SyncedSession::of(s, at(10)), rec);
    assert_eq!(ct.lookup(&rec.reply), Some((idx, Dir::Reply)));
    assert_eq!(drain(&mut ct, 10), vec![]);

    // A clash with it, from sync or locally.
    let again = SyncedSession { id: 5, ..rec };
    assert_eq!(ct.insert_synced(at(10), &again), Err(InsertError::Conflict));
    assert_eq!(ct.stats().sync_conflict, 1);
    let local = ct.insert(
        at(10),
        orig,
        orig.reversed(),
        NatFlags::default(),
        &other(orig),
    );
    assert_eq!(local, Err(InsertError::Exists));
    let bad = SyncedSession {
        orig: tuple(6, 1, 1),
        reply: tuple(6, 1, 1).reversed(),
        ..rec
    };
    assert_eq!(ct.insert_synced(at(10), &bad), Err(InsertError::Invalid));

    // Later changes here are reported like any other session's.
    ct.track(at(80), idx, Dir::Original, &other(orig));
    assert_eq!(drain(&mut ct, 10), vec![Seen::Update(rec.id, "ASSURED")]);
    ct.remove(idx);
    assert_eq!(drain(&mut ct, 10), vec![Seen::Destroy(rec.id)]);
    assert_eq!(ct.stats().synced, 1);
}

#[test]
fn synced_deadlines_expire_on_time_in_any_insert_order() {
    let t = ConntrackTimeouts {
        udp_stream: 300,
        ..ConntrackTimeouts::default()
    };
    let mut ct = table_with(512, t);
    // Remaining times 1..=200 in a scrambled order, plus one above the
    // local timeout (capped) and a local session in between.
    let mut rem: Vec<u32> = (1..=200).map(|i| (i * 73) % 200 + 1).collect();
    rem.push(1000);
    for (n, r) in rem.iter().enumerate() {
        let orig = tuple(17, n as u16, 9);
        let rec = SyncedSession {
            id: n as u64,
            reply: snat(orig, 30000 + n as u16),
            ..synced(orig, *r)
        };
        ct.insert_synced(at(0), &rec).unwrap();
    }
    let l = tuple(17, 60000, 9);
    ct.insert(at(0), l, l.reversed(), NatFlags::default(), &other(l))
        .unwrap();
    assert!(ct.stats().sync_unordered > 0, "the fallback path ran");
    assert_eq!(ct.poll_timeout(), Some(at(1)));
    for now in 1..=300u32 {
        let due = ct
            .iter()
            .filter(|(_, s)| s.expires() <= at(now.into()))
            .count();
        assert!(due <= 1 || now == 30, "nothing overdue at {now}");
        assert_eq!(ct.handle_timeout(at(now.into())), due, "at {now}");
        if now == 1 {
            ct.table.check();
        }
    }
    assert!(ct.is_empty(), "the capped one went at 300");
}

/// A table holding one ESTABLISHED TCP session learned from sync
/// (window scale 7 both ways): (table, original tuple, record, slot).
fn synced_established() -> (Conntrack, Tuple, SyncedSession, SessionIdx) {
    let mut ct = table(64);
    let orig = tuple(6, 40000, 443);
    let rec = SyncedSession {
        tcp_state: Some(TcpState::Established),
        tcp_wscale: [7, 7],
        ..synced(orig, 3600)
    };
    let idx = ct.insert_synced(at(0), &rec).unwrap();
    (ct, orig, rec, idx)
}

#[test]
fn synced_tcp_is_liberal_until_both_directions_were_seen() {
    let (mut ct, orig, rec, idx) = synced_established();
    assert_eq!(ct.get(idx).unwrap().tcp_wscale(), [7, 7]);
    // Mid-stream: whatever sequence numbers the endpoints are at.
    let c2s = seg(orig, F::ACK, 1_000_000, 2_000_000, 100);
    assert_eq!(
        ct.track(at(1), idx, Dir::Original, &c2s),
        CtState::Established
    );
    // The server acknowledges data sent before the failover that this
    // router never saw, more than a window of it: out of window, let
    // through while liberal (up to a window is simply accepted, see
    // `synced_tcp_accepts_acks_of_data_the_peer_carried`).
    let s2c = seg(rec.reply, F::ACK, 2_000_000, 1_500_100, 100);
    assert_eq!(ct.track(at(1), idx, Dir::Reply, &s2c), CtState::Established);
    assert_eq!(ct.stats().tcp_liberal, 1);
    // Both directions seen: strict from now on.
    let ok = seg(orig, F::ACK, 1_000_500, 2_000_100, 100);
    assert_eq!(
        ct.track(at(2), idx, Dir::Original, &ok),
        CtState::Established
    );
    let blind = seg(rec.reply, F::RST, 3_000_000_000, 0, 0);
    assert_eq!(ct.track(at(2), idx, Dir::Reply, &blind), CtState::Invalid);
    assert_eq!(ct.stats().invalid_tcp_window, 1);
    assert_eq!(ct.get(idx).unwrap().state_name(), "ESTABLISHED");
}

/// Around a takeover both routers forward for a moment, so the new master
/// sees ACKs of data that went through the other one; each such ACK must
/// pass and move the data sender's end, or every later ACK is out of
/// window and the connection wedges (found by tests/netns_faults.rs: the
/// master's LAN link down and back during a download).
#[test]
fn synced_tcp_accepts_acks_of_data_the_peer_carried() {
    let (mut ct, orig, rec, idx) = synced_established();
    // The server's data (1000 bytes at 2_000_000) and the client's ACKs.
    let data = |seq| seg(rec.reply, F::ACK | F::PSH, seq, 1_000_000, 1000);
    let ack = |a| seg(orig, F::ACK, 1_000_000, a, 0);
    assert_eq!(
        ct.track(at(1), idx, Dir::Reply, &data(2_000_000)),
        CtState::Established
    );
    assert_eq!(
        ct.track(at(1), idx, Dir::Original, &ack(2_001_000)),
        CtState::Established
    );
    // The next 20 segments went through the other router; their ACKs
    // come here, then the data too.
    for k in 1..=20u32 {
        let a = 2_001_000 + k * 1000;
        assert_eq!(
            ct.track(at(2), idx, Dir::Original, &ack(a)),
            CtState::Established,
            "ack {k}"
        );
    }
    assert_eq!(
        ct.track(at(2), idx, Dir::Reply, &data(2_021_000)),
        CtState::Established
    );
    assert_eq!(
        ct.track(at(2), idx, Dir::Original, &ack(2_022_000)),
        CtState::Established
    );
    assert_eq!(ct.stats().invalid_tcp_window, 0);
    // Not more than a window beyond.
    assert_eq!(
        ct.track(at(3), idx, Dir::Original, &ack(12_000_000)),
        CtState::Invalid
    );
    assert_eq!(ct.stats().invalid_tcp_window, 1);
}

#[test]
fn tcp_info_from_a_segment_view() {
    let b = [
        0x9c, 0x40, 0x00, 0x50, // 40000 -> 80
        0x00, 0x00, 0x03, 0xe8, // seq 1000
        0x00, 0x00, 0x00, 0x00, // ack
        0x60, 0x02, 0xff, 0xff, // offset 6, SYN, window 65535
        0x00, 0x00, 0x00, 0x00, // checksum, urgent
        0x03, 0x03, 0x07, 0x00, // wscale 7, end
        0xaa, 0xbb, // 2 payload bytes
    ];
    let p = TcpPacket::new_checked(&b[..]).unwrap();
    let t = TcpInfo::from_segment(&p);
    assert_eq!(
        t,
        TcpInfo {
            flags: F::SYN,
            seq: SeqNumber(1000),
            ack: SeqNumber(0),
            window: 65535,
            wscale: Some(7),
            payload_len: 2,
        }
    );
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
