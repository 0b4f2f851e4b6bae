//! `show routes`: the routing table with each next hop's ARP state, the
//! neighbour (ARP) cache, the resolver's counters and the router's ICMP
//! error counters, as text and JSON.
//!
//! Owns: that layout and the list of neighbour counters (shared with the
//! metrics). Never: reads anything but the snapshot.

use super::super::json::Json;
use super::grid::{Cell, Layout};
use crate::engine::{DataplaneStatus, Snapshot};
use crate::route::{NeighCounters, NeighStatus, RouteStatus};
use core::fmt::Write;

/// The interface name of a port (its position in the snapshot's ports).
fn port_name(snap: &Snapshot, port: usize) -> String {
    snap.ports
        .get(port)
        .map_or_else(|| format!("port{port}"), |p| p.name.clone())
}

/// The cache entry for a route's next hop, if any.
fn next_hop<'a>(dp: &'a DataplaneStatus, r: &RouteStatus) -> Option<&'a NeighStatus> {
    let gw = r.gateway?;
    dp.neighbours
        .iter()
        .find(|n| n.ip == gw && n.port == r.port)
}

/// A route's next-hop ARP state: `direct` for connected routes, the cache
/// state, or `unresolved` when the gateway has no entry yet.
fn hop_state(dp: &DataplaneStatus, r: &RouteStatus) -> &'static str {
    match (r.gateway, next_hop(dp, r)) {
        (None, _) => "direct",
        (Some(_), Some(n)) => n.state.as_str(),
        (Some(_), None) => "unresolved",
    }
}

pub fn counters(c: &NeighCounters) -> [(&'static str, u64); 18] {
    [
        ("requests_sent", c.requests_sent),
        ("request_queue_full", c.request_queue_full),
        ("replies_learned", c.replies_learned),
        ("requests_learned", c.requests_learned),
        ("other_updates", c.other_updates),
        ("unsolicited_ignored", c.unsolicited_ignored),
        ("bad_sender", c.bad_sender),
        ("mac_changes", c.mac_changes),
        ("mac_change_ignored", c.mac_change_ignored),
        ("resolution_failures", c.resolution_failures),
        ("probe_failures", c.probe_failures),
        ("queued", c.queued),
        ("released", c.released),
        ("queue_overflow", c.queue_overflow),
        ("pool_exhausted", c.pool_exhausted),
        ("queue_dropped", c.queue_dropped),
        ("evictions", c.evictions),
        ("expired", c.expired),
    ]
}

/// A route's text columns and JSON fields (cells: see `route_cell`).
const ROUTES: Layout = Layout {
    columns: &[
        ("Destination", 0),
        ("Gateway", 1),
        ("Interface", 2),
        ("Type", 3),
        ("Next hop ARP", 4),
        ("Next hop MAC", 5),
    ],
    fields: &[
        ("destination", 0),
        ("gateway", 1),
        ("interface", 2),
        ("type", 3),
        ("next_hop_state", 4),
        ("next_hop_mac", 5),
    ],
};

fn route_cell<'a>(dp: &'a DataplaneStatus, r: &'a RouteStatus, i: u8) -> Cell<'a> {
    match i {
        0 => Cell::Own(r.prefix.to_string()),
        1 => Cell::Dash(r.gateway.map(|g| g.to_string())),
        2 => Cell::Str(&r.interface),
        3 => Cell::Str(r.kind.as_str()),
        4 => Cell::Str(hop_state(dp, r)),
        _ => Cell::Dash(next_hop(dp, r).and_then(|n| n.mac).map(|m| m.to_string())),
    }
}

/// A neighbour's text columns and JSON fields (cells: see `neigh_cell`).
const NEIGHBOURS: Layout = Layout {
    columns: &[
        ("Address", 0),
        ("Interface", 1),
        ("MAC", 2),
        ("State", 3),
        ("Age", 4),
        ("Queued", 5),
    ],
    fields: &[
        ("address", 0),
        ("interface", 1),
        ("mac", 2),
        ("state", 3),
        ("age_seconds", 4),
        ("queued", 5),
    ],
};

fn neigh_cell<'a>(snap: &Snapshot, n: &'a NeighStatus, i: u8) -> Cell<'a> {
    match i {
        0 => Cell::Own(n.ip.to_string()),
        1 => Cell::Own(port_name(snap, n.port)),
        2 => Cell::Dash(n.mac.map(|m| m.to_string())),
        3 => Cell::Str(n.state.as_str()),
        4 => Cell::Secs(n.age),
        _ => Cell::Num(n.queued as u64),
    }
}

