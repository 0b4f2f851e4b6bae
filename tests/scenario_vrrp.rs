//! SPEC §7 scenarios 1–4 on the simulator: who is master, and exactly when.

mod sim;

use hagw::config::{Config, VrrpGroup};
use hagw::engine::Snapshot;
use hagw::time::{Duration, Instant};
use hagw::vrrp::VrrpState::*;
use sim::config::{ConfigBuilder, ip};
use sim::{LINK_DELAY, Sim, arp_reply_of, garp_of};

/// One tick of tolerance on computed instants.
const TICK: Duration = Duration::from_millis(1);

fn secs(s: u64) -> Instant {
    Instant::from_secs(s)
}

/// Master_Down_Interval for a v2 group with a 1 s interval.
fn mdi(priority: u64) -> Duration {
    Duration::from_secs(3) + Duration::from_micros((256 - priority) * 1_000_000 / 256)
}

fn skew(priority: u64) -> Duration {
    Duration::from_micros((256 - priority) * 1_000_000 / 256)
}

/// One router with `lan` at `addr` and group g42 (VRID 42, VIP
/// 192.168.42.50/24), the group's defaults changed by `f`.
fn g42(node: u16, addr: &str, f: impl FnOnce(&mut VrrpGroup)) -> Config {
    ConfigBuilder::new(node)
        .interface("lan", addr)
        .group("g42", "lan", 42, &["192.168.42.50/24"], f)
        .build()
}

/// Scenario 1's pair on one LAN: A (192.168.42.2) and B (192.168.42.3),
/// both with the group defaults.
fn scenario1_pair(seed: u64) -> (Sim, usize, usize) {
    let mut sim = Sim::new(seed);
    let a = sim.add_router("A", g42(1, "192.168.42.2/24", |_| {}));
    let b = sim.add_router("B", g42(2, "192.168.42.3/24", |_| {}));
    sim.connect("lan", &[(a, "lan"), (b, "lan")]);
    (sim, a, b)
}

/// Router `r`'s snapshot now.
fn snapshot(sim: &Sim, r: usize) -> Snapshot {
    sim.routers[r].engine.as_ref().unwrap().snapshot(sim.now)
}

fn assert_near(what: &str, got: Instant, want: Instant) {
    let d = if got > want { got - want } else { want - got };
    assert!(d <= TICK, "{what}: got {got:?}, want {want:?} (±1 ms)");
}

/// Scenario 1 when the lower address starts first: it becomes master alone,
/// and the higher address, started later, takes over one Master_Down_Interval
/// after its start (preempt is on by default; equal priority goes to the
/// higher address whoever started first).
#[test]
fn scenario1_higher_address_wins_even_when_started_last() {
    let (mut sim, a, b) = scenario1_pair(7);
    sim.kill(b);
    sim.run_until(secs(10));
    assert_eq!(
        sim.masters("g42"),
        vec![a],
        "alone, the lower address is master"
    );
    sim.restart(b);
    let started = sim.now;
    sim.run_until(secs(30));
    assert_eq!(sim.masters("g42"), vec![b], "the higher address takes over");
    assert_eq!(sim.state(a, "g42"), Some(Backup));
    let got = sim
        .entered(b, "g42", Master, started)
        .expect("B became master");
    assert_near("takeover by the higher address", got, started + mdi(1));
    let yielded = sim.entered(a, "g42", Backup, started).expect("A yielded");
    assert_near("A yields on B's first advert", yielded, got + LINK_DELAY);
}

/// Scenario 1: two routers, group 42, VIP 192.168.42.50, no priority: the
/// higher address is master; killing it moves the VIP after exactly
/// Master_Down_Interval since its last advert reached the backup.
#[test]
fn scenario1_basic_higher_address_wins_and_failover_timing() {
    let (mut sim, a, b) = scenario1_pair(1);
    sim.run_until(secs(10));
    assert_eq!(sim.masters("g42"), vec![b], "higher address must be master");
    assert_eq!(sim.state(a, "g42"), Some(Backup));
    let snap = snapshot(&sim, b);
    assert_eq!(snap.groups[0].priority, 1);
    assert_eq!(snap.groups[0].master_router, Some(ip("192.168.42.3")));
    let snap_a = snapshot(&sim, a);
    assert_eq!(snap_a.groups[0].master_router, Some(ip("192.168.42.3")));
    // Only B keeps advertising after the start-up tie.
    let a_adverts = sim
        .adverts(a, 42)
        .into_iter()
        .filter(|(t, _)| *t > secs(6))
        .count();
    assert_eq!(a_adverts, 0);

    sim.run_until(secs(20) + Duration::from_millis(500));
    sim.kill(b);
    let last = sim.adverts(b, 42).last().unwrap().0;
    let want = last + LINK_DELAY + mdi(1);
    sim.run_until(want - TICK - TICK);
    assert_eq!(
        sim.state(a, "g42"),
        Some(Backup),
        "must not take over before Master_Down_Interval"
    );
    sim.run_until(secs(40));
    let got = sim
        .entered(a, "g42", Master, secs(20))
        .expect("A took over");
    assert_near("backup takeover", got, want);
    assert_eq!(sim.masters("g42"), vec![a]);
    let st = &snapshot(&sim, a).groups[0];
    assert_eq!(st.last_transition, Some(sim.now - got));
    assert_eq!(st.master_router, Some(ip("192.168.42.2")));
    // On becoming master A sends gratuitous ARP for the VIP (3 by default, 1 s apart).
    let garps: Vec<Instant> = sim
        .sent
        .iter()
        .filter(|s| s.router == a && s.at >= got && garp_of(&s.bytes) == Some(ip("192.168.42.50")))
        .map(|s| s.at)
        .collect();
    assert_eq!(
        garps,
        vec![
            got,
            got + Duration::from_secs(1),
            got + Duration::from_secs(2)
        ]
    );
}

