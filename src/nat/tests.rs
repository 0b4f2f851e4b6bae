use super::*;
use crate::config::{PortRange, must_parse, spec_example};
use std::collections::HashSet;

const IFACES: &str = "config interface 'lan'\n\toption device 'lan0'\n\toption role 'lan'\n\toption address '192.168.10.2/24'\n\nconfig interface 'wan'\n\toption device 'wan0'\n\toption role 'wan'\n\toption address '10.0.0.2/24'\n\nconfig interface 'wan2'\n\toption device 'wan1'\n\toption role 'wan'\n\toption address '10.1.0.2/24'\n";
const LAN: PortId = 0;
const WAN: PortId = 1;
const WAN2: PortId = 2;
const KEY: SipKey = SipKey([1, 2]);

fn cfg(sections: &str) -> Config {
    must_parse(&format!("{IFACES}{sections}"))
}

/// A `nat_source` or `nat_destination` section from `key value` pairs.
fn section(kind: &str, opts: &[(&str, &str)]) -> String {
    let mut s = format!("config {kind}\n");
    for (k, v) in opts {
        s += &format!("\toption {k} '{v}'\n");
    }
    s
}

fn snat_rule(rule: &str, extra: &[(&str, &str)]) -> String {
    let mut opts = vec![("rule", rule), ("outbound_interface", "wan")];
    opts.extend_from_slice(extra);
    section("nat_source", &opts)
}

fn ip(a: [u8; 4]) -> Ipv4Addr {
    a.into()
}