pub fn routes(dp: &DataplaneStatus, snap: &Snapshot) -> String {
    let mut out = String::new();
    if dp.routes.is_empty() {
        out.push_str("No routes.\n");
    } else {
        out.push_str(&ROUTES.text(dp.routes.len(), &|r, i| route_cell(dp, &dp.routes[r], i)));
    }
    out.push('\n');
    if dp.neighbours.is_empty() {
        out.push_str("Neighbours: none\n");
    } else {
        out.push_str("Neighbours:\n");
        out.push_str(&NEIGHBOURS.text(dp.neighbours.len(), &|r, i| {
            neigh_cell(snap, &dp.neighbours[r], i)
        }));
    }
    out.push('\n');
    let c = counters(&dp.neigh_counters);
    let shown: Vec<String> = c
        .iter()
        .filter(|(_, v)| *v > 0)
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let _ = writeln!(
        out,
        "ARP: {}",
        if shown.is_empty() {
            "no events".to_string()
        } else {
            shown.join(", ")
        }
    );
    let _ = writeln!(
        out,
        "ICMP errors sent: {}, held back by the rate limit: {}",
        dp.icmp_sent, dp.icmp_limited
    );
    out
}

pub fn routes_json(dp: &DataplaneStatus, snap: &Snapshot) -> Json {
    let routes = ROUTES.records(dp.routes.len(), &|r, i| route_cell(dp, &dp.routes[r], i));
    let neigh = NEIGHBOURS.records(dp.neighbours.len(), &|r, i| {
        neigh_cell(snap, &dp.neighbours[r], i)
    });
    let c = counters(&dp.neigh_counters);
    Json::object()
        .field("routes", routes)
        .field("neighbours", neigh)
        .field("arp_counters", super::counters_json(&c))
        .field(
            "icmp",
            Json::object()
                .field("errors_sent", dp.icmp_sent)
                .field("rate_limited", dp.icmp_limited),
        )
}

#[cfg(test)]
mod tests {
    use super::super::super::json::{Json, check::parse};
    use super::super::fixtures::{NOW, snapshot};
    use crate::cli::show::answer;

    #[test]
    fn routes_with_next_hop_arp_state_neighbours_and_counters() {
        let s = snapshot();
        let expected = "\
Destination      Gateway       Interface  Type       Next hop ARP  Next hop MAC
---------------  ------------  ---------  ---------  ------------  -----------------
192.168.10.0/24  -             lan        connected  direct        -
203.0.113.0/24   -             wan        connected  direct        -
0.0.0.0/0        203.0.113.1   wan        static     reachable     02:00:00:00:01:01
10.9.0.0/16      192.168.10.9  lan        static     unresolved    -

Neighbours:
Address        Interface  MAC                State       Age  Queued
-------------  ---------  -----------------  ----------  ---  ------
203.0.113.1    wan        02:00:00:00:01:01  reachable   12s  0
192.168.10.77  lan        -                  incomplete  1s   2

ARP: requests_sent 5, replies_learned 4, queued 2
ICMP errors sent: 6, held back by the rate limit: 1
";
        assert_eq!(answer("routes", &s, NOW).unwrap(), expected);
        let v = parse(&answer("routes --json", &s, NOW).unwrap()).unwrap();
        let Some(Json::Array(r)) = v.get("routes") else {
            panic!("{v:?}")
        };
        assert_eq!(r[2].get("next_hop_state"), Some(&"reachable".into()));
        assert_eq!(r[3].get("next_hop_mac"), Some(&Json::Null));
        assert_eq!(
            v.get("arp_counters").unwrap().get("requests_sent"),
            Some(&Json::UInt(5))
        );
        assert_eq!(
            v.get("icmp").unwrap().get("rate_limited"),
            Some(&Json::UInt(1))
        );
    }
}
