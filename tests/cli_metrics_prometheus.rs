//! `show metrics` read by real implementations: the Prometheus reference
//! text parser (Debian's python3-prometheus-client) parses the text form,
//! Python's `json` parses `show metrics --json`, and the two must agree on
//! every family, type, help text, sample, label (escaping included) and
//! value. Also: `show vrrp --json` / `show interfaces --json` parse with
//! Python's `json` to what the snapshot holds. Skips (with a message) when
//! the Python module is missing. The dataplane and conntrack-sync families
//! are read from the snapshots of two simulated gateways (tests/sim).

mod common;
mod sim;

use common::{TempDir, tool_runs};
use hagw::cli::show::answer_at;

/// The wall clock the answers are rendered at (Unix seconds).
const WALL: u64 = 1_800_000_000;
use hagw::config::{Ipv4Cidr, Role};
use hagw::engine::{PortStatus, Snapshot};
use hagw::time::{Duration, Instant};
use hagw::vrrp::{GroupCounters, GroupStatus, VrrpState};
use std::net::Ipv4Addr;
use std::process::{Command, Output};

/// Debian's interpreter (the module is a Debian package; a pyenv python
/// earlier in PATH would not see it).
const PYTHON: &str = "/usr/bin/python3";

fn snapshot() -> Snapshot {
    let group = |name: &str, iface: &str, vrid: u8, state, rx: u64| GroupStatus {
        name: name.into(),
        interface: iface.into(),
        interface_up: true,
        vrid,
        version: 3,
        state,
        address_owner: false,
        priority: 100,
        configured_priority: 100,
        advert_interval_cs: 10,
        master_advert_interval_cs: 10,
        auth_type: "none",
        preempt: true,
        preempt_delay_secs: 0,
        vips: vec![Ipv4Cidr {
            addr: Ipv4Addr::new(10, 0, vrid, 1),
            prefix_len: 24,
        }],
        source_address: Ipv4Addr::new(10, 0, vrid, 2),
        master_router: None,
        master_priority: None,
        sync_group: Some("s\"1".into()),
        last_transition: Some(Duration::from_millis(12_345)),
        counters: GroupCounters {
            adverts_rx: rx,
            adverts_tx: 2,
            rx_checksum_error: 9,
            ..GroupCounters::default()
        },
    };
    Snapshot {
        reload_kept: None,
        dataplane: None,
        sync: None,
        bfd: None,
        tracks: vec![hagw::engine::TrackStatus {
            name: "up\"stream".into(),
            kind: "ping",
            interface: Some("wan".into()),
            target: Some("10.0.0.254".parse().unwrap()),
            up: false,
            weight: -150,
            interval_ms: 1000,
            rise: 2,
            fall: 3,
            groups: vec!["lan_gw".into()],
            successes: 7,
            failures: 3,
            transitions: 1,
            probe: hagw::track::ProbeCounters {
                sent: 10,
                replies: 7,
                timeouts: 3,
                ignored: 2,
                resolve_sent: 1,
            },
            running: false,
            skipped: 0,
            last_change: None,
        }],
        groups: vec![
            group(
                "lan_gw",
                "lan",
                42,
                VrrpState::Master,
                u64::from(u32::MAX) + 5,
            ),
            // Hostile characters in a name must survive label escaping.
            group("we\"ird\\name\nx", "wan", 7, VrrpState::Fault, 0),
        ],
        ports: vec![PortStatus {
            name: "lan".into(),
            device: "lan0".into(),
            role: Role::Lan,
            mac: [2, 0, 0, 0, 0, 1],
            address: Ipv4Cidr {
                addr: Ipv4Addr::new(10, 0, 42, 2),
                prefix_len: 24,
            },
            up: false,
            rx_frames: 1,
            rx_bytes: 2,
            tx_frames: 3,
            tx_bytes: 4,
            drops: vec![("vrrp_ttl", 5), ("no_route", 0)],
            device_state: Default::default(),
            host_tap: None,
        }],
    }
}

