//! Tests of `show`: the VRRP, interface and metrics views against SPEC §5
//! layouts, JSON shapes, and hostile request words.

use super::super::json::check::parse;
use super::*;
use crate::cli::metrics::state_number;
use crate::config::Ipv4Cidr;
use crate::vrrp::GroupCounters;
use crate::vrrp::VrrpState;
use std::net::Ipv4Addr;

fn cidr(s: &str, len: u8) -> Ipv4Cidr {
    Ipv4Cidr {
        addr: s.parse().unwrap(),
        prefix_len: len,
    }
}

/// The group of the SPEC §5 `show vrrp summary` example.
pub(in crate::cli) fn spec_summary_group() -> GroupStatus {
    GroupStatus {
        name: "lan42".into(),
        interface: "lan".into(),
        interface_up: true,
        vrid: 42,
        version: 2,
        state: VrrpState::Backup,
        address_owner: false,
        priority: 100,
        configured_priority: 100,
        advert_interval_cs: 100,
        master_advert_interval_cs: 100,
        auth_type: "none",
        preempt: true,
        preempt_delay_secs: 0,
        vips: vec![cidr("192.168.42.50", 24)],
        source_address: Ipv4Addr::new(192, 168, 42, 2),
        master_router: Some(Ipv4Addr::new(192, 168, 42, 3)),
        master_priority: Some(100),
        sync_group: None,
        last_transition: Some(Duration::from_secs(5)),
        counters: GroupCounters::default(),
    }
}

/// The group of the SPEC §5 `show vrrp interface lan` example.
fn spec_interface_group() -> GroupStatus {
    GroupStatus {
        name: "g42".into(),
        interface: "lan".into(),
        interface_up: true,
        vrid: 42,
        version: 2,
        state: VrrpState::Master,
        address_owner: false,
        priority: 1,
        configured_priority: 1,
        advert_interval_cs: 100,
        master_advert_interval_cs: 100,
        auth_type: "none",
        preempt: false,
        preempt_delay_secs: 0,
        vips: vec![cidr("172.16.42.50", 24)],
        source_address: Ipv4Addr::new(172, 16, 42, 2),
        master_router: Some(Ipv4Addr::new(172, 16, 42, 2)),
        master_priority: Some(1),
        sync_group: None,
        last_transition: Some(Duration::from_secs(2 * 3600 + 11 * 60 + 27)),
        counters: GroupCounters {
            adverts_rx: 3,
            adverts_tx: 7887,
            became_master: 1,
            rx_ttl_error: 2,
            rx_auth_error: 5,
            ..GroupCounters::default()
        },
    }
}

fn port(name: &str, device: &str, role: Role) -> PortStatus {
    PortStatus {
        name: name.into(),
        device: device.into(),
        role,
        mac: [0x02, 0x00, 0x5e, 0x10, 0x0a, 0xff],
        address: cidr("172.16.42.2", 24),
        up: true,
        rx_frames: 1200,
        rx_bytes: 98_765,
        tx_frames: 34,
        tx_bytes: 2_176,
        drops: vec![("vrrp_ttl", 3), ("vrrp_checksum", 0), ("no_route", 4)],
        device_state: Default::default(),
        host_tap: None,
    }
}

pub(in crate::cli) fn snap(groups: Vec<GroupStatus>, ports: Vec<PortStatus>) -> Snapshot {
    Snapshot {
        reload_kept: None,
        groups,
        ports,
        dataplane: None,
        sync: None,
        bfd: None,
        tracks: Vec::new(),
    }
}

const NOW: Instant = Instant::from_secs(1000);

#[test]
fn summary_matches_spec_example_exactly() {
    let s = snap(vec![spec_summary_group()], vec![]);
    let expected = "\
Interface  VRRP Group  Addr Type  Address        Interface State  Address Owner  VRRP State
---------  ----------  ---------  -------------  ---------------  -------------  ----------
lan        42          vip        192.168.42.50  up               no             backup
";
    assert_eq!(answer("vrrp summary", &s, NOW).unwrap(), expected);
    // Extra whitespace in the request does not matter.
    assert_eq!(answer("  vrrp   summary \n", &s, NOW).unwrap(), expected);
}

