//! The router's own services behind hagw (SPEC §1, §3, issue 14) on real
//! interfaces: the scenario-5 pair (tests/netns/gateway.rs) with host TAPs
//! (the default) and a `wan_local` ruleset (drop, established/related
//! accepted) on the WAN's local chain, checked with the real tools:
//!
//! * `hagw-lan`/`hagw-wan` exist with the port's MAC; A (master) holds its
//!   own address and the VIP, B (backup) only its own.
//! * dnsmasq on A's `hagw-lan` hands the client a DHCP lease (busybox
//!   udhcpc); a DNS query to the LAN VIP is answered by A's dnsmasq and,
//!   after A stops (SIGTERM), by B's.
//! * python3 http.server on each router's own LAN address is reachable
//!   from the client (B's while it is backup).
//! * the router's own ping to the server goes out through `hagw-wan`.
//! * an unsolicited connection from the WAN to a host port is dropped by
//!   the local chain (counted `fw_drop`), though a server listens there.
//! * the TAP's carrier follows the port's link;
//! * the TAPs are gone after SIGTERM.
//!
//! Needs root, dnsmasq, busybox, python3, curl, nc; prints why it skips.

mod netns;

use netns::gateway::{CLIENT, LAN_VIP, SERVER, started_pair};
use netns::traffic::{PYTHON, http_server, text};
use netns::{Lab, board, expect_state, kill, query, skip, wait_for};
use std::process::Command;
use std::time::Duration;

const LOCAL_CHAIN: &str = "
config firewall_ruleset 'wan_local'
	option default_action 'drop'

config firewall_rule
	option ruleset 'wan_local'
	option state 'established,related'
	option action 'accept'

config firewall_attach
	option interface 'wan'
	option direction 'local'
	option ruleset 'wan_local'
";

/// Ask argv[1]:53 for the A record of argv[2] (3 tries, 1 s each); print
/// the first address of the answer.
const DNS_ASK: &str = r#"
import socket, struct, sys
name = sys.argv[2]
q = struct.pack('>HHHHHH', 0x1234, 0x0100, 1, 0, 0, 0)
for part in name.split('.'):
    q += bytes([len(part)]) + part.encode()
