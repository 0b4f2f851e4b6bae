//! DNAT port forwards and hairpin NAT (LAN clients reaching a forward via the VIP).

use super::*;

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
