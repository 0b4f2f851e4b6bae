//! From UCI sections to the validated `Config`: option values, ranges,
//! defaults, cross-references.
//!
//! Owns: the schema (which sections and options exist, their ranges and
//! defaults) and every cross-check between sections. Reports ALL problems it
//! finds, in line order, each as `FILE:LINE: what is wrong; what is right`.
//! Never: reads files, touches the system, or panics on any input.

use super::map::Map;
use std::net::Ipv4Addr;

use super::ConfigError;
use super::model::*;
use super::uci::{UciOption, UciSection};

mod firewall;
mod nat;
mod schema;
mod track;
mod values;
mod vrrp;
use Arity::{Many, One};
use schema::{Arity, SECTION_TYPES, TIMEOUTS, schema};
use values::*;

/// One section with its options looked up by key.
struct Sec<'a> {
    s: &'a UciSection,
}

impl<'a> Sec<'a> {
    fn desc(&self) -> String {
        match &self.s.name {
            Some(n) => format!("config {} '{n}'", self.s.kind),
            None => format!("config {}", self.s.kind),
        }
    }
    /// The (single) option `key`, if present. Duplicates were already reported.
    fn one(&self, key: &str) -> Option<&'a UciOption> {
        self.s.options.iter().find(|o| o.key == key)
    }
    /// All values of a list option: `list` entries, or an `option` whose value
    /// holds space-separated items.
    fn many(&self, key: &str) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        for o in self.s.options.iter().filter(|o| o.key == key) {
            if o.is_list {
                out.push((o.value.clone(), o.line));
            } else {
                out.extend(o.value.split_whitespace().map(|v| (v.to_string(), o.line)));
            }
        }
        out
    }
}

struct Ctx<'f> {
    file: &'f str,
    errors: Vec<ConfigError>,
}

