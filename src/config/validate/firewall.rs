//! The firewall sections: `firewall_ruleset` (default action),
//! `firewall_rule` (match and action) and `firewall_attach` (ruleset to an
//! interface and direction).
//!
//! Owns: their options and references (a rule's ruleset, an attachment's
//! interface — never the sync link — and one ruleset per interface and
//! direction). A child of `validate`.

use super::*;

type Firewall = (Vec<FirewallRuleset>, Vec<FirewallRule>, Vec<FirewallAttach>);

/// `secs` are the ruleset, rule and attach sections, in that order.
pub(super) fn rules(
    cx: &mut Ctx,
    [rulesets, rules, attaches]: [&[Sec]; 3],
    refs: &Refs,
    ruleset_names: &[&str],
) -> Firewall {
    let mut firewall_rulesets = Vec::new();
    for sec in rulesets {
        let default_action = cx.or(sec, "default_action", FirewallAction::Drop, parse_action);
        if let Some(name) = &sec.s.name {
            firewall_rulesets.push(FirewallRuleset {
                name: name.clone(),
                default_action,
                line: sec.s.line,
            });
        }
    }
    let mut firewall_rules = Vec::new();
    for sec in rules {
        let ruleset = cx.reference(sec, "ruleset", ruleset_names, "firewall_ruleset", true);
        let description = cx.opt(sec, "description", |v| Ok(v.to_string()));
        let protocol = cx.opt(sec, "protocol", parse_protocol);
        let source = cx.opt(sec, "source", |v| parse_prefix(v, true));
        let destination = cx.opt(sec, "destination", |v| parse_prefix(v, true));
        let source_port = cx.opt(sec, "source_port", parse_port_range);
        let destination_port = cx.opt(sec, "destination_port", parse_port_range);
        let state = cx.opt(sec, "state", parse_state);
        let action = cx.req(sec, "action", "accept, drop or reject", parse_action);
        let mut ok = true;
        if let Ok(p) = protocol {
            let p = p.flatten();
            ok &= cx.port_needs_l4(sec, "source_port", p);
            ok &= cx.port_needs_l4(sec, "destination_port", p);
        }
        if let (
            true,
            Some((ruleset, _)),
            Ok(description),
            Ok(protocol),
            Ok(source),
            Ok(destination),
        ) = (ok, ruleset, description, protocol, source, destination)
        {
            if let (Ok(source_port), Ok(destination_port), Ok(state), Some(action)) =
                (source_port, destination_port, state, action)
            {
                firewall_rules.push(FirewallRule {
                    ruleset,
                    description,
                    protocol: protocol.flatten(),
                    source,
                    destination,
                    source_port,
                    destination_port,
                    state,
                    action,
                    line: sec.s.line,
                });
            }
        }
    }
    let mut firewall_attaches = Vec::new();
    let mut attached: Map<(String, u8), usize> = Map::new();
    for sec in attaches {
        let interface = cx.dataplane_ref(refs, sec, "interface", "a firewall attachment");
        let direction = cx.req(sec, "direction", "in, out or local", |v| {
            Ok(match parse_choice(v, &["in", "out", "local"])? {
                "in" => Direction::In,
                "out" => Direction::Out,
                _ => Direction::Local,
            })
        });
        let ruleset = cx.reference(sec, "ruleset", ruleset_names, "firewall_ruleset", true);
        if let (Some(i), Some(d)) = (&interface, direction) {
            if let Some(first) = attached.get(&(i.clone(), d as u8)) {
                let dir = sec.one("direction").map_or("", |o| o.value.as_str());
                cx.err(
                    sec.s.line,
                    format!(
                        "{}: interface '{i}' direction '{dir}' already has a ruleset attached (line {first}); put all rules for it in one ruleset",
                        sec.desc()
                    ),
                );
                continue;
            }
            attached.insert((i.clone(), d as u8), sec.s.line);
        }
        if let (Some(interface), Some(direction), Some((ruleset, _))) =
            (interface, direction, ruleset)
        {
            firewall_attaches.push(FirewallAttach {
                interface,
                direction,
                ruleset,
                line: sec.s.line,
            });
        }
    }

    (firewall_rulesets, firewall_rules, firewall_attaches)
}
