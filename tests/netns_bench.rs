//! Failover benchmark (not a timing assertion): the client's largest ping
//! gap (2 ms pings to the VIP) when the master node dies (SIGKILL + link
//! down), for a hagw pair and a keepalived pair in the same topology, VRRPv2
//! with 1 s adverts and VRRPv3 with 100 ms; median of `HAGW_BENCH_RUNS`
//! (default 3) runs each; plus the daemons' VmRSS. Run with:
//!
//!   cargo test --test netns_bench -- --ignored --nocapture
//!
//! (`HAGW_BIN=target/release/hagw` measures a release build.)

mod netns;
use netns::*;
use std::time::Duration;

const VIP: &str = "192.168.42.50";

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// One hagw run: returns (gap s, master RSS kB).
fn hagw_run(version: u8, advert_cs: u16, secs: u32) -> (f64, u64) {
    let mut lab = Lab::new(&format!("bench_h{version}"));
    let a = hagw_conf("192.168.42.1", 200, version, advert_cs, VIP);
    let b = hagw_conf("192.168.42.2", 100, version, advert_cs, VIP);
    let (mut a, mut b, c) = lan_topology(&mut lab, &a, &b, "192.168.42.100/24", VIP);
    lab.start(&mut a);
    lab.start(&mut b);
    expect_state(&lab, &a, "lan_gw", "master", Duration::from_secs(10));
    expect_state(&lab, &b, "lan_gw", "backup", Duration::from_secs(10));
    let _ = lab.exec(&c, &["ping", "-c", "2", "-i", "0.2", "-w", "5", VIP]);
    let rss = vm_rss_kb(lab.hagw(&a).pid).unwrap_or(0);
    let (gap, _) = ping_gap(&mut lab, &c, VIP, secs, Duration::from_secs(2), |lab| {
        lab.node_death(&a, &["lan0"])
    });
    assert_eq!(state_of(&b.socket, "lan_gw").as_deref(), Some("master"));
    (gap, rss)
}

/// One keepalived run: returns (gap s, master RSS kB = main + VRRP child).
fn keepalived_run(version: u8, advert: &str, secs: u32) -> (f64, u64) {
    let mut lab = Lab::new(&format!("bench_k{version}"));
    lab.segment("l");
    let a = lab.ns("a");
    let b = lab.ns("b");
    let c = lab.ns("c");
    for (ns, addr) in [(&a, "192.168.42.1/24"), (&b, "192.168.42.2/24")] {
        lab.plug("l", ns, "lan0");
        lab.addr(ns, "lan0", addr);
    }
    lab.plug("l", &c, "eth0");
    lab.addr(&c, "eth0", "192.168.42.100/24");
    sh(&["ip", "-n", &c, "route", "add", "default", "via", VIP]);
    let ka = start_keepalived(&mut lab, &a, "kaa", 200, version, advert, VIP);
    let kb = start_keepalived(&mut lab, &b, "kab", 100, version, advert, VIP);
    wait_for(Duration::from_secs(10), || {
        keepalived_state(&ka).as_deref() == Some("master")
    })
    .expect("ka master");
    wait_for(Duration::from_secs(10), || {
        keepalived_state(&kb).as_deref() == Some("backup")
    })
    .expect("kb backup");
    let _ = lab.exec(&c, &["ping", "-c", "2", "-i", "0.2", "-w", "5", VIP]);
    let main = lab.procs[ka.main].pid;
    let rss =
        vm_rss_kb(main).unwrap_or(0) + read_pid(&ka.vrrp_pidfile).and_then(vm_rss_kb).unwrap_or(0);
    let (gap, _) = ping_gap(&mut lab, &c, VIP, secs, Duration::from_secs(2), |lab| {
        kill_keepalived(lab, &ka);
        lab.link(&a, "lan0", false);
    });
    wait_for(Duration::from_secs(5), || {
        keepalived_state(&kb).as_deref() == Some("master")
    })
    .expect("kb master");
    (gap, rss)
}

#[test]
#[ignore]
fn bench_failover() {
    if skip() {
        return;
    }
    let runs: usize = std::env::var("HAGW_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let mut rows = Vec::new();
    for (version, cs, adv, secs, mdi) in [
        (2u8, 100u16, "1", 10u32, 3.0 + 156.0 / 256.0),
        (3, 10, "0.1", 5, 0.3 + 0.1 * 156.0 / 256.0),
    ] {
        let (mut hg, mut kg) = (Vec::new(), Vec::new());
        let (mut hr, mut kr) = (0, 0);
        for _ in 0..runs {
            let (g, r) = hagw_run(version, cs, secs);
            hg.push(g);
            hr = r;
            let (g, r) = keepalived_run(version, adv, secs);
            kg.push(g);
            kr = r;
        }
        println!("v{version} hagw gaps {hg:.3?}  keepalived gaps {kg:.3?}");
        rows.push((version, adv, mdi, median(&mut hg), median(&mut kg), hr, kr));
    }
    println!(
        "\n| VRRP | advert | backup Master_Down_Interval | hagw gap (median of {runs}) | keepalived gap (median of {runs}) | hagw VmRSS | keepalived VmRSS (main+vrrp) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (v, adv, mdi, h, k, hr, kr) in rows {
        println!("| v{v} | {adv} s | {mdi:.3} s | {h:.3} s | {k:.3} s | {hr} kB | {kr} kB |");
    }
}