/// Write the answers to two `show` requests over `snapshot()` (at 100 s)
/// to files and run the Python `script` with the two paths as arguments.
fn python_over(script: &str, requests: [&str; 2]) -> Output {
    python_over_snap(script, &snapshot(), Instant::from_secs(100), requests)
}

fn python_over_snap(script: &str, snap: &Snapshot, now: Instant, requests: [&str; 2]) -> Output {
    let dir = TempDir::new("prom", "py");
    let mut cmd = Command::new(PYTHON);
    cmd.args(["-c", script]);
    for (i, request) in requests.iter().enumerate() {
        let path = dir.path(&format!("answer{i}"));
        std::fs::write(&path, answer_at(request, snap, now, WALL).unwrap()).unwrap();
        cmd.arg(path);
    }
    cmd.output().unwrap()
}

const CHECK: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
doc = json.load(open(sys.argv[2]))
fams = list(text_string_to_metric_families(text))
ours = doc["metrics"]
assert len(fams) == len(ours), (len(fams), len(ours))
n = 0
for f, o in zip(fams, ours):
    # The parser names a counter family without its _total suffix.
    want = o["name"][:-len("_total")] if o["type"] == "counter" else o["name"]
    assert f.name == want, (f.name, o["name"])
    assert f.type == o["type"], (f.name, f.type, o["type"])
    assert f.documentation == o["help"], (f.name, f.documentation)
    assert len(f.samples) == len(o["samples"]), f.name
    for s, os in zip(f.samples, o["samples"]):
        assert s.name == o["name"], (s.name, o["name"])
        assert s.labels == os["labels"], (s.labels, os["labels"])
        assert s.value == os["value"], (s.name, s.value, os["value"])
        n += 1
print("families", len(fams), "samples", n)
for f in fams:
    for s in f.samples:
        print(s.name, json.dumps(s.labels, sort_keys=True), int(s.value))
"#;

