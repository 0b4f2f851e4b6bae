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

/// Whether an option takes one value or a list.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Arity {
    One,
    /// `list key 'v'` entries, or `option key 'v1 v2'` (space-separated).
    Many,
}
use Arity::{Many, One};

mod track;

const TIMEOUTS: [&str; 12] = [
    "tcp_syn_sent_timeout",
    "tcp_syn_recv_timeout",
    "tcp_established_timeout",
    "tcp_fin_wait_timeout",
    "tcp_close_wait_timeout",
    "tcp_last_ack_timeout",
    "tcp_time_wait_timeout",
    "tcp_close_timeout",
    "udp_timeout",
    "udp_stream_timeout",
    "icmp_timeout",
    "generic_timeout",
];

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

/// The schema: section type => its options.
fn schema(kind: &str) -> Option<&'static [(&'static str, Arity)]> {
    Some(match kind {
        "globals" => &[
            ("enabled", One),
            ("node_id", One),
            ("log_level", One),
            ("control_socket", One),
        ],
        "interface" => &[
            ("device", One),
            ("role", One),
            ("address", One),
            ("host_tap", One),
            ("host_tap_name", One),
        ],
        "route" => &[("target", One), ("gateway", One), ("interface", One)],
        "vrrp_group" => &[
            ("interface", One),
            ("vrid", One),
            ("virtual_address", Many),
            ("priority", One),
            ("preempt", One),
            ("preempt_delay", One),
            ("advertise_interval", One),
            ("version", One),
            ("rfc3768_compatibility", One),
            ("auth_type", One),
            ("auth_password", One),
            ("sync_group", One),
            ("track_interface", Many),
            track::GROUP_OPTION,
            ("notify", One),
            ("notify_args", One),
            ("unicast_peer", Many),
            ("garp_repeat", One),
            ("garp_refresh", One),
            ("v3_checksum", One),
        ],
        "conntrack" => &[
            ("max_entries", One),
            ("external_max_entries", One),
            ("tcp_syn_sent_timeout", One),
            ("tcp_syn_recv_timeout", One),
            ("tcp_established_timeout", One),
            ("tcp_fin_wait_timeout", One),
            ("tcp_close_wait_timeout", One),
            ("tcp_last_ack_timeout", One),
            ("tcp_time_wait_timeout", One),
            ("tcp_close_timeout", One),
            ("udp_timeout", One),
            ("udp_stream_timeout", One),
            ("icmp_timeout", One),
            ("generic_timeout", One),
        ],
        "firewall_ruleset" => &[("default_action", One)],
        "firewall_rule" => &[
            ("ruleset", One),
            ("description", One),
            ("protocol", One),
            ("source", One),
            ("destination", One),
            ("source_port", One),
            ("destination_port", One),
            ("state", One),
            ("action", One),
        ],
        "firewall_attach" => &[("interface", One), ("direction", One), ("ruleset", One)],
        "nat_source" => &[
            ("rule", One),
            ("description", One),
            ("outbound_interface", One),
            ("protocol", One),
            ("source", One),
            ("destination", One),
            ("translation_address", One),
            ("translation_port", One),
        ],
        "nat_destination" => &[
            ("rule", One),
            ("description", One),
            ("inbound_interface", One),
            ("protocol", One),
            ("destination_address", One),
            ("destination_port", One),
            ("translation_address", One),
            ("translation_port", One),
        ],
        "conntrack_sync" => &[
            ("interface", One),
            ("sync_group", One),
            ("mcast_group", One),
            ("port", One),
            ("peer", One),
            ("auth_key", One),
            ("resync_timeout", One),
            ("bfd", One),
            ("bfd_min_tx", One),
            ("bfd_min_rx", One),
            ("bfd_multiplier", One),
            ("fast_takeover", One),
        ],
        "track" => track::OPTIONS,
        _ => return None,
    })
}

const SECTION_TYPES: [&str; 12] = [
    "globals",
    "interface",
    "route",
    "vrrp_group",
    "conntrack",
    "firewall_ruleset",
    "firewall_rule",
    "firewall_attach",
    "nat_source",
    "nat_destination",
    "conntrack_sync",
    "track",
];

/// Levenshtein distance, for "did you mean" hints (inputs are short names).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            let del = prev[j + 1] + 1;
            let ins = cur[j] + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn did_you_mean<'a>(word: &str, candidates: impl Iterator<Item = &'a str> + Clone) -> String {
    // A unique candidate that extends the word ("vrrp" -> "vrrp_group") first.
    let mut prefixed = candidates
        .clone()
        .filter(|c| word.len() >= 3 && c.starts_with(word));
    if let (Some(c), None) = (prefixed.next(), prefixed.next()) {
        return format!(" (did you mean '{c}'?)");
    }
    let best = candidates
        .map(|c| (distance(word, c), c))
        .filter(|(d, _)| *d <= 2.max(word.len() / 4))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((_, c)) => format!(" (did you mean '{c}'?)"),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------
// Value parsers. Each returns the value or the message tail that follows
// `option 'KEY': `.

fn parse_uint(v: &str, lo: u64, hi: u64) -> Result<u64, String> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'{v}' is not a whole number (expected {lo}-{hi})"));
    }
    match v.parse::<u64>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n),
        _ => Err(format!("'{v}' is out of range {lo}-{hi}")),
    }
}