/// Scenario 2: router 1 priority 255 (non-owner: sent as 254), preempt,
/// preempt_delay 30. It is master; killed, router 2 takes over; restarted,
/// it preempts exactly 30 s after it first heard router 2's lower advert.
#[test]
fn scenario2_priority_preempt_delay() {
    let mut sim = Sim::new(2);
    let r1 = sim.add_router(
        "R1",
        g42(1, "192.168.42.2/24", |g| {
            g.priority = 255;
            g.preempt = true;
            g.preempt_delay_secs = 30;
        }),
    );
    let r2 = sim.add_router("R2", g42(2, "192.168.42.3/24", |_| {}));
    sim.connect("lan", &[(r1, "lan"), (r2, "lan")]);
    sim.run_until(secs(10));
    assert_eq!(sim.masters("g42"), vec![r1]);
    // R1 became master at start + its own Master_Down_Interval (priority 254).
    assert_near(
        "r1 initial master",
        sim.entered(r1, "g42", Master, secs(0)).unwrap(),
        secs(1) + mdi(254),
    );
    let st = &snapshot(&sim, r1).groups[0];
    assert_eq!(
        (st.priority, st.configured_priority, st.address_owner),
        (254, 255, false)
    );
    assert!(sim.adverts(r1, 42).iter().all(|(_, p)| *p == 254));

    sim.run_until(secs(20) + Duration::from_millis(300));
    sim.kill(r1);
    let last = sim.adverts(r1, 42).last().unwrap().0;
    sim.run_until(secs(40));
    assert_near(
        "r2 takeover",
        sim.entered(r2, "g42", Master, secs(20)).unwrap(),
        last + LINK_DELAY + mdi(1),
    );

    sim.run_until(secs(40) + Duration::from_millis(250));
    let restart = sim.now;
    sim.restart(r1);
    sim.run_until(secs(60));
    assert_eq!(sim.state(r1, "g42"), Some(Backup));
    assert_eq!(sim.masters("g42"), vec![r2]);
    let first_seen = sim
        .adverts(r2, 42)
        .into_iter()
        .find(|(t, _)| *t >= restart)
        .unwrap()
        .0
        + LINK_DELAY;
    let want = first_seen + Duration::from_secs(30);
    sim.run_until(want - TICK - TICK);
    assert_eq!(
        sim.state(r1, "g42"),
        Some(Backup),
        "must not preempt before preempt_delay"
    );
    sim.run_until(secs(100));
    assert_near(
        "r1 preempts",
        sim.entered(r1, "g42", Master, restart).unwrap(),
        want,
    );
    assert_eq!(sim.masters("g42"), vec![r1]);
    let r2_back = sim.entered(r2, "g42", Backup, restart).unwrap();
    assert_near("r2 yields", r2_back, want + LINK_DELAY);
}

