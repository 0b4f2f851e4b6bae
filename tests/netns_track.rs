//! Health tracking on real interfaces (issue 11). Needs root, nft, ping.
//!
//! 1. The gateway lab (tests/netns/gateway.rs, scenario 5 configs) with a
//!    ping track on both routers: the upstream (the server, 10.0.0.100)
//!    gets an nftables rule dropping echo requests from the master's WAN
//!    address only. A's track goes DOWN (0.5 s probes, fall 3), its
//!    priority drops 200 → 50, B (100) takes the sync group over and the
//!    client's ping to the server continues through B; when the rule goes,
//!    A's track comes UP (rise 2) and A takes the groups back.
//! 2. keepalived as the peer: its election follows hagw's effective
//!    priority both ways.
//!
//! The measured times are printed (`-- --nocapture`).

mod netns;
use netns::gateway::{SERVER, gateway};
use netns::*;
use std::time::{Duration, Instant};

const TRACK: &str = "\nconfig track 'upstream'\n\toption type 'ping'\n\toption interface '{IF}'\n\toption target '{TARGET}'\n\toption interval '0.5'\n\toption fall '3'\n\toption rise '2'\n\toption weight '-150'\n";

fn with_track(cfg: &str, group_anchor: &str, iface: &str, target: &str) -> String {
    let cfg = cfg.replacen(
        group_anchor,
        &format!("{group_anchor}\n\tlist track 'upstream'"),
        1,
    );
    format!(
        "{cfg}{}",
        TRACK.replace("{IF}", iface).replace("{TARGET}", target)
    )
}