/// A duration in whole seconds.
fn parse_secs(v: &str, lo: u64, hi: u64) -> Result<u32, String> {
    parse_whole(v, lo, hi, "seconds")
}

/// A duration in whole milliseconds.
fn parse_millis(v: &str, lo: u64, hi: u64) -> Result<u32, String> {
    parse_whole(v, lo, hi, "milliseconds")
}

/// A whole number of `unit` in `lo..=hi`.
fn parse_whole(v: &str, lo: u64, hi: u64, unit: &str) -> Result<u32, String> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "'{v}' is not a whole number of {unit} (expected {lo}-{hi})"
        ));
    }
    match v.parse::<u64>() {
        Ok(n) if (lo..=hi).contains(&n) => {
            u32::try_from(n).map_err(|_| format!("'{v}' is out of range {lo}-{hi} {unit}"))
        }
        _ => Err(format!("'{v}' is out of range {lo}-{hi} {unit}")),
    }
}

fn parse_bool(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "enabled" => Ok(true),
        "0" | "false" | "no" | "off" | "disabled" => Ok(false),
        _ => Err(format!(
            "'{v}' is not a boolean (use 1/0, true/false, yes/no or on/off)"
        )),
    }
}

fn parse_choice<'a>(v: &str, choices: &[&'a str]) -> Result<&'a str, String> {
    choices
        .iter()
        .find(|c| **c == v)
        .copied()
        .ok_or_else(|| format!("'{v}' is not one of {}", choices.join(", ")))
}

fn parse_addr(v: &str) -> Result<Ipv4Addr, String> {
    v.parse::<Ipv4Addr>()
        .map_err(|_| format!("'{v}' is not an IPv4 address (expected A.B.C.D, e.g. 192.168.1.1)"))
}

fn is_unicast(a: Ipv4Addr) -> bool {
    !(a.is_unspecified() || a.is_multicast() || a.is_broadcast() || a.is_loopback())
}

fn parse_unicast(v: &str) -> Result<Ipv4Addr, String> {
    let a = parse_addr(v)?;
    if !is_unicast(a) {
        return Err(format!(
            "'{v}' is not a unicast address (0.0.0.0, 127/8, multicast and broadcast are not allowed here)"
        ));
    }
    Ok(a)
}

fn parse_len(v: &str, len: &str, min: u8) -> Result<u8, String> {
    if len.is_empty() || len.len() > 2 || !len.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "'{v}' has a bad prefix length '/{len}' (expected /{min}-/32)"
        ));
    }
    match len.parse::<u8>() {
        Ok(n) if (min..=32).contains(&n) => Ok(n),
        _ => Err(format!(
            "'{v}' has prefix length /{len}, outside /{min}-/32"
        )),
    }
}

/// `A.B.C.D/len` with the length required (an interface address).
fn parse_host_cidr(v: &str) -> Result<Ipv4Cidr, String> {
    let Some((a, l)) = v.split_once('/') else {
        return Err(format!(
            "'{v}' needs a prefix length (expected A.B.C.D/len, e.g. 192.168.1.1/24)"
        ));
    };
    let addr = parse_addr(a).map_err(|_| {
        format!(
            "'{v}' is not an address with prefix length (expected A.B.C.D/len, e.g. 192.168.1.1/24)"
        )
    })?;
    let prefix_len = parse_len(v, l, 1)?;
    let c = Ipv4Cidr { addr, prefix_len };
    if !is_unicast(addr) {
        return Err(format!(
            "'{v}' is not a unicast address (0.0.0.0, 127/8, multicast and broadcast are not allowed here)"
        ));
    }
    if prefix_len <= 30 {
        let host = u32::from(addr) & !c.netmask();
        if host == 0 {
            return Err(format!(
                "'{v}' is the network address of {}/{prefix_len}; use a host address inside it",
                c.network()
            ));
        }
        if host == !c.netmask() {
            return Err(format!(
                "'{v}' is the broadcast address of {}/{prefix_len}; use a host address inside it",
                c.network()
            ));
        }
    }
    Ok(c)
}

/// A network prefix `A.B.C.D/len` (host bits must be zero); a bare address
/// means /32 when `bare_ok`.
fn parse_prefix(v: &str, bare_ok: bool) -> Result<Ipv4Cidr, String> {
    let (a, l) = match v.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None if bare_ok => (v, None),
        None => {
            return Err(format!(
                "'{v}' needs a prefix length (expected A.B.C.D/len, e.g. 10.0.0.0/8 or 0.0.0.0/0)"
            ));
        }
    };
    let addr = parse_addr(a).map_err(|_| {
        format!("'{v}' is not an IPv4 prefix (expected A.B.C.D/len, e.g. 10.0.0.0/8)")
    })?;
    let prefix_len = match l {
        Some(l) => parse_len(v, l, 0)?,
        None => 32,
    };
    let c = Ipv4Cidr { addr, prefix_len };
    if c.network() != addr {
        return Err(format!(
            "'{v}' has host bits set; did you mean '{}/{prefix_len}'?",
            c.network()
        ));
    }
    Ok(c)
}

fn parse_port(v: &str) -> Result<u16, String> {
    parse_uint(v, 1, 65535)
        .map(|n| n as u16)
        .map_err(|_| format!("'{v}' is not a port (expected 1-65535)"))
}

