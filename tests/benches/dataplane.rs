//! Engine dataplane benchmark, in memory (issue 10, Performance): the SPEC §6
//! router (board/examples/scenario5-stateful-a.uci: SNAT of the LAN to the
//! WAN virtual address, wan_in firewall, 16k session table) as master, with
//! 10k live SNAT'd TCP sessions (50 LAN clients, 200 servers behind the
//! default route). Prints, as medians and ranges over repeated passes:
//!
//! * ns per established-flow packet through `Engine::handle_frame`
//!   (Ethernet and IPv4 parse, firewall, session lookup and TCP tracking,
//!   NAT rewrite with incremental checksums, next-hop MAC), LAN→WAN and
//!   WAN→LAN, each pass visiting all 10k sessions in random order; and
//!   LAN→WAN over 64 flows round-robin (everything in cache). The harness
//!   restores the rewritten frame from a template before every call; that
//!   copy is timed alone and subtracted.
//! * new flows per second: TCP (SYN, SYN-ACK, ACK through the engine) and
//!   UDP (first datagram), filling an empty table to 10k.
//!
//! CPU time of this thread (CLOCK_THREAD_CPUTIME_ID). Nothing is asserted
//! about time; correctness is (every packet forwarded, translated with valid
//! checksums, no drops). Run: `cargo bench --bench dataplane`; under
//! `cargo test` (no `--bench` argument) it makes one short smoke pass.
//!
//! `dataplane callgrind N` sets up the same table and sends N established
//! packets (alternating directions) through `callgrind_loop`, for
//! `valgrind --tool=callgrind --toggle-collect='*callgrind_loop*'`
//! (tests/benches/callgrind.sh): the instructions counted are the loop's.

#[path = "../common/engine_rig.rs"]
mod engine_rig;
#[path = "../sim/packet.rs"]
mod packet;
mod util;

use engine_rig::{LAN, Rig, UPSTREAM, UPSTREAM_MAC, WAN, WAN_VIP};
use hagw::engine::Verdict;
use packet::{TCP_ACK, TCP_PSH, TCP_SYN};
use std::hint::black_box;
use std::net::Ipv4Addr;
use util::cpu_ns;

const SESSIONS: usize = 10_000;
const CLIENTS: usize = 50;
const SERVERS: usize = 200;
const PAYLOAD: [u8; 64] = [0x5a; 64];

fn client(i: usize) -> (Ipv4Addr, [u8; 6]) {
    let c = (i % CLIENTS) as u8;
    (
        Ipv4Addr::new(192, 168, 10, 100 + c),
        [0x02, 0xaa, 0, 0, 0, c],
    )
}

fn server(i: usize) -> Ipv4Addr {
    let s = (i % SERVERS) as u16;
    Ipv4Addr::new(198, 51, 100 + (s >> 8) as u8, s as u8 + 1)
}

fn sport(i: usize) -> u16 {
    20_000 + (i / CLIENTS) as u16
}

/// The MAC of the host owning `ip` (clients and the upstream router).
fn mac_of(ip: Ipv4Addr) -> Option<[u8; 6]> {
    let o = ip.octets();
    if ip == UPSTREAM {
        Some(UPSTREAM_MAC)
    } else if o[..3] == [192, 168, 10] && (100..100 + CLIENTS as u8).contains(&o[3]) {
        Some([0x02, 0xaa, 0, 0, 0, o[3] - 100])
    } else {
        None
    }
}

/// The session indices in a random order (fixed seed).
fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    util::shuffled(n as u32, seed)
        .into_iter()
        .map(|i| i as usize)
        .collect()
}

/// One established flow: a data segment template per direction.
struct Flow {
    out: Vec<u8>,
    back: Vec<u8>,
}

impl Rig {
    fn client_frame(&self, i: usize, flags: u8, seq: u32, ack: u32, data: &[u8]) -> Vec<u8> {
        let (c, cmac) = client(i);
        let ip = packet::tcp(c, sport(i), server(i), 443, flags, seq, ack, data);
        packet::ether(self.lan_gw, cmac, 0x0800, &ip)
    }

