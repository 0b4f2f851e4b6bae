//! The `track` section (health tracking) and a group's `list track`:
//! probe type, interface, target, timing, rise/fall, weight, script.
//!
//! Owns: the track schema and its cross-checks (probe interface is a lan or
//! wan interface with an address, an ARP target on its subnet, a ping
//! target on-link or behind a route's gateway on that interface, unknown
//! track names, a weight on an address-owner group). A child of `validate`
//! so it reports through the same `Ctx` with the same `FILE:LINE:` form.

use super::{Ctx, IfInfo, Sec, did_you_mean, parse_choice, parse_unicast};
use crate::config::map::Map;
use crate::config::{Role, Route, Track, TrackKind};
use std::net::Ipv4Addr;

use super::Arity::{Many, One};

/// Options of a `track` section.
pub(super) const OPTIONS: &[(&str, super::Arity)] = &[
    ("type", One),
    ("interface", One),
    ("target", One),
    ("interval", One),
    ("fall", One),
    ("rise", One),
    ("weight", One),
    ("command", One),
    ("timeout", One),
];

/// The group option that lists tracks.
pub(super) const GROUP_OPTION: (&str, super::Arity) = ("track", Many);

/// Seconds with up to two decimals ("1", "0.5", "2.25"), as milliseconds in
/// `lo..=hi` ms.
fn parse_decisecs(v: &str, lo: u32, hi: u32) -> Result<u32, String> {
    let bad = || {
        format!(
            "'{v}' is not a duration in seconds between {} and {} (fractions allowed, e.g. 0.5)",
            ms_as_secs(lo),
            ms_as_secs(hi)
        )
    };
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if int.is_empty() && frac.is_empty()
        || frac.len() > 2
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || int.len() > 6
    {
        return Err(bad());
    }
    let whole: u32 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| bad())?
    };
    let mut centis: u32 = 0;
    for (i, b) in frac.bytes().enumerate() {
        centis += u32::from(b - b'0') * if i == 0 { 10 } else { 1 };
    }
    let ms = whole * 1000 + centis * 10;
    if ms < lo || ms > hi {
        return Err(bad());
    }
    Ok(ms)
}

