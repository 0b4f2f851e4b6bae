//! Failover of two hagw routers seen from a client pinging the VIP every
//! 2 ms: node death of the master (SIGKILL + links down) must cost at most
//! Master_Down_Interval + a generous margin; a graceful stop (SIGTERM ⇒
//! priority-0 advert) at most Skew_Time + a margin. The measured gaps are
//! printed (`cargo test --test netns_failover -- --nocapture`). Needs root.

mod netns;
use netns::*;
use std::time::Duration;

const VIP: &str = "192.168.42.50";

fn pair(lab: &mut Lab, version: u8, advert_cs: u16) -> (Router, Router, String) {
    let a = hagw_conf("192.168.42.1", 200, version, advert_cs, VIP);
    let b = hagw_conf("192.168.42.2", 100, version, advert_cs, VIP);
    let (mut a, mut b, c) = lan_topology(lab, &a, &b, "192.168.42.100/24", VIP);
    lab.start(&mut a);
    lab.start(&mut b);
    expect_state(lab, &a, "lan_gw", "master", Duration::from_secs(10));
    expect_state(lab, &b, "lan_gw", "backup", Duration::from_secs(10));
    // The client resolves the VIP before the measurement.
    let out = lab.exec(&c, &["ping", "-c", "2", "-i", "0.2", "-w", "5", VIP]);
    assert!(
        out.status.success(),
        "ping VIP before failover: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    (a, b, c)
}

/// v2, 1 s adverts: B (priority 100) has Master_Down_Interval = 3 + 156/256 s.
#[test]
fn node_death_v2_gap_within_master_down_interval() {
    if skip() {
        return;
    }
    let mut lab = Lab::new("death_v2");
    let (a, b, c) = pair(&mut lab, 2, 100);
    let mdi = 3.0 + 156.0 / 256.0;
    let (gap, replies) = ping_gap(&mut lab, &c, VIP, 10, Duration::from_secs(2), |lab| {
        lab.node_death(&a, &["lan0"])
    });
    println!(
        "node death v2 (advert 1 s): client ping gap {gap:.3} s, {replies} replies; Master_Down_Interval {mdi:.3} s"
    );
    assert_eq!(state_of(&b.socket, "lan_gw").as_deref(), Some("master"));
    assert!(
        replies > 1000,
        "too few replies ({replies}); failover did not complete?"
    );
    assert!(
        gap < mdi + 2.5,
        "gap {gap:.3} s > Master_Down_Interval {mdi:.3} s + 2.5 s"
    );
}

/// v3, 100 ms adverts: Master_Down_Interval = 0.3 + 156/256 × 0.1 s.
#[test]
fn node_death_v3_gap_within_master_down_interval() {
    if skip() {
        return;
    }
    let mut lab = Lab::new("death_v3");
    let (a, b, c) = pair(&mut lab, 3, 10);
    let mdi = 0.3 + 156.0 / 256.0 * 0.1;
    let (gap, replies) = ping_gap(&mut lab, &c, VIP, 6, Duration::from_secs(2), |lab| {
        lab.node_death(&a, &["lan0"])
    });
    println!(
        "node death v3 (advert 100 ms): client ping gap {gap:.3} s, {replies} replies; Master_Down_Interval {mdi:.3} s"
    );
    assert_eq!(state_of(&b.socket, "lan_gw").as_deref(), Some("master"));
    assert!(replies > 1000, "too few replies ({replies})");
    assert!(
        gap < mdi + 1.5,
        "gap {gap:.3} s > Master_Down_Interval {mdi:.3} s + 1.5 s"
    );
}

/// SIGTERM: the master sends priority 0, exits 0, and B takes over after
/// Skew_Time (156/256 s), well before Master_Down_Interval (3.6 s).
#[test]
fn graceful_stop_priority_zero_fast_takeover() {
    if skip() {
        return;
    }
    let mut lab = Lab::new("graceful");
    let (a, b, c) = pair(&mut lab, 2, 100);
    let skew = 156.0 / 256.0;
    let mut code = None;
    let (gap, replies) = ping_gap(&mut lab, &c, VIP, 8, Duration::from_secs(2), |lab| {
        let p = lab.hagw(&a);
        kill(p.pid, libc::SIGTERM);
        code = p.wait_exit(Duration::from_secs(5));
    });
    println!(
        "graceful stop v2: client ping gap {gap:.3} s, {replies} replies; Skew_Time {skew:.3} s"
    );
    assert_eq!(code, Some(0), "SIGTERM exit code");
    assert!(!a.socket.exists(), "control socket removed");
    assert_eq!(state_of(&b.socket, "lan_gw").as_deref(), Some("master"));
    let detail = query(&b.socket, "vrrp detail --json").unwrap_or_default();
    assert!(
        json_u64(&detail, "priority_zero_rx") >= 1,
        "B counted the priority-0 advert: {detail}"
    );
    assert!(
        gap < skew + 1.5,
        "gap {gap:.3} s > Skew_Time {skew:.3} s + 1.5 s (priority 0 not honoured?)"
    );
}
