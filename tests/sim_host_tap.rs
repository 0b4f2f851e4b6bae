//! The host path in the simulator (SPEC §1, §3, issue 14): what reaches
//! the kernel TAP of each port (`Router::to_host`) and what the kernel
//! writes into it (`Sim::host_write`), checked with the independent codec
//! of tests/sim/packet.rs.
//!
//! Topology: the SPEC §6 pair (tests/sim/config.rs `gateway_config`) with
//! host TAPs on lan and wan and a `wan_local` ruleset (default drop,
//! established/related accepted) on the WAN's local chain; R0 (priority
//! 200, 192.168.10.2 / 10.0.0.2) is master, R1 (100, .3) backup; client
//! 192.168.10.100 behind the LAN VIP 192.168.10.1, server 10.0.0.100.

mod sim;

use hagw::config::{Direction, FirewallAction, StateSet};
use hagw::engine::{Engine, HOST_QUEUE, TxQueue};
use hagw::time::{Duration, Instant};
use hagw::vrrp::VrrpState;
use sim::config::{ConfigBuilder, gateway_config};
use sim::packet::{self, Pkt, TCP_ACK, TCP_SYN, echo, echo_request, ether, tcp, udp};
use sim::{GatewayPair, Sim};
use std::net::Ipv4Addr;

const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 10, 100);
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
const LAN_VIP: Ipv4Addr = Ipv4Addr::new(192, 168, 10, 1);
const R0_LAN: Ipv4Addr = Ipv4Addr::new(192, 168, 10, 2);
const R0_WAN: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const R1_LAN: Ipv4Addr = Ipv4Addr::new(192, 168, 10, 3);
const CLIENT_MAC: [u8; 6] = [0x02, 0xaa, 0, 0, 0, 1];
const SERVER_MAC: [u8; 6] = [0x02, 0xaa, 0, 0, 0, 3];
const BCAST: [u8; 6] = [0xff; 6];
const LAN: usize = 0;
const WAN: usize = 1;

/// The router MAC the simulator gives router `r`, port `p`.
fn mac(r: usize, p: usize) -> [u8; 6] {
    [0x02, 0, 0, 0, r as u8 + 1, p as u8 + 1]
}

fn config(node: u16, prio: u8, rfc: bool) -> ConfigBuilder {
    gateway_config(node, prio, |g| g.rfc3768_compatibility = rfc)
        .host_taps()
        .ruleset("wan_local", FirewallAction::Drop, "wan", Direction::Local)
        .rule("wan_local", FirewallAction::Accept, |r| {
            r.state = Some(StateSet {
                established: true,
                related: true,
                ..StateSet::default()
            })
        })
}

struct Lab {
    sim: Sim,
    client: usize,
    server: usize,
}

fn lab_with(f: impl Fn(ConfigBuilder) -> ConfigBuilder, rfc: bool) -> Lab {
    let p = GatewayPair::new(7, true, |node, prio| f(config(node, prio, rfc)).build());
    Lab {
        sim: p.sim,
        client: p.client,
        server: p.server,
    }
}

fn lab() -> Lab {
    lab_with(|c| c, false)
}

impl Lab {
    /// IPv4 packets router `r` handed to its TAP on `port` since `from`.
    fn host_ip(&self, r: usize, port: usize, from: usize) -> Vec<Pkt> {
        self.sim.routers[r].to_host[from..]
            .iter()
            .filter(|(_, p, b)| *p == port && b[12..14] == [8, 0])
            .map(|(_, _, b)| packet::parse(&b[14..]).expect("valid checksums"))
            .collect()
    }

    fn host_mark(&self, r: usize) -> usize {
        self.sim.routers[r].to_host.len()
    }

    fn drops(&self, r: usize, port: usize, reason: &str) -> u64 {
        let s = self.sim.routers[r]
            .engine
            .as_ref()
            .unwrap()
            .snapshot(self.sim.now);
        s.ports[port]
            .drops
            .iter()
            .find(|(n, _)| *n == reason)
            .map(|(_, v)| *v)
            .unwrap()
    }

    /// Frames router `r` sent on `port` since the `sent` index `from`.
    fn sent(&self, r: usize, port: usize, from: usize) -> Vec<Vec<u8>> {
        self.sim.sent[from..]
            .iter()
            .filter(|s| s.router == r && s.port == port)
            .map(|s| s.bytes.clone())
            .collect()
    }

    fn send(&mut self, h: usize, ip: &[u8]) {
        self.sim.send(h, ip);
    }
}

