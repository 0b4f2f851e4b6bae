//! NAT decisions: source NAT (with port allocation), destination NAT (port
//! forwarding) and hairpin reflection, for the first packet of a flow.
//!
//! Owns: the `nat_source` and `nat_destination` rules compiled once (tried
//! in ascending rule number), the SNAT allocator (`alloc`), the node's share
//! of each port range, per-rule counters and the view of `hagw show nat
//! rules`. Never: parses or rewrites packets (the engine does, with
//! `wire::rewrite`), stores sessions (conntrack does; a session carries its
//! mapping, so only new flows come here), or decides whether a mapping is
//! taken (the caller's `in_use`, a conntrack lookup, decides).
//!
//! Source NAT (SPEC §3):
//! * The first rule whose outbound interface, protocol, source and
//!   destination prefix match translates; `t` is the flow as it leaves, its
//!   destination already DNATed (Linux's POSTROUTING view).
//! * Address: with a range, a fixed-key hash of the client address picks
//!   one, so a client keeps one public address (Linux's default), the same
//!   on every router. Protocols without ports take the next addresses of
//!   the range if the client's is taken for that destination.
//! * Port: kept when the reply tuple `(dst:dport -> addr:sport)` is not
//!   `in_use` and the port lies in this node's share (and in
//!   `translation_port` if configured); else a search from a keyed-hash
//!   offset (secret per process) with at most `MAX_PROBES` `in_use` calls:
//!   128 consecutive ports, then 64, 32 and 16 from fresh offsets, like
//!   Linux's nf_nat_l4proto_unique_tuple. A range of at most 128 ports is
//!   searched completely. Every candidate is checked, so two flows never
//!   get one reply tuple as long as the caller inserts each mapping before
//!   asking for the next. Nothing found ⇒ `Snat::Exhausted` (counted).
//! * Ranges: TCP/UDP `translation_port`, default 1024–65535 (a flow whose
//!   original port is below 1024 keeps it when free, as on Linux, unless a
//!   range is configured or the port is outside this node's half); ICMP
//!   echo identifiers are translated the same way over 1–65535; other
//!   protocols keep their (absent) ports and change the address only.
//! * No masquerade: the translation address is always configured.
//!
//! Load sharing with sync (SPEC §4a): with conntrack_sync on, both routers
//! may forward at once and each syncs its sessions to the other, so they
//! must never create the same reply tuple. `PortShare::Half` makes each node
//! allocate from its own half of every range (node_id parity: odd ids the
//! lower half, even ids the upper; give the two routers ids of different
//! parity, e.g. 1 and 2). The trade-off: a client's source port survives
//! translation only when it already lies in this node's half (about half of
//! the flows keep their port instead of nearly all), and each node has half
//! the ports per (public address, destination). Protocols without ports
//! cannot be split: two nodes could map two clients of one address range
//! to the same address pair; `in_use` protects each node's own table only.
//!
//! Destination NAT and hairpin:
//! * The first rule (lowest number) whose protocol, destination port and
//!   destination address match translates to `translation_address` and
//!   `translation_port` (when unset the port is kept). Without
//!   `destination_address` the rule forwards any address of its inbound
//!   interface, own or virtual: the caller's `is_addr_of` says which.
//! * Arriving on the rule's inbound interface ⇒ plain DNAT. Arriving on a
//!   `lan` interface while addressed to the rule's interface ⇒ the same
//!   DNAT with `hairpin: true` (NAT reflection, as OpenWrt does for its
//!   internal zones): the engine then SNATs the flow with `hairpin_snat` to
//!   an address of the egress interface (`hairpin_source` picks it) so the
//!   server answers through the router, not straight to the client.

mod alloc;
mod rules;

pub use alloc::{DEFAULT_PORTS, FIRST_ROUND, ICMP_IDS, MAX_PROBES};
pub use rules::RuleCounters;

use crate::config::{AddrRange, Config, Ipv4Cidr, Role};
use crate::conntrack::Tuple;
use crate::engine::PortId;
use crate::hash::SipKey;
use alloc::Alloc;
use rules::{DnatSpec, Rule, SnatSpec};
use std::net::Ipv4Addr;

/// Which part of each SNAT port range this node allocates from.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PortShare {
    /// The whole range (no conntrack sync).
    All,
    /// The lower or upper half (conntrack sync on: see the module docs).
    Half { upper: bool },
}

