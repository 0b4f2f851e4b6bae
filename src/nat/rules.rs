//! The compiled NAT rules: what a `nat_source` or `nat_destination`
//! section matches and translates to, with ports resolved to `PortId`s and
//! prefixes normalised, so an unchanged rule compares equal across a
//! reload. Never: allocates ports or keeps counters beyond its own.

use super::alloc::{DEFAULT_PORTS, ICMP_IDS};
use super::{NatKind, NatRuleSnapshot};
use crate::config::{AddrRange, Config, Ipv4Cidr, NatDestination, NatSource, PortRange, Protocol};
use crate::conntrack::Tuple;
use crate::engine::PortId;
use crate::firewall::{MatchText, has_ports, normalised};
use std::net::Ipv4Addr;

/// Counters of one NAT rule.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleCounters {
    /// Flows translated by the rule (new sessions; their packets are
    /// counted on the sessions).
    pub sessions: u64,
    /// DNAT only: of those, flows reflected back into the LAN (hairpin).
    pub hairpin_sessions: u64,
    /// SNAT: flows with no free mapping. DNAT: hairpinned flows whose SNAT
    /// found no free port.
    pub exhausted: u64,
}

/// One compiled rule: `spec` decides, the rest is for `show`.
#[derive(Clone)]
pub(crate) struct Rule<S> {
    pub(crate) spec: S,
    pub(crate) description: Option<String>,
    /// The interface name (outbound for SNAT, inbound for DNAT).
    pub(crate) interface: String,
    pub(crate) counters: RuleCounters,
}

/// What `show` and the rule order need from a SNAT or DNAT spec.
pub(crate) trait Spec: PartialEq {
    const KIND: NatKind;
    fn number(&self) -> u32;
    fn match_text(&self) -> String;
    fn translation_text(&self) -> String;
}

impl<S: Spec> Rule<S> {
    pub(crate) fn snapshot(&self) -> NatRuleSnapshot {
        NatRuleSnapshot {
            kind: S::KIND,
            rule: self.spec.number(),
            description: self.description.clone(),
            interface: self.interface.clone(),
            matches: self.spec.match_text(),
            translation: self.spec.translation_text(),
            counters: self.counters,
        }
    }

    /// Take the counters of the equal rule in `old`, if any.
    pub(crate) fn carry_counters(rules: &mut [Rule<S>], old: &[Rule<S>]) {
        for r in rules.iter_mut() {
            if let Some(o) = old.iter().find(|o| o.spec == r.spec) {
                r.counters = o.counters;
            }
        }
    }
}

/// Rules in ascending rule number (the order they are tried in).
fn compile<C, S: Spec>(
    cfg: &Config,
    items: &[C],
    interface: impl Fn(&C) -> &str,
    description: impl Fn(&C) -> Option<String>,
    spec: impl Fn(&C, Option<PortId>) -> S,
) -> Vec<Rule<S>> {
    let mut rules: Vec<Rule<S>> = items
        .iter()
        .map(|c| Rule {
            spec: spec(c, cfg.interface_index(interface(c))),
            description: description(c),
            interface: interface(c).to_string(),
            counters: RuleCounters::default(),
        })
        .collect();
    rules.sort_by_key(|r| r.spec.number());
    rules
}