#[test]
fn summary_columns_widen_for_long_content_and_list_every_vip() {
    let mut a = spec_summary_group();
    a.interface = "wan-uplink-0".into();
    a.vrid = 255;
    a.vips = vec![cidr("10.200.200.200", 24), cidr("10.0.0.1", 32)];
    a.state = VrrpState::Master;
    a.address_owner = true;
    a.interface_up = false;
    let mut b = spec_summary_group();
    b.state = VrrpState::Fault;
    b.vrid = 7;
    let s = snap(vec![a, b], vec![]);
    let expected = "\
Interface     VRRP Group  Addr Type  Address         Interface State  Address Owner  VRRP State
------------  ----------  ---------  --------------  ---------------  -------------  ----------
wan-uplink-0  255         vip        10.200.200.200  down             yes            master
wan-uplink-0  255         vip        10.0.0.1        down             yes            master
lan           7           vip        192.168.42.50   up               no             fault
";
    assert_eq!(answer("vrrp summary", &s, NOW).unwrap(), expected);
}

#[test]
fn summary_with_no_groups_is_just_the_header() {
    let s = snap(vec![], vec![]);
    let expected = "\
Interface  VRRP Group  Addr Type  Address  Interface State  Address Owner  VRRP State
---------  ----------  ---------  -------  ---------------  -------------  ----------
";
    assert_eq!(answer("vrrp summary", &s, NOW).unwrap(), expected);
}

#[test]
fn table_widens_last_column_without_trailing_spaces() {
    let t = table(
        &["A", "B"],
        &[
            vec!["x".into(), "long-value".into()],
            vec!["yy".into(), "z".into()],
        ],
    );
    assert_eq!(t, "A   B\n--  ----------\nx   long-value\nyy  z\n");
}

#[test]
fn interface_matches_spec_example_then_counters() {
    let s = snap(vec![spec_interface_group()], vec![]);
    let expected = "\
Physical interface: lan, Source Address 172.16.42.2
Interface state: up, Group 42, State: master
Priority: 1, Advertisement interval: 1, Authentication type: none
Preempt: false, VIP count: 1, VIP: 172.16.42.50
Master router: 172.16.42.2
Last transition: 2h11m27s
Group name: g42, VRRP version: 2, Address owner: no, Master priority: 1
Preempt delay: 0s, Sync group: none
Adverts received: 3, sent: 7887, Priority-zero received: 0, sent: 0, Became master: 1
Adverts dropped: 7 (ttl 2, auth 5)
";
    assert_eq!(answer("vrrp interface lan", &s, NOW).unwrap(), expected);
}

#[test]
fn interface_v3_several_groups_and_vips() {
    let mut a = spec_interface_group();
    a.version = 3;
    a.advert_interval_cs = 10;
    a.master_advert_interval_cs = 150;
    a.state = VrrpState::Backup;
    a.priority = 254;
    a.configured_priority = 255;
    a.preempt = true;
    a.preempt_delay_secs = 30;
    a.sync_group = Some("gw".into());
    a.vips = vec![cidr("172.16.42.50", 24), cidr("172.16.42.51", 24)];
    a.master_router = Some(Ipv4Addr::new(172, 16, 42, 3));
    a.master_priority = Some(255);
    a.last_transition = Some(Duration::from_secs(65));
    a.counters = GroupCounters::default();
    let mut b = spec_interface_group();
    b.vrid = 43;
    b.name = "g43".into();
    b.master_router = None;
    b.master_priority = None;
    b.last_transition = None;
    b.state = VrrpState::Init;
    b.counters = GroupCounters::default();
    let mut other = spec_interface_group();
    other.interface = "wan".into();
    let s = snap(vec![a, other, b], vec![]);
    let expected = "\
Physical interface: lan, Source Address 172.16.42.2
Interface state: up, Group 42, State: backup
Priority: 254 (configured 255), Advertisement interval: 0.1, Authentication type: none
Preempt: true, VIP count: 2, VIP: 172.16.42.50 172.16.42.51
Master router: 172.16.42.3
Last transition: 1m05s
Group name: g42, VRRP version: 3, Address owner: no, Master priority: 255, Master advertisement interval: 1.5
Preempt delay: 30s, Sync group: gw
Adverts received: 0, sent: 0, Priority-zero received: 0, sent: 0, Became master: 0
Adverts dropped: 0

Physical interface: lan, Source Address 172.16.42.2
Interface state: up, Group 43, State: init
Priority: 1, Advertisement interval: 1, Authentication type: none
Preempt: false, VIP count: 1, VIP: 172.16.42.50
Master router: none
Last transition: never
Group name: g43, VRRP version: 2, Address owner: no, Master priority: -
Preempt delay: 0s, Sync group: none
Adverts received: 0, sent: 0, Priority-zero received: 0, sent: 0, Became master: 0
Adverts dropped: 0
";
    assert_eq!(answer("vrrp interface lan", &s, NOW).unwrap(), expected);
    // `vrrp` alone shows every group, the wan one included.
    let all = answer("vrrp detail", &s, NOW).unwrap();
    assert_eq!(all.matches("Physical interface: ").count(), 3);
    assert!(all.contains("Physical interface: wan,"));
    // Bare `vrrp` is the summary (VyOS), in text and JSON.
    assert_eq!(
        answer("vrrp", &s, NOW).unwrap(),
        answer("vrrp summary", &s, NOW).unwrap()
    );
    assert_eq!(
        answer("vrrp --json", &s, NOW).unwrap(),
        answer("vrrp summary --json", &s, NOW).unwrap()
    );
}

