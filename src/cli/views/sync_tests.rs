//! Tests of the conntrack-sync views against the SPEC §5 blocks.

use super::super::super::json::{Json, check::parse};
use super::super::fixtures::{NOW, snapshot};
use crate::cli::show::{answer, needs_sessions};

/// The SPEC §5 block, with the traffic-processed line holding the sync
/// link's traffic both ways (108732 + 58740 bytes, 2454 + 1886 packets:
/// hagw has no per-flow accounting of ended sessions to report there).
const SPEC_STATISTICS: &str = "\
cache internal:
current active connections:        7
connections created:             768    failed:     0
connections updated:             461    failed:     0
connections destroyed:           761    failed:     0

cache external:
current active connections:        5
connections created:              51    failed:     0
connections updated:               1    failed:     0
connections destroyed:            46    failed:     0

traffic processed:
167472 Bytes     4340 Pckts

multicast traffic (active device=sync):
108732 Bytes sent    58740 Bytes recv
2454 Pckts sent      1886 Pckts recv
0 Error send         0 Error recv

message tracking:
0 Malformed msgs     0 Lost msgs
";

#[test]
fn statistics_is_the_spec_block_then_our_counters() {
    let s = snapshot();
    let got = answer("conntrack-sync statistics", &s, NOW).unwrap();
    let extra = "
external cache: 0 expired, 0 swept, 0 replaced, 0 stale, 0 pending export, 0 send queue full
frames refused: 0 bad version, 0 bad crc, 0 auth failures, 0 replays, 0 duplicates
frames ignored: 0 looped, 0 unconfirmed, 0 unknown peer, 0 unknown msgs, 0 unrecovered
recovery: 1 nack sent, 0 nack recv, 3 resent, 0 resync requests sent, 0 resync requests recv
messages: 4000 sent, 900 recv; bulk resyncs: 0 sent (0 sessions), 0 recv
";
    assert_eq!(got, format!("{SPEC_STATISTICS}{extra}"));
}

#[test]
fn statistics_unicast_failures_and_wide_numbers() {
    let mut s = snapshot();
    let sy = s.sync.as_mut().unwrap();
    sy.peer = Some("10.99.0.2".parse().unwrap());
    sy.device = "eth2".into();
    sy.stats.ext_create_failed = 3;
    sy.stats.send_errors = 12_345_678_901;
    sy.stats.lost = 17;
    s.dataplane.as_mut().unwrap().conntrack.stats.changes_lost = 4;
    let got = answer("conntrack-sync statistics", &s, NOW).unwrap();
    assert!(
        got.contains("\nconnections destroyed:           761    failed:     4\n"),
        "{got}"
    );
    assert!(
        got.contains("\nconnections created:              51    failed:     3\n"),
        "{got}"
    );
    assert!(
        got.contains("\nunicast traffic (active device=eth2):\n"),
        "{got}"
    );
    // A long first column keeps a four-space gap.
    assert!(
        got.contains("\n12345678901 Error send    0 Error recv\n"),
        "{got}"
    );
    assert!(
        got.contains("\n0 Malformed msgs     17 Lost msgs\n"),
        "{got}"
    );
}

#[test]
fn statistics_json_fields() {
    let s = snapshot();
    let v = parse(&answer("conntrack-sync statistics --json", &s, NOW).unwrap()).unwrap();
    let ci = v.get("cache_internal").unwrap();
    assert_eq!(ci.get("current"), Some(&Json::UInt(7)));
    assert_eq!(ci.get("updated"), Some(&Json::UInt(461)));
    assert_eq!(
        v.get("cache_external").unwrap().get("destroyed"),
        Some(&Json::UInt(46))
    );
    let t = v.get("traffic").unwrap();
    assert_eq!(t.get("transport"), Some(&"multicast".into()));
    assert_eq!(t.get("device"), Some(&"sync".into()));
    assert_eq!(t.get("bytes_recv"), Some(&Json::UInt(58_740)));
    assert_eq!(
        v.get("message_tracking").unwrap().get("lost"),
        Some(&Json::UInt(0))
    );
    assert_eq!(v.get("extra").unwrap().get("resent"), Some(&Json::UInt(3)));
}

#[test]
fn caches_in_the_spec_layout() {
    let s = snapshot();
    // The SPEC's row, from the external cache; the header's Destination
    // column is one wider than the rows', as the SPEC prints it.
    let expected = "\
Source                               Destination                               Protocol
|192.168.11.31|:47284                |216.134.160.13|:53                      udp [17]
|192.168.11.32|:50000                |198.51.100.7|:22                        tcp [6]
";
    assert_eq!(
        answer("conntrack-sync external-cache", &s, NOW).unwrap(),
        expected
    );
    // Internal: the exported live sessions only (the synced UDP one is not).
    let expected = "\
Source                               Destination                               Protocol
|192.168.10.20|:40000                |93.184.216.34|:443                      tcp [6]
|203.0.113.9|                        |203.0.113.5|                            icmp [1]
";
    assert_eq!(
        answer("conntrack-sync internal-cache", &s, NOW).unwrap(),
        expected
    );
}

