//! Stateful firewall: the accept/drop/reject decision for one packet.
//!
//! Owns: the config's rulesets compiled once into a fixed table (per port
//! and direction at most one attached ruleset, rules in config order),
//! first-match evaluation, packet and byte counters per rule and per
//! default action, counters kept across a reload for unchanged rules, and
//! the plain-data view of `hagw show firewall`. Never: parses or rewrites
//! packets, tracks connections (the caller passes the conntrack state),
//! builds the TCP RST or ICMP port-unreachable of a reject (the engine does,
//! with `wire::build`), or allocates per packet.
//!
//! Semantics, for the engine and for operators:
//! * Chains: `In` sees forwarded packets arriving on a port, `Out` sees
//!   forwarded packets leaving through a port (a forwarded packet meets the
//!   ingress port's `In` ruleset, then the egress port's `Out` ruleset),
//!   `Local` sees packets for the router itself arriving on a port (on the
//!   way to its TAP).
//! * Addresses are those between the two NAT steps, like Linux's FORWARD
//!   chain: the destination after DNAT (or after the reverse SNAT of a
//!   reply), the source before SNAT (or before the reverse DNAT of a reply).
//!   Rules are written with the real inside addresses: a port forward to
//!   192.168.10.100:22 is allowed by `destination '192.168.10.100'`,
//!   `destination_port '22'`.
//! * First matching rule wins; no rule matches ⇒ the ruleset's
//!   `default_action`; no ruleset attached to that port and direction ⇒
//!   accept (an unknown port too).
//! * `state` set ⇒ the rule matches only packets in one of those states.
//! * Ports match only TCP and UDP packets: a rule with ports and another
//!   protocol (the validator refuses it) never matches; an ICMP echo's
//!   identifier is not a port here (`Match::from_tuple` zeroes it).
//! * Speed: per ruleset and state, the rules that cannot match that state
//!   are skipped, and when the first one that can has no condition but the
//!   state (`state established,related` accept, the usual first rule) the
//!   verdict is that rule's without a walk (`Plan`); same verdicts and
//!   counters as the plain first-match walk.
//! * Reload: a rule keeps its counters when its ruleset keeps its name and
//!   a rule with the same match and action existed there (order and
//!   description may change); a default action keeps its counters when the
//!   ruleset's name and default action are unchanged. Everything else
//!   starts at zero.

mod rule;

pub(crate) use rule::{MatchText, has_ports, normalised};

use crate::config::{Config, Direction};
use crate::conntrack::{CtState, Tuple};
use crate::engine::PortId;
use rule::RuleMatch;
use std::net::Ipv4Addr;

/// What to do with the packet. `Reject` means: answer TCP with a RST and
/// anything else with ICMP port-unreachable, then drop it.
pub use crate::config::FirewallAction as Action;

/// The packet as rules see it (see the module docs for which addresses).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Match {
    /// IP protocol number.
    pub proto: u8,
    /// Source address before SNAT.
    pub src: Ipv4Addr,
    /// Destination address after DNAT.
    pub dst: Ipv4Addr,
    /// TCP/UDP ports; 0 for other protocols.
    pub sport: u16,
    pub dport: u16,
    pub state: CtState,
}

impl Match {
    /// From a flow tuple (already translated as the module docs say); the
    /// ports of protocols other than TCP and UDP (an ICMP echo identifier)
    /// become 0.
    pub fn from_tuple(t: &Tuple, state: CtState) -> Match {
        let ports = has_ports(t.proto);
        Match {
            proto: t.proto,
            src: t.src,
            dst: t.dst,
            sport: if ports { t.sport } else { 0 },
            dport: if ports { t.dport } else { 0 },
            state,
        }
    }
}

/// Packets and bytes that took one rule or a default action.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub packets: u64,
    pub bytes: u64,
}

impl Counters {
    fn add(&mut self, bytes: usize) {
        self.packets = self.packets.wrapping_add(1);
        self.bytes = self.bytes.wrapping_add(bytes as u64);
    }
}

#[derive(Clone)]
struct Rule {
    description: Option<String>,
    m: RuleMatch,
    action: Action,
    counters: Counters,
}

#[derive(Clone)]
struct Ruleset {
    name: String,
    default_action: Action,
    default: Counters,
    rules: Vec<Rule>,
    /// (interface name, direction) pairs it is attached to, config order.
    attached: Vec<(String, Direction)>,
    /// Per `CtState` (`state_index`): where the first-match walk starts.
    plans: [Plan; 4],
}

/// For one ruleset and one conntrack state: the first rule that can match
/// a packet in that state (`rules.len()`: none, the default action), and
/// whether it matches every such packet (nothing to walk).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
struct Plan {
    first: usize,
    fixed: bool,
}

fn state_index(s: CtState) -> usize {
    match s {
        CtState::New => 0,
        CtState::Established => 1,
        CtState::Related => 2,
        CtState::Invalid => 3,
    }
}

impl Ruleset {
    fn plan(rules: &[Rule]) -> [Plan; 4] {
        [
            CtState::New,
            CtState::Established,
            CtState::Related,
            CtState::Invalid,
        ]
        .map(|st| {
            let first = rules
                .iter()
                .position(|r| r.m.admits(st))
                .unwrap_or(rules.len());
            let fixed = rules.get(first).is_none_or(|r| r.m.state_only());
            Plan { first, fixed }
        })
    }
}

const DIRECTIONS: usize = 3;

fn dir_index(d: Direction) -> usize {
    match d {
        Direction::In => 0,
        Direction::Out => 1,
        Direction::Local => 2,
    }
}