impl PortShare {
    /// `All` without conntrack_sync; with it, the lower half on an odd
    /// node_id and the upper half on an even one.
    pub fn for_config(cfg: &Config) -> PortShare {
        match cfg.conntrack_sync {
            None => PortShare::All,
            Some(_) => PortShare::Half {
                upper: cfg.globals.node_id % 2 == 0,
            },
        }
    }
}

/// The answer of `Nat::snat` (and `hairpin_snat`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Snat {
    /// No source NAT rule matches: forward untranslated.
    NoRule,
    /// Rewrite the source to `addr` and the source port (ICMP: the echo
    /// identifier) to `port` (protocols without ports: `port` is the
    /// unchanged 0); `rule` is the SNAT rule number (for `hairpin_snat`:
    /// the DNAT rule's). The session's reply tuple is `snat_reply`.
    Mapped {
        addr: Ipv4Addr,
        port: u16,
        rule: u32,
    },
    /// A rule matches but no free mapping was found: drop the flow.
    Exhausted { rule: u32 },
}

/// The answer of `Nat::dnat`: rewrite the destination to `addr:port`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Dnat {
    pub addr: Ipv4Addr,
    /// The new destination port (the old one when the rule keeps it).
    pub port: u16,
    pub rule: u32,
    /// The flow came from a LAN port, not the rule's inbound interface:
    /// SNAT it too (`hairpin_snat`).
    pub hairpin: bool,
}

/// `t` (the original-direction tuple) after SNAT to `addr`/`port`. ICMP echo
/// keeps its identifier in both port fields, so both change.
pub fn snat_tuple(t: &Tuple, addr: Ipv4Addr, port: u16) -> Tuple {
    let dport = if t.proto == 1 { port } else { t.dport };
    Tuple::new(t.proto, addr, port, t.dst, dport)
}

/// The reply-direction tuple of `t` after SNAT to `addr`/`port`: the key
/// that must be free (what `in_use` is asked about).
pub fn snat_reply(t: &Tuple, addr: Ipv4Addr, port: u16) -> Tuple {
    snat_tuple(t, addr, port).reversed()
}

/// The source address for a hairpinned flow leaving through an interface
/// with own address `own` (with its prefix): the first of `master_vips`
/// (the virtual addresses this router holds as master on that interface)
/// inside the interface's subnet, else `own`. A VIP is preferred because
/// with conntrack sync the session moves to the peer on failover and the
/// server's replies must reach whoever is master; the peer can own the VIP,
/// never this router's own address.
pub fn hairpin_source(own: Ipv4Cidr, master_vips: &[Ipv4Addr]) -> Ipv4Addr {
    master_vips
        .iter()
        .copied()
        .find(|v| own.contains(*v))
        .unwrap_or(own.addr)
}

/// The NAT rules and the allocator.
#[derive(Clone)]
pub struct Nat {
    snat: Vec<Rule<SnatSpec>>,
    dnat: Vec<Rule<DnatSpec>>,
    /// Per port: true for role `lan` (where hairpin flows may come from).
    lan: Vec<bool>,
    alloc: Alloc,
}

impl Nat {
    /// Rules from `cfg`; port searches keyed with a per-process random key.
    pub fn new(cfg: &Config, share: PortShare) -> Nat {
        Nat::with_key(cfg, share, SipKey::random())
    }

    /// As `new` with a given search key (deterministic runs: the simulator,
    /// tests).
    pub fn with_key(cfg: &Config, share: PortShare, key: SipKey) -> Nat {
        Nat {
            snat: SnatSpec::compile_all(cfg),
            dnat: DnatSpec::compile_all(cfg),
            lan: cfg.interfaces.iter().map(|i| i.role == Role::Lan).collect(),
            alloc: Alloc::new(key, share),
        }
    }

    /// Switch to `cfg`'s rules and `share`, keeping the key, the global
    /// counters and the counters of rules whose number, match and
    /// translation are unchanged (a new description keeps them too).
    pub fn reload(&mut self, cfg: &Config, share: PortShare) {
        let mut snat = SnatSpec::compile_all(cfg);
        Rule::carry_counters(&mut snat, &self.snat);
        let mut dnat = DnatSpec::compile_all(cfg);
        Rule::carry_counters(&mut dnat, &self.dnat);
        self.snat = snat;
        self.dnat = dnat;
        self.lan = cfg.interfaces.iter().map(|i| i.role == Role::Lan).collect();
        self.alloc.share = share;
    }

