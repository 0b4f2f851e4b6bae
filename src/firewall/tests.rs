use super::*;
use crate::config::{Protocol, must_parse, spec_example};

const IFACES: &str = "config interface 'lan'\n\toption device 'lan0'\n\toption role 'lan'\n\toption address '192.168.1.2/24'\n\nconfig interface 'wan'\n\toption device 'wan0'\n\toption role 'wan'\n\toption address '10.0.0.2/24'\n";
const LAN: PortId = 0;
const WAN: PortId = 1;

/// The interfaces plus `sections`.
fn cfg(sections: &str) -> Config {
    must_parse(&format!("{IFACES}{sections}"))
}

fn attach(iface: &str, dir: &str, ruleset: &str) -> String {
    format!(
        "config firewall_attach\n\toption interface '{iface}'\n\toption direction '{dir}'\n\toption ruleset '{ruleset}'\n"
    )
}

fn ruleset(name: &str, default: &str) -> String {
    format!("config firewall_ruleset '{name}'\n\toption default_action '{default}'\n")
}

/// A rule in `ruleset` with `opts` as `key value` pairs.
fn rule(ruleset: &str, opts: &[(&str, &str)], action: &str) -> String {
    let mut s = format!("config firewall_rule\n\toption ruleset '{ruleset}'\n");
    for (k, v) in opts {
        s += &format!("\toption {k} '{v}'\n");
    }
    s + &format!("\toption action '{action}'\n")
}

fn pkt(proto: u8, src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, state: CtState) -> Match {
    Match {
        proto,
        src: src.into(),
        dst: dst.into(),
        sport,
        dport,
        state,
    }
}

fn tcp(sport: u16, dport: u16, state: CtState) -> Match {
    pkt(6, [198, 51, 100, 7], sport, [192, 168, 1, 10], dport, state)
}

/// wan in: established/related accepted, ssh from one net rejected before a
/// broader ssh accept, icmp accepted, default drop.
fn wan_in() -> Config {
    cfg(&[
        ruleset("wan_in", "drop"),
        rule("wan_in", &[("state", "established,related")], "accept"),
        rule(
            "wan_in",
            &[
                ("description", "no ssh from the bad net"),
                ("protocol", "tcp"),
                ("source", "198.51.100.0/24"),
                ("destination_port", "22"),
            ],
            "reject",
        ),
        rule(
            "wan_in",
            &[
                ("protocol", "tcp"),
                ("destination_port", "22"),
                ("state", "new"),
            ],
            "accept",
        ),
        rule("wan_in", &[("protocol", "icmp")], "accept"),
        attach("wan", "in", "wan_in"),
    ]
    .concat())
}

#[test]
fn first_match_wins_else_default() {
    let mut fw = Firewall::new(&wan_in());
    // Rule 1 before rule 2: an established ssh packet from the bad net passes.
    assert_eq!(
        fw.check(
            WAN,
            Direction::In,
            &tcp(40000, 22, CtState::Established),
            60
        ),
        Action::Accept
    );
    // Rule 2 before rule 3.
    assert_eq!(
        fw.check(WAN, Direction::In, &tcp(40000, 22, CtState::New), 60),
        Action::Reject
    );
    let other = pkt(
        6,
        [203, 0, 113, 1],
        40000,
        [192, 168, 1, 10],
        22,
        CtState::New,
    );
    assert_eq!(fw.check(WAN, Direction::In, &other, 60), Action::Accept);
    // No rule for tcp/80 new: the default.
    assert_eq!(
        fw.check(WAN, Direction::In, &tcp(40000, 80, CtState::New), 60),
        Action::Drop
    );
    let ping = pkt(1, [203, 0, 113, 1], 0, [10, 0, 0, 2], 0, CtState::New);
    assert_eq!(fw.check(WAN, Direction::In, &ping, 84), Action::Accept);
    let snap = fw.snapshot();
    let counts: Vec<u64> = snap.rulesets[0]
        .rules
        .iter()
        .map(|r| r.counters.packets)
        .collect();
    assert_eq!(counts, [1, 1, 1, 1]);
    assert_eq!(snap.rulesets[0].default.packets, 1);
}

