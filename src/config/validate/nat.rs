//! The NAT sections: numbered `nat_source` (SNAT) and `nat_destination`
//! (port forwarding) rules.
//!
//! Owns: their options, unique rule numbers, ports only with tcp/udp, and
//! (with conntrack sync on) the check that a SNAT address is a virtual
//! address the backup can take over. A child of `validate`.

use super::*;

/// `check_vips`: conntrack sync is on and every VRRP group validated, so a
/// SNAT translation address must be one of `groups`' virtual addresses.
pub(super) fn rules(
    cx: &mut Ctx,
    [sources, destinations]: [&[Sec]; 2],
    refs: &Refs,
    check_vips: bool,
    vrrp_groups: &[VrrpGroup],
) -> (Vec<NatSource>, Vec<NatDestination>) {
    let mut nat_source: Vec<NatSource> = Vec::new();
    let mut snat_rules: Map<u32, usize> = Map::new();
    for sec in sources {
        let rule = cx.rule_number(sec, "nat_source", &mut snat_rules);
        let description = cx.opt(sec, "description", |v| Ok(v.to_string()));
        let outbound = cx.dataplane_ref(refs, sec, "outbound_interface", "source NAT");
        let protocol = cx.opt(sec, "protocol", parse_protocol);
        let source = cx.opt(sec, "source", |v| parse_prefix(v, true));
        let destination = cx.opt(sec, "destination", |v| parse_prefix(v, true));
        let translation_address = cx.req(
            sec,
            "translation_address",
            "A.B.C.D or A.B.C.D-A.B.C.D, e.g. the WAN virtual address",
            parse_addr_range,
        );
        let translation_port = cx.opt(sec, "translation_port", parse_port_range);
        let mut ok = true;
        if let (Ok(p), Some(o)) = (protocol, sec.one("translation_port")) {
            if let Some(p @ (Protocol::Icmp | Protocol::Other(_))) = p.flatten() {
                cx.err(
                    o.line,
                    format!(
                        "option 'translation_port': ports need protocol tcp, udp or all (this rule has protocol {})",
                        if p == Protocol::Icmp { "icmp".to_string() } else { p.number().to_string() }
                    ),
                );
                ok = false;
            }
        }
        if let (true, Some(out), Some(range), Some(o)) = (
            check_vips,
            &outbound,
            translation_address,
            sec.one("translation_address"),
        ) {
            let vips: Vec<Ipv4Addr> = vrrp_groups
                .iter()
                .filter(|g| &g.interface == out)
                .flat_map(|g| g.virtual_addresses.iter().map(|c| c.addr))
                .collect();
            let missing = (0..range.len().min(vips.len() as u64 + 1))
                .map(|i| Ipv4Addr::from(u32::from(range.lo).wrapping_add(i as u32)))
                .find(|a| !vips.contains(a));
            if let Some(a) = missing {
                let known = if vips.is_empty() {
                    format!("interface '{out}' has no VRRP virtual address")
                } else {
                    format!(
                        "virtual addresses on '{out}': {}",
                        vips.iter()
                            .map(|a| a.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                cx.err(
                    o.line,
                    format!(
                        "option 'translation_address': {a} is not a virtual address of a VRRP group on interface '{out}'; with conntrack_sync on, the backup could not own it after failover ({known})"
                    ),
                );
                ok = false;
            }
        }
        if let (
            true,
            Some(rule),
            Ok(description),
            Some(outbound_interface),
            Ok(protocol),
            Ok(source),
        ) = (ok, rule, description, outbound, protocol, source)
        {
            if let (Ok(destination), Some(translation_address), Ok(translation_port)) =
                (destination, translation_address, translation_port)
            {
                nat_source.push(NatSource {
                    rule,
                    description,
                    outbound_interface,
                    protocol: protocol.flatten(),
                    source,
                    destination,
                    translation_address,
                    translation_port,
                    line: sec.s.line,
                });
            }
        }
    }
    let mut nat_destination = Vec::new();
    let mut dnat_rules: Map<u32, usize> = Map::new();
    for sec in destinations {
        let rule = cx.rule_number(sec, "nat_destination", &mut dnat_rules);
        let description = cx.opt(sec, "description", |v| Ok(v.to_string()));
        let inbound = cx.dataplane_ref(refs, sec, "inbound_interface", "destination NAT");
        let protocol = cx.opt(sec, "protocol", parse_protocol);
        let destination_address = cx.opt(sec, "destination_address", parse_unicast);
        let destination_port = cx.opt(sec, "destination_port", parse_port_range);
        let translation_address = cx.req(
            sec,
            "translation_address",
            "the inside host, A.B.C.D",
            parse_unicast,
        );
        let translation_port = cx.opt(sec, "translation_port", parse_port);
        let mut ok = true;
        if let Ok(p) = protocol {
            let p = p.flatten();
            ok &= cx.port_needs_l4(sec, "destination_port", p);
            ok &= cx.port_needs_l4(sec, "translation_port", p);
        }
        if let (true, Some(rule), Ok(description), Some(inbound_interface), Ok(protocol)) =
            (ok, rule, description, inbound, protocol)
        {
            if let (
                Ok(destination_address),
                Ok(destination_port),
                Some(translation_address),
                Ok(translation_port),
            ) = (
                destination_address,
                destination_port,
                translation_address,
                translation_port,
            ) {
                nat_destination.push(NatDestination {
                    rule,
                    description,
                    inbound_interface,
                    protocol: protocol.flatten(),
                    destination_address,
                    destination_port,
                    translation_address,
                    translation_port,
                    line: sec.s.line,
                });
            }
        }
    }

    (nat_source, nat_destination)
}
