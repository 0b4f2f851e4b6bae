//! Shared support for the network tests (tests/netns_*.rs, tests/interop_*.rs):
//! network namespaces, veth pairs, a Linux bridge per segment in a per-test
//! 'switch' namespace, hagw/keepalived launchers, control-socket queries and
//! ping-gap measurement. Everything a `Lab` creates is named with a per-test,
//! per-process prefix and torn down by its Drop guard (also on panic):
//! processes are killed by PID, namespaces deleted (which deletes their veths
//! and bridges). Every wait and traffic generator here is bounded.
#![allow(dead_code)]

pub mod gateway;
pub mod keepalived;
pub mod traffic;
#[allow(unused_imports)]
pub use keepalived::*;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// True (after printing the skip line) when the test cannot run here.
pub fn skip() -> bool {
    if !is_root() {
        println!("skipped: needs root");
        return true;
    }
    for tool in ["ip", "ethtool", "ping"] {
        if !have(tool) {
            println!("skipped: needs {tool}");
            return true;
        }
    }
    false
}

/// Whether `tool` is on the PATH.
pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The hagw binary under test (`HAGW_BIN` overrides, e.g. a release build for the benchmark).
pub fn hagw_bin() -> String {
    if let Some(b) = BIN_OVERRIDE.lock().ok().and_then(|b| b.clone()) {
        return b;
    }
    std::env::var("HAGW_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_hagw").to_string())
}