#[test]
fn no_ruleset_attached_accepts_and_counts_nothing() {
    let mut fw = Firewall::new(&wan_in());
    let m = tcp(40000, 80, CtState::Invalid);
    for (port, dir) in [
        (LAN, Direction::In),
        (WAN, Direction::Out),
        (WAN, Direction::Local),
        (7, Direction::In),
    ] {
        assert!(!fw.is_attached(port, dir));
        assert_eq!(fw.check(port, dir, &m, 60), Action::Accept);
    }
    assert!(fw.is_attached(WAN, Direction::In));
    let snap = fw.snapshot();
    assert_eq!(snap.rulesets[0].default, Counters::default());
    assert!(
        snap.rulesets[0]
            .rules
            .iter()
            .all(|r| r.counters.packets == 0)
    );
}

#[test]
fn each_port_and_direction_uses_its_own_ruleset() {
    let c = cfg(&[
        ruleset("lan_local", "accept"),
        rule(
            "lan_local",
            &[("protocol", "tcp"), ("destination_port", "23")],
            "drop",
        ),
        ruleset("wan_out", "reject"),
        rule("wan_out", &[("destination", "10.9.0.0/16")], "accept"),
        attach("lan", "local", "lan_local"),
        attach("wan", "out", "wan_out"),
        attach("wan", "local", "lan_local"),
    ]
    .concat());
    let mut fw = Firewall::new(&c);
    let telnet = tcp(5000, 23, CtState::New);
    assert_eq!(fw.check(LAN, Direction::Local, &telnet, 1), Action::Drop);
    assert_eq!(fw.check(WAN, Direction::Local, &telnet, 1), Action::Drop);
    assert_eq!(fw.check(LAN, Direction::In, &telnet, 1), Action::Accept);
    assert_eq!(fw.check(WAN, Direction::Out, &telnet, 1), Action::Reject);
    let to_net = pkt(17, [192, 168, 1, 5], 53, [10, 9, 3, 4], 53, CtState::New);
    assert_eq!(fw.check(WAN, Direction::Out, &to_net, 1), Action::Accept);
    let snap = fw.snapshot();
    assert_eq!(
        snap.rulesets[0].attached,
        [
            ("lan".to_string(), Direction::Local),
            ("wan".to_string(), Direction::Local)
        ]
    );
    // The shared ruleset counts both ports on one rule.
    assert_eq!(snap.rulesets[0].rules[0].counters.packets, 2);
}

#[test]
fn state_sets_match_only_their_states() {
    let c = cfg(&[
        ruleset("r", "drop"),
        rule("r", &[("state", "related,invalid")], "reject"),
        rule("r", &[("state", "new")], "accept"),
        attach("wan", "in", "r"),
    ]
    .concat());
    let mut fw = Firewall::new(&c);
    let got: Vec<Action> = [
        CtState::New,
        CtState::Established,
        CtState::Related,
        CtState::Invalid,
    ]
    .into_iter()
    .map(|s| fw.check(WAN, Direction::In, &tcp(1, 2, s), 1))
    .collect();
    assert_eq!(
        got,
        [Action::Accept, Action::Drop, Action::Reject, Action::Reject]
    );
}

#[test]
fn prefixes_and_port_ranges_bound_inclusively() {
    let c = cfg(&[
        ruleset("r", "drop"),
        rule(
            "r",
            &[
                ("protocol", "udp"),
                ("source", "192.168.1.64/26"),
                ("destination", "10.0.0.9"),
                ("source_port", "1000-2000"),
                ("destination_port", "53"),
            ],
            "accept",
        ),
        attach("lan", "in", "r"),
    ]
    .concat());
    let mut fw = Firewall::new(&c);
    let ok = [10, 0, 0, 9];
    // (source, source port, destination, destination port) -> action
    let cases = [
        ([192, 168, 1, 64], 1000, ok, 53, Action::Accept),
        ([192, 168, 1, 127], 2000, ok, 53, Action::Accept),
        ([192, 168, 1, 63], 1000, ok, 53, Action::Drop),
        ([192, 168, 1, 128], 1000, ok, 53, Action::Drop),
        ([192, 168, 1, 70], 999, ok, 53, Action::Drop),
        ([192, 168, 1, 70], 2001, ok, 53, Action::Drop),
        ([192, 168, 1, 70], 1500, ok, 54, Action::Drop),
        ([192, 168, 1, 70], 1500, [10, 0, 0, 8], 53, Action::Drop),
    ];
    for (src, sport, dst, dport, want) in cases {
        let m = pkt(17, src, sport, dst, dport, CtState::New);
        assert_eq!(fw.check(LAN, Direction::In, &m, 1), want, "{m:?}");
    }
    // Same addresses and ports but TCP: the protocol condition fails.
    let tcp_pkt = pkt(6, [192, 168, 1, 70], 1500, ok, 53, CtState::New);
    assert_eq!(fw.check(LAN, Direction::In, &tcp_pkt, 1), Action::Drop);
}

