//! Stateful failover on real interfaces (issue 7, SPEC §7 scenario 5): the
//! two routers of board/examples/scenario5-stateful-{a,b}.uci between a
//! client and a server (tests/netns/gateway.rs). A rate-limited curl
//! download and a UDP flow run through the master; the master dies
//! mid-transfer (SIGKILL, links down); the backup takes over with the
//! synced sessions: the download completes with the right checksum and
//! the server keeps seeing the same UDP source port. The control: the
//! same run without conntrack_sync breaks the download.
//! Needs root, curl, nc and python3. Timings print with --nocapture.

mod netns;
use netns::gateway::{SERVER, WAN_VIP, started_pair};
use netns::traffic::*;
use netns::*;
use std::time::Duration;

/// The scenario-5 config without its conntrack_sync section.
fn without_sync(cfg: &str) -> String {
    match cfg.find("config conntrack_sync") {
        Some(i) => cfg[..i].to_string(),
        None => cfg.to_string(),
    }
}

struct Run {
    curl_ok: bool,
    curl_out: String,
    download_ok: bool,
    /// Source endpoints the UDP echo server saw, in order, deduplicated.
    udp_sources: Vec<String>,
    udp_gap: f64,
    b_log: String,
    b_ct_invalid: u64,
    secs: f64,
}

fn run(test: &str, sync: bool) -> Option<Run> {
    if skip() || tools_missing() {
        return None;
    }
    let mut lab = Lab::new(test);
    let (a_cfg, b_cfg) = (
        board("scenario5-stateful-a.uci"),
        board("scenario5-stateful-b.uci"),
    );
    // HAGW_STATEFUL_BFD=1: fast takeover by BFD (10 ms x 3) on the sync
    // link, to measure the transfer's stall with it (not part of CI).
    let bfd = "\toption bfd '1'\n\toption fast_takeover '1'\n";
    let (a_cfg, b_cfg) = if sync && std::env::var_os("HAGW_STATEFUL_BFD").is_some() {
        (format!("{a_cfg}{bfd}"), format!("{b_cfg}{bfd}"))
    } else if sync {
        (a_cfg, b_cfg)
    } else {
        (without_sync(&a_cfg), without_sync(&b_cfg))
    };
    // With sync, B's start-up resync from A is done before the test begins.
    let (g, b) = started_pair(&mut lab, &a_cfg, &b_cfg, sync);

    // 12 MB paced at 1.5 MB/s by the server: about 8 s; the master dies
    // a third of the way in.
    let dl = start_transfer(&mut lab, &g, 12, 1_500_000);
    lab.spawn(&g.server, "udp", &[PYTHON, "-c", UDP_ECHO, "5353"]);
    std::thread::sleep(Duration::from_millis(300));
    let udp = lab.spawn(
        &g.client,
        "udpflow",
        &[PYTHON, "-c", UDP_FLOW, SERVER, "5353", "20000", "14"],
    );
    std::thread::sleep(Duration::from_millis(2500));
    lab.node_death(&g.a, &["lan0", "wan0", "sync0"]);
    expect_state(&lab, &b, "lan_gw", "master", Duration::from_secs(10));

    let srv = dl.server;
    let (curl_ok, download_ok, secs, curl_out) = dl.finish();
    let (udp_sources, times) = udp_result(&mut lab, udp);
    let b_log = lab.hagw(&b).log_text();
    let server_log = lab.proc(srv).log_text();
    assert!(
        !sync || server_log.contains(&format!("{WAN_VIP}:")),
        "the server saw the WAN VIP: {server_log}"
    );
    Some(Run {
        curl_ok,
        curl_out,
        download_ok,
        udp_sources,
        udp_gap: max_gap(&times),
        b_ct_invalid: drops(&b, "ct_invalid"),
        b_log,
        secs,
    })
}

#[test]
fn transfer_and_udp_flow_survive_the_masters_death() {
    let Some(r) = run("stateful", true) else {
        return;
    };
    println!(
        "stateful failover: download {:.1} s (ok {}), UDP sources {:?}, UDP gap {:.2} s",
        r.secs, r.download_ok, r.udp_sources, r.udp_gap
    );
    let commit = r
        .b_log
        .lines()
        // The last commit: the one of the takeover (B may have been master
        // for a moment at start-up, committing nothing then).
        .rev()
        .find(|l| l.contains("failover:"))
        .unwrap_or("");
    println!("B: {commit}");
    assert!(
        r.curl_ok,
        "curl failed: {}\nB log:\n{}",
        r.curl_out, r.b_log
    );
    assert!(r.download_ok, "download checksum differs");
    assert_eq!(
        r.udp_sources,
        vec![format!("{WAN_VIP}:20000")],
        "the server saw one source for the UDP flow, before and after"
    );
    assert!(
        commit.contains("sessions committed") && !commit.contains("failover: 0 sessions"),
        "B committed the synced sessions: {commit}"
    );
    assert_eq!(r.b_ct_invalid, 0, "no packet of the flows was refused by B");
}

#[test]
fn without_sync_the_transfer_breaks() {
    let Some(r) = run("stateless", false) else {
        return;
    };
    println!(
        "no sync: curl ok {} after {:.1} s ({}), B ct_invalid {}",
        r.curl_ok,
        r.secs,
        r.curl_out.trim(),
        r.b_ct_invalid
    );
    assert!(!r.curl_ok && !r.download_ok, "the control must break");
    assert!(r.b_ct_invalid > 0, "B refused the mid-stream segments");
}