fn flow(proto: u8, src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> Tuple {
    Tuple::new(proto, ip(src), sport, ip(dst), dport)
}

/// A conntrack stand-in: the reply tuples of every mapping handed out
/// (a set, plus a list so expiry picks deterministically).
#[derive(Default)]
struct Table(HashSet<Tuple>, Vec<Tuple>);

impl Table {
    /// SNAT `t` through `nat` on the WAN and record the mapping; panics if
    /// the mapping's reply tuple was already taken.
    fn snat(&mut self, nat: &mut Nat, t: &Tuple) -> Snat {
        let s = nat.snat(WAN, t, |r| self.0.contains(r));
        if let Snat::Mapped { addr, port, .. } = s {
            let reply = snat_reply(t, addr, port);
            assert!(
                self.0.insert(reply),
                "duplicate mapping for {t}: {addr}:{port}"
            );
            self.1.push(reply);
        }
        s
    }
}

/// (rule number, sessions) of every rule, as `show` lists them.
fn sessions(nat: &Nat) -> Vec<(u32, u64)> {
    nat.snapshot()
        .rules
        .iter()
        .map(|r| (r.rule, r.counters.sessions))
        .collect()
}

fn mapped(s: Snat) -> (Ipv4Addr, u16) {
    match s {
        Snat::Mapped { addr, port, .. } => (addr, port),
        other => panic!("not mapped: {other:?}"),
    }
}

const CLIENT: [u8; 4] = [192, 168, 10, 31];
const SERVER: [u8; 4] = [198, 51, 100, 13];

#[test]
fn snat_rules_try_in_rule_number_order() {
    let c = cfg(&[
        snat_rule(
            "20",
            &[
                ("source", "192.168.10.0/24"),
                ("protocol", "udp"),
                ("translation_address", "10.0.0.20"),
            ],
        ),
        snat_rule(
            "10",
            &[
                ("source", "192.168.10.128/25"),
                ("destination", "198.51.100.0/24"),
                ("translation_address", "10.0.0.10"),
            ],
        ),
        snat_rule("30", &[("translation_address", "10.0.0.30")]),
    ]
    .concat());
    let mut nat = Nat::with_key(&c, PortShare::All, KEY);
    let rule_of = |nat: &mut Nat, port, t: Tuple| match nat.snat(port, &t, |_| false) {
        Snat::Mapped { addr, rule, .. } => Some((rule, addr)),
        Snat::NoRule => None,
        Snat::Exhausted { rule } => panic!("exhausted on {rule}"),
    };
    let hi_client = [192, 168, 10, 200];
    assert_eq!(
        rule_of(&mut nat, WAN, flow(17, hi_client, 5000, SERVER, 53)),
        Some((10, ip([10, 0, 0, 10])))
    );
    assert_eq!(
        rule_of(&mut nat, WAN, flow(17, hi_client, 5000, [8, 8, 8, 8], 53)),
        Some((20, ip([10, 0, 0, 20])))
    );
    assert_eq!(
        rule_of(&mut nat, WAN, flow(6, CLIENT, 5000, [8, 8, 8, 8], 53)),
        Some((30, ip([10, 0, 0, 30])))
    );
    assert_eq!(
        rule_of(&mut nat, WAN2, flow(17, hi_client, 5000, SERVER, 53)),
        None
    );
    assert_eq!(
        rule_of(&mut nat, LAN, flow(17, CLIENT, 5000, SERVER, 53)),
        None
    );
    assert_eq!(sessions(&nat), [(10, 1), (20, 1), (30, 1)]);
}

fn one_address(ports: Option<&str>) -> Config {
    let mut opts = vec![("translation_address", "10.0.0.1")];
    if let Some(p) = ports {
        opts.push(("translation_port", p));
    }
    cfg(&snat_rule("10", &opts))
}

#[test]
fn source_port_kept_when_free_else_allocated_in_range() {
    let mut nat = Nat::with_key(&one_address(None), PortShare::All, KEY);
    let mut table = Table::default();
    let a = flow(6, CLIENT, 40000, SERVER, 443);
    assert_eq!(mapped(table.snat(&mut nat, &a)), (ip([10, 0, 0, 1]), 40000));
    // Another client, same source port, same server: 40000 is taken.
    let b = flow(6, [192, 168, 10, 32], 40000, SERVER, 443);
    let (_, pb) = mapped(table.snat(&mut nat, &b));
    assert_ne!(pb, 40000);
    assert!(DEFAULT_PORTS.contains(pb));
    // A different server port makes a different reply tuple: kept.
    let c = flow(6, [192, 168, 10, 33], 40000, SERVER, 80);
    assert_eq!(mapped(table.snat(&mut nat, &c)).1, 40000);
    // UDP is its own space.
    let d = flow(17, [192, 168, 10, 34], 40000, SERVER, 443);
    assert_eq!(mapped(table.snat(&mut nat, &d)).1, 40000);
    // A low port is kept when no range is configured (as on Linux) ...
    let e = flow(17, [192, 168, 10, 35], 123, SERVER, 123);
    assert_eq!(mapped(table.snat(&mut nat, &e)).1, 123);
    // ... and moves into 1024-65535 when taken.
    let f = flow(17, [192, 168, 10, 36], 123, SERVER, 123);
    assert!(mapped(table.snat(&mut nat, &f)).1 >= 1024);
    assert!(nat.snapshot().probes >= 2);

    let mut ranged = Nat::with_key(&one_address(Some("2000-2999")), PortShare::All, KEY);
    let mut table = Table::default();
    let outside = flow(6, CLIENT, 40000, SERVER, 443);
    assert!(PortRange { lo: 2000, hi: 2999 }.contains(mapped(table.snat(&mut ranged, &outside)).1));
    let inside = flow(6, CLIENT, 2500, SERVER, 444);
    assert_eq!(mapped(table.snat(&mut ranged, &inside)).1, 2500);
    let low = flow(17, CLIENT, 123, SERVER, 123);
    assert!(PortRange { lo: 2000, hi: 2999 }.contains(mapped(table.snat(&mut ranged, &low)).1));
}

#[test]
fn a_full_small_range_gives_every_port_once_then_exhausted() {
    let mut nat = Nat::with_key(&one_address(Some("2000-2099")), PortShare::All, KEY);
    let mut table = Table::default();
    let mut ports = HashSet::new();
    for i in 0..100u16 {
        let t = flow(6, [192, 168, 10, 1 + i as u8], 40000, SERVER, 443);
        assert!(ports.insert(mapped(table.snat(&mut nat, &t)).1));
    }
    assert_eq!(ports, (2000..=2099).collect());
    let late = flow(6, [192, 168, 10, 250], 2050, SERVER, 443);
    assert_eq!(table.snat(&mut nat, &late), Snat::Exhausted { rule: 10 });
    // Another destination port is a fresh reply-tuple space.
    let other = flow(6, [192, 168, 10, 250], 2050, SERVER, 8443);
    assert_eq!(mapped(table.snat(&mut nat, &other)).1, 2050);
    let snap = nat.snapshot();
    assert_eq!(snap.exhausted, 1);
    assert_eq!(
        snap.rules[0].counters,
        RuleCounters {
            sessions: 101,
            hairpin_sessions: 0,
            exhausted: 1
        }
    );
}

#[test]
fn a_large_search_is_bounded() {
    let mut nat = Nat::with_key(&one_address(None), PortShare::All, KEY);
    let mut calls = 0u32;
    let t = flow(6, CLIENT, 40000, SERVER, 443);
    let s = nat.snat(WAN, &t, |_| {
        calls += 1;
        true
    });
    assert_eq!(s, Snat::Exhausted { rule: 10 });
    // One check of the original port, then the bounded search.
    assert_eq!(calls, 1 + MAX_PROBES);
    assert_eq!(nat.snapshot().probes, u64::from(MAX_PROBES));
    // A free port late in the search is still found: the one that was free.
    let mut n = 0u32;
    let mut free = None;
    let s = nat.snat(WAN, &t, |r| {
        n += 1;
        if n == 200 {
            free = Some(r.dport);
        }
        n != 200
    });
    assert_eq!(Some(mapped(s).1), free);
}

#[test]
fn an_address_range_maps_each_client_to_one_address() {
    let c = cfg(&snat_rule(
        "10",
        &[("translation_address", "10.0.0.10-10.0.0.13")],
    ));
    let range = AddrRange {
        lo: ip([10, 0, 0, 10]),
        hi: ip([10, 0, 0, 13]),
    };
    let mut first = Nat::with_key(&c, PortShare::All, KEY);
    // Another router (other secret key, other share) picks the same address.
    let mut second = Nat::with_key(&c, PortShare::Half { upper: true }, SipKey([9, 9]));
    let mut t1 = Table::default();
    let mut t2 = Table::default();
    let mut used = HashSet::new();
    for host in 1..=64u8 {
        let client = [192, 168, 10, host];
        let mut addrs = HashSet::new();
        for (i, server) in [[8, 8, 8, 8], SERVER, [1, 1, 1, 1]].into_iter().enumerate() {
            for sport in [1000, 40000, 40001] {
                let t = flow(6 + 11 * (i as u8 % 2), client, sport, server, 53);
                addrs.insert(mapped(t1.snat(&mut first, &t)).0);
                addrs.insert(mapped(t2.snat(&mut second, &t)).0);
            }
        }
        assert_eq!(addrs.len(), 1, "client {host:?} got {addrs:?}");
        let a = *addrs.iter().next().unwrap();
        assert!(range.contains(a));
        used.insert(a);
    }
    assert_eq!(
        used.len(),
        4,
        "64 clients should spread over all 4 addresses"
    );
}

#[test]
fn port_share_halves() {
    let r = |lo, hi| PortRange { lo, hi };
    let lower = PortShare::Half { upper: false };
    let upper = PortShare::Half { upper: true };
    assert_eq!(PortShare::All.part(DEFAULT_PORTS), Some(DEFAULT_PORTS));
    assert_eq!(lower.part(DEFAULT_PORTS), Some(r(1024, 33279)));
    assert_eq!(upper.part(DEFAULT_PORTS), Some(r(33280, 65535)));
    assert_eq!(lower.part(ICMP_IDS), Some(r(1, 32768)));
    assert_eq!(upper.part(ICMP_IDS), Some(r(32769, 65535)));
    assert_eq!(lower.part(r(5, 6)), Some(r(5, 5)));
    assert_eq!(upper.part(r(5, 6)), Some(r(6, 6)));
    assert_eq!(lower.part(r(7, 7)), Some(r(7, 7)));
    assert_eq!(upper.part(r(7, 7)), None);
    assert_eq!(upper.part(r(65535, 65535)), None);
    assert_eq!(PortShare::All.part(r(9, 8)), None);
    // The halves partition every range.
    for (lo, hi) in [(1u16, 1u16), (1, 2), (1000, 1999), (3, 65535), (0, 65535)] {
        let total: u32 = [lower, upper]
            .iter()
            .filter_map(|s| s.part(r(lo, hi)))
            .map(|p| u32::from(p.hi) - u32::from(p.lo) + 1)
            .sum();
        assert_eq!(total, u32::from(hi) - u32::from(lo) + 1);
    }
}

#[test]
fn port_share_follows_sync_and_node_id_parity() {
    let mut c = spec_example();
    assert_eq!(c.globals.node_id, 1);
    assert_eq!(PortShare::for_config(&c), PortShare::Half { upper: false });
    c.globals.node_id = 2;
    assert_eq!(PortShare::for_config(&c), PortShare::Half { upper: true });
    c.conntrack_sync = None;
    assert_eq!(PortShare::for_config(&c), PortShare::All);
}

#[test]
fn two_nodes_with_half_shares_never_make_the_same_mapping() {
    // The same busy flows through both nodes, each with its own table (as
    // in active/active before sync catches up).
    let c = one_address(None);
    let mut node1 = Nat::with_key(&c, PortShare::Half { upper: false }, KEY);
    let mut node2 = Nat::with_key(&c, PortShare::Half { upper: true }, SipKey([3, 4]));
    let (mut t1, mut t2) = (Table::default(), Table::default());
    let mut union = HashSet::new();
    for host in 1..=100u8 {
        for sport in [1024, 33279, 33280, 50000, 65535, 80] {
            for proto in [6, 17, 1] {
                let t = flow(proto, [192, 168, 10, host], sport, SERVER, sport);
                let (a1, p1) = mapped(t1.snat(&mut node1, &t));
                let (a2, p2) = mapped(t2.snat(&mut node2, &t));
                let ids = if proto == 1 { ICMP_IDS } else { DEFAULT_PORTS };
                let (l, h) = (
                    PortShare::Half { upper: false }.part(ids).unwrap(),
                    PortShare::Half { upper: true }.part(ids).unwrap(),
                );
                assert!(l.contains(p1) && h.contains(p2), "{t}: {p1} {p2}");
                assert!(union.insert(snat_reply(&t, a1, p1)));
                assert!(union.insert(snat_reply(&t, a2, p2)));
            }
        }
    }
    // The first client's ports stay where they already lie in the node's half.
    let t = flow(6, [192, 168, 10, 1], 1024, SERVER, 1024);
    assert!(t1.0.contains(&snat_reply(&t, ip([10, 0, 0, 1]), 1024)));
    assert!(!t2.0.contains(&snat_reply(&t, ip([10, 0, 0, 1]), 1024)));
    let t = flow(6, [192, 168, 10, 1], 50000, SERVER, 50000);
    assert!(t2.0.contains(&snat_reply(&t, ip([10, 0, 0, 1]), 50000)));
}

#[test]
fn icmp_echo_identifiers_are_translated_like_ports() {
    // A configured TCP/UDP range does not constrain echo identifiers.
    let mut nat = Nat::with_key(&one_address(Some("2000-2099")), PortShare::All, KEY);
    let mut table = Table::default();
    let ping = flow(1, CLIENT, 7, SERVER, 7);
    assert_eq!(mapped(table.snat(&mut nat, &ping)).1, 7);
    let other = flow(1, [192, 168, 10, 32], 7, SERVER, 7);
    let (addr, id) = mapped(table.snat(&mut nat, &other));
    assert!(id != 7 && ICMP_IDS.contains(id));
    // The identifier is both "ports" of the translated tuple and its reply.
    assert_eq!(
        snat_tuple(&other, addr, id),
        Tuple::new(1, addr, id, ip(SERVER), id)
    );
    assert!(table.0.contains(&Tuple::new(1, ip(SERVER), id, addr, id)));
    // Identifier 0 is kept when free.
    let zero = flow(1, CLIENT, 0, SERVER, 0);
    assert_eq!(mapped(table.snat(&mut nat, &zero)).1, 0);
}

#[test]
fn protocols_without_ports_translate_the_address_only() {
    let c = cfg(&snat_rule(
        "10",
        &[("translation_address", "10.0.0.10-10.0.0.11")],
    ));
    let mut nat = Nat::with_key(&c, PortShare::All, KEY);
    let mut table = Table::default();
    let gre = |host| flow(47, [192, 168, 10, host], 0, SERVER, 0);
    let (a, p) = mapped(table.snat(&mut nat, &gre(1)));
    assert_eq!(p, 0);
    // Every other client now needs the other address or nothing.
    let mut got = HashSet::from([a]);
    let mut exhausted = 0;
    for host in 2..10 {
        match table.snat(&mut nat, &gre(host)) {
            Snat::Mapped { addr, port, .. } => {
                assert_eq!(port, 0);
                assert!(got.insert(addr));
            }
            Snat::Exhausted { .. } => exhausted += 1,
            Snat::NoRule => panic!(),
        }
    }
    assert_eq!((got.len(), exhausted), (2, 7));
    // Another destination is free again.
    let elsewhere = flow(47, [192, 168, 10, 9], 0, [8, 8, 8, 8], 0);
    assert!(matches!(
        table.snat(&mut nat, &elsewhere),
        Snat::Mapped { .. }
    ));
}

/// A deterministic stream for the randomized tests: SipHash in counter mode.
struct Rng(SipKey, u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.1 += 1;
        self.0.hash(&self.1.to_le_bytes())
    }
    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[(self.next() % from.len() as u64) as usize]
    }
}