fn proto_matches(rule: Option<u8>, t: &Tuple) -> bool {
    rule.is_none_or(|p| p == t.proto)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SnatSpec {
    pub(crate) number: u32,
    /// `None` when the interface is unknown: the rule never matches.
    pub(crate) out_port: Option<PortId>,
    pub(crate) proto: Option<u8>,
    pub(crate) src: Option<Ipv4Cidr>,
    pub(crate) dst: Option<Ipv4Cidr>,
    pub(crate) addrs: AddrRange,
    pub(crate) ports: Option<PortRange>,
}

impl SnatSpec {
    pub(crate) fn compile_all(cfg: &Config) -> Vec<Rule<SnatSpec>> {
        compile(
            cfg,
            &cfg.nat_source,
            |c: &NatSource| &c.outbound_interface,
            |c| c.description.clone(),
            |c, out_port| SnatSpec {
                number: c.rule,
                out_port,
                proto: c.protocol.map(Protocol::number),
                src: c.source.map(normalised),
                dst: c.destination.map(normalised),
                addrs: c.translation_address,
                ports: c.translation_port,
            },
        )
    }

    /// `t` is the flow as it leaves (destination already DNATed).
    pub(crate) fn matches(&self, out_port: PortId, t: &Tuple) -> bool {
        self.out_port == Some(out_port)
            && proto_matches(self.proto, t)
            && self.src.is_none_or(|c| c.contains(t.src))
            && self.dst.is_none_or(|c| c.contains(t.dst))
    }
}

impl Spec for SnatSpec {
    const KIND: NatKind = NatKind::Source;
    fn number(&self) -> u32 {
        self.number
    }

    fn match_text(&self) -> String {
        let mut m = MatchText::default();
        m.proto(self.proto);
        m.prefix("src", self.src);
        m.prefix("dst", self.dst);
        m.finish()
    }

    /// `10.0.0.1 ports 1024-65535` (the effective TCP/UDP range:
    /// configured or default); an ICMP rule shows its identifier range,
    /// another protocol the address alone.
    fn translation_text(&self) -> String {
        match self.proto {
            Some(p) if p == Protocol::Icmp.number() => format!("{} ids {ICMP_IDS}", self.addrs),
            Some(p) if !has_ports(p) => self.addrs.to_string(),
            _ => format!(
                "{} ports {}",
                self.addrs,
                self.ports.unwrap_or(DEFAULT_PORTS)
            ),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DnatSpec {
    pub(crate) number: u32,
    /// `None` when the interface is unknown: the rule never matches.
    pub(crate) in_port: Option<PortId>,
    pub(crate) proto: Option<u8>,
    /// `None`: any address of the inbound interface (own or virtual).
    pub(crate) dst: Option<Ipv4Addr>,
    pub(crate) dports: Option<PortRange>,
    pub(crate) to_addr: Ipv4Addr,
    pub(crate) to_port: Option<u16>,
}

impl DnatSpec {
    pub(crate) fn compile_all(cfg: &Config) -> Vec<Rule<DnatSpec>> {
        compile(
            cfg,
            &cfg.nat_destination,
            |c: &NatDestination| &c.inbound_interface,
            |c| c.description.clone(),
            |c, in_port| DnatSpec {
                number: c.rule,
                in_port,
                proto: c.protocol.map(Protocol::number),
                dst: c.destination_address,
                dports: c.destination_port,
                to_addr: c.translation_address,
                to_port: c.translation_port,
            },
        )
    }

    /// Protocol and destination port (a port condition needs TCP or UDP).
    pub(crate) fn matches_l4(&self, t: &Tuple) -> bool {
        proto_matches(self.proto, t)
            && self
                .dports
                .is_none_or(|r| has_ports(t.proto) && r.contains(t.dport))
    }

    /// True when `t.dst` is the address the rule forwards: the configured
    /// one, else one of the inbound interface's addresses.
    pub(crate) fn addressed(
        &self,
        in_port: PortId,
        t: &Tuple,
        is_addr_of: &impl Fn(PortId, Ipv4Addr) -> bool,
    ) -> bool {
        match self.dst {
            Some(a) => a == t.dst,
            None => is_addr_of(in_port, t.dst),
        }
    }
}

impl Spec for DnatSpec {
    const KIND: NatKind = NatKind::Destination;
    fn number(&self) -> u32 {
        self.number
    }

    fn match_text(&self) -> String {
        let mut m = MatchText::default();
        m.proto(self.proto);
        m.prefix(
            "dst",
            self.dst.map(|addr| Ipv4Cidr {
                addr,
                prefix_len: 32,
            }),
        );
        m.ports("dport", self.dports);
        m.finish()
    }

    /// `192.168.10.100 port 22`, or the address alone when the port is kept.
    fn translation_text(&self) -> String {
        match self.to_port {
            Some(p) => format!("{} port {p}", self.to_addr),
            None => self.to_addr.to_string(),
        }
    }
}