/// Milliseconds as seconds the way f64 Display would print them ("0.1",
/// "3600", "2.25"), without linking float formatting (~9 kB on mips).
fn ms_as_secs(ms: u32) -> String {
    let (whole, frac) = (ms / 1000, ms % 1000);
    if frac == 0 {
        return whole.to_string();
    }
    let f = format!("{frac:03}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}

/// Validate every `track` section; the valid ones are returned.
pub(super) fn tracks(
    cx: &mut Ctx,
    secs: &[Sec],
    iface_names: &[&str],
    ifinfo: &Map<String, IfInfo>,
    routes: &[Route],
) -> Vec<Track> {
    let mut out = Vec::new();
    for sec in secs {
        let before = cx.errors.len();
        let kind = cx.req(sec, "type", "ping, arp, interface or script", |v| {
            Ok(
                match parse_choice(v, &["ping", "arp", "interface", "script"])? {
                    "ping" => TrackKind::Ping,
                    "arp" => TrackKind::Arp,
                    "interface" => TrackKind::Interface,
                    _ => TrackKind::Script,
                },
            )
        });
        let needs_iface = kind.is_some_and(|k| k != TrackKind::Script);
        let needs_target = matches!(kind, Some(TrackKind::Ping | TrackKind::Arp));
        let iface = if needs_iface {
            cx.reference(sec, "interface", iface_names, "interface", true)
        } else {
            if let Some(o) = sec.one("interface") {
                cx.err(
                    o.line,
                    "option 'interface': a script track has no interface; remove it".into(),
                );
            }
            None
        };
        let target = if needs_target {
            cx.req(
                sec,
                "target",
                "the address to probe, A.B.C.D",
                parse_unicast,
            )
        } else {
            if let Some(o) = sec.one("target") {
                cx.err(
                    o.line,
                    format!(
                        "option 'target': only ping and arp tracks have a target (this one is type '{}')",
                        kind.map_or("?", |k| k.as_str())
                    ),
                );
            }
            None
        };
        let mut next_hop = None;
        if let (Some(k), Some((name, line))) = (kind, &iface) {
            if k != TrackKind::Interface {
                match ifinfo.get(name) {
                    None => cx.err(
                        *line,
                        format!(
                            "option 'interface': interface '{name}' has no usable address; probes are sent from the interface's own address"
                        ),
                    ),
                    Some(info) if info.role == Role::Sync => cx.err(
                        *line,
                        format!(
                            "option 'interface': '{name}' is the sync interface; probes go out on a lan or wan interface"
                        ),
                    ),
                    Some(info) => {
                        if let Some(t) = target {
                            next_hop = probe_next_hop(cx, sec, k, name, info, t, routes);
                        }
                    }
                }
            }
        }
        let interval_ms = cx.or(sec, "interval", 1000, |v| parse_decisecs(v, 100, 3_600_000));
        let fall = cx.or_uint(sec, "fall", 3, 1, 255) as u8;
        let rise = cx.or_uint(sec, "rise", 2, 1, 255) as u8;
        let weight = cx.or(sec, "weight", 0i16, |v| {
            let n: i32 = v
                .parse()
                .map_err(|_| format!("'{v}' is not a whole number between -253 and 0"))?;
            if n > 0 {
                Err(format!(
                    "'{v}': a weight is added to the priority while the track is DOWN, so it is negative (keepalived's positive weight +N added while OK is priority P+N here with weight -{n})"
                ))
            } else if n < -253 {
                Err(format!(
                    "'{v}' is below -253; the effective priority is clamped to 1 anyway"
                ))
            } else {
                Ok(n as i16)
            }
        });
        let command = if kind == Some(TrackKind::Script) {
            cx.req(sec, "command", "an absolute path to a program, with arguments", |v| {
                if v.starts_with('/') {
                    Ok(v.to_string())
                } else {
                    Err(format!(
                        "'{v}' must start with an absolute path to a program, e.g. /usr/bin/check-dns"
                    ))
                }
            })
        } else {
            for key in ["command", "timeout"] {
                if let Some(o) = sec.one(key) {
                    cx.err(
                        o.line,
                        format!("option '{key}': only script tracks run a command"),
                    );
                }
            }
            None
        };
        let timeout_ms = cx.or(sec, "timeout", interval_ms, |v| {
            parse_decisecs(v, 100, 3_600_000)
        });
        if let (true, Some(name), Some(kind)) = (cx.errors.len() == before, &sec.s.name, kind) {
            out.push(Track {
                name: name.clone(),
                kind,
                interface: iface.map(|(n, _)| n),
                target,
                next_hop,
                interval_ms,
                fall,
                rise,
                weight,
                command,
                timeout_ms,
                line: sec.s.line,
            });
        }
    }
    out
}

/// Where a probe of `target` out of `iface` goes: ARP needs it on the
/// subnet; ping goes to it when on-link, else to the gateway of the most
/// specific route via `iface` that covers it.
fn probe_next_hop(
    cx: &mut Ctx,
    sec: &Sec,
    kind: TrackKind,
    iface: &str,
    info: &IfInfo,
    target: Ipv4Addr,
    routes: &[Route],
) -> Option<Ipv4Addr> {
    let line = sec.one("target").map_or(sec.s.line, |o| o.line);
    if target == info.address.addr {
        cx.err(
            line,
            format!("option 'target': {target} is interface '{iface}''s own address"),
        );
        return None;
    }
    if info.address.contains(target) {
        return Some(target);
    }
    if kind == TrackKind::Arp {
        cx.err(
            line,
            format!(
                "option 'target': ARP only reaches the link; {target} is not in interface '{iface}''s subnet {}/{}",
                info.address.network(),
                info.address.prefix_len
            ),
        );
        return None;
    }
    let gw = routes
        .iter()
        .filter(|r| r.interface == iface && r.target.contains(target))
        .max_by_key(|r| r.target.prefix_len)
        .and_then(|r| r.gateway);
    if gw.is_none() {
        cx.err(
            line,
            format!(
                "option 'target': {target} is not in interface '{iface}''s subnet and no route with a gateway on '{iface}' covers it; add a route or probe an on-link address"
            ),
        );
    }
    gw
}

/// A group's `list track` entries: each must name a track; a track with a
/// weight cannot move an address owner (it always runs at 255).
pub(super) fn group_tracks(cx: &mut Ctx, sec: &Sec, tracks: &[Track], owner: bool) -> Vec<String> {
    let names: Vec<&str> = tracks.iter().map(|t| t.name.as_str()).collect();
    let mut out = Vec::new();
    for (v, line) in sec.many("track") {
        let Some(t) = tracks.iter().find(|t| t.name == v) else {
            cx.err(
                line,
                format!(
                    "option 'track': track '{v}' is not defined ({}){}",
                    if names.is_empty() {
                        "there is no valid track section".to_string()
                    } else {
                        format!("known: {}", names.join(", "))
                    },
                    did_you_mean(&v, names.iter().copied())
                ),
            );
            continue;
        };
        if owner && t.weight != 0 {
            cx.err(
                line,
                format!(
                    "option 'track': track '{v}' has weight {} but this group owns its virtual address and always runs at priority 255; use weight 0 (FAULT) or drop the track",
                    t.weight
                ),
            );
            continue;
        }
        if out.contains(&v) {
            cx.err(line, format!("option 'track': track '{v}' is listed twice"));
            continue;
        }
        out.push(v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::parse_decisecs;
    use crate::config::{TrackKind, parse_str};
    use std::net::Ipv4Addr;

    // Lines 1-8: two interfaces; 9-10: a default route via 10.0.0.1.
    const MIN: &str = "config interface 'lan'\n\toption device 'lan0'\n\toption role 'lan'\n\toption address '192.168.1.2/24'\nconfig interface 'wan'\n\toption device 'wan0'\n\toption role 'wan'\n\toption address '10.0.0.2/24'\nconfig route\n\toption target '0.0.0.0/0'\n\toption gateway '10.0.0.1'\n\toption interface 'wan'\n";
    /// Line 13 onwards.
    const GROUP: &str = "config vrrp_group 'g'\n\toption interface 'lan'\n\toption vrid '1'\n\tlist virtual_address '192.168.1.254'\n\toption priority '200'\n";

    fn errors(extra: &str) -> Vec<String> {
        match parse_str("t.uci", &format!("{MIN}{extra}")) {
            Ok(c) => panic!("accepted: {c:#?}"),
            Err(e) => e.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn the_issue_example_parses() {
        let c = parse_str(
            "t.uci",
            &format!(
                "{MIN}{GROUP}\tlist track 'upstream'\n\tlist track 'dns'\nconfig track 'upstream'\n\toption type 'ping'\n\toption interface 'wan'\n\toption target '10.0.0.254'\n\toption interval '0.5'\n\toption fall '3'\n\toption rise '2'\n\toption weight '-150'\nconfig track 'dns'\n\toption type 'script'\n\toption command '/usr/bin/check-dns 1.1.1.1'\n\toption timeout '2'\nconfig track 'far'\n\toption type 'ping'\n\toption interface 'wan'\n\toption target '8.8.8.8'\n"
            ),
        )
        .unwrap_or_else(|e| panic!("{e:#?}"));
        assert_eq!(c.vrrp_groups[0].tracks, vec!["upstream", "dns"]);
        let t = &c.tracks[0];
        assert_eq!(
            (t.kind, t.interval_ms, t.fall, t.rise, t.weight),
            (TrackKind::Ping, 500, 3, 2, -150)
        );
        assert_eq!(t.next_hop, Some(Ipv4Addr::new(10, 0, 0, 254)));
        let d = &c.tracks[1];
        assert_eq!(
            (d.kind, d.timeout_ms, d.weight, d.interval_ms),
            (TrackKind::Script, 2000, 0, 1000)
        );
        assert_eq!(d.command.as_deref(), Some("/usr/bin/check-dns 1.1.1.1"));
        // Off-link: the echo goes to the default route's gateway.
        assert_eq!(c.tracks[2].next_hop, Some(Ipv4Addr::new(10, 0, 0, 1)));
    }

    #[test]
    fn errors_name_the_line() {
        let e = errors(&format!(
            "{GROUP}\tlist track 'upstrem'\nconfig track 'upstream'\n\toption type 'interface'\n\toption interface 'wan'\n"
        ));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("t.uci:18: option 'track': track 'upstrem' is not defined"),
            "{e:?}"
        );
        assert!(e[0].contains("did you mean 'upstream'"), "{e:?}");

        // Weight on an address owner (the VIP is the interface's address).
        let owner = GROUP.replace("192.168.1.254", "192.168.1.2");
        let e = errors(&format!(
            "{owner}\tlist track 'up'\nconfig track 'up'\n\toption type 'interface'\n\toption interface 'wan'\n\toption weight '-10'\n"
        ));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("t.uci:18:") && e[0].contains("owns its virtual address"),
            "{e:?}"
        );

        let e = errors(
            "config track 'a'\n\toption type 'arp'\n\toption interface 'wan'\n\toption target '10.0.1.1'\n",
        );
        assert_eq!(
            e,
            vec![
                "t.uci:16: option 'target': ARP only reaches the link; 10.0.1.1 is not in interface 'wan''s subnet 10.0.0.0/24"
            ]
        );

        let e = errors(
            "config track 'a'\n\toption type 'ping'\n\toption interface 'lan'\n\toption target '172.16.0.1'\n",
        );
        assert!(
            e.len() == 1
                && e[0].starts_with("t.uci:16:")
                && e[0].contains("no route with a gateway on 'lan'"),
            "{e:?}"
        );

        let e = errors(
            "config track 'a'\n\toption type 'interface'\n\toption interface 'wan'\n\toption weight '20'\n",
        );
        assert!(
            e.len() == 1 && e[0].starts_with("t.uci:16:") && e[0].contains("weight -20"),
            "{e:?}"
        );

        let e = errors("config track 'a'\n\toption type 'script'\n\toption interface 'wan'\n");
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(
            e[0].starts_with("t.uci:13:") && e[0].contains("missing required option 'command'"),
            "{e:?}"
        );
        assert!(
            e[1].starts_with("t.uci:15:") && e[1].contains("a script track has no interface"),
            "{e:?}"
        );

        let e = errors(
            "config track 'a'\n\toption type 'ping'\n\toption interface 'wan'\n\toption target '10.0.0.9'\n\toption interval '0.05'\n",
        );
        assert!(e.len() == 1 && e[0].starts_with("t.uci:17:"), "{e:?}");

        let e = errors("config track\n\toption type 'interface'\n\toption interface 'wan'\n");
        assert!(
            e.len() == 1 && e[0].contains("config track needs a name"),
            "{e:?}"
        );
    }

    #[test]
    fn decisecs() {
        for ms in [100, 500, 1000, 2250, 1001, 3_600_000, 0, 10] {
            assert_eq!(super::ms_as_secs(ms), (f64::from(ms) / 1000.0).to_string());
        }
        assert_eq!(parse_decisecs("1", 100, 10_000), Ok(1000));
        assert_eq!(parse_decisecs("0.5", 100, 10_000), Ok(500));
        assert_eq!(parse_decisecs("2.25", 100, 10_000), Ok(2250));
        assert_eq!(parse_decisecs(".1", 100, 10_000), Ok(100));
        assert!(parse_decisecs("0.05", 100, 10_000).is_err());
        assert!(parse_decisecs("1.234", 100, 10_000).is_err());
        assert!(parse_decisecs("-1", 100, 10_000).is_err());
        assert!(parse_decisecs("", 100, 10_000).is_err());
        assert!(parse_decisecs(".", 100, 10_000).is_err());
        assert!(parse_decisecs("11", 100, 10_000).is_err());
    }
}
