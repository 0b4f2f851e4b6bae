//! Operations under faults: what the daemon does when a device is missing
//! or vanishes, when the kernel puts an IPv4 address on a hagw-owned
//! device, and when a SIGHUP changes the interface list.
//!
//! Owns: telling the engine about a device that appeared (its MAC) or went
//! (link down: only the groups on it go to FAULT), logging which groups a
//! missing device holds in FAULT, re-checking kernel addresses on netlink
//! address events, the "kept the old interface list" note of a reload, and
//! the per-port device facts in `hagw show`. Never: decides VRRP state (the
//! engine does), changes kernel settings.

use super::Daemon;
use super::link::Port;
use crate::config::{Config, Ipv4Cidr, Role};
use crate::engine::{DeviceState, Snapshot};
use log::{info, warn};

/// The names of the VRRP groups on interface `name` (config order).
pub fn groups_on(config: &Config, name: &str) -> Vec<String> {
    config
        .vrrp_groups
        .iter()
        .filter(|g| g.interface == name)
        .map(|g| g.name.clone())
        .collect()
}

fn group_list(groups: &[String]) -> String {
    if groups.is_empty() {
        "no VRRP group".to_string()
    } else {
        format!("VRRP group(s) {}", groups.join(", "))
    }
}

/// "lan=lan0 (lan), wan=wan0 (wan)": an interface list as the log and
/// `show` print it.
pub fn interface_list(config: &Config) -> String {
    let list: Vec<String> = config
        .interfaces
        .iter()
        .map(|i| {
            let role = match i.role {
                Role::Lan => "lan",
                Role::Wan => "wan",
                Role::Sync => "sync",
            };
            format!("{}={} ({role})", i.name, i.device)
        })
        .collect();
    list.join(", ")
}

/// What a reload that changes the interface list keeps, and why; `None`
/// when `new` lists the same interfaces (names, devices, roles, in order).
pub fn interface_change(old: &Config, new: &Config) -> Option<String> {
    let shape = |c: &Config| -> Vec<(String, String, Role)> {
        c.interfaces
            .iter()
            .map(|i| (i.name.clone(), i.device.clone(), i.role))
            .collect()
    };
    if shape(old) == shape(new) {
        return None;
    }
    let names =
        |c: &Config| -> Vec<String> { c.interfaces.iter().map(|i| i.name.clone()).collect() };
    let (on, nn) = (names(old), names(new));
    let mut what = Vec::new();
    // "adds X, Y" / "removes Z": the names of `a` that `b` lacks.
    let mut only_in = |verb: &str, a: &[String], b: &[String]| {
        let only: Vec<&str> = a
            .iter()
            .filter(|n| !b.contains(n))
            .map(|n| n.as_str())
            .collect();
        if !only.is_empty() {
            what.push(format!("{verb} {}", only.join(", ")));
        }
    };
    only_in("adds", &nn, &on);
    only_in("removes", &on, &nn);
    let changed: Vec<&str> = old
        .interfaces
        .iter()
        .filter(|o| {
            new.interfaces
                .iter()
                .any(|n| n.name == o.name && (n.device != o.device || n.role != o.role))
        })
        .map(|o| o.name.as_str())
        .collect();
    if !changed.is_empty() {
        what.push(format!(
            "changes the device or role of {}",
            changed.join(", ")
        ));
    }
    if what.is_empty() {
        what.push("reorders them".to_string());
    }
    Some(format!(
        "kept the running configuration and its interface list [{}]: the new file's list [{}] {}; \
         the ports are fixed while hagw runs (sockets, counters and the session table are indexed by them): \
         restart hagw to apply it",
        interface_list(old),
        interface_list(new),
        what.join("; ")
    ))
}

/// The snapshot for `show`, with the reload note.
pub fn with_notes(mut snap: Snapshot, reload_kept: &Option<String>) -> Snapshot {
    snap.reload_kept.clone_from(reload_kept);
    snap
}

/// The driver's facts about a port's device for `show`.
pub fn device_state(p: &Port) -> DeviceState {
    DeviceState {
        missing: p.missing,
        kernel_ipv4: p
            .kernel_ipv4
            .iter()
            .map(|(a, l)| Ipv4Cidr {
                addr: *a,
                prefix_len: u8::try_from(*l).unwrap_or(32),
            })
            .collect(),
        kernel_conflicts: p.kernel_conflicts,
    }
}