/// Random flows through `nodes` (each with its own table), with some
/// sessions expiring: no reply tuple is ever handed out twice, across all
/// nodes (the portless protocol only within one node), and every port is in
/// its node's share of its range.
fn churn(nodes: &mut [(Nat, Table)], seed: u64, flows: usize) -> (u64, u64) {
    let mut rng = Rng(SipKey([seed, 0]), 0);
    let mut live: HashSet<Tuple> = HashSet::new();
    let (mut mapped_n, mut exhausted_n) = (0u64, 0u64);
    let range = PortRange { lo: 3000, hi: 3099 };
    for _ in 0..flows {
        let n = (rng.next() % nodes.len() as u64) as usize;
        let (nat, table) = &mut nodes[n];
        let t = flow(
            rng.pick(&[6, 17, 1, 47]),
            [192, 168, 10, 1 + (rng.next() % 40) as u8],
            rng.pick(&[3000, 3001, 3050, 3099, 40000, 50000, 80]),
            rng.pick(&[SERVER, [8, 8, 8, 8]]),
            rng.pick(&[53, 443]),
        );
        let t = if t.proto == 47 {
            Tuple {
                sport: 0,
                dport: 0,
                ..t
            }
        } else if t.proto == 1 {
            Tuple {
                dport: t.sport,
                ..t
            }
        } else {
            t
        };
        match table.snat(nat, &t) {
            Snat::Mapped { addr, port, .. } => {
                mapped_n += 1;
                let reply = snat_reply(&t, addr, port);
                let whole = match t.proto {
                    47 => None,
                    1 => Some(ICMP_IDS),
                    _ => Some(range),
                };
                if let Some(whole) = whole {
                    assert!(nat.alloc.share.part(whole).unwrap().contains(port));
                    assert!(live.insert(reply), "{reply} live on two nodes");
                }
            }
            Snat::Exhausted { .. } => exhausted_n += 1,
            Snat::NoRule => panic!("no rule"),
        }
        // Expire a random live session now and then.
        if rng.next() % 2 == 0 {
            let (_, table) = &mut nodes[n];
            if !table.1.is_empty() {
                let old = table
                    .1
                    .swap_remove((rng.next() % table.1.len() as u64) as usize);
                table.0.remove(&old);
                live.remove(&old);
            }
        }
    }
    (mapped_n, exhausted_n)
}