    fn server_frame(
        &self,
        i: usize,
        port: u16,
        flags: u8,
        seq: u32,
        ack: u32,
        data: &[u8],
    ) -> Vec<u8> {
        let ip = packet::tcp(server(i), 443, WAN_VIP, port, flags, seq, ack, data);
        packet::ether(self.wan_gw, UPSTREAM_MAC, 0x0800, &ip)
    }

    /// Open TCP flow `i` (SYN, SYN-ACK, ACK), resolving neighbours on the
    /// way, and check the translation.
    fn open_tcp(&mut self, i: usize) {
        let syn = self.client_frame(i, TCP_SYN, 1000, 0, &[]);
        let (p, f) = self.send(LAN, syn).expect("SYN forwarded");
        assert_eq!(p, WAN);
        assert_eq!(f[..6], UPSTREAM_MAC, "SYN to the upstream router");
        let pk = packet::parse(&f[14..]).expect("SYN checksums");
        assert_eq!((pk.src, pk.dst), (WAN_VIP, server(i)), "SYN SNAT'd");
        let nat_port = pk.sport;
        let sa = self.server_frame(i, nat_port, TCP_SYN | TCP_ACK, 5000, 1001, &[]);
        let (p, f) = self.send(WAN, sa).expect("SYN-ACK forwarded");
        assert_eq!(p, LAN);
        let pk = packet::parse(&f[14..]).expect("SYN-ACK checksums");
        assert_eq!(
            (pk.dst, pk.dport),
            (client(i).0, sport(i)),
            "SYN-ACK de-NAT'd"
        );
        let ack = self.client_frame(i, TCP_ACK, 1001, 5001, &[]);
        self.send(LAN, ack).expect("ACK forwarded");
    }

    /// The timed path: restore the frame, hand it to the engine, count.
    #[inline(always)]
    fn one(&mut self, port: usize, template: &[u8], buf: &mut [u8]) {
        let n = template.len();
        buf[..n].copy_from_slice(template);
        let v = self
            .e
            .handle_frame(self.now, port, black_box(&mut buf[..n]), &mut self.tx);
        if let Verdict::Forward(_) = v {
            self.forwarded += 1;
        }
    }
}

/// Rig with the neighbours (50 clients, the upstream router) resolved by
/// one throwaway flow per client, outside every measurement.
fn warm_rig() -> Rig {
    let mut r = Rig::new(client(0), mac_of);
    for c in 0..CLIENTS {
        r.open_tcp(3 * SESSIONS + c);
    }
    r
}

/// Setup shared by the table and callgrind modes: rig + 10k TCP flows
/// opened (SYN, SYN-ACK, ACK from prebuilt frames, timed: ns per flow).
fn established() -> (Rig, Vec<Flow>, f64) {
    let mut r = warm_rig();
    // Node 1 keeps a source port from the lower half when it is free: these
    // are (no two flows share server and port), so replies go to sport(i).
    let hs: Vec<[Vec<u8>; 3]> = (0..SESSIONS)
        .map(|i| {
            [
                r.client_frame(i, TCP_SYN, 1000, 0, &[]),
                r.server_frame(i, sport(i), TCP_SYN | TCP_ACK, 5000, 1001, &[]),
                r.client_frame(i, TCP_ACK, 1001, 5001, &[]),
            ]
        })
        .collect();
    let mut buf = [0u8; 1518];
    r.forwarded = 0;
    r.tx.clear();
    let t = cpu_ns();
    for [syn, syn_ack, ack] in &hs {
        r.one(LAN, syn, &mut buf);
        r.one(WAN, syn_ack, &mut buf);
        r.one(LAN, ack, &mut buf);
    }
    let per_flow = (cpu_ns() - t) as f64 / SESSIONS as f64;
    assert_eq!(
        r.forwarded,
        3 * SESSIONS as u64,
        "every handshake packet forwarded"
    );
    assert!(r.tx.is_empty(), "nothing queued");
    let flows = (0..SESSIONS)
        .map(|i| Flow {
            out: r.client_frame(i, TCP_ACK | TCP_PSH, 1001, 5001, &PAYLOAD),
            back: r.server_frame(i, sport(i), TCP_ACK | TCP_PSH, 5001, 1065, &PAYLOAD),
        })
        .collect();
    (r, flows, per_flow)
}

