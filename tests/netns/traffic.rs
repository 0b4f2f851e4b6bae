//! Traffic tools for the gateway labs: the commands a user would run
//! (curl, python3 servers, sha256sum) and the counters we read back.
//! Shared by tests/netns_dataplane.rs and tests/netns_stateful.rs.

use super::gateway::{Gateway, SERVER};
use super::{Lab, Router, query, wait_for};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const PYTHON: &str = "/usr/bin/python3";

pub fn tools_missing() -> bool {
    for t in ["curl", "traceroute", "nc", PYTHON, "sha256sum"] {
        if !super::have(t) {
            println!("skipped: needs {t}");
            return true;
        }
    }
    false
}

pub fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A drop counter summed over the router's ports (`show interfaces --json`).
pub fn drops(r: &Router, reason: &str) -> u64 {
    let body = query(&r.socket, "interfaces --json").unwrap_or_default();
    let pat = format!("\"{reason}\":");
    body.match_indices(&pat)
        .filter_map(|(i, _)| {
            let rest = &body[i + pat.len()..];
            let end = rest.find([',', '}']).unwrap_or(rest.len());
            rest[..end].trim().parse::<u64>().ok()
        })
        .sum()
}

pub fn sha256(path: &std::path::Path) -> String {
    let o = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string()
}

/// A 20 MB file of pseudo-random bytes in `dir`.
pub fn blob(dir: &std::path::Path, name: &str, mb: usize) -> std::path::PathBuf {
    let p = dir.join(name);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut data = Vec::with_capacity(mb << 20);
    while data.len() < mb << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data.extend_from_slice(&x.to_le_bytes());
    }
    std::fs::write(&p, &data).unwrap();
    p
}

/// The UDP echo server: answers each datagram with "<source ip>:<port>".
pub const UDP_ECHO: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', int(sys.argv[1])))
s.settimeout(60)
while True:
    d, a = s.recvfrom(2048)
    s.sendto(('%s:%d' % a).encode(), a)
"#;

/// Send one datagram from a fixed source port, print the answer.
pub const UDP_ASK: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', int(sys.argv[3])))
s.settimeout(3)
for i in range(3):
    s.sendto(b'hello', (sys.argv[1], int(sys.argv[2])))
    try:
        print(s.recvfrom(2048)[0].decode())
        break
    except socket.timeout:
        pass
"#;

/// A python3 HTTP server in `ns` on `addr`:8080 serving `dir`; returns its
/// process index once it accepts connections.
pub fn http_server(lab: &mut Lab, ns: &str, addr: &str, dir: &std::path::Path) -> usize {
    let dir = dir.to_string_lossy().into_owned();
    let srv = lab.spawn(
        ns,
        "http",
        &[
            PYTHON,
            "-m",
            "http.server",
            "8080",
            "--bind",
            addr,
            "--directory",
            &dir,
        ],
    );
    wait_for(Duration::from_secs(10), || {
        lab.exec(ns, &["nc", "-z", addr, "8080"]).status.success()
    })
    .expect("http server up");
    srv
}

/// A download of `mb` MB over HTTP: the server in `server_ns` (serving on
/// `server_addr`), curl in `client` (60 s at most). Returns curl's output,
/// whether the bytes arrived intact (sha256) and the server's process.
#[allow(dead_code)]
pub fn http_download(
    lab: &mut Lab,
    client: &str,
    server_ns: &str,
    server_addr: &str,
    mb: usize,
) -> (std::process::Output, bool, usize) {
    let www = lab.dir.join("www");
    std::fs::create_dir_all(&www).unwrap();
    let file = blob(&www, "blob", mb);
    let srv = http_server(lab, server_ns, server_addr, &www);
    let got = lab.dir.join("got");
    let got_s = got.to_string_lossy().into_owned();
    let url = format!("http://{server_addr}:8080/blob");
    let o = lab.exec(
        client,
        &["curl", "-sS", "--max-time", "60", "-o", &got_s, &url],
    );
    let intact = o.status.success() && sha256(&got) == sha256(&file);
    (o, intact, srv)
}