impl Ctx<'_> {
    #[inline(never)]
    fn err(&mut self, line: usize, message: String) {
        self.errors.push(ConfigError {
            file: self.file.to_string(),
            line,
            message,
        });
    }

    /// An optional option, parsed. `Err(())` when present but bad (reported).
    fn opt<T>(
        &mut self,
        sec: &Sec,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ()> {
        match sec.one(key) {
            None => Ok(None),
            Some(o) => match parse(&o.value) {
                Ok(v) => Ok(Some(v)),
                Err(m) => {
                    self.bad_value(o.line, key, m);
                    Err(())
                }
            },
        }
    }

    /// `option 'KEY': MESSAGE` (one body for every `opt` instance).
    #[inline(never)]
    fn bad_value(&mut self, line: usize, key: &str, m: String) {
        self.err(line, format!("option '{key}': {m}"));
    }

    /// A required option that is missing, reported at the section's line
    /// (one body for every `req` instance); true when missing.
    #[inline(never)]
    fn missing(&mut self, sec: &Sec, key: &str, hint: &str) -> bool {
        if sec.one(key).is_none() && !sec.s.options.iter().any(|o| o.key == key) {
            self.err(
                sec.s.line,
                format!("{}: missing required option '{key}' ({hint})", sec.desc()),
            );
            return true;
        }
        false
    }

    /// An option with a default; a bad value is reported and the default used
    /// (so later checks still run).
    fn or<T>(
        &mut self,
        sec: &Sec,
        key: &str,
        default: T,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> T {
        self.opt(sec, key, parse).ok().flatten().unwrap_or(default)
    }

    /// `or` for a whole number in `lo..=hi` (one body for all of them).
    #[inline(never)]
    fn or_uint(&mut self, sec: &Sec, key: &str, default: u64, lo: u64, hi: u64) -> u64 {
        self.or(sec, key, default, |v| parse_uint(v, lo, hi))
    }

    /// `or` for a duration: `parse` is `parse_secs` or `parse_millis`
    /// (one body for all of them).
    #[inline(never)]
    fn or_whole(
        &mut self,
        sec: &Sec,
        key: &str,
        default: u32,
        parse: fn(&str, u64, u64) -> Result<u32, String>,
        lo: u64,
        hi: u64,
    ) -> u32 {
        self.or(sec, key, default, |v| parse(v, lo, hi))
    }

    /// A required option; missing is reported at the section's line with a hint.
    fn req<T>(
        &mut self,
        sec: &Sec,
        key: &str,
        hint: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        if self.missing(sec, key, hint) {
            return None;
        }
        self.opt(sec, key, parse).ok().flatten()
    }

    /// The required `rule` number (1-999999) of a `kind` section; a number
    /// already in `seen` (rule -> line) is reported, a new one added.
    fn rule_number(&mut self, sec: &Sec, kind: &str, seen: &mut Map<u32, usize>) -> Option<u32> {
        let rule = self.req(sec, "rule", "a rule number, 1-999999", |v| {
            parse_uint(v, 1, 999_999).map(|n| n as u32)
        });
        if let (Some(r), Some(o)) = (rule, sec.one("rule")) {
            if let Some(first) = seen.get(&r) {
                self.err(o.line, format!("option 'rule': {kind} rule {r} already exists (line {first}); rule numbers must be unique"));
            } else {
                seen.insert(r, o.line);
            }
        }
        rule
    }

    /// A required reference to a dataplane (lan or wan, never the sync)
    /// interface; `what` names the user in the message.
    fn dataplane_ref(&mut self, refs: &Refs, sec: &Sec, key: &str, what: &str) -> Option<String> {
        let (name, line) = self.reference(sec, key, refs.ifaces, "interface", true)?;
        if refs.sync == Some(name.as_str()) {
            self.err(
                line,
                format!(
                    "option '{key}': '{name}' is the sync interface (a kernel interface for conntrack sync); {what} must use a lan or wan interface"
                ),
            );
            return None;
        }
        Some(name)
    }

    /// Ports need protocol tcp or udp; reported on the port option's line.
    fn port_needs_l4(&mut self, sec: &Sec, key: &str, proto: Option<Protocol>) -> bool {
        let Some(o) = sec.one(key) else { return true };
        match proto {
            Some(Protocol::Tcp | Protocol::Udp) => true,
            other => {
                let has = match other {
                    None => "no protocol (all)".to_string(),
                    Some(Protocol::Icmp) => "protocol icmp".to_string(),
                    Some(p) => format!("protocol {}", p.number()),
                };
                self.err(
                    o.line,
                    format!("option '{key}': ports need option protocol 'tcp' or 'udp' (this section has {has})"),
                );
                false
            }
        }
    }

    /// A required reference to a named section of `kind`.
    fn reference(
        &mut self,
        sec: &Sec,
        key: &str,
        names: &[&str],
        kind: &str,
        required: bool,
    ) -> Option<(String, usize)> {
        let Some(o) = sec.one(key) else {
            if required {
                self.err(
                    sec.s.line,
                    format!(
                        "{}: missing required option '{key}' (the name of a {kind} section)",
                        sec.desc()
                    ),
                );
            }
            return None;
        };
        if !names.contains(&o.value.as_str()) {
            let known = if names.is_empty() {
                format!("there is no {kind} section")
            } else {
                format!("known: {}", names.join(", "))
            };
            self.err(
                o.line,
                format!(
                    "option '{key}': {kind} '{}' is not defined ({known}){}",
                    o.value,
                    did_you_mean(&o.value, names.iter().copied())
                ),
            );
            return None;
        }
        Some((o.value.clone(), o.line))
    }
}

/// Names the section checks refer to: the interfaces, and which one is the
/// sync link (never a dataplane port).
struct Refs<'a> {
    ifaces: &'a [&'a str],
    sync: Option<&'a str>,
}

