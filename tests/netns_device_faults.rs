//! Operations under faults (issue 8 item 4), the daemon as a process in a
//! network namespace: a missing or vanished device holds only its own
//! groups in FAULT; a kernel IPv4 address on a hagw-owned device is noticed
//! at once (netlink address events); a SIGHUP changing the interface list
//! says what it kept. Needs root (prints "skipped: needs root" otherwise).

mod netns;
use netns::*;
use std::time::{Duration, Instant};

/// Two groups, each on its own interface: lan_gw on lan0, wan_gw on wan0.
const TWO_GROUPS: &str = "config globals 'globals'
\toption node_id '1'

config interface 'lan'
\toption device 'lan0'
\toption role 'lan'
\toption address '192.168.42.1/24'

config interface 'wan'
\toption device 'wan0'
\toption role 'wan'
\toption address '10.0.0.2/24'

config vrrp_group 'lan_gw'
\toption interface 'lan'
\toption vrid '42'
\tlist virtual_address '192.168.42.50'
\toption priority '100'
\toption version '3'
\toption advertise_interval '0.20'

config vrrp_group 'wan_gw'
\toption interface 'wan'
\toption vrid '43'
\tlist virtual_address '10.0.0.50'
\toption priority '100'
\toption version '3'
\toption advertise_interval '0.20'
";

fn log(lab: &mut Lab, r: &Router) -> String {
    lab.hagw(r).log_text()
}

/// The device state of interface `name` in `interfaces --json`: (missing,
/// kernel_conflicts, kernel_ipv4 text).
fn device_state(r: &Router, name: &str) -> (bool, u64, String) {
    let body = query(&r.socket, "interfaces --json").unwrap_or_default();
    let Some(i) = body.find(&format!("\"name\": \"{name}\"")) else {
        return (false, 0, String::new());
    };
    let rest = &body[i..];
    let ds = &rest[rest.find("\"device_state\"").unwrap_or(0)..];
    let addrs = ds
        .find("\"kernel_ipv4\"")
        .map(|k| {
            let a = &ds[k..];
            a[..a.find(']').unwrap_or(a.len())].to_string()
        })
        .unwrap_or_default();
    (
        json_value(ds, "missing").as_deref() == Some("true"),
        json_u64(ds, "kernel_conflicts"),
        addrs,
    )
}

