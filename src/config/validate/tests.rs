//! Unit tests of the validator: one accepted or refused snippet per rule.

use super::*;
use crate::config::parse_str;

const MIN: &str = "config interface 'lan'\n\toption device 'lan0'\n\toption role 'lan'\n\toption address '192.168.1.2/24'\n\nconfig interface 'wan'\n\toption device 'wan0'\n\toption role 'wan'\n\toption address '10.0.0.2/24'\n";

fn ok(extra: &str) -> Config {
    parse_str("t.uci", &format!("{MIN}{extra}")).unwrap_or_else(|e| panic!("{e:#?}"))
}
fn bad(extra: &str) -> Vec<String> {
    match parse_str("t.uci", &format!("{MIN}{extra}")) {
        Ok(c) => panic!("accepted: {c:#?}"),
        Err(e) => e.iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn defaults_when_sections_absent() {
    let c = ok("");
    assert_eq!(c.globals, Globals::default());
    assert_eq!(c.globals.node_id, 1);
    assert_eq!(c.globals.log_level, LogLevel::Info);
    assert_eq!(c.conntrack, Conntrack::default());
    assert_eq!(c.conntrack.timeouts.tcp_established, 432_000);
    assert!(c.conntrack_sync.is_none());
    assert_eq!(c.path, "t.uci");
}

#[test]
fn vrrp_defaults_and_vip_prefix_from_interface() {
    let c = ok(
        "config vrrp_group 'g'\n\toption interface 'lan'\n\toption vrid '7'\n\toption virtual_address '192.168.1.50'\n",
    );
    let g = &c.vrrp_groups[0];
    assert_eq!(g.virtual_addresses[0].to_string(), "192.168.1.50/24");
    assert_eq!(g.priority, 1);
    assert!(g.preempt);
    assert_eq!(g.preempt_delay_secs, 0);
    assert_eq!(g.advert_interval_cs, 100);
    assert_eq!(g.version, 2);
    assert!(!g.rfc3768_compatibility);
    assert_eq!(g.auth, VrrpAuth::None);
    assert_eq!((g.garp_repeat, g.garp_refresh_secs), (3, 60));
    assert!(!g.v3_checksum_legacy);
    assert_eq!(g.line, 10);
}

#[test]
fn vrrp_all_options() {
    let c = ok(concat!(
        "config vrrp_group 'g'\n",
        "\toption interface 'lan'\n",
        "\toption vrid '7'\n",
        "\tlist virtual_address '192.168.1.50/25'\n",
        "\tlist virtual_address '172.16.0.1'\n",
        "\toption priority '255'\n",
        "\toption preempt 'off'\n",
        "\toption preempt_delay '3600'\n",
        "\toption version '3'\n",
        "\toption advertise_interval '0.1'\n",
        "\toption rfc3768_compatibility 'yes'\n",
        "\toption sync_group 'gw'\n",
        "\toption track_interface 'wan lan'\n",
        "\toption notify '/etc/hagw/notify.sh'\n",
        "\tlist unicast_peer '192.168.1.3'\n",
        "\tlist unicast_peer '192.168.1.4'\n",
        "\toption garp_repeat '100'\n",
        "\toption garp_refresh '0'\n",
        "\toption v3_checksum 'legacy'\n",
    ));
    let g = &c.vrrp_groups[0];
    assert_eq!(g.virtual_addresses[0].to_string(), "192.168.1.50/25");
    assert_eq!(g.virtual_addresses[1].to_string(), "172.16.0.1/24");
    assert_eq!(g.priority, 255);
    assert!(!g.preempt);
    assert_eq!(g.preempt_delay_secs, 3600);
    assert_eq!((g.version, g.advert_interval_cs), (3, 10));
    assert!(g.rfc3768_compatibility);
    assert_eq!(g.sync_group.as_deref(), Some("gw"));
    assert_eq!(g.track_interfaces, vec!["wan", "lan"]);
    assert_eq!(g.notify.as_deref(), Some("/etc/hagw/notify.sh"));
    assert_eq!(
        g.unicast_peers,
        vec![Ipv4Addr::new(192, 168, 1, 3), Ipv4Addr::new(192, 168, 1, 4)]
    );
    assert_eq!((g.garp_repeat, g.garp_refresh_secs), (100, 0));
    assert!(g.v3_checksum_legacy);
    assert!(!c.is_address_owner(g));
}

#[test]
fn plaintext_auth_and_address_owner() {
    let c = ok(
        "config vrrp_group 'g'\n\toption interface 'lan'\n\toption vrid '7'\n\tlist virtual_address '192.168.1.2'\n\toption auth_type 'plaintext-password'\n\toption auth_password '12345678'\n",
    );
    let g = &c.vrrp_groups[0];
    assert_eq!(g.auth, VrrpAuth::Plaintext("12345678".into()));
    assert!(c.is_address_owner(g));
}

#[test]
fn interval_parsing() {
    assert_eq!(parse_interval("1", 2), Ok(100));
    assert_eq!(parse_interval("255", 2), Ok(25500));
    assert!(parse_interval("0", 2).is_err());
    assert!(parse_interval("1.0", 2).is_err());
    assert_eq!(parse_interval("0.01", 3), Ok(1));
    assert_eq!(parse_interval("0.1", 3), Ok(10));
    assert_eq!(parse_interval(".5", 3), Ok(50));
    assert_eq!(parse_interval("1", 3), Ok(100));
    assert_eq!(parse_interval("1.50", 3), Ok(150));
    assert_eq!(parse_interval("0.100", 3), Ok(10));
    assert_eq!(parse_interval("40.95", 3), Ok(4095));
    for badv in [
        "0", "0.00", "40.96", "41", "0.001", "0.015", "1.", ".", "", "-1", "1e2", "99999",
    ] {
        if badv == "1." {
            // "1." reads as 1 second; accepted like "1".
            assert_eq!(parse_interval(badv, 3), Ok(100));
            continue;
        }
        assert!(parse_interval(badv, 3).is_err(), "{badv}");
    }
}

#[test]
fn value_parsers() {
    for t in ["1", "true", "yes", "on", "TRUE"] {
        assert_eq!(parse_bool(t), Ok(true), "{t}");
    }
    for f in ["0", "false", "no", "off"] {
        assert_eq!(parse_bool(f), Ok(false), "{f}");
    }
    assert!(parse_bool("2").is_err());
    assert_eq!(parse_uint("00042", 1, 255), Ok(42));
    assert!(parse_uint("+1", 1, 255).is_err());
    assert!(
        parse_uint("99999999999999999999999", 1, 255)
            .unwrap_err()
            .contains("out of range")
    );
    assert_eq!(
        parse_prefix("10.0.0.7", true).unwrap().to_string(),
        "10.0.0.7/32"
    );
    assert!(parse_prefix("10.0.0.7", false).is_err());
    assert_eq!(parse_prefix("0.0.0.0/0", false).unwrap().prefix_len, 0);
    assert!(parse_prefix("10.0.0.0/-1", false).is_err());
    assert!(parse_prefix("10.0.0.0/033", false).is_err());
    assert_eq!(parse_port_range("22"), Ok(PortRange { lo: 22, hi: 22 }));
    assert_eq!(
        parse_port_range("1000-2000"),
        Ok(PortRange { lo: 1000, hi: 2000 })
    );
    for p in ["0", "65536", "1-", "-1", "a", "1-2-3", ""] {
        assert!(parse_port_range(p).is_err(), "{p}");
    }
    assert_eq!(parse_protocol("6"), Ok(Some(Protocol::Tcp)));
    assert_eq!(parse_protocol("17"), Ok(Some(Protocol::Udp)));
    assert_eq!(parse_protocol("47"), Ok(Some(Protocol::Other(47))));
    assert_eq!(parse_protocol("all"), Ok(None));
    assert_eq!(
        parse_addr_range("10.0.0.1-10.0.0.4").map(|r| r.len()),
        Ok(4)
    );
    assert!(
        parse_host_cidr("192.168.1.255/24")
            .unwrap_err()
            .contains("broadcast")
    );
    assert!(parse_host_cidr("10.0.0.0/31").is_ok());
    assert!(parse_host_cidr("224.0.0.1/24").is_err());
    let s = parse_state(" new , invalid").unwrap();
    assert!(s.new && s.invalid && !s.established && !s.related);
    assert!(parse_state(",").is_err());
}

#[test]
fn snat_to_non_vip_is_fine_without_sync() {
    let c = ok(
        "config nat_source\n\toption rule '1'\n\toption outbound_interface 'wan'\n\toption translation_address '10.0.0.2'\n\toption translation_port '1024-65535'\n\toption protocol 'udp'\n",
    );
    assert_eq!(
        c.nat_source[0].translation_address.lo,
        Ipv4Addr::new(10, 0, 0, 2)
    );
    assert_eq!(
        c.nat_source[0].translation_port,
        Some(PortRange {
            lo: 1024,
            hi: 65535
        })
    );
    assert_eq!(c.nat_source[0].protocol, Some(Protocol::Udp));
}

#[test]
fn firewall_rule_full() {
    let c = ok(
        "config firewall_ruleset 'r'\n\toption default_action 'reject'\nconfig firewall_rule\n\toption ruleset 'r'\n\toption description 'ssh'\n\toption protocol 'tcp'\n\toption source '192.168.1.0/24'\n\toption destination '10.0.0.9'\n\toption source_port '1024-65535'\n\toption destination_port '22'\n\toption state 'new'\n\toption action 'drop'\nconfig firewall_attach\n\toption interface 'lan'\n\toption direction 'local'\n\toption ruleset 'r'\nconfig firewall_attach\n\toption interface 'lan'\n\toption direction 'out'\n\toption ruleset 'r'\n",
    );
    assert_eq!(
        c.firewall_rulesets[0].default_action,
        FirewallAction::Reject
    );
    let r = &c.firewall_rules[0];
    assert_eq!(r.description.as_deref(), Some("ssh"));
    assert_eq!(r.destination.unwrap().to_string(), "10.0.0.9/32");
    assert_eq!(
        r.source_port,
        Some(PortRange {
            lo: 1024,
            hi: 65535
        })
    );
    assert_eq!(r.action, FirewallAction::Drop);
    assert_eq!(c.firewall_attaches.len(), 2);
    assert_eq!(c.firewall_attaches[0].direction, Direction::Local);
}

#[test]
fn conntrack_external_defaults_to_max_entries() {
    let c = ok("config conntrack\n\toption max_entries '1024'\n\toption icmp_timeout '5'\n");
    assert_eq!(
        (c.conntrack.max_entries, c.conntrack.external_max_entries),
        (1024, 1024)
    );
    assert_eq!(c.conntrack.timeouts.icmp, 5);
    assert_eq!(c.conntrack.timeouts.generic, 600);
    let c = ok("config conntrack\n\toption generic_timeout '45'\n");
    assert_eq!(c.conntrack.timeouts.generic, 45);
    let c =
        ok("config conntrack\n\toption max_entries '1024'\n\toption external_max_entries '64'\n");
    assert_eq!(c.conntrack.external_max_entries, 64);
}

#[test]
fn sync_section_defaults_and_peer() {
    let c = ok(
        "config interface 's'\n\toption device 's0'\n\toption role 'sync'\n\toption address '10.9.0.1/30'\nconfig conntrack_sync\n\toption interface 's'\n\toption peer '10.9.0.2'\n\toption auth_key 'abcdefgh'\n\toption resync_timeout '5'\n",
    );
    let s = c.conntrack_sync.unwrap();
    assert_eq!(s.name, "sync");
    assert_eq!(s.sync_group, None);
    assert_eq!(s.mcast_group, Ipv4Addr::new(225, 0, 0, 50));
    assert_eq!(s.port, 3780);
    assert_eq!(s.peer, Some(Ipv4Addr::new(10, 9, 0, 2)));
    assert_eq!(s.auth_key.as_deref(), Some("abcdefgh"));
    assert_eq!(s.resync_timeout_secs, 5);
}

const SYNC_IFACE: &str = "config interface 's'\n\toption device 's0'\n\toption role 'sync'\n\toption address '10.9.0.1/30'\nconfig vrrp_group 'g'\n\toption interface 'lan'\n\toption vrid '7'\n\tlist virtual_address '192.168.1.50'\n\toption sync_group 'gw'\n";

#[test]
fn bfd_defaults_off() {
    let c = ok(&format!(
        "{SYNC_IFACE}config conntrack_sync\n\toption interface 's'\n"
    ));
    let s = c.conntrack_sync.unwrap();
    assert_eq!(s.bfd, BfdSettings::default());
    assert_eq!(
        (
            s.bfd.enabled,
            s.bfd.min_tx_ms,
            s.bfd.min_rx_ms,
            s.bfd.multiplier
        ),
        (false, 10, 10, 3)
    );
    assert!(!s.fast_takeover);
}

#[test]
fn bfd_all_options() {
    let c = ok(&format!(
        "{SYNC_IFACE}config conntrack_sync\n\toption interface 's'\n\toption sync_group 'gw'\n\toption bfd 'on'\n\toption bfd_min_tx '10000'\n\toption bfd_min_rx '1'\n\toption bfd_multiplier '255'\n\toption fast_takeover '1'\n"
    ));
    let s = c.conntrack_sync.unwrap();
    assert_eq!(
        s.bfd,
        BfdSettings {
            enabled: true,
            min_tx_ms: 10_000,
            min_rx_ms: 1,
            multiplier: 255
        }
    );
    assert!(s.fast_takeover);
    // Timers without bfd on are kept (turning bfd on later uses them).
    let c = ok(&format!(
        "{SYNC_IFACE}config conntrack_sync\n\toption interface 's'\n\toption bfd_min_tx '50'\n"
    ));
    let s = c.conntrack_sync.unwrap();
    assert_eq!((s.bfd.enabled, s.bfd.min_tx_ms), (false, 50));
}

#[test]
fn fast_takeover_needs_bfd_and_sync_group() {
    let base = format!("{SYNC_IFACE}config conntrack_sync\n\toption interface 's'\n");
    // The section starts on line 19; its options follow.
    assert_eq!(
        bad(&format!(
            "{base}\toption fast_takeover '1'\n\toption sync_group 'gw'\n"
        )),
        vec![
            "t.uci:21: option 'fast_takeover': needs option bfd '1' (the takeover is triggered by the BFD session to the master going down)"
        ]
    );
    assert_eq!(
        bad(&format!(
            "{base}\toption bfd '0'\n\toption fast_takeover 'yes'\n\toption sync_group 'gw'\n"
        ))
        .len(),
        1
    );
    assert_eq!(
        bad(&format!(
            "{base}\toption bfd '1'\n\toption fast_takeover '1'\n"
        )),
        vec![
            "t.uci:22: option 'fast_takeover': needs option sync_group (fast takeover is per sync group: it moves that group's VRRP groups)"
        ]
    );
    // A bad bfd value is one error, not two.
    let e = bad(&format!(
        "{base}\toption bfd 'maybe'\n\toption fast_takeover '1'\n\toption sync_group 'gw'\n"
    ));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("'maybe' is not a boolean"));
    // fast_takeover off needs nothing.
    ok(&format!("{base}\toption fast_takeover '0'\n"));
}

#[test]
fn ah_needs_a_key_and_version_2() {
    let g = "config vrrp_group 'g'\n\toption interface 'lan'\n\toption vrid '7'\n\tlist virtual_address '192.168.1.50'\n\toption auth_type 'ah'\n";
    assert_eq!(
        bad(g),
        vec![
            "t.uci:14: option 'auth_type': ah needs option auth_password (1-8 characters, the same on all routers)"
        ]
    );
    let c = ok(&format!("{g}\toption auth_password 'k3y'\n"));
    assert_eq!(c.vrrp_groups[0].auth, VrrpAuth::Ah("k3y".into()));
    let e = bad(&format!(
        "{g}\toption auth_password 'k3y'\n\toption version '3'\n"
    ));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("'ah' is not allowed with version 3"), "{e:?}");
}