#[test]
fn randomized_flows_never_share_a_reply_tuple() {
    let c = cfg(&snat_rule(
        "10",
        &[
            ("translation_address", "10.0.0.10-10.0.0.11"),
            ("translation_port", "3000-3099"),
        ],
    ));
    for seed in [1u64, 0xdead_beef, 0x1234_5678_9abc_def1] {
        let mut one = [(
            Nat::with_key(&c, PortShare::All, SipKey([seed, 7])),
            Table::default(),
        )];
        let (m, e) = churn(&mut one, seed, 20_000);
        assert!(m > 5_000 && e > 0, "seed {seed}: {m} mapped, {e} exhausted");
        let snap = one[0].0.snapshot();
        assert_eq!(snap.rules[0].counters.sessions, m);
        assert_eq!(snap.rules[0].counters.exhausted, e);
        assert_eq!(snap.exhausted, e);

        let mut two = [
            (
                Nat::with_key(&c, PortShare::Half { upper: false }, SipKey([seed, 1])),
                Table::default(),
            ),
            (
                Nat::with_key(&c, PortShare::Half { upper: true }, SipKey([seed, 2])),
                Table::default(),
            ),
        ];
        let (m, e) = churn(&mut two, seed ^ 0x55, 20_000);
        assert!(m > 5_000 && e > 0, "seed {seed}: {m} mapped, {e} exhausted");
    }
}

