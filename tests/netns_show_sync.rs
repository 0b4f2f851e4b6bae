//! `hagw show` for conntrack and conntrack sync from real daemons: the
//! gateway lab (tests/netns/gateway.rs) with both routers of
//! board/examples/scenario5 and their sync link; a ping flow through A;
//! the real `hagw show` binary reads A's live session and internal cache
//! and B's external cache (the daemon includes the sessions for those
//! requests only), both routers' sync status and statistics; then A dies
//! and B's status and session table show the commit. Needs root and ping.

mod netns;
use netns::gateway::{CLIENT, SERVER, scenario5_pair};
use netns::*;
use std::path::Path;
use std::time::Duration;

/// `hagw show WORDS --socket SOCKET` with the real binary: its stdout
/// (exit 0 asserted).
fn show(socket: &Path, words: &str) -> String {
    let mut args = vec!["show", "--socket", socket.to_str().unwrap()];
    args.extend(words.split_whitespace());
    let out = std::process::Command::new(hagw_bin())
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "hagw show {words}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn sync_views_from_real_daemons() {
    if skip() {
        return;
    }
    let mut lab = Lab::new("showsync");
    let (g, b) = scenario5_pair(&mut lab, false);
    let (a_sock, b_sock) = (g.a.socket.clone(), b.socket.clone());

    // B hears A and has finished its start-up resync.
    wait_for(Duration::from_secs(10), || {
        let s = show(&b_sock, "conntrack-sync status");
        s.contains("Resync: done") && s.contains("\n1     yes  ")
    })
    .unwrap_or_else(|| panic!("B's status:\n{}", show(&b_sock, "conntrack-sync status")));

    let o = lab.exec(
        &g.client,
        &["ping", "-c", "3", "-i", "0.2", "-w", "5", SERVER],
    );
    assert!(o.status.success(), "ping through A: {o:?}");

    // A's live session: the client's echo, translated to the WAN VIP.
    let ct = show(&a_sock, "conntrack");
    let row = ct
        .lines()
        .find(|l| l.contains("icmp [1]"))
        .unwrap_or_else(|| panic!("{ct}"));
    assert!(row.contains(&format!("{CLIENT}  ")), "{ct}");
    assert!(row.contains("src 10.0.0.1"), "{ct}");
    assert!(row.contains(" 3/3 "), "three echoes each way: {ct}");
    let internal = format!("|{CLIENT}|");
    let cache = show(&a_sock, "conntrack-sync internal-cache");
    assert!(cache.starts_with("Source "), "{cache}");
    assert!(
        cache.contains(&internal) && cache.contains("icmp [1]"),
        "{cache}"
    );

    // B holds it in its external cache, A counted the export.
    let found = wait_for(Duration::from_secs(3), || {
        show(&b_sock, "conntrack-sync external-cache").contains(&internal)
    });
    assert!(
        found.is_some(),
        "{}",
        show(&b_sock, "conntrack-sync external-cache")
    );
    let ext = show(&b_sock, "conntrack-sync external-cache --json");
    assert!(ext.contains("\"snat\":{\"address\":\"10.0.0.1\""), "{ext}");
    let stats_a = show(&a_sock, "conntrack-sync statistics");
    assert!(
        stats_a.starts_with("cache internal:\ncurrent active connections:"),
        "{stats_a}"
    );
    assert_eq!(
        stats_a.lines().nth(2),
        Some("connections created:               1    failed:     0"),
        "{stats_a}"
    );
    assert!(
        stats_a.contains("\nmulticast traffic (active device=sync0):\n"),
        "{stats_a}"
    );
    let stats_b = show(&b_sock, "conntrack-sync statistics");
    assert!(
        stats_b.contains("\nmessage tracking:\n0 Malformed msgs"),
        "{stats_b}"
    );

    // A dies; B commits the session and says so.
    lab.node_death(&g.a, &["lan0", "wan0", "sync0"]);
    expect_state(&lab, &b, "wan_gw", "master", Duration::from_secs(10));
    let status = show(&b_sock, "conntrack-sync status");
    assert!(status.contains("\nMaster: yes, "), "{status}");
    let failover = status
        .lines()
        .find(|l| l.starts_with("Failover: 1 promotions, "))
        .unwrap_or_else(|| panic!("{status}"));
    assert!(!failover.contains(" 0 sessions committed"), "{status}");
    let ct = show(&b_sock, "conntrack");
    let row = ct
        .lines()
        .find(|l| l.contains("icmp [1]"))
        .unwrap_or_else(|| panic!("{ct}"));
    assert!(row.ends_with("yes"), "the session came from sync: {ct}");
    let m = show(&b_sock, "metrics");
    assert!(m.contains("\nhagw_sync_master 1\n"), "{m}");
    assert!(m.contains("\nhagw_sync_promotions_total 1\n"), "{m}");
}
