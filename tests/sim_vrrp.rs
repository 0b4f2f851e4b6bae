//! Simulator tests beyond the SPEC scenarios: priority 0, VRRPv3 timing
//! with a learned interval, bad adverts, RFC mode, unicast peers, tracked
//! interfaces, reload, determinism and a lossy soak.

mod sim;

use hagw::config::{Config, VrrpAuth, VrrpGroup};
use hagw::time::{Duration, Instant};
use hagw::vrrp::VrrpState::{self, *};
use sim::config::{ConfigBuilder, ip};
use sim::{
    AdvertFrame, LINK_DELAY, Sim, advert_of, arp_reply_of, garp_of, group_status, ip_checksum,
    port_drop,
};

const TICK: Duration = Duration::from_millis(1);

fn secs(s: u64) -> Instant {
    Instant::from_secs(s)
}

fn assert_near(what: &str, got: Instant, want: Instant) {
    let d = if got > want { got - want } else { want - got };
    assert!(d <= TICK, "{what}: got {got:?}, want {want:?} (±1 ms)");
}

/// Two routers on one LAN, group "g" vrid 42; `f(router index, group)` adjusts.
fn pair(seed: u64, f: impl Fn(usize, &mut VrrpGroup)) -> Sim {
    let mut sim = Sim::new(seed);
    for r in 0..2 {
        let cfg = ConfigBuilder::new(r as u16 + 1)
            .interface("lan", &format!("192.168.42.{}/24", r + 2))
            .group("g", "lan", 42, &["192.168.42.50/24"], |g| f(r, g))
            .build();
        sim.add_router(&format!("R{r}"), cfg);
    }
    sim.connect("lan", &[(0, "lan"), (1, "lan")]);
    sim
}

/// A master that stops gracefully sends priority 0; the backup takes over
/// after its Skew_Time, not Master_Down_Interval.
#[test]
fn priority_zero_takeover_after_skew_time() {
    let mut sim = pair(11, |r, g| g.priority = if r == 1 { 200 } else { 100 });
    sim.run_until(secs(10));
    assert_eq!(sim.masters("g"), vec![1]);
    sim.run_until(secs(20) + Duration::from_millis(400));
    let stop = sim.now;
    sim.stop(1);
    assert_eq!(
        sim.adverts(1, 42).last(),
        Some(&(stop, 0)),
        "priority 0 advert at stop"
    );
    assert_eq!(
        sim.trace.last().map(|t| (t.router, t.state)),
        Some((1, Init))
    );
    sim.run_until(secs(30));
    let skew = Duration::from_micros(156 * 1_000_000 / 256);
    assert_near(
        "takeover after skew",
        sim.entered(0, "g", Master, stop).unwrap(),
        stop + LINK_DELAY + skew,
    );
    assert_eq!(group_status(&sim, 0).counters.priority_zero_rx, 1);
}

/// VRRPv3 at 100 ms: the backup (configured 1 s) learns the master's 100 ms
/// Max Adver Int and takes over after 3 × 100 ms + skew, not 3 s.
#[test]
fn v3_learned_interval_takeover_timing() {
    let mut sim = pair(12, |r, g| {
        g.version = 3;
        if r == 1 {
            g.priority = 200;
            g.advert_interval_cs = 10;
        } else {
            g.priority = 100;
            g.advert_interval_cs = 100;
        }
    });
    sim.run_until(secs(10));
    assert_eq!(sim.masters("g"), vec![1]);
    // ten adverts per second from the master
    let n = sim
        .adverts(1, 42)
        .iter()
        .filter(|(t, _)| *t > secs(8) && *t <= secs(9))
        .count();
    assert_eq!(n, 10);
    let st = group_status(&sim, 0);
    assert_eq!(
        (st.advert_interval_cs, st.master_advert_interval_cs),
        (100, 10)
    );
    sim.run_until(secs(10) + Duration::from_millis(55));
    sim.kill(1);
    let last = sim.adverts(1, 42).last().unwrap().0;
    sim.run_until(secs(20));
    // skew = (256-100) × 10 cs / 256 = 60.9375 ms
    let want = last + LINK_DELAY + Duration::from_millis(300) + Duration::from_micros(60_937);
    assert_near(
        "v3 takeover",
        sim.entered(0, "g", Master, secs(10)).unwrap(),
        want,
    );
}

