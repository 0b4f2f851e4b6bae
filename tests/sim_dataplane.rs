//! The dataplane in the simulator: end hosts (tests/sim/host.rs) talk to and
//! through the routers; packets are built and checked with an independent
//! codec (tests/sim/packet.rs, which verifies every checksum on parse).
//!
//! Topology (SPEC §6 example, one router unless a test adds a second):
//! client 192.168.10.100 (gateway = LAN VIP 192.168.10.1) — LAN — R0
//! (192.168.10.2, 10.0.0.2) — WAN — server 10.0.0.100 (no gateway: the SNAT
//! address 10.0.0.1 is on its link). SNAT 192.168.10.0/24 → 10.0.0.1;
//! ruleset wan_in (default drop; established/related and ICMP accepted) on
//! the WAN's in direction; port forward WAN tcp/2222 → 192.168.10.100:22.

mod sim;

use hagw::config::{Direction, FirewallAction, Protocol};
use hagw::time::{Duration, Instant};
use sim::Sim;
use sim::config::{ConfigBuilder, gateway_config as router_config};
use sim::host::Host;
use sim::packet::{self, Pkt, TCP_ACK, TCP_PSH, TCP_SYN, echo_request, tcp, udp};
use std::net::Ipv4Addr;

const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 10, 100);
const CLIENT2: Ipv4Addr = Ipv4Addr::new(192, 168, 10, 101);
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
const LAN_VIP: Ipv4Addr = Ipv4Addr::new(192, 168, 10, 1);
const WAN_VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const R0_LAN: Ipv4Addr = Ipv4Addr::new(192, 168, 10, 2);

struct Lab {
    sim: Sim,
    client: usize,
    client2: usize,
    server: usize,
}

/// One router (R0, master) with client, second client and server.
fn lab_with(cfg: ConfigBuilder) -> Lab {
    let mut sim = Sim::new(42);
    sim.add_router("R0", cfg.build());
    let lan = sim.connect("lan", &[(0, "lan")]);
    let wan = sim.connect("wan", &[(0, "wan")]);
    let client = sim.add_host(Host::new(
        "client",
        1,
        "192.168.10.100/24",
        Some("192.168.10.1"),
    ));
    let client2 = sim.add_host(Host::new(
        "client2",
        2,
        "192.168.10.101/24",
        Some("192.168.10.1"),
    ));
    let server = sim.add_host(Host::new("server", 3, "10.0.0.100/24", None));
    sim.connect_host(lan, client);
    sim.connect_host(lan, client2);
    sim.connect_host(wan, server);
    // Owner-less groups at priority 200 alone on their segments: master
    // after Master_Down_Interval (about 3.2 s).
    sim.run_until(Instant::from_secs(6));
    assert_eq!(sim.masters("lan_gw"), vec![0]);
    Lab {
        sim,
        client,
        client2,
        server,
    }
}

fn lab() -> Lab {
    lab_with(router_config(1, 200, |_| {}))
}

impl Lab {
    fn drops(&self, reason: &str) -> u64 {
        let s = self.sim.routers[0]
            .engine
            .as_ref()
            .unwrap()
            .snapshot(self.sim.now);
        s.ports
            .iter()
            .map(|p| {
                p.drops
                    .iter()
                    .find(|(n, _)| *n == reason)
                    .unwrap_or_else(|| panic!("no drop reason {reason}"))
                    .1
            })
            .sum()
    }

    fn set_mtu(&mut self, iface: &str, mtu: u16) {
        let p = self.sim.port(0, iface);
        self.sim.routers[0].engine.as_mut().unwrap().set_mtu(p, mtu);
    }
}

#[test]
fn udp_through_snat_keeps_the_port_and_comes_back() {
    let mut l = lab();
    let (s0, c0) = (l.sim.mark(l.server), l.sim.mark(l.client));
    l.sim
        .send(l.client, &udp(CLIENT, 5000, SERVER, 53, b"query"));
    let at_server = l.sim.got(l.server, s0);
    assert_eq!(at_server.len(), 1, "{at_server:?}");
    let q = &at_server[0];
    assert_eq!(
        (q.src, q.sport, q.dst, q.dport),
        (WAN_VIP, 5000, SERVER, 53)
    );
    assert_eq!(q.ttl, 63, "TTL decremented once");
    assert_eq!(q.payload, b"query");
    l.sim
        .send(l.server, &udp(SERVER, 53, WAN_VIP, 5000, b"answer"));
    let at_client = l.sim.got(l.client, c0);
    assert_eq!(at_client.len(), 1, "{at_client:?}");
    let a = &at_client[0];
    assert_eq!((a.src, a.sport, a.dst, a.dport), (SERVER, 53, CLIENT, 5000));
    assert_eq!(a.payload, b"answer");
}