/// Scenario 3: load sharing. Groups 1 and 2 on one LAN; router 1 owns the
/// VIP of group 1 (address owner: priority 255, master at once), router 2
/// is preferred for group 2. Both are master of one group at the same time
/// and answer ARP for their VIP only.
#[test]
fn scenario3_load_sharing_with_address_owner() {
    let mut sim = Sim::new(3);
    let r1 = sim.add_router(
        "R1",
        ConfigBuilder::new(1)
            .interface("lan", "192.168.1.1/24")
            .group("g1", "lan", 1, &["192.168.1.1/24"], |g| g.priority = 100)
            .group("g2", "lan", 2, &["192.168.1.254/24"], |g| g.priority = 100)
            .build(),
    );
    let r2 = sim.add_router(
        "R2",
        ConfigBuilder::new(2)
            .interface("lan", "192.168.1.2/24")
            .group("g1", "lan", 1, &["192.168.1.1/24"], |g| g.priority = 100)
            .group("g2", "lan", 2, &["192.168.1.254/24"], |g| g.priority = 200)
            .build(),
    );
    sim.connect("lan", &[(r1, "lan"), (r2, "lan")]);
    sim.run_until(secs(1));
    // The owner is master at once (at start, before any timer).
    assert_eq!(sim.entered(r1, "g1", Master, secs(0)), Some(secs(1)));
    sim.run_until(secs(10));
    assert_eq!(sim.masters("g1"), vec![r1]);
    assert_eq!(sim.masters("g2"), vec![r2]);
    assert_near(
        "r2 g2 master",
        sim.entered(r2, "g2", Master, secs(0)).unwrap(),
        secs(1) + mdi(200),
    );
    let s1 = snapshot(&sim, r1);
    assert!(s1.groups[0].address_owner);
    assert_eq!(s1.groups[0].priority, 255);
    assert!(!s1.groups[1].address_owner);
    assert!(sim.adverts(r1, 1).iter().all(|(_, p)| *p == 255));

    // ARP: each router answers for the VIP it is master of, with its own MAC.
    let mark = sim.sent.len();
    for r in [r1, r2] {
        sim.inject(r, "lan", &sim::arp_request("192.168.1.77", "192.168.1.254"));
        sim.inject(r, "lan", &sim::arp_request("192.168.1.77", "192.168.1.2"));
    }
    let replies: Vec<(usize, [u8; 6], std::net::Ipv4Addr)> = sim.sent[mark..]
        .iter()
        .filter_map(|s| arp_reply_of(&s.bytes).map(|(m, i)| (s.router, m, i)))
        .collect();
    let mac2 = sim.routers[r2].macs[0];
    assert_eq!(
        replies,
        vec![
            (r2, mac2, ip("192.168.1.254")),
            (r2, mac2, ip("192.168.1.2"))
        ],
        "only the master answers for a VIP; each router for its own address"
    );

    // Kill R2: R1 takes group 2 as well; restart R2: it preempts group 2 back.
    sim.kill(r2);
    sim.run_until(secs(20));
    assert_eq!(sim.masters("g2"), vec![r1]);
    sim.restart(r2);
    sim.run_until(secs(30));
    assert_eq!(sim.masters("g1"), vec![r1]);
    assert_eq!(sim.masters("g2"), vec![r2]);
}

/// Scenario 4: groups on lan and wan in one sync group. Router A's wan link
/// goes down: A's wan goes FAULT, its lan leaves MASTER too (priority 0),
/// and B becomes master of both after Skew_Time. Link up: A takes both back.
#[test]
fn scenario4_sync_group_moves_together() {
    let mut sim = Sim::new(4);
    let mk = |node: u16, lan: &str, wan: &str, prio: u8| {
        ConfigBuilder::new(node)
            .interface("lan", lan)
            .interface("wan", wan)
            .group("lan_gw", "lan", 51, &["192.168.10.1/24"], |g| {
                g.priority = prio;
                g.sync_group = Some("gw".into());
            })
            .group("wan_gw", "wan", 52, &["10.0.0.1/24"], |g| {
                g.priority = prio;
                g.sync_group = Some("gw".into());
            })
            .build()
    };
    let a = sim.add_router("A", mk(1, "192.168.10.2/24", "10.0.0.2/24", 200));
    let b = sim.add_router("B", mk(2, "192.168.10.3/24", "10.0.0.3/24", 100));
    sim.connect("lan", &[(a, "lan"), (b, "lan")]);
    sim.connect("wan", &[(a, "wan"), (b, "wan")]);
    sim.run_until(secs(10));
    for g in ["lan_gw", "wan_gw"] {
        assert_eq!(sim.masters(g), vec![a], "{g}");
        assert_eq!(sim.state(b, g), Some(Backup));
    }

    sim.run_until(secs(20));
    sim.set_link(a, "wan", false);
    assert_eq!(sim.state(a, "wan_gw"), Some(Fault));
    assert_eq!(sim.state(a, "lan_gw"), Some(Backup));
    assert_eq!(sim.entered(a, "lan_gw", Backup, secs(20)), Some(secs(20)));
    // A's lan sent priority 0 when it gave up.
    assert!(
        sim.adverts(a, 51)
            .iter()
            .any(|(t, p)| *t == secs(20) && *p == 0)
    );
    sim.run_until(secs(30));
    for g in ["lan_gw", "wan_gw"] {
        assert_eq!(sim.masters(g), vec![b], "{g} after A's wan failed");
    }
    let want = secs(20) + LINK_DELAY + skew(100);
    assert_near(
        "B lan takeover",
        sim.entered(b, "lan_gw", Master, secs(20)).unwrap(),
        want,
    );
    assert_near(
        "B wan follows",
        sim.entered(b, "wan_gw", Master, secs(20)).unwrap(),
        want,
    );
    // A's lan keeps seeing B's lower adverts but must not preempt while wan is FAULT.
    sim.run_until(secs(60));
    assert_eq!(sim.state(a, "lan_gw"), Some(Backup));
    assert_eq!(sim.masters("lan_gw"), vec![b]);

    sim.set_link(a, "wan", true);
    assert_eq!(sim.state(a, "wan_gw"), Some(Backup));
    sim.run_until(secs(60) + mdi(200) + TICK);
    for g in ["lan_gw", "wan_gw"] {
        assert_eq!(sim.masters(g), vec![a], "{g} after A's wan came back");
        assert_eq!(sim.state(b, g), Some(Backup));
    }
    let ta = sim.entered(a, "lan_gw", Master, secs(60)).unwrap();
    assert_eq!(
        sim.entered(a, "wan_gw", Master, secs(60)),
        Some(ta),
        "sync group moves as a whole"
    );
}
