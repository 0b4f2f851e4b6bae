//! VRRPv2 `auth_type ah` against keepalived (IPsec AH, HMAC-MD5-96) in
//! network namespaces, both ways: keepalived master + hagw backup (hagw
//! accepts keepalived's adverts and stays backup) and hagw master +
//! keepalived backup (keepalived accepts hagw's and stays backup), with
//! multicast and with unicast peers (where both leave the TTL out of the
//! ICV); tshark dissects hagw's frames as AH around VRRP. With different keys each side
//! counts (hagw) or logs (keepalived) the failures and both become master.
//! Needs root, keepalived and (for the dissection) tshark.

mod netns;
use netns::*;
use std::time::Duration;

const VIP: &str = "192.168.42.50";

/// keepalived's config: one v2 instance on lan0 with `auth_type AH`
/// (`unicast`: adverts to hagw's address only).
fn ka_conf(priority: u8, key: &str, unicast: bool, script: &std::path::Path) -> String {
    let s = script.display();
    let peer = if unicast {
        "  unicast_peer {\n    192.168.42.1\n  }\n"
    } else {
        ""
    };
    format!(
        "global_defs {{\n  router_id ka{priority}\n  script_user root\n  enable_script_security\n  vrrp_garp_master_delay 0\n}}\n\
         vrrp_instance VI_42 {{\n  state BACKUP\n  interface lan0\n  virtual_router_id 42\n  priority {priority}\n\
         \x20 advert_int 1\n  version 2\n  authentication {{\n    auth_type AH\n    auth_pass {key}\n  }}\n\
         \x20 virtual_ipaddress {{\n    {VIP}/24\n  }}\n{peer}\
         \x20 notify_master \"{s} ka master\"\n  notify_backup \"{s} ka backup\"\n  notify_fault \"{s} ka fault\"\n}}\n"
    )
}

/// The `adverts_dropped` counter `reason` of hagw's group (JSON statistics).
fn hagw_drops(r: &Router, reason: &str) -> u64 {
    let body = query(&r.socket, "vrrp statistics --json").unwrap_or_default();
    let Some(i) = body.find("\"adverts_dropped\"") else {
        return 0;
    };
    json_u64(&body[i..], reason)
}

struct Run {
    lab: Lab,
    h: Router,
    k: Keepalived,
}