fn forwards() -> Config {
    cfg(&[
        section(
            "nat_destination",
            &[
                ("rule", "20"),
                ("description", "ssh to the server"),
                ("inbound_interface", "wan"),
                ("protocol", "tcp"),
                ("destination_port", "2222"),
                ("translation_address", "192.168.10.100"),
                ("translation_port", "22"),
            ],
        ),
        section(
            "nat_destination",
            &[
                ("rule", "10"),
                ("inbound_interface", "wan"),
                ("protocol", "udp"),
                ("destination_address", "10.0.0.99"),
                ("destination_port", "6000-6099"),
                ("translation_address", "192.168.10.101"),
            ],
        ),
        section(
            "nat_destination",
            &[
                ("rule", "30"),
                ("inbound_interface", "wan"),
                ("protocol", "tcp"),
                ("destination_port", "2000-3000"),
                ("translation_address", "192.168.10.102"),
            ],
        ),
    ]
    .concat())
}

/// WAN's addresses: its own 10.0.0.2 and the VIP 10.0.0.1; LAN's own and
/// VIP 192.168.10.1; wan2's own.
fn is_addr_of(port: PortId, a: Ipv4Addr) -> bool {
    match port {
        WAN => a == ip([10, 0, 0, 2]) || a == ip([10, 0, 0, 1]),
        LAN => a == ip([192, 168, 10, 2]) || a == ip([192, 168, 10, 1]),
        WAN2 => a == ip([10, 1, 0, 2]),
        _ => false,
    }
}

