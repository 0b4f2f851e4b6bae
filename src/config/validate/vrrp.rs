//! The `vrrp_group` sections: interface, VRID, virtual addresses, priority
//! and timing, version and authentication, sync group, tracking, notify,
//! unicast peers, GARP.
//!
//! Owns: each group's options and the cross-checks between groups (a VRID
//! used twice on one interface, a virtual address in two groups or equal to
//! an interface address, address owners). A child of `validate`: reports
//! through the same `Ctx` in the same `FILE:LINE:` form.

use super::*;

/// The groups that validated, and whether any group had an error (then the
/// virtual addresses are incomplete and checks against them would only
/// repeat that error).
pub(super) fn groups(
    cx: &mut Ctx,
    secs: &[Sec],
    refs: &Refs,
    ifinfo: &Map<String, IfInfo>,
    own_addrs: &Map<Ipv4Addr, (String, usize)>,
    tracks: &[Track],
) -> (Vec<VrrpGroup>, bool) {
    let mut vrrp_groups: Vec<VrrpGroup> = Vec::new();
    // Any group with an error: its VIPs are unknown, so the SNAT-is-a-VIP
    // check below would only repeat the group's error.
    let mut vrrp_errors = false;
    let mut all_vips: Map<Ipv4Addr, (String, usize)> = Map::new();
    let mut vrids: Map<(String, u8), (String, usize)> = Map::new();
    for sec in secs {
        let errors_before = cx.errors.len();
        let mut ok = true;
        let iface = cx.reference(sec, "interface", refs.ifaces, "interface", true);
        let iface = match iface {
            Some((name, line)) if refs.sync == Some(name.as_str()) => {
                cx.err(
                    line,
                    format!(
                        "option 'interface': '{name}' is the sync interface; the sync link must never be part of a VRRP group (use a lan or wan interface)"
                    ),
                );
                None
            }
            other => other.map(|(n, _)| n),
        };
        let vrid = cx.req(sec, "vrid", "the VRRP group number, 1-255", |v| {
            parse_uint(v, 1, 255).map(|n| n as u8)
        });
        if let (Some(i), Some(vrid), Some(o)) = (&iface, vrid, sec.one("vrid")) {
            if let Some((other, line)) = vrids.get(&(i.clone(), vrid)) {
                cx.err(
                    o.line,
                    format!(
                        "option 'vrid': vrid {vrid} is already used on interface '{i}' by vrrp_group '{other}' (line {line}); each group on an interface needs its own vrid"
                    ),
                );
                ok = false;
            } else {
                vrids.insert(
                    (i.clone(), vrid),
                    (sec.s.name.clone().unwrap_or_default(), o.line),
                );
            }
        }
        let iface_prefix = iface
            .as_ref()
            .and_then(|i| ifinfo.get(i))
            .map(|i| i.address.prefix_len);
        let mut vips = Vec::new();
        let vip_values = sec.many("virtual_address");
        if vip_values.is_empty() {
            cx.err(
                sec.s.line,
                format!(
                    "{}: missing required option 'virtual_address' (one or more, e.g. list virtual_address '192.168.1.254')",
                    sec.desc()
                ),
            );
            ok = false;
        }
        for (v, line) in &vip_values {
            let parsed = match v.split_once('/') {
                Some(_) => parse_host_cidr(v),
                None => parse_unicast(v).map(|addr| Ipv4Cidr {
                    addr,
                    prefix_len: iface_prefix.unwrap_or(32),
                }),
            };
            match parsed {
                Ok(c) if vips.iter().any(|x: &Ipv4Cidr| x.addr == c.addr) => {
                    cx.err(
                        *line,
                        format!("option 'virtual_address': '{v}' is listed twice"),
                    );
                }
                Ok(c) => {
                    if let Some((other, first)) = all_vips.get(&c.addr) {
                        cx.err(
                            *line,
                            format!(
                                "option 'virtual_address': {} is already a virtual address of vrrp_group '{other}' (line {first}); each virtual address belongs to one group",
                                c.addr
                            ),
                        );
                    } else {
                        all_vips.insert(c.addr, (sec.s.name.clone().unwrap_or_default(), *line));
                    }
                    if let Some((other, first)) = own_addrs
                        .get(&c.addr)
                        .filter(|(n, _)| Some(n) != iface.as_ref())
                    {
                        cx.err(
                            *line,
                            format!(
                                "option 'virtual_address': {} is the address of interface '{other}' (line {first}); a group can only own the address of its own interface",
                                c.addr
                            ),
                        );
                    }
                    vips.push(c)
                }
                Err(m) => {
                    cx.err(*line, format!("option 'virtual_address': {m}"));
                    ok = false;
                }
            }
        }
        let version = cx.or(sec, "version", 2u8, |v| {
            parse_choice(v, &["2", "3"])
                .map(|c| if c == "3" { 3 } else { 2 })
                .map_err(|_| format!("'{v}' is not a VRRP version (expected 2 or 3)"))
        });
        let priority = cx.or_uint(sec, "priority", 1, 1, 255) as u8;
        let preempt = cx.or(sec, "preempt", true, parse_bool);
        let preempt_delay_secs = cx.or_whole(sec, "preempt_delay", 0, parse_secs, 0, 3600);
        let advert_interval_cs = cx.or(sec, "advertise_interval", 100u16, |v| {
            parse_interval(v, version)
        });
        let rfc3768_compatibility = cx.or(sec, "rfc3768_compatibility", false, parse_bool);
        let auth_type = cx.opt(sec, "auth_type", |v| {
            parse_choice(v, &["none", "plaintext-password", "ah"])
        });
        let password = cx.opt(sec, "auth_password", |v| {
            if v.is_empty() || v.len() > 8 {
                Err(format!(
                    "'{v}' is {} bytes long; a VRRP password (plaintext or ah key) is 1-8 characters",
                    v.len()
                ))
            } else {
                Ok(v.to_string())
            }
        });
        // A bad auth_type was reported already; do not pile on about the password.
        let auth_type = auth_type.map(|t| t.unwrap_or("none")).unwrap_or("bad");
        let auth = match (auth_type, password) {
            ("plaintext-password", Ok(Some(p))) => VrrpAuth::Plaintext(p),
            ("ah", Ok(Some(p))) => VrrpAuth::Ah(p),
            (t @ ("plaintext-password" | "ah"), Ok(None)) => {
                let line = sec.one("auth_type").map_or(sec.s.line, |o| o.line);
                cx.err(
                    line,
                    format!(
                        "option 'auth_type': {t} needs option auth_password (1-8 characters, the same on all routers)"
                    ),
                );
                ok = false;
                VrrpAuth::None
            }
            ("none", Ok(Some(_))) => {
                let line = sec.one("auth_password").map_or(sec.s.line, |o| o.line);
                cx.err(
                    line,
                    "option 'auth_password' is set but auth_type is none; add option auth_type 'plaintext-password' (or 'ah') or remove the password"
                        .to_string(),
                );
                VrrpAuth::None
            }
            _ => VrrpAuth::None,
        };
        if version == 3 {
            if let Some(o) = sec.one("auth_type").filter(|o| o.value != "none") {
                cx.err(
                    o.line,
                    format!(
                        "option 'auth_type': '{}' is not allowed with version 3 (RFC 5798 removed VRRP authentication); use auth_type 'none' or version 2",
                        o.value
                    ),
                );
                ok = false;
            }
        }
        let sync_group = cx
            .opt(sec, "sync_group", |v| {
                if v.is_empty()
                    || !v
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                {
                    Err(format!(
                        "'{v}' is not a valid sync group name (letters, digits, _ and -)"
                    ))
                } else {
                    Ok(v.to_string())
                }
            })
            .ok()
            .flatten();
        let mut track_interfaces = Vec::new();
        for (v, line) in sec.many("track_interface") {
            if refs.ifaces.contains(&v.as_str()) {
                track_interfaces.push(v);
            } else {
                cx.err(
                    line,
                    format!(
                        "option 'track_interface': interface '{v}' is not defined (known: {}){}",
                        refs.ifaces.join(", "),
                        did_you_mean(&v, refs.ifaces.iter().copied())
                    ),
                );
            }
        }
        let owner = iface
            .as_ref()
            .and_then(|i| ifinfo.get(i))
            .is_some_and(|i| vips.iter().any(|v: &Ipv4Cidr| v.addr == i.address.addr));
        let group_tracks = track::group_tracks(cx, sec, tracks, owner);
        let notify = cx
            .opt(sec, "notify", |v| {
                if v.starts_with('/') {
                    Ok(v.to_string())
                } else {
                    Err(format!(
                        "'{v}' must be an absolute path to a script, e.g. /etc/hagw/notify.sh"
                    ))
                }
            })
            .ok()
            .flatten();
        let mut unicast_peers = Vec::new();
        for (v, line) in sec.many("unicast_peer") {
            match parse_unicast(&v) {
                Ok(a) => unicast_peers.push(a),
                Err(m) => cx.err(line, format!("option 'unicast_peer': {m}")),
            }
        }
        let garp_repeat = cx.or_uint(sec, "garp_repeat", 3, 1, 100) as u8;
        let garp_refresh_secs = cx.or_whole(sec, "garp_refresh", 60, parse_secs, 0, 86400);
        let notify_keepalived = cx.or(sec, "notify_args", false, |v| {
            parse_choice(v, &["hagw", "keepalived"]).map(|c| c == "keepalived")
        });
        let v3_checksum_legacy = cx.or(sec, "v3_checksum", false, |v| {
            parse_choice(v, &["rfc", "legacy"]).map(|c| c == "legacy")
        });
        if let (true, Some(name), Some(interface), Some(vrid)) = (ok, &sec.s.name, iface, vrid) {
            vrrp_groups.push(VrrpGroup {
                name: name.clone(),
                interface,
                vrid,
                virtual_addresses: vips,
                priority,
                preempt,
                preempt_delay_secs,
                advert_interval_cs,
                version,
                rfc3768_compatibility,
                auth,
                sync_group,
                track_interfaces,
                tracks: group_tracks,
                notify,
                notify_keepalived,
                unicast_peers,
                garp_repeat,
                garp_refresh_secs,
                v3_checksum_legacy,
                line: sec.s.line,
            });
        }
        vrrp_errors |= cx.errors.len() > errors_before;
    }

    (vrrp_groups, vrrp_errors)
}
