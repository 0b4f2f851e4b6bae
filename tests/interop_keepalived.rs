//! SPEC §7 scenario 6: hagw and keepalived (an independent VRRP
//! implementation) in one group on one bridge segment elect one master and
//! fail over both ways, in VRRPv2 (1 s adverts) and VRRPv3 (100 ms).
//! keepalived runs by hand in a namespace (no systemd) with a kernel address;
//! its state comes from its notify scripts. Needs root and keepalived.

mod netns;
use netns::*;
use std::time::Duration;

const VIP: &str = "192.168.42.50";

/// hagw priority `hagw_prio`, keepalived `ka_prio`; the higher is master;
/// then the master dies and the other takes over.
fn interop(test: &str, version: u8, hagw_prio: u8, ka_prio: u8) {
    if skip() {
        return;
    }
    if !have("keepalived") {
        println!("skipped: needs keepalived");
        return;
    }
    let (advert_cs, advert) = if version == 2 {
        (100, "1")
    } else {
        (10, "0.1")
    };
    let mut lab = Lab::new(test);
    let conf = hagw_conf("192.168.42.1", hagw_prio, version, advert_cs, VIP);
    let (mut h, kns, c) = keepalived_lab(&mut lab, &conf);
    lab.start(&mut h);
    let k = start_keepalived(&mut lab, &kns, "ka", ka_prio, version, advert, VIP);
    let settle = Duration::from_secs(if version == 2 { 12 } else { 6 });
    let ping = |lab: &Lab| {
        let out = lab.exec(&c, &["ping", "-c", "2", "-i", "0.2", "-w", "5", VIP]);
        assert!(
            out.status.success(),
            "ping VIP: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    };
    if hagw_prio > ka_prio {
        expect_state(&lab, &h, "lan_gw", "master", settle);
        expect_ka(&lab, &k, "backup", settle);
        // Stable for a few adverts: keepalived accepts hagw's adverts.
        std::thread::sleep(Duration::from_secs(if version == 2 { 3 } else { 1 }));
        assert_eq!(keepalived_state(&k).as_deref(), Some("backup"));
        assert_eq!(state_of(&h.socket, "lan_gw").as_deref(), Some("master"));
        ping(&lab);
        lab.node_death(&h, &["lan0"]);
        expect_ka(&lab, &k, "master", settle);
        ping(&lab);
    } else {
        expect_ka(&lab, &k, "master", settle);
        expect_state(&lab, &h, "lan_gw", "backup", settle);
        std::thread::sleep(Duration::from_secs(if version == 2 { 3 } else { 1 }));
        assert_eq!(state_of(&h.socket, "lan_gw").as_deref(), Some("backup"));
        assert_eq!(keepalived_state(&k).as_deref(), Some("master"));
        let detail = query(&h.socket, "vrrp detail --json").unwrap_or_default();
        assert_eq!(
            json_value(&detail, "master_router").as_deref(),
            Some("192.168.42.3"),
            "{detail}"
        );
        assert!(json_u64(&detail, "adverts_rx") > 0, "{detail}");
        ping(&lab);
        kill_keepalived(&mut lab, &k);
        lab.link(&kns, "lan0", false);
        expect_state(&lab, &h, "lan_gw", "master", settle);
        ping(&lab);
    }
}

#[test]
fn v2_hagw_master_keepalived_backup_then_keepalived_takes_over() {
    interop("ka_v2_hagw", 2, 150, 100);
}

#[test]
fn v2_keepalived_master_hagw_backup_then_hagw_takes_over() {
    interop("ka_v2_ka", 2, 100, 150);
}

#[test]
fn v3_hagw_master_keepalived_backup_then_keepalived_takes_over() {
    interop("ka_v3_hagw", 3, 150, 100);
}

#[test]
fn v3_keepalived_master_hagw_backup_then_hagw_takes_over() {
    interop("ka_v3_ka", 3, 100, 150);
}