#[test]
fn unknown_interface_is_an_error() {
    let s = snap(vec![spec_interface_group()], vec![]);
    assert_eq!(
        answer("vrrp interface wan", &s, NOW),
        Err("no VRRP group on interface wan".to_string())
    );
    assert_eq!(
        answer("vrrp interface wan --json", &s, NOW),
        Err("no VRRP group on interface wan".to_string())
    );
}

#[test]
fn unknown_views_list_the_known_ones() {
    let s = snap(vec![], vec![]);
    for bad in [
        "",
        "vrrp bogus",
        "vrrp interface",
        "interfaces extra",
        "\u{1b}[2J",
    ] {
        let e = answer(bad, &s, NOW).unwrap_err();
        assert!(
            e.contains("vrrp summary, vrrp interface NAME"),
            "{bad:?}: {e}"
        );
        assert!(
            e.contains("interfaces") && e.contains("metrics"),
            "{bad:?}: {e}"
        );
        assert!(!e.chars().any(|c| c.is_control()), "{bad:?}: {e:?}");
    }
}

#[test]
fn empty_views_say_so() {
    let s = snap(vec![], vec![]);
    assert_eq!(
        answer("vrrp detail", &s, NOW).unwrap(),
        "No VRRP groups configured.\n"
    );
    assert_eq!(
        answer("vrrp statistics", &s, NOW).unwrap(),
        "No VRRP groups configured.\n"
    );
    assert_eq!(
        answer("interfaces", &s, NOW).unwrap(),
        "No interfaces configured.\n"
    );
    assert_eq!(
        answer("vrrp detail --json", &s, NOW).unwrap(),
        "{\n  \"groups\": []\n}\n"
    );
    assert_eq!(
        answer("interfaces --json", &s, NOW).unwrap(),
        "{\n  \"interfaces\": []\n}\n"
    );
    // Metrics still declare every family, with no samples (but build_info).
    let m = answer_at("metrics", &s, NOW, 1_800_000_000).unwrap();
    assert_eq!(m.lines().filter(|l| l.starts_with("# TYPE ")).count(), 28);
    assert_eq!(
        answer("tracks", &s, NOW).unwrap(),
        "No health tracks configured.\n"
    );
    assert!(
        m.lines()
            .all(|l| l.starts_with('#') || l.starts_with("hagw_build_info{")),
        "{m}"
    );
}

#[test]
fn durations() {
    let f = |s| format_duration(Duration::from_secs(s));
    assert_eq!(f(0), "0s");
    assert_eq!(f(3), "3s");
    assert_eq!(f(59), "59s");
    assert_eq!(f(60), "1m00s");
    assert_eq!(f(65), "1m05s");
    assert_eq!(f(3599), "59m59s");
    assert_eq!(f(3600), "1h00m00s");
    assert_eq!(f(3607), "1h00m07s");
    assert_eq!(f(2 * 3600 + 11 * 60 + 27), "2h11m27s");
    assert_eq!(f(86_399), "23h59m59s");
    assert_eq!(f(86_400 + 4 * 3600 + 5 * 60 + 6), "1d04h05m06s");
    assert_eq!(format_duration(Duration::from_millis(2999)), "2s");
    assert!(format_duration(Duration::MAX).starts_with("213503982334601d"));
}

