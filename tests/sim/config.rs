//! Build `Config` values in Rust for simulator tests (no UCI parsing).

use hagw::config::*;
use std::net::Ipv4Addr;

pub fn cidr(s: &str) -> Ipv4Cidr {
    let (a, l) = s.split_once('/').unwrap_or((s, "24"));
    Ipv4Cidr {
        addr: a.parse().unwrap(),
        prefix_len: l.parse().unwrap(),
    }
}

pub fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// A group with the SPEC §2 defaults (priority 1, preempt, 1 s, v2).
pub fn default_group(name: &str, iface: &str, vrid: u8, vips: &[&str]) -> VrrpGroup {
    VrrpGroup {
        name: name.into(),
        interface: iface.into(),
        vrid,
        virtual_addresses: vips.iter().map(|v| cidr(v)).collect(),
        priority: 1,
        preempt: true,
        preempt_delay_secs: 0,
        advert_interval_cs: 100,
        version: 2,
        rfc3768_compatibility: false,
        auth: VrrpAuth::None,
        sync_group: None,
        track_interfaces: Vec::new(),
        notify: None,
        unicast_peers: Vec::new(),
        garp_repeat: 3,
        garp_refresh_secs: 60,
        v3_checksum_legacy: false,
        line: 0,
    }
}

pub struct ConfigBuilder {
    cfg: Config,
}

impl ConfigBuilder {
    pub fn new(node_id: u16) -> ConfigBuilder {
        ConfigBuilder {
            cfg: Config {
                path: format!("sim-{node_id}"),
                globals: Globals {
                    node_id,
                    log_level: LogLevel::Info,
                    control_socket: "/nonexistent".into(),
                    line: 0,
                },
                interfaces: Vec::new(),
                routes: Vec::new(),
                vrrp_groups: Vec::new(),
                conntrack: Conntrack {
                    max_entries: 1024,
                    external_max_entries: 1024,
                    timeouts: ConntrackTimeouts {
                        tcp_established: 7440,
                        udp_stream: 180,
                        ..ConntrackTimeouts::default()
                    },
                    line: 0,
                },
                firewall_rulesets: Vec::new(),
                firewall_rules: Vec::new(),
                firewall_attaches: Vec::new(),
                nat_source: Vec::new(),
                nat_destination: Vec::new(),
                conntrack_sync: None,
            },
        }
    }

    /// A LAN/WAN interface `name` (device `name`0) with address `addr` ("a.b.c.d/len").
    pub fn interface(mut self, name: &str, addr: &str) -> Self {
        self.cfg.interfaces.push(Interface {
            name: name.into(),
            device: format!("{name}0"),
            role: if name.starts_with("wan") {
                Role::Wan
            } else {
                Role::Lan
            },
            address: cidr(addr),
            line: 0,
        });
        self
    }

    /// A group with defaults, adjusted by `f`.
    pub fn group(
        mut self,
        name: &str,
        iface: &str,
        vrid: u8,
        vips: &[&str],
        f: impl FnOnce(&mut VrrpGroup),
    ) -> Self {
        let mut g = default_group(name, iface, vrid, vips);
        f(&mut g);
        self.cfg.vrrp_groups.push(g);
        self
    }

    pub fn build(self) -> Config {
        self.cfg
    }
}