/// nftables in `ns`: drop echo requests from `src` (or remove the table).
fn drop_rule(lab: &Lab, ns: &str, src: Option<&str>) {
    let run = |args: &[&str]| {
        let o = lab.exec(ns, args);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    match src {
        Some(src) => {
            run(&["nft", "add", "table", "inet", "hagwtrk"]);
            run(&[
                "nft",
                "add chain inet hagwtrk in { type filter hook input priority 0 ; }",
            ]);
            run(&[
                "nft",
                &format!("add rule inet hagwtrk in ip saddr {src} icmp type echo-request drop"),
            ]);
        }
        None => run(&["nft", "delete", "table", "inet", "hagwtrk"]),
    }
}

fn track_state(r: &Router) -> Option<String> {
    let body = query(&r.socket, "tracks --json").ok()?;
    json_value(&body, "state")
}

fn wait_until(what: &str, lab: &Lab, timeout: Duration, f: impl FnMut() -> bool) -> Duration {
    wait_for(timeout, f).unwrap_or_else(|| {
        lab.dump_logs();
        panic!("{what} not within {timeout:?}")
    })
}

#[test]
fn upstream_drops_the_masters_probes_backup_takes_over_and_gives_back() {
    if skip() || !have("nft") {
        println!("skipped: needs root, nft and ping");
        return;
    }
    let mut lab = Lab::new("track_gw");
    let anchor = "option sync_group 'gw'";
    let a = with_track(&board("scenario5-stateful-a.uci"), anchor, "wan", SERVER);
    let b = with_track(&board("scenario5-stateful-b.uci"), anchor, "wan", SERVER);
    let mut g = gateway(&mut lab, &a, Some(&b));
    let mut rb = g.b.take().unwrap();
    lab.start(&mut g.a);
    lab.start(&mut rb);
    for group in ["lan_gw", "wan_gw"] {
        expect_state(&lab, &g.a, group, "master", Duration::from_secs(10));
        expect_state(&lab, &rb, group, "backup", Duration::from_secs(10));
    }
    let o = lab.exec(
        &g.client,
        &["ping", "-c", "3", "-i", "0.2", "-w", "5", SERVER],
    );
    assert!(
        o.status.success(),
        "ping before: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(track_state(&g.a).as_deref(), Some("up"));
    assert_eq!(track_state(&rb).as_deref(), Some("up"));

    // The client pings the server every 50 ms through the whole test.
    let ping = start_ping(&mut lab, &g.client, "ping", SERVER, "0.05", 800, 45);
    std::thread::sleep(Duration::from_secs(2));
    let t0 = Instant::now();
    drop_rule(&lab, &g.server, Some("10.0.0.2"));
    let down = wait_until("A's track DOWN", &lab, Duration::from_secs(10), || {
        track_state(&g.a).as_deref() == Some("down")
    });
    let detail = query(&g.a.socket, "vrrp detail").unwrap();
    assert!(detail.contains("Priority: 50 (configured 200)"), "{detail}");
    assert!(
        detail.contains("Track upstream: ping 10.0.0.100 via wan, DOWN"),
        "{detail}"
    );
    wait_until("B master", &lab, Duration::from_secs(10), || {
        state_of(&rb.socket, "lan_gw").as_deref() == Some("master")
            && state_of(&rb.socket, "wan_gw").as_deref() == Some("master")
    });
    let b_master = t0.elapsed();
    assert_eq!(state_of(&g.a.socket, "lan_gw").as_deref(), Some("backup"));
    assert_eq!(state_of(&g.a.socket, "wan_gw").as_deref(), Some("backup"));
    // B's probes were never dropped.
    assert_eq!(track_state(&rb).as_deref(), Some("up"));
    std::thread::sleep(Duration::from_secs(3));

    let t1 = Instant::now();
    drop_rule(&lab, &g.server, None);
    let up = wait_until("A's track UP", &lab, Duration::from_secs(10), || {
        track_state(&g.a).as_deref() == Some("up")
    });
    wait_until("A master again", &lab, Duration::from_secs(10), || {
        state_of(&g.a.socket, "lan_gw").as_deref() == Some("master")
            && state_of(&g.a.socket, "wan_gw").as_deref() == Some("master")
    });
    let a_back = t1.elapsed();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(state_of(&rb.socket, "lan_gw").as_deref(), Some("backup"));

    let p = lab.proc(ping);
    kill(p.pid, libc::SIGINT);
    p.wait_exit(Duration::from_secs(10));
    let times = ping_times(&p.log_text());
    let gap = max_gap(&times);
    let span = times.last().copied().unwrap_or(0.0) - times.first().copied().unwrap_or(0.0);
    println!(
        "track down {:.2} s and B master {:.2} s after the drop rule; track up {:.2} s and A master {:.2} s after its removal; client ping: {} replies over {span:.1} s, largest gap {gap:.3} s",
        down.as_secs_f64(),
        b_master.as_secs_f64(),
        up.as_secs_f64(),
        a_back.as_secs_f64(),
        times.len()
    );
    // Down: the third unanswered 0.5 s probe (≈ 1-2 s); B master: plus at
    // most B's Master_Down_Interval (3 + 156/256 s).
    assert!(down <= Duration::from_secs(3), "{down:?}");
    assert!(b_master <= Duration::from_secs(7), "{b_master:?}");
    assert!(
        span > 10.0 && times.len() > 200,
        "ping stopped: {} replies",
        times.len()
    );
    assert!(gap < 3.0, "client ping gap {gap:.3} s");
}

#[test]
fn keepalived_peer_follows_our_effective_priority() {
    if skip() || !have("nft") || !have("keepalived") {
        println!("skipped: needs root, nft, ping and keepalived");
        return;
    }
    const VIP: &str = "192.168.42.50";
    let mut lab = Lab::new("track_ka");
    let conf = with_track(
        &hagw_conf("192.168.42.1", 200, 2, 100, VIP),
        "option advertise_interval '1'",
        "lan",
        "192.168.42.100",
    );
    let (mut h, kns, c) = keepalived_lab(&mut lab, &conf);
    lab.start(&mut h);
    let k = start_keepalived(&mut lab, &kns, "ka", 100, 2, "1", VIP);
    let ka = |state: &str| keepalived_state(&k).as_deref() == Some(state);
    expect_state(&lab, &h, "lan_gw", "master", Duration::from_secs(12));
    wait_until("keepalived backup", &lab, Duration::from_secs(12), || {
        ka("backup")
    });

    // tshark on keepalived's side records the priorities on the wire.
    let cap = have("tshark").then(|| {
        let i = lab.spawn(
            &kns,
            "tshark",
            &[
                "tshark",
                "-i",
                "lan0",
                "-l",
                "-n",
                "-a",
                "duration:9",
                "-Y",
                "vrrp",
                "-T",
                "fields",
                "-e",
                "ip.src",
                "-e",
                "vrrp.prio",
            ],
        );
        std::thread::sleep(Duration::from_secs(2));
        i
    });
    let t0 = Instant::now();
    drop_rule(&lab, &c, Some("192.168.42.1"));
    wait_until("keepalived master", &lab, Duration::from_secs(12), || {
        ka("master")
    });
    let ka_master = t0.elapsed();
    if let Some(i) = cap {
        let p = lab.proc(i);
        p.wait_exit(Duration::from_secs(15));
        let seen = p.log_text();
        assert!(seen.contains("192.168.42.1\t200"), "{seen}");
        assert!(
            seen.contains("192.168.42.1\t50"),
            "no priority-50 advert: {seen}"
        );
        assert!(seen.contains("192.168.42.3\t100"), "{seen}");
    }
    expect_state(&lab, &h, "lan_gw", "backup", Duration::from_secs(5));
    let detail = query(&h.socket, "vrrp detail --json").unwrap();
    assert_eq!(
        json_value(&detail, "priority").as_deref(),
        Some("50"),
        "{detail}"
    );
    assert_eq!(
        json_value(&detail, "master_router").as_deref(),
        Some("192.168.42.3")
    );

    let t1 = Instant::now();
    drop_rule(&lab, &c, None);
    expect_state(&lab, &h, "lan_gw", "master", Duration::from_secs(12));
    wait_until(
        "keepalived backup again",
        &lab,
        Duration::from_secs(12),
        || ka("backup"),
    );
    let h_master = t1.elapsed();
    println!(
        "keepalived master {:.2} s after the drop rule; hagw master again {:.2} s after its removal",
        ka_master.as_secs_f64(),
        h_master.as_secs_f64()
    );
}

#[test]
fn script_track_in_the_daemon_exit_status_and_hung_script() {
    if skip() {
        return;
    }
    let mut lab = Lab::new("track_script");
    lab.segment("l");
    let flag = lab.dir.join("fail");
    let hang = lab.dir.join("hang");
    let script = lab.dir.join("check.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ -e {h} ] && exec sleep 31.7\n[ \"$1\" = arg ] || exit 2\n! [ -e {f} ]\n",
            h = hang.display(),
            f = flag.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let conf = hagw_conf("192.168.42.1", 200, 2, 100, "192.168.42.50").replacen(
        "option advertise_interval '1'",
        "option advertise_interval '1'\n\tlist track 'chk'",
        1,
    ) + &format!(
        "\nconfig track 'chk'\n\toption type 'script'\n\toption command '{} arg'\n\toption interval '0.2'\n\toption timeout '0.5'\n\toption fall '2'\n\toption rise '2'\n\toption weight '-150'\n",
        script.display()
    );
    let mut h = lab.router("h", &conf);
    lab.plug("l", &h.ns, "lan0");
    lab.start(&mut h);
    expect_state(&lab, &h, "lan_gw", "master", Duration::from_secs(10));
    let prio = |h: &Router| {
        let d = query(&h.socket, "vrrp detail --json").unwrap_or_default();
        json_value(&d, "priority")
    };
    let ok_count = |h: &Router| json_u64(&query(&h.socket, "tracks --json").unwrap(), "successes");
    wait_until("script successes", &lab, Duration::from_secs(5), || {
        ok_count(&h) >= 5
    });
    assert_eq!(track_state(&h).as_deref(), Some("up"));
    assert_eq!(prio(&h).as_deref(), Some("200"));

    std::fs::write(&flag, "").unwrap();
    wait_until("DOWN on exit 1", &lab, Duration::from_secs(5), || {
        track_state(&h).as_deref() == Some("down")
    });
    assert_eq!(prio(&h).as_deref(), Some("50"));
    std::fs::remove_file(&flag).unwrap();
    wait_until("UP on exit 0", &lab, Duration::from_secs(5), || {
        track_state(&h).as_deref() == Some("up")
    });
    assert_eq!(prio(&h).as_deref(), Some("200"));

    // Hung: killed after 0.5 s, a failure each time; one run at a time.
    std::fs::write(&hang, "").unwrap();
    let t = Instant::now();
    wait_until("DOWN on hung script", &lab, Duration::from_secs(6), || {
        track_state(&h).as_deref() == Some("down")
    });
    let hung_down = t.elapsed();
    let body = query(&h.socket, "tracks --json").unwrap();
    assert!(json_u64(&body, "skipped") > 0, "{body}");
    let sleeps = lab.exec(&h.ns, &["sh", "-c", "pgrep -f \"[s]leep 31.7\" | wc -l"]);
    let n: u32 = String::from_utf8_lossy(&sleeps.stdout)
        .trim()
        .parse()
        .unwrap_or(99);
    assert!(n <= 1, "{n} hung scripts at once");
    std::fs::remove_file(&hang).unwrap();
    wait_until("UP again", &lab, Duration::from_secs(5), || {
        track_state(&h).as_deref() == Some("up")
    });
    assert!(lab.hagw(&h).alive(), "daemon died");
    println!(
        "script track: DOWN {:.2} s after the script hung",
        hung_down.as_secs_f64()
    );
}
