//! A hand-built snapshot with a running dataplane and conntrack sync, for
//! the view tests (test-only). The sync numbers are the SPEC §5
//! `show conntrack-sync statistics` example's.

use crate::config::{Direction, FirewallAction, Ipv4Cidr, Role};
use crate::conntrack::frag::FragStats;
use crate::conntrack::{Stats, Tuple};
use crate::engine::{
    ConntrackStatus, DataplaneStatus, ExportStats, FailoverStats, PortStatus, SessionStatus,
    Snapshot, SyncStatus,
};
use crate::firewall::{Counters, FirewallSnapshot, RuleSnapshot, RulesetSnapshot};
use crate::nat::{NatKind, NatRuleSnapshot, NatSnapshot, PortShare, RuleCounters};
use crate::route::{NeighCounters, NeighState, NeighStatus, RouteKind, RouteStatus};
use crate::sync::{Endpoint, NatMapping, PeerStatus, ResyncStatus, SessionRecord, SyncStats};
use crate::time::{Duration, Instant};
use crate::vrrp::VrrpState;
use crate::wire::EthernetAddress;
use std::net::Ipv4Addr;

pub const NOW: Instant = Instant::from_secs(10_000);

pub fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn cidr(s: &str, len: u8) -> Ipv4Cidr {
    Ipv4Cidr {
        addr: ip(s),
        prefix_len: len,
    }
}

fn port(name: &str, role: Role) -> PortStatus {
    PortStatus {
        name: name.into(),
        device: format!("{name}0"),
        role,
        mac: [2, 0, 0, 0, 0, 1],
        address: cidr("192.168.10.1", 24),
        up: true,
        rx_frames: 0,
        rx_bytes: 0,
        tx_frames: 0,
        tx_bytes: 0,
        drops: vec![],
        device_state: Default::default(),
        host_tap: None,
    }
}

fn sessions() -> Vec<SessionStatus> {
    vec![
        SessionStatus {
            id: (1 << 48) | 1,
            orig: Tuple::new(6, ip("192.168.10.20"), 40000, ip("93.184.216.34"), 443),
            reply: Tuple::new(6, ip("93.184.216.34"), 443, ip("203.0.113.5"), 40000),
            snat: true,
            dnat: false,
            state: "ESTABLISHED",
            remaining: Duration::from_millis(7_199_500),
            packets: [12, 10],
            bytes: [1500, 9000],
            from_sync: false,
            reported: true,
        },
        SessionStatus {
            id: (2 << 48) | 1,
            orig: Tuple::new(17, ip("192.168.10.21"), 5353, ip("9.9.9.9"), 53),
            reply: Tuple::new(17, ip("9.9.9.9"), 53, ip("203.0.113.5"), 61000),
            snat: true,
            dnat: false,
            state: "UNREPLIED",
            remaining: Duration::from_secs(25),
            packets: [1, 0],
            bytes: [80, 0],
            from_sync: true,
            reported: false,
        },
        SessionStatus {
            id: i64::MAX as u64,
            orig: Tuple::new(1, ip("203.0.113.9"), 77, ip("203.0.113.5"), 77),
            reply: Tuple::new(1, ip("192.168.10.30"), 77, ip("203.0.113.9"), 77),
            snat: false,
            dnat: true,
            state: "REPLIED",
            remaining: Duration::from_secs(30),
            packets: [2, 2],
            bytes: [168, 168],
            from_sync: false,
            reported: true,
        },
    ]
}

