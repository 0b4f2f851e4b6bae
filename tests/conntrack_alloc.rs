//! The session table allocates nothing after `Conntrack::new`: inserts
//! (with early drop when full), TCP and UDP tracking, expiry, removal,
//! synced inserts and draining changes, over many minutes of virtual time,
//! with a counting global allocator.

use hagw::config::Conntrack as Config;
use hagw::conntrack::{Conntrack, Dir, L4, NatFlags, PacketInfo, SyncedSession, TcpInfo, Tuple};
use hagw::time::{Duration, Instant};
use hagw::wire::tcp::flags;
use std::net::Ipv4Addr;

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{allocations, counting};

fn client(n: u32) -> Ipv4Addr {
    Ipv4Addr::from(0x0a00_0000 | (n >> 14 & 0xff))
}

fn ends(n: u32) -> (u16, Ipv4Addr) {
    let sport = (n & 0x3fff) as u16 + 1024;
    (sport, Ipv4Addr::new(93, 184, 216, (n % 200) as u8))
}

fn udp_orig(n: u32) -> Tuple {
    let (sport, server) = ends(n);
    Tuple::new(17, client(n), sport, server, 53)
}

fn tcp(t: Tuple, f: u8, seq: u32, ack: u32) -> PacketInfo {
    PacketInfo {
        tuple: t,
        len: 40,
        l4: L4::Tcp(TcpInfo::new(f, seq, ack, 65535, 0)),
    }
}

/// One minute-ish of traffic: `flows` new connections (half TCP with a
/// full handshake and some data, half UDP with an answer), one synced
/// session, a removal, an expiry pass and a drain.
fn round(ct: &mut Conntrack, now: &mut Instant, base: u32, flows: u32) -> usize {
    let mut events = 0;
    for n in base..base + flows {
        *now = *now + Duration::from_millis(7);
        let (sport, server) = ends(n);
        if n % 2 == 0 {
            let orig = Tuple::new(6, client(n), sport, server, 443);
            let reply = Tuple::new(6, server, 443, Ipv4Addr::new(203, 0, 113, 1), sport);
            let nat = NatFlags {
                snat: true,
                dnat: false,
            };
            let Ok(idx) = ct.insert(*now, orig, reply, nat, &tcp(orig, flags::SYN, n, 0)) else {
                continue;
            };
            ct.track(
                *now,
                idx,
                Dir::Reply,
                &tcp(reply, flags::SYN | flags::ACK, 7, n + 1),
            );
            ct.track(*now, idx, Dir::Original, &tcp(orig, flags::ACK, n + 1, 8));
            if n % 8 == 0 {
                let fin = flags::FIN | flags::ACK;
                ct.track(*now, idx, Dir::Original, &tcp(orig, fin, n + 1, 8));
                ct.track(*now, idx, Dir::Reply, &tcp(reply, fin, 8, n + 2));
                ct.track(*now, idx, Dir::Original, &tcp(orig, flags::ACK, n + 2, 9));
            }
        } else {
            let orig = udp_orig(n);
            let pkt = PacketInfo {
                tuple: orig,
                len: 80,
                l4: L4::Other,
            };
            let Ok(idx) = ct.insert(*now, orig, orig.reversed(), NatFlags::default(), &pkt) else {
                continue;
            };
            let answer = PacketInfo {
                tuple: orig.reversed(),
                ..pkt
            };
            ct.track(*now, idx, Dir::Reply, &answer);
        }
        // Close the UDP flow of 64 connections ago by hand.
        let m = n.wrapping_sub(63) | 1;
        if let Some((idx, _)) = ct.lookup(&udp_orig(m)) {
            ct.remove(idx);
        }
        events += 1;
    }
    let orig = Tuple::new(
        17,
        Ipv4Addr::new(10, 9, 9, 9),
        base as u16,
        Ipv4Addr::new(1, 1, 1, 1),
        53,
    );
    let rec = SyncedSession {
        id: 2 << 48 | u64::from(base),
        orig,
        reply: orig.reversed(),
        nat: NatFlags::default(),
        tcp_state: None,
        seen_reply: true,
        assured: true,
        remaining_secs: base % 100,
        tcp_wscale: [0; 2],
    };
    let _ = ct.insert_synced(*now, &rec);
    events += ct.handle_timeout(*now);
    events += ct.drain_changes(usize::MAX, |_| {});
    events
}

#[test]
fn steady_state_does_not_allocate() {
    // Established TCP lives 90 s: with ~12 s per round the table runs
    // full, evicting unanswered UDP, while sessions also expire.
    let mut cfg = Config {
        max_entries: 4096,
        ..Config::default()
    };
    cfg.timeouts.tcp_established = 90;
    let mut ct = Conntrack::new(&cfg, 1, [3; 16]);
    let mut now = Instant::from_secs(100);
    // Warm up: fill the table (early drop from here on) and expire some.
    let mut base = 1;
    for _ in 0..10 {
        round(&mut ct, &mut now, base, 1000);
        base += 1000;
    }
    assert!(ct.len() > 3000, "table filled: {}", ct.len());

    counting(true);
    let mut events = 0;
    for _ in 0..60 {
        events += round(&mut ct, &mut now, base, 1000);
        base += 1000;
        now = now + Duration::from_secs(5);
    }
    counting(false);
    let s = ct.stats();
    assert!(
        events > 60_000 && s.evicted > 0 && s.expired > 1000,
        "{s:?}"
    );
    assert_eq!(allocations(), 0, "allocations in steady state");
}
