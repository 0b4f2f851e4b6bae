//! Unit tests of the resolver: one behaviour per test, then a seeded
//! random run that checks the invariants after every step.

use super::*;
use crate::wire::{ArpPacket, EthernetFrame, ethertype};

const LAN: PortId = 0;
const WAN: PortId = 1;
const GW: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 254);
const OTHER: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 77);
const OUR_IP: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
const GW_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0xfe]);
const NEW_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 1, 0xfe]);
const OUR_MAC: EthernetAddress = EthernetAddress([0x02, 0, 0, 0, 0, 0x01]);

fn at(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

fn params() -> NeighParams {
    NeighParams {
        capacity: 8,
        pool_frames: 8,
        ..NeighParams::default()
    }
}

fn arp(op: ArpOperation, mac: EthernetAddress, ip: Ipv4Addr, target: Ipv4Addr) -> ArpRepr {
    ArpRepr {
        operation: op,
        source_hardware_addr: mac,
        source_protocol_addr: ip,
        target_hardware_addr: EthernetAddress::ZERO,
        target_protocol_addr: target,
    }
}

fn reply(mac: EthernetAddress, ip: Ipv4Addr) -> ArpRepr {
    arp(ArpOperation::Reply, mac, ip, OUR_IP)
}

fn garp(mac: EthernetAddress, ip: Ipv4Addr) -> ArpRepr {
    arp(ArpOperation::Request, mac, ip, ip)
}

fn requests(n: &mut Neighbours) -> Vec<ArpRequest> {
    std::iter::from_fn(|| n.poll_request()).collect()
}

fn bcast(port: PortId, target: Ipv4Addr) -> ArpRequest {
    ArpRequest {
        port,
        target,
        unicast: None,
    }
}

fn drain(n: &mut Neighbours) -> Vec<(PortId, EthernetAddress, Vec<u8>)> {
    let mut out = Vec::new();
    n.drain_resolved(|port, mac, f| {
        out.push((port, mac, f.to_vec()));
        true
    });
    out
}

fn state(n: &Neighbours, port: PortId, ip: Ipv4Addr) -> Option<NeighState> {
    n.status(Instant::ZERO, port, ip).map(|s| s.state)
}

/// `n` learned GW_MAC for GW on LAN at `t` (REACHABLE), requests drained.
fn learned(t: Instant) -> Neighbours {
    let mut n = Neighbours::new(params(), 1);
    assert_eq!(n.resolve(t, LAN, GW), Resolve::Pending);
    n.handle_arp(t, LAN, &reply(GW_MAC, GW), true);
    requests(&mut n);
    assert_eq!(state(&n, LAN, GW), Some(NeighState::Reachable));
    n
}

#[test]
fn first_miss_requests_then_retries_then_fails() {
    let mut n = Neighbours::new(params(), 1);
    assert_eq!(n.resolve(at(0), LAN, GW), Resolve::Pending);
    assert_eq!(requests(&mut n), [bcast(LAN, GW)]);
    assert_eq!(n.enqueue(LAN, GW, b"one"), Enqueue::Queued);
    assert_eq!(n.enqueue(LAN, GW, b"two"), Enqueue::Queued);
    // Another packet: still pending, no second request before 1 s.
    assert_eq!(n.resolve(at(300), LAN, GW), Resolve::Pending);
    assert!(requests(&mut n).is_empty());
    assert_eq!(n.poll_timeout(), Some(at(1000)));
    n.handle_timeout(at(999));
    assert!(requests(&mut n).is_empty());
    for t in [1000, 2000] {
        n.handle_timeout(at(t));
        assert_eq!(requests(&mut n), [bcast(LAN, GW)], "retry at {t} ms");
        assert_eq!(n.poll_timeout(), Some(at(t + 1000)));
    }
    // Third request unanswered for 1 s: FAILED, frames dropped.
    n.handle_timeout(at(3000));
    assert!(requests(&mut n).is_empty());
    assert_eq!(state(&n, LAN, GW), Some(NeighState::Failed));
    let c = n.counters();
    assert_eq!(
        (
            c.requests_sent,
            c.resolution_failures,
            c.queued,
            c.queue_dropped
        ),
        (3, 1, 2, 2)
    );
    assert_eq!(n.held_frames(), 0);
    assert!(drain(&mut n).is_empty());
    // Held FAILED: packets are refused without new requests.
    assert_eq!(n.resolve(at(4000), LAN, GW), Resolve::Failed);
    assert_eq!(n.enqueue(LAN, GW, b"three"), Enqueue::NotPending);
    assert!(requests(&mut n).is_empty());
    assert_eq!(n.poll_timeout(), Some(at(6000)));
    // After the hold the entry is gone and the next packet starts over.
    n.handle_timeout(at(6000));
    assert_eq!((n.len(), n.poll_timeout()), (0, None));
    assert_eq!(n.resolve(at(6500), LAN, GW), Resolve::Pending);
    assert_eq!(requests(&mut n), [bcast(LAN, GW)]);
}

#[test]
fn reply_releases_queued_frames_in_order() {
    let mut n = Neighbours::new(params(), 1);
    n.resolve(at(0), LAN, GW);
    n.resolve(at(0), WAN, OTHER);
    for f in [b"a1", b"a2", b"a3"] {
        assert_eq!(n.enqueue(LAN, GW, f), Enqueue::Queued);
    }
    assert_eq!(n.enqueue(WAN, OTHER, b"b1"), Enqueue::Queued);
    // A reply for GW on the wrong port resolves nothing.
    n.handle_arp(at(100), WAN, &reply(GW_MAC, GW), true);
    assert!(drain(&mut n).is_empty());
    n.handle_arp(at(200), LAN, &reply(GW_MAC, GW), true);
    let got = drain(&mut n);
    let want: Vec<_> = [b"a1", b"a2", b"a3"]
        .iter()
        .map(|f| (LAN, GW_MAC, f.to_vec()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(n.resolve(at(300), LAN, GW), Resolve::Known(GW_MAC));
    let s = n.status(at(1200), LAN, GW).unwrap();
    assert_eq!(
        (s.mac, s.state, s.age, s.queued),
        (
            Some(GW_MAC),
            NeighState::Reachable,
            Duration::from_secs(1),
            0
        )
    );
    let c = n.counters();
    assert_eq!((c.released, c.replies_learned, c.queued), (3, 1, 4));
    assert_eq!(n.held_frames(), 1, "b1 still waits");
    assert_eq!(n.status(at(0), WAN, OTHER).unwrap().queued, 1);
}

#[test]
fn drain_stops_when_the_caller_is_full() {
    let mut n = Neighbours::new(params(), 1);
    n.resolve(at(0), LAN, GW);
    for f in [b"1", b"2", b"3"] {
        n.enqueue(LAN, GW, f);
    }
    n.handle_arp(at(1), LAN, &reply(GW_MAC, GW), true);
    let mut room = 2;
    let mut sent_frames = Vec::new();
    let sent = n.drain_resolved(|_, _, f| {
        room -= 1;
        if room >= 0 {
            sent_frames.push(f[0]);
        }
        room >= 0
    });
    assert_eq!((sent, n.ready_frames()), (2, 1));
    assert_eq!(sent_frames, b"12");
    assert_eq!(drain(&mut n), [(LAN, GW_MAC, b"3".to_vec())]);
    assert_eq!(n.counters().released, 3);
}

#[test]
fn per_neighbour_limit_drops_the_oldest() {
    let mut n = Neighbours::new(params(), 1);
    n.resolve(at(0), LAN, GW);
    for f in [b"1", b"2", b"3", b"4", b"5"] {
        assert_eq!(n.enqueue(LAN, GW, f), Enqueue::Queued);
    }
    assert_eq!(n.held_frames(), 3);
    n.handle_arp(at(1), LAN, &reply(GW_MAC, GW), true);
    let frames: Vec<Vec<u8>> = drain(&mut n).into_iter().map(|x| x.2).collect();
    assert_eq!(frames, [b"3".to_vec(), b"4".to_vec(), b"5".to_vec()]);
    assert_eq!(n.counters().queue_overflow, 2);
}

#[test]
fn pool_exhaustion_refuses_the_new_frame() {
    let mut n = Neighbours::new(
        NeighParams {
            pool_frames: 4,
            ..params()
        },
        1,
    );
    n.resolve(at(0), LAN, GW);
    n.resolve(at(0), LAN, OTHER);
    for f in [b"g1", b"g2", b"g3"] {
        assert_eq!(n.enqueue(LAN, GW, f), Enqueue::Queued);
    }
    assert_eq!(n.enqueue(LAN, OTHER, b"o1"), Enqueue::Queued);
    assert_eq!(n.enqueue(LAN, OTHER, b"o2"), Enqueue::PoolFull);
    // At its own limit, a neighbour recycles its oldest buffer instead.
    assert_eq!(n.enqueue(LAN, GW, b"g4"), Enqueue::Queued);
    let c = n.counters();
    assert_eq!((c.pool_exhausted, c.queue_overflow, c.queued), (1, 1, 5));
    assert_eq!(
        n.enqueue(LAN, GW, &[0; crate::engine::MAX_FRAME + 1]),
        Enqueue::TooLong
    );
    n.handle_arp(at(1), LAN, &reply(NEW_MAC, OTHER), true);
    assert_eq!(drain(&mut n), [(LAN, NEW_MAC, b"o1".to_vec())]);
    assert_eq!(
        n.enqueue(LAN, OTHER, b"o3"),
        Enqueue::NotPending,
        "resolved"
    );
}

#[test]
fn reachable_goes_stale_and_is_refreshed_on_use() {
    let mut n = learned(at(0));
    assert_eq!(n.poll_timeout(), Some(at(30_000)));
    n.handle_timeout(at(29_999));
    assert_eq!(n.resolve(at(29_999), LAN, GW), Resolve::Known(GW_MAC));
    assert!(requests(&mut n).is_empty(), "no traffic while REACHABLE");
    n.handle_timeout(at(30_000));
    assert_eq!(state(&n, LAN, GW), Some(NeighState::Stale));
    assert!(requests(&mut n).is_empty(), "going STALE sends nothing");
    // First use: still the cached MAC, plus a unicast refresh.
    assert_eq!(n.resolve(at(31_000), LAN, GW), Resolve::Known(GW_MAC));
    let unicast = ArpRequest {
        unicast: Some(GW_MAC),
        ..bcast(LAN, GW)
    };
    assert_eq!(requests(&mut n), [unicast]);
    assert_eq!(state(&n, LAN, GW), Some(NeighState::Probe));
    assert_eq!(n.resolve(at(31_100), LAN, GW), Resolve::Known(GW_MAC));
    assert!(requests(&mut n).is_empty(), "one refresh per round");
    n.handle_arp(at(31_200), LAN, &reply(GW_MAC, GW), true);
    assert_eq!(state(&n, LAN, GW), Some(NeighState::Reachable));
    assert_eq!(n.poll_timeout(), Some(at(61_200)));
    let c = n.counters();
    assert_eq!(
        (c.replies_learned, c.mac_changes, c.requests_sent),
        (2, 0, 2)
    );
}

#[test]
fn unanswered_refresh_removes_the_entry() {
    let mut n = learned(at(0));
    n.handle_timeout(at(30_000));
    let unicast = ArpRequest {
        unicast: Some(GW_MAC),
        ..bcast(LAN, GW)
    };
    n.resolve(at(30_000), LAN, GW);
    assert_eq!(requests(&mut n), [unicast]);
    for t in [31_000, 32_000] {
        n.handle_timeout(at(t));
        assert_eq!(requests(&mut n), [unicast], "retry at {t}");
        assert_eq!(n.resolve(at(t), LAN, GW), Resolve::Known(GW_MAC));
    }
    n.handle_timeout(at(33_000));
    assert_eq!(state(&n, LAN, GW), None);
    assert_eq!(n.counters().probe_failures, 1);
    assert_eq!(
        n.counters().requests_sent,
        1 + 3,
        "one broadcast, three unicast"
    );
    assert_eq!(n.resolve(at(33_000), LAN, GW), Resolve::Pending);
    assert_eq!(requests(&mut n), [bcast(LAN, GW)]);
}

#[test]
fn unused_stale_entries_expire() {
    let mut n = learned(at(0));
    n.handle_timeout(at(30_000));
    assert_eq!(n.poll_timeout(), Some(at(90_000)));
    n.handle_timeout(at(89_999));
    assert_eq!(state(&n, LAN, GW), Some(NeighState::Stale));
    n.handle_timeout(at(90_000));
    assert_eq!((n.len(), n.counters().expired), (0, 1));
}

#[test]
fn unsolicited_arp_never_creates_an_entry() {
    let mut n = Neighbours::new(params(), 1);
    n.handle_arp(at(0), LAN, &garp(GW_MAC, GW), false);
    n.handle_arp(at(0), LAN, &reply(GW_MAC, GW), true);
    n.handle_arp(
        at(0),
        LAN,
        &arp(ArpOperation::Request, GW_MAC, GW, OTHER),
        false,
    );
    assert_eq!((n.len(), n.counters().unsolicited_ignored), (0, 3));
    // Unusable senders are not even looked up.
    for (mac, ip) in [
        (EthernetAddress::BROADCAST, GW),
        (EthernetAddress::ZERO, GW),
        (GW_MAC, Ipv4Addr::UNSPECIFIED),
        (GW_MAC, Ipv4Addr::BROADCAST),
        (GW_MAC, Ipv4Addr::new(224, 0, 0, 18)),
    ] {
        n.handle_arp(at(0), LAN, &reply(mac, ip), true);
    }
    assert_eq!((n.len(), n.counters().bad_sender), (0, 5));
}

#[test]
fn request_for_us_teaches_the_sender() {
    let mut n = Neighbours::new(params(), 1);
    n.handle_arp(
        at(0),
        LAN,
        &arp(ArpOperation::Request, GW_MAC, GW, OUR_IP),
        true,
    );
    assert_eq!(state(&n, LAN, GW), Some(NeighState::Stale));
    assert_eq!(n.counters().requests_learned, 1);
    // Usable at once; the first use verifies it with a unicast request.
    assert_eq!(n.resolve(at(10), LAN, GW), Resolve::Known(GW_MAC));
    assert_eq!(requests(&mut n)[0].unicast, Some(GW_MAC));
    // A request for us also completes a pending resolution.
    n.resolve(at(20), LAN, OTHER);
    n.enqueue(LAN, OTHER, b"x");
    n.handle_arp(
        at(30),
        LAN,
        &arp(ArpOperation::Request, NEW_MAC, OTHER, OUR_IP),
        true,
    );
    assert_eq!(drain(&mut n), [(LAN, NEW_MAC, b"x".to_vec())]);
    assert_eq!(state(&n, LAN, OTHER), Some(NeighState::Stale));
}

#[test]
fn gratuitous_arp_updates_an_existing_entry() {
    let mut n = learned(at(0));
    // At once (within locktime): gratuitous ARP overrides.
    n.handle_arp(at(100), LAN, &garp(NEW_MAC, GW), false);
    assert_eq!(n.status(at(100), LAN, GW).unwrap().mac, Some(NEW_MAC));
    assert_eq!(state(&n, LAN, GW), Some(NeighState::Stale));
    let c = n.counters();
    assert_eq!((c.mac_changes, c.other_updates), (1, 1));
    // The next use verifies the new MAC.
    assert_eq!(n.resolve(at(200), LAN, GW), Resolve::Known(NEW_MAC));
    assert_eq!(requests(&mut n)[0].unicast, Some(NEW_MAC));
}

#[test]
fn a_second_answer_within_locktime_is_ignored() {
    let mut n = learned(at(0));
    n.handle_arp(at(500), LAN, &reply(NEW_MAC, GW), true);
    assert_eq!(n.resolve(at(500), LAN, GW), Resolve::Known(GW_MAC));
    assert_eq!(n.counters().mac_change_ignored, 1);
    n.handle_arp(at(1000), LAN, &reply(NEW_MAC, GW), true);
    assert_eq!(n.resolve(at(1000), LAN, GW), Resolve::Known(NEW_MAC));
    assert_eq!(state(&n, LAN, GW), Some(NeighState::Reachable));
    assert_eq!(n.counters().mac_changes, 1);
}

#[test]
fn a_late_answer_revives_a_failed_entry() {
    let mut n = Neighbours::new(params(), 1);
    n.resolve(at(0), LAN, GW);
    n.handle_timeout(at(1000));
    n.handle_timeout(at(2000));
    n.handle_timeout(at(3000));
    assert_eq!(n.resolve(at(3000), LAN, GW), Resolve::Failed);
    n.handle_arp(at(3500), LAN, &reply(GW_MAC, GW), true);
    assert_eq!(n.resolve(at(3600), LAN, GW), Resolve::Known(GW_MAC));
}

#[test]
fn full_cache_evicts_idle_entries_first() {
    let p = NeighParams {
        capacity: 4,
        ..params()
    };
    let mut n = Neighbours::new(p, 1);
    let host = |i: u8| Ipv4Addr::new(192, 168, 1, 10 + i);
    let mac = |i: u8| EthernetAddress([2, 0, 0, 0, 0, 10 + i]);
    // Four neighbours learned one second apart (STALE, oldest first).
    for i in 0..4u8 {
        let t = at(u64::from(i) * 1000);
        n.handle_arp(
            t,
            LAN,
            &arp(ArpOperation::Request, mac(i), host(i), OUR_IP),
            true,
        );
    }
    // Host 0 is in use (it moves to PROBE); host 1 is now the least
    // recently used.
    assert_eq!(n.resolve(at(5000), LAN, host(0)), Resolve::Known(mac(0)));
    assert_eq!(n.resolve(at(5000), LAN, host(4)), Resolve::Pending);
    assert_eq!(n.len(), 4);
    assert_eq!(state(&n, LAN, host(1)), None, "host 1 evicted");
    for i in [0, 2, 3, 4] {
        assert!(state(&n, LAN, host(i)).is_some(), "host {i} kept");
    }
    assert_eq!(n.counters().evictions, 1);
    // Idle entries go before anything unresolved, unresolved before used.
    n.enqueue(LAN, host(4), b"waiting");
    n.resolve(at(5100), LAN, host(5));
    n.resolve(at(5200), LAN, host(6));
    assert_eq!(
        (state(&n, LAN, host(2)), state(&n, LAN, host(3))),
        (None, None)
    );
    assert_eq!(n.resolve(at(5300), LAN, host(7)), Resolve::Pending);
    assert_eq!(state(&n, LAN, host(4)), None, "oldest INCOMPLETE evicted");
    assert_eq!(state(&n, LAN, host(0)), Some(NeighState::Probe));
    let c = n.counters();
    assert_eq!((c.evictions, c.queue_dropped, n.held_frames()), (4, 1, 0));
    n.cache.check();
}

#[test]
fn flush_port_forgets_only_that_port() {
    let mut n = learned(at(0));
    n.resolve(at(0), WAN, OTHER);
    n.enqueue(WAN, OTHER, b"w");
    n.flush_port(WAN);
    assert_eq!((n.len(), n.held_frames()), (1, 0));
    assert_eq!(n.counters().queue_dropped, 1);
    assert_eq!(n.resolve(at(1), LAN, GW), Resolve::Known(GW_MAC));
}

#[test]
fn addresses_never_resolved() {
    let mut n = Neighbours::new(params(), 1);
    for ip in [
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::BROADCAST,
        Ipv4Addr::LOCALHOST,
        Ipv4Addr::new(239, 1, 2, 3),
    ] {
        assert_eq!(n.resolve(at(0), LAN, ip), Resolve::Failed, "{ip}");
    }
    assert_eq!((n.len(), requests(&mut n).len()), (0, 0));
}

#[test]
fn full_request_queue_pauses_timers_and_loses_nothing() {
    let mut n = Neighbours::new(
        NeighParams {
            capacity: 200,
            ..params()
        },
        1,
    );
    let host = |i: u32| Ipv4Addr::from(0x0a00_0000 + i);
    for i in 0..100 {
        assert_eq!(n.resolve(at(0), LAN, host(i)), Resolve::Pending);
    }
    assert_eq!(requests(&mut n).len(), REQUEST_QUEUE);
    assert_eq!(n.counters().request_queue_full, 100 - REQUEST_QUEUE as u64);
    n.handle_timeout(at(1000));
    assert_eq!(n.poll_timeout(), Some(at(1000)), "timers left due");
    assert_eq!(requests(&mut n).len(), REQUEST_QUEUE);
    n.handle_timeout(at(1000));
    assert_eq!(requests(&mut n).len(), 100 - REQUEST_QUEUE);
    assert_eq!(n.poll_timeout(), Some(at(2000)));
    n.cache.check();
}

#[test]
fn request_frames_from_the_port() {
    let mut buf = [0u8; 64];
    for (req, dst) in [
        (bcast(LAN, GW), EthernetAddress::BROADCAST),
        (
            ArpRequest {
                unicast: Some(GW_MAC),
                ..bcast(LAN, GW)
            },
            GW_MAC,
        ),
    ] {
        let len = req.emit(&mut buf, OUR_MAC, OUR_IP);
        let f = EthernetFrame::new_checked(&buf[..len]).unwrap();
        assert_eq!(
            (f.dst_addr(), f.src_addr(), f.ethertype()),
            (dst, OUR_MAC, ethertype::ARP)
        );
        let a = ArpRepr::parse(&ArpPacket::new_checked(f.payload()).unwrap()).unwrap();
        assert_eq!(a, arp(ArpOperation::Request, OUR_MAC, OUR_IP, GW));
        assert_eq!(req.emit(&mut buf[..20], OUR_MAC, OUR_IP), 0);
    }
}

/// Seeded random traffic: packets to random next hops (some answer, some
/// never do), replies, gratuitous ARP, requests for us, time jumps and
/// link flushes on a small cache and pool. After every step: the cache's
/// structure is sound, frame accounting balances, no frame is released
/// twice or to a MAC its neighbour never had, timers are in the future.
#[test]
fn random_traffic_keeps_invariants() {
    let runs: Vec<NeighCounters> = (1..=8u64).map(|seed| random_run(seed, 4000)).collect();
    // Together the runs took every path that drops, evicts or changes.
    let hit = |f: fn(&NeighCounters) -> u64| runs.iter().map(f).sum::<u64>() > 0;
    assert!(hit(|c| c.released) && hit(|c| c.queue_dropped) && hit(|c| c.queue_overflow));
    assert!(hit(|c| c.pool_exhausted) && hit(|c| c.evictions) && hit(|c| c.expired));
    assert!(hit(|c| c.probe_failures) && hit(|c| c.resolution_failures));
    assert!(hit(|c| c.mac_changes) && hit(|c| c.mac_change_ignored));
}

fn random_run(seed: u64, steps: usize) -> NeighCounters {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut rnd = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n.max(1)
    };
    let p = NeighParams {
        capacity: 10 + (seed % 4) as usize * 4,
        pool_frames: 10,
        queue_per_neigh: 3,
        ..NeighParams::default()
    };
    let mut n = Neighbours::new(p, seed);
    // 24 hosts on 2 ports; hosts 0..16 answer, each with one of two MACs.
    let host = |h: u64| Ipv4Addr::new(10, 0, (h % 2) as u8, h as u8);
    let mac_of = |h: u64, alt: bool| EthernetAddress([2, 0, 0, u8::from(alt), 0, h as u8]);
    let mut now = at(1);
    let mut next_id: u32 = 0;
    let mut released = std::collections::HashSet::new();
    let mut pending_replies: Vec<(u64, bool)> = Vec::new();
    for _ in 0..steps {
        match rnd(10) {
            0..=4 => {
                let h = rnd(24);
                let port = (h % 2) as PortId;
                match n.resolve(now, port, host(h)) {
                    Resolve::Known(m) => assert!(m == mac_of(h, false) || m == mac_of(h, true)),
                    Resolve::Pending => {
                        let mut f = [0u8; 9];
                        f[..4].copy_from_slice(&next_id.to_be_bytes());
                        f[4] = h as u8;
                        next_id += 1;
                        n.enqueue(port, host(h), &f);
                    }
                    Resolve::Failed => {}
                }
            }
            5 | 6 => {
                for r in requests(&mut n) {
                    let h = u64::from(r.target.octets()[3]);
                    assert_eq!(r.port, (h % 2) as PortId);
                    if h < 16 && rnd(5) > 0 {
                        pending_replies.push((h, rnd(8) == 0));
                    }
                }
                for (h, alt) in pending_replies.drain(..) {
                    let port = (h % 2) as PortId;
                    n.handle_arp(now, port, &reply(mac_of(h, alt), host(h)), true);
                }
            }
            7 => {
                let h = rnd(24);
                let port = (h % 2) as PortId;
                let a = if rnd(2) == 0 {
                    garp(mac_of(h, rnd(2) == 0), host(h))
                } else {
                    arp(ArpOperation::Request, mac_of(h, false), host(h), OUR_IP)
                };
                n.handle_arp(now, port, &a, rnd(2) == 0);
            }
            8 => {
                now = now + Duration::from_millis(rnd(3000));
                loop {
                    n.handle_timeout(now);
                    requests(&mut n);
                    if n.poll_timeout().is_none_or(|t| t > now) {
                        break;
                    }
                }
            }
            _ => {
                if rnd(20) == 0 {
                    n.flush_port(rnd(2) as PortId);
                }
                n.drain_resolved(|port, mac, f| {
                    let id = u32::from_be_bytes([f[0], f[1], f[2], f[3]]);
                    let h = u64::from(f[4]);
                    assert!(released.insert(id), "frame {id} released twice");
                    assert_eq!(port, (h % 2) as PortId);
                    assert!(mac == mac_of(h, false) || mac == mac_of(h, true));
                    true
                });
            }
        }
        n.cache.check();
        let c = n.counters();
        assert!(n.len() <= p.capacity);
        assert_eq!(
            c.queued,
            c.released + c.queue_overflow + c.queue_dropped + n.held_frames() as u64,
            "seed {seed}: frame accounting"
        );
        assert_eq!(c.released, released.len() as u64);
    }
    // Let everything expire: nothing may stay held or cached.
    now = now + Duration::from_secs(1000);
    for _ in 0..10 {
        n.handle_timeout(now);
        requests(&mut n);
        now = now + Duration::from_secs(100);
    }
    drain(&mut n);
    let c = n.counters();
    assert_eq!((n.len(), n.held_frames()), (0, 0), "seed {seed}");
    assert_eq!(c.queued, c.released + c.queue_overflow + c.queue_dropped);
    c
}

/// `cargo test --release --lib resolve_bench -- --ignored --nocapture`
#[test]
#[ignore]
fn resolve_bench() {
    let mut n = Neighbours::new(NeighParams::default(), 0x5eed);
    let host = |i: u32| Ipv4Addr::from(0x0a00_0000 + i);
    let full = n.params().capacity as u32;
    for i in 0..full {
        let mac = EthernetAddress([2, 0, 0, 0, (i >> 8) as u8, i as u8]);
        n.handle_arp(
            at(0),
            LAN,
            &arp(ArpOperation::Request, mac, host(i), OUR_IP),
            true,
        );
        n.handle_arp(at(0), LAN, &reply(mac, host(i)), true);
    }
    assert_eq!(n.len(), full as usize);
    let rounds = 4_000_000u32;
    let start = std::time::Instant::now();
    let mut known = 0u32;
    for r in 0..rounds {
        let ip = host(r.wrapping_mul(2_654_435_761) % full);
        if let Resolve::Known(_) = std::hint::black_box(n.resolve(at(1), LAN, ip)) {
            known += 1;
        }
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(rounds);
    println!("resolve, {full} REACHABLE neighbours: {ns:.1} ns/lookup ({known} known)");
}
