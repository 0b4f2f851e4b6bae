//! Stateful failover in the simulator (SPEC §4, §4a): two gateways
//! (tests/sim/config.rs `gateway_config`) share LAN, WAN and a sync link;
//! the client's connections through the master survive its death because
//! the backup committed the synced sessions, with the same NAT mapping.
//! Controls: without sync the same connection breaks; the sync converges
//! under 5% loss and a peer restart; a restarted higher-priority router
//! waits for its resync before it preempts, then carries the sessions back.

mod sim;

use hagw::engine::{Event, Snapshot};
use hagw::time::{Duration, Instant};
use sim::Sim;
use sim::config::{ConfigBuilder, gateway_config};
use sim::host::Host;
use sim::packet::{TCP_ACK, TCP_PSH, TCP_SYN, tcp, udp};
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 10, 100);
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
const WAN_VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

fn node(id: u16, prio: u8, sync: bool) -> ConfigBuilder {
    let c = gateway_config(id, prio, |_| {})
        .sync_link(&format!("172.16.0.{id}/24"))
        .with(|c| {
            c.conntrack.max_entries = 16_384;
            c.conntrack.external_max_entries = 16_384;
        });
    if sync {
        c.conntrack_sync(|cs| cs.sync_group = Some("gw".into()))
    } else {
        c
    }
}

struct Lab {
    sim: Sim,
    client: usize,
    server: usize,
    sync_seg: usize,
}

/// R0 (priority 200) and R1 (100); R0 is master and R1's first resync is
/// done when this returns.
fn lab(sync: bool, seed: u64) -> Lab {
    let p = sim::GatewayPair::new(seed, false, |id, prio| node(id, prio, sync).build());
    Lab {
        sim: p.sim,
        client: p.client,
        server: p.server,
        sync_seg: p.sync_seg.expect("a sync link"),
    }
}

impl Lab {
    fn snap(&self, r: usize, sessions: bool) -> Snapshot {
        self.sim.routers[r]
            .engine
            .as_ref()
            .expect("router alive")
            .snapshot_with(self.sim.now, sessions)
    }

    fn drops(&self, r: usize, reason: &str) -> u64 {
        self.snap(r, false)
            .ports
            .iter()
            .map(|p| p.drops.iter().find(|(n, _)| *n == reason).unwrap().1)
            .sum()
    }

    /// Client 40000 → server 80: handshake and one request (seq 1001..1006).
    /// Returns the source port the server saw.
    fn open_tcp(&mut self) -> u16 {
        let s0 = self.sim.mark(self.server);
        self.sim.send(
            self.client,
            &tcp(CLIENT, 40000, SERVER, 80, TCP_SYN, 1000, 0, b""),
        );
        let syn = self.sim.got(self.server, s0);
        assert_eq!(syn.len(), 1, "SYN forwarded");
        let port = syn[0].sport;
        assert_eq!(syn[0].src, WAN_VIP);
        self.sim.send(
            self.server,
            &tcp(
                SERVER,
                80,
                WAN_VIP,
                port,
                TCP_SYN | TCP_ACK,
                9000,
                1001,
                b"",
            ),
        );
        self.sim.send(
            self.client,
            &tcp(CLIENT, 40000, SERVER, 80, TCP_ACK, 1001, 9001, b""),
        );
        self.sim.send(
            self.client,
            &tcp(
                CLIENT,
                40000,
                SERVER,
                80,
                TCP_ACK | TCP_PSH,
                1001,
                9001,
                b"GET /",
            ),
        );
        port
    }

    /// One more request segment and its answer; true when both got through.
    fn tcp_round_trip(&mut self, port: u16) -> bool {
        let (s0, c0) = (self.sim.mark(self.server), self.sim.mark(self.client));
        self.sim.send(
            self.client,
            &tcp(
                CLIENT,
                40000,
                SERVER,
                80,
                TCP_ACK | TCP_PSH,
                1006,
                9001,
                b"more",
            ),
        );
        let at_server = self
            .sim
            .got(self.server, s0)
            .iter()
            .any(|p| p.src == WAN_VIP && p.sport == port && p.payload == b"more");
        self.sim.send(
            self.server,
            &tcp(
                SERVER,
                80,
                WAN_VIP,
                port,
                TCP_ACK | TCP_PSH,
                9001,
                1010,
                b"200 OK",
            ),
        );
        let at_client = self
            .sim
            .got(self.client, c0)
            .iter()
            .any(|p| p.dport == 40000 && p.payload == b"200 OK");
        at_server && at_client
    }

