//! `show nat rules`: the source and destination NAT rules in order with
//! their counters, and how this node shares the source ports with its
//! sync peer, as text and JSON.
//!
//! Owns: that layout. Never: reads anything but the snapshot.

use super::super::json::Json;
use super::grid::{Cell, Layout};
use crate::engine::DataplaneStatus;
use crate::nat::{NatKind, NatRuleSnapshot, NatSnapshot, PortShare};

pub fn kind_str(k: NatKind) -> &'static str {
    match k {
        NatKind::Source => "source",
        NatKind::Destination => "destination",
    }
}

pub fn share_str(s: PortShare) -> &'static str {
    match s {
        PortShare::All => "all",
        PortShare::Half { upper: false } => "lower half",
        PortShare::Half { upper: true } => "upper half",
    }
}

fn footer(n: &NatSnapshot) -> String {
    format!(
        "Source ports: {} of each range (conntrack sync splits them by node); {} port probes, {} flows found no free mapping\n",
        share_str(n.share),
        n.probes,
        n.exhausted
    )
}

/// Text columns and JSON fields of a rule (cells: see `rule_cell`).
const LAYOUT: Layout = Layout {
    columns: &[
        ("Type", 0),
        ("Rule", 1),
        ("Interface", 2),
        ("Match", 3),
        ("Translation", 4),
        ("Sessions", 5),
        ("Hairpin", 6),
        ("Exhausted", 7),
        ("Description", 8),
    ],
    fields: &[
        ("type", 0),
        ("rule", 1),
        ("interface", 2),
        ("match", 3),
        ("translation", 4),
        ("description", 8),
        ("sessions", 5),
        ("hairpin_sessions", 9),
        ("exhausted", 7),
    ],
};

/// Cell `i` of a rule; the text's Hairpin column (6) is `-` for source
/// NAT, the JSON's hairpin_sessions (9) a number always.
fn rule_cell(r: &NatRuleSnapshot, i: u8) -> Cell<'_> {
    let c = &r.counters;
    match i {
        0 => Cell::Str(kind_str(r.kind)),
        1 => Cell::Num(u64::from(r.rule)),
        2 => Cell::Str(&r.interface),
        3 => Cell::Str(&r.matches),
        4 => Cell::Str(&r.translation),
        5 => Cell::Num(c.sessions),
        6 if r.kind == NatKind::Source => Cell::Str("-"),
        6 | 9 => Cell::Num(c.hairpin_sessions),
        7 => Cell::Num(c.exhausted),
        _ => Cell::Opt(r.description.as_deref()),
    }
}

pub fn rules(dp: &DataplaneStatus) -> String {
    let n = &dp.nat;
    if n.rules.is_empty() {
        return "No NAT rules configured.\n".to_string();
    }
    let mut out = LAYOUT.text(n.rules.len(), &|r, i| rule_cell(&n.rules[r], i));
    out.push_str(&footer(n));
    out
}

pub fn rules_json(dp: &DataplaneStatus) -> Json {
    let n = &dp.nat;
    Json::object()
        .field("port_share", share_str(n.share))
        .field("port_probes", n.probes)
        .field("exhausted", n.exhausted)
        .field(
            "rules",
            LAYOUT.records(n.rules.len(), &|r, i| rule_cell(&n.rules[r], i)),
        )
}

#[cfg(test)]
mod tests {
    use super::super::super::json::{Json, check::parse};
    use super::super::fixtures::{NOW, snapshot};
    use crate::cli::show::answer;

    #[test]
    fn rules_in_order_with_counters_and_the_port_share() {
        let s = snapshot();
        let expected = "\
Type         Rule  Interface  Match                Translation                   Sessions  Hairpin  Exhausted  Description
-----------  ----  ---------  -------------------  ----------------------------  --------  -------  ---------  -----------
source       10    wan        src 192.168.10.0/24  203.0.113.5 ports 1024-65535  120       -        2          lan out
destination  20    wan        tcp dport 2222       192.168.10.100 port 22        7         3        0
Source ports: lower half of each range (conntrack sync splits them by node); 300 port probes, 2 flows found no free mapping
";
        assert_eq!(answer("nat rules", &s, NOW).unwrap(), expected);
        let v = parse(&answer("nat rules --json", &s, NOW).unwrap()).unwrap();
        assert_eq!(v.get("port_share"), Some(&"lower half".into()));
        let Some(Json::Array(rules)) = v.get("rules") else {
            panic!("{v:?}")
        };
        assert_eq!(rules[1].get("type"), Some(&"destination".into()));
        assert_eq!(rules[1].get("hairpin_sessions"), Some(&Json::UInt(3)));
        assert_eq!(rules[1].get("description"), Some(&Json::Null));
        assert_eq!(rules[0].get("sessions"), Some(&Json::UInt(120)));
    }

    #[test]
    fn no_rules_is_one_line() {
        let mut s = snapshot();
        s.dataplane.as_mut().unwrap().nat.rules.clear();
        assert_eq!(
            answer("nat rules", &s, NOW).unwrap(),
            "No NAT rules configured.\n"
        );
        let v = parse(&answer("nat rules --json", &s, NOW).unwrap()).unwrap();
        assert_eq!(v.get("rules"), Some(&Json::Array(vec![])));
    }
}