/// Adverts with TTL 254, a bad checksum, a wrong password, a wrong auth
/// type, a wrong version, a wrong interval, a bad length or another address
/// list are counted and never change state; the same advert without the
/// defect does.
#[test]
fn bad_adverts_counted_and_ignored() {
    let mut sim = pair(13, |r, g| {
        g.priority = if r == 1 { 200 } else { 100 };
        g.auth = VrrpAuth::Plaintext("s3cret".into());
    });
    sim.run_until(secs(10));
    assert_eq!(sim.masters("g"), vec![1]);
    let key = *b"s3cret\0\0";
    let good = || {
        let mut a = AdvertFrame::v2("192.168.42.9", 42, 254, &["192.168.42.50"]);
        a.auth = Some(key);
        a
    };
    let trace_len = sim.trace.len();
    let mut bad = Vec::new();
    let mut a = good();
    a.ttl = 254;
    bad.push(("vrrp_ttl", a.build()));
    let mut a = good();
    a.corrupt_checksum = true;
    bad.push(("vrrp_checksum", a.build()));
    let mut a = good();
    a.auth = Some(*b"wrong\0\0\0");
    bad.push(("vrrp_auth", a.build()));
    let mut a = good();
    a.auth = None;
    bad.push(("vrrp_auth", a.build()));
    let mut a = good();
    a.version = 3;
    bad.push(("vrrp_version", a.build()));
    let mut a = good();
    a.interval = 2;
    bad.push(("vrrp_interval", a.build()));
    let mut a = good();
    a.vips = vec![ip("192.168.42.51")];
    bad.push(("vrrp_address_list", a.build()));
    let mut a = good();
    a.dst = ip("224.0.0.19");
    bad.push(("vrrp_bad_dst", a.build()));
    // version 4: rejected by the parser
    let mut f = good().build();
    f[14 + 20] = 0x41;
    bad.push(("vrrp_version", f));
    // a trailing byte: length mismatch (IP total length includes it)
    let mut f = good().build();
    f.push(0);
    f[14 + 3] += 1;
    f[14 + 10] = 0;
    f[14 + 11] = 0;
    let c = ip_checksum(&f[14..34]);
    f[14 + 10..14 + 12].copy_from_slice(&c.to_be_bytes());
    bad.push(("vrrp_length", f));
    for (why, f) in &bad {
        let before = port_drop(&sim, 1, why);
        sim.inject(1, "lan", f);
        assert_eq!(port_drop(&sim, 1, why), before + 1, "{why}");
        sim.run_for(Duration::from_millis(100));
    }
    sim.run_for(Duration::from_secs(5));
    assert_eq!(
        sim.trace.len(),
        trace_len,
        "no state change from bad adverts"
    );
    assert_eq!(sim.masters("g"), vec![1]);
    let c = group_status(&sim, 1).counters;
    assert_eq!(
        (
            c.rx_ttl_error,
            c.rx_checksum_error,
            c.rx_auth_error,
            c.rx_version_error,
            c.rx_interval_mismatch,
            c.rx_address_list_error,
            c.rx_length_error
        ),
        (1, 1, 2, 2, 1, 1, 1)
    );
    // an advert for a VRID we do not run is counted at port level
    let before = port_drop(&sim, 1, "vrrp_unknown_vrid");
    let mut a = good();
    a.vrid = 43;
    sim.inject(1, "lan", &a.build());
    assert_eq!(port_drop(&sim, 1, "vrrp_unknown_vrid"), before + 1);
    // control: the same advert without defects makes the master yield
    sim.inject(1, "lan", &good().build());
    assert_eq!(sim.state(1, "g"), Some(Backup));
}

