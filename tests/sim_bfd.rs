//! BFD on the sync link and fast takeover in the simulator (issue 15):
//! the gateway pair of tests/sim/config.rs with 1 s adverts, conntrack
//! sync and BFD at 10 ms × 3. The master's death is seen by BFD in tens of
//! milliseconds and the backup takes over at once (the control, fast
//! takeover off, waits Master_Down_Interval); a sync link that fails alone
//! is undone by the master's next advert and counted.

mod sim;

use hagw::bfd::State;
use hagw::config::BfdSettings;
use hagw::time::{Duration, Instant};
use hagw::vrrp::VrrpState;
use sim::Sim;
use sim::config::gateway_config;

fn node(id: u16, prio: u8, fast: bool) -> hagw::config::Config {
    gateway_config(id, prio, |_| {})
        .sync_link(&format!("172.16.0.{id}/30"))
        .conntrack_sync(|cs| {
            cs.sync_group = Some("gw".into());
            cs.bfd = BfdSettings {
                enabled: true,
                min_tx_ms: 10,
                min_rx_ms: 10,
                multiplier: 3,
            };
            cs.fast_takeover = fast;
        })
        .build()
}

/// R0 (200) master, R1 (100) backup, BFD Up both ways.
fn pair(fast: bool) -> (Sim, usize) {
    let mut sim = Sim::new(5);
    sim.record = false;
    sim.add_router("R0", node(1, 200, fast));
    sim.add_router("R1", node(2, 100, fast));
    sim.connect("lan", &[(0, "lan"), (1, "lan")]);
    sim.connect("wan", &[(0, "wan"), (1, "wan")]);
    let sync = sim.connect("sync", &[(0, "sync"), (1, "sync")]);
    sim.run_until(Instant::from_secs(8));
    assert_eq!(sim.masters("lan_gw"), vec![0]);
    for r in 0..2 {
        assert_eq!(bfd(&sim, r).session.state, State::Up, "router {r}");
    }
    (sim, sync)
}

fn bfd(sim: &Sim, r: usize) -> hagw::engine::BfdStatus {
    sim.routers[r]
        .engine
        .as_ref()
        .unwrap()
        .snapshot(sim.now)
        .bfd
        .expect("bfd configured")
}

#[test]
fn session_detect_time_is_multiplier_times_the_negotiated_interval() {
    let (sim, _) = pair(true);
    let s = bfd(&sim, 1).session;
    let snap = sim.routers[1].engine.as_ref().unwrap().snapshot(sim.now);
    let text = hagw::cli::show::answer("bfd", &snap, sim.now).unwrap();
    assert!(text.contains(": up, remote up\n"), "{text}");
    assert!(
        text.contains("Intervals: tx 10 ms, rx 10 ms, detect time 30 ms"),
        "{text}"
    );
    assert_eq!(s.rx_interval, Some(Duration::from_millis(10)));
    assert_eq!(s.detect_time, Some(Duration::from_millis(30)));
}

#[test]
fn fast_takeover_replaces_a_dead_master_in_tens_of_milliseconds() {
    let (mut sim, _) = pair(true);
    let died = sim.now;
    sim.kill(0);
    sim.run_for(Duration::from_millis(200));
    let at = sim
        .entered(1, "lan_gw", VrrpState::Master, died)
        .expect("R1 took over within 200 ms");
    let took = at.saturating_since(died);
    println!("fast takeover after {} ms", took.as_millis());
    // Detection Time 30 ms after the last packet heard, which is at most
    // one (jittered) 10 ms interval before the death.
    assert!(took <= Duration::from_millis(45), "{took:?}");
    assert_eq!(
        sim.masters("wan_gw"),
        vec![1],
        "the sync group moved together"
    );
    let st = bfd(&sim, 1);
    assert_eq!(st.takeover.fast_takeovers, 1);
    assert_eq!(st.takeover.sync_link_failures, 0);
    // What `hagw show bfd` and the metrics say about it.
    let snap = sim.routers[1].engine.as_ref().unwrap().snapshot(sim.now);
    let text = hagw::cli::show::answer("bfd", &snap, sim.now).unwrap();
    assert!(
        text.starts_with("BFD session to the peer (sync link): down, remote down\n"),
        "{text}"
    );
    assert!(
        text.contains("Fast takeover: on; 1 takeovers, 0 were a sync-link failure"),
        "{text}"
    );
    let doc = hagw::cli::show::answer("bfd --json", &snap, sim.now).unwrap();
    assert!(doc.contains("\"fast_takeovers\": 1"), "{doc}");
    let m = hagw::cli::show::answer("metrics", &snap, sim.now).unwrap();
    assert!(m.contains("\nhagw_bfd_fast_takeovers_total 1\n"), "{m}");
    assert!(m.contains("\nhagw_bfd_up 0\n"), "{m}");
    sim.run_for(Duration::from_secs(5));
    assert_eq!(bfd(&sim, 1).takeover.sync_link_failures, 0);
    assert_eq!(sim.masters("lan_gw"), vec![1]);
}

#[test]
fn without_fast_takeover_the_backup_waits_master_down_interval() {
    let (mut sim, _) = pair(false);
    let died = sim.now;
    sim.kill(0);
    sim.run_for(Duration::from_secs(5));
    let at = sim
        .entered(1, "lan_gw", VrrpState::Master, died)
        .expect("R1 took over");
    let took = at.saturating_since(died);
    // Master_Down_Interval = 3 × 1 s + (256 − 100) / 256 s, counted from
    // the last advert heard (up to 1 s before the death).
    assert!(took >= Duration::from_millis(2600), "{took:?}");
    assert_eq!(bfd(&sim, 1).takeover.fast_takeovers, 0);
}

#[test]
fn a_sync_link_failure_alone_is_undone_by_the_masters_advert_and_counted() {
    let (mut sim, sync) = pair(true);
    let cut = sim.now;
    sim.partition(sync, &[0]);
    sim.run_for(Duration::from_millis(100));
    assert_eq!(bfd(&sim, 1).takeover.fast_takeovers, 1);
    // R0's next advert (≤ 1 s) sends R1 back to backup.
    sim.run_for(Duration::from_millis(1100));
    assert_eq!(sim.masters("lan_gw"), vec![0]);
    assert_eq!(sim.masters("wan_gw"), vec![0]);
    let back = sim
        .entered(
            1,
            "lan_gw",
            VrrpState::Backup,
            cut + Duration::from_millis(1),
        )
        .expect("R1 stepped down");
    assert!(back.saturating_since(cut) <= Duration::from_millis(1100));
    assert_eq!(bfd(&sim, 1).takeover.sync_link_failures, 1);
    // R0 never left master.
    assert!(
        sim.entered(0, "lan_gw", VrrpState::Backup, cut).is_none(),
        "R0 stayed master"
    );
    // The link heals: BFD comes back Up.
    sim.heal(sync);
    sim.run_for(Duration::from_secs(3));
    assert_eq!(bfd(&sim, 1).session.state, State::Up);
}