#[test]
fn ports_with_a_portless_protocol_never_match() {
    // The validator refuses these rules; a config built another way (or a
    // future validator) must still not turn them into "match all ICMP".
    let mut c = cfg(&[
        ruleset("r", "drop"),
        rule("r", &[("protocol", "icmp")], "accept"),
        rule(
            "r",
            &[("protocol", "tcp"), ("destination_port", "7")],
            "accept",
        ),
        attach("wan", "in", "r"),
    ]
    .concat());
    c.firewall_rules[0].destination_port = c.firewall_rules[1].destination_port;
    c.firewall_rules[1].protocol = None;
    let mut fw = Firewall::new(&c);
    // ICMP echo with identifier 7: Match::from_tuple zeroes it, and a port
    // rule needs TCP/UDP anyway.
    let echo = Tuple::new(1, [198, 51, 100, 7].into(), 7, [10, 0, 0, 2].into(), 7);
    let m = Match::from_tuple(&echo, CtState::New);
    assert_eq!((m.sport, m.dport), (0, 0));
    let raw_echo = Match { dport: 7, ..m };
    assert_eq!(fw.check(WAN, Direction::In, &m, 1), Action::Drop);
    assert_eq!(fw.check(WAN, Direction::In, &raw_echo, 1), Action::Drop);
    // Rule 2 (ports, no protocol) matches TCP and UDP only.
    let gre = pkt(47, [198, 51, 100, 7], 0, [10, 0, 0, 2], 7, CtState::New);
    assert_eq!(fw.check(WAN, Direction::In, &gre, 1), Action::Drop);
    let udp = pkt(17, [198, 51, 100, 7], 9, [10, 0, 0, 2], 7, CtState::New);
    assert_eq!(fw.check(WAN, Direction::In, &udp, 1), Action::Accept);
    let snap = fw.snapshot();
    assert_eq!(snap.rulesets[0].rules[0].counters.packets, 0);
    assert_eq!(snap.rulesets[0].default.packets, 3);
}

#[test]
fn counters_add_packets_and_bytes_per_rule_and_default() {
    let mut fw = Firewall::new(&wan_in());
    for len in [60, 1500, 40] {
        fw.check(WAN, Direction::In, &tcp(1, 22, CtState::Established), len);
    }
    fw.check(WAN, Direction::In, &tcp(1, 80, CtState::New), 100);
    fw.check(WAN, Direction::In, &tcp(1, 81, CtState::New), 200);
    let snap = fw.snapshot();
    let rs = &snap.rulesets[0];
    assert_eq!(
        rs.rules[0].counters,
        Counters {
            packets: 3,
            bytes: 1600
        }
    );
    assert_eq!(
        rs.default,
        Counters {
            packets: 2,
            bytes: 300
        }
    );
}