/// RFC mode: adverts, GARP and ARP replies for the VIP use 00:00:5e:00:01:VRID;
/// the interface address is still answered with the interface MAC.
#[test]
fn rfc3768_mode_uses_virtual_mac() {
    let mut sim = pair(14, |r, g| {
        g.rfc3768_compatibility = true;
        g.priority = if r == 0 { 200 } else { 100 };
    });
    sim.run_until(secs(10));
    assert_eq!(sim.masters("g"), vec![0]);
    let vmac = [0x00, 0x00, 0x5e, 0x00, 0x01, 42];
    let adv = sim
        .sent
        .iter()
        .find(|s| s.router == 0 && advert_of(&s.bytes).is_some())
        .unwrap();
    assert_eq!(adv.bytes[6..12], vmac);
    let garp = sim
        .sent
        .iter()
        .find(|s| s.router == 0 && garp_of(&s.bytes).is_some())
        .unwrap();
    assert_eq!(garp.bytes[6..12], vmac);
    let mark = sim.sent.len();
    sim.inject(
        0,
        "lan",
        &sim::arp_request("192.168.42.77", "192.168.42.50"),
    );
    sim.inject(0, "lan", &sim::arp_request("192.168.42.77", "192.168.42.2"));
    sim.inject(
        1,
        "lan",
        &sim::arp_request("192.168.42.77", "192.168.42.50"),
    );
    let replies: Vec<_> = sim.sent[mark..]
        .iter()
        .filter_map(|s| arp_reply_of(&s.bytes))
        .collect();
    assert_eq!(
        replies,
        vec![
            (vmac, ip("192.168.42.50")),
            (sim.routers[0].macs[0], ip("192.168.42.2"))
        ]
    );
}

/// Unicast peers: adverts go to the peer address (broadcast MAC) and the
/// election works the same.
#[test]
fn unicast_peers_elect_and_fail_over() {
    let mut sim = pair(15, |r, g| {
        g.unicast_peers = vec![ip(&format!("192.168.42.{}", 3 - r))];
        g.priority = if r == 0 { 150 } else { 100 };
    });
    sim.run_until(secs(10));
    assert_eq!(sim.masters("g"), vec![0]);
    let adv = sim
        .sent
        .iter()
        .find(|s| s.router == 0 && advert_of(&s.bytes).is_some())
        .unwrap();
    assert_eq!(adv.bytes[0..6], [0xff; 6]);
    assert_eq!(adv.bytes[30..34], [192, 168, 42, 3]);
    sim.kill(0);
    sim.run_until(secs(20));
    assert_eq!(sim.masters("g"), vec![1]);
}

/// A tracked interface going down puts the group in FAULT (priority 0 sent,
/// peer takes over); coming back, the group returns to BACKUP and preempts.
#[test]
fn tracked_interface_fault() {
    let mut sim = Sim::new(16);
    for r in 0..2usize {
        let cfg = ConfigBuilder::new(r as u16 + 1)
            .interface("lan", &format!("192.168.42.{}/24", r + 2))
            .interface("wan", &format!("10.0.0.{}/24", r + 2))
            .group("g", "lan", 42, &["192.168.42.50/24"], |g| {
                g.priority = if r == 0 { 200 } else { 100 };
                g.track_interfaces = vec!["wan".into()];
            })
            .build();
        sim.add_router(&format!("R{r}"), cfg);
    }
    sim.connect("lan", &[(0, "lan"), (1, "lan")]);
    sim.run_until(secs(10));
    assert_eq!(sim.masters("g"), vec![0]);
    sim.set_link(0, "wan", false);
    assert_eq!(sim.state(0, "g"), Some(Fault));
    assert_eq!(sim.adverts(0, 42).last(), Some(&(secs(10), 0)));
    sim.run_until(secs(20));
    assert_eq!(sim.masters("g"), vec![1]);
    assert!(!group_status(&sim, 0).interface_up || sim.state(0, "g") == Some(Fault));
    sim.set_link(0, "wan", true);
    assert_eq!(sim.state(0, "g"), Some(Backup));
    sim.run_until(secs(30));
    assert_eq!(sim.masters("g"), vec![0]);
    // own link down: FAULT, and nothing is sent on a down link
    let sent_before = sim.sent.len();
    sim.set_link(0, "lan", false);
    assert_eq!(sim.state(0, "g"), Some(Fault));
    assert_eq!(sim.sent.len(), sent_before);
}