fn ip_frame(dst: [u8; 6], src: [u8; 6], ip: &[u8]) -> Vec<u8> {
    ether(dst, src, 0x0800, ip)
}

#[test]
fn service_traffic_to_the_vip_reaches_the_master_host_only() {
    let mut l = lab();
    let (h0, h1) = (l.host_mark(0), l.host_mark(1));
    l.send(l.client, &udp(CLIENT, 5353, LAN_VIP, 53, b"dns query"));
    let got = l.host_ip(0, LAN, h0);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0].src, got[0].dst, got[0].dport),
        (CLIENT, LAN_VIP, 53)
    );
    assert_eq!(got[0].payload, b"dns query");
    assert!(
        l.host_ip(1, LAN, h1).is_empty(),
        "the backup never takes a VIP's traffic"
    );
    // What hagw answers itself stays hagw's: echo, ARP requests, VRRP.
    let (h0, c0) = (l.host_mark(0), l.sim.mark(l.client));
    l.send(l.client, &echo_request(CLIENT, LAN_VIP, 9, 1, 64));
    assert!(
        l.sim
            .got(l.client, c0)
            .iter()
            .any(|p| p.icmp == Some((0, 0)))
    );
    l.sim.run_for(Duration::from_secs(2));
    assert!(l.host_ip(0, LAN, h0).is_empty());
    let arp_or_vrrp = l.sim.routers[0].to_host[h0..].iter().any(|(_, _, b)| {
        (b[12..14] == [8, 6] && b[20..22] == [0, 1] && b[28..32] != b[38..42])
            || (b[12..14] == [8, 0] && b[23] == 112)
    });
    assert!(!arp_or_vrrp, "ARP requests and VRRP never reach the host");
}

#[test]
fn the_backup_host_serves_its_own_address_and_the_vip_after_failover() {
    let mut l = lab();
    let h1 = l.host_mark(1);
    l.send(
        l.client,
        &tcp(CLIENT, 40000, R1_LAN, 80, TCP_SYN, 1, 0, b""),
    );
    let got = l.host_ip(1, LAN, h1);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0].dst, got[0].dport, got[0].flags),
        (R1_LAN, 80, TCP_SYN)
    );
    let e1 = l.sim.routers[1].engine.as_ref().unwrap();
    let own: Vec<_> = e1.host_addrs(LAN).iter().map(|c| c.to_string()).collect();
    assert_eq!(own, ["192.168.10.3/24"], "a backup's TAP holds no VIP");
    let e0 = l.sim.routers[0].engine.as_ref().unwrap();
    let own: Vec<_> = e0.host_addrs(LAN).iter().map(|c| c.to_string()).collect();
    assert_eq!(own, ["192.168.10.2/24", "192.168.10.1/32"]);
    // R0 dies: R1 takes the VIP, its TAP gets the address and the traffic.
    let generation = l.sim.routers[1].engine.as_ref().unwrap().addrs_generation();
    l.sim.kill(0);
    l.sim.run_for(Duration::from_secs(5));
    assert_eq!(l.sim.state(1, "lan_gw"), Some(VrrpState::Master));
    let e1 = l.sim.routers[1].engine.as_ref().unwrap();
    assert_ne!(e1.addrs_generation(), generation);
    let own: Vec<_> = e1.host_addrs(LAN).iter().map(|c| c.to_string()).collect();
    assert_eq!(own, ["192.168.10.3/24", "192.168.10.1/32"]);
    let h1 = l.host_mark(1);
    l.send(l.client, &udp(CLIENT, 5353, LAN_VIP, 53, b"again"));
    let got = l.host_ip(1, LAN, h1);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].dst, got[0].dport), (LAN_VIP, 53));
}

