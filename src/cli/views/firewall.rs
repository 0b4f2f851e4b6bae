//! `show firewall`: each ruleset with where it is attached, its rules in
//! order with packet/byte counters (IP bytes, as conntrack counts), and
//! its default action's counters, as text and JSON.
//!
//! Owns: that layout. Never: reads anything but the snapshot.

use super::super::json::Json;
use super::grid::{Cell, Layout};
use crate::config::{Direction, FirewallAction};
use crate::engine::DataplaneStatus;
use crate::firewall::RulesetSnapshot;
use core::fmt::Write;

pub fn action_str(a: FirewallAction) -> &'static str {
    match a {
        FirewallAction::Accept => "accept",
        FirewallAction::Drop => "drop",
        FirewallAction::Reject => "reject",
    }
}

pub fn direction_str(d: Direction) -> &'static str {
    match d {
        Direction::In => "in",
        Direction::Out => "out",
        Direction::Local => "local",
    }
}

fn attached(rs: &RulesetSnapshot) -> String {
    if rs.attached.is_empty() {
        return "not attached".to_string();
    }
    let a: Vec<String> = rs
        .attached
        .iter()
        .map(|(i, d)| format!("{i} {}", direction_str(*d)))
        .collect();
    format!("attached to {}", a.join(", "))
}

/// Text columns and JSON fields of a rule (cells: see `rule_cell`).
const LAYOUT: Layout = Layout {
    columns: &[
        ("Rule", 0),
        ("Match", 1),
        ("Action", 2),
        ("Packets", 3),
        ("Bytes", 4),
        ("Description", 5),
    ],
    fields: &[
        ("number", 0),
        ("match", 1),
        ("action", 2),
        ("description", 5),
        ("packets", 3),
        ("bytes", 4),
    ],
};

/// Cell `i` of rule `r` of a ruleset; the row after the last rule is
/// the default action's (text only).
fn rule_cell(rs: &RulesetSnapshot, r: usize, i: u8) -> Cell<'_> {
    let Some(rule) = rs.rules.get(r) else {
        return match i {
            0 => Cell::Str("-"),
            1 => Cell::Str("default"),
            2 => Cell::Str(action_str(rs.default_action)),
            3 => Cell::Num(rs.default.packets),
            4 => Cell::Num(rs.default.bytes),
            _ => Cell::Str(""),
        };
    };
    match i {
        0 => Cell::Num(rule.number as u64),
        1 => Cell::Str(&rule.matches),
        2 => Cell::Str(action_str(rule.action)),
        3 => Cell::Num(rule.counters.packets),
        4 => Cell::Num(rule.counters.bytes),
        _ => Cell::Opt(rule.description.as_deref()),
    }
}

pub fn rulesets(dp: &DataplaneStatus) -> String {
    let fw = &dp.firewall;
    if fw.rulesets.is_empty() {
        return "No firewall rulesets configured.\n".to_string();
    }
    let mut out = String::new();
    for (i, rs) in fw.rulesets.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "Ruleset {} ({}), default action {}",
            rs.name,
            attached(rs),
            action_str(rs.default_action)
        );
        out.push_str(&LAYOUT.text(rs.rules.len() + 1, &|r, i| rule_cell(rs, r, i)));
    }
    out
}

pub fn rulesets_json(dp: &DataplaneStatus) -> Json {
    let sets: Vec<Json> = dp
        .firewall
        .rulesets
        .iter()
        .map(|rs| {
            let att: Vec<Json> = rs
                .attached
                .iter()
                .map(|(i, d)| {
                    Json::object()
                        .field("interface", i.as_str())
                        .field("direction", direction_str(*d))
                })
                .collect();
            let rules = LAYOUT.records(rs.rules.len(), &|r, i| rule_cell(rs, r, i));
            Json::object()
                .field("name", rs.name.as_str())
                .field("attached", att)
                .field("rules", rules)
                .field(
                    "default",
                    Json::object()
                        .field("action", action_str(rs.default_action))
                        .field("packets", rs.default.packets)
                        .field("bytes", rs.default.bytes),
                )
        })
        .collect();
    Json::object().field("rulesets", sets)
}

#[cfg(test)]
mod tests {
    use super::super::super::json::{Json, check::parse};
    use super::super::fixtures::{NOW, snapshot};
    use crate::cli::show::answer;

    #[test]
    fn rulesets_with_attachments_rule_counters_and_default() {
        let s = snapshot();
        let expected = "\
Ruleset wan_in (attached to wan in, wan local), default action drop
Rule  Match                      Action  Packets  Bytes   Description
----  -------------------------  ------  -------  ------  -----------
1     state established,related  accept  900      812000  replies
2     tcp dport 22 state new     reject  3        180
-     default                    drop    41       2460

Ruleset lan_out (not attached), default action accept
Rule  Match    Action  Packets  Bytes  Description
----  -------  ------  -------  -----  -----------
-     default  accept  0        0
";
        assert_eq!(answer("firewall", &s, NOW).unwrap(), expected);
        let v = parse(&answer("firewall --json", &s, NOW).unwrap()).unwrap();
        let Some(Json::Array(sets)) = v.get("rulesets") else {
            panic!("{v:?}")
        };
        let Some(Json::Array(rules)) = sets[0].get("rules") else {
            panic!()
        };
        assert_eq!(rules[1].get("action"), Some(&"reject".into()));
        assert_eq!(rules[0].get("bytes"), Some(&Json::UInt(812_000)));
        assert_eq!(
            sets[0].get("default").unwrap().get("packets"),
            Some(&Json::UInt(41))
        );
        let Some(Json::Array(att)) = sets[0].get("attached") else {
            panic!()
        };
        assert_eq!(att[1].get("direction"), Some(&"local".into()));
    }

    #[test]
    fn no_rulesets_is_one_line() {
        let mut s = snapshot();
        s.dataplane.as_mut().unwrap().firewall.rulesets.clear();
        assert_eq!(
            answer("firewall", &s, NOW).unwrap(),
            "No firewall rulesets configured.\n"
        );
    }
}