/// Reload: an unchanged group keeps its state (no transition), a removed
/// master group sends priority 0, a new group starts INIT → BACKUP.
#[test]
fn reload_keeps_unchanged_groups() {
    let cfg = |with_g2: bool, with_g3: bool| -> Config {
        let mut b = ConfigBuilder::new(1)
            .interface("lan", "192.168.42.2/24")
            .group("g1", "lan", 1, &["192.168.42.50/24"], |g| g.priority = 200);
        if with_g2 {
            b = b.group("g2", "lan", 2, &["192.168.42.51/24"], |g| g.priority = 200);
        }
        if with_g3 {
            b = b.group("g3", "lan", 3, &["192.168.42.52/24"], |g| g.priority = 200);
        }
        b.build()
    };
    let mut sim = Sim::new(17);
    sim.add_router("R", cfg(true, false));
    sim.run_until(secs(10));
    assert_eq!(sim.masters("g1"), vec![0]);
    assert_eq!(sim.masters("g2"), vec![0]);
    let n = sim.trace.len();
    sim.reload(0, cfg(false, true));
    assert_eq!(sim.trace.len(), n, "unchanged group must not transition");
    assert_eq!(
        sim.adverts(0, 2).last(),
        Some(&(secs(10), 0)),
        "removed master sends priority 0"
    );
    sim.run_until(secs(11));
    assert_eq!(sim.state(0, "g3"), Some(Backup));
    assert_eq!(sim.state(0, "g1"), Some(Master));
    sim.run_until(secs(20));
    assert_eq!(sim.state(0, "g3"), Some(Master));
    let e = sim.routers[0].engine.as_ref().unwrap();
    assert_eq!(e.snapshot(sim.now).groups.len(), 2);
}

/// ICMP echo to the interface address is always answered, to the VIP only by
/// the master.
#[test]
fn echo_answered_for_vip_only_when_master() {
    let mut sim = pair(18, |r, g| g.priority = if r == 0 { 200 } else { 100 });
    sim.run_until(secs(10));
    let echo = |dst: &str, dst_mac: [u8; 6]| -> Vec<u8> {
        let d: std::net::Ipv4Addr = dst.parse().unwrap();
        let mut f = dst_mac.to_vec();
        f.extend_from_slice(&[0x02, 0xee, 0, 0, 0, 2, 0x08, 0x00]);
        let mut ip = vec![0x45, 0, 0, 32, 0, 1, 0, 0, 64, 1, 0, 0, 192, 168, 42, 77];
        ip.extend_from_slice(&d.octets());
        let c = ip_checksum(&ip);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        let mut icmp = vec![8, 0, 0, 0, 0x12, 0x34, 0, 1, 1, 2, 3, 4];
        let c = ip_checksum(&icmp);
        icmp[2..4].copy_from_slice(&c.to_be_bytes());
        f.extend_from_slice(&ip);
        f.extend_from_slice(&icmp);
        f
    };
    let m0 = sim.routers[0].macs[0];
    let m1 = sim.routers[1].macs[0];
    let is_reply = |b: &[u8]| b.len() > 34 && b[12..14] == [8, 0] && b[23] == 1 && b[34] == 0;
    for (r, dst, mac, want) in [
        (0, "192.168.42.50", m0, true),
        (1, "192.168.42.50", m1, false),
        (1, "192.168.42.3", m1, true),
        (0, "192.168.42.3", m0, false),
    ] {
        let mark = sim.sent.len();
        sim.inject(r, "lan", &echo(dst, mac));
        let got = sim.sent[mark..]
            .iter()
            .any(|s| s.router == r && is_reply(&s.bytes));
        assert_eq!(got, want, "router {r} echo to {dst}");
    }
}

fn soak_trace(seed: u64) -> Vec<sim::TraceEntry> {
    let mut sim = Sim::new(seed);
    for r in 0..3 {
        let cfg = ConfigBuilder::new(r as u16 + 1)
            .interface("lan", &format!("192.168.42.{}/24", r + 2))
            .group("g", "lan", 42, &["192.168.42.50/24"], |g| {
                g.priority = 100 + 50 * r as u8
            })
            .build();
        sim.add_router(&format!("R{r}"), cfg);
    }
    let seg = sim.connect("lan", &[(0, "lan"), (1, "lan"), (2, "lan")]);
    sim.set_loss(seg, 0.3);
    sim.run_until(secs(60));
    sim.trace
}

/// Same seed ⇒ same trace (with loss, so the PRNG matters).
#[test]
fn determinism_same_seed_same_trace() {
    let a = soak_trace(99);
    let b = soak_trace(99);
    assert!(a.len() > 3, "the lossy run must produce transitions");
    assert_eq!(a, b);
}