#[test]
fn snapshot_names_rules_and_summarises_matches() {
    let fw = Firewall::new(&wan_in());
    let snap = fw.snapshot();
    let rs = &snap.rulesets[0];
    assert_eq!(rs.name, "wan_in");
    assert_eq!(rs.attached, [("wan".to_string(), Direction::In)]);
    assert_eq!(rs.default_action, Action::Drop);
    let lines: Vec<(usize, &str, Action)> = rs
        .rules
        .iter()
        .map(|r| (r.number, r.matches.as_str(), r.action))
        .collect();
    assert_eq!(
        lines,
        [
            (1, "state established,related", Action::Accept),
            (2, "tcp src 198.51.100.0/24 dport 22", Action::Reject),
            (3, "tcp dport 22 state new", Action::Accept),
            (4, "icmp", Action::Accept),
        ]
    );
    assert_eq!(
        rs.rules[1].description.as_deref(),
        Some("no ssh from the bad net")
    );
    let c = cfg(&[
        ruleset("x", "accept"),
        rule("x", &[], "drop"),
        rule(
            "x",
            &[
                ("protocol", "47"),
                ("destination", "10.0.0.7/32"),
                ("source", "10.0.0.0/8"),
            ],
            "drop",
        ),
        rule(
            "x",
            &[("protocol", "udp"), ("source_port", "1-1023")],
            "drop",
        ),
    ]
    .concat());
    let snap = Firewall::new(&c).snapshot();
    let texts: Vec<&str> = snap.rulesets[0]
        .rules
        .iter()
        .map(|r| r.matches.as_str())
        .collect();
    assert_eq!(
        texts,
        [
            "all",
            "proto 47 src 10.0.0.0/8 dst 10.0.0.7",
            "udp sport 1-1023"
        ]
    );
    assert!(snap.rulesets[0].attached.is_empty());
}

#[test]
fn reload_keeps_counters_of_unchanged_rules_only() {
    let mut fw = Firewall::new(&wan_in());
    fw.check(WAN, Direction::In, &tcp(1, 22, CtState::Established), 10); // rule 1
    fw.check(WAN, Direction::In, &tcp(1, 22, CtState::New), 20); // rule 2
    fw.check(WAN, Direction::In, &tcp(1, 22, CtState::New), 20); // rule 2
    let other = pkt(6, [203, 0, 113, 1], 1, [192, 168, 1, 10], 22, CtState::New);
    fw.check(WAN, Direction::In, &other, 30); // rule 3
    let ping = pkt(1, [203, 0, 113, 1], 0, [10, 0, 0, 2], 0, CtState::New);
    fw.check(WAN, Direction::In, &ping, 40); // rule 4
    fw.check(WAN, Direction::In, &tcp(1, 80, CtState::New), 50); // default

    // New config: rule 1 moved last with a new description, rule 2 changed
    // action, rule 3 unchanged, rule 4 changed match, default unchanged.
    let next = cfg(&[
        ruleset("wan_in", "drop"),
        rule(
            "wan_in",
            &[
                ("protocol", "tcp"),
                ("source", "198.51.100.0/24"),
                ("destination_port", "22"),
            ],
            "drop",
        ),
        rule(
            "wan_in",
            &[
                ("protocol", "tcp"),
                ("destination_port", "22"),
                ("state", "new"),
            ],
            "accept",
        ),
        rule(
            "wan_in",
            &[("protocol", "icmp"), ("state", "new")],
            "accept",
        ),
        rule(
            "wan_in",
            &[
                ("state", "established,related"),
                ("description", "return traffic"),
            ],
            "accept",
        ),
        attach("wan", "in", "wan_in"),
    ]
    .concat());
    fw.reload(&next);
    let snap = fw.snapshot();
    let rs = &snap.rulesets[0];
    let counts: Vec<(u64, u64)> = rs
        .rules
        .iter()
        .map(|r| (r.counters.packets, r.counters.bytes))
        .collect();
    assert_eq!(counts, [(0, 0), (1, 30), (0, 0), (1, 10)]);
    assert_eq!(rs.default.bytes, 50);
    // The reloaded rules decide: the changed rule 2 drops now.
    assert_eq!(
        fw.check(WAN, Direction::In, &tcp(1, 22, CtState::New), 1),
        Action::Drop
    );

    // Changing the default action, or renaming the ruleset, resets.
    let mut other_default = next.clone();
    other_default.firewall_rulesets[0].default_action = Action::Reject;
    fw.reload(&other_default);
    assert_eq!(fw.snapshot().rulesets[0].default, Counters::default());
    assert_eq!(fw.snapshot().rulesets[0].rules[1].counters.packets, 1);
    let mut renamed = next.clone();
    renamed.firewall_rulesets[0].name = "edge".to_string();
    for r in renamed.firewall_rules.iter_mut() {
        r.ruleset = "edge".to_string();
    }
    renamed.firewall_attaches[0].ruleset = "edge".to_string();
    fw.reload(&renamed);
    let snap = fw.snapshot();
    assert!(
        snap.rulesets[0]
            .rules
            .iter()
            .all(|r| r.counters.packets == 0)
    );
    assert_eq!(
        fw.check(WAN, Direction::In, &tcp(1, 22, CtState::New), 1),
        Action::Drop
    );
}