    /// A UDP datagram client:5000 → server:53; the source port the server saw.
    fn udp_port(&mut self) -> Option<u16> {
        let s0 = self.sim.mark(self.server);
        self.sim
            .send(self.client, &udp(CLIENT, 5000, SERVER, 53, b"q"));
        self.sim
            .got(self.server, s0)
            .iter()
            .find(|p| p.proto == 17 && p.dport == 53)
            .map(|p| p.sport)
    }

    /// Failover commits of router `r` at or after `from`.
    fn failovers(&self, r: usize, from: Instant) -> Vec<(u64, u64)> {
        self.sim.routers[r]
            .events
            .iter()
            .filter(|(at, _)| *at >= from)
            .filter_map(|(_, e)| match e {
                Event::Failover { committed, failed } => Some((*committed, *failed)),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn connections_survive_the_masters_death_with_the_same_nat_mapping() {
    let mut l = lab(true, 1);
    let port = l.open_tcp();
    assert!(l.tcp_round_trip(port));
    let udp_before = l.udp_port().expect("UDP forwarded");
    // The reply makes the UDP session two-way.
    l.sim
        .send(l.server, &udp(SERVER, 53, WAN_VIP, udp_before, b"a"));
    l.sim.run_for(Duration::from_millis(100));
    let ext = l.snap(1, false).sync.unwrap();
    assert_eq!(ext.external, 2, "both sessions in R1's external cache");
    assert_eq!(l.snap(0, false).sync.unwrap().internal, 2);

    l.sim.kill(0);
    l.sim.run_for(Duration::from_secs(5));
    assert_eq!(l.sim.masters("lan_gw"), vec![1]);
    assert_eq!(
        l.failovers(1, Instant::ZERO),
        vec![(2, 0)],
        "R1 committed both sessions"
    );
    let st = l.snap(1, false).sync.unwrap();
    assert_eq!(st.external, 0);
    assert_eq!(st.failover.committed, 2);

    assert!(
        l.tcp_round_trip(port),
        "the TCP connection goes on through R1"
    );
    assert_eq!(
        l.udp_port(),
        Some(udp_before),
        "the UDP flow keeps its NAT mapping"
    );
    assert_eq!(l.drops(1, "ct_invalid"), 0);
}

#[test]
fn without_sync_the_same_connection_breaks() {
    let mut l = lab(false, 1);
    let port = l.open_tcp();
    assert!(l.tcp_round_trip(port));
    l.sim.kill(0);
    l.sim.run_for(Duration::from_secs(5));
    assert_eq!(l.sim.masters("lan_gw"), vec![1]);
    assert!(!l.tcp_round_trip(port), "no session on R1: dropped");
    assert!(l.drops(1, "ct_invalid") >= 1);
}

#[test]
fn restarted_master_waits_for_its_resync_then_takes_the_sessions_back() {
    let mut l = lab(true, 3);
    let port = l.open_tcp();
    l.sim.kill(0);
    l.sim.run_for(Duration::from_secs(5));
    assert_eq!(l.sim.masters("lan_gw"), vec![1]);
    assert!(l.tcp_round_trip(port));

    // R0 comes back with a higher priority but an empty table; the sync
    // link is slow, so its resync takes a while: no preemption before it.
    l.sim.set_delay(l.sync_seg, Duration::from_millis(1500));
    l.sim.restart(0);
    let restarted = l.sim.now;
    l.sim.run_for(Duration::from_millis(2900));
    assert_eq!(
        l.sim.masters("lan_gw"),
        vec![1],
        "R0 holds preemption while its resync runs"
    );
    assert!(l.snap(0, false).sync.unwrap().preempt_held);
    l.sim.run_for(Duration::from_secs(10));
    assert_eq!(l.sim.masters("lan_gw"), vec![0], "then it preempts");
    let st = l.snap(0, false).sync.unwrap();
    assert!(!st.preempt_held);
    assert!(matches!(st.resync, hagw::sync::ResyncStatus::Done { .. }));
    let f = l.failovers(0, restarted);
    assert_eq!(f.len(), 1);
    assert!(f[0].0 >= 1 && f[0].1 == 0, "committed {:?}", f);
    let became = l
        .sim
        .entered(0, "lan_gw", hagw::vrrp::VrrpState::Master, restarted)
        .expect("R0 master again");
    assert!(became >= restarted + Duration::from_millis(3000));
    assert!(l.tcp_round_trip(port), "the connection went back with R0");
}

/// (id, original tuple, reply tuple) of every session.
type Key = (u64, hagw::conntrack::Tuple, hagw::conntrack::Tuple);

fn live(l: &Lab, r: usize) -> BTreeSet<Key> {
    l.snap(r, true)
        .dataplane
        .unwrap()
        .sessions
        .iter()
        .map(|s| (s.id, s.orig, s.reply))
        .collect()
}

fn external(l: &Lab, r: usize) -> BTreeSet<Key> {
    l.snap(r, true)
        .sync
        .unwrap()
        .external_sessions
        .iter()
        .map(|s| (s.id, s.orig, s.reply_tuple()))
        .collect()
}

#[test]
fn ten_thousand_sessions_converge_under_loss_and_after_a_peer_restart() {
    let n: u16 = std::env::var("HAGW_SIM_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let mut l = lab(true, 7);
    l.sim.set_loss(l.sync_seg, 0.05);
    for chunk in 0..n.div_ceil(500) {
        for i in 0..500u16 {
            let k = chunk * 500 + i;
            if k >= n {
                break;
            }
            l.sim
                .host_send(l.client, &udp(CLIENT, 10_000 + k, SERVER, 53, b"q"));
        }
        l.sim.run_for(Duration::from_millis(10));
    }
    l.sim.run_for(Duration::from_secs(3));
    let master = live(&l, 0);
    assert_eq!(master.len(), usize::from(n));
    let ext = external(&l, 1);
    assert_eq!(
        ext.len(),
        master.len(),
        "all sessions despite 5% loss: {:#?}",
        l.snap(1, false).sync.unwrap().stats
    );
    assert_eq!(ext, master, "same ids, tuples and NAT mappings");
    let st = l.snap(1, false).sync.unwrap();
    assert!(
        st.stats.lost > 0 && st.stats.nack_sent > 0,
        "{:?}",
        st.stats
    );

    // The backup restarts: empty external cache, a bulk resync refills it.
    l.sim.kill(1);
    l.sim.restart(1);
    l.sim.run_for(Duration::from_secs(5));
    let st = l.snap(1, false).sync.unwrap();
    assert!(
        matches!(st.resync, hagw::sync::ResyncStatus::Done { .. }),
        "{:?}",
        st.resync
    );
    assert_eq!(external(&l, 1), live(&l, 0));
}

/// Load sharing with sync (SPEC §4a): R0 is master of sync group "a" (LAN
/// VIP .1, SNAT to 10.0.0.1), R1 of "b" (LAN VIP .254, SNAT to 10.0.0.5);
/// both export and import. When R0 dies, R1 takes group "a" over with R0's
/// sessions (same mapping) while its own keep theirs: the per-group edge
/// commits although R1 was already master of something.
#[test]
fn load_sharing_with_sync_both_halves_survive() {
    let cfg = |node: u16, a: u8, b: u8| {
        let n = node + 1;
        ConfigBuilder::new(node)
            .interface("lan", &format!("192.168.10.{n}/24"))
            .interface("wan", &format!("10.0.0.{n}/24"))
            .sync_link(&format!("172.16.0.{node}/24"))
            .group("lan_a", "lan", 51, &["192.168.10.1/24"], |g| {
                g.priority = a;
                g.sync_group = Some("a".into());
            })
            .group("wan_a", "wan", 52, &["10.0.0.1/24"], |g| {
                g.priority = a;
                g.sync_group = Some("a".into());
            })
            .group("lan_b", "lan", 61, &["192.168.10.254/24"], |g| {
                g.priority = b;
                g.sync_group = Some("b".into());
            })
            .group("wan_b", "wan", 62, &["10.0.0.5/24"], |g| {
                g.priority = b;
                g.sync_group = Some("b".into());
            })
            .snat(10, "wan", "192.168.10.0/25", "10.0.0.1")
            .snat(11, "wan", "192.168.10.128/25", "10.0.0.5")
            .conntrack_sync(|_| {})
            .build()
    };
    let mut sim = sim::Sim::new(11);
    sim.record = false;
    sim.add_router("R0", cfg(1, 200, 100));
    sim.add_router("R1", cfg(2, 100, 200));
    let lan = sim.connect("lan", &[(0, "lan"), (1, "lan")]);
    let wan = sim.connect("wan", &[(0, "wan"), (1, "wan")]);
    sim.connect("sync", &[(0, "sync"), (1, "sync")]);
    let ca = sim.add_host(Host::new("a", 1, "192.168.10.100/24", Some("192.168.10.1")));
    let cb = sim.add_host(Host::new(
        "b",
        2,
        "192.168.10.200/24",
        Some("192.168.10.254"),
    ));
    let server = sim.add_host(Host::new("server", 3, "10.0.0.100/24", None));
    sim.connect_host(lan, ca);
    sim.connect_host(lan, cb);
    sim.connect_host(wan, server);
    sim.run_until(Instant::from_secs(8));
    assert_eq!(sim.masters("lan_a"), vec![0]);
    assert_eq!(sim.masters("lan_b"), vec![1]);

    let client_b = Ipv4Addr::new(192, 168, 10, 200);
    // One flow per half; the server answers each (two-way sessions).
    let flow = |sim: &mut sim::Sim, host: usize, src: Ipv4Addr, sport: u16| {
        let m = sim.mark(server);
        sim.send(host, &udp(src, sport, SERVER, 53, b"q"));
        let seen = sim.got(server, m);
        let p = seen
            .iter()
            .find(|p| p.dport == 53)
            .map(|p| (p.src, p.sport));
        if let Some((addr, port)) = p {
            sim.send(server, &udp(SERVER, 53, addr, port, b"a"));
        }
        p
    };
    let a_before = flow(&mut sim, ca, CLIENT, 5000).expect("flow a forwarded");
    let b_before = flow(&mut sim, cb, client_b, 6000).expect("flow b forwarded");
    assert_eq!(a_before.0, WAN_VIP);
    assert_eq!(b_before.0, Ipv4Addr::new(10, 0, 0, 5));
    assert!(
        b_before.1 >= 33_280,
        "R1 (node 2) maps into the upper half: {b_before:?}"
    );
    sim.run_for(Duration::from_millis(200));

    sim.kill(0);
    sim.run_for(Duration::from_secs(5));
    assert_eq!(sim.masters("lan_a"), vec![1], "R1 took group a over");
    let commits: Vec<(u64, u64)> = sim.routers[1]
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Failover { committed, failed } => Some((*committed, *failed)),
            _ => None,
        })
        .collect();
    assert!(
        commits.iter().any(|&(ok, failed)| ok >= 1 && failed == 0),
        "R1 committed R0's session when it took group a: {commits:?}"
    );
    assert_eq!(
        flow(&mut sim, ca, CLIENT, 5000),
        Some(a_before),
        "a keeps its mapping"
    );
    assert_eq!(
        flow(&mut sim, cb, client_b, 6000),
        Some(b_before),
        "b keeps its mapping"
    );
}

/// Found by tests/netns_faults.rs (the master's LAN link down and back
/// during a download): R0 left master first and asked for a resync while
/// R1 was still backup, so R1's answer was empty; R1 then committed the
/// sessions but never exported them (committed sessions are not reported
/// as New), so R0's external cache stayed empty and on its return R0
/// committed nothing and kept its stale copy of the connection. The new
/// master now sends its table in bulk after the commit.
#[test]
fn link_down_and_back_the_old_master_holds_and_retakes_the_sessions() {
    let mut l = lab(true, 5);
    let port = l.open_tcp();
    assert!(l.tcp_round_trip(port));
    l.sim.run_for(Duration::from_millis(100));
    let id = live(&l, 0).iter().next().expect("R0's session").0;

    l.sim.set_link(0, "lan", false);
    l.sim.run_for(Duration::from_secs(5));
    assert_eq!(l.sim.masters("lan_gw"), vec![1]);
    assert_eq!(l.sim.masters("wan_gw"), vec![1], "the sync group moved");
    assert!(l.tcp_round_trip(port), "the connection goes on through R1");
    l.sim.run_for(Duration::from_millis(500));
    assert!(
        external(&l, 0).iter().any(|k| k.0 == id),
        "R0, now backup, holds the session R1 carries: {:?}",
        external(&l, 0)
    );

    let back = l.sim.now;
    l.sim.set_link(0, "lan", true);
    l.sim.run_for(Duration::from_secs(5));
    assert_eq!(l.sim.masters("lan_gw"), vec![0], "R0 preempts");
    assert_eq!(
        l.failovers(0, back),
        vec![(1, 0)],
        "R0 committed the session R1 carried"
    );
    assert!(
        l.tcp_round_trip(port),
        "and the connection came back with it"
    );
    assert_eq!(l.drops(0, "ct_invalid"), 0);
}