    /// Source NAT for the first packet of flow `t` leaving through
    /// `out_port` (module docs). `in_use(reply)` must say whether a session
    /// already has that reply tuple.
    pub fn snat(
        &mut self,
        out_port: PortId,
        t: &Tuple,
        mut in_use: impl FnMut(&Tuple) -> bool,
    ) -> Snat {
        let Some(rule) = self.snat.iter_mut().find(|r| r.spec.matches(out_port, t)) else {
            return Snat::NoRule;
        };
        let found = self
            .alloc
            .map(t, rule.spec.addrs, rule.spec.ports, &mut in_use);
        count(&mut rule.counters, found.is_some());
        result(found, rule.spec.number)
    }

    /// Destination NAT for the first packet of flow `t` arriving on
    /// `in_port`; `is_addr_of(port, a)` says whether `a` is that port's own
    /// address or one of its current virtual addresses.
    pub fn dnat(
        &mut self,
        in_port: PortId,
        t: &Tuple,
        is_addr_of: impl Fn(PortId, Ipv4Addr) -> bool,
    ) -> Option<Dnat> {
        let from_lan = self.lan.get(in_port).copied().unwrap_or(false);
        let rule = self.dnat.iter_mut().find(|r| {
            let Some(rule_port) = r.spec.in_port else {
                return false;
            };
            (rule_port == in_port || from_lan)
                && r.spec.matches_l4(t)
                && r.spec.addressed(rule_port, t, &is_addr_of)
        })?;
        let hairpin = rule.spec.in_port != Some(in_port);
        let c = &mut rule.counters;
        c.sessions = c.sessions.wrapping_add(1);
        if hairpin {
            c.hairpin_sessions = c.hairpin_sessions.wrapping_add(1);
        }
        Some(Dnat {
            addr: rule.spec.to_addr,
            port: rule.spec.to_port.unwrap_or(t.dport),
            rule: rule.spec.number,
            hairpin,
        })
    }

    /// The SNAT half of a hairpin: `t` is the flow after `d` rewrote its
    /// destination, `src` the address to use (`hairpin_source`). Ports come
    /// from the default ranges and this node's share, like any SNAT.
    /// Exhaustion is counted on the DNAT rule.
    pub fn hairpin_snat(
        &mut self,
        d: &Dnat,
        t: &Tuple,
        src: Ipv4Addr,
        mut in_use: impl FnMut(&Tuple) -> bool,
    ) -> Snat {
        let one = AddrRange { lo: src, hi: src };
        let found = self.alloc.map(t, one, None, &mut in_use);
        if found.is_none() {
            if let Some(r) = self.dnat.iter_mut().find(|r| r.spec.number == d.rule) {
                r.counters.exhausted = r.counters.exhausted.wrapping_add(1);
            }
        }
        result(found, d.rule)
    }

    /// Rules (source, then destination, each by number) and allocator counters.
    pub fn snapshot(&self) -> NatSnapshot {
        NatSnapshot {
            share: self.alloc.share,
            probes: self.alloc.probes,
            exhausted: self.alloc.exhausted,
            rules: (self.snat.iter().map(Rule::snapshot))
                .chain(self.dnat.iter().map(Rule::snapshot))
                .collect(),
        }
    }
}

fn count(c: &mut RuleCounters, mapped: bool) {
    if mapped {
        c.sessions = c.sessions.wrapping_add(1);
    } else {
        c.exhausted = c.exhausted.wrapping_add(1);
    }
}

fn result(found: Option<(Ipv4Addr, u16)>, rule: u32) -> Snat {
    match found {
        Some((addr, port)) => Snat::Mapped { addr, port, rule },
        None => Snat::Exhausted { rule },
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum NatKind {
    Source,
    Destination,
}

/// `hagw show nat rules`: plain data, rendered by the CLI.
#[derive(Clone, Debug, PartialEq)]
pub struct NatSnapshot {
    pub share: PortShare,
    /// `in_use` calls made by port searches.
    pub probes: u64,
    /// Flows (SNAT and hairpin) that found no free mapping.
    pub exhausted: u64,
    pub rules: Vec<NatRuleSnapshot>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NatRuleSnapshot {
    pub kind: NatKind,
    pub rule: u32,
    pub description: Option<String>,
    /// Outbound interface (SNAT) or inbound interface (DNAT).
    pub interface: String,
    /// e.g. `tcp src 192.168.10.0/24`, `tcp dport 2222`; `all` when empty.
    pub matches: String,
    /// e.g. `10.0.0.1 ports 1024-65535`, `192.168.10.100 port 22`.
    pub translation: String,
    pub counters: RuleCounters,
}

#[cfg(test)]
mod tests;