fn median_range(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[0], v[v.len() / 2], v[v.len() - 1])
}

/// ns per packet of `passes` passes over all flows in one direction.
fn pass(r: &mut Rig, flows: &[Flow], order: &[usize], dir: usize, copy_only: bool) -> f64 {
    let mut buf = [0u8; 1518];
    r.tx.clear();
    let t = cpu_ns();
    for &k in order {
        let (port, tpl) = if dir == 0 {
            (LAN, &flows[k].out)
        } else {
            (WAN, &flows[k].back)
        };
        if copy_only {
            let n = tpl.len();
            buf[..n].copy_from_slice(tpl);
            black_box(&mut buf[..n]);
        } else {
            r.one(port, tpl, &mut buf);
        }
    }
    let ns = (cpu_ns() - t) as f64 / order.len() as f64;
    assert!(
        r.tx.is_empty(),
        "the engine queued frames on an established flow"
    );
    ns
}

/// UDP: ns per first datagram (new session) into an empty table, then per
/// established datagram.
fn udp_flows() -> (f64, f64) {
    let mut r = warm_rig();
    let frames: Vec<Vec<u8>> = (0..SESSIONS)
        .map(|i| {
            let (c, cmac) = client(i);
            let ip = packet::udp(c, sport(i), server(i), 53, &PAYLOAD);
            packet::ether(r.lan_gw, cmac, 0x0800, &ip)
        })
        .collect();
    let mut buf = [0u8; 1518];
    r.forwarded = 0;
    let t = cpu_ns();
    for f in &frames {
        r.one(LAN, f, &mut buf);
    }
    let new = (cpu_ns() - t) as f64 / SESSIONS as f64;
    assert_eq!(r.forwarded, SESSIONS as u64, "every new UDP flow forwarded");
    let order = shuffled(SESSIONS, 77);
    r.forwarded = 0;
    let t = cpu_ns();
    for &k in &order {
        r.one(LAN, &frames[k], &mut buf);
    }
    let est = (cpu_ns() - t) as f64 / SESSIONS as f64;
    assert_eq!(r.forwarded, SESSIONS as u64);
    (new, est)
}