#[test]
fn missing_device_faults_only_its_groups() {
    if skip() {
        return;
    }
    let mut lab = Lab::new("fault_dev");
    lab.segment("l");
    lab.segment("w");
    let mut r = lab.router("a", TWO_GROUPS);
    let c = lab.ns("c");
    lab.plug("w", &c, "eth0");
    lab.addr(&c, "eth0", "10.0.0.100/24");
    lab.plug("l", &r.ns, "lan0");
    lab.start(&mut r); // wan0 does not exist

    // The group on the present device runs; the other waits in FAULT.
    expect_state(&lab, &r, "lan_gw", "master", Duration::from_secs(5));
    expect_state(&lab, &r, "wan_gw", "fault", Duration::from_secs(2));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(state_of(&r.socket, "lan_gw").as_deref(), Some("master"));
    assert!(device_state(&r, "wan").0, "wan not shown missing");
    assert!(!device_state(&r, "lan").0, "lan shown missing");
    let text = query(&r.socket, "interfaces").unwrap();
    assert!(
        text.contains("Interface wan (device wan0, role wan): missing"),
        "{text}"
    );
    let detail = query(&r.socket, "vrrp detail").unwrap();
    assert!(
        detail.contains("Group wan_gw: device wan0 of interface wan is missing"),
        "{detail}"
    );
    let metrics = query(&r.socket, "metrics").unwrap();
    assert!(
        metrics.contains(
            "hagw_interface_device_missing{interface=\"wan\",device=\"wan0\",role=\"wan\"} 1"
        ),
        "{metrics}"
    );
    let summary = query(&r.socket, "vrrp").unwrap();
    let wan_row = summary.lines().find(|l| l.contains("10.0.0.50")).unwrap();
    assert!(
        wan_row.contains("missing") && wan_row.contains("fault"),
        "{summary}"
    );
    let l = log(&mut lab, &r);
    assert!(
        l.contains("wan (wan0): device missing; VRRP group(s) wan_gw on it in FAULT"),
        "{l}"
    );

    // The device appears: opened at once (netlink), its group comes up
    // with the device's MAC (the client's ping of the VIP is answered).
    let t0 = Instant::now();
    lab.plug("w", &r.ns, "wan0");
    expect_state(&lab, &r, "wan_gw", "master", Duration::from_secs(5));
    println!("wan_gw master {:?} after wan0 was created", t0.elapsed());
    assert!(!device_state(&r, "wan").0);
    let l = log(&mut lab, &r);
    assert!(l.contains("wan (wan0): device appeared"), "{l}");
    let ping = lab.exec(
        &c,
        &["ping", "-c", "2", "-i", "0.2", "-W", "1", "10.0.0.50"],
    );
    assert!(
        ping.status.success(),
        "VIP on the late device not answered: {}\n{}",
        String::from_utf8_lossy(&ping.stdout),
        log(&mut lab, &r)
    );
    assert_eq!(state_of(&r.socket, "lan_gw").as_deref(), Some("master"));

    // lan0 vanishes while running: only lan_gw goes to FAULT.
    sh(&["ip", "-n", &r.ns, "link", "del", "lan0"]);
    expect_state(&lab, &r, "lan_gw", "fault", Duration::from_secs(3));
    assert!(device_state(&r, "lan").0, "lan not shown missing");
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(state_of(&r.socket, "wan_gw").as_deref(), Some("master"));
    let ping = lab.exec(
        &c,
        &["ping", "-c", "2", "-i", "0.2", "-W", "1", "10.0.0.50"],
    );
    assert!(ping.status.success(), "wan VIP lost when lan0 went");
    let l = log(&mut lab, &r);
    assert!(
        l.contains("lan (lan0): device gone; VRRP group(s) lan_gw on it go to FAULT"),
        "{l}"
    );
    // Re-created (new MAC): back to master.
    lab.plug("l", &r.ns, "lan0");
    expect_state(&lab, &r, "lan_gw", "master", Duration::from_secs(5));
    assert!(lab.hagw(&r).alive());
}

/// A router with both devices present and both groups master.
fn both_masters(test: &str) -> (Lab, Router) {
    let mut lab = Lab::new(test);
    lab.segment("l");
    lab.segment("w");
    let mut r = lab.router("a", TWO_GROUPS);
    lab.plug("l", &r.ns, "lan0");
    lab.plug("w", &r.ns, "wan0");
    lab.start(&mut r);
    expect_state(&lab, &r, "lan_gw", "master", Duration::from_secs(5));
    expect_state(&lab, &r, "wan_gw", "master", Duration::from_secs(5));
    (lab, r)
}

