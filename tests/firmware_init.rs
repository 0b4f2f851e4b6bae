//! board/busybox/S60hagw under `busybox sh` with busybox start-stop-daemon.
//!
//! * `init_script_with_stand_in_daemon` (no root): drives the script against
//!   a stand-in `hagw` (a shell script that logs the signals it gets), so the
//!   script's own behaviour is checked exactly: pid file, "already running",
//!   SIGHUP on reload, config check before start and reload, stop waits and
//!   falls back to SIGKILL after STOP_TIMEOUT, a daemon that dies at once.
//! * `init_script_with_real_daemon` (root): the real `hagw` in a network
//!   namespace of its own: start, `hagw show`, reload with a changed
//!   priority (visible in `show vrrp interface`), stop (priority-0 advert is
//!   the daemon's business; here: process gone, pid file removed). Skipped
//!   while `hagw run` is still a stub.

mod common;

use common::{TempDir, check_config, is_root, run};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn have_busybox() -> bool {
    Command::new("busybox")
        .arg("start-stop-daemon")
        .arg("--help")
        .output()
        .is_ok()
}

struct Env {
    dir: PathBuf,
    bin: PathBuf,
    config: PathBuf,
    pidfile: PathBuf,
    log: PathBuf,
    netns: Option<String>,
    extra: Vec<(String, String)>,
}

