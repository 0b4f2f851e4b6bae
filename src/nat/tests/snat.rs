//! SNAT allocation: rule order, kept or allocated source ports, exhausted and
//! bounded searches, address ranges, ICMP identifiers and port-less protocols.

use super::*;

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
