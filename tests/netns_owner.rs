//! The address owner on the wire (issue 12), checked with a real ARP client
//! (`arping`) in namespaces: owner R1 (192.168.10.2, tracking its WAN link)
//! and a priority-100 backup R2 in RFC mode (vrid 51). Whoever is master,
//! an ARP request for 192.168.10.2 gets exactly one answer, from the
//! virtual MAC 00:00:5e:00:01:33 — never the owner's physical MAC.
//! Needs root and arping.

mod netns;
use netns::*;
use std::time::Duration;

const VMAC: &str = "00:00:5e:00:01:33";

fn router_conf(addr: &str, wan: &str, priority: u8) -> String {
    format!(
        "config globals 'globals'\n\toption node_id '1'\n\n\
         config interface 'lan'\n\toption device 'lan0'\n\toption role 'lan'\n\toption address '{addr}/24'\n\n\
         config interface 'wan'\n\toption device 'wan0'\n\toption role 'wan'\n\toption address '{wan}/24'\n\n\
         config vrrp_group 'lan_gw'\n\toption interface 'lan'\n\toption vrid '51'\n\
         \tlist virtual_address '192.168.10.2/24'\n\toption priority '{priority}'\n\
         \toption rfc3768_compatibility '1'\n\tlist track_interface 'wan'\n"
    )
}

/// The MACs that answered `arping` for `ip` from namespace `c` (one per reply line).
fn arp_answers(lab: &Lab, c: &str, ip: &str) -> Vec<String> {
    let out = lab.exec(c, &["arping", "-c", "3", "-w", "3", "-i", "eth0", ip]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut macs: Vec<String> = text
        .lines()
        .filter(|l| l.contains("bytes from"))
        .filter_map(|l| l.split_whitespace().nth(3).map(str::to_lowercase))
        .collect();
    macs.sort();
    macs.dedup();
    macs
}

#[test]
fn owner_arp_answers_come_from_the_virtual_mac_only() {
    if skip() {
        return;
    }
    if std::process::Command::new("arping")
        .arg("--help")
        .output()
        .is_err()
    {
        println!("skipped: needs arping");
        return;
    }
    let mut lab = Lab::new("owner_arp");
    lab.segment("l");
    lab.segment("w");
    let mut r1 = lab.router("r1", &router_conf("192.168.10.2", "10.0.0.2", 100));
    let mut r2 = lab.router("r2", &router_conf("192.168.10.3", "10.0.0.3", 100));
    let c = lab.ns("c");
    for r in [&r1, &r2] {
        lab.plug("l", &r.ns, "lan0");
        lab.plug("w", &r.ns, "wan0");
    }
    lab.plug("l", &c, "eth0");
    lab.addr(&c, "eth0", "192.168.10.77/24");
    lab.start(&mut r1);
    lab.start(&mut r2);
    expect_state(&lab, &r1, "lan_gw", "master", Duration::from_secs(10));
    expect_state(&lab, &r2, "lan_gw", "backup", Duration::from_secs(10));

    // R1 master (the owner, RFC mode): the virtual MAC answers, nothing else.
    assert_eq!(arp_answers(&lab, &c, "192.168.10.2"), vec![VMAC]);

    // R1's WAN goes down: R1 FAULT, R2 master. Still one MAC: R2's virtual one.
    lab.link(&r1.ns, "wan0", false);
    expect_state(&lab, &r1, "lan_gw", "fault", Duration::from_secs(5));
    expect_state(&lab, &r2, "lan_gw", "master", Duration::from_secs(10));
    // Both use the same virtual MAC, so tell them apart by R1's counter of
    // ARP requests it did not answer (lan is its first port).
    let refused = || {
        json_u64(
            &query(&r1.socket, "interfaces --json").unwrap(),
            "not_local",
        )
    };
    let before = refused();
    assert_eq!(arp_answers(&lab, &c, "192.168.10.2"), vec![VMAC]);
    assert!(
        refused() >= before + 3,
        "the faulted owner left the 3 requests unanswered ({before} -> {})",
        refused()
    );

    // WAN back: the owner preempts at once (priority 255) and answers again.
    lab.link(&r1.ns, "wan0", true);
    expect_state(&lab, &r1, "lan_gw", "master", Duration::from_secs(10));
    expect_state(&lab, &r2, "lan_gw", "backup", Duration::from_secs(10));
    assert_eq!(arp_answers(&lab, &c, "192.168.10.2"), vec![VMAC]);
}
