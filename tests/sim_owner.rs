//! The VRRP address owner (issue 12), in the simulator: what an owner
//! answers while it is not master, the MAC it answers with in RFC mode, that
//! it always preempts, that a second owner does not demote it, and that a v3
//! advert with a zero interval is discarded.

mod sim;

use hagw::config::VrrpGroup;
use hagw::time::{Duration, Instant};
use hagw::vrrp::VrrpState::*;
use sim::config::ConfigBuilder;
use sim::{AdvertFrame, Sim, arp_reply_of};

const OWNER: &str = "192.168.10.2";
const VMAC_51: [u8; 6] = [0x00, 0x00, 0x5e, 0x00, 0x01, 51];

fn secs(s: u64) -> Instant {
    Instant::from_secs(s)
}

/// R0 owns 192.168.10.2 (group "lan_gw", vrid 51, tracking wan), R1 backs it
/// up at priority 100. With `sync`, both routers also run "wan_gw" (vrid 52)
/// in sync group "gw" (R0 priority 200, R1 100). `f(router, group)` adjusts.
fn owner_pair(sync: bool, f: impl Fn(usize, &mut VrrpGroup)) -> Sim {
    let mut sim = Sim::new(7);
    for r in 0..2 {
        let mut b = ConfigBuilder::new(r as u16 + 1)
            .interface("lan", &format!("192.168.10.{}/24", r + 2))
            .interface("wan", &format!("10.0.0.{}/24", r + 2))
            .group("lan_gw", "lan", 51, &[&format!("{OWNER}/24")], |g| {
                g.priority = 100;
                if !sync {
                    g.track_interfaces = vec!["wan".into()];
                } else {
                    g.sync_group = Some("gw".into());
                }
                f(r, g)
            });
        if sync {
            b = b.group("wan_gw", "wan", 52, &["10.0.0.1/24"], |g| {
                g.priority = if r == 0 { 200 } else { 100 };
                g.sync_group = Some("gw".into());
                f(r, g)
            });
        }
        sim.add_router(&format!("R{r}"), b.build());
    }
    sim.connect("lan", &[(0, "lan"), (1, "lan")]);
    sim.connect("wan", &[(0, "wan"), (1, "wan")]);
    sim
}

/// The ARP replies router `r` sent for `ip` since `since`, as sender MACs.
fn arp_replies(sim: &Sim, r: usize, ip: &str, since: Instant) -> Vec<[u8; 6]> {
    let ip: std::net::Ipv4Addr = ip.parse().unwrap();
    sim.sent
        .iter()
        .filter(|s| s.router == r && s.at >= since)
        .filter_map(|s| arp_reply_of(&s.bytes))
        .filter(|(_, a)| *a == ip)
        .map(|(m, _)| m)
        .collect()
}

