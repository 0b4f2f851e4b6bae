//! `show nat rules`: the source and destination NAT rules in order with
//! their counters, and how this node shares the source ports with its
//! sync peer, as text and JSON.
//!
//! Owns: that layout. Never: reads anything but the snapshot.

use super::super::json::Json;
use super::super::show::table;
use crate::engine::DataplaneStatus;
use crate::nat::{NatKind, NatSnapshot, PortShare};

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

pub fn rules(dp: &DataplaneStatus) -> String {
    let n = &dp.nat;
    if n.rules.is_empty() {
        return "No NAT rules configured.\n".to_string();
    }
    let rows: Vec<Vec<String>> = n
        .rules
        .iter()
        .map(|r| {
            vec![
                kind_str(r.kind).to_string(),
                r.rule.to_string(),
                r.interface.clone(),
                r.matches.clone(),
                r.translation.clone(),
                r.counters.sessions.to_string(),
                match r.kind {
                    NatKind::Destination => r.counters.hairpin_sessions.to_string(),
                    NatKind::Source => "-".to_string(),
                },
                r.counters.exhausted.to_string(),
                r.description.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "Type",
            "Rule",
            "Interface",
            "Match",
            "Translation",
            "Sessions",
            "Hairpin",
            "Exhausted",
            "Description",
        ],
        &rows,
    );
    out.push_str(&footer(n));
    out
}

pub fn rules_json(dp: &DataplaneStatus) -> Json {
    let n = &dp.nat;
    let rules: Vec<Json> = n
        .rules
        .iter()
        .map(|r| {
            Json::object()
                .field("type", kind_str(r.kind))
                .field("rule", r.rule)
                .field("interface", r.interface.as_str())
                .field("match", r.matches.as_str())
                .field("translation", r.translation.as_str())
                .field("description", r.description.as_deref())
                .field("sessions", r.counters.sessions)
                .field("hairpin_sessions", r.counters.hairpin_sessions)
                .field("exhausted", r.counters.exhausted)
        })
        .collect();
    Json::object()
        .field("port_share", share_str(n.share))
        .field("port_probes", n.probes)
        .field("exhausted", n.exhausted)
        .field("rules", rules)
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