#[test]
fn cache_json_has_string_ids_nat_state_and_timeout() {
    let s = snapshot();
    let v = parse(&answer("conntrack-sync external-cache --json", &s, NOW).unwrap()).unwrap();
    let Some(Json::Array(list)) = v.get("sessions") else {
        panic!("{v:?}")
    };
    assert_eq!(list[0].get("id"), Some(&"562949953421321".into()));
    assert_eq!(list[1].get("id"), Some(&"18446744073709551615".into()));
    assert_eq!(
        list[0].get("snat").unwrap().get("address"),
        Some(&"203.0.113.6".into())
    );
    assert_eq!(list[0].get("state"), Some(&"REPLIED".into()));
    assert_eq!(list[1].get("state"), Some(&"ESTABLISHED".into()));
    assert_eq!(list[1].get("snat"), Some(&Json::Null));
    assert_eq!(list[1].get("timeout_seconds"), Some(&Json::UInt(431_999)));
    let v = parse(&answer("conntrack-sync internal-cache --json", &s, NOW).unwrap()).unwrap();
    let Some(Json::Array(list)) = v.get("sessions") else {
        panic!("{v:?}")
    };
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].get("protocol"), Some(&"icmp".into()));
    assert_eq!(list[1].get("source").unwrap().get("port"), None);
}

#[test]
fn status_shows_node_resync_failover_and_peers() {
    let s = snapshot();
    let expected = "\
Node 1 (boot 0x5eed0001), authentication on, multicast on device sync
Master: no, preemption held: yes
Resync: receiving, 1200 sessions so far (3s since the request) (timeout 30s)
Internal cache: 7 sessions exported, 0 pending; external cache: 5 of 1024
Failover: 2 promotions, 1 demotions, 51 sessions committed (1 failed), last commit 1h02m03s ago: 50 sessions, 1 failed
Split-brain episodes: 1
Peers:
Node  Up   Boot        Last heard  VRRP
----  ---  ----------  ----------  --------------------
2     yes  0x00000007  1s ago      42 master, 43 backup
";
    assert_eq!(answer("conntrack-sync status", &s, NOW).unwrap(), expected);
    let v = parse(&answer("conntrack-sync status --json", &s, NOW).unwrap()).unwrap();
    assert_eq!(v.get("node"), Some(&Json::UInt(1)));
    assert_eq!(v.get("preemption_held"), Some(&true.into()));
    let r = v.get("resync").unwrap();
    assert_eq!(r.get("state"), Some(&"receiving".into()));
    assert_eq!(r.get("sessions"), Some(&Json::UInt(1200)));
    let f = v.get("failover").unwrap();
    assert_eq!(f.get("split_brain"), Some(&Json::UInt(1)));
    assert_eq!(
        f.get("last_commit").unwrap().get("ago_seconds"),
        Some(&Json::UInt(3723))
    );
    let Some(Json::Array(peers)) = v.get("peers") else {
        panic!()
    };
    assert_eq!(peers[0].get("last_heard_seconds"), Some(&Json::UInt(1)));
}

#[test]
fn resync_states_in_words() {
    use crate::sync::ResyncStatus;
    use crate::time::{Duration, Instant};
    let mut s = snapshot();
    let line = |s: &crate::engine::Snapshot| {
        answer("conntrack-sync status", s, NOW)
            .unwrap()
            .lines()
            .nth(2)
            .unwrap()
            .to_string()
    };
    let set = |s: &mut crate::engine::Snapshot, r| s.sync.as_mut().unwrap().resync = r;
    set(&mut s, ResyncStatus::Idle);
    assert_eq!(line(&s), "Resync: idle (timeout 30s)");
    set(
        &mut s,
        ResyncStatus::Requested {
            since: Instant::from_secs(9_990),
        },
    );
    assert_eq!(line(&s), "Resync: requested 10s ago (timeout 30s)");
    set(
        &mut s,
        ResyncStatus::Done {
            at: Instant::from_secs(9_880),
            sessions: 9000,
            duration: Duration::from_millis(35),
        },
    );
    assert_eq!(
        line(&s),
        "Resync: done: 9000 sessions in 35 ms, 2m00s ago (timeout 30s)"
    );
    set(
        &mut s,
        ResyncStatus::TimedOut {
            at: Instant::from_secs(9_000),
        },
    );
    assert_eq!(
        line(&s),
        "Resync: timed out after 30s, 16m40s ago (timeout 30s)"
    );
}

#[test]
fn no_sync_or_no_engine_is_one_line() {
    let mut s = snapshot();
    s.sync = None;
    for v in ["status", "statistics", "internal-cache", "external-cache"] {
        let got = answer(&format!("conntrack-sync {v}"), &s, NOW).unwrap();
        assert_eq!(got, super::super::NO_SYNC, "{v}");
        assert_eq!(
            answer(&format!("conntrack-sync {v} --json"), &s, NOW).unwrap(),
            "{\n  \"sync\": null\n}\n"
        );
    }
    s.dataplane = None;
    for v in [
        "conntrack",
        "conntrack statistics",
        "nat rules",
        "firewall",
        "routes",
    ] {
        assert_eq!(
            answer(v, &s, NOW).unwrap(),
            super::super::NO_DATAPLANE,
            "{v}"
        );
        assert_eq!(
            answer(&format!("{v} --json"), &s, NOW).unwrap(),
            "{\n  \"dataplane\": null\n}\n"
        );
    }
    let mut s = snapshot();
    s.sync.as_mut().unwrap().external_sessions.clear();
    assert_eq!(
        answer("conntrack-sync external-cache", &s, NOW).unwrap(),
        "The cache is empty.\n"
    );
    assert!(answer("conntrack-sync bogus", &s, NOW).is_err());
}

#[test]
fn the_caches_and_conntrack_ask_for_sessions() {
    for (req, want) in [
        ("conntrack", true),
        ("conntrack --json", true),
        ("--json conntrack", true),
        ("conntrack statistics", false),
        ("conntrack-sync internal-cache", true),
        ("conntrack-sync external-cache --json", true),
        ("conntrack-sync statistics", false),
        ("conntrack-sync status", false),
        ("metrics", false),
    ] {
        assert_eq!(needs_sessions(req), want, "{req}");
    }
}