/// The compiled rulesets and which one each port and direction uses.
#[derive(Clone)]
pub struct Firewall {
    rulesets: Vec<Ruleset>,
    /// Per port (index in `Config::interfaces`): ruleset index per direction.
    attached: Vec<[Option<usize>; DIRECTIONS]>,
}

impl Firewall {
    pub fn new(cfg: &Config) -> Firewall {
        let mut rulesets: Vec<Ruleset> = cfg
            .firewall_rulesets
            .iter()
            .map(|rs| Ruleset {
                name: rs.name.clone(),
                default_action: rs.default_action,
                default: Counters::default(),
                rules: cfg
                    .firewall_rules
                    .iter()
                    .filter(|r| r.ruleset == rs.name)
                    .map(|r| Rule {
                        description: r.description.clone(),
                        m: RuleMatch::compile(r),
                        action: r.action,
                        counters: Counters::default(),
                    })
                    .collect(),
                attached: Vec::new(),
                plans: [Plan::default(); 4],
            })
            .collect();
        for rs in rulesets.iter_mut() {
            rs.plans = Ruleset::plan(&rs.rules);
        }
        let mut attached = vec![[None; DIRECTIONS]; cfg.interfaces.len()];
        for a in &cfg.firewall_attaches {
            let port = cfg.interface_index(&a.interface);
            let set = rulesets.iter().position(|rs| rs.name == a.ruleset);
            let slot = port
                .and_then(|p| attached.get_mut(p))
                .and_then(|slots| slots.get_mut(dir_index(a.direction)));
            if let (Some(slot), Some(set)) = (slot, set) {
                // The validator allows one ruleset per port and direction;
                // should two arrive anyway, the first stays.
                if slot.is_none() {
                    *slot = Some(set);
                    if let Some(rs) = rulesets.get_mut(set) {
                        rs.attached.push((a.interface.clone(), a.direction));
                    }
                }
            }
        }
        Firewall { rulesets, attached }
    }

    /// True when a ruleset is attached to `port` in `dir` (so the engine can
    /// skip building a `Match` where `check` would accept anyway).
    pub fn is_attached(&self, port: PortId, dir: Direction) -> bool {
        self.ruleset_index(port, dir).is_some()
    }

    fn ruleset_index(&self, port: PortId, dir: Direction) -> Option<usize> {
        self.attached
            .get(port)
            .and_then(|a| a.get(dir_index(dir)).copied().flatten())
    }

    /// The decision for one packet of `bytes` bytes (counted on the rule or
    /// default action that decided).
    #[inline]
    pub fn check(&mut self, port: PortId, dir: Direction, m: &Match, bytes: usize) -> Action {
        let Some(rs) = self
            .ruleset_index(port, dir)
            .and_then(|i| self.rulesets.get_mut(i))
        else {
            return Action::Accept;
        };
        let plan = rs
            .plans
            .get(state_index(m.state))
            .copied()
            .unwrap_or_default();
        let rules = rs.rules.get_mut(plan.first..).unwrap_or_default();
        if plan.fixed {
            if let Some(r) = rules.first_mut() {
                r.counters.add(bytes);
                return r.action;
            }
        } else {
            for r in rules.iter_mut() {
                if r.m.matches(m) {
                    r.counters.add(bytes);
                    return r.action;
                }
            }
        }
        rs.default.add(bytes);
        rs.default_action
    }

    /// Switch to a new config's rulesets, keeping the counters of what did
    /// not change (module docs).
    pub fn reload(&mut self, cfg: &Config) {
        let mut next = Firewall::new(cfg);
        for rs in next.rulesets.iter_mut() {
            let Some(old) = self.rulesets.iter().find(|o| o.name == rs.name) else {
                continue;
            };
            if old.default_action == rs.default_action {
                rs.default = old.default;
            }
            let mut taken = vec![false; old.rules.len()];
            for r in rs.rules.iter_mut() {
                let same = old
                    .rules
                    .iter()
                    .zip(taken.iter_mut())
                    .find(|(o, taken)| !**taken && o.action == r.action && o.m == r.m);
                if let Some((o, taken)) = same {
                    *taken = true;
                    r.counters = o.counters;
                }
            }
        }
        *self = next;
    }

    /// Every ruleset (config order) with its attachments and counters.
    pub fn snapshot(&self) -> FirewallSnapshot {
        FirewallSnapshot {
            rulesets: self
                .rulesets
                .iter()
                .map(|rs| RulesetSnapshot {
                    name: rs.name.clone(),
                    attached: rs.attached.clone(),
                    rules: rs
                        .rules
                        .iter()
                        .enumerate()
                        .map(|(i, r)| RuleSnapshot {
                            number: i + 1,
                            description: r.description.clone(),
                            matches: r.m.summary(),
                            action: r.action,
                            counters: r.counters,
                        })
                        .collect(),
                    default_action: rs.default_action,
                    default: rs.default,
                })
                .collect(),
        }
    }
}

/// `hagw show firewall`: plain data, rendered by the CLI.
#[derive(Clone, Debug, PartialEq)]
pub struct FirewallSnapshot {
    pub rulesets: Vec<RulesetSnapshot>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RulesetSnapshot {
    pub name: String,
    /// Interface name and direction of each attachment.
    pub attached: Vec<(String, Direction)>,
    pub rules: Vec<RuleSnapshot>,
    pub default_action: Action,
    /// Packets that matched no rule.
    pub default: Counters,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RuleSnapshot {
    /// Position in the ruleset, from 1.
    pub number: usize,
    pub description: Option<String>,
    /// e.g. `tcp dport 22 state new`, `all` for a rule without conditions.
    pub matches: String,
    pub action: Action,
    pub counters: Counters,
}

#[cfg(test)]
mod tests;