/// Loop for callgrind's --toggle-collect: `n` established packets,
/// alternating LAN→WAN and WAN→LAN over the flows in random order.
#[inline(never)]
fn callgrind_loop(r: &mut Rig, flows: &[Flow], order: &[usize], n: usize) {
    let mut buf = [0u8; 1518];
    for j in 0..n {
        let f = &flows[order[(j / 2) % order.len()]];
        if j % 2 == 0 {
            r.one(LAN, &f.out, &mut buf);
        } else {
            r.one(WAN, &f.back, &mut buf);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(k) = args.iter().position(|a| a == "callgrind") {
        let n: usize = args
            .get(k + 1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(100_000);
        let (mut r, flows, _) = established();
        let order = shuffled(SESSIONS, 5);
        r.forwarded = 0;
        callgrind_loop(&mut r, &flows, &order, n);
        assert_eq!(r.forwarded, n as u64, "every packet forwarded");
        println!("callgrind: {n} established packets forwarded");
        return;
    }
    // Under `cargo test` (no `--bench` argument) one short round: a smoke
    // test of the setup and the assertions, numbers meaningless.
    let bench = args.iter().any(|a| a == "--bench");
    let rounds: usize = if bench {
        std::env::var("HAGW_BENCH_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3)
    } else {
        1
    };
    let passes = if bench { 20 } else { 1 };
    let (mut out, mut back, mut copy, mut tcp_new, mut udp_new, mut udp_est) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    // 64 flows round-robin: everything they touch stays in cache, so this is
    // the instruction-bound cost; the random passes over all 10k add the
    // cache misses of a table (and frames) bigger than L2.
    let (mut hot, mut hot_copy) = (vec![], vec![]);
    let hot_order: Vec<usize> = (0..SESSIONS).map(|i| i % 64 * 97).collect();
    for round in 0..rounds {
        let (mut r, flows, per_flow) = established();
        tcp_new.push(per_flow);
        let ct = r.e.snapshot(r.now).dataplane.expect("dataplane").conntrack;
        assert!(ct.entries >= SESSIONS, "{} live sessions", ct.entries);
        for p in 0..passes {
            let order = shuffled(SESSIONS, (round * passes + p) as u64 + 1);
            r.forwarded = 0;
            out.push(pass(&mut r, &flows, &order, 0, false));
            back.push(pass(&mut r, &flows, &order, 1, false));
            assert_eq!(r.forwarded, 2 * SESSIONS as u64, "every packet forwarded");
            copy.push(pass(&mut r, &flows, &order, 0, true));
            hot.push(pass(&mut r, &flows, &hot_order, 0, false));
            hot_copy.push(pass(&mut r, &flows, &hot_order, 0, true));
        }
        // The last outputs are well-formed translations.
        let mut f = flows[7].out.clone();
        assert_eq!(
            r.e.handle_frame(r.now, LAN, &mut f, &mut r.tx),
            Verdict::Forward(WAN)
        );
        let pk = packet::parse(&f[14..]).expect("forwarded checksums");
        assert_eq!(pk.src, WAN_VIP);
        let snap = r.e.snapshot(r.now).dataplane.expect("dataplane");
        let st = snap.conntrack.stats;
        assert_eq!(
            (st.invalid_tcp_window, st.invalid_tcp_state, st.drop_full),
            (0, 0, 0),
            "no invalid or dropped packets"
        );
        let (n, e) = udp_flows();
        udp_new.push(n);
        udp_est.push(e);
    }
    let (c0, c, c1) = median_range(&mut copy);
    println!(
        "engine, in memory: {SESSIONS} live SNAT'd TCP sessions in a 16k table, {rounds} rounds × {passes} passes over all sessions in random order, 118 B frames"
    );
    println!("harness frame copy alone {c:.1} ns/pkt (range {c0:.1}–{c1:.1}), subtracted below");
    // Rows of `make bench`'s table (tests/benches/bench.sh collects the
    // lines starting with "table:"): what | hagw | kernel | ratio | goal.
    let row = |name: &str, v: &mut Vec<f64>, goal: &str| {
        let (lo, m, hi) = median_range(v);
        println!(
            "table: | engine: {name}, ns (median, range) | {:.0} ({:.0}–{:.0}) | | | {goal} |",
            m - c,
            lo - c,
            hi - c
        );
    };
    row(
        "established TCP packet LAN→WAN (SNAT)",
        &mut out,
        "≤ 200 ns",
    );
    row(
        "established TCP packet WAN→LAN (de-NAT)",
        &mut back,
        "≤ 200 ns",
    );
    row("established UDP packet LAN→WAN", &mut udp_est, "≤ 200 ns");
    let (_, hc, _) = median_range(&mut hot_copy);
    let (lo, m, hi) = median_range(&mut hot);
    println!(
        "table: | engine: established TCP packet LAN→WAN, 64 hot flows (cached), ns (median, range) | {:.0} ({:.0}–{:.0}) | | | ≤ 200 ns |",
        m - hc,
        lo - hc,
        hi - hc
    );
    let flows_row = |name: &str, v: &mut Vec<f64>| {
        let (lo, m, hi) = median_range(v);
        println!(
            "table: | engine: new {name}, flows/s (median, range) | {:.0}k ({:.0}k–{:.0}k) | | | |",
            1e6 / m,
            1e6 / hi,
            1e6 / lo
        );
    };
    flows_row("TCP flows, SYN + SYN-ACK + ACK, table 0→10k", &mut tcp_new);
    flows_row("UDP flows, first datagram, table 0→10k", &mut udp_new);
}
