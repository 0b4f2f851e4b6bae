//! Port shares between two nodes: halves, sync/node-id parity, and randomized
//! churn proving two nodes never produce the same reply tuple.

use super::*;

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
