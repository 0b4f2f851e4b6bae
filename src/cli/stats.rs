//! `show vrrp statistics` (per-group advert, transition and drop counters,
//! text and JSON) and the metric families that need more than a snapshot:
//! `hagw_build_info` and `hagw_vrrp_last_transition_timestamp_seconds`
//! (a wall-clock time, as Prometheus names times; the caller passes the
//! wall clock, 0 when unknown).
//!
//! Owns: those views. Never: sockets or clocks of its own.

use super::json::Json;
use super::show::{Family, format_duration, group_drops};
use crate::engine::Snapshot;
use core::fmt::Write;

/// The text of `show vrrp statistics`: one block per group.
pub fn vrrp_statistics(snap: &Snapshot) -> String {
    if snap.groups.is_empty() {
        return "No VRRP groups configured.\n".to_string();
    }
    let mut out = String::new();
    for g in &snap.groups {
        let c = &g.counters;
        let drops = group_drops(g);
        let total: u64 = drops.iter().map(|(_, n)| *n).fold(0, u64::saturating_add);
        let reasons: Vec<String> = drops
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "Group {} (interface {}, VRID {}): {}",
            g.name,
            g.interface,
            g.vrid,
            g.state.as_str()
        );
        let _ = writeln!(
            out,
            "  Adverts:          received {}, sent {}",
            c.adverts_rx, c.adverts_tx
        );
        let _ = writeln!(
            out,
            "  Priority zero:    received {}, sent {}",
            c.priority_zero_rx, c.priority_zero_tx
        );
        let _ = writeln!(out, "  Became master:    {}", c.became_master);
        let _ = writeln!(
            out,
            "  Last transition:  {}",
            g.last_transition
                .map(|d| format!("{} ago", format_duration(d)))
                .unwrap_or_else(|| "never".to_string())
        );
        let _ = writeln!(out, "  Split brain seen: {}", c.split_brain);
        if reasons.is_empty() {
            let _ = writeln!(out, "  Adverts dropped:  {total}");
        } else {
            let _ = writeln!(out, "  Adverts dropped:  {total} ({})", reasons.join(", "));
        }
    }
    out
}

pub fn vrrp_statistics_json(snap: &Snapshot) -> Json {
    let groups: Vec<Json> = snap
        .groups
        .iter()
        .map(|g| {
            let c = &g.counters;
            let mut drops = Json::object();
            for (reason, n) in group_drops(g) {
                drops = drops.field(reason, n);
            }
            let last = match g.last_transition {
                Some(d) => Json::from(d.as_secs()),
                None => Json::Null,
            };
            Json::object()
                .field("name", g.name.as_str())
                .field("interface", g.interface.as_str())
                .field("vrid", g.vrid)
                .field("state", g.state.as_str())
                .field("adverts_received", c.adverts_rx)
                .field("adverts_sent", c.adverts_tx)
                .field("priority_zero_received", c.priority_zero_rx)
                .field("priority_zero_sent", c.priority_zero_tx)
                .field("became_master", c.became_master)
                .field("split_brain", c.split_brain)
                .field("last_transition_seconds", last)
                .field("adverts_dropped", drops)
        })
        .collect();
    Json::object().field("groups", groups)
}

/// `hagw_build_info` (always) and, with a wall clock (`wall_secs` > 0),
/// the time of each group's last state change.
pub(crate) fn extra_families(snap: &Snapshot, wall_secs: u64) -> Vec<Family> {
    let mut out = vec![Family {
        name: "hagw_build_info",
        kind: "gauge",
        help: "Always 1; the labels say which hagw this is.",
        samples: vec![(
            vec![
                ("version", env!("CARGO_PKG_VERSION").to_string()),
                ("target", env!("HAGW_TARGET").to_string()),
            ],
            1,
        )],
    }];
    if wall_secs > 0 {
        out.push(Family {
            name: "hagw_vrrp_last_transition_timestamp_seconds",
            kind: "gauge",
            help: "Unix time of the group's last state change (absent if none yet).",
            samples: snap
                .groups
                .iter()
                .filter_map(|g| {
                    let age = g.last_transition?.as_secs();
                    Some((
                        vec![
                            ("group", g.name.clone()),
                            ("interface", g.interface.clone()),
                            ("vrid", g.vrid.to_string()),
                        ],
                        wall_secs.saturating_sub(age),
                    ))
                })
                .collect(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::json::check::parse;
    use super::*;
    use crate::cli::show::answer;
    use crate::cli::show::tests::{snap, spec_summary_group};
    use crate::time::{Duration, Instant};
    use crate::vrrp::{GroupCounters, GroupStatus, VrrpState};

    fn group(name: &str, state: VrrpState, last: Option<u64>) -> GroupStatus {
        let mut g = spec_summary_group();
        g.name = name.into();
        g.state = state;
        g.last_transition = last.map(Duration::from_secs);
        g.counters = GroupCounters {
            adverts_rx: 10,
            adverts_tx: 20,
            became_master: 2,
            priority_zero_rx: 1,
            priority_zero_tx: 3,
            rx_ttl_error: 4,
            rx_auth_error: 5,
            ..GroupCounters::default()
        };
        g
    }

    #[test]
    fn statistics_text_and_json() {
        let snap = snap(
            vec![
                group("lan_gw", VrrpState::Master, Some(184)),
                group("idle", VrrpState::Init, None),
            ],
            vec![],
        );
        let now = Instant::from_secs(1000);
        let text = answer("vrrp statistics", &snap, now).unwrap();
        assert_eq!(
            text.lines().take(8).collect::<Vec<_>>(),
            [
                "Group lan_gw (interface lan, VRID 42): master",
                "  Adverts:          received 10, sent 20",
                "  Priority zero:    received 1, sent 3",
                "  Became master:    2",
                "  Last transition:  3m04s ago",
                "  Split brain seen: 0",
                "  Adverts dropped:  9 (ttl 4, auth 5)",
                "Group idle (interface lan, VRID 42): init",
            ]
        );
        assert!(text.contains("  Last transition:  never\n"));
        let v = parse(&answer("vrrp statistics --json", &snap, now).unwrap()).unwrap();
        let Some(Json::Array(gs)) = v.get("groups") else {
            panic!("{v:?}")
        };
        assert_eq!(gs[0].get("adverts_sent"), Some(&Json::UInt(20)));
        assert_eq!(gs[0].get("last_transition_seconds"), Some(&Json::UInt(184)));
        assert_eq!(gs[1].get("last_transition_seconds"), Some(&Json::Null));
        let Some(d) = gs[0].get("adverts_dropped") else {
            panic!()
        };
        assert_eq!(d.get("auth"), Some(&Json::UInt(5)));
    }
}