#[test]
fn tcp_connection_through_snat_and_midstream_segment_without_session_is_invalid() {
    let mut l = lab();
    let s0 = l.sim.mark(l.server);
    l.sim.send(
        l.client,
        &tcp(CLIENT, 40000, SERVER, 80, TCP_SYN, 1000, 0, b""),
    );
    l.sim.send(
        l.server,
        &tcp(
            SERVER,
            80,
            WAN_VIP,
            40000,
            TCP_SYN | TCP_ACK,
            9000,
            1001,
            b"",
        ),
    );
    l.sim.send(
        l.client,
        &tcp(CLIENT, 40000, SERVER, 80, TCP_ACK, 1001, 9001, b""),
    );
    l.sim.send(
        l.client,
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
    let seen: Vec<_> = l
        .sim
        .got(l.server, s0)
        .iter()
        .map(|p| (p.flags, p.payload.len()))
        .collect();
    assert_eq!(
        seen,
        vec![(TCP_SYN, 0), (TCP_ACK, 0), (TCP_ACK | TCP_PSH, 5)]
    );
    // A segment of a connection hagw never saw start: dropped and counted.
    let invalid = l.drops("ct_invalid");
    let s1 = l.sim.mark(l.server);
    l.sim.send(
        l.client,
        &tcp(CLIENT, 40001, SERVER, 80, TCP_ACK, 5, 5, b"x"),
    );
    assert!(l.sim.got(l.server, s1).is_empty());
    assert_eq!(l.drops("ct_invalid"), invalid + 1);
}

#[test]
fn unsolicited_wan_traffic_is_dropped_by_the_firewall() {
    let mut l = lab();
    let c0 = l.sim.mark(l.client);
    let fw = l.drops("fw_drop");
    l.sim.send(
        l.server,
        &tcp(SERVER, 5555, WAN_VIP, 80, TCP_SYN, 1, 0, b""),
    );
    l.sim
        .send(l.server, &udp(SERVER, 5555, WAN_VIP, 9999, b"hello"));
    assert!(l.sim.got(l.client, c0).is_empty());
    assert_eq!(l.drops("fw_drop") + l.drops("no_host"), fw + 2);
}

#[test]
fn ttl_one_gets_time_exceeded_from_the_router() {
    let mut l = lab();
    let c0 = l.sim.mark(l.client);
    let mut p = udp(CLIENT, 33434, SERVER, 33434, b"trace");
    p[8] = 1; // TTL
    let c = packet_checksum_fix(p);
    l.sim.send(l.client, &c);
    let got = l.sim.got(l.client, c0);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].icmp, Some((11, 0)));
    assert_eq!(got[0].src, R0_LAN, "from the router's own LAN address");
    // The quote is the packet as the client sent it.
    let inner = parse_inner(&got[0]);
    assert_eq!((inner.0, inner.1), (CLIENT, SERVER));
}

#[test]
fn df_packet_larger_than_the_egress_mtu_gets_fragmentation_needed() {
    let mut l = lab();
    l.set_mtu("wan", 1400);
    let c0 = l.sim.mark(l.client);
    let s0 = l.sim.mark(l.server);
    l.sim
        .send(l.client, &udp(CLIENT, 6000, SERVER, 7000, &[0xab; 1472]));
    assert!(l.sim.got(l.server, s0).is_empty());
    let got = l.sim.got(l.client, c0);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].icmp, Some((3, 4)));
    assert_eq!(got[0].dport, 1400, "next-hop MTU in the ICMP header");
}

#[test]
fn packet_larger_than_the_mtu_without_df_is_fragmented() {
    let mut l = lab();
    l.set_mtu("wan", 1400);
    let s0 = l.sim.mark(l.server);
    let mut p = udp(CLIENT, 6001, SERVER, 7000, &[0x5a; 1472]);
    p[6] = 0; // DF off
    let p = packet_checksum_fix(p);
    l.sim.send(l.client, &p);
    let got = l.sim.got(l.server, s0);
    assert_eq!(got.len(), 2, "two fragments");
    assert!(got.iter().all(|f| f.src == WAN_VIP && f.dst == SERVER));
    let total: usize = got.iter().map(|f| f.payload.len()).sum();
    assert_eq!(
        total,
        8 + 1472,
        "UDP header and payload across the fragments"
    );
}