q += b'\x00' + struct.pack('>HH', 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
for i in range(3):
    s.sendto(q, (sys.argv[1], 53))
    try:
        d = s.recvfrom(2048)[0]
    except socket.timeout:
        continue
    if len(d) >= 16 and d[-6:-4] == b'\x00\x04':
        print(socket.inet_ntoa(d[-4:]))
        break
"#;

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn addrs(lab: &Lab, ns: &str, dev: &str) -> String {
    text(&lab.exec(ns, &["ip", "-4", "-o", "addr", "show", "dev", dev]))
}

fn tap_exists(lab: &Lab, ns: &str, dev: &str) -> bool {
    lab.exec(ns, &["ip", "link", "show", "dev", dev])
        .status
        .success()
}

/// Start dnsmasq in `ns` on hagw-lan answering hagw.test with `answer`;
/// with `dhcp`, it also leases 192.168.10.150-160.
fn dnsmasq(lab: &mut Lab, ns: &str, tag: &str, answer: &str, dhcp: bool) -> usize {
    let dir = lab.dir.clone();
    let mut args: Vec<String> = [
        "dnsmasq",
        "--keep-in-foreground",
        "--conf-file=/dev/null",
        "--no-resolv",
        "--no-hosts",
        "--user=root",
        "--interface=hagw-lan",
        "--bind-dynamic",
        "--log-facility=-",
        "--log-dhcp",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("--address=/hagw.test/{answer}"));
    args.push(format!("--pid-file={}/{tag}.pid", dir.display()));
    args.push(format!("--dhcp-leasefile={}/{tag}.leases", dir.display()));
    if dhcp {
        args.push("--dhcp-range=192.168.10.150,192.168.10.160,255.255.255.0,1h".into());
        args.push(format!("--dhcp-option=3,{LAN_VIP}"));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    lab.spawn(ns, tag, &refs)
}

fn dns_ask(lab: &Lab, client: &str, server: &str) -> String {
    let o = lab.exec(client, &[PYTHON, "-c", DNS_ASK, server, "hagw.test"]);
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn host_tap_u64(r: &netns::Router, port: &str, key: &str) -> u64 {
    // `show interfaces --json`: the host_tap object of interface `port`.
    let body = query(&r.socket, "interfaces --json").unwrap_or_default();
    let Some(at) = body.find(&format!("\"name\": \"{port}\"")) else {
        return 0;
    };
    let rest = &body[at..];
    let Some(t) = rest.find("\"host_tap\"") else {
        return 0;
    };
    netns::json_u64(&rest[t..], key)
}

#[test]
fn router_services_through_the_host_taps() {
    if skip() {
        return;
    }
    for t in ["dnsmasq", "busybox", PYTHON, "curl", "nc"] {
        if !have(t) {
            println!("skipped: needs {t}");
            return;
        }
    }
    let mut lab = Lab::new("netns_host_tap");
    let a_cfg = board("scenario5-stateful-a.uci") + LOCAL_CHAIN;
    let b_cfg = board("scenario5-stateful-b.uci") + LOCAL_CHAIN;
    let (g, b) = started_pair(&mut lab, &a_cfg, &b_cfg, false);
    let a = &g.a;

    // 1. The TAPs: A holds its address and the VIP, B its own only.
    let ok = wait_for(Duration::from_secs(5), || {
        addrs(&lab, &a.ns, "hagw-lan").contains("192.168.10.1/32")
    });
    let (al, bl) = (
        addrs(&lab, &a.ns, "hagw-lan"),
        addrs(&lab, &b.ns, "hagw-lan"),
    );
    if ok.is_none() {
        lab.dump_logs();
    }
    assert!(
        al.contains("192.168.10.2/24") && al.contains("192.168.10.1/32"),
        "A: {al}"
    );
    assert!(
        bl.contains("192.168.10.3/24") && !bl.contains("192.168.10.1/"),
        "B: {bl}"
    );
    assert!(addrs(&lab, &a.ns, "hagw-wan").contains("10.0.0.1/32"));
    let mac = |dev: &str| {
        let o = text(&lab.exec(&a.ns, &["cat", &format!("/sys/class/net/{dev}/address")]));
        o.trim().to_string()
    };
    assert_eq!(mac("hagw-lan"), mac("lan0"), "the TAP has the port's MAC");
    let rp = text(&lab.exec(&a.ns, &["cat", "/proc/sys/net/ipv4/conf/wan0/rp_filter"]));
    assert_eq!(rp.trim(), "1", "strict rp_filter on wan0 while hagw runs");

    // 2. dnsmasq on both; DHCP from A's.
    dnsmasq(&mut lab, &a.ns, "dnsmasq-a", "192.0.2.1", true);
    dnsmasq(&mut lab, &b.ns, "dnsmasq-b", "192.0.2.2", false);
    let client = g.client.clone();
    let mut lease = String::new();
    let got = wait_for(Duration::from_secs(20), || {
        let o = lab.exec(
            &client,
            &[
                "busybox",
                "udhcpc",
                "-i",
                "eth0",
                "-n",
                "-q",
                "-f",
                "-t",
                "3",
                "-T",
                "1",
                "-A",
                "1",
                "-s",
                "/bin/true",
            ],
        );
        lease = text(&o);
        lease.contains("obtained")
    });
    if got.is_none() {
        lab.dump_logs();
    }
    assert!(got.is_some(), "no DHCP lease: {lease}");
    assert!(
        lease.contains("192.168.10.15") || lease.contains("192.168.10.160"),
        "{lease}"
    );
    let leases = std::fs::read_to_string(lab.dir.join("dnsmasq-a.leases")).unwrap_or_default();
    assert!(leases.contains("192.168.10.1"), "A's lease file: {leases}");

    // 3. DNS to the LAN VIP: A's dnsmasq answers.
    let mut answer = String::new();
    let ok = wait_for(Duration::from_secs(10), || {
        answer = dns_ask(&lab, &client, LAN_VIP);
        answer == "192.0.2.1"
    });
    if ok.is_none() {
        lab.dump_logs();
    }
    assert_eq!(answer, "192.0.2.1", "DNS via the VIP, answered by A");

    // 4. HTTP on each router's own LAN address, B's while it is backup.
    let www = lab.dir.join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(www.join("hello.txt"), "hello from the router\n").unwrap();
    http_server(&mut lab, &a.ns, "192.168.10.2", &www);
    http_server(&mut lab, &b.ns, "192.168.10.3", &www);
    for addr in ["192.168.10.2", "192.168.10.3"] {
        let url = format!("http://{addr}:8080/hello.txt");
        let o = lab.exec(&client, &["curl", "-s", "--max-time", "5", &url]);
        assert_eq!(text(&o), "hello from the router\n", "{url}");
    }

    // 5. The router's own ping to the server leaves through hagw-wan.
    let route = text(&lab.exec(&a.ns, &["ip", "route", "get", SERVER]));
    assert!(route.contains("dev hagw-wan"), "{route}");
    let from_host = host_tap_u64(a, "wan", "from_host_frames");
    let o = lab.exec(&a.ns, &["ping", "-c", "2", "-W", "2", SERVER]);
    assert!(o.status.success(), "router ping: {}", text(&o));
    assert!(host_tap_u64(a, "wan", "from_host_frames") >= from_host + 2);

    // 6. Unsolicited from the WAN to a host port: dropped by the local chain.
    http_server(&mut lab, &a.ns, "10.0.0.2", &www);
    let fw = netns::traffic::drops(a, "fw_drop");
    let o = lab.exec(
        &g.server,
        &[
            "curl",
            "-s",
            "--max-time",
            "3",
            "http://10.0.0.2:8080/hello.txt",
        ],
    );
    assert!(
        !o.status.success(),
        "the WAN reached a host port: {}",
        text(&o)
    );
    assert!(netns::traffic::drops(a, "fw_drop") > fw, "drop not counted");

    // 7. A stops (SIGTERM): its TAPs go, B takes the VIP and answers DNS.
    let pid = lab.hagw(a).pid;
    kill(pid, libc::SIGTERM);
    assert_eq!(lab.hagw(a).wait_exit(Duration::from_secs(10)), Some(0));
    // (The kernel unregisters a closed TAP asynchronously.)
    for dev in ["hagw-lan", "hagw-wan"] {
        let gone = wait_for(Duration::from_secs(5), || !tap_exists(&lab, &a.ns, dev));
        assert!(gone.is_some(), "A's {dev} still there");
    }
    // The physical devices have their kernel settings back.
    for key in ["rp_filter", "arp_ignore"] {
        let read = |dev: &str| {
            let f = format!("/proc/sys/net/ipv4/conf/{dev}/{key}");
            text(&lab.exec(&a.ns, &["cat", &f])).trim().to_string()
        };
        assert_eq!(read("lan0"), read("default"), "A's lan0 {key} after stop");
    }
    expect_state(&lab, &b, "lan_gw", "master", Duration::from_secs(10));
    let ok = wait_for(Duration::from_secs(10), || {
        answer = dns_ask(&lab, &client, LAN_VIP);
        answer == "192.0.2.2"
    });
    if ok.is_none() {
        lab.dump_logs();
    }
    assert_eq!(
        answer, "192.0.2.2",
        "DNS via the VIP after failover, answered by B"
    );
    assert!(addrs(&lab, &b.ns, "hagw-lan").contains("192.168.10.1/32"));
    let _ = CLIENT;

    // 8. The TAP's carrier follows the port: B's LAN link down and up.
    let carrier = |lab: &Lab| {
        let o = lab.exec(&b.ns, &["cat", "/sys/class/net/hagw-lan/carrier"]);
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    assert_eq!(carrier(&lab), "1");
    lab.link(&b.ns, "lan0", false);
    let down = wait_for(Duration::from_secs(5), || carrier(&lab) == "0");
    assert!(down.is_some(), "hagw-lan keeps its carrier with lan0 down");
    lab.link(&b.ns, "lan0", true);
    let up = wait_for(Duration::from_secs(5), || carrier(&lab) == "1");
    assert!(up.is_some(), "hagw-lan carrier back with lan0 up");

    // 9. B stops: its TAPs go too.
    let pid = lab.hagw(&b).pid;
    kill(pid, libc::SIGTERM);
    assert_eq!(lab.hagw(&b).wait_exit(Duration::from_secs(10)), Some(0));
    // (The kernel unregisters a closed TAP asynchronously.)
    for dev in ["hagw-lan", "hagw-wan"] {
        let gone = wait_for(Duration::from_secs(5), || !tap_exists(&lab, &b.ns, dev));
        assert!(gone.is_some(), "B's {dev} still there");
    }
}
