//! Health tracking in the simulator: two routers (A priority 200, B 100)
//! share the LAN group `lan_gw`; each probes the upstream 10.0.0.254 on the
//! WAN from its own WAN address. The upstream host can be told to ignore
//! one router's echo requests (a drop rule for that source).
//!
//! Timing (1 s probes, fall 3, rise 2, weight -150): A's track goes DOWN
//! when its third probe in a row is unanswered (≈ 3 s after the drop), A
//! advertises priority 50 at once, B (100, preempt) stops accepting A and
//! takes over when its Master_Down timer runs out (≤ 3 × 1 s + skew).

mod sim;

use hagw::config::{TrackKind, VrrpGroup};
use hagw::engine::TrackStatus;
use hagw::time::{Duration, Instant};
use hagw::vrrp::VrrpState;
use sim::Sim;
use sim::config::ConfigBuilder;
use sim::host::Host;
use std::net::Ipv4Addr;

const UPSTREAM: &str = "10.0.0.254";
const A_WAN: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const B_WAN: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);

fn router(
    node: u16,
    prio: u8,
    track: impl Fn(ConfigBuilder) -> ConfigBuilder,
    g: impl Fn(&mut VrrpGroup),
) -> hagw::config::Config {
    let last = node + 1;
    let b = ConfigBuilder::new(node)
        .interface("lan", &format!("192.168.1.{last}/24"))
        .interface("wan", &format!("10.0.0.{last}/24"))
        .group("lan_gw", "lan", 1, &["192.168.1.254/24"], |x| {
            x.priority = prio;
            x.tracks = vec!["upstream".into()];
            g(x)
        });
    track(b).build()
}

fn ping_track(weight: i16) -> impl Fn(ConfigBuilder) -> ConfigBuilder {
    move |b| {
        b.track(
            "upstream",
            TrackKind::Ping,
            Some("wan"),
            Some(UPSTREAM),
            |t| t.weight = weight,
        )
    }
}

struct Lab {
    sim: Sim,
    upstream: usize,
}

fn lab(a: hagw::config::Config, b: hagw::config::Config) -> Lab {
    let mut sim = Sim::new(7);
    sim.add_router("A", a);
    sim.add_router("B", b);
    sim.connect("lan", &[(0, "lan"), (1, "lan")]);
    let wan = sim.connect("wan", &[(0, "wan"), (1, "wan")]);
    let upstream = sim.add_host(Host::new("upstream", 9, "10.0.0.254/24", None));
    sim.connect_host(wan, upstream);
    sim.run_for(Duration::from_secs(6));
    Lab { sim, upstream }
}

fn pair(weight: i16) -> Lab {
    let l = lab(
        router(1, 200, ping_track(weight), |_| {}),
        router(2, 100, ping_track(weight), |_| {}),
    );
    assert_eq!(l.sim.masters("lan_gw"), vec![0]);
    l
}

fn track(sim: &Sim, r: usize) -> TrackStatus {
    let snap = sim.routers[r].engine.as_ref().unwrap().snapshot(sim.now);
    snap.tracks[0].clone()
}

fn priority(sim: &Sim, r: usize) -> u8 {
    let snap = sim.routers[r].engine.as_ref().unwrap().snapshot(sim.now);
    snap.groups[0].priority
}

/// When router `r`'s track went DOWN/UP, from its last_change.
fn changed_at(sim: &Sim, r: usize) -> Instant {
    sim.now - track(sim, r).last_change.expect("track changed")
}