/// 10 minutes of virtual time at 20% loss among 3 routers: at most one
/// master almost all of the time, never none for long, and convergence to
/// the highest priority once the loss stops.
#[test]
fn lossy_soak_converges() {
    let mut sim = Sim::new(2024);
    sim.record = false;
    for r in 0..3 {
        let cfg = ConfigBuilder::new(r as u16 + 1)
            .interface("lan", &format!("192.168.42.{}/24", r + 2))
            .group("g", "lan", 42, &["192.168.42.50/24"], |g| {
                g.priority = 100 + 50 * r as u8
            })
            .build();
        sim.add_router(&format!("R{r}"), cfg);
    }
    let seg = sim.connect("lan", &[(0, "lan"), (1, "lan"), (2, "lan")]);
    sim.set_loss(seg, 0.2);
    sim.run_until(secs(10));
    let (mut samples, mut multi, mut none) = (0u32, 0u32, 0u32);
    let end = secs(610);
    while sim.now < end {
        sim.run_for(Duration::from_millis(100));
        let m = sim.masters("g").len();
        samples += 1;
        multi += u32::from(m > 1);
        none += u32::from(m == 0);
    }
    println!(
        "soak: {samples} samples, {multi} with >1 master, {none} with none, {} frames lost, {} delivered",
        sim.lost, sim.delivered
    );
    assert!(sim.lost > 150, "loss must actually happen: {}", sim.lost);
    assert!(
        multi * 100 < samples * 2,
        "more than one master in {multi}/{samples} samples"
    );
    assert!(
        none * 100 < samples,
        "no master in {none}/{samples} samples"
    );
    sim.set_loss(seg, 0.0);
    sim.run_for(Duration::from_secs(10));
    assert_eq!(sim.masters("g"), vec![2]);
    for r in 0..2 {
        assert_eq!(sim.state(r, "g"), Some(VrrpState::Backup));
    }
}

/// GARP: `garp_repeat` on becoming master (1 s apart), then one per VIP
/// every `garp_refresh_secs`; none while backup.
#[test]
fn garp_repeat_and_refresh() {
    let mut sim = pair(19, |r, g| {
        g.priority = if r == 0 { 200 } else { 100 };
        g.garp_repeat = 2;
        g.garp_refresh_secs = 20;
        g.virtual_addresses
            .push(sim::config::cidr("192.168.42.60/24"));
    });
    sim.run_until(secs(70));
    let became = sim.entered(0, "g", Master, secs(0)).unwrap();
    let garps = |r: usize| -> Vec<(Instant, std::net::Ipv4Addr)> {
        sim.sent
            .iter()
            .filter(|s| s.router == r)
            .filter_map(|s| garp_of(&s.bytes).map(|v| (s.at, v)))
            .collect()
    };
    let (v1, v2) = (ip("192.168.42.50"), ip("192.168.42.60"));
    let one = Duration::from_secs(1);
    let twenty = Duration::from_secs(20);
    let mut want = vec![
        (became, v1),
        (became, v2),
        (became + one, v1),
        (became + one, v2),
    ];
    for k in 1..=3 {
        if became + twenty * k <= secs(70) {
            want.push((became + twenty * k, v1));
            want.push((became + twenty * k, v2));
        }
    }
    assert_eq!(garps(0), want);
    assert!(garps(1).is_empty());
}

/// Partition with a 5 ms link: both sides become master (the isolated backup
/// after Master_Down_Interval, counted from the last advert + the delay,
/// GARP before its first advert); on heal the lower master's advert reaches
/// the higher one, which counts the split brain, re-asserts and re-sends
/// gratuitous ARP; the lower one yields.
#[test]
fn partition_split_brain_and_heal() {
    let mut sim = pair(20, |r, g| g.priority = if r == 0 { 200 } else { 100 });
    let delay = Duration::from_millis(5);
    sim.set_delay(0, delay);
    sim.run_until(secs(10));
    assert_eq!(sim.masters("g"), vec![0]);
    sim.partition(0, &[1]);
    let last = sim.adverts(0, 42).last().unwrap().0;
    sim.run_until(secs(20));
    assert_eq!(
        sim.masters("g"),
        vec![0, 1],
        "split brain while partitioned"
    );
    let mdi = Duration::from_secs(3) + Duration::from_micros(156 * 1_000_000 / 256);
    let t1 = sim.entered(1, "g", Master, secs(10)).unwrap();
    assert_near("isolated takeover", t1, last + delay + mdi);
    let first: Vec<bool> = sim
        .sent
        .iter()
        .filter(|s| s.router == 1 && s.at == t1)
        .map(|s| garp_of(&s.bytes).is_some())
        .collect();
    assert_eq!(first, vec![true, false], "GARP first, then the advert");
    // Heal right after R0's advert so that R1's advert is the first to cross:
    // R0 (the winner) then sees the other master.
    let l0 = sim.adverts(0, 42).last().unwrap().0;
    assert!(l0 <= sim.now);
    sim.run_until(l0 + Duration::from_secs(1) + Duration::from_micros(10));
    assert_eq!(
        sim.adverts(0, 42).last().unwrap().0,
        l0 + Duration::from_secs(1)
    );
    sim.heal(0);
    sim.run_until(secs(22));
    assert_eq!(sim.masters("g"), vec![0]);
    assert_eq!(sim.state(1, "g"), Some(Backup));
    assert!(group_status(&sim, 0).counters.split_brain >= 1);
    let regarp = sim.sent.iter().any(|s| {
        s.router == 0 && s.at > secs(20) && s.at <= secs(22) && garp_of(&s.bytes).is_some()
    });
    assert!(regarp, "the winner re-sends gratuitous ARP");
}

