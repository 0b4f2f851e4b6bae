//! NAT tests, shared fixtures: a three-port config, rule builders, a reply-tuple
//! table and the test client/server; the tests live in the topic files below.

mod dnat;
mod report;
mod shares;
mod snat;

use super::*;
use crate::config::{PortRange, must_parse, spec_example};
use std::collections::HashSet;

const IFACES: &str = "config interface 'lan'\n\toption device 'lan0'\n\toption role 'lan'\n\toption address '192.168.10.2/24'\n\nconfig interface 'wan'\n\toption device 'wan0'\n\toption role 'wan'\n\toption address '10.0.0.2/24'\n\nconfig interface 'wan2'\n\toption device 'wan1'\n\toption role 'wan'\n\toption address '10.1.0.2/24'\n";
const LAN: PortId = 0;
const WAN: PortId = 1;
const WAN2: PortId = 2;
const KEY: SipKey = SipKey([1, 2]);

fn cfg(sections: &str) -> Config {
    must_parse(&format!("{IFACES}{sections}"))
}

/// A `nat_source` or `nat_destination` section from `key value` pairs.
fn section(kind: &str, opts: &[(&str, &str)]) -> String {
    let mut s = format!("config {kind}\n");
    for (k, v) in opts {
        s += &format!("\toption {k} '{v}'\n");
    }
    s
}

fn snat_rule(rule: &str, extra: &[(&str, &str)]) -> String {
    let mut opts = vec![("rule", rule), ("outbound_interface", "wan")];
    opts.extend_from_slice(extra);
    section("nat_source", &opts)
}

fn ip(a: [u8; 4]) -> Ipv4Addr {
    a.into()
}

fn flow(proto: u8, src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> Tuple {
    Tuple::new(proto, ip(src), sport, ip(dst), dport)
}

/// A conntrack stand-in: the reply tuples of every mapping handed out
/// (a set, plus a list so expiry picks deterministically).
#[derive(Default)]
struct Table(HashSet<Tuple>, Vec<Tuple>);

impl Table {
    /// SNAT `t` through `nat` on the WAN and record the mapping; panics if
    /// the mapping's reply tuple was already taken.
    fn snat(&mut self, nat: &mut Nat, t: &Tuple) -> Snat {
        let s = nat.snat(WAN, t, |r| self.0.contains(r));
        if let Snat::Mapped { addr, port, .. } = s {
            let reply = snat_reply(t, addr, port);
            assert!(
                self.0.insert(reply),
                "duplicate mapping for {t}: {addr}:{port}"
            );
            self.1.push(reply);
        }
        s
    }
}

/// (rule number, sessions) of every rule, as `show` lists them.
fn sessions(nat: &Nat) -> Vec<(u32, u64)> {
    nat.snapshot()
        .rules
        .iter()
        .map(|r| (r.rule, r.counters.sessions))
        .collect()
}

fn mapped(s: Snat) -> (Ipv4Addr, u16) {
    match s {
        Snat::Mapped { addr, port, .. } => (addr, port),
        other => panic!("not mapped: {other:?}"),
    }
}

const CLIENT: [u8; 4] = [192, 168, 10, 31];
const SERVER: [u8; 4] = [198, 51, 100, 13];

fn one_address(ports: Option<&str>) -> Config {
    let mut opts = vec![("translation_address", "10.0.0.1")];
    if let Some(p) = ports {
        opts.push(("translation_port", p));
    }
    cfg(&snat_rule("10", &opts))
}
