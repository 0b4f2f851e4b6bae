//! keepalived as the other router in interop tests: its config, starting
//! it in a namespace, reading its state from its notify script, killing it;
//! and the hagw config the interop tests pair it with.

use super::*;

/// The keepalived interop lab: hagw router `h` (config `hagw_cfg`, on
/// lan0), a keepalived namespace `k` (lan0 192.168.42.3/24) and a client
/// `c` (eth0 192.168.42.100/24) on segment "l". Nothing is started.
pub fn keepalived_lab(lab: &mut Lab, hagw_cfg: &str) -> (Router, String, String) {
    lab.segment("l");
    let h = lab.router("h", hagw_cfg);
    let kns = lab.ns("k");
    let c = lab.ns("c");
    lab.plug("l", &h.ns, "lan0");
    lab.plug("l", &kns, "lan0");
    lab.plug("l", &c, "eth0");
    lab.addr(&kns, "lan0", "192.168.42.3/24");
    lab.addr(&c, "eth0", "192.168.42.100/24");
    (h, kns, c)
}

/// A hagw router config: one group on lan0 (`addr`/24), vrid 42, VIP `vip`.
pub fn hagw_conf(addr: &str, priority: u8, version: u8, advert_cs: u16, vip: &str) -> String {
    let adv = if version == 2 {
        format!("{}", advert_cs / 100)
    } else {
        format!("{}.{:02}", advert_cs / 100, advert_cs % 100)
    };
    format!(
        "config globals 'globals'\n\toption node_id '1'\n\n\
         config interface 'lan'\n\toption device 'lan0'\n\toption role 'lan'\n\toption address '{addr}/24'\n\n\
         config vrrp_group 'lan_gw'\n\toption interface 'lan'\n\toption vrid '42'\n\tlist virtual_address '{vip}'\n\
         \toption priority '{priority}'\n\toption version '{version}'\n\toption advertise_interval '{adv}'\n"
    )
}

/// A keepalived config with one instance on lan0 (vrid 42, VIP `vip`/24);
/// notify scripts append "ka STATE" to `notify_out`.
pub fn keepalived_conf(
    priority: u8,
    version: u8,
    advert: &str,
    vip: &str,
    script: &Path,
) -> String {
    let s = script.display();
    format!(
        "global_defs {{\n  router_id ka{priority}\n  script_user root\n  enable_script_security\n  vrrp_garp_master_delay 0\n}}\n\
         vrrp_instance VI_42 {{\n  state BACKUP\n  interface lan0\n  virtual_router_id 42\n  priority {priority}\n\
         \x20 advert_int {advert}\n  version {version}\n  virtual_ipaddress {{\n    {vip}/24\n  }}\n\
         \x20 notify_master \"{s} ka master\"\n  notify_backup \"{s} ka backup\"\n  notify_fault \"{s} ka fault\"\n}}\n"
    )
}

/// A running keepalived (main process, and the path of its VRRP child's pidfile).
pub struct Keepalived {
    pub main: usize,
    pub vrrp_pidfile: PathBuf,
    pub notify_log: PathBuf,
}

/// Start keepalived in `ns` (foreground main process, VRRP subsystem only).
pub fn start_keepalived(
    lab: &mut Lab,
    ns: &str,
    tag: &str,
    priority: u8,
    version: u8,
    advert: &str,
    vip: &str,
) -> Keepalived {
    let notify_log = lab.dir.join(format!("{tag}.notify"));
    // The notify script gets "ka STATE" as its arguments.
    let script = lab.dir.join(format!("notify-{tag}.sh"));
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$1 $2\" >> {}\n", notify_log.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let conf = keepalived_conf(priority, version, advert, vip, &script);
    start_keepalived_conf(lab, ns, tag, &conf, notify_log)
}

/// Start keepalived in `ns` with the config text `conf` (foreground main
/// process, VRRP subsystem only); its notify scripts write `notify_log`.
pub fn start_keepalived_conf(
    lab: &mut Lab,
    ns: &str,
    tag: &str,
    conf_text: &str,
    notify_log: PathBuf,
) -> Keepalived {
    let conf = lab.dir.join(format!("{tag}.conf"));
    std::fs::write(&conf, conf_text).unwrap();
    let pid = lab.dir.join(format!("{tag}.pid"));
    let vpid = lab.dir.join(format!("{tag}.vrrp.pid"));
    let (c, p, v) = (
        conf.to_string_lossy().into_owned(),
        pid.to_string_lossy().into_owned(),
        vpid.to_string_lossy().into_owned(),
    );
    let main = lab.spawn(
        ns,
        tag,
        &[
            "keepalived",
            "-n",
            "-l",
            "-D",
            "-P",
            "-f",
            &c,
            "-p",
            &p,
            "-r",
            &v,
        ],
    );
    // Track the VRRP child too, so the guard kills it.
    if wait_for(Duration::from_secs(5), || read_pid(&vpid).is_some()).is_some() {
        if let Some(child) = read_pid(&vpid) {
            let log = lab.procs[main].log.clone();
            lab.adopt_pid(child, log);
        }
    }
    Keepalived {
        main,
        vrrp_pidfile: vpid,
        notify_log,
    }
}

pub fn read_pid(p: &Path) -> Option<u32> {
    std::fs::read_to_string(p).ok()?.trim().parse().ok()
}

/// The last state keepalived's notify script reported.
pub fn keepalived_state(k: &Keepalived) -> Option<String> {
    let t = std::fs::read_to_string(&k.notify_log).ok()?;
    Some(t.lines().last()?.split_whitespace().nth(1)?.to_string())
}

/// Wait until keepalived's notify script reported `state`; else dump the
/// logs and fail.
pub fn expect_ka(lab: &Lab, k: &Keepalived, state: &str, timeout: Duration) {
    if wait_for(timeout, || keepalived_state(k).as_deref() == Some(state)).is_none() {
        lab.dump_logs();
        panic!(
            "keepalived not {state} within {timeout:?}; notify log: {:?}",
            std::fs::read_to_string(&k.notify_log)
        );
    }
}

/// SIGKILL keepalived (main and VRRP child): a dead node.
pub fn kill_keepalived(lab: &mut Lab, k: &Keepalived) {
    if let Some(v) = read_pid(&k.vrrp_pidfile) {
        kill(v, libc::SIGKILL);
    }
    let p = lab.proc(k.main);
    kill(p.pid, libc::SIGKILL);
    p.wait_exit(Duration::from_secs(5));
}