/// An address owner in a sync group is master at once and pulls its sync
/// partner along; if the partner's link is down at start, nobody is master.
#[test]
fn sync_group_with_owner_at_start() {
    let cfg = || {
        ConfigBuilder::new(1)
            .interface("lan", "192.168.10.1/24")
            .interface("wan", "10.0.0.2/24")
            .group("lan_gw", "lan", 51, &["192.168.10.1/24"], |g| {
                g.sync_group = Some("gw".into())
            })
            .group("wan_gw", "wan", 52, &["10.0.0.1/24"], |g| {
                g.priority = 100;
                g.sync_group = Some("gw".into())
            })
            .build()
    };
    let mut sim = Sim::new(21);
    sim.add_router("A", cfg());
    sim.run_until(secs(1));
    assert_eq!(sim.entered(0, "lan_gw", Master, secs(0)), Some(secs(1)));
    assert_eq!(sim.entered(0, "wan_gw", Master, secs(0)), Some(secs(1)));

    let mut sim = Sim::new(22);
    sim.add_router("A", cfg());
    sim.set_link(0, "wan", false);
    sim.run_until(secs(30));
    assert_eq!(sim.state(0, "wan_gw"), Some(Fault));
    assert_eq!(sim.state(0, "lan_gw"), Some(Backup));
    assert!(
        sim.adverts(0, 51).is_empty(),
        "a blocked owner does not advertise"
    );
    sim.set_link(0, "wan", true);
    sim.run_until(secs(40));
    assert_eq!(sim.state(0, "lan_gw"), Some(Master));
    assert_eq!(sim.state(0, "wan_gw"), Some(Master));
}