#[test]
fn centiseconds() {
    assert_eq!(format_centis(100), "1");
    assert_eq!(format_centis(25500), "255");
    assert_eq!(format_centis(10), "0.1");
    assert_eq!(format_centis(1), "0.01");
    assert_eq!(format_centis(150), "1.5");
    assert_eq!(format_centis(4095), "40.95");
    assert_eq!(format_centis(0), "0");
}

#[test]
fn interfaces_text_lists_nonzero_drop_reasons() {
    let mut wan = port("wan", "eth1", Role::Wan);
    wan.up = false;
    wan.drops = vec![("vrrp_ttl", 0)];
    let s = snap(vec![], vec![port("lan", "lan0", Role::Lan), wan]);
    let expected = "\
Interface lan (device lan0, role lan): up
  MAC 02:00:5e:10:0a:ff, address 172.16.42.2/24
  rx: 1200 frames, 98765 bytes; tx: 34 frames, 2176 bytes
  drops: 7 (vrrp_ttl 3, no_route 4)

Interface wan (device eth1, role wan): down
  MAC 02:00:5e:10:0a:ff, address 172.16.42.2/24
  rx: 1200 frames, 98765 bytes; tx: 34 frames, 2176 bytes
  drops: 0
";
    assert_eq!(answer("interfaces", &s, NOW).unwrap(), expected);
}

#[test]
fn summary_json() {
    let mut g = spec_summary_group();
    g.name = "quote\"name".into();
    let s = snap(vec![g], vec![]);
    let text = answer("vrrp summary --json", &s, NOW).unwrap();
    assert!(text.ends_with("}\n"));
    let v = parse(&text).unwrap();
    let expected = Json::object().field(
        "groups",
        vec![
            Json::object()
                .field("name", "quote\"name")
                .field("interface", "lan")
                .field("vrid", 42u8)
                .field("interface_up", true)
                .field("address_owner", false)
                .field("state", "backup")
                .field(
                    "vips",
                    vec![
                        Json::object()
                            .field("address", "192.168.42.50")
                            .field("prefix_len", 24u8),
                    ],
                ),
        ],
    );
    assert_eq!(v, expected);
    // --json may come first too.
    assert_eq!(answer("--json vrrp summary", &s, NOW).unwrap(), text);
}

#[test]
fn interface_json_has_numbers_seconds_and_every_drop_reason() {
    let mut g = spec_interface_group();
    g.version = 3;
    g.advert_interval_cs = 10;
    g.master_advert_interval_cs = 150;
    g.last_transition = Some(Duration::from_millis(7_887_250));
    let s = snap(vec![g], vec![]);
    let v = parse(&answer("vrrp interface lan --json", &s, NOW).unwrap()).unwrap();
    let Some(Json::Array(groups)) = v.get("groups") else {
        panic!("no groups: {v:?}")
    };
    assert_eq!(groups.len(), 1);
    let g = &groups[0];
    assert_eq!(g.get("vrid"), Some(&Json::UInt(42)));
    assert_eq!(g.get("version"), Some(&Json::UInt(3)));
    assert_eq!(g.get("state"), Some(&Json::Str("master".into())));
    assert_eq!(g.get("priority"), Some(&Json::UInt(1)));
    assert_eq!(g.get("advert_interval_seconds"), Some(&Json::Float(0.1)));
    assert_eq!(
        g.get("master_advert_interval_seconds"),
        Some(&Json::Float(1.5))
    );
    assert_eq!(
        g.get("last_transition_seconds"),
        Some(&Json::Float(7887.25))
    );
    assert_eq!(
        g.get("master_router"),
        Some(&Json::Str("172.16.42.2".into()))
    );
    assert_eq!(g.get("sync_group"), Some(&Json::Null));
    assert_eq!(g.get("preempt"), Some(&Json::Bool(false)));
    let counters = g.get("counters").unwrap();
    assert_eq!(counters.get("adverts_tx"), Some(&Json::UInt(7887)));
    let drops = counters.get("drops").unwrap();
    let Json::Object(reasons) = drops else {
        panic!()
    };
    let names: Vec<&str> = reasons.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "ttl",
            "checksum",
            "version",
            "length",
            "address_list",
            "auth",
            "replay",
            "interval",
            "owner_conflict"
        ]
    );
    assert_eq!(drops.get("ttl"), Some(&Json::UInt(2)));
    assert_eq!(drops.get("auth"), Some(&Json::UInt(5)));
    assert_eq!(drops.get("checksum"), Some(&Json::UInt(0)));
    // Whole-group detail view is the same document shape.
    let all = parse(&answer("vrrp detail --json", &s, NOW).unwrap()).unwrap();
    assert_eq!(all, v);
    // A v2 1 s interval is the number 1, not a string.
    let s2 = snap(vec![spec_interface_group()], vec![]);
    let v2 = parse(&answer("vrrp detail --json", &s2, NOW).unwrap()).unwrap();
    let Some(Json::Array(g2)) = v2.get("groups") else {
        panic!()
    };
    // (Rust writes 1.0 as `1`, which reads back as an integer.)
    assert_eq!(g2[0].get("advert_interval_seconds"), Some(&Json::UInt(1)));
    assert_eq!(
        g2[0].get("last_transition_seconds"),
        Some(&Json::UInt(7887))
    );
}