/// `LO-HI`, or one value meaning `V-V`, each end read by `parse`: (lo, hi).
/// An unreadable end gives the message `bad`; `what` names the ends in
/// the message for an empty range.
fn parse_range<T: PartialOrd + std::fmt::Display>(
    v: &str,
    what: &str,
    bad: impl Fn() -> String,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<(T, T), String> {
    let (lo, hi) = v.split_once('-').unwrap_or((v, v));
    let lo = parse(lo).map_err(|_| bad())?;
    let hi = parse(hi).map_err(|_| bad())?;
    if lo > hi {
        return Err(format!(
            "'{v}' is an empty range; write the lower {what} first ('{hi}-{lo}')"
        ));
    }
    Ok((lo, hi))
}

fn parse_port_range(v: &str) -> Result<PortRange, String> {
    let bad = || {
        format!(
            "'{v}' is not a port or port range (expected e.g. '22' or '1024-65535', ports 1-65535)"
        )
    };
    let (lo, hi) = parse_range(v, "port", bad, parse_port)?;
    Ok(PortRange { lo, hi })
}

fn parse_addr_range(v: &str) -> Result<AddrRange, String> {
    let bad = || {
        format!("'{v}' is not an address or address range (expected A.B.C.D or A.B.C.D-A.B.C.D)")
    };
    let (lo, hi) = parse_range(v, "address", bad, parse_unicast)?;
    Ok(AddrRange { lo, hi })
}

fn parse_protocol(v: &str) -> Result<Option<Protocol>, String> {
    match v.to_ascii_lowercase().as_str() {
        "tcp" => Ok(Some(Protocol::Tcp)),
        "udp" => Ok(Some(Protocol::Udp)),
        "icmp" => Ok(Some(Protocol::Icmp)),
        "all" | "any" => Ok(None),
        _ => parse_uint(v, 0, 255)
            .map(|n| Some(Protocol::from_number(n as u8)))
            .map_err(|_| {
                format!("'{v}' is not a protocol (expected tcp, udp, icmp, all or a number 0-255)")
            }),
    }
}

fn parse_action(v: &str) -> Result<FirewallAction, String> {
    Ok(match parse_choice(v, &["accept", "drop", "reject"])? {
        "accept" => FirewallAction::Accept,
        "drop" => FirewallAction::Drop,
        _ => FirewallAction::Reject,
    })
}

fn parse_state(v: &str) -> Result<StateSet, String> {
    let mut s = StateSet::default();
    let mut any = false;
    for part in v.split(',').map(str::trim) {
        match part {
            "new" => s.new = true,
            "established" => s.established = true,
            "related" => s.related = true,
            "invalid" => s.invalid = true,
            "" => continue,
            other => {
                return Err(format!(
                    "'{v}': unknown state '{other}' (expected a comma list of new, established, related, invalid)"
                ));
            }
        }
        any = true;
    }
    if !any {
        return Err(format!(
            "'{v}' names no state (expected a comma list of new, established, related, invalid)"
        ));
    }
    Ok(s)
}

/// Advertisement interval in centiseconds: v2 whole seconds 1-255, v3 decimal
/// seconds 0.01-40.95 in centisecond steps.
fn parse_interval(v: &str, version: u8) -> Result<u16, String> {
    if version == 2 {
        if v.contains('.') {
            return Err(format!(
                "'{v}': VRRPv2 advertises in whole seconds (1-255); use version 3 for sub-second intervals"
            ));
        }
        return parse_uint(v, 1, 255).map(|n| (n * 100) as u16);
    }
    let bad = || {
        format!(
            "'{v}' is not an interval in seconds (expected 0.01-40.95 in steps of 0.01, e.g. '0.1' or '1')"
        )
    };
    let (int, frac) = match v.split_once('.') {
        Some((i, f)) => (i, f),
        None => (v, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) || int.len() > 3 {
        return Err(bad());
    }
    let whole: u32 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| bad())?
    };
    let (cs_part, rest) = frac.split_at(frac.len().min(2));
    if rest.bytes().any(|b| b != b'0') {
        return Err(format!(
            "'{v}' is finer than VRRPv3's centisecond steps; use at most two decimals (e.g. '0.15')"
        ));
    }
    let mut cs: u32 = 0;
    for (i, b) in cs_part.bytes().enumerate() {
        let d = u32::from(b - b'0');
        cs += if i == 0 { d * 10 } else { d };
    }
    let total = whole * 100 + cs;
    if !(1..=4095).contains(&total) {
        return Err(format!("'{v}' is out of range 0.01-40.95 seconds"));
    }
    Ok(total as u16)
}