const OUTSIDE: [u8; 4] = [203, 0, 113, 9];

#[test]
fn dnat_forwards_by_port_and_address() {
    let mut nat = Nat::with_key(&forwards(), PortShare::All, KEY);
    let fwd = |rule, to: [u8; 4], port| Some((rule, ip(to), port, false));
    let cases = [
        // No destination_address: the VIP and the own address both forward.
        (
            WAN,
            6,
            [10, 0, 0, 1],
            2222,
            fwd(20, [192, 168, 10, 100], 22),
        ),
        (
            WAN,
            6,
            [10, 0, 0, 2],
            2222,
            fwd(20, [192, 168, 10, 100], 22),
        ),
        // Not an address of the WAN, wrong port, wrong protocol, wrong port
        // of arrival: nothing.
        (WAN, 6, [10, 0, 0, 3], 2222, None),
        (WAN, 6, [10, 0, 0, 1], 3001, None),
        (WAN, 17, [10, 0, 0, 1], 2222, None),
        (WAN2, 6, [10, 0, 0, 1], 2222, None),
        (WAN2, 6, [10, 1, 0, 2], 2222, None),
        // A range keeps the port when no translation_port is set.
        (
            WAN,
            17,
            [10, 0, 0, 99],
            6042,
            fwd(10, [192, 168, 10, 101], 6042),
        ),
        (WAN, 17, [10, 0, 0, 99], 6100, None),
        // destination_address set: only that address (the WAN owns others).
        (WAN, 17, [10, 0, 0, 1], 6042, None),
        // 2500 is in rule 30's range only (2222, in both, went to rule 20).
        (
            WAN,
            6,
            [10, 0, 0, 1],
            2500,
            fwd(30, [192, 168, 10, 102], 2500),
        ),
    ];
    for (port, proto, to, dport, want) in cases {
        let t = flow(proto, OUTSIDE, 40000, to, dport);
        let got = nat
            .dnat(port, &t, is_addr_of)
            .map(|d| (d.rule, d.addr, d.port, d.hairpin));
        assert_eq!(got, want, "{t} on port {port}");
    }
    assert_eq!(sessions(&nat), [(10, 1), (20, 2), (30, 1)]);
}