#[test]
fn interfaces_json_lists_every_drop_reason() {
    let s = snap(vec![], vec![port("lan", "lan0", Role::Lan)]);
    let v = parse(&answer("interfaces --json", &s, NOW).unwrap()).unwrap();
    let Some(Json::Array(ports)) = v.get("interfaces") else {
        panic!()
    };
    let p = &ports[0];
    assert_eq!(p.get("name"), Some(&Json::Str("lan".into())));
    assert_eq!(p.get("device"), Some(&Json::Str("lan0".into())));
    assert_eq!(p.get("role"), Some(&Json::Str("lan".into())));
    assert_eq!(p.get("up"), Some(&Json::Bool(true)));
    assert_eq!(p.get("mac"), Some(&Json::Str("02:00:5e:10:0a:ff".into())));
    assert_eq!(
        p.get("address"),
        Some(
            &Json::object()
                .field("address", "172.16.42.2")
                .field("prefix_len", 24u8)
        )
    );
    assert_eq!(p.get("rx_frames"), Some(&Json::UInt(1200)));
    assert_eq!(p.get("rx_bytes"), Some(&Json::UInt(98_765)));
    assert_eq!(p.get("tx_frames"), Some(&Json::UInt(34)));
    assert_eq!(p.get("tx_bytes"), Some(&Json::UInt(2_176)));
    assert_eq!(p.get("drops_total"), Some(&Json::UInt(7)));
    assert_eq!(
        p.get("drops"),
        Some(
            &Json::object()
                .field("vrrp_ttl", 3u64)
                .field("vrrp_checksum", 0u64)
                .field("no_route", 4u64)
        )
    );
}