impl Daemon {
    /// A netlink IPv4 address event (or lost messages): re-check the kernel
    /// addresses of every open lan/wan device now. The conntrack-sync and
    /// BFD sockets, which wait for the sync interface's address, are tried
    /// at once too.
    pub(super) fn addresses_changed(&mut self) {
        for p in &mut self.ports {
            p.recheck_kernel_ipv4();
        }
        if self.engine.as_ref().is_some_and(|e| e.has_sync()) {
            self.open_sync();
        }
        if self.engine.as_ref().is_some_and(|e| e.has_bfd()) {
            self.open_bfd();
        }
    }

    /// After port `i` was re-read: a device that vanished or appeared is
    /// logged with the groups it holds in FAULT or releases, and a new MAC
    /// (device created after start, or re-created) goes to the engine
    /// before its link is reported up.
    pub(super) fn device_changed(&mut self, i: usize, was_missing: bool, old_mac: [u8; 6]) {
        let Some(port) = self.ports.get(i) else {
            return;
        };
        if port.mac != old_mac
            && port.mac != [0; 6]
            && let Some(engine) = &mut self.engine
        {
            engine.set_mac(i, port.mac);
        }
        if port.missing == was_missing || self.engine.is_none() {
            return;
        }
        let on = groups_on(&self.config, &port.name);
        if on.is_empty() {
            if port.missing {
                warn!("{} ({}): device gone", port.name, port.device);
            } else {
                info!("{} ({}): device appeared", port.name, port.device);
            }
            return;
        }
        let groups = group_list(&on);
        if port.missing {
            warn!(
                "{} ({}): device gone; {groups} on it go to FAULT until it is back (the others are not affected)",
                port.name, port.device
            );
        } else {
            info!(
                "{} ({}): device appeared; {groups} on it start once its link is up",
                port.name, port.device
            );
        }
    }

    /// At engine start: name every missing device and the groups it holds
    /// in FAULT (the other groups run).
    pub(super) fn log_missing_at_start(&self) {
        for p in self.ports.iter().filter(|p| p.dataplane() && p.missing) {
            warn!(
                "{} ({}): device missing; {} on it in FAULT until it appears (netlink RTM_NEWLINK or the {}s retry opens it)",
                p.name,
                p.device,
                group_list(&groups_on(&self.config, &p.name)),
                super::link::RETRY.as_secs()
            );
        }
    }

    /// A reload whose interface list differs: log and remember what was
    /// kept. Returns true when it did (the caller keeps the old config).
    pub(super) fn refuse_interface_change(&mut self, new: &Config) -> bool {
        let Some(msg) = interface_change(&self.config, new) else {
            return false;
        };
        log::error!("reload: {msg}");
        self.reload_kept = Some(msg);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "config globals 'globals'
\toption node_id '1'

config interface 'lan'
\toption device 'lan0'
\toption role 'lan'
\toption address '192.168.42.1/24'
";

    fn cfg(extra: &str) -> Config {
        crate::config::parse_str("t.uci", &format!("{BASE}{extra}")).unwrap()
    }

    #[test]
    fn interface_change_says_what_is_kept_and_why() {
        let old = cfg("");
        assert_eq!(interface_change(&old, &old), None);
        let new = cfg(
            "\nconfig interface 'wan'\n\toption device 'wan0'\n\toption role 'wan'\n\toption address '10.0.0.2/24'\n",
        );
        let m = interface_change(&old, &new).unwrap();
        assert!(m.contains("[lan=lan0 (lan)]"), "{m}");
        assert!(
            m.contains("[lan=lan0 (lan), wan=wan0 (wan)] adds wan"),
            "{m}"
        );
        assert!(m.contains("restart hagw"), "{m}");
        let m = interface_change(&new, &old).unwrap();
        assert!(m.contains("removes wan"), "{m}");
        let moved = crate::config::parse_str("t.uci", &BASE.replace("'lan0'", "'lan9'")).unwrap();
        let m = interface_change(&old, &moved).unwrap();
        assert!(m.contains("changes the device or role of lan"), "{m}");
    }
}