/// A reload that adds a VIP to a MASTER group announces it like a new
/// master would: `garp_repeat` gratuitous ARPs for the added VIP only (the
/// first at once, then 1 s apart), and answers ARP for it from then on. A
/// VIP removed by a later reload is no longer answered. A BACKUP reloaded
/// with the same extra VIP sends no GARP and does not answer for it.
#[test]
fn reload_adding_a_vip_to_a_master_sends_garp_for_it() {
    let mut sim = pair(23, |r, g| {
        g.priority = if r == 0 { 200 } else { 100 };
        g.garp_repeat = 3;
        g.garp_refresh_secs = 0;
    });
    let (v1, v2) = (ip("192.168.42.50"), ip("192.168.42.60"));
    sim.run_until(secs(10));
    assert_eq!(sim.masters("g"), vec![0]);
    let arp_answers = |sim: &mut Sim, r: usize, target: &str| -> Vec<std::net::Ipv4Addr> {
        let mark = sim.sent.len();
        sim.inject(r, "lan", &sim::arp_request("192.168.42.77", target));
        sim.sent[mark..]
            .iter()
            .filter(|s| s.router == r)
            .filter_map(|s| arp_reply_of(&s.bytes).map(|(_, ip)| ip))
            .collect()
    };
    assert!(arp_answers(&mut sim, 0, "192.168.42.60").is_empty());

    let with = |sim: &Sim, r: usize, vips: &[&str]| -> Config {
        let mut c = sim.routers[r].config.clone();
        c.vrrp_groups[0].virtual_addresses = vips.iter().map(|v| sim::config::cidr(v)).collect();
        c
    };
    let (c0, c1) = (
        with(&sim, 0, &["192.168.42.50/24", "192.168.42.60/24"]),
        with(&sim, 1, &["192.168.42.50/24", "192.168.42.60/24"]),
    );
    let mark = sim.sent.len();
    let t = sim.now;
    let n = sim.trace.len();
    sim.reload(0, c0);
    sim.reload(1, c1);
    sim.run_until(secs(20));
    assert_eq!(sim.trace.len(), n, "no transition from a VIP change");
    let garps = |sim: &Sim, r: usize| -> Vec<(Instant, std::net::Ipv4Addr)> {
        sim.sent[mark..]
            .iter()
            .filter(|s| s.router == r)
            .filter_map(|s| garp_of(&s.bytes).map(|v| (s.at, v)))
            .collect()
    };
    let one = Duration::from_secs(1);
    assert_eq!(
        garps(&sim, 0),
        vec![(t, v2), (t + one, v2), (t + one * 2, v2)],
        "garp_repeat GARPs for the added VIP only"
    );
    assert!(garps(&sim, 1).is_empty(), "a backup sends no GARP");
    // The adverts list both VIPs now, and the master answers ARP for both.
    assert_eq!(arp_answers(&mut sim, 0, "192.168.42.60"), vec![v2]);
    assert_eq!(arp_answers(&mut sim, 0, "192.168.42.50"), vec![v1]);
    assert!(arp_answers(&mut sim, 1, "192.168.42.60").is_empty());
    assert_eq!(sim.masters("g"), vec![0], "the backup accepts the new list");
    assert_eq!(group_status(&sim, 0).vips.len(), 2);

    // Remove the first VIP: no longer answered, no GARP for anything.
    let mark2 = sim.sent.len();
    let c0 = with(&sim, 0, &["192.168.42.60/24"]);
    let c1 = with(&sim, 1, &["192.168.42.60/24"]);
    sim.reload(0, c0);
    sim.reload(1, c1);
    sim.run_until(secs(25));
    assert!(
        sim.sent[mark2..]
            .iter()
            .all(|s| garp_of(&s.bytes).is_none()),
        "removing a VIP sends no GARP"
    );
    assert!(arp_answers(&mut sim, 0, "192.168.42.50").is_empty());
    assert_eq!(arp_answers(&mut sim, 0, "192.168.42.60"), vec![v2]);
    assert_eq!(sim.masters("g"), vec![0]);
}

/// A VIP added while a master's reload GARPs are still pending joins the
/// schedule (both are announced from then on), and losing MASTER cancels
/// the pending GARPs.
#[test]
fn reload_garps_stop_when_master_is_lost() {
    let mut sim = pair(24, |r, g| {
        g.priority = if r == 0 { 200 } else { 100 };
        g.garp_repeat = 5;
        g.garp_refresh_secs = 0;
    });
    sim.run_until(secs(10));
    assert_eq!(sim.masters("g"), vec![0]);
    let add = |sim: &Sim, vip: &str| -> Config {
        let mut c = sim.routers[0].config.clone();
        c.vrrp_groups[0]
            .virtual_addresses
            .push(sim::config::cidr(vip));
        c
    };
    let mark = sim.sent.len();
    let c = add(&sim, "192.168.42.60/24");
    sim.reload(0, c);
    sim.run_until(secs(10) + Duration::from_millis(500));
    let c = add(&sim, "192.168.42.70/24");
    sim.reload(0, c);
    sim.run_until(secs(12) + Duration::from_millis(200));
    // Link down: FAULT, no more GARPs for the added VIPs.
    sim.set_link(0, "lan", false);
    assert_eq!(sim.state(0, "g"), Some(Fault));
    sim.run_until(secs(20));
    let at = |vip: &str| -> Vec<Instant> {
        sim.sent[mark..]
            .iter()
            .filter(|s| s.router == 0 && garp_of(&s.bytes) == Some(ip(vip)))
            .map(|s| s.at)
            .collect()
    };
    let ms = |m: u64| Instant::from_millis(m);
    assert_eq!(
        at("192.168.42.60"),
        vec![ms(10_000), ms(10_500), ms(11_500)]
    );
    assert_eq!(at("192.168.42.70"), vec![ms(10_500), ms(11_500)]);
    assert!(at("192.168.42.50").is_empty());
}