#[test]
fn metrics_text_format() {
    let mut g = spec_interface_group();
    g.name = "we\"ird\\name\n".into();
    let s = snap(
        vec![spec_interface_group(), g],
        vec![port("lan", "lan0", Role::Lan)],
    );
    let text = answer_at("metrics", &s, NOW, 1_800_000_000).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "# HELP hagw_build_info Always 1; the labels say which hagw this is.",
            "# TYPE hagw_build_info gauge",
            &format!(
                "hagw_build_info{{version=\"{}\",target=\"{}\"}} 1",
                env!("CARGO_PKG_VERSION"),
                env!("HAGW_TARGET")
            ),
        ]
    );
    // Without a wall clock there is no timestamp family.
    assert!(!answer("metrics", &s, NOW).unwrap().contains("timestamp"));
    // Exact lines for the state family.
    let i = lines
        .iter()
        .position(|l| l.starts_with("# HELP hagw_vrrp_state "))
        .unwrap();
    assert_eq!(
        lines[i..i + 4],
        [
            "# HELP hagw_vrrp_state VRRP state of the group: 0 init, 1 backup, 2 master, 3 fault.",
            "# TYPE hagw_vrrp_state gauge",
            "hagw_vrrp_state{group=\"g42\",interface=\"lan\",vrid=\"42\"} 2",
            "hagw_vrrp_state{group=\"we\\\"ird\\\\name\\n\",interface=\"lan\",vrid=\"42\"} 2",
        ]
    );
    for want in [
        "hagw_vrrp_priority{group=\"g42\",interface=\"lan\",vrid=\"42\"} 1",
        "hagw_vrrp_adverts_received_total{group=\"g42\",interface=\"lan\",vrid=\"42\"} 3",
        "hagw_vrrp_adverts_sent_total{group=\"g42\",interface=\"lan\",vrid=\"42\"} 7887",
        "hagw_vrrp_adverts_dropped_total{group=\"g42\",interface=\"lan\",vrid=\"42\",reason=\"ttl\"} 2",
        "hagw_vrrp_adverts_dropped_total{group=\"g42\",interface=\"lan\",vrid=\"42\",reason=\"auth\"} 5",
        "hagw_vrrp_adverts_dropped_total{group=\"g42\",interface=\"lan\",vrid=\"42\",reason=\"interval\"} 0",
        // 7887.25 s ago, at 1_800_000_000: a time, not an age.
        "hagw_vrrp_last_transition_timestamp_seconds{group=\"g42\",interface=\"lan\",vrid=\"42\"} 1799992113",
        "# TYPE hagw_vrrp_adverts_dropped_total counter",
        "hagw_interface_up{interface=\"lan\",device=\"lan0\",role=\"lan\"} 1",
        "hagw_interface_rx_bytes_total{interface=\"lan\",device=\"lan0\",role=\"lan\"} 98765",
        "hagw_interface_drops_total{interface=\"lan\",device=\"lan0\",role=\"lan\",reason=\"vrrp_checksum\"} 0",
        "hagw_interface_drops_total{interface=\"lan\",device=\"lan0\",role=\"lan\",reason=\"no_route\"} 4",
    ] {
        assert!(lines.contains(&want), "missing {want}\n{text}");
    }
    // Structure: every sample follows its own HELP and TYPE, each family
    // is declared once, and every sample line is `name{labels} integer`.
    let mut declared: Vec<&str> = Vec::new();
    let mut current = "";
    for l in &lines {
        if let Some(rest) = l.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(!declared.contains(&name), "{name} declared twice");
            declared.push(name);
            current = name;
        } else if let Some(rest) = l.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert_eq!(name, current);
            assert!(kind == "gauge" || kind == "counter");
            assert_eq!(kind == "counter", name.ends_with("_total"), "{name}");
        } else {
            let (series, value) = l.rsplit_once(' ').unwrap();
            assert!(
                series.starts_with(current) && series[current.len()..].starts_with('{'),
                "{l}"
            );
            assert!(series.ends_with('}'), "{l}");
            value.parse::<u64>().unwrap();
        }
    }
    assert!(text.ends_with('\n'));
}

#[test]
fn metrics_json_mirrors_text() {
    let s = snap(
        vec![spec_interface_group()],
        vec![port("lan", "lan0", Role::Lan)],
    );
    let v = parse(&answer("metrics --json", &s, NOW).unwrap()).unwrap();
    let Some(Json::Array(metrics)) = v.get("metrics") else {
        panic!()
    };
    let state = metrics
        .iter()
        .find(|m| m.get("name") == Some(&Json::Str("hagw_vrrp_state".into())))
        .unwrap();
    assert_eq!(state.get("type"), Some(&Json::Str("gauge".into())));
    assert_eq!(
        state.get("samples"),
        Some(&Json::Array(vec![
            Json::object()
                .field(
                    "labels",
                    Json::object()
                        .field("group", "g42")
                        .field("interface", "lan")
                        .field("vrid", "42")
                )
                .field("value", 2u64)
        ]))
    );
    let text = answer("metrics", &s, NOW).unwrap();
    let samples_in_text = text.lines().filter(|l| !l.starts_with('#')).count();
    let samples_in_json: usize = metrics
        .iter()
        .map(|m| match m.get("samples") {
            Some(Json::Array(a)) => a.len(),
            _ => panic!(),
        })
        .sum();
    assert_eq!(samples_in_text, samples_in_json);
}

#[test]
fn state_numbers_are_distinct() {
    let all = [
        VrrpState::Init,
        VrrpState::Backup,
        VrrpState::Master,
        VrrpState::Fault,
    ];
    let nums: Vec<u64> = all.iter().map(|s| state_number(*s)).collect();
    assert_eq!(nums, [0, 1, 2, 3]);
}
