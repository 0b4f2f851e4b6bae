//! The dataplane in the simulator: end hosts (tests/sim/host.rs) talk to and
//! through the routers; packets are built and checked with an independent
//! codec (tests/sim/packet.rs).

mod sim;

use hagw::time::{Duration, Instant};
use sim::Sim;
use sim::config::ConfigBuilder;
use sim::host::Host;
use sim::packet::{echo_request, parse};
use std::net::Ipv4Addr;

/// A host resolves the VIP with ARP and gets its ping answered by the master.
#[test]
fn host_pings_the_vip() {
    let mut sim = Sim::new(5);
    let cfg = ConfigBuilder::new(1)
        .interface("lan", "192.168.10.2/24")
        .group("g", "lan", 51, &["192.168.10.1/24"], |g| g.priority = 200)
        .build();
    sim.add_router("R0", cfg);
    let lan = sim.connect("lan", &[(0, "lan")]);
    let c = sim.add_host(Host::new(
        "client",
        1,
        "192.168.10.100/24",
        Some("192.168.10.1"),
    ));
    sim.connect_host(lan, c);
    sim.run_until(Instant::from_secs(6));
    let vip = Ipv4Addr::new(192, 168, 10, 1);
    sim.host_send(c, &echo_request(sim.hosts[c].ip, vip, 0x77, 1, 64));
    sim.run_for(Duration::from_millis(10));
    let got: Vec<_> = sim.hosts[c].packets();
    assert_eq!(got.len(), 1, "one echo reply");
    assert_eq!(got[0].src, vip);
    assert_eq!(got[0].icmp, Some((0, 0)));
    assert_eq!((got[0].sport, got[0].dport), (0x77, 1));
    assert_eq!(sim.hosts[c].arp_requests_sent, 1);
    let _ = parse(&sim.hosts[c].received[0].1).unwrap();
}