#[test]
fn later_fragments_follow_the_first_and_orphans_are_dropped() {
    let mut l = lab();
    let s0 = l.sim.mark(l.server);
    let whole = udp(CLIENT, 6002, SERVER, 7000, &[1; 64]);
    let (first, second) = split_in_two(&whole, 0x1111);
    l.sim.send(l.client, &first);
    l.sim.send(l.client, &second);
    let got = l.sim.got(l.server, s0);
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|f| f.src == WAN_VIP));
    let orphans = l.drops("frag_no_first");
    let (_, orphan) = split_in_two(&udp(CLIENT, 6003, SERVER, 7000, &[2; 64]), 0x2222);
    l.sim.send(l.client, &orphan);
    assert_eq!(l.drops("frag_no_first"), orphans + 1);
}

#[test]
fn icmp_error_for_a_session_is_translated_back_to_the_client() {
    let mut l = lab();
    let (s0, c0) = (l.sim.mark(l.server), l.sim.mark(l.client));
    l.sim.send(l.client, &udp(CLIENT, 5001, SERVER, 9, b"x"));
    let q = l.sim.hosts[l.server].received[s0].1.clone();
    // The server answers port unreachable, quoting what it received.
    let mut icmp = vec![3, 3, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&q);
    let c = !fold(&icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    l.sim.send(
        l.server,
        &packet::ipv4(SERVER, WAN_VIP, 1, 64, 5, false, &icmp),
    );
    let got = l.sim.got(l.client, c0);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].dst, got[0].icmp), (CLIENT, Some((3, 3))));
    let inner = parse_inner(&got[0]);
    assert_eq!(inner, (CLIENT, SERVER, 5001, 9), "quote translated back");
}

#[test]
fn ping_through_the_router() {
    let mut l = lab();
    let c0 = l.sim.mark(l.client);
    l.sim
        .send(l.client, &echo_request(CLIENT, SERVER, 0x4242, 1, 64));
    let got = l.sim.got(l.client, c0);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].src, got[0].icmp), (SERVER, Some((0, 0))));
    assert_eq!((got[0].sport, got[0].dport), (0x4242, 1));
}

#[test]
fn port_forward_reaches_the_lan_server_and_hairpin_works() {
    let mut l = lab();
    // WAN -> 10.0.0.1:2222 -> 192.168.10.100:22.
    let c0 = l.sim.mark(l.client);
    l.sim.send(
        l.server,
        &tcp(SERVER, 41000, WAN_VIP, 2222, TCP_SYN, 77, 0, b""),
    );
    let got = l.sim.got(l.client, c0);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0].src, got[0].sport, got[0].dst, got[0].dport),
        (SERVER, 41000, CLIENT, 22)
    );
    let s0 = l.sim.mark(l.server);
    l.sim.send(
        l.client,
        &tcp(CLIENT, 22, SERVER, 41000, TCP_SYN | TCP_ACK, 500, 78, b""),
    );
    let back = l.sim.got(l.server, s0);
    assert_eq!(back.len(), 1, "{back:?}");
    assert_eq!((back[0].src, back[0].sport), (WAN_VIP, 2222));
    // Hairpin: client2 on the LAN connects to the WAN VIP's forwarded port.
    let c1 = l.sim.mark(l.client);
    l.sim.send(
        l.client2,
        &tcp(CLIENT2, 42000, WAN_VIP, 2222, TCP_SYN, 1, 0, b""),
    );
    let got = l.sim.got(l.client, c1);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].dst, got[0].dport), (CLIENT, 22));
    assert!(
        got[0].src == LAN_VIP || got[0].src == R0_LAN,
        "hairpin SNAT to the router's LAN side, got {}",
        got[0].src
    );
    let c2 = l.sim.mark(l.client2);
    let (hsrc, hport) = (got[0].src, got[0].sport);
    l.sim.send(
        l.client,
        &tcp(CLIENT, 22, hsrc, hport, TCP_SYN | TCP_ACK, 9, 2, b""),
    );
    let back = l.sim.got(l.client2, c2);
    assert_eq!(back.len(), 1, "{back:?}");
    assert_eq!((back[0].src, back[0].sport), (WAN_VIP, 2222));
}