#[test]
fn probes_answered_keep_the_track_up_and_are_not_no_host() {
    let mut l = pair(-150);
    l.sim.run_for(Duration::from_secs(10));
    for r in 0..2 {
        let t = track(&l.sim, r);
        assert!(t.up);
        assert!(t.probe.sent >= 15, "{t:?}");
        assert!(t.probe.replies + 1 >= t.probe.sent, "{t:?}");
        assert_eq!(t.probe.timeouts, 0);
        assert_eq!(priority(&l.sim, r), [200, 100][r]);
        let snap = l.sim.routers[r]
            .engine
            .as_ref()
            .unwrap()
            .snapshot(l.sim.now);
        let wan = &snap.ports[1];
        let no_host = wan.drops.iter().find(|(n, _)| *n == "no_host").unwrap().1;
        assert_eq!(no_host, 0, "echo replies to our probes counted no_host");
    }
    // Every echo request came from the router's own WAN address.
    let srcs: Vec<Ipv4Addr> = l.sim.hosts[l.upstream]
        .received
        .iter()
        .filter_map(|(_, b)| sim::packet::parse(b))
        .filter(|p| p.icmp == Some((8, 0)))
        .map(|p| p.src)
        .collect();
    assert!(srcs.contains(&A_WAN) && srcs.contains(&B_WAN));
    assert!(srcs.iter().all(|s| *s == A_WAN || *s == B_WAN));
}

#[test]
fn upstream_loss_peer_preempts_then_master_takes_back() {
    let mut l = pair(-150);
    let drop_at = l.sim.now;
    l.sim.hosts[l.upstream].ignore_echo_from.push(A_WAN);
    l.sim.run_for(Duration::from_secs(12));
    let down = changed_at(&l.sim, 0);
    let t = track(&l.sim, 0);
    assert!(!t.up, "{t:?}");
    // The third unanswered probe: between 2 and 4 intervals after the drop.
    let d = down - drop_at;
    assert!(
        d >= Duration::from_secs(2) && d <= Duration::from_secs(4),
        "down after {d:?}"
    );
    assert_eq!(priority(&l.sim, 0), 50);
    assert_eq!(l.sim.masters("lan_gw"), vec![1]);
    let took = l
        .sim
        .entered(1, "lan_gw", VrrpState::Master, drop_at)
        .unwrap();
    assert!(
        took > down && took - down <= Duration::from_millis(3700),
        "B master {:?} after the track went down",
        took - down
    );
    // A advertised 50 at once (not at its next advert).
    let adv = l.sim.adverts(0, 1);
    assert!(
        adv.iter().any(|(at, p)| *p == 50 && *at == down),
        "no priority-50 advert at {down:?}: {adv:?}"
    );
    // B's own track stayed up, its priority 100.
    assert!(track(&l.sim, 1).up);
    assert_eq!(priority(&l.sim, 1), 100);

    // The drop rule goes: rise 2 → UP, A preempts back.
    let heal = l.sim.now;
    l.sim.hosts[l.upstream].ignore_echo_from.clear();
    l.sim.run_for(Duration::from_secs(10));
    assert!(track(&l.sim, 0).up);
    let up = changed_at(&l.sim, 0);
    assert!(
        up - heal <= Duration::from_secs(3),
        "up after {:?}",
        up - heal
    );
    assert_eq!(priority(&l.sim, 0), 200);
    assert_eq!(l.sim.masters("lan_gw"), vec![0]);
    assert_eq!(l.sim.state(1, "lan_gw"), Some(VrrpState::Backup));
}

#[test]
fn a_backup_probes_too_and_its_dead_upstream_lowers_only_its_own_priority() {
    let mut l = pair(-150);
    l.sim.hosts[l.upstream].ignore_echo_from.push(B_WAN);
    let before = l.sim.trace.len();
    l.sim.run_for(Duration::from_secs(15));
    assert!(!track(&l.sim, 1).up);
    assert_eq!(priority(&l.sim, 1), 1, "100 - 150 clamps to 1");
    assert!(track(&l.sim, 0).up);
    assert_eq!(l.sim.masters("lan_gw"), vec![0]);
    assert_eq!(l.sim.trace.len(), before, "no VRRP transition");
}

