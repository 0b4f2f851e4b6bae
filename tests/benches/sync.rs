//! Conntrack-sync benchmark (`cargo bench --bench sync`): bytes per message
//! type on the wire, and sessions per second through export → frame →
//! datagram → validate → decode → apply to the external cache, in memory.
//! Prints a table; asserts nothing about timings. Under `cargo test` (no
//! `--bench` argument) it runs a small smoke pass instead.

#[path = "../sync_harness/mod.rs"]
mod sync_harness;

use hagw::sync::frame;
use hagw::sync::msg::{Echo, Keepalive, Message, encoded_len};
use hagw::sync::{Endpoint, NatMapping, SessionRecord, Sync, session_id};
use hagw::time::Instant;
use std::net::Ipv4Addr;
use sync_harness::{Rng, cfg, session, shuttle};

const ME: u16 = 1;

fn tcp(nat: NatMapping, counter: u64) -> SessionRecord {
    SessionRecord {
        id: session_id(ME, counter),
        orig: hagw::conntrack::Tuple::new(
            6,
            Ipv4Addr::new(192, 168, 10, 31),
            47284,
            Ipv4Addr::new(216, 134, 160, 13),
            443,
        ),
        nat,
        state: 3,
        flags: 1,
        timeout_secs: 7440,
    }
}

fn sizes() {
    let snat = Endpoint::new(Ipv4Addr::new(10, 0, 0, 1), 61001);
    let dnat = Endpoint::new(Ipv4Addr::new(192, 168, 10, 100), 22);
    let c = 300_000; // a counter past 2^18: a busy router's
    let mut ka = Keepalive {
        last_seq: 123_456,
        ..Keepalive::default()
    };
    let _ = ka.vrrp.push((51, 2));
    let _ = ka.vrrp.push((52, 2));
    let _ = ka.echoes.push(Echo {
        node: 2,
        boot: 0x6543_2100,
        seq: 98_765,
    });
    let rows: Vec<(&str, Message)> = vec![
        (
            "new TCP, SNAT",
            Message::New(tcp(NatMapping::Snat(snat), c)),
        ),
        (
            "new TCP, DNAT",
            Message::New(tcp(NatMapping::Dnat(dnat), c)),
        ),
        (
            "new TCP, SNAT+DNAT",
            Message::New(tcp(NatMapping::Both { snat, dnat }, c)),
        ),
        ("new TCP, no NAT", Message::New(tcp(NatMapping::None, c))),
        (
            "new TCP, SNAT, other creator",
            Message::New(SessionRecord {
                id: session_id(2, c),
                ..tcp(NatMapping::Snat(snat), c)
            }),
        ),
        (
            "update",
            Message::Update {
                id: session_id(ME, c),
                state: 4,
                timeout_secs: 7440,
            },
        ),
        (
            "destroy",
            Message::Destroy {
                id: session_id(ME, c),
            },
        ),
        ("keepalive (2 groups, 1 peer)", Message::Keepalive(ka)),
        ("resync request", Message::ResyncRequest { to: 0 }),
        ("bulk begin", Message::BulkBegin),
        ("bulk end", Message::BulkEnd { count: 65_536 }),
        (
            "nack",
            Message::Nack {
                to: 2,
                boot: 0x6543_2100,
                first: 98_000,
                last: 98_010,
            },
        ),
    ];
    println!("bytes per message inside a frame (kind + length + postcard body), counter {c}:");
    println!("{:<32} {:>5}", "message", "bytes");
    for (name, m) in &rows {
        println!("{:<32} {:>5}", name, encoded_len(m, ME).unwrap_or(0));
    }
    let payload = 1500 - 28;
    let new = encoded_len(&rows[0].1, ME).unwrap_or(1);
    for (label, mac) in [("no key", false), ("auth_key", true)] {
        let room = payload - frame::overhead(mac);
        println!(
            "frame overhead {label}: {} B; SNAT'd TCP news per 1500-MTU frame: {}",
            frame::overhead(mac),
            room / new
        );
    }
    println!(
        "(pfsync: ~264 B per full state, 84 B per compressed update; conntrackd ~84 B per IPv4 SNAT entry)"
    );
}

#[derive(Copy, Clone)]
enum Kind {
    New,
    Update,
    Destroy,
}

/// Sessions per second for `n` messages of `kind` from a to b.
fn throughput(kind: Kind, key: Option<&str>, n: u64, recs: &[SessionRecord]) -> (f64, u64, u64) {
    let mut a = Sync::new(&cfg(key), 1, 1, recs.len(), 1500);
    let mut b = Sync::new(&cfg(key), 2, 2, recs.len(), 1500);
    let now = Instant::from_secs(1);
    let mut buf = vec![0u8; 2048];
    let mut rng = Rng::new(1);
    // introduce the peers (and, with a key, complete the echo handshake)
    for i in 0..4u64 {
        let t = now + hagw::time::Duration::from_millis(200 * i);
        a.handle_timeout(t);
        b.handle_timeout(t);
        a.flush(t);
        b.flush(t);
        shuttle(t, &mut a, &mut b, &mut rng, 0.0, &mut buf);
        shuttle(t, &mut b, &mut a, &mut rng, 0.0, &mut buf);
    }
    if !matches!(kind, Kind::New) {
        // the sessions first, a loop turn's worth at a time
        for chunk in recs.chunks(256) {
            for r in chunk {
                a.export_new(r);
            }
            a.flush(now);
            shuttle(now, &mut a, &mut b, &mut rng, 0.0, &mut buf);
        }
    }
    let start = std::time::Instant::now();
    let mut frames = 0;
    let mut bytes = 0;
    let batch = 256; // messages per loop turn
    let mut i = 0u64;
    while i < n {
        for _ in 0..batch.min(n - i) {
            let r = &recs[(i as usize) % recs.len()];
            match kind {
                Kind::New => a.export_new(r),
                Kind::Update => a.export_update(r.id, (i % 7) as u8, 7440),
                Kind::Destroy => a.export_destroy(r.id),
            }
            i += 1;
        }
        a.flush(now);
        while let Some(len) = a.poll_transmit(&mut buf) {
            frames += 1;
            bytes += len as u64;
            let _ = b.handle_datagram(now, &buf[..len]);
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let s = b.stats();
    assert_eq!(s.malformed + s.bad_crc + s.auth_failures + s.lost, 0);
    (n as f64 / secs, frames, bytes)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (n, runs) = if bench { (200_000, 5) } else { (2_000, 1) };
    sizes();
    let mut rng = Rng::new(7);
    let recs: Vec<SessionRecord> = (0..n).map(|c| session(ME, c + 1, &mut rng)).collect();
    println!();
    println!(
        "in-memory export → frame → validate → decode → apply, {n} sessions, median of {runs} (release build: cargo bench --bench sync):"
    );
    println!(
        "{:<9} {:<9} {:>14} {:>8} {:>11}",
        "message", "auth", "sessions/s", "frames", "B/session"
    );
    for (kname, kind) in [
        ("new", Kind::New),
        ("update", Kind::Update),
        ("destroy", Kind::Destroy),
    ] {
        for (aname, key) in [("none", None), ("hmac", Some("bench-sync-key"))] {
            let mut rates = Vec::new();
            let mut last = (0, 0);
            for _ in 0..runs {
                let (r, f, b) = throughput(kind, key, n, &recs);
                rates.push(r);
                last = (f, b);
            }
            println!(
                "{:<9} {:<9} {:>14.0} {:>8} {:>11.1}",
                kname,
                aname,
                median(rates),
                last.0,
                last.1 as f64 / n as f64
            );
        }
    }
}
