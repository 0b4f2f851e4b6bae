//! Benchmarks in namespaces (numbers, not timing assertions; `#[ignore]`d,
//! run by `make bench`):
//!
//! * `bench_failover`: the client's largest ping gap (2 ms pings to the
//!   VIP) when the master node dies (SIGKILL + link down), for a hagw pair
//!   and a keepalived pair in the same topology, VRRPv2 with 1 s adverts and
//!   VRRPv3 with 100 ms; median of `HAGW_BENCH_RUNS` (default 3) runs each;
//!   plus the daemons' VmRSS.
//! * `bench_gateway`: forwarding through hagw (board/examples/
//!   scenario5-stateful-a.uci, 16k session table) and through the kernel
//!   (IPv4 forwarding + nftables SNAT) in the same topology
//!   (tests/netns/gateway.rs: client — bridge — router — bridge — server,
//!   1500 MTU, veth offloads off), alternating within each of
//!   `HAGW_BENCH_RUNS` (default 2) runs: iperf3 TCP client→server and `-R`
//!   (`HAGW_BENCH_SECS`, default 5 s), iperf3 UDP with 64-byte datagrams
//!   (`-b 0`: iperf3's sender is the limit), and 60-byte frames (64 on the
//!   wire) blasted from an AF_PACKET socket in the client (64 UDP flows)
//!   counted at the server's interface; plus hagw's VmRSS idle and with the
//!   session table filled (17k distinct UDP flows forwarded). Needs iperf3
//!   and nft.
//!
//! * `bench_tcp_ab`: iperf3 TCP both ways through the kernel and through
//!   one or two hagw builds (`HAGW_BIN_BEFORE`, then `HAGW_BIN` or this
//!   build), alternating within each of `HAGW_BENCH_RUNS` (default 3) runs
//!   in the same topology as `bench_gateway`: each build's ratio to the
//!   kernel measured minutes apart on the same loaded machine.
//!   `HAGW_BENCH_NICE_AB=1` adds this build at `globals.nice 0` next to
//!   the default (-10).
//!
//!   cargo test --test netns_bench -- --ignored --nocapture
//!
//! (`HAGW_BIN=dist/x86_64-unknown-linux-musl/hagw` measures the static
//! firmware binary, as `make bench` does.)

mod netns;
use netns::gateway::{CLIENT, LAN_VIP, SERVER, gateway, kernel_gateway};
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