fn dataplane() -> DataplaneStatus {
    DataplaneStatus {
        sessions: sessions(),
        conntrack: ConntrackStatus {
            entries: 3,
            capacity: 1024,
            bytes_per_entry: 112,
            stats: Stats {
                inserted: 70,
                synced: 5,
                expired: 60,
                removed: 7,
                evicted: 2,
                tcp_ignored: 3,
                drop_full: 11,
                drop_not_new: 4,
                sync_conflict: 1,
                invalid_tcp_state: 6,
                ..Stats::default()
            },
            frag_entries: 1,
            frag_capacity: 64,
            frag: FragStats {
                recorded: 4,
                followed: 9,
                evicted: 0,
            },
        },
        nat: NatSnapshot {
            share: PortShare::Half { upper: false },
            probes: 300,
            exhausted: 2,
            rules: vec![
                NatRuleSnapshot {
                    kind: NatKind::Source,
                    rule: 10,
                    description: Some("lan out".into()),
                    interface: "wan".into(),
                    matches: "src 192.168.10.0/24".into(),
                    translation: "203.0.113.5 ports 1024-65535".into(),
                    counters: RuleCounters {
                        sessions: 120,
                        hairpin_sessions: 0,
                        exhausted: 2,
                    },
                },
                NatRuleSnapshot {
                    kind: NatKind::Destination,
                    rule: 20,
                    description: None,
                    interface: "wan".into(),
                    matches: "tcp dport 2222".into(),
                    translation: "192.168.10.100 port 22".into(),
                    counters: RuleCounters {
                        sessions: 7,
                        hairpin_sessions: 3,
                        exhausted: 0,
                    },
                },
            ],
        },
        firewall: FirewallSnapshot {
            rulesets: vec![
                RulesetSnapshot {
                    name: "wan_in".into(),
                    attached: vec![
                        ("wan".into(), Direction::In),
                        ("wan".into(), Direction::Local),
                    ],
                    rules: vec![
                        RuleSnapshot {
                            number: 1,
                            description: Some("replies".into()),
                            matches: "state established,related".into(),
                            action: FirewallAction::Accept,
                            counters: Counters {
                                packets: 900,
                                bytes: 812_000,
                            },
                        },
                        RuleSnapshot {
                            number: 2,
                            description: None,
                            matches: "tcp dport 22 state new".into(),
                            action: FirewallAction::Reject,
                            counters: Counters {
                                packets: 3,
                                bytes: 180,
                            },
                        },
                    ],
                    default_action: FirewallAction::Drop,
                    default: Counters {
                        packets: 41,
                        bytes: 2460,
                    },
                },
                RulesetSnapshot {
                    name: "lan_out".into(),
                    attached: vec![],
                    rules: vec![],
                    default_action: FirewallAction::Accept,
                    default: Counters::default(),
                },
            ],
        },
        routes: vec![
            RouteStatus {
                prefix: cidr("192.168.10.0", 24),
                gateway: None,
                port: 0,
                interface: "lan".into(),
                kind: RouteKind::Connected,
            },
            RouteStatus {
                prefix: cidr("203.0.113.0", 24),
                gateway: None,
                port: 1,
                interface: "wan".into(),
                kind: RouteKind::Connected,
            },
            RouteStatus {
                prefix: cidr("0.0.0.0", 0),
                gateway: Some(ip("203.0.113.1")),
                port: 1,
                interface: "wan".into(),
                kind: RouteKind::Static,
            },
            RouteStatus {
                prefix: cidr("10.9.0.0", 16),
                gateway: Some(ip("192.168.10.9")),
                port: 0,
                interface: "lan".into(),
                kind: RouteKind::Static,
            },
        ],
        neighbours: vec![
            NeighStatus {
                port: 1,
                ip: ip("203.0.113.1"),
                mac: Some(EthernetAddress([2, 0, 0, 0, 1, 1])),
                state: NeighState::Reachable,
                age: Duration::from_secs(12),
                queued: 0,
            },
            NeighStatus {
                port: 0,
                ip: ip("192.168.10.77"),
                mac: None,
                state: NeighState::Incomplete,
                age: Duration::from_secs(1),
                queued: 2,
            },
        ],
        neigh_counters: NeighCounters {
            requests_sent: 5,
            replies_learned: 4,
            queued: 2,
            ..NeighCounters::default()
        },
        icmp_sent: 6,
        icmp_limited: 1,
    }
}

/// The SPEC §5 statistics example's numbers.
pub fn sync_status() -> SyncStatus {
    let mut vrrp = heapless::Vec::new();
    let _ = vrrp.push((42, VrrpState::Master));
    let _ = vrrp.push((43, VrrpState::Backup));
    SyncStatus {
        node: 1,
        device: "sync".into(),
        peer: None,
        exported: ExportStats {
            created: 768,
            updated: 461,
            destroyed: 761,
        },
        boot: 0x5eed_0001,
        authenticated: true,
        master: false,
        preempt_held: true,
        resync: ResyncStatus::Receiving {
            since: Instant::from_secs(9_997),
            sessions: 1200,
        },
        resync_timeout: Duration::from_secs(30),
        peers: vec![PeerStatus {
            node: 2,
            up: true,
            boot: Some(7),
            last_heard: Instant::from_secs(9_999),
            vrrp,
        }],
        stats: SyncStats {
            ext_current: 5,
            ext_created: 51,
            ext_updated: 1,
            ext_destroyed: 46,
            bytes_sent: 108_732,
            bytes_recv: 58_740,
            pkts_sent: 2454,
            pkts_recv: 1886,
            lost: 0,
            resent: 3,
            nack_sent: 1,
            msgs_sent: 4000,
            msgs_recv: 900,
            ..SyncStats::default()
        },
        failover: FailoverStats {
            promotions: 2,
            demotions: 1,
            committed: 51,
            commit_failed: 1,
            last_commit: Some((Instant::from_secs(10_000 - 3723), 50, 1)),
            split_brain: 1,
        },
        internal: 7,
        pending: 0,
        external: 5,
        external_capacity: 1024,
        external_sessions: vec![
            SessionRecord {
                id: (2 << 48) | 9,
                orig: Tuple::new(17, ip("192.168.11.31"), 47284, ip("216.134.160.13"), 53),
                nat: NatMapping::Snat(Endpoint::new(ip("203.0.113.6"), 47284)),
                state: 1,
                flags: 1,
                timeout_secs: 28,
            },
            SessionRecord {
                id: u64::MAX,
                orig: Tuple::new(6, ip("192.168.11.32"), 50000, ip("198.51.100.7"), 22),
                nat: NatMapping::None,
                state: 3,
                flags: 3,
                timeout_secs: 431_999,
            },
        ],
    }
}

pub fn snapshot() -> Snapshot {
    Snapshot {
        reload_kept: None,
        groups: vec![],
        ports: vec![port("lan", Role::Lan), port("wan", Role::Wan)],
        dataplane: Some(dataplane()),
        sync: Some(sync_status()),
        bfd: None,
        tracks: Vec::new(),
    }
}