#[test]
fn dhcp_broadcasts_and_all_hosts_reach_the_host_other_groups_do_not() {
    let mut l = lab();
    let zero = Ipv4Addr::UNSPECIFIED;
    let bcast = Ipv4Addr::BROADCAST;
    let discover = udp(zero, 68, bcast, 67, b"DHCPDISCOVER");
    let all_hosts = udp(CLIENT, 9, Ipv4Addr::new(224, 0, 0, 1), 9, b"hello all");
    let mdns = udp(CLIENT, 5353, Ipv4Addr::new(224, 0, 0, 251), 5353, b"mdns");
    let marks = [l.host_mark(0), l.host_mark(1)];
    let no_host = l.drops(0, LAN, "no_host");
    for r in 0..2 {
        l.sim
            .inject(r, "lan", &ip_frame(BCAST, CLIENT_MAC, &discover));
        let mcast = [0x01, 0x00, 0x5e, 0, 0, 1];
        l.sim
            .inject(r, "lan", &ip_frame(mcast, CLIENT_MAC, &all_hosts));
        let mcast = [0x01, 0x00, 0x5e, 0, 0, 0xfb];
        l.sim.inject(r, "lan", &ip_frame(mcast, CLIENT_MAC, &mdns));
    }
    for (r, m) in marks.into_iter().enumerate() {
        let got = l.host_ip(r, LAN, m);
        let dports: Vec<_> = got.iter().map(|p| (p.dst, p.dport)).collect();
        assert_eq!(
            dports,
            [(bcast, 67), (Ipv4Addr::new(224, 0, 0, 1), 9)],
            "router {r}"
        );
    }
    assert_eq!(l.drops(0, LAN, "no_host"), no_host + 1, "mDNS is not taken");
}

#[test]
fn arp_replies_and_garps_are_copied_kernel_arp_goes_out_as_the_port() {
    let mut l = lab();
    let (h0, s0) = (l.host_mark(0), l.sim.sent.len());
    // The kernel asks for the client from its own LAN address.
    let req = packet::arp(1, mac(0, LAN), R0_LAN, [0; 6], CLIENT);
    l.sim
        .host_write(0, "lan", &ether(BCAST, mac(0, LAN), 0x0806, &req));
    l.sim.run_for(Duration::from_millis(20));
    let out = l.sent(0, LAN, s0);
    assert!(
        out.iter()
            .any(|b| b[..] == ether(BCAST, mac(0, LAN), 0x0806, &req)[..])
    );
    // The client's reply is copied to the host (and hagw learns it too).
    let copies: Vec<_> = l.sim.routers[0].to_host[h0..]
        .iter()
        .filter(|(_, p, b)| *p == LAN && b[12..14] == [8, 6] && b[20..22] == [0, 2])
        .collect();
    assert_eq!(copies.len(), 1);
    assert_eq!(copies[0].2[22..28], CLIENT_MAC);
    // A gratuitous ARP from the client reaches both hosts.
    let garp = packet::arp(1, CLIENT_MAC, CLIENT, [0; 6], CLIENT);
    let marks = [l.host_mark(0), l.host_mark(1)];
    for r in 0..2 {
        l.sim
            .inject(r, "lan", &ether(BCAST, CLIENT_MAC, 0x0806, &garp));
    }
    for (r, m) in marks.into_iter().enumerate() {
        assert_eq!(l.sim.routers[r].to_host.len(), m + 1, "router {r}");
    }
}

#[test]
fn kernel_arp_answers_for_hagw_addresses_are_dropped() {
    let mut l = lab();
    let s0 = l.sim.sent.len();
    let dropped = l.drops(0, LAN, "host_arp_answered");
    for spa in [R0_LAN, LAN_VIP] {
        let reply = packet::arp(2, mac(0, LAN), spa, CLIENT_MAC, CLIENT);
        l.sim
            .host_write(0, "lan", &ether(CLIENT_MAC, mac(0, LAN), 0x0806, &reply));
        let garp = packet::arp(1, mac(0, LAN), spa, [0; 6], spa);
        l.sim
            .host_write(0, "lan", &ether(BCAST, mac(0, LAN), 0x0806, &garp));
    }
    assert_eq!(l.drops(0, LAN, "host_arp_answered"), dropped + 4);
    let arp_out = l
        .sent(0, LAN, s0)
        .iter()
        .filter(|b| b[12..14] == [8, 6])
        .count();
    assert_eq!(arp_out, 0, "no double answers on the wire");
}