// ---------------------------------------------------------------------------

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
                    self.err(o.line, format!("option '{key}': {m}"));
                    Err(())
                }
            },
        }
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

    /// A required option; missing is reported at the section's line with a hint.
    fn req<T>(
        &mut self,
        sec: &Sec,
        key: &str,
        hint: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        if sec.one(key).is_none() && !sec.s.options.iter().any(|o| o.key == key) {
            self.err(
                sec.s.line,
                format!("{}: missing required option '{key}' ({hint})", sec.desc()),
            );
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
                node_id: cx.or(sec, "node_id", d.node_id, |v| {
                    parse_uint(v, 1, 65535).map(|n| n as u16)
                }),
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
    // Reference to a dataplane (non-sync) interface.
    let dataplane_ref = |cx: &mut Ctx, sec: &Sec, key: &str, what: &str| -> Option<String> {
        let (name, line) = cx.reference(sec, key, &iface_names, "interface", true)?;
        if sync_name.as_deref() == Some(name.as_str()) {
            cx.err(
                line,
                format!(
                    "option '{key}': '{name}' is the sync interface (a kernel interface for conntrack sync); {what} must use a lan or wan interface"
                ),
            );
            return None;
        }
        Some(name)
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
        let iface = dataplane_ref(&mut cx, sec, "interface", "a route");
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

    // VRRP groups
    let mut vrrp_groups: Vec<VrrpGroup> = Vec::new();
    // Any group with an error: its VIPs are unknown, so the SNAT-is-a-VIP
    // check below would only repeat the group's error.
    let mut vrrp_errors = false;
    let mut all_vips: Map<Ipv4Addr, (String, usize)> = Map::new();
    let mut vrids: Map<(String, u8), (String, usize)> = Map::new();
    for sec in get("vrrp_group") {
        let errors_before = cx.errors.len();
        let mut ok = true;
        let iface = cx.reference(sec, "interface", &iface_names, "interface", true);
        let iface = match iface {
            Some((name, line)) if sync_name.as_deref() == Some(name.as_str()) => {
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
        let priority = cx.or(sec, "priority", 1u8, |v| {
            parse_uint(v, 1, 255).map(|n| n as u8)
        });
        let preempt = cx.or(sec, "preempt", true, parse_bool);
        let preempt_delay_secs = cx.or(sec, "preempt_delay", 0u32, |v| parse_secs(v, 0, 3600));
        let advert_interval_cs = cx.or(sec, "advertise_interval", 100u16, |v| {
            parse_interval(v, version)
        });
        let rfc3768_compatibility = cx.or(sec, "rfc3768_compatibility", false, parse_bool);
        let auth_type = cx.opt(sec, "auth_type", |v| match v {
            "ah" => Err(
                "auth_type 'ah' is not supported by this version; use plaintext-password or none"
                    .to_string(),
            ),
            _ => parse_choice(v, &["none", "plaintext-password"]),
        });
        let password = cx.opt(sec, "auth_password", |v| {
            if v.is_empty() || v.len() > 8 {
                Err(format!(
                    "'{v}' is {} bytes long; a VRRP plaintext password is 1-8 characters",
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
            ("plaintext-password", Ok(None)) => {
                let line = sec.one("auth_type").map_or(sec.s.line, |o| o.line);
                cx.err(
                    line,
                    "option 'auth_type': plaintext-password needs option auth_password (1-8 characters, the same on all routers)"
                        .to_string(),
                );
                ok = false;
                VrrpAuth::None
            }
            ("none", Ok(Some(_))) => {
                let line = sec.one("auth_password").map_or(sec.s.line, |o| o.line);
                cx.err(
                    line,
                    "option 'auth_password' is set but auth_type is none; add option auth_type 'plaintext-password' or remove the password"
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
            if iface_names.contains(&v.as_str()) {
                track_interfaces.push(v);
            } else {
                cx.err(
                    line,
                    format!(
                        "option 'track_interface': interface '{v}' is not defined (known: {}){}",
                        iface_names.join(", "),
                        did_you_mean(&v, iface_names.iter().copied())
                    ),
                );
            }
        }
        let owner = iface
            .as_ref()
            .and_then(|i| ifinfo.get(i))
            .is_some_and(|i| vips.iter().any(|v: &Ipv4Cidr| v.addr == i.address.addr));
        let group_tracks = track::group_tracks(&mut cx, sec, &tracks, owner);
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
        let garp_repeat = cx.or(sec, "garp_repeat", 3u8, |v| {
            parse_uint(v, 1, 100).map(|n| n as u8)
        });
        let garp_refresh_secs = cx.or(sec, "garp_refresh", 60u32, |v| parse_secs(v, 0, 86400));
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

    // conntrack
    let conntrack = match get("conntrack").first() {
        None => Conntrack::default(),
        Some(sec) => {
            let d = Conntrack::default();
            let max_entries = cx.or(sec, "max_entries", d.max_entries, |v| {
                parse_uint(v, 16, 4_194_304).map(|n| n as u32)
            });
            let external_max_entries = cx.or(sec, "external_max_entries", max_entries, |v| {
                parse_uint(v, 16, 4_194_304).map(|n| n as u32)
            });
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
                *slot = cx.or(sec, key, *slot, |v| parse_secs(v, 1, 31_536_000));
            }
            Conntrack {
                max_entries,
                external_max_entries,
                timeouts: t,
                line: sec.s.line,
            }
        }
    };

    // firewall
    let mut firewall_rulesets = Vec::new();
    for sec in get("firewall_ruleset") {
        let default_action = cx.or(sec, "default_action", FirewallAction::Drop, parse_action);
        if let Some(name) = &sec.s.name {
            firewall_rulesets.push(FirewallRuleset {
                name: name.clone(),
                default_action,
                line: sec.s.line,
            });
        }
    }
    // Ports need protocol tcp or udp; report on the port option's line.
    let port_needs_l4 = |cx: &mut Ctx, sec: &Sec, key: &str, proto: Option<Protocol>| -> bool {
        let Some(o) = sec.one(key) else { return true };
        match proto {
            Some(Protocol::Tcp | Protocol::Udp) => true,
            other => {
                let has = match other {
                    None => "no protocol (all)".to_string(),
                    Some(Protocol::Icmp) => "protocol icmp".to_string(),
                    Some(p) => format!("protocol {}", p.number()),
                };
                cx.err(
                    o.line,
                    format!("option '{key}': ports need option protocol 'tcp' or 'udp' (this section has {has})"),
                );
                false
            }
        }
    };
    let mut firewall_rules = Vec::new();
    for sec in get("firewall_rule") {
        let ruleset = cx.reference(sec, "ruleset", &ruleset_names, "firewall_ruleset", true);
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
            ok &= port_needs_l4(&mut cx, sec, "source_port", p);
            ok &= port_needs_l4(&mut cx, sec, "destination_port", p);
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
    for sec in get("firewall_attach") {
        let interface = dataplane_ref(&mut cx, sec, "interface", "a firewall attachment");
        let direction = cx.req(sec, "direction", "in, out or local", |v| {
            Ok(match parse_choice(v, &["in", "out", "local"])? {
                "in" => Direction::In,
                "out" => Direction::Out,
                _ => Direction::Local,
            })
        });
        let ruleset = cx.reference(sec, "ruleset", &ruleset_names, "firewall_ruleset", true);
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
        let resync_timeout_secs = cx.or(sec, "resync_timeout", 30u32, |v| parse_secs(v, 1, 3600));
        let d = BfdSettings::default();
        let bfd = BfdSettings {
            enabled: cx.or(sec, "bfd", d.enabled, parse_bool),
            min_tx_ms: cx.or(sec, "bfd_min_tx", d.min_tx_ms, |v| parse_millis(v, 1, 10_000)),
            min_rx_ms: cx.or(sec, "bfd_min_rx", d.min_rx_ms, |v| parse_millis(v, 1, 10_000)),
            multiplier: cx.or(sec, "bfd_multiplier", d.multiplier, |v| {
                parse_uint(v, 1, 255).map(|n| n as u8)
            }),
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

    // NAT
    let mut nat_source: Vec<NatSource> = Vec::new();
    let mut snat_rules: Map<u32, usize> = Map::new();
    for sec in get("nat_source") {
        let rule = cx.rule_number(sec, "nat_source", &mut snat_rules);
        let description = cx.opt(sec, "description", |v| Ok(v.to_string()));
        let outbound = dataplane_ref(&mut cx, sec, "outbound_interface", "source NAT");
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
            sync_on && !vrrp_errors,
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
    for sec in get("nat_destination") {
        let rule = cx.rule_number(sec, "nat_destination", &mut dnat_rules);
        let description = cx.opt(sec, "description", |v| Ok(v.to_string()));
        let inbound = dataplane_ref(&mut cx, sec, "inbound_interface", "destination NAT");
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
            ok &= port_needs_l4(&mut cx, sec, "destination_port", p);
            ok &= port_needs_l4(&mut cx, sec, "translation_port", p);
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
mod tests {
    use super::*;
    use crate::config::parse_str;

    const MIN: &str = "config interface 'lan'\n\toption device 'lan0'\n\toption role 'lan'\n\toption address '192.168.1.2/24'\n\nconfig interface 'wan'\n\toption device 'wan0'\n\toption role 'wan'\n\toption address '10.0.0.2/24'\n";

    fn ok(extra: &str) -> Config {
        parse_str("t.uci", &format!("{MIN}{extra}")).unwrap_or_else(|e| panic!("{e:#?}"))
    }
    fn bad(extra: &str) -> Vec<String> {
        match parse_str("t.uci", &format!("{MIN}{extra}")) {
            Ok(c) => panic!("accepted: {c:#?}"),
            Err(e) => e.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn defaults_when_sections_absent() {
        let c = ok("");
        assert_eq!(c.globals, Globals::default());
        assert_eq!(c.globals.node_id, 1);
        assert_eq!(c.globals.log_level, LogLevel::Info);
        assert_eq!(c.conntrack, Conntrack::default());
        assert_eq!(c.conntrack.timeouts.tcp_established, 432_000);
        assert!(c.conntrack_sync.is_none());
        assert_eq!(c.path, "t.uci");
    }

    #[test]
    fn vrrp_defaults_and_vip_prefix_from_interface() {
        let c = ok(
            "config vrrp_group 'g'\n\toption interface 'lan'\n\toption vrid '7'\n\toption virtual_address '192.168.1.50'\n",
        );
        let g = &c.vrrp_groups[0];
        assert_eq!(g.virtual_addresses[0].to_string(), "192.168.1.50/24");
        assert_eq!(g.priority, 1);
        assert!(g.preempt);
        assert_eq!(g.preempt_delay_secs, 0);
        assert_eq!(g.advert_interval_cs, 100);
        assert_eq!(g.version, 2);
        assert!(!g.rfc3768_compatibility);
        assert_eq!(g.auth, VrrpAuth::None);
        assert_eq!((g.garp_repeat, g.garp_refresh_secs), (3, 60));
        assert!(!g.v3_checksum_legacy);
        assert_eq!(g.line, 10);
    }

    #[test]
    fn vrrp_all_options() {
        let c = ok(concat!(
            "config vrrp_group 'g'\n",
            "\toption interface 'lan'\n",
            "\toption vrid '7'\n",
            "\tlist virtual_address '192.168.1.50/25'\n",
            "\tlist virtual_address '172.16.0.1'\n",
            "\toption priority '255'\n",
            "\toption preempt 'off'\n",
            "\toption preempt_delay '3600'\n",
            "\toption version '3'\n",
            "\toption advertise_interval '0.1'\n",
            "\toption rfc3768_compatibility 'yes'\n",
            "\toption sync_group 'gw'\n",
            "\toption track_interface 'wan lan'\n",
            "\toption notify '/etc/hagw/notify.sh'\n",
            "\tlist unicast_peer '192.168.1.3'\n",
            "\tlist unicast_peer '192.168.1.4'\n",
            "\toption garp_repeat '100'\n",
            "\toption garp_refresh '0'\n",
            "\toption v3_checksum 'legacy'\n",
        ));
        let g = &c.vrrp_groups[0];
        assert_eq!(g.virtual_addresses[0].to_string(), "192.168.1.50/25");
        assert_eq!(g.virtual_addresses[1].to_string(), "172.16.0.1/24");
        assert_eq!(g.priority, 255);
        assert!(!g.preempt);
        assert_eq!(g.preempt_delay_secs, 3600);
        assert_eq!((g.version, g.advert_interval_cs), (3, 10));
        assert!(g.rfc3768_compatibility);
        assert_eq!(g.sync_group.as_deref(), Some("gw"));
        assert_eq!(g.track_interfaces, vec!["wan", "lan"]);
        assert_eq!(g.notify.as_deref(), Some("/etc/hagw/notify.sh"));
        assert_eq!(
            g.unicast_peers,
            vec![Ipv4Addr::new(192, 168, 1, 3), Ipv4Addr::new(192, 168, 1, 4)]
        );
        assert_eq!((g.garp_repeat, g.garp_refresh_secs), (100, 0));
        assert!(g.v3_checksum_legacy);
        assert!(!c.is_address_owner(g));
    }

    #[test]
    fn plaintext_auth_and_address_owner() {
        let c = ok(
            "config vrrp_group 'g'\n\toption interface 'lan'\n\toption vrid '7'\n\tlist virtual_address '192.168.1.2'\n\toption auth_type 'plaintext-password'\n\toption auth_password '12345678'\n",
        );
        let g = &c.vrrp_groups[0];
        assert_eq!(g.auth, VrrpAuth::Plaintext("12345678".into()));
        assert!(c.is_address_owner(g));
    }

    #[test]
    fn interval_parsing() {
        assert_eq!(parse_interval("1", 2), Ok(100));
        assert_eq!(parse_interval("255", 2), Ok(25500));
        assert!(parse_interval("0", 2).is_err());
        assert!(parse_interval("1.0", 2).is_err());
        assert_eq!(parse_interval("0.01", 3), Ok(1));
        assert_eq!(parse_interval("0.1", 3), Ok(10));
        assert_eq!(parse_interval(".5", 3), Ok(50));
        assert_eq!(parse_interval("1", 3), Ok(100));
        assert_eq!(parse_interval("1.50", 3), Ok(150));
        assert_eq!(parse_interval("0.100", 3), Ok(10));
        assert_eq!(parse_interval("40.95", 3), Ok(4095));
        for badv in [
            "0", "0.00", "40.96", "41", "0.001", "0.015", "1.", ".", "", "-1", "1e2", "99999",
        ] {
            if badv == "1." {
                // "1." reads as 1 second; accepted like "1".
                assert_eq!(parse_interval(badv, 3), Ok(100));
                continue;
            }
            assert!(parse_interval(badv, 3).is_err(), "{badv}");
        }
    }

    #[test]
    fn value_parsers() {
        for t in ["1", "true", "yes", "on", "TRUE"] {
            assert_eq!(parse_bool(t), Ok(true), "{t}");
        }
        for f in ["0", "false", "no", "off"] {
            assert_eq!(parse_bool(f), Ok(false), "{f}");
        }
        assert!(parse_bool("2").is_err());
        assert_eq!(parse_uint("00042", 1, 255), Ok(42));
        assert!(parse_uint("+1", 1, 255).is_err());
        assert!(
            parse_uint("99999999999999999999999", 1, 255)
                .unwrap_err()
                .contains("out of range")
        );
        assert_eq!(
            parse_prefix("10.0.0.7", true).unwrap().to_string(),
            "10.0.0.7/32"
        );
        assert!(parse_prefix("10.0.0.7", false).is_err());
        assert_eq!(parse_prefix("0.0.0.0/0", false).unwrap().prefix_len, 0);
        assert!(parse_prefix("10.0.0.0/-1", false).is_err());
        assert!(parse_prefix("10.0.0.0/033", false).is_err());
        assert_eq!(parse_port_range("22"), Ok(PortRange { lo: 22, hi: 22 }));
        assert_eq!(
            parse_port_range("1000-2000"),
            Ok(PortRange { lo: 1000, hi: 2000 })
        );
        for p in ["0", "65536", "1-", "-1", "a", "1-2-3", ""] {
            assert!(parse_port_range(p).is_err(), "{p}");
        }
        assert_eq!(parse_protocol("6"), Ok(Some(Protocol::Tcp)));
        assert_eq!(parse_protocol("17"), Ok(Some(Protocol::Udp)));
        assert_eq!(parse_protocol("47"), Ok(Some(Protocol::Other(47))));
        assert_eq!(parse_protocol("all"), Ok(None));
        assert_eq!(
            parse_addr_range("10.0.0.1-10.0.0.4").map(|r| r.len()),
            Ok(4)
        );
        assert!(
            parse_host_cidr("192.168.1.255/24")
                .unwrap_err()
                .contains("broadcast")
        );
        assert!(parse_host_cidr("10.0.0.0/31").is_ok());
        assert!(parse_host_cidr("224.0.0.1/24").is_err());
        let s = parse_state(" new , invalid").unwrap();
        assert!(s.new && s.invalid && !s.established && !s.related);
        assert!(parse_state(",").is_err());
    }

    #[test]
    fn snat_to_non_vip_is_fine_without_sync() {
        let c = ok(
            "config nat_source\n\toption rule '1'\n\toption outbound_interface 'wan'\n\toption translation_address '10.0.0.2'\n\toption translation_port '1024-65535'\n\toption protocol 'udp'\n",
        );
        assert_eq!(
            c.nat_source[0].translation_address.lo,
            Ipv4Addr::new(10, 0, 0, 2)
        );
        assert_eq!(
            c.nat_source[0].translation_port,
            Some(PortRange {
                lo: 1024,
                hi: 65535
            })
        );
        assert_eq!(c.nat_source[0].protocol, Some(Protocol::Udp));
    }

    #[test]
    fn firewall_rule_full() {
        let c = ok(
            "config firewall_ruleset 'r'\n\toption default_action 'reject'\nconfig firewall_rule\n\toption ruleset 'r'\n\toption description 'ssh'\n\toption protocol 'tcp'\n\toption source '192.168.1.0/24'\n\toption destination '10.0.0.9'\n\toption source_port '1024-65535'\n\toption destination_port '22'\n\toption state 'new'\n\toption action 'drop'\nconfig firewall_attach\n\toption interface 'lan'\n\toption direction 'local'\n\toption ruleset 'r'\nconfig firewall_attach\n\toption interface 'lan'\n\toption direction 'out'\n\toption ruleset 'r'\n",
        );
        assert_eq!(
            c.firewall_rulesets[0].default_action,
            FirewallAction::Reject
        );
        let r = &c.firewall_rules[0];
        assert_eq!(r.description.as_deref(), Some("ssh"));
        assert_eq!(r.destination.unwrap().to_string(), "10.0.0.9/32");
        assert_eq!(
            r.source_port,
            Some(PortRange {
                lo: 1024,
                hi: 65535
            })
        );
        assert_eq!(r.action, FirewallAction::Drop);
        assert_eq!(c.firewall_attaches.len(), 2);
        assert_eq!(c.firewall_attaches[0].direction, Direction::Local);
    }

    #[test]
    fn conntrack_external_defaults_to_max_entries() {
        let c = ok("config conntrack\n\toption max_entries '1024'\n\toption icmp_timeout '5'\n");
        assert_eq!(
            (c.conntrack.max_entries, c.conntrack.external_max_entries),
            (1024, 1024)
        );
        assert_eq!(c.conntrack.timeouts.icmp, 5);
        assert_eq!(c.conntrack.timeouts.generic, 600);
        let c = ok("config conntrack\n\toption generic_timeout '45'\n");
        assert_eq!(c.conntrack.timeouts.generic, 45);
        let c = ok(
            "config conntrack\n\toption max_entries '1024'\n\toption external_max_entries '64'\n",
        );
        assert_eq!(c.conntrack.external_max_entries, 64);
    }

    #[test]
    fn sync_section_defaults_and_peer() {
        let c = ok(
            "config interface 's'\n\toption device 's0'\n\toption role 'sync'\n\toption address '10.9.0.1/30'\nconfig conntrack_sync\n\toption interface 's'\n\toption peer '10.9.0.2'\n\toption auth_key 'abcdefgh'\n\toption resync_timeout '5'\n",
        );
        let s = c.conntrack_sync.unwrap();
        assert_eq!(s.name, "sync");
        assert_eq!(s.sync_group, None);
        assert_eq!(s.mcast_group, Ipv4Addr::new(225, 0, 0, 50));
        assert_eq!(s.port, 3780);
        assert_eq!(s.peer, Some(Ipv4Addr::new(10, 9, 0, 2)));
        assert_eq!(s.auth_key.as_deref(), Some("abcdefgh"));
        assert_eq!(s.resync_timeout_secs, 5);
    }

    const SYNC_IFACE: &str = "config interface 's'\n\toption device 's0'\n\toption role 'sync'\n\toption address '10.9.0.1/30'\nconfig vrrp_group 'g'\n\toption interface 'lan'\n\toption vrid '7'\n\tlist virtual_address '192.168.1.50'\n\toption sync_group 'gw'\n";

    #[test]
    fn bfd_defaults_off() {
        let c = ok(&format!(
            "{SYNC_IFACE}config conntrack_sync\n\toption interface 's'\n"
        ));
        let s = c.conntrack_sync.unwrap();
        assert_eq!(s.bfd, BfdSettings::default());
        assert_eq!(
            (
                s.bfd.enabled,
                s.bfd.min_tx_ms,
                s.bfd.min_rx_ms,
                s.bfd.multiplier
            ),
            (false, 10, 10, 3)
        );
        assert!(!s.fast_takeover);
    }

    #[test]
    fn bfd_all_options() {
        let c = ok(&format!(
            "{SYNC_IFACE}config conntrack_sync\n\toption interface 's'\n\toption sync_group 'gw'\n\toption bfd 'on'\n\toption bfd_min_tx '10000'\n\toption bfd_min_rx '1'\n\toption bfd_multiplier '255'\n\toption fast_takeover '1'\n"
        ));
        let s = c.conntrack_sync.unwrap();
        assert_eq!(
            s.bfd,
            BfdSettings {
                enabled: true,
                min_tx_ms: 10_000,
                min_rx_ms: 1,
                multiplier: 255
            }
        );
        assert!(s.fast_takeover);
        // Timers without bfd on are kept (turning bfd on later uses them).
        let c = ok(&format!(
            "{SYNC_IFACE}config conntrack_sync\n\toption interface 's'\n\toption bfd_min_tx '50'\n"
        ));
        let s = c.conntrack_sync.unwrap();
        assert_eq!((s.bfd.enabled, s.bfd.min_tx_ms), (false, 50));
    }

    #[test]
    fn fast_takeover_needs_bfd_and_sync_group() {
        let base = format!("{SYNC_IFACE}config conntrack_sync\n\toption interface 's'\n");
        // The section starts on line 19; its options follow.
        assert_eq!(
            bad(&format!(
                "{base}\toption fast_takeover '1'\n\toption sync_group 'gw'\n"
            )),
            vec![
                "t.uci:21: option 'fast_takeover': needs option bfd '1' (the takeover is triggered by the BFD session to the master going down)"
            ]
        );
        assert_eq!(
            bad(&format!(
                "{base}\toption bfd '0'\n\toption fast_takeover 'yes'\n\toption sync_group 'gw'\n"
            ))
            .len(),
            1
        );
        assert_eq!(
            bad(&format!(
                "{base}\toption bfd '1'\n\toption fast_takeover '1'\n"
            )),
            vec![
                "t.uci:22: option 'fast_takeover': needs option sync_group (fast takeover is per sync group: it moves that group's VRRP groups)"
            ]
        );
        // A bad bfd value is one error, not two.
        let e = bad(&format!(
            "{base}\toption bfd 'maybe'\n\toption fast_takeover '1'\n\toption sync_group 'gw'\n"
        ));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("'maybe' is not a boolean"));
        // fast_takeover off needs nothing.
        ok(&format!("{base}\toption fast_takeover '0'\n"));
    }

    #[test]
    fn ah_message_is_exact() {
        let e = bad(
            "config vrrp_group 'g'\n\toption interface 'lan'\n\toption vrid '7'\n\tlist virtual_address '192.168.1.50'\n\toption auth_type 'ah'\n",
        );
        assert_eq!(
            e,
            vec![
                "t.uci:14: option 'auth_type': auth_type 'ah' is not supported by this version; use plaintext-password or none"
            ]
        );
    }

    #[test]
    fn same_vrid_on_different_interfaces_is_fine() {
        let c = ok(
            "config vrrp_group 'a'\n\toption interface 'lan'\n\toption vrid '7'\n\tlist virtual_address '192.168.1.50'\n\toption sync_group 'x'\nconfig vrrp_group 'b'\n\toption interface 'wan'\n\toption vrid '7'\n\tlist virtual_address '10.0.0.50'\n\toption sync_group 'x'\n",
        );
        assert_eq!(c.sync_group_members("x").len(), 2);
    }

    /// The operator's reference in board/examples/README.md names every
    /// section and option of the schema.
    #[test]
    fn readme_documents_every_option() {
        let readme = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/board/examples/README.md"
        ))
        .unwrap();
        for kind in SECTION_TYPES {
            assert!(
                readme.contains(&format!("`{kind}")),
                "section {kind} undocumented"
            );
            for (key, _) in schema(kind).unwrap() {
                let documented = readme.contains(&format!("`{key}`"))
                    || key
                        .strip_suffix("_timeout")
                        .is_some_and(|t| readme.contains(&format!("{t} [")));
                assert!(documented, "option {kind}.{key} undocumented");
            }
        }
    }

    #[test]
    fn hints() {
        assert_eq!(distance("prority", "priority"), 1);
        assert_eq!(
            did_you_mean("prority", ["priority", "preempt"].into_iter()),
            " (did you mean 'priority'?)"
        );
        assert_eq!(did_you_mean("zzzzzz", ["priority"].into_iter()), "");
        assert_eq!(
            did_you_mean("vrrp", SECTION_TYPES.iter().copied()),
            " (did you mean 'vrrp_group'?)"
        );
        // Ambiguous prefix: no guess.
        assert_eq!(did_you_mean("firewall", SECTION_TYPES.iter().copied()), "");
    }
}
