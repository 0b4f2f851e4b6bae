//! NAT as the outside sees it: the snapshot of the spec example, counters
//! across a reload, and the ignored SNAT-fill benchmark.

use super::*;

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