#[test]
fn host_frames_from_a_vip_leave_with_the_virtual_mac_in_rfc_mode() {
    let mut l = lab_with(|c| c, true);
    let (s0, c0) = (l.sim.sent.len(), l.sim.mark(l.client));
    let vmac = [0x00, 0x00, 0x5e, 0x00, 0x01, 51];
    let answer = udp(LAN_VIP, 53, CLIENT, 5353, b"dns answer");
    l.sim
        .host_write(0, "lan", &ip_frame(CLIENT_MAC, mac(0, LAN), &answer));
    // A kernel ARP request from the VIP carries the virtual MAC too.
    let req = packet::arp(1, mac(0, LAN), LAN_VIP, [0; 6], CLIENT);
    l.sim
        .host_write(0, "lan", &ether(BCAST, mac(0, LAN), 0x0806, &req));
    // From its own address the port MAC stays.
    let own = udp(R0_LAN, 22, CLIENT, 40000, b"ssh");
    l.sim
        .host_write(0, "lan", &ip_frame(CLIENT_MAC, mac(0, LAN), &own));
    l.sim.run_for(Duration::from_millis(20));
    let out = l.sent(0, LAN, s0);
    assert_eq!(out.len(), 3, "{out:?}");
    assert_eq!(out[0][6..12], vmac);
    assert_eq!((&out[1][6..12], &out[1][22..28]), (&vmac[..], &vmac[..]));
    assert_eq!(out[2][6..12], mac(0, LAN));
    let got = l.sim.got(l.client, c0);
    assert!(
        got.iter()
            .any(|p| p.src == LAN_VIP && p.payload == b"dns answer")
    );
    // The backup's kernel may not speak from the VIP (it is not R1's).
    let (s1, bad) = (l.sim.sent.len(), l.drops(1, LAN, "host_bad_source"));
    l.sim
        .host_write(1, "lan", &ip_frame(CLIENT_MAC, mac(1, LAN), &answer));
    assert_eq!(l.drops(1, LAN, "host_bad_source"), bad + 1);
    assert!(l.sent(1, LAN, s1).is_empty());
}

#[test]
fn the_routers_own_connections_pass_the_wan_local_chain_unsolicited_ones_do_not() {
    let mut l = lab();
    let (h0, v0) = (l.host_mark(0), l.sim.mark(l.server));
    // The router's kernel pings the server and opens a TCP connection
    // from its own WAN address (no SNAT: rule 10 is for the LAN).
    let ping = echo(8, R0_WAN, SERVER, 77, 1, b"ping", 64);
    l.sim
        .host_write(0, "wan", &ip_frame(SERVER_MAC, mac(0, WAN), &ping));
    let syn = tcp(R0_WAN, 41000, SERVER, 80, TCP_SYN, 100, 0, b"");
    l.sim
        .host_write(0, "wan", &ip_frame(SERVER_MAC, mac(0, WAN), &syn));
    l.sim.run_for(Duration::from_millis(20));
    let at_server = l.sim.got(l.server, v0);
    assert!(
        at_server
            .iter()
            .any(|p| p.src == R0_WAN && p.icmp == Some((8, 0)))
    );
    assert!(at_server.iter().any(|p| p.src == R0_WAN && p.dport == 80));
    // The server's answers are established: into the WAN TAP.
    l.send(
        l.server,
        &tcp(SERVER, 80, R0_WAN, 41000, TCP_SYN | TCP_ACK, 5000, 101, b""),
    );
    let got = l.host_ip(0, WAN, h0);
    assert!(
        got.iter().any(|p| p.icmp == Some((0, 0)) && p.sport == 77),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|p| p.sport == 80 && p.flags == TCP_SYN | TCP_ACK)
    );
    // Unsolicited: the local chain drops it, counted.
    let (h0, fw) = (l.host_mark(0), l.drops(0, WAN, "fw_drop"));
    l.send(
        l.server,
        &tcp(SERVER, 50000, R0_WAN, 22, TCP_SYN, 1, 0, b""),
    );
    l.send(l.server, &udp(SERVER, 50000, R0_WAN, 53, b"q"));
    assert!(l.host_ip(0, WAN, h0).is_empty());
    assert_eq!(l.drops(0, WAN, "fw_drop"), fw + 2);
}

#[test]
fn the_out_chain_applies_to_host_frames() {
    let mut l = lab_with(
        |c| {
            c.ruleset("lan_out", FirewallAction::Accept, "lan", Direction::Out)
                .rule("lan_out", FirewallAction::Drop, |r| {
                    r.destination_port = Some(hagw::config::PortRange { lo: 25, hi: 25 });
                    r.protocol = Some(hagw::config::Protocol::Udp);
                })
        },
        false,
    );
    let (s0, fw) = (l.sim.sent.len(), l.drops(0, LAN, "fw_drop"));
    let blocked = udp(R0_LAN, 1000, CLIENT, 25, b"no");
    let allowed = udp(R0_LAN, 1000, CLIENT, 26, b"yes");
    l.sim
        .host_write(0, "lan", &ip_frame(CLIENT_MAC, mac(0, LAN), &blocked));
    l.sim
        .host_write(0, "lan", &ip_frame(CLIENT_MAC, mac(0, LAN), &allowed));
    assert_eq!(l.drops(0, LAN, "fw_drop"), fw + 1);
    assert_eq!(l.sent(0, LAN, s0).len(), 1);
}

