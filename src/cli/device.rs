//! The device facts of `hagw show interfaces` / `show vrrp` (issue 8,
//! operations under faults): a missing device, kernel IPv4 addresses on a
//! hagw-owned device (SPEC §1) and the conflicts warned about, as text
//! lines and JSON. Owns only formatting; the daemon fills `DeviceState`.

use super::json::Json;
use crate::engine::{PortStatus, Snapshot};
use std::fmt::Write;

/// The device of interface `name` when the daemon found it missing.
pub fn missing_device<'a>(snap: &'a Snapshot, name: &str) -> Option<&'a str> {
    snap.ports
        .iter()
        .find(|p| p.name == name && p.device_state.missing)
        .map(|p| p.device.as_str())
}

/// The kernel-ownership line of one port (nothing when all is clean).
pub fn kernel_lines(out: &mut String, p: &PortStatus) {
    let d = &p.device_state;
    if d.kernel_ipv4.is_empty() && d.kernel_conflicts == 0 {
        return;
    }
    let addrs: Vec<String> = d.kernel_ipv4.iter().map(|a| a.to_string()).collect();
    let _ = writeln!(
        out,
        "  kernel IPv4 on this hagw-owned device: {}; conflicts warned: {}",
        if addrs.is_empty() {
            "none now".to_string()
        } else {
            format!("{} (remove it)", addrs.join(" "))
        },
        d.kernel_conflicts
    );
}

pub fn state_json(p: &PortStatus) -> Json {
    let d = &p.device_state;
    let addrs: Vec<Json> = d
        .kernel_ipv4
        .iter()
        .map(|a| Json::from(a.to_string()))
        .collect();
    Json::object()
        .field("missing", d.missing)
        .field("kernel_ipv4", addrs)
        .field("kernel_conflicts", d.kernel_conflicts)
}

#[cfg(test)]
mod tests {
    use crate::cli::show::answer;
    use crate::cli::show::tests::{snap, spec_summary_group};
    use crate::config::{Ipv4Cidr, Role};
    use crate::engine::{DeviceState, PortStatus};
    use crate::time::Instant;

    fn cidr(s: &str) -> Ipv4Cidr {
        let (a, l) = s.split_once('/').unwrap();
        Ipv4Cidr {
            addr: a.parse().unwrap(),
            prefix_len: l.parse().unwrap(),
        }
    }

    fn port(missing: bool, kernel: &[&str], conflicts: u32) -> PortStatus {
        PortStatus {
            device_state: DeviceState {
                missing,
                kernel_ipv4: kernel.iter().map(|k| cidr(k)).collect(),
                kernel_conflicts: conflicts,
            },
            ..PortStatus::new("eth1", "lan9", Role::Lan, cidr("172.16.42.2/24"))
        }
    }

    const NOW: Instant = Instant::from_secs(1000);

    #[test]
    fn missing_device_is_named_in_interfaces_and_vrrp() {
        let mut g = spec_summary_group();
        g.interface = "eth1".into();
        let s = snap(vec![g], vec![port(true, &[], 0)]);
        let t = answer("interfaces", &s, NOW).unwrap();
        assert!(
            t.contains("Interface eth1 (device lan9, role lan): missing"),
            "{t}"
        );
        let v = answer("vrrp", &s, NOW).unwrap();
        assert!(v.contains(" missing "), "{v}");
        let d = answer("vrrp detail", &s, NOW).unwrap();
        assert!(
            d.contains("device lan9 of interface eth1 is missing"),
            "{d}"
        );
        let j = answer("interfaces --json", &s, NOW).unwrap();
        assert!(j.contains("\"missing\": true"), "{j}");
        let m = answer("metrics", &s, NOW).unwrap();
        assert!(
            m.contains(
                "hagw_interface_device_missing{interface=\"eth1\",device=\"lan9\",role=\"lan\"} 1"
            ),
            "{m}"
        );
        // Present: none of it.
        let s = snap(Vec::new(), vec![port(false, &[], 0)]);
        let t = answer("interfaces", &s, NOW).unwrap();
        assert!(!t.contains("missing") && !t.contains("kernel"), "{t}");
    }

    #[test]
    fn kernel_addresses_and_reload_note_are_shown() {
        let mut s = snap(Vec::new(), vec![port(false, &["172.16.42.9/24"], 1)]);
        s.reload_kept = Some("kept [eth1=lan9 (lan)]".into());
        let t = answer("interfaces", &s, NOW).unwrap();
        assert!(t.starts_with("Reload: kept [eth1=lan9 (lan)]\n"), "{t}");
        assert!(
            t.contains("kernel IPv4 on this hagw-owned device: 172.16.42.9/24 (remove it); conflicts warned: 1"),
            "{t}"
        );
        let j = answer("interfaces --json", &s, NOW).unwrap();
        assert!(j.contains("\"kernel_conflicts\": 1"), "{j}");
        let m = answer("metrics", &s, NOW).unwrap();
        assert!(
            m.contains("hagw_interface_kernel_ipv4_addresses{interface=\"eth1\",device=\"lan9\",role=\"lan\"} 1"),
            "{m}"
        );
        assert!(j.contains("\"172.16.42.9/24\""), "{j}");
        assert!(
            j.contains("\"reload_kept\": \"kept [eth1=lan9 (lan)]\""),
            "{j}"
        );
    }
}