#[test]
fn same_vrid_on_different_interfaces_is_fine() {
    let c = ok(
        "config vrrp_group 'a'\n\toption interface 'lan'\n\toption vrid '7'\n\tlist virtual_address '192.168.1.50'\n\toption sync_group 'x'\nconfig vrrp_group 'b'\n\toption interface 'wan'\n\toption vrid '7'\n\tlist virtual_address '10.0.0.50'\n\toption sync_group 'x'\n",
    );
    assert_eq!(c.sync_group_members("x").len(), 2);
}

/// The operator's reference in board/examples/README.md names every
/// section and option of the schema.
#[test]
fn readme_documents_every_option() {
    let readme = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/board/examples/README.md"
    ))
    .unwrap();
    for kind in SECTION_TYPES {
        assert!(
            readme.contains(&format!("`{kind}")),
            "section {kind} undocumented"
        );
        for (key, _) in schema(kind).unwrap() {
            let documented = readme.contains(&format!("`{key}`"))
                || key
                    .strip_suffix("_timeout")
                    .is_some_and(|t| readme.contains(&format!("{t} [")));
            assert!(documented, "option {kind}.{key} undocumented");
        }
    }
}

#[test]
fn hints() {
    assert_eq!(distance("prority", "priority"), 1);
    assert_eq!(
        did_you_mean("prority", ["priority", "preempt"].into_iter()),
        " (did you mean 'priority'?)"
    );
    assert_eq!(did_you_mean("zzzzzz", ["priority"].into_iter()), "");
    assert_eq!(
        did_you_mean("vrrp", SECTION_TYPES.iter().copied()),
        " (did you mean 'vrrp_group'?)"
    );
    // Ambiguous prefix: no guess.
    assert_eq!(did_you_mean("firewall", SECTION_TYPES.iter().copied()), "");
}