impl Env {
    fn script(&self, action: &str) -> Output {
        let mut c = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "busybox", "sh"]);
                c
            }
            None => {
                let mut c = Command::new("busybox");
                c.arg("sh");
                c
            }
        };
        c.arg(repo().join("board/busybox/S60hagw"))
            .arg(action)
            .env("HAGW_BIN", &self.bin)
            .env("HAGW_CONFIG", &self.config)
            .env("PIDFILE", &self.pidfile)
            .env("HAGW_LOG", &self.log);
        for (k, v) in &self.extra {
            c.env(k, v);
        }
        // An init system starts services with default signal dispositions;
        // a test run under nohup would hand SIG_IGN for HUP down to the
        // stand-in shell, which then cannot trap it.
        // SAFETY: signal(2) is async-signal-safe.
        unsafe {
            use std::os::unix::process::CommandExt;
            c.pre_exec(|| {
                libc::signal(libc::SIGHUP, libc::SIG_DFL);
                Ok(())
            });
        }
        let o = c.output().unwrap();
        eprintln!(
            "S60hagw {action} -> {:?}\n  out: {}  err: {}",
            o.status.code(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        o
    }

    fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(&self.pidfile)
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_log(&self, needle: &str, count: usize) -> bool {
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if self.log().matches(needle).count() >= count {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(pid) = self.pid() {
            if alive(pid) {
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            }
        }
        if let Some(ns) = &self.netns {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn alive(pid: u32) -> bool {
    // A zombie has no exe link; treat it as gone.
    Path::new(&format!("/proc/{pid}")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

fn setup(tag: &str, bin: PathBuf) -> Env {
    let dir = std::env::temp_dir().join(format!("hagw-init-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Env {
        config: dir.join("hagw.conf"),
        pidfile: dir.join("run/hagw.pid"),
        log: dir.join("log/hagw.log"),
        dir,
        bin,
        netns: None,
        extra: Vec::new(),
    }
}

/// A stand-in daemon named `hagw`: `check-config` accepts a file that
/// contains "valid" and not "broken"; `run` logs and traps HUP/TERM.
const STAND_IN: &str = r#"#!/bin/sh
case "$1" in
check-config)
	grep -q valid "$3" && ! grep -q broken "$3" && { echo "$3: ok"; exit 0; }
	echo "$3:1: broken config" >&2; exit 1 ;;
run)
	[ -n "$FAKE_DIE" ] && { echo "cannot open device" >&2; exit 1; }
	trap 'echo "got HUP"' HUP
	trap 'echo "got TERM"; [ -n "$FAKE_IGNORE_TERM" ] || exit 0' TERM
	echo "running with $3"
	while :; do sleep 1 & wait $!; done ;;
esac
exit 2
"#;

#[test]
fn init_script_with_stand_in_daemon() {
    if !have_busybox() {
        eprintln!("skipped: busybox not installed");
        return;
    }
    let tmp = TempDir::new("fake", "init");
    let dir = &tmp.0;
    let bin = dir.join("hagw");
    std::fs::write(&bin, STAND_IN).unwrap();
    std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut e = setup("fake", bin);
    std::fs::write(&e.config, "valid\n").unwrap();

    // Nothing running yet: LSB status 3.
    assert_eq!(e.script("status").status.code(), Some(3));

    // start: pid file names a live process called hagw that logs to HAGW_LOG.
    assert!(e.script("start").status.success());
    let pid = e.pid().expect("pid file written");
    assert!(alive(pid));
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .unwrap()
            .trim(),
        "hagw"
    );
    assert!(e.wait_log("running with", 1), "log: {}", e.log());
    assert!(e.log().contains(e.config.to_str().unwrap()));
    assert!(e.script("status").status.success());

    // A second start does not start a second daemon.
    let o = e.script("start");
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("already running"));
    assert_eq!(e.pid(), Some(pid));

    // reload = SIGHUP to the same process.
    assert!(e.script("reload").status.success());
    assert!(e.wait_log("got HUP", 1), "log: {}", e.log());
    assert_eq!(e.pid(), Some(pid));

    // A bad config is refused: no signal, the daemon keeps running.
    std::fs::write(&e.config, "valid but broken\n").unwrap();
    let o = e.script("reload");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("broken config"));
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(e.log().matches("got HUP").count(), 1, "log: {}", e.log());
    assert!(alive(pid));

    // stop: TERM, process gone, pid file removed.
    std::fs::write(&e.config, "valid\n").unwrap();
    assert!(e.script("stop").status.success());
    assert!(!alive(pid));
    assert!(!e.pidfile.exists());
    assert!(e.log().contains("got TERM"));
    assert_eq!(e.script("status").status.code(), Some(3));
    // stop when stopped is fine.
    assert!(e.script("stop").status.success());

    // start with a bad config: refused, nothing left behind.
    std::fs::write(&e.config, "broken\n").unwrap();
    assert_eq!(e.script("start").status.code(), Some(1));
    assert!(!e.pidfile.exists());
    std::fs::write(&e.config, "valid\n").unwrap();

    // A daemon that exits at once is a failed start; its log is shown.
    e.extra = vec![("FAKE_DIE".into(), "1".into())];
    let o = e.script("start");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot open device"));
    assert!(!e.pidfile.exists());

    // A daemon that ignores SIGTERM is killed after STOP_TIMEOUT (bounded).
    e.extra = vec![
        ("FAKE_IGNORE_TERM".into(), "1".into()),
        ("STOP_TIMEOUT".into(), "1".into()),
    ];
    assert!(e.script("start").status.success());
    let pid = e.pid().unwrap();
    let t0 = Instant::now();
    let o = e.script("stop");
    let took = t0.elapsed();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("SIGKILL"));
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert!(!alive(pid));
    assert!(!e.pidfile.exists());
}

/// True while `hagw run` is the skeleton's stub (exits at once, "not implemented").
fn daemon_is_stub(bin: &Path) -> bool {
    let o = Command::new(bin)
        .args(["run", "-c", "/nonexistent/hagw.conf"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stderr).contains("not implemented")
}

fn show(e: &Env, sock: &Path, what: &[&str]) -> String {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", e.netns.as_deref().unwrap()])
        .arg(&e.bin)
        .arg("show");
    c.args(what).arg("--socket").arg(sock);
    let o = c.output().unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn init_script_with_real_daemon() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    if !have_busybox() {
        eprintln!("skipped: busybox not installed");
        return;
    }
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_hagw"));
    if daemon_is_stub(&bin) {
        eprintln!("skipped: `hagw run` is still a stub");
        return;
    }
    let mut e = setup("real", bin);
    let ns = format!("hg{}fw", std::process::id());
    run(&["ip", "netns", "add", &ns]);
    e.netns = Some(ns.clone());
    // lan0 is hagw's (no kernel IPv4 address); its peer just keeps the link up.
    run(&[
        "ip", "-n", &ns, "link", "add", "lan0", "type", "veth", "peer", "name", "lanpeer",
    ]);
    run(&["ip", "-n", &ns, "link", "set", "lan0", "up"]);
    run(&["ip", "-n", &ns, "link", "set", "lanpeer", "up"]);
    run(&["ip", "-n", &ns, "link", "set", "lo", "up"]);
    let sock = e.dir.join("hagw.sock");
    let conf = |prio: u8| {
        format!(
            "config globals 'globals'\n\toption node_id '1'\n\toption control_socket '{}'\n\n\
             config interface 'lan'\n\toption device 'lan0'\n\toption role 'lan'\n\toption address '192.168.42.1/24'\n\n\
             config vrrp_group 'lan_gw'\n\toption interface 'lan'\n\toption vrid '42'\n\
             \tlist virtual_address '192.168.42.50'\n\toption priority '{prio}'\n\toption advertise_interval '1'\n",
            sock.display()
        )
    };
    std::fs::write(&e.config, conf(100)).unwrap();
    e.extra = vec![("START_WAIT".into(), "1".into())];

    assert!(e.script("start").status.success(), "log: {}", e.log());
    let pid = e.pid().expect("pid file");
    assert!(alive(pid));
    let wait_show = |what: &[&str], needle: &str| {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let out = show(&e, &sock, what);
            if out.contains(needle) {
                return out;
            }
            assert!(
                Instant::now() < until,
                "`show {what:?}` never contained {needle:?}: {out}\nlog: {}",
                e.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    wait_show(&["vrrp", "interface", "lan"], "Priority: 100");

    // reload: a new priority takes effect in the same process.
    std::fs::write(&e.config, conf(150)).unwrap();
    assert!(e.script("reload").status.success());
    wait_show(&["vrrp", "interface", "lan"], "Priority: 150");
    assert_eq!(e.pid(), Some(pid));

    // Alone on the segment it becomes master (3 x 1 s + skew).
    wait_show(&["vrrp", "summary"], "master");

    // stop: SIGTERM (not SIGKILL) so the master sends its priority-0 advert
    // (RFC 3768 6.4.3), seen on the peer end of the veth; then the process is
    // gone, the pid file removed, the control socket silent.
    let pcap = e.dir.join("stop.pcap");
    let mut dump = Command::new("ip")
        .args([
            "netns", "exec", &ns, "timeout", "20", "tcpdump", "-i", "lanpeer", "-n", "-U", "-c",
            "50", "-w",
        ])
        .arg(&pcap)
        .arg("ip proto 112")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(5);
    while std::fs::metadata(&pcap).map(|m| m.len()).unwrap_or(0) == 0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500));
    assert!(e.script("stop").status.success());
    assert!(!alive(pid));
    assert!(!e.pidfile.exists());
    assert!(!show(&e, &sock, &["vrrp", "summary"]).contains("lan"));
    std::thread::sleep(Duration::from_millis(300));
    unsafe { libc::kill(dump.id() as i32, libc::SIGTERM) };
    let _ = dump.wait();
    let o = Command::new("tcpdump")
        .args(["-n", "-v", "-r"])
        .arg(&pcap)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("vrid 42, prio 150"),
        "no advert from the master before stop: {text}"
    );
    assert!(
        text.contains("vrid 42, prio 0"),
        "no priority-0 advert on stop: {text}"
    );
    eprintln!("daemon log:\n{}", e.log());
}

/// board/openwrt/hagw.init with procd's shell API replaced by stubs that log
/// their arguments (no procd here): start_service registers the right
/// command, respawn, logd output and a reload trigger; reload_service sends
/// SIGHUP to all instances only when the config passes check-config; an
/// unconfigured default config starts nothing.
#[test]
fn procd_init_script_with_stub_procd() {
    if !have_busybox() {
        eprintln!("skipped: busybox not installed");
        return;
    }
    let tmp = TempDir::new("procd", "init");
    let dir = &tmp.0;
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_hagw"));
    let good = dir.join("good.conf");
    std::fs::copy(repo().join("board/examples/scenario1-basic-a.uci"), &good).unwrap();
    let bad = dir.join("bad.conf");
    std::fs::write(
        &bad,
        "config interface 'lan'\n\toption device 'lan0'\n\toption role 'bogus'\n",
    )
    .unwrap();
    let default = repo().join("board/openwrt/hagw.config");

    let run = |config: &Path, action: &str| -> (bool, String) {
        let script = format!(
            r#"
procd_open_instance() {{ echo "open_instance $*"; }}
procd_set_param() {{ echo "set_param $*"; }}
procd_close_instance() {{ echo "close_instance"; }}
procd_add_reload_trigger() {{ echo "reload_trigger $*"; }}
procd_send_signal() {{ echo "send_signal $*"; }}
logger() {{ cat >/dev/null; }}
# OpenWrt's functions.sh (config_load reads the file through libuci there),
# reduced to the section/option lookups the script uses.
config_load() {{ echo "config_load $*"; }}
config_foreach() {{
	for s in $(sed -n "s/^config[[:space:]]*$2[[:space:]]*'\(.*\)'.*/\1/p" "$CONFIG"); do "$1" "$s"; done
}}
config_get_bool() {{
	local v
	v=$(awk -v s="$2" -v o="$3" '$1=="config"{{c=$3; gsub("\047","",c)}} $1=="option" && c==s && $2==o {{x=$3; gsub("\047","",x); print x}}' "$CONFIG")
	case "${{v:-$4}}" in 1|on|true|yes|enabled) eval "$1=1";; *) eval "$1=0";; esac
}}
. {init}
PROG={bin}
CONFIG={config}
echo "START=$START STOP=$STOP USE_PROCD=$USE_PROCD"
{action}
"#,
            init = repo().join("board/openwrt/hagw.init").display(),
            bin = bin.display(),
            config = config.display(),
        );
        let o = Command::new("busybox")
            .args(["sh", "-c", &script])
            .output()
            .unwrap();
        let out =
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
        eprintln!("{action} with {}:\n{out}", config.display());
        (o.status.success(), out)
    };

    let (ok, out) = run(&good, "start_service; service_triggers");
    assert!(ok);
    assert!(out.contains("START=60 STOP=10 USE_PROCD=1"));
    assert!(out.contains(&format!(
        "set_param command {} run -c {}",
        bin.display(),
        good.display()
    )));
    assert!(out.contains("set_param respawn "));
    assert!(out.contains("set_param stdout 1") && out.contains("set_param stderr 1"));
    assert!(out.contains("reload_trigger hagw"));
    assert!(out.find("open_instance") < out.find("close_instance"));

    let (ok, out) = run(&good, "reload_service");
    assert!(ok && out.contains("send_signal hagw * HUP"), "{out}");

    // A bad config: no instance, no signal, and the errors are shown.
    let (ok, out) = run(&bad, "start_service");
    assert!(
        !ok && !out.contains("open_instance") && out.contains("bad.conf:"),
        "{out}"
    );
    let (ok, out) = run(&bad, "reload_service");
    assert!(!ok && !out.contains("send_signal"), "{out}");

    // The packaged default config is valid and says enabled '0': no instance,
    // and the script read it the OpenWrt way.
    assert!(
        std::fs::read_to_string(&default)
            .unwrap()
            .contains("\toption enabled '0'\n")
    );
    assert!(check_config(&default).0 == Some(0));
    let (ok, out) = run(&default, "start_service");
    assert!(
        ok && out.contains("config_load hagw")
            && !out.contains("open_instance")
            && out.contains("disabled (option enabled '0'"),
        "{out}"
    );
    // The same switch in a working config; and switched on again.
    let off = dir.join("off.conf");
    let text = std::fs::read_to_string(&good).unwrap();
    let with = |v: &str| {
        text.replace(
            "config globals 'globals'\n",
            &format!("config globals 'globals'\n\toption enabled '{v}'\n"),
        )
    };
    std::fs::write(&off, with("0")).unwrap();
    let (ok, out) = run(&off, "start_service");
    assert!(ok && !out.contains("open_instance"), "{out}");
    std::fs::write(&off, with("1")).unwrap();
    let (ok, out) = run(&off, "start_service");
    assert!(ok && out.contains("open_instance"), "{out}");
}
