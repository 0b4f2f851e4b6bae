//! Build `Config` values in Rust for simulator tests (no UCI parsing).
#![allow(dead_code)]

use hagw::config::*;
use hagw::config::{Direction, FirewallAction, Protocol, StateSet};
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
        tracks: Vec::new(),
        notify: None,
        notify_keepalived: false,
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
                    nice: 0,
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
                tracks: Vec::new(),
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
            host_tap: None,
            line: 0,
        });
        self
    }

    /// The sync link: interface `sync` (device sync0, role sync) at `addr`.
    pub fn sync_link(mut self, addr: &str) -> Self {
        self.cfg.interfaces.push(Interface {
            name: "sync".into(),
            device: "sync0".into(),
            role: Role::Sync,
            address: cidr(addr),
            host_tap: None,
            line: 0,
        });
        self
    }

    /// A `conntrack_sync` section on interface `sync` (defaults: multicast,
    /// no key, 30 s resync timeout), adjusted by `f`.
    pub fn conntrack_sync(mut self, f: impl FnOnce(&mut ConntrackSync)) -> Self {
        let mut cs = ConntrackSync::default();
        f(&mut cs);
        self.cfg.conntrack_sync = Some(cs);
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

    /// A static route (`gw` None: on-link through `iface`).
    pub fn route(mut self, target: &str, gw: Option<&str>, iface: &str) -> Self {
        self.cfg.routes.push(Route {
            target: cidr(target),
            gateway: gw.map(ip),
            interface: iface.into(),
            line: 0,
        });
        self
    }

    /// A source NAT rule: traffic from `source` leaving `out_iface` gets `addr`.
    pub fn snat(mut self, rule: u32, out_iface: &str, source: &str, addr: &str) -> Self {
        self.cfg.nat_source.push(NatSource {
            rule,
            description: None,
            outbound_interface: out_iface.into(),
            protocol: None,
            source: Some(cidr(source)),
            destination: None,
            translation_address: AddrRange {
                lo: ip(addr),
                hi: ip(addr),
            },
            translation_port: None,
            line: 0,
        });
        self
    }

    /// A port forward: `proto` to `port` arriving on `in_iface` goes to `to`:`to_port`.
    pub fn dnat(
        mut self,
        rule: u32,
        in_iface: &str,
        proto: Protocol,
        port: u16,
        to: &str,
        to_port: u16,
    ) -> Self {
        self.cfg.nat_destination.push(NatDestination {
            rule,
            description: None,
            inbound_interface: in_iface.into(),
            protocol: Some(proto),
            destination_address: None,
            destination_port: Some(PortRange { lo: port, hi: port }),
            translation_address: ip(to),
            translation_port: Some(to_port),
            line: 0,
        });
        self
    }

    /// A ruleset with `default` action, attached to `iface` in `dir`.
    pub fn ruleset(
        mut self,
        name: &str,
        default: FirewallAction,
        iface: &str,
        dir: Direction,
    ) -> Self {
        self.cfg.firewall_rulesets.push(FirewallRuleset {
            name: name.into(),
            default_action: default,
            line: 0,
        });
        self.cfg.firewall_attaches.push(FirewallAttach {
            interface: iface.into(),
            direction: dir,
            ruleset: name.into(),
            line: 0,
        });
        self
    }

    /// A rule in `ruleset` (matches everything until `f` narrows it).
    pub fn rule(
        mut self,
        ruleset: &str,
        action: FirewallAction,
        f: impl FnOnce(&mut FirewallRule),
    ) -> Self {
        let mut r = FirewallRule {
            ruleset: ruleset.into(),
            description: None,
            protocol: None,
            source: None,
            destination: None,
            source_port: None,
            destination_port: None,
            state: None,
            action,
            line: 0,
        };
        f(&mut r);
        self.cfg.firewall_rules.push(r);
        self
    }

    /// A health track with the defaults of the `track` section (1 s, fall
    /// 3, rise 2, weight 0); `target` is its own next hop; adjusted by `f`.
    pub fn track(
        mut self,
        name: &str,
        kind: TrackKind,
        iface: Option<&str>,
        target: Option<&str>,
        f: impl FnOnce(&mut Track),
    ) -> Self {
        let mut t = Track {
            name: name.into(),
            kind,
            interface: iface.map(Into::into),
            target: target.map(ip),
            next_hop: target.map(ip),
            interval_ms: 1000,
            fall: 3,
            rise: 2,
            weight: 0,
            command: None,
            timeout_ms: 1000,
            line: 0,
        };
        f(&mut t);
        self.cfg.tracks.push(t);
        self
    }

    /// Give every lan/wan interface its host TAP (`hagw-<name>`).
    pub fn host_taps(mut self) -> Self {
        for i in self.cfg.interfaces.iter_mut() {
            if i.role != Role::Sync {
                i.host_tap = Some(format!("hagw-{}", i.name));
            }
        }
        self
    }

    /// Adjust anything else.
    pub fn with(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(&mut self.cfg);
        self
    }

    pub fn build(self) -> Config {
        self.cfg
    }
}

/// `gateway_config` with a sync link (172.16.0.`node`/24) and conntrack
/// sync for the sync group "gw".
pub fn synced_gateway_config(node: u16, prio: u8) -> Config {
    gateway_config(node, prio, |_| {})
        .sync_link(&format!("172.16.0.{node}/24"))
        .conntrack_sync(|cs| cs.sync_group = Some("gw".into()))
        .build()
}

/// The SPEC §6 gateway on node `node` (addresses .node+1 on LAN
/// 192.168.10.0/24 and WAN 10.0.0.0/24): groups lan_gw (VRID 51, VIP
/// 192.168.10.1) and wan_gw (VRID 52, VIP 10.0.0.1) in sync group "gw" at
/// `prio`, SNAT 192.168.10.0/24 → 10.0.0.1 (rule 10), port forward WAN
/// tcp/2222 → 192.168.10.100:22 (rule 20), ruleset wan_in (default drop;
/// established/related, ICMP and the forwarded port accepted).
pub fn gateway_config(node: u16, prio: u8, f: impl Fn(&mut VrrpGroup)) -> ConfigBuilder {
    let last = node + 1;
    ConfigBuilder::new(node)
        .interface("lan", &format!("192.168.10.{last}/24"))
        .interface("wan", &format!("10.0.0.{last}/24"))
        .group("lan_gw", "lan", 51, &["192.168.10.1/24"], |g| {
            g.priority = prio;
            g.sync_group = Some("gw".into());
            f(g)
        })
        .group("wan_gw", "wan", 52, &["10.0.0.1/24"], |g| {
            g.priority = prio;
            g.sync_group = Some("gw".into());
            f(g)
        })
        .snat(10, "wan", "192.168.10.0/24", "10.0.0.1")
        .dnat(20, "wan", Protocol::Tcp, 2222, "192.168.10.100", 22)
        .ruleset("wan_in", FirewallAction::Drop, "wan", Direction::In)
        .rule("wan_in", FirewallAction::Accept, |r| {
            r.state = Some(StateSet {
                established: true,
                related: true,
                ..StateSet::default()
            })
        })
        .rule("wan_in", FirewallAction::Accept, |r| {
            r.protocol = Some(Protocol::Icmp)
        })
        .rule("wan_in", FirewallAction::Accept, |r| {
            r.protocol = Some(Protocol::Tcp);
            r.destination = Some(cidr("192.168.10.100/32"));
            r.destination_port = Some(hagw::config::PortRange { lo: 22, hi: 22 });
        })
}