/// `option host_tap` (default on for lan/wan) and `option host_tap_name`
/// (default `hagw-<name>`, cut to 15 characters) of an interface: the TAP
/// that carries the router's own traffic (SPEC §1).
fn host_tap_of(
    cx: &mut Ctx,
    sec: &Sec,
    name: &str,
    role: Role,
    devices: &Map<String, (String, usize)>,
) -> Option<String> {
    let on = cx.opt(sec, "host_tap", parse_bool).ok().flatten();
    let dev = cx
        .opt(sec, "host_tap_name", |v| {
            if v.is_empty() || v.len() > 15 || v.contains(['/', ' ', '\t', ':']) || v == "." {
                Err(format!(
                    "'{v}' is not a valid device name (1-15 characters, no '/', ':' or spaces)"
                ))
            } else {
                Ok(v.to_string())
            }
        })
        .ok()
        .flatten();
    if role == Role::Sync {
        if let (Some(true), Some(o)) = (on, sec.one("host_tap")) {
            cx.err(
                o.line,
                "option 'host_tap': the sync interface is a kernel interface already; a host TAP is only for lan and wan interfaces".into(),
            );
        }
        return None;
    }
    if on == Some(false) {
        return None;
    }
    let dev = dev.unwrap_or_else(|| {
        let mut d = format!("hagw-{name}");
        d.truncate(15);
        d
    });
    if let Some((other, line)) = devices.get(&dev) {
        let line_here = sec.one("host_tap_name").map_or(sec.s.line, |o| o.line);
        cx.err(
            line_here,
            format!(
                "option 'host_tap_name': '{dev}' is the device of interface '{other}' (line {line}); the host TAP needs a name of its own (or option host_tap '0')"
            ),
        );
        return None;
    }
    Some(dev)
}

/// Interface facts needed by cross-checks (from valid interface sections).
struct IfInfo {
    role: Role,
    address: Ipv4Cidr,
}