/// Send a datagram every 100 ms for argv[4] seconds from source port
/// argv[3] to argv[1]:argv[2]; print "<seconds since start> <answer>" for
/// every answer (the echo server answers with the source it saw).
pub const UDP_FLOW: &str = r#"
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', int(sys.argv[3])))
s.settimeout(0.1)
t0 = time.time()
while time.time() - t0 < float(sys.argv[4]):
    s.sendto(b'x', (sys.argv[1], int(sys.argv[2])))
    try:
        d = s.recvfrom(2048)[0].decode()
        print('%.2f %s' % (time.time() - t0, d), flush=True)
        time.sleep(0.1)
    except socket.timeout:
        pass
"#;

/// The flow's answers: (sources the server saw, deduplicated in order;
/// answer times in seconds since the flow began).
pub fn udp_result(lab: &mut Lab, flow: usize) -> (Vec<String>, Vec<f64>) {
    lab.proc(flow).wait_exit(Duration::from_secs(30));
    let mut sources: Vec<String> = Vec::new();
    let mut times = Vec::new();
    for l in lab.proc(flow).log_text().lines() {
        let mut w = l.split_whitespace();
        let (Some(t), Some(src)) = (w.next(), w.next()) else {
            continue;
        };
        times.push(t.parse().unwrap_or(0.0));
        if sources.last().map(String::as_str) != Some(src) {
            sources.push(src.to_string());
        }
    }
    (sources, times)
}

/// tests/tools/paced_http.py: a one-file HTTP server pacing its answer
/// (argv: address, port, file, bytes per second); also used by `make demo`.
pub const PACED_HTTP: &str = include_str!("../tools/paced_http.py");

/// A paced HTTP download from the server to the client of a gateway lab.
pub struct Transfer {
    pub curl: Child,
    pub got: PathBuf,
    pub file: PathBuf,
    pub started: Instant,
    /// The paced server's process index (its log names the peer it served).
    pub server: usize,
}

/// Serve `mb` MB from the server paced at `rate` bytes/s (PACED_HTTP on
/// port 8080) and start curl fetching it from the client (bounded: 60 s,
/// or 15 s without a byte).
pub fn start_transfer(lab: &mut Lab, g: &Gateway, mb: usize, rate: u32) -> Transfer {
    let www = lab.dir.join("www");
    std::fs::create_dir_all(&www).unwrap();
    let file = blob(&www, "blob", mb);
    let file_s = file.to_string_lossy().into_owned();
    let rate = rate.to_string();
    let server = lab.spawn(
        &g.server,
        "paced-http",
        &[PYTHON, "-c", PACED_HTTP, SERVER, "8080", &file_s, &rate],
    );
    wait_for(Duration::from_secs(10), || {
        lab.exec(&g.server, &["nc", "-z", SERVER, "8080"])
            .status
            .success()
    })
    .expect("http server up");
    let got = lab.dir.join("got");
    let got_s = got.to_string_lossy().into_owned();
    let url = format!("http://{SERVER}:8080/blob");
    let curl = Command::new("ip")
        .args([
            "netns",
            "exec",
            &g.client,
            "curl",
            "-sS",
            "--max-time",
            "60",
        ])
        .args([
            "--speed-limit",
            "1",
            "--speed-time",
            "15",
            "-o",
            &got_s,
            &url,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    Transfer {
        curl,
        got,
        file,
        started: Instant::now(),
        server,
    }
}

impl Transfer {
    pub fn running(&mut self) -> bool {
        matches!(self.curl.try_wait(), Ok(None))
    }

    /// Wait for curl (bounded by its --max-time): (curl ok, checksum ok,
    /// seconds, curl's output).
    pub fn finish(self) -> (bool, bool, f64, String) {
        let out = self.curl.wait_with_output().unwrap();
        let secs = self.started.elapsed().as_secs_f64();
        let same = self.got.exists() && sha256(&self.got) == sha256(&self.file);
        (out.status.success(), same, secs, text(&out))
    }
}
