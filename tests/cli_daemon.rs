//! The real `hagw show` client against real daemons: two routers from the
//! SPEC §7 scenario 1 example configs in network namespaces (lab from
//! tests/netns), queried through `-c CONFIG` and `--socket PATH` with the
//! binary, as an operator would; then a stopped daemon gives the one-line
//! "no daemon running" message and exit 3. Needs root.

mod common;
mod netns;
use common::scenario1;
use netns::*;
use std::process::Output;
use std::time::Duration;

fn show(args: &[&str]) -> Output {
    std::process::Command::new(hagw_bin())
        .arg("show")
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn hagw_show_against_running_daemons() {
    if skip() {
        return;
    }
    let mut lab = Lab::new("cli_daemon");
    lab.segment("l");
    let mut a = lab.router("a", &board("scenario1-basic-a.uci"));
    let mut b = lab.router("b", &board("scenario1-basic-b.uci"));
    lab.plug("l", &a.ns, "lan0");
    lab.plug("l", &b.ns, "lan0");
    // B first, alone: it becomes master; A then starts and stays backup.
    // (Independent of how a simultaneous start breaks the priority tie.)
    lab.start(&mut b);
    expect_state(&lab, &b, "lan_gw", "master", Duration::from_secs(10));
    lab.start(&mut a);
    expect_state(&lab, &a, "lan_gw", "backup", Duration::from_secs(10));
    // ... and has heard B's adverts.
    wait_for(Duration::from_secs(5), || {
        query(&a.socket, "vrrp interface lan --json")
            .is_ok_and(|b| json_value(&b, "master_router").as_deref() == Some("192.168.42.2"))
    })
    .expect("a learns the master");

    let cfg_a = a.config.to_str().unwrap().to_string();
    let sock_b = b.socket.to_str().unwrap().to_string();

    // Through -c: the socket path comes from the config file.
    let o = show(&["vrrp", "summary", "-c", &cfg_a]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(stdout(&o), scenario1::summary("backup"));
    assert!(o.stderr.is_empty(), "{o:?}");

    // Through --socket.
    let o = show(&["vrrp", "summary", "--socket", &sock_b]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(stdout(&o), scenario1::summary("master"), "{o:?}");

    let o = show(&["vrrp", "interface", "lan", "-c", &cfg_a]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    scenario1::assert_backup_detail(&stdout(&o));

    let o = show(&["--json", "vrrp", "interface", "lan", "--socket", &sock_b]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let body = stdout(&o);
    assert_eq!(
        json_value(&body, "state").as_deref(),
        Some("master"),
        "{body}"
    );
    assert_eq!(
        json_value(&body, "master_router").as_deref(),
        Some("192.168.42.2"),
        "{body}"
    );
    assert!(json_u64(&body, "adverts_tx") >= 1, "{body}");

    let o = show(&["interfaces", "-c", &cfg_a]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(
        stdout(&o).starts_with("Interface lan (device lan0, role lan): up\n"),
        "{o:?}"
    );

    let o = show(&["metrics", "--socket", &sock_b]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(stdout(&o).contains(&scenario1::state_metric(2)), "{o:?}");

    // A refused request: message on stderr, exit 1.
    let o = show(&["vrrp", "interface", "wan", "-c", &cfg_a]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(o.stdout.is_empty());
    assert_eq!(stderr(&o), "hagw: no VRRP group on interface wan\n");

    // Stop A: the same command now says, in one line, that no daemon runs.
    let p = lab.hagw(&a);
    kill(p.pid, libc::SIGTERM);
    assert_eq!(p.wait_exit(Duration::from_secs(10)), Some(0));
    let o = show(&["vrrp", "summary", "-c", &cfg_a]);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    assert!(o.stdout.is_empty());
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "hagw: no daemon running (cannot connect to {}: ",
            a.socket.display()
        )),
        "{err}"
    );
}