/// hagw (priority `hagw_prio`, key `hagw_key`) and keepalived (`ka_prio`,
/// `ka_key`) on one segment, both with auth_type AH (`unicast`: each has
/// the other as its unicast peer); both started.
fn start(
    test: &str,
    hagw_prio: u8,
    hagw_key: &str,
    ka_prio: u8,
    ka_key: &str,
    unicast: bool,
) -> Run {
    let mut lab = Lab::new(test);
    let mut conf = format!(
        "{}\toption auth_type 'ah'\n\toption auth_password '{hagw_key}'\n",
        hagw_conf("192.168.42.1", hagw_prio, 2, 100, VIP)
    );
    if unicast {
        conf.push_str("\tlist unicast_peer '192.168.42.3'\n");
    }
    let (mut h, kns, _c) = keepalived_lab(&mut lab, &conf);
    lab.start(&mut h);
    let notify_log = lab.dir.join("ka.notify");
    let script = lab.dir.join("notify-ka.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$1 $2\" >> {}\n", notify_log.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let text = ka_conf(ka_prio, ka_key, unicast, &script);
    let k = start_keepalived_conf(&mut lab, &kns, "ka", &text, notify_log);
    Run { lab, h, k }
}

fn skipped() -> bool {
    if skip() {
        return true;
    }
    if !have("keepalived") {
        println!("skipped: needs keepalived");
        return true;
    }
    false
}

const SETTLE: Duration = Duration::from_secs(12);

#[test]
fn keepalived_master_hagw_backup_accepts_ah_adverts() {
    ka_master_hagw_backup("ka_ah_ka", false);
}

/// Unicast adverts: the TTL is left out of the ICV on both sides.
#[test]
fn unicast_keepalived_master_hagw_backup_accepts_ah_adverts() {
    ka_master_hagw_backup("ka_ah_uka", true);
}

fn ka_master_hagw_backup(test: &str, unicast: bool) {
    if skipped() {
        return;
    }
    let Run { lab, h, k } = start(test, 100, "ahsecret", 150, "ahsecret", unicast);
    expect_ka(&lab, &k, "master", SETTLE);
    expect_state(&lab, &h, "lan_gw", "backup", SETTLE);
    let rx0 = json_u64(
        &query(&h.socket, "vrrp detail --json").unwrap_or_default(),
        "adverts_rx",
    );
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(state_of(&h.socket, "lan_gw").as_deref(), Some("backup"));
    assert_eq!(keepalived_state(&k).as_deref(), Some("master"));
    let detail = query(&h.socket, "vrrp detail --json").unwrap_or_default();
    assert!(json_u64(&detail, "adverts_rx") >= rx0 + 3, "{detail}");
    assert_eq!(
        json_value(&detail, "master_router").as_deref(),
        Some("192.168.42.3"),
        "{detail}"
    );
    assert_eq!(
        json_value(&detail, "auth_type").as_deref(),
        Some("ah"),
        "{detail}"
    );
    assert_eq!(
        (hagw_drops(&h, "auth"), hagw_drops(&h, "replay")),
        (0, 0),
        "{detail}"
    );
}

#[test]
fn hagw_master_keepalived_backup_accepts_ah_adverts() {
    hagw_master_ka_backup("ka_ah_hagw", false);
}

#[test]
fn unicast_hagw_master_keepalived_backup_accepts_ah_adverts() {
    hagw_master_ka_backup("ka_ah_uhagw", true);
}

fn hagw_master_ka_backup(test: &str, unicast: bool) {
    if skipped() {
        return;
    }
    let Run { mut lab, h, k } = start(test, 150, "ahsecret", 100, "ahsecret", unicast);
    expect_state(&lab, &h, "lan_gw", "master", SETTLE);
    expect_ka(&lab, &k, "backup", SETTLE);
    // Stable over several adverts: keepalived accepts hagw's adverts.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(keepalived_state(&k).as_deref(), Some("backup"));
    assert_eq!(state_of(&h.socket, "lan_gw").as_deref(), Some("master"));
    let log = lab.proc(k.main).log_text();
    assert!(
        !log.contains("IPSEC-AH"),
        "keepalived refused something: {log}"
    );
    if !have("tshark") {
        println!("tshark missing: dissection not checked");
        return;
    }
    // tshark (independent dissector) sees AH with SPI = 192.168.42.1 and a
    // climbing sequence number around VRRP priority 150.
    let out = lab.exec(
        &h.ns,
        &[
            "timeout",
            "10",
            "tshark",
            "-n",
            "-i",
            "lan0",
            "-c",
            "3",
            "-f",
            if unicast {
                "ip proto 51 and src host 192.168.42.1 and dst host 192.168.42.3"
            } else {
                "ip proto 51 and src host 192.168.42.1 and dst host 224.0.0.18"
            },
            "-T",
            "fields",
            "-e",
            "ah.spi",
            "-e",
            "ah.sequence",
            "-e",
            "vrrp.prio",
            "-e",
            "vrrp.auth_type",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(
        rows.len(),
        3,
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut last = 0u64;
    for r in &rows {
        let spi = u64::from_str_radix(r[0].trim_start_matches("0x"), 16).unwrap_or(0);
        assert_eq!(spi, 0xc0a8_2a01, "{text}");
        let seq: u64 = r[1].parse().unwrap_or(0);
        assert!(seq > last, "{text}");
        last = seq;
        assert_eq!((r[2], r[3]), ("150", "2"), "{text}");
    }
}

#[test]
fn wrong_key_both_sides_refuse_and_become_master() {
    if skipped() {
        return;
    }
    let Run { mut lab, h, k } = start("ka_ah_bad", 150, "ahsecret", 100, "otherkey", false);
    expect_state(&lab, &h, "lan_gw", "master", SETTLE);
    expect_ka(&lab, &k, "master", SETTLE);
    // keepalived as master was seen sending only one or two adverts in 5 s
    // here while refusing hagw's (a tcpdump showed its adverts stop once
    // hagw's, also every 1 s, arrive just before its own timer fires: the
    // timer seems to restart on each advert received, even a refused one):
    // wait for the first one rather than count a rate.
    if wait_for(Duration::from_secs(8), || hagw_drops(&h, "auth") >= 1).is_none() {
        lab.dump_logs();
        panic!(
            "hagw did not count keepalived's adverts as auth failures: {:?}",
            query(&h.socket, "vrrp statistics --json")
        );
    }
    assert!(lab.hagw(&h).log_text().contains("failed ah authentication"));
    let ka_log = lab.procs[k.main].log.clone();
    let ka_refused = || {
        let t = std::fs::read_to_string(&ka_log).unwrap_or_default();
        t.matches("IPSEC-AH : invalid IPSEC HMAC-MD5 value").count()
    };
    if wait_for(Duration::from_secs(8), || ka_refused() >= 3).is_none() {
        lab.dump_logs();
        panic!("keepalived did not log hagw's adverts as invalid");
    }
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(keepalived_state(&k).as_deref(), Some("master"));
    assert_eq!(state_of(&h.socket, "lan_gw").as_deref(), Some("master"));
    // Every advert hagw got from keepalived was refused.
    let body = query(&h.socket, "vrrp statistics --json").unwrap_or_default();
    assert_eq!(
        json_u64(&body, "adverts_received"),
        hagw_drops(&h, "auth"),
        "{body}"
    );
}