#[test]
fn reload_matches_duplicate_rules_one_to_one() {
    let two = cfg(&[
        ruleset("r", "accept"),
        rule("r", &[("protocol", "udp")], "drop"),
        rule("r", &[("protocol", "udp")], "drop"),
        attach("lan", "in", "r"),
    ]
    .concat());
    let mut fw = Firewall::new(&two);
    let udp = pkt(17, [192, 168, 1, 5], 1, [8, 8, 8, 8], 53, CtState::New);
    fw.check(LAN, Direction::In, &udp, 5);
    // Add a third copy: only one of the new rules inherits the first's count,
    // and the second copy its (zero) count.
    let mut three = two.clone();
    let extra = three.firewall_rules[0].clone();
    three.firewall_rules.insert(0, extra);
    fw.reload(&three);
    let counts: Vec<u64> = fw.snapshot().rulesets[0]
        .rules
        .iter()
        .map(|r| r.counters.packets)
        .collect();
    assert_eq!(counts, [1, 0, 0]);
    assert_eq!(three.firewall_rules[0].protocol, Some(Protocol::Udp));
}

#[test]
fn equal_prefixes_written_differently_compare_equal_on_reload() {
    let a = cfg(&[
        ruleset("r", "accept"),
        rule("r", &[("source", "192.168.1.0/24")], "drop"),
        attach("lan", "in", "r"),
    ]
    .concat());
    let mut b = a.clone();
    b.firewall_rules[0].source = b.firewall_rules[0].source.map(|mut c| {
        c.addr = [192, 168, 1, 77].into();
        c
    });
    let mut fw = Firewall::new(&a);
    let m = pkt(17, [192, 168, 1, 5], 1, [8, 8, 8, 8], 53, CtState::New);
    fw.check(LAN, Direction::In, &m, 5);
    fw.reload(&b);
    assert_eq!(fw.snapshot().rulesets[0].rules[0].counters.packets, 1);
}

#[test]
fn the_spec_example_firewall() {
    let c = spec_example();
    let wan = c.interface_index("wan").unwrap();
    let mut fw = Firewall::new(&c);
    let new_http = tcp(40000, 80, CtState::New);
    assert_eq!(fw.check(wan, Direction::In, &new_http, 1), Action::Drop);
    let back = tcp(80, 40000, CtState::Established);
    assert_eq!(fw.check(wan, Direction::In, &back, 1), Action::Accept);
    let ping = pkt(1, [203, 0, 113, 1], 0, [10, 0, 0, 1], 0, CtState::New);
    assert_eq!(fw.check(wan, Direction::In, &ping, 1), Action::Accept);
    assert_eq!(fw.check(wan, Direction::Out, &new_http, 1), Action::Accept);
}

