//! The dataplane and conntrack-sync views rendered from real engines: two
//! gateways of tests/sim (SPEC §6 config, conntrack sync on) carry a TCP
//! connection and a UDP flow through R0, then R0 dies and R1 takes over.
//! Each view is read the way an operator reads it, and its numbers are
//! checked against what the traffic was: the sessions, their NAT mapping,
//! both caches, the failover commit, firewall bytes equal to conntrack's.

mod sim;

use hagw::cli::show::{answer, needs_sessions};
use hagw::time::Duration;
use sim::config::synced_gateway_config;
use sim::packet::{TCP_ACK, TCP_PSH, TCP_SYN, parse, tcp, udp};
use sim::{GatewayPair, Sim};
use std::net::Ipv4Addr;

const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 10, 100);
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
const WAN_VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

/// `show REQUEST` on router `r`, with the sessions when the daemon would
/// include them.
fn show(sim: &Sim, r: usize, request: &str) -> String {
    let engine = sim.routers[r].engine.as_ref().expect("router alive");
    let snap = engine.snapshot_with(sim.now, needs_sessions(request));
    answer(request, &snap, sim.now).unwrap()
}

fn send(sim: &mut Sim, host: usize, ip: &[u8]) {
    sim.host_send(host, ip);
    sim.run_for(Duration::from_millis(20));
}

