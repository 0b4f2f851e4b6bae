//! One compiled firewall rule match: what a `firewall_rule` section tests,
//! normalised once (prefixes reduced to their network, protocol as a
//! number) so that two rules that match the same packets compare equal,
//! and the one-line summary `show firewall` prints. Never: counts,
//! decides actions, or knows about rulesets.

use super::Match;
use crate::config::{FirewallRule, Ipv4Cidr, PortRange, Protocol, StateSet};
use crate::conntrack::CtState;
use std::fmt::Write;

/// IP protocols whose header starts with 16-bit source and destination
/// ports that rules can match (TCP, UDP).
pub(crate) fn has_ports(proto: u8) -> bool {
    proto == Protocol::Tcp.number() || proto == Protocol::Udp.number()
}

/// A prefix with its host bits cleared, so `10.0.0.5/24` equals `10.0.0.0/24`.
pub(crate) fn normalised(c: Ipv4Cidr) -> Ipv4Cidr {
    Ipv4Cidr {
        addr: c.network(),
        prefix_len: c.prefix_len.min(32),
    }
}

/// What one rule tests; every `None` matches anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RuleMatch {
    proto: Option<u8>,
    src: Option<Ipv4Cidr>,
    dst: Option<Ipv4Cidr>,
    sport: Option<PortRange>,
    dport: Option<PortRange>,
    state: Option<StateSet>,
}

impl RuleMatch {
    pub(crate) fn compile(r: &FirewallRule) -> RuleMatch {
        RuleMatch {
            proto: r.protocol.map(Protocol::number),
            src: r.source.map(normalised),
            dst: r.destination.map(normalised),
            sport: r.source_port,
            dport: r.destination_port,
            state: r.state,
        }
    }

    /// True when the packet matches every condition. A port condition
    /// needs a TCP or UDP packet, so a rule with ports and another protocol
    /// (which the validator refuses anyway) never matches.
    pub(crate) fn matches(&self, m: &Match) -> bool {
        if self.proto.is_some_and(|p| p != m.proto) {
            return false;
        }
        if (self.sport.is_some() || self.dport.is_some()) && !has_ports(m.proto) {
            return false;
        }
        self.sport.is_none_or(|r| r.contains(m.sport))
            && self.dport.is_none_or(|r| r.contains(m.dport))
            && self.src.is_none_or(|c| c.contains(m.src))
            && self.dst.is_none_or(|c| c.contains(m.dst))
            && self.state.is_none_or(|s| state_in(s, m.state))
    }

    /// False when the rule's state condition excludes `state` (then it
    /// matches no packet in that state).
    pub(crate) fn admits(&self, state: CtState) -> bool {
        self.state.is_none_or(|s| state_in(s, state))
    }

    /// True when the state is the rule's only condition (it matches every
    /// packet it `admits`).
    pub(crate) fn state_only(&self) -> bool {
        self.proto.is_none()
            && self.src.is_none()
            && self.dst.is_none()
            && self.sport.is_none()
            && self.dport.is_none()
    }

    /// e.g. `tcp src 192.168.1.0/24 dport 22 state new`; `all` when empty.
    pub(crate) fn summary(&self) -> String {
        let mut t = MatchText::default();
        t.proto(self.proto);
        t.prefix("src", self.src);
        t.prefix("dst", self.dst);
        t.ports("sport", self.sport);
        t.ports("dport", self.dport);
        if let Some(s) = self.state {
            t.word("state", s);
        }
        t.finish()
    }
}

/// True when `set` names `state`.
fn state_in(set: StateSet, state: CtState) -> bool {
    match state {
        CtState::New => set.new,
        CtState::Established => set.established,
        CtState::Related => set.related,
        CtState::Invalid => set.invalid,
    }
}

/// Builds the one-line match summaries of `show firewall` and
/// `show nat rules`: `key value` pairs in a fixed order, `all` when empty.
#[derive(Default)]
pub(crate) struct MatchText(String);

impl MatchText {
    fn push(&mut self, item: impl core::fmt::Display) {
        let sep = if self.0.is_empty() { "" } else { " " };
        let _ = write!(self.0, "{sep}{item}");
    }
    pub(crate) fn word(&mut self, key: &str, value: impl core::fmt::Display) {
        self.push(format_args!("{key} {value}"));
    }
    /// `tcp`, `udp`, `icmp`, or `proto N` for other numbers.
    pub(crate) fn proto(&mut self, proto: Option<u8>) {
        match proto.map(Protocol::from_number) {
            None => {}
            Some(p @ Protocol::Other(_)) => self.word("proto", p),
            Some(p) => self.push(p),
        }
    }
    /// A prefix; a /32 prints as the bare address.
    pub(crate) fn prefix(&mut self, key: &str, c: Option<Ipv4Cidr>) {
        match c {
            Some(c) if c.prefix_len >= 32 => self.word(key, c.addr),
            Some(c) => self.word(key, c),
            None => {}
        }
    }
    pub(crate) fn ports(&mut self, key: &str, r: Option<PortRange>) {
        if let Some(r) = r {
            self.word(key, r);
        }
    }
    pub(crate) fn finish(self) -> String {
        if self.0.is_empty() {
            "all".to_string()
        } else {
            self.0
        }
    }
}