/// An ICMP echo request from a LAN client to `dst`, addressed to `dst_mac`.
fn echo_to(dst: &str, dst_mac: [u8; 6]) -> Vec<u8> {
    let dst: std::net::Ipv4Addr = dst.parse().unwrap();
    let src = std::net::Ipv4Addr::new(192, 168, 10, 77);
    let mut f = dst_mac.to_vec();
    f.extend_from_slice(&[0x02, 0xee, 0, 0, 0, 2, 0x08, 0x00]);
    let mut ip = vec![0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0];
    ip.extend_from_slice(&src.octets());
    ip.extend_from_slice(&dst.octets());
    let c = !fold(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut icmp = vec![8, 0, 0, 0, 0x12, 0x34, 0, 1];
    let c = !fold(&icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&icmp);
    f
}

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

/// Echo replies router `r` sent since `since`.
fn echo_replies(sim: &Sim, r: usize, since: Instant) -> usize {
    sim.sent
        .iter()
        .filter(|s| s.router == r && s.at >= since)
        .filter(|s| s.bytes.len() > 34 && s.bytes[12..14] == [8, 0] && s.bytes[23] == 1)
        .filter(|s| s.bytes[34] == 0)
        .count()
}

fn mac(sim: &Sim, r: usize, iface: &str) -> [u8; 6] {
    sim.routers[r].macs[sim.port(r, iface)]
}

/// Bug 1: an owner in FAULT answers neither ARP nor ping for its address;
/// only the new master answers, with the virtual MAC (RFC mode).
#[test]
fn owner_in_fault_answers_nothing_for_the_vip() {
    let mut sim = owner_pair(false, |_, g| g.rfc3768_compatibility = true);
    sim.run_until(secs(5));
    assert_eq!(sim.state(0, "lan_gw"), Some(Master));
    sim.set_link(0, "wan", false);
    sim.run_until(secs(12));
    assert_eq!(sim.state(0, "lan_gw"), Some(Fault));
    assert_eq!(sim.state(1, "lan_gw"), Some(Master));
    let t = sim.now;
    for r in 0..2 {
        sim.inject(r, "lan", &sim::arp_request("192.168.10.77", OWNER));
    }
    assert_eq!(arp_replies(&sim, 0, OWNER, t), Vec::<[u8; 6]>::new());
    assert_eq!(arp_replies(&sim, 1, OWNER, t), vec![VMAC_51]);
    let m0 = mac(&sim, 0, "lan");
    sim.inject(0, "lan", &echo_to(OWNER, m0));
    sim.inject(1, "lan", &echo_to(OWNER, VMAC_51));
    assert_eq!(
        echo_replies(&sim, 0, t),
        0,
        "a faulted owner answers no ping"
    );
    assert_eq!(echo_replies(&sim, 1, t), 1, "the master answers the ping");
}

/// Bug 1, sync-group variant: an owner held in BACKUP by its sync group
/// (the WAN member is in FAULT) does not answer ARP for its address.
#[test]
fn owner_held_in_backup_by_sync_group_answers_no_arp() {
    let mut sim = owner_pair(true, |_, _| {});
    sim.run_until(secs(5));
    assert_eq!(sim.state(0, "lan_gw"), Some(Master));
    sim.set_link(0, "wan", false);
    sim.run_until(secs(12));
    assert_eq!(sim.state(0, "wan_gw"), Some(Fault));
    assert_eq!(sim.state(0, "lan_gw"), Some(Backup));
    let t = sim.now;
    sim.inject(0, "lan", &sim::arp_request("192.168.10.77", OWNER));
    assert!(arp_replies(&sim, 0, OWNER, t).is_empty());
    // Its other addresses are unaffected: the WAN address is not a VIP.
    sim.set_link(0, "wan", true);
    sim.inject(0, "wan", &sim::arp_request("10.0.0.77", "10.0.0.2"));
    assert_eq!(
        arp_replies(&sim, 0, "10.0.0.2", t),
        vec![mac(&sim, 0, "wan")]
    );
}

/// Bug 2: in RFC mode the master owner answers ARP for its address with the
/// virtual MAC, like its adverts and gratuitous ARPs.
#[test]
fn rfc_mode_owner_answers_arp_with_the_virtual_mac() {
    let mut sim = owner_pair(false, |_, g| g.rfc3768_compatibility = true);
    sim.run_until(secs(5));
    assert_eq!(sim.state(0, "lan_gw"), Some(Master));
    let t = sim.now;
    sim.inject(0, "lan", &sim::arp_request("192.168.10.77", OWNER));
    assert_eq!(arp_replies(&sim, 0, OWNER, t), vec![VMAC_51]);
    // Default MAC mode: the interface MAC.
    let mut sim = owner_pair(false, |_, _| {});
    sim.run_until(secs(5));
    let t = sim.now;
    sim.inject(0, "lan", &sim::arp_request("192.168.10.77", OWNER));
    assert_eq!(arp_replies(&sim, 0, OWNER, t), vec![mac(&sim, 0, "lan")]);
}

/// Bug 3: an owner with preempt off, forced to BACKUP by its sync group,
/// takes its address back once it can (RFC 5798 §6.1), ignoring preempt
/// and preempt_delay, and brings its sync group along.
#[test]
fn owner_always_preempts() {
    let mut sim = owner_pair(true, |_, g| {
        g.preempt = false;
        g.preempt_delay_secs = 300;
    });
    sim.run_until(secs(5));
    assert_eq!(sim.masters("lan_gw"), vec![0]);
    sim.set_link(0, "wan", false);
    sim.run_until(secs(12));
    assert_eq!(sim.masters("lan_gw"), vec![1]);
    assert_eq!(sim.masters("wan_gw"), vec![1]);
    sim.set_link(0, "wan", true);
    let back = sim.now;
    sim.run_until(secs(20));
    assert_eq!(
        sim.masters("lan_gw"),
        vec![0],
        "the owner took its address back"
    );
    assert_eq!(sim.masters("wan_gw"), vec![0], "and its sync group along");
    let took = sim
        .trace
        .iter()
        .find(|e| e.router == 0 && e.group == "lan_gw" && e.state == Master && e.at > back)
        .unwrap()
        .at;
    // Master_Down_Interval at priority 255: 3 s + skew (1/256 s), not 300 s.
    assert!(
        took - back <= Duration::from_millis(3100),
        "{:?}",
        took - back
    );
}

/// Bug 4: a priority-255 advert from another router (a second "owner")
/// does not demote the owner: discarded, counted, logged.
#[test]
fn second_owner_advert_is_discarded_and_counted() {
    let mut sim = owner_pair(false, |_, _| {});
    sim.run_until(secs(5));
    assert_eq!(sim.state(0, "lan_gw"), Some(Master));
    for _ in 0..3 {
        sim.inject(
            0,
            "lan",
            &AdvertFrame::v2("192.168.10.200", 51, 255, &[OWNER]).build(),
        );
    }
    sim.run_until(secs(8));
    assert_eq!(sim.state(0, "lan_gw"), Some(Master));
    let snap = sim.routers[0].engine.as_ref().unwrap().snapshot(sim.now);
    assert_eq!(snap.groups[0].counters.owner_conflict, 3);
    let drop = snap.ports[0]
        .drops
        .iter()
        .find(|(n, _)| *n == "vrrp_owner_conflict")
        .unwrap()
        .1;
    assert_eq!(drop, 3);
}

/// RFC 9568 erratum: a v3 advert with Max Adver Int 0 is discarded (counted
/// as an interval error), not clamped.
#[test]
fn v3_advert_with_zero_interval_is_discarded() {
    let mut sim = Sim::new(3);
    let cfg = ConfigBuilder::new(1)
        .interface("lan", "192.168.42.2/24")
        .group("g", "lan", 42, &["192.168.42.50/24"], |g| {
            g.version = 3;
            g.advert_interval_cs = 100;
        })
        .build();
    sim.add_router("R0", cfg);
    sim.connect("lan", &[(0, "lan")]);
    sim.run_until(secs(1) + Duration::from_millis(500));
    assert_eq!(sim.state(0, "g"), Some(Backup));
    let mut adv = AdvertFrame::v2("192.168.42.9", 42, 250, &["192.168.42.50"]);
    adv.version = 3;
    adv.interval = 0;
    // Keep sending it: were it accepted, the backup would never take over.
    for _ in 0..10 {
        sim.inject(0, "lan", &adv.build());
        sim.run_for(Duration::from_millis(500));
    }
    assert_eq!(sim.state(0, "g"), Some(Master));
    let g = &sim.routers[0]
        .engine
        .as_ref()
        .unwrap()
        .snapshot(sim.now)
        .groups[0];
    assert_eq!(g.counters.rx_interval_mismatch, 10);
}