/// Prints the cost of a check that walks 32 rules to the default action:
/// `cargo test --release --lib -- --ignored --nocapture bench_`.
#[test]
#[ignore]
fn bench_check_32_rules() {
    let mut sections = vec![ruleset("r", "drop")];
    for i in 0..32u16 {
        let port = (1000 + i).to_string();
        sections.push(rule(
            "r",
            &[
                ("protocol", "tcp"),
                ("source", "198.51.100.0/24"),
                ("destination_port", &port),
            ],
            "accept",
        ));
    }
    sections.push(attach("wan", "in", "r"));
    let mut fw = Firewall::new(&cfg(&sections.concat()));
    let m = tcp(40000, 80, CtState::New);
    let n = 2_000_000u32;
    let start = std::time::Instant::now();
    for i in 0..n {
        let m = Match {
            sport: i as u16,
            ..m
        };
        std::hint::black_box(fw.check(WAN, Direction::In, std::hint::black_box(&m), 60));
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(n);
    println!("firewall: {ns:.1} ns per packet through 32 rules to the default");
}

/// The per-state plan (skip rules that exclude the state, take a
/// state-only first rule without a walk) gives the plain first-match
/// walk's verdict and counts the same rule, over random rulesets and
/// packets.
#[test]
fn planned_check_equals_the_first_match_walk() {
    let mut rng = crate::rng::XorShift64Star::new(0x5eed_f00d_0123_4567);
    let mut next = move || rng.next_u64();
    let states = [
        "new",
        "established",
        "related",
        "invalid",
        "established,related",
        "new,invalid",
    ];
    let actions = ["accept", "drop", "reject"];
    let all = [
        CtState::New,
        CtState::Established,
        CtState::Related,
        CtState::Invalid,
    ];
    for case in 0..300 {
        let mut sections = vec![ruleset("r", actions[case % 3]), attach("wan", "in", "r")];
        for _ in 0..(next() % 5) {
            let mut opts: Vec<(&str, &str)> = Vec::new();
            if next() % 3 != 0 {
                opts.push(("state", states[(next() % 6) as usize]));
            }
            match next() % 5 {
                0 => opts.push(("protocol", "tcp")),
                1 => opts.push(("source", "198.51.100.0/24")),
                2 => {
                    opts.push(("protocol", "tcp"));
                    opts.push(("destination_port", "22"));
                }
                _ => {}
            }
            sections.push(rule("r", &opts, actions[(next() % 3) as usize]));
        }
        let mut fw = Firewall::new(&cfg(&sections.concat()));
        for i in 0..40 {
            let src = if next() % 2 == 0 {
                [198, 51, 100, 7]
            } else {
                [203, 0, 113, 9]
            };
            let proto = if next() % 3 == 0 { 17 } else { 6 };
            let dport = if next() % 2 == 0 { 22 } else { 443 };
            let m = pkt(proto, src, 40000, [192, 168, 1, 10], dport, all[i % 4]);
            let rs = &fw.rulesets[0];
            let want = rs.rules.iter().position(|r| r.m.matches(&m));
            let want_action = want.map_or(rs.default_action, |k| rs.rules[k].action);
            let before = fw.snapshot().rulesets[0].clone();
            assert_eq!(
                fw.check(WAN, Direction::In, &m, 100),
                want_action,
                "case {case}"
            );
            let after = fw.snapshot().rulesets[0].clone();
            for (k, (b, a)) in before.rules.iter().zip(&after.rules).enumerate() {
                let bumped = u64::from(want == Some(k));
                assert_eq!(
                    a.counters.packets,
                    b.counters.packets + bumped,
                    "case {case}"
                );
                assert_eq!(a.counters.bytes, b.counters.bytes + 100 * bumped);
            }
            let bumped = u64::from(want.is_none());
            assert_eq!(after.default.packets, before.default.packets + bumped);
        }
    }
}

/// `wan_in` (default drop, on wan in) with one rule per (state set, action).
fn wan_in_by_state(rules: &[(&str, &str)]) -> Config {
    let mut sections = vec![ruleset("wan_in", "drop"), attach("wan", "in", "wan_in")];
    for (states, action) in rules {
        sections.push(rule("wan_in", &[("state", states)], action));
    }
    cfg(&sections.concat())
}

/// A reload that changes the rule established packets meet changes their
/// verdict at once (the plan is rebuilt), and counts on the new rule.
#[test]
fn reload_replans_the_established_verdict() {
    let est = tcp(40000, 443, CtState::Established);
    let mut fw = Firewall::new(&wan_in());
    assert_eq!(fw.check(WAN, Direction::In, &est, 60), Action::Accept);
    fw.reload(&wan_in_by_state(&[
        ("new", "accept"),
        ("established", "reject"),
    ]));
    assert_eq!(fw.check(WAN, Direction::In, &est, 60), Action::Reject);
    let snap = fw.snapshot();
    assert_eq!(snap.rulesets[0].rules[1].counters.packets, 1);
    assert_eq!(snap.rulesets[0].rules[0].counters.packets, 0);
    // No rule admits established any more: the default, counted there.
    fw.reload(&wan_in_by_state(&[("new", "accept")]));
    assert_eq!(fw.check(WAN, Direction::In, &est, 60), Action::Drop);
    assert_eq!(fw.snapshot().rulesets[0].default.packets, 1);
}
