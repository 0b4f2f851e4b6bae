//! Fast takeover on real interfaces (issue 15): the scenario-5 pair with
//! 1 s adverts, conntrack sync and BFD on the sync link (20 ms × 5, a
//! 100 ms detection time that a loaded shared machine does not flap).
//! A client pings the server through the gateway every 2 ms:
//! * master node death (SIGKILL, links down) with fast takeover: the gap
//!   is BFD's detection time plus the takeover, far below
//!   Master_Down_Interval (3.6 s);
//! * the same with fast takeover off (the control): about
//!   Master_Down_Interval;
//! * the sync link cut alone: the backup takes over, the master's next
//!   advert (≤ 1 s) puts it back, the backup counts a sync-link failure.
//!
//! Gaps print with --nocapture. Needs root.

mod netns;
use netns::gateway::{SERVER, started_pair};
use netns::*;
use std::time::Duration;

fn with_bfd(cfg: &str, fast: bool) -> String {
    let (tx, rx, m) = bfd_timers();
    format!(
        "{cfg}\toption bfd '1'\n\toption bfd_min_tx '{tx}'\n\toption bfd_min_rx '{rx}'\n\toption bfd_multiplier '{m}'\n\toption fast_takeover '{}'\n",
        u8::from(fast)
    )
}

/// The pair up, BFD Up on B; returns (lab, gateway with b taken out, b).
fn pair(test: &str, fast: bool) -> Option<(Lab, gateway::Gateway, Router)> {
    if skip() {
        return None;
    }
    let mut lab = Lab::new(test);
    let a_cfg = with_bfd(&board("scenario5-stateful-a.uci"), fast);
    let b_cfg = with_bfd(&board("scenario5-stateful-b.uci"), fast);
    let (g, b) = started_pair(&mut lab, &a_cfg, &b_cfg, false);
    let up = wait_for(Duration::from_secs(10), || {
        lab.hagw(&b).log_text().contains("-> up (")
    });
    assert!(up.is_some(), "BFD up on B: {}", lab.hagw(&b).log_text());
    let o = lab.exec(
        &g.client,
        &["ping", "-c", "2", "-i", "0.2", "-w", "5", SERVER],
    );
    assert!(o.status.success(), "ping through the gateway");
    Some((lab, g, b))
}

#[test]
fn node_death_with_fast_takeover() {
    let Some((mut lab, g, b)) = pair("bfd_fast", true) else {
        return;
    };
    let a = g.a;
    let (gap, replies) = ping_gap(
        &mut lab,
        &g.client,
        SERVER,
        6,
        Duration::from_secs(2),
        |lab| lab.node_death(&a, &["lan0", "wan0", "sync0"]),
    );
    let (tx, rx, m) = bfd_timers();
    println!(
        "fast takeover (BFD {tx}/{rx} ms x {m}, adverts 1 s): client gap {gap:.3} s, {replies} replies"
    );
    assert_eq!(state_of(&b.socket, "lan_gw").as_deref(), Some("master"));
    assert!(
        lab.hagw(&b).log_text().contains("fast takeover"),
        "{}",
        lab.hagw(&b).log_text()
    );
    assert!(replies > 1000, "too few replies: {replies}");
    assert!(
        gap < 1.0,
        "gap {gap:.3} s: BFD did not take over (Master_Down_Interval is 3.6 s)"
    );
}

#[test]
fn node_death_without_fast_takeover_waits_master_down_interval() {
    let Some((mut lab, g, b)) = pair("bfd_slow", false) else {
        return;
    };
    let a = g.a;
    let (gap, _) = ping_gap(
        &mut lab,
        &g.client,
        SERVER,
        8,
        Duration::from_secs(2),
        |lab| lab.node_death(&a, &["lan0", "wan0", "sync0"]),
    );
    println!("no fast takeover (adverts 1 s): client gap {gap:.3} s");
    assert_eq!(state_of(&b.socket, "lan_gw").as_deref(), Some("master"));
    assert!(
        gap > 2.0,
        "gap {gap:.3} s: expected about Master_Down_Interval"
    );
}

#[test]
fn sync_link_cut_alone_costs_at_most_one_advert_interval() {
    let Some((mut lab, g, b)) = pair("bfd_cut", true) else {
        return;
    };
    let a_ns = g.a.ns.clone();
    let (gap, _) = ping_gap(
        &mut lab,
        &g.client,
        SERVER,
        6,
        Duration::from_secs(2),
        |lab| lab.link(&a_ns, "sync0", false),
    );
    println!("sync link cut alone: client gap {gap:.3} s");
    let back = wait_for(Duration::from_secs(5), || {
        state_of(&g.a.socket, "lan_gw").as_deref() == Some("master")
            && state_of(&b.socket, "lan_gw").as_deref() == Some("backup")
    });
    assert!(back.is_some(), "A master, B backup again");
    let log = lab.hagw(&b).log_text();
    assert!(log.contains("fast takeover"), "{log}");
    assert!(log.contains("the sync link failed"), "{log}");
    assert!(gap < 2.0, "gap {gap:.3} s");
}
