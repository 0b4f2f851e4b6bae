//! `hagw show` end to end: the real binary against no daemon, and against a
//! tiny fake daemon (a unix socket served from a thread with
//! `control::respond` over a hand-built snapshot).

mod common;

use common::TempDir;
use hagw::cli::control::respond;
use hagw::config::{Ipv4Cidr, Role};
use hagw::engine::{PortStatus, Snapshot};
use hagw::time::{Duration, Instant};
use hagw::vrrp::{GroupCounters, GroupStatus, VrrpState};
use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Command, Output};
use std::thread::JoinHandle;

fn hagw(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hagw"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

/// Exit 3, nothing on stdout, and on stderr the one line saying no daemon
/// listens on `sock`, with the OS's `reason`.
fn assert_no_daemon(out: &Output, sock: &str, reason: &str) {
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(out.stdout.is_empty());
    assert_eq!(
        text(&out.stderr),
        format!("hagw: no daemon running (cannot connect to {sock}: {reason})\n")
    );
}

fn snapshot() -> Snapshot {
    let g = GroupStatus {
        name: "lan_gw".into(),
        interface: "lan".into(),
        interface_up: true,
        vrid: 42,
        version: 2,
        state: VrrpState::Backup,
        address_owner: false,
        priority: 100,
        configured_priority: 100,
        advert_interval_cs: 100,
        master_advert_interval_cs: 100,
        auth_type: "none",
        preempt: true,
        preempt_delay_secs: 0,
        vips: vec![Ipv4Cidr {
            addr: Ipv4Addr::new(192, 168, 42, 50),
            prefix_len: 24,
        }],
        source_address: Ipv4Addr::new(192, 168, 42, 1),
        master_router: Some(Ipv4Addr::new(192, 168, 42, 2)),
        master_priority: Some(100),
        sync_group: None,
        last_transition: Some(Duration::from_secs(3 * 60 + 4)),
        counters: GroupCounters::default(),
    };
    let p = PortStatus {
        name: "lan".into(),
        device: "lan0".into(),
        role: Role::Lan,
        mac: [2, 0, 0, 0, 0, 1],
        address: Ipv4Cidr {
            addr: Ipv4Addr::new(192, 168, 42, 1),
            prefix_len: 24,
        },
        up: true,
        rx_frames: 10,
        rx_bytes: 600,
        tx_frames: 5,
        tx_bytes: 300,
        drops: vec![("vrrp_ttl", 1)],
        device_state: Default::default(),
        host_tap: None,
    };
    Snapshot {
        reload_kept: None,
        dataplane: None,
        sync: None,
        bfd: None,
        tracks: Vec::new(),
        groups: vec![g],
        ports: vec![p],
    }
}

/// Serve `n` connections on `path` like the daemon does: read one line,
/// answer with `respond`, close. Returns the request lines it saw.
fn fake_daemon(path: &Path, n: usize) -> JoinHandle<Vec<String>> {
    let listener = UnixListener::bind(path).unwrap();
    std::thread::spawn(move || {
        let snap = snapshot();
        let mut seen = Vec::new();
        for _ in 0..n {
            let (mut conn, _) = listener.accept().unwrap();
            conn.set_read_timeout(Some(std::time::Duration::from_secs(5)))
                .unwrap();
            let mut line = Vec::new();
            let mut byte = [0u8; 1];
            while line.len() < 512 {
                match conn.read(&mut byte) {
                    Ok(1) if byte[0] == b'\n' => break,
                    Ok(1) => line.push(byte[0]),
                    _ => break,
                }
            }
            let line = String::from_utf8(line).unwrap();
            conn.write_all(&respond(&line, &snap, Instant::from_secs(100)))
                .unwrap();
            seen.push(line);
        }
        seen
    })
}

#[test]
fn no_daemon_is_one_line_and_exit_3() {
    let dir = TempDir::new("cli", "nod");
    let sock = dir.path("missing.sock");
    let sock = sock.to_str().unwrap();
    let out = hagw(&["show", "vrrp", "summary", "--socket", sock]);
    assert_no_daemon(&out, sock, "No such file or directory");
}

#[test]
fn show_without_words_lists_the_views_without_connecting() {
    let dir = TempDir::new("cli", "empty");
    let sock = dir.path("none.sock");
    let out = hagw(&["show", "--json", "--socket", sock.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.is_empty());
    assert_eq!(
        text(&out.stderr),
        format!("hagw: show what? known views: {}\n", hagw::cli::show::VIEWS)
    );
    assert!(text(&out.stderr).contains("vrrp interface NAME"));
}

#[test]
fn stale_socket_file_is_no_daemon_too() {
    let dir = TempDir::new("cli", "stale");
    let sock = dir.path("stale.sock");
    // A socket file nobody listens on any more: connect gets ECONNREFUSED.
    drop(UnixListener::bind(&sock).unwrap());
    let sock = sock.to_str().unwrap();
    let out = hagw(&["show", "interfaces", "--socket", sock]);
    assert_no_daemon(&out, sock, "Connection refused");
}

#[test]
fn socket_path_comes_from_the_config_file() {
    let dir = TempDir::new("cli", "cfg");
    let sock = dir.path("from-config.sock");
    let cfg = dir.path("hagw.uci");
    std::fs::write(
        &cfg,
        format!(
            "config globals 'globals'\n\toption node_id '1'\n\toption control_socket '{}'\n\n\
             config interface 'lan'\n\toption device 'lan0'\n\toption role 'lan'\n\toption address '192.168.42.1/24'\n",
            sock.display()
        ),
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    // No daemon yet: the message names the path from the config.
    let out = hagw(&["show", "vrrp", "summary", "-c", cfg]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(
        text(&out.stderr).contains(&format!("cannot connect to {}:", sock.display())),
        "{out:?}"
    );
    // With a daemon there, it answers through that path.
    let server = fake_daemon(&sock, 1);
    let out = hagw(&["show", "-c", cfg, "vrrp", "summary"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(text(&out.stdout).starts_with("Interface  VRRP Group"));
    assert_eq!(server.join().unwrap(), ["vrrp summary"]);
    // An unreadable config is an error naming the file, not a silent default.
    let out = hagw(&["show", "vrrp", "summary", "-c", "/nonexistent/hagw.uci"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        text(&out.stderr)
            .starts_with("hagw: cannot take the control socket from /nonexistent/hagw.uci:"),
        "{out:?}"
    );
}

#[test]
fn show_against_a_fake_daemon() {
    let dir = TempDir::new("cli", "fake");
    let sock = dir.path("hagw.sock");
    let server = fake_daemon(&sock, 4);
    let s = sock.to_str().unwrap();

    let out = hagw(&["show", "vrrp", "summary", "--socket", s]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    assert_eq!(
        text(&out.stdout),
        "\
Interface  VRRP Group  Addr Type  Address        Interface State  Address Owner  VRRP State
---------  ----------  ---------  -------------  ---------------  -------------  ----------
lan        42          vip        192.168.42.50  up               no             backup
"
    );

    // --json before the words, --socket first: options go anywhere, as with argh.
    let out = hagw(&["show", "--socket", s, "--json", "vrrp", "interface", "lan"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let body = text(&out.stdout);
    assert!(body.starts_with("{\n  \"groups\": [\n"), "{body}");
    assert!(body.contains("\"last_transition_seconds\": 184,"), "{body}");
    assert!(
        body.contains("\"master_router\": \"192.168.42.2\","),
        "{body}"
    );

    let out = hagw(&["show", "vrrp", "interface", "wan", "--socket", s]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.is_empty());
    assert_eq!(text(&out.stderr), "hagw: no VRRP group on interface wan\n");

    let out = hagw(&["show", "interfaces", "--socket", s]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        text(&out.stdout),
        "\
Interface lan (device lan0, role lan): up
  MAC 02:00:00:00:00:01, address 192.168.42.1/24
  rx: 10 frames, 600 bytes; tx: 5 frames, 300 bytes
  drops: 1 (vrrp_ttl 1)
"
    );

    assert_eq!(
        server.join().unwrap(),
        [
            "vrrp summary",
            "vrrp interface lan --json",
            "vrrp interface wan",
            "interfaces"
        ]
    );
}

#[test]
fn a_daemon_that_hangs_up_is_reported() {
    let dir = TempDir::new("cli", "hup");
    let sock = dir.path("hup.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let t = std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        drop(conn);
    });
    let out = hagw(&["show", "metrics", "--socket", sock.to_str().unwrap()]);
    t.join().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        text(&out.stderr).starts_with("hagw: the daemon closed the connection without an answer"),
        "{out:?}"
    );
}

#[test]
fn dataplane_and_sync_views_without_data_say_so_in_one_line() {
    let dir = TempDir::new("cli", "nodata");
    let sock = dir.path("hagw.sock");
    let requests: [&[&str]; 5] = [
        &["conntrack"],
        &["routes"],
        &["conntrack-sync", "status"],
        &["conntrack-sync", "external-cache", "--json"],
        &["nat", "rules", "--json"],
    ];
    let server = fake_daemon(&sock, requests.len());
    let s = sock.to_str().unwrap();
    let mut outs = Vec::new();
    for words in requests {
        let mut args = vec!["show", "--socket", s];
        args.extend_from_slice(words);
        let out = hagw(&args);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert!(out.stderr.is_empty(), "{out:?}");
        outs.push(text(&out.stdout));
    }
    assert_eq!(
        outs,
        [
            hagw::cli::views::NO_DATAPLANE.to_string(),
            hagw::cli::views::NO_DATAPLANE.to_string(),
            hagw::cli::views::NO_SYNC.to_string(),
            "{\n  \"sync\": null\n}\n".to_string(),
            "{\n  \"dataplane\": null\n}\n".to_string(),
        ]
    );
    assert_eq!(outs[0].lines().count(), 1);
    assert_eq!(outs[2].lines().count(), 1);
    assert_eq!(
        server.join().unwrap(),
        [
            "conntrack",
            "routes",
            "conntrack-sync status",
            "conntrack-sync external-cache --json",
            "nat rules --json"
        ]
    );
}

/// The rpcd plugin (board/openwrt/hagw.rpcd, installed as
/// /usr/libexec/rpcd/hagw) called the way rpcd calls an exec plugin:
/// `list` must print one JSON object naming the methods; `call METHOD` gets
/// the arguments as JSON on stdin and must print one JSON object (rpcd
/// rejects anything else), here from a fake daemon and from no daemon.
/// Python's json module reads the answers.
#[test]
fn rpcd_plugin_answers_list_and_call() {
    use std::process::Stdio;
    if !common::tool_runs("python3", &["-c", "import json"]) {
        println!("skipped: python3 not installed");
        return;
    }
    let dir = TempDir::new("cli", "rpcd");
    let sock = dir.path("hagw.sock");
    let cfg = dir.path("hagw.uci");
    std::fs::write(
        &cfg,
        format!(
            "config globals 'globals'\n\toption control_socket '{}'\n",
            sock.display()
        ),
    )
    .unwrap();
    let plugin = concat!(env!("CARGO_MANIFEST_DIR"), "/board/openwrt/hagw.rpcd");
    // Runs the plugin, then `expr` over its output parsed as JSON `v`
    // (which must be an object); returns (exit code, what expr printed).
    let rpcd = |args: &[&str], expr: &str| -> (Option<i32>, String) {
        let mut c = Command::new(plugin)
            .args(args)
            .env("HAGW", env!("CARGO_BIN_EXE_hagw"))
            .env("HAGW_CONFIG", &cfg)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // rpcd writes the arguments for `call` only; `list` may exit
        // before reading (EPIPE then is not an error).
        let mut stdin = c.stdin.take().unwrap();
        if args[0] == "call" {
            let _ = stdin.write_all(b"{ }");
        }
        drop(stdin);
        let o = c.wait_with_output().unwrap();
        let script = format!(
            "import json,sys\nv=json.loads(sys.stdin.read())\nassert isinstance(v, dict), v\nprint({expr})"
        );
        let mut py = Command::new("python3")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        py.stdin.take().unwrap().write_all(&o.stdout).unwrap();
        let p = py.wait_with_output().unwrap();
        assert!(
            p.status.success(),
            "{args:?}: {}\n{}",
            text(&o.stdout),
            text(&p.stderr)
        );
        (o.status.code(), text(&p.stdout).trim_end().to_string())
    };

    assert_eq!(
        rpcd(&["list"], "sorted(v)"),
        (
            Some(0),
            "['interfaces', 'metrics', 'statistics', 'status', 'vrrp']".to_string()
        )
    );
    // No daemon: still one JSON object, saying so.
    let (code, out) = rpcd(
        &["call", "status"],
        "v['running'], 'cannot connect' in v['error']",
    );
    assert_eq!((code, out.as_str()), (Some(0), "False True"));

    let server = fake_daemon(&sock, 3);
    let (code, out) = rpcd(&["call", "status"], "[g['state'] for g in v['groups']]");
    assert_eq!((code, out.as_str()), (Some(0), "['backup']"));
    let (_, out) = rpcd(
        &["call", "statistics"],
        "v['groups'][0]['adverts_received']",
    );
    assert!(out.parse::<u64>().is_ok(), "{out}");
    let (_, out) = rpcd(&["call", "interfaces"], "len(v['interfaces'])");
    assert_eq!(out, "1");
    assert_eq!(
        server.join().unwrap(),
        [
            "vrrp summary --json",
            "vrrp statistics --json",
            "interfaces --json"
        ]
    );
    let (code, _) = rpcd(&["call", "bogus"], "v['error']");
    assert_eq!(code, Some(1));
}