pub fn validate(file: &str, sections: &[UciSection]) -> Result<Config, Vec<ConfigError>> {
    let mut cx = Ctx {
        file,
        errors: Vec::new(),
    };

    // Pass 1: section types, option names, duplicates, names; index by type.
    let mut by_kind: Map<&str, Vec<Sec>> = Map::new();
    // libuci keeps one namespace of section names per file, whatever the type.
    let mut seen_names: Map<&str, (&str, usize)> = Map::new();
    for s in sections {
        let Some(opts) = schema(&s.kind) else {
            cx.err(
                s.line,
                format!(
                    "unknown section type '{}'{} (known: {})",
                    s.kind,
                    did_you_mean(&s.kind, SECTION_TYPES.iter().copied()),
                    SECTION_TYPES.join(", ")
                ),
            );
            continue;
        };
        let mut first_line: Map<&str, usize> = Map::new();
        for o in &s.options {
            match opts.iter().find(|(k, _)| *k == o.key) {
                None => {
                    let hint = did_you_mean(&o.key, opts.iter().map(|(k, _)| *k));
                    let hint = if hint.is_empty() {
                        format!(
                            " (known: {})",
                            opts.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
                        )
                    } else {
                        hint
                    };
                    cx.err(
                        o.line,
                        format!(
                            "option '{}' is not known in a {} section{hint}",
                            o.key, s.kind
                        ),
                    );
                }
                Some((_, One)) => {
                    if o.is_list {
                        cx.err(
                            o.line,
                            format!(
                                "'list {}': '{}' takes a single value; write option {} '...'",
                                o.key, o.key, o.key
                            ),
                        );
                    } else if let Some(first) = first_line.get(o.key.as_str()) {
                        cx.err(
                            o.line,
                            format!(
                                "option '{}' is given twice (first on line {first}); libuci would silently keep the last one, hagw refuses so that no value is overridden by accident: keep one",
                                o.key
                            ),
                        );
                    } else {
                        first_line.insert(&o.key, o.line);
                    }
                }
                Some((_, Many)) => {}
            }
        }
        if let Some(n) = &s.name {
            if let Some(&(kind, first)) = seen_names.get(n.as_str()) {
                let msg = if kind == s.kind {
                    format!(
                        "duplicate section name: config {kind} '{n}' is already defined on line {first}; libuci would merge the two sections, hagw refuses so that no option is overridden by accident: give each section its own name"
                    )
                } else {
                    format!(
                        "section name '{n}' is already used by config {kind} on line {first}; libuci keeps one namespace of section names per file, whatever the type (uci rejects this file: \"section of different type overwrites prior section with same name\"): rename one of the two"
                    )
                };
                cx.err(s.line, msg);
                continue;
            }
            seen_names.insert(n, (&s.kind, s.line));
        }
        by_kind.get_or_default(s.kind.as_str()).push(Sec { s });
    }
    let get = |k: &str| by_kind.get(k).map(Vec::as_slice).unwrap_or(&[]);
    let names_of =
        |k: &str| -> Vec<&str> { get(k).iter().filter_map(|s| s.s.name.as_deref()).collect() };
    let iface_names = names_of("interface");
    let ruleset_names = names_of("firewall_ruleset");

    // Single-instance sections.
    for kind in ["globals", "conntrack", "conntrack_sync"] {
        if let [first, rest @ ..] = get(kind) {
            for extra in rest {
                cx.err(
                    extra.s.line,
                    format!(
                        "only one {kind} section is allowed (the first is on line {}); merge them",
                        first.s.line
                    ),
                );
            }
        }
    }
    // Sections that must be named.
    for kind in ["interface", "vrrp_group", "firewall_ruleset", "track"] {
        for sec in get(kind) {
            if sec.s.name.is_none() {
                cx.err(
                    sec.s.line,
                    format!("config {kind} needs a name, e.g. config {kind} 'NAME'; other sections refer to it by name"),
                );
            }
        }
    }

    // globals
    let globals = match get("globals").first() {
        None => Globals::default(),
        Some(sec) => {
            let d = Globals::default();
            // `enabled` is read by the init script (config_get_bool), which
            // starts nothing when it is 0; here it only has to be a boolean.
            cx.or(sec, "enabled", true, parse_bool);
            Globals {
                node_id: cx.or_uint(sec, "node_id", u64::from(d.node_id), 1, 65535) as u16,
                log_level: cx.or(sec, "log_level", d.log_level, |v| {
                    Ok(
                        match parse_choice(v, &["error", "warn", "info", "debug", "trace"])? {
                            "error" => LogLevel::Error,
                            "warn" => LogLevel::Warn,
                            "info" => LogLevel::Info,
                            "debug" => LogLevel::Debug,
                            _ => LogLevel::Trace,
                        },
                    )
                }),
                control_socket: cx.or(sec, "control_socket", d.control_socket, |v| {
                    if !v.starts_with('/') {
                        Err(format!(
                            "'{v}' must be an absolute path, e.g. /var/run/hagw.sock"
                        ))
                    } else if v.len() > 107 {
                        Err(format!(
                            "'{v}' is longer than 107 bytes, the limit of a unix socket path"
                        ))
                    } else {
                        Ok(v.to_string())
                    }
                }),
                nice: cx.or(sec, "nice", d.nice, |v| {
                    v.parse::<i8>()
                        .ok()
                        .filter(|n| (-20..=19).contains(n))
                        .ok_or_else(|| {
                            format!("'{v}' must be a whole number from -20 to 19 (niceness, as for nice(1))")
                        })
                }),
                line: sec.s.line,
            }
        }
    };

    // interfaces
    let mut interfaces = Vec::new();
    let mut ifinfo: Map<String, IfInfo> = Map::new();
    let mut devices: Map<String, (String, usize)> = Map::new();
    let mut sync_iface: Option<(String, usize)> = None;
    let mut own_addrs: Map<Ipv4Addr, (String, usize)> = Map::new();
    for sec in get("interface") {
        let errors_before = cx.errors.len();
        let device = cx.req(sec, "device", "the kernel device, e.g. 'eth0'", |v| {
            if v.is_empty()
                || v.len() > 15
                || v.contains(['/', ' ', '\t', ':'])
                || v == "."
                || v == ".."
            {
                Err(format!(
                    "'{v}' is not a valid device name (1-15 characters, no '/', ':' or spaces)"
                ))
            } else {
                Ok(v.to_string())
            }
        });
        let role = cx.req(sec, "role", "lan, wan or sync", |v| {
            Ok(match parse_choice(v, &["lan", "wan", "sync"])? {
                "lan" => Role::Lan,
                "wan" => Role::Wan,
                _ => Role::Sync,
            })
        });
        let address = cx.req(
            sec,
            "address",
            "A.B.C.D/len, e.g. 192.168.1.1/24",
            parse_host_cidr,
        );
        if let (Some(device), Some(o)) = (&device, sec.one("device")) {
            if let Some((other, line)) = devices.get(device) {
                cx.err(
                    o.line,
                    format!(
                        "option 'device': '{device}' is already used by interface '{other}' (line {line}); each device can belong to one interface"
                    ),
                );
            } else {
                devices.insert(
                    device.clone(),
                    (sec.s.name.clone().unwrap_or_default(), o.line),
                );
            }
        }
        if let (Some(a), Some(o)) = (address, sec.one("address")) {
            if let Some((other, line)) = own_addrs.get(&a.addr) {
                cx.err(
                    o.line,
                    format!(
                        "option 'address': {} is already the address of interface '{other}' (line {line}); each interface needs its own address",
                        a.addr
                    ),
                );
            } else {
                own_addrs.insert(a.addr, (sec.s.name.clone().unwrap_or_default(), o.line));
            }
        }
        if let (Some(Role::Sync), Some(o)) = (role, sec.one("role")) {
            if let Some((other, line)) = &sync_iface {
                cx.err(
                    o.line,
                    format!(
                        "option 'role': interface '{other}' (line {line}) already has role sync; only one sync interface is allowed"
                    ),
                );
            } else {
                sync_iface = Some((sec.s.name.clone().unwrap_or_default(), o.line));
            }
        }
        if let (Some(name), Some(device), Some(role), Some(address)) =
            (&sec.s.name, device, role, address)
        {
            // A broken interface takes no part in cross-checks (no cascades).
            if cx.errors.len() == errors_before {
                ifinfo.insert(name.clone(), IfInfo { role, address });
            }
            let host_tap = host_tap_of(&mut cx, sec, name, role, &devices);
            interfaces.push(Interface {
                name: name.clone(),
                device,
                role,
                address,
                host_tap,
                line: sec.s.line,
            });
        }
    }
    let sync_name = sync_iface.as_ref().map(|(n, _)| n.clone());
    let refs = &Refs {
        ifaces: &iface_names,
        sync: sync_name.as_deref(),
    };

    // routes
    let mut routes = Vec::new();
    let mut route_targets: Map<Ipv4Cidr, usize> = Map::new();
    for sec in get("route") {
        let target = cx.req(sec, "target", "a prefix, e.g. 0.0.0.0/0", |v| {
            parse_prefix(v, false)
        });
        if let (Some(t), Some(o)) = (target, sec.one("target")) {
            if let Some(first) = route_targets.get(&t) {
                cx.err(
                    o.line,
                    format!("option 'target': a route to {t} already exists (line {first}); one route per prefix"),
                );
            } else {
                route_targets.insert(t, o.line);
            }
        }
        let gateway = cx.opt(sec, "gateway", parse_unicast);
        let iface = cx.dataplane_ref(refs, sec, "interface", "a route");
        if let (Ok(Some(gw)), Some(i), Some(o)) = (gateway, &iface, sec.one("gateway")) {
            if let Some(info) = ifinfo.get(i) {
                if !info.address.contains(gw) {
                    cx.err(
                        o.line,
                        format!(
                            "option 'gateway': '{gw}' is not inside interface '{i}''s subnet {}/{}; a gateway must be directly reachable",
                            info.address.network(),
                            info.address.prefix_len
                        ),
                    );
                }
            }
        }
        if let (Some(target), Ok(gateway), Some(interface)) = (target, gateway, iface) {
            routes.push(Route {
                target,
                gateway,
                interface,
                line: sec.s.line,
            });
        }
    }

    // health tracks (before the groups that list them)
    let tracks = track::tracks(&mut cx, get("track"), &iface_names, &ifinfo, &routes);

    let (vrrp_groups, vrrp_errors) = vrrp::groups(
        &mut cx,
        get("vrrp_group"),
        refs,
        &ifinfo,
        &own_addrs,
        &tracks,
    );

    // conntrack
    let conntrack = match get("conntrack").first() {
        None => Conntrack::default(),
        Some(sec) => {
            let d = Conntrack::default();
            let max_entries =
                cx.or_uint(sec, "max_entries", u64::from(d.max_entries), 16, 4_194_304) as u32;
            let external_max_entries = cx.or_uint(
                sec,
                "external_max_entries",
                u64::from(max_entries),
                16,
                4_194_304,
            ) as u32;
            let mut t = ConntrackTimeouts::default();
            for key in TIMEOUTS {
                let slot = match key {
                    "tcp_syn_sent_timeout" => &mut t.tcp_syn_sent,
                    "tcp_syn_recv_timeout" => &mut t.tcp_syn_recv,
                    "tcp_established_timeout" => &mut t.tcp_established,
                    "tcp_fin_wait_timeout" => &mut t.tcp_fin_wait,
                    "tcp_close_wait_timeout" => &mut t.tcp_close_wait,
                    "tcp_last_ack_timeout" => &mut t.tcp_last_ack,
                    "tcp_time_wait_timeout" => &mut t.tcp_time_wait,
                    "tcp_close_timeout" => &mut t.tcp_close,
                    "udp_timeout" => &mut t.udp,
                    "udp_stream_timeout" => &mut t.udp_stream,
                    "icmp_timeout" => &mut t.icmp,
                    _ => &mut t.generic,
                };
                *slot = cx.or_whole(sec, key, *slot, parse_secs, 1, 31_536_000);
            }
            Conntrack {
                max_entries,
                external_max_entries,
                timeouts: t,
                line: sec.s.line,
            }
        }
    };

    let (firewall_rulesets, firewall_rules, firewall_attaches) = firewall::rules(
        &mut cx,
        [
            get("firewall_ruleset"),
            get("firewall_rule"),
            get("firewall_attach"),
        ],
        refs,
        &ruleset_names,
    );

    // conntrack_sync (parsed before NAT: the SNAT rule depends on it)
    let sync_group_names: Vec<String> = {
        let mut v: Vec<String> = vrrp_groups
            .iter()
            .filter_map(|g| g.sync_group.clone())
            .collect();
        v.dedup();
        v
    };
    let conntrack_sync = get("conntrack_sync").first().and_then(|sec| {
        let interface = match cx.reference(sec, "interface", &iface_names, "interface", true) {
            Some((name, line)) => match ifinfo.get(&name) {
                Some(info) if info.role != Role::Sync => {
                    cx.err(
                        line,
                        format!(
                            "option 'interface': '{name}' has role {}; conntrack sync needs the interface with role sync (a dedicated link)",
                            if info.role == Role::Lan { "lan" } else { "wan" }
                        ),
                    );
                    None
                }
                _ => Some(name),
            },
            None => None,
        };
        let sync_group = match sec.one("sync_group") {
            None => None,
            Some(o) if sync_group_names.contains(&o.value) => Some(o.value.clone()),
            Some(o) => {
                let known = if sync_group_names.is_empty() {
                    "no vrrp_group sets option sync_group".to_string()
                } else {
                    format!("known: {}", sync_group_names.join(", "))
                };
                cx.err(
                    o.line,
                    format!(
                        "option 'sync_group': no vrrp_group is in sync group '{}' ({known})",
                        o.value
                    ),
                );
                None
            }
        };
        let mcast_group = cx.or(sec, "mcast_group", Ipv4Addr::new(225, 0, 0, 50), |v| {
            let a = parse_addr(v)?;
            if a.is_multicast() {
                Ok(a)
            } else {
                Err(format!("'{v}' is not a multicast address (expected 224.0.0.0-239.255.255.255, e.g. 225.0.0.50)"))
            }
        });
        let port = cx.or(sec, "port", 3780u16, parse_port);
        let peer = cx.opt(sec, "peer", parse_unicast).ok().flatten();
        let auth_key = cx
            .opt(sec, "auth_key", |v| {
                if v.len() >= 8 {
                    Ok(v.to_string())
                } else {
                    Err(format!("is {} characters long; use at least 8", v.len()))
                }
            })
            .ok()
            .flatten();
        let resync_timeout_secs = cx.or_whole(sec, "resync_timeout", 30, parse_secs, 1, 3600);
        let d = BfdSettings::default();
        let bfd = BfdSettings {
            enabled: cx.or(sec, "bfd", d.enabled, parse_bool),
            min_tx_ms: cx.or_whole(sec, "bfd_min_tx", d.min_tx_ms, parse_millis, 1, 10_000),
            min_rx_ms: cx.or_whole(sec, "bfd_min_rx", d.min_rx_ms, parse_millis, 1, 10_000),
            multiplier: cx.or_uint(sec, "bfd_multiplier", u64::from(d.multiplier), 1, 255) as u8,
        };
        let fast_takeover = cx.or(sec, "fast_takeover", false, parse_bool);
        if let (true, Some(o)) = (fast_takeover, sec.one("fast_takeover")) {
            // A bad `bfd` value is reported already; no second error for it.
            let bfd_bad = sec.one("bfd").is_some_and(|b| parse_bool(&b.value).is_err());
            if !bfd.enabled && !bfd_bad {
                cx.err(
                    o.line,
                    "option 'fast_takeover': needs option bfd '1' (the takeover is triggered by the BFD session to the master going down)".to_string(),
                );
            }
            if sec.one("sync_group").is_none() {
                cx.err(
                    o.line,
                    "option 'fast_takeover': needs option sync_group (fast takeover is per sync group: it moves that group's VRRP groups)".to_string(),
                );
            }
        }
        Some(ConntrackSync {
            name: sec.s.name.clone().unwrap_or_else(|| "sync".to_string()),
            interface: interface?,
            sync_group,
            mcast_group,
            port,
            peer,
            auth_key,
            resync_timeout_secs,
            bfd,
            fast_takeover,
            line: sec.s.line,
        })
    });
    let sync_on = !get("conntrack_sync").is_empty();

    let (nat_source, nat_destination) = nat::rules(
        &mut cx,
        [get("nat_source"), get("nat_destination")],
        refs,
        sync_on && !vrrp_errors,
        &vrrp_groups,
    );

    if !cx.errors.is_empty() {
        cx.errors.sort_by_key(|e| e.line);
        return Err(cx.errors);
    }
    Ok(Config {
        path: file.to_string(),
        globals,
        interfaces,
        routes,
        vrrp_groups,
        conntrack,
        firewall_rulesets,
        firewall_rules,
        firewall_attaches,
        nat_source,
        nat_destination,
        conntrack_sync,
        tracks,
    })
}

#[cfg(test)]
mod tests;
