//! Session table micro-benchmark: ns per insert, lookup (hit and miss),
//! UDP track (each one refreshing the deadline, so the session moves to its
//! queue tail), TCP track (in-window data) and expiry, at 1k, 16k and 256k
//! sessions, plus bytes per session. Each figure is the median of several
//! runs over the whole table in random order, timed with the thread's CPU
//! clock (CLOCK_THREAD_CPUTIME_ID), so time the shared machine spends on
//! other processes is not counted (their cache pollution still is). Run
//! with `cargo bench --bench conntrack`; numbers only, nothing asserted.

mod util;

use hagw::config::Conntrack as Config;
use hagw::conntrack::{Conntrack, Dir, L4, NatFlags, PacketInfo, Session, TcpInfo, Tuple};
use hagw::time::{Duration, Instant};
use hagw::wire::tcp::flags;
use std::hint::black_box;
use std::net::Ipv4Addr;
use util::{cpu_ns, shuffled};

const SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);

fn orig(proto: u8, i: u32) -> Tuple {
    Tuple::new(
        proto,
        Ipv4Addr::from(0x0a00_0000 | i >> 6),
        1024 + (i & 63) as u16,
        SERVER,
        443,
    )
}

fn udp(t: Tuple) -> PacketInfo {
    PacketInfo {
        tuple: t,
        len: 120,
        l4: L4::Other,
    }
}

fn tcp(t: Tuple, f: u8, seq: u32, ack: u32, len: u16) -> PacketInfo {
    PacketInfo {
        tuple: t,
        len: 40 + len,
        l4: L4::Tcp(TcpInfo::new(f, seq, ack, 65535, len)),
    }
}

fn table(n: u32) -> Conntrack {
    let cfg = Config {
        max_entries: n,
        ..Config::default()
    };
    Conntrack::new(&cfg, 1, *b"bench-hash-key!!")
}

/// ns of CPU per operation of `f` over `ops` operations.
fn timed(ops: u32, f: impl FnOnce()) -> f64 {
    let t = cpu_ns();
    f();
    (cpu_ns() - t) as f64 / f64::from(ops)
}

#[derive(Default)]
struct Run {
    insert: Vec<f64>,
    hit: Vec<f64>,
    miss: Vec<f64>,
    track_udp: Vec<f64>,
    track_tcp: Vec<f64>,
    expire: Vec<f64>,
}

fn udp_run(n: u32, order: &[u32], r: &mut Run) {
    let mut ct = table(n);
    let t0 = Instant::from_secs(1000);
    let none = NatFlags::default();
    let tuples: Vec<Tuple> = order.iter().map(|&i| orig(17, i)).collect();
    r.insert.push(timed(n, || {
        for t in &tuples {
            black_box(ct.insert(t0, *t, t.reversed(), none, &udp(*t)).ok());
        }
    }));
    assert_eq!(ct.len(), n as usize);
    // Lookups and packets in another random order than the inserts.
    let probe: Vec<Tuple> = shuffled(n, u64::from(order[0]) ^ 0x5555)
        .into_iter()
        .map(|i| orig(17, i))
        .collect();
    r.hit.push(timed(n, || {
        for t in &probe {
            black_box(ct.lookup(black_box(t)));
        }
    }));
    let absent: Vec<Tuple> = order.iter().map(|&i| orig(6, i)).collect();
    r.miss.push(timed(n, || {
        for t in &absent {
            black_box(ct.lookup(black_box(t)));
        }
    }));
    // One second later: every packet moves its session to a queue tail.
    let idxs: Vec<_> = probe.iter().map(|t| ct.lookup(t).unwrap().0).collect();
    let t1 = t0 + Duration::from_secs(1);
    r.track_udp.push(timed(n, || {
        for (i, t) in idxs.iter().zip(&probe) {
            black_box(ct.track(t1, *i, Dir::Reply, &udp(t.reversed())));
        }
    }));
    let late = t1 + Duration::from_secs(86_400);
    r.expire.push(timed(n, || {
        black_box(ct.handle_timeout(late));
    }));
    assert!(ct.is_empty());
}

fn tcp_run(n: u32, order: &[u32], r: &mut Run) {
    let mut ct = table(n);
    let now = Instant::from_secs(1000);
    let mut sessions = Vec::with_capacity(n as usize);
    for &i in order {
        let o = orig(6, i);
        let idx = ct
            .insert(
                now,
                o,
                o.reversed(),
                NatFlags::default(),
                &tcp(o, flags::SYN, i, 0, 0),
            )
            .unwrap();
        ct.track(
            now,
            idx,
            Dir::Reply,
            &tcp(o.reversed(), flags::SYN | flags::ACK, 7, i + 1, 0),
        );
        ct.track(now, idx, Dir::Original, &tcp(o, flags::ACK, i + 1, 8, 0));
        sessions.push((idx, o, i + 1));
    }
    let shuffle = shuffled(n, u64::from(order[0]) ^ 0xaaaa);
    let sessions: Vec<_> = shuffle.iter().map(|&k| sessions[k as usize]).collect();
    r.track_tcp.push(timed(n, || {
        for (idx, o, seq) in &sessions {
            let p = tcp(*o, flags::ACK | flags::PSH, *seq, 8, 1000);
            black_box(ct.track(now, *idx, Dir::Original, &p));
        }
    }));
    assert_eq!(ct.stats().invalid_tcp_window, 0);
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let sizes = [1u32 << 10, 1 << 14, 1 << 18];
    println!(
        "session record {} B; per session incl. index and change rings:",
        core::mem::size_of::<Session>()
    );
    for n in sizes {
        println!(
            "  {:>7} sessions: {:.1} B",
            n,
            table(n).memory_bytes() as f64 / f64::from(n)
        );
    }
    println!();
    println!(
        "{:>8} {:>5} | {:>7} {:>7} {:>7} {:>9} {:>9} {:>7}   (ns per operation, median)",
        "sessions", "runs", "insert", "hit", "miss", "track udp", "track tcp", "expire"
    );
    for n in sizes {
        // Under `cargo test` (no `--bench` argument, a debug build): one
        // run per size, a smoke test of the assertions (it took ~100 s).
        let runs = if bench {
            (4_000_000 / n).clamp(5, 100)
        } else {
            1
        };
        let mut r = Run::default();
        for k in 0..runs {
            let order = shuffled(n, 0x9e37_79b9 + u64::from(k));
            udp_run(n, &order, &mut r);
            tcp_run(n, &order, &mut r);
        }
        println!(
            "{:>8} {:>5} | {:>7.1} {:>7.1} {:>7.1} {:>9.1} {:>9.1} {:>7.1}",
            n,
            runs,
            median(&mut r.insert),
            median(&mut r.hit),
            median(&mut r.miss),
            median(&mut r.track_udp),
            median(&mut r.track_tcp),
            median(&mut r.expire),
        );
    }
}