#[test]
fn flapping_upstream_does_not_flap_vrrp_faster_than_fall_and_rise() {
    let mut l = pair(-150);
    let before = l.sim.trace.len();
    // Every other probe lost: never 3 failures in a row (fall 3).
    for i in 0..40 {
        if i % 2 == 0 {
            l.sim.hosts[l.upstream].ignore_echo_from.push(A_WAN);
        } else {
            l.sim.hosts[l.upstream].ignore_echo_from.clear();
        }
        l.sim.run_for(Duration::from_secs(1));
    }
    let t = track(&l.sim, 0);
    assert!(t.up && t.transitions == 0, "{t:?}");
    assert!(t.failures >= 15, "{t:?}");
    assert_eq!(l.sim.trace.len(), before, "VRRP flapped");

    // 4 s lost / 1 s answered: DOWN once (fall 3), never UP again (rise 2
    // needs two answers in a row), so exactly one VRRP move.
    l.sim.hosts[l.upstream].ignore_echo_from.clear();
    l.sim.run_for(Duration::from_secs(5));
    let before = l.sim.trace.len();
    for _ in 0..8 {
        l.sim.hosts[l.upstream].ignore_echo_from.push(A_WAN);
        l.sim.run_for(Duration::from_secs(4));
        l.sim.hosts[l.upstream].ignore_echo_from.clear();
        l.sim.run_for(Duration::from_secs(1));
    }
    let t = track(&l.sim, 0);
    assert_eq!(t.transitions, 1, "{t:?}");
    let moves = &l.sim.trace[before..];
    assert_eq!(moves.len(), 2, "{moves:?}"); // A → backup, B → master
}

#[test]
fn weight_zero_means_fault_and_recovery() {
    let mut l = pair(0);
    let t0 = l.sim.now;
    l.sim.hosts[l.upstream].ignore_echo_from.push(A_WAN);
    l.sim.run_for(Duration::from_secs(8));
    assert_eq!(l.sim.state(0, "lan_gw"), Some(VrrpState::Fault));
    assert_eq!(l.sim.masters("lan_gw"), vec![1]);
    // A master going FAULT sends priority 0: B takes over after Skew_Time.
    let fault = l.sim.entered(0, "lan_gw", VrrpState::Fault, t0).unwrap();
    let took = l.sim.entered(1, "lan_gw", VrrpState::Master, t0).unwrap();
    assert!(took - fault < Duration::from_secs(1), "{:?}", took - fault);
    l.sim.hosts[l.upstream].ignore_echo_from.clear();
    l.sim.run_for(Duration::from_secs(10));
    assert_eq!(l.sim.masters("lan_gw"), vec![0]);
}

#[test]
fn a_sync_group_moves_together() {
    let group2 = |b: ConfigBuilder, prio: u8| {
        b.group("wan_gw", "wan", 2, &["10.0.0.1/24"], |g| {
            g.priority = prio;
            g.sync_group = Some("gw".into());
        })
    };
    let a = router(
        1,
        200,
        |b| group2(ping_track(-150)(b), 200),
        |g| g.sync_group = Some("gw".into()),
    );
    let b = router(
        2,
        100,
        |b| group2(ping_track(-150)(b), 100),
        |g| g.sync_group = Some("gw".into()),
    );
    let mut l = lab(a, b);
    assert_eq!(l.sim.masters("lan_gw"), vec![0]);
    assert_eq!(l.sim.masters("wan_gw"), vec![0]);
    let t0 = l.sim.now;
    l.sim.hosts[l.upstream].ignore_echo_from.push(A_WAN);
    l.sim.run_for(Duration::from_secs(12));
    // Only lan_gw lists the track, but wan_gw follows it, once.
    assert_eq!(l.sim.masters("lan_gw"), vec![1]);
    assert_eq!(l.sim.masters("wan_gw"), vec![1]);
    assert_eq!(l.sim.entered(0, "wan_gw", VrrpState::Master, t0), None);
    assert_eq!(priority(&l.sim, 0), 50);
    l.sim.hosts[l.upstream].ignore_echo_from.clear();
    l.sim.run_for(Duration::from_secs(12));
    assert_eq!(l.sim.masters("lan_gw"), vec![0]);
    assert_eq!(l.sim.masters("wan_gw"), vec![0]);
}

