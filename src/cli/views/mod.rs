//! The dataplane and conntrack-sync views of `hagw show` (SPEC §5):
//! `conntrack [statistics]`, `nat rules`, `firewall`, `routes`,
//! `conntrack-sync status|statistics|internal-cache|external-cache`, `bfd`, each
//! as text and `--json`, and their families in `show metrics`.
//!
//! Owns: the dispatch of those requests and the helpers they share
//! (protocol names, endpoints, "no data" lines). Never: sockets, clocks,
//! state; the VRRP/interface views and the metrics text format stay in
//! `show`.

mod bfd;
mod conntrack;
mod firewall;
mod grid;
pub(crate) mod host;
mod metrics;
mod nat;
mod routes;
mod sync;

use super::json::Json;
use crate::engine::{DataplaneStatus, Snapshot};
use crate::time::Instant;
use std::net::Ipv4Addr;

pub(crate) use metrics::families as metric_families;

/// Printed instead of a table when the engine has not started yet.
pub const NO_DATAPLANE: &str =
    "The dataplane is not running yet (the daemon waits for its devices).\n";
/// Printed by the conntrack-sync views when there is no sync.
pub const NO_SYNC: &str = "Conntrack sync is not configured (or the engine has not started).\n";

/// Answer `words` (the request without `--json`) if it is one of these
/// views; `None` leaves it to the caller.
pub fn answer(
    words: &[&str],
    snap: &Snapshot,
    json: bool,
    now: Instant,
) -> Option<Result<String, String>> {
    let dp = snap.dataplane.as_ref();
    let sy = snap.sync.as_ref();
    let text = match words {
        ["conntrack"] => with_dp(dp, json, conntrack::sessions, conntrack::sessions_json),
        ["conntrack", "statistics"] => {
            with_dp(dp, json, conntrack::statistics, conntrack::statistics_json)
        }
        ["nat", "rules"] | ["nat"] => with_dp(dp, json, nat::rules, nat::rules_json),
        ["firewall"] => with_dp(dp, json, firewall::rulesets, firewall::rulesets_json),
        ["routes"] => with_dp(
            dp,
            json,
            |d| routes::routes(d, snap),
            |d| routes::routes_json(d, snap),
        ),
        ["bfd"] => match (&snap.bfd, json) {
            (None, false) => bfd::NO_BFD.to_string(),
            (None, true) => Json::object().field("bfd", Json::Null).to_pretty(),
            (Some(b), false) => bfd::text(b, now),
            (Some(b), true) => bfd::json(b, now).to_pretty(),
        },
        ["conntrack-sync", view] => {
            let Some(s) = sy else {
                return Some(Ok(if json {
                    Json::object().field("sync", Json::Null).to_pretty()
                } else {
                    NO_SYNC.to_string()
                }));
            };
            match *view {
                "status" => {
                    if json {
                        sync::status_json(s, now).to_pretty()
                    } else {
                        sync::status(s, now)
                    }
                }
                "statistics" => {
                    if json {
                        sync::statistics_json(s, dp).to_pretty()
                    } else {
                        sync::statistics(s, dp)
                    }
                }
                "internal-cache" => {
                    let list = sync::internal_entries(dp);
                    if json {
                        sync::cache_json(&list).to_pretty()
                    } else {
                        sync::cache(&list)
                    }
                }
                "external-cache" => {
                    let list = sync::external_entries(s);
                    if json {
                        sync::cache_json(&list).to_pretty()
                    } else {
                        sync::cache(&list)
                    }
                }
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(Ok(text))
}

/// Whether the request (the words after `show`, `--json` anywhere) needs
/// the session lists in its snapshot: `conntrack` and the sync caches.
pub fn needs_sessions(request: &str) -> bool {
    let words: Vec<&str> = request
        .split_whitespace()
        .filter(|w| *w != "--json")
        .collect();
    matches!(
        words.as_slice(),
        ["conntrack"] | ["conntrack-sync", "internal-cache" | "external-cache"]
    )
}

#[inline(never)]
fn with_dp(
    dp: Option<&DataplaneStatus>,
    json: bool,
    text: impl Fn(&DataplaneStatus) -> String,
    doc: impl Fn(&DataplaneStatus) -> Json,
) -> String {
    match (dp, json) {
        (Some(d), false) => text(d),
        (Some(d), true) => doc(d).to_pretty(),
        (None, false) => NO_DATAPLANE.to_string(),
        (None, true) => Json::object().field("dataplane", Json::Null).to_pretty(),
    }
}

/// `tcp`, `udp`, `icmp`, …, or `unknown`.
pub fn proto_name(p: u8) -> &'static str {
    match p {
        1 => "icmp",
        2 => "igmp",
        6 => "tcp",
        17 => "udp",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        132 => "sctp",
        136 => "udplite",
        _ => "unknown",
    }
}

/// Whether the protocol's tuples carry ports (ICMP's carry the echo id).
pub fn has_ports(p: u8) -> bool {
    matches!(p, 6 | 17 | 132 | 136)
}

/// `10.0.0.1:80` for protocols with ports, `10.0.0.1` otherwise.
pub fn endpoint(proto: u8, addr: Ipv4Addr, port: u16) -> String {
    if has_ports(proto) {
        format!("{addr}:{port}")
    } else {
        addr.to_string()
    }
}

/// `{"address": …, "port": …}` (no port for protocols without).
pub fn endpoint_json(proto: u8, addr: Ipv4Addr, port: u16) -> Json {
    let j = Json::object().field("address", addr.to_string());
    if has_ports(proto) {
        j.field("port", port)
    } else {
        j
    }
}

/// Session ids reach 2^63 (node id in the top bits): JSON readers that
/// hold numbers as doubles would round them, so they travel as strings.
pub fn id_json(id: u64) -> Json {
    Json::Str(id.to_string())
}

/// `(name, value)` pairs as a `Counter  Value` table.
pub fn counter_table(rows: &[(&str, u64)]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|(k, v)| vec![(*k).to_string(), v.to_string()])
        .collect();
    super::show::table(&["Counter", "Value"], &rows)
}

/// `(name, value)` pairs as a JSON object.
pub fn counters_json(rows: &[(&str, u64)]) -> Json {
    rows.iter().fold(Json::object(), |j, (k, v)| j.field(k, *v))
}

#[cfg(test)]
pub(crate) mod fixtures;