static BIN_OVERRIDE: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Start routers with `bin` from now on (None: back to `hagw_bin`'s
/// default), e.g. to compare two builds in one benchmark run.
#[allow(dead_code)]
pub fn use_hagw_bin(bin: Option<String>) {
    if let Ok(mut b) = BIN_OVERRIDE.lock() {
        *b = bin;
    }
}

/// Run a command, panic with its output if it fails.
pub fn sh(args: &[&str]) -> String {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    if !out.status.success() {
        panic!(
            "{args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run a command, ignore failure (cleanup paths).
pub fn sh_quiet(args: &[&str]) {
    let _ = Command::new(args[0])
        .args(&args[1..])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

pub fn kill(pid: u32, sig: i32) {
    // SAFETY: kill(2) on a PID we started.
    unsafe {
        libc::kill(pid as libc::pid_t, sig);
    }
}

/// A process the lab started (hagw, keepalived, ping), killed on drop of the lab.
pub struct Proc {
    pub child: Option<Child>,
    pub pid: u32,
    pub log: PathBuf,
}

impl Proc {
    /// Wait (bounded) for exit; Some(code) if it exited.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let child = self.child.as_mut()?;
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(st)) = child.try_wait() {
                return Some(st.code().unwrap_or(-1));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn alive(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => Path::new(&format!("/proc/{}", self.pid)).exists(),
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// One hagw router: its namespace, config file, control socket, notify log.
pub struct Router {
    pub ns: String,
    pub config: PathBuf,
    pub socket: PathBuf,
    pub notify_log: PathBuf,
    pub proc: Option<usize>,
}

pub struct Lab {
    pub prefix: String,
    pub dir: PathBuf,
    switch: String,
    namespaces: Vec<String>,
    pub procs: Vec<Proc>,
    bridges: Vec<String>,
    veths: usize,
    /// Leave the veth offloads (checksum, TSO/GSO) as the kernel sets
    /// them in `plug` instead of turning them off.
    pub offloads: bool,
}

fn short_hash(s: &str) -> u32 {
    // FNV-1a, enough to keep names distinct per test.
    let mut h: u32 = 0x811c9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x01000193);
    }
    h
}

impl Lab {
    /// A fresh lab for `test`; namespaces are named `hg<hash><pid>-<short>`.
    pub fn new(test: &str) -> Lab {
        let prefix = format!("hg{:04x}{}", short_hash(test) & 0xffff, std::process::id());
        let dir = std::env::temp_dir().join(format!("hagw-{prefix}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut lab = Lab {
            switch: format!("{prefix}-sw"),
            prefix,
            dir,
            namespaces: Vec::new(),
            procs: Vec::new(),
            bridges: Vec::new(),
            veths: 0,
            offloads: false,
        };
        let sw = lab.switch.clone();
        lab.add_ns(&sw);
        lab
    }

    fn add_ns(&mut self, name: &str) {
        sh(&["ip", "netns", "add", name]);
        self.namespaces.push(name.to_string());
        sh(&["ip", "-n", name, "link", "set", "lo", "up"]);
        // New namespaces inherit the host's IPv4 conf (e.g. forwarding=1 on
        // a Docker host): turn forwarding off so daemons see the same clean
        // devices (SPEC §1) everywhere; and no IPv6 chatter (router
        // solicitations, MLD) on the test segments.
        for key in [
            "net.ipv4.conf.all.forwarding=0",
            "net.ipv4.conf.default.forwarding=0",
            "net.ipv6.conf.all.disable_ipv6=1",
            "net.ipv6.conf.default.disable_ipv6=1",
        ] {
            sh_quiet(&["ip", "netns", "exec", name, "sysctl", "-qw", key]);
        }
    }

    /// Create namespace `<prefix>-<short>`; returns its name.
    pub fn ns(&mut self, short: &str) -> String {
        let name = format!("{}-{short}", self.prefix);
        self.add_ns(&name);
        name
    }

    /// A Linux bridge for segment `seg` in the switch namespace.
    pub fn segment(&mut self, seg: &str) {
        let br = format!("br{seg}");
        sh(&[
            "ip",
            "-n",
            &self.switch,
            "link",
            "add",
            &br,
            "type",
            "bridge",
            "forward_delay",
            "0",
        ]);
        // No STP, no multicast snooping: a plain hub-like switch.
        sh_quiet(&[
            "ip",
            "-n",
            &self.switch,
            "link",
            "set",
            &br,
            "type",
            "bridge",
            "stp_state",
            "0",
            "mcast_snooping",
            "0",
        ]);
        sh(&["ip", "-n", &self.switch, "link", "set", &br, "up"]);
        self.bridges.push(br);
    }

    /// Plug `ifname` of namespace `ns` into segment `seg` with a veth pair
    /// (offloads off on both ends unless `offloads`), and bring it up.
    pub fn plug(&mut self, seg: &str, ns: &str, ifname: &str) {
        self.veths += 1;
        let port = format!("p{}{seg}", self.veths);
        assert!(port.len() <= 15 && ifname.len() <= 15);
        sh(&[
            "ip",
            "-n",
            &self.switch,
            "link",
            "add",
            &port,
            "type",
            "veth",
            "peer",
            "name",
            ifname,
            "netns",
            ns,
        ]);
        self.join_bridge(seg, &port);
        for (n, i) in [(self.switch.as_str(), port.as_str()), (ns, ifname)] {
            if self.offloads {
                sh(&["ip", "-n", n, "link", "set", i, "up"]);
                continue;
            }
            sh_quiet(&[
                "ip", "netns", "exec", n, "ethtool", "-K", i, "tx", "off", "rx", "off", "tso",
                "off", "gso", "off", "gro", "off",
            ]);
            sh(&["ip", "-n", n, "link", "set", i, "up"]);
        }
    }

    /// The namespace that holds the segments' bridges (and VM taps).
    pub fn switch_ns(&self) -> &str {
        &self.switch
    }

    /// A persistent tap device `name` in the switch namespace, a port of
    /// segment `seg`, up: a VM NIC (qemu `-netdev tap,ifname=NAME` run in
    /// `switch_ns()`). Deleted with the namespace.
    pub fn tap(&mut self, seg: &str, name: &str) {
        assert!(name.len() <= 15);
        sh(&[
            "ip",
            "-n",
            &self.switch,
            "tuntap",
            "add",
            "dev",
            name,
            "mode",
            "tap",
        ]);
        self.join_bridge(seg, name);
        sh(&["ip", "-n", &self.switch, "link", "set", name, "up"]);
    }

    /// Make `port` (in the switch namespace) a port of segment `seg`'s bridge.
    fn join_bridge(&self, seg: &str, port: &str) {
        let br = format!("br{seg}");
        sh(&["ip", "-n", &self.switch, "link", "set", port, "master", &br]);
    }

    /// Set `ifname` in `ns` up or down.
    pub fn link(&self, ns: &str, ifname: &str, up: bool) {
        sh(&[
            "ip",
            "-n",
            ns,
            "link",
            "set",
            ifname,
            if up { "up" } else { "down" },
        ]);
    }

    /// A kernel address on `ifname` in `ns` (clients, keepalived).
    pub fn addr(&self, ns: &str, ifname: &str, cidr: &str) {
        sh(&["ip", "-n", ns, "addr", "add", cidr, "dev", ifname]);
    }

    pub fn exec(&self, ns: &str, args: &[&str]) -> std::process::Output {
        Command::new("ip")
            .args(["netns", "exec", ns])
            .args(args)
            .output()
            .unwrap()
    }

    /// Start `args` inside `ns` with stdout+stderr to `<dir>/<tag>.log`.
    pub fn spawn(&mut self, ns: &str, tag: &str, args: &[&str]) -> usize {
        let log = self.dir.join(format!("{tag}.log"));
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(args)
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .unwrap();
        let pid = child.id();
        self.procs.push(Proc {
            child: Some(child),
            pid,
            log,
        });
        self.procs.len() - 1
    }

    /// Track a daemon that forks (by the PID from its pidfile) for cleanup.
    pub fn adopt_pid(&mut self, pid: u32, log: PathBuf) -> usize {
        self.procs.push(Proc {
            child: None,
            pid,
            log,
        });
        self.procs.len() - 1
    }

    pub fn proc(&mut self, i: usize) -> &mut Proc {
        &mut self.procs[i]
    }

    /// Write a notify script that appends "GROUP STATE" lines to `out`.
    pub fn notify_script(&self, tag: &str, out: &Path) -> PathBuf {
        let p = self.dir.join(format!("notify-{tag}.sh"));
        std::fs::write(
            &p,
            format!("#!/bin/sh\necho \"$1 $2\" >> {}\n", out.display()),
        )
        .unwrap();
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        p
    }

    /// A router namespace `short` whose config is `config_text` with the
    /// lab's control socket and notify script spliced in (see `splice`).
    pub fn router(&mut self, short: &str, config_text: &str) -> Router {
        let ns = self.ns(short);
        let socket = self.dir.join(format!("{short}.sock"));
        let notify_log = self.dir.join(format!("{short}.notify"));
        let script = self.notify_script(short, &notify_log);
        let config = self.dir.join(format!("{short}.uci"));
        std::fs::write(&config, splice(config_text, &socket, Some(&script))).unwrap();
        Router {
            ns,
            config,
            socket,
            notify_log,
            proc: None,
        }
    }

    /// Start hagw for `r` (log in `<dir>/<ns short>.log`).
    pub fn start(&mut self, r: &mut Router) {
        let tag = format!("hagw-{}", r.ns.rsplit('-').next().unwrap_or("r"));
        let cfg = r.config.to_string_lossy().into_owned();
        let bin = hagw_bin();
        let i = self.spawn(&r.ns, &tag, &[&bin, "run", "-c", &cfg]);
        r.proc = Some(i);
        wait_for(Duration::from_secs(10), || {
            r.socket.exists() && query(&r.socket, "interfaces").is_ok()
        })
        .unwrap_or_else(|| {
            panic!(
                "hagw in {} did not answer; log:\n{}",
                r.ns,
                self.procs[i].log_text()
            )
        });
    }

    pub fn hagw(&mut self, r: &Router) -> &mut Proc {
        &mut self.procs[r.proc.expect("router started")]
    }

    /// SIGKILL the router's daemon and take its links down: a dead node.
    pub fn node_death(&mut self, r: &Router, links: &[&str]) {
        let p = self.hagw(r);
        kill(p.pid, libc::SIGKILL);
        p.wait_exit(Duration::from_secs(5));
        for l in links {
            self.link(&r.ns, l, false);
        }
    }

    /// Print every log of the lab (call before a failing assert).
    pub fn dump_logs(&self) {
        for p in &self.procs {
            eprintln!("===== {} =====\n{}", p.log.display(), p.log_text());
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for p in &mut self.procs {
            kill(p.pid, libc::SIGKILL);
            if let Some(c) = p.child.as_mut() {
                let _ = c.wait();
            }
        }
        if std::thread::panicking() {
            for p in &self.procs {
                eprintln!("===== {} =====\n{}", p.log.display(), p.log_text());
            }
        }
        for ns in self.namespaces.iter().rev() {
            sh_quiet(&["ip", "netns", "del", ns]);
        }
        if std::env::var_os("HAGW_KEEP_LOGS").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Put `control_socket` into the globals section and a `notify` option into
/// every vrrp_group section of a UCI config text.
pub fn splice(text: &str, socket: &Path, notify: Option<&Path>) -> String {
    let mut out = String::new();
    let mut has_globals = false;
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("option control_socket") {
            continue; // replaced by the lab's own socket below
        }
        out.push_str(line);
        out.push('\n');
        if t.starts_with("config globals") {
            has_globals = true;
            out.push_str(&format!("\toption control_socket '{}'\n", socket.display()));
        }
        if t.starts_with("config vrrp_group") {
            if let Some(n) = notify {
                out.push_str(&format!("\toption notify '{}'\n", n.display()));
            }
        }
    }
    if !has_globals {
        out.push_str(&format!(
            "\nconfig globals 'globals'\n\toption control_socket '{}'\n",
            socket.display()
        ));
    }
    out
}

/// A board example config (board/examples/NAME), as text.
pub fn board(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("board/examples")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// One request over the control socket; the body after the "ok" line.
pub fn query(socket: &Path, request: &str) -> Result<String, String> {
    let mut s = UnixStream::connect(socket).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(3))).ok();
    s.write_all(format!("{request}\n").as_bytes())
        .map_err(|e| e.to_string())?;
    let mut out = String::new();
    s.read_to_string(&mut out).map_err(|e| e.to_string())?;
    match out.strip_prefix("ok\n") {
        Some(body) => Ok(body.to_string()),
        None => Err(out),
    }
}

/// States by group name from `vrrp summary --json`, e.g. [("lan_gw","master")].
pub fn states(socket: &Path) -> Vec<(String, String)> {
    let Ok(body) = query(socket, "vrrp summary --json") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut rest = body.as_str();
    while let Some(i) = rest.find("\"name\"") {
        rest = &rest[i + 6..];
        let name = next_string(rest);
        let Some(j) = rest.find("\"state\"") else {
            break;
        };
        rest = &rest[j + 7..];
        let state = next_string(rest);
        if let (Some(n), Some(s)) = (name, state) {
            out.push((n, s));
        }
    }
    out
}

fn next_string(s: &str) -> Option<String> {
    // After the key: optional spaces, ':', spaces, '"value"'.
    let s = s
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    let end = s.find('"')?;
    Some(s[..end].to_string())
}

pub fn state_of(socket: &Path, group: &str) -> Option<String> {
    states(socket)
        .into_iter()
        .find(|(n, _)| n == group)
        .map(|(_, s)| s)
}

/// Poll `f` every 50 ms until it returns true or `timeout` passes; Some(elapsed).
pub fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if f() {
            return Some(start.elapsed());
        }
        if start.elapsed() >= timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Wait until `group` on `r` is in `state`; panics with logs on timeout.
pub fn expect_state(
    lab: &Lab,
    r: &Router,
    group: &str,
    state: &str,
    timeout: Duration,
) -> Duration {
    match wait_for(timeout, || {
        state_of(&r.socket, group).as_deref() == Some(state)
    }) {
        Some(d) => d,
        None => {
            lab.dump_logs();
            panic!(
                "{}: group {group} not {state} within {timeout:?}; states now {:?}",
                r.ns,
                states(&r.socket)
            );
        }
    }
}

/// Reply timestamps (seconds) from `ping -D` output.
pub fn ping_times(output: &str) -> Vec<f64> {
    output
        .lines()
        .filter(|l| l.contains("bytes from"))
        .filter_map(|l| l.strip_prefix('[')?.split(']').next()?.parse::<f64>().ok())
        .collect()
}

/// The largest gap between consecutive replies, seconds.
pub fn max_gap(times: &[f64]) -> f64 {
    times.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max)
}

/// Start `ping -D -i <interval> -c <count> -w <deadline> <dst>` in `ns`.
pub fn start_ping(
    lab: &mut Lab,
    ns: &str,
    tag: &str,
    dst: &str,
    interval: &str,
    count: u32,
    deadline: u32,
) -> usize {
    let c = count.to_string();
    let w = deadline.to_string();
    lab.spawn(
        ns,
        tag,
        &["ping", "-D", "-n", "-i", interval, "-c", &c, "-w", &w, dst],
    )
}

/// Build a two-router, one-client LAN: segment "l", routers `a`/`b` with
/// `lan0`, client `c` with `eth0` at `client_cidr` and default route via `vip`.
pub fn lan_topology(
    lab: &mut Lab,
    a_cfg: &str,
    b_cfg: &str,
    client_cidr: &str,
    vip: &str,
) -> (Router, Router, String) {
    lab.segment("l");
    let a = lab.router("a", a_cfg);
    let b = lab.router("b", b_cfg);
    let c = lab.ns("c");
    lab.plug("l", &a.ns, "lan0");
    lab.plug("l", &b.ns, "lan0");
    lab.plug("l", &c, "eth0");
    lab.addr(&c, "eth0", client_cidr);
    sh(&["ip", "-n", &c, "route", "add", "default", "via", vip]);
    (a, b, c)
}

/// The raw value of the first `"key": value` in a JSON text (number, bool or string).
pub fn json_value(body: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\"");
    let i = body.find(&pat)?;
    let rest = body[i + pat.len()..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    if let Some(s) = rest.strip_prefix('"') {
        return Some(s[..s.find('"')?].to_string());
    }
    let end = rest.find([',', '}', '\n', ']']).unwrap_or(rest.len());
    Some(rest[..end].trim().to_string())
}

pub fn json_u64(body: &str, key: &str) -> u64 {
    json_value(body, key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Ping `vip` from `client` every 2 ms for about `secs` seconds; after
/// `kill_after`, run `kill`; return the largest gap between replies (s) and
/// the number of replies.
pub fn ping_gap(
    lab: &mut Lab,
    client: &str,
    vip: &str,
    secs: u32,
    kill_after: Duration,
    kill: impl FnOnce(&mut Lab),
) -> (f64, usize) {
    ping_gap_every(lab, client, vip, 2, secs, kill_after, kill)
}

/// `ping_gap` with one echo request every `interval_ms` milliseconds.
pub fn ping_gap_every(
    lab: &mut Lab,
    client: &str,
    vip: &str,
    interval_ms: u32,
    secs: u32,
    kill_after: Duration,
    kill: impl FnOnce(&mut Lab),
) -> (f64, usize) {
    let count = secs * 1000 / interval_ms.max(1);
    let interval = format!("{}.{:03}", interval_ms / 1000, interval_ms % 1000);
    let i = start_ping(lab, client, "ping", vip, &interval, count, secs + 8);
    std::thread::sleep(kill_after);
    kill(lab);
    let p = lab.proc(i);
    p.wait_exit(Duration::from_secs(u64::from(secs) + 12));
    let text = p.log_text();
    // Next measurement in the same lab starts a fresh log.
    let _ = std::fs::remove_file(&p.log);
    let times = ping_times(&text);
    (max_gap(&times), times.len())
}

/// VmRSS of `pid` in kB, from /proc/PID/status.
pub fn vm_rss_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resident kB of `pid`'s socket mappings (the TPACKET receive rings: the
/// kernel's packet buffers, mapped into the daemon and so counted in
/// VmRSS).
pub fn ring_rss_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/smaps")).ok()?;
    let mut in_ring = false;
    let mut kb = 0;
    for l in s.lines() {
        let mut w = l.split_whitespace();
        let first = w.next().unwrap_or("");
        if first.contains('-') && !first.ends_with(':') {
            // A mapping's header: range perms offset dev inode [path].
            in_ring = l.contains("socket:[");
        } else if in_ring && first == "Rss:" {
            kb += w.next()?.parse::<u64>().ok()?;
        }
    }
    Some(kb)
}

/// Send each of `frames` (whole Ethernet frames) `repeat` times, back to
/// back, out of `ifname` in namespace `ns` through an AF_PACKET socket
/// opened by a helper thread that enters the namespace (setns affects only
/// that thread). Returns how many sends succeeded. Bounded by the count.
pub fn send_frames(ns: &str, ifname: &str, frames: &[Vec<u8>], repeat: usize) -> usize {
    let path = format!("/run/netns/{ns}");
    let ifname = std::ffi::CString::new(ifname).unwrap();
    let frames = frames.to_vec();
    std::thread::spawn(move || {
        use std::os::fd::AsRawFd;
        let nsf = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        // SAFETY: setns on a namespace fd we opened; affects this thread only.
        assert_eq!(
            unsafe { libc::setns(nsf.as_raw_fd(), libc::CLONE_NEWNET) },
            0,
            "setns {path}: {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: plain socket(2); closed below.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0) };
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        // SAFETY: ifname is a valid C string.
        let ifindex = unsafe { libc::if_nametoindex(ifname.as_ptr()) };
        assert!(ifindex > 0, "no interface {ifname:?} in {path}");
        // SAFETY: sockaddr_ll is plain old data.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_ifindex = ifindex as i32;
        sll.sll_halen = 6;
        // Batches of up to 64 frames per sendmmsg(2): one system call per
        // batch instead of per frame, so the sender offers more than a
        // forwarder can take (the pps benchmarks need that).
        let mut iov: Vec<libc::iovec> = frames
            .iter()
            .map(|f| libc::iovec {
                iov_base: f.as_ptr() as *mut libc::c_void,
                iov_len: f.len(),
            })
            .collect();
        let mut sent = 0;
        for _ in 0..repeat {
            for chunk in iov.chunks_mut(64) {
                // SAFETY: msghdr is plain old data; zeroed is valid.
                let mut msgs: Vec<libc::mmsghdr> = chunk
                    .iter_mut()
                    .map(|v| {
                        let mut m: libc::mmsghdr = unsafe { std::mem::zeroed() };
                        m.msg_hdr.msg_name =
                            &mut sll as *mut libc::sockaddr_ll as *mut libc::c_void;
                        m.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as u32;
                        m.msg_hdr.msg_iov = v as *mut libc::iovec;
                        m.msg_hdr.msg_iovlen = 1;
                        m
                    })
                    .collect();
                let mut off = 0;
                // A short count means the device queue was full: the rest
                // of the batch is offered again, up to 8 times.
                for _ in 0..8 {
                    let rest = &mut msgs[off..];
                    if rest.is_empty() {
                        break;
                    }
                    // SAFETY: every mmsghdr points at live frames, iovecs
                    // and sll for the length passed.
                    let n = unsafe { libc::sendmmsg(fd, rest.as_mut_ptr(), rest.len() as u32, 0) };
                    if n <= 0 {
                        break;
                    }
                    off += n as usize;
                }
                sent += off;
            }
        }
        // SAFETY: fd is ours.
        unsafe { libc::close(fd) };
        sent
    })
    .join()
    .unwrap()
}

/// A broadcast Ethernet frame of `len` bytes with an experimental
/// ethertype (0x88b5, IEEE 802 local experimental) from `src`.
pub fn junk_frame(src: [u8; 6], len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len.max(60)];
    f[..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&src);
    f[12..14].copy_from_slice(&[0x88, 0xb5]);
    f
}

/// BFD timers for the BFD tests: min TX ms, min RX ms, multiplier. 20/20/5
/// (a 100 ms detection time) keeps a loaded shared machine from flapping;
/// `HAGW_BFD_TIMERS=10,10,3` tries the defaults.
pub fn bfd_timers() -> (u32, u32, u8) {
    let env = std::env::var("HAGW_BFD_TIMERS").unwrap_or_default();
    let v: Vec<u32> = env
        .split(',')
        .filter_map(|x| x.trim().parse().ok())
        .collect();
    match v[..] {
        [tx, rx, m] if tx > 0 && rx > 0 && (1..=255).contains(&m) => (tx, rx, m as u8),
        _ => (20, 20, 5),
    }
}