#[test]
fn kernel_address_on_owned_device_is_noticed_at_once() {
    if skip() {
        return;
    }
    let (mut lab, r) = both_masters("fault_addr");
    // Let the start-up link events settle, so only the address event is left.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(device_state(&r, "wan").1, 0);
    assert!(!log(&mut lab, &r).contains("the kernel has IPv4 address"));

    let want = "wan (wan0): the kernel has IPv4 address 10.0.0.9/24 on this device";
    let t0 = Instant::now();
    lab.addr(&r.ns, "wan0", "10.0.0.9/24");
    let took = wait_for(Duration::from_secs(3), || {
        lab.procs[r.proc.unwrap()].log_text().contains(want) && device_state(&r, "wan").1 >= 1
    })
    .unwrap_or_else(|| panic!("address not noticed:\n{}", log(&mut lab, &r)));
    println!(
        "kernel address noticed {:?} after `ip addr add` ({took:?} of polling)",
        t0.elapsed()
    );
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
    let (_, conflicts, addrs) = device_state(&r, "wan");
    assert_eq!(conflicts, 1);
    assert!(addrs.contains("10.0.0.9/24"), "{addrs}");
    let text = query(&r.socket, "interfaces").unwrap();
    assert!(
        text.contains("kernel IPv4 on this hagw-owned device: 10.0.0.9/24"),
        "{text}"
    );
    let line = log(&mut lab, &r);
    let line = line.lines().find(|l| l.contains(want)).unwrap().to_string();
    assert!(line.contains("WARN"), "{line}");
    // lan0 (clean) is not blamed; the group keeps running (a warning only).
    assert_eq!(device_state(&r, "lan").1, 0);
    assert_eq!(state_of(&r.socket, "wan_gw").as_deref(), Some("master"));

    // Removed: the state follows at once, the counter stays.
    sh(&[
        "ip",
        "-n",
        &r.ns,
        "addr",
        "del",
        "10.0.0.9/24",
        "dev",
        "wan0",
    ]);
    wait_for(Duration::from_secs(1), || {
        !device_state(&r, "wan").2.contains("10.0.0.9")
    })
    .unwrap_or_else(|| panic!("removal not noticed:\n{}", log(&mut lab, &r)));
    assert_eq!(device_state(&r, "wan").1, 1);
    assert!(log(&mut lab, &r).contains("the kernel has no IPv4 address on this device any more"));
}

#[test]
fn sighup_with_changed_interface_list_says_what_it_kept() {
    if skip() {
        return;
    }
    let (mut lab, r) = both_masters("fault_hup");
    let good = std::fs::read_to_string(&r.config).unwrap();
    let pid = lab.hagw(&r).pid;

    // The new file drops wan (and its group) and renames lan's device.
    let start = good.find("config interface 'wan'").unwrap();
    let end = good.find("config vrrp_group 'lan_gw'").unwrap();
    let group = good.find("config vrrp_group 'wan_gw'").unwrap();
    let changed = format!("{}{}", &good[..start], &good[end..group]).replace("'lan0'", "'lan7'");
    std::fs::write(&r.config, &changed).unwrap();
    kill(pid, libc::SIGHUP);
    let kept = "reload: kept the running configuration and its interface list \
                [lan=lan0 (lan), wan=wan0 (wan)]: the new file's list [lan=lan7 (lan)] \
                removes wan; changes the device or role of lan";
    wait_for(Duration::from_secs(5), || {
        lab.procs[r.proc.unwrap()].log_text().contains(kept)
    })
    .unwrap_or_else(|| panic!("no `{kept}` in log:\n{}", log(&mut lab, &r)));
    let l = log(&mut lab, &r);
    let line = l.lines().find(|x| x.contains(kept)).unwrap();
    assert!(
        line.contains("ERROR") && line.contains("restart hagw"),
        "{line}"
    );
    // `show` says the same; the old list and both groups keep running.
    let text = query(&r.socket, "interfaces").unwrap();
    assert!(
        text.starts_with("Reload: kept the running configuration and its interface list [lan=lan0 (lan), wan=wan0 (wan)]"),
        "{text}"
    );
    let body = query(&r.socket, "interfaces --json").unwrap();
    assert!(json_value(&body, "reload_kept").is_some(), "{body}");
    assert!(
        body.contains("\"device\": \"wan0\"") && !body.contains("\"device\": \"lan7\""),
        "{body}"
    );
    assert_eq!(state_of(&r.socket, "wan_gw").as_deref(), Some("master"));
    assert_eq!(state_of(&r.socket, "lan_gw").as_deref(), Some("master"));

    // The original file again: applied, the note is gone.
    std::fs::write(&r.config, &good).unwrap();
    kill(pid, libc::SIGHUP);
    wait_for(Duration::from_secs(5), || {
        lab.procs[r.proc.unwrap()]
            .log_text()
            .contains("reload: configuration applied")
    })
    .unwrap_or_else(|| panic!("reload not applied:\n{}", log(&mut lab, &r)));
    let text = query(&r.socket, "interfaces").unwrap();
    assert!(!text.contains("Reload:"), "{text}");
    assert!(lab.hagw(&r).alive());
}