#[test]
fn prometheus_reference_parser_reads_our_metrics() {
    if !tool_runs(PYTHON, &["-c", "import prometheus_client.parser"]) {
        println!("skipped: python3-prometheus-client not installed ({PYTHON})");
        return;
    }
    let out = python_over(CHECK, ["metrics", "metrics --json"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "reference parser disagrees:\n{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    // build_info + 11 VRRP families + 8 port families + 8 track families;
    // 1 build_info sample, 2 groups × (10 single + 9 drop reasons) + 7 port
    // samples + 2 port drop reasons + 8 track samples.
    assert_eq!(
        stdout.lines().next(),
        Some("families 28 samples 56"),
        "{stdout}"
    );
    // What the reference parser read, spot-checked against the snapshot.
    let lines: Vec<&str> = stdout.lines().collect();
    for want in [
        r#"hagw_vrrp_state {"group": "lan_gw", "interface": "lan", "vrid": "42"} 2"#,
        r#"hagw_vrrp_state {"group": "we\"ird\\name\nx", "interface": "wan", "vrid": "7"} 3"#,
        r#"hagw_vrrp_adverts_received_total {"group": "lan_gw", "interface": "lan", "vrid": "42"} 4294967300"#,
        r#"hagw_vrrp_adverts_dropped_total {"group": "lan_gw", "interface": "lan", "reason": "checksum", "vrid": "42"} 9"#,
        r#"hagw_vrrp_last_transition_timestamp_seconds {"group": "lan_gw", "interface": "lan", "vrid": "42"} 1799999988"#,
        r#"hagw_interface_up {"device": "lan0", "interface": "lan", "role": "lan"} 0"#,
        r#"hagw_interface_drops_total {"device": "lan0", "interface": "lan", "reason": "vrrp_ttl", "role": "lan"} 5"#,
        r#"hagw_track_up {"track": "up\"stream", "type": "ping"} 0"#,
        r#"hagw_track_weight {"track": "up\"stream", "type": "ping"} 150"#,
        r#"hagw_track_ignored_total {"track": "up\"stream", "type": "ping"} 2"#,
    ] {
        assert!(lines.contains(&want), "missing {want}\n{stdout}");
    }
}

const CHECK_JSON: &str = r#"
import json, sys
v = json.load(open(sys.argv[1]))
g = v["groups"][1]
print(g["name"] == "we\"ird\\name\nx", g["state"], g["vrid"], g["advert_interval_seconds"],
      g["last_transition_seconds"], g["sync_group"], g["master_router"],
      g["counters"]["drops"]["checksum"], g["vips"][0]["address"])
p = json.load(open(sys.argv[2]))["interfaces"][0]
print(p["name"], p["up"], p["mac"], p["drops_total"], sorted(p["drops"].items()))
"#;

#[test]
fn python_json_reads_our_documents() {
    if !tool_runs(PYTHON, &["-c", "import json"]) {
        println!("skipped: {PYTHON} not installed");
        return;
    }
    let out = python_over(CHECK_JSON, ["vrrp detail --json", "interfaces --json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "True fault 7 0.1 12.345 s\"1 None 9 10.0.7.1\n\
         lan False 02:00:00:00:00:01 5 [('no_route', 0), ('vrrp_ttl', 5)]\n"
    );
}

/// Two gateways with conntrack sync (SPEC §6 config); a UDP flow through
/// R0; R0 dies and R1 commits it. Returns R1's snapshot and the time.
fn synced_gateway_snapshot() -> (Snapshot, Instant) {
    use sim::packet::udp;
    let pair = sim::GatewayPair::new(5, false, sim::config::synced_gateway_config);
    let (mut sim, client) = (pair.sim, pair.client);
    let client_ip = Ipv4Addr::new(192, 168, 10, 100);
    sim.host_send(
        client,
        &udp(client_ip, 5000, Ipv4Addr::new(10, 0, 0, 100), 53, b"q"),
    );
    sim.run_for(Duration::from_millis(300));
    sim.kill(0);
    sim.run_for(Duration::from_secs(5));
    let snap = sim.routers[1].engine.as_ref().unwrap().snapshot(sim.now);
    (snap, sim.now)
}

#[test]
fn prometheus_reference_parser_reads_the_dataplane_and_sync_families() {
    if !tool_runs(PYTHON, &["-c", "import prometheus_client.parser"]) {
        println!("skipped: python3-prometheus-client not installed ({PYTHON})");
        return;
    }
    let (snap, now) = synced_gateway_snapshot();
    assert!(snap.dataplane.is_some() && snap.sync.is_some());
    let out = python_over_snap(CHECK, &snap, now, ["metrics", "metrics --json"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "reference parser disagrees:\n{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    for want in [
        r#"hagw_conntrack_entries {} 1"#,
        r#"hagw_conntrack_capacity {} 1024"#,
        r#"hagw_conntrack_events_total {"event": "synced"} 1"#,
        r#"hagw_conntrack_drops_total {"reason": "drop_full"} 0"#,
        r#"hagw_nat_rule_sessions_total {"interface": "wan", "rule": "10", "type": "source"} 0"#,
        r#"hagw_firewall_rule_packets_total {"action": "drop", "rule": "default", "ruleset": "wan_in"} 0"#,
        r#"hagw_sync_committed_total {} 1"#,
        r#"hagw_sync_promotions_total {} 1"#,
        r#"hagw_sync_master {} 1"#,
        r#"hagw_sync_split_brain_total {} 0"#,
        r#"hagw_sync_external_events_total {"event": "created"} 1"#,
        r#"hagw_sync_peer_up {"node": "1"} 0"#,
        r#"hagw_sync_resync_state {} 3"#,
    ] {
        assert!(lines.contains(&want), "missing {want}\n{stdout}");
    }
    // Every counter family ends in _total; the new families hold no ages
    // (seconds since something) as gauges.
    let text = answer_at("metrics", &snap, now, WALL).unwrap();
    let mut new = 0;
    for l in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let f: Vec<&str> = l.split(' ').collect();
        assert_eq!(f[3] == "counter", f[2].ends_with("_total"), "{l}");
        if !f[2].starts_with("hagw_vrrp_") && !f[2].starts_with("hagw_interface_") {
            new += 1;
            assert!(!f[2].ends_with("_seconds"), "{l}");
        }
    }
    assert!(new > 40, "{text}");
}