#[test]
fn forwarded_traffic_never_reaches_the_host() {
    let mut l = lab();
    let (h0, v0) = (l.host_mark(0), l.sim.mark(l.server));
    for i in 0..5 {
        l.send(l.client, &udp(CLIENT, 6000 + i, SERVER, 53, b"through"));
    }
    assert_eq!(l.sim.got(l.server, v0).len(), 5);
    // (The server's ARP reply to hagw's resolver is copied: neighbours.)
    assert!(
        l.host_ip(0, LAN, h0).is_empty(),
        "forwarding never touches the TAP"
    );
    assert!(
        l.host_ip(0, WAN, h0).is_empty(),
        "forwarding never touches the TAP"
    );
}

/// One engine, no simulator: a flood to the router's address fills the
/// host queue and is counted; forwarding keeps working meanwhile.
#[test]
fn the_host_queue_is_bounded_and_overflow_counted() {
    let cfg = config(1, 200, false).build();
    let macs = [mac(0, LAN), mac(0, WAN)];
    let mut e = Engine::new(&cfg, &macs, Instant::from_secs(1)).unwrap();
    let mut tx = TxQueue::with_capacity(64);
    let now = Instant::from_secs(1);
    let n = HOST_QUEUE + 72;
    for i in 0..n {
        let ip = udp(CLIENT, 1000 + i as u16, R0_LAN, 53, b"flood");
        let mut f = ip_frame(mac(0, LAN), CLIENT_MAC, &ip);
        e.handle_frame(now, LAN, &mut f, &mut tx);
    }
    assert_eq!(e.host_frames().count(), HOST_QUEUE);
    let s = e.snapshot(now);
    let full = s.ports[LAN]
        .drops
        .iter()
        .find(|(n, _)| *n == "host_queue_full");
    assert_eq!(full.map(|x| x.1), Some(72));
    let (name, c) = s.ports[LAN].host_tap.clone().unwrap();
    assert_eq!(
        (name.as_str(), c.to_host_frames),
        ("hagw-lan", HOST_QUEUE as u64)
    );
    e.clear_host_frames();
    assert_eq!(e.host_frames().count(), 0);
}

/// `option host_tap '0'`: traffic for the router that hagw does not
/// answer is dropped and counted as before.
#[test]
fn without_a_tap_host_traffic_is_no_host() {
    let cfg = gateway_config(1, 200, |_| {}).build();
    let macs = [mac(0, LAN), mac(0, WAN)];
    let mut e = Engine::new(&cfg, &macs, Instant::from_secs(1)).unwrap();
    let mut tx = TxQueue::with_capacity(64);
    let now = Instant::from_secs(1);
    let ip = udp(CLIENT, 1000, R0_LAN, 53, b"q");
    e.handle_frame(
        now,
        LAN,
        &mut ip_frame(mac(0, LAN), CLIENT_MAC, &ip),
        &mut tx,
    );
    assert_eq!(e.host_frames().count(), 0);
    let s = e.snapshot(now);
    let nh = s.ports[LAN].drops.iter().find(|(n, _)| *n == "no_host");
    assert_eq!(nh.map(|x| x.1), Some(1));
    assert!(s.ports[LAN].host_tap.is_none());
}

/// Whatever the kernel writes into a TAP (garbage, truncations, frames
/// with wild lengths) is dropped and counted, never a panic.
#[test]
fn random_host_frames_never_panic() {
    let cfg = config(1, 200, true).build();
    let macs = [mac(0, LAN), mac(0, WAN)];
    let mut e = Engine::new(&cfg, &macs, Instant::from_secs(1)).unwrap();
    let mut tx = TxQueue::with_capacity(64);
    let mut rng = sim::Rng::new(99);
    let valid = ip_frame(
        CLIENT_MAC,
        mac(0, LAN),
        &udp(R0_LAN, 53, CLIENT, 5353, b"x"),
    );
    let arp = ether(
        BCAST,
        mac(0, LAN),
        0x0806,
        &packet::arp(1, mac(0, LAN), R0_LAN, [0; 6], CLIENT),
    );
    for i in 0..20_000u64 {
        let base = if i % 2 == 0 { &valid } else { &arp };
        let mut f = base.clone();
        let len = (rng.next_u64() % 1600) as usize;
        f.resize(len, 0);
        for _ in 0..(rng.next_u64() % 4) {
            if !f.is_empty() {
                let at = (rng.next_u64() as usize) % f.len();
                f[at] = rng.next_u64() as u8;
            }
        }
        e.handle_host_frame(Instant::from_secs(1), (i % 3) as usize, &f, &mut tx);
        tx.clear();
    }
}

