//! Option values: the parsers for numbers, durations, booleans, choices,
//! addresses, prefixes, ports, ranges, protocols, firewall actions and
//! states, and the advert interval; plus "did you mean" hints.
//!
//! Owns: turning one option's text into a typed value or a message saying
//! what is wrong and what is right. Never: looks at other options or
//! sections (the cross-checks live with the sections).

use crate::config::model::*;
use std::net::Ipv4Addr;

/// Levenshtein distance, for "did you mean" hints (inputs are short names).
pub(super) fn distance(a: &str, b: &str) -> usize {
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

pub(super) fn did_you_mean<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a str> + Clone,
) -> String {
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

// Value parsers. Each returns the value or the message tail that follows
// `option 'KEY': `.

pub(super) fn parse_uint(v: &str, lo: u64, hi: u64) -> Result<u64, String> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'{v}' is not a whole number (expected {lo}-{hi})"));
    }
    match v.parse::<u64>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n),
        _ => Err(format!("'{v}' is out of range {lo}-{hi}")),
    }
}

/// A duration in whole seconds.
pub(super) fn parse_secs(v: &str, lo: u64, hi: u64) -> Result<u32, String> {
    parse_whole(v, lo, hi, "seconds")
}

/// A duration in whole milliseconds.
pub(super) fn parse_millis(v: &str, lo: u64, hi: u64) -> Result<u32, String> {
    parse_whole(v, lo, hi, "milliseconds")
}

/// A whole number of `unit` in `lo..=hi`.
pub(super) fn parse_whole(v: &str, lo: u64, hi: u64, unit: &str) -> Result<u32, String> {
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

pub(super) fn parse_bool(v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "enabled" => Ok(true),
        "0" | "false" | "no" | "off" | "disabled" => Ok(false),
        _ => Err(format!(
            "'{v}' is not a boolean (use 1/0, true/false, yes/no or on/off)"
        )),
    }
}

pub(super) fn parse_choice<'a>(v: &str, choices: &[&'a str]) -> Result<&'a str, String> {
    choices
        .iter()
        .find(|c| **c == v)
        .copied()
        .ok_or_else(|| format!("'{v}' is not one of {}", choices.join(", ")))
}

pub(super) fn parse_addr(v: &str) -> Result<Ipv4Addr, String> {
    v.parse::<Ipv4Addr>()
        .map_err(|_| format!("'{v}' is not an IPv4 address (expected A.B.C.D, e.g. 192.168.1.1)"))
}

pub(super) fn is_unicast(a: Ipv4Addr) -> bool {
    !(a.is_unspecified() || a.is_multicast() || a.is_broadcast() || a.is_loopback())
}

pub(super) fn parse_unicast(v: &str) -> Result<Ipv4Addr, String> {
    let a = parse_addr(v)?;
    if !is_unicast(a) {
        return Err(format!(
            "'{v}' is not a unicast address (0.0.0.0, 127/8, multicast and broadcast are not allowed here)"
        ));
    }
    Ok(a)
}

pub(super) fn parse_len(v: &str, len: &str, min: u8) -> Result<u8, String> {
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
pub(super) fn parse_host_cidr(v: &str) -> Result<Ipv4Cidr, String> {
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
pub(super) fn parse_prefix(v: &str, bare_ok: bool) -> Result<Ipv4Cidr, String> {
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

pub(super) fn parse_port(v: &str) -> Result<u16, String> {
    parse_uint(v, 1, 65535)
        .map(|n| n as u16)
        .map_err(|_| format!("'{v}' is not a port (expected 1-65535)"))
}

/// `LO-HI`, or one value meaning `V-V`, each end read by `parse`: (lo, hi).
/// An unreadable end gives the message `bad`; `what` names the ends in
/// the message for an empty range.
pub(super) fn parse_range<T: PartialOrd + std::fmt::Display>(
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

pub(super) fn parse_port_range(v: &str) -> Result<PortRange, String> {
    let bad = || {
        format!(
            "'{v}' is not a port or port range (expected e.g. '22' or '1024-65535', ports 1-65535)"
        )
    };
    let (lo, hi) = parse_range(v, "port", bad, parse_port)?;
    Ok(PortRange { lo, hi })
}

pub(super) fn parse_addr_range(v: &str) -> Result<AddrRange, String> {
    let bad = || {
        format!("'{v}' is not an address or address range (expected A.B.C.D or A.B.C.D-A.B.C.D)")
    };
    let (lo, hi) = parse_range(v, "address", bad, parse_unicast)?;
    Ok(AddrRange { lo, hi })
}

pub(super) fn parse_protocol(v: &str) -> Result<Option<Protocol>, String> {
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

pub(super) fn parse_action(v: &str) -> Result<FirewallAction, String> {
    Ok(match parse_choice(v, &["accept", "drop", "reject"])? {
        "accept" => FirewallAction::Accept,
        "drop" => FirewallAction::Drop,
        _ => FirewallAction::Reject,
    })
}

pub(super) fn parse_state(v: &str) -> Result<StateSet, String> {
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
pub(super) fn parse_interval(v: &str, version: u8) -> Result<u16, String> {
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