#[test]
fn script_tracks_one_run_at_a_time_hung_counts_as_failure() {
    let script = |b: ConfigBuilder| {
        b.track("upstream", TrackKind::Script, None, None, |t| {
            t.command = Some("/bin/check".into());
            t.weight = -150;
            t.interval_ms = 1000;
            t.timeout_ms = 2000;
        })
    };
    let mut l = lab(
        router(1, 200, script, |_| {}),
        router(2, 100, script, |_| {}),
    );
    assert_eq!(l.sim.masters("lan_gw"), vec![0]);
    let runs = |sim: &Sim, r: usize| sim.scripts.iter().filter(|s| s.1 == r).count();
    let n0 = runs(&l.sim, 0);
    assert!((5..=7).contains(&n0), "{n0} runs in 6 s");
    // Exit 1: DOWN after 3 runs, B takes over.
    l.sim.script_ok.insert((0, 0), Some(false));
    l.sim.run_for(Duration::from_secs(10));
    assert!(!track(&l.sim, 0).up);
    assert_eq!(l.sim.masters("lan_gw"), vec![1]);
    // Back to exit 0.
    l.sim.script_ok.insert((0, 0), Some(true));
    l.sim.run_for(Duration::from_secs(10));
    assert_eq!(l.sim.masters("lan_gw"), vec![0]);
    // Hung: never reported. The engine asks for no second run while one is
    // out, and gives up on it after timeout + interval (a failure).
    l.sim.script_ok.insert((0, 0), None);
    let start = runs(&l.sim, 0);
    l.sim.run_for(Duration::from_secs(20));
    let hung_runs = runs(&l.sim, 0) - start;
    assert!(hung_runs <= 8, "{hung_runs} runs in 20 s while hung");
    let t = track(&l.sim, 0);
    assert!(!t.up && t.skipped > 0, "{t:?}");
    assert_eq!(l.sim.masters("lan_gw"), vec![1]);
}

#[test]
fn arp_and_interface_tracks() {
    let arp = |target: &'static str| {
        move |b: ConfigBuilder| {
            b.track("upstream", TrackKind::Arp, Some("wan"), Some(target), |t| {
                t.weight = -150
            })
        }
    };
    // A probes an address nobody has: DOWN, B master. B probes the upstream.
    let mut l = lab(
        router(1, 200, arp("10.0.0.77"), |_| {}),
        router(2, 100, arp(UPSTREAM), |_| {}),
    );
    l.sim.run_for(Duration::from_secs(6));
    assert!(!track(&l.sim, 0).up);
    assert!(track(&l.sim, 1).up);
    assert!(track(&l.sim, 1).probe.replies >= 8);
    assert_eq!(l.sim.masters("lan_gw"), vec![1]);

    let link = |b: ConfigBuilder| {
        b.track("upstream", TrackKind::Interface, Some("wan"), None, |t| {
            t.weight = -150
        })
    };
    let mut l = lab(router(1, 200, link, |_| {}), router(2, 100, link, |_| {}));
    assert_eq!(l.sim.masters("lan_gw"), vec![0]);
    l.sim.set_link(0, "wan", false);
    l.sim.run_for(Duration::from_secs(8));
    assert_eq!(priority(&l.sim, 0), 50);
    assert_eq!(l.sim.masters("lan_gw"), vec![1]);
    l.sim.set_link(0, "wan", true);
    l.sim.run_for(Duration::from_secs(8));
    assert_eq!(l.sim.masters("lan_gw"), vec![0]);
}

