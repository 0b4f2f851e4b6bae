//! SPEC §7 scenarios 1–4 again, this time from the shipped UCI examples in
//! board/examples (parsed and validated by `hagw::config::load`), so the
//! example files and the engine agree.

mod sim;

use hagw::time::{Duration, Instant};
use hagw::vrrp::VrrpState::*;
use sim::Sim;

fn load(name: &str) -> hagw::config::Config {
    let path = format!("{}/board/examples/{name}.uci", env!("CARGO_MANIFEST_DIR"));
    hagw::config::load(&path).unwrap_or_else(|e| panic!("{path}: {e:?}"))
}

fn secs(s: u64) -> Instant {
    Instant::from_secs(s)
}

fn two(scenario: &str, ifaces: &[&str]) -> Sim {
    let mut sim = Sim::new(7);
    let a = sim.add_router("A", load(&format!("{scenario}-a")));
    let b = sim.add_router("B", load(&format!("{scenario}-b")));
    for i in ifaces {
        sim.connect(i, &[(a, i), (b, i)]);
    }
    sim
}

#[test]
fn board_scenario1_basic() {
    let mut sim = two("scenario1-basic", &["lan"]);
    sim.run_until(secs(10));
    assert_eq!(sim.masters("lan_gw"), vec![1], "B has the higher address");
    sim.kill(1);
    sim.run_until(secs(15));
    assert_eq!(sim.masters("lan_gw"), vec![0]);
}

#[test]
fn board_scenario2_options() {
    let mut sim = two("scenario2-options", &["lan"]);
    sim.run_until(secs(10));
    assert_eq!(sim.masters("lan_gw"), vec![0]);
    sim.kill(0);
    sim.run_until(secs(15));
    assert_eq!(sim.masters("lan_gw"), vec![1]);
    sim.restart(0);
    sim.run_until(secs(15) + Duration::from_secs(29));
    assert_eq!(sim.masters("lan_gw"), vec![1], "A waits preempt_delay");
    sim.run_until(secs(15) + Duration::from_secs(32));
    assert_eq!(sim.masters("lan_gw"), vec![0], "A preempts after 30 s");
}

#[test]
fn board_scenario3_load_sharing() {
    let mut sim = two("scenario3-loadshare", &["lan"]);
    sim.run_until(secs(10));
    assert_eq!(sim.masters("gw1"), vec![0]);
    assert_eq!(sim.masters("gw2"), vec![1]);
    assert_eq!(
        sim.entered(0, "gw1", Master, secs(0)),
        Some(secs(1)),
        "owner is master at once"
    );
    let g = &sim.routers[0]
        .engine
        .as_ref()
        .unwrap()
        .snapshot(sim.now)
        .groups[0];
    assert!(g.address_owner);
    assert_eq!(g.priority, 255);
}

#[test]
fn board_scenario4_sync_group() {
    let mut sim = two("scenario4-syncgroup", &["lan", "wan"]);
    sim.run_until(secs(10));
    assert_eq!(
        (sim.masters("lan_gw"), sim.masters("wan_gw")),
        (vec![0], vec![0])
    );
    sim.set_link(0, "wan", false);
    sim.run_until(secs(15));
    assert_eq!(
        (sim.masters("lan_gw"), sim.masters("wan_gw")),
        (vec![1], vec![1])
    );
    assert_eq!(sim.state(0, "wan_gw"), Some(Fault));
    assert_eq!(sim.state(0, "lan_gw"), Some(Backup));
    sim.set_link(0, "wan", true);
    sim.run_until(secs(25));
    assert_eq!(
        (sim.masters("lan_gw"), sim.masters("wan_gw")),
        (vec![0], vec![0])
    );
}