/// No NAT for the host's own traffic unless a SNAT rule says so: a rule
/// for the router's WAN address translates its flows to the WAN VIP (the
/// answers come back translated to the kernel's own address and port).
#[test]
fn a_snat_rule_for_the_routers_address_translates_host_flows() {
    let wan_vip = Ipv4Addr::new(10, 0, 0, 1);
    let mut l = lab_with(|c| c.snat(30, "wan", "10.0.0.2/32", "10.0.0.1"), false);
    let v0 = l.sim.mark(l.server);
    let q = udp(R0_WAN, 41000, SERVER, 53, b"ntp-ish");
    l.sim
        .host_write(0, "wan", &ip_frame(SERVER_MAC, mac(0, WAN), &q));
    l.sim.run_for(Duration::from_millis(20));
    let at_server = l.sim.got(l.server, v0);
    assert_eq!(at_server.len(), 1, "{at_server:?}");
    let p = &at_server[0];
    assert_eq!(
        (p.src, p.dport, &p.payload[..]),
        (wan_vip, 53, &b"ntp-ish"[..])
    );
    let h0 = l.host_mark(0);
    l.send(l.server, &udp(SERVER, 53, wan_vip, p.sport, b"answer"));
    let got = l.host_ip(0, WAN, h0);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].dst, got[0].dport), (R0_WAN, 41000));
    assert_eq!(got[0].payload, b"answer");
}

/// `ip` (an IPv4 packet from tests/sim/packet.rs) cut at `at` (a multiple
/// of 8) of its payload into two fragments.
fn fragments(ip: &[u8], at: usize) -> [Vec<u8>; 2] {
    let (head, l4) = ip.split_at(20);
    let part = |data: &[u8], off: usize, more: bool| {
        let mut h = head.to_vec();
        h[2..4].copy_from_slice(&((20 + data.len()) as u16).to_be_bytes());
        let flags = ((off / 8) as u16) | if more { 0x2000 } else { 0 };
        h[6..8].copy_from_slice(&flags.to_be_bytes());
        h[10..12].copy_from_slice(&[0, 0]);
        let mut acc: u32 = h
            .chunks(2)
            .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
            .sum();
        while acc > 0xffff {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        h[10..12].copy_from_slice(&(!(acc as u16)).to_be_bytes());
        h.extend_from_slice(data);
        h
    };
    [part(&l4[..at], 0, true), part(&l4[at..], at, false)]
}

/// A fragmented answer to the router's own query passes the WAN's local
/// chain (drop new) as its first fragment did; a later fragment whose
/// first never came is dropped (`frag_no_first`).
#[test]
fn later_fragments_to_the_host_follow_their_first() {
    let mut l = lab();
    let q = udp(R0_WAN, 41000, SERVER, 53, b"query");
    l.sim
        .host_write(0, "wan", &ip_frame(SERVER_MAC, mac(0, WAN), &q));
    l.sim.run_for(Duration::from_millis(20));
    let answer = udp(SERVER, 53, R0_WAN, 41000, &[7u8; 40]);
    let [f1, f2] = fragments(&answer, 24);
    let h0 = l.host_mark(0);
    l.send(l.server, &f1);
    l.send(l.server, &f2);
    assert_eq!(
        l.host_ip(0, WAN, h0).len(),
        2,
        "both fragments reach the TAP"
    );
    let (h0, nf) = (l.host_mark(0), l.drops(0, WAN, "frag_no_first"));
    let mut stray = fragments(&udp(SERVER, 53, R0_WAN, 41001, &[1u8; 40]), 24)[1].clone();
    stray[5] ^= 0x55; // another IP id: its first fragment never came
    let mut acc: u32 = 0;
    stray[10..12].copy_from_slice(&[0, 0]);
    for c in stray[..20].chunks(2) {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    stray[10..12].copy_from_slice(&(!(acc as u16)).to_be_bytes());
    l.send(l.server, &stray);
    assert_eq!(l.host_mark(0), h0);
    assert_eq!(l.drops(0, WAN, "frag_no_first"), nf + 1);
}