#[test]
fn echo_replies_from_elsewhere_or_stale_are_ignored() {
    let mut l = pair(-150);
    let replies0 = track(&l.sim, 0).probe.replies;
    l.sim.hosts[l.upstream].ignore_echo_from.push(A_WAN);
    let ident = 0x6877; // the first track's identifier
    for seq in 0..20u16 {
        // A forged answer from another address, and one with an old sequence.
        let forged = sim::packet::echo(0, "10.0.0.99".parse().unwrap(), A_WAN, ident, seq, b"", 64);
        let stale = sim::packet::echo(0, UPSTREAM.parse().unwrap(), A_WAN, ident, 0, b"", 64);
        for ip in [forged, stale] {
            let f = sim::packet::ether([2, 0, 0, 0, 1, 2], [2, 0xaa, 0, 0, 0, 9], 0x0800, &ip);
            l.sim.inject(0, "wan", &f);
        }
        l.sim.run_for(Duration::from_millis(500));
    }
    let t = track(&l.sim, 0);
    assert!(!t.up, "{t:?}");
    assert!(t.probe.ignored >= 40, "{t:?}");
    assert!(
        t.probe.replies <= replies0 + 1,
        "forged replies counted: {t:?}"
    );
}

#[test]
fn reload_keeps_a_down_track_down_and_applies_the_new_weight() {
    let mut l = pair(-150);
    l.sim.hosts[l.upstream].ignore_echo_from.push(A_WAN);
    l.sim.run_for(Duration::from_secs(12));
    assert_eq!(priority(&l.sim, 0), 50);
    assert_eq!(l.sim.masters("lan_gw"), vec![1]);
    let before = l.sim.trace.len();
    let failures = track(&l.sim, 0).failures;
    // Same track, new weight: still DOWN (no evidence it is back), 200 - 120.
    l.sim.reload(0, router(1, 200, ping_track(-120), |_| {}));
    l.sim.run_for(Duration::from_millis(100));
    let t = track(&l.sim, 0);
    assert!(!t.up && t.failures >= failures, "{t:?}");
    assert_eq!(priority(&l.sim, 0), 80);
    assert_eq!(l.sim.trace.len(), before, "reload moved a group");
    // Weight 0: the group goes FAULT at once.
    l.sim.reload(0, router(1, 200, ping_track(0), |_| {}));
    l.sim.run_for(Duration::from_millis(100));
    assert_eq!(l.sim.state(0, "lan_gw"), Some(VrrpState::Fault));
    // The upstream answers again: UP after rise, FAULT cleared, A preempts.
    l.sim.hosts[l.upstream].ignore_echo_from.clear();
    l.sim.run_for(Duration::from_secs(10));
    assert_eq!(l.sim.masters("lan_gw"), vec![0]);
}

#[test]
fn a_backup_with_a_dead_upstream_does_not_take_over() {
    // A 200, B 150 (its upstream ignores it: 150 - 150 → 1), C 100.
    let mut sim = Sim::new(11);
    for (node, prio) in [(1, 200), (2, 150), (3, 100)] {
        sim.add_router(
            &format!("R{node}"),
            router(node, prio, ping_track(-150), |_| {}),
        );
    }
    sim.connect("lan", &[(0, "lan"), (1, "lan"), (2, "lan")]);
    let wan = sim.connect("wan", &[(0, "wan"), (1, "wan"), (2, "wan")]);
    let up = sim.add_host(Host::new("upstream", 9, "10.0.0.254/24", None));
    sim.connect_host(wan, up);
    sim.hosts[up].ignore_echo_from.push(B_WAN);
    sim.run_for(Duration::from_secs(10));
    assert_eq!(sim.masters("lan_gw"), vec![0]);
    assert_eq!(priority(&sim, 1), 1);
    let t0 = sim.now;
    sim.kill(0);
    sim.run_for(Duration::from_secs(10));
    assert_eq!(sim.masters("lan_gw"), vec![2], "the healthy C takes over");
    assert_eq!(sim.entered(1, "lan_gw", VrrpState::Master, t0), None);
}