fn have(tool: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Root and every tool present (else says why and returns false).
fn ready(tools: &[&str]) -> bool {
    if skip() {
        return false;
    }
    for t in tools {
        if !have(t) {
            println!("skipped: needs {t}");
            return false;
        }
    }
    true
}

/// A number from the environment, or `d`.
fn env_u32(k: &str, d: u32) -> u32 {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

/// The number after `"key":` in the first `"section"` object of iperf3's
/// JSON (`end.sum_received`, `end.sum`), or NaN.
fn iperf_num(json: &str, section: &str, key: &str) -> f64 {
    let Some(i) = json.find(&format!("\"{section}\"")) else {
        return f64::NAN;
    };
    json_value(&json[i..], key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

/// One iperf3 client run from `client` (bounded by `timeout`); the JSON.
fn iperf(lab: &Lab, client: &str, extra: &[&str], secs: u32) -> String {
    let limit = (secs + 20).to_string();
    let t = secs.to_string();
    let mut args = vec![
        "timeout",
        &limit,
        "iperf3",
        "-c",
        SERVER,
        "-t",
        &t,
        "-J",
        "--connect-timeout",
        "3000",
    ];
    args.extend_from_slice(extra);
    let o = lab.exec(client, &args);
    let json = String::from_utf8_lossy(&o.stdout).into_owned();
    if !o.status.success() || json.contains("\"error\"") {
        // Shown, not asserted: the run's number becomes NaN.
        let err = json_value(&json, "error").unwrap_or_default();
        println!(
            "iperf3 {extra:?} from {client} failed ({}): {err} {}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        );
    }
    json
}

/// A 60-byte Ethernet frame (64 on the wire): IPv4/UDP `src`:`sport` →
/// `dst`:9, 18 bytes of payload, UDP checksum 0 (none).
fn udp_frame(dmac: [u8; 6], smac: [u8; 6], src: [u8; 4], dst: [u8; 4], sport: u16) -> Vec<u8> {
    let mut f = Vec::with_capacity(60);
    f.extend_from_slice(&dmac);
    f.extend_from_slice(&smac);
    f.extend_from_slice(&[0x08, 0x00]);
    let ip_start = f.len();
    f.extend_from_slice(&[0x45, 0, 0, 46, 0, 1, 0, 0, 64, 17, 0, 0]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    let mut acc: u32 = f[ip_start..ip_start + 20]
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    f[ip_start + 10..ip_start + 12].copy_from_slice(&(!(acc as u16)).to_be_bytes());
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&9u16.to_be_bytes());
    f.extend_from_slice(&26u16.to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&[0x5a; 18]);
    f
}

fn mac_of(s: &str) -> Option<[u8; 6]> {
    let v: Vec<u8> = s
        .split(':')
        .filter_map(|h| u8::from_str_radix(h, 16).ok())
        .collect();
    v.try_into().ok()
}

/// The MAC `ns` has for `ip` in its neighbour table (after some traffic).
fn neigh_mac(lab: &Lab, ns: &str, ip: &str) -> [u8; 6] {
    let o = lab.exec(ns, &["ip", "neigh", "show", ip]);
    let t = String::from_utf8_lossy(&o.stdout).into_owned();
    t.split_whitespace()
        .skip_while(|w| *w != "lladdr")
        .nth(1)
        .and_then(mac_of)
        .unwrap_or_else(|| panic!("no neighbour entry for {ip} in {ns}: {t}"))
}

/// The lab's bridges as plain switches: with br_netfilter loaded (Docker
/// hosts), a new namespace starts with bridge-nf-call-iptables=1, and every
/// frame crossing a bridge runs the IP netfilter hooks and a route lookup
/// in the switch namespace (perf on the router showed br_nf_pre_routing,
/// ip_route_input_slow, nft_do_chain): cost neither router has on a real
/// network, charged to whoever sends into the bridge.
fn plain_bridges(lab: &Lab) {
    for key in [
        "net.bridge.bridge-nf-call-iptables=0",
        "net.bridge.bridge-nf-call-arptables=0",
    ] {
        sh_quiet(&["ip", "netns", "exec", lab.switch_ns(), "sysctl", "-qw", key]);
    }
}

/// Run one nft command in `ns`.
fn nft(ns: &str, rules: &str) {
    sh(&["ip", "netns", "exec", ns, "nft", rules]);
}

/// A file of `ns`'s /sys (ip netns exec mounts the namespace's sysfs).
fn sys_file(ns: &str, path: &str) -> String {
    sh(&["ip", "netns", "exec", ns, "cat", path])
}

fn link_mac(ns: &str, ifname: &str) -> [u8; 6] {
    let t = sys_file(ns, &format!("/sys/class/net/{ifname}/address"));
    mac_of(t.trim()).expect("link MAC")
}

fn rx_packets(ns: &str) -> u64 {
    sys_file(ns, "/sys/class/net/eth0/statistics/rx_packets")
        .trim()
        .parse()
        .unwrap_or(0)
}

/// Frames per second that reach the server while the client blasts
/// `count` 60-byte UDP frames over 64 flows (source ports `base`..+64)
/// to the gateway: (sent per s, received per s).
fn blast(
    lab: &Lab,
    client: &str,
    server: &str,
    base: u16,
    count: usize,
    cpu_of: Option<u32>,
) -> (f64, f64, (f64, f64)) {
    let gw = neigh_mac(lab, client, LAN_VIP);
    let me = link_mac(client, "eth0");
    let src: std::net::Ipv4Addr = CLIENT.parse().unwrap();
    let dst: std::net::Ipv4Addr = SERVER.parse().unwrap();
    let frames: Vec<Vec<u8>> = (0..64)
        .map(|k| udp_frame(gw, me, src.octets(), dst.octets(), base + k))
        .collect();
    // One round first: every flow's session exists before the timing.
    send_frames(client, "eth0", &frames, 1);
    std::thread::sleep(Duration::from_millis(300));
    let before = rx_packets(server);
    let cpu0 = cpu_of.map_or((0, 0), cpu_ticks);
    let perf = cpu_of.and_then(perf_start);
    let t = std::time::Instant::now();
    let sent = send_frames(client, "eth0", &frames, count / frames.len());
    let secs = t.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(500));
    if let Some(p) = perf {
        perf_report(p);
    }
    let got = rx_packets(server) - before;
    let cpu1 = cpu_of.map_or((0, 0), cpu_ticks);
    // Clock ticks (USER_HZ, 100 on Linux) to µs, per frame forwarded.
    let us = |t: u64| t as f64 * 10_000.0 / got.max(1) as f64;
    (
        sent as f64 / secs,
        got as f64 / secs,
        (us(cpu1.0 - cpu0.0), us(cpu1.1 - cpu0.1)),
    )
}

/// With HAGW_BENCH_PERF=1 and perf installed: a 2 s CPU-clock profile
/// (with call graphs) of `pid`, the router, taken during the blast.
fn perf_start(pid: u32) -> Option<std::process::Child> {
    std::env::var_os("HAGW_BENCH_PERF")?;
    let data = format!("{}/target/bench/hagw-perf.data", env!("CARGO_MANIFEST_DIR"));
    let _ = std::fs::create_dir_all(format!("{}/target/bench", env!("CARGO_MANIFEST_DIR")));
    std::process::Command::new("perf")
        .args(["record", "-e", "cpu-clock", "-g", "-o", &data, "-p"])
        .arg(pid.to_string())
        .args(["--", "sleep", "2"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()
}

/// Wait for the profile (bounded by its `sleep 2`) and write the top
/// symbols, kernel included, to target/bench/hagw-perf.txt.
fn perf_report(mut p: std::process::Child) {
    let _ = p.wait();
    let dir = format!("{}/target/bench", env!("CARGO_MANIFEST_DIR"));
    let o = std::process::Command::new("perf")
        .args([
            "report",
            "--stdio",
            "--no-children",
            "--sort",
            "sym",
            "-g",
            "none",
            "-i",
        ])
        .arg(format!("{dir}/hagw-perf.data"))
        .output();
    if let Ok(o) = o {
        let _ = std::fs::write(format!("{dir}/hagw-perf.txt"), &o.stdout);
        println!("hagw profile during the blast: {dir}/hagw-perf.txt");
    }
}

/// (utime, stime) of `pid` in clock ticks (/proc/PID/stat fields 14, 15).
fn cpu_ticks(pid: u32) -> (u64, u64) {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name, which may hold spaces.
    let rest = s.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (n(11), n(12))
}

#[derive(Default)]
struct Side {
    tcp: Vec<f64>,
    tcp_r: Vec<f64>,
    udp_iperf: Vec<f64>,
    udp_sent: Vec<f64>,
    udp_blast: Vec<f64>,
    /// The router process's CPU µs (user, system) per frame forwarded in
    /// the blast.
    udp_user: Vec<f64>,
    udp_sys: Vec<f64>,
}

/// iperf3 server up in `server` (one spawned process, killed with the lab).
fn iperf_server(lab: &mut Lab, server: &str) {
    lab.spawn(server, "iperf3", &["iperf3", "-s", "-B", SERVER]);
    wait_for(Duration::from_secs(10), || {
        lab.exec(server, &["sh", "-c", "ss -ltn | grep -q ':5201 '"])
            .status
            .success()
    })
    .expect("iperf3 server listening");
    // The server drops the blaster's datagrams (still counted at eth0).
    nft(
        server,
        "table ip bench { chain inbound { type filter hook input priority 0; udp dport 9 drop; }; }",
    );
}

fn measure(lab: &Lab, client: &str, server: &str, secs: u32, pid: Option<u32>, side: &mut Side) {
    let j = iperf(lab, client, &[], secs);
    side.tcp
        .push(iperf_num(&j, "sum_received", "bits_per_second") / 1e9);
    let j = iperf(lab, client, &["-R"], secs);
    side.tcp_r
        .push(iperf_num(&j, "sum_received", "bits_per_second") / 1e9);
    let j = iperf(lab, client, &["-u", "-l", "64", "-b", "0"], secs.min(3));
    let (p, lost) = (
        iperf_num(&j, "sum_received", "packets"),
        iperf_num(&j, "sum_received", "lost_packets"),
    );
    let s = iperf_num(&j, "sum_received", "seconds");
    side.udp_iperf.push((p - lost) / s);
    let (sent, got, cpu) = blast(lab, client, server, 30_000, 640_000, pid);
    side.udp_sent.push(sent);
    side.udp_blast.push(got);
    side.udp_user.push(cpu.0);
    side.udp_sys.push(cpu.1);
}

/// Fill hagw's session table: 17k distinct UDP flows (one socket, one
/// source port, destination ports 20000..37000, paced to ~25k/s so no
/// receive ring overflows) sent from the client; returns how many the
/// server's interface received (each one forwarded made a session).
fn fill_table(lab: &Lab, client: &str, server: &str) -> u64 {
    const FILL: &str = r#"
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', 21000))
for p in range(20000, 37000):
    s.sendto(b'x', (sys.argv[1], p))
    if p % 100 == 0:
        time.sleep(0.004)
"#;
    nft(
        server,
        "add rule ip bench inbound udp dport 20000-36999 drop",
    );
    let before = rx_packets(server);
    let o = lab.exec(client, &["timeout", "30", "python3", "-c", FILL, SERVER]);
    assert!(o.status.success(), "fill: {o:?}");
    std::thread::sleep(Duration::from_millis(500));
    rx_packets(server) - before
}

fn range(v: &[f64], prec: usize) -> String {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{lo:.prec$}–{hi:.prec$}")
}

fn ratios(h: &[f64], k: &[f64]) -> String {
    let r: Vec<String> = h
        .iter()
        .zip(k)
        .map(|(a, b)| format!("{:.2}", a / b))
        .collect();
    r.join(", ")
}

#[test]
#[ignore]
fn bench_gateway() {
    if !ready(&["iperf3", "nft", "python3", "ss"]) {
        return;
    }
    let runs = env_u32("HAGW_BENCH_RUNS", 2);
    let secs = env_u32("HAGW_BENCH_SECS", 5);
    let (mut h, mut k) = (Side::default(), Side::default());
    let (mut rss_idle, mut rss_full, mut filled) = (Vec::new(), Vec::new(), Vec::new());
    let mut rings = Vec::new();
    // The same router with a 1k table: what the 16k table adds to VmRSS.
    let rss_small = {
        let mut lab = Lab::new("bench_gw_small");
        let cfg = board("scenario5-stateful-a.uci")
            .replace("option max_entries '16384'", "option max_entries '1024'");
        assert!(
            cfg.contains("max_entries '1024'"),
            "scenario5 sets max_entries"
        );
        let mut g = gateway(&mut lab, &cfg, None);
        lab.start(&mut g.a);
        expect_state(&lab, &g.a, "lan_gw", "master", Duration::from_secs(10));
        vm_rss_kb(lab.hagw(&g.a).pid).unwrap_or(0)
    };
    for run in 0..runs {
        // hagw first on even runs, the kernel first on odd ones.
        for which in [run % 2, 1 - run % 2] {
            if which == 0 {
                let mut lab = Lab::new("bench_gw_hagw");
                let mut g = gateway(&mut lab, &board("scenario5-stateful-a.uci"), None);
                plain_bridges(&lab);
                lab.start(&mut g.a);
                expect_state(&lab, &g.a, "lan_gw", "master", Duration::from_secs(10));
                expect_state(&lab, &g.a, "wan_gw", "master", Duration::from_secs(10));
                let pid = lab.hagw(&g.a).pid;
                rss_idle.push(vm_rss_kb(pid).unwrap_or(0) as f64);
                rings.push(ring_rss_kb(pid).unwrap_or(0) as f64);
                iperf_server(&mut lab, &g.server);
                let o = lab.exec(
                    &g.client,
                    &["ping", "-c", "2", "-i", "0.2", "-w", "5", SERVER],
                );
                assert!(o.status.success(), "ping through hagw");
                measure(&lab, &g.client, &g.server, secs, Some(pid), &mut h);
                filled.push(fill_table(&lab, &g.client, &g.server));
                rss_full.push(vm_rss_kb(pid).unwrap_or(0) as f64);
                assert!(lab.hagw(&g.a).alive(), "hagw still running");
            } else {
                let (lab, client, server) = kernel_lab("bench_gw_kernel");
                measure(&lab, &client, &server, secs, None, &mut k);
            }
        }
    }
    println!("\nhagw binary: {}", hagw_bin());
    println!("per run (hagw / kernel):");
    for (name, hv, kv) in [
        ("TCP client→server Gbit/s", &h.tcp, &k.tcp),
        ("TCP server→client (-R) Gbit/s", &h.tcp_r, &k.tcp_r),
        (
            "UDP iperf3 -l 64 -b 0, received pps",
            &h.udp_iperf,
            &k.udp_iperf,
        ),
        ("60 B frames offered pps", &h.udp_sent, &k.udp_sent),
        ("60 B frames received pps", &h.udp_blast, &k.udp_blast),
    ] {
        println!(
            "  {name:<38} hagw {hv:.3?}  kernel {kv:.3?}  ratio {}",
            ratios(hv, kv)
        );
    }
    // Rows of `make bench`'s table (tests/benches/bench.sh collects the
    // lines starting with "table:"): what | hagw | kernel | ratio | goal.
    let kpps = |v: &[f64]| v.iter().map(|x| x / 1e3).collect::<Vec<_>>();
    let rows = [
        (
            "TCP client→server (iperf3), Gbit/s",
            range(&h.tcp, 2),
            range(&k.tcp, 2),
            ratios(&h.tcp, &k.tcp),
            "≥ 0.6× kernel",
        ),
        (
            "TCP server→client (iperf3 -R), Gbit/s",
            range(&h.tcp_r, 2),
            range(&k.tcp_r, 2),
            ratios(&h.tcp_r, &k.tcp_r),
            "≥ 0.6× kernel",
        ),
        (
            "UDP 64 B datagrams (iperf3 -u -l 64 -b 0), kpps received",
            range(&kpps(&h.udp_iperf), 0),
            range(&kpps(&k.udp_iperf), 0),
            ratios(&h.udp_iperf, &k.udp_iperf),
            "(iperf3's sender is the limit)",
        ),
        (
            "60 B frames, 64 flows (AF_PACKET blaster), kpps received",
            range(&kpps(&h.udp_blast), 0),
            range(&kpps(&k.udp_blast), 0),
            ratios(&h.udp_blast, &k.udp_blast),
            "≥ 200 kpps",
        ),
        (
            "… kpps offered by the blaster",
            range(&kpps(&h.udp_sent), 0),
            range(&kpps(&k.udp_sent), 0),
            String::new(),
            "",
        ),
        (
            "hagw process CPU per forwarded 60 B frame (blaster), µs user / system",
            format!("{} / {}", range(&h.udp_user, 2), range(&h.udp_sys, 2)),
            "(in softirq)".into(),
            String::new(),
            "",
        ),
        (
            "hagw VmRSS, 1k table: idle, kB",
            rss_small.to_string(),
            String::new(),
            String::new(),
            "",
        ),
        (
            "hagw VmRSS, 16k table: idle, kB",
            range(&rss_idle, 0),
            String::new(),
            String::new(),
            "≤ 2 MB + table",
        ),
        (
            "hagw VmRSS, 16k table: after 17k UDP flows, kB",
            range(&rss_full, 0),
            String::new(),
            format!("{filled:?} reached the server"),
            "≤ 2 MB + table",
        ),
        (
            "… of which the TPACKET receive rings (packet buffers the kernel maps in), kB",
            range(&rings, 0),
            String::new(),
            String::new(),
            "",
        ),
    ];
    println!(
        "\nhagw binary: {} ({runs} runs, {secs} s per iperf3 run)",
        hagw_bin()
    );
    for (what, hv, kv, r, goal) in rows {
        println!("table: | {what} | {hv} | {kv} | {r} | {goal} |");
    }
}

/// (TCP client→server, TCP -R) Gbit/s through hagw built as `bin`.
fn hagw_tcp(bin: &str, nice: Option<i8>, secs: u32) -> (f64, f64) {
    use_hagw_bin(Some(bin.to_string()));
    let mut lab = Lab::new("bench_ab_hagw");
    let mut cfg = board("scenario5-stateful-a.uci");
    if let Some(n) = nice {
        let with = cfg.replacen(
            "option node_id '1'",
            &format!("option node_id '1'\n\toption nice '{n}'"),
            1,
        );
        assert_ne!(with, cfg, "scenario5 sets node_id");
        cfg = with;
    }
    let mut g = gateway(&mut lab, &cfg, None);
    plain_bridges(&lab);
    lab.start(&mut g.a);
    use_hagw_bin(None);
    expect_state(&lab, &g.a, "lan_gw", "master", Duration::from_secs(10));
    expect_state(&lab, &g.a, "wan_gw", "master", Duration::from_secs(10));
    iperf_server(&mut lab, &g.server);
    let o = lab.exec(
        &g.client,
        &["ping", "-c", "2", "-i", "0.2", "-w", "5", SERVER],
    );
    assert!(o.status.success(), "ping through hagw ({bin})");
    let f = iperf_num(
        &iperf(&lab, &g.client, &[], secs),
        "sum_received",
        "bits_per_second",
    );
    let r = iperf_num(
        &iperf(&lab, &g.client, &["-R"], secs),
        "sum_received",
        "bits_per_second",
    );
    let shown = query(&g.a.socket, "interfaces").unwrap_or_default();
    for l in shown.lines().filter(|l| l.contains("drops:")) {
        println!("  {bin}: {}", l.trim());
    }
    (f / 1e9, r / 1e9)
}

/// The kernel reference lab, iperf3 server up, a ping through it:
/// (lab, client, server).
fn kernel_lab(name: &str) -> (Lab, String, String) {
    let mut lab = Lab::new(name);
    let (_kns, client, server) = kernel_gateway(&mut lab);
    plain_bridges(&lab);
    iperf_server(&mut lab, &server);
    let o = lab.exec(
        &client,
        &["ping", "-c", "2", "-i", "0.2", "-w", "5", SERVER],
    );
    assert!(o.status.success(), "ping through the kernel");
    (lab, client, server)
}

fn kernel_tcp(secs: u32) -> (f64, f64) {
    let (lab, client, _server) = kernel_lab("bench_ab_kernel");
    let f = iperf_num(
        &iperf(&lab, &client, &[], secs),
        "sum_received",
        "bits_per_second",
    );
    let r = iperf_num(
        &iperf(&lab, &client, &["-R"], secs),
        "sum_received",
        "bits_per_second",
    );
    (f / 1e9, r / 1e9)
}

#[test]
#[ignore]
fn bench_tcp_ab() {
    if !ready(&["iperf3", "nft", "ss"]) {
        return;
    }
    let runs = env_u32("HAGW_BENCH_RUNS", 3);
    let secs = env_u32("HAGW_BENCH_SECS", 5);
    // (label, binary, `globals.nice` when set)
    let mut bins: Vec<(String, String, Option<i8>)> = Vec::new();
    if let Ok(b) = std::env::var("HAGW_BIN_BEFORE") {
        bins.push(("before".into(), b, None));
    }
    if std::env::var_os("HAGW_BENCH_NICE_AB").is_some() {
        bins.push(("nice 0".into(), hagw_bin(), Some(0)));
    }
    bins.push(("after".into(), hagw_bin(), None));
    println!("| run | build | fwd Gbit/s | kernel fwd | ratio | -R Gbit/s | kernel -R | ratio |");
    println!("|---|---|---|---|---|---|---|---|");
    for run in 0..runs {
        let k = kernel_tcp(secs);
        for (name, bin, nice) in &bins {
            let h = hagw_tcp(bin, *nice, secs);
            println!(
                "| {run} | {name} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
                h.0,
                k.0,
                h.0 / k.0,
                h.1,
                k.1,
                h.1 / k.1
            );
        }
    }
    for (name, bin, nice) in &bins {
        println!("{name}: {bin} (globals.nice {nice:?}; None: the config's, default -10)");
    }
}

/// Root and the tools of the gateway benchmarks, then `HAGW_BENCH_RUNS`
/// (default 2) and `HAGW_BENCH_SECS` (default 5); None (after printing
/// why) to skip.
fn gateway_bench_setup() -> Option<(u32, u32)> {
    if !ready(&["iperf3", "nft", "python3", "ss"]) {
        return None;
    }
    Some((env_u32("HAGW_BENCH_RUNS", 2), env_u32("HAGW_BENCH_SECS", 5)))
}

/// `config` with `option host_tap '0'` on the lan and wan interfaces.
fn without_taps(config: &str) -> String {
    let mut out = String::new();
    for line in config.lines() {
        out.push_str(line);
        out.push('\n');
        if line.trim_start().starts_with("option address") && !line.contains("10.99.") {
            out.push_str("\toption host_tap '0'\n");
        }
    }
    out
}

/// `bench_host_tap`: forwarding through hagw (scenario5-stateful-a.uci)
/// with its host TAPs (the default) and without (`host_tap '0'`),
/// alternating within each of `HAGW_BENCH_RUNS` (default 2) runs, the
/// same measurements as `bench_gateway`. The forwarding path never
/// touches a TAP, so the two should not differ beyond noise.
///
///   cargo test --test netns_bench bench_host_tap -- --ignored --nocapture
#[test]
#[ignore]
fn bench_host_tap() {
    let Some((runs, secs)) = gateway_bench_setup() else {
        return;
    };
    let (mut on, mut off) = (Side::default(), Side::default());
    for run in 0..runs {
        for taps in [run % 2 == 0, run % 2 == 1] {
            let mut lab = Lab::new(if taps {
                "bench_tap_on"
            } else {
                "bench_tap_off"
            });
            let cfg = board("scenario5-stateful-a.uci");
            let cfg = if taps { cfg } else { without_taps(&cfg) };
            let mut g = gateway(&mut lab, &cfg, None);
            plain_bridges(&lab);
            lab.start(&mut g.a);
            expect_state(&lab, &g.a, "lan_gw", "master", Duration::from_secs(10));
            expect_state(&lab, &g.a, "wan_gw", "master", Duration::from_secs(10));
            let has_tap = lab
                .exec(&g.a.ns, &["ip", "link", "show", "dev", "hagw-lan"])
                .status
                .success();
            assert_eq!(has_tap, taps, "hagw-lan present iff host TAPs are on");
            let pid = lab.hagw(&g.a).pid;
            iperf_server(&mut lab, &g.server);
            let o = lab.exec(
                &g.client,
                &["ping", "-c", "2", "-i", "0.2", "-w", "5", SERVER],
            );
            assert!(o.status.success(), "ping through hagw");
            let side = if taps { &mut on } else { &mut off };
            measure(&lab, &g.client, &g.server, secs, Some(pid), side);
        }
    }
    let kpps = |v: &[f64]| v.iter().map(|x| x / 1e3).collect::<Vec<_>>();
    let rows = [
        (
            "TCP client→server (iperf3), Gbit/s",
            range(&on.tcp, 2),
            range(&off.tcp, 2),
            ratios(&on.tcp, &off.tcp),
        ),
        (
            "TCP server→client (iperf3 -R), Gbit/s",
            range(&on.tcp_r, 2),
            range(&off.tcp_r, 2),
            ratios(&on.tcp_r, &off.tcp_r),
        ),
        (
            "UDP 64 B datagrams (iperf3), kpps received",
            range(&kpps(&on.udp_iperf), 0),
            range(&kpps(&off.udp_iperf), 0),
            ratios(&on.udp_iperf, &off.udp_iperf),
        ),
        (
            "60 B frames, 64 flows (blaster), kpps received",
            range(&kpps(&on.udp_blast), 0),
            range(&kpps(&off.udp_blast), 0),
            ratios(&on.udp_blast, &off.udp_blast),
        ),
    ];
    println!(
        "\nhagw binary: {} ({runs} runs, {secs} s per iperf3 run); columns: with host TAPs | without | ratio",
        hagw_bin()
    );
    for (what, a, b, r) in rows {
        println!("table: | host TAPs on / off: {what} | {a} | {b} | {r} | ≈ 1× |");
    }
}