#[test]
fn reject_answers_tcp_with_rst_and_udp_with_port_unreachable() {
    let cfg = router_config(1, 200, |_| {})
        .ruleset("lan_in", FirewallAction::Accept, "lan", Direction::In)
        .rule("lan_in", FirewallAction::Reject, |r| {
            r.destination_port = Some(hagw::config::PortRange { lo: 23, hi: 23 });
            r.protocol = Some(Protocol::Tcp);
        })
        .rule("lan_in", FirewallAction::Reject, |r| {
            r.destination_port = Some(hagw::config::PortRange { lo: 69, hi: 69 });
            r.protocol = Some(Protocol::Udp);
        });
    let mut l = lab_with(cfg);
    let c0 = l.sim.mark(l.client);
    l.sim.send(
        l.client,
        &tcp(CLIENT, 40100, SERVER, 23, TCP_SYN, 1, 0, b""),
    );
    l.sim
        .send(l.client, &udp(CLIENT, 40101, SERVER, 69, b"tftp"));
    let got = l.sim.got(l.client, c0);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[0].proto, got[0].flags & 0x04), (6, 0x04), "TCP RST");
    assert_eq!(got[1].icmp, Some((3, 3)), "port unreachable");
}

#[test]
fn backup_forwards_nothing() {
    let p = sim::GatewayPair::new(9, true, |id, prio| router_config(id, prio, |_| {}).build());
    let (mut sim, client, server) = (p.sim, p.client, p.server);
    // A stale ARP entry sends the client's packet to the backup's MAC.
    let b_mac = sim.routers[1].macs[sim.port(1, "lan")];
    sim.hosts[client].arp.insert(LAN_VIP, b_mac);
    sim.host_send(client, &udp(CLIENT, 5000, SERVER, 53, b"q"));
    sim.run_for(Duration::from_millis(20));
    assert!(
        sim.hosts[server].received.is_empty(),
        "the backup did not forward"
    );
    let snap = sim.routers[1].engine.as_ref().unwrap().snapshot(sim.now);
    let n = snap.ports[0]
        .drops
        .iter()
        .find(|(n, _)| *n == "not_master")
        .unwrap()
        .1;
    assert_eq!(n, 1);
}

/// A host resolves the VIP with ARP and gets its ping answered by the master.
#[test]
fn host_pings_the_vip() {
    let mut l = lab();
    let c0 = l.sim.mark(l.client);
    l.sim
        .send(l.client, &echo_request(CLIENT, LAN_VIP, 0x77, 1, 64));
    let got = l.sim.got(l.client, c0);
    assert_eq!(got.len(), 1, "one echo reply");
    assert_eq!((got[0].src, got[0].icmp), (LAN_VIP, Some((0, 0))));
    assert_eq!((got[0].sport, got[0].dport), (0x77, 1));
    assert_eq!(l.sim.hosts[l.client].arp_requests_sent, 1);
}

// ---- helpers -------------------------------------------------------------

fn fold(b: &[u8]) -> u16 {
    let mut acc: u32 = b
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// Recompute the IPv4 header checksum after a test edited the header.
fn packet_checksum_fix(mut p: Vec<u8>) -> Vec<u8> {
    p[10] = 0;
    p[11] = 0;
    let c = !fold(&p[..20]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p
}

/// (src, dst, sport, dport) of the packet quoted in an ICMP error.
fn parse_inner(p: &Pkt) -> (Ipv4Addr, Ipv4Addr, u16, u16) {
    let q = &p.payload;
    let src = Ipv4Addr::new(q[12], q[13], q[14], q[15]);
    let dst = Ipv4Addr::new(q[16], q[17], q[18], q[19]);
    let hl = usize::from(q[0] & 0xf) * 4;
    let (sp, dp) = (
        u16::from_be_bytes([q[hl], q[hl + 1]]),
        u16::from_be_bytes([q[hl + 2], q[hl + 3]]),
    );
    (src, dst, sp, dp)
}

/// Split an IPv4 packet (no options, payload > 16) into two fragments with IP id `id`.
fn split_in_two(ip: &[u8], id: u16) -> (Vec<u8>, Vec<u8>) {
    let payload = &ip[20..];
    let cut = 16;
    let mk = |data: &[u8], off: u16, more: bool| {
        let mut h = ip[..20].to_vec();
        h[2..4].copy_from_slice(&((20 + data.len()) as u16).to_be_bytes());
        h[4..6].copy_from_slice(&id.to_be_bytes());
        let fo = (off / 8) | if more { 0x2000 } else { 0 };
        h[6..8].copy_from_slice(&fo.to_be_bytes());
        h.extend_from_slice(data);
        packet_checksum_fix(h)
    };
    (
        mk(&payload[..cut], 0, true),
        mk(&payload[cut..], cut as u16, false),
    )
}