/// The value of a `name{labels} value` line of the metrics text.
fn metric(text: &str, prefix: &str) -> u64 {
    let line = text
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} in\n{text}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[test]
fn views_follow_traffic_and_a_failover() {
    let pair = GatewayPair::new(3, false, synced_gateway_config);
    let (mut sim, client, server) = (pair.sim, pair.client, pair.server);

    // TCP: handshake, a request and its answer; UDP: a query and its answer.
    send(
        &mut sim,
        client,
        &tcp(CLIENT, 40000, SERVER, 80, TCP_SYN, 1000, 0, b""),
    );
    let syn = parse(&sim.hosts[server].received.last().unwrap().1).unwrap();
    let port = syn.sport;
    let ack = TCP_ACK;
    send(
        &mut sim,
        server,
        &tcp(SERVER, 80, WAN_VIP, port, TCP_SYN | ack, 9000, 1001, b""),
    );
    send(
        &mut sim,
        client,
        &tcp(CLIENT, 40000, SERVER, 80, ack, 1001, 9001, b""),
    );
    let psh = ack | TCP_PSH;
    send(
        &mut sim,
        client,
        &tcp(CLIENT, 40000, SERVER, 80, psh, 1001, 9001, b"GET /"),
    );
    send(
        &mut sim,
        server,
        &tcp(SERVER, 80, WAN_VIP, port, psh, 9001, 1006, b"200 OK"),
    );
    send(&mut sim, client, &udp(CLIENT, 5000, SERVER, 53, b"q"));
    let uport = parse(&sim.hosts[server].received.last().unwrap().1)
        .unwrap()
        .sport;
    send(&mut sim, server, &udp(SERVER, 53, WAN_VIP, uport, b"a"));
    sim.run_for(Duration::from_millis(200));

    // R0's live sessions: the mapping the server saw, both directions counted.
    let ct = show(&sim, 0, "conntrack");
    let tcp_line = ct.lines().find(|l| l.contains("tcp [6]")).expect(&ct);
    assert!(
        tcp_line.contains("192.168.10.100:40000  10.0.0.100:80"),
        "{ct}"
    );
    assert!(tcp_line.contains(&format!("src 10.0.0.1:{port}")), "{ct}");
    assert!(tcp_line.contains("ESTABLISHED"), "{ct}");
    // Packets: SYN, ACK, GET one way; SYN-ACK, 200 OK the other.
    assert!(tcp_line.contains(" 3/2 "), "{ct}");
    assert!(
        ct.ends_with("\n2 sessions (0 from sync), 2 of 1024 entries in use\n"),
        "{ct}"
    );
    let doc = show(&sim, 0, "conntrack --json");
    assert!(
        doc.contains("\n    {\"id\":\"28147"),
        "ids are strings: {doc}"
    );

    // The firewall counts IP bytes, as conntrack does: wan_in's
    // established rule saw exactly the reply direction's bytes.
    // Session rows end `… Packets Bytes Synced`, bytes as `orig/reply`.
    let reply_bytes: u64 = ct
        .lines()
        .filter(|l| l.contains(" [6] ") || l.contains(" [17] "))
        .map(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            let bytes = cells[cells.len() - 2];
            bytes.split('/').nth(1).unwrap().parse::<u64>().unwrap()
        })
        .sum();
    // SYN-ACK (48 with MSS, wscale and padding), 200 OK (46), the UDP answer (29).
    assert_eq!(reply_bytes, 48 + 46 + 29, "{ct}");
    let fw = show(&sim, 0, "firewall");
    let est = fw
        .lines()
        .find(|l| l.starts_with("1 ") && l.contains("accept"))
        .expect(&fw);
    let cells: Vec<&str> = est.split_whitespace().collect();
    assert_eq!(cells[cells.len() - 2..], ["3", "123"], "{fw}");

    // Caches: R0 exported both sessions, R1 holds them with R0's tuples.
    let stats0 = show(&sim, 0, "conntrack-sync statistics");
    assert!(stats0.starts_with("cache internal:\ncurrent active connections:        2\nconnections created:               2    failed:     0\n"), "{stats0}");
    assert!(
        stats0.contains("\nmulticast traffic (active device=sync0):\n"),
        "{stats0}"
    );
    let stats1 = show(&sim, 1, "conntrack-sync statistics");
    assert!(stats1.contains("cache external:\ncurrent active connections:        2\nconnections created:               2    failed:     0\n"), "{stats1}");
    let ext = show(&sim, 1, "conntrack-sync external-cache");
    assert!(ext.contains("\n|192.168.10.100|:40000               |10.0.0.100|:80                          tcp [6]\n"), "{ext}");
    assert!(ext.contains("\n|192.168.10.100|:5000                |10.0.0.100|:53                          udp [17]\n"), "{ext}");
    assert_eq!(
        show(&sim, 0, "conntrack-sync internal-cache")
            .lines()
            .count(),
        3
    );
    let ext_json = show(&sim, 1, "conntrack-sync external-cache --json");
    let mapping = format!("\"snat\":{{\"address\":\"10.0.0.1\",\"port\":{port}}},");
    assert!(
        ext_json.contains(&mapping),
        "R1 knows R0's NAT mapping: {ext_json}"
    );
    let status1 = show(&sim, 1, "conntrack-sync status");
    assert!(status1.starts_with("Node 2 (boot "), "{status1}");
    assert!(
        status1.contains("\nMaster: no, preemption held: no\nResync: done: "),
        "{status1}"
    );
    assert!(
        status1.contains("\n1     yes  0x"),
        "peer R0 is up: {status1}"
    );

    // R0 dies; R1 commits the external cache and says so.
    sim.kill(0);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.masters("lan_gw"), vec![1]);
    let status1 = show(&sim, 1, "conntrack-sync status");
    assert!(status1.contains("\nMaster: yes, "), "{status1}");
    let failover = status1
        .lines()
        .find(|l| l.starts_with("Failover: "))
        .unwrap();
    assert!(
        failover.starts_with(
            "Failover: 1 promotions, 0 demotions, 2 sessions committed (0 failed), last commit "
        ) && failover.ends_with(" ago: 2 sessions, 0 failed"),
        "{status1}"
    );
    let ct1 = show(&sim, 1, "conntrack");
    assert!(ct1.contains("2 sessions (2 from sync)"), "{ct1}");
    let m = show(&sim, 1, "metrics");
    assert_eq!(metric(&m, "hagw_sync_committed_total "), 2);
    assert_eq!(metric(&m, "hagw_sync_promotions_total "), 1);
    assert_eq!(metric(&m, "hagw_sync_master "), 1);
    assert_eq!(metric(&m, "hagw_sync_external_entries "), 0);
    assert_eq!(metric(&m, "hagw_conntrack_entries "), 2);
    assert_eq!(
        metric(&m, "hagw_conntrack_events_total{event=\"synced\"}"),
        2
    );
    assert_eq!(metric(&m, "hagw_sync_peer_up{node=\"1\"}"), 0);
    assert_eq!(
        metric(&m, "hagw_sync_external_events_total{event=\"created\"}"),
        2
    );
}