#[test]
fn hairpin_from_the_lan_reflects_and_snats_to_the_lan_vip() {
    let mut nat = Nat::with_key(&forwards(), PortShare::All, KEY);
    let client = flow(6, CLIENT, 40000, [10, 0, 0, 1], 2222);
    let d = nat.dnat(LAN, &client, is_addr_of).unwrap();
    assert_eq!(
        d,
        Dnat {
            addr: ip([192, 168, 10, 100]),
            port: 22,
            rule: 20,
            hairpin: true
        }
    );
    // A LAN packet to a LAN address on that port is no forward.
    assert_eq!(
        nat.dnat(
            LAN,
            &flow(6, CLIENT, 40000, [192, 168, 10, 1], 2222),
            is_addr_of
        ),
        None
    );
    // Only LAN ports reflect: wan2 is not one.
    assert_eq!(nat.dnat(WAN2, &client, is_addr_of), None);

    let lan = Ipv4Cidr {
        addr: ip([192, 168, 10, 2]),
        prefix_len: 24,
    };
    let src = hairpin_source(lan, &[ip([10, 0, 0, 1]), ip([192, 168, 10, 1])]);
    assert_eq!(src, ip([192, 168, 10, 1]));
    assert_eq!(hairpin_source(lan, &[]), ip([192, 168, 10, 2]));
    assert_eq!(
        hairpin_source(lan, &[ip([10, 0, 0, 1])]),
        ip([192, 168, 10, 2])
    );

    let inside = Tuple {
        dst: d.addr,
        dport: d.port,
        ..client
    };
    let mut table = Table::default();
    let s = nat.hairpin_snat(&d, &inside, src, |r| table.0.contains(r));
    let (addr, port) = mapped(s);
    assert_eq!((addr, port), (src, 40000));
    table.0.insert(snat_reply(&inside, addr, port));
    // The server answers to the router: (server:22 -> VIP:40000).
    assert!(
        table
            .0
            .contains(&flow(6, [192, 168, 10, 100], 22, [192, 168, 10, 1], 40000))
    );
    let c = nat.snapshot().rules[1].counters;
    assert_eq!((c.sessions, c.hairpin_sessions, c.exhausted), (1, 1, 0));
    // Exhaustion of the hairpin SNAT is counted on the DNAT rule.
    assert_eq!(
        nat.hairpin_snat(&d, &inside, src, |_| true),
        Snat::Exhausted { rule: 20 }
    );
    assert_eq!(nat.snapshot().rules[1].counters.exhausted, 1);
    assert_eq!(nat.snapshot().exhausted, 1);
}

#[test]
fn hairpin_snat_uses_the_node_share() {
    let mut nat = Nat::with_key(&forwards(), PortShare::Half { upper: true }, KEY);
    let client = flow(6, CLIENT, 1500, [10, 0, 0, 1], 2222);
    let d = nat.dnat(LAN, &client, is_addr_of).unwrap();
    let inside = Tuple {
        dst: d.addr,
        dport: d.port,
        ..client
    };
    let (_, port) = mapped(nat.hairpin_snat(&d, &inside, ip([192, 168, 10, 1]), |_| false));
    assert!(port >= 33280, "{port}");
}

#[test]
fn snapshot_of_the_spec_example() {
    let c = spec_example();
    let nat = Nat::new(&c, PortShare::for_config(&c));
    let snap = nat.snapshot();
    assert_eq!(snap.share, PortShare::Half { upper: false });
    let rows: Vec<String> = snap
        .rules
        .iter()
        .map(|r| {
            format!(
                "{:?} {} {} | {} | {} | {:?}",
                r.kind, r.rule, r.interface, r.matches, r.translation, r.description
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            "Source 10 wan | src 192.168.10.0/24 | 10.0.0.1 ports 1024-65535 | Some(\"LAN to Internet\")",
            "Destination 20 wan | tcp dport 2222 | 192.168.10.100 port 22 | None",
        ]
    );
    let texts = Nat::with_key(
        &cfg(&[
            snat_rule(
                "1",
                &[("protocol", "icmp"), ("translation_address", "10.0.0.1")],
            ),
            snat_rule(
                "2",
                &[
                    ("protocol", "47"),
                    ("destination", "8.8.8.8"),
                    ("translation_address", "10.0.0.1-10.0.0.4"),
                ],
            ),
            snat_rule(
                "3",
                &[
                    ("protocol", "udp"),
                    ("translation_address", "10.0.0.1"),
                    ("translation_port", "5000-5999"),
                ],
            ),
            section(
                "nat_destination",
                &[
                    ("rule", "4"),
                    ("inbound_interface", "wan"),
                    ("destination_address", "10.0.0.1"),
                    ("translation_address", "192.168.10.9"),
                ],
            ),
        ]
        .concat()),
        PortShare::All,
        KEY,
    )
    .snapshot()
    .rules
    .iter()
    .map(|r| format!("{} | {}", r.matches, r.translation))
    .collect::<Vec<_>>();
    assert_eq!(
        texts,
        [
            "icmp | 10.0.0.1 ids 1-65535",
            "proto 47 dst 8.8.8.8 | 10.0.0.1-10.0.0.4",
            "udp | 10.0.0.1 ports 5000-5999",
            "dst 10.0.0.1 | 192.168.10.9",
        ]
    );
}

#[test]
fn reload_keeps_counters_of_unchanged_rules_and_the_key() {
    let c = cfg(&[
        snat_rule(
            "10",
            &[
                ("source", "192.168.10.0/24"),
                ("translation_address", "10.0.0.1"),
            ],
        ),
        snat_rule("20", &[("translation_address", "10.0.0.1")]),
    ]
    .concat());
    let mut nat = Nat::with_key(&c, PortShare::All, KEY);
    let t = flow(6, CLIENT, 40000, SERVER, 443);
    let taken = |r: &Tuple| r.dport == 40000;
    let before = mapped(nat.snat(WAN, &t, taken));
    nat.snat(WAN, &flow(6, [172, 16, 0, 1], 1, SERVER, 443), |_| false);

    let mut next = c.clone();
    next.nat_source[0].description = Some("renamed".to_string());
    next.nat_source[1].translation_port = Some(PortRange { lo: 2000, hi: 2999 });
    nat.reload(&next, PortShare::All);
    assert_eq!(sessions(&nat), [(10, 1), (20, 0)]);
    assert_eq!(
        nat.snapshot().rules[0].description.as_deref(),
        Some("renamed")
    );
    // The search key survives: the same collision finds the same port.
    assert_eq!(mapped(nat.snat(WAN, &t, taken)), before);
    // A new share applies at once.
    nat.reload(&next, PortShare::Half { upper: true });
    assert!(mapped(nat.snat(WAN, &t, taken)).1 >= 33280);
}

/// Prints the cost of SNAT as one address's port space to one server fills
/// up: `cargo test --release --lib -- --ignored --nocapture bench_`.
#[test]
#[ignore]
fn bench_snat_fill() {
    let mut nat = Nat::with_key(&one_address(None), PortShare::All, KEY);
    let mut table: HashSet<Tuple> = HashSet::with_capacity(70_000);
    let total = u32::from(DEFAULT_PORTS.hi - DEFAULT_PORTS.lo) + 1;
    let mut done = 0u32;
    // Every client uses source port 40000: all but the first need a search.
    for pct in [50u32, 90, 99, 100] {
        let (probes0, start) = (nat.snapshot().probes, std::time::Instant::now());
        let (mut flows, mut exhausted) = (0u32, 0u32);
        while done < total * pct / 100 && exhausted < 1000 {
            let client = 0x0a80_0000u32 + done + exhausted;
            let t = Tuple::new(6, client.into(), 40000, ip(SERVER), 443);
            match nat.snat(WAN, &t, |r| table.contains(r)) {
                Snat::Mapped { addr, port, .. } => {
                    table.insert(snat_reply(&t, addr, port));
                    done += 1;
                }
                _ => exhausted += 1,
            }
            flows += 1;
        }
        let ns = start.elapsed().as_nanos() as f64 / f64::from(flows.max(1));
        let probes = (nat.snapshot().probes - probes0) as f64 / f64::from(flows.max(1));
        println!(
            "snat up to {pct}% full: {flows} flows, {ns:.0} ns and {probes:.1} probes per flow, {exhausted} exhausted"
        );
    }
}
